/*
 * blocklist.c - lists of addresses, networks and domains that must not be
 * talked to, in the formats threat feeds ship: plain lists (and hosts
 * files), CSV with a header, and STIX 2.1 indicators whose patterns are
 * equality comparisons (mamori/net.h says exactly which).  Lookups are per
 * new flow, DNS name and TLS/HTTP name, so they are hash probes: addresses
 * by prefix length (one table per length present), domains by each of
 * their suffixes.  A watch reloads the files when they change and keeps the
 * old list when a new version does not load.  Fuzzed by
 * tests/fuzz/fuzz_net_blocklist.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "net/net_int.h"

#define MAX_FILE (64u << 20)
#define MAX_ENTRIES (4u << 20)

typedef struct pfx_key {
    uint8_t family, len, pad[2];
    uint8_t ip[16];
} pfx_key;

struct mm_net_blocklist {
    nt_tab pfx;                  /* pfx_key -> reason index */
    bool lens4[33], lens6[129];
    uint8_t order4[33], order6[129]; /* the lengths present, longest first */
    unsigned n4, n6;
    mm_map *domains;             /* name -> reason index + 1 */
    uint64_t tbits[1024];        /* a bit per listed domain's last label: a name
                                  * can only match when its own is one */
    uint64_t tlens;              /* a bit per listed domain's last label length
                                  * (63: 63 or more), tested before any hashing */
    uint64_t dbits[1024];        /* a bit per listed domain's sfx_hash: most names
                                  * looked up (every DNS answer, SNI, Host) are
                                  * not listed, and one pass over the name tells */
    uint64_t top16[2][1024];     /* [v4, v6] a bit per value of an address's first
                                  * 16 bits that a listed prefix covers: most
                                  * flows' addresses are in no listed /16 and
                                  * are judged by one bit, not a probe per
                                  * prefix length */
    char **why;
    size_t nwhy;
    size_t count, skipped;
    char *skip_reason;
};

int mm_net_blocklist_new(mm_net_blocklist **out)
{
    mm_net_blocklist *b = mm_xcalloc(1, sizeof *b);
    nt_tab_init(&b->pfx, sizeof(pfx_key));
    b->domains = mm_map_new();
    *out = b;
    return 0;
}

void mm_net_blocklist_free(mm_net_blocklist *b)
{
    if (!b)
        return;
    nt_tab_free(&b->pfx);
    mm_map_free(b->domains, NULL);
    mm_strv_free(b->why, b->nwhy);
    free(b->skip_reason);
    free(b);
}

size_t mm_net_blocklist_count(const mm_net_blocklist *b) { return b->count; }

size_t mm_net_blocklist_skipped(const mm_net_blocklist *b, const char **why)
{
    if (why)
        *why = b->skip_reason;
    return b->skipped;
}

static void skip(mm_net_blocklist *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void skip(mm_net_blocklist *b, const char *fmt, ...)
{
    b->skipped++;
    if (b->skip_reason)
        return;
    va_list ap;
    va_start(ap, fmt);
    b->skip_reason = mm_xvasprintf(fmt, ap);
    va_end(ap);
}

static void mask(uint8_t *ip, unsigned bits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned keep = bits >= 8 ? 8 : bits;
        ip[i] &= (uint8_t)(0xff00u >> keep);
        bits -= keep;
    }
}

static uint32_t reason(mm_net_blocklist *b, const char *why)
{
    if (b->nwhy && !strcmp(b->why[b->nwhy - 1], why))
        return (uint32_t)(b->nwhy - 1);
    mm_strv_push(&b->why, &b->nwhy, why);
    return (uint32_t)(b->nwhy - 1);
}

