/*
 * test_k8s_net.c - network segmentation (issue 16): the reachability that
 * NetworkPolicies allow, on hand-worked cases that follow the canonical
 * recipes of the Kubernetes documentation and of the
 * ahmetb/kubernetes-network-policy-recipes collection (deny all ingress,
 * allow from a namespace, allow the same app, egress to DNS only, deny
 * all egress, allow from an ipBlock except a range), plus policyTypes
 * defaulting, matchExpressions, named ports, endPort, and the findings.
 * Every expected verdict is worked out by hand from the Kubernetes
 * NetworkPolicy semantics and written next to the check.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/k8s.h"
#include "mmtest.h"

/* Workloads used by most cases:
 *   prod/Deployment/web   app=web, port 8080 named "http", 9090 "metrics"
 *   prod/Deployment/db    app=db, port 5432 "pg"
 *   dev/Deployment/tool   app=tool
 *   kube-system/Deployment/coredns  k8s-app=kube-dns, 53 UDP/TCP "dns"
 * Namespaces: prod (env=prod), dev (env=dev), kube-system (no labels). */
static const char *base =
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: prod, labels: {env: prod}}\n---\n"
    "apiVersion: v1\nkind: Namespace\nmetadata: {name: dev, labels: {env: dev}}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: prod}\n"
    "spec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web, tier: front}}\n"
    "    spec:\n      containers:\n      - name: w\n        image: x\n        ports:\n"
    "        - {name: http, containerPort: 8080}\n        - {name: metrics, containerPort: 9090}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: prod}\n"
    "spec:\n  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db, tier: data}}\n"
    "    spec:\n      containers:\n      - name: d\n        image: x\n        ports:\n"
    "        - {name: pg, containerPort: 5432}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tool, namespace: dev}\n"
    "spec:\n  selector: {matchLabels: {app: tool}}\n  template:\n    metadata: {labels: {app: tool}}\n"
    "    spec:\n      containers:\n      - {name: t, image: x}\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: coredns, namespace: kube-system}\n"
    "spec:\n  selector: {matchLabels: {k8s-app: kube-dns}}\n  template:\n"
    "    metadata: {labels: {k8s-app: kube-dns}}\n    spec:\n      containers:\n"
    "      - name: c\n        image: x\n        ports:\n"
    "        - {name: dns, containerPort: 53, protocol: UDP}\n"
    "        - {name: dns-tcp, containerPort: 53, protocol: TCP}\n";

#define WEB "prod/Deployment/web"
#define DB "prod/Deployment/db"
#define TOOL "dev/Deployment/tool"
#define DNS "kube-system/Deployment/coredns"


struct fx {
    mm_k8s_set *s;
    mm_k8s_reach *r;
};

static bool fx_open(struct fx *f, const char *policies)
{
    mm_k8s_set_new(&f->s, NULL);
    size_t l = strlen(base) + strlen(policies) + 8;
    char *y = malloc(l);
    snprintf(y, l, "%s---\n%s", base, policies);
    int rc = mm_k8s_load_buffer(f->s, "t.yaml", y, strlen(y));
    free(y);
    f->r = NULL;
    if (rc < 0 || mm_k8s_reach_build(&f->r, f->s) < 0) {
        fprintf(stderr, "fixture: %s\n", mm_error_last());
        mm_k8s_set_free(f->s);
        return false;
    }
    return true;
}

static void fx_close(struct fx *f)
{
    mm_k8s_reach_free(f->r);
    mm_k8s_set_free(f->s);
}

static size_t W(const struct fx *f, const char *id)
{
    size_t i = (size_t)-1;
    if (mm_k8s_reach_find(f->r, id, &i) < 0)
        fprintf(stderr, "no workload %s\n", id);
    return i;
}

/* may a pod of `a` open proto/port on `b`? */
static bool ok(const struct fx *f, const char *a, const char *b, const char *proto, int port)
{
    return mm_k8s_reach_allowed(f->r, W(f, a), W(f, b), proto, port);
}

