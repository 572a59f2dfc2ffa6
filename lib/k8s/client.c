/*
 * client.c - a read-mostly Kubernetes API client over the library's one
 * HTTP transport (util/http.h), configured from a kubeconfig as kubectl
 * reads it: --kubeconfig, else $KUBECONFIG (a list of files merged, first definition wins), else ~/.kube/config;
 * the context (--context or current-context) names a cluster (server, CA
 * file or data, tls-server-name) and a user (client certificate and key,
 * file or data; token or tokenFile; basic auth; an exec credential plugin).
 * Relative paths are relative to the kubeconfig file.  TLS is always
 * verified: insecure-skip-tls-verify is refused, plain http only for a
 * loopback server (kubectl proxy).  Lists are read page by page with
 * limit/continue; every response is capped.  The exec plugin is in
 * exec.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "k8s/k8s_int.h"
#include "k8s/client_int.h"

void mm_k8s_client_opts_init(mm_k8s_client_opts *o)
{
    memset(o, 0, sizeof *o);
}

static char *dir_of(const char *path)
{
    size_t l = mm_path_dirlen(path);
    return l ? mm_xstrndup(path, l) : mm_xstrdup(".");
}

static char *resolve(const char *base_dir, const char *p)
{
    if (!p || !*p)
        return NULL;
    if (p[0] == '/')
        return mm_xstrdup(p);
    if (p[0] == '~' && p[1] == '/' && getenv("HOME"))
        return mm_xasprintf("%s/%s", getenv("HOME"), p + 2);
    return mm_xasprintf("%s/%s", base_dir, p);
}

/* --- kubeconfig -------------------------------------------------------------------------------- */
struct kc_file {
    char *path, *dir;
    json_t *doc;
};

/* The named entry of list key ("clusters", "users", "contexts") over the
 * files, first file first; *dir is the file's folder. */
static const json_t *kc_named(struct kc_file *f, size_t nf, const char *list, const char *name,
                              const char *inner, const char **dir)
{
    for (size_t i = 0; i < nf; i++) {
        const json_t *arr = kj_arr(f[i].doc, list);
        for (size_t j = 0; j < json_array_size(arr); j++) {
            const json_t *e = json_array_get(arr, j);
            const char *n = kj_str(e, "name");
            if (n && !strcmp(n, name)) {
                *dir = f[i].dir;
                return kj_obj(e, inner);
            }
        }
    }
    return NULL;
}

static int load_kubeconfigs(struct kc_file **out, size_t *n, const char *explicit_path)
{
    char **paths = NULL;
    size_t np = 0;
    if (explicit_path) {
        mm_strv_push(&paths, &np, explicit_path);
    } else if (getenv("KUBECONFIG") && *getenv("KUBECONFIG")) {
        char *dup = mm_xstrdup(getenv("KUBECONFIG")), *save = NULL;
        for (char *t = strtok_r(dup, ":", &save); t; t = strtok_r(NULL, ":", &save))
            mm_strv_push(&paths, &np, t);
        free(dup);
    } else if (getenv("HOME")) {
        char *p = mm_xasprintf("%s/.kube/config", getenv("HOME"));
        mm_strv_push(&paths, &np, p);
        free(p);
    }
    if (!np)
        return mm_error_set(MM_ENOTFOUND, "no kubeconfig: give --kubeconfig or set KUBECONFIG");
    struct kc_file *f = mm_xcalloc(np, sizeof *f);
    size_t nf = 0;
    int rc = 0;
    for (size_t i = 0; i < np && rc == 0; i++) {
        char *data;
        size_t len;
        int r = mm_file_read(paths[i], 16u << 20, &data, &len);
        if (r == MM_ENOTFOUND && !explicit_path && np > 1)
            continue;   /* kubectl skips missing files of a KUBECONFIG list */
        if (r < 0) {
            rc = mm_error_wrap(r, "kubeconfig: ");
            break;
        }
        json_t *doc;
        r = mm_yaml_load_one(&doc, data, len, paths[i], NULL, NULL);
        free(data);
        if (r < 0) {
            rc = r;
            break;
        }
        if (!json_is_object(doc)) {
            json_decref(doc);
            rc = mm_error_set(MM_EFORMAT, "%s: not a kubeconfig (no mapping)", paths[i]);
            break;
        }
        f[nf].path = mm_xstrdup(paths[i]);
        f[nf].dir = dir_of(paths[i]);
        f[nf].doc = doc;
        nf++;
    }
    mm_strv_free(paths, np);
    if (rc == 0 && nf == 0)
        rc = mm_error_set(MM_ENOTFOUND, "kubeconfig: none of the KUBECONFIG files exists");
    if (rc < 0) {
        for (size_t i = 0; i < nf; i++) {
            free(f[i].path);
            free(f[i].dir);
            json_decref(f[i].doc);
        }
        free(f);
        return rc;
    }
    *out = f;
    *n = nf;
    return 0;
}

