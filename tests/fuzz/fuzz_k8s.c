/*
 * fuzz_k8s.c - libFuzzer target for the Kubernetes manifest parser and
 * the checks behind it (lib/util/yaml.c, lib/k8s): the input is a YAML or
 * JSON stream loaded with mm_k8s_load_buffer under tight caps, then every
 * check family runs over what loaded and who-can is asked a question.
 * Hostile manifests (aliases, merge keys, deep nesting, odd scalars,
 * Lists of Lists, selectors of the wrong type) must end in findings or a
 * clean MM_EFORMAT / MM_ELIMIT: never a crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mamori/k8s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_k8s_limits lim = {0};
    lim.max_input = 1u << 20;
    lim.max_docs = 200;
    lim.max_objects = 500;
    lim.max_depth = 40;
    lim.max_nodes = 20000;
    mm_k8s_set *s;
    mm_k8s_set_new(&s, &lim);
    if (mm_k8s_load_buffer(s, "fuzz.yaml", (const char *)data, size) == 0) {
        mm_findings *f;
        mm_findings_new(&f);
        mm_k8s_check_opts o;
        mm_k8s_check_opts_init(&o);
        o.checks = MM_K8S_CHECK_ALL;
        mm_k8s_check(s, &o, f);
        mm_findings_free(f);
        mm_k8s_grant *g;
        size_t n;
        if (mm_k8s_who_can(s, "get", "secrets", "default", &g, &n) == 0)
            mm_k8s_grants_free(g, n);
        for (size_t i = 0; i < mm_k8s_count(s); i++) {
            char **ids;
            size_t nid;
            if (mm_k8s_pss_evaluate(s, i, MM_PSS_RESTRICTED, 30, &ids, &nid) == 0) {
                for (size_t k = 0; k < nid; k++)
                    free(ids[k]);
                free(ids);
            }
        }
    }
    mm_k8s_set_free(s);
    return 0;
}
