#!/bin/sh
# Benchmark: inventory of the mmdebstrap test image (OCI layout, gzip layers)
# against the floor of merely decompressing the same layer blobs to
# /dev/null with `gzip -dc` and `igzip -dc` (ISA-L), in the same run, with
# hyperfine; then mamori's peak memory from GNU time.  Prints a Markdown
# table of ratios for docs/benchmarks.md.
#
# Usage: bench/inventory.sh [path/to/mamori] [image ref]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
CACHE=${MAMORI_TEST_CACHE:-/var/cache/mamori-test}
REF=${2:-app}
[ -d "$CACHE/oci" ] || sh scripts/build-test-image.sh "$CACHE" >/dev/null
OCI="$CACHE/oci"

# the layer blobs of the image, from its manifest
layers=$(python3 - "$OCI" "$REF" <<'PY'
import json, sys, os
oci, ref = sys.argv[1], sys.argv[2]
idx = json.load(open(os.path.join(oci, "index.json")))
m = [x for x in idx["manifests"]
     if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
def blob(d): return os.path.join(oci, "blobs", *d.split(":"))
man = json.load(open(blob(m["digest"])))
print(" ".join(blob(l["digest"]) for l in man["layers"]))
PY
)
total=$(du -cb $layers | tail -1 | cut -f1)
out=$(mktemp -d)
export MAMORI_CACHE_DIR="$out/cache"

echo "image: $OCI:$REF, $(echo $layers | wc -w) layers, $total compressed bytes" >&2
hyperfine --warmup 2 --runs ${RUNS:-10} --export-json "$out/h.json" -N \
    "gzip -dc $layers" \
    "igzip -dc $layers" \
    "$MAMORI image --input $OCI:$REF --format json --scanners inventory --no-store -q -o /dev/null" \
    "$MAMORI image --input $OCI:$REF --format json --scanners inventory --no-store -q -o /dev/null --threads 1" \
    >&2 || hyperfine --warmup 2 --runs ${RUNS:-10} --export-json "$out/h.json" \
    "gzip -dc $layers > /dev/null" \
    "igzip -dc $layers > /dev/null" \
    "$MAMORI image --input $OCI:$REF --format json --scanners inventory --no-store -q -o /dev/null" \
    "$MAMORI image --input $OCI:$REF --format json --scanners inventory --no-store -q -o /dev/null --threads 1" >&2

/usr/bin/time -v "$MAMORI" image --input "$OCI:$REF" --format json --no-store -q \
    -o /dev/null 2>"$out/time.txt"
rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$out/time.txt")

python3 - "$out/h.json" "$rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
t = {x["command"].split()[0].split("/")[-1] + (" --threads 1" if "--threads 1" in x["command"] else ""): x for x in r}
gz, ig = t["gzip"]["mean"], t["igzip"]["mean"]
print("| command | mean (s) | ± (s) | vs gzip -dc | vs igzip -dc |")
print("|---|---|---|---|---|")
for name, x in t.items():
    print(f"| {name} | {x['mean']:.3f} | {x['stddev']:.3f} | {x['mean']/gz:.2f}x | {x['mean']/ig:.2f}x |")
print(f"\nmamori peak RSS: {int(sys.argv[2])/1024:.1f} MiB")
PY
rm -rf "$out"
