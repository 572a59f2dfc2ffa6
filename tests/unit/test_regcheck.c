/*
 * test_regcheck.c - the verdicts of the registry security checks
 * (mm_regcheck_evaluate) from observations alone: an open plain-HTTP
 * registry, a closed TLS one, basic auth over HTTP, a token realm over
 * http, an anonymous token that grants access, an unverified certificate,
 * a read-only registry (405 on uploads), no catalog (404), nothing
 * answering; and the findings (sections, severity filter) and JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/regcheck.h"
#include "mmtest.h"

static mm_regcheck_verdict v(const mm_regcheck *c, mm_regcheck_id id)
{
    return mm_regcheck_get(c, id)->verdict;
}

MM_TEST(open_plain_registry)
{
    mm_regcheck_obs o = {.http_status = 200, .repository = "a/b", .catalog_status = 200,
                         .pull_status = 404, .push_status = 202, .push_cancelled = true,
                         .https_error = "wrong version number"};
    mm_regcheck *c;
    CHECK_OK(mm_regcheck_evaluate(&c, "h:5000", &o));
    CHECK_INT(v(c, MM_REGCHECK_ANON_PULL), MM_REGCHECK_FAIL);
    CHECK_INT(v(c, MM_REGCHECK_ANON_PUSH), MM_REGCHECK_FAIL);
    CHECK(strstr(mm_regcheck_get(c, MM_REGCHECK_ANON_PUSH)->evidence, "cancelled"));
    CHECK_INT(v(c, MM_REGCHECK_ANON_CATALOG), MM_REGCHECK_FAIL);
    CHECK_INT(v(c, MM_REGCHECK_PLAIN_HTTP), MM_REGCHECK_FAIL);
    CHECK_INT(v(c, MM_REGCHECK_BASIC_HTTP), MM_REGCHECK_PASS);
    CHECK_INT(v(c, MM_REGCHECK_TOKEN_HTTP), MM_REGCHECK_NA);
    CHECK_INT(v(c, MM_REGCHECK_TLS_UNVERIFIED), MM_REGCHECK_NA);
    mm_findings *f;
    CHECK_OK(mm_findings_new(&f));
    CHECK_INT(mm_regcheck_findings(c, 0, f), 4);
    for (size_t i = 0; i < mm_findings_count(f); i++) {
        const mm_finding *x = mm_findings_get(f, i);
        CHECK_STR(x->section, !strcmp(x->id, "MM-REGCHK-004") ? "3.2.1" : "3.2.3");
        CHECK_STR(x->loc.host, "h:5000");
        CHECK(x->evidence && x->remediation);
    }
    mm_findings_free(f);
    CHECK_OK(mm_findings_new(&f));
    CHECK_INT(mm_regcheck_findings(c, 1u << MM_SEV_CRITICAL, f), 1);
    CHECK_STR(mm_findings_get(f, 0)->id, "MM-REGCHK-002");
    mm_findings_free(f);
    char *js;
    CHECK_OK(mm_regcheck_json(&js, c));
    CHECK(strstr(js, "\"fail\": 4"));
    CHECK(strstr(js, "\"not_applicable\": 2"));
    free(js);
    mm_regcheck_free(c);
}

MM_TEST(closed_tls_registry)
{
    mm_regcheck_obs o = {.https_status = 401, .https_verified = true,
                         .https_challenge = "Bearer realm=\"https://auth.example/token\",service=\"r\"",
                         .http_status = 400, .repository = "a/b", .catalog_status = 401,
                         .pull_status = 401, .push_status = 401};
    mm_regcheck *c;
    CHECK_OK(mm_regcheck_evaluate(&c, "r.example", &o));
    for (int i = MM_REGCHECK_ANON_PULL; i <= MM_REGCHECK_PLAIN_HTTP; i++)
        CHECK_INT(v(c, i), MM_REGCHECK_PASS);
    CHECK_INT(v(c, MM_REGCHECK_BASIC_HTTP), MM_REGCHECK_NA);
    CHECK_INT(v(c, MM_REGCHECK_TOKEN_HTTP), MM_REGCHECK_PASS);
    CHECK_INT(v(c, MM_REGCHECK_TLS_UNVERIFIED), MM_REGCHECK_PASS);
    mm_findings *f;
    CHECK_OK(mm_findings_new(&f));
    CHECK_INT(mm_regcheck_findings(c, 0, f), 0);
    mm_findings_free(f);
    mm_regcheck_free(c);
}

MM_TEST(auth_over_plain_http)
{
    /* basic over http; a second registry with an http realm, unquoted */
    mm_regcheck_obs o = {.http_status = 401, .http_challenge = "Basic realm=\"x\"",
                         .catalog_status = 401, .pull_status = 401, .push_status = 401};
    mm_regcheck *c;
    CHECK_OK(mm_regcheck_evaluate(&c, "h", &o));
    CHECK_INT(v(c, MM_REGCHECK_BASIC_HTTP), MM_REGCHECK_FAIL);
    CHECK_INT(v(c, MM_REGCHECK_PLAIN_HTTP), MM_REGCHECK_FAIL);
    CHECK_INT(v(c, MM_REGCHECK_TOKEN_HTTP), MM_REGCHECK_NA);
    mm_regcheck_free(c);
    o.http_challenge = "bearer service=s,realm=http://t:8080/token,scope=x";
    CHECK_OK(mm_regcheck_evaluate(&c, "h", &o));
    CHECK_INT(v(c, MM_REGCHECK_BASIC_HTTP), MM_REGCHECK_PASS);
    CHECK_INT(v(c, MM_REGCHECK_TOKEN_HTTP), MM_REGCHECK_FAIL);
    CHECK(strstr(mm_regcheck_get(c, MM_REGCHECK_TOKEN_HTTP)->evidence, "http://t:8080/token"));
    mm_regcheck_free(c);
    /* a realm-less Bearer challenge decides nothing */
    o.http_challenge = "Bearer service=s";
    CHECK_OK(mm_regcheck_evaluate(&c, "h", &o));
    CHECK_INT(v(c, MM_REGCHECK_TOKEN_HTTP), MM_REGCHECK_ERROR);
    mm_regcheck_free(c);
}

