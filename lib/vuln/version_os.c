/*
 * vuln/version_os.c - the three distribution package version schemes:
 * dpkg (Debian Policy 5.6.12), rpm (rpmvercmp, with "~" and "^") and apk
 * (apk-tools' Gentoo-style tokens with _suffixes, ~hash and -rN).
 *
 * Each comparison walks both strings once, in place; numbers are compared
 * as digit strings so that no version overflows an integer.
 */
#include <string.h>

#include "vuln/version_int.h"

/* ---------------------------------------------------------------- dpkg */

/* [epoch:]upstream[-revision], split as dpkg's parseversion() does: the
 * epoch ends at the first ':', the revision starts after the last '-'. */
typedef struct dpkg_ver {
    const char *e, *u, *r;
    size_t en, un, rn;
} dpkg_ver;

static const char *dpkg_parse(const char *s, size_t n, dpkg_ver *v)
{
    /* dpkg trims surrounding white space and refuses it inside */
    trim_space(&s, &n);
    if (n == 0)
        return "empty";
    for (size_t i = 0; i < n; i++)
        if (is_space(s[i]))
            return "embedded white space";
    memset(v, 0, sizeof *v);
    v->e = v->r = ""; /* absent parts are empty, never NULL */
    const char *colon = memchr(s, ':', n);
    if (colon) {
        v->e = s;
        v->en = (size_t)(colon - s);
        if (v->en == 0)
            return "epoch is empty";
        for (size_t i = 0; i < v->en; i++)
            if (!is_digit(s[i]))
                return "epoch is not a number";
        if (mm_vs_numcmp(v->e, v->en, "2147483647", 10) > 0)
            return "epoch is too big";
        n -= v->en + 1;
        s = colon + 1;
        if (n == 0)
            return "nothing after the epoch colon";
    }
    const char *hyphen = NULL;
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '-') {
            hyphen = s + i - 1;
            break;
        }
    v->u = s;
    v->un = hyphen ? (size_t)(hyphen - s) : n;
    if (hyphen) {
        v->r = hyphen + 1;
        v->rn = n - v->un - 1;
        if (v->rn == 0)
            return "revision is empty";
    }
    if (v->un == 0)
        return "upstream version is empty";
    /* Policy's character sets; dpkg only warns about a non-digit start
     * and so do we (we accept it) */
    for (size_t i = 0; i < v->un; i++)
        if (!is_alnum(v->u[i]) && !strchr(".+~-:", v->u[i]))
            return "invalid character in upstream version";
    for (size_t i = 0; i < v->rn; i++)
        if (!is_alnum(v->r[i]) && !strchr(".+~", v->r[i]))
            return "invalid character in revision";
    return NULL;
}

/* Policy's lexical order: '~' before the end, the end before letters,
 * letters before everything else. */
static int dpkg_order(char c)
{
    if (is_digit(c))
        return 0;
    if (is_alpha(c))
        return (unsigned char)c;
    if (c == '~')
        return -1;
    return (unsigned char)c + 256;
}

static int dpkg_verrevcmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t i = 0, j = 0;
    while (i < an || j < bn) {
        /* the non-digit prefixes, character by character */
        while ((i < an && !is_digit(a[i])) || (j < bn && !is_digit(b[j]))) {
            int ac = i < an ? dpkg_order(a[i]) : 0;
            int bc = j < bn ? dpkg_order(b[j]) : 0;
            if (ac != bc)
                return ac < bc ? -1 : 1;
            if (i < an)
                i++;
            if (j < bn)
                j++;
        }
        /* then the digit runs, as numbers */
        size_t si = i, sj = j;
        while (i < an && is_digit(a[i]))
            i++;
        while (j < bn && is_digit(b[j]))
            j++;
        int r = mm_vs_numcmp(a + si, i - si, b + sj, j - sj);
        if (r)
            return r;
    }
    return 0;
}

const char *mm_vs_dpkg_check(const char *s, size_t n)
{
    dpkg_ver v;
    return dpkg_parse(s, n, &v);
}

