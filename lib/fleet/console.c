/*
 * console.c - the web console's door into `mamori server` (issue 20): its
 * embedded files (the page at "/", the rest under "/ui/"), the console
 * session (POST /api/v1/session logs in once with an API token and gets a
 * random session id in an HttpOnly, Secure, SameSite=Strict cookie; the
 * token itself never reaches the browser's storage), the session as the
 * caller of an API request (its token's role, re-checked against
 * revocation on every request), the CSRF token every state-changing call
 * made with the cookie must send in X-CSRF-Token, and the security headers
 * of every answer (a strict Content-Security-Policy: scripts and styles
 * only from the server itself, no inline script, no framing).
 *
 * Sessions live in the server object (not the store): a restart logs every
 * console out.  They expire after the session ttl (8 hours by default) or
 * one idle hour, are capped in number, and go when their token is revoked
 * or on DELETE /api/v1/session.
 */
#include <stdlib.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "fleet/fleet_int.h"
#include "fleet/routes.h"

#define COOKIE "mamori_session"
#define MAX_SESSIONS 10000
#define IDLE_S 3600

typedef struct fsession {
    fleet_caller c;
    char csrf[65];
    int64_t created, expires, seen;
} fsession;

struct fleet_sessions {
    pthread_mutex_t mu;
    mm_map *by_hash;   /* sha256 hex of the session id -> fsession */
    char *matrix;      /* the fleet's SP 800-190 matrix (JSON) as of scan matrix_seq */
    int64_t matrix_seq;
};

static const char csp[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self';"
    " frame-ancestors 'none'; object-src 'none'";

void fleet_security_headers(mm_http_resp *resp, bool asset)
{
    bool has_csp = false;
    for (int i = 0; i < resp->nheaders; i++)
        if (strcasecmp(resp->hname[i], "Content-Security-Policy") == 0)
            has_csp = true;   /* a route's own, stricter or different */
    if (!has_csp)
        mm_http_resp_header(resp, "Content-Security-Policy", csp);
    mm_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    mm_http_resp_header(resp, "X-Frame-Options", "DENY");
    mm_http_resp_header(resp, "Referrer-Policy", "no-referrer");
    mm_http_resp_header(resp, "Cache-Control", asset ? "no-cache" : "no-store");
}

void fleet_sessions_free(struct fleet_sessions *s)
{
    if (!s)
        return;
    mm_map_free(s->by_hash, free);
    free(s->matrix);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static struct fleet_sessions *sessions(mm_fleet *f)
{
    pthread_mutex_lock(&f->mu);
    if (!f->sessions) {
        f->sessions = mm_xcalloc(1, sizeof *f->sessions);
        pthread_mutex_init(&f->sessions->mu, NULL);
        f->sessions->by_hash = mm_map_new();
    }
    struct fleet_sessions *s = f->sessions;
    pthread_mutex_unlock(&f->mu);
    return s;
}

char *fleet_matrix_cache_get(mm_fleet *f, int64_t seq)
{
    struct fleet_sessions *s = sessions(f);
    pthread_mutex_lock(&s->mu);
    char *m = s->matrix && s->matrix_seq == seq ? mm_xstrdup(s->matrix) : NULL;
    pthread_mutex_unlock(&s->mu);
    return m;
}

void fleet_matrix_cache_put(mm_fleet *f, int64_t seq, const char *json)
{
    struct fleet_sessions *s = sessions(f);
    pthread_mutex_lock(&s->mu);
    free(s->matrix);
    s->matrix = mm_xstrdup(json);
    s->matrix_seq = seq;
    pthread_mutex_unlock(&s->mu);
}

/* Constant time in the length of a. */
static bool same(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = la != lb;
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i < lb ? i : 0]);
    return d == 0;
}

int fleet_cookie_get(const char *h, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    if (!h || !outsz)
        return -1;
    /* cookie-string: name=value pairs separated by ";" and optional spaces
     * (RFC 6265 5.4); a value may be quoted.  The first pair named wins. */
    const char *p = h;
    size_t guard = 0;
    while (*p && guard++ < 4096) {
        while (*p == ' ' || *p == '\t' || *p == ';')
            p++;
        const char *k = p;
        while (*p && *p != '=' && *p != ';')
            p++;
        size_t kl = (size_t)(p - k);
        while (kl && (k[kl - 1] == ' ' || k[kl - 1] == '\t'))
            kl--;
        if (*p != '=') {
            continue;   /* a pair without "=": skipped */
        }
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        const char *v = p;
        while (*p && *p != ';')
            p++;
        size_t vl = (size_t)(p - v);
        while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
            vl--;
        if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
            v++;
            vl -= 2;
        }
        if (kl == nl && memcmp(k, name, nl) == 0) {
            if (!vl || vl >= outsz)
                return -1;
            memcpy(out, v, vl);
            out[vl] = 0;
            return 0;
        }
    }
    return -1;
}

