#!/usr/bin/env python3
"""test_containers - the agent on real containers: a private Podman (runc)
and a private dockerd (Debian docker.io), each running an image the test
builds from a root filesystem tar (ctrkit.py; the recipe is in
DEVELOPERS.md).  While `mamori agent` (eBPF) watches, each container runs,
execs commands as root and as a user only the container's /etc/passwd
knows, and reads /etc/shadow; the host reads /etc/shadow too.  Asserted:

- container.id, container.name, container.image.repository and
  container.mounts (the test's volume, read-only) for both engines;
- user.name / group.name resolve from the container's own files
  (mmtuser/mmtgroup, unknown on the host);
- Falco's stable rule "Read sensitive file untrusted" fires for the same
  action inside each container and on the host, once each.

Needs root, podman + runc, docker.io and busybox-static; skips per engine
with the reason otherwise.  Everything started is removed at the end.
"""
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmrun import Fail, Skip, Suite, check, eq  # noqa: E402
from agentkit import Agent                            # noqa: E402
import ctrkit                                          # noqa: E402

SHARED = os.environ.get("MAMORI_SHARED",
                        os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared",
                                     "testdata"))
STABLE = os.path.join(SHARED, "falco", "falco_rules.yaml")

RULES = r"""
- rule: Test container exec
  desc: a command run in a test container
  condition: evt.type = execve and container.id != host and proc.args contains mmt-probe
  output: "ctr exec (container.id=%container.id container.name=%container.name container.image.repository=%container.image.repository container.mounts=%container.mounts container.type=%container.type user.name=%user.name group.name=%group.name user.uid=%user.uid proc.exepath=%proc.exepath)"
  priority: NOTICE
"""

CASES = []
for eng in ("podman", "docker"):
    CASES += ["%s-container-id" % eng, "%s-container-name" % eng, "%s-image-repository" % eng,
              "%s-container-mounts" % eng, "%s-container-user" % eng,
              "%s-same-rule-as-host" % eng]
CASES += ["host-shadow-read", "agent-clean-exit"]


def fields(a):
    return a.get("output_fields", {})


