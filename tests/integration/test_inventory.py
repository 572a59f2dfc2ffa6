#!/usr/bin/env python3
"""test_inventory.py - host inventory in `mamori server` (issue 18).

The API on each store (SQLite always, PostgreSQL when installed: a real
server started as the postgres user): POST /api/v1/inventory with roles
and the agent's host binding (403 for another host), the newest snapshot
kept (a late older one ignored), GET /api/v1/hosts/{id}/inventory with
exactly {host_id, received, os, processes, logins, containers}, unknown
members dropped, caps (413) and malformed input (400) with the field
named, SQL metacharacters stored as text.

Then a real agent against a real server: `mamori agent --mamori-server`
started while the server is down (its snapshot and alerts wait in the
spool), the server started on that port, and the inventory read back:
this test's own marker process with its command line, the sessions and
failed logins of wtmp/btmp files written with utmpdump, and the
containers of a private Podman (runc) with their user, read-only root,
privileges and mounts (skipped with the reason when Podman or utmpdump is
missing).

Then `--server-fingerprint` (the printed fingerprint is enough; a wrong one
is refused in the handshake) and concurrent ingest: 8 agents posting
overlapping batches at once (group commit) on each store, every event
stored once with exact accepted/duplicate counts and one audit line per
batch.
"""
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import mmrun  # noqa: E402
from mmrun import Fail, Skip, check, eq  # noqa: E402
import srvkit  # noqa: E402
from srvkit import Server, cli, wait_until  # noqa: E402

SQLI = "x'; DROP TABLE inventory; --"
KEYS = ["host_id", "received", "os", "processes", "logins", "containers"]


def snapshot(host, collected, n=3, **kw):
    d = {"host_id": host, "id": "snap-%d" % collected, "collected": collected,
         "os": {"name": "Debian GNU/Linux 12 (bookworm)", "id": "debian", "version": "12",
                "kernel": "6.1.0-test", "arch": "x86_64", "hostname": "node-1", "extra": 1},
         "processes": [{"pid": 100 + i, "ppid": 1, "user": "root", "name": "sleep",
                        "cmdline": "sleep %d" % i, "exe": "/usr/bin/sleep",
                        "container_id": None, "secret": "dropped"} for i in range(n)],
         "logins": [{"user": "alice", "tty": "pts/0", "from": "192.0.2.1", "ts": 1700000000,
                     "kind": "login"},
                    {"user": "root", "tty": "ssh:notty", "from": "198.51.100.66",
                     "ts": 1700000100, "kind": "failed"}],
         "containers": [{"id": "c0ffee", "name": "web", "image": "nginx:1", "user": "101",
                         "privileged": False, "read_only": True, "disk_bytes": 4096,
                         "mounts": [{"source": "/srv", "destination": "/data", "rw": True}]}]}
    d.update(kw)
    return d


class Ctx:
    def __init__(self, srv):
        self.srv = srv
        self.admin = srv.token("admin", "inv-admin")
        self.viewer = srv.token("viewer", "inv-viewer")
        self.agent1 = srv.token("agent", "inv-agent-h1", host="h1")


