/*
 * console_data.c - the API routes the web console reads beyond the plain
 * lists of routes.c (issue 20): the fleet summary (findings of each
 * target's latest scan and runtime alerts by severity, totals, a 30-day
 * trend), the images seen (paged by name, with their latest scan, the
 * hosts they were scanned on and findings by severity and kind),
 * acknowledged and silenced alerts (an ack names one event, a silence a
 * rule, optionally on one host, until a time; each is a POST and so an
 * audit line), the live alert stream as server-sent events, and the
 * SP 800-190 report of the fleet, one image or one host built from the
 * stored scan reports with the mm_spreport API (HTML or JSON).
 *
 * The live stream is console_stream.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/routes.h"
#include "mamori/sp800190.h"

static const char *const sevs[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"};

static int sev_row(void *ud, int n, const char *const *v, const char *const *names)
{
    json_t *o = ud;
    if (v[0] && v[1])
        json_object_set_new(o, v[0], json_integer(strtoll(v[1], NULL, 10)));
    return 0;
}

static int trend_row(void *ud, int n, const char *const *v, const char *const *names)
{
    json_t *days = ud;   /* "DAY" -> {SEV: n} */
    if (!v[0] || !v[1] || !v[2])
        return 0;
    json_t *d = json_object_get(days, v[0]);
    if (!d) {
        d = json_object();
        json_object_set_new(days, v[0], d);
    }
    json_object_set_new(d, v[1], json_integer(strtoll(v[2], NULL, 10)));
    return 0;
}

static json_t *zero_sevs(void)
{
    json_t *o = json_object();
    for (size_t i = 0; i < 5; i++)
        json_object_set_new(o, sevs[i], json_integer(0));
    return o;
}

#define LATEST "SELECT MAX(seq) FROM scans GROUP BY COALESCE(image, target)"

static int seq_row(void *ud, int n, const char *const *v, const char *const *names)
{
    json_t *a = ud;
    if (v[0] && json_array_size(a) < 100000)
        json_array_append_new(a, json_integer(strtoll(v[0], NULL, 10)));
    return 0;
}

/* Counts the findings of the scans that `which` selects (a statement giving
 * scan seqs) into scan_counts, for those not counted yet: each scan once,
 * through the findings_scan index; a row ('-', '-', 0) marks a scan
 * counted.  Called with the store locked. */
static int count_scans(mm_fleet *f, const char *which, int np, const char *const *p)
{
    json_t *pending = json_array();
    char *sql = mm_xasprintf("SELECT s.seq FROM scans s WHERE s.seq IN (%s) AND NOT EXISTS"
                             " (SELECT 1 FROM scan_counts c WHERE c.scan_seq = s.seq)", which);
    int rc = fdb_query(f->db, sql, np, p, seq_row, pending);
    free(sql);
    size_t i;
    json_t *v;
    json_array_foreach(pending, i, v) {
        if (rc)
            break;
        char sq[24];
        snprintf(sq, sizeof sq, "%lld", (long long)json_integer_value(v));
        const char *q[] = {sq};
        rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
        if (rc == 0)
            rc = fdb_exec(f->db, "INSERT INTO scan_counts (scan_seq, severity, kind, n)"
                          " SELECT scan_seq, severity, kind, COUNT(*) FROM findings"
                          " WHERE scan_seq = $1 GROUP BY scan_seq, severity, kind", 1, q, NULL);
        if (rc == 0)
            rc = fdb_exec(f->db, "INSERT INTO scan_counts (scan_seq, severity, kind, n)"
                          " VALUES ($1, '-', '-', 0)", 1, q, NULL);
        rc = fdb_end(f->db, rc);
    }
    json_decref(pending);
    return rc;
}