int mm_vs_dpkg_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    dpkg_ver x, y;
    if ((*why = dpkg_parse(a, an, &x)))
        return MM_VS_BAD_A;
    if ((*why = dpkg_parse(b, bn, &y)))
        return MM_VS_BAD_B;
    int r = mm_vs_numcmp(x.e, x.en, y.e, y.en);
    if (!r)
        r = dpkg_verrevcmp(x.u, x.un, y.u, y.un);
    if (!r)
        r = dpkg_verrevcmp(x.r, x.rn, y.r, y.rn);
    return r;
}

/* ----------------------------------------------------------------- rpm */

/* [epoch:]version[-release]: the epoch is the leading digits when a ':'
 * follows them, the release follows the last '-' (rpm's parseEVR). */
typedef struct rpm_ver {
    const char *e, *v, *r;
    size_t en, vn, rn;
    bool has_r;
} rpm_ver;

static const char *rpm_parse(const char *s, size_t n, rpm_ver *v)
{
    memset(v, 0, sizeof *v);
    v->e = v->r = "";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f)
            return "white space, control or non-ASCII character";
    }
    size_t d = 0;
    while (d < n && is_digit(s[d]))
        d++;
    if (d < n && s[d] == ':') {
        v->e = s;
        v->en = d;
        s += d + 1;
        n -= d + 1;
    }
    const char *hyphen = NULL;
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '-') {
            hyphen = s + i - 1;
            break;
        }
    v->v = s;
    v->vn = hyphen ? (size_t)(hyphen - s) : n;
    if (hyphen) {
        v->has_r = true;
        v->r = hyphen + 1;
        v->rn = n - v->vn - 1;
        if (v->rn == 0)
            return "release is empty";
    }
    if (v->vn == 0)
        return "version is empty";
    return NULL;
}

/* rpmvercmp: alternating runs of digits and letters, everything else a
 * separator; '~' sorts before anything (even the end), '^' after the end
 * but before anything else. */
static int rpmvercmp(const char *a, size_t an, const char *b, size_t bn)
{
    if (an == bn && memcmp(a, b, an) == 0)
        return 0;
    size_t i = 0, j = 0;
    while (i < an || j < bn) {
        while (i < an && !is_alnum(a[i]) && a[i] != '~' && a[i] != '^')
            i++;
        while (j < bn && !is_alnum(b[j]) && b[j] != '~' && b[j] != '^')
            j++;
        bool ta = i < an && a[i] == '~', tb = j < bn && b[j] == '~';
        if (ta || tb) {
            if (!ta)
                return 1;
            if (!tb)
                return -1;
            i++, j++;
            continue;
        }
        bool ca = i < an && a[i] == '^', cb = j < bn && b[j] == '^';
        if (ca || cb) {
            if (i >= an)
                return -1;
            if (j >= bn)
                return 1;
            if (!ca)
                return 1;
            if (!cb)
                return -1;
            i++, j++;
            continue;
        }
        if (i >= an || j >= bn)
            break;
        size_t si = i, sj = j;
        bool num = is_digit(a[i]);
        if (num) {
            while (i < an && is_digit(a[i]))
                i++;
            while (j < bn && is_digit(b[j]))
                j++;
        } else {
            while (i < an && is_alpha(a[i]))
                i++;
            while (j < bn && is_alpha(b[j]))
                j++;
        }
        /* segments of different kinds: the numeric one is newer */
        if (j == sj)
            return num ? 1 : -1;
        int r;
        if (num) {
            r = mm_vs_numcmp(a + si, i - si, b + sj, j - sj);
        } else {
            size_t la = i - si, lb = j - sj;
            r = memcmp(a + si, b + sj, la < lb ? la : lb);
            r = r ? mm_vs_sign(r) : (la > lb) - (la < lb);
        }
        if (r)
            return r;
    }
    if (i >= an && j >= bn)
        return 0;
    return i < an ? 1 : -1;
}

