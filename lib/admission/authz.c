/*
 * authz.c - the Docker side of deploy-time enforcement: a request of
 * Docker's authorization-plugin protocol (AuthZPlugin.AuthZReq: User,
 * RequestMethod, RequestUri, RequestHeaders, RequestBody as base64) judged
 * and answered {"Allow":..,"Msg":..}.
 *
 *   POST /containers/create       privileged, host network/PID/IPC/UTS/user
 *                                 namespaces, dangerous capabilities,
 *                                 unconfined seccomp/AppArmor/SELinux,
 *                                 devices, sensitive host paths (binds and
 *                                 mounts); the image through the policy gate
 *   POST /containers/ID/exec      privileged exec
 *   POST /images/create           the pulled image through the policy gate
 *
 * Those endpoints always carry a JSON body (the pull: a query).  dockerd
 * does not forward a body it considers absent (Content-Length 0 with a
 * body behind it: CVE-2024-41110) or over its 1 MiB forwarding cap, so a
 * create or exec request that reaches the plugin without a body is denied:
 * the plugin cannot judge what it did not see.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "admission/admission_int.h"

static const char *const default_sensitive[] = {
    "/", "/etc", "/proc", "/sys", "/dev", "/boot", "/root", "/var/run/docker.sock",
    "/run/docker.sock", "/var/run/containerd", "/run/containerd", "/var/lib/docker",
    "/var/lib/containerd", "/var/lib/kubelet", "/etc/kubernetes", "/run/crio", "/var/run/crio",
};

static const char *const bad_caps[] = {
    "ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "SYS_RAWIO", "SYS_BOOT", "NET_ADMIN",
    "DAC_READ_SEARCH", "SYS_TIME", "MAC_ADMIN", "MAC_OVERRIDE", "BPF", "PERFMON",
};

/* "/foo//bar/../baz/" -> "/foo/baz"; NULL for a relative name (a named
 * volume). */
static char *host_path(const char *p)
{
    if (!p || p[0] != '/')
        return NULL;
    bool esc;
    char *n = mm_path_normalize(p, &esc);
    char *r = mm_xasprintf("/%s", n ? n : "");
    free(n);
    return r;
}

static bool sensitive(const mm_admission *a, const char *path, const char **which)
{
    const char *const *list = a->c.sensitive_mounts ? a->c.sensitive_mounts : default_sensitive;
    size_t n = a->c.sensitive_mounts ? a->c.nsensitive
                                     : sizeof default_sensitive / sizeof default_sensitive[0];
    for (size_t i = 0; i < n; i++) {
        const char *s = list[i];
        size_t l = strlen(s);
        while (l > 1 && s[l - 1] == '/')
            l--;
        if (l == 1 && s[0] == '/') {
            if (!strcmp(path, "/")) {
                *which = s;
                return true;
            }
            continue;
        }
        /* the path is the sensitive one, below it, or above it (mounting
         * /var exposes /var/run/docker.sock) */
        if ((!strncmp(path, s, l) && (path[l] == 0 || path[l] == '/')) ||
            (!strncmp(s, path, strlen(path)) && s[strlen(path)] == '/')) {
            *which = s;
            return true;
        }
    }
    return false;
}

static void check_mount(mm_admission *a, const char *src, mm_adm_verdict *v)
{
    char *p = host_path(src);
    const char *which;
    if (p && sensitive(a, p, &which))
        adm_violation(v, "host path %s is mounted (sensitive: %s)", p, which);
    free(p);
}

static bool is_host(const json_t *hc, const char *key)
{
    const char *s = json_string_value(json_object_get(hc, key));
    return s && !strcmp(s, "host");
}

