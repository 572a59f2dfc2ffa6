/*
 * owner.c - who an address, a socket and a flow belong to: the container
 * that owns an address (mm_net_addr_owner), the process behind a socket
 * (mm_net_note_socket, from /proc or the runtime sensor), the listening
 * sockets seen, and the public view of a flow (nt_flow_view) that the flow
 * log, the graph and the alerts are written from.  Split from engine.c,
 * which keeps the per-packet path.
 */
#include <stdio.h>
#include <string.h>

#include "net/net_int.h"

void nt_addrkey_make(nt_addrkey *k, uint64_t zone, const mm_ipaddr *a)
{
    memset(k, 0, sizeof *k);
    k->zone = zone;
    k->family = a->family;
    memcpy(k->ip, a->ip, a->family == AF_INET ? 4 : 16);
}

void mm_net_addr_owner(mm_net *n, uint64_t zone, const mm_ipaddr *addr,
                       const mm_container *c)
{
    if (!c || !addr->family)
        return;
    nt_addrkey k;
    nt_addrkey_make(&k, zone, addr);
    uint32_t h = nt_tab_hash(&n->owners, &k, sizeof k);
    uint32_t *v = NT_TAB_GET(&n->owners, &k, h);
    if (v) {
        mm_container_unref(n->owner_ct[*v]);
        n->owner_ct[*v] = mm_container_ref((mm_container *)c);
        return;
    }
    if (n->nowner_ct >= 65536)
        return;
    n->owner_ct = mm_xrealloc(n->owner_ct, (n->nowner_ct + 1) * sizeof *n->owner_ct);
    n->owner_ct[n->nowner_ct] = mm_container_ref((mm_container *)c);
    nt_tab_put(&n->owners, &k, h, (uint32_t)n->nowner_ct++);
}

static void sockkey(nt_sockkey *k, uint64_t zone, uint8_t proto,
                    const mm_ipaddr *l, uint16_t lport, const mm_ipaddr *r, uint16_t rport)
{
    memset(k, 0, sizeof *k);
    k->zone = zone;
    k->proto = proto;
    k->family = l ? l->family : 0;
    k->lport = lport;
    k->rport = rport;
    if (l)
        memcpy(k->l, l->ip, l->family == AF_INET ? 4 : 16);
    if (r && r->family)
        memcpy(k->r, r->ip, r->family == AF_INET ? 4 : 16);
}

void mm_net_note_socket(mm_net *n, uint64_t zone, uint8_t proto,
                        const mm_ipaddr *laddr, uint16_t lport,
                        const mm_ipaddr *raddr, uint16_t rport,
                        int64_t pid, const char *comm)
{
    if (!laddr || !laddr->family || n->nsock >= (1u << 20))
        return;
    /* a dual-stack socket's IPv4 peers are v4-mapped (::ffff:a.b.c.d) */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    mm_ipaddr l4, r4;
    if (laddr->family == AF_INET6 && !memcmp(laddr->ip, mapped, 12)) {
        l4.family = AF_INET;
        memset(l4.ip, 0, sizeof l4.ip);
        memcpy(l4.ip, laddr->ip + 12, 4);
        laddr = &l4;
        if (raddr && raddr->family == AF_INET6 && !memcmp(raddr->ip, mapped, 12)) {
            r4.family = AF_INET;
            memset(r4.ip, 0, sizeof r4.ip);
            memcpy(r4.ip, raddr->ip + 12, 4);
            raddr = &r4;
        }
    }
    nt_sockkey k;
    sockkey(&k, zone, proto, laddr, lport, raddr, rport);
    uint32_t h = nt_tab_hash(&n->socks, &k, sizeof k);
    uint32_t *v = NT_TAB_GET(&n->socks, &k, h);
    uint32_t idx;
    if (v)
        idx = *v;
    else {
        if (n->nsock % 256 == 0)
            n->sockv = mm_xrealloc(n->sockv, (n->nsock + 256) * sizeof *n->sockv);
        idx = (uint32_t)n->nsock++;
        nt_tab_put(&n->socks, &k, h, idx);
    }
    n->sockv[idx].pid = pid;
    snprintf(n->sockv[idx].comm, sizeof n->sockv[idx].comm, "%s", comm ? comm : "");
}


/* ---- who an address is ----------------------------------------------------- */

const mm_container *nt_owner(const mm_net *n, uint64_t zone, const mm_ipaddr *a)
{
    if (!n->owners.count)
        return NULL;             /* no container addresses known (a file read) */
    nt_addrkey k;
    for (int pass = 0; pass < 2; pass++) {
        nt_addrkey_make(&k, pass ? 0 : zone, a);
        uint32_t *v = NT_TAB_GET(&n->owners, &k, nt_tab_hash(&n->owners, &k, sizeof k));
        if (v)
            return n->owner_ct[*v];
        if (!zone)
            break;
    }
    return NULL;
}

