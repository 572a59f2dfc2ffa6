/*
 * vuln/version_lang.c - the language ecosystems' version schemes: SemVer
 * 2.0.0 (npm, Go, crates.io, Packagist), PEP 440 (PyPI), Maven's
 * ComparableVersion, RubyGems' Gem::Version and NuGet's SemVer variant.
 *
 * Every parser records slices of the input (no copies, no allocation) in
 * a fixed-size structure on the caller's stack; numbers stay digit
 * strings so that "20240101000000000000" compares right.  Schemes that
 * need a list of components (Maven, RubyGems) cap it at MAX_PARTS and call
 * longer strings invalid.
 *
 * Length: five schemes behind one interface, each section self-contained;
 * they share the slice and digit-string helpers at the top, which splitting
 * would have to export.
 */
#include <string.h>

#include "vuln/version_int.h"

#define MAX_PARTS 128

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}
static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return n > 0;
}

/* Byte order of two slices, shorter first on a tie; fold lowers ASCII. */
static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn,
                     bool fold)
{
    size_t n = an < bn ? an : bn;
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)(fold ? lower(a[i]) : a[i]);
        unsigned char y = (unsigned char)(fold ? lower(b[i]) : b[i]);
        if (x != y)
            return x < y ? -1 : 1;
    }
    return (an > bn) - (an < bn);
}

/* Runs of [0-9A-Za-z-] separated by single dots: SemVer's and NuGet's
 * pre-release and build identifiers. */
static bool ident_list_ok(const char *s, size_t n, bool semver_numeric)
{
    size_t i = 0;
    if (n == 0)
        return false;
    while (i <= n) {
        size_t st = i;
        while (i < n && (is_alnum(s[i]) || s[i] == '-'))
            i++;
        if (i == st)
            return false;
        /* SemVer: numeric identifiers carry no leading zero */
        if (semver_numeric && all_digits(s + st, i - st) && i - st > 1 &&
            s[st] == '0')
            return false;
        if (i == n)
            return true;
        if (s[i] != '.')
            return false;
        i++;
    }
    return false;
}

/* Compares dot-separated pre-release identifier lists (SemVer §11.4):
 * numeric identifiers numerically and below alphanumeric ones, the rest
 * in ASCII order (NuGet: case-insensitively); a longer list wins a tie. */
static int ident_list_cmp(const char *a, size_t an, const char *b, size_t bn,
                          bool fold)
{
    size_t i = 0, j = 0;
    for (;;) {
        if (i >= an || j >= bn)
            return (i < an) - (j < bn);
        size_t si = i, sj = j;
        while (i < an && a[i] != '.')
            i++;
        while (j < bn && b[j] != '.')
            j++;
        bool na = all_digits(a + si, i - si), nb = all_digits(b + sj, j - sj);
        int r;
        if (na && nb)
            r = mm_vs_numcmp(a + si, i - si, b + sj, j - sj);
        else if (na != nb)
            r = na ? -1 : 1;
        else
            r = bytes_cmp(a + si, i - si, b + sj, j - sj, fold);
        if (r)
            return r;
        if (i < an)
            i++;
        if (j < bn)
            j++;
        /* "1.0.0-a." cannot reach here: the lists were checked */
    }
}

/* ------------------------------------------------------ SemVer, NuGet */

/* One parser for the dotted-number-plus-labels schemes: SemVer 2 (npm,
 * Go, Cargo, ...) and NuGet's superset (one to four numbers, no rule on
 * leading zeros, labels compared case-insensitively). */
typedef struct dotted {
    const char *core[4], *pre;
    size_t coren[4], pren;
} dotted;

typedef struct dotted_rules {
    int min_parts, max_parts;
    bool prefix;          /* "=1.2.3" and "v1.2.3" (npm, Go) */
    bool semver_numeric;  /* no leading zeros, in numbers and labels */
    bool fold;            /* labels compare case-insensitively */
    const char *bad_core, *bad_pre, *bad_meta;
} dotted_rules;

