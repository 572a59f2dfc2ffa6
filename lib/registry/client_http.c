/*
 * client_http.c - one HTTP exchange of the registry client: the transfer
 * set-up on the library's transport (util/http.h), the transport policy
 * per host (TLS, then unverified TLS or plain HTTP for --insecure-registry
 * hosts, each recorded), authentication (basic, bearer tokens from the
 * WWW-Authenticate challenge, OAuth2 refresh tokens) and retries (429 and
 * 5xx with Retry-After or exponential backoff, connection resets).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "registry/client_int.h"
#include "util/http.h"

static struct xfer *xfer_start(mm_registry *c, const struct req *rq, const char *url,
                               enum mode mode, bool allow_http_redirect,
                               const char *auth)
{
    struct xfer *x = mm_xcalloc(1, sizeof *x);
    x->c = c;
    x->max = rq->max ? rq->max : 1;
    x->stream = rq->stream;
    x->e = curl_easy_init();
    x->m = curl_multi_init();
    if (!x->e || !x->m) {
        x->done = true;
        x->result = CURLE_OUT_OF_MEMORY;
        return x;
    }
    CURL *e = x->e;
    bool follow = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
    mm_http_opts ho = {
        .user_agent = c->user_agent,
        .connect_timeout_s = c->timeout_s,
        .stall_timeout_s = c->timeout_s,
        .ca_file = c->ca_file,
        .insecure = mode == M_HTTPS_NOVERIFY,
        .follow = follow,
        .redirect_https_only = !allow_http_redirect,
    };
    mm_http_setup(e, url, &ho, x->errbuf);
    curl_easy_setopt(e, CURLOPT_SHARE, c->share);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, mm_reg_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mm_reg_on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L * 1024);
    if (!strcmp(rq->method, "HEAD")) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (!strcmp(rq->method, "POST") || !strcmp(rq->method, "PUT")) {
        if (!strcmp(rq->method, "PUT"))
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->blen);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    }
    if (rq->accept) {
        char *h = mm_xasprintf("Accept: %s", rq->accept);
        x->hdrs = curl_slist_append(x->hdrs, h);
        free(h);
    }
    if (rq->ctype || rq->body) {
        char *h = mm_xasprintf("Content-Type: %s",
                               rq->ctype ? rq->ctype : "application/octet-stream");
        x->hdrs = curl_slist_append(x->hdrs, h);
        free(h);
    }
    if (rq->range) {
        char *h = mm_xasprintf("Range: %s", rq->range);
        x->hdrs = curl_slist_append(x->hdrs, h);
        free(h);
    }
    x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    /* curl does not send a custom Authorization header to another host
     * after a redirect (blob storage), which is what we want */
    if (auth)
        x->hdrs = curl_slist_append(x->hdrs, auth);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_multi_add_handle(x->m, e);
    x->added = true;
    return x;
}

bool mm_reg_transient(CURLcode r)
{
    return r == CURLE_RECV_ERROR || r == CURLE_SEND_ERROR || r == CURLE_GOT_NOTHING ||
           r == CURLE_PARTIAL_FILE || r == CURLE_OPERATION_TIMEDOUT ||
           r == CURLE_HTTP2 || r == CURLE_HTTP2_STREAM;
}

void mm_reg_sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

double mm_reg_backoff(int attempt, const char *retry_after)
{
    long ra = mm_http_retry_after(retry_after, time(NULL), MM_REG_RETRY_CAP);
    if (ra >= 0)
        return (double)ra;
    double s = 0.5;
    for (int i = 0; i < attempt && s < 30; i++)
        s *= 2;
    return s > 30 ? 30 : s;
}

/* Splits an absolute URL into scheme and host[:port]; false when it is not
 * an http(s) URL. */
