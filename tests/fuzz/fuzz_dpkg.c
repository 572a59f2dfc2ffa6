/*
 * fuzz_dpkg.c - libFuzzer target for the dpkg parsers: the status file (as
 * var/lib/dpkg/status and as a distroless status.d file) and the owned-file
 * lists (.list and .md5sums) and the copyright licence reader.  Any input
 * must parse or fail cleanly.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pkg/osdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    for (int mode = 0; mode < 2; mode++) {
        mm_osdb_list l = {0};
        int rc = mm_dpkg_parse_status(&l, d, size, "/var/lib/dpkg/status",
                                      mode == 0);
        /* On success every record must be complete. */
        for (size_t i = 0; rc == 0 && i < l.n; i++)
            if (!l.v[i].pkg.name || !l.v[i].pkg.version)
                abort();
        mm_osdb_list_free(&l);

        char **files = NULL;
        size_t n = 0;
        mm_dpkg_parse_files(&files, &n, d, size, mode == 1);
        for (size_t i = 0; i < n; i++)
            if (files[i][0] != '/')
                abort();
        mm_strv_free(files, n);
    }
    free(mm_dpkg_copyright_license(d, size));
    return 0;
}
