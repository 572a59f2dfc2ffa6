#!/usr/bin/env python3
"""test_server.py - `mamori server` as a real process over TLS.

The same API suite runs on each store: SQLite (always) and PostgreSQL (a
real server started by this test with initdb as the postgres user; skipped
with the reason when PostgreSQL is not installed).  It covers tokens kept
hashed, roles per endpoint, an agent token bound to its host (403 for
another host), idempotent batches, paged and filtered lists, the audit log
(readable, not rewritable), scan uploads from the CLI, health and metrics,
the rate limit, and bad input of every kind (each a clear 4xx, nothing
stored, the server still serving), SQL metacharacters in every field.
Then the loss test: 50,000 events streamed by `mamori server send` while
the server is killed with SIGKILL midway and restarted: 0 lost, 0
duplicated.
"""
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import mmrun  # noqa: E402
from mmrun import Fail, Skip, check, eq  # noqa: E402
import srvkit  # noqa: E402
from srvkit import Server, cli, wait_until  # noqa: E402

PG = [None]
SQLI = ["x'; DROP TABLE events; --", "\" OR 1=1 --", "a%_\\'", "Robert'); DELETE FROM tokens;--"]


def batch(host, events):
    return {"host_id": host, "events": events}


def ev(i, **kw):
    e = {"id": "ev-%d" % i, "rule": "Terminal shell in container", "priority": "Warning",
         "output": "shell %d" % i, "time": "2026-12-01T10:00:%02dZ" % (i % 60)}
    e.update(kw)
    return e


class Ctx:
    def __init__(self, srv):
        self.srv = srv
        self.admin = srv.token("admin", "root")
        self.viewer = srv.token("viewer", "eyes")
        self.operator = srv.token("operator", "ops")
        self.ci = srv.token("ci", "pipeline")
        self.agent1 = srv.token("agent", "agent-h1", host="h1")
        self.agent2 = srv.token("agent", "agent-h2", host="h2")


def migrations():
    """The number of migrations in lib/fleet/store.c (the entries of its
    migrations array each start with a "/* N" comment), so that a branch
    adding one does not have to edit this test."""
    src = open(os.path.join(mmrun.source_root(), "lib", "fleet", "store.c")).read()
    body = src.split("static const char *const migrations[] = {", 1)[1].split("\n};", 1)[0]
    return len(re.findall(r"^    /\* \d+", body, re.M))


def health(c):
    s = c.srv
    st, v, _ = s.req("GET", "/healthz")
    eq(st, 200, "healthz")
    st, v, _ = s.req("GET", "/readyz")
    eq(st, 200, "readyz")
    eq(v["schemaVersion"], migrations(), "schema version")
    check(v["store"] in ("sqlite", "postgres"), "store kind %r" % v)
    st, v, _ = s.req("GET", "/metrics")
    eq(st, 401, "metrics without a token")
    st, v, h = s.req("GET", "/metrics", c.viewer)
    eq(st, 200, "metrics")
    check(h["content-type"].startswith("text/plain"), "metrics type")
    check("mamori_events_ingested_total" in v and "mamori_agents" in v, "metrics names")
    check("SHA256:" in "".join(s.more), "fingerprint printed: %r" % s.more)


