#!/bin/sh
# Benchmark: `mamori k8s reach` computing the NetworkPolicy reachability
# matrix of a generated snapshot (bench/gen/k8s_reach.py: 1,000 workloads x
# 200 policies over 50 namespaces by default; target < 2 s), written as
# JSON (every allowed pair with its ports) and as the table, side by side
# with the floor that reads the same file (`jq length`, a JSON parse): no
# installed tool computes NetworkPolicy reachability offline to compare
# with.  hyperfine >= 5 runs.  Prints the lines for docs/benchmarks.md.
#
# Usage: bench/k8s-reach.sh [path/to/mamori] [workloads] [policies] [runs]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
W=${2:-1000}
P=${3:-200}
RUNS=${4:-5}
here=$(dirname "$(readlink -f "$0")")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$here/gen/k8s_reach.py" "$out/snap.json" "$W" "$P"
"$MAMORI" k8s reach "$out/snap.json" --format json -q -o "$out/r.json"
edges=$(jq '.edges | length' "$out/r.json")
echo "input: $W workloads, $P policies, $(du -h "$out/snap.json" | cut -f1); $edges of $((W * W)) pairs connected"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$out/h.md" \
    "jq length $out/snap.json" \
    "$MAMORI k8s reach $out/snap.json --format json -q -o /dev/null" \
    "$MAMORI k8s reach $out/snap.json --format table -q -o /dev/null" >&2
cat "$out/h.md"
