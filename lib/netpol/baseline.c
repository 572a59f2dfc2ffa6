/*
 * baseline.c - a segmentation policy file proposed from a learned service
 * graph (the topology JSON of `mamori net --learn --baseline-out`, docs/
 * net.md): per container node, default deny, ingress from each client seen
 * on the ports it used, egress to each server seen (by its DNS names when
 * the graph has them, so the rule follows the name; else by container name
 * or address).  The output is YAML for a person to review before
 * `mamori net enforce` applies it; it loads with mm_netpol_load_string.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "netpol_int.h"
#include "util/util.h"

#define BL_MAX (64u << 20)
#define BL_MAX_ITEMS 1000000

/* A YAML double-quoted scalar of printable ASCII (what a policy can name
 * is ASCII; anything else becomes '?', which a glob still matches). */
static void yq(mm_buf *b, const char *s)
{
    mm_buf_addc(b, '"');
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\') {
            mm_buf_addc(b, '\\');
            mm_buf_addc(b, (char)c);
        } else {
            mm_buf_addc(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
        }
    }
    mm_buf_addc(b, '"');
}

/* Is s a peer the parser takes (an address, a CIDR or a container name)? */
static bool peer_ok(const char *s)
{
    np_cidr c;
    if (!s)
        return false;
    if (np_parse_cidr(s, &c))
        return true;
    return !strchr(s, '/') && !strchr(s, ':') && np_peer_name_ok(s);
}

/* The peers one node stands for, as ", \"a\", \"b\"": its name (a
 * container), else its addresses, else the id (an address node).  Only
 * what the parser takes; empty when nothing is. */
static void peer_of(const mm_map *nodes, const char *id, mm_buf *b)
{
    const json_t *n = mm_map_get(nodes, id);
    const char *kind = n ? json_string_value(json_object_get(n, "kind")) : NULL;
    if (kind && !strcmp(kind, "container")) {
        if (peer_ok(id)) {
            mm_buf_adds(b, ", ");
            yq(b, id);
        }
        return;
    }
    const json_t *addrs = n ? json_object_get(n, "addresses") : NULL;
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(addrs) && k < 1000; i++) {
        const char *a = json_string_value(json_array_get(addrs, i));
        np_cidr c;
        if (a && np_parse_cidr(a, &c)) {
            mm_buf_adds(b, ", ");
            yq(b, a);
            k++;
        }
    }
    np_cidr c;
    if (!k && np_parse_cidr(id, &c)) {
        mm_buf_adds(b, ", ");
        yq(b, id);
    }
}

/* "tcp/80", "udp/53", "icmp"; false for what a policy cannot say. */
static bool port_of(char *out, size_t n, const json_t *e)
{
    const char *proto = json_string_value(json_object_get(e, "proto"));
    const json_t *pj = json_object_get(e, "port");
    json_int_t port = json_is_integer(pj) ? json_integer_value(pj) : 0;
    if (!proto)
        return false;
    if (!strcmp(proto, "icmp") || !strcmp(proto, "icmpv6")) {
        snprintf(out, n, "icmp");
        return true;
    }
    if ((strcmp(proto, "tcp") && strcmp(proto, "udp")) || port < 1 || port > 65535)
        return false;
    snprintf(out, n, "%s/%lld", proto, (long long)port);
    return true;
}

/* The valid DNS names of an edge, as "\"a\", \"b\""; "" when none. */
static void names_of(const json_t *e, mm_buf *b)
{
    const json_t *names = json_object_get(e, "names");
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(names) && k < 1000; i++) {
        const char *s = json_string_value(json_array_get(names, i));
        if (!s || !np_dns_pattern_ok(s))
            continue;
        if (k++)
            mm_buf_adds(b, ", ");
        yq(b, s);
    }
}

typedef struct group {
    char *peer;                  /* the peer's id */
    char *names;                 /* egress names, "" = by address */
    mm_buf ports;
    mm_map *seen;                /* ports already listed */
    size_t nports;
} group;

/* The rules of one node in one direction: one per peer (and name set),
 * with every port seen between them. */
static void rules(mm_buf *b, const mm_map *nodes, const json_t *edges, const size_t *idx,
                  size_t n, bool egress)
{
    const char *other = egress ? "server" : "client";
    group *g = NULL;
    size_t ng = 0;
    mm_map *by = mm_map_new();
    for (size_t k = 0; k < n; k++) {
        const json_t *e = json_array_get(edges, idx[k]);
        const char *peer = json_string_value(json_object_get(e, other));
        char port[32];
        if (!peer || !port_of(port, sizeof port, e))
            continue;
        mm_buf nm = MM_BUF_INIT;
        if (egress)
            names_of(e, &nm);
        char *key = mm_xasprintf("%s\x01%s", peer, nm.data ? nm.data : "");
        void *v = mm_map_get(by, key);
        size_t gi;
        if (v) {
            gi = (size_t)(uintptr_t)v - 1;
        } else {
            if (ng >= 1000) {               /* the parser's cap on rules */
                free(key);
                mm_buf_free(&nm);
                continue;
            }
            g = mm_xrealloc(g, (ng + 1) * sizeof *g);
            memset(&g[ng], 0, sizeof g[ng]);
            g[ng].peer = mm_xstrdup(peer);
            g[ng].names = mm_xstrdup(nm.data ? nm.data : "");
            g[ng].seen = mm_map_new();
            gi = ng++;
            mm_map_put(by, key, (void *)(uintptr_t)(gi + 1));
        }
        free(key);
        mm_buf_free(&nm);
        if (g[gi].nports < 1000 && !mm_map_get(g[gi].seen, port)) {
            mm_map_put(g[gi].seen, port, (void *)1);
            mm_buf_adds(&g[gi].ports, g[gi].nports++ ? ", " : "");
            mm_buf_adds(&g[gi].ports, port);
        }
    }
    bool any = false;
    for (size_t i = 0; i < ng; i++) {
        mm_buf peers = MM_BUF_INIT;
        if (!*g[i].names)
            peer_of(nodes, g[i].peer, &peers);
        if (*g[i].names || peers.len) {
            if (!any)
                mm_buf_printf(b, "    %s:\n", egress ? "egress" : "ingress");
            any = true;
            mm_buf_adds(b, egress ? "      - # to " : "      - # from ");
            char *pr = mm_str_printable(g[i].peer);
            for (char *c = pr; *c; c++)
                if (*c == '\n' || *c == '\r')
                    *c = '?';
            mm_buf_printf(b, "%s\n", pr);
            free(pr);
            if (*g[i].names)
                mm_buf_printf(b, "        names: [%s]\n", g[i].names);
            else
                mm_buf_printf(b, "        %s: [%s]\n", egress ? "to" : "from", peers.data + 2);
            mm_buf_printf(b, "        ports: [%s]\n", g[i].ports.data);
        }
        mm_buf_free(&peers);
        free(g[i].peer);
        free(g[i].names);
        mm_buf_free(&g[i].ports);
        mm_map_free(g[i].seen, NULL);
    }
    free(g);
    mm_map_free(by, NULL);
}

