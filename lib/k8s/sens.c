/*
 * sens.c - mixed sensitivity on nodes (SP 800-190 section 3.3.4): the
 * orchestrator should keep workloads of different sensitivity levels on
 * separate hosts.  A workload's level is the value of a label or
 * annotation (default key mamori.io/sensitivity; pod template first, then
 * the object, then its Namespace object), or the level its namespace is
 * given by the per-namespace map ("ns=level,...").
 *
 * - MM-K8S-411: pods of different levels bound to the same node today
 *   (spec.nodeName in a snapshot), one finding per node and pair of
 *   levels;
 * - MM-K8S-412: workloads of different levels that the scheduler may put
 *   on one node: nothing keeps them apart.  They are apart when (a) with
 *   Node objects in the set, the nodes each may use (nodeSelector,
 *   required node affinity, NoSchedule/NoExecute taints against
 *   tolerations) do not overlap; (b) without them, their node label
 *   constraints (nodeSelector, a single required nodeSelectorTerm) cannot
 *   both hold; (c) either carries a required pod anti-affinity on
 *   kubernetes.io/hostname that selects the other.  The finding names the
 *   placement rule that would separate them.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"

#define DEFAULT_KEY "mamori.io/sensitivity"
#define MAX_NAMED 5

struct swl {
    size_t obj;
    char *level;
    const char *ns;
    const json_t *labels, *spec;
    uint64_t *nodes;        /* feasible Node objects (with nodes) */
    bool constrained;       /* a nodeSelector, required node affinity or
                             * required pod anti-affinity */
};

static const char *ns_or_default(const char *ns)
{
    return ns && *ns ? ns : "default";
}

static const char *level_in(const json_t *meta, const char *key)
{
    const char *v = kj_str(kj_obj(meta, "labels"), key);
    if (!v)
        v = kj_str(kj_obj(meta, "annotations"), key);
    return v && *v ? v : NULL;
}

static const char *ns_level(const k8s_ctx *c, const char *ns, const char *key,
                            const char *map, char *buf, size_t bufsz)
{
    if (map) {
        size_t nl = strlen(ns);
        for (const char *p = map; p && *p;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            while (l && *p == ' ')
                p++, l--;
            if (l > nl + 1 && !strncmp(p, ns, nl) && p[nl] == '=' && l - nl - 1 < bufsz) {
                memcpy(buf, p + nl + 1, l - nl - 1);
                buf[l - nl - 1] = 0;
                return buf;
            }
            p = e ? e + 1 : NULL;
        }
    }
    K8S_FOR_KIND(c, "Namespace", i) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        if (o->name && !strcmp(o->name, ns))
            return level_in(kj_obj(o->json, "metadata"), key);
    }
    return NULL;
}

/* --- node feasibility ---------------------------------------------------------------------- */
static bool expr_ok(const json_t *e, const json_t *labels)
{
    const char *key = kj_str(e, "key"), *op = kj_str(e, "operator");
    const json_t *vals = kj_arr(e, "values");
    const char *v = key ? kj_str(labels, key) : NULL;
    if (!key || !op)
        return false;
    bool in = false;
    for (size_t i = 0; v && i < json_array_size(vals); i++) {
        const char *x = json_string_value(json_array_get(vals, i));
        in |= x && !strcmp(x, v);
    }
    if (!strcmp(op, "In"))
        return in;
    if (!strcmp(op, "NotIn"))
        return !in;
    if (!strcmp(op, "Exists"))
        return v != NULL;
    if (!strcmp(op, "DoesNotExist"))
        return v == NULL;
    if (!strcmp(op, "Gt") || !strcmp(op, "Lt")) {
        const char *x = json_string_value(json_array_get(vals, 0));
        if (!v || !x)
            return false;
        long long a = strtoll(v, NULL, 10), b = strtoll(x, NULL, 10);
        return !strcmp(op, "Gt") ? a > b : a < b;
    }
    return false;
}

static const json_t *required_terms(const json_t *spec)
{
    return kj_arr(kj_obj(kj_obj(kj_obj(spec, "affinity"), "nodeAffinity"),
                         "requiredDuringSchedulingIgnoredDuringExecution"), "nodeSelectorTerms");
}

