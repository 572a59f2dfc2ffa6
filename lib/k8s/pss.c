/*
 * pss.c - the Pod Security Standards as the upstream admission library
 * (k8s.io/pod-security-admission, policy/check_*.go) evaluates them, for
 * a chosen policy version: each check has versioned revisions (the newest
 * whose minimum version is at or below the asked one applies), Restricted
 * is every Baseline check plus the Restricted ones minus the Baseline
 * checks they override, and a version past the newest known is clamped to
 * it.  The revision table below is what docs/k8s.md documents.
 *
 * Two API-server defaults matter for manifests that were never sent to a
 * server: a volume with no known source is an emptyDir, and a container's
 * securityContext absent is the same as empty.  Every offending field is
 * reported on its own with its JSON path; the verdict (allowed or not) is
 * the same as upstream's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"

struct pss {
    const json_t *meta, *spec;
    const char *mprefix, *prefix;
    int v;                   /* policy minor version */
    k8s_pss_fail_fn fail;
    void *ud;
    const char *check;       /* the check being run */
};

static void failf(struct pss *p, const char *field, const char *evfmt, ...)
    __attribute__((format(printf, 3, 4)));

static void failf(struct pss *p, const char *field, const char *evfmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, evfmt);
    int n = vsnprintf(buf, sizeof buf, evfmt, ap);
    va_end(ap);
    char *ev = buf;
    if (n < 0 || (size_t)n >= sizeof buf) {   /* longer than the stack buffer */
        va_start(ap, evfmt);
        ev = mm_xvasprintf(evfmt, ap);
        va_end(ap);
    }
    p->fail(p->ud, p->check, field, ev);
    if (ev != buf)
        free(ev);
}

static bool in_list(const char *s, const char *const *list)
{
    if (!s)
        return false;
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

static bool windows_pod(const struct pss *p)
{
    const char *os = kj_str(kj_obj(p->spec, "os"), "name");
    return os && !strcmp(os, "windows");
}

static bool user_ns_pod(const struct pss *p)
{
    return kj_false(p->spec, "hostUsers");
}

/* Visits init, regular, then ephemeral containers, as upstream's
 * visitContainers does. */
typedef void (*ctr_fn)(struct pss *p, const json_t *c, const char *path, void *ud);

static void each_container(struct pss *p, ctr_fn fn, void *ud)
{
    static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
    for (int l = 0; l < 3; l++) {
        const json_t *arr = kj_arr(p->spec, lists[l]);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *c = json_array_get(arr, i);
            if (!json_is_object(c))
                continue;
            char pbuf[256], num[24];
            mm_str_utoa(num, i);
            const char *pp[] = {p->prefix, ".", lists[l], "[", num, "]"};
            char *path = mm_str_cat(pbuf, sizeof pbuf, pp, 6) < sizeof pbuf
                             ? pbuf : mm_xasprintf("%s.%s[%s]", p->prefix, lists[l], num);
            fn(p, c, path, ud);
            if (path != pbuf)
                free(path);
        }
    }
}

static const json_t *sc_of(const json_t *c)
{
    return kj_obj(c, "securityContext");
}

static const json_t *pod_sc(const struct pss *p)
{
    return kj_obj(p->spec, "securityContext");
}

/* --- baseline ---------------------------------------------------------------------- */
static void host_namespaces(struct pss *p)
{
    static const char *const f[] = {"hostNetwork", "hostPID", "hostIPC"};
    for (int i = 0; i < 3; i++)
        if (kj_true(p->spec, f[i])) {
            char *path = mm_xasprintf("%s.%s", p->prefix, f[i]);
            failf(p, path, "%s: true", f[i]);
            free(path);
        }
}

static void privileged_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    if (kj_true(sc_of(c), "privileged")) {
        char *f = mm_xasprintf("%s.securityContext.privileged", path);
        failf(p, f, "container \"%s\": privileged: true", kj_str(c, "name") ? kj_str(c, "name") : "");
        free(f);
    }
}

static const char *const caps_baseline[] = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT", NULL};

