/*
 * test_k8s.c - the YAML loader (scalars as Kubernetes resolves them, merge
 * keys, anchors and the alias cap, duplicate keys, positions), the object
 * model (multi-document streams, List kinds, API lists, JSON streams, bad
 * input naming file and line), the Pod Security Standards against the
 * Kubernetes project's own 148 test manifests (../shared) and hand-worked
 * version differences, findings with their field paths and lines,
 * mamori.io/ignore annotations, RBAC checks and who-can on hand-worked
 * role sets, and the exec credential parse.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/k8s.h"
#include "util/util.h"
#include "k8s/client_int.h"
#include "mmtest.h"

/* --- YAML ------------------------------------------------------------------------ */
struct docs {
    json_t *v[16];
    int line[16];
    int n;
};

static int take(void *ud, json_t *doc, int line)
{
    struct docs *d = ud;
    if (d->n < 16) {
        d->line[d->n] = line;
        d->v[d->n++] = doc;
    } else {
        json_decref(doc);
    }
    return 0;
}

static void docs_free(struct docs *d)
{
    for (int i = 0; i < d->n; i++)
        json_decref(d->v[i]);
    d->n = 0;
}

MM_TEST(yaml_scalars_as_kubernetes)
{
    const char *y =
        "a: yes\nb: Off\nc: ~\nd: 0x1F\ne: 0777\nf: 1_000\ng: 1.5e3\nh: \"true\"\n"
        "i: 'null'\nj: !!str 12\nk: .inf\nl: 9223372036854775808\nm: -12\nn: 08\no:\n"
        "p: |\n  line1\n  line2\nq: >-\n  folded\n  text\nr: 2024-01-01\ns: y\n";
    json_t *v;
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "t.yaml", NULL, NULL));
    REQUIRE(json_is_object(v));
    CHECK(json_is_true(json_object_get(v, "a")));
    CHECK(json_is_false(json_object_get(v, "b")));
    CHECK(json_is_null(json_object_get(v, "c")));
    CHECK_INT(json_integer_value(json_object_get(v, "d")), 31);
    CHECK_INT(json_integer_value(json_object_get(v, "e")), 511);
    CHECK_INT(json_integer_value(json_object_get(v, "f")), 1000);
    CHECK(json_is_real(json_object_get(v, "g")) && json_real_value(json_object_get(v, "g")) == 1500.0);
    CHECK_STR(json_string_value(json_object_get(v, "h")), "true");
    CHECK_STR(json_string_value(json_object_get(v, "i")), "null");
    CHECK_STR(json_string_value(json_object_get(v, "j")), "12");
    CHECK_STR(json_string_value(json_object_get(v, "k")), ".inf");
    CHECK(json_is_real(json_object_get(v, "l")));
    CHECK_INT(json_integer_value(json_object_get(v, "m")), -12);
    CHECK(json_is_real(json_object_get(v, "n")));   /* not octal: go-yaml reads a float */
    CHECK(json_is_null(json_object_get(v, "o")));
    CHECK_STR(json_string_value(json_object_get(v, "p")), "line1\nline2\n");
    CHECK_STR(json_string_value(json_object_get(v, "q")), "folded text");
    CHECK_STR(json_string_value(json_object_get(v, "r")), "2024-01-01");
    CHECK(json_is_true(json_object_get(v, "s")));
    json_decref(v);
}

MM_TEST(yaml_merge_anchor_positions)
{
    const char *y = "base: &b\n  x: 1\n  y: 2\nitem:\n  <<: *b\n  y: 3\nlist:\n  - a\n  - *b\n";
    mm_yaml_posmap *pm = mm_yaml_posmap_new();
    json_t *v;
    CHECK_OK(mm_yaml_load_one(&v, y, strlen(y), "m.yaml", NULL, pm));
    json_t *item = json_object_get(v, "item");
    CHECK_INT(json_integer_value(json_object_get(item, "x")), 1);
    CHECK_INT(json_integer_value(json_object_get(item, "y")), 3);   /* explicit wins */
    CHECK(json_object_get(item, "<<") == NULL);
    json_t *list = json_object_get(v, "list");
    CHECK_INT(json_integer_value(json_object_get(json_array_get(list, 1), "y")), 2);
    int line = 0, col = 0;
    CHECK(mm_yaml_pos_get(pm, item, "y", 0, &line, &col));
    CHECK_INT(line, 6);
    CHECK_INT(col, 3);
    CHECK(mm_yaml_pos_get(pm, list, NULL, 1, &line, NULL));
    CHECK_INT(line, 9);
    json_decref(v);
    mm_yaml_posmap_free(pm);
}

