#!/usr/bin/env python3
"""test_registry - mamori against a real registry (Debian's docker-registry).

regkit.py starts docker-registry on 127.0.0.1 three ways (TLS with a CA made
here + htpasswd basic auth; plain HTTP; TLS + token auth through a token
server of ours) and a flaky HTTP front that answers 429/503 before
proxying.  The fixture image of scripts/build-test-image.sh is pushed with
skopeo, a two-platform index is built with umoci and a hand-written index.

Asserted exactly:
- pulls by tag and by digest (TLS, credentials by flag, environment and
  Docker config file; token auth) give the same inventory, layers, config
  and manifest digest as scanning the local OCI layout;
- wrong or missing credentials, TLS without --ca-file, plain HTTP without
  --insecure-registry: exit 2 with one clear line naming the host; plain
  HTTP allowed with the flag is reported as finding MM-REG-001 (§3.2.1),
  TLS without verification (the flag on a TLS host) as MM-REG-002;
- --platform picks the right manifest of an index; a platform the index
  lacks is an error;
- a layer blob rewritten in the registry's storage (a valid gzip'd tar of
  the same size, and flipped bytes): digest mismatch, exit 2, and the bad
  bytes are not kept in the blob cache;
- 429 (Retry-After honoured) and 503 are retried and the pull succeeds; a
  registry that keeps failing gives a clear error after a bounded number of
  tries;
- the blob cache: a second pull (and a pull of another image sharing the
  base layer) GETs no layer blob; --no-blob-cache GETs them again;
- signatures (when `mamori sign`/`verify` exist): sign with an EC key, the
  signature checks out with openssl and with mamori verify; another key,
  no signature, a tampered signature, a payload for another repository or
  digest: exit 1; signatures made here with openssl (ECDSA, Ed25519, RSA)
  verify — the format is cosign's, not only our own;
- the policy gate: allow, and deny with
  exactly the expected rules: never scanned, unsigned, latest tag, registry
  not allowed, severity above the limit;
- Docker credential helpers (a docker-credential-mmtest script first on
  PATH): it gets "get" and the host on stdin and its answer pulls;
  credHelpers and credsStore beat an auths entry; "credentials not found"
  means anonymous (401 naming the host); a failing helper's message is
  quoted; a hanging one is killed after MAMORI_CREDHELPER_TIMEOUT; a helper
  name with a slash is refused naming the file and key;
- identity tokens (helper Username "<token>", or auths identitytoken): the
  access token comes from a POST grant_type=refresh_token to the token
  server and the pull succeeds; a wrong refresh token is a clear auth
  error; on a basic-auth registry an identity token is an error.
"""

import base64
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import regkit                                                     # noqa: E402
from mmrun import Fail, Runner, Skip, Suite, check, eq, skip      # noqa: E402

APP_REPO = "mamori/app"
CASES = [
    "tls-tag-pull", "tls-digest-pull-env-credentials", "tls-docker-config-credentials",
    "tls-wrong-credentials", "tls-no-credentials", "tls-without-ca-file",
    "tls-unverified-reported", "plain-refused", "plain-allowed-reported", "token-pull",
    "token-wrong-credentials",
    "index-arm64", "index-amd64", "index-default-platform", "index-missing-platform",
    "tampered-blob-valid-gzip", "tampered-blob-flipped", "retry-429-503", "retry-gives-up",
    "blob-cache",
    "sign-verify", "verify-other-key", "verify-unsigned", "verify-tampered-signature",
    "verify-wrong-reference", "verify-wrong-digest", "verify-openssl-signatures",
    "policy-allow", "policy-never-scanned", "policy-unsigned", "policy-latest",
    "policy-registry-not-allowed", "policy-severity",
    "helper-credentials", "helper-beats-auths", "helper-not-found", "helper-error",
    "helper-hangs", "helper-bad-name", "token-identity-helper", "token-identity-auths",
    "token-identity-wrong", "identity-token-basic",
]


def inventory(doc):
    return sorted((p["type"], p["name"], p["version"], p.get("arch"), p.get("path"),
                   p.get("layer"), p.get("layerDigest")) for p in doc["packages"])


def layers(doc):
    return [(l["digest"], l["diffId"], l["size"], l["uncompressedSize"], l.get("createdBy"),
             l["entries"]) for l in doc["layers"]]


def reg_findings(doc):
    return [f for f in doc["findings"] if f["id"].startswith("MM-REG-")]


def openssl(*args, input=None):
    return regkit.run(["openssl"] + list(args), input=input)


