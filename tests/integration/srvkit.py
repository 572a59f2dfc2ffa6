"""srvkit.py - start a real `mamori server` for a test and talk to it.

Server(state, db=None, extra=[]) runs `mamori server --listen 127.0.0.1:PORT`
over TLS with the self-signed pair it writes into the state folder, waits
for its "listening" line, and gives a small JSON client (urllib, verified
against the server's own certificate).  Stdlib only.
"""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import time
import urllib.parse

MAMORI = os.environ.get("MAMORI_BIN", "build/cli/mamori")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cli(*args, env=None, input=None, check=True):
    e = dict(os.environ)
    if env:
        e.update(env)
    r = subprocess.run([MAMORI] + list(args), capture_output=True, text=True, env=e,
                       input=input, timeout=600)
    if check and r.returncode != 0:
        raise RuntimeError("mamori %s: exit %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


class Server:
    def __init__(self, state, db=None, extra=(), port=None, plain=False):
        self.state = state
        self.db = db
        self.extra = list(extra)
        self.port = port or free_port()
        self.plain = plain
        self.proc = None
        self.start()

    def args(self):
        a = [MAMORI, "server", "--state-dir", self.state, "--listen",
             "127.0.0.1:%d" % self.port, "--tls-name", "127.0.0.1"] + self.extra
        if self.db:
            a += ["--db", self.db]
        if self.plain:
            a.append("--plain")
        return a

    def start(self):
        os.makedirs(self.state, exist_ok=True)
        self.log = open(os.path.join(self.state, "server-%d.log" % self.port), "ab")
        self.proc = subprocess.Popen(self.args(), stdout=subprocess.PIPE, stderr=self.log)
        line = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            raise RuntimeError("server did not start: %r" % line)
        self.banner = line
        # the rest of the banner (certificate, fingerprint), without blocking later
        self.more = []
        if not self.plain:
            for _ in range(2):
                self.more.append(self.proc.stdout.readline().decode())
        self.cert = os.path.join(self.state, "server.crt")
        self.base = ("http://" if self.plain else "https://") + "127.0.0.1:%d" % self.port

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def conn(self):
        if self.plain:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        ctx = ssl.create_default_context(cafile=self.cert)
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=ctx)

    def req(self, method, path, token=None, body=None, ctype="application/json",
            headers=None, params=None, raw=None):
        """(status, parsed JSON or text, response headers)"""
        if params:
            path += "?" + urllib.parse.urlencode(params)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None and ctype:
            h["Content-Type"] = ctype
        c = self.conn()
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            text = r.read().decode("utf-8", "replace")
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            status = r.status
        finally:
            c.close()
        try:
            val = json.loads(text)
        except ValueError:
            val = text
        return status, val, hdrs

    def token(self, role, name, host=None):
        a = ["server", "token", "create", "--state-dir", self.state, "--role", role,
             "--name", name, "-q"]
        if self.db:
            a += ["--db", self.db]
        if host:
            a += ["--host", host]
        return cli(*a).stdout.strip()

    def count(self, token, **filters):
        p = dict(filters)
        p.update({"limit": 1, "total": 1})
        st, val, _ = self.req("GET", "/api/v1/events", token, params=p)
        assert st == 200, (st, val)
        return val["total"]


def wait_until(fn, timeout=30, step=0.1):
    end = time.time() + timeout
    while time.time() < end:
        if fn():
            return True
        time.sleep(step)
    return False


def main_sqlite_then_postgres(name, prefix, run_suite, pg_db, pg_skip=None, **pg_kwargs):
    """The main of a server suite that runs once on SQLite and once on
    PostgreSQL: every case skipped when the mamori binary is missing; the
    PostgreSQL half skipped (as pg_skip, default NAME-postgres) when no server can start;
    run_suite(suite, label, state_dir, db=None, **kw) runs one half; the
    temp root is removed at the end and the suite finished."""
    import shutil
    import tempfile
    import mmrun
    global MAMORI
    suite = mmrun.Suite()
    try:
        mmrun.mamori_bin()
    except mmrun.Skip as e:
        suite.skip_all([name], str(e))
        suite.finish()
    MAMORI = mmrun.mamori_bin()
    root = tempfile.mkdtemp(prefix=prefix)
    try:
        run_suite(suite, "sqlite", os.path.join(root, "state"))
        try:
            import pgkit
            pg = pgkit.start(os.path.join(root, "pg"))
        except (mmrun.Skip, ImportError) as e:
            suite.skip_all([pg_skip or name + "-postgres"], str(e))
            return
        try:
            run_suite(suite, "postgres", os.path.join(root, "pgstate"), db=pg.url(pg_db),
                      **pg_kwargs)
        finally:
            pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        suite.finish()