MM_TEST(yaml_hostile_input)
{
    /* billion laughs: 9 levels of 9 aliases would be 387 million nodes */
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "a0: &a0 [x,x,x,x,x,x,x,x,x]\n");
    for (int i = 1; i < 10; i++) {
        mm_buf_printf(&b, "a%d: &a%d [", i, i);
        for (int j = 0; j < 9; j++)
            mm_buf_printf(&b, "%s*a%d", j ? "," : "", i - 1);
        mm_buf_adds(&b, "]\n");
    }
    struct docs d = {0};
    int rc = mm_yaml_parse(b.data, b.len, "laughs.yaml", NULL, NULL, take, &d);
    CHECK_INT(rc, MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "laughs.yaml:") != NULL);
    docs_free(&d);
    mm_buf_free(&b);
    /* deep nesting */
    mm_buf_clear(&b);
    for (int i = 0; i < 200; i++)
        mm_buf_adds(&b, "[");
    rc = mm_yaml_parse(b.data, b.len, "deep.yaml", NULL, NULL, take, &d);
    CHECK_INT(rc, MM_ELIMIT);
    docs_free(&d);
    mm_buf_free(&b);
    /* duplicate keys name the line of the second */
    const char *dup = "a: 1\nb:\n  c: 1\n  c: 2\n";
    rc = mm_yaml_parse(dup, strlen(dup), "dup.yaml", NULL, NULL, take, &d);
    CHECK_INT(rc, MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "dup.yaml:4:3") != NULL);
    CHECK(strstr(mm_error_last(), "duplicate key \"c\"") != NULL);
    docs_free(&d);
    /* a recursive alias */
    const char *rec = "a: &x\n  b: *x\n";
    rc = mm_yaml_parse(rec, strlen(rec), "rec.yaml", NULL, NULL, take, &d);
    CHECK_INT(rc, MM_EFORMAT);
    docs_free(&d);
    /* malformed: position in the message */
    const char *bad = "a: b\nc: [d, e\n";
    rc = mm_yaml_parse(bad, strlen(bad), "bad.yaml", NULL, NULL, take, &d);
    CHECK_INT(rc, MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "bad.yaml:") != NULL);
    docs_free(&d);
}

MM_TEST(yaml_streams)
{
    const char *y = "# helm output\n---\n# Source: a\nx: 1\n---\n---\ny: 2\n...\n";
    struct docs d = {0};
    CHECK_OK(mm_yaml_parse(y, strlen(y), "s.yaml", NULL, NULL, take, &d));
    CHECK_INT(d.n, 3);
    if (d.n == 3) {
        CHECK_INT(json_integer_value(json_object_get(d.v[0], "x")), 1);
        CHECK(json_is_null(d.v[1]));
        CHECK_INT(json_integer_value(json_object_get(d.v[2], "y")), 2);
        CHECK_INT(d.line[2], 7);
    }
    docs_free(&d);
}

/* --- the object model ----------------------------------------------------------------- */
static mm_k8s_set *load(const char *name, const char *text)
{
    mm_k8s_set *s;
    mm_k8s_set_new(&s, NULL);
    if (mm_k8s_load_buffer(s, name, text, strlen(text)) < 0) {
        fprintf(stderr, "load %s: %s\n", name, mm_error_last());
        mm_k8s_set_free(s);
        return NULL;
    }
    return s;
}

