/*
 * container.c - container attribution: cgroup path -> container id and
 * runtime -> metadata (name, image, Kubernetes pod and namespace).
 *
 * The cgroup path is the one thing every runtime leaves on a process, so the
 * id comes from its naming schemes.  Metadata is best effort and read from
 * files the runtimes keep on the host (docs/sensor.md):
 *  - docker:  /var/lib/docker/containers/ID/config.v2.json (Name,
 *             Config.Image, Config.Labels io.kubernetes.*, Created) and
 *             hostconfig.json (Privileged);
 *  - containerd/CRI: the OCI bundle config.json below
 *             /run/containerd/io.containerd.runtime.v2.task/NAMESPACE/ID/
 *             (annotations io.kubernetes.cri.*);
 *  - CRI-O / podman: /var/lib/containers/storage/overlay-containers/ID/
 *             userdata/config.json (annotations io.kubernetes.*, io.podman.*).
 * With a live process of the container at hand (mm_container_cache_get_pid)
 * its mount table gives container.mounts and leads to the runtime's files
 * wherever the runtime keeps them (docker --data-root, podman --root), and
 * podman's /run/.containerenv gives name and image.
 * Every file is size-capped and parsed with jansson; a missing or hostile
 * file only leaves fields unknown.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <jansson.h>

#include "mamori/sensor.h"
#include "sensor_int.h"

#define META_MAX (4u << 20)

static bool hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

bool mm_cgroup_container_id(const char *path, char id[65], const char **runtime)
{
    static const struct { const char *prefix; const char *rt; } schemes[] = {
        { "docker-", "docker" },
        { "cri-containerd-", "containerd" },
        { "crio-", "cri-o" },
        { "libpod-", "podman" },
        { "containerd-", "containerd" },
    };
    if (!path)
        return false;
    /* the innermost component that names a container wins */
    const char *best = NULL, *best_rt = NULL;
    const char *p = path;
    while (*p) {
        while (*p == '/')
            p++;
        const char *e = strchr(p, '/');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
            size_t pl = strlen(schemes[i].prefix);
            if (len >= pl + 64 && strncmp(p, schemes[i].prefix, pl) == 0 &&
                hex64(p + pl) &&
                (len == pl + 64 || strncmp(p + pl + 64, ".scope", 6) == 0)) {
                best = p + pl;
                best_rt = schemes[i].rt;
                break;
            }
        }
        /* cgroupfs driver: /docker/ID, /kubepods/.../ID, /libpod_parent/... */
        if (len == 64 && hex64(p)) {
            best = p;
            best_rt = strstr(path, "/docker/") ? "docker"
                    : strstr(path, "kubepods") ? "containerd" : "docker";
        }
        if (!e)
            break;
        p = e;
    }
    if (!best)
        return false;
    memcpy(id, best, 64);
    id[64] = 0;
    if (runtime)
        *runtime = best_rt;
    return true;
}

/* ---- metadata --------------------------------------------------------------- */

struct mm_container_cache {
    char *root;
    mm_map *by_id;       /* full id -> mm_container* (one reference) */
    mm_container *host;
};

mm_container_cache *mm_container_cache_new(const char *root)
{
    mm_container_cache *c = mm_xcalloc(1, sizeof *c);
    c->root = mm_xstrdup(root && *root ? root : "/");
    c->by_id = mm_map_new();
    mm_container_new(&c->host, "host");
    mm_proc_set(&c->host->name, "host");
    mm_proc_set(&c->host->type, "host");
    return c;
}

static void unref_cb(void *v) { mm_container_unref(v); }

void mm_container_cache_free(mm_container_cache *c)
{
    if (!c)
        return;
    mm_map_free(c->by_id, unref_cb);
    mm_container_unref(c->host);
    free(c->root);
    free(c);
}

