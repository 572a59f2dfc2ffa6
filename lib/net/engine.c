/*
 * engine.c - the network sensor's engine: packets in, flows, detections
 * and the service graph out (the shape is in mamori/net.h).
 *
 * Per packet: decode (decode.c), find or create the bidirectional flow (a
 * slab of records indexed by the fixed-key table of table.c), count it,
 * follow the TCP handshake and judge probes, reassemble TCP payload and
 * parse DNS/TLS/HTTP (reasm.c, app.c).  Time is the packets' own: idle
 * flows and unanswered probes are judged when packet time passes their
 * deadline (mm_net_advance() lets wall time in for a quiet live capture),
 * so a recorded capture replays exactly.  Detections (port scans, listed
 * destinations, unexpected listening ports, flows outside the baseline)
 * are built here as an mm_alert plus an mm_finding (alerts.c formats them).
 * Who an address, a socket and a flow belong to is owner.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "net/net_int.h"

#define NS 1000000000ll

/* ---- set-up ------------------------------------------------------------------ */

int mm_net_new(mm_net **out, const mm_net_opts *opts)
{
    *out = NULL;
    mm_net *n = mm_xcalloc(1, sizeof *n);
    if (opts)
        n->o = *opts;
    if (!n->o.max_flows) n->o.max_flows = 1u << 20;
    if (n->o.max_flows > (1u << 30))
        n->o.max_flows = 1u << 30;
    if (!n->o.reasm_flow_max) n->o.reasm_flow_max = 256u << 10;
    if (!n->o.reasm_total_max) n->o.reasm_total_max = 64u << 20;
    if (!n->o.stream_depth) n->o.stream_depth = 64u << 10;
    if (n->o.stream_depth > UINT32_MAX - 65536)
        n->o.stream_depth = UINT32_MAX - 65536;
    if (!n->o.tcp_idle_s) n->o.tcp_idle_s = 300;
    if (!n->o.udp_idle_s) n->o.udp_idle_s = 60;
    if (!n->o.closed_s) n->o.closed_s = 5;
    char host[256] = "localhost";
    if (n->o.hostname)
        snprintf(host, sizeof host, "%s", n->o.hostname);
    else
        gethostname(host, sizeof host - 1);
    n->hostname = mm_xstrdup(host);
    n->fseed = nt_seed();
    n->probe_to = (int64_t)(n->o.scan.probe_timeout_s ? n->o.scan.probe_timeout_s : 3) * NS;
    n->due = (int64_t)n->o.closed_s * NS;
    n->o.hostname = n->hostname;
    nt_tab_init(&n->owners, sizeof(nt_addrkey));
    nt_tab_init(&n->socks, sizeof(nt_sockkey));
    nt_tab_init(&n->listen_seen, sizeof(nt_sockkey));
    nt_tab_init(&n->listed, sizeof(nt_addrkey));
    n->scan = nt_scan_new(&n->o.scan);
    n->names = nt_names_new(n->o.max_names);
    n->expose = mm_map_new();
    n->alerted = mm_map_new();
    mm_net_topo_new(&n->topo);
    mm_findings_new(&n->findings);
    n->next_id = 1;
    *out = n;
    return 0;
}

void mm_net_free(mm_net *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nflows_used; i++) {
        nt_flow *f = &n->flows[i];
        if (f->id) {
            nt_reasm_free(n, f);
            nt_names_drop(n->names, f->sni);
            nt_names_drop(n->names, f->host);
        }
    }
    if (n->flows_mapped)
        munmap(n->flows, n->flows_mapped);
    else
        free(n->flows);
    nt_reasm_pool_free(n);
    free(n->free_flows);
    free(n->pend);
    free(n->fidx);
    nt_tab_free(&n->owners);
    nt_tab_free(&n->socks);
    nt_tab_free(&n->listen_seen);
    nt_tab_free(&n->listed);
    for (size_t i = 0; i < n->nlisted; i++)
        free(n->listed_why[i]);
    free(n->listed_why);
    for (size_t i = 0; i < n->nowner_ct; i++)
        mm_container_unref(n->owner_ct[i]);
    free(n->owner_ct);
    free(n->sockv);
    for (size_t i = 0; i < n->nsrc; i++) {
        free(n->src[i].label);
        mm_container_unref(n->src[i].container);
    }
    free(n->src);
    free(n->zones);
    nt_scan_free(n->scan);
    nt_names_free(n->names);
    mm_map_free(n->expose, free);
    mm_map_free(n->alerted, NULL);
    mm_net_topo_free(n->topo);
    mm_findings_free(n->findings);
    free(n->hostname);
    free(n);
}

