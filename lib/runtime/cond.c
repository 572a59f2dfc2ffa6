/*
 * cond.c - compiling and evaluating Falco conditions: the compiler inlines
 * macros, expands lists into prepared sets (hash sets of strings, numbers,
 * CIDR networks, path prefixes) and resolves fields; the evaluator runs the
 * compiled tree on an event.  The parser is cond_parse.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "runtime/cond_int.h"

/* ---- compiled nodes ---------------------------------------------------------- */

enum { N_AND = 1, N_OR, N_NOT, N_CMP, N_EVTTYPE, N_CONST };
enum {
    OP_EQ = 1, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_CONTAINS, OP_ICONTAINS,
    OP_BCONTAINS, OP_STARTSWITH, OP_BSTARTSWITH, OP_ENDSWITH, OP_GLOB, OP_IGLOB,
    OP_IN, OP_INTERSECTS, OP_PMATCH, OP_EXISTS,
};

typedef struct cval {
    char *s;
    size_t len;
    int64_t n;
    bool isnum;
    mm_ipaddr ip;
    int bits;          /* CIDR prefix (the whole address: 32 or 128) */
    bool isip;
} cval;

/* open-addressing set of strings (for `in` over many values) */
typedef struct sset {
    uint32_t *idx;     /* 0 = empty, else 1 + value index */
    uint64_t *hash;
    size_t cap;
} sset;

struct mm_cond {
    uint8_t kind, op;
    bool cval_const;
    mm_cond **kids;
    uint32_t nkids;
    mm_fref f;
    mm_fref rf;        /* val(): the right-hand field */
    bool has_rf;
    cval *vals;
    uint32_t nvals;
    sset *set;
    uint64_t types[MM_COND_TYPEWORDS];
};

static uint64_t shash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static sset *sset_build(const cval *v, uint32_t n)
{
    sset *s = mm_xcalloc(1, sizeof *s);
    s->cap = 16;
    while (s->cap < (size_t)n * 2)
        s->cap *= 2;
    s->idx = mm_xcalloc(s->cap, sizeof *s->idx);
    s->hash = mm_xcalloc(s->cap, sizeof *s->hash);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t h = shash(v[i].s, v[i].len);
        size_t j = h & (s->cap - 1);
        while (s->idx[j])
            j = (j + 1) & (s->cap - 1);
        s->idx[j] = i + 1;
        s->hash[j] = h;
    }
    return s;
}

static bool sset_has(const sset *s, const cval *v, const char *str, size_t len)
{
    uint64_t h = shash(str, len);
    for (size_t j = h & (s->cap - 1); s->idx[j]; j = (j + 1) & (s->cap - 1))
        if (s->hash[j] == h) {
            const cval *c = &v[s->idx[j] - 1];
            if (c->len == len && !memcmp(c->s, str, len))
                return true;
        }
    return false;
}

void mm_cond_free(mm_cond *n)
{
    if (!n)
        return;
    for (uint32_t i = 0; i < n->nkids; i++)
        mm_cond_free(n->kids[i]);
    free(n->kids);
    mm_fref_clear(&n->f);
    if (n->has_rf)
        mm_fref_clear(&n->rf);
    for (uint32_t i = 0; i < n->nvals; i++)
        free(n->vals[i].s);
    free(n->vals);
    if (n->set) {
        free(n->set->idx);
        free(n->set->hash);
        free(n->set);
    }
    free(n);
}