static void caps_baseline_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const json_t *add = kj_arr(kj_obj(sc_of(c), "capabilities"), "add");
    for (size_t i = 0; i < json_array_size(add); i++) {
        const char *cap = json_string_value(json_array_get(add, i));
        if (!in_list(cap ? cap : "", caps_baseline)) {
            char *f = mm_xasprintf("%s.securityContext.capabilities.add[%zu]", path, i);
            failf(p, f, "container \"%s\" adds capability %s", kj_str(c, "name") ?
                  kj_str(c, "name") : "", cap ? cap : "(not a string)");
            free(f);
        }
    }
}

static void host_path_volumes(struct pss *p)
{
    const json_t *vols = kj_arr(p->spec, "volumes");
    for (size_t i = 0; i < json_array_size(vols); i++) {
        const json_t *v = json_array_get(vols, i);
        const json_t *hp = kj_get(v, "hostPath");
        if (hp && !json_is_null(hp)) {
            char *f = mm_xasprintf("%s.volumes[%zu].hostPath", p->prefix, i);
            failf(p, f, "volume \"%s\": hostPath %s", kj_str(v, "name") ? kj_str(v, "name") : "",
                  kj_str(hp, "path") ? kj_str(hp, "path") : "");
            free(f);
        }
    }
}

static void host_ports_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const json_t *ports = kj_arr(c, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        json_int_t hp;
        if (kj_int(json_array_get(ports, i), "hostPort", &hp) && hp != 0) {
            char *f = mm_xasprintf("%s.ports[%zu].hostPort", path, i);
            failf(p, f, "container \"%s\": hostPort %lld", kj_str(c, "name") ?
                  kj_str(c, "name") : "", (long long)hp);
            free(f);
        }
    }
}

static bool apparmor_type_ok(const char *t)
{
    return t && (!strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost"));
}

static void apparmor_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const json_t *ap = kj_obj(sc_of(c), "appArmorProfile");
    if (ap && !apparmor_type_ok(kj_str(ap, "type"))) {
        char *f = mm_xasprintf("%s.securityContext.appArmorProfile.type", path);
        failf(p, f, "container \"%s\": appArmorProfile type %s", kj_str(c, "name") ?
              kj_str(c, "name") : "", kj_str(ap, "type") ? kj_str(ap, "type") : "(empty)");
        free(f);
    }
}

#define APPARMOR_PFX "container.apparmor.security.beta.kubernetes.io/"

static void apparmor(struct pss *p)
{
    const json_t *ap = kj_obj(pod_sc(p), "appArmorProfile");
    if (ap && !apparmor_type_ok(kj_str(ap, "type"))) {
        char *f = mm_xasprintf("%s.securityContext.appArmorProfile.type", p->prefix);
        failf(p, f, "pod appArmorProfile type %s", kj_str(ap, "type") ? kj_str(ap, "type")
                                                                      : "(empty)");
        free(f);
    }
    each_container(p, apparmor_c, NULL);
    const json_t *ann = kj_obj(p->meta, "annotations");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ann, k, v) {
        if (!mm_str_startswith(k, APPARMOR_PFX))
            continue;
        const char *val = json_string_value(v);
        if (!val)
            val = "";
        if (!*val || !strcmp(val, "runtime/default") || mm_str_startswith(val, "localhost/"))
            continue;
        char *f = mm_xasprintf("%s.annotations['%s']", p->mprefix, k);
        failf(p, f, "%s=\"%s\"", k, val);
        free(f);
    }
}

static void selinux_opts(struct pss *p, const json_t *o, const char *base, const char *who)
{
    if (!o)
        return;
    static const char *const t10[] = {"", "container_t", "container_init_t", "container_kvm_t", NULL};
    static const char *const t131[] = {"", "container_t", "container_init_t", "container_kvm_t",
                                       "container_engine_t", NULL};
    const char *type = kj_str(o, "type");
    if (!in_list(type ? type : "", p->v >= 31 ? t131 : t10)) {
        char *f = mm_xasprintf("%s.type", base);
        failf(p, f, "%s: seLinuxOptions type %s", who, type);
        free(f);
    }
    static const char *const ur[] = {"user", "role"};
    for (int i = 0; i < 2; i++) {
        const char *x = kj_str(o, ur[i]);
        if (x && *x) {
            char *f = mm_xasprintf("%s.%s", base, ur[i]);
            failf(p, f, "%s: seLinuxOptions %s may not be set (\"%s\")", who, ur[i], x);
            free(f);
        }
    }
}