uint32_t mm_net_source_add(mm_net *n, const char *label, uint64_t zone,
                           const mm_container *container)
{
    uint32_t zidx = 0;
    while (zidx < n->nzones && n->zones[zidx] != zone)
        zidx++;
    if (zidx == n->nzones) {
        n->zones = mm_xrealloc(n->zones, (n->nzones + 1) * sizeof *n->zones);
        n->zones[n->nzones++] = zone;
    }
    n->src = mm_xrealloc(n->src, (n->nsrc + 1) * sizeof *n->src);
    nt_source *s = &n->src[n->nsrc];
    s->label = mm_xstrdup(label ? label : "");
    s->zone = zone;
    s->zidx = zidx;
    s->container = mm_container_ref((mm_container *)container);
    return (uint32_t)n->nsrc++;
}

void mm_net_set_blocklist(mm_net *n, const mm_net_blocklist *b) { n->bl = b; }
void mm_net_set_baseline(mm_net *n, const mm_net_topo *t) { n->baseline = t; }
void mm_net_set_profile(mm_net *n, mm_profile *p) { n->profile = p; }
const mm_net_topo *mm_net_topology(const mm_net *n) { return n->topo; }
const mm_findings *mm_net_findings(const mm_net *n) { return n->findings; }

void mm_net_expose(mm_net *n, const char *workload, uint8_t proto, uint16_t port)
{
    char tok[16];
    snprintf(tok, sizeof tok, " %s/%u ", proto == IPPROTO_UDP ? "udp" : "tcp", port);
    char *cur = mm_map_get(n->expose, workload);
    if (cur && strstr(cur, tok))
        return;
    char *nv = mm_xasprintf("%s%s", cur ? cur : "", tok);
    mm_map_put(n->expose, workload, nv);
    free(cur);
}

/* ---- flows -------------------------------------------------------------------- */

/* big-endian order of two addresses of one family without a memcmp call
 * (on every packet): 4 or 16 bytes as 1 or 2 byte-swapped words */
static inline int addr_cmp(const uint8_t *a, const uint8_t *b, bool v4)
{
    if (v4) {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        x = __builtin_bswap32(x);
        y = __builtin_bswap32(y);
        return (x > y) - (x < y);
    }
    for (int i = 0; i < 16; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        if (x != y) {
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
            return x < y ? -1 : 1;
        }
    }
    return 0;
}

/* The flow key of a packet: the lower (address, port) end first, so that
 * both directions find one flow.  On every packet's path: inline, and an
 * IPv4 end compared as one 48-bit number (address, then port). */
static inline __attribute__((always_inline)) void
mkkey(nt_fkey *k, const mm_ipaddr *s, uint16_t sp, const mm_ipaddr *d, uint16_t dp,
      uint8_t proto, uint16_t vlan, uint32_t zidx, bool *src_lo)
{
    bool lo;
    if (s->family == AF_INET) {
        uint32_t x, y;
        memcpy(&x, s->ip, 4);
        memcpy(&y, d->ip, 4);
        uint64_t es = (uint64_t)__builtin_bswap32(x) << 16 | sp,
                 ed = (uint64_t)__builtin_bswap32(y) << 16 | dp;
        lo = es <= ed;
        uint64_t a = lo ? x : y, b = lo ? y : x, z = 0;
        memcpy(k->ip_lo, &a, 8);
        memcpy(k->ip_lo + 8, &z, 8);
        memcpy(k->ip_hi, &b, 8);
        memcpy(k->ip_hi + 8, &z, 8);
    } else {
        int c = addr_cmp(s->ip, d->ip, false);
        lo = c < 0 || (c == 0 && sp <= dp);
        memcpy(k->ip_lo, lo ? s->ip : d->ip, 16);
        memcpy(k->ip_hi, lo ? d->ip : s->ip, 16);
    }
    k->port_lo = lo ? sp : dp;
    k->port_hi = lo ? dp : sp;
    k->family = s->family;
    k->proto = proto;
    k->vlan = vlan;
    k->zone = zidx;
    k->pad = 0;
    *src_lo = lo;
}

/* ---- the flow index (mm_net.fidx) -------------------------------------------------- */

#define NO_FLOW UINT32_MAX

