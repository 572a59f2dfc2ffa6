/*
 * workload.c - workload hardening checks on one object at a time: the
 * container settings (read-only root filesystem, resources, probes, image
 * references, secrets in the environment, capabilities, host mounts,
 * ports), the pod settings (service account token, Linux hardening, root
 * group) and the controller settings (replicas, strategies, affinity).
 * The union of what kube-linter and Polaris check, each finding with the
 * JSON path of the field to change.  Checks that need other objects are in
 * xref.c.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"

static const char *cname(const json_t *c)
{
    const char *n = kj_str(c, "name");
    return n ? n : "";
}

static bool wants(const k8s_ctx *c, unsigned bit)
{
    unsigned checks = c->o->checks ? c->o->checks : MM_K8S_CHECK_DEFAULT;
    return (checks & bit) != 0;
}

/* --- secrets by name and value ----------------------------------------------------- */
bool k8s_sensitive_name(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    char *u = mm_xmalloc(n + 1);
    for (size_t i = 0; i <= n; i++)
        u[i] = (char)toupper((unsigned char)name[i]);
    static const char *const words[] = {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL",
                                        "APIKEY", "API_KEY", "PRIVATE_KEY", "ACCESS_KEY",
                                        "KEY_CONTENT", NULL};
    bool hit = false;
    for (int i = 0; words[i] && !hit; i++)
        hit = strstr(u, words[i]) != NULL;
    if (!hit && n > 4 && (mm_str_endswith(u, "_KEY") || mm_str_endswith(u, "-KEY")))
        hit = true;
    free(u);
    return hit;
}

bool k8s_sensitive_value(const char *v)
{
    return v && strstr(v, "PRIVATE KEY") != NULL;
}

/* --- image references ----------------------------------------------------------------- */
/* The tag of an image reference ("" when none), whether it has a digest. */
static void image_parts(const char *img, char *tag, size_t tagsz, bool *digest)
{
    *digest = strchr(img, '@') != NULL;
    tag[0] = 0;
    const char *at = strchr(img, '@');
    size_t end = at ? (size_t)(at - img) : strlen(img);
    const char *slash = NULL;
    for (size_t i = 0; i < end; i++)
        if (img[i] == '/')
            slash = img + i;
    const char *last = slash ? slash + 1 : img;
    const char *colon = memchr(last, ':', (size_t)(img + end - last));
    if (colon) {
        size_t tl = (size_t)(img + end - colon - 1);
        if (tl >= tagsz)
            tl = tagsz - 1;
        memcpy(tag, colon + 1, tl);
        tag[tl] = 0;
    }
}

/* --- capabilities --------------------------------------------------------------------- */
static bool cap_eq(const char *have, const char *want)
{
    if (!have)
        return false;
    if (!strncasecmp(have, "CAP_", 4))
        have += 4;
    return !strcasecmp(have, want);
}

static bool caps_has(const json_t *list, const char *want)
{
    for (size_t i = 0; i < json_array_size(list); i++)
        if (cap_eq(json_string_value(json_array_get(list, i)), want))
            return true;
    return false;
}

/* --- per container --------------------------------------------------------------------- */
struct pod_info {
    const mm_k8s_object *o;
    const json_t *spec;
    const char *prefix;
};

static const json_t *volume_named(const json_t *spec, const char *name, size_t *idx)
{
    const json_t *vols = kj_arr(spec, "volumes");
    for (size_t i = 0; name && i < json_array_size(vols); i++) {
        const char *n = kj_str(json_array_get(vols, i), "name");
        if (n && !strcmp(n, name)) {
            if (idx)
                *idx = i;
            return json_array_get(vols, i);
        }
    }
    return NULL;
}

static bool port_declared(const json_t *ctr, const json_t *port)
{
    const json_t *ports = kj_arr(ctr, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *p = json_array_get(ports, i);
        const char *proto = kj_str(p, "protocol");
        if (proto && strcmp(proto, "TCP"))
            continue;   /* probes speak TCP (gRPC and HTTP over it) */
        if (json_is_string(port)) {
            const char *n = kj_str(p, "name");
            if (n && !strcmp(n, json_string_value(port)))
                return true;
        } else if (json_is_integer(port)) {
            json_int_t cp;
            if (kj_int(p, "containerPort", &cp) && cp == json_integer_value(port))
                return true;
        }
    }
    return false;
}

