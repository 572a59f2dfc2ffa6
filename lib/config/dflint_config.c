/*
 * config/dflint_config.c - the linter's configuration file: mamori's keys
 * and hadolint's .hadolint.yaml as it is (ignored, override, trustedRegistries,
 * label-schema, strict-labels, failure-threshold, no-fail,
 * disable-ignore-pragma; format/no-color/verbose are accepted and left to
 * the front-end).  Read by the one YAML loader of lib/util; a malformed
 * document or a bad value is an error naming the file, line and column.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/dflint_int.h"

#define MAX_ITEMS 10000

/* The file's positions, for errors "FILE:LINE:COL: message". */
typedef struct yctx {
    const char *path;
    mm_yaml_posmap *pm;
} yctx;

static int yerr(const yctx *c, const json_t *parent, const char *key, size_t idx,
                const char *fmt, const char *a) __attribute__((format(printf, 5, 0)));
static int yerr(const yctx *c, const json_t *parent, const char *key, size_t idx,
                const char *fmt, const char *a)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char *m = mm_xasprintf(fmt, a ? a : "");
#pragma GCC diagnostic pop
    int rc = mm_yaml_errf(c->pm, c->path, parent, key, idx, MM_EFORMAT, "%s", m);
    free(m);
    return rc;
}

/* Every scalar is its text (MM_YAML_TEXT). */
static const char *scalar(const json_t *n) { return json_string_value(n); }

/* a list of strings, or (as hadolint allows for trustedRegistries) one */
static int strings(const yctx *c, const json_t *parent, const char *key, bool one_ok,
                   char ***v, size_t *nv)
{
    const json_t *n = json_object_get(parent, key);
    if (json_is_string(n)) {
        const char *s = scalar(n);
        if (!*s || !strcmp(s, "~") || !strcmp(s, "null"))
            return 0;
        if (!one_ok)
            return yerr(c, parent, key, 0, "%s: expected a list", key);
        if (*nv < MAX_ITEMS)
            mm_strv_push(v, nv, s);
        return 0;
    }
    if (!json_is_array(n))
        return yerr(c, parent, key, 0, "%s: expected a list", key);
    for (size_t i = 0; i < json_array_size(n); i++) {
        const char *s = scalar(json_array_get(n, i));
        if (!s)
            return yerr(c, n, NULL, i, "%s: expected a list of strings", key);
        if (*nv < MAX_ITEMS)
            mm_strv_push(v, nv, s);
    }
    return 0;
}

static void add_override(mm_dflint_opts *o, const char *id, mm_severity s)
{
    if (o->noverrides >= MAX_ITEMS)
        return;
    o->overrides = mm_xrealloc(o->overrides, (o->noverrides + 1) * sizeof *o->overrides);
    o->overrides[o->noverrides].id = mm_xstrdup(id);
    o->overrides[o->noverrides].severity = s;
    o->noverrides++;
}

int mm_dflint_level_parse(mm_severity *out, const char *s)
{
    if (!s)
        return mm_error_set(MM_EINVAL, "no level");
    if (!strcasecmp(s, "error"))
        *out = MM_SEV_HIGH;
    else if (!strcasecmp(s, "warning"))
        *out = MM_SEV_MEDIUM;
    else if (!strcasecmp(s, "info") || !strcasecmp(s, "style"))
        *out = MM_SEV_LOW;
    else if (!strcasecmp(s, "ignore") || !strcasecmp(s, "none"))
        *out = MM_SEV_UNKNOWN;
    else if (mm_severity_parse(out, s) < 0)
        return mm_error_set(MM_EINVAL, "\"%s\": expected error, warning, info, style, ignore, "
                            "none or LOW, MEDIUM, HIGH, CRITICAL", s);
    return 0;
}

