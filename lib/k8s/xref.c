/*
 * xref.c - checks that read more than one object: which pods a
 * NetworkPolicy, Service, PodDisruptionBudget or autoscaler selects,
 * references to Secrets, ConfigMaps, service accounts and backends that do
 * not exist, and selectors that miss their own pod template.  Objects
 * without a namespace are taken to be in "default", as kubectl applies
 * them.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "k8s/k8s_int.h"

static const char *ns_of(const mm_k8s_object *o)
{
    return o->ns ? o->ns : "default";
}

static bool kind_is(const mm_k8s_object *o, const char *k)
{
    return o->kind && !strcmp(o->kind, k);
}

static bool same_ns(const mm_k8s_object *a, const mm_k8s_object *b)
{
    return !strcmp(ns_of(a), ns_of(b));
}

/* The labels of a workload's pod template (also of a template that has
 * no spec yet, as in a partial manifest). */
const json_t *k8s_tmpl_labels(const mm_k8s_object *o)
{
    const json_t *meta, *spec;
    const char *prefix;
    if (mm_k8s_pod_template(o, &meta, &spec, &prefix))
        return kj_obj(meta, "labels");
    const json_t *j = o->json, *t = NULL;
    if (kind_is(o, "CronJob"))
        t = kj_obj(kj_obj(kj_obj(kj_obj(j, "spec"), "jobTemplate"), "spec"), "template");
    else if (kind_is(o, "PodTemplate"))
        t = kj_obj(j, "template");
    else
        t = kj_obj(kj_obj(j, "spec"), "template");
    return kj_obj(kj_obj(t, "metadata"), "labels");
}

static char *labels_path(const mm_k8s_object *o)
{
    const json_t *meta, *spec;
    const char *prefix;
    if (!mm_k8s_pod_template(o, &meta, &spec, &prefix))
        return mm_xstrdup("metadata.labels");
    size_t l = strlen(prefix);
    return mm_xasprintf("%.*smetadata.labels", (int)(l - 4), prefix);
}

/* Is there a workload (pod template) in o's namespace whose labels the
 * selector matches?  Controllers and their pods both count. */
static bool selects_any(const k8s_ctx *c, const mm_k8s_object *where, const json_t *sel,
                        bool plain)
{
    char key[320];
    snprintf(key, sizeof key, "*tmpl\x1f%s", ns_of(where));
    const struct k8s_kind_list *l = k8s_kind(c, key);
    for (size_t k = 0; k < l->n; k++) {
        const mm_k8s_object *w = mm_k8s_get(c->s, l->v[k]);
        if (!same_ns(w, where))
            continue;
        const json_t *lab = l->labels[k];
        if (lab && k8s_selector_matches(sel, lab, plain))
            return true;
        if (!lab && kind_is(w, "Pod") && k8s_selector_matches(sel, NULL, plain))
            return true;
    }
    return false;
}

static const mm_k8s_object *find(const k8s_ctx *c, const char *kind, const char *ns,
                                 const char *name, size_t *idx)
{
    return k8s_find_named(c, kind, ns, name, idx);
}

/* An int-or-percent ("50%", 5) against a total: *out the absolute value. */
static bool int_or_pct(const json_t *v, json_int_t total, json_int_t *out, bool *pct)
{
    *pct = false;
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    const char *s = json_string_value(v);
    if (!s || !*s)
        return false;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s)
        return false;
    if (*end == '%' && !end[1]) {
        *pct = true;
        /* rounded up, as the disruption controller does for minAvailable */
        *out = (json_int_t)((n * total + 99) / 100);
        return true;
    }
    if (!*end) {
        *out = n;
        return true;
    }
    return false;
}

struct env_ref_ctx {
    const k8s_ctx *c;
    const mm_k8s_object *o;
};

