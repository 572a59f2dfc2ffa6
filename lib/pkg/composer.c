/*
 * composer.c - PHP packages installed by Composer, read from
 * "vendor/composer/installed.json" (what `composer install` writes next to
 * the code it installed: Composer 1 writes a JSON array of packages,
 * Composer 2 an object {"packages": [...], "dev": ..., ...}).
 *
 * Decisions: versions are kept as written ("v6.3.0" stays "v6.3.0": the
 * purl and advisories of Packagist use the tag as published); the licence
 * array lists alternatives (Composer's documentation: "the user may choose
 * either"), so it is joined with " OR ".  The parser also reads
 * composer.lock (packages-dev marked indirect) for a later `mamori fs`.
 * A broken installed.json is a warning (vendor/ is an install cache).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "pkg/analyzers.h"
#include "pkg/lang2.h"
#include "util/util.h"

static char *composer_license(json_t *pkg)
{
    json_t *l = json_object_get(pkg, "license");
    if (json_is_string(l) && *json_string_value(l))
        return mm_lang2_strdup(json_string_value(l));
    if (!json_is_array(l))
        return NULL;
    mm_buf b = MM_BUF_INIT;
    size_t i;
    json_t *v;
    json_array_foreach(l, i, v) {
        if (i >= 16)
            break;
        if (!json_is_string(v) || !*json_string_value(v))
            continue;
        if (b.len)
            mm_buf_adds(&b, " OR ");
        mm_buf_add(&b, json_string_value(v),
                   strnlen(json_string_value(v), MM_LANG2_MAX_FIELD));
    }
    if (b.len)
        return mm_buf_detach(&b);
    mm_buf_free(&b);
    return NULL;
}

static int add_list(mm_lang_result *out, json_t *arr, bool indirect)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e) {
        json_t *name = json_object_get(e, "name");
        json_t *ver = json_object_get(e, "version");
        if (!json_is_string(name) || !json_is_string(ver) ||
            !*json_string_value(name) || !*json_string_value(ver))
            continue;
        mm_package p;
        memset(&p, 0, sizeof p);
        p.type = MM_PKG_COMPOSER;
        p.name = mm_lang2_strdup(json_string_value(name));
        p.version = mm_lang2_strdup(json_string_value(ver));
        p.license = composer_license(e);
        p.epoch = -1;
        p.layer = -1;
        p.indirect = indirect;
        int rc = mm_lang_result_push(out, &p);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mm_composer_parse_installed(mm_lang_result *out, const char *data,
                                size_t len, const char *where)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root)
        return mm_error_set(MM_EFORMAT, "%s: line %d: %s", where, jerr.line,
                            jerr.text);
    int rc = 0;
    if (json_is_array(root)) {
        rc = add_list(out, root, false);
    } else if (json_is_object(root) &&
               json_is_array(json_object_get(root, "packages"))) {
        rc = add_list(out, json_object_get(root, "packages"), false);
        if (rc == 0 && json_is_array(json_object_get(root, "packages-dev")))
            rc = add_list(out, json_object_get(root, "packages-dev"), true);
    } else {
        rc = mm_error_set(MM_EFORMAT, "%s: neither a package array nor an "
                          "object with \"packages\"", where);
    }
    if (rc == MM_ELIMIT)
        rc = mm_error_wrap(rc, "%s: ", where);
    json_decref(root);
    return rc;
}

/* --- field copies (see lang2.h) ------------------------------------------ */

char *mm_lang2_strdup(const char *s)
{
    return s ? mm_xstrndup(s, strnlen(s, MM_LANG2_MAX_FIELD)) : NULL;
}

/* --- the analyzer --------------------------------------------------------- */

static bool composer_path(const char *p)
{
    return strcmp(p, "vendor/composer/installed.json") == 0 ||
           mm_str_endswith(p, "/vendor/composer/installed.json");
}

static int composer_create(void **state, mm_actx *cx, const void *config)
{
    *state = mm_lang_store_new();
    return 0;
}

static void composer_destroy(void *state)
{
    mm_lang_store_free(state);
}

static mm_want composer_wants(void *state, const mm_entry *e)
{
    return e->type == MM_ENT_REG && composer_path(e->path) ? MM_WANT_WHOLE
                                                           : MM_WANT_NONE;
}

static int composer_file(void *state, mm_actx *cx, const mm_entry *e,
                         const uint8_t *data, size_t len)
{
    mm_lang_result res;
    memset(&res, 0, sizeof res);
    char *where = mm_xasprintf("/%s", e->path);
    int rc = mm_composer_parse_installed(&res, (const char *)data, len, where);
    free(where);
    mm_lang_store_parsed(state, cx, "composer", e->path, e->layer, rc, &res);
    return 0;
}

static int composer_finish(void *state, mm_actx *cx)
{
    return mm_lang_store_emit(state, cx);
}

const mm_analyzer_ops mm_analyzer_composer = {
    .name = "composer",
    .create = composer_create,
    .wants = composer_wants,
    .file = composer_file,
    .finish = composer_finish,
    .destroy = composer_destroy,
};
