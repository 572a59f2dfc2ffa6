/*
 * rbac.c - RBAC from the loaded Roles, ClusterRoles and their bindings:
 * what each role's rules grant (wildcards, escalate/bind/impersonate,
 * reading Secrets, exec and attach, nodes/proxy, creating pods), who the
 * bindings give it to (cluster-admin, system:anonymous,
 * system:unauthenticated, system:authenticated, pod creation in
 * kube-system), and `who-can VERB RESOURCE`.  Aggregated ClusterRoles take
 * the rules of the ClusterRoles their selectors match.  Roles that
 * Kubernetes itself installs (label kubernetes.io/bootstrapping:
 * rbac-defaults, or named system:*) are not reported for their own rules;
 * bindings to them are.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"

#define RBAC_GROUP "rbac.authorization.k8s.io"

static bool kind_is(const mm_k8s_object *o, const char *k)
{
    return o->kind && !strcmp(o->kind, k);
}

static const char *ns_of(const mm_k8s_object *o)
{
    return o->ns ? o->ns : "default";
}

static bool list_has(const json_t *arr, const char *v)
{
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *x = json_string_value(json_array_get(arr, i));
        if (x && !strcmp(x, v))
            return true;
    }
    return false;
}

/* Does one rule allow verb on group/resource (resource may carry a
 * subresource, "pods/exec")?  Names are ignored: a rule limited to
 * resourceNames still grants on those. */
static bool rule_allows(const json_t *rule, const char *verb, const char *group,
                        const char *resource)
{
    const json_t *verbs = kj_arr(rule, "verbs");
    if (!list_has(verbs, "*") && !list_has(verbs, verb))
        return false;
    const json_t *groups = kj_arr(rule, "apiGroups");
    if (!list_has(groups, "*") && !list_has(groups, group))
        return false;
    const json_t *res = kj_arr(rule, "resources");
    if (list_has(res, "*") || list_has(res, resource))
        return true;
    const char *slash = strchr(resource, '/');
    if (slash) {
        /* "pods/..." wildcards and ".../exec" ones */
        char *a = mm_xasprintf("%.*s/*", (int)(slash - resource), resource);
        char *b = mm_xasprintf("*%s", slash);
        bool ok = list_has(res, a) || list_has(res, b);
        free(a);
        free(b);
        return ok;
    }
    return false;
}

static bool bootstrap(const mm_k8s_object *o)
{
    const char *b = kj_str(kj_obj(kj_obj(o->json, "metadata"), "labels"),
                           "kubernetes.io/bootstrapping");
    return (b && !strcmp(b, "rbac-defaults")) || (o->name && mm_str_startswith(o->name, "system:"));
}

/* --- roles and their effective rules ------------------------------------------------------ */
struct role {
    size_t obj;
    json_t *rules;          /* effective rules (own + aggregated), owned */
};

struct rbac {
    const mm_k8s_set *s;
    struct role *roles;
    size_t nroles;
};

static void collect_rules(const struct rbac *r, const mm_k8s_object *o, json_t *into, int depth)
{
    const json_t *rules = kj_arr(o->json, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++)
        json_array_append(into, json_array_get(rules, i));
    const json_t *agg = kj_arr(kj_obj(o->json, "aggregationRule"), "clusterRoleSelectors");
    if (!agg || depth > 4)
        return;
    for (size_t i = 0; i < mm_k8s_count(r->s); i++) {
        const mm_k8s_object *x = mm_k8s_get(r->s, i);
        if (x == o || !kind_is(x, "ClusterRole"))
            continue;
        const json_t *lab = kj_obj(kj_obj(x->json, "metadata"), "labels");
        for (size_t j = 0; j < json_array_size(agg); j++)
            if (k8s_selector_matches(json_array_get(agg, j), lab, false)) {
                /* a live cluster already lists aggregated rules in the role:
                 * adding them again changes no answer */
                collect_rules(r, x, into, depth + 1);
                break;
            }
    }
}

static void rbac_init(struct rbac *r, const mm_k8s_set *s)
{
    r->s = s;
    r->roles = NULL;
    r->nroles = 0;
    for (size_t i = 0; i < mm_k8s_count(s); i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        if (!kind_is(o, "Role") && !kind_is(o, "ClusterRole"))
            continue;
        r->roles = mm_xrealloc(r->roles, (r->nroles + 1) * sizeof *r->roles);
        json_t *rules = json_array();
        collect_rules(r, o, rules, 0);
        r->roles[r->nroles++] = (struct role){i, rules};
    }
}

