/*
 * runtime_sw.c - the container runtime software of a host and its
 * vulnerabilities (SP 800-190 §3.4.1: "vulnerabilities within the runtime
 * software ... like the runc escape CVE-2019-5736").
 *
 * Each known component (runc, crun, containerd, dockerd, podman, CRI-O,
 * kubelet) is looked for at the places packages and release tarballs put
 * it, plus any binary the caller names; the kernel by its release.  A file
 * owned by a dpkg package is that package: it is matched through the
 * distribution's own feed by source package and version, so Debian's runc
 * 1.1.5+ds1-1+deb12u1, patched for CVE-2024-21626, is not reported for it.
 * A stand-alone binary is identified by its Go build information: the main
 * module and version (or the version its build stamped in with -ldflags
 * when built from a source tree), its dependencies and the Go standard
 * library, matched in the Go ecosystem.  The kernel is the package owning
 * /boot/vmlinuz-RELEASE (Debian's source package "linux").  Nothing is
 * executed unless asked (run_version): release binaries built with
 * -trimpath from a source tree, and pre-1.18 Go binaries, carry no version
 * a reader can find, and `BIN --version` is then the only witness; it runs
 * with a 2-minute limit, no shell and no input, for the root "/" only.
 *
 * A version found so maps to the component's Go module (runc ->
 * github.com/opencontainers/runc, dockerd -> github.com/docker/docker with
 * "+incompatible", podman -> github.com/containers/podman/vN, ...), which is
 * where the Go vulnerability database lists runtime advisories.
 *
 * Matching goes through the public vulnerability API (mm_vuln_match) on a
 * scratch result; the findings are copied with section 3.4.1 and the host
 * as their location.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mamori/hostinv.h"
#include "mamori/pkgroot.h"
#include "util/util.h"
#include "host_int.h"

struct mm_runtime_inv {
    mm_runtime_sw *v;
    size_t n, cap;
    char **notes;
    size_t nnotes;
    mm_os_info os;
    mm_inventory *pkgs;      /* what identifies the software, for matching */
};

static const struct comp {
    const char *name;
    const char *paths[6];
} comps[] = {
    {"runc", {"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc", NULL}},
    {"crun", {"/usr/bin/crun", "/usr/local/bin/crun", NULL}},
    {"containerd", {"/usr/bin/containerd", "/usr/local/bin/containerd", "/usr/sbin/containerd", NULL}},
    {"dockerd", {"/usr/sbin/dockerd", "/usr/bin/dockerd", "/usr/local/bin/dockerd", NULL}},
    {"podman", {"/usr/bin/podman", "/usr/local/bin/podman", NULL}},
    {"cri-o", {"/usr/bin/crio", "/usr/local/bin/crio", "/usr/sbin/crio", NULL}},
    {"kubelet", {"/usr/bin/kubelet", "/usr/local/bin/kubelet", NULL}},
};

/* The Go module a component's advisories are filed under. */
static char *module_of(const char *comp, const char *ver)
{
    if (!strcmp(comp, "runc")) return mm_xstrdup("github.com/opencontainers/runc");
    if (!strcmp(comp, "containerd")) return mm_xstrdup("github.com/containerd/containerd");
    if (!strcmp(comp, "dockerd")) return mm_xstrdup("github.com/docker/docker");
    if (!strcmp(comp, "cri-o")) return mm_xstrdup("github.com/cri-o/cri-o");
    if (!strcmp(comp, "kubelet")) return mm_xstrdup("k8s.io/kubernetes");
    if (!strcmp(comp, "podman")) {
        int major = atoi(ver[0] == 'v' ? ver + 1 : ver);
        return major >= 2 ? mm_xasprintf("github.com/containers/podman/v%d", major)
                          : mm_xstrdup("github.com/containers/libpod");
    }
    return NULL;
}

/* The first word of `--version` output that looks like a version:
 * "runc version 1.1.11", "Docker version 20.10.24, build", "Kubernetes v1.28.2". */
