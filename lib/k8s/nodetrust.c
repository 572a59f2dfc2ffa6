/*
 * nodetrust.c - node trust (SP 800-190 sections 3.3.5 and 3.3.2): the
 * settings of the kubelet, the API server, etcd and the controllers that
 * decide whether a node or the control plane can be used without
 * credentials or over plain text.  Settings come from:
 *
 * - KubeletConfiguration objects: the kubelet config file itself, and the
 *   kubelet's /configz answer ({"kubeletconfig": {...}}, turned into one
 *   by the loader);
 * - ConfigMaps that hold a kubelet config (kubeadm's kube-system/
 *   kubelet-config, key "kubelet"; the one a Node's spec.configSource or
 *   status.config.active names);
 * - command lines: the containers of (static or mirror) Pods that run
 *   kube-apiserver, kubelet, etcd, kube-controller-manager or
 *   kube-scheduler, and Process objects (recorded `ps` output or /proc,
 *   mm_k8s_load_ps);
 * - files a command line names (kubelet --config, a component's
 *   --kubeconfig, the API server's --encryption-provider-config), read
 *   below opts->node_root when given.
 *
 * Defaults are those of the source: a kubelet started with flags only has
 * anonymous auth on, AlwaysAllow and port 10255 (the flag defaults); a
 * KubeletConfiguration (v1beta1) defaults to anonymous off, Webhook and
 * port 0.  Flags override the config file, as in the kubelet.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"

/* --- command lines ------------------------------------------------------------------------ */
struct flags {
    const json_t *args;     /* the JSON array (command + args joined) */
    json_t *own;
    const char *prefix;     /* JSON path of the array, "" for Processes */
};

/* The value of --name (NULL when absent; "" for a bare boolean flag);
 * *idx its index in the argument list. */
static const char *flag(const struct flags *f, const char *name, size_t *idx)
{
    size_t nl = strlen(name);
    const char *val = NULL;
    for (size_t i = 0; i < json_array_size(f->args); i++) {
        const char *a = json_string_value(json_array_get(f->args, i));
        if (!a || a[0] != '-')
            continue;
        a += a[1] == '-' ? 2 : 1;
        if (strncmp(a, name, nl))
            continue;
        if (a[nl] == '=') {
            val = a + nl + 1;
        } else if (!a[nl]) {
            const char *n = json_string_value(json_array_get(f->args, i + 1));
            val = n && n[0] != '-' ? n : "";
        } else {
            continue;
        }
        if (idx)
            *idx = i;       /* the last one wins, as with Go's flag package */
    }
    return val;
}

static const char *component_of(const char *argv0, const char *argv1)
{
    if (!argv0)
        return NULL;
    const char *b = strrchr(argv0, '/');
    b = b ? b + 1 : argv0;
    if (!strcmp(b, "hyperkube") && argv1)
        b = argv1;
    static const char *const comps[] = {"kube-apiserver", "kubelet", "etcd",
                                        "kube-controller-manager", "kube-scheduler", NULL};
    for (int i = 0; comps[i]; i++)
        if (!strcmp(b, comps[i]))
            return comps[i];
    if (!strcmp(b, "apiserver"))
        return "kube-apiserver";
    return NULL;
}

static char *field_of(const struct flags *f, size_t idx)
{
    return *f->prefix ? mm_xasprintf("%s[%zu]", f->prefix, idx) : mm_xasprintf("args[%zu]", idx);
}

/* A file a command line names, below the node root; NULL when unknown. */
static json_t *read_conf(const k8s_ctx *c, const char *path)
{
    if (!c->o->node_root || !path || !*path)
        return NULL;
    char *full = mm_xasprintf("%s/%s", c->o->node_root, path);
    char *data;
    size_t len;
    json_t *j = NULL;
    if (mm_file_read(full, 4u << 20, &data, &len) == 0) {
        if (mm_yaml_load_one(&j, data, len, full, NULL, NULL) < 0 || !json_is_object(j)) {
            json_decref(j);
            j = NULL;
        }
        free(data);
    }
    free(full);
    return j;
}

/* --- kubelet ---------------------------------------------------------------------------------- */
static bool is_loopback_url(const char *u)
{
    const char *h = strstr(u, "://");
    h = h ? h + 3 : u;
    return !strncmp(h, "127.", 4) || !strncmp(h, "localhost", 9) || !strncmp(h, "[::1]", 5);
}

/* cfg: a KubeletConfiguration (may be NULL); fl: flags (may be NULL);
 * cfield: JSON path prefix of cfg in its object ("" or "data.kubelet:"). */
