/*
 * containers.c - `mamori host containers`: every container on the host,
 * whatever runs it, with what it may do to the host (SP 800-190 §3.5.4,
 * §3.5.5): image, user, privileged mode, effective capabilities, host
 * namespaces, read-only root, mounts (source, destination, mode,
 * propagation), disk use of the writable layer and of volumes, and
 * findings for mounted host paths.
 *
 * docker and podman answer with their inspect documents (engine.c; docker
 * with ?size=1 for the writable layer, podman with --size).  containerd and
 * CRI-O are read from their files, as the sensor's attribution does: each
 * running containerd task has its OCI bundle (config.json) under
 * /run/containerd/io.containerd.runtime.v2.task/NAMESPACE/ID, and CRI-O
 * (like podman) keeps the spec of each container in
 * /var/lib/containers/storage/overlay-containers/ID/userdata/config.json,
 * told apart by CRI-O's io.kubernetes.cri-o.* annotations.  Nothing talks
 * to their sockets.  A spec is untrusted input: capped at 16 MiB.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/hostinv.h"
#include "util/util.h"
#include "host_int.h"

#define MAX_SPEC (16u << 20)
#define DU_MAX_ENTRIES 2000000u

struct mm_containers {
    mm_host_ctr *v;
    size_t n, cap;
    char **notes;
    size_t nnotes;
    mm_findings *findings;
};

static mm_host_ctr *push(mm_containers *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 16;
        c->v = mm_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    mm_host_ctr *h = &c->v[c->n++];
    memset(h, 0, sizeof *h);
    h->rw_bytes = h->volume_bytes = -1;
    return h;
}

static void add_mount(mm_host_ctr *h, const char *type, const char *src, const char *dst, bool rw,
                      const char *prop)
{
    if (h->nmounts >= 4096)
        return;
    h->mounts = mm_xrealloc(h->mounts, (h->nmounts + 1) * sizeof *h->mounts);
    mm_ctr_mount *m = &h->mounts[h->nmounts++];
    m->type = mm_xstrdup(type ? type : "bind");
    m->source = mm_xstrdup(src);
    m->destination = mm_xstrdup(dst);
    m->rw = rw;
    m->propagation = mm_xstrdup(prop && *prop ? prop : NULL);
    m->bytes = -1;
}

/* Disk use of a tree (st_blocks), not following links nor crossing file
 * systems, bounded in entries. */
static int64_t du(const char *path, dev_t dev, size_t *budget)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return -1;
    int64_t total = (int64_t)st.st_blocks * 512;
    if (!S_ISDIR(st.st_mode) || st.st_dev != dev)
        return total;
    DIR *d = opendir(path);
    if (!d)
        return total;
    struct dirent *e;
    while ((e = readdir(d)) && *budget) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        (*budget)--;
        char *p = mm_xasprintf("%s/%s", path, e->d_name);
        int64_t s = du(p, dev, budget);
        if (s > 0)
            total += s;
        free(p);
    }
    closedir(d);
    return total;
}

static int64_t du_top(const char *path)
{
    struct stat st;
    if (!path || lstat(path, &st) != 0)
        return -1;
    size_t budget = DU_MAX_ENTRIES;
    return du(path, st.st_dev, &budget);
}

/* ---- docker / podman inspect documents ------------------------------------------------ */

static const char *const docker_default_caps[] = {
    "CAP_AUDIT_WRITE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_MKNOD", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP",
    "CAP_SETUID", "CAP_SYS_CHROOT", NULL,
};

static bool in_list(const json_t *a, const char *cap)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        if (!strcasecmp(s, "ALL"))
            return true;
        const char *x = !strncasecmp(s, "CAP_", 4) ? s + 4 : s;
        if (!strcasecmp(x, cap + 4))
            return true;
    }
    return false;
}

