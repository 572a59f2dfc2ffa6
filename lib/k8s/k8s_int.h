/*
 * k8s_int.h - what the files of lib/k8s share: the set's layout, JSON
 * helpers for reading objects, and the check context that turns a rule
 * violation into an mm_finding with its object, field path and line.
 */
#ifndef MM_K8S_INT_H
#define MM_K8S_INT_H

#include <jansson.h>

#include "mamori/k8s.h"
#include "util/util.h"

struct k8s_source {
    char *name;
    mm_yaml_posmap *pm;     /* NULL for JSON and API objects */
};

struct k8s_obj {
    mm_k8s_object pub;
    json_t *j;
    char *api, *kind, *ns, *name;
    size_t src;
};

struct mm_k8s_set {
    mm_k8s_limits lim;
    struct k8s_obj *v;
    size_t n, cap;
    struct k8s_source *src;
    size_t nsrc;
    char **warn;
    size_t nwarn;
    uint64_t total;         /* bytes read so far */
    size_t files;
};

void mm_k8s_warn(mm_k8s_set *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- JSON helpers (NULL-safe) ---------------------------------------------------- */
const char *kj_str(const json_t *o, const char *key);      /* string member or NULL */
json_t *kj_get(const json_t *o, const char *key);           /* any member or NULL */
json_t *kj_obj(const json_t *o, const char *key);           /* object member or NULL */
json_t *kj_arr(const json_t *o, const char *key);           /* array member or NULL */
/* true only for JSON true (a member set to true); *set tells whether the
 * member exists as a boolean. */
bool kj_true(const json_t *o, const char *key);
bool kj_false(const json_t *o, const char *key);
bool kj_int(const json_t *o, const char *key, json_int_t *out);

/* --- checks ------------------------------------------------------------------------ */
typedef struct k8s_ctx {
    const mm_k8s_set *s;
    const mm_k8s_check_opts *o;
    mm_findings *out;
    size_t obj;             /* current object */
    char **ignore;          /* ids from mamori.io/ignore on it */
    size_t nignore;
    bool ignore_all;
    /* (resource, field) pairs already reported, "id\x1fres\x1ffield" */
    mm_map *seen;
    mm_map *kinds;          /* kind -> struct k8s_kind_list; "*tmpl": objects
                             * with a pod template; "*tmpl\x1fNS": those of
                             * namespace NS ("default" when none) */
    mm_map *rules;          /* rule id -> const mm_k8s_rule *, for reports */
    mm_map *names;          /* "kind\x1fNS\x1fname" (NS "default" when none) ->
                             * index + 1 of the first such object */
} k8s_ctx;

/* The objects of one kind, in set order (an index built once per check
 * run, so cross-object checks stay linear in practice). */
struct k8s_kind_list {
    size_t *v;
    size_t n, cap;
    const json_t **labels;  /* "*tmpl\x1fNS" lists only: each object's pod
                             * template labels (NULL: none), found once */
};
/* The labels of a workload's pod template (also of a template that has no
 * spec yet, as in a partial manifest); NULL when none. */
const json_t *k8s_tmpl_labels(const mm_k8s_object *o);
const struct k8s_kind_list *k8s_kind(const k8s_ctx *c, const char *kind);
/* The first object of `kind` named `name` in namespace `ns` ("default" for
 * cluster-scoped ones and those without one); NULL when none. */
const mm_k8s_object *k8s_find_named(const k8s_ctx *c, const char *kind, const char *ns,
                                    const char *name, size_t *idx);
/* A Pod, ReplicaSet or Job whose controller (ownerReferences with
 * controller: true) is in the set too: checked through its controller. */
bool k8s_controlled_in_set(const k8s_ctx *c, const mm_k8s_object *o);
#define K8S_FOR_KIND(c, kind, var)                                                    \
    for (const struct k8s_kind_list *var##_l = k8s_kind((c), (kind)); var##_l; var##_l = NULL) \
        for (size_t var##_i = 0, var = 0; var##_i < var##_l->n && ((var = var##_l->v[var##_i]), 1); var##_i++)

/* Reports rule `id` on the current object at JSON path `field` (NULL for
 * the object itself) with evidence text (printf-style, may be NULL). */
void k8s_report(k8s_ctx *c, const char *id, const char *field, const char *evfmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same on another object (cross-object checks). */
void k8s_report_on(k8s_ctx *c, size_t obj, const char *id, const char *field,
                   const char *evfmt, ...) __attribute__((format(printf, 5, 6)));

/* Container visit: init, regular and ephemeral containers of a pod spec,
 * with their JSON path ("spec.containers[0]"). */
typedef void (*k8s_container_fn)(k8s_ctx *c, const json_t *ctr, const char *path,
                                 bool init, void *ud);
void k8s_visit_containers(k8s_ctx *c, const json_t *spec, const char *prefix,
                          k8s_container_fn fn, void *ud);

/* Makes object i current: its mamori.io/ignore annotations apply. */
void k8s_load_ignores(k8s_ctx *c, size_t i);
void k8s_check_pss(k8s_ctx *c, const mm_k8s_object *o);
void k8s_check_workload(k8s_ctx *c, const mm_k8s_object *o);
void k8s_check_workload_set(k8s_ctx *c);    /* cross-object checks */
void k8s_check_rbac(k8s_ctx *c);
void k8s_check_net(k8s_ctx *c);         /* reach.c */
void k8s_check_sens(k8s_ctx *c);        /* sens.c */
void k8s_check_node(k8s_ctx *c);        /* nodetrust.c */

/* PSS on one pod template: calls fail(ud, check_id, field, evidence) per
 * offending field. */
typedef void (*k8s_pss_fail_fn)(void *ud, const char *check, const char *field,
                                const char *evidence);
void k8s_pss_run(const json_t *meta, const json_t *spec, const char *meta_prefix,
                 const char *prefix, mm_pss_level level, int version,
                 k8s_pss_fail_fn fail, void *ud);

bool k8s_sensitive_name(const char *name);
bool k8s_sensitive_value(const char *v);
bool k8s_quantity(const json_t *v, double *out);

/* Label selector match (matchLabels and matchExpressions, or a plain map
 * for Services). */
bool k8s_selector_matches(const json_t *selector, const json_t *labels, bool plain_map);

#endif
