#!/usr/bin/env python3
"""test_runtime_profiles.py - runtime profiles, drift and captures in
`mamori server` (issue 20a), end to end with a real agent.

1. A real `mamori agent --source replay:FILE --learn ... --profile-out P
   --capture C --mamori-server ...` learns a profile from a capture of a
   known workload; its forwarder uploads the profile and the capture list
   through the spool; the server lists the profile (host, image key,
   learned period, counts) and gives its content back exactly.
2. The API's rules: an agent token for another host is refused (403) for
   profiles and captures, a viewer may not enforce (403), an enforce
   without {"confirm": true} is refused (400), malformed and oversized
   uploads are 400/413 naming the field, an agent may not read the lists.
3. Enforcing (operator, confirmed): the state, who and when, the audit
   line; a second profile of the same host and image enforced later puts
   the first back to "learned"; GET /api/v1/agent/profiles gives the agent
   its enforced profiles as one document.
4. A real agent with --server-profiles replays a deviating capture: it
   fetches the enforced profile, raises exactly the three deviations, and
   they come back as the profile's drift.
5. The server away while an agent learns: the profile and the capture list
   wait in the spool and are delivered when it is back.
6. Live (root, eBPF; SKIP otherwise): an agent running with
   --server-profiles and nothing enforced fetches, reloads and checks a
   profile enforced while it runs (this test's listener becomes drift).
Each store: SQLite; PostgreSQL too when it is installed.
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
import mmrun  # noqa: E402
from mmrun import Skip, check, eq  # noqa: E402
import srvkit  # noqa: E402
from srvkit import Server, cli  # noqa: E402

CTR = {"container.id": "0123456789ab", "container.image": "shop/api:1.4"}
T0 = 1790000000


def ev(t, **kw):
    e = {"evt.time": (T0 + t) * 1000000000}
    for k, v in kw.items():
        e[k.replace("__", ".")] = v
    e.update(CTR)
    return json.dumps(e)


def workload(path, deviate):
    lines = [
        ev(0, evt__type="execve", proc__pid=10, proc__ppid=1, proc__name="api",
           proc__exepath="/app/api", proc__ancestors=[{"pid": 1, "name": "tini"}]),
        ev(1, evt__type="openat", proc__pid=10, evt__arg__name="/app/cache/a",
           evt__arg__flags="O_WRONLY|O_CREAT", evt__rawres=4),
        ev(2, evt__type="listen", proc__pid=10, evt__arg__fd=5, fd__num=5, fd__type="ipv4",
           fd__sip="0.0.0.0", fd__sport=8080),
        ev(3, evt__type="connect", proc__pid=10, evt__arg__fd=6, fd__num=6, fd__type="ipv4",
           fd__sip="10.0.0.7", fd__sport=5432),
    ]
    if deviate:
        lines += [
            ev(4, evt__type="execve", proc__pid=11, proc__ppid=10, proc__name="curl",
               proc__exepath="/usr/bin/curl"),
            ev(5, evt__type="openat", proc__pid=10, evt__arg__name="/etc/crontab",
               evt__arg__flags="O_WRONLY", evt__rawres=7),
            ev(6, evt__type="connect", proc__pid=10, evt__arg__fd=8, fd__num=8, fd__type="ipv4",
               fd__sip="203.0.113.5", fd__sport=4444),
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


class Ctx:
    pass


def agent_args(c, token, host, spool):
    return ["--mamori-server", c.srv.base, "--token", token, "--host-id", host,
            "--server-ca", c.srv.cert, "--spool", spool, "--inventory-interval", "0"]


def learn_upload(c):
    s = c.srv
    base = os.path.join(c.tmp, "base.jsonl")
    workload(base, False)
    prof, cap = os.path.join(c.tmp, "learned.yaml"), os.path.join(c.tmp, "cap.zst")
    r = cli("agent", "--source", "replay:" + base, "--learn", "1m", "--profile-out", prof,
            "--capture", cap, "--capture-upload-max", "1M",
            *agent_args(c, c.agent, "node-p", os.path.join(c.tmp, "sp1")), check=False)
    eq(r.returncode, 0, "agent: " + r.stderr)
    check("profiles: 1 sent, capture lists: 1 sent, capture files: 1 sent, 0 refused"
          in r.stderr, r.stderr)
    st, v, _ = s.req("GET", "/api/v1/profiles", c.viewer, params={"host": "node-p"})
    eq(st, 200, "list: %r" % v)
    imgs = {x["image"]: x for x in v["items"]}
    check("shop/api:1.4" in imgs, "image key listed: %r" % v)
    p = imgs["shop/api:1.4"]
    eq((p["host_id"], p["state"], p["enforced_by"]), ("node-p", "learned", None), "row")
    eq(p["counts"], {"processes": 1, "files": 1, "listen": 1, "connect": 1}, "counts")
    check(p["learned_end"] >= p["learned_start"] > 0, "learned period %r" % p)
    st, v, _ = s.req("GET", "/api/v1/profiles/" + p["id"], c.viewer)
    eq(st, 200, "get: %r" % v)
    im = v["doc"]["images"][0]
    eq(im["image"], "shop/api:1.4", "image")
    eq([(x["exe"], x["name"], x["parents"]) for x in im["processes"]],
       [("/app/api", "api", ["tini"])], "processes")
    eq([x["path"] for x in im["files"]], ["/app/cache/a"], "files")
    eq([(x["proto"], x["port"]) for x in im["listen"]], [("tcp", 8080)], "listen")
    eq([(x["dest"], x["port"], x["proto"]) for x in im["connect"]], [("10.0.0.7", 5432, "tcp")],
       "connect")
    eq((im["priority"], im["action"]), ("Warning", "none"), "the file's defaults in the image")
    eq(v["drift"], 0, "no drift yet")
    c.pid = p["id"]
    st, v, _ = s.req("GET", "/api/v1/captures", c.viewer, params={"host": "node-p"})
    eq(st, 200, "captures: %r" % v)
    eq(len(v["items"]), 1, "one capture file: %r" % v)
    x = v["items"][0]
    eq((x["file"], x["events"], x["start_ts"], x["end_ts"]), (cap, 4, T0, T0 + 3), "capture")
    eq(x["size"], os.path.getsize(cap), "size")
    check(x["stored"], "the file itself is stored: %r" % x)
    # the download is the capture, byte for byte
    conn = s.conn()
    conn.request("GET", "/api/v1/captures/%d/file" % x["stored"],
                 headers={"Authorization": "Bearer " + c.viewer})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    eq(resp.status, 200, "download")
    with open(cap, "rb") as f:
        eq(body, f.read(), "downloaded bytes")
    check(body[:4] == b"\x28\xb5\x2f\xfd", "zstd")
    check(resp.getheader("Content-Disposition", "").startswith("attachment; filename=\"capture-node-p-"),
          resp.getheader("Content-Disposition"))
    eq(s.req("GET", "/api/v1/captures/999999/file", c.viewer)[0], 404, "no such file")
    c.capture_seq = x["stored"]
    # the same host, image and period sent again (a resend) is the same row;
    # another period is another row
    again = {"version": 1, "learned": {"start": p["learned_start"], "end": p["learned_end"]},
             "images": [im]}
    st, v, _ = s.req("POST", "/api/v1/profiles", c.agent, {"host_id": "node-p", "profile": again})
    eq((st, v["profiles"][0]["id"]), (200, p["id"]), "resend: %r" % v)
    again["learned"] = {"start": 1000, "end": 2000}
    st, v, _ = s.req("POST", "/api/v1/profiles", c.agent, {"host_id": "node-p", "profile": again})
    check(st == 200 and v["profiles"][0]["id"] != p["id"], "another period: %r" % v)
    st, v, _ = s.req("GET", "/api/v1/profiles", c.viewer, params={"host": "node-p"})
    eq(len(v["items"]), 2, "two rows: %r" % v)


def doc(image="shop/api:1.4", **extra):
    d = {"version": 1, "learned": {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T01:00:00Z"},
         "images": [{"image": image, "processes": [{"exe": "/bin/x"}]}]}
    d.update(extra)
    return d


def api_rules(c):
    s = c.srv
    st, v, _ = s.req("POST", "/api/v1/profiles", c.agent, {"host_id": "node-q", "profile": doc()})
    eq(st, 403, "another host's profile: %r" % v)
    st, v, _ = s.req("POST", "/api/v1/captures", c.agent, {"host_id": "node-q", "captures": []})
    eq(st, 403, "another host's captures: %r" % v)
    for bad, field in [({"version": 2, "images": []}, "profile.version"),
                       (doc(extra=1), "profile: unknown key 'extra'"),
                       ({"version": 1, "images": [{"image": "a", "processes": [{"exe": 5}]}]},
                        "profile.images[0].processes[0].exe"),
                       ({"version": 1, "images": [{"image": "a", "listen": [{"port": 70000}]}]},
                        "profile.images[0].listen[0].port"),
                       ({"version": 1, "images": [{"image": "a"}, {"image": "a"}]}, "twice")]:
        st, v, _ = s.req("POST", "/api/v1/profiles", c.agent, {"host_id": "node-p", "profile": bad})
        eq(st, 400, "malformed %r" % bad)
        check(field in v["error"], "error names %s: %r" % (field, v))
    many = {"version": 1, "images": [{"image": "i%d" % i} for i in range(4097)]}
    st, v, _ = s.req("POST", "/api/v1/profiles", c.agent, {"host_id": "node-p", "profile": many})
    eq(st, 413, "too many images: %r" % v)
    one = {"host_id": "node-q", "file": "/c", "start": 1, "end": 2, "size": 3, "events": 1,
           "data": "YWJj"}
    st, v, _ = s.req("POST", "/api/v1/captures/file", c.agent, one)
    eq(st, 403, "another host's capture file: %r" % v)
    one.update(host_id="node-p", size=4)
    st, v, _ = s.req("POST", "/api/v1/captures/file", c.agent, one)
    check(st == 400 and "size says 4" in v["error"], "size mismatch: %r" % v)
    one.update(size=3, data="YW!j")
    st, v, _ = s.req("POST", "/api/v1/captures/file", c.agent, one)
    check(st == 400 and v["error"].startswith("data:"), "bad base64: %r" % v)
    caps = [{"file": "/c%d" % i, "size": 1, "events": 1} for i in range(1001)]
    st, v, _ = s.req("POST", "/api/v1/captures", c.agent, {"host_id": "node-p", "captures": caps})
    eq(st, 413, "too many captures: %r" % v)
    eq(s.req("GET", "/api/v1/profiles", c.agent)[0], 403, "an agent may not read the list")
    eq(s.req("GET", "/api/v1/agent/profiles", c.viewer)[0], 403, "a viewer is no agent")
    path = "/api/v1/profiles/%s/enforce" % c.pid
    st, v, _ = s.req("POST", path, c.viewer, {"confirm": True})
    eq(st, 403, "viewer enforce: %r" % v)
    st, v, _ = s.req("POST", path, c.agent, {"confirm": True})
    eq(st, 403, "agent enforce: %r" % v)
    for body in ({}, {"confirm": False}, {"confirm": "yes"}):
        st, v, _ = s.req("POST", path, c.operator, body)
        eq(st, 400, "without confirmation %r: %r" % (body, v))
        check("confirm" in v["error"], v)
    eq(s.req("POST", "/api/v1/profiles/nosuch/enforce", c.operator, {"confirm": True})[0], 404,
       "unknown profile")
    # a console session: the CSRF header is required, like every state change
    st, v, h = s.req("POST", "/api/v1/session", body={"token": c.operator})
    eq(st, 201, "login: %r" % v)
    cookie = h.get("set-cookie", "").split(";")[0]
    st, v, _ = s.req("POST", path, body={"confirm": True}, headers={"Cookie": cookie})
    eq(st, 403, "console enforce without the CSRF header: %r" % v)
    st, v, _ = s.req("POST", path, body={"confirm": True},
                     headers={"Cookie": cookie, "X-CSRF-Token": "0" * 64})
    eq(st, 403, "console enforce with a wrong CSRF token: %r" % v)
    st, v, _ = s.req("GET", "/api/v1/profiles/" + c.pid, c.viewer)
    eq(v["state"], "learned", "still learned after the refusals")


def enforce(c):
    s = c.srv
    st, v, _ = s.req("POST", "/api/v1/profiles/%s/enforce" % c.pid, c.operator, {"confirm": True})
    eq(st, 200, "enforce: %r" % v)
    eq((v["state"], v["enforced_by"], v["replaced"]), ("enforced", "ops", 0), "answer")
    st, v, _ = s.req("GET", "/api/v1/profiles/" + c.pid, c.viewer)
    eq((v["state"], v["enforced_by"]), ("enforced", "ops"), "stored")
    check(v["enforced_at"] > 0, "when")
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    lines = [x for x in v["items"] if x["path"].endswith("/enforce")]
    ok = [x for x in lines if x["status"] == 200]
    eq(len(ok), 1, "one audit line for the enforce: %r" % lines)
    check("enforced profile %s: host node-p, image shop/api:1.4" % c.pid in ok[0]["detail"]
          and ok[0]["token_name"] == "ops", ok[0])
    check(any(x["status"] == 403 and x["role"] == "viewer" for x in lines), "refusals audited")
    check(any(x["status"] == 400 for x in lines), "unconfirmed audited")
    st, v, _ = s.req("GET", "/api/v1/agent/profiles", c.agent)
    eq(st, 200, "agent fetch: %r" % v)
    eq([x["image"] for x in v["images"]], ["shop/api:1.4"], "the enforced images")
    eq(v["version"], 1, "a profile document")
    eq(s.req("GET", "/api/v1/agent/profiles", c.admin)[0], 400, "admin names the host")
    st, v, _ = s.req("GET", "/api/v1/agent/profiles", c.admin, params={"host": "node-q"})
    eq(v["images"], [], "nothing enforced on node-q")
    # another profile of the same host and image replaces the enforced one...
    st, v, _ = s.req("POST", "/api/v1/profiles", c.agent,
                     {"host_id": "node-p", "profile": doc(learned={"start": 1, "end": 2})})
    eq(st, 200, "second: %r" % v)
    other = v["profiles"][0]["id"]
    st, v, _ = s.req("POST", "/api/v1/profiles/%s/enforce" % other, c.admin, {"confirm": True})
    eq((st, v["replaced"]), (200, 1), "replaced")
    eq(s.req("GET", "/api/v1/profiles/" + c.pid, c.viewer)[1]["state"], "learned", "first back")
    # ...and back, for the agent case
    st, v, _ = s.req("POST", "/api/v1/profiles/%s/enforce" % c.pid, c.operator, {"confirm": True})
    eq((st, v["replaced"]), (200, 1), "enforced again")
    st, v, _ = s.req("GET", "/api/v1/profiles", c.viewer, params={"state": "enforced"})
    eq([x["id"] for x in v["items"]], [c.pid], "one enforced")
    # stopping the enforcement: operators, confirmed, audited
    un = "/api/v1/profiles/%s/unenforce" % c.pid
    eq(s.req("POST", un, c.viewer, {"confirm": True})[0], 403, "viewer unenforce")
    eq(s.req("POST", un, c.operator, {})[0], 400, "unenforce without confirmation")
    st, v, _ = s.req("POST", un, c.operator, {"confirm": True})
    eq((st, v["state"], v["changed"]), (200, "learned", True), "unenforced: %r" % v)
    eq(s.req("GET", "/api/v1/agent/profiles", c.agent)[1]["images"], [], "nothing enforced")
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 1000})
    check(any("unenforced profile %s: host node-p" % c.pid in (x["detail"] or "")
              for x in v["items"]), "audit line of the unenforce")
    eq(s.req("POST", "/api/v1/profiles/%s/enforce" % c.pid, c.operator, {"confirm": True})[0],
       200, "enforced once more")


def agent_enforced(c):
    s = c.srv
    dev = os.path.join(c.tmp, "dev.jsonl")
    workload(dev, True)
    spool = os.path.join(c.tmp, "sp3")
    r = cli("agent", "--source", "replay:" + dev, "--server-profiles",
            *agent_args(c, c.agent, "node-p", spool), check=False)
    eq(r.returncode, 0, "agent --server-profiles: " + r.stderr)
    check("profile: 1 image(s) from %s/enforced-profiles.json" % spool in r.stderr, r.stderr)
    st, v, _ = s.req("GET", "/api/v1/profiles/%s/drift" % c.pid, c.viewer)
    eq(st, 200, "drift: %r" % v)
    got = sorted((x["rule"], x["deviation"]) for x in v["items"])
    eq(got, sorted([("Profile deviation: unexpected process", "/usr/bin/curl"),
                    ("Profile deviation: unexpected file write", "/etc/crontab"),
                    ("Profile deviation: unexpected outbound connection",
                     "203.0.113.5:4444/tcp")]), "drift alerts")
    for x in v["items"]:
        eq((x["action"], x["event"]["output_fields"]["profile.image"]), ("none", "shop/api:1.4"),
           "action and image")
    eq(s.req("GET", "/api/v1/profiles/" + c.pid, c.viewer)[1]["drift"], 3, "drift count")
    # nothing enforced for this host: the agent checks nothing
    tok = s.token("agent", "ag-r", host="node-r")
    r = cli("agent", "--source", "replay:" + dev, "--server-profiles",
            *agent_args(c, tok, "node-r", os.path.join(c.tmp, "sp4")), check=False)
    eq(r.returncode, 0, "agent node-r: " + r.stderr)
    check("profile: 0 image(s)" in r.stderr, r.stderr)
    eq(s.count(c.viewer, host="node-r"), 0, "no alerts from node-r")
    # --server-profiles with the server away and nothing fetched before: refused
    r = cli("agent", "--source", "replay:" + dev, "--server-profiles", "--mamori-server",
            "https://127.0.0.1:%d" % srvkit.free_port(), "--token", tok, "--host-id", "node-r",
            "--spool", os.path.join(c.tmp, "sp5"), "--inventory-interval", "0", check=False)
    eq(r.returncode, 2, "server away: " + r.stderr)
    check("--server-profiles:" in r.stderr, r.stderr)


def spool_while_down(c):
    """The server away while the agent learns: the profile and the capture
    list wait in the spool and go when it is back."""
    import time
    s = c.srv
    base = os.path.join(c.tmp, "base2.jsonl")
    workload(base, False)
    tok = s.token("agent", "ag-s", host="node-s")
    spool = os.path.join(c.tmp, "sp6")
    s.stop()
    ag = subprocess.Popen([srvkit.MAMORI, "agent", "--source", "replay:" + base, "--learn", "1m",
                           "--profile-out", os.path.join(c.tmp, "down.yaml"), "--capture",
                           os.path.join(c.tmp, "down.zst")] + agent_args(c, tok, "node-s", spool),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        def waiting():
            if not os.path.isdir(spool):
                return []
            return sorted(f.rsplit(".", 1)[1] for f in os.listdir(spool)
                          if f.endswith((".prof", ".cap")))
        # the two files are written one after the other: wait for both
        end = time.time() + 30
        while time.time() < end and waiting() != ["cap", "prof"]:
            time.sleep(0.1)
        eq(waiting(), ["cap", "prof"], "waiting in the spool")
    finally:
        s.start()
    _, err = ag.communicate(timeout=90)
    err = err.decode()
    eq(ag.returncode, 0, "agent: " + err)
    check("profiles: 1 sent, capture lists: 1 sent, capture files: 0 sent" in err, err)
    st, v, _ = s.req("GET", "/api/v1/profiles", c.viewer, params={"host": "node-s"})
    eq([x["image"] for x in v["items"]], ["shop/api:1.4"], "profile after the outage")
    st, v, _ = s.req("GET", "/api/v1/captures", c.viewer, params={"host": "node-s"})
    eq([x["events"] for x in v["items"]], [4], "capture list after the outage")
    check(not [f for f in os.listdir(spool) if f.endswith((".prof", ".cap"))], "spool drained")


def live_reload(c):
    """A live agent (eBPF, root) with --server-profiles and nothing enforced:
    a profile enforced while it runs is fetched, reloaded, and checked
    (a host profile that allows no listening port: this test's listener
    becomes drift)."""
    import socket
    import time
    import agentkit
    if os.geteuid() != 0:
        raise Skip("the live agent needs root")
    s = c.srv
    tok = s.token("agent", "ag-live", host="node-live")
    spool = os.path.join(c.tmp, "sp-live")
    ag = agentkit.Agent(c.tmp, "live", ["--source", "bpf", "--server-profiles",
                                        "--profile-interval", "1"] +
                        agent_args(c, tok, "node-live", spool), duration=60)
    try:
        check("profile: 0 image(s)" in ag.stderr_text(), ag.stderr_text())
        st, v, _ = s.req("POST", "/api/v1/profiles", tok, {"host_id": "node-live", "profile": {
            "version": 1, "learned": {"start": 10, "end": 20},
            "images": [{"image": "host", "listen": []}]}})
        eq(st, 200, "upload: %r" % v)
        pid = v["profiles"][0]["id"]
        eq(s.req("POST", "/api/v1/profiles/%s/enforce" % pid, c.operator, {"confirm": True})[0],
           200, "enforce")
        drift = []
        end = time.time() + 40
        while time.time() < end and not drift:
            srv = socket.socket()
            srv.bind(("127.0.0.1", 0))
            srv.listen(1)
            srv.close()
            time.sleep(0.5)
            drift = s.req("GET", "/api/v1/profiles/%s/drift" % pid, c.viewer)[1]["items"]
        check(drift, "no drift from the live agent: %s" % ag.stderr_text()[-800:])
        eq((drift[0]["rule"], drift[0]["category"]),
           ("Profile deviation: unexpected listening port", "listen"), "drift")
        eq(drift[0]["event"]["output_fields"]["proc.pid"], os.getpid(), "this test's listener")
    finally:
        ag.stop(settle=0.2)
    check("profile: reloaded, 1 image(s)" in ag.stderr, ag.stderr)


def run_suite(suite, label, state, db=None):
    names = ["learn-upload", "api-rules", "enforce", "agent-enforced", "spool-while-down"]
    srv = None
    try:
        srv = Server(state, db=db)
        c = Ctx()
        c.srv = srv
        c.tmp = tempfile.mkdtemp(dir=state)
        c.admin = srv.token("admin", "root")
        c.operator = srv.token("operator", "ops")
        c.viewer = srv.token("viewer", "eyes")
        c.agent = srv.token("agent", "ag-p", host="node-p")
        for n, fn in zip(names, [learn_upload, api_rules, enforce, agent_enforced,
                                 spool_while_down]):
            suite.case("profiles-%s-%s" % (label, n), fn, c)
        if not db:   # the live agent once, on SQLite
            suite.case("profiles-live-agent-reload", live_reload, c)
    finally:
        if srv:
            srv.stop()


def main():
    srvkit.main_sqlite_then_postgres("profiles", "mamori-profiles-", run_suite, "mamori_profiles")


if __name__ == "__main__":
    main()
