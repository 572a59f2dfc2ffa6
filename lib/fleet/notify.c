/*
 * notify.c - alerts of `mamori server` and their delivery.  An alert (a
 * new vulnerability found by a re-match, a stale image, a failed job) is
 * stored in the alerts table, then queued in notify_outbox once for every
 * route that takes it (by minimum severity, kind, namespace and SP 800-190
 * section).  The scheduler drains the outbox: webhooks get the alert as a
 * JSON POST signed with HMAC-SHA256 of the body under the route's secret
 * (X-Mamori-Signature: sha256=<hex>), sent through the one libcurl
 * transport; syslog routes get an RFC 5424 message over TLS with octet
 * counting (RFC 5425/6587).  A failed delivery is retried with exponential
 * backoff (1 s, 2 s, 4 s ... capped at an hour; given up after 20
 * attempts) and the queue lives in the store, so a restart loses nothing.
 *
 * Runtime events sent by agents go through the same routes: the scheduler
 * follows the events table with a cursor (from the newest event when it
 * first runs, so a new server does not replay its history) and queues each
 * event a route takes, its namespace read from Falco's k8s.ns.name.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fleet/ops.h"
#include "util/http.h"

#define MAX_ATTEMPTS 20
#define MAX_BACKOFF 3600

static const char *const SECTIONS_DEFAULT = "3.1.1";

static json_t *alert_body(const ops_alert *a, int64_t ts)
{
    json_t *j = json_object();
    char t[32];
    mm_time_rfc3339(ts, t);
    json_object_set_new(j, "time", json_string(t));
    json_object_set_new(j, "kind", json_string(a->kind));
    json_object_set_new(j, "severity", json_string(a->severity));
    json_object_set_new(j, "section", json_string(a->section ? a->section : SECTIONS_DEFAULT));
    json_object_set_new(j, "title", json_string(a->title));
    mm_json_set_str(j, "image", a->image);
    mm_json_set_str(j, "host_id", a->host_id);
    mm_json_set_str(j, "namespace", a->namespace_);
    mm_json_set_str(j, "vulnerability", a->vuln_id);
    mm_json_set_str(j, "package", a->package);
    if (a->extra)
        json_object_update(j, a->extra);
    return j;
}

bool ops_route_matches(json_t *route, json_t *alert)
{
    const char *min = ops_js(route, "min_severity");
    if (min && ops_sev_rank(ops_js(alert, "severity")) < ops_sev_rank(min))
        return false;
    static const struct { const char *list, *field; } f[] = {
        {"kinds", "kind"}, {"namespaces", "namespace"}, {"sections", "section"}};
    for (size_t i = 0; i < 3; i++) {
        json_t *l = json_object_get(route, f[i].list);
        if (!l)
            continue;
        const char *v = ops_js(alert, f[i].field);
        bool hit = false;
        for (size_t k = 0; v && k < json_array_size(l) && !hit; k++) {
            const char *w = json_string_value(json_array_get(l, k));
            /* a section matches its subsections: "3.1" takes "3.1.1" */
            size_t wl = strlen(w);
            hit = !strcmp(w, v) || (!strcmp(f[i].list, "sections") && !strncmp(w, v, wl) &&
                                    v[wl] == '.');
        }
        /* an image running in several namespaces: any of them */
        json_t *many = !strcmp(f[i].list, "namespaces") ? json_object_get(alert, "namespaces")
                                                         : NULL;
        for (size_t k = 0; !hit && k < json_array_size(many); k++)
            for (size_t m = 0; !hit && m < json_array_size(l); m++)
                hit = json_equal(json_array_get(many, k), json_array_get(l, m));
        if (!hit)
            return false;
    }
    return true;
}

typedef struct route_rows {
    json_t *routes;   /* array of parsed params */
} route_rows;

static int route_row(void *ud, int n, const char *const *v, const char *const *names)
{
    route_rows *r = ud;
    json_t *j = v[0] ? json_loads(v[0], 0, NULL) : NULL;
    if (json_is_object(j))
        json_array_append_new(r->routes, j);
    else
        json_decref(j);
    return 0;
}

static void num(char *b, size_t n, int64_t v)
{
    snprintf(b, n, "%lld", (long long)v);
}