void route_summary(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_t *fs = zero_sevs(), *es = zero_sevs(), *fdays = json_object(), *edays = json_object();
    int64_t scans = 0, images = 0, hosts = 0, events = 0, marks = 0;
    int64_t now = fleet_now(), from = (now / 86400 - 29) * 86400;
    char fr[24], nw[24];
    snprintf(fr, sizeof fr, "%lld", (long long)from);
    snprintf(nw, sizeof nw, "%lld", (long long)now);
    const char *p[] = {fr}, *pn[] = {nw};
    fdb_lock(f->db);
    int rc = count_scans(f, LATEST, 0, NULL);
    if (rc == 0)
        rc = count_scans(f, "SELECT seq FROM scans WHERE received >= $1", 1, p);
    if (rc == 0)
        rc = fdb_query(f->db, "SELECT severity, SUM(n) FROM scan_counts WHERE scan_seq IN ("
                       LATEST ") AND n > 0 GROUP BY severity", 0, NULL, sev_row, fs);
    if (rc == 0)
        rc = fdb_query(f->db, "SELECT severity, COUNT(*) FROM events GROUP BY severity", 0,
                       NULL, sev_row, es);
    if (rc == 0)   /* a finding's time is its scan's arrival */
        rc = fdb_query(f->db, "SELECT s.received / 86400, c.severity, SUM(c.n) FROM scans s"
                       " JOIN scan_counts c ON c.scan_seq = s.seq WHERE s.received >= $1"
                       " AND c.n > 0 GROUP BY s.received / 86400, c.severity", 1, p, trend_row,
                       fdays);
    if (rc == 0)
        rc = fdb_query(f->db, "SELECT ts / 86400, severity, COUNT(*) FROM events"
                       " WHERE ts >= $1 GROUP BY ts / 86400, severity", 1, p, trend_row, edays);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM scans", 0, NULL, 0, &scans);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COUNT(DISTINCT COALESCE(image, target)) FROM scans"
                           " WHERE kind <> 'registry-check'",
                           0, NULL, 0, &images);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM hosts", 0, NULL, 0, &hosts);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM events", 0, NULL, 0, &events);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM alert_marks WHERE until IS NULL OR"
                           " until > $1", 1, pn, 0, &marks);
    fdb_unlock(f->db);
    if (rc) {
        json_decref(fs), json_decref(es), json_decref(fdays), json_decref(edays);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    json_t *trend = json_array();
    for (int64_t d = from / 86400; d <= now / 86400; d++) {
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)d);
        json_t *t = json_object();
        json_object_set_new(t, "day", json_integer(d * 86400));
        json_t *fd = json_object_get(fdays, k), *ed = json_object_get(edays, k);
        json_object_set_new(t, "findings", fd ? json_incref(fd) : json_object());
        json_object_set_new(t, "events", ed ? json_incref(ed) : json_object());
        json_array_append_new(trend, t);
    }
    json_decref(fdays), json_decref(edays);
    json_t *j = json_object();
    json_object_set_new(j, "findings", fs);
    json_object_set_new(j, "events", es);
    json_object_set_new(j, "scans", json_integer(scans));
    json_object_set_new(j, "images", json_integer(images));
    json_object_set_new(j, "hosts", json_integer(hosts));
    json_object_set_new(j, "alerts", json_integer(events));
    json_object_set_new(j, "marks", json_integer(marks));
    json_object_set_new(j, "trend", trend);
    json_object_set_new(j, "now", json_integer(now));
    mm_http_resp_json(resp, 200, j);
}

/* --- images ------------------------------------------------------------- */
typedef struct imgs {
    json_t *items;
    mm_map *by_seq;    /* latest scan seq -> item */
    mm_map *by_name;
} imgs;

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static int img_row(void *ud, int n, const char *const *v, const char *const *names)
{
    imgs *g = ud;
    json_t *o = json_object();
    json_object_set_new(o, "name", mm_json_str(v[0] ? v[0] : ""));
    json_object_set_new(o, "scans", json_integer(num(v[1])));
    json_object_set_new(o, "last_scan", json_integer(num(v[2])));
    json_object_set_new(o, "latest_seq", json_integer(num(v[3])));
    json_object_set_new(o, "hosts", json_array());
    json_object_set_new(o, "severity", zero_sevs());
    json_object_set_new(o, "kinds", json_object());
    json_array_append_new(g->items, o);
    if (v[3])
        mm_map_put(g->by_seq, v[3], o);
    mm_map_put(g->by_name, v[0] ? v[0] : "", o);
    return 0;
}

static int img_scan_row(void *ud, int n, const char *const *v, const char *const *names)
{
    imgs *g = ud;   /* seq, scan_id, kind, image, findings */
    json_t *o = v[0] ? mm_map_get(g->by_seq, v[0]) : NULL;
    if (!o)
        return 0;
    json_object_set_new(o, "scan_id", mm_json_str(v[1] ? v[1] : ""));
    json_object_set_new(o, "kind", mm_json_str(v[2] ? v[2] : ""));
    json_object_set_new(o, "image", v[3] ? mm_json_str(v[3]) : json_null());
    json_object_set_new(o, "findings", json_integer(num(v[4])));
    return 0;
}

