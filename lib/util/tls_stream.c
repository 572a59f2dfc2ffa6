/*
 * util/tls_stream.c - a TLS byte stream through the one libcurl transport
 * (util/http.h), for protocols that are not HTTP but ride on TLS: syslog
 * over TLS (RFC 5425) for the server's notifications and exports.  libcurl
 * connects and completes the handshake (CURLOPT_CONNECT_ONLY, verified
 * against the system store plus an optional CA file, as every other
 * transfer), then the caller's bytes go out with curl_easy_send.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "util/http.h"

struct mm_tls_stream {
    CURL *e;
};

int mm_tls_stream_open(mm_tls_stream **out, const char *host, unsigned port,
                       const mm_http_opts *o)
{
    *out = NULL;
    if (!host || !*host || strlen(host) > 255 || strpbrk(host, "/?#@ ") || !port || port > 65535)
        return mm_error_set(MM_EINVAL, "tls: bad host or port");
    if (mm_http_global_init() != 0)
        return MM_ENOMEM;
    CURL *e = curl_easy_init();
    if (!e)
        return mm_error_set(MM_ENOMEM, "tls: no curl handle");
    bool v6 = strchr(host, ':') != NULL;
    char *url = mm_xasprintf("https://%s%s%s:%u/", v6 ? "[" : "", host, v6 ? "]" : "", port);
    char err[CURL_ERROR_SIZE] = "";
    mm_http_setup(e, url, o, err);
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(e, CURLOPT_PROXY, "");   /* a syslog peer is reached directly */
    CURLcode cc = curl_easy_perform(e);
    if (cc != CURLE_OK) {
        int rc = mm_error_set(MM_ENET, "tls://%s:%u: %s", host, port,
                              err[0] ? err : curl_easy_strerror(cc));
        free(url);
        curl_easy_cleanup(e);
        return rc;
    }
    free(url);
    mm_tls_stream *s = mm_xcalloc(1, sizeof *s);
    s->e = e;
    *out = s;
    return 0;
}

int mm_tls_stream_write(mm_tls_stream *s, const void *data, size_t len, long timeout_s)
{
    const char *p = data;
    double end = mm_now() + (timeout_s > 0 ? timeout_s : 30);
    while (len > 0) {
        size_t sent = 0;
        CURLcode cc = curl_easy_send(s->e, p, len, &sent);
        if (cc == CURLE_AGAIN) {
            curl_socket_t fd;
            if (curl_easy_getinfo(s->e, CURLINFO_ACTIVESOCKET, &fd) != CURLE_OK ||
                fd == CURL_SOCKET_BAD || mm_now() > end)
                return mm_error_set(MM_ENET, "tls: send timed out");
            fd_set w;
            FD_ZERO(&w);
            FD_SET(fd, &w);
            struct timeval tv = {1, 0};
            select(fd + 1, NULL, &w, NULL, &tv);
            continue;
        }
        if (cc != CURLE_OK)
            return mm_error_set(MM_ENET, "tls: send: %s", curl_easy_strerror(cc));
        p += sent;
        len -= sent;
    }
    return 0;
}

void mm_tls_stream_close(mm_tls_stream *s)
{
    if (!s)
        return;
    curl_easy_cleanup(s->e);
    free(s);
}
