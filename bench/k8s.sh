#!/bin/sh
# Benchmark: `mamori k8s` fully checking a generated 10,000-object cluster
# snapshot (the JSON `kubectl get <kinds> -A -o json` writes: a List of
# Deployments, StatefulSets, DaemonSets, Jobs, CronJobs, Pods, Services,
# NetworkPolicies, ServiceAccounts, ConfigMaps, Roles, ClusterRoles and
# their bindings, Namespaces), side by side with the floors that read the
# same file: `kubectl annotate --local -f snapshot.json k=v -o name`
# (kubectl's decoder and printer, offline) and `jq length` (a JSON parse).
# hyperfine >= 5 runs; peak RSS from GNU time.  Prints the lines for
# docs/benchmarks.md.
#
# Usage: bench/k8s.sh [path/to/mamori] [objects] [runs]
set -eu
MAMORI=$(readlink -f "${1:-build/cli/mamori}")
N=${2:-10000}
RUNS=${3:-10}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$out/snapshot.json" "$N" <<'PY'
import json, random, sys
random.seed(15)
path, n = sys.argv[1], int(sys.argv[2])
items = []
nss = ["ns%02d" % i for i in range(40)]
def tmpl(name, hardened):
    sc = {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}} if hardened else {}
    c = {"name": name, "image": random.choice(["nginx:1.25", "redis:7", "app:latest",
                                              "registry.example.com/app@sha256:" + "a" * 64]),
         "ports": [{"containerPort": random.choice([80, 8080, 443, 22]), "name": "http"}],
         "env": [{"name": "MODE", "value": "prod"}] +
                ([{"name": "DB_PASSWORD", "value": "x"}] if random.random() < 0.1 else []),
         "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}} if hardened else {},
         "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                             "capabilities": {"drop": ["ALL"]}} if hardened else
                            {"privileged": random.random() < 0.05}}
    spec = {"containers": [c, dict(c, name=name + "-sidecar")], "securityContext": sc,
            "serviceAccountName": name}
    if random.random() < 0.05:
        spec["hostNetwork"] = True
        spec["volumes"] = [{"name": "h", "hostPath": {"path": "/var/run/docker.sock"}}]
    return {"metadata": {"labels": {"app": name}}, "spec": spec}
kinds = (["Deployment"] * 20 + ["StatefulSet"] * 4 + ["DaemonSet"] * 2 + ["Job"] * 2 +
         ["CronJob"] * 2 + ["Pod"] * 20 + ["Service"] * 15 + ["NetworkPolicy"] * 5 +
         ["ServiceAccount"] * 10 + ["ConfigMap"] * 8 + ["Role"] * 4 + ["RoleBinding"] * 4 +
         ["ClusterRole"] * 1 + ["ClusterRoleBinding"] * 1)
for ns in nss:
    items.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
for i in range(n - len(items)):
    k = random.choice(kinds)
    ns = random.choice(nss)
    name = "obj%05d" % i
    meta = {"name": name, "namespace": ns, "labels": {"app": name}}
    hard = random.random() < 0.5
    api = {"Deployment": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
           "Job": "batch/v1", "CronJob": "batch/v1", "NetworkPolicy": "networking.k8s.io/v1",
           "Role": "rbac.authorization.k8s.io/v1", "RoleBinding": "rbac.authorization.k8s.io/v1",
           "ClusterRole": "rbac.authorization.k8s.io/v1",
           "ClusterRoleBinding": "rbac.authorization.k8s.io/v1"}.get(k, "v1")
    o = {"apiVersion": api, "kind": k, "metadata": meta}
    if k in ("Deployment", "StatefulSet", "DaemonSet"):
        o["spec"] = {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                     "template": tmpl(name, hard)}
    elif k == "Job":
        o["spec"] = {"template": tmpl(name, hard)}
    elif k == "CronJob":
        del meta["labels"]
        o["spec"] = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": tmpl(name, hard)}}}
    elif k == "Pod":
        t = tmpl(name, hard)
        meta["labels"] = t["metadata"]["labels"]
        o["spec"] = t["spec"]
    elif k == "Service":
        o["spec"] = {"type": random.choice(["ClusterIP"] * 8 + ["NodePort", "LoadBalancer"]),
                     "selector": {"app": "obj%05d" % random.randrange(n)},
                     "ports": [{"port": 80, "targetPort": "http"}]}
    elif k == "NetworkPolicy":
        o["spec"] = {"podSelector": {"matchLabels": {"app": "obj%05d" % random.randrange(n)}},
                     "policyTypes": ["Ingress"]}
    elif k == "ConfigMap":
        o["data"] = {"a": "b", "api_token": "t"} if random.random() < 0.2 else {"a": "b"}
    elif k in ("Role", "ClusterRole"):
        if k == "ClusterRole":
            del meta["namespace"]
        o["rules"] = [{"apiGroups": [""], "resources": random.choice([["pods"], ["secrets"],
                       ["pods/exec"], ["*"]]), "verbs": random.choice([["get"], ["*"], ["create"]])}]
    elif k in ("RoleBinding", "ClusterRoleBinding"):
        if k == "ClusterRoleBinding":
            del meta["namespace"]
        o["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io",
                        "kind": "ClusterRole" if k == "ClusterRoleBinding" else "Role",
                        "name": "obj%05d" % random.randrange(n)}
        o["subjects"] = [{"kind": "ServiceAccount", "name": "sa", "namespace": ns}]
    items.append(o)
with open(path, "w") as f:
    json.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""},
               "items": items}, f, indent=4)
PY
size=$(stat -c %s "$out/snapshot.json")
echo "snapshot: $N objects, $size bytes"
objs=$("$MAMORI" k8s "$out/snapshot.json" --format json -o "$out/r.json" 2>&1 | sed -n 's/.*: \([0-9]*\) objects checked/\1/p')
"$MAMORI" k8s "$out/snapshot.json" --format json -q -o "$out/r.json"
echo "findings: $(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['findings']))" "$out/r.json")"
cmds="'$MAMORI k8s $out/snapshot.json --format json -q -o /dev/null'"
cmds="$cmds 'jq length $out/snapshot.json'"
if command -v kubectl >/dev/null 2>&1; then
    kubectl version --client 2>/dev/null | head -1
    cmds="$cmds 'kubectl annotate --local -f $out/snapshot.json k=v -o name'"
else
    echo "kubectl not installed: floor is jq only"
fi
eval hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown "$out/h.md" $cmds >/dev/null
cat "$out/h.md"
for c in "$MAMORI k8s $out/snapshot.json --format json -q -o /dev/null" \
         "jq length $out/snapshot.json" \
         "kubectl annotate --local -f $out/snapshot.json k=v -o name"; do
    command -v "${c%% *}" >/dev/null 2>&1 || continue
    rss=$( { /usr/bin/time -f '%M' sh -c "$c >/dev/null 2>&1"; } 2>&1 | tail -1)
    echo "peak RSS: $(echo "$rss" | awk '{printf "%.1f MiB", $1/1024}')  ($c)"
done
