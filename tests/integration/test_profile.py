#!/usr/bin/env python3
"""test_profile - behaviour profiles and the kill action, live and replayed.

Live (root, eBPF; each case SKIPs with the reason otherwise):
  1. `mamori agent --learn 6 --learn-scope container` while a known workload
     runs inside a container-like cgroup (docker-<64 hex>.scope, as
     test_sensor.py makes): /bin/true, writes of 12 files in one directory
     and of one more file, a TCP listener on 127.0.0.1 and a connection to
     it.  The written profile must list exactly those (the 12 files as one
     directory glob).
  2. `mamori agent --profile` with that profile: the same workload raises no
     alert; a deviating run (another binary, a write elsewhere, another
     port listened on and connected to) raises exactly those four alerts.
  3. A profile with `action: kill`: a deviating `sleep 30` in the container
     dies of SIGKILL at once, its profiled twin (a copy of sleep listed in
     the profile) survives; and a rule with `action: kill` (exec of a
     copied binary with a test name) kills it, its differently named twin
     survives.  Both kills are logged in output_fields["mamori.kill"].
Replayed (no root needed): learning from a JSON-lines capture through
`mamori agent --source replay:FILE`, deviations through `mamori runtime
replay FILE --profile P`, and a replayed kill action that is never carried
out.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmrun import Fail, Skip, Suite, check, eq, mamori_bin, skip  # noqa: E402
import agentkit                                             # noqa: E402

# The workload runs as `python3 -I -S -B workload.py MODE DIR PORT [PORT2]`
# inside the container cgroup: nothing but what is listed here.
WORKLOAD = r"""
import os, socket, subprocess, sys
mode, d, port = sys.argv[1], sys.argv[2], int(sys.argv[3])

def net(p):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", p))
    srv.listen(4)
    c = socket.create_connection(("127.0.0.1", p))
    a, _ = srv.accept()
    for s in (a, c, srv):
        s.close()

subprocess.run(["/usr/bin/true"], check=True)
for i in range(12):
    with open(os.path.join(d, "out", "f%02d.log" % i), "w") as f:
        f.write("x")
with open(os.path.join(d, "single.txt"), "w") as f:
    f.write("x")
net(port)
if mode == "deviate":
    subprocess.run(["/usr/bin/echo", "deviation"], check=True, capture_output=True)
    with open(os.path.join(d, "elsewhere", "x.txt"), "w") as f:
        f.write("x")
    net(int(sys.argv[4]))
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Container(agentkit.Container):
    """A container-like cgroup whose processes the profile keys as
    container:<12 hex> (no image metadata is readable for it)."""

    def __init__(self):
        super().__init__("mamori-test-profile")
        self.key = "container:%s" % self.cid[:12]


Agent = agentkit.Agent


def load_yaml_entries(path):
    """The flow-style entries of a written profile, per image and category
    (the writer puts one entry per line; this reads that form only)."""
    images, cur, cat = {}, None, None
    for line in open(path):
        s = line.strip()
        if s.startswith("- image: "):
            cur = json.loads(s[len("- image: "):])
            images[cur] = {}
        elif cur and s.rstrip(":").rstrip(" []") in ("processes", "files", "listen", "connect") \
                and s.endswith((":", "[]")):
            cat = s.split(":")[0]
            images[cur][cat] = []
        elif cur and cat and s.startswith("- {"):
            images[cur][cat].append(s[2:])
    return images


def entry_fields(e):
    """{exe: "/x", name: "y", count: 1} -> dict of the quoted/bare values"""
    out = {}
    body = e.strip()[1:-1]
    i = 0
    while i < len(body):
        k_end = body.index(":", i)
        k = body[i:k_end].strip().lstrip(",").strip()
        j = k_end + 1
        while body[j] == " ":
            j += 1
        if body[j] == '"':
            end = j + 1
            while body[end] != '"':
                end += 2 if body[end] == "\\" else 1
            v = json.loads(body[j:end + 1])
            i = end + 1
        elif body[j] == "[":
            end = body.index("]", j)
            v = json.loads(body[j:end + 1])
            i = end + 1
        else:
            end = body.find(",", j)
            end = len(body) if end < 0 else end
            v = body[j:end].strip()
            i = end
        out[k] = v
        while i < len(body) and body[i] in ", ":
            i += 1
    return out


def run_workload(ctr, wl, mode, d, port, port2=None):
    # real paths: an exe that exits at once may be reported by the path it
    # was run as (docs/profiles.md), so the workload names no symlinks
    args = [os.path.realpath(sys.executable), "-I", "-S", "-B", wl, mode, d, str(port)]
    if port2:
        args.append(str(port2))
    subprocess.run(ctr.argv(args), check=True, timeout=60)


