/*
 * test_dflint_cases.c - the Dockerfile linter against the case file
 * tests/fixtures/dflint/hadolint-cases.txt: every case (a Dockerfile, a
 * hadolint rule id, "fire" or "pass", optionally a configuration and an
 * ONBUILD variant) is linted and compared.  Prints the agreement per rule
 * and fails a rule unless all its cases agree; a Dockerfile that does not
 * parse is a hard error.  SC cases need the shellcheck program and are
 * skipped (with the reason) when it is absent.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/dockerfile.h"
#include "mmtest.h"

typedef struct tcase {
    char rule[32];
    int expect;        /* 1 fire, 0 pass */
    int ob;            /* -1 no ONBUILD variant, else its expectation */
    char *config;
    char *text;
    int line;
} tcase;

typedef struct stat_ {
    char rule[32];
    int agree, total, errors;
} stat_;

static stat_ stats[256];
static int nstats;

static stat_ *stat_for(const char *rule)
{
    for (int i = 0; i < nstats; i++)
        if (!strcmp(stats[i].rule, rule))
            return &stats[i];
    if (nstats >= 256)
        return &stats[255];
    snprintf(stats[nstats].rule, sizeof stats[nstats].rule, "%s", rule);
    return &stats[nstats++];
}

static const char *mamori_id(const char *rule)
{
    for (size_t i = 0; i < mm_dflint_rule_count(); i++) {
        const mm_dflint_rule *r = mm_dflint_rule_get(i);
        if (r->hadolint && !strcmp(r->hadolint, rule))
            return r->id;
    }
    return NULL;
}

static char *onbuild_variant(const char *text)
{
    size_t n = strlen(text);
    char *out = malloc(n * 2 + 64);
    size_t o = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p + 1) : strlen(p);
        if (!strncmp(p, "RUN ", 4)) {
            memcpy(out + o, "ONBUILD ", 8);
            o += 8;
        }
        memcpy(out + o, p, l);
        o += l;
        p += l;
    }
    out[o] = 0;
    return out;
}

/* 1 fired, 0 silent, -1 parse error */
static int run_case(const tcase *c, const char *text, bool sc_present)
{
    mm_dflint_opts o;
    mm_dflint_opts_init(&o);
    if (strcmp(c->rule, "SC"))
        o.shellcheck = strdup(""); /* DL rules: no need to run ShellCheck */
    (void)sc_present;
    if (c->config && mm_dflint_config_parse(&o, "case-config", c->config,
                                            strlen(c->config)) < 0) {
        fprintf(stderr, "line %d: config: %s\n", c->line, mm_error_last());
        mm_dflint_opts_free(&o);
        return -1;
    }
    mm_dockerfile *df = NULL;
    if (mm_dockerfile_parse(&df, "Dockerfile", text, strlen(text)) < 0) {
        fprintf(stderr, "line %d: parse: %s\n", c->line, mm_error_last());
        mm_dflint_opts_free(&o);
        return -1;
    }
    mm_findings *f;
    mm_findings_new(&f);
    int rc = mm_dockerfile_lint(df, &o, f);
    int fired = 0;
    const char *want = strcmp(c->rule, "SC") ? mamori_id(c->rule) : NULL;
    for (size_t i = 0; rc == 0 && i < mm_findings_count(f); i++) {
        const char *id = mm_findings_get(f, i)->id;
        if (want ? !strcmp(id, want) : !strncmp(id, "SC", 2))
            fired = 1;
    }
    mm_findings_free(f);
    mm_dockerfile_free(df);
    mm_dflint_opts_free(&o);
    return rc == 0 ? fired : -1;
}

