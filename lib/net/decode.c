/*
 * decode.c - link, network and transport decoders: Ethernet (with stacked
 * 802.1Q/802.1ad VLAN tags), Linux cooked v1/v2, BSD loopback, raw IP;
 * IPv4 (options, fragments), IPv6 (extension headers, fragment header);
 * TCP, UDP, ICMP and ICMPv6 (with the quoted packet of error messages, so
 * that an unreachable names the probe it answers).  Every read is checked
 * against the captured length: packets are untrusted (fuzzed by
 * tests/fuzz/fuzz_net_packet.c).  Addresses and integers come out in host
 * order except mm_ipaddr bytes (network order, as everywhere).
 */
#include <stddef.h>
#include <string.h>

#include "net/net_int.h"

/* big-endian reads as one load and a byte swap */
static inline uint16_t R16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return __builtin_bswap16(v);
}
static inline uint32_t R32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return __builtin_bswap32(v);
}

bool nt_addr_is_multicast(const mm_ipaddr *a)
{
    if (a->family == AF_INET)
        return (a->ip[0] & 0xf0) == 0xe0 || (a->ip[0] == 255 && a->ip[1] == 255 &&
                                             a->ip[2] == 255 && a->ip[3] == 255);
    return a->family == AF_INET6 && a->ip[0] == 0xff;
}

#define HOT static inline __attribute__((always_inline))   /* one decoder body per link type */

HOT int l4(nt_pkt *p, const uint8_t *d, size_t len, size_t l4len);

/* TCP header fields and payload: len captured bytes of a segment of
 * l4len bytes on the wire, header length off (20 <= off <= len); the
 * payload ends where the IP packet does (Ethernet padding). */
static inline void tcp_fill(nt_pkt *p, const uint8_t *d, size_t len, size_t l4len, size_t off)
{
    p->sport = R16(d);
    p->dport = R16(d + 2);
    p->seq = R32(d + 4);
    p->ack = R32(d + 8);
    p->tcpflags = d[13];
    p->win = R16(d + 14);
    p->payload = d + off;
    p->paylen = (uint32_t)(len - off);
    p->l4len = l4len >= off ? (uint32_t)(l4len - off) : p->paylen;
    if (p->paylen > p->l4len)
        p->paylen = p->l4len;
}

/* UDP ports and payload from a header of len >= 8 captured bytes; the
 * payload ends at the header's length when that is shorter (padding). */
static inline void udp_fill(nt_pkt *p, const uint8_t *d, size_t len)
{
    p->sport = R16(d);
    p->dport = R16(d + 2);
    p->payload = d + 8;
    p->paylen = (uint32_t)(len - 8);
    uint16_t ul = R16(d + 4);
    if (ul >= 8 && ul - 8u < p->paylen)
        p->paylen = ul - 8u;
    p->l4len = p->paylen;
}

/* The quoted header of an ICMP error: IP header + first 8 bytes of L4. */
static void icmp_inner(nt_pkt *p, const uint8_t *d, size_t len)
{
    if (len < 1)
        return;
    unsigned v = d[0] >> 4;
    if (v == 4 && len >= 20) {
        size_t hl = (size_t)(d[0] & 15) * 4;
        if (hl < 20 || hl > len)
            return;
        p->in_src.family = p->in_dst.family = AF_INET;
        memcpy(p->in_src.ip, d + 12, 4);
        memcpy(p->in_dst.ip, d + 16, 4);
        p->in_proto = d[9];
        d += hl;
        len -= hl;
    } else if (v == 6 && len >= 40) {
        p->in_src.family = p->in_dst.family = AF_INET6;
        memcpy(p->in_src.ip, d + 8, 16);
        memcpy(p->in_dst.ip, d + 24, 16);
        p->in_proto = d[6];
        d += 40;
        len -= 40;
    } else
        return;
    if ((p->in_proto == IPPROTO_TCP || p->in_proto == IPPROTO_UDP) && len >= 4) {
        p->in_sport = R16(d);
        p->in_dport = R16(d + 2);
    }
    p->icmp_err = true;
}

