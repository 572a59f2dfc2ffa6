/*
 * registry/regint.h - internals of the registry client shared by its files
 * and exposed to the unit tests and fuzz targets: parsers of what a
 * registry or a config file says (WWW-Authenticate challenges, Link
 * headers, Retry-After, JSON error bodies, Docker config auths,
 * credHelpers and credsStore, credential helper answers), the helper
 * runner and the blob cache.  Every parser takes untrusted bytes with a
 * length and caps what it keeps.
 */
#ifndef MM_REGINT_H
#define MM_REGINT_H

#include <time.h>

#include "mamori/registry.h"
#include "util/util.h"

#define MM_REG_MAX_HEADER 8192u     /* one header value kept */
#define MM_REG_MAX_HEADERS 65536u   /* all headers of one response */
#define MM_REG_MAX_TOKEN (1u << 20) /* a token service answer */
#define MM_REG_MAX_ERRBODY 65536u   /* an error body kept for the message */
#define MM_REG_RETRY_CAP 60         /* seconds waited at most per retry */

/* --- WWW-Authenticate ------------------------------------------------------ */
/* One challenge: scheme ("Bearer", "Basic"; compared case-insensitively)
 * and the parameters a registry uses.  Unknown parameters are ignored. */
typedef struct mm_reg_challenge {
    char *scheme;
    char *realm, *service, *scope, *error;
} mm_reg_challenge;

/* Parses a WWW-Authenticate value (RFC 7235: scheme, then name=token or
 * name="quoted \"string\"" pairs, commas inside quotes kept).  When the
 * value holds several challenges the Bearer one wins, else the first.
 * MM_EFORMAT when no scheme can be read. */
int mm_reg_challenge_parse(mm_reg_challenge *out, const char *v, size_t len);
void mm_reg_challenge_clear(mm_reg_challenge *c);

/* The target of the rel="next" link of a Link header value, or NULL.
 * Caller frees. */
char *mm_reg_link_next(const char *v, size_t len);


/* "CODE: message; CODE: message" from a registry's JSON error body
 * ({"errors":[{"code","message","detail"}]}), or NULL when the body is not
 * one.  Capped and printable; caller frees. */
char *mm_reg_error_text(const char *body, size_t len);

/* Credentials for host from a Docker config.json document: the `auths`
 * entry whose key names host (keys may carry a scheme and a path; Docker
 * Hub is index.docker.io, docker.io or registry-1.docker.io), its base64
 * "auth" (user:password) or "username"/"password".  0 and both set (caller
 * frees); MM_ENOTFOUND when there is no entry; MM_EFORMAT (naming label)
 * when the document or the entry is malformed. */
int mm_reg_docker_auth(const char *json, size_t len, const char *label,
                       const char *host, char **user, char **pass);

/* --- Docker credential helpers and identity tokens -------------------------- */
#define MM_REG_MAX_HELPER_OUT 65536u /* what a helper prints on stdout */
#define MM_REG_MAX_HELPER_NAME 100u

/* Where the credentials for one registry come from, per the Docker config:
 * a helper to run (helper set: docker-credential-<helper>), or what the
 * auths entry holds (user/pass and/or identity_token, an OAuth2 refresh
 * token).  source says which key of which file decided ("credsStore of
 * /root/.docker/config.json"), for messages.  All owned; clear with
 * mm_reg_authcfg_clear (secrets cleansed). */
typedef struct mm_reg_authcfg {
    char *helper;
    char *source;
    char *user, *pass;
    char *identity_token;
} mm_reg_authcfg;

/* Parses a config.json for host: credHelpers[host], else credsStore, else
 * the auths entry (the rule is written at the definition, in parse.c).  0
 * with a helper or credentials; MM_ENOTFOUND when none applies;
 * MM_EFORMAT naming label and the key when the document, an entry or a
 * helper name (only [A-Za-z0-9._-]) is malformed. */
int mm_reg_docker_authcfg(mm_reg_authcfg *out, const char *json, size_t len,
                          const char *label, const char *host);
void mm_reg_authcfg_clear(mm_reg_authcfg *a);

/* Whether name may follow "docker-credential-": [A-Za-z0-9._-]+, at most
 * MM_REG_MAX_HELPER_NAME bytes. */
bool mm_reg_helper_name_valid(const char *name);

/* The server URL handed to a helper for registry host, as docker does:
 * "https://index.docker.io/v1/" for Docker Hub, else host[:port] (lower
 * case).  Caller frees. */
char *mm_reg_helper_server(const char *host);

/* Parses what `docker-credential-<name> get` printed:
 * {"ServerURL","Username","Secret"}.  Username "<token>" makes Secret an
 * identity token (*idtoken true).  0 with *user and *secret set (caller
 * frees *secret with mm_secret_free); MM_EFORMAT (naming label) when the
 * JSON is malformed or Username/Secret is missing or empty; MM_ELIMIT when
 * it is over MM_REG_MAX_HELPER_OUT. */
int mm_reg_helper_parse(const char *data, size_t len, const char *label, char **user,
                        char **secret, bool *idtoken);

/* Runs `docker-credential-<name> get` (found on PATH, no shell) with
 * server on stdin, within timeout_ms (then killed, with its process
 * group).  label names where the helper was configured, for messages.
 * 0 with the user, secret and identity-token flag set as
 * mm_reg_helper_parse does;
 * MM_ENOTFOUND when the helper says "credentials not found in native
 * keychain"; MM_EAUTH when it cannot be run, fails (its message quoted,
 * capped) or times out; MM_EFORMAT/MM_ELIMIT for what it printed. */
int mm_reg_credhelper_get(const char *name, const char *server, const char *label,
                          long timeout_ms, char **user, char **secret, bool *idtoken);

/* The helper timeout: MAMORI_CREDHELPER_TIMEOUT (seconds, may be
 * fractional, 0.1 to 600) or 30 s. */
long mm_reg_credhelper_timeout_ms(void);

/* Cleanses and frees a secret string; accepts NULL. */
void mm_secret_free(char *s);

/* --- blob cache ---------------------------------------------------------------- */
/* Verified blobs by digest under DIR/sha256/<hex>; writes go to
 * DIR/tmp/<unique> and are renamed in once verified.  Least recently used
 * blobs (file mtime, bumped on every hit) are removed beyond max bytes. */
typedef struct mm_blobcache mm_blobcache;
/* The default folder: $MAMORI_CACHE_DIR/blobs, $XDG_CACHE_HOME/mamori/blobs
 * or ~/.cache/mamori/blobs; NULL when none can be named.  Caller frees. */
char *mm_blobcache_default_dir(void);
int mm_blobcache_open(mm_blobcache **out, const char *dir, uint64_t max);
void mm_blobcache_free(mm_blobcache *bc);
/* An open descriptor of the cached blob (its use recorded), or -1. */
int mm_blobcache_lookup(mm_blobcache *bc, const char *digest, uint64_t *size);
/* A temp file to write a blob into; *tmp names it (caller frees). */
int mm_blobcache_begin(mm_blobcache *bc, char **tmp);
/* Keeps a verified temp file under digest, then evicts down to the limit. */
int mm_blobcache_commit(mm_blobcache *bc, const char *tmp, const char *digest);
/* Removes one blob (found damaged). */
void mm_blobcache_remove(mm_blobcache *bc, const char *digest);
/* Removes least recently used blobs until at most max bytes remain. */
int mm_blobcache_evict(mm_blobcache *bc, uint64_t max);
/* Bytes held now. */
uint64_t mm_blobcache_size(mm_blobcache *bc);

#endif
