/*
 * test_waf.c - the WAF: HTTP/1 requests out of byte streams (pipelined,
 * split anywhere, Content-Length and chunked bodies, a gap and the resync,
 * streams that are not HTTP, caps) and the Core Rule Set's verdicts on the
 * attack classes (SQLi, XSS, RCE, LFI, a scanner's user agent) and on
 * benign requests, with rule ids, paranoia level and anomaly score.  The
 * proxy and the detect mode on captures: tests/integration/test_waf.py.
 */
#include <string.h>

#include "mamori/waf.h"
#include "mmtest.h"

typedef struct got {
    int n;
    char method[8][16], uri[8][128], body[8][128], host[8][64];
    size_t nh[8];
} got;

static void collect(void *ud, const mm_waf_request *r)
{
    got *g = ud;
    if (g->n >= 8)
        return;
    snprintf(g->method[g->n], 16, "%s", r->method);
    snprintf(g->uri[g->n], 128, "%s", r->uri);
    snprintf(g->body[g->n], 128, "%.*s", (int)r->body_len, (const char *)r->body);
    g->host[g->n][0] = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcmp(r->headers[i].name, "Host"))
            snprintf(g->host[g->n], 64, "%s", r->headers[i].value);
    g->nh[g->n] = r->nheaders;
    g->n++;
}

static const char *STREAM =
    "GET /a?x=1 HTTP/1.1\r\nHost: app\r\nUser-Agent: t\r\n\r\n"
    "POST /form HTTP/1.1\r\nHost: app\r\nContent-Length: 11\r\n\r\nname=alice&"
    "PUT /c HTTP/1.1\r\nHost: app\r\nTransfer-Encoding: chunked\r\n\r\n"
    "4\r\nabcd\r\n3;ext=1\r\nefg\r\n0\r\nX-Trailer: 1\r\n\r\n"
    "GET /last HTTP/1.0\n\n";

MM_TEST(http_pipelined_any_split)
{
    size_t len = strlen(STREAM);
    for (size_t step = 1; step <= len; step = step < 8 ? step + 1 : step * 2) {
        mm_waf_http *h = mm_waf_http_new(0);
        got g = {0};
        for (size_t off = 0; off < len; off += step) {
            size_t n = len - off < step ? len - off : step;
            CHECK(mm_waf_http_feed(h, (const uint8_t *)STREAM + off, n, 0, collect, &g) >= 0);
        }
        CHECK_INT(g.n, 4);
        CHECK_STR(g.method[0], "GET");
        CHECK_STR(g.uri[0], "/a?x=1");
        CHECK_STR(g.host[0], "app");
        CHECK_STR(g.body[1], "name=alice&");
        CHECK_STR(g.method[2], "PUT");
        CHECK_STR(g.body[2], "abcdefg");
        CHECK_STR(g.uri[3], "/last");
        mm_waf_http_free(h);
    }
}

MM_TEST(http_gap_and_garbage)
{
    mm_waf_http *h = mm_waf_http_new(0);
    got g = {0};
    const char *a = "GET /one HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nxxxx";
    CHECK_INT(mm_waf_http_feed(h, (const uint8_t *)a, strlen(a), 0, collect, &g), 0);
    /* bytes lost: the body's end and the start of the next request */
    const char *b = "tail of something\r\nGET /two HTTP/1.1\r\nHost: b\r\n\r\n";
    CHECK_INT(mm_waf_http_feed(h, (const uint8_t *)b, strlen(b), 500, collect, &g), 1);
    CHECK_STR(g.uri[0], "/two");
    mm_waf_http_free(h);

    const char *bad[] = {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  /* TLS */
                         "SSH-2.0-OpenSSH_9.2\r\n",
                         "GET /x HTTP/2.0\r\n\r\n",
                         "GET /x HTTP/1.1\r\nno colon here\r\n\r\n",
                         "POST /x HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                         "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h = mm_waf_http_new(0);
        got g2 = {0};
        CHECK_INT(mm_waf_http_feed(h, (const uint8_t *)bad[i], strlen(bad[i]), 0, collect, &g2), -1);
        CHECK_INT(mm_waf_http_feed(h, (const uint8_t *)"GET / HTTP/1.1\r\n\r\n", 18, 0, collect, &g2), -1);
        CHECK_INT(g2.n, 0);
        mm_waf_http_free(h);
    }
}

