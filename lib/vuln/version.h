/*
 * vuln/version.h - version ordering, one implementation per ecosystem.
 * A vulnerability match is only as right as its comparison: dpkg (epoch,
 * tilde, revision), rpm (rpmvercmp with tilde and caret), apk (suffixes
 * _alpha.._p, -rN), SemVer (npm, Go, crates.io, Packagist), PEP 440 (PyPI),
 * Maven (ComparableVersion), RubyGems and NuGet.
 */
#ifndef MM_VULN_VERSION_H
#define MM_VULN_VERSION_H

#include <stdbool.h>

typedef enum mm_verscheme {
    MM_VS_DPKG = 0,
    MM_VS_RPM,
    MM_VS_APK,
    MM_VS_SEMVER,
    MM_VS_PEP440,
    MM_VS_MAVEN,
    MM_VS_GEM,
    MM_VS_NUGET,
    MM_VS__COUNT
} mm_verscheme;

/* The scheme of an OSV ecosystem name ("Debian:12" -> DPKG, "PyPI" ->
 * PEP440, "Go" -> SEMVER, ...); false when unknown. */
bool mm_verscheme_for_ecosystem(const char *osv_ecosystem, mm_verscheme *out);

/* Compares a and b: *out < 0, 0 or > 0.  Returns 0, or MM_EFORMAT when
 * either is not a valid version of the scheme (with a message naming it). */
int mm_version_cmp(mm_verscheme s, const char *a, const char *b, int *out);

/* Is v a valid version of the scheme? */
bool mm_version_valid(mm_verscheme s, const char *v);

#endif
