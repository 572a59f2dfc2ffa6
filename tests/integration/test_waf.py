#!/usr/bin/env python3
"""Integration tests of `mamori waf` (docs/waf.md), on loopback only.

Inline: a small HTTP app (Python's http.server, recording every request it
gets) behind `mamori waf --listen 127.0.0.1:P --upstream http://127.0.0.1:U`;
the CRS attack classes (SQL injection, XSS, remote command execution, local
file inclusion / path traversal, a scanner's user agent, an injection in a
POST body) get 403 and never reach the app, each with an alert naming the
CRS rule ids, paranoia level and anomaly score; benign requests (queries,
a form post, a JSON post, a HEAD) pass with the app's status, type and body.
Detect mode: the same requests sent straight to the app while tcpdump
records loopback; `mamori waf -r` on the recording reports each attack
once and nothing for the benign ones.  Repeat offenders (in a namespace
made here): after 3 attacks a client's packets to the proxy are dropped by
nftables.  A real podman container watched with --containers: the alert
names it.  Every loop is bounded.
"""
import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from mmrun import Runner, Suite, Skip, Fail, check, eq, without_libs  # noqa: E402

CRS = "/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf"

ATTACKS = [
    ("sqli", "GET", "/item?id=1%27%20OR%20%271%27=%271", None, None, "942"),
    ("xss", "GET", "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", None, None, "941"),
    ("rce", "GET", "/ping?host=127.0.0.1%3Bcat%20/etc/passwd", None, None, "932"),
    ("lfi", "GET", "/download?file=../../../../etc/passwd", None, None, "930"),
    ("scanner", "GET", "/", None, "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000003)", "913"),
    ("sqli-body", "POST", "/login", "user=admin%27--&pass=x%27%20or%201%3D1--", None, "942"),
]
BENIGN = [
    ("GET", "/", None, None),
    ("GET", "/search?q=blue+shoes&page=2", None, None),
    ("POST", "/login", "user=alice&pass=correct+horse+battery+staple",
     "application/x-www-form-urlencoded"),
    ("POST", "/api/orders", json.dumps({"item": 42, "qty": 2, "note": "gift wrap"}),
     "application/json"),
    ("HEAD", "/products/42", None, None),
]
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"


class App(http.server.BaseHTTPRequestHandler):
    seen = []
    protocol_version = "HTTP/1.1"

    def _do(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        App.seen.append((self.command, self.path, body.decode("utf-8", "replace")))
        out = ("app saw %s %s %d\n" % (self.command, self.path, len(body))).encode()
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "/landing")
            self.send_header("Set-Cookie", "sid=abc; HttpOnly")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "text/x-app")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_HEAD = do_PUT = _do

    def log_message(self, *a):
        pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def request(port, method, path, body=None, ua=UA, ctype=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    h = {"User-Agent": ua, "Accept": "*/*", "Host": "shop.test"}
    if body is not None:
        h["Content-Type"] = ctype or "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Content-Type"), data.decode("utf-8", "replace")


class Upstream:
    def __init__(self):
        self.port = free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), App)
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def close(self):
        self.srv.shutdown()
        self.srv.server_close()


def alerts_of(path):
    out = []
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("{"):
                out.append(json.loads(line))
    return out


