/*
 * load.c - the Kubernetes object model and every offline input into it:
 * files and folders of YAML or JSON, multi-document streams, concatenated
 * JSON values, List kinds (kubectl get -o json snapshots, raw API lists
 * whose items carry no kind), standard input.  Each object keeps its
 * source and the posmap of its file, so a finding can name file:line of
 * the offending field.  Every input is capped (mm_k8s_limits).
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "k8s/k8s_int.h"

#define DEF_MAX_INPUT (512ull << 20)
#define DEF_MAX_TOTAL (2048ull << 20)

/* --- JSON helpers ---------------------------------------------------------------- */
json_t *kj_get(const json_t *o, const char *key)
{
    return json_is_object(o) ? json_object_get(o, key) : NULL;
}
const char *kj_str(const json_t *o, const char *key)
{
    return json_string_value(kj_get(o, key));
}
json_t *kj_obj(const json_t *o, const char *key)
{
    json_t *v = kj_get(o, key);
    return json_is_object(v) ? v : NULL;
}
json_t *kj_arr(const json_t *o, const char *key)
{
    json_t *v = kj_get(o, key);
    return json_is_array(v) ? v : NULL;
}
bool kj_true(const json_t *o, const char *key)
{
    return json_is_true(kj_get(o, key));
}
bool kj_false(const json_t *o, const char *key)
{
    return json_is_false(kj_get(o, key));
}
bool kj_int(const json_t *o, const char *key, json_int_t *out)
{
    json_t *v = kj_get(o, key);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* out of range (or NaN): not an integer we can hold */
        if (!(d > -9.2e18 && d < 9.2e18))
            return false;
        *out = (json_int_t)d;
        return true;
    }
    return false;
}

/* --- the set ------------------------------------------------------------------------ */
int mm_k8s_set_new(mm_k8s_set **out, const mm_k8s_limits *lim)
{
    mm_k8s_set *s = mm_xcalloc(1, sizeof *s);
    if (lim)
        s->lim = *lim;
    if (!s->lim.max_input)
        s->lim.max_input = DEF_MAX_INPUT;
    if (!s->lim.max_total)
        s->lim.max_total = DEF_MAX_TOTAL;
    if (!s->lim.max_docs)
        s->lim.max_docs = 200000;
    if (!s->lim.max_objects)
        s->lim.max_objects = 1000000;
    if (!s->lim.max_depth)
        s->lim.max_depth = 100;
    if (!s->lim.max_nodes)
        s->lim.max_nodes = 2000000;
    if (!s->lim.max_files)
        s->lim.max_files = 100000;
    *out = s;
    return 0;
}

void mm_k8s_set_free(mm_k8s_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        struct k8s_obj *o = &s->v[i];
        json_decref(o->j);
        free(o->api);
        free(o->kind);
        free(o->ns);
        free(o->name);
    }
    free(s->v);
    for (size_t i = 0; i < s->nsrc; i++) {
        free(s->src[i].name);
        mm_yaml_posmap_free(s->src[i].pm);
    }
    free(s->src);
    mm_strv_free(s->warn, s->nwarn);
    free(s);
}

void mm_k8s_warn(mm_k8s_set *s, const char *fmt, ...)
{
    if (s->nwarn >= 10000)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_strv_push(&s->warn, &s->nwarn, m);
    free(m);
}

size_t mm_k8s_count(const mm_k8s_set *s)
{
    return s ? s->n : 0;
}

const mm_k8s_object *mm_k8s_get(const mm_k8s_set *s, size_t i)
{
    return s && i < s->n ? &s->v[i].pub : NULL;
}

size_t mm_k8s_warning_count(const mm_k8s_set *s)
{
    return s ? s->nwarn : 0;
}

const char *mm_k8s_warning(const mm_k8s_set *s, size_t i)
{
    return s && i < s->nwarn ? s->warn[i] : NULL;
}

static size_t add_source(mm_k8s_set *s, const char *name, mm_yaml_posmap *pm)
{
    s->src = mm_xrealloc(s->src, (s->nsrc + 1) * sizeof *s->src);
    s->src[s->nsrc] = (struct k8s_source){mm_xstrdup(name), pm};
    return s->nsrc++;
}

