/*
 * topo.c - the observed service graph: nodes (containers, pods, addresses)
 * with their addresses, DNS/SNI names, processes and listening ports, and
 * edges (client -> server on proto/port) with flow, packet and byte counts
 * and first/last times.  This file holds the graph and its lookups: each
 * finished flow is counted into its edge (nt_topo_flow_edge finds it from
 * the flow's addresses in one lookup after the first flow of a pair), and
 * a loaded baseline is asked whether a flow is known (nt_topo_has_flow, by
 * address, before any id string is built).  Server names are also
 * indexed, so that a baseline edge to "api.example.com" matches a flow to
 * whatever address the name resolves to today.  topo_io.c writes the graph
 * (JSON, docs/net.md: the schema; Graphviz) and loads a saved one back.
 * Node ids and edge names live in string tables (topo_int.h): hashed once,
 * then compared by pointer or number.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/topo_int.h"

typedef struct edge_key_t {     /* 16 bytes: looked up inline (NT_TAB_GET) */
    uint32_t cli, srv;
    uint16_t port;
    uint8_t proto, pad;
    uint32_t pad2;
} edge_key_t;

/* a flow's edge: zone, both addresses, proto and port (48 bytes) */
typedef struct flow_key_t {
    uint64_t zone;
    uint8_t family, proto;
    uint16_t port;
    uint32_t pad;
    uint8_t cli[16], srv[16];
} flow_key_t;

/* an IPv4 pair of a loaded graph's edge (network order) */
typedef struct pair_key_t {
    uint32_t cli, srv;
    uint16_t port;
    uint8_t proto, pad[5];
} pair_key_t;

/* ---- string table ---------------------------------------------------------------- */

static inline uint32_t str_hash(const nt_strtab *st, const char *s, size_t len)
{
    return nt_hash(s, len, st->seed);
}

void nt_strtab_free(nt_strtab *st)
{
    for (size_t i = 0; i < st->n; i++)
        free(st->str[i]);
    free(st->str);
    free(st->len);
    free(st->hash);
    free(st->slot);
    memset(st, 0, sizeof *st);
}

static long find_h(const nt_strtab *st, const char *s, size_t len, uint32_t h, size_t *at)
{
    if (!st->nslot) {
        *at = 0;
        return -1;
    }
    size_t m = st->nslot - 1;
    for (size_t j = h & m;; j = (j + 1) & m) {
        uint32_t v = st->slot[j];
        if (!v) {
            *at = j;
            return -1;
        }
        v--;
        if (st->hash[v] == h && st->len[v] == len && !memcmp(st->str[v], s, len))
            return (long)v;
    }
}

long nt_strtab_find(const nt_strtab *st, const char *s, size_t len)
{
    size_t at;
    return find_h(st, s, len, str_hash(st, s, len), &at);
}

uint32_t nt_strtab_add(nt_strtab *st, const char *s, size_t len, bool *added)
{
    uint32_t h = str_hash(st, s, len);
    size_t at;
    long v = find_h(st, s, len, h, &at);
    *added = v < 0;
    if (v >= 0)
        return (uint32_t)v;
    if ((st->n + 1) * 2 > st->nslot) {   /* at most half full */
        size_t ns = st->nslot ? st->nslot * 2 : 64;
        free(st->slot);
        st->slot = mm_xcalloc(ns, sizeof *st->slot);
        st->nslot = ns;
        for (size_t i = 0; i < st->n; i++) {
            size_t j = st->hash[i] & (ns - 1);
            while (st->slot[j])
                j = (j + 1) & (ns - 1);
            st->slot[j] = (uint32_t)i + 1;
        }
        find_h(st, s, len, h, &at);
    }
    if (st->n == st->cap) {
        st->cap = st->cap ? st->cap * 2 : 64;
        st->str = mm_xrealloc(st->str, st->cap * sizeof *st->str);
        st->len = mm_xrealloc(st->len, st->cap * sizeof *st->len);
        st->hash = mm_xrealloc(st->hash, st->cap * sizeof *st->hash);
    }
    st->str[st->n] = mm_xstrndup(s, len);
    st->len[st->n] = (uint32_t)len;
    st->hash[st->n] = h;
    st->slot[at] = (uint32_t)st->n + 1;
    return (uint32_t)st->n++;
}

/* ---- the graph --------------------------------------------------------------------- */

