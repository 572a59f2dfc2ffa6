/*
 * test_secret.c - the secret scanner's rules and matcher.
 *
 * Runs every example of every built-in rule (true positives must match
 * their rule, false positives must not), the real secret-scanner fixtures
 * of ../shared/testdata/secrets with the exact findings stated per file,
 * the rule-file formats of those fixtures (user rules, allow rules,
 * disabling, malformed files with their line numbers), streaming across
 * chunk and window boundaries, binary skipping and masking.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mmtest.h"
#include "mamori/common.h"
#include "secret/secret_int.h"
#include "util/util.h"

/* --- helpers ------------------------------------------------------------------ */
typedef struct got {
    mm_buf ids;      /* "rule:line " for every match, in order */
    char *last_secret;
} got;

static int collect(void *ud, const mm_sr_match *m)
{
    got *g = ud;
    mm_buf_printf(&g->ids, "%s:%zu ", m->rule->id, m->line);
    free(g->last_secret);
    g->last_secret = mm_xstrndup(m->secret, m->secret_len);
    return 0;
}

static mm_sr_set *builtin(void)
{
    static mm_sr_set *s;
    if (!s) {
        s = mm_sr_set_new();
        if (mm_sr_set_load_builtin(s) < 0 || mm_sr_set_compile(s) < 0) {
            fprintf(stderr, "builtin rules: %s\n", mm_error_last());
            mm_sr_set_free(s);
            s = NULL;
        }
    }
    return s;
}

/* Scans data as file `path` in chunks of `chunk` bytes (0 = one piece);
 * returns "rule:line rule:line " (caller frees). */
static char *scan_with(const mm_sr_set *s, const char *path, const char *data, size_t len,
                       size_t chunk, bool binaries)
{
    mm_sr_scanner *sc = NULL;
    if (mm_sr_scanner_new(&sc, s) < 0)
        return NULL;
    got g = {MM_BUF_INIT, NULL};
    mm_buf_adds(&g.ids, "");
    mm_sr_scanner_begin(sc, path, binaries, collect, &g);
    size_t off = 0;
    int rc = 0;
    while (off < len && rc == 0) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;
        rc = mm_sr_scanner_feed(sc, (const uint8_t *)data + off, n);
        off += n;
    }
    if (rc >= 0)
        rc = mm_sr_scanner_end(sc);
    mm_sr_scanner_free(sc);
    free(g.last_secret);
    if (rc < 0) {
        mm_buf_free(&g.ids);
        return NULL;
    }
    return mm_buf_detach(&g.ids);
}

static char *scan_str(const mm_sr_set *s, const char *path, const char *text)
{
    return scan_with(s, path, text, strlen(text), 0, false);
}

static bool has_rule(const char *ids, const char *rule)
{
    size_t n = strlen(rule);
    for (const char *p = ids; p && (p = strstr(p, rule)); p += n)
        if ((p == ids || p[-1] == ' ') && p[n] == ':')
            return true;
    return false;
}

/* --- the built-in rules --------------------------------------------------------- */
MM_TEST(builtin_rules_load)
{
    mm_sr_set *s = builtin();
    REQUIRE(s);
    size_t n = mm_sr_set_count(s);
    CHECK(n >= 80);
    for (size_t i = 0; i < n; i++) {
        const mm_sr_rule *r = mm_sr_set_rule(s, i);
        if (r->ntp < 1 || r->nfp < 1 || !r->nkeywords || r->severity == MM_SEV_UNKNOWN) {
            fprintf(stderr, "rule %s: %zu true / %zu false examples, %zu keywords\n",
                    r->id, r->ntp, r->nfp, r->nkeywords);
            mmt_failed_now = 1;
        }
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(r->id, mm_sr_set_rule(s, j)->id)) {
                fprintf(stderr, "duplicate rule id %s\n", r->id);
                mmt_failed_now = 1;
            }
    }
    CHECK(mm_sr_set_allow_count(s) >= 4);
    /* the kinds the issue names are all there */
    static const char *const want[] = {
        "aws-access-key-id", "aws-secret-access-key", "gcp-service-account-key",
        "azure-storage-account-key", "github-pat", "gitlab-pat", "slack-bot-token",
        "stripe-secret-key", "twilio-api-key", "sendgrid-api-key", "openai-api-key",
        "anthropic-api-key", "npm-access-token", "pypi-upload-token", "rsa-private-key",
        "ec-private-key", "openssh-private-key", "pgp-private-key", "pkcs8-private-key",
        "jwt", "docker-config-auth", "database-url-password", "generic-password-assignment",
        "generic-secret-assignment", "age-secret-key", "vault-token",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!mm_sr_set_find(s, want[i])) {
            fprintf(stderr, "no rule %s\n", want[i]);
            mmt_failed_now = 1;
        }
}

