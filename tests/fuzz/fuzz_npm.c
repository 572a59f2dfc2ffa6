/*
 * fuzz_npm.c - libFuzzer target for the npm package.json reader and the
 * node_modules path predicate.  Any input must parse, be skipped (no name
 * or version) or fail cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_package p;
    int rc = mm_npm_parse_package_json(&p, (const char *)data, size,
                                       "/app/node_modules/x/package.json");
    if (rc == 0) {
        if (!p.name || !*p.name || !p.version || !*p.version)
            abort();
        mm_lang_pkg_clear(&p);
    } else if (rc != 1 && rc >= 0) {
        abort();
    }
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    (void)mm_npm_is_package_path(s);
    free(s);
    return 0;
}