/* The JSON document of the file rel under the root (capped), or NULL. */
static json_t *load_json_any(const mm_container_cache *c, const char *rel)
{
    char *path = mm_xasprintf("%s/%s", c->root, rel);
    char *data = NULL;
    size_t len = 0;
    json_t *j = NULL;
    if (mm_file_read(path, META_MAX, &data, &len) == 0)
        j = json_loadb(data, len, 0, NULL);
    free(data);
    free(path);
    return j;
}

/* The same when it is an object; NULL otherwise. */
static json_t *load_json(const mm_container_cache *c, const char *rel)
{
    json_t *j = load_json_any(c, rel);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void set_image(mm_container *ct, const char *image)
{
    if (!image || !*image)
        return;
    mm_proc_set(&ct->image, image);
    /* repository[:tag][@digest]; the tag colon comes after the last '/' */
    const char *at = strchr(image, '@');
    size_t end = at ? (size_t)(at - image) : strlen(image);
    const char *slash = memrchr(image, '/', end);
    const char *colon = memchr(slash ? slash : image, ':', end - (size_t)((slash ? slash : image) - image));
    size_t rlen = colon ? (size_t)(colon - image) : end;
    free(ct->image_repository);
    ct->image_repository = mm_xstrndup(image, rlen);
    if (colon) {
        free(ct->image_tag);
        ct->image_tag = mm_xstrndup(colon + 1, end - rlen - 1);
    }
    if (at)
        mm_proc_set(&ct->image_digest, at + 1);
}

static void k8s_from(mm_container *ct, json_t *labels)
{
    if (!json_is_object(labels))
        return;
    const char *v;
    if ((v = jstr(labels, "io.kubernetes.pod.name")) ||
        (v = jstr(labels, "io.kubernetes.cri.sandbox-name")))
        mm_proc_set(&ct->k8s_pod_name, v);
    if ((v = jstr(labels, "io.kubernetes.pod.namespace")) ||
        (v = jstr(labels, "io.kubernetes.cri.sandbox-namespace")))
        mm_proc_set(&ct->k8s_ns_name, v);
    if ((v = jstr(labels, "io.kubernetes.pod.uid")) ||
        (v = jstr(labels, "io.kubernetes.cri.sandbox-uid")))
        mm_proc_set(&ct->k8s_pod_uid, v);
    if ((v = jstr(labels, "io.kubernetes.container.name")) ||
        (v = jstr(labels, "io.kubernetes.cri.container-name")))
        mm_proc_set(&ct->name, v);
    if ((v = jstr(labels, "io.kubernetes.cri.image-name")))
        set_image(ct, v);
}

/* docker's files of the container in dir (below the cache root):
 * config.v2.json (name, image, labels, volumes unless the mounts are known
 * already) and hostconfig.json (privileged) */
static void docker_meta(const mm_container_cache *c, mm_container *ct, const char *dir)
{
    char *rel = mm_xasprintf("%s/config.v2.json", dir);
    json_t *j = load_json(c, rel);
    free(rel);
    if (j) {
        const char *name = jstr(j, "Name");
        if (name)
            mm_proc_set(&ct->name, name[0] == '/' ? name + 1 : name);
        json_t *cfg = json_object_get(j, "Config");
        if (json_is_object(cfg)) {
            set_image(ct, jstr(cfg, "Image"));
            k8s_from(ct, json_object_get(cfg, "Labels"));
        }
        const char *img = jstr(j, "Image");
        if (img)
            mm_proc_set(&ct->image_id, strncmp(img, "sha256:", 7) == 0 ? img + 7 : img);
        json_t *mps = ct->nmounts ? NULL : json_object_get(j, "MountPoints");
        if (json_is_object(mps)) {
            const char *k;
            json_t *m;
            json_object_foreach(mps, k, m) {
                if (ct->nmounts >= 256)
                    break;
                ct->mounts = mm_xrealloc(ct->mounts, (ct->nmounts + 1) * sizeof *ct->mounts);
                mm_mount *mt = &ct->mounts[ct->nmounts++];
                memset(mt, 0, sizeof *mt);
                mt->source = mm_xstrdup(jstr(m, "Source"));
                mt->dest = mm_xstrdup(jstr(m, "Destination"));
                json_t *rw = json_object_get(m, "RW");
                mt->rw = json_is_true(rw);
                mt->mode = mm_xstrdup(jstr(m, "Mode"));
            }
        }
        json_decref(j);
    }
    rel = mm_xasprintf("%s/hostconfig.json", dir);
    j = load_json(c, rel);
    free(rel);
    if (j) {
        json_t *pv = json_object_get(j, "Privileged");
        if (json_is_boolean(pv)) {
            ct->privileged = json_is_true(pv);
            ct->privileged_known = true;
        }
        json_decref(j);
    }
}

static void oci_meta(const mm_container_cache *c, mm_container *ct)
{
    static const char *const dirs[] = {
        "run/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json",
        "run/containerd/io.containerd.runtime.v2.task/moby/%s/config.json",
        "run/containerd/io.containerd.runtime.v2.task/default/%s/config.json",
        "var/lib/containers/storage/overlay-containers/%s/userdata/config.json",
        "run/containers/storage/overlay-containers/%s/userdata/config.json",
    };
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char rel[200];
        const char *pct = strstr(dirs[i], "%s");
        snprintf(rel, sizeof rel, "%.*s%s%s", (int)(pct - dirs[i]), dirs[i], ct->full_id, pct + 2);
        json_t *j = load_json(c, rel);
        if (!j)
            continue;
        json_t *ann = json_object_get(j, "annotations");
        k8s_from(ct, ann);
        const char *v;
        if (!ct->image && json_is_object(ann) &&
            ((v = jstr(ann, "io.kubernetes.cri-o.ImageName")) ||
             (v = jstr(ann, "io.podman.annotations.image")) ||
             (v = jstr(ann, "org.opencontainers.image.ref.name"))))
            set_image(ct, v);
        if (!ct->name && json_is_object(ann) &&
            ((v = jstr(ann, "io.kubernetes.cri-o.ContainerName")) ||
             (v = jstr(ann, "io.podman.annotations.name"))))
            mm_proc_set(&ct->name, v);
        json_decref(j);
        break;
    }
}