MM_TEST(builtin_rule_examples)
{
    mm_sr_set *s = builtin();
    REQUIRE(s);
    size_t ntp = 0, nfp = 0;
    for (size_t i = 0; i < mm_sr_set_count(s); i++) {
        const mm_sr_rule *r = mm_sr_set_rule(s, i);
        for (size_t k = 0; k < r->ntp; k++, ntp++) {
            char *ids = scan_str(s, "srv/app/config.txt", r->tp[k]);
            if (!ids || !has_rule(ids, r->id)) {
                fprintf(stderr, "rule %s: true positive %zu not found (got \"%s\"): %s\n",
                        r->id, k, ids ? ids : mm_error_last(), r->tp[k]);
                mmt_failed_now = 1;
            }
            free(ids);
        }
        for (size_t k = 0; k < r->nfp; k++, nfp++) {
            char *ids = scan_str(s, "srv/app/config.txt", r->fp[k]);
            if (!ids || has_rule(ids, r->id)) {
                fprintf(stderr, "rule %s: false positive %zu matched: %s\n", r->id, k, r->fp[k]);
                mmt_failed_now = 1;
            }
            free(ids);
        }
    }
    CHECK(ntp >= 80);
    CHECK(nfp >= 80);
}

/* --- the shared fixtures --------------------------------------------------------- */
typedef struct expect {
    const char *file;
    const char *ids; /* exact "rule:line " list in match order */
} expect;

/* What mamori reports on each fixture file with the built-in rules, and
 * why where it differs from a naive reading. */
static const expect FIXTURES[] = {
    /* only line 2 has the 20 characters bounded on both sides */
    {"alibaba-access-key-id.txt", "alibaba-access-key-id:2 "},
    {"asymmetric-private-key.txt", "rsa-private-key:1 "},
    /* the key with JSON "\n" escapes */
    {"asymmetric-private-secret.json", "rsa-private-key:1 "},
    {"asymmetric-private-secret.txt", "rsa-private-key:1 "},
    /* line 4 is the AWS documentation key (…EXAMPLE); line 5 has no
     * assignment operator and a 40-byte value of low entropy */
    {"aws-secrets.txt", "aws-secret-access-key:1 aws-access-key-id:2 "},
    {"azure-ai-services-key.txt", "azure-ai-services-key:1 "},
    {"azure-app-config-connection-string.txt", "azure-app-config-connection-string:1 "},
    {"azure-container-registry-credential.txt", "azure-container-registry-key:1 "},
    {"azure-container-registry-password.txt", "azure-container-registry-password:1 "},
    {"azure-devops-pat.txt", "azure-devops-pat:1 "},
    {"azure-entra-client-secret.txt", "azure-entra-client-secret:1 "},
    {"azure-sas-token.txt", "azure-sas-token:1 "},
    {"azure-storage-account-key.txt", "azure-storage-account-key:1 "},
    {"builtin-rule-secret.txt", "github-pat:1 aws-access-key-id:2 "},
    {"crlf-line-endings.txt", "aws-access-key-id:2 github-pat:4 "},
    {"docker-secrets.txt", "k8s-dockerconfig-secret:2 k8s-dockerconfig-secret:4 "},
    {"example-secret.txt", "aws-secret-access-key:1 "},
    /* the token says "dummy" and "notreal": a placeholder */
    {"github-app-token.txt", ""},
    {"github-token.txt", "github-fine-grained-pat:1 "},
    {"grafana-env.txt", "grafana-api-key:1 grafana-api-key:2 "},
    /* "HF_example_token" names an example but the value itself is a token */
    {"hugging-face-secret.txt", "huggingface-token:1 "},
    {"invalid-aws-secrets.txt", ""},
    /* line 3 holds non-UTF-8 bytes inside the token: not a token */
    {"invalid-utf8.txt", "github-pat:1 "},
    {"jwt-secret.txt", "jwt:3 "},
    {"long-line-secret.txt", "github-pat:1 "},
    {"multi-line.txt", ""},
    {"obfuscated.js", ""},
    {"openai-admin-api-key.txt", "openai-api-key:1 "},
    /* sk-ant-, sk-or-: other providers' prefixes; too short; no watermark */
    {"openai-invalid.txt", ""},
    {"openai-legacy-api-key.txt", "openai-api-key:1 "},
    {"openai-project-api-key.txt", "openai-api-key:1 "},
    {"openai-realtime-client-secret.txt", "openai-ephemeral-key:1 "},
    {"openai-service-account-key.txt", "openai-api-key:1 "},
    {"openai-service-api-key.txt", "openai-api-key:1 "},
    {"private-packagist.txt", "private-packagist-token:1 private-packagist-token:2 "
                              "private-packagist-token:3 "},
    /* "somevalue"/"othervalue" are below the entropy threshold; the
     * password is a counting sequence */
    {"secret.md", ""},
    {"secret.txt", ""},
    /* encrypted ({...}), variables and empty values are not secrets */
    {"settings-encrypted.xml", ""},
    {"settings-security.xml", "maven-settings-master-password:2 "},
    {"settings.xml", "maven-settings-password:2 maven-settings-password:3 "},
    /* Symfony's shipped placeholder "ThisTokenIsNotSoSecretChangeIt" */
    {"symfony-secret.yaml", ""},
    /* the wrapped look-alikes are glued to other words */
    {"wrapped-secrets.txt", ""},
    /* a key name glued to "My" is still an AWS secret key assignment;
     * a token glued to "our" is not a token boundary */
    {"wrapped-secrets-sensitive.txt", "aws-secret-access-key:1 "},
};