static void check_kubelet(k8s_ctx *c, size_t obj, const json_t *cfg, const char *cfield,
                          const struct flags *fl)
{
    size_t ix = 0;
    const char *v;
    char *fld;
    if (!cfg && fl && flag(fl, "config", NULL)) {
        /* the config file is named but was not read: only what the flags
         * say explicitly is known */
        if ((v = flag(fl, "anonymous-auth", &ix)) && strcmp(v, "false")) {
            fld = field_of(fl, ix);
            k8s_report_on(c, obj, "MM-K8S-421", fld, "kubelet: anonymous requests are served "
                          "(--anonymous-auth)");
            free(fld);
        }
        if ((v = flag(fl, "authorization-mode", &ix)) && !strcmp(v, "AlwaysAllow")) {
            fld = field_of(fl, ix);
            k8s_report_on(c, obj, "MM-K8S-422", fld, "kubelet: authorization mode AlwaysAllow");
            free(fld);
        }
        if ((v = flag(fl, "read-only-port", &ix)) && strtoll(v, NULL, 10) != 0) {
            fld = field_of(fl, ix);
            k8s_report_on(c, obj, "MM-K8S-423", fld, "kubelet: unauthenticated read-only port "
                          "%s open", v);
            free(fld);
        }
        return;
    }
    /* anonymous auth */
    bool anon = cfg ? kj_true(kj_obj(kj_obj(cfg, "authentication"), "anonymous"), "enabled")
                    : true;
    const char *where = cfg ? "authentication.anonymous.enabled" : "--anonymous-auth (default true)";
    fld = cfg ? mm_xasprintf("%sauthentication.anonymous.enabled", cfield) : NULL;
    if (fl && (v = flag(fl, "anonymous-auth", &ix))) {
        anon = strcmp(v, "false") != 0;
        where = "--anonymous-auth";
        free(fld);
        fld = field_of(fl, ix);
    }
    if (anon)
        k8s_report_on(c, obj, "MM-K8S-421", fld, "kubelet: anonymous requests are served "
                      "(%s)", where);
    free(fld);
    /* authorization */
    const char *mode = cfg ? kj_str(kj_obj(cfg, "authorization"), "mode") : "AlwaysAllow";
    if (cfg && !mode)
        mode = "Webhook";
    fld = cfg ? mm_xasprintf("%sauthorization.mode", cfield) : NULL;
    if (fl && (v = flag(fl, "authorization-mode", &ix))) {
        mode = v;
        free(fld);
        fld = field_of(fl, ix);
    }
    if (mode && !strcmp(mode, "AlwaysAllow"))
        k8s_report_on(c, obj, "MM-K8S-422", fld, "kubelet: authorization mode AlwaysAllow%s",
                      fld ? "" : " (the flag default)");
    free(fld);
    /* read-only port */
    json_int_t port = cfg ? 0 : 10255;
    if (cfg)
        kj_int(cfg, "readOnlyPort", &port);
    fld = cfg ? mm_xasprintf("%sreadOnlyPort", cfield) : NULL;
    if (fl && (v = flag(fl, "read-only-port", &ix))) {
        port = strtoll(v, NULL, 10);
        free(fld);
        fld = field_of(fl, ix);
    }
    if (port != 0)
        k8s_report_on(c, obj, "MM-K8S-423", fld, "kubelet: unauthenticated read-only port %lld "
                      "open%s", (long long)port, fld ? "" : " (the flag default)");
    free(fld);
    /* TLS */
    const char *cert = cfg ? kj_str(cfg, "tlsCertFile") : NULL;
    bool bootstrap = cfg && kj_true(cfg, "serverTLSBootstrap");
    if (fl && (v = flag(fl, "tls-cert-file", NULL)) && *v)
        cert = v;
    if (fl && (v = flag(fl, "rotate-server-certificates", NULL)))
        bootstrap = strcmp(v, "false") != 0;
    if (!cert && !bootstrap)
        k8s_report_on(c, obj, "MM-K8S-424", cfg ? cfield[0] ? cfield : "tlsCertFile" : NULL,
                      "kubelet: no serving certificate (tlsCertFile) and no serverTLSBootstrap: "
                      "it serves a self-signed certificate that no client can verify");
    const char *ca = cfg ? kj_str(kj_obj(kj_obj(cfg, "authentication"), "x509"), "clientCAFile")
                         : NULL;
    if (fl && (v = flag(fl, "client-ca-file", NULL)) && *v)
        ca = v;
    if (!ca)
        k8s_report_on(c, obj, "MM-K8S-424", cfg ? "authentication.x509.clientCAFile" : NULL,
                      "kubelet: no client CA (authentication.x509.clientCAFile): client "
                      "certificates are not verified");
    const char *minv = cfg ? kj_str(cfg, "tlsMinVersion") : NULL;
    if (fl && (v = flag(fl, "tls-min-version", NULL)))
        minv = v;
    if (minv && (!strcmp(minv, "VersionTLS10") || !strcmp(minv, "VersionTLS11")))
        k8s_report_on(c, obj, "MM-K8S-424", cfg ? "tlsMinVersion" : NULL,
                      "kubelet: TLS minimum version %s", minv);
}