static inline bool fkey_eq(const nt_fkey *a, const nt_fkey *b)
{
    uint64_t d = 0;
    for (size_t i = 0; i < sizeof *a; i += 8) {
        uint64_t x, y;
        memcpy(&x, (const uint8_t *)a + i, 8);
        memcpy(&y, (const uint8_t *)b + i, 8);
        d |= x ^ y;
    }
    return d == 0;
}

/* The slab index of the flow with key k (hash h), or NO_FLOW. */
static inline __attribute__((always_inline)) uint32_t
fidx_get(const mm_net *n, const nt_fkey *k, uint32_t h)
{
    if (!n->fidx_cap)
        return NO_FLOW;
    size_t m = n->fidx_cap - 1;
    for (size_t j = h & m;; j = (j + 1) & m) {
        uint64_t s = n->fidx[j];
        if (!s)
            return NO_FLOW;
        if ((uint32_t)(s >> 32) == h) {
            uint32_t i = (uint32_t)s - 1;
            if (fkey_eq(&n->flows[i].key, k))
                return i;
        }
    }
}

static void fidx_put(mm_net *n, uint32_t h, uint32_t idx)
{
    /* at most half full (a slot is 8 bytes): a lookup probes ~1.3 slots */
    if ((n->fidx_count + 1) * 2 > n->fidx_cap) {
        size_t ncap = n->fidx_cap ? n->fidx_cap * 2 : 1024;
        uint64_t *ns = mm_xcalloc(ncap, sizeof *ns);
        for (size_t i = 0; i < n->fidx_cap; i++) {
            uint64_t s = n->fidx[i];
            if (!s)
                continue;
            size_t j = (s >> 32) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = s;
        }
        free(n->fidx);
        n->fidx = ns;
        n->fidx_cap = ncap;
    }
    size_t m = n->fidx_cap - 1, j = h & m;
    while (n->fidx[j])
        j = (j + 1) & m;
    n->fidx[j] = (uint64_t)h << 32 | (idx + 1);
    n->fidx_count++;
}

/* Removes slab index idx (hash h): backward-shift deletion, no tombstones */
static void fidx_del(mm_net *n, uint32_t h, uint32_t idx)
{
    if (!n->fidx_cap)
        return;
    size_t m = n->fidx_cap - 1, j = h & m;
    uint64_t want = (uint64_t)h << 32 | (idx + 1);
    for (;; j = (j + 1) & m) {
        if (!n->fidx[j])
            return;
        if (n->fidx[j] == want)
            break;
    }
    size_t hole = j;
    for (size_t k = (j + 1) & m; n->fidx[k]; k = (k + 1) & m) {
        size_t home = (n->fidx[k] >> 32) & m;
        bool between = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
        if (between)
            continue;
        n->fidx[hole] = n->fidx[k];
        hole = k;
    }
    n->fidx[hole] = 0;
    n->fidx_count--;
}

/* The flow slab is one reservation of address space for max_flows
 * records (160 MiB for the default million, at most FLOW_RESERVE_MAX), so
 * it never moves: grown by realloc it was copied at each doubling (the
 * heap kept it, not mmap).  Memory is taken as records are used, a step of
 * POP_FLOWS bytes at a time in one call (MADV_POPULATE_WRITE) instead of a
 * page fault per 4 KiB.  Not 2 MiB pages: asking for them made the kernel
 * compact memory on the faults, slower than the small pages. */
#define FLOW_RESERVE_MAX ((size_t)4 << 30)
#define POP_FLOWS ((size_t)1 << 20)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23   /* Linux 5.14; older kernels fault page by page */
#endif

static void flow_reserve(mm_net *n)
{
    size_t bytes = (size_t)n->o.max_flows * sizeof *n->flows;
    if (bytes > FLOW_RESERVE_MAX)
        return;
    void *m = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return;                  /* realloc as the slab grows */
    n->flows = m;
    n->nflows_cap = n->o.max_flows;
    n->flows_mapped = bytes;
}