static bool url_host(const char *url, char **scheme, char **host)
{
    CURLU *u = curl_url();
    bool ok = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        char *sc = NULL, *h = NULL, *port = NULL;
        if (curl_url_get(u, CURLUPART_SCHEME, &sc, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
            (!strcasecmp(sc, "http") || !strcasecmp(sc, "https"))) {
            curl_url_get(u, CURLUPART_PORT, &port, 0);
            *scheme = mm_xstrdup(sc);
            *host = port ? mm_xasprintf("%s:%s", h, port) : mm_xstrdup(h);
            ok = true;
        }
        curl_free(sc);
        curl_free(h);
        curl_free(port);
    }
    curl_url_cleanup(u);
    return ok;
}

/* The path and query of an absolute URL ("/v2/...?a=b"). */
static char *url_path(const char *url)
{
    CURLU *u = curl_url();
    char *out = NULL, *p = NULL, *q = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        curl_url_get(u, CURLUPART_PATH, &p, 0);
        curl_url_get(u, CURLUPART_QUERY, &q, 0);
        out = mm_xasprintf("%s%s%s", p ? p : "/", q ? "?" : "", q ? q : "");
    }
    curl_free(p);
    curl_free(q);
    curl_url_cleanup(u);
    return out;
}

static int fetch_token(mm_registry *c, struct host *h, const char *scope);

/* The Authorization header for a request to h (caller frees), NULL for
 * none; fetches a bearer token first when the host is known to want one. */
static int auth_for(mm_registry *c, struct host *h, const char *scope, char **out)
{
    *out = NULL;
    if (h->have_bearer) {
        char *key = mm_xasprintf("%s %s", h->name, scope ? scope : "");
        const char *tok = mm_map_get(c->tokens, key);
        if (!tok) {
            int rc = fetch_token(c, h, scope);
            if (rc < 0) {
                free(key);
                return rc;
            }
            tok = mm_map_get(c->tokens, key);
        }
        free(key);
        if (tok && *tok)
            *out = mm_xasprintf("Authorization: Bearer %s", tok);
        return 0;
    }
    if (h->basic) {
        const char *u, *p;
        bool it;
        int rc = mm_reg_host_creds(c, h->name, &u, &p, &it);
        if (rc < 0)
            return rc;
        if (u && !it)
            *out = mm_reg_basic_header(u, p);
    }
    return 0;
}

static int status_error(mm_registry *c, struct xfer *x, const struct req *rq,
                        const char *host)
{
    (void)c;
    char *et = mm_reg_error_text(x->body.data, x->body.len);
    char detail[600];
    snprintf(detail, sizeof detail, "%s%s%s", et ? " (" : "", et ? et : "", et ? ")" : "");
    free(et);
    long st = x->status;
    int rc;
    if (st == 404)
        rc = mm_error_set(MM_ENOTFOUND, "%s: not found on %s (HTTP 404)%s", rq->what, host,
                          detail);
    else if (st == 401 || st == 403)
        rc = mm_error_set(MM_EAUTH, "%s: %s refused access (HTTP %ld)%s", rq->what, host,
                          st, detail);
    else if (st == 429 || st >= 500)
        rc = mm_error_set(MM_ENET, "%s: %s kept answering HTTP %ld after %d retries%s",
                          rq->what, host, st, c->retries, detail);
    else if (st == 400 || st == 413 || st == 415)
        rc = mm_error_set(MM_EFORMAT, "%s: %s rejected the request (HTTP %ld)%s", rq->what,
                          host, st, detail);
    else
        rc = mm_error_set(MM_ENET, "%s: unexpected answer from %s: HTTP %ld%s", rq->what,
                          host, st, detail);
    return rc;
}

/* Performs rq with the transport policy, authentication and retries.  On
 * success (2xx) *out holds the transfer: complete, or for rq->stream
 * started with its first bytes buffered.  Other statuses become MM_E*. */