static int img_host_row(void *ud, int n, const char *const *v, const char *const *names)
{
    imgs *g = ud;
    json_t *o = v[0] && v[1] ? mm_map_get(g->by_name, v[0]) : NULL;
    json_t *h = json_object_get(o, "hosts");
    if (h && json_array_size(h) < 50)
        json_array_append_new(h, mm_json_str(v[1]));
    return 0;
}

static int img_count_row(void *ud, int n, const char *const *v, const char *const *names)
{
    imgs *g = ud;   /* scan_seq, severity, kind, count */
    json_t *o = v[0] ? mm_map_get(g->by_seq, v[0]) : NULL;
    if (!o || !v[1] || !v[2])
        return 0;
    int64_t c = num(v[3]);
    json_t *s = json_object_get(o, "severity"), *k = json_object_get(o, "kinds");
    json_object_set_new(s, v[1], json_integer(json_integer_value(json_object_get(s, v[1])) + c));
    json_object_set_new(k, v[2], json_integer(json_integer_value(json_object_get(k, v[2])) + c));
    return 0;
}

/* "$A, $B, ..." for n parameters numbered from first */
static char *placeholders(int first, int n)
{
    mm_buf b = MM_BUF_INIT;
    for (int i = 0; i < n; i++)
        mm_buf_printf(&b, "%s$%d", i ? ", " : "", first + i);
    return b.data ? mm_buf_detach(&b) : mm_xstrdup("NULL");
}

void route_images_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    int64_t limit = 50;
    const char *v = mm_http_req_query(rq, "limit"), *after = mm_http_req_query(rq, "after");
    const char *name = mm_http_req_query(rq, "name");   /* one image by name */
    if (v) {
        char *end;
        limit = strtoll(v, &end, 10);
        if (*end || end == v || limit < 1 || limit > 500) {
            mm_http_resp_error(resp, 400, "limit: want 1 to 500");
            return;
        }
    }
    if ((after && strlen(after) > 4096) || (name && strlen(name) > 4096)) {
        mm_http_resp_error(resp, 400, "%s: longer than 4096 bytes", name ? "name" : "after");
        return;
    }
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit + 1);
    const char *p1[] = {name ? name : after ? after : "", lim};
    imgs g = {json_array(), mm_map_new(), mm_map_new()};
    int64_t total = 0;
    char *q1 = mm_xasprintf("SELECT COALESCE(image, target) AS name, COUNT(*), MAX(received),"
                            " MAX(seq) FROM scans WHERE COALESCE(image, target) %s $1"
                            " AND kind <> 'registry-check'"   /* Registries page */
                            " GROUP BY COALESCE(image, target) ORDER BY name LIMIT $2",
                            name ? "=" : ">");
    fdb_lock(f->db);
    int rc = fdb_query(f->db, q1, 2, p1, img_row, &g);
    free(q1);
    bool more = json_array_size(g.items) > (size_t)limit;
    if (more) {
        json_t *last = json_array_get(g.items, (size_t)limit);
        json_int_t ls = json_integer_value(json_object_get(last, "latest_seq"));
        char k[24];
        snprintf(k, sizeof k, "%lld", (long long)ls);
        mm_map_del(g.by_seq, k);
        mm_map_del(g.by_name, json_string_value(json_object_get(last, "name")));
        json_array_remove(g.items, (size_t)limit);
    }
    size_t n = json_array_size(g.items);
    const char **seqs = mm_xcalloc(n + 1, sizeof *seqs), **nms = mm_xcalloc(n + 1, sizeof *nms);
    char (*sb)[24] = mm_xcalloc(n + 1, sizeof *sb);
    for (size_t i = 0; i < n; i++) {
        json_t *o = json_array_get(g.items, i);
        snprintf(sb[i], sizeof sb[i], "%lld",
                 (long long)json_integer_value(json_object_get(o, "latest_seq")));
        seqs[i] = sb[i];
        nms[i] = json_string_value(json_object_get(o, "name"));
    }
    char *ph = placeholders(1, (int)n);
    if (rc == 0 && n) {
        char *sql = mm_xasprintf("SELECT seq, scan_id, kind, image, findings FROM scans"
                                 " WHERE seq IN (%s)", ph);
        rc = fdb_query(f->db, sql, (int)n, seqs, img_scan_row, &g);
        free(sql);
    }
    if (rc == 0 && n) {
        rc = count_scans(f, ph, (int)n, seqs);
        char *sql = mm_xasprintf("SELECT scan_seq, severity, kind, n FROM scan_counts"
                                 " WHERE scan_seq IN (%s) AND n > 0", ph);
        if (rc == 0)
            rc = fdb_query(f->db, sql, (int)n, seqs, img_count_row, &g);
        free(sql);
    }
    if (rc == 0 && n) {
        char *sql = mm_xasprintf("SELECT DISTINCT COALESCE(image, target), host_id FROM scans"
                                 " WHERE COALESCE(image, target) IN (%s) AND host_id IS NOT NULL",
                                 ph);
        rc = fdb_query(f->db, sql, (int)n, nms, img_host_row, &g);
        free(sql);
    }
    const char *tq = mm_http_req_query(rq, "total");
    if (rc == 0 && tq && strcmp(tq, "1") == 0)
        rc = fdb_query_int(f->db, "SELECT COUNT(DISTINCT COALESCE(image, target)) FROM scans"
                           " WHERE kind <> 'registry-check'",
                           0, NULL, 0, &total);
    fdb_unlock(f->db);
    free(ph);
    free(sb);
    free(nms);
    free(seqs);
    mm_map_free(g.by_seq, NULL);
    mm_map_free(g.by_name, NULL);
    if (rc) {
        json_decref(g.items);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    json_t *j = json_object();
    json_t *last = n ? json_object_get(json_array_get(g.items, n - 1), "name") : NULL;
    json_object_set_new(j, "items", g.items);
    json_object_set(j, "next", more && last ? last : json_null());
    if (tq && strcmp(tq, "1") == 0)
        json_object_set_new(j, "total", json_integer(total));
    mm_http_resp_json(resp, 200, j);
}