static int label_type(const char *t, mm_dflint_label_type *out)
{
    static const struct { const char *n; mm_dflint_label_type t; } types[] = {
        {"text", MM_LABEL_TEXT}, {"", MM_LABEL_TEXT}, {"url", MM_LABEL_URL},
        {"semver", MM_LABEL_SEMVER}, {"hash", MM_LABEL_HASH}, {"rfc3339", MM_LABEL_RFC3339},
        {"spdx", MM_LABEL_SPDX}, {"email", MM_LABEL_EMAIL}};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(t, types[i].n)) {
            *out = types[i].t;
            return 0;
        }
    return -1;
}

static void add_label(mm_dflint_opts *o, const char *name, mm_dflint_label_type t)
{
    for (size_t i = 0; i < o->nlabels; i++)
        if (!strcmp(o->labels[i].name, name)) {
            o->labels[i].type = t;
            return;
        }
    if (o->nlabels >= MAX_ITEMS)
        return;
    o->labels = mm_xrealloc(o->labels, (o->nlabels + 1) * sizeof *o->labels);
    o->labels[o->nlabels].name = mm_xstrdup(name);
    o->labels[o->nlabels].type = t;
    o->nlabels++;
}

int mm_dflint_opts_add_label(mm_dflint_opts *o, const char *spec)
{
    const char *colon = spec ? strrchr(spec, ':') : NULL;
    if (!spec || !*spec || colon == spec)
        return mm_error_set(MM_EINVAL, "\"%s\": expected LABEL:TYPE (TYPE text, url, semver, "
                            "hash, rfc3339, spdx or email)", spec ? spec : "");
    mm_dflint_label_type t = MM_LABEL_TEXT;
    char *name = colon ? mm_xstrndup(spec, (size_t)(colon - spec)) : mm_xstrdup(spec);
    if (colon && label_type(colon + 1, &t) < 0) {
        free(name);
        return mm_error_set(MM_EINVAL, "\"%s\": unknown label type \"%s\" (text, url, semver, "
                            "hash, rfc3339, spdx, email)", spec, colon + 1);
    }
    add_label(o, name, t);
    free(name);
    return 0;
}

static int boolean(const yctx *c, const json_t *parent, const char *key, bool *out)
{
    const char *s = scalar(json_object_get(parent, key));
    if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1")))
        *out = true;
    else if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0")))
        *out = false;
    else
        return yerr(c, parent, key, 0, "%s: expected true or false", key);
    return 0;
}

static int overrides(mm_dflint_opts *o, const yctx *c, const json_t *root, const char *key)
{
    const json_t *vn = json_object_get(root, key);
    if (!json_is_object(vn))
        return yerr(c, root, key, 0, "override: expected a mapping of levels to lists%s", NULL);
    int rc = 0;
    const char *lvl;
    json_t *qv;
    json_object_foreach((json_t *)vn, lvl, qv) {
        mm_severity sev;
        if (mm_dflint_level_parse(&sev, lvl) < 0)
            return yerr(c, vn, lvl, 0, "override: unknown level \"%s\" (error, warning, info, "
                        "style, ignore)", lvl);
        char **ids = NULL;
        size_t nids = 0;
        rc = strings(c, vn, lvl, false, &ids, &nids);
        for (size_t i = 0; i < nids; i++)
            add_override(o, ids[i], sev);
        mm_strv_free(ids, nids);
        if (rc)
            break;
    }
    return rc;
}

