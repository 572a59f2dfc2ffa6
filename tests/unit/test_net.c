/*
 * test_net.c - the network sensor (lib/net): decoders on frames built byte
 * by byte here (Ethernet, stacked VLANs, IPv6 extension headers, Linux
 * cooked, ICMP errors, truncation), the DNS/TLS/HTTP parsers, TCP
 * reassembly (out of order, caps and gaps), flows and names, the port-scan
 * detector on the nmap recordings of tests/fixtures/net and on synthetic
 * scans (horizontal; slow over minutes, judged on packet time), blocklists
 * in every format with reloading, the service graph and baseline, and
 * listening ports against EXPOSE.
 */
#include <stddef.h>
#include <dirent.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mamori/mamori.h"
#include "mamori/net.h"
#include "net/net_int.h"
#include "mmtest.h"

/* ---- frame builder ---------------------------------------------------------- */

typedef struct fr {
    uint8_t b[2048];
    size_t n;
} fr;

static void put(fr *f, const void *d, size_t n) { memcpy(f->b + f->n, d, n); f->n += n; }
static void p8(fr *f, unsigned v) { f->b[f->n++] = (uint8_t)v; }
static void p16(fr *f, unsigned v) { p8(f, v >> 8); p8(f, v & 255); }
static void p32(fr *f, uint32_t v) { p16(f, v >> 16); p16(f, v & 0xffff); }

static uint32_t A(const char *s) { struct in_addr a; inet_pton(AF_INET, s, &a); return ntohl(a.s_addr); }

/* Ethernet + IPv4 + TCP with flags, seq and payload; opts: number of
 * option kinds (MSS, SACK, TS, WS) on a SYN. */
static fr tcp4(const char *src, unsigned sp, const char *dst, unsigned dp, unsigned flags,
               uint32_t seq, const char *payload, int nopts)
{
    fr f = {.n = 0};
    put(&f, "\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\x00", 14);
    size_t plen = payload ? strlen(payload) : 0;
    size_t ol = nopts >= 4 ? 20 : nopts ? 4 : 0;
    p8(&f, 0x45); p8(&f, 0); p16(&f, (unsigned)(20 + 20 + ol + plen)); p16(&f, 0); p16(&f, 0x4000);
    p8(&f, 64); p8(&f, 6); p16(&f, 0); p32(&f, A(src)); p32(&f, A(dst));
    p16(&f, sp); p16(&f, dp); p32(&f, seq); p32(&f, 1); p8(&f, (unsigned)((20 + ol) / 4) << 4);
    p8(&f, flags); p16(&f, 1024); p16(&f, 0); p16(&f, 0);
    if (nopts >= 4)
        put(&f, "\x02\x04\x05\xb4\x04\x02\x08\x0a\0\0\0\1\0\0\0\0\x01\x03\x03\x07", 20);
    else if (nopts)
        put(&f, "\x02\x04\x05\xb4", 4);
    if (plen)
        put(&f, payload, plen);
    return f;
}

static fr udp4(const char *src, unsigned sp, const char *dst, unsigned dp, const uint8_t *pl, size_t plen)
{
    fr f = {.n = 0};
    put(&f, "\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\x00", 14);
    p8(&f, 0x45); p8(&f, 0); p16(&f, (unsigned)(28 + plen)); p16(&f, 0); p16(&f, 0);
    p8(&f, 64); p8(&f, 17); p16(&f, 0); p32(&f, A(src)); p32(&f, A(dst));
    p16(&f, sp); p16(&f, dp); p16(&f, (unsigned)(8 + plen)); p16(&f, 0);
    put(&f, pl, plen);
    return f;
}

#define S 1000000000ll

typedef struct got {
    int alerts;
    char rules[16][64];
    char outputs[16][512];
    int flows;
    mm_net_flow last;
    char host[64], sni[64], name[64];
    char stream[4096];
    size_t slen, gaps;
} got;

static void on_alert(void *ud, const mm_alert *a, const mm_finding *f)
{
    got *g = ud;
    CHECK(f->section && f->kind == MM_FIND_NETWORK);
    CHECK_STR(a->source, "mamori_net");
    char *j = mm_alert_json(a);
    CHECK(j && strstr(j, "\"output_fields\""));
    free(j);
    if (g->alerts < 16) {
        snprintf(g->rules[g->alerts], 64, "%s", f->id);
        snprintf(g->outputs[g->alerts], 512, "%s", a->output);
    }
    g->alerts++;
}

static void on_flow(void *ud, const mm_net_flow *f)
{
    got *g = ud;
    g->flows++;
    g->last = *f;
    snprintf(g->host, sizeof g->host, "%s", f->http_host ? f->http_host : "");
    snprintf(g->sni, sizeof g->sni, "%s", f->sni ? f->sni : "");
    snprintf(g->name, sizeof g->name, "%s", f->srv_name ? f->srv_name : "");
    char *j = mm_net_flow_json(f);
    CHECK(j && strstr(j, "\"client_port\""));
    free(j);
}

static bool on_stream(void *ud, const mm_net_flow *f, int dir, const uint8_t *d, size_t len, size_t gap)
{
    got *g = ud;
    (void)f;
    if (dir != MM_NET_DIR_C2S)
        return true;
    if (gap)
        g->gaps += gap;
    if (g->slen + len < sizeof g->stream) {
        memcpy(g->stream + g->slen, d, len);
        g->slen += len;
        g->stream[g->slen] = 0;
    }
    return true;
}

