#!/bin/sh
# Benchmark: `mamori server`'s re-match after a database update
# (docs/benchmarks.md, docs/server-ops.md).
#
# N stored scans (default 200) of an Alpine 3.4 root (the real apk database
# of ../shared/testdata/pkgdb/apk, 15 packages) are re-matched by a
# vulnerability-database update of the server (import of the real Alpine
# secdb v3.4 main feed, then the re-match of every stored inventory: report
# read back from the store, matched, compared with the stored findings),
# side by side with today's CLI way of doing the same: `mamori db import`
# of the feed, then `mamori sbom` of each image's CycloneDX SBOM.  The
# first server run raises the alerts (a warm-up); the measured runs are
# the steady state of an update that adds nothing.
#
# Usage: bench/server-rematch.sh [MAMORI] [N]   (a release build; default build-rel/cli/mamori)
set -eu
HERE=$(readlink -f "$(dirname "$0")/..")
M=$(readlink -f "${1:-$HERE/build-rel/cli/mamori}")
N=${2:-200}
RUNS=${RUNS:-5}
SHARED=$HERE/../shared
APK=$SHARED/testdata/pkgdb/apk/installed
FEED=$SHARED/vulndata/alpine-secdb/v3.4/main.yaml
OLD=$SHARED/vulndata/alpine-secdb/v3.3/main.yaml
for f in "$APK" "$FEED" "$OLD"; do
    [ -f "$f" ] || { echo "server-rematch bench: $f is missing (../shared)" >&2; exit 1; }
done
command -v hyperfine >/dev/null || { echo "server-rematch bench: hyperfine is not installed" >&2; exit 1; }
out=$(mktemp -d /tmp/mamori-rematch.XXXXXX)
SRV=""
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null || true
    rm -rf "$out"
}
trap cleanup EXIT

# the root, its report (matched with an older feed) and its SBOM
mkdir -p "$out/root/etc" "$out/root/lib/apk/db"
printf 'ID=alpine\nVERSION_ID=3.4.6\n' > "$out/root/etc/os-release"
cp "$APK" "$out/root/lib/apk/db/installed"
"$M" db import --db-path "$out/old.db" -q "$OLD"
"$M" rootfs "$out/root" --db-path "$out/old.db" --no-store -q -f json -o "$out/report.json" || true
"$M" rootfs "$out/root" --db-path "$out/old.db" --no-store -q -f cyclonedx -o "$out/sbom.json" || true
mkdir -p "$out/sboms"
i=0
while [ $i -lt "$N" ]; do
    cp "$out/sbom.json" "$out/sboms/$i.json"
    i=$((i + 1))
done

# the server with N stored scans, each its own image
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cp "$out/old.db" "$out/server-vuln.db"
cat > "$out/server.yaml" <<EOF
schedules:
  - {name: feeds, kind: vulndb-update, every: 1d, feeds: ["$FEED"]}
EOF
"$M" server token create --state-dir "$out/state" --role admin --name bench -q > "$out/token"
"$M" server --state-dir "$out/state" --listen 127.0.0.1:$P --tls-name 127.0.0.1 --rate 1000000 \
    --config "$out/server.yaml" --vulndb "$out/server-vuln.db" --tick 0.05 \
    > "$out/server.out" 2>"$out/server.err" &
SRV=$!
until grep -q listening "$out/server.out" 2>/dev/null; do
    kill -0 "$SRV" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
    sleep 0.1
done
cat > "$out/client.py" <<'PY'
import http.client, json, ssl, sys, time
port, ca, tok, what = int(sys.argv[1]), sys.argv[2], open(sys.argv[3]).read().strip(), sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
def req(method, path, body=None):
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=600)
    c.request(method, path, body=body, headers={"Authorization": "Bearer " + tok,
                                                "Content-Type": "application/json"})
    r = c.getresponse()
    d = r.read()
    c.close()
    return r.status, d
if what == "upload":
    rep = json.load(open(sys.argv[5]))
    for i in range(int(sys.argv[6])):
        rep["target"] = "bench/app-%d" % i
        rep["image"] = {"repoTags": ["bench/app-%d:1" % i]}
        rep["kind"] = "image"
        st, d = req("POST", "/api/v1/scans?host=h%d" % (i % 10), json.dumps(rep))
        assert st == 201, d
    sys.exit(0)
def runs():
    st, d = req("GET", "/api/v1/schedules")
    f = [x for x in json.loads(d)["items"] if x["name"] == "feeds"][0]
    return f["runs"], f["last_status"], f["last_detail"]
n0 = runs()[0]
req("POST", "/api/v1/schedules/feeds/run")
while runs()[0] <= n0:
    time.sleep(0.02)
r = runs()
assert r[1] == "ok", r
print(r[2], file=sys.stderr)
PY
C="python3 $out/client.py $P $out/state/server.crt $out/token"
$C upload "$out/report.json" "$N"

echo "server-rematch: $N stored scans; server: $(grep -c '' "$out/server.err" || true) log lines" >&2
hyperfine --warmup 1 --runs "$RUNS" --export-markdown "$out/result.md" \
    -n "mamori server: update + re-match of $N stored inventories" "$C run" \
    -n "mamori db import + $N x mamori sbom" \
    "sh -c 'cp $out/old.db $out/cli.db && $M db import --db-path $out/cli.db -q $FEED && for f in $out/sboms/*.json; do $M sbom \$f --db-path $out/cli.db -q -f json -o /dev/null || true; done'"
cat "$out/result.md"
$C run 2>&1 | tail -1
