#!/bin/sh
# Benchmark: the network sensor (`mamori net`), docs/benchmarks.md.
#  1. Offline, side by side in one hyperfine run (>= 5 runs each), on a
#     pcap written by bench/net_gen.py (1.2 M packets of interleaved DNS,
#     HTTP, TLS, other UDP and ICMP sessions; a tenth IPv6, a tenth VLAN):
#       mamori net -r F with every detection on (port scans, a blocklist of
#         1,000 entries, a learned baseline, EXPOSE, names, reassembly);
#       the same writing the flow log and the service graph to /dev/null
#         (the graph is built only when it is written: --topology,
#         --baseline-out);
#       tcpdump -r F -w /dev/null;
#       tshark -r F -T fields -e frame.number -e ip.src -e ip.dst.
#     Packets per second per core = packets / (user + system time); both
#     threads of mamori's reader count (files of 16 MiB and more get a
#     second thread for the mapping's page tables, lib/net/capture.c).
#  2. Live: bench/net_send.c (AF_PACKET, PACKET_QDISC_BYPASS, sendmmsg;
#     tcpreplay only reaches ~25k packets/s here and the kernel has no
#     pktgen) sends the file's first 100k packets round-robin at RATE
#     (200,000) packets/s for SECS (10) seconds into a veth pair joining
#     two namespaces made here; `mamori net --netns` captures at the other
#     end (AF_PACKET TPACKET_V3 with a 64M and a 16M ring, then libpcap);
#     sent, the sender's achieved rate, received and the kernel's drop
#     counters are reported.
# Needs root and cc for part 2 (skipped otherwise).  Private addresses only
# (the frames are the generator's 10.x / fd00:: traffic, inside the pair).
# LIVE_ONLY=1 skips part 1, NO_LIVE=1 part 2, NO_TSHARK=1 leaves tshark out
# of the run (50 s of CPU a run); PCAP=FILE uses a file written before by
# net_gen.py (with the same packet count) instead of writing one.
#
# Usage: [MAMORI_REF=old/mamori] [LIVE_ONLY=1] [NO_LIVE=1] [NO_TSHARK=1] [PCAP=F] \
#        [RATE=200000 SECS=10] bench/net.sh [path/to/mamori] [packets]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
N=${2:-1200000}
here=$(dirname "$(readlink -f "$0")")
out=$(mktemp -d)
p=$$
cleanup() {
    [ -n "${apid:-}" ] && kill "$apid" 2>/dev/null || true
    ip netns del mmba$p 2>/dev/null || true
    ip netns del mmbb$p 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT INT TERM

if [ -n "${PCAP:-}" ]; then
    F=$(readlink -f "$PCAP")
else
    F=$out/mixed.pcap
    python3 "$here/net_gen.py" --packets "$N" --out "$F"
fi
ls -l "$F" | awk '{printf "pcap: %.0f MB\n", $5/1048576}'
python3 - "$out/bl.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(500):
        f.write("198.18.%d.%d\n" % (i // 250, i % 250 + 1))
    for i in range(500):
        f.write("bad%d.example\n" % i)
PY
"$MAMORI" net -r "$F" --learn --baseline-out "$out/base.json" -q --output none
cmd_m="$MAMORI net -r $F -q --blocklist $out/bl.txt --baseline $out/base.json --expose 10.20.0.1=80/tcp --output none"
cmd_f="$cmd_m --flows /dev/null --topology /dev/null"
cmd_d="tcpdump -r $F -w /dev/null"
cmd_s="tshark -r $F -T fields -e frame.number -e ip.src -e ip.dst"

if [ -z "${LIVE_ONLY:-}" ]; then
echo "== offline: $N packets (load average before: $(cut -d" " -f1-3 /proc/loadavg))"
# MAMORI_REF=path/to/an/older/mamori adds it to the same run ("before")
set -- -n mamori "$cmd_m" -n "mamori+flowlog+graph" "$cmd_f" -n tcpdump "$cmd_d"
[ -n "${NO_TSHARK:-}" ] || set -- "$@" -n tshark "$cmd_s >/dev/null"
if [ -n "${MAMORI_REF:-}" ]; then
    set -- "$@" -n "mamori-before" "$(readlink -f "$MAMORI_REF") ${cmd_m#"$MAMORI" }"
fi
hyperfine --runs "${RUNS:-5}" --warmup 1 --export-json "$out/h.json" "$@" 2>&1 | grep -v '^ *$'
python3 - "$out/h.json" "$N" <<'PY'
import json, sys
h = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
by = {r["command"]: r for r in h}
m = by["mamori"]
print("| tool | wall (s, mean) | user+sys (s) | packets/s per core | mamori is |")
print("|---|---|---|---|---|")
for k in ("mamori", "mamori-before", "mamori+flowlog+graph", "tcpdump", "tshark"):
    if k not in by:
        continue
    r = by[k]
    cpu = r["user"] + r["system"]
    ratio = "" if k == "mamori" else "%.2fx (wall), %.2fx (CPU)" % (
        r["mean"] / m["mean"], cpu / (m["user"] + m["system"]))
    print("| %s | %.3f | %.3f | %.2f M | %s |" % (k, r["mean"], cpu, n / cpu / 1e6, ratio))
PY
fi

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
[ -z "${NO_LIVE:-}" ] || exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v cc >/dev/null; then
    echo "== live: skipped (needs root and cc)"
    exit 0
fi
# tcpreplay reaches only ~25k packets/s here and the kernel has no pktgen:
# bench/net_send.c sends the pcap's first 100k packets round-robin on an
# AF_PACKET socket (PACKET_QDISC_BYPASS, sendmmsg), paced to $RATE/s.
RATE=${RATE:-200000}
SECS=${SECS:-10}
cc -O2 -o "$out/net_send" "$here/net_send.c"
echo "== live: $RATE packets/s for $SECS s on a veth pair"
ip netns add mmba$p
ip netns add mmbb$p
ip link add vba$p type veth peer name vbb$p
ip link set vba$p netns mmba$p
ip link set vbb$p netns mmbb$p
ip -n mmba$p link set vba$p up
ip -n mmbb$p link set vbb$p up
echo "| engine | ring | sent | sender's rate (packets/s) | received | dropped (kernel) |"
echo "|---|---|---|---|---|---|"
for spec in afpacket:64M afpacket:16M pcap:64M; do
    engine=${spec%%:*}
    ring=${spec#*:}
    "$MAMORI" net --netns /run/netns/mmbb$p --engine $engine --buffer $ring --output none \
        2>"$out/live.err" &
    apid=$!
    for _ in $(seq 50); do grep -q ready "$out/live.err" 2>/dev/null && break; sleep 0.1; done
    ip netns exec mmba$p "$out/net_send" vba$p "$F" "$RATE" "$SECS" >"$out/send.txt" 2>&1
    sleep 1
    kill -INT $apid
    wait $apid || true
    apid=""
    sent=$(sed -n 's/^sent \([0-9]*\) .*/\1/p' "$out/send.txt")
    rate=$(sed -n 's/.* = \([0-9]*\) packets.*/\1/p' "$out/send.txt")
    got=$(sed -n 's/.*"received":\([0-9]*\).*/\1/p' "$out/live.err" | head -1)
    drop=$(sed -n 's/.*"dropped":\([0-9]*\).*/\1/p' "$out/live.err" | head -1)
    echo "| $engine | $ring | ${sent:-?} | ${rate:-?} | ${got:-?} | ${drop:-?} |"
    [ -n "${sent:-}" ] && [ -n "${got:-}" ] || cat "$out/send.txt" "$out/live.err"
done
