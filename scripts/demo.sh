#!/bin/sh
# make demo: a real scan with the freshly built command.  It scans this
# machine's own root filesystem (kernel pseudo filesystems are skipped),
# records the scan in the SQLite store (~/.cache/mamori/mamori.db, or
# $MAMORI_CACHE_DIR) and prints the report; then, if the test image of
# scripts/build-test-image.sh is already cached, scans it as an image too
# and runs the example gate policy on it.
set -eu
MAMORI=${1:-build/cli/mamori}
echo "== mamori rootfs / (this host)"
"$MAMORI" rootfs / --format table
if [ -d /var/cache/mamori-test/oci ]; then
    echo
    echo "== mamori image --input /var/cache/mamori-test/oci:app"
    "$MAMORI" image --input /var/cache/mamori-test/oci:app --format table
    echo
    echo "== mamori policy check --policy data/policy-example.yaml (the gate, on that scan)"
    # exit 1 is a deny: the demo shows the reasons and goes on
    "$MAMORI" policy check --policy "$(dirname "$0")/../data/policy-example.yaml" \
        /var/cache/mamori-test/oci:app || true
fi
db="${MAMORI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mamori}/mamori.db"
echo
echo "Scans recorded in $db:"
"$MAMORI" history 2>/dev/null || sqlite3 "$db" \
    "select datetime(scanned_at,'unixepoch'), target, npackages from scans order by id desc limit 5" 2>/dev/null || true
