/*
 * proxy.c - the WAF inline: a reverse proxy on the shared HTTP server
 * (lib/httpd, libmicrohttpd; TLS termination when a certificate is given)
 * that checks each whole request against the Core Rule Set, answers 403
 * to what the rules block, and forwards the rest to the upstream app with
 * libcurl (method, target as sent, headers but the hop-by-hop ones, body,
 * X-Forwarded-For), passing the app's status, content type and body back.
 * The upstream request is set up by the library's one transport
 * (util/http.h); only the forwarding of headers both ways is its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "mamori/httpd.h"
#include "mamori/waf.h"
#include "util/http.h"
#include "util/util.h"

#define MAX_HEADERS 100
#define MAX_RESP (16u << 20)

struct mm_waf_proxy {
    mm_waf *w;
    mm_waf_proxy_opts o;
    char *upstream;              /* without a trailing '/' */
    mm_httpd *h;
};

typedef struct hdrs {
    mm_waf_header v[MAX_HEADERS];
    size_t n;
} hdrs;

static void collect(void *ud, const char *name, const char *value)
{
    hdrs *h = ud;
    if (h->n < MAX_HEADERS)
        h->v[h->n++] = (mm_waf_header){name, value};
}

#define PASS_HEADERS 6

typedef struct resp_st {
    mm_buf body;
    char *ctype;
    bool over;
    char *hname[PASS_HEADERS], *hvalue[PASS_HEADERS];   /* passed back to the client */
    int nh;
} resp_st;

/* Response headers an app needs its client to see (redirects, cookies,
 * authentication, caching validators); the server sets the rest itself. */
