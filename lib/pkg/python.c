/*
 * python.c - installed Python distributions: "*.dist-info/METADATA" (wheels,
 * pip), "*.egg-info/PKG-INFO", "EGG-INFO/PKG-INFO" (eggs) and Debian's
 * "*.egg-info" files, with the owned files listed in "*.dist-info/RECORD".
 *
 * Also holds the small helpers the language analyzers share (result
 * list, visibility check, inventory glue, the per-path package store
 * mm_lang_store): they live here rather than in a file of their own to
 * keep lib/pkg/meson.build unchanged.
 *
 * A METADATA without Name or Version is a warning, not an error: language
 * metadata is not a package-manager database, and one broken file must not
 * hide the rest of the image.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pkg/analyzers.h"
#include "pkg/lang.h"
#include "util/util.h"

/* --- shared helpers ----------------------------------------------------- */

void mm_lang_pkg_clear(mm_package *p)
{
    mm_package_clear(p);
    if (p)
        memset(p, 0, sizeof *p); /* language packages start zeroed */
}

int mm_lang_result_push(mm_lang_result *r, mm_package *p)
{
    if (r->npkgs >= MM_LANG_MAX_PKGS) {
        mm_lang_pkg_clear(p);
        return mm_error_set(MM_ELIMIT, "more than %u packages in one file",
                            MM_LANG_MAX_PKGS);
    }
    if (r->npkgs == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 8;
        r->pkgs = mm_xrealloc(r->pkgs, r->cap * sizeof *r->pkgs);
    }
    r->pkgs[r->npkgs++] = *p;
    memset(p, 0, sizeof *p);
    return 0;
}

void mm_lang_result_warn(mm_lang_result *r, const char *fmt, ...)
{
    /* A hostile archive could produce a warning per entry: keep a few. */
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&r->warnings, &r->nwarnings, 100, fmt, ap);
    va_end(ap);
}

void mm_lang_result_free(mm_lang_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->npkgs; i++)
        mm_lang_pkg_clear(&r->pkgs[i]);
    free(r->pkgs);
    mm_strv_free(r->warnings, r->nwarnings);
    memset(r, 0, sizeof *r);
}

bool mm_lang_visible(const mm_tree *t, const char *relpath, int layer)
{
    const mm_node *n = t ? mm_tree_get(t, relpath) : NULL;
    return n && n->layer == layer;
}

int mm_lang_emit(mm_actx *cx, mm_package *p, const char *relpath, int layer)
{
    mm_package q = *p;
    char *path = NULL;
    if (!q.path) {
        path = mm_xasprintf("/%s", relpath);
        q.path = path;
    }
    q.layer = layer;
    q.layer_digest = (char *)mm_actx_layer_digest(cx, layer);
    if (!q.epoch)
        q.epoch = -1;
    int rc = mm_inventory_add(mm_actx_inventory(cx), &q, NULL);
    free(path);
    return rc;
}

/* --- the per-path package store of the language analyzers ------------- */

typedef struct store_rec {
    int layer;
    mm_lang_result res;
} store_rec;

struct mm_lang_store {
    mm_map *recs; /* relative path -> store_rec */
};

static void store_rec_free(void *v)
{
    store_rec *r = v;
    if (!r)
        return;
    mm_lang_result_free(&r->res);
    free(r);
}


mm_lang_store *mm_lang_store_new(void)
{
    mm_lang_store *s = mm_xcalloc(1, sizeof *s);
    s->recs = mm_map_new();
    return s;
}

void mm_lang_store_free(mm_lang_store *s)
{
    if (!s)
        return;
    mm_map_free(s->recs, store_rec_free);
    free(s);
}

void mm_lang_store_put(mm_lang_store *s, const char *relpath, int layer,
                        mm_lang_result *res)
{
    if (!res) {
        store_rec_free(mm_map_del(s->recs, relpath));
        return;
    }
    store_rec *r = mm_xcalloc(1, sizeof *r);
    r->layer = layer;
    r->res = *res;
    memset(res, 0, sizeof *res);
    store_rec_free(mm_map_put(s->recs, relpath, r));
}

void mm_lang_store_parsed(mm_lang_store *s, mm_actx *cx, const char *what,
                          const char *relpath, int layer, int rc, mm_lang_result *res)
{
    if (rc < 0) {
        mm_actx_warn(cx, "%s: %s (skipped)", what, mm_error_last());
        mm_lang_result_free(res);
        mm_lang_store_put(s, relpath, layer, NULL);
        return;
    }
    mm_lang_store_put(s, relpath, layer, res);
}

