/*
 * scan.c - the port-scan detector.  The engine (engine.c) judges each probe
 * from the flow it opened - refused, unanswered, half-open, closed without
 * data, or a flag combination no TCP stack sends - and notes the suspicious
 * ones here.  This file counts them:
 *  - each (source, destination, port, protocol) counts once per slow
 *    window (retransmissions and retries are not new ports);
 *  - per (source, destination) the distinct ports (vertical), per (source,
 *    port) the distinct destinations (horizontal), each as a ring of the
 *    last N probe times, so "N probes within W seconds" is one comparison
 *    of packet timestamps, whatever the window: a scan that waits minutes
 *    between probes (nmap -T0/-T1) is judged over the slow window exactly
 *    as when it happened, also when replayed from a file.
 * An incident alerts once; it ends after a slow window without probes.
 * Memory is capped: past 1 M probe keys or counters the state starts over
 * (counted in the engine's stats through the returned hits only).
 */
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

#define RING 64
#define MAX_KEYS (1u << 20)

typedef struct probe_key {
    uint32_t zone;
    uint8_t family, proto;
    uint16_t port;
    uint8_t src[16], dst[16];
} probe_key;

typedef struct pair_key {         /* vertical: src+dst; horizontal: src+port */
    uint32_t zone;
    uint8_t family, proto, vertical, pad;
    uint16_t port, pad2;
    uint8_t src[16], other[16];
} pair_key;

typedef struct counter {
    int64_t ring[RING];
    unsigned head, n;
    unsigned total;
    unsigned kinds;
    int64_t first, last;
    bool alerted;
} counter;

struct nt_scan {
    mm_net_scan_opts o;
    unsigned ring;
    nt_tab probes;               /* probe_key -> seconds of its last count */
    nt_tab pairs;                /* pair_key -> counter index */
    counter *ctr;
    size_t nctr, capctr;
    int64_t base;                /* seconds origin for probes' values */
};

const char *nt_probe_name(int kind)
{
    static const char *const n[] = {"none", "SYN", "FIN", "NULL", "XMAS", "ACK",
                                    "UDP", "Maimon", "connect"};
    return kind >= 0 && kind <= PROBE_CONNECT ? n[kind] : "unknown";
}

nt_scan *nt_scan_new(const mm_net_scan_opts *o)
{
    nt_scan *s = mm_xcalloc(1, sizeof *s);
    if (o)
        s->o = *o;
    if (!s->o.ports) s->o.ports = 15;
    if (!s->o.hosts) s->o.hosts = 15;
    if (!s->o.window_s) s->o.window_s = 60;
    if (!s->o.slow_ports) s->o.slow_ports = 6;
    if (!s->o.slow_hosts) s->o.slow_hosts = 8;
    if (!s->o.slow_window_s) s->o.slow_window_s = 7200;
    if (!s->o.probe_timeout_s) s->o.probe_timeout_s = 3;
    unsigned m = s->o.ports;
    if (s->o.hosts > m) m = s->o.hosts;
    if (s->o.slow_ports > m) m = s->o.slow_ports;
    if (s->o.slow_hosts > m) m = s->o.slow_hosts;
    s->ring = m > RING ? RING : m;
    /* thresholds above the ring cannot be told apart: clamp them */
    if (s->o.ports > RING) s->o.ports = RING;
    if (s->o.hosts > RING) s->o.hosts = RING;
    if (s->o.slow_ports > RING) s->o.slow_ports = RING;
    if (s->o.slow_hosts > RING) s->o.slow_hosts = RING;
    nt_tab_init(&s->probes, sizeof(probe_key));
    nt_tab_init(&s->pairs, sizeof(pair_key));
    return s;
}

void nt_scan_free(nt_scan *s)
{
    if (!s)
        return;
    nt_tab_free(&s->probes);
    nt_tab_free(&s->pairs);
    free(s->ctr);
    free(s);
}

static void reset(nt_scan *s)
{
    nt_tab_clear(&s->probes);
    nt_tab_clear(&s->pairs);
    s->nctr = 0;
}

static unsigned in_window(const nt_scan *s, const counter *c, int64_t ts, int64_t w)
{
    unsigned k = 0;
    for (unsigned i = 0; i < c->n; i++) {
        unsigned idx = (c->head + s->ring - 1 - i) % s->ring;
        if (ts - c->ring[idx] > w)
            break;
        k++;
    }
    return k;
}