static void caps_from_inspect(mm_host_ctr *h, const json_t *j)
{
    const json_t *hc = json_object_get(j, "HostConfig");
    json_t *eff = json_object_get(j, "EffectiveCaps");   /* podman says it */
    if (json_is_array(eff)) {
        size_t i;
        json_t *v;
        json_array_foreach(eff, i, v)
            if (json_is_string(v))
                mm_strv_push(&h->caps, &h->ncaps, json_string_value(v));
        return;
    }
    if (h->privileged) {
        mm_strv_push(&h->caps, &h->ncaps, "ALL");
        return;
    }
    json_t *add = json_object_get(hc, "CapAdd"), *drop = json_object_get(hc, "CapDrop");
    for (size_t i = 0; docker_default_caps[i]; i++)
        if (!in_list(drop, docker_default_caps[i]))
            mm_strv_push(&h->caps, &h->ncaps, docker_default_caps[i]);
    size_t i;
    json_t *v;
    json_array_foreach(add, i, v) {
        const char *s = json_string_value(v);
        if (!s)
            continue;
        char *n = !strncasecmp(s, "CAP_", 4) ? mm_xstrdup(s) : mm_xasprintf("CAP_%s", s);
        for (char *q = n; *q; q++)
            *q = (char)toupper((unsigned char)*q);
        bool have = false;
        for (size_t k = 0; k < h->ncaps; k++)
            have |= !strcmp(h->caps[k], n);
        if (!have)
            mm_strv_push(&h->caps, &h->ncaps, n);
        free(n);
    }
}

static void from_inspect(mm_containers *c, const mm_hctr *ct, const mm_containers_opts *o)
{
    mm_host_ctr *h = push(c);
    const json_t *j = ct->j, *hc = json_object_get(j, "HostConfig"), *cfg = json_object_get(j, "Config");
    h->engine = mm_xstrdup(ct->engine);
    h->id = mm_xstrdup(ct->id);
    h->name = mm_xstrdup(ct->name);
    h->image = mm_xstrdup(ct->image);
    const char *st = mm_hj_str(json_object_get(j, "State"), "Status");
    h->state = mm_xstrdup(st ? st : ct->running ? "running" : "stopped");
    h->user = mm_xstrdup(mm_hj_str(cfg, "User") ? mm_hj_str(cfg, "User") : "");
    h->privileged = mm_hj_bool(hc, "Privileged");
    h->readonly_root = mm_hj_bool(hc, "ReadonlyRootfs");
    caps_from_inspect(h, j);
    mm_buf ns = MM_BUF_INIT;
    static const struct { const char *key, *name; } nsk[] = {
        {"PidMode", "pid"}, {"NetworkMode", "net"}, {"IpcMode", "ipc"}, {"UTSMode", "uts"},
        {"UsernsMode", "user"}};
    for (size_t i = 0; i < 5; i++) {
        const char *v = mm_hj_str(hc, nsk[i].key);
        if (v && !strcmp(v, "host"))
            mm_buf_printf(&ns, "%s%s", ns.len ? "," : "", nsk[i].name);
    }
    h->host_ns = mm_buf_detach(&ns);
    json_t *mounts = json_object_get(j, "Mounts");
    size_t i;
    json_t *m;
    json_array_foreach(mounts, i, m)
        add_mount(h, mm_hj_str(m, "Type"), mm_hj_str(m, "Source"), mm_hj_str(m, "Destination"),
                  mm_hj_bool(m, "RW"), mm_hj_str(m, "Propagation"));
    json_t *srw = json_object_get(j, "SizeRw");
    if (json_is_integer(srw))
        h->rw_bytes = json_integer_value(srw);
    else if (!o->no_disk) {
        const char *up = mm_hj_str(mm_hj_path(j, "GraphDriver.Data"), "UpperDir");
        h->rw_bytes = du_top(up);
    }
}

/* ---- OCI specs of containerd and CRI-O ------------------------------------------------------- */