MM_TEST(model_inputs)
{
    const char *y =
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Namespace\n  metadata: {name: prod}\n"
        "- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: web, namespace: prod}\n"
        "  spec: {template: {spec: {containers: [{name: c, image: nginx}]}}}\n"
        "---\n"
        "apiVersion: v1\nkind: PodList\nitems:\n- metadata: {name: p1, namespace: a}\n  spec: {}\n";
    mm_k8s_set *s = load("in.yaml", y);
    REQUIRE(s);
    CHECK_INT(mm_k8s_count(s), 3);
    const mm_k8s_object *o = mm_k8s_get(s, 1);
    CHECK_STR(o->kind, "Deployment");
    CHECK_STR(o->ns, "prod");
    CHECK_STR(o->name, "web");
    CHECK_INT(o->line, 7);
    o = mm_k8s_get(s, 2);
    CHECK_STR(o->kind, "Pod");          /* from PodList */
    CHECK_STR(o->api_version, "v1");
    CHECK_INT(mm_k8s_field_line(s, 1, "spec.template.spec.containers[0].image"), 10);
    mm_k8s_set_free(s);

    /* concatenated JSON values and a bare array */
    const char *j = "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}}\n"
                    "[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\"}}]";
    s = load("in.json", j);
    REQUIRE(s);
    CHECK_INT(mm_k8s_count(s), 2);
    mm_k8s_set_free(s);
}

MM_TEST(model_bad_input)
{
    static const struct { const char *text, *want; } cases[] = {
        {"apiVersion: v1\nmetadata: {name: x}\n", "bad.yaml:1: not a Kubernetes object: field \"kind\""},
        {"- a\n- b\n", "bad.yaml:1: a document must be a mapping"},
        {"apiVersion: v1\nkind: Pod\nmetadata: [1]\n", "field \"metadata\" must be an object"},
        {"apiVersion: v1\nkind: Pod\nmetadata:\n  name: 5\n", "\"metadata.name\" must be a string"},
        {"{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\n \"kind\": \"Svc\"}", "bad.yaml:2:"},
        {"apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    name: b\n", "bad.yaml:6:5: duplicate key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_k8s_set *s;
        mm_k8s_set_new(&s, NULL);
        int rc = mm_k8s_load_buffer(s, "bad.yaml", cases[i].text, strlen(cases[i].text));
        CHECK(rc < 0);
        if (!strstr(mm_error_last(), cases[i].want)) {
            fprintf(stderr, "case %zu: message \"%s\" lacks \"%s\"\n", i, mm_error_last(),
                    cases[i].want);
            mmt_failed_now = 1;
        }
        mm_k8s_set_free(s);
    }
    /* the document cap */
    mm_k8s_limits lim = {0};
    lim.max_docs = 3;
    mm_k8s_set *s;
    mm_k8s_set_new(&s, &lim);
    const char *many = "kind: A\napiVersion: v1\n---\nkind: A\napiVersion: v1\n---\nkind: A\napiVersion: v1\n---\nkind: A\napiVersion: v1\n";
    CHECK_INT(mm_k8s_load_buffer(s, "many.yaml", many, strlen(many)), MM_ELIMIT);
    mm_k8s_set_free(s);
}

/* --- Pod Security Standards on the upstream test data ------------------------------------ */
static int pss_dir(const char *level, const char *verdict, int *bad)
{
    char rel[128];
    snprintf(rel, sizeof rel, "k8s/pod-security/%s/%s", level, verdict);
    const char *dir = mmt_shared(rel);
    if (!dir)
        return -1;
    char *d = strdup(dir);
    DIR *dh = opendir(d);
    if (!dh) {
        free(d);
        return -1;
    }
    mm_pss_level lv = !strcmp(level, "baseline") ? MM_PSS_BASELINE : MM_PSS_RESTRICTED;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (!mm_str_endswith(de->d_name, ".yaml"))
            continue;
        char *p = mm_xasprintf("%s/%s", d, de->d_name);
        mm_k8s_set *s;
        mm_k8s_set_new(&s, NULL);
        n++;
        if (mm_k8s_load_path(s, p) < 0 || mm_k8s_count(s) != 1) {
            fprintf(stderr, "%s: %s\n", p, mm_error_last());
            (*bad)++;
        } else {
            char **ids;
            size_t nid;
            if (mm_k8s_pss_evaluate(s, 0, lv, MM_PSS_LATEST, &ids, &nid) < 0) {
                fprintf(stderr, "%s: %s\n", p, mm_error_last());
                (*bad)++;
            } else {
                bool want_fail = !strcmp(verdict, "fail");
                if ((nid > 0) != want_fail) {
                    fprintf(stderr, "%s/%s/%s: want %s, got %zu failed checks%s%s\n", level,
                            verdict, de->d_name, verdict, nid, nid ? ", first " : "",
                            nid ? ids[0] : "");
                    (*bad)++;
                }
                mm_strv_free(ids, nid);
            }
        }
        mm_k8s_set_free(s);
        free(p);
    }
    closedir(dh);
    free(d);
    return n;
}

