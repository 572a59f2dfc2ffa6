/*
 * test_k8s_node.c - node trust (issue 16): kubelet settings from a
 * KubeletConfiguration file, a /configz answer, kubeadm's kubelet-config
 * ConfigMap, command lines of static pods and of recorded `ps` output
 * (with a fake node root for the files they name); API server, etcd and
 * Secrets-at-rest settings.  Each expected verdict is worked out from the
 * component's documented defaults and written next to the check.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/mamori.h"
#include "mamori/k8s.h"
#include "mmtest.h"

static mm_findings *node_check(const char *yaml, const char *ps, const char *root)
{
    mm_k8s_set *s;
    mm_k8s_set_new(&s, NULL);
    mm_findings *fs;
    mm_findings_new(&fs);
    if (yaml && mm_k8s_load_buffer(s, "t.yaml", yaml, strlen(yaml)) < 0)
        fprintf(stderr, "load: %s\n", mm_error_last());
    if (ps && mm_k8s_load_ps(s, "ps.txt", ps, strlen(ps)) < 0)
        fprintf(stderr, "ps: %s\n", mm_error_last());
    mm_k8s_check_opts o;
    mm_k8s_check_opts_init(&o);
    o.checks = MM_K8S_CHECK_NODE;
    o.node_root = root;
    if (mm_k8s_check(s, &o, fs) < 0)
        fprintf(stderr, "check: %s\n", mm_error_last());
    mm_k8s_set_free(s);
    return fs;
}

static size_t count_id(const mm_findings *fs, const char *id)
{
    size_t n = 0;
    for (size_t i = 0; i < mm_findings_count(fs); i++)
        n += !strcmp(mm_findings_get(fs, i)->id, id);
    return n;
}

static void dump(const mm_findings *fs)
{
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        fprintf(stderr, "  %s %s %s: %s\n", f->id, f->loc.resource, f->loc.field ? f->loc.field : "-",
                f->evidence ? f->evidence : "");
    }
}

MM_TEST(node_kubelet_config_file)
{
    /* everything open: anonymous on (421), AlwaysAllow (422), 10255 (423),
     * no serving certificate nor bootstrap (424), no client CA (424) */
    const char *bad =
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "authentication: {anonymous: {enabled: true}}\nauthorization: {mode: AlwaysAllow}\n"
        "readOnlyPort: 10255\n";
    mm_findings *fs = node_check(bad, NULL, NULL);
    CHECK_INT(count_id(fs, "MM-K8S-421"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-422"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-423"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-424"), 2);
    CHECK_INT(mm_findings_count(fs), 5);
    for (size_t i = 0; i < mm_findings_count(fs); i++)
        if (!strcmp(mm_findings_get(fs, i)->id, "MM-K8S-423"))
            CHECK_STR(mm_findings_get(fs, i)->loc.field, "readOnlyPort");
    mm_findings_free(fs);
    /* hardened: nothing */
    const char *good =
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "authentication: {anonymous: {enabled: false}, x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}}\n"
        "authorization: {mode: Webhook}\nreadOnlyPort: 0\nserverTLSBootstrap: true\n"
        "tlsMinVersion: VersionTLS12\n";
    fs = node_check(good, NULL, NULL);
    dump(fs);
    CHECK_INT(mm_findings_count(fs), 0);
    mm_findings_free(fs);
}

MM_TEST(node_configz_and_configmap)
{
    /* /configz: the v1beta1 defaults apply to what it leaves out
     * (anonymous off, Webhook); it says readOnlyPort 10255: 423 only.
     * kubeadm's ConfigMap: anonymous on: 421. */
    const char *y =
        "{\"kubeletconfig\": {\"readOnlyPort\": 10255, \"tlsCertFile\": \"/var/lib/kubelet/pki/kubelet.crt\","
        " \"authentication\": {\"x509\": {\"clientCAFile\": \"/etc/kubernetes/pki/ca.crt\"}}}}\n"
        "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"kubelet-config\","
        " \"namespace\": \"kube-system\"}, \"data\": {\"kubelet\": \"apiVersion: kubelet.config.k8s.io/v1beta1\\n"
        "kind: KubeletConfiguration\\nauthentication:\\n  anonymous:\\n    enabled: true\\n  x509:\\n"
        "    clientCAFile: /ca\\nserverTLSBootstrap: true\\n\"}}\n";
    mm_findings *fs = node_check(y, NULL, NULL);
    dump(fs);
    CHECK_INT(count_id(fs, "MM-K8S-423"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-421"), 1);
    CHECK_INT(mm_findings_count(fs), 2);
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        if (!strcmp(f->id, "MM-K8S-421")) {
            CHECK_STR(f->loc.resource, "kube-system/ConfigMap/kubelet-config");
            CHECK_STR(f->loc.field, "data.kubelet:authentication.anonymous.enabled");
        } else {
            CHECK_STR(f->loc.resource, "KubeletConfiguration/configz");
        }
    }
    mm_findings_free(fs);
}

MM_TEST(node_objects_name_their_config)
{
    /* n1 asks for kube-system/n1-cfg (spec.configSource), n2's kubelet
     * reports kube-system/n2-cfg active (status.config); n1-cfg says
     * AlwaysAllow (422), n2-cfg opens port 10255 (423); other-cfg is named
     * by no Node and holds no kubeadm name: not read */
    const char *y =
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nspec:\n  configSource:\n    configMap:\n"
        "      {namespace: kube-system, name: n1-cfg, kubeletConfigKey: cfg}\n---\n"
        "apiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus:\n  config:\n    active:\n      configMap:\n"
        "        {namespace: kube-system, name: n2-cfg, kubeletConfigKey: kubelet}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n1-cfg, namespace: kube-system}\n"
        "data:\n  cfg: |\n    authorization: {mode: AlwaysAllow}\n    serverTLSBootstrap: true\n"
        "    authentication: {x509: {clientCAFile: /ca}}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n2-cfg, namespace: kube-system}\n"
        "data:\n  kubelet: |\n    readOnlyPort: 10255\n    serverTLSBootstrap: true\n"
        "    authentication: {x509: {clientCAFile: /ca}}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other-cfg, namespace: kube-system}\n"
        "data:\n  kubelet: |\n    authorization: {mode: AlwaysAllow}\n";
    mm_findings *fs = node_check(y, NULL, NULL);
    dump(fs);
    CHECK_INT(count_id(fs, "MM-K8S-422"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-423"), 1);
    CHECK_INT(mm_findings_count(fs), 2);
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        CHECK_STR(f->loc.resource, !strcmp(f->id, "MM-K8S-422") ? "kube-system/ConfigMap/n1-cfg"
                                                                : "kube-system/ConfigMap/n2-cfg");
    }
    mm_findings_free(fs);
}

MM_TEST(node_apiserver_static_pod)
{
    /* anonymous off, Node,RBAC, TLS and kubelet CA given: but etcd over
     * http:// (426), the insecure port 8080 (426), no encryption provider
     * config (425) */
    const char *y =
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver-cp1, namespace: kube-system}\n"
        "spec:\n  containers:\n  - name: kube-apiserver\n    image: registry.k8s.io/kube-apiserver:v1.30.0\n"
        "    command:\n    - kube-apiserver\n    - --anonymous-auth=false\n"
        "    - --authorization-mode=Node,RBAC\n    - --etcd-servers=http://10.0.0.5:2379\n"
        "    - --tls-cert-file=/etc/kubernetes/pki/apiserver.crt\n"
        "    - --tls-private-key-file=/etc/kubernetes/pki/apiserver.key\n"
        "    - --kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt\n"
        "    - --insecure-port=8080\n";
    mm_findings *fs = node_check(y, NULL, NULL);
    dump(fs);
    CHECK_INT(count_id(fs, "MM-K8S-426"), 2);
    CHECK_INT(count_id(fs, "MM-K8S-425"), 1);
    CHECK_INT(mm_findings_count(fs), 3);
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        if (f->loc.field && strstr(f->evidence, "etcd"))
            CHECK_STR(f->loc.field, "spec.containers[0].command[3]");
    }
    mm_findings_free(fs);
    /* no flags at all: the defaults are anonymous on and AlwaysAllow */
    fs = node_check("apiVersion: v1\nkind: Pod\nmetadata: {name: api, namespace: kube-system}\n"
                    "spec: {containers: [{name: a, image: x, command: [/usr/local/bin/kube-apiserver]}]}\n",
                    NULL, NULL);
    CHECK_INT(count_id(fs, "MM-K8S-421"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-422"), 1);
    mm_findings_free(fs);
}

static void write_file(const char *root, const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

MM_TEST(node_ps_output_and_fake_root)
{
    const char *ps =
        "UID          PID    PPID  C STIME TTY          TIME CMD\n"
        "root         812       1  2 Jan01 ?        01:02:03 /usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --anonymous-auth=true --read-only-port 0\n"
        "root         900       1  0 Jan01 ?        00:00:01 /usr/local/bin/etcd --listen-client-urls=http://0.0.0.0:2379,http://127.0.0.1:2379 --client-cert-auth=true\n"
        "root         950       1  0 Jan01 ?        00:00:01 kube-apiserver --encryption-provider-config=/etc/kubernetes/enc.yaml --anonymous-auth=false --authorization-mode=Node,RBAC --tls-cert-file=a --tls-private-key-file=b --kubelet-certificate-authority=c --etcd-servers=https://127.0.0.1:2379 --etcd-certfile=x --etcd-cafile=y\n"
        "root         901       1  0 Jan01 ?        00:00:00 /bin/bash -l\n";
    const char *root = mmt_tmpdir();
    /* the config file says anonymous off and 10255; the flags override:
     * anonymous on (421), port 0 (no 423) */
    write_file(root, "var/lib/kubelet/config.yaml",
               "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
               "authentication: {anonymous: {enabled: false}, x509: {clientCAFile: /ca}}\n"
               "authorization: {mode: Webhook}\nreadOnlyPort: 10255\ntlsCertFile: /x\n");
    /* identity first: Secrets are written in clear (425) */
    write_file(root, "etc/kubernetes/enc.yaml",
               "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\n"
               "resources:\n- resources: [secrets]\n  providers:\n  - identity: {}\n"
               "  - aescbc: {keys: [{name: k, secret: c2VjcmV0IGlzIHNlY3VyZSwgb3IgaXMgaXQ/}]}\n");
    mm_findings *fs = node_check(NULL, ps, root);
    dump(fs);
    CHECK_INT(count_id(fs, "MM-K8S-421"), 1);   /* kubelet flag */
    CHECK_INT(count_id(fs, "MM-K8S-426"), 1);   /* etcd http://0.0.0.0; loopback is fine */
    CHECK_INT(count_id(fs, "MM-K8S-425"), 1);   /* identity first */
    CHECK_INT(mm_findings_count(fs), 3);
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        if (!strcmp(f->id, "MM-K8S-421")) {
            CHECK_STR(f->loc.resource, "Process/kubelet-1");
            CHECK_STR(f->loc.field, "spec.args[2]");
        }
    }
    mm_findings_free(fs);
    /* without the root: the kubelet's config file is unknown, only explicit
     * flags count (421); the encryption config cannot be read (no 425) */
    fs = node_check(NULL, ps, NULL);
    dump(fs);
    CHECK_INT(count_id(fs, "MM-K8S-421"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-426"), 1);
    CHECK_INT(mm_findings_count(fs), 2);
    mm_findings_free(fs);
}

MM_TEST(node_kubeconfigs)
{
    /* the kubelet's kubeconfig skips TLS verification (424); the
     * controller manager's reaches the API server over http:// on another
     * host (426), the scheduler's over http://127.0.0.1 (loopback: fine);
     * the API server talks to kubelets over plain HTTP (426) */
    const char *root = mmt_tmpdir();
    write_file(root, "etc/kubernetes/kubelet.conf",
               "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
               "    server: https://10.0.0.1:6443\n    insecure-skip-tls-verify: true\n");
    write_file(root, "etc/kubernetes/controller-manager.conf",
               "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://10.0.0.1:8080\"}\n");
    write_file(root, "etc/kubernetes/scheduler.conf",
               "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:8080\"}\n");
    const char *ps =
        "kubelet --kubeconfig=/etc/kubernetes/kubelet.conf --config=/nope.yaml\n"
        "kube-controller-manager --kubeconfig /etc/kubernetes/controller-manager.conf\n"
        "kube-scheduler --kubeconfig=/etc/kubernetes/scheduler.conf\n"
        "kube-apiserver --anonymous-auth=false --authorization-mode=Node,RBAC --tls-cert-file=a "
        "--tls-private-key-file=b --kubelet-certificate-authority=c --encryption-provider-config=/e "
        "--kubelet-https=false\n";
    mm_findings *fs = node_check(NULL, ps, root);
    dump(fs);
    CHECK_INT(count_id(fs, "MM-K8S-424"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-426"), 2);
    CHECK_INT(mm_findings_count(fs), 3);
    mm_findings_free(fs);
}

MM_TEST(node_ps_hostile_input)
{
    mm_k8s_set *s;
    mm_k8s_set_new(&s, NULL);
    size_t n = 70000;
    char *big = malloc(n + 1);
    memset(big, 'a', n);
    big[n] = 0;
    CHECK(mm_k8s_load_ps(s, "big", big, n) == MM_ELIMIT);
    free(big);
    CHECK_OK(mm_k8s_load_ps(s, "empty", "", 0));
    const char *nh = "kubelet --x\n\n   \nkubelet";
    CHECK_OK(mm_k8s_load_ps(s, "noheader", nh, strlen(nh)));
    CHECK_INT(mm_k8s_count(s), 2);
    mm_k8s_set_free(s);
}

MM_TEST_MAIN