static uint32_t flow_alloc(mm_net *n)
{
    if (n->nfree)
        return n->free_flows[--n->nfree];
    if (!n->flows)
        flow_reserve(n);
    if (n->flows_mapped) {
        size_t end = (n->nflows_used + 1) * sizeof *n->flows;
        if (end > n->flows_pop && n->flows_pop < n->flows_mapped) {
            size_t l = n->flows_mapped - n->flows_pop < POP_FLOWS ? n->flows_mapped - n->flows_pop
                                                                  : POP_FLOWS;
            madvise((uint8_t *)n->flows + n->flows_pop, l, MADV_POPULATE_WRITE);
            n->flows_pop += l;
        }
    }
    if (n->nflows_used == n->nflows_cap) {
        size_t nc = n->nflows_cap ? n->nflows_cap * 2 : 1024;
        if (nc > n->o.max_flows)
            nc = n->o.max_flows;
        n->flows = mm_xrealloc(n->flows, nc * sizeof *n->flows);
        n->nflows_cap = nc;
    }
    return (uint32_t)n->nflows_used++;
}

static int probe_kind(uint8_t fl, uint32_t paylen)
{
    uint8_t f = fl & (TH_FIN | TH_SYN | TH_RST | TH_PSH | TH_ACK | TH_URG);
    if (f == TH_SYN)
        return PROBE_SYN;
    if (paylen)
        return PROBE_NONE;
    if (f == 0)
        return PROBE_NULL;
    if (f == TH_FIN)
        return PROBE_FIN;
    if (f == (TH_FIN | TH_PSH | TH_URG))
        return PROBE_XMAS;
    if (f == TH_ACK)
        return PROBE_ACK;
    if (f == (TH_FIN | TH_ACK))
        return PROBE_MAIMON;
    if ((f & (TH_SYN | TH_FIN)) == (TH_SYN | TH_FIN) || (f & (TH_SYN | TH_RST)) == (TH_SYN | TH_RST))
        return PROBE_XMAS;       /* impossible combinations */
    return PROBE_NONE;
}

static void pend_push(mm_net *n, uint32_t idx, const nt_flow *f)
{
    if (n->npend == n->cappend) {
        size_t nc = n->cappend ? n->cappend * 2 : 1024;
        nt_pend *np = mm_xmalloc(nc * sizeof *np);
        for (size_t i = 0; i < n->npend; i++)
            np[i] = n->pend[(n->pend_head + i) % n->cappend];
        free(n->pend);
        n->pend = np;
        n->pend_head = 0;
        n->cappend = nc;
    }
    n->pend[(n->pend_head + n->npend) % n->cappend] = (nt_pend){idx, f->id, f->first};
    if (!n->npend++ && f->first + n->probe_to < n->due)
        n->due = f->first + n->probe_to;   /* the new oldest deadline */
}

/* Creates the flow for a packet; client chosen as mamori/net.h says. */
static nt_flow *flow_new(mm_net *n, const nt_fkey *k, uint32_t h, bool src_lo,
                         const nt_pkt *p, uint32_t source, int64_t ts)
{
    if (n->fidx_count >= n->o.max_flows) {
        n->st.flows_dropped++;
        return NULL;
    }
    uint32_t idx = flow_alloc(n);
    nt_flow *f = &n->flows[idx];
    memset(f, 0, sizeof *f);
    f->key = *k;
    f->hash = h;
    f->source = source;
    f->id = n->next_id++;
    f->first = f->last = ts;
    uint64_t zone = n->src[source].zone;
    bool src_cli = true;
    int probe = PROBE_NONE;
    if (p->proto == IPPROTO_TCP) {
        probe = probe_kind(p->tcpflags, p->paylen);
        if ((p->tcpflags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK))
            src_cli = false;
        else if (probe == PROBE_NONE && !(p->tcpflags & TH_RST)) {
            if (nt_listening(n, zone, p->proto, &p->dst, p->dport))
                src_cli = true;
            else if (nt_listening(n, zone, p->proto, &p->src, p->sport))
                src_cli = false;
            else
                src_cli = p->sport >= p->dport;
        } else if (p->tcpflags & TH_RST)
            src_cli = p->sport >= p->dport;
    } else if (p->proto == IPPROTO_UDP) {
        if (nt_listening(n, zone, p->proto, &p->src, p->sport))
            src_cli = false;
        else if (p->sport < 1024 && p->dport >= 1024)
            src_cli = false;
        else
            probe = PROBE_UDP;
    } else if (p->proto == IPPROTO_ICMP || p->proto == IPPROTO_ICMPV6) {
        src_cli = !(p->icmp_type == 0 || p->icmp_type == 129);
        f->icmp_tc = (uint16_t)(p->icmp_type << 8 | p->icmp_code);
    }
    f->cli_lo = src_cli ? src_lo : !src_lo;
    if (probe != PROBE_NONE && src_cli && !nt_addr_is_multicast(&p->dst)) {
        f->probe = (uint8_t)probe;
        f->syn_opts = p->tcp_nopts;
        if (probe == PROBE_NULL || probe == PROBE_FIN || probe == PROBE_XMAS) {
            f->probe_state = 1;  /* judged right after the first packet */
        } else {
            f->probe_state = 1;
            pend_push(n, idx, f);
        }
    }
    fidx_put(n, h, idx);
    n->st.flows++;
    return f;
}