static void from_spec(mm_containers *c, const char *engine, const char *id, const char *spec_path,
                      const char *state)
{
    char *d = NULL;
    size_t len = 0;
    if (mm_file_read(spec_path, MAX_SPEC, &d, &len) < 0) {
        mm_strv_push(&c->notes, &c->nnotes, mm_error_last());
        mm_error_clear();
        return;
    }
    json_error_t e;
    json_t *j = json_loadb(d, len, 0, &e);
    free(d);
    if (!json_is_object(j)) {
        char *n = mm_xasprintf("%s: line %d: %s", spec_path, e.line, j ? "not an OCI spec" : e.text);
        mm_strv_push(&c->notes, &c->nnotes, n);
        free(n);
        json_decref(j);
        return;
    }
    mm_host_ctr *h = push(c);
    const json_t *ann = json_object_get(j, "annotations");
    h->engine = mm_xstrdup(engine);
    h->id = mm_xstrdup(id);
    const char *name = mm_hj_str(ann, "io.kubernetes.cri.container-name");
    if (!name) name = mm_hj_str(ann, "io.kubernetes.container.name");
    if (!name) name = mm_hj_str(ann, "io.kubernetes.cri-o.ContainerName");
    h->name = mm_xstrdup(name ? name : id);
    const char *img = mm_hj_str(ann, "io.kubernetes.cri.image-name");
    if (!img) img = mm_hj_str(ann, "io.kubernetes.cri-o.ImageName");
    if (!img) img = mm_hj_str(ann, "org.opencontainers.image.ref.name");
    h->image = mm_xstrdup(img);
    h->state = mm_xstrdup(state);
    const json_t *proc = json_object_get(j, "process");
    const json_t *user = json_object_get(proc, "user");
    h->user = mm_xasprintf("%lld:%lld", (long long)mm_hj_int(user, "uid"), (long long)mm_hj_int(user, "gid"));
    h->readonly_root = mm_hj_bool(json_object_get(j, "root"), "readonly");
    json_t *eff = mm_hj_path(proc, "capabilities.effective");
    size_t i;
    json_t *v;
    json_array_foreach(eff, i, v)
        if (json_is_string(v))
            mm_strv_push(&h->caps, &h->ncaps, json_string_value(v));
    /* privileged: every capability and the host's devices (CRI sets both) */
    h->privileged = h->ncaps >= 38 || json_is_true(json_object_get(ann, "io.kubernetes.cri-o.Privileged"));
    mm_buf ns = MM_BUF_INIT;
    bool have[5] = {0};
    static const char *const nsn[5] = {"pid", "network", "ipc", "uts", "user"};
    static const char *const shortn[5] = {"pid", "net", "ipc", "uts", "user"};
    json_array_foreach(mm_hj_path(j, "linux.namespaces"), i, v) {
        const char *t = mm_hj_str(v, "type");
        const char *p = mm_hj_str(v, "path");
        for (int k = 0; t && k < 5; k++)
            if (!strcmp(t, nsn[k])) {
                /* joining the host's own namespace is sharing it */
                have[k] = !(p && !strncmp(p, "/proc/1/ns/", 11));
            }
    }
    for (int k = 0; k < 4; k++) /* user: absent is the norm */
        if (!have[k])
            mm_buf_printf(&ns, "%s%s", ns.len ? "," : "", shortn[k]);
    h->host_ns = mm_buf_detach(&ns);
    json_array_foreach(json_object_get(j, "mounts"), i, v) {
        const char *type = mm_hj_str(v, "type");
        bool rw = true, bind = type && !strcmp(type, "bind");
        const char *prop = NULL;
        size_t k;
        json_t *opt;
        json_array_foreach(json_object_get(v, "options"), k, opt) {
            const char *s = json_string_value(opt);
            if (!s)
                continue;
            if (!strcmp(s, "ro"))
                rw = false;
            else if (!strcmp(s, "rbind") || !strcmp(s, "bind"))
                bind = true;
            else if (strstr(s, "private") || strstr(s, "shared") || strstr(s, "slave"))
                prop = s;
        }
        const char *src = mm_hj_str(v, "source");
        /* the pseudo file systems every container gets are not host paths */
        if (!bind)
            continue;
        add_mount(h, "bind", src, mm_hj_str(v, "destination"), rw, prop);
    }
    json_decref(j);
}