static const dotted_rules semver_rules = {
    3, 3, true, true, false,
    "not MAJOR.MINOR.PATCH", "bad pre-release identifiers", "bad build metadata",
};
/* N[.N[.N[.N]]][-label(.label)*][+metadata]: NuGetVersion's SemVer 2
 * superset with a fourth "revision" number. */
static const dotted_rules nuget_rules = {
    1, 4, false, false, true,
    "not a version number", "bad release label", "bad metadata",
};

static const char *dotted_parse(const char *s, size_t n, const dotted_rules *r, dotted *v)
{
    size_t i = 0;
    memset(v, 0, sizeof *v);
    if (r->prefix && i < n && s[i] == '=')
        i++;
    if (r->prefix && i < n && s[i] == 'v')
        i++;
    for (int k = 0; k < r->max_parts; k++) {
        if (k > 0) {
            if (i >= n || s[i] != '.') {
                if (k >= r->min_parts)
                    break;
                return r->bad_core;
            }
            i++;
        }
        size_t st = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i == st)
            return r->bad_core;
        if (r->semver_numeric && s[st] == '0' && i - st > 1)
            return "leading zero in a version number";
        v->core[k] = s + st;
        v->coren[k] = i - st;
    }
    if (i < n && s[i] == '-') {
        size_t st = ++i;
        while (i < n && s[i] != '+')
            i++;
        if (!ident_list_ok(s + st, i - st, r->semver_numeric))
            return r->bad_pre;
        v->pre = s + st;
        v->pren = i - st;
    }
    if (i < n && s[i] == '+') {
        /* build metadata (Go's "+incompatible" too): checked, not ordered */
        i++;
        if (!ident_list_ok(s + i, n - i, false))
            return r->bad_meta;
        i = n;
    }
    return i == n ? NULL : "trailing characters";
}

static int dotted_cmp(const char *a, size_t an, const char *b, size_t bn,
                      const dotted_rules *rl, const char **why)
{
    dotted x, y;
    if ((*why = dotted_parse(a, an, rl, &x)))
        return MM_VS_BAD_A;
    if ((*why = dotted_parse(b, bn, rl, &y)))
        return MM_VS_BAD_B;
    for (int k = 0; k < rl->max_parts; k++) {
        int r = mm_vs_numcmp(x.core[k], x.coren[k], y.core[k], y.coren[k]);
        if (r)
            return r;
    }
    if (!x.pre || !y.pre)
        return (!x.pre) - (!y.pre); /* a release follows its pre-releases */
    return ident_list_cmp(x.pre, x.pren, y.pre, y.pren, rl->fold);
}

const char *mm_vs_semver_check(const char *s, size_t n)
{
    dotted v;
    return dotted_parse(s, n, &semver_rules, &v);
}

int mm_vs_semver_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    return dotted_cmp(a, an, b, bn, &semver_rules, why);
}

const char *mm_vs_nuget_check(const char *s, size_t n)
{
    dotted v;
    return dotted_parse(s, n, &nuget_rules, &v);
}

int mm_vs_nuget_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    return dotted_cmp(a, an, b, bn, &nuget_rules, why);
}

/* ------------------------------------------------------------- PEP 440 */

typedef struct pep440 {
    const char *epoch, *rel, *pre_n, *post_n, *dev_n, *local;
    size_t epochn, reln, pre_nn, post_nn, dev_nn, localn;
    int pre; /* -1 none, 0 a, 1 b, 2 rc */
    bool post, dev, has_local;
} pep440;

/* Case-insensitive match of word at s[*i]; advances on success. */
static bool take_word(const char *s, size_t n, size_t *i, const char *w)
{
    size_t k = strlen(w);
    if (n - *i < k)
        return false;
    for (size_t j = 0; j < k; j++)
        if (lower(s[*i + j]) != w[j])
            return false;
    *i += k;
    return true;
}

static bool take_sep(const char *s, size_t n, size_t *i)
{
    if (*i < n && (s[*i] == '-' || s[*i] == '_' || s[*i] == '.')) {
        (*i)++;
        return true;
    }
    return false;
}

