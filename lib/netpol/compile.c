/*
 * compile.c - a segmentation policy as nftables text, and the line diff
 * that `mamori net enforce --dry-run` prints.  The text is written the way
 * `nft -t list table` prints the table once applied (tabs, sorted and
 * merged set elements, single elements without braces, blank lines between
 * blocks), so that the diff between the live table and a new compile shows
 * only what would really change, and an unchanged policy shows nothing.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netpol_int.h"
#include "util/util.h"

char *mm_netpol_table(const mm_netpol *p, size_t idx, mm_netpol_where where)
{
    if (!p || idx >= p->n)
        return NULL;
    if (where == MM_NETPOL_NETNS)
        return mm_xstrdup("mamori");
    char *t = mm_xasprintf("mamori_%s", p->p[idx].name);
    for (char *c = t; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '_'))
            *c = '_';
    return t;
}

static int cidr_cmp(const void *a, const void *b)
{
    const np_cidr *x = a, *y = b;
    int c = memcmp(x->a.ip, y->a.ip, 16);
    if (c)
        return c;
    return (int)x->plen - (int)y->plen;
}

static bool cidr_contains(const np_cidr *outer, const np_cidr *in)
{
    if (outer->plen > in->plen)
        return false;
    size_t full = outer->plen / 8, rest = outer->plen % 8;
    if (memcmp(outer->a.ip, in->a.ip, full))
        return false;
    if (rest) {
        uint8_t m = (uint8_t)(0xff << (8 - rest));
        if ((outer->a.ip[full] & m) != (in->a.ip[full] & m))
            return false;
    }
    return true;
}

/* Appends the set literal of one family ("10.0.0.1", "{ a, b/16 }");
 * false when the family has no element.  Sorted, duplicates and covered
 * prefixes dropped (nft would refuse overlapping intervals). */
static bool addr_set(mm_buf *b, const np_cidr *all, size_t n, int family)
{
    np_cidr *v = mm_xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i].a.family == family)
            v[k++] = all[i];
    qsort(v, k, sizeof *v, cidr_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && cidr_contains(&v[m - 1], &v[i]))
            continue;
        /* a later, shorter prefix can cover earlier ones: drop those */
        while (m && cidr_contains(&v[i], &v[m - 1]))
            m--;
        v[m++] = v[i];
    }
    if (m == 0) {
        free(v);
        return false;
    }
    unsigned full = family == AF_INET ? 32 : 128;
    if (m > 1)
        mm_buf_adds(b, "{ ");
    for (size_t i = 0; i < m; i++) {
        char s[64];
        inet_ntop(family, v[i].a.ip, s, sizeof s);
        if (i)
            mm_buf_adds(b, ", ");
        mm_buf_adds(b, s);
        if (v[i].plen != full)
            mm_buf_printf(b, "/%u", v[i].plen);
    }
    if (m > 1)
        mm_buf_adds(b, " }");
    free(v);
    return true;
}

static int port_cmp(const void *a, const void *b)
{
    const np_port *x = a, *y = b;
    return x->lo != y->lo ? (int)x->lo - (int)y->lo : (int)x->hi - (int)y->hi;
}

/* "80", "{ 80, 443, 8000-8080 }" for one protocol; false when none. */
static bool port_set(mm_buf *b, const np_port *all, size_t n, uint8_t proto)
{
    np_port *v = mm_xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (all[i].proto == proto)
            v[k++] = all[i];
    qsort(v, k, sizeof *v, port_cmp);
    size_t m = 0;
    for (size_t i = 0; i < k; i++) {
        if (m && (uint32_t)v[i].lo <= (uint32_t)v[m - 1].hi + 1) {  /* overlap / adjacent */
            if (v[i].hi > v[m - 1].hi)
                v[m - 1].hi = v[i].hi;
            continue;
        }
        v[m++] = v[i];
    }
    if (m == 0) {
        free(v);
        return false;
    }
    bool braces = m > 1 || v[0].lo != v[0].hi;
    if (m == 1 && v[0].lo != v[0].hi)
        braces = false;                  /* a lone range prints bare: 8000-8080 */
    if (braces)
        mm_buf_adds(b, "{ ");
    for (size_t i = 0; i < m; i++) {
        if (i)
            mm_buf_adds(b, ", ");
        if (v[i].lo == v[i].hi)
            mm_buf_printf(b, "%u", v[i].lo);
        else
            mm_buf_printf(b, "%u-%u", v[i].lo, v[i].hi);
    }
    if (braces)
        mm_buf_adds(b, " }");
    free(v);
    return true;
}

