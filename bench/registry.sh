#!/bin/sh
# Benchmark: pulling an image from a registry and analysing it, against
# skopeo merely copying the same image to an OCI folder (issue 5's target:
# mamori within 1.5x of skopeo's time), side by side in one hyperfine run.
#
# A plain-HTTP Debian docker-registry on 127.0.0.1 (storage in a temporary
# folder) receives the fixture image of scripts/build-test-image.sh (OCI
# layout `app`) with skopeo; then
#   skopeo copy docker://127.0.0.1:PORT/mamori/app:1.0 oci:DIR:app
#   mamori image 127.0.0.1:PORT/mamori/app:1.0 --insecure-registry ...
#          --no-blob-cache --scanners vuln      (pull + inventory + matching)
#   the same with a warm blob cache             (analysis only, no blob GET)
# The vulnerability database: the default one ($MAMORI_CACHE_DIR or
# ~/.cache/mamori, vuln.db) when present, else one imported here from the
# Go and PyPA feeds of ../shared (the fixture's Go binary and Python
# distribution are matched), else none (said so; inventory only).
#
# Usage: bench/registry.sh [path/to/mamori]   (a release build; RUNS=10)
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
HERE=$(cd "$(dirname "$0")" && pwd)
IMAGES=${MAMORI_TEST_IMAGES:-/var/cache/mamori-test}
SHARED=${MAMORI_SHARED_ROOT:-$HERE/../../shared}
RUNS=${RUNS:-10}
DEFAULT_DB=${MAMORI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mamori}/vuln.db

for t in docker-registry skopeo hyperfine curl python3; do
    command -v "$t" >/dev/null 2>&1 || { echo "registry.sh: $t is not installed" >&2; exit 1; }
done
[ -x "$MAMORI" ] || { echo "registry.sh: no mamori at $MAMORI" >&2; exit 1; }
if [ ! -f "$IMAGES/oci/index.json" ]; then
    sh "$HERE/../scripts/build-test-image.sh" "$IMAGES" >/dev/null
fi

work=$(mktemp -d)
pid=
cleanup() {
    [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat >"$work/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: $host
  secret: bench
EOF
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
pid=$!
i=0
until curl -fs -o /dev/null "http://$host/v2/"; do
    i=$((i + 1))
    [ $i -lt 100 ] || { cat "$work/registry.log" >&2; exit 1; }
    sleep 0.1
done
skopeo --insecure-policy copy -q --dest-tls-verify=false \
    "oci:$IMAGES/oci:app" "docker://$host/mamori/app:1.0"
ref=$host/mamori/app:1.0

export MAMORI_CACHE_DIR="$work/cache"
if [ -f "$DEFAULT_DB" ]; then
    db=$DEFAULT_DB
    echo "== vulnerability database: $db (the default path)"
elif [ -f "$SHARED/vulndata/osv-go/all.zip" ] && [ -d "$SHARED/vulndata/pypa" ]; then
    db=$work/vuln.db
    echo "== no database at $DEFAULT_DB: importing the Go vulndb and PyPA feeds of ../shared"
    "$MAMORI" db import -q --db-path "$db" "$SHARED/vulndata/osv-go/all.zip" \
        "$SHARED/vulndata/pypa"
else
    db=
    echo "== no vulnerability database (not at $DEFAULT_DB, no ../shared feeds):" \
         "vulnerability matching is skipped, inventory only"
fi
if [ -n "$db" ]; then
    scan="--scanners vuln --db-path $db"
else
    scan="--scanners inventory"
fi
common="image $ref --insecure-registry $host --no-store --format json -q -o /dev/null $scan"

# one pull checks that it works and fills the warm cache
"$MAMORI" $common --blob-cache "$work/blobs"
"$MAMORI" $common --blob-cache "$work/blobs" --format json -o "$work/report.json"
python3 - "$work/report.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = [f for f in d["findings"] if f["kind"] == "vulnerability"]
print("== image: %d layers, %d packages, %d vulnerabilities, manifest %s"
      % (len(d["layers"]), len(d["packages"]), len(v), d["image"]["manifestDigest"]))
PY

hyperfine --warmup 1 --runs "$RUNS" -N --export-json "$work/h.json" \
    --prepare "rm -rf $work/skopeo-out" \
    -n "skopeo copy" \
    "skopeo --insecure-policy copy -q --src-tls-verify=false docker://$ref oci:$work/skopeo-out:app" \
    -n "mamori image (pull + inventory + vuln, no cache)" \
    "$MAMORI $common --no-blob-cache" \
    -n "mamori image (warm blob cache)" \
    "$MAMORI $common --blob-cache $work/blobs"

python3 - "$work/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
base = r[0]["mean"]
cpu0 = r[0]["user"] + r[0]["system"]
# wall time is the target; CPU time (user + sys) is shown too because it
# moves less when other work shares the machine
print("\n| command | mean (s) | ± (s) | vs skopeo copy | CPU user+sys (s) | CPU vs skopeo |")
print("|---|---|---|---|---|---|")
for x in r:
    cpu = x["user"] + x["system"]
    print("| %s | %.3f | %.3f | %.2fx | %.3f | %.2fx |"
          % (x["command"], x["mean"], x["stddev"], x["mean"] / base, cpu, cpu / cpu0))
PY
