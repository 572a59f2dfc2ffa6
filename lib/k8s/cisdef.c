/*
 * cisdef.c - kube-bench's definition files as the CIS runner reads them:
 * config.yaml and the controls files through the project's YAML loader
 * (keeping the text and key positions, so that an unquoted `id: 1.10`
 * reads as kube-bench's string "1.10"), viper's merge of a benchmark's
 * config.yaml over the root one, and the choice of benchmark from a
 * Kubernetes version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cis_int.h"

#define MAX_CFG (8u << 20)

/* --- definitions --------------------------------------------------------------------------------- */
/* A definitions file.  With raw/pm, its text and the positions of its
 * keys are kept: kube-bench reads ids into strings, so an unquoted
 * `id: 1.10` is "1.10" there, not the number 1.1 (raw_scalar). */
int k8s_cis_load_yaml(const char *path, json_t **out, char **raw, mm_yaml_posmap *pm)
{
    char *data;
    size_t len;
    *out = NULL;
    int rc = mm_file_read(path, MAX_CFG, &data, &len);
    if (rc < 0)
        return rc;
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_docs = 16;
    /* kube-bench files open with "---" and some hold two documents (a
     * comment block, then the controls): the first mapping wins */
    json_t *doc = NULL;
    rc = mm_yaml_load_one(&doc, data, len, path, &lim, pm);
    if (raw)
        *raw = data;
    else
        free(data);
    if (rc < 0)
        return rc;
    if (!json_is_object(doc)) {
        bool empty = json_is_null(doc);
        json_decref(doc);
        if (empty) {
            *out = json_object();
            return 0;
        }
        return mm_error_set(MM_EFORMAT, "%s: not a mapping", path);
    }
    *out = doc;
    return 0;
}

/* The text of the scalar value of key in obj, as written in the file
 * (quotes removed); NULL when unknown. */
char *k8s_cis_raw_scalar(const char *raw, const mm_yaml_posmap *pm, const json_t *obj,
                        const char *key)
{
    int line, col;
    if (!raw || !pm || !mm_yaml_pos_get(pm, obj, key, 0, &line, &col))
        return NULL;
    const char *p = raw;
    for (int l = 1; l < line && p; l++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    if (!p)
        return NULL;
    const char *eol = strchr(p, '\n');
    size_t ll = eol ? (size_t)(eol - p) : strlen(p);
    if ((size_t)col - 1 + strlen(key) >= ll)
        return NULL;
    const char *v = p + col - 1 + strlen(key);
    const char *end = p + ll;
    while (v < end && (*v == ' ' || *v == '"' || *v == '\'' || *v == ':'))
        v++;
    const char *e = v;
    while (e < end && *e != '"' && *e != '\'' && *e != ' ' && *e != '#' && *e != ',' &&
           *e != '}' && *e != '\r')
        e++;
    return e > v ? mm_xstrndup(v, (size_t)(e - v)) : NULL;
}

/* viper's MergeConfig: maps merge deeply, anything else replaces */
void k8s_cis_merge(json_t *dst, const json_t *src)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)src, k, v) {
        json_t *d = json_object_get(dst, k);
        if (json_is_object(d) && json_is_object(v))
            k8s_cis_merge(d, v);
        else
            json_object_set(dst, k, v);
    }
}

static bool version_key_newer(const char *a, const char *b)
{
    int am = 0, an = 0, bm = 0, bn = 0;
    sscanf(a, "%d.%d", &am, &an);
    sscanf(b, "%d.%d", &bm, &bn);
    return am != bm ? am > bm : an > bn;
}

char *k8s_cis_pick_benchmark(const mm_k8s_cis_opts *o, const json_t *cfg)
{
    if (o->benchmark && *o->benchmark)
        return mm_xstrdup(o->benchmark);
    const json_t *vm = kj_obj(cfg, "version_mapping");
    if (o->version && *o->version) {
        const char *v = o->version[0] == 'v' ? o->version + 1 : o->version;
        char buf[32];
        int maj = 0, min = 0;
        if (sscanf(v, "%d.%d", &maj, &min) == 2)
            snprintf(buf, sizeof buf, "%d.%d", maj, min);
        else
            snprintf(buf, sizeof buf, "%.31s", v);
        const char *b = kj_str(vm, buf);
        if (!b)
            mm_error_set(MM_ENOTFOUND, "no benchmark for Kubernetes version %s in "
                         "version_mapping", o->version);
        return b ? mm_xstrdup(b) : NULL;
    }
    const char *best = NULL, *bk = NULL, *k;
    json_t *v;
    json_object_foreach((json_t *)vm, k, v) {
        if (strspn(k, "0123456789.") != strlen(k) || !json_is_string(v))
            continue;
        if (!bk || version_key_newer(k, bk))
            bk = k, best = json_string_value(v);
    }
    if (!best)
        mm_error_set(MM_ENOTFOUND, "config.yaml has no version_mapping");
    return best ? mm_xstrdup(best) : NULL;
}