static void take_digits(const char *s, size_t n, size_t *i, const char **d,
                        size_t *dn)
{
    size_t st = *i;
    while (*i < n && is_digit(s[*i]))
        (*i)++;
    *d = s + st;
    *dn = *i - st;
}

/* PEP 440's permissive grammar (the one packaging.version accepts),
 * recording the parts of the normalised form. */
static const char *pep440_parse(const char *s, size_t n, pep440 *v)
{
    memset(v, 0, sizeof *v);
    v->pre = -1;
    trim_space(&s, &n);
    size_t i = 0;
    if (i < n && lower(s[i]) == 'v')
        i++;
    const char *d;
    size_t dn;
    take_digits(s, n, &i, &d, &dn);
    if (!dn)
        return "no release number";
    if (i < n && s[i] == '!') {
        v->epoch = d;
        v->epochn = dn;
        i++;
        take_digits(s, n, &i, &d, &dn);
        if (!dn)
            return "no release number after the epoch";
    }
    v->rel = d;
    while (i + 1 < n && s[i] == '.' && is_digit(s[i + 1])) {
        i++;
        while (i < n && is_digit(s[i]))
            i++;
    }
    v->reln = (size_t)(s + i - v->rel);

    /* pre-release: [-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?N? */
    static const struct { const char *w; int rank; } pre_words[] = {
        {"alpha", 0}, {"a", 0}, {"beta", 1}, {"b", 1},
        {"preview", 2}, {"pre", 2}, {"c", 2}, {"rc", 2},
    };
    size_t save = i;
    take_sep(s, n, &i);
    for (size_t k = 0; k < sizeof pre_words / sizeof pre_words[0]; k++)
        if (take_word(s, n, &i, pre_words[k].w)) {
            v->pre = pre_words[k].rank;
            break;
        }
    if (v->pre >= 0) {
        take_sep(s, n, &i);
        take_digits(s, n, &i, &v->pre_n, &v->pre_nn);
    } else {
        i = save;
    }

    /* post-release: -N, or [-_.]?(post|rev|r)[-_.]?N? */
    save = i;
    if (i + 1 < n && s[i] == '-' && is_digit(s[i + 1])) {
        i++;
        v->post = true;
        take_digits(s, n, &i, &v->post_n, &v->post_nn);
    } else {
        take_sep(s, n, &i);
        if (take_word(s, n, &i, "post") || take_word(s, n, &i, "rev") ||
            take_word(s, n, &i, "r")) {
            v->post = true;
            take_sep(s, n, &i);
            take_digits(s, n, &i, &v->post_n, &v->post_nn);
        } else {
            i = save;
        }
    }

    /* development release: [-_.]?dev[-_.]?N? */
    save = i;
    take_sep(s, n, &i);
    if (take_word(s, n, &i, "dev")) {
        v->dev = true;
        take_sep(s, n, &i);
        take_digits(s, n, &i, &v->dev_n, &v->dev_nn);
    } else {
        i = save;
    }

    /* local version: +seg([-_.]seg)* with seg = [a-z0-9]+ */
    if (i < n && s[i] == '+') {
        i++;
        v->has_local = true;
        v->local = s + i;
        for (;;) {
            size_t st = i;
            while (i < n && is_alnum(s[i]))
                i++;
            if (i == st)
                return "bad local version label";
            if (!take_sep(s, n, &i))
                break;
        }
        v->localn = (size_t)(s + i - v->local);
    }
    return i == n ? NULL : "not a PEP 440 version";
}

const char *mm_vs_pep440_check(const char *s, size_t n)
{
    pep440 v;
    return pep440_parse(s, n, &v);
}

