#!/usr/bin/env python3
"""test_dbupdate - `mamori db update` against a local HTTP server.

The server (http.server, on 127.0.0.1, in this process) serves real feeds
from ../shared/vulndata: the Go vulnerability database's all.zip as is, an
Alpine secdb file converted from its YAML to the JSON that
secdb.alpinelinux.org publishes, and a PyPA subset zipped here like an
osv.dev all.zip.  It answers conditional requests (ETag, Last-Modified, 304)
and has routes that fail the way real servers do: 429 with Retry-After, a
500 then OK, a body cut short, a body larger than the source allows (with
and without Content-Length), a wrong digest, an HTML page, a 404.

Every case checks the database itself (sqlite3) and, for failures, that the
file is byte-identical to before.  Nothing here contacts the internet: the
one non-loopback URL is refused before any connection is attempted.
"""

import hashlib
import http.server
import io
import json
import os
import re
import sqlite3
import sys
import threading
import time
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrun  # noqa: E402
from mmrun import Fail, Skip, check, eq  # noqa: E402


def vulndata():
    root = os.environ.get("MAMORI_SHARED_ROOT")
    if not root:
        shared = os.environ.get("MAMORI_SHARED")
        root = os.path.join(shared, "..") if shared else os.path.join(
            mmrun.source_root(), "..", "shared")
    return os.path.join(root, "vulndata")


# --- a YAML subset reader, enough for Alpine secdb (stdlib only) ----------

def _scalar(s):
    s = s.strip()
    if len(s) >= 2 and s[0] == s[-1] and s[0] in "\"'":
        return s[1:-1]
    return s


def secdb_yaml_to_obj(text):
    """Block mappings and sequences of plain or quoted scalars, comments and
    a leading '---': the shape of every secdb file."""
    lines = []
    for raw in text.split("\n"):
        if raw.strip() in ("", "---") or raw.lstrip().startswith("#"):
            continue
        lines.append((len(raw) - len(raw.lstrip(" ")), raw.strip()))
    pos = 0

    def block(indent):
        nonlocal pos
        if pos >= len(lines):
            return None
        ind, txt = lines[pos]
        if txt.startswith("- ") or txt == "-":
            seq = []
            while pos < len(lines) and lines[pos][0] == ind and \
                    (lines[pos][1].startswith("- ") or lines[pos][1] == "-"):
                item = lines[pos][1][2:].strip()
                if ":" in item and not item.startswith(("'", '"')) and \
                        (item.endswith(":") or ": " in item):
                    # "- key: ..." opens a mapping at the item's indentation
                    lines[pos] = (ind + 2, item)
                    seq.append(block(ind + 2))
                else:
                    pos += 1
                    seq.append(_scalar(item))
            return seq
        m = {}
        while pos < len(lines) and lines[pos][0] == ind and \
                not lines[pos][1].startswith("- "):
            txt = lines[pos][1]
            if txt.endswith(":"):
                key, val = txt[:-1], ""
            else:
                key, val = txt.split(": ", 1)
            key = _scalar(key)
            pos += 1
            if val.strip():
                m[key] = _scalar(val)
            elif pos < len(lines) and (lines[pos][0] > ind or
                                       (lines[pos][0] == ind and
                                        lines[pos][1].startswith("- "))):
                m[key] = block(lines[pos][0])
            else:
                m[key] = None
        return m

    return block(lines[0][0]) if lines else None


def secdb_json(path, drop_every=0):
    with open(path, encoding="utf-8") as f:
        obj = secdb_yaml_to_obj(f.read())
    if drop_every:
        obj["packages"] = [p for i, p in enumerate(obj["packages"])
                           if i % drop_every]
    return json.dumps(obj, indent=1).encode()


def secdb_ids(data):
    """The advisories a secdb file holds: each CVE id once (an id that only
    appears with fixed version "0", i.e. not affected, still counts when the
    importer keeps it; we count what has a real fix)."""
    obj = json.loads(data)
    ids = set()
    for p in obj["packages"]:
        for ver, cves in (p["pkg"].get("secfixes") or {}).items():
            if ver == "0":
                continue
            for c in cves or []:
                c = c.split()[0] if c else c
                if c:
                    ids.add(c)
    return ids


# --- the server --------------------------------------------------------------

