/*
 * check.c - runs the Kubernetes checks over a set: per object the Pod
 * Security Standards and workload hardening, then the cross-object and
 * RBAC checks; turns each violation into an mm_finding located at the
 * object ("namespace/Kind/name"), the JSON path of the field and its file
 * line; honours mamori.io/ignore annotations.  A (rule, object, field)
 * triple is reported once.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "k8s/k8s_int.h"

#define IGNORE_ANNOTATION "mamori.io/ignore"

void mm_k8s_check_opts_init(mm_k8s_check_opts *o)
{
    memset(o, 0, sizeof *o);
    o->checks = MM_K8S_CHECK_DEFAULT;
    o->pss_level = MM_PSS_RESTRICTED;
    o->pss_version = MM_PSS_LATEST;
}

/* "ns/Kind/name" (or "Kind/name"), made for every finding: concatenated,
 * not formatted. */
static char *resource_of(const mm_k8s_object *o)
{
    mm_buf b = MM_BUF_INIT;
    if (o->ns) {
        mm_buf_adds(&b, o->ns);
        mm_buf_addc(&b, '/');
    }
    mm_buf_adds(&b, o->kind ? o->kind : "?");
    mm_buf_addc(&b, '/');
    mm_buf_adds(&b, o->name ? o->name : "?");
    return mm_buf_detach(&b);
}

static void push_ignores(k8s_ctx *c, const json_t *meta)
{
    const char *v = kj_str(kj_obj(meta, "annotations"), IGNORE_ANNOTATION);
    if (!v)
        return;
    char *dup = mm_xstrdup(v), *save = NULL;
    for (char *t = strtok_r(dup, ", \t\n", &save); t; t = strtok_r(NULL, ", \t\n", &save)) {
        if (!strcmp(t, "*") || !strcasecmp(t, "all"))
            c->ignore_all = true;
        else
            mm_strv_push(&c->ignore, &c->nignore, t);
    }
    free(dup);
}

void k8s_load_ignores(k8s_ctx *c, size_t i)
{
    mm_strv_free(c->ignore, c->nignore);
    c->ignore = NULL;
    c->nignore = 0;
    c->ignore_all = false;
    c->obj = i;
    if (c->o->no_annotations)
        return;
    const mm_k8s_object *o = mm_k8s_get(c->s, i);
    if (!o)
        return;
    push_ignores(c, kj_obj(o->json, "metadata"));
    const json_t *meta, *spec;
    const char *prefix;
    if (mm_k8s_pod_template(o, &meta, &spec, &prefix) && strcmp(o->kind, "Pod"))
        push_ignores(c, meta);
}

static bool ignored(const k8s_ctx *c, const char *id)
{
    if (c->ignore_all)
        return true;
    for (size_t i = 0; i < c->nignore; i++)
        if (!strcmp(c->ignore[i], id))
            return true;
    return false;
}

