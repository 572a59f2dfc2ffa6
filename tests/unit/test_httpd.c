/*
 * test_httpd.c - the shared HTTP server (lib/httpd) driven by a real
 * client (libcurl): HTTPS with a self-signed pair written on first start
 * and verified against its own certificate (fingerprint stable across a
 * restart), the handler's view of method/path/query/headers/body/peer,
 * the body cap (413), the JSON content-type check (415), a Unix socket
 * with the peer's credentials, many requests on the pool, clean stops.
 */
#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <strings.h>
#include <sys/stat.h>

#include "mmtest.h"
#include "mamori/httpd.h"
#include "util/util.h"

static void handler(void *ctx, const mm_http_req *rq, mm_http_resp *resp)
{
    int *calls = ctx;
    __atomic_add_fetch(calls, 1, __ATOMIC_SEQ_CST);
    if (strcmp(rq->path, "/fail") == 0) {
        mm_http_resp_error(resp, 404, "no such thing: %s", rq->path);
        return;
    }
    if (strcmp(rq->path, "/binary") == 0) {
        /* a body with NUL bytes in it (a capture file is one) */
        static const char bin[] = {'c', 'a', 'p', 0, 1, 0, (char)0xff, 'z'};
        mm_http_resp_text(resp, 200, "application/octet-stream", bin, sizeof bin);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "method", json_string(rq->method));
    json_object_set_new(j, "path", json_string(rq->path));
    json_object_set_new(j, "len", json_integer((json_int_t)rq->body_len));
    json_object_set_new(j, "body", json_stringn(rq->body, rq->body_len));
    json_object_set_new(j, "peer", json_string(rq->peer));
    json_object_set_new(j, "uid", json_integer(rq->peer_uid == (uid_t)-1 ? -1 : (json_int_t)rq->peer_uid));
    json_object_set_new(j, "tls", json_boolean(rq->tls));
    const char *q = mm_http_req_query(rq, "q");
    json_object_set_new(j, "q", q ? json_string(q) : json_null());
    const char *x = mm_http_req_header(rq, "x-test");
    json_object_set_new(j, "x", x ? json_string(x) : json_null());
    mm_http_resp_header(resp, "X-Reply", "yes");
    mm_http_resp_json(resp, 200, j);
}

typedef struct reply {
    long status;
    mm_buf body;
    bool xreply;
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    mm_buf_add(&((reply *)ud)->body, p, sz * n);
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    if (sz * n >= 8 && strncasecmp(p, "X-Reply:", 8) == 0)
        ((reply *)ud)->xreply = true;
    return sz * n;
}

/* One request; returns curl's code.  ca: verify against it; unix: path. */
static int req(const char *url, const char *ca, const char *unix_path, const char *method,
               const char *ctype, const char *body, size_t blen, reply *r)
{
    memset(r, 0, sizeof *r);
    CURL *c = curl_easy_init();
    struct curl_slist *hs = NULL;
    hs = curl_slist_append(hs, "X-Test: hello");
    if (ctype) {
        char h[128];
        snprintf(h, sizeof h, "Content-Type: %s", ctype);
        hs = curl_slist_append(hs, h);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    if (ca)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
    if (unix_path)
        curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, unix_path);
    if (method)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
    }
    int rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(hs);
    curl_easy_cleanup(c);
    return rc;
}

static json_t *body_json(reply *r)
{
    json_t *j = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0, NULL);
    mm_buf_free(&r->body);
    return j;
}

