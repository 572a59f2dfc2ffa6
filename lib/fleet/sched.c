/*
 * sched.c - the scheduler of `mamori server`: one thread, started with the
 * server and owned by its mm_fleet (no process-global state), that wakes
 * every tick and runs the schedules that are due (schedules table:
 * vulnerability-database updates, registry rescans, stale-image checks,
 * exports), a retention pass every few minutes, and the notification
 * outbox.  A job's outcome (ok/failed, a one-line detail) is kept with its
 * schedule; a failed job raises a "job-failed" alert.  The next run is
 * fixed before the job starts, so a job that fails is not retried in a
 * tight loop.  The registry rescan and the stale-image check live here too.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/registry.h"
#include "mamori/regscan.h"
#include "mamori/store.h"
#include "mamori/vuln.h"
#include "fleet/ops.h"

typedef struct sched_row {
    char *name, *kind, *params;
} sched_row;

typedef struct sched_rows {
    sched_row *v;
    size_t n;
} sched_rows;

static int sched_row_fn(void *ud, int n, const char *const *v, const char *const *names)
{
    sched_rows *l = ud;
    if (l->n >= 1000)
        return -1;
    l->v = mm_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    l->v[l->n].name = mm_xstrdup(v[0]);
    l->v[l->n].kind = mm_xstrdup(v[1]);
    l->v[l->n].params = mm_xstrdup(v[2]);
    l->n++;
    return 0;
}

static void rows_free(sched_rows *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].kind);
        free(l->v[i].params);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* --- stale images (SP 800-190 §3.2.2) ------------------------------------------ */

typedef struct stale_acc {
    json_t *v;
} stale_acc;

static int stale_row(void *ud, int n, const char *const *v, const char *const *names)
{
    stale_acc *a = ud;
    if (v[0] && json_array_size(a->v) < 100000)
        json_array_append_new(a->v, json_pack("{sssIss?}", "image", v[0], "received",
                                              (json_int_t)strtoll(v[1], NULL, 10),
                                              "host", v[2]));
    return 0;
}

int ops_job_stale(mm_fleet *f, json_t *params, mm_buf *detail)
{
    int64_t days = json_integer_value(json_object_get(params, "max_age_days"));
    if (days <= 0)
        days = 30;
    char cut[24];
    snprintf(cut, sizeof cut, "%lld", (long long)(fleet_now() - days * 86400));
    const char *p[] = {cut};
    stale_acc a = {json_array()};
    /* images whose newest scan is older than the cut and that have no
     * stale-image alert since that scan */
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT s.image, s.received, s.host_id FROM scans s WHERE"
                       " s.image IS NOT NULL AND s.seq IN (SELECT MAX(seq) FROM scans WHERE"
                       " image IS NOT NULL GROUP BY image) AND s.received < $1 AND NOT EXISTS"
                       " (SELECT 1 FROM alerts a WHERE a.kind = 'stale-image' AND"
                       " a.image = s.image AND a.ts >= s.received) ORDER BY s.image",
                       1, p, stale_row, &a);
    fdb_unlock(f->db);
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(a.v); i++) {
        json_t *x = json_array_get(a.v, i);
        const char *img = ops_js(x, "image");
        int64_t age = (fleet_now() - json_integer_value(json_object_get(x, "received"))) / 86400;
        char *title = mm_xasprintf("stale image %s: last scanned %lld days ago (more than %lld)",
                                   img, (long long)age, (long long)days);
        json_t *extra = json_pack("{sIsI}", "age_days", (json_int_t)age, "max_age_days",
                                  (json_int_t)days);
        ops_alert al = {.kind = "stale-image", .severity = "MEDIUM", .section = "3.2.2",
                        .image = img, .host_id = ops_js(x, "host"), .title = title,
                        .extra = extra};
        rc = ops_alert_raise(f, &al);
        n += rc == 0;
        json_decref(extra);
        free(title);
    }
    json_decref(a.v);
    mm_buf_printf(detail, "%zu stale images (not scanned for %lld days)", n, (long long)days);
    return rc;
}

