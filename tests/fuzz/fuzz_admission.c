/*
 * fuzz_admission.c - libFuzzer target for the two deploy-time request
 * parsers of mamori/admission.h: the first byte picks the AdmissionReview
 * (even) or the Docker AuthZ request (odd), and with its other bits the
 * mode, the Pod Security level, sensitivity placement and the workload
 * checks; the rest is the body.  No image gate (that needs a store).  Nothing may crash, leak or
 * read out of bounds; errors are fine, and a response must be JSON whenever
 * one is given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mamori/admission.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const char *const ex[] = {"kube-*"};
    mm_adm_config c;
    mm_adm_config_init(&c);
    c.mode = (mm_adm_mode)(data[0] >> 1) % 3;
    c.pss_level = (mm_pss_level)((data[0] >> 3) % 3);
    c.exempt_namespaces = ex;
    c.nexempt = 1;
    c.placement = (data[0] >> 5) & 1;
    c.k8s_checks = (data[0] >> 6) & 1 ? MM_K8S_CHECK_WORKLOAD : 0;
    c.workload_min = MM_SEV_LOW;
    mm_admission *a;
    if (mm_admission_new(&a, &c))
        abort();
    char *resp = NULL;
    mm_adm_verdict *v = NULL;
    const char *body = (const char *)data + 1;
    if (data[0] & 1)
        mm_admission_authz(a, body, size - 1, &resp, &v);
    else
        mm_admission_review(a, body, size - 1, &resp, &v);
    if (resp) {
        json_t *j = json_loads(resp, 0, NULL);
        if (!j)
            abort();
        json_decref(j);
    }
    free(resp);
    mm_adm_verdict_free(v);
    mm_admission_free(a);
    return 0;
}
