#!/bin/sh
# Benchmark: `mamori server` ingest and API latency (docs/benchmarks.md).
#
#   ingest-wrk   wrk posting batches of 500 fresh events (bench/server/ingest.lua)
#                for 15 s on 4 connections: alerts/s stored, into SQLite and
#                into PostgreSQL (a private one: initdb as the postgres user)
#   ingest-send  hyperfine (5 runs): `mamori server send` of 50,000 events
#                (the agent's client: batches, TLS, spool idle) side by side
#                with curl posting the same 100 batch files over one
#                connection (the HTTP client floor)
#   api-p99      wrk paced at 200 requests/s (a schedule per thread, 20
#                connections: bench/server/pace.lua) for 30 s on a filtered
#                page of 100 events out of the ingested ones: p50/p99 latency
#
# Usage: bench/server.sh [MAMORI]   (a release build; default build-rel/cli/mamori)
set -eu
HERE=$(readlink -f "$(dirname "$0")/..")
M=$(readlink -f "${1:-$HERE/build-rel/cli/mamori}")
for t in wrk hyperfine curl python3; do
    command -v $t >/dev/null || { echo "server bench: $t is not installed" >&2; exit 1; }
done
out=$(mktemp -d /tmp/mamori-srvbench.XXXXXX)
chmod 755 "$out"
SRV=""
PGPID=""
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null || true
    [ -n "$PGPID" ] && kill "$PGPID" 2>/dev/null && wait "$PGPID" 2>/dev/null || true
    rm -rf "$out"
    return 0
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

python3 - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
os.makedirs(out + "/batches")
with open(out + "/events.jsonl", "w") as f:
    for i in range(50000):
        f.write(json.dumps({"rule": "Terminal shell in container", "priority": "Warning",
                            "output": "A shell was spawned %d" % i, "time": 1765000000 + i,
                            "output_fields": {"container.id": "3ad7e1f0c2b1",
                                              "container.image.repository": "nginx",
                                              "container.image.tag": "1.25"}}) + "\n")
PY

# start_server DB: a server on a free port with a high rate limit
start_server() {
    P=$(port)
    rm -f "$out/server.out"
    "$M" server --state-dir "$out/state" --db "$1" --listen 127.0.0.1:$P --tls-name 127.0.0.1 \
        --rate 1000000 --threads 4 > "$out/server.out" 2>"$out/server.err" &
    SRV=$!
    until grep -q listening "$out/server.out" 2>/dev/null; do
        kill -0 "$SRV" 2>/dev/null || { cat "$out/server.err" >&2; exit 1; }
        sleep 0.1
    done
    URL=https://127.0.0.1:$P
    CA=$out/state/server.crt
}
stop_server() { kill "$SRV"; wait "$SRV" || true; SRV=""; }

bench_store() {   # NAME DB
    name=$1; db=$2
    tok() { "$M" server token create --state-dir "$out/state" --db "$db" -q "$@"; }
    AG=$(tok --role agent --name "a-$name" --host bench-1)
    VW=$(tok --role viewer --name "v-$name")
    start_server "$db"
    echo "== $name: ingest, wrk ${INGEST_S:-15} s, 4 connections, batches of 500"
    # wrk does not verify certificates: the server is ours, on loopback
    MAMORI_TOKEN=$AG RUN=$name BATCH=500 wrk -t2 -c4 -d${INGEST_S:-15}s -s "$HERE/bench/server/ingest.lua" \
        "$URL" | tee "$out/wrk-$name.txt"
    python3 - "$out/wrk-$name.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print("ingest: %.0f alerts/s stored (%.1f batches/s)%s"
      % (rps * 500, rps, ", %s refused!" % bad.group(1) if bad else ""))
PY
    echo "== $name: mamori server send (50,000 events) vs curl (same batches)"
    cat > "$out/regen.py" <<'PY'