static void selinux_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    char *base = mm_xasprintf("%s.securityContext.seLinuxOptions", path);
    char *who = mm_xasprintf("container \"%s\"", kj_str(c, "name") ? kj_str(c, "name") : "");
    selinux_opts(p, kj_obj(sc_of(c), "seLinuxOptions"), base, who);
    free(base);
    free(who);
}

static void selinux(struct pss *p)
{
    char *base = mm_xasprintf("%s.securityContext.seLinuxOptions", p->prefix);
    selinux_opts(p, kj_obj(pod_sc(p), "seLinuxOptions"), base, "pod");
    free(base);
    each_container(p, selinux_c, NULL);
}

static void procmount_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const json_t *pm = kj_get(sc_of(c), "procMount");
    if (!pm || json_is_null(pm))
        return;
    const char *v = json_string_value(pm);
    if (v && !strcmp(v, "Default"))
        return;
    char *f = mm_xasprintf("%s.securityContext.procMount", path);
    failf(p, f, "container \"%s\": procMount %s", kj_str(c, "name") ? kj_str(c, "name") : "",
          v ? v : "(not a string)");
    free(f);
}

static void procmount_baseline(struct pss *p)
{
    /* 1.35+: any value is allowed in a user namespace ("hostUsers: false") */
    if (p->v >= 35 && user_ns_pod(p))
        return;
    each_container(p, procmount_c, NULL);
}

#define SECCOMP_POD_ANN "seccomp.security.alpha.kubernetes.io/pod"
#define SECCOMP_CTR_PFX "container.seccomp.security.alpha.kubernetes.io/"

static void seccomp_ann_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const char *name = kj_str(c, "name");
    if (!name)
        return;
    char *key = mm_xasprintf(SECCOMP_CTR_PFX "%s", name);
    const char *v = kj_str(kj_obj(p->meta, "annotations"), key);
    if (v && !strcmp(v, "unconfined")) {
        char *f = mm_xasprintf("%s.annotations['%s']", p->mprefix, key);
        failf(p, f, "%s=\"%s\"", key, v);
        free(f);
    }
    free(key);
}

static void seccomp_field_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const char *t = kj_str(kj_obj(sc_of(c), "seccompProfile"), "type");
    if (t && !strcmp(t, "Unconfined")) {
        char *f = mm_xasprintf("%s.securityContext.seccompProfile.type", path);
        failf(p, f, "container \"%s\": seccompProfile type Unconfined", kj_str(c, "name") ?
              kj_str(c, "name") : "");
        free(f);
    }
}

static void seccomp_baseline(struct pss *p)
{
    if (p->v < 19) {
        const char *v = kj_str(kj_obj(p->meta, "annotations"), SECCOMP_POD_ANN);
        if (v && !strcmp(v, "unconfined")) {
            char *f = mm_xasprintf("%s.annotations['%s']", p->mprefix, SECCOMP_POD_ANN);
            failf(p, f, "%s=\"%s\"", SECCOMP_POD_ANN, v);
            free(f);
        }
        each_container(p, seccomp_ann_c, NULL);
        return;
    }
    const char *t = kj_str(kj_obj(pod_sc(p), "seccompProfile"), "type");
    if (t && !strcmp(t, "Unconfined")) {
        char *f = mm_xasprintf("%s.securityContext.seccompProfile.type", p->prefix);
        failf(p, f, "pod seccompProfile type Unconfined");
        free(f);
    }
    each_container(p, seccomp_field_c, NULL);
}

static bool sysctl_allowed(const char *n, int v)
{
    static const char *const s10[] = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range",
                                      "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
                                      "net.ipv4.ip_unprivileged_port_start", NULL};
    static const char *const s127[] = {"net.ipv4.ip_local_reserved_ports", NULL};
    static const char *const s129[] = {"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
                                       "net.ipv4.tcp_keepalive_intvl",
                                       "net.ipv4.tcp_keepalive_probes", NULL};
    static const char *const s132[] = {"net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem", NULL};
    static const char *const s137[] = {"net.ipv4.tcp_slow_start_after_idle",
                                       "net.ipv4.tcp_notsent_lowat", NULL};
    return in_list(n, s10) || (v >= 27 && in_list(n, s127)) || (v >= 29 && in_list(n, s129)) ||
           (v >= 32 && in_list(n, s132)) || (v >= 37 && in_list(n, s137));
}