static void vreport(k8s_ctx *c, size_t obj, const char *id, const char *field, const char *evfmt,
                    va_list ap)
{
    const mm_k8s_rule *r = c->rules ? mm_map_get(c->rules, id) : mm_k8s_rule_find(id);
    const mm_k8s_object *o = mm_k8s_get(c->s, obj);
    if (!r || !o)
        return;
    unsigned checks = c->o->checks ? c->o->checks : MM_K8S_CHECK_DEFAULT;
    unsigned bit = !strcmp(r->family, "pss") ? MM_K8S_CHECK_PSS
                 : !strcmp(r->family, "workload") ? MM_K8S_CHECK_WORKLOAD
                 : !strcmp(r->family, "rbac") ? MM_K8S_CHECK_RBAC
                 : !strcmp(r->family, "refs") ? MM_K8S_CHECK_REFS
                 : !strcmp(r->family, "net") ? MM_K8S_CHECK_NET
                 : !strcmp(r->family, "sensitivity") ? MM_K8S_CHECK_SENS
                 : !strcmp(r->family, "node") ? MM_K8S_CHECK_NODE : MM_K8S_CHECK_AVAIL;
    if (!(checks & bit))
        return;
    if (obj == c->obj && ignored(c, id))
        return;
    if (obj != c->obj) {
        /* a cross-object finding honours the annotations of its own object */
        size_t keep = c->obj;
        k8s_load_ignores(c, obj);
        bool ign = ignored(c, id);
        k8s_load_ignores(c, keep);
        if (ign)
            return;
    }
    /* "id\x1fobj\x1ffield": one report per rule, object and field */
    char kbuf[512], num[24];
    mm_str_utoa(num, obj);
    const char *kp[] = {id, "\x1f", num, "\x1f", field};
    char *key = mm_str_cat(kbuf, sizeof kbuf, kp, 5) < sizeof kbuf
                    ? kbuf : mm_xasprintf("%s\x1f%s\x1f%s", id, num, field ? field : "");
    bool dup = mm_map_get(c->seen, key) != NULL;
    if (!dup)
        mm_map_put(c->seen, key, (void *)1);
    if (key != kbuf)
        free(key);
    if (dup)
        return;
    char *res = resource_of(o);
    char *ev = NULL;
    if (evfmt && !strcmp(evfmt, "%s")) {
        /* preformatted evidence (the PSS checks): no second printf */
        const char *e = va_arg(ap, const char *);
        ev = mm_xstrdup(e ? e : "(null)");
    } else if (evfmt) {
        ev = mm_xvasprintf(evfmt, ap);
    }
    char *refs[8];
    size_t nr = 0;
    char ubuf[512];
    char *up = NULL;
    if (r->upstream) {
        size_t ul = strlen(r->upstream);
        up = ul < sizeof ubuf ? memcpy(ubuf, r->upstream, ul + 1) : mm_xstrdup(r->upstream);
    }
    if (up) {
        char *save = NULL;
        for (char *t = strtok_r(up, ";", &save); t && nr < 7; t = strtok_r(NULL, ";", &save)) {
            while (*t == ' ')
                t++;
            refs[nr++] = t;
        }
    }
    if (!strcmp(r->family, "pss"))
        refs[nr++] = "https://kubernetes.io/docs/concepts/security/pod-security-standards/";
    mm_finding f;
    memset(&f, 0, sizeof f);
    f.id = (char *)r->id;
    f.kind = !strcmp(r->family, "pss") ? MM_FIND_COMPLIANCE : MM_FIND_MISCONFIG;
    f.severity = r->severity;
    f.title = (char *)r->title;
    f.loc.layer = -1;
    f.loc.path = (char *)o->source;
    f.loc.line = mm_k8s_field_line(c->s, obj, field);
    f.loc.resource = res;
    f.loc.field = (char *)field;
    f.evidence = ev;
    f.remediation = (char *)r->remediation;
    f.references = refs;
    f.nreferences = nr;
    f.section = (char *)r->section;
    mm_findings_add(c->out, &f);
    if (up != ubuf)
        free(up);
    free(ev);
    free(res);
}

void k8s_report(k8s_ctx *c, const char *id, const char *field, const char *evfmt, ...)
{
    va_list ap;
    va_start(ap, evfmt);
    vreport(c, c->obj, id, field, evfmt, ap);
    va_end(ap);
}

void k8s_report_on(k8s_ctx *c, size_t obj, const char *id, const char *field,
                   const char *evfmt, ...)
{
    va_list ap;
    va_start(ap, evfmt);
    vreport(c, obj, id, field, evfmt, ap);
    va_end(ap);
}