static void check_ports(const struct fx *f, const char *a, const char *b, const char *want,
                        int line)
{
    char *got = mm_k8s_reach_ports(f->r, W(f, a), W(f, b));
    if (!got || strcmp(got, want)) {
        fprintf(stderr, "%s:%d: ports %s -> %s = \"%s\", expected \"%s\"\n", __FILE__, line, a, b,
                got ? got : "(null)", want);
        mmt_failed_now = 1;
    }
    free(got);
}
#define PORTS(f, a, b, want) check_ports(f, a, b, want, __LINE__)

MM_TEST(reach_no_policies_everything_open)
{
    struct fx f;
    REQUIRE(fx_open(&f, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"));
    CHECK_INT(mm_k8s_reach_count(f.r), 4);
    /* no policy: every pod is non-isolated both ways; every pair, every port */
    PORTS(&f, TOOL, DB, "*");
    PORTS(&f, WEB, WEB, "*");
    CHECK(!mm_k8s_reach_isolated(f.r, W(&f, WEB), true));
    CHECK(mm_k8s_reach_ip_allowed(f.r, W(&f, DB), "203.0.113.9", true, "TCP", 5432));
    fx_close(&f);
}

MM_TEST(reach_deny_all_ingress)
{
    /* recipe: default-deny ingress in prod (podSelector {}, no ingress rules;
     * policyTypes defaults to [Ingress]) */
    struct fx f;
    REQUIRE(fx_open(&f, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                        "metadata: {name: deny-all, namespace: prod}\nspec:\n  podSelector: {}\n"));
    CHECK(mm_k8s_reach_isolated(f.r, W(&f, WEB), true));
    CHECK(!mm_k8s_reach_isolated(f.r, W(&f, WEB), false));   /* egress untouched */
    PORTS(&f, TOOL, WEB, "");           /* into prod: nothing */
    PORTS(&f, WEB, DB, "");             /* also within prod */
    PORTS(&f, WEB, TOOL, "*");          /* out of prod: open (dev not isolated) */
    PORTS(&f, DB, DNS, "*");
    CHECK(!mm_k8s_reach_ip_allowed(f.r, W(&f, WEB), "203.0.113.9", true, "TCP", 8080));
    CHECK(mm_k8s_reach_ip_allowed(f.r, W(&f, WEB), "203.0.113.9", false, "TCP", 443));
    fx_close(&f);
}

MM_TEST(reach_allow_from_namespace)
{
    /* deny all in prod, then db accepts from every pod of namespaces labelled
     * env=dev on 5432 (the "allow from a namespace" recipe) */
    struct fx f;
    REQUIRE(fx_open(&f,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-all, namespace: prod}\nspec: {podSelector: {}, policyTypes: [Ingress]}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-from-dev, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: db}}\n"
        "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {env: dev}}\n"
        "    ports: [{port: 5432}]\n"));
    PORTS(&f, TOOL, DB, "TCP:5432");
    CHECK(ok(&f, TOOL, DB, "TCP", 5432));
    CHECK(!ok(&f, TOOL, DB, "UDP", 5432));   /* protocol defaults to TCP */
    CHECK(!ok(&f, TOOL, DB, "TCP", 22));
    PORTS(&f, WEB, DB, "");      /* web is in prod, not in an env=dev namespace */
    PORTS(&f, DNS, DB, "");
    PORTS(&f, TOOL, WEB, "");    /* web: only deny-all selects it */
    fx_close(&f);
}

MM_TEST(reach_allow_same_app_and_pod_and_namespace)
{
    /* web accepts from pods with app=web in prod only (the "allow the same
     * app" recipe), and db from tier=front pods of env=prod namespaces: the
     * combined peer (podSelector AND namespaceSelector in one element) */
    struct fx f;
    REQUIRE(fx_open(&f,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: web-same-app, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: web}}\n"
        "  ingress:\n  - from: [{podSelector: {matchLabels: {app: web}}}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-front, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: db}}\n"
        "  ingress:\n  - from:\n    - namespaceSelector: {matchLabels: {env: prod}}\n"
        "      podSelector: {matchExpressions: [{key: tier, operator: In, values: [front, edge]}]}\n"));
    PORTS(&f, WEB, WEB, "*");
    PORTS(&f, DB, WEB, "");      /* app=db is not app=web */
    PORTS(&f, TOOL, WEB, "");    /* a podSelector alone means the policy's namespace */
    PORTS(&f, WEB, DB, "*");     /* tier=front in env=prod */
    PORTS(&f, TOOL, DB, "");     /* dev: the namespace half fails */
    fx_close(&f);
}

