/*
 * net/net_int.h - what the files of lib/net share: the decoded packet, the
 * fixed-key hash table, the flow record, reassembly state, the name table,
 * the scan detector and the engine itself.  Private to lib/net.
 */
#ifndef MM_NET_INT_H
#define MM_NET_INT_H

#include <netinet/in.h>
#include <string.h>

#include "mamori/net.h"
#include "util/util.h"

/* ---- decoded packet -------------------------------------------------------- */

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08,
       TH_ACK = 0x10, TH_URG = 0x20, TH_ECE = 0x40, TH_CWR = 0x80 };

typedef struct nt_pkt {
    /* nt_decode clears the members up to `in_src` (each packet); the
     * quoted tuple of ICMP errors after it is cleared only for ICMP, and
     * read only when icmp_err is set (24 bytes a packet not written) */
    mm_ipaddr src, dst;
    uint16_t sport, dport;
    uint8_t proto;               /* IPPROTO_*; 0 = not IP */
    uint8_t tcpflags;
    uint8_t ttl;
    uint8_t tcp_nopts;           /* SYN segments: TCP options present (kinds other
                                    than NOP/EOL); 0 on other segments */
    uint16_t vlan;
    uint16_t win;
    uint32_t seq, ack;
    const uint8_t *payload;
    uint32_t paylen;             /* captured payload bytes */
    uint32_t l4len;              /* payload length per the IP header */
    bool frag;                   /* a non-first fragment: no L4 */
    uint8_t icmp_type, icmp_code;
    bool icmp_err;               /* ICMP errors: the quoted packet's tuple follows */
    mm_ipaddr in_src, in_dst;
    uint16_t in_sport, in_dport;
    uint8_t in_proto;
} nt_pkt;

/* 0 = decoded, 1 = not IP (ARP...), <0 = malformed. */
int nt_decode(nt_pkt *p, int linktype, const uint8_t *d, size_t caplen);
/* nt_decode without its fast path for the common case (for the tests that
 * hold both to the same result) */
int nt_decode_general(nt_pkt *p, int linktype, const uint8_t *d, size_t caplen);
bool nt_addr_is_multicast(const mm_ipaddr *a);

/* ---- fixed-key hash table: key bytes -> uint32 value ------------------------ */

typedef struct nt_tab {
    uint8_t *slots;              /* cap slots of [hash u32][value u32][key]; hash 0
                                    = empty (stored hashes are never 0), so a
                                    probe touches one cache line, not three */
    size_t cap, count, ksz, ssz;
    uint64_t seed;               /* nt_hash's secret for this table (nt_seed) */
    bool mapped;                 /* slots from mmap (big), else malloc */
} nt_tab;

void nt_tab_init(nt_tab *t, size_t ksz);
void nt_tab_free(nt_tab *t);
/* 64x64 -> 128-bit multiply, halves folded: the mixing step of nt_hash */
static inline uint64_t nt_mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}
/* A random 64-bit secret for a table's hash (getrandom; the clock and an
 * address if that fails).  Each object that owns tables draws its own. */
uint64_t nt_seed(void);
static inline uint32_t nt_hash(const void *k, size_t n, uint64_t seed)
{
    /* 16 bytes per multiply (one mulx), as wyhash does, then a last
     * multiply so that every key byte reaches the low bits the table
     * indexes with.  Keys are small and fixed-size (the flow key, 48 bytes,
     * is hashed for every packet: 4 multiplies).  The keys are addresses
     * and names from packets, i.e. chosen by whoever sends them: without
     * the secret seed in both operands of every multiply, a sender could
     * zero one of them (the constants are public) and give any number of
     * keys one hash, making every probe of the table walk them all. */
    const uint8_t *p = k;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ n ^ seed, s = seed ^ 0xa0761d6478bd642full;
    size_t left = n;
    while (left >= 16) {
        uint64_t a, b;
        memcpy(&a, p, 8);
        memcpy(&b, p + 8, 8);
        h = nt_mum(a ^ s, b ^ 0xe7037ed1a0b428dbull ^ h);
        p += 16;
        left -= 16;
    }
    if (left) {
        uint64_t a = 0, b = 0;
        if (left > 8) {
            memcpy(&a, p, 8);
            memcpy(&b, p + 8, left - 8);
        } else
            memcpy(&a, p, left);
        h = nt_mum(a ^ s, b ^ 0xe7037ed1a0b428dbull ^ h);
    }
    h = nt_mum(h ^ 0x8ebc6af09c88c6e3ull, (uint64_t)n ^ 0x589965cc75374cc3ull ^ seed);
    uint32_t r = (uint32_t)h;
    return r ? r : 1;
}
/* The hash of a key of table t (its seed). */
static inline uint32_t nt_tab_hash(const nt_tab *t, const void *k, size_t n)
{
    return nt_hash(k, n, t->seed);
}

