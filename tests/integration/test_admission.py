#!/usr/bin/env python3
"""test_admission - deploy-time enforcement served for real (`mamori admission serve`).

1. The webhook over TLS with the self-signed pair it writes (verified with
   its certificate as the CA bundle, as the API server would): a clean pod
   allowed, a privileged pod denied with a 403 Status naming the check,
   v1beta1 answered in v1beta1, a Deployment's pod template judged, warn
   mode (allowed with `warnings`), an exempt namespace; malformed reviews
   (400), a wrong content type (415), an oversized body (413) - and the
   server still answering afterwards; one decision-log line per request
   with its uid.  `mamori admission manifests --ca` carries that CA.
2. The Docker authorization plugin: `mamori admission serve --unix` on
   /run/docker/plugins/NAME.sock and a private dockerd started with
   `--authorization-plugin=NAME` (DEVELOPERS.md recipe; a name of its own
   so that parallel daemons do not meet): `docker run` of a plain container
   succeeds; `--privileged`, a docker.sock bind, `--pid host` are refused
   with the message the user sees ("authorization denied by plugin NAME:
   ..."); the plugin answers a create that reaches it without its body
   (the CVE-2024-41110 pattern) with a denial.
Root for part 2 (skips without dockerd).
"""

import base64
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, check, eq, skip  # noqa: E402

POD_OK = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "ok"},
          "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}}
POD_PRIV = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "priv"},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36",
                                     "securityContext": {"privileged": True}}]}}
DEPLOY = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
          "spec": {"template": {"metadata": {}, "spec": {
              "hostPID": True, "containers": [{"name": "c", "image": "nginx"}]}}}}


def review(obj, uid, api="v1", ns="team-a", op="CREATE"):
    return {"apiVersion": "admission.k8s.io/" + api, "kind": "AdmissionReview",
            "request": {"uid": uid, "kind": {"group": "", "version": "v1",
                                             "kind": obj["kind"]},
                        "operation": op, "namespace": ns, "object": obj}}


