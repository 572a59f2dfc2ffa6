/*
 * mamori/net.h - the network sensor (SP 800-190 §3.3.3, §3.4.2): packet
 * capture (libpcap live and offline, an AF_PACKET TPACKET_V3 ring, inside
 * container network namespaces), decoding (Ethernet, VLAN, Linux cooked,
 * raw IPv4/IPv6, TCP, UDP, ICMP), bidirectional flows, TCP reassembly
 * capped per flow and in total, names for addresses (DNS answers, TLS SNI,
 * HTTP Host), detections (port scans, listed destinations, unexpected
 * listening ports, flows outside a learned baseline) and the observed
 * service graph (topology) as JSON and DOT.
 *
 * Shape, so that the agent, the server and the enforcement layer (issue 22)
 * can plug in:
 *  - mm_net is the engine: it is fed packets (mm_net_feed) from any source,
 *    judges time only from packet timestamps (a recorded pcap replays a
 *    slow scan exactly as it happened), and calls back with
 *      * every detection as both a Falco-style mm_alert (mamori/rules.h, so
 *        the alert sinks and JSON lines of `mamori agent` apply) and an
 *        mm_finding (mamori/finding.h, the one finding shape);
 *      * every finished flow as an mm_net_flow (JSON: mm_net_flow_json);
 *      * optionally, reassembled TCP payload per direction (on_stream),
 *        for a WAF or protocol analyzer.
 *  - mm_net_topo is the service graph; the engine keeps the observed one,
 *    and a saved graph is the learned baseline.
 *  - mm_net_blocklist is a loaded list of IPs, CIDRs and domains.
 *  - mm_net_capture is a packet source; mm_net_discover finds containers'
 *    network namespaces and their addresses, sockets and processes.
 * Everything borrowed from a callback is valid during the call only.  No
 * object here is thread-safe; use one engine per thread.
 */
#ifndef MAMORI_NET_H
#define MAMORI_NET_H

#include "mamori/common.h"
#include "mamori/event.h"
#include "mamori/finding.h"
#include "mamori/profile.h"
#include "mamori/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- link types (pcap LINKTYPE_* values) --------------------------------- */
enum {
    MM_NET_LINK_NULL = 0,       /* BSD loopback: 4-byte family */
    MM_NET_LINK_ETHERNET = 1,
    MM_NET_LINK_RAW = 101,      /* raw IPv4/IPv6 */
    MM_NET_LINK_LOOP = 108,
    MM_NET_LINK_SLL = 113,      /* Linux cooked v1 (pcap "any") */
    MM_NET_LINK_IPV4 = 228,
    MM_NET_LINK_IPV6 = 229,
    MM_NET_LINK_SLL2 = 276,     /* Linux cooked v2 */
};

/* ---- addresses -------------------------------------------------------------- */

/* "10.0.0.1" / "fd00::1" into buf (>= 46 bytes); returns buf. */
const char *mm_net_addr_str(const mm_ipaddr *a, char *buf, size_t n);
/* Parses an IPv4 or IPv6 address (no prefix); 0 or MM_EFORMAT. */
int mm_net_addr_parse(mm_ipaddr *out, const char *s);

/* ---- flows ------------------------------------------------------------------ */

/* Who an endpoint is, where known (borrowed strings, NULL = unknown). */
typedef struct mm_net_owner {
    const mm_container *container; /* NULL: not a known container */
    int64_t pid;                   /* 0 = unknown */
    const char *comm;              /* process name */
} mm_net_owner;

enum { MM_NET_DIR_C2S = 0, MM_NET_DIR_S2C = 1 };

/* A bidirectional flow: client = the side that opened it (SYN sender, first
 * sender of UDP/ICMP; for TCP picked up mid-stream, the side on the higher
 * port unless the other is known to listen). */
