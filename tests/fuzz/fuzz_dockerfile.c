/*
 * fuzz_dockerfile.c - the Dockerfile parser and linter (directives,
 * continuations, heredocs, JSON form, substitution, every rule) and the
 * shell splitter the linter runs on RUN text and image history.
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
    mm_dockerfile *df = NULL;
    if (mm_dockerfile_parse(&df, "fuzz", (const char *)data, size) == 0) {
        mm_findings *f;
        mm_findings_new(&f);
        mm_dflint_opts o;
        mm_dflint_opts_init(&o);
        char *regs[] = {"docker.io", "*.example.com"};
        o.allowed_registries = regs;
        o.nallowed_registries = 2;
        (void)mm_dockerfile_lint(df, &o, f);
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
