#!/usr/bin/env python3
"""test_evtgen_live - an event-generator-like suite, live.

evtgen_actions.py re-creates falcosecurity/event-generator's syscall
actions as small programs (links to system tools named as the rules expect,
the static helper evtgen/mmt-sys.c, Podman containers of a busybox image,
one of them privileged).  For each source (eBPF, then the fallback) the
agent runs with Falco's three upstream rule files (stable, incubating,
sandbox; the rules the actions are written for switched on), every action is
done once in turn, and an alert counts for the action whose time window it
falls in.  This is repeated RUNS times (default 5, MAMORI_EVTGEN_RUNS).

Cases, per source:
- evtgen-SRC-fires: every action whose rule is active under the source
  (`runtime rules --check --source SRC`) fired it in every run (both
  sources take a process's details while its exec is held: the fallback
  at fanotify's FAN_OPEN_EXEC_PERM, so a program that exits at once is
  still seen whole);
- evtgen-SRC-deterministic: each action fired its rule in every run or in
  none (other rules that fire in its window, e.g. from other processes on
  a shared machine, are not counted);
- evtgen-SRC-unsupported-quiet: rules the source cannot serve never fire.
MAMORI_EVTGEN_REPORT=FILE writes the per-action table (docs/evtgen.md is
made from it).  Needs root, gcc (static libc), busybox-static, podman and
runc for the container actions (which skip otherwise) and ../shared.
MAMORI_EVTGEN_SOURCES=fallback (comma list) runs one source only.
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
from mmrun import Fail, Skip, Suite, check, mamori_bin, skip  # noqa: E402
from agentkit import Agent                                  # noqa: E402
import ctrkit                                                # noqa: E402
import evtgen_actions as EA                                  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.environ.get("MAMORI_SHARED", os.path.join(HERE, "..", "..", "..", "shared",
                                                      "testdata"))
FALCO = os.path.join(SHARED, "falco")
FILES = [os.path.join(FALCO, f) for f in ("falco_rules.yaml", "falco-incubating_rules.yaml",
                                          "falco-sandbox_rules.yaml")]
RUNS = int(os.environ.get("MAMORI_EVTGEN_RUNS", "5"))
TOOLS = ["nc", "apt", "scp", "wget", "nmap", "kubectl", "debugfs", "base64", "mount"]
SOURCES = [x for x in os.environ.get("MAMORI_EVTGEN_SOURCES", "bpf,fallback").split(",") if x]


def parse_time(ts):
    import calendar
    sec = calendar.timegm(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S"))
    return sec * 10**9 + int(ts[20:29].ljust(9, "0"))


def rule_states(rules, source):
    p = subprocess.run([mamori_bin(), "runtime", "rules", "--check", "--source", source] +
                       sum([["--rules", r] for r in rules], []),
                       capture_output=True, text=True, timeout=120)
    st = {}
    for line in p.stdout.splitlines()[1:]:
        parts = line.split(None, 2)
        if len(parts) == 3:
            state, rest = parts[0], parts[2]
            name, _, why = rest.partition(": ")
            # names may hold ": " themselves; prefer an exact known name
            st[rest if rest in st else name] = (state, why)
            st[rest] = (state, why)
    return st


class Env:
    """The containers the actions use, and the helper."""

    def __init__(self, tmp, tag):
        self.tmp = tmp
        self.tag = tag
        self.pm = None
        self.why = None
        self.ns = None
        self.peer = None
        self.sys = os.path.join(tmp, "mmt-sys")
        r = subprocess.run(["gcc", "-static", "-O1", "-o", self.sys,
                            os.path.join(HERE, "evtgen", "mmt-sys.c")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Skip("cannot build the static helper: %s" % r.stderr[-300:])

    def containers(self):
        try:
            self.pm = ctrkit.Podman(self.tmp)
            with open(self.sys, "rb") as f:
                helper = f.read()
            tar = ctrkit.rootfs_tar(os.path.join(self.tmp, "rootfs.tar"),
                                    extra={"bin/mmt-sys": (helper, 0o755)}, links=TOOLS)
            img = "localhost/mmt-evtgen:%s" % self.tag
            self.pm.import_image(tar, img)
            self.ctr = "mmt-evtgen-%s" % self.tag
            self.priv = "mmt-evtgen-priv-%s" % self.tag
            self.pm.run(self.ctr, img, ["sh", "-c", "sleep 3600", "mmt-evtgen"])
            self.pm.run(self.priv, img, ["sh", "-c", "sleep 3600", "mmt-evtgen"], privileged=True)
        except (Skip, RuntimeError, subprocess.TimeoutExpired, OSError) as e:
            self.why = str(e)
            print("evtgen: container actions not run: %s" % e, file=sys.stderr)

    def netns(self):
        """A network namespace of this test behind a veth pair with private
        addresses: the peer that network actions talk to (never an
        address outside this machine)."""
        if not shutil.which("ip"):
            return
        n = "mmt%d" % os.getpid()
        host, peer = "mmtv%dh" % (os.getpid() % 100000), "mmtv%dp" % (os.getpid() % 100000)
        o = (os.getpid() % 200) + 20
        cmds = [["ip", "netns", "add", n],
                ["ip", "link", "add", host, "type", "veth", "peer", "name", peer],
                ["ip", "link", "set", peer, "netns", n],
                ["ip", "addr", "add", "10.213.%d.1/30" % o, "dev", host],
                ["ip", "link", "set", host, "up"],
                ["ip", "-n", n, "addr", "add", "10.213.%d.2/30" % o, "dev", peer],
                ["ip", "-n", n, "link", "set", peer, "up"]]
        self.ns = n
        for c in cmds:
            if subprocess.run(c, capture_output=True).returncode != 0:
                print("evtgen: netns set-up failed at %s" % " ".join(c), file=sys.stderr)
                return
        self.peer = "10.213.%d.2" % o

    def cexec(self, argv, privileged=False, user=None, tty=False):
        if not self.pm or self.why:
            return
        self.pm.exec(self.priv if privileged else self.ctr, argv, user=user, tty=tty)

    def close(self):
        if self.pm:
            self.pm.close()
        if self.ns:
            subprocess.run(["ip", "netns", "del", self.ns], capture_output=True)


def run_once(env, rules, source, gap):
    """One agent run: every action once; returns {action: set(rules fired)}."""
    tag = secrets.token_hex(3)
    ctx = EA.Ctx(env.tmp, tag, env.sys, env.cexec, env.peer)
    ag = Agent(env.tmp, "evtgen-%s-%s" % (source, tag),
               sum([["--rules", r] for r in rules], []) + ["--source", source], duration=600)
    marks = []
    try:
        time.sleep(0.5)
        for name, rule, where, fn in EA.ACTIONS:
            if where != "host" and (env.why or not env.pm):
                continue
            marks.append((time.time_ns(), name))
            try:
                fn(ctx)
            except Exception as e:          # an action that breaks is a finding
                print("action %s: %s" % (name, e), file=sys.stderr)
            time.sleep(gap)
        marks.append((time.time_ns(), None))
        ag.stop(settle=1.5 if source == "fallback" else 1.0)
    finally:
        if ag.p.poll() is None:
            ag.kill()
    got = {n: set() for _, n in marks if n}
    for a in ag.alerts:
        t = parse_time(a["time"])
        owner = None
        for (t0, n), (t1, _) in zip(marks, marks[1:]):
            if t0 <= t < t1:
                owner = n
        if owner:
            got[owner].add(a["rule"])
    return got, ag.rc


def main():
    names = ["evtgen-%s-%s" % (s, c) for s in SOURCES
             for c in ("fires", "deterministic", "unsupported-quiet")]
    s = Suite()
    if os.geteuid() != 0:
        s.skip_all(names, "needs root (CI runs as root)")
        s.finish()
        return
    if not all(os.path.exists(f) for f in FILES):
        s.skip_all(names, "falco rule files absent (%s)" % FALCO)
        s.finish()
        return
    if not shutil.which("gcc") or not shutil.which("busybox"):
        s.skip_all(names, "needs gcc and busybox-static")
        s.finish()
        return
    tmp = tempfile.mkdtemp(prefix="mamori-evtgen-")
    env = None
    report = []
    try:
        env = Env(tmp, secrets.token_hex(3))
        env.containers()
        env.netns()
        enable = os.path.join(tmp, "enable.yaml")
        with open(enable, "w") as f:
            for _, rule, _, _ in EA.ACTIONS:
                f.write("- rule: %s\n  enabled: true\n" % json.dumps(rule))
        rules = FILES + [enable]
        for src in SOURCES:
            states = rule_states(rules, src)
            runs = []
            rc_bad = []
            try:
                for i in range(RUNS):
                    got, rc = run_once(env, rules, src, 0.35 if src == "fallback" else 0.15)
                    runs.append(got)
                    if rc != 0:
                        rc_bad.append(rc)
            except (Skip, Fail) as e:
                s.not_run(["evtgen-%s-%s" % (src, c) for c in
                           ("fires", "deterministic", "unsupported-quiet")], e)
                continue
            rows = []
            for name, rule, where, _ in EA.ACTIONS:
                if name not in runs[0]:
                    rows.append((name, rule, where, None, "not run: %s" % env.why, False))
                    continue
                st, why = states.get(rule, ("missing", "rule not in the files"))
                if src == "fallback" and name in EA.FALLBACK_GAPS:
                    st, why = "gap", EA.FALLBACK_GAPS[name]
                n = sum(1 for r in runs if rule in r.get(name, set()))
                same = n in (0, RUNS)   # the rule fires every time or never
                rows.append((name, rule, where, n, (st, why), same))
            report.append((src, rows))

            # both sources take a process's details while the kernel holds
            # the exec (eBPF: at the tracepoint; the fallback: at the
            # FAN_OPEN_EXEC_PERM event, lib/sensor/execperm.c), so a
            # short-lived program is seen whole: every active rule fires in
            # every run, and results never vary between runs
            need = RUNS

            def fires(rows=rows, need=need):
                bad = [(r[0], r[3]) for r in rows if r[3] is not None and r[4][0] == "active"
                       and r[3] < need]
                check(not bad, "actions whose active rule fired fewer than %d of %d runs: %r" %
                      (need, RUNS, bad))

            def determ(rows=rows, src=src):
                bad = [(r[0], r[3]) for r in rows if r[3] is not None and not r[5]]
                check(not bad, "actions with different results between runs: %r" % bad)

            def quiet(rows=rows):
                bad = [r[0] for r in rows if r[3] and r[4][0] not in ("active", "gap")]
                check(not bad and not rc_bad,
                      "rules fired that do not load as active: %r; agent exits %r" % (bad, rc_bad))
            s.case("evtgen-%s-fires" % src, fires)
            s.case("evtgen-%s-deterministic" % src, determ)
            s.case("evtgen-%s-unsupported-quiet" % src, quiet)
        out = os.environ.get("MAMORI_EVTGEN_REPORT")
        if out and report:
            write_report(out, report)
    except Skip as e:
        s.skip_all(names, str(e))
    finally:
        if env:
            env.close()
        shutil.rmtree(tmp, ignore_errors=True)
    s.finish()


def write_report(out, report):
    by = {src: {r[0]: r for r in rows} for src, rows in report}
    lines = ["| action | rule | where | " + " | ".join(
        "%s (of %d runs)" % (src, RUNS) for src, _ in report) + " |",
        "|---|---|---|" + "---|" * len(report)]
    for name, rule, where, _ in EA.ACTIONS:
        cells = []
        for src, _ in report:
            r = by[src].get(name)
            if not r or r[3] is None:
                cells.append("not run")
            elif r[4][0] == "gap":
                cells.append("%d/%d, not seen: %s" % (r[3], RUNS, r[4][1]))
            elif r[4][0] != "active":
                cells.append("unsupported: %s" % r[4][1].replace("|", "\\|"))
            else:
                cells.append("%d/%d%s" % (r[3], RUNS, "" if r[5] else " (varies)"))
        lines.append("| %s | %s | %s | %s |" % (name.split(".", 1)[1], rule.replace("|", "\\|"),
                                                where, " | ".join(cells)))
    for name, rule, why in EA.NOT_RUN:
        lines.append("| %s | %s | - | %s |" % (name.split(".", 1)[1], rule,
                                                 " | ".join(["not run: " + why] * len(report))))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
