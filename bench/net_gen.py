#!/usr/bin/env python3
"""Writes a classic pcap of realistic mixed traffic for the network sensor's
benchmark and tests (docs/benchmarks.md describes it).

Sessions, interleaved 64 at a time the way a busy link carries them:
  - DNS over UDP: a query for a service name and the answer (A or AAAA);
  - HTTP over TCP 80: handshake, a GET with Host, a response of 3-6 full
    segments, FIN/ACK teardown;
  - TLS over TCP 443: handshake, a ClientHello with SNI, the server's
    flight and application data both ways, teardown;
  - other UDP (NTP-like 123 and a media-like stream on 5004);
  - ICMP echo request/reply.
A cluster of 512 clients (10.10.0.0/16) using 8 services of 4 server
addresses each (10.20.0.0/16, named by DNS), each client three of them, so
the service graph has a few thousand edges as a real one would; a tenth of
the sessions over IPv6 (fd00:10::/32 and fd00:20::/32) and a tenth
802.1Q-tagged; private addresses only.  Timestamps advance ~10 us per packet.  --listed NAME adds
one lookup of NAME (answered with 10.66.0.5) and a TLS connection to that
address with NAME as SNI, which a blocklist naming NAME must catch.
Deterministic for a given --seed.
"""
import argparse
import random
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


class Gen:
    def __init__(self, seed, v6share, vlanshare):
        self.r = random.Random(seed)
        self.v6share = v6share
        self.vlanshare = vlanshare

    def frame(self, s, d, proto, l4, v6, vlan):
        eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
        if vlan:
            eth += struct.pack("!HH", 0x8100, vlan)
        if v6:
            eth += b"\x86\xdd"
            ip = struct.pack("!IHBB", 0x60000000, len(l4), proto, 64) + s + d
        else:
            eth += b"\x08\x00"
            h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0x4000, 64, proto, 0, s, d)
            h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
            ip = h
        return eth + ip + l4

    def tcp(self, sp, dp, seq, ack, flags, payload=b"", opts=b""):
        off = (20 + len(opts)) // 4
        return struct.pack("!HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                           off << 4, flags, 64240, 0, 0) + opts + payload

    def udp(self, sp, dp, payload):
        return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload

    def addrs(self, v6, svc=None):
        """A client and one of the addresses of a service it uses."""
        r = self.r
        ci = r.randrange(512)
        uses = [(ci * 7 + k * 3) % 8 for k in range(3)]
        si = uses[r.randrange(3)] if svc is None else svc
        sa = si * 4 + r.randrange(4)
        if v6:
            c = bytes.fromhex("fd000010") + bytes(10) + bytes([ci >> 8, ci & 255])
            s = bytes.fromhex("fd000020") + bytes(11) + bytes([sa + 1])
        else:
            c = bytes([10, 10, ci >> 8, (ci & 255) or 1])
            s = bytes([10, 20, 0, sa + 1])
        return c, s

    def dns(self, name, addr=None, v6=None):
        r = self.r
        v6 = (r.random() < self.v6share) if v6 is None else v6
        vlan = 100 if r.random() < self.vlanshare else 0
        c, _ = self.addrs(v6)
        res = (bytes.fromhex("fd00005300000000000000000000000035") [:16]) if v6 else ip4("10.53.0.53")
        qid = r.randrange(65536)
        sp = r.randrange(20000, 60000)
        q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
        aaaa = v6 and addr is None
        qtype = 28 if aaaa else 1
        query = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + q + struct.pack("!HH", qtype, 1)
        if addr is None:
            sa = SERVICES.index(name) * 4 + r.randrange(4) if name in SERVICES else r.randrange(32)
            addr = (bytes.fromhex("fd000020") + bytes(11) + bytes([sa + 1])) if aaaa \
                else bytes([10, 20, 0, sa + 1])
        rr = b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 300, len(addr)) + addr
        resp = struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + struct.pack("!HH", qtype, 1) + rr
        return [self.frame(c, res, 17, self.udp(sp, 53, query), v6, vlan),
                self.frame(res, c, 17, self.udp(53, sp, resp), v6, vlan)]

    def tcp_session(self, port, first_c2s, server_pkts, host=None, dst=None):
        r = self.r
        v6 = r.random() < self.v6share and dst is None
        vlan = 100 if r.random() < self.vlanshare else 0
        c, s = self.addrs(v6)
        if dst is not None:
            s = dst
        cp = r.randrange(32768, 61000)
        cs, ss = r.randrange(1 << 32), r.randrange(1 << 32)
        mss = b"\x02\x04\x05\xb4\x04\x02\x08\x0a" + struct.pack("!II", 1, 0) + b"\x01\x03\x03\x07"
        F = lambda a, b, l4: self.frame(a, b, 6, l4, v6, vlan)
        out = [F(c, s, self.tcp(cp, port, cs, 0, 0x02, opts=mss)),
               F(s, c, self.tcp(port, cp, ss, cs + 1, 0x12, opts=mss)),
               F(c, s, self.tcp(cp, port, cs + 1, ss + 1, 0x10))]
        cs += 1
        ss += 1
        out.append(F(c, s, self.tcp(cp, port, cs, ss, 0x18, first_c2s)))
        cs += len(first_c2s)
        for i, size in enumerate(server_pkts):
            out.append(F(s, c, self.tcp(port, cp, ss, cs, 0x10 if i + 1 < len(server_pkts) else 0x18,
                                        bytes(size))))
            ss += size
            if i % 2 == 1:
                out.append(F(c, s, self.tcp(cp, port, cs, ss, 0x10)))
        out += [F(c, s, self.tcp(cp, port, cs, ss, 0x11)),
                F(s, c, self.tcp(port, cp, ss, cs + 1, 0x11)),
                F(c, s, self.tcp(cp, port, cs + 1, ss + 1, 0x10))]
        return out

    def http(self, host):
        req = ("GET /api/v1/items/%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/7.88.1\r\n"
               "Accept: */*\r\n\r\n" % (self.r.randrange(10000), host)).encode()
        return self.tcp_session(80, req, [1400] * self.r.randrange(3, 7))

    def client_hello(self, sni):
        name = sni.encode()
        ext_sni = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
        ext = ext_sni + struct.pack("!HH", 0x002b, 3) + b"\x02\x03\x04" + \
            struct.pack("!HH", 0x000a, 4) + b"\x00\x02\x00\x1d"
        body = b"\x03\x03" + bytes(self.r.getrandbits(8) for _ in range(32)) + b"\x20" + bytes(32) + \
            struct.pack("!H", 6) + b"\x13\x01\x13\x02\x13\x03" + b"\x01\x00" + \
            struct.pack("!H", len(ext)) + ext
        hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
        return b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs

    def tls(self, sni, dst=None):
        return self.tcp_session(443, self.client_hello(sni),
                                [1400, 1400, 1200] + [1400] * self.r.randrange(1, 5), dst=dst)

    def other_udp(self):
        r = self.r
        v6 = r.random() < self.v6share
        c, s = self.addrs(v6)
        if r.random() < 0.5:
            sp = r.randrange(32768, 61000)
            return [self.frame(c, s, 17, self.udp(sp, 123, bytes(48)), v6, 0),
                    self.frame(s, c, 17, self.udp(123, sp, bytes(48)), v6, 0)]
        sp = r.randrange(32768, 61000)
        return [self.frame(c, s, 17, self.udp(sp, 5004, bytes(172)), v6, 0) for _ in range(6)] + \
               [self.frame(s, c, 17, self.udp(5004, sp, bytes(172)), v6, 0) for _ in range(2)]

    def ping(self):
        c, s = self.addrs(False)
        ident = self.r.randrange(65536)
        req = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + bytes(56)
        rep = struct.pack("!BBHHH", 0, 0, 0, ident, 1) + bytes(56)
        return [self.frame(c, s, 1, req, False, 0), self.frame(s, c, 1, rep, False, 0)]