void k8s_visit_containers(k8s_ctx *c, const json_t *spec, const char *prefix,
                          k8s_container_fn fn, void *ud)
{
    static const char *const lists[] = {"initContainers", "containers", "ephemeralContainers"};
    for (int l = 0; l < 3; l++) {
        const json_t *arr = kj_arr(spec, lists[l]);
        for (size_t i = 0; i < json_array_size(arr); i++) {
            const json_t *ctr = json_array_get(arr, i);
            if (!json_is_object(ctr))
                continue;
            char pbuf[256], num[24];
            mm_str_utoa(num, i);
            const char *pp[] = {prefix, ".", lists[l], "[", num, "]"};
            char *path = mm_str_cat(pbuf, sizeof pbuf, pp, 6) < sizeof pbuf
                             ? pbuf : mm_xasprintf("%s.%s[%s]", prefix, lists[l], num);
            fn(c, ctr, path, l == 0, ud);
            if (path != pbuf)
                free(path);
        }
    }
}

/* --- label selectors ---------------------------------------------------------------- */
static bool label_in(const json_t *values, const char *v)
{
    for (size_t i = 0; i < json_array_size(values); i++) {
        const char *x = json_string_value(json_array_get(values, i));
        if (x && v && !strcmp(x, v))
            return true;
    }
    return false;
}

