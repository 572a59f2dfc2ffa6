#!/bin/sh
# Runs every test of a sanitizer build (unit and integration, through meson
# test), then a short run of every libFuzzer target, and ends with the
# totals line "N passed, N failed, N skipped".  Each test prints one
# PASS/FAIL/SKIP line per case; a test binary that crashed before saying
# so counts as one failure.
set -u
B=${1:-build-check}
OUT="$B/test-output.txt"

meson test -C "$B" --print-errorlogs --num-processes 2 >"$OUT" 2>&1
grep -E '^ *[0-9]+/[0-9]+ ' "$OUT" || true

FUZZ_LINES=""
if [ -n "${FUZZ_BUILD:-}" ] && [ -d "${FUZZ_BUILD}/tests/fuzz" ]; then
    FUZZ_LINES="$B/fuzz-output.txt"
    FUZZ_BUILD=$FUZZ_BUILD FUZZ_SECONDS=${FUZZ_SECONDS:-8} sh tests/run-fuzz.sh >"$FUZZ_LINES" 2>&1
    grep -E '^(PASS|FAIL|SKIP) |^    \| ' "$FUZZ_LINES" || true
fi

python3 - "$B/meson-logs/testlog.json" "$FUZZ_LINES" <<'PY'
import json, sys, re
passed = failed = skipped = 0
failures = []
def count_lines(text, name):
    global passed, failed, skipped
    p = f = s = 0
    for line in text.splitlines():
        if line.startswith("PASS "): p += 1
        elif line.startswith("FAIL "): f += 1; failures.append(line)
        elif line.startswith("SKIP "): s += 1; print(line)
    passed += p; failed += f; skipped += s
    return p, f, s
with open(sys.argv[1]) as fh:
    for line in fh:
        t = json.loads(line)
        p, f, s = count_lines(t.get("stdout") or "", t["name"])
        res = t.get("result")
        if res in ("FAIL", "TIMEOUT", "ERROR", "UNEXPECTEDPASS") and f == 0:
            failed += 1; failures.append(f"FAIL {t['name']} ({res}, no case reported)")
        elif res == "OK" and p + f + s == 0:
            passed += 1
        elif res == "SKIP" and p + f + s == 0:
            skipped += 1; print(f"SKIP {t['name']}")
if len(sys.argv) > 2 and sys.argv[2]:
    with open(sys.argv[2]) as fh:
        count_lines(fh.read(), "fuzz")
for f in failures:
    print(f)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
PY
