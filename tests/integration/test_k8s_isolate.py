#!/usr/bin/env python3
"""test_k8s_isolate - node isolation (SP 800-190 §3.3.5) against the recording
API server (kubeapi.py): `mamori k8s isolate NODE` and the `isolate-node`
action of an audit rule.

The node is served with a taint of its own and a resourceVersion; each
PATCH is applied to the served object, so that a second run sees a node
already isolated.  Assertions are on the exact requests: methods and
paths in order, Content-Type, the service-account bearer token, and the
PATCH bodies byte for byte (mamori sends compact JSON with sorted keys).
"""

import json
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Fail, Runner, Suite, check, eq, skip  # noqa: E402

TOKEN = "sa-t0k3n-for-isolation"


def node_obj(name):
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "resourceVersion": "100"},
            "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoSchedule"}]}}


class Cluster:
    """A node served by GET and changed by PATCH (strategic merge of the
    two shapes mamori sends), as the API server would."""

    def __init__(self, api, name, conflicts=0):
        self.api = api
        self.node = node_obj(name)
        self.path = "/api/v1/nodes/" + name
        self.conflicts = conflicts
        self.lock = threading.Lock()
        api.route("GET", self.path, lambda req: (200, self.node))
        api.route("PATCH", self.path, self.patch)

    def patch(self, req):
        with self.lock:
            p = req["json"] or {}
            rv = p.get("metadata", {}).get("resourceVersion")
            if rv is not None and rv != self.node["metadata"]["resourceVersion"]:
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
            if rv is not None and self.conflicts:
                self.conflicts -= 1
                self.node["metadata"]["resourceVersion"] = str(
                    int(self.node["metadata"]["resourceVersion"]) + 1)
                return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
            spec = p.get("spec", {})
            if "unschedulable" in spec:
                self.node["spec"]["unschedulable"] = spec["unschedulable"]
            if "taints" in spec:
                self.node["spec"]["taints"] = spec["taints"]
            ann = p.get("metadata", {}).get("annotations")
            if ann:
                self.node["metadata"].setdefault("annotations", {}).update(ann)
            self.node["metadata"]["resourceVersion"] = str(
                int(self.node["metadata"]["resourceVersion"]) + 1)
            return 200, self.node


