#!/bin/sh
# Benchmark: the admission webhook's latency for cached decisions at a
# paced 200 requests/s (SP 800-190 deploy-time gate; issue 17: p99 < 20 ms).
#
# `mamori admission serve` over TLS (its self-signed pair) with a gate
# policy and the store holding a scan of the test image; the review bodies
# are real AdmissionReview v1 documents (a Pod, a Deployment, a pod with
# an init container) naming the scanned image, so after the first request
# every image decision comes from the cache and the Pod Security check runs
# each time.  wrk paces the load with bench/gen/admission_pace.lua (each
# connection waits connections/rate between requests); latency is wrk's,
# from send to the full answer, TLS included (connections kept alive).
#
# Usage: bench/admission.sh [MAMORI] [RATE] [SECONDS]
#   MAMORI defaults to build-rel/cli/mamori (a release build).
set -eu
HERE=$(readlink -f "$(dirname "$0")/..")
BIN=$(readlink -f "${1:-$HERE/build-rel/cli/mamori}")
RATE=${2:-200}
SECS=${3:-30}
CONNS=8
THREADS=2
CACHE=${MAMORI_TEST_CACHE:-/var/cache/mamori-test}
for t in wrk python3; do
    command -v $t >/dev/null || { echo "admission bench: $t is not installed" >&2; exit 1; }
done
[ -f "$CACHE/base-docker.tar" ] || sh "$HERE/scripts/build-test-image.sh" "$CACHE" >/dev/null
out=$(mktemp -d)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$out"' EXIT
export MAMORI_CACHE_DIR="$out/cache"
IMG=$CACHE/base-docker.tar
"$BIN" image --input "$IMG" --scanners secret -q --format json -o /dev/null
cat >"$out/policy.yaml" <<P
version: 1
deny_root_user: false
secrets:
  max_severity: none
P
python3 - "$IMG" >"$out/bodies.jsonl" <<'PY'
import json, sys
img = sys.argv[1]
ct = {"name": "app", "image": img,
      "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                          "capabilities": {"drop": ["ALL"]}}}
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "labels": {"app": "web"}},
       "spec": {"containers": [ct]}}
dep = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
       "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [ct]}}}}
init = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-2"},
        "spec": {"initContainers": [dict(ct, name="init")], "containers": [ct]}}
for i, o in enumerate([pod, dep, init]):
    print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
                      "request": {"uid": "bench-%d" % i, "kind": {"group": "", "version": "v1",
                                  "kind": o["kind"]}, "operation": "CREATE",
                                  "namespace": "bench", "object": o}}))
PY
"$BIN" admission serve --listen 127.0.0.1:0 --state-dir "$out" --tls-name localhost \
    --policy "$out/policy.yaml" --cache-dir "$out/cache" --log /dev/null 2>"$out/serve.err" &
srv=$!
port=
for _ in $(seq 100); do
    port=$(sed -n 's/.*(port \([0-9]*\),.*/\1/p' "$out/serve.err" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$out/serve.err" >&2; exit 1; }
# warm the cache (and check the verdict is an allow)
while read -r body; do
    printf '%s' "$body" | curl -sk -H 'Content-Type: application/json' --data-binary @- \
        "https://127.0.0.1:$port/validate" | grep -q '"allowed":true' \
        || { echo "admission bench: a review is not allowed" >&2; exit 1; }
done <"$out/bodies.jsonl"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores, shared)"
echo "command: ADM_RATE=$RATE ADM_THREADS=$THREADS wrk -t$THREADS -c$CONNS -d${SECS}s --latency -s bench/gen/admission_pace.lua https://127.0.0.1:PORT"
cpu() { awk '{print $14 + $15}' /proc/$srv/stat; }   # utime + stime, clock ticks
c0=$(cpu)
ADM_BODIES="$out/bodies.jsonl" ADM_RATE=$RATE ADM_THREADS=$THREADS \
    wrk -t$THREADS -c$CONNS -d"${SECS}s" --latency -s "$HERE/bench/gen/admission_pace.lua" \
    "https://127.0.0.1:$port" | tee "$out/wrk.txt" | grep -E 'ADM|Latency|Requests/sec|Non-2xx'
c1=$(cpu)
n=$(sed -n 's/.*ADM requests=\([0-9]*\).*/\1/p' "$out/wrk.txt")
[ -n "$n" ] && [ "$n" -gt 0 ] && awk -v c=$((c1 - c0)) -v n="$n" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "server CPU: %.0f us per request (TLS, parse, PSS, cached image decision)\n", c / hz / n * 1e6 }'
