"""test_k8s - `mamori k8s` end to end.

- kube-linter's per-check manifests (../shared/testdata/k8s/kube-linter):
  for each check, mamori's matching id(s) and the objects mamori reports.
  kube-linter names objects for whether its check should fire ("dont-fire",
  "should-pass", "good-" ... do not; the others do), but files also hold
  helper objects (the Service of a dangling-ingress case), so the verdict
  stated here is per object: the exact set mamori reports, read against the
  manifest by hand.  Where mamori deliberately differs from kube-linter's
  naming, KL_DIFFERS says how and why.  Files whose check is a
  parameterised template (required labels or annotations, CEL, schema
  validation, key order) have no mamori equivalent: KL_NONE says so.
- Polaris's per-check manifests (polaris/<check>/{success,failure}.*.yaml):
  the verdict per file is Polaris's label, except the files listed in
  POL_DIFFERS, where mamori's verdict is the opposite, with the reason.
- The command: bad input (exit 2, message naming file and line), stdin
  streams, --severity, --exit-code, the ignore file, mamori.io/ignore
  annotations, SARIF logical locations, who-can.
- A live cluster through kubeconfig against the recording API server
  (kubeapi.py): bearer token, client certificate, exec credential plugin
  (v1, with a timeout that kills a hung plugin), CA from the file,
  paginated lists (limit/continue), read-only verbs, 401.
"""

import json
import os
import stat
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmrun
from mmrun import Fail, Skip, check, eq

SHARED = os.environ.get("MAMORI_SHARED") or os.path.join(mmrun.source_root(), "..", "shared",
                                                          "testdata")
KL_DIR = os.path.join(SHARED, "k8s", "kube-linter")
POL_DIR = os.path.join(SHARED, "k8s", "polaris")

# kube-linter check file -> mamori ids that answer for it
KL_IDS = {
    "access-to-create-pods.yml": ["MM-K8S-207", "MM-K8S-210"],
    "access-to-secrets.yml": ["MM-K8S-204"],
    "cluster-admin-role-binding.yml": ["MM-K8S-201"],
    "dangling-hpa.yml": ["MM-K8S-306"],
    "dangling-ingress.yml": ["MM-K8S-307"],
    "dangling-networkpolicy.yml": ["MM-K8S-308"],
    "dangling-networkpolicypeer-podselector.yml": ["MM-K8S-309"],
    "dangling-service.yml": ["MM-K8S-303"],
    "dangling-servicemonitor.yml": ["MM-K8S-310"],
    "default-service-account.yml": ["MM-K8S-114"],
    "deprecated-service-account-field.yml": ["MM-K8S-115"],
    "dnsconfig-options-ndots.yml": ["MM-K8S-135"],
    "docker-sock.yml": ["MM-K8S-116"],
    "drop-net-raw-capability.yml": ["MM-K8S-119"],
    "duplicate-env-var.yaml": ["MM-K8S-136"],
    "env-var-secret.yml": ["MM-K8S-111"],
    "env-var-value-from.yml": ["MM-K8S-304"],
    "exposed-services.yml": ["MM-K8S-302"],
    "host-ipc.yml": ["MM-PSS-hostNamespaces"],
    "host-network.yml": ["MM-PSS-hostNamespaces"],
    "host-pid.yml": ["MM-PSS-hostNamespaces"],
    "hpa-minimum-three-replicas.yml": ["MM-K8S-316"],
    "invalid-target-ports.yaml": ["MM-K8S-144"],
    "job-ttl-seconds-after-finished.yaml": ["MM-K8S-134"],
    "latest-tag.yml": ["MM-K8S-108"],
    "liveness-port.yml": ["MM-K8S-142"],
    "minimum-three-replicas.yml": ["MM-K8S-126"],
    "mismatching-selector.yml": ["MM-K8S-143"],
    "no-anti-affinity.yml": ["MM-K8S-128"],
    "no-extensions-v1beta.yml": ["MM-K8S-141"],
    "no-liveness-probe.yml": ["MM-K8S-106"],
    "no-node-affinity.yml": ["MM-K8S-129"],
    "no-read-only-root-fs.yml": ["MM-K8S-101"],
    "no-readiness-probe.yml": ["MM-K8S-107"],
    "no-rolling-update-strategy.yml": ["MM-K8S-130"],
    "non-existent-service-account.yml": ["MM-K8S-305"],
    "non-isolated-pod.yml": ["MM-K8S-301"],
    "pdb-max-unavailable.yaml": ["MM-K8S-311"],
    "pdb-min-available.yaml": ["MM-K8S-312"],
    "pdb-unhealthy-pod-eviction-policy.yaml": ["MM-K8S-313"],
    "priority-class-name.yaml": ["MM-K8S-132"],
    "privilege-escalation-container.yml": ["MM-PSS-allowPrivilegeEscalation"],
    "privileged-container.yml": ["MM-PSS-privileged"],
    "privileged-ports.yml": ["MM-K8S-122"],
    "read-secret-from-env-var.yml": ["MM-K8S-112"],
    "readiness-port.yml": ["MM-K8S-142"],
    "restart-policy.yaml": ["MM-K8S-133"],
    "run-as-non-root.yml": ["MM-PSS-runAsNonRoot"],
    "scc-deny-privileged-container.yml": ["MM-K8S-148"],
    "sensitive-host-mounts.yml": ["MM-K8S-117", "MM-K8S-116"],
    "ssh-port.yml": ["MM-K8S-123"],
    "startup-port.yml": ["MM-K8S-142"],
    "statefulset-volumeclaimtemplate-annotation.yml": ["MM-K8S-139"],
    "unsafe-proc-mount.yml": ["MM-PSS-procMount", "MM-PSS-procMount_restricted"],
    "unsafe-sysctls.yml": ["MM-PSS-sysctls"],
    "unset-cpu-requirements.yml": ["MM-K8S-102", "MM-K8S-103"],
    "unset-memory-requirements.yml": ["MM-K8S-104", "MM-K8S-105"],
    "use-namespace.yml": ["MM-K8S-140"],
    "wildcard-in-rules.yml": ["MM-K8S-202"],
    "writable-host-mount.yml": ["MM-K8S-118"],
}

