#!/bin/sh
# Benchmark: host compliance (issue 23), side by side with the named peers
# in one run (hyperfine, >= 5 runs each):
#   1. SCAP: `mamori host compliance --xccdf DS --profile standard` against
#      `oscap xccdf eval --profile standard DS`, both on the same Debian 11
#      root tree (oscap's offline mode, OSCAP_PROBE_ROOT; mamori --root sets
#      it) built from this host's own /etc, with ssg-debian11 content;
#   2. the native CIS Debian and CIS Docker checks
#      (`mamori host compliance --cis docker,linux`) against
#      `lynis audit system --quick` on this host, time and coverage: the
#      number of checks each ran (mamori: results; lynis: "Tests performed").
# Needs root, openscap-utils, ssg-debian, lynis, hyperfine.  Prints Markdown
# for docs/benchmarks.md.
#
# Usage: bench/host.sh [path/to/mamori] [runs]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
RUNS=${2:-5}
DS=/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml
PROFILE=xccdf_org.ssgproject.content_profile_standard
for t in hyperfine oscap lynis; do
    command -v $t >/dev/null || { echo "bench/host.sh: $t is not installed" >&2; exit 2; }
done
[ -f "$DS" ] || { echo "bench/host.sh: $DS missing (ssg-debian)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# a Debian 11 root: this host's account and ssh files, a Debian 11 release
R="$out/deb11"
mkdir -p "$R/etc" "$R/var/lib/dpkg"
for f in passwd group shadow gshadow login.defs; do
    [ -f /etc/$f ] && cp -p /etc/$f "$R/etc/"
done
[ -d /etc/ssh ] && cp -rp /etc/ssh "$R/etc/"
[ -d /etc/pam.d ] && cp -rp /etc/pam.d "$R/etc/"
echo 11.9 >"$R/etc/debian_version"
printf 'ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\n' >"$R/etc/os-release"
cp /var/lib/dpkg/status "$R/var/lib/dpkg/status"

echo "## SCAP: ssg-debian11 standard profile on a Debian 11 root (offline)"
hyperfine -N --warmup 1 --runs "$RUNS" --ignore-failure --export-markdown "$out/scap.md" \
    -n "mamori host compliance --xccdf" \
    "$MAMORI host compliance --xccdf $DS --profile $PROFILE --root $R --format checks-json -o /dev/null -q" \
    -n "oscap xccdf eval" \
    "env OSCAP_PROBE_ROOT=$R oscap xccdf eval --profile $PROFILE $DS" >/dev/null 2>&1
cat "$out/scap.md"
m=$("$MAMORI" host compliance --xccdf $DS --profile $PROFILE --root "$R" --format checks-json -q 2>/dev/null |
    python3 -c 'import json,sys; d=json.load(sys.stdin)["summary"]; print(" ".join("%s=%d" % kv for kv in d.items()))')
o=$(OSCAP_PROBE_ROOT=$R oscap xccdf eval --profile $PROFILE $DS 2>/dev/null | tr -d '\r' | awk '$1=="Result"{c[$2]++} END{for (k in c) printf "%s=%d ", k, c[k]}')
echo
echo "results: mamori $m; oscap $o"

echo
echo "## CIS Docker + native CIS Debian checks vs lynis audit system --quick"
hyperfine -N --warmup 1 --runs "$RUNS" --ignore-failure --export-markdown "$out/lynis.md" \
    -n "mamori host compliance --cis docker,linux" \
    "$MAMORI host compliance --cis docker,linux --format checks-json -o /dev/null -q" \
    -n "lynis audit system --quick" \
    "lynis audit system --quick --no-colors --no-log --report-file $out/lynis.dat" >/dev/null 2>&1
cat "$out/lynis.md"
mc=$("$MAMORI" host compliance --cis docker,linux --format checks-json -q 2>/dev/null |
     python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["checks"]), d["summary"])')
lynis audit system --quick --no-colors --no-log --report-file "$out/lynis.dat" >"$out/lynis.txt" 2>&1 || true
lt=$(grep -o 'Tests performed *: *[0-9]*' "$out/lynis.txt" | grep -o '[0-9]*$' || echo "?")
lc=$(grep -c '^test_category\|^tests_executed' "$out/lynis.dat" 2>/dev/null || true)
lcont=$(grep -o 'CONT-[0-9]*' "$out/lynis.dat" | sort -u | tr '\n' ' ' || true)
echo
echo "coverage: mamori results $mc; lynis tests performed $lt (container tests run: ${lcont:-none})"
