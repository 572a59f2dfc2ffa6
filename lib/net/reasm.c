/*
 * reasm.c - TCP stream reassembly and the glue that feeds the application
 * parsers (app.c) and the caller's stream callback from it.
 *
 * Per direction: the next expected sequence number, in-order payload
 * delivered straight from the packet (no copy), and out-of-order segments
 * kept in a sorted list until the gap fills.  Memory is capped twice: per
 * flow direction (reasm_flow_max) and over all flows (reasm_total_max).
 * When a segment cannot be kept, the stream skips ahead: the consumer is
 * told how many bytes it lost (the gap) and goes on with the segment, as
 * Suricata and Zeek do, so one lossy flow never stalls or grows.  A
 * direction stops after stream_depth bytes, or as soon as nothing wants
 * more of it (the parsers have their answer and no stream callback is
 * set): most packets of a long transfer never reach this file's lists.
 * When neither direction is wanted the flow's state goes back at once to
 * a short pool that the next handshakes take from, and the engine sends
 * the flow's later segments nowhere (nt_reasm_wanted).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

#define R16(p) ((uint16_t)(((uint16_t)(p)[0] << 8) | (p)[1]))
#define APP_BUF_MAX 16384u
#define DNS_TCP_MAX 65537u
#define OOO_WINDOW (1u << 24)    /* segments further ahead are not buffered */

typedef struct nt_seg {
    struct nt_seg *next;
    uint32_t seq, len;
    uint8_t data[];
} nt_seg;

enum { APP_UNKNOWN = 0, APP_TLS = 1, APP_HTTP = 2, APP_DNS = 3, APP_DONE = NT_APP_DONE };
#define HALF_POOL_MAX 4096u     /* freed pairs kept for reuse (80 bytes each) */

/* ---- application glue ------------------------------------------------------- */

typedef struct dns_ctx {
    mm_net *n;
    nt_flow *f;
    nt_dns_q q;                  /* the question, once seen (its name is nt_dns_parse's) */
} dns_ctx;

static void dns_cb(void *ud, const nt_dns_rr *rr, bool response)
{
    dns_ctx *c = ud;
    if (rr->type == 0)
        c->q = (nt_dns_q){.name = rr->name};
    if (c->q.name && c->q.name[0]) {
        nt_on_dns(c->n, c->f, rr, response, &c->q);
    } else {                     /* no question: answers stand for themselves */
        nt_dns_q own = {.name = rr->name};
        nt_on_dns(c->n, c->f, rr, response, &own);
    }
}

static void dns_ctx_init(dns_ctx *c, mm_net *n, nt_flow *f)
{
    c->n = n;
    c->f = f;
    c->q.name = NULL;
}

static bool is_dns_port(const nt_flow *f)
{
    return f->key.port_lo == 53 || f->key.port_hi == 53 ||
           f->key.port_lo == 5353 || f->key.port_hi == 5353;
}

void nt_app_udp(mm_net *n, nt_flow *f, int dir, const nt_pkt *p)
{
    (void)dir;
    if (p->paylen < 12 || !is_dns_port(f))
        return;
    dns_ctx c;
    dns_ctx_init(&c, n, f);
    nt_dns_parse(p->payload, p->paylen, dns_cb, &c);
}

static bool http_prefix(const uint8_t *d, size_t len)
{
    static const char *const m[] = {"GET ", "POST", "PUT ", "HEAD", "DELE", "OPTI",
                                    "PATC", "CONN", "TRAC", "PROP"};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (!memcmp(d, m[i], len < 4 ? len : 4))
            return true;
    return false;
}

static void abuf_keep(nt_half *h, const uint8_t *d, size_t len, size_t cap)
{
    if (h->alen + len > cap)
        len = cap - h->alen;
    if (!h->abuf)
        h->abuf = mm_xmalloc(cap);
    memcpy(h->abuf + h->alen, d, len);
    h->alen += (uint32_t)len;
}