static void probe_port(k8s_ctx *c, const json_t *ctr, const char *path, const char *probe)
{
    const json_t *pr = kj_obj(ctr, probe);
    static const char *const hs[] = {"httpGet", "tcpSocket", "grpc"};
    for (int i = 0; pr && i < 3; i++) {
        const json_t *h = kj_obj(pr, hs[i]);
        const json_t *port = kj_get(h, "port");
        if (!port)
            continue;
        if (!port_declared(ctr, port)) {
            char *f = mm_xasprintf("%s.%s.%s.port", path, probe, hs[i]);
            if (json_is_string(port))
                k8s_report(c, "MM-K8S-142", f, "container \"%s\": %s port \"%s\" is not a "
                           "declared port", cname(ctr), probe, json_string_value(port));
            else
                k8s_report(c, "MM-K8S-142", f, "container \"%s\": %s port %lld is not a "
                           "declared port", cname(ctr), probe,
                           (long long)json_integer_value(port));
            free(f);
        }
    }
}

static bool iana_svc_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-')
        return false;
    bool letter = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch >= 'a' && ch <= 'z')
            letter = true;
        else if (!(ch >= '0' && ch <= '9') && ch != '-')
            return false;
        if (ch == '-' && i > 0 && s[i - 1] == '-')
            return false;
    }
    return letter;
}

