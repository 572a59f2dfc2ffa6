/*
 * stream.c - streaming responses of the shared HTTP server (lib/httpd):
 * server-sent events and anything else produced a piece at a time.  The
 * handler names a non-blocking producer (mm_http_resp_stream); MHD asks
 * the response for bytes, the producer is asked in turn, and when it has
 * nothing the connection is suspended (MHD_suspend_connection from the
 * content reader) so that no pool thread waits on it.  One waker thread
 * per server resumes the suspended streams every stream_poll_ms, or at
 * once on mm_httpd_stream_wake(); each resumed stream asks its producer
 * again.  With no stream suspended the waker sleeps until one is.  A stream silent for heartbeat_s sends a heartbeat, which keeps
 * proxies from closing it and lets a client that went away be noticed (the
 * write fails, MHD closes the connection, the producer's ud_free runs).
 * The number of streams is capped (503 beyond), and mm_httpd_stop() wakes
 * them all to end before MHD stops: MHD must not stop with a connection
 * suspended.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd/httpd_int.h"
#include "util/util.h"

typedef struct httpd_stream {
    mm_httpd *h;
    struct MHD_Connection *c;
    mm_http_stream_fn fn;
    void *ud;
    void (*ud_free)(void *);
    char *pend;                 /* a chunk not yet all sent */
    size_t plen, poff;
    double last_out;
    struct httpd_stream *next;  /* in h->suspended */
} httpd_stream;

void mm_http_resp_stream(mm_http_resp *r, const char *content_type, mm_http_stream_fn fn,
                         void *ud, void (*ud_free)(void *ud))
{
    if (r->stream_free_)
        r->stream_free_(r->stream_ud_);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->status = 200;
    r->content_type = content_type;
    r->stream_fn_ = fn;
    r->stream_ud_ = ud;
    r->stream_free_ = ud_free;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    httpd_stream *s = cls;
    mm_httpd *h = s->h;
    (void)pos;
    if (!s->pend) {
        if (__atomic_load_n(&h->stopping, __ATOMIC_ACQUIRE))
            return MHD_CONTENT_READER_END_OF_STREAM;
        size_t len = 0;
        char *d = s->fn(s->ud, &len);
        if (!d && len == MM_HTTP_STREAM_END)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (d && len && len != MM_HTTP_STREAM_END) {
            s->pend = d;
            s->plen = len;
            s->poff = 0;
        } else {
            free(d);
            if (mm_now() - s->last_out >= h->o.heartbeat_s) {
                const char *hb = h->o.heartbeat ? h->o.heartbeat : ":\n\n";
                s->pend = mm_xstrdup(hb);
                s->plen = strlen(hb);
                s->poff = 0;
            } else {
                /* nothing yet: off MHD's loop until the waker resumes it */
                pthread_mutex_lock(&h->smu);
                if (h->stopping) {
                    pthread_mutex_unlock(&h->smu);
                    return MHD_CONTENT_READER_END_OF_STREAM;
                }
                MHD_suspend_connection(s->c);
                if (!h->suspended)
                    pthread_cond_signal(&h->scond);   /* the waker starts polling */
                s->next = h->suspended;
                h->suspended = s;
                pthread_mutex_unlock(&h->smu);
                return 0;
            }
        }
    }
    size_t n = s->plen - s->poff < max ? s->plen - s->poff : max;
    memcpy(buf, s->pend + s->poff, n);
    s->poff += n;
    if (s->poff == s->plen) {
        free(s->pend);
        s->pend = NULL;
    }
    s->last_out = mm_now();
    return (ssize_t)n;
}

/* the response is gone: the client left, the stream ended or MHD stopped */
static void stream_done(void *cls)
{
    httpd_stream *s = cls;
    mm_httpd *h = s->h;
    pthread_mutex_lock(&h->smu);
    for (httpd_stream **pp = &h->suspended; *pp; pp = &(*pp)->next)
        if (*pp == s) {   /* only when MHD closed it suspended (not expected) */
            *pp = s->next;
            break;
        }
    h->nstreams--;
    pthread_mutex_unlock(&h->smu);
    if (s->ud_free)
        s->ud_free(s->ud);
    free(s->pend);
    free(s);
}

