"""ctrkit - real container engines for the live runtime tests, each private
to the test that starts it (DEVELOPERS.md has the same recipe by hand):

- Podman: `podman --root/--runroot` in a temp dir, cgroupfs manager, file
  events, host network (no CNI set-up), runc with the ulimits this cgroup-v1
  hybrid needs (crun refuses here);
- dockerd: Debian's docker.io with its own --data-root, --exec-root,
  --pidfile and unix socket in a temp dir, --iptables=false --bridge=none;
  containers on the host network.

Images are built by the test from a root filesystem tar (busybox-static
linked as the usual tools) with `podman import` / `docker import`: no
registry.  Everything started is stopped and removed by close().
Stdlib only; raises Skip with the reason when an engine is missing.
"""
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
import time

from mmrun import Skip

BUSYBOX_TOOLS = ["sh", "cat", "ls", "sleep", "touch", "cp", "chmod", "echo", "id",
                 "mkdir", "rm", "true", "nc", "mount", "find", "head", "env"]


def rootfs_tar(path, extra=None, links=()):
    """A small root filesystem as a tar: busybox (static) as /bin/*, an
    /etc/passwd and /etc/group with a user only the container has
    (uid 4242 = mmtuser), /etc/shadow; extra: {path: (bytes, mode)}."""
    bb = shutil.which("busybox")
    if not bb:
        raise Skip("busybox (busybox-static) is not installed")
    files = {
        "etc/passwd": (b"root:x:0:0:root:/root:/bin/sh\n"
                       b"mmtuser:x:4242:4343:ctr user:/home/mmtuser:/bin/sh\n", 0o644),
        "etc/group": b"root:x:0:\nmmtgroup:x:4343:\n",
        "etc/shadow": (b"root:*:19000:0:99999:7:::\nmmtuser:*:19000:0:99999:7:::\n", 0o640),
        "etc/hostname": b"mmt\n",
    }
    files.update(extra or {})
    with tarfile.open(path, "w") as t:
        for d in ("bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/mmtuser", "run",
                  "var/log"):
            ti = tarfile.TarInfo(d)
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o1777 if d == "tmp" else 0o755
            t.addfile(ti)
        t.add(bb, "bin/busybox")
        for tool in list(BUSYBOX_TOOLS) + [x for x in links if x not in BUSYBOX_TOOLS]:
            ti = tarfile.TarInfo("bin/" + tool)
            ti.type = tarfile.SYMTYPE
            ti.linkname = "busybox"
            t.addfile(ti)
        for name, v in files.items():
            data, mode = v if isinstance(v, tuple) else (v, 0o644)
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = mode
            t.addfile(ti, io.BytesIO(data))
    return path


def unmount_below(top):
    """Lazily unmounts everything mounted at or below top (overlays, the
    engine's netns bind mounts), deepest first, so the folder can go."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp == top or mp.startswith(top.rstrip("/") + "/"):
                mounts.append(mp)
    for mp in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", mp], capture_output=True)


def _run(cmd, timeout=120, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[:4]), p.returncode,
                                                 (p.stderr or p.stdout)[-600:]))
    return p


class Podman:
    """podman with a private store; run() starts a detached container."""

    def __init__(self, tmp):
        if not shutil.which("podman") or not shutil.which("runc"):
            raise Skip("podman or runc is not installed (Debian packages podman, runc)")
        # short: podman refuses a --runroot longer than 50 characters
        self.dir = tempfile.mkdtemp(prefix="mmp-", dir="/tmp")
        self.base = ["podman", "--root", os.path.join(self.dir, "root"),
                     "--runroot", os.path.join(self.dir, "run"),
                     "--tmpdir", os.path.join(self.dir, "tmp"),
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file",
                     "--runtime", "runc"]
        self.names = []

    def cmd(self, *a, **kw):
        return _run(self.base + list(a), **kw)

    def import_image(self, tar, ref):
        self.cmd("import", tar, ref)
        return ref

    def run(self, name, image, argv, volumes=(), user=None, privileged=False):
        a = ["run", "-d", "--name", name, "--network", "host",
             "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
        if privileged:
            a.append("--privileged")
        for v in volumes:
            a += ["-v", v]
        if user:
            a += ["--user", user]
        p = self.cmd(*(a + [image] + list(argv)))
        self.names.append(name)
        return p.stdout.strip()

    def exec(self, name, argv, user=None, tty=False):
        a = ["exec"] + (["--user", user] if user else []) + (["-t"] if tty else []) + \
            [name] + list(argv)
        if tty:   # podman wants a terminal for -t: give it one
            import pty
            pid, fd = pty.fork()
            if pid == 0:
                os.execvp(self.base[0], self.base + a)
            try:
                while os.read(fd, 4096):
                    pass
            except OSError:
                pass
            os.waitpid(pid, 0)
            os.close(fd)
            return None
        return self.cmd(*a, check=False, timeout=60)

    def close(self):
        for n in self.names:
            self.cmd("rm", "-f", "-t", "0", n, check=False, timeout=60)
        self.cmd("rmi", "-a", "-f", check=False, timeout=60)
        # the store holds overlay mounts until podman is done with them
        unmount_below(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


class Dockerd:
    """A private dockerd (Debian docker.io) on a socket of its own."""

    def __init__(self, tmp):
        if not shutil.which("dockerd") or not shutil.which("docker"):
            raise Skip("dockerd is not installed (Debian package docker.io)")
        self.dir = tempfile.mkdtemp(prefix="mmt-dockerd-", dir="/tmp")
        self.sock = os.path.join(self.dir, "docker.sock")
        self.log = open(os.path.join(self.dir, "dockerd.log"), "w")
        self.p = subprocess.Popen(
            ["dockerd", "--iptables=false", "--bridge=none",
             "--data-root", os.path.join(self.dir, "data"),
             "--exec-root", os.path.join(self.dir, "exec"),
             "--pidfile", os.path.join(self.dir, "docker.pid"),
             "-H", "unix://" + self.sock],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.base = ["docker", "-H", "unix://" + self.sock]
        self.names = []
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.p.poll() is not None:
                break
            if os.path.exists(self.sock) and _run(self.base + ["info"], check=False,
                                                  timeout=20).returncode == 0:
                return
            time.sleep(0.5)
        self.close()
        raise Skip("dockerd did not start: %s" % open(os.path.join(self.dir, "dockerd.log"))
                   .read()[-400:])

    def cmd(self, *a, **kw):
        return _run(self.base + list(a), **kw)

    def import_image(self, tar, ref):
        self.cmd("import", tar, ref)
        return ref

    def run(self, name, image, argv, volumes=(), user=None):
        a = ["run", "-d", "--name", name, "--network", "host"]
        for v in volumes:
            a += ["-v", v]
        if user:
            a += ["--user", user]
        p = self.cmd(*(a + [image] + list(argv)))
        self.names.append(name)
        return p.stdout.strip()

    def exec(self, name, argv, user=None):
        a = ["exec"] + (["--user", user] if user else []) + [name] + list(argv)
        return self.cmd(*a, check=False, timeout=60)

    def close(self):
        if self.p.poll() is None:
            for n in self.names:
                self.cmd("rm", "-f", n, check=False, timeout=60)
            self.p.terminate()
            try:
                self.p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.log.close()
        unmount_below(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)