int mm_lang_store_emit(mm_lang_store *s, mm_actx *cx)
{
    const mm_tree *t = mm_actx_tree(cx);
    size_t it = 0;
    const char *key;
    void *val;
    while (mm_map_next(s->recs, &it, &key, &val)) {
        store_rec *r = val;
        if (!mm_lang_visible(t, key, r->layer))
            continue;
        for (size_t i = 0; i < r->res.npkgs; i++) {
            int rc = mm_lang_emit(cx, &r->res.pkgs[i], key, r->layer);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* --- pure parsers ------------------------------------------------------- */

enum mm_python_kind mm_python_path_kind(const char *path, bool is_file)
{
    const char *base = mm_path_base(path);
    size_t dl = mm_path_dirlen(path);
    const char *dir = path;
    if (dl == 0 || base == path) {
        /* a bare "x.egg-info" at the root */
        return is_file && mm_str_endswith(path, ".egg-info") ? MM_PY_METADATA
                                                             : MM_PY_NONE;
    }
    /* the parent folder's name: dir[ps .. dl) */
    size_t ps = dl;
    while (ps > 0 && dir[ps - 1] != '/')
        ps--;
    const char *parent = dir + ps;
    size_t plen = dl - ps;
#define PARENT_ENDS(suf) (plen >= sizeof(suf) - 1 && \
        memcmp(parent + plen - (sizeof(suf) - 1), suf, sizeof(suf) - 1) == 0)
    if (strcmp(base, "METADATA") == 0 && PARENT_ENDS(".dist-info"))
        return MM_PY_METADATA;
    if (strcmp(base, "RECORD") == 0 && PARENT_ENDS(".dist-info"))
        return MM_PY_RECORD;
    if (strcmp(base, "PKG-INFO") == 0 &&
        (PARENT_ENDS(".egg-info") ||
         (plen == 8 && memcmp(parent, "EGG-INFO", 8) == 0)))
        return MM_PY_METADATA;
#undef PARENT_ENDS
    if (is_file && mm_str_endswith(base, ".egg-info"))
        return MM_PY_METADATA;
    return MM_PY_NONE;
}

/* Is a header value worth keeping as a licence? */
static bool license_usable(const char *v)
{
    return v && *v && strcasecmp(v, "UNKNOWN") != 0 &&
           strcasecmp(v, "none") != 0;
}

int mm_python_parse_metadata(mm_package *out, const char *data, size_t len,
                             const char *where)
{
    mm_lines it;
    const char *line;
    size_t n;
    /* The header currently being read (continuation lines append). */
    enum { H_OTHER, H_NAME, H_VERSION, H_LICENSE, H_LEXPR, H_CLASSIFIER } cur
        = H_OTHER;
    mm_buf name = MM_BUF_INIT, version = MM_BUF_INIT, lic = MM_BUF_INIT,
           lexpr = MM_BUF_INIT, classes = MM_BUF_INIT, cls = MM_BUF_INIT;
    bool seen_name = false, seen_version = false, seen_lic = false,
         seen_lexpr = false;

    memset(out, 0, sizeof *out);
    mm_lines_init(&it, data, len);
    for (;;) {
        bool more = mm_lines_next(&it, &line, &n);
        bool cont = more && n > 0 && (line[0] == ' ' || line[0] == '\t');
        /* A classifier is complete when the next header (or the end)
         * starts: keep the last "::" part of "License :: ... :: X". */
        if (cur == H_CLASSIFIER && !cont) {
            char *c = cls.data ? mm_str_trim(cls.data) : NULL;
            if (c && mm_str_startswith(c, "License ::")) {
                const char *last = c;
                for (const char *s = c; (s = strstr(s, "::")) != NULL; s += 2)
                    last = s + 2;
                char *v = mm_xstrdup(last);
                mm_str_trim(v);
                if (*v && strcmp(v, "OSI Approved") != 0) {
                    if (classes.len)
                        mm_buf_adds(&classes, ", ");
                    mm_buf_adds(&classes, v);
                }
                free(v);
            }
            mm_buf_clear(&cls);
            cur = H_OTHER;
        }
        if (!more || n == 0)
            break; /* the body (description) follows the first blank line */
        if (cont) {
            mm_buf *b = cur == H_LICENSE ? &lic : cur == H_LEXPR ? &lexpr
                      : cur == H_CLASSIFIER ? &cls : NULL;
            if (b) {
                mm_buf_addc(b, '\n');
                mm_buf_add(b, line, n);
            }
            continue;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon) {
            cur = H_OTHER;
            continue;
        }
        size_t klen = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vlen = n - klen - 1;
#define KEY(k) (klen == sizeof(k) - 1 && strncasecmp(line, k, klen) == 0)
        mm_buf *dst = NULL;
        cur = H_OTHER;
        if (KEY("Name") && !seen_name) {
            dst = &name; cur = H_NAME; seen_name = true;
        } else if (KEY("Version") && !seen_version) {
            dst = &version; cur = H_VERSION; seen_version = true;
        } else if (KEY("License") && !seen_lic) {
            dst = &lic; cur = H_LICENSE; seen_lic = true;
        } else if (KEY("License-Expression") && !seen_lexpr) {
            dst = &lexpr; cur = H_LEXPR; seen_lexpr = true;
        } else if (KEY("Classifier")) {
            dst = &cls; cur = H_CLASSIFIER;
        }
#undef KEY
        if (dst)
            mm_buf_add(dst, v, vlen);
    }

    int rc = 0;
    char *nm = mm_str_trim(mm_buf_detach(&name));
    char *ver = mm_str_trim(mm_buf_detach(&version));
    char *l = mm_str_trim(mm_buf_detach(&lic));
    char *le = mm_str_trim(mm_buf_detach(&lexpr));
    char *cl = mm_buf_detach(&classes);
    mm_buf_free(&cls);
    if (!*nm || !*ver) {
        rc = mm_error_set(MM_EFORMAT, "%s: no %s header", where,
                          !*nm ? "Name" : "Version");
        free(nm);
        free(ver);
        free(l);
        free(le);
        free(cl);
        return rc;
    }
    out->type = MM_PKG_PYTHON;
    out->name = nm;
    out->version = ver;
    out->epoch = -1;
    out->layer = -1;
    /* Preference: the SPDX expression (metadata 2.4), a one-line License,
     * the licence classifiers, else the first line of a License that holds
     * a whole licence text. */
    if (license_usable(le)) {
        out->license = le;
        le = NULL;
    } else if (license_usable(l) && !strchr(l, '\n') && strlen(l) <= 200) {
        out->license = l;
        l = NULL;
    } else if (*cl) {
        out->license = cl;
        cl = NULL;
    } else if (license_usable(l)) {
        size_t fl = strcspn(l, "\n");
        if (fl <= 200) {
            l[fl] = 0;
            mm_str_trim(l);
            if (*l) {
                out->license = l;
                l = NULL;
            }
        }
    }
    free(l);
    free(le);
    free(cl);
    return 0;
}

int mm_python_parse_record(char ***files, size_t *nfiles, const char *data,
                           size_t len, const char *sitedir)
{
    mm_lines it;
    const char *line;
    size_t n;
    mm_buf field = MM_BUF_INIT;
    mm_lines_init(&it, data, len);
    while (mm_lines_next(&it, &line, &n)) {
        if (*nfiles >= MM_LANG_MAX_FILES)
            break;
        /* The first CSV field; quoted when it holds a comma or a quote. */
        mm_buf_clear(&field);
        size_t i = 0;
        if (n && line[0] == '"') {
            for (i = 1; i < n; i++) {
                if (line[i] == '"') {
                    if (i + 1 < n && line[i + 1] == '"') {
                        mm_buf_addc(&field, '"');
                        i++;
                        continue;
                    }
                    break;
                }
                mm_buf_addc(&field, line[i]);
            }
        } else {
            while (i < n && line[i] != ',')
                i++;
            mm_buf_add(&field, line, i);
        }
        if (!field.len || memchr(field.data, 0, field.len))
            continue;
        bool escaped = false;
        char *p = mm_path_join_norm(sitedir, field.data, &escaped);
        if (p && !escaped) {
            char *abs = mm_xasprintf("/%s", p);
            mm_strv_push(files, nfiles, abs);
            free(abs);
        }
        free(p);
    }
    mm_buf_free(&field);
    return 0;
}

/* --- the analyzer ------------------------------------------------------- */

/* One distribution, keyed by its metadata folder (or egg-info file). */
typedef struct py_dist {
    char *meta;        /* relative path of METADATA / PKG-INFO */
    int meta_layer;    /* -1 while unseen */
    bool ok;           /* pkg holds a parsed version of meta_layer */
    mm_package pkg;
    char *record;      /* relative path of RECORD */
    int record_layer;
    char **files;
    size_t nfiles;
} py_dist;

typedef struct py_state {
    mm_map *dists;
} py_state;

static void py_dist_free(void *v)
{
    py_dist *d = v;
    if (!d)
        return;
    free(d->meta);
    free(d->record);
    mm_lang_pkg_clear(&d->pkg);
    mm_strv_free(d->files, d->nfiles);
    free(d);
}

static int py_create(void **state, mm_actx *cx, const void *config)
{
    py_state *s = mm_xcalloc(1, sizeof *s);
    s->dists = mm_map_new();
    *state = s;
    return 0;
}

static void py_destroy(void *state)
{
    py_state *s = state;
    if (!s)
        return;
    mm_map_free(s->dists, py_dist_free);
    free(s);
}

static mm_want py_wants(void *state, const mm_entry *e)
{
    if (e->type != MM_ENT_REG)
        return MM_WANT_NONE;
    return mm_python_path_kind(e->path, true) != MM_PY_NONE ? MM_WANT_WHOLE
                                                            : MM_WANT_NONE;
}

static py_dist *py_get(py_state *s, const char *key, size_t klen)
{
    py_dist *d = mm_map_getn(s->dists, key, klen);
    if (!d) {
        char *k = mm_xstrndup(key, klen);
        d = mm_xcalloc(1, sizeof *d);
        d->meta_layer = d->record_layer = -1;
        mm_map_put(s->dists, k, d);
        free(k);
    }
    return d;
}

static int py_file(void *state, mm_actx *cx, const mm_entry *e,
                   const uint8_t *data, size_t len)
{
    py_state *s = state;
    enum mm_python_kind k = mm_python_path_kind(e->path, true);
    const char *base = mm_path_base(e->path);
    /* The key: the metadata folder, or the egg-info file itself. */
    size_t klen = mm_str_endswith(base, ".egg-info") ? strlen(e->path)
                                                      : mm_path_dirlen(e->path);
    if (k == MM_PY_METADATA) {
        py_dist *d = py_get(s, e->path, klen);
        char *where = mm_xasprintf("/%s", e->path);
        mm_lang_pkg_clear(&d->pkg);
        d->ok = false;
        free(d->meta);
        d->meta = mm_xstrdup(e->path);
        d->meta_layer = e->layer;
        if (mm_python_parse_metadata(&d->pkg, (const char *)data, len,
                                     where) == 0)
            d->ok = true;
        else
            mm_actx_warn(cx, "python: %s (skipped)", mm_error_last());
        free(where);
    } else if (k == MM_PY_RECORD) {
        py_dist *d = py_get(s, e->path, klen);
        mm_strv_free(d->files, d->nfiles);
        d->files = NULL;
        d->nfiles = 0;
        free(d->record);
        d->record = mm_xstrdup(e->path);
        d->record_layer = e->layer;
        /* RECORD paths are relative to site-packages: the parent of the
         * dist-info folder. */
        char *site = mm_xasprintf("/%.*s", (int)mm_path_dirlen(e->path),
                                  e->path);
        site[mm_path_dirlen(site)] = 0;
        mm_python_parse_record(&d->files, &d->nfiles, (const char *)data, len,
                               site);
        free(site);
    }
    return 0;
}

static int py_finish(void *state, mm_actx *cx)
{
    py_state *s = state;
    const mm_tree *t = mm_actx_tree(cx);
    size_t it = 0;
    const char *key;
    void *val;
    while (mm_map_next(s->dists, &it, &key, &val)) {
        py_dist *d = val;
        if (!d->ok || !mm_lang_visible(t, d->meta, d->meta_layer))
            continue;
        mm_package p = d->pkg;
        if (d->record && mm_lang_visible(t, d->record, d->record_layer)) {
            p.files = d->files;
            p.nfiles = d->nfiles;
        }
        int rc = mm_lang_emit(cx, &p, d->meta, d->meta_layer);
        if (rc < 0)
            return rc;
    }
    return 0;
}

const mm_analyzer_ops mm_analyzer_python = {
    .name = "python",
    .create = py_create,
    .wants = py_wants,
    .file = py_file,
    .finish = py_finish,
    .destroy = py_destroy,
};