# The (kind, name) objects mamori reports under those ids, per file.
KL_FIRES = {
    'access-to-create-pods.yml': [('Role', 'role1'), ('RoleBinding', 'role-binding1')],
    'access-to-secrets.yml': [('Role', 'role1'), ('RoleBinding', 'role-binding1')],
    'cluster-admin-role-binding.yml': [('ClusterRoleBinding', 'role-binding1')],
    'dangling-hpa.yml': [('HorizontalPodAutoscaler', 'hpa1')],
    'dangling-ingress.yml': [('Ingress', 'bad-port'), ('Ingress', 'missing-service')],
    'dangling-networkpolicy.yml': [('NetworkPolicy', 'app')],
    'dangling-networkpolicypeer-podselector.yml': [('NetworkPolicy', 'app')],
    'dangling-service.yml': [('Service', 'app1'), ('Service', 'app2')],
    'dangling-servicemonitor.yml': [('ServiceMonitor', 'app1'), ('ServiceMonitor', 'app2')],
    'default-service-account.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'deprecated-service-account-field.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'dnsconfig-options-ndots.yml': [('Deployment', 'app1'), ('Deployment', 'app2'), ('Deployment', 'app3')],
    'docker-sock.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'drop-net-raw-capability.yml': [('Deployment', 'app'), ('Deployment', 'dont-fire'), ('DeploymentConfig', 'app'), ('DeploymentConfig', 'dont-fire')],
    'duplicate-env-var.yaml': [('Deployment', '?'), ('StatefulSet', '?')],
    'env-var-secret.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'env-var-value-from.yml': [('Deployment', 'should-fire-configmap'), ('Deployment', 'should-fire-missing-configmap'), ('Deployment', 'should-fire-missing-secret'), ('Deployment', 'should-fire-secret')],
    'exposed-services.yml': [('Service', 'app')],
    'host-ipc.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'host-network.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'host-pid.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'hpa-minimum-three-replicas.yml': [('HorizontalPodAutoscaler', 'app')],
    'invalid-target-ports.yaml': [('Deployment', 'invalid-target-ports'), ('Service', 'invalid-target-ports')],
    'job-ttl-seconds-after-finished.yaml': [('CronJob', 'bad-cronjob'), ('Job', 'bad-job')],
    'latest-tag.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'liveness-port.yml': [('Deployment', '?'), ('StatefulSet', '?')],
    'minimum-three-replicas.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'mismatching-selector.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'no-anti-affinity.yml': [('Deployment', 'app1'), ('Deployment', 'fire-namespaced-with-namespaces-selector-not-matching'), ('DeploymentConfig', 'app2')],
    'no-extensions-v1beta.yml': [('NetworkPolicy', 'app')],
    'no-liveness-probe.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'no-node-affinity.yml': [('Deployment', 'nginx-deployment')],
    'no-read-only-root-fs.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'no-readiness-probe.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'no-rolling-update-strategy.yml': [('Deployment', 'app1'), ('Deployment', 'app3'), ('DeploymentConfig', 'app2'), ('DeploymentConfig', 'app4')],
    'non-existent-service-account.yml': [('Deployment', 'app'), ('DeploymentConfig', 'app')],
    'non-isolated-pod.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'pdb-max-unavailable.yaml': [('PodDisruptionBudget', 'foo')],
    'pdb-min-available.yaml': [('PodDisruptionBudget', 'baz'), ('PodDisruptionBudget', 'baz2'), ('PodDisruptionBudget', 'baz3')],
    'pdb-unhealthy-pod-eviction-policy.yaml': [('PodDisruptionBudget', 'fire')],
    'priority-class-name.yaml': [],
    'privilege-escalation-container.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'privileged-container.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'privileged-ports.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'read-secret-from-env-var.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'readiness-port.yml': [('Deployment', '?')],
    'restart-policy.yaml': [('CronJob', 'fire-cronjob-never'), ('DaemonSet', 'fire-daemonset-never'), ('Deployment', 'fire-deployment-never'), ('Job', 'fire-job-never'), ('Pod', 'fire-pod-never'), ('ReplicaSet', 'fire-replicaset-never'), ('ReplicationController', 'fire-replicationcontroller-never')],
    'run-as-non-root.yml': [('Deployment', 'app1'), ('Deployment', 'group-zero'), ('DeploymentConfig', 'app2'), ('DeploymentConfig', 'group-zero')],
    'scc-deny-privileged-container.yml': [('SecurityContextConstraints', 'app1')],
    'sensitive-host-mounts.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'ssh-port.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2'), ('DeploymentConfig', 'app3')],
    'startup-port.yml': [('Deployment', '?')],
    'statefulset-volumeclaimtemplate-annotation.yml': [],
    'unsafe-proc-mount.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'unsafe-sysctls.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'unset-cpu-requirements.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'unset-memory-requirements.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
    'use-namespace.yml': [('Deployment', 'app1')],
    'wildcard-in-rules.yml': [('Role', 'role1')],
    'writable-host-mount.yml': [('Deployment', 'app1'), ('DeploymentConfig', 'app2')],
}

