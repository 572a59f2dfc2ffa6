/*
 * jsonrd.c - a small JSON reader for the learned baseline (topo.c).
 *
 * A baseline learned from a million packets is ~10 MB of JSON and 30k+
 * objects; jansson spent 0.4 s of CPU on it (a hash table and several
 * mallocs per object), more than reading the packets.  This reader parses
 * the whole document into one flat array of tokens (a value and, for
 * arrays and objects, the index just past its subtree, so a walker skips
 * any value in O(1)) over one copy of the text in which strings are
 * unescaped in place: two allocations however big the file.
 *
 * It accepts exactly what jansson's json_loadb(…, JSON_REJECT_DUPLICATES)
 * accepts for a document: RFC 8259 syntax, an object or array at the top,
 * nothing but white space after it, strings of valid UTF-8 without raw
 * control characters, \u escapes with paired surrogates and no \u0000,
 * integers that fit int64 (else "too big"), no duplicate keys in an
 * object, nesting at most 2048 deep (and, as jansson, one NUL byte right
 * after a number or literal is skipped).  Errors name line and column.
 * Input is untrusted: the token count is capped (NT_JSON_MAX_TOKENS).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"
#include "util/json.h"

#define MAX_DEPTH 2048
#define SMALL_OBJ 32

typedef struct jp {
    char *s;                     /* the text (a copy: strings unescaped in place) */
    size_t len, pos;
    nt_json *j;
    char err[160];
    size_t err_pos;
} jp;

static int fail(jp *p, size_t at, const char *msg)
{
    if (!p->err[0]) {
        snprintf(p->err, sizeof p->err, "%s", msg);
        p->err_pos = at;
    }
    return -1;
}

static long tok_new(jp *p, uint8_t type)
{
    nt_json *j = p->j;
    if (j->ntok == j->cap) {
        if (j->cap >= NT_JSON_MAX_TOKENS)
            return fail(p, p->pos, "more than 8388608 values");
        j->cap = j->cap ? j->cap * 2 : 1024;
        if (j->cap > NT_JSON_MAX_TOKENS)
            j->cap = NT_JSON_MAX_TOKENS;
        j->tok = mm_xrealloc(j->tok, j->cap * sizeof *j->tok);
    }
    nt_jtok *t = &j->tok[j->ntok];
    memset(t, 0, sizeof *t);
    t->type = type;
    return (long)j->ntok++;
}