static const struct nt_sock *sock_find(const mm_net *n, uint64_t zone, uint8_t proto,
                                       const mm_ipaddr *l, uint16_t lport,
                                       const mm_ipaddr *r, uint16_t rport)
{
    nt_sockkey k;             /* called only when sockets are known (nsock) */
    mm_ipaddr any = {.family = l->family}, any6 = {.family = AF_INET6};
    /* listening/unconnected on the address, on any address, or (IPv4) on
     * a dual-stack IPv6 socket bound to any */
    const mm_ipaddr *ls[3] = {l, &any, &any6};
    int nls = l->family == AF_INET ? 3 : 2;
    for (int z = 0; z < 2; z++) {
        uint64_t zz = z ? 0 : zone;
        sockkey(&k, zz, proto, l, lport, r, rport);
        uint32_t *v = NT_TAB_GET(&n->socks, &k, nt_tab_hash(&n->socks, &k, sizeof k));
        if (v)
            return &n->sockv[*v];
        for (int i = 0; i < nls; i++) {   /* listening / unconnected */
            sockkey(&k, zz, proto, ls[i], lport, NULL, 0);
            v = NT_TAB_GET(&n->socks, &k, nt_tab_hash(&n->socks, &k, sizeof k));
            if (v)
                return &n->sockv[*v];
        }
        if (!zone)
            break;
    }
    return NULL;
}

/* The node id of an endpoint: a container's pod ("ns/pod") or name, else
 * the address.  Written into buf. */
const char *nt_node_id(const mm_net *n, const mm_container *c, const mm_ipaddr *a,
                       char *buf, size_t len)
{
    if (c && c->k8s_pod_name && c->k8s_ns_name)
        snprintf(buf, len, "%s/%s", c->k8s_ns_name, c->k8s_pod_name);
    else if (c)
        snprintf(buf, len, "%s", c->name ? c->name : c->id);
    else
        mm_net_addr_str(a, buf, len);
    (void)n;
    return buf;
}

void nt_flow_ends(const nt_flow *f, const mm_ipaddr **cli, const mm_ipaddr **srv,
                      mm_ipaddr *a, mm_ipaddr *b, uint16_t *cport, uint16_t *sport)
{
    a->family = b->family = f->key.family;
    memcpy(a->ip, f->key.ip_lo, 16);
    memcpy(b->ip, f->key.ip_hi, 16);
    if (f->cli_lo) {
        *cli = a; *srv = b;
        *cport = f->key.port_lo; *sport = f->key.port_hi;
    } else {
        *cli = b; *srv = a;
        *cport = f->key.port_hi; *sport = f->key.port_lo;
    }
}

static const char *flow_state(const nt_flow *f)
{
    if (f->rst)
        return f->est ? "reset" : "refused";
    if (f->refused)
        return "refused";
    if (f->fin[0] || f->fin[1])
        return "closed";
    if (f->est || f->pkts[1])
        return "established";
    return f->pkts[0] > 0 && f->last - f->first > 0 ? "unanswered" : "new";
}

void nt_flow_view(mm_net *n, const nt_flow *f, mm_net_flow *v)
{
    memset(v, 0, sizeof *v);
    const mm_ipaddr *cli, *srv;
    nt_flow_ends(f, &cli, &srv, &n->va, &n->vb, &v->cport, &v->sport);
    v->cli = *cli;
    v->srv = *srv;
    v->id = f->id;
    v->proto = f->key.proto;
    v->vlan = f->key.vlan;
    memcpy(v->pkts, f->pkts, sizeof v->pkts);
    memcpy(v->bytes, f->bytes, sizeof v->bytes);
    memcpy(v->tcp_flags, f->flags, sizeof v->tcp_flags);
    v->first_ns = f->first;
    v->last_ns = f->last;
    v->state = flow_state(f);
    const nt_source *s = &n->src[f->source];
    v->source = s->label;
    v->sni = f->sni;
    v->http_host = f->host;
    v->srv_name = f->sni ? f->sni : f->host ? f->host : nt_names_get(n->names, s->zone, srv);
    v->cli_owner.container = nt_owner(n, s->zone, cli);
    v->srv_owner.container = nt_owner(n, s->zone, srv);
    if (n->nsock && (f->key.proto == IPPROTO_TCP || f->key.proto == IPPROTO_UDP)) {
        const struct nt_sock *k = sock_find(n, s->zone, f->key.proto, cli, v->cport, srv, v->sport);
        if (k) {
            v->cli_owner.pid = k->pid;
            v->cli_owner.comm = k->comm;
        }
        k = sock_find(n, s->zone, f->key.proto, srv, v->sport, cli, v->cport);
        if (k) {
            v->srv_owner.pid = k->pid;
            v->srv_owner.comm = k->comm;
        }
    }
    /* a capture inside a container's namespace: its side is the container */
    if (s->container && !v->cli_owner.container && !v->srv_owner.container) {
        if (v->cli_owner.pid || !v->srv_owner.pid)
            v->cli_owner.container = s->container;
        else
            v->srv_owner.container = s->container;
    }
}

bool nt_listening(const mm_net *n, uint64_t zone, uint8_t proto,
                  const mm_ipaddr *a, uint16_t port)
{
    nt_sockkey k;
    sockkey(&k, zone, proto, a, port, NULL, 0);
    return NT_TAB_GET(&n->listen_seen, &k, nt_tab_hash(&n->listen_seen, &k, sizeof k)) != NULL;
}
