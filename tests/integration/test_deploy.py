#!/usr/bin/env python3
"""test_deploy - the Kubernetes manifests of deploy/ (issue 19) under
`mamori k8s`: clean with their annotations; every id an annotation ignores
is one `mamori k8s --no-annotations` does report for that object (no stale
or blanket ignore) and the server and worker ignore no Pod Security
finding; and what the manifests promise: the agent is not privileged, adds
exactly CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE and drops the rest, mounts
host paths read-only only; the server and worker drop every capability and
run as non-root on a read-only root; PostgreSQL is reached through a URL
without a password and a Secret mounted as a file, never an environment
variable.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from mmrun import Runner, Suite, check, eq, skip  # noqa: E402
import mmrun  # noqa: E402

DEPLOY = os.path.join(mmrun.source_root(), "deploy")


def load():
    try:
        import yaml
    except ImportError:
        skip("python3-yaml is not installed")
    docs = []
    for n in sorted(os.listdir(DEPLOY)):
        if n.endswith(".yaml"):
            with open(os.path.join(DEPLOY, n)) as f:
                docs += [d for d in yaml.safe_load_all(f) if d]
    return docs


def obj_name(d):
    return "%s/%s/%s" % (d["metadata"].get("namespace", ""), d["kind"], d["metadata"]["name"])


def pod_spec(d):
    return d.get("spec", {}).get("template", {}).get("spec")


def ignores(d):
    ann = d["spec"]["template"]["metadata"].get("annotations", {})
    v = ann.get("mamori.io/ignore", "")
    return {x.strip() for x in v.split(",") if x.strip()}


class T:
    def __init__(self):
        self.run = Runner()

    def close(self):
        self.run.close()

    def clean(self):
        r = self.run.run(["k8s", DEPLOY, "--format", "json"])
        eq(r.rc, 0, "mamori k8s deploy/ (%s)" % r.describe())
        eq([f["id"] + " " + str(f.get("location", {}).get("path")) for f in r.json["findings"]],
           [], "findings")
        r = self.run.run(["k8s", DEPLOY])
        n = len(load())
        check(("%d objects checked" % n) in r.err, "all %d objects read: %r" % (n, r.err))

    def ignores_needed(self):
        docs = load()
        r = self.run.run(["k8s", DEPLOY, "--format", "json", "--no-annotations"])
        check(r.rc == 0, "mamori k8s --no-annotations: %s" % r.describe())
        found = {}
        for f in r.json["findings"]:
            found.setdefault(f["location"]["resource"], set()).add(f["id"])
        total = set()
        for d in docs:
            if pod_spec(d) is None:
                continue
            ig = ignores(d)
            check("*" not in ig, "%s ignores everything" % obj_name(d))
            eq(found.get(obj_name(d), set()), ig,
               "what %s ignores and what it is found to have" % obj_name(d))
            total |= ig
            if d["kind"] != "DaemonSet":
                eq({i for i in ig if i.startswith("MM-PSS-")}, set(),
                   "Pod Security findings ignored on %s" % obj_name(d))
        check(len(r.json["findings"]) > 0, "no finding at all without the annotations")

    def agent_privileges(self):
        ds = [d for d in load() if d["kind"] == "DaemonSet"]
        eq(len(ds), 1, "agent DaemonSets")
        spec = pod_spec(ds[0])
        check(not spec.get("hostNetwork") and not spec.get("hostIPC"), "host network or IPC")
        vols = {v["name"]: v for v in spec.get("volumes", [])}
        for c in spec["containers"] + spec.get("initContainers", []):
            sc = c.get("securityContext", {})
            eq(sc.get("privileged", False), False, "privileged")
            eq(sc.get("allowPrivilegeEscalation"), False, "allowPrivilegeEscalation")
            eq(sc.get("readOnlyRootFilesystem"), True, "readOnlyRootFilesystem")
            eq(sc["capabilities"]["drop"], ["ALL"], "dropped capabilities")
            eq(sorted(sc["capabilities"]["add"]), ["BPF", "PERFMON", "SYS_RESOURCE"],
               "added capabilities")
            for m in c.get("volumeMounts", []):
                if "hostPath" in vols[m["name"]]:
                    eq(m.get("readOnly"), True, "host mount %s read-only" % m["mountPath"])

    def restricted_services(self):
        docs = load()
        for d in docs:
            spec = pod_spec(d)
            if spec is None or d["kind"] == "DaemonSet":
                continue
            eq(spec["securityContext"].get("runAsNonRoot"), True,
               "%s runAsNonRoot" % obj_name(d))
            eq(spec.get("automountServiceAccountToken"), False, "%s token" % obj_name(d))
            for c in spec["containers"] + spec.get("initContainers", []):
                sc = c["securityContext"]
                eq((sc["capabilities"]["drop"], sc.get("capabilities", {}).get("add")),
                   (["ALL"], None), "%s capabilities" % obj_name(d))
                eq(sc["readOnlyRootFilesystem"], True, "%s read-only root" % obj_name(d))
                for e in c.get("env", []):
                    check("secretKeyRef" not in e.get("valueFrom", {}),
                          "%s: %s comes from a Secret" % (obj_name(d), e["name"]))
        cms = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] ==
               "mamori-postgres"]
        eq(len(cms), 1, "the PostgreSQL ConfigMap")
        url = cms[0]["data"]["url"]
        check(url.startswith("postgres://") and ":" not in url.split("@")[0][len("postgres://"):],
              "the URL holds no password: %r" % url)
        check("sslmode=verify-full" in url, "TLS verified to the database: %r" % url)


def main():
    t = T()
    s = Suite()
    try:
        for name in ("clean", "ignores_needed", "agent_privileges", "restricted_services"):
            s.case("deploy-" + name.replace("_", "-"), getattr(t, name))
    finally:
        t.close()
    s.finish()


if __name__ == "__main__":
    main()