MM_TEST(reach_egress_dns_only_and_deny_all_egress)
{
    /* dev: pods may only resolve names (UDP and TCP 53 to kube-dns pods in
     * kube-system, selected by the automatic kubernetes.io/metadata.name
     * label); prod: deny all egress */
    struct fx f;
    REQUIRE(fx_open(&f,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: dns-only, namespace: dev}\nspec:\n  podSelector: {}\n  policyTypes: [Egress]\n"
        "  egress:\n  - to:\n    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}\n"
        "      podSelector: {matchLabels: {k8s-app: kube-dns}}\n"
        "    ports: [{port: 53, protocol: UDP}, {port: dns-tcp, protocol: TCP}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: deny-egress, namespace: prod}\nspec: {podSelector: {}, policyTypes: [Egress]}\n"));
    CHECK(mm_k8s_reach_isolated(f.r, W(&f, TOOL), false));
    CHECK(!mm_k8s_reach_isolated(f.r, W(&f, TOOL), true));
    PORTS(&f, TOOL, DNS, "TCP:53,UDP:53");  /* the named port resolves on coredns */
    PORTS(&f, TOOL, WEB, "");
    CHECK(!mm_k8s_reach_ip_allowed(f.r, W(&f, TOOL), "8.8.8.8", false, "UDP", 53));
    PORTS(&f, WEB, DB, "");          /* prod: no egress at all */
    PORTS(&f, WEB, DNS, "");
    PORTS(&f, DNS, WEB, "*");        /* ingress of prod untouched */
    CHECK(!mm_k8s_reach_ip_allowed(f.r, W(&f, DB), "198.51.100.1", false, "TCP", 443));
    fx_close(&f);
}

MM_TEST(reach_ipblock_except_and_ports)
{
    /* web accepts from 172.17.0.0/16 except 172.17.1.0/24 on 8080, and on
     * 9000-9100 (endPort) from anywhere; db egress to 10.0.0.0/8 on 443 */
    struct fx f;
    REQUIRE(fx_open(&f,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: web-ipb, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: web}}\n"
        "  ingress:\n  - from:\n    - ipBlock: {cidr: 172.17.0.0/16, except: [172.17.1.0/24]}\n"
        "    ports: [{port: http}]\n"
        "  - ports: [{port: 9000, endPort: 9100}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-out, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: db}}\n"
        "  egress:\n  - to: [{ipBlock: {cidr: 10.0.0.0/8}}]\n    ports: [{port: 443}]\n"));
    size_t w = W(&f, WEB), d = W(&f, DB);
    CHECK(mm_k8s_reach_ip_allowed(f.r, w, "172.17.0.5", true, "TCP", 8080));
    CHECK(!mm_k8s_reach_ip_allowed(f.r, w, "172.17.1.5", true, "TCP", 8080));   /* except */
    CHECK(!mm_k8s_reach_ip_allowed(f.r, w, "172.18.0.5", true, "TCP", 8080));   /* outside */
    CHECK(!mm_k8s_reach_ip_allowed(f.r, w, "172.17.0.5", true, "TCP", 22));     /* not http */
    CHECK(mm_k8s_reach_ip_allowed(f.r, w, "172.17.1.5", true, "TCP", 9090));    /* rule 2: any peer */
    CHECK(mm_k8s_reach_ip_allowed(f.r, w, "192.0.2.1", true, "TCP", 9100));     /* second rule */
    CHECK(!mm_k8s_reach_ip_allowed(f.r, w, "192.0.2.1", true, "TCP", 9101));
    /* pods (no recorded podIP) reach web on the endPort range only */
    PORTS(&f, TOOL, WEB, "TCP:9000-9100");
    /* db: no policyTypes, but egress rules: Ingress (no rules: deny) + Egress */
    CHECK(mm_k8s_reach_isolated(f.r, d, true));
    CHECK(mm_k8s_reach_isolated(f.r, d, false));
    CHECK(mm_k8s_reach_ip_allowed(f.r, d, "10.2.3.4", false, "TCP", 443));
    CHECK(!mm_k8s_reach_ip_allowed(f.r, d, "11.2.3.4", false, "TCP", 443));
    PORTS(&f, DB, WEB, "");          /* db's egress names only 10/8 addresses */
    PORTS(&f, WEB, DB, "");
    fx_close(&f);
}

