/*
 * baseline.c - a segmentation policy file proposed from a learned service
 * graph (the topology JSON of `mamori net --learn --baseline-out`, docs/
 * net.md): per container node, default deny, ingress from each client seen
 * on the ports it used, egress to each server seen (by its DNS names when
 * the graph has them, so the rule follows the name; else by container name
 * or address).  The output is YAML for a person to review before
 * `mamori net enforce` applies it; it loads with mm_netpol_load_string.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "netpol_int.h"
#include "util/util.h"

#define BL_MAX (64u << 20)
#define BL_MAX_ITEMS 1000000

/* A YAML double-quoted scalar (JSON string syntax is valid YAML). */
static void yq(mm_buf *b, const char *s)
{
    json_t *j = json_string(s ? s : "");
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    mm_buf_adds(b, q ? q : "\"\"");
    free(q);
    json_decref(j);
}

static const json_t *node_by_id(const json_t *nodes, const char *id)
{
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        const json_t *n = json_array_get(nodes, i);
        const char *x = json_string_value(json_object_get(n, "id"));
        if (x && !strcmp(x, id))
            return n;
    }
    return NULL;
}

/* The peers one node stands for: its name (a container), else its
 * addresses, else the id (an address node). */
static void peer_of(const json_t *nodes, const char *id, mm_buf *b)
{
    const json_t *n = node_by_id(nodes, id);
    const char *kind = n ? json_string_value(json_object_get(n, "kind")) : NULL;
    if (kind && !strcmp(kind, "container")) {
        mm_buf_adds(b, ", ");
        yq(b, id);
        return;
    }
    const json_t *addrs = n ? json_object_get(n, "addresses") : NULL;
    if (json_array_size(addrs)) {
        for (size_t i = 0; i < json_array_size(addrs); i++)
            if (json_string_value(json_array_get(addrs, i))) {
                mm_buf_adds(b, ", ");
                yq(b, json_string_value(json_array_get(addrs, i)));
            }
        return;
    }
    mm_buf_adds(b, ", ");
    yq(b, id);
}

static void port_of(mm_buf *b, const json_t *e)
{
    const char *proto = json_string_value(json_object_get(e, "proto"));
    json_int_t port = json_integer_value(json_object_get(e, "port"));
    if (proto && (!strcmp(proto, "icmp") || !strcmp(proto, "icmpv6")))
        mm_buf_adds(b, "icmp");
    else
        mm_buf_printf(b, "%s/%lld", proto ? proto : "tcp", (long long)port);
}

/* One rule line per peer: the ports of every edge between node and peer. */
static void rules(mm_buf *b, const json_t *nodes, const json_t *edges, const char *node,
                  bool egress)
{
    const char *me = egress ? "client" : "server", *other = egress ? "server" : "client";
    size_t n = json_array_size(edges);
    bool *done = mm_xcalloc(n ? n : 1, sizeof *done);
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const json_t *e = json_array_get(edges, i);
        const char *a = json_string_value(json_object_get(e, me));
        const char *peer = json_string_value(json_object_get(e, other));
        if (done[i] || !a || !peer || strcmp(a, node))
            continue;
        const json_t *names = json_object_get(e, "names");
        if (!any)
            mm_buf_printf(b, "    %s:\n", egress ? "egress" : "ingress");
        any = true;
        mm_buf ports = MM_BUF_INIT;
        for (size_t j = i; j < n; j++) {
            const json_t *f = json_array_get(edges, j);
            const char *a2 = json_string_value(json_object_get(f, me));
            const char *p2 = json_string_value(json_object_get(f, other));
            if (done[j] || !a2 || !p2 || strcmp(a2, node) || strcmp(p2, peer) ||
                !json_equal(json_object_get(f, "names"), (json_t *)names))
                continue;
            done[j] = true;
            mm_buf_adds(&ports, ports.len ? ", " : "");
            port_of(&ports, f);
        }
        mm_buf_printf(b, "      - # %s %s\n", egress ? "to" : "from", peer);
        if (egress && json_array_size(names)) {
            mm_buf_adds(b, "        names: [");
            for (size_t k = 0; k < json_array_size(names); k++) {
                if (k)
                    mm_buf_adds(b, ", ");
                yq(b, json_string_value(json_array_get(names, k)) ?
                      json_string_value(json_array_get(names, k)) : "");
            }
            mm_buf_adds(b, "]\n");
        } else {
            mm_buf peers = MM_BUF_INIT;
            peer_of(nodes, peer, &peers);
            mm_buf_printf(b, "        %s: [%s]\n", egress ? "to" : "from", peers.data + 2);
            mm_buf_free(&peers);
        }
        mm_buf_printf(b, "        ports: [%s]\n", ports.data);
        mm_buf_free(&ports);
    }
    free(done);
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
    for (size_t i = 0; i < json_array_size(nodes); i++) {
        const json_t *n = json_array_get(nodes, i);
        const char *id = json_string_value(json_object_get(n, "id"));
        const char *kind = json_string_value(json_object_get(n, "kind"));
        if (!id || !kind || strcmp(kind, "container"))
            continue;
        char pname[65];
        size_t k = 0;
        for (const char *c = id; *c && k < 64; c++)
            pname[k++] = (char)(((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                                 (*c >= '0' && *c <= '9') || *c == '-' || *c == '.') ? *c : '_');
        pname[k] = 0;
        mm_buf_adds(&b, "  - name: ");
        yq(&b, pname);
        mm_buf_adds(&b, "\n    match: {container: ");
        yq(&b, id);
        mm_buf_adds(&b, "}\n    default: deny\n");
        rules(&b, nodes, edges, id, false);
        rules(&b, nodes, edges, id, true);
        count++;
    }
    if (!count)
        mm_buf_adds(&b, "  []\n");
    json_decref(root);
    *yaml = mm_buf_detach(&b);
    return 0;
}