static void sysctls(struct pss *p)
{
    const json_t *arr = kj_arr(pod_sc(p), "sysctls");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *n = kj_str(json_array_get(arr, i), "name");
        if (!sysctl_allowed(n ? n : "", p->v)) {
            char *f = mm_xasprintf("%s.securityContext.sysctls[%zu].name", p->prefix, i);
            failf(p, f, "sysctl %s", n ? n : "(no name)");
            free(f);
        }
    }
}

static void hostprocess_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    if (kj_true(kj_obj(sc_of(c), "windowsOptions"), "hostProcess")) {
        char *f = mm_xasprintf("%s.securityContext.windowsOptions.hostProcess", path);
        failf(p, f, "container \"%s\": hostProcess: true", kj_str(c, "name") ?
              kj_str(c, "name") : "");
        free(f);
    }
}

static void windows_host_process(struct pss *p)
{
    if (kj_true(kj_obj(pod_sc(p), "windowsOptions"), "hostProcess")) {
        char *f = mm_xasprintf("%s.securityContext.windowsOptions.hostProcess", p->prefix);
        failf(p, f, "pod hostProcess: true");
        free(f);
    }
    each_container(p, hostprocess_c, NULL);
}

static void host_field(struct pss *p, const json_t *h, const char *base, const char *what,
                       const char *cname)
{
    static const char *const kinds[] = {"httpGet", "tcpSocket"};
    for (int i = 0; i < 2; i++) {
        const char *host = kj_str(kj_obj(h, kinds[i]), "host");
        if (host && *host) {
            char *f = mm_xasprintf("%s.%s.%s.host", base, what, kinds[i]);
            failf(p, f, "container \"%s\": %s %s host \"%s\"", cname, what, kinds[i], host);
            free(f);
        }
    }
}

static void host_probes_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const char *cname = kj_str(c, "name") ? kj_str(c, "name") : "";
    static const char *const probes[] = {"livenessProbe", "readinessProbe", "startupProbe"};
    for (int i = 0; i < 3; i++)
        host_field(p, kj_obj(c, probes[i]), path, probes[i], cname);
    const json_t *lc = kj_obj(c, "lifecycle");
    if (lc) {
        char *base = mm_xasprintf("%s.lifecycle", path);
        host_field(p, kj_obj(lc, "postStart"), base, "postStart", cname);
        host_field(p, kj_obj(lc, "preStop"), base, "preStop", cname);
        free(base);
    }
}

/* --- restricted ------------------------------------------------------------------------ */
static void restricted_volumes(struct pss *p)
{
    static const char *const allowed[] = {"configMap", "csi", "downwardAPI", "emptyDir",
                                          "ephemeral", "image", "persistentVolumeClaim",
                                          "projected", "secret", NULL};
    static const char *const restricted[] = {
        "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "nfs", "iscsi",
        "glusterfs", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "fc", "azureFile",
        "vsphereVolume", "quobyte", "azureDisk", "portworxVolume", "scaleIO", "storageos",
        "photonPersistentDisk", NULL};
    const json_t *vols = kj_arr(p->spec, "volumes");
    for (size_t i = 0; i < json_array_size(vols); i++) {
        const json_t *v = json_array_get(vols, i);
        bool ok = false;
        const char *bad = NULL;
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            if (json_is_null(x))
                continue;
            if (in_list(k, allowed))
                ok = true;
            else if (!bad && in_list(k, restricted))
                bad = k;
        }
        /* no known source at all: the API server defaults it to emptyDir */
        if (ok || !bad)
            continue;
        char *f = mm_xasprintf("%s.volumes[%zu].%s", p->prefix, i, bad);
        failf(p, f, "volume \"%s\" has restricted type %s", kj_str(v, "name") ?
              kj_str(v, "name") : "", bad);
        free(f);
    }
}

