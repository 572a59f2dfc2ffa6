/*
 * retention.c - how long `mamori server` keeps what it stores, and the
 * export of findings, alerts and runtime events to a SIEM.
 *
 * Retention is per kind (findings, events, alerts, scans): rows older than
 * `days` and beyond the newest `rows` go, in batches of 500 rows, each
 * batch its own statement under the store's lock and nothing else, with a
 * pause between batches: ingest waits at most one small batch, never a
 * whole purge.  A scan goes with its findings.  The audit log is
 * append-only and never purged.  Delivered entries of the notification
 * queue go after 7 days.
 *
 * An export schedule sends every row stored since its last run (a cursor
 * per schedule and kind, advanced only after the sink took the rows) as
 * JSON lines: appended to a file (file:PATH), POSTed to an HTTP sink
 * (application/x-ndjson, signed like the webhooks when a secret is set),
 * or as RFC 5424 messages to syslog over TLS (tls://HOST:PORT).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet/ops.h"

#define BATCH 500
#define MAX_BATCHES 2000      /* per kind and pass: 1,000,000 rows */
#define EXPORT_BATCH 2000
#define EXPORT_MAX_BATCHES 50

typedef struct kind_spec {
    const char *kind, *table, *time_col;
} kind_spec;

static const kind_spec KINDS[] = {
    {"findings", "findings", "ts"},
    {"events", "events", "received"},
    {"alerts", "alerts", "ts"},
    {"scans", "scans", "received"},
};

typedef struct ret_row {
    char kind[16];
    int64_t days, rows;
} ret_row;

typedef struct ret_rows {
    ret_row v[8];
    size_t n;
} ret_rows;

static int ret_row_fn(void *ud, int n, const char *const *v, const char *const *names)
{
    ret_rows *r = ud;
    if (r->n < 8 && v[0]) {
        snprintf(r->v[r->n].kind, sizeof r->v[r->n].kind, "%s", v[0]);
        r->v[r->n].days = v[1] ? strtoll(v[1], NULL, 10) : 0;
        r->v[r->n].rows = v[2] ? strtoll(v[2], NULL, 10) : 0;
        r->n++;
    }
    return 0;
}

/* Deletes rows of t with seq <= max_seq (or time < cut) in small batches. */
static int purge(mm_fleet *f, const kind_spec *k, const char *cond, const char *arg,
                 int64_t *deleted)
{
    char sql[512], lim[16];
    snprintf(lim, sizeof lim, "%d", BATCH);
    bool scans = !strcmp(k->table, "scans");
    for (int b = 0; b < MAX_BATCHES; b++) {
        const char *p[] = {arg, lim};
        int64_t ch = 0;
        int rc;
        fdb_lock(f->db);
        if (scans) {
            /* a scan's findings first, in the same small transaction */
            rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
            snprintf(sql, sizeof sql, "DELETE FROM findings WHERE scan_seq IN (SELECT seq FROM"
                     " scans WHERE %s ORDER BY seq LIMIT $2)", cond);
            if (rc == 0)
                rc = fdb_exec(f->db, sql, 2, p, NULL);
            /* and the console's per-scan counts (issue 20) */
            snprintf(sql, sizeof sql, "DELETE FROM scan_counts WHERE scan_seq IN (SELECT seq FROM"
                     " scans WHERE %s ORDER BY seq LIMIT $2)", cond);
            if (rc == 0)
                rc = fdb_exec(f->db, sql, 2, p, NULL);
            snprintf(sql, sizeof sql, "DELETE FROM scans WHERE seq IN (SELECT seq FROM scans"
                     " WHERE %s ORDER BY seq LIMIT $2)", cond);
            if (rc == 0)
                rc = fdb_exec(f->db, sql, 2, p, &ch);
            rc = fdb_end(f->db, rc);
        } else {
            snprintf(sql, sizeof sql, "DELETE FROM %s WHERE seq IN (SELECT seq FROM %s WHERE %s"
                     " ORDER BY seq LIMIT $2)", k->table, k->table, cond);
            rc = fdb_exec(f->db, sql, 2, p, &ch);
        }
        fdb_unlock(f->db);
        if (rc)
            return rc;
        *deleted += ch;
        if (ch < BATCH)
            break;
        usleep(2000);   /* let a waiting ingest in */
    }
    return 0;
}

