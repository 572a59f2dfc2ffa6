#!/usr/bin/env python3
"""test_regcheck - `mamori registry check` (SP 800-190 §3.2.1, §3.2.3)
against real Debian docker-registry instances configured open and closed:

  open        plain HTTP, no auth (regkit "plain")
  tls         HTTPS (CA made here) + htpasswd basic auth (regkit "tls")
  token       HTTPS + token auth, the test's own token issuer (regkit "token");
              once more with the issuer granting anonymous tokens
  basic-http  htpasswd basic auth served over plain HTTP (started here)
  token-http  token auth whose realm is an http:// URL (started here)

Asserted: every check's verdict for each; the anonymous upload that the
open registry accepts is cancelled (nothing left under _uploads); the
unverified certificate without --ca-file; JSON, SARIF, --severity and
--exit-code; a registry that answers nothing is exit 2 naming the host.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, check, eq, skip  # noqa: E402
import regkit  # noqa: E402

NAMES = ["anonymous-pull", "anonymous-push", "anonymous-catalog", "plain-http",
         "basic-auth-over-http", "token-endpoint-without-tls", "tls-unverified"]


class RawRegistry:
    """docker-registry with extra config lines (auth over plain HTTP)."""

    def __init__(self, auth_lines):
        self.root = tempfile.mkdtemp(prefix="mamori-regcheck-")
        self.auth_lines = auth_lines
        self.proc = None

    def start(self):
        storage = os.path.join(self.root, "storage")
        for _ in range(5):
            self.port = regkit.free_port()
            cfg = os.path.join(self.root, "config.yml")
            with open(cfg, "w") as f:
                f.write("\n".join(["version: 0.1", "log:", "  level: error",
                                   "storage:", "  filesystem:", "    rootdirectory: " + storage,
                                   "http:", "  addr: 127.0.0.1:%d" % self.port,
                                   "  secret: s"] + self.auth_lines) + "\n")
            log = open(os.path.join(self.root, "log"), "ab")
            self.proc = subprocess.Popen([regkit.REGISTRY_BIN, "serve", cfg], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         preexec_fn=regkit._die_with_parent)
            log.close()
            end = time.time() + 20
            import http.client
            while time.time() < end and self.proc.poll() is None:
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                    c.request("GET", "/v2/")
                    if c.getresponse().status in (200, 401):
                        return self
                except OSError:
                    pass
                time.sleep(0.1)
            self.proc.kill()
            self.proc.wait()
        raise regkit.KitError("docker-registry did not start")

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)


class T:
    def __init__(self):
        self.run = Runner()
        self.regs = {}

    def close(self):
        for r in self.regs.values():
            r.stop()
        self.run.close()

    def setup(self):
        miss = regkit.missing_tools(regkit.REGISTRY_BIN, "openssl", "htpasswd")
        if miss:
            skip("not installed: " + ", ".join(miss))
        for mode in ("plain", "tls", "token"):
            self.regs[mode] = regkit.Registry(mode).start()
        d = tempfile.mkdtemp(prefix="mamori-regcheck-")
        htp = os.path.join(d, "htpasswd")
        with open(htp, "wb") as f:
            f.write(regkit.run(["htpasswd", "-Bbn", "bob", "builder-9"]).strip() + b"\n")
        crt = os.path.join(d, "sign.crt")
        regkit.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    os.path.join(d, "sign.key"), "-out", crt, "-days", "2", "-subj", "/CN=t"])
        self.regs["basic-http"] = RawRegistry(
            ["auth:", "  htpasswd:", "    realm: t", "    path: " + htp])
        self.regs["token-http"] = RawRegistry(
            ["auth:", "  token:", "    realm: http://127.0.0.1:%d/token" % regkit.free_port(),
             "    service: s", "    issuer: i", "    rootcertbundle: " + crt])
        self.regs["basic-http"].start()
        self.regs["token-http"].start()
        self.tmpdir = d

    def check_json(self, name, extra=()):
        g = self.regs[name]
        args = ["registry", "check", g.host, "-f", "json"] + list(extra)
        if getattr(g, "ca_file", None) and "--no-ca" not in extra:
            args += ["--ca-file", g.ca_file]
        args = [a for a in args if a != "--no-ca"]
        r = self.run.run(args, timeout=120)
        eq(r.rc, 0, "exit status (%s)" % r.describe())
        doc = json.loads(r.out)
        eq([c["name"] for c in doc["checks"]], NAMES, "checks")
        for c in doc["checks"]:
            check(c["section"] in ("3.2.1", "3.2.3"), "section %r" % c)
            check(c["evidence"], "no evidence: %r" % c)
        return {c["name"]: c for c in doc["checks"]}, doc

    def expect(self, got, want):
        for n, v in want.items():
            eq(got[n]["verdict"], v, "%s (evidence: %s)" % (n, got[n]["evidence"]))

    def open_registry(self):
        got, doc = self.check_json("plain")
        self.expect(got, {"anonymous-pull": "fail", "anonymous-push": "fail",
                          "anonymous-catalog": "fail", "plain-http": "fail",
                          "basic-auth-over-http": "pass",
                          "token-endpoint-without-tls": "not-applicable",
                          "tls-unverified": "not-applicable"})
        check("cancelled" in got["anonymous-push"]["evidence"]
              and "NOT" not in got["anonymous-push"]["evidence"], got["anonymous-push"])
        eq(doc["summary"]["fail"], 4, "summary")
        # nothing left behind: the upload was started and cancelled, its data
        # and startedat files are gone (docker-registry 2.8 itself keeps the
        # empty upload's hash state, hashstates/sha256/0, until its upload
        # purger runs - also after `curl -X DELETE`)
        uploads, left = 0, []
        for root, dirs, files in os.walk(self.regs["plain"].storage):
            parts = root.split(os.sep)
            if "_uploads" in parts:
                uploads += parts[-1] == "_uploads" and len(dirs)
                left += [os.path.join(root, f) for f in files
                         if f in ("data", "startedat")]
        eq(uploads, 1, "uploads started")
        eq(left, [], "upload data left in the registry")

    def open_repository(self):
        got, _ = self.check_json("plain", ["--repository", "team/app"])
        check("team/app" in got["anonymous-push"]["evidence"], got["anonymous-push"])

    def tls_htpasswd(self):
        got, _ = self.check_json("tls")
        self.expect(got, {"anonymous-pull": "pass", "anonymous-push": "pass",
                          "anonymous-catalog": "pass", "plain-http": "pass",
                          "basic-auth-over-http": "not-applicable",
                          "token-endpoint-without-tls": "not-applicable",
                          "tls-unverified": "pass"})

    def tls_unverified(self):
        got, _ = self.check_json("tls", ["--no-ca"])
        self.expect(got, {"tls-unverified": "fail", "anonymous-pull": "pass"})

    def token_tls(self):
        got, _ = self.check_json("token")
        self.expect(got, {"anonymous-pull": "pass", "anonymous-push": "pass",
                          "anonymous-catalog": "pass", "plain-http": "pass",
                          "token-endpoint-without-tls": "pass", "tls-unverified": "pass"})
        check(self.regs["token"].token.realm in got["token-endpoint-without-tls"]["evidence"],
              got["token-endpoint-without-tls"])

    def token_anonymous(self):
        """a token service that grants anonymous tokens everything: the
        access checks fail with the token, and the upload accepted with it
        is cancelled with it"""
        tk = self.regs["token"].token
        tk.anonymous = True
        try:
            before = len(tk.issued)
            got, _ = self.check_json("token")
        finally:
            tk.anonymous = False
        self.expect(got, {"anonymous-pull": "fail", "anonymous-push": "fail",
                          "anonymous-catalog": "fail", "plain-http": "pass",
                          "token-endpoint-without-tls": "pass"})
        for n in ("anonymous-pull", "anonymous-push", "anonymous-catalog"):
            check("anonymous token" in got[n]["evidence"], got[n])
        ev = got["anonymous-push"]["evidence"]
        check("cancelled" in ev and "NOT" not in ev, ev)
        scopes = [s for a, ss in tk.issued[before:] for s in ss]
        check(all(a == "" for a, _ in tk.issued[before:]), tk.issued[before:])
        check("registry:catalog:*" in scopes and
              "repository:mamori-check/probe:pull,push" in scopes, scopes)

    def basic_over_http(self):
        got, _ = self.check_json("basic-http")
        self.expect(got, {"anonymous-pull": "pass", "anonymous-push": "pass",
                          "anonymous-catalog": "pass", "plain-http": "fail",
                          "basic-auth-over-http": "fail",
                          "token-endpoint-without-tls": "not-applicable"})

    def token_over_http(self):
        got, _ = self.check_json("token-http")
        self.expect(got, {"anonymous-pull": "pass", "anonymous-push": "pass",
                          "plain-http": "fail", "basic-auth-over-http": "pass",
                          "token-endpoint-without-tls": "fail"})

    def sarif_severity_exit(self):
        g = self.regs["plain"]
        r = self.run.run(["registry", "check", g.host, "-f", "sarif"])
        eq(r.rc, 0, r.describe())
        ids = sorted(res["ruleId"] for res in json.loads(r.out)["runs"][0]["results"])
        eq(ids, ["MM-REGCHK-001", "MM-REGCHK-002", "MM-REGCHK-003", "MM-REGCHK-004"], "SARIF")
        r = self.run.run(["registry", "check", g.host, "-f", "sarif", "--severity", "CRITICAL"])
        ids = [res["ruleId"] for res in json.loads(r.out)["runs"][0]["results"]]
        eq(ids, ["MM-REGCHK-002"], "SARIF with --severity CRITICAL")
        eq(self.run.run(["registry", "check", g.host, "--exit-code", "1"]).rc, 1, "open: exit")
        t = self.regs["tls"]
        eq(self.run.run(["registry", "check", t.host, "--ca-file", t.ca_file,
                         "--exit-code", "1"]).rc, 0, "closed: exit")
        r = self.run.run(["registry", "check", g.host, "--exit-code", "1", "--severity", "HIGH"])
        eq(r.rc, 1, "HIGH: plain-http fails")
        check("fail" in r.out and "MM-REGCHK-004" in r.out, r.out)

    def errors(self):
        port = regkit.free_port()
        r = self.run.run(["registry", "check", "127.0.0.1:%d" % port, "--timeout", "5"])
        eq(r.rc, 2, r.describe())
        check("127.0.0.1:%d" % port in r.err, r.err)
        eq(self.run.run(["registry", "check", "a/b c"]).rc, 2, "bad host")
        eq(self.run.run(["registry", "check", "x", "-f", "xml"]).rc, 2, "bad format")
        r = self.run.run(["registry", "check", self.regs["plain"].host, "--repository", "A/../b?"])
        eq(r.rc, 2, "bad repository")
        check("--repository" in r.err or "repository" in r.err, r.err)
        # --server that answers nothing: the report is written, the upload fails, exit 2
        dead = regkit.free_port()
        r = self.run.run(["registry", "check", self.regs["plain"].host, "-f", "json",
                          "--server", "https://127.0.0.1:%d" % dead, "--token", "mmt_x_y"])
        eq(r.rc, 2, "upload to a dead server: " + r.describe())
        check("--server" in r.err and json.loads(r.out)["summary"]["fail"] >= 1, r.err)


def main():
    t = T()
    s = Suite()
    names = ["open_registry", "open_repository", "tls_htpasswd", "tls_unverified",
             "token_tls", "token_anonymous", "basic_over_http", "token_over_http", "sarif_severity_exit", "errors"]
    try:
        try:
            t.setup()
        except (regkit.KitError, Fail, Exception) as e:
            s.not_run([n.replace("_", "-") for n in names], e)
            s.finish()
        for name in names:
            s.case(name.replace("_", "-"), getattr(t, name))
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
