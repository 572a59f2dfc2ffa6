/*
 * source.c - image sources without a daemon: docker-archive tarballs
 * (`docker save`, `skopeo copy docker-archive:`), OCI image layouts as a
 * directory or a tar (index.json -> [index ->] manifest -> config, layers)
 * and their platform selection.  A source yields the config and the layers
 * in order; each layer opens as a blob that verifies its digest as it is
 * read.  Registries (a later source) fill the same struct.
 *
 * Every document is capped (limits.max_json_size) and every digest named
 * by a manifest is checked; nothing is extracted (a compressed outer
 * tar is the one exception: its documents are read in a first pass that
 * writes nothing, the image is chosen from them, and only the layers its
 * manifest references are then inflated into the scan's private temp
 * folder, since members must be read in manifest order; outer.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "image/image_int.h"

#define MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* Where blobs live: a directory or the members of a tar file. */
struct store {
    char *root;        /* directory, or NULL */
    int fd;            /* tar file, or -1 */
    mm_tarindex *ix;
    mm_outer *outer;   /* a compressed outer archive's documents, or NULL */
    char *label;       /* the input path, for messages */
};

/* A document of a compressed outer archive, read from memory. */
struct memblob {
    const char *p;
    size_t len, off;
};

static ssize_t mem_read(void *impl, void *buf, size_t n)
{
    struct memblob *m = impl;
    size_t k = m->len - m->off < n ? m->len - m->off : n;
    memcpy(buf, m->p + m->off, k);
    m->off += k;
    return (ssize_t)k;
}

static void mem_close(void *impl)
{
    free(impl);
}

static const struct mm_blob_ops mem_ops = {mem_read, mem_close};

struct impl {
    struct store st;
    char *ref;
};

static int store_open(struct store *st, const char *member,
                      const char *expect, mm_blob **out)
{
    char *label = mm_xasprintf("%s:%s", st->label, member);
    int rc;
    if (st->root) {
        char *p = mm_xasprintf("%s/%s", st->root, member);
        int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        free(p);
        if (fd < 0) {
            rc = mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO,
                              "%s: %s", label, strerror(errno));
            free(label);
            return rc;
        }
        struct stat sb;
        if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
            close(fd);
            rc = mm_error_set(MM_EFORMAT, "%s: not a regular file", label);
            free(label);
            return rc;
        }
        rc = mm_blob_open_fd(out, fd, (uint64_t)sb.st_size, label, expect);
        free(label);
        return rc;
    }
    uint64_t off, size;
    size_t dlen;
    const char *doc;
    if (!(st->ix && mm_tarindex_find(st->ix, member, &off, &size)) &&
        (doc = mm_outer_doc(st->outer, member, &dlen))) {
        struct memblob *m = mm_xcalloc(1, sizeof *m);
        m->p = doc;
        m->len = dlen;
        rc = mm_blob_new(out, &mem_ops, m, label, expect, dlen);
        free(label);
        return rc;
    }
    if (!st->ix || !mm_tarindex_find(st->ix, member, &off, &size)) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: no such member in the archive%s", label,
                          mm_outer_overflow(st->outer)
                              ? " (or past the documents a first pass keeps in memory)" : "");
        free(label);
        return rc;
    }
    rc = mm_blob_open_window(out, st->fd, off, size, label, expect);
    free(label);
    return rc;
}

static bool store_has(struct store *st, const char *member)
{
    if (st->root) {
        char *p = mm_xasprintf("%s/%s", st->root, member);
        struct stat sb;
        bool ok = lstat(p, &sb) == 0 && S_ISREG(sb.st_mode);
        free(p);
        return ok;
    }
    uint64_t off, size;
    size_t dlen;
    return (st->ix && mm_tarindex_find(st->ix, member, &off, &size)) ||
           mm_outer_doc(st->outer, member, &dlen);
}