static mm_net *engine(got *g, mm_net_opts *o)
{
    mm_net_opts d = {0};
    if (!o)
        o = &d;
    o->on_alert = on_alert;
    o->on_flow = on_flow;
    o->ud = g;
    o->hostname = "testhost";
    mm_net *n;
    mm_net_new(&n, o);
    mm_net_source_add(n, "test", 0, NULL);
    return n;
}

static void feed(mm_net *n, fr f, int64_t ts)
{
    mm_net_feed(n, 0, MM_NET_LINK_ETHERNET, ts, f.b, f.n, f.n);
}

/* ---- decoders ------------------------------------------------------------------- */

MM_TEST(decode_vlan_ipv6_sll_icmp)
{
    nt_pkt p;
    /* two VLAN tags, IPv4, TCP with MSS+SACK+TS+WS */
    fr t = tcp4("10.0.0.1", 40000, "10.0.0.2", 80, TH_SYN, 7, NULL, 4);
    fr v = {.n = 0};
    put(&v, t.b, 12);
    put(&v, "\x88\xa8\x00\x0a\x81\x00\x00\x14", 8);
    put(&v, t.b + 12, t.n - 12);
    REQUIRE(nt_decode(&p, MM_NET_LINK_ETHERNET, v.b, v.n) == 0);
    CHECK_INT(p.vlan, 10);
    CHECK_INT(p.proto, IPPROTO_TCP);
    CHECK_INT(p.dport, 80);
    CHECK_INT(p.tcp_nopts, 4);
    CHECK_INT(p.tcpflags, TH_SYN);
    /* every truncation of it fails cleanly */
    for (size_t cut = 0; cut < v.n - 1; cut++)
        CHECK(nt_decode(&p, MM_NET_LINK_ETHERNET, v.b, cut) != 0 || cut >= 14 + 8 + 20 + 20);
    /* IPv6 with a hop-by-hop header, then UDP */
    fr x = {.n = 0};
    put(&x, "\x02\0\0\0\0\1\x02\0\0\0\0\2\x86\xdd", 14);
    p32(&x, 0x60000000); p16(&x, 8 + 8 + 4); p8(&x, 0); p8(&x, 64);
    uint8_t s6[16], d6[16];
    inet_pton(AF_INET6, "fd00::1", s6);
    inet_pton(AF_INET6, "fd00::2", d6);
    put(&x, s6, 16); put(&x, d6, 16);
    p8(&x, 17); p8(&x, 0); put(&x, "\x01\x04\0\0\0\0", 6);   /* HBH: next UDP, PadN */
    p16(&x, 5353); p16(&x, 53); p16(&x, 12); p16(&x, 0); put(&x, "abcd", 4);
    REQUIRE(nt_decode(&p, MM_NET_LINK_ETHERNET, x.b, x.n) == 0);
    CHECK_INT(p.proto, IPPROTO_UDP);
    CHECK_INT(p.src.family, AF_INET6);
    CHECK_INT(p.dport, 53);
    CHECK_INT(p.paylen, 4);
    /* Linux cooked v1 around the IPv4 packet */
    fr c = {.n = 0};
    put(&c, "\0\0\0\1\0\6\x02\0\0\0\0\1\0\0\x08\x00", 16);
    put(&c, t.b + 14, t.n - 14);
    REQUIRE(nt_decode(&p, MM_NET_LINK_SLL, c.b, c.n) == 0);
    CHECK_INT(p.sport, 40000);
    /* ICMP port unreachable quoting a UDP probe */
    fr u = udp4("10.0.0.1", 40000, "10.0.0.2", 161, (const uint8_t *)"x", 1);
    fr ic = {.n = 0};
    put(&ic, "\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\x00", 14);
    p8(&ic, 0x45); p8(&ic, 0); p16(&ic, (unsigned)(20 + 8 + u.n - 14)); p16(&ic, 0); p16(&ic, 0);
    p8(&ic, 64); p8(&ic, 1); p16(&ic, 0); p32(&ic, A("10.0.0.2")); p32(&ic, A("10.0.0.1"));
    p8(&ic, 3); p8(&ic, 3); p16(&ic, 0); p32(&ic, 0);
    put(&ic, u.b + 14, u.n - 14);
    REQUIRE(nt_decode(&p, MM_NET_LINK_ETHERNET, ic.b, ic.n) == 0);
    CHECK(p.icmp_err);
    CHECK_INT(p.in_proto, IPPROTO_UDP);
    CHECK_INT(p.in_dport, 161);
    /* ARP is not IP */
    fr arp = {.n = 0};
    put(&arp, "\xff\xff\xff\xff\xff\xff\x02\0\0\0\0\2\x08\x06", 14);
    put(&arp, "\0\1\x08\0\6\4\0\1", 8);
    CHECK_INT(nt_decode(&p, MM_NET_LINK_ETHERNET, arp.b, arp.n), 1);
}

/* The decoder's fast path (Ethernet, IPv4 without options, TCP without
 * SYN or UDP) gives what the general path gives: every packet of every
 * fixture, each cut at every length and with each of its first 64 bytes
 * changed. */
typedef struct dec_cmp {
    size_t packets, fast, differ;
} dec_cmp;

static void dec_one(dec_cmp *c, int lt, const uint8_t *d, size_t len)
{
    nt_pkt a, b;
    int ra = nt_decode(&a, lt, d, len), rb = nt_decode_general(&b, lt, d, len);
    if (ra != rb || (!ra && memcmp(&a, &b, offsetof(nt_pkt, in_src))))
        c->differ++;
}