HOT int l4(nt_pkt *p, const uint8_t *d, size_t len, size_t l4len)
{
    switch (p->proto) {
    case IPPROTO_TCP: {
        if (len < 20)
            return -1;
        size_t off = (size_t)(d[12] >> 4) * 4;
        if (off < 20 || off > len)
            return -1;
        tcp_fill(p, d, len, l4len, off);
        /* count options, not NOP/EOL: stacks send MSS, SACK-permitted,
         * timestamps and window scale; crafted probes often only MSS.
         * Only a SYN's count is used (connect() vs raw SYN probes), so
         * other segments skip the walk */
        for (size_t i = 20; (d[13] & TH_SYN) && i < off;) {
            uint8_t k = d[i];
            if (k == 0)
                break;
            if (k == 1) {
                i++;
                continue;
            }
            if (i + 1 >= off || d[i + 1] < 2)
                break;
            p->tcp_nopts++;
            i += d[i + 1];
        }
        return 0;
    }
    case IPPROTO_UDP:
        if (len < 8)
            return -1;
        udp_fill(p, d, len);
        return 0;
    case IPPROTO_ICMP:
    case IPPROTO_ICMPV6:
        memset(&p->in_src, 0, sizeof *p - offsetof(nt_pkt, in_src));
        if (len < 4)
            return -1;
        p->icmp_type = d[0];
        p->icmp_code = d[1];
        p->payload = d + 4;
        p->paylen = (uint32_t)(len - 4);
        p->l4len = p->paylen;
        if (p->proto == IPPROTO_ICMP && (d[0] == 3 || d[0] == 11) && len >= 8)
            icmp_inner(p, d + 8, len - 8);
        else if (p->proto == IPPROTO_ICMPV6 && (d[0] == 1 || d[0] == 3) && len >= 8)
            icmp_inner(p, d + 8, len - 8);
        /* ICMP echo: id as the "port" of both sides, so a ping is one flow */
        if ((p->proto == IPPROTO_ICMP && (d[0] == 8 || d[0] == 0)) ||
            (p->proto == IPPROTO_ICMPV6 && (d[0] == 128 || d[0] == 129))) {
            if (len >= 6)
                p->sport = p->dport = R16(d + 4);
        }
        return 0;
    default:
        p->payload = d;
        p->paylen = (uint32_t)len;
        p->l4len = (uint32_t)l4len;
        return 0;
    }
}

HOT int ipv4(nt_pkt *p, const uint8_t *d, size_t len)
{
    if (len < 20 || (d[0] >> 4) != 4)
        return -1;
    size_t hl = (size_t)(d[0] & 15) * 4;
    size_t tot = R16(d + 2);
    if (hl < 20 || hl > len || tot < hl)
        return -1;
    if (tot < len)
        len = tot;   /* trailing padding */
    p->src.family = p->dst.family = AF_INET;
    memcpy(p->src.ip, d + 12, 4);
    memcpy(p->dst.ip, d + 16, 4);
    p->proto = d[9];
    p->ttl = d[8];
    uint16_t fo = R16(d + 6);
    if (fo & 0x1fff) {
        p->frag = true;
        return 0;
    }
    return l4(p, d + hl, len - hl, tot - hl);
}

static int ipv6(nt_pkt *p, const uint8_t *d, size_t len)
{
    if (len < 40 || (d[0] >> 4) != 6)
        return -1;
    size_t plen = R16(d + 4);
    p->src.family = p->dst.family = AF_INET6;
    memcpy(p->src.ip, d + 8, 16);
    memcpy(p->dst.ip, d + 24, 16);
    p->ttl = d[7];
    uint8_t nh = d[6];
    size_t off = 40;
    if (plen && 40 + plen < len)
        len = 40 + plen;
    for (int hops = 0; hops < 8; hops++) {
        switch (nh) {
        case 0: case 43: case 60: case 135: case 139: case 140: /* HBH, routing, dst opts, mobility, HIP, shim6 */
            if (off + 8 > len)
                return -1;
            nh = d[off];
            off += ((size_t)d[off + 1] + 1) * 8;
            continue;
        case 51: /* AH */
            if (off + 8 > len)
                return -1;
            nh = d[off];
            off += ((size_t)d[off + 1] + 2) * 4;
            continue;
        case 44: /* fragment */
            if (off + 8 > len)
                return -1;
            if (R16(d + off + 2) & 0xfff8) {
                p->proto = d[off];
                p->frag = true;
                return 0;
            }
            nh = d[off];
            off += 8;
            continue;
        default:
            break;
        }
        break;
    }
    if (off > len)
        return -1;
    p->proto = nh;
    size_t l4len = plen >= off - 40 ? plen - (off - 40) : len - off;
    return l4(p, d + off, len - off, l4len);
}

HOT int l3(nt_pkt *p, uint16_t etype, const uint8_t *d, size_t len)
{
    if (etype == 0x0800)
        return ipv4(p, d, len);
    if (etype == 0x86dd)
        return ipv6(p, d, len);
    return 1;
}

