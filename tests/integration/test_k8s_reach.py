"""test_k8s_reach - `mamori k8s reach`, `mamori k8s cis` and the posture II
check families end to end.

- Reachability against an independent reference: random clusters (seeded,
  different every case: workloads with labels and named ports in labelled
  namespaces, pods with recorded IPs, and NetworkPolicies drawn from every
  shape the API allows: pod/namespace/combined selectors with matchLabels
  and every matchExpressions operator, ipBlocks with except, numbered,
  named and ranged ports, protocols, policyTypes present or defaulted,
  empty and missing from/to/ports) are evaluated by a small Python model
  written from the Kubernetes NetworkPolicy reference, probe port by probe
  port, and every pair must agree with mamori's JSON matrix.
- The command: table, JSON and DOT, bad formats (exit 2), --checks
  net,sensitivity,node with --sensitivity-key/--sensitivity-map and --ps.
- `mamori k8s cis` on kube-bench's definitions (../shared, skipped when
  absent) with a fake root and recorded ps: text, JSON, --findings SARIF,
  --exit-code.
"""

import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrun
from mmrun import Fail, Skip, check, eq

SHARED = os.environ.get("MAMORI_SHARED") or os.path.join(mmrun.source_root(), "..", "shared",
                                                          "testdata")
CIS = os.path.join(SHARED, "cis", "cfg")

PROTOS = ["TCP", "UDP", "SCTP"]


# --- the reference model -------------------------------------------------------------
def sel_match(sel, labels):
    if sel is None:
        return True
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, vals = e["key"], e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def ip_in(cidr, ip):
    import ipaddress
    try:
        return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


class Model:
    def __init__(self, objs):
        self.ns_labels = {}
        self.w = []
        self.pols = []
        for o in objs:
            if o["kind"] == "Namespace":
                n = o["metadata"]["name"]
                lab = dict(o["metadata"].get("labels") or {})
                lab["kubernetes.io/metadata.name"] = n
                self.ns_labels[n] = lab
        for o in objs:
            if o["kind"] in ("Deployment", "Pod"):
                t = o["spec"]["template"] if o["kind"] == "Deployment" else o
                ns = o["metadata"].get("namespace", "default")
                self.ns_labels.setdefault(ns, {"kubernetes.io/metadata.name": ns})
                self.w.append({"id": "%s/%s/%s" % (ns, o["kind"], o["metadata"]["name"]),
                               "ns": ns, "labels": t["metadata"].get("labels") or {},
                               "ports": [p for c in t["spec"]["containers"] for p in c.get("ports") or []],
                               "ip": (o.get("status") or {}).get("podIP")})
            elif o["kind"] == "NetworkPolicy":
                s = o["spec"]
                types = s.get("policyTypes")
                if not types:
                    types = ["Ingress"] + (["Egress"] if s.get("egress") else [])
                self.pols.append({"ns": o["metadata"].get("namespace", "default"), "spec": s,
                                  "types": types})

    def selects(self, p, w, d):
        return (p["ns"] == w["ns"] and d in p["types"] and
                sel_match(p["spec"].get("podSelector", {}), w["labels"]))

    def peer_has(self, p, peer, w):
        if "ipBlock" in peer:
            b = peer["ipBlock"]
            return (w["ip"] is not None and ip_in(b["cidr"], w["ip"]) and
                    not any(ip_in(e, w["ip"]) for e in b.get("except") or []))
        ps, nss = peer.get("podSelector"), peer.get("namespaceSelector")
        if ps is None and nss is None:
            return False
        if nss is None:
            if w["ns"] != p["ns"]:
                return False
        elif not sel_match(nss, self.ns_labels[w["ns"]]):
            return False
        return ps is None or sel_match(ps, w["labels"])

    def port_ok(self, rule, dst, proto, port):
        ports = rule.get("ports")
        if not ports:
            return True
        for pp in ports:
            pr = pp.get("protocol", "TCP")
            if pr != proto:
                continue
            if "port" not in pp:
                return True
            v = pp["port"]
            if isinstance(v, str):
                if any(cp.get("name") == v and cp.get("protocol", "TCP") == proto and
                       cp["containerPort"] == port for cp in dst["ports"]):
                    return True
            elif v <= port <= pp.get("endPort", v):
                return True
        return False

    def side(self, w, other, d, dst, proto, port):
        pols = [p for p in self.pols if self.selects(p, w, d)]
        if not pols:
            return True
        key, peers = ("ingress", "from") if d == "Ingress" else ("egress", "to")
        for p in pols:
            for rule in p["spec"].get(key) or []:
                pl = rule.get(peers)
                if (not pl or any(self.peer_has(p, pe, other) for pe in pl)) and \
                        self.port_ok(rule, dst, proto, port):
                    return True
        return False

    def allowed(self, a, b, proto, port):
        return (self.side(b, a, "Ingress", b, proto, port) and
                self.side(a, b, "Egress", b, proto, port))


