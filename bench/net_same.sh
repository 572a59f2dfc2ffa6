#!/bin/sh
# Checks that two builds of `mamori net` write byte-identical outputs, for
# changes that must only make it faster (docs/benchmarks.md, network
# section).  On the benchmark's file (bench/net_gen.py, seed 21, with every
# detection on: a blocklist of 500 addresses and 500 domains, a baseline
# learned from the file, --expose), on a second file with other traffic
# (seed 5) and a listed domain, so that alerts and findings are written,
# and on every pcap in tests/fixtures/net, it compares:
#   the alerts (stdout), --findings, --flows, --topology, the statistics
#   line and exit status (stderr), the same run's alerts, findings and
#   statistics without --flows and --topology, a learned --baseline-out and
#   `mamori net topology --format dot`.
# Prints IDENTICAL, or the files that differ and exits 1.
#
# Usage: bench/net_same.sh OLD_MAMORI NEW_MAMORI [packets (1200000)]
#        [BENCH_PCAP=file written by net_gen.py with that count]
set -eu
OLD=$(readlink -f "$1")
NEW=$(readlink -f "$2")
N=${3:-1200000}
here=$(dirname "$(readlink -f "$0")")
root=$(dirname "$here")
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT INT TERM

if [ -n "${BENCH_PCAP:-}" ]; then
    big=$(readlink -f "$BENCH_PCAP")
else
    big=$w/mixed.pcap
    python3 "$here/net_gen.py" --packets "$N" --out "$big" >/dev/null 2>&1
fi
python3 "$here/net_gen.py" --packets 150000 --seed 5 --listed bad7.example --out "$w/other.pcap" >/dev/null 2>&1
python3 - "$w/bl.txt" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(500):
        f.write("198.18.%d.%d\n" % (i // 250, i % 250 + 1))
    for i in range(500):
        f.write("bad%d.example\n" % i)
PY
"$OLD" net -r "$big" --learn --baseline-out "$w/base.json" -q --output none

outs() { # mamori dir
    m=$1
    o=$2
    mkdir -p "$o"
    run() { # name pcap extra...
        n=$1
        f=$2
        shift 2
        rc=0
        "$m" net -r "$f" "$@" --findings "$o/$n.findings" --flows "$o/$n.flows" \
            --topology "$o/$n.topo" >"$o/$n.alerts" 2>"$o/$n.stderr" || rc=$?
        echo "rc=$rc" >>"$o/$n.stderr"
        # without a graph or flow log to write (no graph is built then)
        rc=0
        "$m" net -r "$f" "$@" --findings "$o/$n.nograph.findings" >"$o/$n.nograph.alerts" \
            2>"$o/$n.nograph.stderr" || rc=$?
        echo "rc=$rc" >>"$o/$n.nograph.stderr"
        "$m" net -r "$f" --learn --baseline-out "$o/$n.base" -q --output none \
            >/dev/null 2>>"$o/$n.stderr" || echo "learn rc=$?" >>"$o/$n.stderr"
        "$m" net topology -r "$f" --format dot >"$o/$n.dot" 2>>"$o/$n.stderr" ||
            echo "dot rc=$?" >>"$o/$n.stderr"
    }
    all="--blocklist $w/bl.txt --expose 10.20.0.1=80/tcp"
    # shellcheck disable=SC2086
    run bench "$big" $all --baseline "$w/base.json"
    # shellcheck disable=SC2086
    run other "$w/other.pcap" $all --baseline "$w/base.json"
    for f in "$root"/tests/fixtures/net/*.pcap; do
        # shellcheck disable=SC2086
        run "$(basename "$f" .pcap)" "$f" $all
    done
}
outs "$OLD" "$w/old"
outs "$NEW" "$w/new"
if diff -r "$w/old" "$w/new" >/dev/null; then
    echo "IDENTICAL: $(find "$w/new" -type f | wc -l) output files ($(cat "$w"/new/*.alerts | wc -l) alerts)"
else
    diff -rq "$w/old" "$w/new" || true
    exit 1
fi