static void dec_pkt(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cap, size_t wire)
{
    dec_cmp *c = ud;
    (void)ts; (void)wire;
    c->packets++;
    if (lt == MM_NET_LINK_ETHERNET && cap >= 42 && d[12] == 8 && d[13] == 0 && d[14] == 0x45)
        c->fast++;
    uint8_t buf[2048];
    size_t n = cap < sizeof buf ? cap : sizeof buf;
    memcpy(buf, d, n);
    for (size_t cut = 0; cut <= n; cut++)
        dec_one(c, lt, buf, cut);
    for (size_t i = 0; i < n && i < 64; i++) {
        static const uint8_t vals[] = {0x00, 0x02, 0x06, 0x11, 0x45, 0x46, 0x50, 0xff};
        uint8_t keep = buf[i];
        for (size_t v = 0; v < sizeof vals; v++) {
            buf[i] = vals[v];
            dec_one(c, lt, buf, n);
        }
        buf[i] = keep;
    }
}

/* Keys from packets are the sender's choice: with the hash's constants
 * alone, a second word chosen to zero a multiply's operand gives any
 * number of keys one hash (seed 0 shows it); with a table's secret seed
 * they spread. */
MM_TEST(hash_seed_defeats_chosen_collisions)
{
    const uint64_t c0 = 0x9e3779b97f4a7c15ull, c2 = 0xe7037ed1a0b428dbull;
    uint64_t zero_b = c2 ^ (c0 ^ 16);          /* b ^ c2 ^ h == 0 for seed 0 */
    uint64_t seed = nt_seed();
    uint32_t first0 = 0, hs[1000];
    size_t same0 = 0;
    for (size_t i = 0; i < 1000; i++) {
        uint64_t key[2] = {0x0123456789abcdefull * (i + 1), zero_b};
        uint32_t h0 = nt_hash(key, sizeof key, 0);
        if (i == 0)
            first0 = h0;
        same0 += h0 == first0;
        hs[i] = nt_hash(key, sizeof key, seed);
    }
    CHECK_INT(same0, 1000);                    /* the attack, without a seed */
    size_t distinct = 0;
    for (size_t i = 0; i < 1000; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = hs[j] == hs[i];
        distinct += !dup;
    }
    CHECK(distinct >= 990);
}

MM_TEST(decode_fast_path_agrees_with_the_general_path)
{
    const char *dir = mmt_fixture("net");
    DIR *dd = opendir(dir);
    REQUIRE(dd);
    dec_cmp c = {0};
    struct dirent *e;
    while ((e = readdir(dd))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".pcap"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        mm_net_capture *cap;
        mm_net_capture_opts co = {.file = path};
        REQUIRE(mm_net_capture_open(&cap, &co) == 0);
        while (mm_net_capture_next(cap, 0, 0, dec_pkt, &c) > 0)
            ;
        mm_net_capture_free(cap);
    }
    closedir(dd);
    /* and frames made here: TCP of each flag set with and without options
     * and payload, UDP of several lengths, each with Ethernet padding */
    static const unsigned flags[] = {TH_ACK, TH_ACK | TH_PSH, TH_FIN | TH_ACK, TH_RST, TH_RST | TH_ACK,
                                     TH_SYN, TH_SYN | TH_ACK, 0, TH_FIN | TH_PSH | TH_URG};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        for (int opts = 0; opts < 3; opts++) {
            fr t = tcp4("10.1.2.3", 40000 + (unsigned)i, "10.9.8.7", 443, flags[i], 7 + (uint32_t)i,
                        opts == 1 ? "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n" : NULL, opts);
            dec_pkt(&c, MM_NET_LINK_ETHERNET, 0, t.b, t.n, t.n);
            memset(t.b + t.n, 0, 12);    /* Ethernet padding past the IP length */
            dec_pkt(&c, MM_NET_LINK_ETHERNET, 0, t.b, t.n + 12, t.n + 12);
        }
    for (size_t plen = 0; plen < 40; plen += 7) {
        static const uint8_t pl[40] = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        fr u = udp4("10.1.2.3", 5353, "10.9.8.7", 53, pl, plen);
        dec_pkt(&c, MM_NET_LINK_ETHERNET, 0, u.b, u.n, u.n);
        memset(u.b + u.n, 0, 20);
        dec_pkt(&c, MM_NET_LINK_ETHERNET, 0, u.b, u.n + 20, u.n + 20);
    }
    CHECK(c.packets > 500);
    CHECK(c.fast > 40);          /* the fast path was taken */
    CHECK_INT(c.differ, 0);
}

/* ---- application parsers -------------------------------------------------------------- */

typedef struct dnsgot { char names[8][64]; int n; mm_ipaddr a; } dnsgot;
static void dns_cb(void *ud, const nt_dns_rr *rr, bool resp)
{
    dnsgot *g = ud;
    (void)resp;
    if (g->n < 8)
        snprintf(g->names[g->n++], 64, "%u:%s%s%s", rr->type, rr->name, rr->target ? ">" : "",
                 rr->target ? rr->target : "");
    if (rr->type == 1)
        g->a = rr->addr;
}

static size_t dns_answer(uint8_t *m)
{
    static const uint8_t msg[] = {
        0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
        3, 'W', 'w', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1,
        0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3, 'c', 'd', 'n', 0xc0, 16,
        0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 8, 7,
    };
    memcpy(m, msg, sizeof msg);
    return sizeof msg;
}

