"""regkit - real container registries for mamori's integration tests.

Starts Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with its
storage in a temporary folder, in three variants:

  plain  plain HTTP, anonymous;
  tls    HTTPS with a certificate for 127.0.0.1 (IP SAN) issued by a CA made
         here with the openssl CLI, and htpasswd (bcrypt) basic auth;
  token  HTTPS and `auth: token`: a small token server (TokenServer, HTTPS,
         a thread of this process) checks basic credentials and issues RS256
         JWTs signed with the openssl CLI, whose header carries the signing
         certificate in `x5c` - the registry checks that certificate against
         its `rootcertbundle`, then the signature, issuer, audience (the
         service), times and the `access` claim.

FlakyFront is an HTTP front for a plain registry that answers 429 (with
Retry-After) or 5xx a planned number of times before proxying, and logs
every request - to prove retries, and to count blob GETs for the blob
cache.  Images are pushed with `skopeo copy`; multi_arch_layout() makes a
two-platform OCI index from umoci-built manifests; tamper_blob() rewrites a
blob's bytes inside the registry's storage.

Standard library only, plus the openssl, htpasswd, skopeo and umoci
programs.  Other tests import this (see test_registry.py for use).
"""

import base64
import hashlib
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse

REGISTRY_BIN = os.environ.get("MAMORI_DOCKER_REGISTRY", "/usr/bin/docker-registry")
FIXTURES = os.environ.get("MAMORI_TEST_IMAGES", "/var/cache/mamori-test")
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join([OCI_MANIFEST, OCI_INDEX,
                    "application/vnd.docker.distribution.manifest.v2+json",
                    "application/vnd.docker.distribution.manifest.list.v2+json"])


class KitError(Exception):
    """A registry or tool could not be set up (the caller skips or fails)."""


def missing_tools(*names):
    """The programs among names that are not installed."""
    return [n for n in names
            if not (os.path.isabs(n) and os.access(n, os.X_OK)) and shutil.which(n) is None]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _die_with_parent():
    # the registry must not outlive a test that was killed: ask the kernel
    # for SIGTERM when our process dies (prctl PR_SET_PDEATHSIG; it fires
    # when the starting thread ends, so start registries from the thread
    # that outlives them, normally the main one)
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def run(cmd, input=None, timeout=300):
    p = subprocess.run(cmd, input=input, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    if p.returncode != 0:
        raise KitError("%s: exit %d: %s" % (" ".join(cmd), p.returncode,
                                            p.stderr.decode("utf-8", "replace")[-2000:]))
    return p.stdout


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# ---- certificates (openssl CLI) ---------------------------------------------

class Certs:
    """A test CA in dir (ca.crt, ca.key) and the certificates it issues.
    EC P-256 keys: quick to make."""

    def __init__(self, dir):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.ca_crt = os.path.join(dir, "ca.crt")
        self.ca_key = os.path.join(dir, "ca.key")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout", self.ca_key,
             "-out", self.ca_crt, "-days", "3", "-subj", "/CN=mamori test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])

    def server(self, name, ip="127.0.0.1"):
        """A server certificate for ip (IP SAN) and localhost: (crt, key)."""
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        crt = os.path.join(self.dir, name + ".crt")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:%s,DNS:localhost\n"
                    "extendedKeyUsage=serverAuth\n"
                    "basicConstraints=CA:FALSE\n" % ip)
        run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=" + ip])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey",
             self.ca_key, "-CAcreateserial", "-out", crt, "-days", "3",
             "-extfile", ext])
        return crt, key

    def cert_dir(self):
        """A folder holding only ca.crt, as skopeo's --*-cert-dir wants."""
        d = os.path.join(self.dir, "trust")
        if not os.path.isdir(d):
            os.makedirs(d)
            shutil.copy(self.ca_crt, os.path.join(d, "ca.crt"))
        return d


# ---- the token server ---------------------------------------------------------

