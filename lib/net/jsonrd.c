/*
 * jsonrd.c - a small JSON reader for the learned baseline (topo.c).
 *
 * A baseline learned from a million packets is ~10 MB of JSON and 30k+
 * objects; jansson spent 0.4 s of CPU on it (a hash table and several
 * mallocs per object), more than reading the packets.  This reader parses
 * the whole document into one flat array of tokens (a value and, for
 * arrays and objects, the index just past its subtree, so a walker skips
 * any value in O(1)) over the text itself, in which strings are unescaped
 * in place: two allocations however big the file.  The file is read into
 * a buffer with zero padding (nt_json_parse_buf) and parsed there, not
 * copied; the token array is sized once from the text's length (a token
 * takes two bytes at least) and only the pages used are ever touched.
 * Strings and white space are scanned 16 bytes at a time (SSE2), and the
 * duplicate-key check hashes each key to one bit of a word, comparing
 * keys only when two share a bit: the baseline's objects have ten keys
 * and no duplicates, so the check is nearly free.
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
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "net/net_int.h"
#include "util/json.h"

#define MAX_DEPTH 2048
#define SMALL_OBJ 32

typedef struct jp {
    char *s;                     /* the text: strings unescaped in place; a NUL
                                    and NT_JSON_PAD - 1 more zero bytes follow */
    size_t len, pos;
    nt_json *j;
    char err[160];
    size_t err_pos;
    size_t *nl, nnl;             /* where an escape (\n, \u000a) put a line feed
                                    into the text: not a line of the file */
} jp;

static int fail(jp *p, size_t at, const char *msg)
{
    if (!p->err[0]) {
        snprintf(p->err, sizeof p->err, "%s", msg);
        p->err_pos = at;
    }
    return -1;
}

static int tok_grow(jp *p)
{
    nt_json *j = p->j;
    if (j->cap >= NT_JSON_MAX_TOKENS)
        return fail(p, p->pos, "more than 8388608 values");
    j->cap = j->cap ? j->cap * 2 : 1024;
    if (j->cap > NT_JSON_MAX_TOKENS)
        j->cap = NT_JSON_MAX_TOKENS;
    j->tok = mm_xrealloc(j->tok, j->cap * sizeof *j->tok);
    return 0;
}

static inline long tok_new(jp *p, uint8_t type)
{
    nt_json *j = p->j;
    if (j->ntok == j->cap && tok_grow(p))
        return -1;
    nt_jtok *t = &j->tok[j->ntok];
    t->type = type;
    t->next = 0;
    t->i = 0;
    return (long)j->ntok++;
}

/* The number of plain bytes at s (stops at the NUL after the text at the
 * latest, so a 16-byte load never passes the padding). */
static inline size_t plain_run(const unsigned char *s)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bsl = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x20);
    for (size_t n = 0;; n += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + n));
        /* signed compare: below 0x20 and 0x80..0xff (UTF-8, checked
           byte by byte) in one */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bsl)),
                                 _mm_cmplt_epi8(x, ctl));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return n + (size_t)__builtin_ctz(mask);
    }
#else
    /* 1 for the bytes a string holds as they are: printable ASCII but the
     * quote and the backslash */
    static const uint8_t plain[256] = {[0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1,
                                       [0x5d ... 0x7f] = 1};
    size_t n = 0;
    while (plain[s[n]])
        n++;
    return n;
#endif
}

/* The position of the first byte at or after pos that is not white space. */
static inline size_t ws_at(const char *text, size_t pos)
{
    const unsigned char *s = (const unsigned char *)text;
    if (s[pos] > ' ')
        return pos;                /* the common case: no white space */
    if (s[pos] == ' ' && s[pos + 1] > ' ')
        return pos + 1;            /* one space, as after ':' in written JSON */
#ifdef __SSE2__
    const __m128i sp = _mm_set1_epi8(' '), lf = _mm_set1_epi8('\n'), tab = _mm_set1_epi8('\t'),
                  cr = _mm_set1_epi8('\r');
    for (;; pos += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(s + pos));
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, sp), _mm_cmpeq_epi8(x, lf)),
                                 _mm_or_si128(_mm_cmpeq_epi8(x, tab), _mm_cmpeq_epi8(x, cr)));
        unsigned mask = ~(unsigned)_mm_movemask_epi8(m) & 0xffffu;
        if (mask)
            return pos + (size_t)__builtin_ctz(mask);
    }
