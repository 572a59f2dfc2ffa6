/*
 * util/http.h - the one libcurl transport of the library.  Every area that
 * speaks HTTP (the registry client, the feed downloads, the alert HTTP
 * output, the server ingest client, the Kubernetes API client, the Docker
 * Engine API over its socket) sets its easy handles up here, so that the
 * rules are written once:
 *
 *   - protocols: http and https only, for the request and for redirects
 *     (CURLOPT_PROTOCOLS_STR / CURLOPT_REDIR_PROTOCOLS_STR); a URL of
 *     another scheme is refused before libcurl sees it (mm_http_check_url);
 *   - timeouts: a connect timeout, a stall timeout (below 1 byte/s for that
 *     long aborts) and an optional total timeout;
 *   - size: an optional cap on the body (CURLOPT_MAXFILESIZE_LARGE checks the
 *     announced length; the callers' write callbacks check what arrives);
 *   - proxies: libcurl's default, the environment variables http_proxy,
 *     https_proxy (HTTPS_PROXY), all_proxy and no_proxy (NO_PROXY);
 *   - TLS: verified against the system store; an extra CA file adds to it;
 *     `insecure` turns verification off for the registries that need it;
 *   - no signals (the library runs on threads).
 *
 * The area keeps its own callbacks, headers and request method; the simple
 * client below (mm_http_*) is for one-shot requests such as alert POSTs,
 * and mm_http_do for the rest (any method, headers, basic auth, TLS
 * material in memory).  Only the streaming clients (registry, feeds) and
 * the WAF proxy (headers both ways) keep easy handles of their own.
 */
#ifndef MM_UTIL_HTTP_H
#define MM_UTIL_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "util/util.h"

typedef struct mm_http_opts {
    const char *user_agent;  /* NULL: "mamori/<version>" */
    long connect_timeout_s;  /* 0: 30 s */
    long stall_timeout_s;    /* 0: 60 s below 1 byte/s aborts */
    long total_timeout_s;    /* 0: no total limit */
    uint64_t max_body;       /* 0: no cap set on the handle */
    const char *ca_file;     /* an extra CA bundle, added to the system's */
    bool insecure;           /* no TLS verification (a registry that needs it) */
    bool follow;             /* follow up to 5 redirects */
    bool redirect_https_only;/* with follow: a redirect may not go to http */
    const char *unix_socket; /* connect to this Unix socket (a local daemon's
                              * API, e.g. Docker's); the URL still says
                              * http://localhost/... */
    const char *pin_sha256;  /* 64 lowercase hex digits (mm_http_pin_parse):
                              * the server's certificate must have this
                              * SHA-256 fingerprint; CA and name unchecked
                              * (http_pin.c) */
} mm_http_opts;

/* "sha256:HEX", "SHA256:AB:CD:..." or bare hex -> 64 lowercase hex digits
 * in out; MM_EINVAL naming the expected form. */
int mm_http_pin_parse(const char *s, char out[65]);
/* Sets the pin on a handle (mm_http_setup calls it); pin NULL: nothing. */
void mm_http_pin_setup(CURL *e, const char *pin);

/* libcurl's global set-up, once per process, thread-safe.  0 or MM_ENOMEM. */
int mm_http_global_init(void);

/* 0 when url starts with http:// or https:// (any case); otherwise
 * MM_EINVAL with "<what>: <url>: only http and https URLs are allowed". */
int mm_http_check_url(const char *what, const char *url);

/* Applies the rules above to an easy handle (after curl_easy_reset or
 * curl_easy_init); url may be NULL (set later).  errbuf, when not NULL,
 * receives libcurl's error text (CURL_ERROR_SIZE bytes). */
void mm_http_setup(CURL *e, const char *url, const mm_http_opts *o, char *errbuf);

/* A Retry-After header value (delta-seconds or an HTTP date, RFC 9110) as
 * seconds from now, at most cap; -1 when absent or unreadable. */
long mm_http_retry_after(const char *v, time_t now, long cap);

/* --- a simple client: one easy handle, one request at a time ------------ */
typedef struct mm_http mm_http;

/* A client with options o (copied; the strings must outlive the client). */
int mm_http_new(mm_http **out, const mm_http_opts *o);
void mm_http_free(mm_http *h);

/* Sends one request: method "GET" or "POST" (body of len bytes with the
 * content type ctype).  The status goes to *status; the body, up to
 * opts.max_body (MM_ELIMIT beyond; 0 = 1 MiB), into resp when not NULL
 * (discarded otherwise).  A URL that is not http(s) is MM_EINVAL, a failed
 * transfer MM_ENET; any HTTP status is a success of the transport. */
int mm_http_send(mm_http *h, const char *method, const char *url,
                 const char *ctype, const void *body, size_t len,
                 long *status, mm_buf *resp);

/* As mm_http_send, with extra request headers ("Name: value", a NULL-ended
 * list, may be NULL), e.g. an Authorization header. */
int mm_http_send_hdrs(mm_http *h, const char *method, const char *url,
                      const char *ctype, const void *body, size_t len,
                      const char *const *headers, long *status, mm_buf *resp);

/* A request in full, for the clients that need more than the above (the
 * Kubernetes API client): any method, extra headers, basic auth, TLS
 * material in memory, compressed answers. */
typedef struct mm_http_request {
    const char *method;              /* NULL: GET, or POST when body is set */
    const char *url;
    const char *ctype;               /* with body; NULL: application/json */
    const void *body;                /* NULL: none */
    size_t len;
    const char *const *headers;      /* "Name: value", NULL-ended; may be NULL */
    const char *user, *password;     /* basic auth when both are set */
    const void *ca_pem;   size_t ca_len;    /* a CA bundle in memory */
    const void *cert_pem; size_t cert_len;  /* a client certificate (PEM) */
    const void *key_pem;  size_t key_len;   /* and its key (PEM) */
    bool compressed;                 /* Accept-Encoding: what libcurl decodes */
} mm_http_request;

/* Sends rq with the client's options; as mm_http_send for status, resp and
 * the errors (whose messages start with "<method> <url>: "). */
int mm_http_do(mm_http *h, const mm_http_request *rq, long *status, mm_buf *resp);

/* s percent-encoded for a URL query value (RFC 3986 unreserved kept);
 * the caller frees it. */
char *mm_http_escape(const char *s);

/* --- a TLS byte stream (tls_stream.c) ------------------------------------ */
/* For a protocol that is not HTTP but rides on TLS (syslog, RFC 5425):
 * libcurl connects to host:port and completes the handshake with o's TLS
 * rules (system store + o->ca_file, o->insecure), then raw bytes go out. */
typedef struct mm_tls_stream mm_tls_stream;
int mm_tls_stream_open(mm_tls_stream **out, const char *host, unsigned port,
                       const mm_http_opts *o);
/* All of data, or MM_ENET (timeout_s 0 = 30 s). */
int mm_tls_stream_write(mm_tls_stream *s, const void *data, size_t len, long timeout_s);
void mm_tls_stream_close(mm_tls_stream *s);

#endif