static void containerd_tasks(mm_containers *c, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *ns;
    while ((ns = readdir(d))) {
        if (ns->d_name[0] == '.')
            continue;
        char *nsdir = mm_xasprintf("%s/%s", dir, ns->d_name);
        DIR *d2 = opendir(nsdir);
        if (d2) {
            struct dirent *t;
            while ((t = readdir(d2)) && c->n < 10000) {
                if (t->d_name[0] == '.')
                    continue;
                char *spec = mm_xasprintf("%s/%s/config.json", nsdir, t->d_name);
                if (access(spec, R_OK) == 0) {
                    /* moby's tasks are docker's: shown by docker already */
                    if (strcmp(ns->d_name, "moby"))
                        from_spec(c, "containerd", t->d_name, spec, "running");
                }
                free(spec);
            }
            closedir(d2);
        }
        free(nsdir);
    }
    closedir(d);
}

static void crio_containers(mm_containers *c, const char *storage, const char *root)
{
    char *dir = mm_xasprintf("%s/overlay-containers", storage);
    DIR *d = opendir(dir);
    if (!d) {
        free(dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) && c->n < 10000) {
        if (e->d_name[0] == '.')
            continue;
        char *spec = mm_xasprintf("%s/%s/userdata/config.json", dir, e->d_name);
        char *data = NULL;
        size_t len = 0;
        if (mm_file_read(spec, MAX_SPEC, &data, &len) == 0 && memmem(data, len, "io.kubernetes.cri-o.", 20)) {
            /* running when conmon's pidfile names a live process */
            char *pf = mm_xasprintf("%s/%s/userdata/pidfile", dir, e->d_name);
            char *pid = NULL;
            size_t pl = 0;
            const char *state = "created";
            if (mm_file_read(pf, 64, &pid, &pl) == 0) {
                char *proc = mm_xasprintf("%s/proc/%ld", root && strcmp(root, "/") ? root : "",
                                          strtol(pid, NULL, 10));
                state = access(proc, F_OK) == 0 ? "running" : "exited";
                free(proc);
            }
            mm_error_clear();
            free(pid);
            free(pf);
            from_spec(c, "cri-o", e->d_name, spec, state);
        }
        mm_error_clear();
        free(data);
        free(spec);
    }
    closedir(d);
    free(dir);
}

/* ---- findings on mounted host paths ----------------------------------------------------------- */

static const char *const sensitive[] = {"/", "/etc", "/boot", "/dev", "/proc", "/sys", "/usr", "/lib",
                                        "/root", "/var/run", "/run", "/var/lib/docker",
                                        "/var/lib/containerd", "/var/lib/kubelet",
                                        "/var/run/docker.sock", "/run/docker.sock",
                                        "/run/containerd/containerd.sock", "/var/run/crio/crio.sock",
                                        "/run/podman/podman.sock", NULL};

