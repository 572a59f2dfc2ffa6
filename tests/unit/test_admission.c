/*
 * test_admission.c - the deploy-time verdicts without a server
 * (mamori/admission.h): AdmissionReview v1 and v1beta1 requests (malformed
 * ones named by field; Pod Security on pods and pod templates; the three
 * modes; exempt namespaces; operations that carry no object; images that
 * cannot be checked fail closed), Docker AuthZ requests (privileged, host
 * namespaces, capabilities, profiles, devices, sensitive binds and mounts,
 * privileged exec, the body the plugin never got - CVE-2024-41110 - and
 * bad requests), and the manifests.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/admission.h"
#include "mamori/store.h"
#include "mmtest.h"

static const char *POD_PRIV =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\","
    "\"securityContext\":{\"privileged\":true}}]}}";
static const char *POD_OK =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},"
    "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox:1.36\"}]}}";
static const char *DEPLOY_HOSTNET =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"d\"},"
    "\"spec\":{\"template\":{\"metadata\":{},\"spec\":{\"hostNetwork\":true,"
    "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}}}";

static char *review(const char *api, const char *uid, const char *op, const char *ns,
                    const char *obj)
{
    size_t n = strlen(obj) + 512;
    char *s = malloc(n);
    snprintf(s, n,
             "{\"apiVersion\":\"admission.k8s.io/%s\",\"kind\":\"AdmissionReview\","
             "\"request\":{\"uid\":\"%s\",\"kind\":{\"group\":\"\",\"version\":\"v1\","
             "\"kind\":\"Pod\"},\"operation\":\"%s\",\"namespace\":\"%s\",\"object\":%s}}",
             api, uid, op, ns, obj);
    return s;
}

static json_t *decide(mm_admission *a, const char *body, mm_adm_verdict **v)
{
    char *resp = NULL;
    int rc = mm_admission_review(a, body, strlen(body), &resp, v);
    if (rc) {
        fprintf(stderr, "review: %s\n", mm_error_last());
        return NULL;
    }
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    return j;
}

static const char *jstr(json_t *j, const char *path)
{
    /* "a.b.c" */
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *t = strtok(buf, "."); t && j; t = strtok(NULL, "."))
        j = json_object_get(j, t);
    return json_string_value(j);
}

MM_TEST(review_malformed_named)
{
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, NULL));
    struct { const char *body, *names; } bad[] = {
        {"not json", "not JSON"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"Pod\"}", "\"kind\""},
        {"{\"apiVersion\":\"admission.k8s.io/v2\",\"kind\":\"AdmissionReview\"}", "\"apiVersion\""},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\"}", "\"request\""},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}",
         "request.uid"},
        {"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":"
         "{\"uid\":\"u\",\"object\":[1]}}", "request.object"},
        {"[]", "\"kind\""},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *resp = (char *)1;
        mm_adm_verdict *v = (mm_adm_verdict *)1;
        int rc = mm_admission_review(a, bad[i].body, strlen(bad[i].body), &resp, &v);
        CHECK_INT(rc, MM_EFORMAT);
        CHECK(resp == NULL && v == NULL);
        if (!strstr(mm_error_last(), bad[i].names)) {
            fprintf(stderr, "case %zu: %s lacks %s\n", i, mm_error_last(), bad[i].names);
            CHECK(0);
        }
    }
    size_t big = MM_ADM_MAX_BODY + 1;
    char *b = calloc(1, big + 1);
    memset(b, ' ', big);
    char *resp;
    CHECK_INT(mm_admission_review(a, b, big, &resp, NULL), MM_ELIMIT);
    free(b);
    mm_admission_free(a);
}