static int read_json(struct store *st, const char *member, const char *expect,
                     uint64_t max, json_t **out, char **raw, size_t *rawlen)
{
    mm_blob *b;
    int rc = store_open(st, member, expect, &b);
    if (rc < 0)
        return rc;
    char *data;
    size_t len;
    rc = mm_blob_read_all(b, max, &data, &len);
    mm_blob_free(b);
    if (rc < 0)
        return rc;
    json_error_t err;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        rc = mm_error_set(MM_EFORMAT, "%s:%s: invalid JSON at line %d column %d: %s",
                          st->label, member, err.line, err.column, err.text);
        free(data);
        return rc;
    }
    *out = j;
    if (raw) {
        *raw = data;
        *rawlen = len;
    } else {
        free(data);
    }
    return 0;
}

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *blob_member(const char *digest)
{
    /* "sha256:<hex>" -> "blobs/sha256/<hex>" */
    const char *c = strchr(digest, ':');
    return mm_xasprintf("blobs/%.*s/%s", (int)(c - digest), digest, c + 1);
}

static int layer_open(mm_source *s, size_t i, mm_blob **out)
{
    struct impl *im = s->impl;
    return store_open(&im->st, s->layers[i].member, s->layers[i].digest, out);
}

static void impl_destroy(mm_source *s)
{
    struct impl *im = s->impl;
    if (!im)
        return;
    free(im->st.root);
    if (im->st.fd >= 0)
        close(im->st.fd);
    mm_tarindex_free(im->st.ix);
    mm_outer_free(im->st.outer);
    free(im->st.label);
    free(im->ref);
    free(im);
}

void mm_source_free(mm_source *s)
{
    if (!s)
        return;
    if (s->destroy)
        s->destroy(s);
    free(s->name);
    free(s->manifest_digest);
    free(s->index_digest);
    free(s->reference);
    free(s->config_digest);
    free(s->config_json);
    mm_strv_free(s->repo_tags, s->nrepo_tags);
    for (size_t i = 0; i < s->nlayers; i++) {
        free(s->layers[i].digest);
        free(s->layers[i].diff_id);
        free(s->layers[i].media_type);
        free(s->layers[i].member);
        free(s->layers[i].created_by);
    }
    free(s->layers);
    free(s);
}

/* --- config ----------------------------------------------------------------- */
int mm_config_parse(mm_source *s, const mm_intake_opts *opts)
{
    (void)opts;
    json_error_t err;
    json_t *c = json_loadb(s->config_json, s->config_len, 0, &err);
    if (!c || !json_is_object(c)) {
        int rc = mm_error_set(MM_EFORMAT, "%s: image config %s: %s at line %d",
                              s->name, s->config_digest ? s->config_digest : "",
                              c ? "not a JSON object" : err.text, err.line);
        json_decref(c);
        return rc;
    }
    json_t *ids = json_object_get(json_object_get(c, "rootfs"), "diff_ids");
    if (json_is_array(ids)) {
        if (json_array_size(ids) != s->nlayers) {
            int rc = mm_error_set(MM_EFORMAT,
                                  "%s: config rootfs.diff_ids lists %zu layers, the manifest %zu",
                                  s->name, json_array_size(ids), s->nlayers);
            json_decref(c);
            return rc;
        }
        for (size_t i = 0; i < s->nlayers; i++) {
            const char *d = json_string_value(json_array_get(ids, i));
            if (!mm_digest_valid(d)) {
                int rc = mm_error_set(MM_EFORMAT, "%s: config rootfs.diff_ids[%zu] is not a sha256 digest",
                                      s->name, i);
                json_decref(c);
                return rc;
            }
            s->layers[i].diff_id = mm_xstrdup(d);
        }
    }
    /* history: the i-th entry that is not an empty layer made layer i */
    json_t *hist = json_object_get(c, "history");
    if (json_is_array(hist)) {
        size_t li = 0, n = json_array_size(hist);
        for (size_t i = 0; i < n && li < s->nlayers; i++) {
            json_t *h = json_array_get(hist, i);
            if (json_is_true(json_object_get(h, "empty_layer")))
                continue;
            const char *cb = jstr(h, "created_by");
            if (cb)
                s->layers[li].created_by = mm_xstrdup(cb);
            li++;
        }
    }
    json_decref(c);
    return 0;
}