static void env_refs_c(k8s_ctx *c, const json_t *ctr, const char *path, bool init, void *ud)
{
    struct env_ref_ctx *e = ud;
    const json_t *env = kj_arr(ctr, "env");
    for (size_t i = 0; i < json_array_size(env); i++) {
        const json_t *vf = kj_obj(json_array_get(env, i), "valueFrom");
        static const struct { const char *ref, *kind; } refs[] = {
            {"secretKeyRef", "Secret"}, {"configMapKeyRef", "ConfigMap"}};
        for (int r = 0; r < 2; r++) {
            const json_t *ref = kj_obj(vf, refs[r].ref);
            if (!ref || kj_true(ref, "optional"))
                continue;
            const char *name = kj_str(ref, "name"), *key = kj_str(ref, "key");
            const mm_k8s_object *t = find(e->c, refs[r].kind, ns_of(e->o), name, NULL);
            char *f = mm_xasprintf("%s.env[%zu].valueFrom.%s", path, i, refs[r].ref);
            if (!t) {
                k8s_report(c, "MM-K8S-304", f, "%s \"%s\" does not exist", refs[r].kind,
                           name ? name : "");
            } else if (key) {
                bool has = kj_get(kj_obj(t->json, "data"), key) ||
                           kj_get(kj_obj(t->json, "stringData"), key) ||
                           kj_get(kj_obj(t->json, "binaryData"), key);
                if (!has)
                    k8s_report(c, "MM-K8S-304", f, "%s \"%s\" has no key \"%s\"", refs[r].kind,
                               name ? name : "", key);
            }
            free(f);
        }
    }
}

static bool service_port_ok(const json_t *svc, const json_t *port)
{
    const json_t *ports = kj_arr(kj_obj(svc, "spec"), "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *p = json_array_get(ports, i);
        json_int_t n;
        if (json_is_integer(port) && kj_int(p, "port", &n) && n == json_integer_value(port))
            return true;
        if (json_is_string(port) && kj_str(p, "name") &&
            !strcmp(kj_str(p, "name"), json_string_value(port)))
            return true;
    }
    return false;
}

static void backend(k8s_ctx *c, const mm_k8s_object *o, const json_t *be, const char *path)
{
    if (!be)
        return;
    const json_t *svc = kj_obj(be, "service");
    const char *name = svc ? kj_str(svc, "name") : kj_str(be, "serviceName");
    const json_t *port = NULL;
    if (svc) {
        const json_t *p = kj_obj(svc, "port");
        port = kj_get(p, "number") ? kj_get(p, "number") : kj_get(p, "name");
    } else {
        port = kj_get(be, "servicePort");
    }
    if (!name)
        return;   /* a resource backend */
    const mm_k8s_object *t = find(c, "Service", ns_of(o), name, NULL);
    if (!t)
        k8s_report(c, "MM-K8S-307", path, "Service \"%s\" does not exist", name);
    else if (port && !service_port_ok(t->json, port))
        k8s_report(c, "MM-K8S-307", path, "Service \"%s\" has no such port", name);
}

static void ingress_refs(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *spec = kj_obj(o->json, "spec");
    backend(c, o, kj_obj(spec, "defaultBackend"), "spec.defaultBackend");
    backend(c, o, kj_obj(spec, "backend"), "spec.backend");
    const json_t *rules = kj_arr(spec, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *paths = kj_arr(kj_obj(json_array_get(rules, i), "http"), "paths");
        for (size_t j = 0; j < json_array_size(paths); j++) {
            char *f = mm_xasprintf("spec.rules[%zu].http.paths[%zu].backend", i, j);
            backend(c, o, kj_obj(json_array_get(paths, j), "backend"), f);
            free(f);
        }
    }
}

static void netpol_refs(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *spec = kj_obj(o->json, "spec");
    const json_t *ps = kj_obj(spec, "podSelector");
    if (ps && json_object_size(ps) > 0 && !selects_any(c, o, ps, false))
        k8s_report(c, "MM-K8S-308", "spec.podSelector", "selects no pods in %s", ns_of(o));
    static const char *const dirs[] = {"ingress", "egress"};
    static const char *const peers[] = {"from", "to"};
    for (int d = 0; d < 2; d++) {
        const json_t *rules = kj_arr(spec, dirs[d]);
        for (size_t i = 0; i < json_array_size(rules); i++) {
            const json_t *pl = kj_arr(json_array_get(rules, i), peers[d]);
            for (size_t j = 0; j < json_array_size(pl); j++) {
                const json_t *peer = json_array_get(pl, j);
                const json_t *sel = kj_obj(peer, "podSelector");
                if (!sel || kj_get(peer, "namespaceSelector") || json_object_size(sel) == 0)
                    continue;
                if (!selects_any(c, o, sel, false)) {
                    char *f = mm_xasprintf("spec.%s[%zu].%s[%zu].podSelector", dirs[d], i,
                                           peers[d], j);
                    k8s_report(c, "MM-K8S-309", f, "peer selects no pods in %s", ns_of(o));
                    free(f);
                }
            }
        }
    }
}