mm_container *mm_container_cache_get(mm_container_cache *c, const char *cgroup)
{
    char id[65];
    const char *rt = NULL;
    if (!mm_cgroup_container_id(cgroup, id, &rt))
        return mm_container_ref(c->host);
    mm_container *ct = mm_map_get(c->by_id, id);
    if (ct)
        return mm_container_ref(ct);
    char shortid[13];
    memcpy(shortid, id, 12);
    shortid[12] = 0;
    mm_container_new(&ct, shortid);
    mm_proc_set(&ct->full_id, id);
    mm_proc_set(&ct->type, rt);
    if (strcmp(rt, "docker") == 0) {
        char *dir = mm_xasprintf("var/lib/docker/containers/%s", id);
        docker_meta(c, ct, dir);
        free(dir);
    }
    if (!ct->image)
        oci_meta(c, ct);
    if (mm_map_count(c->by_id) < 4096)
        mm_map_put(c->by_id, id, mm_container_ref(ct));
    return ct;
}

/* ---- metadata through a live process of the container ------------------------ */

void mm_sn_minfo_free(mm_sn_minfo *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(m[i].dev); free(m[i].root); free(m[i].mnt); free(m[i].fstype);
    }
    free(m);
}

/* mountinfo escapes blanks as \040 */
static char *unescape(const char *s)
{
    char *o = mm_xstrdup(s), *w = o;
    for (const char *q = s; *q; q++) {
        if (q[0] == '\\' && q[1] >= '0' && q[1] <= '7' && q[2] >= '0' && q[2] <= '7' &&
            q[3] >= '0' && q[3] <= '7') {
            *w++ = (char)(((q[1] - '0') << 6) | ((q[2] - '0') << 3) | (q[3] - '0'));
            q += 3;
        } else {
            *w++ = *q;
        }
    }
    *w = 0;
    return o;
}