MM_TEST(http_caps)
{
    /* a head that never ends stops at 64 KiB */
    mm_waf_http *h = mm_waf_http_new(16);
    const char *start = "GET / HTTP/1.1\r\n";
    CHECK_INT(mm_waf_http_feed(h, (const uint8_t *)start, strlen(start), 0, NULL, NULL), 0);
    char line[1024];
    memset(line, 'a', sizeof line);
    line[0] = 'X';
    line[1] = ':';
    line[sizeof line - 2] = '\r';
    line[sizeof line - 1] = '\n';
    int rc = 0;
    for (int i = 0; i < 100 && rc >= 0; i++)
        rc = mm_waf_http_feed(h, (const uint8_t *)line, sizeof line, 0, NULL, NULL);
    CHECK_INT(rc, -1);
    mm_waf_http_free(h);
    /* a body over max_body: kept up to the cap, the rest skipped, the next request read */
    h = mm_waf_http_new(4);
    got g = {0};
    const char *s = "POST /b HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789GET /n HTTP/1.1\r\n\r\n";
    CHECK_INT(mm_waf_http_feed(h, (const uint8_t *)s, strlen(s), 0, collect, &g), 2);
    CHECK_STR(g.body[0], "0123");
    CHECK_STR(g.uri[1], "/n");
    mm_waf_http_free(h);
}

static mm_waf *waf_or_skip(bool detect_only)
{
    if (access("/usr/share/modsecurity-crs/rules/REQUEST-942-APPLICATION-ATTACK-SQLI.conf", R_OK))
        return NULL;
    mm_waf *w = NULL;
    mm_waf_opts o = {.detect_only = detect_only};
    if (mm_waf_new(&w, &o) != 0) {
        fprintf(stderr, "mm_waf_new: %s\n", mm_error_last());
        mmt_failed_now = 1;
        return NULL;
    }
    return w;
}

static void verdict(mm_waf *w, const char *uri, const char *ua, const char *body,
                    mm_waf_verdict *v)
{
    char cl[24];
    snprintf(cl, sizeof cl, "%zu", body ? strlen(body) : 0);
    mm_waf_header h[] = {{"Host", "shop.example"}, {"User-Agent", ua}, {"Accept", "*/*"},
                         {"Content-Type", "application/x-www-form-urlencoded"},
                         {"Content-Length", cl}};
    mm_waf_request r = {.client_ip = "10.1.0.1", .client_port = 40000, .server_ip = "10.1.0.2",
                        .server_port = 80, .method = body ? "POST" : "GET", .uri = uri,
                        .version = "1.1", .headers = h, .nheaders = body ? 5 : 3,
                        .body = (const uint8_t *)body, .body_len = body ? strlen(body) : 0};
    CHECK_OK(mm_waf_check(w, &r, v));
}

static bool has_rule(const mm_waf_verdict *v, const char *prefix)
{
    for (size_t i = 0; i < v->nmatches; i++)
        if (!strncmp(v->matches[i].id, prefix, strlen(prefix)))
            return true;
    return false;
}