/* --- registry rescans ------------------------------------------------------------- */

int ops_job_registry(mm_fleet *f, json_t *params, mm_buf *detail)
{
    const char *target = ops_js(params, "registry");
    mm_registry_opts ro;
    mm_registry_opts_init(&ro);
    ro.ca_file = ops_js(params, "ca_file");
    /* the host[:port] of the target is the one allowed plain HTTP when asked */
    char *host = mm_xstrndup(target, strcspn(target, "/"));
    const char *ins[] = {host};
    if (json_is_true(json_object_get(params, "insecure")) ||
        json_is_true(json_object_get(params, "plain_http"))) {
        ro.insecure_hosts = ins;
        ro.ninsecure = 1;
    }
    char *cache = mm_xasprintf("%s/blobs", f->ops->work_dir);
    ro.cache_dir = cache;
    char *spath = mm_xasprintf("%s/regscan.db", f->ops->work_dir);
    mm_regscan_opts o;
    mm_regscan_opts_init(&o);
    o.scan.scanners = mm_scan_available_scanners() & ~(unsigned)MM_SCANNER_VULN;
    o.scan.registry = &ro;
    o.db_path = f->ops->vulndb;
    o.db_max_age_days = 36500;
    int64_t age = json_integer_value(json_object_get(params, "max_age_days"));
    if (age > 0)
        o.max_age_days = age;
    /* issue 20: signatures checked with the schedule's public keys */
    json_t *vk = json_object_get(params, "verify_keys");
    const char *keys[64];
    for (size_t i = 0; i < json_array_size(vk) && o.nverify_keys < 64; i++)
        if (json_string_value(json_array_get(vk, i)))
            keys[o.nverify_keys++] = json_string_value(json_array_get(vk, i));
    o.verify_keys = keys;
    mm_registry *client = NULL;
    mm_store *store = NULL;
    mm_regscan_report *rep = NULL;
    int rc = mm_mkdir_p(f->ops->work_dir, 0700);
    if (rc == 0)
        rc = mm_registry_new(&client, &ro);
    if (rc == 0)
        rc = mm_store_open(&store, spath);
    if (rc == 0)
        rc = mm_regscan_run(&rep, client, store, target, &o);
    size_t stored = 0, errors = 0, stale = 0;
    const char *last = NULL;
    for (size_t i = 0; rc == 0 && i < mm_regscan_report_image_count(rep); i++) {
        const mm_regscan_image *im = mm_regscan_report_image(rep, i);
        if (im->status == MM_REGSCAN_ERROR)
            errors++;
        if (im->stale)
            stale++;
        if (im->status != MM_REGSCAN_SCANNED || !im->manifest_digest ||
            (last && !strcmp(last, im->manifest_digest)))
            continue;
        last = im->manifest_digest;
        /* the report the rescan recorded becomes a scan of the server */
        mm_scan_record *rec = NULL;
        if (mm_store_get_latest(store, im->manifest_digest, &rec) == 0 && rec->report_json) {
            char sid[33];
            size_t nf = 0;
            if (fleet_scan_store(f, rec->report_json, strlen(rec->report_json), NULL, NULL,
                                 sid, &nf) == 0)
                stored++;
        }
        mm_scan_record_free(rec);
    }
    if (rc == 0)
        mm_buf_printf(detail, "%s: %zu tags, %zu images scanned and stored, %zu errors,"
                      " %zu stale", target, mm_regscan_report_image_count(rep), stored, errors,
                      stale);
    mm_regscan_report_free(rep);
    mm_store_close(store);
    mm_registry_free(client);
    free(spath);
    free(cache);
    free(host);
    return rc;
}

/* --- the loop ------------------------------------------------------------------------ */