MM_TEST(shared_fixtures_builtin_rules)
{
    const char *dir = mmt_shared("secrets");
    if (!dir)
        MMT_SKIP("../shared/testdata/secrets is absent");
    mm_sr_set *s = builtin();
    REQUIRE(s);
    char base[4096];
    snprintf(base, sizeof base, "%s", dir);
    for (size_t i = 0; i < sizeof FIXTURES / sizeof FIXTURES[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", base, FIXTURES[i].file);
        size_t len = 0;
        char *data = mmt_read(path, &len);
        if (!data) {
            fprintf(stderr, "%s: cannot read\n", path);
            mmt_failed_now = 1;
            continue;
        }
        char rel[300];
        snprintf(rel, sizeof rel, "srv/%s", FIXTURES[i].file);
        char *ids = scan_with(s, rel, data, len, 0, false);
        if (!ids || strcmp(ids, FIXTURES[i].ids)) {
            fprintf(stderr, "%s: got \"%s\", expected \"%s\"\n", FIXTURES[i].file,
                    ids ? ids : mm_error_last(), FIXTURES[i].ids);
            mmt_failed_now = 1;
        }
        /* the same, fed 1, 3 and 17 bytes at a time */
        static const size_t chunks[] = {1, 3, 17};
        for (size_t c = 0; ids && c < 3; c++) {
            char *ids2 = scan_with(s, rel, data, len, chunks[c], false);
            if (!ids2 || strcmp(ids, ids2)) {
                fprintf(stderr, "%s: chunks of %zu give \"%s\"\n", FIXTURES[i].file,
                        chunks[c], ids2 ? ids2 : "(error)");
                mmt_failed_now = 1;
            }
            free(ids2);
        }
        free(ids);
        free(data);
    }
}

/* A set of the built-in rules plus one user file from the fixtures. */
static int with_config(mm_sr_set **out, const char *cfg, bool builtin_too)
{
    *out = NULL;
    mm_sr_set *s = mm_sr_set_new();
    int rc = builtin_too ? mm_sr_set_load_builtin(s) : 0;
    if (rc == 0)
        rc = mm_sr_set_load_file(s, cfg, NULL, NULL);
    if (rc == 0)
        rc = mm_sr_set_compile(s);
    if (rc < 0) {
        mm_sr_set_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static char *scan_fixture(const mm_sr_set *s, const char *dir, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    size_t len = 0;
    char *data = mmt_read(path, &len);
    if (!data)
        return NULL;
    char rel[300];
    snprintf(rel, sizeof rel, "app/%s", file);
    char *ids = scan_with(s, rel, data, len, 0, false);
    free(data);
    return ids;
}

typedef struct cfg_case {
    const char *config, *file, *ids;
} cfg_case;

MM_TEST(shared_fixtures_user_rules)
{
    const char *d = mmt_shared("secrets");
    if (!d)
        MMT_SKIP("../shared/testdata/secrets is absent");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", d);
    static const cfg_case cases[] = {
        /* rule1 finds both quoted secret= values (lines 2 and 4) */
        {"config.yaml", "secret.txt", "rule1:2 rule1:4 "},
        {"config.yaml", "secret.md", "rule1:2 rule1:4 "},
        /* a keyword present in the file changes nothing; one absent silences */
        {"config-happy-keywords.yaml", "secret.txt", "rule1:2 rule1:4 "},
        {"config-sad-keywords.yaml", "secret.txt", ""},
        /* allow regex "other" drops the "othervalue" secret only */
        {"allow-regex.yaml", "secret.txt", "rule1:2 "},
        /* an allow regex is tested on the secret, not the whole match */
        {"allow-regex-outside-group.yaml", "secret.txt", "rule1:2 "},
        /* path allow rules: *.txt files are skipped, .md files are not */
        {"allow-path.yaml", "secret.txt", ""},
        {"allow-path.yaml", "secret.md", "rule1:2 rule1:4 "},
        {"global-allow-path.yaml", "secret.txt", ""},
        {"global-allow-path.yaml", "secret.md", "rule1:2 rule1:4 "},
        {"global-allow-regex.yaml", "secret.txt", "rule1:2 "},
        {"config-disable-rule1.yaml", "secret.txt", ""},
        /* disabling github-pat leaves the AWS key */
        {"config-disable-ghp.yaml", "builtin-rule-secret.txt", "aws-access-key-id:2 "},
        /* enabling only github-pat among the built-in rules */
        {"config-enable-ghp.yaml", "builtin-rule-secret.txt", "github-pat:1 "},
        /* (?m) anchors at each line; without it ^ is the start of the file */
        {"multi-line-on.yaml", "multi-line.txt", "multi-line-secret:2 "},
        {"multi-line-off.yaml", "multi-line.txt", ""},
        {"config-with-non-uppercase-severity.yaml", "secret.txt", NULL}, /* UNKNOWN refused */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char cfg[4200];
        snprintf(cfg, sizeof cfg, "%s/%s", dir, cases[i].config);
        mm_sr_set *s = NULL;
        int rc = with_config(&s, cfg, true);
        if (!cases[i].ids) {
            if (rc >= 0) {
                fprintf(stderr, "%s: accepted\n", cases[i].config);
                mmt_failed_now = 1;
            }
            mm_sr_set_free(s);
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "%s: %s\n", cases[i].config, mm_error_last());
            mmt_failed_now = 1;
            continue;
        }
        char *ids = scan_fixture(s, dir, cases[i].file);
        if (!ids || strcmp(ids, cases[i].ids)) {
            fprintf(stderr, "%s on %s: got \"%s\", expected \"%s\"\n", cases[i].config,
                    cases[i].file, ids ? ids : "(error)", cases[i].ids);
            mmt_failed_now = 1;
        }
        free(ids);
        mm_sr_set_free(s);
    }
}

/* --- malformed rule files ------------------------------------------------------------ */
static void check_bad(const char *text, int code, const char *want)
{
    mm_sr_set *s = mm_sr_set_new();
    int rc = mm_sr_set_load(s, "bad.yaml", text, strlen(text), false, NULL, NULL);
    if (rc == 0)
        rc = mm_sr_set_compile(s);
    if (rc != code || !strstr(mm_error_last(), want)) {
        fprintf(stderr, "rc %d (want %d), message \"%s\" (want \"%s\")\n", rc, code,
                mm_error_last(), want);
        mmt_failed_now = 1;
    }
    mm_sr_set_free(s);
}

MM_TEST(malformed_rule_files)
{
    check_bad("rules:\n  - id: a\n    severity: HIGH\n    regex: 'x\n", MM_EFORMAT, "bad.yaml:");
    check_bad("rules:\n  - id: a\n    severity: HIGH\n    regex: x\n    colour: red\n",
              MM_EFORMAT, "bad.yaml:5:5: rule: unknown key \"colour\"");
    check_bad("rules:\n  - id: a\n    severity: bad\n    regex: x\n", MM_EFORMAT,
              "bad.yaml:3:5: severity \"bad\"");
    check_bad("rules:\n  - id: a\n    severity: HIGH\n", MM_EFORMAT, "bad.yaml:2:5: rule a: no regex");
    check_bad("rules:\n  - id: a\n    regex: abc\n", MM_EFORMAT, "bad.yaml:2:5: rule a: no severity");
    check_bad("\n\nrules:\n  - id: a\n    severity: LOW\n    keywords: [ab]\n    regex: 'a(b'\n",
              MM_EFORMAT, "bad.yaml:4: rule a: regex error at offset 3");
    check_bad("rules:\n  - id: 'a b'\n    severity: LOW\n    regex: x\n", MM_EFORMAT,
              "bad.yaml:2:5: rule id \"a b\"");
    check_bad("rules: {}\n", MM_EFORMAT, "bad.yaml:1:1: rules: expected a list");
    check_bad("rulez: []\n", MM_EFORMAT, "bad.yaml:1:1: unknown key \"rulez\"");
    check_bad("- a\n- b\n", MM_EFORMAT, "bad.yaml:1:1: expected a mapping");
    check_bad("rules:\n  - id: a\n    severity: LOW\n    regex: x\n    entropy: 9\n",
              MM_EFORMAT, "bad.yaml:5:5: entropy");
    check_bad("rules:\n  - id: a\n    severity: LOW\n    regex: x\n    secret-group-name: s\n",
              MM_EFORMAT, "rule a: secret-group-name \"s\"");
    check_bad("allow-rules:\n  - id: a\n    description: nothing to test\n", MM_EFORMAT,
              "bad.yaml:2:5: allow rule a: needs a regex or a path");
    check_bad("exclude-block:\n  regexes: [x]\n", MM_EUNSUPPORTED, "bad.yaml:1:1: exclude-block");
    check_bad("version: 2\n", MM_EFORMAT, "bad.yaml:1:1: version 2");

    const char *d = mmt_shared("secrets");
    if (!d)
        MMT_SKIP("../shared/testdata/secrets is absent");
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s", d);
    mm_sr_set *s = NULL;
    /* the same group name twice in one regex */
    snprintf(p, sizeof p, "%s/multiple-secret-groups.yaml", dir);
    CHECK(with_config(&s, p, false) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "multiple-secret-groups.yaml:2: rule rule1: regex error") != NULL);
    snprintf(p, sizeof p, "%s/config-with-incorrect-severity.yaml", dir);
    CHECK(with_config(&s, p, false) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "config-with-incorrect-severity.yaml:5:5: severity \"bad\"") != NULL);
    snprintf(p, sizeof p, "%s/config-without-severity.yaml", dir);
    CHECK(with_config(&s, p, false) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "config-without-severity.yaml:2:5: rule rule1: no severity") != NULL);
    snprintf(p, sizeof p, "%s/exclude-block.yaml", dir);
    CHECK(with_config(&s, p, false) == MM_EUNSUPPORTED);
    CHECK(strstr(mm_error_last(), "exclude-block.yaml:8:5: exclude-block is not supported") != NULL);
    CHECK(s == NULL);
    /* a missing file names itself */
    mm_secret_opts o;
    mm_secret_opts_init(&o);
    const char *missing[] = {"/nonexistent/rules.yaml"};
    o.config_paths = missing;
    o.nconfig_paths = 1;
    CHECK(mm_secret_check(&o) < 0);
    CHECK(strstr(mm_error_last(), "/nonexistent/rules.yaml") != NULL);
    o.nconfig_paths = 0;
    CHECK_OK(mm_secret_check(&o));
}