typedef struct cctx {
    const mm_netpol_compile_opts *o;
    mm_buf *b;
} cctx;

/* The address selectors of a rule: "ip saddr X", "ip6 saddr Y",
 * "ip daddr @eg0_v4"... (at most four); n = 0 when the rule names no peer. */
static int selectors(cctx *c, const np_rule *r, size_t ridx, bool egress,
                     char *sel[4], int fam[4], size_t *n)
{
    *n = 0;
    np_cidr *all = mm_xcalloc(r->ncidrs + 1, sizeof *all);
    size_t na = r->ncidrs;
    if (r->ncidrs)
        memcpy(all, r->cidrs, r->ncidrs * sizeof *all);
    for (size_t i = 0; i < r->npeers; i++) {
        const mm_ipaddr *addrs = NULL;
        size_t k = c->o->resolve ? c->o->resolve(c->o->ud, r->peers[i], &addrs) : 0;
        if (k == 0 || !addrs) {
            free(all);
            return mm_error_set(MM_ENOTFOUND,
                                "peer '%s': no running container of that name has an address",
                                r->peers[i]);
        }
        all = mm_xrealloc(all, (na + k) * sizeof *all);
        for (size_t j = 0; j < k; j++) {
            if (addrs[j].family != AF_INET && addrs[j].family != AF_INET6)
                continue;
            memset(&all[na], 0, sizeof all[na]);
            all[na].a = addrs[j];
            all[na].plen = addrs[j].family == AF_INET ? 32 : 128;
            na++;
        }
    }
    const char *dir = egress ? "daddr" : "saddr";
    for (int f = 0; f < 2; f++) {
        int family = f ? AF_INET6 : AF_INET;
        mm_buf s = MM_BUF_INIT;
        mm_buf_printf(&s, "%s %s ", f ? "ip6" : "ip", dir);
        if (addr_set(&s, all, na, family)) {
            fam[*n] = family;
            sel[(*n)++] = mm_buf_detach(&s);
        } else {
            mm_buf_free(&s);
        }
    }
    if (r->nnames) {
        for (int f = 0; f < 2; f++) {
            fam[*n] = f ? AF_INET6 : AF_INET;
            sel[(*n)++] = mm_xasprintf("%s %s @eg%zu_%s", f ? "ip6" : "ip", dir, ridx,
                                       f ? "v6" : "v4");
        }
    }
    free(all);
    return 0;
}

static void rule_lines(cctx *c, const np_rule *r, char *const sel[], const int fam[],
                       size_t nsel)
{
    size_t loops = nsel ? nsel : 1;
    for (size_t s = 0; s < loops; s++) {
        const char *pre = nsel ? sel[s] : NULL;
        int family = nsel ? fam[s] : 0;
        if (!r->nports) {
            mm_buf_printf(c->b, "\t\t%s accept\n", pre);
            continue;
        }
        static const uint8_t protos[] = {6, 17};
        for (size_t p = 0; p < 2; p++) {
            mm_buf ports = MM_BUF_INIT;
            if (port_set(&ports, r->ports, r->nports, protos[p]))
                mm_buf_printf(c->b, "\t\t%s%s%s dport %s accept\n", pre ? pre : "",
                              pre ? " " : "", protos[p] == 6 ? "tcp" : "udp", ports.data);
            mm_buf_free(&ports);
        }
        bool icmp = false;
        for (size_t i = 0; i < r->nports; i++)
            icmp |= r->ports[i].proto == 1;
        if (icmp) {
            if (family != AF_INET6)
                mm_buf_printf(c->b, "\t\t%s%smeta l4proto icmp accept\n", pre ? pre : "",
                              pre ? " " : "");
            if (family != AF_INET)
                mm_buf_printf(c->b, "\t\t%s%smeta l4proto ipv6-icmp accept\n",
                              pre ? pre : "", pre ? " " : "");
        }
    }
}