static int read_small(const char *path, const char *what, char **out, size_t *len)
{
    int rc = mm_file_read(path, 1u << 20, out, len);
    if (rc < 0)
        return mm_error_wrap(rc, "kubeconfig %s: ", what);
    return 0;
}

/* A PEM from a "<key>" file path or "<key>-data" base64 field. */
static int pem_of(const json_t *o, const char *key, const char *dir, char **pem, size_t *len)
{
    *pem = NULL;
    *len = 0;
    char dk[64];
    snprintf(dk, sizeof dk, "%s-data", key);
    const char *d = kj_str(o, dk);
    if (d && *d) {
        unsigned char *b;
        if (mm_base64_decode(&b, len, d, strlen(d), MM_BASE64_LENIENT) < 0)
            return mm_error_set(MM_EFORMAT, "kubeconfig: field \"%s\" is not base64", dk);
        *pem = (char *)b;
        return 0;
    }
    const char *p = kj_str(o, key);
    if (p && *p) {
        char *full = resolve(dir, p);
        int rc = read_small(full, key, pem, len);
        free(full);
        return rc;
    }
    return 0;
}

static bool loopback_host(const char *url)
{
    const char *h = strstr(url, "://");
    h = h ? h + 3 : url;
    return mm_str_startswith(h, "127.") || mm_str_startswith(h, "localhost") ||
           mm_str_startswith(h, "[::1]");
}