static int parse_root(mm_dflint_opts *o, const yctx *c, const json_t *root)
{
    if (json_is_null(root) || (json_is_string(root) && !*json_string_value(root)))
        return 0; /* an empty file */
    if (!json_is_object(root))
        return yerr(c, NULL, NULL, 0, "expected a mapping (ignored:, trustedRegistries:, "
                    "override:, ...)%s", NULL);
    int rc = 0;
    const char *k;
    json_t *vn;
    json_object_foreach((json_t *)root, k, vn) {
        if (!strcmp(k, "ignored")) {
            rc = strings(c, root, k, false, &o->ignored, &o->nignored);
        } else if (!strcmp(k, "allowed-registries") || !strcmp(k, "allowed_registries") ||
                   !strcmp(k, "trustedRegistries")) {
            rc = strings(c, root, k, true, &o->allowed_registries, &o->nallowed_registries);
        } else if (!strcmp(k, "severity-overrides") || !strcmp(k, "severity_overrides")) {
            if (!json_is_object(vn))
                return yerr(c, root, k, 0, "severity-overrides: expected a mapping ID: "
                            "SEVERITY%s", NULL);
            const char *id;
            json_t *qv;
            json_object_foreach(vn, id, qv) {
                mm_severity sev;
                if (!scalar(qv) || mm_dflint_level_parse(&sev, scalar(qv)) < 0)
                    return yerr(c, vn, id, 0, "severity-overrides: \"%s\": expected LOW, "
                                "MEDIUM, HIGH, CRITICAL (or error, warning, info, style, "
                                "ignore)", scalar(qv) ? scalar(qv) : "?");
                add_override(o, id, sev);
            }
        } else if (!strcmp(k, "override")) {
            rc = overrides(o, c, root, k);
        } else if (!strcmp(k, "label-schema")) {
            if (!json_is_object(vn))
                return yerr(c, root, k, 0, "label-schema: expected a mapping of label: "
                            "type%s", NULL);
            const char *name;
            json_t *qv;
            json_object_foreach(vn, name, qv) {
                mm_dflint_label_type t;
                if (!scalar(qv) || label_type(scalar(qv), &t) < 0)
                    return yerr(c, vn, name, 0, "label-schema: \"%s\": expected text, url, "
                                "semver, hash, rfc3339, spdx or email",
                                scalar(qv) ? scalar(qv) : "?");
                add_label(o, name, t);
            }
        } else if (!strcmp(k, "strict-labels")) {
            rc = boolean(c, root, k, &o->strict_labels);
        } else if (!strcmp(k, "no-fail")) {
            rc = boolean(c, root, k, &o->no_fail);
        } else if (!strcmp(k, "disable-ignore-pragma")) {
            rc = boolean(c, root, k, &o->disable_ignore_pragma);
        } else if (!strcmp(k, "failure-threshold")) {
            mm_severity sev;
            if (!scalar(vn) || mm_dflint_level_parse(&sev, scalar(vn)) < 0)
                return yerr(c, root, k, 0, "failure-threshold: \"%s\": expected error, "
                            "warning, info, style, ignore or none",
                            scalar(vn) ? scalar(vn) : "?");
            o->has_threshold = true;
            o->threshold = sev;
        }
        /* format, no-color, verbose: hadolint's output; other keys are not
         * ours either */
        if (rc)
            break;
    }
    return rc;
}

int mm_dflint_config_parse(mm_dflint_opts *o, const char *path, const char *data, size_t len)
{
    if (!o || !path || (!data && len))
        return mm_error_set(MM_EINVAL, "lint config: no options or data");
    if (len > (1u << 20))
        return mm_error_set(MM_ELIMIT, "%s: over 1 MiB: not a lint configuration", path);
    /* every scalar as its text, the first document only, a repeated key
     * keeps its last value (hadolint's files are read leniently) */
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.first_doc_only = true;
    lim.dup_last_wins = true;
    yctx c = {path, mm_yaml_posmap_new()};
    json_t *root = NULL;
    int rc = mm_yaml_load_one(&root, data ? data : "", len, path, &lim, c.pm);
    if (rc == 0)
        rc = parse_root(o, &c, root);
    json_decref(root);
    mm_yaml_posmap_free(c.pm);
    return rc;
}

int mm_dflint_config_load(mm_dflint_opts *o, const char *path)
{
    if (!o || !path)
        return mm_error_set(MM_EINVAL, "lint config: no options or path");
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, 1u << 20, &data, &len);
    if (rc < 0)
        return rc;
    rc = mm_dflint_config_parse(o, path, data, len);
    free(data);
    return rc;
}