# --- random clusters ----------------------------------------------------------------
def rand_sel(rng, keys, vals, allow_empty=True):
    s = {}
    if rng.random() < 0.5:
        s["matchLabels"] = {rng.choice(keys): rng.choice(vals)}
    if rng.random() < 0.5:
        op = rng.choice(["In", "NotIn", "Exists", "DoesNotExist"])
        e = {"key": rng.choice(keys), "operator": op}
        if op in ("In", "NotIn"):
            e["values"] = rng.sample(vals, rng.randint(1, 2))
        s["matchExpressions"] = [e]
    if not s and not allow_empty:
        s["matchLabels"] = {rng.choice(keys): rng.choice(vals)}
    return s


def rand_ports(rng):
    if rng.random() < 0.3:
        return None
    out = []
    for _ in range(rng.randint(0, 2)):
        pp = {}
        if rng.random() < 0.6:
            pp["protocol"] = rng.choice(PROTOS)
        r = rng.random()
        if r < 0.35:
            pp["port"] = rng.choice([53, 80, 443, 5432, 8080])
        elif r < 0.6:
            pp["port"] = rng.choice(["http", "dns", "pg", "metrics", "nope"])
        elif r < 0.85:
            lo = rng.choice([53, 8000, 9000])
            pp["port"] = lo
            pp["endPort"] = lo + rng.choice([0, 50, 100])
        out.append(pp)
    return out


def random_cluster(seed, nw=24, np_=14):
    rng = random.Random(seed)
    keys, vals = ["app", "tier", "team"], ["a", "b", "c"]
    objs = []
    nss = ["n0", "n1", "n2", "n3"]
    for n in nss[:3]:
        objs.append({"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": n, "labels": {"team": rng.choice(vals)}}})
    for i in range(nw):
        ns = rng.choice(nss)
        labels = {k: rng.choice(vals) for k in keys if rng.random() < 0.7}
        ports = []
        for name, num, pr in [("http", 8080, "TCP"), ("dns", 53, "UDP"), ("pg", 5432, "TCP"),
                              ("metrics", 9050, "TCP"), ("http", 80, "SCTP")]:
            if rng.random() < 0.4:
                p = {"name": name, "containerPort": num}
                if pr != "TCP":
                    p["protocol"] = pr
                ports.append(p)
        tmpl = {"metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "x", "ports": ports}]}}
        if rng.random() < 0.3:
            o = {"apiVersion": "v1", "kind": "Pod",
                 "metadata": {"name": "p%d" % i, "namespace": ns, "labels": labels},
                 "spec": tmpl["spec"], "status": {"podIP": "10.%d.0.%d" % (rng.randint(0, 3), i)}}
        else:
            o = {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "d%d" % i, "namespace": ns},
                 "spec": {"selector": {"matchLabels": labels}, "template": tmpl}}
        objs.append(o)
    for k in range(np_):
        spec = {"podSelector": rand_sel(rng, keys, vals)}
        r = rng.random()
        if r < 0.3:
            spec["policyTypes"] = rng.choice([["Ingress"], ["Egress"], ["Ingress", "Egress"]])
        for key, peers in (("ingress", "from"), ("egress", "to")):
            if rng.random() < 0.3:
                continue
            rules = []
            for _ in range(rng.randint(0, 2)):
                rule = {}
                if rng.random() < 0.75:
                    pl = []
                    for _ in range(rng.randint(0, 2)):
                        t = rng.random()
                        if t < 0.3:
                            pl.append({"podSelector": rand_sel(rng, keys, vals)})
                        elif t < 0.55:
                            pl.append({"namespaceSelector": rand_sel(rng, keys, vals)})
                        elif t < 0.8:
                            pl.append({"podSelector": rand_sel(rng, keys, vals),
                                       "namespaceSelector": rand_sel(rng, ["team",
                                                                           "kubernetes.io/metadata.name"],
                                                                     vals + nss)})
                        else:
                            pl.append({"ipBlock": {"cidr": "10.%d.0.0/16" % rng.randint(0, 3),
                                                   "except": ["10.%d.0.%d/32" % (rng.randint(0, 3), j)
                                                              for j in range(rng.randint(0, 4))]}})
                    rule[peers] = pl
                ports = rand_ports(rng)
                if ports is not None:
                    rule["ports"] = ports
                rules.append(rule)
            spec[key] = rules
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                     "metadata": {"name": "np%d" % k, "namespace": rng.choice(nss)}, "spec": spec})
    return objs


