"""agentkit - what the live runtime tests share: starting `mamori agent`
and waiting until it watches, stopping it and reading its alerts, and a
container-like cgroup (docker-<64 hex>.scope) that the sensor attributes to
a container.  Stdlib only; the tests that import it run as root.
"""
import json
import os
import secrets
import signal
import subprocess
import time

from mmrun import Fail, Skip, mamori_bin


def cgroup2_root():
    """The writable cgroup v2 hierarchy, or None."""
    for c in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
        if os.path.exists(os.path.join(c, "cgroup.procs")) and \
           os.path.exists(os.path.join(c, "cgroup.subtree_control")):
            return c
    return None


def bpf_expected(args):
    """True when an eBPF agent that fails to start is a failure, not a
    reason to skip: running as root on a kernel with BTF (as CI does), so
    that a BPF program the kernel refuses cannot pass as skipped tests."""
    a = list(args)
    wants_bpf = "fallback" not in a
    return (wants_bpf and os.geteuid() == 0 and os.path.exists("/sys/kernel/btf/vmlinux")
            and os.environ.get("MAMORI_ALLOW_NO_BPF") != "1")


class Container:
    """A container-like cgroup: a process that moves into it before its
    exec is attributed to container <12 hex> by the sensor, as a runtime
    starts a container's first process.  Raises Skip when the host has no
    writable cgroup v2."""

    def __init__(self, group="mamori-test"):
        root = cgroup2_root()
        if not root:
            raise Skip("no cgroup v2 hierarchy")
        self.cid = secrets.token_hex(32)
        self.dir = os.path.join(root, group, "docker-%s.scope" % self.cid)
        try:
            os.makedirs(self.dir)
        except OSError as e:
            raise Skip("cannot create a cgroup: %s" % e)
        self.procs = os.path.join(self.dir, "cgroup.procs")

    def argv(self, cmd):
        """cmd run inside: a shell joins the cgroup, then execs cmd."""
        return ["sh", "-c", 'echo $$ > "$0"/cgroup.procs && exec "$@"', self.dir] + list(cmd)

    def close(self):
        time.sleep(0.2)
        for p in (self.dir, os.path.dirname(self.dir)):
            try:
                os.rmdir(p)
            except OSError:
                pass


class Agent:
    """`mamori agent ARGS` with alerts on stdout to a file and its messages
    on stderr to another; returns once it printed `agent: ready`, raises
    Skip with its last words when it did not start."""

    def __init__(self, tmp, name, args, duration=120, start_timeout=90):
        self.outp = os.path.join(tmp, "alerts-%s.json" % name)
        self.errp = os.path.join(tmp, "agent-%s.err" % name)
        self.out = open(self.outp, "w+")
        self.err = open(self.errp, "w+")
        self.rc = None
        self.p = subprocess.Popen([mamori_bin(), "agent"] + list(args) +
                                  ["--duration", str(duration)],
                                  stdout=self.out, stderr=self.err)
        deadline = time.time() + start_timeout
        while time.time() < deadline:
            if self.p.poll() is not None:
                break
            if "agent: ready" in self.stderr_text():
                return
            time.sleep(0.2)
        self.kill()
        why = "agent %s did not start: %s" % (name, self.stderr_text()[-600:])
        if bpf_expected(args):
            raise Fail(why + " (root on a kernel with BTF: the eBPF sensor must load; "
                       "MAMORI_ALLOW_NO_BPF=1 to skip instead)")
        raise Skip(why)

    def stderr_text(self):
        with open(self.errp) as f:
            return f.read()

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
        self.rc = self.p.wait()

    def wait(self, timeout=60):
        """Waits for the agent to end by itself (--duration, --learn) and
        loads the alerts."""
        self.rc = self.p.wait(timeout=timeout)
        return self._load()

    def load(self):
        """Reads the alerts written so far (the agent may still run)."""
        return self._load()

    def _load(self):
        self.out.seek(0)
        self.alerts = [json.loads(l) for l in self.out if l.strip()]
        self.stderr = self.stderr_text()
        return self.alerts

    def stop(self, settle=1.0, grace=120):
        """Lets the ring buffer drain (a timer), sends SIGINT, waits up to
        grace seconds (then SIGKILL), and loads the alerts."""
        time.sleep(settle)
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGINT)
        try:
            self.rc = self.p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()
        return self._load()

    def by_rule(self, rule):
        return [a for a in self.alerts if a.get("rule") == rule]
