#!/usr/bin/env python3
"""test_vuln - vulnerability matching end to end through the `mamori` command.

1. The real Go vulnerability database (../shared/vulndata/osv-go/all.zip)
   imported; a root filesystem holding a copy of /usr/bin/skopeo (a Debian
   Go program): every stdlib finding's range really contains the binary's
   toolchain version (from `go version`), and every advisory that contains
   it is reported - checked by an independent SemVer evaluation here.
2. The PyPA advisory database imported: a dist-info of a vulnerable Jinja2
   gets exactly the advisories whose affected-version lists name it; the
   fixed version does not get the fixed advisory.
3. The mmdebstrap image (scripts/build-test-image.sh) with a Debian tracker
   feed this test writes from the versions actually installed in it, so that
   it survives point releases: fixed above the installed version (reported,
   once per binary of the source), fixed at or below (not), a backport fixed
   in bookworm at the installed version while sid fixed it later (not), open
   (reported without a fix, dropped by --ignore-unfixed).  Plus SARIF
   structure, --exit-code, --severity, the ignore file, and `mamori sbom` of
   our own CycloneDX and SPDX output giving the same findings.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, check, eq, skip, source_root  # noqa: E402

SHARED = os.environ.get("MAMORI_SHARED") or os.path.join(
    source_root(), "..", "shared", "testdata")
VULNDATA = os.path.join(SHARED, "..", "vulndata")
CACHE = os.environ.get("MAMORI_TEST_IMAGES", "/var/cache/mamori-test")


# --- an independent SemVer 2.0 ordering (Go vulndb ranges) ------------------

def semver_key(v):
    v = v.lstrip("v")
    core, _, pre = v.partition("-")
    nums = [int(x) for x in core.split(".")]
    while len(nums) < 3:
        nums.append(0)
    if not pre:
        return (nums, 1, [])
    ids = []
    for p in pre.split("."):
        ids.append((0, int(p), "") if p.isdigit() else (1, 0, p))
    return (nums, 0, ids)


def osv_affected(events, v, key):
    """OSV evaluation, the spec's way: sort the events, walk them."""
    def ev_ver(e):
        (k, x), = e.items()
        return (k, x)
    evs = [ev_ver(e) for e in events]
    evs.sort(key=lambda kx: key("0.0.0-0") if kx[1] == "0" else key(kx[1]))
    affected = False
    for k, x in evs:
        if k == "introduced" and (x == "0" or key(v) >= key(x)):
            affected = True
        elif k == "fixed" and key(v) >= key(x):
            affected = False
        elif k == "last_affected" and key(v) > key(x):
            affected = False
    return affected


def findings(rep, kind="vulnerability"):
    return [f for f in rep.get("findings", []) if f.get("kind") == kind]


def pairs(rep):
    return sorted((f["id"], f["location"].get("package")) for f in findings(rep))


