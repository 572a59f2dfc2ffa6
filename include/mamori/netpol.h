/*
 * mamori/netpol.h - network segmentation (SP 800-190 §3.4.2): a YAML
 * policy per container (by name, image or label) with the peers, ports,
 * egress names and CIDRs it may talk to and a default of deny, compiled to
 * an nftables ruleset in a table mamori owns, applied inside the
 * container's network namespace (setns) or on the host's forward hook,
 * atomically (one nftables transaction per namespace) and rolled back to
 * the previous rulesets when one namespace of a set fails.  Egress names
 * follow the DNS answers the network sensor sees (mm_net_opts.on_name)
 * into sets whose elements time out with the answer's TTL.  Dropped
 * packets are logged to an nflog group and read back as alerts
 * (MM-NET-040) and findings.  A learned service graph (mamori/net.h
 * baseline JSON) can be turned into a policy file to review and apply.
 *
 * The policy file (docs/netpol.md has the whole schema):
 *
 *   version: 1
 *   policies:
 *     - name: web
 *       match: {container: web}          # or image: / labels: {k: v}
 *       default: deny                    # or allow (log only what is denied: nothing)
 *       ingress:
 *         - from: [10.88.0.0/16, db]     # CIDRs, addresses, container names
 *           ports: [tcp/80, 8443, udp/53, tcp/9000-9010, icmp]
 *       egress:
 *         - to: [10.0.0.53]
 *           ports: [udp/53, tcp/53]
 *         - names: [api.example.com, "*.cdn.example.net"]
 *           ports: [tcp/443]
 *
 * Nothing here is thread-safe; objects are independent.
 */
#ifndef MAMORI_NETPOL_H
#define MAMORI_NETPOL_H

#include "mamori/common.h"
#include "mamori/event.h"
#include "mamori/finding.h"
#include "mamori/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- policies -------------------------------------------------------------- */

typedef struct mm_netpol mm_netpol;

/* Loads a policy file (YAML through the one loader).  Untrusted input:
 * 4 MiB, 10,000 policies, 1,000 rules a policy, 10,000 peers, 1,000 ports
 * and 1,000 names a rule.  Errors: MM_EFORMAT / MM_ELIMIT naming
 * "FILE:LINE:COL: policies[i].field". */
int mm_netpol_load_file(mm_netpol **out, const char *path);
int mm_netpol_load_string(mm_netpol **out, const char *name,
                          const char *data, size_t len);
void mm_netpol_free(mm_netpol *p);
size_t mm_netpol_count(const mm_netpol *p);
const char *mm_netpol_name(const mm_netpol *p, size_t i);

/* The first policy whose `match` fits a workload: its container name,
 * image (repository or repo:tag) and labels ("key=value"); each given
 * selector field must match (shell globs).  -1 when none does. */
long mm_netpol_select(const mm_netpol *p, const char *name, const char *image,
                      const char *const *labels, size_t nlabels);

/* Container names used as peers resolve through this callback: the
 * addresses of the named workload (borrowed until the compile returns);
 * 0 addresses = unknown (an error naming the peer). */
typedef size_t (*mm_netpol_resolve_fn)(void *ud, const char *peer,
                                       const mm_ipaddr **addrs);

typedef enum mm_netpol_where {
    MM_NETPOL_NETNS = 0,  /* inside the workload's namespace: input/output hooks */
    MM_NETPOL_HOST,       /* on the host: forward hook, matched on the workload's addresses */
} mm_netpol_where;

typedef struct mm_netpol_compile_opts {
    mm_netpol_where where;
    const mm_ipaddr *addrs;      /* HOST: the workload's addresses (required) */
    size_t naddrs;
    unsigned nflog_group;        /* dropped packets' nflog group [100] */
    const char *table;           /* NULL = mm_netpol_table() (on the host, one
                                    table per workload: "mamori_<WORKLOAD>") */
    mm_netpol_resolve_fn resolve;
    void *ud;
} mm_netpol_compile_opts;

/* The table a policy gets: "mamori" in a namespace, "mamori_<NAME>" (name
 * with [^A-Za-z0-9_] as '_') on the host.  Caller frees. */
char *mm_netpol_table(const mm_netpol *p, size_t idx, mm_netpol_where where);

/* Policy idx as an nftables ruleset ("table inet T { ... }"), written
 * exactly as `nft -t list table inet T` prints it once applied, so that
 * a diff against the live table shows only real changes.  Caller frees. */
int mm_netpol_compile(char **ruleset, const mm_netpol *p, size_t idx,
                      const mm_netpol_compile_opts *o);

/* A line diff ("--- a", "+++ b", then " ", "-", "+" lines); "" when equal.
 * Caller frees. */
char *mm_netpol_diff(const char *old_text, const char *new_text,
                     const char *old_label, const char *new_label);

/* A reviewable policy file from a learned service graph (`mamori net
 * --learn --baseline-out`): one policy per container node, default deny,
 * ingress from the clients seen on the ports seen, egress to the servers
 * (their DNS names as egress names where known, else addresses) and DNS.
 * Caller frees the YAML text. */
