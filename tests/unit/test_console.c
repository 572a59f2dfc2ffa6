/*
 * test_console.c - the web console's server side (lib/fleet/console.c,
 * issue 20) without a network: the files handed in through the options
 * and their headers, no console without them, logging in, the session
 * cookie as the Cookie header may carry it (other cookies, spaces, quotes;
 * a longer or shorter name is not it), the CSRF token on a state change,
 * a session's expiry, and logins rate-limited per peer.  The real server and a real browser are
 * tests/integration/test_console.py.
 */
#include <unistd.h>
#include <jansson.h>

#include "mmtest.h"
#include "mamori/fleet.h"

static char db_path[600];

static const mm_fleet_asset files[] = {
    {"/", "text/html; charset=utf-8", "<p>hi</p>", 9},
    {"/ui/app.js", "text/javascript; charset=utf-8", "export {};", 10},
};

static const char *hdr(const mm_http_resp *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->hname[i], name) == 0)
            return r->hvalue[i];
    return NULL;
}

static int call(mm_fleet *f, const char *method, const char *path, const char *const *hs,
                const char *body, mm_http_resp *resp)
{
    mm_http_req rq = {.method = method, .path = path, .body = body ? body : "",
                      .body_len = body ? strlen(body) : 0, .peer = "127.0.0.1",
                      .peer_pid = -1, .peer_uid = (uid_t)-1, .fake_headers = hs};
    memset(resp, 0, sizeof *resp);
    mm_fleet_handle(f, &rq, resp);
    return resp->status;
}

static mm_fleet *open_fleet(bool with_files, unsigned ttl)
{
    mm_fleet_opts o;
    mm_fleet_opts_init(&o);
    if (!db_path[0])
        snprintf(db_path, sizeof db_path, "%s/console.db", mmt_tmpdir());
    o.db = db_path;
    o.rate = 1e9;
    if (with_files) {
        o.assets = files;
        o.nassets = 2;
    }
    o.session_ttl = ttl;
    mm_fleet *f = NULL;
    CHECK_OK(mm_fleet_open(&f, &o));
    return f;
}

/* logs in: the session id and CSRF token */
static void login(mm_fleet *f, const char *tok, char sid[80], char csrf[80])
{
    char body[300];
    snprintf(body, sizeof body, "{\"token\": \"%s\"}", tok);
    mm_http_resp r;
    CHECK_INT(call(f, "POST", "/api/v1/session", NULL, body, &r), 201);
    const char *sc = hdr(&r, "Set-Cookie");
    REQUIRE(sc);
    CHECK(strstr(sc, "HttpOnly") && strstr(sc, "Secure") && strstr(sc, "SameSite=Strict"));
    CHECK(!strstr(sc, tok));
    snprintf(sid, 80, "%.*s", (int)strcspn(sc + 15, ";"), sc + 15);
    json_t *j = json_loads(r.body, 0, NULL);
    snprintf(csrf, 80, "%s", json_string_value(json_object_get(j, "csrf")));
    json_decref(j);
    mm_http_resp_clear(&r);
}

MM_TEST(files_and_headers)
{
    mm_fleet *f = open_fleet(true, 0);
    mm_http_resp r;
    CHECK_INT(call(f, "GET", "/", NULL, NULL, &r), 200);
    CHECK_STR(r.content_type, "text/html; charset=utf-8");
    CHECK(r.body_len == 9 && memcmp(r.body, "<p>hi</p>", 9) == 0);
    CHECK(strstr(hdr(&r, "Content-Security-Policy"), "script-src 'self'") != NULL);
    CHECK_STR(hdr(&r, "X-Content-Type-Options"), "nosniff");
    mm_http_resp_clear(&r);
    CHECK_INT(call(f, "GET", "/ui/app.js", NULL, NULL, &r), 200);
    mm_http_resp_clear(&r);
    CHECK_INT(call(f, "GET", "/ui/../etc/passwd", NULL, NULL, &r), 404);
    mm_http_resp_clear(&r);
    CHECK_INT(call(f, "DELETE", "/", NULL, NULL, &r), 405);
    mm_http_resp_clear(&r);
    mm_fleet_close(f);
    f = open_fleet(false, 0);
    CHECK_INT(call(f, "GET", "/", NULL, NULL, &r), 404);
    CHECK(strstr(r.body, "no console") != NULL);
    mm_http_resp_clear(&r);
    mm_fleet_close(f);
}

/* pat with its "%s" (if any) replaced by sid */
static void fill(char *out, size_t n, const char *pat, const char *sid)
{
    const char *p = strstr(pat, "%s");
    if (!p)
        snprintf(out, n, "%s", pat);
    else
        snprintf(out, n, "%.*s%s%s", (int)(p - pat), pat, sid, p + 2);
}

