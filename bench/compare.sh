#!/bin/sh
# Benchmark: two builds of mamori side by side, for a change that must not
# cost speed (the one-way graph refactor: "within 5 %").  The benchmarks of
# docs/benchmarks.md, each run as ROUNDS rounds of one hyperfine run per
# build, alternating which build goes first, so that the load of a shared
# machine falls on both alike; the figure is the median of the rounds.
#
#   inventory  `image --scanners inventory` of the mmdebstrap test image
#   default    `image` with the default scanners (secrets, malware, misconfig)
#   malware    `rootfs --scanners malware` of the test root filesystem
#   rules      `runtime replay` of the 2000-event mix with the upstream
#              stable Falco rules, and `runtime bench` (the engine alone)
#   sbom       `sbom` matching 500 packages, database open included
#
# Usage: bench/compare.sh BEFORE AFTER [ROUNDS]   (release builds of mamori)
set -eu
BEFORE=$(readlink -f "$1")
AFTER=$(readlink -f "$2")
ROUNDS=${3:-7}
HERE=$(readlink -f "$(dirname "$0")/..")
CACHE=${MAMORI_TEST_CACHE:-/var/cache/mamori-test}
SHARED=${MAMORI_SHARED_ROOT:-$HERE/../shared}
RULES=$SHARED/testdata/falco/falco_rules.yaml
for t in hyperfine python3; do
    command -v $t >/dev/null || { echo "compare: $t is not installed" >&2; exit 1; }
done
[ -d "$CACHE/oci" ] || sh "$HERE/scripts/build-test-image.sh" "$CACHE" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export MAMORI_CACHE_DIR="$out/cache"

python3 "$HERE/bench/gen/events.py" "$out/mix.jsonl"
"$AFTER" db import -q --db-path "$out/vuln.db" "$SHARED/vulndata/osv-go/all.zip" \
    "$SHARED/vulndata/pypa" >/dev/null
python3 "$HERE/bench/gen/sbom500.py" "$out"

# name|arguments (the binary is put in front)
cat >"$out/benches" <<EOF
inventory|image --input $CACHE/oci:app --format json --scanners inventory --no-store -q -o /dev/null
default|image --input $CACHE/oci:app --format json --no-store -q -o /dev/null
malware|rootfs $CACHE/rootfs --scanners malware --format json --no-store -q -o /dev/null
rules|runtime replay $out/mix.jsonl --rules $RULES -o /dev/null
sbom|sbom $out/sbom500.json --db-path $out/vuln.db --format json -q -o /dev/null
EOF

while IFS='|' read -r name args; do
    echo "== $name: $ROUNDS rounds" >&2
    r=1
    while [ "$r" -le "$ROUNDS" ]; do
        if [ $((r % 2)) -eq 1 ]; then first=$BEFORE; second=$AFTER; else first=$AFTER; second=$BEFORE; fi
        hyperfine -N --warmup 1 --runs 1 --export-json "$out/$name.$r.json" \
            "$first $args" "$second $args" >/dev/null 2>&1 ||
            hyperfine --warmup 1 --runs 1 --export-json "$out/$name.$r.json" \
                "$first $args" "$second $args" >/dev/null
        r=$((r + 1))
    done
done <"$out/benches"

# the engine alone: events per second, as the benchmark prints it
for r in $(seq 1 "$ROUNDS"); do
    for b in "$BEFORE" "$AFTER"; do
        "$b" runtime bench "$out/mix.jsonl" --rules "$RULES" --seconds 3 2>&1 |
            sed -n 's/.*[^0-9]\([0-9][0-9]*\) events\/s.*/\1/p' | head -1 |
            sed "s|^|$b |" >>"$out/engine.txt"
    done
done

python3 - "$out" "$BEFORE" "$AFTER" "$ROUNDS" <<'PY'
import glob, json, os, statistics, sys
out, before, after, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
names = [l.split("|")[0] for l in open(os.path.join(out, "benches"))]
# wall time, and CPU time (user + system): on a shared machine the load
# lengthens wall time far more than the CPU a command uses
print("| benchmark | before wall (median s) | after wall | after / before | before CPU (median s) | after CPU | after / before |")
print("|---|---|---|---|---|---|---|")
for n in names:
    t = {before: [], after: []}
    c = {before: [], after: []}
    for f in glob.glob(os.path.join(out, "%s.*.json" % n)):
        for res in json.load(open(f))["results"]:
            t[res["command"].split()[0]].append(res["mean"])
            c[res["command"].split()[0]].append(res["user"] + res["system"])
    b, a = statistics.median(t[before]), statistics.median(t[after])
    cb, ca = statistics.median(c[before]), statistics.median(c[after])
    print("| %s | %.3f | %.3f | %.3f | %.3f | %.3f | %.3f |" % (n, b, a, a / b, cb, ca, ca / cb))
eng = {before: [], after: []}
for line in open(os.path.join(out, "engine.txt")):
    b, v = line.split()
    eng[b].append(int(v))
if eng[before] and eng[after]:
    b, a = statistics.median(eng[before]), statistics.median(eng[after])
    print("| rules engine (events/s, higher is better) | %d | %d | %.3f |" % (b, a, a / b))
PY
