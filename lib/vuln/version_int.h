/*
 * vuln/version_int.h - what the per-scheme files of the version module
 * share: small slice helpers, each scheme's check/compare pair, and apk's
 * raw comparison (with its fuzzy "~" prefix match) that the test suite
 * needs to replay apk-tools' own vectors, including the ones that order
 * versions apk itself calls invalid.
 *
 * A scheme's check returns NULL when the string is a valid version, else a
 * short reason.  Its compare parses both strings once and returns -1, 0 or
 * 1, or MM_VS_BAD_A / MM_VS_BAD_B with *why set when a or b is invalid; it
 * never allocates.  Strings are (pointer, length) slices so that callers can
 * trim without copying.
 */
#ifndef MM_VULN_VERSION_INT_H
#define MM_VULN_VERSION_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "vuln/version.h"

/* Longest version string any scheme accepts: real versions stay far below;
 * the cap bounds the work a hostile feed can ask for. */
#define MM_VERSION_MAX_LEN 1024

/* ASCII classes, locale-free, as the schemes define them. */
static inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
static inline bool is_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
static inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* Drops the white space around the slice (*s, *n). */
static inline void trim_space(const char **s, size_t *n)
{
    while (*n > 0 && is_space(**s))
        (*s)++, (*n)--;
    while (*n > 0 && is_space((*s)[*n - 1]))
        (*n)--;
}

/* Compares two runs of ASCII digits as unbounded non-negative integers
 * (leading zeros ignored): -1, 0 or 1.  Empty counts as zero. */
int mm_vs_numcmp(const char *a, size_t an, const char *b, size_t bn);

/* -1, 0 or 1 of an int difference. */
static inline int mm_vs_sign(int v) { return (v > 0) - (v < 0); }

enum { MM_VS_BAD_A = 2, MM_VS_BAD_B = 3 };

#define MM_VS_DECL(name)                                                  \
    const char *mm_vs_##name##_check(const char *s, size_t n);             \
    int mm_vs_##name##_cmp(const char *a, size_t an, const char *b,        \
                           size_t bn, const char **why)
MM_VS_DECL(dpkg);
MM_VS_DECL(rpm);
MM_VS_DECL(apk);
MM_VS_DECL(semver);
MM_VS_DECL(pep440);
MM_VS_DECL(maven);
MM_VS_DECL(gem);
MM_VS_DECL(nuget);
#undef MM_VS_DECL

/* apk-tools' comparison as apk itself runs it: valid or not, both strings
 * are ordered token by token up to the first token that does not parse;
 * with fuzzy, a that begins with all of b's tokens compares equal ("3.6.9"
 * ~ "3.6").  -1, 0 or 1.  mm_version_cmp() refuses invalid apk versions
 * instead; this is for apk's own vectors and for its "~" dependency
 * operator. */
int mm_version_apk_compare(const char *a, const char *b, bool fuzzy);

#endif