def parse_ports(text):
    """mamori's port text -> function (proto, port) -> bool"""
    if text == "*":
        return lambda pr, p: True
    rs = []
    for part in filter(None, text.split(",")):
        pr, rng_ = part.split(":")
        if rng_ == "*":
            lo, hi = 1, 65535
        elif "-" in rng_:
            lo, hi = map(int, rng_.split("-"))
        else:
            lo = hi = int(rng_)
        rs.append((pr, lo, hi))
    return lambda pr, p: any(x == pr and lo <= p <= hi for x, lo, hi in rs)


PROBES = [22, 53, 54, 80, 443, 5432, 8000, 8049, 8050, 8051, 8080, 9000, 9050, 9100, 9101, 65535]


def reach_vs_reference(r):
    d = tempfile.mkdtemp(prefix="mmt-reach-")
    pairs = mismatches = 0
    bad = []
    for seed in range(12):
        objs = random_cluster(1000 + seed)
        path = os.path.join(d, "c%d.json" % seed)
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "List", "items": objs}, f)
        res = r.run(["k8s", "reach", path, "--format", "json", "-q"])
        if res.rc != 0:
            raise Fail("reach %s: %s" % (path, res.describe()))
        doc = res.json
        m = Model(objs)
        ids = [w["id"] for w in m.w]
        eq(sorted(x["id"] for x in doc["workloads"]), sorted(ids), "workloads of seed %d" % seed)
        edges = {(e["from"], e["to"]): parse_ports(e["ports"]) for e in doc["edges"]}
        byid = {w["id"]: w for w in m.w}
        for a in ids:
            for b in ids:
                f = edges.get((a, b), lambda pr, p: False)
                for pr in PROTOS:
                    for p in PROBES + [cp["containerPort"] for cp in byid[b]["ports"]]:
                        pairs += 1
                        want = m.allowed(byid[a], byid[b], pr, p)
                        if f(pr, p) != want:
                            mismatches += 1
                            if len(bad) < 5:
                                bad.append("seed %d %s -> %s %s/%d: mamori %s, reference %s" %
                                           (seed, a, b, pr, p, f(pr, p), want))
    if mismatches:
        raise Fail("%d of %d probes differ: %s" % (mismatches, pairs, "; ".join(bad)))
    print("  %d probes over 12 random clusters agree" % pairs)


def reach_cli(r):
    d = tempfile.mkdtemp(prefix="mmt-reach-")
    path = os.path.join(d, "c.json")
    with open(path, "w") as f:
        json.dump({"apiVersion": "v1", "kind": "List", "items": random_cluster(7, 6, 3)}, f)
    t = r.run(["k8s", "reach", path, "-q"])
    eq(t.rc, 0, "table exit")
    check("FROM" in t.out and "pairs connected" in t.out, "table layout: %s" % t.out[:200])
    dot = r.run(["k8s", "reach", path, "-f", "dot", "-q"])
    eq(dot.rc, 0, "dot exit")
    check(dot.out.startswith("digraph reach {") and dot.out.rstrip().endswith("}"), "dot graph")
    bad = r.run(["k8s", "reach", path, "-f", "sarif"])
    eq(bad.rc, 2, "reach -f sarif exit")
    check("reach writes table, json or dot" in bad.err, "message: %r" % bad.err)
    r.expect_error(["k8s", "reach", os.path.join(d, "missing.yaml")], must_name=("missing.yaml",))
    out = os.path.join(d, "o.json")
    eq(r.run(["k8s", "reach", path, "-f", "json", "-o", out, "-q"]).rc, 0, "-o exit")
    check(json.load(open(out))["workloads"], "-o wrote the matrix")


