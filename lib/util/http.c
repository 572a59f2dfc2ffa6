/*
 * http.c - the one libcurl transport (util/http.h): the set-up every easy
 * handle of the library gets (http/https only, timeouts, a body cap, TLS,
 * proxies from the environment as libcurl reads them) and a small blocking
 * client for one-shot requests.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "util/http.h"

static pthread_once_t http_once = PTHREAD_ONCE_INIT;
static CURLcode http_init_rc = CURLE_FAILED_INIT;

static void http_init_once(void)
{
    http_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int mm_http_global_init(void)
{
    pthread_once(&http_once, http_init_once);
    return http_init_rc == CURLE_OK ? 0
                                    : mm_error_set(MM_ENOMEM, "cannot start libcurl");
}

int mm_http_check_url(const char *what, const char *url)
{
    if (url && (!strncasecmp(url, "http://", 7) || !strncasecmp(url, "https://", 8)))
        return 0;
    return mm_error_set(MM_EINVAL, "%s: %s: only http and https URLs are allowed",
                        what ? what : "URL", url ? url : "(none)");
}

void mm_http_setup(CURL *e, const char *url, const mm_http_opts *o, char *errbuf)
{
    static const mm_http_opts def;
    if (!o)
        o = &def;
    if (url)
        curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR,
                     o->redirect_https_only ? "https" : "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, o->follow ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT,
                     o->user_agent ? o->user_agent : "mamori/" MM_VERSION);
    if (errbuf) {
        errbuf[0] = 0;
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                     o->connect_timeout_s > 0 ? o->connect_timeout_s : 30L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                     o->stall_timeout_s > 0 ? o->stall_timeout_s : 60L);
    if (o->total_timeout_s > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT, o->total_timeout_s);
    if (o->max_body)
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_body);
    if (o->ca_file) {
        curl_easy_setopt(e, CURLOPT_CAINFO, o->ca_file);
        /* the extra bundle adds to the system's trust, not replaces it */
        struct stat sb;
        if (stat("/etc/ssl/certs", &sb) == 0)
            curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");
    }
    if (o->insecure) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    } else {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    }
    if (o->unix_socket)
        curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, o->unix_socket);
    mm_http_pin_setup(e, o->pin_sha256);   /* issue 18: http_pin.c */
    /* proxies: nothing set, so libcurl reads http_proxy, https_proxy,
     * all_proxy and no_proxy from the environment */
}

/* --- the simple client ----------------------------------------------------- */

struct mm_http {
    CURL *e;
    mm_http_opts o;
    char errbuf[CURL_ERROR_SIZE];
};

struct sink {
    mm_buf *b;
    uint64_t got, max;
    bool over;
};

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    struct sink *s = ud;
    size_t len = sz * n;
    if (s->got + len > s->max) {
        s->over = true;
        return 0;                       /* aborts the transfer */
    }
    s->got += len;
    if (s->b)
        mm_buf_add(s->b, p, len);
    return len;
}

int mm_http_new(mm_http **out, const mm_http_opts *o)
{
    *out = NULL;
    int rc = mm_http_global_init();
    if (rc)
        return rc;
    mm_http *h = mm_xcalloc(1, sizeof *h);
    if (o)
        h->o = *o;
    if (!h->o.max_body)
        h->o.max_body = 1u << 20;
    if (!(h->e = curl_easy_init())) {
        free(h);
        return mm_error_set(MM_ENOMEM, "cannot start libcurl");
    }
    *out = h;
    return 0;
}

void mm_http_free(mm_http *h)
{
    if (!h)
        return;
    if (h->e)
        curl_easy_cleanup(h->e);
    free(h);
}

