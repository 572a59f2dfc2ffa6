/*
 * client.c - the OCI Distribution API v2 client over libcurl: one request
 * path that handles the transport policy (TLS verified, plain HTTP or
 * unverified TLS only for --insecure-registry hosts, each recorded),
 * authentication (basic, or bearer tokens from the WWW-Authenticate
 * challenge, cached per scope - fetched with an OAuth2 refresh token when
 * the credentials are an identity token; credentials from flags, the
 * Docker config or the credential helper it names) and retries (429 and
 * 5xx with Retry-After or exponential backoff, connection resets); on top
 * of it manifests,
 * blobs (whole, or streamed through the blob cache), uploads, catalog and
 * tag listing.
 *
 * Every transfer runs on its own curl multi handle so that a blob can be
 * pulled on demand: the write callback pauses the transfer when a bounded
 * buffer is full and mm_regblob_read() resumes it as the analyzers
 * consume bytes, so a layer is never downloaded whole before scanning
 * starts.  A shared curl handle keeps connections, DNS and TLS sessions
 * across transfers.  A client is used by one thread at a time; an open
 * mm_regblob may be read by another thread while the client is idle.
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

#include "registry/regint.h"
#include "util/http.h"

#define ACCEPT_MANIFESTS                                                       \
    "application/vnd.oci.image.manifest.v1+json, "                            \
    "application/vnd.oci.image.index.v1+json, "                               \
    "application/vnd.docker.distribution.manifest.v2+json, "                  \
    "application/vnd.docker.distribution.manifest.list.v2+json"

#define HIGH_WATER (1u << 20)  /* bytes of a streamed blob buffered ahead */
#define MAX_HOSTS 64
#define MAX_PAGES 100000
#define PAGE_SIZE 100

enum mode { M_UNKNOWN, M_HTTPS, M_HTTPS_NOVERIFY, M_HTTP };

struct host {
    char *name;       /* host[:port] as used in URLs */
    enum mode mode;
    bool confirmed;   /* a response came back in this mode */
    bool insecure;    /* listed in opts.insecure_hosts */
    bool basic;       /* a Basic challenge was seen: send credentials */
    mm_reg_challenge bearer; /* realm/service of the Bearer challenge */
    bool have_bearer;
};

struct mm_registry {
    char *ca_file, *username, *password, *docker_config, *user_agent;
    char *cache_dir; /* NULL = default, "" = off */
    char **insecure;
    size_t ninsecure;
    uint64_t cache_max, max_manifest, max_catalog;
    long timeout_s;
    int retries;
    mm_map *hosts;   /* name -> struct host */
    mm_map *tokens;  /* "host scope" -> token */
    mm_map *creds;   /* registry host -> struct cred */
    mm_registry_transport *tr;
    size_t ntr;
    uint64_t *tr_used; /* per record: tr_clock at its last use */
    uint64_t tr_clock; /* counts uses of hosts in an insecure mode */
    CURLSH *share;
    pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
    mm_blobcache *cache;
    bool cache_tried;
};

/* --- curl plumbing ------------------------------------------------------------ */

static void share_lock(CURL *h, curl_lock_data d, curl_lock_access a, void *ud)
{
    (void)h;
    (void)a;
    mm_registry *c = ud;
    pthread_mutex_lock(&c->locks[d]);
}

static void share_unlock(CURL *h, curl_lock_data d, void *ud)
{
    (void)h;
    mm_registry *c = ud;
    pthread_mutex_unlock(&c->locks[d]);
}

struct xfer {
    mm_registry *c;
    CURL *e;
    CURLM *m;
    struct curl_slist *hdrs;
    char errbuf[CURL_ERROR_SIZE];
    long status;
    char *ctype, *dcd, *location, *link, *retry_after, *range;
    mm_buf www;          /* WWW-Authenticate values, "\n"-separated */
    size_t hdr_total;
    bool hdr_over;
    mm_buf body;
    size_t off;          /* streamed: bytes of body already handed out */
    uint64_t max;
    bool over, stream, ok_started, paused, done, added;
    CURLcode result;
};

static void xfer_reset_headers(struct xfer *x)
{
    free(x->ctype);
    free(x->dcd);
    free(x->location);
    free(x->link);
    free(x->retry_after);
    free(x->range);
    x->ctype = x->dcd = x->location = x->link = x->retry_after = x->range = NULL;
    mm_buf_clear(&x->www);
}

static void xfer_free(struct xfer *x)
{
    if (!x)
        return;
    if (x->m && x->e && x->added)
        curl_multi_remove_handle(x->m, x->e);
    if (x->e)
        curl_easy_cleanup(x->e);
    if (x->m)
        curl_multi_cleanup(x->m);
    curl_slist_free_all(x->hdrs);
    xfer_reset_headers(x);
    mm_buf_free(&x->www);
    mm_buf_free(&x->body);
    free(x);
}

static char *hdr_value(const char *p, size_t n)
{
    while (n && (*p == ' ' || *p == '\t')) {
        p++;
        n--;
    }
    while (n && (p[n - 1] == '\r' || p[n - 1] == '\n' || p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (n > MM_REG_MAX_HEADER)
        n = MM_REG_MAX_HEADER;
    return mm_xstrndup(p, n);
}

static size_t on_header(char *p, size_t sz, size_t nm, void *ud)
{
    struct xfer *x = ud;
    size_t n = sz * nm;
    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        /* a new response (after a redirect or a 100): its headers only */
        xfer_reset_headers(x);
        x->hdr_total = 0;
        const char *sp = memchr(p, ' ', n);
        x->status = sp && sp + 4 <= p + n ? strtol(sp + 1, NULL, 10) : 0;
    }
    x->hdr_total += n;
    if (x->hdr_total > MM_REG_MAX_HEADERS) {
        x->hdr_over = true;
        return 0;
    }
    const char *colon = memchr(p, ':', n);
    if (!colon)
        return n;
    size_t kl = (size_t)(colon - p), vl = n - kl - 1;
    const char *v = colon + 1;
#define IS(name) (kl == sizeof(name) - 1 && strncasecmp(p, name, kl) == 0)
    char **slot = NULL;
    if (IS("content-type"))
        slot = &x->ctype;
    else if (IS("docker-content-digest"))
        slot = &x->dcd;
    else if (IS("location"))
        slot = &x->location;
    else if (IS("link"))
        slot = &x->link;
    else if (IS("retry-after"))
        slot = &x->retry_after;
    else if (IS("content-range"))
        slot = &x->range;
    else if (IS("www-authenticate")) {
        char *s = hdr_value(v, vl);
        if (x->www.len < MM_REG_MAX_HEADER) {
            if (x->www.len)
                mm_buf_addc(&x->www, '\n');
            mm_buf_adds(&x->www, s);
        }
        free(s);
    }
#undef IS
    if (slot) {
        free(*slot);
        *slot = hdr_value(v, vl);
    }
    return n;
}

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
    struct xfer *x = ud;
    size_t n = sz * nm;
    long code = 0;
    curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &code);
    bool ok = code >= 200 && code < 300;
    if (x->stream && ok) {
        if (x->off == x->body.len) {
            x->body.len = 0;
            x->off = 0;
        }
        if (x->body.len - x->off >= HIGH_WATER) {
            x->paused = true;
            return CURL_WRITEFUNC_PAUSE;
        }
        if (x->off > HIGH_WATER) {
            memmove(x->body.data, x->body.data + x->off, x->body.len - x->off);
            x->body.len -= x->off;
            x->off = 0;
        }
        mm_buf_add(&x->body, p, n);
        x->ok_started = true;
        return n;
    }
    uint64_t cap = ok ? x->max : MM_REG_MAX_ERRBODY;
    if (x->body.len + n > cap) {
        if (!ok)
            return n; /* an error body: what was kept is enough */
        x->over = true;
        return 0;
    }
    mm_buf_add(&x->body, p, n);
    return n;
}