def t_inline(r, up):
    port = free_port()
    al = os.path.join(r.root, "inline-alerts.jsonl")
    fnd = os.path.join(r.root, "inline-findings.json")
    err = open(os.path.join(r.root, "inline.err"), "w+")
    p = subprocess.Popen([r.bin, "waf", "--listen", "127.0.0.1:%d" % port, "--upstream",
                          "http://127.0.0.1:%d/" % up.port, "--output", "file:" + al,
                          "--findings", fnd, "--duration", "90"],
                         stdout=subprocess.DEVNULL, stderr=err, env=r.env(), cwd=r.cwd)
    try:
        for _ in range(150):
            err.seek(0)
            if "listening" in err.read() or p.poll() is not None:
                break
            time.sleep(0.2)
        err.seek(0)
        check("listening" in err.read(), "proxy started: %s" % open(err.name).read()[-300:])
        App.seen.clear()
        for method, path, body, ctype in BENIGN:
            st, ct, text = request(port, method, path, body, ctype=ctype)
            eq(st, 201 if method == "POST" else 200, "benign %s %s status" % (method, path))
            eq(ct, "text/x-app", "content type passed back")
            if method != "HEAD":
                eq(text, "app saw %s %s %d\n" % (method, path, len(body or "")), "app body")
        eq(len(App.seen), len(BENIGN), "every benign request reached the app")
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("GET", "/redirect?to=home", headers={"User-Agent": UA, "Accept": "*/*"})
        res = c.getresponse()
        res.read()
        c.close()
        eq(res.status, 302, "redirect passed back")
        eq(res.getheader("Location"), "/landing", "Location passed back")
        eq(res.getheader("Set-Cookie"), "sid=abc; HttpOnly", "Set-Cookie passed back")
        App.seen.pop()
        eq(App.seen[2][2], BENIGN[2][2], "form body forwarded intact")
        App.seen.clear()
        for name, method, path, body, ua, fam in ATTACKS:
            st, _, text = request(port, method, path, body, ua=ua or UA)
            eq(st, 403, "attack %s blocked" % name)
            check("OWASP CRS rules " in text and fam in text, "403 names the rules: %r" % text)
        eq(App.seen, [], "no attack reached the app")
    finally:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    a = alerts_of(al)
    eq(len(a), len(ATTACKS), "one alert per attack: %s" % [x["output"][:80] for x in a])
    for (name, method, path, body, ua, fam), x in zip(ATTACKS, a):
        f = x["output_fields"]
        eq(x["rule"], "Web attack detected (OWASP CRS)", "rule")
        check(any(i.startswith(fam) for i in f["waf.rule_ids"].split(",")),
              "%s: rule ids %s" % (name, f["waf.rule_ids"]))
        eq(f["waf.paranoia_level"], 1, "paranoia level")
        check(f["waf.anomaly_score"] >= 5, "anomaly score %s" % f["waf.anomaly_score"])
        eq(f["waf.blocked"], "true", "blocked")
        eq(f["http.method"], method, "method")
    fl = json.load(open(fnd))
    check(len(fl) == len(ATTACKS) and all(x["id"] == "MM-WAF-001" for x in fl), "findings")


def t_detect(r, up):
    if not shutil.which("tcpdump"):
        raise Skip("tcpdump is missing")
    if os.geteuid() != 0:
        raise Skip("capturing on loopback needs root")
    pcap = os.path.join(r.root, "http.pcap")
    td = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-s", "0", "-w", pcap,
                           "tcp port %d" % up.port], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    try:
        time.sleep(1.5)
        for method, path, body, ctype in BENIGN:
            request(up.port, method, path, body, ctype=ctype)
        for name, method, path, body, ua, fam in ATTACKS:
            request(up.port, method, path, body, ua=ua or UA)
        # keep-alive: two requests on one connection, the second an attack
        c = http.client.HTTPConnection("127.0.0.1", up.port, timeout=10)
        c.request("GET", "/fine?x=1", headers={"User-Agent": UA})
        c.getresponse().read()
        c.request("GET", "/again?x=%3Cscript%3Ealert(1)%3C/script%3E", headers={"User-Agent": UA})
        c.getresponse().read()
        c.close()
        time.sleep(1.5)
    finally:
        td.terminate()
        td.wait(timeout=20)
    res = r.run(["waf", "-r", pcap, "--findings", "-", "--output", "stderr"])
    eq(res.rc, 0, "waf -r: " + res.describe())
    fl = json.loads(res.out)
    eq(len(fl), len(ATTACKS) + 1, "one finding per attack: %s" % [x["evidence"][:60] for x in fl])
    check(all(x["id"] == "MM-WAF-001" and x.get("section", "3.4.4") == "3.4.4" for x in fl),
          "finding shape")
    ev = " ".join(x["evidence"] for x in fl)
    for name, method, path, body, ua, fam in ATTACKS:
        check(path.split("?")[0] in ev, "%s reported: %s" % (name, ev[:300]))
    check("/again" in ev and "/fine" not in ev, "keep-alive: only the attack")
    check("12 requests" in res.err or "requests" in res.err, "stats: %r" % res.err[-200:])
    res = r.run(["waf", "-r", pcap, "--output", "none", "--exit-code", "1"])
    eq(res.rc, 1, "--exit-code on attacks")