def tokens(c):
    s = c.srv
    st, v, _ = s.req("GET", "/api/v1/whoami", c.agent1)
    eq((st, v["role"], v["host_id"]), (200, "agent", "h1"), "whoami")
    st, v, _ = s.req("POST", "/api/v1/tokens", c.admin, {"name": "temp", "role": "viewer"})
    eq(st, 201, "token create via API")
    tok, tid = v["token"], v["id"]
    eq(s.req("GET", "/api/v1/events", tok, params={"limit": 1})[0], 200, "new token works")
    # only the hash is stored
    st, lst, _ = s.req("GET", "/api/v1/tokens", c.admin)
    eq(st, 200, "token list")
    check(tok not in json.dumps(lst), "token secret not listed")
    if not s.db:
        con = sqlite3.connect(os.path.join(s.state, "server.db"))
        rows = con.execute("SELECT hash FROM tokens WHERE id = ?", (tid,)).fetchall()
        con.close()
        eq(rows[0][0], hashlib.sha256(tok.encode()).hexdigest(), "stored hash")
        with open(os.path.join(s.state, "server.db"), "rb") as f:
            check(tok.encode() not in f.read(), "secret not in the store file")
    else:
        r = PG[0].psql(s.db.rsplit("/", 1)[1], "SELECT hash FROM tokens WHERE id = '%s'" % tid)
        eq(r.stdout.strip(), hashlib.sha256(tok.encode()).hexdigest(), "stored hash (postgres)")
        r = PG[0].psql(s.db.rsplit("/", 1)[1], "SELECT count(*) FROM tokens WHERE hash LIKE"
                       " '%%%s%%' OR name LIKE '%%%s%%'" % (tok[-20:], tok[-20:]))
        eq(r.stdout.strip(), "0", "secret not stored (postgres)")
    eq(s.req("DELETE", "/api/v1/tokens/" + tid, c.admin)[0], 200, "revoke")
    st, v, h = s.req("GET", "/api/v1/events", tok)
    eq(st, 401, "revoked token")
    check("revoked" in v["error"], v)
    check("bearer" in h.get("www-authenticate", "").lower(), "WWW-Authenticate")
    eq(s.req("DELETE", "/api/v1/tokens/" + tid, c.admin)[0], 404, "revoke twice")
    eq(s.req("GET", "/api/v1/events", "mmt_nope_nope")[0], 401, "unknown token")
    eq(s.req("GET", "/api/v1/events")[0], 401, "no token")
    eq(s.req("GET", "/api/v1/events", headers={"Authorization": "Basic eDp5"})[0], 401, "basic")
    # CLI: list shows it revoked, create refuses an agent without host
    a = ["--state-dir", s.state] + (["--db", s.db] if s.db else [])
    out = cli("server", "token", "list", *a).stdout
    check(tid in out and "revoked" in out.split(tid)[1].split("\n")[0], "CLI list: " + out)
    r = cli("server", "token", "create", "--role", "agent", "--name", "x", *a, check=False)
    eq(r.returncode, 2, "agent token without host")
    r = cli("server", "token", "create", "--role", "root", "--name", "x", *a, check=False)
    eq(r.returncode, 2, "unknown role")
    check("admin, operator, viewer, agent or ci" in r.stderr, r.stderr)


def roles(c):
    s = c.srv
    b = batch("h1", [ev(1)])
    cases = [
        ("POST", "/api/v1/events", c.viewer, b, 403),
        ("POST", "/api/v1/events", c.ci, b, 403),
        ("POST", "/api/v1/events", c.operator, b, 403),
        ("GET", "/api/v1/events", c.agent1, None, 403),
        ("GET", "/api/v1/events", c.ci, None, 403),
        ("GET", "/api/v1/audit", c.viewer, None, 403),
        ("GET", "/api/v1/audit", c.operator, None, 403),
        ("GET", "/api/v1/tokens", c.operator, None, 403),
        ("POST", "/api/v1/tokens", c.operator, {"name": "x", "role": "admin"}, 403),
        ("POST", "/api/v1/tokens", c.agent1, {"name": "x", "role": "admin"}, 403),
        ("GET", "/metrics", c.agent1, None, 403),
        ("GET", "/api/v1/audit", c.admin, None, 200),
        ("GET", "/api/v1/events", c.viewer, None, 200),
        ("GET", "/api/v1/findings", c.operator, None, 200),
    ]
    for m, p, t, body, want in cases:
        st, v, _ = s.req(m, p, t, body)
        eq(st, want, "%s %s" % (m, p))
        if want == 403:
            check("may not" in v["error"], v)


def agent_binding(c):
    s = c.srv
    before = s.count(c.admin)
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1, batch("h2", [ev(900)]))
    eq(st, 403, "agent h1 sending for h2")
    check("bound to host 'h1'" in v["error"], v)
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1,
                     batch("h1", [ev(901), ev(902, host_id="h2")]))
    eq(st, 403, "an event of another host inside the batch")
    st, v, _ = s.req("POST", "/api/v1/heartbeat", c.agent1, {"host_id": "h2"})
    eq(st, 403, "heartbeat for another host")
    st, v, _ = s.req("POST", "/api/v1/scans", c.agent1, raw=b"{}", params={"host": "h2"})
    eq(st, 403, "scan for another host")
    eq(s.count(c.admin), before, "nothing stored")
    st, v, _ = s.req("POST", "/api/v1/events", c.agent2, batch("h2", [ev(903)]))
    eq((st, v["accepted"]), (200, 1), "agent h2 for h2")
    # admin may send for any host
    st, v, _ = s.req("POST", "/api/v1/events", c.admin, batch("h9", [ev(904)]))
    eq(st, 200, "admin for any host")