static void rbac_free(struct rbac *r)
{
    for (size_t i = 0; i < r->nroles; i++)
        json_decref(r->roles[i].rules);
    free(r->roles);
}

/* The role a binding names (Role in the binding's namespace, or ClusterRole). */
static const struct role *role_of(const struct rbac *r, const mm_k8s_object *binding)
{
    const json_t *ref = kj_obj(binding->json, "roleRef");
    const char *k = kj_str(ref, "kind"), *n = kj_str(ref, "name");
    if (!k || !n)
        return NULL;
    for (size_t i = 0; i < r->nroles; i++) {
        const mm_k8s_object *o = mm_k8s_get(r->s, r->roles[i].obj);
        if (!kind_is(o, k) || !o->name || strcmp(o->name, n))
            continue;
        if (!strcmp(k, "Role") && strcmp(ns_of(o), ns_of(binding)))
            continue;
        return &r->roles[i];
    }
    return NULL;
}

static bool rules_allow(const json_t *rules, const char *verb, const char *group,
                        const char *resource)
{
    for (size_t i = 0; i < json_array_size(rules); i++)
        if (rule_allows(json_array_get(rules, i), verb, group, resource))
            return true;
    return false;
}

/* What the checks look for, each a (verbs, group, resources) family. */
static bool grants_exec(const json_t *rules)
{
    return rules_allow(rules, "create", "", "pods/exec") || rules_allow(rules, "get", "", "pods/exec") ||
           rules_allow(rules, "create", "", "pods/attach") || rules_allow(rules, "get", "", "pods/attach");
}

static bool grants_secrets(const json_t *rules)
{
    return rules_allow(rules, "get", "", "secrets") || rules_allow(rules, "list", "", "secrets") ||
           rules_allow(rules, "watch", "", "secrets");
}

static bool grants_create_pods(const json_t *rules, const char **what)
{
    static const struct { const char *g, *r; } w[] = {
        {"", "pods"}, {"apps", "deployments"}, {"apps", "replicasets"}, {"apps", "statefulsets"},
        {"apps", "daemonsets"}, {"batch", "jobs"}, {"batch", "cronjobs"},
        {"", "replicationcontrollers"}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (rules_allow(rules, "create", w[i].g, w[i].r)) {
            if (what)
                *what = w[i].r;
            return true;
        }
    return false;
}

static bool grants_escalation(const json_t *rule, const char **what)
{
    static const struct { const char *v, *g, *r; } w[] = {
        {"escalate", RBAC_GROUP, "roles"}, {"escalate", RBAC_GROUP, "clusterroles"},
        {"bind", RBAC_GROUP, "roles"}, {"bind", RBAC_GROUP, "clusterroles"},
        {"impersonate", "", "users"}, {"impersonate", "", "groups"},
        {"impersonate", "", "serviceaccounts"}, {"impersonate", "authentication.k8s.io", "uids"},
        {"impersonate", "authentication.k8s.io", "userextras/*"}};
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        if (rule_allows(rule, w[i].v, w[i].g, w[i].r)) {
            *what = w[i].v;
            return true;
        }
    return false;
}

/* A rule set equal to cluster-admin: every verb (or all seven of read and
 * write) on every resource of every group. */
static bool admin_equivalent(const json_t *rules)
{
    static const char *const verbs[] = {"get", "list", "watch", "create", "update", "patch",
                                        "delete", NULL};
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        if (!list_has(kj_arr(r, "apiGroups"), "*") || !list_has(kj_arr(r, "resources"), "*"))
            continue;
        const json_t *v = kj_arr(r, "verbs");
        bool all = list_has(v, "*");
        for (int k = 0; !all && verbs[k]; k++)
            if (!list_has(v, verbs[k]))
                break;
            else if (!verbs[k + 1])
                all = true;
        if (all)
            return true;
    }
    return false;
}

static bool is_cluster_admin(const mm_k8s_object *binding)
{
    const json_t *ref = kj_obj(binding->json, "roleRef");
    return kj_str(ref, "kind") && !strcmp(kj_str(ref, "kind"), "ClusterRole") &&
           kj_str(ref, "name") && !strcmp(kj_str(ref, "name"), "cluster-admin");
}