def t_offender(r):
    """--block-offenders: after N attacks a client's packets to the proxy's
    port are dropped by nftables.  Everything runs in a namespace made here
    (its own loopback), so the host's rules are never touched."""
    if os.geteuid() != 0 or not shutil.which("nft"):
        raise Skip("needs root and nftables")
    ns = "mmt-waf-%d" % os.getpid()
    subprocess.run(["ip", "netns", "add", ns], check=True)
    procs = []
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        up, port = free_port(), free_port()
        procs.append(subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "http.server",
                                       "--bind", "127.0.0.1", str(up)], cwd=r.cwd,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        err = open(os.path.join(r.root, "offender.err"), "w+")
        procs.append(subprocess.Popen(["ip", "netns", "exec", ns, r.bin, "waf", "--listen",
                                       "127.0.0.1:%d" % port, "--upstream", "http://127.0.0.1:%d" % up,
                                       "--output", "none", "--block-offenders", "3", "--block-for", "60",
                                       "--duration", "60"], stdout=subprocess.DEVNULL, stderr=err,
                                      env=r.env(), cwd=r.cwd))
        client = ("import http.client,sys\n"
                  "c=http.client.HTTPConnection('127.0.0.1',%d,timeout=3)\n"
                  "try:\n c.request('GET',sys.argv[1],headers={'User-Agent':'Mozilla/5.0'});print(c.getresponse().status)\n"
                  "except OSError as e:\n print('FAIL',e)\n" % port)
        def get(path):
            return subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", client, path],
                                  capture_output=True, text=True, timeout=30).stdout.strip()
        for _ in range(150):
            if get("/") == "200":
                break
            time.sleep(0.2)
        eq(get("/"), "200", "benign before")
        for i in range(3):
            eq(get("/item?id=1%27%20OR%20%271%27=%271"), "403", "attack %d" % i)
        time.sleep(0.5)
        err.seek(0)
        check("blocked at the network layer" in err.read(), "says it blocked: %r" % open(err.name).read()[-300:])
        check(get("/").startswith("FAIL"), "the offender's packets are dropped now")
        st = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "set", "inet", "mamori_waf",
                             "offenders_v4"], capture_output=True, text=True).stdout
        check("127.0.0.1" in st and "expires" in st, "offender in the set: %r" % st)
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        tabs = subprocess.run(["ip", "netns", "exec", ns, "nft", "list", "tables"],
                              capture_output=True, text=True).stdout
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    check("mamori_waf" not in tabs, "table removed at the end: %r" % tabs)