/* --- acknowledged and silenced alerts ----------------------------------- */
static int mark_row(void *ud, int n, const char *const *v, const char *const *names)
{
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        bool numeric = !strcmp(names[i], "seq") || !strcmp(names[i], "event_seq") ||
                       !strcmp(names[i], "until") || !strcmp(names[i], "created");
        json_object_set_new(o, names[i], !v[i] ? json_null()
                                               : numeric ? json_integer(num(v[i]))
                                                         : mm_json_str(v[i]));
    }
    json_array_append_new(ud, o);
    return 0;
}

void route_alert_marks_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                            mm_http_resp *resp)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    const char *p[] = {now};
    json_t *a = json_array();
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT seq, kind, event_seq, rule, host_id, until, note,"
                       " token_name, created FROM alert_marks WHERE until IS NULL OR until > $1"
                       " ORDER BY seq DESC LIMIT 1000", 1, p, mark_row, a);
    fdb_unlock(f->db);
    fleet_resp_items(resp, rc, a);
}

static bool label_ok(const char *s, size_t max)
{
    if (!s || strlen(s) > max)
        return false;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++)
        if (*c < 0x20 || *c == 0x7f)
            return false;
    return true;
}

void route_alert_marks_add(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                           mm_http_resp *resp)
{
    json_error_t e;
    json_t *j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(j)) {
        json_decref(j);
        mm_http_resp_error(resp, 400, "body: want a JSON object {kind, event | rule, until}");
        return;
    }
    const char *kind = json_string_value(json_object_get(j, "kind"));
    const char *rule = json_string_value(json_object_get(j, "rule"));
    const char *host = json_string_value(json_object_get(j, "host"));
    const char *note = json_string_value(json_object_get(j, "note"));
    json_t *ev = json_object_get(j, "event"), *until = json_object_get(j, "until");
    int64_t now = fleet_now(), t = 0, es = 0;
    const char *bad = NULL;
    bool ack = kind && !strcmp(kind, "ack"), silence = kind && !strcmp(kind, "silence");
    if (!ack && !silence)
        bad = "kind: want \"ack\" or \"silence\"";
    else if (note && !label_ok(note, 512))
        bad = "note: at most 512 printable characters";
    else if (json_object_get(j, "note") && !note)
        bad = "note: a string";
    else if (ack && (!json_is_integer(ev) || json_integer_value(ev) < 1))
        bad = "event: want the seq of an event";
    else if (silence && (!rule || !*rule || !label_ok(rule, 512)))
        bad = "rule: 1 to 512 printable characters";
    else if (silence && host && !fleet_id_valid(host))
        bad = "host: not a valid host id";
    else if (silence && !json_is_integer(until) && !json_is_string(until))
        bad = "until: required for a silence (RFC 3339 or epoch seconds)";
    if (!bad && until && !json_is_null(until)) {
        if (json_is_integer(until))
            t = json_integer_value(until);
        else if (!json_is_string(until) || fleet_time_parse(json_string_value(until), &t) != 0)
            bad = "until: want RFC 3339 or epoch seconds";
        if (!bad && (t <= now || t > now + 90 * 86400))
            bad = "until: want a time in the next 90 days";
    }
    if (bad) {
        json_decref(j);
        mm_http_resp_error(resp, 400, "%s", bad);
        return;
    }
    char es_s[24] = "", t_s[24] = "", now_s[24];
    if (ack) {
        es = json_integer_value(ev);
        snprintf(es_s, sizeof es_s, "%lld", (long long)es);
    }
    if (t)
        snprintf(t_s, sizeof t_s, "%lld", (long long)t);
    snprintf(now_s, sizeof now_s, "%lld", (long long)now);
    const char *p[] = {kind, ack ? es_s : NULL, silence ? rule : NULL, silence ? host : NULL,
                       t ? t_s : NULL, note, fc->caller.id, fc->caller.name, now_s};
    int64_t exists = 1, seq = 0;
    fdb_lock(f->db);
    int rc = 0;
    if (ack) {
        const char *q[] = {es_s};
        rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM events WHERE seq = $1", 1, q, 0, &exists);
    }
    if (rc == 0 && exists)
        rc = fdb_exec(f->db, "INSERT INTO alert_marks (kind, event_seq, rule, host_id, until,"
                      " note, token_id, token_name, created) VALUES ($1, $2, $3, $4, $5, $6,"
                      " $7, $8, $9)", 9, p, NULL);
    if (rc == 0 && exists)
        rc = fdb_query_int(f->db, "SELECT MAX(seq) FROM alert_marks", 0, NULL, 0, &seq);
    fdb_unlock(f->db);
    if (rc) {
        json_decref(j);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    if (!exists) {
        json_decref(j);
        mm_http_resp_error(resp, 404, "no event %lld", (long long)es);
        return;
    }
    if (ack)
        snprintf(fc->detail, sizeof fc->detail, "ack event %lld", (long long)es);
    else
        snprintf(fc->detail, sizeof fc->detail, "silence rule \"%.120s\"%s%.64s until %lld",
                 rule, host ? " on " : "", host ? host : "", (long long)t);
    json_decref(j);
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(seq));
    json_object_set_new(o, "kind", json_string(ack ? "ack" : "silence"));
    mm_http_resp_json(resp, 201, o);
}

