#!/bin/sh
# Benchmark: the floor of a syscall sensor on this machine, beside
# mamori's own (bench/sensor.sh).  bench/floor/ holds a minimal
# tp_btf/sys_exit program in three modes (see floor.bpf.c): the hook and
# filter alone, plus a bare 64-byte ring-buffer record, plus the openat path
# read from user memory.  Each mode runs N x (openat + close) with only
# openat traced; the kernel's BPF statistics give the cost per traced
# openat.  Best of 3 per mode.  Needs root, clang, bpftool, libbpf-dev.
#
# Usage: bench/sensor_floor.sh [iterations]
set -eu
N=${1:-400000}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp -d)
old=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'echo "$old" >/proc/sys/kernel/bpf_stats_enabled; rm -rf "$out"' EXIT

bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$out/vmlinux.h"
arch=$(uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$out" \
    -c "$here/floor/floor.bpf.c" -o "$out/floor.bpf.o"
bpftool gen skeleton "$out/floor.bpf.o" name floor_bpf >"$out/floor.skel.h"
cc -O2 -I"$out" -o "$out/floor" "$here/floor/floor.c" -lbpf
echo 1 >/proc/sys/kernel/bpf_stats_enabled

for m in 0 1 2; do
    for _ in 1 2 3; do "$out/floor" "$m" "$N"; done >"$out/m$m"
done
python3 - "$N" "$out" <<'PY'
import sys
n, out = int(sys.argv[1]), sys.argv[2]
def best(m):
    rows = [list(map(int, l.split())) for l in open("%s/m%d" % (out, m))]
    return min(rows, key=lambda r: r[1])
r0 = best(0)
base = r0[1] / r0[0]          # ns per run of the hook + filter alone
print("| floor program (kernel side, best of 3, %d openat + %d close) | ns per traced openat |" % (n, n))
print("|---|---|")
print("| hook + per-syscall filter | %.0f |" % base)
cost = {}
for m, what in ((1, "+ 64-byte ring-buffer record"), (2, "+ openat path read into a 320-byte record")):
    runs, ns, recs = best(m)
    # the close of each pair runs the filter only
    cost[m] = (ns - (runs - n) * base) / n
    print("| %s | %.0f (records %d) |" % (what, cost[m], recs))
# bench/sensor.sh traces both syscalls of its open+close loop: the floor of
# that mix is an open with its path and a close with a bare record
print()
print("floor of bench/sensor.sh's open+close mix: %.0f ns per traced syscall"
      % ((cost[1] + cost[2]) / 2))
PY
