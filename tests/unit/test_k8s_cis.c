/*
 * test_k8s_cis.c - the CIS Kubernetes Benchmark runner (issue 16): the
 * test-item semantics of kube-bench (flag values, JSONPath into configs,
 * env lines, every compare op, bin_op, use_multiple_values), then
 * kube-bench's own definitions (../shared/testdata/cis/cfg, skipped when
 * absent) run unchanged against a fake node root and recorded `ps -ef`
 * output.  Each expected verdict is stated from the benchmark's text of
 * the check and the input laid out for it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mamori/k8s.h"
#include "util/util.h"
#include "k8s/cis_int.h"
#include "mmtest.h"

MM_TEST(cis_compare_ops)
{
    /* eq: booleans compare case-insensitively, other values exactly */
    CHECK(k8s_cis_compare("eq", "FALSE", "false"));
    CHECK(!k8s_cis_compare("eq", "False ", "false"));
    CHECK(!k8s_cis_compare("eq", "Webhook", "webhook"));
    CHECK(k8s_cis_compare("noteq", "0s", "0"));
    CHECK(!k8s_cis_compare("noteq", "true", "true"));
    /* numbers: not numeric fails either way */
    CHECK(k8s_cis_compare("gte", "30", "30"));
    CHECK(!k8s_cis_compare("gt", "30", "30"));
    CHECK(k8s_cis_compare("lt", " 5", "10"));
    CHECK(k8s_cis_compare("lte", "10", "10"));
    CHECK(!k8s_cis_compare("gte", "30d", "30"));
    CHECK(!k8s_cis_compare("lt", "5", "x"));
    CHECK(k8s_cis_compare("has", "Node,RBAC", "RBAC"));
    CHECK(k8s_cis_compare("nothave", "Node,RBAC", "AlwaysAllow"));
    CHECK(!k8s_cis_compare("nothave", "AlwaysAllow", "AlwaysAllow"));
    /* RE2 syntax of the definitions: (?:...) and \/ */
    CHECK(k8s_cis_compare("regex", "/etc/kubernetes/static-pod-certs/secrets/etcd-all-certs/etcd-serving-m1.crt",
                          "\\/etc\\/kubernetes\\/static-pod-certs\\/secrets\\/etcd-all-(serving|certs)\\/etcd-serving-.*\\.(?:crt|key)"));
    CHECK(!k8s_cis_compare("regex", "/etc/other.crt", "\\/etc\\/kubernetes\\/.*\\.(?:crt|key)"));
    CHECK(k8s_cis_compare("regex", " 6443 ", "\\s*(?:6443\\s*){1,}$"));
    CHECK(k8s_cis_compare("regex", "--tls-min-version=VersionTLS12", "VersionTLS1[23]$"));
    /* a hostile pattern ends in a verdict: nested counted repetition (which
     * glibc's regcomp expanded into gigabytes), catastrophic backtracking
     * (stopped by the match budget), an invalid pattern, an overlong one */
    CHECK(!k8s_cis_compare("regex", "aaaa", "((((a{1,100}){1,100}){1,100}){1,100})b"));
    CHECK(!k8s_cis_compare("regex", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab!",
                           "^(a+)+$"));
    CHECK(!k8s_cis_compare("regex", "a", "(a"));
    {
        char big[2048];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        CHECK(!k8s_cis_compare("regex", "a", big));
    }
    /* valid_elements: every element of the value is in the list; a trailing
     * comma is dropped; both empty is valid, one empty is not */
    CHECK(k8s_cis_compare("valid_elements", "aescbc,kms,", "aescbc,kms,secretbox"));
    CHECK(!k8s_cis_compare("valid_elements", "aescbc,identity", "aescbc,kms,secretbox"));
    CHECK(!k8s_cis_compare("valid_elements", "", "aescbc"));
    CHECK(k8s_cis_compare("valid_elements", " ", ""));
    /* bitmask: the value's bits must all be within the maximum */
    CHECK(k8s_cis_compare("bitmask", "600", "600"));
    CHECK(k8s_cis_compare("bitmask", "400", "600"));
    CHECK(!k8s_cis_compare("bitmask", "644", "600"));
    CHECK(!k8s_cis_compare("bitmask", "8", "600"));      /* not octal */
    CHECK(!k8s_cis_compare("noteqx", "a", "b"));          /* an unknown op fails */
}