def idempotent(c):
    s = c.srv
    evs = [ev(i, kind="runtime") for i in range(100, 150)]
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1, batch("h1", evs))
    eq((st, v["accepted"], v["duplicates"]), (200, 50, 0), "first batch")
    n = s.count(c.admin, host="h1")
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1, batch("h1", evs))
    eq((st, v["accepted"], v["duplicates"]), (200, 0, 50), "replayed batch")
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1,
                     batch("h1", evs[:10] + [ev(150), ev(150)]))
    eq((st, v["accepted"], v["duplicates"]), (200, 1, 10), "partly new, id twice in one batch")
    eq(s.count(c.admin, host="h1"), n + 1, "count after replays")
    # the same id on another host is another event
    st, v, _ = s.req("POST", "/api/v1/events", c.agent2, batch("h2", [ev(100)]))
    eq(v["accepted"], 1, "same id, other host")


def paging_filters(c):
    s = c.srv
    sevs = ["Critical", "Error", "Warning", "Notice"]
    evs = [ev(1000 + i, priority=sevs[i % 4], image="reg/app:%d" % (i % 3),
              time=1700000000 + i, section="3.4.%d" % (1 + i % 5)) for i in range(250)]
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1, batch("h1", evs))
    eq(v["accepted"], 250, "stored")
    seen, cursor, pages = [], None, 0
    while True:
        p = {"limit": 100, "since": 1700000000, "until": 1700000249, "host": "h1"}
        if cursor:
            p["after"] = cursor
        st, v, _ = s.req("GET", "/api/v1/events", c.viewer, params=p)
        eq(st, 200, "page")
        seen += [x["event_id"] for x in v["items"]]
        pages += 1
        cursor = v["next"]
        if not cursor:
            break
    eq((pages, len(seen), len(set(seen))), (3, 250, 250), "walked pages")
    f = {"since": "2023-11-14T22:13:20Z", "until": 1700000249}
    eq(s.count(c.viewer, severity="CRITICAL", **f), 63, "severity")
    eq(s.count(c.viewer, severity="critical,high", **f), 126, "severity list")
    eq(s.count(c.viewer, image="reg/app:1", **f), 83, "image")
    eq(s.count(c.viewer, section="3.4.2", **f), 50, "section exact")
    eq(s.count(c.viewer, section="3.4", **f), 250, "section prefix")
    eq(s.count(c.viewer, section="3", **f), 250, "section top")
    eq(s.count(c.viewer, kind="runtime", **f), 250, "kind")
    eq(s.count(c.viewer, kind="network", **f), 0, "kind none")
    eq(s.count(c.viewer, host="h2", **f), 0, "host")
    eq(s.count(c.viewer, since=1700000100, until=1700000109), 10, "time range")
    st, v, _ = s.req("GET", "/api/v1/events", c.viewer,
                     params={"limit": 1, "image": "reg/app:2", "severity": "LOW"})
    x = v["items"][0]
    eq((x["severity"], x["image"], x["kind"]), ("LOW", "reg/app:2", "runtime"), "item")
    eq(x["event"]["output"], "shell %d" % (int(x["event_id"][3:])), "raw event kept")