def live(s, tmp):
    names = ["live-learn-profile", "live-profile-no-alerts", "live-profile-deviations",
             "live-profile-kill", "live-rule-kill"]
    if os.geteuid() != 0:
        s.skip_all(names, "needs root (CI runs as root)")
        return
    try:
        ctr = Container()
    except (Skip, Fail) as e:
        s.not_run(names, e)
        return
    try:
        live_cases(s, tmp, ctr, names)
    finally:
        ctr.close()


def live_cases(s, tmp, ctr, names):
    d = os.path.join(tmp, "work")
    for sub in ("out", "elsewhere"):
        os.makedirs(os.path.join(d, sub))
    wl = os.path.join(tmp, "workload.py")
    with open(wl, "w") as f:
        f.write(WORKLOAD)
    port, port2 = free_port(), free_port()
    prof = os.path.join(tmp, "learned.yaml")

    # 1. learn
    try:
        ag = Agent(tmp, "learn", ["--learn", "6", "--learn-scope", "container",
                                  "--profile-out", prof])
    except (Skip, Fail) as e:
        s.not_run(names, e)
        return
    run_workload(ctr, wl, "normal", d, port)
    ag.wait(timeout=60)
    py = os.path.realpath(sys.executable)

    def learned():
        eq(ag.rc, 0, "agent exit status: %s" % ag.stderr[-500:])
        check("profile of 1 image(s) written to %s" % prof in ag.stderr, ag.stderr[-500:])
        check(not [f for f in os.listdir(tmp) if ".tmp." in f], "temp file left behind")
        imgs = load_yaml_entries(prof)
        eq(sorted(imgs), [ctr.key], "images (the host is out of scope)")
        im = imgs[ctr.key]
        procs = sorted((e["exe"], e["name"], tuple(e.get("parents", [])))
                       for e in map(entry_fields, im["processes"]))
        me = open("/proc/self/comm").read().strip()      # the workload's parent
        pyname = os.path.basename(py)[:15]
        eq(procs, sorted([(py, pyname, (me,)),
                          ("/usr/bin/true", "true", (pyname,))]), "processes")
        files = sorted(entry_fields(e)["path"] for e in im["files"])
        eq(files, sorted([d + "/out/*", d + "/single.txt"]), "files")
        out = [entry_fields(e) for e in im["files"] if "/out/" in e][0]
        eq(out["count"], "12", "count of the collapsed directory")
        listen = [(e["proto"], e["port"]) for e in map(entry_fields, im["listen"])]
        eq(listen, [("tcp", str(port))], "listen")
        conn = [(e["dest"], e["port"], e["proto"]) for e in map(entry_fields, im["connect"])]
        eq(conn, [("127.0.0.1", str(port), "tcp")], "connect")
        check('first_seen: "' in open(prof).read(), "first_seen missing")
    s.case("live-learn-profile", learned)
    if not os.path.exists(prof):
        s.skip_all(names[1:], "no learned profile")
        return

    # 2. enforce: same workload silent, deviations exact
    try:
        ag = Agent(tmp, "enforce", ["--profile", prof])
    except (Skip, Fail) as e:
        s.not_run(names[1:], e)
        return
    run_workload(ctr, wl, "normal", d, port)
    time.sleep(1.5)
    n_normal = len(ag.load())
    run_workload(ctr, wl, "deviate", d, port, port2)
    ag.stop()

    def no_alerts():
        eq(n_normal, 0, "alerts for the learned workload: %r" % ag.alerts[:n_normal])

    def deviations():
        eq(ag.rc, 0, "agent exit status")
        got = sorted((a["rule"], a["output_fields"]["profile.deviation"]) for a in ag.alerts)
        eq(got, sorted([
            ("Profile deviation: unexpected process", "/usr/bin/echo"),
            ("Profile deviation: unexpected file write", d + "/elsewhere/x.txt"),
            ("Profile deviation: unexpected listening port", "tcp/%d" % port2),
            ("Profile deviation: unexpected outbound connection", "127.0.0.1:%d/tcp" % port2),
        ]), "deviation alerts")
        for a in ag.alerts:
            f = a["output_fields"]
            eq(f["container.id"], ctr.cid[:12], "container.id")
            eq(f["profile.image"], ctr.key, "profile.image")
            eq(a["priority"], "Warning", "priority (the profile's default)")
            eq(a["source"], "syscall", "source")
            check("action" not in a and "mamori.kill" not in f, "no kill without action: kill")
        pa = [a for a in ag.alerts if a["rule"].endswith("process")][0]["output_fields"]
        eq(pa["proc.name"], "echo", "proc.name")
        eq(pa["proc.pname"], os.path.basename(os.path.realpath(sys.executable))[:15], "proc.pname")
    s.case("live-profile-no-alerts", no_alerts)
    s.case("live-profile-deviations", deviations)

    # 3. kills: a profile with action kill, a rule with action kill
    okbin = os.path.join(tmp, "mmtsleepok")
    killme = os.path.join(tmp, "mmtkillme")
    keepme = os.path.join(tmp, "mmtkeepme")
    for b in (okbin, killme, keepme):
        shutil.copy("/bin/sleep", b)
        os.chmod(b, 0o755)
    kprof = os.path.join(tmp, "kill.yaml")
    with open(kprof, "w") as f:
        f.write("version: 1\nimages:\n  - image: %s\n    action: kill\n    processes:\n"
                "      - {exe: %s, name: mmtsleepok}\n" % (json.dumps(ctr.key), json.dumps(okbin)))
    krules = os.path.join(tmp, "kill-rules.yaml")
    with open(krules, "w") as f:
        f.write("- rule: Test kill me\n  desc: exec of the test binary\n"
                "  condition: evt.type = execve and proc.name = mmtkillme\n"
                "  output: kill me (proc.name=%proc.name proc.pid=%proc.pid)\n"
                "  priority: CRITICAL\n  action: kill\n")
    try:
        ag = Agent(tmp, "kill", ["--profile", kprof, "--rules", krules])
    except (Skip, Fail) as e:
        s.not_run(names[3:], e)
        return
    procs = {}
    try:
        procs["dev"] = subprocess.Popen(ctr.argv(["/usr/bin/sleep", "30"]))
        procs["twin"] = subprocess.Popen(ctr.argv([okbin, "30"]))
        procs["rule"] = subprocess.Popen([killme, "30"])
        procs["rtwin"] = subprocess.Popen([keepme, "30"])
        t0 = time.time()
        while time.time() - t0 < 5 and (procs["dev"].poll() is None or
                                         procs["rule"].poll() is None):
            time.sleep(0.05)
        took = time.time() - t0
        time.sleep(0.5)
        alive = {k: p.poll() for k, p in procs.items()}
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.kill()
            p.wait()
    ag.stop()

    def pkill():
        eq(alive["dev"], -signal.SIGKILL, "deviating sleep's exit (killed by SIGKILL)")
        check(took < 3, "kill took %.1f s" % took)
        eq(alive["twin"], None, "the profiled twin must still run")
        al = [a for a in ag.alerts if a["rule"] == "Profile deviation: unexpected process"]
        eq(len(al), 1, "process deviation alerts: %r" % al)
        f = al[0]["output_fields"]
        eq(f["proc.name"], "sleep", "proc.name")
        eq(al[0].get("action"), "kill", "action")
        eq(f["mamori.kill"], "killed pid %d (SIGKILL)" % procs["dev"].pid, "mamori.kill")

    def rkill():
        eq(alive["rule"], -signal.SIGKILL, "rule-matched process's exit (killed by SIGKILL)")
        eq(alive["rtwin"], None, "the differently named twin must still run")
        al = [a for a in ag.alerts if a["rule"] == "Test kill me"]
        eq(len(al), 1, "rule alerts")
        eq(al[0]["priority"], "Critical", "priority")
        eq(al[0].get("action"), "kill", "action")
        eq(al[0]["output_fields"]["mamori.kill"], "killed pid %d (SIGKILL)" % procs["rule"].pid,
           "mamori.kill")
        st = [l for l in ag.stderr.splitlines() if "agent: stats" in l]
        check(st and json.loads(st[-1].split("stats ", 1)[1])["kills"] == 2, "kills in stats: %r" % st)
    s.case("live-profile-kill", pkill)
    s.case("live-rule-kill", rkill)


