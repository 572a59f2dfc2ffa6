/*
 * httpd.c - the shared HTTP server (include/mamori/httpd.h) over
 * libmicrohttpd: binds the listener itself (TCP or a Unix socket), loads
 * or writes the TLS pair, reads each request whole under the body cap,
 * checks the content type, and calls the one handler on MHD's thread pool
 * with a plain request struct; the handler's response goes back with its
 * headers.  MHD's own log lines are swallowed: the library never prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>

#include "mamori/httpd.h"
#include "util/util.h"
#include "httpd/httpd_int.h"

/* per-request state kept across MHD's calls */
typedef struct reqstate {
    mm_buf body;
    bool too_big;
    bool bad_type;
    bool started;                /* the headers' call was seen */
    char *uri;                   /* the request target as sent (URI log callback) */
} reqstate;

void mm_httpd_opts_init(mm_httpd_opts *o)
{
    memset(o, 0, sizeof *o);
}

static const char *fake_lookup(const char *const *kv, const char *name, bool nocase)
{
    for (size_t i = 0; kv && kv[i] && kv[i + 1]; i += 2)
        if (nocase ? strcasecmp(kv[i], name) == 0 : strcmp(kv[i], name) == 0)
            return kv[i + 1];
    return NULL;
}

const char *mm_http_req_header(const mm_http_req *r, const char *name)
{
    if (!r->conn_)
        return fake_lookup(r->fake_headers, name, true);
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn_,
                                       MHD_HEADER_KIND, name);
}

typedef struct hdr_iter {
    void (*fn)(void *, const char *, const char *);
    void *ud;
} hdr_iter;

static enum MHD_Result hdr_one(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    hdr_iter *it = cls;
    (void)kind;
    it->fn(it->ud, key, value ? value : "");
    return MHD_YES;
}

void mm_http_req_headers(const mm_http_req *r,
                         void (*fn)(void *ud, const char *name, const char *value),
                         void *ud)
{
    if (!r->conn_) {
        for (size_t i = 0; r->fake_headers && r->fake_headers[i] && r->fake_headers[i + 1];
             i += 2)
            fn(ud, r->fake_headers[i], r->fake_headers[i + 1]);
        return;
    }
    hdr_iter it = {fn, ud};
    MHD_get_connection_values((struct MHD_Connection *)r->conn_, MHD_HEADER_KIND,
                              hdr_one, &it);
}

const char *mm_http_req_uri(const mm_http_req *r)
{
    return r->uri_ ? r->uri_ : r->path;
}

/* MHD_OPTION_URI_LOG_CALLBACK: the first thing known of a request; its
 * state starts here so that the raw target is kept. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)cls;
    (void)c;
    reqstate *st = mm_xcalloc(1, sizeof *st);
    st->uri = mm_xstrndup(uri, 65536);
    return st;
}

const char *mm_http_req_query(const mm_http_req *r, const char *name)
{
    if (!r->conn_)
        return fake_lookup(r->fake_query, name, false);
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn_,
                                       MHD_GET_ARGUMENT_KIND, name);
}

void mm_http_resp_header(mm_http_resp *r, const char *name, const char *value)
{
    if (r->nheaders >= MM_HTTP_MAX_HEADERS || !name || !value)
        return;
    r->hname[r->nheaders] = mm_xstrdup(name);
    r->hvalue[r->nheaders++] = mm_xstrdup(value);
}

void mm_http_resp_text(mm_http_resp *r, int status, const char *content_type,
                       const char *text, size_t len)
{
    free(r->body);
    r->status = status;
    r->content_type = content_type;
    /* A body may be binary (a capture file): copy len bytes, NULs included,
     * and keep a terminator after them for the text callers. */
    r->body_len = text ? len : 0;
    r->body = mm_xmalloc(r->body_len + 1);
    if (r->body_len)
        memcpy(r->body, text, r->body_len);
    r->body[r->body_len] = '\0';
}

void mm_http_resp_json(mm_http_resp *r, int status, void *json)
{
    json_t *j = json;
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    free(r->body);
    r->status = status;
    r->content_type = NULL;
    if (!s) {
        r->status = 500;
        s = mm_xstrdup("{\"error\":\"response serialisation failed\",\"status\":500}");
    }
    r->body_len = strlen(s);
    r->body = mm_xstrndup(s, r->body_len); /* ours, not jansson's allocator */
    free(s);
}