def main():
    s = Suite()
    if os.geteuid() != 0:
        s.skip_all(CASES, "needs root (CI runs as root)")
        s.finish()
        return
    tmp = tempfile.mkdtemp(prefix="mamori-ctr-")
    tag = secrets.token_hex(3)
    vol = os.path.join(tmp, "vol")
    os.makedirs(vol)
    engines = {}
    notes = {}
    ag = None
    try:
        tar = None
        try:
            tar = ctrkit.rootfs_tar(os.path.join(tmp, "rootfs.tar"))
        except Skip as e:
            s.skip_all(CASES, str(e))
            s.finish()
            return
        for name, cls in (("podman", ctrkit.Podman), ("docker", ctrkit.Dockerd)):
            try:
                e = cls(tmp)
                engines[name] = e
                e.import_image(tar, "localhost/mmt-probe:%s" % tag)
            except (Skip, RuntimeError) as x:
                notes[name + "_skip"] = str(x)
                if name in engines:
                    engines.pop(name).close()
        rf = os.path.join(tmp, "rules.yaml")
        with open(rf, "w") as f:
            f.write(RULES)
        # the stable rule unchanged, its output extended to name the container
        of = os.path.join(tmp, "output.yaml")
        with open(of, "w") as f:
            f.write("- rule: Read sensitive file untrusted\n"
                    "  output: \" mmt container.id=%container.id\"\n"
                    "  override:\n    output: append\n")
        args = (["--rules", STABLE, "--rules", of] if os.path.exists(STABLE) else []) + \
            ["--rules", rf]
        try:
            ag = Agent(tmp, "ctr", args + ["--source", "bpf"], duration=300)
        except (Skip, Fail) as x:
            s.not_run(CASES, x)
            s.finish()
            return
        for name, e in engines.items():
            cname = "mmt-%s-%s" % (name, tag)
            try:
                cid = e.run(cname, "localhost/mmt-probe:%s" % tag, ["sh", "-c", "sleep 60", "mmt-probe"],
                            volumes=["%s:/data:ro" % vol])
                notes[name] = (cid, cname)
                time.sleep(1.0)
                e.exec(cname, ["cat", "/etc/shadow"])
                e.exec(cname, ["id", "mmt-probe"], user="4242")
            except RuntimeError as x:
                notes[name + "_skip"] = str(x)
        # the same action on the host: an untrusted program reads /etc/shadow
        cat = os.path.join(tmp, "cat")
        shutil.copy("/bin/cat", cat)
        subprocess.run([cat, "/etc/shadow"], stdout=subprocess.DEVNULL)
        ag.stop(settle=2.0)
        if os.environ.get("MMT_DEBUG"):
            for a in ag.alerts:
                print(a["rule"], fields(a))

        def ctr_alerts(name):
            if name + "_skip" in notes:
                raise Skip(notes[name + "_skip"])
            cid, cname = notes[name]
            al = [a for a in ag.by_rule("Test container exec")
                  if fields(a).get("container.id") == cid[:12]]
            check(al, "no exec alert from the %s container %s: %r" % (name, cid[:12],
                                                                      ag.alerts[:3]))
            return cid, cname, al

        def per_engine(name):
            def cid_case():
                cid, _, al = ctr_alerts(name)
                eq(fields(al[-1])["container.id"], cid[:12], "container.id")

            def name_case():
                _, cname, al = ctr_alerts(name)
                eq(fields(al[-1])["container.name"], cname, "container.name")

            def repo_case():
                _, _, al = ctr_alerts(name)
                eq(fields(al[-1])["container.image.repository"], "localhost/mmt-probe",
                   "container.image.repository")

            def mounts_case():
                _, _, al = ctr_alerts(name)
                m = fields(al[-1])["container.mounts"] or ""
                check("%s:/data:ro:false" % vol in m, "the test volume in container.mounts: %r" % m)

            def user_case():
                _, _, al = ctr_alerts(name)
                u = [a for a in al if str(fields(a).get("user.uid")) == "4242"]
                check(u, "no alert for uid 4242")
                eq(fields(u[0])["user.name"], "mmtuser", "user.name (the container's passwd)")
                eq(fields(u[0])["group.name"], "mmtgroup", "group.name (the container's group)")

            def same_rule():
                if not os.path.exists(STABLE):
                    raise Skip("%s is absent (../shared)" % STABLE)
                cid, _, _ = ctr_alerts(name)
                al = [a for a in ag.by_rule("Read sensitive file untrusted")
                      if fields(a).get("fd.name") == "/etc/shadow"
                      and fields(a).get("container.id") == cid[:12]]
                eq(len(al), 1, "Read sensitive file untrusted inside the %s container" % name)
            return [cid_case, name_case, repo_case, mounts_case, user_case, same_rule]

        for name in ("podman", "docker"):
            if name not in engines and name + "_skip" not in notes:
                notes[name + "_skip"] = "engine not started"
            for case, fn in zip(["container-id", "container-name", "image-repository",
                                 "container-mounts", "container-user", "same-rule-as-host"],
                                per_engine(name)):
                s.case("%s-%s" % (name, case), fn)

        def host():
            if not os.path.exists(STABLE):
                raise Skip("%s is absent (../shared)" % STABLE)
            al = [a for a in ag.by_rule("Read sensitive file untrusted")
                  if fields(a).get("fd.name") == "/etc/shadow"
                  and fields(a).get("container.id") == "host"
                  and fields(a).get("proc.exepath") == os.path.join(tmp, "cat")]
            eq(len(al), 1, "Read sensitive file untrusted on the host")

        def clean():
            eq(ag.rc, 0, "agent exit status: %s" % ag.stderr[-400:])
        s.case("host-shadow-read", host)
        s.case("agent-clean-exit", clean)
    finally:
        if ag and ag.p.poll() is None:
            ag.kill()
        for e in engines.values():
            e.close()
        shutil.rmtree(tmp, ignore_errors=True)
    s.finish()


if __name__ == "__main__":
    main()