/* --- API server, etcd, controllers ------------------------------------------------------------- */
static void check_apiserver(k8s_ctx *c, size_t obj, const struct flags *fl)
{
    size_t ix = 0;
    const char *v;
    char *fld;
    v = flag(fl, "anonymous-auth", &ix);
    if (!v || strcmp(v, "false")) {
        fld = v ? field_of(fl, ix) : NULL;
        k8s_report_on(c, obj, "MM-K8S-421", fld, "kube-apiserver: anonymous requests are "
                      "accepted (--anonymous-auth %s)", v ? v : "not set: default true");
        free(fld);
    }
    v = flag(fl, "authorization-mode", &ix);
    if (!v || strstr(v, "AlwaysAllow")) {
        fld = v ? field_of(fl, ix) : NULL;
        k8s_report_on(c, obj, "MM-K8S-422", fld, "kube-apiserver: authorization mode %s",
                      v ? v : "not set: default AlwaysAllow");
        free(fld);
    }
    v = flag(fl, "insecure-port", &ix);
    if (v && strcmp(v, "0")) {
        fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-426", fld, "kube-apiserver: plain-HTTP port %s open "
                      "(--insecure-port)", v);
        free(fld);
    }
    v = flag(fl, "etcd-servers", &ix);
    if (v && strstr(v, "http://")) {
        fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-426", fld, "kube-apiserver: etcd reached over plain "
                      "HTTP (--etcd-servers %s)", v);
        free(fld);
    } else if (v && (!flag(fl, "etcd-certfile", NULL) || !flag(fl, "etcd-cafile", NULL))) {
        fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-424", fld, "kube-apiserver: etcd client without "
                      "--etcd-certfile or --etcd-cafile");
        free(fld);
    }
    if (!flag(fl, "tls-cert-file", NULL) || !flag(fl, "tls-private-key-file", NULL))
        k8s_report_on(c, obj, "MM-K8S-424", NULL, "kube-apiserver: no --tls-cert-file/"
                      "--tls-private-key-file");
    v = flag(fl, "kubelet-https", &ix);
    if (v && !strcmp(v, "false")) {
        fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-426", fld, "kube-apiserver: kubelets reached over plain "
                      "HTTP (--kubelet-https=false)");
        free(fld);
    }
    if (!flag(fl, "kubelet-certificate-authority", NULL))
        k8s_report_on(c, obj, "MM-K8S-424", NULL, "kube-apiserver: kubelet serving "
                      "certificates are not verified (no --kubelet-certificate-authority)");
    v = flag(fl, "tls-min-version", &ix);
    if (v && (!strcmp(v, "VersionTLS10") || !strcmp(v, "VersionTLS11"))) {
        fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-424", fld, "kube-apiserver: TLS minimum version %s", v);
        free(fld);
    }
    v = flag(fl, "encryption-provider-config", &ix);
    if (!v || !*v) {
        k8s_report_on(c, obj, "MM-K8S-425", NULL, "kube-apiserver: no "
                      "--encryption-provider-config: Secrets are stored in etcd in clear");
        return;
    }
    json_t *ec = read_conf(c, v);
    if (!ec)
        return;
    /* EncryptionConfiguration: the first provider of the resource entry
     * that covers secrets writes; identity first = clear text */
    const json_t *res = kj_arr(ec, "resources");
    bool covered = false;
    for (size_t i = 0; i < json_array_size(res) && !covered; i++) {
        const json_t *r = json_array_get(res, i);
        const json_t *rs = kj_arr(r, "resources");
        bool sec = false;
        for (size_t k = 0; k < json_array_size(rs); k++) {
            const char *n = json_string_value(json_array_get(rs, k));
            sec |= n && (!strcmp(n, "secrets") || !strcmp(n, "*.*") || !strcmp(n, "*."));
        }
        if (!sec)
            continue;
        covered = true;
        const json_t *p0 = json_array_get(kj_arr(r, "providers"), 0);
        if (!p0 || kj_get(p0, "identity")) {
            fld = field_of(fl, ix);
            k8s_report_on(c, obj, "MM-K8S-425", fld, "kube-apiserver: %s writes Secrets with "
                          "the identity provider (clear text)", v);
            free(fld);
        }
    }
    if (!covered) {
        fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-425", fld, "kube-apiserver: %s does not cover secrets", v);
        free(fld);
    }
    json_decref(ec);
}

