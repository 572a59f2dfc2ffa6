/*
 * topo.c - the observed service graph: nodes (containers, pods, addresses)
 * with their addresses, DNS/SNI names, processes and listening ports, and
 * edges (client -> server on proto/port) with flow, packet and byte counts
 * and first/last times.  Written as JSON (docs/net.md: the schema) and as
 * a Graphviz digraph; a saved JSON graph is loaded back as the learned
 * baseline that new flows and listening ports are compared with.  Server
 * names are also indexed, so that a baseline edge to "api.example.com"
 * matches a flow to whatever address the name resolves to today.
 * Loading is untrusted input: size, node and edge counts and string
 * lengths are capped (mamori/net.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/net_int.h"

#define MAX_ITEMS (1u << 20)
#define MAX_LIST 16
#define MAX_LISTEN 1024
#define MAX_STR 1024
#define MAX_FILE (64u << 20)

typedef struct tnode {
    char *id, *kind;
    char *ct_id, *ct_name, *ct_image, *pod, *ns;
    char **addrs, **names, **procs, **listen;
    size_t naddrs, nnames, nprocs, nlisten;
    bool learned;                /* came from a loaded file */
} tnode;

typedef struct tedge {
    uint32_t cli, srv;           /* node indices */
    uint8_t proto;
    uint16_t port;
    const char **names;          /* interned (mm_net_topo.strs), not owned */
    size_t nnames;
    uint64_t flows, pkts, bytes;
    int64_t first, last;         /* ns since the epoch */
} tedge;

struct mm_net_topo {
    tnode *nodes;
    size_t nnodes;
    tedge *edges;
    size_t nedges;
    mm_map *node_ix;             /* id -> index + 1 */
    nt_tab edge_tab;             /* (client, server node index, proto, port) -> edge */
    mm_map *name_ids;            /* server name -> its number + 1 (interned) */
    nt_tab alias_tab;            /* (client node, name number, proto, port) -> edge */
    nt_tab addr_node;            /* zone + address -> node index: flows name their
                                    nodes without building id strings */
    bool aliases;                /* index edges by server names (a loaded
                                    baseline; the observed graph never asks) */
    mm_map *strs;                /* edge name -> its one copy: tens of thousands
                                    of edges share a few names */
};

typedef struct edge_key_t {
    uint32_t cli, srv;
    uint16_t port;
    uint8_t proto, pad;
} edge_key_t;

int mm_net_topo_new(mm_net_topo **out)
{
    mm_net_topo *t = mm_xcalloc(1, sizeof *t);
    t->node_ix = mm_map_new();
    t->name_ids = mm_map_new();
    t->strs = mm_map_new();
    nt_tab_init(&t->alias_tab, sizeof(edge_key_t));
    nt_tab_init(&t->edge_tab, sizeof(edge_key_t));
    nt_tab_init(&t->addr_node, sizeof(nt_addrkey));
    *out = t;
    return 0;
}

void mm_net_topo_free(mm_net_topo *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nnodes; i++) {
        tnode *x = &t->nodes[i];
        free(x->id); free(x->kind); free(x->ct_id); free(x->ct_name);
        free(x->ct_image); free(x->pod); free(x->ns);
        mm_strv_free(x->addrs, x->naddrs);
        mm_strv_free(x->names, x->nnames);
        mm_strv_free(x->procs, x->nprocs);
        mm_strv_free(x->listen, x->nlisten);
    }
    for (size_t i = 0; i < t->nedges; i++)
        free(t->edges[i].names);
    mm_map_free(t->strs, free);
    free(t->nodes);
    free(t->edges);
    mm_map_free(t->node_ix, NULL);
    mm_map_free(t->name_ids, NULL);
    nt_tab_free(&t->alias_tab);
    nt_tab_free(&t->edge_tab);
    nt_tab_free(&t->addr_node);
    free(t);
}

size_t mm_net_topo_node_count(const mm_net_topo *t) { return t->nnodes; }
size_t mm_net_topo_edge_count(const mm_net_topo *t) { return t->nedges; }

static bool list_has(const char *const *v, size_t n, const char *s)
{
    if (n && !strcmp(v[n - 1], s))
        return true;             /* the common repeat */
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return true;
    return false;
}

