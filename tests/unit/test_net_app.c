/*
 * test_net_app.c - the network sensor's application layer as the engine
 * runs it with no stream callback (how `mamori net` runs): TCP reassembly
 * that hands its per-flow state back once both parsers have their answer,
 * HTTP Host and TLS SNI across out-of-order and split segments, DNS answers
 * naming addresses and the blocklist checks on the question, CNAME targets
 * and answers, the blocklist's prefix and domain filters, the shared name
 * table, the name byte rules, and the caps (per flow, in total, the
 * parsers' buffer).  test_net.c covers the same parsers with a stream
 * callback, which keeps every flow's reassembly state to the end.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>

#include "mamori/mamori.h"
#include "mamori/net.h"
#include "net/net_int.h"
#include "mmtest.h"

#define S 1000000000ll

/* ---- packets ----------------------------------------------------------------- */

typedef struct pk {
    uint8_t b[2048];
    size_t n;
} pk;

static void w8(pk *p, unsigned v) { p->b[p->n++] = (uint8_t)v; }
static void w16(pk *p, unsigned v) { w8(p, v >> 8); w8(p, v & 255); }
static void w32(pk *p, uint32_t v) { w16(p, v >> 16); w16(p, v & 0xffff); }
static void wmem(pk *p, const void *d, size_t n) { memcpy(p->b + p->n, d, n); p->n += n; }

static void wip4(pk *p, const char *s)
{
    struct in_addr a;
    inet_pton(AF_INET, s, &a);
    wmem(p, &a, 4);
}

/* Ethernet + IPv4 + (TCP with flags and seq | UDP) carrying d[0..len). */
static pk ip4(uint8_t proto, const char *src, unsigned sp, const char *dst, unsigned dp,
              unsigned flags, uint32_t seq, const void *d, size_t len)
{
    pk p = {.n = 0};
    wmem(&p, "\x02\0\0\0\0\1\x02\0\0\0\0\2\x08\x00", 14);
    size_t l4 = proto == IPPROTO_TCP ? 20 : 8;
    w8(&p, 0x45); w8(&p, 0); w16(&p, (unsigned)(20 + l4 + len)); w16(&p, 0); w16(&p, 0x4000);
    w8(&p, 64); w8(&p, proto); w16(&p, 0); wip4(&p, src); wip4(&p, dst);
    w16(&p, sp); w16(&p, dp);
    if (proto == IPPROTO_TCP) {
        w32(&p, seq); w32(&p, 1); w8(&p, 5 << 4); w8(&p, flags); w16(&p, 1024);
        w16(&p, 0); w16(&p, 0);
    } else {
        w16(&p, (unsigned)(8 + len)); w16(&p, 0);
    }
    if (len)
        wmem(&p, d, len);
    return p;
}

typedef struct seen {
    int flows;
    struct { unsigned cport; char host[64], sni[64], name[64]; } f[16];
    int alerts;
    char rule[16][16];
    char out[16][400];
    int names;                   /* on_name: "qname ttl" of each answer */
    char name[8][64];
} seen;

static void on_flow(void *ud, const mm_net_flow *f)
{
    seen *s = ud;
    if (s->flows >= 16)
        return;
    s->f[s->flows].cport = f->cport;
    snprintf(s->f[s->flows].host, 64, "%s", f->http_host ? f->http_host : "");
    snprintf(s->f[s->flows].sni, 64, "%s", f->sni ? f->sni : "");
    snprintf(s->f[s->flows].name, 64, "%s", f->srv_name ? f->srv_name : "");
    s->flows++;
}

static void on_alert(void *ud, const mm_alert *a, const mm_finding *f)
{
    seen *s = ud;
    if (s->alerts < 16) {
        snprintf(s->rule[s->alerts], 16, "%s", f->id);
        snprintf(s->out[s->alerts], 400, "%s", a->output);
    }
    s->alerts++;
}

static void on_name(void *ud, const mm_net_flow *f, const char *name, const mm_ipaddr *a,
                    uint32_t ttl)
{
    seen *s = ud;
    (void)f;
    (void)a;
    if (s->names < 8)
        snprintf(s->name[s->names], 64, "%s %u", name, ttl);
    s->names++;
}