static int op_code(const char *op)
{
    static const struct { const char *n; int c; } t[] = {
        {"=", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT}, {"<=", OP_LE}, {">", OP_GT},
        {">=", OP_GE}, {"contains", OP_CONTAINS}, {"icontains", OP_ICONTAINS},
        {"bcontains", OP_BCONTAINS}, {"startswith", OP_STARTSWITH},
        {"bstartswith", OP_BSTARTSWITH}, {"endswith", OP_ENDSWITH},
        {"glob", OP_GLOB}, {"iglob", OP_IGLOB}, {"in", OP_IN},
        {"intersects", OP_INTERSECTS}, {"pmatch", OP_PMATCH}, {"exists", OP_EXISTS},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (!strcmp(t[i].n, op))
            return t[i].c;
    return 0;
}

static bool parse_num(const char *s, int64_t *out)
{
    char *e;
    if (!*s)
        return false;
    long long v = strtoll(s, &e, 0);
    if (*e)
        return false;
    *out = v;
    return true;
}

static bool parse_ip(const char *s, mm_ipaddr *ip, int *bits)
{
    mm_cidr c;
    if (!mm_cidr_parse(s, &c))
        return false;
    memset(ip, 0, sizeof *ip);
    ip->family = (uint8_t)c.family;
    memcpy(ip->ip, c.a, sizeof ip->ip);
    *bits = c.bits;
    return true;
}

static bool ip_match(const mm_ipaddr *a, const cval *c)
{
    return a->family == c->ip.family && mm_prefix_eq(a->ip, c->ip.ip, c->bits);
}

static bool hexbytes(const char *s, char **out, size_t *len)
{
    size_t n = strlen(s);
    if (n % 2)
        return false;
    char *b = mm_xmalloc(n / 2 + 1);
    for (size_t i = 0; i < n; i += 2) {
        unsigned v;
        if (!isxdigit((unsigned char)s[i]) || !isxdigit((unsigned char)s[i + 1]) ||
            sscanf(s + i, "%2x", &v) != 1) {
            free(b);
            return false;
        }
        b[i / 2] = (char)v;
    }
    b[n / 2] = 0;
    *out = b;
    *len = n / 2;
    return true;
}

typedef struct cstate {
    const mm_cond_defs *defs;
    int depth;
    const char *stack[64];   /* macros being expanded (cycle detection) */
} cstate;

static mm_cond *compile(const mm_cond_ast *a, cstate *cs);

static bool add_cval(mm_cond *n, const char *v, int op, int ftype, cstate *cs,
                     const char *field)
{
    n->vals = mm_xrealloc(n->vals, (n->nvals + 1) * sizeof *n->vals);
    cval *c = &n->vals[n->nvals];
    memset(c, 0, sizeof *c);
    c->bits = -1;
    if (op == OP_BCONTAINS || op == OP_BSTARTSWITH) {
        if (!hexbytes(v, &c->s, &c->len)) {
            mm_error_set(MM_EFORMAT, "bad hex value '%s' for %s", v, field);
            return false;
        }
        n->nvals++;
        return true;
    }
    c->s = mm_xstrdup(v);
    c->len = strlen(v);
    if (op == OP_ICONTAINS || op == OP_IGLOB)
        for (size_t i = 0; i < c->len; i++)
            c->s[i] = (char)tolower((unsigned char)c->s[i]);
    if (ftype == FT_NUM && (op <= OP_GE || op == OP_IN || op == OP_INTERSECTS)) {
        if (!parse_num(v, &c->n)) {
            free(c->s);
            mm_error_set(MM_EFORMAT, "value '%s' is not a number for %s", v, field);
            return false;
        }
        c->isnum = true;
    } else if (ftype == FT_BOOL) {
        if (!strcasecmp(v, "true"))
            c->n = 1;
        else if (!strcasecmp(v, "false"))
            c->n = 0;
        else if (!parse_num(v, &c->n)) {
            free(c->s);
            mm_error_set(MM_EFORMAT, "value '%s' is not a boolean for %s", v, field);
            return false;
        }
        c->isnum = true;
    } else if (ftype == FT_IP || ftype == FT_NET) {
        if (!parse_ip(v, &c->ip, &c->bits)) {
            free(c->s);
            mm_error_set(MM_EFORMAT, "value '%s' is not an address for %s", v, field);
            return false;
        }
        c->isip = true;
    }
    n->nvals++;
    return true;
}

/* Adds the values of an AST list, expanding list names (recursively). */
static bool add_list_items(mm_cond *n, char **vals, const bool *quoted, size_t nv,
                           int op, int ftype, cstate *cs, const char *field, int depth)
{
    if (depth > 32) {
        mm_error_set(MM_EFORMAT, "lists nest too deeply");
        return false;
    }
    for (size_t i = 0; i < nv; i++) {
        size_t ln = 0;
        char **items = (!quoted || !quoted[i]) && cs->defs->list
            ? cs->defs->list(cs->defs->ud, vals[i], &ln) : NULL;
        if (items) {
            if (!add_list_items(n, items, NULL, ln, op, ftype, cs, field, depth + 1))
                return false;
            continue;
        }
        /* list items may carry their YAML quotes ("(systemd)") */
        const char *v = vals[i];
        char *unq = NULL;
        size_t vl = strlen(v);
        if (!quoted && vl >= 2 && ((v[0] == '"' && v[vl - 1] == '"') ||
                                   (v[0] == '\'' && v[vl - 1] == '\'')))
            v = unq = mm_xstrndup(v + 1, vl - 2);
        bool ok = add_cval(n, v, op, ftype, cs, field);
        free(unq);
        if (!ok)
            return false;
    }
    return true;
}

static mm_cond *compile_cmp(const mm_cond_ast *a, cstate *cs)
{
    mm_cond *n = mm_xcalloc(1, sizeof *n);
    n->kind = N_CMP;
    if (mm_fref_init(&n->f, a->field) < 0) {
        mm_cond_free(n);
        return NULL;
    }
    n->f.xform = (uint8_t)a->xform;
    if (a->xform == XF_LEN)
        n->f.type = FT_NUM;
    else if (a->xform)
        n->f.type = FT_STR;
    int op = op_code(a->op);
    if (!op) {
        mm_error_set(MM_EUNSUPPORTED, "unsupported operator '%s'", a->op);
        mm_cond_free(n);
        return NULL;
    }
    n->op = (uint8_t)op;
    int ft = n->f.type;
    /* operators a field type cannot take */
    if ((ft == FT_BOOL && op != OP_EQ && op != OP_NE && op != OP_EXISTS && op != OP_IN) ||
        ((ft == FT_IP || ft == FT_NET) && op != OP_EQ && op != OP_NE &&
         op != OP_EXISTS && op != OP_IN && op != OP_INTERSECTS)) {
        mm_error_set(MM_EUNSUPPORTED, "unsupported operator '%s' for field '%s'",
                 a->op, a->field);
        mm_cond_free(n);
        return NULL;
    }
    if (op == OP_EXISTS)
        return n;
    if (a->rhs == R_FIELD) {
        if (mm_fref_init(&n->rf, a->vals[0]) < 0) {
            mm_cond_free(n);
            return NULL;
        }
        n->has_rf = true;
        n->rf.xform = (uint8_t)a->rhs_xform;
        return n;
    }
    bool listop = op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH;
    if (listop != (a->rhs == R_LIST) && !(listop && a->rhs == R_VALUE)) {
        mm_error_set(MM_EFORMAT, "operator '%s' needs %s", a->op,
                 listop ? "a list" : "a single value");
        mm_cond_free(n);
        return NULL;
    }
    if (!add_list_items(n, a->vals, a->quoted, a->nvals, op, ft, cs, a->field, 0)) {
        mm_cond_free(n);
        return NULL;
    }
    /* evt.type checks become a type bitmap test */
    if (!strcmp(n->f.def->name, "evt.type") && !n->f.xform &&
        (op == OP_EQ || op == OP_NE || op == OP_IN)) {
        memset(n->types, 0, sizeof n->types);
        for (uint32_t i = 0; i < n->nvals; i++) {
            mm_evt_type t = mm_evt_type_from_name(n->vals[i].s);
            if (t != MM_EVT_UNKNOWN)
                n->types[t / 64] |= 1ull << (t % 64);
            else if (cs->defs->unknown_evttype)
                cs->defs->unknown_evttype(cs->defs->ud, n->vals[i].s);
        }
        if (op == OP_NE)
            for (int w = 0; w < MM_COND_TYPEWORDS; w++)
                n->types[w] = ~n->types[w];
        n->kind = N_EVTTYPE;
        return n;
    }
    if ((op == OP_IN || op == OP_INTERSECTS) && ft == FT_STR && n->nvals > 4)
        n->set = sset_build(n->vals, n->nvals);
    return n;
}

static mm_cond *compile(const mm_cond_ast *a, cstate *cs)
{
    if (++cs->depth > MAX_DEPTH) {
        mm_error_set(MM_EFORMAT, "condition nests too deeply");
        return NULL;
    }
    mm_cond *n = NULL;
    switch (a->kind) {
    case A_AND: case A_OR: case A_NOT:
        n = mm_xcalloc(1, sizeof *n);
        n->kind = a->kind == A_AND ? N_AND : a->kind == A_OR ? N_OR : N_NOT;
        n->kids = mm_xcalloc(a->nkids, sizeof *n->kids);
        for (size_t i = 0; i < a->nkids; i++) {
            mm_cond *k = compile(a->kids[i], cs);
            if (!k) {
                mm_cond_free(n);
                n = NULL;
                break;
            }
            n->kids[n->nkids++] = k;
        }
        break;
    case A_CMP:
        n = compile_cmp(a, cs);
        break;
    case A_MACRO: {
        for (int i = 0; i < cs->depth && i < 64; i++)
            if (cs->stack[i] && !strcmp(cs->stack[i], a->field)) {
                mm_error_set(MM_EFORMAT, "macro '%s' refers to itself", a->field);
                cs->depth--;
                return NULL;
            }
        bool found = false;
        mm_cond_ast *m = cs->defs->macro ? cs->defs->macro(cs->defs->ud, a->field, &found) : NULL;
        if (!found) {
            mm_error_set(MM_EFORMAT, "undefined macro '%s'", a->field);
            break;
        }
        if (!m) {
            mm_error_set(MM_EFORMAT, "macro '%s' has a bad condition", a->field);
            break;
        }
        if (cs->depth < 64)
            cs->stack[cs->depth] = a->field;
        n = compile(m, cs);
        if (cs->depth < 64)
            cs->stack[cs->depth] = NULL;
        break;
    }
    }
    cs->depth--;
    return n;
}

int mm_cond_compile(mm_cond **out, const mm_cond_ast *a, const mm_cond_defs *defs)
{
    cstate cs = {defs, 0, {0}};
    *out = compile(a, &cs);
    return *out ? MM_OK : MM_EUNSUPPORTED;
}

void mm_cond_types(const mm_cond *n, uint64_t out[MM_COND_TYPEWORDS])
{
    uint64_t tmp[MM_COND_TYPEWORDS];
    switch (n->kind) {
    case N_EVTTYPE:
        memcpy(out, n->types, sizeof n->types);
        return;
    case N_AND:
        memset(out, 0xff, sizeof tmp);
        for (uint32_t i = 0; i < n->nkids; i++) {
            mm_cond_types(n->kids[i], tmp);
            for (int w = 0; w < MM_COND_TYPEWORDS; w++)
                out[w] &= tmp[w];
        }
        return;
    case N_OR:
        memset(out, 0, sizeof tmp);
        for (uint32_t i = 0; i < n->nkids; i++) {
            mm_cond_types(n->kids[i], tmp);
            for (int w = 0; w < MM_COND_TYPEWORDS; w++)
                out[w] |= tmp[w];
        }
        return;
    case N_NOT:
        if (n->kids[0]->kind == N_EVTTYPE) {
            for (int w = 0; w < MM_COND_TYPEWORDS; w++)
                out[w] = ~n->kids[0]->types[w];
            return;
        }
        /* fall through */
    default:
        memset(out, 0xff, sizeof tmp);
        return;
    }
}

/* ---- what a source must fill ---------------------------------------------------- */

/* The value a node has for every event of the types in `prod` (the types a
 * source produces): 0 always false, 1 always true, 2 depends on the event.
 * Only evt.type tests are decided; everything else depends. */
static int node_const(const mm_cond *n, const uint64_t prod[MM_COND_TYPEWORDS])
{
    switch (n->kind) {
    case N_EVTTYPE: {
        bool any = false, all = true;
        for (int w = 0; w < MM_COND_TYPEWORDS; w++) {
            any |= (n->types[w] & prod[w]) != 0;
            all &= (prod[w] & ~n->types[w]) == 0;
        }
        return !any ? 0 : all ? 1 : 2;
    }
    case N_AND: {
        int r = 1;
        for (uint32_t i = 0; i < n->nkids; i++) {
            int k = node_const(n->kids[i], prod);
            if (k == 0)
                return 0;
            if (k == 2)
                r = 2;
        }
        return r;
    }
    case N_OR: {
        int r = 0;
        for (uint32_t i = 0; i < n->nkids; i++) {
            int k = node_const(n->kids[i], prod);
            if (k == 1)
                return 1;
            if (k == 2)
                r = 2;
        }
        return r;
    }
    case N_NOT: {
        int k = node_const(n->kids[0], prod);
        return k == 2 ? 2 : !k;
    }
    default:
        return 2;
    }
}

/* The first field of a live part of the condition that `ok` refuses.  A
 * branch that cannot matter for the events the source produces (`evt.type
 * = connect and fd.sip = ...` under a source without connect) is dead, and
 * the fields in it are not asked for. */
const mm_fref *mm_cond_first_unfillable(const mm_cond *n, const uint64_t prod[MM_COND_TYPEWORDS],
                                        bool (*ok)(void *ud, const mm_fref *f), void *ud)
{
    int k = node_const(n, prod);
    if (k != 2 && n->kind != N_CMP)
        return NULL;   /* decided by evt.type alone */
    switch (n->kind) {
    case N_AND: case N_OR: case N_NOT:
        for (uint32_t i = 0; i < n->nkids; i++) {
            if (n->kind == N_OR && node_const(n->kids[i], prod) == 0)
                continue;   /* a dead alternative */
            const mm_fref *f = mm_cond_first_unfillable(n->kids[i], prod, ok, ud);
            if (f)
                return f;
        }
        return NULL;
    case N_CMP:
        if (!ok(ud, &n->f))
            return &n->f;
        if (n->has_rf && !ok(ud, &n->rf))
            return &n->rf;
        return NULL;
    default:
        return NULL;
    }
}

/* ---- evaluation --------------------------------------------------------------- */

static bool str_icontains(const char *h, size_t hl, const char *lowneedle, size_t nl)
{
    if (nl == 0)
        return true;
    if (nl > hl)
        return false;
    for (size_t i = 0; i + nl <= hl; i++) {
        size_t k = 0;
        while (k < nl && tolower((unsigned char)h[i + k]) == lowneedle[k])
            k++;
        if (k == nl)
            return true;
    }
    return false;
}

static bool pmatch_one(const char *s, size_t len, const cval *c)
{
    size_t pl = c->len;
    while (pl > 1 && c->s[pl - 1] == '/')
        pl--;
    if (len < pl || memcmp(s, c->s, pl))
        return false;
    return len == pl || s[pl] == '/' || (pl == 1 && c->s[0] == '/');
}

static bool cmp_str(const mm_cond *n, const char *s, size_t len)
{
    const cval *v = n->vals;
    /* len may be MM_LEN_UNKNOWN: s is then NUL-terminated and is measured
     * only by the operators that need a length */
#define LEN() (len == MM_LEN_UNKNOWN ? (len = strlen(s)) : len)
    switch (n->op) {
    case OP_EQ:
        if (len == MM_LEN_UNKNOWN)
            return strcmp(v->s, s) == 0;
        return v->len == len && !memcmp(v->s, s, len);
    case OP_NE:
        if (len == MM_LEN_UNKNOWN)
            return strcmp(v->s, s) != 0;
        return !(v->len == len && !memcmp(v->s, s, len));
    case OP_LT: return strcmp(s, v->s) < 0;
    case OP_LE: return strcmp(s, v->s) <= 0;
    case OP_GT: return strcmp(s, v->s) > 0;
    case OP_GE: return strcmp(s, v->s) >= 0;
    case OP_CONTAINS:
        if (len == MM_LEN_UNKNOWN)
            return strstr(s, v->s) != NULL;
        return memmem(s, len, v->s, v->len) != NULL;
    case OP_BCONTAINS:
        return memmem(s, LEN(), v->s, v->len) != NULL;
    case OP_ICONTAINS: return str_icontains(s, LEN(), v->s, v->len);
    case OP_STARTSWITH:
        if (len == MM_LEN_UNKNOWN)
            return strncmp(s, v->s, v->len) == 0;
        return len >= v->len && !memcmp(s, v->s, v->len);
    case OP_BSTARTSWITH:
        return LEN() >= v->len && !memcmp(s, v->s, v->len);
    case OP_ENDSWITH: return LEN() >= v->len && !memcmp(s + len - v->len, v->s, v->len);
    case OP_GLOB: return fnmatch(v->s, s, 0) == 0;
    case OP_IGLOB: return fnmatch(v->s, s, FNM_CASEFOLD) == 0;
    case OP_IN: case OP_INTERSECTS:
        if (n->set)
            return sset_has(n->set, n->vals, s, LEN());
        if (len == MM_LEN_UNKNOWN) {
            for (uint32_t i = 0; i < n->nvals; i++)
                if (!strcmp(v[i].s, s))
                    return true;
            return false;
        }
        for (uint32_t i = 0; i < n->nvals; i++)
            if (v[i].len == len && !memcmp(v[i].s, s, len))
                return true;
        return false;
    case OP_PMATCH:
        LEN();
        for (uint32_t i = 0; i < n->nvals; i++)
            if (pmatch_one(s, len, &v[i]))
                return true;
        return false;
    }
#undef LEN
    return false;
}

static bool cmp_num(const mm_cond *n, int64_t x)
{
    const cval *v = n->vals;
    switch (n->op) {
    case OP_EQ: return x == v->n;
    case OP_NE: return x != v->n;
    case OP_LT: return x < v->n;
    case OP_LE: return x <= v->n;
    case OP_GT: return x > v->n;
    case OP_GE: return x >= v->n;
    case OP_IN: case OP_INTERSECTS:
        for (uint32_t i = 0; i < n->nvals; i++)
            if (v[i].n == x)
                return true;
        return false;
    }
    return false;
}

static bool cmp_ip(const mm_cond *n, const mm_ipaddr *ip)
{
    switch (n->op) {
    case OP_EQ: return ip_match(ip, n->vals);
    case OP_NE: return !ip_match(ip, n->vals);
    case OP_IN: case OP_INTERSECTS:
        for (uint32_t i = 0; i < n->nvals; i++)
            if (ip_match(ip, &n->vals[i]))
                return true;
        return false;
    }
    return false;
}

static bool eval_field_rhs(const mm_cond *n, mm_evalctx *c, mm_fval *lv, int ln)
{
    mm_fval rv[MM_FIELD_MAXV];
    int rn = mm_field_extract(c, &n->rf, rv);
    if (rn == 0)
        return false;
    char lb[32], rb[32];
    const char *rs = rv[0].s;
    if (!rs) {
        snprintf(rb, sizeof rb, "%lld", (long long)rv[0].n);
        rs = rb;
    }
    size_t rl = strlen(rs);
    cval tmp = {(char *)rs, rl, rv[0].n, !rv[0].s, rv[0].ip, -1, false};
    mm_cond fake = *n;
    fake.vals = &tmp;
    fake.nvals = 1;
    fake.set = NULL;
    for (int i = 0; i < ln; i++) {
        const char *ls = lv[i].s;
        if (!ls) {
            if (!rv[0].s && n->f.type == FT_NUM && cmp_num(&fake, lv[i].n))
                return true;
            snprintf(lb, sizeof lb, "%lld", (long long)lv[i].n);
            ls = lb;
        }
        if (fake.op == OP_ICONTAINS) {
            if (strcasestr(ls, rs))
                return true;
            continue;
        }
        if (cmp_str(&fake, ls, strlen(ls)))
            return true;
    }
    return false;
}

bool mm_cond_eval(const mm_cond *n, mm_evalctx *c)
{
    switch (n->kind) {
    case N_AND:
        for (uint32_t i = 0; i < n->nkids; i++)
            if (!mm_cond_eval(n->kids[i], c))
                return false;
        return true;
    case N_OR:
        for (uint32_t i = 0; i < n->nkids; i++)
            if (mm_cond_eval(n->kids[i], c))
                return true;
        return false;
    case N_NOT:
        return !mm_cond_eval(n->kids[0], c);
    case N_CONST:
        return n->cval_const;
    case N_EVTTYPE: {
        unsigned t = (unsigned)c->ev->type;
        return t < MM_EVT__COUNT && (n->types[t / 64] >> (t % 64)) & 1;
    }
    case N_CMP: {
        mm_fval v[MM_FIELD_MAXV];
        int cnt = mm_field_extract(c, &n->f, v);
        if (n->op == OP_EXISTS)
            return cnt > 0;
        if (cnt == 0)
            return false;
        if (n->has_rf)
            return eval_field_rhs(n, c, v, cnt);
        /* a list field (k8s_audit) is `in` a set when all its values are */
        bool all = n->f.def->list && n->op == OP_IN;
        for (int i = 0; i < cnt; i++) {
            bool r;
            switch (n->f.type) {
            case FT_NUM: case FT_BOOL:
                if (n->vals && n->vals->isnum) {
                    r = cmp_num(n, v[i].n);
                } else {
                    char b[32];
                    int l = snprintf(b, sizeof b, "%lld", (long long)v[i].n);
                    r = cmp_str(n, b, (size_t)l);
                }
                break;
            case FT_IP: case FT_NET:
                r = cmp_ip(n, &v[i].ip);
                break;
            default:
                r = cmp_str(n, v[i].s, v[i].len);
            }
            if (all && !r)
                return false;
            if (!all && r)
                return true;
        }
        return all;
    }
    }
    return false;
}