MM_TEST(review_modes_and_versions)
{
    mm_adm_config c;
    mm_adm_config_init(&c);
    for (int mode = 0; mode < 3; mode++) {
        c.mode = (mm_adm_mode)mode;
        mm_admission *a;
        CHECK_OK(mm_admission_new(&a, &c));
        const char *api = mode == 1 ? "v1beta1" : "v1";
        char *body = review(api, "uid-1", "CREATE", "apps", POD_PRIV);
        mm_adm_verdict *v = NULL;
        json_t *j = decide(a, body, &v);
        REQUIRE(j && v);
        char want[64];
        snprintf(want, sizeof want, "admission.k8s.io/%s", api);
        CHECK_STR(jstr(j, "apiVersion"), want);
        CHECK_STR(jstr(j, "kind"), "AdmissionReview");
        CHECK_STR(jstr(j, "response.uid"), "uid-1");
        json_t *r = json_object_get(j, "response");
        CHECK(v->violation);
        CHECK(v->message && strstr(v->message, "privileged"));
        json_t *ann = json_object_get(r, "auditAnnotations");
        CHECK(json_string_value(json_object_get(ann, "mamori.io/violations")) != NULL);
        if (mode == MM_ADM_ENFORCE) {
            CHECK(json_is_false(json_object_get(r, "allowed")));
            CHECK(!v->allowed);
            CHECK_INT(json_integer_value(json_object_get(json_object_get(r, "status"), "code")),
                      403);
            const char *m = json_string_value(json_object_get(json_object_get(r, "status"),
                                                              "message"));
            CHECK(m && strstr(m, "Pod Security \"baseline\": privileged"));
            CHECK(!json_object_get(r, "warnings"));
        } else if (mode == MM_ADM_WARN) {
            CHECK(json_is_true(json_object_get(r, "allowed")));
            json_t *w = json_object_get(r, "warnings");
            CHECK(json_array_size(w) == 1);
            CHECK(strstr(json_string_value(json_array_get(w, 0)), "privileged") != NULL);
            CHECK(!json_object_get(r, "status"));
        } else {
            CHECK(json_is_true(json_object_get(r, "allowed")));
            CHECK(!json_object_get(r, "warnings"));
        }
        json_decref(j);
        mm_adm_verdict_free(v);
        free(body);
        mm_admission_free(a);
    }
}

MM_TEST(review_templates_exempt_ops)
{
    mm_adm_config c;
    mm_adm_config_init(&c);
    const char *ex[] = {"kube-*"};
    c.exempt_namespaces = ex;
    c.nexempt = 1;
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, &c));
    mm_adm_verdict *v;
    /* a workload's pod template */
    char *b = review("v1", "u2", "CREATE", "apps", DEPLOY_HOSTNET);
    json_t *j = decide(a, b, &v);
    REQUIRE(j);
    CHECK(!v->allowed && v->message && strstr(v->message, "hostNamespaces"));
    json_decref(j);
    mm_adm_verdict_free(v);
    free(b);
    /* exempt namespace */
    b = review("v1", "u3", "CREATE", "kube-system", POD_PRIV);
    j = decide(a, b, &v);
    REQUIRE(j);
    CHECK(v->allowed && v->exempt && !v->violation);
    CHECK(json_is_true(json_object_get(json_object_get(j, "response"), "allowed")));
    json_decref(j);
    mm_adm_verdict_free(v);
    free(b);
    /* a clean pod; a DELETE without object; a CONNECT */
    const char *cases[][2] = {{"CREATE", POD_OK}, {"DELETE", "null"}, {"CONNECT", POD_PRIV}};
    for (size_t i = 0; i < 3; i++) {
        b = review("v1", "u4", cases[i][0], "apps", cases[i][1]);
        j = decide(a, b, &v);
        REQUIRE(j);
        CHECK(v->allowed && !v->violation);
        json_decref(j);
        mm_adm_verdict_free(v);
        free(b);
    }
    /* restricted level: the clean pod fails it */
    mm_admission_free(a);
    c.pss_level = MM_PSS_RESTRICTED;
    CHECK_OK(mm_admission_new(&a, &c));
    b = review("v1", "u5", "CREATE", "apps", POD_OK);
    j = decide(a, b, &v);
    REQUIRE(j);
    CHECK(!v->allowed && strstr(v->message, "runAsNonRoot"));
    json_decref(j);
    mm_adm_verdict_free(v);
    free(b);
    mm_admission_free(a);
}