static void check_etcd(k8s_ctx *c, size_t obj, const struct flags *fl)
{
    static const char *const urls[] = {"listen-client-urls", "advertise-client-urls",
                                       "listen-peer-urls", "initial-advertise-peer-urls", NULL};
    for (int i = 0; urls[i]; i++) {
        size_t ix;
        const char *v = flag(fl, urls[i], &ix);
        if (!v)
            continue;
        char *dup = mm_xstrdup(v), *save = NULL;
        for (char *u = strtok_r(dup, ",", &save); u; u = strtok_r(NULL, ",", &save))
            if (!strncmp(u, "http://", 7) && !is_loopback_url(u)) {
                char *fld = field_of(fl, ix);
                k8s_report_on(c, obj, "MM-K8S-426", fld, "etcd: plain-HTTP endpoint %s "
                              "(--%s)", u, urls[i]);
                free(fld);
            }
        free(dup);
    }
    const char *v = flag(fl, "client-cert-auth", NULL);
    if (!v || (*v && strcmp(v, "true")))
        k8s_report_on(c, obj, "MM-K8S-421", NULL, "etcd: client certificates not required "
                      "(--client-cert-auth not true)");
}

static void check_controller(k8s_ctx *c, size_t obj, const struct flags *fl, const char *comp)
{
    size_t ix;
    const char *v = flag(fl, "master", &ix);
    if (v && !strncmp(v, "http://", 7) && !is_loopback_url(v)) {
        char *fld = field_of(fl, ix);
        k8s_report_on(c, obj, "MM-K8S-426", fld, "%s: API server reached over plain HTTP "
                      "(--master %s)", comp, v);
        free(fld);
    }
}

/* The kubeconfig a component's --kubeconfig names (read below the node
 * root): a cluster that skips TLS verification, or a plain-HTTP server not
 * on loopback. */
static void check_kubeconfig(k8s_ctx *c, size_t obj, const struct flags *fl, const char *comp)
{
    size_t ix;
    const char *path = flag(fl, "kubeconfig", &ix);
    json_t *kc = path && *path ? read_conf(c, path) : NULL;
    if (!kc)
        return;
    const json_t *clusters = kj_arr(kc, "clusters");
    for (size_t i = 0; i < json_array_size(clusters); i++) {
        const json_t *cl = kj_obj(json_array_get(clusters, i), "cluster");
        const char *server = kj_str(cl, "server");
        char *fld = field_of(fl, ix);
        if (kj_true(cl, "insecure-skip-tls-verify"))
            k8s_report_on(c, obj, "MM-K8S-424", fld, "%s: %s skips verifying the API server's "
                          "certificate (insecure-skip-tls-verify)", comp, path);
        if (server && !strncmp(server, "http://", 7) && !is_loopback_url(server))
            k8s_report_on(c, obj, "MM-K8S-426", fld, "%s: %s reaches the API server over plain "
                          "HTTP (%s)", comp, path, server);
        free(fld);
    }
    json_decref(kc);
}

static void check_cmdline(k8s_ctx *c, size_t obj, struct flags *fl)
{
    const char *a0 = json_string_value(json_array_get(fl->args, 0));
    const char *a1 = json_string_value(json_array_get(fl->args, 1));
    const char *comp = component_of(a0, a1);
    if (!comp)
        return;
    if (strcmp(comp, "kube-apiserver") && strcmp(comp, "etcd"))
        check_kubeconfig(c, obj, fl, comp);
    if (!strcmp(comp, "kubelet")) {
        const char *cf = flag(fl, "config", NULL);
        json_t *cfg = cf ? read_conf(c, cf) : NULL;
        check_kubelet(c, obj, cfg, "", fl);
        json_decref(cfg);
    } else if (!strcmp(comp, "kube-apiserver")) {
        check_apiserver(c, obj, fl);
    } else if (!strcmp(comp, "etcd")) {
        check_etcd(c, obj, fl);
    } else {
        check_controller(c, obj, fl, comp);
    }
}