/* Release segments with the shorter one padded by zeros (1.0 == 1.0.0). */
static int pep440_release_cmp(const pep440 *x, const pep440 *y)
{
    size_t i = 0, j = 0;
    while (i < x->reln || j < y->reln) {
        size_t si = i, sj = j;
        while (i < x->reln && x->rel[i] != '.')
            i++;
        while (j < y->reln && y->rel[j] != '.')
            j++;
        int r = mm_vs_numcmp(x->rel + si, i - si, y->rel + sj, j - sj);
        if (r)
            return r;
        if (i < x->reln)
            i++;
        if (j < y->reln)
            j++;
    }
    return 0;
}

/* Local labels segment by segment: numbers above words, numbers by value,
 * words case-insensitively; more segments win a tie. */
static int pep440_local_cmp(const pep440 *x, const pep440 *y)
{
    size_t i = 0, j = 0;
    for (;;) {
        if (i >= x->localn || j >= y->localn)
            return (i < x->localn) - (j < y->localn);
        size_t si = i, sj = j;
        while (i < x->localn && is_alnum(x->local[i]))
            i++;
        while (j < y->localn && is_alnum(y->local[j]))
            j++;
        const char *a = x->local + si, *b = y->local + sj;
        bool na = all_digits(a, i - si), nb = all_digits(b, j - sj);
        int r;
        if (na && nb)
            r = mm_vs_numcmp(a, i - si, b, j - sj);
        else if (na != nb)
            r = na ? 1 : -1;
        else
            r = bytes_cmp(a, i - si, b, j - sj, true);
        if (r)
            return r;
        if (i < x->localn)
            i++;
        if (j < y->localn)
            j++;
    }
}

/* Where the pre-release part puts a version: a bare dev release (1.0.dev1)
 * before every pre-release, no pre-release after them all. */
static int pep440_pre_class(const pep440 *v)
{
    if (v->pre >= 0)
        return 1;
    return (!v->post && v->dev) ? 0 : 2;
}

int mm_vs_pep440_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    pep440 x, y;
    if ((*why = pep440_parse(a, an, &x)))
        return MM_VS_BAD_A;
    if ((*why = pep440_parse(b, bn, &y)))
        return MM_VS_BAD_B;
    int r = mm_vs_numcmp(x.epoch, x.epochn, y.epoch, y.epochn);
    if (!r)
        r = pep440_release_cmp(&x, &y);
    if (r)
        return r;
    int cx = pep440_pre_class(&x), cy = pep440_pre_class(&y);
    if (cx != cy)
        return cx < cy ? -1 : 1;
    if (cx == 1) {
        if (x.pre != y.pre)
            return x.pre < y.pre ? -1 : 1;
        if ((r = mm_vs_numcmp(x.pre_n, x.pre_nn, y.pre_n, y.pre_nn)))
            return r;
    }
    if (x.post != y.post)
        return x.post ? 1 : -1;
    if ((r = mm_vs_numcmp(x.post_n, x.post_nn, y.post_n, y.post_nn)))
        return r;
    if (x.dev != y.dev)
        return x.dev ? -1 : 1;
    if ((r = mm_vs_numcmp(x.dev_n, x.dev_nn, y.dev_n, y.dev_nn)))
        return r;
    if (x.has_local != y.has_local)
        return x.has_local ? 1 : -1;
    return x.has_local ? pep440_local_cmp(&x, &y) : 0;
}

/* --------------------------------------------------------------- Maven */

/* ComparableVersion's items.  Every '-' and every letter/digit switch opens
 * a sub-list that holds the rest of the version, so the tree is a chain:
 * list L's items are followed by list L+1 as its last element.  Items are
 * stored in order with their list depth. */
enum { MVN_INT, MVN_STR };
enum { MVN_Q_RELEASE = 5, MVN_Q_UNKNOWN = 7 };

typedef struct mvn_item {
    const char *v; /* INT: digits; STR: the qualifier text (unknown ones) */
    size_t vn;
    unsigned short level;
    unsigned char kind, qual; /* qual: alpha 0 .. sp 6, unknown 7 */
} mvn_item;

typedef struct mvn {
    mvn_item it[MAX_PARTS];
    size_t n;
    /* per list depth after normalisation: items [lo, hi), and whether the
     * next-deeper list survived (is non-empty) */
    unsigned short lo[MAX_PARTS + 1], hi[MAX_PARTS + 1];
    size_t depth; /* lists 0 .. depth-1 exist */
} mvn;