mm_sn_minfo *mm_sn_mountinfo(const char *path, size_t *n)
{
    *n = 0;
    size_t len;
    char *d = mm_file_read_proc(path, 16u << 20, &len);
    if (!d)
        return NULL;
    mm_sn_minfo *m = NULL;
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, d, len);
    while (mm_lines_next(&it, &line, &ll) && *n < 8192) {
        char *l = mm_xstrndup(line, ll);
        char *f[6] = {0}, *save = NULL, *tok = strtok_r(l, " ", &save), *fs = NULL;
        int k = 0;
        while (tok && k < 6) {
            f[k++] = tok;
            tok = strtok_r(NULL, " ", &save);
        }
        while (tok) {
            if (!strcmp(tok, "-")) {
                fs = strtok_r(NULL, " ", &save);
                break;
            }
            tok = strtok_r(NULL, " ", &save);
        }
        if (k == 6 && fs) {
            m = mm_xrealloc(m, (*n + 1) * sizeof *m);
            mm_sn_minfo *x = &m[(*n)++];
            x->dev = mm_xstrdup(f[2]);
            x->root = unescape(f[3]);
            x->mnt = unescape(f[4]);
            x->fstype = mm_xstrdup(fs);
            x->rw = strncmp(f[5], "rw", 2) == 0;
        }
        free(l);
    }
    free(d);
    return m;
}

/* The host path of what a container mount shows: the host mount of the same
 * device whose root holds it, plus the rest; NULL when the host does not
 * mount that filesystem (the container's own proc, tmpfs ...) */
static char *host_path(const mm_sn_minfo *host, size_t nh, const mm_sn_minfo *m)
{
    const mm_sn_minfo *best = NULL;
    size_t bl = 0;
    for (size_t i = 0; i < nh; i++) {
        if (strcmp(host[i].dev, m->dev))
            continue;
        size_t rl = strlen(host[i].root);
        bool pre = !strcmp(host[i].root, "/") ||
                   (!strncmp(m->root, host[i].root, rl) && (m->root[rl] == '/' || !m->root[rl]));
        if (pre && (!best || rl > bl)) {
            best = &host[i];
            bl = rl;
        }
    }
    if (!best)
        return NULL;
    const char *rest = !strcmp(best->root, "/") ? m->root : m->root + bl;
    if (!strcmp(best->mnt, "/"))
        return mm_xstrdup(*rest ? rest : "/");
    return mm_xasprintf("%s%s", best->mnt, !strcmp(rest, "/") ? "" : rest);
}

/* A small file of the container's own root (RESOLVE_IN_ROOT: its links
 * cannot lead out) */
