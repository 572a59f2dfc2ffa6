/*
 * fuzz_secret_rules.c - the secret scanner's two untrusted inputs.  The
 * first byte picks one: even, the rest is a user rule file (YAML) loaded
 * over nothing, compiled and run on a small text; odd, the rest is file
 * content scanned with the built-in rules in chunks whose sizes the input
 * also chooses (streaming, carry-over, line counting, binary detection).
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "secret/secret_int.h"
#include "util/util.h"

static int sink(void *ud, const mm_sr_match *m)
{
    size_t *n = ud;
    char *mask = mm_secret_mask(m->secret, m->secret_len);
    free(mask);
    return ++*n > 1000;
}

static const char SAMPLE[] =
    "password = \"Zq3Lm9Xw2Rt7Yp4K\"\nGITHUB=ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7\n"
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpQIBAAKCAQEA3Tz2mVxJq0u8cYbWkR7nLpS4hF1eG9oD6aZ5iUyX2wQvN8tBs\n"
    "-----END RSA PRIVATE KEY-----\nsecret: abcabcabcabc\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static mm_sr_set *builtin;
    if (!builtin) {
        builtin = mm_sr_set_new();
        if (mm_sr_set_load_builtin(builtin) < 0 || mm_sr_set_compile(builtin) < 0)
            abort();
    }
    if (size < 1)
        return 0;
    size_t n = 0;
    if (!(data[0] & 1)) {
        mm_sr_set *s = mm_sr_set_new();
        if (mm_sr_set_load(s, "fuzz.yaml", (const char *)data + 1, size - 1, false,
                           NULL, NULL) == 0 && mm_sr_set_compile(s) == 0) {
            mm_sr_scanner *sc = NULL;
            if (mm_sr_scanner_new(&sc, s) == 0) {
                mm_sr_scan_buffer(sc, "srv/x", SAMPLE, sizeof SAMPLE - 1, false, sink, &n);
                free(mm_sr_redact(sc, SAMPLE));
            }
            mm_sr_scanner_free(sc);
        }
        mm_sr_set_free(s);
        return 0;
    }
    mm_sr_scanner *sc = NULL;
    if (mm_sr_scanner_new(&sc, builtin) < 0)
        return 0;
    size_t step = size > 1 ? (size_t)data[size - 1] + 1 : 1;
    mm_sr_scanner_begin(sc, "srv/x", (data[0] & 2) != 0, sink, &n);
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    while (left) {
        size_t k = left < step ? left : step;
        if (mm_sr_scanner_feed(sc, p, k) != 0)
            break;
        p += k;
        left -= k;
    }
    mm_sr_scanner_end(sc);
    mm_sr_scanner_free(sc);
    return 0;
}