static void list_add(char ***v, size_t *n, const char *s, size_t max)
{
    if (!s || !*s || *n >= max || list_has((const char *const *)*v, *n, s))
        return;
    mm_strv_push(v, n, s);
}

static long node_ix(const mm_net_topo *t, const char *id)
{
    uintptr_t ix = (uintptr_t)mm_map_get(t->node_ix, id);
    return ix ? (long)ix - 1 : -1;
}

static tnode *node_get(mm_net_topo *t, const char *id, bool create)
{
    long ix = node_ix(t, id);
    if (ix >= 0)
        return &t->nodes[ix];
    if (!create || t->nnodes >= MAX_ITEMS)
        return NULL;
    if (t->nnodes % 64 == 0)
        t->nodes = mm_xrealloc(t->nodes, (t->nnodes + 64) * sizeof *t->nodes);
    tnode *x = &t->nodes[t->nnodes];
    memset(x, 0, sizeof *x);
    x->id = mm_xstrdup(id);
    mm_map_put(t->node_ix, id, (void *)(uintptr_t)(++t->nnodes));
    return x;
}

static void node_fill(tnode *x, const nt_node_info *ni)
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
        list_add(&x->addrs, &x->naddrs, mm_net_addr_str(ni->addr, a, sizeof a), MAX_LIST);
    }
    list_add(&x->names, &x->nnames, ni->name, MAX_LIST);
    list_add(&x->procs, &x->nprocs, ni->comm, MAX_LIST);
}

static const char *pname(uint8_t p)
{
    return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp"
         : p == IPPROTO_ICMPV6 ? "icmp6" : "ip";
}

static uint8_t pparse(const char *s)
{
    return !strcmp(s, "tcp") ? IPPROTO_TCP : !strcmp(s, "udp") ? IPPROTO_UDP
         : !strcmp(s, "icmp") ? IPPROTO_ICMP : !strcmp(s, "icmp6") ? IPPROTO_ICMPV6 : 0;
}

static tedge *edge_at(mm_net_topo *t, size_t ci, size_t si, uint8_t proto, uint16_t port,
                      bool create)
{
    edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)si, .port = port, .proto = proto};
    uint32_t h = nt_hash(&k, sizeof k);
    uint32_t *v = nt_tab_get(&t->edge_tab, &k, h);
    if (v)
        return &t->edges[*v];
    if (!create || t->nedges >= MAX_ITEMS)
        return NULL;
    if (t->nedges % 64 == 0)
        t->edges = mm_xrealloc(t->edges, (t->nedges + 64) * sizeof *t->edges);
    tedge *e = &t->edges[t->nedges];
    memset(e, 0, sizeof *e);
    e->cli = (uint32_t)ci;
    e->srv = (uint32_t)si;
    e->proto = proto;
    e->port = port;
    nt_tab_put(&t->edge_tab, &k, h, (uint32_t)t->nedges++);
    return e;
}

static tedge *edge_get(mm_net_topo *t, const char *cli, const char *srv, uint8_t proto,
                       uint16_t port)
{
    tnode *c = node_get(t, cli, true), *s = node_get(t, srv, true);
    if (!c || !s)
        return NULL;
    return edge_at(t, (size_t)(c - t->nodes), (size_t)(s - t->nodes), proto, port, true);
}

/* A server name's number (created when create). -1 when unknown. */
static long name_id(mm_net_topo *t, const char *name, bool create)
{
    uintptr_t v = (uintptr_t)mm_map_get(t->name_ids, name);
    if (v)
        return (long)v - 1;
    if (!create || mm_map_count(t->name_ids) >= MAX_ITEMS)
        return -1;
    v = mm_map_count(t->name_ids) + 1;
    mm_map_put(t->name_ids, name, (void *)v);
    return (long)v - 1;
}

static void alias_add(mm_net_topo *t, const tedge *e, const char *name)
{
    long nid = name_id(t, name, true);
    if (nid < 0 || t->alias_tab.count >= MAX_ITEMS)
        return;
    edge_key_t k = {.cli = e->cli, .srv = (uint32_t)nid, .port = e->port, .proto = e->proto};
    uint32_t h = nt_hash(&k, sizeof k);
    if (!nt_tab_get(&t->alias_tab, &k, h))
        nt_tab_put(&t->alias_tab, &k, h, (uint32_t)(e - t->edges));
}