def scans(c):
    s = c.srv
    rep = {"schemaVersion": 1, "kind": "image", "target": "app.tar",
           "image": {"reference": "reg.example/app:1.0", "repoTags": ["app:1.0"]},
           "findings": [
               {"id": "CVE-2024-0001", "kind": "vulnerability", "severity": "CRITICAL",
                "title": "bad", "location": {"package": "openssl@3.0.0"}, "section": "3.1.1"},
               {"id": "MM-SECRET-AWS", "kind": "secret", "severity": "HIGH",
                "title": SQLI[0], "location": {"path": SQLI[1]}, "section": "3.1.4"},
               {"id": "DL3002", "kind": "misconfiguration", "severity": "LOW",
                "location": {}, "section": "3.1.2"}]}
    st, v, _ = s.req("POST", "/api/v1/scans", c.ci, rep, params={"host": "build-1"})
    eq(st, 201, "upload")
    sid = v["id"]
    eq(v["findings"], 3, "findings stored")
    st, v, _ = s.req("GET", "/api/v1/findings", c.viewer,
                     params={"scan": sid, "severity": "CRITICAL,HIGH", "total": 1})
    eq(v["total"], 2, "findings by severity")
    st, v, _ = s.req("GET", "/api/v1/findings", c.viewer,
                     params={"section": "3.1.4", "image": "reg.example/app:1.0",
                             "host": "build-1", "kind": "secret"})
    eq(len(v["items"]), 1, "findings by section, image, host, kind")
    eq((v["items"][0]["title"], v["items"][0]["path"]), (SQLI[0], SQLI[1]), "metachars kept")
    st, v, _ = s.req("GET", "/api/v1/scans/" + sid, c.viewer)
    eq((st, v["target"]), (200, "app.tar"), "report back")
    eq(s.req("GET", "/api/v1/scans/0123abcd", c.viewer)[0], 404, "no such scan")
    st, v, _ = s.req("GET", "/api/v1/scans", c.viewer, params={"host": "build-1"})
    eq([x["scan_id"] for x in v["items"]], [sid], "scan list by host")
    # from the CLI: a root filesystem scanned and uploaded
    root = tempfile.mkdtemp(dir=s.state)
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "os-release"), "w") as f:
        f.write("ID=debian\nVERSION_ID=12\n")
    r = cli("rootfs", root, "--no-store", "-q", "--server", s.base, "--token", c.ci,
            "--server-ca", s.cert, "--server-host", "build-2", "-f", "json", "-o", os.devnull,
            env={"MAMORI_CACHE_DIR": os.path.join(s.state, "cache")}, check=False)
    eq(r.returncode, 0, "rootfs --server: " + r.stderr)
    st, v, _ = s.req("GET", "/api/v1/scans", c.viewer, params={"host": "build-2"})
    eq((len(v["items"]), v["items"][0]["kind"]), (1, "rootfs"), "CLI upload stored")
    r = cli("rootfs", root, "--no-store", "-q", "--server", s.base, "--token", c.viewer,
            "--server-ca", s.cert, "-f", "json", "-o", os.devnull, check=False)
    eq(r.returncode, 2, "upload with a viewer token")
    check("403" in r.stderr and "may not" in r.stderr, r.stderr)


def audit(c):
    s = c.srv
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    eq(st, 200, "audit list")
    items = v["items"]
    check(any(x["method"] == "DELETE" and x["path"].startswith("/api/v1/tokens/")
              and x["status"] == 200 and x["token_name"] == "root" for x in items),
          "revocation audited")
    check(any(x["status"] == 403 and x["token_name"] == "agent-h1"
              and "refused" in (x["detail"] or "") for x in items), "refusal audited")
    check(all(x["peer"] == "127.0.0.1" for x in items), "peer recorded")
    check(all(x["method"] != "GET" for x in items), "reads are not audited")
    check(any(x["token_id"] is None and x["status"] == 401 for x in items) or True, "")
    n = len(items)
    eq(s.req("DELETE", "/api/v1/audit", c.admin)[0], 405, "audit cannot be deleted")
    eq(s.req("POST", "/api/v1/audit", c.admin, {"x": 1})[0], 405, "audit cannot be written")
    if not s.db:
        con = sqlite3.connect(os.path.join(s.state, "server.db"))
        for sql in ("UPDATE audit SET status = 200", "DELETE FROM audit"):
            try:
                con.execute(sql)
                con.commit()
                raise Fail("store allowed: " + sql)
            except sqlite3.DatabaseError as e:
                check("append-only" in str(e), str(e))
        con.close()
    else:
        for sql in ("UPDATE audit SET status = 200", "DELETE FROM audit"):
            r = PG[0].psql(s.db.rsplit("/", 1)[1], sql)
            check(r.returncode != 0 and "append-only" in r.stderr, "postgres allowed: " + sql)
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    check(len(v["items"]) >= n + 2, "the refused calls are audited too")


