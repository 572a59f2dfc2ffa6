/*
 * cis_int.h - what the CIS Kubernetes Benchmark runner (cis.c) shares
 * with the evaluation of kube-bench test items (cistest.c); the unit tests
 * call these directly.
 */
#ifndef MM_K8S_CIS_INT_H
#define MM_K8S_CIS_INT_H

#include "k8s/k8s_int.h"

struct mm_k8s_cis {
    char *benchmark;
    mm_k8s_cis_result *r;
    size_t n;
    char **notes;
    size_t nnotes;
};

/* cisdef.c: a definitions file (raw/pm: keep its text and key positions,
 * may be NULL); the scalar text of obj's key as written; viper's merge;
 * the benchmark for the options (NULL with the error set). */
int k8s_cis_load_yaml(const char *path, json_t **out, char **raw, mm_yaml_posmap *pm);
char *k8s_cis_raw_scalar(const char *raw, const mm_yaml_posmap *pm, const json_t *obj,
                         const char *key);
void k8s_cis_merge(json_t *dst, const json_t *src);
char *k8s_cis_pick_benchmark(const mm_k8s_cis_opts *o, const json_t *cfg);

/* "{.a.b}" into doc: the value as kube-bench prints it ("" when missing). */
int k8s_cis_jsonpath(const char *path, const json_t *doc, char **out);
/* One compare op on a found value. */
bool k8s_cis_compare(const char *op, const char *val, const char *want);
/* A check's `tests` block against the outputs of audit, audit_config
 * (has_config: the check has one) and audit_env.  *expected is the
 * kube-bench style description; *err a parse problem (both caller-freed,
 * may be NULL). */
int k8s_cis_eval(const json_t *tests, bool multi, const char *audit_out, bool has_config,
                 const char *config_out, const char *env_out, bool *result, char **expected,
                 char **err);

#endif