def families_cli(r):
    d = tempfile.mkdtemp(prefix="mmt-fam-")
    man = os.path.join(d, "m.yaml")
    with open(man, "w") as f:
        f.write("""apiVersion: v1
kind: Pod
metadata: {name: a, namespace: pci, labels: {tier: secret}}
spec: {nodeName: n1, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: web}
spec: {nodeName: n1, containers: [{name: c, image: x}]}
""")
    res = r.run(["k8s", man, "--checks", "sensitivity", "--sensitivity-key", "tier",
                 "--sensitivity-map", "web=public", "--format", "json", "-q"])
    eq(res.rc, 0, "sensitivity exit")
    ids = sorted(x["id"] for x in res.json.get("findings") or [])
    # a (secret) and b (public, from the namespace map) share n1 today; and
    # nothing keeps either apart: one 411, two 412
    eq(ids, ["MM-K8S-411", "MM-K8S-412", "MM-K8S-412"], "sensitivity findings")
    res = r.run(["k8s", man, "--checks", "net", "--format", "json", "-q"])
    eq(sorted(x["id"] for x in res.json.get("findings") or []), ["MM-K8S-401", "MM-K8S-401"],
       "two namespaces without policies")
    ps = os.path.join(d, "ps.txt")
    with open(ps, "w") as f:
        f.write("UID PID PPID C STIME TTY TIME CMD\n"
                "root 9 1 0 Jan01 ? 00:00:00 /usr/bin/kubelet --read-only-port=10255 --config=/k.yaml\n")
    res = r.run(["k8s", "--ps", ps, "--checks", "node", "--format", "json", "-q"])
    eq(res.rc, 0, "--ps exit")
    eq([x["id"] for x in res.json.get("findings") or []], ["MM-K8S-423"], "read-only port")
    r.expect_error(["k8s", man, "--checks", "netz"], must_name=("netz",))


def cis_cli(r):
    if not os.path.isfile(os.path.join(CIS, "config.yaml")):
        raise Skip("%s is absent" % CIS)
    d = tempfile.mkdtemp(prefix="mmt-cis-")
    root = os.path.join(d, "root")
    os.makedirs(os.path.join(root, "var/lib/kubelet"))
    with open(os.path.join(root, "var/lib/kubelet/config.yaml"), "w") as f:
        f.write("authentication: {anonymous: {enabled: true}}\nauthorization: {mode: Webhook}\n")
    os.chmod(os.path.join(root, "var/lib/kubelet/config.yaml"), 0o600)
    ps = os.path.join(d, "ps")
    with open(ps, "w") as f:
        f.write("UID PID PPID C STIME TTY TIME CMD\n"
                "root 5 1 0 Jan01 ? 00:00:01 /usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n")
    base = ["k8s", "cis", "--cfg", CIS, "--root", root, "--ps", ps, "--k8s-version", "1.27",
            "--check", "4.1.9,4.2.1,4.2.2"]
    t = r.run(base)
    eq(t.rc, 0, "cis exit")
    # 4.1.9: config.yaml is 0600 (PASS); 4.2.1: anonymous enabled (FAIL);
    # 4.2.2: Webhook is not AlwaysAllow (PASS)
    for line in ("[PASS] 4.1.9", "[FAIL] 4.2.1", "[PASS] 4.2.2", "Benchmark: cis-1.9"):
        check(line in t.out, "%r in the table:\n%s" % (line, t.out))
    j = r.run(base + ["-f", "json"])
    eq({x["id"]: x["status"] for x in j.json["results"]},
       {"4.1.9": "PASS", "4.2.1": "FAIL", "4.2.2": "PASS"}, "json statuses")
    eq(j.json["totals"]["fail"], 1, "json totals")
    import subprocess
    p = subprocess.run([r.bin] + base + ["--findings", "-f", "sarif", "--exit-code", "3"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=r.env())
    eq(p.returncode, 3, "--exit-code with a FAIL")
    sarif = json.loads(p.stdout)
    eq([x["ruleId"] for x in sarif["runs"][0]["results"]], ["CIS-K8S-4.2.1"],
       "SARIF holds the failed check")
    r.expect_error(["k8s", "cis", "--cfg", os.path.join(d, "nope")], must_name=("config.yaml",))
    bad = r.run(base + ["-f", "dot"])
    eq(bad.rc, 2, "cis -f dot exit")
    check("--format" in bad.err, "message: %r" % bad.err)


def main():
    suite = mmrun.Suite()
    try:
        r = mmrun.Runner()
    except Skip as e:
        suite.skip_all(["k8s-reach"], str(e))
        suite.finish()
    try:
        suite.case("k8s-reach-vs-reference", reach_vs_reference, r)
        suite.case("k8s-reach-cli", reach_cli, r)
        suite.case("k8s-posture-families", families_cli, r)
        suite.case("k8s-cis-cli", cis_cli, r)
    finally:
        r.close()
    suite.finish()


if __name__ == "__main__":
    main()