int ops_alert_raise(mm_fleet *f, const ops_alert *a)
{
    int64_t now = fleet_now();
    json_t *body = alert_body(a, now);
    route_rows rr = {json_array()};
    char ts[24], sseq[24], aseq[24];
    num(ts, sizeof ts, now);
    num(sseq, sizeof sseq, a->scan_seq);
    fdb_lock(f->db);
    int64_t seq = 0;
    int rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    char *txt = NULL;
    if (rc == 0) {
        txt = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        const char *p[] = {ts, a->kind, a->severity, a->section ? a->section : SECTIONS_DEFAULT,
                           a->image, a->host_id, a->namespace_, a->vuln_id, a->package,
                           a->scan_seq ? sseq : NULL, a->title, txt};
        rc = fdb_query_int(f->db, "INSERT INTO alerts (ts, kind, severity, section, image,"
                           " host_id, namespace, vuln_id, package, scan_seq, title, body)"
                           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
                           " RETURNING seq", 12, p, 0, &seq);
    }
    if (rc == 0)
        rc = fdb_query(f->db, "SELECT params FROM notify_routes ORDER BY name", 0, NULL,
                       route_row, &rr);
    num(aseq, sizeof aseq, seq);
    for (size_t i = 0; rc == 0 && i < json_array_size(rr.routes); i++) {
        json_t *r = json_array_get(rr.routes, i);
        if (!ops_route_matches(r, body))
            continue;
        const char *p[] = {ops_js(r, "name"), aseq, ts};
        rc = fdb_exec(f->db, "INSERT INTO notify_outbox (route, alert_seq, created, next_try)"
                      " VALUES ($1, $2, $3, $3)", 3, p, NULL);
    }
    rc = fdb_end(f->db, rc);
    fdb_unlock(f->db);
    free(txt);
    json_decref(rr.routes);
    json_decref(body);
    if (rc == 0 && f->ops) {
        pthread_mutex_lock(&f->ops->mu);
        f->ops->alerts++;
        pthread_mutex_unlock(&f->ops->mu);
    }
    return rc;
}

/* --- delivery ------------------------------------------------------------------ */

void ops_hmac_sig(const char *secret, const char *body, size_t len, char out[72])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int ml = 0;
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac, &ml);
    strcpy(out, "sha256=");
    for (unsigned i = 0; i < ml && i < 32; i++)
        sprintf(out + 7 + 2 * i, "%02x", mac[i]);
}

int ops_webhook_post(const char *url, const char *secret, const char *ca_file, bool insecure,
                     const char *ctype, const char *body, size_t len, long *status)
{
    mm_http_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.connect_timeout_s = 10;
    ho.total_timeout_s = 30;
    ho.ca_file = ca_file;
    ho.insecure = insecure;
    mm_http *h = NULL;
    int rc = mm_http_new(&h, &ho);
    if (rc)
        return rc;
    char sig[72], hdr[96];
    ops_hmac_sig(secret ? secret : "", body, len, sig);
    snprintf(hdr, sizeof hdr, "X-Mamori-Signature: %s", sig);
    const char *hdrs[] = {hdr, NULL};
    rc = mm_http_send_hdrs(h, "POST", url, ctype ? ctype : "application/json", body, len, hdrs,
                           status, NULL);
    mm_http_free(h);
    return rc;
}

/* RFC 5424 SD-PARAM value: escape '"', '\' and ']' */
static void sd_param(mm_buf *b, const char *name, const char *v)
{
    if (!v)
        return;
    mm_buf_printf(b, " %s=\"", name);
    for (const char *p = v; *p && p - v < 512; p++) {
        if (*p == '"' || *p == '\\' || *p == ']')
            mm_buf_addc(b, '\\');
        mm_buf_addc(b, *p);
    }
    mm_buf_addc(b, '"');
}

char *ops_syslog_format(json_t *alert, const char *app)
{
    static const int sev[] = {6, 5, 4, 3, 2};   /* UNKNOWN info .. CRITICAL crit */
    int r = ops_sev_rank(ops_js(alert, "severity"));
    int pri = 4 * 8 + sev[r < 0 ? 0 : r];         /* facility 4: security/authorization */
    char host[256] = "-";
    if (gethostname(host, sizeof host - 1) != 0 || !host[0])
        strcpy(host, "-");
    host[255] = 0;
    for (char *c = host; *c; c++)
        if (*c <= 32 || *c >= 127)
            *c = '-';
    const char *kind = ops_js(alert, "kind");
    char msgid[33];
    snprintf(msgid, sizeof msgid, "%s", kind && *kind ? kind : "-");
    for (char *c = msgid; *c; c++)
        if (*c <= 32 || *c >= 127)
            *c = '_';
    char tsbuf[32];
    const char *t = ops_js(alert, "time");
    if (!t) {
        mm_time_rfc3339(fleet_now(), tsbuf);
        t = tsbuf;
    }
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b, "<%d>1 %s %s %.48s %d %s [mamori@32473", pri, t, host,
                  app && *app ? app : "mamori", (int)getpid(), msgid);
    sd_param(&b, "kind", kind);
    sd_param(&b, "severity", ops_js(alert, "severity"));
    sd_param(&b, "section", ops_js(alert, "section"));
    sd_param(&b, "image", ops_js(alert, "image"));
    sd_param(&b, "host", ops_js(alert, "host_id"));
    sd_param(&b, "vulnerability", ops_js(alert, "vulnerability"));
    mm_buf_adds(&b, "] ");
    char *j = json_dumps(alert, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
    mm_buf_adds(&b, j ? j : "{}");
    free(j);
    return mm_buf_detach(&b);
}