static void container_checks(k8s_ctx *c, const json_t *ctr, const char *path, bool init,
                             void *ud)
{
    const struct pod_info *pi = ud;
    const json_t *sc = kj_obj(ctr, "securityContext");
    bool ephemeral = strstr(path, ".ephemeralContainers[") != NULL;
    bool sidecar = init && kj_str(ctr, "restartPolicy") &&
                   !strcmp(kj_str(ctr, "restartPolicy"), "Always");
    char *f;

    if (!kj_true(sc, "readOnlyRootFilesystem")) {
        f = mm_xasprintf("%s.securityContext.readOnlyRootFilesystem", path);
        k8s_report(c, "MM-K8S-101", f, "container \"%s\": readOnlyRootFilesystem is not true",
                   cname(ctr));
        free(f);
    }
    if (!ephemeral) {
        const json_t *res = kj_obj(ctr, "resources");
        static const struct { const char *sect, *res, *id; } rq[] = {
            {"limits", "cpu", "MM-K8S-102"}, {"requests", "cpu", "MM-K8S-103"},
            {"limits", "memory", "MM-K8S-104"}, {"requests", "memory", "MM-K8S-105"}};
        for (int i = 0; i < 4; i++) {
            const json_t *v = kj_get(kj_obj(res, rq[i].sect), rq[i].res);
            bool zero = !v || json_is_null(v) || (json_is_string(v) && (!strcmp(json_string_value(v), "0") || !*json_string_value(v))) ||
                        (json_is_number(v) && json_number_value(v) == 0);
            if (zero) {
                f = mm_xasprintf("%s.resources.%s.%s", path, rq[i].sect, rq[i].res);
                k8s_report(c, rq[i].id, f, "container \"%s\": no %s %s", cname(ctr), rq[i].res,
                           !strcmp(rq[i].sect, "limits") ? "limit" : "request");
                free(f);
            }
        }
    }
    bool is_job = pi->o->kind && (!strcmp(pi->o->kind, "Job") || !strcmp(pi->o->kind, "CronJob"));
    if ((!init || sidecar) && !ephemeral && !is_job) {
        if (!kj_obj(ctr, "livenessProbe")) {
            f = mm_xasprintf("%s.livenessProbe", path);
            k8s_report(c, "MM-K8S-106", f, "container \"%s\" has no livenessProbe", cname(ctr));
            free(f);
        }
        if (!kj_obj(ctr, "readinessProbe")) {
            f = mm_xasprintf("%s.readinessProbe", path);
            k8s_report(c, "MM-K8S-107", f, "container \"%s\" has no readinessProbe", cname(ctr));
            free(f);
        }
    }
    probe_port(c, ctr, path, "livenessProbe");
    probe_port(c, ctr, path, "readinessProbe");
    probe_port(c, ctr, path, "startupProbe");

    const char *img = kj_str(ctr, "image");
    if (img) {
        char tag[256];
        bool digest;
        image_parts(img, tag, sizeof tag, &digest);
        f = mm_xasprintf("%s.image", path);
        if (!digest && (!tag[0] || !strcmp(tag, "latest")))
            k8s_report(c, "MM-K8S-108", f, "container \"%s\": image %s%s", cname(ctr), img,
                       tag[0] ? "" : " (no tag: latest)");
        if (!digest)
            k8s_report(c, "MM-K8S-109", f, "container \"%s\": image %s", cname(ctr), img);
        free(f);
        const char *pp = kj_str(ctr, "imagePullPolicy");
        if (!pp || strcmp(pp, "Always")) {
            f = mm_xasprintf("%s.imagePullPolicy", path);
            k8s_report(c, "MM-K8S-110", f, "container \"%s\": imagePullPolicy %s", cname(ctr),
                       pp ? pp : "(unset)");
            free(f);
        }
    }

    const json_t *env = kj_arr(ctr, "env");
    for (size_t i = 0; i < json_array_size(env); i++) {
        const json_t *e = json_array_get(env, i);
        const char *n = kj_str(e, "name"), *v = kj_str(e, "value");
        if (v && *v && (k8s_sensitive_name(n) || k8s_sensitive_value(v))) {
            f = mm_xasprintf("%s.env[%zu].value", path, i);
            k8s_report(c, "MM-K8S-111", f, "container \"%s\": %s=<%zu bytes>", cname(ctr),
                       n ? n : "?", strlen(v));
            free(f);
        }
        if (kj_obj(kj_obj(e, "valueFrom"), "secretKeyRef")) {
            f = mm_xasprintf("%s.env[%zu].valueFrom.secretKeyRef", path, i);
            k8s_report(c, "MM-K8S-112", f, "container \"%s\": %s from Secret \"%s\"",
                       cname(ctr), n ? n : "?",
                       kj_str(kj_obj(kj_obj(e, "valueFrom"), "secretKeyRef"), "name") ?
                       kj_str(kj_obj(kj_obj(e, "valueFrom"), "secretKeyRef"), "name") : "");
            free(f);
        }
        for (size_t j = 0; n && j < i; j++) {
            const char *m = kj_str(json_array_get(env, j), "name");
            if (m && !strcmp(m, n)) {
                f = mm_xasprintf("%s.env[%zu].name", path, i);
                k8s_report(c, "MM-K8S-136", f, "container \"%s\": %s set again (first at "
                           "env[%zu])", cname(ctr), n, j);
                free(f);
                break;
            }
        }
    }
    const json_t *envfrom = kj_arr(ctr, "envFrom");
    for (size_t i = 0; i < json_array_size(envfrom); i++) {
        const json_t *sr = kj_obj(json_array_get(envfrom, i), "secretRef");
        if (sr) {
            f = mm_xasprintf("%s.envFrom[%zu].secretRef", path, i);
            k8s_report(c, "MM-K8S-112", f, "container \"%s\": environment from Secret \"%s\"",
                       cname(ctr), kj_str(sr, "name") ? kj_str(sr, "name") : "");
            free(f);
        }
    }

    const json_t *caps = kj_obj(sc, "capabilities");
    const json_t *drop = kj_arr(caps, "drop"), *add = kj_arr(caps, "add");
    if (!caps_has(drop, "NET_RAW") && !caps_has(drop, "ALL")) {
        f = mm_xasprintf("%s.securityContext.capabilities.drop", path);
        k8s_report(c, "MM-K8S-119", f, "container \"%s\" keeps NET_RAW", cname(ctr));
        free(f);
    }
    for (size_t i = 0; i < json_array_size(add); i++) {
        const char *a = json_string_value(json_array_get(add, i));
        if (cap_eq(a, "ALL") || cap_eq(a, "SYS_ADMIN") || cap_eq(a, "NET_ADMIN")) {
            f = mm_xasprintf("%s.securityContext.capabilities.add[%zu]", path, i);
            k8s_report(c, "MM-K8S-120", f, "container \"%s\" adds %s", cname(ctr), a);
            free(f);
        }
    }
    static const char *const insecure[] = {"NET_ADMIN", "CHOWN", "DAC_OVERRIDE", "FSETID",
                                           "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID",
                                           "SETFCAP", "SETPCAP", "NET_BIND_SERVICE",
                                           "SYS_CHROOT", "KILL", "AUDIT_WRITE", NULL};
    if (!caps_has(drop, "ALL")) {
        mm_buf miss = MM_BUF_INIT;
        for (int i = 0; insecure[i]; i++)
            if (!caps_has(drop, insecure[i]))
                mm_buf_printf(&miss, "%s%s", miss.len ? "," : "", insecure[i]);
        if (miss.len) {
            f = mm_xasprintf("%s.securityContext.capabilities.drop", path);
            k8s_report(c, "MM-K8S-121", f, "container \"%s\" does not drop %s", cname(ctr),
                       miss.data);
            free(f);
        }
        mm_buf_free(&miss);
    }

    const json_t *ports = kj_arr(ctr, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *p = json_array_get(ports, i);
        json_int_t cp;
        if (kj_int(p, "containerPort", &cp)) {
            if (cp > 0 && cp < 1024) {
                f = mm_xasprintf("%s.ports[%zu].containerPort", path, i);
                k8s_report(c, "MM-K8S-122", f, "container \"%s\": port %lld", cname(ctr),
                           (long long)cp);
                free(f);
            }
            if (cp == 22) {
                f = mm_xasprintf("%s.ports[%zu].containerPort", path, i);
                k8s_report(c, "MM-K8S-123", f, "container \"%s\": port 22", cname(ctr));
                free(f);
            }
            if (cp < 1 || cp > 65535) {
                f = mm_xasprintf("%s.ports[%zu].containerPort", path, i);
                k8s_report(c, "MM-K8S-144", f, "container \"%s\": port %lld is out of range",
                           cname(ctr), (long long)cp);
                free(f);
            }
        }
        const char *pn = kj_str(p, "name");
        if (pn && !iana_svc_name(pn)) {
            f = mm_xasprintf("%s.ports[%zu].name", path, i);
            k8s_report(c, "MM-K8S-144", f, "container \"%s\": port name \"%s\" is not a valid "
                       "IANA_SVC_NAME", cname(ctr), pn);
            free(f);
        }
    }

    const json_t *mounts = kj_arr(ctr, "volumeMounts");
    for (size_t i = 0; i < json_array_size(mounts); i++) {
        const json_t *m = json_array_get(mounts, i);
        const json_t *vol = volume_named(pi->spec, kj_str(m, "name"), NULL);
        const json_t *hp = kj_obj(vol, "hostPath");
        if (hp && !kj_true(m, "readOnly")) {
            f = mm_xasprintf("%s.volumeMounts[%zu].readOnly", path, i);
            k8s_report(c, "MM-K8S-118", f, "container \"%s\" mounts host path %s writable",
                       cname(ctr), kj_str(hp, "path") ? kj_str(hp, "path") : "");
            free(f);
        }
    }

    /* runAsGroup 0 on the container */
    json_int_t g;
    if (kj_int(sc, "runAsGroup", &g) && g == 0) {
        f = mm_xasprintf("%s.securityContext.runAsGroup", path);
        k8s_report(c, "MM-K8S-125", f, "container \"%s\": runAsGroup 0", cname(ctr));
        free(f);
    }

    /* Polaris resourceRange: limits within 100Mi-6G memory and 100m-2 CPU */
    if (!init && !ephemeral && wants(c, MM_K8S_CHECK_AVAIL)) {
        const json_t *lim = kj_obj(kj_obj(ctr, "resources"), "limits");
        double cpu, mem;
        bool okc = k8s_quantity(kj_get(lim, "cpu"), &cpu);
        bool okm = k8s_quantity(kj_get(lim, "memory"), &mem);
        if (!okc || cpu < 0.1 || cpu > 2.0) {
            f = mm_xasprintf("%s.resources.limits.cpu", path);
            k8s_report(c, "MM-K8S-147", f, "container \"%s\": CPU limit %s", cname(ctr),
                       okc ? "outside 100m-2" : "missing or unreadable");
            free(f);
        }
        if (!okm || mem < 104857600.0 || mem > 6e9) {
            f = mm_xasprintf("%s.resources.limits.memory", path);
            k8s_report(c, "MM-K8S-147", f, "container \"%s\": memory limit %s", cname(ctr),
                       okm ? "outside 100Mi-6G" : "missing or unreadable");
            free(f);
        }
    }
}

