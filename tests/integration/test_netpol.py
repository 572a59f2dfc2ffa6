#!/usr/bin/env python3
"""Integration tests of `mamori net enforce` (docs/netpol.md), as root.

Two network namespaces made here and joined by a veth pair (names carry the
pid; 10.234.0.0/24 exists inside them only): the workload "web" at
10.234.0.2 and a peer side holding 10.234.0.1 (allowed) and 10.234.0.3
(not allowed), with servers on both sides and a tiny DNS server on
10.234.0.1.  The policy is applied inside web's namespace:

- --dry-run prints the diff and changes nothing; once applied, a second
  dry run says "no change" (the compiled text is nft's own listing);
- allowed traffic passes, denied traffic (wrong peer, wrong port, egress
  to an address no allowed name resolved to) is dropped, and each drop
  comes back from nflog as an alert and an MM-NET-040 finding;
- an egress name opens when web looks it up: the DNS answer seen by the
  sensor puts the address into the rule's set;
- a failure in the second of two namespaces rolls the first back to the
  table it had; the kill switch removes every mamori table;
- a real podman container (`--network none`, runc, private --root, a
  busybox image; a veth end moved into its namespace): its traffic learned
  (`mamori net --containers --learn`), a policy proposed from that graph
  (`mamori net policy --from-baseline`), found by discovery, the proposed
  policy picked by name and applied inside it: the learned peer and port
  pass, the rest is dropped and alerted with its name; the kill switch
  removes its table.
Every loop is bounded; each connection attempt has a short timeout.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from mmrun import Runner, Suite, Skip, Fail, check, eq, without_libs  # noqa: E402

PID = os.getpid()
NS_W = "mmt-np-w-%d" % PID      # the workload
NS_P = "mmt-np-p-%d" % PID      # its peers
NS_X = "mmt-np-x-%d" % PID      # a second workload (rollback)

POLICY = """version: 1
policies:
  - name: web
    match: {container: web}
    ingress:
      - from: [10.234.0.1]
        ports: [tcp/8080, icmp]
    egress:
      - to: [10.234.0.1]
        ports: [udp/53]
      - names: [api.test]
        ports: [tcp/9000]
"""

POLICY2 = POLICY.replace("ports: [tcp/8080, icmp]", "ports: [tcp/8080, tcp/8082, icmp]")

SERVERS = r"""
import socket, sys, threading, time
def tcp(addr, port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port)); s.listen(16)
    while True:
        c, _ = s.accept()
        try: c.sendall(b"ok\n")
        except OSError: pass
        c.close()
def dns(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, 53))
    table = {b"api.test": bytes([10, 234, 0, 1]), b"other.test": bytes([10, 234, 0, 3])}
    while True:
        q, peer = s.recvfrom(512)
        off, labels = 12, []
        while q[off]:
            labels.append(q[off + 1:off + 1 + q[off]]); off += 1 + q[off]
        name = b".".join(labels); qend = off + 5
        ip = table.get(name)
        hdr = q[:2] + b"\x81\x80" + q[4:6] + (b"\x00\x01" if ip else b"\x00\x00") + b"\x00\x00\x00\x00"
        ans = (b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + ip) if ip else b""
        s.sendto(hdr + q[12:qend] + ans, peer)
for a, p in [x.split(":") for x in sys.argv[1].split(",") if x]:
    threading.Thread(target=tcp, args=(a, int(p)), daemon=True).start()
if len(sys.argv) > 2:
    threading.Thread(target=dns, args=(sys.argv[2],), daemon=True).start()
time.sleep(600)
"""

CONNECT = r"""
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(); s.settimeout(1.5)
if src != "-": s.bind((src, 0))
try:
    s.connect((dst, port)); print("OK" if s.recv(16).startswith(b"ok") else "NODATA")
except OSError as e:
    print("FAIL", e)