int ops_syslog_send(const char *url, const char *ca_file, bool insecure,
                    const char *const *msgs, size_t n)
{
    const char *hp = url + (mm_str_startswith(url, "tls://") ? 6 : 0);
    const char *colon = strrchr(hp, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || !end || *end || port < 1 || port > 65535 || colon == hp)
        return mm_error_set(MM_EINVAL, "%s: want tls://HOST:PORT", url);
    char *host = mm_xstrndup(hp, (size_t)(colon - hp));
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = 0;
    }
    mm_http_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.connect_timeout_s = 10;
    ho.ca_file = ca_file;
    ho.insecure = insecure;
    mm_tls_stream *s = NULL;
    int rc = mm_tls_stream_open(&s, host, (unsigned)port, &ho);
    free(host);
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        mm_buf_clear(&b);
        mm_buf_printf(&b, "%zu %s", strlen(msgs[i]), msgs[i]);   /* octet counting */
        rc = mm_tls_stream_write(s, b.data, b.len, 30);
    }
    mm_buf_free(&b);
    mm_tls_stream_close(s);
    return rc;
}

typedef struct due {
    int64_t seq, alert_seq, event_seq, attempts;
    char *route;
} due;

typedef struct due_list {
    due *v;
    size_t n;
} due_list;

static int due_row(void *ud, int n, const char *const *v, const char *const *names)
{
    due_list *l = ud;
    l->v = mm_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    due *d = &l->v[l->n++];
    d->seq = strtoll(v[0], NULL, 10);
    d->route = mm_xstrdup(v[1]);
    d->alert_seq = v[2] ? strtoll(v[2], NULL, 10) : 0;
    d->attempts = v[3] ? strtoll(v[3], NULL, 10) : 0;
    d->event_seq = v[4] ? strtoll(v[4], NULL, 10) : 0;
    return 0;
}