MM_TEST(pss_upstream_manifests)
{
    static const char *const dirs[][2] = {{"baseline", "pass"}, {"baseline", "fail"},
                                          {"restricted", "pass"}, {"restricted", "fail"}};
    int total = 0, bad = 0;
    for (int i = 0; i < 4; i++) {
        int n = pss_dir(dirs[i][0], dirs[i][1], &bad);
        if (n < 0)
            MMT_SKIP("../shared/testdata/k8s/pod-security is absent");
        total += n;
    }
    fprintf(stderr, "pod-security: %d manifests, %d wrong\n", total, bad);
    CHECK_INT(total, 148);
    CHECK_INT(bad, 0);
}

static size_t pss_count(const char *yaml, mm_pss_level lv, int version, const char *want)
{
    mm_k8s_set *s = load("p.yaml", yaml);
    if (!s)
        return 999;
    char **ids;
    size_t n;
    if (mm_k8s_pss_evaluate(s, 0, lv, version, &ids, &n) < 0)
        n = 999;
    bool has = false;
    for (size_t i = 0; i < n && n != 999; i++)
        if (want && !strcmp(ids[i], want))
            has = true;
    if (n != 999)
        mm_strv_free(ids, n);
    mm_k8s_set_free(s);
    return want ? (size_t)has : n;
}

MM_TEST(pss_versions)
{
    /* a sysctl that became safe at 1.27 */
    const char *sys = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  securityContext:\n"
                      "    sysctls: [{name: net.ipv4.ip_local_reserved_ports, value: '1'}]\n"
                      "  containers: [{name: c, image: i}]\n";
    CHECK_INT(pss_count(sys, MM_PSS_BASELINE, 26, "sysctls"), 1);
    CHECK_INT(pss_count(sys, MM_PSS_BASELINE, 27, "sysctls"), 0);
    /* probe hosts are forbidden from 1.34 */
    const char *probe = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n"
                        "  - name: c\n    image: i\n    livenessProbe: {httpGet: {host: x, port: 80}}\n";
    CHECK_INT(pss_count(probe, MM_PSS_BASELINE, 33, NULL), 0);
    CHECK_INT(pss_count(probe, MM_PSS_BASELINE, 34, "hostProbesAndHostLifecycle"), 1);
    /* seccomp annotations count below 1.19, fields from 1.19 */
    const char *ann = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  annotations:\n"
                      "    seccomp.security.alpha.kubernetes.io/pod: unconfined\n"
                      "spec:\n  containers: [{name: c, image: i}]\n";
    CHECK_INT(pss_count(ann, MM_PSS_BASELINE, 18, "seccompProfile_baseline"), 1);
    CHECK_INT(pss_count(ann, MM_PSS_BASELINE, 19, NULL), 0);
    /* user namespaces relax runAsNonRoot from 1.35, never procMount in restricted */
    const char *uns = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  hostUsers: false\n"
                      "  securityContext: {seccompProfile: {type: RuntimeDefault}}\n"
                      "  containers:\n  - name: c\n    image: i\n    securityContext:\n"
                      "      allowPrivilegeEscalation: false\n      capabilities: {drop: [ALL]}\n";
    CHECK_INT(pss_count(uns, MM_PSS_RESTRICTED, 34, "runAsNonRoot"), 1);
    CHECK_INT(pss_count(uns, MM_PSS_RESTRICTED, 35, NULL), 0);
    /* allowPrivilegeEscalation exists from 1.8; Windows pods are exempt from 1.25 */
    const char *win = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  os: {name: windows}\n"
                      "  securityContext: {runAsNonRoot: true}\n  containers: [{name: c, image: i}]\n";
    CHECK_INT(pss_count(win, MM_PSS_RESTRICTED, 24, "allowPrivilegeEscalation"), 1);
    CHECK_INT(pss_count(win, MM_PSS_RESTRICTED, 25, NULL), 0);
    CHECK_INT(pss_count(win, MM_PSS_RESTRICTED, 7, "allowPrivilegeEscalation"), 0);
    /* container_engine_t from 1.31 */
    const char *se = "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  securityContext:\n"
                     "    seLinuxOptions: {type: container_engine_t}\n  containers: [{name: c, image: i}]\n";
    CHECK_INT(pss_count(se, MM_PSS_BASELINE, 30, "seLinuxOptions"), 1);
    CHECK_INT(pss_count(se, MM_PSS_BASELINE, 31, NULL), 0);
    int v;
    CHECK_OK(mm_pss_version_parse(&v, "v1.99"));
    CHECK_INT(v, MM_PSS_LATEST);
    CHECK(mm_pss_version_parse(&v, "2.1") < 0);
}