bool k8s_selector_matches(const json_t *sel, const json_t *labels, bool plain_map)
{
    const json_t *ml = plain_map ? sel : kj_obj(sel, "matchLabels");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)ml, k, v) {
        const char *lv = kj_str(labels, k);
        if (!lv || !json_is_string(v) || strcmp(lv, json_string_value(v)))
            return false;
    }
    if (plain_map)
        return true;
    const json_t *exprs = kj_arr(sel, "matchExpressions");
    for (size_t i = 0; i < json_array_size(exprs); i++) {
        const json_t *e = json_array_get(exprs, i);
        const char *key = kj_str(e, "key"), *op = kj_str(e, "operator");
        const json_t *vals = kj_arr(e, "values");
        const char *lv = key ? kj_str(labels, key) : NULL;
        if (!key || !op)
            return false;
        if (!strcmp(op, "In")) {
            if (!lv || !label_in(vals, lv))
                return false;
        } else if (!strcmp(op, "NotIn")) {
            if (lv && label_in(vals, lv))
                return false;
        } else if (!strcmp(op, "Exists")) {
            if (!kj_get(labels, key))
                return false;
        } else if (!strcmp(op, "DoesNotExist")) {
            if (kj_get(labels, key))
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* --- PSS on one object -------------------------------------------------------------- */
struct pss_emit {
    k8s_ctx *c;
};

static void pss_fail(void *ud, const char *check, const char *field, const char *ev)
{
    k8s_ctx *c = ud;
    char id[96];
    const char *p[] = {"MM-PSS-", check};
    mm_str_cat(id, sizeof id, p, 2);
    k8s_report(c, id, field, "%s", ev);
}

void k8s_check_pss(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *meta, *spec;
    const char *prefix;
    if (!mm_k8s_pod_template(o, &meta, &spec, &prefix))
        return;
    size_t l = strlen(prefix);
    char *mp = mm_xasprintf("%.*smetadata", (int)(l - 4), prefix);
    k8s_pss_run(meta, spec, mp, prefix, c->o->pss_level, c->o->pss_version, pss_fail, c);
    free(mp);
}

/* Adds object i to the list of `kind`; with_labels lists also keep each
 * object's template labels. */
static void kind_add(mm_map *m, const char *kind, size_t i, bool with_labels,
                     const json_t *labels)
{
    struct k8s_kind_list *l = mm_map_get(m, kind);
    if (!l) {
        l = mm_xcalloc(1, sizeof *l);
        mm_map_put(m, kind, l);
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mm_xrealloc(l->v, l->cap * sizeof *l->v);
        if (with_labels)
            l->labels = mm_xrealloc(l->labels, l->cap * sizeof *l->labels);
    }
    if (with_labels)
        l->labels[l->n] = labels;
    l->v[l->n++] = i;
}

static void kind_free(void *p)
{
    struct k8s_kind_list *l = p;
    free(l->v);
    free(l->labels);
    free(l);
}

static const struct k8s_kind_list empty_list = {NULL, 0, 0};

const struct k8s_kind_list *k8s_kind(const k8s_ctx *c, const char *kind)
{
    const struct k8s_kind_list *l = mm_map_get(c->kinds, kind);
    return l ? l : &empty_list;
}

static void name_key(char *key, size_t n, const char *kind, const char *ns, const char *name)
{
    const char *p[] = {kind, "\x1f", ns, "\x1f", name};
    mm_str_cat(key, n, p, 5);
}

const mm_k8s_object *k8s_find_named(const k8s_ctx *c, const char *kind, const char *ns,
                                    const char *name, size_t *idx)
{
    if (!kind || !ns || !name)
        return NULL;
    char key[768];
    if (strlen(kind) + strlen(ns) + strlen(name) + 3 > sizeof key) {
        /* longer than any valid name: the slow way, never wrong */
        K8S_FOR_KIND(c, kind, i) {
            const mm_k8s_object *o = mm_k8s_get(c->s, i);
            if (o->name && !strcmp(o->name, name) && !strcmp(o->ns ? o->ns : "default", ns)) {
                if (idx)
                    *idx = i;
                return o;
            }
        }
        return NULL;
    }
    name_key(key, sizeof key, kind, ns, name);
    uintptr_t v = (uintptr_t)mm_map_get(c->names, key);
    if (!v)
        return NULL;
    if (idx)
        *idx = v - 1;
    return mm_k8s_get(c->s, v - 1);
}

static mm_map *index_names(const mm_k8s_set *s)
{
    mm_map *m = mm_map_new();
    char key[768];
    for (size_t i = 0; i < mm_k8s_count(s); i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        const char *ns = o->ns ? o->ns : "default";
        if (!o->kind || !o->name ||
            strlen(o->kind) + strlen(ns) + strlen(o->name) + 3 > sizeof key)
            continue;
        name_key(key, sizeof key, o->kind, ns, o->name);
        if (!mm_map_get(m, key))
            mm_map_put(m, key, (void *)(uintptr_t)(i + 1));
    }
    return m;
}

static mm_map *index_kinds(const mm_k8s_set *s)
{
    static const char *const tmpl_kinds[] = {"Pod", "Deployment", "ReplicaSet", "StatefulSet",
                                             "DaemonSet", "Job", "CronJob", "PodTemplate",
                                             "ReplicationController", "DeploymentConfig", NULL};
    mm_map *m = mm_map_new();
    for (size_t i = 0; i < mm_k8s_count(s); i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        if (!o->kind)
            continue;
        kind_add(m, o->kind, i, false, NULL);
        for (int k = 0; tmpl_kinds[k]; k++)
            if (!strcmp(o->kind, tmpl_kinds[k])) {
                kind_add(m, "*tmpl", i, false, NULL);
                /* by namespace too: selectors only look in their own one,
                 * and services x workloads would be quadratic otherwise */
                char key[320];
                snprintf(key, sizeof key, "*tmpl\x1f%s", o->ns ? o->ns : "default");
                kind_add(m, key, i, true, k8s_tmpl_labels(o));
            }
    }
    return m;
}

/* A Pod, ReplicaSet or Job whose controller (ownerReferences with
 * controller: true) is in the set too: a live cluster lists both, and the
 * controller's template is where a fix goes, so only it is checked. */
bool k8s_controlled_in_set(const k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *owners = kj_arr(kj_obj(o->json, "metadata"), "ownerReferences");
    for (size_t k = 0; k < json_array_size(owners); k++) {
        const json_t *ow = json_array_get(owners, k);
        const char *kind = kj_str(ow, "kind"), *name = kj_str(ow, "name");
        if (!kj_true(ow, "controller") || !kind || !name)
            continue;
        K8S_FOR_KIND(c, kind, i) {
            const mm_k8s_object *x = mm_k8s_get(c->s, i);
            if (x->name && !strcmp(x->name, name) &&
                !strcmp(x->ns ? x->ns : "", o->ns ? o->ns : ""))
                return true;
        }
    }
    return false;
}

int mm_k8s_check(const mm_k8s_set *s, const mm_k8s_check_opts *opts, mm_findings *out)
{
    if (!s || !out)
        return mm_error_set(MM_EINVAL, "k8s: no set or findings");
    mm_k8s_check_opts def;
    mm_k8s_check_opts_init(&def);
    if (!opts)
        opts = &def;
    unsigned checks = opts->checks ? opts->checks : MM_K8S_CHECK_DEFAULT;
    k8s_ctx c = {s, opts, out, 0, NULL, 0, false, mm_map_new(), index_kinds(s), mm_map_new(),
                 index_names(s)};
    /* every finding looks its rule up: by hash, not a scan of the table */
    for (size_t i = 0; i < mm_k8s_rule_count(); i++)
        mm_map_put(c.rules, mm_k8s_rule_get(i)->id, (void *)mm_k8s_rule_get(i));
    for (size_t i = 0; i < mm_k8s_count(s); i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        k8s_load_ignores(&c, i);
        if (k8s_controlled_in_set(&c, o))
            continue;
        if (checks & MM_K8S_CHECK_PSS)
            k8s_check_pss(&c, o);
        if (checks & MM_K8S_CHECK_WORKLOAD)
            k8s_check_workload(&c, o);
    }
    k8s_load_ignores(&c, (size_t)-1);
    if (checks & (MM_K8S_CHECK_WORKLOAD | MM_K8S_CHECK_REFS | MM_K8S_CHECK_AVAIL))
        k8s_check_workload_set(&c);
    k8s_load_ignores(&c, (size_t)-1);
    if (checks & MM_K8S_CHECK_RBAC)
        k8s_check_rbac(&c);
    k8s_load_ignores(&c, (size_t)-1);
    if (checks & MM_K8S_CHECK_NET)
        k8s_check_net(&c);
    k8s_load_ignores(&c, (size_t)-1);
    if (checks & MM_K8S_CHECK_SENS)
        k8s_check_sens(&c);
    k8s_load_ignores(&c, (size_t)-1);
    if (checks & MM_K8S_CHECK_NODE)
        k8s_check_node(&c);
    k8s_load_ignores(&c, (size_t)-1);
    mm_map_free(c.seen, NULL);
    mm_map_free(c.kinds, kind_free);
    mm_map_free(c.names, NULL);
    mm_map_free(c.rules, NULL);
    return 0;
}

int mm_k8s_checks_parse(unsigned *out, const char *list)
{
    unsigned bits = 0;
    char *dup = mm_xstrdup(list ? list : ""), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        if (!strcasecmp(t, "pss"))
            bits |= MM_K8S_CHECK_PSS;
        else if (!strcasecmp(t, "workload"))
            bits |= MM_K8S_CHECK_WORKLOAD;
        else if (!strcasecmp(t, "rbac"))
            bits |= MM_K8S_CHECK_RBAC;
        else if (!strcasecmp(t, "refs"))
            bits |= MM_K8S_CHECK_REFS;
        else if (!strcasecmp(t, "avail"))
            bits |= MM_K8S_CHECK_AVAIL;
        else if (!strcasecmp(t, "net"))
            bits |= MM_K8S_CHECK_NET;
        else if (!strcasecmp(t, "sensitivity"))
            bits |= MM_K8S_CHECK_SENS;
        else if (!strcasecmp(t, "node"))
            bits |= MM_K8S_CHECK_NODE;
        else if (!strcasecmp(t, "all"))
            bits |= MM_K8S_CHECK_ALL;
        else if (!strcasecmp(t, "default"))
            bits |= MM_K8S_CHECK_DEFAULT;
        else {
            rc = mm_error_set(MM_EINVAL, "unknown check family \"%s\" (pss, workload, rbac, "
                              "refs, avail, net, sensitivity, node, default, all)", t);
            break;
        }
    }
    free(dup);
    if (rc == 0 && !bits)
        rc = mm_error_set(MM_EINVAL, "no check family named");
    if (rc == 0)
        *out = bits;
    return rc;
}