static char *read_in_root(const char *proc_root, int64_t pid, const char *rel, size_t *len)
{
    char rp[96];
    snprintf(rp, sizeof rp, "%s/%lld/root", proc_root, (long long)pid);
    int rootfd = open(rp, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return NULL;
    struct open_how how = { .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
    int fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof how);
    close(rootfd);
    if (fd < 0)
        return NULL;
    char *buf = mm_xmalloc(65537);
    ssize_t n = read(fd, buf, 65536);
    close(fd);
    if (n < 0) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

/* podman's /run/.containerenv: name="x", image="repo:tag", imageid="..." */
static void containerenv(mm_container *ct, const char *proc_root, int64_t pid)
{
    size_t len;
    char *d = read_in_root(proc_root, pid, "run/.containerenv", &len);
    if (!d)
        return;
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, d, len);
    while (mm_lines_next(&it, &line, &ll)) {
        const char *eq = memchr(line, '=', ll);
        if (!eq || ll - (size_t)(eq - line) < 3 || eq[1] != '"' || line[ll - 1] != '"')
            continue;
        size_t kl = (size_t)(eq - line);
        char *v = mm_xstrndup(eq + 2, ll - kl - 3);
        if (kl == 4 && !memcmp(line, "name", 4) && *v)
            mm_proc_set(&ct->name, v);
        else if (kl == 5 && !memcmp(line, "image", 5) && *v)
            set_image(ct, v);
        else if (kl == 7 && !memcmp(line, "imageid", 7) && *v)
            mm_proc_set(&ct->image_id, v);
        free(v);
    }
    free(d);
}

/* containers/storage (podman, CRI-O): containers.json of the store the
 * container's files are in, under any --root: its names and the image name
 * podman recorded in the entry's metadata */
static void podman_store(const mm_container_cache *c, mm_container *ct, const char *store)
{
    static const char *const files[] = { "containers.json", "volatile-containers.json" };
    for (size_t f = 0; f < 2 && (!ct->name || !ct->image); f++) {
        char *rel = mm_xasprintf("%s/%s", store + (store[0] == '/'), files[f]);
        json_t *j = load_json_any(c, rel);
        free(rel);
        size_t i;
        json_t *e;
        json_array_foreach(j, i, e) {
            const char *id = jstr(e, "id");
            if (!id || strcmp(id, ct->full_id))
                continue;
            json_t *names = json_object_get(e, "names");
            if (!ct->name && json_is_array(names) && json_is_string(json_array_get(names, 0)))
                mm_proc_set(&ct->name, json_string_value(json_array_get(names, 0)));
            const char *md = jstr(e, "metadata");
            json_t *mj = md ? json_loads(md, 0, NULL) : NULL;
            if (json_is_object(mj)) {
                if (!ct->image)
                    set_image(ct, jstr(mj, "image-name"));
                if (!ct->name && jstr(mj, "name"))
                    mm_proc_set(&ct->name, jstr(mj, "name"));
            }
            json_decref(mj);
            const char *img = jstr(e, "image");
            if (img && !ct->image_id)
                mm_proc_set(&ct->image_id, img);
            break;
        }
        json_decref(j);
    }
    /* the OCI config podman wrote: privileged or not */
    char *rel = mm_xasprintf("%s/%s/userdata/config.json", store + (store[0] == '/'), ct->full_id);
    json_t *cfg = ct->privileged_known ? NULL : load_json(c, rel);
    free(rel);
    json_t *ann = cfg ? json_object_get(cfg, "annotations") : NULL;
    const char *pv = json_is_object(ann) ? jstr(ann, "io.podman.annotations.privileged") : NULL;
    if (pv) {
        ct->privileged = !strcasecmp(pv, "TRUE");
        ct->privileged_known = true;
    }
    json_decref(cfg);
}

static void meta_from_proc(mm_container_cache *c, mm_container *ct, const char *proc_root,
                           int64_t pid)
{
    char path[96];
    /* only once the process has its own mount namespace (a runtime's
     * init joins the cgroup before it pivots into the container root) */
    struct stat mine, its;
    snprintf(path, sizeof path, "%s/%lld/ns/mnt", proc_root, (long long)pid);
    if (stat("/proc/self/ns/mnt", &mine) != 0 || stat(path, &its) != 0 ||
        mine.st_ino == its.st_ino)
        return;
    /* ... and has its own root (before pivot_root it still sees ours) */
    snprintf(path, sizeof path, "%s/%lld/root/", proc_root, (long long)pid);
    if (stat("/", &mine) != 0 || stat(path, &its) != 0 ||
        (mine.st_dev == its.st_dev && mine.st_ino == its.st_ino))
        return;
    snprintf(path, sizeof path, "%s/%lld/mountinfo", proc_root, (long long)pid);
    size_t nm, nh;
    mm_sn_minfo *m = mm_sn_mountinfo(path, &nm);
    if (!m)
        return;
    mm_sn_minfo *h = mm_sn_mountinfo("/proc/self/mountinfo", &nh);
    ct->meta_from_proc = true;
    char *hostname_src = NULL;
    /* container.mounts: what the container sees mounted, with the host
     * path of each (the runtime's bind mounts and volumes) */
    bool have_runtime_mounts = ct->nmounts > 0;
    char *stores[4] = {0};   /* podman: .../overlay-containers (root and runroot) */
    size_t nstores = 0;
    for (size_t i = 0; i < nm; i++) {
        if (!strcmp(m[i].mnt, "/"))
            continue;   /* the root filesystem itself */
        char *src = host_path(h, nh, &m[i]);
        if (!strcmp(m[i].mnt, "/etc/hostname") && src && !hostname_src)
            hostname_src = mm_xstrdup(src);
        const char *oc = src ? strstr(src, "/overlay-containers/") : NULL;
        if (oc && nstores < 4) {
            char *st = mm_xstrndup(src, (size_t)(oc - src) + strlen("/overlay-containers"));
            bool dup = false;
            for (size_t k = 0; k < nstores; k++)
                dup |= !strcmp(stores[k], st);
            if (dup)
                free(st);
            else
                stores[nstores++] = st;
        }
        /* what the user asked for: not the runtime's own files (hosts,
         * hostname, shm ...), not the kernel filesystems every container
         * gets, not what lies below another mount (an rbind's submounts) */
        bool internal = !src || oc || strstr(src, ct->full_id) ||
                        !strcmp(m[i].fstype, "proc") || !strcmp(m[i].fstype, "sysfs") ||
                        !strcmp(m[i].fstype, "devpts") || !strcmp(m[i].fstype, "mqueue") ||
                        !strncmp(m[i].fstype, "cgroup", 6) ||
                        !strncmp(m[i].mnt, "/proc/", 6) || !strncmp(m[i].mnt, "/sys/", 5) ||
                        !strcmp(m[i].mnt, "/sys") || !strcmp(m[i].mnt, "/dev");
        for (size_t k = 0; !internal && k < ct->nmounts; k++) {
            size_t dl = strlen(ct->mounts[k].dest);
            internal = !strncmp(m[i].mnt, ct->mounts[k].dest, dl) && m[i].mnt[dl] == '/';
        }
        if (internal && !(src && !strcmp(src, "/proc")) ) {
            free(src);
            continue;
        }
        if (!have_runtime_mounts && ct->nmounts < 256) {
            ct->mounts = mm_xrealloc(ct->mounts, (ct->nmounts + 1) * sizeof *ct->mounts);
            mm_mount *mt = &ct->mounts[ct->nmounts++];
            memset(mt, 0, sizeof *mt);
            mt->source = src ? src : mm_xstrdup(m[i].fstype);
            src = NULL;
            mt->dest = mm_xstrdup(m[i].mnt);
            mt->mode = mm_xstrdup(m[i].rw ? "rw" : "ro");
            mt->rw = m[i].rw;
        }
        free(src);
    }
    ct->mounts_known = true;
    /* docker keeps config.v2.json beside the hostname file it binds, under
     * whatever --data-root: read it from there */
    if (hostname_src && !ct->name) {
        const char *sl = strrchr(hostname_src, '/');
        if (sl && sl > hostname_src) {
            char *dir = mm_xstrndup(hostname_src, (size_t)(sl - hostname_src));
            docker_meta(c, ct, dir + (dir[0] == '/'));
            free(dir);
        }
    }
    free(hostname_src);
    for (size_t k = 0; k < nstores; k++) {
        if (!ct->name || !ct->image || !ct->privileged_known)
            podman_store(c, ct, stores[k]);
        free(stores[k]);
    }
    if (!ct->name || !ct->image)
        containerenv(ct, proc_root, pid);
    mm_sn_minfo_free(m, nm);
    mm_sn_minfo_free(h, nh);
}

mm_container *mm_container_cache_get_pid(mm_container_cache *c, const char *cgroup,
                                         const char *proc_root, int64_t pid)
{
    mm_container *ct = mm_container_cache_get(c, cgroup);
    if (ct && ct->full_id && !ct->meta_from_proc && pid > 0)
        meta_from_proc(c, ct, proc_root ? proc_root : "/proc", pid);
    return ct;
}