int mm_reg_request(mm_registry *c, const struct req *rq, struct xfer **out)
{
    *out = NULL;
    int attempt = 0, auth_tries = 0;
    bool fresh = false; /* a token was fetched for this very request */
    struct host *reg = mm_reg_host_get(c, rq->host);
    for (;;) {
        /* where to: the registry itself, or another host (token realm,
         * blob storage, an upload Location elsewhere) */
        struct host *h = reg;
        char *path = NULL, *url = NULL;
        bool foreign = false, foreign_http = false;
        if (mm_str_startswith(rq->target, "http://") || mm_str_startswith(rq->target, "https://")) {
            char *scheme = NULL, *uh = NULL;
            if (!url_host(rq->target, &scheme, &uh))
                return mm_error_set(MM_EFORMAT, "%s: not a usable URL: \"%.200s\"", rq->what,
                                    rq->target);
            if (strcasecmp(uh, reg->name) == 0) {
                path = url_path(rq->target);
            } else {
                foreign = true;
                h = mm_reg_host_get(c, uh);
                foreign_http = !strcasecmp(scheme, "http");
            }
            free(scheme);
            free(uh);
            if (foreign_http && !h->insecure && !reg->insecure)
                return mm_error_set(MM_EUNSAFE,
                                    "%s: %s sends us to plain HTTP at %s; refused (allow it "
                                    "with --insecure-registry %s)", rq->what, reg->name,
                                    h->name, h->name);
        } else {
            path = mm_xstrdup(rq->target);
        }
        if (foreign_http)
            h->mode = M_HTTP;
        if (h->mode == M_UNKNOWN)
            h->mode = M_HTTPS;
        if (foreign)
            url = mm_xstrdup(rq->target);
        else
            url = mm_xasprintf("%s://%s%s", h->mode == M_HTTP ? "http" : "https", h->name,
                               path);
        free(path);
        char *auth = NULL;
        if (!rq->no_auth && !foreign) {
            int rc = auth_for(c, h, rq->scope, &auth);
            if (rc < 0) {
                free(url);
                return rc;
            }
        }
        struct xfer *x = xfer_start(c, rq, url, h->mode, h->insecure || reg->insecure, auth);
        if (auth) {
            OPENSSL_cleanse(auth, strlen(auth));
            free(auth);
        }
        free(url);
        mm_reg_xfer_pump(x, rq->stream);
        /* a stream that broke after its first bytes is the reader's to
         * resume */
        if (x->done && x->result != CURLE_OK && !(rq->stream && x->ok_started)) {
            if (x->over) {
                int rc = mm_error_set(MM_ELIMIT, "%s: the answer from %s is larger than the "
                                      "limit of %llu bytes", rq->what, h->name,
                                      (unsigned long long)rq->max);
                mm_reg_xfer_free(x);
                return rc;
            }
            if (x->hdr_over) {
                int rc = mm_error_set(MM_ELIMIT, "%s: %s sent more than %u bytes of headers",
                                      rq->what, h->name, MM_REG_MAX_HEADERS);
                mm_reg_xfer_free(x);
                return rc;
            }
            if (!h->confirmed && h->insecure && h->mode != M_HTTP) {
                /* an --insecure-registry host: unverified TLS when the
                 * certificate is the problem, else plain HTTP */
                h->mode = x->result == CURLE_PEER_FAILED_VERIFICATION && h->mode == M_HTTPS
                              ? M_HTTPS_NOVERIFY : M_HTTP;
                mm_reg_xfer_free(x);
                continue;
            }
            bool tls = x->result == CURLE_PEER_FAILED_VERIFICATION ||
                       x->result == CURLE_SSL_CONNECT_ERROR ||
                       x->result == CURLE_SSL_CERTPROBLEM ||
                       x->result == CURLE_SSL_CACERT_BADFILE;
            if (mm_reg_transient(x->result) && attempt < c->retries) {
                mm_reg_xfer_free(x);
                mm_reg_sleep_s(mm_reg_backoff(attempt++, NULL));
                continue;
            }
            int rc;
            if (tls && !h->insecure)
                rc = mm_error_set(MM_ENET, "%s: no verified HTTPS connection to %s: %s (plain "
                                  "HTTP and unverified TLS are refused: allow this host with "
                                  "--insecure-registry %s; for a private CA give --ca-file)",
                                  rq->what, h->name, mm_reg_xfer_errmsg(x), h->name);
            else
                rc = mm_error_set(MM_ENET, "%s: cannot reach %s: %s", rq->what, h->name,
                                  mm_reg_xfer_errmsg(x));
            mm_reg_xfer_free(x);
            return rc;
        }
        /* every response, not only the first: the findings of one pull
         * through a shared client are those of the hosts it used */
        h->confirmed = true;
        mm_reg_record_transport(c, h->name, h->mode);
        long st = x->status;
        if (st == 401 && !rq->no_auth && !foreign) {
            mm_reg_challenge ch;
            bool parsed = x->www.len &&
                          mm_reg_challenge_parse(&ch, x->www.data, x->www.len) == 0;
            if (!parsed)
                mm_error_clear();
            if (fresh || auth_tries >= 3 || !parsed) {
                char *et = mm_reg_error_text(x->body.data, x->body.len);
                int rc = mm_error_set(MM_EAUTH, "%s: %s refused access (HTTP 401%s)%s%s",
                                      rq->what, reg->name,
                                      !parsed ? ", no usable challenge"
                                      : fresh ? " with a fresh token" : "",
                                      et ? ": " : "", et ? et : "");
                free(et);
                if (parsed)
                    mm_reg_challenge_clear(&ch);
                mm_reg_xfer_free(x);
                return rc;
            }
            auth_tries++;
            mm_reg_xfer_free(x);
            if (!strcasecmp(ch.scheme, "bearer")) {
                if (!ch.realm) {
                    mm_reg_challenge_clear(&ch);
                    return mm_error_set(MM_EAUTH, "%s: %s asks for a bearer token but names "
                                        "no realm", rq->what, reg->name);
                }
                mm_reg_challenge_clear(&h->bearer);
                h->bearer = ch;
                h->have_bearer = true;
                /* our scope for the operation covers what the registry
                 * needs for it; theirs when we have none */
                const char *scope = rq->scope ? rq->scope : ch.scope;
                char *key = mm_xasprintf("%s %s", h->name, rq->scope ? rq->scope : "");
                free(mm_map_del(c->tokens, key));
                int rc = fetch_token(c, h, scope);
                if (rc == 0 && !rq->scope) {
                    /* fetched under their scope: file it under ours too */
                    char *k2 = mm_xasprintf("%s %s", h->name, scope ? scope : "");
                    const char *t = mm_map_get(c->tokens, k2);
                    if (t && strcmp(k2, key) != 0)
                        free(mm_map_put(c->tokens, key, mm_xstrdup(t)));
                    free(k2);
                }
                free(key);
                if (rc < 0)
                    return rc;
                fresh = true;
            } else if (!strcasecmp(ch.scheme, "basic")) {
                const char *u, *p;
                bool it;
                int rc = mm_reg_host_creds(c, reg->name, &u, &p, &it);
                mm_reg_challenge_clear(&ch);
                if (rc < 0)
                    return rc;
                if (u && it)
                    return mm_error_set(MM_EAUTH, "%s: %s asks for basic authentication, but "
                                        "the credentials configured for it are an identity "
                                        "token, which needs a token server (a Bearer "
                                        "challenge)", rq->what, reg->name);
                if (!u)
                    return mm_error_set(MM_EAUTH, "%s: %s requires authentication: give "
                                        "--username/--password (or MAMORI_USERNAME/"
                                        "MAMORI_PASSWORD) or log in with docker", rq->what,
                                        reg->name);
                if (h->basic)
                    return mm_error_set(MM_EAUTH, "%s: %s refused the credentials of user "
                                        "\"%s\" (HTTP 401)", rq->what, reg->name, u);
                h->basic = true;
            } else {
                int rc = mm_error_set(MM_EAUTH, "%s: %s asks for unsupported authentication "
                                      "\"%.40s\"", rq->what, reg->name, ch.scheme);
                mm_reg_challenge_clear(&ch);
                return rc;
            }
            continue;
        }
        if ((st == 429 || st == 500 || st == 502 || st == 503 || st == 504) &&
            attempt < c->retries) {
            double wait = mm_reg_backoff(attempt++, x->retry_after);
            mm_reg_xfer_free(x);
            mm_reg_sleep_s(wait);
            continue;
        }
        if (st >= 200 && st < 300) {
            *out = x;
            return 0;
        }
        int rc = status_error(c, x, rq, h->name);
        mm_reg_xfer_free(x);
        return rc;
    }
}

