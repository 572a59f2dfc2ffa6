#!/usr/bin/env python3
"""test_misconfig - `mamori image --scanners misconfig` and `mamori config`.

Image checks: a fixture image built here with imgkit plants, over four
layers, what the misconfiguration checks must find (root user, no
HEALTHCHECK, port 22, a credential-named ENV, label and build argument, an
apt-get update alone, ADD of a plain file, setuid helper, sshd, duplicate
UID, empty password in /etc/shadow, .git, world-writable /usr/bin/x, apt
lists, an SSH key deleted by a later layer, the latest tag).  Each finding
is asserted by id, path and layer, and a clean twin with the same shape
must give no misconfiguration finding at all.

Linter: `mamori config` on Dockerfiles written here: ids and lines in JSON,
SARIF output, --severity, --exit-code, --config (a .hadolint.yaml),
--allowed-registries, standard input, and malformed Dockerfiles failing
with exit 2 and a message naming file and line.
"""

import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import imgkit                                                  # noqa: E402
from imgkit import D, F, WH                                    # noqa: E402
from mmrun import Fail, Runner, Suite, check, eq               # noqa: E402

OS_RELEASE = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n'
PASSWD_BAD = (b"root:x:0:0:root:/root:/bin/bash\n"
              b"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
              b"app:x:1000:1000::/home/app:/bin/sh\n"
              b"app2:x:1000:1000::/home/app2:/bin/sh\n")
SHADOW_BAD = (b"root:*:19000:0:99999:7:::\n"
              b"daemon:*:19000:0:99999:7:::\n"
              b"app::19000:0:99999:7:::\n")
PASSWD_OK = (b"root:x:0:0:root:/root:/bin/bash\n"
             b"daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
             b"app:x:1000:1000::/home/app:/bin/sh\n")
SHADOW_OK = (b"root:*:19000:0:99999:7:::\n"
             b"daemon:*:19000:0:99999:7:::\n"
             b"app:!:19000:0:99999:7:::\n")

CASES = ["planted-findings", "deleted-key-still-found", "clean-twin",
         "oci-layout-no-tag-check", "config-json-lines", "config-sarif",
         "config-severity-exit-code", "config-hadolint-yaml",
         "config-allowed-registries", "config-stdin", "config-malformed",
         "config-hadolint-cli",
         "real-base-image"]

CACHE = os.environ.get("MAMORI_TEST_IMAGES", "/var/cache/mamori-test")
# Debian 12 minbase (mmdebstrap): the setuid/setgid files it ships, all
# owned by packages and well known, so LOW
DEBIAN_SETID = ["/usr/bin/chage", "/usr/bin/chfn", "/usr/bin/chsh", "/usr/bin/expiry",
                "/usr/bin/gpasswd", "/usr/bin/mount", "/usr/bin/newgrp", "/usr/bin/passwd",
                "/usr/bin/su", "/usr/bin/umount", "/usr/sbin/unix_chkpwd"]


def elf():
    with open("/bin/true", "rb") as f:
        return f.read()