typedef struct mm_net_flow {
    uint64_t id;                 /* unique per engine */
    uint8_t proto;               /* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP(V6), ... */
    mm_ipaddr cli, srv;
    uint16_t cport, sport;       /* ICMP: type/code of the first packet in cport */
    uint16_t vlan;               /* outermost VLAN id, 0 = none */
    uint64_t pkts[2], bytes[2];  /* [MM_NET_DIR_C2S], [MM_NET_DIR_S2C]; bytes on the wire */
    uint8_t tcp_flags[2];        /* OR of the TCP flags each side sent */
    int64_t first_ns, last_ns;   /* packet timestamps */
    const char *state;           /* "new", "established", "closed", "reset", "refused", "unanswered" */
    const char *srv_name;        /* a name of the server address (DNS/SNI/Host), NULL */
    const char *sni, *http_host; /* what the client sent, NULL */
    const char *source;          /* capture source label (interface, netns, file) */
    mm_net_owner cli_owner, srv_owner;
    const char *end_reason;      /* "idle", "closed", "end", "evicted" */
} mm_net_flow;

/* One JSON object (no newline); caller frees. */
char *mm_net_flow_json(const mm_net_flow *f);

/* ---- blocklists --------------------------------------------------------------- */

typedef struct mm_net_blocklist mm_net_blocklist;

/* Loads a list: plain (one IP, CIDR or domain a line, '#' comments, hosts
 * file lines "0.0.0.0 NAME"), CSV with a header (a column named indicator,
 * ioc, value, ip, ip_address, cidr, network, domain, hostname, host or url;
 * optional type/description/comment/threat columns) or a STIX 2.1 JSON
 * bundle/object list (indicators with pattern_type stix whose patterns are
 * OR-ed equality comparisons on ipv4-addr:value, ipv6-addr:value,
 * domain-name:value, url:value; revoked and expired indicators skipped).
 * Several files: call mm_net_blocklist_add_file again.  Untrusted input:
 * 64 MiB per file, 4 M entries.  Errors name the file and line/field. */
int mm_net_blocklist_new(mm_net_blocklist **out);
int mm_net_blocklist_add_file(mm_net_blocklist *b, const char *path);
int mm_net_blocklist_add_string(mm_net_blocklist *b, const char *name,
                                const char *data, size_t len);
void mm_net_blocklist_free(mm_net_blocklist *b);
size_t mm_net_blocklist_count(const mm_net_blocklist *b);
/* Entries skipped (unsupported pattern, bad line), with the first reason. */
size_t mm_net_blocklist_skipped(const mm_net_blocklist *b, const char **why);
/* Matching: the reason text of the entry (borrowed), NULL when unlisted.
 * Domains match themselves and their subdomains. */
const char *mm_net_blocklist_match_ip(const mm_net_blocklist *b, const mm_ipaddr *a);
const char *mm_net_blocklist_match_domain(const mm_net_blocklist *b, const char *name);
/* A reloading set of files: mm_net_blocklist_watch_check() reloads when a
 * file's size, mtime or inode changed; *changed says so.  On a load error
 * the previous list stays in use and the error is returned. */
typedef struct mm_net_blocklist_watch mm_net_blocklist_watch;
int mm_net_blocklist_watch_new(mm_net_blocklist_watch **out,
                               const char *const *paths, size_t n);
int mm_net_blocklist_watch_check(mm_net_blocklist_watch *w, bool *changed);
const mm_net_blocklist *mm_net_blocklist_watch_get(const mm_net_blocklist_watch *w);
void mm_net_blocklist_watch_free(mm_net_blocklist_watch *w);

/* ---- topology (service graph) and baselines -------------------------------- */

typedef struct mm_net_topo mm_net_topo;

int mm_net_topo_new(mm_net_topo **out);
void mm_net_topo_free(mm_net_topo *t);
/* Loads a graph written by mm_net_topo_json (a learned baseline).  Caps:
 * 64 MiB, 1 M nodes/edges; errors name the file and the field. */
int mm_net_topo_load_file(mm_net_topo **out, const char *path);
int mm_net_topo_load_string(mm_net_topo **out, const char *name,
                            const char *json, size_t len);
/* {"nodes":[...],"edges":[...]} (docs/net.md gives the schema); caller frees. */
char *mm_net_topo_json(const mm_net_topo *t);
/* A Graphviz digraph; caller frees. */
char *mm_net_topo_dot(const mm_net_topo *t);
size_t mm_net_topo_node_count(const mm_net_topo *t);
size_t mm_net_topo_edge_count(const mm_net_topo *t);
/* Is client -> server (node ids or names) on proto/port in the graph? */
bool mm_net_topo_has_edge(const mm_net_topo *t, const char *client,
                          const char *server, uint8_t proto, uint16_t port);
