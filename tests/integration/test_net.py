#!/usr/bin/env python3
"""Integration tests of `mamori net` (docs/net.md).

Offline: the nmap recordings of tests/fixtures/net (-T0..-T2, every scan
kind) replayed, each exactly one scan alert of its kind; generated mixed
traffic (bench/net_gen.py) that must stay quiet; a lookup of a listed
domain and a connection to its address, caught with plain, CSV and STIX
blocklists; pcapng; broken inputs (exit 2, naming what was wrong).

Live (root): network namespaces and a veth pair made here (names carry the
pid, 10.232.0.0/24 inside them only); the real nmap scans at -T3..-T5 of
every kind, vertical and horizontal, caught by `mamori net --netns` with
both capture engines; then podman containers (`--network none`, private
--root/--runroot, runc, an image imported from a busybox root filesystem
with EXPOSE 8080) with a veth end moved into their namespace: `mamori net
--containers` names the container and the process of a flow, reports the
listening port that is not in EXPOSE and a connection to a listed address,
and reloads the blocklist when it changes.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import io
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from mmrun import Runner, Suite, Skip, Fail, check, eq  # noqa: E402

SRC = os.environ.get("MAMORI_SOURCE") or os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIX = os.path.join(SRC, "tests", "fixtures", "net")
GEN = os.path.join(SRC, "bench", "net_gen.py")
PID = os.getpid()


def alerts(text):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def sh(cmd, check_rc=True, timeout=120, **kw):
    p = subprocess.run(cmd, shell=isinstance(cmd, str), capture_output=True, text=True,
                       timeout=timeout, **kw)
    if check_rc and p.returncode != 0:
        raise Fail("%s: exit %d: %s" % (cmd if isinstance(cmd, str) else " ".join(cmd),
                                        p.returncode, (p.stderr or p.stdout)[-500:]))
    return p


# ---- offline ------------------------------------------------------------------------

SCANS = [("nmap-T0-syn", "SYN", "Slow"), ("nmap-T1-syn", "SYN", "Slow"), ("nmap-T1-udp", "UDP", "Slow"),
         ("nmap-T2-syn", "SYN", "Fast"), ("nmap-T2-fin", "FIN", "Fast"), ("nmap-T2-null", "NULL", "Fast"),
         ("nmap-T2-xmas", "XMAS", "Fast"), ("nmap-T2-ack", "ACK", "Fast"),
         ("nmap-T2-connect", "connect", "Fast")]


def t_replay(r, name, kind, speed):
    res = r.run(["net", "-r", os.path.join(FIX, name + ".pcap"), "--exit-code", "1",
                 "--findings", "f.json"])
    eq(res.rc, 1, "exit status with --exit-code 1 " + res.err)
    al = alerts(res.out)
    eq(len(al), 1, "alerts of %s: %s" % (name, res.out))
    a = al[0]
    eq(a["rule"], "Port scan", "rule")
    eq(a["source"], "mamori_net", "source")
    eq(a["output_fields"]["net.scan.kind"], kind, "kind")
    eq(a["output_fields"]["fd.cip"], "10.231.0.1", "scanner")
    eq(a["output_fields"]["fd.sip"], "10.231.0.2", "target")
    check(a["output"].startswith(speed), "speed: " + a["output"])
    f = json.load(open(os.path.join(r.cwd, "f.json")))
    eq([(x["id"], x["kind"], x["section"]) for x in f], [("MM-NET-001", "network", "3.4.2")], "findings")


def gen(r, name, packets, *extra):
    path = os.path.join(r.tmp, name)
    sh([sys.executable, GEN, "--packets", str(packets), "--out", path] + list(extra))
    return path


def t_benign(r):
    p = gen(r, "mixed.pcap", 60000)
    res = r.run(["net", "-r", p, "--flows", "flows.jsonl", "--topology", "topo.dot",
                 "--topology-format", "dot", "--blocklist", write(r, "bl.txt", "evil.example\n203.0.113.0/24\n")])
    eq(res.rc, 0, "exit " + res.err)
    eq(alerts(res.out), [], "benign traffic must stay quiet")
    stats = json.loads(res.err.split("stats ", 1)[1])
    eq(stats["packets"], 60000, "packets")
    eq(stats["malformed"], 0, "malformed")
    flows = [json.loads(l) for l in open(os.path.join(r.cwd, "flows.jsonl"))]
    eq(len(flows), stats["flows"], "flow log lines")
    named = [f for f in flows if f.get("tls_sni") or f.get("http_host")]
    check(len(named) > len(flows) // 5, "TLS SNI / HTTP Host seen in %d of %d flows" % (len(named), len(flows)))
    check(any(f.get("vlan") == 100 for f in flows), "VLAN-tagged flows")
    check(any(":" in f["client"] for f in flows), "IPv6 flows")
    dot = open(os.path.join(r.cwd, "topo.dot")).read()
    check(dot.startswith("digraph") and "tcp/443" in dot, "DOT graph")


def write(r, name, text):
    p = os.path.join(r.tmp, name)
    with open(p, "w") as f:
        f.write(text)
    return p


def t_listed(r):
    p = gen(r, "listed.pcap", 20000, "--listed", "evil.example")
    stix = json.dumps({"type": "bundle", "id": "bundle--x", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--1", "name": "evil C2",
         "pattern_type": "stix", "pattern": "[domain-name:value = 'evil.example']",
         "valid_from": "2024-01-01T00:00:00Z"}]})
    for name, text in (("plain.txt", "# feed\nevil.example\n"),
                       ("feed.csv", "indicator,type,description\nevil.example,domain,C2\n"),
                       ("feed.json", stix)):
        res = r.run(["net", "-r", p, "--blocklist", write(r, name, text), "--findings", "f.json"])
        eq(res.rc, 0, "exit " + res.err)
        rules = sorted(a["rule"] for a in alerts(res.out))
        eq(rules, ["Connection to address of listed domain", "Connection to listed domain",
                   "DNS lookup of listed domain"], "rules with " + name)
        for a in alerts(res.out):
            check("evil.example" in a["output"], a["output"])
            if a["rule"] != "DNS lookup of listed domain":
                eq(a["output_fields"]["fd.sip"], "10.66.0.5", "listed address")
    # the address itself listed, as CIDR
    res = r.run(["net", "-r", p, "--blocklist", write(r, "ip.txt", "10.66.0.0/16\n")])
    eq([a["rule"] for a in alerts(res.out)], ["Connection with listed address"], "CIDR")


def t_pcapng(r):
    if not shutil.which("editcap"):
        raise Skip("editcap (tshark) is not installed")
    p = gen(r, "m.pcap", 5000)
    ng = os.path.join(r.tmp, "m.pcapng")
    sh(["editcap", "-F", "pcapng", p, ng])
    a = r.run(["net", "-r", p, "--output", "none"])
    b = r.run(["net", "-r", ng, "--output", "none"])
    eq(b.rc, 0, "pcapng exit " + b.err)
    sa, sb = (json.loads(x.err.split("stats ", 1)[1]) for x in (a, b))
    eq(sb["flows"], sa["flows"], "flows pcap vs pcapng")
    eq(sb["packets"], 5000, "packets")
    c = r.run(["net", "-r", p, "--output", "none", "--filter", "udp port 53"])
    sc = json.loads(c.err.split("stats ", 1)[1])
    check(0 < sc["packets"] < 5000, "filter: %d packets" % sc["packets"])


def t_errors(r):
    p = gen(r, "e.pcap", 100)
    data = open(p, "rb").read()
    t = write(r, "t.pcap", "")
    with open(t, "wb") as f:
        f.write(data[:-7])
    r.expect_error(["net", "-r", t], must_name=["t.pcap", "offset"])
    r.expect_error(["net", "-r", os.path.join(r.tmp, "missing.pcap")], must_name=["missing.pcap"])
    r.expect_error(["net", "-r", p, "--blocklist", write(r, "bad.json", "{\"objects\": 5}")],
                   must_name=["bad.json"])
    r.expect_error(["net", "-r", p, "--baseline", write(r, "b.json", "{\"nodes\": [], \"edges\": [{}]}")],
                   must_name=["b.json", "edges[0]"])
    r.expect_error(["net"], must_name=[])


def t_baseline(r):
    p = gen(r, "b1.pcap", 20000, "--seed", "1")
    res = r.run(["net", "-r", p, "--learn", "--baseline-out", "base.json"])
    eq(res.rc, 0, res.err)
    eq(alerts(res.out), [], "learning is quiet")
    base = json.load(open(os.path.join(r.cwd, "base.json")))
    check(len(base["edges"]) > 10 and all("port" in e for e in base["edges"]), "edges learned")
    same = r.run(["net", "-r", p, "--baseline", "base.json"])
    eq(alerts(same.out), [], "the learned traffic against its own baseline")
    # a new client talking to a new service
    other = gen(r, "b2.pcap", 3000, "--seed", "99")
    res = r.run(["net", "-r", other, "--baseline", "base.json"])
    rules = {a["rule"] for a in alerts(res.out)}
    check("Flow outside baseline" in rules, "new flows reported: %s" % rules)


# ---- live ---------------------------------------------------------------------------

class Net:
    """Two namespaces joined by a veth pair: scanner 10.232.0.1 and target
    10.232.0.2-.21, with TCP listeners on 22 and 8080 and a UDP echo on 5353."""

    def __init__(self):
        if os.geteuid() != 0:
            raise Skip("needs root (network namespaces)")
        if not shutil.which("nmap"):
            raise Skip("nmap is not installed")
        self.a, self.b = "mmna%d" % PID, "mmnb%d" % PID
        self.procs = []
        sh(["ip", "netns", "add", self.a])
        sh(["ip", "netns", "add", self.b])
        va, vb = "vna%d" % PID, "vnb%d" % PID
        sh(["ip", "link", "add", va, "type", "veth", "peer", "name", vb])
        sh(["ip", "link", "set", va, "netns", self.a])
        sh(["ip", "link", "set", vb, "netns", self.b])
        sh(["ip", "-n", self.a, "addr", "add", "10.232.0.1/24", "dev", va])
        for i in range(2, 22):
            sh(["ip", "-n", self.b, "addr", "add", "10.232.0.%d/24" % i, "dev", vb])
        for ns, v in ((self.a, va), (self.b, vb)):
            sh(["ip", "-n", ns, "link", "set", v, "up"])
            sh(["ip", "-n", ns, "link", "set", "lo", "up"])
        code = ("import socket,threading\n"
                "def tcp(p):\n s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                " s.bind(('0.0.0.0',p));s.listen(128)\n while True:\n  c,_=s.accept();c.close()\n"
                "for p in (22,8080): threading.Thread(target=tcp,args=(p,),daemon=True).start()\n"
                "u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM);u.bind(('0.0.0.0',5353))\n"
                "while True:\n d,a=u.recvfrom(2048);u.sendto(d,a)\n")
        self.procs.append(subprocess.Popen(["ip", "netns", "exec", self.b, sys.executable, "-c", code]))
        time.sleep(0.5)

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


class Agent:
    def __init__(self, r, args):
        self.out = open(os.path.join(r.tmp, "net-%d.out" % time.monotonic_ns()), "w+")
        self.err = open(self.out.name + ".err", "w+")
        self.p = subprocess.Popen([r.bin] + args, stdout=self.out, stderr=self.err, env=r.env(),
                                  cwd=r.cwd)
        deadline = time.time() + 30
        while time.time() < deadline:
            self.err.seek(0)
            if "ready" in self.err.read():
                return
            if self.p.poll() is not None:
                break
            time.sleep(0.1)
        self.err.seek(0)
        raise Fail("mamori net did not start: " + self.err.read()[-800:])

    def stop(self):
        self.p.send_signal(signal.SIGINT)
        try:
            self.p.wait(60)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise Fail("mamori net did not stop on SIGINT")
        self.out.seek(0)
        self.err.seek(0)
        return self.p.returncode, alerts(self.out.read()), self.err.read()


LIVE_SCANS = [("-T4", "-sS", "SYN"), ("-T5", "-sT", "connect"), ("-T3", "-sU", "UDP"),
              ("-T4", "-sF", "FIN"), ("-T4", "-sN", "NULL"), ("-T5", "-sX", "XMAS"),
              ("-T4", "-sA", "ACK")]


def t_live_scans(r, net, engine):
    for tmpl, kind_flag, kind in LIVE_SCANS:
        ag = Agent(r, ["net", "--netns", "/run/netns/" + net.b, "--engine", engine])
        ports = "1-40,5353" if kind == "UDP" else "1-200,8080"
        sh(["ip", "netns", "exec", net.a, "nmap", "-n", "-Pn", tmpl, kind_flag, "--max-retries", "1",
            "-p", ports, "10.232.0.2"], timeout=300)
        time.sleep(0.3)
        rc, al, err = ag.stop()
        eq(rc, 0, "exit " + err[-300:])
        scans = [a for a in al if a["rule"] == "Port scan"]
        eq(len(scans), 1, "%s %s scan alerts: %s" % (tmpl, kind_flag, [a["output"] for a in al]))
        eq(scans[0]["output_fields"]["net.scan.kind"].split("+")[0], kind, "kind of " + kind_flag)
        eq(scans[0]["output_fields"]["net.scan.type"], "vertical", "vertical")
        check('"dropped":0' in err, "capture drops: " + err[-300:])
    # horizontal: port 22 on 20 addresses
    ag = Agent(r, ["net", "--netns", "/run/netns/" + net.b, "--engine", engine])
    sh(["ip", "netns", "exec", net.a, "nmap", "-n", "-Pn", "-T4", "-sS", "-p", "22,23",
        "10.232.0.2-21"], timeout=300)
    time.sleep(0.3)
    rc, al, err = ag.stop()
    hz = [a for a in al if a["output_fields"].get("net.scan.type") == "horizontal"]
    check(len(hz) >= 1 and hz[0]["output_fields"]["fd.cip"] == "10.232.0.1",
          "horizontal scan: %s" % [a["output"] for a in al])


def t_live_benign(r, net):
    ag = Agent(r, ["net", "--netns", "/run/netns/" + net.b])
    code = ("import socket\nfor i in range(30):\n s=socket.create_connection(('10.232.0.2',8080));"
            "s.close()\nu=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
            "for i in range(20): u.sendto(b'hi',('10.232.0.2',5353)); u.recv(100)\n")
    sh(["ip", "netns", "exec", net.a, sys.executable, "-c", code])
    time.sleep(0.3)
    rc, al, err = ag.stop()
    eq([a["output"] for a in al], [], "repeated connections to one open port are no scan")


def t_live_drops(r, net):
    """The kernel's drop counter is reported: a 4 MiB ring, the capture
    stopped (SIGSTOP) while 6,000 datagrams of 1,400 bytes (8.4 MB) arrive,
    then let go: what it received plus what the kernel dropped is what was
    sent, and some were dropped."""
    sent = 6000
    ag = Agent(r, ["net", "--netns", "/run/netns/" + net.b, "--engine", "afpacket", "--buffer", "4M",
                   "--filter", "udp and dst port 7777", "--output", "none"])
    ag.p.send_signal(signal.SIGSTOP)
    try:
        code = ("import socket\nu=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                "for i in range(%d): u.sendto(b'x'*1400,('10.232.0.2',7777))\n" % sent)
        sh(["ip", "netns", "exec", net.a, sys.executable, "-c", code])
        time.sleep(0.3)
    finally:
        ag.p.send_signal(signal.SIGCONT)
    time.sleep(1)
    rc, al, err = ag.stop()
    eq(rc, 0, "exit " + err[-300:])
    stats = [l for l in err.splitlines() if "capture {" in l]
    check(stats, "no capture statistics: " + err[-300:])
    cap = json.loads(stats[-1].split("capture ", 1)[1])
    eq(cap["received"] + cap["dropped"], sent, "received + dropped: %s" % cap)
    check(cap["dropped"] > 0 and cap["received"] > 0, "some dropped, some received: %s" % cap)


# ---- podman --------------------------------------------------------------------------

class Pod:
    def __init__(self, tmp):
        if os.geteuid() != 0:
            raise Skip("needs root")
        if not shutil.which("podman") or not shutil.which("runc"):
            raise Skip("podman or runc is not installed (Debian packages podman, runc)")
        bb = shutil.which("busybox")
        if not bb:
            raise Skip("busybox is not installed")
        self.root = os.path.join(tmp, "pstore")
        self.base = ["podman", "--root", self.root, "--runroot", os.path.join(tmp, "prun"),
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--runtime", "runc"]
        tar = os.path.join(tmp, "rootfs.tar")
        with tarfile.open(tar, "w") as t:
            for d in ("bin", "etc", "tmp", "proc", "sys", "dev"):
                ti = tarfile.TarInfo(d)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            t.add(bb, "bin/busybox")
            for tool in ("sh", "nc", "sleep", "cat", "true"):
                ti = tarfile.TarInfo("bin/" + tool)
                ti.type = tarfile.SYMTYPE
                ti.linkname = "busybox"
                t.addfile(ti)
            pw = b"root:x:0:0:root:/:/bin/sh\n"
            ti = tarfile.TarInfo("etc/passwd")
            ti.size = len(pw)
            t.addfile(ti, io.BytesIO(pw))
        self.image = "localhost/mmnet%d:1" % PID
        sh(self.base + ["import", "--change", "EXPOSE 8080", "--change", "CMD /bin/sh", tar, self.image],
           timeout=300)
        self.names = []

    def run(self, name, cmd):
        sh(self.base + ["run", "-d", "--name", name, "--network", "none", "--ulimit",
                        "nofile=1024:1024", "--ulimit", "nproc=1024:1024", self.image,
                        "/bin/sh", "-c", cmd], timeout=300)
        self.names.append(name)
        pid = sh(self.base + ["inspect", "-f", "{{.State.Pid}}", name]).stdout.strip()
        return int(pid)

    def close(self):
        for n in self.names:
            subprocess.run(self.base + ["rm", "-f", "-t", "0", n], capture_output=True, timeout=120)
        subprocess.run(self.base + ["rmi", "-f", self.image], capture_output=True, timeout=120)


def t_containers(r):
    pod = Pod(r.tmp)
    cli_ns = "mmnc%d" % PID
    try:
        name = "mmnet-web-%d" % PID
        pid = pod.run(name, "while true; do nc -l -p 9090 -e /bin/cat; done")
        sh(["ip", "netns", "add", cli_ns])
        vh, vc = "vnh%d" % PID, "vnc%d" % PID
        sh(["ip", "link", "add", vh, "type", "veth", "peer", "name", vc])
        sh(["ip", "link", "set", vh, "netns", cli_ns])
        sh(["ip", "link", "set", vc, "netns", str(pid)])
        sh(["ip", "-n", cli_ns, "addr", "add", "10.233.0.1/24", "dev", vh])
        sh(["ip", "-n", cli_ns, "link", "set", vh, "up"])
        sh(["nsenter", "-t", str(pid), "-n", "ip", "addr", "add", "10.233.0.2/24", "dev", vc])
        sh(["nsenter", "-t", str(pid), "-n", "ip", "link", "set", vc, "up"])
        bl = write(r, "bl.txt", "203.0.113.9\n")
        ag = Agent(r, ["net", "--containers", "--storage-root", pod.root, "--blocklist", bl,
                       "--flows", "flows.jsonl"])
        err0 = open(ag.err.name).read()
        check("exposed ports from its image" in err0 and name in err0, "EXPOSE read: " + err0[-400:])
        # a client talks to the container's port 9090 (not exposed) a few times
        code = ("import socket,time\nfor i in range(3):\n s=socket.create_connection(('10.233.0.2',9090));"
                "s.sendall(b'hello');s.recv(10);s.close();time.sleep(0.2)\n")
        sh(["ip", "netns", "exec", cli_ns, sys.executable, "-c", code])
        time.sleep(2.5)          # the socket table is read every 2 s
        sh(["ip", "netns", "exec", cli_ns, sys.executable, "-c", code])
        # the container reaches out to a listed address (then: reloaded list)
        sh(["nsenter", "-t", str(pid), "-n", "ip", "route", "add", "203.0.113.0/24", "via", "10.233.0.1"])
        sh(pod.base + ["exec", name, "/bin/sh", "-c", "nc -w 1 203.0.113.9 443 </dev/null; true"], check_rc=False)
        with open(bl, "w") as f:
            f.write("203.0.113.10\n")
        time.sleep(1.5)
        sh(pod.base + ["exec", name, "/bin/sh", "-c", "nc -w 1 203.0.113.10 443 </dev/null; true"], check_rc=False)
        time.sleep(0.5)
        rc, al, err = ag.stop()
        eq(rc, 0, "exit " + err[-400:])
        check("blocklist reloaded" in err, "reload said: " + err[-400:])
        listen = [a for a in al if a["rule"] == "Unexpected listening port"]
        eq(len(listen), 1, "listening-port alerts: %s" % [a["output"] for a in al])
        lf = listen[0]["output_fields"]
        eq(lf["fd.sport"], 9090, "port")
        eq(lf["container.name"], name, "container of the listening port")
        eq(lf["container.image.repository"], pod.image.rsplit(":", 1)[0], "image")
        listed = [a for a in al if a["rule"] == "Connection with listed address"]
        eq(sorted(a["output_fields"]["fd.sip"] for a in listed), ["203.0.113.10", "203.0.113.9"],
           "listed connections: %s" % [a["output"] for a in al])
        eq({a["output_fields"]["container.name"] for a in listed}, {name}, "listed: container")
        flows = [json.loads(l) for l in open(os.path.join(r.cwd, "flows.jsonl"))]
        web = [f for f in flows if f["server_port"] == 9090]
        check(len(web) >= 6, "flows to 9090: %d" % len(web))
        owners = [f.get("server_owner", {}) for f in web]
        check(all(o.get("container", {}).get("name") == name for o in owners), "flow owner container")
        check(any(o.get("comm") == "nc" for o in owners), "flow owner process: %s" % owners)
    finally:
        subprocess.run(["ip", "netns", "del", cli_ns], capture_output=True)
        pod.close()


def main():
    s = Suite()
    only = os.environ.get("MAMORI_NET_ONLY")   # run the cases whose name has it
    if only:
        case = s.case
        s.case = lambda name, fn, *a: case(name, fn, *a) if only in name else None
    r = Runner()
    try:
        for name, kind, speed in SCANS:
            s.case("replay-" + name, t_replay, r, name, kind, speed)
        s.case("benign-mixed-quiet", t_benign, r)
        s.case("listed-domain", t_listed, r)
        s.case("pcapng-and-filter", t_pcapng, r)
        s.case("errors", t_errors, r)
        s.case("baseline", t_baseline, r)
        live = ["live-scans-afpacket", "live-scans-pcap", "live-benign", "live-drops-counted"]
        try:
            net = Net()
        except (Skip, Fail) as e:
            s.not_run(live, e)
        else:
            try:
                s.case("live-scans-afpacket", t_live_scans, r, net, "afpacket")
                s.case("live-scans-pcap", t_live_scans, r, net, "pcap")
                s.case("live-benign", t_live_benign, r, net)
                s.case("live-drops-counted", t_live_drops, r, net)
            finally:
                net.close()
        s.case("podman-containers", t_containers, r)
    finally:
        r.close()
    s.finish()


if __name__ == "__main__":
    main()