/* A Kubernetes quantity ("100m", "1.5", "128Mi", "6G", 2) as a number. */
bool k8s_quantity(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    if (!s || !*s)
        return false;
    char *end;
    double d = strtod(s, &end);
    if (end == s)
        return false;
    static const struct { const char *suf; double mul; } sufs[] = {
        {"Ki", 1024.0}, {"Mi", 1048576.0}, {"Gi", 1073741824.0}, {"Ti", 1099511627776.0},
        {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}, {"m", 1e-3}, {"k", 1e3},
        {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"P", 1e15}, {"E", 1e18}, {"", 1.0}};
    for (size_t i = 0; i < sizeof sufs / sizeof sufs[0]; i++)
        if (!strcmp(end, sufs[i].suf)) {
            *out = d * sufs[i].mul;
            return true;
        }
    return false;
}

/* --- host paths ------------------------------------------------------------------------ */
static bool sensitive_host_path(const char *p)
{
    static const char *const dirs[] = {"/", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc",
                                       "/sys", "/usr", "/bin", "/sbin", "/root", "/var/run",
                                       "/run", "/var/lib/kubelet", "/var/lib/docker",
                                       "/var/lib/containerd", "/etc/kubernetes", "/var/log",
                                       NULL};
    if (!p)
        return false;
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/')
        n--;
    for (int i = 0; dirs[i]; i++)
        if (strlen(dirs[i]) == n && !strncmp(dirs[i], p, n))
            return true;
    return false;
}