/* Is node seen (or learned) listening on proto/port?  *known says whether
 * the graph has the node at all. */
bool mm_net_topo_has_listen(const mm_net_topo *t, const char *node,
                            uint8_t proto, uint16_t port, bool *known);

/* ---- the engine ---------------------------------------------------------------- */

typedef struct mm_net mm_net;

/* Port-scan thresholds: a source that probes at least `ports` distinct ports
 * of one host (vertical) or `hosts` distinct hosts on one port (horizontal)
 * within `window_s`, or `slow_ports`/`slow_hosts` within `slow_window_s`, is
 * scanning.  A probe counts once its outcome is known: refused (RST, ICMP
 * unreachable), unanswered after probe_timeout_s, half-open, closed without
 * data, or a flag combination no stack sends (FIN, NULL, XMAS, stray ACK
 * answered by RST).  0 = the default (in brackets). */
typedef struct mm_net_scan_opts {
    unsigned ports;              /* [15] */
    unsigned hosts;              /* [15] */
    unsigned window_s;           /* [60] */
    unsigned slow_ports;         /* [6] */
    unsigned slow_hosts;         /* [8] */
    unsigned slow_window_s;      /* [7200] */
    unsigned probe_timeout_s;    /* [3] */
    bool disabled;
} mm_net_scan_opts;

/* Reassembled TCP payload of one direction, in order.  gap > 0: that many
 * bytes were lost before data (capture loss or a cap).  Return false to stop
 * receiving this flow's stream (both directions). */
typedef bool (*mm_net_stream_fn)(void *ud, const mm_net_flow *f, int dir,
                                 const uint8_t *data, size_t len, size_t gap);
typedef void (*mm_net_flow_fn)(void *ud, const mm_net_flow *f);
/* A DNS answer seen on flow f (the resolver's reply): the name that was
 * looked up (CNAMEs followed), one A/AAAA address and the record's TTL in
 * seconds.  The name-based egress sets of the segmentation (mamori/netpol.h)
 * follow these. */
typedef void (*mm_net_name_fn)(void *ud, const mm_net_flow *f, const char *name,
                               const mm_ipaddr *addr, uint32_t ttl);
/* A detection: the alert (Falco's shape; source "mamori_net", rule,
 * priority, output, output fields) and the same as an mm_finding (kind
 * MM_FIND_NETWORK, SP 800-190 section).  Both borrowed. */
typedef void (*mm_net_alert_fn)(void *ud, const mm_alert *a,
                                const mm_finding *f);

typedef struct mm_net_opts {
    size_t max_flows;            /* flow table cap [1048576] */
    size_t reasm_flow_max;       /* out-of-order bytes per flow direction [262144] */
    size_t reasm_total_max;      /* out-of-order bytes over all flows [67108864] */
    size_t stream_depth;         /* payload bytes per direction reassembled [65536]
                                    (with on_stream: (size_t)-1 = all) */
    unsigned tcp_idle_s;         /* [300] */
    unsigned udp_idle_s;         /* [60] */
    unsigned closed_s;           /* after FIN/RST [5] */
    size_t max_names;            /* address -> name table [262144] */
    mm_net_scan_opts scan;
    const char *hostname;        /* for alerts; NULL = gethostname() */
    bool learn;                  /* learning: no baseline/listen findings */
    bool no_topology;            /* the observed service graph is not built
                                    (mm_net_topology() stays empty): for
                                    callers that write neither the graph nor
                                    a baseline; detections are the same */
    mm_net_alert_fn on_alert;
    mm_net_flow_fn on_flow;      /* each flow when it ends */
    mm_net_stream_fn on_stream;
    mm_net_name_fn on_name;      /* each DNS answer's address, NULL */
    void *ud;
} mm_net_opts;

int mm_net_new(mm_net **out, const mm_net_opts *opts);
void mm_net_free(mm_net *n);

/* A packet source (interface, netns, file) the engine attributes packets
 * to.  container: the container whose namespace it is (a reference is
 * taken; NULL = host).  zone: sources in different network namespaces
 * get different zones, so equal private addresses do not merge.  Returns
 * the source id for mm_net_feed. */
