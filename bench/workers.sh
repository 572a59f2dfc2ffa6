#!/bin/sh
# Benchmark (issue 19): a registry-wide rescan of a local docker-registry
# holding N images that share their base layers, in images per hour:
#
#   baseline   mamori registry scan HOST         (today's: one process, the
#              blob cache on, every layer of every image walked)
#   1 worker   mamori registry scan HOST --enqueue PG, then 1 x
#              mamori worker --db PG --drain
#   2 workers  the same with 2 worker processes on the one PostgreSQL
#
# side by side in one hyperfine run (RUNS, default 5).  Each run starts
# from nothing: a fresh cache folder for the baseline (so its store skips
# nothing), and for the workers the job queue, the layer records and the
# stored scans emptied (so every base layer is walked once per run, then
# replayed from its record).
#
# The images: the base image of the fixture (scripts/build-test-image.sh,
# a Debian root file system, OCI layout tag `base`) plus one small layer of
# its own each (bench/gen/regimages.py), in 10 repositories.  Scanners:
# SCANNERS (default "vuln": inventory and vulnerability matching, the
# rescan that follows a database update); SCANNERS=all runs every scanner.
# The vulnerability database: the default one when present, else the Go
# and PyPA feeds of ../shared imported here, else none.
#
# PostgreSQL (Debian postgresql) and docker-registry run here on 127.0.0.1,
# started and removed by this script (as the postgres user for initdb).
#
# Usage: bench/workers.sh [path/to/mamori]   (a release build; N=60 RUNS=5;
# CHECK_ONLY=1: the one check run of 2 workers, no hyperfine)
set -eu
MAMORI=$(readlink -f "${1:-build-rel/cli/mamori}")
HERE=$(cd "$(dirname "$0")" && pwd)
IMAGES=${MAMORI_TEST_IMAGES:-/var/cache/mamori-test}
SHARED=${MAMORI_SHARED_ROOT:-$HERE/../../shared}
N=${N:-60}
RUNS=${RUNS:-5}
SCANNERS=${SCANNERS:-vuln}
DEFAULT_DB=${MAMORI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mamori}/vuln.db

for t in docker-registry hyperfine curl python3 psql runuser; do
    command -v "$t" >/dev/null 2>&1 || { echo "workers.sh: $t is not installed" >&2; exit 1; }
done
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PGBIN" ] || { echo "workers.sh: PostgreSQL is not installed" >&2; exit 1; }
[ -x "$MAMORI" ] || { echo "workers.sh: no mamori at $MAMORI" >&2; exit 1; }
if [ ! -f "$IMAGES/oci/index.json" ]; then
    sh "$HERE/../scripts/build-test-image.sh" "$IMAGES" >/dev/null
fi

work=$(mktemp -d /tmp/mamori-bench-workers-XXXXXX)
chmod 755 "$work"
rpid= ppid_=
cleanup() {
    rc=$?
    set +e      # `wait` on a killed child returns 143: not a reason to stop here
    trap '' TERM INT
    trap - EXIT
    [ -n "$rpid" ] && kill "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    # runuser does not pass the signal on: stop postgres itself (its pid file)
    if [ -f "$work/pg/data/postmaster.pid" ]; then
        kill "$(head -1 "$work/pg/data/postmaster.pid")" 2>/dev/null
        i=0
        while [ -f "$work/pg/data/postmaster.pid" ] && [ $i -lt 100 ]; do
            sleep 0.1; i=$((i + 1))
        done
    fi
    [ -n "$ppid_" ] && wait "$ppid_" 2>/dev/null
    rm -rf "$work"
    exit $rc
}
trap cleanup EXIT INT TERM
freeport() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# --- the registry
port=$(freeport)
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
rpid=$!
i=0
until curl -fs -o /dev/null "http://$host/v2/"; do
    i=$((i + 1)); [ $i -lt 100 ] || { cat "$work/registry.log" >&2; exit 1; }; sleep 0.1
done
echo "== $(python3 "$HERE/gen/regimages.py" "$host" "$IMAGES/oci" base "$N")"