static void path_findings(mm_containers *c, const mm_host_ctr *h, const char *host)
{
    for (size_t i = 0; i < h->nmounts; i++) {
        const mm_ctr_mount *m = &h->mounts[i];
        if (!m->source || strcmp(m->type, "bind"))
            continue;
        struct stat st;
        mm_finding f = {0};
        f.kind = MM_FIND_COMPLIANCE;
        f.section = (char *)"3.5.5";
        f.loc.layer = -1;
        f.loc.host = (char *)host;
        f.loc.container = h->name;
        f.loc.path = m->source;
        char *title = NULL, *ev = NULL;
        for (size_t k = 0; sensitive[k] && m->rw; k++) {
            if (strcmp(m->source, sensitive[k]))
                continue;
            f.id = (char *)"MM-HOST-MOUNT-001";
            f.severity = MM_SEV_HIGH;
            title = mm_xasprintf("host %s mounted read-write into %s %s", m->source, h->engine, h->name);
            ev = mm_xasprintf("%s -> %s (rw%s%s)", m->source, m->destination ? m->destination : "?",
                              m->propagation ? ", " : "", m->propagation ? m->propagation : "");
            f.remediation = (char *)"mount only the files the workload needs, read-only (:ro)";
        }
        if (!title && stat(m->source, &st) == 0 && (st.st_mode & S_IWOTH) &&
            !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX))) {
            f.id = (char *)"MM-HOST-MOUNT-002";
            f.severity = MM_SEV_MEDIUM;
            title = mm_xasprintf("world-writable host %s %s mounted into %s %s",
                                 S_ISDIR(st.st_mode) ? "folder" : "file", m->source, h->engine, h->name);
            ev = mm_xasprintf("%s mode %04o uid %u: any local user can change what the container reads%s",
                              m->source, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid,
                              m->rw ? " and the container can plant files for host users" : "");
            f.remediation = (char *)"chmod o-w the host path (or mount a private copy)";
        }
        if (!title && m->rw && stat(m->source, &st) == 0 && st.st_uid != 0 &&
            (!strcmp(h->user, "") || !strcmp(h->user, "root") || !strncmp(h->user, "0", 1)) &&
            S_ISDIR(st.st_mode)) {
            f.id = (char *)"MM-HOST-MOUNT-003";
            f.severity = MM_SEV_LOW;
            title = mm_xasprintf("root in %s %s writes into %s owned by uid %u", h->engine, h->name,
                                 m->source, (unsigned)st.st_uid);
            ev = mm_xasprintf("%s -> %s (rw); the container runs as root and can create setuid or "
                              "root-owned files the host user %u cannot remove", m->source,
                              m->destination ? m->destination : "?", (unsigned)st.st_uid);
            f.remediation = (char *)"run the container as the folder's owner (--user UID) or mount it read-only";
        }
        if (title) {
            f.title = title;
            f.evidence = ev;
            mm_findings_add(c->findings, &f);
        }
        free(title);
        free(ev);
    }
}

int mm_host_containers(mm_containers **out, const mm_containers_opts *o)
{
    mm_containers_opts def = {0};
    if (!o)
        o = &def;
    mm_containers *c = mm_xcalloc(1, sizeof *c);
    mm_findings_new(&c->findings);
    mm_hctrs all = {0};
    if (!o->no_docker) {
        const char *dh = o->docker_host ? o->docker_host : getenv("DOCKER_HOST");
        char *sock = mm_docker_sock_path(dh);
        if (sock && !dh && o->root && strcmp(o->root, "/")) {
            char *p = mm_host_path(o->root, sock);
            free(sock);
            sock = p;
        }
        if (sock && access(sock, F_OK) == 0) {
            if (mm_docker_containers(&all, sock, true) < 0) {
                char *n = mm_xasprintf("docker: %s", mm_error_last());
                mm_strv_push(&c->notes, &c->nnotes, n);
                free(n);
                mm_error_clear();
            }
            /* the writable layer's size, as `docker ps -s` */
            for (size_t i = 0; i < all.n && !o->no_disk; i++) {
                char *p = mm_xasprintf("/containers/%s/json?size=1", all.v[i].id);
                json_t *doc = NULL;
                if (mm_docker_api_get(sock, p, &doc) == 0 && json_is_object(doc)) {
                    json_decref(all.v[i].j);
                    all.v[i].j = doc;
                } else {
                    json_decref(doc);
                }
                mm_error_clear();
                free(p);
            }
        }
        free(sock);
    }
    if (!o->no_podman) {
        char *pm = o->podman ? mm_xstrdup(o->podman) : mm_host_which("podman");
        if (pm && mm_podman_containers(&all, pm, o->podman_root, o->podman_runroot, true) < 0) {
            char *n = mm_xasprintf("podman: %s", mm_error_last());
            mm_strv_push(&c->notes, &c->nnotes, n);
            free(n);
            mm_error_clear();
        }
        free(pm);
    }
    for (size_t i = 0; i < all.n; i++)
        from_inspect(c, &all.v[i], o);
    mm_hctrs_free(&all);
    char *cd = o->containerd_state ? mm_xstrdup(o->containerd_state)
                                   : mm_host_path(o->root, "/run/containerd/io.containerd.runtime.v2.task");
    containerd_tasks(c, cd);
    free(cd);
    char *cs = o->crio_root ? mm_xstrdup(o->crio_root) : mm_host_path(o->root, "/var/lib/containers/storage");
    crio_containers(c, cs, o->root);
    free(cs);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    for (size_t i = 0; i < c->n; i++) {
        mm_host_ctr *h = &c->v[i];
        if (!o->no_disk) {
            int64_t vol = 0;
            bool any = false;
            for (size_t k = 0; k < h->nmounts; k++) {
                if (strcmp(h->mounts[k].type, "volume"))
                    continue;
                h->mounts[k].bytes = du_top(h->mounts[k].source);
                if (h->mounts[k].bytes >= 0) {
                    vol += h->mounts[k].bytes;
                    any = true;
                }
            }
            h->volume_bytes = any ? vol : 0;
        }
        path_findings(c, h, host);
    }
    *out = c;
    return 0;
}