/* The value's slot, or NULL. */
uint32_t *nt_tab_get(const nt_tab *t, const void *key, uint32_t h);
/* nt_tab_get inline for a key of a constant size ksz (== t->ksz, a multiple
 * of 8): the hash and key compare unroll, for the lookups on every packet's
 * path. */
static inline __attribute__((always_inline)) uint32_t *
nt_tab_get_k(const nt_tab *t, const void *key, uint32_t h, size_t ksz)
{
    if (ksz != t->ksz)
        return nt_tab_get(t, key, h);    /* not the table's key type: the general path */
    if (!t->cap)
        return NULL;
    size_t m = t->cap - 1, ssz = 8 + ksz;
    for (size_t j = h & m;; j = (j + 1) & m) {
        uint8_t *sl = t->slots + j * ssz;
        uint32_t s;
        memcpy(&s, sl, 4);
        if (!s)
            return NULL;
        if (s == h) {
            uint64_t d = 0;
            for (size_t i = 0; i < ksz; i += 8) {
                uint64_t x, y;
                memcpy(&x, sl + 8 + i, 8);
                memcpy(&y, (const uint8_t *)key + i, 8);
                d |= x ^ y;
            }
            if (!d)
                return (uint32_t *)(void *)(sl + 4);
        }
    }
}
#define NT_TAB_GET(t, kp, h) \
    ((void)sizeof(char[sizeof *(kp) % 8 == 0 ? 1 : -1]), /* keys of 8-byte words */ \
     nt_tab_get_k((t), (kp), (h), sizeof *(kp)))

/* Room for n members without growing (an empty table: one allocation). */
void nt_tab_reserve(nt_tab *t, size_t n);
/* Inserts (the key must be absent); returns the value slot. */
uint32_t *nt_tab_put(nt_tab *t, const void *key, uint32_t h, uint32_t val);
bool nt_tab_del(nt_tab *t, const void *key, uint32_t h);
void nt_tab_clear(nt_tab *t);

/* ---- names of addresses ----------------------------------------------------- */

typedef struct nt_names nt_names;
nt_names *nt_names_new(size_t max);
void nt_names_free(nt_names *n);
void nt_names_set(nt_names *n, uint64_t zone, const mm_ipaddr *a, const char *name);
const char *nt_names_get(const nt_names *n, uint64_t zone, const mm_ipaddr *a);
size_t nt_names_count(const nt_names *n);
/* The table's shared copy of a name for another holder (a flow's SNI or
 * Host), and its release (NULL: none); names are kept once, counted. */
const char *nt_names_hold(nt_names *n, const char *name);
void nt_names_drop(nt_names *n, const char *name);
/* nt_names_set for a name from nt_names_hold (the caller's hold stays its own) */
void nt_names_set_held(nt_names *n, uint64_t zone, const mm_ipaddr *a, const char *name);

/* ---- application parsers (app.c) ---------------------------------------- */

/* A DNS message: calls fn for the question name and each answer record
 * (name, type, address for A/AAAA, target for CNAME).  <0 = malformed.
 * The question's name stays readable until nt_dns_parse returns. */
typedef struct nt_dns_rr {
    const char *name;            /* owner name, lower case */
    uint16_t type;               /* 1 A, 28 AAAA, 5 CNAME; 0 = the question */
    mm_ipaddr addr;
    const char *target;          /* CNAME target */
    uint32_t ttl;                /* answers: the record's TTL (seconds) */
} nt_dns_rr;
typedef void (*nt_dns_fn)(void *ud, const nt_dns_rr *rr, bool response);
int nt_dns_parse(const uint8_t *d, size_t len, nt_dns_fn fn, void *ud);
/* TLS ClientHello SNI from the start of a client stream: 1 found (name
 * written, lower case), 0 not TLS or no SNI, -1 need more bytes. */
int nt_tls_sni(const uint8_t *d, size_t len, char *name, size_t n);
/* HTTP request Host header: 1 found, 0 not HTTP / no Host, -1 need more. */
int nt_http_host(const uint8_t *d, size_t len, char *name, size_t n);
/* A name is a plausible DNS host name (no controls, <= 253). */
bool nt_name_ok(const char *s, size_t len);