static void end_flow(mm_net *n, uint32_t idx, const char *reason);

static void nt_judge(mm_net *n, nt_flow *f, int kind, int64_t ts)
{
    if (f->probe_state != 1)
        return;
    f->probe_state = 2;
    if (kind == PROBE_NONE)
        return;
    f->suspicious = 1;
    const mm_ipaddr *cli, *srv;
    mm_ipaddr a, b;
    uint16_t cp, sp;
    nt_flow_ends(f, &cli, &srv, &a, &b, &cp, &sp);
    nt_scan_note(n->scan, f->key.zone, cli, srv, sp, f->key.proto, kind, ts,
                 nt_on_scan, n);
}

/* The kind a refused or half-open SYN probe counts as. */
static int syn_kind(const nt_flow *f)
{
    return f->syn_opts >= 3 ? PROBE_CONNECT : PROBE_SYN;
}

/* Judges probes whose deadline passed. */
static void judge_pending(mm_net *n, int64_t now)
{
    int64_t to = n->probe_to;
    while (n->npend) {
        nt_pend *e = &n->pend[n->pend_head];
        if (now - e->t < to)
            break;
        nt_flow *f = e->idx < n->nflows_used ? &n->flows[e->idx] : NULL;
        if (f && f->id == e->id && f->probe_state == 1) {
            if (f->probe == PROBE_SYN && !f->synack && !f->pkts[1])
                nt_judge(n, f, syn_kind(f), e->t + to);      /* filtered */
            else if (f->probe == PROBE_SYN && f->synack && !f->est)
                nt_judge(n, f, PROBE_SYN, e->t + to);        /* half-open */
            else if (f->probe == PROBE_UDP && !f->pkts[1])
                nt_judge(n, f, PROBE_UDP, e->t + to);        /* open|filtered */
            else if (f->probe == PROBE_ACK || f->probe == PROBE_MAIMON)
                nt_judge(n, f, PROBE_NONE, e->t + to);
        }
        n->pend_head = (n->pend_head + 1) % n->cappend;
        n->npend--;
    }
}

/* When timers() is next due: the sweep's time or the oldest pending
 * probe's deadline (one compare a packet in mm_net_feed). */
static void set_due(mm_net *n)
{
    n->due = n->last_sweep + (int64_t)n->o.closed_s * NS;
    if (n->npend && n->pend[n->pend_head].t + n->probe_to < n->due)
        n->due = n->pend[n->pend_head].t + n->probe_to;
}

/* Judges probes, then expires idle flows.  The sweep walks the whole flow
 * slab (cold memory), so it runs once per closed-flow timeout of packet
 * time, not per second: a flow lives at most that much past its timeout. */
static void timers(mm_net *n, int64_t now)
{
    judge_pending(n, now);
    if (now - n->last_sweep < (int64_t)n->o.closed_s * NS) {
        set_due(n);
        return;
    }
    n->last_sweep = now;
    int64_t tcp = (int64_t)n->o.tcp_idle_s * NS, udp = (int64_t)n->o.udp_idle_s * NS,
            closed = (int64_t)n->o.closed_s * NS;
    for (size_t i = 0; i < n->nflows_used; i++) {
        nt_flow *f = &n->flows[i];
        if (!f->id)
            continue;
        int64_t idle = now - f->last;
        bool done = f->key.proto == IPPROTO_TCP
            ? ((f->rst || (f->fin[0] && f->fin[1])) ? idle > closed : idle > tcp)
            : idle > udp;
        if (done)
            end_flow(n, (uint32_t)i, f->rst || f->fin[0] ? "closed" : "idle");
    }
    set_due(n);
}

void mm_net_advance(mm_net *n, int64_t now_ns)
{
    if (now_ns > n->now)
        n->now = now_ns;
    timers(n, n->now);
}

/* ---- per packet ------------------------------------------------------------------ */

