#!/usr/bin/env python3
"""test_console.py - the web console of `mamori server` (issue 20).

A real server (SQLite, TLS) is filled by real scans (`mamori rootfs ...
--server` of a root filesystem holding a secret in a file whose name is
hostile markup), a scan report uploaded through the API whose image name,
finding paths and titles are `<script>` and `javascript:` payloads, and
runtime alerts forwarded by `mamori agent --mamori-server` from a replayed
event file, with a rule name and process fields that are payloads too.

The API side (stdlib): the embedded files and their security headers, the
session cookie (HttpOnly, Secure, SameSite=Strict; the token is not in it),
CSRF on every state change made with the cookie, roles (viewer, agent),
revocation ending the session, logout, acknowledging and silencing alerts
(audit-logged), the summary, images, the live stream (server-sent events
after Last-Event-ID) and the SP 800-190 report API (HTML, JSON, matrix).

The browser side: tests/browser/console.mjs, Debian's chromium driven by
playwright-core (SKIP with the reason when node_modules or chromium is
missing), logs in, opens every page, asserts content, clicks the actions,
and proves that no payload ran; screenshots go to BUILD/console-screenshots.
The API side runs again on PostgreSQL (a private server, pgkit; SKIP when
PostgreSQL is not installed).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import mmrun  # noqa: E402
from mmrun import Fail, Skip, check, eq  # noqa: E402
import srvkit  # noqa: E402
from srvkit import Server, cli  # noqa: E402

XSS_IMG = "<script>window.__mmxss=1</script><img src=x onerror=\"window.__mmxss=2;alert(2)\">"
XSS_PATH = "javascript:window.__mmxss=3;alert(3)"
XSS_RULE = "Shell <img src=x onerror=\"window.__mmxss=4;alert(4)\"> spawned"
XSS_PROC = "<script>window.__mmxss=5</script>"
XSS_REG = "<img src=x onerror=\"window.__mmxss=6;alert(6)\">.example.com"
SIGNATURE = {"image": "registry.example.com/shop/app:1.0", "digest": "sha256:2b62aa",
             "signatures_found": True, "verified": True, "error": None,
             "keys": [{"path": "ec.pub", "type": "ecdsa-p256", "id": "sha256:cc42"}],
             "signatures": [{"payload_digest": "sha256:dfef", "valid": True,
                             "key_id": "sha256:cc42", "key_path": "ec.pub", "reason": None}]}
GH_TOKEN = "ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7"


class Ctx:
    pass


def cookie_session(s, token):
    """Logs in; (cookie header value, csrf, Set-Cookie)"""
    st, v, h = s.req("POST", "/api/v1/session", body={"token": token})
    eq(st, 201, "login: %r" % (v,))
    sc = h.get("set-cookie", "")
    return sc.split(";")[0], v["csrf"], sc


def fill(c):
    """Real data: a rootfs scan, a hostile image report, agent alerts."""
    s = c.srv
    root = tempfile.mkdtemp(dir=s.state)
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "os-release"), "w") as f:
        f.write("ID=debian\nVERSION_ID=12\n")
    os.makedirs(os.path.join(root, "srv", "app"))
    with open(os.path.join(root, "srv", "app", "<img src=x onerror=alert(7)>.env"), "w") as f:
        f.write("GITHUB_TOKEN=%s\n" % GH_TOKEN)
    r = cli("rootfs", root, "--no-store", "-q", "--server", s.base, "--token", c.ci,
            "--server-ca", s.cert, "--server-host", "node-1", "-f", "json", "-o", os.devnull,
            env={"MAMORI_CACHE_DIR": os.path.join(s.state, "cache")}, check=False)
    eq(r.returncode, 0, "rootfs --server: " + r.stderr)
    c.rootfs = root
    rep = {"schemaVersion": 1, "kind": "image", "target": "evil.tar",
           "image": {"reference": XSS_IMG},
           "findings": [
               {"id": "CVE-2024-0001", "kind": "vulnerability", "severity": "CRITICAL",
                "title": "<img src=x onerror=alert(8)>", "section": "3.1.1",
                "location": {"package": "javascript:alert(9)", "path": XSS_PATH}},
               {"id": "MM-SECRET", "kind": "secret", "severity": "HIGH", "title": "key",
                "section": "3.1.4", "location": {"path": XSS_PATH}}]}
    st, v, _ = s.req("POST", "/api/v1/scans", c.ci, rep, params={"host": "node-1"})
    eq(st, 201, "hostile upload")
    rep2 = {"schemaVersion": 1, "kind": "image", "target": "app.tar",
            "image": {"reference": "registry.example.com/shop/app:1.0"},
            "findings": [{"id": "CVE-2023-%04d" % i, "kind": "vulnerability",
                          "severity": ["CRITICAL", "HIGH", "MEDIUM", "LOW"][i % 4],
                          "title": "vuln %d" % i, "section": "3.1.1",
                          "remediation": "upgrade openssl to 3.0.%d" % (i + 1),
                          "location": {"package": "openssl@3.0.%d" % i}} for i in range(120)],
            "signature": SIGNATURE}
    eq(s.req("POST", "/api/v1/scans", c.ci, rep2, params={"host": "node-2"})[0], 201, "upload 2")
    rep3 = json.loads(json.dumps(rep2))   # the next version: 60 fixed, 30 new
    rep3["image"]["reference"] = "registry.example.com/shop/app:1.1"
    del rep3["signature"]   # 1.1: no signature data ("not collected")
    rep3["findings"] = [dict(x, id="CVE-2023-%04d" % i, location={"package": "openssl@3.0.%d" % i})
                        for i, x in zip(range(60, 150), rep2["findings"] * 2)]
    eq(s.req("POST", "/api/v1/scans", c.ci, rep3, params={"host": "node-2"})[0], 201, "upload 3")
    # runtime alerts through the real agent and forwarder
    d = tempfile.mkdtemp(dir=s.state)
    rules = os.path.join(d, "r.yaml")
    with open(rules, "w") as f:
        f.write("- rule: %s\n  desc: test\n"
                "  condition: evt.type in (open, openat, openat2) and fd.name=/etc/shadow\n"
                "  output: shadow read by %%proc.name (file=%%fd.name cmd=%%proc.cmdline)\n"
                "  priority: CRITICAL\n" % json.dumps(XSS_RULE))
    evf = os.path.join(d, "ev.jsonl")
    with open(evf, "w") as f:
        for i in range(12):
            f.write(json.dumps({
                "evt.type": "openat", "evt.time": 1710000010000000000 + i * 1000,
                "proc.pid": 2000 + i, "proc.name": XSS_PROC, "proc.exe": "cat",
                "proc.exepath": "/usr/bin/cat", "proc.args": XSS_PATH, "user.uid": 0,
                "user.name": "root", "proc.cwd": "/", "proc.start_ts": 1710000000000000000,
                "proc.ancestors": [{"name": "sh"}],
                "evt.arg.name": "/etc/shadow" if i % 2 else "/etc/hosts",
                "evt.arg.flags": "O_RDONLY", "evt.rawres": 3}) + "\n")
    r = cli("agent", "--source", "replay:" + evf, "--rules", rules, "--quiet",
            "--mamori-server", s.base, "--token", c.agent, "--host-id", "node-1",
            "--server-ca", s.cert, "--spool", os.path.join(d, "spool"), check=False)
    eq(r.returncode, 0, "agent --mamori-server: " + r.stderr)
    eq(s.count(c.admin, host="node-1"), 6, "alerts stored")
    c.events_file, c.rules_file, c.tmp = evf, rules, d
    fill_registries(c)
    fill_profiles(c)


def fill_profiles(c):
    """Issue 20a: a learned profile of host node-p whose image key, process
    names and paths are payloads, and its capture list, as an agent sends
    them (the browser test opens it, enforces it and checks its drift)."""
    s = c.srv
    c.agent_p = s.token("agent", "agent-np", host="node-p")
    prof = {"version": 1, "learned": {"start": "2026-01-01T10:00:00Z", "end": "2026-01-01T11:00:00Z",
                                      "seconds": 3600},
            "priority": "Warning", "action": "none",
            "images": [{"image": XSS_IMG,
                        "processes": [{"exe": XSS_PATH, "name": XSS_PROC, "parents": [XSS_RULE],
                                       "count": 3}],
                        "files": [{"path": "/tmp/" + XSS_RULE, "count": 1}],
                        "listen": [{"proto": "tcp", "port": 8080}],
                        "connect": [{"dest": "10.0.0.7", "port": 5432, "proto": "tcp"}]}]}
    st, v, _ = s.req("POST", "/api/v1/profiles", c.agent_p,
                     {"host_id": "node-p", "id": "np-1", "profile": prof})
    eq(st, 200, "profile upload: %r" % v)
    c.profile_id = v["profiles"][0]["id"]
    st, v, _ = s.req("POST", "/api/v1/captures", c.agent_p,
                     {"host_id": "node-p", "captures": [{"file": "/var/lib/mamori/" + XSS_PATH,
                                                         "start": 1710000000, "end": 1710000100,
                                                         "size": 4096, "events": 12}]})
    eq(st, 200, "capture list: %r" % v)
    st, v, _ = s.req("POST", "/api/v1/captures/file", c.agent_p,
                     {"host_id": "node-p", "file": "/var/lib/mamori/" + XSS_PATH, "start": 1710000000,
                      "end": 1710000100, "size": 4096, "events": 12,
                      "data": base64.b64encode(b"\x28\xb5\x2f\xfd" + bytes(4092)).decode()})
    eq(st, 200, "capture file: %r" % v)


def fill_registries(c):
    """A real `mamori registry check --server` of an open docker-registry
    (when installed), a hostile registry-check report, a rescan schedule."""
    s = c.srv
    c.reg = None
    try:
        import regkit
        c.reg = regkit.Registry("plain").start()
    except Exception as e:   # noqa: BLE001
        print("  registry check upload: not run (%s)" % e, flush=True)
    if c.reg:
        r = cli("registry", "check", c.reg.host, "--server", s.base, "--token", c.ci,
                "--server-ca", s.cert, "-f", "json", "-o", os.devnull, check=False)
        eq(r.returncode, 0, "registry check --server: " + r.stderr)
        check("uploaded to " in r.stderr, r.stderr)
        st, v, _ = s.req("POST", "/api/v1/schedules", c.admin,
                         {"name": "rescan-open", "kind": "registry-rescan", "every": "1d",
                          "registry": c.reg.host})
        eq(st, 201, "schedule: %r" % (v,))
    c.signed = c.unsigned = None
    if c.reg:
        fill_signed(c)
        fill_check_schedule(c)
    hostile = {"schemaVersion": 1, "kind": "registry-check", "target": XSS_REG,
               "findings": [{"id": "MM-REGCHK-001", "kind": "trust", "severity": "HIGH",
                             "section": "3.2.3", "title": "anonymous pull " + XSS_PATH}],
               "registryCheck": {"target": XSS_REG, "summary": {"pass": 0, "fail": 1,
                                                                "not_applicable": 0, "error": 0},
                                 "checks": [{"id": "MM-REGCHK-001", "name": XSS_PROC,
                                             "title": XSS_RULE, "section": "3.2.3",
                                             "severity": "HIGH", "verdict": "fail",
                                             "evidence": XSS_PATH}]}}
    eq(s.req("POST", "/api/v1/scans", c.ci, hostile)[0], 201, "hostile registry check")


def fill_signed(c):
    """Two images in the open registry, one signed with `mamori sign`: each
    scanned with `mamori image --verify-key --server` (issue 20)."""
    import imgkit
    import regkit
    if regkit.missing_tools("skopeo", "openssl"):
        print("  signed images: not run (skopeo or openssl missing)", flush=True)
        return
    s, d = c.srv, tempfile.mkdtemp(dir=c.srv.state)
    layer = imgkit.Layer([imgkit.F("etc/os-release", 'ID=alpine\nVERSION_ID=3.19.1\n')])
    arch = os.path.join(d, "app.tar")
    imgkit.write_docker_archive(arch, imgkit.Image([layer]), ["shop/app:2.0"])
    c.reg.push("docker-archive:" + arch, "shop/signed:2.0")
    c.reg.push("docker-archive:" + arch, "shop/unsigned:2.0")
    priv, pub = os.path.join(d, "ec.key"), os.path.join(d, "ec.pub")
    regkit.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-out", priv])
    regkit.run(["openssl", "pkey", "-in", priv, "-pubout", "-out", pub])
    ins = ["--insecure-registry", c.reg.host]
    r = cli("sign", "--key", priv, *ins, c.reg.host + "/shop/signed:2.0", check=False)
    eq(r.returncode, 0, "mamori sign: " + r.stderr)
    env = {"MAMORI_CACHE_DIR": os.path.join(s.state, "cache")}
    # a real (tiny) vulnerability database for the signed image's scan: the
    # report then names it and its age, which the image page shows
    feed = os.path.join(d, "debian-tracker.json")
    with open(feed, "w") as f:
        json.dump({"openssl": {"CVE-2024-0001": {"releases": {"bookworm": {
            "status": "resolved", "fixed_version": "3.0.1", "urgency": "high"}}}}}, f)
    vdb = os.path.join(d, "vuln.db")
    r = cli("db", "import", "--db-path", vdb, feed, check=False)
    eq(r.returncode, 0, "db import: " + r.stderr)
    out = {}
    for name in ("signed", "unsigned"):
        rep = os.path.join(d, name + ".json")
        dbargs = ["--db-path", vdb] if name == "signed" else []
        r = cli("image", c.reg.host + "/shop/%s:2.0" % name, "--verify-key", pub, *ins, *dbargs,
                "--no-store", "-q", "--server", s.base, "--token", c.ci, "--server-ca", s.cert,
                "--server-host", "node-2", "-f", "json", "-o", rep, env=env, check=False)
        eq(r.returncode, 0, "image --verify-key (%s): %s" % (name, r.stderr))
        with open(rep) as f:
            out[name] = json.load(f)
    vd = out["signed"].get("vulnerabilityDB") or {}
    check(vd.get("version") and vd.get("builtAt") and vd.get("ageDays") == 0,
          "the database the scan used: %r" % vd)
    check("vulnerabilityDB" not in out["unsigned"], "no database, no member")
    sig = out["signed"]["signature"]
    eq((sig["verified"], sig["signatures_found"], len(sig["signatures"])), (True, True, 1),
       "signed: %r" % sig)
    check(sig["digest"] == out["signed"]["image"]["manifestDigest"], "the digest scanned")
    check(not any(f["id"] == "MM-SIG-001" for f in out["signed"]["findings"]), "no finding")
    sig = out["unsigned"]["signature"]
    eq((sig["verified"], sig["signatures_found"]), (False, False), "unsigned: %r" % sig)
    f = [x for x in out["unsigned"]["findings"] if x["id"] == "MM-SIG-001"]
    eq(len(f), 1, "MM-SIG-001: %r" % out["unsigned"]["findings"])
    eq((f[0]["kind"], f[0]["section"], f[0]["severity"]), ("trust", "3.1.5", "HIGH"), "the finding")
    # a local archive has no signatures to check: refused before any work
    r = cli("image", arch, "--verify-key", pub, "--no-store", "-q", check=False)
    eq(r.returncode, 2, "--verify-key on an archive")
    check("registry" in r.stderr, r.stderr)
    r = cli("image", c.reg.host + "/shop/signed:2.0", "--verify-key", arch, *ins, "--no-store",
            "-q", check=False)
    eq(r.returncode, 2, "a bad key file")
    check("signature key" in r.stderr and arch in r.stderr, r.stderr)
    c.signed = out["signed"]["image"]["reference"]
    c.unsigned = out["unsigned"]["image"]["reference"]


def fill_check_schedule(c):
    """A registry-check schedule of the open registry, run now (issue 20)."""
    s = c.srv
    for bad in ({"registry": "a/b"}, {}, {"registry": c.reg.host, "timeout": 9999},
                {"registry": c.reg.host, "repository": "a b"}):
        body = dict({"name": "chk", "kind": "registry-check", "every": "1d"}, **bad)
        st, v, _ = s.req("POST", "/api/v1/schedules", c.admin, body)
        eq(st, 400, "bad schedule %r: %r" % (bad, v))
    body = {"name": "check-open", "kind": "registry-check", "every": "1d", "registry": c.reg.host,
            "timeout": 10}
    for tok in (c.viewer, c.operator, c.ci):
        eq(s.req("POST", "/api/v1/schedules", tok, body)[0], 403, "only an admin schedules")
    st, v, _ = s.req("POST", "/api/v1/schedules", c.admin, body)
    eq(st, 201, "check schedule: %r" % (v,))
    eq(s.req("POST", "/api/v1/schedules/check-open/run", c.operator)[0], 403, "operator runs")
    eq(s.req("POST", "/api/v1/schedules/check-open/run", c.admin)[0], 202, "run now")

    def ran():
        st, v, _ = s.req("GET", "/api/v1/schedules", c.viewer)
        r = [x for x in v["items"] if x["name"] == "check-open"][0]
        return r if r["runs"] >= 1 else None
    deadline = time.time() + 120
    while not ran() and time.time() < deadline:
        time.sleep(0.3)
    r = ran()
    check(r, "the registry-check schedule did not run")
    eq(r["last_status"], "ok", "check: %s" % r["last_detail"])
    check(r["last_detail"].startswith(c.reg.host + ": ") and " failed, " in r["last_detail"],
          r["last_detail"])
    st, audit, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    check(any(a["path"] == "/api/v1/schedules" and a["status"] == 201 for a in audit["items"]),
          "the schedule change is audit-logged")


def signatures(c):
    """The verification uploaded with the scans: the report API and the
    SP 800-190 row R10 per image and for the fleet."""
    if not c.signed:
        raise Skip("docker-registry, skopeo or openssl is not installed")
    s = c.srv
    for ref, verified, state in ((c.signed, True, "passing"), (c.unsigned, False, "findings")):
        st, v, _ = s.req("GET", "/api/v1/images", c.viewer, params={"name": ref})
        eq((st, len(v["items"])), (200, 1), "image %s: %r" % (ref, v))
        st, rep, _ = s.req("GET", "/api/v1/scans/" + v["items"][0]["scan_id"], c.viewer)
        eq(rep["signature"]["verified"], verified, "stored signature of " + ref)
        st, m, _ = s.req("GET", "/api/v1/report", c.viewer,
                         params={"image": ref, "format": "json", "matrix": 1})
        r10 = [r for r in m["rows"] if r["id"] == "R10"][0]
        eq(r10["state"], state, "R10 of %s: %r" % (ref, r10))
    st, v, _ = s.req("GET", "/api/v1/findings", c.viewer, params={"section": "3.1.5", "limit": 100})
    check(any(x["finding_id"] == "MM-SIG-001" and "/shop/unsigned:2.0" in (x.get("image") or "")
              for x in v["items"]), "MM-SIG-001 under 3.1.5: %r" % v["items"][:3])
    st, m, _ = s.req("GET", "/api/v1/report", c.viewer, params={"scope": "fleet", "format": "json",
                                                                 "matrix": 1})
    eq([r["state"] for r in m["rows"] if r["id"] == "R10"], ["findings"], "fleet R10")
    # the scheduled check is a scan of kind registry-check like the uploaded one
    st, v, _ = s.req("GET", "/api/v1/scans", c.viewer, params={"kind": "registry-check"})
    eq(len([x for x in v["items"] if x["target"] == c.reg.host]), 2, "uploaded and scheduled")


def registry_data(c):
    s = c.srv
    st, v, _ = s.req("GET", "/api/v1/scans", c.viewer, params={"kind": "registry-check"})
    targets = [x["target"] for x in v["items"]]
    check(XSS_REG in targets, "hostile target stored as is: %r" % targets)
    st, v, _ = s.req("GET", "/api/v1/images", c.viewer, params={"limit": 500})
    check(all(x["kind"] != "registry-check" for x in v["items"]), "registry checks are no images")
    if not c.reg:
        raise Skip("docker-registry is not installed: the upload of a real check was not run")
    check(c.reg.host in targets, "real check uploaded: %r" % targets)
    st, v, _ = s.req("GET", "/api/v1/scans", c.viewer, params={"kind": "registry-check"})
    sid = [x["scan_id"] for x in v["items"] if x["target"] == c.reg.host]
    st, rep, _ = s.req("GET", "/api/v1/scans/" + sid[-1], c.viewer)
    eq(rep["kind"], "registry-check", "kind")
    verdicts = {x["name"]: x["verdict"] for x in rep["registryCheck"]["checks"]}
    eq(len(verdicts), 7, "every check: %r" % verdicts)
    eq(verdicts["anonymous-pull"], "fail", "an open registry pulls anonymously")
    eq(verdicts["plain-http"], "fail", "plain HTTP")
    check(any(f["id"] == "MM-REGCHK-001" for f in rep["findings"]), "findings: %r" % rep["findings"])


def assets(c):
    s = c.srv
    st, body, h = s.req("GET", "/")
    eq(st, 200, "console page")
    check(h["content-type"].startswith("text/html"), h)
    check('<script type="module" src="/ui/app.js">' in body, "module script")
    check("<script>" not in body, "no inline script")
    csp = h.get("content-security-policy", "")
    for part in ("script-src 'self'", "frame-ancestors 'none'", "object-src 'none'",
                 "default-src 'none'"):
        check(part in csp, "CSP lacks %s: %r" % (part, csp))
    check("unsafe-inline" not in csp and "unsafe-eval" not in csp, csp)
    eq(h.get("x-content-type-options"), "nosniff", "nosniff")
    total = 0
    for f in ("app.js", "ui.js", "pages.js", "runtime.js", "hosts.js", "style.css"):
        st, body, h = s.req("GET", "/ui/" + f)
        eq(st, 200, f)
        check(("javascript" if f.endswith(".js") else "css") in h["content-type"], h)
        check("innerHTML" not in body and "eval(" not in body, "%s: no innerHTML or eval" % f)
        total += len(body.encode())
    check(total < 300 * 1024, "JS+CSS %d bytes" % total)
    eq(s.req("GET", "/ui/nope.js")[0], 404, "unknown file")
    eq(s.req("POST", "/ui/app.js", body={})[0], 405, "POST to a file")
    st, v, h = s.req("GET", "/api/v1/events", c.viewer, params={"limit": 1})
    check("frame-ancestors 'none'" in h.get("content-security-policy", ""), "API CSP")
    eq(h.get("cache-control"), "no-store", "API not cached")


def session(c):
    s = c.srv
    ck, csrf, sc = cookie_session(s, c.operator)
    low = sc.lower()
    for flag in ("httponly", "secure", "samesite=strict", "path=/"):
        check(flag in low, "Set-Cookie lacks %s: %r" % (flag, sc))
    check(c.operator not in sc and c.operator[-20:] not in sc, "token not in the cookie")
    sid = ck.split("=", 1)[1]
    check(len(sid) == 64, "a 256-bit session id")
    H = {"Cookie": ck}
    st, v, _ = s.req("GET", "/api/v1/session", headers=H)
    eq((st, v["role"], v["csrf"]), (200, "operator", csrf), "session info")
    eq(s.req("GET", "/api/v1/events", headers=H, params={"limit": 1})[0], 200, "cookie reads")
    ev = s.req("GET", "/api/v1/events", c.admin, params={"limit": 1})[1]["items"][0]["seq"]
    body = {"kind": "ack", "event": ev}
    st, v, _ = s.req("POST", "/api/v1/alerts/marks", body=body, headers=H)
    eq(st, 403, "state change without CSRF: %r" % (v,))
    st, v, _ = s.req("POST", "/api/v1/alerts/marks", body=body,
                     headers={"Cookie": ck, "X-CSRF-Token": "0" * 64})
    eq(st, 403, "wrong CSRF")
    st, v, _ = s.req("POST", "/api/v1/alerts/marks", body=body,
                     headers={"Cookie": ck, "X-CSRF-Token": csrf})
    eq(st, 201, "ack with CSRF: %r" % (v,))
    # another session's CSRF does not fit
    ck2, csrf2, _ = cookie_session(s, c.operator)
    st, v, _ = s.req("POST", "/api/v1/alerts/marks", body=body,
                     headers={"Cookie": ck, "X-CSRF-Token": csrf2})
    eq(st, 403, "CSRF of another session")
    # bad cookies
    for bad in ("mamori_session=" + "0" * 64, "mamori_session=", "x=1; mamori_session=\"\"",
                "mamori_session=" + "a" * 5000):
        eq(s.req("GET", "/api/v1/events", headers={"Cookie": bad})[0], 401, "cookie %r" % bad[:40])
    # roles: a viewer session may not act, may not see tokens; agent and ci may not log in
    vk, vcsrf, _ = cookie_session(s, c.viewer)
    eq(s.req("POST", "/api/v1/alerts/marks", body=body,
             headers={"Cookie": vk, "X-CSRF-Token": vcsrf})[0], 403, "viewer acks")
    eq(s.req("GET", "/api/v1/tokens", headers={"Cookie": vk})[0], 403, "viewer tokens")
    eq(s.req("POST", "/api/v1/session", body={"token": c.agent})[0], 403, "agent login")
    eq(s.req("POST", "/api/v1/session", body={"token": c.ci})[0], 403, "ci login")
    eq(s.req("POST", "/api/v1/session", body={"token": "mmt_x_y"})[0], 401, "bad token login")
    eq(s.req("POST", "/api/v1/session", body={"tok": "x"})[0], 400, "bad login body")
    eq(s.req("POST", "/api/v1/session", raw=b"token=x", ctype="application/x-www-form-urlencoded")[0],
       415, "a form post cannot log in")
    # revocation ends the sessions of the token
    st, v, _ = s.req("POST", "/api/v1/tokens", c.admin, {"name": "short", "role": "viewer"})
    tk, tid = v["token"], v["id"]
    k3, _, _ = cookie_session(s, tk)
    eq(s.req("GET", "/api/v1/hosts", headers={"Cookie": k3})[0], 200, "before revoke")
    eq(s.req("DELETE", "/api/v1/tokens/" + tid, c.admin)[0], 200, "revoke")
    eq(s.req("GET", "/api/v1/hosts", headers={"Cookie": k3})[0], 401, "after revoke")
    # logout needs the CSRF token too, then the cookie is dead
    eq(s.req("DELETE", "/api/v1/session", headers={"Cookie": ck2})[0], 403, "logout without CSRF")
    st, v, h = s.req("DELETE", "/api/v1/session", headers={"Cookie": ck2, "X-CSRF-Token": csrf2})
    eq(st, 200, "logout")
    check("max-age=0" in h.get("set-cookie", "").lower(), "cookie cleared")
    eq(s.req("GET", "/api/v1/session", headers={"Cookie": ck2})[0], 401, "after logout")
    # the audit log names the session's token for the ack and the logins
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    acks = [a for a in v["items"] if a["path"] == "/api/v1/alerts/marks" and a["status"] == 201]
    check(acks and acks[-1]["token_name"] == "ops" and acks[-1]["detail"] == "ack event %d" % ev,
          "audit of the ack: %r" % acks[-1:])
    check(any(a["path"] == "/api/v1/session" and a["status"] == 403 for a in v["items"]),
          "refused logins audited")


def marks(c):
    s = c.srv
    until = int(time.time()) + 3600
    st, v, _ = s.req("POST", "/api/v1/alerts/marks", c.operator,
                     {"kind": "silence", "rule": XSS_RULE, "host": "node-1", "until": until,
                      "note": "noisy"})
    eq(st, 201, "silence: %r" % (v,))
    st, v, _ = s.req("GET", "/api/v1/alerts/marks", c.viewer)
    sil = [m for m in v["items"] if m["kind"] == "silence"]
    eq((sil[0]["rule"], sil[0]["until"], sil[0]["host_id"]), (XSS_RULE, until, "node-1"), "listed")
    for bad in ({"kind": "mute"}, {"kind": "ack"}, {"kind": "ack", "event": 10 ** 9},
                {"kind": "silence", "rule": "x"}, {"kind": "silence", "rule": "x", "until": 5},
                {"kind": "silence", "rule": "x", "until": int(time.time()) + 400 * 86400},
                {"kind": "silence", "rule": "a\nb", "until": until},
                {"kind": "silence", "rule": "x", "until": until, "host": "a b"}):
        st, v, _ = s.req("POST", "/api/v1/alerts/marks", c.operator, bad)
        check(st in (400, 404), "%r: %d %r" % (bad, st, v))
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    check(any(a["detail"] and a["detail"].startswith("silence rule") and "until %d" % until
              in a["detail"] for a in v["items"]), "silence audited")


def views(c):
    s = c.srv
    st, v, _ = s.req("GET", "/api/v1/summary", c.viewer)
    eq(st, 200, "summary")
    nimg = 4 + (2 if c.signed else 0)
    check(v["findings"]["CRITICAL"] >= 31 and v["images"] == nimg and v["alerts"] == 6, v)
    eq(len(v["trend"]), 30, "30 days")
    check(sum(d["findings"].get("CRITICAL", 0) for d in v["trend"]) >= 31, "trend counts")
    st, v, _ = s.req("GET", "/api/v1/images", c.viewer, params={"limit": 2, "total": 1})
    eq((len(v["items"]), v["total"]), (2, nimg), "images page")
    names = [x["name"] for x in v["items"]]
    st, v2, _ = s.req("GET", "/api/v1/images", c.viewer, params={"after": v["next"]})
    names += [x["name"] for x in v2["items"]]
    eq(names, sorted(names), "sorted by name")
    check(XSS_IMG in names and "registry.example.com/shop/app:1.0" in names, names)
    st, v, _ = s.req("GET", "/api/v1/images", c.viewer,
                     params={"name": "registry.example.com/shop/app:1.0"})
    x = v["items"][0]
    eq((x["severity"]["CRITICAL"], x["kinds"]["vulnerability"], x["hosts"]), (30, 120, ["node-2"]),
       "image counts")
    st, v, _ = s.req("GET", "/api/v1/images", c.viewer, params={"name": c.rootfs})
    check(v["items"] and v["items"][0]["kinds"].get("secret", 0) >= 1, "rootfs secret: %r" % v)


def stream(c):
    s = c.srv
    st, v, _ = s.req("GET", "/api/v1/events", c.admin, params={"limit": 1000})
    seqs = [e["seq"] for e in v["items"]]
    st, body, h = s.req("GET", "/api/v1/events/stream", c.viewer,
                        headers={"Last-Event-ID": str(seqs[1])}, params={"wait": "0"})
    eq(st, 200, "stream")
    check(h["content-type"].startswith("text/event-stream"), h)
    ids = [int(l[4:]) for l in body.splitlines() if l.startswith("id: ")]
    eq(ids, seqs[2:], "events after the last id")
    data = [json.loads(l[6:]) for l in body.splitlines() if l.startswith("data: ")]
    eq(data[0]["rule"], XSS_RULE, "rule in the stream")
    check("retry: " in body, "retry")
    t = time.time()
    st, body, h = s.req("GET", "/api/v1/events/stream", c.viewer, params={"wait": "1"})
    check(time.time() - t >= 0.9 and "id: %d" % seqs[-1] in body, "no news: %r" % body)
    eq(s.req("GET", "/api/v1/events/stream", c.viewer, params={"after": "x"})[0], 400, "bad id")


def live_stream(c):
    """The real stream: the backlog after Last-Event-ID, then an alert
    posted while the stream is open arrives on it (no reconnect)."""
    import http.client
    import ssl
    import urllib.parse
    s = c.srv
    st, v, _ = s.req("GET", "/api/v1/events", c.admin, params={"limit": 1000})
    seqs = [e["seq"] for e in v["items"]]
    u = urllib.parse.urlparse(s.base)
    conn = http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                       context=ssl.create_default_context(cafile=s.cert))
    conn.request("GET", "/api/v1/events/stream",
                 headers={"Authorization": "Bearer " + c.viewer, "Last-Event-ID": str(seqs[-3])})
    r = conn.getresponse()
    eq(r.status, 200, "stream")
    check(r.getheader("content-type", "").startswith("text/event-stream"), r.getheaders())

    def record():
        """one event-stream record: {field: value} (comments skipped)"""
        rec = {}
        while True:
            line = r.fp.readline().decode()
            if not line:
                raise Fail("the stream ended")
            line = line.rstrip("\n")
            if not line:
                if rec:
                    return rec
                continue
            if line.startswith(":"):
                continue
            k, _, v = line.partition(": ")
            rec[k] = v
    first = record()                # retry and the id where the stream starts
    eq((first.get("retry"), first.get("id")), ("1000", str(seqs[-3])), "starts at Last-Event-ID")
    backlog = [record() for _ in range(2)]
    eq([int(x["id"]) for x in backlog], seqs[-2:], "the backlog after the id")
    eq(backlog[0].get("event"), "alert", "event type")
    t0 = time.time()
    st, v, _ = s.req("POST", "/api/v1/events", c.agent,
                     {"host_id": "node-1", "events": [{"id": "stream-live-1", "rule": "Live one",
                                                     "priority": "Warning", "output": "x",
                                                     "time": int(t0)}]})
    eq(st, 200, "post: %r" % (v,))
    seen = []
    while "stream-live-1" not in seen and len(seen) < 50:
        seen.append(json.loads(record()["data"])["event_id"])
    check("stream-live-1" in seen, "the new alert on the open stream: %r" % seen)
    print("  live alert arrived after %.0f ms" % ((time.time() - t0) * 1000), flush=True)
    conn.close()


def report(c):
    s = c.srv
    st, body, h = s.req("GET", "/api/v1/report", c.viewer, params={"scope": "fleet"})
    eq(st, 200, "html report")
    check(h["content-type"].startswith("text/html") and "R33" in body, "html")
    check(XSS_IMG not in body and "<script>window" not in body, "escaped in the report")
    check("script-src" not in h["content-security-policy"] and
          "default-src 'none'" in h["content-security-policy"], h["content-security-policy"])
    st, v, _ = s.req("GET", "/api/v1/report", c.viewer, params={"scope": "fleet", "format": "json"})
    eq((st, v["kind"], len(v["rows"])), (200, "sp800-190-report", 33), "json report")
    st, v, _ = s.req("GET", "/api/v1/report", c.viewer,
                     params={"image": "registry.example.com/shop/app:1.0", "format": "json"})
    eq(v["summary"]["findings"], 120, "image report")
    st, v, _ = s.req("GET", "/api/v1/report", c.viewer, params={"host": "node-1", "format": "json",
                                                                 "matrix": 1})
    eq((st, v["inputs"], len(v["rows"])), (200, 2, 33), "host matrix")
    r1 = [r for r in v["rows"] if r["id"] == "R07"][0]
    eq(r1["state"], "findings", "secrets row")
    eq(s.req("GET", "/api/v1/report", c.viewer, params={"host": "nobody"})[0], 404, "no such host")
    eq(s.req("GET", "/api/v1/report", c.viewer, params={"scope": "x"})[0], 400, "bad scope")
    eq(s.req("GET", "/api/v1/report", c.viewer, params={"format": "pdf"})[0], 400, "bad format")
    eq(s.req("GET", "/api/v1/report", c.viewer, params={"image": "a", "host": "b"})[0], 400, "both")


def browser(c):
    src = mmrun.source_root()
    bdir = os.path.join(src, "tests", "browser")
    if not os.path.exists(os.path.join(bdir, "node_modules", "playwright-core")):
        raise Skip("tests/browser/node_modules is missing: `npm ci` there (make test-deps)")
    chrome = os.environ.get("MAMORI_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chrome, os.X_OK):
        raise Skip("no chromium at %s (Debian package chromium)" % chrome)
    node = shutil.which("node")
    if not node:
        raise Skip("node is not installed")
    shots = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(mmrun.mamori_bin()))),
                         "console-screenshots")
    os.makedirs(shots, exist_ok=True)
    env = dict(os.environ, MM_BASE=c.srv.base, MM_ADMIN=c.admin, MM_VIEWER=c.viewer,
               MM_OPERATOR=c.operator, MM_AGENT=c.agent, MM_SHOTS=shots, MM_CHROMIUM=chrome,
               MM_XSS_IMG=XSS_IMG, MM_XSS_RULE=XSS_RULE, MM_XSS_PATH=XSS_PATH,
               MM_XSS_REG=XSS_REG, MM_REG=c.reg.host if c.reg else "",
               MM_PROFILE_ID=getattr(c, "profile_id", ""),
               MM_SIGNED=c.signed or "", MM_UNSIGNED=c.unsigned or "")
    r = subprocess.run([node, os.path.join(bdir, "console.mjs")], env=env, cwd=bdir,
                       capture_output=True, text=True, timeout=300)
    for line in (r.stdout + r.stderr).splitlines():
        print("  browser: " + line, flush=True)
    eq(r.returncode, 0, "console.mjs exit")
    check(os.path.exists(os.path.join(shots, "overview.png")), "screenshots in " + shots)


def run_suite(suite, label, state, db=None, browser_too=True):
    srv = c = None
    names = ["assets-headers", "session-csrf-roles", "ack-silence", "summary-images",
             "event-stream", "live-stream", "registry-data", "report-api", "signatures"] + \
        (["browser"] if browser_too else [])
    try:
        srv = Server(state, db=db)
        c = Ctx()
        c.srv = srv
        c.admin = srv.token("admin", "root")
        c.viewer = srv.token("viewer", "eyes")
        c.operator = srv.token("operator", "ops")
        c.ci = srv.token("ci", "pipeline")
        c.agent = srv.token("agent", "agent-n1", host="node-1")
        try:
            fill(c)
        except Exception as e:   # noqa: BLE001
            suite.not_run(["console-%s-%s" % (label, n) for n in names],
                          Fail("filling the server failed: %s" % e))
            return
        fns = [assets, session, marks, views, stream, live_stream, registry_data, report,
               signatures, browser]
        for n, fn in zip(names, fns):
            suite.case("console-%s-%s" % (label, n), fn, c)
    finally:
        if srv:
            srv.stop()
        if c and getattr(c, "reg", None):
            c.reg.stop()


def main():
    srvkit.main_sqlite_then_postgres("console", "mamori-console-", run_suite, "mamori_console",
                                     pg_skip="console-postgres-api", browser_too=False)


if __name__ == "__main__":
    main()