class T:
    def __init__(self):
        self.r = Runner()
        try:
            import kubeapi  # noqa: F401
            import regkit
        except ImportError as e:
            skip("kubeapi helper: %s" % e)
        if regkit.missing_tools("openssl"):
            skip("openssl is not installed")

    def close(self):
        self.r.close()

    def api(self, name):
        import kubeapi
        d = os.path.join(self.r.root, name)
        api = kubeapi.KubeAPI(d, tokens={TOKEN})
        api.start()
        sa = os.path.join(d, "sa")
        os.makedirs(sa)
        with open(os.path.join(sa, "token"), "w") as f:
            f.write(TOKEN + "\n")
        with open(api.certs.ca_crt) as f, open(os.path.join(sa, "ca.crt"), "w") as g:
            g.write(f.read())
        return api, sa

    def iso(self, api, sa, node, *extra):
        return self.r.run(["k8s", "isolate", node, "--server", api.url, "--sa-dir", sa]
                          + list(extra))

    def by_hand_exact_patches(self):
        api, sa = self.api("hand")
        try:
            cl = Cluster(api, "worker-1")
            r = self.iso(api, sa, "worker-1", "--effect", "NoExecute", "--reason", "incident 42")
            eq(r.rc, 0, "exit status (%s)" % r.err[-300:])
            check("cordoned, tainted" in r.out, r.out)
            eq([(q["method"], q["path"]) for q in api.requests],
               [("GET", cl.path), ("PATCH", cl.path), ("PATCH", cl.path)], "requests")
            for q in api.requests:
                eq(q["headers"].get("authorization"), "Bearer " + TOKEN, "token")
            p1, p2 = api.requests[1], api.requests[2]
            eq(p1["headers"].get("content-type"), "application/strategic-merge-patch+json",
               "content type")
            eq(p1["body"], b'{"spec":{"unschedulable":true}}', "cordon body")
            eq(p2["body"],
               b'{"metadata":{"annotations":{"mamori.io/isolation-reason":"incident 42"},'
               b'"resourceVersion":"101"},"spec":{"taints":[{"effect":"NoSchedule",'
               b'"key":"dedicated","value":"db"},{"effect":"NoExecute",'
               b'"key":"mamori.io/compromised","value":"true"}]}}', "taint body")
            # again: nothing to change, no PATCH
            n = len(api.requests)
            r = self.iso(api, sa, "worker-1", "--effect", "NoExecute")
            eq(r.rc, 0, "second run (%s)" % r.err[-300:])
            check("already" in r.out, r.out)
            eq([q["method"] for q in api.requests[n:]], ["GET"], "second run requests")
        finally:
            api.stop()

    def conflict_retried(self):
        api, sa = self.api("conflict")
        try:
            cl = Cluster(api, "worker-2", conflicts=1)
            r = self.iso(api, sa, "worker-2")
            eq(r.rc, 0, "exit status (%s)" % r.err[-300:])
            eq([q["method"] for q in api.requests], ["GET", "PATCH", "PATCH", "GET", "PATCH"],
               "requests")
            eq(api.requests[4]["json"]["metadata"]["resourceVersion"], "102", "fresh version")
            eq([t["key"] for t in cl.node["spec"]["taints"]],
               ["dedicated", "mamori.io/compromised"], "taints kept and added")
            eq(cl.node["spec"]["unschedulable"], True, "cordoned")
        finally:
            api.stop()

    def refusals(self):
        api, sa = self.api("refuse")
        try:
            api.route("GET", "/api/v1/nodes/w3", (200, node_obj("w3")))
            api.route("PATCH", "/api/v1/nodes/w3",
                      (403, {"kind": "Status", "code": 403, "reason": "Forbidden",
                             "message": "nodes \"w3\" is forbidden"}))
            r = self.iso(api, sa, "w3")
            eq(r.rc, 2, "forbidden: exit status")
            check("403" in r.err and "forbidden" in r.err, r.err)
            r = self.iso(api, sa, "absent")
            eq(r.rc, 2, "absent node: exit status")
            check("404" in r.err, r.err)
            r = self.iso(api, sa, "../etc")
            eq(r.rc, 2, "bad name: exit status")
            check("not a valid node name" in r.err, r.err)
            r = self.iso(api, sa, "w3", "--effect", "Evict")
            eq(r.rc, 2, "bad effect")
            r = self.r.run(["k8s", "isolate", "w3", "--server", api.url.replace("https", "http"),
                            "--sa-dir", sa])
            eq(r.rc, 2, "plain HTTP refused")
            with open(os.path.join(sa, "token"), "w") as f:
                f.write("wrong\n")
            r = self.iso(api, sa, "w3")
            eq(r.rc, 2, "wrong token")
            check("401" in r.err, r.err)
        finally:
            api.stop()

    def audit_action(self):
        api, sa = self.api("action")
        try:
            cl = Cluster(api, "node-7")
            rules = os.path.join(self.r.root, "iso-rules.yaml")
            with open(rules, "w") as f:
                f.write("- rule: Privileged pod isolates its node\n"
                        "  condition: ka.target.resource=pods and ka.verb=create and "
                        "ka.req.pod.containers.privileged intersects (true)\n"
                        "  output: privileged pod %ka.target.name on %jevt.value[/requestObject/spec/nodeName]\n"
                        "  priority: CRITICAL\n"
                        "  source: k8s_audit\n"
                        "  action: isolate-node\n")
            pod = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "auditID": "iso-1",
                   "stage": "ResponseComplete", "verb": "create",
                   "requestURI": "/api/v1/namespaces/a/pods", "user": {"username": "eve"},
                   "objectRef": {"resource": "pods", "namespace": "a", "name": "x"},
                   "responseStatus": {"code": 201},
                   "requestObject": {"spec": {"nodeName": "node-7", "containers": [
                       {"name": "c", "image": "busybox",
                        "securityContext": {"privileged": True}}]}}}
            log = os.path.join(self.r.root, "audit.log")
            with open(log, "w") as f:
                f.write(json.dumps(pod) + "\n" + json.dumps(pod) + "\n")
            r = self.r.run(["k8s", "audit", "--rules", rules, "--format", "json", "--server",
                            api.url, "--sa-dir", sa, log])
            eq(r.rc, 0, "exit status (%s)" % r.err[-500:])
            alerts = [json.loads(l) for l in r.out.splitlines() if l.strip()]
            eq(len(alerts), 2, "alerts")
            eq(alerts[0].get("action"), "isolate-node", "action in the alert")
            check("node node-7 cordoned and tainted" in r.err, r.err)
            eq([q["method"] for q in api.requests], ["GET", "PATCH", "PATCH"],
               "one isolation for two alerts")
            eq(api.requests[2]["json"]["metadata"]["annotations"],
               {"mamori.io/isolation-reason":
                "rule 'Privileged pod isolates its node' (audit iso-1)"}, "reason")
            check(cl.node["spec"]["unschedulable"], "cordoned")
            # without API access the alert says so and nothing is sent
            n = len(api.requests)
            r = self.r.run(["k8s", "audit", "--rules", rules, "--format", "json", log])
            eq(r.rc, 0, "exit status")
            check("not isolated: no API access" in r.err, r.err)
            eq(len(api.requests), n, "no request")
        finally:
            api.stop()


    def agent_action(self):
        api, sa = self.api("agent")
        try:
            cl = Cluster(api, "node-3")
            rules = os.path.join(self.r.root, "agent-rules.yaml")
            with open(rules, "w") as f:
                f.write("- rule: Miner isolates its node\n  desc: d\n"
                        "  condition: evt.type=execve and proc.name=xmrig\n"
                        "  output: miner %proc.name\n  priority: CRITICAL\n"
                        "  action: isolate-node\n")
            ev = os.path.join(self.r.root, "ev.jsonl")
            with open(ev, "w") as f:
                for pid in (4242, 4243):
                    f.write(json.dumps({"evt.type": "execve", "proc.pid": pid, "proc.ppid": 1,
                                        "proc.name": "xmrig"}) + "\n")
            r = self.r.run(["agent", "--rules", rules, "--source", "replay:" + ev,
                            "--node-name", "node-3", "--server", api.url, "--sa-dir", sa,
                            "--isolate-effect", "NoExecute"])
            eq(r.rc, 0, "exit status (%s)" % r.err[-400:])
            alerts = [json.loads(l) for l in r.out.splitlines() if l.startswith("{")]
            eq([a["output_fields"]["mamori.isolate"] for a in alerts],
               ["node node-3 cordoned and tainted",
                "node node-3 cordoned and tainted (earlier)"], "isolation results")
            eq([q["method"] for q in api.requests], ["GET", "PATCH", "PATCH"], "requests")
            eq(cl.node["spec"]["taints"][-1],
               {"effect": "NoExecute", "key": "mamori.io/compromised", "value": "true"}, "taint")
            eq(cl.node["metadata"]["annotations"]["mamori.io/isolation-reason"],
               "rule 'Miner isolates its node' (mamori agent)", "reason")
        finally:
            api.stop()


def main():
    s = Suite()
    names = ["by-hand-exact-patches", "conflict-retried", "refusals", "audit-action",
             "agent-action"]
    try:
        t = T()
    except Exception as e:
        s.not_run(names, e)
        s.finish()
    try:
        s.case(names[0], t.by_hand_exact_patches)
        s.case(names[1], t.conflict_retried)
        s.case(names[2], t.refusals)
        s.case(names[3], t.audit_action)
        s.case(names[4], t.agent_action)
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