/* Runs the transfer until it is done or, when until_data, until body
 * bytes of a successful response are buffered. */
static void xfer_pump(struct xfer *x, bool until_data)
{
    while (!x->done) {
        if (until_data && x->ok_started && x->body.len > x->off)
            return;
        int running = 0;
        CURLMcode mc = curl_multi_perform(x->m, &running);
        int q;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(x->m, &q))) {
            if (msg->msg == CURLMSG_DONE) {
                x->done = true;
                x->result = msg->data.result;
            }
        }
        if (mc != CURLM_OK && !x->done) {
            x->done = true;
            x->result = CURLE_FAILED_INIT;
            snprintf(x->errbuf, sizeof x->errbuf, "%s", curl_multi_strerror(mc));
        }
        if (x->done || (until_data && x->ok_started && x->body.len > x->off))
            return;
        curl_multi_poll(x->m, NULL, 0, 1000, NULL);
    }
}

static const char *xfer_errmsg(const struct xfer *x)
{
    return x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->result);
}

/* --- hosts, credentials, transport records ------------------------------------ */
static bool listed_insecure(const mm_registry *c, const char *name)
{
    for (size_t i = 0; i < c->ninsecure; i++) {
        const char *h = c->insecure[i];
        if (strcasecmp(h, name) == 0)
            return true;
        /* docker.io is reached at registry-1.docker.io */
        if (!strcasecmp(h, "docker.io") && !strcasecmp(name, "registry-1.docker.io"))
            return true;
    }
    return false;
}

static void host_free(void *p)
{
    struct host *h = p;
    if (!h)
        return;
    free(h->name);
    mm_reg_challenge_clear(&h->bearer);
    free(h);
}

static struct host *host_get(mm_registry *c, const char *name)
{
    struct host *h = mm_map_get(c->hosts, name);
    if (h)
        return h;
    h = mm_xcalloc(1, sizeof *h);
    h->name = mm_xstrdup(name);
    h->insecure = listed_insecure(c, name);
    /* hosts come from references and from the registries' redirects and
     * realms: few per run */
    mm_map_put(c->hosts, name, h);
    return h;
}

static void record_transport(mm_registry *c, const char *host, enum mode m)
{
    if (m != M_HTTP && m != M_HTTPS_NOVERIFY)
        return;
    c->tr_clock++;
    for (size_t i = 0; i < c->ntr; i++) {
        if (strcmp(c->tr[i].host, host) == 0) {
            c->tr[i].plain_http |= m == M_HTTP;
            c->tr[i].tls_unverified |= m == M_HTTPS_NOVERIFY;
            c->tr_used[i] = c->tr_clock;
            return;
        }
    }
    if (c->ntr >= MAX_HOSTS)
        return;
    c->tr = mm_xrealloc(c->tr, (c->ntr + 1) * sizeof *c->tr);
    c->tr_used = mm_xrealloc(c->tr_used, (c->ntr + 1) * sizeof *c->tr_used);
    c->tr_used[c->ntr] = c->tr_clock;
    c->tr[c->ntr].host = mm_xstrdup(host);
    c->tr[c->ntr].plain_http = m == M_HTTP;
    c->tr[c->ntr].tls_unverified = m == M_HTTPS_NOVERIFY;
    c->ntr++;
}

static char *docker_config_path(const mm_registry *c, bool *explicit)
{
    *explicit = c->docker_config != NULL;
    if (c->docker_config)
        return mm_xstrdup(c->docker_config);
    const char *d = getenv("DOCKER_CONFIG");
    if (d && *d)
        return mm_xasprintf("%s/config.json", d);
    const char *home = getenv("HOME");
    if (home && *home)
        return mm_xasprintf("%s/.docker/config.json", home);
    return NULL;
}

struct cred {
    char *user, *pass; /* NULL when the config has none for the host */
    bool idtoken;      /* pass is an identity (OAuth2 refresh) token */
};

static void cred_free(void *p)
{
    struct cred *cr = p;
    if (!cr)
        return;
    free(cr->user);
    mm_secret_free(cr->pass);
    free(cr);
}

/* What the Docker config says for host: a credential helper's answer or
 * the auths entry (precedence in parse.c, mm_reg_docker_authcfg).  0 with
 * *u NULL when there is nothing (no file, no entry, helper knows none). */