int mm_net_topo_new(mm_net_topo **out)
{
    mm_net_topo *t = mm_xcalloc(1, sizeof *t);
    nt_tab_init(&t->alias_tab, sizeof(edge_key_t));
    nt_tab_init(&t->edge_tab, sizeof(edge_key_t));
    nt_tab_init(&t->addr_node, sizeof(nt_addrkey));
    nt_tab_init(&t->flow_edge, sizeof(flow_key_t));
    nt_tab_init(&t->pair4, sizeof(pair_key_t));
    t->ids.seed = nt_seed();
    t->names.seed = nt_seed();
    *out = t;
    return 0;
}

void mm_net_topo_free(mm_net_topo *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nnodes; i++) {
        nt_tnode *x = &t->nodes[i];
        free(x->kind); free(x->ct_id); free(x->ct_name);
        free(x->ct_image); free(x->pod); free(x->ns);
        mm_strv_free(x->addrs, x->naddrs);
        mm_strv_free(x->names, x->nnames);
        mm_strv_free(x->procs, x->nprocs);
        mm_strv_free(x->listen, x->nlisten);
        free(x->v4);
    }
    for (size_t i = 0; i < t->nedges; i++)
        if (!t->edges[i].ncap)
            free(t->edges[i].names);
    for (void *c = t->pool, *next; c; c = next) {
        memcpy(&next, c, sizeof next);
        free(c);
    }
    nt_strtab_free(&t->ids);
    nt_strtab_free(&t->names);
    free(t->nodes);
    free(t->edges);
    nt_tab_free(&t->alias_tab);
    nt_tab_free(&t->edge_tab);
    nt_tab_free(&t->addr_node);
    nt_tab_free(&t->flow_edge);
    nt_tab_free(&t->pair4);
    free(t);
}

size_t mm_net_topo_node_count(const mm_net_topo *t) { return t->nnodes; }
size_t mm_net_topo_edge_count(const mm_net_topo *t) { return t->nedges; }

bool nt_topo_list_has(const char *const *v, size_t n, const char *s)
{
    if (n && !strcmp(v[n - 1], s))
        return true;             /* the common repeat */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

void nt_topo_list_add(char ***v, size_t *n, const char *s, size_t max)
{
    if (!s || !*s || *n >= max || nt_topo_list_has((const char *const *)*v, *n, s))
        return;
    mm_strv_push(v, n, s);
}

static long node_ix(const mm_net_topo *t, const char *id)
{
    return nt_strtab_find(&t->ids, id, strlen(id));
}

nt_tnode *nt_topo_node_get(mm_net_topo *t, const char *id, size_t len, bool create)
{
    if (!create) {
        long ix = nt_strtab_find(&t->ids, id, len);
        return ix >= 0 ? &t->nodes[ix] : NULL;
    }
    if (t->nnodes >= NT_TOPO_MAX_ITEMS) {
        long ix = nt_strtab_find(&t->ids, id, len);
        return ix >= 0 ? &t->nodes[ix] : NULL;
    }
    bool added;
    uint32_t ix = nt_strtab_add(&t->ids, id, len, &added);   /* numbered as the nodes */
    if (!added)
        return &t->nodes[ix];
    if (t->nnodes == t->cap_nodes) {
        t->cap_nodes = t->cap_nodes ? t->cap_nodes * 2 : 64;
        t->nodes = mm_xrealloc(t->nodes, t->cap_nodes * sizeof *t->nodes);
    }
    nt_tnode *x = &t->nodes[t->nnodes++];
    memset(x, 0, sizeof *x);
    x->id = t->ids.str[ix];
    return x;
}

static void node_fill(nt_tnode *x, const nt_node_info *ni)
{
    if (!x->kind)
        x->kind = mm_xstrdup(ni->kind);
    const mm_container *c = ni->container;
    if (c && !x->ct_id) {
        x->ct_id = mm_xstrdup(c->id);
        x->ct_name = mm_xstrdup(c->name);
        x->ct_image = mm_xstrdup(c->image);
        x->pod = mm_xstrdup(c->k8s_pod_name);
        x->ns = mm_xstrdup(c->k8s_ns_name);
    }
    if (ni->addr) {
        char a[64];
        nt_topo_list_add(&x->addrs, &x->naddrs, mm_net_addr_str(ni->addr, a, sizeof a),
                         NT_TOPO_MAX_LIST);
    }
    nt_topo_list_add(&x->names, &x->nnames, ni->name, NT_TOPO_MAX_LIST);
    nt_topo_list_add(&x->procs, &x->nprocs, ni->comm, NT_TOPO_MAX_LIST);
}

const char *nt_topo_pname(uint8_t p)
{
    return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp"
         : p == IPPROTO_ICMPV6 ? "icmp6" : "ip";
}

nt_tedge *nt_topo_edge_at(mm_net_topo *t, size_t ci, size_t si, uint8_t proto, uint16_t port,
                          bool create)
{
    edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)si, .port = port, .proto = proto};
    uint32_t h = nt_tab_hash(&t->edge_tab, &k, sizeof k);
    uint32_t *v = NT_TAB_GET(&t->edge_tab, &k, h);
    if (v)
        return &t->edges[*v];
    if (!create || t->nedges >= NT_TOPO_MAX_ITEMS)
        return NULL;
    if (t->nedges == t->cap_edges) {
        t->cap_edges = t->cap_edges ? t->cap_edges * 2 : 64;
        t->edges = mm_xrealloc(t->edges, t->cap_edges * sizeof *t->edges);
    }
    nt_tedge *e = &t->edges[t->nedges];
    memset(e, 0, sizeof *e);
    e->cli = (uint32_t)ci;
    e->srv = (uint32_t)si;
    e->proto = proto;
    e->port = port;
    t->pairs4 = false;           /* the pair index no longer says it all */
    nt_tab_put(&t->edge_tab, &k, h, (uint32_t)t->nedges++);
    return e;
}