# Files whose objects carry no names: the verdict is per container, and
# kube-linter names the containers "fire-..." / "dont-fire-...".
KL_PER_CONTAINER = {"duplicate-env-var.yaml", "liveness-port.yml", "readiness-port.yml",
                    "startup-port.yml"}

# Where mamori's verdict differs from kube-linter's object names, and why.
KL_DIFFERS = {
    "drop-net-raw-capability.yml":
        "the dont-fire objects leave capabilities empty, so NET_RAW stays in the runtime's "
        "default set; kube-linter fires only on an explicit add, mamori on any container that "
        "does not drop NET_RAW (or ALL)",
    "priority-class-name.yaml":
        "kube-linter's check compares priorityClassName with a list given in its config; "
        "mamori reports only a missing priorityClassName, so none of these objects (all set "
        "one) is reported",
    "statefulset-volumeclaimtemplate-annotation.yml":
        "kube-linter's check requires an annotation named in its config; mamori's MM-K8S-139 "
        "reports the deprecated volume.beta.kubernetes.io/storage-class annotation instead, "
        "which neither StatefulSet carries",
}

# kube-linter checks with no mamori equivalent (parameterised templates).
KL_NONE = {
    "cel.yml": "custom CEL expressions; the file itself holds a document with a duplicate "
               "apiVersion key (line 36), which mamori refuses as kubectl --validate=strict does",
    "forbidden-annotation.yml": "annotation names forbidden by the user's config",
    "kubeconform.yml": "JSON-schema validation of every kind",
    "required-annotation-email.yml": "an annotation required by the user's config",
    "required-label-owner.yml": "a label required by the user's config",
    "sorted-keys.yaml": "YAML key order (style, not security)",
}