static void service_monitor_refs(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *spec = kj_obj(o->json, "spec");
    const json_t *sel = kj_obj(spec, "selector");
    const json_t *nsel = kj_obj(spec, "namespaceSelector");
    bool any = kj_true(nsel, "any");
    const json_t *names = kj_arr(nsel, "matchNames");
    K8S_FOR_KIND(c, "Service", i) {
        const mm_k8s_object *svc = mm_k8s_get(c->s, i);
        bool ns_ok = any;
        if (!ns_ok && json_array_size(names)) {
            for (size_t j = 0; j < json_array_size(names); j++)
                if (json_string_value(json_array_get(names, j)) &&
                    !strcmp(json_string_value(json_array_get(names, j)), ns_of(svc)))
                    ns_ok = true;
        } else if (!ns_ok) {
            /* no namespaceSelector: kube-linter (and manifests in folders)
             * look in every namespace */
            ns_ok = true;
        }
        if (ns_ok && k8s_selector_matches(sel, kj_obj(kj_obj(svc->json, "metadata"), "labels"),
                                          false))
            return;
    }
    k8s_report(c, "MM-K8S-310", "spec.selector", "selects no Service");
}

static const mm_k8s_object *hpa_target(const k8s_ctx *s, const mm_k8s_object *hpa)
{
    const json_t *ref = kj_obj(kj_obj(hpa->json, "spec"), "scaleTargetRef");
    const char *k = kj_str(ref, "kind"), *n = kj_str(ref, "name");
    return k && n ? find(s, k, ns_of(hpa), n, NULL) : NULL;
}

static void pdb_checks(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *spec = kj_obj(o->json, "spec");
    const json_t *mu = kj_get(spec, "maxUnavailable"), *ma = kj_get(spec, "minAvailable");
    json_int_t v;
    bool pct;
    if (mu && int_or_pct(mu, 100, &v, &pct) && v == 0)
        k8s_report(c, "MM-K8S-311", "spec.maxUnavailable", "maxUnavailable 0");
    const char *mas = json_string_value(ma);
    if (mas && !strcmp(mas, "100%"))
        k8s_report(c, "MM-K8S-311", "spec.minAvailable", "minAvailable 100%%");
    if (!kj_str(spec, "unhealthyPodEvictionPolicy"))
        k8s_report(c, "MM-K8S-313", "spec.unhealthyPodEvictionPolicy", "not set");
    const json_t *sel = kj_obj(spec, "selector");
    if (ma && sel) K8S_FOR_KIND(c, "*tmpl", i) {
        const mm_k8s_object *w = mm_k8s_get(c->s, i);
        if (kind_is(w, "Pod") || !same_ns(w, o))
            continue;
        const json_t *lab = k8s_tmpl_labels(w);
        const json_t *wsel = kj_obj(kj_obj(kj_obj(w->json, "spec"), "selector"), "matchLabels");
        if (!(lab && k8s_selector_matches(sel, lab, false)) &&
            !(wsel && k8s_selector_matches(sel, wsel, false)))
            continue;
        json_int_t replicas = 1;
        bool known = kj_int(kj_obj(w->json, "spec"), "replicas", &replicas);
        /* an autoscaler (HPA or KEDA ScaledObject) sets the floor */
        for (int pass = 0; pass < 2; pass++) K8S_FOR_KIND(c, pass ? "ScaledObject" : "HorizontalPodAutoscaler", h) {
            const mm_k8s_object *a = mm_k8s_get(c->s, h);
            json_int_t minr = 1;
            const char *hname = a->name ? a->name : "";
            bool hit = false;
            if (kind_is(a, "HorizontalPodAutoscaler") && hpa_target(c, a) == w) {
                kj_int(kj_obj(a->json, "spec"), "minReplicas", &minr);
                hit = true;
            } else if (kind_is(a, "ScaledObject") && same_ns(a, o)) {
                const char *tn = kj_str(kj_obj(kj_obj(a->json, "spec"), "scaleTargetRef"), "name");
                if (tn && w->name && !strcmp(tn, w->name)) {
                    kj_int(kj_obj(a->json, "spec"), "minReplicaCount", &minr);
                    hit = true;
                }
            }
            if (!hit)
                continue;
            json_int_t need;
            if (int_or_pct(ma, minr, &need, &pct) && need > minr)
                k8s_report(c, "MM-K8S-315", "spec.minAvailable", "minAvailable %lld above "
                           "minReplicas %lld of %s", (long long)need, (long long)minr, hname);
            if (!known || minr < replicas) {
                replicas = minr;
                known = true;
            }
        }
        json_int_t need;
        if (known && int_or_pct(ma, replicas, &need, &pct) && need >= replicas)
            k8s_report(c, "MM-K8S-312", "spec.minAvailable", "minAvailable %lld with %lld "
                       "replicas of %s/%s", (long long)need, (long long)replicas, w->kind,
                       w->name ? w->name : "");
    }
}