static bool add_prefix(mm_net_blocklist *b, const mm_ipaddr *a, unsigned len, const char *why)
{
    pfx_key k;
    memset(&k, 0, sizeof k);
    k.family = a->family;
    k.len = (uint8_t)len;
    size_t n = a->family == AF_INET ? 4 : 16;
    memcpy(k.ip, a->ip, n);
    mask(k.ip, len, n);
    uint32_t h = nt_tab_hash(&b->pfx, &k, sizeof k);
    if (nt_tab_get(&b->pfx, &k, h))
        return true;
    nt_tab_put(&b->pfx, &k, h, reason(b, why));
    uint64_t *top = b->top16[a->family == AF_INET ? 0 : 1];
    unsigned first = (unsigned)k.ip[0] << 8 | k.ip[1];
    unsigned span = len >= 16 ? 1u : 1u << (16 - len);   /* k.ip is masked */
    for (unsigned v = first; v < first + span; v++)
        top[v >> 6] |= 1ull << (v & 63);
    bool *lens = a->family == AF_INET ? b->lens4 : b->lens6;
    if (!lens[len]) {
        lens[len] = true;
        uint8_t *ord = a->family == AF_INET ? b->order4 : b->order6;
        unsigned *no = a->family == AF_INET ? &b->n4 : &b->n6, i = *no;
        for (; i > 0 && ord[i - 1] < len; i--)
            ord[i] = ord[i - 1];
        ord[i] = (uint8_t)len;
        (*no)++;
    }
    b->count++;
    return true;
}

/* The hash of s[0..n) taken from its end, so one backward pass over a name
 * gives the hash of each of its suffixes. */
#define SFX_SEED 0xcbf29ce484222325ull
#define SFX_STEP(h, ch) (((h) ^ (unsigned char)(ch)) * 0x100000001b3ull)
#define DBIT(h) ((h) >> 48 & 0xffff)

static void add_domain(mm_net_blocklist *b, const char *name, const char *why)
{
    char low[256];
    size_t n = strlen(name);
    while (n && name[n - 1] == '.')
        n--;
    if (n >= sizeof low)
        return;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)tolower((unsigned char)name[i]);
    low[n] = 0;
    const char *p = low;
    if (!strncmp(p, "*.", 2))    /* wildcards: the domain and all below */
        p += 2;
    if (mm_map_get(b->domains, p))
        return;
    uint64_t h = SFX_SEED, th = SFX_SEED;
    bool last = true;
    for (size_t i = strlen(p); i-- > 0;) {
        h = SFX_STEP(h, p[i]);
        if (last && (i == 0 || p[i - 1] == '.')) {
            th = h;              /* the last label's hash */
            last = false;
            size_t tl = strlen(p) - i;
            b->tlens |= 1ull << (tl < 63 ? tl : 63);
        }
    }
    b->tbits[DBIT(th) >> 6] |= 1ull << (DBIT(th) & 63);
    b->dbits[DBIT(h) >> 6] |= 1ull << (DBIT(h) & 63);
    mm_map_put(b->domains, p, (void *)(uintptr_t)(reason(b, why) + 1));
    b->count++;
}

int mm_net_addr_parse(mm_ipaddr *out, const char *s)
{
    memset(out, 0, sizeof *out);
    if (strchr(s, ':')) {
        if (inet_pton(AF_INET6, s, out->ip) == 1) {
            out->family = AF_INET6;
            return 0;
        }
    } else if (inet_pton(AF_INET, s, out->ip) == 1) {
        out->family = AF_INET;
        return 0;
    }
    return mm_error_set(MM_EFORMAT, "\"%s\" is not an IP address", s);
}

const char *mm_net_addr_str(const mm_ipaddr *a, char *buf, size_t n)
{
    if (!a || (a->family != AF_INET && a->family != AF_INET6) ||
        !inet_ntop(a->family, a->ip, buf, (socklen_t)n))
        snprintf(buf, n, "?");
    return buf;
}

/* One indicator value: IP, CIDR, URL or domain.  false when it is none. */
static bool add_value(mm_net_blocklist *b, const char *v, const char *why)
{
    char tmp[512];
    size_t n = strlen(v);
    if (!n || n >= sizeof tmp)
        return false;
    memcpy(tmp, v, n + 1);
    char *s = mm_str_trim(tmp);
    /* defanged indicators: hxxp, [.] */
    for (char *p; (p = strstr(s, "[.]"));)
        memmove(p + 1, p + 3, strlen(p + 3) + 1), *p = '.';
    char *scheme = strstr(s, "://");
    if (scheme) {                /* a URL: its host */
        s = scheme + 3;
        char *at = strpbrk(s, "/?#");
        if (at)
            *at = 0;
        char *cred = strrchr(s, '@');
        if (cred)
            s = cred + 1;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e)
                return false;
            *e = 0;
            s++;
        } else {
            char *c = strrchr(s, ':');
            if (c)
                *c = 0;
        }
    }
    mm_ipaddr a;
    char *slash = strchr(s, '/');
    if (slash) {
        *slash = 0;
        char *e;
        long len = strtol(slash + 1, &e, 10);
        if (*e || slash[1] == 0 || mm_net_addr_parse(&a, s))
            return false;
        if (len < 0 || len > (a.family == AF_INET ? 32 : 128))
            return false;
        return add_prefix(b, &a, (unsigned)len, why);
    }
    if (mm_net_addr_parse(&a, s) == 0)
        return add_prefix(b, &a, a.family == AF_INET ? 32 : 128, why);
    mm_error_clear();
    if (!nt_name_ok(s, strlen(s)) || !strchr(s, '.') || strspn(s, "0123456789.") == strlen(s))
        return false;
    add_domain(b, s, why);
    return true;
}