enum MHD_Result httpd_stream_queue(mm_httpd *h, struct MHD_Connection *c, mm_http_resp *r)
{
    httpd_stream *s = mm_xcalloc(1, sizeof *s);
    s->h = h;
    s->c = c;
    s->fn = r->stream_fn_;
    s->ud = r->stream_ud_;
    s->ud_free = r->stream_free_;
    s->last_out = mm_now();
    r->stream_fn_ = NULL;
    r->stream_free_ = NULL;   /* ours now */
    pthread_mutex_lock(&h->smu);
    bool full = h->stopping || h->nstreams >= h->o.max_streams;
    if (!full)
        h->nstreams++;
    pthread_mutex_unlock(&h->smu);
    struct MHD_Response *mr = NULL;
    if (full) {
        if (s->ud_free)
            s->ud_free(s->ud);
        free(s);
        char *msg = mm_xasprintf("{\"error\":\"too many streams (at most %u)\",\"status\":503}",
                                 h->o.max_streams);
        mr = MHD_create_response_from_buffer(strlen(msg), msg, MHD_RESPMEM_MUST_FREE);
        if (!mr) {
            free(msg);
            mm_http_resp_clear(r);
            return MHD_NO;
        }
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        MHD_add_response_header(mr, "Retry-After", "5");
    } else {
        mr = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, stream_read, s,
                                               stream_done);
        if (!mr) {
            stream_done(s);
            mm_http_resp_clear(r);
            return MHD_NO;
        }
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->content_type ? r->content_type : "application/octet-stream");
        MHD_add_response_header(mr, "X-Accel-Buffering", "no");  /* proxies: pass each piece */
    }
    MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(mr, "Cache-Control", "no-store");
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(mr, r->hname[i], r->hvalue[i]);
    enum MHD_Result ret = MHD_queue_response(c, full ? 503 : (unsigned)(r->status ? r->status : 200),
                                             mr);
    MHD_destroy_response(mr);   /* a stream's state lives until MHD is done with it */
    mm_http_resp_clear(r);
    return ret;
}

/* resumes every suspended stream; with smu held */
static void resume_all(mm_httpd *h)
{
    for (httpd_stream *s = h->suspended, *nx; s; s = nx) {
        nx = s->next;
        s->next = NULL;
        MHD_resume_connection(s->c);
    }
    h->suspended = NULL;
}

static void *waker(void *arg)
{
    mm_httpd *h = arg;
    pthread_mutex_lock(&h->smu);
    while (!h->stopping) {
        if (!h->suspended && !h->wake) {
            /* nothing waits: sleep until a stream suspends or a wake */
            pthread_cond_wait(&h->scond, &h->smu);
            continue;
        }
        if (!h->wake) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            long ns = ts.tv_nsec + (long)h->o.stream_poll_ms * 1000000L;
            ts.tv_sec += ns / 1000000000L;
            ts.tv_nsec = ns % 1000000000L;
            pthread_cond_timedwait(&h->scond, &h->smu, &ts);
        }
        h->wake = false;
        resume_all(h);
    }
    pthread_mutex_unlock(&h->smu);
    return NULL;
}

int httpd_streams_start(mm_httpd *h)
{
    if (!h->o.max_streams)
        h->o.max_streams = 64;
    if (!h->o.stream_poll_ms)
        h->o.stream_poll_ms = 20;
    if (!h->o.heartbeat_s)
        h->o.heartbeat_s = 15;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&h->smu, NULL);
    pthread_cond_init(&h->scond, &ca);
    pthread_condattr_destroy(&ca);
    h->sinit = true;
    int e = pthread_create(&h->waker, NULL, waker, h);
    if (e)
        return mm_error_set(MM_EIO, "httpd: stream thread: %s", strerror(e));
    h->sthread = true;
    return 0;
}

void mm_httpd_stream_wake(mm_httpd *h)
{
    if (!h || !h->sinit)
        return;
    pthread_mutex_lock(&h->smu);
    h->wake = true;
    pthread_cond_signal(&h->scond);
    pthread_mutex_unlock(&h->smu);
}

unsigned mm_httpd_streams(const mm_httpd *h)
{
    if (!h || !h->sinit)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&h->smu);
    unsigned n = h->nstreams;
    pthread_mutex_unlock((pthread_mutex_t *)&h->smu);
    return n;
}

void httpd_streams_stop(mm_httpd *h)
{
    if (!h->sinit)
        return;
    pthread_mutex_lock(&h->smu);
    __atomic_store_n(&h->stopping, true, __ATOMIC_RELEASE);
    resume_all(h);   /* each asks again, sees stopping and ends */
    pthread_cond_signal(&h->scond);
    pthread_mutex_unlock(&h->smu);
    if (h->sthread)
        pthread_join(h->waker, NULL);
    h->sthread = false;
}

void httpd_streams_free(mm_httpd *h)
{
    if (!h->sinit)
        return;
    pthread_cond_destroy(&h->scond);
    pthread_mutex_destroy(&h->smu);
    h->sinit = false;
}
