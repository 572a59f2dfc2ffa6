/*
 * fuzz_net_app.c - libFuzzer target for the network sensor's application
 * layer beyond what fuzz_net_packet reaches through packets: the DNS, TLS
 * SNI and HTTP Host parsers on the raw input, held to what they promise
 * (names lower case, bounded, of allowed bytes only); the blocklist's
 * filters (a bit per listed /16, the last label's length and hash) against
 * a plain search over the same entries, on entries and queries made from
 * the input; and the shared name table (counted names, two generations)
 * against a model of what each address and holder must still read.  Any
 * disagreement aborts.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/net.h"
#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ---- parsers ---------------------------------------------------------------------- */

static void name_check(const char *s, bool host)
{
    size_t n = strlen(s);
    if (n > 253 || (host && !nt_name_ok(s, n)))
        abort();
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || c < 0x21 || c > 0x7e)
            abort();
    }
}

static void dns_cb(void *ud, const nt_dns_rr *rr, bool resp)
{
    (void)ud;
    (void)resp;
    name_check(rr->name, false);
    if (rr->target)
        name_check(rr->target, false);
}

/* ---- a byte reader ------------------------------------------------------------------- */

typedef struct rd {
    const uint8_t *d;
    size_t n, off;
} rd;

static unsigned take(rd *r)
{
    return r->off < r->n ? r->d[r->off++] : 0;
}

/* A name over a small alphabet (so entries and queries meet): labels of
 * 'a', 'b', 'A', '-', some empty, joined by dots. */
static void make_name(rd *r, char *out, size_t max)
{
    static const char abc[] = "abAb-a.";
    size_t len = 1 + take(r) % 24, n = 0;
    for (size_t i = 0; i < len && n + 1 < max; i++)
        out[n++] = abc[take(r) % 7];
    out[n] = 0;
}

/* ---- blocklist against a plain search --------------------------------------------------- */

typedef struct ent {
    bool dom;
    char name[64];               /* as matched: lower case, no trailing dots, no "*." */
    mm_ipaddr a;
    unsigned len;
} ent;

static bool ref_domain(const ent *e, size_t ne, const char *q)
{
    char low[256];
    size_t n = strlen(q);
    while (n && q[n - 1] == '.')
        n--;
    if (n >= sizeof low)
        return false;
    for (size_t i = 0; i < n; i++)
        low[i] = (char)(q[i] >= 'A' && q[i] <= 'Z' ? q[i] + 32 : q[i]);
    low[n] = 0;
    for (size_t i = 0; i < n; i++) {
        if (i && low[i - 1] != '.')
            continue;
        for (size_t k = 0; k < ne; k++)
            if (e[k].dom && !strcmp(e[k].name, low + i))
                return true;
    }
    return false;
}

static bool ref_ip(const ent *e, size_t ne, const mm_ipaddr *a)
{
    for (size_t k = 0; k < ne; k++) {
        if (e[k].dom || e[k].a.family != a->family)
            continue;
        unsigned bits = e[k].len, i = 0;
        for (; bits >= 8; bits -= 8, i++)
            if (e[k].a.ip[i] != a->ip[i])
                break;
        if (bits >= 8)
            continue;
        uint8_t m = (uint8_t)(0xff00u >> bits);
        if (!bits || ((e[k].a.ip[i] ^ a->ip[i]) & m) == 0)
            return true;
    }
    return false;
}

