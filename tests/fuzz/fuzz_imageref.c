/*
 * fuzz_imageref.c - the image reference parser (registry host, repository
 * components, tag, digest) and its formatter: whatever parses must format
 * to a string that parses again to the same parts.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/registry.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = mm_xstrndup((const char *)data, size);
    mm_imageref *r;
    if (mm_imageref_parse(&r, s) == 0) {
        char *f = mm_imageref_format(r);
        mm_imageref *r2;
        if (mm_imageref_parse(&r2, f) != 0)
            abort();
        if (strcmp(r->registry, r2->registry) || strcmp(r->repository, r2->repository) ||
            strcmp(r->api_host, r2->api_host) ||
            (r->digest && (!r2->digest || strcmp(r->digest, r2->digest))))
            abort();
        mm_imageref_free(r2);
        free(f);
        mm_imageref_free(r);
    }
    mm_error_clear();
    free(s);
    return 0;
}
