/*
 * vuln/update.c - `mamori db update`: download the feeds of the sources
 * file and rebuild the vulnerability database from them, atomically.
 *
 * Two phases, so that a failure never leaves a half-new database:
 *  1. every selected source is downloaded into a private temp folder
 *     (libcurl, TLS verified; plain http only to loopback or when allowed),
 *     with a conditional request (the ETag and Last-Modified stored for the
 *     source: a 304 keeps its rows), a size cap enforced both on the
 *     announced Content-Length and on the bytes received, retries with
 *     exponential backoff on 5xx/429/network errors (Retry-After honoured,
 *     capped), and content checks (sha256 when the source publishes one, the
 *     format the kind promises);
 *  2. one build: a copy of the existing database, the changed sources'
 *     rows replaced by their new feeds, the per-source row (URL, ETag,
 *     Last-Modified, count, time) recorded, then a rename over the old file.
 *
 * Length: the two phases of one update share the per-source state (ETag,
 * temp files, counts) from download to the final rename; the format checks
 * and URL policy are its sections.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mamori/vulnupdate.h"
#include "util/http.h"
#include "util/util.h"
#include "vuln/vuln_int.h"

#define MAX_HEADER_VALUE 1024
#define MAX_DIGEST_FILE (64u << 10)
#define SNIFF_LEN 4096

void mm_update_opts_init(mm_update_opts *o)
{
    memset(o, 0, sizeof *o);
    o->retries = 3;
    o->backoff = 1.0;
    o->max_retry_wait = 60.0;
    o->connect_timeout = 30;
    o->stall_timeout = 60;
}

void mm_update_report_free(mm_update_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].name);
        free(r->v[i].url);
        free(r->v[i].error);
    }
    free(r->v);
    free(r);
}

static void note(const mm_update_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(const mm_update_opts *o, const char *fmt, ...)
{
    if (!o->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    o->note(o->ud, m);
    free(m);
}

/* --- URL policy ---------------------------------------------------------- */

/* Plain http is refused unless it stays on this machine: a feed fetched in
 * clear from the network can be swapped by anyone on the path, and the
 * database decides what a scan reports. */
static bool host_is_loopback(const char *url)
{
    CURLU *u = curl_url();
    char *host = NULL;
    bool lo = false;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host) {
        lo = !strcasecmp(host, "localhost") || !strcmp(host, "[::1]") ||
             !strcmp(host, "::1") || !strncmp(host, "127.", 4);
        if (lo && !strncmp(host, "127.", 4)) {
            /* 127.a.b.c with digits and dots only */
            for (const char *p = host; *p; p++)
                if (!(*p == '.' || (*p >= '0' && *p <= '9')))
                    lo = false;
        }
    }
    curl_free(host);
    curl_url_cleanup(u);
    return lo;
}

static int check_url(const mm_vuln_source *s, const char *url,
                     const mm_update_opts *o)
{
    if (!strncmp(url, "https://", 8))
        return 0;
    if (!strncmp(url, "http://", 7) && (o->allow_insecure || host_is_loopback(url)))
        return 0;
    if (!strncmp(url, "http://", 7))
        return mm_error_set(MM_EUNSAFE, "source %s: %s: plain http to a host "
                            "other than this machine is refused (use https, or "
                            "--allow-insecure)", s->name, url);
    return mm_error_set(MM_EINVAL, "source %s: %s: not an http(s) URL",
                        s->name, url);
}

/* --- one transfer --------------------------------------------------------- */

typedef struct xfer {
    const mm_vuln_source *src;
    const mm_update_opts *o;
    CURL *curl;
    FILE *f;                 /* body goes here */
    uint64_t max, bytes;
    bool too_big;
    mm_sha256 *h;
    unsigned char head[SNIFF_LEN];
    size_t headlen;
    /* of the last response (headers of redirects and 1xx are reset) */
    char *etag, *last_modified;
    double retry_after;      /* -1: none */
} xfer;

static void xfer_reset(xfer *x)
{
    x->bytes = 0;
    x->too_big = false;
    x->headlen = 0;
    free(x->etag);
    free(x->last_modified);
    x->etag = x->last_modified = NULL;
    x->retry_after = -1;
    if (x->h)
        mm_sha256_free(x->h);
    x->h = mm_sha256_new();
}