/* --- findings, fields, annotations ------------------------------------------------------- */
static const mm_finding *find_id(mm_findings *f, const char *id, const char *field)
{
    for (size_t i = 0; i < mm_findings_count(f); i++) {
        const mm_finding *x = mm_findings_get(f, i);
        if (!strcmp(x->id, id) && (!field || (x->loc.field && !strcmp(x->loc.field, field))))
            return x;
    }
    return NULL;
}

MM_TEST(findings_locations_and_annotations)
{
    const char *y =
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        "  name: web\n"
        "  namespace: shop\n"
        "spec:\n"
        "  template:\n"
        "    metadata:\n"
        "      annotations:\n"
        "        mamori.io/ignore: MM-K8S-109, MM-K8S-110\n"
        "    spec:\n"
        "      hostPID: true\n"
        "      containers:\n"
        "      - name: app\n"
        "        image: nginx:latest\n"
        "        securityContext:\n"
        "          privileged: true\n"
        "        env:\n"
        "        - name: DB_PASSWORD\n"
        "          value: hunter2\n";
    mm_k8s_set *s = load("d.yaml", y);
    REQUIRE(s);
    mm_findings *f;
    mm_findings_new(&f);
    mm_k8s_check_opts o;
    mm_k8s_check_opts_init(&o);
    CHECK_OK(mm_k8s_check(s, &o, f));
    const mm_finding *x = find_id(f, "MM-PSS-privileged",
                                  "spec.template.spec.containers[0].securityContext.privileged");
    REQUIRE(x);
    CHECK_STR(x->loc.resource, "shop/Deployment/web");
    CHECK_STR(x->loc.path, "d.yaml");
    CHECK_INT(x->loc.line, 17);
    CHECK_STR(x->section, "3.4.3");
    CHECK_INT(x->severity, MM_SEV_CRITICAL);
    bool upstream = false;
    for (size_t i = 0; i < x->nreferences; i++)
        if (strstr(x->references[i], "kube-linter privileged-container"))
            upstream = true;
    CHECK(upstream);
    x = find_id(f, "MM-PSS-hostNamespaces", "spec.template.spec.hostPID");
    REQUIRE(x);
    CHECK_INT(x->loc.line, 12);
    x = find_id(f, "MM-K8S-111", "spec.template.spec.containers[0].env[0].value");
    REQUIRE(x);
    CHECK(strstr(x->evidence, "hunter2") == NULL);   /* the value never reaches a report */
    CHECK(find_id(f, "MM-K8S-108", NULL) != NULL);
    CHECK(find_id(f, "MM-K8S-109", NULL) == NULL);   /* ignored by annotation */
    CHECK(find_id(f, "MM-K8S-110", NULL) == NULL);
    mm_findings_free(f);

    /* baseline only: restricted checks are silent */
    mm_findings_new(&f);
    o.pss_level = MM_PSS_BASELINE;
    o.checks = MM_K8S_CHECK_PSS;
    CHECK_OK(mm_k8s_check(s, &o, f));
    CHECK(find_id(f, "MM-PSS-runAsNonRoot", NULL) == NULL);
    CHECK(find_id(f, "MM-PSS-privileged", NULL) != NULL);
    CHECK(find_id(f, "MM-K8S-111", NULL) == NULL);
    mm_findings_free(f);
    mm_k8s_set_free(s);
}