const char *mm_net_blocklist_match_ip(const mm_net_blocklist *b, const mm_ipaddr *a)
{
    if (!b || !b->pfx.count || (a->family != AF_INET && a->family != AF_INET6))
        return NULL;
    bool v4 = a->family == AF_INET;
    unsigned first = (unsigned)a->ip[0] << 8 | a->ip[1];
    if (!(b->top16[v4 ? 0 : 1][first >> 6] >> (first & 63) & 1))
        return NULL;
    size_t n = v4 ? 4 : 16;
    const uint8_t *ord = v4 ? b->order4 : b->order6;
    unsigned no = v4 ? b->n4 : b->n6;
    pfx_key k;
    for (unsigned i = 0; i < no; i++) {
        unsigned l = ord[i];
        memset(&k, 0, sizeof k);
        k.family = a->family;
        k.len = (uint8_t)l;
        memcpy(k.ip, a->ip, n);
        mask(k.ip, (unsigned)l, n);
        uint32_t *v = nt_tab_get(&b->pfx, &k, nt_tab_hash(&b->pfx, &k, sizeof k));
        if (v)
            return b->why[*v];
    }
    return NULL;
}

static inline char fold(unsigned char c)
{
    return (char)(c >= 'A' && c <= 'Z' ? c + 32 : c < 0x80 ? c : tolower(c)); /* ASCII without a locale call */
}

const char *mm_net_blocklist_match_domain(const mm_net_blocklist *b, const char *name)
{
    if (!b || !name || !mm_map_count(b->domains))
        return NULL;
    size_t n = strlen(name);
    while (n && name[n - 1] == '.')
        n--;
    if (n >= 256)
        return NULL;
    const char *dot = memrchr(name, '.', n);
    size_t tl = dot ? n - (size_t)(dot + 1 - name) : n;   /* the last label's length */
    if (!(b->tlens >> (tl < 63 ? tl : 63) & 1))
        return NULL;
    /* the suffixes (the name, then after each dot) whose hash bit is set,
     * found from the end on the lowercased bytes; then looked up longest
     * first (most names have none and are never copied) */
    size_t cand[256], nc = 0;    /* n < 256 */
    uint64_t h = SFX_SEED;
    size_t i = n;
    while (i-- > 0) {            /* the last label first: most names stop here */
        h = SFX_STEP(h, fold((unsigned char)name[i]));
        if (i == 0 || name[i - 1] == '.')
            break;
    }
    if (!n || !(b->tbits[DBIT(h) >> 6] >> (DBIT(h) & 63) & 1))
        return NULL;
    if (b->dbits[DBIT(h) >> 6] >> (DBIT(h) & 63) & 1)
        cand[nc++] = i;
    while (i-- > 0) {
        h = SFX_STEP(h, fold((unsigned char)name[i]));
        if ((i == 0 || name[i - 1] == '.') && (b->dbits[DBIT(h) >> 6] >> (DBIT(h) & 63) & 1))
            cand[nc++] = i;
    }
    if (!nc)
        return NULL;
    char low[256];
    for (size_t k = 0; k < n; k++)
        low[k] = fold((unsigned char)name[k]);
    low[n] = 0;
    while (nc) {
        uintptr_t v = (uintptr_t)mm_map_get(b->domains, low + cand[--nc]);
        if (v)
            return b->why[v - 1];
    }
    return NULL;
}

/* ---- plain lists and CSV -------------------------------------------------------------- */