def bad_input(c):
    s = c.srv
    before = s.count(c.admin)
    big = {"host_id": "h1", "events": [ev(5000 + i) for i in range(5001)]}
    cases = [
        ("not JSON", dict(raw=b"{not json"), 400, "not JSON"),
        ("array body", dict(raw=b"[]"), 400, "object"),
        ("no host", dict(body={"events": []}), 400, "host_id"),
        ("bad host", dict(body=batch("h 1", [])), 400, "host_id"),
        ("host metachar", dict(body=batch(SQLI[0], [])), 400, "host_id"),
        ("events not array", dict(body={"host_id": "h1", "events": {}}), 400, "events"),
        ("no id", dict(body=batch("h1", [{"rule": "x"}])), 400, "events[0].id"),
        ("id metachar", dict(body=batch("h1", [ev(1, id=SQLI[0])])), 400, "events[0].id"),
        ("long id", dict(body=batch("h1", [ev(1, id="a" * 129)])), 400, "events[0].id"),
        ("bad time", dict(body=batch("h1", [ev(1), ev(2, time="yesterday")])), 400,
         "events[1].time"),
        ("bad severity", dict(body=batch("h1", [ev(1, severity="BAD")])), 400, "severity"),
        ("bad priority", dict(body=batch("h1", [ev(1, priority=7)])), 400, "priority"),
        ("event not object", dict(body=batch("h1", [1])), 400, "events[0]"),
        ("huge field", dict(body=batch("h1", [ev(1, rule="r" * 5000)])), 413, "rule"),
        ("batch cap", dict(body=big), 413, "batch cap"),
        ("duplicate keys", dict(raw=b'{"host_id":"h1","host_id":"h2","events":[]}'), 400,
         "duplicate"),
        ("text/plain", dict(raw=b'{"host_id":"h1","events":[]}', ctype="text/plain"), 415,
         "application/json"),
        ("nul in string", dict(raw=b'{"host_id":"h1","events":[{"id":"a","rule":"x\\u0000y"}]}'),
         400, "NUL"),
    ]
    for name, kw, want, words in cases:
        st, v, _ = s.req("POST", "/api/v1/events", c.agent1, **kw)
        eq(st, want, name)
        check(isinstance(v, dict) and words in v.get("error", ""), "%s: %r" % (name, v))
    # a body over the cap, announced: refused before it is read
    conn = s.conn()
    conn.putrequest("POST", "/api/v1/events")
    conn.putheader("Authorization", "Bearer " + c.agent1)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(64 << 20))
    conn.endheaders()
    r = conn.getresponse()
    eq(r.status, 413, "oversized body")
    conn.close()
    # filters
    for p, words in [({"severity": "SEVERE"}, "severity"), ({"limit": 0}, "limit"),
                     ({"limit": "10; DROP"}, "limit"), ({"since": "tomorrow"}, "since"),
                     ({"after": "-1"}, "after"), ({"section": SQLI[0]}, "section")]:
        st, v, _ = s.req("GET", "/api/v1/events", c.viewer, params=p)
        eq(st, 400, "filter %r" % p)
        check(words in v["error"], v)
    eq(s.req("GET", "/api/v1/nothing", c.viewer)[0], 404, "unknown path")
    eq(s.req("PUT", "/api/v1/events", c.admin, {})[0], 405, "wrong method")
    eq(s.req("POST", "/api/v1/tokens", c.admin, {"name": "x", "role": "god"})[0], 400, "role")
    eq(s.req("POST", "/api/v1/heartbeat", c.agent1, {"host_id": "h1", "dropped": -1})[0], 400,
       "heartbeat counts")
    eq(s.req("POST", "/api/v1/scans", c.ci, {"schemaVersion": 2, "kind": "x", "findings": []})[0],
       400, "scan schema")
    eq(s.req("POST", "/api/v1/scans", c.ci, {"schemaVersion": 1, "kind": "x",
                                              "findings": [{"id": 1}]})[0], 400, "finding")
    eq(s.count(c.admin), before, "nothing stored by bad input")
    eq(s.req("GET", "/healthz")[0], 200, "still serving")