MM_TEST(controlled_objects_checked_once)
{
    /* a live cluster lists a Deployment, its ReplicaSet and their pods */
    const char *y =
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\n"
        "spec: {template: {spec: {hostIPC: true, containers: [{name: c, image: i}]}}}\n---\n"
        "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n  namespace: a\n"
        "  ownerReferences: [{kind: Deployment, name: web, controller: true}]\n"
        "spec: {template: {spec: {hostIPC: true, containers: [{name: c, image: i}]}}}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-x\n  namespace: a\n"
        "  ownerReferences: [{kind: ReplicaSet, name: web-1, controller: true}]\n"
        "spec: {hostIPC: true, containers: [{name: c, image: i}]}\n---\n"
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: orphan\n  namespace: a\n"
        "  ownerReferences: [{kind: ReplicaSet, name: gone, controller: true}]\n"
        "spec: {hostIPC: true, containers: [{name: c, image: i}]}\n";
    mm_k8s_set *s = load("live.yaml", y);
    REQUIRE(s);
    mm_findings *f;
    mm_findings_new(&f);
    mm_k8s_check_opts o;
    mm_k8s_check_opts_init(&o);
    CHECK_OK(mm_k8s_check(s, &o, f));
    int n = 0;
    for (size_t i = 0; i < mm_findings_count(f); i++) {
        const mm_finding *x = mm_findings_get(f, i);
        if (!strcmp(x->id, "MM-PSS-hostNamespaces")) {
            n++;
            CHECK(!strcmp(x->loc.resource, "a/Deployment/web") ||
                  !strcmp(x->loc.resource, "a/Pod/orphan"));
        }
    }
    CHECK_INT(n, 2);
    mm_findings_free(f);
    mm_k8s_set_free(s);
}

/* --- RBAC ------------------------------------------------------------------------------------ */
static const char rbac_yaml[] =
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n"
    "rules:\n- apiGroups: ['']\n  resources: [secrets, configmaps]\n  verbs: [get, list]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: deployer, namespace: kube-system}\n"
    "rules:\n- apiGroups: [apps]\n  resources: [deployments]\n  verbs: [create, update]\n"
    "- apiGroups: ['']\n  resources: ['pods/exec']\n  verbs: [create]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: everything}\n"
    "rules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: agg}\n"
    "aggregationRule:\n  clusterRoleSelectors: [{matchLabels: {agg: 'yes'}}]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: part, labels: {agg: 'yes'}}\n"
    "rules:\n- apiGroups: ['']\n  resources: [nodes/proxy]\n  verbs: [get]\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: anon-read}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}\n"
    "subjects:\n- {kind: Group, name: system:unauthenticated, apiGroup: rbac.authorization.k8s.io}\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ci, namespace: kube-system}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}\n"
    "subjects:\n- {kind: ServiceAccount, name: ci, namespace: build}\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: admins}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\n"
    "subjects:\n- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}\n"
    "---\n"
    "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: agg, namespace: dev}\n"
    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: agg}\n"
    "subjects:\n- {kind: Group, name: system:authenticated, apiGroup: rbac.authorization.k8s.io}\n";