static int mvn_qualifier(const char *s, size_t n, bool followed_by_digit)
{
    static const char *const known[] = {"alpha", "beta", "milestone", "rc",
                                        "snapshot", "", "sp"};
    if (followed_by_digit && n == 1) {
        switch (lower(s[0])) {
        case 'a': return 0;
        case 'b': return 1;
        case 'm': return 2;
        }
    }
    struct { const char *w; int q; } alias[] = {
        {"ga", MVN_Q_RELEASE}, {"final", MVN_Q_RELEASE},
        {"release", MVN_Q_RELEASE}, {"cr", 3},
    };
    for (size_t k = 0; k < sizeof alias / sizeof alias[0]; k++)
        if (strlen(alias[k].w) == n && bytes_cmp(s, n, alias[k].w, n, true) == 0)
            return alias[k].q;
    for (int k = 0; k < 7; k++)
        if (strlen(known[k]) == n && n && bytes_cmp(s, n, known[k], n, true) == 0)
            return k;
    return MVN_Q_UNKNOWN;
}

static bool mvn_add(mvn *m, size_t level, bool digit, const char *s,
                    size_t n, bool followed_by_digit)
{
    if (m->n >= MAX_PARTS)
        return false;
    mvn_item *it = &m->it[m->n++];
    it->level = (unsigned short)level;
    it->v = s;
    it->vn = n;
    it->kind = digit ? MVN_INT : MVN_STR;
    it->qual = digit ? 0 : (unsigned char)mvn_qualifier(s, n, followed_by_digit);
    return true;
}

static bool mvn_is_null(const mvn_item *it)
{
    if (it->kind == MVN_INT)
        return mm_vs_numcmp(it->v, it->vn, "", 0) == 0;
    return it->qual == MVN_Q_RELEASE;
}

static const char *mvn_parse(const char *s, size_t n, mvn *m)
{
    size_t level = 0, start = 0, here = 0; /* here: items in the current list */
    bool digit = false;
    m->n = 0;
#define MVN_ADD(d, off, len, fbd)                                          \
    do {                                                                   \
        if (!mvn_add(m, level, (d), s + (off), (len), (fbd)))              \
            return "too many components";                                  \
        here++;                                                            \
    } while (0)
#define MVN_NEST() (level++, here = 0)
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f)
            return "white space, control or non-ASCII character";
        if (c == '.' || c == '-') {
            /* an empty component is a zero */
            MVN_ADD(i == start ? true : digit, start, i - start, false);
            start = i + 1;
            if (c == '-')
                MVN_NEST();
        } else if (is_digit(c)) {
            if (!digit && i > start) {
                /* "X1": a qualifier always opens its own list (Maven
                 * 3.9, MNG-7644: 1.0.RC2 < 1.0-RC3 < 1.0.1) */
                if (here)
                    MVN_NEST();
                MVN_ADD(false, start, i - start, true);
                start = i;
                MVN_NEST();
            }
            digit = true;
        } else {
            if (digit && i > start) {
                MVN_ADD(true, start, i - start, false);
                start = i;
                MVN_NEST();
            }
            digit = false;
        }
    }
    if (n > start) {
        /* a trailing ".X" reads as "-X" */
        if (!digit && here)
            MVN_NEST();
        MVN_ADD(digit, start, n - start, false);
    }
#undef MVN_ADD
#undef MVN_NEST
    if (level > MAX_PARTS)
        return "too many components";

    /* items are sorted by depth: find each list's range, then normalise
     * from the deepest list up: trailing nulls (0, "", ga, final, release)
     * go, and a list left empty disappears from its parent */
    size_t nl = level + 1, k = 0;
    for (size_t l = 0; l < nl; l++) {
        m->lo[l] = (unsigned short)k;
        while (k < m->n && m->it[k].level == l)
            k++;
        m->hi[l] = (unsigned short)k;
    }
    m->depth = nl;
    for (size_t l = nl; l-- > 0;) {
        while (m->hi[l] > m->lo[l] && mvn_is_null(&m->it[m->hi[l] - 1]))
            m->hi[l]--;
        if (m->hi[l] == m->lo[l] && m->depth == l + 1 && l > 0)
            m->depth = l;
    }
    return NULL;
}

