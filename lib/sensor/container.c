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
 * Every file is size-capped and parsed with jansson; a missing or hostile
 * file only leaves fields unknown.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mamori/sensor.h"
#include "util/util.h"

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
    c->host = mm_container_new("host");
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

static json_t *load_json(const mm_container_cache *c, const char *rel)
{
    char *path = mm_xasprintf("%s/%s", c->root, rel);
    char *data = NULL;
    size_t len = 0;
    json_t *j = NULL;
    if (mm_file_read(path, META_MAX, &data, &len) == 0)
        j = json_loadb(data, len, 0, NULL);
    free(data);
    free(path);
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

static void docker_meta(const mm_container_cache *c, mm_container *ct)
{
    char rel[160];
    snprintf(rel, sizeof rel, "var/lib/docker/containers/%s/config.v2.json", ct->full_id);
    json_t *j = load_json(c, rel);
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
        json_t *mps = json_object_get(j, "MountPoints");
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
    snprintf(rel, sizeof rel, "var/lib/docker/containers/%s/hostconfig.json", ct->full_id);
    j = load_json(c, rel);
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
    ct = mm_container_new(shortid);
    mm_proc_set(&ct->full_id, id);
    mm_proc_set(&ct->type, rt);
    if (strcmp(rt, "docker") == 0)
        docker_meta(c, ct);
    if (!ct->image)
        oci_meta(c, ct);
    if (mm_map_count(c->by_id) < 4096)
        mm_map_put(c->by_id, id, mm_container_ref(ct));
    return ct;
}