static void edge_name(mm_net_topo *t, tedge *e, const char *name)
{
    if (!name || !*name || e->nnames >= MAX_LIST)
        return;
    /* list_add's rules; the names are interned, so equal names are one
     * pointer */
    const char *in = mm_map_get(t->strs, name);
    if (!in) {
        char *c = mm_xstrdup(name);
        mm_map_put(t->strs, name, c);
        in = c;
    }
    for (size_t i = 0; i < e->nnames; i++)
        if (e->names[i] == in)
            return;
    if (e->nnames % 4 == 0)
        e->names = mm_xrealloc(e->names, (e->nnames + 4) * sizeof *e->names);
    e->names[e->nnames++] = in;
    if (t->aliases)
        alias_add(t, e, name);
}

long nt_topo_node_for(const mm_net_topo *t, uint64_t zone, const mm_ipaddr *a)
{
    nt_addrkey k;
    nt_addrkey_make(&k, zone, a);
    uint32_t *v = NT_TAB_GET(&t->addr_node, &k, nt_hash(&k, sizeof k));
    return v ? (long)*v : -1;
}

long nt_topo_node_add(mm_net_topo *t, uint64_t zone, const nt_node_info *ni)
{
    tnode *x = node_get(t, ni->id, true);
    if (!x)
        return -1;
    node_fill(x, ni);
    long ix = (long)(x - t->nodes);
    if (ni->addr && t->addr_node.count < MAX_ITEMS) {
        nt_addrkey k;
        nt_addrkey_make(&k, zone, ni->addr);
        uint32_t h = nt_hash(&k, sizeof k);
        if (!NT_TAB_GET(&t->addr_node, &k, h))
            nt_tab_put(&t->addr_node, &k, h, (uint32_t)ix);
    }
    return ix;
}

void nt_topo_node_touch(mm_net_topo *t, long ix, const char *name, const char *comm)
{
    tnode *x = &t->nodes[ix];
    list_add(&x->names, &x->nnames, name, MAX_LIST);
    list_add(&x->procs, &x->nprocs, comm, MAX_LIST);
}

bool nt_topo_has_edge_ix(const mm_net_topo *t, long ci, long si, uint8_t proto, uint16_t port)
{
    edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)si, .port = port, .proto = proto};
    return nt_tab_get(&t->edge_tab, &k, nt_hash(&k, sizeof k)) != NULL;
}

void nt_topo_edge_add(mm_net_topo *t, long ci, long si, uint8_t proto, uint16_t port,
                      const mm_net_flow *f)
{
    tedge *e = edge_at(t, (size_t)ci, (size_t)si, proto, port, true);
    if (!e)
        return;
    e->flows++;
    e->pkts += f->pkts[0] + f->pkts[1];
    e->bytes += f->bytes[0] + f->bytes[1];
    if (!e->first || f->first_ns < e->first)
        e->first = f->first_ns;
    if (f->last_ns > e->last)
        e->last = f->last_ns;
    edge_name(t, e, f->srv_name);
}

void nt_topo_listen(mm_net_topo *t, const nt_node_info *node, uint8_t proto, uint16_t port)
{
    tnode *x = node_get(t, node->id, true);
    if (!x)
        return;
    node_fill(x, node);
    char l[16];
    snprintf(l, sizeof l, "%s/%u", pname(proto), port);
    list_add(&x->listen, &x->nlisten, l, MAX_LISTEN);
}

/* The name index is built on the first question by name (a graph that is
 * only counted into never pays for it), then kept up to date. */
static void index_aliases(mm_net_topo *t)
{
    t->aliases = true;
    for (size_t i = 0; i < t->nedges; i++)
        for (size_t k = 0; k < t->edges[i].nnames; k++)
            alias_add(t, &t->edges[i], t->edges[i].names[k]);
}