static mm_net *engine(seen *s, mm_net_opts *o)
{
    o->on_flow = on_flow;
    o->on_alert = on_alert;
    o->ud = s;
    o->hostname = "testhost";
    mm_net *n;
    if (mm_net_new(&n, o) != 0) {
        fprintf(stderr, "mm_net_new failed\n");
        exit(1);
    }
    mm_net_source_add(n, "test", 0, NULL);
    return n;
}

static void feed(mm_net *n, pk p, int64_t t)
{
    mm_net_feed(n, 0, MM_NET_LINK_ETHERNET, t, p.b, p.n, p.n);
}

static void tcp(mm_net *n, const char *src, unsigned sp, const char *dst, unsigned dp,
                unsigned flags, uint32_t seq, const void *d, size_t len, int64_t *t)
{
    feed(n, ip4(IPPROTO_TCP, src, sp, dst, dp, flags, seq, d, len), (*t)++);
}

/* The flow whose client port is cport, as on_flow saw it. */
static const char *flow_field(const seen *s, unsigned cport, int which)
{
    for (int i = 0; i < s->flows && i < 16; i++)
        if (s->f[i].cport == cport)
            return which == 0 ? s->f[i].host : which == 1 ? s->f[i].sni : s->f[i].name;
    return "(no flow)";
}

/* A TLS ClientHello record naming sni; returns its length. */
static size_t client_hello(uint8_t *out, const char *sni)
{
    pk e = {.n = 0};
    size_t sl = strlen(sni);
    w16(&e, 0x000a); w16(&e, 4); w16(&e, 2); w16(&e, 0x001d);    /* groups first */
    w16(&e, 0); w16(&e, (unsigned)(sl + 5)); w16(&e, (unsigned)(sl + 3)); w8(&e, 0);
    w16(&e, (unsigned)sl); wmem(&e, sni, sl);
    pk h = {.n = 0};
    w16(&h, 0x0303);
    for (int i = 0; i < 32; i++)
        w8(&h, (unsigned)i);
    w8(&h, 0); w16(&h, 2); w16(&h, 0x1301); w8(&h, 1); w8(&h, 0);
    w16(&h, (unsigned)e.n); wmem(&h, e.b, e.n);
    pk r = {.n = 0};
    w8(&r, 0x16); w16(&r, 0x0301); w16(&r, (unsigned)(h.n + 4));
    w8(&r, 1); w8(&r, 0); w16(&r, (unsigned)h.n); wmem(&r, h.b, h.n);
    memcpy(out, r.b, r.n);
    return r.n;
}

/* ---- DNS messages --------------------------------------------------------------- */

static void wname(pk *p, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        w8(p, (unsigned)l);
        wmem(p, name, l);
        name += l + (dot ? 1 : 0);
    }
    w8(p, 0);
}

/* A response: question q (NULL: none), then answers "A name addr",
 * "AAAA name addr" or "CNAME name target". */
static pk dns_resp(const char *q, const char *const *ans, size_t nans)
{
    pk p = {.n = 0};
    w16(&p, 0x4242); w16(&p, 0x8180); w16(&p, q ? 1 : 0); w16(&p, (unsigned)nans);
    w16(&p, 0); w16(&p, 0);
    if (q) {
        wname(&p, q);
        w16(&p, 1); w16(&p, 1);
    }
    for (size_t i = 0; i < nans; i++) {
        char type[8], name[128], val[128];
        if (sscanf(ans[i], "%7s %127s %127s", type, name, val) != 3) {
            CHECK(!"an answer is TYPE NAME VALUE");
            break;
        }
        wname(&p, name);
        unsigned t = !strcmp(type, "A") ? 1 : !strcmp(type, "AAAA") ? 28 : 5;
        w16(&p, t); w16(&p, 1); w32(&p, 300);
        if (t == 5) {
            pk tg = {.n = 0};
            wname(&tg, val);
            w16(&p, (unsigned)tg.n); wmem(&p, tg.b, tg.n);
        } else {
            uint8_t a[16];
            CHECK(inet_pton(t == 1 ? AF_INET : AF_INET6, val, a) == 1);
            w16(&p, t == 1 ? 4 : 16); wmem(&p, a, t == 1 ? 4 : 16);
        }
    }
    return p;
}

