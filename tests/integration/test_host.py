#!/usr/bin/env python3
"""test_host - live tests of `mamori host ps` and `mamori host logins`.

host ps: a process the test starts is listed with its exact argv, user,
exe and start time; a process the test moves into a docker-like cgroup
(/sys/fs/cgroup/mamori-test-ps/docker-<64 hex>.scope, made by the test)
carries that container id and runtime, and --container selects it.
host logins: a wtmp and a btmp made with util-linux `utmpdump -r` from
text give exactly the sessions `last` would (logout, crash, open) and the
§3.5.4 findings; a truncated wtmp fails naming the offset.  Needs root for
the cgroup case; each case SKIPs with the reason when a tool is missing.
"""

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmrun import Runner, Suite, check, eq, skip   # noqa: E402

WTMP = """\
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-one           ] [0.0.0.0        ] [2024-03-01T08:00:00,000000+00:00]
[7] [01234] [ts/0] [root    ] [pts/0       ] [203.0.113.9         ] [203.0.113.9    ] [2024-03-01T09:00:00,000000+00:00]
[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [2024-03-01T09:30:00,000000+00:00]
[7] [01300] [ts/1] [alice   ] [pts/1       ] [198.51.100.20       ] [198.51.100.20  ] [2024-03-01T10:00:00,000000+00:00]
[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-two           ] [0.0.0.0        ] [2024-03-01T12:00:00,000000+00:00]
[7] [01400] [ts/2] [bob     ] [pts/2       ] [192.0.2.7           ] [192.0.2.7      ] [2024-03-02T09:15:00,000000+00:00]
[8] [01400] [ts/2] [        ] [pts/2       ] [                    ] [0.0.0.0        ] [2024-03-02T11:45:30,000000+00:00]
[7] [01500] [ts/3] [carol   ] [pts/3       ] [192.0.2.8           ] [192.0.2.8      ] [2024-03-02T12:00:00,000000+00:00]
"""

# (user, line, host, login, logout, end), newest first
SESSIONS = [
    ("carol", "pts/3", "192.0.2.8", "2024-03-02T12:00:00Z", None, "gone - no logout"),
    ("bob", "pts/2", "192.0.2.7", "2024-03-02T09:15:00Z", "2024-03-02T11:45:30Z", "logout"),
    ("reboot", "system boot", "6.1.0-two", "2024-03-01T12:00:00Z", None, "still running"),
    ("alice", "pts/1", "198.51.100.20", "2024-03-01T10:00:00Z", "2024-03-01T12:00:00Z", "crash"),
    ("root", "pts/0", "203.0.113.9", "2024-03-01T09:00:00Z", "2024-03-01T09:30:00Z", "logout"),
    ("reboot", "system boot", "6.1.0-one", "2024-03-01T08:00:00Z", "2024-03-01T12:00:00Z", "crash"),
]


def btmp_text():
    lines = []
    for i in range(6):
        lines.append("[6] [%05d] [    ] [%-8s] [ssh:notty   ] [198.51.100.66       ] "
                     "[198.51.100.66  ] [2024-03-03T01:00:%02d,000000+00:00]"
                     % (2000 + i, "admin" if i % 2 else "test", i))
    return "\n".join(lines) + "\n"


def utmpdump(tmp, name, text):
    if not shutil.which("utmpdump"):
        skip("utmpdump (util-linux) is not installed")
    src = os.path.join(tmp, name + ".txt")
    out = os.path.join(tmp, name)
    with open(src, "w") as f:
        f.write(text)
    with open(src) as i, open(out, "wb") as o:
        subprocess.run(["utmpdump", "-r"], stdin=i, stdout=o, stderr=subprocess.DEVNULL,
                       check=True)
    return out


def cgroup2_root():
    for c in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(c, "cgroup.procs")) and \
           os.path.exists(os.path.join(c, "cgroup.subtree_control")):
            return c
    return None