#else
    while (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\n' || s[pos] == '\r')
        pos++;
    return pos;
#endif
}

static inline void ws(jp *p) { p->pos = ws_at(p->s, p->pos); }

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

/* An escape is about to write a line feed at d: remembered, so that an
 * error's line number counts only the file's own line feeds. */
static void line_feed(jp *p, const char *d)
{
    if (p->nnl % 64 == 0)
        p->nl = mm_xrealloc(p->nl, (p->nnl + 64) * sizeof *p->nl);
    p->nl[p->nnl++] = (size_t)(d - p->s);
}

/* at the opening quote; unescapes in place and NUL-terminates (the closing
   quote or an escape's spare bytes leave room) */
static __attribute__((noinline)) int string_slow(jp *p, uint32_t *off, uint32_t *slen)
{
    size_t start = ++p->pos, pos = start;
    const unsigned char *s = (const unsigned char *)p->s;
    char *d = p->s + start;
    while (1) {
        /* plain ASCII, moved only once an escape has shrunk the string */
        size_t n = plain_run(s + pos);
        if (n) {
            if (d != p->s + pos)
                memmove(d, s + pos, n);
            d += n;
            pos += n;
        }
        unsigned char c = s[pos];
        if (c == '"')
            break;
        p->pos = pos;
        if (pos >= p->len)
            return fail(p, pos, "premature end of input");
        if (c < 0x20)
            return fail(p, pos, "control character in string");
        if (c == '\\') {
            if (pos + 1 >= p->len)
                return fail(p, pos, "premature end of input");
            char e = (char)s[pos + 1];
            const char *m = strchr("\"\\/bfnrt", e);
            if (e && m) {
                if (e == 'n')
                    line_feed(p, d);
                *d++ = "\"\\/\b\f\n\r\t"[m - "\"\\/bfnrt"];
                pos += 2;
                continue;
            }
            unsigned cp, lo;
            if (e != 'u' || pos + 6 > p->len || hex4(p->s + pos + 2, &cp))
                return fail(p, pos, "invalid escape");
            pos += 6;
            p->pos = pos;
            if (cp >= 0xd800 && cp <= 0xdbff) {
                if (pos + 6 > p->len || s[pos] != '\\' || s[pos + 1] != 'u' ||
                    hex4(p->s + pos + 2, &lo) || lo < 0xdc00 || lo > 0xdfff)
                    return fail(p, pos, "invalid Unicode surrogate pair");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                pos += 6;
            } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                return fail(p, pos, "invalid Unicode surrogate");
            } else if (cp == 0) {
                return fail(p, pos, "\\u0000 is not allowed");
            } else if (cp == '\n') {
                line_feed(p, d);
            }
            d += put_utf8(d, cp);
            continue;
        }
        n = mm_utf8_seq(s + pos, p->len - pos);
        if (!n)
            return fail(p, pos, "invalid UTF-8");
        memmove(d, s + pos, n);
        d += n;
        pos += n;
    }
    *d = 0;
    p->pos = pos + 1; /* the closing quote */
    *off = (uint32_t)start;
    *slen = (uint32_t)(d - (p->s + start));
    return 0;
}

/* string_slow, for a string that holds no escape and no byte above 0x7f
   (keys, names, addresses) without the call */
static inline int string(jp *p, uint32_t *off, uint32_t *slen)
{
    size_t start = p->pos + 1, n = plain_run((const unsigned char *)p->s + start);
    if (p->s[start + n] != '"')
        return string_slow(p, off, slen);
    p->s[start + n] = 0;
    p->pos = start + n + 1;
    *off = (uint32_t)start;
    *slen = (uint32_t)n;
    return 0;
}