static void dns(mm_net *n, const char *cli, unsigned cport, pk m, int64_t *t)
{
    feed(n, ip4(IPPROTO_UDP, "10.53.0.53", 53, cli, cport, 0, 0, m.b, m.n), (*t)++);
}

/* ---- the name byte rules ------------------------------------------------------------ */

MM_TEST(name_bytes_follow_the_rules)
{
    for (unsigned c = 0; c < 256; c++) {
        char s[2] = {(char)c, 0};
        bool ok = c > 0x20 && c < 0x7f && c != '/' && c != '\\' && c != '"';
        if (nt_name_ok(s, 1) != ok)
            fprintf(stderr, "byte 0x%02x\n", c);
        CHECK(nt_name_ok(s, 1) == ok);
    }
    char name[256];
    /* SNI and Host are lower-cased; a forbidden byte makes no name */
    uint8_t ch[512];
    size_t cl = client_hello(ch, "WWW.Example.ORG");
    CHECK_INT(nt_tls_sni(ch, cl, name, sizeof name), 1);
    CHECK_STR(name, "www.example.org");
    cl = client_hello(ch, "bad/name.org");
    CHECK_INT(nt_tls_sni(ch, cl, name, sizeof name), 0);
    CHECK_INT(nt_tls_sni(ch, cl, name, 5), 0);                     /* does not fit */
    const char *r = "GET / HTTP/1.1\r\nHOST: Api.Example.COM\r\n\r\n";
    CHECK_INT(nt_http_host((const uint8_t *)r, strlen(r), name, sizeof name), 1);
    CHECK_STR(name, "api.example.com");
    r = "GET / HTTP/1.1\r\nHost: a\"b.example\r\n\r\n";
    CHECK_INT(nt_http_host((const uint8_t *)r, strlen(r), name, sizeof name), 0);
    r = "GET / HTTP/1.1\r\nHost: [fd00::1]\r\n\r\n";                /* no port: ':' inside [] */
    CHECK_INT(nt_http_host((const uint8_t *)r, strlen(r), name, sizeof name), 1);
    CHECK_STR(name, "fd00::1");
    r = "GET / HTTP/1.1\r\nHost: :80\r\n\r\n";                       /* nothing before the port */
    CHECK_INT(nt_http_host((const uint8_t *)r, strlen(r), name, sizeof name), 0);
}

typedef struct dnames { char name[8][64]; int n; } dnames;
static void dns_names(void *ud, const nt_dns_rr *rr, bool resp)
{
    dnames *g = ud;
    (void)resp;
    if (g->n < 8)
        snprintf(g->name[g->n++], 64, "%s", rr->target ? rr->target : rr->name);
}

MM_TEST(dns_labels_written_as_seen)
{
    /* upper case lowered, odd bytes and a '.' inside a label as '?' */
    uint8_t m[64] = {0, 1, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                     6, 'A', '.', 0x01, 0xff, ' ', 'z', 3, 'C', 'o', 'M', 0, 0, 1, 0, 1};
    dnames g = {0};
    CHECK_INT(nt_dns_parse(m, 28, dns_names, &g), 0);
    CHECK_INT(g.n, 1);
    CHECK_STR(g.name[0], "a????z.com");
    /* a label running past the message */
    m[19] = 9;
    CHECK(nt_dns_parse(m, 28, dns_names, &g) < 0);

    /* an answer naming the question by a pointer (c0 0c): the question's
     * name as read, also when the question itself is a pointer (to a name
     * after the answer) */
    uint8_t r[64] = {0, 2, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                     0xc0, 34, 0, 1, 0, 1,                          /* question -> 34 */
                     0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4,
                     3, 'W', 'w', 'w', 0};
    memset(&g, 0, sizeof g);
    CHECK_INT(nt_dns_parse(r, 39, dns_names, &g), 0);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.name[0], "www");
    CHECK_STR(g.name[1], "www");
    /* and plain: the question at 12, the answer pointing to it */
    uint8_t q[64] = {0, 3, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
                     3, 'A', 'b', 'C', 0, 0, 1, 0, 1,
                     0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4};
    memset(&g, 0, sizeof g);
    CHECK_INT(nt_dns_parse(q, 37, dns_names, &g), 0);
    CHECK_INT(g.n, 2);
    CHECK_STR(g.name[1], "abc");
    CHECK(nt_dns_parse(q, 36, dns_names, &g) < 0);                /* rdata cut short */
    CHECK(nt_dns_parse(q, 22, dns_names, &g) < 0);                /* the pointer cut */
}