class Server:
    def __init__(self, r, args, port=None):
        self.dir = os.path.join(r.root, "srv-%d" % len(os.listdir(r.root)))
        os.makedirs(self.dir)
        self.log = os.path.join(self.dir, "decisions.jsonl")
        self.port = port
        self.p = subprocess.Popen([r.bin, "admission", "serve", "--state-dir", self.dir,
                                   "--tls-name", "localhost", "--log", self.log] + args,
                                  stderr=subprocess.PIPE, env=r.env(), cwd=r.cwd)
        self.err = b""

    def wait_tcp(self):
        """Reads the server's first lines: the port it bound (it was given
        port 0, so no other process can hold it)."""
        import re
        deadline = time.time() + 30
        while time.time() < deadline:
            line = self.p.stderr.readline().decode()
            if not line:
                raise Fail("server exited: rc=%s" % self.p.poll())
            m = re.search(r"webhook on .* \(port (\d+),", line)
            if m:
                self.port = int(m.group(1))
                return
        raise Fail("server did not listen")

    def ctx(self):
        c = ssl.create_default_context(cafile=os.path.join(self.dir, "server.crt"))
        return c

    def post(self, path, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        c = http.client.HTTPSConnection("localhost", self.port, context=self.ctx(), timeout=30)
        c.request("POST", path, body=data, headers={"Content-Type": ctype})
        r = c.getresponse()
        out = r.read()
        c.close()
        try:
            return r.status, json.loads(out)
        except ValueError:
            return r.status, out

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                _, self.err = self.p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode

    def decisions(self):
        with open(self.log) as f:
            return [json.loads(l) for l in f if l.strip()]


class T:
    def __init__(self):
        self.r = Runner()

    def close(self):
        self.r.close()

    def webhook(self):
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--exempt", "kube-*", "--record",
                            "--cache-dir", self.r.cache])
        try:
            s.wait_tcp()
            port = s.port
            st, b = s.post("/validate", review(POD_OK, "u-ok"))
            eq(st, 200, "status")
            eq(b["response"], {"uid": "u-ok", "allowed": True}, "clean pod")
            st, b = s.post("/validate", review(POD_PRIV, "u-priv"))
            eq(st, 200, "status")
            r = b["response"]
            eq(r["allowed"], False, "privileged pod allowed")
            eq(r["status"]["code"], 403, "status code")
            check("Pod Security \"baseline\": privileged" in r["status"]["message"],
                  r["status"]["message"])
            st, b = s.post("/validate", review(POD_PRIV, "u-beta", api="v1beta1"))
            eq(b["apiVersion"], "admission.k8s.io/v1beta1", "v1beta1 answered in v1beta1")
            eq(b["response"]["allowed"], False, "v1beta1 verdict")
            st, b = s.post("/validate", review(DEPLOY, "u-dep"))
            check(not b["response"]["allowed"] and "hostNamespaces" in
                  b["response"]["status"]["message"], b)
            st, b = s.post("/validate", review(POD_PRIV, "u-ex", ns="kube-system"))
            eq(b["response"]["allowed"], True, "exempt namespace")
            # bad input: clear errors, and the server keeps serving
            st, b = s.post("/validate", b"{not json")
            eq(st, 400, "malformed JSON")
            check("not JSON" in b["error"], b)
            st, b = s.post("/validate", {"apiVersion": "admission.k8s.io/v1",
                                         "kind": "AdmissionReview", "request": {}})
            eq(st, 400, "no uid")
            check("request.uid" in b["error"], b)
            st, b = s.post("/validate", json.dumps(review(POD_OK, "x")).encode(), "text/plain")
            eq(st, 415, "content type")
            # an oversized body is refused as announced, before it is sent
            c = http.client.HTTPSConnection("localhost", port, context=s.ctx(), timeout=30)
            c.putrequest("POST", "/validate")
            c.putheader("Content-Type", "application/json")
            c.putheader("Content-Length", str(4 << 20))
            c.endheaders()
            resp = c.getresponse()
            eq(resp.status, 413, "oversized body")
            c.close()
            st, b = s.post("/validate", review(POD_OK, "u-after"))
            eq((st, b["response"]["allowed"]), (200, True), "still serving")
            with urllib.request.urlopen("https://localhost:%d/healthz" % port,
                                        context=s.ctx(), timeout=10) as h:
                eq(json.loads(h.read()), {"status": "ok"}, "healthz")
            eq(s.stop(), 0, "exit status on SIGTERM")
            d = s.decisions()
            uids = [x.get("uid") for x in d if "uid" in x]
            eq(uids, ["u-ok", "u-priv", "u-beta", "u-dep", "u-ex", "u-after"], "decision log")
            eq(sum(1 for x in d if "error" in x), 2, "errors logged")
            # every decision kept in the store (mamori history), violations as findings
            import sqlite3
            db = sqlite3.connect(os.path.join(self.r.cache, "mamori.db"))
            rows = {k: (n, t, rep) for k, n, t, rep in
                    db.execute("SELECT key, nfindings, target, report FROM scans")}
            db.close()
            eq(sorted(rows), sorted("admission:" + u for u in
                                    ("u-ok", "u-priv", "u-beta", "u-dep", "u-ex", "u-after")),
               "stored decisions")
            eq(rows["admission:u-ok"][:2], (0, "team-a/Pod/ok"), "clean pod kept")
            eq(rows["admission:u-priv"][:2], (1, "team-a/Pod/priv"), "denied pod kept")
            rep = json.loads(rows["admission:u-priv"][2])
            check("MM-ADM-DENY" in json.dumps(rep) and "3.4.3" in json.dumps(rep), rep)
            h = self.r.run(["history"])
            check("admission:u-priv" in h.out, h.out)
            # the manifests carry the CA the server wrote
            m = self.r.run(["admission", "manifests", "--ca", os.path.join(s.dir, "server.crt")])
            eq(m.rc, 0, "manifests")
            with open(os.path.join(s.dir, "server.crt"), "rb") as f:
                ca = base64.b64encode(f.read()).decode()
            check("caBundle: " + ca in m.out, "caBundle")
        finally:
            s.stop()

    def webhook_client_cert(self):
        """--client-ca: the API server's webhook client certificate is
        required; none, or one another CA signed, gets 403 and nothing is
        judged; a certificate the CA signed gets the verdict."""
        d = tempfile.mkdtemp(dir=self.r.root)

        def ossl(*a):
            subprocess.run(["openssl"] + list(a), check=True, capture_output=True, cwd=d)

        for ca in ("ca", "other"):
            ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2",
                 "-subj", "/CN=%s test CA" % ca)
            ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                 "-keyout", ca + "-client.key", "-out", ca + "-client.csr",
                 "-subj", "/CN=kube-apiserver")
            ossl("x509", "-req", "-in", ca + "-client.csr", "-CA", ca + ".crt",
                 "-CAkey", ca + ".key", "-CAcreateserial", "-out", ca + "-client.crt",
                 "-days", "2")
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--client-ca", os.path.join(d, "ca.crt")])
        try:
            s.wait_tcp()
            pod = review({"apiVersion": "v1", "kind": "Pod",
                          "metadata": {"name": "p", "namespace": "team-a"},
                          "spec": {"containers": [{"name": "c", "image": "app:1"}]}}, "u-cc")

            def post(client):
                c = s.ctx()
                if client:
                    c.load_cert_chain(os.path.join(d, client + "-client.crt"),
                                      os.path.join(d, client + "-client.key"))
                h = http.client.HTTPSConnection("localhost", s.port, context=c, timeout=30)
                h.request("POST", "/validate", body=json.dumps(pod).encode(),
                          headers={"Content-Type": "application/json"})
                r = h.getresponse()
                out = r.read()
                h.close()
                return r.status, out

            st, out = post(None)
            eq(st, 403, "no client certificate: %r" % out[:200])
            check(b"client certificate" in out, "the 403 says why: %r" % out[:200])
            st, out = post("other")
            eq(st, 403, "a certificate of another CA: %r" % out[:200])
            st, out = post("ca")
            eq(st, 200, "the CA's client certificate: %r" % out[:200])
            check(json.loads(out)["response"]["uid"] == "u-cc", "a verdict for the request")
            eq(len([d for d in s.decisions() if d.get("uid") == "u-cc"]), 1,
               "only the request with the right certificate was judged")
        finally:
            s.stop()

    def webhook_warn(self):
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--mode", "warn"])
        try:
            s.wait_tcp()
            st, b = s.post("/validate", review(POD_PRIV, "w-1"))
            r = b["response"]
            eq(r["allowed"], True, "warn mode allows")
            eq(len(r["warnings"]), 1, "one warning")
            check("privileged" in r["warnings"][0], r["warnings"])
            eq(r["auditAnnotations"]["mamori.io/mode"], "warn", "annotation")
        finally:
            s.stop()

    def webhook_image_gate_cached(self):
        cache = os.environ.get("MAMORI_TEST_CACHE", "/var/cache/mamori-test")
        base = os.path.join(cache, "base-docker.tar")
        app = os.path.join(cache, "app-docker.tar")
        if not os.path.isfile(base) or not os.path.isfile(app):
            skip("the test image is not built (scripts/build-test-image.sh)")
        r = self.r.run(["image", "--input", base, "--scanners", "secret", "--format", "json",
                        "-q", "-o", os.path.join(self.r.root, "scan.json")])
        eq(r.rc, 0, "scan (%s)" % r.err[-300:])
        pol = os.path.join(self.r.root, "policy.yaml")
        with open(pol, "w") as f:
            f.write("version: 1\ndeny_root_user: true\nsecrets:\n  max_severity: none\n")
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--policy", pol, "--no-pss",
                            "--cache-dir", self.r.cache])
        try:
            s.wait_tcp()

            def pod(img):
                return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "g"},
                        "spec": {"containers": [{"name": "c", "image": img}]}}
            _, b1 = s.post("/validate", review(pod(base), "g-1"))
            _, b2 = s.post("/validate", review(pod(base), "g-2"))
            _, b3 = s.post("/validate", review(pod(app), "g-3"))
            for b in (b1, b2):
                eq(b["response"]["allowed"], False, "root image")
                m = b["response"]["status"]["message"]
                check("deny_root_user" in m and base in m, m)
            eq(b1["response"]["status"], b2["response"]["status"], "same verdict from the cache")
            m3 = b3["response"]["status"]["message"]
            check("never scanned" in m3, m3)
            s.stop()
            d = {x["uid"]: x for x in s.decisions() if "uid" in x}
            eq((d["g-1"]["image_cache_hits"], d["g-2"]["image_cache_hits"]), (0, 1), "cache hits")
        finally:
            s.stop()
        # allow-and-scan-later: the unscanned image passes with a warning naming it
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--policy", pol, "--no-pss",
                            "--cache-dir", self.r.cache, "--unscanned", "allow"])
        try:
            s.wait_tcp()
            _, b4 = s.post("/validate", review(pod(app), "g-4"))
            _, b5 = s.post("/validate", review(pod(base), "g-5"))
            r4 = b4["response"]
            eq(r4["allowed"], True, "unscanned image with --unscanned allow")
            check(len(r4.get("warnings", [])) == 1 and "never scanned" in r4["warnings"][0] and
                  "allowed until it is scanned" in r4["warnings"][0], r4)
            eq(b5["response"]["allowed"], False, "a scanned root image is still denied")
        finally:
            s.stop()

    def webhook_scan_at_admission(self):
        """An image never scanned is scanned at admission: within the budget
        the verdict is the scan's (the app image runs as a user: allowed);
        past it, the request is denied as unscanned and a retry later finds
        the scan."""
        cache = os.environ.get("MAMORI_TEST_CACHE", "/var/cache/mamori-test")
        app = os.path.join(cache, "app-docker.tar")
        if not os.path.isfile(app):
            skip("the test image is not built (scripts/build-test-image.sh)")
        pol = os.path.join(self.r.root, "policy-scan.yaml")
        with open(pol, "w") as f:
            f.write("version: 1\ndeny_root_user: true\n")

        def pod(uid):
            return review({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "s"},
                           "spec": {"containers": [{"name": "c", "image": app}]}}, uid)
        # 1. within the budget (its own store: the image is new there)
        st1 = os.path.join(self.r.root, "store-scan1")
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--policy", pol, "--no-pss",
                            "--cache-dir", st1, "--scan", "--scan-budget", "28"])
        try:
            s.wait_tcp()
            t0 = time.time()
            r = s.post("/validate", pod("s-1"))[1]["response"]
            took = time.time() - t0
            # the app image runs as a user: once scanned, the gate allows it
            eq(r, {"uid": "s-1", "allowed": True}, "the verdict on the scan")
            print("  scanned at admission in %.1f s" % took)
        finally:
            s.stop()
        # 2. past the budget: answered as unscanned, the scan goes on
        st2 = os.path.join(self.r.root, "store-scan2")
        s = Server(self.r, ["--listen", "127.0.0.1:0", "--policy", pol, "--no-pss",
                            "--cache-dir", st2, "--scan", "--scan-budget", "0.05"])
        try:
            s.wait_tcp()
            r = s.post("/validate", pod("s-2"))[1]["response"]
            m = r["status"]["message"]
            check(not r["allowed"] and "never scanned" in m and "still scanning" in m, r)
            deadline = time.time() + 120
            while time.time() < deadline:
                time.sleep(1)
                r = s.post("/validate", pod("s-3"))[1]["response"]
                if r["allowed"]:
                    break
            check(r["allowed"], "a retry never found the scan: %s" % r)
        finally:
            s.stop()

    def webhook_tag_moved(self):
        """The decision cache is keyed by the digest a tag resolves to: a
        tag pushed to another image is judged again at once."""
        import regkit
        cache = os.environ.get("MAMORI_TEST_CACHE", "/var/cache/mamori-test")
        oci = os.path.join(cache, "oci")
        if not os.path.isdir(oci):
            skip("the test image is not built (scripts/build-test-image.sh)")
        miss = regkit.missing_tools("docker-registry", "skopeo")
        if miss:
            skip("%s not installed" % ", ".join(miss))
        with regkit.Registry("plain") as reg:
            d1 = reg.push("oci:%s:base" % oci, "team/web:1")
            ref = "%s/team/web:1" % reg.host
            r = self.r.run(["image", ref, "--insecure-registry", reg.host, "--scanners",
                            "secret", "--format", "json", "-q", "-o", os.devnull])
            eq(r.rc, 0, "scan (%s)" % r.err[-300:])
            pol = os.path.join(self.r.root, "policy-reg.yaml")
            with open(pol, "w") as f:
                f.write("version: 1\ndeny_root_user: true\n")
            s = Server(self.r, ["--listen", "127.0.0.1:0", "--policy", pol, "--no-pss",
                                "--cache-dir", self.r.cache, "--insecure-registry", reg.host,
                                "--resolve-ttl", "-1"])
            try:
                s.wait_tcp()

                def ask(uid):
                    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "w"},
                           "spec": {"containers": [{"name": "c", "image": ref}]}}
                    return s.post("/validate", review(pod, uid))[1]["response"]
                a1, a2 = ask("t-1"), ask("t-2")
                for a in (a1, a2):
                    check(not a["allowed"] and "deny_root_user" in a["status"]["message"], a)
                d2 = reg.push("oci:%s:app" % oci, "team/web:1")   # the tag moves
                check(d1 != d2, "the two images have one digest")
                a3 = ask("t-3")
                check(not a3["allowed"] and "never scanned" in a3["status"]["message"], a3)
                s.stop()
                dec = {x["uid"]: x for x in s.decisions() if "uid" in x}
                eq([dec[u]["image_cache_hits"] for u in ("t-1", "t-2", "t-3")], [0, 1, 0],
                   "cache hits (the moved tag is not one)")
            finally:
                s.stop()

    # ---- Docker --------------------------------------------------------------------

    def docker_authz(self):
        if os.geteuid() != 0:
            skip("needs root (dockerd)")
        import shutil
        if not shutil.which("dockerd") or not shutil.which("docker"):
            skip("dockerd is not installed (Debian package docker.io)")
        if not shutil.which("busybox"):
            skip("busybox-static is not installed")
        import ctrkit
        name = "mamori-t%d" % os.getpid()
        os.makedirs("/run/docker/plugins", exist_ok=True)
        sock = "/run/docker/plugins/%s.sock" % name
        log = os.path.join(self.r.root, "authz.jsonl")
        plug = subprocess.Popen([self.r.bin, "admission", "serve", "--unix", sock, "--log", log],
                                stderr=subprocess.PIPE, env=self.r.env(), cwd=self.r.cwd)
        tmp = None
        dp = None
        try:
            deadline = time.time() + 20
            while not os.path.exists(sock) and time.time() < deadline:
                time.sleep(0.1)
            check(os.path.exists(sock), "plugin socket not created")
            # the CVE-2024-41110 pattern, straight to the plugin
            req = {"User": "", "RequestMethod": "POST",
                   "RequestUri": "/v1.41/containers/create",
                   "RequestHeaders": {"Content-Length": "0", "Content-Type": "application/json"}}
            out = subprocess.run(["curl", "-s", "--unix-socket", sock, "-H",
                                  "Content-Type: application/json", "-d", json.dumps(req),
                                  "http://plugin/AuthZPlugin.AuthZReq"],
                                 stdout=subprocess.PIPE, timeout=30).stdout
            a = json.loads(out)
            eq(a["Allow"], False, "a create without its body")
            check("without its body" in a["Msg"], a)
            act = json.loads(subprocess.run(
                ["curl", "-s", "--unix-socket", sock, "-X", "POST", "-H",
                 "Content-Type: application/json", "http://plugin/Plugin.Activate"],
                stdout=subprocess.PIPE, timeout=30).stdout)
            eq(act, {"Implements": ["authz"]}, "activation")
            # a private dockerd that asks the plugin
            tmp = "/tmp/mmt-adm-%d" % os.getpid()
            os.makedirs(tmp)
            dsock = os.path.join(tmp, "d.sock")
            dlog = open(os.path.join(tmp, "dockerd.log"), "w")
            dp = subprocess.Popen(["dockerd", "--iptables=false", "--bridge=none",
                                   "--authorization-plugin=" + name,
                                   "--data-root", os.path.join(tmp, "data"),
                                   "--exec-root", os.path.join(tmp, "exec"),
                                   "--pidfile", os.path.join(tmp, "d.pid"),
                                   "-H", "unix://" + dsock], stdout=dlog, stderr=subprocess.STDOUT)
            D = ["docker", "-H", "unix://" + dsock]
            deadline = time.time() + 60
            while time.time() < deadline:
                if dp.poll() is not None:
                    break
                if os.path.exists(dsock) and subprocess.run(D + ["info"], capture_output=True,
                                                            timeout=20).returncode == 0:
                    break
                time.sleep(0.5)
            else:
                pass
            if dp.poll() is not None:
                skip("dockerd did not start: %s" % open(os.path.join(tmp, "dockerd.log"))
                     .read()[-300:])
            tar = os.path.join(tmp, "rootfs.tar")
            ctrkit.rootfs_tar(tar)
            p = subprocess.run(D + ["import", tar, "localhost/mmt-adm:1"], capture_output=True,
                               timeout=120)
            if p.returncode != 0:
                with open(log) as f:
                    raise Fail("import: %s; plugin decisions: %s" % (p.stderr.decode()[-300:],
                                                                     f.read()[-600:]))

            def run(*extra):
                return subprocess.run(D + ["run", "--rm", "--network", "none"] + list(extra) +
                                      ["localhost/mmt-adm:1", "true"], capture_output=True,
                                      timeout=120)
            p = run()
            eq(p.returncode, 0, "plain container (%s)" % p.stderr.decode()[-300:])
            for extra, says in ((["--privileged"], "privileged container (--privileged)"),
                                (["-v", "/var/run/docker.sock:/s"],
                                 "host path /var/run/docker.sock is mounted"),
                                (["--pid", "host"], "host namespace (--pid host)")):
                p = run(*extra)
                err = p.stderr.decode()
                check(p.returncode != 0, "%s was allowed" % extra)
                want = "authorization denied by plugin %s: %s" % (name, says)
                check(want in err, "message %r lacks %r" % (err.strip(), want))
                print("  docker run %s -> %s" % (" ".join(extra), [
                    l for l in err.splitlines() if "authorization denied" in l][0]))
            with open(log) as f:
                dec = [json.loads(l) for l in f if l.strip()]
            denied = [d for d in dec if not d.get("allowed", True)]
            check(len(denied) >= 4, "decisions logged: %s" % denied)
        finally:
            if dp is not None and dp.poll() is None:
                dp.terminate()
                try:
                    dp.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    dp.kill()
                    dp.wait()
            if plug.poll() is None:
                plug.terminate()
                plug.wait(timeout=30)
            if tmp:
                ctrkit.unmount_below(tmp)
                shutil.rmtree(tmp, ignore_errors=True)
            if os.path.exists(sock):
                os.unlink(sock)


def main():
    s = Suite()
    t = T()
    try:
        s.case("webhook-tls-verdicts-and-bad-input", t.webhook)
        s.case("webhook-client-certificate", t.webhook_client_cert)
        s.case("webhook-warn-mode", t.webhook_warn)
        s.case("webhook-image-gate-cached", t.webhook_image_gate_cached)
        s.case("webhook-tag-moved-judged-again", t.webhook_tag_moved)
        s.case("webhook-scan-at-admission", t.webhook_scan_at_admission)
        s.case("docker-authz-real-dockerd", t.docker_authz)
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