MM_TEST(tls_selfsigned_and_requests)
{
    const char *dir = mmt_tmpdir();
    int calls = 0;
    mm_httpd_opts o;
    mm_httpd_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.state_dir = dir;
    o.tls_name = "127.0.0.1";
    o.max_body = 1000;
    o.json_only = true;
    o.handler = handler;
    o.ctx = &calls;
    mm_httpd *h = NULL;
    CHECK_OK(mm_httpd_start(&h, &o));
    REQUIRE(h);
    uint16_t port = mm_httpd_port(h);
    CHECK(port > 0);
    const char *fp = mm_httpd_fingerprint(h);
    REQUIRE(fp);
    CHECK(strncmp(fp, "SHA256:", 7) == 0 && strlen(fp) == 7 + 32 * 3 - 1);
    char fp1[104];
    snprintf(fp1, sizeof fp1, "%s", fp);
    char crt[600], key[600], url[128];
    snprintf(crt, sizeof crt, "%s/server.crt", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    struct stat sb;
    REQUIRE(stat(key, &sb) == 0);
    CHECK_INT(sb.st_mode & 0777, 0600);
    CHECK_STR(mm_httpd_cert_path(h), crt);

    /* GET with a query, verified TLS */
    snprintf(url, sizeof url, "https://127.0.0.1:%u/a/b?q=x%%20y", port);
    reply r;
    CHECK_INT(req(url, crt, NULL, NULL, NULL, NULL, 0, &r), CURLE_OK);
    CHECK_INT(r.status, 200);
    CHECK(r.xreply);
    json_t *j = body_json(&r);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "method")), "GET");
    CHECK_STR(json_string_value(json_object_get(j, "path")), "/a/b");
    CHECK_STR(json_string_value(json_object_get(j, "q")), "x y");
    CHECK_STR(json_string_value(json_object_get(j, "x")), "hello");
    CHECK_STR(json_string_value(json_object_get(j, "peer")), "127.0.0.1");
    CHECK(json_is_true(json_object_get(j, "tls")));
    json_decref(j);

    /* a JSON body arrives whole */
    snprintf(url, sizeof url, "https://127.0.0.1:%u/post", port);
    const char *b = "{\"k\":\"v'; DROP TABLE x;--\"}";
    CHECK_INT(req(url, crt, NULL, "POST", "application/json; charset=utf-8", b, strlen(b), &r),
              CURLE_OK);
    CHECK_INT(r.status, 200);
    j = body_json(&r);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "body")), b);
    json_decref(j);

    /* the cap: 413 before the handler, whether announced or not */
    int before = calls;
    char *big = malloc(5000);
    memset(big, 'a', 5000);
    CHECK_INT(req(url, crt, NULL, "POST", "application/json", big, 5000, &r), CURLE_OK);
    CHECK_INT(r.status, 413);
    mm_buf_free(&r.body);
    CHECK_INT(req(url, crt, NULL, "POST", "application/json", big, 1000, &r), CURLE_OK);
    CHECK_INT(r.status, 200);
    mm_buf_free(&r.body);
    free(big);
    CHECK_INT(calls, before + 1);

    /* a body that is not JSON: 415 */
    CHECK_INT(req(url, crt, NULL, "POST", "text/plain", "x", 1, &r), CURLE_OK);
    CHECK_INT(r.status, 415);
    j = body_json(&r);
    REQUIRE(j);
    CHECK_INT(json_integer_value(json_object_get(j, "status")), 415);
    CHECK(json_string_value(json_object_get(j, "error")) != NULL);
    json_decref(j);

    /* the handler's error */
    snprintf(url, sizeof url, "https://127.0.0.1:%u/fail", port);
    CHECK_INT(req(url, crt, NULL, NULL, NULL, NULL, 0, &r), CURLE_OK);
    CHECK_INT(r.status, 404);
    mm_buf_free(&r.body);

    /* plain HTTP to the TLS port does not reach the handler */
    before = calls;
    snprintf(url, sizeof url, "http://127.0.0.1:%u/a", port);
    req(url, NULL, NULL, NULL, NULL, NULL, 0, &r);
    CHECK(r.status != 200);
    mm_buf_free(&r.body);
    CHECK_INT(calls, before);
    mm_httpd_stop(h);

    /* a restart reuses the pair: same fingerprint */
    h = NULL;
    o.listen = "127.0.0.1:0";
    CHECK_OK(mm_httpd_start(&h, &o));
    REQUIRE(h);
    CHECK_STR(mm_httpd_fingerprint(h), fp1);
    char fp2[104];
    CHECK_OK(mm_httpd_cert_fingerprint(crt, fp2));
    CHECK_STR(fp2, fp1);
    mm_httpd_stop(h);
}

typedef struct hammer {
    uint16_t port;
    int ok;
} hammer;

static void *hammer_run(void *arg)
{
    hammer *hm = arg;
    char url[96];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/n", hm->port);
    for (int i = 0; i < 50; i++) {
        reply r;
        if (req(url, NULL, NULL, "POST", "application/json", "{}", 2, &r) == CURLE_OK &&
            r.status == 200)
            hm->ok++;
        mm_buf_free(&r.body);
    }
    return NULL;
}