void nt_app_data(mm_net *n, nt_flow *f, int dir, const uint8_t *d, size_t len)
{
    uint8_t *st = &f->app[dir];
    if (*st == APP_DONE || !len)
        return;
    nt_half *h = &f->half[dir];
    const uint8_t *buf = d;
    size_t blen = len;
    size_t cap = *st == APP_DNS ? DNS_TCP_MAX : APP_BUF_MAX;
    bool copied = false;
    if (h->alen) {
        abuf_keep(h, d, len, cap);
        buf = h->abuf;
        blen = h->alen;
        copied = true;
    }
    if (*st == APP_UNKNOWN) {
        if (is_dns_port(f))
            *st = APP_DNS;
        else if (dir == MM_NET_DIR_C2S && buf[0] == 0x16)
            *st = APP_TLS;
        else if (dir == MM_NET_DIR_C2S && http_prefix(buf, blen))
            *st = APP_HTTP;
        else
            *st = APP_DONE;
    }
    char name[256];
    int r = 0;
    switch (*st) {
    case APP_TLS:
    case APP_HTTP:
        r = *st == APP_TLS ? nt_tls_sni(buf, blen, name, sizeof name)
                           : nt_http_host(buf, blen, name, sizeof name);
        if (r == 1)
            nt_on_name(n, f, *st == APP_TLS ? 1 : 2, name);
        if (r == -1 && blen < APP_BUF_MAX) {
            if (!copied)
                abuf_keep(h, d, len, APP_BUF_MAX);
            return;
        }
        *st = APP_DONE;
        break;
    case APP_DNS: {
        size_t off = 0;
        for (int msgs = 0; msgs < 64 && blen - off >= 2; msgs++) {
            size_t ml = R16(buf + off);
            if (blen - off < 2 + ml)
                break;
            dns_ctx c;
            dns_ctx_init(&c, n, f);
            nt_dns_parse(buf + off + 2, ml, dns_cb, &c);
            off += 2 + ml;
        }
        if (off < blen) {
            if (copied) {
                memmove(h->abuf, h->abuf + off, blen - off);
                h->alen = (uint32_t)(blen - off);
            } else {
                abuf_keep(h, d + off, len - off, DNS_TCP_MAX);
            }
            return;
        }
        h->alen = 0;
        return;
    }
    default:
        break;
    }
    free(h->abuf);
    h->abuf = NULL;
    h->alen = 0;
}

/* ---- reassembly --------------------------------------------------------------------- */

static void free_ooo(mm_net *n, nt_half *h)
{
    for (nt_seg *s = h->ooo, *nx; s; s = nx) {
        nx = s->next;
        n->reasm_total -= s->len;
        free(s);
    }
    h->ooo = NULL;
    h->buffered = 0;
}

/* A flow's pair of directions: most TCP flows need one for a few packets
 * (the handshake and the first data each way), so pairs are recycled
 * through a short free list instead of a calloc and free per flow.  The
 * list is capped; pairs past the cap go back to malloc. */
static nt_half *half_get(mm_net *n)
{
    nt_half *h = n->half_pool;
    if (!h)
        return mm_xcalloc(2, sizeof *h);
    n->half_pool = (nt_half *)(void *)h->abuf;   /* the link while pooled */
    n->nhalf_pool--;
    memset(h, 0, 2 * sizeof *h);
    return h;
}

void nt_reasm_free(mm_net *n, nt_flow *f)
{
    if (!f->half)
        return;
    for (int d = 0; d < 2; d++) {
        free_ooo(n, &f->half[d]);
        free(f->half[d].abuf);
    }
    if (n->nhalf_pool < HALF_POOL_MAX) {
        f->half->abuf = (uint8_t *)(void *)n->half_pool;
        n->half_pool = f->half;
        n->nhalf_pool++;
    } else
        free(f->half);
    f->half = NULL;
}

void nt_reasm_pool_free(mm_net *n)
{
    while (n->half_pool) {
        nt_half *h = n->half_pool;
        n->half_pool = (nt_half *)(void *)h->abuf;
        free(h);
    }
    n->nhalf_pool = 0;
}

static bool wanted(const mm_net *n, const nt_flow *f, int dir)
{
    return n->o.on_stream || f->app[dir] != APP_DONE;
}

static void deliver(mm_net *n, nt_flow *f, int dir, const uint8_t *d, size_t len, size_t gap)
{
    nt_half *h = &f->half[dir];
    if (h->done)
        return;
    size_t depth = n->o.stream_depth;
    if (h->delivered + (uint64_t)len > depth)
        len = depth - h->delivered;
    if (gap && f->app[dir] != APP_DONE) {
        /* a parser cannot resume across lost bytes */
        f->app[dir] = APP_DONE;
        free(h->abuf);
        h->abuf = NULL;
        h->alen = 0;
    }
    if (len || gap) {
        if (n->o.on_stream) {
            mm_net_flow v;
            nt_flow_view(n, f, &v);
            if (!n->o.on_stream(n->o.ud, &v, dir, d, len, gap)) {
                for (int i = 0; i < 2; i++) {
                    f->half[i].done = 1;
                    free_ooo(n, &f->half[i]);
                }
                return;
            }
        }
        nt_app_data(n, f, dir, d, len);
        h->delivered += (uint32_t)len;
    }
    if (h->delivered >= depth || !wanted(n, f, dir)) {
        h->done = 1;
        free_ooo(n, h);
    }
}