def t_tls(r, up):
    """--cert/--key: TLS terminated at the proxy (verified by the client
    against the pair made here), plain HTTP to the app."""
    if not shutil.which("openssl"):
        raise Skip("openssl is missing")
    import ssl
    crt, key = os.path.join(r.root, "c.pem"), os.path.join(r.root, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", crt, "-subj", "/CN=localhost", "-days", "1",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    port = free_port()
    err = open(os.path.join(r.root, "tls.err"), "w+")
    p = subprocess.Popen([r.bin, "waf", "--listen", "127.0.0.1:%d" % port, "--upstream",
                          "http://127.0.0.1:%d" % up.port, "--cert", crt, "--key", key,
                          "--output", "none", "--duration", "60"],
                         stdout=subprocess.DEVNULL, stderr=err, env=r.env(), cwd=r.cwd)
    ctx = ssl.create_default_context(cafile=crt)

    def get(path):
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=ctx)
        c.request("GET", path, headers={"User-Agent": UA, "Host": "shop.test"})
        res = c.getresponse()
        body = res.read().decode()
        c.close()
        return res.status, body
    try:
        for _ in range(150):
            err.seek(0)
            if "listening" in err.read() or p.poll() is not None:
                break
            time.sleep(0.2)
        App.seen.clear()
        st, body = get("/tls?x=1")
        eq(st, 200, "benign over TLS")
        eq(body, "app saw GET /tls?x=1 0\n", "app body over TLS")
        st, body = get("/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
        eq(st, 403, "attack over TLS blocked")
        eq([x[1] for x in App.seen], ["/tls?x=1"], "only the benign request reached the app")
    finally:
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def t_containers(r):
    """--containers: a real podman container (busybox httpd, `--network
    none`, a veth end moved into its namespace) is found, its HTTP watched
    in its namespace, and the alert names it."""
    if os.geteuid() != 0:
        raise Skip("needs root")
    import test_net
    pod = test_net.Pod(r.tmp)
    pid_ = os.getpid()
    peer, name = "mmt-waf-p-%d" % pid_, "mmwaf-web-%d" % pid_
    try:
        cpid = pod.run(name, "/bin/busybox httpd -f -p 8080 -h /tmp")
        subprocess.run(["ip", "netns", "add", peer], check=True)
        vh, vc = "mwp%d" % (pid_ % 100000), "mwc%d" % (pid_ % 100000)
        for cmd in (["ip", "link", "add", vh, "type", "veth", "peer", "name", vc],
                    ["ip", "link", "set", vh, "netns", peer],
                    ["ip", "link", "set", vc, "netns", str(cpid)],
                    ["ip", "-n", peer, "addr", "add", "10.234.4.1/24", "dev", vh],
                    ["ip", "-n", peer, "link", "set", vh, "up"],
                    ["nsenter", "-t", str(cpid), "-n", "ip", "addr", "add", "10.234.4.2/24", "dev", vc],
                    ["nsenter", "-t", str(cpid), "-n", "ip", "link", "set", vc, "up"]):
            subprocess.run(cmd, check=True, capture_output=True)
        client = ("import http.client,sys\n"
                  "c=http.client.HTTPConnection('10.234.4.2',8080,timeout=3)\n"
                  "try:\n c.request('GET',sys.argv[1],headers={'User-Agent':'Mozilla/5.0','Host':'web'});"
                  "print(c.getresponse().status)\n"
                  "except OSError as e:\n print('FAIL',e)\n")

        def get(path):
            return subprocess.run(["ip", "netns", "exec", peer, sys.executable, "-c", client, path],
                                  capture_output=True, text=True, timeout=30).stdout.strip()
        for _ in range(50):
            if not get("/").startswith("FAIL"):
                break
            time.sleep(0.2)
        al = os.path.join(r.root, "ctr-alerts.jsonl")
        err = open(os.path.join(r.root, "ctr.err"), "w+")
        p = subprocess.Popen([r.bin, "waf", "--containers", "--storage-root", pod.root, "--duration", "40",
                              "--output", "file:" + al], stdout=subprocess.DEVNULL, stderr=err,
                             env=r.env(), cwd=r.cwd)
        try:
            for _ in range(150):
                err.seek(0)
                if "watching" in err.read() or p.poll() is not None:
                    break
                time.sleep(0.2)
            err.seek(0)
            check("watching" in err.read(), "started: %r" % open(err.name).read()[-300:])
            time.sleep(0.5)
            get("/index.html?page=2")
            get("/item?id=1%27%20OR%20%271%27=%271")
            time.sleep(1.5)
        finally:
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        a = [x for x in alerts_of(al) if x["output_fields"].get("fd.sip") == "10.234.4.2"]
        eq(len(a), 1, "one alert for the attack on the container: %s" % [x["output"][:120] for x in a])
        f = a[0]["output_fields"]
        eq(f["container.name"], name, "the container is named")
        check("942100" in f["waf.rule_ids"], "rule ids: %s" % f["waf.rule_ids"])
        eq(f["waf.blocked"], "false", "detect mode never blocks")
    finally:
        subprocess.run(["ip", "netns", "del", peer], capture_output=True)
        pod.close()


def t_errors(r):
    res = r.run(["waf", "--listen", "127.0.0.1:1"])
    eq(res.rc, 2, "--listen without --upstream")
    res = r.run(["waf", "-r", "/nonexistent.pcap"])
    eq(res.rc, 2, "missing file")
    res = r.run(["waf", "-r", "/dev/null", "--paranoia", "7"])
    eq(res.rc, 2, "bad paranoia")
    res = r.run(["waf", "-r", "/dev/null", "--crs-rules", "/nonexistent"])
    eq(res.rc, 2, "no CRS there")
    check("/nonexistent" in res.err, "names the folder: %r" % res.err)


def t_no_library(r):
    """issue 21: libmodsecurity is opened by `mamori waf` only.  Without
    it, other commands run and the WAF fails with a clear error."""
    hide = without_libs("libmodsecurity.so")
    res = r.run(["--version"], preexec=hide)
    eq(res.rc, 0, "--version without libmodsecurity: " + res.err)
    res = r.run(["waf", "-r", "/dev/null"], preexec=hide)
    eq(res.rc, 2, "waf without libmodsecurity")
    check("the WAF needs libmodsecurity at run time: libmodsecurity.so" in res.err,
          "names the library: %r" % res.err)
    check("Sanitizer" not in res.err, "no crash: %r" % res.err)


def main():
    s = Suite()
    r = Runner()
    up = None
    try:
        s.case("errors", t_errors, r)
        s.case("no-library", t_no_library, r)  # issue 21
        if not os.path.exists(CRS):
            s.not_run(["inline-proxy", "inline-tls", "detect-pcap", "repeat-offender",
                       "podman-container"],
                      Skip("OWASP CRS not installed"))
        else:
            up = Upstream()
            s.case("inline-proxy", t_inline, r, up)
            s.case("inline-tls", t_tls, r, up)
            s.case("detect-pcap", t_detect, r, up)
            s.case("repeat-offender", t_offender, r)
            s.case("podman-container", t_containers, r)
    finally:
        if up:
            up.close()
        r.close()
    s.finish()


if __name__ == "__main__":
    main()