static __attribute__((noinline)) int number_slow(jp *p, long ti)
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

/* one of 64 bits for a key: its length and first and last bytes (a
   string's text is NUL-terminated, so s[0] is 0 for an empty key) */
static inline unsigned key_bit(const char *s, uint32_t len)
{
    unsigned a = (unsigned char)s[0], z = len ? (unsigned char)s[len - 1] : 0;
    return (len * 7u + a * 5u + z * 3u) & 63u;
}

/* Duplicate keys, as each key is read: for the first SMALL_OBJ keys of an
 * object, a key is compared only with the earlier ones whose bit of
 * *seen it shares. */
static int key_new(jp *p, long obj, uint32_t i, uint64_t *seen)
{
    const nt_json *j = p->j;
    const nt_jtok *t = &j->tok[j->ntok - 1];
    unsigned b = key_bit(p->s + t->off, t->len);
    if (*seen >> b & 1) {
        uint32_t k = (uint32_t)obj + 1;
        for (uint32_t m = 0; m < i; m++, k = j->tok[k + 1].next)
            if (key_eq(p, &j->tok[k], t))
                return fail(p, t->off, "duplicate object key");
    }
    *seen |= 1ull << b;
    return 0;
}

/* The keys after the first SMALL_OBJ of a big object: all in a map, once
 * the object is read. */