static void xfer_done(xfer *x)
{
    free(x->etag);
    free(x->last_modified);
    if (x->h)
        mm_sha256_free(x->h);
    x->etag = x->last_modified = NULL;
    x->h = NULL;
}

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = sz * n;
    if (x->bytes + len > x->max) {
        x->too_big = true;
        return 0;            /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (x->headlen < SNIFF_LEN) {
        size_t k = SNIFF_LEN - x->headlen < len ? SNIFF_LEN - x->headlen : len;
        memcpy(x->head + x->headlen, p, k);
        x->headlen += k;
    }
    if (len && fwrite(p, 1, len, x->f) != len)
        return 0;
    mm_sha256_update(x->h, p, len);
    x->bytes += len;
    return len;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    xfer *x = ud;
    size_t len = sz * n;
    if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
        /* a new response (after a redirect or a 100): forget the last */
        free(x->etag);
        free(x->last_modified);
        x->etag = x->last_modified = NULL;
        x->retry_after = -1;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon)
        return len;
    size_t klen = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' ||
                       end[-1] == '\t'))
        end--;
    size_t vlen = (size_t)(end - v);
    if (vlen == 0 || vlen > MAX_HEADER_VALUE || memchr(v, 0, vlen))
        return len;          /* absurd values are ignored, not stored */
    if (klen == 4 && !strncasecmp(p, "etag", 4)) {
        free(x->etag);
        x->etag = mm_xstrndup(v, vlen);
    } else if (klen == 13 && !strncasecmp(p, "last-modified", 13)) {
        free(x->last_modified);
        x->last_modified = mm_xstrndup(v, vlen);
    } else if (klen == 11 && !strncasecmp(p, "retry-after", 11)) {
        char *t = mm_xstrndup(v, vlen);
        x->retry_after = (double)mm_http_retry_after(t, time(NULL), 86400);
        free(t);
    }
    return len;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ultotal; (void)ulnow;
    xfer *x = ud;
    if (x->o->progress)
        x->o->progress(x->o->ud, x->src->name, (uint64_t)(dlnow > 0 ? dlnow : 0),
                       (uint64_t)(dltotal > 0 ? dltotal : 0));
    return 0;
}

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static bool curl_transient(CURLcode c)
{
    switch (c) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return true;
    default:
        return false;
    }
}

enum fetch_result { FETCH_OK, FETCH_NOT_MODIFIED };

/* Downloads url into path (truncated on every attempt).  cond_etag and
 * cond_lm, when not NULL, make the request conditional.  On success the
 * response's ETag/Last-Modified stay in x. */