static bool eval(const char *tests_json, const char *out, const char *conf, const char *env)
{
    json_error_t e;
    json_t *t = json_loads(tests_json, 0, &e);
    if (!t) {
        fprintf(stderr, "bad test json: %s\n", e.text);
        return false;
    }
    bool ok = false;
    char *ex = NULL, *err = NULL;
    k8s_cis_eval(t, false, out, conf != NULL, conf ? conf : "", env ? env : "", &ok, &ex, &err);
    free(ex);
    free(err);
    json_decref(t);
    return ok;
}

MM_TEST(cis_test_items)
{
    const char *anon = "{\"test_items\":[{\"flag\":\"--anonymous-auth\",\"path\":\"{.authentication.anonymous.enabled}\","
                       "\"compare\":{\"op\":\"eq\",\"value\":false}}]}";
    const char *ps = "root 1 0 0 Jan01 ? 00:00:01 /usr/bin/kubelet --anonymous-auth=false --config=/x";
    /* the command line decides when the flag is on it */
    CHECK(eval(anon, ps, "authentication: {anonymous: {enabled: true}}", NULL));
    CHECK(!eval(anon, "kubelet --anonymous-auth=true", "authentication: {anonymous: {enabled: false}}", NULL));
    /* otherwise the config file (YAML or JSON) */
    CHECK(eval(anon, "kubelet --config=/x", "authentication: {anonymous: {enabled: false}}", NULL));
    CHECK(eval(anon, "kubelet", "{\"authentication\": {\"anonymous\": {\"enabled\": false}}}", NULL));
    CHECK(!eval(anon, "kubelet", "authentication: {anonymous: {enabled: true}}", NULL));
    /* neither: set (default true) fails */
    CHECK(!eval(anon, "kubelet", "readOnlyPort: 0", NULL));
    /* "--flag value" is read only when compared; a bare --flag is "true" */
    const char *port = "{\"bin_op\":\"or\",\"test_items\":[{\"flag\":\"--read-only-port\",\"compare\":{\"op\":\"eq\",\"value\":0}},"
                       "{\"flag\":\"--read-only-port\",\"set\":false}]}";
    CHECK(eval(port, "kubelet --read-only-port 0 --v=2", NULL, NULL));
    CHECK(!eval(port, "kubelet --read-only-port 10255", NULL, NULL));
    CHECK(eval(port, "kubelet --v=2", NULL, NULL));                   /* not set: the OR's 2nd item */
    const char *prof = "{\"test_items\":[{\"flag\":\"--profiling\",\"compare\":{\"op\":\"eq\",\"value\":true}}]}";
    CHECK(eval(prof, "kube-scheduler --profiling --v=2", NULL, NULL));
    CHECK(!eval(prof, "kube-scheduler --profiling=false", NULL, NULL));
    /* "flag: value" (a YAML line) */
    CHECK(eval("{\"test_items\":[{\"flag\":\"permissions\",\"compare\":{\"op\":\"bitmask\",\"value\":\"600\"}}]}",
               "permissions=600", NULL, NULL));
    CHECK(eval("{\"test_items\":[{\"flag\":\"client-cert-auth\",\"compare\":{\"op\":\"eq\",\"value\":\"true\"}}]}",
               "name: x\nclient-cert-auth: true\n", NULL, NULL));
    /* and: every item */
    const char *both = "{\"bin_op\":\"and\",\"test_items\":[{\"flag\":\"--etcd-certfile\"},{\"flag\":\"--etcd-keyfile\"}]}";
    CHECK(eval(both, "kube-apiserver --etcd-certfile=a --etcd-keyfile=b", NULL, NULL));
    CHECK(!eval(both, "kube-apiserver --etcd-certfile=a", NULL, NULL));
    /* env: VAR=value lines of audit_env */
    const char *env = "{\"test_items\":[{\"flag\":\"--client-cert-auth\",\"env\":\"ETCD_CLIENT_CERT_AUTH\","
                      "\"compare\":{\"op\":\"eq\",\"value\":true}}]}";
    CHECK(eval(env, "etcd --name x", NULL, "PATH=/bin\nETCD_CLIENT_CERT_AUTH=true\n"));
    CHECK(!eval(env, "etcd --name x", NULL, "ETCD_CLIENT_CERT_AUTH=false\n"));
    /* an unknown bin_op fails */
    CHECK(!eval("{\"bin_op\":\"xor\",\"test_items\":[{\"flag\":\"a\"}]}", "a", NULL, NULL));
    /* JSONPath output as kube-bench prints it */
    json_t *doc = json_pack("{s:{s:b}, s:i, s:[s,s]}", "a", "b", 1, "n", 10255, "l", "x", "y");
    char *v;
    CHECK_OK(k8s_cis_jsonpath("{.a.b}", doc, &v));
    CHECK_STR(v, "true");
    free(v);
    CHECK_OK(k8s_cis_jsonpath("{.n}", doc, &v));
    CHECK_STR(v, "10255");
    free(v);
    CHECK_OK(k8s_cis_jsonpath("{.l}", doc, &v));
    CHECK_STR(v, "[\"x\",\"y\"]");
    free(v);
    CHECK_OK(k8s_cis_jsonpath("{.missing.key}", doc, &v));
    CHECK_STR(v, "");
    free(v);
    CHECK(k8s_cis_jsonpath("a.b", doc, &v) == MM_EFORMAT);
    json_decref(doc);
}