"""

LOOKUP = r"""
import socket, sys
name = sys.argv[1].encode()
q = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"".join(
    bytes([len(l)]) + l for l in name.split(b".")) + b"\x00\x00\x01\x00\x01"
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
s.sendto(q, ("10.234.0.1", 53)); a = s.recv(512)
print(".".join(str(b) for b in a[-4:]))
"""


def sh(cmd, check_rc=True, timeout=60):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check_rc and p.returncode != 0:
        raise Fail("%s: exit %d: %s" % (" ".join(cmd), p.returncode, (p.stderr or p.stdout)[-500:]))
    return p


def in_ns(ns, code, *args):
    return sh(["ip", "netns", "exec", ns, sys.executable, "-c", code] + list(args),
              check_rc=False).stdout.strip()


def connect(ns, src, dst, port):
    return in_ns(ns, CONNECT, src, dst, str(port))


class Net:
    def __init__(self):
        if os.geteuid() != 0:
            raise Skip("needs root (network namespaces, nftables)")
        if subprocess.run(["ip", "-V"], capture_output=True).returncode != 0:
            raise Skip("iproute2 is missing")
        self.procs = []
        for ns in (NS_W, NS_P, NS_X):
            sh(["ip", "netns", "add", ns])
        vw, vp = "mnw%d" % (PID % 100000), "mnp%d" % (PID % 100000)
        sh(["ip", "link", "add", vw, "type", "veth", "peer", "name", vp])
        sh(["ip", "link", "set", vw, "netns", NS_W])
        sh(["ip", "link", "set", vp, "netns", NS_P])
        sh(["ip", "-n", NS_W, "addr", "add", "10.234.0.2/24", "dev", vw])
        sh(["ip", "-n", NS_P, "addr", "add", "10.234.0.1/24", "dev", vp])
        sh(["ip", "-n", NS_P, "addr", "add", "10.234.0.3/24", "dev", vp])
        for ns, dev in ((NS_W, vw), (NS_P, vp)):
            sh(["ip", "-n", ns, "link", "set", dev, "up"])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        sh(["ip", "-n", NS_X, "link", "set", "lo", "up"])
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", NS_W, sys.executable, "-c", SERVERS,
             "10.234.0.2:8080,10.234.0.2:8081"]))
        self.procs.append(subprocess.Popen(
            ["ip", "netns", "exec", NS_P, sys.executable, "-c", SERVERS,
             "10.234.0.1:9000,10.234.0.1:9001,10.234.0.3:9000", "10.234.0.1"]))
        for _ in range(50):
            if connect(NS_P, "-", "10.234.0.2", 8080) == "OK" and \
               connect(NS_W, "-", "10.234.0.1", 9000) == "OK":
                break
            time.sleep(0.2)
        else:
            self.close()
            raise Fail("the test servers did not come up")

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for ns in (NS_W, NS_P, NS_X):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def tables(ns):
    return sh(["ip", "netns", "exec", ns, "nft", "list", "tables"]).stdout


def write(r, name, text):
    p = os.path.join(r.root, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def target(ns=NS_W, name="web"):
    return "%s=/run/netns/%s" % (name, ns)


def t_dry_run(r, net):
    pol = write(r, "p.yaml", POLICY)
    res = r.run(["net", "enforce", "--policy", pol, "--target", target(), "--dry-run"])
    eq(res.rc, 0, "dry-run exit: " + res.describe())
    check("+table inet mamori {" in res.out, "diff shows the new table: %r" % res.out)
    check("+\t\tip saddr 10.234.0.1 tcp dport 8080 accept" in res.out, "rule in diff: %r" % res.out)
    check("mamori" not in tables(NS_W), "a dry run changed nothing")
    res = r.run(["net", "enforce", "--policy", pol, "--target", target()])
    eq(res.rc, 0, "apply exit: " + res.describe())
    check("table inet mamori" in tables(NS_W), "table applied")
    res = r.run(["net", "enforce", "--policy", pol, "--target", target(), "--dry-run"])
    eq(res.rc, 0, "second dry-run: " + res.describe())
    check("no change" in res.out and "+" not in res.out, "applied table == compiled: %r" % res.out)
    pol2 = write(r, "p2.yaml", POLICY2)
    res = r.run(["net", "enforce", "--policy", pol2, "--target", target(), "--dry-run"])
    check("+\t\tip saddr 10.234.0.1 tcp dport { 8080, 8082 } accept" in res.out and
          "-\t\tip saddr 10.234.0.1 tcp dport 8080 accept" in res.out, "changed rule: %r" % res.out)


def t_enforce(r, net):
    pol = write(r, "p.yaml", POLICY)
    fnd = os.path.join(r.root, "findings.json")
    cmd = [r.bin, "net", "enforce", "--policy", pol, "--target", target(), "--follow",
           "--duration", "40", "--findings", fnd]
    out = open(os.path.join(r.root, "alerts.out"), "w+")
    err = open(os.path.join(r.root, "alerts.err"), "w+")
    p = subprocess.Popen(cmd, stdout=out, stderr=err, env=r.env(), cwd=r.cwd)
    try:
        for _ in range(100):
            err.seek(0)
            if "following" in err.read():
                break
            if p.poll() is not None:
                break
            time.sleep(0.2)
        err.seek(0)
        check("following" in err.read(), "follower started")
        eq(connect(NS_P, "10.234.0.1", "10.234.0.2", 8080), "OK", "allowed peer and port")
        check(connect(NS_P, "10.234.0.3", "10.234.0.2", 8080).startswith("FAIL"), "other peer dropped")
        check(connect(NS_P, "10.234.0.1", "10.234.0.2", 8081).startswith("FAIL"), "other port dropped")
        check(connect(NS_W, "-", "10.234.0.1", 9000).startswith("FAIL"),
              "egress to the name's address before any lookup: dropped")
        eq(in_ns(NS_W, LOOKUP, "api.test"), "10.234.0.1", "DNS through the allowed resolver")
        ok = False
        for _ in range(10):
            time.sleep(0.5)
            if connect(NS_W, "-", "10.234.0.1", 9000) == "OK":
                ok = True
                break
        check(ok, "egress to api.test's address opens after the lookup")
        check(connect(NS_W, "-", "10.234.0.1", 9001).startswith("FAIL"), "name set is per port")
        eq(in_ns(NS_W, LOOKUP, "other.test"), "10.234.0.3", "lookup of an unlisted name")
        time.sleep(0.5)
        check(connect(NS_W, "-", "10.234.0.3", 9000).startswith("FAIL"), "unlisted name stays closed")
        set_list = sh(["ip", "netns", "exec", NS_W, "nft", "list", "set", "inet", "mamori",
                       "eg1_v4"]).stdout
        check("10.234.0.1" in set_list and "expires" in set_list, "set element with timeout: %r" % set_list)
        time.sleep(1.0)
    finally:
        p.terminate()
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    out.seek(0)
    text = out.read()
    al = [json.loads(l) for l in text.splitlines() if l.startswith("{")]
    got = set()
    for a in al:
        f = a["output_fields"]
        eq(a["rule"], "Connection denied by segmentation policy", "rule name")
        got.add((f["net.direction"], f["fd.cip"], f["fd.sip"], f["fd.sport"]))
    want = {("ingress", "10.234.0.3", "10.234.0.2", 8080),
            ("ingress", "10.234.0.1", "10.234.0.2", 8081),
            ("egress", "10.234.0.2", "10.234.0.1", 9000),
            ("egress", "10.234.0.2", "10.234.0.1", 9001),
            ("egress", "10.234.0.2", "10.234.0.3", 9000)}
    check(want <= got, "every drop alerted: missing %s (got %s)" % (want - got, got))
    check(("ingress", "10.234.0.1", "10.234.0.2", 8080) not in got, "allowed traffic not alerted")
    with open(fnd) as f:
        fl = json.load(f)
    check(len(fl) >= 5 and all(x["id"] == "MM-NET-040" for x in fl), "findings: %s" % fl[:2])
    check(all(x.get("section") == "3.4.2" or "3.4.2" in json.dumps(x) for x in fl), "section")


def t_rollback(r, net):
    pol = write(r, "p.yaml", POLICY)
    res = r.run(["net", "enforce", "--policy", pol, "--target", target()])
    eq(res.rc, 0, "apply: " + res.describe())
    before = sh(["ip", "netns", "exec", NS_W, "nft", "-t", "list", "table", "inet", "mamori"]).stdout
    pol2 = write(r, "p2.yaml", POLICY2.replace("container: web", "container: \"*\""))
    res = r.run(["net", "enforce", "--policy", pol2, "--target", target(),
                 "--target", target(NS_X, "other"), "--test-fail-at", "1"])
    eq(res.rc, 2, "failed apply exits 2: " + res.describe())
    check("rolled back" in res.err, "says it rolled back: %r" % res.err)
    after = sh(["ip", "netns", "exec", NS_W, "nft", "-t", "list", "table", "inet", "mamori"]).stdout
    eq(after, before, "first namespace has its previous table again")
    check("mamori" not in tables(NS_X), "second namespace has no table")
    res = r.run(["net", "enforce", "--policy", pol2, "--target", target(),
                 "--target", target(NS_X, "other")])
    eq(res.rc, 0, "apply to both: " + res.describe())
    check("8082" in tables(NS_W) or "8082" in sh(["ip", "netns", "exec", NS_W, "nft", "list",
                                                  "ruleset"]).stdout, "new rule live")


def t_kill_switch(r, net):
    res = r.run(["net", "enforce", "--kill-switch", "--netns", "/run/netns/" + NS_W,
                 "--netns", "/run/netns/" + NS_X])
    eq(res.rc, 0, "kill switch: " + res.describe())
    check("mamori" not in tables(NS_W) and "mamori" not in tables(NS_X), "tables gone")
    eq(connect(NS_P, "10.234.0.3", "10.234.0.2", 8080), "OK", "traffic flows again")
    res = r.run(["net", "enforce", "--kill-switch", "--netns", "/run/netns/" + NS_W])
    eq(res.rc, 0, "second kill switch is a no-op")


def t_host(r):
    """--host: the table goes on the forward hook of the namespace mamori runs
    in (here a router namespace made by the test between the workload's and
    the peers'), matched on the workload's addresses."""
    W, P, R = "mmt-nh-w-%d" % PID, "mmt-nh-p-%d" % PID, "mmt-nh-r-%d" % PID
    try:
        for ns in (W, P, R):
            sh(["ip", "netns", "add", ns])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        k = PID % 100000
        for a, b, ns, addr, raddr in (("mhw%d" % k, "mhrw%d" % k, W, "10.234.2.2/24", "10.234.2.1/24"),
                                      ("mhp%d" % k, "mhrp%d" % k, P, "10.234.3.1/24", "10.234.3.254/24")):
            sh(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
            sh(["ip", "link", "set", a, "netns", ns])
            sh(["ip", "link", "set", b, "netns", R])
            sh(["ip", "-n", ns, "addr", "add", addr, "dev", a])
            sh(["ip", "-n", ns, "link", "set", a, "up"])
            sh(["ip", "-n", R, "addr", "add", raddr, "dev", b])
            sh(["ip", "-n", R, "link", "set", b, "up"])
        sh(["ip", "-n", P, "addr", "add", "10.234.3.3/24", "dev", "mhp%d" % k])
        sh(["ip", "-n", W, "route", "add", "default", "via", "10.234.2.1"])
        sh(["ip", "-n", P, "route", "add", "default", "via", "10.234.3.254"])
        sh(["ip", "netns", "exec", R, "sysctl", "-qw", "net.ipv4.ip_forward=1"])
        srv = subprocess.Popen(["ip", "netns", "exec", W, sys.executable, "-c", SERVERS,
                                "10.234.2.2:8080,10.234.2.2:8081"])
        try:
            for _ in range(50):
                if connect(P, "10.234.3.1", "10.234.2.2", 8080) == "OK":
                    break
                time.sleep(0.2)
            pol = write(r, "host.yaml", "version: 1\npolicies:\n  - name: web\n    match: {container: web}\n"
                        "    ingress:\n      - from: [10.234.3.1]\n        ports: [tcp/8080]\n"
                        "    egress:\n      - to: [10.234.3.0/24]\n        ports: [tcp/9999]\n")
            fnd = os.path.join(r.root, "host-findings.json")
            out = open(os.path.join(r.root, "host.out"), "w+")
            err = open(os.path.join(r.root, "host.err"), "w+")
            p = subprocess.Popen(["ip", "netns", "exec", R, r.bin, "net", "enforce", "--policy", pol,
                                  "--host", "--target", target(W), "--follow", "--duration", "30",
                                  "--findings", fnd], stdout=out, stderr=err, env=r.env(), cwd=r.cwd)
            try:
                for _ in range(100):
                    err.seek(0)
                    if "following" in err.read() or p.poll() is not None:
                        break
                    time.sleep(0.2)
                err.seek(0)
                check("following" in err.read(), "host mode started: %r" % open(err.name).read()[-400:])
                tabs = sh(["ip", "netns", "exec", R, "nft", "list", "tables"]).stdout
                check("table inet mamori_web" in tabs, "table on the router: %r" % tabs)
                check("mamori" not in sh(["ip", "netns", "exec", W, "nft", "list", "tables"]).stdout,
                      "nothing inside the workload")
                eq(connect(P, "10.234.3.1", "10.234.2.2", 8080), "OK", "allowed through the router")
                check(connect(P, "10.234.3.3", "10.234.2.2", 8080).startswith("FAIL"), "other peer dropped")
                check(connect(P, "10.234.3.1", "10.234.2.2", 8081).startswith("FAIL"), "other port dropped")
                time.sleep(1.0)
            finally:
                p.terminate()
                p.wait(timeout=20)
            out.seek(0)
            al = [json.loads(l) for l in out.read().splitlines() if l.startswith("{")]
            got = {(a["output_fields"]["fd.cip"], a["output_fields"]["fd.sport"],
                    a["output_fields"]["container.name"]) for a in al}
            check({("10.234.3.3", 8080, "web"), ("10.234.3.1", 8081, "web")} <= got,
                  "drops on the host alerted with the workload: %s" % got)
            res = r.run(["net", "enforce", "--kill-switch", "--netns", "/run/netns/" + R])
            eq(res.rc, 0, "kill switch")
            check("mamori" not in sh(["ip", "netns", "exec", R, "nft", "list", "tables"]).stdout, "gone")
        finally:
            srv.kill()
            srv.wait()
    finally:
        for ns in (W, P, R):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


ECHO = r"""
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket(); s.settimeout(1.5)
if src != "-": s.bind((src, 0))
try:
    s.connect((dst, port)); s.sendall(b"ok\n"); print("OK" if s.recv(16).startswith(b"ok") else "NODATA")
except OSError as e:
    print("FAIL", e)
"""


def t_podman(r):
    import test_net
    pod = test_net.Pod(r.tmp)
    peer = "mmt-np-c-%d" % PID
    name = "mmnp-web-%d" % PID
    try:
        pid = pod.run(name, "(while true; do nc -l -p 8081 -e /bin/cat; done) & "
                            "while true; do nc -l -p 8080 -e /bin/cat; done")
        sh(["ip", "netns", "add", peer])
        vh, vc = "mcp%d" % (PID % 100000), "mcc%d" % (PID % 100000)
        sh(["ip", "link", "add", vh, "type", "veth", "peer", "name", vc])
        sh(["ip", "link", "set", vh, "netns", peer])
        sh(["ip", "link", "set", vc, "netns", str(pid)])
        sh(["ip", "-n", peer, "addr", "add", "10.234.1.1/24", "dev", vh])
        sh(["ip", "-n", peer, "addr", "add", "10.234.1.3/24", "dev", vh])
        sh(["ip", "-n", peer, "link", "set", vh, "up"])
        sh(["nsenter", "-t", str(pid), "-n", "ip", "addr", "add", "10.234.1.2/24", "dev", vc])
        sh(["nsenter", "-t", str(pid), "-n", "ip", "link", "set", vc, "up"])
        for _ in range(50):
            if in_ns(peer, ECHO, "10.234.1.1", "10.234.1.2", "8080") == "OK":
                break
            time.sleep(0.2)
        # learn the container's service graph, propose a policy from it
        base = os.path.join(r.root, "base.json")
        ag = subprocess.Popen([r.bin, "net", "--containers", "--storage-root", pod.root, "--learn",
                               "--duration", "8", "--baseline-out", base, "--output", "none", "-q"],
                              env=r.env(), cwd=r.cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(3)
        for _ in range(3):
            in_ns(peer, ECHO, "10.234.1.1", "10.234.1.2", "8080")
            time.sleep(0.3)
        _, aerr = ag.communicate(timeout=120)
        eq(ag.returncode, 0, "learning: %r" % aerr[-300:])
        pol = os.path.join(r.root, "proposed.yaml")
        res = r.run(["net", "policy", "--from-baseline", base, "-o", pol])
        eq(res.rc, 0, "policy from the baseline: " + res.describe())
        text = open(pol).read()
        check('match: {container: "%s"}' % name in text and '"10.234.1.1"' in text and
              "tcp/8080" in text, "proposed policy: %r" % text)
        res = r.run(["net", "enforce", "--policy", pol, "--dry-run", "--storage-root", pod.root])
        eq(res.rc, 0, "dry run over running containers: " + res.describe())
        check("/proc/%d/ns/net: table inet mamori (policy)" % pid in res.out or
              "ns/net: table inet mamori (policy)" in res.out, "the container found: %r" % res.out[:300])
        fnd = os.path.join(r.root, "pod-findings.json")
        out = open(os.path.join(r.root, "pod.out"), "w+")
        err = open(os.path.join(r.root, "pod.err"), "w+")
        p = subprocess.Popen([r.bin, "net", "enforce", "--policy", pol, "--follow", "--duration", "30",
                              "--findings", fnd, "--storage-root", pod.root], stdout=out, stderr=err, env=r.env(), cwd=r.cwd)
        try:
            for _ in range(100):
                err.seek(0)
                if "following" in err.read() or p.poll() is not None:
                    break
                time.sleep(0.2)
            err.seek(0)
            e = err.read()
            check("following" in e and "applied to %s" % name in e, "applied to the container: %r" % e[-500:])
            eq(in_ns(peer, ECHO, "10.234.1.1", "10.234.1.2", "8080"), "OK", "allowed peer")
            check(in_ns(peer, ECHO, "10.234.1.3", "10.234.1.2", "8080").startswith("FAIL"), "other peer")
            check(in_ns(peer, ECHO, "10.234.1.1", "10.234.1.2", "8081").startswith("FAIL"), "other port")
            time.sleep(1.0)
        finally:
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        out.seek(0)
        al = [json.loads(l) for l in out.read().splitlines() if l.startswith("{")]
        got = {(a["output_fields"]["fd.cip"], a["output_fields"]["fd.sport"]) for a in al}
        check({("10.234.1.3", 8080), ("10.234.1.1", 8081)} <= got, "drops alerted: %s" % got)
        check(all(a["output_fields"]["container.name"] == name for a in al), "container named")
        tabs = sh(["nsenter", "-t", str(pid), "-n", "nft", "list", "tables"]).stdout
        check("table inet mamori" in tabs, "table inside the container: %r" % tabs)
        res = r.run(["net", "enforce", "--kill-switch"])
        eq(res.rc, 0, "kill switch: " + res.describe())
        tabs = sh(["nsenter", "-t", str(pid), "-n", "nft", "list", "tables"]).stdout
        check("mamori" not in tabs, "kill switch found the container's table")
        eq(in_ns(peer, ECHO, "10.234.1.3", "10.234.1.2", "8080"), "OK", "open again")
    finally:
        subprocess.run(["ip", "netns", "del", peer], capture_output=True)
        pod.close()


def t_errors(r):
    bad = write(r, "bad.yaml", "version: 1\npolicies:\n- name: a\n  ingress:\n  - from: [10.0.0.0/40]\n")
    res = r.run(["net", "enforce", "--policy", bad, "--dry-run", "--target", "a=/nonexistent"])
    eq(res.rc, 2, "bad policy exit")
    check("bad.yaml:5:" in res.err and "from[0]" in res.err, "names file and field: %r" % res.err)
    res = r.run(["net", "enforce", "--dry-run"])
    eq(res.rc, 2, "no policy")


def t_no_library(r):
    """issue 21: libnftables is opened by the commands that use it only."""
    hide = without_libs("libnftables.so")
    res = r.run(["--version"], preexec=hide)
    eq(res.rc, 0, "--version without libnftables: " + res.err)
    pol = write(r, "p.yaml", POLICY)
    # a dry run in this namespace (the library is refused before any change)
    res = r.run(["net", "enforce", "--policy", pol, "--dry-run", "--target", "web=/proc/self/ns/net"],
                preexec=hide)
    eq(res.rc, 2, "enforce without libnftables: " + res.describe())
    check("nftables needs libnftables at run time: libnftables.so" in res.err, res.describe())
    check("Sanitizer" not in res.err, res.describe())


def main():
    s = Suite()
    r = Runner()
    try:
        s.case("errors", t_errors, r)
        s.case("no-library", t_no_library, r)  # issue 21
        live = ["dry-run", "enforce-and-alerts", "rollback", "kill-switch", "host-forward"]
        try:
            net = Net()
        except (Skip, Fail) as e:
            s.not_run(live, e)
        else:
            try:
                s.case("dry-run", t_dry_run, r, net)
                s.case("enforce-and-alerts", t_enforce, r, net)
                s.case("rollback", t_rollback, r, net)
                s.case("kill-switch", t_kill_switch, r, net)
                s.case("host-forward", t_host, r)
            finally:
                net.close()
        s.case("podman-container", t_podman, r)
    finally:
        r.close()
    s.finish()


if __name__ == "__main__":
    main()
