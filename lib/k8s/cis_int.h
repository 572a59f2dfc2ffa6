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
