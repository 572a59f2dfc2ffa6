#!/bin/sh
# Benchmark: the secret scan of the mmdebstrap root file system
# (/var/cache/mamori-test/rootfs) by mamori (`mamori rootfs DIR --scanners
# secret`: the inventory plus every rule of data/secret-rules.yaml over every
# regular file, binaries skipped) against ripgrep with the same patterns
# (exported from the rule file: named groups made plain, and the multi-line
# private-key rules cut to their BEGIN line because `rg` without -U matches
# line by line), and against secretlint 11 with its recommended preset.
#
# secretlint reads every file, binaries included, with JavaScript regexes:
# on the whole root file system it runs for most of an hour, so it is timed
# on the largest text tree of the image (usr/share/perl, 21 MB, 1,195 files)
# where all three tools run in the same hyperfine run; the whole root file
# system is timed for mamori and ripgrep only.
#
# secretlint is installed with npm into /var/cache/mamori-bench (never into
# the repository):
#   npm install --prefix /var/cache/mamori-bench secretlint@11 \
#       @secretlint/secretlint-rule-preset-recommend@11
#
# Usage: bench/secrets.sh [path/to/mamori] [rootfs dir]
set -eu
SRC=$(readlink -f "$(dirname "$0")/..")
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
CACHE=${MAMORI_TEST_CACHE:-/var/cache/mamori-test}
ROOT=$(readlink -f "${2:-$CACHE/rootfs}")
BENCH=${MAMORI_BENCH_DIR:-/var/cache/mamori-bench}
RUNS=${RUNS:-5}
[ -d "$ROOT" ] || sh "$SRC/scripts/build-test-image.sh" "$CACHE" >/dev/null
command -v rg >/dev/null || { echo "ripgrep is not installed (apt-get install ripgrep)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "hyperfine is not installed" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export MAMORI_CACHE_DIR="$out/cache"

# the rules as ripgrep patterns, one a line
python3 - "$SRC/data/secret-rules.yaml" >"$out/patterns.txt" <<'PY'
import re, sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
for r in doc["rules"]:
    rx = re.sub(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>", "(?:", r["regex"])
    if r.get("span"):
        # multi-line rule: its first line only (rg matches line by line)
        m = re.search(r"\(\?:\\\\n|(?<!\^)\\n", rx)
        rx = rx[:m.start()] if m else rx
    print(rx)
PY
echo "patterns: $(wc -l <"$out/patterns.txt")" >&2

RG="rg --no-ignore --hidden --no-messages -c -f $out/patterns.txt"

# what each finds (rg has no allow rules: its lines are a superset)
rc=0
$RG "$ROOT" >"$out/rg.txt" || rc=$?
[ "$rc" -le 1 ] || { echo "rg failed (exit $rc): are the exported patterns valid?" >&2; exit 1; }
"$MAMORI" rootfs "$ROOT" --scanners secret --format json --no-store -q -o "$out/m.json"
python3 - "$out/rg.txt" "$out/m.json" <<'PY' >&2
import json, sys
rg = [l for l in open(sys.argv[1]) if l.strip()]
m = [f for f in json.load(open(sys.argv[2]))["findings"] if f["kind"] == "secret"]
print("ripgrep: %d matching line(s) in %d file(s); mamori: %d finding(s)"
      % (sum(int(l.rsplit(":", 1)[1]) for l in rg), len(rg), len(m)))
for l in rg:
    print("  rg: " + l.strip())
PY

hyperfine -N --warmup 1 --runs "$RUNS" -i --export-markdown "$out/full.md" \
    -n "mamori rootfs --scanners secret" \
    "$MAMORI rootfs $ROOT --scanners secret --format json --no-store -q -o /dev/null" \
    -n "rg -f patterns" "$RG $ROOT" >&2

SUB="$ROOT/usr/share/perl"
SL="$BENCH/node_modules/.bin/secretlint"
if [ -x "$SL" ] && [ -d "$SUB" ]; then
    echo '{"rules":[{"id":"@secretlint/secretlint-rule-preset-recommend"}]}' >"$out/secretlintrc.json"
    # secretlint's globbing wants the tree as its working directory
    cat >"$out/sl.sh" <<EOF
#!/bin/sh
cd "$SUB" && exec "$SL" --secretlintrc "$out/secretlintrc.json" --format json '**/*' >/dev/null
EOF
    chmod +x "$out/sl.sh"
    hyperfine -N --runs "${SL_RUNS:-2}" -i --export-markdown "$out/sub.md" \
        -n "mamori rootfs usr/share/perl --scanners secret" \
        "$MAMORI rootfs $SUB --scanners secret --format json --no-store -q -o /dev/null" \
        -n "rg -f patterns usr/share/perl" "$RG $SUB" \
        -n "secretlint 11 (preset-recommend) usr/share/perl" "$out/sl.sh" >&2
else
    echo "secretlint is not installed in $BENCH: skipped (see the header)" >&2
    : >"$out/sub.md"
fi

echo "### whole root file system ($(du -sh "$ROOT" | cut -f1))"
cat "$out/full.md"
echo
echo "### usr/share/perl"
cat "$out/sub.md"
