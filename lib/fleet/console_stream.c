/*
 * console_stream.c - the console's live alerts (issue 20):
 * GET /api/v1/events/stream as server-sent events.
 *
 * By default the answer is a real stream (lib/httpd's streaming
 * response): first `retry: 1000` and the alerts after the client's
 * Last-Event-ID (or ?after=; none: only what comes from now on), then each
 * new alert as it is stored, as `event: alert` records whose id is the
 * alert's sequence number, so EventSource resumes where it stopped and no
 * alert is lost or sent twice.  The producer never blocks: it looks at the
 * store only when the fleet's alert counter moved (the ingest bumps it and
 * wakes the server's streams), at most 500 alerts a time.  A stream ends
 * after FLEET_STREAM_LIFE seconds (the client reconnects and its session or
 * token is checked again: a revoked one is refused then) or when the
 * client goes away (noticed at the next heartbeat).  With ?wait=SECONDS
 * (0-10) the old poll answer is kept: what is there after the id, waiting
 * up to that long for the first one, then the response ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/routes.h"

#define FLEET_STREAM_LIFE 300.0
#define FLEET_STREAM_BATCH 500

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

typedef struct sse {
    mm_buf out;
    int64_t last;
    int n;
} sse;

static int sse_row(void *ud, int n, const char *const *v, const char *const *names)
{
    sse *s = ud;
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        if (!strcmp(names[i], "body")) {
            json_t *b = v[i] ? json_loads(v[i], 0, NULL) : NULL;
            json_object_set_new(o, "event", b ? b : json_null());
        } else if (!strcmp(names[i], "seq") || !strcmp(names[i], "ts"))
            json_object_set_new(o, names[i], json_integer(num(v[i])));
        else
            json_object_set_new(o, names[i], v[i] ? mm_json_str(v[i]) : json_null());
    }
    char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    s->last = num(v[0]);
    /* one data line: compact JSON holds no newline */
    mm_buf_printf(&s->out, "id: %lld\nevent: alert\ndata: %s\n\n", (long long)s->last,
                  t ? t : "null");
    free(t);
    s->n++;
    return 0;
}

/* the alerts after s->last, at most limit; 0 or MM_E* */
static int sse_fetch(mm_fleet *f, sse *s, int limit)
{
    char after[24], sql[256];
    snprintf(after, sizeof after, "%lld", (long long)s->last);
    snprintf(sql, sizeof sql, "SELECT seq, host_id, event_id, ts, kind, severity, section, rule,"
             " image, container, title, body FROM events WHERE seq > $1 ORDER BY seq LIMIT %d",
             limit);
    const char *p[] = {after};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, sql, 1, p, sse_row, s);
    fdb_unlock(f->db);
    return rc;
}

/* --- the stream's producer (called by lib/httpd, never blocking) ---------- */
typedef struct live {
    mm_fleet *f;
    int64_t last;     /* the id of the last alert sent */
    int64_t gen;      /* f->events_gen when the store was last read */
    double until;
    bool hello;
} live;

static char *live_next(void *ud, size_t *len)
{
    live *l = ud;
    *len = 0;
    if (!l->hello) {
        l->hello = true;
        char *s = mm_xasprintf("retry: 1000\nid: %lld\n\n", (long long)l->last);
        *len = strlen(s);
        return s;
    }
    if (mm_now() >= l->until) {
        *len = MM_HTTP_STREAM_END;
        return NULL;
    }
    int64_t g = __atomic_load_n(&l->f->events_gen, __ATOMIC_ACQUIRE);
    if (g == l->gen)
        return NULL;   /* nothing stored since the last look */
    sse s = {MM_BUF_INIT, l->last, 0};
    if (sse_fetch(l->f, &s, FLEET_STREAM_BATCH) != 0) {
        mm_buf_free(&s.out);
        *len = MM_HTTP_STREAM_END;   /* the client reconnects and is told */
        return NULL;
    }
    if (s.n < FLEET_STREAM_BATCH)
        l->gen = g;    /* all read; a batch stored meanwhile bumped it again */
    l->last = s.last;
    if (!s.n) {
        mm_buf_free(&s.out);
        return NULL;
    }
    *len = s.out.len;
    return s.out.data;   /* malloc'd: lib/httpd frees it */
}

void mm_fleet_on_events(mm_fleet *f, void (*fn)(void *ud), void *ud)
{
    pthread_mutex_lock(&f->mu);
    f->on_events = fn;
    f->on_events_ud = ud;
    pthread_mutex_unlock(&f->mu);
}

void route_events_stream(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    (void)fc;
    const char *a = mm_http_req_header(rq, "Last-Event-ID");
    if (!a)
        a = mm_http_req_query(rq, "after");
    const char *w = mm_http_req_query(rq, "wait");
    double wait = w ? atof(w) : 0;
    if (!(wait >= 0 && wait <= 10))
        wait = 0;
    sse s = {MM_BUF_INIT, 0, 0};
    int rc = 0;
    if (a) {
        char *end;
        s.last = strtoll(a, &end, 10);
        if (*end || end == a || s.last < 0) {
            mm_http_resp_error(resp, 400, "after: want the id of the last event received");
            return;
        }
    } else {
        fdb_lock(f->db);
        rc = fdb_query_int(f->db, "SELECT MAX(seq) FROM events", 0, NULL, 0, &s.last);
        fdb_unlock(f->db);
        if (rc) {
            mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
            return;
        }
    }
    if (!w) {   /* the live stream */
        live *l = mm_xcalloc(1, sizeof *l);
        l->f = f;
        l->last = s.last;
        l->gen = -1;   /* read the backlog after the id first */
        l->until = mm_now() + FLEET_STREAM_LIFE;
        mm_http_resp_stream(resp, "text/event-stream", live_next, l, free);
        return;
    }
    /* ?wait=: one answer that ends (a poll) */
    mm_buf_adds(&s.out, "retry: 1000\n\n");
    double end = mm_now() + wait;
    while (rc == 0) {
        rc = sse_fetch(f, &s, 2000);
        if (s.n || mm_now() >= end)
            break;
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (rc) {
        mm_buf_free(&s.out);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    if (!s.n)   /* says where the client stands, for its next request */
        mm_buf_printf(&s.out, "id: %lld\n: no new alerts\n\n", (long long)s.last);
    mm_http_resp_text(resp, 200, "text/event-stream", s.out.data, s.out.len);
    mm_buf_free(&s.out);
}
