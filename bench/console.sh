#!/bin/sh
# Benchmark: the web console's first page load (docs/benchmarks.md, issue 20).
#
# A release server (SQLite) holding 100,000 findings (10 image reports of
# 10,000 each, uploaded through the API) and 20,000 alerts.  hyperfine
# (>= 5 runs) times, with a logged-in console session (cookie):
#   first-load   what a browser fetches to show a page: the page, its CSS
#                and 5 ES modules, the session, the summary and the first
#                page of images (one curl, one connection)
#   findings-p1  the first page of 100 findings with the total count
#   matrix       the Overview's SP 800-190 matrix (every latest scan read:
#                100,000 findings)
#   alerts-p1    the first page of 50 alerts with the total (Runtime)
# and prints the bytes of the console's JS + CSS (budget: 300 KB); then
# bench/console_live.py: 1,000 alerts/s posted for 10 s while a reader
# follows /api/v1/events/stream as the Runtime page does (lost, repeated,
# delay).
# No peer: no other console serves this data; the floor is curl fetching
# the same files (the network and TLS part of each number).
#
# Usage: bench/console.sh [MAMORI]   (a release build; default build-rel/cli/mamori)
set -eu
HERE=$(readlink -f "$(dirname "$0")/..")
M=$(readlink -f "${1:-$HERE/build-rel/cli/mamori}")
for t in hyperfine curl python3; do
    command -v $t >/dev/null || { echo "console bench: $t is not installed" >&2; exit 1; }
done
out=$(mktemp -d /tmp/mamori-consolebench.XXXXXX)
SRV=""
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null || true
    rm -rf "$out"
    return 0
}
trap cleanup EXIT
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tok() { "$M" server token create --state-dir "$out/state" -q "$@"; }
mkdir -p "$out/state"
AD=$(tok --role admin --name bench-admin)
CI=$(tok --role ci --name bench-ci)
AG=$(tok --role agent --name bench-agent --host bench-1)
"$M" server --state-dir "$out/state" --listen 127.0.0.1:$P --tls-name 127.0.0.1 \
    --rate 1000000 > "$out/server.out" 2>"$out/server.err" &
SRV=$!
until grep -q listening "$out/server.out" 2>/dev/null; do
    kill -0 "$SRV" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
    sleep 0.1
done
URL=https://127.0.0.1:$P
CA=$out/state/server.crt
C="curl -sS --fail --cacert $CA"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
sevs = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]
for n in range(10):
    rep = {"schemaVersion": 1, "kind": "image", "target": "app%d.tar" % n,
           "image": {"reference": "registry.example.com/team%d/app:%d.0" % (n, n)},
           "findings": [{"id": "CVE-2024-%05d" % i, "kind": "vulnerability",
                         "severity": sevs[i % 5], "title": "a vulnerability %d" % i,
                         "section": "3.1.1",
                         "location": {"package": "lib%d@1.%d" % (i % 300, i % 7)}}
                        for i in range(10000)]}
    json.dump(rep, open("%s/rep%d.json" % (out, n), "w"))
for b in range(4):
    evs = [{"id": "e-%d-%d" % (b, i), "rule": "Terminal shell in container",
            "priority": "Warning", "output": "shell %d" % i, "time": 1765000000 + i}
           for i in range(5000)]
    json.dump({"host_id": "bench-1", "events": evs}, open("%s/ev%d.json" % (out, b), "w"))
PY
for n in 0 1 2 3 4 5 6 7 8 9; do
    $C -o /dev/null -H "Authorization: Bearer $CI" -H "Content-Type: application/json" \
        --data-binary @"$out/rep$n.json" "$URL/api/v1/scans?host=bench-1"
done
for b in 0 1 2 3; do
    $C -o /dev/null -H "Authorization: Bearer $AG" -H "Content-Type: application/json" \
        --data-binary @"$out/ev$b.json" "$URL/api/v1/events"
done
$C -c "$out/jar" -o /dev/null -H "Content-Type: application/json" \
    --data "{\"token\":\"$AD\"}" "$URL/api/v1/session"
total=$($C -b "$out/jar" "$URL/api/v1/findings?limit=1&total=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
echo "store: $total findings, $(du -sh "$out/state/server.db" | cut -f1) SQLite"

files=""
for f in / /ui/style.css /ui/app.js /ui/ui.js /ui/pages.js /ui/runtime.js /ui/hosts.js \
         /api/v1/session /api/v1/summary "/api/v1/images?limit=50&total=1"; do
    files="$files -o /dev/null $URL$f"
done
echo "one load, each request (seconds):"
$C -b "$out/jar" -w '  %{time_total}  %{url}\n' $files
$C -b "$out/jar" -o /dev/null -w '  %{time_total}  %{url}\n' "$URL/api/v1/report?scope=fleet&format=json&matrix=1"
[ "${PROFILE_ONLY:-}" = 1 ] && exit 0
hyperfine -N --runs ${RUNS:-10} --warmup 2 --export-markdown "$out/hf.md" \
    -n "first-load (page, CSS, 5 modules, session, summary, images p1)" "$C -b $out/jar $files" \
    -n "findings-p1 (100 of $total, total)" "$C -b $out/jar -o /dev/null $URL/api/v1/findings?limit=100&total=1" \
    -n "alerts-p1 (50 of 20000, total)" "$C -b $out/jar -o /dev/null $URL/api/v1/events?limit=50&total=1" \
    -n "matrix (SP 800-190 rows over $total findings)" "$C -b $out/jar -o /dev/null $URL/api/v1/report?scope=fleet&format=json&matrix=1" \
    -n "floor: curl, the 7 static files only" "$C -o /dev/null $URL/ -o /dev/null $URL/ui/style.css -o /dev/null $URL/ui/app.js -o /dev/null $URL/ui/ui.js -o /dev/null $URL/ui/pages.js -o /dev/null $URL/ui/runtime.js -o /dev/null $URL/ui/hosts.js"
cat "$out/hf.md"
js=$(cat "$HERE"/server/web/*.js | wc -c)
css=$(cat "$HERE"/server/web/*.css | wc -c)
html=$(wc -c < "$HERE"/server/web/index.html)
echo "console: JS $js bytes + CSS $css bytes = $((js + css)) bytes (budget 307200); HTML $html bytes"
ck=$(awk '$6 == "mamori_session" {print "mamori_session=" $7}' "$out/jar")
python3 "$HERE/bench/console_live.py" "$URL" "$CA" "$AG" "$ck" ${LIVE_S:-10}
echo "load: $(cat /proc/loadavg)"