MM_TEST(reach_policy_types_semantics)
{
    /* 1: policyTypes [Egress] with ingress rules: the ingress rules are
     *    ignored, ingress stays open.  2: `egress: []` without policyTypes
     *    does not add Egress (no rules).  3: a policy that selects no pod
     *    changes nothing.  4: two policies add up (union of ports). */
    struct fx f;
    REQUIRE(fx_open(&f,
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: eg-only, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: web}}\n"
        "  policyTypes: [Egress]\n  ingress: [{ports: [{port: 1}]}]\n  egress: [{}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: empty-egress, namespace: dev}\nspec:\n  podSelector: {}\n"
        "  ingress: [{ports: [{port: 80}]}]\n  egress: []\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: nobody, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: none}}\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-a, namespace: prod}\nspec:\n  podSelector: {matchLabels: {app: db}}\n"
        "  ingress: [{ports: [{port: 5432}]}]\n---\n"
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata: {name: db-b, namespace: prod}\nspec:\n  podSelector: {matchExpressions: [{key: app, operator: NotIn, values: [web]}]}\n"
        "  ingress: [{ports: [{port: 5433, protocol: SCTP}, {port: pg}]}]\n"));
    CHECK(!mm_k8s_reach_isolated(f.r, W(&f, WEB), true));
    CHECK(mm_k8s_reach_isolated(f.r, W(&f, WEB), false));
    PORTS(&f, TOOL, WEB, "*");         /* web accepts everything; tool's egress is open */
    PORTS(&f, DB, WEB, "*");
    PORTS(&f, WEB, DB, "TCP:5432,SCTP:5433");   /* web egress {} allows all; db: union */
    CHECK(mm_k8s_reach_isolated(f.r, W(&f, TOOL), true));
    CHECK(!mm_k8s_reach_isolated(f.r, W(&f, TOOL), false));
    PORTS(&f, DB, TOOL, "TCP:80");
    fx_close(&f);
}

static size_t count_id(const mm_findings *fs, const char *id, const char *res)
{
    size_t n = 0;
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *x = mm_findings_get(fs, i);
        if (!strcmp(x->id, id) && (!res || (x->loc.resource && !strcmp(x->loc.resource, res))))
            n++;
    }
    return n;
}

MM_TEST(net_findings)
{
    /* prod has a deny-ingress policy; dev and kube-system have none.
     * 401: dev (Namespace object) and kube-system (no object: on its first
     * workload).  402: web and db (ingress isolated, egress open). */
    struct fx f;
    REQUIRE(fx_open(&f, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                        "metadata: {name: deny, namespace: prod}\nspec: {podSelector: {}}\n"));
    mm_findings *fs;
    mm_findings_new(&fs);
    mm_k8s_check_opts o;
    mm_k8s_check_opts_init(&o);
    o.checks = MM_K8S_CHECK_NET;
    CHECK_OK(mm_k8s_check(f.s, &o, fs));
    CHECK_INT(count_id(fs, "MM-K8S-401", NULL), 2);
    CHECK_INT(count_id(fs, "MM-K8S-401", "Namespace/dev"), 1);
    CHECK_INT(count_id(fs, "MM-K8S-401", DNS), 1);
    CHECK_INT(count_id(fs, "MM-K8S-402", NULL), 2);
    CHECK_INT(count_id(fs, "MM-K8S-402", WEB), 1);
    CHECK_INT(count_id(fs, "MM-K8S-402", DB), 1);
    CHECK_INT(mm_findings_count(fs), 4);
    mm_findings_free(fs);
    fx_close(&f);
}