/* The request itself; with_method, error messages name the method too. */
static int http_perform(mm_http *h, const mm_http_request *rq, long *status, mm_buf *resp,
                        bool with_method)
{
    CURL *e = h->e;
    const char *url = rq->url;
    const char *method = rq->method ? rq->method : rq->body ? "POST" : "GET";
    curl_easy_reset(e);
    mm_http_setup(e, url, &h->o, h->errbuf);
    struct sink s = {.b = resp, .max = h->o.max_body};
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
    if (rq->compressed)
        curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    if (rq->ca_pem) {
        struct curl_blob blob = {(void *)rq->ca_pem, rq->ca_len, CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
    }
    if (rq->cert_pem && rq->key_pem) {
        struct curl_blob cb = {(void *)rq->cert_pem, rq->cert_len, CURL_BLOB_COPY};
        struct curl_blob kb = {(void *)rq->key_pem, rq->key_len, CURL_BLOB_COPY};
        curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &cb);
        curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
        curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &kb);
    }
    if (rq->user && rq->password) {
        curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        curl_easy_setopt(e, CURLOPT_USERNAME, rq->user);
        curl_easy_setopt(e, CURLOPT_PASSWORD, rq->password);
    }
    struct curl_slist *hdrs = NULL;
    for (size_t i = 0; rq->headers && rq->headers[i]; i++)
        hdrs = curl_slist_append(hdrs, rq->headers[i]);
    if (rq->body) {
        char *ct = mm_xasprintf("Content-Type: %s", rq->ctype ? rq->ctype : "application/json");
        hdrs = curl_slist_append(hdrs, ct);
        free(ct);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body);
    }
    if (strcmp(method, "GET") && !(rq->body && !strcmp(method, "POST")))
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
    if (hdrs)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(e);
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    const char *m = with_method ? method : "", *sp = with_method ? " " : "";
    if (s.over || cc == CURLE_FILESIZE_EXCEEDED) {
        *status = 0;
        return mm_error_set(MM_ELIMIT, "%s%s%s: response larger than %llu bytes", m, sp, url,
                            (unsigned long long)h->o.max_body);
    }
    if (cc != CURLE_OK) {
        *status = 0;
        return mm_error_set(MM_ENET, "%s%s%s: %s", m, sp, url,
                            h->errbuf[0] ? h->errbuf : curl_easy_strerror(cc));
    }
    return 0;
}

int mm_http_send(mm_http *h, const char *method, const char *url,
                 const char *ctype, const void *body, size_t len,
                 long *status, mm_buf *resp)
{
    return mm_http_send_hdrs(h, method, url, ctype, body, len, NULL, status, resp);
}

char *mm_http_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = mm_xmalloc(3 * n + 1), *q = o;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *q++ = (char)*p;
        } else {
            *q++ = '%';
            *q++ = hex[*p >> 4];
            *q++ = hex[*p & 15];
        }
    }
    *q = 0;
    return o;
}

int mm_http_send_hdrs(mm_http *h, const char *method, const char *url,
                      const char *ctype, const void *body, size_t len,
                      const char *const *headers, long *status, mm_buf *resp)
{
    *status = 0;
    int rc = mm_http_check_url("HTTP request", url);
    if (rc)
        return rc;
    if (method && strcmp(method, "POST") && strcmp(method, "GET"))
        return mm_error_set(MM_EINVAL, "%s: unsupported HTTP method %s", url, method);
    bool post = method && !strcmp(method, "POST");
    mm_http_request rq = {
        .method = method, .url = url, .headers = headers,
        .ctype = post ? (ctype ? ctype : "application/octet-stream") : NULL,
        .body = post ? (body ? body : "") : NULL, .len = post ? len : 0,
    };
    return http_perform(h, &rq, status, resp, false);
}

int mm_http_do(mm_http *h, const mm_http_request *rq, long *status, mm_buf *resp)
{
    *status = 0;
    int rc = mm_http_check_url("HTTP request", rq->url);
    if (rc)
        return rc;
    return http_perform(h, rq, status, resp, true);
}

long mm_http_retry_after(const char *v, time_t now, long cap)
{
    if (!v)
        return -1;
    char buf[128];
    size_t n = strnlen(v, sizeof buf - 1);
    memcpy(buf, v, n);
    buf[n] = 0;
    char *t = mm_str_trim(buf);
    if (!*t)
        return -1;
    bool digits = true;
    for (char *p = t; *p; p++)
        digits &= isdigit((unsigned char)*p) != 0;
    long secs;
    if (digits) {
        if (strlen(t) > 9)
            return cap;
        secs = strtol(t, NULL, 10);
    } else {
        time_t when = curl_getdate(t, NULL);
        if (when == (time_t)-1)
            return -1;
        secs = when <= now ? 0 : (long)(when - now > cap ? cap : when - now);
    }
    return secs > cap ? cap : secs;
}
