/*
 * config/dflint_config.c - the linter's configuration file: mamori's keys
 * and hadolint's .hadolint.yaml as it is (ignored, override, trustedRegistries,
 * label-schema, strict-labels, failure-threshold, no-fail,
 * disable-ignore-pragma; format/no-color/verbose are accepted and left to
 * the front-end).  Parsed with libyaml; a malformed document or a bad value
 * is an error naming the file and the line.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "config/dflint_int.h"

#define MAX_ITEMS 10000

static int yerr(const char *path, const yaml_node_t *n, const char *fmt, const char *a)
    __attribute__((format(printf, 3, 0)));
static int yerr(const char *path, const yaml_node_t *n, const char *fmt, const char *a)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    char *m = mm_xasprintf(fmt, a ? a : "");
#pragma GCC diagnostic pop
    int rc = mm_error_set(MM_EFORMAT, "%s:%zu: %s", path,
                          n ? (size_t)n->start_mark.line + 1 : (size_t)0, m);
    free(m);
    return rc;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* a list of strings, or (as hadolint allows for trustedRegistries) one */
static int strings(yaml_document_t *doc, yaml_node_t *n, const char *path, const char *key,
                   bool one_ok, char ***v, size_t *nv)
{
    if (n->type == YAML_SCALAR_NODE) {
        const char *s = scalar(n);
        if (!*s || !strcmp(s, "~") || !strcmp(s, "null"))
            return 0;
        if (!one_ok)
            return yerr(path, n, "%s: expected a list", key);
        if (*nv < MAX_ITEMS)
            mm_strv_push(v, nv, s);
        return 0;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return yerr(path, n, "%s: expected a list", key);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(doc, *it);
        const char *s = scalar(e);
        if (!s)
            return yerr(path, e, "%s: expected a list of strings", key);
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

static int boolean(const char *path, yaml_node_t *n, const char *key, bool *out)
{
    const char *s = scalar(n);
    if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcmp(s, "1")))
        *out = true;
    else if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcmp(s, "0")))
        *out = false;
    else
        return yerr(path, n, "%s: expected true or false", key);
    return 0;
}

static int overrides(mm_dflint_opts *o, yaml_document_t *doc, yaml_node_t *vn, const char *path)
{
    if (vn->type != YAML_MAPPING_NODE)
        return yerr(path, vn, "override: expected a mapping of levels to lists%s", NULL);
    int rc = 0;
    for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
         q < vn->data.mapping.pairs.top && rc == 0; q++) {
        yaml_node_t *qk = yaml_document_get_node(doc, q->key);
        const char *lvl = scalar(qk);
        yaml_node_t *qv = yaml_document_get_node(doc, q->value);
        mm_severity sev;
        if (!lvl || !qv)
            continue;
        if (mm_dflint_level_parse(&sev, lvl) < 0)
            return yerr(path, qk, "override: unknown level \"%s\" (error, warning, info, style, "
                        "ignore)", lvl);
        char **ids = NULL;
        size_t nids = 0;
        rc = strings(doc, qv, path, lvl, false, &ids, &nids);
        for (size_t i = 0; i < nids; i++)
            add_override(o, ids[i], sev);
        mm_strv_free(ids, nids);
    }
    return rc;
}

