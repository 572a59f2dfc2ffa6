/*
 * fuzz_java.c - libFuzzer target for the Java archive reader (zip through
 * libarchive, pom.properties, MANIFEST.MF, nested archives).  Any input
 * must give packages, warnings or a clean error.
 */
#include <stdint.h>
#include <stdlib.h>

#include "pkg/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_lang_result r = {0};
    mm_java_parse_archive(&r, data, size, "/fuzz/app-1.0.war");
    for (size_t i = 0; i < r.npkgs; i++)
        if (!r.pkgs[i].name || !r.pkgs[i].version || !r.pkgs[i].purl ||
            !r.pkgs[i].path)
            abort();
    mm_lang_result_free(&r);
    return 0;
}