/* ---- TCP names with no stream callback ----------------------------------------------- */

MM_TEST(tcp_names_out_of_order_and_split)
{
    seen s = {0};
    mm_net_opts o = {0};
    mm_net *n = engine(&s, &o);
    int64_t t = 1 * S;
    const char *c = "10.1.0.1", *v = "10.2.0.1";
    /* HTTP: three segments, the last first, the first twice */
    const char *p1 = "GET /a HTTP/1.1\r\n", *p2 = "Host: One.Example:8080\r\n", *p3 = "\r\n";
    uint32_t s1 = 1001, s2 = s1 + (uint32_t)strlen(p1), s3 = s2 + (uint32_t)strlen(p2);
    tcp(n, c, 40001, v, 80, TH_SYN, 1000, NULL, 0, &t);
    tcp(n, v, 80, c, 40001, TH_SYN | TH_ACK, 5000, NULL, 0, &t);
    tcp(n, c, 40001, v, 80, TH_ACK, s1, NULL, 0, &t);
    tcp(n, c, 40001, v, 80, TH_ACK | TH_PSH, s3, p3, strlen(p3), &t);
    tcp(n, c, 40001, v, 80, TH_ACK | TH_PSH, s2, p2, strlen(p2), &t);   /* also ahead */
    mm_net_stats st;
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_buffered, strlen(p2) + strlen(p3));
    tcp(n, c, 40001, v, 80, TH_ACK | TH_PSH, s1, p1, strlen(p1), &t);
    tcp(n, c, 40001, v, 80, TH_ACK | TH_PSH, s1, p1, strlen(p1), &t);   /* retransmitted */
    tcp(n, v, 80, c, 40001, TH_ACK | TH_PSH, 5001, "HTTP/1.1 200 OK\r\n\r\n", 19, &t);
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_buffered, 0);
    /* both directions are done: later segments (even out of order) are not kept */
    tcp(n, v, 80, c, 40001, TH_ACK | TH_PSH, 9000, "late", 4, &t);
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_buffered, 0);

    /* TLS: the ClientHello in two segments (the parser keeps the first) */
    uint8_t ch[512];
    size_t cl = client_hello(ch, "Two.Example");
    tcp(n, c, 40002, v, 443, TH_SYN, 70000, NULL, 0, &t);
    tcp(n, v, 443, c, 40002, TH_SYN | TH_ACK, 9, NULL, 0, &t);
    tcp(n, c, 40002, v, 443, TH_ACK | TH_PSH, 70001, ch, 20, &t);
    tcp(n, c, 40002, v, 443, TH_ACK | TH_PSH, 70021, ch + 20, cl - 20, &t);
    tcp(n, v, 443, c, 40002, TH_ACK | TH_PSH, 10, "\x16\x03\x03\x00\x01\x02", 6, &t);

    /* TLS again, its two segments swapped: the flow takes a recycled
     * reassembly pair, which must start clean */
    cl = client_hello(ch, "three.example");
    tcp(n, c, 40003, v, 443, TH_SYN, 123, NULL, 0, &t);
    tcp(n, v, 443, c, 40003, TH_SYN | TH_ACK, 0xfffffff0u, NULL, 0, &t);
    tcp(n, c, 40003, v, 443, TH_ACK | TH_PSH, 124 + 30, ch + 30, cl - 30, &t);
    tcp(n, c, 40003, v, 443, TH_ACK | TH_PSH, 124, ch, 30, &t);
    /* the server's data wraps its sequence space */
    tcp(n, v, 443, c, 40003, TH_ACK | TH_PSH, 0xfffffff1u, "0123456789abcdefghij", 20, &t);

    /* picked up mid-stream (no SYN): the first segment seen starts the stream */
    const char *r = "PUT /x HTTP/1.1\r\nhost: four.example\r\n\r\n";
    tcp(n, c, 40004, v, 8080, TH_ACK | TH_PSH, 777, r, strlen(r), &t);
    mm_net_finish(n);
    CHECK_STR(flow_field(&s, 40001, 0), "one.example");
    CHECK_STR(flow_field(&s, 40001, 2), "one.example");
    CHECK_STR(flow_field(&s, 40002, 1), "two.example");
    CHECK_STR(flow_field(&s, 40003, 1), "three.example");
    CHECK_STR(flow_field(&s, 40004, 0), "four.example");
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_buffered, 0);
    CHECK_INT(st.reasm_dropped, 0);
    CHECK_INT(s.alerts, 0);
    mm_net_free(n);
}

