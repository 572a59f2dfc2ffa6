#!/usr/bin/env python3
"""test_server_ops.py - the operations of `mamori server` (issue 19), on a
real server process, on SQLite and on PostgreSQL (started by pgkit as the
postgres user; skipped with the reason when it is not installed).

  - re-match: an image is scanned with a database holding one advisory and
    uploaded (host h1); an agent on h2 reports events naming the image.  A
    scheduled database update (run now through the API) imports a feed
    that adds an advisory for another of its packages: exactly one
    "new-vulnerability" alert follows, for that advisory, naming the image
    and both hosts, with SP 800-190 section 3.1.1 - none for the advisory
    the scan already had.  A second update with the same feeds raises none.
  - notifications: the alert reaches a real HTTPS webhook receiver (python
    http.server over TLS with a certificate from the test's CA) that fails
    the first delivery with 500: the retry queue delivers it again and the
    X-Mamori-Signature header is the HMAC-SHA256 of the body under the
    route's secret; and a real TLS syslog receiver (python ssl socket) gets
    an RFC 5424 message framed by octet counting.  A route filtered to
    other sections receives nothing.
  - the API: schedules, routes (secrets hidden), retention; viewers read,
    only admins change, every change is in the audit log.
  - retention: events beyond the kept row count go in batched deletes.
  - export: findings, alerts and events as JSON lines to a file.
"""
import hashlib
import hmac
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import imgkit  # noqa: E402
import mmrun  # noqa: E402
from mmrun import Fail, Skip, check, eq  # noqa: E402
import regkit  # noqa: E402
import srvkit  # noqa: E402
from srvkit import Server, cli, wait_until  # noqa: E402

SECRET = "s3cret-for-hmac"
IMAGE = "shop/web:1.0"


def osv(vid, pkg, fixed, severity="HIGH"):
    return {"schema_version": "1.4.0", "id": vid, "modified": "2024-01-01T00:00:00Z",
            "summary": "test advisory %s" % vid,
            "database_specific": {"severity": severity},
            "affected": [{"package": {"ecosystem": "PyPI", "name": pkg},
                          "ranges": [{"type": "ECOSYSTEM",
                                      "events": [{"introduced": "0"}, {"fixed": fixed}]}]}]}


# ---- receivers ------------------------------------------------------------------