static char *version_word(const char *out)
{
    for (const char *p = out; *p; p++) {
        if ((p != out && p[-1] != ' ' && p[-1] != '\t' && p[-1] != '\n') )
            continue;
        const char *q = *p == 'v' ? p + 1 : p;
        if (*q < '0' || *q > '9')
            continue;
        size_t n = strspn(q, "0123456789.-+~abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
        while (n && (q[n - 1] == '.' || q[n - 1] == '-'))
            n--;
        if (n && memchr(q, '.', n) && n < 64)
            return mm_xstrndup(q, n);
    }
    return NULL;
}

static void add_module(mm_runtime_inv *inv, const char *comp, const char *path, const char *ver)
{
    char *mod = module_of(comp, ver);
    if (!mod)
        return;
    mm_package p = {0};
    p.type = MM_PKG_GOMOD;
    p.name = mod;
    char *v = mm_xasprintf("v%s%s", ver[0] == 'v' ? ver + 1 : ver,
                           !strcmp(comp, "dockerd") && !strchr(ver, '+') ? "+incompatible" : "");
    /* Debian-style suffixes ("20.10.24+dfsg1") are not upstream versions */
    char *plus = !strcmp(comp, "dockerd") ? strchr(v, '+') : NULL;
    if (plus && strcmp(plus, "+incompatible")) {
        *plus = 0;
        char *w = mm_xasprintf("%s+incompatible", v);
        free(v);
        v = w;
    }
    p.version = v;
    p.epoch = -1;
    p.layer = -1;
    p.path = (char *)path;
    mm_inventory_add(inv->pkgs, &p, NULL);
    free(v);
    free(mod);
}

static mm_runtime_sw *push(mm_runtime_inv *inv)
{
    if (inv->n == inv->cap) {
        inv->cap = inv->cap ? inv->cap * 2 : 16;
        inv->v = mm_xrealloc(inv->v, inv->cap * sizeof *inv->v);
    }
    mm_runtime_sw *s = &inv->v[inv->n++];
    memset(s, 0, sizeof *s);
    return s;
}

static void note(mm_runtime_inv *inv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(mm_runtime_inv *inv, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&inv->notes, &inv->nnotes, 0, fmt, ap);
    va_end(ap);
}

/* One binary: package-owned or stand-alone. */
static void identify(mm_runtime_inv *inv, const char *root, const char *name, const char *path,
                     const mm_package *owner, bool run_version)
{
    mm_runtime_sw *s = push(inv);
    s->component = mm_xstrdup(name);
    s->path = mm_xstrdup(path);
    if (owner && owner->type == MM_PKG_DPKG) {
        s->package = mm_xasprintf("%s %s", owner->name, owner->version);
        s->version = mm_xstrdup(owner->version);
        s->how = mm_xasprintf("dpkg %s %s%s%s", owner->name, owner->version,
                              owner->src_name ? ", source " : "", owner->src_name ? owner->src_name : "");
        mm_package p = *owner;
        p.path = (char *)"/var/lib/dpkg/status";
        p.files = NULL;
        p.nfiles = 0;
        mm_inventory_add(inv->pkgs, &p, NULL);
        return;
    }
    char *full = mm_host_path(root, path);
    char *gov = NULL, *mp = NULL, *mv = NULL, *lv = NULL;
    int g = mm_pkgroot_gobin(inv->pkgs, full, path, &gov, &mp, &mv, &lv);
    free(full);
    if (g < 0) {
        note(inv, "%s at %s: %s", name, path, mm_error_last());
        mm_error_clear();
        s->how = mm_xstrdup("unreadable");
    } else if (g == 0) {
        s->how = mm_xstrdup("unknown");
        note(inv, "%s at %s: not owned by a package and no Go build info: its version is unknown "
                  "and it was not checked", name, path);
    } else {
        s->go_version = gov;
        gov = NULL;
        if (mv) {
            s->version = mm_xstrdup(mv);
            s->how = mm_xasprintf("Go build info: %s %s", mp, mv);
        } else if (lv) {
            s->version = mm_xstrdup(lv);
            s->how = mm_xasprintf("Go build info: %s built from source, -ldflags version %s",
                                  mp ? mp : "main", lv);
        } else {
            s->how = mm_xasprintf("Go build info: %s (devel), no version", mp ? mp : "no main module");
            note(inv, "%s at %s: built from a source tree without a version: only its Go "
                      "dependencies and standard library were checked", name, path);
        }
    }
    free(gov);
    free(mp);
    free(mv);
    free(lv);
    if (!s->version && run_version && (!root || !strcmp(root, "/"))) {
        const char *argv[] = {path, "--version", NULL};
        char *out = NULL, *err = NULL;
        int st = mm_host_run(argv, 1u << 16, &out, NULL, &err);
        char *v = st == 0 && out ? version_word(out) : NULL;
        if (v) {
            s->version = v;
            free(s->how);
            s->how = mm_xasprintf("%s --version: %s", path, v);
            add_module(inv, name, path, v);
        } else {
            note(inv, "%s --version gave no version (exit %d)", path, st);
        }
        mm_error_clear();
        free(out);
        free(err);
    }
}

int mm_host_runtime(mm_runtime_inv **out, const mm_runtime_opts *o)
{
    mm_runtime_opts def = {0};
    if (!o)
        o = &def;
    const char *root = o->root;
    mm_runtime_inv *inv = mm_xcalloc(1, sizeof *inv);
    mm_inventory_new(&inv->pkgs);
    mm_pkgroot_os(&inv->os, root);

    /* what to look at: the components found, then the named binaries */
    char **names = NULL, **paths = NULL;
    size_t n = 0, np = 0;
    for (size_t i = 0; i < sizeof comps / sizeof comps[0]; i++) {
        dev_t seen_dev[8];
        ino_t seen_ino[8];
        size_t nseen = 0;
        for (size_t k = 0; comps[i].paths[k]; k++) {
            char *full = mm_host_path(root, comps[i].paths[k]);
            struct stat st;
            bool is = stat(full, &st) == 0 && S_ISREG(st.st_mode);
            free(full);
            /* one file under two names (a link, /usr/sbin and /usr/bin) once */
            for (size_t q = 0; is && q < nseen; q++)
                if (seen_dev[q] == st.st_dev && seen_ino[q] == st.st_ino)
                    is = false;
            if (!is)
                continue;
            if (nseen < 8) {
                seen_dev[nseen] = st.st_dev;
                seen_ino[nseen++] = st.st_ino;
            }
            mm_strv_push(&names, &n, comps[i].name);
            mm_strv_push(&paths, &np, comps[i].paths[k]);
        }
    }
    for (size_t i = 0; i < o->nbinaries; i++) {
        const char *eq = strchr(o->binaries[i], '=');
        if (!eq || eq == o->binaries[i] || eq[1] != '/') {
            mm_strv_free(names, n);
            mm_strv_free(paths, np);
            mm_runtime_inv_free(inv);
            return mm_error_set(MM_EINVAL, "--binary %s: want NAME=/PATH", o->binaries[i]);
        }
        char *nm = mm_xstrndup(o->binaries[i], (size_t)(eq - o->binaries[i]));
        mm_strv_push(&names, &n, nm);
        mm_strv_push(&paths, &np, eq + 1);
        free(nm);
    }
    /* the kernel: its release and the package of its image */
    char *rel = o->kernel_release ? mm_xstrdup(o->kernel_release) : NULL;
    if (!rel && (!root || !strcmp(root, "/"))) {
        rel = mm_file_read_proc("/proc/sys/kernel/osrelease", 256, NULL);
        if (rel)
            mm_str_trim(rel);
    }
    char *kimg = rel ? mm_xasprintf("/boot/vmlinuz-%s", mm_str_trim(rel)) : NULL;
    const char **all = mm_xcalloc(n + 1, sizeof *all);
    for (size_t i = 0; i < n; i++)
        all[i] = paths[i];
    if (kimg)
        all[n] = kimg;
    mm_package *owners = mm_xcalloc(n + 1, sizeof *owners);
    int rc = mm_pkgroot_owners(owners, root, all, n + (kimg ? 1 : 0));
    if (rc < 0) {
        note(inv, "the dpkg database: %s", mm_error_last());
        mm_error_clear();
    }
    for (size_t i = 0; i < n; i++)
        identify(inv, root, names[i], paths[i], &owners[i], o->run_version);
    if (rel) {
        mm_runtime_sw *s = push(inv);
        s->component = mm_xstrdup("kernel");
        s->path = mm_xstrdup(kimg);
        s->version = mm_xstrdup(mm_str_trim(rel));
        if (owners[n].type == MM_PKG_DPKG) {
            s->package = mm_xasprintf("%s %s", owners[n].name, owners[n].version);
            s->how = mm_xasprintf("dpkg %s %s, source %s %s", owners[n].name, owners[n].version,
                                  owners[n].src_name ? owners[n].src_name : owners[n].name,
                                  owners[n].src_version ? owners[n].src_version : owners[n].version);
            mm_package p = owners[n];
            p.path = (char *)"/var/lib/dpkg/status";
            p.files = NULL;
            p.nfiles = 0;
            mm_inventory_add(inv->pkgs, &p, NULL);
        } else {
            s->how = mm_xasprintf("release %s (no package owns %s)", s->version, kimg);
            note(inv, "kernel %s: no package owns %s; the running kernel (a container's or a VM's host "
                      "kernel?) was not checked", s->version, kimg);
        }
    }
    for (size_t i = 0; i <= n; i++)
        mm_package_clear(&owners[i]);
    free(owners);
    free(all);
    free(kimg);
    free(rel);
    mm_strv_free(names, n);
    mm_strv_free(paths, np);
    if (!inv->n)
        note(inv, "no container runtime software found below %s", root ? root : "/");
    *out = inv;
    return 0;
}

size_t mm_runtime_inv_count(const mm_runtime_inv *inv) { return inv ? inv->n : 0; }
const mm_runtime_sw *mm_runtime_inv_get(const mm_runtime_inv *inv, size_t i)
{
    return inv && i < inv->n ? &inv->v[i] : NULL;
}
size_t mm_runtime_inv_note_count(const mm_runtime_inv *inv) { return inv ? inv->nnotes : 0; }
const char *mm_runtime_inv_note(const mm_runtime_inv *inv, size_t i)
{
    return inv && i < inv->nnotes ? inv->notes[i] : NULL;
}

void mm_runtime_inv_free(mm_runtime_inv *inv)
{
    if (!inv)
        return;
    for (size_t i = 0; i < inv->n; i++) {
        mm_runtime_sw *s = &inv->v[i];
        free(s->component); free(s->path); free(s->version); free(s->how);
        free(s->package); free(s->go_version);
    }
    free(inv->v);
    mm_strv_free(inv->notes, inv->nnotes);
    free(inv->os.family); free(inv->os.version); free(inv->os.codename); free(inv->os.name);
    mm_inventory_free(inv->pkgs);
    free(inv);
}

static void fill(mm_result *r, const mm_runtime_inv *inv)
{
    mm_result_set_os(r, inv->os.family, inv->os.version, inv->os.codename, inv->os.name);
    mm_inventory *dst = mm_result_inventory(r);
    for (size_t i = 0; i < mm_inventory_count(inv->pkgs); i++)
        mm_inventory_add(dst, mm_inventory_get(inv->pkgs, i), NULL);
}

int mm_runtime_result(mm_result **out, const mm_runtime_inv *inv, mm_vulndb *db,
                      const mm_vuln_opts *vo, const char *host)
{
    char *target = mm_xasprintf("host:%s", host ? host : "localhost");
    int rc = mm_result_new(out, MM_TARGET_ROOTFS, target);
    free(target);
    if (rc < 0)
        return rc;
    fill(*out, inv);
    for (size_t i = 0; i < inv->nnotes; i++)
        mm_result_warn(*out, "%s", inv->notes[i]);
    if (!db)
        return 0;
    mm_result *scratch;
    if ((rc = mm_result_new(&scratch, MM_TARGET_ROOTFS, "runtime")) < 0)
        return rc;
    fill(scratch, inv);
    rc = mm_vuln_match(db, scratch, vo);
    if (rc == 0) {
        mm_result_add_scanners(*out, MM_SCANNER_VULN);
        mm_findings *dst = mm_result_findings(*out);
        const mm_findings *src = mm_result_findings(scratch);
        for (size_t i = 0; i < mm_findings_count(src) && rc == 0; i++) {
            mm_finding f = *mm_findings_get(src, i);
            f.section = (char *)"3.4.1";
            f.loc.host = (char *)host;
            f.loc.image = NULL;
            /* the component the package stands for */
            for (size_t k = 0; k < inv->n; k++) {
                const mm_runtime_sw *s = &inv->v[k];
                if (f.loc.path && s->path && (!strcmp(f.loc.path, s->path)) &&
                    strcmp(f.loc.path, "/var/lib/dpkg/status")) {
                    f.loc.process = s->component;
                    break;
                }
            }
            rc = mm_findings_add(dst, &f);
        }
        for (size_t i = 0; i < mm_result_warning_count(scratch); i++)
            mm_result_warn(*out, "%s", mm_result_warning(scratch, i));
    }
    mm_result_free(scratch);
    return rc;
}

int mm_runtime_inv_write(FILE *f, const mm_runtime_inv *inv, bool json)
{
    if (json) {
        json_t *a = json_array();
        for (size_t i = 0; i < inv->n; i++) {
            const mm_runtime_sw *s = &inv->v[i];
            json_t *o = json_object();
            json_object_set_new(o, "component", json_string(s->component));
            json_object_set_new(o, "path", s->path ? json_string(s->path) : json_null());
            json_object_set_new(o, "version", s->version ? json_string(s->version) : json_null());
            json_object_set_new(o, "package", s->package ? json_string(s->package) : json_null());
            json_object_set_new(o, "go_version", s->go_version ? json_string(s->go_version) : json_null());
            json_object_set_new(o, "identified_by", s->how ? json_string(s->how) : json_null());
            json_array_append_new(a, o);
        }
        json_t *root = json_object();
        json_object_set_new(root, "section", json_string("3.4.1"));
        json_object_set_new(root, "runtime", a);
        int rc = json_dumpf(root, f, JSON_INDENT(2));
        fputc('\n', f);
        json_decref(root);
        return rc ? mm_error_set(MM_EIO, "write failed") : 0;
    }
    fprintf(f, "%-11s %-28s %-26s %s\n", "COMPONENT", "PATH", "VERSION", "IDENTIFIED BY");
    for (size_t i = 0; i < inv->n; i++) {
        const mm_runtime_sw *s = &inv->v[i];
        fprintf(f, "%-11s %-28s %-26s %s\n", s->component, s->path ? s->path : "-",
                s->version ? s->version : "unknown", s->how ? s->how : "");
    }
    return ferror(f) ? mm_error_set(MM_EIO, "write failed") : 0;
}
