#!/usr/bin/env python3
"""test_hostinv - `mamori host runtime`, `host containers`, `host commands`.

runtime (§3.4.1): this host's Debian runc 1.1.5+ds1-1+deb12u1 (installed by
scripts/install-deps.sh) is matched through the Debian feed: CVE-2024-21626,
fixed in that very version, is not reported, while an advisory still open
for bookworm is.  Stand-alone Go binaries in a temp root are built for the
test with `go install MODULE@VERSION` from a file:// module proxy, so their
build info is what a release binary carries: runc v1.1.11 (GO-2024-2491 /
CVE-2024-21626 from the Go vulnerability database in ../shared), runc
v1.0.0-rc6 (CVE-2019-5736, an OSV record written from GHSA-gxmr-w5mj-v8hh),
runc built from a source tree with -X main.version=1.1.11, and CRI-O v1.22.0
from files only (CRI-O is not packaged here).
"""

import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mmrun import Runner, Suite, check, eq, skip   # noqa: E402
import hostkit   # noqa: E402

SHARED = os.environ.get("MAMORI_SHARED_ROOT") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared")
OSV_GO = os.path.join(SHARED, "vulndata", "osv-go", "all.zip")

# Debian security tracker facts for runc in bookworm (tracker JSON shape).
TRACKER = {
    "runc": {
        "CVE-2024-21626": {
            "description": "runc process.cwd and leaked fds container breakout",
            "scope": "local",
            "releases": {"bookworm": {"status": "resolved", "fixed_version": "1.1.5+ds1-1+deb12u1",
                                      "urgency": "not yet assigned"}}},
        "CVE-2024-45310": {
            "description": "runc can be tricked into creating empty files/directories on host",
            "scope": "local",
            "releases": {"bookworm": {"status": "open", "urgency": "unimportant"}}},
    }
}

# OSV record written from the public GitHub advisory GHSA-gxmr-w5mj-v8hh.
GHSA_5736 = {
    "schema_version": "1.4.0",
    "id": "GHSA-gxmr-w5mj-v8hh",
    "aliases": ["CVE-2019-5736"],
    "modified": "2023-01-01T00:00:00Z",
    "published": "2019-02-11T00:00:00Z",
    "summary": "runc container breakout: a container can overwrite the host runc binary",
    "affected": [{"package": {"ecosystem": "Go", "name": "github.com/opencontainers/runc"},
                  "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"},
                                                           {"fixed": "1.0.0-rc7"}]}]}],
    "database_specific": {"severity": "HIGH"},
    "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2019-5736"}],
}

MAIN_GO = ('package main\n\nimport "fmt"\n\nvar version = ""\n\n'
           'func main() { fmt.Println("%s version", version) }\n')


def module_proxy(base, mods):
    """A file:// GOPROXY holding (module path, version, binary name) modules."""
    for path, ver, _ in mods:
        d = os.path.join(base, path, "@v")
        os.makedirs(d, exist_ok=True)
        gomod = "module %s\n\ngo 1.19\n" % path
        with open(os.path.join(d, "list"), "a") as f:
            f.write(ver + "\n")
        with open(os.path.join(d, ver + ".info"), "w") as f:
            json.dump({"Version": ver, "Time": "2024-01-01T00:00:00Z"}, f)
        with open(os.path.join(d, ver + ".mod"), "w") as f:
            f.write(gomod)
        with zipfile.ZipFile(os.path.join(d, ver + ".zip"), "w") as z:
            z.writestr("%s@%s/go.mod" % (path, ver), gomod)
            z.writestr("%s@%s/main.go" % (path, ver), MAIN_GO % path)


def go_env(tmp, proxy):
    e = dict(os.environ)
    e.update({"GOPROXY": "file://" + proxy, "GOSUMDB": "off", "GOFLAGS": "-mod=mod",
              "GOPATH": os.path.join(tmp, "gopath"), "GOCACHE": os.path.join(tmp, "gocache"),
              "CGO_ENABLED": "0", "GOTOOLCHAIN": "local", "GOWORK": "off", "GO111MODULE": "on",
              "GONOSUMDB": "*", "GONOSUMCHECK": "1", "GOINSECURE": "*"})
    return e