MM_TEST(review_workload_checks)
{
    mm_adm_config c;
    mm_adm_config_init(&c);
    c.pss = false;
    c.k8s_checks = MM_K8S_CHECK_WORKLOAD;
    c.workload_min = MM_SEV_LOW;
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, &c));
    char *b = review("v1", "u7", "CREATE", "apps", DEPLOY_HOSTNET);
    mm_adm_verdict *v;
    json_t *j = decide(a, b, &v);
    REQUIRE(j);
    CHECK(!v->allowed && v->nviolations > 0);
    for (size_t i = 0; i < v->nviolations; i++)
        CHECK(strncmp(v->violations[i], "MM-", 3) == 0);
    json_decref(j);
    mm_adm_verdict_free(v);
    mm_admission_free(a);
    /* nothing reaches CRITICAL on this object */
    c.workload_min = MM_SEV_CRITICAL;
    CHECK_OK(mm_admission_new(&a, &c));
    j = decide(a, b, &v);
    REQUIRE(j);
    for (size_t i = 0; i < v->nviolations; i++)
        fprintf(stderr, "critical: %s\n", v->violations[i]);
    json_decref(j);
    mm_adm_verdict_free(v);
    mm_admission_free(a);
    free(b);
}

MM_TEST(review_sensitivity_placement)
{
    mm_adm_config c;
    mm_adm_config_init(&c);
    c.pss = false;
    c.placement = true;
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, &c));
    const char *unpinned =
        "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"pay\"},"
        "\"spec\":{\"template\":{\"metadata\":{\"labels\":{\"mamori.io/sensitivity\":\"high\"}},"
        "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}}}";
    const char *selector =
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":"
        "{\"mamori.io/sensitivity\":\"high\"}},\"spec\":{\"nodeSelector\":"
        "{\"mamori.io/sensitivity\":\"high\"},\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}";
#define AFFINITY(VALS)                                                                     \
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\",\"labels\":"         \
        "{\"mamori.io/sensitivity\":\"high\"}},\"spec\":{\"affinity\":{\"nodeAffinity\":"         \
        "{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[{"        \
        "\"matchExpressions\":[{\"key\":\"mamori.io/sensitivity\",\"operator\":\"In\","        \
        "\"values\":[" VALS "]}]}]}}},\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}"
    const char *aff_ok = AFFINITY("\"high\"");
    const char *aff_bad = AFFINITY("\"high\",\"low\"");
    struct { const char *obj; bool allowed; } cases[] = {
        {unpinned, false}, {selector, true}, {aff_ok, true}, {aff_bad, false}, {POD_OK, true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *b = review("v1", "u8", "CREATE", "pay", cases[i].obj);
        mm_adm_verdict *v;
        json_t *j = decide(a, b, &v);
        REQUIRE(j);
        if (v->allowed != cases[i].allowed) {
            fprintf(stderr, "placement case %zu: allowed %d (%s)\n", i, v->allowed,
                    v->message ? v->message : "");
            CHECK(0);
        }
        if (!v->allowed)
            CHECK(strstr(v->message, "sensitivity \"high\"") != NULL);
        json_decref(j);
        mm_adm_verdict_free(v);
        free(b);
    }
    mm_admission_free(a);
}

MM_TEST(review_image_gate_fails_closed)
{
    /* a remote image and no registry client: the gate cannot decide, so
     * enforce mode denies with the reason */
    const char *dir = mmt_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/store.db", dir);
    mm_store *st;
    CHECK_OK(mm_store_open(&st, path));
    static const char pol[] = "version: 1\ndeny_latest: true\n";
    mm_policy *p;
    CHECK_OK(mm_policy_load_mem(&p, pol, sizeof pol - 1, "pol.yaml"));
    mm_adm_config c;
    mm_adm_config_init(&c);
    c.policy = p;
    c.env.store = st;
    c.pss = false;
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, &c));
    char *b = review("v1", "u6", "CREATE", "apps", POD_OK);
    mm_adm_verdict *v;
    json_t *j = decide(a, b, &v);
    REQUIRE(j);
    CHECK(!v->allowed);
    CHECK(v->message && strstr(v->message, "image busybox:1.36: could not be checked"));
    json_decref(j);
    mm_adm_verdict_free(v);
    free(b);
    mm_admission_free(a);
    mm_policy_free(p);
    mm_store_close(st);
}

/* ---- Docker AuthZ ---------------------------------------------------------------- */