static int due_cmp(const void *a, const void *b)
{
    const due *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct one_text {
    char *s;
} one_text;

static int text_row(void *ud, int n, const char *const *v, const char *const *names)
{
    one_text *t = ud;
    if (!t->s && v[0])
        t->s = mm_xstrdup(v[0]);
    return 0;
}

static int deliver(json_t *route, const char *body, int64_t seq)
{
    const char *kind = ops_js(route, "kind"), *url = ops_js(route, "url");
    bool insecure = json_is_true(json_object_get(route, "insecure"));
    if (kind && !strcmp(kind, "webhook")) {
        long status = 0;
        int rc = ops_webhook_post(url, ops_js(route, "secret"), ops_js(route, "ca_file"),
                                  insecure, NULL, body, strlen(body), &status);
        if (rc)
            return rc;
        if (status < 200 || status > 299)
            return mm_error_set(MM_ENET, "%s: HTTP %ld", url, status);
        return 0;
    }
    json_t *a = json_loads(body, 0, NULL);
    if (a)
        json_object_set_new(a, "delivery", json_integer(seq));
    char *msg = ops_syslog_format(a, ops_js(route, "app_name"));
    json_decref(a);
    const char *m[] = {msg};
    int rc = ops_syslog_send(url, ops_js(route, "ca_file"), insecure, m, 1);
    free(msg);
    return rc;
}

/* --- runtime events ------------------------------------------------------------ */

#define EVENT_COLS "seq, host_id, event_id, ts, kind, severity, section, rule, image," \
                   " container, title, body"

typedef struct event_json {
    json_t *j;          /* one event as a notification body */
    json_t *list;       /* or: every row appended */
} event_json;

/* An event row as the body a route receives: the alert's members, and the
 * agent's event itself under "event". */
static int event_row(void *ud, int n, const char *const *v, const char *const *names)
{
    event_json *e = ud;
    json_t *ev = v[11] ? json_loads(v[11], 0, NULL) : NULL;
    json_t *j = json_object();
    char t[32];
    mm_time_rfc3339(v[3] ? strtoll(v[3], NULL, 10) : 0, t);
    json_object_set_new(j, "seq", json_integer(strtoll(v[0], NULL, 10)));
    json_object_set_new(j, "time", json_string(t));
    mm_json_set_str(j, "host_id", v[1]);
    mm_json_set_str(j, "event_id", v[2]);
    mm_json_set_str(j, "kind", v[4]);
    mm_json_set_str(j, "severity", v[5]);
    mm_json_set_str(j, "section", v[6]);
    mm_json_set_str(j, "rule", v[7]);
    mm_json_set_str(j, "image", v[8]);
    mm_json_set_str(j, "container", v[9]);
    mm_json_set_str(j, "title", v[10]);
    json_t *of = json_object_get(ev, "output_fields");
    const char *ns = json_string_value(json_object_get(of, "k8s.ns.name"));
    if (!ns)
        ns = json_string_value(json_object_get(ev, "namespace"));
    if (ns && strlen(ns) <= 253)
        json_object_set_new(j, "namespace", json_string(ns));
    if (ev)
        json_object_set_new(j, "event", ev);
    if (e->list)
        json_array_append_new(e->list, j);
    else {
        json_decref(e->j);
        e->j = j;
    }
    return 0;
}

#define EVENT_CURSOR "@notify"

/* Queues the events stored since the last call for the routes that take
 * them; returns how many were queued. */
static int notify_events(mm_fleet *f)
{
    route_rows rr = {json_array()};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT params FROM notify_routes ORDER BY name", 0, NULL,
                       route_row, &rr);
    fdb_unlock(f->db);
    if (rc || json_array_size(rr.routes) == 0) {
        json_decref(rr.routes);
        return rc;
    }
    const char *cp[] = {EVENT_CURSOR, "events"};
    int64_t cur = -1, max = 0;
    fdb_lock(f->db);
    rc = fdb_query_int(f->db, "SELECT last_seq FROM export_cursors WHERE name = $1 AND"
                       " kind = $2", 2, cp, -1, &cur);
    if (rc == 0 && cur < 0) {
        /* first run: from now on, not the history */
        rc = fdb_query_int(f->db, "SELECT MAX(seq) FROM events", 0, NULL, 0, &max);
        char m[24];
        num(m, sizeof m, max);
        const char *p[] = {EVENT_CURSOR, "events", m};
        if (rc == 0)
            rc = fdb_exec(f->db, "INSERT INTO export_cursors (name, kind, last_seq) VALUES"
                          " ($1, $2, $3)", 3, p, NULL);
    }
    fdb_unlock(f->db);
    int queued = 0;
    for (int batch = 0; rc == 0 && cur >= 0 && batch < 20; batch++) {
        char c[24], now[24];
        num(c, sizeof c, cur);
        num(now, sizeof now, fleet_now());
        const char *p[] = {c};
        event_json ej = {NULL, json_array()};
        fdb_lock(f->db);
        rc = fdb_query(f->db, "SELECT " EVENT_COLS " FROM events WHERE seq > $1 ORDER BY seq"
                       " LIMIT 1000", 1, p, event_row, &ej);
        size_t n = json_array_size(ej.list);
        if (rc == 0 && n) {
            rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
            for (size_t i = 0; rc == 0 && i < n; i++) {
                json_t *e = json_array_get(ej.list, i);
                char es[24];
                num(es, sizeof es, json_integer_value(json_object_get(e, "seq")));
                for (size_t k = 0; rc == 0 && k < json_array_size(rr.routes); k++) {
                    json_t *r = json_array_get(rr.routes, k);
                    if (!ops_route_matches(r, e))
                        continue;
                    const char *q[] = {ops_js(r, "name"), es, now};
                    rc = fdb_exec(f->db, "INSERT INTO notify_outbox (route, event_seq, created,"
                                  " next_try) VALUES ($1, $2, $3, $3)", 3, q, NULL);
                    queued++;
                }
            }
            cur = json_integer_value(json_object_get(json_array_get(ej.list, n - 1), "seq"));
            char l[24];
            num(l, sizeof l, cur);
            /* parameters numbered in order of first use (fleet/db.h) */
            const char *up[] = {l, EVENT_CURSOR, "events"};
            if (rc == 0)
                rc = fdb_exec(f->db, "UPDATE export_cursors SET last_seq = $1 WHERE name = $2"
                              " AND kind = $3", 3, up, NULL);
            rc = fdb_end(f->db, rc);
        }
        fdb_unlock(f->db);
        json_decref(ej.list);
        if (n < 1000)
            break;
    }
    json_decref(rr.routes);
    return rc ? rc : queued;
}