MM_TEST(reach_writers)
{
    struct fx f;
    REQUIRE(fx_open(&f, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                        "metadata: {name: deny, namespace: prod}\nspec: {podSelector: {}}\n"));
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK_OK(mm_k8s_reach_write(f.r, m, "json"));
    fclose(m);
    json_error_t e;
    json_t *j = json_loads(buf, 0, &e);
    REQUIRE(j);
    CHECK_INT(json_array_size(json_object_get(j, "workloads")), 4);
    /* 4x4 pairs minus the 4 into each of web and db = 8 edges */
    CHECK_INT(json_array_size(json_object_get(j, "edges")), 8);
    json_decref(j);
    free(buf);
    m = open_memstream(&buf, &len);
    CHECK_OK(mm_k8s_reach_write(f.r, m, "dot"));
    fclose(m);
    CHECK(strstr(buf, "digraph reach {") != NULL);
    CHECK(strstr(buf, "\"dev/Deployment/tool\" -> \"kube-system/Deployment/coredns\" [label=\"*\"]") != NULL);
    CHECK(strstr(buf, "-> \"prod/Deployment/web\" [label") == NULL);
    free(buf);
    CHECK(mm_k8s_reach_write(f.r, stdout, "xml") == MM_EINVAL);
    fx_close(&f);
}

/* --- mixed sensitivity ------------------------------------------------------------ */
static mm_findings *run_checks(const char *yaml, unsigned checks, const char *key,
                               const char *map)
{
    mm_k8s_set *s;
    mm_k8s_set_new(&s, NULL);
    mm_findings *fs;
    mm_findings_new(&fs);
    if (mm_k8s_load_buffer(s, "t.yaml", yaml, strlen(yaml)) < 0) {
        fprintf(stderr, "load: %s\n", mm_error_last());
        mm_k8s_set_free(s);
        return fs;
    }
    mm_k8s_check_opts o;
    mm_k8s_check_opts_init(&o);
    o.checks = checks;
    o.sens_key = key;
    o.sens_ns_map = map;
    if (mm_k8s_check(s, &o, fs) < 0)
        fprintf(stderr, "check: %s\n", mm_error_last());
    mm_k8s_set_free(s);
    return fs;
}

static const mm_finding *find_on(const mm_findings *fs, const char *id, const char *res)
{
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *x = mm_findings_get(fs, i);
        if (!strcmp(x->id, id) && x->loc.resource && !strcmp(x->loc.resource, res))
            return x;
    }
    return NULL;
}

#define POD(name, lv, node) \
    "apiVersion: v1\nkind: Pod\nmetadata: {name: " name ", namespace: apps, labels: {" lv "}}\n" \
    "spec: {nodeName: " node ", containers: [{name: c, image: x}]}\n---\n"

MM_TEST(sensitivity_shared_nodes_today)
{
    /* n1 runs p1 (high), p2 (low), p4 (no level); n2 runs p3 (high) and p5
     * (low); p6 (high) shares n3 with nobody.  One 411 per node and pair of
     * levels, on the node's first pod of the first level: p1 and p3. */
    const char *y = POD("p1", "mamori.io/sensitivity: high", "n1") POD("p2", "mamori.io/sensitivity: low", "n1")
                    POD("p3", "mamori.io/sensitivity: high", "n2") POD("p4", "app: x", "n1")
                    POD("p5", "mamori.io/sensitivity: low", "n2") POD("p6", "mamori.io/sensitivity: high", "n3")
                    POD("p7", "mamori.io/sensitivity: high", "n1");
    mm_findings *fs = run_checks(y, MM_K8S_CHECK_SENS, NULL, NULL);
    CHECK_INT(count_id(fs, "MM-K8S-411", NULL), 2);
    const mm_finding *f = find_on(fs, "MM-K8S-411", "apps/Pod/p1");
    REQUIRE(f);
    CHECK(strstr(f->evidence, "node n1") && strstr(f->evidence, "apps/Pod/p2"));
    CHECK(strstr(f->evidence, "nodeSelector {\"mamori.io/sensitivity\": \"high\"}") != NULL);
    CHECK_STR(f->loc.field, "spec.nodeName");
    CHECK(find_on(fs, "MM-K8S-411", "apps/Pod/p3") != NULL);
    CHECK_STR(f->section, "3.3.4");
    mm_findings_free(fs);
    /* another key: none of these pods carries tier=... */
    fs = run_checks(y, MM_K8S_CHECK_SENS, "tier", NULL);
    CHECK_INT(mm_findings_count(fs), 0);
    mm_findings_free(fs);
}

#define DEP(name, ns, lv, spec) \
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " name ", namespace: " ns "}\n" \
    "spec:\n  selector: {matchLabels: {app: " name "}}\n  template:\n" \
    "    metadata: {labels: {app: " name lv "}}\n    spec:\n      containers: [{name: c, image: x}]\n" spec "---\n"