MM_TEST(plain_pool_and_stop)
{
    int calls = 0;
    mm_httpd_opts o;
    mm_httpd_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.plain = true;
    o.threads = 3;
    o.handler = handler;
    o.ctx = &calls;
    mm_httpd *h = NULL;
    CHECK_OK(mm_httpd_start(&h, &o));
    REQUIRE(h);
    CHECK(mm_httpd_fingerprint(h) == NULL);
    hammer hm[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        hm[i] = (hammer){mm_httpd_port(h), 0};
        pthread_create(&t[i], NULL, hammer_run, &hm[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(hm[i].ok, 50);
    }
    CHECK_INT(calls, 200);
    uint16_t port = mm_httpd_port(h);
    mm_httpd_stop(h);
    /* the port is free again: a new server can take it */
    char lis[32];
    snprintf(lis, sizeof lis, "127.0.0.1:%u", port);
    o.listen = lis;
    h = NULL;
    CHECK_OK(mm_httpd_start(&h, &o));
    mm_httpd_stop(h);
    mm_httpd_stop(NULL);
}

/* mm_http_resp_text sends every byte of a binary body, NULs included. */
MM_TEST(binary_body)
{
    int calls = 0;
    mm_httpd_opts o;
    mm_httpd_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.plain = true;
    o.handler = handler;
    o.ctx = &calls;
    mm_httpd *h = NULL;
    CHECK_OK(mm_httpd_start(&h, &o));
    REQUIRE(h);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/binary", mm_httpd_port(h));
    reply r;
    CHECK_INT(req(url, NULL, NULL, NULL, NULL, NULL, 0, &r), CURLE_OK);
    CHECK_INT(r.status, 200);
    static const char want[] = {'c', 'a', 'p', 0, 1, 0, (char)0xff, 'z'};
    CHECK_INT(r.body.len, sizeof want);
    CHECK(r.body.len == sizeof want && memcmp(r.body.data, want, sizeof want) == 0);
    mm_buf_free(&r.body);
    mm_httpd_stop(h);
}

MM_TEST(unix_socket)
{
    int calls = 0;
    char path[600];
    snprintf(path, sizeof path, "%s/s.sock", mmt_tmpdir());
    mm_httpd_opts o;
    mm_httpd_opts_init(&o);
    o.unix_path = path;
    o.json_only = true;
    o.handler = handler;
    o.ctx = &calls;
    mm_httpd *h = NULL;
    CHECK_OK(mm_httpd_start(&h, &o));
    REQUIRE(h);
    CHECK_INT(mm_httpd_port(h), 0);
    CHECK(mm_httpd_fingerprint(h) == NULL);
    struct stat sb;
    REQUIRE(stat(path, &sb) == 0);
    CHECK(S_ISSOCK(sb.st_mode));
    CHECK_INT(sb.st_mode & 0777, 0660);
    reply r;
    const char *b = "{\"RequestMethod\":\"POST\"}";
    CHECK_INT(req("http://localhost/AuthZPlugin.AuthZReq", NULL, path, "POST",
                  "application/json", b, strlen(b), &r), CURLE_OK);
    CHECK_INT(r.status, 200);
    json_t *j = body_json(&r);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "peer")), "unix");
    CHECK_INT(json_integer_value(json_object_get(j, "uid")), getuid());
    CHECK_STR(json_string_value(json_object_get(j, "path")), "/AuthZPlugin.AuthZReq");
    json_decref(j);
    mm_httpd_stop(h);
    CHECK(stat(path, &sb) != 0); /* removed on stop */

    /* a path that is not a socket is never replaced */
    snprintf(path, sizeof path, "%s/file", mmt_tmpdir());
    FILE *f = fopen(path, "w");
    fclose(f);
    h = NULL;
    CHECK(mm_httpd_start(&h, &o) == MM_EINVAL);
    CHECK(h == NULL);
    CHECK(stat(path, &sb) == 0 && S_ISREG(sb.st_mode));
}

MM_TEST(bad_options)
{
    int calls = 0;
    mm_httpd_opts o;
    mm_httpd_opts_init(&o);
    o.handler = handler;
    o.ctx = &calls;
    mm_httpd *h = NULL;
    o.listen = "127.0.0.1";
    CHECK_INT(mm_httpd_start(&h, &o), MM_EINVAL);
    o.listen = "127.0.0.1:99999";
    CHECK_INT(mm_httpd_start(&h, &o), MM_EINVAL);
    o.listen = "127.0.0.1:0";
    o.cert_file = "/nonexistent/c.pem";
    CHECK(mm_httpd_start(&h, &o) != 0);
    o.key_file = "/nonexistent/k.pem";
    CHECK(mm_httpd_start(&h, &o) != 0);
    o.cert_file = o.key_file = NULL; /* TLS without cert or state folder */
    CHECK_INT(mm_httpd_start(&h, &o), MM_EINVAL);
    CHECK(h == NULL);
    /* a certificate that is not PEM */
    char p[600];
    snprintf(p, sizeof p, "%s/junk.pem", mmt_tmpdir());
    FILE *f = fopen(p, "w");
    fputs("not a certificate\n", f);
    fclose(f);
    char fp[104];
    CHECK_INT(mm_httpd_cert_fingerprint(p, fp), MM_EFORMAT);
}

MM_TEST(fake_request)
{
    /* a handler called without a connection, as unit tests and fuzz targets do */
    int calls = 0;
    const char *const hs[] = {"X-Test", "direct", NULL};
    const char *const qs[] = {"q", "1", NULL};
    mm_http_req rq = {.method = "POST", .path = "/p", .body = "{}", .body_len = 2,
                      .peer = "test", .peer_pid = -1, .peer_uid = (uid_t)-1,
                      .fake_headers = hs, .fake_query = qs};
    CHECK_STR(mm_http_req_header(&rq, "x-test"), "direct");
    CHECK(mm_http_req_header(&rq, "x-other") == NULL);
    CHECK_STR(mm_http_req_query(&rq, "q"), "1");
    CHECK(mm_http_req_query(&rq, "Q") == NULL);
    mm_http_resp resp = {0};
    handler(&calls, &rq, &resp);
    CHECK_INT(resp.status, 200);
    CHECK_INT(resp.nheaders, 1);
    json_t *j = json_loadb(resp.body, resp.body_len, 0, NULL);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "x")), "direct");
    json_decref(j);
    mm_http_resp_clear(&resp);
    CHECK(resp.body == NULL && resp.nheaders == 0);
}

MM_TEST_MAIN
