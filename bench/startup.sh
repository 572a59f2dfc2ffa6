#!/bin/sh
# Benchmark: process start-up of the one `mamori` binary (issue 21: every
# short command, and `mamori net -r` against `tcpdump -r`, pays it).
# `mamori --version` does nothing but start, so its wall time is the
# dynamic loader mapping and relocating the shared libraries the binary
# is linked with; libopenscap and libmodsecurity are opened at first use
# (lib/util/dlopen.c), not here.  Side by side with tcpdump's start
# (`tcpdump --version`) and, when given, an older mamori binary.  Also
# prints how many libraries each maps (`ldd | wc -l`, NEEDED entries).
#
# Usage: bench/startup.sh [MAMORI] [BEFORE-MAMORI]
#   MAMORI defaults to build-rel/cli/mamori (a release build).
set -eu
HERE=$(readlink -f "$(dirname "$0")/..")
BIN=$(readlink -f "${1:-$HERE/build-rel/cli/mamori}")
BEFORE=${2:-}
command -v hyperfine >/dev/null || { echo "startup bench: hyperfine is not installed" >&2; exit 1; }
set -- "$BIN --version"
[ -n "$BEFORE" ] && set -- "$@" "$(readlink -f "$BEFORE") --version"
command -v tcpdump >/dev/null && set -- "$@" "$(command -v tcpdump) --version"
for b in "$BIN" $BEFORE; do
    printf '%s: ldd %s lines, %s NEEDED\n' "$b" "$(ldd "$b" | wc -l)" \
        "$(readelf -d "$b" | grep -c NEEDED)"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --runs "${RUNS:-30}" --warmup 3 "$@"
