#!/usr/bin/env python3
"""test_capture - live test of `mamori agent --capture` and replay.

Starts the agent with a capture and a small size cap, really reads
/etc/shadow with a renamed cat (and /etc/hostname, the benign twin), makes
enough events for the capture to rotate, stops the agent, then asserts that
the capture rotated (zstd members within the cap) and that `mamori runtime
replay` of the capture fires the rule for the shadow read and not for the
twin - given FILE alone, or the members in a shell's `FILE*` order.  With
the upstream stable rules (../shared/testdata/falco/falco_rules.yaml) the
same capture fires "Read sensitive file untrusted".  A second run checks
the keep count.  Needs root; skips with the reason when BPF is refused.
"""

import glob
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmrun import Fail, Skip, Suite, check, eq, mamori_bin, skip  # noqa: E402
import agentkit                                             # noqa: E402

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

RULES = r"""
- rule: Capture shadow read
  desc: a read of /etc/shadow by the test's cat
  condition: evt.type in (open, openat, openat2) and evt.is_open_read=true and fd.name=/etc/shadow and proc.name startswith mmtcat
  output: "shadow read (proc.name=%proc.name fd.name=%fd.name)"
  priority: WARNING
- rule: Capture hostname read
  desc: the twin must not match the shadow rule; this one proves the twin was captured
  condition: evt.type in (open, openat, openat2) and fd.name=/etc/hostname and proc.name startswith mmtcat
  output: "hostname read (proc.name=%proc.name)"
  priority: INFO
"""


class Agent(agentkit.Agent):
    def __init__(self, tmp, rules, cap, max_size, keep):
        super().__init__(tmp, os.path.basename(cap),
                         ["--rules", rules, "--capture", cap, "--capture-max-size",
                          str(max_size), "--capture-keep", str(keep)], duration=180)

    def alerted(self, rule):
        """The agent has processed (and so captured) the event of rule."""
        with open(self.outp) as f:
            return any('"rule":"%s"' % rule in l.replace(": ", ":") for l in f)

    def stop(self, grace=10):
        """SIGINT, then SIGKILL if a busy machine keeps it in its event loop:
        the capture must survive either (frames are flushed every second),
        and the test must not capture the whole machine for long."""
        super().stop(settle=0, grace=grace)
        return self.stderr


def busy(seconds, until):
    """Opens files in a loop (events for the agent) until until() or timeout."""
    end = time.time() + seconds
    while time.time() < end:
        for _ in range(200):
            with open("/etc/hostname") as f:
                f.read()
        if until():
            return True
        time.sleep(0.05)
    return until()


def members(cap):
    return sorted(p for p in glob.glob(cap + "*")
                  if p == cap or p[len(cap) + 1:].isdigit())