char *fleet_login_parse(const char *body, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        mm_error_set(MM_EFORMAT, "body: not JSON: %s (offset %d)", e.text, e.position);
        return NULL;
    }
    const char *t = json_string_value(json_object_get(j, "token"));
    char *out = NULL;
    if (!json_is_object(j) || !t)
        mm_error_set(MM_EFORMAT, "token: required, a string");
    else if (!*t || strlen(t) > 200)
        mm_error_set(MM_EFORMAT, "token: 1 to 200 characters");
    else
        out = mm_xstrdup(t);
    json_decref(j);
    return out;
}

static void purge(struct fleet_sessions *s, int64_t now)
{
    size_t it = 0;
    const char *k;
    void *v;
    char *dead[64];
    int nd = 0;
    while (nd < 64 && mm_map_next(s->by_hash, &it, &k, &v)) {
        fsession *x = v;
        if (x->expires <= now || x->seen + IDLE_S <= now)
            dead[nd++] = mm_xstrdup(k);
    }
    for (int i = 0; i < nd; i++) {
        free(mm_map_del(s->by_hash, dead[i]));
        free(dead[i]);
    }
}

static void session_json(const fsession *x, mm_http_resp *resp, int status)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(x->c.id));
    json_object_set_new(j, "name", mm_json_str(x->c.name));
    json_object_set_new(j, "role", json_string(x->c.role));
    json_object_set_new(j, "csrf", json_string(x->csrf));
    json_object_set_new(j, "expires", json_integer(x->expires));
    mm_http_resp_json(resp, status, j);
}

static void login(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    char *tok = fleet_login_parse(rq->body, rq->body_len);
    if (!tok) {
        mm_http_resp_error(resp, 400, "%s", mm_error_last());
        return;
    }
    fleet_caller c;
    int rc = fleet_auth(f, tok, &c);
    explicit_bzero(tok, strlen(tok));
    free(tok);
    if (rc) {
        pthread_mutex_lock(&f->mu);
        f->m.auth_failures++;
        pthread_mutex_unlock(&f->mu);
        mm_http_resp_error(resp, 401, "unknown or revoked token");
        return;
    }
    fc->caller = c;
    if (!(c.role_bit & (ROLE_ADMIN | ROLE_OPERATOR | ROLE_VIEWER))) {
        mm_http_resp_error(resp, 403, "role %s may not use the console", c.role);
        return;
    }
    struct fleet_sessions *s = sessions(f);
    char sid[65], hash[72];
    fsession *x = mm_xcalloc(1, sizeof *x);
    if (mm_random_hex(sid, 32) < 0 || mm_random_hex(x->csrf, 32) < 0) {
        free(x);   /* no randomness: no sessions */
        mm_http_resp_error(resp, 503, "%s", mm_error_last());
        return;
    }
    mm_sha256_hex(sid, strlen(sid), hash);
    x->c = c;
    x->created = x->seen = fleet_now();
    unsigned ttl = f->o.session_ttl ? f->o.session_ttl : 8 * 3600;
    x->expires = x->created + ttl;
    pthread_mutex_lock(&s->mu);
    purge(s, x->created);
    bool full = mm_map_count(s->by_hash) >= MAX_SESSIONS;
    if (!full)
        mm_map_put(s->by_hash, hash + 7, x);
    pthread_mutex_unlock(&s->mu);
    if (full) {
        free(x);
        mm_http_resp_error(resp, 503, "too many console sessions (%d)", MAX_SESSIONS);
        return;
    }
    char *cookie = mm_xasprintf(COOKIE "=%s; Path=/; Max-Age=%u; HttpOnly; Secure;"
                                " SameSite=Strict", sid, ttl);
    mm_http_resp_header(resp, "Set-Cookie", cookie);
    free(cookie);
    explicit_bzero(sid, sizeof sid);
    snprintf(fc->detail, sizeof fc->detail, "console login");
    session_json(x, resp, 201);
}

/* The session of the request's cookie, copied into *out; the lock is not
 * held after.  0, or MM_EAUTH. */