const char *mm_vs_maven_check(const char *s, size_t n)
{
    static __thread mvn m;
    return mvn_parse(s, n, &m);
}

/* An element of list l: an item, the sub-list, or nothing. */
enum { MVN_E_NONE, MVN_E_ITEM, MVN_E_LIST };
static int mvn_elem(const mvn *m, size_t l, size_t i, const mvn_item **it)
{
    size_t cnt = m->hi[l] - m->lo[l];
    if (i < cnt) {
        *it = &m->it[m->lo[l] + i];
        return MVN_E_ITEM;
    }
    if (i == cnt && l + 1 < m->depth)
        return MVN_E_LIST;
    return MVN_E_NONE;
}

/* An item against "nothing": how "1-rc" < "1" and "1-sp" > "1". */
static int mvn_item_vs_null(const mvn_item *it)
{
    if (it->kind == MVN_INT)
        return mvn_is_null(it) ? 0 : 1;
    return (it->qual > MVN_Q_RELEASE) - (it->qual < MVN_Q_RELEASE);
}

/* List l against "nothing": its first element that is not null decides
 * (MNG-6964: "1-0.1" > "1", not equal as the first element alone said). */
static int mvn_list_vs_null(const mvn *m, size_t l)
{
    for (; l < m->depth; l++)
        for (size_t k = m->lo[l]; k < m->hi[l]; k++) {
            int r = mvn_item_vs_null(&m->it[k]);
            if (r)
                return r;
        }
    return 0;
}

static int mvn_item_cmp(const mvn_item *a, const mvn_item *b)
{
    if (a->kind != b->kind)
        return a->kind == MVN_INT ? 1 : -1; /* 1.1 > 1-sp */
    if (a->kind == MVN_INT)
        return mm_vs_numcmp(a->v, a->vn, b->v, b->vn);
    if (a->qual != b->qual)
        return a->qual < b->qual ? -1 : 1;
    if (a->qual == MVN_Q_UNKNOWN)
        return bytes_cmp(a->v, a->vn, b->v, b->vn, true);
    return 0;
}

static int mvn_cmp(const mvn *x, const mvn *y)
{
    size_t lx = 0, ly = 0, i = 0;
    for (;;) {
        const mvn_item *a = NULL, *b = NULL;
        int ea = mvn_elem(x, lx, i, &a), eb = mvn_elem(y, ly, i, &b);
        int r;
        if (ea == MVN_E_NONE && eb == MVN_E_NONE)
            return 0;
        if (ea == MVN_E_LIST && eb == MVN_E_LIST) {
            /* both sub-lists are last: compare them in their turn */
            lx++, ly++, i = 0;
            continue;
        }
        if (eb == MVN_E_NONE)
            r = ea == MVN_E_ITEM ? mvn_item_vs_null(a) : mvn_list_vs_null(x, lx + 1);
        else if (ea == MVN_E_NONE)
            r = -(eb == MVN_E_ITEM ? mvn_item_vs_null(b) : mvn_list_vs_null(y, ly + 1));
        else if (ea == MVN_E_ITEM && eb == MVN_E_ITEM)
            r = mvn_item_cmp(a, b);
        else if (ea == MVN_E_LIST) /* list vs item: 1-1 < 1.1, 1-1 > 1-sp */
            r = b->kind == MVN_INT ? -1 : 1;
        else
            r = a->kind == MVN_INT ? 1 : -1;
        if (r)
            return r;
        i++;
    }
}

int mm_vs_maven_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    /* two item arrays are ~7 KiB: kept per thread, off the stack */
    static __thread mvn x, y;
    if ((*why = mvn_parse(a, an, &x)))
        return MM_VS_BAD_A;
    if ((*why = mvn_parse(b, bn, &y)))
        return MM_VS_BAD_B;
    return mvn_cmp(&x, &y);
}