MM_TEST(cookie_forms_and_csrf)
{
    mm_fleet *f = open_fleet(true, 0);
    char *tok, *id;
    CHECK_OK(mm_fleet_token_create(f, "ops", "operator", NULL, &tok, &id));
    char sid[80], csrf[80], ck[300];
    login(f, tok, sid, csrf);
    CHECK_INT(strlen(sid), 64);
    static const char *const good[] = {"mamori_session=%s", "a=b; mamori_session=%s; c=d",
                                       "  mamori_session = %s ;", "mamori_session=\"%s\"",
                                       "junk; mamori_session=%s"};
    static const char *const bad[] = {"xmamori_session=%s", "mamori_sessio=%s",
                                      "mamori_session=%sx", "mamori_session", "mamori_session=",
                                      "other=%s"};
    mm_http_resp r;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        fill(ck, sizeof ck, good[i], sid);
        const char *hs[] = {"Cookie", ck, NULL};
        CHECK_INT(call(f, "GET", "/api/v1/hosts", hs, NULL, &r), 200);
        mm_http_resp_clear(&r);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fill(ck, sizeof ck, bad[i], sid);
        const char *hs[] = {"Cookie", ck, NULL};
        CHECK_INT(call(f, "GET", "/api/v1/hosts", hs, NULL, &r), 401);
        mm_http_resp_clear(&r);
    }
    /* a state change: the CSRF token, exactly */
    snprintf(ck, sizeof ck, "mamori_session=%s", sid);
    const char *body = "{\"kind\": \"silence\", \"rule\": \"r\", \"until\": 4102444800}";
    const char *h0[] = {"Cookie", ck, NULL};
    CHECK_INT(call(f, "POST", "/api/v1/alerts/marks", h0, body, &r), 403);
    mm_http_resp_clear(&r);
    char wrong[80];
    snprintf(wrong, sizeof wrong, "%s", csrf);
    wrong[5] ^= 1;
    const char *h1[] = {"Cookie", ck, "X-CSRF-Token", wrong, NULL};
    CHECK_INT(call(f, "POST", "/api/v1/alerts/marks", h1, body, &r), 403);
    mm_http_resp_clear(&r);
    const char *h2[] = {"Cookie", ck, "X-CSRF-Token", csrf, NULL};
    CHECK_INT(call(f, "POST", "/api/v1/alerts/marks", h2, body, &r), 400);   /* > 90 days */
    mm_http_resp_clear(&r);
    /* a bearer token needs no CSRF (it is not sent by the browser by itself) */
    char auth[300];
    snprintf(auth, sizeof auth, "Bearer %s", tok);
    const char *h3[] = {"Authorization", auth, NULL};
    CHECK_INT(call(f, "GET", "/api/v1/hosts", h3, NULL, &r), 200);
    mm_http_resp_clear(&r);
    CHECK_OK(mm_fleet_token_revoke(f, id));
    CHECK_INT(call(f, "GET", "/api/v1/hosts", h0, NULL, &r), 401);
    mm_http_resp_clear(&r);
    free(tok);
    free(id);
    mm_fleet_close(f);
}

MM_TEST(session_expires)
{
    mm_fleet *f = open_fleet(true, 1);
    char *tok, *id;
    CHECK_OK(mm_fleet_token_create(f, "eyes", "viewer", NULL, &tok, &id));
    char sid[80], csrf[80], ck[300];
    login(f, tok, sid, csrf);
    snprintf(ck, sizeof ck, "mamori_session=%s", sid);
    const char *hs[] = {"Cookie", ck, NULL};
    mm_http_resp r;
    CHECK_INT(call(f, "GET", "/api/v1/session", hs, NULL, &r), 200);
    mm_http_resp_clear(&r);
    sleep(2);
    CHECK_INT(call(f, "GET", "/api/v1/session", hs, NULL, &r), 401);
    mm_http_resp_clear(&r);
    CHECK_INT(call(f, "GET", "/api/v1/hosts", hs, NULL, &r), 401);
    mm_http_resp_clear(&r);
    free(tok);
    free(id);
    mm_fleet_close(f);
}

MM_TEST(login_rate_limited)
{
    mm_fleet_opts o;
    mm_fleet_opts_init(&o);
    if (!db_path[0])
        snprintf(db_path, sizeof db_path, "%s/console.db", mmt_tmpdir());
    o.db = db_path;
    o.rate = 1;   /* a bucket of 2 */
    mm_fleet *f = NULL;
    CHECK_OK(mm_fleet_open(&f, &o));
    mm_http_resp r;
    int st[4];
    for (int i = 0; i < 4; i++) {
        st[i] = call(f, "POST", "/api/v1/session", NULL, "{\"token\": \"mmt_00_11\"}", &r);
        if (i == 3)
            CHECK(hdr(&r, "Retry-After") != NULL);
        mm_http_resp_clear(&r);
    }
    CHECK_INT(st[0], 401);
    CHECK_INT(st[1], 401);
    CHECK_INT(st[3], 429);
    mm_fleet_close(f);
}

MM_TEST_MAIN
