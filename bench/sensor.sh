#!/bin/sh
# Benchmark: overhead of the eBPF sensor (`mamori agent --source bpf`).
# In the same run, with and without the agent attached:
#   1. a syscall-heavy loop of traced syscalls (openat + close of /dev/null,
#      N iterations = 2N sensor events), timed; the difference divided by
#      the events the agent counted gives the nanoseconds added per event;
#   2. `dd if=/dev/zero of=/dev/null bs=1 count=2M` (4M read/write
#      syscalls the sensor does not trace: the cost of the raw_tp hooks'
#      filter alone);
#   3. the same loop paced at 200k events/s for 5 s: drops reported by the
#      agent's statistics line.
# Needs root.  Prints a Markdown table for docs/benchmarks.md.
#
# Usage: bench/sensor.sh [path/to/mamori] [iterations]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
N=${2:-1000000}
out=$(mktemp -d)
trap 'kill $apid 2>/dev/null || true; rm -rf "$out"' EXIT
apid=""

cat >"$out/loop.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
/* loop N [rate]: N x (openat + close); rate = events/s (0 = flat out) */
int main(int argc, char **argv)
{
    long n = atol(argv[1]);
    double rate = argc > 2 ? atof(argv[2]) : 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; i++) {
        close(open("/dev/null", O_RDONLY));
        if (rate > 0 && (i & 255) == 0) {
            for (;;) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                double el = (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
                if (2.0 * i / rate <= el)
                    break;
                usleep(200);
            }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("%.6f\n", (t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9);
    return 0;
}
C
cc -O2 -o "$out/loop" "$out/loop.c"
printf -- '- rule: never\n  desc: x\n  condition: evt.type = openat and fd.name = /nonexistent/x\n  output: x\n  priority: DEBUG\n' >"$out/r.yaml"

best() { # best of 3 runs of "$@" (seconds on stdout)
    b=""
    for _ in 1 2 3; do
        v=$("$@")
        b=$(python3 -c "import sys; a=[float(x) for x in sys.argv[1:] if x]; print(min(a))" $v $b)
    done
    echo "$b"
}
ddtime() {
    python3 -c "import subprocess,time; t=time.monotonic(); subprocess.run(['dd','if=/dev/zero','of=/dev/null','bs=1','count=2M'],stderr=subprocess.DEVNULL); print(time.monotonic()-t)"
}

base_loop=$(best "$out/loop" "$N")
base_dd=$(best ddtime)

stats_old=$(cat /proc/sys/kernel/bpf_stats_enabled)
"$MAMORI" agent --rules "$out/r.yaml" --source bpf >/dev/null 2>"$out/agent.err" &
apid=$!
until grep -q "agent: ready" "$out/agent.err"; do sleep 0.2; kill -0 $apid; done
# kernel-side cost per program run, from the kernel's own BPF statistics
progcost() {
    bpftool prog show -j | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") in ("on_sys_exit", "on_sys_exit_btf"):
        print(p.get("run_cnt", 0), p.get("run_time_ns", 0))'
}
echo 1 >/proc/sys/kernel/bpf_stats_enabled
c0=$(progcost); "$out/loop" "$N" >/dev/null; c1=$(progcost)
dd if=/dev/zero of=/dev/null bs=1 count=1M 2>/dev/null; c2=$(progcost)
echo "$stats_old" >/proc/sys/kernel/bpf_stats_enabled
with_loop=$(best "$out/loop" "$N")
with_dd=$(best ddtime)
kill -INT $apid; wait $apid || true
ev=$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "$out/agent.err")
drops_fast=$(sed -n 's/.*"drops":\([0-9]*\).*/\1/p' "$out/agent.err")

: >"$out/agent2.err"
"$MAMORI" agent --rules "$out/r.yaml" --source bpf >/dev/null 2>"$out/agent2.err" &
apid=$!
until grep -q "agent: ready" "$out/agent2.err"; do sleep 0.2; kill -0 $apid; done
"$out/loop" 500000 200000 >/dev/null
kill -INT $apid; wait $apid || true
ev2=$(sed -n 's/.*"events":\([0-9]*\).*/\1/p' "$out/agent2.err")
drops2=$(sed -n 's/.*"drops":\([0-9]*\).*/\1/p' "$out/agent2.err")
lost2=$(sed -n 's/.*"enter_lost":\([0-9]*\).*/\1/p' "$out/agent2.err")

python3 - "$c0" "$c1" "$c2" <<'PY'
import sys
(r0, t0), (r1, t1), (r2, t2) = [map(int, a.split()) for a in sys.argv[1:4]]
print("kernel side (bpf_stats): traced syscall %.0f ns/run, untraced syscall %.0f ns/run"
      % ((t1 - t0) / max(1, r1 - r0), (t2 - t1) / max(1, r2 - r1)))
PY
python3 - "$N" "$base_loop" "$with_loop" "$base_dd" "$with_dd" "$ev" "$drops_fast" "$ev2" "$drops2" "$lost2" <<'PY'
import sys
n, bl, wl, bd, wd = int(sys.argv[1]), *map(float, sys.argv[2:6])
ev, df, ev2, d2, l2 = map(int, sys.argv[6:11])
evl = 2 * n
print("| measure | without agent | with agent | added |")
print("|---|---|---|---|")
print("| open+close loop, %d events (best of 3) | %.3f s | %.3f s | %.0f ns/event |"
      % (evl, bl, wl, (wl - bl) * 1e9 / evl))
print("| dd bs=1 count=2M (4M untraced syscalls) | %.3f s | %.3f s | %.0f ns/syscall |"
      % (bd, wd, (wd - bd) * 1e9 / (4 * 2 ** 20)))
print()
print("agent events while measuring: %d, drops flat out: %d" % (ev, df))
print("paced at 200k events/s (1M events): %d events, %d drops, %d entries lost" % (ev2, d2, l2))
PY