static bool runtime_socket(const char *p)
{
    static const char *const socks[] = {"docker.sock", "containerd.sock", "crio.sock",
                                        "cri-dockerd.sock", "podman.sock", "dockershim.sock",
                                        NULL};
    if (!p)
        return false;
    const char *b = mm_path_base(p);
    for (int i = 0; socks[i]; i++)
        if (!strcmp(b, socks[i]))
            return true;
    return false;
}

/* --- Linux hardening (Polaris linuxHardening) ------------------------------------------ */
static bool seccomp_good(const json_t *sc)
{
    const char *t = kj_str(kj_obj(sc, "seccompProfile"), "type");
    return t && (!strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost"));
}

static bool container_hardened(const json_t *ctr, const json_t *spec, const json_t *meta)
{
    const json_t *sc = kj_obj(ctr, "securityContext"), *psc = kj_obj(spec, "securityContext");
    /* seccomp: the container's own profile wins over the pod's */
    if (kj_obj(sc, "seccompProfile") ? seccomp_good(sc) : seccomp_good(psc))
        return true;
    if (kj_obj(sc, "seLinuxOptions") || kj_obj(psc, "seLinuxOptions"))
        return true;
    const char *at = kj_str(kj_obj(sc, "appArmorProfile"), "type");
    if (!at)
        at = kj_str(kj_obj(psc, "appArmorProfile"), "type");
    if (at && (!strcmp(at, "RuntimeDefault") || !strcmp(at, "Localhost")))
        return true;
    char *key = mm_xasprintf("container.apparmor.security.beta.kubernetes.io/%s", cname(ctr));
    const char *av = kj_str(kj_obj(meta, "annotations"), key);
    free(key);
    if (av && (!strcmp(av, "runtime/default") || mm_str_startswith(av, "localhost/")))
        return true;
    const json_t *caps = kj_obj(sc, "capabilities");
    return caps_has(kj_arr(caps, "drop"), "ALL") && !caps_has(kj_arr(caps, "add"), "ALL");
}

struct hard_ctx {
    const json_t *spec, *meta;
};

static void hardening_c(k8s_ctx *c, const json_t *ctr, const char *path, bool init, void *ud)
{
    struct hard_ctx *h = ud;
    if (init || strstr(path, ".ephemeralContainers["))
        return;
    if (!container_hardened(ctr, h->spec, h->meta)) {
        char *f = mm_xasprintf("%s.securityContext", path);
        k8s_report(c, "MM-K8S-124", f, "container \"%s\": no seccomp, AppArmor or SELinux "
                   "profile and capabilities not dropped", cname(ctr));
        free(f);
    }
}

/* --- the service account token ------------------------------------------------------- */
static const json_t *find_sa(const k8s_ctx *c, const char *ns, const char *name)
{
    /* no namespace and "default" are the same one */
    const mm_k8s_object *o = k8s_find_named(c, "ServiceAccount", ns ? ns : "default", name, NULL);
    return o ? o->json : NULL;
}

/* --- controllers --------------------------------------------------------------------- */
static bool is_kind(const mm_k8s_object *o, const char *k)
{
    return o->kind && !strcmp(o->kind, k);
}

static bool replicated(const mm_k8s_object *o)
{
    return is_kind(o, "Deployment") || is_kind(o, "StatefulSet") || is_kind(o, "ReplicaSet") ||
           is_kind(o, "ReplicationController") || is_kind(o, "DeploymentConfig");
}

static bool anti_affinity_ok(const mm_k8s_object *o, const json_t *spec, const json_t *meta)
{
    const json_t *paa = kj_obj(kj_obj(spec, "affinity"), "podAntiAffinity");
    const json_t *labels = kj_obj(meta, "labels");
    const json_t *req = kj_arr(paa, "requiredDuringSchedulingIgnoredDuringExecution");
    const json_t *pref = kj_arr(paa, "preferredDuringSchedulingIgnoredDuringExecution");
    for (int pass = 0; pass < 2; pass++) {
        const json_t *arr = pass ? pref : req;
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *t = json_array_get(arr, i);
            if (pass)
                t = kj_obj(t, "podAffinityTerm");
            const char *tk = kj_str(t, "topologyKey");
            if (!tk || strcmp(tk, "kubernetes.io/hostname"))
                continue;
            const json_t *nss = kj_arr(t, "namespaces");
            if (json_array_size(nss) > 0) {
                bool in = false;
                const char *ns = o->ns ? o->ns : "default";
                for (size_t j = 0; j < json_array_size(nss); j++) {
                    const char *x = json_string_value(json_array_get(nss, j));
                    if (x && !strcmp(x, ns))
                        in = true;
                }
                if (!in)
                    continue;
            } else if (kj_obj(t, "namespaceSelector")) {
                /* a namespaceSelector: without the Namespace objects, accept
                 * an empty selector (all namespaces) or one naming ours */
                const json_t *nsel = kj_obj(t, "namespaceSelector");
                const char *nn = kj_str(kj_obj(nsel, "matchLabels"), "kubernetes.io/metadata.name");
                const char *ns = o->ns ? o->ns : "default";
                if (json_object_size(nsel) > 0 && (!nn || strcmp(nn, ns)))
                    continue;
            }
            const json_t *ls = kj_obj(t, "labelSelector");
            if (ls && k8s_selector_matches(ls, labels, false))
                return true;
        }
    }
    return false;
}