static void hpa_checks(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *spec = kj_obj(o->json, "spec");
    json_int_t minr = 1, maxr = 0;
    kj_int(spec, "minReplicas", &minr);
    bool hasmax = kj_int(spec, "maxReplicas", &maxr);
    if (minr < 3)
        k8s_report(c, "MM-K8S-316", "spec.minReplicas", "minReplicas %lld", (long long)minr);
    if (hasmax && maxr <= minr)
        k8s_report(c, "MM-K8S-317", "spec.maxReplicas", "maxReplicas %lld, minReplicas %lld",
                   (long long)maxr, (long long)minr);
    const json_t *ref = kj_obj(spec, "scaleTargetRef");
    if (ref && !hpa_target(c, o))
        k8s_report(c, "MM-K8S-306", "spec.scaleTargetRef", "%s \"%s\" not found",
                   kj_str(ref, "kind") ? kj_str(ref, "kind") : "?",
                   kj_str(ref, "name") ? kj_str(ref, "name") : "?");
}

static void workload_xref(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *meta, *spec;
    const char *prefix;
    if (!mm_k8s_pod_template(o, &meta, &spec, &prefix))
        return;
    const json_t *labels = kj_obj(meta, "labels");
    /* NetworkPolicy isolation */
    bool isolated = false;
    K8S_FOR_KIND(c, "NetworkPolicy", i) {
        const mm_k8s_object *np = mm_k8s_get(c->s, i);
        if (isolated || !same_ns(np, o))
            continue;
        const json_t *ps = kj_obj(kj_obj(np->json, "spec"), "podSelector");
        if (ps && k8s_selector_matches(ps, labels, false))
            isolated = true;
    }
    if (!isolated) {
        char *f = labels_path(o);
        k8s_report(c, "MM-K8S-301", f, "no NetworkPolicy in %s selects these pods", ns_of(o));
        free(f);
    }
    /* controller selector against its own template */
    const json_t *sel = kj_obj(kj_obj(o->json, "spec"), "selector");
    if (sel && !kind_is(o, "Pod") && !kind_is(o, "CronJob")) {
        bool plain = kind_is(o, "ReplicationController") || kind_is(o, "DeploymentConfig");
        if (!plain && !kj_get(sel, "matchLabels") && !kj_get(sel, "matchExpressions"))
            plain = true;
        if (!k8s_selector_matches(sel, labels, plain))
            k8s_report(c, "MM-K8S-143", "spec.selector", "selector does not match the pod "
                       "template labels");
    }
    /* references */
    struct env_ref_ctx e = {c, o};
    k8s_visit_containers(c, spec, prefix, env_refs_c, &e);
    const char *sa = kj_str(spec, "serviceAccountName");
    if (!sa || !*sa)
        sa = kj_str(spec, "serviceAccount");
    if (sa && *sa && strcmp(sa, "default") && !find(c, "ServiceAccount", ns_of(o), sa, NULL)) {
        char *f = mm_xasprintf("%s.serviceAccountName", prefix);
        k8s_report(c, "MM-K8S-305", f, "ServiceAccount \"%s\" not found in %s", sa, ns_of(o));
        free(f);
    }
    /* disruption budget */
    if (kind_is(o, "Deployment") || kind_is(o, "StatefulSet")) {
        bool covered = false;
        K8S_FOR_KIND(c, "PodDisruptionBudget", i) {
            const mm_k8s_object *p = mm_k8s_get(c->s, i);
            if (!covered && same_ns(p, o) && labels &&
                k8s_selector_matches(kj_obj(kj_obj(p->json, "spec"), "selector"), labels, false))
                covered = true;
        }
        if (!covered)
            k8s_report(c, "MM-K8S-314", "metadata.name", "no PodDisruptionBudget selects %s",
                       o->name ? o->name : "");
    }
}