/* ---- caps ----------------------------------------------------------------------------------- */

MM_TEST(caps_per_flow_in_total_and_parser_buffer)
{
    seen s = {0};
    mm_net_opts o = {.reasm_flow_max = 16, .reasm_total_max = 24};
    mm_net *n = engine(&s, &o);
    int64_t t = 1 * S;
    const char *c = "10.1.0.1", *v = "10.2.0.1";
    /* over the per-flow cap: the early segment is not kept, the stream
     * skips ahead, and a parser cannot resume across the gap */
    const char *p1 = "GET / HTTP/1.1\r\n", *p2 = "Host: five.example\r\n\r\n";
    tcp(n, c, 40005, v, 80, TH_SYN, 100, NULL, 0, &t);
    tcp(n, c, 40005, v, 80, TH_ACK | TH_PSH, 101 + 16, p2, strlen(p2), &t);
    tcp(n, c, 40005, v, 80, TH_ACK | TH_PSH, 101, p1, strlen(p1), &t);
    mm_net_stats st;
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_dropped, 16);
    CHECK_INT(st.reasm_buffered, 0);
    /* the total cap: two flows hold 12 bytes each, a third may not add */
    tcp(n, c, 40006, v, 80, TH_SYN, 100, NULL, 0, &t);
    tcp(n, c, 40006, v, 80, TH_ACK | TH_PSH, 111, "Host: x.ex\r\n", 12, &t);
    tcp(n, c, 40007, v, 80, TH_SYN, 100, NULL, 0, &t);
    tcp(n, c, 40007, v, 80, TH_ACK | TH_PSH, 111, "Host: y.ex\r\n", 12, &t);
    tcp(n, c, 40008, v, 80, TH_SYN, 100, NULL, 0, &t);
    tcp(n, c, 40008, v, 80, TH_ACK | TH_PSH, 111, "Host: z.ex\r\n", 12, &t);
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_buffered, 24);
    CHECK_INT(st.reasm_dropped, 16 + 10);
    /* the gaps fill for the two that were kept */
    tcp(n, c, 40006, v, 80, TH_ACK | TH_PSH, 101, "GET /abc\r\n", 10, &t);
    tcp(n, c, 40007, v, 80, TH_ACK | TH_PSH, 101, "GET /abc\r\n", 10, &t);
    tcp(n, c, 40006, v, 80, TH_ACK | TH_PSH, 123, "\r\n", 2, &t);
    tcp(n, c, 40007, v, 80, TH_ACK | TH_PSH, 123, "\r\n", 2, &t);
    mm_net_stats_get(n, &st);
    CHECK_INT(st.reasm_buffered, 0);

    /* the parser's buffer: 16 KiB of headers and no Host yet gives up */
    tcp(n, c, 40009, v, 80, TH_SYN, 0, NULL, 0, &t);
    uint32_t seq = 1;
    const char *line = "GET /big HTTP/1.1\r\n";
    tcp(n, c, 40009, v, 80, TH_ACK | TH_PSH, seq, line, strlen(line), &t);
    seq += (uint32_t)strlen(line);
    char hdr[1001];
    memset(hdr, 'a', sizeof hdr - 1);
    memcpy(hdr, "X-Pad: ", 7);
    hdr[998] = '\r';
    hdr[999] = '\n';
    hdr[1000] = 0;
    for (int i = 0; i < 17; i++, seq += 1000)
        tcp(n, c, 40009, v, 80, TH_ACK | TH_PSH, seq, hdr, 1000, &t);
    const char *late = "Host: six.example\r\n\r\n";
    tcp(n, c, 40009, v, 80, TH_ACK | TH_PSH, seq, late, strlen(late), &t);
    mm_net_finish(n);
    CHECK_STR(flow_field(&s, 40005, 0), "");
    CHECK_STR(flow_field(&s, 40006, 0), "x.ex");
    CHECK_STR(flow_field(&s, 40007, 0), "y.ex");
    CHECK_STR(flow_field(&s, 40008, 0), "");
    CHECK_STR(flow_field(&s, 40009, 0), "");
    mm_net_free(n);
}