size_t mm_containers_count(const mm_containers *c) { return c ? c->n : 0; }
const mm_host_ctr *mm_containers_get(const mm_containers *c, size_t i)
{
    return c && i < c->n ? &c->v[i] : NULL;
}
size_t mm_containers_note_count(const mm_containers *c) { return c ? c->nnotes : 0; }
const char *mm_containers_note(const mm_containers *c, size_t i)
{
    return c && i < c->nnotes ? c->notes[i] : NULL;
}
const mm_findings *mm_containers_findings(const mm_containers *c) { return c->findings; }

void mm_containers_free(mm_containers *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        mm_host_ctr *h = &c->v[i];
        free(h->engine); free(h->id); free(h->name); free(h->image); free(h->state);
        free(h->user); free(h->host_ns);
        mm_strv_free(h->caps, h->ncaps);
        for (size_t k = 0; k < h->nmounts; k++) {
            free(h->mounts[k].type); free(h->mounts[k].source);
            free(h->mounts[k].destination); free(h->mounts[k].propagation);
        }
        free(h->mounts);
    }
    free(c->v);
    mm_strv_free(c->notes, c->nnotes);
    mm_findings_free(c->findings);
    free(c);
}

static json_t *js(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static json_t *jsize(int64_t b)
{
    return b >= 0 ? json_integer(b) : json_null();
}

int mm_containers_write(FILE *f, const mm_containers *c, bool json)
{
    if (json) {
        json_t *root = json_object(), *arr = json_array(), *fa = json_array(), *na = json_array();
        for (size_t i = 0; i < c->n; i++) {
            const mm_host_ctr *h = &c->v[i];
            json_t *o = json_object(), *caps = json_array(), *ms = json_array();
            json_object_set_new(o, "engine", js(h->engine));
            json_object_set_new(o, "id", js(h->id));
            json_object_set_new(o, "name", js(h->name));
            json_object_set_new(o, "image", js(h->image));
            json_object_set_new(o, "state", js(h->state));
            json_object_set_new(o, "user", js(h->user));
            json_object_set_new(o, "privileged", json_boolean(h->privileged));
            json_object_set_new(o, "readonly_root", json_boolean(h->readonly_root));
            for (size_t k = 0; k < h->ncaps; k++)
                json_array_append_new(caps, json_string(h->caps[k]));
            json_object_set_new(o, "capabilities", caps);
            json_object_set_new(o, "host_namespaces", js(h->host_ns));
            for (size_t k = 0; k < h->nmounts; k++) {
                const mm_ctr_mount *m = &h->mounts[k];
                json_t *mo = json_object();
                json_object_set_new(mo, "type", js(m->type));
                json_object_set_new(mo, "source", js(m->source));
                json_object_set_new(mo, "destination", js(m->destination));
                json_object_set_new(mo, "mode", json_string(m->rw ? "rw" : "ro"));
                json_object_set_new(mo, "propagation", js(m->propagation));
                json_object_set_new(mo, "bytes", jsize(m->bytes));
                json_array_append_new(ms, mo);
            }
            json_object_set_new(o, "mounts", ms);
            json_object_set_new(o, "writable_layer_bytes", jsize(h->rw_bytes));
            json_object_set_new(o, "volume_bytes", jsize(h->volume_bytes));
            json_array_append_new(arr, o);
        }
        for (size_t i = 0; i < mm_findings_count(c->findings); i++) {
            const mm_finding *x = mm_findings_get(c->findings, i);
            json_t *o = json_object();
            json_object_set_new(o, "id", js(x->id));
            json_object_set_new(o, "kind", js(mm_finding_kind_name(x->kind)));
            json_object_set_new(o, "severity", js(mm_severity_name(x->severity)));
            json_object_set_new(o, "section", js(x->section));
            json_object_set_new(o, "title", js(x->title));
            json_object_set_new(o, "evidence", js(x->evidence));
            json_object_set_new(o, "remediation", js(x->remediation));
            json_object_set_new(o, "container", js(x->loc.container));
            json_object_set_new(o, "path", js(x->loc.path));
            json_object_set_new(o, "host", js(x->loc.host));
            json_array_append_new(fa, o);
        }
        for (size_t i = 0; i < c->nnotes; i++)
            json_array_append_new(na, json_string(c->notes[i]));
        json_object_set_new(root, "section", json_string("3.5.4"));
        json_object_set_new(root, "containers", arr);
        json_object_set_new(root, "findings", fa);
        json_object_set_new(root, "notes", na);
        int rc = json_dumpf(root, f, JSON_INDENT(2));
        fputc('\n', f);
        json_decref(root);
        return rc ? mm_error_set(MM_EIO, "write failed") : 0;
    }
    fprintf(f, "%-10s %-12s %-16s %-24s %-8s %-6s %-4s %-12s %-10s %s\n", "ENGINE", "ID", "NAME", "IMAGE",
            "STATE", "USER", "PRIV", "HOST NS", "RW LAYER", "CAPS");
    for (size_t i = 0; i < c->n; i++) {
        const mm_host_ctr *h = &c->v[i];
        char *name = mm_str_printable(h->name), *img = mm_str_printable(h->image ? h->image : "-");
        char rw[32];
        if (h->rw_bytes >= 0)
            snprintf(rw, sizeof rw, "%lld", (long long)h->rw_bytes);
        else
            snprintf(rw, sizeof rw, "-");
        fprintf(f, "%-10s %-12.12s %-16s %-24s %-8s %-6s %-4s %-12s %-10s %zu\n", h->engine, h->id, name, img,
                h->state ? h->state : "-", h->user && *h->user ? h->user : "(img)", h->privileged ? "yes" : "no",
                h->host_ns && *h->host_ns ? h->host_ns : "-", rw, h->ncaps);
        for (size_t k = 0; k < h->nmounts; k++) {
            const mm_ctr_mount *m = &h->mounts[k];
            char *src = mm_str_printable(m->source ? m->source : "-");
            char *dst = mm_str_printable(m->destination ? m->destination : "-");
            fprintf(f, "    %-7s %s -> %s (%s%s%s)\n", m->type, src, dst, m->rw ? "rw" : "ro",
                    m->propagation ? ", " : "", m->propagation ? m->propagation : "");
            free(src);
            free(dst);
        }
        free(name);
        free(img);
    }
    for (size_t i = 0; i < mm_findings_count(c->findings); i++) {
        const mm_finding *x = mm_findings_get(c->findings, i);
        char *t = mm_str_printable(x->title);
        fprintf(f, "%s %-8s %s (%s)\n", x->id, mm_severity_name(x->severity), t, x->section);
        free(t);
    }
    for (size_t i = 0; i < c->nnotes; i++) {
        char *n = mm_str_printable(c->notes[i]);
        fprintf(f, "note: %s\n", n);
        free(n);
    }
    return ferror(f) ? mm_error_set(MM_EIO, "write failed") : 0;
}