/* ---- flows --------------------------------------------------------------------- */

typedef struct nt_fkey {
    uint8_t ip_lo[16], ip_hi[16];
    uint16_t port_lo, port_hi;
    uint8_t family, proto;
    uint16_t vlan;
    uint32_t zone;               /* index of the zone (netns) */
    uint32_t pad;                /* 0: the key is 48 bytes, compared a word at a time */
} nt_fkey;

typedef struct nt_half {         /* one direction of TCP reassembly */
    uint32_t next_seq;
    uint32_t delivered;
    uint32_t buffered;
    struct nt_seg *ooo;
    uint32_t gap;                /* bytes missing before the next delivery */
    uint8_t init, done, fin;
    /* application parser's small buffer when a message spans segments */
    uint8_t *abuf;
    uint32_t alen;
} nt_half;

enum { PROBE_NONE = 0, PROBE_SYN, PROBE_FIN, PROBE_NULL, PROBE_XMAS,
       PROBE_ACK, PROBE_UDP, PROBE_MAIMON, PROBE_CONNECT };

typedef struct nt_flow {
    nt_fkey key;
    uint32_t hash;
    uint32_t source;
    uint64_t id;
    int64_t first, last;
    uint64_t pkts[2], bytes[2];  /* by client/server direction */
    uint8_t flags[2];
    uint8_t cli_lo;              /* client is the key's "lo" side */
    uint8_t syn, synack, est, fin[2], rst, data[2];
    uint8_t probe;               /* PROBE_* of the first packet */
    uint8_t probe_state;         /* 0 none, 1 pending, 2 judged */
    uint8_t syn_opts;            /* options on the client's SYN */
    uint8_t app[2];              /* per direction: 0 unknown, 1 tls, 2 http, 3 dns, 9 done */
    uint8_t checked;             /* baseline/listen checks done */
    uint8_t live;
    uint8_t refused;
    uint8_t suspicious;          /* judged a scan probe */
    uint16_t icmp_tc;
    const char *sni, *host;      /* held in the name table (nt_names_hold) */
    nt_half *half;               /* [2] by direction, NULL when not reassembling */
} nt_flow;

typedef struct nt_addrkey {
    uint64_t zone;
    uint8_t family, pad[7];
    uint8_t ip[16];
} nt_addrkey;
void nt_addrkey_make(nt_addrkey *k, uint64_t zone, const mm_ipaddr *a);

typedef struct nt_sockkey {
    uint64_t zone;
    uint8_t proto, family;
    uint16_t lport, rport, pad;
    uint8_t l[16], r[16];
} nt_sockkey;

typedef struct nt_pend {         /* a probe awaiting its deadline */
    uint32_t idx;
    uint64_t id;
    int64_t t;
} nt_pend;

/* ---- scan detector (scan.c) ------------------------------------------------------ */

typedef struct nt_scan nt_scan;
typedef struct nt_scan_hit {
    bool vertical;               /* else horizontal */
    bool slow;
    uint64_t zone;
    mm_ipaddr src, dst;          /* dst: the host (vertical) */
    uint16_t port;               /* the port (horizontal) */
    uint8_t proto;
    unsigned kinds;              /* 1 << PROBE_* seen */
    unsigned count;              /* distinct ports/hosts in the window */
    unsigned total;              /* distinct ports/hosts so far */
    int64_t first, last;
} nt_scan_hit;
typedef void (*nt_scan_fn)(void *ud, const nt_scan_hit *h);
nt_scan *nt_scan_new(const mm_net_scan_opts *o);
void nt_scan_free(nt_scan *s);
/* A probe from src to dst:port judged suspicious at time ts. */
void nt_scan_note(nt_scan *s, uint32_t zone, const mm_ipaddr *src,
                  const mm_ipaddr *dst, uint16_t port, uint8_t proto,
                  int kind, int64_t ts, nt_scan_fn fn, void *ud);
const char *nt_probe_name(int kind);

/* ---- topology (topo.c) ----------------------------------------------------------- */

typedef struct nt_node_info {
    const char *id;              /* node id */
    const char *kind;            /* "container", "pod", "address" */
    const mm_container *container;
    const mm_ipaddr *addr;
    const char *name;            /* DNS/SNI name, NULL */
    int64_t pid;
    const char *comm;
} nt_node_info;
/* The graph's node for an address seen before (-1: build its info and
 * call nt_topo_node_add); names and processes seen since; an edge's flow. */