static int check_dups(jp *p, long obj)
{
    const nt_json *j = p->j;
    uint32_t n = j->tok[obj].n;
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

/* number_slow for the usual number, an integer of at most 18 digits (which
   cannot overflow), in one pass and without a call */
static inline int number(jp *p, long ti)
{
    const unsigned char *s = (const unsigned char *)p->s + p->pos;
    size_t neg = *s == '-', n = 0;
    const unsigned char *d = s + neg;
    if ((unsigned)(d[0] - '1') < 9u || (d[0] == '0' && (unsigned)(d[1] - '0') >= 10u)) {
        uint64_t v = 0;
        while ((unsigned)(d[n] - '0') < 10u && n < 19) {
            v = v * 10 + (unsigned)(d[n] - '0');
            n++;
        }
        unsigned char c = d[n];   /* the NUL after the text at the latest */
        if (n <= 18 && c != '.' && c != 'e' && c != 'E' && (unsigned)(c - '0') >= 10u) {
            nt_jtok *t = &p->j->tok[ti];
            t->type = NT_J_INT;
            t->i = neg ? -(int64_t)v : (int64_t)v;
            p->pos += neg + n;
            return 0;
        }
    }
    return number_slow(p, ti);
}

/* jansson's lexer drops one NUL byte right after a number or literal
   ("[2\0]" loads); the same here, so that both accept the same input */
static void skip_nul(jp *p)
{
    if (p->pos < p->len && p->s[p->pos] == 0)
        p->pos++;
}

/* a string, number or literal at p->pos (c): no recursion for those */
static inline int scalar(jp *p, char c)
{
    long ti;
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

static int container(jp *p, unsigned depth, bool obj);

/* any value at depth: white space first */
static inline int value(jp *p, unsigned depth)
{
    ws(p);
    if (p->pos >= p->len)
        return fail(p, p->pos, "premature end of input");
    char c = p->s[p->pos];
    if (depth >= MAX_DEPTH) /* as jansson: every value counts, scalars too */
        return fail(p, p->pos, "maximum parsing depth reached");
    if (c == '{' || c == '[')
        return container(p, depth, c == '{');
    return scalar(p, c);
}

/* an object or array at p->pos */
static int container(jp *p, unsigned depth, bool obj)
{
    long ti;
    if ((ti = tok_new(p, obj ? NT_J_OBJ : NT_J_ARR)) < 0)
        return -1;
    p->pos++;
    ws(p);
    uint32_t n = 0;
    uint64_t seen = 0;
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
                if (n < SMALL_OBJ && key_new(p, ti, n, &seen))
                    return -1;
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
    return obj && n > SMALL_OBJ ? check_dups(p, ti) : 0;
}

int nt_json_parse_buf(nt_json *j, const char *name, char *buf, size_t len)
{
    memset(j, 0, sizeof *j);
    j->text = buf;
    if (len > UINT32_MAX - 1) {
        nt_json_free(j);
        return mm_error_set(MM_ELIMIT, "%s: larger than 4 GiB", name);
    }
    /* a value takes a byte and a separator at least: (len + 1) / 2 tokens
       at most; pages beyond those used stay untouched */
    j->cap = len / 2 + 2;
    if (j->cap > NT_JSON_MAX_TOKENS)
        j->cap = NT_JSON_MAX_TOKENS;
    j->tok = mm_xmalloc(j->cap * sizeof *j->tok);
    jp p = {.s = buf, .len = len, .j = j};
    ws(&p);
    int rc;
    if (p.pos < len && p.s[p.pos] != '{' && p.s[p.pos] != '[')
        rc = fail(&p, p.pos, "'[' or '{' expected");
    else if (!(rc = value(&p, 0))) {
        ws(&p);
        if (p.pos < len)
            rc = fail(&p, p.pos, "end of file expected");
    }
    if (rc) {
        /* the file's line and column: its line feeds, not those an escape
           wrote into a string (the text keeps every other byte's place) */
        size_t line = 1, col = 1, k = 0;
        for (size_t i = 0; i < p.err_pos && i < len; i++) {
            bool esc = k < p.nnl && p.nl[k] == i;
            k += esc;
            if (buf[i] == '\n' && !esc)
                line++, col = 1;
            else
                col++;
        }
        rc = mm_error_set(MM_EFORMAT, "%s:%zu:%zu: %s", name, line, col, p.err);
        nt_json_free(j);
    }
    free(p.nl);
    return rc;
}

int nt_json_parse(nt_json *j, const char *name, const char *data, size_t len)
{
    if (len > UINT32_MAX - 1) {
        memset(j, 0, sizeof *j);
        return mm_error_set(MM_ELIMIT, "%s: larger than 4 GiB", name);
    }
    char *buf = mm_xmalloc(len + NT_JSON_PAD);
    memcpy(buf, data, len);
    memset(buf + len, 0, NT_JSON_PAD);
    return nt_json_parse_buf(j, name, buf, len);
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

/* text (a key of k->len bytes, in the padded text: 16 bytes can be read)
   is k, two 8-byte compares without a call */
static inline bool key_is(const char *text, const nt_jkey *k)
{
    uint64_t a, b, m = k->len >= 8 ? ~0ull : (1ull << (8 * k->len)) - 1;
    memcpy(&a, text, 8);
    memcpy(&b, k->s, 8);
    if ((a ^ b) & m)
        return false;
    if (k->len <= 8)
        return true;
    memcpy(&a, text + 8, 8);
    memcpy(&b, k->s + 8, 8);
    return !((a ^ b) & ((1ull << (8 * (k->len - 8))) - 1));
}

void nt_json_fields(const nt_json *j, long obj, const nt_jkey *keys, size_t nkeys, long *vals)
{
    for (size_t i = 0; i < nkeys; i++)
        vals[i] = -1;
    if (obj < 0 || j->tok[obj].type != NT_J_OBJ || !nkeys)
        return;
    size_t left = nkeys, w = 0;
    uint32_t k = (uint32_t)obj + 1;
    for (uint32_t i = 0; i < j->tok[obj].n && left; i++, k = j->tok[k + 1].next) {
        const nt_jtok *t = &j->tok[k];
        /* a file written by one program lists the keys in one order: the
           search starts after the last key found, so the usual key is
           the first one tried */
        for (size_t tries = 0; tries < nkeys; tries++, w = w + 1 == nkeys ? 0 : w + 1)
            if (keys[w].len == t->len && vals[w] < 0 && key_is(j->text + t->off, &keys[w])) {
                vals[w] = (long)k + 1;   /* keys are unique: one match at most */
                left--;
                w = w + 1 == nkeys ? 0 : w + 1;
                break;
            }
    }
}
