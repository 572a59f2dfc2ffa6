#!/bin/sh
# Benchmark: loading a large behaviour profile (bench/gen/bigprofile.py:
# 300 images, 13,500 entries, about 880 KB) with `runtime replay --profile`
# of a one-line event file, BEFORE and AFTER side by side: hyperfine
# (-N, >= 5 runs) and, when valgrind is installed, the instruction counts
# of the whole command and of mm_profile_load_string (callgrind; needs a
# build with symbols, e.g. a release build).  Use release builds
# (meson setup build-rel --buildtype=release).
#
# Usage: bench/profile_load.sh BEFORE/mamori AFTER/mamori [runs]
set -eu
B=$(readlink -f "$1")
A=$(readlink -f "$2")
RUNS=${3:-15}
HERE=$(readlink -f "$(dirname "$0")/..")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$HERE/bench/gen/bigprofile.py" "$out/bigprof.yaml"
echo '{"evt.type":"execve"}' > "$out/ev.jsonl"
cd "$out"
for m in "$B" "$A"; do
    "$m" runtime replay ev.jsonl --profile bigprof.yaml > /dev/null
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 3 --runs "$RUNS" \
    -n before "$B runtime replay ev.jsonl --profile bigprof.yaml" \
    -n after "$A runtime replay ev.jsonl --profile bigprof.yaml"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v valgrind > /dev/null && command -v callgrind_annotate > /dev/null; then
    for w in before after; do
        m=$B
        [ $w = after ] && m=$A
        valgrind --tool=callgrind --dump-instr=no --callgrind-out-file="cg.$w" \
            "$m" runtime replay ev.jsonl --profile bigprof.yaml > /dev/null 2>&1
        tot=$(sed -n 's/^totals: //p' "cg.$w")
        load=$(callgrind_annotate --inclusive=yes "cg.$w" 2>/dev/null |
               awk '/:mm_profile_load_string /{print $1; exit}')
        echo "$w: instructions $tot, mm_profile_load_string $load"
    done
fi