static void drain(mm_net *n, nt_flow *f, int dir)
{
    nt_half *h = &f->half[dir];
    while (h->ooo && !h->done) {
        nt_seg *s = h->ooo;
        int32_t rel = (int32_t)(s->seq - h->next_seq);
        if (rel > 0)
            break;
        h->ooo = s->next;
        h->buffered -= s->len;
        n->reasm_total -= s->len;
        /* unsigned, modular: -rel overflows for rel == INT32_MIN */
        if (h->next_seq - s->seq < s->len) {
            uint32_t skip = h->next_seq - s->seq;
            h->next_seq += s->len - skip;
            deliver(n, f, dir, s->data + skip, s->len - skip, 0);
        }
        free(s);
    }
}

/* Once neither direction is wanted (both parsers done, no stream callback)
 * nothing can want the flow's stream again: its pair goes back to the pool
 * now, not when the flow ends, so the pool serves the next handshakes and
 * the pairs held stay those of the flows still being parsed. */
static void release_done(mm_net *n, nt_flow *f)
{
    if (!nt_reasm_wanted(n, f))
        nt_reasm_free(n, f);
}

void nt_reasm_segment(mm_net *n, nt_flow *f, int dir, const nt_pkt *p)
{
    if (!f->half) {
        if (!wanted(n, f, 0) && !wanted(n, f, 1))
            return;
        f->half = half_get(n);
    }
    nt_half *h = &f->half[dir];
    if (h->done)
        return;
    if (p->tcpflags & TH_SYN) {
        h->next_seq = p->seq + 1;
        h->init = 1;
        return;
    }
    if (p->tcpflags & TH_RST)
        return;
    uint32_t len = p->l4len;
    if (!len)
        return;
    if (!h->init) {              /* picked up mid-stream */
        h->next_seq = p->seq;
        h->init = 1;
    }
    const uint8_t *data = p->payload;
    uint32_t have = p->paylen;   /* captured; len is on the wire */
    uint32_t seq = p->seq;
    int32_t rel = (int32_t)(seq - h->next_seq);
    if (rel < 0) {
        uint32_t skip = h->next_seq - seq;   /* modular: also for rel == INT32_MIN */
        if (skip >= len)
            return;              /* a retransmission of what we have */
        seq += skip;
        len -= skip;
        if (skip >= have) {
            have = 0;
            data = NULL;
        } else {
            data += skip;
            have -= skip;
        }
        rel = 0;
    }
    if (rel == 0) {
        h->next_seq = seq + len;
        deliver(n, f, dir, data, have, h->gap);
        h->gap = len - have;     /* snaplen cut the segment short */
        drain(n, f, dir);
        release_done(n, f);
        return;
    }
    /* ahead of the stream: keep it when the caps allow */
    size_t flow_max = n->o.reasm_flow_max, total_max = n->o.reasm_total_max;
    if ((uint32_t)rel < OOO_WINDOW && have == len &&
        h->buffered + (size_t)len <= flow_max && n->reasm_total + len <= total_max) {
        nt_seg **pp = &h->ooo;
        while (*pp && (int32_t)((*pp)->seq - seq) < 0)
            pp = &(*pp)->next;
        if (*pp && (*pp)->seq == seq && (*pp)->len >= len)
            return;              /* duplicate */
        nt_seg *s = mm_xmalloc(sizeof *s + len);
        s->seq = seq;
        s->len = len;
        memcpy(s->data, data, len);
        s->next = *pp;
        *pp = s;
        h->buffered += len;
        n->reasm_total += len;
        return;
    }
    /* cannot keep it: skip the gap */
    n->st.reasm_dropped += (uint32_t)rel;
    h->next_seq = seq + len;
    deliver(n, f, dir, data, have, (size_t)(uint32_t)rel + h->gap);
    h->gap = len - have;
    drain(n, f, dir);
    release_done(n, f);
}