/* --- kube-bench's definitions on a fake node ------------------------------------- */
static void put(const char *root, const char *rel, const char *text, mode_t mode, uid_t uid)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(path, 0755);
            *p = '/';
        }
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
    chmod(path, mode);
    if (chown(path, uid, uid) != 0)
        fprintf(stderr, "chown %s: failed\n", path);
}

static const char *state(const mm_k8s_cis *c, const char *id)
{
    const mm_k8s_cis_result *r = mm_k8s_cis_find(c, id);
    if (!r) {
        fprintf(stderr, "no result for %s\n", id);
        return "-";
    }
    if (r->state != MM_CIS_PASS && r->reason)
        fprintf(stderr, "  %s %s: %s\n", id, mm_k8s_cis_state_name(r->state), r->reason);
    return mm_k8s_cis_state_name(r->state);
}

static mm_k8s_cis *run(const char *cfg, const char *root, const char *ps, const char *targets,
                       const char *checks)
{
    char psf[1024];
    snprintf(psf, sizeof psf, "%s.ps", root);
    FILE *f = fopen(psf, "w");
    if (!f)
        return NULL;
    fputs(ps, f);
    fclose(f);
    mm_k8s_cis_opts o;
    memset(&o, 0, sizeof o);
    o.cfg_dir = cfg;
    o.benchmark = "cis-1.9";
    o.targets = targets;
    o.checks = checks;
    o.root = root;
    o.ps_file = psf;
    mm_k8s_cis *c = NULL;
    if (mm_k8s_cis_run(&c, &o) < 0)
        fprintf(stderr, "cis: %s\n", mm_error_last());
    return c;
}

#define PS_HEAD "UID          PID    PPID  C STIME TTY          TIME CMD\n"