static int fetch(xfer *x, const char *url, const char *path,
                 const char *cond_etag, const char *cond_lm, unsigned *attempts,
                 enum fetch_result *res)
{
    const mm_update_opts *o = x->o;
    const mm_vuln_source *s = x->src;
    int rc = check_url(s, url, o);
    if (rc)
        return rc;
    CURL *c = x->curl;
    curl_easy_reset(c);
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *hdrs = NULL;
    if (cond_etag) {
        char *h = mm_xasprintf("If-None-Match: %s", cond_etag);
        hdrs = curl_slist_append(hdrs, h);
        free(h);
    }
    if (cond_lm) {
        char *h = mm_xasprintf("If-Modified-Since: %s", cond_lm);
        hdrs = curl_slist_append(hdrs, h);
        free(h);
    }
    /* a redirect may not downgrade https to http, nor leave loopback */
    bool insecure_ok = o->allow_insecure;
    mm_http_opts ho = {
        .connect_timeout_s = o->connect_timeout,
        .stall_timeout_s = o->stall_timeout,
        .total_timeout_s = o->total_timeout,
        /* the announced length is checked before a byte is written */
        .max_body = x->max,
        .follow = true,
        .redirect_https_only = !insecure_ok && strncmp(url, "http://", 7),
    };
    mm_http_setup(c, url, &ho, errbuf);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");   /* gzip on the wire */
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);

    for (unsigned attempt = 0;; attempt++) {
        xfer_reset(x);
        errbuf[0] = 0;
        x->f = fopen(path, "wb");
        if (!x->f) {
            rc = mm_error_set(MM_EIO, "%s: %s", path, strerror(errno));
            break;
        }
        (*attempts)++;
        CURLcode cc = curl_easy_perform(c);
        bool wr_ok = fclose(x->f) == 0;
        x->f = NULL;
        long code = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
        bool retry = false;
        char why[CURL_ERROR_SIZE + 64];
        if (x->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
            rc = mm_error_set(MM_ELIMIT, "source %s: %s: larger than its "
                              "max_size of %llu bytes", s->name, url,
                              (unsigned long long)x->max);
            break;
        }
        if (cc != CURLE_OK) {
            snprintf(why, sizeof why, "%s", errbuf[0] ? errbuf
                     : curl_easy_strerror(cc));
            retry = curl_transient(cc);
        } else if (!wr_ok) {
            rc = mm_error_set(MM_EIO, "%s: write failed: %s", path,
                              strerror(errno));
            break;
        } else if (code == 200) {
            /* the final URL after redirects must satisfy the same policy */
            char *eff = NULL;
            curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff);
            if (eff && strcmp(eff, url) && (rc = check_url(s, eff, o)))
                break;
            *res = FETCH_OK;
            rc = 0;
            break;
        } else if (code == 304 && (cond_etag || cond_lm)) {
            *res = FETCH_NOT_MODIFIED;
            rc = 0;
            break;
        } else {
            snprintf(why, sizeof why, "HTTP status %ld", code);
            retry = code == 429 || code >= 500;
        }
        if (!retry || attempt >= o->retries) {
            rc = mm_error_set(MM_EIO, "source %s: %s: %s%s", s->name, url, why,
                              attempt ? " (after retries)" : "");
            break;
        }
        double wait = x->retry_after >= 0 ? x->retry_after
                                          : o->backoff * (double)(1u << (attempt < 16 ? attempt : 16));
        double cap = o->max_retry_wait > 0 ? o->max_retry_wait : 60;
        if (wait > cap)
            wait = cap;
        note(o, "%s: %s, retrying in %.0f s (%u of %u)", s->name, why, wait,
             attempt + 1, o->retries);
        sleep_s(wait);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hdrs);
    return rc;
}

/* --- content checks -------------------------------------------------------- */

static const char *first_nonblank(const unsigned char *p, size_t n)
{
    size_t i = 0;
    if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
        i = 3;                /* UTF-8 byte order mark */
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
            return (const char *)p + i;
    return NULL;
}

/* The kind promises a format; a mirror serving an HTML error page with
 * status 200, or the wrong file, is caught here with a clear message rather
 * than deep inside the importer.  Returns the file extension the importer
 * recognises the format by. */
static int sniff(const xfer *x, const char *url, const char **ext)
{
    const mm_vuln_source *s = x->src;
    const unsigned char *h = x->head;
    size_t n = x->headlen;
    bool zip = n >= 4 && h[0] == 'P' && h[1] == 'K' &&
               ((h[2] == 3 && h[3] == 4) || (h[2] == 5 && h[3] == 6));
    bool gz = n >= 2 && h[0] == 0x1f && h[1] == 0x8b;
    const char *c = first_nonblank(h, n);
    bool json = c && (*c == '{' || *c == '[');
    bool html = c && *c == '<';
    bool binary = memchr(h, 0, n) != NULL;
    const char *want = NULL;
    switch (s->kind) {
    case MM_SRC_OSV_ZIP:
        if (zip) { *ext = ".zip"; return 0; }
        want = "a zip archive";
        break;
    case MM_SRC_DEBIAN_TRACKER:
        if (c && *c == '{') { *ext = ".json"; return 0; }
        want = "a JSON object";
        break;
    case MM_SRC_ALPINE_SECDB:
    case MM_SRC_OSV:
        if (json) { *ext = ".json"; return 0; }
        if (c && !zip && !gz && !html && !binary) { *ext = ".yaml"; return 0; }
        want = "JSON or YAML";
        break;
    }
    return mm_error_set(MM_EFORMAT, "source %s: %s: the content is %s, not %s "
                        "as kind %s promises", s->name, url,
                        n == 0 ? "empty" : zip ? "a zip archive" : gz ? "gzip data"
                        : html ? "an HTML page" : binary ? "binary data"
                        : "text of another format", want,
                        mm_source_kind_name(s->kind));
}