int ops_notify_run(mm_fleet *f, int max)
{
    notify_events(f);
    char now[24], lim[24];
    num(now, sizeof now, fleet_now());
    num(lim, sizeof lim, max > 0 ? max : 100);
    const char *p[] = {now, lim};
    due_list dl = {0};
    fdb_lock(f->db);
    /* claimed for 5 minutes in one statement (a crash mid-delivery retries
     * then; of several servers on one PostgreSQL only one delivers an entry) */
    int rc = fdb_query(f->db, "UPDATE notify_outbox SET next_try = CAST($1 AS BIGINT) + 300 WHERE"
                       " state = 'pending' AND next_try <= $1 AND seq IN (SELECT seq FROM"
                       " notify_outbox WHERE state = 'pending' AND next_try <= $1 ORDER BY seq"
                       " LIMIT $2) RETURNING seq, route, alert_seq, attempts, event_seq",
                       2, p, due_row, &dl);
    fdb_unlock(f->db);
    if (dl.n > 1)
        qsort(dl.v, dl.n, sizeof *dl.v, due_cmp);
    int sent = 0;
    for (size_t i = 0; rc == 0 && i < dl.n; i++) {
        due *d = &dl.v[i];
        char s[24], a[24];
        num(s, sizeof s, d->seq);
        num(a, sizeof a, d->alert_seq);
        one_text route = {0}, body = {0};
        const char *rp[] = {d->route}, *ap[] = {a};
        fdb_lock(f->db);
        fdb_query(f->db, "SELECT params FROM notify_routes WHERE name = $1", 1, rp, text_row,
                  &route);
        if (d->event_seq) {
            num(a, sizeof a, d->event_seq);
            event_json ej = {NULL};
            fdb_query(f->db, "SELECT " EVENT_COLS " FROM events WHERE seq = $1", 1, ap,
                      event_row, &ej);
            body.s = ej.j ? json_dumps(ej.j, JSON_COMPACT | JSON_SORT_KEYS |
                                       JSON_ENSURE_ASCII) : NULL;
            json_decref(ej.j);
        } else
            fdb_query(f->db, "SELECT body FROM alerts WHERE seq = $1", 1, ap, text_row, &body);
        fdb_unlock(f->db);
        json_t *rj = route.s ? json_loads(route.s, 0, NULL) : NULL;
        const char *state = "pending", *err = NULL;
        char *errbuf = NULL;
        if (!rj || !body.s)
            state = "dropped", err = !rj ? "the route is gone" : "the alert is gone";
        else if (deliver(rj, body.s, d->seq) == 0)
            state = "delivered";
        else {
            errbuf = mm_xstrdup(mm_error_last());
            err = errbuf;
            if (d->attempts + 1 >= MAX_ATTEMPTS)
                state = "failed";
        }
        int64_t back = 1;
        for (int64_t k = 0; k < d->attempts && back < MAX_BACKOFF; k++)
            back *= 2;
        if (back > MAX_BACKOFF)
            back = MAX_BACKOFF;
        char nt[24], t[24];
        num(nt, sizeof nt, fleet_now() + back);
        num(t, sizeof t, fleet_now());
        const char *up[] = {state, nt, err, !strcmp(state, "delivered") ? t : NULL, s};
        fdb_lock(f->db);
        fdb_exec(f->db, "UPDATE notify_outbox SET state = $1, next_try = $2, last_error = $3,"
                 " delivered = $4, attempts = attempts + 1 WHERE seq = $5", 5, up, NULL);
        fdb_unlock(f->db);
        if (f->ops) {
            pthread_mutex_lock(&f->ops->mu);
            if (!strcmp(state, "delivered"))
                f->ops->delivered++;
            else
                f->ops->delivery_failures++;
            pthread_mutex_unlock(&f->ops->mu);
        }
        if (!strcmp(state, "delivered"))
            sent++;
        free(errbuf);
        json_decref(rj);
        free(route.s);
        free(body.s);
    }
    for (size_t i = 0; i < dl.n; i++)
        free(dl.v[i].route);
    free(dl.v);
    return rc ? rc : sent;
}