static size_t csv_split(char *line, char **f, size_t max)
{
    size_t n = 0;
    char *p = line;
    while (n < max) {
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            start = out = p;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else
                    *out++ = *p++;
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                p++;
            out = p;
        }
        char end = *p;
        *out = 0;
        f[n++] = mm_str_trim(start);
        if (!end)
            break;
        p++;
    }
    return n;
}

static int load_csv(mm_net_blocklist *b, const char *name, const char *data, size_t len)
{
    mm_lines it;
    mm_lines_init(&it, data, len);
    const char *line;
    size_t ll;
    int col = -1, dcol = -1;
    bool header = true;
    char *buf = NULL;
    while (mm_lines_next(&it, &line, &ll)) {
        if (b->count >= MAX_ENTRIES)
            return mm_error_set(MM_ELIMIT, "%s: more than %u entries", name, MAX_ENTRIES);
        buf = mm_xrealloc(buf, ll + 1);
        memcpy(buf, line, ll);
        buf[ll] = 0;
        char *t = mm_str_trim(buf);
        if (!*t || *t == '#')
            continue;
        char *f[64];
        size_t nf = csv_split(t, f, 64);
        if (header) {
            header = false;
            static const char *const names[] = {"indicator", "ioc", "value", "ip", "ip_address",
                "ipaddress", "dst_ip", "cidr", "network", "domain", "hostname", "host", "url",
                "dst", "destination", "address"};
            for (size_t i = 0; i < nf && col < 0; i++)
                for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
                    if (!strcasecmp(f[i], names[k])) {
                        col = (int)i;
                        break;
                    }
            for (size_t i = 0; i < nf; i++)
                if (!strcasecmp(f[i], "description") || !strcasecmp(f[i], "comment") ||
                    !strcasecmp(f[i], "threat") || !strcasecmp(f[i], "malware") ||
                    !strcasecmp(f[i], "tags") || !strcasecmp(f[i], "reason"))
                    dcol = (int)i;
            if (col >= 0)
                continue;
            col = 0;             /* no header: the first column */
        }
        if ((size_t)col >= nf) {
            skip(b, "%s:%zu: no column %d", name, it.lineno, col + 1);
            continue;
        }
        char *why = dcol >= 0 && (size_t)dcol < nf && *f[dcol]
            ? mm_xasprintf("%s (%s:%zu)", f[dcol], name, it.lineno)
            : mm_xasprintf("%s:%zu", name, it.lineno);
        if (!add_value(b, f[col], why))
            skip(b, "%s:%zu: \"%.64s\" is not an IP, CIDR, domain or URL", name, it.lineno, f[col]);
        free(why);
    }
    free(buf);
    return 0;
}

static int load_plain(mm_net_blocklist *b, const char *name, const char *data, size_t len)
{
    mm_lines it;
    mm_lines_init(&it, data, len);
    const char *line;
    size_t ll;
    char *buf = NULL;
    while (mm_lines_next(&it, &line, &ll)) {
        if (b->count >= MAX_ENTRIES) {
            free(buf);
            return mm_error_set(MM_ELIMIT, "%s: more than %u entries", name, MAX_ENTRIES);
        }
        buf = mm_xrealloc(buf, ll + 1);
        memcpy(buf, line, ll);
        buf[ll] = 0;
        char *h = strpbrk(buf, "#;");
        if (h)
            *h = 0;
        char *t = mm_str_trim(buf);
        if (!*t)
            continue;
        char *tok[3];
        size_t nt = 0;
        for (char *sp, *w = strtok_r(t, " \t", &sp); w && nt < 3; w = strtok_r(NULL, " \t", &sp))
            tok[nt++] = w;
        if (!nt)
            continue;
        const char *v = tok[0];
        if (nt >= 2 && (!strcmp(tok[0], "0.0.0.0") || !strcmp(tok[0], "127.0.0.1") ||
                        !strcmp(tok[0], "::") || !strcmp(tok[0], "::1")))
            v = tok[1];          /* hosts file */
        if (nt >= 2 && !strcmp(v, "localhost"))
            continue;
        char why[512];
        snprintf(why, sizeof why, "%s:%zu", name, it.lineno);
        if (!add_value(b, v, why))
            skip(b, "%s:%zu: \"%.64s\" is not an IP, CIDR, domain or URL", name, it.lineno, v);
    }
    free(buf);
    return 0;
}

/* ---- STIX 2.1 ---------------------------------------------------------------------- */