int mm_netpol_from_baseline(char **yaml, const char *baseline_json, size_t len,
                            const char *name);

/* ---- nftables (libnftables), inside a namespace or on the host ------------- */

/* One namespace's change.  netns: a namespace file (/proc/PID/ns/net,
 * /run/netns/NAME) or NULL for the caller's. */
typedef struct mm_netpol_target {
    const char *netns;
    const char *table;           /* the mamori table it replaces */
    const char *ruleset;         /* mm_netpol_compile's text; NULL = delete the table */
    char *previous;              /* out: the table before (terse listing), NULL = none */
} mm_netpol_target;

/* `nft -t list table inet TABLE` in a namespace; *text NULL when the table
 * does not exist.  Caller frees. */
int mm_netpol_nft_list(char **text, const char *netns, const char *table);
/* The addresses of a namespace's interfaces (not loopback, not link-local
 * IPv6); caller frees *addrs. */
int mm_netpol_netns_addrs(mm_ipaddr **addrs, size_t *n, const char *netns);
/* Any nftables commands as one transaction in a namespace (dry_run: the
 * kernel checks them but nothing changes).  Errors carry nft's message. */
int mm_netpol_nft_run(const char *netns, const char *cmds, bool dry_run);

/* Applies each target as one transaction in its namespace (the table is
 * replaced whole: elements learned from DNS start again).  When one fails,
 * every target already applied gets its previous table back (or loses the
 * new one), and the first error is returned.  fail_at (tests): pretend
 * target fail_at failed (-1 = never).  dry_run: every transaction is
 * checked by the kernel, nothing changes. */
int mm_netpol_apply(mm_netpol_target *t, size_t n, bool dry_run, long fail_at);
void mm_netpol_targets_clear(mm_netpol_target *t, size_t n);

/* Deletes every table whose name starts with "mamori" (any family) in a
 * namespace; *removed counts them. */
int mm_netpol_kill(const char *netns, size_t *removed);

/* ---- egress names from DNS answers ------------------------------------------- */

/* Which sets of a compiled policy a DNS answer fills: for policy idx and a
 * looked-up name, calls fn with the set names ("eg<R>_v4"/"eg<R>_v6" of
 * each egress rule whose names match).  Returns the number of sets. */
typedef void (*mm_netpol_set_fn)(void *ud, const char *set);
size_t mm_netpol_name_sets(const mm_netpol *p, size_t idx, const char *name,
                           int family, mm_netpol_set_fn fn, void *ud);

/* Adds (or refreshes) addr in a set of a table with a timeout of ttl
 * seconds (clamped to [30, 86400]). */
int mm_netpol_set_add(const char *netns, const char *table, const char *set,
                      const mm_ipaddr *addr, uint32_t ttl);

/* A table that drops what the addresses of its sets offenders_v4 and
 * offenders_v6 (timeouts; filled with mm_netpol_set_add) send to TCP
 * port `port` here: the WAF's repeat offenders blocked at the network
 * layer.  nft commands that replace the table (mm_netpol_nft_run).
 * Caller frees. */
char *mm_netpol_offender_table(const char *table, uint16_t port);

/* ---- dropped packets (nflog) ---------------------------------------------------- */

typedef struct mm_netpol_drop {
    int64_t ts_ns;
    const char *prefix;          /* the log prefix: "mamori:POLICY:in|out " */
    const char *policy;          /* parsed from the prefix */
    const char *direction;       /* "ingress" / "egress" */
    uint8_t proto;
    mm_ipaddr src, dst;
    uint16_t sport, dport;       /* ICMP: type in sport */
} mm_netpol_drop;

typedef struct mm_netpol_log mm_netpol_log;

/* Listens to nflog group in a namespace (the socket is made there). */
int mm_netpol_log_open(mm_netpol_log **out, const char *netns, unsigned group);
void mm_netpol_log_free(mm_netpol_log *l);
int mm_netpol_log_fd(const mm_netpol_log *l);
/* Reads what is ready (non-blocking); fn per dropped packet.  Returns the
 * count, or a negative MM_E*. */
typedef void (*mm_netpol_drop_fn)(void *ud, const mm_netpol_drop *d);
int mm_netpol_log_read(mm_netpol_log *l, mm_netpol_drop_fn fn, void *ud);

/* A drop as the alert (rule "Connection denied by segmentation policy",
 * source "mamori_net", Warning) and finding (MM-NET-040, MEDIUM, §3.4.2);
 * both live until the next call on ctx or its free. */
typedef struct mm_netpol_alerter mm_netpol_alerter;
mm_netpol_alerter *mm_netpol_alerter_new(const char *hostname);
void mm_netpol_alerter_free(mm_netpol_alerter *a);
void mm_netpol_alert(mm_netpol_alerter *a, const mm_netpol_drop *d,
                     const char *workload, const mm_alert **alert,
                     const mm_finding **finding);

#ifdef __cplusplus
}
#endif
#endif