def fixture(clean):
    base = imgkit.Layer([
        D("etc"), F("etc/os-release", OS_RELEASE),
        F("etc/passwd", PASSWD_OK if clean else PASSWD_BAD),
        F("etc/shadow", SHADOW_OK if clean else SHADOW_BAD, 0o640),
        D("usr"), D("usr/bin"), D("usr/sbin"), D("usr/local"), D("usr/local/bin"),
        D("var"), D("var/lib"), D("var/lib/apt"), D("var/lib/apt/lists"),
        D("var/lib/apt/lists/partial"), F("var/lib/apt/lists/lock", b""),
        D("tmp", 0o1777),
    ], created_by="ADD file:0123abcd in / ")
    if clean:
        l1 = imgkit.Layer([F("usr/bin/tool", elf(), 0o755)],
                          created_by="RUN /bin/sh -c apt-get update && apt-get install -y "
                                     "tool && rm -rf /var/lib/apt/lists/* # buildkit")
        l2 = imgkit.Layer([D("app"), F("app/app.py", b"print('hi')\n"),
                           D("app/git"), F("app/git/HEAD", b"x\n"),
                           F("usr/local/bin/helper", elf(), 0o755),
                           F("usr/bin/x", b"#!/bin/sh\n", 0o755),
                           D("root"), D("root/.ssh"),
                           F("root/.ssh/known_hosts", b"h ssh-ed25519 AAAA\n")],
                          created_by="COPY app /app # buildkit")
        l3 = imgkit.Layer([F("app/app.py", b"print('hello')\n")],
                          created_by="|1 NPM_VERSION=10 /bin/sh -c true")
    else:
        l1 = imgkit.Layer([F("var/lib/apt/lists/deb.debian.org_dists_bookworm_InRelease",
                             b"Origin: Debian\n")],
                          created_by="/bin/sh -c apt-get update")
        l2 = imgkit.Layer([D("app"), F("app/app.py", b"print('hi')\n"),
                           D("app/.git"), F("app/.git/HEAD", b"ref: refs/heads/main\n"),
                           F("usr/local/bin/helper", elf(), 0o4755),
                           F("usr/sbin/sshd", elf(), 0o755),
                           F("usr/bin/x", b"#!/bin/sh\n", 0o777),
                           D("root"), D("root/.ssh"),
                           F("root/.ssh/id_rsa", b"-----BEGIN OPENSSH PRIVATE KEY-----\nx\n",
                             0o600)],
                          created_by="ADD app /app # buildkit")
        l3 = imgkit.Layer([WH("root/.ssh/id_rsa")],
                          created_by="|1 NPM_TOKEN=npm_0123456789abcdef /bin/sh -c "
                                     "rm /root/.ssh/id_rsa")
    cfg = {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}
    if clean:
        cfg["User"] = "app"
        cfg["Healthcheck"] = {"Test": ["CMD", "/usr/bin/tool", "--health"]}
        cfg["ExposedPorts"] = {"8080/tcp": {}}
        cfg["Env"].append("DB_PASSWORD_FILE=/run/secrets/db")
        cfg["Labels"] = {"org.opencontainers.image.version": "1.0"}
    else:
        cfg["User"] = ""
        cfg["ExposedPorts"] = {"22/tcp": {}, "8080/tcp": {}}
        cfg["Env"].append("DB_PASSWORD=hunter2-s3cret")
        cfg["Labels"] = {"deploy.api_token": "tok-0123456789"}
    hist = [{"created": "2024-01-01T00:00:00Z", "created_by": l.created_by}
            for l in (base, l1, l2, l3)]
    hist.insert(1, {"created": "2024-01-01T00:00:00Z", "empty_layer": True,
                    "created_by": "ENV APP_SECRET=abcdef123456" if not clean
                    else "ENV APP_MODE=production"})
    return imgkit.Image([base, l1, l2, l3], history=hist,
                        config={"config": cfg})


