/*
 * fuzz_rpm_header.c - libFuzzer target for the rpm header blob decoder
 * (mm_rpm_header_parse): the input is one header as a database stores it
 * ("il dl index data").  Every result must be 0 with a sane package, 1
 * (gpg-pubkey) or MM_EFORMAT; ASan/UBSan catch the rest.
 */
#include <stdlib.h>
#include <string.h>

#include "pkg/rpmdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_package p;
    int rc = mm_rpm_header_parse(&p, data, size, "fuzz", 1);
    if (rc == 0) {
        if (!p.name || !p.version || p.type != MM_PKG_RPM)
            abort();
        for (size_t i = 0; i < p.nfiles; i++)
            if (!p.files[i] || p.files[i][0] != '/')
                abort();
        mm_rpm_package_clear(&p);
    } else if (rc != 1 && rc != MM_EFORMAT) {
        abort();
    }
    return 0;
}
