/*
 * npm.c - installed Node.js packages: the package.json at the root of every
 * package folder below node_modules ("node_modules/NAME/package.json",
 * "node_modules/@SCOPE/NAME/package.json", at any depth of nesting).
 *
 * Decision: an application's own package.json outside node_modules is not
 * reported (as trivy does for images): it describes the application, not
 * a dependency, and matching advisories by an application's free-form name
 * ("api", "test") would only produce false positives.  package.json files
 * deeper inside a package (test fixtures, "type": "module" markers in
 * sub-folders) are not package roots and are ignored for the same reason.
 * A file without a string name and version is skipped silently; invalid
 * JSON is a warning (node_modules is a cache, not a database).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pkg/analyzers.h"
#include "pkg/lang.h"
#include "util/util.h"

bool mm_npm_is_package_path(const char *path)
{
    if (strcmp(mm_path_base(path), "package.json") != 0)
        return false;
    size_t dl = mm_path_dirlen(path);
    /* Walk up: NAME, then optionally @SCOPE, then "node_modules". */
    size_t end = dl, start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    if (end == start) /* package.json at the root, or "//" */
        return false;
    if (path[start] == '@' || path[start] == '.')
        return false; /* "@scope/package.json", ".bin", ".cache" */
    for (int up = 0; up < 2; up++) {
        if (start == 0)
            return false;
        end = start - 1;
        start = end;
        while (start > 0 && path[start - 1] != '/')
            start--;
        size_t n = end - start;
        if (n == 12 && memcmp(path + start, "node_modules", 12) == 0)
            return true;
        if (up == 0 && n > 1 && path[start] == '@')
            continue; /* a scope folder: node_modules must be next */
        return false;
    }
    return false;
}

/* The licence as npm documents it: "MIT", {"type": "MIT"}, or the
 * deprecated "licenses": [{"type": "MIT"}, ...] (dual licensing, hence OR). */
static char *npm_license(json_t *root)
{
    json_t *l = json_object_get(root, "license");
    if (json_is_string(l) && *json_string_value(l))
        return mm_xstrdup(json_string_value(l));
    if (json_is_object(l)) {
        json_t *t = json_object_get(l, "type");
        if (json_is_string(t) && *json_string_value(t))
            return mm_xstrdup(json_string_value(t));
    }
    json_t *ls = json_object_get(root, "licenses");
    if (json_is_string(ls) && *json_string_value(ls))
        return mm_xstrdup(json_string_value(ls));
    if (json_is_array(ls)) {
        mm_buf b = MM_BUF_INIT;
        size_t i;
        json_t *v;
        json_array_foreach(ls, i, v) {
            const char *s = NULL;
            if (json_is_string(v))
                s = json_string_value(v);
            else if (json_is_object(v) &&
                     json_is_string(json_object_get(v, "type")))
                s = json_string_value(json_object_get(v, "type"));
            if (!s || !*s || i >= 16)
                continue;
            if (b.len)
                mm_buf_adds(&b, " OR ");
            mm_buf_adds(&b, s);
        }
        if (b.len)
            return mm_buf_detach(&b);
        mm_buf_free(&b);
    }
    return NULL;
}

int mm_npm_parse_package_json(mm_package *out, const char *data, size_t len,
                              const char *where)
{
    json_error_t jerr;
    memset(out, 0, sizeof *out);
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root)
        return mm_error_set(MM_EFORMAT, "%s: line %d: %s", where, jerr.line,
                            jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return mm_error_set(MM_EFORMAT, "%s: not a JSON object", where);
    }
    json_t *name = json_object_get(root, "name");
    json_t *version = json_object_get(root, "version");
    if (!json_is_string(name) || !json_is_string(version) ||
        !*json_string_value(name) || !*json_string_value(version)) {
        json_decref(root);
        return 1;
    }
    out->type = MM_PKG_NPM;
    out->name = mm_xstrdup(json_string_value(name));
    out->version = mm_xstrdup(json_string_value(version));
    out->license = npm_license(root);
    out->epoch = -1;
    out->layer = -1;
    json_decref(root);
    return 0;
}

/* --- the analyzer ------------------------------------------------------- */

typedef struct npm_state {
    mm_lang_store *recs; /* relative path -> the package (latest version seen) */
} npm_state;

static int npm_create(void **state, mm_actx *cx, const void *config)
{
    npm_state *s = mm_xcalloc(1, sizeof *s);
    s->recs = mm_lang_store_new();
    *state = s;
    return 0;
}

static void npm_destroy(void *state)
{
    npm_state *s = state;
    if (!s)
        return;
    mm_lang_store_free(s->recs);
    free(s);
}

static mm_want npm_wants(void *state, const mm_entry *e)
{
    return e->type == MM_ENT_REG && mm_npm_is_package_path(e->path)
               ? MM_WANT_WHOLE : MM_WANT_NONE;
}

static int npm_file(void *state, mm_actx *cx, const mm_entry *e,
                    const uint8_t *data, size_t len)
{
    npm_state *s = state;
    mm_package p;
    char *where = mm_xasprintf("/%s", e->path);
    int rc = mm_npm_parse_package_json(&p, (const char *)data, len, where);
    free(where);
    if (rc < 0) {
        mm_actx_warn(cx, "npm: %s (skipped)", mm_error_last());
        mm_lang_store_put(s->recs, e->path, e->layer, NULL);
        return 0;
    }
    if (rc > 0) {
        /* Not a package (any more): forget an older layer's version. */
        mm_lang_store_put(s->recs, e->path, e->layer, NULL);
        return 0;
    }
    mm_lang_result res = {0};
    rc = mm_lang_result_push(&res, &p);
    if (rc < 0)
        return rc;
    mm_lang_store_put(s->recs, e->path, e->layer, &res);
    return 0;
}

static int npm_finish(void *state, mm_actx *cx)
{
    npm_state *s = state;
    return mm_lang_store_emit(s->recs, cx);
}

const mm_analyzer_ops mm_analyzer_npm = {
    .name = "npm",
    .create = npm_create,
    .wants = npm_wants,
    .file = npm_file,
    .finish = npm_finish,
    .destroy = npm_destroy,
};