static int config_creds(mm_registry *c, const char *host, char **u, char **p, bool *idtok)
{
    *u = *p = NULL;
    *idtok = false;
    bool explicit;
    char *path = docker_config_path(c, &explicit);
    char *data = NULL;
    size_t len;
    int rc = path ? mm_file_read(path, 4u << 20, &data, &len) : MM_ENOTFOUND;
    if (rc < 0) {
        if (explicit && path) {
            rc = mm_error_wrap(rc, "registry config: ");
        } else {
            mm_error_clear();
            rc = 0;
        }
        free(path);
        return rc;
    }
    mm_reg_authcfg ac;
    rc = mm_reg_docker_authcfg(&ac, data, len, path, host);
    OPENSSL_cleanse(data, len);
    free(data);
    free(path);
    if (rc == MM_ENOTFOUND) {
        mm_error_clear();
        return 0;
    }
    if (rc < 0)
        return rc;
    if (ac.helper) {
        char *server = mm_reg_helper_server(host);
        rc = mm_reg_credhelper_get(ac.helper, server, ac.source, mm_reg_credhelper_timeout_ms(),
                                   u, p, idtok);
        free(server);
        if (rc == MM_ENOTFOUND) {
            /* the helper has nothing for this registry: anonymous, as
             * docker does */
            mm_error_clear();
            rc = 0;
        }
    } else if (ac.identity_token) {
        *u = ac.user ? mm_xstrdup(ac.user) : mm_xstrdup("<token>");
        *p = ac.identity_token;
        ac.identity_token = NULL;
        *idtok = true;
    } else {
        *u = ac.user;
        *p = ac.pass;
        ac.user = ac.pass = NULL;
    }
    mm_reg_authcfg_clear(&ac);
    return rc;
}

/* Credentials for a registry host: explicit ones, else the Docker config
 * (read, and its helper run, once per host, when a registry first asks).
 * 0 with *user NULL when there are none; *idtoken when *pass is an
 * identity token for the token server rather than a password. */
static int host_creds(mm_registry *c, const char *host, const char **user,
                      const char **pass, bool *idtoken)
{
    *user = *pass = NULL;
    *idtoken = false;
    if (c->username) {
        *user = c->username;
        *pass = c->password ? c->password : "";
        return 0;
    }
    struct cred *cr = mm_map_get(c->creds, host);
    if (!cr) {
        char *u, *p;
        bool it;
        int rc = config_creds(c, host, &u, &p, &it);
        if (rc < 0)
            return rc;
        cr = mm_xcalloc(1, sizeof *cr);
        cr->user = u;
        cr->pass = p;
        cr->idtoken = it;
        mm_map_put(c->creds, host, cr);
    }
    *user = cr->user;
    *pass = cr->pass;
    *idtoken = cr->idtoken;
    return 0;
}

static char *basic_header(const char *user, const char *pass)
{
    char *raw = mm_xasprintf("%s:%s", user, pass);
    size_t rl = strlen(raw);
    char *b64 = mm_xmalloc(4 * ((rl + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)raw, (int)rl);
    char *h = mm_xasprintf("Authorization: Basic %s", b64);
    OPENSSL_cleanse(raw, rl);
    free(raw);
    free(b64);
    return h;
}

/* --- one HTTP exchange ------------------------------------------------------------ */
struct req {
    const char *method;   /* GET HEAD POST PUT */
    const char *host;     /* the registry's API host */
    const char *target;   /* "/v2/..." or an absolute URL */
    const char *scope;    /* token scope; NULL = none needed */
    const char *accept;
    const char *ctype;
    const char *range;    /* "bytes=N-" to resume a blob */
    const void *body;
    size_t blen;
    uint64_t max;         /* body cap of a success */
    bool stream;
    bool no_auth;         /* the token service itself */
    const char *what;     /* for messages */
};

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
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
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

static bool transient(CURLcode r)
{
    return r == CURLE_RECV_ERROR || r == CURLE_SEND_ERROR || r == CURLE_GOT_NOTHING ||
           r == CURLE_PARTIAL_FILE || r == CURLE_OPERATION_TIMEDOUT ||
           r == CURLE_HTTP2 || r == CURLE_HTTP2_STREAM;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

static double backoff(int attempt, const char *retry_after)
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
        int rc = host_creds(c, h->name, &u, &p, &it);
        if (rc < 0)
            return rc;
        if (u && !it)
            *out = basic_header(u, p);
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
static int request(mm_registry *c, const struct req *rq, struct xfer **out)
{
    *out = NULL;
    int attempt = 0, auth_tries = 0;
    bool fresh = false; /* a token was fetched for this very request */
    struct host *reg = host_get(c, rq->host);
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
                h = host_get(c, uh);
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
        xfer_pump(x, rq->stream);
        /* a stream that broke after its first bytes is the reader's to
         * resume */
        if (x->done && x->result != CURLE_OK && !(rq->stream && x->ok_started)) {
            if (x->over) {
                int rc = mm_error_set(MM_ELIMIT, "%s: the answer from %s is larger than the "
                                      "limit of %llu bytes", rq->what, h->name,
                                      (unsigned long long)rq->max);
                xfer_free(x);
                return rc;
            }
            if (x->hdr_over) {
                int rc = mm_error_set(MM_ELIMIT, "%s: %s sent more than %u bytes of headers",
                                      rq->what, h->name, MM_REG_MAX_HEADERS);
                xfer_free(x);
                return rc;
            }
            if (!h->confirmed && h->insecure && h->mode != M_HTTP) {
                /* an --insecure-registry host: unverified TLS when the
                 * certificate is the problem, else plain HTTP */
                h->mode = x->result == CURLE_PEER_FAILED_VERIFICATION && h->mode == M_HTTPS
                              ? M_HTTPS_NOVERIFY : M_HTTP;
                xfer_free(x);
                continue;
            }
            bool tls = x->result == CURLE_PEER_FAILED_VERIFICATION ||
                       x->result == CURLE_SSL_CONNECT_ERROR ||
                       x->result == CURLE_SSL_CERTPROBLEM ||
                       x->result == CURLE_SSL_CACERT_BADFILE;
            if (transient(x->result) && attempt < c->retries) {
                xfer_free(x);
                sleep_s(backoff(attempt++, NULL));
                continue;
            }
            int rc;
            if (tls && !h->insecure)
                rc = mm_error_set(MM_ENET, "%s: no verified HTTPS connection to %s: %s (plain "
                                  "HTTP and unverified TLS are refused: allow this host with "
                                  "--insecure-registry %s; for a private CA give --ca-file)",
                                  rq->what, h->name, xfer_errmsg(x), h->name);
            else
                rc = mm_error_set(MM_ENET, "%s: cannot reach %s: %s", rq->what, h->name,
                                  xfer_errmsg(x));
            xfer_free(x);
            return rc;
        }
        /* every response, not only the first: the findings of one pull
         * through a shared client are those of the hosts it used */
        h->confirmed = true;
        record_transport(c, h->name, h->mode);
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
                xfer_free(x);
                return rc;
            }
            auth_tries++;
            xfer_free(x);
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
                int rc = host_creds(c, reg->name, &u, &p, &it);
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
            double wait = backoff(attempt++, x->retry_after);
            xfer_free(x);
            sleep_s(wait);
            continue;
        }
        if (st >= 200 && st < 300) {
            *out = x;
            return 0;
        }
        int rc = status_error(c, x, rq, h->name);
        xfer_free(x);
        return rc;
    }
}

