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
 *
 * This file holds the client, its hosts, credentials and transfers; one
 * HTTP exchange is in client_http.c, the calls on top of it in
 * client_api.c, and what they share in client_int.h.
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

void mm_reg_xfer_free(struct xfer *x)
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

size_t mm_reg_on_header(char *p, size_t sz, size_t nm, void *ud)
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

size_t mm_reg_on_write(char *p, size_t sz, size_t nm, void *ud)
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
void mm_reg_xfer_pump(struct xfer *x, bool until_data)
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

const char *mm_reg_xfer_errmsg(const struct xfer *x)
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

struct host *mm_reg_host_get(mm_registry *c, const char *name)
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

void mm_reg_record_transport(mm_registry *c, const char *host, enum mode m)
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
int mm_reg_host_creds(mm_registry *c, const char *host, const char **user,
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

char *mm_reg_basic_header(const char *user, const char *pass)
{
    char *raw = mm_xasprintf("%s:%s", user, pass);
    size_t rl = strlen(raw);
    char *b64 = mm_base64_encode(raw, rl);
    char *h = mm_xasprintf("Authorization: Basic %s", b64);
    OPENSSL_cleanse(raw, rl);
    OPENSSL_cleanse(b64, strlen(b64));   /* the credentials, merely encoded */
    free(raw);
    free(b64);
    return h;
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