int ops_retention_run(mm_fleet *f, int64_t *deleted)
{
    *deleted = 0;
    ret_rows rr = {0};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT kind, days, max_rows FROM retention ORDER BY kind", 0, NULL,
                       ret_row_fn, &rr);
    fdb_unlock(f->db);
    for (size_t i = 0; rc == 0 && i < rr.n; i++) {
        const kind_spec *k = NULL;
        for (size_t j = 0; j < sizeof KINDS / sizeof KINDS[0]; j++)
            if (!strcmp(KINDS[j].kind, rr.v[i].kind))
                k = &KINDS[j];
        if (!k)
            continue;
        char cond[128], arg[24];
        if (rr.v[i].days > 0) {
            snprintf(arg, sizeof arg, "%lld", (long long)(fleet_now() - rr.v[i].days * 86400));
            snprintf(cond, sizeof cond, "%s < $1", k->time_col);
            rc = purge(f, k, cond, arg, deleted);
        }
        if (rc == 0 && rr.v[i].rows > 0) {
            /* the seq of the oldest row to keep */
            char off[24], sql[160];
            snprintf(off, sizeof off, "%lld", (long long)(rr.v[i].rows - 1));
            snprintf(sql, sizeof sql, "SELECT seq FROM %s ORDER BY seq DESC LIMIT 1 OFFSET $1",
                     k->table);
            const char *p[] = {off};
            int64_t keep = 0;
            fdb_lock(f->db);
            rc = fdb_query_int(f->db, sql, 1, p, 0, &keep);
            fdb_unlock(f->db);
            if (rc == 0 && keep > 0) {
                snprintf(arg, sizeof arg, "%lld", (long long)keep);
                rc = purge(f, k, "seq < $1", arg, deleted);
            }
        }
    }
    if (rc == 0) {
        char cut[24];
        snprintf(cut, sizeof cut, "%lld", (long long)(fleet_now() - 7 * 86400));
        const char *p[] = {cut};
        fdb_lock(f->db);
        rc = fdb_exec(f->db, "DELETE FROM notify_outbox WHERE state <> 'pending' AND"
                      " created < $1", 1, p, NULL);
        fdb_unlock(f->db);
    }
    return rc;
}

/* --- export ------------------------------------------------------------------------ */

typedef struct exp_acc {
    const char *kind;
    mm_buf *lines;
    json_t *objs;
    int64_t last;
    size_t n;
} exp_acc;

static bool int_col(const char *name)
{
    return !strcmp(name, "seq") || !strcmp(name, "scan_seq") || !strcmp(name, "ts") ||
           !strcmp(name, "received");
}

static int exp_row(void *ud, int n, const char *const *v, const char *const *names)
{
    exp_acc *a = ud;
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(a->kind));
    for (int i = 0; i < n; i++) {
        if (!v[i])
            continue;
        if (int_col(names[i]))
            json_object_set_new(o, names[i], json_integer(strtoll(v[i], NULL, 10)));
        else if (!strcmp(names[i], "body")) {
            json_t *b = json_loads(v[i], 0, NULL);
            json_object_set_new(o, "body", b ? b : json_string(v[i]));
        } else
            json_object_set_new(o, names[i], json_string(v[i]));
    }
    a->last = json_integer_value(json_object_get(o, "seq"));
    char *s = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (s) {
        mm_buf_adds(a->lines, s);
        mm_buf_addc(a->lines, '\n');
        free(s);
    }
    json_array_append_new(a->objs, o);
    a->n++;
    return 0;
}

static int sink_file(const char *path, const mm_buf *b)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        return mm_error_set(MM_EIO, "%s: %s", path, strerror(errno));
    size_t off = 0;
    while (off < b->len) {
        ssize_t w = write(fd, b->data + off, b->len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            close(fd);
            return mm_error_set(MM_EIO, "%s: %s", path, strerror(e));
        }
        off += (size_t)w;
    }
    int rc = fsync(fd) == 0 ? 0 : mm_error_set(MM_EIO, "%s: fsync: %s", path, strerror(errno));
    close(fd);
    return rc;
}