MM_TEST(cis_node_kubelet)
{
    const char *cfgf = mmt_shared("cis/cfg/config.yaml");
    if (!cfgf)
        MMT_SKIP("../shared/testdata/cis/cfg is absent");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s", cfgf);
    *strrchr(cfg, '/') = 0;
    char root[1024];
    snprintf(root, sizeof root, "%s/good", mmt_tmpdir());
    mkdir(root, 0755);
    /* a hardened kubelet: files 0600 root:root, a config file that turns
     * anonymous auth off, Webhook authorization, a client CA,
     * makeIPTablesUtilChains on */
    put(root, "etc/systemd/system/kubelet.service.d/10-kubeadm.conf", "[Service]\n", 0600, 0);
    put(root, "etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\n", 0600, 0);
    put(root, "var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "authentication:\n  anonymous: {enabled: false}\n  x509: {clientCAFile: /etc/kubernetes/pki/ca.crt}\n"
        "authorization: {mode: Webhook}\nreadOnlyPort: 0\nmakeIPTablesUtilChains: true\n", 0600, 0);
    const char *ps = PS_HEAD
        "root         812       1  2 Jan01 ?        01:02:03 /usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf\n"
        "root         901       1  0 Jan01 ?        00:00:00 /bin/bash\n";
    mm_k8s_cis *c = run(cfg, root, ps, "node", "4.1.1,4.1.5,4.1.6,4.1.9,4.1.10,4.2.1,4.2.2,4.2.3,4.2.4,4.2.6,4.2.7");
    REQUIRE(c);
    CHECK_STR(mm_k8s_cis_benchmark(c), "cis-1.9");
    /* 4.1.1 "kubelet service file permissions are set to 600 or more
     * restrictive": 0600 */
    CHECK_STR(state(c, "4.1.1"), "PASS");
    /* 4.1.5/4.1.6 "--kubeconfig kubelet.conf ... 600 ... root:root" */
    CHECK_STR(state(c, "4.1.5"), "PASS");
    CHECK_STR(state(c, "4.1.6"), "PASS");
    /* 4.1.9/4.1.10 "kubelet config.yaml ... 600 ... root:root" */
    CHECK_STR(state(c, "4.1.9"), "PASS");
    CHECK_STR(state(c, "4.1.10"), "PASS");
    /* 4.2.1 "--anonymous-auth argument is set to false": the config says so */
    CHECK_STR(state(c, "4.2.1"), "PASS");
    /* 4.2.2 "--authorization-mode argument is not set to AlwaysAllow": Webhook */
    CHECK_STR(state(c, "4.2.2"), "PASS");
    /* 4.2.3 "--client-ca-file argument is set as appropriate": clientCAFile */
    CHECK_STR(state(c, "4.2.3"), "PASS");
    /* 4.2.4 "Verify that the --read-only-port argument is set to 0": 0 */
    CHECK_STR(state(c, "4.2.4"), "PASS");
    /* 4.2.6 "--make-iptables-util-chains argument is set to true" */
    CHECK_STR(state(c, "4.2.6"), "PASS");
    /* 4.2.7 "--hostname-override argument is not set" */
    CHECK_STR(state(c, "4.2.7"), "PASS");
    CHECK_INT(mm_k8s_cis_count(c), 11);
    mm_k8s_cis_free(c);

    /* a weak kubelet: flags that override the config (anonymous on,
     * AlwaysAllow, iptables chains off, hostname override, read-only
     * port 10255), a config file 0644 owned by uid 1000, no service file */
    snprintf(root, sizeof root, "%s/bad", mmt_tmpdir());
    mkdir(root, 0755);
    put(root, "etc/kubernetes/kubelet.conf", "apiVersion: v1\nkind: Config\n", 0644, 0);
    put(root, "var/lib/kubelet/config.yaml",
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
        "authentication:\n  anonymous: {enabled: false}\nauthorization: {mode: Webhook}\n", 0644, 1000);
    ps = PS_HEAD
        "root         812       1  2 Jan01 ?        01:02:03 /usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --anonymous-auth=true "
        "--authorization-mode=AlwaysAllow --make-iptables-util-chains=false --hostname-override=n1 --read-only-port=10255\n";
    c = run(cfg, root, ps, "node", "4.1.1,4.1.5,4.1.6,4.1.9,4.1.10,4.2.1,4.2.2,4.2.3,4.2.4,4.2.6,4.2.7");
    REQUIRE(c);
    /* no service file: no "permissions" output, the Automated check fails */
    CHECK_STR(state(c, "4.1.1"), "FAIL");
    /* 0644 is not 600 or more restrictive */
    CHECK_STR(state(c, "4.1.5"), "FAIL");
    CHECK_STR(state(c, "4.1.6"), "PASS");     /* kubelet.conf is root's */
    CHECK_STR(state(c, "4.1.9"), "FAIL");
    CHECK_STR(state(c, "4.1.10"), "FAIL");    /* 1000:1000, not root:root */
    CHECK_STR(state(c, "4.2.1"), "FAIL");     /* the flag says true */
    CHECK_STR(state(c, "4.2.2"), "FAIL");     /* AlwaysAllow */
    CHECK_STR(state(c, "4.2.3"), "FAIL");     /* no client CA anywhere */
    CHECK_STR(state(c, "4.2.4"), "WARN");     /* Manual (unscored): 10255 */
    CHECK_STR(state(c, "4.2.6"), "FAIL");     /* false */
    CHECK_STR(state(c, "4.2.7"), "WARN");     /* Manual: set */
    /* FAILs become findings */
    mm_findings *fs;
    mm_findings_new(&fs);
    CHECK_OK(mm_k8s_cis_findings(c, fs));
    CHECK_INT(mm_findings_count(fs), 8);
    CHECK_STR(mm_findings_get(fs, 0)->id, "CIS-K8S-4.1.1");
    CHECK_STR(mm_findings_get(fs, 0)->section, "3.3.5");
    mm_findings_free(fs);
    mm_k8s_cis_free(c);
}

