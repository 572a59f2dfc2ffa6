/*
 * registry/client_int.h - what the three files of the registry client
 * share: the client, its hosts and transfers (client.c), one HTTP exchange
 * with authentication and retries (client_http.c), and the calls on top of
 * it (client_api.c: manifests, blobs, uploads, listing).
 */
#ifndef MM_REGISTRY_CLIENT_INT_H
#define MM_REGISTRY_CLIENT_INT_H

#include <pthread.h>
#include <stdbool.h>

#include <curl/curl.h>

#include "registry/regint.h"

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

char *mm_reg_basic_header(const char *user, const char *pass);
int mm_reg_host_creds(mm_registry *c, const char *host, const char **user,
                      const char **pass, bool *idtoken);
struct host *mm_reg_host_get(mm_registry *c, const char *name);
size_t mm_reg_on_header(char *p, size_t sz, size_t nm, void *ud);
size_t mm_reg_on_write(char *p, size_t sz, size_t nm, void *ud);
void mm_reg_record_transport(mm_registry *c, const char *host, enum mode m);
const char *mm_reg_xfer_errmsg(const struct xfer *x);
void mm_reg_xfer_free(struct xfer *x);
void mm_reg_xfer_pump(struct xfer *x, bool until_data);
double mm_reg_backoff(int attempt, const char *retry_after);
int mm_reg_request(mm_registry *c, const struct req *rq, struct xfer **out);
void mm_reg_sleep_s(double s);
bool mm_reg_transient(CURLcode r);
char *mm_reg_url_escape(const char *s);

#endif