class T:
    def __init__(self):
        self.r = Runner()
        self.work = tempfile.mkdtemp(prefix="regtest-", dir=self.r.root)
        self.regs = {}
        self.fronts = []
        self.lay = regkit.fixture_layout()
        h = self.r.run(["image", "--help"])
        self.has_client = "--insecure-registry" in h.out + h.err
        self.local = {}
        self.multi = None
        self.keys = {}
        self.db = None
        self.scanned = set()

    def close(self):
        for f in self.fronts:
            f.stop()
        for g in self.regs.values():
            g.stop()
        self.r.close()

    # ---- fixtures ----
    def need_client(self):
        # every command exists: a missing flag is a failure, not a skip
        check(self.has_client, "image --help lacks --insecure-registry")

    def need_cmd(self, *words):
        for w in words:
            h = self.r.run(w.split() + ["--help"])
            eq(h.rc, 0, "mamori %s --help: %s" % (w, h.describe()))

    def reg(self, mode):
        """The shared registry of a mode, started once, with the fixture
        pushed: mamori/app:1.0, mamori/base:1.0."""
        if mode not in self.regs:
            g = regkit.Registry(mode, root=self.work)
            g.start()
            self.regs[mode] = g
            g.app_digest = g.push("oci:%s:app" % self.lay, APP_REPO + ":1.0")
            g.base_digest = g.push("oci:%s:base" % self.lay, "mamori/base:1.0")
        return self.regs[mode]

    def local_scan(self, tag):
        if tag not in self.local:
            self.local[tag] = self.r.scan_json(["image", "-i", "%s:%s" % (self.lay, tag),
                                                "--scanners", "inventory", "--no-store"])
        return self.local[tag]

    @staticmethod
    def creds(g):
        return ["--ca-file", g.ca_file, "--username", g.username, "--password", g.password]

    def pull(self, ref, opts, extra=(), env=None):
        """mamori image REF (inventory only, not stored): the JSON report."""
        args = ["image", ref, "--scanners", "inventory", "--no-store", "--format", "json"]
        args += list(opts) + list(extra)
        if "--blob-cache" not in args and "--no-blob-cache" not in args:
            # every pull really goes to the registry unless a case says so
            args.append("--no-blob-cache")
        r = self.run(args, env=env)
        if r.rc != 0:
            raise Fail("mamori %s: %s" % (" ".join(args), r.describe()))
        return r.json

    def run(self, args, env=None, timeout=600):
        if env is None:
            return self.r.run(args, timeout=timeout)
        saved = self.r.env
        self.r.env = lambda: dict(saved(), **env)
        try:
            return self.r.run(args, timeout=timeout)
        finally:
            self.r.env = saved

    def expect_error(self, args, must_name, env=None):
        """Exit 2 and one 'mamori: ...' line naming each of must_name (a
        tuple = any one of)."""
        r = self.run(list(args) + ["--format", "json"], env=env)
        if r.rc != 2:
            raise Fail("want exit 2, got %s; stdout=%.200r" % (r.describe(), r.out))
        lines = [l for l in r.err.split("\n") if l.strip()]
        check(lines and lines[-1].startswith("mamori: "),
              "want 'mamori: <message>' on stderr, got %r" % r.err[:1000])
        msg = lines[-1]
        print("  %s" % msg, flush=True)
        for n in must_name:
            alts = n if isinstance(n, tuple) else (n,)
            check(any(a.lower() in msg.lower() for a in alts),
                  "message %r does not name %s" % (msg, " or ".join(repr(a) for a in alts)))
        check(r.out.strip() == "", "an error wrote a report: %.200r" % r.out)
        return msg

    def same_as_local(self, got, tag, digest):
        want = self.local_scan(tag)
        eq(got["kind"], "image", "kind")
        eq(got["image"]["manifestDigest"], digest, "manifest digest")
        for k in ("configDigest", "os", "architecture", "created", "user"):
            eq(got["image"][k], want["image"][k], "image." + k)
        eq(got["os"], want["os"], "os")
        eq(layers(got), layers(want), "layers")
        eq(inventory(got), inventory(want), "inventory")
        eq(got["summary"]["packages"], want["summary"]["packages"], "package count")

    # ---- TLS + basic auth ----
    def tls_tag_pull(self):
        self.need_client()
        g = self.reg("tls")
        ref = "%s/%s:1.0" % (g.host, APP_REPO)
        doc = self.pull(ref, self.creds(g))
        self.same_as_local(doc, "app", g.app_digest)
        eq(doc["target"], ref, "target")
        eq(reg_findings(doc), [], "transport findings over verified TLS")
        if "reference" in doc["image"]:
            check(doc["image"]["reference"].startswith(g.host + "/" + APP_REPO),
                  "reference %r" % doc["image"]["reference"])

    def tls_digest_pull_env_credentials(self):
        self.need_client()
        g = self.reg("tls")
        ref = "%s/%s@%s" % (g.host, APP_REPO, g.app_digest)
        doc = self.pull(ref, ["--ca-file", g.ca_file],
                        env={"MAMORI_USERNAME": g.username, "MAMORI_PASSWORD": g.password})
        self.same_as_local(doc, "app", g.app_digest)
        ref = "%s/mamori/base@%s" % (g.host, g.base_digest)
        doc = self.pull(ref, self.creds(g))
        self.same_as_local(doc, "base", g.base_digest)

    def tls_docker_config_credentials(self):
        self.need_client()
        g = self.reg("tls")
        cfg = os.path.join(self.work, "docker-config.json")
        auth = base64.b64encode(("%s:%s" % (g.username, g.password)).encode()).decode()
        with open(cfg, "w") as f:
            json.dump({"auths": {g.host: {"auth": auth}}}, f)
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO),
                        ["--ca-file", g.ca_file, "--registry-config", cfg])
        self.same_as_local(doc, "app", g.app_digest)

    def tls_wrong_credentials(self):
        self.need_client()
        g = self.reg("tls")
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--username", g.username, "--password", "not-" + g.password,
                           "--no-store"],
                          [g.host, ("401", "auth", "credential", "unauthorized")])

    def tls_no_credentials(self):
        self.need_client()
        g = self.reg("tls")
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--no-store"],
                          [g.host, ("401", "auth", "credential", "unauthorized")])

    def tls_without_ca_file(self):
        self.need_client()
        g = self.reg("tls")
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--username", g.username,
                           "--password", g.password, "--no-store"],
                          [g.host, ("certificate", "tls", "ssl", "verify")])

    def tls_unverified_reported(self):
        # --insecure-registry on a TLS host without its CA: allowed, and
        # the unverified connection is a finding of its own
        self.need_client()
        g = self.reg("tls")
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO), ["--insecure-registry", g.host,
                                                          "--username", g.username,
                                                          "--password", g.password])
        self.same_as_local(doc, "app", g.app_digest)
        fs = reg_findings(doc)
        eq([f["id"] for f in fs], ["MM-REG-002"], "transport findings")
        eq(fs[0]["section"], "3.2.1", "MM-REG-002 section")
        check(g.host in json.dumps(fs[0]), "MM-REG-002 does not name %s: %r" % (g.host, fs[0]))

    # ---- plain HTTP ----
    def plain_refused(self):
        self.need_client()
        g = self.reg("plain")
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--no-store"],
                          [g.host, ("insecure-registry", "http", "tls", "ssl")])

    def plain_allowed_reported(self):
        self.need_client()
        g = self.reg("plain")
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO), ["--insecure-registry", g.host])
        self.same_as_local(doc, "app", g.app_digest)
        fs = reg_findings(doc)
        eq([f["id"] for f in fs], ["MM-REG-001"], "transport findings")
        eq(fs[0]["section"], "3.2.1", "MM-REG-001 section")
        check(g.host in json.dumps(fs[0]), "MM-REG-001 does not name %s: %r" % (g.host, fs[0]))
        # the only finding: the inventory scanner finds nothing else
        eq(len(doc["findings"]), 1, "findings")

    # ---- token auth ----
    def token_pull(self):
        self.need_client()
        g = self.reg("token")
        before = len(g.token.issued)
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO), self.creds(g))
        self.same_as_local(doc, "app", g.app_digest)
        got = g.token.issued[before:]
        check(got, "no token was asked for")
        check(all(a == g.username for a, _ in got), "tokens: %r" % got)
        check(any("repository:%s:pull" % APP_REPO in s for _, s in got),
              "no token for repository:%s:pull: %r" % (APP_REPO, got))
        eq(reg_findings(doc), [], "transport findings")

    def token_wrong_credentials(self):
        self.need_client()
        g = self.reg("token")
        refused = g.token.refused
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--username", g.username, "--password", "nope", "--no-store"],
                          [("401", "auth", "credential", "unauthorized", "token")])
        check(g.token.refused > refused, "the token server refused nothing")

    # ---- multi-platform index ----
    def need_multi(self):
        self.need_client()
        g = self.reg("plain")
        if self.multi is None:
            self.multi = regkit.multi_arch_layout(os.path.join(self.work, "multi"))
            d = g.push("oci:%s:multi" % os.path.join(self.work, "multi"), "mamori/multi:1",
                       all=True)
            eq(d, self.multi["index"], "index digest pushed")
        return g

    def index_pull(self, platform, arch):
        g = self.need_multi()
        extra = ["--platform", platform] if platform else []
        doc = self.pull("%s/mamori/multi:1" % g.host, ["--insecure-registry", g.host], extra)
        eq(doc["image"]["manifestDigest"], self.multi[arch], "manifest picked")
        eq(doc["image"]["architecture"], arch, "architecture")
        eq(doc["image"]["os"], "linux", "os")
        if "indexDigest" in doc["image"]:
            eq(doc["image"]["indexDigest"], self.multi["index"], "indexDigest")
        want = self.local_scan("app")
        eq(layers(doc), layers(want), "layers")
        eq(inventory(doc), inventory(want), "inventory")

    def index_arm64(self):
        self.index_pull("linux/arm64", "arm64")

    def index_amd64(self):
        self.index_pull("linux/amd64", "amd64")

    def index_default_platform(self):
        self.index_pull(None, "amd64")

    def index_missing_platform(self):
        g = self.need_multi()
        self.expect_error(["image", "%s/mamori/multi:1" % g.host, "--insecure-registry", g.host,
                           "--platform", "linux/s390x", "--no-store"], ["linux/s390x"])

    # ---- a tampered blob ----
    def tampered(self, how, must_name):
        self.need_client()
        with regkit.Registry("plain", root=self.work) as g:
            d = g.push("oci:%s:app" % self.lay, APP_REPO + ":1.0")
            _, man = regkit.layout_manifest(self.lay, "app")
            bad = man["layers"][1]["digest"]
            g.tamper_blob(bad, how)
            cache = os.path.join(self.work, "tamper-cache-" + how)
            self.expect_error(["image", "%s/%s@%s" % (g.host, APP_REPO, d), "--insecure-registry",
                               g.host, "--blob-cache", cache, "--no-store"],
                              [bad[7:19]] + must_name)
            kept = [os.path.join(dp, n) for dp, _, ns in os.walk(cache) for n in ns
                    if bad[7:] in n or bad[7:] in dp]
            eq(kept, [], "tampered blob kept in the blob cache")
            # the untouched layer was verified and may be kept; pulled
            # again, the tampered one still fails (nothing poisoned)
            self.expect_error(["image", "%s/%s@%s" % (g.host, APP_REPO, d), "--insecure-registry",
                               g.host, "--blob-cache", cache, "--no-store"], [bad[7:19]])

    def tampered_blob_valid_gzip(self):
        # a valid gzip'd tar of the same size: only the digest can tell
        self.tampered("gzip", [("digest",), ("mismatch", "does not match", "expected")])

    def tampered_blob_flipped(self):
        # bytes flipped: gzip (or the tar reader) breaks before the digest
        # is complete; the rest of the blob is read and the digest decides
        self.tampered("flip", ["digest mismatch"])

    # ---- retries ----
    def front(self, **kw):
        f = regkit.FlakyFront(self.reg("plain"), **kw)
        self.fronts.append(f)
        return f

    def retry_429_503(self):
        self.need_client()
        g = self.reg("plain")
        _, man = regkit.layout_manifest(self.lay, "app")
        l0 = man["layers"][0]["digest"]
        f = self.front(plan={r"/manifests/": [429], "/blobs/" + l0: [503, 503]}, retry_after="1")
        t0 = time.monotonic()
        doc = self.pull("%s/%s:1.0" % (f.host, APP_REPO),
                        ["--insecure-registry", f.host, "--no-blob-cache"])
        self.same_as_local(doc, "app", g.app_digest)
        log = list(f.log)
        m = [e for e in log if "/manifests/" in e[1]]
        check(m and m[0][2] == 429, "the first manifest request was not answered 429: %r" % m)
        check(len(m) >= 2, "the manifest was not asked again after 429: %r" % m)
        check(m[1][3] - m[0][3] >= 0.9, "Retry-After: 1 not honoured (asked again %.2fs later)"
              % (m[1][3] - m[0][3]))
        b = [e[2] for e in log if l0 in e[1]]
        eq(b[:3], [503, 503, 200], "answers to requests for %s" % l0[:19])
        print("  %d requests, %.1fs" % (len(log), time.monotonic() - t0), flush=True)

    def retry_gives_up(self):
        self.need_client()
        g = self.reg("plain")
        _, man = regkit.layout_manifest(self.lay, "app")
        l1 = man["layers"][1]["digest"]
        f = self.front(always={"/blobs/" + l1: 503})
        t0 = time.monotonic()
        self.expect_error(["image", "%s/%s:1.0" % (f.host, APP_REPO), "--insecure-registry",
                           f.host, "--no-blob-cache", "--no-store"],
                          [f.host, ("503", "unavailable")])
        n = f.count("GET", l1)
        check(2 <= n <= 10, "%d GETs of the failing blob (want a bounded retry)" % n)
        check(time.monotonic() - t0 < 180, "giving up took %.0fs" % (time.monotonic() - t0))
        print("  %d tries in %.1fs" % (n, time.monotonic() - t0), flush=True)

    # ---- blob cache ----
    def blob_cache(self):
        self.need_client()
        g = self.reg("plain")
        f = self.front()
        cache = os.path.join(self.work, "blob-cache")
        opts = ["--insecure-registry", f.host, "--blob-cache", cache]
        _, man = regkit.layout_manifest(self.lay, "app")
        lay_rx = "/blobs/(%s)" % "|".join(l["digest"] for l in man["layers"])
        doc = self.pull("%s/%s:1.0" % (f.host, APP_REPO), opts)
        self.same_as_local(doc, "app", g.app_digest)
        eq(f.count("GET", lay_rx), len(man["layers"]), "layer GETs of the first pull")
        n0 = len(f.log)
        doc = self.pull("%s/%s:1.0" % (f.host, APP_REPO), opts)
        self.same_as_local(doc, "app", g.app_digest)
        eq(f.count("GET", lay_rx), len(man["layers"]), "layer GETs after the second pull")
        print("  second pull: %d requests: %s" % (len(f.log) - n0, sorted(set(
            "%s %s" % (e[0], e[1].split("/")[-2]) for e in f.log[n0:]))), flush=True)
        # another image sharing the base layer: nothing to fetch either
        doc = self.pull("%s/mamori/base:1.0" % f.host, opts)
        self.same_as_local(doc, "base", g.base_digest)
        eq(f.count("GET", lay_rx), len(man["layers"]), "layer GETs after pulling base")
        # and without the cache every layer is fetched again
        doc = self.pull("%s/%s:1.0" % (f.host, APP_REPO), ["--insecure-registry", f.host,
                                                          "--no-blob-cache"])
        eq(f.count("GET", lay_rx), 2 * len(man["layers"]), "layer GETs with --no-blob-cache")

    # ---- signatures ----
    def key(self, name, kind="ec"):
        """(private PEM PKCS#8, public PEM) made with openssl."""
        if name not in self.keys:
            priv = os.path.join(self.work, name + ".key")
            pub = os.path.join(self.work, name + ".pub")
            gen = {"ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                   "ed25519": ["-algorithm", "ED25519"],
                   "rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"]}[kind]
            openssl("genpkey", *gen, "-out", priv)
            openssl("pkey", "-in", priv, "-pubout", "-out", pub)
            self.keys[name] = (priv, pub)
        return self.keys[name]

    def need_signing(self):
        self.need_client()
        self.need_cmd("sign", "verify")
        g = self.reg("tls")
        if not getattr(g, "signed", False):
            g.push("oci:%s:app" % self.lay, "mamori/signed:1.0")
            g.push("oci:%s:app" % self.lay, "mamori/signed:latest")
            priv, _ = self.key("signer")
            r = self.r.run(["sign", "--key", priv, "%s/mamori/signed:1.0" % g.host] + self.creds(g))
            eq(r.rc, 0, "mamori sign exit status (%s)" % r.describe())
            g.signed = True
        return g

    def verify(self, g, ref, pub, want_rc):
        r = self.r.run(["verify", "--key", pub, "%s/%s" % (g.host, ref)] + self.creds(g))
        if r.rc != want_rc:
            raise Fail("mamori verify %s: want exit %d, got %s stdout=%.300r"
                       % (ref, want_rc, r.describe(), r.out))
        return r

    def sig_manifest(self, g, repo, digest):
        tag = "sha256-%s.sig" % digest[7:]
        body, _, _ = g.manifest(repo, tag)
        return tag, json.loads(body)

    def sign_verify(self):
        g = self.need_signing()
        _, pub = self.key("signer")
        self.verify(g, "mamori/signed:1.0", pub, 0)
        self.verify(g, "mamori/signed@" + g.app_digest, pub, 0)
        # what mamori pushed is cosign's format, checked here with openssl
        _, m = self.sig_manifest(g, "mamori/signed", g.app_digest)
        eq(len(m["layers"]), 1, "signature layers")
        lyr = m["layers"][0]
        eq(lyr["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json", "layer type")
        st, _, payload = g.request("GET", "/v2/mamori/signed/blobs/" + lyr["digest"])
        eq(st, 200, "payload GET")
        p = json.loads(payload)
        eq(p["critical"]["image"]["docker-manifest-digest"], g.app_digest, "payload digest")
        eq(p["critical"]["identity"]["docker-reference"], g.host + "/mamori/signed",
           "payload docker-reference")
        eq(p["critical"]["type"], "cosign container image signature", "payload type")
        sig = base64.b64decode(lyr["annotations"]["dev.cosignproject.cosign/signature"])
        pf = os.path.join(self.work, "payload")
        sf = os.path.join(self.work, "payload.sig")
        with open(pf, "wb") as f:
            f.write(payload)
        with open(sf, "wb") as f:
            f.write(sig)
        out = openssl("dgst", "-sha256", "-verify", pub, "-signature", sf, pf)
        check(b"Verified OK" in out, "openssl does not verify mamori's signature: %r" % out)

    def verify_other_key(self):
        g = self.need_signing()
        _, other = self.key("other")
        self.verify(g, "mamori/signed:1.0", other, 1)

    def verify_unsigned(self):
        g = self.need_signing()
        _, pub = self.key("signer")
        self.verify(g, "mamori/base:1.0", pub, 1)

    def hand_sign(self, g, repo, key, kind, reference=None, digest=None, corrupt=False):
        """Pushes the app image to repo and a cosign signature made here
        with openssl (payload naming reference/digest)."""
        d = g.push("oci:%s:app" % self.lay, repo + ":1.0")
        payload = json.dumps({"critical": {
            "identity": {"docker-reference": reference or "%s/%s" % (g.host, repo)},
            "image": {"docker-manifest-digest": digest or d},
            "type": "cosign container image signature"}, "optional": None},
            separators=(",", ":")).encode()
        pf = os.path.join(self.work, repo.replace("/", "_") + ".payload")
        with open(pf, "wb") as f:
            f.write(payload)
        if kind == "ed25519":
            sig = openssl("pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", pf)
        elif kind == "rsa-pss":
            sig = openssl("dgst", "-sha256", "-sign", key, "-sigopt", "rsa_padding_mode:pss",
                          "-sigopt", "rsa_pss_saltlen:32", pf)
        else:
            sig = openssl("dgst", "-sha256", "-sign", key, pf)
        if corrupt:
            sig = sig[:-4] + bytes(b ^ 0x5A for b in sig[-4:])
        pd = g.put_blob(repo, payload)
        cfg = b"{}"
        cd = g.put_blob(repo, cfg)
        man = {"schemaVersion": 2, "mediaType": regkit.OCI_MANIFEST,
               "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                          "digest": cd, "size": len(cfg)},
               "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                           "digest": pd, "size": len(payload),
                           "annotations": {"dev.cosignproject.cosign/signature":
                                           base64.b64encode(sig).decode()}}]}
        g.put_manifest(repo, "sha256-%s.sig" % d[7:], json.dumps(man).encode())
        return d

    def verify_tampered_signature(self):
        g = self.need_signing()
        priv, pub = self.key("signer")
        self.hand_sign(g, "mamori/tampered", priv, "ec")
        self.verify(g, "mamori/tampered:1.0", pub, 0)      # the control
        self.hand_sign(g, "mamori/tampered", priv, "ec", corrupt=True)
        self.verify(g, "mamori/tampered:1.0", pub, 1)

    def verify_wrong_reference(self):
        g = self.need_signing()
        priv, pub = self.key("signer")
        self.hand_sign(g, "mamori/wrongref", priv, "ec", reference=g.host + "/mamori/elsewhere")
        self.verify(g, "mamori/wrongref:1.0", pub, 1)

    def verify_wrong_digest(self):
        g = self.need_signing()
        priv, pub = self.key("signer")
        self.hand_sign(g, "mamori/wrongdigest", priv, "ec", digest=g.base_digest)
        self.verify(g, "mamori/wrongdigest:1.0", pub, 1)

    def verify_openssl_signatures(self):
        g = self.need_signing()
        for kind, keykind in (("ec", "ec"), ("ed25519", "ed25519"), ("rsa", "rsa"),
                              ("rsa-pss", "rsa")):
            priv, pub = self.key("hand-" + keykind, keykind)
            repo = "mamori/hand-" + kind
            self.hand_sign(g, repo, priv, kind)
            self.verify(g, repo + ":1.0", pub, 0)
            _, other = self.key("other")
            self.verify(g, repo + ":1.0", other, 1)

    # ---- the policy gate ----
    def vuln_db(self):
        """A Debian tracker feed made from the app image's packages: one
        HIGH vulnerability fixed above the installed version."""
        if self.db is None:
            inv = self.local_scan("app")
            dpkg = sorted((p for p in inv["packages"] if p["type"] == "dpkg"),
                          key=lambda p: p["name"])
            p = next(p for p in dpkg if p["name"] == "bash") if any(
                p["name"] == "bash" for p in dpkg) else dpkg[0]
            src = p.get("srcName") or p["name"]
            ver = p.get("srcVersion") or p["version"]
            feed = {src: {"CVE-2099-7001": {"description": "regtest: fixed above the installed",
                                            "releases": {"bookworm": {
                                                "status": "resolved", "urgency": "high",
                                                "fixed_version": ver + "+deb12u99"}}}}}
            fx = os.path.join(self.work, "tracker.json")
            with open(fx, "w") as f:
                json.dump(feed, f)
            db = os.path.join(self.work, "vuln.db")
            r = self.r.run(["db", "import", "--db-path", db, "-q", fx])
            eq(r.rc, 0, "db import (%s)" % r.describe())
            self.db = db
        return self.db

    def need_policy(self):
        g = self.need_signing()
        self.need_cmd("policy check")
        db = self.vuln_db()
        for ref in ("mamori/signed:1.0", "mamori/signed:latest", "mamori/app:1.0"):
            if ref not in self.scanned:
                r = self.r.run(["image", "%s/%s" % (g.host, ref), "--db-path", db,
                                "--scanners", "vuln,secret", "--format", "json", "-q",
                                "-o", os.devnull] + self.creds(g))
                eq(r.rc, 0, "scan of %s (%s)" % (ref, r.describe()))
                self.scanned.add(ref)
        return g

    def policy(self, g, name, allow=None, max_sev="HIGH", deny_latest=True):
        _, pub = self.key("signer")
        text = ["version: 1",
                "registries:", "  allow: [\"%s\"]" % (allow or g.host),
                "signatures:", "  keys: [\"%s\"]" % pub,
                "deny_latest: %s" % ("true" if deny_latest else "false"),
                "vulnerabilities:", "  max_severity: %s" % max_sev]
        p = os.path.join(self.work, name + ".yaml")
        with open(p, "w") as f:
            f.write("\n".join(text) + "\n")
        return p

    def decide(self, g, pol, ref, want_allow, want_deny_rules, must_say=()):
        r = self.r.run(["policy", "check", "--policy", pol, "--format", "json",
                        "%s/%s" % (g.host, ref)] + self.creds(g))
        eq(r.rc, 0 if want_allow else 1, "exit status (%s)" % r.describe())
        d = r.json
        eq(d["allow"], want_allow, "allow")
        eq(d["decision"], "allow" if want_allow else "deny", "decision")
        denied = sorted({x["rule"] for x in d["reasons"] if x["deny"]})
        eq(denied, sorted(want_deny_rules), "denying rules")
        text = " | ".join(x["message"] for x in d["reasons"] if x["deny"])
        for s in must_say:
            check(s.lower() in text.lower(), "reasons %r do not say %r" % (text, s))
        for x in d["reasons"]:
            print("  %s %s: %s" % ("DENY" if x["deny"] else "pass", x["rule"], x["message"]),
                  flush=True)
        return d

    def policy_allow(self):
        g = self.need_policy()
        d = self.decide(g, self.policy(g, "allow"), "mamori/signed:1.0", True, [])
        eq(d["digest"], g.app_digest, "decision digest")

    def policy_never_scanned(self):
        g = self.need_policy()
        priv, _ = self.key("signer")
        # the base image under a name of its own, signed but never scanned
        # (no case stores a scan of base)
        g.push("oci:%s:base" % self.lay, "mamori/unscanned:1.0")
        r = self.r.run(["sign", "--key", priv, "%s/mamori/unscanned:1.0" % g.host] +
                       self.creds(g))
        eq(r.rc, 0, "sign (%s)" % r.describe())
        self.decide(g, self.policy(g, "allow"), "mamori/unscanned:1.0", False, ["scan"],
                    ["never scanned"])

    def policy_unsigned(self):
        g = self.need_policy()
        self.decide(g, self.policy(g, "allow"), "mamori/app:1.0", False, ["signatures.keys"],
                    ["no valid signature"])

    def policy_latest(self):
        g = self.need_policy()
        self.decide(g, self.policy(g, "allow"), "mamori/signed:latest", False, ["deny_latest"],
                    ["latest"])
        self.decide(g, self.policy(g, "latest-ok", deny_latest=False), "mamori/signed:latest",
                    True, [])

    def policy_registry_not_allowed(self):
        g = self.need_policy()
        self.decide(g, self.policy(g, "elsewhere", allow="registry.example.com"),
                    "mamori/signed:1.0", False, ["registries.allow"], [g.host])

    def policy_severity(self):
        g = self.need_policy()
        self.decide(g, self.policy(g, "medium", max_sev="MEDIUM"), "mamori/signed:1.0", False,
                    ["vulnerabilities.max_severity"], ["CVE-2099-7001"])

    # ---- credential helpers and identity tokens ----
    def helper(self, script, cfg_doc):
        """A docker-credential-mmtest holding script (sh; it logs "ARGS|URL"
        to LOG) in a fresh folder first on PATH, and a config file: (env,
        config path, log path)."""
        d = tempfile.mkdtemp(prefix="helper-", dir=self.work)
        log = os.path.join(d, "calls.log")
        path = os.path.join(d, "docker-credential-mmtest")
        with open(path, "w") as f:
            f.write("#!/bin/sh\nread -r url\nprintf '%%s|%%s\\n' \"$*\" \"$url\" >> '%s'\n"
                    % log + script)
        os.chmod(path, 0o755)
        cfg = os.path.join(d, "config.json")
        with open(cfg, "w") as f:
            json.dump(cfg_doc, f)
        env = {"PATH": d + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin")}
        return env, cfg, log

    @staticmethod
    def calls(log):
        try:
            with open(log) as f:
                return [l.rstrip("\n") for l in f]
        except OSError:
            return []

    @staticmethod
    def answer(user, secret):
        return ("printf '%%s' '%s'\n" %
                json.dumps({"ServerURL": "x", "Username": user, "Secret": secret}))

    def helper_credentials(self):
        self.need_client()
        g = self.reg("tls")
        # answers only for this registry, as a keychain would
        script = ('if [ "$url" = "%s" ]; then\n%s exit 0\nfi\n'
                  'echo "credentials not found in native keychain"; exit 1\n'
                  % (g.host, self.answer(g.username, g.password)))
        env, cfg, log = self.helper(script, {"credHelpers": {g.host: "mmtest"}})
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO),
                        ["--ca-file", g.ca_file, "--registry-config", cfg], env=env)
        self.same_as_local(doc, "app", g.app_digest)
        got = self.calls(log)
        check(got, "the helper was never run")
        eq(set(got), {"get|" + g.host}, "helper calls")
        # DOCKER_CONFIG finds it too, credsStore as the default helper
        d = os.path.dirname(cfg)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({"credsStore": "mmtest"}, f)
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO), ["--ca-file", g.ca_file],
                        env=dict(env, DOCKER_CONFIG=d))
        self.same_as_local(doc, "app", g.app_digest)

    def helper_beats_auths(self):
        self.need_client()
        g = self.reg("tls")
        bad = base64.b64encode(("%s:not-%s" % (g.username, g.password)).encode()).decode()
        for key in ("credHelpers", "credsStore"):
            doc_cfg = {"auths": {g.host: {"auth": bad}}}
            doc_cfg[key] = {g.host: "mmtest"} if key == "credHelpers" else "mmtest"
            env, cfg, log = self.helper(self.answer(g.username, g.password), doc_cfg)
            doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO),
                            ["--ca-file", g.ca_file, "--registry-config", cfg], env=env)
            self.same_as_local(doc, "app", g.app_digest)
            check(self.calls(log), "%s: the helper was never run" % key)
        # the control: the auths entry alone is refused
        env, cfg, log = self.helper(self.answer(g.username, g.password),
                                    {"auths": {g.host: {"auth": bad}}})
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          [g.host, ("401", "refused")], env=env)
        eq(self.calls(log), [], "helper calls without a helper configured")

    def helper_not_found(self):
        self.need_client()
        g = self.reg("tls")
        env, cfg, log = self.helper(
            'echo "credentials not found in native keychain"; exit 1\n',
            {"credHelpers": {g.host: "mmtest"},
             "auths": {g.host: {"auth": base64.b64encode(
                 ("%s:%s" % (g.username, g.password)).encode()).decode()}}})
        # no fallback to auths (docker's rule): anonymous, refused
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          [g.host, ("401", "requires authentication")], env=env)
        check(self.calls(log), "the helper was never run")

    def helper_error(self):
        self.need_client()
        g = self.reg("tls")
        env, cfg, _ = self.helper('echo "keychain locked: mmtest-boom-42" >&2; exit 3\n',
                                  {"credHelpers": {g.host: "mmtest"}})
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          ["mmtest-boom-42", "docker-credential-mmtest", "exit status 3",
                           "credHelpers"], env=env)
        env, cfg, _ = self.helper('echo "not json at all"\n', {"credsStore": "mmtest"})
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          ["docker-credential-mmtest", "json"], env=env)

    def helper_hangs(self):
        self.need_client()
        g = self.reg("tls")
        env, cfg, log = self.helper("sleep 60\n", {"credHelpers": {g.host: "mmtest"}})
        env["MAMORI_CREDHELPER_TIMEOUT"] = "1.5"
        t0 = time.time()
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          ["docker-credential-mmtest", "1.5 s", "MAMORI_CREDHELPER_TIMEOUT"],
                          env=env)
        took = time.time() - t0
        check(took < 30, "a hanging helper held mamori for %.1f s" % took)
        check(self.calls(log), "the helper was never run")

    def helper_bad_name(self):
        self.need_client()
        g = self.reg("tls")
        env, cfg, log = self.helper(self.answer(g.username, g.password),
                                    {"credHelpers": {g.host: "../mmtest"}})
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          [cfg, "credHelpers", "../mmtest"], env=env)
        eq(self.calls(log), [], "helper calls")

    def token_identity(self, cfg_doc, script, refresh):
        g = self.reg("token")
        g.token.refresh_tokens[refresh] = g.username
        env, cfg, log = self.helper(script, cfg_doc(g))
        return g, env, cfg, log

    def token_identity_helper(self):
        self.need_client()
        g, env, cfg, log = self.token_identity(
            lambda g: {"credHelpers": {g.host: "mmtest"}},
            self.answer("<token>", "rt-helper-7"), "rt-helper-7")
        before, issued = len(g.token.refreshed), len(g.token.issued)
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO),
                        ["--ca-file", g.ca_file, "--registry-config", cfg], env=env)
        self.same_as_local(doc, "app", g.app_digest)
        got = g.token.refreshed[before:]
        check(got, "no token was asked for by refresh token")
        check(all(a == g.username and c == "mamori" for a, _, c in got), "tokens: %r" % got)
        check(any("repository:%s:pull" % APP_REPO in s for _, s, _ in got),
              "no token for repository:%s:pull: %r" % (APP_REPO, got))
        eq(g.token.issued[issued:], [], "tokens fetched with basic credentials")
        check(self.calls(log), "the helper was never run")

    def token_identity_auths(self):
        self.need_client()
        g, env, cfg, _ = self.token_identity(
            lambda g: {"auths": {g.host: {"identitytoken": "rt-auths-9"}}}, "exit 1\n",
            "rt-auths-9")
        before = len(g.token.refreshed)
        doc = self.pull("%s/%s:1.0" % (g.host, APP_REPO),
                        ["--ca-file", g.ca_file, "--registry-config", cfg], env=env)
        self.same_as_local(doc, "app", g.app_digest)
        check(len(g.token.refreshed) > before, "no token was asked for by refresh token")

    def token_identity_wrong(self):
        self.need_client()
        g, env, cfg, _ = self.token_identity(
            lambda g: {"credHelpers": {g.host: "mmtest"}},
            self.answer("<token>", "rt-stale"), "rt-other")
        refused = g.token.refused
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          ["identity token", "invalid_grant", ("400", "refused")], env=env)
        check(g.token.refused > refused, "the token server refused nothing")
        check(g.token.posts and g.token.posts[-1].get("refresh_token") == "rt-stale",
              "the refresh token was not posted: %r" % g.token.posts[-1:])

    def identity_token_basic(self):
        self.need_client()
        g = self.reg("tls")
        env, cfg, _ = self.helper(self.answer("<token>", "rt-x"),
                                  {"credHelpers": {g.host: "mmtest"}})
        self.expect_error(["image", "%s/%s:1.0" % (g.host, APP_REPO), "--ca-file", g.ca_file,
                           "--registry-config", cfg, "--no-store"],
                          [g.host, "identity token", "token server"], env=env)


def main():
    s = Suite()
    want = sys.argv[1:] or CASES
    miss = regkit.missing_tools(regkit.REGISTRY_BIN, "skopeo", "umoci", "openssl", "htpasswd")
    if miss:
        s.skip_all(want, "not installed: " + ", ".join(miss))
        s.finish()
    try:
        t = T()
    except (regkit.KitError, Skip) as e:
        s.skip_all(want, str(e))
        s.finish()
    try:
        for name in want:
            s.case(name, getattr(t, name.replace("-", "_")))
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
