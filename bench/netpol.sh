#!/bin/sh
# Benchmark: applying segmentation policies (`mamori net enforce`),
# docs/benchmarks.md.  1,000 network namespaces made here stand for 1,000
# containers (10.235.x.y addresses, inside them only); one policy file with
# 1,000 policies (one per workload: two ingress rules with 3 CIDRs and 4
# ports, two egress rules, one of them by DNS name), so each namespace gets
# its own table.  Side by side in one hyperfine run (>= 5 runs each):
#   mamori net enforce --policy F --target w1=/run/netns/... x 1,000
#     (compile, list each live table, 1,000 transactions through
#     libnftables, one per namespace);
#   the same 1,000 compiled tables applied with the nft command, one
#     `ip netns exec NS nft -f TABLE` per namespace (the floor a shell
#     script would reach).
# Needs root.  Usage: bench/netpol.sh [path/to/mamori] [workloads]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
N=${2:-1000}
out=$(mktemp -d)
p=$$
cleanup() {
    i=0
    while [ $i -lt "$N" ]; do ip netns del "mmbp$p-$i" 2>/dev/null || true; i=$((i + 1)); done
    rm -rf "$out"
}
trap cleanup EXIT INT TERM
[ "$(id -u)" -eq 0 ] || { echo "bench/netpol.sh: needs root" >&2; exit 1; }

i=0
while [ $i -lt "$N" ]; do ip netns add "mmbp$p-$i"; i=$((i + 1)); done
python3 - "$out" "$N" "$p" <<'PY'
import sys
out, n, p = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(out + "/policy.yaml", "w") as f:
    f.write("version: 1\npolicies:\n")
    for i in range(n):
        a, b = divmod(i, 250)
        f.write("""  - name: w%d
    match: {container: w%d}
    ingress:
      - from: [10.235.%d.0/24, 10.236.0.%d, "fd00:235::%x"]
        ports: [tcp/80, tcp/443, tcp/8000-8080, icmp]
      - from: [10.237.0.0/16]
        ports: [udp/53]
    egress:
      - to: [10.235.%d.%d, 10.0.0.53]
        ports: [udp/53, tcp/5432]
      - names: [api%d.example.com, "*.cdn.example.net"]
        ports: [tcp/443]
""" % (i, i, a, b + 1, i, a, b + 1, i))
with open(out + "/targets", "w") as f:
    f.write(" ".join("--target w%d=/run/netns/mmbp%s-%d" % (i, p, i) for i in range(n)))
PY
T=$(cat "$out/targets")
# the compiled tables, for the nft side (a dry run prints them as a diff)
# shellcheck disable=SC2086
"$MAMORI" net enforce --policy "$out/policy.yaml" $T --dry-run > "$out/diff.txt"
python3 - "$out" "$N" "$p" <<'PY'
import sys
out, n, p = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cur, tables = None, {}
for line in open(out + "/diff.txt"):
    if line.startswith("+++ "):
        cur = line[4:].split(":")[0]; tables[cur] = []
    elif line.startswith("+") and cur:
        tables[cur].append(line[1:])
with open(out + "/nft.sh", "w") as f:
    for ns, lines in tables.items():
        name = ns.rsplit("/", 1)[1]
        path = "%s/%s.nft" % (out, name)
        with open(path, "w") as t:
            t.write("table inet mamori\ndelete table inet mamori\n" + "".join(lines))
        f.write("ip netns exec %s nft -f %s\n" % (name, path))
print("tables:", len(tables), "rules per table:", sum(1 for l in lines if "accept" in l))
PY
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine --runs 5 --warmup 1 --export-markdown "$out/res.md" \
    -n "mamori net enforce ($N namespaces)" "$MAMORI net enforce --policy $out/policy.yaml $T" \
    -n "nft -f per namespace ($N)" "sh $out/nft.sh"
cat "$out/res.md"