def main():
    s = Suite()
    r = Runner()
    tmp = tempfile.mkdtemp(prefix="mm-hostinv-")
    db = os.path.join(tmp, "vuln.db")
    try:
        def make_db(with_go):
            tr = os.path.join(tmp, "debian-tracker.json")
            with open(tr, "w") as f:
                json.dump(TRACKER, f)
            gh = os.path.join(tmp, "GHSA-gxmr-w5mj-v8hh.json")
            with open(gh, "w") as f:
                json.dump(GHSA_5736, f)
            args = ["db", "import", "--db-path", db, tr, gh] + ([OSV_GO] if with_go else [])
            res = r.run(args, timeout=900)
            eq(res.rc, 0, "db import (%s)" % res.describe())

        def runtime_debian_runc():
            if not os.path.exists("/var/lib/dpkg/info/runc.list"):
                skip("Debian's runc is not installed")
            ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "runc"], capture_output=True,
                                 text=True).stdout
            if ver != "1.1.5+ds1-1+deb12u1":
                skip("runc %s installed, the case is about 1.1.5+ds1-1+deb12u1" % ver)
            make_db(False)
            res = r.run(["host", "runtime", "--db-path", db, "--format", "json"])
            eq(res.rc, 0, "exit (%s)" % res.describe())
            ids = {(f["id"], f["location"].get("package")) for f in res.json["findings"]}
            check(("CVE-2024-45310", "runc@1.1.5+ds1-1+deb12u1") in ids, "open advisory found: %r" % ids)
            check(not [i for i in ids if i[0] == "CVE-2024-21626"], "patched CVE-2024-21626 not flagged")
            f = [x for x in res.json["findings"] if x["id"] == "CVE-2024-45310"][0]
            eq(f["section"], "3.4.1", "section")
            check(f["location"].get("host"), "host in the location")
            names = [p["name"] for p in res.json["packages"]]
            check("runc" in names, "runc identified: %r" % names)
            # the table names how each component was identified
            t = r.run(["host", "runtime", "--db-path", db])
            check("dpkg runc 1.1.5+ds1-1+deb12u1" in t.out, t.out[:1500])

        def runtime_standalone():
            if not shutil.which("go"):
                skip("go (golang-go) is not installed")
            if not os.path.exists(OSV_GO):
                skip("../shared/vulndata/osv-go/all.zip is absent")
            make_db(True)
            proxy = os.path.join(tmp, "proxy")
            mods = [("github.com/opencontainers/runc", "v1.1.11", "runc"),
                    ("github.com/opencontainers/runc", "v1.0.0-rc6", "runc"),
                    ("github.com/cri-o/cri-o", "v1.22.0", "cri-o")]
            module_proxy(proxy, mods)
            env = go_env(tmp, proxy)
            roots = {}
            for path, ver, name in mods:
                root = os.path.join(tmp, "root-%s-%s" % (name, ver))
                binp = os.path.join(tmp, "bin-%s-%s" % (name, ver))
                e = dict(env, GOBIN=binp)
                p = subprocess.run(["go", "install", "-trimpath", "%s@%s" % (path, ver)], env=e,
                                   capture_output=True, text=True, timeout=600)
                eq(p.returncode, 0, "go install %s@%s: %s" % (path, ver, p.stderr[-1500:]))
                dest = "usr/local/sbin/runc" if name == "runc" else "usr/local/bin/crio"
                os.makedirs(os.path.join(root, os.path.dirname(dest)), exist_ok=True)
                shutil.copy(os.path.join(binp, os.path.basename(path)), os.path.join(root, dest))
                roots[(name, ver)] = root
            # built from a source tree: (devel), with the version stamped in
            src = os.path.join(tmp, "runc-src")
            os.makedirs(src, exist_ok=True)
            with open(os.path.join(src, "go.mod"), "w") as f:
                f.write("module github.com/opencontainers/runc\n\ngo 1.19\n")
            with open(os.path.join(src, "main.go"), "w") as f:
                f.write(MAIN_GO % "runc")
            root = os.path.join(tmp, "root-runc-src")
            os.makedirs(os.path.join(root, "usr/local/sbin"), exist_ok=True)
            # (without -trimpath: with it Go leaves -ldflags out of the build info)
            p = subprocess.run(["go", "build", "-buildvcs=false", "-ldflags",
                                "-X main.version=1.1.11", "-o", os.path.join(root, "usr/local/sbin/runc"), "."],
                               cwd=src, env=env, capture_output=True, text=True, timeout=600)
            eq(p.returncode, 0, "go build: " + p.stderr[-1500:])
            roots[("runc", "src")] = root

            def run_root(root):
                res = r.run(["host", "runtime", "--root", root, "--db-path", db, "--format", "json",
                             "--kernel", "6.1.0-test"])
                eq(res.rc, 0, "exit (%s)" % res.describe())
                return res.json

            doc = run_root(roots[("runc", "v1.1.11")])
            ids = {f["id"] for f in doc["findings"]}
            check("GO-2024-2491" in ids, "CVE-2024-21626 (GO-2024-2491) for runc v1.1.11: %r" % sorted(ids))
            check("GHSA-gxmr-w5mj-v8hh" not in ids, "CVE-2019-5736 is fixed in v1.1.11")
            f = [x for x in doc["findings"] if x["id"] == "GO-2024-2491"][0]
            eq(f["section"], "3.4.1", "section")
            check("CVE-2024-21626" in json.dumps(f["references"]), "alias in the references")
            eq(f["location"]["path"], "/usr/local/sbin/runc", "path of the binary")
            doc = run_root(roots[("runc", "v1.0.0-rc6")])
            ids = {f["id"] for f in doc["findings"]}
            check("GHSA-gxmr-w5mj-v8hh" in ids, "CVE-2019-5736 for runc 1.0.0-rc6: %r" % sorted(ids))
            doc = run_root(roots[("runc", "src")])
            ids = {f["id"] for f in doc["findings"]}
            check("GO-2024-2491" in ids, "-ldflags version 1.1.11 matched: %r" % sorted(ids))
            # built from a source tree with -trimpath: only `--version` knows
            bare = os.path.join(tmp, "runc-bare")
            p = subprocess.run(["go", "build", "-trimpath", "-buildvcs=false", "-ldflags",
                                "-X main.version=1.0.0-rc6", "-o", bare, "."],
                               cwd=src, env=env, capture_output=True, text=True, timeout=600)
            eq(p.returncode, 0, "go build: " + p.stderr[-1500:])
            res = r.run(["host", "runtime", "--db-path", db, "--format", "json", "--binary", "runc=" + bare])
            mine = [f for f in res.json["findings"] if f["location"].get("path") == bare]
            check(not [f for f in mine if f["id"] == "GHSA-gxmr-w5mj-v8hh"], "nothing runs by default")
            check("built from a source tree without a version" in res.err, res.err[-600:])
            res = r.run(["host", "runtime", "--db-path", db, "--format", "json", "--binary", "runc=" + bare,
                         "--run-version"])
            mine = {f["id"] for f in res.json["findings"] if f["location"].get("path") == bare}
            check("GHSA-gxmr-w5mj-v8hh" in mine, "--run-version: 1.0.0-rc6: %r" % sorted(mine))
            doc = run_root(roots[("cri-o", "v1.22.0")])
            ids = {f["id"] for f in doc["findings"]}
            check("GO-2022-0480" in ids, "CRI-O 1.22.0 from files (CVE-2022-1708): %r" % sorted(ids))
            t = r.run(["host", "runtime", "--root", roots[("cri-o", "v1.22.0")], "--db-path", db,
                       "--kernel", "6.1.0-test"])
            check("cri-o" in t.out and "github.com/cri-o/cri-o v1.22.0" in t.out, t.out[:1200])
            check("no package owns /boot/vmlinuz-6.1.0-test" in t.err, "kernel note: " + t.err[-800:])

        def containers_engines():
            tar = hostkit.busybox_rootfs_tar(os.path.join(tmp, "bb.tar"))
            ww = os.path.join(tmp, "world-writable")
            os.makedirs(ww, exist_ok=True)
            os.chmod(ww, 0o777)
            p = hostkit.Podman(tmp, "pmc")
            d = None
            try:
                p.podman("import", tar, "mmtest:1")
                p.run("pc1", "--network", "none", "--cap-drop", "ALL", "--read-only", "--user", "1000",
                      "-v", "mmvol:/data", "-v", ww + ":/shared", "localhost/mmtest:1", "/bin/sleep", "100000")
                p.run("pc2", "--network", "none", "--cap-add", "SYS_ADMIN", "-v", "/etc:/hostetc",
                      "localhost/mmtest:1", "/bin/sleep", "100000")
                p.podman("exec", "pc1", "busybox", "dd", "if=/dev/zero", "of=/data/blob", "bs=1024", "count=2048")
                p.podman("exec", "pc2", "busybox", "dd", "if=/dev/zero", "of=/tmp/x", "bs=1024", "count=1024")
                d = hostkit.Dockerd(tmp, "dc")
                d.import_image(tar, "mmtest:1")
                d.docker("run", "-d", "--name", "dc1", "--network", "none", "-v", "/etc:/hostetc:ro",
                         "--mount", "type=bind,source=%s,target=/w,bind-propagation=private" % ww,
                         "mmtest:1", "/bin/sleep", "100000")
                d.docker("exec", "dc1", "busybox", "dd", "if=/dev/zero", "of=/tmp/y", "bs=1024", "count=1024")
                res = r.run(["host", "containers", "--docker-host", d.host, "--podman-root", p.root,
                             "--podman-runroot", p.runroot, "--format", "json", "--root", tmp])
                eq(res.rc, 0, "exit (%s)" % res.describe())
                cs = {c["name"]: c for c in res.json["containers"]}
                for n in ("pc1", "pc2", "dc1"):
                    check(n in cs, "%s listed: %r" % (n, sorted(cs)))
                eq(cs["pc1"]["engine"], "podman", "engine")
                eq(cs["dc1"]["engine"], "docker", "engine")
                eq(cs["pc1"]["capabilities"], [], "cap-drop ALL")
                check("CAP_SYS_ADMIN" in cs["pc2"]["capabilities"], "SYS_ADMIN added")
                eq(cs["pc1"]["readonly_root"], True, "read-only root")
                eq(cs["pc1"]["user"], "1000", "user")
                m = {x["destination"]: x for x in cs["pc1"]["mounts"]}
                eq(m["/data"]["type"], "volume", "volume mount")
                check(m["/data"]["bytes"] >= 2048 * 1024, "volume disk use %r" % m["/data"]["bytes"])
                check(cs["pc1"]["volume_bytes"] >= 2048 * 1024, "volume total")
                check(cs["pc2"]["writable_layer_bytes"] >= 1024 * 1024, "podman writable layer %r"
                      % cs["pc2"]["writable_layer_bytes"])
                check(cs["dc1"]["writable_layer_bytes"] >= 1024 * 1024, "docker writable layer %r"
                      % cs["dc1"]["writable_layer_bytes"])
                dm = {x["destination"]: x for x in cs["dc1"]["mounts"]}
                eq(dm["/hostetc"]["mode"], "ro", "ro bind")
                eq(dm["/w"]["propagation"], "private", "propagation")
                f = {(x["id"], x["container"]) for x in res.json["findings"]}
                check(("MM-HOST-MOUNT-001", "pc2") in f, "/etc rw into pc2: %r" % f)
                check(("MM-HOST-MOUNT-001", "dc1") not in f, "/etc ro is not MOUNT-001")
                check(("MM-HOST-MOUNT-002", "pc1") in f and ("MM-HOST-MOUNT-002", "dc1") in f,
                      "world-writable folder: %r" % f)
                check(all(x["section"] == "3.5.5" for x in res.json["findings"]), "section")
                t = r.run(["host", "containers", "--docker-host", d.host, "--podman-root", p.root,
                           "--podman-runroot", p.runroot, "--root", tmp])
                check("pc2" in t.out and "/etc -> /hostetc (rw" in t.out, t.out[:2000])
            finally:
                if d:
                    d.stop()
                p.stop()

        def containers_files():
            root = os.path.join(tmp, "croot")
            cid = "c0ffee" * 10 + "abcd"
            bundle = os.path.join(root, "run/containerd/io.containerd.runtime.v2.task/k8s.io", cid)
            os.makedirs(bundle, exist_ok=True)
            spec = {"ociVersion": "1.0.2", "process": {"user": {"uid": 0, "gid": 0},
                    "capabilities": {"effective": ["CAP_CHOWN", "CAP_NET_RAW"]}},
                    "root": {"path": "rootfs", "readonly": False},
                    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"},
                               {"destination": "/var/run/docker.sock", "type": "bind",
                                "source": "/var/run/docker.sock", "options": ["rbind", "rprivate", "rw"]}],
                    "annotations": {"io.kubernetes.cri.container-name": "app",
                                    "io.kubernetes.cri.image-name": "registry.example/app:1.2"},
                    "linux": {"namespaces": [{"type": "pid"}, {"type": "ipc"}, {"type": "uts"},
                                             {"type": "mount"}]}}
            with open(os.path.join(bundle, "config.json"), "w") as f:
                json.dump(spec, f)
            crio_id = "feed" * 16
            ud = os.path.join(root, "var/lib/containers/storage/overlay-containers", crio_id, "userdata")
            os.makedirs(ud, exist_ok=True)
            spec2 = dict(spec, annotations={"io.kubernetes.cri-o.ContainerName": "k8s_web_pod",
                                            "io.kubernetes.cri-o.ImageName": "quay.io/x/web:2"},
                         mounts=[{"destination": "/data", "type": "bind", "source": "/srv/data",
                                  "options": ["rbind", "ro"]}])
            spec2["linux"] = {"namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                                             {"type": "uts"}, {"type": "mount"}]}
            with open(os.path.join(ud, "config.json"), "w") as f:
                json.dump(spec2, f)
            res = r.run(["host", "containers", "--root", root, "--no-docker", "--no-podman", "--format", "json"])
            eq(res.rc, 0, "exit (%s)" % res.describe())
            cs = {c["engine"]: c for c in res.json["containers"]}
            eq(sorted(cs), ["containerd", "cri-o"], "engines from files")
            eq(cs["containerd"]["image"], "registry.example/app:1.2", "containerd image")
            eq(cs["containerd"]["host_namespaces"], "net", "no network namespace: the host's")
            eq(cs["cri-o"]["name"], "k8s_web_pod", "CRI-O name")
            eq(cs["cri-o"]["state"], "created", "no conmon pidfile")
            eq(cs["cri-o"]["mounts"][0]["mode"], "ro", "ro bind")
            f = [(x["id"], x["path"]) for x in res.json["findings"]]
            check(("MM-HOST-MOUNT-001", "/var/run/docker.sock") in f, "docker.sock rw: %r" % f)

        def commands_store():
            evs = os.path.join(tmp, "events.jsonl")
            t0 = 1700000000 * 10**9
            pts0 = (136 << 8) | 0
            lines = [
                # alice logs in on pts/0 and runs ls
                {"evt.type": "execve", "evt.time": t0, "proc.pid": 500, "proc.ppid": 1, "proc.name": "bash",
                 "proc.exepath": "/usr/bin/bash", "proc.argv": ["-bash"], "proc.tty": pts0,
                 "user.uid": 1000, "user.name": "alice", "user.loginname": "alice"},
                {"evt.type": "execve", "evt.time": t0 + 10**9, "proc.pid": 501, "proc.ppid": 500,
                 "proc.name": "ls", "proc.exepath": "/usr/bin/ls", "proc.argv": ["ls", "-la", "/etc"],
                 "proc.tty": pts0, "user.uid": 1000, "user.name": "alice"},
                # a cron job: no terminal, parent cron -> not interactive
                {"evt.type": "execve", "evt.time": t0 + 2 * 10**9, "proc.pid": 600, "proc.ppid": 1,
                 "proc.name": "logrotate", "proc.argv": ["logrotate", "/etc/logrotate.conf"],
                 "user.uid": 0, "user.name": "root"},
                # docker exec into web (runc parent, no tty), and the container's own init
                {"evt.type": "execve", "evt.time": t0 + 3 * 10**9, "proc.pid": 700, "proc.ppid": 1,
                 "proc.name": "runc", "proc.argv": ["runc", "exec"], "user.uid": 0, "user.name": "root"},
                {"evt.type": "execve", "evt.time": t0 + 4 * 10**9, "proc.pid": 701, "proc.ppid": 700,
                 "proc.vpid": 12, "proc.name": "cat", "proc.argv": ["cat", "/etc/shadow"], "user.uid": 0,
                 "user.name": "root", "container.id": "4f2a9c1d8e7b", "container.name": "web",
                 "container.image": "nginx:1.25", "container.type": "docker"},
                {"evt.type": "execve", "evt.time": t0 + 5 * 10**9, "proc.pid": 800, "proc.ppid": 700,
                 "proc.vpid": 1, "proc.name": "nginx", "proc.argv": ["nginx"], "user.uid": 0,
                 "user.name": "root", "container.id": "4f2a9c1d8e7b", "container.name": "web"},
                # a failed exec is no command
                {"evt.type": "execve", "evt.time": t0 + 6 * 10**9, "evt.rawres": -2, "proc.pid": 502,
                 "proc.ppid": 500, "proc.name": "bash", "proc.argv": ["nosuch"], "proc.tty": pts0,
                 "user.uid": 1000, "user.name": "alice"},
            ]
            with open(evs, "w") as f:
                for l in lines:
                    f.write(json.dumps(l) + "\n")
            store = os.path.join(tmp, "exec-store.zst")
            a = r.run(["agent", "--source", "replay:" + evs, "--exec-store", store, "--quiet"])
            eq(a.rc, 0, "agent (%s)" % a.describe())
            with open(store, "rb") as f:
                eq(f.read(4), b"\x28\xb5\x2f\xfd", "the store is zstd")
            res = r.run(["host", "commands", "--store", store, "--format", "json"])
            eq(res.rc, 0, "exit (%s)" % res.describe())
            got = [(c["user"], c["cmdline"], c["why"], c["tty"], (c["container"] or {}).get("name"))
                   for c in res.json["commands"]]
            eq(got, [("alice", "-bash", "tty", "pts/0", None),
                     ("alice", "ls -la /etc", "tty", "pts/0", None),
                     ("root", "cat /etc/shadow", "exec session", None, "web")], "commands")
            eq(res.json["per_user"], {"alice": 2, "root": 1}, "per user")
            eq(res.json["per_container"], {"host": 2, "web": 1}, "per container")
            res = r.run(["host", "commands", "--store", store, "--format", "json", "--container", "web"])
            eq([c["cmdline"] for c in res.json["commands"]], ["cat /etc/shadow"], "--container")
            res = r.run(["host", "commands", "--store", store, "--format", "json", "--user", "alice",
                         "--since", "@%d" % (1700000000 + 1)])
            eq([c["cmdline"] for c in res.json["commands"]], ["ls -la /etc"], "--user --since")
            r.expect_error(["host", "commands", "--store", os.path.join(tmp, "nope")], must_name=["nope"])

        s.case("containers-docker-podman", containers_engines)
        s.case("containers-containerd-crio-files", containers_files)
        s.case("commands-exec-store", commands_store)
        s.case("runtime-debian-runc-backport", runtime_debian_runc)
        s.case("runtime-standalone-go-binaries", runtime_standalone)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        r.close()
    s.finish()


if __name__ == "__main__":
    main()