const char *mm_vs_rpm_check(const char *s, size_t n)
{
    rpm_ver v;
    return rpm_parse(s, n, &v);
}

int mm_vs_rpm_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    rpm_ver x, y;
    if ((*why = rpm_parse(a, an, &x)))
        return MM_VS_BAD_A;
    if ((*why = rpm_parse(b, bn, &y)))
        return MM_VS_BAD_B;
    int r = mm_vs_numcmp(x.e, x.en, y.e, y.en);
    if (!r)
        r = rpmvercmp(x.v, x.vn, y.v, y.vn);
    /* rpm compares releases only when both sides carry one */
    if (!r && x.has_r && y.has_r)
        r = rpmvercmp(x.r, x.rn, y.r, y.rn);
    return r;
}

/* ----------------------------------------------------------------- apk */

/* Token kinds in the order apk's grammar allows them:
 * digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}.  The order is
 * also the ordering of "what comes next" when one version runs out. */
enum {
    APK_T_FIRST_DIGIT,
    APK_T_DIGIT,
    APK_T_LETTER,
    APK_T_SUFFIX,
    APK_T_SUFFIX_NO,
    APK_T_HASH,
    APK_T_REVISION,
    APK_T_END,
    APK_T_INVALID,
};

/* Suffix ranks: pre-release suffixes below "none", post-release above. */
enum { APK_S_ALPHA = 1, APK_S_BETA, APK_S_PRE, APK_S_RC, APK_S_NONE,
       APK_S_CVS, APK_S_SVN, APK_S_GIT, APK_S_HG, APK_S_P };

typedef struct apk_tok {
    int kind, suffix;
    const char *v; /* the token's text: digits, letter, suffix or hash */
    size_t vn;
} apk_tok;

typedef struct apk_cur {
    const char *p, *end;
} apk_cur;

static int apk_suffix(const char *s, size_t n)
{
    static const struct { const char *name; int rank; } tab[] = {
        {"alpha", APK_S_ALPHA}, {"beta", APK_S_BETA}, {"pre", APK_S_PRE},
        {"rc", APK_S_RC},       {"cvs", APK_S_CVS},   {"svn", APK_S_SVN},
        {"git", APK_S_GIT},     {"hg", APK_S_HG},     {"p", APK_S_P},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++)
        if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
            return tab[i].rank;
    return 0;
}

static void apk_digits(apk_tok *t, apk_cur *c)
{
    t->v = c->p;
    while (c->p < c->end && is_digit(*c->p))
        c->p++;
    t->vn = (size_t)(c->p - t->v);
    if (t->vn == 0)
        t->kind = APK_T_INVALID;
}

static void apk_first(apk_tok *t, apk_cur *c)
{
    t->kind = APK_T_FIRST_DIGIT;
    t->suffix = 0;
    apk_digits(t, c);
}

static void apk_next(apk_tok *t, apk_cur *c)
{
    if (c->p >= c->end) {
        t->kind = APK_T_END;
        return;
    }
    char ch = *c->p;
    if (ch >= 'a' && ch <= 'z') {
        if (t->kind > APK_T_DIGIT)
            goto invalid;
        t->kind = APK_T_LETTER;
        t->v = c->p++;
        t->vn = 1;
    } else if (ch == '.' || is_digit(ch)) {
        if (ch == '.') {
            if (t->kind > APK_T_DIGIT)
                goto invalid;
            c->p++;
        }
        if (t->kind == APK_T_FIRST_DIGIT || t->kind == APK_T_DIGIT)
            t->kind = APK_T_DIGIT;
        else if (t->kind == APK_T_SUFFIX)
            t->kind = APK_T_SUFFIX_NO;
        else
            goto invalid;
        apk_digits(t, c);
    } else if (ch == '_') {
        if (t->kind > APK_T_SUFFIX_NO)
            goto invalid;
        t->v = ++c->p;
        while (c->p < c->end && *c->p >= 'a' && *c->p <= 'z')
            c->p++;
        t->vn = (size_t)(c->p - t->v);
        t->suffix = apk_suffix(t->v, t->vn);
        if (!t->suffix)
            goto invalid;
        t->kind = APK_T_SUFFIX;
    } else if (ch == '~') {
        if (t->kind >= APK_T_HASH)
            goto invalid;
        t->v = ++c->p;
        while (c->p < c->end && (is_digit(*c->p) ||
                                 (*c->p >= 'a' && *c->p <= 'f') ||
                                 (*c->p >= 'A' && *c->p <= 'F')))
            c->p++;
        t->vn = (size_t)(c->p - t->v);
        if (t->vn == 0)
            goto invalid;
        t->kind = APK_T_HASH;
    } else if (ch == '-') {
        if (t->kind >= APK_T_REVISION || c->end - c->p < 2 || c->p[1] != 'r')
            goto invalid;
        c->p += 2;
        t->kind = APK_T_REVISION;
        apk_digits(t, c);
    } else {
        goto invalid;
    }
    return;
invalid:
    t->kind = APK_T_INVALID;
}