bool mm_net_topo_has_edge(const mm_net_topo *t, const char *client, const char *server,
                          uint8_t proto, uint16_t port)
{
    long ci = node_ix(t, client), si = node_ix(t, server);
    if (ci < 0)
        return false;
    if (si >= 0) {
        edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)si, .port = port, .proto = proto};
        if (nt_tab_get(&t->edge_tab, &k, nt_hash(&k, sizeof k)))
            return true;
    }
    if (!t->aliases)
        index_aliases((mm_net_topo *)t);   /* a cache, not a change of the graph */
    long nid = name_id((mm_net_topo *)t, server, false);
    if (nid < 0)
        return false;
    edge_key_t k = {.cli = (uint32_t)ci, .srv = (uint32_t)nid, .port = port, .proto = proto};
    return nt_tab_get(&t->alias_tab, &k, nt_hash(&k, sizeof k)) != NULL;
}

bool mm_net_topo_has_listen(const mm_net_topo *t, const char *node, uint8_t proto,
                            uint16_t port, bool *known)
{
    uintptr_t ix = (uintptr_t)mm_map_get(t->node_ix, node);
    if (known)
        *known = ix != 0;
    if (!ix)
        return false;
    const tnode *x = &t->nodes[ix - 1];
    char l[16];
    snprintf(l, sizeof l, "%s/%u", pname(proto), port);
    for (size_t i = 0; i < x->nlisten; i++)
        if (!strcmp(x->listen[i], l))
            return true;
    return false;
}

/* ---- JSON --------------------------------------------------------------------------- */