# --- PostgreSQL
mkdir -p "$work/pg"
chown postgres "$work/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$work/pg/data" -A trust -U postgres --no-sync >/dev/null
pgport=$(freeport)
runuser -u postgres -- "$PGBIN/postgres" -D "$work/pg/data" -p "$pgport" -k "$work/pg" \
    -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50 >"$work/pg.log" 2>&1 &
ppid_=$!
i=0
until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$pgport"; do
    i=$((i + 1)); [ $i -lt 200 ] || { cat "$work/pg.log" >&2; exit 1; }; sleep 0.1
done
psql -q -h 127.0.0.1 -p "$pgport" -U postgres -c "CREATE DATABASE mamori" postgres
pg=postgres://postgres@127.0.0.1:$pgport/mamori

# --- the vulnerability database
export MAMORI_CACHE_DIR="$work/cache"
if [ -f "$DEFAULT_DB" ]; then
    db=$DEFAULT_DB
    echo "== vulnerability database: $db (the default path)"
elif [ -f "$SHARED/vulndata/osv-go/all.zip" ] && [ -d "$SHARED/vulndata/pypa" ]; then
    db=$work/vuln.db
    echo "== importing the Go vulndb and PyPA feeds of ../shared"
    "$MAMORI" db import -q --db-path "$db" "$SHARED/vulndata/osv-go/all.zip" "$SHARED/vulndata/pypa"
else
    db=$work/none.db
    echo "== no vulnerability database: inventory only"
fi
if [ "$SCANNERS" = all ]; then scan="--db-path $db"; else scan="--scanners $SCANNERS --db-path $db"; fi
reg="--insecure-registry $host"

cat >"$work/workers.sh" <<EOF
#!/bin/sh
# one registry-wide rescan through the queue with \$1 workers
set -e
"$MAMORI" registry scan $host --enqueue $pg $reg -q >/dev/null
k=0
while [ \$k -lt \$1 ]; do
    "$MAMORI" worker --db $pg --drain --quiet $scan $reg --blob-cache $work/blobs-w &
    k=\$((k + 1))
done
wait
EOF
chmod +x "$work/workers.sh"
reset="psql -q -h 127.0.0.1 -p $pgport -U postgres -d mamori -c 'TRUNCATE scan_jobs, layer_records, findings, scans'"

# check once: the workers store one scan per image and equal counts
"$MAMORI" registry scan $host --enqueue $pg $reg >/dev/null   # migrates the store
eval "$reset"
t0=$(date +%s.%N)
sh "$work/workers.sh" 2
t1=$(date +%s.%N)
got=$(psql -At -h 127.0.0.1 -p "$pgport" -U postgres -d mamori -c \
    "SELECT COUNT(*) || ' scans, ' || (SELECT COUNT(*) FROM findings) || ' findings; layer records: ' ||
     (SELECT COUNT(*) FROM layer_records WHERE state = 'ready') || ' (largest ' ||
     (SELECT COALESCE(MAX(size), 0) FROM layer_records) || ' bytes), replayed ' ||
     (SELECT COALESCE(SUM(hits), 0) FROM layer_records) || ' times; ' ||
     (SELECT COALESCE(SUM(walks), 0) FROM layer_records) || ' walks'
     FROM scans")
echo "== 2 workers, $(python3 -c "print('%.1f' % ($t1 - $t0))") s"
echo "== 2 workers: $got"

[ "${CHECK_ONLY:-0}" = 1 ] && exit 0
hyperfine --runs "$RUNS" -N --export-json "$work/h.json" \
    -n "mamori registry scan (baseline)" \
    --prepare "rm -rf $work/rs" \
    "$MAMORI registry scan $host --cache-dir $work/rs $scan $reg -q -o /dev/null" \
    -n "1 worker" --prepare "$reset" "sh $work/workers.sh 1" \
    -n "2 workers" --prepare "$reset" "sh $work/workers.sh 2"

echo "== load average after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$work/h.json" "$N" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
n = int(sys.argv[2])
base = r[0]["mean"]
print("\n| command | mean (s) | ± (s) | images/hour | vs baseline | CPU user+sys (s) |")
print("|---|---|---|---|---|---|")
for x in r:
    print("| %s | %.2f | %.2f | %d | %.2fx | %.2f |"
          % (x["command"], x["mean"], x["stddev"], n * 3600 / x["mean"], base / x["mean"],
             x["user"] + x["system"]))
PY
