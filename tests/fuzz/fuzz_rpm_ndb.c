/*
 * fuzz_rpm_ndb.c - libFuzzer target for the rpm database containers we
 * read ourselves: NDB "Packages.db" (input starting with "RpmP") and,
 * for any other input, the Berkeley DB hash walker, each feeding the
 * header decoder like a real scan does.  (The SQLite container is SQLite's
 * own, fuzzed upstream.)
 */
#include <stdlib.h>
#include <string.h>

#include "pkg/rpmdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_blob(void *ud, uint32_t recno, const uint8_t *blob, size_t len)
{
    size_t *count = ud;
    mm_package p;
    int rc = mm_rpm_header_parse(&p, blob, len, "fuzz", recno);
    if (rc == 0) {
        (*count)++;
        mm_rpm_package_clear(&p);
    }
    return rc == 1 ? 0 : rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t count = 0;
    int rc;
    if (size >= 4 && memcmp(data, "RpmP", 4) == 0)
        rc = mm_rpmdb_ndb_walk(data, size, "fuzz/Packages.db", on_blob,
                               &count);
    else
        rc = mm_rpmdb_bdb_walk(data, size, "fuzz/Packages", on_blob, &count);
    if (rc != 0 && rc != MM_EFORMAT && rc != MM_EUNSUPPORTED &&
        rc != MM_ELIMIT)
        abort();
    return 0;
}