# the 100 batch files of the curl floor, with ids new on every run
import json, os, sys
out = sys.argv[1]
nonce = os.urandom(6).hex()
lines = open(out + "/events.jsonl").read().splitlines()
for b in range(100):
    evs = []
    for j, l in enumerate(lines[b * 500:(b + 1) * 500]):
        e = json.loads(l)
        e["id"] = "c-%s-%d-%d" % (nonce, b, j)
        evs.append(e)
    with open(out + "/batches/%03d.json" % b, "w") as f:
        json.dump({"host_id": "bench-1", "events": evs}, f)
PY
    python3 "$out/regen.py" "$out"
    cfg=$out/curl.cfg
    : > "$cfg"
    for f in "$out"/batches/*.json; do
        printf 'url = "%s/api/v1/events"\ndata-binary = "@%s"\noutput = "/dev/null"\ncacert = "%s"\nheader = "Authorization: Bearer %s"\nheader = "Content-Type: application/json"\nfail\nsilent\nshow-error\n' \
            "$URL" "$f" "$CA" "$AG" >> "$cfg"
        [ "$f" = "$out/batches/099.json" ] || printf 'next\n' >> "$cfg"
    done
    hyperfine -N --runs ${RUNS:-5} --warmup 1 --export-markdown "$out/hf-$name.md" \
        --prepare "python3 $out/regen.py $out" \
        -n "mamori server send" \
        "$M server send --server $URL --token $AG --host-id bench-1 --server-ca $CA --spool $out/spool-$name -q $out/events.jsonl" \
        -n "curl (same batches, one connection)" \
        "curl -K $cfg"
    cat "$out/hf-$name.md"
    # CPU per event, which the load of a shared machine does not change: the
    # server process (and PostgreSQL's processes) over one more 50,000-event run
    cpu() { awk '{s += $14 + $15} END {print s + 0}' /proc/$SRV/stat; }
    pgcpu() {   # this benchmark's PostgreSQL: the postmaster and its children
        [ -n "$PGPID" ] || { echo 0; return; }
        pm=$(pgrep -P "$PGPID" | head -1)
        for p in $pm $(pgrep -P "$pm"); do cat /proc/$p/stat 2>/dev/null; done |
            awk '{s += $14 + $15} END {print s + 0}'
    }
    c0=$(cpu); p0=$(pgcpu)
    "$M" server send --server "$URL" --token "$AG" --host-id bench-1 --server-ca "$CA" \
        --spool "$out/spool-$name" -q "$out/events.jsonl"
    c1=$(cpu); p1=$(pgcpu)
    python3 -c "import os; hz = os.sysconf('SC_CLK_TCK'); s = ($c1 - $c0) / hz; d = ($p1 - $p0) / hz
print('ingest CPU: mamori server %.2f s for 50,000 events = %.0f events per CPU-second; PostgreSQL processes %.2f s' % (s, 50000 / s, d))"
    echo "== $name: API latency, paced 200 req/s for ${API_S:-30} s"
    MAMORI_TOKEN=$VW RATE=200 THREADS=2 wrk -t2 -c20 -d${API_S:-30}s --latency -s "$HERE/bench/server/pace.lua" \
        "$URL" | tee "$out/pace-$name.txt"
    stop_server
}

bench_store sqlite "$out/state/server.db"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1)
if [ -n "$PGBIN" ] && id postgres >/dev/null 2>&1; then
    mkdir -p "$out/pg" && chown postgres "$out/pg"
    runuser -u postgres -- "$PGBIN/initdb" -D "$out/pg/data" -A trust -U postgres --no-sync >/dev/null
    PGP=$(port)
    # its own session: stopping it at the end signals nothing of ours
    setsid runuser -u postgres -- "$PGBIN/postgres" -D "$out/pg/data" -p "$PGP" -k "$out/pg" \
        -c listen_addresses=127.0.0.1 > "$out/pg/log" 2>&1 &
    PGPID=$!
    until "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGP" >/dev/null 2>&1; do sleep 0.2; done
    psql -h 127.0.0.1 -p "$PGP" -U postgres -qc "CREATE DATABASE bench"
    bench_store postgres "postgres://postgres@127.0.0.1:$PGP/bench"
else
    echo "== postgres: skipped (PostgreSQL is not installed)"
fi
echo "load: $(cat /proc/loadavg)"
