#!/usr/bin/env python3
"""test_sensor - live tests of the runtime sensor and `mamori agent`.

Starts the agent on a small rule file, really does things (read /etc/shadow,
write below /etc, run a binary from /dev/shm, execute a memfd, open a shell
in a new mount+pid namespace inside a container-like cgroup, listen and
connect on 127.0.0.1), stops the agent and asserts the alerts with their
fields, and that nothing fires for the benign twin of each activity.  The
same is done with `--source fallback` for what that source can see.
Needs root (CI runs as root); every case SKIPs with the reason when the
kernel refuses BPF or the source cannot start.
"""

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

RULES = r"""
- rule: Test shadow read
  desc: a read of /etc/shadow
  condition: evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.name=/etc/shadow and proc.name=mmtcat
  output: "shadow read (proc.name=%proc.name fd.name=%fd.name proc.pname=%proc.pname user.uid=%user.uid)"
  priority: WARNING
  tags: [mamori_test]
- rule: Test write below etc
  desc: write below /etc
  condition: evt.type in (open, openat, openat2) and evt.is_open_write=true and fd.name startswith /etc/mamori-test-
  output: "write below etc (proc.name=%proc.name fd.name=%fd.name)"
  priority: ERROR
  tags: [mamori_test]
- rule: Test exec from dev shm
  desc: a binary run from /dev/shm
  condition: evt.type = execve and proc.exepath startswith /dev/shm/
  output: "exec from shm (proc.exepath=%proc.exepath proc.name=%proc.name)"
  priority: WARNING
  tags: [mamori_test]
- rule: Test memfd exec
  desc: fileless execution
  condition: evt.type = execve and proc.is_exe_from_memfd = true
  output: "memfd exec (proc.name=%proc.name proc.exepath=%proc.exepath proc.pname=%proc.pname)"
  priority: CRITICAL
  tags: [mamori_test]
- rule: Test container shell
  desc: shell in a container
  condition: evt.type = execve and container.id != host and proc.name in (sh, dash, bash) and proc.args contains mamori-test-shell
  output: "container shell (container.id=%container.id container.type=%container.type proc.vpid=%proc.vpid proc.name=%proc.name)"
  priority: NOTICE
  tags: [mamori_test]
- rule: Test listen
  desc: a listener on the test port
  condition: evt.type = listen and fd.sport = @PORT@
  output: "listen (fd.sport=%fd.sport fd.sip=%fd.sip proc.name=%proc.name)"
  priority: NOTICE
  tags: [mamori_test]
- rule: Test connect
  desc: a connection to the test port
  condition: evt.type = connect and fd.sip = 127.0.0.1 and fd.sport = @PORT@
  output: "connect (fd.name=%fd.name fd.sip=%fd.sip fd.sport=%fd.sport fd.cport=%fd.cport)"
  priority: NOTICE
  tags: [mamori_test]
- rule: Test cpu order
  desc: opens of the order marker, made on alternating CPUs
  condition: evt.type in (open, openat, openat2) and fd.name startswith /tmp/mamori-sensor- and fd.name endswith /mmt-order and proc.name=mmtorder
  output: "order (evt.cpu=%evt.cpu evt.rawtime=%evt.rawtime proc.args=%proc.args)"
  priority: NOTICE
  tags: [mamori_test]
"""

FALLBACK_RULES = r"""
- rule: Test shadow read
  desc: a read of /etc/shadow
  condition: evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.name=/etc/shadow and proc.name=mmtcat
  output: "shadow read (proc.name=%proc.name fd.name=%fd.name)"
  priority: WARNING
- rule: Test exec from dev shm
  desc: a binary run from /dev/shm
  condition: evt.type = execve and proc.exepath startswith /dev/shm/
  output: "exec from shm (proc.exepath=%proc.exepath)"
  priority: WARNING
- rule: Test short-lived exec
  desc: a program that exits at once, run many times
  condition: evt.type = execve and proc.name = mmtquick
  output: "quick (proc.args=%proc.args proc.exepath=%proc.exepath proc.pname=%proc.pname proc.env=%proc.env)"
  priority: WARNING
- rule: Test write of a removed file
  desc: a file written, closed and removed at once
  condition: evt.type in (open, openat, openat2) and evt.is_open_write=true and fd.name endswith /mmt-removed-file
  output: "removed (fd.name=%fd.name)"
  priority: WARNING
"""
QUICK_N = 100


