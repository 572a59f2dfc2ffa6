"""kubeapi - a recording Kubernetes API server for mamori's tests.

There is no API server package on these machines, so the live-cluster
paths (kubeconfig, TLS, client certificates, bearer tokens, exec
credential plugins, paginated lists) and later the write paths (cordon,
taint, PATCH bodies) are tested against this: a local HTTPS server on
127.0.0.1 (ephemeral port) whose certificates the test makes with the
openssl CLI (regkit.Certs), that answers from recorded API responses and
records every request it gets - method, path, query, headers, body and the
client certificate's subject.

    with KubeAPI(tmpdir, tokens={"t0k3n"}, client_cns={"alice"}) as api:
        api.add_list("/api/v1/pods", "PodList", "v1", pods, page_size=2)
        api.route("PATCH", "/api/v1/nodes/n1", lambda req: (200, {...}))
        kc = api.kubeconfig(os.path.join(tmpdir, "kubeconfig"), token="t0k3n")
        ... run mamori ...
        api.requests          # every request, in order
        api.requests_to("PATCH", "/api/v1/nodes/n1")[0]["json"]

Authentication: a request passes when it carries "Authorization: Bearer T"
with T in tokens, or a client certificate (verified against the test CA)
whose CN is in client_cns; anything else is answered 401 with a Status
object, as the API server does.  Lists honour limit= and continue= exactly:
a page is served only for the continue token the previous page gave, and a
wrong token is a 410 Gone.  Unknown paths answer 404 with a Status.

Standard library only, plus the openssl program (through regkit.Certs).
"""

import http.server
import json
import os
import socketserver
import ssl
import subprocess
import threading
import urllib.parse

import regkit


