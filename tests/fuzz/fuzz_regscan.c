/*
 * fuzz_regscan.c - libFuzzer target for what `mamori registry scan` reads
 * from a registry besides the client's own parsers: a manifest or index
 * document (platform selection), tags (SemVer ordering and the current
 * release) and times (image config `created`).  The first byte picks the
 * part; the rest is the input.  Besides staying in bounds, the tag order
 * must be consistent: cmp(a,a) == 0, cmp(a,b) == -cmp(b,a), and for three
 * tags a <= b <= c implies a <= c (the order is total); a picked digest is
 * always a valid sha256 digest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/regscan.h"
#include "image/intake.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sgn(int v) { return (v > 0) - (v < 0); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int part = data[0] % 3;
    char *s = mm_xstrndup((const char *)data + 1, size - 1);
    if (part == 0) {
        static const char *plats[] = {NULL, "linux/arm/v7", "linux/arm64"};
        static const char *mts[] = {NULL, "application/vnd.oci.image.index.v1+json"};
        bool ix;
        char out[72];
        int rc = mm_manifest_platform("fuzz", (const char *)data + 1, size - 1,
                                      mts[size % 2], plats[size % 3], &ix, out);
        if (rc == 0 && ix && !mm_digest_valid(out))
            abort();
    } else if (part == 1) {
        /* up to three tags, newline-separated */
        char *t[3] = {s, NULL, NULL};
        int n = 1;
        for (char *p = s; *p && n < 3; p++)
            if (*p == '\n') {
                *p = 0;
                t[n++] = p + 1;
            }
        for (int i = 0; i < n; i++) {
            mm_regscan_tag_is_version(t[i], NULL);
            if (mm_regscan_tag_cmp(t[i], t[i]) != 0)
                abort();
            for (int j = 0; j < n; j++)
                if (sgn(mm_regscan_tag_cmp(t[i], t[j])) != -sgn(mm_regscan_tag_cmp(t[j], t[i])))
                    abort();
        }
        if (n == 3 && mm_regscan_tag_cmp(t[0], t[1]) <= 0 &&
            mm_regscan_tag_cmp(t[1], t[2]) <= 0 && mm_regscan_tag_cmp(t[0], t[2]) > 0)
            abort();
        const char *dg[3] = {"sha256:a", "sha256:b", NULL};
        long cur = mm_regscan_current_release((const char *const *)t, dg, (size_t)n);
        if (cur >= n || (cur >= 0 && !dg[cur]))
            abort();
    } else {
        int64_t t = 0;
        if (mm_time_parse_rfc3339(s, &t) == 0)
            mm_regscan_classify("sha256:a", "sha256:b", s, t + 86400 * 2, 1, 0);
    }
    free(s);
    return 0;
}