/* Controller settings that need no pod template (replicas, strategies,
 * Job TTLs, namespace, labels). */
static void controller_checks(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *j = o->json;
    const json_t *ospec = kj_obj(j, "spec");
    if (replicated(o)) {
        json_int_t r = 1;
        bool set = kj_int(ospec, "replicas", &r);
        if (r < 3)
            k8s_report(c, "MM-K8S-126", "spec.replicas", "replicas %lld%s", (long long)r,
                       set ? "" : " (unset: 1)");
        if ((!set || r < 2) && is_kind(o, "Deployment"))
            k8s_report(c, "MM-K8S-127", "spec.replicas", "replicas %s", set ? "below 2" : "not set");
    }
    const char *stype = NULL, *sfield = NULL;
    if (is_kind(o, "Deployment") || is_kind(o, "DeploymentConfig")) {
        stype = kj_str(kj_obj(ospec, "strategy"), "type");
        sfield = "spec.strategy.type";
    } else if (is_kind(o, "DaemonSet") || is_kind(o, "StatefulSet")) {
        stype = kj_str(kj_obj(ospec, "updateStrategy"), "type");
        sfield = "spec.updateStrategy.type";
    }
    if (sfield && (!stype || (strcmp(stype, "RollingUpdate") && strcmp(stype, "Rolling"))))
        k8s_report(c, "MM-K8S-130", sfield, "update strategy %s", stype ? stype : "(unset)");
    /* a Job on its own should clean up after itself; a CronJob's jobs are
     * pruned by its history limits, and a TTL there fights them */
    if (is_kind(o, "Job") && !kj_get(ospec, "ttlSecondsAfterFinished"))
        k8s_report(c, "MM-K8S-134", "spec.ttlSecondsAfterFinished", "no ttlSecondsAfterFinished");
    if (is_kind(o, "CronJob") &&
        kj_get(kj_obj(kj_obj(ospec, "jobTemplate"), "spec"), "ttlSecondsAfterFinished"))
        k8s_report(c, "MM-K8S-134", "spec.jobTemplate.spec.ttlSecondsAfterFinished",
                   "CronJob job template sets ttlSecondsAfterFinished");
    if (is_kind(o, "Pod")) {
        const json_t *owners = kj_arr(kj_obj(j, "metadata"), "ownerReferences");
        if (json_array_size(owners) == 0)
            k8s_report(c, "MM-K8S-131", "metadata.ownerReferences", "no controller");
    }
    const json_t *ol = kj_obj(kj_obj(j, "metadata"), "labels");
    const json_t *meta, *spec;
    const char *prefix;
    bool workload = mm_k8s_pod_template(o, &meta, &spec, &prefix);
    if (workload || is_kind(o, "StatefulSet")) {
        const char *inst = kj_str(ol, "app.kubernetes.io/instance");
        if (!inst || !o->name || strcmp(inst, o->name))
            k8s_report(c, "MM-K8S-138", "metadata.labels['app.kubernetes.io/instance']",
                       "instance label %s, name %s", inst ? inst : "(none)",
                       o->name ? o->name : "");
    }
    const char *aname = kj_str(ol, "app.kubernetes.io/name");
    if (is_kind(o, "StatefulSet") && (!aname || !o->name || strcmp(aname, o->name)))
        k8s_report(c, "MM-K8S-149", "metadata.labels['app.kubernetes.io/name']",
                   "app.kubernetes.io/name %s, name %s", aname ? aname : "(none)",
                   o->name ? o->name : "");
    if ((workload || replicated(o) || is_kind(o, "Service")) && (!o->ns || !strcmp(o->ns, "default")))
        k8s_report(c, "MM-K8S-140", "metadata.namespace", "namespace %s",
                   o->ns ? o->ns : "(none: default)");
}