class Feed:
    def __init__(self, data, tag):
        self.set(data, tag)

    def set(self, data, tag):
        self.data = data
        self.etag = '"%s-%s"' % (tag, hashlib.sha256(data).hexdigest()[:12])
        self.last_modified = time.strftime(
            "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() - 3600))


class State:
    def __init__(self):
        self.feeds = {}
        self.lock = threading.Lock()
        self.log = []        # (time, path, headers dict)
        self.hits = {}

    def hit(self, path, headers):
        with self.lock:
            self.log.append((time.monotonic(), path, dict(headers)))
            self.hits[path] = self.hits.get(path, 0) + 1
            return self.hits[path]

    def requests(self, path):
        with self.lock:
            return [(t, h) for t, p, h in self.log if p == path]

    def reset_log(self):
        with self.lock:
            self.log = []
            self.hits = {}


def make_handler(state):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):   # quiet
            pass

        def send_body(self, code, body, ctype="application/octet-stream",
                      extra=()):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def serve_feed(self, feed):
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            validators = [("ETag", feed.etag),
                          ("Last-Modified", feed.last_modified)]
            if (inm and inm == feed.etag) or (not inm and ims and
                                              ims == feed.last_modified):
                self.send_response(304)
                for k, v in validators:
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_body(200, feed.data, extra=validators)

        def do_GET(self):
            path = self.path.split("?")[0]
            n = state.hit(path, self.headers)
            m = re.match(r"^/([a-z0-9]+)/([A-Za-z0-9._-]+)$", path)
            if not m or m.group(2).split(".")[0] not in state.feeds:
                self.send_body(404, b"not found\n", "text/plain")
                return
            route, name = m.group(1), m.group(2)
            feed = state.feeds[name.split(".")[0]]
            if route == "f":
                self.serve_feed(feed)
            elif route == "r429":
                if n == 1:
                    self.send_body(429, b"slow down\n", "text/plain",
                                   [("Retry-After", "1")])
                else:
                    self.serve_feed(feed)
            elif route == "r500":
                if n == 1:
                    self.send_body(500, b"oops\n", "text/plain")
                else:
                    self.serve_feed(feed)
            elif route == "always500":
                self.send_body(503, b"down\n", "text/plain")
            elif route == "trunc":
                # announces the whole body, sends half, hangs up
                self.send_response(200)
                self.send_header("Content-Length", str(len(feed.data)))
                self.end_headers()
                self.wfile.write(feed.data[:len(feed.data) // 2])
                self.wfile.flush()
                self.close_connection = True
            elif route == "nolen":
                # no Content-Length: the size is only known by counting
                self.send_response(200)
                self.send_header("Connection", "close")
                self.end_headers()
                for i in range(0, len(feed.data), 65536):
                    self.wfile.write(feed.data[i:i + 65536])
                self.close_connection = True
            elif route == "sha":
                digest = hashlib.sha256(feed.data).hexdigest()
                body = ("%s  other.zip\n%s  %s\n" % ("0" * 64, digest,
                                                     name[:-7])).encode()
                self.send_body(200, body, "text/plain")
            elif route == "badsha":
                body = ("%s  %s\n" % ("ab" * 32, name[:-7])).encode()
                self.send_body(200, body, "text/plain")
            elif route == "html":
                self.send_body(200, b"<!DOCTYPE html><html><body>mirror "
                               b"maintenance</body></html>\n", "text/html")
            else:
                self.send_body(404, b"not found\n", "text/plain")

    return H


class QuietServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # mamori hangs up on purpose (a body over max_size): not an error
        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, BrokenPipeError)):
            super().handle_error(request, client_address)


class Server:
    def __init__(self, state):
        self.httpd = QuietServer(("127.0.0.1", 0), make_handler(state))
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, route, name):
        return "http://127.0.0.1:%d/%s/%s" % (self.port, route, name)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --- the cases ---------------------------------------------------------------