def status_body(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class KubeCerts(regkit.Certs):
    """The test CA, the server certificate and client certificates."""

    def client(self, name, cn, org=None):
        key = os.path.join(self.dir, name + ".key")
        csr = os.path.join(self.dir, name + ".csr")
        crt = os.path.join(self.dir, name + ".crt")
        ext = os.path.join(self.dir, name + ".ext")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
        subj = "/CN=" + cn + ("/O=" + org if org else "")
        regkit.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", csr, "-subj", subj])
        regkit.run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey",
                    self.ca_key, "-CAcreateserial", "-out", crt, "-days", "3",
                    "-extfile", ext])
        return crt, key


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class KubeAPI:
    def __init__(self, dir, tokens=(), client_cns=(), anonymous=False):
        self.dir = dir
        os.makedirs(dir, exist_ok=True)
        self.certs = KubeCerts(os.path.join(dir, "pki"))
        self.server_crt, self.server_key = self.certs.server("apiserver")
        self.tokens = set(tokens)
        self.client_cns = set(client_cns)
        self.anonymous = anonymous
        self.routes = {}          # (method, path) -> handler(req) -> (status, body[, headers])
        self.lists = {}           # path -> list of pages (each a dict)
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = None
        self.thread = None

    # ---- configuration -------------------------------------------------------
    def route(self, method, path, handler):
        """handler: a callable(req) -> (status, body-dict-or-bytes), or a
        fixed (status, body) tuple."""
        self.routes[(method.upper(), path)] = handler

    def add_object(self, path, obj):
        self.route("GET", path, (200, obj))

    def add_list(self, path, kind, api_version, items, page_size=None):
        """Serves items at path as a list, split into pages of page_size
        (None: the client's limit decides nothing; all in one page)."""
        self.lists[path] = {"kind": kind, "apiVersion": api_version, "items": list(items),
                            "page": page_size}

    @property
    def url(self):
        return "https://127.0.0.1:%d" % self.httpd.server_address[1]

    def kubeconfig(self, path, token=None, cert=None, exec_=None, user_extra=None,
                   ca_inline=False, context="test", server=None):
        """Writes a kubeconfig (YAML) for this server and returns its path."""
        lines = ["apiVersion: v1", "kind: Config", "current-context: %s" % context,
                 "clusters:", "- name: test-cluster", "  cluster:",
                 "    server: %s" % (server or self.url)]
        if ca_inline:
            import base64
            with open(self.certs.ca_crt, "rb") as f:
                lines.append("    certificate-authority-data: %s"
                             % base64.b64encode(f.read()).decode())
        else:
            lines.append("    certificate-authority: %s" % self.certs.ca_crt)
        lines += ["contexts:", "- name: %s" % context, "  context:",
                  "    cluster: test-cluster", "    user: test-user",
                  "users:", "- name: test-user", "  user:"]
        user = {}
        if token:
            user["token"] = token
        if cert:
            user["client-certificate"] = cert[0]
            user["client-key"] = cert[1]
        if exec_:
            user["exec"] = exec_
        if user_extra:
            user.update(user_extra)
        if not user:
            lines[-1] = "  user: {}"
        for k, v in user.items():
            lines.append("    %s: %s" % (k, json.dumps(v)))
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return path

    # ---- queries -----------------------------------------------------------------
    def requests_to(self, method, path):
        with self.lock:
            return [r for r in self.requests if r["method"] == method and r["path"] == path]

    def methods(self):
        with self.lock:
            return sorted({r["method"] for r in self.requests})

    # ---- serving -----------------------------------------------------------------
    def _authorized(self, req):
        if self.anonymous:
            return True
        auth = req["headers"].get("authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in self.tokens:
            return True
        return req["client_cn"] is not None and req["client_cn"] in self.client_cns

    def _list_page(self, path, query):
        spec = self.lists[path]
        items = spec["items"]
        size = spec["page"]
        limit = int(query.get("limit", ["0"])[0] or 0)
        if size is None:
            size = limit if limit > 0 else len(items) or 1
        cont = query.get("continue", [""])[0]
        start = 0
        if cont:
            if not cont.startswith("page-") or not cont[5:].isdigit():
                return 410, status_body(410, "Expired", "continue token %r is not valid" % cont)
            start = int(cont[5:])
            if start <= 0 or start >= len(items):
                return 410, status_body(410, "Expired", "continue token %r expired" % cont)
        page = items[start:start + size]
        meta = {"resourceVersion": "4711"}
        if start + size < len(items):
            meta["continue"] = "page-%d" % (start + size)
        return 200, {"kind": spec["kind"], "apiVersion": spec["apiVersion"],
                     "metadata": meta, "items": page}

    def _handle(self, h):
        u = urllib.parse.urlsplit(h.path)
        n = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(n) if n else b""
        cn = None
        try:
            peer = h.connection.getpeercert()
            if peer:
                for rdn in peer.get("subject", ()):
                    for k, v in rdn:
                        if k == "commonName":
                            cn = v
        except (AttributeError, ValueError):
            pass
        req = {"method": h.command, "path": u.path,
               "query": urllib.parse.parse_qs(u.query, keep_blank_values=True),
               "raw_query": u.query,
               "headers": {k.lower(): v for k, v in h.headers.items()},
               "body": body, "client_cn": cn}
        try:
            req["json"] = json.loads(body) if body else None
        except ValueError:
            req["json"] = None
        with self.lock:
            self.requests.append(req)
        if not self._authorized(req):
            status, out, extra = 401, status_body(401, "Unauthorized", "Unauthorized"), {}
        else:
            status, out, extra = self._answer(req)
        data = out if isinstance(out, bytes) else json.dumps(out).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in extra.items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _answer(self, req):
        key = (req["method"], req["path"])
        if key in self.routes:
            r = self.routes[key]
            res = r(req) if callable(r) else r
            if len(res) == 2:
                return res[0], res[1], {}
            return res
        if req["method"] == "GET" and req["path"] in self.lists:
            s, b = self._list_page(req["path"], req["query"])
            return s, b, {}
        return 404, status_body(404, "NotFound", "%s not found" % req["path"]), {}

    def start(self):
        api = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                api._handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

        self.httpd = _Server(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server_crt, self.server_key)
        ctx.load_verify_locations(self.certs.ca_crt)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *a):
        self.stop()