HOT int ether(nt_pkt *p, const uint8_t *d, size_t len)
{
    if (len < 14)
        return -1;
    uint16_t et = R16(d + 12);
    size_t off = 14;
    for (int tags = 0; (et == 0x8100 || et == 0x88a8 || et == 0x9100) && tags < 4; tags++) {
        if (off + 4 > len)
            return -1;
        if (!p->vlan)
            p->vlan = R16(d + off) & 0x0fff;
        et = R16(d + off + 2);
        off += 4;
    }
    if (et < 0x0600) {          /* 802.3 length: LLC/SNAP, not IP here */
        return 1;
    }
    return l3(p, et, d + off, len - off);
}

/* The common case on its own: Ethernet without a tag, IPv4 without
 * options and not a fragment, TCP without SYN or UDP, whole headers.
 * It writes exactly what the general path writes for such a packet
 * (test_net and fuzz_net_packet compare both on every input); anything
 * else, malformed included, returns false and goes the general way. */
static inline bool fast_ipv4(nt_pkt *p, const uint8_t *d, size_t len)
{
    if (len < 14 + 20 + 8 || R16(d + 12) != 0x0800 || d[14] != 0x45)
        return false;
    const uint8_t *ip = d + 14;
    size_t iplen = len - 14, tot = R16(ip + 2);
    uint8_t proto = ip[9];
    if (tot < 20 || (R16(ip + 6) & 0x1fff) ||
        (proto != IPPROTO_TCP && proto != IPPROTO_UDP))
        return false;
    if (tot < iplen)
        iplen = tot;             /* trailing padding */
    const uint8_t *l4 = ip + 20;
    size_t l4cap = iplen - 20, l4len = tot - 20;
    if (proto == IPPROTO_TCP) {
        if (l4cap < 20 || (l4[13] & TH_SYN))
            return false;
        size_t off = (size_t)(l4[12] >> 4) * 4;
        if (off < 20 || off > l4cap)
            return false;
        memset(p, 0, offsetof(nt_pkt, in_src));
        tcp_fill(p, l4, l4cap, l4len, off);
    } else {
        if (l4cap < 8)
            return false;
        memset(p, 0, offsetof(nt_pkt, in_src));
        udp_fill(p, l4, l4cap);
    }
    p->src.family = p->dst.family = AF_INET;
    memcpy(p->src.ip, ip + 12, 4);
    memcpy(p->dst.ip, ip + 16, 4);
    p->proto = proto;
    p->ttl = ip[8];
    return true;
}

int nt_decode(nt_pkt *p, int linktype, const uint8_t *d, size_t len)
{
    if (linktype == MM_NET_LINK_ETHERNET && fast_ipv4(p, d, len))
        return 0;
    return nt_decode_general(p, linktype, d, len);
}

int nt_decode_general(nt_pkt *p, int linktype, const uint8_t *d, size_t len)
{
    memset(p, 0, offsetof(nt_pkt, in_src));   /* the ICMP part: l4() */
    switch (linktype) {
    case MM_NET_LINK_ETHERNET:
        return ether(p, d, len);
    case MM_NET_LINK_RAW:
    case MM_NET_LINK_IPV4:
    case MM_NET_LINK_IPV6:
    case 12: /* DLT_RAW on some systems */
        if (len < 1)
            return -1;
        return (d[0] >> 4) == 4 ? ipv4(p, d, len) : (d[0] >> 4) == 6 ? ipv6(p, d, len) : -1;
    case MM_NET_LINK_NULL:
    case MM_NET_LINK_LOOP: {
        if (len < 4)
            return -1;
        /* the family is in host order of the capturing machine */
        uint32_t fam = d[0] | d[1] << 8 | d[2] << 16 | (uint32_t)d[3] << 24;
        if (fam > 0xffff)
            fam = R32(d);
        if (fam == 2)
            return ipv4(p, d + 4, len - 4);
        if (fam == 24 || fam == 28 || fam == 30 || fam == 10)
            return ipv6(p, d + 4, len - 4);
        return 1;
    }
    case MM_NET_LINK_SLL:
        if (len < 16)
            return -1;
        if (R16(d + 2) == 1 /* ARPHRD_ETHER */ && R16(d + 14) == 0x8100 && len >= 20) {
            p->vlan = R16(d + 16) & 0x0fff;
            return l3(p, R16(d + 18), d + 20, len - 20);
        }
        return l3(p, R16(d + 14), d + 16, len - 16);
    case MM_NET_LINK_SLL2:
        if (len < 20)
            return -1;
        return l3(p, R16(d), d + 20, len - 20);
    default:
        return -1;
    }
}
