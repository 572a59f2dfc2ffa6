/*
 * vuln/version.c - the front door of version ordering: maps an OSV
 * ecosystem name to its scheme, checks both strings, and hands them to the
 * scheme's comparison (version_os.c: dpkg, rpm, apk; version_lang.c:
 * SemVer, PEP 440, Maven, RubyGems, NuGet).
 *
 * Matching compares thousands of versions per scan, so nothing here
 * allocates: schemes work on (pointer, length) slices of the caller's
 * strings.  An invalid version is an error (MM_EFORMAT naming the scheme
 * and the string), never a silent guess: a wrong order means a missed or
 * invented vulnerability.
 */
#include <string.h>

#include "mamori/common.h"
#include "vuln/version_int.h"

typedef struct scheme_ops {
    const char *name;
    const char *(*check)(const char *s, size_t n);
    int (*cmp)(const char *a, size_t an, const char *b, size_t bn,
               const char **why);
} scheme_ops;

static const scheme_ops schemes[MM_VS__COUNT] = {
    [MM_VS_DPKG] = {"dpkg", mm_vs_dpkg_check, mm_vs_dpkg_cmp},
    [MM_VS_RPM] = {"rpm", mm_vs_rpm_check, mm_vs_rpm_cmp},
    [MM_VS_APK] = {"apk", mm_vs_apk_check, mm_vs_apk_cmp},
    [MM_VS_SEMVER] = {"SemVer", mm_vs_semver_check, mm_vs_semver_cmp},
    [MM_VS_PEP440] = {"PEP 440", mm_vs_pep440_check, mm_vs_pep440_cmp},
    [MM_VS_MAVEN] = {"Maven", mm_vs_maven_check, mm_vs_maven_cmp},
    [MM_VS_GEM] = {"RubyGems", mm_vs_gem_check, mm_vs_gem_cmp},
    [MM_VS_NUGET] = {"NuGet", mm_vs_nuget_check, mm_vs_nuget_cmp},
};

int mm_vs_numcmp(const char *a, size_t an, const char *b, size_t bn)
{
    while (an > 0 && *a == '0')
        a++, an--;
    while (bn > 0 && *b == '0')
        b++, bn--;
    if (an != bn)
        return an < bn ? -1 : 1;
    int r = an ? memcmp(a, b, an) : 0;
    return mm_vs_sign(r);
}

/* OSV ecosystem names (the part before the first ':'), as osv.dev spells
 * them.  The RPM family shares rpmvercmp; Wolfi, Chainguard and MinimOS
 * build with apk. */
static const struct {
    const char *name;
    mm_verscheme scheme;
} ecosystems[] = {
    {"Debian", MM_VS_DPKG},       {"Ubuntu", MM_VS_DPKG},
    {"Alpine", MM_VS_APK},        {"Wolfi", MM_VS_APK},
    {"Chainguard", MM_VS_APK},    {"MinimOS", MM_VS_APK},
    {"Red Hat", MM_VS_RPM},       {"Rocky Linux", MM_VS_RPM},
    {"AlmaLinux", MM_VS_RPM},     {"SUSE", MM_VS_RPM},
    {"openSUSE", MM_VS_RPM},      {"Mageia", MM_VS_RPM},
    {"openEuler", MM_VS_RPM},     {"Photon OS", MM_VS_RPM},
    {"Azure Linux", MM_VS_RPM},   {"CBL-Mariner", MM_VS_RPM},
    {"PyPI", MM_VS_PEP440},       {"npm", MM_VS_SEMVER},
    {"Go", MM_VS_SEMVER},         {"crates.io", MM_VS_SEMVER},
    {"Packagist", MM_VS_SEMVER},  {"Hex", MM_VS_SEMVER},
    {"Maven", MM_VS_MAVEN},       {"RubyGems", MM_VS_GEM},
    {"NuGet", MM_VS_NUGET},
};

bool mm_verscheme_for_ecosystem(const char *eco, mm_verscheme *out)
{
    if (!eco)
        return false;
    size_t n = strcspn(eco, ":");
    for (size_t i = 0; i < sizeof ecosystems / sizeof ecosystems[0]; i++) {
        if (strlen(ecosystems[i].name) == n &&
            memcmp(ecosystems[i].name, eco, n) == 0) {
            if (out)
                *out = ecosystems[i].scheme;
            return true;
        }
    }
    return false;
}

/* The length of v, or the reason it is too long or empty for any scheme. */
static const char *length_of(const char *v, size_t *len)
{
    size_t n = strnlen(v, MM_VERSION_MAX_LEN + 1);
    *len = n;
    if (n > MM_VERSION_MAX_LEN)
        return "longer than 1024 bytes";
    return n == 0 ? "empty" : NULL;
}

/* Sets the MM_EFORMAT message naming the scheme and a printable excerpt
 * of the version (versions come from hostile images and feeds). */
static int format_error(mm_verscheme s, const char *v, size_t n,
                        const char *why)
{
    char shown[81];
    size_t k = 0;
    for (; k < n && k < 64; k++) {
        unsigned char c = (unsigned char)v[k];
        shown[k] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    if (k < n) {
        memcpy(shown + k, "...", 3);
        k += 3;
    }
    shown[k] = '\0';
    return mm_error_set(MM_EFORMAT, "%s version \"%s\": %s",
                        schemes[s].name, shown, why);
}

int mm_version_cmp(mm_verscheme s, const char *a, const char *b, int *out)
{
    if ((unsigned)s >= MM_VS__COUNT || !a || !b || !out)
        return mm_error_set(MM_EINVAL, "version compare: bad argument");
    size_t an, bn;
    const char *why = length_of(a, &an);
    if (why)
        return format_error(s, a, an, why);
    if ((why = length_of(b, &bn)))
        return format_error(s, b, bn, why);
    /* one parse per string: the compare checks as it goes */
    int r = schemes[s].cmp(a, an, b, bn, &why);
    if (r == MM_VS_BAD_A)
        return format_error(s, a, an, why);
    if (r == MM_VS_BAD_B)
        return format_error(s, b, bn, why);
    *out = r;
    return 0;
}

bool mm_version_valid(mm_verscheme s, const char *v)
{
    size_t n;
    if ((unsigned)s >= MM_VS__COUNT || !v || length_of(v, &n))
        return false;
    return schemes[s].check(v, n) == NULL;
}