class T:
    def __init__(self):
        self.r = Runner()
        self.tmp = tempfile.mkdtemp(prefix="mm-misconfig-", dir=self.r.root)
        self._scans = {}

    def close(self):
        self.r.close()

    def scan(self, clean, tags=("mamori/bad:latest",)):
        key = (clean, tags)
        if key not in self._scans:
            p = os.path.join(self.tmp, "%s-%d.tar" % ("clean" if clean else "bad",
                                                       len(self._scans)))
            imgkit.write_docker_archive(p, fixture(clean), repo_tags=tags)
            j = self.r.scan_json(["image", "--input", p, "--scanners", "misconfig",
                                  "--no-store"])
            self._scans[key] = [f for f in j["findings"] if f["kind"] == "misconfiguration"]
        return self._scans[key]

    @staticmethod
    def one(findings, fid, path=None, layer=None):
        got = [f for f in findings if f["id"] == fid and
               (path is None or f["location"].get("path") == path) and
               (layer is None or f["location"].get("layer") == layer)]
        if len(got) != 1:
            raise Fail("want one %s at %s (layer %s), got %d: %s" % (
                fid, path, layer, len(got),
                sorted((f["id"], f["location"].get("path"), f["location"].get("layer"))
                       for f in findings)))
        return got[0]

    # ---- image checks -----------------------------------------------------
    def planted(self):
        fs = self.scan(False)
        self.one(fs, "MM-IMG-001")
        self.one(fs, "MM-IMG-002")
        u = self.one(fs, "MM-IMG-003", layer=1)
        check("apt-get update" in u["evidence"], u["evidence"])
        a = self.one(fs, "MM-IMG-004", layer=2)   # not the base layer's ADD file: in /
        check(a["location"]["instruction"].startswith("ADD app /app"), a["location"])
        secrets = [f for f in fs if f["id"] == "MM-IMG-005"]
        ev = sorted(f["evidence"] for f in secrets)
        eq(ev, ["ENV APP_SECRET=ab****", "ENV DB_PASSWORD=hu****",
                "build argument NPM_TOKEN=np****", "label deploy.api_token=to****"],
           "credential names")
        for f in secrets:
            eq(f["severity"], "HIGH", "severity of %s" % f["evidence"])
            check("hunter2" not in json.dumps(f) and "0123456789" not in json.dumps(f),
                  "a secret value leaks: %r" % f)
        eq(self.one(fs, "MM-IMG-005", layer=3)["evidence"],
           "build argument NPM_TOKEN=np****", "build argument layer")
        p = self.one(fs, "MM-IMG-006")
        eq(p["evidence"], "ExposedPorts: 22/tcp", "port")
        s = self.one(fs, "MM-IMG-007", "/usr/local/bin/helper", 2)
        eq(s["title"], "setuid file", "setuid title")
        check("4755" in s["evidence"], s["evidence"])
        eq(s["references"], ["CIS Docker Benchmark 4.8"], "references")
        self.one(fs, "MM-IMG-008", "/usr/sbin/sshd", 2)
        c = self.one(fs, "MM-IMG-010", "/var/lib/apt/lists", 1)
        eq(c["evidence"], "1 files, 15 bytes", "apt lists")
        t = self.one(fs, "MM-IMG-011")
        eq(t["evidence"], "tag mamori/bad:latest", "tag")
        e = self.one(fs, "MM-IMG-012", "/etc/shadow", 0)
        eq((e["location"]["line"], e["severity"]), (3, "HIGH"), "empty password")
        d = self.one(fs, "MM-IMG-013", "/etc/passwd", 0)
        eq((d["location"]["line"], d["evidence"]),
           (4, "users app and app2 share uid 1000"), "duplicate uid")
        self.one(fs, "MM-IMG-015", "/app/.git", 2)
        self.one(fs, "MM-IMG-016", "/usr/bin/x", 2)
        for f in fs:
            eq(f["section"], "3.1.2", "section of %s" % f["id"])
            check(f["remediation"], "remediation of %s" % f["id"])
        # nothing else: every finding is one of the planted ones
        eq(sorted(set(f["id"] for f in fs)),
           ["MM-IMG-001", "MM-IMG-002", "MM-IMG-003", "MM-IMG-004", "MM-IMG-005",
            "MM-IMG-006", "MM-IMG-007", "MM-IMG-008", "MM-IMG-010", "MM-IMG-011",
            "MM-IMG-012", "MM-IMG-013", "MM-IMG-015", "MM-IMG-016"], "finding ids")

    def deleted_key(self):
        fs = self.scan(False)
        k = self.one(fs, "MM-IMG-015", "/root/.ssh/id_rsa", 2)
        eq(k["severity"], "HIGH", "key severity")
        check("deleted by a later layer" in k["evidence"], k["evidence"])

    def clean_twin(self):
        fs = self.scan(True, tags=("mamori/clean:1.0",))
        eq([(f["id"], f["location"].get("path")) for f in fs], [], "clean twin findings")

    def oci_no_tag(self):
        d = os.path.join(self.tmp, "oci-clean")
        imgkit.write_oci(d, fixture(True), tag="latest")
        j = self.r.scan_json(["image", "--input", d, "--scanners", "misconfig",
                              "--no-store"])
        fs = [f for f in j["findings"] if f["kind"] == "misconfiguration"]
        eq([f["id"] for f in fs], [], "OCI clean twin findings")

    # ---- the linter ---------------------------------------------------------
    def dockerfile(self, name, text):
        p = os.path.join(self.tmp, name)
        with open(p, "w") as f:
            f.write(text)
        return p

    BAD = ("# syntax=docker/dockerfile:1\n"
           "FROM debian:latest\n"
           "RUN apt-get update && apt-get install -y curl\n"
           "# hadolint ignore=DL3004\n"
           "RUN sudo true\n"
           "RUN curl -fsSL https://get.example.com | sh\n"
           "ENV DB_PASSWORD=hunter2\n"
           "EXPOSE 22\n"
           "USER root\n")

    def config_run(self, args, want_rc=0):
        r = self.r.run(["config"] + args)
        if r.rc != want_rc:
            raise Fail("mamori config %s: want rc %d, %s" % (" ".join(args), want_rc,
                                                             r.describe()))
        return r

    def config_json(self):
        p = self.dockerfile("Dockerfile", self.BAD)
        j = self.config_run([p, "--format", "json"]).json
        got = sorted((f["id"], f["location"]["line"]) for f in j["findings"])
        eq(got, [("MM-DF-001", 3), ("MM-DF-006", 3), ("MM-DF-007", 3), ("MM-DF-011", 9),
                 ("MM-DF-013", 6), ("MM-DF-018", 2), ("MM-DF-020", 6), ("MM-DF-021", 7),
                 ("MM-DF-025", 8), ("MM-DF-027", 2), ("MM-DF-075", 9)], "findings")
        for f in j["findings"]:
            eq(f["location"]["path"], p, "path")
            eq(f["section"], "3.1.2", "section")
        check("hunter2" not in json.dumps(j), "secret value in the report")

    def config_sarif(self):
        p = self.dockerfile("Dockerfile", self.BAD)
        j = self.config_run([p, "--format", "sarif"]).json
        res = j["runs"][0]["results"]
        ids = sorted(x["ruleId"] for x in res)
        check("MM-DF-013" in ids and len(ids) == 11, "sarif results: %r" % ids)

    def config_severity_exit(self):
        p = self.dockerfile("Dockerfile", self.BAD)
        j = self.config_run([p, "--format", "json", "--severity", "HIGH",
                             "--exit-code", "1"], want_rc=1).json
        eq(sorted(f["id"] for f in j["findings"]), ["MM-DF-013", "MM-DF-021"], "HIGH only")
        ok = self.dockerfile("Dockerfile.ok", "FROM debian:12\nUSER 1000\n"
                                              "HEALTHCHECK CMD [\"true\"]\n")
        j = self.config_run([ok, "--format", "json", "--exit-code", "1"], want_rc=0).json
        eq(j["findings"], [], "clean Dockerfile")
        self.config_run([p, "--exit-code", "x"], want_rc=2)
        self.config_run([p, "--severity", "SEVERE"], want_rc=2)

    def config_hadolint_yaml(self):
        p = self.dockerfile("Dockerfile", self.BAD)
        y = self.dockerfile(".hadolint.yaml", "ignored:\n  - DL3008\n  - MM-DF-027\n"
                                              "trustedRegistries:\n  - quay.io\n")
        j = self.config_run([p, "--format", "json", "--config", y]).json
        ids = sorted(f["id"] for f in j["findings"])
        check("MM-DF-001" not in ids and "MM-DF-027" not in ids, ids)
        check("MM-DF-019" in ids, "docker.io is not trusted: %r" % ids)
        bad = self.dockerfile("bad.yaml", "ignored: [DL3008\n")
        r = self.config_run([p, "--config", bad], want_rc=2)
        check("bad.yaml:" in r.err, r.err)

    def config_registries(self):
        p = self.dockerfile("Dockerfile", "FROM ghcr.io/acme/base:1 AS b\n"
                                          "FROM registry.example.com/x:2\nUSER 1\n"
                                          "COPY --from=b /a /a\n"
                                          "COPY --from=quay.io/x/y:1 /b /b\n"
                                          "HEALTHCHECK CMD [\"true\"]\n")
        j = self.config_run([p, "--format", "json", "--allowed-registries",
                             "*.example.com,docker.io"]).json
        eq(sorted((f["id"], f["location"]["line"]) for f in j["findings"]),
           [("MM-DF-019", 1), ("MM-DF-030", 5)], "registries")
        # hadolint's spelling, and "*" for any registry
        j = self.config_run([p, "--format", "json", "--trusted-registry", "*"]).json
        eq([f["id"] for f in j["findings"]], [], "trusted *")

    def config_stdin(self):
        import subprocess
        p = subprocess.run([self.r.bin, "config", "-", "--format", "json"],
                           input=b"FROM alpine\nRUN apk add curl\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.r.env(), cwd=self.r.cwd)
        eq(p.returncode, 0, "rc")
        ids = sorted(f["id"] for f in json.loads(p.stdout)["findings"])
        eq(ids, ["MM-DF-002", "MM-DF-008", "MM-DF-017", "MM-DF-027", "MM-DF-028"], "stdin")

    def config_malformed(self):
        for name, text, want in [
            ("heredoc", "FROM a:1\nRUN <<EOF\necho hi\n", ":2: RUN: unterminated heredoc"),
            ("json", "FROM a:1\nCMD [\"a\" \"b\"]\n", ":2: CMD: malformed JSON array"),
        ]:
            p = self.dockerfile("Dockerfile." + name, text)
            r = self.config_run([p, "--format", "json"], want_rc=2)
            lines = [l for l in r.err.split("\n") if l.strip()]
            eq(len(lines), 1, "one line on stderr")
            check(lines[0].startswith("mamori: " + p + want), "message %r" % lines[0])
            eq(r.out, "", "no report")
        r = self.config_run([os.path.join(self.tmp, "absent")], want_rc=2)
        check("absent" in r.err, r.err)
        # an unknown instruction is reported, and the rest still linted
        p = self.dockerfile("Dockerfile.unknown", "FROM a:1\n\nFRM b\nRUN sudo x\n")
        j = self.config_run([p, "--format", "json", "--no-shellcheck"]).json
        got = sorted((f["id"], f["location"]["line"]) for f in j["findings"]
                     if f["id"] in ("MM-DF-031", "MM-DF-010"))
        eq(got, [("MM-DF-010", 4), ("MM-DF-031", 3)], "unknown instruction")

    def config_hadolint_cli(self):
        p = self.dockerfile("Dockerfile.h", "FROM debian:12\nRUN cd /x && echo $Y\n"
                                            "LABEL owner=\"nobody\"\nUSER 1000\n"
                                            "HEALTHCHECK NONE\n")
        # failure-threshold: exit 1 only for findings at or above the level
        self.config_run([p, "--failure-threshold", "error", "--no-shellcheck"], want_rc=0)
        self.config_run([p, "--failure-threshold", "style", "--no-shellcheck"], want_rc=1)
        self.config_run([p, "--failure-threshold", "style", "--no-fail"], want_rc=0)
        self.config_run([p, "--error", "DL3003", "--failure-threshold", "error",
                         "--no-shellcheck"], want_rc=1)
        j = self.config_run([p, "--format", "json", "--require-label", "owner:email",
                             "--no-shellcheck"]).json
        check("MM-DF-069" in [f["id"] for f in j["findings"]], "label-schema email")
        y = self.dockerfile(".cfg.yaml", "failure-threshold: warning\nignored: [DL3003]\n")
        self.config_run([p, "--config", y, "--no-shellcheck"], want_rc=0)
        # ShellCheck: an SC finding on the RUN line, or a note when absent
        if os.path.exists("/usr/bin/shellcheck"):
            j = self.config_run([p, "--format", "json"]).json
            sc = [(f["id"], f["location"]["line"]) for f in j["findings"]
                  if f["id"].startswith("SC")]
            check(("SC2086", 2) in sc, "shellcheck finding: %r" % sc)
        r = self.config_run([p, "--format", "json", "--shellcheck", "/nonexistent/sc"])
        check("note: ShellCheck (/nonexistent/sc) is not installed" in r.err, r.err)

    def real_base(self):
        p = os.path.join(CACHE, "base-docker.tar")
        if not os.path.exists(p):
            from mmrun import skip
            skip("%s is absent (scripts/build-test-image.sh builds it)" % p)
        j = self.r.scan_json(["image", "--input", p, "--scanners", "misconfig",
                              "--no-store"])
        fs = [f for f in j["findings"] if f["kind"] == "misconfiguration"]
        setid = sorted(f["location"]["path"] for f in fs if f["id"] == "MM-IMG-007")
        eq(setid, DEBIAN_SETID, "setuid/setgid files")
        for f in fs:
            if f["id"] == "MM-IMG-007":
                eq(f["severity"], "LOW", "severity of %s" % f["location"]["path"])
        eq(sorted(set(f["id"] for f in fs) - {"MM-IMG-007"}),
           ["MM-IMG-001", "MM-IMG-002"], "other findings")


def main():
    s = Suite()
    t = T()
    fns = {
        "planted-findings": t.planted, "deleted-key-still-found": t.deleted_key,
        "clean-twin": t.clean_twin, "oci-layout-no-tag-check": t.oci_no_tag,
        "config-json-lines": t.config_json, "config-sarif": t.config_sarif,
        "config-severity-exit-code": t.config_severity_exit,
        "config-hadolint-yaml": t.config_hadolint_yaml,
        "config-allowed-registries": t.config_registries,
        "config-stdin": t.config_stdin, "config-malformed": t.config_malformed,
        "config-hadolint-cli": t.config_hadolint_cli,
        "real-base-image": t.real_base,
    }
    only = sys.argv[1:]
    try:
        for name in CASES:
            if only and not any(o in name for o in only):
                continue
            s.case(name, fns[name])
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