/* ---- DNS names and the blocklist ------------------------------------------------------ */

MM_TEST(dns_answers_name_addresses_and_listed_domains)
{
    mm_net_blocklist *bl;
    REQUIRE(mm_net_blocklist_new(&bl) == 0);
    const char *list = "cdn.bad.example\n*.evil.example\n";
    REQUIRE(mm_net_blocklist_add_string(bl, "bl", list, strlen(list)) == 0);
    seen s = {0};
    mm_net_opts o = {.on_name = on_name};
    mm_net *n = engine(&s, &o);
    mm_net_set_blocklist(n, bl);
    int64_t t = 1 * S;
    const char *c = "10.1.0.1";
    /* the question is not listed; its CNAME target is, and so the answer's
     * name, which differs from the question */
    const char *a1[] = {"CNAME www.good.example cdn.bad.example", "A cdn.bad.example 192.0.2.7"};
    dns(n, c, 5001, dns_resp("www.good.example", a1, 2), &t);
    /* a listed question: its answers are listed under it */
    const char *a2[] = {"A x.evil.example 192.0.2.8", "AAAA x.evil.example fd00::8"};
    dns(n, c, 5002, dns_resp("x.evil.example", a2, 2), &t);
    /* no question: an answer stands for itself */
    const char *a3[] = {"A y.evil.example 192.0.2.9"};
    dns(n, c, 5003, dns_resp(NULL, a3, 1), &t);
    /* an unlisted name, then connections to all four addresses */
    const char *a4[] = {"A api.good.example 192.0.2.10"};
    dns(n, c, 5004, dns_resp("api.good.example", a4, 1), &t);
    const char *srv[] = {"192.0.2.7", "192.0.2.8", "192.0.2.9", "192.0.2.10"};
    for (unsigned i = 0; i < 4; i++) {
        tcp(n, c, 41000 + i, srv[i], 443, TH_SYN, 1, NULL, 0, &t);
        tcp(n, srv[i], 443, c, 41000 + i, TH_SYN | TH_ACK, 1, NULL, 0, &t);
    }
    mm_net_finish(n);
    mm_net_stats st;
    mm_net_stats_get(n, &st);
    CHECK_INT(st.dns_answers, 5);
    /* each address under the question's name, with the record's TTL */
    CHECK_INT(s.names, 5);
    CHECK_STR(s.name[0], "www.good.example 300");
    CHECK_STR(s.name[1], "x.evil.example 300");
    CHECK_STR(s.name[3], "y.evil.example 300");
    /* DNS lookups (the CNAME target, the listed question) and three
     * connections to addresses of listed domains */
    CHECK_INT(s.alerts, 5);
    int dns_alerts = 0, res = 0;
    for (int i = 0; i < s.alerts && i < 16; i++) {
        if (!strcmp(s.rule[i], "MM-NET-013")) {
            dns_alerts++;
            CHECK(strstr(s.out[i], "cdn.bad.example") || strstr(s.out[i], "x.evil.example"));
        } else if (!strcmp(s.rule[i], "MM-NET-011")) {
            res++;
        }
    }
    CHECK_INT(dns_alerts, 2);
    CHECK_INT(res, 3);
    bool saw7 = false, saw8 = false, saw9 = false;
    for (int i = 0; i < s.alerts && i < 16; i++) {
        saw7 |= strstr(s.out[i], "listed domain cdn.bad.example") && strstr(s.out[i], "192.0.2.7");
        saw8 |= strstr(s.out[i], "listed domain x.evil.example") && strstr(s.out[i], "192.0.2.8");
        saw9 |= strstr(s.out[i], "listed domain y.evil.example") && strstr(s.out[i], "192.0.2.9");
    }
    CHECK(saw7 && saw8 && saw9);
    /* the answers named the servers after the question */
    CHECK_STR(flow_field(&s, 41000, 2), "www.good.example");
    CHECK_STR(flow_field(&s, 41001, 2), "x.evil.example");
    CHECK_STR(flow_field(&s, 41002, 2), "y.evil.example");
    CHECK_STR(flow_field(&s, 41003, 2), "api.good.example");
    mm_net_free(n);
    mm_net_blocklist_free(bl);
}