class Ctx:
    def __init__(self, runner, server, state, counts):
        self.r = runner
        self.srv = server
        self.state = state
        self.counts = counts
        self.db = os.path.join(runner.cache, "vuln.db")
        self.n = 0

    def sources(self, entries):
        """Writes a sources file; entries are dicts."""
        self.n += 1
        path = os.path.join(self.r.root, "sources-%d.yaml" % self.n)
        with open(path, "w") as f:
            f.write("sources:\n")
            for e in entries:
                first = True
                for k, v in e.items():
                    f.write("  %s %s: %s\n" % ("-" if first else " ", k, v))
                    first = False
        return path

    def update(self, srcfile, *extra):
        return self.r.run(["db", "update", "--db-path", self.db, "--sources",
                           srcfile, "--quiet"] + list(extra))

    def sqlite(self, q, *args):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        try:
            return con.execute(q, args).fetchall()
        finally:
            con.close()

    def count(self, source):
        return self.sqlite("SELECT count(*) FROM advisories WHERE source = ?",
                           source)[0][0]

    def digest(self):
        with open(self.db, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()

    def leftovers(self):
        return [n for n in os.listdir(self.r.cache) if n != "vuln.db"]


def std_sources(c, go="f", alpine="f", pypa="f"):
    return c.sources([
        {"name": "go", "kind": "osv-zip", "url": c.srv.url(go, "go.zip"),
         "expect_min_records": 4000},
        {"name": "alpine", "kind": "alpine-secdb",
         "url": c.srv.url(alpine, "alpine.json")},
        {"name": "pypa", "kind": "osv", "url": c.srv.url(pypa, "pypa1.yaml")},
    ])


def case_first_update(c):
    src = std_sources(c)
    res = c.update(src)
    if res.rc != 0:
        raise Fail("db update: " + res.describe())
    eq(c.count("go"), c.counts["go"], "Go advisories")
    eq(c.count("pypa"), 1, "PyPA advisories (one YAML record)")
    eq(c.count("alpine"), c.counts["alpine"], "Alpine advisories")
    rows = {r[0]: r for r in c.sqlite(
        "SELECT name, kind, location, updated_at, records, etag, last_modified,"
        " sha256 FROM sources")}
    eq(sorted(rows), ["alpine", "go", "pypa"], "sources rows")
    eq(rows["pypa"][1], "osv", "pypa kind")
    eq(rows["alpine"][1], "alpine-secdb", "alpine kind")
    go = rows["go"]
    eq(go[1], "osv-zip", "go kind")
    eq(go[2], c.srv.url("f", "go.zip"), "go location")
    check(abs(go[3] - time.time()) < 600, "go updated_at %r is not now" % go[3])
    eq(go[4], c.counts["go"], "go records")
    eq(go[5], c.state.feeds["go"].etag, "stored ETag")
    eq(go[6], c.state.feeds["go"].last_modified, "stored Last-Modified")
    eq(go[7], hashlib.sha256(c.state.feeds["go"].data).hexdigest(),
       "stored sha256")
    built = c.sqlite("SELECT value FROM meta WHERE key = 'built_at'")
    check(built and abs(int(built[0][0]) - time.time()) < 600,
          "meta built_at %r" % built)
    check("updated" in res.out and "go" in res.out, "stdout: %r" % res.out)
    # `mamori db info` tells the same counts
    info = c.r.run(["db", "info", "--db-path", c.db])
    eq(info.rc, 0, "db info exit status (%s)" % info.describe())
    for name in ("go", "alpine", "pypa"):
        check(name in info.out, "db info does not list %s: %r" % (name, info.out))
    check(str(c.counts["go"]) in info.out,
          "db info does not show %d Go advisories: %r" % (c.counts["go"], info.out))
    eq(c.leftovers(), [], "files left beside the database")


def case_conditional_304(c):
    before = c.digest()
    c.state.reset_log()
    res = c.update(std_sources(c))
    if res.rc != 0:
        raise Fail("db update: " + res.describe())
    for name in ("go.zip", "alpine.json", "pypa1.yaml"):
        reqs = c.state.requests("/f/" + name)
        eq(len(reqs), 1, "requests for " + name)
        h = reqs[0][1]
        feed = c.state.feeds[name.split(".")[0]]
        eq(h.get("If-None-Match"), feed.etag, name + " If-None-Match")
        eq(h.get("If-Modified-Since"), feed.last_modified,
           name + " If-Modified-Since")
    eq(len(re.findall(r"unchanged", res.out)) >= 3, True,
       "'unchanged' for each source in %r" % res.out)
    eq(c.digest(), before, "database after an all-304 update (untouched)")
    # --force fetches again without the validators
    c.state.reset_log()
    res = c.update(std_sources(c), "--force", "--only", "go")
    eq(res.rc, 0, "--force exit status (%s)" % res.describe())
    reqs = c.state.requests("/f/go.zip")
    eq(len(reqs), 1, "requests with --force")
    check("If-None-Match" not in reqs[0][1], "--force sent If-None-Match")
    eq(c.count("go"), c.counts["go"], "Go advisories after --force")


def case_updated_feed(c):
    old_alpine = c.state.feeds["alpine"].data
    c.state.feeds["alpine"].set(c.counts["alpine_new_data"], "alpine2")
    c.state.reset_log()
    try:
        res = c.update(std_sources(c))
        if res.rc != 0:
            raise Fail("db update: " + res.describe())
        eq(c.count("alpine"), c.counts["alpine_new"],
           "Alpine advisories after the feed shrank (old rows dropped)")
        eq(c.count("go"), c.counts["go"], "Go rows kept on 304")
        eq(c.count("pypa"), 1, "PyPA rows kept on 304")
        eq(c.sqlite("SELECT etag FROM sources WHERE name='alpine'")[0][0],
           c.state.feeds["alpine"].etag, "new ETag stored")
        check(re.search(r"alpine\s+updated", res.out), "stdout %r" % res.out)
        check(re.search(r"go\s+unchanged", res.out), "stdout %r" % res.out)
    finally:
        c.state.feeds["alpine"].set(old_alpine, "alpine")
    # and back: the full feed again
    res = c.update(std_sources(c), "--only", "alpine")
    eq(res.rc, 0, "update back (%s)" % res.describe())
    eq(c.count("alpine"), c.counts["alpine"], "Alpine advisories restored")


def expect_failure(c, entries, must, extra=()):
    before = c.digest()
    res = c.update(c.sources(entries), *extra)
    eq(res.rc, 2, "exit status (%s)" % res.describe())
    lines = [l for l in res.err.split("\n") if l.strip()]
    check(lines and lines[-1].startswith("mamori: "),
          "want 'mamori: <message>', got %r" % res.err)
    msg = lines[-1]
    print("  %s" % msg, flush=True)
    for m in must:
        check(m.lower() in msg.lower(), "message %r does not name %r" % (msg, m))
    # the download folder is private and gone: the message names the URL
    check(c.r.cache not in msg, "message names the temp file: %r" % msg)
    eq(c.digest(), before, "database checksum after a failed update")
    eq(c.leftovers(), [], "files left beside the database")
    return msg


def case_failures_leave_db(c):
    go = {"name": "go", "kind": "osv-zip", "url": c.srv.url("f", "go.zip")}
    size = len(c.state.feeds["go"].data)
    cases = [
        # a good source first: its download is discarded too
        ("truncated", [dict(go, name="ok"),
                       dict(go, name="cut", url=c.srv.url("trunc", "go.zip"))],
         ["cut", "/trunc/go.zip"], ["--retries", "1"]),
        ("too big (Content-Length)", [dict(go, max_size=size // 2)],
         ["go", "/f/go.zip", "max_size"], ["--force"]),
        ("too big (no length)",
         [dict(go, url=c.srv.url("nolen", "go.zip"), max_size="1M")],
         ["go", "/nolen/go.zip", "max_size"], []),
        # a pin the stored copy does not match: no conditional request
        ("wrong sha256", [dict(go, sha256="ab" * 32)],
         ["go", "/f/go.zip", "sha256"], []),
        ("wrong sha256_url", [dict(go, sha256_url=c.srv.url(
            "badsha", "go.zip.sha256"))], ["go", "sha256"], ["--force"]),
        ("html page", [dict(go, url=c.srv.url("html", "go.zip"))],
         ["go", "/html/go.zip", "HTML"], []),
        ("404", [dict(go, url=c.srv.url("f", "nothing.zip"))],
         ["go", "/f/nothing.zip", "404"], []),
        ("server down", [dict(go, url=c.srv.url("always500", "go.zip"))],
         ["go", "/always500/go.zip", "503"], ["--retries", "1"]),
        ("too few records", [dict(go, expect_min_records=100000)],
         ["go", "100000"], ["--force"]),
        ("wrong format for the kind", [dict(go, kind="debian-tracker")],
         ["go", "/f/go.zip"], ["--force"]),
        # the importer's own checks: a JSON feed cut short (served whole)
        ("feed the importer rejects",
         [dict(go, name="ok"), {"name": "cutjson", "kind": "alpine-secdb",
                                "url": c.srv.url("f", "alpinecut.json")}],
         ["cutjson", "/f/alpinecut.json"], []),
    ]
    failed = []
    for what, entries, must, extra in cases:
        print("  - %s" % what, flush=True)
        try:
            expect_failure(c, entries, must, extra)
        except Fail as e:
            failed.append("%s: %s" % (what, e))
    c.state.reset_log()
    # the truncated body was retried once
    expect_failure(c, [dict(go, name="cut", url=c.srv.url("trunc", "go.zip"))],
                   ["cut"], ["--retries", "2"])
    eq(len(c.state.requests("/trunc/go.zip")), 3, "attempts on a cut body")
    if failed:
        raise Fail("; ".join(failed))


def case_retries(c):
    c.state.reset_log()
    entries = [{"name": "go", "kind": "osv-zip",
                "url": c.srv.url("r429", "go.zip")},
               {"name": "pypa", "kind": "osv",
                "url": c.srv.url("r500", "pypa1.yaml")}]
    t0 = time.monotonic()
    res = c.update(c.sources(entries), "--force")
    if res.rc != 0:
        raise Fail("db update: " + res.describe())
    reqs = c.state.requests("/r429/go.zip")
    eq(len(reqs), 2, "requests for the 429 route")
    gap = reqs[1][0] - reqs[0][0]
    check(0.9 <= gap < 10, "Retry-After: 1 not honoured: %.2f s between tries"
          % gap)
    eq(len(c.state.requests("/r500/pypa1.yaml")), 2, "requests for the 500 route")
    check(time.monotonic() - t0 < 60, "retries took too long")
    eq(c.count("go"), c.counts["go"], "Go advisories after the retries")
    eq(c.count("pypa"), 1, "PyPA advisories after the retries")
    # no retries wanted: the first 500 is final
    c.state.reset_log()
    before = c.digest()
    res = c.update(c.sources([dict(entries[1], name="pypa")]), "--force",
                   "--retries", "0")
    eq(res.rc, 2, "exit with --retries 0 (%s)" % res.describe())
    eq(len(c.state.requests("/r500/pypa1.yaml")), 1, "requests with --retries 0")
    eq(c.digest(), before, "database after the refused update")


def case_pypa_yaml_zip(c):
    """The PyPA advisory database is OSV in YAML: a zip of its files (as a
    mirror would publish it) imports every record."""
    res = c.update(c.sources([{"name": "pypa-zip", "kind": "osv-zip",
                               "url": c.srv.url("f", "pypa.zip")}]))
    if res.rc != 0:
        raise Fail("db update: " + res.describe())
    eq(c.count("pypa-zip"), c.counts["pypa"], "PyPA advisories from the zip")
    eq(c.count("go"), c.counts["go"], "Go rows untouched")


def case_keep_going(c):
    before_go = c.count("go")
    c.state.feeds["alpine"].set(c.counts["alpine_new_data"], "alpine3")
    try:
        res = c.update(c.sources([
            {"name": "alpine", "kind": "alpine-secdb",
             "url": c.srv.url("f", "alpine.json")},
            {"name": "broken", "kind": "osv-zip",
             "url": c.srv.url("html", "go.zip")}]), "--keep-going")
        eq(res.rc, 1, "--keep-going exit status (%s)" % res.describe())
        check("broken" in res.err and "/html/go.zip" in res.err,
              "stderr does not name the failed source: %r" % res.err)
        eq(c.count("alpine"), c.counts["alpine_new"],
           "the source that worked was imported")
        eq(c.count("go"), before_go, "unselected source kept")
    finally:
        c.state.feeds["alpine"].set(c.counts["alpine_data"], "alpine")
    res = c.update(std_sources(c), "--only", "alpine")
    eq(res.rc, 0, "restore (%s)" % res.describe())


def case_insecure_refused(c):
    before = c.digest()
    c.state.reset_log()
    # never contacted: refused before any connection (and .invalid never
    # resolves, RFC 6761)
    msg = expect_failure(c, [{"name": "remote", "kind": "osv-zip",
                              "url": "http://feeds.example.invalid/all.zip"}],
                         ["remote", "http://feeds.example.invalid/all.zip",
                          "insecure"])
    check("https" in msg, "the message does not suggest https: %r" % msg)
    eq(c.digest(), before, "database")
    # --only with an unknown name is a usage error naming it
    res = c.update(std_sources(c), "--only", "go,nosuch")
    eq(res.rc, 2, "--only nosuch (%s)" % res.describe())
    check("nosuch" in res.err, "stderr %r" % res.err)
    # a broken sources file names its line
    bad = os.path.join(c.r.root, "bad.yaml")
    with open(bad, "w") as f:
        f.write("sources:\n  - name: x\n    kind: nvd\n    url: https://h/x\n")
    res = c.r.run(["db", "update", "--db-path", c.db, "--sources", bad])
    eq(res.rc, 2, "bad sources file (%s)" % res.describe())
    check("bad.yaml:3:" in res.err, "stderr does not name line 3: %r" % res.err)


CASES = [
    ("first_update", case_first_update),
    ("conditional_304", case_conditional_304),
    ("updated_feed", case_updated_feed),
    ("failures_leave_db", case_failures_leave_db),
    ("retries", case_retries),
    ("pypa_yaml_zip", case_pypa_yaml_zip),
    ("keep_going", case_keep_going),
    ("insecure_refused", case_insecure_refused),
]


def main():
    suite = mmrun.Suite()
    want = sys.argv[1:]
    names = [n for n, _ in CASES if not want or n in want]
    vd = vulndata()
    go_zip = os.path.join(vd, "osv-go", "all.zip")
    secdb = os.path.join(vd, "alpine-secdb", "v3.11", "main.yaml")
    pypa = os.path.join(vd, "pypa")
    if not all(os.path.exists(p) for p in (go_zip, secdb, pypa)):
        suite.skip_all(names, "shared vulndata absent (%s)" % vd)
        suite.finish()
    try:
        runner = mmrun.Runner()
    except Skip as e:
        suite.skip_all(names, str(e))
        suite.finish()

    state = State()
    counts = {}
    with open(go_zip, "rb") as f:
        data = f.read()
    state.feeds["go"] = Feed(data, "go")
    # withdrawn records are not advisories any more: the importer skips them
    z = zipfile.ZipFile(io.BytesIO(data))
    counts["go"] = sum(1 for n in z.namelist() if n.endswith(".json") and
                       "withdrawn" not in json.loads(z.read(n)))
    data = secdb_json(secdb)
    state.feeds["alpine"] = Feed(data, "alpine")
    counts["alpine_data"] = data
    counts["alpine"] = len(secdb_ids(data))
    state.feeds["alpinecut"] = Feed(data[:len(data) // 2], "alpinecut")
    # the "new" feed: a third of the packages gone
    data = secdb_json(secdb, drop_every=3)
    counts["alpine_new_data"] = data
    counts["alpine_new"] = len(secdb_ids(data))
    # PyPA: the advisories of the first 40 packages, zipped like all.zip
    buf = io.BytesIO()
    n = 0
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        pkgs = [d for d in sorted(os.listdir(pypa))
                if os.path.isdir(os.path.join(pypa, d))]
        for pkg in pkgs[:40]:
            for fn in sorted(os.listdir(os.path.join(pypa, pkg))):
                if fn.endswith(".yaml"):
                    p = os.path.join(pypa, pkg, fn)
                    z.write(p, fn)
                    with open(p, encoding="utf-8") as f:
                        if not re.search(r"(?m)^withdrawn:", f.read()):
                            n += 1
    state.feeds["pypa"] = Feed(buf.getvalue(), "pypa")
    counts["pypa"] = n
    # one real PyPA record, served as is (kind osv, YAML)
    with open(os.path.join(pypa, "aiohttp", "PYSEC-2021-76.yaml"), "rb") as f:
        state.feeds["pypa1"] = Feed(f.read(), "pypa1")

    server = Server(state)
    ctx = Ctx(runner, server, state, counts)
    try:
        for name, fn in CASES:
            if name in names:
                suite.case(name, fn, ctx)
    finally:
        server.close()
        runner.close()
    suite.finish()


if __name__ == "__main__":
    main()