void mm_http_resp_error(mm_http_resp *r, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = mm_xvasprintf(fmt, ap);
    va_end(ap);
    json_t *j = json_object();
    json_t *m = json_string(msg);
    json_object_set_new(j, "error", m ? m : json_string("(message not UTF-8)"));
    json_object_set_new(j, "status", json_integer(status));
    free(msg);
    mm_http_resp_json(r, status, j);
}

void mm_http_resp_clear(mm_http_resp *r)
{
    if (r->stream_free_)
        r->stream_free_(r->stream_ud_);   /* never handed to a connection */
    free(r->body);
    for (int i = 0; i < r->nheaders; i++) {
        free(r->hname[i]);
        free(r->hvalue[i]);
    }
    memset(r, 0, sizeof *r);
}

static enum MHD_Result send_resp(mm_httpd *h, struct MHD_Connection *c, mm_http_resp *r)
{
    if (r->stream_fn_)
        return httpd_stream_queue(h, c, r);
    int status = r->status ? r->status : 500;
    char *body = r->body ? r->body : mm_xstrdup("");
    size_t len = r->body ? r->body_len : 0;
    r->body = NULL;
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!mr) {
        free(body);
        mm_http_resp_clear(r);
        return MHD_NO;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Cache-Control", "no-store");
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(mr, r->hname[i], r->hvalue[i]);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, mr);
    MHD_destroy_response(mr);
    mm_http_resp_clear(r);
    return ret;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; ");
    return (n == 16 && strncasecmp(ct, "application/json", 16) == 0) ||
           (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0 &&
            strncasecmp(ct, "application/", 12) == 0);
}

static void peer_of(struct MHD_Connection *c, mm_http_req *rq, char *buf, size_t bufsz)
{
    rq->peer_pid = -1;
    rq->peer_uid = (uid_t)-1;
    snprintf(buf, bufsz, "unknown");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (sa && (sa->sa_family == AF_INET || sa->sa_family == AF_INET6)) {
        socklen_t sl = sa->sa_family == AF_INET ? sizeof(struct sockaddr_in)
                                                : sizeof(struct sockaddr_in6);
        if (getnameinfo(sa, sl, buf, (socklen_t)bufsz, NULL, 0, NI_NUMERICHOST) != 0)
            snprintf(buf, bufsz, "unknown");
        return;
    }
    snprintf(buf, bufsz, "unix");
    const union MHD_ConnectionInfo *fi =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (fi) {
        struct ucred cr;
        socklen_t cl = sizeof cr;
        if (getsockopt(fi->connect_fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0) {
            rq->peer_pid = cr.pid;
            rq->peer_uid = cr.uid;
        }
    }
}

/* With a client CA, libmicrohttpd asks every TLS client for a certificate
 * but lets the handshake finish without one: whether one was given and
 * verifies against the CA is decided here, per request. */
static bool client_cert_ok(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    unsigned status = 0;
    if (gnutls_certificate_verify_peers2((gnutls_session_t)ci->tls_session, &status) != 0)
        return false;   /* no certificate, or it could not be checked */
    return status == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    mm_httpd *h = cls;
    reqstate *st = *con_cls;
    if (!st || !st->started) {
        /* first call: headers only; refuse what is already known too big */
        if (!st)
            st = mm_xcalloc(1, sizeof *st);
        st->started = true;
        *con_cls = st;
        if (h->trust_pem && !client_cert_ok(c)) {
            st->too_big = true;     /* nothing of the body is kept */
            mm_http_resp resp = {0};
            mm_http_resp_error(&resp, 403, "a client certificate signed by the "
                               "server's client CA is required");
            return send_resp(h, c, &resp);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            errno = 0;
            char *end;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno || end == cl || v > h->o.max_body) {
                /* refused before a byte of the body is read */
                st->too_big = true;
                mm_http_resp resp = {0};
                mm_http_resp_error(&resp, 413, "request body larger than %zu bytes",
                                   h->o.max_body);
                return send_resp(h, c, &resp);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!st->too_big && st->body.len + *upload_size > h->o.max_body) {
            st->too_big = true;
            mm_buf_free(&st->body);
        }
        if (!st->too_big)
            mm_buf_add(&st->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    mm_http_resp resp = {0};
    if (st->too_big) {
        mm_http_resp_error(&resp, 413, "request body larger than %zu bytes", h->o.max_body);
        mm_http_resp_header(&resp, "Connection", "close");
        return send_resp(h, c, &resp);
    }
    if (h->o.json_only && st->body.len > 0 &&
        !is_json_type(MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                  MHD_HTTP_HEADER_CONTENT_TYPE))) {
        mm_http_resp_error(&resp, 415, "request body must be application/json");
        return send_resp(h, c, &resp);
    }
    char peer[64];
    mm_http_req rq = {0};
    rq.method = method;
    rq.path = url;
    rq.body = st->body.data ? st->body.data : "";
    rq.body_len = st->body.len;
    rq.tls = h->tls;
    rq.conn_ = c;
    rq.uri_ = st->uri;
    peer_of(c, &rq, peer, sizeof peer);
    rq.peer = peer;
    (void)version;
    h->o.handler(h->o.ctx, &rq, &resp);
    return send_resp(h, c, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    reqstate *st = *con_cls;
    if (st) {
        mm_buf_free(&st->body);
        free(st->uri);
        free(st);
        *con_cls = NULL;
    }
}

static void mhd_quiet_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls; (void)fmt; (void)ap;
}

static int bind_unix(mm_httpd *h, const char *path, mode_t mode)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sun.sun_path)
        return mm_error_set(MM_EINVAL, "%s: Unix socket path longer than %zu bytes",
                            path, sizeof sun.sun_path - 1);
    strcpy(sun.sun_path, path);
    struct stat sb;
    if (lstat(path, &sb) == 0) {
        if (!S_ISSOCK(sb.st_mode))
            return mm_error_set(MM_EINVAL, "%s: exists and is not a socket", path);
        unlink(path); /* a stale socket of an earlier run */
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return mm_error_set(MM_EIO, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sun, sizeof sun) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        return mm_error_set(MM_EIO, "%s: cannot listen: %s", path, strerror(e));
    }
    chmod(path, mode ? mode : 0660);
    h->fd = fd;
    h->unix_path = mm_xstrdup(path);
    return 0;
}

