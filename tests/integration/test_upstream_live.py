#!/usr/bin/env python3
"""test_upstream_live - Falco's own stable rules, run live through the agent.

The replay tests prove the rule engine against Falco's expectations; this
one proves the whole path: the eBPF sensor must deliver every field the
upstream rules read (fd.nameraw, evt.arg.target, evt.arg.request, evt.rawres,
proc ancestry, container attribution) for the unmodified
../shared/testdata/falco/falco_rules.yaml to fire.  Each activity is really
done on this machine while `mamori agent` watches; each has a benign twin
that must stay silent.  Nothing leaves the machine (loopback only).

Needs root and a kernel that accepts the BPF programs; skips cleanly
otherwise, and when the shared rules are absent.
"""
import ctypes
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmrun import Fail, Skip, Suite, check, eq, skip  # noqa: E402
from agentkit import Agent, Container                       # noqa: E402

SHARED = os.environ.get("MAMORI_SHARED",
                        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                     "testdata"))
RULES = os.path.join(SHARED, "falco", "falco_rules.yaml")

CASES = ["read-sensitive-file-untrusted", "directory-traversal", "symlink-over-sensitive",
         "hardlink-over-sensitive", "search-private-keys", "find-aws-credentials",
         "clear-log-activities", "remove-bulk-data", "ptrace-attach", "ptrace-anti-debug",
         "exec-from-dev-shm", "fileless-memfd", "redirect-stdout-to-network-in-container",
         "agent-clean-exit"]


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, **kw)


def py(code):
    """A Python child whose parent is this test (not a shell)."""
    return run([sys.executable, "-c", code])


def find(ag, rule, **want):
    """Alerts of rule whose output fields contain every want value (keys
    spell dots as double underscores: fd__name)."""
    got = []
    for a in ag.by_rule(rule):
        f = a.get("output_fields", {})
        if all(v in str(f.get(k.replace("__", "."), "")) for k, v in want.items()):
            got.append(a)
    return got


class Activities:
    def __init__(self, tmp):
        self.tmp = tmp
        self.tag = secrets.token_hex(4)
        self.n = {}

    def sensitive_read(self):
        cat = os.path.join(self.tmp, "mmtcat")
        shutil.copy("/bin/cat", cat)
        run([cat, "/etc/shadow"])
        run([cat, "/etc/hostname"])                 # twin: not a sensitive file

    def traversal(self):
        rel = "/tmp/mmt-%s/../../etc/passwd" % self.tag
        os.makedirs("/tmp/mmt-%s" % self.tag, exist_ok=True)
        self.n["traversal"] = rel
        py("open(%r).read()" % rel)
        py("open('/etc/passwd').read()")           # twin: the same file, absolute
        os.rmdir("/tmp/mmt-%s" % self.tag)

    def links(self):
        s1 = os.path.join(self.tmp, "sym-shadow-" + self.tag)
        s2 = os.path.join(self.tmp, "sym-hostname-" + self.tag)
        os.symlink("/etc/shadow", s1)
        os.symlink("/etc/hostname", s2)            # twin
        self.n["sym"] = s1
        h1 = "/etc/.mmt-hl-shadow-" + self.tag
        h2 = "/etc/.mmt-hl-hostname-" + self.tag
        try:
            os.link("/etc/shadow", h1)
            os.link("/etc/hostname", h2)           # twin
            self.n["hard"] = h1
        except OSError as e:
            self.n["hard_skip"] = "cannot hard-link in /etc: %s" % e
        finally:
            for p in (h1, h2):
                if os.path.exists(p):
                    os.unlink(p)

    def finds(self):
        d = os.path.join(self.tmp, "empty-" + self.tag)
        os.makedirs(d)
        run(["find", d, "-name", "id_rsa"])
        run(["find", d, "-name", "mmt_notes"])       # twin
        run(["find", os.path.join(d, ".aws/credentials")])
        run(["find", os.path.join(d, ".aws/config")])  # twin

    def clear_log(self):
        p = "/var/log/mmt-%s.log" % self.tag
        self.n["log"] = p
        fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)   # twin: no truncation
        os.write(fd, b"x\n")
        os.close(fd)
        py("import os; os.close(os.open(%r, os.O_WRONLY | os.O_TRUNC))" % p)
        os.unlink(p)

    def shred(self):
        f = os.path.join(self.tmp, "victim-" + self.tag)
        with open(f, "w") as fh:
            fh.write("data\n")
        run(["shred", "-u", f])

    def ptrace(self):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
        victim = subprocess.Popen(["sleep", "30"])
        time.sleep(0.2)
        r = libc.ptrace(16, victim.pid, None, None)      # PTRACE_ATTACH
        if r == 0:
            os.waitpid(victim.pid, 0)
            libc.ptrace(17, victim.pid, None, None)      # PTRACE_DETACH
        else:
            self.n["ptrace_skip"] = "PTRACE_ATTACH refused: errno %d" % ctypes.get_errno()
        victim.kill()
        victim.wait()
        py("import ctypes; l = ctypes.CDLL(None); l.ptrace(0, 0, None, None)")  # TRACEME

    def shm_memfd(self):
        shm = "/dev/shm/mmt-%s" % self.tag
        shutil.copy("/bin/true", shm)
        os.chmod(shm, 0o755)
        self.n["shm"] = shm
        try:
            run([shm])
        finally:
            os.unlink(shm)
        py("import os\nfd = os.memfd_create('mmtfl%s', 0)\n"
           "os.write(fd, open('/bin/true','rb').read())\n"
           "os.execve('/proc/self/fd/%%d' %% fd, ['fileless'], {})\n" % self.tag)

    def redirect(self):
        try:
            ctr = Container()
        except Skip as e:
            self.n["ctr_skip"] = str(e)
            return
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(4)
        port = srv.getsockname()[1]
        self.n["port"] = port
        code = ("import os, socket\n"
                "s = socket.create_connection(('127.0.0.1', %d))\n"
                "os.dup2(s.fileno(), 1)\n"
                "f = os.open('/dev/null', os.O_WRONLY)\n"
                "os.dup2(f, 2)\n"                    # twin: a file onto stderr
                % port)
        try:
            p = subprocess.Popen(ctr.argv([sys.executable, "-c", code]))
            a, _ = srv.accept()
            p.wait(timeout=30)
            a.close()
        finally:
            srv.close()
            ctr.close()


