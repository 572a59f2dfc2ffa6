/*
 * client_api.c - the registry calls on top of one HTTP exchange
 * (client_http.c): manifests and digests, blobs (whole, or streamed
 * through the blob cache with a bounded buffer), uploads, and catalog and
 * tag listing with paging.
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

/* One request for a manifest (GET or HEAD) of reference, checked first;
 * *what names it in messages and is the caller's to free (NULL when the
 * reference is refused). */
static int manifest_request(mm_registry *c, const mm_imageref *ref, const char *reference,
                            const char *method, uint64_t max, struct xfer **x, char **what)
{
    *what = NULL;
    if (!valid_reference(reference))
        return mm_error_set(MM_EINVAL, "%s/%s: invalid tag or digest \"%.140s\"",
                            ref->registry, ref->repository, reference);
    *what = what_ref(ref, reference);
    char *path = mm_xasprintf("/v2/%s/manifests/%s", ref->repository, reference);
    char *scope = scope_of(ref, "pull");
    struct req rq = {
        .method = method, .host = ref->api_host, .target = path, .scope = scope,
        .accept = ACCEPT_MANIFESTS, .max = max, .what = *what,
    };
    int rc = mm_reg_request(c, &rq, x);
    if (rc == MM_ENOTFOUND)
        rc = mm_error_wrap(rc, "manifest ");
    free(path);
    free(scope);
    return rc;
}

int mm_registry_get_manifest(mm_registry *c, const mm_imageref *ref,
                             const char *reference, char **body, size_t *len,
                             char **media_type, char digest[72])
{
    if (!reference)
        reference = ref->digest ? ref->digest : ref->tag ? ref->tag : "latest";
    char *what;
    struct xfer *x;
    int rc = manifest_request(c, ref, reference, "GET", c->max_manifest, &x, &what);
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
    mm_reg_xfer_free(x);
out:
    free(what);
    return rc;
}

int mm_registry_resolve(mm_registry *c, const mm_imageref *ref, char digest[72])
{
    const char *reference = ref->digest ? ref->digest : ref->tag ? ref->tag : "latest";
    if (ref->digest) {
        /* a digest names itself; still ask that the manifest exists */
    }
    char *what;
    struct xfer *x;
    int rc = manifest_request(c, ref, reference, "HEAD", 1, &x, &what);
    bool have = false;
    if (rc == 0) {
        if (x->dcd && mm_digest_valid(x->dcd)) {
            if (ref->digest && strcmp(ref->digest, x->dcd) != 0)
                rc = mm_error_set(MM_EDIGEST, "%s: the registry names digest %s", what, x->dcd);
            memcpy(digest, x->dcd, 72);
            have = true;
        }
        mm_reg_xfer_free(x);
    }
    free(what);
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
    int rc = mm_reg_request(c, &rq, &x);
    if (rc == 0) {
        char d[72];
        mm_sha256_hex(x->body.data ? x->body.data : "", x->body.len, d);
        if (strcmp(d, digest) != 0) {
            rc = mm_error_set(MM_EDIGEST, "%s: digest mismatch: the content is %s", what, d);
        } else {
            *len = x->body.len;
            *data = mm_buf_detach(&x->body);
        }
        mm_reg_xfer_free(x);
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
    int rc = mm_reg_request(b->c, &rq, &b->x);
    free(path);
    free(scope);
    if (rc == 0 && b->done) {
        /* a resume must continue where we stopped */
        unsigned long long from = 0;
        if (b->x->status != 206 || !b->x->range ||
            sscanf(b->x->range, "bytes %llu-", &from) != 1 || from != b->done) {
            mm_reg_xfer_free(b->x);
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
                if (mm_reg_transient(x->result) && b->attempts < b->c->retries) {
                    b->attempts++;
                    mm_reg_xfer_free(b->x);
                    b->x = NULL;
                    mm_reg_sleep_s(mm_reg_backoff(b->attempts - 1, NULL));
                    int rc = regblob_start(b);
                    if (rc < 0)
                        return b->err = rc;
                    x = b->x;
                    continue;
                }
                return b->err = mm_error_set(MM_ENET, "%s: transfer failed after %llu bytes: "
                                             "%s", b->what, (unsigned long long)b->done,
                                             mm_reg_xfer_errmsg(x));
            }
            mm_reg_xfer_pump(x, true);
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
    mm_reg_xfer_free(b->x);
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
    int rc = mm_reg_request(c, &head, &x);
    if (rc == 0) {
        mm_reg_xfer_free(x);
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
    rc = mm_reg_request(c, &post, &x);
    if (rc < 0)
        goto out;
    if (!x->location || !*x->location) {
        rc = mm_error_set(MM_EFORMAT, "%s: the registry answered the upload request without "
                          "a Location", what);
        mm_reg_xfer_free(x);
        goto out;
    }
    char *loc = mm_xstrdup(x->location);
    mm_reg_xfer_free(x);
    char *dq = mm_reg_url_escape(digest);
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
    rc = mm_reg_request(c, &put, &x);
    free(target);
    if (rc == 0) {
        if (x->status != 201 && x->status != 204 && x->status != 200)
            rc = mm_error_set(MM_ENET, "%s: upload answered HTTP %ld", what, x->status);
        mm_reg_xfer_free(x);
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
    int rc = mm_reg_request(c, &rq, &x);
    if (rc == 0)
        mm_reg_xfer_free(x);
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
        rc = mm_reg_request(c, &rq, &x);
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
            mm_reg_xfer_free(x);
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
        mm_reg_xfer_free(x);
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
