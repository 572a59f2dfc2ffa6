/*
 * httpd_int.h - what httpd.c and stream.c (lib/httpd) share: the server's
 * state and the streaming responses' entry points.  Private to lib/httpd.
 */
#ifndef MM_HTTPD_INT_H
#define MM_HTTPD_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <microhttpd.h>

#include "mamori/httpd.h"

struct httpd_stream;

struct mm_httpd {
    struct MHD_Daemon *mhd;
    int fd;
    uint16_t port;
    bool tls;
    char *unix_path;
    char *cert_path;
    char fingerprint[104];
    char *cert_pem, *key_pem;
    char *trust_pem;             /* client CA (client_ca_file), or NULL */
    mm_httpd_opts o;
    /* streaming responses (stream.c) */
    pthread_mutex_t smu;
    pthread_cond_t scond;
    bool sinit, sthread, stopping, wake;
    pthread_t waker;
    struct httpd_stream *suspended;   /* waiting for their producer */
    unsigned nstreams;
};

/* Queues r (a stream) on c, or a 503 beyond max_streams; r is cleared. */
enum MHD_Result httpd_stream_queue(mm_httpd *h, struct MHD_Connection *c, mm_http_resp *r);
/* The thread that resumes suspended streams; 0 or MM_E*. */
int httpd_streams_start(mm_httpd *h);
/* Ends every stream: none is suspended afterwards, none suspends again. */
void httpd_streams_stop(mm_httpd *h);
void httpd_streams_free(mm_httpd *h);

#endif