static bool tolerates(const json_t *tols, const json_t *taint)
{
    const char *tk = kj_str(taint, "key"), *tv = kj_str(taint, "value"),
               *te = kj_str(taint, "effect");
    for (size_t i = 0; i < json_array_size(tols); i++) {
        const json_t *t = json_array_get(tols, i);
        const char *k = kj_str(t, "key"), *op = kj_str(t, "operator"), *v = kj_str(t, "value"),
                   *e = kj_str(t, "effect");
        if (e && *e && (!te || strcmp(e, te)))
            continue;
        if (op && !strcmp(op, "Exists")) {
            if (!k || !*k || (tk && !strcmp(k, tk)))
                return true;
            continue;
        }
        if (k && tk && !strcmp(k, tk) && !strcmp(v ? v : "", tv ? tv : ""))
            return true;
    }
    return false;
}

static bool node_fits(const json_t *spec, const mm_k8s_object *node)
{
    const json_t *meta = kj_obj(node->json, "metadata");
    const json_t *labels = kj_obj(meta, "labels");
    const char *k;
    json_t *v;
    json_object_foreach(kj_obj(spec, "nodeSelector"), k, v) {
        const char *nv = kj_str(labels, k);
        if (!nv || !json_is_string(v) || strcmp(nv, json_string_value(v)))
            return false;
    }
    const char *nn = kj_str(spec, "nodeName");
    if (nn && node->name && strcmp(nn, node->name))
        return false;
    const json_t *terms = required_terms(spec);
    if (json_array_size(terms)) {
        bool any = false;
        for (size_t t = 0; t < json_array_size(terms) && !any; t++) {
            const json_t *term = json_array_get(terms, t);
            const json_t *ex = kj_arr(term, "matchExpressions"), *mf = kj_arr(term, "matchFields");
            bool all = json_array_size(ex) + json_array_size(mf) > 0;
            for (size_t i = 0; all && i < json_array_size(ex); i++)
                all = expr_ok(json_array_get(ex, i), labels);
            json_t *fields = json_pack("{s:s?}", "metadata.name", node->name);
            for (size_t i = 0; all && i < json_array_size(mf); i++)
                all = expr_ok(json_array_get(mf, i), fields);
            json_decref(fields);
            any = all;
        }
        if (!any)
            return false;
    }
    const json_t *taints = kj_arr(kj_obj(node->json, "spec"), "taints");
    for (size_t i = 0; i < json_array_size(taints); i++) {
        const json_t *t = json_array_get(taints, i);
        const char *e = kj_str(t, "effect");
        if (e && (!strcmp(e, "NoSchedule") || !strcmp(e, "NoExecute")) &&
            !tolerates(kj_arr(spec, "tolerations"), t))
            return false;
    }
    return true;
}

/* --- label constraints without Node objects ------------------------------------------------ */
/* Does a's constraint on key (a value set, or DoesNotExist) exclude every
 * value b allows? */
static bool constraint_vals(const json_t *spec, const char *key, const json_t **in,
                            const char **eq, bool *absent, const json_t **notin)
{
    *in = NULL, *eq = NULL, *absent = false, *notin = NULL;
    *eq = kj_str(kj_obj(spec, "nodeSelector"), key);
    const json_t *terms = required_terms(spec);
    if (json_array_size(terms) == 1) {
        const json_t *ex = kj_arr(json_array_get(terms, 0), "matchExpressions");
        for (size_t i = 0; i < json_array_size(ex); i++) {
            const json_t *e = json_array_get(ex, i);
            const char *k = kj_str(e, "key"), *op = kj_str(e, "operator");
            if (!k || !op || strcmp(k, key))
                continue;
            if (!strcmp(op, "In"))
                *in = kj_arr(e, "values");
            else if (!strcmp(op, "NotIn"))
                *notin = kj_arr(e, "values");
            else if (!strcmp(op, "DoesNotExist"))
                *absent = true;
        }
    }
    return *in || *eq || *absent || *notin;
}