MM_TEST(rbac_checks)
{
    mm_k8s_set *s = load("rbac.yaml", rbac_yaml);
    REQUIRE(s);
    mm_findings *f;
    mm_findings_new(&f);
    mm_k8s_check_opts o;
    mm_k8s_check_opts_init(&o);
    o.checks = MM_K8S_CHECK_RBAC;
    CHECK_OK(mm_k8s_check(s, &o, f));
    const mm_finding *x = find_id(f, "MM-K8S-204", "rules[0]");
    REQUIRE(x);
    CHECK_STR(x->loc.resource, "ClusterRole/reader");
    x = find_id(f, "MM-K8S-202", "rules[0]");
    REQUIRE(x);
    CHECK_STR(x->loc.resource, "ClusterRole/everything");
    CHECK(find_id(f, "MM-K8S-205", "rules[1]") != NULL);
    CHECK(find_id(f, "MM-K8S-207", "rules[0]") != NULL);
    CHECK(find_id(f, "MM-K8S-206", "rules[0]") != NULL);   /* part */
    x = find_id(f, "MM-K8S-208", "subjects[0]");
    REQUIRE(x);
    CHECK_STR(x->loc.resource, "ClusterRoleBinding/anon-read");
    CHECK_STR(x->section, "3.3.2");
    x = find_id(f, "MM-K8S-210", "roleRef");
    REQUIRE(x);
    CHECK_STR(x->loc.resource, "kube-system/RoleBinding/ci");
    CHECK(find_id(f, "MM-K8S-201", "roleRef") != NULL);
    CHECK(find_id(f, "MM-K8S-209", "subjects[0]") != NULL);
    mm_findings_free(f);

    mm_k8s_grant *g;
    size_t n;
    CHECK_OK(mm_k8s_who_can(s, "get", "secrets", "dev", &g, &n));
    /* the unauthenticated group (cluster-wide reader) and alice (cluster-admin) */
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(g[0].subject, "system:unauthenticated");
        CHECK_STR(g[0].scope, "*");
        CHECK_STR(g[1].subject, "alice");
        CHECK_STR(g[1].role, "ClusterRole/cluster-admin");
    }
    mm_k8s_grants_free(g, n);
    CHECK_OK(mm_k8s_who_can(s, "create", "pods/exec", "kube-system", &g, &n));
    CHECK_INT(n, 2);
    if (n == 2)
        CHECK_STR(g[0].subject, "build:ci");
    mm_k8s_grants_free(g, n);
    CHECK_OK(mm_k8s_who_can(s, "get", "nodes/proxy", "dev", &g, &n));
    CHECK_INT(n, 2);   /* through the aggregated role, and alice */
    mm_k8s_grants_free(g, n);
    CHECK_OK(mm_k8s_who_can(s, "create", "deployments", "prod", &g, &n));
    CHECK_INT(n, 1);   /* only alice: the deployer role is kube-system's */
    mm_k8s_grants_free(g, n);
    mm_k8s_set_free(s);
}

/* --- exec credentials ---------------------------------------------------------------------- */
MM_TEST(exec_credential_parse)
{
    char *t, *c, *k;
    int64_t exp;
    const char *ok = "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
                     "\"status\":{\"token\":\"abc\",\"expirationTimestamp\":\"2030-01-01T00:00:00Z\"}}";
    CHECK_OK(k8s_exec_parse(ok, strlen(ok), "client.authentication.k8s.io/v1", "p", &t, &c, &k, &exp));
    CHECK_STR(t, "abc");
    CHECK_INT(exp, 1893456000);
    free(t);
    CHECK(k8s_exec_parse(ok, strlen(ok), "client.authentication.k8s.io/v1beta1", "p", &t, &c, &k,
                         &exp) == MM_EFORMAT);
    const char *none = "{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{}}";
    CHECK(k8s_exec_parse(none, strlen(none), "client.authentication.k8s.io/v1", "p", &t, &c, &k,
                         &exp) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "neither a token") != NULL);
    CHECK(k8s_exec_parse("nope", 4, "client.authentication.k8s.io/v1", "p", &t, &c, &k, &exp) ==
          MM_EFORMAT);
}

MM_TEST_MAIN