/* The digest of file from a published digest file: "HEX", "HEX  name" or
 * "HEX *name" lines (sha256sum's format).  With several lines, the one
 * naming the basename of the feed URL. */
static char *digest_from(const char *text, size_t len, const char *feed_url)
{
    const char *base = strrchr(feed_url, '/');
    base = base ? base + 1 : feed_url;
    size_t blen = strcspn(base, "?#");
    mm_lines it;
    mm_lines_init(&it, text, len);
    const char *line;
    size_t ll;
    char *only = NULL, *named = NULL;
    int nhex = 0;
    while (mm_lines_next(&it, &line, &ll)) {
        size_t i = 0;
        while (i < ll && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (ll - i < 64)
            continue;
        size_t j;
        for (j = 0; j < 64; j++) {
            char ch = line[i + j];
            if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                  (ch >= 'A' && ch <= 'F')))
                break;
        }
        if (j < 64 || (i + 64 < ll && line[i + 64] != ' ' && line[i + 64] != '\t'))
            continue;
        nhex++;
        char hex[65];
        for (j = 0; j < 64; j++) {
            char ch = line[i + j];
            hex[j] = (ch >= 'A' && ch <= 'F') ? (char)(ch - 'A' + 'a') : ch;
        }
        hex[64] = 0;
        const char *rest = line + i + 64, *rend = line + ll;
        while (rest < rend && (*rest == ' ' || *rest == '\t' || *rest == '*'))
            rest++;
        while (rend > rest && (rend[-1] == ' ' || rend[-1] == '\t'))
            rend--;
        const char *rb = rest;
        for (const char *q = rest; q < rend; q++)
            if (*q == '/')
                rb = q + 1;
        if (blen && (size_t)(rend - rb) == blen && !memcmp(rb, base, blen)) {
            free(named);
            named = mm_xstrdup(hex);
        }
        if (!only)
            only = mm_xstrdup(hex);
    }
    if (named) {
        free(only);
        return named;
    }
    if (nhex == 1)
        return only;
    free(only);
    return NULL;
}

static int fetch_digest(xfer *x, const char *dir, const char *feed_url,
                        unsigned *attempts, char **out)
{
    const mm_vuln_source *s = x->src;
    char *path = mm_xasprintf("%s/%s.sha256", dir, s->name);
    uint64_t keep = x->max;
    x->max = MAX_DIGEST_FILE;
    enum fetch_result res;
    int rc = fetch(x, s->sha256_url, path, NULL, NULL, attempts, &res);
    x->max = keep;
    char *data = NULL;
    size_t len = 0;
    if (!rc)
        rc = mm_file_read(path, MAX_DIGEST_FILE, &data, &len);
    if (!rc && !(*out = digest_from(data, len, feed_url)))
        rc = mm_error_set(MM_EFORMAT, "source %s: %s: no sha256 digest for %s "
                          "in it", s->name, s->sha256_url, feed_url);
    free(data);
    unlink(path);
    free(path);
    return rc;
}

/* --- the update ------------------------------------------------------------ */

typedef struct pending {
    const mm_vuln_source *src;
    mm_update_source_result *res;
    char *file;              /* downloaded feed (UPDATED) */
    char *etag, *last_modified, *sha256;
} pending;

static const mm_vulndb_source_info *stored_source(const mm_vulndb_info *info,
                                                   const char *name)
{
    for (size_t i = 0; info && i < info->nsources; i++)
        if (info->sources[i].name && !strcmp(info->sources[i].name, name))
            return &info->sources[i];
    return NULL;
}