static void service_checks(k8s_ctx *c, const mm_k8s_object *o)
{
    const json_t *spec = kj_obj(o->json, "spec");
    const char *t = kj_str(spec, "type");
    if (t && (!strcmp(t, "NodePort") || !strcmp(t, "LoadBalancer")))
        k8s_report(c, "MM-K8S-302", "spec.type", "type %s", t);
    const json_t *sel = kj_obj(spec, "selector");
    if (sel && json_object_size(sel) > 0 && !selects_any(c, o, sel, true))
        k8s_report(c, "MM-K8S-303", "spec.selector", "selects no pods in %s", ns_of(o));
    else if ((!sel || !json_object_size(sel)) && !(t && !strcmp(t, "ExternalName")) &&
             !(o->name && !strcmp(o->name, "kubernetes") && !strcmp(ns_of(o), "default")))
        k8s_report(c, "MM-K8S-303", "spec.selector", "no selector: the Service reaches no "
                   "pods unless Endpoints are kept by hand");
    const json_t *ports = kj_arr(spec, "ports");
    for (size_t i = 0; i < json_array_size(ports); i++) {
        const json_t *tp = kj_get(json_array_get(ports, i), "targetPort");
        char *f = mm_xasprintf("spec.ports[%zu].targetPort", i);
        if (json_is_integer(tp) && (json_integer_value(tp) < 1 || json_integer_value(tp) > 65535))
            k8s_report(c, "MM-K8S-144", f, "targetPort %lld out of range",
                       (long long)json_integer_value(tp));
        else if (json_is_string(tp)) {
            const char *s = json_string_value(tp);
            size_t n = strlen(s);
            bool ok = n > 0 && n <= 15 && s[0] != '-' && s[n - 1] != '-' && !strstr(s, "--");
            bool letter = false;
            for (size_t k = 0; ok && k < n; k++) {
                if (s[k] >= 'a' && s[k] <= 'z')
                    letter = true;
                else if (!(s[k] >= '0' && s[k] <= '9') && s[k] != '-')
                    ok = false;
            }
            if (!ok || !letter)
                k8s_report(c, "MM-K8S-144", f, "targetPort \"%s\" is not a valid IANA_SVC_NAME",
                           s);
        }
        free(f);
    }
}

void k8s_check_workload_set(k8s_ctx *c)
{
    for (size_t i = 0; i < mm_k8s_count(c->s); i++) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        c->obj = i;
        /* annotations of the object: the driver's set_object is private */
        mm_strv_free(c->ignore, c->nignore);
        c->ignore = NULL;
        c->nignore = 0;
        c->ignore_all = false;
        k8s_load_ignores(c, i);
        if (kind_is(o, "Service"))
            service_checks(c, o);
        else if (kind_is(o, "Ingress"))
            ingress_refs(c, o);
        else if (kind_is(o, "NetworkPolicy"))
            netpol_refs(c, o);
        else if (kind_is(o, "ServiceMonitor"))
            service_monitor_refs(c, o);
        else if (kind_is(o, "PodDisruptionBudget"))
            pdb_checks(c, o);
        else if (kind_is(o, "HorizontalPodAutoscaler"))
            hpa_checks(c, o);
        else
            workload_xref(c, o);
    }
}