uint32_t mm_net_source_add(mm_net *n, const char *label, uint64_t zone,
                           const mm_container *container);

/* One packet: link type (MM_NET_LINK_*), timestamp (ns since the epoch),
 * the captured bytes and the length on the wire.  Malformed packets are
 * counted, never fatal. */
void mm_net_feed(mm_net *n, uint32_t source, int linktype, int64_t ts_ns,
                 const uint8_t *data, size_t caplen, size_t wirelen);
/* Lets time pass without packets (live capture): expires idle flows and
 * judges unanswered probes up to now_ns. */
void mm_net_advance(mm_net *n, int64_t now_ns);
/* Ends every flow and judges every pending probe (end of a file or of a
 * capture). */
void mm_net_finish(mm_net *n);

/* What the engine is told from outside. */
/* Uses b for listed-destination detection (borrowed; NULL = none); may be
 * swapped at any time (a reloaded list). */
void mm_net_set_blocklist(mm_net *n, const mm_net_blocklist *b);
/* The learned baseline to compare flows and listening ports with
 * (borrowed; NULL = none). */
void mm_net_set_baseline(mm_net *n, const mm_net_topo *t);
/* A behaviour profile learned by `mamori agent --learn` (mamori/profile.h;
 * borrowed, NULL = none): a container's listening port outside its image's
 * `listen` entries is reported as well. */
void mm_net_set_profile(mm_net *n, mm_profile *p);
/* addr (in zone) belongs to container c (a reference is taken). */
void mm_net_addr_owner(mm_net *n, uint64_t zone, const mm_ipaddr *addr,
                       const mm_container *c);
/* A socket of a process: local and remote address/port (remote port 0 and
 * address family 0 for listening/unconnected).  From /proc (mm_net_discover)
 * or the runtime sensor's connect/accept events. */
void mm_net_note_socket(mm_net *n, uint64_t zone, uint8_t proto,
                        const mm_ipaddr *laddr, uint16_t lport,
                        const mm_ipaddr *raddr, uint16_t rport,
                        int64_t pid, const char *comm);
/* A port the workload may listen on (its image's EXPOSE, or --expose).
 * workload: a node id (container name, "ns/pod", address) or image name. */
void mm_net_expose(mm_net *n, const char *workload, uint8_t proto, uint16_t port);
/* ExposedPorts of an image config JSON ({"config":{"ExposedPorts":...}} or
 * the inner config object) for the workload.  Returns the count added. */
int mm_net_expose_image_config(mm_net *n, const char *workload,
                               const char *config_json, size_t len);

/* The observed service graph (owned by the engine; flows are added when
 * they end, so call after mm_net_finish for the whole capture). */
const mm_net_topo *mm_net_topology(const mm_net *n);
/* Detections so far (owned by the engine). */
const mm_findings *mm_net_findings(const mm_net *n);

typedef struct mm_net_stats {
    uint64_t packets, bytes;
    uint64_t malformed;          /* could not be decoded past L2/L3 */
    uint64_t non_ip;             /* ARP and other non-IP frames */
    uint64_t fragments;          /* IP fragments after the first */
    uint64_t flows, flows_active, flows_dropped; /* dropped: table full */
    uint64_t reasm_buffered;     /* out-of-order bytes held now */
    uint64_t reasm_dropped;      /* bytes not reassembled because of a cap */
    uint64_t dns_answers, names;
    uint64_t alerts;
} mm_net_stats;
void mm_net_stats_get(const mm_net *n, mm_net_stats *out);
/* {"packets":...} on one line; caller frees. */
char *mm_net_stats_json(const mm_net_stats *s);
/* The findings as a JSON array in the report's finding shape; caller frees. */
char *mm_net_findings_json(const mm_findings *f);

/* ---- capture ---------------------------------------------------------------------- */

typedef enum mm_net_engine {
    MM_NET_ENGINE_AUTO = 0,      /* files: mmap pcap / libpcap; live: afpacket */
    MM_NET_ENGINE_PCAP,          /* libpcap */
    MM_NET_ENGINE_AFPACKET,      /* AF_PACKET TPACKET_V3 ring (Linux, live) */
} mm_net_engine;