int mm_dflint_config_parse(mm_dflint_opts *o, const char *path, const char *data, size_t len)
{
    if (!o || !path || (!data && len))
        return mm_error_set(MM_EINVAL, "lint config: no options or data");
    if (len > (1u << 20))
        return mm_error_set(MM_ELIMIT, "%s: over 1 MiB: not a lint configuration", path);
    yaml_parser_t ps;
    yaml_document_t doc;
    yaml_parser_initialize(&ps);
    yaml_parser_set_input_string(&ps, (const unsigned char *)(data ? data : ""), len);
    if (!yaml_parser_load(&ps, &doc)) {
        int rc = mm_error_set(MM_EFORMAT, "%s:%zu: YAML: %s", path,
                              (size_t)ps.problem_mark.line + 1,
                              ps.problem ? ps.problem : "malformed");
        yaml_parser_delete(&ps);
        return rc;
    }
    int rc = 0;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || (root->type == YAML_SCALAR_NODE && !*root->data.scalar.value))
        goto out; /* an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        rc = yerr(path, root, "expected a mapping (ignored:, trustedRegistries:, override:, "
                  "...)%s", NULL);
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top && rc == 0; pr++) {
        yaml_node_t *kn = yaml_document_get_node(&doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(&doc, pr->value);
        const char *k = scalar(kn);
        if (!k || !vn)
            continue;
        if (!strcmp(k, "ignored")) {
            rc = strings(&doc, vn, path, k, false, &o->ignored, &o->nignored);
        } else if (!strcmp(k, "allowed-registries") || !strcmp(k, "allowed_registries") ||
                   !strcmp(k, "trustedRegistries")) {
            rc = strings(&doc, vn, path, k, true, &o->allowed_registries,
                         &o->nallowed_registries);
        } else if (!strcmp(k, "severity-overrides") || !strcmp(k, "severity_overrides")) {
            if (vn->type != YAML_MAPPING_NODE) {
                rc = yerr(path, vn, "severity-overrides: expected a mapping ID: SEVERITY%s", NULL);
                break;
            }
            for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
                 q < vn->data.mapping.pairs.top; q++) {
                yaml_node_t *qk = yaml_document_get_node(&doc, q->key);
                yaml_node_t *qv = yaml_document_get_node(&doc, q->value);
                mm_severity sev;
                if (!scalar(qk) || !scalar(qv) || mm_dflint_level_parse(&sev, scalar(qv)) < 0) {
                    rc = yerr(path, qv ? qv : qk, "severity-overrides: \"%s\": expected LOW, "
                              "MEDIUM, HIGH, CRITICAL (or error, warning, info, style, ignore)",
                              scalar(qv) ? scalar(qv) : "?");
                    break;
                }
                add_override(o, scalar(qk), sev);
            }
        } else if (!strcmp(k, "override")) {
            rc = overrides(o, &doc, vn, path);
        } else if (!strcmp(k, "label-schema")) {
            if (vn->type != YAML_MAPPING_NODE) {
                rc = yerr(path, vn, "label-schema: expected a mapping of label: type%s", NULL);
                break;
            }
            for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
                 q < vn->data.mapping.pairs.top && rc == 0; q++) {
                yaml_node_t *qk = yaml_document_get_node(&doc, q->key);
                yaml_node_t *qv = yaml_document_get_node(&doc, q->value);
                mm_dflint_label_type t;
                if (!scalar(qk) || !scalar(qv) || label_type(scalar(qv), &t) < 0) {
                    rc = yerr(path, qv ? qv : qk, "label-schema: \"%s\": expected text, url, "
                              "semver, hash, rfc3339, spdx or email", scalar(qv) ? scalar(qv)
                                                                                : "?");
                    break;
                }
                add_label(o, scalar(qk), t);
            }
        } else if (!strcmp(k, "strict-labels")) {
            rc = boolean(path, vn, k, &o->strict_labels);
        } else if (!strcmp(k, "no-fail")) {
            rc = boolean(path, vn, k, &o->no_fail);
        } else if (!strcmp(k, "disable-ignore-pragma")) {
            rc = boolean(path, vn, k, &o->disable_ignore_pragma);
        } else if (!strcmp(k, "failure-threshold")) {
            mm_severity sev;
            if (!scalar(vn) || mm_dflint_level_parse(&sev, scalar(vn)) < 0) {
                rc = yerr(path, vn, "failure-threshold: \"%s\": expected error, warning, info, "
                          "style, ignore or none", scalar(vn) ? scalar(vn) : "?");
                break;
            }
            o->has_threshold = true;
            o->threshold = sev;
        }
        /* format, no-color, verbose: hadolint's output; other keys are not
         * ours either */
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&ps);
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
