/*
 * rules.c - the catalogue of Kubernetes checks: id, family, severity,
 * SP 800-190 section, the upstream ids it answers for (Pod Security
 * admission check ids, kube-linter check names, Polaris check ids), title
 * and remediation.  docs/k8s.md lists the same table; `mamori k8s
 * --list-rules` prints it.
 */
#include <string.h>

#include "k8s/k8s_int.h"

#define PSS(id, sev, sec, up, title, fix) {"MM-PSS-" id, "pss", sev, sec, up, title, fix}
#define WL(id, sev, sec, up, title, fix) {"MM-K8S-" id, "workload", sev, sec, up, title, fix}
#define AV(id, sev, sec, up, title, fix) {"MM-K8S-" id, "avail", sev, sec, up, title, fix}
#define RF(id, sev, sec, up, title, fix) {"MM-K8S-" id, "refs", sev, sec, up, title, fix}
#define NT(id, sev, sec, up, title, fix) {"MM-K8S-" id, "net", sev, sec, up, title, fix}
#define SN(id, sev, sec, up, title, fix) {"MM-K8S-" id, "sensitivity", sev, sec, up, title, fix}
#define ND(id, sev, sec, up, title, fix) {"MM-K8S-" id, "node", sev, sec, up, title, fix}
#define RB(id, sev, sec, up, title, fix) {"MM-K8S-" id, "rbac", sev, sec, up, title, fix}