static int run_one(mm_fleet *f, const sched_row *s)
{
    json_t *params = json_loads(s->params, 0, NULL);
    mm_buf detail = MM_BUF_INIT_MAX(4096);
    int rc;
    if (!params)
        rc = mm_error_set(MM_EFORMAT, "schedule %s: stored parameters unreadable", s->name);
    else if (!strcmp(s->kind, SCHED_VULNDB))
        rc = ops_job_vulndb(f, params, &detail);
    else if (!strcmp(s->kind, SCHED_REGISTRY))
        rc = ops_job_registry(f, params, &detail);
    else if (!strcmp(s->kind, SCHED_STALE))
        rc = ops_job_stale(f, params, &detail);
    else if (!strcmp(s->kind, SCHED_EXPORT))
        rc = ops_job_export(f, s->name, params, &detail);
    else if (!strcmp(s->kind, SCHED_REGCHECK))
        rc = ops_job_regcheck(f, params, &detail);
    else
        rc = mm_error_set(MM_EUNSUPPORTED, "schedule %s: unknown kind %s", s->name, s->kind);
    char *err = rc ? mm_xstrdup(mm_error_last()) : NULL;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    const char *p[] = {now, rc ? "failed" : "ok", rc ? err : detail.data ? detail.data : "",
                       s->name};
    fdb_lock(f->db);
    fdb_exec(f->db, "UPDATE schedules SET last_run = $1, last_status = $2, last_detail = $3,"
             " runs = runs + 1 WHERE name = $4", 4, p, NULL);
    fdb_unlock(f->db);
    pthread_mutex_lock(&f->ops->mu);
    f->ops->jobs_run++;
    if (rc)
        f->ops->jobs_failed++;
    pthread_mutex_unlock(&f->ops->mu);
    if (rc) {
        char *title = mm_xasprintf("scheduled job %s (%s) failed: %s", s->name, s->kind, err);
        ops_alert a = {.kind = "job-failed", .severity = "MEDIUM",
                       .section = !strcmp(s->kind, SCHED_REGISTRY) ? "3.2.2"
                                : !strcmp(s->kind, SCHED_REGCHECK) ? "3.2.3" : "3.1.1",
                       .title = title};
        ops_alert_raise(f, &a);
        free(title);
    }
    free(err);
    mm_buf_free(&detail);
    json_decref(params);
    return rc;
}

static void tick(mm_fleet *f)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    const char *p[] = {now};
    sched_rows due = {0};
    /* the due schedules claimed in one statement: the next run is set before
     * the job (a failing job waits its interval), and of several servers on
     * one PostgreSQL only one gets a given run */
    fdb_lock(f->db);
    fdb_query(f->db, "UPDATE schedules SET next_run = $1 + every WHERE next_run <= $1"
              " RETURNING name, kind, params", 1, p, sched_row_fn, &due);
    fdb_unlock(f->db);
    for (size_t i = 0; i < due.n; i++) {
        pthread_mutex_lock(&f->ops->mu);
        bool stop = f->ops->stop;
        pthread_mutex_unlock(&f->ops->mu);
        if (stop)
            break;
        run_one(f, &due.v[i]);
        ops_notify_run(f, 100);   /* what the job raised goes out now */
    }
    rows_free(&due);
    if (mm_now() >= f->ops->next_retention) {
        int64_t deleted = 0;
        ops_retention_run(f, &deleted);
        f->ops->next_retention = mm_now() + f->ops->o.retention_every_s;
    }
    ops_notify_run(f, 100);
}

static void *loop(void *arg)
{
    mm_fleet *f = arg;
    fleet_ops *o = f->ops;
    for (;;) {
        pthread_mutex_lock(&o->mu);
        if (o->stop) {
            pthread_mutex_unlock(&o->mu);
            break;
        }
        o->kick = false;
        pthread_mutex_unlock(&o->mu);
        tick(f);
        pthread_mutex_lock(&o->mu);
        if (!o->stop && !o->kick) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            double t = ts.tv_sec + ts.tv_nsec / 1e9 + o->o.tick_s;
            ts.tv_sec = (time_t)t;
            ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
            pthread_cond_timedwait(&o->cv, &o->mu, &ts);
        }
        pthread_mutex_unlock(&o->mu);
    }
    return NULL;
}

