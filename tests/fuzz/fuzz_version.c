/*
 * fuzz_version.c - libFuzzer target for version ordering.  The first byte
 * picks the scheme; the rest holds up to three versions separated by
 * newlines.  Every scheme must stay in bounds on any bytes and keep its
 * order consistent: validity agrees with the compare's return code,
 * cmp(a,a) == 0, cmp(a,b) == -cmp(b,a), and (for the schemes whose order
 * is total) a <= b <= c implies a <= c.  Two schemes are left out of the
 * last check because their upstream algorithms are not transitive: rpm
 * ignores the release when one side has none ("1.0-2" = "1.0" = "1.0-1"
 * while "1.0-1" < "1.0-2"), and Maven ranks a sub-list above a qualifier
 * but decides a sub-list against nothing by its first item, so
 * "1.0-0-alpha-." < "1" < "1SHOT" < "1.0-0-alpha-." as in Maven itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/common.h"
#include "vuln/version.h"
#include "vuln/version_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sgn(int v) { return (v > 0) - (v < 0); }

/* cmp, checked against validity; returns 2 when either is invalid. */
static int cmp(mm_verscheme s, const char *a, const char *b)
{
    int r = 0, rc = mm_version_cmp(s, a, b, &r);
    bool ok = mm_version_valid(s, a) && mm_version_valid(s, b);
    if ((rc == 0) != ok || (rc != 0 && rc != MM_EFORMAT))
        abort();
    return rc ? 2 : sgn(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    mm_verscheme s = (mm_verscheme)(data[0] % MM_VS__COUNT);
    char *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    const char *v[3] = {"", "", ""};
    char *p = buf;
    for (int i = 0; i < 3 && p; i++) {
        v[i] = p;
        p = strchr(p, '\n');
        if (p)
            *p++ = '\0';
    }
    int ab = cmp(s, v[0], v[1]), ba = cmp(s, v[1], v[0]);
    if (ab != 2 && (ab != -ba || cmp(s, v[0], v[0]) != 0))
        abort();
    int bc = cmp(s, v[1], v[2]), ac = cmp(s, v[0], v[2]);
    if (s != MM_VS_RPM && s != MM_VS_MAVEN && ab != 2 && bc != 2 && ac != 2) {
        if (ab <= 0 && bc <= 0 && ac > 0)
            abort();
        if (ab >= 0 && bc >= 0 && ac < 0)
            abort();
    }
    /* apk's raw order works on invalid strings too, and stays antisymmetric */
    if (s == MM_VS_APK &&
        mm_version_apk_compare(v[0], v[1], false) !=
            -mm_version_apk_compare(v[1], v[0], false))
        abort();
    mm_version_apk_compare(v[0], v[1], true);
    mm_verscheme out;
    mm_verscheme_for_ecosystem(v[0], &out);
    free(buf);
    return 0;
}