static int load_config(mm_source *s, struct store *st, const char *member,
                       const char *expect, const mm_intake_opts *opts)
{
    json_t *j;
    int rc = read_json(st, member, expect, opts->limits.max_json_size, &j,
                       &s->config_json, &s->config_len);
    if (rc < 0)
        return rc;
    json_decref(j);
    if (!s->config_digest) {
        char d[72];
        mm_sha256_hex(s->config_json, s->config_len, d);
        s->config_digest = mm_xstrdup(d);
    }
    return mm_config_parse(s, opts);
}

/* --- docker-archive ------------------------------------------------------------- */
/* The layer table of a manifest with n layers, refused over the cap. */
static int layers_alloc(mm_source *s, size_t n, const mm_intake_opts *opts)
{
    if (n > opts->limits.max_layers)
        return mm_error_set(MM_ELIMIT, "%s: %zu layers, over the limit of %llu", s->name, n,
                            (unsigned long long)opts->limits.max_layers);
    s->nlayers = n;
    s->layers = mm_xcalloc(n ? n : 1, sizeof *s->layers);
    return 0;
}

static char *digest_from_member(const char *m)
{
    /* "blobs/sha256/<hex>" or "<hex>.json" */
    const char *b = mm_path_base(m);
    char *d = NULL;
    if (mm_str_startswith(m, "blobs/sha256/"))
        d = mm_xasprintf("sha256:%s", b);
    else if (mm_str_endswith(b, ".json"))
        d = mm_xasprintf("sha256:%.*s", (int)(strlen(b) - 5), b);
    if (d && !mm_digest_valid(d)) {
        free(d);
        d = NULL;
    }
    return d;
}

static int open_docker(mm_source *s, struct store *st, const char *ref,
                       const mm_intake_opts *opts)
{
    json_t *m;
    int rc = read_json(st, "manifest.json", NULL, opts->limits.max_json_size,
                       &m, NULL, NULL);
    if (rc < 0)
        return rc;
    json_t *img = NULL;
    if (!json_is_array(m) || json_array_size(m) == 0) {
        rc = mm_error_set(MM_EFORMAT, "%s: manifest.json: expected a non-empty array",
                          s->name);
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(m, i, e) {
        if (!ref) {
            img = e;
            break;
        }
        size_t k;
        json_t *t;
        json_array_foreach(json_object_get(e, "RepoTags"), k, t)
            if (json_is_string(t) && strcmp(json_string_value(t), ref) == 0)
                img = e;
        if (img)
            break;
    }
    if (!img) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: no image tagged %s in manifest.json", s->name, ref);
        goto out;
    }
    const char *cfg = jstr(img, "Config");
    json_t *layers = json_object_get(img, "Layers");
    if (!cfg || !json_is_array(layers)) {
        rc = mm_error_set(MM_EFORMAT, "%s: manifest.json[%zu]: missing Config or Layers",
                          s->name, i);
        goto out;
    }
    rc = layers_alloc(s, json_array_size(layers), opts);
    if (rc < 0)
        goto out;
    for (size_t k = 0; k < s->nlayers; k++) {
        const char *l = json_string_value(json_array_get(layers, k));
        if (!l) {
            rc = mm_error_set(MM_EFORMAT, "%s: manifest.json: Layers[%zu] is not a string",
                              s->name, k);
            goto out;
        }
        char *norm = mm_path_normalize(l, NULL);
        s->layers[k].member = norm ? norm : mm_xstrdup(l);
        s->layers[k].digest = digest_from_member(l);
        if (s->layers[k].digest && !mm_str_endswith(l, ".json")) {
            /* ok */
        } else {
            free(s->layers[k].digest);
            s->layers[k].digest = mm_str_startswith(s->layers[k].member, "blobs/sha256/")
                                      ? digest_from_member(s->layers[k].member) : NULL;
        }
        s->layers[k].size = UINT64_MAX;
    }
    size_t k;
    json_t *t;
    json_array_foreach(json_object_get(img, "RepoTags"), k, t)
        if (json_is_string(t))
            mm_strv_push(&s->repo_tags, &s->nrepo_tags, json_string_value(t));
    s->config_digest = digest_from_member(cfg);
    char *cm = mm_path_normalize(cfg, NULL);
    rc = load_config(s, st, cm ? cm : cfg, s->config_digest, opts);
    free(cm);
    s->format = "docker-archive";
out:
    json_decref(m);
    return rc;
}