MM_TEST(cis_master_apiserver)
{
    const char *cfgf = mmt_shared("cis/cfg/config.yaml");
    if (!cfgf)
        MMT_SKIP("../shared/testdata/cis/cfg is absent");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s", cfgf);
    *strrchr(cfg, '/') = 0;
    char root[1024];
    snprintf(root, sizeof root, "%s/cp", mmt_tmpdir());
    mkdir(root, 0755);
    put(root, "etc/kubernetes/manifests/kube-apiserver.yaml", "apiVersion: v1\nkind: Pod\n", 0644, 0);
    const char *ps = PS_HEAD
        "root        1200    1100  9 Jan01 ?        05:00:00 kube-apiserver --advertise-address=10.0.0.1 "
        "--anonymous-auth=false --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction,AlwaysAdmit "
        "--profiling=false --audit-log-maxage=7 --audit-log-maxbackup=10 --etcd-certfile=/e.crt "
        "--kubelet-client-certificate=/k.crt\n";
    mm_k8s_cis *c = run(cfg, root, ps, NULL,
                        "1.1.1,1.1.2,1.2.1,1.2.2,1.2.4,1.2.6,1.2.7,1.2.8,1.2.10,1.2.14,1.2.15,1.2.17,1.2.18,1.2.23,1.2.20");
    REQUIRE(c);
    /* targets from what runs: an API server, no kubelet, no etcd: master,
     * controlplane, policies of cis-1.9 */
    /* 1.1.1 "API server pod specification file permissions are set to 600
     * or more restrictive": 0644 */
    CHECK_STR(state(c, "1.1.1"), "FAIL");
    CHECK_STR(state(c, "1.1.2"), "PASS");                 /* root:root */
    CHECK_STR(state(c, "1.2.1"), "PASS");                 /* --anonymous-auth=false */
    CHECK_STR(state(c, "1.2.2"), "PASS");                 /* no --token-auth-file */
    CHECK_STR(state(c, "1.2.4"), "FAIL");                 /* client key missing */
    CHECK_STR(state(c, "1.2.6"), "PASS");                 /* not AlwaysAllow */
    CHECK_STR(state(c, "1.2.7"), "PASS");                 /* includes Node */
    CHECK_STR(state(c, "1.2.8"), "PASS");                 /* includes RBAC */
    CHECK_STR(state(c, "1.2.10"), "FAIL");                /* AlwaysAdmit is set */
    CHECK_STR(state(c, "1.2.14"), "PASS");                /* NodeRestriction */
    CHECK_STR(state(c, "1.2.15"), "PASS");                /* --profiling=false */
    CHECK_STR(state(c, "1.2.17"), "FAIL");                /* maxage 7 < 30 */
    CHECK_STR(state(c, "1.2.18"), "PASS");                /* maxbackup 10 >= 10 */
    CHECK_STR(state(c, "1.2.23"), "FAIL");                /* --etcd-keyfile missing */
    CHECK_STR(state(c, "1.2.20"), "WARN");                /* type: manual */
    mm_k8s_cis_free(c);
}