static void ape_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    if (kj_false(sc_of(c), "allowPrivilegeEscalation"))
        return;
    char *f = mm_xasprintf("%s.securityContext.allowPrivilegeEscalation", path);
    failf(p, f, "container \"%s\": allowPrivilegeEscalation is %s", kj_str(c, "name") ?
          kj_str(c, "name") : "", kj_true(sc_of(c), "allowPrivilegeEscalation") ? "true"
                                                                              : "not false");
    free(f);
}

static void allow_priv_esc(struct pss *p)
{
    if (p->v >= 25 && windows_pod(p))
        return;
    each_container(p, ape_c, NULL);
}

static void rnr_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    bool pod_true = *(bool *)ud;
    const json_t *v = kj_get(sc_of(c), "runAsNonRoot");
    char *f = mm_xasprintf("%s.securityContext.runAsNonRoot", path);
    const char *cname = kj_str(c, "name") ? kj_str(c, "name") : "";
    if (json_is_boolean(v)) {
        if (json_is_false(v))
            failf(p, f, "container \"%s\": runAsNonRoot: false", cname);
    } else if (!pod_true) {
        failf(p, f, "container \"%s\" does not set runAsNonRoot: true (nor does the pod)", cname);
    }
    free(f);
}

static void run_as_non_root(struct pss *p)
{
    if (p->v >= 35 && user_ns_pod(p))
        return;
    bool pod_true = false;
    const json_t *v = kj_get(pod_sc(p), "runAsNonRoot");
    if (json_is_boolean(v)) {
        if (json_is_false(v)) {
            char *f = mm_xasprintf("%s.securityContext.runAsNonRoot", p->prefix);
            failf(p, f, "pod runAsNonRoot: false");
            free(f);
        } else {
            pod_true = true;
        }
    }
    each_container(p, rnr_c, &pod_true);
}

static void rau_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    json_int_t u;
    if (kj_int(sc_of(c), "runAsUser", &u) && u == 0) {
        char *f = mm_xasprintf("%s.securityContext.runAsUser", path);
        failf(p, f, "container \"%s\": runAsUser 0", kj_str(c, "name") ? kj_str(c, "name") : "");
        free(f);
    }
}

static void run_as_user(struct pss *p)
{
    if (p->v >= 35 && user_ns_pod(p))
        return;
    json_int_t u;
    if (kj_int(pod_sc(p), "runAsUser", &u) && u == 0) {
        char *f = mm_xasprintf("%s.securityContext.runAsUser", p->prefix);
        failf(p, f, "pod runAsUser 0");
        free(f);
    }
    each_container(p, rau_c, NULL);
}

static bool seccomp_ok(const char *t)
{
    return t && (!strcmp(t, "RuntimeDefault") || !strcmp(t, "Localhost"));
}

static void sr_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    bool pod_set = *(bool *)ud;
    const json_t *sp = kj_get(sc_of(c), "seccompProfile");
    const char *cname = kj_str(c, "name") ? kj_str(c, "name") : "";
    if (json_is_object(sp)) {
        const char *t = kj_str(sp, "type");
        if (!seccomp_ok(t)) {
            char *f = mm_xasprintf("%s.securityContext.seccompProfile.type", path);
            failf(p, f, "container \"%s\": seccompProfile type %s", cname, t ? t : "(empty)");
            free(f);
        }
    } else if (!pod_set) {
        char *f = mm_xasprintf("%s.securityContext.seccompProfile", path);
        failf(p, f, "container \"%s\" sets no seccompProfile (nor does the pod)", cname);
        free(f);
    }
}

static void seccomp_restricted(struct pss *p)
{
    if (p->v >= 25 && windows_pod(p))
        return;
    bool pod_set = false;
    const json_t *sp = kj_obj(pod_sc(p), "seccompProfile");
    if (sp) {
        const char *t = kj_str(sp, "type");
        if (!seccomp_ok(t)) {
            char *f = mm_xasprintf("%s.securityContext.seccompProfile.type", p->prefix);
            failf(p, f, "pod seccompProfile type %s", t ? t : "(empty)");
            free(f);
        } else {
            pod_set = true;
        }
    }
    each_container(p, sr_c, &pod_set);
}