class TokenServer:
    """An HTTPS token endpoint (Docker token auth spec): GET /token?service=
    &scope=... with basic credentials; answers {"token", "access_token",
    "expires_in", "issued_at"} granting every action asked for, or 401.
    issued lists (account, scopes) of every token given.

    POST /token is the spec's OAuth2 form (grant_type=refresh_token only):
    refresh_tokens maps each identity token a test accepts to its account
    (empty: every POST is refused); the answer is {"access_token",
    "scope", "expires_in"} like distribution's, a refused one 400
    {"error": "invalid_grant"}.  refreshed lists (account, scopes,
    client_id) of every token given that way, posts every form received."""

    def __init__(self, dir, certs, users, service, issuer):
        self.dir = dir
        self.users = dict(users)
        self.service = service
        self.issuer = issuer
        self.issued = []
        self.refused = 0
        self.refresh_tokens = {}
        self.refreshed = []
        self.posts = []
        self.anonymous = False  # True: a GET without credentials is granted too
        # the signing key and its self-signed certificate: the registry's
        # rootcertbundle; the JWT header carries it in x5c
        self.sign_key = os.path.join(dir, "token-sign.key")
        self.sign_crt = os.path.join(dir, "token-sign.crt")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", self.sign_key, "-out", self.sign_crt, "-days", "3",
             "-subj", "/CN=mamori test token issuer"])
        der = run(["openssl", "x509", "-in", self.sign_crt, "-outform", "DER"])
        self.x5c = base64.b64encode(der).decode()
        crt, key = certs.server("token")
        self.port = free_port()
        kit = self

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                kit._handle(self)

            def do_POST(self):
                kit._handle_post(self)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.realm = "https://127.0.0.1:%d/token" % self.port

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def jwt(self, account, access, ttl=300):
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": account, "aud": self.service,
                  "exp": now + ttl, "nbf": now - 10, "iat": now,
                  "jti": base64.b16encode(os.urandom(8)).decode(), "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode()))
        sig = run(["openssl", "dgst", "-sha256", "-sign", self.sign_key],
                  input=signing_input.encode())
        return signing_input + "." + b64url(sig)

    @staticmethod
    def parse_scope(scope):
        # "repository:team/app:pull,push" (the name may hold ':' for a port
        # in other registries' scopes: type first, actions last)
        typ, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        return {"type": typ, "name": name,
                "actions": [a for a in actions.split(",") if a]}

    @staticmethod
    def _answer(h, status, doc):
        body = json.dumps(doc).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle_post(self, h):
        try:
            n = int(h.headers.get("Content-Length", "0"))
        except ValueError:
            n = 0
        raw = h.rfile.read(min(max(n, 0), 1 << 16)).decode("utf-8", "replace")
        form = urllib.parse.parse_qs(raw, keep_blank_values=True)
        one = lambda k: form.get(k, [""])[0]                       # noqa: E731
        self.posts.append({k: v[0] for k, v in form.items()})
        ctype = h.headers.get("Content-Type", "")
        account = self.refresh_tokens.get(one("refresh_token"))
        if (urllib.parse.urlsplit(h.path).path != "/token" or
                not ctype.startswith("application/x-www-form-urlencoded") or
                one("grant_type") != "refresh_token" or not one("client_id") or
                one("service") != self.service or account is None):
            self.refused += 1
            self._answer(h, 400, {"error": "invalid_grant",
                                  "error_description": "unknown refresh token"})
            return
        scopes = [s for s in one("scope").split(" ") if s]
        tok = self.jwt(account, [self.parse_scope(s) for s in scopes])
        self.refreshed.append((account, scopes, one("client_id")))
        self._answer(h, 200, {"access_token": tok, "scope": " ".join(scopes),
                              "expires_in": 300})

    def _handle(self, h):
        u = urllib.parse.urlsplit(h.path)
        q = urllib.parse.parse_qs(u.query)
        account = None
        auth = h.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                user, pw = "", None
            if self.users.get(user) == pw:
                account = user
        elif not auth and self.anonymous:
            account = ""
        if u.path != "/token" or account is None or q.get("service", [""])[0] != self.service:
            self.refused += 1
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
            h.send_response(401)
            h.send_header("Content-Type", "application/json")
            h.send_header("WWW-Authenticate", 'Basic realm="mamori-test-token"')
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        scopes = []
        for s in q.get("scope", []):
            scopes.extend(s.split(" "))
        access = [self.parse_scope(s) for s in scopes if s]
        tok = self.jwt(account, access)
        self.issued.append((account, scopes))
        body = json.dumps({"token": tok, "access_token": tok, "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime())}).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)


# ---- the registry ---------------------------------------------------------------

class Registry:
    """docker-registry serving from a temporary folder.  mode: "plain",
    "tls" or "token".  users: {name: password} for tls and token (default
    one user, alice).  Use as a context manager or call start()/stop()."""

    SERVICE = "mamori-test-registry"
    ISSUER = "mamori-test-issuer"

    def __init__(self, mode="plain", users=None, root=None):
        if mode not in ("plain", "tls", "token"):
            raise ValueError(mode)
        self.mode = mode
        self.users = users if users is not None else {"alice": "wonderland-7"}
        self.username, self.password = next(iter(self.users.items())) if self.users else (None, None)
        self.root = tempfile.mkdtemp(prefix="mamori-reg-%s-" % mode, dir=root)
        self.storage = os.path.join(self.root, "storage")
        self.log_path = os.path.join(self.root, "registry.log")
        self.proc = None
        self.certs = None
        self.token = None
        self.port = None
        self.ca_file = None

    # where
    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    @property
    def scheme(self):
        return "http" if self.mode == "plain" else "https"

    @property
    def url(self):
        return "%s://%s" % (self.scheme, self.host)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *a):
        self.stop()

    def start(self):
        miss = missing_tools(REGISTRY_BIN, "openssl", *(["htpasswd"] if self.mode == "tls" else []))
        if miss:
            raise KitError("not installed: " + ", ".join(miss))
        os.makedirs(self.storage)
        conf = ["version: 0.1",
                "log:", "  level: info", "  formatter: text",
                "storage:", "  filesystem:", "    rootdirectory: " + self.storage,
                "  delete:", "    enabled: true",
                "  maintenance:", "    uploadpurging:", "      enabled: false",
                "http:", "  addr: 127.0.0.1:%d", "  secret: mamori-test-secret",
                "  headers:", "    X-Content-Type-Options: [nosniff]"]
        if self.mode != "plain":
            self.certs = Certs(os.path.join(self.root, "certs"))
            self.ca_file = self.certs.ca_crt
            crt, key = self.certs.server("registry")
            conf += ["  tls:", "    certificate: " + crt, "    key: " + key]
        if self.mode == "tls":
            htp = os.path.join(self.root, "htpasswd")
            with open(htp, "wb") as f:
                for u, p in self.users.items():
                    f.write(run(["htpasswd", "-Bbn", u, p]).strip() + b"\n")
            conf += ["auth:", "  htpasswd:", "    realm: mamori-test", "    path: " + htp]
        elif self.mode == "token":
            self.token = TokenServer(self.root, self.certs, self.users,
                                     self.SERVICE, self.ISSUER)
            conf += ["auth:", "  token:", "    realm: " + self.token.realm,
                     "    service: " + self.SERVICE, "    issuer: " + self.ISSUER,
                     "    rootcertbundle: " + self.token.sign_crt]
        conf_text = "\n".join(conf) + "\n"
        # the port is free when chosen, but may be taken before the registry
        # binds it: try a few
        for attempt in range(5):
            self.port = free_port()
            cfg = os.path.join(self.root, "config.yml")
            with open(cfg, "w") as f:
                f.write(conf_text.replace("127.0.0.1:%d", self.host))
            log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([REGISTRY_BIN, "serve", cfg], stdout=log,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL,
                                         preexec_fn=_die_with_parent)
            log.close()
            if self._wait_ready():
                return self
            self.proc.kill()
            self.proc.wait()
            self.proc = None
        self.stop()
        raise KitError("docker-registry did not start; log: %s" % self.log_tail())

    def _wait_ready(self, timeout=20):
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                return False
            try:
                st, _, _ = self.request("GET", "/v2/", auth=False)
                if st in (200, 401):
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.1)
        return False

    def log_tail(self, n=3000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self.token is not None:
            self.token.stop()
            self.token = None
        shutil.rmtree(self.root, ignore_errors=True)

    # ---- HTTP, as a client would ----
    def ssl_context(self):
        if self.mode == "plain":
            return None
        return ssl.create_default_context(cafile=self.ca_file)

    def _conn(self, host=None, port=None):
        if self.mode == "plain":
            return http.client.HTTPConnection(host or "127.0.0.1", port or self.port, timeout=30)
        return http.client.HTTPSConnection(host or "127.0.0.1", port or self.port,
                                           timeout=30, context=self.ssl_context())

    def request(self, method, path, headers=None, body=None, auth=True, scope=None):
        """One request to the registry: (status, headers dict lower-cased,
        body bytes).  With auth, sends the credentials (basic, or a token
        fetched from the token server for scope)."""
        h = dict(headers or {})
        if auth and self.mode == "tls":
            h["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (self.username, self.password)).encode()).decode()
        elif auth and self.mode == "token":
            h["Authorization"] = "Bearer " + self.fetch_token(scope)
        c = self._conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            c.close()

    def fetch_token(self, scope=None, user=None, password=None):
        """A token from the token server, as a client gets it."""
        q = {"service": self.SERVICE}
        if scope:
            q["scope"] = scope
        u = urllib.parse.urlsplit(self.token.realm)
        c = http.client.HTTPSConnection(u.hostname, u.port, timeout=30,
                                        context=self.ssl_context())
        cred = "%s:%s" % (user or self.username, password or self.password)
        try:
            c.request("GET", u.path + "?" + urllib.parse.urlencode(q),
                      headers={"Authorization": "Basic " + base64.b64encode(cred.encode()).decode()})
            r = c.getresponse()
            data = r.read()
        finally:
            c.close()
        if r.status != 200:
            raise KitError("token server: %d %r" % (r.status, data[:200]))
        return json.loads(data)["token"]

    def manifest(self, repo, ref):
        """(body, media type, digest) of a manifest as the registry serves it."""
        st, hd, body = self.request("GET", "/v2/%s/manifests/%s" % (repo, ref),
                                    headers={"Accept": ACCEPT},
                                    scope="repository:%s:pull" % repo)
        if st != 200:
            raise KitError("GET manifest %s:%s: %d %r" % (repo, ref, st, body[:300]))
        return body, hd.get("content-type"), "sha256:" + hashlib.sha256(body).hexdigest()

    def put_blob(self, repo, data):
        """Uploads data as a blob (monolithic POST then PUT); its digest."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        scope = "repository:%s:pull,push" % repo
        st, hd, body = self.request("POST", "/v2/%s/blobs/uploads/" % repo, body=b"",
                                    headers={"Content-Length": "0"}, scope=scope)
        if st != 202:
            raise KitError("POST upload %s: %d %r" % (repo, st, body[:300]))
        loc = urllib.parse.urlsplit(hd["location"])
        q = loc.query + ("&" if loc.query else "") + "digest=" + urllib.parse.quote(digest)
        st, _, body = self.request("PUT", loc.path + "?" + q, body=data,
                                   headers={"Content-Type": "application/octet-stream",
                                            "Content-Length": str(len(data))}, scope=scope)
        if st != 201:
            raise KitError("PUT blob %s: %d %r" % (repo, st, body[:300]))
        return digest

    def put_manifest(self, repo, ref, body, media_type=OCI_MANIFEST):
        """Uploads a manifest under ref (tag or digest); its digest."""
        st, _, resp = self.request("PUT", "/v2/%s/manifests/%s" % (repo, ref), body=body,
                                   headers={"Content-Type": media_type},
                                   scope="repository:%s:pull,push" % repo)
        if st != 201:
            raise KitError("PUT manifest %s:%s: %d %r" % (repo, ref, st, resp[:300]))
        return "sha256:" + hashlib.sha256(body).hexdigest()

    # ---- skopeo ----
    def skopeo_args(self, side):
        """skopeo flags for this registry as --src (side="src") or --dest."""
        a = []
        if self.mode == "plain":
            a.append("--%s-tls-verify=false" % side)
        else:
            a.append("--%s-cert-dir=%s" % (side, self.certs.cert_dir()))
            a.append("--%s-creds=%s:%s" % (side, self.username, self.password))
        return a

    def push(self, src, dest, all=False, extra=()):
        """skopeo copy src (e.g. "oci:/dir:app") to docker://HOST/dest;
        returns the manifest digest pushed."""
        if missing_tools("skopeo"):
            raise KitError("skopeo not installed")
        dfile = os.path.join(self.root, "digest.%d" % time.monotonic_ns())
        cmd = ["skopeo", "--insecure-policy", "copy", "-q", "--digestfile", dfile]
        if all:
            cmd.append("--all")
        cmd += self.skopeo_args("dest") + list(extra)
        cmd += [src, "docker://%s/%s" % (self.host, dest)]
        run(cmd, timeout=600)
        with open(dfile) as f:
            d = f.read().strip()
        os.unlink(dfile)
        return d

    def pull(self, src, dest_dir, tag="img"):
        """skopeo copy docker://HOST/src to oci:dest_dir:tag."""
        run(["skopeo", "--insecure-policy", "copy", "-q"] + self.skopeo_args("src") +
            ["docker://%s/%s" % (self.host, src), "oci:%s:%s" % (dest_dir, tag)], timeout=600)

    # ---- storage ----
    def blob_data_path(self, digest):
        algo, _, hexd = digest.partition(":")
        return os.path.join(self.storage, "docker", "registry", "v2", "blobs",
                            algo, hexd[:2], hexd, "data")

    def tamper_blob(self, digest, how="flip", files=None):
        """Rewrites the stored bytes of blob digest with other bytes of the
        same length.  how="flip": a few bytes inverted (gzip's own CRC may
        notice first); how="gzip": a different, valid gzip'd tar of exactly
        the same size holding files ({name: bytes}), so that only a digest
        check can tell."""
        p = self.blob_data_path(digest)
        if not os.path.exists(p):
            raise KitError("blob %s not in storage" % digest)
        size = os.path.getsize(p)
        if how == "gzip":
            data = gzip_of_size(size, files or {"etc/planted": b"not what was pushed\n"})
            with open(p, "wb") as f:
                f.write(data)
            return p
        with open(p, "r+b") as f:
            for off in (size // 2, size // 3, size - 1):
                f.seek(off)
                b = f.read(1)
                f.seek(off)
                f.write(bytes([b[0] ^ 0xFF]))
        return p


def gzip_of_size(size, files):
    """A valid gzip member of exactly size bytes whose content is a tar of
    files: deflate stored blocks (so the length is known in advance), the
    tar padded with zero blocks, and the header's FNAME field taking up
    the last few bytes."""
    import io
    import struct
    import tarfile
    import zlib
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    tar = buf.getvalue()

    def total(tlen, namelen):
        blocks = max(1, -(-tlen // 65535))
        return 10 + (namelen + 1 if namelen else 0) + tlen + 5 * blocks + 8
    tlen = len(tar)
    if total(tlen, 1) > size:
        raise KitError("blob of %d bytes too small for a replacement" % size)
    while total(tlen + 512, 1) <= size:
        tlen += 512
    namelen = size - total(tlen, 0) - 1
    if namelen < 1:
        tlen -= 512
        namelen = size - total(tlen, 0) - 1
    tar = tar + b"\0" * (tlen - len(tar))
    out = bytearray(b"\x1f\x8b\x08\x08" + b"\0\0\0\0" + b"\x00\x03")
    out += b"n" * namelen + b"\0"
    for i in range(0, max(1, tlen), 65535):
        chunk = tar[i:i + 65535]
        final = 1 if i + 65535 >= tlen else 0
        out += struct.pack("<BHH", final, len(chunk), len(chunk) ^ 0xFFFF) + chunk
    out += struct.pack("<II", zlib.crc32(tar) & 0xFFFFFFFF, tlen & 0xFFFFFFFF)
    if len(out) != size:
        raise KitError("replacement blob of %d bytes, want %d" % (len(out), size))
    return bytes(out)


# ---- the flaky front ------------------------------------------------------------

class FlakyFront:
    """A plain-HTTP front on 127.0.0.1 for a plain Registry.  plan maps a
    regular expression over "METHOD /path" to a list of statuses answered,
    in order, to the requests it matches before they are proxied (429 comes
    with Retry-After: retry_after).  always: a status answered to every
    matching request forever, {regex: status}.  log lists (method, path,
    status, time) of every request."""

    def __init__(self, upstream, plan=None, always=None, retry_after="1"):
        if upstream.mode != "plain":
            raise ValueError("FlakyFront fronts a plain registry")
        self.upstream = upstream
        self.plan = [(re.compile(k), list(v)) for k, v in (plan or {}).items()]
        self.always = [(re.compile(k), v) for k, v in (always or {}).items()]
        self.retry_after = retry_after
        self.log = []
        self.lock = threading.Lock()
        self.port = free_port()
        front = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                front._handle(self)

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def host(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.stop()

    def count(self, method, pattern, status=None):
        """Requests seen whose path matches pattern (and status)."""
        rx = re.compile(pattern)
        with self.lock:
            return sum(1 for m, p, s, _ in self.log
                       if m == method and rx.search(p) and (status is None or s == status))

    def _planned(self, key):
        with self.lock:
            for rx, st in self.always:
                if rx.search(key):
                    return st
            for rx, lst in self.plan:
                if rx.search(key) and lst:
                    return lst.pop(0)
        return None

    def _handle(self, h):
        key = "%s %s" % (h.command, h.path)
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else None
        st = self._planned(key)
        if st is not None:
            with self.lock:
                self.log.append((h.command, h.path, st, time.monotonic()))
            msg = json.dumps({"errors": [{"code": "TOOMANYREQUESTS" if st == 429 else "UNAVAILABLE",
                                          "message": "planned failure"}]}).encode()
            h.send_response(st)
            if st == 429:
                h.send_header("Retry-After", self.retry_after)
            h.send_header("Content-Type", "application/json")
            h.send_header("Content-Length", str(len(msg)))
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(msg)
            return
        c = http.client.HTTPConnection("127.0.0.1", self.upstream.port, timeout=60)
        try:
            # header by header: clients send Accept several times, and a
            # dict would keep only the last one
            c.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
            for k, v in h.headers.items():
                if k.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                     "content-length"):
                    c.putheader(k, v)
            if body is not None:
                c.putheader("Content-Length", str(len(body)))
            c.endheaders(body)
            r = c.getresponse()
            with self.lock:
                self.log.append((h.command, h.path, r.status, time.monotonic()))
            length = r.getheader("Content-Length")
            data = None
            if h.command != "HEAD" and length is None:
                data = r.read()
                length = str(len(data))
            h.send_response(r.status)
            for k, v in r.getheaders():
                if k.lower() in ("connection", "keep-alive", "transfer-encoding",
                                 "content-length"):
                    continue
                h.send_header(k, v)
            if length is not None:
                h.send_header("Content-Length", length)
            h.end_headers()
            if h.command == "HEAD":
                return
            if data is not None:
                h.wfile.write(data)
                return
            left = int(length)
            while left > 0:
                chunk = r.read(min(left, 1 << 20))
                if not chunk:
                    break
                h.wfile.write(chunk)
                left -= len(chunk)
        except (OSError, http.client.HTTPException):
            h.close_connection = True
        finally:
            c.close()


# ---- images -----------------------------------------------------------------------

def fixture_layout():
    """The OCI layout of scripts/build-test-image.sh (tags app, base), built
    when missing (needs root and the Debian mirror; a few minutes).  Raises
    KitError with the reason when it cannot be had."""
    lay = os.path.join(FIXTURES, "oci")
    if os.path.exists(os.path.join(lay, "index.json")):
        return lay
    here = os.path.dirname(os.path.abspath(__file__))
    script = os.path.join(here, "..", "..", "scripts", "build-test-image.sh")
    p = subprocess.run(["sh", script, FIXTURES], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=1800)
    if p.returncode == 3:
        raise KitError("the Debian mirror cannot be reached to build the test image")
    if p.returncode != 0 or not os.path.exists(os.path.join(lay, "index.json")):
        raise KitError("build-test-image.sh failed: %s"
                       % p.stderr.decode("utf-8", "replace")[-500:])
    return lay


def layout_manifest(layout, tag):
    """(descriptor, manifest dict) of tag in an OCI layout."""
    with open(os.path.join(layout, "index.json")) as f:
        idx = json.load(f)
    for d in idx["manifests"]:
        if d.get("annotations", {}).get("org.opencontainers.image.ref.name") == tag:
            with open(layout_blob(layout, d["digest"]), "rb") as f:
                return d, json.load(f)
    raise KitError("tag %s not in %s" % (tag, layout))


def layout_blob(layout, digest):
    algo, _, hexd = digest.partition(":")
    return os.path.join(layout, "blobs", algo, hexd)


def multi_arch_layout(dest, src_tag="app"):
    """Copies the fixture layout to dest and makes there, with umoci, two
    manifests of the fixture image: tag app-amd64 (architecture amd64, label
    mamori.test.arch=amd64) and app-arm64 (arm64, label arm64); then a
    hand-written OCI index naming both with their platforms, tagged
    "multi".  Returns {"index": digest, "amd64": digest, "arm64": digest}."""
    if missing_tools("umoci"):
        raise KitError("umoci not installed")
    src = fixture_layout()
    shutil.copytree(src, dest)
    out = {}
    descs = []
    for arch in ("amd64", "arm64"):
        tag = "%s-%s" % (src_tag, arch)
        run(["umoci", "config", "--image", "%s:%s" % (dest, src_tag), "--tag", tag,
             "--os", "linux", "--architecture", arch,
             "--config.label", "mamori.test.arch=" + arch])
        d, _ = layout_manifest(dest, tag)
        out[arch] = d["digest"]
        descs.append({"mediaType": OCI_MANIFEST, "digest": d["digest"], "size": d["size"],
                      "platform": {"architecture": arch, "os": "linux"}})
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX,
                        "manifests": descs}, indent=2).encode()
    digest = "sha256:" + hashlib.sha256(index).hexdigest()
    with open(layout_blob(dest, digest), "wb") as f:
        f.write(index)
    with open(os.path.join(dest, "index.json")) as f:
        top = json.load(f)
    top["manifests"].append({"mediaType": OCI_INDEX, "digest": digest, "size": len(index),
                             "annotations": {"org.opencontainers.image.ref.name": "multi"}})
    with open(os.path.join(dest, "index.json"), "w") as f:
        json.dump(top, f)
    out["index"] = digest
    return out
