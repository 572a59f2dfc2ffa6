#!/usr/bin/env python3
"""test_regscan - `mamori registry scan` against a real registry (SP 800-190
§3.2.2: registry inventory, rescans, stale images).

A plain-HTTP Debian docker-registry (regkit.Registry) on 127.0.0.1 holds:

  team/app     1.0.0 -> A, 1.2.0 -> B, latest -> B   (latest decides: B)
  team/semver  1.0.0 -> A, 1.2.0 -> B, edge -> A     (no latest: 1.2.0 = B)
  team/pinned  1.0.0 -> A, 1.2.0 -> B, latest -> A   (latest beats SemVer: A)
  team/old     latest -> C
  many/r000 .. many/r104   one tiny image each, uploaded through the HTTP
                           API from here (a config, one small layer, a
                           manifest), so that the catalog needs more than
                           one page (the registry pages at 100)

A, B and C are the fixture image (scripts/build-test-image.sh) re-configured
with umoci: A created 10 days ago, B 1 day ago, C in 2015.  A hand-written
OSV record makes the fixture's Python `requests` 2.31.0 vulnerable with a
fix, so every fixture tag has fixable vulnerabilities.

Asserted: every repository listed (over the catalog's pages); the first run
scans each distinct image once; the stale reasons of every tag exactly (not
the current release, older than --max-age, fixable vulnerabilities); the
JSON fields; the second run skips everything (counted); --force rescans; a
new database version rescans; a multi-platform index is keyed by the
platform's manifest (skipped on the next run, --platform picks another);
one broken image (an index without the
platform) is listed with its error while the others are reported, exit 2;
--exit-code; the table; bad targets.
"""

import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, check, eq, skip  # noqa: E402
import regkit  # noqa: E402

NMANY = 105
MAX_AGE = 30
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# the tags every run sees, and the image each points to
FIXTURE_TAGS = {
    "team/app": {"1.0.0": "A", "1.2.0": "B", "latest": "B"},
    "team/semver": {"1.0.0": "A", "1.2.0": "B", "edge": "A"},
    "team/pinned": {"1.0.0": "A", "1.2.0": "B", "latest": "A"},
    "team/old": {"latest": "C"},
}
NC, OLD, FIX = "not-current-release", "older-than-max-age", "fixable-vulnerabilities"
WANT_STALE = {
    ("team/app", "1.0.0"): [NC, FIX],
    ("team/app", "1.2.0"): [FIX],
    ("team/app", "latest"): [FIX],
    ("team/semver", "1.0.0"): [NC, FIX],
    ("team/semver", "1.2.0"): [FIX],
    ("team/semver", "edge"): [NC, FIX],
    ("team/pinned", "1.0.0"): [FIX],
    ("team/pinned", "1.2.0"): [NC, FIX],
    ("team/pinned", "latest"): [FIX],
    ("team/old", "latest"): [OLD, FIX],
}
WANT_CURRENT = {"team/app": ("latest", "B", "latest"),
                "team/semver": ("1.2.0", "B", "semver"),
                "team/pinned": ("latest", "A", "latest"),
                "team/old": ("latest", "C", "latest")}