/* --- checks ---------------------------------------------------------------------------------- */
static void role_checks(k8s_ctx *c, const mm_k8s_object *o, const json_t *own)
{
    const json_t *rules = kj_arr(o->json, "rules");
    for (size_t i = 0; i < json_array_size(rules); i++) {
        const json_t *r = json_array_get(rules, i);
        char *f = mm_xasprintf("rules[%zu]", i);
        const json_t *verbs = kj_arr(r, "verbs"), *res = kj_arr(r, "resources");
        if (list_has(verbs, "*") || list_has(res, "*"))
            k8s_report(c, "MM-K8S-202", f, "%s", list_has(verbs, "*") && list_has(res, "*")
                           ? "verbs and resources \"*\"" : list_has(verbs, "*")
                           ? "verbs \"*\"" : "resources \"*\"");
        const char *what;
        if (grants_escalation(r, &what))
            k8s_report(c, "MM-K8S-203", f, "grants %s", what);
        json_t *one = json_array();
        json_array_append(one, (json_t *)r);
        if (grants_secrets(one))
            k8s_report(c, "MM-K8S-204", f, "get/list/watch on secrets");
        if (grants_exec(one))
            k8s_report(c, "MM-K8S-205", f, "pods/exec or pods/attach");
        if (rules_allow(one, "get", "", "nodes/proxy") || rules_allow(one, "create", "", "nodes/proxy"))
            k8s_report(c, "MM-K8S-206", f, "nodes/proxy");
        if (grants_create_pods(one, &what))
            k8s_report(c, "MM-K8S-207", f, "create %s", what);
        json_decref(one);
        free(f);
    }
    (void)own;
}

static void binding_checks(k8s_ctx *c, const struct rbac *rb, const mm_k8s_object *o)
{
    bool cluster = kind_is(o, "ClusterRoleBinding");
    const json_t *subjects = kj_arr(o->json, "subjects");
    const struct role *role = role_of(rb, o);
    const json_t *ref = kj_obj(o->json, "roleRef");
    const char *rname = kj_str(ref, "name") ? kj_str(ref, "name") : "?";
    bool defaults = bootstrap(o);
    if (!role && !is_cluster_admin(o)) {
        static const char *const builtin[] = {"admin", "edit", "view", NULL};
        bool bi = mm_str_startswith(rname, "system:");
        for (int i = 0; builtin[i]; i++)
            if (!strcmp(rname, builtin[i]))
                bi = true;
        if (!bi)
            k8s_report(c, "MM-K8S-211", "roleRef", "%s \"%s\" not found",
                       kj_str(ref, "kind") ? kj_str(ref, "kind") : "?", rname);
    }
    if (is_cluster_admin(o) && !defaults && json_array_size(subjects))
        k8s_report(c, "MM-K8S-201", "roleRef", "%s binds cluster-admin to %zu subject(s)",
                   cluster ? "ClusterRoleBinding" : "RoleBinding", json_array_size(subjects));
    else if (role && !defaults && json_array_size(subjects) && admin_equivalent(role->rules))
        k8s_report(c, "MM-K8S-201", "roleRef", "%s \"%s\" grants every verb on every resource "
                   "to %zu subject(s)", kj_str(ref, "kind") ? kj_str(ref, "kind") : "role", rname,
                   json_array_size(subjects));
    for (size_t i = 0; i < json_array_size(subjects); i++) {
        const json_t *s = json_array_get(subjects, i);
        const char *k = kj_str(s, "kind"), *n = kj_str(s, "name");
        if (!k || !n)
            continue;
        char *f = mm_xasprintf("subjects[%zu]", i);
        if ((!strcmp(k, "Group") && !strcmp(n, "system:unauthenticated")) ||
            (!strcmp(k, "User") && !strcmp(n, "system:anonymous")))
            k8s_report(c, "MM-K8S-208", f, "%s %s bound to %s", k, n, rname);
        else if (!strcmp(k, "Group") && !strcmp(n, "system:authenticated") && !defaults)
            k8s_report(c, "MM-K8S-209", f, "every authenticated user bound to %s", rname);
        free(f);
    }
    if (!role || defaults || !json_array_size(subjects))
        return;
    if (grants_exec(role->rules))
        k8s_report(c, "MM-K8S-205", "roleRef", "gives pods/exec or pods/attach (%s) to %zu "
                   "subject(s)", rname, json_array_size(subjects));
    if (grants_secrets(role->rules))
        k8s_report(c, "MM-K8S-204", "roleRef", "gives read access to Secrets (%s) to %zu "
                   "subject(s)", rname, json_array_size(subjects));
    const char *what;
    if (grants_create_pods(role->rules, &what))
        k8s_report(c, "MM-K8S-207", "roleRef", "lets %zu subject(s) create %s (%s)",
                   json_array_size(subjects), what, rname);
    if ((cluster || !strcmp(ns_of(o), "kube-system")) && grants_create_pods(role->rules, &what)) {
        /* service accounts of kube-system itself run the control plane */
        bool outsider = false;
        for (size_t i = 0; i < json_array_size(subjects); i++) {
            const json_t *s = json_array_get(subjects, i);
            const char *k = kj_str(s, "kind"), *sns = kj_str(s, "namespace");
            if (!k || strcmp(k, "ServiceAccount") || !sns || strcmp(sns, "kube-system"))
                outsider = true;
        }
        if (outsider)
            k8s_report(c, "MM-K8S-210", "roleRef", "%s lets its subjects create %s in "
                       "kube-system", rname, what);
    }
}