static void icmp_error(mm_net *n, const nt_pkt *p, uint32_t zidx, int64_t ts)
{
    if (!p->in_proto || p->in_src.family != p->in_dst.family)
        return;
    bool lo;
    nt_fkey k;
    mkkey(&k, &p->in_src, p->in_sport, &p->in_dst, p->in_dport, p->in_proto, p->vlan, zidx, &lo);
    uint32_t v = fidx_get(n, &k, nt_hash(&k, sizeof k, n->fseed));
    if (v == NO_FLOW)
        return;
    nt_flow *f = &n->flows[v];
    bool unreach = (p->proto == IPPROTO_ICMP && p->icmp_type == 3) ||
                   (p->proto == IPPROTO_ICMPV6 && p->icmp_type == 1);
    if (!unreach)
        return;
    f->refused = 1;
    if (f->probe_state == 1)
        nt_judge(n, f, f->probe == PROBE_SYN ? syn_kind(f) : f->probe, ts);
}

static void tcp_packet(mm_net *n, nt_flow *f, int dir, const nt_pkt *p, int64_t ts)
{
    uint8_t fl = p->tcpflags;
    if (fl & TH_SYN) {
        if (dir == MM_NET_DIR_C2S)
            f->syn = 1;
        else if (fl & TH_ACK) {
            if (!f->synack)
                nt_on_listen(n, f);
            f->synack = 1;
        }
    } else if (dir == MM_NET_DIR_C2S && (fl & TH_ACK) && f->synack && !f->est && !(fl & TH_RST))
        f->est = 1;
    if (p->paylen || p->l4len)
        f->data[dir] = 1;
    if (fl & TH_FIN)
        f->fin[dir] = 1;
    if (fl & TH_RST)
        f->rst = 1;
    /* probe outcomes */
    if (f->probe_state == 1) {
        if (dir == MM_NET_DIR_S2C && (fl & TH_RST)) {
            int k = f->probe == PROBE_SYN ? syn_kind(f) : f->probe;
            nt_judge(n, f, k, ts);                       /* refused / unfiltered */
        } else if (f->probe == PROBE_SYN && dir == MM_NET_DIR_C2S && (fl & TH_RST) &&
                   f->synack && !f->est) {
            nt_judge(n, f, PROBE_SYN, ts);               /* half-open */
        } else if (f->data[0] || f->data[1]) {
            nt_judge(n, f, PROBE_NONE, ts);              /* a real session */
        } else if (dir == MM_NET_DIR_C2S && f->est && (fl & (TH_RST | TH_FIN))) {
            nt_judge(n, f, PROBE_CONNECT, ts);           /* connect, no data */
        } else if (dir == MM_NET_DIR_S2C && f->probe != PROBE_SYN && !(fl & TH_RST)) {
            nt_judge(n, f, PROBE_NONE, ts);
        }
    }
    if (f->synack && !f->checked && (f->est || dir == MM_NET_DIR_S2C)) {
        f->checked = 1;
        nt_on_established(n, f);
    }
    if ((p->l4len || (fl & TH_SYN)) && nt_reasm_wanted(n, f))   /* nothing else moves a stream */
        nt_reasm_segment(n, f, dir, p);
}