static void judge_create(mm_admission *a, const json_t *body, mm_adm_verdict *v)
{
    const json_t *hc = json_object_get(body, "HostConfig");
    if (json_is_true(json_object_get(hc, "Privileged")))
        adm_violation(v, "privileged container (--privileged)");
    static const struct { const char *key, *flag; } ns[] = {
        {"NetworkMode", "--network host"}, {"PidMode", "--pid host"}, {"IpcMode", "--ipc host"},
        {"UTSMode", "--uts host"}, {"UsernsMode", "--userns host"},
        {"CgroupnsMode", "--cgroupns host"},
    };
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        if (is_host(hc, ns[i].key))
            adm_violation(v, "host namespace (%s)", ns[i].flag);
    size_t i;
    json_t *x;
    json_array_foreach(json_object_get(hc, "CapAdd"), i, x) {
        const char *c = json_string_value(x);
        if (!c)
            continue;
        const char *n = !strncasecmp(c, "CAP_", 4) ? c + 4 : c;
        for (size_t k = 0; k < sizeof bad_caps / sizeof bad_caps[0]; k++)
            if (!strcasecmp(n, bad_caps[k]))
                adm_violation(v, "capability %s added (--cap-add)", bad_caps[k]);
    }
    json_array_foreach(json_object_get(hc, "SecurityOpt"), i, x) {
        const char *s = json_string_value(x);
        if (s && (strstr(s, "unconfined") || !strcmp(s, "label=disable") ||
                  !strcmp(s, "label:disable")))
            adm_violation(v, "security profile disabled (--security-opt %s)", s);
    }
    if (json_array_size(json_object_get(hc, "Devices")))
        adm_violation(v, "host devices passed in (--device)");
    json_array_foreach(json_object_get(hc, "Binds"), i, x) {
        const char *b = json_string_value(x);
        if (!b)
            continue;
        const char *colon = strchr(b, ':');
        char *src = mm_xstrndup(b, colon ? (size_t)(colon - b) : strlen(b));
        check_mount(a, src, v);
        free(src);
    }
    json_array_foreach(json_object_get(hc, "Mounts"), i, x) {
        const char *type = json_string_value(json_object_get(x, "Type"));
        if (!type || !strcmp(type, "bind"))
            check_mount(a, json_string_value(json_object_get(x, "Source")), v);
    }
    const char *img = json_string_value(json_object_get(body, "Image"));
    if (img && *img)
        adm_image(a, img, v);
}

/* "/v1.45/containers/create?name=x" -> "/containers/create" (static buf) */
static void api_path(const char *uri, char *out, size_t n)
{
    const char *p = uri;
    if (p[0] == '/' && p[1] == 'v' && isdigit((unsigned char)p[2])) {
        const char *s = strchr(p + 1, '/');
        p = s ? s : "";
    }
    size_t l = strcspn(p, "?");
    if (l >= n)
        l = n - 1;
    memcpy(out, p, l);
    out[l] = 0;
}

static char *query_param(const char *uri, const char *key)
{
    const char *q = strchr(uri, '?');
    size_t kl = strlen(key);
    for (const char *p = q ? q + 1 : NULL; p && *p;) {
        size_t seg = strcspn(p, "&");
        if (seg > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            char *v = mm_xstrndup(p + kl + 1, seg - kl - 1);
            size_t o = 0;
            for (size_t i = 0; v[i]; i++) {
                unsigned hv;
                if (v[i] == '%' && v[i + 1] && v[i + 2] && sscanf(v + i + 1, "%2x", &hv) == 1) {
                    v[o++] = (char)hv;
                    i += 2;
                } else {
                    v[o++] = v[i];
                }
            }
            v[o] = 0;
            return v;
        }
        p += seg + (p[seg] ? 1 : 0);
    }
    return NULL;
}

