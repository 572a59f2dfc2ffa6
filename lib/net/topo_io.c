/*
 * topo_io.c - the service graph in and out: JSON (docs/net.md: the
 * schema) and a Graphviz digraph written from a graph, and a saved JSON
 * graph loaded back as the learned baseline that new flows and listening
 * ports are compared with (topo.c holds the graph itself).  Loading is
 * untrusted input: size, node and edge counts and string lengths are
 * capped (mamori/net.h).  A 10 MB baseline is read into one padded buffer
 * and parsed there (jsonrd.c); each object's fields are found in one walk
 * (nt_json_fields), an edge's server names go into one array shared by all
 * loaded edges, and ids and names are hashed once into the graph's string
 * tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/topo_int.h"

#define MAX_STR 1024
#define MAX_FILE (64u << 20)

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
            nt_topo_list_add(&(*names)[i], &(*nn)[i], t->nodes[i].names[k], NT_TOPO_MAX_LIST);
    for (size_t i = 0; i < t->nedges; i++) {
        const nt_tedge *e = &t->edges[i];
        for (size_t k = 0; k < e->nnames; k++)
            nt_topo_list_add(&(*names)[e->srv], &(*nn)[e->srv], e->names[k], NT_TOPO_MAX_LIST);
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
        const nt_tnode *x = &t->nodes[i];
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
        const nt_tedge *e = &t->edges[i];
        json_t *o = json_object();
        json_object_set_new(o, "client", json_string(t->nodes[e->cli].id));
        json_object_set_new(o, "server", json_string(t->nodes[e->srv].id));
        json_object_set_new(o, "proto", json_string(nt_topo_pname(e->proto)));
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
        const nt_tnode *x = &t->nodes[i];
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
        const nt_tedge *e = &t->edges[i];
        mm_buf_adds(&b, "  ");
        dot_str(&b, t->nodes[e->cli].id);
        mm_buf_adds(&b, " -> ");
        dot_str(&b, t->nodes[e->srv].id);
        mm_buf_printf(&b, " [label=\"%s/%u (%llu)\"];\n", nt_topo_pname(e->proto), e->port,
                      (unsigned long long)e->flows);
    }
    mm_buf_adds(&b, "}\n");
    free_names(t, names, nn);
    return mm_buf_detach(&b);
}

/* ---- loading a baseline ------------------------------------------------------------ */