static bool allows(const char *eq, const json_t *in, const json_t *notin, bool absent,
                   const char *v)
{
    if (!v)
        return !eq && !in && !notin;
    if (absent)
        return false;
    if (eq && strcmp(eq, v))
        return false;
    bool hit = !in;
    for (size_t i = 0; in && i < json_array_size(in); i++)
        hit |= json_string_value(json_array_get(in, i)) &&
               !strcmp(json_string_value(json_array_get(in, i)), v);
    for (size_t i = 0; notin && i < json_array_size(notin); i++)
        if (json_string_value(json_array_get(notin, i)) &&
            !strcmp(json_string_value(json_array_get(notin, i)), v))
            return false;
    return hit;
}

static void keys_of(const json_t *spec, char ***v, size_t *n)
{
    const char *k;
    json_t *x;
    json_object_foreach(kj_obj(spec, "nodeSelector"), k, x)
        mm_strv_push(v, n, k);
    const json_t *terms = required_terms(spec);
    if (json_array_size(terms) == 1) {
        const json_t *ex = kj_arr(json_array_get(terms, 0), "matchExpressions");
        for (size_t i = 0; i < json_array_size(ex); i++)
            if (kj_str(json_array_get(ex, i), "key"))
                mm_strv_push(v, n, kj_str(json_array_get(ex, i), "key"));
    }
}

/* True when no node label value satisfies both a and b on some key. */
static bool labels_disjoint(const json_t *a, const json_t *b)
{
    char **keys = NULL;
    size_t nk = 0;
    keys_of(a, &keys, &nk);
    bool apart = false;
    for (size_t k = 0; k < nk && !apart; k++) {
        const json_t *ai, *an, *bi, *bn;
        const char *ae, *be;
        bool aa, ba;
        constraint_vals(a, keys[k], &ai, &ae, &aa, &an);
        if (!constraint_vals(b, keys[k], &bi, &be, &ba, &bn))
            continue;
        /* candidate values: everything a names; an absent label */
        bool meet = allows(ae, ai, an, aa, NULL) && allows(be, bi, bn, ba, NULL);
        if (ae)
            meet |= allows(ae, ai, an, aa, ae) && allows(be, bi, bn, ba, ae);
        for (size_t i = 0; !meet && ai && i < json_array_size(ai); i++) {
            const char *v = json_string_value(json_array_get(ai, i));
            meet = v && allows(ae, ai, an, aa, v) && allows(be, bi, bn, ba, v);
        }
        /* a names no value (NotIn / nothing): b's values may meet it */
        if (!ae && !ai && !aa) {
            if (be)
                meet |= allows(ae, ai, an, aa, be) && allows(be, bi, bn, ba, be);
            for (size_t i = 0; !meet && bi && i < json_array_size(bi); i++) {
                const char *v = json_string_value(json_array_get(bi, i));
                meet = v && allows(ae, ai, an, aa, v) && allows(be, bi, bn, ba, v);
            }
            if (!be && !bi && !ba)
                meet = true;    /* two NotIn lists: some other value fits both */
        }
        apart = !meet;
    }
    mm_strv_free(keys, nk);
    return apart;
}

/* A required pod anti-affinity of x, per node (topologyKey
 * kubernetes.io/hostname), whose selector takes y. */
static bool anti_affinity(const struct swl *x, const struct swl *y, const k8s_ctx *c)
{
    const json_t *req = kj_arr(kj_obj(kj_obj(x->spec, "affinity"), "podAntiAffinity"),
                               "requiredDuringSchedulingIgnoredDuringExecution");
    for (size_t i = 0; i < json_array_size(req); i++) {
        const json_t *t = json_array_get(req, i);
        const char *tk = kj_str(t, "topologyKey");
        if (!tk || strcmp(tk, "kubernetes.io/hostname"))
            continue;
        const json_t *sel = kj_obj(t, "labelSelector");
        if (!sel || !k8s_selector_matches(sel, y->labels, false))
            continue;
        const json_t *nsl = kj_arr(t, "namespaces");
        const json_t *nss = kj_obj(t, "namespaceSelector");
        bool ns_ok = false;
        if (!json_array_size(nsl) && !nss)
            ns_ok = !strcmp(x->ns, y->ns);
        for (size_t k = 0; k < json_array_size(nsl); k++)
            ns_ok |= json_string_value(json_array_get(nsl, k)) &&
                     !strcmp(json_string_value(json_array_get(nsl, k)), y->ns);
        if (nss && !ns_ok) {
            json_t *lab = json_pack("{s:s}", "kubernetes.io/metadata.name", y->ns);
            K8S_FOR_KIND(c, "Namespace", n) {
                const mm_k8s_object *o = mm_k8s_get(c->s, n);
                if (o->name && !strcmp(o->name, y->ns))
                    json_object_update(lab, kj_obj(kj_obj(o->json, "metadata"), "labels"));
            }
            ns_ok = k8s_selector_matches(nss, lab, false);
            json_decref(lab);
        }
        if (ns_ok)
            return true;
    }
    return false;
}