static const mm_k8s_rule rules[] = {
    /* Pod Security Standards: baseline */
    PSS("hostNamespaces", MM_SEV_HIGH, "3.4.3",
        "PSS hostNamespaces; kube-linter host-network, host-pid, host-ipc; Polaris hostNetworkSet, hostPIDSet, hostIPCSet",
        "Pod shares the host's network, PID or IPC namespace",
        "Remove hostNetwork, hostPID and hostIPC (or set them to false)."),
    PSS("privileged", MM_SEV_CRITICAL, "3.4.3",
        "PSS privileged; kube-linter privileged-container; Polaris runAsPrivileged",
        "Privileged container", "Set securityContext.privileged to false."),
    PSS("capabilities_baseline", MM_SEV_HIGH, "3.4.3", "PSS capabilities_baseline",
        "Container adds a capability beyond the baseline set",
        "Add only AUDIT_WRITE, CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, MKNOD, "
        "NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID or SYS_CHROOT."),
    PSS("hostPathVolumes", MM_SEV_HIGH, "3.4.3", "PSS hostPathVolumes; Polaris hostPathSet",
        "Pod mounts a hostPath volume", "Use a persistentVolumeClaim, configMap or emptyDir."),
    PSS("hostPorts", MM_SEV_MEDIUM, "3.4.2", "PSS hostPorts; Polaris hostPortSet",
        "Container binds a host port", "Remove hostPort; expose the pod through a Service."),
    PSS("appArmorProfile", MM_SEV_MEDIUM, "3.4.3", "PSS appArmorProfile",
        "AppArmor profile overridden or disabled",
        "Use the RuntimeDefault or a Localhost AppArmor profile."),
    PSS("seLinuxOptions", MM_SEV_MEDIUM, "3.4.3", "PSS seLinuxOptions",
        "Custom SELinux type, user or role",
        "Leave seLinuxOptions.user and .role empty; use a container_* type."),
    PSS("procMount", MM_SEV_HIGH, "3.4.3", "PSS procMount; kube-linter unsafe-proc-mount; Polaris procMount",
        "Container unmasks /proc", "Leave procMount unset or Default."),
    PSS("seccompProfile_baseline", MM_SEV_MEDIUM, "3.4.3", "PSS seccompProfile_baseline",
        "Seccomp explicitly disabled (Unconfined)",
        "Use seccompProfile type RuntimeDefault or Localhost."),
    PSS("sysctls", MM_SEV_MEDIUM, "3.4.3", "PSS sysctls; kube-linter unsafe-sysctls",
        "Pod sets an unsafe sysctl", "Set only the sysctls of the Pod Security safe list."),
    PSS("windowsHostProcess", MM_SEV_CRITICAL, "3.4.3", "PSS windowsHostProcess; Polaris hostProcess",
        "Windows HostProcess container", "Remove windowsOptions.hostProcess."),
    PSS("hostProbesAndHostLifecycle", MM_SEV_MEDIUM, "3.4.2", "PSS hostProbesAndHostLifecycle",
        "Probe or lifecycle handler targets another host",
        "Remove the host field of httpGet/tcpSocket probes and lifecycle handlers."),
    /* Pod Security Standards: restricted */
    PSS("restrictedVolumes", MM_SEV_MEDIUM, "3.4.3", "PSS restrictedVolumes",
        "Volume type not allowed by the restricted profile",
        "Use configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, "
        "projected or secret volumes."),
    PSS("allowPrivilegeEscalation", MM_SEV_MEDIUM, "3.4.3",
        "PSS allowPrivilegeEscalation; kube-linter privilege-escalation-container; Polaris privilegeEscalationAllowed",
        "Container may gain privileges (allowPrivilegeEscalation not false)",
        "Set securityContext.allowPrivilegeEscalation: false."),
    PSS("runAsNonRoot", MM_SEV_MEDIUM, "3.4.3",
        "PSS runAsNonRoot; kube-linter run-as-non-root; Polaris runAsRootAllowed",
        "Container may run as root (runAsNonRoot not true)",
        "Set securityContext.runAsNonRoot: true on the pod or every container."),
    PSS("runAsUser", MM_SEV_MEDIUM, "3.4.3", "PSS runAsUser", "Container runs as UID 0",
        "Set runAsUser to a non-zero UID."),
    PSS("seccompProfile_restricted", MM_SEV_LOW, "3.4.3", "PSS seccompProfile_restricted",
        "No seccomp profile", "Set seccompProfile type RuntimeDefault on the pod."),
    PSS("capabilities_restricted", MM_SEV_LOW, "3.4.3", "PSS capabilities_restricted",
        "Container does not drop ALL capabilities or adds one besides NET_BIND_SERVICE",
        "Set capabilities.drop: [\"ALL\"] and add at most NET_BIND_SERVICE."),
    PSS("procMount_restricted", MM_SEV_HIGH, "3.4.3", "PSS procMount_restricted",
        "Container unmasks /proc (restricted: also in a user namespace)",
        "Leave procMount unset or Default."),

    /* workload hardening */
    WL("101", MM_SEV_LOW, "3.4.3", "kube-linter no-read-only-root-fs; Polaris notReadOnlyRootFilesystem",
       "Root filesystem is writable", "Set securityContext.readOnlyRootFilesystem: true."),
    WL("102", MM_SEV_LOW, "3.4.3", "kube-linter unset-cpu-requirements; Polaris cpuLimitsMissing",
       "No CPU limit", "Set resources.limits.cpu."),
    WL("103", MM_SEV_LOW, "3.4.3", "kube-linter unset-cpu-requirements; Polaris cpuRequestsMissing",
       "No CPU request", "Set resources.requests.cpu."),
    WL("104", MM_SEV_MEDIUM, "3.4.3", "kube-linter unset-memory-requirements; Polaris memoryLimitsMissing",
       "No memory limit", "Set resources.limits.memory."),
    WL("105", MM_SEV_LOW, "3.4.3", "kube-linter unset-memory-requirements; Polaris memoryRequestsMissing",
       "No memory request", "Set resources.requests.memory."),
    WL("106", MM_SEV_LOW, "3.4.3", "kube-linter no-liveness-probe; Polaris livenessProbeMissing",
       "No liveness probe", "Add a livenessProbe."),
    WL("107", MM_SEV_LOW, "3.4.3", "kube-linter no-readiness-probe; Polaris readinessProbeMissing",
       "No readiness probe", "Add a readinessProbe."),
    WL("108", MM_SEV_MEDIUM, "3.1.5", "kube-linter latest-tag; Polaris tagNotSpecified",
       "Image uses the latest tag or no tag", "Name an exact version tag or a digest."),
    WL("109", MM_SEV_LOW, "3.1.5", NULL, "Image not pinned by digest",
       "Reference the image as name@sha256:<digest>."),
    WL("110", MM_SEV_LOW, "3.1.5", "Polaris pullPolicyNotAlways",
       "imagePullPolicy is not Always", "Set imagePullPolicy: Always (or pin by digest)."),
    WL("111", MM_SEV_HIGH, "3.1.4", "kube-linter env-var-secret; Polaris sensitiveContainerEnvVar",
       "Secret in a clear-text environment variable",
       "Move the value into a Secret and use valueFrom.secretKeyRef."),
    WL("112", MM_SEV_LOW, "3.1.4", "kube-linter read-secret-from-env-var",
       "Secret exposed through an environment variable",
       "Mount the Secret as a file instead of an environment variable."),
    WL("113", MM_SEV_MEDIUM, "3.3.2", "Polaris automountServiceAccountToken",
       "Service account token mounted automatically",
       "Set automountServiceAccountToken: false unless the pod calls the API."),
    WL("114", MM_SEV_LOW, "3.3.2", "kube-linter default-service-account",
       "Pod runs as the default service account", "Give the workload its own service account."),
    WL("115", MM_SEV_LOW, "3.3.2", "kube-linter deprecated-service-account-field",
       "Deprecated serviceAccount field", "Use serviceAccountName."),
    WL("116", MM_SEV_CRITICAL, "3.4.3", "kube-linter docker-sock",
       "Container runtime socket mounted", "Do not mount docker.sock, containerd.sock or crio.sock."),
    WL("117", MM_SEV_HIGH, "3.4.3", "kube-linter sensitive-host-mounts",
       "Sensitive host path mounted", "Do not mount /, /etc, /proc, /sys, /var/run, /boot, /lib, "
       "/usr, /dev or the kubelet's folders from the host."),
    WL("118", MM_SEV_MEDIUM, "3.4.3", "kube-linter writable-host-mount",
       "Host path mounted writable", "Mount hostPath volumes readOnly: true."),
    WL("119", MM_SEV_LOW, "3.4.3", "kube-linter drop-net-raw-capability",
       "NET_RAW capability not dropped", "Drop NET_RAW (or ALL)."),
    WL("120", MM_SEV_HIGH, "3.4.3", "Polaris dangerousCapabilities",
       "Dangerous capability added (ALL, SYS_ADMIN, NET_ADMIN)", "Do not add these capabilities."),
    WL("121", MM_SEV_LOW, "3.4.3", "Polaris insecureCapabilities",
       "Insecure default capabilities not dropped",
       "Drop ALL, or at least NET_ADMIN, CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, "
       "SETGID, SETUID, SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL and AUDIT_WRITE."),
    WL("122", MM_SEV_LOW, "3.4.2", "kube-linter privileged-ports",
       "Container port below 1024", "Listen on an unprivileged port (1024 and up)."),
    WL("123", MM_SEV_MEDIUM, "3.4.2", "kube-linter ssh-port", "SSH port exposed",
       "Do not run SSH in containers; use kubectl exec for debugging."),
    WL("124", MM_SEV_LOW, "3.4.3", "Polaris linuxHardening",
       "No Linux hardening (seccomp, AppArmor, SELinux or dropped capabilities)",
       "Set a RuntimeDefault seccomp profile, an AppArmor or SELinux profile, or drop ALL "
       "capabilities."),
    WL("125", MM_SEV_LOW, "3.4.3", "kube-linter run-as-non-root (group)", "Runs with GID 0",
       "Set runAsGroup (and fsGroup) to a non-zero GID."),
    AV("126", MM_SEV_LOW, "3.4.3", "kube-linter minimum-three-replicas",
       "Fewer than three replicas", "Run at least three replicas."),
    AV("127", MM_SEV_LOW, "3.4.3", "Polaris deploymentMissingReplicas",
       "Replica count not set or below 2", "Set spec.replicas to 2 or more."),
    AV("128", MM_SEV_LOW, "3.4.3", "kube-linter no-anti-affinity",
       "No pod anti-affinity", "Spread replicas with podAntiAffinity on the hostname topology."),
    AV("129", MM_SEV_LOW, "3.4.3", "kube-linter no-node-affinity",
       "No node affinity", "Place the workload with nodeAffinity."),
    AV("130", MM_SEV_LOW, "3.4.3", "kube-linter no-rolling-update-strategy",
       "No rolling update strategy", "Set strategy.type: RollingUpdate."),
    AV("131", MM_SEV_LOW, "3.4.3", "Polaris nakedPod", "Pod without a controller",
       "Run pods through a Deployment, StatefulSet, DaemonSet or Job."),
    AV("132", MM_SEV_LOW, "3.4.3", "kube-linter priority-class-name; Polaris priorityClassNotSet",
       "No priorityClassName", "Set priorityClassName."),
    AV("133", MM_SEV_LOW, "3.4.3", "kube-linter restart-policy",
       "restartPolicy Never", "Use restartPolicy Always or OnFailure."),
    AV("134", MM_SEV_LOW, "3.4.3", "kube-linter job-ttl-seconds-after-finished",
       "Job without ttlSecondsAfterFinished (or a CronJob's job template with one)",
       "Set ttlSecondsAfterFinished on Jobs; leave it off CronJob job templates (their "
       "history limits prune them)."),
    AV("135", MM_SEV_LOW, "3.4.3", "kube-linter dnsconfig-options-ndots",
       "DNS ndots unset or above 2", "Set dnsConfig.options ndots to 2 or less."),
    WL("136", MM_SEV_LOW, "3.4.3", "kube-linter duplicate-env-var",
       "Environment variable set twice", "Keep one definition of each variable."),
    AV("137", MM_SEV_LOW, "3.4.3", "Polaris topologySpreadConstraint",
       "No topology spread constraint", "Add topologySpreadConstraints."),
    AV("138", MM_SEV_LOW, "3.4.3", "Polaris metadataAndInstanceMismatched",
       "app.kubernetes.io/instance label differs from the name",
       "Make the app.kubernetes.io/instance label match metadata.name."),
    AV("139", MM_SEV_LOW, "3.4.3", "kube-linter statefulset-volumeclaimtemplate-annotation",
       "Deprecated volume.beta.kubernetes.io/storage-class annotation",
       "Use spec.storageClassName in the volumeClaimTemplate."),
    AV("140", MM_SEV_LOW, "3.3.4", "kube-linter use-namespace", "Object in the default namespace",
       "Deploy into a dedicated namespace."),
    WL("141", MM_SEV_MEDIUM, "3.3.5", "kube-linter no-extensions-v1beta",
       "Removed API version (extensions/v1beta1, apps/v1beta*)", "Use apps/v1 or networking.k8s.io/v1."),
    WL("142", MM_SEV_LOW, "3.4.3", "kube-linter liveness-port, readiness-port, startup-port",
       "Probe names a port the container does not expose", "Probe a declared containerPort."),
    WL("143", MM_SEV_MEDIUM, "3.4.3", "kube-linter mismatching-selector",
       "Selector does not match the pod template labels",
       "Make spec.selector match spec.template.metadata.labels."),
    WL("144", MM_SEV_LOW, "3.4.3", "kube-linter invalid-target-ports",
       "Invalid port name or number", "Use port numbers 1-65535 and IANA_SVC_NAME port names."),
    WL("145", MM_SEV_MEDIUM, "3.4.2", "Polaris tlsSettingsMissing", "Ingress without TLS",
       "Add spec.tls to the Ingress."),
    WL("146", MM_SEV_HIGH, "3.1.4", "Polaris sensitiveConfigmapContent",
       "Secret in a ConfigMap", "Move credentials into a Secret."),
    AV("147", MM_SEV_LOW, "3.4.3", "Polaris resourceRange",
       "Resource request or limit outside the expected range",
       "Keep CPU within 100m-2 and memory within 128Mi-4Gi, or tune the policy."),
    WL("148", MM_SEV_HIGH, "3.4.3", "kube-linter scc-deny-privileged-container",
       "SecurityContextConstraints allow privileged containers", "Set allowPrivilegedContainer: false."),
    AV("149", MM_SEV_LOW, "3.4.3", "Polaris oneController",
       "Pod owned by more than one controller", "Keep one ownerReference with controller: true."),
    /* cross-object */
    WL("301", MM_SEV_MEDIUM, "3.3.3", "kube-linter non-isolated-pod; Polaris missingNetworkPolicy",
       "No NetworkPolicy selects the pods", "Add a NetworkPolicy (at least default-deny) for them."),
    WL("302", MM_SEV_MEDIUM, "3.4.2", "kube-linter exposed-services",
       "Service exposed outside the cluster (NodePort or LoadBalancer)",
       "Use a ClusterIP Service behind an Ingress or gateway."),
    RF("303", MM_SEV_LOW, "3.3.3", "kube-linter dangling-service",
       "Service selects no pods", "Fix the Service selector or remove the Service."),
    RF("304", MM_SEV_LOW, "3.4.3", "kube-linter env-var-value-from",
       "Environment refers to a Secret or ConfigMap key that does not exist",
       "Create the object or fix the reference."),
    RF("305", MM_SEV_LOW, "3.3.2", "kube-linter non-existent-service-account",
       "Service account does not exist", "Create the ServiceAccount or fix the name."),
    RF("306", MM_SEV_LOW, "3.4.3", "kube-linter dangling-hpa",
       "HorizontalPodAutoscaler targets a missing workload", "Fix scaleTargetRef."),
    RF("307", MM_SEV_LOW, "3.4.2", "kube-linter dangling-ingress",
       "Ingress backend names a missing Service or port", "Fix the backend."),
    RF("308", MM_SEV_LOW, "3.3.3", "kube-linter dangling-networkpolicy",
       "NetworkPolicy selects no pods", "Fix podSelector."),
    RF("309", MM_SEV_LOW, "3.3.3", "kube-linter dangling-networkpolicypeer-podselector",
       "NetworkPolicy peer selects no pods", "Fix the peer's podSelector."),
    RF("310", MM_SEV_LOW, "3.4.3", "kube-linter dangling-servicemonitor",
       "ServiceMonitor selects no Service", "Fix the ServiceMonitor selector."),
    AV("311", MM_SEV_LOW, "3.4.3", "kube-linter pdb-max-unavailable; Polaris pdbDisruptionsIsZero",
       "PodDisruptionBudget allows no disruption", "Allow at least one voluntary disruption."),
    AV("312", MM_SEV_LOW, "3.4.3", "kube-linter pdb-min-available",
       "PodDisruptionBudget minAvailable not below the replicas", "Lower minAvailable."),
    AV("313", MM_SEV_LOW, "3.4.3", "kube-linter pdb-unhealthy-pod-eviction-policy",
       "PodDisruptionBudget without unhealthyPodEvictionPolicy",
       "Set unhealthyPodEvictionPolicy: AlwaysAllow."),
    AV("314", MM_SEV_LOW, "3.4.3", "Polaris missingPodDisruptionBudget",
       "No PodDisruptionBudget covers the workload", "Add a PodDisruptionBudget."),
    AV("315", MM_SEV_LOW, "3.4.3", "Polaris pdbMinAvailableGreaterThanHPAMinReplicas",
       "PodDisruptionBudget minAvailable above the autoscaler's minReplicas",
       "Make minAvailable smaller than minReplicas."),
    AV("316", MM_SEV_LOW, "3.4.3", "kube-linter hpa-minimum-three-replicas; Polaris hpaMinAvailability",
       "Autoscaler minReplicas below the floor", "Set minReplicas to 3 or more (Polaris: 2)."),
    AV("317", MM_SEV_LOW, "3.4.3", "Polaris hpaMaxAvailability",
       "Autoscaler maxReplicas not above minReplicas", "Give maxReplicas room above minReplicas."),

    /* RBAC */
    RB("201", MM_SEV_CRITICAL, "3.3.1",
       "kube-linter cluster-admin-role-binding; Polaris clusterrolebindingClusterAdmin, rolebindingClusterAdminClusterRole",
       "Subjects bound to cluster-admin (or a role granting every verb on every resource)",
       "Bind a role with only the permissions needed."),
    RB("202", MM_SEV_HIGH, "3.3.1", "kube-linter wildcard-in-rules; Polaris rolebindingClusterAdminRole",
       "Role grants wildcard (*) verbs, resources or API groups",
       "List the verbs and resources explicitly."),
    RB("203", MM_SEV_HIGH, "3.3.1", NULL, "Role grants escalate, bind or impersonate",
       "Remove escalate, bind and impersonate, which let a subject raise its own rights."),
    RB("204", MM_SEV_MEDIUM, "3.3.2", "kube-linter access-to-secrets",
       "Role can read Secrets", "Grant get/list/watch on named secrets only, or none."),
    RB("205", MM_SEV_HIGH, "3.3.1",
       "Polaris clusterrolePodExecAttach, rolePodExecAttach, clusterrolebindingPodExecAttach, rolebindingClusterRolePodExecAttach, rolebindingRolePodExecAttach",
       "Role allows exec or attach into pods", "Remove create/get on pods/exec and pods/attach."),
    RB("206", MM_SEV_HIGH, "3.3.1", NULL, "Role grants nodes/proxy",
       "Remove nodes/proxy: it reaches the kubelet API of every node."),
    RB("207", MM_SEV_MEDIUM, "3.3.1", "kube-linter access-to-create-pods",
       "Role can create pods or workloads", "Grant pod creation only to deployment tooling."),
    RB("208", MM_SEV_CRITICAL, "3.3.2", NULL,
       "Role bound to system:anonymous or system:unauthenticated",
       "Remove unauthenticated subjects from the binding."),
    RB("209", MM_SEV_HIGH, "3.3.2", NULL, "Role bound to every authenticated user (system:authenticated)",
       "Bind named users, groups or service accounts instead."),
    RB("210", MM_SEV_HIGH, "3.3.1", NULL, "Subjects may create pods in kube-system",
       "Do not grant pod or workload creation in kube-system."),
    RF("211", MM_SEV_LOW, "3.3.1", NULL, "Binding refers to a role that does not exist",
       "Remove the binding or create the role it names."),
    /* network segmentation (section 3.3.3) */
    NT("401", MM_SEV_MEDIUM, "3.3.3", "kube-linter non-isolated-pod (per namespace)",
       "Namespace without any NetworkPolicy",
       "Add a default-deny NetworkPolicy (podSelector: {}, policyTypes: [Ingress, Egress]) "
       "and allow the flows the namespace needs."),
    NT("402", MM_SEV_LOW, "3.3.3", "Polaris missingNetworkPolicy (policyTypes)",
       "Pods isolated for one direction only (ingress or egress)",
       "Add the other direction to a policy that selects them (policyTypes: [Ingress, Egress]) "
       "with the peers they need."),
    /* mixed sensitivity (section 3.3.4) */
    SN("411", MM_SEV_HIGH, "3.3.4", NULL,
       "Workloads of different sensitivity run on the same node",
       "Keep each sensitivity level on its own nodes: a nodeSelector or required node "
       "affinity on a node label per level, with a matching taint and toleration."),
    SN("412", MM_SEV_MEDIUM, "3.3.4", NULL,
       "Workloads of different sensitivity may be scheduled on the same node",
       "Add a nodeSelector (or required node affinity) for the level's nodes, or a required "
       "pod anti-affinity against the other level, or taint the level's nodes and tolerate "
       "the taint only there."),
    /* node trust (sections 3.3.5, 3.3.2) */
    ND("421", MM_SEV_CRITICAL, "3.3.5", "CIS 4.2.1, 1.2.1",
       "Anonymous requests are accepted (kubelet or API server)",
       "kubelet: authentication.anonymous.enabled: false (--anonymous-auth=false); API "
       "server: --anonymous-auth=false."),
    ND("422", MM_SEV_CRITICAL, "3.3.5", "CIS 4.2.2, 1.2.6, 1.2.7",
       "Authorization mode AlwaysAllow",
       "kubelet: authorization.mode: Webhook; API server: --authorization-mode=Node,RBAC."),
    ND("423", MM_SEV_HIGH, "3.3.5", "CIS 4.2.4",
       "Kubelet read-only port open (10255)", "Set readOnlyPort: 0 (--read-only-port=0)."),
    ND("424", MM_SEV_HIGH, "3.3.5", "CIS 4.2.3, 4.2.10, 1.2.5, 1.2.27",
       "TLS not enforced or not verified",
       "Give the kubelet and the API server certificates (tlsCertFile/tlsPrivateKeyFile, "
       "--tls-cert-file), a client CA, and verify the kubelet's certificate "
       "(--kubelet-certificate-authority); never insecure-skip-tls-verify."),
    ND("425", MM_SEV_HIGH, "3.3.2", "CIS 1.2.27, 1.2.28",
       "Secrets not encrypted at rest",
       "Give the API server --encryption-provider-config with an aescbc, aesgcm, secretbox "
       "or kms provider before identity for secrets."),
    ND("426", MM_SEV_HIGH, "3.3.5", "CIS 1.2.19, 2.1",
       "Plain-HTTP etcd or control-plane endpoint",
       "Serve etcd and the API server over https only: https:// --etcd-servers with "
       "--etcd-certfile/--etcd-keyfile, --insecure-port=0, https:// listen-client-urls."),
};

size_t mm_k8s_rule_count(void)
{
    return sizeof rules / sizeof rules[0];
}

const mm_k8s_rule *mm_k8s_rule_get(size_t i)
{
    return i < mm_k8s_rule_count() ? &rules[i] : NULL;
}

const mm_k8s_rule *mm_k8s_rule_find(const char *id)
{
    for (size_t i = 0; id && i < mm_k8s_rule_count(); i++)
        if (!strcmp(rules[i].id, id))
            return &rules[i];
    return NULL;
}
