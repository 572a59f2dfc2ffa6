/*
 * manifests.c - what a cluster needs to run the webhook: the
 * ValidatingWebhookConfiguration (Pods and pod-template workloads, CREATE
 * and UPDATE, admissionReviewVersions v1 and v1beta1, the CA bundle, the
 * timeout, the failure policy, exempt namespaces by name), its Service and
 * its Deployment (`mamori admission serve` with the serving pair from a
 * Secret, non-root, read-only root filesystem, no privilege escalation).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission_int.h"

static char *b64(const char *s)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *o = mm_xmalloc(n / 3 * 4 + 5), *p = o;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)s[i + 2];
        *p++ = t[(v >> 18) & 63];
        *p++ = t[(v >> 12) & 63];
        *p++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
        *p++ = i + 2 < n ? t[v & 63] : '=';
    }
    *p = 0;
    return o;
}

char *mm_admission_manifests(const mm_adm_manifest_opts *o)
{
    mm_adm_manifest_opts d = {0};
    if (!o)
        o = &d;
    const char *name = o->name ? o->name : "mamori-admission";
    const char *ns = o->namespace_ ? o->namespace_ : "mamori-system";
    const char *image = o->image ? o->image : "ghcr.io/mamori/mamori:latest";
    int timeout = o->timeout_s >= 1 && o->timeout_s <= 30 ? o->timeout_s : 10;
    const char *fp = o->failure_policy ? o->failure_policy : "Fail";
    char *ca = b64(o->ca_bundle_pem ? o->ca_bundle_pem : "");
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b,
"apiVersion: admissionregistration.k8s.io/v1\n"
"kind: ValidatingWebhookConfiguration\n"
"metadata:\n"
"  name: %s\n"
"webhooks:\n"
"- name: %s.mamori.io\n"
"  admissionReviewVersions: [v1, v1beta1]\n"
"  sideEffects: None\n"
"  timeoutSeconds: %d\n"
"  failurePolicy: %s\n"
"  matchPolicy: Equivalent\n"
"  clientConfig:\n"
"    service:\n"
"      name: %s\n"
"      namespace: %s\n"
"      path: /validate\n"
"      port: 443\n"
"    caBundle: %s\n"
"  rules:\n"
"  - apiGroups: [\"\"]\n"
"    apiVersions: [v1]\n"
"    operations: [CREATE, UPDATE]\n"
"    resources: [pods, pods/ephemeralcontainers, replicationcontrollers, podtemplates]\n"
"  - apiGroups: [apps]\n"
"    apiVersions: [v1]\n"
"    operations: [CREATE, UPDATE]\n"
"    resources: [deployments, replicasets, statefulsets, daemonsets]\n"
"  - apiGroups: [batch]\n"
"    apiVersions: [v1]\n"
"    operations: [CREATE, UPDATE]\n"
"    resources: [jobs, cronjobs]\n"
"  namespaceSelector:\n"
"    matchExpressions:\n"
"    - key: kubernetes.io/metadata.name\n"
"      operator: NotIn\n"
"      values: [%s",
                  name, name, timeout, fp, name, ns, ca, ns);
    for (size_t i = 0; i < o->nexempt; i++)
        if (o->exempt_namespaces[i] && !strpbrk(o->exempt_namespaces[i], "*?["))
            mm_buf_printf(&b, ", %s", o->exempt_namespaces[i]);
    mm_buf_printf(&b, "]\n");
    mm_buf_printf(&b,
"---\n"
"apiVersion: v1\n"
"kind: Service\n"
"metadata:\n"
"  name: %s\n"
"  namespace: %s\n"
"spec:\n"
"  selector:\n"
"    app.kubernetes.io/name: %s\n"
"  ports:\n"
"  - name: https\n"
"    port: 443\n"
"    targetPort: 8443\n"
"---\n"
"apiVersion: apps/v1\n"
"kind: Deployment\n"
"metadata:\n"
"  name: %s\n"
"  namespace: %s\n"
"spec:\n"
"  replicas: 2\n"
"  selector:\n"
"    matchLabels:\n"
"      app.kubernetes.io/name: %s\n"
"  template:\n"
"    metadata:\n"
"      labels:\n"
"        app.kubernetes.io/name: %s\n"
"    spec:\n"
"      automountServiceAccountToken: false\n"
"      securityContext:\n"
"        runAsNonRoot: true\n"
"        runAsUser: 65532\n"
"        seccompProfile:\n"
"          type: RuntimeDefault\n"
"      containers:\n"
"      - name: webhook\n"
"        image: %s\n"
"        args: [admission, serve, --listen, \"0.0.0.0:8443\", --cert, /tls/tls.crt,\n"
"               --key, /tls/tls.key, --mode, %s, --policy, /policy/policy.yaml]\n"
"        ports:\n"
"        - containerPort: 8443\n"
"        readinessProbe:\n"
"          httpGet:\n"
"            scheme: HTTPS\n"
"            path: /healthz\n"
"            port: 8443\n"
"        resources:\n"
"          requests: {cpu: 100m, memory: 128Mi}\n"
"          limits: {memory: 512Mi}\n"
"        securityContext:\n"
"          allowPrivilegeEscalation: false\n"
"          readOnlyRootFilesystem: true\n"
"          capabilities:\n"
"            drop: [ALL]\n"
"        volumeMounts:\n"
"        - {name: tls, mountPath: /tls, readOnly: true}\n"
"        - {name: policy, mountPath: /policy, readOnly: true}\n"
"      volumes:\n"
"      - name: tls\n"
"        secret:\n"
"          secretName: %s-tls\n"
"      - name: policy\n"
"        configMap:\n"
"          name: %s-policy\n",
                  name, ns, name, name, ns, name, name, image, mm_adm_mode_name(o->mode), name,
                  name);
    free(ca);
    return mm_buf_detach(&b);
}
