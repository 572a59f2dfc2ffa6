/*
 * mamori/httpd.h - the small HTTP server every mamori service shares
 * (lib/httpd, over libmicrohttpd): `mamori server`, the admission webhook,
 * the Docker authorization plugin.
 *
 * One listener: TCP ("HOST:PORT", port 0 picks a free one) or a Unix socket
 * path.  TCP is HTTPS by default, from PEM certificate and key files or, when
 * none are given, a self-signed pair (ECDSA P-256) written on first start
 * into a state folder and reused afterwards; its SHA-256 fingerprint is
 * returned so the front-end can print it.  A Unix socket speaks plain HTTP
 * (the socket file's permissions guard it, as Docker plugins expect).
 *
 * Requests are read whole, with the body capped (413 beyond the cap, before
 * the handler runs), the content type of a body checked (415 when it is
 * not JSON and the options ask for JSON), then handed to one callback on a
 * pool of threads with the method, path, query, headers, body and peer
 * (address, and uid/pid on a Unix socket).  The callback fills a response;
 * JSON helpers build the common ones.  mm_httpd_stop() stops accepting,
 * waits for the requests in flight and frees everything.
 *
 * A response may instead be a stream (server-sent events): the handler
 * names a producer the server calls, never blocking, whenever the client
 * can take more.  While the producer has nothing the connection is
 * suspended (no pool thread waits on it) and is retried every
 * stream_poll_ms or at once after mm_httpd_stream_wake(); after
 * heartbeat_s seconds of silence the server sends a comment line so that
 * proxies keep the connection and a client that went away is noticed.
 * At most max_streams run at a time (503 with Retry-After beyond).
 */
#ifndef MAMORI_HTTPD_H
#define MAMORI_HTTPD_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include "mamori/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_httpd mm_httpd;

/* One request, valid during the callback only. */
typedef struct mm_http_req {
    const char *method;     /* "GET", "POST", ... */
    const char *path;       /* decoded path, no query ("/api/v1/alerts") */
    const char *body;       /* NUL-terminated copy of the body ("" when none) */
    size_t body_len;
    const char *peer;       /* "127.0.0.1", "::1", or "unix" */
    pid_t peer_pid;         /* Unix socket peer (SO_PEERCRED), else -1 */
    uid_t peer_uid;         /* Unix socket peer, else (uid_t)-1 */
    bool tls;               /* arrived over TLS */
    void *conn_;            /* private */
    const char *uri_;       /* private: mm_http_req_uri() */
    /* A request made without a connection (conn_ NULL: unit tests, fuzz
     * targets calling a handler directly): NAME, VALUE, ..., NULL. */
    const char *const *fake_headers;
    const char *const *fake_query;
} mm_http_req;

/* A request header by name (case-insensitive), or NULL. */
const char *mm_http_req_header(const mm_http_req *r, const char *name);
/* Every request header, in the order received (a WAF or a proxy needs
 * them all). */
void mm_http_req_headers(const mm_http_req *r,
                         void (*fn)(void *ud, const char *name, const char *value),
                         void *ud);
/* The request target exactly as the client sent it (path and query, not
 * decoded); the decoded path when unknown. */
const char *mm_http_req_uri(const mm_http_req *r);
/* A query argument by name (decoded), or NULL. */
const char *mm_http_req_query(const mm_http_req *r, const char *name);

#define MM_HTTP_MAX_HEADERS 8

/* The response the callback fills.  status 0 counts as 500. */
typedef struct mm_http_resp {
    int status;
    char *body;               /* malloc'd; the server frees it */
    size_t body_len;
    const char *content_type; /* NULL: "application/json" */
    char *hname[MM_HTTP_MAX_HEADERS], *hvalue[MM_HTTP_MAX_HEADERS];
    int nheaders;
    /* a streaming response (mm_http_resp_stream); private */
    char *(*stream_fn_)(void *ud, size_t *len);
    void *stream_ud_;
    void (*stream_free_)(void *ud);
} mm_http_resp;

/* The producer of a streaming response.  Returns a malloc'd chunk of *len
 * bytes when it has data; NULL with *len = 0 when it has nothing yet (it
 * is asked again later); NULL with *len = MM_HTTP_STREAM_END to end the
 * response.  It must not block: it runs on the server's pool threads. */
typedef char *(*mm_http_stream_fn)(void *ud, size_t *len);
#define MM_HTTP_STREAM_END ((size_t)-1)