static int load_cases(tcase **out)
{
    const char *path = mmt_fixture("dflint/hadolint-cases.txt");
    size_t len;
    char *data = path ? mmt_read(path, &len) : NULL;
    if (!data)
        return -1;
    tcase *cs = NULL;
    int n = 0, lineno = 0;
    tcase *cur = NULL;
    char *save = NULL;
    size_t textlen = 0;
    for (char *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (!strncmp(l, "== ", 3)) {
            cs = realloc(cs, (size_t)(n + 1) * sizeof *cs);
            cur = &cs[n++];
            memset(cur, 0, sizeof *cur);
            cur->ob = -1;
            cur->line = lineno;
            char w[4][32] = {{0}};
            sscanf(l + 3, "%31s %31s %31s", w[0], w[1], w[2]);
            snprintf(cur->rule, sizeof cur->rule, "%s", w[0]);
            cur->expect = !strcmp(w[1], "fire");
            if (!strcmp(w[2], "ob"))
                cur->ob = cur->expect;
            else if (!strcmp(w[2], "ob=fire"))
                cur->ob = 1;
            else if (!strcmp(w[2], "ob=pass"))
                cur->ob = 0;
            cur->text = strdup("");
            textlen = 0;
            continue;
        }
        if (!cur || (l[0] == '#' && !textlen && !strncmp(l, "# ", 2) && cur->text[0] == 0 &&
                     !strstr(l, "hadolint") && !strstr(l, "syntax") && !strstr(l, "comment") &&
                     !strstr(l, "one")))
            continue;
        if (!strncmp(l, "@config ", 8)) {
            cur->config = strdup(l + 8);
            continue;
        }
        size_t ll = strlen(l);
        cur->text = realloc(cur->text, textlen + ll + 2);
        memcpy(cur->text + textlen, l, ll);
        textlen += ll;
        cur->text[textlen++] = '\n';
        cur->text[textlen] = 0;
    }
    free(data);
    *out = cs;
    return n;
}

MM_TEST(hadolint_rule_agreement)
{
    tcase *cs = NULL;
    int n = load_cases(&cs);
    REQUIRE(n > 0);
    bool sc_present = access("/usr/bin/shellcheck", X_OK) == 0;
    for (int i = 0; i < n; i++) {
        tcase *c = &cs[i];
        if (!strcmp(c->rule, "SC") && !sc_present)
            continue;
        if (strcmp(c->rule, "SC") && !mamori_id(c->rule)) {
            fprintf(stderr, "line %d: %s is not a rule mamori implements\n", c->line, c->rule);
            mmt_failed_now = 1;
            continue;
        }
        stat_ *s = stat_for(c->rule);
        for (int v = 0; v < 2; v++) {
            if (v == 1 && c->ob < 0)
                break;
            char *text = v ? onbuild_variant(c->text) : strdup(c->text);
            int want = v ? c->ob : c->expect;
            int got = run_case(c, text, sc_present);
            s->total++;
            if (got < 0)
                s->errors++;
            else if (got == want)
                s->agree++;
            else
                fprintf(stderr, "line %d: %s%s: want %s, got %s:\n%s", c->line, c->rule,
                        v ? " (ONBUILD)" : "", want ? "fire" : "pass", got ? "fire" : "pass",
                        text);
            free(text);
        }
    }
    int rules = 0, total = 0, agree = 0, errors = 0;
    printf("# rule    agree/cases  %%\n");
    for (int i = 0; i < nstats; i++) {
        stat_ *s = &stats[i];
        printf("# %-7s %4d/%-4d  %5.1f%s\n", s->rule, s->agree, s->total,
               100.0 * s->agree / (s->total ? s->total : 1), s->errors ? "  HARD ERRORS" : "");
        rules += strcmp(s->rule, "SC") != 0;
        total += s->total;
        agree += s->agree;
        errors += s->errors;
        if (s->agree != s->total)
            mmt_failed_now = 1;
    }
    printf("# %d hadolint rules, %d cases, %d agree (%.1f %%), %d hard errors%s\n", rules, total,
           agree, 100.0 * agree / (total ? total : 1), errors,
           sc_present ? "" : "; ShellCheck absent: SC cases skipped");
    CHECK(rules >= 60);
    CHECK_INT(errors, 0);
    for (int i = 0; i < n; i++) {
        free(cs[i].text);
        free(cs[i].config);
    }
    free(cs);
}

MM_TEST_MAIN