/* --- overriding and replacing ------------------------------------------------------- */
MM_TEST(user_file_overrides_and_replaces)
{
    mm_sr_set *s = mm_sr_set_new();
    REQUIRE(mm_sr_set_load_builtin(s) == 0);
    size_t n0 = mm_sr_set_count(s);
    const char *user =
        "rules:\n"
        "  - id: github-pat\n"             /* override: now LOW, new title */
        "    title: Old GitHub token\n"
        "    severity: LOW\n"
        "    keywords: [ghp_]\n"
        "    regex: 'ghp_(?P<secret>[A-Za-z0-9]{36})'\n"
        "  - id: acme-token\n"             /* addition */
        "    severity: HIGH\n"
        "    keywords: [acme_]\n"
        "    regex: '\\bacme_[a-z0-9]{16}\\b'\n"
        "disable-rules: [jwt]\n";
    CHECK_OK(mm_sr_set_load(s, "user.yaml", user, strlen(user), false, NULL, NULL));
    CHECK_OK(mm_sr_set_compile(s));
    CHECK_INT(mm_sr_set_count(s), n0 + 1);
    const mm_sr_rule *r = mm_sr_set_find(s, "github-pat");
    REQUIRE(r);
    CHECK_INT(r->severity, MM_SEV_LOW);
    CHECK_STR(r->title, "Old GitHub token");
    CHECK(mm_sr_set_find(s, "jwt")->disabled);
    char *ids = scan_str(s, "x", "t=acme_0a1b2c3d4e5f6a7b\n"
                         "GITHUB=ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7\n"
                         "jwt: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U\n");
    CHECK_STR(ids, "acme-token:1 github-pat:2 ");
    free(ids);
    mm_sr_set_free(s);

    /* builtin-rules: false keeps only the file's rules */
    s = mm_sr_set_new();
    REQUIRE(mm_sr_set_load_builtin(s) == 0);
    const char *only = "builtin-rules: false\nrules:\n  - id: acme-token\n    severity: HIGH\n"
                       "    keywords: [acme_]\n    regex: 'acme_[a-z0-9]{16}'\n";
    CHECK_OK(mm_sr_set_load(s, "only.yaml", only, strlen(only), false, NULL, NULL));
    CHECK_OK(mm_sr_set_compile(s));
    ids = scan_str(s, "x", "acme_0a1b2c3d4e5f6a7b ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7\n");
    CHECK_STR(ids, "acme-token:1 ");
    free(ids);
    mm_sr_set_free(s);
}