void nt_topo_edge_alias(mm_net_topo *t, const nt_tedge *e, uint32_t nid)
{
    /* the name table numbers every edge name; only the first MAX_ITEMS
     * are indexed */
    if (nid >= NT_TOPO_MAX_ITEMS || t->alias_tab.count >= NT_TOPO_MAX_ITEMS)
        return;
    edge_key_t k = {.cli = e->cli, .srv = nid, .port = e->port, .proto = e->proto};
    uint32_t h = nt_tab_hash(&t->alias_tab, &k, sizeof k);
    if (!NT_TAB_GET(&t->alias_tab, &k, h))
        nt_tab_put(&t->alias_tab, &k, h, (uint32_t)(e - t->edges));
}

/* slots a chunk holds: under 1 KiB with its link, as a bigger request makes
   glibc's malloc consolidate its fast bins first, which in the middle of a
   capture (flows freed by the thousand) cost 300 instructions a chunk */
#define POOL_CHUNK 120

const char **nt_topo_pool_take(mm_net_topo *t, size_t n)
{
    /* a chunk: the link to the previous one, then POOL_CHUNK slots */
    if (t->pool_left < n) {
        void **c = mm_xmalloc((1 + POOL_CHUNK) * sizeof *c);
        c[0] = t->pool;
        t->pool = c;
        t->pool_left = POOL_CHUNK;
    }
    const char **v = (const char **)((void **)t->pool + 1 + (POOL_CHUNK - t->pool_left));
    t->pool_left -= n;
    return v;
}

void nt_topo_edge_name(mm_net_topo *t, nt_tedge *e, const char *name, size_t len)
{
    if (!len || e->nnames >= NT_TOPO_MAX_LIST)
        return;
    /* names are interned: one hash, then the edge's names compared by
     * pointer (a flow repeats a name its edge has, usually) */
    bool added;
    uint32_t nid = nt_strtab_add(&t->names, name, len, &added);
    const char *in = t->names.str[nid];
    for (size_t i = 0; i < e->nnames; i++)
        if (e->names[i] == in)
            return;
    if (e->ncap) {               /* names in the pool */
        if (e->nnames == e->ncap) {
            /* full: out into an allocation of its own */
            const char **v = mm_xmalloc(((e->nnames + 4) & ~(size_t)3) * sizeof *v);
            memcpy(v, e->names, e->nnames * sizeof *v);
            e->names = v;
            e->ncap = 0;
        }
    } else if (!e->names) {
        e->names = nt_topo_pool_take(t, 4);
        e->ncap = 4;
    } else if (e->nnames % 4 == 0) {
        e->names = mm_xrealloc(e->names, (e->nnames + 4) * sizeof *e->names);
    }
    e->names[e->nnames++] = in;
    if (t->aliases)
        nt_topo_edge_alias(t, e, nid);
}

bool nt_topo_addr_index(mm_net_topo *t, uint64_t zone, const mm_ipaddr *a, long ix)
{
    if (t->addr_node.count >= NT_TOPO_MAX_ITEMS)
        return false;
    nt_addrkey k;
    nt_addrkey_make(&k, zone, a);
    uint32_t h = nt_tab_hash(&t->addr_node, &k, sizeof k);
    if (NT_TAB_GET(&t->addr_node, &k, h))
        return false;
    nt_tab_put(&t->addr_node, &k, h, (uint32_t)ix);
    t->pairs4 = false;           /* the pair index no longer says it all */
    return true;
}