int mm_k8s_client_new(mm_k8s_client **out, const mm_k8s_client_opts *opts)
{
    *out = NULL;
    mm_k8s_client_opts def;
    mm_k8s_client_opts_init(&def);
    if (!opts)
        opts = &def;
    struct kc_file *f;
    size_t nf;
    int rc = load_kubeconfigs(&f, &nf, opts->kubeconfig);
    if (rc < 0)
        return rc;
    mm_k8s_client *c = mm_xcalloc(1, sizeof *c);
    c->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 30;
    c->exec_timeout_ms = opts->exec_timeout_ms > 0 ? opts->exec_timeout_ms : 30000;
    c->page = opts->page_size ? opts->page_size : 500;
    c->max_resp = opts->max_response ? opts->max_response : (256ull << 20);
    c->ua = mm_xstrdup(opts->user_agent ? opts->user_agent : "mamori/" MM_VERSION);
    const char *ctx = opts->context;
    for (size_t i = 0; !ctx && i < nf; i++)
        ctx = kj_str(f[i].doc, "current-context");
    const char *kcname = f[0].path;
    if (!ctx || !*ctx) {
        rc = mm_error_set(MM_EINVAL, "%s: no current-context; give --context", kcname);
        goto out;
    }
    const char *dir_ctx, *dir_cl, *dir_u;
    const json_t *cx = kc_named(f, nf, "contexts", ctx, "context", &dir_ctx);
    if (!cx) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: context \"%s\" not found", kcname, ctx);
        goto out;
    }
    const char *cl_name = kj_str(cx, "cluster"), *u_name = kj_str(cx, "user");
    const json_t *cl = cl_name ? kc_named(f, nf, "clusters", cl_name, "cluster", &dir_cl) : NULL;
    if (!cl) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: context \"%s\": cluster \"%s\" not found", kcname,
                          ctx, cl_name ? cl_name : "");
        goto out;
    }
    const json_t *u = u_name && *u_name ? kc_named(f, nf, "users", u_name, "user", &dir_u) : NULL;
    if (u_name && *u_name && !u) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: context \"%s\": user \"%s\" not found", kcname,
                          ctx, u_name);
        goto out;
    }
    const char *server = kj_str(cl, "server");
    if (!server || !*server) {
        rc = mm_error_set(MM_EFORMAT, "%s: cluster \"%s\": field \"server\" is missing", kcname,
                          cl_name);
        goto out;
    }
    c->server = mm_xstrdup(server);
    size_t sl = strlen(c->server);
    while (sl > 0 && c->server[sl - 1] == '/')
        c->server[--sl] = 0;
    c->context = mm_xstrdup(ctx);
    c->cluster_json = json_deep_copy(cl);
    if (mm_str_startswith(server, "http://") && !loopback_host(server)) {
        rc = mm_error_set(MM_EUNSAFE, "%s: cluster \"%s\": %s is plain HTTP; mamori sends "
                          "credentials over verified TLS only", kcname, cl_name, server);
        goto out;
    }
    if (kj_true(cl, "insecure-skip-tls-verify")) {
        rc = mm_error_set(MM_EUNSAFE, "%s: cluster \"%s\" sets insecure-skip-tls-verify; give "
                          "its certificate-authority instead (mamori verifies the API server)",
                          kcname, cl_name);
        goto out;
    }
    if ((rc = pem_of(cl, "certificate-authority", dir_cl, &c->ca, &c->ca_len)) < 0)
        goto out;
    c->tls_server_name = mm_xstrdup(kj_str(cl, "tls-server-name"));
    if (u) {
        if (kj_obj(u, "auth-provider")) {
            rc = mm_error_set(MM_EUNSUPPORTED, "%s: user \"%s\" uses an auth-provider plugin, "
                              "which kubectl removed; use an exec plugin", kcname, u_name);
            goto out;
        }
        if ((rc = pem_of(u, "client-certificate", dir_u, &c->cert, &c->cert_len)) < 0 ||
            (rc = pem_of(u, "client-key", dir_u, &c->key, &c->key_len)) < 0)
            goto out;
        if ((c->cert == NULL) != (c->key == NULL)) {
            rc = mm_error_set(MM_EFORMAT, "%s: user \"%s\": a client certificate needs its key "
                              "(client-certificate and client-key)", kcname, u_name);
            goto out;
        }
        const char *tok = kj_str(u, "token");
        if (tok && *tok)
            c->token = mm_xstrdup(tok);
        const char *tf = kj_str(u, "tokenFile");
        if (!c->token && tf && *tf) {
            c->token_file = resolve(dir_u, tf);
            if ((rc = k8s_client_read_token_file(c)) < 0)
                goto out;
        }
        if (kj_str(u, "username") && kj_str(u, "password")) {
            c->username = mm_xstrdup(kj_str(u, "username"));
            c->password = mm_xstrdup(kj_str(u, "password"));
        }
        const json_t *ex = kj_obj(u, "exec");
        if (ex) {
            if ((rc = k8s_exec_config(c, ex, dir_u, kcname, u_name)) < 0)
                goto out;
        }
    }
out:
    for (size_t i = 0; i < nf; i++) {
        free(f[i].path);
        free(f[i].dir);
        json_decref(f[i].doc);
    }
    free(f);
    if (rc < 0) {
        mm_k8s_client_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int k8s_client_read_token_file(mm_k8s_client *c)
{
    char *data;
    size_t len;
    int rc = read_small(c->token_file, "tokenFile", &data, &len);
    if (rc < 0)
        return rc;
    while (len && (data[len - 1] == '\n' || data[len - 1] == '\r' || data[len - 1] == ' '))
        data[--len] = 0;
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token));
        free(c->token);
    }
    c->token = data;
    return 0;
}

static void wipe_free(char *p, size_t n)
{
    if (p)
        explicit_bzero(p, n);
    free(p);
}