MM_TEST(app_parsers)
{
    uint8_t m[128];
    size_t ml = dns_answer(m);
    dnsgot g = {0};
    REQUIRE(nt_dns_parse(m, ml, dns_cb, &g) == 0);
    CHECK_INT(g.n, 3);
    CHECK_STR(g.names[0], "0:www.example.com");
    CHECK_STR(g.names[1], "5:www.example.com>cdn.example.com");
    CHECK_STR(g.names[2], "1:cdn.example.com");
    CHECK_INT(g.a.ip[0], 10);
    /* a compression loop */
    uint8_t loop[] = {0, 0, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
    CHECK(nt_dns_parse(loop, sizeof loop, dns_cb, &g) < 0);
    /* TLS ClientHello */
    uint8_t ch[200];
    size_t n = 0;
    const char *sni = "Secure.Example.ORG";
    size_t sl = strlen(sni);
    uint8_t ext[64];
    size_t el = 0;
    ext[el++] = 0; ext[el++] = 0; ext[el++] = 0; ext[el++] = (uint8_t)(sl + 5);
    ext[el++] = 0; ext[el++] = (uint8_t)(sl + 3); ext[el++] = 0; ext[el++] = 0; ext[el++] = (uint8_t)sl;
    memcpy(ext + el, sni, sl); el += sl;
    size_t body = 2 + 32 + 1 + 2 + 2 + 2 + 2 + el;
    ch[n++] = 0x16; ch[n++] = 3; ch[n++] = 1; ch[n++] = 0; ch[n++] = (uint8_t)(body + 4);
    ch[n++] = 1; ch[n++] = 0; ch[n++] = 0; ch[n++] = (uint8_t)body;
    ch[n++] = 3; ch[n++] = 3; memset(ch + n, 0, 32); n += 32;
    ch[n++] = 0; ch[n++] = 0; ch[n++] = 2; ch[n++] = 0x13; ch[n++] = 1; ch[n++] = 1; ch[n++] = 0;
    ch[n++] = 0; ch[n++] = (uint8_t)el; memcpy(ch + n, ext, el); n += el;
    char name[256];
    CHECK_INT(nt_tls_sni(ch, n, name, sizeof name), 1);
    CHECK_STR(name, "secure.example.org");
    CHECK_INT(nt_tls_sni(ch, n - 10, name, sizeof name), -1);   /* needs more */
    CHECK_INT(nt_tls_sni((const uint8_t *)"GET /", 5, name, sizeof name), 0);
    /* HTTP Host */
    const char *req = "GET /x HTTP/1.1\r\nUser-Agent: t\r\nhost:  API.example.com:8080 \r\n\r\n";
    CHECK_INT(nt_http_host((const uint8_t *)req, strlen(req), name, sizeof name), 1);
    CHECK_STR(name, "api.example.com");
    const char *v6 = "POST / HTTP/1.1\r\nHost: [fd00::5]:80\r\n\r\n";
    CHECK_INT(nt_http_host((const uint8_t *)v6, strlen(v6), name, sizeof name), 1);
    CHECK_STR(name, "fd00::5");
    CHECK_INT(nt_http_host((const uint8_t *)"GET / HTTP/1.1\r\nAcc", 19, name, sizeof name), -1);
    CHECK_INT(nt_http_host((const uint8_t *)"SSH-2.0-x\r\n", 11, name, sizeof name), 0);
}

/* ---- flows, reassembly and names ---------------------------------------------------------- */

MM_TEST(flow_reassembly_names)
{
    got g = {0};
    mm_net_opts o = {.on_stream = on_stream};
    mm_net *n = engine(&g, &o);
    g.last.id = 0;
    /* the DNS answer names 10.9.8.7 */
    uint8_t m[128];
    size_t ml = dns_answer(m);
    feed(n, udp4("10.0.0.1", 5000, "10.0.0.53", 53, m, 12), 1 * S);  /* a query-ish */
    feed(n, udp4("10.0.0.53", 53, "10.0.0.1", 5000, m, ml), 1 * S + 1000);
    const char *c = "10.0.0.1", *s = "10.9.8.7";
    int64_t t = 2 * S;
    feed(n, tcp4(c, 40000, s, 80, TH_SYN, 100, NULL, 4), t++);
    feed(n, tcp4(s, 80, c, 40000, TH_SYN | TH_ACK, 500, NULL, 4), t++);
    feed(n, tcp4(c, 40000, s, 80, TH_ACK, 101, NULL, 0), t++);
    /* "GET / HTTP/1.1\r\n" | "Host: a.example\r\n" | "\r\n", sent 3, 1, 2 */
    const char *p1 = "GET / HTTP/1.1\r\n", *p2 = "Host: a.example\r\n", *p3 = "\r\n";
    uint32_t s1 = 101, s2 = s1 + (uint32_t)strlen(p1), s3 = s2 + (uint32_t)strlen(p2);
    feed(n, tcp4(c, 40000, s, 80, TH_ACK | TH_PSH, s3, p3, 0), t++);
    feed(n, tcp4(c, 40000, s, 80, TH_ACK | TH_PSH, s1, p1, 0), t++);
    feed(n, tcp4(c, 40000, s, 80, TH_ACK | TH_PSH, s1, p1, 0), t++);   /* retransmission */
    feed(n, tcp4(c, 40000, s, 80, TH_ACK | TH_PSH, s2, p2, 0), t++);
    feed(n, tcp4(s, 80, c, 40000, TH_ACK | TH_PSH, 501, "HTTP/1.1 200 OK\r\n\r\n", 0), t++);
    feed(n, tcp4(c, 40000, s, 80, TH_FIN | TH_ACK, s3 + 2, NULL, 0), t++);
    feed(n, tcp4(s, 80, c, 40000, TH_FIN | TH_ACK, 520, NULL, 0), t++);
    mm_net_finish(n);
    CHECK_STR(g.stream, "GET / HTTP/1.1\r\nHost: a.example\r\n\r\n");
    CHECK_INT(g.gaps, 0);
    CHECK_INT(g.flows, 2);
    /* the TCP flow ended last (at finish, in slab order the UDP one first) */
    CHECK_STR(g.host, "a.example");
    CHECK_STR(g.last.state, "closed");
    CHECK_INT(g.last.sport, 80);
    CHECK_INT(g.last.pkts[0], 7);
    CHECK_INT(g.last.pkts[1], 3);
    CHECK_INT(g.alerts, 0);
    mm_net_stats st;
    mm_net_stats_get(n, &st);
    CHECK_INT(st.dns_answers, 1);
    CHECK_INT(st.reasm_buffered, 0);
    const mm_net_topo *tp = mm_net_topology(n);
    CHECK(mm_net_topo_has_edge(tp, "10.0.0.1", "10.9.8.7", IPPROTO_TCP, 80));
    CHECK(mm_net_topo_has_edge(tp, "10.0.0.1", "a.example", IPPROTO_TCP, 80));
    mm_net_free(n);

    /* a per-flow cap of 8 bytes: the early segment cannot wait, the stream
     * skips the gap and says how much it lost */
    memset(&g, 0, sizeof g);
    mm_net_opts o2 = {.on_stream = on_stream, .reasm_flow_max = 8};
    n = engine(&g, &o2);
    t = 10 * S;
    feed(n, tcp4(c, 40001, s, 80, TH_SYN, 100, NULL, 4), t++);
    feed(n, tcp4(s, 80, c, 40001, TH_SYN | TH_ACK, 500, NULL, 4), t++);
    feed(n, tcp4(c, 40001, s, 80, TH_ACK | TH_PSH, 111, "0123456789ABC", 0), t++);
    feed(n, tcp4(c, 40001, s, 80, TH_ACK | TH_PSH, 101, "abcdefghij", 0), t++);
    mm_net_finish(n);
    CHECK_INT(g.gaps, 10);
    CHECK_STR(g.stream, "0123456789ABC");
    mm_net_free(n);
}

/* ---- port scans ------------------------------------------------------------------------- */

static void pkt_cb(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cap, size_t wire)
{
    mm_net_feed(ud, 0, lt, ts, d, cap, wire);
}

static int replay_file(mm_net *n, const char *path)
{
    mm_net_capture *cap;
    mm_net_capture_opts co = {.file = path};
    int rc = mm_net_capture_open(&cap, &co);
    if (rc)
        return rc;
    while ((rc = mm_net_capture_next(cap, 100, 0, pkt_cb, n)) > 0)
        ;
    mm_net_capture_free(cap);
    mm_net_finish(n);
    return rc == MM_ENOTFOUND ? 0 : rc;
}

MM_TEST(scan_fixtures)
{
    static const struct { const char *file, *kind, *speed; } cases[] = {
        {"net/nmap-T2-syn.pcap", "(SYN)", "Fast"},
        {"net/nmap-T2-fin.pcap", "(FIN)", "Fast"},
        {"net/nmap-T2-null.pcap", "(NULL)", "Fast"},
        {"net/nmap-T2-xmas.pcap", "(XMAS)", "Fast"},
        {"net/nmap-T2-ack.pcap", "(ACK)", "Fast"},
        {"net/nmap-T2-connect.pcap", "(connect)", "Fast"},
        {"net/nmap-T1-syn.pcap", "(SYN)", "Slow"},
        {"net/nmap-T1-udp.pcap", "(UDP)", "Slow"},
        {"net/nmap-T0-syn.pcap", "(SYN)", "Slow"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        got g = {0};
        mm_net *n = engine(&g, NULL);
        const char *path = mmt_fixture(cases[i].file);
        if (access(path, R_OK) != 0) {
            fprintf(stderr, "%s: missing fixture\n", path);
            mmt_failed_now = 1;
            mm_net_free(n);
            continue;
        }
        CHECK_OK(replay_file(n, path));
        CHECK_INT(g.alerts, 1);
        CHECK_STR(g.rules[0], "MM-NET-001");
        if (!strstr(g.outputs[0], cases[i].kind) || strncmp(g.outputs[0], cases[i].speed, 4) ||
            !strstr(g.outputs[0], "vertical port scan") || !strstr(g.outputs[0], "of 10.231.0.2 by 10.231.0.1")) {
            fprintf(stderr, "%s: %s\n", cases[i].file, g.outputs[0]);
            mmt_failed_now = 1;
        }
        mm_net_free(n);
    }
}

MM_TEST(scan_horizontal_and_slow)
{
    got g = {0};
    mm_net *n = engine(&g, NULL);
    char dst[32];
    /* 20 hosts, port 22, all refuse: one horizontal and no vertical */
    for (int i = 1; i <= 20; i++) {
        snprintf(dst, sizeof dst, "10.1.0.%d", i);
        feed(n, tcp4("10.2.0.9", 50000, dst, 22, TH_SYN, 1, NULL, 1), (int64_t)i * 1000000);
        feed(n, tcp4(dst, 22, "10.2.0.9", 50000, TH_RST | TH_ACK, 0, NULL, 0), (int64_t)i * 1000000 + 10);
    }
    mm_net_finish(n);
    CHECK_INT(g.alerts, 1);
    CHECK(strstr(g.outputs[0], "horizontal port scan (SYN) of tcp/22 by 10.2.0.9"));
    mm_net_free(n);

    /* 6 ports probed 5 minutes apart (nmap -T0): slow vertical */
    memset(&g, 0, sizeof g);
    n = engine(&g, NULL);
    for (int i = 0; i < 6; i++) {
        int64_t t = 1000 * S + (int64_t)i * 300 * S;
        feed(n, tcp4("10.2.0.9", 50001, "10.1.0.1", 20 + (unsigned)i, TH_SYN, 1, NULL, 1), t);
        feed(n, tcp4("10.1.0.1", 20 + (unsigned)i, "10.2.0.9", 50001, TH_RST | TH_ACK, 0, NULL, 0), t + 50000);
    }
    mm_net_finish(n);
    CHECK_INT(g.alerts, 1);
    CHECK(!strncmp(g.outputs[0], "Slow vertical port scan (SYN) of 10.1.0.1", 41));
    mm_net_free(n);

    /* the same with a 20-minute slow window: too spread out, quiet */
    memset(&g, 0, sizeof g);
    mm_net_opts o = {.scan = {.slow_window_s = 1200}};
    n = engine(&g, &o);
    for (int i = 0; i < 6; i++) {
        int64_t t = 1000 * S + (int64_t)i * 300 * S;
        feed(n, tcp4("10.2.0.9", 50001, "10.1.0.1", 20 + (unsigned)i, TH_SYN, 1, NULL, 1), t);
        feed(n, tcp4("10.1.0.1", 20 + (unsigned)i, "10.2.0.9", 50001, TH_RST | TH_ACK, 0, NULL, 0), t + 50000);
    }
    mm_net_finish(n);
    CHECK_INT(g.alerts, 0);
    mm_net_free(n);

    /* benign: one client opening 40 real sessions to 40 ports is no scan */
    memset(&g, 0, sizeof g);
    n = engine(&g, NULL);
    for (unsigned i = 0; i < 40; i++) {
        int64_t t = (int64_t)i * 1000000;
        feed(n, tcp4("10.2.0.9", 40000 + i, "10.1.0.1", 8000 + i, TH_SYN, 1, NULL, 4), t);
        feed(n, tcp4("10.1.0.1", 8000 + i, "10.2.0.9", 40000 + i, TH_SYN | TH_ACK, 1, NULL, 4), t + 1);
        feed(n, tcp4("10.2.0.9", 40000 + i, "10.1.0.1", 8000 + i, TH_ACK | TH_PSH, 2, "hello", 0), t + 2);
        feed(n, tcp4("10.1.0.1", 8000 + i, "10.2.0.9", 40000 + i, TH_ACK | TH_PSH, 2, "world", 0), t + 3);
    }
    mm_net_finish(n);
    CHECK_INT(g.alerts, 0);
    mm_net_free(n);
}

/* ---- blocklists -------------------------------------------------------------------------- */

MM_TEST(blocklist_formats)
{
    mm_net_blocklist *b;
    mm_net_blocklist_new(&b);
    const char *plain = "# feed\n203.0.113.7\n198.51.100.0/24 ; a net\n0.0.0.0 bad.example\n"
                        "hxxp://evil[.]example/path\n2001:db8:bad::/48\nnot an entry!\n";
    CHECK_OK(mm_net_blocklist_add_string(b, "plain.txt", plain, strlen(plain)));
    const char *csv = "indicator,type,description\n\"192.0.2.9\",ip,C2 server\n"
                      "*.tracker.example,domain,tracking\n";
    CHECK_OK(mm_net_blocklist_add_string(b, "feed.csv", csv, strlen(csv)));
    const char *stix =
        "{\"type\":\"bundle\",\"id\":\"bundle--1\",\"objects\":["
        "{\"type\":\"indicator\",\"id\":\"indicator--a\",\"name\":\"C2\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[ipv4-addr:value = '192.0.2.77'] OR [domain-name:value = 'stix.example']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--b\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[url:value = 'https://dl.example:8443/x.sh']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--c\",\"pattern_type\":\"stix\","
        " \"pattern\":\"[ipv4-addr:value = '192.0.2.88' AND network-traffic:dst_port = 4444]\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--d\",\"revoked\":true,\"pattern_type\":\"stix\","
        " \"pattern\":\"[ipv4-addr:value = '192.0.2.99']\"},"
        "{\"type\":\"indicator\",\"id\":\"indicator--e\",\"pattern_type\":\"snort\",\"pattern\":\"alert\"},"
        "{\"type\":\"malware\",\"id\":\"malware--x\"}]}";
    CHECK_OK(mm_net_blocklist_add_string(b, "feed.json", stix, strlen(stix)));
    mm_ipaddr a;
    static const struct { const char *ip; bool listed; } ips[] = {
        {"203.0.113.7", true}, {"203.0.113.8", false}, {"198.51.100.200", true},
        {"2001:db8:bad:1::5", true}, {"2001:db8:bae::5", false}, {"192.0.2.9", true},
        {"192.0.2.77", true}, {"192.0.2.88", false}, {"192.0.2.99", false},
    };
    for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
        mm_net_addr_parse(&a, ips[i].ip);
        if ((mm_net_blocklist_match_ip(b, &a) != NULL) != ips[i].listed) {
            fprintf(stderr, "%s: expected %s\n", ips[i].ip, ips[i].listed ? "listed" : "unlisted");
            mmt_failed_now = 1;
        }
    }
    CHECK(mm_net_blocklist_match_domain(b, "bad.example"));
    CHECK(mm_net_blocklist_match_domain(b, "WWW.Bad.Example."));
    CHECK(!mm_net_blocklist_match_domain(b, "notbad.example"));
    CHECK(mm_net_blocklist_match_domain(b, "evil.example"));
    CHECK(mm_net_blocklist_match_domain(b, "a.tracker.example"));
    CHECK(mm_net_blocklist_match_domain(b, "stix.example"));
    CHECK(mm_net_blocklist_match_domain(b, "dl.example"));
    /* the suffix and last-label filters: names at and below a listed one
     * match, its parents, look-alikes and other last labels not */
    mm_net_blocklist *b2;
    mm_net_blocklist_new(&b2);
    const char *l2 = "corp.intranet\nsub.x.Test\n";
    CHECK_OK(mm_net_blocklist_add_string(b2, "l2.txt", l2, strlen(l2)));
    CHECK(mm_net_blocklist_match_domain(b2, "corp.intranet"));
    CHECK(mm_net_blocklist_match_domain(b2, "a.b.CORP.intranet."));
    CHECK(mm_net_blocklist_match_domain(b2, "A.SUB.X.TEST"));
    CHECK(!mm_net_blocklist_match_domain(b2, "intranet"));
    CHECK(!mm_net_blocklist_match_domain(b2, "xcorp.intranet"));
    CHECK(!mm_net_blocklist_match_domain(b2, "corp.intranet.example"));
    CHECK(!mm_net_blocklist_match_domain(b2, "x.test"));
    CHECK(!mm_net_blocklist_match_domain(b2, ""));
    CHECK(!mm_net_blocklist_match_domain(b2, "..."));
    mm_net_blocklist_free(b2);
    const char *why = mm_net_blocklist_match_ip(b, &(mm_ipaddr){0});
    CHECK(why == NULL);
    mm_net_addr_parse(&a, "192.0.2.9");
    CHECK(strstr(mm_net_blocklist_match_ip(b, &a), "C2 server"));
    mm_net_addr_parse(&a, "192.0.2.77");
    CHECK(strstr(mm_net_blocklist_match_ip(b, &a), "indicator--a"));
    const char *skipwhy;
    CHECK_INT(mm_net_blocklist_skipped(b, &skipwhy), 3);   /* bad line, AND, snort */
    CHECK(strstr(skipwhy, "plain.txt:7"));
    mm_net_blocklist_free(b);

    /* a broken STIX file is an error naming the file */
    mm_net_blocklist_new(&b);
    CHECK(mm_net_blocklist_add_string(b, "x.json", "{\"objects\": [", 13) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "x.json"));
    mm_net_blocklist_free(b);
}