static char *b64(const char *s)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *o = malloc(n / 3 * 4 + 5), *p = o;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16;
        if (i + 1 < n) v |= (unsigned char)s[i + 1] << 8;
        if (i + 2 < n) v |= (unsigned char)s[i + 2];
        *p++ = t[(v >> 18) & 63];
        *p++ = t[(v >> 12) & 63];
        *p++ = i + 1 < n ? t[(v >> 6) & 63] : '=';
        *p++ = i + 2 < n ? t[v & 63] : '=';
    }
    *p = 0;
    return o;
}

/* The verdict on one request; body NULL = no RequestBody. */
static int authz(mm_admission *a, const char *method, const char *uri, const char *body,
                 char **msg)
{
    json_t *r = json_pack("{s:s,s:s,s:s,s:{s:s}}", "User", "", "RequestMethod", method,
                          "RequestUri", uri, "RequestHeaders", "Content-Type",
                          "application/json");
    if (body) {
        char *e = b64(body);
        json_object_set_new(r, "RequestBody", json_string(e));
        free(e);
    }
    char *req = json_dumps(r, 0);
    json_decref(r);
    char *resp;
    mm_adm_verdict *v;
    int rc = mm_admission_authz(a, req, strlen(req), &resp, &v);
    free(req);
    if (rc)
        return -1;
    json_t *j = json_loads(resp, 0, NULL);
    int allow = json_is_true(json_object_get(j, "Allow"));
    if (msg)
        *msg = strdup(json_string_value(json_object_get(j, "Msg")) ?
                      json_string_value(json_object_get(j, "Msg")) : "");
    CHECK(allow == (int)v->allowed);
    json_decref(j);
    free(resp);
    mm_adm_verdict_free(v);
    return allow;
}

static int create(mm_admission *a, const char *hostconfig, char **msg)
{
    size_t n = strlen(hostconfig) + 128;
    char *body = malloc(n);
    snprintf(body, n, "{\"Image\":\"busybox\",\"Cmd\":[\"true\"],\"HostConfig\":%s}", hostconfig);
    int r = authz(a, "POST", "/v1.45/containers/create?name=x", body, msg);
    free(body);
    return r;
}

MM_TEST(authz_create_rules)
{
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, NULL));
    struct { const char *hc; int allow; const char *says; } cases[] = {
        {"{}", 1, NULL},
        {"{\"Privileged\":true}", 0, "privileged container"},
        {"{\"NetworkMode\":\"host\"}", 0, "--network host"},
        {"{\"PidMode\":\"host\"}", 0, "--pid host"},
        {"{\"IpcMode\":\"host\"}", 0, "--ipc host"},
        {"{\"NetworkMode\":\"bridge\",\"PidMode\":\"container:abc\"}", 1, NULL},
        {"{\"CapAdd\":[\"CAP_SYS_ADMIN\"]}", 0, "SYS_ADMIN"},
        {"{\"CapAdd\":[\"NET_BIND_SERVICE\"]}", 1, NULL},
        {"{\"SecurityOpt\":[\"seccomp=unconfined\"]}", 0, "seccomp=unconfined"},
        {"{\"Devices\":[{\"PathOnHost\":\"/dev/sda\"}]}", 0, "--device"},
        {"{\"Binds\":[\"/var/run/docker.sock:/var/run/docker.sock\"]}", 0, "docker.sock"},
        {"{\"Binds\":[\"/etc/../etc//shadow:/x:ro\"]}", 0, "/etc/shadow"},
        {"{\"Binds\":[\"/var:/host-var\"]}", 0, "/var"},
        {"{\"Binds\":[\"/:/host\"]}", 0, "host path / "},
        {"{\"Binds\":[\"/home/dev/src:/src\",\"data:/data\"]}", 1, NULL},
        {"{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/proc\",\"Target\":\"/p\"}]}", 0, "/proc"},
        {"{\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"etc\",\"Target\":\"/etc\"}]}", 1, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *msg = NULL;
        int r = create(a, cases[i].hc, &msg);
        if (r != cases[i].allow || (cases[i].says && !strstr(msg, cases[i].says))) {
            fprintf(stderr, "case %s: allow %d msg %s\n", cases[i].hc, r, msg ? msg : "");
            CHECK(0);
        }
        free(msg);
    }
    mm_admission_free(a);
}