static json_t *jlist(const char *const *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static void jset_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

/* Each node's names: its own and those of the edges it serves (kept on
 * the edges while flows are counted, gathered here once).  Caller frees
 * with free_names. */
static void gather_names(const mm_net_topo *t, char ****names, size_t **nn)
{
    *names = mm_xcalloc(t->nnodes ? t->nnodes : 1, sizeof **names);
    *nn = mm_xcalloc(t->nnodes ? t->nnodes : 1, sizeof **nn);
    for (size_t i = 0; i < t->nnodes; i++)
        for (size_t k = 0; k < t->nodes[i].nnames; k++)
            list_add(&(*names)[i], &(*nn)[i], t->nodes[i].names[k], MAX_LIST);
    for (size_t i = 0; i < t->nedges; i++) {
        const tedge *e = &t->edges[i];
        for (size_t k = 0; k < e->nnames; k++)
            list_add(&(*names)[e->srv], &(*nn)[e->srv], e->names[k], MAX_LIST);
    }
}

static void free_names(const mm_net_topo *t, char ***names, size_t *nn)
{
    for (size_t i = 0; i < t->nnodes; i++)
        mm_strv_free(names[i], nn[i]);
    free(names);
    free(nn);
}

char *mm_net_topo_json(const mm_net_topo *t)
{
    char ***names;
    size_t *nn;
    gather_names(t, &names, &nn);
    json_t *root = json_object();
    json_object_set_new(root, "version", json_integer(1));
    json_t *nodes = json_array();
    for (size_t i = 0; i < t->nnodes; i++) {
        const tnode *x = &t->nodes[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(x->id));
        json_object_set_new(o, "kind", json_string(x->kind ? x->kind : "address"));
        if (x->ct_id) {
            json_t *c = json_object();
            jset_str(c, "id", x->ct_id);
            jset_str(c, "name", x->ct_name);
            jset_str(c, "image", x->ct_image);
            json_object_set_new(o, "container", c);
        }
        if (x->pod) {
            json_t *p = json_object();
            jset_str(p, "namespace", x->ns);
            jset_str(p, "name", x->pod);
            json_object_set_new(o, "pod", p);
        }
        json_object_set_new(o, "addresses", jlist((const char *const *)x->addrs, x->naddrs));
        json_object_set_new(o, "names", jlist((const char *const *)names[i], nn[i]));
        json_object_set_new(o, "processes", jlist((const char *const *)x->procs, x->nprocs));
        json_object_set_new(o, "listen", jlist((const char *const *)x->listen, x->nlisten));
        json_array_append_new(nodes, o);
    }
    json_object_set_new(root, "nodes", nodes);
    json_t *edges = json_array();
    for (size_t i = 0; i < t->nedges; i++) {
        const tedge *e = &t->edges[i];
        json_t *o = json_object();
        json_object_set_new(o, "client", json_string(t->nodes[e->cli].id));
        json_object_set_new(o, "server", json_string(t->nodes[e->srv].id));
        json_object_set_new(o, "proto", json_string(pname(e->proto)));
        json_object_set_new(o, "port", json_integer(e->port));
        json_object_set_new(o, "names", jlist(e->names, e->nnames));
        json_object_set_new(o, "flows", json_integer((json_int_t)e->flows));
        json_object_set_new(o, "packets", json_integer((json_int_t)e->pkts));
        json_object_set_new(o, "bytes", json_integer((json_int_t)e->bytes));
        char a[32], b[32];
        if (e->first) {
            mm_time_rfc3339(e->first / 1000000000ll, a);
            mm_time_rfc3339(e->last / 1000000000ll, b);
            json_object_set_new(o, "first_seen", json_string(a));
            json_object_set_new(o, "last_seen", json_string(b));
        }
        json_array_append_new(edges, o);
    }
    json_object_set_new(root, "edges", edges);
    free_names(t, names, nn);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return s;
}

static void dot_str(mm_buf *b, const char *s)
{
    mm_buf_addc(b, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            mm_buf_addc(b, '\\');
        if ((unsigned char)*s < 0x20)
            mm_buf_addc(b, ' ');
        else
            mm_buf_addc(b, *s);
    }
    mm_buf_addc(b, '"');
}

char *mm_net_topo_dot(const mm_net_topo *t)
{
    char ***names;
    size_t *nn;
    gather_names(t, &names, &nn);
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "digraph mamori_net {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n");
    for (size_t i = 0; i < t->nnodes; i++) {
        const tnode *x = &t->nodes[i];
        mm_buf_adds(&b, "  ");
        dot_str(&b, x->id);
        mm_buf_adds(&b, " [label=");
        mm_buf label = MM_BUF_INIT;
        mm_buf_adds(&label, x->id);
        if (x->ct_image)
            mm_buf_printf(&label, "\n%s", x->ct_image);
        for (size_t k = 0; k < nn[i] && k < 3; k++)
            mm_buf_printf(&label, "\n%s", names[i][k]);
        if (x->nlisten) {
            mm_buf_adds(&label, "\nlisten:");
            for (size_t k = 0; k < x->nlisten && k < 8; k++)
                mm_buf_printf(&label, " %s", x->listen[k]);
        }
        /* keep the line breaks as DOT's \n escapes */
        mm_buf_addc(&b, '"');
        for (const char *p = label.data; p && *p; p++) {
            if (*p == '\n')
                mm_buf_adds(&b, "\\n");
            else if (*p == '"' || *p == '\\') {
                mm_buf_addc(&b, '\\');
                mm_buf_addc(&b, *p);
            } else if ((unsigned char)*p >= 0x20)
                mm_buf_addc(&b, *p);
        }
        mm_buf_addc(&b, '"');
        mm_buf_free(&label);
        const char *shape = x->kind && !strcmp(x->kind, "address") ? "ellipse" : "box";
        mm_buf_printf(&b, ", shape=%s];\n", shape);
    }
    for (size_t i = 0; i < t->nedges; i++) {
        const tedge *e = &t->edges[i];
        mm_buf_adds(&b, "  ");
        dot_str(&b, t->nodes[e->cli].id);
        mm_buf_adds(&b, " -> ");
        dot_str(&b, t->nodes[e->srv].id);
        mm_buf_printf(&b, " [label=\"%s/%u (%llu)\"];\n", pname(e->proto), e->port,
                      (unsigned long long)e->flows);
    }
    mm_buf_adds(&b, "}\n");
    free_names(t, names, nn);
    return mm_buf_detach(&b);
}

/* ---- loading a baseline ------------------------------------------------------------ */