PM = {
 "automountServiceAccountToken": ["MM-K8S-113"],
 "clusterrolePodExecAttach": ["MM-K8S-205"],
 "clusterrolebindingClusterAdmin": ["MM-K8S-201"],
 "clusterrolebindingPodExecAttach": ["MM-K8S-205"],
 "cpuLimitsMissing": ["MM-K8S-102"],
 "cpuRequestsMissing": ["MM-K8S-103"],
 "dangerousCapabilities": ["MM-K8S-120"],
 "deploymentMissingReplicas": ["MM-K8S-127"],
 "hostIPCSet": ["MM-PSS-hostNamespaces"],
 "hostNetworkSet": ["MM-PSS-hostNamespaces"],
 "hostPIDSet": ["MM-PSS-hostNamespaces"],
 "hostPathSet": ["MM-PSS-hostPathVolumes", "MM-PSS-restrictedVolumes"],
 "hostPortSet": ["MM-PSS-hostPorts"],
 "hostProcess": ["MM-PSS-windowsHostProcess"],
 "hpaMaxAvailability": ["MM-K8S-317"],
 "hpaMinAvailability": ["MM-K8S-316"],
 "insecureCapabilities": ["MM-K8S-121"],
 "linuxHardening": ["MM-K8S-124"],
 "livenessProbeMissing": ["MM-K8S-106"],
 "memoryLimitsMissing": ["MM-K8S-104"],
 "memoryRequestsMissing": ["MM-K8S-105"],
 "metadataAndInstanceMismatched": ["MM-K8S-138"],
 "missingNetworkPolicy": ["MM-K8S-301", "MM-K8S-402"],
 "missingPodDisruptionBudget": ["MM-K8S-314"],
 "nakedPod": ["MM-K8S-131"],
 "notReadOnlyRootFilesystem": ["MM-K8S-101"],
 "oneController": ["MM-K8S-149"],
 "pdbDisruptionsIsZero": ["MM-K8S-311"],
 "pdbMinAvailableGreaterThanHPAMinReplicas": ["MM-K8S-315"],
 "priorityClassNotSet": ["MM-K8S-132"],
 "privilegeEscalationAllowed": ["MM-PSS-allowPrivilegeEscalation"],
 "procMount": ["MM-PSS-procMount", "MM-PSS-procMount_restricted"],
 "pullPolicyNotAlways": ["MM-K8S-110"],
 "readinessProbeMissing": ["MM-K8S-107"],
 "resourceRange": ["MM-K8S-147"],
 "rolePodExecAttach": ["MM-K8S-205"],
 "rolebindingClusterAdminClusterRole": ["MM-K8S-201"],
 "rolebindingClusterAdminRole": ["MM-K8S-202"],
 "rolebindingClusterRolePodExecAttach": ["MM-K8S-205"],
 "rolebindingRolePodExecAttach": ["MM-K8S-205"],
 "runAsPrivileged": ["MM-PSS-privileged"],
 "runAsRootAllowed": ["MM-PSS-runAsNonRoot"],
 "sensitiveConfigmapContent": ["MM-K8S-146"],
 "sensitiveContainerEnvVar": ["MM-K8S-111"],
 "tagNotSpecified": ["MM-K8S-108"],
 "tlsSettingsMissing": ["MM-K8S-145"],
 "topologySpreadConstraint": ["MM-K8S-137"],
}