MM_TEST(sensitivity_may_share)
{
    /* a (high, nodeSelector pool=secure) and b (low, pool=general) cannot
     * meet; c (low, unconstrained) may land next to a; d (high) carries a
     * required anti-affinity per hostname against low pods of its namespace:
     * apart from b and c.  e (namespace pci, no label) gets a level only
     * from the namespace map. */
    const char *y =
        DEP("a", "apps", ", mamori.io/sensitivity: high", "      nodeSelector: {pool: secure}\n")
        DEP("b", "apps", ", mamori.io/sensitivity: low",
            "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
            "            nodeSelectorTerms:\n            - matchExpressions: [{key: pool, operator: In, values: [general, batch]}]\n")
        DEP("c", "apps", ", mamori.io/sensitivity: low", "")
        DEP("d", "apps", ", mamori.io/sensitivity: high",
            "      affinity:\n        podAntiAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
            "          - topologyKey: kubernetes.io/hostname\n"
            "            labelSelector: {matchLabels: {mamori.io/sensitivity: low}}\n")
        DEP("e", "pci", "", "");
    mm_findings *fs = run_checks(y, MM_K8S_CHECK_SENS, NULL, NULL);
    CHECK_INT(count_id(fs, "MM-K8S-412", NULL), 2);
    const mm_finding *f = find_on(fs, "MM-K8S-412", "apps/Deployment/a");
    REQUIRE(f);
    CHECK(strstr(f->evidence, "1 workload of another level: apps/Deployment/c (low)") != NULL);
    CHECK_STR(f->loc.field, "spec.template.spec.nodeSelector");
    CHECK(find_on(fs, "MM-K8S-412", "apps/Deployment/c") != NULL);
    mm_findings_free(fs);
    fs = run_checks(y, MM_K8S_CHECK_SENS, NULL, "other=x, pci=restricted");
    /* e (restricted) may meet all four; a: c, e; b: e; c: a, e; d: e */
    CHECK_INT(count_id(fs, "MM-K8S-412", NULL), 5);
    f = find_on(fs, "MM-K8S-412", "pci/Deployment/e");
    REQUIRE(f);
    CHECK(strstr(f->evidence, "with 4 workloads") != NULL);
    f = find_on(fs, "MM-K8S-412", "apps/Deployment/b");
    REQUIRE(f);
    CHECK(strstr(f->evidence, "with 1 workload of another level: pci/Deployment/e (restricted)") != NULL);
    mm_findings_free(fs);
}

MM_TEST(sensitivity_nodes_and_taints)
{
    /* n1: pool=secure, tainted dedicated=secure:NoSchedule; n2: pool=general.
     * h (high) selects pool=secure and tolerates the taint: {n1}.  l (low)
     * has no toleration: {n2}.  l2 (low) tolerates everything: {n1, n2},
     * so it may meet h. */
    const char *y =
        "apiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {pool: secure}}\n"
        "spec: {taints: [{key: dedicated, value: secure, effect: NoSchedule}]}\n---\n"
        "apiVersion: v1\nkind: Node\nmetadata: {name: n2, labels: {pool: general}}\n---\n"
        DEP("h", "apps", ", mamori.io/sensitivity: high",
            "      nodeSelector: {pool: secure}\n"
            "      tolerations: [{key: dedicated, operator: Equal, value: secure, effect: NoSchedule}]\n")
        DEP("l", "apps", ", mamori.io/sensitivity: low", "")
        DEP("l2", "apps", ", mamori.io/sensitivity: low", "      tolerations: [{operator: Exists}]\n");
    mm_findings *fs = run_checks(y, MM_K8S_CHECK_SENS, NULL, NULL);
    CHECK_INT(count_id(fs, "MM-K8S-412", NULL), 2);
    CHECK(find_on(fs, "MM-K8S-412", "apps/Deployment/h") != NULL);
    CHECK(find_on(fs, "MM-K8S-412", "apps/Deployment/l2") != NULL);
    CHECK(find_on(fs, "MM-K8S-412", "apps/Deployment/l") == NULL);
    mm_findings_free(fs);
}

MM_TEST_MAIN