def start_agent(source, rules, tmp):
    rf = os.path.join(tmp, "rules-%s.yaml" % source)
    with open(rf, "w") as f:
        f.write(rules)
    return Agent(tmp, source, ["--rules", rf, "--source", source])


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


class Activities:
    """The things done while the agent watches, with their benign twins."""

    def __init__(self, tmp, port):
        self.tmp = tmp
        self.port = port
        self.notes = {}

    def shadow(self, linger=0.5):
        cat = os.path.join(self.tmp, "mmtcat")
        shutil.copy("/bin/cat", cat)
        # cat lingers on stdin after the read, so that even the fallback
        # source (which reads process details from /proc after the event)
        # sees its name; a sanitizer build on a loaded machine needs longer
        for f in ("/etc/shadow", "/etc/hostname"):   # twin: a harmless file
            p = subprocess.Popen([cat, f, "-"], stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL)
            time.sleep(linger)
            p.stdin.close()
            p.wait()

    def etc_write(self):
        path = "/etc/mamori-test-%s" % secrets.token_hex(4)
        self.notes["etc"] = path
        try:
            with open(path, "w") as f:
                f.write("x")
            with open(path) as f:       # twin: a read of the same file
                f.read()
        finally:
            os.unlink(path)

    def dev_shm(self):
        name = "mmt-%s" % secrets.token_hex(4)
        shm = "/dev/shm/" + name
        twin = os.path.join(self.tmp, name)
        shutil.copy("/bin/true", shm)
        shutil.copy("/bin/true", twin)
        os.chmod(shm, 0o755)
        os.chmod(twin, 0o755)
        self.notes["shm"] = shm
        try:
            run([shm])
            run([twin])                 # twin: the same binary from a normal dir
        finally:
            os.unlink(shm)

    def memfd(self):
        code = ("import os\n"
                "fd = os.memfd_create('mmtfileless', 0)\n"
                "os.write(fd, open('/bin/true','rb').read())\n"
                "os.execve('/proc/self/fd/%d' % fd, ['fileless'], {})\n")
        run([sys.executable, "-c", code])
        run(["/bin/true"])              # twin: an ordinary exec

    def container_shell(self):
        if not shutil.which("unshare"):
            self.notes["ctr_skip"] = "no unshare"
            return
        try:
            ctr = Container()
        except Skip as e:
            self.notes["ctr_skip"] = str(e)
            return
        self.notes["cid"] = ctr.cid
        try:
            # a shell joins the cgroup and execs unshare, whose child shell
            # is the one in the new namespaces (the joining shell ran its
            # exec on the host, before it moved)
            run(ctr.argv(["unshare", "--mount", "--pid", "--fork", "sh", "-c", "true",
                          "mamori-test-shell"]))
            # twin: the same shell outside the container cgroup
            run(["unshare", "--mount", "--pid", "--fork", "sh", "-c", "true",
                 "mamori-test-shell"])
        finally:
            ctr.close()

    def network(self):
        srv = socket.socket()
        srv.bind(("127.0.0.1", self.port))
        srv.listen(4)
        other = socket.socket()
        other.bind(("127.0.0.1", 0))
        other.listen(4)
        self.notes["other_port"] = other.getsockname()[1]
        c = socket.create_connection(("127.0.0.1", self.port))
        self.notes["cport"] = c.getsockname()[1]
        a, _ = srv.accept()
        c2 = socket.create_connection(("127.0.0.1", self.notes["other_port"]))  # twin
        for s in (a, c, c2, srv, other):
            s.close()

    def cpu_order(self, rounds=24):
        """Opens of one file by short processes pinned in turn to CPU 0
        and CPU 1, one after the other: with a ring buffer per CPU, their
        records must still come out in the order they happened."""
        ncpu = len(os.sched_getaffinity(0))
        if ncpu < 2 or not shutil.which("taskset"):
            self.notes["order_skip"] = "needs 2 CPUs and taskset"
            return
        cpus = sorted(os.sched_getaffinity(0))[:2]
        tool = os.path.join(self.tmp, "mmtorder")
        shutil.copy("/bin/cat", tool)
        marker = os.path.join(self.tmp, "mmt-order")
        with open(marker, "w") as f:
            f.write("x")
        order = []
        for i in range(rounds):
            cpu = cpus[i % 2]
            subprocess.run(["taskset", "-c", str(cpu), tool, marker],
                           stdout=subprocess.DEVNULL, check=True)
            order.append(cpu)
        self.notes["order"] = order

    def all(self):
        self.cpu_order()
        self.shadow()
        self.etc_write()
        self.dev_shm()
        self.memfd()
        self.container_shell()
        self.network()