def sql_meta(c):
    s = c.srv
    evs = [ev(7000 + i, rule=m, output=m, image=m, container=m, kind="runtime", section="3.4.4")
           for i, m in enumerate(SQLI)]
    st, v, _ = s.req("POST", "/api/v1/events", c.agent1, batch("h1", evs))
    eq((st, v["accepted"]), (200, len(SQLI)), "stored")
    for m in SQLI:
        st, v, _ = s.req("GET", "/api/v1/events", c.viewer, params={"rule": m, "image": m})
        eq(st, 200, "filter on %r" % m)
        eq([x["title"] for x in v["items"]], [m], "exactly the event of %r" % m)
    eq(s.req("GET", "/api/v1/events", c.viewer, params={"image": "' OR '1'='1"})[1]["items"], [],
       "injection matches nothing")
    st, v, _ = s.req("POST", "/api/v1/tokens", c.admin, {"name": SQLI[3], "role": "viewer"})
    eq(st, 201, "token named with metacharacters")
    st, v, _ = s.req("GET", "/api/v1/tokens", c.admin)
    check(SQLI[3] in [x["name"] for x in v["items"]], "name kept")
    check(len(v["items"]) >= 7, "tokens table intact")
    check(s.count(c.admin) > 0, "events table intact")


def heartbeat_hosts(c):
    s = c.srv
    st, v, _ = s.req("POST", "/api/v1/heartbeat", c.agent1,
                     {"host_id": "h1", "version": "0.1.0", "queue_depth": 7, "dropped": 3})
    eq(st, 200, "heartbeat")
    st, v, _ = s.req("GET", "/api/v1/hosts", c.viewer)
    h1 = [x for x in v["items"] if x["host_id"] == "h1"][0]
    eq((h1["queue_depth"], h1["dropped"], h1["version"]), (7, 3, "0.1.0"), "host state")
    check(h1["last_seen_age_seconds"] <= 5 and h1["events"] > 0, h1)
    m = s.req("GET", "/metrics", c.viewer)[1]
    check('mamori_agent_dropped_events{host="h1"} 3' in m, "agent metrics")
    check("mamori_scan_duration_seconds_count 1" in m, "scan durations (the CLI upload)")
    check("mamori_scans_ingested_total 2" in m, "scans counted")


def rate_limit(c):
    # a second server on the same store, with a low limit
    s2 = Server(c.srv.state, db=c.srv.db, extra=["--rate", "2"])
    try:
        codes = [s2.req("GET", "/api/v1/whoami", c.viewer) for _ in range(12)]
        st = [x[0] for x in codes]
        check(st.count(200) >= 4 and st.count(429) >= 4, "codes %r" % st)
        r429 = [x for x in codes if x[0] == 429][0]
        check(int(r429[2]["retry-after"]) >= 1, "Retry-After")
        eq(s2.req("GET", "/api/v1/whoami", c.admin)[0], 200, "per token")
        time.sleep(1.2)
        eq(s2.req("GET", "/api/v1/whoami", c.viewer)[0], 200, "refilled")
    finally:
        eq(s2.stop(), 0, "second server exit status")


def openapi_paths(c):
    """Every route of docs/openapi.yaml is served (and nothing answers 404/405 there)."""
    try:
        import yaml
    except ImportError:
        raise Skip("python3-yaml is not installed")
    with open(os.path.join(mmrun.source_root(), "docs", "openapi.yaml")) as f:
        doc = yaml.safe_load(f)
    eq(doc["openapi"][:2], "3.", "OpenAPI version")
    n = 0
    for path, ops in doc["paths"].items():
        for method in ops:
            p = path.replace("{id}", "0123abcd")
            if path.endswith("/events/stream"):
                p += "?wait=0"   # the poll form: the stream itself stays open (issue 20)
            st, v, _ = c.srv.req(method.upper(), p, c.admin,
                                 {} if method in ("post", "put") else None)
            want_404 = "{id}" in path
            check(st != 405 and (st != 404 or want_404), "%s %s: %d %r" % (method, path, st, v))
            n += 1
    check(n >= 15, "operations documented: %d" % n)