/* Parses an indicator pattern made of `[path = 'value' OR ...]` terms.
 * Returns the number of values added, or -1 with *why set when the pattern
 * uses anything but OR-ed equality on supported paths. */
static int stix_pattern(mm_net_blocklist *b, const char *pat, const char *reason,
                        const char **why)
{
    static const char *const paths[] = {"ipv4-addr:value", "ipv6-addr:value",
                                        "domain-name:value", "url:value"};
    char vals[32][256];
    int nv = 0;
    const char *p = pat;
    bool want_term = true;
    while (*p) {
        if (isspace((unsigned char)*p) || *p == '[' || *p == ']' || *p == '(' || *p == ')') {
            p++;
            continue;
        }
        if (!want_term) {
            if (!strncasecmp(p, "OR", 2) && (isspace((unsigned char)p[2]) || p[2] == '[' || p[2] == '(')) {
                p += 2;
                want_term = true;
                continue;
            }
            *why = "only OR-ed equality comparisons are supported";
            return -1;
        }
        const char *ps = p;
        while (*p && !isspace((unsigned char)*p) && *p != '=' && *p != '!' && *p != '<' && *p != '>')
            p++;
        size_t pl = (size_t)(p - ps);
        bool ok = false;
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            if (pl == strlen(paths[i]) && !strncmp(ps, paths[i], pl))
                ok = true;
        if (!ok) {
            *why = "unsupported object path (ipv4-addr, ipv6-addr, domain-name, url :value only)";
            return -1;
        }
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=' || p[1] == '=') {
            *why = "only the = operator is supported";
            return -1;
        }
        p++;
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '\'') {
            *why = "a comparison value is not a quoted string";
            return -1;
        }
        p++;
        char v[256];
        size_t n = 0;
        while (*p && *p != '\'') {
            if (*p == '\\' && (p[1] == '\'' || p[1] == '\\'))
                p++;
            if (n + 1 < sizeof v)
                v[n++] = *p;
            p++;
        }
        if (*p != '\'') {
            *why = "unterminated string";
            return -1;
        }
        p++;
        v[n] = 0;
        if (nv >= 32) {
            *why = "more than 32 comparisons";
            return -1;
        }
        memcpy(vals[nv++], v, n + 1);
        want_term = false;
    }
    if (!nv || want_term) {
        *why = "empty or incomplete pattern";
        return -1;
    }
    int added = 0;
    for (int i = 0; i < nv; i++)
        added += add_value(b, vals[i], reason);
    if (!added)
        *why = "no usable value";
    return added ? added : -1;
}

static void stix_indicator(mm_net_blocklist *b, const char *name, json_t *o, size_t idx)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    if (!type || strcmp(type, "indicator"))
        return;
    const char *id = json_string_value(json_object_get(o, "id"));
    if (json_is_true(json_object_get(o, "revoked")))
        return;
    const char *vu = json_string_value(json_object_get(o, "valid_until"));
    int64_t t;
    if (vu && mm_time_parse_rfc3339(vu, &t) == 0 && t < (int64_t)time(NULL))
        return;
    mm_error_clear();
    const char *pt = json_string_value(json_object_get(o, "pattern_type"));
    if (pt && strcmp(pt, "stix")) {
        skip(b, "%s: objects[%zu] (%s): pattern_type %s is not stix", name, idx, id ? id : "?", pt);
        return;
    }
    const char *pat = json_string_value(json_object_get(o, "pattern"));
    if (!pat) {
        skip(b, "%s: objects[%zu] (%s): no pattern", name, idx, id ? id : "?");
        return;
    }
    const char *label = json_string_value(json_object_get(o, "name"));
    char *reason = mm_xasprintf("%s%s%s (%s)", label ? label : "", label ? " " : "",
                                id ? id : "indicator", name);
    const char *why = NULL;
    if (stix_pattern(b, pat, reason, &why) < 0)
        skip(b, "%s: objects[%zu] (%s): %s", name, idx, id ? id : "?", why);
    free(reason);
}