/* --- OCI layout --------------------------------------------------------------- */
static bool platform_match(json_t *p, const char *want)
{
    const char *os = jstr(p, "os"), *arch = jstr(p, "architecture"),
               *var = jstr(p, "variant");
    char wos[64] = "", warch[64] = "", wvar[64] = "";
    sscanf(want, "%63[^/]/%63[^/]/%63s", wos, warch, wvar);
    if (!os || !arch || strcmp(os, wos) || strcmp(arch, warch))
        return false;
    if (wvar[0] && (!var || strcmp(var, wvar)))
        return false;
    return true;
}

/* Picks the entry for platform plat among the candidate entries of an
 * index: the first whose "platform" matches; when no entry states one, the
 * only candidate.  layout: an OCI layout's index.json (several unnamed
 * images are the user's to choose by name); refs (names, for the message)
 * may be NULL. */
static int pick_platform(const char *name, json_t **cands, size_t nc, const char *plat,
                         bool layout, const char *refs, json_t **out)
{
    json_t *pick = NULL;
    size_t nplat = 0;
    int rc = 0;
    mm_buf plats = MM_BUF_INIT;
    for (size_t k = 0; k < nc; k++) {
        json_t *p = json_object_get(cands[k], "platform");
        if (!p)
            continue;
        nplat++;
        if (plats.len)
            mm_buf_adds(&plats, ", ");
        if (plats.len < 2048)
            mm_buf_printf(&plats, "%s/%s%s%s", jstr(p, "os") ? jstr(p, "os") : "?",
                          jstr(p, "architecture") ? jstr(p, "architecture") : "?",
                          jstr(p, "variant") ? "/" : "",
                          jstr(p, "variant") ? jstr(p, "variant") : "");
        if (!pick && platform_match(p, plat))
            pick = cands[k];
    }
    if (nplat && !pick) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: no image for platform %s (available: %s)",
                          name, plat, plats.data);
        goto out;
    }
    if (!pick) {
        if (nc > 1 && !layout) {
            rc = mm_error_set(MM_ENOTFOUND, "%s: the index lists %zu images and states "
                              "no platform for any: none can be chosen", name, nc);
            goto out;
        }
        if (nc > 1) {
            rc = mm_error_set(MM_EINVAL,
                              "%s: the layout holds several images (%s): name one as %s:REF",
                              name, refs ? refs : "unnamed", name);
            goto out;
        }
        pick = cands[0];
    }
    *out = pick;
out:
    mm_buf_free(&plats);
    return rc;
}

static int open_manifest(mm_source *s, struct store *st, const char *digest,
                         const mm_intake_opts *opts);