MM_TEST(blocklist_reload)
{
    char path[512];
    snprintf(path, sizeof path, "%s/list.txt", mmt_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("10.0.0.1\n", f);
    fclose(f);
    const char *paths[] = {path};
    mm_net_blocklist_watch *w;
    REQUIRE(mm_net_blocklist_watch_new(&w, paths, 1) == 0);
    mm_ipaddr a, b2;
    mm_net_addr_parse(&a, "10.0.0.1");
    mm_net_addr_parse(&b2, "10.0.0.2");
    CHECK(mm_net_blocklist_match_ip(mm_net_blocklist_watch_get(w), &a));
    bool changed;
    CHECK_OK(mm_net_blocklist_watch_check(w, &changed));
    CHECK(!changed);
    f = fopen(path, "w");
    fputs("10.0.0.2\nmore.example\n", f);
    fclose(f);
    CHECK_OK(mm_net_blocklist_watch_check(w, &changed));
    CHECK(changed);
    CHECK(!mm_net_blocklist_match_ip(mm_net_blocklist_watch_get(w), &a));
    CHECK(mm_net_blocklist_match_ip(mm_net_blocklist_watch_get(w), &b2));
    /* a broken new version keeps the old list */
    f = fopen(path, "w");
    fputs("{ not json", f);
    fclose(f);
    CHECK(mm_net_blocklist_watch_check(w, &changed) == MM_EFORMAT);
    CHECK(mm_net_blocklist_match_ip(mm_net_blocklist_watch_get(w), &b2));
    mm_net_blocklist_watch_free(w);
}

/* ---- topology, baseline, listening ports --------------------------------------------------- */

static void session(mm_net *n, const char *c, unsigned cp, const char *s, unsigned sp, int64_t t)
{
    feed(n, tcp4(c, cp, s, sp, TH_SYN, 1, NULL, 4), t);
    feed(n, tcp4(s, sp, c, cp, TH_SYN | TH_ACK, 1, NULL, 4), t + 1);
    feed(n, tcp4(c, cp, s, sp, TH_ACK | TH_PSH, 2, "ping", 0), t + 2);
    feed(n, tcp4(s, sp, c, cp, TH_ACK | TH_PSH, 2, "pong", 0), t + 3);
}

/* A capture judged against base: a known flow, a new port on a known node,
 * and a new client of an exposed and of an unexposed port. */
static mm_net *enforce_run(got *g, mm_net_opts *o, const mm_net_topo *base)
{
    mm_net *n = engine(g, o);
    mm_net_set_baseline(n, base);
    mm_net_expose(n, "10.0.0.9", IPPROTO_TCP, 80);
    session(n, "10.0.0.1", 40010, "10.0.0.2", 5432, 10 * S);
    session(n, "10.0.0.1", 40011, "10.0.0.2", 22, 11 * S);
    session(n, "10.0.0.5", 40012, "10.0.0.9", 80, 12 * S);
    session(n, "10.0.0.5", 40013, "10.0.0.9", 8081, 13 * S);
    mm_net_finish(n);
    return n;
}

MM_TEST(topology_baseline_listen)
{
    got g = {0};
    mm_net_opts lo = {.learn = true};
    mm_net *n = engine(&g, &lo);
    session(n, "10.0.0.1", 40000, "10.0.0.2", 5432, 1 * S);
    session(n, "10.0.0.1", 40001, "10.0.0.3", 6379, 2 * S);
    mm_net_finish(n);
    CHECK_INT(g.alerts, 0);
    char *json = mm_net_topo_json(mm_net_topology(n));
    char *dot = mm_net_topo_dot(mm_net_topology(n));
    CHECK(strstr(dot, "\"10.0.0.1\" -> \"10.0.0.2\" [label=\"tcp/5432 (1)\"]"));
    free(dot);
    mm_net_free(n);
    mm_net_topo *base;
    REQUIRE(mm_net_topo_load_string(&base, "base.json", json, strlen(json)) == 0);
    free(json);
    CHECK_INT(mm_net_topo_node_count(base), 3);
    CHECK_INT(mm_net_topo_edge_count(base), 2);
    bool known;
    CHECK(mm_net_topo_has_listen(base, "10.0.0.2", IPPROTO_TCP, 5432, &known) && known);

    /* enforcing: the known flows are quiet; a new edge and a new listening
     * port on a known node are findings; EXPOSE covers an address */
    memset(&g, 0, sizeof g);
    n = enforce_run(&g, NULL, base);
    int base_f = 0, listen_f = 0;
    for (int i = 0; i < g.alerts && i < 16; i++) {
        if (!strcmp(g.rules[i], "MM-NET-030"))
            base_f++;
        if (!strcmp(g.rules[i], "MM-NET-020")) {
            listen_f++;
            CHECK(strstr(g.outputs[i], "tcp/22 on 10.0.0.2") || strstr(g.outputs[i], "tcp/8081 on 10.0.0.9"));
        }
    }
    CHECK_INT(base_f, 3);        /* :22, and both flows of the unknown client 10.0.0.5 */
    CHECK_INT(listen_f, 2);
    CHECK_INT(mm_findings_count(mm_net_findings(n)), (size_t)g.alerts);
    char *fj = mm_net_findings_json(mm_net_findings(n));
    CHECK(strstr(fj, "\"section\": \"3.3.3\""));
    free(fj);
    CHECK(mm_net_topo_edge_count(mm_net_topology(n)) >= 3);
    mm_net_free(n);

    /* without the observed graph (no_topology): the same alerts, no graph */
    got g2 = {0};
    mm_net_opts ng = {.no_topology = true};
    n = enforce_run(&g2, &ng, base);
    CHECK_INT(g2.alerts, g.alerts);
    CHECK_INT(g2.flows, g.flows);
    for (int i = 0; i < g.alerts && i < 16; i++) {
        CHECK_STR(g2.rules[i], g.rules[i]);
        CHECK_STR(g2.outputs[i], g.outputs[i]);
    }
    CHECK_INT(mm_net_topo_node_count(mm_net_topology(n)), 0);
    CHECK_INT(mm_net_topo_edge_count(mm_net_topology(n)), 0);
    mm_net_free(n);
    mm_net_topo_free(base);

    /* a malformed baseline names the field */
    CHECK(mm_net_topo_load_string(&base, "b.json", "{\"nodes\":[],\"edges\":[{\"client\":\"a\"}]}", 37) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "edges[0]"));
}

