#!/usr/bin/env python3
"""test_workers - scale-out scan workers (issue 19): `mamori worker` processes
sharing one real PostgreSQL (pgkit) take the jobs that `mamori registry scan
--enqueue` and POST /api/v1/jobs queue for images in one real docker-registry
(regkit, plain HTTP), and write the results back as stored scans.

The registry holds NIMG images in three repositories, built here through the
registry's HTTP API: each is one of two base layers (an Alpine-like root
with an apk database, a Python package the test's advisory makes vulnerable,
a file holding an AWS key and a setuid binary) plus an application layer of
its own (another secret, a file or two), and one image is tagged twice.

Asserted:
  - enqueue queues each distinct image once (a second enqueue adds none);
  - NWORK worker processes started together finish the queue: every job
    done exactly once (one attempt, one stored scan each, no scan without a
    job), each worker exits 0;
  - the layer records: every layer chain was walked once (walks = 1 per
    record), the shared base layers were replayed for every other image
    (hits = layers - records), and each base blob was pulled from the
    registry once (the registry's own request log);
  - the stored results equal what `mamori image REF` finds for the same
    image (findings and packages, walked without any record), and the
    per-severity counts equal `mamori registry scan`'s for every tag;
  - a job whose worker died (lease run out) is taken again and done once,
    both with a row left by a dead worker and with a worker killed (SIGKILL)
    in the middle of a scan;
  - the API: POST /api/v1/jobs (operator yes, viewer 403, bad references
    400, audit-logged), GET /api/v1/jobs counts.
"""

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, Skip, check, eq, skip  # noqa: E402
import regkit  # noqa: E402
import srvkit  # noqa: E402

NIMG = 12
NWORK = 3
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
AWS_KEY = "AKIA" + "Z7Q3WJ5K2M4N6P8R"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY12"
ADVISORY = {
    "schema_version": "1.4.0",
    "id": "MM-TEST-WORKERS-1",
    "modified": "2024-05-20T00:00:00Z",
    "summary": "test advisory for requests (mamori worker test)",
    "affected": [{
        "package": {"ecosystem": "PyPI", "name": "requests"},
        "ranges": [{"type": "ECOSYSTEM",
                    "events": [{"introduced": "0"}, {"fixed": "2.32.0"}]}],
    }],
}


