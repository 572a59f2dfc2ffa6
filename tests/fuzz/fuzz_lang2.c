/*
 * fuzz_lang2.c - libFuzzer target for the Ruby, Rust and PHP parsers of
 * lib/pkg/lang2.h.  The first byte picks the parser (gemspec, Cargo.lock,
 * cargo-auditable JSON, zlib .dep-v0, ELF section finder whole and in
 * chunks, Composer installed.json); the rest is the input.  Any input must
 * parse or fail cleanly, and parsed packages must have a name and version.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/lang2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(mm_lang_result *r)
{
    for (size_t i = 0; i < r->npkgs; i++)
        if (!r->pkgs[i].name || !*r->pkgs[i].name || !r->pkgs[i].version ||
            !*r->pkgs[i].version)
            abort();
    mm_lang_result_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0] % 6;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    mm_lang_result r;
    memset(&r, 0, sizeof r);
    int rc = 0;
    switch (sel) {
    case 0: {
        mm_package p;
        rc = mm_gem_parse_gemspec(&p, (const char *)d, n, "x.gemspec");
        if (rc == 0) {
            if (!p.name || !*p.name || !p.version || !*p.version)
                abort();
            mm_lang_pkg_clear(&p);
        }
        break;
    }
    case 1:
        rc = mm_cargo_parse_lock(&r, (const char *)d, n, "Cargo.lock");
        break;
    case 2:
        rc = mm_cargo_parse_audit_json(&r, (const char *)d, n, "bin");
        break;
    case 3:
        rc = mm_cargo_parse_dep_v0(&r, d, n, "bin");
        break;
    case 4: {
        (void)mm_cargobin_parse_buffer(&r, d, n, "bin");
        check(&r);
        /* the same bytes streamed in uneven chunks must agree */
        mm_cargobin *c = mm_cargobin_new(n);
        mm_cargobin_status st = MM_CARGOBIN_MORE;
        size_t step = 1 + (n % 97);
        for (size_t off = 0; off < n && st == MM_CARGOBIN_MORE; off += step)
            st = mm_cargobin_feed(c, off, d + off,
                                  n - off < step ? n - off : step);
        if (st == MM_CARGOBIN_MORE)
            st = mm_cargobin_finish(c);
        mm_cargobin *w = mm_cargobin_new(n);
        mm_cargobin_status sw = mm_cargobin_feed(w, 0, d, n);
        if (sw == MM_CARGOBIN_MORE)
            sw = mm_cargobin_finish(w);
        if (st != sw)
            abort();
        mm_cargobin_free(c);
        mm_cargobin_free(w);
        break;
    }
    case 5:
        rc = mm_composer_parse_installed(&r, (const char *)d, n,
                                         "installed.json");
        break;
    }
    if (rc > 0)
        abort();
    check(&r);
    return 0;
}