long nt_topo_node_for(const mm_net_topo *t, uint64_t zone, const mm_ipaddr *a);
bool nt_topo_has_edge_ix(const mm_net_topo *t, long ci, long si, uint8_t proto, uint16_t port);
long nt_topo_node_add(mm_net_topo *t, uint64_t zone, const nt_node_info *ni);
void nt_topo_node_touch(mm_net_topo *t, long ix, const char *name, const char *comm);
/* A finished flow counted into its edge: nt_topo_flow_edge finds the edge
 * of a (zone, client, server, proto, port) seen before (-1: find or make
 * the nodes and call nt_topo_flow_edge_add, which remembers the pair). */
long nt_topo_flow_edge(mm_net_topo *t, uint64_t zone, const mm_net_flow *f, uint16_t port);
void nt_topo_flow_edge_add(mm_net_topo *t, uint64_t zone, long ci, long si,
                           const mm_net_flow *f, uint16_t port);
/* A baseline's edge between the nodes of two addresses (any zone). */
bool nt_topo_has_flow(const mm_net_topo *t, const mm_ipaddr *c, const mm_ipaddr *s,
                      uint8_t proto, uint16_t port);
void nt_topo_listen(mm_net_topo *t, const nt_node_info *node, uint8_t proto,
                    uint16_t port);
/* The names (DNS) a baseline's node carries, to match servers by name. */

/* ---- the engine --------------------------------------------------------------------- */

typedef struct nt_source {
    char *label;
    uint64_t zone;
    uint32_t zidx;
    mm_container *container;
} nt_source;

typedef struct nt_zone {
    uint64_t zone;
} nt_zone;

struct mm_net {
    mm_net_opts o;
    char *hostname;
    nt_source *src;
    size_t nsrc;
    uint64_t *zones;
    size_t nzones;
    /* flows: slab + index */
    nt_flow *flows;
    size_t nflows_cap, nflows_used;
    size_t flows_mapped, flows_pop; /* the slab's reservation and how much of it is
                                       populated (flow_alloc); 0: malloc'd */
    uint32_t *free_flows;
    size_t nfree, cap_free;
    /* the flow index: open addressing over slots of hash << 32 | (slab
     * index + 1), keys compared in the slab (8 bytes a slot, not the 56 of
     * an nt_tab slot with the key inline: the record is read on a hit
     * anyway, and a 100k-flow index is 2 MiB instead of 15) */
    uint64_t *fidx;
    size_t fidx_cap, fidx_count;
    uint64_t fseed;              /* nt_hash's secret for the flow keys */
    uint64_t next_id;
    int64_t now, last_sweep;
    int64_t due;                 /* packet time when timers() is next due */
    int64_t probe_to;            /* o.scan.probe_timeout_s in ns */
    nt_pend *pend;               /* ring of pending probes, in time order */
    size_t pend_head, npend, cappend;
    nt_tab listed;               /* addresses resolved from listed domains */
    char **listed_why;
    size_t nlisted;
    mm_ipaddr va, vb;            /* nt_flow_view's storage for addresses */
    nt_scan *scan;
    nt_names *names;
    nt_tab owners;               /* zone+addr -> container index */
    mm_container **owner_ct;
    size_t nowner_ct;
    nt_tab socks;                /* zone+proto+l/r tuple -> socket index */
    struct nt_sock { int64_t pid; char comm[16]; } *sockv;
    size_t nsock;
    mm_map *expose;              /* workload -> (char*) "tcp/80 udp/53 ..." */
    nt_tab listen_seen;          /* zone+addr+proto+port seen listening */
    mm_map *alerted;             /* dedup keys of one-shot findings */
    const mm_net_blocklist *bl;
    const mm_net_topo *baseline;
    mm_profile *profile;
    mm_net_topo *topo;
    mm_findings *findings;
    mm_net_stats st;
    size_t reasm_total;
    nt_half *half_pool;          /* freed reassembly pairs for reuse (reasm.c) */
    size_t nhalf_pool;
    char scratch[512];
};

/* reasm.c */
#define NT_APP_DONE 9            /* nt_flow.app: the parsers want no more */
void nt_reasm_segment(mm_net *n, nt_flow *f, int dir, const nt_pkt *p);
void nt_reasm_free(mm_net *n, nt_flow *f);
void nt_reasm_pool_free(mm_net *n);
/* Whether a TCP segment of f is of use to nt_reasm_segment: a stream callback
 * or a direction whose parser still waits.  Most packets of a flow come after
 * both parsers have their answer; the engine skips the call for them. */