static bool passed_back(const char *p, size_t n)
{
    static const char *const h[] = {"Location", "Set-Cookie", "WWW-Authenticate", "ETag",
                                    "Last-Modified", "Content-Disposition", NULL};
    for (size_t i = 0; h[i]; i++)
        if (n == strlen(h[i]) && !strncasecmp(p, h[i], n))
            return true;
    return false;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp_st *r = ud;
    size_t len = sz * n;
    if (r->body.len + len > MAX_RESP) {
        r->over = true;
        return 0;
    }
    mm_buf_add(&r->body, p, len);
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp_st *r = ud;
    size_t len = sz * n;
    if (len > 13 && !strncasecmp(p, "Content-Type:", 13)) {
        const char *v = p + 13;
        while (*v == ' ' || *v == '\t')
            v++;
        size_t vl = len - (size_t)(v - p);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        free(r->ctype);
        r->ctype = mm_xstrndup(v, vl);
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (colon && r->nh < PASS_HEADERS && passed_back(p, (size_t)(colon - p))) {
        const char *v = colon + 1;
        while (v < p + len && (*v == ' ' || *v == '\t'))
            v++;
        size_t vl = len - (size_t)(v - p);
        while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
            vl--;
        r->hname[r->nh] = mm_xstrndup(p, (size_t)(colon - p));
        r->hvalue[r->nh++] = mm_xstrndup(v, vl);
    }
    return len;
}

static bool hop_by_hop(const char *name)
{
    static const char *const h[] = {"Connection", "Keep-Alive", "Proxy-Connection",
                                    "Transfer-Encoding", "TE", "Trailer", "Upgrade",
                                    "Content-Length", "Host", "Expect", NULL};
    for (size_t i = 0; h[i]; i++)
        if (!strcasecmp(name, h[i]))
            return true;
    return false;
}

static void forward(mm_waf_proxy *p, const mm_http_req *rq, const hdrs *hd,
                    const char *uri, mm_http_resp *resp)
{
    CURL *c = curl_easy_init();
    if (!c) {
        mm_http_resp_error(resp, 502, "upstream: no curl handle");
        return;
    }
    char *url = mm_xasprintf("%s%s", p->upstream, uri[0] == '/' ? uri : "/");
    struct curl_slist *sl = NULL;
    for (size_t i = 0; i < hd->n; i++) {
        if (hop_by_hop(hd->v[i].name))
            continue;
        char *line = mm_xasprintf("%s: %s", hd->v[i].name, hd->v[i].value);
        sl = curl_slist_append(sl, line);
        free(line);
    }
    const char *host = mm_http_req_header(rq, "Host");
    if (host) {
        char *line = mm_xasprintf("X-Forwarded-Host: %s", host);
        sl = curl_slist_append(sl, line);
        free(line);
    }
    char *xff = mm_xasprintf("X-Forwarded-For: %s", rq->peer ? rq->peer : "");
    sl = curl_slist_append(sl, xff);
    free(xff);
    sl = curl_slist_append(sl, "Expect:");
    resp_st r = {0};
    /* the library's transport rules (http/https only, TLS verified, no
     * signals); redirects are the app's answer, passed back, not followed;
     * no User-Agent of ours: the client's, if it sent one, is forwarded */
    static const mm_http_opts ho = {.connect_timeout_s = 5, .total_timeout_s = 30};
    mm_http_setup(c, url, &ho, NULL);
    curl_easy_setopt(c, CURLOPT_USERAGENT, NULL);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    if (!strcmp(rq->method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (rq->body_len || !strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT") ||
        !strcmp(rq->method, "PATCH")) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
    }
    CURLcode cc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (cc != CURLE_OK || status < 100 || status > 599) {
        mm_http_resp_error(resp, 502, "upstream %s: %s", p->upstream,
                           r.over ? "response too large" : curl_easy_strerror(cc));
    } else {
        /* the server sends the response after this handler returns, on
         * this thread: the content type lives in a per-thread buffer */
        static __thread char ctype[256];
        snprintf(ctype, sizeof ctype, "%s", r.ctype ? r.ctype : "application/octet-stream");
        mm_http_resp_text(resp, (int)status, ctype, r.body.data ? r.body.data : "",
                          r.body.len);
        for (int i = 0; i < r.nh; i++)
            mm_http_resp_header(resp, r.hname[i], r.hvalue[i]);
    }
    mm_buf_free(&r.body);
    free(r.ctype);
    for (int i = 0; i < r.nh; i++) {
        free(r.hname[i]);
        free(r.hvalue[i]);
    }
    curl_slist_free_all(sl);
    curl_easy_cleanup(c);
    free(url);
}

static void handle(void *ctx, const mm_http_req *rq, mm_http_resp *resp)
{
    mm_waf_proxy *p = ctx;
    hdrs hd = {.n = 0};
    mm_http_req_headers(rq, collect, &hd);
    const char *uri = mm_http_req_uri(rq);
    mm_waf_request r = {.client_ip = rq->peer, .server_ip = "127.0.0.1",
                        .client_port = 0, .server_port = mm_httpd_port(p->h),
                        .method = rq->method, .uri = uri, .version = "1.1",
                        .headers = hd.v, .nheaders = hd.n,
                        .body = (const uint8_t *)rq->body, .body_len = rq->body_len};
    mm_waf_verdict v;
    if (mm_waf_check(p->w, &r, &v) != 0) {
        mm_http_resp_error(resp, 500, "WAF: %s", mm_error_last());
        return;
    }
    if (v.attack && p->o.on_block)
        p->o.on_block(p->o.ud, &r, &v);
    if (v.blocked) {
        char *ids = mm_waf_rule_ids(&v);
        char *body = mm_xasprintf("Forbidden by the mamori WAF (OWASP CRS rules %s, anomaly "
                                  "score %d)\n", *ids ? ids : "-", v.score);
        mm_http_resp_text(resp, v.status ? v.status : 403, "text/plain", body, strlen(body));
        free(body);
        free(ids);
    } else {
        forward(p, rq, &hd, uri, resp);
    }
    mm_waf_verdict_clear(&v);
}

int mm_waf_proxy_start(mm_waf_proxy **out, mm_waf *w, const mm_waf_proxy_opts *o)
{
    *out = NULL;
    if (!o || !o->listen || !o->upstream)
        return mm_error_set(MM_EINVAL, "the proxy needs --listen and --upstream");
    if (strncmp(o->upstream, "http://", 7) && strncmp(o->upstream, "https://", 8))
        return mm_error_set(MM_EINVAL, "upstream %s: an http:// or https:// URL", o->upstream);
    mm_waf_proxy *p = mm_xcalloc(1, sizeof *p);
    p->w = w;
    p->o = *o;
    p->upstream = mm_xstrdup(o->upstream);
    size_t ul = strlen(p->upstream);
    while (ul > 8 && p->upstream[ul - 1] == '/')
        p->upstream[--ul] = 0;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mm_httpd_opts ho;
    mm_httpd_opts_init(&ho);
    ho.listen = o->listen;
    ho.plain = !(o->cert_file && o->key_file);
    ho.cert_file = o->cert_file;
    ho.key_file = o->key_file;
    ho.max_body = o->max_body ? o->max_body : (1u << 20);
    ho.threads = o->threads;
    ho.handler = handle;
    ho.ctx = p;
    int rc = mm_httpd_start(&p->h, &ho);
    if (rc) {
        free(p->upstream);
        free(p);
        return rc;
    }
    *out = p;
    return 0;
}

uint16_t mm_waf_proxy_port(const mm_waf_proxy *p) { return p ? mm_httpd_port(p->h) : 0; }

void mm_waf_proxy_stop(mm_waf_proxy *p)
{
    if (!p)
        return;
    mm_httpd_stop(p->h);
    free(p->upstream);
    free(p);
}
