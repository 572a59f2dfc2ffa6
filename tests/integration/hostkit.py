"""hostkit - real container engines for the host tests, private to one test.

Dockerd: Debian's docker.io daemon started as the house rules say
(`dockerd --iptables=false --bridge=none`) with its own --data-root,
--exec-root, --pidfile and -H unix://<tmp>/docker.sock, so that tests of
several engineers never share a daemon.  Podman: every command with its own
--root/--runroot and `--runtime runc --ulimit nofile=1024:1024 --ulimit
nproc=1024:1024` (crun refuses on this cgroup-v1 hybrid).  The image for
both is a busybox root file system tar brought in with `import` (there is
no registry to pull from).
"""

import json
import os
import shutil
import signal
import subprocess
import tarfile
import time
import urllib.parse

from mmrun import skip


def need(*tools):
    for t in tools:
        if not shutil.which(t):
            skip("%s is not installed" % t)
    if os.geteuid() != 0:
        skip("needs root")


def busybox_rootfs_tar(path):
    """A tiny image: static busybox and a few applet links, plus
    /usr/sbin/sshd, a script whose process is named sshd while it sleeps."""
    bb = shutil.which("busybox")
    if not bb:
        skip("busybox (busybox-static) is not installed")
    with tarfile.open(path, "w") as t:
        def add_dir(name):
            ti = tarfile.TarInfo(name)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
            t.addfile(ti)
        for d in ("bin", "etc", "tmp", "usr", "usr/sbin"):
            add_dir(d)
        t.add(bb, "bin/busybox")
        for app in ("sh", "sleep", "cat", "id", "ls", "true"):
            ti = tarfile.TarInfo("bin/" + app)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "busybox"
            t.addfile(ti)
        for name, text in (("usr/sbin/sshd", "#!/bin/sh\nsleep 100000\n"), ("etc/passwd", "root:x:0:0:root:/:/bin/sh\napp:x:1000:1000::/:/bin/sh\n"),
                           ("etc/group", "root:x:0:\napp:x:1000:\n")):
            data = text.encode()
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o755 if name.startswith("usr/") else 0o644
            import io
            t.addfile(ti, io.BytesIO(data))
    return path


class Dockerd:
    def __init__(self, base, name, daemon_json=None, args=(), root=None):
        need("dockerd", "docker")
        self.dir = os.path.join(base, "%s-%d" % (name, os.getpid()))
        os.makedirs(self.dir, exist_ok=True)
        self.sock = os.path.join(self.dir, "docker.sock")
        self.host = "unix://" + self.sock
        self.root = root
        cmd = ["dockerd", "--iptables=false", "--bridge=none",
               "--data-root", os.path.join(self.dir, "data"),
               "--exec-root", os.path.join(self.dir, "exec"),
               "--pidfile", os.path.join(self.dir, "docker.pid"),
               "-H", self.host]
        if daemon_json is not None:
            cfg = os.path.join(root or self.dir, "etc/docker/daemon.json")
            os.makedirs(os.path.dirname(cfg), exist_ok=True)
            with open(cfg, "w") as f:
                json.dump(daemon_json, f, indent=2)
            os.chmod(cfg, 0o644)
            cmd += ["--config-file", cfg]
        cmd += list(args)
        self.log = open(os.path.join(self.dir, "dockerd.log"), "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 90
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.flush()
                with open(self.log.name) as f:
                    tail = f.read()[-800:]
                skip("dockerd did not start: %s" % tail)
            if os.path.exists(self.sock):
                r = self.docker("version", check=False)
                if r.returncode == 0:
                    return
            time.sleep(0.3)
        self.stop()
        skip("dockerd did not answer within 90 s")

    def docker(self, *args, check=True, timeout=180):
        r = subprocess.run(["docker", "-H", self.host] + list(args), capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("docker %s: %s" % (" ".join(args), r.stderr.strip()))
        return r

    def import_image(self, tar, ref):
        self.docker("import", tar, ref)

    def stop(self):
        if self.proc.poll() is None:
            ids = self.docker("ps", "-aq", check=False).stdout.split()
            if ids:
                self.docker("rm", "-f", *ids, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        self.log.close()
        # what the daemon mounted under its data root is gone with it; make sure
        subprocess.run(["sh", "-c", "grep -o ' %s[^ ]*' /proc/self/mounts | sort -r | "
                        "xargs -r -n1 umount -l" % self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


class Podman:
    RUN = ["--runtime", "runc"]
    LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]

    def __init__(self, base, name):
        need("podman", "runc")
        self.dir = os.path.join(base, "%s-%d" % (name, os.getpid()))
        self.root = os.path.join(self.dir, "root")
        self.runroot = os.path.join(self.dir, "run")
        os.makedirs(self.root, exist_ok=True)
        os.makedirs(self.runroot, exist_ok=True)

    def base(self):
        return ["podman", "--root", self.root, "--runroot", self.runroot,
                "--cgroup-manager", "cgroupfs", "--events-backend", "file"] + self.RUN

    def podman(self, *args, check=True, timeout=180):
        r = subprocess.run(self.base() + list(args), capture_output=True, text=True,
                           timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("podman %s: %s" % (" ".join(args), r.stderr.strip()))
        return r

    def run(self, name, *opts_and_cmd):
        return self.podman("run", "-d", "--name", name, *self.LIMITS, *opts_and_cmd)

    def stop(self):
        self.podman("rm", "-af", "-t", "0", check=False)
        self.podman("rmi", "-af", check=False)
        subprocess.run(["sh", "-c", "grep -o ' %s[^ ]*' /proc/self/mounts | sort -r | "
                        "xargs -r -n1 umount -l" % self.dir], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def by_check(doc, cid, container=None):
    """Results of one check id (of one container) in a checks-json document."""
    return [c for c in doc["checks"] if c["id"] == cid and
            (container is None or c["container"] == container)]


def status(doc, cid, container=None):
    r = by_check(doc, cid, container)
    if len(r) != 1:
        raise AssertionError("%s%s: %d results" % (cid, " of " + container if container else "", len(r)))
    return r[0]["status"]