static int chain_rules(cctx *c, const np_policy *p, bool egress)
{
    const np_rule *rules = egress ? p->out : p->in;
    size_t n = egress ? p->nout : p->nin;
    for (size_t r = 0; r < n; r++) {
        char *sel[4] = {0};
        int fam[4] = {0};
        size_t nsel = 0;
        int rc = selectors(c, &rules[r], r, egress, sel, fam, &nsel);
        if (rc)
            return mm_error_wrap(rc, "policy %s: %s[%zu]", p->name,
                                 egress ? "egress" : "ingress", r);
        rule_lines(c, &rules[r], sel, fam, nsel);
        for (size_t i = 0; i < nsel; i++)
            free(sel[i]);
    }
    return 0;
}

static void log_line(cctx *c, const np_policy *p, bool egress)
{
    if (!p->allow && p->log)
        mm_buf_printf(c->b, "\t\tlog prefix \"mamori:%s:%s \" group %u\n", p->name,
                      egress ? "out" : "in", c->o->nflog_group ? c->o->nflog_group : 100);
}

static void name_sets(cctx *c, const np_policy *p)
{
    for (size_t r = 0; r < p->nout; r++) {
        if (!p->out[r].nnames)
            continue;
        for (int f = 0; f < 2; f++)
            mm_buf_printf(c->b, "\tset eg%zu_%s {\n\t\ttype %s\n\t\tflags timeout\n\t}\n\n",
                          r, f ? "v6" : "v4", f ? "ipv6_addr" : "ipv4_addr");
    }
}

static int compile_netns(cctx *c, const np_policy *p)
{
    const char *pol = p->allow ? "accept" : "drop";
    name_sets(c, p);
    mm_buf_printf(c->b, "\tchain input {\n"
                  "\t\ttype filter hook input priority filter; policy %s;\n"
                  "\t\tct state established,related accept\n"
                  "\t\tiif \"lo\" accept\n"
                  "\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, "
                  "nd-neighbor-advert } accept\n", pol);
    int rc = chain_rules(c, p, false);
    if (rc)
        return rc;
    log_line(c, p, false);
    mm_buf_printf(c->b, "\t}\n\n\tchain output {\n"
                  "\t\ttype filter hook output priority filter; policy %s;\n"
                  "\t\tct state established,related accept\n"
                  "\t\toif \"lo\" accept\n"
                  "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, "
                  "nd-neighbor-advert } accept\n", pol);
    if ((rc = chain_rules(c, p, true)))
        return rc;
    log_line(c, p, true);
    mm_buf_adds(c->b, "\t}\n");
    return 0;
}

static int compile_host(cctx *c, const np_policy *p)
{
    const mm_netpol_compile_opts *o = c->o;
    if (!o->naddrs)
        return mm_error_set(MM_EINVAL, "policy %s: on the host the workload's addresses "
                            "are needed", p->name);
    np_cidr *own = mm_xcalloc(o->naddrs, sizeof *own);
    for (size_t i = 0; i < o->naddrs; i++) {
        own[i].a = o->addrs[i];
        own[i].plen = o->addrs[i].family == AF_INET ? 32 : 128;
    }
    name_sets(c, p);
    int rc = 0;
    for (int egress = 0; egress < 2 && !rc; egress++) {
        mm_buf_printf(c->b, "\tchain %s {\n\t\tct state established,related accept\n",
                      egress ? "egress" : "ingress");
        if ((rc = chain_rules(c, p, egress)))
            break;
        log_line(c, p, egress);
        if (!p->allow)
            mm_buf_adds(c->b, "\t\tdrop\n");
        mm_buf_adds(c->b, "\t}\n\n");
    }
    if (!rc) {
        mm_buf_adds(c->b, "\tchain forward {\n"
                    "\t\ttype filter hook forward priority filter; policy accept;\n");
        for (int egress = 0; egress < 2; egress++)
            for (int f = 0; f < 2; f++) {
                mm_buf s = MM_BUF_INIT;
                if (addr_set(&s, own, o->naddrs, f ? AF_INET6 : AF_INET))
                    mm_buf_printf(c->b, "\t\t%s %s %s jump %s\n", f ? "ip6" : "ip",
                                  egress ? "saddr" : "daddr", s.data,
                                  egress ? "egress" : "ingress");
                mm_buf_free(&s);
            }
        mm_buf_adds(c->b, "\t}\n");
    }
    free(own);
    return rc;
}

