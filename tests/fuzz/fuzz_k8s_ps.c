/*
 * fuzz_k8s_ps.c - libFuzzer target for recorded process lists as node
 * input (lib/k8s/procs.c) and the node-trust checks on the command lines
 * they yield (lib/k8s/nodetrust.c): headers or none, padded columns,
 * flags with and without values, long lines.  No file is read (no node
 * root).
 */
#include <stdint.h>
#include <stdlib.h>

#include "mamori/k8s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_k8s_set *s;
    mm_k8s_set_new(&s, NULL);
    if (mm_k8s_load_ps(s, "fuzz.ps", (const char *)data, size) == 0) {
        mm_findings *f;
        mm_findings_new(&f);
        mm_k8s_check_opts o;
        mm_k8s_check_opts_init(&o);
        o.checks = MM_K8S_CHECK_NODE;
        mm_k8s_check(s, &o, f);
        mm_findings_free(f);
    }
    mm_k8s_set_free(s);
    return 0;
}