/* ---- the blocklist's filters ------------------------------------------------------------ */

static const char *ip_listed(const mm_net_blocklist *b, const char *s)
{
    mm_ipaddr a;
    if (mm_net_addr_parse(&a, s) != 0) {
        CHECK(!"an address");
        return NULL;
    }
    return mm_net_blocklist_match_ip(b, &a);
}

/* Each of the n queries (addresses when ip, else domains) is listed in b
 * when want is, and not when it is not; the misses are named. */
static void check_listed(const mm_net_blocklist *b, bool ip, const char *const *q, size_t n,
                         bool want)
{
    for (size_t i = 0; i < n; i++) {
        bool got = (ip ? ip_listed(b, q[i]) : mm_net_blocklist_match_domain(b, q[i])) != NULL;
        if (got != want)
            fprintf(stderr, "%s: %s\n", want ? "not listed" : "listed", q[i]);
        CHECK(got == want);
    }
}

MM_TEST(blocklist_filters_keep_every_match)
{
    mm_net_blocklist *b;
    REQUIRE(mm_net_blocklist_new(&b) == 0);
    const char *list =
        "10.0.0.0/8\n192.168.7.9\n172.16.0.0/12\n100.64.0.0/17\n"
        "fd00:ab::/32\n2001:db8::/16\nfe80::1\n"
        "bad.example\n*.evil.co\nMixed.Case.ORG\nshort.io\n"
        "x.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm\n";
    REQUIRE(mm_net_blocklist_add_string(b, "bl", list, strlen(list)) == 0);
    const char *yes[] = {"10.0.0.1", "10.255.255.255", "192.168.7.9", "172.16.0.1",
                         "172.31.255.255", "100.64.127.1", "fd00:ab::1", "fd00:ab:ffff::2",
                         "2001:db8::1", "2001:ffff::1", "fe80::1"};
    const char *no[] = {"11.0.0.1", "9.255.255.255", "192.168.7.10", "192.168.6.9",
                        "172.32.0.1", "172.15.255.255", "100.64.128.1", "fd00:ac::1",
                        "2002::1", "fe80::2", "::1", "0.0.0.0"};
    check_listed(b, true, yes, sizeof yes / sizeof *yes, true);
    check_listed(b, true, no, sizeof no / sizeof *no, false);
    const char *dyes[] = {"bad.example", "a.b.bad.example", "BAD.Example.", "evil.co", "a.evil.co",
                          "mixed.case.org", "www.MIXED.case.org", "short.io",
                          "x.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklm"};
    const char *dno[] = {"goodbad.example", "example", "evil.com", "evil.c", "case.org",
                         "io", "long.io", "", ".", "x.abcdefghijklmnopqrstuvwxyzabcdefghijklmno"
                         "pqrstuvwxyzabcdefghijkl"};
    check_listed(b, false, dyes, sizeof dyes / sizeof *dyes, true);
    check_listed(b, false, dno, sizeof dno / sizeof *dno, false);
    mm_net_blocklist_free(b);

    /* a /0 covers every IPv4 address and no IPv6 one */
    REQUIRE(mm_net_blocklist_new(&b) == 0);
    REQUIRE(mm_net_blocklist_add_string(b, "all", "0.0.0.0/0\n", 10) == 0);
    CHECK(ip_listed(b, "1.2.3.4") != NULL);
    CHECK(ip_listed(b, "255.255.255.255") != NULL);
    CHECK(ip_listed(b, "fd00::1") == NULL);
    mm_net_blocklist_free(b);
}

