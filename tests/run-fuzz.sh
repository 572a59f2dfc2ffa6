#!/bin/sh
# Runs every libFuzzer target of a fuzz build for FUZZ_SECONDS each, seeded
# from tests/fuzz/corpus/<target>/ (copied to a scratch folder, so the seeds
# in the repository never change), and prints PASS/FAIL per target.  A crash
# leaves its reproducer in the scratch folder, whose path is printed.
set -u
FB=${FUZZ_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-8}
scratch=$(mktemp -d /tmp/mamori-fuzz.XXXXXX)
status=0
for bin in "$FB"/tests/fuzz/fuzz_*; do
    [ -f "$bin" ] && [ -x "$bin" ] || continue
    name=$(basename "$bin")
    corpus="$scratch/$name"
    mkdir -p "$corpus"
    [ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$corpus/"
    if (cd "$scratch" && ASAN_OPTIONS=detect_leaks=1 "$OLDPWD/$bin" -max_total_time="$SECS" \
            -rss_limit_mb=2048 -timeout=10 -print_final_stats=0 "$corpus" >"$scratch/$name.log" 2>&1); then
        runs=$(grep -o 'Done [0-9]* runs' "$scratch/$name.log" | tail -1)
        echo "PASS $name (${runs:-ran} in ${SECS}s)"
    else
        echo "FAIL $name: see $scratch/$name.log"
        # the lines that say why, indented so the totals do not count them
        grep -E "ERROR|SUMMARY|Test unit written|#[0-9]+ 0x|==[0-9]+==|out-of-memory|timeout|deadly" "$scratch/$name.log" | head -40 | sed 's/^/    | /'
        tail -5 "$scratch/$name.log" | sed 's/^/    | /'
        status=1
    fi
done
exit $status