/* ------------------------------------------------------------ RubyGems */

typedef struct gem_seg {
    const char *v;
    size_t vn;
    bool num;
} gem_seg;

typedef struct gem {
    gem_seg seg[MAX_PARTS];
    size_t n;
} gem;

/* Gem::Version: N(.[0-9A-Za-z]+)*(-[0-9A-Za-z-]+(.[0-9A-Za-z-]+)*)?, with
 * every '-' read as ".pre.", split into runs of digits and of letters;
 * then the canonical segments: trailing zeros dropped from the numeric
 * head and from the whole. */
static const char *gem_parse(const char *s, size_t n, gem *g)
{
    trim_space(&s, &n);
    size_t i = 0;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == 0)
        return "does not start with a number";
    while (i < n && s[i] == '.') {
        size_t st = ++i;
        while (i < n && is_alnum(s[i]))
            i++;
        if (i == st)
            return "empty segment";
    }
    if (i < n && s[i] == '-') {
        for (;;) {
            size_t st = ++i;
            while (i < n && (is_alnum(s[i]) || s[i] == '-'))
                i++;
            if (i == st)
                return "empty pre-release segment";
            if (i >= n || s[i] != '.')
                break;
        }
    }
    if (i != n)
        return "not a RubyGems version";

    g->n = 0;
    for (i = 0; i < n;) {
        gem_seg sg;
        if (s[i] == '.') {
            i++;
            continue;
        }
        if (s[i] == '-') {
            sg.v = "pre", sg.vn = 3, sg.num = false;
            i++;
        } else {
            size_t st = i;
            sg.num = is_digit(s[i]);
            while (i < n && (sg.num ? is_digit(s[i]) : is_alpha(s[i])))
                i++;
            sg.v = s + st, sg.vn = i - st;
        }
        if (g->n >= MAX_PARTS)
            return "too many segments";
        g->seg[g->n++] = sg;
    }
    /* canonical: zeros before the first word and at the end go */
    size_t first_word = 0;
    while (first_word < g->n && g->seg[first_word].num)
        first_word++;
    size_t head = first_word;
    while (head > 0 && mm_vs_numcmp(g->seg[head - 1].v, g->seg[head - 1].vn, "", 0) == 0)
        head--;
    if (head != first_word) {
        memmove(&g->seg[head], &g->seg[first_word],
                (g->n - first_word) * sizeof g->seg[0]);
        g->n -= first_word - head;
    }
    while (g->n > head && g->seg[g->n - 1].num &&
           mm_vs_numcmp(g->seg[g->n - 1].v, g->seg[g->n - 1].vn, "", 0) == 0)
        g->n--;
    return NULL;
}

const char *mm_vs_gem_check(const char *s, size_t n)
{
    static __thread gem g;
    return gem_parse(s, n, &g);
}

int mm_vs_gem_cmp(const char *a, size_t an, const char *b, size_t bn,
                 const char **why)
{
    static __thread gem x, y;
    if ((*why = gem_parse(a, an, &x)))
        return MM_VS_BAD_A;
    if ((*why = gem_parse(b, bn, &y)))
        return MM_VS_BAD_B;
    size_t lim = x.n > y.n ? x.n : y.n;
    static const gem_seg zero = {"0", 1, true};
    for (size_t i = 0; i < lim; i++) {
        const gem_seg *l = i < x.n ? &x.seg[i] : &zero;
        const gem_seg *r = i < y.n ? &y.seg[i] : &zero;
        int c;
        if (l->num && r->num)
            c = mm_vs_numcmp(l->v, l->vn, r->v, r->vn);
        else if (l->num != r->num)
            c = l->num ? 1 : -1; /* a word (pre-release) sorts first */
        else
            c = bytes_cmp(l->v, l->vn, r->v, r->vn, false);
        if (c)
            return c;
    }
    return 0;
}