static void cr_c(struct pss *p, const json_t *c, const char *path, void *ud)
{
    const json_t *caps = kj_obj(sc_of(c), "capabilities");
    const char *cname = kj_str(c, "name") ? kj_str(c, "name") : "";
    bool dropped_all = false;
    const json_t *drop = kj_arr(caps, "drop");
    for (size_t i = 0; i < json_array_size(drop); i++) {
        const char *d = json_string_value(json_array_get(drop, i));
        if (d && !strcmp(d, "ALL"))
            dropped_all = true;
    }
    if (!dropped_all) {
        char *f = mm_xasprintf("%s.securityContext.capabilities.drop", path);
        failf(p, f, "container \"%s\" does not drop ALL capabilities", cname);
        free(f);
    }
    const json_t *add = kj_arr(caps, "add");
    for (size_t i = 0; i < json_array_size(add); i++) {
        const char *a = json_string_value(json_array_get(add, i));
        if (!a || strcmp(a, "NET_BIND_SERVICE")) {
            char *f = mm_xasprintf("%s.securityContext.capabilities.add[%zu]", path, i);
            failf(p, f, "container \"%s\" adds capability %s", cname, a ? a : "(not a string)");
            free(f);
        }
    }
}

static void caps_restricted(struct pss *p)
{
    if (p->v >= 25 && windows_pod(p))
        return;
    each_container(p, cr_c, NULL);
}

static void caps_baseline_all(struct pss *p)
{
    each_container(p, caps_baseline_c, NULL);
}
static void privileged(struct pss *p)
{
    each_container(p, privileged_c, NULL);
}
static void host_ports(struct pss *p)
{
    each_container(p, host_ports_c, NULL);
}
static void host_probes(struct pss *p)
{
    each_container(p, host_probes_c, NULL);
}
static void procmount_restricted(struct pss *p)
{
    each_container(p, procmount_c, NULL);
}

/* The registry: id, level, the first policy version it exists at, and the
 * Baseline check it overrides in Restricted (from the version it exists). */
static const struct {
    const char *id;
    mm_pss_level level;
    int since;
    const char *overrides;
    void (*run)(struct pss *p);
} checks[] = {
    {"hostNamespaces", MM_PSS_BASELINE, 0, NULL, host_namespaces},
    {"privileged", MM_PSS_BASELINE, 0, NULL, privileged},
    {"capabilities_baseline", MM_PSS_BASELINE, 0, NULL, caps_baseline_all},
    {"hostPathVolumes", MM_PSS_BASELINE, 0, NULL, host_path_volumes},
    {"hostPorts", MM_PSS_BASELINE, 0, NULL, host_ports},
    {"appArmorProfile", MM_PSS_BASELINE, 0, NULL, apparmor},
    {"seLinuxOptions", MM_PSS_BASELINE, 0, NULL, selinux},
    {"procMount", MM_PSS_BASELINE, 0, NULL, procmount_baseline},
    {"seccompProfile_baseline", MM_PSS_BASELINE, 0, NULL, seccomp_baseline},
    {"sysctls", MM_PSS_BASELINE, 0, NULL, sysctls},
    {"windowsHostProcess", MM_PSS_BASELINE, 0, NULL, windows_host_process},
    {"hostProbesAndHostLifecycle", MM_PSS_BASELINE, 34, NULL, host_probes},
    {"restrictedVolumes", MM_PSS_RESTRICTED, 0, "hostPathVolumes", restricted_volumes},
    {"allowPrivilegeEscalation", MM_PSS_RESTRICTED, 8, NULL, allow_priv_esc},
    {"runAsNonRoot", MM_PSS_RESTRICTED, 0, NULL, run_as_non_root},
    {"runAsUser", MM_PSS_RESTRICTED, 23, NULL, run_as_user},
    {"seccompProfile_restricted", MM_PSS_RESTRICTED, 19, "seccompProfile_baseline",
     seccomp_restricted},
    {"capabilities_restricted", MM_PSS_RESTRICTED, 22, "capabilities_baseline", caps_restricted},
    {"procMount_restricted", MM_PSS_RESTRICTED, 35, "procMount", procmount_restricted},
};
#define NCHECKS (sizeof checks / sizeof checks[0])