static int bind_tcp(mm_httpd *h, const char *listen_on)
{
    if (!listen_on || !*listen_on)
        return mm_error_set(MM_EINVAL, "listen address: empty (want HOST:PORT)");
    const char *colon = strrchr(listen_on, ':');
    if (!colon)
        return mm_error_set(MM_EINVAL, "listen address '%s': want HOST:PORT", listen_on);
    char host[256];
    size_t hl = (size_t)(colon - listen_on);
    if (hl >= sizeof host)
        return mm_error_set(MM_EINVAL, "listen address '%s': host too long", listen_on);
    memcpy(host, listen_on, hl);
    host[hl] = 0;
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535)
        return mm_error_set(MM_EINVAL, "listen address '%s': bad port", listen_on);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gr = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
    if (gr != 0)
        return mm_error_set(MM_EINVAL, "listen address '%s': %s", listen_on, gai_strerror(gr));
    int fd = -1, err = 0;
    /* the wildcard prefers IPv6 with v4-mapped addresses, then IPv4 */
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
            if ((pass == 0) != (a->ai_family == AF_INET6))
                continue;
            int s = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (s < 0) {
                err = errno;
                continue;
            }
            int one = 1, zero = 0;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (a->ai_family == AF_INET6 && !host[0])
                setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
            if (bind(s, a->ai_addr, a->ai_addrlen) != 0 || listen(s, 512) != 0) {
                err = errno;
                close(s);
                continue;
            }
            fd = s;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return mm_error_set(MM_EIO, "listen address '%s': %s", listen_on,
                            strerror(err ? err : EADDRNOTAVAIL));
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        h->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                 : ((struct sockaddr_in *)&ss)->sin_port);
    h->fd = fd;
    return 0;
}

static int load_tls(mm_httpd *h, const mm_httpd_opts *o)
{
    char *cert = NULL, *key = NULL;
    if (o->cert_file || o->key_file) {
        if (!o->cert_file || !o->key_file)
            return mm_error_set(MM_EINVAL, "TLS: give both a certificate and a key file");
        cert = mm_xstrdup(o->cert_file);
        key = mm_xstrdup(o->key_file);
    } else {
        if (!o->state_dir)
            return mm_error_set(MM_EINVAL, "TLS: no certificate given and no state "
                                "folder for a self-signed one");
        cert = mm_xasprintf("%s/server.crt", o->state_dir);
        key = mm_xasprintf("%s/server.key", o->state_dir);
        if (access(cert, F_OK) != 0 || access(key, F_OK) != 0) {
            char hn[256] = "localhost";
            if (!o->tls_name && gethostname(hn, sizeof hn - 1) != 0)
                strcpy(hn, "localhost");
            int rc = mm_httpd_selfsigned_write(cert, key, o->tls_name ? o->tls_name : hn);
            if (rc) {
                free(cert);
                free(key);
                return rc;
            }
        }
    }
    size_t len;
    int rc = mm_file_read(cert, 1 << 20, &h->cert_pem, &len);
    if (rc == 0)
        rc = mm_file_read(key, 1 << 20, &h->key_pem, &len);
    if (rc == 0)
        rc = mm_httpd_cert_fingerprint(cert, h->fingerprint);
    free(key);
    if (rc) {
        free(cert);
        return rc;
    }
    if (o->client_ca_file &&
        (rc = mm_file_read(o->client_ca_file, 1 << 20, &h->trust_pem, &len)) != 0) {
        free(cert);
        return rc;
    }
    h->cert_path = cert;
    h->tls = true;
    return 0;
}

