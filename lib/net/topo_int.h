/*
 * net/topo_int.h - what topo.c (the graph: nodes, edges, lookups, flows
 * counted into it) and topo_io.c (JSON and DOT out, the baseline loaded
 * back) share: the graph's records and its string table.  Private to
 * those two files.
 */
#ifndef MM_NET_TOPO_INT_H
#define MM_NET_TOPO_INT_H

#include "net/net_int.h"

#define NT_TOPO_MAX_ITEMS (1u << 20)
#define NT_TOPO_MAX_LIST 16
#define NT_TOPO_MAX_LISTEN 1024

/* Strings stored once each, numbered in order of arrival (0, 1, ...): a
 * node's id (its number is the node's index) or an edge's server name
 * (its number keys the name index).  A lookup hashes the bytes once
 * (nt_hash, 16 bytes a step) and compares one candidate in the common
 * case; the copies never move, so a string's pointer stands for it. */
typedef struct nt_strtab {
    char **str;                  /* number -> NUL-terminated copy */
    uint32_t *len;               /* number -> length */
    uint32_t *slot;              /* open addressing: number + 1, 0 = empty */
    uint32_t *hash;              /* number -> hash (the slot's key check) */
    size_t n, cap, nslot;
    uint64_t seed;               /* nt_hash's (nt_seed, set with the graph) */
} nt_strtab;

void nt_strtab_free(nt_strtab *st);
/* The number of s[0..len) or -1. */
long nt_strtab_find(const nt_strtab *st, const char *s, size_t len);
/* Its number, added (copied) when absent: *added tells which. */
uint32_t nt_strtab_add(nt_strtab *st, const char *s, size_t len, bool *added);

typedef struct nt_tnode {
    const char *id;              /* ids.str[its index] */
    char *kind;
    char *ct_id, *ct_name, *ct_image, *pod, *ns;
    char **addrs, **names, **procs, **listen;
    size_t naddrs, nnames, nprocs, nlisten;
    bool learned;                /* came from a loaded file */
    uint32_t *v4;                /* a loaded node's IPv4 addresses that lead to it
                                    (network order), for the pair index */
    size_t nv4;
} nt_tnode;

typedef struct nt_tedge {
    uint32_t cli, srv;           /* node indices */
    uint8_t proto;
    uint16_t port;
    uint8_t ncap;                /* names' room in the graph's pool (0: names
                                    is its own allocation, grown 4 at a time) */
    const char **names;          /* interned (mm_net_topo.names), not owned */
    size_t nnames;
    uint64_t flows, pkts, bytes;
    int64_t first, last;         /* ns since the epoch */
} nt_tedge;

struct mm_net_topo {
    nt_tnode *nodes;
    size_t nnodes, cap_nodes;
    nt_tedge *edges;
    size_t nedges, cap_edges;
    nt_strtab ids;               /* node id -> node index */
    nt_strtab names;             /* edge (server) name -> its number; the copy
                                    is the one all edges point to */
    nt_tab edge_tab;             /* (client, server node index, proto, port) -> edge */
    nt_tab alias_tab;            /* (client node, name number, proto, port) -> edge */
    nt_tab addr_node;            /* zone + address -> node index: flows name their
                                    nodes without building id strings */
    nt_tab flow_edge;            /* zone + both addresses + proto + port -> edge:
                                    a flow's edge in one lookup (the observed graph) */
    bool aliases;                /* index edges by server names (a loaded
                                    baseline; the observed graph never asks) */
    void *pool;                  /* chunks the edges' first names are cut from
                                    (one allocation per edge was most of the
                                    cost of a new edge) */
    size_t pool_left;            /* slots left in the newest chunk */
    nt_tab pair4;                /* a loaded graph: (IPv4 client, IPv4 server, proto,
                                    port) of every edge, so that a flow is checked
                                    in one lookup; built when pairs4 */
    bool pairs4;
};

bool nt_topo_list_has(const char *const *v, size_t n, const char *s);
void nt_topo_list_add(char ***v, size_t *n, const char *s, size_t max);
const char *nt_topo_pname(uint8_t p);
/* The node of id[0..len) (created, with no fields, when create). */
nt_tnode *nt_topo_node_get(mm_net_topo *t, const char *id, size_t len, bool create);
/* a now leads to node ix (false: it led elsewhere already, or the cap) */
bool nt_topo_addr_index(mm_net_topo *t, uint64_t zone, const mm_ipaddr *a, long ix);
/* The pair index of a loaded graph (after its last edge). */
void nt_topo_index_pairs(mm_net_topo *t);
nt_tedge *nt_topo_edge_at(mm_net_topo *t, size_t ci, size_t si, uint8_t proto,
                          uint16_t port, bool create);
void nt_topo_edge_name(mm_net_topo *t, nt_tedge *e, const char *name, size_t len);
/* n (1..MAX_LIST) slots for an edge's names, from the pool */
const char **nt_topo_pool_take(mm_net_topo *t, size_t n);
/* e found by the server name numbered nid (the first MAX_ITEMS names) */
void nt_topo_edge_alias(mm_net_topo *t, const nt_tedge *e, uint32_t nid);
/* A parsed graph (topo_io.c) as a new graph. */
int nt_topo_load_json(mm_net_topo **out, const char *name, nt_json *j);

#endif