static char *url_escape(const char *s)
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
    int rc = host_creds(c, h->name, &user, &pass, &idtok);
    if (rc < 0)
        return rc;
    mm_buf u = MM_BUF_INIT, form = MM_BUF_INIT;
    mm_buf_adds(&u, ch->realm);
    if (idtok && user) {
        mm_buf_adds(&form, "grant_type=refresh_token");
        if (ch->service) {
            char *e = url_escape(ch->service);
            mm_buf_printf(&form, "&service=%s", e);
            free(e);
        }
        if (scope && *scope) {
            char *e = url_escape(scope);
            mm_buf_printf(&form, "&scope=%s", e);
            free(e);
        }
        char *e = url_escape(pass);
        mm_buf_printf(&form, "&client_id=mamori&refresh_token=%s", e);
        OPENSSL_cleanse(e, strlen(e));
        free(e);
    } else {
        char sep = strchr(ch->realm, '?') ? '&' : '?';
        if (ch->service) {
            char *e = url_escape(ch->service);
            mm_buf_printf(&u, "%cservice=%s", sep, e);
            free(e);
            sep = '&';
        }
        if (scope && *scope) {
            char *e = url_escape(scope);
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
    /* the token service is another host as far as request() knows, so the
     * basic credentials are given here */
    char *scheme = NULL, *th = NULL;
    if (!url_host(ch->realm, &scheme, &th)) {
        rc = mm_error_set(MM_EAUTH, "%s: the realm is not a usable URL", what);
        goto out;
    }
    struct host *rh = host_get(c, th);
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
        char *auth = user && !form.len ? basic_header(user, pass) : NULL;
        struct xfer *x = xfer_start(c, &rq, u.data, rh->mode, rh->insecure || h->insecure, auth);
        if (auth) {
            OPENSSL_cleanse(auth, strlen(auth));
            free(auth);
        }
        xfer_pump(x, false);
        if (x->result != CURLE_OK) {
            if (!rh->confirmed && rh->insecure && rh->mode == M_HTTPS &&
                x->result == CURLE_PEER_FAILED_VERIFICATION) {
                rh->mode = M_HTTPS_NOVERIFY;
                xfer_free(x);
                continue;
            }
            if (transient(x->result) && attempt < c->retries) {
                xfer_free(x);
                sleep_s(backoff(attempt, NULL));
                continue;
            }
            rc = x->over ? mm_error_set(MM_ELIMIT, "%s: answer over %u bytes", what,
                                        MM_REG_MAX_TOKEN)
                         : mm_error_set(MM_ENET, "%s: %s", what, xfer_errmsg(x));
            xfer_free(x);
            goto out;
        }
        rh->confirmed = true;
        record_transport(c, rh->name, rh->mode);
        if ((x->status == 429 || x->status >= 500) && attempt < c->retries) {
            double w = backoff(attempt, x->retry_after);
            xfer_free(x);
            sleep_s(w);
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
            xfer_free(x);
            goto out;
        }
        if (x->status == 401 || x->status == 403) {
            char *et = mm_reg_error_text(x->body.data, x->body.len);
            rc = mm_error_set(MM_EAUTH, "%s: %s (HTTP %ld)%s%s%s", what,
                              user ? "credentials refused" : "anonymous access refused",
                              x->status, et ? ": " : "", et ? et : "",
                              user ? "" : " (give --username/--password or log in with docker)");
            free(et);
            xfer_free(x);
            goto out;
        }
        if (x->status != 200) {
            rc = status_error(c, x, &rq, rh->name);
            xfer_free(x);
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
        xfer_free(x);
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

/* --- the client ------------------------------------------------------------------- */
void mm_registry_opts_init(mm_registry_opts *o)
{
    memset(o, 0, sizeof *o);
}

int mm_registry_new(mm_registry **out, const mm_registry_opts *opts)
{
    *out = NULL;
    int grc = mm_http_global_init();
    if (grc)
        return grc;
    mm_registry_opts def;
    if (!opts) {
        mm_registry_opts_init(&def);
        opts = &def;
    }
    mm_registry *c = mm_xcalloc(1, sizeof *c);
    c->ca_file = mm_xstrdup(opts->ca_file);
    c->username = mm_xstrdup(opts->username);
    c->password = mm_xstrdup(opts->password);
    c->docker_config = mm_xstrdup(opts->docker_config);
    c->cache_dir = mm_xstrdup(opts->cache_dir);
    c->user_agent = opts->user_agent ? mm_xstrdup(opts->user_agent)
                                     : mm_xstrdup("mamori/" MM_VERSION);
    for (size_t i = 0; i < opts->ninsecure && opts->insecure_hosts; i++)
        if (opts->insecure_hosts[i])
            mm_strv_push(&c->insecure, &c->ninsecure, opts->insecure_hosts[i]);
    c->cache_max = opts->cache_max ? opts->cache_max : 10ull << 30;
    c->max_manifest = opts->max_manifest ? opts->max_manifest : 4ull << 20;
    c->max_catalog = opts->max_catalog ? opts->max_catalog : 100000;
    c->timeout_s = opts->timeout_s > 0 ? opts->timeout_s : 60;
    c->retries = opts->retries > 0 ? opts->retries : opts->retries < 0 ? 0 : 4;
    if (c->ca_file && access(c->ca_file, R_OK) != 0) {
        int rc = mm_error_set(MM_ENOTFOUND, "%s: CA file: %s", c->ca_file, strerror(errno));
        c->hosts = NULL;
        mm_registry_free(c);
        return rc;
    }
    c->hosts = mm_map_new();
    c->tokens = mm_map_new();
    c->creds = mm_map_new();
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&c->locks[i], NULL);
    c->share = curl_share_init();
    if (!c->share) {
        mm_registry_free(c);
        return mm_error_set(MM_ENOMEM, "curl: cannot create a share handle");
    }
    curl_share_setopt(c->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(c->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(c->share, CURLSHOPT_USERDATA, c);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    curl_share_setopt(c->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    *out = c;
    return 0;
}

static void free_str(void *p)
{
    char *s = p;
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void mm_registry_free(mm_registry *c)
{
    if (!c)
        return;
    if (c->share) {
        curl_share_cleanup(c->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&c->locks[i]);
    }
    mm_map_free(c->hosts, host_free);
    mm_map_free(c->tokens, free_str);
    mm_map_free(c->creds, cred_free);
    for (size_t i = 0; i < c->ntr; i++)
        free((char *)c->tr[i].host);
    free(c->tr);
    free(c->tr_used);
    mm_blobcache_free(c->cache);
    free(c->ca_file);
    free(c->username);
    if (c->password)
        free_str(c->password);
    free(c->docker_config);
    free(c->cache_dir);
    free(c->user_agent);
    mm_strv_free(c->insecure, c->ninsecure);
    free(c);
}

size_t mm_registry_transport_count(const mm_registry *c) { return c ? c->ntr : 0; }

const mm_registry_transport *mm_registry_transport_get(const mm_registry *c, size_t i)
{
    return c && i < c->ntr ? &c->tr[i] : NULL;
}

uint64_t mm_registry_transport_mark(const mm_registry *c)
{
    return c ? c->tr_clock : 0;
}

int mm_registry_add_transport_findings(const mm_registry *c, mm_findings *f,
                                       const char *image)
{
    return mm_registry_add_transport_findings_since(c, 0, f, image);
}

int mm_registry_add_transport_findings_since(const mm_registry *c, uint64_t mark,
                                             mm_findings *f, const char *image)
{
    for (size_t i = 0; c && i < c->ntr; i++) {
        const mm_registry_transport *t = &c->tr[i];
        if (c->tr_used[i] <= mark)
            continue;
        for (int k = 0; k < 2; k++) {
            if ((k == 0 && !t->plain_http) || (k == 1 && !t->tls_unverified))
                continue;
            mm_finding x = {0};
            char *title = k == 0
                ? mm_xasprintf("Registry %s was reached over plain HTTP", t->host)
                : mm_xasprintf("Registry %s was reached over TLS without certificate "
                               "verification", t->host);
            char *ev = mm_xasprintf("host=%s transport=%s", t->host,
                                    k == 0 ? "http" : "https-unverified");
            x.id = (char *)(k == 0 ? "MM-REG-001" : "MM-REG-002");
            x.kind = MM_FIND_TRUST;
            x.severity = k == 0 ? MM_SEV_HIGH : MM_SEV_MEDIUM;
            x.title = title;
            x.loc.image = (char *)image;
            x.loc.layer = -1;
            x.loc.host = (char *)t->host;
            x.evidence = ev;
            x.remediation = (char *)(k == 0
                ? "Serve the registry over TLS with a certificate clients verify, and "
                  "remove it from --insecure-registry: images and credentials crossed "
                  "the network unencrypted and could have been read or altered."
                : "Give the registry a certificate that verifies (or pass its CA with "
                  "--ca-file) and remove it from --insecure-registry: without "
                  "verification the connection can be intercepted.");
            x.section = (char *)"3.2.1";
            int rc = mm_findings_add(f, &x);
            free(title);
            free(ev);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

/* --- manifests ------------------------------------------------------------------------ */
static char *what_ref(const mm_imageref *ref, const char *reference)
{
    bool dig = mm_str_startswith(reference, "sha256:");
    return mm_xasprintf("%s/%s%s%s", ref->registry, ref->repository, dig ? "@" : ":",
                        reference);
}

static char *scope_of(const mm_imageref *ref, const char *actions)
{
    return mm_xasprintf("repository:%s:%s", ref->repository, actions);
}

static bool valid_reference(const char *r)
{
    if (mm_str_startswith(r, "sha256:"))
        return mm_digest_valid(r);
    size_t n = strlen(r);
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = r[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

static char *media_type_of(const char *ctype, const char *body, size_t len)
{
    if (ctype && *ctype) {
        size_t n = strcspn(ctype, ";");
        while (n && (ctype[n - 1] == ' ' || ctype[n - 1] == '\t'))
            n--;
        if (n && strncmp(ctype, "application/json", n) != 0 &&
            strncmp(ctype, "text/plain", n) != 0)
            return mm_xstrndup(ctype, n > 256 ? 256 : n);
    }
    json_t *j = json_loadb(body, len, 0, NULL);
    const char *mt = json_string_value(json_object_get(j, "mediaType"));
    char *r = mt && strlen(mt) < 256 ? mm_xstrdup(mt) : NULL;
    json_decref(j);
    return r;
}

int mm_registry_get_manifest(mm_registry *c, const mm_imageref *ref,
                             const char *reference, char **body, size_t *len,
                             char **media_type, char digest[72])
{
    if (!reference)
        reference = ref->digest ? ref->digest : ref->tag ? ref->tag : "latest";
    if (!valid_reference(reference))
        return mm_error_set(MM_EINVAL, "%s/%s: invalid tag or digest \"%.140s\"",
                            ref->registry, ref->repository, reference);
    char *what = what_ref(ref, reference);
    char *path = mm_xasprintf("/v2/%s/manifests/%s", ref->repository, reference);
    char *scope = scope_of(ref, "pull");
    struct req rq = {
        .method = "GET", .host = ref->api_host, .target = path, .scope = scope,
        .accept = ACCEPT_MANIFESTS, .max = c->max_manifest, .what = what,
    };
    struct xfer *x;
    int rc = request(c, &rq, &x);
    if (rc == MM_ENOTFOUND)
        rc = mm_error_wrap(rc, "manifest ");
    if (rc < 0)
        goto out;
    char d[72];
    mm_sha256_hex(x->body.data ? x->body.data : "", x->body.len, d);
    if (mm_str_startswith(reference, "sha256:") && strcmp(d, reference) != 0) {
        rc = mm_error_set(MM_EDIGEST, "%s: manifest digest mismatch: the registry sent "
                          "content with digest %s", what, d);
    } else if (x->dcd && mm_str_startswith(x->dcd, "sha256:") && strcmp(x->dcd, d) != 0) {
        rc = mm_error_set(MM_EDIGEST, "%s: manifest digest mismatch: Docker-Content-Digest "
                          "says %.80s, the content is %s", what, x->dcd, d);
    }
    if (rc == 0) {
        if (media_type)
            *media_type = media_type_of(x->ctype, x->body.data, x->body.len);
        if (digest)
            memcpy(digest, d, 72);
        *len = x->body.len;
        *body = mm_buf_detach(&x->body);
    }
    xfer_free(x);
out:
    free(what);
    free(path);
    free(scope);
    return rc;
}

int mm_registry_resolve(mm_registry *c, const mm_imageref *ref, char digest[72])
{
    const char *reference = ref->digest ? ref->digest : ref->tag ? ref->tag : "latest";
    if (ref->digest) {
        /* a digest names itself; still ask that the manifest exists */
    }
    if (!valid_reference(reference))
        return mm_error_set(MM_EINVAL, "%s/%s: invalid tag or digest \"%.140s\"",
                            ref->registry, ref->repository, reference);
    char *what = what_ref(ref, reference);
    char *path = mm_xasprintf("/v2/%s/manifests/%s", ref->repository, reference);
    char *scope = scope_of(ref, "pull");
    struct req rq = {
        .method = "HEAD", .host = ref->api_host, .target = path, .scope = scope,
        .accept = ACCEPT_MANIFESTS, .max = 1, .what = what,
    };
    struct xfer *x;
    int rc = request(c, &rq, &x);
    bool have = false;
    if (rc == 0) {
        if (x->dcd && mm_digest_valid(x->dcd)) {
            if (ref->digest && strcmp(ref->digest, x->dcd) != 0)
                rc = mm_error_set(MM_EDIGEST, "%s: the registry names digest %s", what, x->dcd);
            memcpy(digest, x->dcd, 72);
            have = true;
        }
        xfer_free(x);
    } else if (rc == MM_ENOTFOUND) {
        rc = mm_error_wrap(rc, "manifest ");
    }
    free(what);
    free(path);
    free(scope);
    if (rc < 0 || have)
        return rc;
    char *body, *mt = NULL;
    size_t len;
    rc = mm_registry_get_manifest(c, ref, reference, &body, &len, &mt, digest);
    if (rc == 0) {
        free(body);
        free(mt);
    }
    return rc;
}

/* --- blobs ------------------------------------------------------------------------------ */
int mm_registry_get_blob(mm_registry *c, const mm_imageref *ref, const char *digest,
                         uint64_t max, char **data, size_t *len)
{
    if (!mm_digest_valid(digest))
        return mm_error_set(MM_EINVAL, "%s/%s: blob digest \"%.80s\" is not sha256:<hex>",
                            ref->registry, ref->repository, digest);
    char *what = mm_xasprintf("%s/%s@%s (blob)", ref->registry, ref->repository, digest);
    char *path = mm_xasprintf("/v2/%s/blobs/%s", ref->repository, digest);
    char *scope = scope_of(ref, "pull");
    struct req rq = {
        .method = "GET", .host = ref->api_host, .target = path, .scope = scope,
        .max = max ? max : 1, .what = what,
    };
    struct xfer *x;
    int rc = request(c, &rq, &x);
    if (rc == 0) {
        char d[72];
        mm_sha256_hex(x->body.data ? x->body.data : "", x->body.len, d);
        if (strcmp(d, digest) != 0) {
            rc = mm_error_set(MM_EDIGEST, "%s: digest mismatch: the content is %s", what, d);
        } else {
            *len = x->body.len;
            *data = mm_buf_detach(&x->body);
        }
        xfer_free(x);
    }
    free(what);
    free(path);
    free(scope);
    return rc;
}

struct mm_regblob {
    mm_registry *c;
    mm_imageref *ref;
    char *what;
    char digest[72];
    uint64_t size, done;
    int fd;            /* served from the cache */
    struct xfer *x;    /* or streamed */
    int attempts;
    mm_sha256 *sha;
    int cfd;           /* write-through into the cache */
    char *tmp;
    bool finished;
    int err;
};

static void regblob_drop_cache(mm_regblob *b)
{
    if (b->cfd >= 0)
        close(b->cfd);
    b->cfd = -1;
    if (b->tmp) {
        unlink(b->tmp);
        free(b->tmp);
        b->tmp = NULL;
    }
}

static mm_blobcache *client_cache(mm_registry *c)
{
    if (c->cache_tried)
        return c->cache;
    c->cache_tried = true;
    if (c->cache_dir && !*c->cache_dir)
        return NULL;
    char *dir = c->cache_dir ? mm_xstrdup(c->cache_dir) : mm_blobcache_default_dir();
    /* a cache that cannot be made only costs speed */
    if (dir && mm_blobcache_open(&c->cache, dir, c->cache_max) < 0)
        mm_error_clear();
    free(dir);
    return c->cache;
}

static int regblob_start(mm_regblob *b)
{
    char *path = mm_xasprintf("/v2/%s/blobs/%s", b->ref->repository, b->digest);
    char *scope = scope_of(b->ref, "pull");
    char range[64];
    snprintf(range, sizeof range, "bytes=%llu-", (unsigned long long)b->done);
    struct req rq = {
        .method = "GET", .host = b->ref->api_host, .target = path, .scope = scope,
        .max = UINT64_MAX, .stream = true, .what = b->what,
        .range = b->done ? range : NULL,
    };
    int rc = request(b->c, &rq, &b->x);
    free(path);
    free(scope);
    if (rc == 0 && b->done) {
        /* a resume must continue where we stopped */
        unsigned long long from = 0;
        if (b->x->status != 206 || !b->x->range ||
            sscanf(b->x->range, "bytes %llu-", &from) != 1 || from != b->done) {
            xfer_free(b->x);
            b->x = NULL;
            rc = mm_error_set(MM_ENET, "%s: the connection broke after %llu bytes and the "
                              "registry cannot resume", b->what,
                              (unsigned long long)b->done);
        }
    }
    return rc;
}

int mm_registry_open_blob(mm_regblob **out, mm_registry *c, const mm_imageref *ref,
                          const char *digest, uint64_t size)
{
    *out = NULL;
    if (!mm_digest_valid(digest))
        return mm_error_set(MM_EINVAL, "%s/%s: blob digest \"%.80s\" is not sha256:<hex>",
                            ref->registry, ref->repository, digest);
    mm_regblob *b = mm_xcalloc(1, sizeof *b);
    b->c = c;
    b->fd = b->cfd = -1;
    memcpy(b->digest, digest, 72);
    b->size = size;
    b->what = mm_xasprintf("%s/%s@%s", ref->registry, ref->repository, digest);
    b->sha = mm_sha256_new();
    mm_blobcache *bc = client_cache(c);
    uint64_t csize;
    if (bc && (b->fd = mm_blobcache_lookup(bc, digest, &csize)) >= 0) {
        if (size == UINT64_MAX || csize == size) {
            *out = b;
            return 0;
        }
        close(b->fd);
        b->fd = -1;
    }
    /* copy the reference: the caller's may go before the stream ends */
    b->ref = mm_xcalloc(1, sizeof *b->ref);
    b->ref->registry = mm_xstrdup(ref->registry);
    b->ref->api_host = mm_xstrdup(ref->api_host);
    b->ref->repository = mm_xstrdup(ref->repository);
    int rc = regblob_start(b);
    if (rc < 0) {
        mm_regblob_free(b);
        return rc;
    }
    if (bc) {
        int fd = mm_blobcache_begin(bc, &b->tmp);
        if (fd >= 0)
            b->cfd = fd;
        else
            mm_error_clear();
    }
    *out = b;
    return 0;
}

static ssize_t regblob_finish(mm_regblob *b)
{
    b->finished = true;
    char d[72];
    mm_sha256_final(b->sha, d);
    if (b->size != UINT64_MAX && b->done != b->size) {
        regblob_drop_cache(b);
        return b->err = mm_error_set(MM_EFORMAT, "%s: blob is %llu bytes, the manifest says "
                                     "%llu", b->what, (unsigned long long)b->done,
                                     (unsigned long long)b->size);
    }
    if (strcmp(d, b->digest) != 0) {
        regblob_drop_cache(b);
        if (b->fd >= 0 && b->c->cache) /* damaged: the next pull refetches */
            mm_blobcache_remove(b->c->cache, b->digest);
        return b->err = mm_error_set(MM_EDIGEST, "%s: digest mismatch: the content is %s",
                                     b->what, d);
    }
    if (b->cfd >= 0) {
        close(b->cfd);
        b->cfd = -1;
        if (mm_blobcache_commit(b->c->cache, b->tmp, b->digest) < 0)
            mm_error_clear();
        free(b->tmp);
        b->tmp = NULL;
    }
    return 0;
}

ssize_t mm_regblob_read(mm_regblob *b, void *buf, size_t n)
{
    if (b->err)
        return b->err;
    if (b->finished || n == 0)
        return 0;
    ssize_t got;
    if (b->fd >= 0) {
        do
            got = read(b->fd, buf, n);
        while (got < 0 && errno == EINTR);
        if (got < 0)
            return b->err = mm_error_set(MM_EIO, "%s (cached): %s", b->what, strerror(errno));
        if (got == 0)
            return regblob_finish(b);
    } else {
        struct xfer *x = b->x;
        while (x->off == x->body.len) {
            if (x->paused) {
                x->paused = false;
                x->body.len = x->off = 0;
                curl_easy_pause(x->e, CURLPAUSE_CONT);
                continue;
            }
            if (x->done) {
                if (x->result == CURLE_OK)
                    return regblob_finish(b);
                /* a broken connection: resume with a Range request */
                if (transient(x->result) && b->attempts < b->c->retries) {
                    b->attempts++;
                    xfer_free(b->x);
                    b->x = NULL;
                    sleep_s(backoff(b->attempts - 1, NULL));
                    int rc = regblob_start(b);
                    if (rc < 0)
                        return b->err = rc;
                    x = b->x;
                    continue;
                }
                return b->err = mm_error_set(MM_ENET, "%s: transfer failed after %llu bytes: "
                                             "%s", b->what, (unsigned long long)b->done,
                                             xfer_errmsg(x));
            }
            xfer_pump(x, true);
        }
        size_t avail = x->body.len - x->off;
        got = (ssize_t)(avail < n ? avail : n);
        if (!x->done && !x->paused && avail < HIGH_WATER / 2) {
            /* keep the socket drained while the caller works: read what
             * has arrived without waiting (the buffer may move) */
            int running;
            curl_multi_perform(x->m, &running);
            int q;
            CURLMsg *msg;
            while ((msg = curl_multi_info_read(x->m, &q)))
                if (msg->msg == CURLMSG_DONE) {
                    x->done = true;
                    x->result = msg->data.result;
                }
        }
        memcpy(buf, x->body.data + x->off, (size_t)got);
        x->off += (size_t)got;
    }
    b->done += (uint64_t)got;
    if (b->size != UINT64_MAX && b->done > b->size) {
        regblob_drop_cache(b);
        return b->err = mm_error_set(MM_EFORMAT, "%s: blob is larger than the %llu bytes the "
                                     "manifest says", b->what, (unsigned long long)b->size);
    }
    mm_sha256_update(b->sha, buf, (size_t)got);
    if (b->cfd >= 0) {
        const char *p = buf;
        size_t left = (size_t)got;
        while (left) {
            ssize_t w = write(b->cfd, p, left);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0) {
                regblob_drop_cache(b); /* a full disk costs the cache, not the scan */
                break;
            }
            p += w;
            left -= (size_t)w;
        }
    }
    return got;
}

void mm_regblob_free(mm_regblob *b)
{
    if (!b)
        return;
    regblob_drop_cache(b);
    if (b->fd >= 0)
        close(b->fd);
    xfer_free(b->x);
    mm_imageref_free(b->ref);
    mm_sha256_free(b->sha);
    free(b->what);
    free(b);
}

/* --- uploads --------------------------------------------------------------------------- */
int mm_registry_put_blob(mm_registry *c, const mm_imageref *ref, const void *data,
                         size_t len, char digest[72])
{
    mm_sha256_hex(data, len, digest);
    char *what = mm_xasprintf("%s/%s@%s (upload)", ref->registry, ref->repository, digest);
    char *scope = scope_of(ref, "pull,push");
    char *path = mm_xasprintf("/v2/%s/blobs/%s", ref->repository, digest);
    struct req head = {
        .method = "HEAD", .host = ref->api_host, .target = path, .scope = scope, .max = 1,
        .what = what,
    };
    struct xfer *x = NULL;
    int rc = request(c, &head, &x);
    if (rc == 0) {
        xfer_free(x);
        goto out; /* already there */
    }
    if (rc != MM_ENOTFOUND)
        goto out;
    mm_error_clear();
    free(path);
    path = mm_xasprintf("/v2/%s/blobs/uploads/", ref->repository);
    struct req post = {
        .method = "POST", .host = ref->api_host, .target = path, .scope = scope,
        .max = 65536, .what = what, .body = "", .blen = 0,
    };
    rc = request(c, &post, &x);
    if (rc < 0)
        goto out;
    if (!x->location || !*x->location) {
        rc = mm_error_set(MM_EFORMAT, "%s: the registry answered the upload request without "
                          "a Location", what);
        xfer_free(x);
        goto out;
    }
    char *loc = mm_xstrdup(x->location);
    xfer_free(x);
    char *dq = url_escape(digest);
    char *target;
    /* Location may be relative and may already carry a query (state) */
    if (loc[0] == '/' || mm_str_startswith(loc, "http://") || mm_str_startswith(loc, "https://"))
        target = mm_xasprintf("%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', dq);
    else
        target = mm_xasprintf("/v2/%s/blobs/uploads/%s%cdigest=%s", ref->repository, loc,
                              strchr(loc, '?') ? '&' : '?', dq);
    free(dq);
    free(loc);
    struct req put = {
        .method = "PUT", .host = ref->api_host, .target = target, .scope = scope,
        .ctype = "application/octet-stream", .body = data, .blen = len, .max = 65536,
        .what = what,
    };
    rc = request(c, &put, &x);
    free(target);
    if (rc == 0) {
        if (x->status != 201 && x->status != 204 && x->status != 200)
            rc = mm_error_set(MM_ENET, "%s: upload answered HTTP %ld", what, x->status);
        xfer_free(x);
    }
out:
    free(what);
    free(scope);
    free(path);
    return rc;
}

int mm_registry_put_manifest(mm_registry *c, const mm_imageref *ref, const char *tag,
                             const char *media_type, const void *body, size_t len)
{
    if (!tag || !valid_reference(tag))
        return mm_error_set(MM_EINVAL, "%s/%s: invalid tag \"%.140s\"", ref->registry,
                            ref->repository, tag ? tag : "");
    if (len > c->max_manifest)
        return mm_error_set(MM_ELIMIT, "%s/%s:%s: manifest of %zu bytes is over the limit",
                            ref->registry, ref->repository, tag, len);
    char *what = what_ref(ref, tag);
    char *path = mm_xasprintf("/v2/%s/manifests/%s", ref->repository, tag);
    char *scope = scope_of(ref, "pull,push");
    struct req rq = {
        .method = "PUT", .host = ref->api_host, .target = path, .scope = scope,
        .ctype = media_type ? media_type : "application/vnd.oci.image.manifest.v1+json",
        .body = body, .blen = len, .max = 65536, .what = what,
    };
    struct xfer *x;
    int rc = request(c, &rq, &x);
    if (rc == 0)
        xfer_free(x);
    else
        rc = mm_error_wrap(rc, "manifest upload: ");
    free(what);
    free(path);
    free(scope);
    return rc;
}

/* --- listing --------------------------------------------------------------------------- */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* GETs first and every rel="next" page, adding the strings of array key. */
static int list_pages(mm_registry *c, const char *host, const char *first,
                      const char *scope, const char *key, const char *what,
                      char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    char *target = mm_xstrdup(first);
    char *prev = NULL;
    int rc = 0;
    for (size_t page = 0; target; page++) {
        if (page >= MAX_PAGES) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %d pages", what, MAX_PAGES);
            break;
        }
        struct req rq = {
            .method = "GET", .host = host, .target = target, .scope = scope,
            .accept = "application/json", .max = 16u << 20, .what = what,
        };
        struct xfer *x;
        rc = request(c, &rq, &x);
        if (rc < 0)
            break;
        json_error_t err;
        json_t *j = json_loadb(x->body.data ? x->body.data : "", x->body.len, 0, &err);
        json_t *arr = json_object_get(j, key);
        if (!json_is_object(j) || (!json_is_array(arr) && !json_is_null(arr) && arr)) {
            rc = mm_error_set(MM_EFORMAT, "%s: page %zu: expected a JSON object with an "
                              "array \"%s\"%s%s", what, page + 1, key, j ? "" : ": ",
                              j ? "" : err.text);
            json_decref(j);
            xfer_free(x);
            break;
        }
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
            const char *s = json_string_value(v);
            if (!s || strlen(s) > 256)
                continue;
            if (*n >= c->max_catalog) {
                rc = mm_error_set(MM_ELIMIT, "%s: more than %llu entries", what,
                                  (unsigned long long)c->max_catalog);
                break;
            }
            mm_strv_push(out, n, s);
        }
        json_decref(j);
        char *next = x->link ? mm_reg_link_next(x->link, strlen(x->link)) : NULL;
        xfer_free(x);
        free(prev);
        prev = target;
        target = NULL;
        if (rc < 0) {
            free(next);
            break;
        }
        if (next) {
            if (strcmp(next, prev) == 0) {
                rc = mm_error_set(MM_EFORMAT, "%s: the next page link points at the same page",
                                  what);
                free(next);
                break;
            }
            if (next[0] != '/' && !mm_str_startswith(next, "http://") &&
                !mm_str_startswith(next, "https://")) {
                rc = mm_error_set(MM_EFORMAT, "%s: unusable next page link \"%.100s\"", what,
                                  next);
                free(next);
                break;
            }
            target = next;
        }
    }
    free(prev);
    free(target);
    if (rc < 0) {
        mm_strv_free(*out, *n);
        *out = NULL;
        *n = 0;
        return rc;
    }
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_str);
    return 0;
}

int mm_registry_catalog(mm_registry *c, const char *host, char ***repos, size_t *n)
{
    /* "docker.io" is reached at registry-1.docker.io; a reference parse
     * validates and normalises the host */
    char *probe = mm_xasprintf("%s/x", host);
    mm_imageref *r;
    int rc = mm_imageref_parse(&r, probe);
    free(probe);
    if (rc < 0 || strcmp(r->registry, host) != 0) {
        if (rc == 0)
            mm_imageref_free(r);
        return mm_error_set(MM_EINVAL, "\"%.200s\" is not a registry host[:port]", host);
    }
    char *what = mm_xasprintf("%s catalog", host);
    char *first = mm_xasprintf("/v2/_catalog?n=%d", PAGE_SIZE);
    rc = list_pages(c, r->api_host, first, "registry:catalog:*", "repositories", what, repos, n);
    free(first);
    free(what);
    mm_imageref_free(r);
    return rc;
}

int mm_registry_tags(mm_registry *c, const mm_imageref *repo, char ***tags, size_t *n)
{
    char *what = mm_xasprintf("%s/%s tags", repo->registry, repo->repository);
    char *first = mm_xasprintf("/v2/%s/tags/list?n=%d", repo->repository, PAGE_SIZE);
    char *scope = scope_of(repo, "pull");
    int rc = list_pages(c, repo->api_host, first, scope, "tags", what, tags, n);
    free(first);
    free(what);
    free(scope);
    return rc;
}