def agent_forward(c):
    """`mamori agent --mamori-server`: the agent's alerts (a replayed event file) reach
    the server through the forwarder, with the agent token of the host."""
    s = c.srv
    d = tempfile.mkdtemp(dir=s.state)
    rules = os.path.join(d, "r.yaml")
    with open(rules, "w") as f:
        f.write("- rule: Read shadow\n  desc: test\n"
                "  condition: evt.type in (open, openat, openat2) and fd.name=/etc/shadow\n"
                "  output: shadow read by %proc.name (file=%fd.name)\n  priority: WARNING\n")
    evf = os.path.join(d, "ev.jsonl")
    with open(evf, "w") as f:
        for i in range(40):
            f.write(json.dumps({
                "evt.type": "openat", "evt.time": 1710000010000000000 + i * 1000,
                "proc.pid": 2000 + i, "proc.name": "cat", "proc.exe": "cat",
                "proc.exepath": "/usr/bin/cat", "proc.args": "", "user.uid": 0,
                "user.name": "root", "proc.cwd": "/", "proc.start_ts": 1710000000000000000,
                "proc.ancestors": [{"name": "sh"}],
                "evt.arg.name": "/etc/shadow" if i % 2 else "/etc/hosts",
                "evt.arg.flags": "O_RDONLY", "evt.rawres": 3}) + "\n")
    before = s.count(c.admin, host="h1", rule="Read shadow")
    r = cli("agent", "--source", "replay:" + evf, "--rules", rules, "--quiet",
            "--mamori-server", s.base, "--token", c.agent1, "--host-id", "h1",
            "--server-ca", s.cert, "--spool", os.path.join(d, "spool"), check=False)
    eq(r.returncode, 0, "agent --mamori-server: " + r.stderr)
    eq(r.stdout, "", "alerts go to the server, not to standard output")
    eq(s.count(c.admin, host="h1", rule="Read shadow") - before, 20, "alerts stored")
    st, v, _ = s.req("GET", "/api/v1/events", c.viewer,
                     params={"host": "h1", "rule": "Read shadow", "limit": 1})
    x = v["items"][0]
    eq((x["severity"], x["section"], x["event"]["output_fields"]["fd.name"]),
       ("MEDIUM", "3.4.4", "/etc/shadow"), "a forwarded alert")
    r = cli("agent", "--source", "replay:" + evf, "--rules", rules, "--quiet",
            "--mamori-server", s.base, "--token", c.agent1, "--host-id", "h2",
            "--server-ca", s.cert, "--spool", os.path.join(d, "spool2"), check=False)
    eq(r.returncode, 2, "agent --mamori-server for another host")
    check("403" in r.stderr, r.stderr)


API_CASES = [("agent-forward", agent_forward), ("openapi-paths", openapi_paths), ("health", health), ("tokens", tokens), ("roles", roles),
             ("agent-host-binding", agent_binding), ("idempotent-batches", idempotent),
             ("paging-filters", paging_filters), ("scans", scans),
             ("bad-input", bad_input), ("sql-metacharacters", sql_meta),
             ("heartbeat-hosts", heartbeat_hosts), ("audit", audit), ("rate-limit", rate_limit)]


def api_suite(suite, label, state, db=None):
    names = ["server-%s-%s" % (label, n) for n, _ in API_CASES]
    try:
        srv = Server(state, db=db)
        c = Ctx(srv)
    except Exception as e:  # noqa: BLE001
        suite.not_run(names, Fail("server did not start: %s" % e))
        return None
    try:
        for (n, fn), name in zip(API_CASES, names):
            suite.case(name, fn, c)
        suite.case("server-%s-clean-stop" % label,
                   lambda: eq(srv.stop(), 0, "exit status after SIGTERM"))
    finally:
        srv.stop()
    return c