static int sink_send(json_t *params, exp_acc *a)
{
    const char *sink = ops_js(params, "sink");
    bool insecure = json_is_true(json_object_get(params, "insecure"));
    if (mm_str_startswith(sink, "file:"))
        return sink_file(sink + 5, a->lines);
    if (mm_str_startswith(sink, "tls://")) {
        char **msgs = mm_xcalloc(a->n, sizeof *msgs);
        for (size_t i = 0; i < a->n; i++)
            msgs[i] = ops_syslog_format(json_array_get(a->objs, i), "mamori-export");
        int rc = ops_syslog_send(sink, ops_js(params, "ca_file"), insecure,
                                 (const char *const *)msgs, a->n);
        for (size_t i = 0; i < a->n; i++)
            free(msgs[i]);
        free(msgs);
        return rc;
    }
    long status = 0;
    int rc = ops_webhook_post(sink, ops_js(params, "secret"), ops_js(params, "ca_file"),
                              insecure, "application/x-ndjson", a->lines->data, a->lines->len,
                              &status);
    if (rc == 0 && (status < 200 || status > 299))
        rc = mm_error_set(MM_ENET, "%s: HTTP %ld", sink, status);
    return rc;
}

int ops_job_export(mm_fleet *f, const char *name, json_t *params, mm_buf *detail)
{
    static const struct { const char *kind, *sql; } Q[] = {
        {"findings", "SELECT seq, scan_seq, finding_id, kind, severity, section, title, package,"
                     " path, image, host_id, ts FROM findings WHERE seq > $1 ORDER BY seq LIMIT $2"},
        {"alerts", "SELECT seq, ts, kind, severity, section, image, host_id, namespace, vuln_id,"
                   " package, title, body FROM alerts WHERE seq > $1 ORDER BY seq LIMIT $2"},
        {"events", "SELECT seq, host_id, event_id, ts, received, kind, severity, section, rule,"
                   " image, container, title, body FROM events WHERE seq > $1 ORDER BY seq"
                   " LIMIT $2"},
    };
    json_t *kinds = json_object_get(params, "kinds");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(kinds); i++) {
        const char *kind = json_string_value(json_array_get(kinds, i));
        const char *sql = NULL;
        for (size_t q = 0; q < 3; q++)
            if (!strcmp(Q[q].kind, kind))
                sql = Q[q].sql;
        if (!sql)
            continue;
        const char *cp[] = {name, kind};
        int64_t cur = 0;
        size_t total = 0;
        fdb_lock(f->db);
        rc = fdb_query_int(f->db, "SELECT last_seq FROM export_cursors WHERE name = $1 AND"
                           " kind = $2", 2, cp, 0, &cur);
        fdb_unlock(f->db);
        for (int b = 0; rc == 0 && b < EXPORT_MAX_BATCHES; b++) {
            char c[24], lim[16];
            snprintf(c, sizeof c, "%lld", (long long)cur);
            snprintf(lim, sizeof lim, "%d", EXPORT_BATCH);
            const char *p[] = {c, lim};
            mm_buf lines = MM_BUF_INIT;
            exp_acc a = {kind, &lines, json_array(), cur, 0};
            fdb_lock(f->db);
            rc = fdb_query(f->db, sql, 2, p, exp_row, &a);
            fdb_unlock(f->db);
            if (rc == 0 && a.n)
                rc = sink_send(params, &a);
            if (rc == 0 && a.n) {
                char l[24];
                snprintf(l, sizeof l, "%lld", (long long)a.last);
                const char *up[] = {name, kind, l};
                fdb_lock(f->db);
                rc = fdb_exec(f->db, "INSERT INTO export_cursors (name, kind, last_seq) VALUES"
                              " ($1, $2, $3) ON CONFLICT (name, kind) DO UPDATE SET"
                              " last_seq = excluded.last_seq", 3, up, NULL);
                fdb_unlock(f->db);
                cur = a.last;
                total += a.n;
            }
            size_t got = a.n;
            json_decref(a.objs);
            mm_buf_free(&lines);
            if (got < EXPORT_BATCH)
                break;
        }
        mm_buf_printf(detail, "%s%s: %zu", i ? ", " : "exported ", kind, total);
    }
    return rc;
}