MM_TEST(cis_etcd)
{
    const char *cfgf = mmt_shared("cis/cfg/config.yaml");
    if (!cfgf)
        MMT_SKIP("../shared/testdata/cis/cfg is absent");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s", cfgf);
    *strrchr(cfg, '/') = 0;
    char root[1024];
    snprintf(root, sizeof root, "%s/etcd", mmt_tmpdir());
    mkdir(root, 0755);
    const char *ps = PS_HEAD
        "etcd        1300       1  3 Jan01 ?        02:00:00 /usr/local/bin/etcd --name=m1 --cert-file=/p/server.crt "
        "--key-file=/p/server.key --client-cert-auth=false --peer-auto-tls=true --peer-cert-file=/p/peer.crt\n";
    mm_k8s_cis *c = run(cfg, root, ps, "etcd", NULL);
    REQUIRE(c);
    CHECK_INT(mm_k8s_cis_count(c), 7);
    CHECK_STR(state(c, "2.1"), "PASS");     /* --cert-file and --key-file are set */
    CHECK_STR(state(c, "2.2"), "FAIL");     /* --client-cert-auth is false, not true */
    CHECK_STR(state(c, "2.3"), "PASS");     /* --auto-tls is not set */
    CHECK_STR(state(c, "2.4"), "FAIL");     /* --peer-key-file is missing */
    CHECK_STR(state(c, "2.5"), "FAIL");     /* --peer-client-cert-auth is not set to true */
    CHECK_STR(state(c, "2.6"), "FAIL");     /* --peer-auto-tls is set to true */
    CHECK_STR(state(c, "2.7"), "WARN");     /* Manual: no --trusted-ca-file */
    mm_k8s_cis_free(c);
}

MM_TEST(cis_version_selection_and_errors)
{
    const char *cfgf = mmt_shared("cis/cfg/config.yaml");
    if (!cfgf)
        MMT_SKIP("../shared/testdata/cis/cfg is absent");
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s", cfgf);
    *strrchr(cfg, '/') = 0;
    const char *root = mmt_tmpdir();
    char psf[1024];
    snprintf(psf, sizeof psf, "%s/ps", root);
    FILE *f = fopen(psf, "w");
    REQUIRE(f);
    fputs(PS_HEAD, f);
    fclose(f);
    mm_k8s_cis_opts o;
    memset(&o, 0, sizeof o);
    o.cfg_dir = cfg;
    o.root = root;
    o.ps_file = psf;
    o.checks = "4.2.1";
    o.targets = "node";
    /* version_mapping: 1.27 -> cis-1.9, v1.24.3 -> cis-1.24, newest plain -> cis-1.12 */
    struct { const char *v, *want; } cases[] = {{"1.27", "cis-1.9"}, {"v1.24.3", "cis-1.24"},
                                                 {NULL, "cis-1.12"}};
    for (size_t i = 0; i < 3; i++) {
        o.version = cases[i].v;
        mm_k8s_cis *c = NULL;
        CHECK_OK(mm_k8s_cis_run(&c, &o));
        if (c) {
            CHECK_STR(mm_k8s_cis_benchmark(c), cases[i].want);
            CHECK_INT(mm_k8s_cis_count(c), 1);
        }
        mm_k8s_cis_free(c);
    }
    o.version = "0.9";
    mm_k8s_cis *c = NULL;
    CHECK(mm_k8s_cis_run(&c, &o) == MM_ENOTFOUND);
    o.version = NULL;
    o.benchmark = "../etc";
    CHECK(mm_k8s_cis_run(&c, &o) == MM_EINVAL);
    o.benchmark = "cis-1.9";
    o.targets = "../../x";
    CHECK(mm_k8s_cis_run(&c, &o) == MM_EINVAL);
    o.targets = "node";
    o.ps_file = "/nonexistent/ps";
    CHECK(mm_k8s_cis_run(&c, &o) < 0);
}