void nt_topo_index_pairs(mm_net_topo *t)
{
    /* each edge once per IPv4 address pair of its nodes: the same answer
     * as node_for twice and the edge lookup, for a third of the work */
    size_t n = 0;
    for (size_t i = 0; i < t->nedges; i++)
        n += t->nodes[t->edges[i].cli].nv4 * t->nodes[t->edges[i].srv].nv4;
    if (n > NT_TOPO_MAX_ITEMS)
        return;                  /* too many: the lookups by node */
    nt_tab_reserve(&t->pair4, n);
    for (size_t i = 0; i < t->nedges; i++) {
        const nt_tedge *e = &t->edges[i];
        const nt_tnode *c = &t->nodes[e->cli], *s = &t->nodes[e->srv];
        for (size_t a = 0; a < c->nv4; a++)
            for (size_t b = 0; b < s->nv4; b++) {
                pair_key_t k = {.cli = c->v4[a], .srv = s->v4[b], .port = e->port,
                                .proto = e->proto};
                uint32_t h = nt_tab_hash(&t->pair4, &k, sizeof k);
                if (!NT_TAB_GET(&t->pair4, &k, h))
                    nt_tab_put(&t->pair4, &k, h, (uint32_t)i);
            }
    }
    t->pairs4 = true;
}

long nt_topo_node_for(const mm_net_topo *t, uint64_t zone, const mm_ipaddr *a)
{
    nt_addrkey k;
    nt_addrkey_make(&k, zone, a);
    uint32_t *v = NT_TAB_GET(&t->addr_node, &k, nt_tab_hash(&t->addr_node, &k, sizeof k));
    return v ? (long)*v : -1;
}

long nt_topo_node_add(mm_net_topo *t, uint64_t zone, const nt_node_info *ni)
{
    nt_tnode *x = nt_topo_node_get(t, ni->id, strlen(ni->id), true);
    if (!x)
        return -1;
    node_fill(x, ni);
    long ix = (long)(x - t->nodes);
    if (ni->addr)
        nt_topo_addr_index(t, zone, ni->addr, ix);
    return ix;
}

void nt_topo_node_touch(mm_net_topo *t, long ix, const char *name, const char *comm)
{
    nt_tnode *x = &t->nodes[ix];
    nt_topo_list_add(&x->names, &x->nnames, name, NT_TOPO_MAX_LIST);
    nt_topo_list_add(&x->procs, &x->nprocs, comm, NT_TOPO_MAX_LIST);
}

bool nt_topo_has_edge_ix(const mm_net_topo *t, long ci, long si, uint8_t proto, uint16_t port)
{
    edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)si, .port = port, .proto = proto};
    return NT_TAB_GET(&t->edge_tab, &k, nt_tab_hash(&t->edge_tab, &k, sizeof k)) != NULL;
}

static void edge_count(mm_net_topo *t, nt_tedge *e, const mm_net_flow *f)
{
    e->flows++;
    e->pkts += f->pkts[0] + f->pkts[1];
    e->bytes += f->bytes[0] + f->bytes[1];
    if (!e->first || f->first_ns < e->first)
        e->first = f->first_ns;
    if (f->last_ns > e->last)
        e->last = f->last_ns;
    if (f->srv_name)
        nt_topo_edge_name(t, e, f->srv_name, strlen(f->srv_name));
}

static void flow_key(flow_key_t *k, uint64_t zone, const mm_ipaddr *c, const mm_ipaddr *s,
                     uint8_t proto, uint16_t port)
{
    memset(k, 0, sizeof *k);
    k->zone = zone;
    k->family = c->family;
    k->proto = proto;
    k->port = port;
    size_t n = c->family == AF_INET ? 4 : 16;   /* as nt_addrkey_make */
    memcpy(k->cli, c->ip, n);
    memcpy(k->srv, s->ip, n);
}

long nt_topo_flow_edge(mm_net_topo *t, uint64_t zone, const mm_net_flow *f, uint16_t port)
{
    if (f->cli.family != f->srv.family)
        return -1;
    flow_key_t k;
    flow_key(&k, zone, &f->cli, &f->srv, f->proto, port);
    uint32_t *v = NT_TAB_GET(&t->flow_edge, &k, nt_tab_hash(&t->flow_edge, &k, sizeof k));
    if (!v)
        return -1;
    nt_tedge *e = &t->edges[*v];
    if (f->cli_owner.comm && *f->cli_owner.comm)
        nt_topo_node_touch(t, e->cli, NULL, f->cli_owner.comm);
    if (f->srv_owner.comm && *f->srv_owner.comm)
        nt_topo_node_touch(t, e->srv, NULL, f->srv_owner.comm);
    edge_count(t, e, f);
    return *v;
}