void k8s_check_rbac(k8s_ctx *c)
{
    struct rbac rb;
    rbac_init(&rb, c->s);
    for (size_t i = 0; i < rb.nroles; i++) {
        const mm_k8s_object *o = mm_k8s_get(c->s, rb.roles[i].obj);
        if (bootstrap(o) || (kind_is(o, "ClusterRole") && o->name &&
                             (!strcmp(o->name, "cluster-admin") || !strcmp(o->name, "admin") ||
                              !strcmp(o->name, "edit") || !strcmp(o->name, "view"))))
            continue;
        k8s_load_ignores(c, rb.roles[i].obj);
        role_checks(c, o, rb.roles[i].rules);
    }
    for (size_t i = 0; i < mm_k8s_count(c->s); i++) {
        const mm_k8s_object *o = mm_k8s_get(c->s, i);
        if (!kind_is(o, "RoleBinding") && !kind_is(o, "ClusterRoleBinding"))
            continue;
        k8s_load_ignores(c, i);
        binding_checks(c, &rb, o);
    }
    rbac_free(&rb);
}

/* --- who can ------------------------------------------------------------------------------------ */
static void split_resource(const char *in, char **group, char **resource)
{
    /* "deployments.apps", "pods/exec", "cronjobs.batch/status" */
    const char *slash = strchr(in, '/');
    size_t blen = slash ? (size_t)(slash - in) : strlen(in);
    char *base = mm_xstrndup(in, blen);
    char *dot = strchr(base, '.');
    const char *g = NULL;
    if (dot) {
        *dot = 0;
        g = dot + 1;
    } else {
        static const struct { const char *r, *g; } known[] = {
            {"deployments", "apps"}, {"replicasets", "apps"}, {"statefulsets", "apps"},
            {"daemonsets", "apps"}, {"controllerrevisions", "apps"}, {"jobs", "batch"},
            {"cronjobs", "batch"}, {"roles", RBAC_GROUP}, {"rolebindings", RBAC_GROUP},
            {"clusterroles", RBAC_GROUP}, {"clusterrolebindings", RBAC_GROUP},
            {"networkpolicies", "networking.k8s.io"}, {"ingresses", "networking.k8s.io"},
            {"horizontalpodautoscalers", "autoscaling"}, {"poddisruptionbudgets", "policy"},
            {"customresourcedefinitions", "apiextensions.k8s.io"},
            {"certificatesigningrequests", "certificates.k8s.io"},
            {"validatingwebhookconfigurations", "admissionregistration.k8s.io"},
            {"mutatingwebhookconfigurations", "admissionregistration.k8s.io"},
            {"storageclasses", "storage.k8s.io"}, {"leases", "coordination.k8s.io"},
            {"tokenreviews", "authentication.k8s.io"},
            {"subjectaccessreviews", "authorization.k8s.io"}};
        g = "";
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (!strcmp(base, known[i].r))
                g = known[i].g;
    }
    *group = mm_xstrdup(g);
    *resource = slash ? mm_xasprintf("%s%s", base, slash) : mm_xstrdup(base);
    free(base);
}

static int cmp_grant(const void *a, const void *b)
{
    const mm_k8s_grant *x = a, *y = b;
    int r = strcmp(x->subject_kind, y->subject_kind);
    if (!r)
        r = strcmp(x->subject, y->subject);
    if (!r)
        r = strcmp(x->binding, y->binding);
    return r;
}