MM_TEST(listen_runtime_profile)
{
    const char *y = "version: 1\nimages:\n  - image: \"localhost/web:1\"\n    listen:\n"
                    "      - {proto: tcp, port: 80}\n";
    mm_profile *prof;
    REQUIRE(mm_profile_load_string(&prof, "p.yaml", y, strlen(y)) == 0);
    got g = {0};
    mm_net_opts o = {.on_alert = on_alert, .on_flow = on_flow, .ud = &g, .hostname = "t"};
    mm_net *n;
    mm_net_new(&n, &o);
    mm_container *ct;
    mm_container_new(&ct, "0123456789ab");
    mm_proc_set(&ct->name, "web");
    mm_proc_set(&ct->image, "localhost/web:1");
    mm_proc_set(&ct->image_repository, "localhost/web");
    mm_proc_set(&ct->image_tag, "1");
    mm_net_source_add(n, "container:web", 7, ct);
    mm_ipaddr a;
    mm_net_addr_parse(&a, "10.0.0.2");
    mm_net_addr_owner(n, 7, &a, ct);
    mm_container_unref(ct);
    mm_net_set_profile(n, prof);
    session(n, "10.0.0.1", 40000, "10.0.0.2", 80, 1 * S);
    session(n, "10.0.0.1", 40001, "10.0.0.2", 8080, 2 * S);
    mm_net_finish(n);
    CHECK_INT(g.alerts, 1);
    CHECK_STR(g.rules[0], "MM-NET-020");
    CHECK(strstr(g.outputs[0], "tcp/8080 on web"));
    mm_net_free(n);
    mm_profile_free(prof);
}

MM_TEST(pcap_truncated)
{
    char path[512];
    snprintf(path, sizeof path, "%s/t.pcap", mmt_tmpdir());
    FILE *f = fopen(path, "wb");
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(gh, 4, 6, f);
    uint32_t rh[4] = {1, 0, 100, 100};
    fwrite(rh, 4, 4, f);
    fwrite("0123456789", 1, 10, f);      /* 90 bytes short */
    fclose(f);
    got g = {0};
    mm_net *n = engine(&g, NULL);
    CHECK(replay_file(n, path) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "offset 24"));
    mm_net_free(n);
}

MM_TEST_MAIN