void nt_topo_flow_edge_add(mm_net_topo *t, uint64_t zone, long ci, long si,
                           const mm_net_flow *f, uint16_t port)
{
    nt_tedge *e = nt_topo_edge_at(t, (size_t)ci, (size_t)si, f->proto, port, true);
    if (!e)
        return;
    edge_count(t, e, f);
    if (f->cli.family != f->srv.family || t->flow_edge.count >= NT_TOPO_MAX_ITEMS)
        return;
    /* remembered only while the addresses lead to these nodes for good:
     * below the cap, every address a node was found or made for is
     * indexed (and never moves) */
    if (t->addr_node.count >= NT_TOPO_MAX_ITEMS &&
        (nt_topo_node_for(t, zone, &f->cli) != ci || nt_topo_node_for(t, zone, &f->srv) != si))
        return;
    flow_key_t k;
    flow_key(&k, zone, &f->cli, &f->srv, f->proto, port);
    uint32_t h = nt_tab_hash(&t->flow_edge, &k, sizeof k);
    if (!NT_TAB_GET(&t->flow_edge, &k, h))
        nt_tab_put(&t->flow_edge, &k, h, (uint32_t)(e - t->edges));
}

bool nt_topo_has_flow(const mm_net_topo *t, const mm_ipaddr *c, const mm_ipaddr *s,
                      uint8_t proto, uint16_t port)
{
    if (t->pairs4 && c->family == AF_INET && s->family == AF_INET) {
        pair_key_t k = {.port = port, .proto = proto};
        memcpy(&k.cli, c->ip, 4);
        memcpy(&k.srv, s->ip, 4);
        return NT_TAB_GET(&t->pair4, &k, nt_tab_hash(&t->pair4, &k, sizeof k)) != NULL;
    }
    long ci = nt_topo_node_for(t, 0, c);
    if (ci < 0)
        return false;
    long si = nt_topo_node_for(t, 0, s);
    return si >= 0 && nt_topo_has_edge_ix(t, ci, si, proto, port);
}

void nt_topo_listen(mm_net_topo *t, const nt_node_info *node, uint8_t proto, uint16_t port)
{
    nt_tnode *x = nt_topo_node_get(t, node->id, strlen(node->id), true);
    if (!x)
        return;
    node_fill(x, node);
    char l[16];
    snprintf(l, sizeof l, "%s/%u", nt_topo_pname(proto), port);
    nt_topo_list_add(&x->listen, &x->nlisten, l, NT_TOPO_MAX_LISTEN);
}

/* The name index is built on the first question by name (a graph that is
 * only counted into never pays for it), then kept up to date. */
static void index_aliases(mm_net_topo *t)
{
    t->aliases = true;
    for (size_t i = 0; i < t->nedges; i++)
        for (size_t k = 0; k < t->edges[i].nnames; k++) {
            const char *s = t->edges[i].names[k];
            nt_topo_edge_alias(t, &t->edges[i], (uint32_t)nt_strtab_find(&t->names, s, strlen(s)));
        }
}

bool mm_net_topo_has_edge(const mm_net_topo *t, const char *client, const char *server,
                          uint8_t proto, uint16_t port)
{
    long ci = node_ix(t, client), si = node_ix(t, server);
    if (ci < 0)
        return false;
    if (si >= 0) {
        edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)si, .port = port, .proto = proto};
        if (NT_TAB_GET(&t->edge_tab, &k, nt_tab_hash(&t->edge_tab, &k, sizeof k)))
            return true;
    }
    if (!t->aliases)
        index_aliases((mm_net_topo *)t);   /* a cache, not a change of the graph */
    long nid = nt_strtab_find(&t->names, server, strlen(server));
    if (nid < 0 || nid >= NT_TOPO_MAX_ITEMS)
        return false;
    edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)nid, .port = port, .proto = proto};
    return NT_TAB_GET(&t->alias_tab, &k, nt_tab_hash(&t->alias_tab, &k, sizeof k)) != NULL;
}

bool mm_net_topo_has_listen(const mm_net_topo *t, const char *node, uint8_t proto,
                            uint16_t port, bool *known)
{
    long ix = node_ix(t, node);
    if (known)
        *known = ix >= 0;
    if (ix < 0)
        return false;
    const nt_tnode *x = &t->nodes[ix];
    char l[16];
    snprintf(l, sizeof l, "%s/%u", nt_topo_pname(proto), port);
    for (size_t i = 0; i < x->nlisten; i++)
        if (!strcmp(x->listen[i], l))
            return true;
    return false;
}