static int load_stix(mm_net_blocklist *b, const char *name, const char *data, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    if (!root)
        return mm_error_set(MM_EFORMAT, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    json_t *objs = json_is_array(root) ? root : json_object_get(root, "objects");
    if (json_is_object(root) && !objs) {
        stix_indicator(b, name, root, 0);
    } else if (!json_is_array(objs)) {
        json_decref(root);
        return mm_error_set(MM_EFORMAT, "%s: \"objects\" is not an array (not a STIX bundle)", name);
    } else {
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o) {
            if (b->count >= MAX_ENTRIES) {
                json_decref(root);
                return mm_error_set(MM_ELIMIT, "%s: more than %u entries", name, MAX_ENTRIES);
            }
            if (json_is_object(o))
                stix_indicator(b, name, o, i);
        }
    }
    json_decref(root);
    return 0;
}

int mm_net_blocklist_add_string(mm_net_blocklist *b, const char *name, const char *data,
                                size_t len)
{
    size_t i = 0;
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3))
        i = 3;
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    if (i < len && (data[i] == '{' || data[i] == '['))
        return load_stix(b, name, data + i, len - i);
    /* CSV when the first meaningful line has a comma */
    const char *first = data + i;
    while (first < data + len && *first == '#') {
        const char *nl = memchr(first, '\n', (size_t)(data + len - first));
        if (!nl)
            break;
        first = nl + 1;
    }
    size_t rest = first < data + len ? (size_t)(data + len - first) : 0;
    const char *nl = memchr(first, '\n', rest);
    size_t fl = nl ? (size_t)(nl - first) : rest;
    if (memchr(first, ',', fl))
        return load_csv(b, name, data, len);
    return load_plain(b, name, data, len);
}

int mm_net_blocklist_add_file(mm_net_blocklist *b, const char *path)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, MAX_FILE, &data, &len);
    if (rc)
        return mm_error_wrap(rc, "blocklist: ");
    rc = mm_net_blocklist_add_string(b, path, data, len);
    free(data);
    return rc;
}

/* ---- reloading ------------------------------------------------------------------------- */

struct mm_net_blocklist_watch {
    char **paths;
    size_t n;
    struct stat *st;
    mm_net_blocklist *cur;
};

static int load_all(mm_net_blocklist_watch *w, mm_net_blocklist **out)
{
    mm_net_blocklist *b;
    mm_net_blocklist_new(&b);
    for (size_t i = 0; i < w->n; i++) {
        int rc = mm_net_blocklist_add_file(b, w->paths[i]);
        if (rc) {
            mm_net_blocklist_free(b);
            return rc;
        }
    }
    *out = b;
    return 0;
}

int mm_net_blocklist_watch_new(mm_net_blocklist_watch **out, const char *const *paths, size_t n)
{
    *out = NULL;
    mm_net_blocklist_watch *w = mm_xcalloc(1, sizeof *w);
    w->st = mm_xcalloc(n ? n : 1, sizeof *w->st);
    for (size_t i = 0; i < n; i++) {
        mm_strv_push(&w->paths, &w->n, paths[i]);
        stat(paths[i], &w->st[i]);
    }
    int rc = load_all(w, &w->cur);
    if (rc) {
        mm_net_blocklist_watch_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int mm_net_blocklist_watch_check(mm_net_blocklist_watch *w, bool *changed)
{
    *changed = false;
    bool diff = false;
    struct stat now[64];
    for (size_t i = 0; i < w->n && i < 64; i++) {
        memset(&now[i], 0, sizeof now[i]);
        stat(w->paths[i], &now[i]);
        if (now[i].st_ino != w->st[i].st_ino || now[i].st_size != w->st[i].st_size ||
            now[i].st_mtim.tv_sec != w->st[i].st_mtim.tv_sec ||
            now[i].st_mtim.tv_nsec != w->st[i].st_mtim.tv_nsec)
            diff = true;
    }
    if (!diff)
        return 0;
    for (size_t i = 0; i < w->n && i < 64; i++)
        w->st[i] = now[i];
    mm_net_blocklist *b;
    int rc = load_all(w, &b);
    if (rc)
        return rc;
    mm_net_blocklist_free(w->cur);
    w->cur = b;
    *changed = true;
    return 0;
}

const mm_net_blocklist *mm_net_blocklist_watch_get(const mm_net_blocklist_watch *w)
{
    return w->cur;
}

void mm_net_blocklist_watch_free(mm_net_blocklist_watch *w)
{
    if (!w)
        return;
    mm_strv_free(w->paths, w->n);
    free(w->st);
    mm_net_blocklist_free(w->cur);
    free(w);
}
