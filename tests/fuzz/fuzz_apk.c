/*
 * fuzz_apk.c - libFuzzer target for the apk installed-database parser.
 * Any input must parse or fail cleanly; what parses must be complete.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pkg/osdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_osdb_list l = {0};
    int rc = mm_apk_parse_installed(&l, (const char *)data, size,
                                    "/lib/apk/db/installed");
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const mm_package *p = &l.v[i].pkg;
        if (!p->name || !p->version || !*p->version)
            abort();
        for (size_t k = 0; k < p->nfiles; k++)
            if (p->files[k][0] != '/')
                abort();
    }
    mm_osdb_list_free(&l);
    return 0;
}
