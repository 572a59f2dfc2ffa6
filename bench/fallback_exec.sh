#!/bin/sh
# Benchmark: what the fallback sensor's exec hold (FAN_OPEN_EXEC_PERM,
# lib/sensor/execperm.c) costs each exec.  hyperfine (5 runs) times a loop
# of N execs of /bin/true with no agent, with `mamori agent --source
# fallback` and with `--source bpf` (the peer: the eBPF sensor reads the
# same details in the kernel).  The difference divided by N is the time
# added per exec.  Needs root.  Prints hyperfine's table for
# docs/benchmarks.md.
#
# Usage: bench/fallback_exec.sh [path/to/mamori] [N]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
N=${2:-500}
out=$(mktemp -d)
apid=""
trap 'if [ -n "$apid" ]; then kill "$apid" 2>/dev/null || true; fi; rm -rf "$out"' EXIT
printf -- '- rule: never\n  desc: x\n  condition: evt.type = execve and proc.name = nonexistent-x\n  output: x\n  priority: DEBUG\n' >"$out/r.yaml"
printf 'i=0; while [ $i -lt %s ]; do /bin/true; i=$((i+1)); done\n' "$N" >"$out/loop.sh"

run() { # label, then the agent's source or "none"
    if [ "$2" != none ]; then
        "$MAMORI" agent --rules "$out/r.yaml" --source "$2" >/dev/null 2>"$out/agent.err" &
        apid=$!
        until grep -q "agent: ready" "$out/agent.err"; do sleep 0.2; kill -0 "$apid"; done
    fi
    hyperfine -N --warmup 1 --runs 5 --export-markdown "$out/$1.md" "sh $out/loop.sh" >/dev/null
    if [ "$1" = none ]; then head -n 2 "$out/$1.md" | sed 's/| Command |/| agent |/'; fi
    tail -n 1 "$out/$1.md" | sed "s/^| \`[^|]*\`/| $1 ($N execs)/"
    if [ -n "$apid" ]; then
        kill -INT "$apid"; wait "$apid" || true; apid=""
    fi
}
run none none
run fallback fallback
run bpf bpf