def main():
    s = Suite()
    if os.geteuid() != 0:
        s.skip_all(CASES, "needs root (CI runs as root)")
        s.finish()
        return
    if not os.path.exists(RULES):
        s.skip_all(CASES, "%s is absent (../shared)" % RULES)
        s.finish()
        return
    tmp = tempfile.mkdtemp(prefix="mamori-upstream-")
    try:
        try:
            ag = Agent(tmp, "upstream", ["--rules", RULES, "--source", "bpf"], duration=300)
        except (Skip, Fail) as e:
            s.not_run(CASES, e)
            s.finish()
            return
        act = Activities(tmp)
        for f in (act.sensitive_read, act.traversal, act.links, act.finds, act.clear_log,
                  act.shred, act.ptrace, act.shm_memfd, act.redirect):
            f()
        ag.stop(settle=1.5)
        n = act.n

        def one(rule, twin=None, **want):
            got = find(ag, rule, **want)
            eq(len(got), 1, "%s alerts matching %r: %r" % (rule, want, got[:3]))
            if twin:
                eq(find(ag, rule, **twin), [], "%s fired for the benign twin %r" % (rule, twin))
            return got[0]

        def sensitive():
            a = one("Read sensitive file untrusted", proc__name="mmtcat", fd__name="/etc/shadow")
            eq(a["priority"], "Warning", "priority")
            eq(find(ag, "Read sensitive file untrusted", proc__name="mmtcat",
                       fd__name="/etc/hostname"), [], "twin /etc/hostname fired")

        def traversal():
            a = one("Directory traversal monitored file read", fd__nameraw=n["traversal"])
            eq(a["output_fields"].get("fd.name"), "/etc/passwd", "fd.name (resolved)")

        def sym():
            one("Create Symlink Over Sensitive Files", twin={"evt__arg__target": "/etc/hostname"},
                evt__arg__linkpath=n["sym"], evt__arg__target="/etc/shadow")

        def hard():
            if "hard_skip" in n:
                skip(n["hard_skip"])
            one("Create Hardlink Over Sensitive Files",
                twin={"evt__arg__oldpath": "/etc/hostname"},
                evt__arg__newpath=n["hard"], evt__arg__oldpath="/etc/shadow")

        def keys():
            a = one("Search Private Keys or Passwords", proc__name="find",
                    proc__cmdline="id_rsa")
            check("mmt_notes" not in json.dumps(find(ag, "Search Private Keys or Passwords")),
                  "twin find fired")
            eq(a["priority"], "Warning", "priority")

        def aws():
            one("Find AWS Credentials", twin={"proc__cmdline": ".aws/config"},
                proc__name="find", proc__cmdline=".aws/credentials")

        def clear():
            a = one("Clear Log Activities", fd__name=n["log"])
            check("python" in (a["output_fields"].get("proc.name") or ""), "proc.name %r" %
                  a["output_fields"].get("proc.name"))

        def shred():
            one("Remove Bulk Data from Disk", proc__name="shred")

        def pattach():
            if "ptrace_skip" in n:
                skip(n["ptrace_skip"])
            a = [x for x in find(ag, "PTRACE attached to process")
                 if "python" in (x["output_fields"].get("proc.name") or "")]
            check(len(a) >= 1, "no PTRACE attach alert from the test")

        def pdebug():
            a = [x for x in find(ag, "PTRACE anti-debug attempt")
                 if "python" in (x["output_fields"].get("proc.name") or "")]
            eq(len(a), 1, "PTRACE_TRACEME alerts")

        def shm():
            one("Execution from /dev/shm", proc__exepath=n["shm"])

        def memfd():
            a = one("Fileless execution via memfd_create", proc__exepath="mmtfl" + act.tag)
            eq(a["priority"], "Critical", "priority")

        def redirect():
            if "ctr_skip" in n:
                skip(n["ctr_skip"])
            got = [x for x in find(ag, "Redirect STDOUT/STDIN to Network Connection in Container")
                   if str(x["output_fields"].get("fd.rport")) == str(n["port"])
                   or str(n["port"]) in str(x["output_fields"].get("connection", ""))
                   or str(n["port"]) in str(x["output_fields"].get("fd.name", ""))]
            eq(len(got), 1, "redirect alerts for the test connection (stdout yes, the "
                            "/dev/null onto stderr twin no): %r" %
               find(ag, "Redirect STDOUT/STDIN to Network Connection in Container")[:3])
            eq(got[0]["output_fields"].get("fd.sip"), "127.0.0.1", "fd.sip")

        def clean():
            eq(ag.rc, 0, "agent exit status (sanitizers report here): %s" % ag.stderr[-400:])
            check("0 disabled" in ag.stderr or "disabled" not in ag.stderr,
                  "rules disabled at load: %s" % ag.stderr[:600])

        for name, fn in zip(CASES, (sensitive, traversal, sym, hard, keys, aws, clear, shred,
                                    pattach, pdebug, shm, memfd, redirect, clean)):
            s.case(name, fn)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s.finish()


if __name__ == "__main__":
    main()