/* Nesting depth of a JSON value, stopping past max. */
static size_t depth_of(const json_t *v, size_t max, size_t d)
{
    if (d > max)
        return d;
    size_t best = d;
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            size_t dd = depth_of(x, max, d + 1);
            if (dd > best)
                best = dd;
            if (best > max)
                break;
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) {
            size_t dd = depth_of(x, max, d + 1);
            if (dd > best)
                best = dd;
            if (best > max)
                break;
        }
    }
    return best;
}

static char *display_name(const json_t *meta)
{
    const char *n = kj_str(meta, "name");
    if (n)
        return mm_xstrdup(n);
    n = kj_str(meta, "generateName");
    if (n)
        return mm_xasprintf("%s*", n);
    return NULL;
}

/* Adds one object; a new reference to j is taken. */
static int add_obj(mm_k8s_set *s, size_t src, json_t *j, int line)
{
    if (s->n >= s->lim.max_objects)
        return mm_error_set(MM_ELIMIT, "%s: more than %zu objects", s->src[src].name,
                            s->lim.max_objects);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->v = mm_xrealloc(s->v, s->cap * sizeof *s->v);
    }
    struct k8s_obj *o = &s->v[s->n++];
    memset(o, 0, sizeof *o);
    o->j = json_incref(j);
    o->api = mm_xstrdup(kj_str(j, "apiVersion"));
    o->kind = mm_xstrdup(kj_str(j, "kind"));
    const json_t *meta = kj_obj(j, "metadata");
    o->ns = mm_xstrdup(kj_str(meta, "namespace"));
    if (o->ns && !*o->ns) {
        free(o->ns);
        o->ns = NULL;
    }
    o->name = display_name(meta);
    o->src = src;
    o->pub.api_version = o->api;
    o->pub.kind = o->kind;
    o->pub.ns = o->ns;
    o->pub.name = o->name;
    o->pub.source = s->src[src].name;
    o->pub.line = line;
    o->pub.json = o->j;
    return 0;
}

struct doc_ctx {
    mm_k8s_set *s;
    size_t src;
    bool in_folder;
    size_t ndocs;
};

static int item_line(const struct doc_ctx *d, const json_t *arr, size_t i, int dflt)
{
    int line = 0;
    const mm_yaml_posmap *pm = d->s->src[d->src].pm;
    if (pm && mm_yaml_pos_get(pm, arr, NULL, i, &line, NULL))
        return line;
    return dflt;
}