static void ws(jp *p)
{
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        p->pos++;
    }
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xc0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xe0 | cp >> 12);
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        d[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    d[0] = (char)(0xf0 | cp >> 18);
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    d[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* at the opening quote; unescapes in place and NUL-terminates (the closing
   quote or an escape's spare bytes leave room) */
/* 1 for the bytes a string holds as they are: printable ASCII but the quote
 * and the backslash (a table: one load and test per byte) */
static const uint8_t plain[256] = {[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1};

static int string(jp *p, uint32_t *off, uint32_t *slen)
{
    size_t start = ++p->pos;
    char *d = p->s + start;
    while (1) {
        /* plain ASCII, moved only once an escape has shrunk the string */
        const unsigned char *q = (const unsigned char *)p->s + p->pos, *z = q;
        while (plain[*z])
            z++; /* stops at the NUL after the text at the latest */
        if (z != q) {
            size_t n = (size_t)(z - q);
            if (d != (char *)q)
                memmove(d, q, n);
            d += n;
            p->pos += n;
        }
        if (p->pos >= p->len)
            return fail(p, p->pos, "premature end of input");
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, p->pos, "control character in string");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                return fail(p, p->pos, "premature end of input");
            char e = p->s[p->pos + 1];
            const char *m = strchr("\"\\/bfnrt", e);
            if (e && m) {
                *d++ = "\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
                p->pos += 2;
                continue;
            }
            unsigned cp, lo;
            if (e != 'u' || p->pos + 6 > p->len || hex4(p->s + p->pos + 2, &cp))
                return fail(p, p->pos, "invalid escape");
            p->pos += 6;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (p->pos + 6 > p->len || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                    hex4(p->s + p->pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return fail(p, p->pos, "invalid Unicode surrogate pair");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p->pos += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return fail(p, p->pos, "invalid Unicode surrogate");
            } else if (cp == 0) {
                return fail(p, p->pos, "\\u0000 is not allowed");
            }
            d += put_utf8(d, cp);
            continue;
        }
        size_t n = mm_utf8_seq((const unsigned char *)p->s + p->pos, p->len - p->pos);
        if (!n)
            return fail(p, p->pos, "invalid UTF-8");
        memmove(d, p->s + p->pos, n);
        d += n;
        p->pos += n;
    }
    *d = 0;
    p->pos++; /* the closing quote */
    *off = (uint32_t)start;
    *slen = (uint32_t)(d - (p->s + start));
    return 0;
}

static int number(jp *p, long ti)
{
    size_t st = p->pos, i = st;
    const char *s = p->s;
    bool real = false;
    if (i < p->len && s[i] == '-')
        i++;
    if (i < p->len && s[i] == '0')
        i++;
    else if (i < p->len && s[i] >= '1' && s[i] <= '9')
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return fail(p, st, "invalid token");
    if (i < p->len && s[i] == '.') {
        real = true;
        if (++i >= p->len || s[i] < '0' || s[i] > '9')
            return fail(p, st, "invalid token");
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        real = true;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9')
            return fail(p, st, "invalid token");
        while (i < p->len && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    nt_jtok *t = &p->j->tok[ti];
    if (real) {
        /* its value is never read (only integers are), but one that
           overflows a double is an error, as in jansson */
        char tmp[64], *end;
        size_t l = i - st;
        double dv;
        if (l < sizeof tmp) {
            memcpy(tmp, s + st, l);
            tmp[l] = 0;
            dv = strtod(tmp, &end);
        } else {
            char *big = mm_xstrndup(s + st, l);
            dv = strtod(big, &end);
            free(big);
        }
        if (dv == HUGE_VAL || dv == -HUGE_VAL)
            return fail(p, st, "real number overflow");
        t->type = NT_J_REAL;
    } else {
        bool neg = s[st] == '-';
        uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
        for (size_t k = st + neg; k < i; k++) {
            unsigned dgt = (unsigned)(s[k] - '0');
            if (v > (lim - dgt) / 10)
                return fail(p, st, "too big integer");
            v = v * 10 + dgt;
        }
        t->type = NT_J_INT;
        t->i = neg ? (int64_t)(0 - v) : (int64_t)v;
    }
    p->pos = i;
    return 0;
}

static bool key_eq(const jp *p, const nt_jtok *a, const nt_jtok *b)
{
    return a->len == b->len && !memcmp(p->s + a->off, p->s + b->off, a->len);
}

/* duplicate keys: pairwise for small objects, a map for big ones */
static int check_dups(jp *p, long obj)
{
    const nt_json *j = p->j;
    uint32_t n = j->tok[obj].n;
    if (n < 2)
        return 0;
    if (n <= SMALL_OBJ) {
        uint32_t keys[SMALL_OBJ];
        uint32_t k = (uint32_t)obj + 1;
        for (uint32_t i = 0; i < n; i++) {
            keys[i] = k;
            for (uint32_t m = 0; m < i; m++)
                if (key_eq(p, &j->tok[keys[m]], &j->tok[k]))
                    return fail(p, j->tok[k].off, "duplicate object key");
            k = j->tok[k + 1].next;
        }
        return 0;
    }
    mm_map *seen = mm_map_new();
    int rc = 0;
    for (uint32_t i = 0, k = (uint32_t)obj + 1; i < n; i++, k = j->tok[k + 1].next) {
        const nt_jtok *t = &j->tok[k];
        if (mm_map_getn(seen, p->s + t->off, t->len)) {
            rc = fail(p, t->off, "duplicate object key");
            break;
        }
        mm_map_put(seen, p->s + t->off, (void *)1); /* keys hold no NUL (\u0000 refused) */
    }
    mm_map_free(seen, NULL);
    return rc;
}

/* jansson's lexer drops one NUL byte right after a number or literal
   ("[2\0]" loads); the same here, so that both accept the same input */
static void skip_nul(jp *p)
{
    if (p->pos < p->len && p->s[p->pos] == 0)
        p->pos++;
}

static int value(jp *p, unsigned depth)
{
    ws(p);
    if (p->pos >= p->len)
        return fail(p, p->pos, "premature end of input");
    char c = p->s[p->pos];
    long ti;
    if (depth >= MAX_DEPTH) /* as jansson: every value counts, scalars too */
        return fail(p, p->pos, "maximum parsing depth reached");
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        if ((ti = tok_new(p, obj ? NT_J_OBJ : NT_J_ARR)) < 0)
            return -1;
        p->pos++;
        ws(p);
        uint32_t n = 0;
        if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
            p->pos++;
        } else {
            for (;;) {
                if (obj) {
                    ws(p);
                    if (p->pos >= p->len || p->s[p->pos] != '"')
                        return fail(p, p->pos, "string or '}' expected");
                    long ki = tok_new(p, NT_J_STR);
                    uint32_t off, sl;
                    if (ki < 0 || string(p, &off, &sl))
                        return -1;
                    p->j->tok[ki].off = off;
                    p->j->tok[ki].len = sl;
                    p->j->tok[ki].next = (uint32_t)ki + 1;
                    ws(p);
                    if (p->pos >= p->len || p->s[p->pos] != ':')
                        return fail(p, p->pos, "':' expected");
                    p->pos++;
                }
                if (value(p, depth + 1))
                    return -1;
                n++;
                ws(p);
                if (p->pos < p->len && p->s[p->pos] == ',') {
                    p->pos++;
                    continue;
                }
                if (p->pos < p->len && p->s[p->pos] == (obj ? '}' : ']')) {
                    p->pos++;
                    break;
                }
                return fail(p, p->pos, obj ? "'}' expected" : "']' expected");
            }
        }
        p->j->tok[ti].n = n;
        p->j->tok[ti].next = (uint32_t)p->j->ntok;
        return obj ? check_dups(p, ti) : 0;
    }
    if ((ti = tok_new(p, NT_J_NULL)) < 0)
        return -1;
    p->j->tok[ti].next = (uint32_t)ti + 1;
    if (c == '"') {
        uint32_t off, sl;
        if (string(p, &off, &sl))
            return -1;
        p->j->tok[ti].type = NT_J_STR;
        p->j->tok[ti].off = off;
        p->j->tok[ti].len = sl;
        return 0;
    }
    static const struct { const char *w; uint8_t t; } lit[] = {
        {"true", NT_J_TRUE}, {"false", NT_J_FALSE}, {"null", NT_J_NULL}};
    for (size_t k = 0; c >= 'f' && k < 3; k++) { /* numbers start with '-' or a digit */
        size_t wl = strlen(lit[k].w);
        if (p->len - p->pos >= wl && !memcmp(p->s + p->pos, lit[k].w, wl)) {
            p->j->tok[ti].type = lit[k].t;
            p->pos += wl;
            skip_nul(p);
            return 0;
        }
    }
    if (number(p, ti))
        return -1;
    skip_nul(p);
    return 0;
}

int nt_json_parse(nt_json *j, const char *name, const char *data, size_t len)
{
    memset(j, 0, sizeof *j);
    if (len > UINT32_MAX - 1)
        return mm_error_set(MM_ELIMIT, "%s: larger than 4 GiB", name);
    jp p = {.s = mm_xmalloc(len + 1), .len = len, .j = j};
    memcpy(p.s, data, len);
    p.s[len] = 0;
    j->text = p.s;
    ws(&p);
    int rc;
    if (p.pos < len && p.s[p.pos] != '{' && p.s[p.pos] != '[')
        rc = fail(&p, p.pos, "'[' or '{' expected");
    else if (!(rc = value(&p, 0))) {
        ws(&p);
        if (p.pos < len)
            rc = fail(&p, p.pos, "end of file expected");
    }
    if (!rc)
        return 0;
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p.err_pos && i < len; i++) {
        if (data[i] == '\n')
            line++, col = 1;
        else
            col++;
    }
    rc = mm_error_set(MM_EFORMAT, "%s:%zu:%zu: %s", name, line, col, p.err);
    nt_json_free(j);
    return rc;
}

void nt_json_free(nt_json *j)
{
    free(j->text);
    free(j->tok);
    memset(j, 0, sizeof *j);
}

long nt_json_get(const nt_json *j, long obj, const char *key)
{
    if (obj < 0 || j->tok[obj].type != NT_J_OBJ)
        return -1;
    size_t kl = strlen(key);
    uint32_t k = (uint32_t)obj + 1;
    for (uint32_t i = 0; i < j->tok[obj].n; i++, k = j->tok[k + 1].next)
        if (j->tok[k].len == kl && !memcmp(j->text + j->tok[k].off, key, kl))
            return (long)k + 1;
    return -1;
}