static void bump(nt_scan *s, const pair_key *pk, int kind, int64_t ts,
                 const mm_ipaddr *src, const mm_ipaddr *dst, uint16_t port,
                 uint8_t proto, uint32_t zone, nt_scan_fn fn, void *ud)
{
    uint32_t h = nt_tab_hash(&s->pairs, pk, sizeof *pk);
    uint32_t *v = nt_tab_get(&s->pairs, pk, h);  /* 44-byte key */
    counter *c;
    int64_t slow = (int64_t)s->o.slow_window_s * 1000000000ll;
    if (!v) {
        if (s->nctr == s->capctr) {
            s->capctr = s->capctr ? s->capctr * 2 : 256;
            s->ctr = mm_xrealloc(s->ctr, s->capctr * sizeof *s->ctr);
        }
        c = &s->ctr[s->nctr];
        memset(c, 0, sizeof *c);
        c->first = ts;
        nt_tab_put(&s->pairs, pk, h, (uint32_t)s->nctr++);
    } else {
        c = &s->ctr[*v];
        if (ts - c->last > slow) {       /* a new incident */
            memset(c, 0, sizeof *c);
            c->first = ts;
        }
    }
    c->ring[c->head] = ts;
    c->head = (c->head + 1) % s->ring;
    if (c->n < s->ring)
        c->n++;
    c->total++;
    c->kinds |= 1u << kind;
    c->last = ts;
    if (c->alerted)
        return;
    bool vert = pk->vertical;
    unsigned fast_t = vert ? s->o.ports : s->o.hosts;
    unsigned slow_t = vert ? s->o.slow_ports : s->o.slow_hosts;
    unsigned nf = in_window(s, c, ts, (int64_t)s->o.window_s * 1000000000ll);
    unsigned ns = in_window(s, c, ts, slow);
    bool hit_fast = nf >= fast_t, hit_slow = ns >= slow_t;
    if (!hit_fast && !hit_slow)
        return;
    c->alerted = true;
    /* fast or slow by how long the counted probes took, not by which
     * threshold was met first */
    unsigned cnt = hit_fast ? nf : ns;
    int64_t oldest = c->ring[(c->head + s->ring - cnt) % s->ring];
    bool slowscan = ts - oldest > (int64_t)s->o.window_s * 1000000000ll;
    nt_scan_hit hit = {
        .vertical = vert, .slow = slowscan, .zone = zone, .src = *src,
        .port = port, .proto = proto, .kinds = c->kinds,
        .count = hit_fast ? nf : ns, .total = c->total, .first = c->first,
        .last = ts,
    };
    if (vert)
        hit.dst = *dst;
    fn(ud, &hit);
}

void nt_scan_note(nt_scan *s, uint32_t zone, const mm_ipaddr *src,
                  const mm_ipaddr *dst, uint16_t port, uint8_t proto,
                  int kind, int64_t ts, nt_scan_fn fn, void *ud)
{
    if (s->o.disabled)
        return;
    size_t al = src->family == AF_INET ? 4 : 16;
    probe_key k;
    memset(&k, 0, sizeof k);
    k.zone = zone;
    k.family = src->family;
    k.proto = proto;
    k.port = port;
    memcpy(k.src, src->ip, al);
    memcpy(k.dst, dst->ip, al);
    if (!s->base)
        s->base = ts / 1000000000ll;
    uint32_t secs = (uint32_t)(ts / 1000000000ll - s->base + 1);
    uint32_t h = nt_tab_hash(&s->probes, &k, sizeof k);
    uint32_t *v = NT_TAB_GET(&s->probes, &k, h);
    if (v) {
        if (secs - *v <= s->o.slow_window_s)
            return;              /* this port of this host counted already */
        *v = secs;
    } else {
        if (s->probes.count >= MAX_KEYS || s->nctr >= MAX_KEYS)
            reset(s);
        nt_tab_put(&s->probes, &k, h, secs);
    }
    /* vertical: (src, dst) over all ports; horizontal: (src, proto/port)
     * over all hosts */
    for (int vert = 1; vert >= 0; vert--) {
        pair_key pk;
        memset(&pk, 0, sizeof pk);
        pk.zone = zone;
        pk.family = src->family;
        pk.vertical = (uint8_t)vert;
        memcpy(pk.src, src->ip, al);
        if (vert)
            memcpy(pk.other, dst->ip, al);
        else {
            pk.proto = proto;
            pk.port = port;
        }
        bump(s, &pk, kind, ts, src, dst, port, proto, zone, fn, ud);
    }
}