static inline bool nt_reasm_wanted(const mm_net *n, const nt_flow *f)
{
    return n->o.on_stream || f->app[0] != NT_APP_DONE || f->app[1] != NT_APP_DONE;
}
/* app.c: payload for the application parsers of a flow direction. */
void nt_app_data(mm_net *n, nt_flow *f, int dir, const uint8_t *d, size_t len);
void nt_app_udp(mm_net *n, nt_flow *f, int dir, const nt_pkt *p);

/* engine.c: what the parsers found */
void nt_on_name(mm_net *n, nt_flow *f, int kind, const char *name); /* 1 sni, 2 host */
/* A DNS message's question name as answers are attributed to it, and its
 * blocklist verdict once looked up (the question and every answer share it). */
typedef struct nt_dns_q {
    const char *name;
    const char *why;
    bool looked;
} nt_dns_q;
void nt_on_dns(mm_net *n, nt_flow *f, const nt_dns_rr *rr, bool response, nt_dns_q *q);
/* detect.c: the engine's events */
void nt_on_scan(void *ud, const nt_scan_hit *h);
void nt_on_new_flow(mm_net *n, nt_flow *f);
void nt_on_listen(mm_net *n, nt_flow *f);
void nt_on_established(mm_net *n, nt_flow *f);
void nt_topo_flow(mm_net *n, const nt_flow *f, const mm_net_flow *v);

/* engine.c helpers shared with others */
void nt_flow_view(mm_net *n, const nt_flow *f, mm_net_flow *v);
/* owner.c: a flow's client and server ends (a, b: storage for the addresses) */
void nt_flow_ends(const nt_flow *f, const mm_ipaddr **cli, const mm_ipaddr **srv,
                  mm_ipaddr *a, mm_ipaddr *b, uint16_t *cport, uint16_t *sport);
/* owner.c: whether a listening socket on a:port (proto, zone) was seen */
bool nt_listening(const mm_net *n, uint64_t zone, uint8_t proto,
                  const mm_ipaddr *a, uint16_t port);
const mm_container *nt_owner(const mm_net *n, uint64_t zone, const mm_ipaddr *a);
const char *nt_node_id(const mm_net *n, const mm_container *c, const mm_ipaddr *a,
                       char *buf, size_t len);

/* jsonrd.c: a flat-token JSON reader (the baseline).  Token 0 is the root;
   an object's children are key (a string), value, key, value...; a value's
   `next` is the index just past its subtree.  Strings are NUL-terminated
   at text + off. */
enum { NT_J_NULL, NT_J_TRUE, NT_J_FALSE, NT_J_INT, NT_J_REAL, NT_J_STR, NT_J_ARR, NT_J_OBJ };
#define NT_JSON_MAX_TOKENS (8u << 20)
/* zero bytes a buffer handed to nt_json_parse_buf holds after the text
   (the reader scans 16 bytes at a time and stops at the first NUL) */
#define NT_JSON_PAD 32
typedef struct nt_jtok {         /* 16 bytes: a 10 MB baseline is 740k tokens */
    uint8_t type;
    uint32_t next;
    union {
        uint32_t n;              /* array items / object pairs */
        struct {
            uint32_t off, len;   /* strings */
        };
        int64_t i;               /* integers */
    };
} nt_jtok;
typedef struct nt_json {
    char *text;
    nt_jtok *tok;
    size_t ntok, cap;
} nt_json;
int nt_json_parse(nt_json *j, const char *name, const char *data, size_t len);
/* The same on buf[0..len), which it takes (freed by nt_json_free, also on
   an error): buf holds NT_JSON_PAD zero bytes after the text.  The parse
   happens in place, without a copy. */
int nt_json_parse_buf(nt_json *j, const char *name, char *buf, size_t len);
void nt_json_free(nt_json *j);
long nt_json_get(const nt_json *j, long obj, const char *key); /* value index or -1 */
/* Several keys (of up to 15 bytes) of one object in one walk: vals[i] =
   the value of keys[i] or -1 (all -1 when obj is not an object). */
typedef struct nt_jkey {
    char s[16];                  /* zero-padded: compared 8 bytes at a time */
    uint32_t len;
} nt_jkey;
#define NT_JKEY(lit) {lit, sizeof lit - 1}
void nt_json_fields(const nt_json *j, long obj, const nt_jkey *keys, size_t nkeys, long *vals);

#endif