static int str_field(const char *name, const nt_json *j, long o, const char *k, const char **out,
                     bool required, size_t idx, const char *what)
{
    long v = nt_json_get(j, o, k);
    *out = NULL;
    if (v < 0 || j->tok[v].type == NT_J_NULL) {
        if (required)
            return mm_error_set(MM_EFORMAT, "%s: %s[%zu]: \"%s\" is missing", name, what, idx, k);
        return 0;
    }
    if (j->tok[v].type != NT_J_STR || j->tok[v].len > MAX_STR || j->tok[v].len == 0)
        return mm_error_set(MM_EFORMAT, "%s: %s[%zu].%s: not a string of 1..%u bytes",
                            name, what, idx, k, MAX_STR);
    *out = j->text + j->tok[v].off;
    return 0;
}

/* The strings of array k of object o added to a list (list_add's rules):
 * copies into own, or, when own is NULL, pointers into the parsed text
 * into refs (an edge's names are added from there, not from a list made
 * and freed per edge). */
typedef struct strs {
    char ***own;
    const char **refs;
    size_t *n, max;
} strs;

static int str_array(const char *name, const nt_json *j, long o, const char *k, strs out,
                     size_t idx, const char *what)
{
    long a = nt_json_get(j, o, k);
    if (a < 0)
        return 0;
    if (j->tok[a].type != NT_J_ARR)
        return mm_error_set(MM_EFORMAT, "%s: %s[%zu].%s: not an array", name, what, idx, k);
    uint32_t x = (uint32_t)a + 1;
    for (size_t i = 0; i < j->tok[a].n; i++, x = j->tok[x].next) {
        if (j->tok[x].type != NT_J_STR || j->tok[x].len > MAX_STR)
            return mm_error_set(MM_EFORMAT, "%s: %s[%zu].%s[%zu]: not a string", name, what,
                                idx, k, i);
        const char *s = j->text + j->tok[x].off;
        if (out.own)
            list_add(out.own, out.n, s, out.max);
        else if (*s && *out.n < out.max && !list_has(out.refs, *out.n, s))
            out.refs[(*out.n)++] = s;
    }
    return 0;
}

static int str_list(const char *name, const nt_json *j, long o, const char *k, char ***v,
                    size_t *n, size_t max, size_t idx, const char *what)
{
    return str_array(name, j, o, k, (strs){v, NULL, n, max}, idx, what);
}

static int str_refs(const char *name, const nt_json *j, long o, const char *k, const char **v,
                    size_t *n, size_t max, size_t idx, const char *what)
{
    *n = 0;
    return str_array(name, j, o, k, (strs){NULL, v, n, max}, idx, what);
}