MM_TEST(crs_attack_classes)
{
    mm_waf *w = waf_or_skip(false);
    if (!w)
        MMT_SKIP("OWASP CRS not installed (Debian modsecurity-crs)");
    CHECK(mm_waf_rule_count(w) > 500);
    static const struct { const char *uri, *ua, *body, *family; } atk[] = {
        {"/item?id=1%27%20OR%20%271%27=%271", "Mozilla/5.0", NULL, "942"},
        {"/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", "Mozilla/5.0", NULL, "941"},
        {"/ping?host=127.0.0.1%3Bcat%20/etc/passwd", "Mozilla/5.0", NULL, "932"},
        {"/download?file=../../../../etc/passwd", "Mozilla/5.0", NULL, "930"},
        {"/", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)", NULL, "913"},
        {"/login", "Mozilla/5.0", "user=admin%27--&pass=x%27%20or%201%3D1--", "942"},
    };
    for (size_t i = 0; i < sizeof atk / sizeof atk[0]; i++) {
        mm_waf_verdict v;
        verdict(w, atk[i].uri, atk[i].ua, atk[i].body, &v);
        if (!v.attack || !v.blocked || v.status != 403 || v.score < 5 ||
            !has_rule(&v, atk[i].family) || v.paranoia != 1) {
            char *ids = mm_waf_rule_ids(&v);
            fprintf(stderr, "attack %zu (%s): attack=%d blocked=%d status=%d score=%d ids=%s\n",
                    i, atk[i].uri, v.attack, v.blocked, v.status, v.score, ids);
            free(ids);
            mmt_failed_now = 1;
        }
        for (size_t k = 0; k < v.nmatches; k++)
            CHECK(v.matches[k].paranoia == 1);       /* PL1 rules only at PL1 */
        mm_waf_verdict_clear(&v);
    }
    static const struct { const char *uri, *body; } ok[] = {
        {"/", NULL}, {"/search?q=blue+shoes&page=2", NULL},
        {"/products/42/reviews?sort=newest", NULL},
        {"/login", "user=alice&pass=correct+horse+battery+staple"},
        {"/api/orders?since=2026-12-01T00:00:00Z", NULL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        mm_waf_verdict v;
        verdict(w, ok[i].uri, "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
                ok[i].body, &v);
        if (v.attack || v.blocked || v.score != 0) {
            char *ids = mm_waf_rule_ids(&v);
            fprintf(stderr, "benign %zu (%s): attack=%d score=%d ids=%s\n", i, ok[i].uri,
                    v.attack, v.score, ids);
            free(ids);
            mmt_failed_now = 1;
        }
        mm_waf_verdict_clear(&v);
    }
    mm_waf_free(w);
}

MM_TEST(crs_detect_only_and_paranoia)
{
    mm_waf *w = waf_or_skip(true);
    if (!w)
        MMT_SKIP("OWASP CRS not installed (Debian modsecurity-crs)");
    mm_waf_verdict v;
    verdict(w, "/item?id=1%27%20OR%20%271%27=%271", "Mozilla/5.0", NULL, &v);
    CHECK(v.attack);
    CHECK(!v.blocked);                   /* detect only: nothing blocks */
    CHECK(v.score >= 5);
    char *ids = mm_waf_rule_ids(&v);
    CHECK(strstr(ids, "942100") != NULL);
    free(ids);
    mm_waf_verdict_clear(&v);
    mm_waf_free(w);
    /* paranoia 2 runs more rules: an input only PL2 rules see is an attack
     * there and nothing at PL1; below the threshold the score is CRS's sum */
    const char *pl2uri = "/q?a=%3C%3E%3C%3E%3C%3E%3C%3E%60%60";
    mm_waf_opts o = {.paranoia = 1, .detect_only = true};
    CHECK_OK(mm_waf_new(&w, &o));
    verdict(w, pl2uri, "Mozilla/5.0", NULL, &v);
    CHECK(!v.attack);
    CHECK_INT(v.score, 0);
    CHECK_INT(v.nmatches, 0);
    mm_waf_verdict_clear(&v);
    mm_waf_free(w);
    o.paranoia = 2;
    CHECK_OK(mm_waf_new(&w, &o));
    verdict(w, pl2uri, "Mozilla/5.0", NULL, &v);
    CHECK_INT(v.paranoia, 2);
    CHECK(v.attack);
    CHECK(v.score >= 5);
    CHECK(has_rule(&v, "942"));
    bool pl2 = false;
    for (size_t k = 0; k < v.nmatches; k++)
        pl2 |= v.matches[k].paranoia == 2;
    CHECK(pl2);
    mm_waf_verdict_clear(&v);
    verdict(w, "/q?a=((((((((((((((((((((", "Mozilla/5.0", NULL, &v);
    CHECK(!v.attack);
    CHECK_INT(v.score, 3);               /* 942430, a WARNING: 3 */
    CHECK(has_rule(&v, "942430"));
    mm_waf_verdict_clear(&v);
    mm_waf_free(w);
    o.paranoia = 5;
    CHECK(mm_waf_new(&w, &o) == MM_EINVAL);
    mm_waf_opts bad = {.crs_rules = "/nonexistent"};
    CHECK(mm_waf_new(&w, &bad) == MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "/nonexistent") != NULL);
}

MM_TEST_MAIN