typedef struct idxv {
    size_t *v;
    size_t n;
} idxv;

static void idxv_free(void *p)
{
    idxv *x = p;
    free(x->v);
    free(x);
}

/* node id -> the indexes of the edges where it is `role` */
static mm_map *edges_by(const json_t *edges, const char *role)
{
    mm_map *m = mm_map_new();
    for (size_t i = 0; i < json_array_size(edges); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(edges, i), role));
        if (!id)
            continue;
        idxv *x = mm_map_get(m, id);
        if (!x) {
            x = mm_xcalloc(1, sizeof *x);
            mm_map_put(m, id, x);
        }
        x->v = mm_xrealloc(x->v, (x->n + 1) * sizeof *x->v);
        x->v[x->n++] = i;
    }
    return m;
}

int mm_netpol_from_baseline(char **yaml, const char *baseline_json, size_t len,
                            const char *name)
{
    *yaml = NULL;
    if (!name)
        name = "<baseline>";
    if (len > BL_MAX)
        return mm_error_set(MM_ELIMIT, "%s: larger than %u bytes", name, BL_MAX);
    json_error_t je;
    json_t *root = json_loadb(baseline_json, len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return mm_error_set(MM_EFORMAT, "%s:%d:%d: %s", name, je.line, je.column, je.text);
    const json_t *nodes = json_object_get(root, "nodes"), *edges = json_object_get(root, "edges");
    if (!json_is_array(nodes) || !json_is_array(edges)) {
        json_decref(root);
        return mm_error_set(MM_EFORMAT, "%s: expected a service graph with nodes and edges",
                            name);
    }
    if (json_array_size(nodes) > BL_MAX_ITEMS || json_array_size(edges) > BL_MAX_ITEMS) {
        json_decref(root);
        return mm_error_set(MM_ELIMIT, "%s: more than %u nodes or edges", name, BL_MAX_ITEMS);
    }
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b, "# Proposed from the learned service graph %s: review, then\n"
                  "# mamori net enforce --policy FILE --dry-run\n"
                  "version: 1\npolicies:\n", name);
    size_t count = 0;
    mm_map *byid = mm_map_new(), *in = edges_by(edges, "server"),
           *out = edges_by(edges, "client"), *pnames = mm_map_new();
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        const char *id = json_string_value(json_object_get(json_array_get(nodes, i), "id"));
        if (id && !mm_map_get(byid, id))
            mm_map_put(byid, id, json_array_get(nodes, i));
    }
    for (size_t i = 0; i < json_array_size(nodes) && count < 10000; i++) {
        const json_t *n = json_array_get(nodes, i);
        const char *id = json_string_value(json_object_get(n, "id"));
        const char *kind = json_string_value(json_object_get(n, "kind"));
        if (!id || !kind || strcmp(kind, "container") || !*id || strlen(id) > 255 ||
            mm_map_get(byid, id) != n)
            continue;
        char pname[80];
        size_t k = 0;
        for (const char *c = id; *c && k < 56; c++)
            pname[k++] = (char)(((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '.') ? *c : '_');
        pname[k] = 0;
        if (mm_map_get(pnames, pname))          /* two ids that read the same */
            snprintf(pname + k, sizeof pname - k, "-%zu", i);
        if (mm_map_get(pnames, pname))
            continue;
        mm_map_put(pnames, pname, (void *)1);
        mm_buf_adds(&b, "  - name: ");
        yq(&b, pname);
        mm_buf_adds(&b, "\n    match: {container: ");
        yq(&b, id);
        mm_buf_adds(&b, "}\n    default: deny\n");
        idxv *xi = mm_map_get(in, id), *xo = mm_map_get(out, id);
        if (xi)
            rules(&b, byid, edges, xi->v, xi->n, false);
        if (xo)
            rules(&b, byid, edges, xo->v, xo->n, true);
        count++;
    }
    mm_map_free(byid, NULL);
    mm_map_free(in, idxv_free);
    mm_map_free(out, idxv_free);
    mm_map_free(pnames, NULL);
    if (!count)
        mm_buf_adds(&b, "  []\n");
    json_decref(root);
    *yaml = mm_buf_detach(&b);
    return 0;
}