static int download_one(xfer *x, const char *dir, const mm_vulndb_source_info *old,
                        const char *old_sha256, pending *p)
{
    const mm_vuln_source *s = x->src;
    const mm_update_opts *o = x->o;
    mm_update_source_result *r = p->res;
    /* the stored validators are only meaningful for the same URL: after
     * pointing a source at a mirror, fetch in full; and a sha256 pinned in
     * the sources file that the stored copy does not have must be checked
     * on a fresh download, not waved through by a 304 */
    const char *etag = NULL, *lm = NULL;
    bool pin_ok = !s->sha256 || (old_sha256 && !strcmp(old_sha256, s->sha256));
    if (old && !o->force && pin_ok && old->location &&
        !strcmp(old->location, s->url)) {
        etag = old->etag && *old->etag ? old->etag : NULL;
        lm = old->last_modified && *old->last_modified ? old->last_modified
                                                       : NULL;
    }
    char *part = mm_xasprintf("%s/%s.download", dir, s->name);
    enum fetch_result res = FETCH_OK;
    x->max = s->max_size ? s->max_size : MM_SOURCE_DEFAULT_MAX_SIZE;
    int rc = fetch(x, s->url, part, etag, lm, &r->attempts, &res);
    if (rc)
        goto out;
    if (res == FETCH_NOT_MODIFIED) {
        r->status = MM_UPD_UNCHANGED;
        note(o, "%s: unchanged (HTTP 304)", s->name);
        unlink(part);
        goto out;
    }
    r->bytes = x->bytes;
    char got[72];
    mm_sha256_final(x->h, got);       /* "sha256:<hex>" */
    p->etag = mm_xstrdup(x->etag);
    p->last_modified = mm_xstrdup(x->last_modified);
    p->sha256 = mm_xstrdup(got + 7);
    const char *ext = NULL;
    if ((rc = sniff(x, s->url, &ext)))
        goto out;
    char *want = mm_xstrdup(s->sha256);
    if (!want && s->sha256_url)
        rc = fetch_digest(x, dir, s->url, &r->attempts, &want);
    if (!rc && want && strcmp(want, got + 7))
        rc = mm_error_set(MM_EDIGEST, "source %s: %s: sha256 is %s, the %s "
                          "says %s", s->name, s->url, got + 7,
                          s->sha256 ? "sources file" : s->sha256_url, want);
    free(want);
    if (rc)
        goto out;
    p->file = mm_xasprintf("%s/%s%s", dir, s->name, ext);
    if (rename(part, p->file) < 0) {
        rc = mm_error_set(MM_EIO, "%s: %s", p->file, strerror(errno));
        goto out;
    }
    note(o, "%s: downloaded %llu bytes", s->name, (unsigned long long)r->bytes);
out:
    free(part);
    return rc;
}

/* name -> sha256 of the stored download, from the sources table (the
 * public info does not carry it). */
static mm_map *stored_digests(mm_vulndb *db)
{
    mm_map *m = mm_map_new();
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db->db, "SELECT name, sha256 FROM sources", -1, &st,
                           NULL) != SQLITE_OK)
        return m;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *n = (const char *)sqlite3_column_text(st, 0);
        const char *h = (const char *)sqlite3_column_text(st, 1);
        if (n && h)
            free(mm_map_put(m, n, mm_xstrdup(h)));
    }
    sqlite3_finalize(st);
    return m;
}

static char *dir_of(const char *path)
{
    size_t n = mm_path_dirlen(path);
    if (n == 0)
        return mm_xstrdup(path[0] == '/' ? "/" : ".");
    return mm_xstrndup(path, n);
}


static int build(const char *db_path, pending *pend, size_t npend,
                 const mm_update_opts *o, mm_update_report *rep);

