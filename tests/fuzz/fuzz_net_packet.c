/*
 * fuzz_net_packet.c - libFuzzer target for the network sensor's packet
 * path: decoders, flows, TCP reassembly with tiny caps, the DNS/TLS/HTTP
 * parsers, the detections (a blocklist and a baseline are loaded) and flow
 * and topology output.  The input is a list of packets, each
 * [link type selector][time step][length, 2 bytes][bytes]; the parsers
 * are also run on the whole input directly.  Nothing may crash, leak or
 * read out of bounds, and the decoder's fast path must give what its
 * general path gives.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/net.h"
#include "net/net_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool on_stream(void *ud, const mm_net_flow *f, int dir, const uint8_t *d, size_t len, size_t gap)
{
    (void)ud; (void)f; (void)dir; (void)gap;
    /* touch every byte handed over, so that ASan sees a read past the end */
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++)
        x ^= d[i];
    __asm__ volatile("" : : "r"(x));
    return len < 300;
}

static void on_flow(void *ud, const mm_net_flow *f)
{
    (void)ud;
    free(mm_net_flow_json(f));
}

static void on_alert(void *ud, const mm_alert *a, const mm_finding *f)
{
    (void)ud; (void)f;
    free(mm_alert_json(a));
}

static void dns_cb(void *ud, const nt_dns_rr *rr, bool r) { (void)ud; (void)rr; (void)r; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int links[] = {MM_NET_LINK_ETHERNET, MM_NET_LINK_RAW, MM_NET_LINK_SLL,
                                MM_NET_LINK_SLL2, MM_NET_LINK_NULL, MM_NET_LINK_IPV4,
                                MM_NET_LINK_IPV6, 999};
    char name[256];
    nt_dns_parse(data, size, dns_cb, NULL);
    nt_tls_sni(data, size, name, sizeof name);
    nt_http_host(data, size, name, sizeof name);

    mm_net_blocklist *b;
    mm_net_blocklist_new(&b);
    const char *bl = "10.0.0.0/8\nevil.example\nfd00::/8\n";
    mm_net_blocklist_add_string(b, "bl", bl, strlen(bl));
    mm_net_topo *base;
    const char *tj = "{\"nodes\":[{\"id\":\"10.0.0.2\",\"listen\":[\"tcp/80\"]}],"
                     "\"edges\":[{\"client\":\"10.0.0.1\",\"server\":\"10.0.0.2\",\"proto\":\"tcp\",\"port\":80}]}";
    mm_net_topo_load_string(&base, "base", tj, strlen(tj));
    mm_net_opts o = {.reasm_flow_max = 256, .reasm_total_max = 4096, .stream_depth = 2048,
                     .max_flows = 64, .max_names = 16, .hostname = "fuzz",
                     .scan = {.ports = 3, .hosts = 3, .slow_ports = 2, .slow_hosts = 2},
                     .on_alert = on_alert, .on_flow = on_flow, .ud = NULL};
    if (size && (data[0] & 1))
        o.on_stream = on_stream;
    mm_net *n;
    mm_net_new(&n, &o);
    mm_net_source_add(n, "fuzz", 1, NULL);
    mm_net_set_blocklist(n, b);
    mm_net_set_baseline(n, base);
    mm_net_expose(n, "10.0.0.2", 6, 80);
    int64_t ts = 1000000000ll;
    size_t off = 0;
    while (size - off >= 4) {
        int lt = links[data[off] & 7];
        ts += (int64_t)data[off + 1] * 50000000ll;
        size_t len = (size_t)data[off + 2] << 8 | data[off + 3];
        off += 4;
        if (len > size - off)
            len = size - off;
        /* the decoder's fast path and its general path agree */
        nt_pkt fa, ga;
        int rf = nt_decode(&fa, lt, data + off, len), rg = nt_decode_general(&ga, lt, data + off, len);
        if (rf != rg || (!rf && memcmp(&fa, &ga, offsetof(nt_pkt, in_src))))
            abort();
        mm_net_feed(n, 0, lt, ts, data + off, len, len + (data[off - 4] >> 4));
        off += len;
    }
    mm_net_finish(n);
    free(mm_net_topo_json(mm_net_topology(n)));
    free(mm_net_topo_dot(mm_net_topology(n)));
    mm_net_free(n);
    mm_net_topo_free(base);
    mm_net_blocklist_free(b);
    return 0;
}