void mm_net_feed(mm_net *n, uint32_t source, int linktype, int64_t ts,
                 const uint8_t *data, size_t caplen, size_t wirelen)
{
    n->st.packets++;
    n->st.bytes += wirelen;
    if (ts > n->now) {
        n->now = ts;
        if (ts >= n->due)        /* a probe's deadline or the sweep */
            timers(n, ts);
    }
    if (source >= n->nsrc)
        return;
    nt_pkt p;
    int r = nt_decode(&p, linktype, data, caplen);
    if (r) {
        if (r > 0)
            n->st.non_ip++;
        else
            n->st.malformed++;
        return;
    }
    if (p.frag) {
        n->st.fragments++;
        return;
    }
    const nt_source *s = &n->src[source];
    if (p.icmp_err)
        icmp_error(n, &p, s->zidx, ts);
    bool src_lo;
    nt_fkey k;
    mkkey(&k, &p.src, p.sport, &p.dst, p.dport, p.proto, p.vlan, s->zidx, &src_lo);
    uint32_t h = nt_hash(&k, sizeof k, n->fseed);
    uint32_t v = fidx_get(n, &k, h);
    nt_flow *f;
    bool created = false;
    if (v != NO_FLOW)
        f = &n->flows[v];
    else {
        f = flow_new(n, &k, h, src_lo, &p, source, ts);
        if (!f)
            return;
        created = true;
    }
    int dir = (src_lo == (bool)f->cli_lo) ? MM_NET_DIR_C2S : MM_NET_DIR_S2C;
    f->pkts[dir]++;
    f->bytes[dir] += wirelen;
    f->last = ts;
    if (p.proto == IPPROTO_TCP) {
        f->flags[dir] |= p.tcpflags;
        if (created)
            nt_on_new_flow(n, f);
        tcp_packet(n, f, dir, &p, ts);
        if (created && f->probe_state == 1 &&
            (f->probe == PROBE_NULL || f->probe == PROBE_FIN || f->probe == PROBE_XMAS))
            nt_judge(n, f, f->probe, ts);
    } else {
        if (created)
            nt_on_new_flow(n, f);
        if (p.proto == IPPROTO_UDP) {
            if (dir == MM_NET_DIR_S2C && !f->checked) {
                f->checked = 1;
                nt_on_listen(n, f);
                nt_on_established(n, f);
            }
            if (dir == MM_NET_DIR_S2C && f->probe_state == 1)
                nt_judge(n, f, PROBE_NONE, ts);
            nt_app_udp(n, f, dir, &p);
        }
    }
}

/* ---- the end of flows --------------------------------------------------------------- */

static void end_flow(mm_net *n, uint32_t idx, const char *reason)
{
    nt_flow *f = &n->flows[idx];
    bool open_at_end = !strcmp(reason, "end") && !f->rst && !f->fin[0] && !f->fin[1];
    int64_t to = n->probe_to;
    if (f->probe_state == 1) {
        if (open_at_end && f->first + to > n->now)
            nt_judge(n, f, PROBE_NONE, f->last);     /* its deadline is after the end */
        else if (f->est && open_at_end)
            nt_judge(n, f, PROBE_NONE, f->last);     /* cut off by the capture's end */
        else if (f->est && !f->data[0] && !f->data[1])
            nt_judge(n, f, PROBE_CONNECT, f->last);
        else if (f->probe == PROBE_SYN && !f->pkts[1])
            nt_judge(n, f, syn_kind(f), f->last);
        else if (f->probe == PROBE_SYN && f->synack && !f->est)
            nt_judge(n, f, PROBE_SYN, f->last);
        else if (f->probe == PROBE_UDP && !f->pkts[1])
            nt_judge(n, f, PROBE_UDP, f->last);
        else
            nt_judge(n, f, PROBE_NONE, f->last);
    }
    /* the graph shows services that answered, not probes */
    bool answered = f->key.proto == IPPROTO_TCP ? (f->synack || (f->data[0] && f->data[1]))
                                                : f->pkts[1] > 0;
    bool to_graph = !n->o.no_topology && answered && !f->suspicious && !f->refused;
    if (n->o.on_flow || to_graph) {  /* the view costs a name and owner lookup */
        mm_net_flow v;
        nt_flow_view(n, f, &v);
        v.end_reason = reason;
        if (n->o.on_flow)
            n->o.on_flow(n->o.ud, &v);
        if (to_graph)
            nt_topo_flow(n, f, &v);
    }
    nt_reasm_free(n, f);
    if (f->sni)                  /* most flows have neither: no call */
        nt_names_drop(n->names, f->sni);
    if (f->host)
        nt_names_drop(n->names, f->host);
    fidx_del(n, f->hash, idx);
    f->id = 0;
    if (n->nfree == n->cap_free) {   /* doubled: mm_net_finish frees every flow */
        n->cap_free = n->cap_free ? 2 * n->cap_free : 1024;
        n->free_flows = mm_xrealloc(n->free_flows, n->cap_free * sizeof *n->free_flows);
    }
    n->free_flows[n->nfree++] = idx;
}

void mm_net_finish(mm_net *n)
{
    /* probes whose deadline passed by the last packet's time; the others
     * are undecided (end_flow) */
    judge_pending(n, n->now);
    for (size_t i = 0; i < n->nflows_used; i++)
        if (n->flows[i].id)
            end_flow(n, (uint32_t)i, "end");
}

void mm_net_stats_get(const mm_net *n, mm_net_stats *out)
{
    *out = n->st;
    out->flows_active = n->fidx_count;
    out->reasm_buffered = n->reasm_total;
    out->names = nt_names_count(n->names);
}