/* ---- the shared name table ------------------------------------------------------------- */

MM_TEST(name_table_shares_names)
{
    nt_names *t = nt_names_new(8);
    mm_ipaddr a[12];
    for (int i = 0; i < 12; i++) {
        char s[32];
        snprintf(s, sizeof s, "10.0.0.%d", i + 1);
        REQUIRE(mm_net_addr_parse(&a[i], s) == 0);
    }
    /* a flow's name and the table's are one copy */
    const char *h = nt_names_hold(t, "one.example");
    char buf[32];
    snprintf(buf, sizeof buf, "one.example");
    CHECK(nt_names_hold(t, buf) == h);
    nt_names_set(t, 0, &a[0], buf);
    CHECK(nt_names_get(t, 0, &a[0]) == h);
    nt_names_drop(t, h);
    nt_names_drop(t, h);
    CHECK_STR(nt_names_get(t, 0, &a[0]), "one.example");   /* the table still holds it */
    CHECK(nt_names_get(t, 1, &a[0]) == NULL);              /* another zone */
    /* renamed back and forth: each name stays readable while held */
    const char *flow = nt_names_hold(t, "two.example");
    for (int i = 0; i < 50; i++)
        nt_names_set(t, 0, &a[0], i % 2 ? "one.example" : "two.example");
    CHECK_STR(nt_names_get(t, 0, &a[0]), "one.example");
    CHECK_STR(flow, "two.example");
    nt_names_drop(t, flow);
    nt_names_drop(t, NULL);
    /* past the cap the oldest generation goes; the newest names stay */
    for (int i = 0; i < 12; i++) {
        char s[32];
        snprintf(s, sizeof s, "n%d.example", i);
        nt_names_set(t, 0, &a[i], s);
    }
    CHECK(nt_names_count(t) <= 10);
    CHECK_STR(nt_names_get(t, 0, &a[11]), "n11.example");
    CHECK(nt_names_get(t, 0, &a[0]) == NULL || !strcmp(nt_names_get(t, 0, &a[0]), "n0.example"));
    /* many distinct names through one address, and many held at once: the
     * set grows, and shrinks by deletions that move entries back */
    const char *held[600];
    for (int i = 0; i < 600; i++) {
        char s[32];
        snprintf(s, sizeof s, "m%d.example", i);
        nt_names_set(t, 0, &a[1], s);
        held[i] = nt_names_hold(t, s);
    }
    CHECK_STR(nt_names_get(t, 0, &a[1]), "m599.example");
    for (int i = 0; i < 600; i += 2)
        nt_names_drop(t, held[i]);
    for (int i = 1; i < 600; i += 2) {
        char s[32];
        snprintf(s, sizeof s, "m%d.example", i);
        CHECK_STR(held[i], s);
        CHECK(nt_names_hold(t, s) == held[i]);   /* still found after the moves */
        nt_names_drop(t, held[i]);
        nt_names_drop(t, held[i]);
    }
    CHECK_STR(nt_names_get(t, 0, &a[1]), "m599.example");
    nt_names_free(t);
}

MM_TEST_MAIN