int mm_net_topo_load_string(mm_net_topo **out, const char *name, const char *data, size_t len)
{
    *out = NULL;
    nt_json j;
    int rc = nt_json_parse(&j, name, data, len);
    if (rc)
        return rc;
    mm_net_topo *t;
    mm_net_topo_new(&t);
    t->aliases = true;
    const nt_jtok *tk = j.tok;
    long nodes = nt_json_get(&j, 0, "nodes"), edges = nt_json_get(&j, 0, "edges");
    if (tk[0].type != NT_J_OBJ || nodes < 0 || tk[nodes].type != NT_J_ARR || edges < 0 ||
        tk[edges].type != NT_J_ARR) {
        rc = mm_error_set(MM_EFORMAT, "%s: not a mamori network graph (\"nodes\" and \"edges\" arrays)", name);
        goto out;
    }
    if (tk[nodes].n > MAX_ITEMS || tk[edges].n > MAX_ITEMS) {
        rc = mm_error_set(MM_ELIMIT, "%s: more than %u nodes or edges", name, MAX_ITEMS);
        goto out;
    }
    uint32_t o = (uint32_t)nodes + 1;
    for (size_t i = 0; i < tk[nodes].n; i++, o = tk[o].next) {
        const char *id, *kind;
        if (tk[o].type != NT_J_OBJ) {
            rc = mm_error_set(MM_EFORMAT, "%s: nodes[%zu]: not an object", name, i);
            goto out;
        }
        if ((rc = str_field(name, &j, o, "id", &id, true, i, "nodes")) ||
            (rc = str_field(name, &j, o, "kind", &kind, false, i, "nodes")))
            goto out;
        tnode *x = node_get(t, id, true);
        x->learned = true;
        if (!x->kind)
            x->kind = mm_xstrdup(kind ? kind : "address");
        long c = nt_json_get(&j, o, "container");
        if (c >= 0 && tk[c].type == NT_J_OBJ && !x->ct_id) {
            const char *s;
            if (!str_field(name, &j, c, "id", &s, false, i, "nodes") && s)
                x->ct_id = mm_xstrdup(s);
            if (!str_field(name, &j, c, "name", &s, false, i, "nodes") && s)
                x->ct_name = mm_xstrdup(s);
            if (!str_field(name, &j, c, "image", &s, false, i, "nodes") && s)
                x->ct_image = mm_xstrdup(s);
        }
        size_t had = x->naddrs;
        if ((rc = str_list(name, &j, o, "addresses", &x->addrs, &x->naddrs, MAX_LIST, i, "nodes")) ||
            (rc = str_list(name, &j, o, "names", &x->names, &x->nnames, MAX_LIST, i, "nodes")) ||
            (rc = str_list(name, &j, o, "processes", &x->procs, &x->nprocs, MAX_LIST, i, "nodes")) ||
            (rc = str_list(name, &j, o, "listen", &x->listen, &x->nlisten, MAX_LISTEN, i, "nodes")))
            goto out;
        /* its addresses find it without building ids (any zone: 0) */
        for (size_t k = had; k < x->naddrs && t->addr_node.count < MAX_ITEMS; k++) {
            mm_ipaddr a;
            nt_addrkey key;
            if (mm_net_addr_parse(&a, x->addrs[k]))
                continue;
            nt_addrkey_make(&key, 0, &a);
            uint32_t h = nt_hash(&key, sizeof key);
            if (!NT_TAB_GET(&t->addr_node, &key, h))
                nt_tab_put(&t->addr_node, &key, h, (uint32_t)(x - t->nodes));
        }
        mm_error_clear();
    }
    o = (uint32_t)edges + 1;
    for (size_t i = 0; i < tk[edges].n; i++, o = tk[o].next) {
        const char *cli, *srv, *proto;
        if (tk[o].type != NT_J_OBJ) {
            rc = mm_error_set(MM_EFORMAT, "%s: edges[%zu]: not an object", name, i);
            goto out;
        }
        if ((rc = str_field(name, &j, o, "client", &cli, true, i, "edges")) ||
            (rc = str_field(name, &j, o, "server", &srv, true, i, "edges")) ||
            (rc = str_field(name, &j, o, "proto", &proto, true, i, "edges")))
            goto out;
        long pv = nt_json_get(&j, o, "port");
        uint8_t p = pparse(proto);
        if (!p && strcmp(proto, "ip")) {
            rc = mm_error_set(MM_EFORMAT, "%s: edges[%zu].proto: \"%s\" is not tcp, udp, icmp, icmp6 or ip",
                              name, i, proto);
            goto out;
        }
        if (pv < 0 || tk[pv].type != NT_J_INT || tk[pv].i < 0 || tk[pv].i > 65535) {
            rc = mm_error_set(MM_EFORMAT, "%s: edges[%zu].port: not a port number", name, i);
            goto out;
        }
        tedge *e = edge_get(t, cli, srv, p, (uint16_t)tk[pv].i);
        if (!e) {
            rc = mm_error_set(MM_ELIMIT, "%s: edges[%zu]: more than %u nodes", name, i, MAX_ITEMS);
            goto out;
        }
        const char *nm[MAX_LIST];
        size_t nn = 0;
        if ((rc = str_refs(name, &j, o, "names", nm, &nn, MAX_LIST, i, "edges")))
            goto out;
        for (size_t k = 0; k < nn; k++)
            edge_name(t, e, nm[k]);
        long fl = nt_json_get(&j, o, "flows");
        if (fl >= 0 && tk[fl].type == NT_J_INT && tk[fl].i > 0)
            e->flows += (uint64_t)tk[fl].i;
    }
out:
    nt_json_free(&j);
    if (rc) {
        mm_net_topo_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int mm_net_topo_load_file(mm_net_topo **out, const char *path)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, MAX_FILE, &data, &len);
    if (rc)
        return rc;
    rc = mm_net_topo_load_string(out, path, data, len);
    free(data);
    return rc;
}