int mm_vulndb_update(const char *db_path, const mm_update_opts *opts,
                     mm_update_report **out)
{
    mm_update_opts defaults;
    if (!opts) {
        mm_update_opts_init(&defaults);
        opts = &defaults;
    }
    const mm_update_opts *o = opts;
    if (out)
        *out = NULL;
    double t0 = mm_now();
    mm_update_report *rep = mm_xcalloc(1, sizeof *rep);
    mm_vuln_sources *srcs = NULL;
    mm_vulndb *db = NULL;
    mm_vulndb_info *info = NULL;
    pending *pend = NULL;
    char *dir = NULL, *tmp = NULL, *sources_path = NULL;
    CURL *curl = NULL;
    mm_map *old_sha = NULL;
    int rc;

    if (!db_path || !*db_path) {
        rc = mm_error_set(MM_EINVAL, "no vulnerability database path");
        goto out;
    }
    sources_path = o->sources_path ? mm_xstrdup(o->sources_path)
                                   : mm_vuln_sources_default_path();
    if (!sources_path) {
        rc = MM_ENOTFOUND;
        goto out;
    }
    if ((rc = mm_vuln_sources_load(&srcs, sources_path)) ||
        (rc = mm_vuln_sources_restrict(srcs, o->only)))
        goto out;
    if (srcs->n == 0) {
        rc = mm_error_set(MM_EINVAL, "%s: no sources to update", sources_path);
        goto out;
    }
    /* the stored validators of each source */
    rc = mm_vulndb_open(&db, db_path);
    if (rc == MM_ENOTFOUND) {
        mm_error_clear();
        rc = 0;
    } else if (rc || (rc = mm_vulndb_info_get(db, &info))) {
        mm_error_wrap(rc, "%s: ", db_path);
        goto out;
    } else {
        old_sha = stored_digests(db);
    }
    mm_vulndb_close(db);
    db = NULL;

    rep->v = mm_xcalloc(srcs->n, sizeof *rep->v);
    rep->n = srcs->n;
    pend = mm_xcalloc(srcs->n, sizeof *pend);
    for (size_t i = 0; i < srcs->n; i++) {
        rep->v[i].name = mm_xstrdup(srcs->v[i].name);
        rep->v[i].url = mm_xstrdup(srcs->v[i].url);
        pend[i].src = &srcs->v[i];
        pend[i].res = &rep->v[i];
    }

    /* the download folder goes beside the database: the same file system
     * as the result, and not a small tmpfs /tmp for gigabytes of feeds */
    dir = dir_of(db_path);
    if ((rc = mm_mkdir_p(dir, 0700)) ||
        (rc = mm_tmpdir_create(&tmp, o->tmp_parent ? o->tmp_parent : dir)))
        goto out;

    if ((rc = mm_http_global_init()))
        goto out;
    if (!(curl = curl_easy_init())) {
        rc = mm_error_set(MM_ENOMEM, "cannot start libcurl");
        goto out;
    }
    int first_err = 0;
    char *first_msg = NULL;
    for (size_t i = 0; i < srcs->n; i++) {
        xfer x = {.src = &srcs->v[i], .o = o, .curl = curl, .retry_after = -1};
        int r = download_one(&x, tmp, stored_source(info, srcs->v[i].name),
                             old_sha ? mm_map_get(old_sha, srcs->v[i].name) : NULL,
                             &pend[i]);
        xfer_done(&x);
        if (r) {
            rep->v[i].status = MM_UPD_FAILED;
            rep->v[i].error = mm_xstrdup(mm_error_last());
            rep->nfailed++;
            if (!first_err) {
                first_err = r;
                first_msg = mm_xstrdup(mm_error_last());
            }
            if (!o->keep_going)
                break;
            note(o, "%s", mm_error_last());
        } else if (rep->v[i].status == MM_UPD_UNCHANGED) {
            rep->nunchanged++;
        }
    }
    if (first_err && !o->keep_going) {
        rc = mm_error_set(first_err, "%s", first_msg);
        free(first_msg);
        goto out;
    }
    bool any = false;
    for (size_t i = 0; i < srcs->n; i++)
        if (pend[i].file)
            any = true;
    if (any) {
        rc = build(db_path, pend, srcs->n, o, rep);
        if (rc) {
            free(first_msg);
            goto out;
        }
    }
    if (first_err) {
        /* keep_going: what worked is in; the exit status still says no */
        mm_buf b = MM_BUF_INIT;
        mm_buf_printf(&b, "%zu of %zu sources failed:", rep->nfailed, rep->n);
        for (size_t i = 0; i < rep->n; i++)
            if (rep->v[i].status == MM_UPD_FAILED)
                mm_buf_printf(&b, " %s (%s)", rep->v[i].name, rep->v[i].url);
        mm_buf_printf(&b, "; first error: %s", first_msg);
        rc = mm_error_set(MM_EIO, "%s", b.data);
        rep->partial = true;
        mm_buf_free(&b);
    }
    free(first_msg);
out:
    if (curl)
        curl_easy_cleanup(curl);
    if (tmp) {
        mm_tmpdir_remove(tmp);
        free(tmp);
    }
    for (size_t i = 0; pend && i < srcs->n; i++) {
        free(pend[i].file);
        free(pend[i].etag);
        free(pend[i].last_modified);
        free(pend[i].sha256);
    }
    free(pend);
    free(dir);
    mm_vulndb_info_free(info);
    mm_map_free(old_sha, free);
    mm_vulndb_close(db);
    mm_vuln_sources_free(srcs);
    free(sources_path);
    rep->seconds = mm_now() - t0;
    if (out)
        *out = rep;
    else
        mm_update_report_free(rep);
    return rc;
}