def main():
    s = Suite()
    r = Runner()
    tmp = tempfile.mkdtemp(prefix="mamori-host-")
    try:
        def ps_own_process():
            marker = "mamori-ps-%s" % secrets.token_hex(4)
            p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", marker])
            try:
                time.sleep(0.3)
                res = r.run(["host", "ps", "--format", "json"])
                eq(res.rc, 0, "exit status (%s)" % res.describe())
                procs = {x["pid"]: x for x in res.json["processes"]}
                check(p.pid in procs, "pid %d not listed" % p.pid)
                x = procs[p.pid]
                eq(x["argv"], [sys.executable, "-c", "import time; time.sleep(120)", marker],
                   "argv")
                eq(x["ppid"], os.getpid(), "ppid")
                eq(x["uid"], os.geteuid(), "uid")
                check(x["exe"] and os.path.basename(x["exe"]).startswith("python"),
                      "exe %r" % x["exe"])
                check(x["start"] and x["start"].endswith("Z"), "start %r" % x["start"])
                eq(res.json["section"], "3.5.2", "section")
                # the table names it too
                t = r.run(["host", "ps"])
                eq(t.rc, 0, "table exit status")
                check(any(marker in line and line.split()[:1] == [str(p.pid)]
                          for line in t.out.splitlines()), "table row with the marker")
            finally:
                p.kill()
                p.wait()

        def ps_control_chars():
            # a process title is the process's own words: a newline or an
            # escape sequence in argv must not break the table or reach the
            # terminal (CI runners start multi-line `sh -c` scripts)
            marker = "mamori-cc-%s" % secrets.token_hex(4)
            arg = "line1\nline2\x1b[2J" + marker
            p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", arg])
            try:
                time.sleep(0.3)
                res = r.run(["host", "ps", "--format", "json"])
                procs = {x["pid"]: x for x in res.json["processes"]}
                check(p.pid in procs, "pid %d not listed" % p.pid)
                eq(procs[p.pid]["argv"][-1], arg, "JSON keeps argv exactly")
                t = r.run(["host", "ps"])
                eq(t.rc, 0, "table exit status")
                rows = [l for l in t.out.split("\n") if marker in l]
                eq(len(rows), 1, "one table row")
                eq(rows[0].split()[0], str(p.pid), "row starts with the pid")
                check("line1?line2?[2J" + marker in rows[0], "controls shown as '?': %r" % rows[0])
                check("\x1b" not in t.out, "an ESC reached the table")
                check(all(l.strip() for l in t.out.rstrip("\n").split("\n")), "an empty table line")
            finally:
                p.kill()
                p.wait()

        def ps_container():
            if os.geteuid() != 0:
                skip("needs root to make a cgroup")
            cg2 = cgroup2_root()
            if not cg2:
                skip("no writable cgroup v2 hierarchy")
            cid = secrets.token_hex(32)
            parent = os.path.join(cg2, "mamori-test-ps")
            d = os.path.join(parent, "docker-%s.scope" % cid)
            try:
                os.makedirs(d)
            except OSError as e:
                skip("cannot create cgroup: %s" % e)
            p = None
            try:
                marker = "mamori-ctr-%s" % secrets.token_hex(4)
                # the shell moves itself into the cgroup, then becomes the sleeper
                p = subprocess.Popen(["sh", "-c", "echo $$ > %s/cgroup.procs && exec sleep 120"
                                      % d, marker])
                deadline = time.time() + 10
                while time.time() < deadline:
                    with open(os.path.join(d, "cgroup.procs")) as f:
                        if str(p.pid) in f.read().split():
                            break
                    time.sleep(0.1)
                time.sleep(0.2)   # the exec of sleep
                res = r.run(["host", "ps", "--format", "json"])
                eq(res.rc, 0, "exit status (%s)" % res.describe())
                procs = {x["pid"]: x for x in res.json["processes"]}
                check(p.pid in procs, "pid %d not listed" % p.pid)
                x = procs[p.pid]
                check(x["container"], "no container for %r" % x)
                eq(x["container"]["id"], cid[:12], "container.id")
                eq(x["container"]["full_id"], cid, "container.full_id")
                eq(x["container"]["runtime"], "docker", "container.runtime")
                eq(x["argv"], ["sleep", "120"], "argv")
                # --container selects by id prefix; host processes are left out
                sel = r.run(["host", "ps", "--format", "json", "--container", cid[:8]])
                eq([y["pid"] for y in sel.json["processes"]], [p.pid], "--container selection")
                host = r.run(["host", "ps", "--format", "json", "--container", "host"])
                check(p.pid not in [y["pid"] for y in host.json["processes"]],
                      "--container host lists the container process")
                check(os.getpid() in [y["pid"] for y in host.json["processes"]],
                      "--container host misses this test")
                t = r.run(["host", "ps"])
                check(any(line.split()[:1] == [str(p.pid)] and cid[:12] in line
                          and "docker" in line
                          for line in t.out.splitlines()), "table row with the container id")
            finally:
                if p:
                    p.kill()
                    p.wait()
                time.sleep(0.2)
                for x in (d, parent):
                    try:
                        os.rmdir(x)
                    except OSError:
                        pass

        def logins_sessions():
            w = utmpdump(tmp, "wtmp", WTMP)
            res = r.run(["host", "logins", "--wtmp", w, "--btmp", "", "--lastlog", "",
                         "--format", "json"])
            eq(res.rc, 0, "exit status (%s)" % res.describe())
            got = [(x["user"], x["line"], x["host"], x["login"], x["logout"], x["end"])
                   for x in res.json["sessions"]]
            eq(got, SESSIONS, "sessions")
            bob = res.json["sessions"][1]
            eq(bob["duration"], 2 * 3600 + 30 * 60 + 30, "bob's duration")
            eq(bob["pid"], 1400, "bob's login pid")
            f = res.json["findings"]
            eq([x["id"] for x in f], ["MM-HOST-LOGIN-001"], "findings")
            eq(f[0]["section"], "3.5.4", "section")
            eq(f[0]["kind"], "compliance", "kind")
            check("203.0.113.9" in f[0]["title"], "title %r" % f[0]["title"])
            # --since keeps the sessions that began after it
            res = r.run(["host", "logins", "--wtmp", w, "--btmp", "", "--lastlog", "",
                         "--since", "2024-03-02", "--format", "json"])
            eq([x["user"] for x in res.json["sessions"]], ["carol", "bob"], "--since")
            eq(res.json["findings"], [], "no root login after --since")
            # the table says the same
            t = r.run(["host", "logins", "--wtmp", w, "--btmp", "", "--lastlog", ""])
            eq(t.rc, 0, "table exit status")
            row = [l for l in t.out.splitlines() if l.startswith("bob ")]
            check(row and "2024-03-02T11:45:30Z" in row[0] and "(02:30)" in row[0],
                  "bob's row: %r" % row)
            check("MM-HOST-LOGIN-001" in t.out, "finding in the table")

        def logins_failed():
            b = utmpdump(tmp, "btmp", btmp_text())
            res = r.run(["host", "logins", "--wtmp", "", "--btmp", b, "--lastlog", "",
                         "--format", "json"])
            eq(res.rc, 0, "exit status (%s)" % res.describe())
            eq(len(res.json["failed"]), 6, "failed logins")
            eq(res.json["failed"][0]["time"], "2024-03-03T01:00:05Z", "newest first")
            ids = sorted(x["id"] for x in res.json["findings"])
            eq(ids, ["MM-HOST-LOGIN-002"], "findings (6 from one host; 3 per account < 5)")
            check("198.51.100.66" in res.json["findings"][0]["title"], "names the host")
            # with a lower threshold the accounts count too
            res = r.run(["host", "logins", "--wtmp", "", "--btmp", b, "--lastlog", "",
                         "--failed-threshold", "3", "--format", "json"])
            eq(sorted(x["id"] for x in res.json["findings"]),
               ["MM-HOST-LOGIN-002", "MM-HOST-LOGIN-003", "MM-HOST-LOGIN-003"],
               "findings at threshold 3")

        def logins_truncated():
            w = utmpdump(tmp, "wtmp2", WTMP)
            with open(w, "ab") as f:
                f.write(b"\x07\x00\x00\x00garbage")
            msg = r.expect_error(["host", "logins", "--wtmp", w, "--btmp", "", "--lastlog", ""],
                                 must_name=[w, "offset 3072"])
            check("truncated" in msg, msg)

        s.case("host-ps-own-process", ps_own_process)
        s.case("host-ps-control-chars", ps_control_chars)
        s.case("host-ps-container", ps_container)
        s.case("host-logins-sessions", logins_sessions)
        s.case("host-logins-failed", logins_failed)
        s.case("host-logins-truncated", logins_truncated)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        r.close()
    s.finish()


if __name__ == "__main__":
    main()