static int apk_bytes(const apk_tok *a, const apk_tok *b)
{
    size_t n = a->vn < b->vn ? a->vn : b->vn;
    int r = memcmp(a->v, b->v, n);
    return r ? mm_vs_sign(r) : (a->vn > b->vn) - (a->vn < b->vn);
}

static int apk_tokcmp(const apk_tok *a, const apk_tok *b)
{
    switch (a->kind) {
    case APK_T_DIGIT:
        /* a component with a leading zero sorts as a string (Gentoo) */
        if (a->v[0] == '0' || b->v[0] == '0')
            return apk_bytes(a, b);
        /* fall through */
    case APK_T_FIRST_DIGIT:
    case APK_T_SUFFIX_NO:
    case APK_T_REVISION:
        return mm_vs_numcmp(a->v, a->vn, b->v, b->vn);
    case APK_T_LETTER:
        return (a->v[0] > b->v[0]) - (a->v[0] < b->v[0]);
    case APK_T_SUFFIX:
        return (a->suffix > b->suffix) - (a->suffix < b->suffix);
    default:
        return apk_bytes(a, b);
    }
}

static int apk_compare(const char *a, size_t an, const char *b, size_t bn,
                       bool fuzzy)
{
    apk_cur ca = {a, a + an}, cb = {b, b + bn};
    apk_tok ta, tb;
    for (apk_first(&ta, &ca), apk_first(&tb, &cb);
         ta.kind == tb.kind && ta.kind < APK_T_END;
         apk_next(&ta, &ca), apk_next(&tb, &cb)) {
        int r = apk_tokcmp(&ta, &tb);
        if (r)
            return r;
    }
    if (ta.kind == tb.kind)
        return 0;
    if (fuzzy && tb.kind == APK_T_END)
        return 0;
    /* equal so far: the longer one is newer, unless what it has next is
     * a pre-release suffix */
    if (ta.kind == APK_T_SUFFIX && ta.suffix < APK_S_NONE)
        return -1;
    if (tb.kind == APK_T_SUFFIX && tb.suffix < APK_S_NONE)
        return 1;
    return ta.kind > tb.kind ? -1 : 1;
}

const char *mm_vs_apk_check(const char *s, size_t n)
{
    apk_cur c = {s, s + n};
    apk_tok t;
    for (apk_first(&t, &c); t.kind < APK_T_END; apk_next(&t, &c))
        ;
    return t.kind == APK_T_END ? NULL : "not digit{.digit}[letter]{_suffix[N]}[~hash][-rN]";
}

int mm_vs_apk_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    if ((*why = mm_vs_apk_check(a, an)))
        return MM_VS_BAD_A;
    if ((*why = mm_vs_apk_check(b, bn)))
        return MM_VS_BAD_B;
    return apk_compare(a, an, b, bn, false);
}

int mm_version_apk_compare(const char *a, const char *b, bool fuzzy)
{
    return apk_compare(a, strlen(a), b, strlen(b), fuzzy);
}