SERVICES = ["api.shop.internal", "cdn.assets.internal", "auth.corp.internal",
            "metrics.ops.internal", "db-proxy.data.internal", "search.shop.internal",
            "images.cdn.internal", "billing.corp.internal"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--packets", type=int, default=1_200_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=21)
    ap.add_argument("--listed", help="add a lookup of and a TLS connection to this name")
    ap.add_argument("--v6-share", type=float, default=0.1)
    ap.add_argument("--vlan-share", type=float, default=0.1)
    a = ap.parse_args()
    g = Gen(a.seed, a.v6_share, a.vlan_share)
    r = g.r
    active = []
    written = 0
    ts = 1_700_000_000 * 1_000_000
    listed_pending = a.listed
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        while written < a.packets:
            while len(active) < 64:
                k = r.random()
                svc = r.choice(SERVICES)
                if listed_pending and written > a.packets // 3:
                    pk = g.dns(listed_pending, addr=ip4("10.66.0.5"), v6=False) + \
                        g.tls(listed_pending, dst=ip4("10.66.0.5"))
                    listed_pending = None
                elif k < 0.25:
                    pk = g.dns(svc)
                elif k < 0.55:
                    pk = g.http(svc)
                elif k < 0.85:
                    pk = g.tls(svc)
                elif k < 0.97:
                    pk = g.other_udp()
                else:
                    pk = g.ping()
                active.append(pk[::-1])
            i = r.randrange(len(active))
            pkt = active[i].pop()
            if not active[i]:
                active[i] = active[-1]
                active.pop()
            ts += r.randrange(2, 18)
            f.write(struct.pack("<IIII", ts // 1_000_000, ts % 1_000_000, len(pkt), len(pkt)))
            f.write(pkt)
            written += 1
    print("%s: %d packets" % (a.out, written), file=sys.stderr)


if __name__ == "__main__":
    main()