/* --- the SP 800-190 report ------------------------------------------------ */
typedef struct rep {
    mm_spreport *r;
    int rc;
    size_t n;
} rep;

static int rep_row(void *ud, int n, const char *const *v, const char *const *names)
{
    rep *x = ud;
    if (!v[0] || !v[1] || x->rc)
        return 0;
    char *name = mm_xasprintf("store:%s", v[0]);
    int rc = mm_spreport_add_json(x->r, name, v[1], strlen(v[1]));
    free(name);
    if (rc == MM_ELIMIT)
        x->rc = rc;   /* too much: refuse rather than report a part */
    else if (rc == 0)
        x->n++;
    return 0;   /* a stored report the reader refuses is left out */
}

void route_report(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *scope = mm_http_req_query(rq, "scope");
    const char *image = mm_http_req_query(rq, "image"), *host = mm_http_req_query(rq, "host");
    const char *fmt_s = mm_http_req_query(rq, "format");
    mm_spformat fmt = MM_SPFORMAT_HTML;
    if (fmt_s && mm_spformat_parse(&fmt, fmt_s) != 0) {
        mm_http_resp_error(resp, 400, "format: want html or json");
        return;
    }
    int given = (scope != NULL) + (image != NULL) + (host != NULL);
    if (given > 1 || (scope && strcmp(scope, "fleet") != 0)) {
        mm_http_resp_error(resp, 400, "want one of scope=fleet, image=NAME or host=ID");
        return;
    }
    const char *arg = image ? image : host;
    if (arg && (!*arg || strlen(arg) > 4096)) {
        mm_http_resp_error(resp, 400, "%s: 1 to 4096 bytes", image ? "image" : "host");
        return;
    }
    const char *mx = mm_http_req_query(rq, "matrix");
    bool matrix = mx && strcmp(mx, "1") == 0, cacheable = matrix && !arg;
    int64_t newest = -1;
    if (cacheable) {   /* the fleet's matrix changes only with a new scan */
        fdb_lock(f->db);
        int qrc = fdb_query_int(f->db, "SELECT MAX(seq) FROM scans", 0, NULL, 0, &newest);
        fdb_unlock(f->db);
        char *c = qrc == 0 ? fleet_matrix_cache_get(f, newest) : NULL;
        if (c) {
            mm_http_resp_text(resp, 200, NULL, c, strlen(c));
            free(c);
            return;
        }
    }
    const char *where = image ? " WHERE COALESCE(image, target) = $1"
                              : host ? " WHERE host_id = $1" : "";
    char *sql = mm_xasprintf("SELECT scan_id, report FROM scans WHERE seq IN (SELECT MAX(seq)"
                             " FROM scans%s GROUP BY COALESCE(image, target), host_id)"
                             " ORDER BY seq DESC LIMIT 1000", where);
    rep x = {NULL, 0, 0};
    int rc = mm_spreport_new(&x.r, NULL);
    const char *p[] = {arg};
    if (rc == 0) {
        fdb_lock(f->db);
        rc = fdb_query(f->db, sql, arg ? 1 : 0, p, rep_row, &x);
        fdb_unlock(f->db);
    }
    free(sql);
    if (rc == 0 && x.rc)
        rc = x.rc;
    if (rc) {
        mm_spreport_free(x.r);
        mm_http_resp_error(resp, rc == MM_ELIMIT ? 413 : 503, "report: %s", mm_error_last());
        return;
    }
    if (arg && !x.n) {
        mm_spreport_free(x.r);
        mm_http_resp_error(resp, 404, "no scan of %s '%s'", image ? "image" : "host", arg);
        return;
    }
    if (matrix) {
        /* the matrix alone (the console's Overview): rows, no findings */
        json_t *rows = json_array();
        for (size_t i = 0; i < mm_sprow_count(); i++) {
            mm_sprow_info ri;
            if (mm_spreport_row(x.r, i, &ri) != 0)
                break;
            json_t *o = json_object();
            json_object_set_new(o, "id", json_string(ri.id));
            json_object_set_new(o, "section", json_string(ri.section));
            json_object_set_new(o, "check", mm_json_str(ri.check));
            json_object_set_new(o, "state", json_string(mm_sprow_state_name(ri.state)));
            json_object_set_new(o, "findings", json_integer((json_int_t)ri.findings));
            json_object_set_new(o, "evidence", mm_json_str(ri.evidence ? ri.evidence : ""));
            json_array_append_new(rows, o);
        }
        json_t *j = json_object();
        json_object_set_new(j, "inputs", json_integer((json_int_t)x.n));
        json_object_set_new(j, "rows", rows);
        mm_spreport_free(x.r);
        char *t = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
        json_decref(j);
        if (!t) {
            mm_http_resp_error(resp, 500, "report: cannot serialise the matrix");
            return;
        }
        if (cacheable && newest >= 0)
            fleet_matrix_cache_put(f, newest, t);
        mm_http_resp_text(resp, 200, NULL, t, strlen(t));
        free(t);
        return;
    }
    char *title = image ? mm_xasprintf("SP 800-190 report: image %s", image)
                        : host ? mm_xasprintf("SP 800-190 report: host %s", host)
                               : mm_xstrdup("SP 800-190 report: fleet");
    mm_spreport_opts o = {title, 0};
    char *buf = NULL;
    size_t len = 0;
    FILE *mf = open_memstream(&buf, &len);
    rc = mf ? mm_spreport_write(mf, x.r, fmt, &o) : MM_EIO;
    if (mf)
        fclose(mf);
    free(title);
    mm_spreport_free(x.r);
    if (rc < 0) {
        free(buf);
        mm_http_resp_error(resp, 500, "report: %s", mm_error_last());
        return;
    }
    if (fmt == MM_SPFORMAT_HTML) {
        /* self-contained: its own inline styles, no script at all */
        mm_http_resp_header(resp, "Content-Security-Policy", "default-src 'none';"
                            " style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'");
        mm_http_resp_text(resp, 200, "text/html; charset=utf-8", buf, len);
    } else
        mm_http_resp_text(resp, 200, NULL, buf, len);
    free(buf);
}