struct bp {
    size_t obj;
    const char *node;
    char *level;
};

/* by node, then level, then set order: a node's first pod of a level
 * carries the finding */
static int bp_cmp(const void *x, const void *y)
{
    const struct bp *a = x, *b = y;
    int r = strcmp(a->node, b->node);
    if (!r)
        r = strcmp(a->level, b->level);
    return r ? r : (a->obj > b->obj) - (a->obj < b->obj);
}

static char *res_of(const mm_k8s_object *o)
{
    return mm_xasprintf("%s/%s/%s", ns_or_default(o->ns), o->kind, o->name ? o->name : "?");
}

static bool controlled(const k8s_ctx *c, const mm_k8s_object *o)
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
                !strcmp(ns_or_default(x->ns), ns_or_default(o->ns)))
                return true;
        }
    }
    return false;
}

void k8s_check_sens(k8s_ctx *c)
{
    const char *key = c->o->sens_key && *c->o->sens_key ? c->o->sens_key : DEFAULT_KEY;
    struct swl *w = NULL;
    size_t nw = 0;
    const struct k8s_kind_list *nodes = k8s_kind(c, "Node");
    size_t words = (nodes->n + 63) / 64;
    char buf[256];
    /* today: pods bound to nodes, grouped by node */
    struct bp *bp = NULL;
    size_t nbp = 0;
    K8S_FOR_KIND(c, "Pod", i) {
        const mm_k8s_object *p = mm_k8s_get(c->s, i);
        const char *node = kj_str(kj_obj(p->json, "spec"), "nodeName");
        if (!node)
            continue;
        const char *lv = level_in(kj_obj(p->json, "metadata"), key);
        if (!lv)
            lv = ns_level(c, ns_or_default(p->ns), key, c->o->sens_ns_map, buf, sizeof buf);
        if (!lv)
            continue;
        bp = mm_xrealloc(bp, (nbp + 1) * sizeof *bp);
        bp[nbp++] = (struct bp){i, node, mm_xstrdup(lv)};
    }
    if (nbp > 1)
        qsort(bp, nbp, sizeof *bp, bp_cmp);
    mm_map *seen = mm_map_new();    /* "node\x1flevelA\x1flevelB" */
    for (size_t i = 0; i < nbp; i++)
        for (size_t j = i + 1; j < nbp && !strcmp(bp[j].node, bp[i].node); j++) {
            if (!strcmp(bp[i].level, bp[j].level))
                continue;
            char *k = mm_xasprintf("%s\x1f%s\x1f%s", bp[i].node, bp[i].level, bp[j].level);
            if (!mm_map_get(seen, k)) {
                mm_map_put(seen, k, (void *)1);
                char *other = res_of(mm_k8s_get(c->s, bp[j].obj));
                k8s_report_on(c, bp[i].obj, "MM-K8S-411", "spec.nodeName",
                              "node %s runs this pod (%s=%s) and %s (%s=%s); fix: "
                              "nodeSelector {\"%s\": \"%s\"} on nodes labelled and tainted "
                              "%s=%s:NoSchedule, with the toleration", bp[i].node, key,
                              bp[i].level, other, key, bp[j].level, key, bp[i].level, key,
                              bp[i].level);
                free(other);
            }
            free(k);
        }
    mm_map_free(seen, NULL);
    for (size_t i = 0; i < nbp; i++)
        free(bp[i].level);
    free(bp);
    /* may share: workloads */
    K8S_FOR_KIND(c, "*tmpl", i) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        const json_t *meta, *spec;
        const char *prefix;
        if (!strcmp(o->kind, "PodTemplate") || !mm_k8s_pod_template(o, &meta, &spec, &prefix) ||
            controlled(c, o))
            continue;
        const char *lv = level_in(meta, key);
        if (!lv)
            lv = level_in(kj_obj(o->json, "metadata"), key);
        if (!lv)
            lv = ns_level(c, ns_or_default(o->ns), key, c->o->sens_ns_map, buf, sizeof buf);
        if (!lv)
            continue;
        w = mm_xrealloc(w, (nw + 1) * sizeof *w);
        struct swl *x = &w[nw++];
        x->obj = i;
        x->level = mm_xstrdup(lv);
        x->ns = ns_or_default(o->ns);
        x->labels = kj_obj(meta, "labels");
        x->spec = spec;
        x->nodes = NULL;
        const json_t *aff = kj_obj(spec, "affinity");
        x->constrained = json_object_size(kj_obj(spec, "nodeSelector")) > 0 ||
                         json_array_size(required_terms(spec)) > 0 ||
                         json_array_size(kj_arr(kj_obj(aff, "podAntiAffinity"),
                                                "requiredDuringSchedulingIgnoredDuringExecution")) > 0;
        if (nodes->n) {
            x->nodes = mm_xcalloc(words, sizeof *x->nodes);
            for (size_t n = 0; n < nodes->n; n++)
                if (node_fits(spec, mm_k8s_get(c->s, nodes->v[n])))
                    x->nodes[n >> 6] |= 1ull << (n & 63);
        }
    }
    for (size_t a = 0; a < nw; a++) {
        mm_buf ev = {0};
        size_t named = 0, total = 0;
        for (size_t b = 0; b < nw; b++) {
            if (a == b || !strcmp(w[a].level, w[b].level))
                continue;
            bool apart;
            if (!nodes->n && !w[a].constrained && !w[b].constrained) {
                apart = false;  /* nothing to keep them apart: the fast path */
            } else if (nodes->n) {
                apart = true;
                for (size_t k = 0; k < words && apart; k++)
                    apart = !(w[a].nodes[k] & w[b].nodes[k]);
            } else {
                apart = labels_disjoint(w[a].spec, w[b].spec) ||
                        labels_disjoint(w[b].spec, w[a].spec);
            }
            if (w[a].constrained || w[b].constrained)
                apart = apart || anti_affinity(&w[a], &w[b], c) || anti_affinity(&w[b], &w[a], c);
            if (apart)
                continue;
            total++;
            if (named++ < MAX_NAMED) {
                char *r = res_of(mm_k8s_get(c->s, w[b].obj));
                mm_buf_printf(&ev, "%s%s (%s)", named > 1 ? ", " : "", r, w[b].level);
                free(r);
            }
        }
        if (total) {
            const mm_k8s_object *o = mm_k8s_get(c->s, w[a].obj);
            const char *prefix;
            const json_t *m, *s;
            mm_k8s_pod_template(o, &m, &s, &prefix);
            char *field = mm_xasprintf("%s.nodeSelector", prefix);
            k8s_report_on(c, w[a].obj, "MM-K8S-412", field,
                          "level %s=%s may share a node with %zu workload%s of another level: "
                          "%s%s; fix: %s.nodeSelector {\"%s\": \"%s\"} (nodes labelled "
                          "%s=%s and tainted %s=%s:NoSchedule, with a toleration for it)",
                          key, w[a].level, total, total > 1 ? "s" : "", ev.data,
                          total > MAX_NAMED ? ", ..." : "", prefix, key, w[a].level, key,
                          w[a].level, key, w[a].level);
            free(field);
        }
        mm_buf_free(&ev);
    }
    for (size_t a = 0; a < nw; a++) {
        free(w[a].nodes);
        free(w[a].level);
    }
    free(w);
}