static void pod_cmdlines(k8s_ctx *c, size_t obj, const json_t *spec, const char *prefix)
{
    const json_t *ctrs = kj_arr(spec, "containers");
    for (size_t i = 0; i < json_array_size(ctrs); i++) {
        const json_t *ct = json_array_get(ctrs, i);
        json_t *all = json_array();
        json_array_extend(all, kj_arr(ct, "command"));
        json_array_extend(all, kj_arr(ct, "args"));
        char *pre = mm_xasprintf("%s.containers[%zu].%s", prefix, i,
                                 kj_arr(ct, "command") ? "command" : "args");
        struct flags fl = {all, all, pre};
        if (kj_arr(ct, "command") && kj_arr(ct, "args"))
            fl.prefix = mm_xasprintf("%s.containers[%zu].command+args", prefix, i);
        check_cmdline(c, obj, &fl);
        if (fl.prefix != pre)
            free((char *)fl.prefix);
        free(pre);
        json_decref(all);
    }
}

/* A ConfigMap that holds a kubelet config under `key` (a YAML string). */
static void configmap_kubelet(k8s_ctx *c, size_t obj, const char *key)
{
    const mm_k8s_object *o = mm_k8s_get(c->s, obj);
    const char *y = kj_str(kj_obj(o->json, "data"), key);
    json_t *cfg = NULL;
    if (!y || mm_yaml_load_one(&cfg, y, strlen(y), "kubelet config", NULL, NULL) < 0 ||
        !json_is_object(cfg)) {
        json_decref(cfg);
        return;
    }
    char *pre = mm_xasprintf("data.%s:", key);
    check_kubelet(c, obj, cfg, pre, NULL);
    free(pre);
    json_decref(cfg);
}

void k8s_check_node(k8s_ctx *c)
{
    K8S_FOR_KIND(c, "KubeletConfiguration", i) {
        k8s_load_ignores(c, i);
        check_kubelet(c, i, mm_k8s_get(c->s, i)->json, "", NULL);
    }
    mm_map *cms = mm_map_new();
    K8S_FOR_KIND(c, "ConfigMap", i) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        if (o->name && o->ns && !strcmp(o->ns, "kube-system") &&
            mm_str_startswith(o->name, "kubelet-config") &&
            kj_str(kj_obj(o->json, "data"), "kubelet")) {
            k8s_load_ignores(c, i);
            configmap_kubelet(c, i, "kubelet");
            mm_map_put(cms, o->name, (void *)1);
        }
    }
    K8S_FOR_KIND(c, "Node", i) {
        /* the config a Node asks for (spec.configSource) and the one its
         * kubelet reports active (status.config.active) */
        const json_t *nj = mm_k8s_get(c->s, i)->json;
        const json_t *srcs[2] = {
            kj_obj(kj_obj(kj_obj(nj, "spec"), "configSource"), "configMap"),
            kj_obj(kj_obj(kj_obj(kj_obj(nj, "status"), "config"), "active"), "configMap"),
        };
        for (int k = 0; k < 2; k++) {
            const json_t *cm = srcs[k];
            const char *ns = kj_str(cm, "namespace"), *name = kj_str(cm, "name"),
                       *key = kj_str(cm, "kubeletConfigKey");
            if (!ns || !name || !key || mm_map_get(cms, name))
                continue;
            K8S_FOR_KIND(c, "ConfigMap", j) {
                const mm_k8s_object *o = mm_k8s_get(c->s, j);
                if (o->name && o->ns && !strcmp(o->name, name) && !strcmp(o->ns, ns)) {
                    k8s_load_ignores(c, j);
                    configmap_kubelet(c, j, key);
                    mm_map_put(cms, name, (void *)1);
                }
            }
        }
    }
    mm_map_free(cms, NULL);
    K8S_FOR_KIND(c, "*tmpl", i) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        const json_t *meta, *spec;
        const char *prefix;
        if (!mm_k8s_pod_template(o, &meta, &spec, &prefix))
            continue;
        k8s_load_ignores(c, i);
        pod_cmdlines(c, i, spec, prefix);
    }
    K8S_FOR_KIND(c, "Process", i) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        struct flags fl = {kj_arr(kj_obj(o->json, "spec"), "args"), NULL, "spec.args"};
        k8s_load_ignores(c, i);
        check_cmdline(c, i, &fl);
    }
}
