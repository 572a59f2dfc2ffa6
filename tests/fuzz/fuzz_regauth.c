/*
 * fuzz_regauth.c - what a registry sends back that the client parses: the
 * WWW-Authenticate challenge, the Link pagination header, Retry-After, the
 * JSON error body, a Docker config.json (auths, and the credHelpers /
 * credsStore / identitytoken pick), what a docker-credential-* helper
 * prints, and manifests and indexes (the platform pick and the layer
 * list).  The first byte picks the parser (modulo 8: seeds 0-5 keep their
 * meaning).
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "image/intake.h"
#include "registry/regint.h"
#include "util/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 1 << 20)
        return 0;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 8) {
    case 0: {
        mm_reg_challenge c;
        if (mm_reg_challenge_parse(&c, p, n) == 0 && !c.scheme)
            abort();
        mm_reg_challenge_clear(&c);
        break;
    }
    case 1:
        free(mm_reg_link_next(p, n));
        break;
    case 2: {
        char *s = mm_xstrndup(p, n);
        long v = mm_http_retry_after(s, 1445412480, MM_REG_RETRY_CAP);
        if (v > MM_REG_RETRY_CAP || v < -1)
            abort();
        free(s);
        break;
    }
    case 3:
        free(mm_reg_error_text(p, n));
        break;
    case 4: {
        char *u, *pw;
        if (mm_reg_docker_auth(p, n, "fuzz", "registry-1.docker.io", &u, &pw) == 0) {
            free(u);
            free(pw);
        }
        break;
    }
    case 6: {
        /* a config for a few hosts: the Hub, one with a port, one absent */
        static const char *hosts[] = {"registry-1.docker.io", "reg.example:5000", "x"};
        for (size_t i = 0; i < 3; i++) {
            mm_reg_authcfg a;
            int rc = mm_reg_docker_authcfg(&a, p, n, "fuzz", hosts[i]);
            if (rc == 0 && !a.helper && !a.user && !a.identity_token)
                abort();
            if (a.helper && !mm_reg_helper_name_valid(a.helper))
                abort();
            if (rc != 0 && (a.helper || a.user || a.pass || a.identity_token))
                abort();
            mm_reg_authcfg_clear(&a);
        }
        break;
    }
    case 7: {
        char *u, *s;
        bool tok;
        if (mm_reg_helper_parse(p, n, "fuzz", &u, &s, &tok) == 0) {
            if (!u || !s || !*u || !*s || tok != (strcmp(u, "<token>") == 0))
                abort();
            free(u);
            mm_secret_free(s);
        } else if (u || s) {
            abort();
        }
        break;
    }
    default: {
        char d[72];
        bool ix;
        if (mm_manifest_platform("fuzz", p, n, NULL, "linux/arm64/v8", &ix, d) == 0 && ix &&
            !mm_digest_valid(d))
            abort();
        mm_source *s = mm_xcalloc(1, sizeof *s);
        s->name = mm_xstrdup("fuzz");
        mm_intake_opts o = {0};
        o.limits.max_layers = 64;
        (void)mm_manifest_parse(s, p, n, "sha256:x", &o);
        mm_source_free(s);
        break;
    }
    }
    mm_error_clear();
    return 0;
}
