/*
 * fuzz_spreport.c - libFuzzer target for the SP 800-190 report's reader of
 * mamori JSON reports (lib/report/sp_read.c) and its writers: the input is
 * one report, added with mm_spreport_add_json, then the report is written
 * as HTML and JSON.  Hostile documents must end in a report or a clean
 * MM_EFORMAT / MM_ELIMIT, never a crash, a leak or an out-of-bounds read;
 * and whatever the strings hold, the HTML must hold no live "<script" or
 * "<img" (the oracle of the escaping).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/sp800190.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_spreport_limits lim = {.max_document = 1 << 20, .max_findings = 4096,
                              .max_string = 4096};
    mm_spreport *r;
    if (mm_spreport_new(&r, &lim) < 0)
        abort();
    if (mm_spreport_add_json(r, "fuzz.json", (const char *)data, size) == 0) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
            abort();
        mm_spreport_opts o = {.now = 1};
        mm_spreport_write(f, r, MM_SPFORMAT_HTML, &o);
        fclose(f);
        if (buf && (strstr(buf, "<script") || strstr(buf, "<img")))
            abort();
        free(buf);
        buf = NULL;
        f = open_memstream(&buf, &len);
        if (!f)
            abort();
        mm_spreport_write(f, r, MM_SPFORMAT_JSON, &o);
        fclose(f);
        free(buf);
    }
    mm_spreport_free(r);
    return 0;
}