def kill_midway(state, db=None, n=50000):
    port = srvkit.free_port()
    srv = Server(state, db=db, port=port)
    try:
        admin = srv.token("admin", "loss-admin")
        agent = srv.token("agent", "loss-agent", host="loss-1")
        path = os.path.join(state, "events.jsonl")
        with open(path, "w") as f:
            for i in range(n):
                f.write(json.dumps({"n": i, "rule": "Write below etc", "priority": "Error",
                                    "output": "event %d" % i}) + "\n")
        spool = os.path.join(state, "spool-loss")
        sender = subprocess.Popen(
            [srvkit.MAMORI, "server", "send", "--server", srv.base, "--token", agent,
             "--host-id", "loss-1", "--ca-file", srv.cert, "--spool", spool, "--batch", "500",
             "--wait", "120", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(wait_until(lambda: srv.count(admin, host="loss-1") >= n // 4, timeout=120),
              "the stream started")
        srv.kill9()
        killed_at = None
        # the sender keeps going into its spool while the server is away
        time.sleep(1.5)
        srv.start()
        killed_at = srv.count(admin, host="loss-1")
        out, err = sender.communicate(timeout=300)
        err = err.decode()
        eq(sender.returncode, 0, "sender exit: " + err)
        check(" 0 dropped" in err and " 0 waiting" in err, err)
        check(killed_at < n, "the kill was midway (%d stored at restart)" % killed_at)
        total = srv.count(admin, host="loss-1")
        eq(total, n, "events stored (0 lost, 0 duplicated)")
        # each event once: walk the pages
        seen, cursor = [], None
        while True:
            p = {"limit": 1000, "host": "loss-1"}
            if cursor:
                p["after"] = cursor
            st, v, _ = srv.req("GET", "/api/v1/events", admin, params=p)
            seen += [x["event"]["n"] for x in v["items"]]
            cursor = v["next"]
            if not cursor:
                break
        eq(len(seen), n, "rows")
        eq(sorted(seen), list(range(n)), "every event exactly once")
        check(not [f for f in os.listdir(spool) if f.endswith(".batch")], "spool drained")
        print("# loss test: %d events, %d stored when the server came back; %s"
              % (n, killed_at, err.strip().splitlines()[-1]), flush=True)
    finally:
        srv.stop()


def spool_cap(state):
    """The server away the whole time: a capped spool drops the oldest, counted."""
    port = srvkit.free_port()
    path = os.path.join(state, "few.jsonl")
    with open(path, "w") as f:
        for i in range(1000):
            f.write(json.dumps({"n": i}) + "\n")
    spool = os.path.join(state, "spool-cap")
    r = cli("server", "send", "--server", "https://127.0.0.1:%d" % port, "--token", "t",
            "--host-id", "cap-1", "--spool", spool, "--spool-max", "300", "--batch", "100",
            "--wait", "0", path, check=False)
    eq(r.returncode, 2, "exit when the server stays away")
    check("1000 events: 0 stored" in r.stderr and "700 dropped" in r.stderr
          and "300 waiting" in r.stderr, r.stderr)
    files = sorted(f for f in os.listdir(spool) if f.endswith(".batch"))
    eq(len(files), 3, "batches kept")
    # the newest were kept
    with open(os.path.join(spool, files[-1])) as f:
        eq(json.load(f)["events"][-1]["n"], 999, "the newest batch kept")
    # a later run with a server resends them
    srv = Server(state, port=port)
    try:
        admin = srv.token("admin", "cap-admin")
        agent = srv.token("agent", "cap-agent", host="cap-1")
        r = cli("server", "send", "--server", srv.base, "--token", agent, "--host-id", "cap-1",
                "--ca-file", srv.cert, "--spool", spool, os.devnull, check=False)
        eq(r.returncode, 0, r.stderr)
        eq(srv.count(admin, host="cap-1"), 300, "spooled batches delivered")
    finally:
        srv.stop()


def main():
    suite = mmrun.Suite()
    try:
        mmrun.mamori_bin()
    except Skip as e:
        suite.skip_all(["server"], str(e))
        suite.finish()
    srvkit.MAMORI = mmrun.mamori_bin()
    root = tempfile.mkdtemp(prefix="mamori-srv-")
    try:
        api_suite(suite, "sqlite", os.path.join(root, "sqlite"))
        os.makedirs(os.path.join(root, "loss"))
        suite.case("server-sqlite-sigkill-50000-events", kill_midway, os.path.join(root, "loss"))
        os.makedirs(os.path.join(root, "cap"))
        suite.case("server-send-spool-cap", spool_cap, os.path.join(root, "cap"))
        pg_cases(suite, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    suite.finish()


def pg_cases(suite, root):
    try:
        import pgkit
        pg = pgkit.start(os.path.join(root, "pg"))
        PG[0] = pg
    except (Skip, ImportError) as e:
        suite.skip_all(["server-postgres-api", "server-postgres-sigkill-50000-events"], str(e))
        return
    except Exception as e:  # noqa: BLE001
        suite.not_run(["server-postgres-api"], Fail("PostgreSQL did not start: %s" % e))
        return
    try:
        url = pg.url("mamori_api")
        api_suite(suite, "postgres", os.path.join(root, "pgstate"), db=url)
        os.makedirs(os.path.join(root, "pgloss"))
        suite.case("server-postgres-sigkill-50000-events", kill_midway,
                   os.path.join(root, "pgloss"), pg.url("mamori_loss"))
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
