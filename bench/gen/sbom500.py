#!/usr/bin/env python3
"""Writes DIR/sbom500.json: a CycloneDX SBOM of 500 PyPI and Go packages
named in the vulnerability database DIR/vuln.db (made by `mamori db
import` of ../shared's Go vulndb and PyPA feeds), for the matching
benchmarks.  Usage: sbom500.py DIR (bench/vuln.sh, bench/compare.sh)"""
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