MM_TEST(anonymous_token_and_odd_answers)
{
    mm_regcheck_obs o = {.https_status = 401, .https_verified = false,
                         .https_error = "self-signed", .http_status = 0,
                         .http_error = "Connection refused", .repository = "library/x",
                         .catalog_status = 404, .pull_status = 200, .pull_token = true,
                         .push_status = 405, .push_token = true};
    mm_regcheck *c;
    CHECK_OK(mm_regcheck_evaluate(&c, "h", &o));
    CHECK_INT(v(c, MM_REGCHECK_ANON_PULL), MM_REGCHECK_FAIL);
    CHECK(strstr(mm_regcheck_get(c, MM_REGCHECK_ANON_PULL)->evidence, "anonymous token"));
    CHECK_INT(v(c, MM_REGCHECK_ANON_PUSH), MM_REGCHECK_PASS);
    CHECK_INT(v(c, MM_REGCHECK_ANON_CATALOG), MM_REGCHECK_NA);
    CHECK_INT(v(c, MM_REGCHECK_PLAIN_HTTP), MM_REGCHECK_PASS);
    CHECK_INT(v(c, MM_REGCHECK_BASIC_HTTP), MM_REGCHECK_NA);
    CHECK_INT(v(c, MM_REGCHECK_TLS_UNVERIFIED), MM_REGCHECK_FAIL);
    mm_regcheck_free(c);
    /* an accepted upload that could not be cancelled says so */
    mm_regcheck_obs p = {.http_status = 200, .push_status = 202, .pull_status = 500};
    CHECK_OK(mm_regcheck_evaluate(&c, "h", &p));
    CHECK(strstr(mm_regcheck_get(c, MM_REGCHECK_ANON_PUSH)->evidence, "NOT cancelled"));
    CHECK_INT(v(c, MM_REGCHECK_ANON_PULL), MM_REGCHECK_ERROR);
    CHECK_INT(v(c, MM_REGCHECK_ANON_CATALOG), MM_REGCHECK_ERROR);
    mm_regcheck_free(c);
    /* nothing answered at all */
    mm_regcheck_obs q = {0};
    CHECK_OK(mm_regcheck_evaluate(&c, "h", &q));
    CHECK_INT(v(c, MM_REGCHECK_ANON_PULL), MM_REGCHECK_ERROR);
    CHECK_INT(v(c, MM_REGCHECK_PLAIN_HTTP), MM_REGCHECK_PASS);
    mm_regcheck_free(c);
    mm_regcheck_free(NULL);
}

MM_TEST_MAIN