char *mm_reg_url_escape(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *r = mm_xstrdup(e ? e : "");
    curl_free(e);
    return r;
}

/* A bearer token for scope from the realm of h's challenge, filed in
 * c->tokens.  With a password (or none): GET realm?service=&scope= with
 * basic credentials (Docker token spec).  With an identity token: the
 * OAuth2 form of the spec, POST realm with grant_type=refresh_token,
 * service, scope, client_id and refresh_token; the answer's access_token
 * (or token) is used. */
static int fetch_token(mm_registry *c, struct host *h, const char *scope)
{
    const mm_reg_challenge *ch = &h->bearer;
    const char *user, *pass;
    bool idtok;
    int rc = mm_reg_host_creds(c, h->name, &user, &pass, &idtok);
    if (rc < 0)
        return rc;
    mm_buf u = MM_BUF_INIT, form = MM_BUF_INIT;
    mm_buf_adds(&u, ch->realm);
    if (idtok && user) {
        mm_buf_adds(&form, "grant_type=refresh_token");
        if (ch->service) {
            char *e = mm_reg_url_escape(ch->service);
            mm_buf_printf(&form, "&service=%s", e);
            free(e);
        }
        if (scope && *scope) {
            char *e = mm_reg_url_escape(scope);
            mm_buf_printf(&form, "&scope=%s", e);
            free(e);
        }
        char *e = mm_reg_url_escape(pass);
        mm_buf_printf(&form, "&client_id=mamori&refresh_token=%s", e);
        OPENSSL_cleanse(e, strlen(e));
        free(e);
    } else {
        char sep = strchr(ch->realm, '?') ? '&' : '?';
        if (ch->service) {
            char *e = mm_reg_url_escape(ch->service);
            mm_buf_printf(&u, "%cservice=%s", sep, e);
            free(e);
            sep = '&';
        }
        if (scope && *scope) {
            char *e = mm_reg_url_escape(scope);
            mm_buf_printf(&u, "%cscope=%s", sep, e);
            free(e);
        }
    }
    char *what = mm_xasprintf("token for %s from %s", h->name, ch->realm);
    struct req rq = {
        .method = "GET", .host = h->name, .target = u.data, .max = MM_REG_MAX_TOKEN,
        .no_auth = true, .what = what,
    };
    if (form.len) {
        rq.method = "POST";
        rq.body = form.data;
        rq.blen = form.len;
        rq.ctype = "application/x-www-form-urlencoded";
    }
    if (!mm_str_startswith(ch->realm, "http://") && !mm_str_startswith(ch->realm, "https://")) {
        rc = mm_error_set(MM_EAUTH, "%s: the realm is not an http(s) URL", what);
        goto out;
    }
    /* the token service is another host as far as mm_reg_request() knows, so the
     * basic credentials are given here */
    char *scheme = NULL, *th = NULL;
    if (!url_host(ch->realm, &scheme, &th)) {
        rc = mm_error_set(MM_EAUTH, "%s: the realm is not a usable URL", what);
        goto out;
    }
    struct host *rh = mm_reg_host_get(c, th);
    bool http = !strcasecmp(scheme, "http");
    free(scheme);
    free(th);
    if (http && !rh->insecure && !h->insecure) {
        rc = mm_error_set(MM_EUNSAFE, "%s: the token service is plain HTTP; refused "
                          "(allow it with --insecure-registry %s)", what, rh->name);
        goto out;
    }
    if (http)
        rh->mode = M_HTTP;
    else if (rh->mode == M_UNKNOWN)
        rh->mode = M_HTTPS;
    for (int attempt = 0;; attempt++) {
        char *auth = user && !form.len ? mm_reg_basic_header(user, pass) : NULL;
        struct xfer *x = xfer_start(c, &rq, u.data, rh->mode, rh->insecure || h->insecure, auth);
        if (auth) {
            OPENSSL_cleanse(auth, strlen(auth));
            free(auth);
        }
        mm_reg_xfer_pump(x, false);
        if (x->result != CURLE_OK) {
            if (!rh->confirmed && rh->insecure && rh->mode == M_HTTPS &&
                x->result == CURLE_PEER_FAILED_VERIFICATION) {
                rh->mode = M_HTTPS_NOVERIFY;
                mm_reg_xfer_free(x);
                continue;
            }
            if (mm_reg_transient(x->result) && attempt < c->retries) {
                mm_reg_xfer_free(x);
                mm_reg_sleep_s(mm_reg_backoff(attempt, NULL));
                continue;
            }
            rc = x->over ? mm_error_set(MM_ELIMIT, "%s: answer over %u bytes", what,
                                        MM_REG_MAX_TOKEN)
                         : mm_error_set(MM_ENET, "%s: %s", what, mm_reg_xfer_errmsg(x));
            mm_reg_xfer_free(x);
            goto out;
        }
        rh->confirmed = true;
        mm_reg_record_transport(c, rh->name, rh->mode);
        if ((x->status == 429 || x->status >= 500) && attempt < c->retries) {
            double w = mm_reg_backoff(attempt, x->retry_after);
            mm_reg_xfer_free(x);
            mm_reg_sleep_s(w);
            continue;
        }
        if (form.len && (x->status == 400 || x->status == 401 || x->status == 403)) {
            /* OAuth2 answers a bad refresh token with 400 invalid_grant */
            char *et = mm_reg_error_text(x->body.data, x->body.len);
            json_t *oj = et ? NULL : json_loadb(x->body.data, x->body.len, 0, NULL);
            const char *oe = json_string_value(json_object_get(oj, "error"));
            char *pe = oe ? mm_str_printable(oe) : NULL;
            rc = mm_error_set(MM_EAUTH, "%s: the identity token was refused (HTTP %ld)%s%.200s"
                              " (log in again to renew it)", what, x->status,
                              et || pe ? ": " : "", et ? et : pe ? pe : "");
            free(pe);
            json_decref(oj);
            free(et);
            mm_reg_xfer_free(x);
            goto out;
        }
        if (x->status == 401 || x->status == 403) {
            char *et = mm_reg_error_text(x->body.data, x->body.len);
            rc = mm_error_set(MM_EAUTH, "%s: %s (HTTP %ld)%s%s%s", what,
                              user ? "credentials refused" : "anonymous access refused",
                              x->status, et ? ": " : "", et ? et : "",
                              user ? "" : " (give --username/--password or log in with docker)");
            free(et);
            mm_reg_xfer_free(x);
            goto out;
        }
        if (x->status != 200) {
            rc = status_error(c, x, &rq, rh->name);
            mm_reg_xfer_free(x);
            goto out;
        }
        json_t *j = json_loadb(x->body.data, x->body.len, 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (!tok || !*tok)
            tok = json_string_value(json_object_get(j, "access_token"));
        if (!tok || !*tok || strlen(tok) > MM_REG_MAX_HEADER) {
            rc = mm_error_set(MM_EAUTH, "%s: the answer holds no usable token", what);
        } else {
            char *key = mm_xasprintf("%s %s", h->name, scope ? scope : "");
            free(mm_map_put(c->tokens, key, mm_xstrdup(tok)));
            free(key);
            rc = 0;
        }
        json_decref(j);
        mm_reg_xfer_free(x);
        goto out;
    }
out:
    free(what);
    mm_buf_free(&u);
    if (form.data)
        OPENSSL_cleanse(form.data, form.len);
    mm_buf_free(&form);
    return rc;
}