/* --- phase 2: the build ------------------------------------------------------ */

/* The kind the importer detected must be the kind the source promises: an
 * osv-zip URL that serves a secdb file is a misconfigured mirror, and its
 * rows would land under the wrong expectations. */
static bool kind_matches(mm_source_kind k, const char *detected)
{
    return detected && !strcmp(detected, mm_source_kind_name(k));
}

/* The importer names the file it reads: the download's temp path, which
 * means nothing to the user and is gone afterwards.  Messages name the
 * source and its URL instead. */
typedef struct relabel {
    const mm_update_opts *o;
    const pending *cur;
} relabel;

static char *relabelled(const pending *p, const char *msg)
{
    size_t n = strlen(p->file);
    if (strncmp(msg, p->file, n))
        return mm_xasprintf("source %s (%s): %s", p->src->name, p->src->url, msg);
    return mm_xasprintf("source %s (%s)%s", p->src->name, p->src->url, msg + n);
}

static void relabel_warn(void *ud, const char *msg)
{
    relabel *rl = ud;
    if (!rl->o->warn)
        return;
    char *m = rl->cur ? relabelled(rl->cur, msg) : NULL;
    rl->o->warn(rl->o->ud, m ? m : msg);
    free(m);
}

static int build(const char *db_path, pending *pend, size_t npend,
                 const mm_update_opts *o, mm_update_report *rep)
{
    mm_vulndb_build *b = NULL;
    relabel rl = {o, NULL};
    int rc = mm_vulndb_build_begin(&b, db_path, relabel_warn, &rl);
    if (rc)
        return rc;
    int64_t now = (int64_t)time(NULL);
    size_t i;
    for (i = 0; i < npend; i++) {
        pending *p = &pend[i];
        if (!p->file)
            continue;
        const mm_vuln_source *s = p->src;
        mm_vulndb_feed_result fr = {0};
        rl.cur = p;
        if ((rc = mm_vulndb_build_drop_source(b, s->name)))
            break;
        if ((rc = mm_vulndb_build_import_path(b, p->file, s->name, &fr))) {
            char *m = relabelled(p, mm_error_last());
            mm_error_set(rc, "%s", m);
            free(m);
            break;
        }
        if (!kind_matches(s->kind, fr.kind)) {
            rc = mm_error_set(MM_EFORMAT, "source %s: %s: the content is a %s "
                              "feed, not %s as its kind says", s->name, s->url,
                              fr.kind ? fr.kind : "unknown",
                              mm_source_kind_name(s->kind));
            break;
        }
        if (s->expect_min_records && fr.records < s->expect_min_records) {
            rc = mm_error_set(MM_EFORMAT, "source %s: %s: %llu advisories, fewer "
                              "than the %llu expected (expect_min_records): a "
                              "truncated or emptied feed?", s->name, s->url,
                              (unsigned long long)fr.records,
                              (unsigned long long)s->expect_min_records);
            break;
        }
        mm_vulndb_source_info si = {
            .name = (char *)s->name,
            .kind = (char *)mm_source_kind_name(s->kind),
            .location = (char *)s->url,
            .updated_at = now,
            .records = fr.records,
            .etag = p->etag,
            .last_modified = p->last_modified,
        };
        if ((rc = mm_vulndb_build_set_source(b, &si, p->sha256)))
            break;
        if (fr.records == 0)
            note(o, "%s: %s holds no advisories (set expect_min_records to "
                 "make that an error)", s->name, s->url);
        p->res->records = fr.records;
    }
    if (rc) {
        mm_vulndb_build_abort(b);
        if (i < npend) {     /* the source the loop stopped at */
            pend[i].res->status = MM_UPD_FAILED;
            pend[i].res->error = mm_xstrdup(mm_error_last());
            rep->nfailed++;
        }
        return rc;
    }
    rep->stats = *mm_vulndb_build_stats(b);
    double t0 = mm_now();
    if ((rc = mm_vulndb_build_commit(b)))
        return rc;
    rep->stats.seconds += mm_now() - t0;
    rep->db_written = true;
    for (i = 0; i < npend; i++)
        if (pend[i].file) {
            pend[i].res->status = MM_UPD_UPDATED;
            rep->nupdated++;
        }
    return 0;
}
