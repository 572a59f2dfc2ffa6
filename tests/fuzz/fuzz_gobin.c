/*
 * fuzz_gobin.c - libFuzzer target for the Go build-info scanner: the input
 * is a file fed in chunks whose size comes from its first byte (so that the
 * magic, header, varints and sentinels straddle chunk boundaries), then its
 * module info is turned into packages; the input is also parsed directly as
 * module-info text.  Any input must end in a final status without a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/lang.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const mm_lang_result *r)
{
    for (size_t i = 0; i < r->npkgs; i++)
        if (!r->pkgs[i].name || !r->pkgs[i].version ||
            r->pkgs[i].type != MM_PKG_GOMOD)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t cs = (size_t)data[0] * 3 + 1;
    const uint8_t *d = data + 1;
    size_t n = size - 1;

    mm_gobin *g = mm_gobin_new();
    mm_gobin_status st = MM_GOBIN_MORE;
    for (size_t off = 0; off < n && st == MM_GOBIN_MORE; off += cs)
        st = mm_gobin_feed(g, off, d + off, n - off < cs ? n - off : cs);
    st = mm_gobin_finish(g);
    if (st == MM_GOBIN_MORE)
        abort();
    mm_lang_result r = {0};
    if (st == MM_GOBIN_FOUND) {
        size_t ml;
        const char *mi = mm_gobin_modinfo(g, &ml);
        if (!mm_gobin_goversion(g) || !mi || strlen(mi) > ml)
            abort();
        mm_gobin_packages(&r, mm_gobin_goversion(g), mi, ml);
        check(&r);
        mm_lang_result_free(&r);
    }
    mm_gobin_free(g);

    /* the bytes as module info, and as a version string */
    char *s = malloc(n + 1);
    memcpy(s, d, n);
    s[n] = 0;
    mm_gobin_packages(&r, s, (const char *)d, n);
    check(&r);
    mm_lang_result_free(&r);
    free(mm_go_stdlib_version(s));
    free(s);
    return 0;
}