def tar_of(files):
    """An uncompressed tar of {path: (bytes, mode)}."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
        # the root folder first, as docker and umoci write it (counted, not
        # recorded: the record must still give the walk's entry count)
        ti = tarfile.TarInfo("./")
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        ti.mtime = 1700000000
        tf.addfile(ti)
        dirs = set()
        for path in sorted(files):
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d)
                    ti.type = tarfile.DIRTYPE
                    ti.mode = 0o755
                    ti.mtime = 1700000000
                    tf.addfile(ti)
            data, mode = files[path]
            ti = tarfile.TarInfo(path)
            ti.size = len(data)
            ti.mode = mode
            ti.mtime = 1700000000
            tf.addfile(ti, io.BytesIO(data))
    return raw.getvalue()


def base_layer(variant):
    apk = ("C:Q1abc=\nP:musl\nV:1.2.3-r%d\nA:x86_64\nS:383152\nI:622592\n"
           "T:the musl c library\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:x\n"
           "t:1690000000\nc:aaaa\n\n"
           "C:Q1def=\nP:busybox\nV:1.36.1-r%d\nA:x86_64\nS:500000\nI:900000\n"
           "T:Size optimized toolbox\nU:https://busybox.net/\nL:GPL-2.0-only\no:busybox\n"
           "m:x\nt:1690000000\nc:bbbb\n\n" % (variant, variant)).encode()
    meta = ("Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
            "Summary: Python HTTP for Humans.\n").encode()
    files = {
        "etc/os-release": (b'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.18.%d\n'
                           b'PRETTY_NAME="Alpine Linux v3.18"\n' % variant, 0o644),
        "etc/alpine-release": (b"3.18.%d\n" % variant, 0o644),
        "lib/apk/db/installed": (apk, 0o644),
        "usr/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA": (meta, 0o644),
        "root/.aws/credentials": (("[default]\naws_access_key_id = %s\n"
                                   "aws_secret_access_key = %s\n" % (AWS_KEY, AWS_SECRET)
                                   ).encode(), 0o600),
        "usr/bin/tool": (b"\x7fELF" + bytes(200) + b"base %d" % variant, 0o4755),
    }
    for k in range(40):
        files["usr/share/doc/base/file%02d.txt" % k] = (
            ("base %d document %d\n" % (variant, k) * 50).encode(), 0o644)
    return tar_of(files)


def app_layer(i):
    files = {
        "srv/app/README": (("application %d\n" % i).encode(), 0o644),
        "srv/app/config.env": (("DB_HOST=db%d\nGITHUB_TOKEN=ghp_%s\n"
                                % (i, hashlib.sha256(b"t%d" % i).hexdigest()[:36])).encode(),
                               0o644),
    }
    return tar_of(files)


def image(layers_tar, i):
    blobs = [gzip.compress(t, mtime=0) for t in layers_tar]
    created = "2024-01-%02dT00:00:00Z" % (1 + i % 28)
    config = json.dumps({
        "created": created, "architecture": "amd64", "os": "linux",
        "config": {"Cmd": ["/srv/app/run"], "User": "0"},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(t).hexdigest() for t in layers_tar]},
        "history": [{"created": created, "created_by": "layer %d of image %d" % (k, i)}
                    for k in range(len(layers_tar))],
    }).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": regkit.OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": len(config),
                   "digest": "sha256:" + hashlib.sha256(config).hexdigest()},
        "layers": [{"mediaType": OCI_LAYER, "size": len(b),
                    "digest": "sha256:" + hashlib.sha256(b).hexdigest()} for b in blobs],
    }).encode()
    return blobs, config, manifest


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


def put_manifest(reg, repo, ref, body):
    st, _, resp = reg.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                              headers={"Content-Type": regkit.OCI_MANIFEST})
    if st != 201:
        raise Fail("PUT manifest %s:%s: %d %r" % (repo, ref, st, resp[:200]))
    return "sha256:" + hashlib.sha256(body).hexdigest()


def finding_key(f):
    loc = f.get("location") or {}
    return (f.get("id"), f.get("severity"), f.get("kind"), loc.get("path"), loc.get("package"),
            loc.get("layer"))


def package_key(p):
    return (p.get("type"), p.get("name"), p.get("version"), p.get("layer"))


class T:
    def __init__(self):
        self.ready = False
        self.run = Runner()
        self.root = self.run.root
        self.reg = self.pg = None
        self.procs = []

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.reg:
            self.reg.stop()
        if self.pg:
            self.pg.stop()
        self.run.close()

    def need(self):
        if not self.ready:
            skip("set-up did not complete")

    def psql(self, sql):
        r = self.pg.psql(self.dbname, sql)
        if r.returncode != 0:
            raise Fail("psql %r: %s" % (sql, r.stderr))
        return [l.split("|") for l in r.stdout.strip().split("\n") if l]

    def setup(self):
        miss = regkit.missing_tools(regkit.REGISTRY_BIN)
        if miss:
            skip("not installed: %s" % ", ".join(miss))
        import pgkit
        self.pg = pgkit.start(os.path.join(self.root, "pg"))
        self.dbname = "mamori_workers"
        self.url = self.pg.url(self.dbname)
        self.reg = regkit.Registry("plain")
        self.reg.start()
        bases = [base_layer(1), base_layer(2)]
        self.images = []   # (repo, tag, manifest digest, [layer blob digests])
        for i in range(NIMG):
            repo = ["shop/web", "shop/api", "infra/jobs"][i % 3]
            blobs, config, manifest = image([bases[0 if i < 8 else 1], app_layer(i)], i)
            digests = [put_blob(self.reg, repo, b) for b in blobs]
            put_blob(self.reg, repo, config)
            tag = "v1.%d.0" % i
            md = put_manifest(self.reg, repo, tag, manifest)
            self.images.append((repo, tag, md, digests))
        # one image under a second tag: one job, not two
        put_manifest(self.reg, "shop/web", "latest",
                     image([bases[0], app_layer(0)], 0)[2])
        self.base_blobs = {hashlib.sha256(gzip.compress(b, mtime=0)).hexdigest() for b in bases}
        self.db = os.path.join(self.root, "vuln.db")
        p = os.path.join(self.root, "adv.json")
        with open(p, "w") as f:
            json.dump(ADVISORY, f)
        r = self.run.run(["db", "import", "--db-path", self.db, "-q", p])
        eq(r.rc, 0, "db import (%s)" % r.describe())
        self.ready = True

    def worker_cmd(self, *extra):
        return [self.run.bin, "worker", "--db", self.url, "--db-path", self.db,
                "--insecure-registry", self.reg.host, "--drain", "--no-blob-cache"] + list(extra)

    def enqueue(self):
        self.need()
        r = self.run.run(["registry", "scan", self.reg.host, "--enqueue", self.url,
                          "--insecure-registry", self.reg.host])
        eq(r.rc, 0, "enqueue (%s)" % r.describe())
        check(("%d images enqueued" % NIMG) in r.out, "enqueue output: %r" % r.out)
        r = self.run.run(["registry", "scan", self.reg.host, "--enqueue", self.url,
                          "--insecure-registry", self.reg.host])
        eq(r.rc, 0, "second enqueue (%s)" % r.describe())
        check("0 images enqueued" in r.out, "second enqueue output: %r" % r.out)
        rows = self.psql("SELECT ref, state FROM scan_jobs ORDER BY id")
        eq(len(rows), NIMG, "jobs")
        want = {"%s/%s@%s" % (self.reg.host, repo, md) for repo, _, md, _ in self.images}
        eq({r[0] for r in rows}, want, "job references")
        eq({r[1] for r in rows}, {"queued"}, "job states")

    def workers(self):
        self.need()
        env = self.run.env()
        t0 = time.time()
        procs = [subprocess.Popen(self.worker_cmd("--worker-id", "w%d" % k), cwd=self.run.cwd,
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for k in range(NWORK)]
        self.procs += procs
        outs = []
        for k, p in enumerate(procs):
            out, err = p.communicate(timeout=900)
            outs.append((p.returncode, out.decode(), err.decode()))
        print("  %d workers, %d images: %.1fs" % (NWORK, NIMG, time.time() - t0), flush=True)
        for k, (rc, out, err) in enumerate(outs):
            print("  w%d: %s" % (k, err.strip().split("\n")[-1]), flush=True)
            eq(rc, 0, "worker w%d exit (stderr %.1500s)" % (k, err))
        rows = self.psql("SELECT id, state, attempts, scan_id, worker FROM scan_jobs ORDER BY id")
        eq(len(rows), NIMG, "jobs")
        for r in rows:
            eq((r[1], r[2]), ("done", "1"), "job %s state and attempts" % r[0])
            check(r[3], "job %s has no scan" % r[0])
        eq(len({r[3] for r in rows}), NIMG, "distinct scans of the jobs")
        eq(self.psql("SELECT COUNT(*) FROM scans")[0][0], str(NIMG), "scans stored")
        done = sum(len(re.findall(r"^job \d+ ", o, re.M)) for _, o, _ in outs)
        eq(done, NIMG, "jobs the workers report done")

    def layer_records(self):
        self.need()
        rows = self.psql("SELECT state, walks, hits FROM layer_records")
        # 2 base layers + one chain per image's application layer
        eq(len(rows), 2 + NIMG, "layer records")
        for r in rows:
            eq((r[0], r[1]), ("ready", "1"), "a record's state and walks")
        eq(sum(int(r[2]) for r in rows), 2 * NIMG - (2 + NIMG), "records replayed")
        # the registry served each base blob once
        log = self.reg.log_tail(10 ** 7)
        for b in self.base_blobs:
            n = len(re.findall(r'"GET /v2/[^ ]*/blobs/sha256:%s HTTP' % b, log))
            if n == 0 and "GET /v2/" not in log:
                print("  (the registry does not log requests: pulls not counted)")
                break
            eq(n, 1, "GETs of base blob %s" % b[:12])

    def equal_results(self):
        self.need()
        stored = {}
        # raw newlines in a JSON text are layout only: one line per report
        r = self.pg.psql(self.dbname, "SELECT j.ref, replace(s.report, E'\\n', ' ')"
                         " FROM scan_jobs j JOIN scans s ON s.scan_id = j.scan_id")
        eq(r.returncode, 0, "psql (%s)" % r.stderr)
        for line in r.stdout.strip().split("\n"):
            ref, report = line.split("|", 1)
            stored[ref] = json.loads(report)
        check(len(stored) == NIMG, "stored reports: %d" % len(stored))
        kinds = set()
        for repo, tag, md, _ in self.images:
            ref = "%s/%s@%s" % (self.reg.host, repo, md)
            want = self.run.scan_json(["image", ref, "--insecure-registry", self.reg.host,
                                       "--db-path", self.db, "--no-blob-cache"])
            got = stored[ref]
            eq(sorted(map(finding_key, got["findings"])),
               sorted(map(finding_key, want["findings"])), "findings of %s:%s" % (repo, tag))
            eq([(l.get("entries"), l.get("size"), l.get("uncompressed")) for l in got["layers"]],
               [(l.get("entries"), l.get("size"), l.get("uncompressed")) for l in want["layers"]],
               "layers of %s:%s" % (repo, tag))
            check(not any("record" in w for w in got.get("warnings", [])),
                  "a record was not used: %r" % got.get("warnings"))
            eq(sorted(map(package_key, got.get("packages", []))),
               sorted(map(package_key, want.get("packages", []))),
               "packages of %s:%s" % (repo, tag))
            kinds |= {f["kind"] for f in got["findings"]}
        for k in ("vulnerability", "secret"):
            check(k in kinds, "no %s finding among the results: %r" % (k, kinds))
        # and the per-severity counts of `mamori registry scan`
        r = self.run.run(["registry", "scan", self.reg.host, "--format", "json",
                          "--insecure-registry", self.reg.host, "--db-path", self.db,
                          "--no-blob-cache", "-q"])
        check(r.rc in (0,), "registry scan: %s" % r.describe())
        counts = {}
        for repo in r.json["registries"][0]["repositories"]:
            for im in repo["images"]:
                counts[im["digest"]] = im["findings"]
        for repo, tag, md, _ in self.images:
            got = stored["%s/%s@%s" % (self.reg.host, repo, md)]
            by = {s: 0 for s in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN")}
            for f in got["findings"]:
                by[f["severity"]] += 1
            eq(by, counts[md], "severity counts of %s:%s" % (repo, tag))

    def new_job(self, i):
        """A fresh image (a new tag on a new application layer) queued."""
        repo = "shop/extra"
        blobs, config, manifest = image([base_layer(1), app_layer(100 + i)], 100 + i)
        for b in blobs:
            put_blob(self.reg, repo, b)
        put_blob(self.reg, repo, config)
        md = put_manifest(self.reg, repo, "x%d" % i, manifest)
        ref = "%s/%s@%s" % (self.reg.host, repo, md)
        return ref

    def dead_worker_row(self):
        self.need()
        ref = self.new_job(1)
        past = int(time.time()) - 10
        self.psql("INSERT INTO scan_jobs (ref, state, attempts, enqueued, worker, lease_until,"
                  " started) VALUES ('%s', 'running', 1, %d, 'dead:1', %d, %d)"
                  % (ref, past, past, past))
        r = subprocess.run(self.worker_cmd("--worker-id", "rescuer"), env=self.run.env(),
                           cwd=self.run.cwd, capture_output=True, text=True, timeout=600)
        eq(r.returncode, 0, "worker exit (%s)" % r.stderr[-1500:])
        rows = self.psql("SELECT state, attempts, worker, scan_id FROM scan_jobs"
                         " WHERE ref = '%s'" % ref)
        eq(len(rows), 1, "jobs of %s" % ref)
        eq(rows[0][:3], ["done", "2", "rescuer"], "the reclaimed job")
        eq(self.psql("SELECT COUNT(*) FROM scans WHERE scan_id = '%s'" % rows[0][3])[0][0], "1",
           "its scan")

    def killed_worker(self):
        self.need()
        ref = self.new_job(2)
        self.psql("INSERT INTO scan_jobs (ref, enqueued) VALUES ('%s', %d)"
                  % (ref, int(time.time())))
        p = subprocess.Popen(self.worker_cmd("--worker-id", "victim", "--lease", "2"),
                             env=self.run.env(), cwd=self.run.cwd,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.procs.append(p)
        end = time.time() + 120
        caught = False
        while time.time() < end and p.poll() is None:
            st = self.psql("SELECT state FROM scan_jobs WHERE ref = '%s'" % ref)
            if st and st[0][0] == "running":
                p.send_signal(signal.SIGKILL)
                caught = True
                break
            time.sleep(0.02)
        p.wait()
        st = self.psql("SELECT state, attempts FROM scan_jobs WHERE ref = '%s'" % ref)[0]
        if not caught or st[0] == "done":
            skip("the worker finished before it could be killed (state %s)" % st[0])
        time.sleep(2.5)   # the lease runs out
        # not --drain: killed inside its closing transaction, the victim's row
        # stays locked until PostgreSQL notices; SKIP LOCKED passes it by and
        # a draining worker would find the queue empty.  A worker polls.
        cmd = [a for a in self.worker_cmd("--worker-id", "second", "--max-jobs", "1",
                                          "--poll", "1") if a != "--drain"]
        r = subprocess.run(cmd, env=self.run.env(), cwd=self.run.cwd, capture_output=True,
                           text=True, timeout=300)
        eq(r.returncode, 0, "worker exit (%s)" % r.stderr[-1500:])
        rows = self.psql("SELECT state, attempts, worker FROM scan_jobs WHERE ref = '%s'" % ref)
        eq(rows, [["done", "2", "second"]], "the job of the killed worker")
        eq(self.psql("SELECT COUNT(*) FROM scans s JOIN scan_jobs j ON j.scan_id = s.scan_id"
                     " WHERE j.ref = '%s'" % ref)[0][0], "1", "scans of that job")

    def api(self):
        self.need()
        st = os.path.join(self.root, "srv")
        srv = srvkit.Server(st, db=self.url)
        try:
            op = srv.token("operator", "ops")
            viewer = srv.token("viewer", "look")
            ref = "%s/shop/web:v1.0.0" % self.reg.host
            s, v, _ = srv.req("POST", "/api/v1/jobs", viewer, body={"images": [ref]})
            eq(s, 403, "viewer enqueue (%r)" % (v,))
            for bad in ({"images": ["no spaces/a b"]}, {"images": []}, {"x": 1},
                        {"images": ["x" * 600 + "/y"]}, {"images": [7]}):
                s, v, _ = srv.req("POST", "/api/v1/jobs", op, body=bad)
                eq(s, 400, "bad body %.60r (%r)" % (bad, v))
            s, v, _ = srv.req("POST", "/api/v1/jobs", op, body={"images": [ref, ref]})
            eq(s, 202, "operator enqueue (%r)" % (v,))
            eq((v["enqueued"], v["alreadyQueued"]), (1, 1), "enqueue answer")
            s, v, _ = srv.req("GET", "/api/v1/jobs", viewer, params={"state": "queued"})
            eq(s, 200, "list (%r)" % (v,))
            eq(v["counts"]["queued"], 1, "queued count")
            eq([j["ref"] for j in v["jobs"]], [ref], "queued jobs")
            check(v["counts"]["done"] >= NIMG, "done count %r" % v["counts"])
            s, v, _ = srv.req("GET", "/api/v1/jobs", viewer, params={"state": "bogus"})
            eq(s, 400, "bad state filter")
            rows = self.psql("SELECT method, path, status, detail FROM audit"
                             " WHERE path = '/api/v1/jobs' ORDER BY seq")
            check(["POST", "/api/v1/jobs", "202", "jobs: 1 of 2 images enqueued"] in rows,
                  "audit rows: %r" % rows)
            check(any(r[2] == "403" for r in rows), "the refused call is audited: %r" % rows)
            # the tag reference is scanned like a digest one
            r = subprocess.run(self.worker_cmd("--worker-id", "api"), env=self.run.env(),
                               cwd=self.run.cwd, capture_output=True, text=True, timeout=600)
            eq(r.returncode, 0, "worker exit (%s)" % r.stderr[-1500:])
            s, v, _ = srv.req("GET", "/api/v1/jobs", viewer, params={"limit": 1})
            eq((v["jobs"][0]["ref"], v["jobs"][0]["state"]), (ref, "done"), "the API's job")
        finally:
            srv.stop()

    def sqlite_store(self):
        """One worker on a SQLite store (no SKIP LOCKED there: one writer)."""
        self.need()
        import sqlite3
        path = os.path.join(self.root, "server.db")
        r = self.run.run(["registry", "scan", self.reg.host + "/shop/api", "--enqueue", path,
                          "--insecure-registry", self.reg.host])
        eq(r.rc, 0, "enqueue (%s)" % r.describe())
        r = subprocess.run([self.run.bin, "worker", "--db", path, "--db-path", self.db,
                            "--insecure-registry", self.reg.host, "--drain"],
                           env=self.run.env(), cwd=self.run.cwd, capture_output=True, text=True,
                           timeout=600)
        eq(r.returncode, 0, "worker exit (%s)" % r.stderr[-1500:])
        con = sqlite3.connect(path)
        rows = con.execute("SELECT state, attempts FROM scan_jobs").fetchall()
        n = len([1 for repo, _, _, _ in self.images if repo == "shop/api"])
        eq(rows, [("done", 1)] * n, "jobs")
        eq(con.execute("SELECT COUNT(*) FROM scans").fetchone()[0], n, "scans")
        eq(con.execute("SELECT SUM(walks), SUM(hits) FROM layer_records").fetchone(),
           (n + 2, n - 2), "layer walks and replays")
        con.close()

    def record_cap(self):
        """Layers over --layer-record-max get no record: marked so, walked by
        everyone without waiting, the results the same."""
        self.need()
        ref = self.new_job(3)
        self.psql("INSERT INTO scan_jobs (ref, enqueued) VALUES ('%s', %d)"
                  % (ref, int(time.time())))
        self.psql("TRUNCATE layer_records")
        r = subprocess.run(self.worker_cmd("--worker-id", "small", "--layer-record-max", "1K"),
                           env=self.run.env(), cwd=self.run.cwd, capture_output=True,
                           text=True, timeout=600)
        eq(r.returncode, 0, "worker exit (%s)" % r.stderr[-1500:])
        rows = self.psql("SELECT state FROM layer_records ORDER BY state")
        # the base layer's record is over 1 KiB; the application layer's is not
        eq([x[0] for x in rows], ["none", "ready"], "record states")
        r = self.pg.psql(self.dbname, "SELECT replace(s.report, E'\\n', ' ') FROM scan_jobs j"
                         " JOIN scans s ON s.scan_id = j.scan_id WHERE j.ref = '%s'" % ref)
        got = json.loads(r.stdout)
        want = self.run.scan_json(["image", ref, "--insecure-registry", self.reg.host,
                                   "--db-path", self.db, "--no-blob-cache"])
        eq(sorted(map(finding_key, got["findings"])), sorted(map(finding_key, want["findings"])),
           "findings")
        r = self.run.run(["worker", "--db", self.url, "--layer-record-max", "0"])
        eq(r.rc, 2, "--layer-record-max 0")

    def usage(self):
        self.need()
        r = self.run.run(["worker"])
        eq(r.rc, 2, "no --db")
        check("--db" in r.err, "names --db: %r" % r.err)
        r = self.run.run(["worker", "--db", self.url, "--lease", "0"])
        eq(r.rc, 2, "bad --lease")


def main():
    srvkit.MAMORI = __import__("mmrun").mamori_bin()
    t = T()
    s = Suite()
    names = ["enqueue", "workers", "layer_records", "equal_results", "dead_worker_row",
             "killed_worker", "api", "sqlite_store", "record_cap", "usage"]
    try:
        s.case("setup", t.setup)
        for name in names:
            s.case("workers-" + name.replace("_", "-"), getattr(t, name))
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
