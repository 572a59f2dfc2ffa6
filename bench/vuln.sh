#!/bin/sh
# Benchmark (absolute figures: no peer scanner can be installed here):
#  1. import of the Go vulndb and PyPA feeds from ../shared (advisories/s);
#  2. matching a 500-package inventory (a CycloneDX SBOM of PyPI and Go
#     packages named in those feeds), database open included, through
#     `mamori sbom`: the whole command, so process start and SBOM parsing
#     count too.
# Usage: bench/vuln.sh [path/to/mamori]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
SHARED=${MAMORI_SHARED_ROOT:-$(dirname "$0")/../../shared}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== import: Go vulndb all.zip + PyPA (OSV YAML)"
for i in 1 2 3; do
    rm -f "$out/vuln.db"
    /usr/bin/time -f "   %e s wall, %U s user, %S s sys" "$MAMORI" db import -q \
        --db-path "$out/vuln.db" "$SHARED/vulndata/osv-go/all.zip" "$SHARED/vulndata/pypa" 2>&1 |
        grep -E "imported|wall"
done
python3 "$(dirname "$0")/gen/sbom500.py" "$out"
echo "== match: 500 packages, database open included (whole mamori sbom command)"
hyperfine --warmup 3 --runs 20 -N \
    "$MAMORI sbom $out/sbom500.json --db-path $out/vuln.db --format json -q -o /dev/null"