def api_roundtrip(c):
    s = c.srv
    st, v, _ = s.req("POST", "/api/v1/inventory", c.agent1, snapshot("h1", 1000))
    eq(st, 200, "agent posts its host's inventory: %r" % v)
    eq((v["stored"], v["processes"], v["logins"], v["containers"]), (True, 3, 2, 1), "reply")
    st, v, _ = s.req("GET", "/api/v1/hosts/h1/inventory", c.viewer)
    eq(st, 200, "viewer reads it: %r" % v)
    eq(list(v), KEYS, "the members, in order")
    eq(v["host_id"], "h1", "host_id")
    check(abs(v["received"] - time.time()) < 120, "received %r" % v["received"])
    eq(v["os"]["id"], "debian", "os.id")
    check("extra" not in v["os"], "unknown os member dropped")
    eq(len(v["processes"]), 3, "processes")
    eq(sorted(v["processes"][0]), sorted(["pid", "ppid", "user", "name", "cmdline", "exe",
                                          "container_id"]), "process members")
    eq(v["processes"][2]["cmdline"], "sleep 2", "cmdline")
    eq(v["logins"][1], {"user": "root", "tty": "ssh:notty", "from": "198.51.100.66",
                        "ts": 1700000100, "kind": "failed"}, "a failed login")
    ctr = v["containers"][0]
    eq((ctr["id"], ctr["user"], ctr["privileged"], ctr["read_only"], ctr["disk_bytes"]),
       ("c0ffee", "101", False, True, 4096), "container")
    eq(ctr["mounts"], [{"source": "/srv", "destination": "/data", "rw": True}], "mounts")
    # a newer snapshot replaces it; a late older one is acknowledged and ignored
    st, v, _ = s.req("POST", "/api/v1/inventory", c.admin, snapshot("h1", 2000, n=5))
    eq((st, v["stored"]), (200, True), "newer snapshot")
    st, v, _ = s.req("POST", "/api/v1/inventory", c.agent1, snapshot("h1", 1500, n=1))
    eq((st, v["stored"]), (200, False), "older snapshot ignored")
    st, v, _ = s.req("GET", "/api/v1/hosts/h1/inventory", c.admin)
    eq(len(v["processes"]), 5, "the newest kept")
    # the host is listed
    st, v, _ = s.req("GET", "/api/v1/hosts", c.viewer)
    check("h1" in [h["host_id"] for h in v["items"]], "host listed: %r" % v)


def api_access(c):
    s = c.srv
    st, v, _ = s.req("POST", "/api/v1/inventory", c.agent1, snapshot("h2", 1000))
    eq(st, 403, "an agent token for another host: %r" % v)
    check("bound to host 'h1'" in v["error"], v)
    st, _, _ = s.req("GET", "/api/v1/hosts/h2/inventory", c.admin)
    eq(st, 404, "nothing stored for h2")
    st, _, _ = s.req("POST", "/api/v1/inventory", c.viewer, snapshot("h1", 3000))
    eq(st, 403, "viewer may not post")
    st, _, _ = s.req("GET", "/api/v1/hosts/h1/inventory", c.agent1)
    eq(st, 403, "an agent may not read")
    st, _, _ = s.req("GET", "/api/v1/hosts/h1/inventory")
    eq(st, 401, "no token")
    st, _, _ = s.req("GET", "/api/v1/hosts/h1/other", c.admin)
    eq(st, 404, "unknown sub-resource")
    st, _, _ = s.req("GET", "/api/v1/hosts/bad%20id/inventory", c.admin)
    eq(st, 400, "invalid host id")
    st, v, _ = s.req("GET", "/api/v1/audit", c.admin, params={"limit": 50})
    check(any(a["path"] == "/api/v1/inventory" and a["status"] == 403 for a in v["items"]),
          "the refused post is audited")


def api_bad_input(c):
    s = c.srv
    cases = [
        (b"{not json", 400, "not JSON"),
        (json.dumps({"processes": []}).encode(), 400, "host_id"),
        (json.dumps(snapshot("h1", 1, processes={})).encode(), 400, "processes"),
        (json.dumps(snapshot("h1", 1, processes=[{"pid": -1}])).encode(), 400,
         "processes[0].pid"),
        (json.dumps(snapshot("h1", 1, processes=[{"pid": 1, "cmdline": "x" * 5000}])).encode(),
         413, "processes[0].cmdline"),
        (json.dumps(snapshot("h1", 1, logins=[{"ts": 1, "kind": "maybe"}])).encode(), 400,
         "logins[0].kind"),
        (json.dumps(snapshot("h1", 1, containers=[{"id": "a", "privileged": "yes"}])).encode(),
         400, "containers[0].privileged"),
        (json.dumps(snapshot("h1", 1, containers=[{"id": "a", "mounts": [{"rw": 1}]}])).encode(),
         400, "containers[0].mounts[0].rw"),
        (json.dumps(snapshot("h1", 1, processes=[{"pid": i} for i in range(20001)])).encode(),
         413, "processes: 20001 entries"),
        (json.dumps(snapshot("h1", 1, os="debian")).encode(), 400, "os"),
        (b'{"host_id":"h1","host_id":"h1"}', 400, "duplicate"),
    ]
    for raw, want, name in cases:
        st, v, _ = s.req("POST", "/api/v1/inventory", c.admin, raw=raw)
        eq(st, want, "%s: %r" % (name, v))
        check(name in v["error"], "the error names %r: %r" % (name, v["error"]))
    st, v, _ = s.req("GET", "/api/v1/hosts/h1/inventory", c.admin)
    eq(len(v["processes"]), 5, "nothing stored by refused input")
    # SQL metacharacters are data
    snap = snapshot("h3", 10)
    snap["processes"][0]["cmdline"] = SQLI
    snap["containers"][0]["name"] = SQLI
    st, v, _ = s.req("POST", "/api/v1/inventory", c.admin, snap)
    eq(st, 200, "metacharacters: %r" % v)
    st, v, _ = s.req("GET", "/api/v1/hosts/h3/inventory", c.admin)
    eq((v["processes"][0]["cmdline"], v["containers"][0]["name"]), (SQLI, SQLI), "stored as text")
    st, v, _ = s.req("GET", "/readyz")
    eq(st, 200, "the server still serves")