def replay(args):
    r = subprocess.run([mamori_bin(), "runtime", "replay"] + args + ["--format", "json"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=1200)
    alerts = [json.loads(l) for l in r.stdout.decode().splitlines() if l.strip()]
    return r.returncode, alerts, r.stderr.decode()


def main():
    s = Suite()
    names = ["capture-rotates", "capture-replay-fires", "capture-replay-glob-order",
             "capture-replay-upstream-rules", "capture-keep-count"]
    if os.geteuid() != 0:
        s.skip_all(names, "needs root (CI runs as root)")
        s.finish()
    tmp = tempfile.mkdtemp(prefix="mamori-capture-")
    try:
        rules = os.path.join(tmp, "rules.yaml")
        with open(rules, "w") as f:
            f.write(RULES)
        cap = os.path.join(tmp, "events.zst")
        cap_max = 16384
        catname = "mmtcat-%s" % secrets.token_hex(3)
        try:
            agent = Agent(tmp, rules, cap, cap_max, 1000)
        except (Skip, Fail) as e:
            s.not_run(names, e)
            s.finish()
        cat = os.path.join(tmp, catname)
        shutil.copy("/bin/cat", cat)
        for target in ("/etc/shadow", "/etc/hostname"):
            subprocess.run([cat, target], stdout=subprocess.DEVNULL, check=True)
        # the twin comes after the shadow read: once the agent has alerted on
        # it, both events are in the capture
        seen = busy(90, lambda: agent.alerted("Capture hostname read"))
        # then enough events for two rotations and more than a second, so that
        # the frame holding them is ended
        t_seen = time.time()
        rotated = seen and busy(60, lambda: os.path.exists(cap + ".2") and
                                time.time() - t_seen > 1.5)
        err = agent.stop()
        files = members(cap)
        print("  capture: %s" % ", ".join("%s=%d" % (os.path.basename(p), os.path.getsize(p))
                                         for p in files), flush=True)

        def rotates():
            check(seen, "the agent never processed the test's reads: %s" % err[-400:])
            check(rotated, "no rotation within 60 s: %r; agent: %s" % (files, err[-400:]))
            for p in files:
                with open(p, "rb") as f:
                    head = f.read(4)
                eq(head, ZSTD_MAGIC, "%s starts with the zstd magic" % p)
                sz = os.path.getsize(p)
                # the cap plus at most one frame of slack
                check(sz <= cap_max + 8192, "%s is %d bytes, cap %d" % (p, sz, cap_max))
            # rotated members are close to the cap (the set is dense)
            check(os.path.getsize(cap + ".1") >= cap_max // 2,
                  "member .1 only %d bytes" % os.path.getsize(cap + ".1"))

        def fires():
            rc, alerts, e = replay([cap, "--rules", rules])
            eq(rc, 0, "replay exit status (stderr %r)" % e[-400:])
            print("  replay: %d alerts; %s" % (len(alerts), e.strip()[-300:]), flush=True)
            sh = [a for a in alerts if a["rule"] == "Capture shadow read"]
            eq(len(sh), 1, "shadow alerts (the /etc/hostname twin must not fire it)")
            eq(sh[0]["output_fields"]["proc.name"], catname, "proc.name")
            eq(sh[0]["output_fields"]["fd.name"], "/etc/shadow", "fd.name")
            eq(sh[0]["priority"], "Warning", "priority")
            hn = [a for a in alerts if a["rule"] == "Capture hostname read"]
            eq(len(hn), 1, "the twin was captured too")

        def glob_order():
            # what a shell's `events.zst*` gives: lexical order
            rc, alerts, e = replay(members(cap) + ["--rules", rules])
            eq(rc, 0, "replay exit status (stderr %r)" % e[-400:])
            eq(len([a for a in alerts if a["rule"] == "Capture shadow read"]), 1,
               "shadow alerts over FILE*")

        def upstream():
            # MAMORI_SHARED is ../shared/testdata (tests/meson.build)
            shared = os.environ.get("MAMORI_SHARED") or os.path.join(
                os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared",
                "testdata")
            fr = os.path.join(shared, "falco", "falco_rules.yaml")
            if not os.path.exists(fr):
                skip("upstream rules absent: %s" % fr)
            rc, alerts, e = replay([cap, "--rules", fr, "--quiet"])
            eq(rc, 0, "replay exit status (stderr %r)" % e[-400:])
            hits = [a for a in alerts if a["rule"] == "Read sensitive file untrusted"
                    and a["output_fields"].get("proc.name") == catname]
            eq(len(hits), 1, "'Read sensitive file untrusted' for %s" % catname)
            eq(hits[0]["output_fields"].get("fd.name"), "/etc/shadow", "fd.name")

        s.case("capture-rotates", rotates)
        s.case("capture-replay-fires", fires)
        s.case("capture-replay-glob-order", glob_order)
        s.case("capture-replay-upstream-rules", upstream)

        def keep():
            cap2 = os.path.join(tmp, "keep.zst")
            a2 = Agent(tmp, rules, cap2, 8192, 2)
            ok = busy(60, lambda: a2_rotations(a2, cap2))
            a2.stop()
            check(ok, "the keep run did not rotate enough")
            eq([os.path.basename(p) for p in members(cap2)], ["keep.zst", "keep.zst.1"],
               "files kept with --capture-keep 2")

        s.case("capture-keep-count", keep)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    s.finish()


_seen = {}


def a2_rotations(agent, cap):
    """True once .1 has been replaced twice (so a .2 would exist without
    the keep count): watched through changes of .1's inode (inodes may be
    reused, so changes are counted, not distinct values)."""
    try:
        ino = os.stat(cap + ".1").st_ino
    except OSError:
        return False
    last, changes = _seen.get(cap, (ino, 0))
    if ino != last:
        changes += 1
    _seen[cap] = (ino, changes)
    return changes >= 2


if __name__ == "__main__":
    main()
