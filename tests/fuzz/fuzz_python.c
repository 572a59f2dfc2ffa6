/*
 * fuzz_python.c - libFuzzer target for the Python metadata parsers:
 * METADATA / PKG-INFO headers, RECORD CSV and the path classifier.  Any
 * input must parse or fail cleanly; RECORD paths must stay absolute.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/lang.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    mm_package p;
    if (mm_python_parse_metadata(&p, d, size, "/fuzz/METADATA") == 0) {
        if (!p.name || !*p.name || !p.version || !*p.version)
            abort();
        mm_lang_pkg_clear(&p);
    }
    char **files = NULL;
    size_t n = 0;
    mm_python_parse_record(&files, &n, d, size, "/usr/lib/python3/site-packages");
    for (size_t i = 0; i < n; i++)
        if (files[i][0] != '/' || strstr(files[i], "/../"))
            abort();
    mm_strv_free(files, n);

    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    (void)mm_python_path_kind(s, true);
    (void)mm_python_path_kind(s, false);
    free(s);
    return 0;
}