void mm_k8s_client_free(mm_k8s_client *c)
{
    if (!c)
        return;
    mm_http_free(c->http);
    free(c->server);
    free(c->context);
    free(c->ua);
    free(c->ca);
    free(c->cert);
    wipe_free(c->key, c->key_len);
    if (c->token)
        wipe_free(c->token, strlen(c->token));
    free(c->token_file);
    free(c->username);
    if (c->password)
        wipe_free(c->password, strlen(c->password));
    free(c->tls_server_name);
    json_decref(c->cluster_json);
    k8s_exec_free(c);
    free(c);
}

const char *mm_k8s_client_server(const mm_k8s_client *c)
{
    return c ? c->server : NULL;
}

/* --- requests ------------------------------------------------------------------------------------ */
struct body {
    mm_buf b;
};

/* The client's transport (util/http.h), made on the first request: the
 * timeouts and the response cap are the client's. */
static int k8s_http(mm_k8s_client *c, mm_http **out)
{
    if (!c->http) {
        mm_http_opts ho = {
            .user_agent = c->ua,
            .connect_timeout_s = c->timeout_s,
            .stall_timeout_s = c->timeout_s,
            .max_body = c->max_resp,
        };
        int rc = mm_http_new(&c->http, &ho);
        if (rc)
            return rc;
    }
    *out = c->http;
    return 0;
}

static int do_request(mm_k8s_client *c, const char *method, const char *path,
                      const char *ctype, const char *body, size_t blen, long *status,
                      struct body *rb)
{
    mm_http *h;
    int rc = k8s_http(c, &h);
    if (rc)
        return rc;
    char *url = mm_xasprintf("%s%s", c->server, path);
    const char *hdrs[3] = {"Accept: application/json", NULL, NULL};
    char *auth = NULL;
    const char *tok = c->exec_token ? c->exec_token : c->token;
    if (tok)
        hdrs[1] = auth = mm_xasprintf("Authorization: Bearer %s", tok);
    mm_http_request rq = {
        .method = method, .url = url, .headers = hdrs,
        .ctype = body ? (ctype ? ctype : "application/json") : NULL,
        .body = body, .len = body ? blen : 0,
        .user = tok ? NULL : c->username, .password = tok ? NULL : c->password,
        .ca_pem = c->ca, .ca_len = c->ca_len,
        .compressed = true,
    };
    /* a client certificate from the exec plugin wins over the kubeconfig's;
     * tls-server-name: the certificate is verified against the URL's host */
    if (c->exec_cert && c->exec_key) {
        rq.cert_pem = c->exec_cert, rq.cert_len = strlen(c->exec_cert);
        rq.key_pem = c->exec_key, rq.key_len = strlen(c->exec_key);
    } else if (c->cert && c->key) {
        rq.cert_pem = c->cert, rq.cert_len = c->cert_len;
        rq.key_pem = c->key, rq.key_len = c->key_len;
    }
    rc = mm_http_do(h, &rq, status, &rb->b);
    if (auth)
        wipe_free(auth, strlen(auth));
    free(url);
    return rc;
}

int mm_k8s_client_request(mm_k8s_client *c, const char *method, const char *path,
                          const char *content_type, const char *body, size_t body_len,
                          long *status, char **resp, size_t *resp_len)
{
    *status = 0;
    if (resp)
        *resp = NULL;
    if (resp_len)
        *resp_len = 0;
    int rc = k8s_exec_ensure(c, false);
    if (rc < 0)
        return rc;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct body rb = {MM_BUF_INIT};
        rc = do_request(c, method, path, content_type, body, body_len, status, &rb);
        if (rc < 0) {
            mm_buf_free(&rb.b);
            return rc;
        }
        if (*status == 401 && attempt == 0 && (c->exec || c->token_file)) {
            /* a token that expired early or was rotated: ask again once */
            mm_buf_free(&rb.b);
            if (c->token_file && (rc = k8s_client_read_token_file(c)) < 0)
                return rc;
            if (c->exec && (rc = k8s_exec_ensure(c, true)) < 0)
                return rc;
            continue;
        }
        if (*status == 401) {
            mm_buf_free(&rb.b);
            return mm_error_set(MM_EAUTH, "%s %s%s: 401 Unauthorized (context \"%s\")", method,
                                c->server, path, c->context);
        }
        if (resp) {
            *resp = mm_buf_detach(&rb.b);
            if (resp_len)
                *resp_len = strlen(*resp) < rb.b.len ? rb.b.len : strlen(*resp);
        } else {
            mm_buf_free(&rb.b);
        }
        return 0;
    }
    return 0;
}