API_CASES = [("roundtrip", api_roundtrip), ("access", api_access), ("bad-input", api_bad_input)]


def api_suite(suite, label, state, db=None):
    names = ["inventory-%s-%s" % (label, n) for n, _ in API_CASES]
    try:
        srv = Server(state, db=db)
        c = Ctx(srv)
    except Exception as e:  # noqa: BLE001
        suite.not_run(names, Fail("server did not start: %s" % e))
        return
    try:
        for (n, fn), name in zip(API_CASES, names):
            suite.case(name, fn, c)
    finally:
        srv.stop()


WTMP = ("[7] [01234] [ts/0] [alice   ] [pts/0       ] [192.0.2.10          ] [192.0.2.10     ]"
        " [2026-12-01T10:00:00,000000+00:00]\n"
        "[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ]"
        " [2026-12-01T11:00:00,000000+00:00]\n")
BTMP = ("[6] [02000] [    ] [admin   ] [ssh:notty   ] [198.51.100.66       ] [198.51.100.66  ]"
        " [2026-12-02T01:00:00,000000+00:00]\n")


def utmpdump(tmp, name, text):
    if not shutil.which("utmpdump"):
        raise Skip("utmpdump (util-linux) is not installed")
    src, out = os.path.join(tmp, name + ".txt"), os.path.join(tmp, name)
    with open(src, "w") as f:
        f.write(text)
    with open(src) as i, open(out, "wb") as o:
        subprocess.run(["utmpdump", "-r"], stdin=i, stdout=o, stderr=subprocess.DEVNULL,
                       check=True)
    return out


def alert_file(d):
    rules = os.path.join(d, "r.yaml")
    with open(rules, "w") as f:
        f.write("- rule: Read shadow\n  desc: test\n"
                "  condition: evt.type in (open, openat, openat2) and fd.name=/etc/shadow\n"
                "  output: shadow read by %proc.name (file=%fd.name)\n  priority: WARNING\n")
    evf = os.path.join(d, "ev.jsonl")
    with open(evf, "w") as f:
        for i in range(10):
            f.write(json.dumps({
                "evt.type": "openat", "evt.time": 1710000010000000000 + i * 1000,
                "proc.pid": 2000 + i, "proc.name": "cat", "proc.exe": "cat",
                "proc.exepath": "/usr/bin/cat", "proc.args": "", "user.uid": 0,
                "user.name": "root", "proc.cwd": "/", "proc.start_ts": 1710000000000000000,
                "proc.ancestors": [{"name": "sh"}], "evt.arg.name": "/etc/shadow",
                "evt.arg.flags": "O_RDONLY", "evt.rawres": 3}) + "\n")
    return rules, evf