static char *authz_response(const mm_adm_verdict *v, const char *err)
{
    json_t *r = json_object();
    json_object_set_new(r, "Allow", json_boolean(!err && v && v->allowed));
    if (err)
        json_object_set_new(r, "Err", json_string(err));
    else if (v && !v->allowed)
        json_object_set_new(r, "Msg", json_string(v->message ? v->message : "denied by policy"));
    else if (v && v->violation)   /* warn/audit: allowed, say why it would not be */
        json_object_set_new(r, "Msg", json_string(v->message));
    else if (v && v->nnotes)      /* allowed unscanned */
        json_object_set_new(r, "Msg", json_string(v->notes[0]));
    char *s = json_dumps(r, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(r);
    return s;
}

int mm_admission_authz(mm_admission *a, const char *body, size_t len, char **resp,
                       mm_adm_verdict **verdict)
{
    *resp = NULL;
    if (verdict)
        *verdict = NULL;
    char err[256];
    if (len > MM_ADM_MAX_BODY) {
        snprintf(err, sizeof err, "mamori: AuthZ request of %zu bytes (cap %u)", len,
                 MM_ADM_MAX_BODY);
        *resp = authz_response(NULL, err);
        return mm_error_set(MM_ELIMIT, "%s", err + 8);
    }
    json_error_t je;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    const char *method = json_string_value(json_object_get(doc, "RequestMethod"));
    /* dockerd's field is "RequestUri" (Go tag); "RequestURI" accepted too */
    const char *uri = json_string_value(json_object_get(doc, "RequestUri"));
    if (!uri)
        uri = json_string_value(json_object_get(doc, "RequestURI"));
    json_t *rb = json_object_get(doc, "RequestBody");
    if (!doc || !method || !uri || (rb && !json_is_string(rb) && !json_is_null(rb))) {
        snprintf(err, sizeof err, "mamori: not an AuthZ request: %s",
                 !doc ? je.text : !method ? "field \"RequestMethod\" is missing"
                 : !uri ? "field \"RequestUri\" is missing" : "field \"RequestBody\" is not base64");
        json_decref(doc);
        *resp = authz_response(NULL, err);
        return mm_error_set(MM_EFORMAT, "%s", err + 8);
    }
    mm_adm_verdict *v = mm_xcalloc(1, sizeof *v);
    char path[512];
    api_path(uri, path, sizeof path);
    size_t blen = 0;
    char *b = NULL;
    if (json_is_string(rb)) {
        unsigned char *u = NULL;
        if (mm_base64_decode(&u, &blen, json_string_value(rb), json_string_length(rb),
                             MM_BASE64_LENIENT) == 0)
            b = (char *)u;
        else
            adm_violation(v, "the request body is not valid base64");
    }
    bool post = !strcmp(method, "POST");
    size_t pl = strlen(path);
    bool create = post && !strcmp(path, "/containers/create");
    bool exec = post && mm_str_startswith(path, "/containers/") && pl > 17 &&
                !strcmp(path + pl - 5, "/exec");
    bool pull = post && !strcmp(path, "/images/create");
    if ((create || exec) && !v->violation) {
        json_t *bj = b && blen ? json_loadb(b, blen, 0, NULL) : NULL;
        if (!b || !blen)
            adm_violation(v, "%s %s reached the plugin without its body (not forwarded by the "
                          "daemon: empty Content-Length or over its size cap); it cannot be "
                          "judged", method, path);
        else if (!json_is_object(bj))
            adm_violation(v, "%s %s: the body is not a JSON object", method, path);
        else if (create)
            judge_create(a, bj, v);
        else if (json_is_true(json_object_get(bj, "Privileged")))
            adm_violation(v, "privileged exec (docker exec --privileged)");
        json_decref(bj);
    } else if (pull) {
        char *img = query_param(uri, "fromImage");
        char *tag = query_param(uri, "tag");
        if (img && *img) {
            char *ref = tag && *tag ? mm_xasprintf("%s%s%s", img, mm_str_startswith(tag, "sha256:")
                                                   ? "@" : ":", tag) : mm_xstrdup(img);
            adm_image(a, ref, v);
            free(ref);
        }
        free(img);
        free(tag);
    }
    free(b);
    adm_finish(a, v);
    if (a->c.record && (create || exec || pull)) {
        char *target = mm_xasprintf("docker %s %s", method, path);
        adm_record(a, "authz", target, v);
        free(target);
    }
    *resp = authz_response(v, NULL);
    json_decref(doc);
    if (verdict)
        *verdict = v;
    else
        mm_adm_verdict_free(v);
    return 0;
}