static char *url_escape(const char *s)
{
    mm_buf b = MM_BUF_INIT;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            mm_buf_addc(&b, (char)*p);
        else
            mm_buf_printf(&b, "%%%02X", *p);
    }
    return mm_buf_detach(&b);
}

int mm_k8s_client_list(mm_k8s_client *c, const char *path, mm_k8s_set *s)
{
    char *cont = NULL;
    int pages = 0;
    char *source = mm_xasprintf("cluster %s", c->server);
    int rc = 0;
    do {
        if (++pages > 100000) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than 100000 pages", path);
            break;
        }
        char *esc = cont ? url_escape(cont) : NULL;
        char *p = mm_xasprintf("%s%slimit=%zu%s%s", path, strchr(path, '?') ? "&" : "?",
                               c->page, esc ? "&continue=" : "", esc ? esc : "");
        free(esc);
        long status;
        char *body;
        size_t blen;
        rc = mm_k8s_client_request(c, "GET", p, NULL, NULL, 0, &status, &body, &blen);
        if (rc < 0) {
            free(p);
            break;
        }
        if (status == 403 || status == 404) {
            mm_k8s_warn(s, "%s%s: %ld %s (not listed)", c->server, path, status,
                        status == 403 ? "Forbidden" : "Not Found");
            free(body);
            free(p);
            break;
        }
        if (status != 200) {
            rc = mm_error_set(MM_ENET, "GET %s%s: HTTP %ld", c->server, p, status);
            free(body);
            free(p);
            break;
        }
        free(p);
        json_error_t je;
        json_t *doc = json_loadb(body, blen, JSON_REJECT_DUPLICATES, &je);
        free(body);
        if (!doc || !json_is_object(doc)) {
            rc = mm_error_set(MM_EFORMAT, "GET %s%s: not a JSON list (%s)", c->server, path,
                              doc ? "not an object" : je.text);
            json_decref(doc);
            break;
        }
        free(cont);
        cont = NULL;
        const char *nc = kj_str(kj_obj(doc, "metadata"), "continue");
        if (nc && *nc)
            cont = mm_xstrdup(nc);
        rc = mm_k8s_add_json(s, doc, source);
        json_decref(doc);
    } while (rc == 0 && cont);
    free(cont);
    free(source);
    return rc;
}

int mm_k8s_client_snapshot(mm_k8s_client *c, mm_k8s_set *s)
{
    static const char *const paths[] = {
        "/api/v1/namespaces", "/api/v1/nodes", "/api/v1/pods", "/api/v1/services",
        "/api/v1/serviceaccounts", "/api/v1/configmaps", "/api/v1/replicationcontrollers",
        "/api/v1/podtemplates",
        "/apis/apps/v1/deployments", "/apis/apps/v1/statefulsets", "/apis/apps/v1/daemonsets",
        "/apis/apps/v1/replicasets", "/apis/batch/v1/jobs", "/apis/batch/v1/cronjobs",
        "/apis/networking.k8s.io/v1/networkpolicies", "/apis/networking.k8s.io/v1/ingresses",
        "/apis/rbac.authorization.k8s.io/v1/roles",
        "/apis/rbac.authorization.k8s.io/v1/rolebindings",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        "/apis/policy/v1/poddisruptionbudgets",
        "/apis/autoscaling/v2/horizontalpodautoscalers", NULL};
    for (int i = 0; paths[i]; i++) {
        int rc = mm_k8s_client_list(c, paths[i], s);
        if (rc < 0)
            return rc;
    }
    return 0;
}
