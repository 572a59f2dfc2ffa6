/*
 * fuzz_dockerfile.c - the Dockerfile parser and linter (directives,
 * continuations, heredocs, JSON form, substitution, ONBUILD triggers,
 * pragmas, every rule with a label schema and registries set), the shell
 * splitter the linter runs on RUN text and image history, and the lint
 * configuration parser (.hadolint.yaml).  ShellCheck is not run: a fuzzer
 * spawns no programs.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/dockerfile.h"
#include "config/config_int.h"
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    /* the same bytes as a configuration file: errors are fine, crashes not */
    (void)mm_dflint_config_parse(&o, "fuzz.yaml", (const char *)data, size);
    mm_dflint_opts_free(&o);

    mm_dockerfile *df = NULL;
    if (mm_dockerfile_parse(&df, "fuzz", (const char *)data, size) == 0) {
        mm_findings *f;
        mm_findings_new(&f);
        mm_dflint_opts_init(&o);
        mm_strv_push(&o.allowed_registries, &o.nallowed_registries, "docker.io");
        mm_strv_push(&o.allowed_registries, &o.nallowed_registries, "*.example.com");
        static const char *const labels[] = {"a:text", "b:url", "c:semver", "d:hash",
                                             "e:rfc3339", "f:email", "g:spdx"};
        for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
            (void)mm_dflint_opts_add_label(&o, labels[i]);
        o.strict_labels = true;
        o.shellcheck = mm_xstrdup("");
        o.spdx_list = mm_xstrdup("/nonexistent");
        (void)mm_dockerfile_lint(df, &o, f);
        mm_dflint_opts_free(&o);
        mm_findings_free(f);
        mm_dockerfile_free(df);
    }
    char *s = mm_xstrndup((const char *)data, size);
    mm_sh_script sc;
    mm_sh_parse(&sc, s);
    mm_sh_free(&sc);
    (void)mm_sensitive_name(s);
    free(s);
    return 0;
}