void k8s_check_workload(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *j = o->json;
    const json_t *meta, *spec;
    const char *prefix;
    bool avail = wants(c, MM_K8S_CHECK_AVAIL);
    const char *api = o->api_version ? o->api_version : "";
    if (mm_str_startswith(api, "extensions/v1beta") || !strcmp(api, "apps/v1beta1") ||
        !strcmp(api, "apps/v1beta2"))
        k8s_report(c, "MM-K8S-141", "apiVersion", "%s %s", api, o->kind);
    if (is_kind(o, "ConfigMap")) {
        const json_t *data = kj_obj(j, "data");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)data, k, v) {
            const char *sv = json_string_value(v);
            if ((sv && *sv && k8s_sensitive_name(k)) || k8s_sensitive_value(sv)) {
                char *f = mm_xasprintf("data['%s']", k);
                k8s_report(c, "MM-K8S-146", f, "key %s (%zu bytes)", k, sv ? strlen(sv) : 0);
                free(f);
            }
        }
        return;
    }
    if (is_kind(o, "Ingress")) {
        if (json_array_size(kj_arr(kj_obj(j, "spec"), "tls")) == 0)
            k8s_report(c, "MM-K8S-145", "spec.tls", "Ingress without TLS");
        return;
    }
    if (is_kind(o, "SecurityContextConstraints")) {
        if (kj_true(j, "allowPrivilegedContainer"))
            k8s_report(c, "MM-K8S-148", "allowPrivilegedContainer", "allowPrivilegedContainer: true");
        return;
    }
    if (avail && is_kind(o, "StatefulSet")) {
        const json_t *vct = kj_arr(kj_obj(j, "spec"), "volumeClaimTemplates");
        for (size_t i = 0; i < json_array_size(vct); i++) {
            const json_t *ann = kj_obj(kj_obj(json_array_get(vct, i), "metadata"), "annotations");
            if (kj_get(ann, "volume.beta.kubernetes.io/storage-class")) {
                char *f = mm_xasprintf("spec.volumeClaimTemplates[%zu].metadata.annotations"
                                       "['volume.beta.kubernetes.io/storage-class']", i);
                k8s_report(c, "MM-K8S-139", f, "deprecated storage-class annotation");
                free(f);
            }
        }
    }
    if (avail)
        controller_checks(c, o);
    if (!mm_k8s_pod_template(o, &meta, &spec, &prefix))
        return;
    char *f;
    struct pod_info pi = {o, spec, prefix};
    k8s_visit_containers(c, spec, prefix, container_checks, &pi);

    /* host paths */
    const json_t *vols = kj_arr(spec, "volumes");
    for (size_t i = 0; i < json_array_size(vols); i++) {
        const json_t *hp = kj_obj(json_array_get(vols, i), "hostPath");
        const char *p = kj_str(hp, "path");
        if (!p)
            continue;
        f = mm_xasprintf("%s.volumes[%zu].hostPath.path", prefix, i);
        if (runtime_socket(p))
            k8s_report(c, "MM-K8S-116", f, "hostPath %s", p);
        else if (sensitive_host_path(p))
            k8s_report(c, "MM-K8S-117", f, "hostPath %s", p);
        free(f);
    }

    /* service account token and identity */
    const char *san = kj_str(spec, "serviceAccountName");
    const char *sa_old = kj_str(spec, "serviceAccount");
    const char *sa = san && *san ? san : sa_old;
    const json_t *am = kj_get(spec, "automountServiceAccountToken");
    bool mounted;
    if (json_is_boolean(am)) {
        mounted = json_is_true(am);
    } else {
        const json_t *saj = find_sa(c, o->ns, sa && *sa ? sa : "default");
        mounted = !kj_false(saj, "automountServiceAccountToken");
    }
    if (mounted) {
        f = mm_xasprintf("%s.automountServiceAccountToken", prefix);
        k8s_report(c, "MM-K8S-113", f, "service account \"%s\" token mounted",
                   sa && *sa ? sa : "default");
        free(f);
    }
    if (!sa || !*sa || !strcmp(sa, "default")) {
        f = mm_xasprintf("%s.serviceAccountName", prefix);
        k8s_report(c, "MM-K8S-114", f, "runs as service account \"default\"");
        free(f);
    }
    if (sa_old && *sa_old) {
        f = mm_xasprintf("%s.serviceAccount", prefix);
        k8s_report(c, "MM-K8S-115", f, "serviceAccount: %s", sa_old);
        free(f);
    }

    /* Linux hardening, root group */
    struct hard_ctx hc = {spec, meta};
    k8s_visit_containers(c, spec, prefix, hardening_c, &hc);
    const json_t *psc = kj_obj(spec, "securityContext");
    json_int_t g;
    if (kj_int(psc, "runAsGroup", &g) && g == 0) {
        f = mm_xasprintf("%s.securityContext.runAsGroup", prefix);
        k8s_report(c, "MM-K8S-125", f, "pod runAsGroup 0");
        free(f);
    }
    if (kj_int(psc, "fsGroup", &g) && g == 0) {
        f = mm_xasprintf("%s.securityContext.fsGroup", prefix);
        k8s_report(c, "MM-K8S-125", f, "pod fsGroup 0");
        free(f);
    }
    const json_t *sg = kj_arr(psc, "supplementalGroups");
    for (size_t i = 0; i < json_array_size(sg); i++)
        if (json_is_integer(json_array_get(sg, i)) && json_integer_value(json_array_get(sg, i)) == 0) {
            f = mm_xasprintf("%s.securityContext.supplementalGroups[%zu]", prefix, i);
            k8s_report(c, "MM-K8S-125", f, "pod supplementalGroups has 0");
            free(f);
        }

    if (!avail)
        return;
    if (replicated(o)) {
        json_int_t r = 1;
        kj_int(kj_obj(j, "spec"), "replicas", &r);
        if (r > 1 && !anti_affinity_ok(o, spec, meta)) {
            f = mm_xasprintf("%s.affinity.podAntiAffinity", prefix);
            k8s_report(c, "MM-K8S-128", f, "%lld replicas and no anti-affinity on "
                       "kubernetes.io/hostname that selects them", (long long)r);
            free(f);
        }
        if (!json_array_size(kj_arr(spec, "topologySpreadConstraints")) && (is_kind(o, "Deployment") ||
                                                           is_kind(o, "StatefulSet"))) {
            f = mm_xasprintf("%s.topologySpreadConstraints", prefix);
            k8s_report(c, "MM-K8S-137", f, "no topologySpreadConstraints");
            free(f);
        }
    }
    if (!kj_obj(kj_obj(spec, "affinity"), "nodeAffinity")) {
        f = mm_xasprintf("%s.affinity.nodeAffinity", prefix);
        k8s_report(c, "MM-K8S-129", f, "no nodeAffinity");
        free(f);
    }
    if (!kj_str(spec, "priorityClassName")) {
        f = mm_xasprintf("%s.priorityClassName", prefix);
        k8s_report(c, "MM-K8S-132", f, "no priorityClassName");
        free(f);
    }
    const char *rp = kj_str(spec, "restartPolicy");
    if (rp && strcmp(rp, "Always") && strcmp(rp, "OnFailure")) {
        f = mm_xasprintf("%s.restartPolicy", prefix);
        k8s_report(c, "MM-K8S-133", f, "restartPolicy %s", rp);
        free(f);
    }
    /* ndots: unset (the default 5 sends every lookup through the search
     * list first) or above 2 */
    const json_t *opts = kj_arr(kj_obj(spec, "dnsConfig"), "options");
    const char *ndots = NULL;
    for (size_t i = 0; i < json_array_size(opts); i++) {
        const char *n = kj_str(json_array_get(opts, i), "name");
        if (n && !strcmp(n, "ndots"))
            ndots = kj_str(json_array_get(opts, i), "value") ? kj_str(json_array_get(opts, i), "value") : "";
    }
    if (!ndots || atoi(ndots) > 2) {
        f = mm_xasprintf("%s.dnsConfig.options", prefix);
        k8s_report(c, "MM-K8S-135", f, "ndots %s", ndots ? ndots : "unset (5)");
        free(f);
    }
}
