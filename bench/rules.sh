#!/bin/sh
# Benchmark: the runtime rule engine with the full upstream stable Falco
# rules (../shared/testdata/falco/falco_rules.yaml) loaded.
#  1. rule throughput on already-decoded events: 2000 distinct events (a
#     syscall mix like the sensor's: opens of varied files, execs with
#     ancestors, connects, sockets, dup2, clones, exits, reads/writes;
#     self-contained, each decoded once) evaluated in a loop on one core;
#  2. JSON-lines replay throughput: the same events parsed from the file and
#     evaluated (`mamori runtime replay` cost per line).
# Use a release build (meson setup build-rel --buildtype=release).  Prints
# the lines for docs/benchmarks.md.
#
# Usage: bench/rules.sh [path/to/mamori] [seconds]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
SECS=${2:-6}
HERE=$(readlink -f "$(dirname "$0")/..")
RULES=${MAMORI_FALCO_RULES:-$HERE/../shared/testdata/falco/falco_rules.yaml}
[ -f "$RULES" ] || { echo "no rules file at $RULES" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 "$HERE/bench/gen/events.py" "$out/mix.jsonl"
"$MAMORI" runtime bench "$out/mix.jsonl" --rules "$RULES" --seconds "$SECS"