int mm_netpol_compile(char **ruleset, const mm_netpol *p, size_t idx,
                      const mm_netpol_compile_opts *o)
{
    *ruleset = NULL;
    mm_netpol_compile_opts def = {0};
    if (!o)
        o = &def;
    if (!p || idx >= p->n)
        return mm_error_set(MM_EINVAL, "no policy %zu", idx);
    mm_buf b = MM_BUF_INIT;
    cctx c = {.o = o, .b = &b};
    char *table = o->table ? mm_xstrdup(o->table) : mm_netpol_table(p, idx, o->where);
    mm_buf_printf(&b, "table inet %s {\n", table);
    free(table);
    int rc = o->where == MM_NETPOL_HOST ? compile_host(&c, &p->p[idx])
                                        : compile_netns(&c, &p->p[idx]);
    if (rc) {
        mm_buf_free(&b);
        return rc;
    }
    mm_buf_adds(&b, "}\n");
    *ruleset = mm_buf_detach(&b);
    return 0;
}

char *mm_netpol_offender_table(const char *table, uint16_t port)
{
    return mm_xasprintf("table inet %s\ndelete table inet %s\n"
                        "table inet %s {\n"
                        "\tset offenders_v4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n\n"
                        "\tset offenders_v6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n\n"
                        "\tchain input {\n"
                        "\t\ttype filter hook input priority filter; policy accept;\n"
                        "\t\tip saddr @offenders_v4 tcp dport %u drop\n"
                        "\t\tip6 saddr @offenders_v6 tcp dport %u drop\n"
                        "\t}\n"
                        "}\n", table, table, table, port, port);
}

/* ---- line diff ------------------------------------------------------------------ */

static char **split_lines(const char *s, size_t *n)
{
    char **v = NULL;
    *n = 0;
    if (!s)
        return NULL;
    mm_lines it;
    const char *line;
    size_t len;
    mm_lines_init(&it, s, strlen(s));
    while (mm_lines_next(&it, &line, &len)) {
        char *l = mm_xstrndup(line, len);
        mm_strv_push(&v, n, l);
        free(l);
    }
    return v;
}

char *mm_netpol_diff(const char *old_text, const char *new_text,
                     const char *old_label, const char *new_label)
{
    size_t na, nb;
    char **a = split_lines(old_text, &na), **b = split_lines(new_text, &nb);
    mm_buf out = MM_BUF_INIT;
    bool same = na == nb;
    for (size_t i = 0; same && i < na; i++)
        same = !strcmp(a[i], b[i]);
    if (same)
        goto done;
    mm_buf_printf(&out, "--- %s\n+++ %s\n", old_label ? old_label : "current",
                  new_label ? new_label : "new");
    /* LCS table over what is between the common head and tail */
    size_t head = 0, tail = 0;
    while (head < na && head < nb && !strcmp(a[head], b[head]))
        head++;
    while (tail < na - head && tail < nb - head &&
           !strcmp(a[na - 1 - tail], b[nb - 1 - tail]))
        tail++;
    size_t n = na - head - tail, m = nb - head - tail;
    for (size_t i = 0; i < head; i++)
        mm_buf_printf(&out, " %s\n", a[i]);
    if (n * m <= 16u * 1024 * 1024 && n && m) {
        uint32_t *L = mm_xcalloc((n + 1) * (m + 1), sizeof *L);
#define AT(i, j) L[(i) * (m + 1) + (j)]
        for (size_t i = n; i-- > 0;)
            for (size_t j = m; j-- > 0;)
                AT(i, j) = !strcmp(a[head + i], b[head + j]) ? AT(i + 1, j + 1) + 1
                           : (AT(i + 1, j) >= AT(i, j + 1) ? AT(i + 1, j) : AT(i, j + 1));
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && !strcmp(a[head + i], b[head + j])) {
                mm_buf_printf(&out, " %s\n", a[head + i]);
                i++, j++;
            } else if (j < m && (i == n || AT(i, j + 1) >= AT(i + 1, j))) {
                mm_buf_printf(&out, "+%s\n", b[head + j++]);
            } else {
                mm_buf_printf(&out, "-%s\n", a[head + i++]);
            }
        }
#undef AT
        free(L);
    } else {
        for (size_t i = 0; i < n; i++)
            mm_buf_printf(&out, "-%s\n", a[head + i]);
        for (size_t j = 0; j < m; j++)
            mm_buf_printf(&out, "+%s\n", b[head + j]);
    }
    for (size_t i = na - tail; i < na; i++)
        mm_buf_printf(&out, " %s\n", a[i]);
done:
    mm_strv_free(a, na);
    mm_strv_free(b, nb);
    return mm_buf_detach(&out);
}
