/*
 * fuzz_osv.c - libFuzzer target for the vulnerability-feed importer fed with
 * OSV records: a JSON record, a JSON list, a YAML record (PyPA) or an
 * osv.dev all.zip: any input must import or fail cleanly with a
 * message, never crash or read out of bounds.  The importer detects the
 * format by content, so the seeds in corpus/fuzz_osv steer it.
 *
 * One database build (a temp SQLite file) is reused for many inputs and
 * discarded every few hundred, so that the fuzzer measures the parsers and
 * not file creation.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "vuln/vuln_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *dir, *dbpath;
static mm_vulndb_build *build;
static unsigned uses;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir) {
        if (mm_tmpdir_create(&dir, NULL))
            abort();
        dbpath = mm_xasprintf("%s/vuln.db", dir);
    }
    if (build && ++uses % 256 == 0) {
        mm_vulndb_build_abort(build);
        build = NULL;
    }
    if (!build && mm_vulndb_build_begin(&build, dbpath, NULL, NULL))
        abort();
    mm_vulndb_feed_result res = {0};
    int rc = mm_vulndb_build_import_mem(build, data, size, "fuzz-input", "fuzz", &res);
    if (rc == 0 && !res.kind)
        abort();
    if (rc != 0 && (rc > 0 || !*mm_error_last()))
        abort();
    return 0;
}