/* Picks a manifest from an index document (index.json or a nested index). */
static int pick_from_index(mm_source *s, struct store *st, json_t *idx,
                           const char *ref, const mm_intake_opts *opts, int depth)
{
    if (depth > 4)
        return mm_error_set(MM_ELIMIT, "%s: image indexes nested deeper than 4", s->name);
    json_t *ms = json_object_get(idx, "manifests");
    if (!json_is_array(ms) || json_array_size(ms) == 0)
        return mm_error_set(MM_EFORMAT, "%s: index has no manifests", s->name);
    const char *plat = opts->platform ? opts->platform : "linux/amd64";
    json_t *cands[256];
    size_t nc = 0, i;
    json_t *m;
    mm_buf refs = MM_BUF_INIT;
    json_array_foreach(ms, i, m) {
        const char *rn = jstr(json_object_get(m, "annotations"),
                              "org.opencontainers.image.ref.name");
        if (!rn)
            rn = jstr(json_object_get(m, "annotations"), "io.containerd.image.name");
        if (rn) {
            if (refs.len)
                mm_buf_adds(&refs, ", ");
            mm_buf_adds(&refs, rn);
        }
        if (depth == 0 && ref && (!rn || strcmp(rn, ref) != 0))
            continue;
        if (nc < 256)
            cands[nc++] = m;
    }
    int rc = 0;
    if (nc == 0) {
        rc = mm_error_set(MM_ENOTFOUND, "%s: no image named \"%s\" (the layout holds: %s)",
                          s->name, ref ? ref : "", refs.len ? refs.data : "no names");
        goto out;
    }
    json_t *pick = NULL;
    rc = pick_platform(s->name, cands, nc, plat, true, refs.len ? refs.data : NULL, &pick);
    if (rc < 0)
        goto out;
    const char *mt = jstr(pick, "mediaType");
    const char *dg = jstr(pick, "digest");
    if (!mm_digest_valid(dg)) {
        rc = mm_error_set(MM_EFORMAT, "%s: index entry without a valid sha256 digest", s->name);
        goto out;
    }
    if (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {
        char *member = blob_member(dg);
        json_t *sub;
        rc = read_json(st, member, dg, opts->limits.max_json_size, &sub, NULL, NULL);
        free(member);
        if (rc == 0) {
            rc = pick_from_index(s, st, sub, NULL, opts, depth + 1);
            json_decref(sub);
        }
        goto out;
    }
    rc = open_manifest(s, st, dg, opts);
out:
    mm_buf_free(&refs);
    return rc;
}

/* The config digest and the layers of an image manifest (OCI or Docker
 * v2 schema 2) into s. */
static int manifest_layers(mm_source *s, json_t *m, const char *digest,
                           const mm_intake_opts *opts)
{
    int rc = 0;
    json_t *cfg = json_object_get(m, "config"), *layers = json_object_get(m, "layers");
    const char *cd = jstr(cfg, "digest");
    if (!mm_digest_valid(cd) || !json_is_array(layers)) {
        rc = mm_error_set(MM_EFORMAT, "%s: manifest %s: missing config digest or layers",
                          s->name, digest);
        return rc;
    }
    rc = layers_alloc(s, json_array_size(layers), opts);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < s->nlayers; i++) {
        json_t *l = json_array_get(layers, i);
        const char *d = jstr(l, "digest");
        json_t *sz = json_object_get(l, "size");
        if (!mm_digest_valid(d)) {
            rc = mm_error_set(MM_EFORMAT, "%s: manifest %s: layers[%zu].digest is not a sha256 digest",
                              s->name, digest, i);
            return rc;
        }
        s->layers[i].digest = mm_xstrdup(d);
        s->layers[i].member = blob_member(d);
        s->layers[i].media_type = mm_xstrdup(jstr(l, "mediaType"));
        s->layers[i].size = json_is_integer(sz) && json_integer_value(sz) >= 0
                                ? (uint64_t)json_integer_value(sz) : UINT64_MAX;
    }
    s->config_digest = mm_xstrdup(cd);
    return 0;
}

static int open_manifest(mm_source *s, struct store *st, const char *digest,
                         const mm_intake_opts *opts)
{
    char *member = blob_member(digest);
    json_t *m;
    int rc = read_json(st, member, digest, opts->limits.max_json_size, &m, NULL, NULL);
    free(member);
    if (rc < 0)
        return rc;
    s->manifest_digest = mm_xstrdup(digest);
    const char *mt = jstr(m, "mediaType");
    if (mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))) {
        free(s->manifest_digest);
        s->manifest_digest = NULL;
        rc = pick_from_index(s, st, m, NULL, opts, 1);
        json_decref(m);
        return rc;
    }
    rc = manifest_layers(s, m, digest, opts);
    if (rc < 0)
        goto out;
    const char *cd = s->config_digest;
    char *cm = blob_member(cd);
    rc = load_config(s, st, cm, cd, opts);
    free(cm);