static int add_doc(struct doc_ctx *d, json_t *doc, int line, int depth)
{
    mm_k8s_set *s = d->s;
    const char *name = s->src[d->src].name;
    if (json_is_null(doc))
        return 0;
    if (!json_is_object(doc))
        return mm_error_set(MM_EFORMAT, "%s:%d: a document must be a mapping (an object), "
                            "not a %s", name, line,
                            json_is_array(doc) ? "list" : "scalar");
    /* the items of a List lie inside it: the List's walk bounded them */
    if (depth == 0 && depth_of(doc, s->lim.max_depth, 0) > s->lim.max_depth)
        return mm_error_set(MM_ELIMIT, "%s:%d: nesting deeper than %zu levels", name, line,
                            s->lim.max_depth);
    const char *kind = kj_str(doc, "kind");
    const char *api = kj_str(doc, "apiVersion");
    json_t *items = kj_arr(doc, "items");
    if (kind && items && mm_str_endswith(kind, "List") && depth < 2) {
        /* kubectl's List (items carry kind) or an API list (PodList:
         * items carry none; they take it from the list) */
        size_t kl = strlen(kind) - 4;
        for (size_t i = 0; i < json_array_size(items); i++) {
            json_t *it = json_array_get(items, i);
            int il = item_line(d, items, i, line);
            if (!json_is_object(it))
                return mm_error_set(MM_EFORMAT, "%s:%d: items[%zu] of the %s is not an "
                                    "object", name, il, i, kind);
            if (!kj_str(it, "kind") && kl > 0) {
                char *k = mm_xstrndup(kind, kl);
                json_object_set_new(it, "kind", json_string(k));
                free(k);
            }
            if (!kj_str(it, "apiVersion") && api)
                json_object_set_new(it, "apiVersion", json_string(api));
            int rc = add_doc(d, it, il, depth + 1);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    json_t *kc = !kind && !api ? kj_obj(doc, "kubeletconfig") : NULL;
    if (kc && json_object_size(doc) == 1) {
        /* a kubelet's /configz answer: its KubeletConfiguration */
        json_t *o = json_deep_copy(kc);
        json_object_set_new(o, "kind", json_string("KubeletConfiguration"));
        json_object_set_new(o, "apiVersion", json_string("kubelet.config.k8s.io/v1beta1"));
        if (!json_is_object(kj_get(o, "metadata")))
            json_object_set_new(o, "metadata", json_pack("{s:s}", "name", "configz"));
        int rc = add_doc(d, o, line, depth + 1);
        json_decref(o);
        return rc;
    }
    if (!kind || !api || !*kind || !*api) {
        const char *missing = !api || !*api ? "apiVersion" : "kind";
        if (d->in_folder) {
            mm_k8s_warn(s, "%s:%d: skipped a document without %s (not a Kubernetes "
                        "object)", name, line, missing);
            return 0;
        }
        if (kj_get(doc, missing))
            return mm_error_set(MM_EFORMAT, "%s:%d: field \"%s\" must be a non-empty string",
                                name, line, missing);
        return mm_error_set(MM_EFORMAT, "%s:%d: not a Kubernetes object: field \"%s\" is "
                            "missing", name, line, missing);
    }
    json_t *meta = kj_get(doc, "metadata");
    if (meta && !json_is_object(meta) && !json_is_null(meta))
        return mm_error_set(MM_EFORMAT, "%s:%d: field \"metadata\" must be an object", name,
                            line);
    json_t *nm = kj_get(meta, "name");
    if (nm && !json_is_string(nm) && !json_is_null(nm))
        return mm_error_set(MM_EFORMAT, "%s:%d: field \"metadata.name\" must be a string",
                            name, line);
    json_t *nsv = kj_get(meta, "namespace");
    if (nsv && !json_is_string(nsv) && !json_is_null(nsv))
        return mm_error_set(MM_EFORMAT, "%s:%d: field \"metadata.namespace\" must be a string",
                            name, line);
    return add_obj(s, d->src, doc, line);
}

static int on_yaml_doc(void *ud, json_t *doc, int line)
{
    struct doc_ctx *d = ud;
    d->ndocs++;
    int rc = add_doc(d, doc, line, 0);
    json_decref(doc);
    return rc;
}

static bool looks_json(const char *p, size_t len)
{
    size_t i = 0;
    if (len >= 3 && (unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
        (unsigned char)p[2] == 0xbf)
        i = 3;
    while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i < len && (p[i] == '{' || p[i] == '[');
}

static int line_at(const char *data, size_t off)
{
    int line = 1;
    for (size_t i = 0; i < off; i++)
        if (data[i] == '\n')
            line++;
    return line;
}

static int load_json(struct doc_ctx *d, const char *data, size_t len)
{
    const char *name = d->s->src[d->src].name;
    size_t off = 0;
    while (off < len) {
        while (off < len && (data[off] == ' ' || data[off] == '\t' || data[off] == '\r' ||
                             data[off] == '\n'))
            off++;
        if (off >= len)
            break;
        if (++d->ndocs > d->s->lim.max_docs)
            return mm_error_set(MM_ELIMIT, "%s: more than %zu documents", name,
                                d->s->lim.max_docs);
        json_error_t e;
        json_t *v = json_loadb(data + off, len - off,
                               JSON_DISABLE_EOF_CHECK | JSON_REJECT_DUPLICATES |
                                   JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        if (!v)
            return mm_error_set(MM_EFORMAT, "%s:%d:%d: %s", name,
                                e.line > 0 ? line_at(data, off) + e.line - 1 : line_at(data, off),
                                e.column > 0 ? e.column : 1, e.text);
        int line = line_at(data, off);
        int rc = 0;
        if (json_is_array(v)) {
            /* a bare array of objects */
            for (size_t i = 0; i < json_array_size(v) && rc == 0; i++)
                rc = add_doc(d, json_array_get(v, i), line, 0);
        } else {
            rc = add_doc(d, v, line, 0);
        }
        json_decref(v);
        if (rc < 0)
            return rc;
        off += e.position;
    }
    return 0;
}

static int load_buffer(mm_k8s_set *s, const char *name, const char *data, size_t len,
                       bool in_folder)
{
    if (len > s->lim.max_input)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, more than the cap of %llu", name, len,
                            (unsigned long long)s->lim.max_input);
    if (s->total + len > s->lim.max_total)
        return mm_error_set(MM_ELIMIT, "%s: the inputs pass the cap of %llu bytes in all",
                            name, (unsigned long long)s->lim.max_total);
    s->total += len;
    bool js = looks_json(data, len);
    mm_yaml_posmap *pm = js ? NULL : mm_yaml_posmap_new();
    struct doc_ctx d = {s, add_source(s, name, pm), in_folder, 0};
    if (js)
        return load_json(&d, data, len);
    mm_yaml_limits yl = {s->lim.max_depth, s->lim.max_nodes, s->lim.max_docs};
    return mm_yaml_parse(data, len, name, &yl, pm, on_yaml_doc, &d);
}

int mm_k8s_load_buffer(mm_k8s_set *s, const char *name, const char *data, size_t len)
{
    if (!s || (!data && len))
        return mm_error_set(MM_EINVAL, "k8s: no set or data");
    return load_buffer(s, name ? name : "-", data ? data : "", len, false);
}

int mm_k8s_add_json(mm_k8s_set *s, json_t *obj, const char *source)
{
    size_t src = s->nsrc && !strcmp(s->src[s->nsrc - 1].name, source) && !s->src[s->nsrc - 1].pm
                     ? s->nsrc - 1 : add_source(s, source, NULL);
    struct doc_ctx d = {s, src, false, 0};
    return add_doc(&d, obj, 0, 0);
}

static int load_file(mm_k8s_set *s, const char *path, bool in_folder)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, s->lim.max_input, &data, &len);
    if (rc < 0)
        return rc;
    rc = load_buffer(s, path, data, len, in_folder);
    free(data);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool manifest_name(const char *n)
{
    return mm_str_endswith(n, ".yaml") || mm_str_endswith(n, ".yml") ||
           mm_str_endswith(n, ".json");
}

static int load_dir(mm_k8s_set *s, const char *dir, int depth)
{
    if (depth > 64)
        return mm_error_set(MM_ELIMIT, "%s: folders nested deeper than 64", dir);
    DIR *dh = opendir(dir);
    if (!dh)
        return mm_error_set(MM_EIO, "%s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(dh))) {
        if (de->d_name[0] == '.')
            continue;   /* ., .., .git and other hidden entries */
        mm_strv_push(&names, &n, de->d_name);
    }
    closedir(dh);
    qsort(names, n, sizeof *names, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *p = mm_xasprintf("%s/%s", dir, names[i]);
        struct stat sb;
        if (lstat(p, &sb) == 0) {
            if (S_ISDIR(sb.st_mode)) {
                rc = load_dir(s, p, depth + 1);
            } else if (S_ISREG(sb.st_mode) && manifest_name(names[i])) {
                if (++s->files > s->lim.max_files)
                    rc = mm_error_set(MM_ELIMIT, "%s: more than %zu manifest files", dir,
                                      s->lim.max_files);
                else
                    rc = load_file(s, p, true);
            }
        }
        free(p);
    }
    mm_strv_free(names, n);
    return rc;
}

int mm_k8s_load_path(mm_k8s_set *s, const char *path)
{
    if (!s || !path)
        return mm_error_set(MM_EINVAL, "k8s: no set or path");
    struct stat sb;
    if (stat(path, &sb) < 0)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s", path,
                            strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        size_t before = s->n;
        char *p = mm_xstrdup(path);
        size_t l = strlen(p);
        while (l > 1 && p[l - 1] == '/')
            p[--l] = 0;
        int rc = load_dir(s, p, 0);
        free(p);
        if (rc == 0 && s->n == before)
            mm_k8s_warn(s, "%s: no Kubernetes objects in *.yaml, *.yml or *.json files", path);
        return rc;
    }
    return load_file(s, path, false);
}

/* --- field positions ------------------------------------------------------------------ */
int mm_k8s_field_line(const mm_k8s_set *s, size_t i, const char *path)
{
    if (!s || i >= s->n)
        return 0;
    const struct k8s_obj *o = &s->v[i];
    const mm_yaml_posmap *pm = s->src[o->src].pm;
    int best = o->pub.line;
    if (!pm || !path)
        return best;
    const json_t *cur = o->j;
    const char *p = path;
    char key[512];
    while (*p && cur) {
        int line = 0;
        if (*p == '[') {
            p++;
            if (*p == '\'' || *p == '"') {
                char q = *p++;
                size_t k = 0;
                while (*p && *p != q && k + 1 < sizeof key)
                    key[k++] = *p++;
                key[k] = 0;
                if (*p == q)
                    p++;
                if (*p == ']')
                    p++;
                if (!mm_yaml_pos_get(pm, cur, key, 0, &line, NULL))
                    break;
                cur = json_object_get(cur, key);
            } else {
                size_t idx = strtoul(p, (char **)&p, 10);
                if (*p == ']')
                    p++;
                if (!mm_yaml_pos_get(pm, cur, NULL, idx, &line, NULL))
                    break;
                cur = json_array_get(cur, idx);
            }
        } else {
            if (*p == '.')
                p++;
            size_t k = 0;
            while (*p && *p != '.' && *p != '[' && k + 1 < sizeof key)
                key[k++] = *p++;
            key[k] = 0;
            if (!mm_yaml_pos_get(pm, cur, key, 0, &line, NULL))
                break;
            cur = json_object_get(cur, key);
        }
        if (line > 0)
            best = line;
    }
    return best;
}

/* --- pod templates ------------------------------------------------------------------------ */
bool mm_k8s_pod_template(const mm_k8s_object *o, const json_t **meta, const json_t **spec,
                         const char **prefix)
{
    const json_t *j = o->json;
    const char *k = o->kind;
    const json_t *tmpl = NULL;
    const char *pfx = NULL, *mpfx = NULL;
    if (!k)
        return false;
    if (!strcmp(k, "Pod")) {
        *meta = kj_obj(j, "metadata");
        *spec = kj_obj(j, "spec");
        *prefix = "spec";
        return *spec != NULL;
    }
    if (!strcmp(k, "Deployment") || !strcmp(k, "ReplicaSet") || !strcmp(k, "StatefulSet") ||
        !strcmp(k, "DaemonSet") || !strcmp(k, "Job") || !strcmp(k, "ReplicationController") ||
        !strcmp(k, "DeploymentConfig")) {
        tmpl = kj_obj(kj_obj(j, "spec"), "template");
        pfx = "spec.template.spec";
        mpfx = "spec.template.metadata";
    } else if (!strcmp(k, "CronJob")) {
        tmpl = kj_obj(kj_obj(kj_obj(kj_obj(j, "spec"), "jobTemplate"), "spec"), "template");
        pfx = "spec.jobTemplate.spec.template.spec";
        mpfx = "spec.jobTemplate.spec.template.metadata";
    } else if (!strcmp(k, "PodTemplate")) {
        tmpl = kj_obj(j, "template");
        pfx = "template.spec";
        mpfx = "template.metadata";
    }
    if (!tmpl || !kj_obj(tmpl, "spec"))
        return false;
    (void)mpfx;
    *meta = kj_obj(tmpl, "metadata");
    *spec = kj_obj(tmpl, "spec");
    *prefix = pfx;
    return true;
}
