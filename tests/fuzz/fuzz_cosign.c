/*
 * fuzz_cosign.c - everything of a cosign signature that a registry hands
 * us: the signature manifest (parsed, and rebuilt with one more layer as
 * `mamori sign` does), the payload's claims, the base64 of a signature
 * and the docker-reference normalisation.  The first byte picks the
 * parser so that one corpus covers all four.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "trust/trust_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *digest =
        "sha256:2b628ef6795aaded8fd944dfd5ecb64348fb6cf852da0f2b8caaa4b709cb6ce2";
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 4;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    switch (mode) {
    case 0: {
        mm_siglayer *L = NULL;
        size_t n = 0;
        if (mm_cosign_manifest_parse(&L, &n, body, len, "fuzz") == 0) {
            for (size_t i = 0; i < n; i++)
                if (L[i].signature) {
                    unsigned char *sig = NULL;
                    size_t slen = 0;
                    if (mm_b64_decode(&sig, &slen, L[i].signature,
                                      MM_COSIGN_MAX_SIG_B64) == 0)
                        free(sig);
                }
            char *m = NULL, *c = NULL;
            size_t ml = 0, cl = 0;
            if (mm_cosign_manifest_build(&m, &ml, &c, &cl, body, len, digest, 10,
                                         "AAAA", "2024-01-01T00:00:00Z") == 0) {
                mm_siglayer *L2 = NULL;
                size_t n2 = 0;
                /* what we build, we must read back with one more layer */
                if (mm_cosign_manifest_parse(&L2, &n2, m, ml, "rebuilt") != 0 ||
                    n2 != n + 1)
                    abort();
                mm_siglayers_free(L2, n2);
            }
            free(m);
            free(c);
        }
        mm_siglayers_free(L, n);
        break;
    }
    case 1:
        (void)mm_cosign_payload_check(body, len, digest, "127.0.0.1:5000/test/app");
        break;
    case 2: {
        char *s = mm_xstrndup(body, len);
        unsigned char *o = NULL;
        size_t ol = 0;
        if (mm_b64_decode(&o, &ol, s, MM_COSIGN_MAX_SIG_B64) == 0) {
            /* encoding the bytes again gives as many characters, and
             * those decode to the same bytes (non-zero trailing bits
             * are tolerated on input, as Go's decoder tolerates them) */
            char *e = mm_b64_encode(o, ol);
            unsigned char *o2 = NULL;
            size_t ol2 = 0;
            if (strlen(e) != strlen(s) ||
                mm_b64_decode(&o2, &ol2, e, MM_COSIGN_MAX_SIG_B64) != 0 ||
                ol2 != ol || memcmp(o, o2, ol) != 0)
                abort();
            free(o2);
            free(e);
            free(o);
        }
        free(s);
        break;
    }
    default: {
        char *s = mm_xstrndup(body, len);
        free(mm_cosign_normref(s));
        free(s);
        break;
    }
    }
    mm_error_clear();
    return 0;
}