int mm_k8s_who_can(const mm_k8s_set *s, const char *verb, const char *resource, const char *ns,
                   mm_k8s_grant **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s || !verb || !resource || !*verb || !*resource)
        return mm_error_set(MM_EINVAL, "who-can: a verb and a resource are needed");
    char *group, *res;
    split_resource(resource, &group, &res);
    struct rbac rb;
    rbac_init(&rb, s);
    mm_k8s_grant *v = NULL;
    size_t nv = 0;
    for (size_t i = 0; i < mm_k8s_count(s); i++) {
        const mm_k8s_object *o = mm_k8s_get(s, i);
        bool cluster = kind_is(o, "ClusterRoleBinding");
        if (!cluster && !kind_is(o, "RoleBinding"))
            continue;
        if (!cluster && ns && strcmp(ns_of(o), ns))
            continue;
        const struct role *role = role_of(&rb, o);
        bool allowed = role && rules_allow(role->rules, verb, group, res);
        if (!allowed && is_cluster_admin(o) && !role)
            allowed = true;   /* the built-in cluster-admin: every verb on everything */
        if (!allowed)
            continue;
        const json_t *ref = kj_obj(o->json, "roleRef");
        const json_t *subjects = kj_arr(o->json, "subjects");
        for (size_t j = 0; j < json_array_size(subjects); j++) {
            const json_t *sj = json_array_get(subjects, j);
            const char *k = kj_str(sj, "kind"), *nm = kj_str(sj, "name");
            if (!k || !nm)
                continue;
            v = mm_xrealloc(v, (nv + 1) * sizeof *v);
            mm_k8s_grant *g = &v[nv++];
            g->subject_kind = mm_xstrdup(k);
            if (!strcmp(k, "ServiceAccount"))
                g->subject = mm_xasprintf("%s:%s", kj_str(sj, "namespace") ?
                                          kj_str(sj, "namespace") : ns_of(o), nm);
            else
                g->subject = mm_xstrdup(nm);
            g->binding = cluster ? mm_xasprintf("ClusterRoleBinding/%s", o->name ? o->name : "")
                                 : mm_xasprintf("%s/RoleBinding/%s", ns_of(o), o->name ? o->name : "");
            const char *rk = kj_str(ref, "kind") ? kj_str(ref, "kind") : "?";
            const char *rn = kj_str(ref, "name") ? kj_str(ref, "name") : "?";
            g->role = !strcmp(rk, "Role") ? mm_xasprintf("Role/%s/%s", ns_of(o), rn)
                                          : mm_xasprintf("%s/%s", rk, rn);
            g->scope = mm_xstrdup(cluster ? "*" : ns_of(o));
        }
    }
    rbac_free(&rb);
    free(group);
    free(res);
    if (nv)
        qsort(v, nv, sizeof *v, cmp_grant);
    *out = v;
    *n = nv;
    return 0;
}

void mm_k8s_grants_free(mm_k8s_grant *g, size_t n)
{
    for (size_t i = 0; g && i < n; i++) {
        free(g[i].subject_kind);
        free(g[i].subject);
        free(g[i].binding);
        free(g[i].role);
        free(g[i].scope);
    }
    free(g);
}

int mm_k8s_grants_write(FILE *out, const mm_k8s_grant *g, size_t n, const char *verb,
                        const char *resource, const char *ns, bool json)
{
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s}", "kind",
                                                 g[i].subject_kind, "name", g[i].subject,
                                                 "scope", g[i].scope, "role", g[i].role,
                                                 "binding", g[i].binding));
        json_t *doc = json_pack("{s:s,s:s,s:s?,s:o}", "verb", verb, "resource", resource,
                                "namespace", ns, "subjects", arr);
        int rc = json_dumpf(doc, out, JSON_INDENT(2));
        json_decref(doc);
        if (rc < 0 || fputc('\n', out) == EOF)
            return mm_error_set(MM_EIO, "who-can: cannot write the answer");
        return 0;
    }
    char *v = mm_str_printable(verb), *r = mm_str_printable(resource),
         *nsp = ns ? mm_str_printable(ns) : NULL;
    fprintf(out, "Who can %s %s%s%s: %zu\n", v, r, nsp ? " in namespace " : "", nsp ? nsp : "", n);
    free(v);
    free(r);
    free(nsp);
    if (n)
        fprintf(out, "%-15s %-40s %-16s %-36s %s\n", "KIND", "SUBJECT", "SCOPE", "ROLE", "BINDING");
    for (size_t i = 0; i < n; i++) {
        char *k = mm_str_printable(g[i].subject_kind), *s = mm_str_printable(g[i].subject),
             *sc = mm_str_printable(g[i].scope), *ro = mm_str_printable(g[i].role),
             *b = mm_str_printable(g[i].binding);
        fprintf(out, "%-15s %-40s %-16s %-36s %s\n", k, s, sc, ro, b);
        free(k);
        free(s);
        free(sc);
        free(ro);
        free(b);
    }
    return ferror(out) ? mm_error_set(MM_EIO, "who-can: cannot write the answer") : 0;
}