static int str_value(const char *name, const nt_json *j, long v, const char *k, const char **out,
                     bool required, size_t idx, const char *what)
{
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

/* The strings of array a (the value of key k) added to a list (list_add's
 * rules): copies into own, or, when own is NULL, the tokens of the
 * distinct non-empty strings into refs (an edge's names are added from
 * there). */
typedef struct strs {
    char ***own;
    uint32_t *refs;
    size_t *n, max;
} strs;

static int str_array(const char *name, const nt_json *j, long a, const char *k, strs out,
                     size_t idx, const char *what)
{
    if (a < 0)
        return 0;
    if (j->tok[a].type != NT_J_ARR)
        return mm_error_set(MM_EFORMAT, "%s: %s[%zu].%s: not an array", name, what, idx, k);
    uint32_t x = (uint32_t)a + 1;
    for (size_t i = 0; i < j->tok[a].n; i++, x = j->tok[x].next) {
        const nt_jtok *t = &j->tok[x];
        if (t->type != NT_J_STR || t->len > MAX_STR)
            return mm_error_set(MM_EFORMAT, "%s: %s[%zu].%s[%zu]: not a string", name, what,
                                idx, k, i);
        const char *s = j->text + t->off;
        if (out.own) {
            nt_topo_list_add(out.own, out.n, s, out.max);
            continue;
        }
        if (!t->len || *out.n >= out.max)
            continue;
        bool dup = false;
        for (size_t m = 0; m < *out.n && !dup; m++)
            dup = j->tok[out.refs[m]].len == t->len && !memcmp(j->text + j->tok[out.refs[m]].off, s, t->len);
        if (!dup)
            out.refs[(*out.n)++] = x;
    }
    return 0;
}

static uint8_t pparse(const char *s)
{
    return !strcmp(s, "tcp") ? IPPROTO_TCP : !strcmp(s, "udp") ? IPPROTO_UDP
         : !strcmp(s, "icmp") ? IPPROTO_ICMP : !strcmp(s, "icmp6") ? IPPROTO_ICMPV6 : 0;
}

enum { N_ID, N_KIND, N_CONTAINER, N_ADDRS, N_NAMES, N_PROCS, N_LISTEN, N_KEYS };
static const nt_jkey node_keys[N_KEYS] = {
    NT_JKEY("id"), NT_JKEY("kind"), NT_JKEY("container"), NT_JKEY("addresses"),
    NT_JKEY("names"), NT_JKEY("processes"), NT_JKEY("listen")};
enum { C_ID, C_NAME, C_IMAGE, C_KEYS };
static const nt_jkey ct_keys[C_KEYS] = {NT_JKEY("id"), NT_JKEY("name"), NT_JKEY("image")};
enum { E_CLIENT, E_SERVER, E_PROTO, E_PORT, E_NAMES, E_FLOWS, E_KEYS };
static const nt_jkey edge_keys[E_KEYS] = {
    NT_JKEY("client"), NT_JKEY("server"), NT_JKEY("proto"), NT_JKEY("port"),
    NT_JKEY("names"), NT_JKEY("flows")};

static int load_node(mm_net_topo *t, const char *name, const nt_json *j, uint32_t o, size_t i)
{
    const nt_jtok *tk = j->tok;
    const char *id, *kind;
    long f[N_KEYS];
    int rc;
    if (tk[o].type != NT_J_OBJ)
        return mm_error_set(MM_EFORMAT, "%s: nodes[%zu]: not an object", name, i);
    nt_json_fields(j, o, node_keys, N_KEYS, f);
    if ((rc = str_value(name, j, f[N_ID], "id", &id, true, i, "nodes")) ||
        (rc = str_value(name, j, f[N_KIND], "kind", &kind, false, i, "nodes")))
        return rc;
    nt_tnode *x = nt_topo_node_get(t, id, tk[f[N_ID]].len, true);
    x->learned = true;
    if (!x->kind)
        x->kind = mm_xstrdup(kind ? kind : "address");
    long c = f[N_CONTAINER];
    if (c >= 0 && tk[c].type == NT_J_OBJ && !x->ct_id) {
        const char *s;
        long cf[C_KEYS];
        nt_json_fields(j, c, ct_keys, C_KEYS, cf);
        if (!str_value(name, j, cf[C_ID], "id", &s, false, i, "nodes") && s)
            x->ct_id = mm_xstrdup(s);
        if (!str_value(name, j, cf[C_NAME], "name", &s, false, i, "nodes") && s)
            x->ct_name = mm_xstrdup(s);
        if (!str_value(name, j, cf[C_IMAGE], "image", &s, false, i, "nodes") && s)
            x->ct_image = mm_xstrdup(s);
    }
    size_t had = x->naddrs;
    if ((rc = str_array(name, j, f[N_ADDRS], "addresses",
                        (strs){&x->addrs, NULL, &x->naddrs, NT_TOPO_MAX_LIST}, i, "nodes")) ||
        (rc = str_array(name, j, f[N_NAMES], "names",
                        (strs){&x->names, NULL, &x->nnames, NT_TOPO_MAX_LIST}, i, "nodes")) ||
        (rc = str_array(name, j, f[N_PROCS], "processes",
                        (strs){&x->procs, NULL, &x->nprocs, NT_TOPO_MAX_LIST}, i, "nodes")) ||
        (rc = str_array(name, j, f[N_LISTEN], "listen",
                        (strs){&x->listen, NULL, &x->nlisten, NT_TOPO_MAX_LISTEN}, i, "nodes")))
        return rc;
    /* its addresses find it without building ids (any zone: 0) */
    for (size_t k = had; k < x->naddrs; k++) {
        mm_ipaddr a;
        if (!mm_net_addr_parse(&a, x->addrs[k]) && nt_topo_addr_index(t, 0, &a, (long)(x - t->nodes)) &&
            a.family == AF_INET) {
            x->v4 = mm_xrealloc(x->v4, (x->nv4 + 1) * sizeof *x->v4);
            memcpy(&x->v4[x->nv4++], a.ip, 4);
        }
    }
    mm_error_clear();
    return 0;
}

static int load_edge(mm_net_topo *t, const char *name, const nt_json *j, uint32_t o, size_t i)
{
    const nt_jtok *tk = j->tok;
    const char *cli, *srv, *proto;
    long f[E_KEYS];
    int rc;
    if (tk[o].type != NT_J_OBJ)
        return mm_error_set(MM_EFORMAT, "%s: edges[%zu]: not an object", name, i);
    nt_json_fields(j, o, edge_keys, E_KEYS, f);
    if ((rc = str_value(name, j, f[E_CLIENT], "client", &cli, true, i, "edges")) ||
        (rc = str_value(name, j, f[E_SERVER], "server", &srv, true, i, "edges")) ||
        (rc = str_value(name, j, f[E_PROTO], "proto", &proto, true, i, "edges")))
        return rc;
    long pv = f[E_PORT];
    uint8_t p = pparse(proto);
    if (!p && strcmp(proto, "ip"))
        return mm_error_set(MM_EFORMAT, "%s: edges[%zu].proto: \"%s\" is not tcp, udp, icmp, icmp6 or ip",
                            name, i, proto);
    if (pv < 0 || tk[pv].type != NT_J_INT || tk[pv].i < 0 || tk[pv].i > 65535)
        return mm_error_set(MM_EFORMAT, "%s: edges[%zu].port: not a port number", name, i);
    nt_tnode *c = nt_topo_node_get(t, cli, tk[f[E_CLIENT]].len, true);
    nt_tnode *s = nt_topo_node_get(t, srv, tk[f[E_SERVER]].len, true);
    nt_tedge *e = c && s ? nt_topo_edge_at(t, (size_t)(c - t->nodes), (size_t)(s - t->nodes), p,
                                           (uint16_t)tk[pv].i, true)
                         : NULL;
    if (!e)
        return mm_error_set(MM_ELIMIT, "%s: edges[%zu]: more than %u nodes", name, i,
                            NT_TOPO_MAX_ITEMS);
    uint32_t nm[NT_TOPO_MAX_LIST];
    size_t nn = 0;
    if ((rc = str_array(name, j, f[E_NAMES], "names", (strs){NULL, nm, &nn, NT_TOPO_MAX_LIST}, i,
                        "edges")))
        return rc;
    if (!e->nnames && !e->names && nn) {
        /* a new edge's names: a slice of the pool, all of them at once; a
           name the file repeats for this edge comes once */
        e->names = nt_topo_pool_take(t, nn);
        e->ncap = (uint8_t)nn;
        for (size_t k = 0; k < nn; k++) {
            bool added;
            uint32_t nid = nt_strtab_add(&t->names, j->text + tk[nm[k]].off, tk[nm[k]].len,
                                         &added);
            e->names[e->nnames++] = t->names.str[nid];
            nt_topo_edge_alias(t, e, nid);
        }
    } else {
        for (size_t k = 0; k < nn; k++)
            nt_topo_edge_name(t, e, j->text + tk[nm[k]].off, tk[nm[k]].len);
    }
    long fl = f[E_FLOWS];
    if (fl >= 0 && tk[fl].type == NT_J_INT && tk[fl].i > 0)
        e->flows += (uint64_t)tk[fl].i;
    return 0;
}

int nt_topo_load_json(mm_net_topo **out, const char *name, nt_json *j)
{
    *out = NULL;
    mm_net_topo *t;
    mm_net_topo_new(&t);
    t->aliases = true;
    const nt_jtok *tk = j->tok;
    int rc = 0;
    long top[2];
    static const nt_jkey top_keys[2] = {NT_JKEY("nodes"), NT_JKEY("edges")};
    nt_json_fields(j, 0, top_keys, 2, top);
    long nodes = top[0], edges = top[1];
    if (tk[0].type != NT_J_OBJ || nodes < 0 || tk[nodes].type != NT_J_ARR || edges < 0 ||
        tk[edges].type != NT_J_ARR) {
        rc = mm_error_set(MM_EFORMAT, "%s: not a mamori network graph (\"nodes\" and \"edges\" arrays)", name);
        goto out;
    }
    if (tk[nodes].n > NT_TOPO_MAX_ITEMS || tk[edges].n > NT_TOPO_MAX_ITEMS) {
        rc = mm_error_set(MM_ELIMIT, "%s: more than %u nodes or edges", name, NT_TOPO_MAX_ITEMS);
        goto out;
    }
    uint32_t o = (uint32_t)nodes + 1;
    for (size_t i = 0; i < tk[nodes].n; i++, o = tk[o].next)
        if ((rc = load_node(t, name, j, o, i)))
            goto out;
    nt_tab_reserve(&t->edge_tab, tk[edges].n);
    nt_tab_reserve(&t->alias_tab, tk[edges].n);   /* a guess: a name an edge */
    o = (uint32_t)edges + 1;
    for (size_t i = 0; i < tk[edges].n; i++, o = tk[o].next)
        if ((rc = load_edge(t, name, j, o, i)))
            goto out;
    nt_topo_index_pairs(t);
out:
    if (rc) {
        mm_net_topo_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int mm_net_topo_load_string(mm_net_topo **out, const char *name, const char *data, size_t len)
{
    *out = NULL;
    nt_json j;
    int rc = nt_json_parse(&j, name, data, len);
    if (rc)
        return rc;
    rc = nt_topo_load_json(out, name, &j);
    nt_json_free(&j);
    return rc;
}

int mm_net_topo_load_file(mm_net_topo **out, const char *path)
{
    *out = NULL;
    char *data;
    size_t len;
    int rc = mm_file_read(path, MAX_FILE, &data, &len);
    if (rc)
        return rc;
    /* parsed where it was read: the padding the reader wants, no copy
       (a big buffer grows by remapping, not by copying) */
    data = mm_xrealloc(data, len + NT_JSON_PAD);
    memset(data + len, 0, NT_JSON_PAD);
    nt_json j;
    if ((rc = nt_json_parse_buf(&j, path, data, len)))
        return rc;
    rc = nt_topo_load_json(out, path, &j);
    nt_json_free(&j);
    return rc;
}