def real_agent(root):
    """A real agent while the server is down, then the server: nothing lost."""
    import hostkit
    wtmp = utmpdump(root, "wtmp", WTMP)
    btmp = utmpdump(root, "btmp", BTMP)
    p = hostkit.Podman(root, "inv")   # Skip when podman or runc is missing
    marker = "mamori-inv-%s" % secrets.token_hex(4)
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", marker])
    srv = None
    try:
        tar = hostkit.busybox_rootfs_tar(os.path.join(root, "bb.tar"))
        p.podman("import", tar, "mminv:1")
        ro = os.path.join(root, "ro-src")
        os.makedirs(ro, exist_ok=True)
        p.run("inv-ro", "--network", "none", "--read-only", "--user", "1000",
              "-v", ro + ":/data:ro", "localhost/mminv:1", "/bin/sleep", "100000")
        p.run("inv-priv", "--network", "none", "--privileged", "-v", ro + ":/rw",
              "localhost/mminv:1", "/bin/sleep", "100000")
        state = os.path.join(root, "srv")
        srv = Server(state)
        admin = srv.token("admin", "ra-admin")
        agent = srv.token("agent", "ra-agent", host="node-a")
        srv.stop()   # down when the agent starts
        rules, evf = alert_file(root)
        spool = os.path.join(root, "spool")
        ag = subprocess.Popen(
            [srvkit.MAMORI, "agent", "--source", "replay:" + evf, "--rules", rules,
             "--mamori-server", srv.base, "--token", agent, "--host-id", "node-a",
             "--server-ca", srv.cert, "--spool", spool, "--inventory-no-docker",
             "--inventory-podman-root", p.root, "--inventory-podman-runroot", p.runroot,
             "--inventory-wtmp", wtmp, "--inventory-btmp", btmp],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        check(wait_until(lambda: any(f.endswith(".inv") for f in os.listdir(spool))
                         if os.path.isdir(spool) else False, timeout=60),
              "the snapshot waits in the spool while the server is down")
        srv.start()
        out, err = ag.communicate(timeout=120)
        err = err.decode()
        eq(ag.returncode, 0, "agent exit: " + err)
        check("inventory: 1 sent, 0 waiting" in err and " 0 dropped" in err, err)
        eq(srv.count(admin, host="node-a", rule="Read shadow"), 10, "alerts stored")
        st, v, _ = srv.req("GET", "/api/v1/hosts/node-a/inventory", admin)
        eq(st, 200, "inventory: %r" % v)
        eq(list(v), KEYS, "members")
        check(v["os"]["kernel"] == os.uname().release, "os %r" % v["os"])
        procs = {x["pid"]: x for x in v["processes"]}
        check(proc.pid in procs, "the marker process (pid %d) listed" % proc.pid)
        mp = procs[proc.pid]
        check(marker in mp["cmdline"] and mp["user"] == "root" and mp["ppid"] == os.getpid(),
              "marker %r" % mp)
        ls = {(x["user"], x["kind"]): x for x in v["logins"]}
        a = ls.get(("alice", "login"))
        check(a and a["tty"] == "pts/0" and a["from"] == "192.0.2.10" and a["ts"] == 1796119200,
              "alice's session: %r" % v["logins"])
        f = ls.get(("admin", "failed"))
        check(f and f["from"] == "198.51.100.66", "the failed login: %r" % v["logins"])
        cs = {x["name"]: x for x in v["containers"]}
        check("inv-ro" in cs and "inv-priv" in cs, "containers %r" % sorted(cs))
        r, pr = cs["inv-ro"], cs["inv-priv"]
        eq((r["user"], r["read_only"], r["privileged"]), ("1000", True, False), "inv-ro")
        eq((pr["read_only"], pr["privileged"]), (False, True), "inv-priv")
        m = {x["destination"]: x for x in r["mounts"]}
        check("/data" in m and m["/data"]["rw"] is False and m["/data"]["source"] == ro,
              "ro mount %r" % r["mounts"])
        m = {x["destination"]: x for x in pr["mounts"]}
        check("/rw" in m and m["/rw"]["rw"] is True, "rw mount %r" % pr["mounts"])
        check(r["image"] and "mminv" in r["image"], "image %r" % r["image"])
        check(not [x for x in os.listdir(spool) if x.endswith((".inv", ".batch"))],
              "spool drained")
        # the processes attributed to the containers carry their id
        ids = {x["id"][:12] for x in v["containers"]}
        check(any(x["container_id"] in ids for x in v["processes"] if x["container_id"]),
              "a process attributed to a container")
    finally:
        proc.kill()
        proc.wait()
        if srv:
            srv.stop()
        p.stop()


def pinning(root):
    """--server-fingerprint: the fingerprint the server printed is enough (no
    certificate file); a wrong one is refused in the handshake, nothing stored."""
    srv = Server(os.path.join(root, "pin"))
    try:
        fp = [l.split("fingerprint", 1)[1].strip() for l in srv.more if "fingerprint" in l]
        check(fp and fp[0].startswith("SHA256:"), "banner: %r" % srv.more)
        fp = fp[0]
        admin = srv.token("admin", "pin-admin")
        ci = srv.token("ci", "pin-ci")
        agent = srv.token("agent", "pin-agent", host="pin-host")
        rootfs = os.path.join(root, "rootfs")
        os.makedirs(os.path.join(rootfs, "etc"), exist_ok=True)
        with open(os.path.join(rootfs, "etc", "os-release"), "w") as f:
            f.write("ID=debian\nVERSION_ID=12\n")
        env = {"MAMORI_CACHE_DIR": os.path.join(root, "cache")}
        hexfp = fp[7:].replace(":", "").lower()
        for form in (fp, "sha256:" + hexfp):
            r = cli("rootfs", rootfs, "--no-store", "-q", "--server", srv.base, "--token", ci,
                    "--server-fingerprint", form, "--server-host", "pinned", "-f", "json",
                    "-o", os.devnull, env=env, check=False)
            eq(r.returncode, 0, "upload pinned by %s: %s" % (form[:20], r.stderr))
        wrong = "sha256:" + ("0" * 64)
        r = cli("rootfs", rootfs, "--no-store", "-q", "--server", srv.base, "--token", ci,
                "--server-fingerprint", wrong, "--server-host", "pinned", "-f", "json",
                "-o", os.devnull, env=env, check=False)
        eq(r.returncode, 2, "a wrong fingerprint is refused: " + r.stderr)
        check("--server" in r.stderr, r.stderr)
        # without a pin or a CA file the self-signed certificate is not trusted
        r = cli("rootfs", rootfs, "--no-store", "-q", "--server", srv.base, "--token", ci,
                "--server-host", "pinned", "-f", "json", "-o", os.devnull, env=env, check=False)
        eq(r.returncode, 2, "no pin, no CA: " + r.stderr)
        r = cli("rootfs", rootfs, "--no-store", "-q", "--server", srv.base, "--token", ci,
                "--server-fingerprint", "sha256:xyz", "-f", "json", "-o", os.devnull, env=env,
                check=False)
        eq(r.returncode, 2, "a malformed fingerprint")
        check("64 hex digits" in r.stderr, r.stderr)
        st, v, _ = srv.req("GET", "/api/v1/scans", admin, params={"host": "pinned"})
        eq(len(v["items"]), 2, "only the pinned uploads stored")
        # `mamori server send` pins the same way; a wrong pin delivers nothing
        evs = os.path.join(root, "pin-events.jsonl")
        with open(evs, "w") as f:
            for i in range(5):
                f.write(json.dumps({"id": "pin-%d" % i, "rule": "r", "priority": "Notice"}) + "\n")
        r = cli("server", "send", "--server", srv.base, "--token", agent, "--host-id", "pin-host",
                "--server-fingerprint", wrong, "--spool", os.path.join(root, "pin-send-bad"),
                "--wait", "0", evs, check=False)
        eq(r.returncode, 2, "send with a wrong pin: " + r.stderr)
        eq(srv.count(admin, host="pin-host"), 0, "nothing delivered with a wrong pin")
        r = cli("server", "send", "--server", srv.base, "--token", agent, "--host-id", "pin-host",
                "--server-fingerprint", fp, "--spool", os.path.join(root, "pin-send"), evs,
                check=False)
        eq(r.returncode, 0, "send pinned: " + r.stderr)
        eq(srv.count(admin, host="pin-host"), 5, "events through the pinned send")
        # the agent pins the same way (alerts and inventory)
        rules, evf = alert_file(root)
        r = cli("agent", "--source", "replay:" + evf, "--rules", rules, "--quiet",
                "--mamori-server", srv.base, "--token", agent, "--host-id", "pin-host",
                "--server-fingerprint", fp, "--spool", os.path.join(root, "pin-spool"),
                "--inventory-no-docker", "--inventory-no-podman", "--inventory-no-disk",
                "--inventory-wtmp", "", "--inventory-btmp", "", check=False)
        eq(r.returncode, 0, "agent pinned: " + r.stderr)
        eq(srv.count(admin, host="pin-host"), 15, "alerts through the pinned agent")
        st, v, _ = srv.req("GET", "/api/v1/hosts/pin-host/inventory", admin)
        eq(st, 200, "inventory through the pinned agent")
    finally:
        srv.stop()


def concurrent_ingest(root, db=None):
    """Batches from 8 agents at once (group commit, ingest.c): overlapping ids
    across batches of one host, each event stored once, counts exact."""
    import threading
    srv = Server(os.path.join(root, "conc-%s" % ("pg" if db else "sqlite")), db=db)
    try:
        admin = srv.token("admin", "conc-admin")
        toks = [srv.token("agent", "conc-%d" % a, host="conc-%d" % a) for a in range(8)]
        results, errors = [], []

        def agent(a):
            try:
                acc = dup = 0
                for b in range(6):
                    # batch b repeats half of batch b-1's ids
                    evs = [{"id": "e-%d" % i, "rule": "r", "priority": "Notice",
                            "output": "agent %d event %d" % (a, i)}
                           for i in range(b * 100, b * 100 + 200)]
                    st, v, _ = srv.req("POST", "/api/v1/events", toks[a],
                                       {"host_id": "conc-%d" % a, "events": evs})
                    if st != 200:
                        errors.append((a, b, st, v))
                        return
                    acc += v["accepted"]
                    dup += v["duplicates"]
                results.append((a, acc, dup))
            except Exception as e:  # noqa: BLE001
                errors.append((a, repr(e)))
        ts = [threading.Thread(target=agent, args=(a,)) for a in range(8)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(timeout=300)
        eq(errors, [], "every batch stored")
        eq(sorted(results), [(a, 700, 500) for a in range(8)], "accepted, duplicates per agent")
        for a in range(8):
            eq(srv.count(admin, host="conc-%d" % a), 700, "rows of conc-%d" % a)
        st, v, _ = srv.req("GET", "/api/v1/audit", admin, params={"limit": 1000})
        lines = [x for x in v["items"] if x["path"] == "/api/v1/events" and x["status"] == 200
                 and (x.get("detail") or "").startswith("host conc-")]
        eq(len(lines), 48, "one audit line per batch")
    finally:
        srv.stop()


def main():
    suite = mmrun.Suite()
    try:
        srvkit.MAMORI = mmrun.mamori_bin()
    except Skip as e:
        suite.skip_all(["inventory"], str(e))
        suite.finish()
    root = tempfile.mkdtemp(prefix="mamori-inv-")
    try:
        api_suite(suite, "sqlite", os.path.join(root, "sqlite"))
        os.makedirs(os.path.join(root, "agent"))
        suite.case("inventory-real-agent-server-down-then-up", real_agent,
                   os.path.join(root, "agent"))
        suite.case("server-fingerprint-pinning", pinning, root)
        suite.case("ingest-concurrent-batches-sqlite", concurrent_ingest, root)
        try:
            import pgkit
            pg = pgkit.start(os.path.join(root, "pg"))
        except Skip as e:
            suite.skip_all(["inventory-postgres", "ingest-concurrent-batches-postgres"], str(e))
        else:
            try:
                api_suite(suite, "postgres", os.path.join(root, "pgstate"), pg.url("mamori_inv"))
                suite.case("ingest-concurrent-batches-postgres", concurrent_ingest, root,
                           pg.url("mamori_conc"))
            finally:
                pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    suite.finish()


if __name__ == "__main__":
    main()