static void blocklist_check(rd *r)
{
    ent e[16];
    size_t ne = 0;
    char text[4096];
    size_t tl = 0;
    unsigned count = take(r) % 16;
    for (unsigned k = 0; k < count; k++) {
        ent *x = &e[ne];
        memset(x, 0, sizeof *x);
        char line[128];
        if (take(r) & 1) {       /* a domain, maybe a wildcard */
            char nm[48];
            make_name(r, nm, sizeof nm);
            bool wild = take(r) & 1;
            snprintf(line, sizeof line, "%s%s", wild ? "*." : "", nm);
            /* what the loader keeps: no trailing dots, lower case, no "*." */
            char t[64];
            size_t n = strlen(line);
            while (n && line[n - 1] == '.')
                n--;
            for (size_t i = 0; i < n; i++)
                t[i] = (char)(line[i] >= 'A' && line[i] <= 'Z' ? line[i] + 32 : line[i]);
            t[n] = 0;
            /* the loader's rules: a plain name with a dot, not only digits */
            if (!nt_name_ok(line, strlen(line)) || !strchr(line, '.') ||
                strspn(line, "0123456789.") == strlen(line))
                continue;
            x->dom = true;
            snprintf(x->name, sizeof x->name, "%s", strncmp(t, "*.", 2) ? t : t + 2);
        } else {
            bool v6 = take(r) & 1;
            x->a.family = v6 ? AF_INET6 : AF_INET;
            for (int i = 0; i < (v6 ? 16 : 4); i++)
                x->a.ip[i] = (uint8_t)take(r);
            x->len = take(r) % (v6 ? 129 : 33);
            char as[64];
            inet_ntop(x->a.family, x->a.ip, as, sizeof as);
            snprintf(line, sizeof line, "%s/%u", as, x->len);
        }
        size_t ll = strlen(line);
        if (tl + ll + 2 > sizeof text)
            break;
        memcpy(text + tl, line, ll);
        tl += ll;
        text[tl++] = '\n';
        ne++;
    }
    mm_net_blocklist *b;
    mm_net_blocklist_new(&b);
    mm_net_blocklist_add_string(b, "fuzz", text, tl);
    /* queries: names over the same alphabet, and addresses near the entries */
    for (int q = 0; q < 16 && r->off < r->n; q++) {
        char nm[64];
        make_name(r, nm, sizeof nm);
        if ((mm_net_blocklist_match_domain(b, nm) != NULL) != ref_domain(e, ne, nm))
            abort();
        mm_ipaddr a = {.family = take(r) & 1 ? AF_INET6 : AF_INET};
        size_t k = ne ? take(r) % ne : 0;
        if (ne && !e[k].dom)
            a = e[k].a;
        unsigned flip = take(r);
        a.ip[flip / 8 % (a.family == AF_INET ? 4 : 16)] ^= (uint8_t)(1u << (flip % 8));
        if (take(r) & 1)
            a.ip[take(r) % 4] = (uint8_t)take(r);
        if ((mm_net_blocklist_match_ip(b, &a) != NULL) != ref_ip(e, ne, &a))
            abort();
    }
    mm_net_blocklist_free(b);
}

/* ---- the name table against a model ------------------------------------------------------ */

static void names_check(rd *r)
{
    nt_names *t = nt_names_new(8);
    char last[12][64] = {{0}};   /* the name each address was last given */
    const char *held[32];
    char heldv[32][64];
    size_t nh = 0;
    for (int op = 0; op < 200 && r->off < r->n; op++) {
        unsigned c = take(r);
        unsigned k = take(r) % 12;
        mm_ipaddr a = {.family = AF_INET, .ip = {10, 0, 0, (uint8_t)k}};
        char nm[64];
        snprintf(nm, sizeof nm, "n%u.example", take(r) % 20);
        switch (c % 4) {
        case 0:
            nt_names_set(t, 0, &a, nm);
            snprintf(last[k], sizeof last[k], "%s", nm);
            break;
        case 1:
            if (nh < 32) {
                held[nh] = nt_names_hold(t, nm);
                snprintf(heldv[nh++], 64, "%s", nm);
            }
            break;
        case 2:
            if (nh) {
                size_t i = take(r) % nh;
                nt_names_drop(t, held[i]);
                held[i] = held[nh - 1];
                memcpy(heldv[i], heldv[nh - 1], 64);
                nh--;
            }
            break;
        default: {
            /* the newest name, or none once its generation went */
            const char *g = nt_names_get(t, 0, &a);
            if (g && strcmp(g, last[k]))
                abort();
            break;
        }
        }
        for (size_t i = 0; i < nh; i++)
            if (strcmp(held[i], heldv[i]))
                abort();
    }
    while (nh)
        nt_names_drop(t, held[--nh]);
    nt_names_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char name[256];
    nt_dns_parse(data, size, dns_cb, NULL);
    if (nt_tls_sni(data, size, name, sizeof name) == 1)
        name_check(name, true);
    if (nt_http_host(data, size, name, sizeof name) == 1)
        name_check(name, true);
    rd r = {.d = data, .n = size};
    if (size && data[0] & 1)
        blocklist_check(&r);
    else
        names_check(&r);
    return 0;
}