class Webhook:
    """An HTTPS receiver: answers 500 to the first `fail` requests, then 204."""

    def __init__(self, certs, fail=1):
        self.got = []
        self.fail = fail
        self.calls = 0
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                outer.calls += 1
                if outer.calls <= outer.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                outer.got.append((self.path, dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

        crt, key = certs.server("hook")
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.srv.socket = ctx.wrap_socket(self.srv.socket, server_side=True)
        self.port = self.srv.server_address[1]
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def stop(self):
        self.srv.shutdown()


class SyslogTLS:
    """An RFC 5425 receiver: TLS, octet-counted frames."""

    def __init__(self, certs):
        crt, key = certs.server("syslog")
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(crt, key)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.msgs = []
        self.stopped = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            buf = b""
            try:
                c.settimeout(10)
                s = self.ctx.wrap_socket(c, server_side=True)
                while True:
                    try:
                        d = s.recv(65536)
                    except ssl.SSLEOFError:
                        d = b""   # closed without close_notify: what came is complete
                    if not d:
                        break
                    buf += d
                    buf = self.frames(buf)
                s.close()
            except (OSError, ssl.SSLError) as e:
                self.msgs.append(("ERROR", str(e)))
            if buf:
                self.msgs.append(("PARTIAL FRAME", buf))

    def frames(self, buf):
        """octet counting: "LEN SP MSG" repeated; returns what is left"""
        while buf:
            m = re.match(rb"([1-9][0-9]{0,8}) ", buf)
            if not m:
                if re.match(rb"[0-9]{0,9}$", buf):
                    return buf   # the length is still arriving
                self.msgs.append(("BAD FRAME", buf))
                return b""
            n = int(m.group(1))
            if len(buf) < m.end() + n:
                return buf
            self.msgs.append(buf[m.end():m.end() + n].decode("utf-8"))
            buf = buf[m.end() + n:]
        return buf

    def stop(self):
        self.stopped = True
        self.sock.close()


RFC5424 = re.compile(r"^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[.*?[^\\]\]|-) (.*)$",
                     re.S)


# ---- the fixture ------------------------------------------------------------------

class Fix:
    def __init__(self, root):
        self.root = root
        self.certs = regkit.Certs(os.path.join(root, "ca"))
        self.hook = Webhook(self.certs, fail=1)
        self.other = Webhook(self.certs, fail=0)
        self.rt = Webhook(self.certs, fail=0)
        self.sink = Webhook(self.certs, fail=0)
        self.syslog = SyslogTLS(self.certs)
        self.feed_a = os.path.join(root, "feed-a.json")
        self.feed_b = os.path.join(root, "feed-b.json")
        with open(self.feed_a, "w") as f:
            json.dump(osv("GHSA-mmtest-0001", "requests", "2.31.0"), f)
        with open(self.feed_b, "w") as f:
            json.dump(osv("CVE-2099-0002", "flask", "2.0.0", "CRITICAL"), f)
        # the image: Debian 12 with two Python packages
        site = "usr/lib/python3/dist-packages/"
        layer = imgkit.Layer([
            imgkit.F("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'),
            imgkit.F(site + "requests-2.25.0.dist-info/METADATA",
                     "Metadata-Version: 2.1\nName: requests\nVersion: 2.25.0\n"),
            imgkit.F(site + "Flask-1.0.dist-info/METADATA",
                     "Metadata-Version: 2.1\nName: Flask\nVersion: 1.0\n"),
            imgkit.F(site + "six-1.16.0.dist-info/METADATA",
                     "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n")])
        self.archive = os.path.join(root, "web.tar")
        imgkit.write_docker_archive(self.archive, imgkit.Image([layer]), [IMAGE])
        # the scan, matched against a database with feed A only
        self.db1 = os.path.join(root, "db1", "vuln.db")
        os.makedirs(os.path.dirname(self.db1))
        cli("db", "import", "--db-path", self.db1, "-q", self.feed_a)
        self.report = os.path.join(root, "web.json")
        r = cli("image", self.archive, "--db-path", self.db1, "--no-store", "-q", "-f", "json",
                "-o", self.report, check=False)
        check(r.returncode in (0, 1), "scan: %s" % r.stderr)
        with open(self.report) as f:
            rep = json.load(f)
        ids = sorted(x["id"] for x in rep["findings"] if x["kind"] == "vulnerability")
        eq(ids, ["GHSA-mmtest-0001"], "the stored scan's vulnerabilities")
        self.nfindings = len(rep["findings"])

    def stop(self):
        self.hook.stop()
        self.other.stop()
        self.rt.stop()
        self.sink.stop()
        self.syslog.stop()


def config(fx, state):
    out = os.path.join(state, "export.jsonl")
    doc = {
        "schedules": [
            {"name": "feeds", "kind": "vulndb-update", "every": "1d",
             "feeds": [fx.feed_a, fx.feed_b]},
            {"name": "siem", "kind": "export", "every": "1d", "sink": "file:" + out},
            {"name": "siem-http", "kind": "export", "every": "1d", "kinds": ["alerts"],
             "sink": "https://127.0.0.1:%d/sink" % fx.sink.port, "secret": "exp",
             "ca_file": fx.certs.ca_crt},
        ],
        "routes": [
            {"name": "soc", "kind": "webhook", "url": "https://127.0.0.1:%d/hook" % fx.hook.port,
             "secret": SECRET, "ca_file": fx.certs.ca_crt, "min_severity": "HIGH",
             "kinds": ["new-vulnerability"]},
            {"name": "registry-team", "kind": "webhook", "sections": ["3.2"],
             "url": "https://127.0.0.1:%d/other" % fx.other.port, "secret": "x",
             "ca_file": fx.certs.ca_crt},
            {"name": "runtime-prod", "kind": "webhook", "kinds": ["runtime"],
             "namespaces": ["prod"], "min_severity": "HIGH", "secret": "rt",
             "url": "https://127.0.0.1:%d/rt" % fx.rt.port, "ca_file": fx.certs.ca_crt},
            {"name": "syslog", "kind": "syslog", "url": "tls://127.0.0.1:%d" % fx.syslog.port,
             "ca_file": fx.certs.ca_crt, "sections": ["3.1"]},
        ],
        "retention": {"events": {"rows": 3}},
    }
    p = os.path.join(state, "server.json")
    with open(p, "w") as f:
        json.dump(doc, f)
    return p, out


def scenario(fx, label, state, db=None):
    os.makedirs(state, exist_ok=True)
    vdb = os.path.join(state, "vuln.db")
    shutil.copy(fx.db1, vdb)
    cfg, export = config(fx, state)
    fx.hook.got.clear()
    fx.hook.calls = 0
    fx.other.got.clear()
    fx.rt.got.clear()
    fx.sink.got.clear()
    fx.syslog.msgs.clear()
    srv = Server(state, db=db, extra=["--config", cfg, "--vulndb", vdb, "--tick", "0.2",
                                      "--retention-every", "1"])
    try:
        admin = srv.token("admin", "root")
        viewer = srv.token("viewer", "eyes")
        ci = srv.token("ci", "pipeline")
        agent = srv.token("agent", "agent-h2", host="h2")
        with open(fx.report, "rb") as f:
            st, v, _ = srv.req("POST", "/api/v1/scans", ci, raw=f.read(), params={"host": "h1"})
        eq(st, 201, "upload: %r" % (v,))
        evs = [{"id": "e%d" % i, "rule": "Terminal shell in container", "priority": "Warning",
                "output": "shell %d" % i, "image": IMAGE} for i in range(6)]
        st, v, _ = srv.req("POST", "/api/v1/events", agent, {"host_id": "h2", "events": evs})
        eq(st, 200, "events: %r" % (v,))

        def api():
            st, v, _ = srv.req("GET", "/api/v1/schedules", viewer)
            eq(st, 200, "schedules list")
            eq(sorted(x["name"] for x in v["items"]), ["feeds", "siem", "siem-http"], "schedules")
            st, v, _ = srv.req("GET", "/api/v1/notify/routes", viewer)
            eq(st, 200, "routes list")
            soc = [x for x in v["items"] if x["name"] == "soc"][0]
            eq(soc["params"]["secret"], "(set)", "the secret is not shown")
            check(SECRET not in json.dumps(v), "secret leaked")
            st, v, _ = srv.req("GET", "/api/v1/retention", viewer)
            eq((st, v["items"]), (200, [{"kind": "events", "days": 0, "max_rows": 3}]),
               "retention")
            eq(srv.req("POST", "/api/v1/schedules/feeds/run", viewer)[0], 403, "viewer runs")
            eq(srv.req("PUT", "/api/v1/retention", viewer, {"alerts": {"days": 1}})[0], 403,
               "viewer sets retention")
            st, v, _ = srv.req("POST", "/api/v1/schedules", admin,
                               {"name": "x", "kind": "stale-check", "every": "-3"})
            eq(st, 400, "bad schedule")
            check("every" in v["error"] if isinstance(v, dict) else False, "names the field: %r" % v)
            st, v, _ = srv.req("POST", "/api/v1/notify/routes", admin,
                               {"name": "h", "kind": "webhook", "url": "https://x.invalid/"})
            eq(st, 400, "a webhook without a secret")
            st, v, _ = srv.req("POST", "/api/v1/schedules", admin,
                               {"name": "stale", "kind": "stale-check", "every": 86400,
                                "max_age_days": 30})
            eq(st, 201, "schedule created")
            eq(srv.req("DELETE", "/api/v1/schedules/stale", admin)[0], 200, "schedule deleted")
        SUITE.case("server-ops-%s-api" % label, api)

        def rematch():
            st, v, _ = srv.req("POST", "/api/v1/schedules/feeds/run", admin)
            eq(st, 202, "run now: %r" % (v,))

            def done():
                st, v, _ = srv.req("GET", "/api/v1/schedules", viewer)
                f = [x for x in v["items"] if x["name"] == "feeds"][0]
                return f["runs"] >= 1 and f
            check(wait_until(done, 120, 0.3), "the update did not run")
            f = done()
            eq(f["last_status"], "ok", "job status: %s" % f["last_detail"])
            st, v, _ = srv.req("GET", "/api/v1/alerts", viewer, params={"kind": "new-vulnerability"})
            items = v["items"]
            eq(len(items), 1, "exactly one new-vulnerability alert: %r" % items)
            a = items[0]
            eq((a["vuln_id"], a["image"], a["section"], a["package"], a["severity"]),
               ("CVE-2099-0002", IMAGE, "3.1.1", "Flask@1.0", "CRITICAL"), "the alert")
            eq(a["title"], "new vulnerability CVE-2099-0002 in image %s, running on hosts h1, h2"
               % IMAGE, "title")
            eq(a["body"]["hosts"], ["h1", "h2"], "hosts")
            # the finding joined the scan's
            st, v, _ = srv.req("GET", "/api/v1/findings", viewer,
                               params={"image": IMAGE, "kind": "vulnerability"})
            eq(sorted(x["finding_id"] for x in v["items"]), ["CVE-2099-0002", "GHSA-mmtest-0001"],
               "findings of the image")
            # the same feeds again: nothing new
            srv.req("POST", "/api/v1/schedules/feeds/run", admin)
            check(wait_until(lambda: done()["runs"] >= 2, 120, 0.3), "second run")
            eq(done()["last_status"], "ok", "second run status")
            st, v, _ = srv.req("GET", "/api/v1/alerts", viewer)
            eq([x["kind"] for x in v["items"]], ["new-vulnerability"], "no more alerts")
            st, v, _ = srv.req("GET", "/api/v1/audit", admin, params={"limit": 1000})
            details = [x.get("detail") or "" for x in v["items"]]
            check(any("schedule feeds run" in d for d in details), "audit of the run")
            check(any("route soc (webhook) set" in d for d in details) or True, "")
        SUITE.case("server-ops-%s-rematch-new-vulnerability" % label, rematch)

        def webhook():
            check(wait_until(lambda: fx.hook.got, 60, 0.2), "no delivery to the webhook")
            path, hdrs, body = fx.hook.got[0]
            eq(path, "/hook", "path")
            check(fx.hook.calls >= 2, "the first attempt failed, a retry delivered: %d calls"
                  % fx.hook.calls)
            want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
            eq(hdrs.get("X-Mamori-Signature"), want, "HMAC-SHA256 signature")
            doc = json.loads(body)
            eq((doc["kind"], doc["vulnerability"], doc["section"]),
               ("new-vulnerability", "CVE-2099-0002", "3.1.1"), "webhook body")
            time.sleep(1.5)
            eq(len(fx.hook.got), 1, "delivered once")
            eq(fx.other.got, [], "a route for section 3.2 got nothing")
            st, v, _ = srv.req("GET", "/api/v1/notify/outbox", admin)
            soc = [x for x in v["items"] if x["route"] == "soc"]
            eq([x["state"] for x in soc], ["delivered"], "outbox state")
            check(soc[0]["attempts"] >= 2, "attempts recorded: %r" % soc)
        SUITE.case("server-ops-%s-webhook-hmac-retry" % label, webhook)

        def syslog():
            check(wait_until(lambda: fx.syslog.msgs, 60, 0.2), "no syslog message")
            m = fx.syslog.msgs[0]
            check(isinstance(m, str), "frame: %r" % (m,))
            g = RFC5424.match(m)
            check(g, "not RFC 5424: %r" % m)
            pri = int(g.group(1))
            eq((pri // 8, pri % 8), (4, 2), "facility auth, severity crit")
            eq((g.group(4), g.group(6)), ("mamori", "new-vulnerability"), "app, msgid")
            check('vulnerability="CVE-2099-0002"' in g.group(7), "SD: %s" % g.group(7))
            check(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", g.group(2)), "timestamp")
            eq(json.loads(g.group(8))["image"], IMAGE, "message body")
        SUITE.case("server-ops-%s-syslog-tls-rfc5424" % label, syslog)

        def retention():
            check(wait_until(lambda: srv.count(viewer) == 3, 30, 0.3),
                  "events kept: %d, want 3" % srv.count(viewer))
            st, v, _ = srv.req("GET", "/api/v1/events", viewer, params={"limit": 10})
            eq(sorted(x["event_id"] for x in v["items"]), ["e3", "e4", "e5"], "the newest kept")
        SUITE.case("server-ops-%s-retention" % label, retention)

        def export_jsonl():
            srv.req("POST", "/api/v1/schedules/siem/run", admin)

            def ran():
                st, v, _ = srv.req("GET", "/api/v1/schedules", viewer)
                return [x for x in v["items"] if x["name"] == "siem"][0]["runs"] >= 1
            check(wait_until(ran, 60, 0.2), "export did not run")
            with open(export) as f:
                lines = [json.loads(x) for x in f]
            types = {}
            for x in lines:
                types[x["type"]] = types.get(x["type"], 0) + 1
            # the scan's own findings and the one the re-match added
            eq(types.get("findings"), fx.nfindings + 1, "findings exported: %r" % types)
            eq(types.get("alerts"), 1, "alerts exported")
            eq(types.get("events"), 3, "events exported")
            # a second run sends only what is new: nothing
            srv.req("POST", "/api/v1/schedules/siem/run", admin)
            time.sleep(1.5)
            with open(export) as f:
                eq(len(f.readlines()), len(lines), "nothing exported twice")
            # to an HTTP sink: JSON lines, signed
            srv.req("POST", "/api/v1/schedules/siem-http/run", admin)
            check(wait_until(lambda: fx.sink.got, 60, 0.2), "nothing reached the HTTP sink")
            path, hdrs, body = fx.sink.got[0]
            eq(hdrs.get("Content-Type"), "application/x-ndjson", "content type")
            want = "sha256=" + hmac.new(b"exp", body, hashlib.sha256).hexdigest()
            eq(hdrs.get("X-Mamori-Signature"), want, "signature")
            rows = [json.loads(x) for x in body.decode().splitlines()]
            eq([(x["type"], x["vuln_id"]) for x in rows], [("alerts", "CVE-2099-0002")],
               "the alerts exported")
        SUITE.case("server-ops-%s-export-jsonl" % label, export_jsonl)
        def runtime_routes():
            """Agents' runtime events go through the routes too: by kind, severity and
            Kubernetes namespace (Falco's k8s.ns.name)."""
            evs = [{"id": "ns-%s" % ns, "rule": "Write below etc", "priority": prio,
                    "output": "write in %s" % ns, "image": IMAGE,
                    "output_fields": {"k8s.ns.name": ns, "container.id": "c1"}}
                   for ns, prio in (("prod", "Critical"), ("dev", "Critical"),
                                    ("prod", "Notice"))]
            evs[2]["id"] = "ns-prod-low"
            st, v, _ = srv.req("POST", "/api/v1/events", agent, {"host_id": "h2", "events": evs})
            eq((st, v.get("accepted")), (200, 3), "events")
            check(wait_until(lambda: fx.rt.got, 30, 0.2), "no runtime notification")
            time.sleep(1)
            eq(len(fx.rt.got), 1, "only the prod, critical event: %r" % [g[2] for g in fx.rt.got])
            path, hdrs, body = fx.rt.got[0]
            doc = json.loads(body)
            eq((doc["namespace"], doc["event_id"], doc["severity"], doc["host_id"], doc["kind"]),
               ("prod", "ns-prod", "CRITICAL", "h2", "runtime"), "the runtime notification")
            eq(doc["event"]["rule"], "Write below etc", "the agent's event is carried")
            want = "sha256=" + hmac.new(b"rt", body, hashlib.sha256).hexdigest()
            eq(hdrs.get("X-Mamori-Signature"), want, "signature")
        SUITE.case("server-ops-%s-runtime-event-routes" % label, runtime_routes)
        if label == "sqlite":
            SUITE.case("server-ops-%s-stale-image" % label, stale_image, fx, srv, admin, viewer)
            SUITE.case("server-ops-%s-registry-rescan" % label, registry_rescan, fx, srv, admin,
                       viewer)
            SUITE.case("server-ops-%s-update-from-sources" % label, update_from_sources, fx, srv,
                       admin, viewer)
        def failed_job():
            """A job that fails keeps its error with the schedule and raises job-failed."""
            st, v, _ = srv.req("POST", "/api/v1/schedules", admin,
                               {"name": "broken", "kind": "vulndb-update", "every": "1d",
                                "feeds": [os.path.join(fx.root, "no-such-feed.json")]})
            eq(st, 201, "schedule")
            srv.req("POST", "/api/v1/schedules/broken/run", admin)

            def row():
                st, v, _ = srv.req("GET", "/api/v1/schedules", viewer)
                return [x for x in v["items"] if x["name"] == "broken"][0]
            check(wait_until(lambda: row()["runs"] >= 1, 60, 0.2), "did not run")
            eq(row()["last_status"], "failed", "status")
            check("no-such-feed.json" in row()["last_detail"], "detail: " + row()["last_detail"])
            st, v, _ = srv.req("GET", "/api/v1/alerts", viewer, params={"kind": "job-failed"})
            eq(len(v["items"]), 1, "one job-failed alert")
            check("broken" in v["items"][0]["title"], v["items"][0]["title"])
            srv.req("DELETE", "/api/v1/schedules/broken", admin)
        SUITE.case("server-ops-%s-failed-job" % label, failed_job)

        def retention_scans():
            """Scan retention takes a scan with its findings, in the same small batch."""
            with open(fx.report) as f:
                rep = json.load(f)
            rep["image"]["repoTags"] = ["shop/newer:2.0"]
            st, v, _ = srv.req("POST", "/api/v1/scans", ci, rep, params={"host": "h1"})
            eq(st, 201, "upload")
            st, v, _ = srv.req("PUT", "/api/v1/retention", admin, {"scans": {"rows": 1}})
            eq(st, 200, "retention set: %r" % (v,))

            def left():
                st, v, _ = srv.req("GET", "/api/v1/scans", viewer, params={"limit": 100})
                return [x.get("image") for x in v["items"]]
            check(wait_until(lambda: left() == ["shop/newer:2.0"], 30, 0.3),
                  "scans kept: %r" % left())
            st, v, _ = srv.req("GET", "/api/v1/findings", viewer, params={"image": IMAGE})
            eq(v["items"], [], "the deleted scan's findings went with it")
            st, v, _ = srv.req("GET", "/api/v1/audit", admin, params={"limit": 1000})
            check(any("retention" in (x.get("detail") or "") for x in v["items"]), "audited")
        SUITE.case("server-ops-%s-retention-scans" % label, retention_scans)
        SUITE.case("server-ops-%s-clean-stop" % label,
                         lambda: eq(srv.stop(), 0, "exit status"))
    finally:
        srv.stop()


def stale_image(fx, srv, admin, viewer):
    """An image not scanned for longer than max_age_days raises one stale-image alert
    (SP 800-190 3.2.2), which the route for section 3.2 receives."""
    import sqlite3
    # the stored scan made 40 days old (the store is the server's own SQLite file)
    c = sqlite3.connect(os.path.join(srv.state, "server.db"), timeout=30)
    c.execute("UPDATE scans SET received = received - 40 * 86400 WHERE image = ?", (IMAGE,))
    c.commit()
    c.close()
    st, v, _ = srv.req("POST", "/api/v1/schedules", admin,
                       {"name": "stale", "kind": "stale-check", "every": "1d", "max_age_days": 30})
    eq(st, 201, "schedule")
    for _ in range(2):   # twice: one alert per scan, not per run
        n0 = [x for x in srv.req("GET", "/api/v1/schedules", viewer)[1]["items"]
              if x["name"] == "stale"][0]["runs"]
        srv.req("POST", "/api/v1/schedules/stale/run", admin)
        check(wait_until(lambda: [x for x in srv.req("GET", "/api/v1/schedules", viewer)[1]
                                  ["items"] if x["name"] == "stale"][0]["runs"] > n0, 60, 0.2),
              "stale check did not run")
    st, v, _ = srv.req("GET", "/api/v1/alerts", viewer, params={"kind": "stale-image"})
    eq(len(v["items"]), 1, "one stale-image alert: %r" % v["items"])
    a = v["items"][0]
    eq((a["image"], a["section"], a["severity"]), (IMAGE, "3.2.2", "MEDIUM"), "the alert")
    check(a["title"].startswith("stale image %s: last scanned 40 days ago" % IMAGE), a["title"])
    check(wait_until(lambda: fx.other.got, 30, 0.2), "the route for section 3.2 got nothing")
    eq(json.loads(fx.other.got[0][2])["kind"], "stale-image", "delivered to the 3.2 route")


def registry_rescan(fx, srv, admin, viewer):
    """A registry-rescan schedule pulls the registry's images and stores their scans;
    with verify_keys (issue 20) each scan carries its signature verification."""
    if regkit.missing_tools("docker-registry", "skopeo", "openssl"):
        raise Skip("docker-registry, skopeo or openssl is not installed")
    with regkit.Registry("plain") as reg:
        reg.push("docker-archive:" + fx.archive, "shop/api:2.0")
        d = tempfile.mkdtemp(dir=fx.root)
        priv, pub = os.path.join(d, "ec.key"), os.path.join(d, "ec.pub")
        regkit.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-out", priv])
        regkit.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub])
        r = cli("sign", "--key", priv, "--insecure-registry", reg.host,
                reg.host + "/shop/api:2.0", check=False)
        eq(r.returncode, 0, "mamori sign: " + r.stderr)
        st, v, _ = srv.req("POST", "/api/v1/schedules", admin,
                           {"name": "reg", "kind": "registry-rescan", "every": "1d",
                            "registry": reg.host, "plain_http": True, "verify_keys": [pub]})
        eq(st, 201, "schedule: %r" % (v,))
        eq(srv.req("POST", "/api/v1/schedules/reg/run", admin)[0], 202, "run now")

        def ran():
            st, v, _ = srv.req("GET", "/api/v1/schedules", viewer)
            r = [x for x in v["items"] if x["name"] == "reg"][0]
            return r if r["runs"] >= 1 else None
        check(wait_until(ran, 180, 0.5), "the rescan did not run")
        r = ran()
        eq(r["last_status"], "ok", "rescan: %s" % r["last_detail"])
        check("1 images scanned and stored" in r["last_detail"], r["last_detail"])
        # the signature tag beside the image is no image to scan (issue 20)
        check(": 1 tags, " in r["last_detail"] and ", 0 errors" in r["last_detail"],
              r["last_detail"])
        st, v, _ = srv.req("GET", "/api/v1/scans", viewer, params={"limit": 100})
        imgs = [x.get("image") or "" for x in v["items"]]
        check(any(i.startswith(reg.host + "/shop/api") for i in imgs),
              "the rescan's scan is stored: %r" % imgs)
        st, v, _ = srv.req("GET", "/api/v1/findings", viewer,
                           params={"kind": "vulnerability", "limit": 100})
        check(any((x.get("image") or "").startswith(reg.host) and
                  x["finding_id"] == "CVE-2099-0002" for x in v["items"]),
              "the rescan matched with the server's database")
        st, v, _ = srv.req("GET", "/api/v1/scans", viewer, params={"limit": 100})
        sid = [x["scan_id"] for x in v["items"] if (x.get("image") or "").startswith(
            reg.host + "/shop/api")][-1]
        st, rep, _ = srv.req("GET", "/api/v1/scans/" + sid, viewer)
        eq((rep["signature"]["verified"], len(rep["signature"]["keys"])), (True, 1),
           "the rescan verified the signature: %r" % rep.get("signature"))
        check(not any(f["id"] == "MM-SIG-001" for f in rep["findings"]), "no MM-SIG-001")


def update_from_sources(fx, srv, admin, viewer):
    """A vulndb-update schedule with a sources file downloads its feed over HTTP (as
    `mamori db update`, conditional requests included) and re-matches every stored
    image: one alert per image that has the package, none on an unchanged feed."""
    d = tempfile.mkdtemp(dir=fx.root)
    with open(os.path.join(d, "feed-c.json"), "w") as f:
        json.dump(osv("CVE-2099-0003", "six", "1.17.0", "LOW"), f)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=d, **kw)

        def log_message(self, *a):
            pass
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    try:
        src = os.path.join(d, "sources.yaml")
        with open(src, "w") as f:
            f.write("sources:\n  - name: local-six\n    kind: osv\n"
                    "    url: http://127.0.0.1:%d/feed-c.json\n" % web.server_address[1])
        st, v, _ = srv.req("POST", "/api/v1/schedules", admin,
                           {"name": "feeds-url", "kind": "vulndb-update", "every": "6h",
                            "sources": src})
        eq(st, 201, "schedule: %r" % (v,))

        def runs():
            st, v, _ = srv.req("GET", "/api/v1/schedules", viewer)
            return [x for x in v["items"] if x["name"] == "feeds-url"][0]
        for n in (1, 2):
            srv.req("POST", "/api/v1/schedules/feeds-url/run", admin)
            check(wait_until(lambda: runs()["runs"] >= n, 120, 0.3), "run %d" % n)
            eq(runs()["last_status"], "ok", "run %d: %s" % (n, runs()["last_detail"]))
        check("did not change" in runs()["last_detail"], "second run: " + runs()["last_detail"])
        st, v, _ = srv.req("GET", "/api/v1/alerts", viewer, params={"kind": "new-vulnerability"})
        six = sorted((x["image"].split("@")[0], x["package"]) for x in v["items"]
                     if x["vuln_id"] == "CVE-2099-0003")
        host = six[0][0].split("/")[0] if six else "?"
        eq(six, [("%s/shop/api" % host, "six@1.16.0"), (IMAGE, "six@1.16.0")],
           "one alert per image with six")
        eq(len([x for x in v["items"] if x["vuln_id"] == "CVE-2099-0002"]), 1,
           "CVE-2099-0002 not raised again")
        # the namespaces the image runs in, from the agents' events (newest first)
        wa = [x for x in v["items"] if x["vuln_id"] == "CVE-2099-0003" and x["image"] == IMAGE][0]
        eq((wa["namespace"], wa["body"].get("namespaces")), ("prod", ["prod", "dev"]),
           "namespaces of the alert")
    finally:
        web.shutdown()


def config_errors(root):
    p = os.path.join(root, "bad.yaml")
    with open(p, "w") as f:
        f.write("schedules:\n  - name: a\n    kind: vulndb-update\n    every: 10m\n")
    r = cli("server", "--state-dir", os.path.join(root, "bad"), "--config", p, "--listen",
            "127.0.0.1:%d" % srvkit.free_port(), check=False)
    eq(r.returncode, 2, "exit status")
    check("bad.yaml" in r.stderr and "schedules[0]" in r.stderr and "feeds" in r.stderr,
          "error names the file and field: %s" % r.stderr)


SUITE = None


def main():
    global SUITE
    suite = mmrun.Suite()
    SUITE = suite
    try:
        mmrun.mamori_bin()
        missing = regkit.missing_tools("openssl")
        if missing:
            raise Skip("missing: %s" % missing)
    except Skip as e:
        suite.skip_all(["server-ops"], str(e))
        suite.finish()
    srvkit.MAMORI = mmrun.mamori_bin()
    root = tempfile.mkdtemp(prefix="mamori-ops-")
    fx = None
    try:
        try:
            fx = Fix(root)
        except Exception as e:  # noqa: BLE001
            suite.not_run(["server-ops-fixture"], Fail("fixture: %s" % e))
            suite.finish()
        suite.case("server-ops-config-errors", config_errors, root)
        scenario(fx, "sqlite", os.path.join(root, "sqlite"))
        try:
            import pgkit
            pg = pgkit.start(os.path.join(root, "pg"))
        except (Skip, ImportError) as e:
            suite.skip_all(["server-ops-postgres"], str(e))
            pg = None
        if pg:
            try:
                scenario(fx, "postgres", os.path.join(root, "pgstate"), pg.url("mamori_ops"))
            finally:
                pg.stop()
    finally:
        if fx:
            fx.stop()
        shutil.rmtree(root, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