REQ_ADVISORY = {
    "schema_version": "1.4.0",
    "id": "MM-TEST-REGSCAN-1",
    "modified": "2024-05-20T00:00:00Z",
    "summary": "test advisory for requests (mamori registry scan test)",
    "affected": [{
        "package": {"ecosystem": "PyPI", "name": "requests"},
        "ranges": [{"type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}],
    }],
}


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def tiny_image(i, created):
    """(layer bytes, config bytes, manifest bytes) of a one-file image."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        data = ("tiny image %d\n" % i).encode()
        ti = tarfile.TarInfo("srv/hello.txt")
        ti.size = len(data)
        ti.mtime = 1700000000
        tf.addfile(ti, io.BytesIO(data))
    tar = raw.getvalue()
    layer = gzip.compress(tar, mtime=0)
    config = json.dumps({
        "created": created, "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/bin/true"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(tar).hexdigest()]},
        "history": [{"created": created, "created_by": "test layer %d" % i}],
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": regkit.OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": OCI_LAYER, "size": len(layer),
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest()}],
    }).encode()
    return layer, config, manifest


def put_blob(reg, repo, data):
    st, hd, body = reg.request("POST", "/v2/%s/blobs/uploads/" % repo)
    if st != 202:
        raise Fail("POST upload %s: %d %r" % (repo, st, body[:200]))
    loc = hd["location"]
    if loc.startswith("http"):
        loc = "/" + loc.split("/", 3)[3]
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    loc += ("&" if "?" in loc else "?") + "digest=" + digest
    st, _, body = reg.request("PUT", loc, body=data,
                              headers={"Content-Type": "application/octet-stream",
                                       "Content-Length": str(len(data))})
    if st != 201:
        raise Fail("PUT blob %s: %d %r" % (repo, st, body[:200]))
    return digest


def put_manifest(reg, repo, ref, body, media_type=regkit.OCI_MANIFEST):
    st, _, resp = reg.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                              headers={"Content-Type": media_type,
                                       "Content-Length": str(len(body))})
    if st != 201:
        raise Fail("PUT manifest %s:%s: %d %r" % (repo, ref, st, resp[:300]))
    return "sha256:" + hashlib.sha256(body).hexdigest()


class T:
    def __init__(self):
        self.run = Runner()
        self.reg = None
        self.ready = False
        self.first = self.second = None

    def close(self):
        if self.reg:
            self.reg.stop()
        self.run.close()

    # --- set-up -------------------------------------------------------------
    def setup(self):
        miss = regkit.missing_tools(regkit.REGISTRY_BIN, "skopeo", "umoci")
        if miss:
            skip("not installed: " + ", ".join(miss))
        try:
            src = regkit.fixture_layout()
        except regkit.KitError as e:
            skip(str(e))
        self.reg = regkit.Registry("plain").start()
        host = self.reg.host
        now = time.time()
        lay = os.path.join(self.run.root, "layout")
        try:
            shutil.copytree(src, lay, copy_function=os.link)
        except OSError:
            shutil.rmtree(lay, ignore_errors=True)
            shutil.copytree(src, lay)
        created = {"A": rfc3339(now - 10 * 86400), "B": rfc3339(now - 86400),
                   "C": "2015-06-01T00:00:00Z"}
        self.created = created
        self.lay = lay
        for k, c in created.items():
            regkit.run(["umoci", "config", "--image", "%s:app" % lay, "--tag", k,
                        "--created", c, "--config.label", "mamori.test.regscan=" + k])
        self.digest = {}
        for repo, tags in FIXTURE_TAGS.items():
            for tag, img in tags.items():
                d = self.reg.push("oci:%s:%s" % (lay, img), "%s:%s" % (repo, tag))
                check(self.digest.setdefault(img, d) == d,
                      "image %s pushed twice with different digests" % img)
        # many tiny repositories, straight through the HTTP API
        tiny_created = rfc3339(now)
        for i in range(NMANY):
            repo = "many/r%03d" % i
            layer, config, manifest = tiny_image(i, tiny_created)
            put_blob(self.reg, repo, layer)
            put_blob(self.reg, repo, config)
            put_manifest(self.reg, repo, "latest", manifest)
        self.repos = sorted(list(FIXTURE_TAGS) + ["many/r%03d" % i for i in range(NMANY)])
        # a vulnerability database: requests 2.31.0 is vulnerable, fixed in 2.32.0
        self.db = os.path.join(self.run.root, "vuln.db")
        self.import_advisory(REQ_ADVISORY)
        self.ready = True

    def import_advisory(self, adv):
        p = os.path.join(self.run.root, "%s.json" % adv["id"])
        with open(p, "w") as f:
            json.dump(adv, f)
        r = self.run.run(["db", "import", "--db-path", self.db, "-q", p])
        eq(r.rc, 0, "db import (%s)" % r.describe())

    def need(self):
        if not self.ready:
            skip("set-up did not complete")

    def scan(self, target, *extra, rc=0):
        args = ["registry", "scan", "%s%s" % (self.reg.host, target),
                "--insecure-registry", self.reg.host, "--db-path", self.db,
                "--max-age", str(MAX_AGE), "--format", "json", "-q"] + list(extra)
        r = self.run.run(args, timeout=1800)
        if r.rc != rc:
            raise Fail("mamori %s: want exit %d, %s; stdout=%.300r"
                       % (" ".join(args), rc, r.describe(), r.out))
        return r.json

    @staticmethod
    def images(doc):
        """{(repo, tag): image} over the document."""
        out = {}
        for reg in doc["registries"]:
            for repo in reg["repositories"]:
                for im in repo["images"]:
                    out[(repo["name"], im["tag"])] = im
        return out

    # --- cases ----------------------------------------------------------------
    def catalog_paging(self):
        self.need()
        # the premise: the registry gives at most 100 names a page
        st, hd, body = self.reg.request("GET", "/v2/_catalog")
        eq(st, 200, "GET /v2/_catalog")
        eq(len(json.loads(body)["repositories"]), 100, "names on the registry's first page")
        check("rel=\"next\"" in hd.get("link", ""), "no Link header: %r" % hd)
        t0 = time.time()
        self.first = self.scan("")
        print("  first run: %.1fs" % (time.time() - t0), flush=True)
        regs = self.first["registries"]
        eq(len(regs), 1, "registries")
        eq(regs[0]["host"], self.reg.host, "registry host")
        names = [r["name"] for r in regs[0]["repositories"]]
        eq(names, self.repos, "repositories listed")
        eq(self.first["summary"]["repositories"], len(self.repos), "summary.repositories")

    def first_run_scans(self):
        self.need()
        if not self.first:
            skip("the first run failed")
        s = self.first["summary"]
        ntags = sum(len(t) for t in FIXTURE_TAGS.values()) + NMANY
        eq(s["tags"], ntags, "summary.tags")
        eq(s["errors"], 0, "summary.errors")
        eq(s["digests"], 3 + NMANY, "summary.digests (distinct images)")
        # each distinct image scanned once; the other tags of it skipped
        eq(s["scanned"], 3 + NMANY, "summary.scanned")
        eq(s["skipped"], ntags - 3 - NMANY, "summary.skipped")
        ims = self.images(self.first)
        for (repo, tag), im in ims.items():
            check(im["status"] in ("scanned", "skipped"), "%s:%s status %s (%s)"
                  % (repo, tag, im["status"], im["error"]))
            check(im["error"] is None, "%s:%s error %r" % (repo, tag, im["error"]))
        for repo, tags in FIXTURE_TAGS.items():
            for tag, img in tags.items():
                eq(ims[(repo, tag)]["digest"], self.digest[img], "%s:%s digest" % (repo, tag))
                # single-platform images: the manifest is the store key
                eq(ims[(repo, tag)]["manifestDigest"], self.digest[img],
                   "%s:%s manifestDigest" % (repo, tag))

    def stale_reasons(self):
        self.need()
        if not self.first:
            skip("the first run failed")
        ims = self.images(self.first)
        for key, want in WANT_STALE.items():
            eq(ims[key]["stale"], want, "stale reasons of %s:%s" % key)
        for i in range(NMANY):
            im = ims[("many/r%03d" % i, "latest")]
            eq(im["stale"], [], "stale reasons of many/r%03d" % i)
            eq(im["current"], True, "many/r%03d:latest is current" % i)
        eq(self.first["summary"]["stale"], len(WANT_STALE), "summary.stale")
        # the findings: one per reason and tag, section 3.2.2
        want = {}
        ids = {NC: "MM-REG-011", OLD: "MM-REG-010", FIX: "MM-REG-012"}
        for (repo, tag), reasons in WANT_STALE.items():
            for r in reasons:
                want.setdefault(ids[r], set()).add("%s/%s:%s@%s" % (
                    self.reg.host, repo, tag, self.digest[FIXTURE_TAGS[repo][tag]]))
        got = {}
        for f in self.first["findings"]:
            eq(f["section"], "3.2.2", "section of %s" % f["id"])
            eq(f["kind"], "trust", "kind of %s" % f["id"])
            check(f["remediation"], "%s has no remediation" % f["id"])
            got.setdefault(f["id"], set()).add(f["location"]["image"])
        eq(got, want, "stale findings by id and image")
        eq(self.first["summary"]["staleFindings"], sum(len(v) for v in WANT_STALE.values()),
           "summary.staleFindings")
        old = [f for f in self.first["findings"] if f["id"] == "MM-REG-010"][0]
        check(self.created["C"] in old["evidence"], "MM-REG-010 evidence: %r" % old["evidence"])

    def current_release(self):
        self.need()
        if not self.first:
            skip("the first run failed")
        repos = {r["name"]: r for r in self.first["registries"][0]["repositories"]}
        for name, (tag, img, rule) in WANT_CURRENT.items():
            eq(repos[name]["currentRelease"], {"tag": tag, "digest": self.digest[img],
                                               "rule": rule}, "current release of " + name)
        ims = self.images(self.first)
        for (repo, tag), im in ims.items():
            if repo in FIXTURE_TAGS:
                eq(im["current"], FIXTURE_TAGS[repo][tag] == WANT_CURRENT[repo][1],
                   "%s:%s current" % (repo, tag))

    def json_fields(self):
        self.need()
        if not self.first:
            skip("the first run failed")
        d = self.first
        for k in ("schemaVersion", "tool", "kind", "target", "scannedAt", "durationSeconds",
                  "platform", "dbVersion", "maxAgeDays", "registries", "findings",
                  "warnings", "summary"):
            check(k in d, "top-level key %s missing" % k)
        eq(d["kind"], "registry-scan", "kind")
        eq(d["target"], self.reg.host, "target")
        eq(d["maxAgeDays"], MAX_AGE, "maxAgeDays")
        eq(d["platform"], "linux/amd64", "platform")
        info = self.run.run(["db", "info", "--db-path", self.db])
        check(d["dbVersion"] and d["dbVersion"] in info.out,
              "dbVersion %r not in `db info`: %r" % (d["dbVersion"], info.out[:400]))
        ims = self.images(d)
        keys = ["tag", "digest", "manifestDigest", "status", "error", "created", "ageDays",
                "lastScanned", "dbVersion", "findings", "fixable", "current", "stale",
                "warnings"]
        now = time.time()
        for (repo, tag), im in ims.items():
            eq(list(im.keys()), keys, "keys of %s:%s" % (repo, tag))
            eq(sorted(im["findings"]), sorted(["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]),
               "severities of %s:%s" % (repo, tag))
            eq(im["dbVersion"], d["dbVersion"], "dbVersion of %s:%s" % (repo, tag))
            check(im["lastScanned"] and abs(regkit_time(im["lastScanned"]) - now) < 3600,
                  "lastScanned of %s:%s: %r" % (repo, tag, im["lastScanned"]))
        for repo, tags in FIXTURE_TAGS.items():
            for tag, img in tags.items():
                im = ims[(repo, tag)]
                eq(im["created"], self.created[img], "created of %s:%s" % (repo, tag))
                check(im["fixable"] >= 1, "%s:%s: fixable %r" % (repo, tag, im["fixable"]))
        eq(ims[("team/old", "latest")]["ageDays"] > 3000, True, "age of team/old")
        eq(ims[("team/app", "1.0.0")]["ageDays"], 10, "age of team/app:1.0.0")
        eq(ims[("many/r000", "latest")]["fixable"], 0, "fixable of a tiny image")

    def second_run_skips(self):
        self.need()
        if not self.first:
            skip("the first run failed")
        self.second = self.scan("")
        s = self.second["summary"]
        eq(s["scanned"], 0, "scanned on the second run")
        eq(s["skipped"], s["tags"], "skipped on the second run")
        eq(s["errors"], 0, "errors on the second run")
        a, b = self.images(self.first), self.images(self.second)
        eq(sorted(a), sorted(b), "tags of both runs")
        for k in a:
            for f in ("digest", "manifestDigest", "created", "stale", "findings", "fixable",
                      "dbVersion", "current"):
                eq(b[k][f], a[k][f], "%s:%s %s on the second run" % (k[0], k[1], f))
            eq(b[k]["status"], "skipped", "%s:%s status" % k)
        # the first run's scan is the one reported
        for k in a:
            if a[k]["status"] == "scanned":
                eq(b[k]["lastScanned"], a[k]["lastScanned"], "%s:%s lastScanned" % k)

    def force_rescans(self):
        self.need()
        d = self.scan("/team/app", "--force")
        s = d["summary"]
        eq((s["repositories"], s["tags"], s["scanned"], s["skipped"], s["errors"]),
           (1, 3, 2, 1, 0), "repositories, tags, scanned, skipped, errors with --force")
        eq([r["name"] for r in d["registries"][0]["repositories"]], ["team/app"], "repository")
        # and without --force it is all skipped again
        s = self.scan("/team/app")["summary"]
        eq((s["scanned"], s["skipped"]), (0, 3), "scanned, skipped after --force")

    def new_db_rescans(self):
        self.need()
        before = self.scan("/team/semver")
        eq(before["summary"]["scanned"], 0, "scanned before the database changes")
        adv = dict(REQ_ADVISORY, id="MM-TEST-REGSCAN-2", modified="2024-06-01T00:00:00Z")
        time.sleep(1.1)  # a db version is a timestamp: let it differ
        self.import_advisory(adv)
        after = self.scan("/team/semver")
        check(after["dbVersion"] != before["dbVersion"],
              "db version did not change: %r" % after["dbVersion"])
        s = after["summary"]
        eq((s["tags"], s["scanned"], s["skipped"]), (3, 2, 1),
           "tags, scanned, skipped after a database update")
        for im in self.images(after).values():
            eq(im["dbVersion"], after["dbVersion"], "dbVersion of %s" % im["tag"])
            # two advisories for requests now
            check(im["fixable"] >= 2, "%s: fixable %r" % (im["tag"], im["fixable"]))

    def broken_image_listed(self):
        self.need()
        # an index with no linux/amd64 image, beside a good tag
        repo = "team/broken"
        good = self.reg.push("oci:%s:A" % os.path.join(self.run.root, "layout"),
                             "%s:1.0.0" % repo)
        body, mt, dg = self.reg.manifest(repo, "1.0.0")
        index = json.dumps({"schemaVersion": 2, "mediaType": regkit.OCI_INDEX,
                            "manifests": [{"mediaType": mt, "digest": dg, "size": len(body),
                                           "platform": {"os": "linux",
                                                        "architecture": "riscv64"}}]}).encode()
        put_manifest(self.reg, repo, "multi", index, regkit.OCI_INDEX)
        r = self.run.run(["registry", "scan", "%s/%s" % (self.reg.host, repo),
                          "--insecure-registry", self.reg.host, "--db-path", self.db,
                          "--format", "json"], timeout=1800)
        eq(r.rc, 2, "exit status with a broken image (%s)" % r.describe())
        ims = self.images(r.json)
        eq(ims[(repo, "1.0.0")]["status"], "skipped", "the good tag (A is in the store)")
        eq(ims[(repo, "1.0.0")]["digest"], good, "the good tag's digest")
        bad = ims[(repo, "multi")]
        eq(bad["status"], "error", "the broken tag")
        check("linux/amd64" in (bad["error"] or ""), "error names the platform: %r" % bad["error"])
        eq(r.json["summary"]["errors"], 1, "summary.errors")
        last = [l for l in r.err.split("\n") if l.strip()][-1]
        check(last.startswith("mamori: ") and "multi" in last,
              "last stderr line names the failed tag: %r" % last)

    def multi_arch(self):
        self.need()
        dest = os.path.join(self.run.root, "multi")
        ids = regkit.multi_arch_layout(dest)
        self.reg.push("oci:%s:multi" % dest, "team/multi:latest", all=True)
        im = self.images(self.scan("/team/multi"))[("team/multi", "latest")]
        eq((im["status"], im["digest"], im["manifestDigest"]),
           ("scanned", ids["index"], ids["amd64"]), "status, digest, manifestDigest")
        # the store key is the platform's manifest: found again through the index
        im = self.images(self.scan("/team/multi"))[("team/multi", "latest")]
        eq((im["status"], im["manifestDigest"]), ("skipped", ids["amd64"]),
           "second run over the index")
        d = self.scan("/team/multi", "--platform", "linux/arm64")
        eq(d["platform"], "linux/arm64", "platform")
        im = self.images(d)[("team/multi", "latest")]
        eq((im["status"], im["manifestDigest"]), ("scanned", ids["arm64"]),
           "--platform linux/arm64")
        d = self.scan("/team/multi", "--platform", "linux/s390x", rc=2)
        im = self.images(d)[("team/multi", "latest")]
        eq(im["status"], "error", "no image for linux/s390x")
        check("linux/s390x" in im["error"], "error names the platform: %r" % im["error"])

    def max_images(self):
        self.need()
        d = self.scan("", "--max-images", "5")
        eq(d["summary"]["tags"], 5, "tags listed with --max-images 5")
        eq(len([w for w in d["warnings"] if "stopped at 5 tags" in w]), 1,
           "warnings about the cap: %r" % d["warnings"])
        eq(d["summary"]["repositories"], 5, "repositories listed up to the cap")

    def exit_code(self):
        self.need()
        # team/old is stale: --exit-code decides the status
        # (statuses above 2 read as crashes to the harness: 1 it is)
        self.scan("/team/old", rc=0)
        self.scan("/team/old", "--exit-code", "1", rc=1)
        r = self.run.run(["registry", "scan", self.reg.host + "/team/old", "--exit-code", "2"])
        eq(r.rc, 2, "--exit-code 2 is refused (%s)" % r.describe())
        check("reserved" in r.err, "message: %r" % r.err)

    def table(self):
        self.need()
        r = self.run.run(["registry", "scan", self.reg.host + "/team/pinned",
                          "--insecure-registry", self.reg.host, "--db-path", self.db,
                          "--max-age", str(MAX_AGE)])
        eq(r.rc, 0, "table run (%s)" % r.describe())
        lines = r.out.split("\n")
        check(lines[0].startswith(self.reg.host + "/team/pinned: 1 repositories, 3 tags"),
              "summary line: %r" % lines[0])
        row = [l for l in lines if l.startswith("team/pinned") and " 1.2.0 " in l]
        check(row and "not-current-release,fixable-vulnerabilities" in row[0],
              "1.2.0 row: %r" % row)
        row = [l for l in lines if l.startswith("team/pinned") and " latest " in l]
        check(row and "(current)" in row[0], "latest row: %r" % row)
        check("MM-REG-011" in r.out, "findings listed under the table")

    def bad_targets(self):
        self.need()
        for target, name in (("/Team/App", "Team/App"), ("/team/app:1.0.0", "team/app:1.0.0")):
            msg = self.run.expect_error(["registry", "scan", self.reg.host + target,
                                         "--insecure-registry", self.reg.host],
                                        must_name=(name,))
            check("repository" in msg, "message: %r" % msg)
        r = self.run.run(["registry", "scan"])
        eq(r.rc, 2, "no target")
        r = self.run.run(["registry", "frobnicate"])
        eq(r.rc, 2, "unknown subcommand")
        # plain HTTP without --insecure-registry is refused, naming the host
        r = self.run.run(["registry", "scan", self.reg.host + "/team/app", "--db-path", self.db])
        eq(r.rc, 2, "plain HTTP without --insecure-registry (%s)" % r.describe())
        check(self.reg.host in r.err, "message names the host: %r" % r.err)


    def server_upload(self):
        """--server (issue 18): the registry report and each image scanned in
        this run reach a real `mamori server`; a viewer token is refused."""
        self.need()
        import mmrun
        import srvkit
        srvkit.MAMORI = mmrun.mamori_bin()
        srv = srvkit.Server(os.path.join(self.run.root, "srv"))
        try:
            ci = srv.token("ci", "regscan-ci")
            viewer = srv.token("viewer", "regscan-viewer")
            d = self.scan("/team/app", "--force", "--server", srv.base, "--token", ci,
                          "--server-ca", srv.cert, "--server-host", "reg-runner")
            st, v, _ = srv.req("GET", "/api/v1/scans", viewer,
                               params={"host": "reg-runner", "limit": 100})
            eq(st, 200, "scans list")
            kinds = sorted(x["kind"] for x in v["items"])
            scanned = d["summary"]["scanned"]
            eq(kinds.count("registry-scan"), 1, "the registry report: %r" % kinds)
            eq(len(kinds) - 1, scanned, "one image scan per image scanned: %r" % kinds)
            st, f, _ = srv.req("GET", "/api/v1/findings", viewer,
                               params={"host": "reg-runner", "limit": 1000})
            ids = {x["finding_id"] for x in f["items"]}
            check("MM-REG-012" in ids, "stale findings stored: %r" % sorted(ids)[:20])
            check(any(i.startswith("MM-TEST-REGSCAN") for i in ids),
                  "the images' vulnerabilities stored: %r" % sorted(ids)[:20])
            r = self.run.run(["registry", "scan", self.reg.host + "/team/old",
                              "--insecure-registry", self.reg.host, "--db-path", self.db,
                              "-q", "--server", srv.base, "--token", viewer,
                              "--server-ca", srv.cert])
            eq(r.rc, 2, "a viewer token (%s)" % r.describe())
            check("403" in r.err, r.err)
        finally:
            srv.stop()

    def verify_signatures(self):
        """--verify-key (issue 20): each scan checks the image's signatures
        (MM-SIG-001, HIGH, when none is valid); a stored scan is reused only
        when it verified with the same keys, so a signature pushed after a
        scan counts at the next run."""
        self.need()
        if regkit.missing_tools("openssl"):
            skip("openssl is not installed")
        self.reg.push("oci:%s:A" % self.lay, "sig/app:1.0")
        keys = {}
        for name in ("signer", "other"):
            priv = os.path.join(self.run.root, name + ".key")
            regkit.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-out", priv])
            regkit.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", priv + ".pub"])
            keys[name] = (priv, priv + ".pub")

        def run(key, want_status):
            d = self.scan("/sig/app", "--verify-key", keys[key][1])
            im = self.images(d)[("sig/app", "1.0")]
            eq(im["status"], want_status, "status with the %s key" % key)
            return im["findings"]["HIGH"]
        unsigned = run("signer", "scanned")
        eq(run("signer", "scanned"), unsigned, "a scan not verified is not reused")
        r = self.run.run(["sign", "--key", keys["signer"][0], "--insecure-registry",
                          self.reg.host, self.reg.host + "/sig/app:1.0"])
        eq(r.rc, 0, "mamori sign (%s)" % r.describe())
        eq(run("signer", "scanned"), unsigned - 1, "signed: MM-SIG-001 gone")
        eq(run("signer", "skipped"), unsigned - 1, "the verified scan is reused")
        eq(run("other", "scanned"), unsigned, "another key: verified again, not by it")
        r = self.run.run(["registry", "scan", self.reg.host + "/sig/app", "--verify-key",
                          keys["other"][1], "--enqueue", os.path.join(self.run.root, "q.db")])
        eq(r.rc, 2, "--verify-key with --enqueue (%s)" % r.describe())


def regkit_time(s):
    import calendar
    return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))


def main():
    t = T()
    s = Suite()
    names = ["catalog_paging", "first_run_scans", "stale_reasons", "current_release",
             "json_fields", "second_run_skips", "force_rescans", "new_db_rescans",
             "broken_image_listed", "multi_arch", "max_images", "exit_code", "table", "bad_targets",
             "server_upload", "verify_signatures"]
    only = sys.argv[1:]
    try:
        s.case("setup", t.setup)
        for name in names:
            if only and name.replace("_", "-") not in only and name not in only:
                continue
            s.case(name.replace("_", "-"), getattr(t, name))
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