int mm_httpd_start(mm_httpd **out, const mm_httpd_opts *o)
{
    *out = NULL;
    if (!o || !o->handler)
        return mm_error_set(MM_EINVAL, "httpd: no handler");
    mm_httpd *h = mm_xcalloc(1, sizeof *h);
    h->fd = -1;
    h->o = *o;
    if (!h->o.max_body)
        h->o.max_body = 1 << 20;
    if (!h->o.threads)
        h->o.threads = 4;
    if (!h->o.max_conns)
        h->o.max_conns = 512;
    if (!h->o.timeout_s)
        h->o.timeout_s = 30;
    int rc = o->unix_path ? bind_unix(h, o->unix_path, o->unix_mode)
                          : bind_tcp(h, o->listen);
    if (rc == 0 && !o->plain && (!o->unix_path || o->cert_file)) {
        rc = load_tls(h, o);
        if (rc == 0 && !MHD_is_feature_supported(MHD_FEATURE_TLS))
            rc = mm_error_set(MM_EUNSUPPORTED, "libmicrohttpd was built without TLS");
    }
    if (rc == 0 && o->client_ca_file && !h->tls)
        rc = mm_error_set(MM_EINVAL, "httpd: a client CA needs TLS (not plain HTTP or a "
                          "Unix socket without a certificate)");
    if (rc) {
        mm_httpd_stop(h);
        return rc;
    }
    if (rc == 0)
        rc = httpd_streams_start(h);
    if (rc) {
        mm_httpd_stop(h);
        return rc;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
    if (h->tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[16];
    int n = 0;
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, h->fd, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, h->o.threads, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, h->o.max_conns, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, h->o.timeout_s, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_MEMORY_LIMIT, 64 * 1024, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK,
                                        (intptr_t)on_uri, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                        (intptr_t)on_completed, NULL};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
                                        (intptr_t)mhd_quiet_log, NULL};
    if (h->tls) {
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem};
        opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem};
        if (h->trust_pem)
            opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, h->trust_pem};
    }
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    h->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
                              MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!h->mhd) {
        rc = mm_error_set(MM_EIO, "httpd: could not start the server on %s%s",
                          o->unix_path ? o->unix_path : o->listen,
                          h->tls ? " (TLS certificate or key refused?)" : "");
        mm_httpd_stop(h);
        return rc;
    }
    *out = h;
    return 0;
}

uint16_t mm_httpd_port(const mm_httpd *h)
{
    return h ? h->port : 0;
}

const char *mm_httpd_fingerprint(const mm_httpd *h)
{
    return h && h->tls ? h->fingerprint : NULL;
}

const char *mm_httpd_cert_path(const mm_httpd *h)
{
    return h && h->tls ? h->cert_path : NULL;
}

void mm_httpd_stop(mm_httpd *h)
{
    if (!h)
        return;
    httpd_streams_stop(h);   /* every stream resumed and told to end */
    if (h->mhd) {
        /* quiesced, MHD leaves the listening socket to us */
        if (MHD_quiesce_daemon(h->mhd) == MHD_INVALID_SOCKET)
            h->fd = -1;
        MHD_stop_daemon(h->mhd);
    }
    if (h->fd >= 0)
        close(h->fd);
    if (h->unix_path)
        unlink(h->unix_path);
    httpd_streams_free(h);
    free(h->unix_path);
    free(h->cert_path);
    free(h->cert_pem);
    free(h->trust_pem);
    if (h->key_pem) {
        explicit_bzero(h->key_pem, strlen(h->key_pem));
        free(h->key_pem);
    }
    free(h);
}
