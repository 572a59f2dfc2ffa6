/*
 * fuzz_k8s_cistest.c - libFuzzer target for the evaluation of kube-bench
 * test items (lib/k8s/cistest.c): the input is a `tests` block (YAML, as
 * in the definitions), a line "----", and the output of an audit command,
 * which is given as the audit, audit_config (parsed as JSON or YAML for
 * paths) and audit_env output alike.  Flags, paths, env names, compare
 * ops and regexes of any shape must end in a verdict.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"
#include "k8s/cis_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (64u << 10))
        return 0;
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    char *sep = strstr(buf, "\n----\n");
    const char *out = "";
    if (sep) {
        *sep = 0;
        out = sep + 6;
    }
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_nodes = 5000;
    lim.max_depth = 20;
    json_t *tests = NULL;
    if (mm_yaml_load_one(&tests, buf, strlen(buf), "fuzz", &lim, NULL) == 0 &&
        json_is_object(tests)) {
        for (int multi = 0; multi < 2; multi++) {
            bool ok;
            char *ex = NULL, *err = NULL;
            k8s_cis_eval(tests, multi, out, true, out, out, &ok, &ex, &err);
            free(ex);
            free(err);
        }
    }
    json_decref(tests);
    free(buf);
    return 0;
}