out:
    json_decref(m);
    return rc;
}

static int open_oci(mm_source *s, struct store *st, const char *ref,
                    const mm_intake_opts *opts)
{
    json_t *idx;
    int rc = read_json(st, "index.json", NULL, opts->limits.max_json_size, &idx,
                       NULL, NULL);
    if (rc < 0)
        return rc;
    s->format = "oci-layout";
    rc = pick_from_index(s, st, idx, ref, opts, 0);
    json_decref(idx);
    return rc;
}

int mm_source_open_image(mm_source **out, const char *input,
                         const mm_intake_opts *opts, const char *tmpdir)
{
    struct stat sb;
    char *path = mm_xstrdup(input), *ref = NULL;
    if (stat(path, &sb) < 0) {
        char *c = strrchr(path, ':');
        if (c && c != path) {
            *c = 0;
            if (stat(path, &sb) == 0) {
                ref = mm_xstrdup(c + 1);
            } else {
                *c = ':';
            }
        }
    }
    if (!ref && stat(path, &sb) < 0) {
        int rc = mm_error_set(MM_ENOTFOUND, "%s: %s", input, strerror(errno));
        free(path);
        return rc;
    }
    mm_source *s = mm_xcalloc(1, sizeof *s);
    struct impl *im = mm_xcalloc(1, sizeof *im);
    s->impl = im;
    s->destroy = impl_destroy;
    s->open_layer = layer_open;
    s->name = mm_xstrdup(input);
    im->st.fd = -1;
    im->st.label = mm_xstrdup(path);
    im->ref = ref;
    int rc, zfd = -1;
    if (S_ISDIR(sb.st_mode)) {
        im->st.root = mm_xstrdup(path);
    } else {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = mm_error_set(MM_EIO, "%s: %s", path, strerror(errno));
            goto fail;
        }
        uint8_t magic[4] = {0};
        ssize_t n = pread(fd, magic, 4, 0);
        if (n >= 2 && ((magic[0] == 0x1f && magic[1] == 0x8b) ||
                       (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5))) {
            /* the documents first; the layers once the image is chosen */
            zfd = fd;
            rc = mm_outer_scan(&im->st.outer, path, fd, opts);
            if (rc < 0)
                goto fail;
        } else {
            im->st.fd = fd;
            rc = mm_tarindex_build(&im->st.ix, fd, path, opts->limits.max_entries);
            if (rc < 0)
                goto fail;
        }
    }
    if (store_has(&im->st, "manifest.json"))
        rc = open_docker(s, &im->st, ref, opts);
    else if (store_has(&im->st, "index.json"))
        rc = open_oci(s, &im->st, ref, opts);
    else
        rc = mm_error_set(MM_EFORMAT,
                          "%s: not an image: neither manifest.json (docker-archive) "
                          "nor index.json (OCI layout) found", path);
    if (rc < 0)
        goto fail;
    if (zfd >= 0) {
        /* second pass: only what the chosen manifest references */
        char **want = mm_xcalloc(s->nlayers + 1, sizeof *want);
        for (size_t i = 0; i < s->nlayers; i++)
            want[i] = s->layers[i].member;
        rc = mm_outer_extract(im->st.outer, zfd, tmpdir, want, s->nlayers, &im->st.fd,
                              &im->st.ix);
        free(want);
        close(zfd);
        zfd = -1;
        if (rc < 0)
            goto fail;
    }
    free(path);
    *out = s;
    return 0;
fail:
    if (zfd >= 0)
        close(zfd);
    free(path);
    mm_source_free(s);
    return rc;
}