def fields(a):
    return a.get("output_fields", {})


def main():
    s = Suite()
    names = ["bpf-hooks-attached", "bpf-shadow-read", "bpf-write-below-etc", "bpf-dev-shm-exec",
             "bpf-memfd-exec", "bpf-container-shell", "bpf-listen", "bpf-connect",
             "bpf-no-drops", "bpf-cpu-order", "fallback-shadow-read", "fallback-dev-shm-exec",
             "fallback-short-lived-exec", "fallback-removed-file"]
    if os.geteuid() != 0:
        s.skip_all(names, "needs root (CI runs as root)")
        s.finish()
    tmp = tempfile.mkdtemp(prefix="mamori-sensor-")
    port = 20000 + secrets.randbelow(20000)
    try:
        agent = None
        try:
            agent = start_agent("bpf", RULES.replace("@PORT@", str(port)), tmp)
        except (Skip, Fail) as e:   # BPF refused: the reason is the skip
            s.not_run(names[:10], e)
        if agent:
            act = Activities(tmp, port)
            act.all()
            agent.stop()

            def hooks():
                line = [l for l in agent.stderr.splitlines() if "hooks:" in l]
                check(line, "no hook line: %r" % agent.stderr[-400:])
                for h in ("tp_btf/sched_process_exec=attached", "tp_btf/sched_process_fork=attached",
                          "tp_btf/sched_process_exit=attached"):
                    check(h in line[0], "%s missing in %r" % (h, line[0]))
                # syscall exits: the BTF tracepoint, or the raw one as fallback
                check("tp_btf/sys_exit=attached" in line[0] or "raw_tp/sys_exit=attached" in line[0],
                      "no sys_exit hook in %r" % line[0])

            def shadow():
                al = agent.by_rule("Test shadow read")
                eq(len(al), 1, "alerts (one for /etc/shadow, none for /etc/hostname)")
                f = fields(al[0])
                eq(f["fd.name"], "/etc/shadow", "fd.name")
                eq(f["proc.name"], "mmtcat", "proc.name")
                eq(f["proc.pname"], "python3" if "python3" in f["proc.pname"] else f["proc.pname"],
                   "proc.pname")
                check(f["proc.pname"], "proc.pname empty: ancestors not tracked")
                eq(al[0]["priority"], "Warning", "priority")

            def etc():
                al = agent.by_rule("Test write below etc")
                eq(len(al), 1, "alerts (write fires, read twin does not)")
                eq(fields(al[0])["fd.name"], act.notes["etc"], "fd.name")

            def shm():
                al = agent.by_rule("Test exec from dev shm")
                eq(len(al), 1, "alerts (/dev/shm fires, tmp-dir twin does not)")
                eq(fields(al[0])["proc.exepath"], act.notes["shm"], "proc.exepath")

            def memfd():
                al = agent.by_rule("Test memfd exec")
                eq(len(al), 1, "alerts (memfd fires, /bin/true twin does not)")
                f = fields(al[0])
                check("memfd:mmtfileless" in f["proc.exepath"], "exepath %r" % f["proc.exepath"])
                eq(al[0]["priority"], "Critical", "priority")

            def ctr():
                if "ctr_skip" in act.notes:
                    skip(act.notes["ctr_skip"])
                al = agent.by_rule("Test container shell")
                eq(len(al), 1, "alerts (container shell fires, host twin does not): %r" % al)
                f = fields(al[0])
                eq(f["container.id"], act.notes["cid"][:12], "container.id")
                eq(f["container.type"], "docker", "container.type")
                eq(str(f["proc.vpid"]), "1", "proc.vpid (pid 1 of the new pid namespace)")

            def listen():
                al = agent.by_rule("Test listen")
                eq(len(al), 1, "listen alerts (test port only)")
                eq(str(fields(al[0])["fd.sport"]), str(port), "fd.sport")
                eq(fields(al[0])["fd.sip"], "127.0.0.1", "fd.sip")

            def connect():
                al = agent.by_rule("Test connect")
                eq(len(al), 1, "connect alerts (test port only, not the twin port)")
                f = fields(al[0])
                eq(str(f["fd.cport"]), str(act.notes["cport"]), "fd.cport (local port)")
                eq(f["fd.name"], "127.0.0.1:%d->127.0.0.1:%d" % (act.notes["cport"], port),
                   "fd.name")

            def drops():
                st = [l for l in agent.stderr.splitlines() if "agent: stats" in l]
                check(st, "no stats line")
                j = json.loads(st[-1].split("stats ", 1)[1])
                check(j["events"] > 0, "no events")
                eq(j["drops"], 0, "drops at this light load")
                eq(agent.rc, 0, "agent exit status (sanitizers report here)")

            def cpu_order():
                if "order_skip" in act.notes:
                    skip(act.notes["order_skip"])
                al = agent.by_rule("Test cpu order")
                want = act.notes["order"]
                eq(len(al), len(want), "one alert per open")
                f = [fields(a) for a in al]
                eq([int(x["evt.cpu"]) for x in f], want,
                   "CPUs in the order the opens ran (alerts in time order)")
                t = [int(x["evt.rawtime"]) for x in f]
                eq(t, sorted(t), "alert times never go back")

            s.case("bpf-hooks-attached", hooks)
            s.case("bpf-cpu-order", cpu_order)
            s.case("bpf-shadow-read", shadow)
            s.case("bpf-write-below-etc", etc)
            s.case("bpf-dev-shm-exec", shm)
            s.case("bpf-memfd-exec", memfd)
            s.case("bpf-container-shell", ctr)
            s.case("bpf-listen", listen)
            s.case("bpf-connect", connect)
            s.case("bpf-no-drops", drops)

        fb = None
        try:
            fb = start_agent("fallback", FALLBACK_RULES, tmp)
        except (Skip, Fail) as e:
            s.not_run(names[10:], e)
        if fb:
            act = Activities(tmp, port + 1)
            act.shadow(linger=2.0)
            act.dev_shm()
            # programs that exit at once: the fallback takes their details
            # while the kernel holds the exec (FAN_OPEN_EXEC_PERM), so every
            # one is seen whole, however loaded the machine
            quick = os.path.join(tmp, "mmtquick")
            shutil.copy("/bin/true", quick)
            run(["sh", "-c", 'i=0; while [ $i -lt %d ]; do MMT_I=$i "$0" a$i b; i=$((i+1)); done'
                 % QUICK_N, quick])
            removed = os.path.join(tmp, "mmt-removed-file")
            with open(removed, "w") as f:
                f.write("x")
            os.unlink(removed)
            fb.stop()

            def fshadow():
                al = fb.by_rule("Test shadow read")
                eq(len(al), 1, "alerts (shadow fires, hostname twin does not)")
                eq(fields(al[0])["fd.name"], "/etc/shadow", "fd.name")

            def fshm():
                al = fb.by_rule("Test exec from dev shm")
                eq(len(al), 1, "alerts")
                eq(fields(al[0])["proc.exepath"], act.notes["shm"], "proc.exepath")
            def fquick():
                line = [l for l in fb.stderr.splitlines() if "hooks:" in l]
                check(line and "fanotify:exec-permission=attached" in line[0],
                      "exec-permission hook not attached: %r" % line)
                al = fb.by_rule("Test short-lived exec")
                st = [l for l in fb.stderr.splitlines() if "agent: stats" in l]
                got = sorted(int(fields(a)["proc.args"].split(" ")[0][1:]) for a in al)
                check(len(al) == QUICK_N, "alerts: got %d of %d, missing %r; %s" %
                      (len(al), QUICK_N, sorted(set(range(QUICK_N)) - set(got))[:10], st))
                seen = set()
                for a in al:
                    f = fields(a)
                    args = f["proc.args"].split(" ")
                    check(len(args) == 2 and args[0][:1] == "a" and args[1] == "b",
                          "proc.args %r" % f["proc.args"])
                    i = args[0][1:]
                    check("MMT_I=%s" % i in f["proc.env"].split(" "), "proc.env lacks MMT_I=%s" % i)
                    eq(f["proc.exepath"], quick, "proc.exepath")
                    eq(f["proc.pname"], "sh", "proc.pname")
                    seen.add(i)
                eq(len(seen), QUICK_N, "distinct runs")

            def fremoved():
                al = fb.by_rule("Test write of a removed file")
                eq(len(al), 1, "alerts")
                eq(fields(al[0])["fd.name"], removed, "fd.name (no ' (deleted)')")
            s.case("fallback-shadow-read", fshadow)
            s.case("fallback-dev-shm-exec", fshm)
            s.case("fallback-short-lived-exec", fquick)
            s.case("fallback-removed-file", fremoved)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s.finish()


if __name__ == "__main__":
    main()