MM_TEST(authz_missing_body_and_others)
{
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, NULL));
    char *msg = NULL;
    /* CVE-2024-41110: the daemon forwarded the create without its body */
    CHECK_INT(authz(a, "POST", "/v1.45/containers/create", NULL, &msg), 0);
    CHECK(strstr(msg, "without its body") != NULL);
    free(msg);
    CHECK_INT(authz(a, "POST", "/v1.45/containers/create", "", &msg), 0);
    free(msg);
    CHECK_INT(authz(a, "POST", "/containers/abc/exec", NULL, &msg), 0);
    free(msg);
    CHECK_INT(authz(a, "POST", "/v1.45/containers/abc/exec",
                    "{\"Cmd\":[\"sh\"],\"Privileged\":true}", &msg), 0);
    CHECK(strstr(msg, "privileged exec") != NULL);
    free(msg);
    CHECK_INT(authz(a, "POST", "/v1.45/containers/abc/exec", "{\"Cmd\":[\"sh\"]}", NULL), 1);
    CHECK_INT(authz(a, "POST", "/v1.45/containers/create", "[1,2]", &msg), 0);
    free(msg);
    /* requests that carry no body */
    CHECK_INT(authz(a, "GET", "/v1.45/containers/json", NULL, NULL), 1);
    CHECK_INT(authz(a, "POST", "/v1.45/containers/abc/start", NULL, NULL), 1);
    CHECK_INT(authz(a, "GET", "/_ping", NULL, NULL), 1);
    /* not an AuthZ request: Err, and an error */
    const char *bad[] = {"nope", "{\"RequestURI\":\"/x\"}",
                         "{\"RequestMethod\":\"GET\",\"RequestURI\":\"/x\",\"RequestBody\":5}"};
    for (size_t i = 0; i < 3; i++) {
        char *resp;
        CHECK_INT(mm_admission_authz(a, bad[i], strlen(bad[i]), &resp, NULL), MM_EFORMAT);
        json_t *j = json_loads(resp, 0, NULL);
        CHECK(json_is_false(json_object_get(j, "Allow")));
        CHECK(json_string_value(json_object_get(j, "Err")) != NULL);
        json_decref(j);
        free(resp);
    }
    /* bad base64 */
    const char *b64bad = "{\"RequestMethod\":\"POST\",\"RequestURI\":\"/containers/create\","
                         "\"RequestBody\":\"@@@@\"}";
    char *resp;
    CHECK_OK(mm_admission_authz(a, b64bad, strlen(b64bad), &resp, NULL));
    CHECK(strstr(resp, "\"Allow\":false") && strstr(resp, "base64"));
    free(resp);
    mm_admission_free(a);
}

MM_TEST(authz_warn_mode_allows)
{
    mm_adm_config c;
    mm_adm_config_init(&c);
    c.mode = MM_ADM_WARN;
    mm_admission *a;
    CHECK_OK(mm_admission_new(&a, &c));
    char *msg = NULL;
    CHECK_INT(create(a, "{\"Privileged\":true}", &msg), 1);
    CHECK(strstr(msg, "privileged") != NULL);
    free(msg);
    mm_admission_free(a);
}

MM_TEST(manifests)
{
    const char *ex[] = {"kube-system", "dev-*"};
    mm_adm_manifest_opts o = {.ca_bundle_pem = "-----BEGIN CERTIFICATE-----\nAA\n", .timeout_s = 7,
                              .mode = MM_ADM_WARN, .exempt_namespaces = ex, .nexempt = 2};
    char *m = mm_admission_manifests(&o);
    CHECK(strstr(m, "kind: ValidatingWebhookConfiguration") != NULL);
    CHECK(strstr(m, "kind: Service") != NULL);
    CHECK(strstr(m, "kind: Deployment") != NULL);
    CHECK(strstr(m, "timeoutSeconds: 7") != NULL);
    CHECK(strstr(m, "admissionReviewVersions: [v1, v1beta1]") != NULL);
    CHECK(strstr(m, "caBundle: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkFBCg==") != NULL);
    CHECK(strstr(m, "values: [mamori-system, kube-system]") != NULL);
    CHECK(strstr(m, "--mode, warn") != NULL);
    free(m);
}

MM_TEST_MAIN
