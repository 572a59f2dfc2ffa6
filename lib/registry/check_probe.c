/*
 * check_probe.c - the network half of the registry security checks
 * (mm_regcheck_run): anonymous requests to the registry over util/http.h,
 * the anonymous Bearer token dance, and the cancelled upload.  What is seen
 * goes into an mm_regcheck_obs for mm_regcheck_evaluate() (check.c).
 * Bodies are capped at 64 KiB and headers kept at 4 KiB; no credentials
 * are ever sent.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mamori/regcheck.h"
#include "registry/regint.h"
#include "util/http.h"
#include "util/util.h"

#define PB_MAX_BODY (64 * 1024)
#define PB_MAX_HDR 4096

typedef struct resp {
    long status;
    char challenge[PB_MAX_HDR];
    char location[PB_MAX_HDR];
    mm_buf body;
    char err[CURL_ERROR_SIZE];
} resp;

typedef struct probe {
    CURL *e;
    const mm_regcheck_opts *o;
    const char *host;
    bool insecure; /* the https endpoint only answers unverified */
    const char *scheme;
} probe;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    if (mm_buf_add(&r->body, p, sz * n) < 0)
        return 0;
    return sz * n;
}

static void keep_header(char *dst, const char *v, size_t n)
{
    while (n && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    while (n && *v == ' ') {
        v++;
        n--;
    }
    if (n >= PB_MAX_HDR)
        n = PB_MAX_HDR - 1;
    memcpy(dst, v, n);
    dst[n] = 0;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    resp *r = ud;
    size_t len = sz * n;
    if (len > 17 && !strncasecmp(p, "WWW-Authenticate:", 17) && !r->challenge[0])
        keep_header(r->challenge, p + 17, len - 17);
    else if (len > 9 && !strncasecmp(p, "Location:", 9))
        keep_header(r->location, p + 9, len - 9);
    else if (len > 5 && !strncasecmp(p, "HTTP/", 5)) {
        r->challenge[0] = 0;  /* a new response (redirect, 100) */
        r->location[0] = 0;
    }
    return len;
}

/* One request; 0 with r->status (0 and r->err when no HTTP answer). */
static void request(probe *pb, const char *method, const char *url, bool insecure,
                    const char *bearer, resp *r)
{
    mm_buf_free(&r->body);
    memset(r, 0, sizeof *r);
    mm_buf_init(&r->body, PB_MAX_BODY);
    if (mm_http_check_url("registry check", url) < 0) {
        snprintf(r->err, sizeof r->err, "%s", mm_error_last());
        return;
    }
    curl_easy_reset(pb->e);
    mm_http_opts ho = {
        .connect_timeout_s = pb->o->timeout_s > 0 ? pb->o->timeout_s : 20,
        .stall_timeout_s = pb->o->timeout_s > 0 ? pb->o->timeout_s : 20,
        .total_timeout_s = pb->o->timeout_s > 0 ? pb->o->timeout_s : 20,
        .max_body = PB_MAX_BODY,
        .ca_file = pb->o->ca_file,
        .insecure = insecure,
    };
    mm_http_setup(pb->e, url, &ho, r->err);
    curl_easy_setopt(pb->e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(pb->e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(pb->e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(pb->e, CURLOPT_HEADERDATA, r);
    struct curl_slist *hl = NULL;
    char auth[PB_MAX_HDR + 32];
    if (bearer) {
        snprintf(auth, sizeof auth, "Authorization: Bearer %s", bearer);
        hl = curl_slist_append(hl, auth);
    }
    if (!strcmp(method, "POST")) {
        curl_easy_setopt(pb->e, CURLOPT_POST, 1L);
        curl_easy_setopt(pb->e, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(pb->e, CURLOPT_POSTFIELDSIZE, 0L);
        hl = curl_slist_append(hl, "Content-Length: 0");
    } else if (strcmp(method, "GET")) {
        curl_easy_setopt(pb->e, CURLOPT_CUSTOMREQUEST, method);
    }
    if (hl)
        curl_easy_setopt(pb->e, CURLOPT_HTTPHEADER, hl);
    CURLcode cc = curl_easy_perform(pb->e);
    if (cc == CURLE_OK || cc == CURLE_WRITE_ERROR)
        curl_easy_getinfo(pb->e, CURLINFO_RESPONSE_CODE, &r->status);
    if (cc != CURLE_OK && !r->err[0])
        snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(cc));
    curl_easy_setopt(pb->e, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hl);
}

static char *url_escape(CURL *e, const char *s)
{
    char *x = curl_easy_escape(e, s, 0);
    char *r = mm_xstrdup(x ? x : "");
    curl_free(x);
    return r;
}

/* The anonymous request (path "/v2/..." or a whole URL): on 401 with a
 * Bearer challenge, an anonymous token for scope (NULL: the challenge's
 * own scope) is asked for and the request repeated.  *token tells whether
 * a token was granted; *tok_out, when not NULL, receives it. */
static void anon(probe *pb, const char *method, const char *path, const char *scope,
                 resp *r, bool *token, char **tok_out)
{
    *token = false;
    if (tok_out)
        *tok_out = NULL;
    char *url = path[0] == '/' ? mm_xasprintf("%s://%s%s", pb->scheme, pb->host, path)
                               : mm_xstrdup(path);
    request(pb, method, url, pb->insecure, NULL, r);
    mm_reg_challenge ch = {0};
    if (r->status == 401 && r->challenge[0] &&
        mm_reg_challenge_parse(&ch, r->challenge, strlen(r->challenge)) == 0 &&
        ch.scheme && !strcasecmp(ch.scheme, "bearer") && ch.realm) {
        const char *realm = ch.realm, *service = ch.service ? ch.service : "";
        if (!scope)
            scope = ch.scope ? ch.scope : "";
        char *es = url_escape(pb->e, service), *esc = url_escape(pb->e, scope);
        char *turl = mm_xasprintf("%s%sservice=%s&scope=%s", realm,
                                  strchr(realm, '?') ? "&" : "?", es, esc);
        free(es);
        free(esc);
        resp t = {0};
        request(pb, "GET", turl, pb->insecure, NULL, &t);
        free(turl);
        char *tok = NULL;
        if (t.status == 200) {
            json_t *j = json_loadb(t.body.data ? t.body.data : "", t.body.len, 0, NULL);
            const char *s = json_string_value(json_object_get(j, "token"));
            if (!s)
                s = json_string_value(json_object_get(j, "access_token"));
            if (s && strlen(s) < PB_MAX_HDR && !strpbrk(s, "\r\n"))
                tok = mm_xstrdup(s);
            json_decref(j);
        }
        mm_buf_free(&t.body);
        if (tok) {
            *token = true;
            request(pb, method, url, pb->insecure, tok, r);
            if (tok_out)
                *tok_out = tok;
            else
                free(tok);
        }
    }
    mm_reg_challenge_clear(&ch);
    free(url);
}

int mm_regcheck_run(mm_regcheck **out, const char *registry, const mm_regcheck_opts *o)
{
    *out = NULL;
    mm_regcheck_opts dflt = {0};
    if (!o)
        o = &dflt;
    const char *h = registry;
    if (!strncasecmp(h, "https://", 8))
        h += 8;
    else if (!strncasecmp(h, "http://", 7))
        h += 7;
    size_t hl = strlen(h);
    while (hl && h[hl - 1] == '/')
        hl--;
    if (!hl || hl > 255)
        return mm_error_set(MM_EINVAL, "registry check: \"%s\" is not a registry host", registry);
    for (size_t i = 0; i < hl; i++)
        if (!(isalnum((unsigned char)h[i]) || strchr(".-:[]_", h[i])))
            return mm_error_set(MM_EINVAL, "registry check: \"%s\" is not a registry host "
                                "(HOST[:PORT])", registry);
    if (o->repository) {
        size_t rl = strlen(o->repository);
        bool ok = rl > 0 && rl <= 255 && o->repository[0] != '/';
        for (size_t i = 0; ok && i < rl; i++)
            ok = islower((unsigned char)o->repository[i]) || isdigit((unsigned char)o->repository[i]) ||
                 strchr("._-/", o->repository[i]);
        if (!ok)
            return mm_error_set(MM_EINVAL, "registry check: repository \"%s\" is not a "
                                "repository name ([a-z0-9._-/])", o->repository);
    }
    char *host = mm_xstrndup(h, hl);
    if (!strcmp(host, "docker.io") || !strcmp(host, "index.docker.io")) {
        free(host);
        host = mm_xstrdup("registry-1.docker.io");
    }
    int rc = mm_http_global_init();
    if (rc < 0) {
        free(host);
        return rc;
    }
    probe pb = {.e = curl_easy_init(), .o = o, .host = host};
    if (!pb.e) {
        free(host);
        return mm_error_set(MM_ENOMEM, "registry check: curl");
    }
    mm_regcheck_obs ob = {0};
    resp rs = {0}, rh = {0}, rv = {0}, r = {0};
    char *url = mm_xasprintf("https://%s/v2/", host);
    request(&pb, "GET", url, false, NULL, &rs);
    char *https_error = NULL;
    if (rs.status) {
        ob.https_verified = true;
    } else {
        https_error = mm_xstrdup(rs.err);
        request(&pb, "GET", url, true, NULL, &rv);
        if (rv.status) {
            pb.insecure = true;
            memcpy(&rs.challenge, &rv.challenge, sizeof rs.challenge);
            rs.status = rv.status;
        }
    }
    free(url);
    ob.https_status = rs.status;
    ob.https_error = https_error;
    ob.https_challenge = rs.challenge[0] ? rs.challenge : NULL;
    url = mm_xasprintf("http://%s/v2/", host);
    request(&pb, "GET", url, false, NULL, &rh);
    free(url);
    ob.http_status = rh.status;
    ob.http_error = rh.err[0] ? rh.err : NULL;
    ob.http_challenge = rh.challenge[0] ? rh.challenge : NULL;
    bool http_reg = rh.status == 200 || rh.status == 401;
    char *repo = mm_xstrdup(o->repository);
    if (rs.status || http_reg) {
        pb.scheme = rs.status ? "https" : "http";
        anon(&pb, "GET", "/v2/_catalog?n=1", "registry:catalog:*", &r, &ob.catalog_token, NULL);
        ob.catalog_status = r.status;
        if (!repo && r.status == 200) {
            json_t *j = json_loadb(r.body.data ? r.body.data : "", r.body.len, 0, NULL);
            const char *first = json_string_value(json_array_get(
                json_object_get(j, "repositories"), 0));
            if (first && strlen(first) < 256 && !strpbrk(first, "?#% \r\n"))
                repo = mm_xstrdup(first);
            json_decref(j);
        }
        if (!repo)
            repo = mm_xstrdup("mamori-check/probe");
        ob.repository = repo;
        char *path = mm_xasprintf("/v2/%s/tags/list?n=1", repo);
        char *scope = mm_xasprintf("repository:%s:pull", repo);
        anon(&pb, "GET", path, scope, &r, &ob.pull_token, NULL);
        ob.pull_status = r.status;
        free(path);
        free(scope);
        path = mm_xasprintf("/v2/%s/blobs/uploads/", repo);
        scope = mm_xasprintf("repository:%s:pull,push", repo);
        char *ptok = NULL;
        anon(&pb, "POST", path, scope, &r, &ob.push_token, &ptok);
        ob.push_status = r.status;
        if (r.status == 202 && r.location[0]) {
            /* cancel it at once: nothing is left behind */
            char *loc = r.location[0] == '/'
                ? mm_xasprintf("%s://%s%s", pb.scheme, host, r.location)
                : mm_xstrdup(r.location);
            resp d = {0};
            /* with the same (anonymous) rights that started it; docker-registry
             * wants the "delete" action for it, which its challenge names */
            request(&pb, "DELETE", loc, pb.insecure, ptok, &d);
            if (d.status == 401) {
                bool t;
                anon(&pb, "DELETE", loc, NULL, &d, &t, NULL);
            }
            ob.push_cancelled = d.status == 204 || d.status == 200 || d.status == 202;
            mm_buf_free(&d.body);
            free(loc);
        }
        free(ptok);
        free(path);
        free(scope);
    }
    rc = mm_regcheck_evaluate(out, host, &ob);
    if (rc == 0 && !rs.status && !rh.status) {
        mm_regcheck_free(*out);
        *out = NULL;
        rc = mm_error_set(MM_ENET, "registry check: %s answers neither https (%s) nor http (%s)",
                          host, https_error ? https_error : "?", rh.err);
    }
    free(https_error);
    free(repo);
    free(host);
    mm_buf_free(&rs.body);
    mm_buf_free(&rh.body);
    mm_buf_free(&rv.body);
    mm_buf_free(&r.body);
    curl_easy_cleanup(pb.e);
    return rc;
}
