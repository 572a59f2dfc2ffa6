/*
 * fuzz_policy.c - libFuzzer target for gate policy files (lib/policy/load.c):
 * the input is a YAML policy, loaded with mm_policy_load_mem.  Hostile YAML
 * (aliases, deep nesting, huge lists, odd scalars, NUL bytes) must end in
 * a policy or a clean MM_EFORMAT / MM_ELIMIT, never a crash, a leak or an
 * out-of-bounds read.  Key paths in fuzzed policies are tried relative to
 * the working folder; only regular files are ever opened.
 */
#include <stdint.h>
#include <stdlib.h>

#include "mamori/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_policy *p = NULL;
    if (mm_policy_load_mem(&p, (const char *)data, size, "fuzz/policy.yaml") == 0 && !p)
        abort();  /* success must give a policy */
    mm_policy_free(p);
    return 0;
}