static bool overridden(const char *id, mm_pss_level level, int v)
{
    if (level != MM_PSS_RESTRICTED)
        return false;
    for (size_t i = 0; i < NCHECKS; i++)
        if (checks[i].overrides && !strcmp(checks[i].overrides, id) && v >= checks[i].since)
            return true;
    return false;
}

void k8s_pss_run(const json_t *meta, const json_t *spec, const char *meta_prefix,
                 const char *prefix, mm_pss_level level, int version, k8s_pss_fail_fn fail,
                 void *ud)
{
    if (level == MM_PSS_PRIVILEGED || !json_is_object(spec))
        return;
    int v = version <= 0 || version > MM_PSS_LATEST ? MM_PSS_LATEST : version;
    struct pss p = {meta, spec, meta_prefix, prefix, v, fail, ud, NULL};
    for (size_t i = 0; i < NCHECKS; i++) {
        if (checks[i].level > level || v < checks[i].since || overridden(checks[i].id, level, v))
            continue;
        p.check = checks[i].id;
        checks[i].run(&p);
    }
}

int mm_pss_level_parse(mm_pss_level *out, const char *s)
{
    if (s && !strcasecmp(s, "privileged"))
        *out = MM_PSS_PRIVILEGED;
    else if (s && !strcasecmp(s, "baseline"))
        *out = MM_PSS_BASELINE;
    else if (s && !strcasecmp(s, "restricted"))
        *out = MM_PSS_RESTRICTED;
    else
        return mm_error_set(MM_EINVAL, "unknown Pod Security level \"%s\" (privileged, "
                            "baseline or restricted)", s ? s : "");
    return 0;
}

int mm_pss_version_parse(int *minor, const char *s)
{
    if (!s || !strcmp(s, "latest") || !*s) {
        *minor = MM_PSS_LATEST;
        return 0;
    }
    const char *p = s;
    if (*p == 'v')
        p++;
    char *end;
    long major = strtol(p, &end, 10);
    if (end == p || *end != '.' || major != 1)
        return mm_error_set(MM_EINVAL, "Pod Security version \"%s\": expected latest or "
                            "v1.MINOR (e.g. v1.30)", s);
    p = end + 1;
    long mn = strtol(p, &end, 10);
    if (end == p || *end || mn < 0 || mn > 999)
        return mm_error_set(MM_EINVAL, "Pod Security version \"%s\": expected latest or "
                            "v1.MINOR (e.g. v1.30)", s);
    *minor = mn > MM_PSS_LATEST ? MM_PSS_LATEST : (int)mn;
    return 0;
}

struct eval_ctx {
    char **ids;
    size_t n;
};

static void collect(void *ud, const char *check, const char *field, const char *ev)
{
    struct eval_ctx *e = ud;
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->ids[i], check))
            return;
    mm_strv_push(&e->ids, &e->n, check);
}

static char *meta_prefix_of(const char *prefix)
{
    size_t l = strlen(prefix);
    if (l >= 4 && !strcmp(prefix + l - 4, "spec"))
        return mm_xasprintf("%.*smetadata", (int)(l - 4), prefix);
    return mm_xstrdup("metadata");
}

int mm_k8s_pss_evaluate(const mm_k8s_set *s, size_t i, mm_pss_level level, int version,
                        char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    const mm_k8s_object *o = mm_k8s_get(s, i);
    if (!o)
        return mm_error_set(MM_EINVAL, "k8s: no object %zu", i);
    const json_t *meta, *spec;
    const char *prefix;
    if (!mm_k8s_pod_template(o, &meta, &spec, &prefix))
        return mm_error_set(MM_ENOTFOUND, "%s: %s/%s has no pod template", o->source,
                            o->kind ? o->kind : "?", o->name ? o->name : "?");
    struct eval_ctx e = {NULL, 0};
    char *mp = meta_prefix_of(prefix);
    k8s_pss_run(meta, spec, mp, prefix, level, version, collect, &e);
    free(mp);
    *ids = e.ids;
    *n = e.n;
    return 0;
}