# Files where mamori's verdict is the opposite of Polaris's label.
POL_DIFFERS = {
    ('clusterrolePodExecAttach', 'success.gce_calico_clusterrole.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('clusterrolebindingClusterAdmin', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('clusterrolebindingPodExecAttach', 'failure.binding_points_to_missing_ref.yaml'):
        'the binding names a role that is not in the file; mamori reports that as MM-K8S-211 (refs) rather than assuming exec',
    ('clusterrolebindingPodExecAttach', 'success.defaultclusterrolebinding_clusteradmin.yaml'):
        "Polaris skips system:* / default bindings for this check; mamori reports the role's own rules (and exec through cluster-admin), not the binding's name",
    ('clusterrolebindingPodExecAttach', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('clusterrolebindingPodExecAttach', 'success.system_prefix_binding.yaml'):
        "Polaris skips system:* / default bindings for this check; mamori reports the role's own rules (and exec through cluster-admin), not the binding's name",
    ('hpaMinAvailability', 'success.minReplicaAbsent.yaml'):
        "Polaris's floor is 2 replicas, kube-linter's (and mamori's) 3",
    ('hpaMinAvailability', 'success.yaml'):
        "Polaris's floor is 2 replicas, kube-linter's (and mamori's) 3",
    ('missingNetworkPolicy', 'failure.netpol_missing_egress_rules.yaml'):
        'Polaris wants rules in both directions; Egress in policyTypes with no egress rule is a default deny of egress (the pods are isolated both ways), which mamori does not report',
    ('missingNetworkPolicy', 'failure.netpol_missing_ingress_rules.yaml'):
        'Polaris wants rules in both directions; Ingress in policyTypes with no ingress rule is a default deny of ingress (the pods are isolated both ways), which mamori does not report',
    ('nakedPod', 'success.yaml'):
        "a bare Pod with no ownerReferences: mamori reports it; Polaris's fixture labels it a success",
    ('pdbMinAvailableGreaterThanHPAMinReplicas', 'success.no-min-replicas.yaml'):
        'the HPA omits minReplicas; mamori applies the API default (1), Polaris skips it',
    ('rolePodExecAttach', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('rolebindingClusterAdminClusterRole', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('rolebindingClusterAdminRole', 'failure.binding_to_system_prefix.yaml'):
        "Polaris skips system:* / default bindings for this check; mamori reports the role's own rules (and exec through cluster-admin), not the binding's name",
    ('rolebindingClusterAdminRole', 'success.explicit_apigroups.yaml'):
        "mamori reports wildcard resources even with read-only verbs ('*' includes secrets); Polaris only all-verbs wildcards",
    ('rolebindingClusterAdminRole', 'success.explicit_resources.yaml'):
        "mamori reports wildcard resources even with read-only verbs ('*' includes secrets); Polaris only all-verbs wildcards",
    ('rolebindingClusterAdminRole', 'success.explicit_verbs.yaml'):
        "mamori reports wildcard resources even with read-only verbs ('*' includes secrets); Polaris only all-verbs wildcards",
    ('rolebindingClusterAdminRole', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('rolebindingClusterAdminRole', 'success.system_prefix_binding.yaml'):
        "Polaris skips system:* / default bindings for this check; mamori reports the role's own rules (and exec through cluster-admin), not the binding's name",
    ('rolebindingClusterRolePodExecAttach', 'failure.binding_points_to_missing_ref.yaml'):
        'the binding names a role that is not in the file; mamori reports that as MM-K8S-211 (refs) rather than assuming exec',
    ('rolebindingClusterRolePodExecAttach', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('rolebindingClusterRolePodExecAttach', 'success.system_prefix_binding.yaml'):
        "Polaris skips system:* / default bindings for this check; mamori reports the role's own rules (and exec through cluster-admin), not the binding's name",
    ('rolebindingRolePodExecAttach', 'failure.binding_points_to_missing_ref.yaml'):
        'the binding names a role that is not in the file; mamori reports that as MM-K8S-211 (refs) rather than assuming exec',
    ('rolebindingRolePodExecAttach', 'success.gce_calico_binding.yaml'):
        "Polaris exempts GKE's built-in calico binding by name; mamori reports what the role grants whoever binds it",
    ('rolebindingRolePodExecAttach', 'success.role_binding_cluster_role_binding.yaml'):
        "the file's ClusterRole grants exec; mamori reports the role itself, Polaris only Role-to-RoleBinding pairs here",
    ('rolebindingRolePodExecAttach', 'success.system_prefix_binding.yaml'):
        "Polaris skips system:* / default bindings for this check; mamori reports the role's own rules (and exec through cluster-admin), not the binding's name",
}


def run_json(r, args):
    res = r.run(["k8s"] + args + ["--format", "json", "-q"])
    if res.rc != 0:
        raise Fail("mamori k8s %s: %s" % (" ".join(args), res.describe()))
    return res.json.get("findings") or []


def need_dir(d):
    if not os.path.isdir(d):
        raise Skip("%s is absent" % d)


def kube_linter(r):
    need_dir(KL_DIR)
    wrong = []
    for f, ids in sorted(KL_IDS.items()):
        fs = run_json(r, [os.path.join(KL_DIR, f), "--checks", "all"])
        hits = [x for x in fs if x["id"] in ids]
        if f in KL_PER_CONTAINER:
            # the container each finding points at, by its index in the file
            import re
            got = set()
            for x in hits:
                m = re.search(r"containers\[(\d+)\]", x["location"].get("field") or "")
                if m:
                    got.add((x["location"]["resource"].split("/")[0], int(m.group(1))))
            want = set()
            docs = open(os.path.join(KL_DIR, f)).read().split("\n---")
            for d in docs:
                kind = re.search(r"^kind: (\w+)", d.strip(), re.M)
                names = re.findall(r"^        - name: (\S+)", d, re.M)
                for i, n in enumerate(names):
                    if n.startswith("fire"):
                        want.add((kind.group(1), i))
            if got != want:
                wrong.append("%s: per container want %s, got %s" % (f, sorted(want), sorted(got)))
            continue
        got = sorted({tuple(x["location"]["resource"].split("/")[-2:]) for x in hits})
        want = sorted(tuple(x) for x in KL_FIRES[f])
        if got != want:
            wrong.append("%s: want %s, got %s" % (f, want, got))
    for f in KL_NONE:
        check(os.path.exists(os.path.join(KL_DIR, f)), "%s is gone from ../shared" % f)
    check(len(KL_IDS) + len(KL_NONE) == len([n for n in os.listdir(KL_DIR)
                                             if n.endswith((".yml", ".yaml"))]),
          "a kube-linter check file has no entry in KL_IDS or KL_NONE")
    if wrong:
        raise Fail("; ".join(wrong))


def polaris(r):
    need_dir(POL_DIR)
    wrong, n = [], 0
    for check_id in sorted(os.listdir(POL_DIR)):
        ids = PM.get(check_id)
        if ids is None:
            wrong.append("%s: no mamori id" % check_id)
            continue
        for f in sorted(os.listdir(os.path.join(POL_DIR, check_id))):
            if f == "check.yaml":
                continue   # a Polaris custom-check definition, not a manifest
            n += 1
            fs = run_json(r, [os.path.join(POL_DIR, check_id, f), "--checks", "all"])
            got = any(x["id"] in ids for x in fs)
            # failure.* must be reported, success.* and mutated.* (Polaris's
            # own fixes) must not - unless listed as a stated difference
            want = f.startswith("failure")
            if (check_id, f) in POL_DIFFERS:
                want = not want
            if got != want:
                wrong.append("%s/%s: mamori %s" % (check_id, f, "reports" if got else "is silent"))
    print("  polaris: %d manifests, %d stated differences" % (n, len(POL_DIFFERS)))
    if wrong:
        raise Fail("; ".join(wrong))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


DEPLOY = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: nginx:1.25
        securityContext:
          privileged: true
"""


def bad_input(r):
    d = tempfile.mkdtemp(dir=r.root)
    p = write(os.path.join(d, "broken.yaml"), "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n")
    r.expect_error(["k8s", p], must_name=["broken.yaml:"])
    p = write(os.path.join(d, "nokind.yaml"), "apiVersion: v1\nmetadata: {name: x}\n")
    r.expect_error(["k8s", p], must_name=["nokind.yaml:1", "kind"])
    p = write(os.path.join(d, "dup.yaml"), DEPLOY + "        securityContext: {}\n")
    r.expect_error(["k8s", p], must_name=["dup.yaml:15", "duplicate key"])
    laughs = "a0: &a0 [x,x,x,x,x,x,x,x,x]\n" + "".join(
        "a%d: &a%d [%s]\n" % (i, i, ",".join(["*a%d" % (i - 1)] * 9)) for i in range(1, 10))
    p = write(os.path.join(d, "laughs.yaml"), laughs)
    r.expect_error(["k8s", p], must_name=["laughs.yaml", "nodes"])
    r.expect_error(["k8s", os.path.join(d, "missing.yaml")], must_name=["missing.yaml"])
    res = r.run(["k8s", "--pss-level", "strict", p])
    eq(res.rc, 2, "exit status for a bad --pss-level")


def cli_behaviour(r):
    d = tempfile.mkdtemp(dir=r.root)
    p = write(os.path.join(d, "web.yaml"), DEPLOY)
    fs = run_json(r, [p])
    priv = [x for x in fs if x["id"] == "MM-PSS-privileged"]
    check(priv, "no MM-PSS-privileged")
    loc = priv[0]["location"]
    eq(loc.get("resource"), "shop/Deployment/web", "resource")
    eq(loc.get("field"), "spec.template.spec.containers[0].securityContext.privileged", "field")
    eq(loc.get("line"), 14, "line")
    eq(priv[0]["section"], "3.4.3", "section")
    check(any("kube-linter privileged-container" in ref for ref in priv[0]["references"]),
          "upstream id missing from references")
    # --severity and --exit-code
    res = r.run(["k8s", p, "--severity", "CRITICAL", "--format", "json", "--exit-code", "1", "-q"])
    eq(res.rc, 1, "exit code with findings")
    eq({x["severity"] for x in res.json["findings"]}, {"CRITICAL"}, "severities kept")
    # the ignore file
    ign = write(os.path.join(d, "ign"), "MM-PSS-privileged\nMM-PSS-hostNamespaces # host network needed\n")
    fs = run_json(r, [p, "--ignorefile", ign])
    check(not [x for x in fs if x["id"] in ("MM-PSS-privileged", "MM-PSS-hostNamespaces")],
          "ignore file not applied")
    # annotations
    ann = DEPLOY.replace("  namespace: shop\n", "  namespace: shop\n  annotations:\n"
                         "    mamori.io/ignore: MM-PSS-privileged\n")
    fs = run_json(r, [write(os.path.join(d, "ann.yaml"), ann)])
    check(not [x for x in fs if x["id"] == "MM-PSS-privileged"], "annotation not honoured")
    check([x for x in fs if x["id"] == "MM-PSS-hostNamespaces"], "annotation dropped too much")
    fs = run_json(r, [os.path.join(d, "ann.yaml"), "--no-annotations"])
    check([x for x in fs if x["id"] == "MM-PSS-privileged"], "--no-annotations ignored")
    # baseline level, old policy version
    fs = run_json(r, [p, "--pss-level", "baseline", "--checks", "pss", "--pss-version", "v1.20"])
    eq(sorted({x["id"] for x in fs}), ["MM-PSS-hostNamespaces", "MM-PSS-privileged"], "baseline ids")
    # SARIF
    res = r.run(["k8s", p, "--format", "sarif", "-q"])
    eq(res.rc, 0, "sarif exit")
    results = res.json["runs"][0]["results"]
    names = [l["fullyQualifiedName"] for x in results for loc in x["locations"]
             for l in loc.get("logicalLocations", [])]
    check("shop/Deployment/web:spec.template.spec.containers[0].securityContext.privileged" in names,
          "SARIF logical location missing")
    # table output names the object and field
    res = r.run(["k8s", p])
    check("shop/Deployment/web spec.template.spec.hostNetwork" in res.out, "table location")


def stdin_stream(r):
    helm = "---\n# Source: chart/templates/a.yaml\n" + DEPLOY + "---\n# Source: chart/templates/empty.yaml\n---\n" \
           "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n" \
           "  metadata: {name: s, namespace: shop}\n  spec: {type: NodePort, selector: {a: b}}\n"
    import subprocess
    p = subprocess.run([r.bin, "k8s", "-", "--format", "json", "-q"], input=helm.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=r.env(), cwd=r.cwd)
    eq(p.returncode, 0, "exit")
    fs = json.loads(p.stdout)["findings"]
    check([x for x in fs if x["id"] == "MM-K8S-302" and x["location"]["resource"] == "shop/Service/s"],
          "NodePort service from the List not reported")
    check([x for x in fs if x["location"].get("path") == "-"], "stdin not named -")


def who_can(r):
    d = tempfile.mkdtemp(dir=r.root)
    p = write(os.path.join(d, "rbac.yaml"), """apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: team}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: team}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects:
- {kind: ServiceAccount, name: bot, namespace: team}
- {kind: User, name: bob, apiGroup: rbac.authorization.k8s.io}
""")
    res = r.run(["k8s", "who-can", "get", "secrets", "-n", "team", p, "--format", "json"])
    eq(res.rc, 0, "exit")
    eq([(s["kind"], s["name"]) for s in res.json["subjects"]],
       [("ServiceAccount", "team:bot"), ("User", "bob")], "subjects")
    res = r.run(["k8s", "who-can", "get", "secrets", "-n", "other", p, "--format", "json"])
    eq(res.json["subjects"], [], "other namespace")
    res = r.run(["k8s", "who-can", "list", "secrets", "-n", "team", p, "--format", "json"])
    eq(res.json["subjects"], [], "list is not granted")
    res = r.run(["k8s", "who-can", "get", "secrets", "-n", "team", p])
    check("team:bot" in res.out and "Role/team/reader" in res.out, "table answer")


# ---- a live cluster ---------------------------------------------------------------
POD = {"metadata": {"name": "p%d", "namespace": "ns"},
       "spec": {"hostPID": True, "containers": [{"name": "c", "image": "nginx:1"}]}}


def pods(n):
    out = []
    for i in range(n):
        p = json.loads(json.dumps(POD))
        p["metadata"]["name"] = "p%d" % i
        out.append(p)
    return out


def live_api(d, **kw):
    import kubeapi
    api = kubeapi.KubeAPI(d, **kw)
    api.add_list("/api/v1/pods", "PodList", "v1", pods(5), page_size=2)
    api.add_list("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                 "ClusterRoleBindingList", "rbac.authorization.k8s.io/v1",
                 [{"metadata": {"name": "anon"},
                   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": "view"},
                   "subjects": [{"kind": "Group", "name": "system:unauthenticated"}]}])
    api.route("GET", "/apis/rbac.authorization.k8s.io/v1/roles",
              (403, {"kind": "Status", "code": 403, "reason": "Forbidden"}))
    return api


def live_checks(res, api, expect_pods=5):
    eq(res.rc, 0, "exit (%s)" % res.err[-300:])
    fs = res.json["findings"]
    hp = sorted(x["location"]["resource"] for x in fs if x["id"] == "MM-PSS-hostNamespaces")
    eq(hp, sorted("ns/Pod/p%d" % i for i in range(expect_pods)), "pods read over 3 pages")
    check([x for x in fs if x["id"] == "MM-K8S-208"], "anonymous binding not reported")
    reqs = api.requests_to("GET", "/api/v1/pods")
    eq(len(reqs), 3, "page requests")
    eq([q["query"].get("continue", [""])[0] for q in reqs], ["", "page-2", "page-4"], "continue")
    check(all(q["query"].get("limit") == ["2"] for q in reqs), "limit sent")
    eq(api.methods(), ["GET"], "read-only verbs")
    check(any("roles" in w and "403" in w for w in res.json.get("warnings", [])) or
          "403" in res.err, "a forbidden list is a warning")


def live_token(r):
    d = tempfile.mkdtemp(dir=r.root)
    with live_api(d, tokens={"s3cr3t"}) as api:
        kc = api.kubeconfig(os.path.join(d, "kubeconfig"), token="s3cr3t")
        res = r.run(["k8s", "--kubeconfig", kc, "--page-size", "2", "--format", "json", "-q"])
        live_checks(res, api)
        auth = api.requests_to("GET", "/api/v1/pods")[0]["headers"].get("authorization")
        eq(auth, "Bearer s3cr3t", "bearer token")
        # a wrong token: 401 is an error naming the context
        bad = api.kubeconfig(os.path.join(d, "bad"), token="nope", context="prod")
        msg = r.expect_error(["k8s", "--kubeconfig", bad], must_name=["401", "prod"])
        # $KUBECONFIG and --context
        env_kc = os.environ.get("KUBECONFIG")
        os.environ["KUBECONFIG"] = os.path.join(d, "missing") + ":" + kc
        try:
            res = r.run(["k8s", "--cluster", "--context", "test", "--page-size", "2",
                         "--format", "json", "-q"])
            eq(res.rc, 0, "KUBECONFIG list")
        finally:
            if env_kc is None:
                del os.environ["KUBECONFIG"]
            else:
                os.environ["KUBECONFIG"] = env_kc
        r.expect_error(["k8s", "--kubeconfig", kc, "--context", "nosuch"],
                       must_name=["nosuch", "not found"])


def live_client_cert(r):
    d = tempfile.mkdtemp(dir=r.root)
    with live_api(d, client_cns={"alice"}) as api:
        cert = api.certs.client("alice", "alice", "ops")
        kc = api.kubeconfig(os.path.join(d, "kubeconfig"), cert=cert, ca_inline=True)
        res = r.run(["k8s", "--kubeconfig", kc, "--page-size", "2", "--format", "json", "-q"])
        live_checks(res, api)
        eq(api.requests_to("GET", "/api/v1/pods")[0]["client_cn"], "alice", "client certificate")
        # a server certificate from another CA is refused
        import kubeapi
        other = kubeapi.KubeCerts(os.path.join(d, "other"))
        kc2 = api.kubeconfig(os.path.join(d, "kc2"), cert=cert)
        text = open(kc2).read().replace(api.certs.ca_crt, other.ca_crt)
        write(kc2, text)
        r.expect_error(["k8s", "--kubeconfig", kc2], must_name=["127.0.0.1"])


def live_exec(r):
    d = tempfile.mkdtemp(dir=r.root)
    plugin = write(os.path.join(d, "kube-login"), """#!/usr/bin/env python3
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
assert info["spec"]["interactive"] is False
with open(os.environ["LOG"], "a") as f:
    f.write(" ".join(sys.argv[1:]) + " " + os.environ.get("REGION", "") + "\\n")
if "--hang" in sys.argv:
    import time; time.sleep(60)
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                  "status": {"token": "from-plugin", "expirationTimestamp": "2099-01-01T00:00:00Z"}}))
""")
    os.chmod(plugin, 0o755)
    log = os.path.join(d, "log")
    with live_api(d, tokens={"from-plugin"}) as api:
        ex = {"apiVersion": "client.authentication.k8s.io/v1", "command": plugin,
              "args": ["token", "--cluster", "c1"], "interactiveMode": "Never",
              "env": [{"name": "REGION", "value": "eu-1"}, {"name": "LOG", "value": log}]}
        kc = api.kubeconfig(os.path.join(d, "kubeconfig"), exec_=ex)
        res = r.run(["k8s", "--kubeconfig", kc, "--page-size", "2", "--format", "json", "-q"])
        live_checks(res, api)
        eq(open(log).read().splitlines(), ["token --cluster c1 eu-1"], "plugin run once, no shell")
        # a plugin that hangs is killed at the timeout
        ex["args"] = ["--hang"]
        kc = api.kubeconfig(os.path.join(d, "hang"), exec_=ex)
        import time
        t0 = time.time()
        r.expect_error(["k8s", "--kubeconfig", kc, "--exec-timeout", "1"],
                       must_name=["within 1.0 s", "kube-login"])
        check(time.time() - t0 < 20, "the hung plugin was not killed in time")
        # a plugin that is not there
        ex["command"] = "no-such-kube-plugin"
        kc = api.kubeconfig(os.path.join(d, "none"), exec_=ex)
        r.expect_error(["k8s", "--kubeconfig", kc], must_name=["no-such-kube-plugin", "not found"])


def refusals(r):
    d = tempfile.mkdtemp(dir=r.root)
    kc = write(os.path.join(d, "kc"), """apiVersion: v1
kind: Config
current-context: x
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
contexts:
- name: x
  context: {cluster: c, user: u}
users:
- name: u
  user: {token: t}
""")
    r.expect_error(["k8s", "--kubeconfig", kc], must_name=["insecure-skip-tls-verify"])
    write(kc, open(kc).read().replace('"https://127.0.0.1:1", insecure-skip-tls-verify: true',
                                      '"http://10.0.0.1:8080"'))
    r.expect_error(["k8s", "--kubeconfig", kc], must_name=["plain HTTP"])


def main():
    suite = mmrun.Suite()
    try:
        r = mmrun.Runner()
    except Skip as e:
        suite.skip_all(["k8s"], str(e))
        suite.finish()
    try:
        suite.case("k8s-kube-linter-verdicts", kube_linter, r)
        suite.case("k8s-polaris-verdicts", polaris, r)
        suite.case("k8s-bad-input", bad_input, r)
        suite.case("k8s-cli", cli_behaviour, r)
        suite.case("k8s-stdin-stream", stdin_stream, r)
        suite.case("k8s-who-can", who_can, r)
        suite.case("k8s-live-token-pagination", live_token, r)
        suite.case("k8s-live-client-cert", live_client_cert, r)
        suite.case("k8s-live-exec-plugin", live_exec, r)
        suite.case("k8s-kubeconfig-refusals", refusals, r)
    finally:
        r.close()
    suite.finish()


if __name__ == "__main__":
    main()