/* --- streaming ----------------------------------------------------------------------- */
MM_TEST(streaming_across_windows)
{
    mm_sr_set *s = builtin();
    REQUIRE(s);
    /* 3 MiB of text lines with secrets placed around the 1 MiB window
     * and the 64 KiB carry-over, and a private key that straddles. */
    mm_buf b = MM_BUF_INIT;
    size_t line = 1;
    mm_buf want = MM_BUF_INIT;
    mm_buf_adds(&want, "");
    static const size_t at[] = {1000, (1u << 20) - 30, (1u << 20) + 5, (2u << 20) - (64u << 10),
                                (2u << 20) - (64u << 10) + 2048, 3u << 20};
    size_t k = 0;
    while (b.len < (3u << 20) + 4096) {
        if (k < 6 && b.len >= at[k]) {
            if (k == 3) {
                mm_buf_adds(&b, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
                mm_buf_printf(&want, "openssh-private-key:%zu ", line);
                line++;
                for (int i = 0; i < 30; i++, line++)
                    mm_buf_adds(&b, "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n");
                mm_buf_adds(&b, "-----END OPENSSH PRIVATE KEY-----\n");
                line++;
            } else {
                mm_buf_printf(&b, "token = ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3U%02zu\n", k);
                mm_buf_printf(&want, "github-pat:%zu ", line);
                line++;
            }
            k++;
            continue;
        }
        mm_buf_adds(&b, "the quick brown fox jumps over the lazy dog; no key here at all\n");
        line++;
    }
    static const size_t chunks[] = {0, 1u << 16, 4093, 1u << 20, 1u << 21};
    for (size_t c = 0; c < 5; c++) {
        char *ids = scan_with(s, "big.txt", b.data, b.len, chunks[c], false);
        if (!ids || strcmp(ids, want.data)) {
            fprintf(stderr, "chunk %zu: got \"%s\"\nexpected \"%s\"\n", chunks[c],
                    ids ? ids : "(error)", want.data);
            mmt_failed_now = 1;
        }
        free(ids);
    }
    mm_buf_free(&b);
    mm_buf_free(&want);
}

MM_TEST(binary_files_skipped_unless_asked)
{
    mm_sr_set *s = builtin();
    REQUIRE(s);
    char data[20000];
    memset(data, 'a', sizeof data);
    data[100] = 0;
    memcpy(data + 15000, "\nk=ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7\n", 45);
    char *ids = scan_with(s, "bin", data, sizeof data, 4096, false);
    CHECK_STR(ids, "");
    free(ids);
    ids = scan_with(s, "bin", data, sizeof data, 4096, true);
    CHECK_STR(ids, "github-pat:2 ");
    free(ids);
    /* a NUL after the first 8 KiB does not make a file binary */
    data[100] = 'a';
    data[9000] = 0;
    ids = scan_with(s, "bin", data, sizeof data, 0, false);
    CHECK_STR(ids, "github-pat:2 ");
    free(ids);
}

MM_TEST(one_finding_per_rule_and_line)
{
    mm_sr_set *s = builtin();
    REQUIRE(s);
    char *ids = scan_str(s, "x", "a=ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7 b=ghp_Aq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7\n");
    CHECK_STR(ids, "github-pat:1 ");
    free(ids);
}

/* --- masking ------------------------------------------------------------------------- */
MM_TEST(masking)
{
    char *m = mm_secret_mask("AKIAIOSFODNN7EXAMPLE", 20);
    CHECK_STR(m, "AKIA************MPLE");
    free(m);
    m = mm_secret_mask("short", 5);
    CHECK_STR(m, "s****t");
    free(m);
    m = mm_secret_mask("abc", 3);
    CHECK_STR(m, "****");
    free(m);
    char key[2000];
    memset(key, 'Q', sizeof key);
    m = mm_secret_mask(key, sizeof key);
    CHECK_INT(strlen(m), 32);
    free(m);
    m = mm_secret_mask("ab\ncd\x01" "efghijklmnopqrstuv", 24);
    CHECK_STR(m, "ab?c****************stuv");
    free(m);

    const char *tok = "ghp_Zq3Lm9Xw2Rt7Yp4Kd8Vb6Nc1Hs5Fj0Ga3Ue7";
    char text[200];
    snprintf(text, sizeof text, "ENV GITHUB_TOKEN=%s PATH=/usr/bin", tok);
    mm_secret_rules *rules = NULL;
    REQUIRE(mm_secret_rules_new(&rules, NULL) == 0);
    mm_secret_redactor *rd = NULL;
    REQUIRE(mm_secret_redactor_new(&rd, rules) == 0);
    char *r = mm_secret_redact(rd, text);
    REQUIRE(r);
    CHECK(strstr(r, tok) == NULL);
    CHECK_STR(r, "ENV GITHUB_TOKEN=ghp_************************3Ue7 PATH=/usr/bin");
    free(r);
    r = mm_secret_redact(rd, "/bin/sh -c apt-get update");
    CHECK_STR(r, "/bin/sh -c apt-get update");
    free(r);
    CHECK(mm_secret_redact(rd, NULL) == NULL);
    /* without a redactor nothing is shown rather than everything */
    r = mm_secret_redact(NULL, "password=hunter2");
    REQUIRE(r);
    CHECK(strstr(r, "hunter2") == NULL);
    free(r);
    mm_secret_redactor_free(rd);
    mm_secret_rules_free(rules);
}

/* A rule file that disables an id that does not exist loads with a
 * warning that stays with the compiled set (every scan using it reports
 * it). */
MM_TEST(rules_object_keeps_warnings)
{
    char dir[] = "/tmp/mm-secret-XXXXXX";
    REQUIRE(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/rules.yaml", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("disable-rules:\n  - no-such-rule-id\n", f);
    fclose(f);
    const char *paths[] = {path};
    mm_secret_opts o;
    mm_secret_opts_init(&o);
    o.config_paths = paths;
    o.nconfig_paths = 1;
    mm_secret_rules *rules = NULL;
    REQUIRE(mm_secret_rules_new(&rules, &o) == 0);
    CHECK_INT(mm_secret_rules_warning_count(rules), 1);
    const char *w = mm_secret_rules_warning(rules, 0);
    CHECK(w && strstr(w, "no-such-rule-id"));
    CHECK(mm_secret_rules_warning(rules, 1) == NULL);
    mm_secret_rules_free(rules);
    unlink(path);
    rmdir(dir);
}

MM_TEST(entropy)
{
    CHECK(mm_sr_entropy("aaaa", 4) == 0);
    double h = mm_sr_entropy("abcd", 4);
    CHECK(h > 1.99 && h < 2.01);
    CHECK(mm_sr_entropy("", 0) == 0);
}

MM_TEST_MAIN