def exit_status(run, args):
    """Runs mamori and returns its exit status alone: Runner.run counts any
    status above 2 as a crash, but --exit-code N is one on purpose."""
    p = subprocess.run([run.bin] + list(args), cwd=run.cwd, env=run.env(),
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
    if p.returncode < 0 or p.returncode > 125:
        raise Fail("mamori %s: killed (rc=%d): %s" % (" ".join(args), p.returncode,
                                                      p.stderr.decode()[-2000:]))
    return p.returncode


class T:
    def __init__(self):
        self.run = Runner()
        self.deb = None    # (report, expectations) of the image case

    # --- 1: Go stdlib of a Debian Go binary ---------------------------------
    def go_stdlib_skopeo(self):
        z = os.path.join(VULNDATA, "osv-go", "all.zip")
        if not os.path.exists(z):
            skip("no %s" % z)
        if not os.path.exists("/usr/bin/skopeo") or not shutil.which("go"):
            skip("/usr/bin/skopeo or go not installed")
        gv = subprocess.run(["go", "version", "/usr/bin/skopeo"], stdout=subprocess.PIPE,
                            check=True).stdout.decode().strip()
        m = re.search(r": go(\d+\.\d+(?:\.\d+)?)", gv)
        check(m, "cannot read the toolchain version from %r" % gv)
        tv = m.group(1)
        db = os.path.join(self.run.root, "go.db")
        r = self.run.run(["db", "import", "--db-path", db, "-q", z])
        eq(r.rc, 0, "db import rc (%s)" % r.describe())
        root = os.path.join(self.run.root, "skopeo-root")
        os.makedirs(os.path.join(root, "usr", "bin"))
        shutil.copy("/usr/bin/skopeo", os.path.join(root, "usr", "bin", "skopeo"))
        rep = self.run.scan_json(["rootfs", root, "--db-path", db, "--no-store"])
        got = {}
        for f in findings(rep):
            eq(f["location"].get("package"), "stdlib@v" + tv, "package of %s" % f["id"])
            eq(f["location"].get("path"), "/usr/bin/skopeo", "path of %s" % f["id"])
            eq(f["section"], "3.1.1", "section")
            got[f["id"]] = f
        # the oracle: every stdlib advisory whose SEMVER ranges hold tv
        want = {}
        with zipfile.ZipFile(z) as zf:
            for name in zf.namelist():
                rec = json.loads(zf.read(name))
                if rec.get("withdrawn"):
                    continue
                for a in rec.get("affected", []):
                    if a["package"]["name"] != "stdlib":
                        continue
                    for rg in a.get("ranges", []):
                        if rg["type"] == "SEMVER" and osv_affected(rg["events"], tv, semver_key):
                            fixes = [e["fixed"] for e in rg["events"] if "fixed" in e
                                     and semver_key(e["fixed"]) > semver_key(tv)]
                            want[rec["id"]] = min(fixes, key=semver_key) if fixes else None
        check(want, "the feed has no advisory for Go %s: pick another binary" % tv)
        eq(sorted(got), sorted(want), "stdlib advisories of go%s" % tv)
        for i, fix in want.items():
            if fix:
                eq(got[i].get("remediation"), "upgrade stdlib to %s" % fix,
                   "remediation of %s" % i)
        print("  go%s: %d stdlib advisories" % (tv, len(got)), flush=True)

    # --- 2: PyPA --------------------------------------------------------------
    def pypa_dist_info(self):
        feed = os.path.join(VULNDATA, "pypa")
        if not os.path.isdir(os.path.join(feed, "jinja2")):
            skip("no %s/jinja2" % feed)
        try:
            import yaml
        except ImportError:
            skip("python3-yaml is not installed (the oracle reads the YAML feed)")
        recs = []
        for n in sorted(os.listdir(os.path.join(feed, "jinja2"))):
            with open(os.path.join(feed, "jinja2", n)) as f:
                recs.append(yaml.safe_load(f))

        def expected(v):
            out = set()
            for rec in recs:
                if rec.get("withdrawn"):
                    continue
                for a in rec.get("affected", []):
                    if a["package"]["name"].lower() == "jinja2" and \
                            v in [str(x) for x in a.get("versions", [])]:
                        out.add(rec["id"])
            return out
        db = os.path.join(self.run.root, "pypa.db")
        r = self.run.run(["db", "import", "--db-path", db, "-q", feed])
        eq(r.rc, 0, "db import rc (%s)" % r.describe())
        got = {}
        for v in ("2.8", "2.8.1", "3.1.6"):
            root = os.path.join(self.run.root, "py-" + v)
            d = os.path.join(root, "usr", "lib", "python3", "dist-packages",
                             "Jinja2-%s.dist-info" % v)
            os.makedirs(d)
            with open(os.path.join(d, "METADATA"), "w") as f:
                f.write("Metadata-Version: 2.1\nName: Jinja2\nVersion: %s\n" % v)
            rep = self.run.scan_json(["rootfs", root, "--db-path", db, "--no-store"])
            got[v] = {f["id"] for f in findings(rep)}
            eq(sorted(got[v]), sorted(expected(v)), "advisories of Jinja2 %s" % v)
        check("PYSEC-2019-220" in got["2.8"], "Jinja2 2.8: PYSEC-2019-220 missing")
        check("PYSEC-2019-220" not in got["2.8.1"], "Jinja2 2.8.1 is fixed (2.8.1)")

    # --- 3: the Debian image --------------------------------------------------
    def image(self):
        oci = os.path.join(CACHE, "oci")
        if not os.path.isdir(oci):
            script = os.path.join(source_root(), "scripts", "build-test-image.sh")
            if os.geteuid() != 0 or not shutil.which("mmdebstrap"):
                skip("no test image at %s and it cannot be built here" % oci)
            p = subprocess.run(["sh", script, CACHE], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=1200)
            if p.returncode != 0 or not os.path.isdir(oci):
                skip("build-test-image.sh failed (rc=%d)" % p.returncode)
        return oci + ":app"

    def debian_image(self):
        img = self.image()
        inv = self.run.scan_json(["image", "--input", img, "--scanners", "inventory",
                                  "--no-store"])
        eq((inv["os"] or {}).get("id") or (inv["os"] or {}).get("family"), "debian", "os")
        dpkg = [p for p in inv["packages"] if p["type"] == "dpkg"]
        by_src = {}
        for p in dpkg:
            src = p.get("srcName") or p["name"]
            by_src.setdefault(src, []).append(p)
        # deterministic picks: the source with most binaries first
        srcs = sorted(by_src, key=lambda s: (-len(by_src[s]), s))
        check(len(srcs) >= 5, "too few source packages: %d" % len(srcs))

        def srcver(s):
            p = by_src[s][0]
            return p.get("srcVersion") or p["version"]
        above, atv, below, backport, open_ = srcs[0], srcs[1], srcs[2], srcs[3], srcs[4]
        feed = {
            above: {"CVE-2099-9001": {"description": "fixed in bookworm above the installed version",
                    "releases": {"bookworm": {"status": "resolved", "urgency": "high",
                                              "fixed_version": srcver(above) + "+deb12u99"}}}},
            atv: {"CVE-2099-9002": {"description": "fixed at the installed version",
                  "releases": {"bookworm": {"status": "resolved", "urgency": "high",
                                            "fixed_version": srcver(atv)}}}},
            below: {"CVE-2099-9003": {"description": "fixed below the installed version",
                    "releases": {"bookworm": {"status": "resolved", "urgency": "medium",
                                              "fixed_version": srcver(below) + "~"}}}},
            backport: {"CVE-2099-9004": {"description": "backport: bookworm fixed at the "
                                         "installed version, sid much later",
                       "releases": {
                           "bookworm": {"status": "resolved", "urgency": "high",
                                        "fixed_version": srcver(backport)},
                           "sid": {"status": "resolved", "urgency": "high",
                                   "fixed_version": "999:1.0-1"}}}},
            open_: {"CVE-2099-9005": {"description": "open in bookworm",
                    "releases": {"bookworm": {"status": "open", "urgency": "low"}}}},
        }
        fx = os.path.join(self.run.root, "debian-tracker.json")
        with open(fx, "w") as f:
            json.dump(feed, f)
        db = os.path.join(self.run.root, "deb.db")
        r = self.run.run(["db", "import", "--db-path", db, "-q", fx])
        eq(r.rc, 0, "db import rc (%s)" % r.describe())
        want = sorted([("CVE-2099-9001", "%s@%s" % (p["name"], p["version"])) for p in by_src[above]] +
                      [("CVE-2099-9005", "%s@%s" % (p["name"], p["version"])) for p in by_src[open_]])
        rep = self.run.scan_json(["image", "--input", img, "--db-path", db, "--no-store"])
        eq(pairs(rep), want, "findings (every finding and non-finding)")
        layers = rep["layers"]
        for f in findings(rep):
            loc = f["location"]
            p = next(p for p in dpkg if "%s@%s" % (p["name"], p["version"]) == loc["package"])
            eq(loc.get("layer"), p["layer"], "layer of %s" % loc["package"])
            eq(loc.get("layerDigest"), p["layerDigest"], "layer digest of %s" % loc["package"])
            eq(loc.get("instruction"), layers[p["layer"]].get("createdBy"),
               "instruction of %s" % loc["package"])
            if f["id"] == "CVE-2099-9001":
                eq(f["severity"], "HIGH", "severity of CVE-2099-9001")
                eq(f.get("remediation"), "upgrade %s to %s+deb12u99" % (p["name"], srcver(above)),
                   "remediation")
            else:
                eq(f["severity"], "LOW", "severity of CVE-2099-9005")
                check(not f.get("remediation"), "an open issue has no remediation")
                check("no fix" in f.get("evidence", ""), "evidence says no fix")
        eq(rep["summary"]["findings"]["HIGH"] >= len(by_src[above]), True, "summary HIGH")
        self.deb = (img, db, want, by_src, above, open_)

    def need_deb(self):
        if not self.deb:
            skip("debian-image failed or skipped")
        return self.deb

    def ignore_unfixed(self):
        img, db, want, by_src, above, open_ = self.need_deb()
        rep = self.run.scan_json(["image", "--input", img, "--db-path", db, "--no-store",
                                  "--ignore-unfixed"])
        eq(pairs(rep), [w for w in want if w[0] == "CVE-2099-9001"], "after --ignore-unfixed")

    def exit_code_and_severity(self):
        img, db, want, by_src, above, open_ = self.need_deb()
        base = ["image", "--input", img, "--db-path", db, "--no-store", "-q", "--format", "json"]
        eq(exit_status(self.run, base + ["--exit-code", "5"]), 5, "--exit-code 5 with findings")
        r = self.run.run(base + ["--exit-code", "5", "--severity", "CRITICAL",
                                 "--scanners", "vuln"])
        eq(r.rc, 0, "--exit-code 5 with every finding filtered (%s)" % r.describe())
        eq(findings(r.json), [], "--severity CRITICAL leaves nothing")
        r = self.run.run(base + ["--severity", "LOW", "--scanners", "vuln"])
        eq(r.rc, 0, "rc")
        eq(pairs(r.json), [w for w in want if w[0] == "CVE-2099-9005"], "--severity LOW")
        r = self.run.run(base + ["--exit-code", "2"])
        eq(r.rc, 2, "--exit-code 2 is refused")
        check("reserved" in r.err, "message says 2 is reserved: %r" % r.err)

    def ignorefile(self):
        img, db, want, by_src, above, open_ = self.need_deb()
        ign = os.path.join(self.run.cwd, ".mamoriignore")
        with open(ign, "w") as f:
            f.write("# accepted\nCVE-2099-9005 exp:2999-01-01 # no exposure\n"
                    "CVE-2099-9001 exp:2001-01-01 # long expired\n")
        try:
            r = self.run.run(["image", "--input", img, "--db-path", db, "--no-store",
                              "--format", "json"])
            eq(r.rc, 0, "rc (%s)" % r.describe())
            eq(pairs(r.json), [w for w in want if w[0] == "CVE-2099-9001"],
               "default ./.mamoriignore applied, expired entry not")
            check(".mamoriignore:3: ignore entry CVE-2099-9001 expired on 2001-01-01" in r.err,
                  "expired entry warned about: %r" % r.err[-2000:])
        finally:
            os.unlink(ign)
        other = os.path.join(self.run.root, "trivyignore")
        with open(other, "w") as f:
            f.write("CVE-2099-9001\n")
        rep = self.run.scan_json(["image", "--input", img, "--db-path", db, "--no-store",
                                  "--ignorefile", other])
        eq(pairs(rep), [w for w in want if w[0] == "CVE-2099-9005"], "--ignorefile")

    def sarif(self):
        img, db, want, by_src, above, open_ = self.need_deb()
        r = self.run.run(["image", "--input", img, "--db-path", db, "--no-store",
                          "--format", "sarif", "--scanners", "vuln"])
        eq(r.rc, 0, "rc (%s)" % r.describe())
        d = r.json
        eq(d.get("version"), "2.1.0", "version")
        check("sarif" in d.get("$schema", ""), "$schema")
        eq(len(d["runs"]), 1, "runs")
        run = d["runs"][0]
        drv = run["tool"]["driver"]
        eq(drv["name"], "mamori", "driver name")
        check(drv.get("version") and drv.get("informationUri", "").startswith("https://"),
              "driver version / informationUri")
        rules = drv["rules"]
        ids = [ru["id"] for ru in rules]
        eq(sorted(ids), ["CVE-2099-9001", "CVE-2099-9005"], "one rule per id")
        for ru in rules:
            check(ru["shortDescription"]["text"], "rule shortDescription")
            sev = float(ru["properties"]["security-severity"])
            check(0 <= sev <= 10, "security-severity %r" % sev)
        eq(float(rules[ids.index("CVE-2099-9001")]["properties"]["security-severity"]),
           8.0, "HIGH -> 8.0")
        res = run["results"]
        eq(len(res), len(want), "results")
        for x in res:
            check(x["ruleId"] in ids, "ruleId %s has a rule" % x["ruleId"])
            eq(ids[x["ruleIndex"]], x["ruleId"], "ruleIndex")
            check(x["level"] in ("error", "warning", "note"), "level %r" % x["level"])
            eq(x["level"], "error" if x["ruleId"] == "CVE-2099-9001" else "note", "level")
            check(x["message"]["text"], "message")
            uri = x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            eq(uri, "var/lib/dpkg/status", "artifact uri")

    def sbom_roundtrip(self):
        img, db, want, by_src, above, open_ = self.need_deb()
        for fmt in ("cyclonedx", "spdx-json"):
            out = os.path.join(self.run.root, "sbom." + fmt)
            r = self.run.run(["image", "--input", img, "--no-store", "--scanners", "inventory",
                              "--format", fmt, "-o", out])
            eq(r.rc, 0, "%s rc (%s)" % (fmt, r.describe()))
            r = self.run.run(["sbom", out, "--db-path", db, "--format", "json"])
            eq(r.rc, 0, "sbom %s rc (%s)" % (fmt, r.describe()))
            eq(pairs(r.json), want, "findings of `mamori sbom` of our %s" % fmt)
            eq(exit_status(self.run, ["sbom", out, "--db-path", db, "-q", "--exit-code", "3"]),
               3, "sbom --exit-code 3")

    # --- the command around it -------------------------------------------------
    def no_database(self):
        root = os.path.join(self.run.root, "empty-root")
        os.makedirs(os.path.join(root, "etc"), exist_ok=True)
        missing = os.path.join(self.run.root, "nope", "vuln.db")
        r = self.run.run(["rootfs", root, "--db-path", missing, "--no-store",
                          "--format", "json"])
        eq(r.rc, 0, "rc without a database (%s)" % r.describe())
        check("vulnerability scanning skipped: no database at %s (run `mamori db update` "
              "or `mamori db import`)" % missing in r.err, "warning: %r" % r.err)
        r = self.run.run(["rootfs", root, "--db-path", missing, "--no-store",
                          "--scanners", "vuln"])
        eq(r.rc, 2, "--scanners vuln without a database is an error")
        r = self.run.run(["sbom", "/dev/null", "--db-path", missing])
        eq(r.rc, 2, "sbom of an empty file")

    def db_info(self):
        z = os.path.join(VULNDATA, "osv-go", "all.zip")
        if not os.path.exists(z):
            skip("no %s" % z)
        db = os.path.join(self.run.root, "go.db")
        if not os.path.exists(db):
            eq(self.run.run(["db", "import", "--db-path", db, "-q", z]).rc, 0, "import")
        r = self.run.run(["db", "info", "--db-path", db])
        eq(r.rc, 0, "db info rc (%s)" % r.describe())
        for s in ("Advisories:", "Sources: 1", "osv-zip", "Ecosystems: 1", "  Go"):
            check(s in r.out, "db info lacks %r: %r" % (s, r.out))
        r = self.run.run(["db", "info", "--db-path", db, "--json"])
        d = r.json
        check(d["advisories"] > 4000, "advisories %r" % d["advisories"])
        eq(d["ecosystems"], ["Go"], "ecosystems")
        r = self.run.run(["db", "import", "--db-path", db, z])
        check(re.search(r"imported \d+ advisories", r.err), "summary line: %r" % r.err[-500:])
        r = self.run.run(["db", "frobnicate"])
        eq(r.rc, 2, "unknown db subcommand")


def main():
    t = T()
    s = Suite()
    try:
        for name in ("go_stdlib_skopeo", "pypa_dist_info", "debian_image", "ignore_unfixed",
                     "exit_code_and_severity", "ignorefile", "sarif", "sbom_roundtrip",
                     "no_database", "db_info"):
            s.case(name.replace("_", "-"), getattr(t, name))
    finally:
        t.run.close()
    s.finish()


if __name__ == "__main__":
    main()
