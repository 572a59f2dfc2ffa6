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
python3 - "$out" <<'PY'
import json, sqlite3, sys, uuid
out = sys.argv[1]
db = sqlite3.connect(out + "/vuln.db")
rows = db.execute("select distinct ecosystem, package from affected where ecosystem in ('PyPI','Go') limit 500").fetchall()
comps = []
for i, (eco, pkg) in enumerate(rows):
    if eco == "PyPI":
        purl, ver = "pkg:pypi/%s@0.0.1" % pkg, "0.0.1"
    elif pkg == "stdlib":
        purl, ver = "pkg:golang/stdlib@v1.19.8", "v1.19.8"
    else:
        ns, _, name = pkg.rpartition("/")
        purl, ver = "pkg:golang/%s/%s@v0.0.1" % (ns, name), "v0.0.1"
    comps.append({"type": "library", "bom-ref": "r%d" % i, "name": pkg, "version": ver, "purl": purl})
json.dump({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
           "serialNumber": "urn:uuid:" + str(uuid.uuid4()), "components": comps},
          open(out + "/sbom500.json", "w"))
PY
echo "== match: 500 packages, database open included (whole mamori sbom command)"
hyperfine --warmup 3 --runs 20 -N \
    "$MAMORI sbom $out/sbom500.json --db-path $out/vuln.db --format json -q -o /dev/null"