int ops_schedule_run_now(mm_fleet *f, const char *name)
{
    const char *p[] = {name};
    int64_t ch = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "UPDATE schedules SET next_run = 0 WHERE name = $1", 1, p, &ch);
    fdb_unlock(f->db);
    if (rc == 0 && ch == 0)
        return mm_error_set(MM_ENOTFOUND, "schedule '%s': no such schedule", name);
    if (rc == 0 && f->ops) {
        pthread_mutex_lock(&f->ops->mu);
        f->ops->kick = true;
        pthread_cond_signal(&f->ops->cv);
        pthread_mutex_unlock(&f->ops->mu);
    }
    return rc;
}

static void ops_free(mm_fleet *f, fleet_ops *s)
{
    f->ops = NULL;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->vulndb);
    free(s->work_dir);
    free(s);
}

int mm_fleet_ops_start(mm_fleet *f, const mm_fleet_ops_opts *o)
{
    if (f->ops)
        return mm_error_set(MM_EINVAL, "the scheduler already runs");
    if (!o || !o->work_dir)
        return mm_error_set(MM_EINVAL, "scheduler: no work folder");
    fleet_ops *s = mm_xcalloc(1, sizeof *s);
    s->o = *o;
    s->vulndb = o->vulndb ? mm_xstrdup(o->vulndb) : mm_vulndb_default_path();
    s->work_dir = mm_xstrdup(o->work_dir);
    s->o.vulndb = s->vulndb;
    s->o.work_dir = s->work_dir;
    if (s->o.tick_s <= 0)
        s->o.tick_s = 1;
    if (s->o.retention_every_s <= 0)
        s->o.retention_every_s = 300;
    s->next_retention = mm_now() + 5;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    f->ops = s;
    if (pthread_create(&s->thread, NULL, loop, f) != 0) {
        ops_free(f, s);
        return mm_error_set(MM_ENOMEM, "scheduler: cannot start its thread");
    }
    s->running = true;
    return 0;
}

void mm_fleet_ops_stop(mm_fleet *f)
{
    if (!f || !f->ops)
        return;
    fleet_ops *s = f->ops;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (s->running)
        pthread_join(s->thread, NULL);
    ops_free(f, s);
}

void fleet_ops_metrics(mm_fleet *f, mm_buf *b)
{
    fleet_ops *s = f->ops;
    uint64_t run = 0, failed = 0, alerts = 0, delivered = 0, dfail = 0;
    if (s) {
        pthread_mutex_lock(&s->mu);
        run = s->jobs_run;
        failed = s->jobs_failed;
        alerts = s->alerts;
        delivered = s->delivered;
        dfail = s->delivery_failures;
        pthread_mutex_unlock(&s->mu);
    }
    int64_t pending = 0;
    fdb_lock(f->db);
    fdb_query_int(f->db, "SELECT COUNT(*) FROM notify_outbox WHERE state = 'pending'", 0, NULL,
                  0, &pending);
    fdb_unlock(f->db);
#define C(name, help, v) mm_buf_printf(b, "# HELP " name " " help "\n# TYPE " name \
                                       " counter\n" name " %llu\n", (unsigned long long)(v))
    C("mamori_scheduler_jobs_total", "Scheduled jobs run.", run);
    C("mamori_scheduler_job_failures_total", "Scheduled jobs that failed.", failed);
    C("mamori_alerts_raised_total", "Alerts the server raised (re-match, stale images, jobs).",
      alerts);
    C("mamori_notifications_delivered_total", "Notifications delivered.", delivered);
    C("mamori_notification_failures_total", "Notification attempts that failed (retried).",
      dfail);
#undef C
    mm_buf_printf(b, "# HELP mamori_notifications_pending Notifications waiting in the queue.\n"
                     "# TYPE mamori_notifications_pending gauge\n"
                     "mamori_notifications_pending %lld\n", (long long)pending);
}