/* Makes the response a stream of content_type (status 200) produced by
 * fn(ud, ...); ud_free(ud) runs exactly once, when the response ends (the
 * producer ended it, the client went away, the server stopped, the stream
 * was refused over max_streams, or the response was cleared unsent). */
void mm_http_resp_stream(mm_http_resp *r, const char *content_type, mm_http_stream_fn fn,
                         void *ud, void (*ud_free)(void *ud));

/* Adds a response header (copied; at most MM_HTTP_MAX_HEADERS, the rest
 * are dropped). */
void mm_http_resp_header(mm_http_resp *r, const char *name, const char *value);
/* Sets status and a body that is the text given (copied). */
void mm_http_resp_text(mm_http_resp *r, int status, const char *content_type,
                       const char *text, size_t len);
/* Sets status and a JSON body: the compact serialisation of a jansson
 * value (a json_t *, declared void * so this header needs no jansson);
 * the reference is stolen. */
void mm_http_resp_json(mm_http_resp *r, int status, void *json);
/* Sets status and {"error": MESSAGE, "status": STATUS}. */
void mm_http_resp_error(mm_http_resp *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Frees what a response holds and zeroes it (the server does this itself;
 * for handlers called directly). */
void mm_http_resp_clear(mm_http_resp *r);

typedef void (*mm_httpd_handler)(void *ctx, const mm_http_req *req,
                                 mm_http_resp *resp);

typedef struct mm_httpd_opts {
    const char *listen;       /* "HOST:PORT", "[::1]:PORT", ":PORT"; ignored
                                 when unix_path is set */
    const char *unix_path;    /* listen on this Unix socket (replaced if stale) */
    mode_t unix_mode;         /* 0 = 0660 */
    bool plain;               /* TCP without TLS (tests, behind a proxy) */
    const char *cert_file;    /* PEM; with key_file */
    const char *key_file;
    const char *state_dir;    /* where a self-signed pair goes when no cert
                                 is given (server.crt, server.key) */
    const char *tls_name;     /* CN/SAN of a self-signed pair; NULL = hostname */
    size_t max_body;          /* bytes; 0 = 1 MiB */
    bool json_only;           /* a body must be application/json (415) */
    unsigned threads;         /* 0 = 4 */
    unsigned max_conns;       /* 0 = 512 */
    unsigned timeout_s;       /* idle connection timeout; 0 = 30 */
    mm_httpd_handler handler;
    void *ctx;
    const char *client_ca_file; /* PEM: TLS clients must present a certificate
                                   this CA signed; any request without one
                                   is answered 403 before its body is read */
    unsigned max_streams;     /* streaming responses at a time; 0 = 64 */
    unsigned stream_poll_ms;  /* a producer with nothing is asked again
                                 after this long; 0 = 20 */
    unsigned heartbeat_s;     /* silence before a heartbeat; 0 = 15 */
    const char *heartbeat;    /* what is sent then; NULL = ":\n\n" (an
                                 event-stream comment) */
} mm_httpd_opts;

void mm_httpd_opts_init(mm_httpd_opts *o);

/* Binds, loads or writes the TLS pair, starts the threads. */
int mm_httpd_start(mm_httpd **out, const mm_httpd_opts *o);
/* The TCP port listened on (the chosen one when 0 was asked), 0 on Unix. */
uint16_t mm_httpd_port(const mm_httpd *h);
/* "SHA256:AB:CD:..." of the certificate served, or NULL without TLS. */
const char *mm_httpd_fingerprint(const mm_httpd *h);
/* The certificate file in use (given or written), or NULL without TLS. */
const char *mm_httpd_cert_path(const mm_httpd *h);
/* Asks every producer of a suspended stream again now (a producer's
 * source calls it when it has news; without it they are asked every
 * stream_poll_ms).  Safe from any thread. */
void mm_httpd_stream_wake(mm_httpd *h);
/* Streaming responses running now. */
unsigned mm_httpd_streams(const mm_httpd *h);

/* Stops accepting, ends the streams, finishes requests in flight, frees;
 * NULL is fine. */
void mm_httpd_stop(mm_httpd *h);

/* Writes a self-signed ECDSA P-256 pair (key mode 0600) valid for name,
 * "localhost", 127.0.0.1 and ::1, ten years. */
int mm_httpd_selfsigned_write(const char *cert_path, const char *key_path,
                              const char *name);
/* The SHA-256 fingerprint of the first certificate of a PEM file. */
int mm_httpd_cert_fingerprint(const char *cert_path, char out[104]);

#ifdef __cplusplus
}
#endif
#endif