MM_TEST(cis_audit_runner)
{
    /* a definitions folder of our own: a plain command runs without a
     * shell, a pipeline through /bin/sh, a slow audit times out, and
     * a failing audit makes a scored check FAIL */
    const char *dir = mmt_tmpdir();
    char p[1024];
    snprintf(p, sizeof p, "%s/config.yaml", dir);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fputs("node:\n  components: [kubelet]\n  kubelet:\n    bins: [kubelet]\n    confs: [/etc/k/a.conf]\n"
          "    defaultconf: /etc/k/default.conf\nversion_mapping: {\"1.30\": t-1}\n"
          "target_mapping: {t-1: [node]}\n", f);
    fclose(f);
    snprintf(p, sizeof p, "%s/t-1", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/t-1/node.yaml", dir);
    f = fopen(p, "w");
    REQUIRE(f);
    fputs("---\ncontrols:\nversion: t-1\nid: 9\ntype: node\ngroups:\n- id: 9.1\n  text: G\n  checks:\n"
          "  - id: 9.1.1\n    text: plain echo, no shell\n    audit: echo $kubeletconf value=$kubeletbin\n"
          "    tests: {test_items: [{flag: value, compare: {op: eq, value: kubelet}}]}\n    scored: true\n"
          "  - id: 9.1.2\n    text: a pipeline\n    audit: \"printf 'a\\\\nb=7\\\\n' | grep b=\"\n"
          "    tests: {test_items: [{flag: b, compare: {op: gte, value: 5}}]}\n    scored: true\n"
          "  - id: 9.1.3\n    text: times out\n    audit: sleep 5\n"
          "    tests: {test_items: [{flag: x, set: false}]}\n    scored: true\n"
          "  - id: 9.1.4\n    text: fails\n    audit: /bin/false\n"
          "    tests: {test_items: [{flag: x, set: false}]}\n    scored: false\n"
          "  - id: 9.1.5\n    text: skip\n    type: skip\n    scored: true\n"
          "  - id: 9.1.6\n    text: use_multiple_values\n    audit: \"printf 'permissions=600\\\\npermissions=644\\\\n'\"\n"
          "    use_multiple_values: true\n"
          "    tests: {test_items: [{flag: permissions, compare: {op: bitmask, value: \"600\"}}]}\n    scored: true\n"
          /* an unquoted id reads as a number in YAML; kube-bench reads it
           * into a string: 9.10, not 9.1 */
          "  - id: 9.10\n    text: unquoted id\n    type: skip\n    scored: true\n"
          "  - {id: 9.20, text: flow style, type: skip}\n", f);
    fclose(f);
    char root[1024];
    snprintf(root, sizeof root, "%s/root", dir);
    mkdir(root, 0755);
    put(root, "etc/k/a.conf", "x", 0600, 0);
    snprintf(p, sizeof p, "%s/ps", dir);
    f = fopen(p, "w");
    REQUIRE(f);
    fputs("PID CMD\n7 /usr/local/bin/kubelet --v=2\n", f);
    fclose(f);
    mm_k8s_cis_opts o;
    memset(&o, 0, sizeof o);
    o.cfg_dir = dir;
    o.root = root;
    o.ps_file = p;
    o.timeout_ms = 500;
    mm_k8s_cis *c = NULL;
    CHECK_OK(mm_k8s_cis_run(&c, &o));
    REQUIRE(c);
    CHECK_STR(mm_k8s_cis_benchmark(c), "t-1");
    const mm_k8s_cis_result *r = mm_k8s_cis_find(c, "9.1.1");
    REQUIRE(r);
    CHECK_STR(mm_k8s_cis_state_name(r->state), "PASS");
    /* the echo printed the root-prefixed config path of the first
     * existing conf, and the running binary's name */
    char want[1200];
    snprintf(want, sizeof want, "%s/etc/k/a.conf value=kubelet", root);
    CHECK_STR(r->actual, want);
    CHECK_STR(state(c, "9.1.2"), "PASS");
    r = mm_k8s_cis_find(c, "9.1.3");
    REQUIRE(r);
    CHECK_STR(mm_k8s_cis_state_name(r->state), "FAIL");
    CHECK(r->reason && strstr(r->reason, "timed out"));
    CHECK_STR(state(c, "9.1.4"), "WARN");
    CHECK_STR(state(c, "9.1.5"), "INFO");
    CHECK_STR(state(c, "9.1.6"), "FAIL");      /* the second line is 644 */
    CHECK_STR(state(c, "9.10"), "INFO");
    CHECK_STR(state(c, "9.20"), "INFO");
    CHECK_INT(mm_k8s_cis_count(c), 8);
    mm_k8s_cis_free(c);
}

MM_TEST_MAIN
