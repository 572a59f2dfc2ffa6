/*
 * mamori/registry.h - a client of the OCI Distribution API v2 (Docker
 * Registry HTTP API v2) over libcurl: image references, manifests and
 * indexes, blobs streamed and verified, uploads (for signatures), catalog
 * and tag listing, and the transport facts SP 800-190 §3.2.1 asks about.
 *
 * Security defaults: TLS verified (system CAs, or --ca-file); plain HTTP
 * and unverified TLS are refused unless the host is listed in
 * opts.insecure_hosts, and every such connection is recorded so that it is
 * reported as a finding.  Credentials: explicit username/password, else
 * the auths of the Docker config file ($DOCKER_CONFIG/config.json or
 * ~/.docker/config.json), else anonymous; basic and bearer-token auth
 * (WWW-Authenticate realm/service/scope) are both handled.  Every response
 * body is capped; 429 and 5xx are retried with Retry-After / backoff.
 *
 * Ownership: strings and arrays returned through out parameters are
 * malloc'ed and belong to the caller (free / mm_strv_free).
 */
#ifndef MAMORI_REGISTRY_H
#define MAMORI_REGISTRY_H

#include <sys/types.h>

#include "mamori/common.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- references ---------------------------------------------------------- */
/* REGISTRY/REPO[:TAG][@sha256:HEX], with Docker's normalisation: no
 * registry part means docker.io (API host registry-1.docker.io), a
 * single-component docker.io repository gets "library/". */
typedef struct mm_imageref {
    char *registry;   /* host[:port] as written, "docker.io" by default */
    char *api_host;   /* host[:port] the API is reached at */
    char *repository; /* "library/debian", "team/app" */
    char *tag;        /* NULL when only a digest was given */
    char *digest;     /* "sha256:<64 hex>" or NULL */
} mm_imageref;

int mm_imageref_parse(mm_imageref **out, const char *s);
void mm_imageref_free(mm_imageref *r);
/* "registry/repo:tag@digest" (normalised, tag "latest" when neither tag
 * nor digest was given).  Caller frees. */
char *mm_imageref_format(const mm_imageref *r);
/* True when s reads as a registry reference rather than a local path: it
 * is not an existing file or directory and its first component holds a
 * '.' or ':' or is "localhost" (docker's rule), or it has no '/' in a
 * path sense and parses as a reference. */
bool mm_imageref_is_remote(const char *s);

/* --- the client ------------------------------------------------------------ */
typedef struct mm_registry_opts {
    const char *ca_file;              /* extra CA bundle (PEM) */
    const char *const *insecure_hosts; /* host[:port] allowed plain HTTP or
                                        * unverified TLS */
    size_t ninsecure;
    const char *username, *password;  /* explicit credentials (flags/env) */
    const char *docker_config;        /* NULL: $DOCKER_CONFIG/config.json,
                                       * else ~/.docker/config.json */
    const char *cache_dir;            /* blob cache; NULL = default
                                       * (<mamori cache>/blobs), "" = none */
    uint64_t cache_max;               /* bytes kept; 0 = 10 GiB */
    long timeout_s;                   /* per request stall timeout; 0 = 60 */
    int retries;                      /* 0 = 4 (429, 5xx, resets);
                                       * negative = none */
    uint64_t max_manifest;            /* 0 = 4 MiB */
    uint64_t max_catalog;             /* repositories/tags listed; 0 = 100000 */
    const char *user_agent;           /* NULL = "mamori/<version>" */
} mm_registry_opts;

void mm_registry_opts_init(mm_registry_opts *o);

/* A client keeps connections, tokens (per host and scope) and the
 * transport records of one run.  One thread at a time; an open
 * mm_regblob may be read from another thread while the client is idle. */
typedef struct mm_registry mm_registry;

int mm_registry_new(mm_registry **out, const mm_registry_opts *opts);
void mm_registry_free(mm_registry *c);

/* Fetches the manifest named by `reference` (a tag or a digest; NULL means
 * ref's digest, else its tag) with an Accept of OCI and Docker manifest
 * and index types.  *digest is the sha256 of the body; when reference is a
 * digest the body must match it (MM_EDIGEST).  MM_ENOTFOUND on 404. */
int mm_registry_get_manifest(mm_registry *c, const mm_imageref *ref,
                             const char *reference, char **body, size_t *len,
                             char **media_type, char digest[72]);

/* Resolves a reference to a digest (HEAD, falling back to GET when the
 * registry gives no Docker-Content-Digest). */
int mm_registry_resolve(mm_registry *c, const mm_imageref *ref,
                        char digest[72]);

/* Fetches a small blob whole (config, signature payloads), verified
 * against digest and capped at max bytes. */
int mm_registry_get_blob(mm_registry *c, const mm_imageref *ref,
                         const char *digest, uint64_t max, char **data,
                         size_t *len);

/* A blob as a stream: read() returns bytes, 0 at the verified end, or a
 * negative MM_E* (MM_EDIGEST when the bytes do not match).  Served from the
 * blob cache when present there; otherwise streamed from the registry and
 * written through to the cache, which keeps it once verified. */
typedef struct mm_regblob mm_regblob;
int mm_registry_open_blob(mm_regblob **out, mm_registry *c,
                          const mm_imageref *ref, const char *digest,
                          uint64_t size);
ssize_t mm_regblob_read(mm_regblob *b, void *buf, size_t n);
void mm_regblob_free(mm_regblob *b);

/* Uploads a blob (monolithic POST+PUT; skipped when HEAD finds it). */
int mm_registry_put_blob(mm_registry *c, const mm_imageref *ref,
                         const void *data, size_t len, char digest[72]);
/* Uploads a manifest under tag (or digest). */
int mm_registry_put_manifest(mm_registry *c, const mm_imageref *ref,
                             const char *tag, const char *media_type,
                             const void *body, size_t len);

/* Lists repositories of a registry host (GET /v2/_catalog, following
 * Link: rel="next" pagination) and tags of a repository (/tags/list,
 * paginated the same way).  Sorted; capped at opts.max_catalog. */
int mm_registry_catalog(mm_registry *c, const char *host, char ***repos,
                        size_t *n);
int mm_registry_tags(mm_registry *c, const mm_imageref *repo, char ***tags,
                     size_t *n);

/* Hosts reached over plain HTTP or with TLS verification off, so far. */
typedef struct mm_registry_transport {
    const char *host;
    bool plain_http;
    bool tls_unverified;
} mm_registry_transport;
size_t mm_registry_transport_count(const mm_registry *c);
const mm_registry_transport *mm_registry_transport_get(const mm_registry *c,
                                                       size_t i);
/* Adds one finding per such host (kind MM_FIND_TRUST, section 3.2.1, ids
 * MM-REG-001 plain HTTP, MM-REG-002 TLS not verified) to f, located at
 * image. */
int mm_registry_add_transport_findings(const mm_registry *c, mm_findings *f,
                                       const char *image);
/* For a client shared by many pulls (mm_scan_opts.registry_client): a
 * mark taken before a pull, then the findings of only the hosts reached
 * in such a mode after it (a host reused from an earlier pull counts when
 * this pull sent it a request; a token or blob reused without a request
 * does not).  mark 0 means all, as above. */
uint64_t mm_registry_transport_mark(const mm_registry *c);
int mm_registry_add_transport_findings_since(const mm_registry *c,
                                             uint64_t mark, mm_findings *f,
                                             const char *image);

#ifdef __cplusplus
}
#endif
#endif