# ---- replayed ----------------------------------------------------------------

CTR = {"container.id": "0123456789ab", "container.image": "shop/api:1.4"}


def ev(**kw):
    e = {}
    for k, v in kw.items():
        e[k.replace("__", ".")] = v
    e.update(CTR)
    return json.dumps(e)


def capture(path, deviate):
    lines = [
        ev(evt__type="execve", proc__pid=10, proc__ppid=1, proc__name="api",
           proc__exepath="/app/api", proc__ancestors=[{"pid": 1, "name": "tini"}]),
        ev(evt__type="openat", proc__pid=10, evt__arg__name="/app/cache/a",
           evt__arg__flags="O_WRONLY|O_CREAT", evt__rawres=4),
        ev(evt__type="listen", proc__pid=10, evt__arg__fd=5, fd__num=5, fd__type="ipv4",
           fd__sip="0.0.0.0", fd__sport=8080),
        ev(evt__type="connect", proc__pid=10, evt__arg__fd=6, fd__num=6, fd__type="ipv4",
           fd__sip="10.0.0.7", fd__sport=5432),
    ]
    if deviate:
        lines += [
            ev(evt__type="execve", proc__pid=11, proc__ppid=10, proc__name="curl",
               proc__exepath="/usr/bin/curl"),
            ev(evt__type="openat", proc__pid=10, evt__arg__name="/etc/crontab",
               evt__arg__flags="O_WRONLY", evt__rawres=7),
            ev(evt__type="connect", proc__pid=10, evt__arg__fd=8, fd__num=8, fd__type="ipv4",
               fd__sip="203.0.113.5", fd__sport=4444),
        ]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def replayed(s, tmp):
    base, dev = os.path.join(tmp, "base.jsonl"), os.path.join(tmp, "dev.jsonl")
    capture(base, False)
    capture(dev, True)
    prof = os.path.join(tmp, "replay-profile.yaml")

    def learn():
        r = subprocess.run([mamori_bin(), "agent", "--source", "replay:" + base, "--learn", "1m",
                            "--profile-out", prof], capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, "exit status: %s" % r.stderr)
        imgs = load_yaml_entries(prof)
        eq(sorted(imgs), ["host", "shop/api:1.4"] if "host" in imgs else ["shop/api:1.4"],
           "images")
        im = imgs["shop/api:1.4"]
        eq([entry_fields(e)["exe"] for e in im["processes"]], ["/app/api"], "processes")
        eq([entry_fields(e)["path"] for e in im["files"]], ["/app/cache/a"], "files")
        eq([entry_fields(e)["port"] for e in im["listen"]], ["8080"], "listen")
        eq([entry_fields(e)["dest"] for e in im["connect"]], ["10.0.0.7"], "connect")

    def deviations():
        check(os.path.exists(prof), "no profile from the learning case")
        r = subprocess.run([mamori_bin(), "runtime", "replay", base, "--profile", prof,
                            "--format", "json"], capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, "exit status: %s" % r.stderr)
        eq(r.stdout.strip(), "", "alerts for the learned capture")
        r = subprocess.run([mamori_bin(), "runtime", "replay", dev, "--profile", prof,
                            "--format", "json"], capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, "exit status: %s" % r.stderr)
        al = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        got = sorted((a["rule"], a["output_fields"]["profile.deviation"]) for a in al)
        eq(got, sorted([("Profile deviation: unexpected process", "/usr/bin/curl"),
                        ("Profile deviation: unexpected file write", "/etc/crontab"),
                        ("Profile deviation: unexpected outbound connection",
                         "203.0.113.5:4444/tcp")]), "alerts")
        for a in al:
            eq(a["output_fields"]["profile.image"], "shop/api:1.4", "profile.image")
            eq(a["output_fields"]["container.id"], "0123456789ab", "container.id")

    def replay_kill_not_done():
        kp = os.path.join(tmp, "replay-kill.yaml")
        with open(prof) as f:
            text = f.read()
        with open(kp, "w") as f:
            f.write(text.replace("    action: none\n", "    action: kill\n"))
        # pid 1 of a replay must never be touched, nor any other pid
        r = subprocess.run([mamori_bin(), "agent", "--source", "replay:" + dev, "--profile", kp],
                           capture_output=True, text=True, timeout=60)
        eq(r.returncode, 0, "exit status: %s" % r.stderr)
        al = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        eq(len(al), 3, "alerts")
        for a in al:
            eq(a.get("action"), "kill", "action")
            eq(a["output_fields"]["mamori.kill"], "not killed: replayed event", "mamori.kill")

    def bad_profile():
        bp = os.path.join(tmp, "bad.yaml")
        with open(bp, "w") as f:
            f.write("version: 1\nimages:\n  - image: x\n    listen:\n      - {port: 99999}\n")
        r = subprocess.run([mamori_bin(), "runtime", "replay", base, "--profile", bp],
                           capture_output=True, text=True, timeout=60)
        eq(r.returncode, 2, "exit status")
        check("%s:5: key 'port'" % bp in r.stderr, "message: %r" % r.stderr)
        r = subprocess.run([mamori_bin(), "agent", "--source", "replay:" + base, "--profile", bp],
                           capture_output=True, text=True, timeout=60)
        eq(r.returncode, 2, "agent exit status")
        check("%s:5: key 'port'" % bp in r.stderr, "agent message: %r" % r.stderr)

    s.case("replay-learn", learn)
    s.case("replay-deviations", deviations)
    s.case("replay-kill-never-carried-out", replay_kill_not_done)
    s.case("replay-malformed-profile", bad_profile)


def main():
    s = Suite()
    tmp = tempfile.mkdtemp(prefix="mamori-profile-")
    try:
        try:
            mamori_bin()
        except (Skip, Fail) as e:
            s.not_run(["replayed", "live"], e)
            s.finish()
        replayed(s, tmp)
        live(s, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s.finish()


if __name__ == "__main__":
    main()