static int find_session(mm_fleet *f, const mm_http_req *rq, fsession *out, bool drop)
{
    char sid[80], hash[72];
    if (fleet_cookie_get(mm_http_req_header(rq, "Cookie"), COOKIE, sid, sizeof sid) != 0)
        return mm_error_set(MM_EAUTH, "no console session");
    mm_sha256_hex(sid, strlen(sid), hash);
    struct fleet_sessions *s = sessions(f);
    int64_t now = fleet_now();
    int rc = 0;
    pthread_mutex_lock(&s->mu);
    fsession *x = mm_map_get(s->by_hash, hash + 7);
    if (!x)
        rc = mm_error_set(MM_EAUTH, "unknown or expired console session");
    else if (x->expires <= now || x->seen + IDLE_S <= now || drop) {
        free(mm_map_del(s->by_hash, hash + 7));
        if (!drop)
            rc = mm_error_set(MM_EAUTH, "console session expired");
        x = NULL;
    } else {
        x->seen = now;
        *out = *x;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static bool token_live(mm_fleet *f, const char *id)
{
    int64_t n = 0;
    const char *p[] = {id};
    fdb_lock(f->db);
    int rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM tokens WHERE id = $1 AND revoked = 0",
                           1, p, 0, &n);
    fdb_unlock(f->db);
    return rc == 0 && n == 1;
}

int fleet_session_auth(mm_fleet *f, const mm_http_req *rq, bool changing, fleet_caller *c,
                       bool *csrf_bad)
{
    fsession x;
    *csrf_bad = false;
    memset(c, 0, sizeof *c);
    int rc = find_session(f, rq, &x, false);
    if (rc)
        return rc;
    if (!token_live(f, x.c.id)) {
        find_session(f, rq, &x, true);
        return mm_error_set(MM_EAUTH, "the session's token was revoked");
    }
    *c = x.c;
    if (changing) {
        const char *h = mm_http_req_header(rq, "X-CSRF-Token");
        if (!h || !same(h, x.csrf)) {
            *csrf_bad = true;
            return mm_error_set(MM_EAUTH, "missing or wrong X-CSRF-Token");
        }
    }
    return 0;
}

bool fleet_has_session_cookie(const mm_http_req *rq)
{
    char sid[80];
    return fleet_cookie_get(mm_http_req_header(rq, "Cookie"), COOKIE, sid, sizeof sid) == 0;
}

static bool serve_asset(mm_fleet *f, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *p = rq->path;
    if (strcmp(p, "/") != 0 && !mm_str_startswith(p, "/ui/"))
        return false;
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0) {
        mm_http_resp_error(resp, 405, "%s is not allowed on %s", rq->method, p);
        return true;
    }
    for (size_t i = 0; i < f->o.nassets; i++) {
        const mm_fleet_asset *a = &f->o.assets[i];
        if (strcmp(a->path, p) == 0) {
            mm_http_resp_text(resp, 200, a->type, a->data, a->len);
            return true;
        }
    }
    if (!f->o.nassets && strcmp(p, "/") == 0)
        mm_http_resp_error(resp, 404, "this server has no console");
    else
        mm_http_resp_error(resp, 404, "no such file: %s", p);
    return true;
}

bool fleet_console_pre(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    if (serve_asset(f, rq, resp))
        return true;
    if (strcmp(rq->path, "/api/v1/session") != 0)
        return false;
    if (strcmp(rq->method, "POST") == 0) {
        login(f, fc, rq, resp);
        return true;
    }
    fsession x;
    if (strcmp(rq->method, "GET") == 0) {
        if (find_session(f, rq, &x, false) != 0 || !token_live(f, x.c.id)) {
            mm_http_resp_error(resp, 401, "no console session");
            return true;
        }
        session_json(&x, resp, 200);
        return true;
    }
    if (strcmp(rq->method, "DELETE") == 0) {
        bool bad;
        if (fleet_session_auth(f, rq, true, &fc->caller, &bad) != 0) {
            mm_http_resp_error(resp, bad ? 403 : 401, "%s", mm_error_last());
            return true;
        }
        find_session(f, rq, &x, true);
        mm_http_resp_header(resp, "Set-Cookie", COOKIE "=; Path=/; Max-Age=0; HttpOnly; Secure;"
                                                " SameSite=Strict");
        snprintf(fc->detail, sizeof fc->detail, "console logout");
        json_t *j = json_object();
        json_object_set_new(j, "status", json_string("logged out"));
        mm_http_resp_json(resp, 200, j);
        return true;
    }
    mm_http_resp_error(resp, 405, "%s is not allowed on /api/v1/session", rq->method);
    return true;
}