typedef struct mm_net_capture_opts {
    const char *file;            /* offline: pcap or pcapng ("-" = stdin) */
    const char *iface;           /* live: interface; "any" or NULL = all */
    const char *netns;           /* live: a netns file (/proc/PID/ns/net,
                                    /run/netns/NAME); NULL = the caller's */
    const char *filter;          /* BPF filter expression (tcpdump syntax) */
    mm_net_engine engine;
    unsigned snaplen;            /* [262144] */
    size_t ring_bytes;           /* live buffer [64 MiB] */
    bool promisc;
} mm_net_capture_opts;

typedef struct mm_net_capture mm_net_capture;

/* Opens a capture.  Live capture in another network namespace enters it
 * (setns) on this thread only for the socket's creation, then returns. */
int mm_net_capture_open(mm_net_capture **out, const mm_net_capture_opts *o);
void mm_net_capture_free(mm_net_capture *c);
int mm_net_capture_linktype(const mm_net_capture *c);
/* A descriptor to poll for readability (live), -1 for files. */
int mm_net_capture_fd(const mm_net_capture *c);
const char *mm_net_capture_label(const mm_net_capture *c);

/* One packet: its link type (an AF_PACKET ring bound to every interface
 * can mix them), timestamp in ns since the epoch, bytes and wire length. */
typedef void (*mm_net_pkt_fn)(void *ud, int linktype, int64_t ts_ns,
                              const uint8_t *data, size_t caplen, size_t wirelen);
/* Delivers up to max packets (0 = all ready) without blocking longer than
 * timeout_ms (live).  Returns the number delivered, 0 when none were ready,
 * MM_ENOTFOUND at the end of a file, or a negative MM_E* (a truncated or
 * corrupt file: MM_EFORMAT naming the offset). */
int mm_net_capture_next(mm_net_capture *c, int max, int timeout_ms,
                        mm_net_pkt_fn fn, void *ud);
/* mm_net_capture_next with every packet fed to the engine n as source
 * (mm_net_feed); same returns. */
int mm_net_capture_feed(mm_net_capture *c, int max, int timeout_ms, mm_net *n,
                        uint32_t source);

typedef struct mm_net_capture_stats {
    uint64_t received;           /* packets delivered */
    uint64_t dropped;            /* kernel drops (ring full) */
    uint64_t if_dropped;         /* interface drops, where known */
} mm_net_capture_stats;
void mm_net_capture_stats_get(mm_net_capture *c, mm_net_capture_stats *out);

/* ---- containers' network namespaces --------------------------------------------- */

typedef struct mm_net_ns {
    uint64_t inode;              /* netns inode (the zone) */
    int64_t pid;                 /* a process in it */
    char *path;                  /* "/proc/PID/ns/net" */
    mm_container *container;     /* NULL: the host's namespace */
    mm_ipaddr *addrs;            /* local addresses (not loopback) */
    size_t naddrs;
} mm_net_ns;

typedef struct mm_net_nslist {
    mm_net_ns *ns;
    size_t count;
} mm_net_nslist;

/* Finds network namespaces of running containers from /proc (processes
 * whose cgroup names a container, attributed as mamori/sensor.h does),
 * with their local addresses.  proc_root: NULL = "/proc"; storage_root:
 * a podman/CRI-O containers/storage whose containers.json and images.json
 * name containers the runtime metadata did not (NULL = the default place
 * only); host: also list the caller's own namespace. */
int mm_net_discover(mm_net_nslist *out, const char *proc_root,
                    const char *storage_root, bool host);
void mm_net_nslist_free(mm_net_nslist *l);
/* Reads the sockets of a namespace (/proc/PID/net/{tcp,tcp6,udp,udp6}) and
 * the processes holding them (/proc/PID/fd of processes in the namespace)
 * and tells the engine (mm_net_note_socket; listening sockets too).  Returns
 * the number of sockets noted. */
int mm_net_scan_sockets(mm_net *n, const mm_net_ns *ns, const char *proc_root);
/* The image config of a podman/CRI-O (containers/storage below
 * storage_root, NULL = /var/lib/containers/storage) or docker
 * (/var/lib/docker) container, for its EXPOSE; caller frees *json. */
int mm_net_container_image_config(char **json, size_t *len,
                                  const mm_container *c,
                                  const char *storage_root);

#ifdef __cplusplus
}
#endif
#endif
