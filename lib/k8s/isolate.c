/*
 * isolate.c - node isolation (SP 800-190 §3.3.5: respond to a compromised
 * host): cordon a node and taint it `mamori.io/compromised` through the API
 * server, as `kubectl cordon` and `kubectl taint` would, and the client for
 * a pod's service account (in-cluster: the token and CA of
 * /var/run/secrets/kubernetes.io/serviceaccount, the server from
 * KUBERNETES_SERVICE_HOST/PORT) that an agent or a webhook uses for it.
 *
 * The requests, in order:
 *   GET   /api/v1/nodes/NODE                      (current taints, resourceVersion)
 *   PATCH /api/v1/nodes/NODE  {"spec":{"unschedulable":true}}
 *   PATCH /api/v1/nodes/NODE  {"metadata":{"annotations":{...},"resourceVersion":RV},
 *                              "spec":{"taints":[...kept..., the new taint]}}
 * both as application/strategic-merge-patch+json.  A node's taint list has
 * no merge key, so the second patch carries the whole list (the node's
 * other taints kept); the resourceVersion makes a concurrent change a 409,
 * which is retried from the GET (3 times).  A node already cordoned and
 * tainted with the same key and effect is left alone (no PATCH).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "k8s/client_int.h"

void mm_k8s_isolate_opts_init(mm_k8s_isolate_opts *o)
{
    memset(o, 0, sizeof *o);
    o->taint_key = "mamori.io/compromised";
    o->taint_value = "true";
    o->effect = "NoSchedule";
}

static bool valid_effect(const char *e)
{
    return e && (!strcmp(e, "NoSchedule") || !strcmp(e, "PreferNoSchedule") ||
                 !strcmp(e, "NoExecute"));
}

/* DNS-1123 subdomain: what a node name may be (and so, safe in a path) */
static bool valid_node_name(const char *n)
{
    size_t l = n ? strlen(n) : 0;
    if (!l || l > 253)
        return false;
    for (size_t i = 0; i < l; i++) {
        char ch = n[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.'))
            return false;
    }
    return n[0] != '-' && n[0] != '.' && n[l - 1] != '-' && n[l - 1] != '.';
}

static int request_json(mm_k8s_client *c, const char *method, const char *path,
                        const json_t *body, long *status, json_t **resp)
{
    char *b = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    char *r = NULL;
    size_t rl = 0;
    int rc = mm_k8s_client_request(c, method, path,
                                   body ? "application/strategic-merge-patch+json" : NULL, b,
                                   b ? strlen(b) : 0, status, &r, &rl);
    free(b);
    if (rc < 0)
        return rc;
    if (resp)
        *resp = r ? json_loadb(r, rl, 0, NULL) : NULL;
    free(r);
    return 0;
}

static int http_error(const char *method, const char *server, const char *path, long status,
                      const json_t *resp)
{
    const char *msg = json_string_value(json_object_get(resp, "message"));
    return mm_error_set(status == 403 ? MM_EAUTH : status == 404 ? MM_ENOTFOUND : MM_ENET,
                        "%s %s%s: HTTP %ld%s%s", method, server, path, status,
                        msg ? ": " : "", msg ? msg : "");
}

int mm_k8s_isolate_node(mm_k8s_client *c, const char *node, const mm_k8s_isolate_opts *opts,
                        mm_k8s_isolate_result *res)
{
    mm_k8s_isolate_opts def;
    mm_k8s_isolate_opts_init(&def);
    if (!opts)
        opts = &def;
    if (res)
        memset(res, 0, sizeof *res);
    const char *key = opts->taint_key ? opts->taint_key : def.taint_key;
    const char *val = opts->taint_value ? opts->taint_value : def.taint_value;
    const char *eff = opts->effect ? opts->effect : def.effect;
    if (!valid_node_name(node))
        return mm_error_set(MM_EINVAL, "node name '%s' is not a valid node name",
                            node ? node : "");
    if (!valid_effect(eff))
        return mm_error_set(MM_EINVAL, "taint effect '%s': NoSchedule, PreferNoSchedule or "
                            "NoExecute", eff);
    char path[300];
    snprintf(path, sizeof path, "/api/v1/nodes/%s", node);
    int rc = 0;
    for (int attempt = 0; attempt < 3; attempt++) {
        long st;
        json_t *n = NULL;
        if ((rc = request_json(c, "GET", path, NULL, &st, &n)) < 0)
            return rc;
        if (st != 200 || !json_is_object(n)) {
            rc = http_error("GET", c->server, path, st, n);
            json_decref(n);
            return rc;
        }
        json_t *spec = json_object_get(n, "spec");
        bool cordoned = json_is_true(json_object_get(spec, "unschedulable"));
        json_t *taints = json_object_get(spec, "taints");
        json_t *keep = json_array();
        bool tainted = false;
        size_t i;
        json_t *t;
        json_array_foreach(taints, i, t) {
            const char *k = json_string_value(json_object_get(t, "key"));
            const char *e = json_string_value(json_object_get(t, "effect"));
            const char *v = json_string_value(json_object_get(t, "value"));
            if (k && e && !strcmp(k, key) && !strcmp(e, eff)) {
                tainted = v ? !strcmp(v, val) : !*val;
                if (!tainted)
                    continue;   /* same key and effect, other value: replaced */
            }
            json_array_append(keep, t);
        }
        /* the version the taint patch is based on: the GET's, or the
         * cordon's answer (the cordon made a new one) */
        char *rv = mm_xstrdup(json_string_value(json_object_get(json_object_get(n, "metadata"),
                                                                "resourceVersion")));
        if (!cordoned) {
            json_t *p = json_pack("{s:{s:b}}", "spec", "unschedulable", 1);
            json_t *r = NULL;
            rc = request_json(c, "PATCH", path, p, &st, &r);
            json_decref(p);
            if (rc == 0 && st != 200)
                rc = http_error("PATCH", c->server, path, st, r);
            const char *nrv = json_string_value(json_object_get(json_object_get(r, "metadata"),
                                                                "resourceVersion"));
            if (rc == 0) {
                free(rv);
                rv = mm_xstrdup(nrv);   /* none in the answer: no version check */
            }
            json_decref(r);
            if (rc < 0) {
                free(rv);
                json_decref(keep);
                json_decref(n);
                return rc;
            }
            if (res)
                res->cordoned = true;
        }
        if (tainted) {
            free(rv);
            json_decref(keep);
            json_decref(n);
            if (res)
                res->already = !res->cordoned;
            return 0;
        }
        json_t *nt = json_pack("{s:s,s:s,s:s}", "key", key, "value", val, "effect", eff);
        json_array_append_new(keep, nt);
        json_t *meta = json_object();
        if (rv)
            json_object_set_new(meta, "resourceVersion", json_string(rv));
        free(rv);
        if (opts->reason) {
            json_t *ann = json_object();
            json_object_set_new(ann, "mamori.io/isolation-reason", json_string(opts->reason));
            json_object_set_new(meta, "annotations", ann);
        }
        json_t *p = json_pack("{s:o,s:{s:o}}", "metadata", meta, "spec", "taints", keep);
        json_t *r = NULL;
        rc = request_json(c, "PATCH", path, p, &st, &r);
        json_decref(p);
        json_decref(n);
        if (rc < 0) {
            json_decref(r);
            return rc;
        }
        if (st == 409) {      /* the node changed since the GET: again */
            json_decref(r);
            rc = mm_error_set(MM_ENET, "PATCH %s%s: HTTP 409 three times", c->server, path);
            continue;
        }
        if (st != 200) {
            rc = http_error("PATCH", c->server, path, st, r);
            json_decref(r);
            return rc;
        }
        json_decref(r);
        if (res)
            res->tainted = true;
        return 0;
    }
    return rc;
}

/* ---- the service account's client ------------------------------------------------------ */

int mm_k8s_client_new_sa(mm_k8s_client **out, const char *server, const char *sa_dir,
                         const mm_k8s_client_opts *opts)
{
    *out = NULL;
    mm_k8s_client_opts def;
    mm_k8s_client_opts_init(&def);
    if (!opts)
        opts = &def;
    if (!sa_dir)
        sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    char *srv = NULL;
    if (server) {
        srv = mm_xstrdup(server);
    } else {
        const char *h = getenv("KUBERNETES_SERVICE_HOST"), *p = getenv("KUBERNETES_SERVICE_PORT");
        if (!h || !*h)
            return mm_error_set(MM_EINVAL, "not in a cluster: KUBERNETES_SERVICE_HOST is not "
                                "set (give the API server URL)");
        srv = strchr(h, ':') ? mm_xasprintf("https://[%s]:%s", h, p && *p ? p : "443")
                             : mm_xasprintf("https://%s:%s", h, p && *p ? p : "443");
    }
    if (!mm_str_startswith(srv, "https://")) {
        int rc = mm_error_set(MM_EUNSAFE, "%s: mamori sends a service-account token over "
                              "verified TLS only", srv);
        free(srv);
        return rc;
    }
    mm_k8s_client *c = mm_xcalloc(1, sizeof *c);
    c->server = srv;
    size_t sl = strlen(srv);
    while (sl > 0 && srv[sl - 1] == '/')
        srv[--sl] = 0;
    c->context = mm_xstrdup("in-cluster");
    c->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 30;
    c->exec_timeout_ms = 30000;
    c->page = opts->page_size ? opts->page_size : 500;
    c->max_resp = opts->max_response ? opts->max_response : (256ull << 20);
    c->ua = mm_xstrdup(opts->user_agent ? opts->user_agent : "mamori/" MM_VERSION);
    char *ca = mm_xasprintf("%s/ca.crt", sa_dir);
    int rc = mm_file_read(ca, 1 << 20, &c->ca, &c->ca_len);
    if (rc < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "%s", mm_error_last());
        rc = mm_error_set(rc, "the service account's CA: %s", msg);
    }
    free(ca);
    if (rc == 0) {
        c->token_file = mm_xasprintf("%s/token", sa_dir);
        rc = k8s_client_read_token_file(c);
    }
    if (rc < 0) {
        mm_k8s_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}