/* --- shared with the registry source (lib/registry/source.c) ------------------ */
bool mm_media_type_is_index(const char *mt)
{
    return mt && (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST));
}

static json_t *load_doc(const char *name, const char *what, const char *data, size_t len,
                        int *rc)
{
    json_error_t err;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!json_is_object(j)) {
        *rc = mm_error_set(MM_EFORMAT, "%s: %s: %s at line %d column %d", name, what,
                           j ? "not a JSON object" : err.text, err.line, err.column);
        json_decref(j);
        return NULL;
    }
    *rc = 0;
    return j;
}

int mm_manifest_platform(const char *name, const char *data, size_t len,
                         const char *media_type, const char *platform, bool *is_index,
                         char digest[72])
{
    *is_index = false;
    digest[0] = 0;
    int rc;
    json_t *doc = load_doc(name, "manifest", data ? data : "", data ? len : 0, &rc);
    if (!doc)
        return rc;
    json_t *ms = json_object_get(doc, "manifests");
    /* an index by the served Content-Type, by its own mediaType, or by its
     * shape (an OCI index may leave mediaType out, and a registry may
     * answer with a generic Content-Type) */
    *is_index = mm_media_type_is_index(media_type) ||
                mm_media_type_is_index(jstr(doc, "mediaType")) ||
                (!json_object_get(doc, "config") && json_is_array(ms));
    if (!*is_index)
        goto out;
    json_t *cands[256];
    size_t nc = 0, i;
    json_t *m;
    json_array_foreach(ms, i, m) {
        if (nc < 256 && json_is_object(m))
            cands[nc++] = m;
    }
    if (nc == 0) {
        rc = mm_error_set(MM_EFORMAT, "%s: index has no manifests", name);
        goto out;
    }
    json_t *pick = NULL;
    rc = pick_platform(name, cands, nc, platform ? platform : "linux/amd64", false, NULL,
                       &pick);
    if (rc < 0)
        goto out;
    const char *dg = jstr(pick, "digest");
    if (!mm_digest_valid(dg)) {
        rc = mm_error_set(MM_EFORMAT, "%s: index entry without a valid sha256 digest", name);
        goto out;
    }
    memcpy(digest, dg, 72);
out:
    json_decref(doc);
    return rc;
}

int mm_manifest_parse(mm_source *s, const char *data, size_t len, const char *digest,
                      const mm_intake_opts *opts)
{
    int rc;
    json_t *m = load_doc(s->name, "manifest", data, len, &rc);
    if (!m)
        return rc;
    json_t *sv = json_object_get(m, "schemaVersion");
    if (json_is_integer(sv) && json_integer_value(sv) == 1) {
        rc = mm_error_set(MM_EUNSUPPORTED, "%s: manifest %s is Docker schema 1, which is "
                          "deprecated and not read", s->name, digest);
    } else if (mm_media_type_is_index(jstr(m, "mediaType"))) {
        rc = mm_error_set(MM_EFORMAT, "%s: manifest %s is an index, not an image manifest",
                          s->name, digest);
    } else {
        rc = manifest_layers(s, m, digest, opts);
    }
    json_decref(m);
    return rc;
}

/* --- limits ------------------------------------------------------------------ */
void mm_limits_fill(mm_limits *l)
{
    if (!l->max_entries) l->max_entries = MM_DEFAULT_MAX_ENTRIES;
    if (!l->max_path) l->max_path = MM_DEFAULT_MAX_PATH;
    if (!l->max_file_size) l->max_file_size = MM_DEFAULT_MAX_FILE_SIZE;
    if (!l->max_total_size) l->max_total_size = MM_DEFAULT_MAX_TOTAL_SIZE;
    if (!l->max_layers) l->max_layers = MM_DEFAULT_MAX_LAYERS;
    if (!l->max_json_size) l->max_json_size = MM_DEFAULT_MAX_JSON_SIZE;
    if (!l->max_buffered) l->max_buffered = MM_DEFAULT_MAX_BUFFERED;
}
