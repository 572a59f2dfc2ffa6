/*
 * fleet/ops.h - the operations of `mamori server` (issue 19): the
 * configuration of schedules, notification routes, retention and exports
 * (ops_config.c), the scheduler thread and its jobs (sched.c), re-matching
 * stored inventories after a database update (rematch.c), alerts and their
 * delivery to webhooks and syslog with a persisted retry queue (notify.c),
 * retention and export (retention.c), and their API routes (ops_routes.c).
 * Private to lib/fleet.
 */
#ifndef MM_FLEET_OPS_H
#define MM_FLEET_OPS_H

#include "fleet/routes.h"

/* The scheduler's state, hung on mm_fleet.ops while it runs. */
typedef struct fleet_ops {
    mm_fleet_ops_opts o;
    char *vulndb, *work_dir;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, running, kick;
    double next_retention;
    uint64_t jobs_run, jobs_failed, alerts, delivered, delivery_failures;
} fleet_ops;

/* --- configuration (ops_config.c) --------------------------------------- */
/* Schedule kinds. */
#define SCHED_VULNDB "vulndb-update"
#define SCHED_REGISTRY "registry-rescan"
#define SCHED_STALE "stale-check"
#define SCHED_EXPORT "export"
#define SCHED_REGCHECK "registry-check"   /* issue 20: registry security checks */

/* Checks one schedule object (API body or config entry) and returns it
 * normalised: {name, kind, every (seconds), params...}.  Errors name the
 * field with the prefix where ("schedules[2].every: ..."). */
int ops_schedule_parse(json_t *in, const char *where, json_t **out);
/* The same for a notification route ({name, kind: webhook|syslog, url,
 * secret, min_severity, kinds, namespaces, sections, ca_file, insecure}). */
int ops_route_parse(json_t *in, const char *where, json_t **out);
/* A retention object {KIND: {days, rows}} for KIND in findings, events,
 * alerts, scans, audit is refused (append-only). */
int ops_retention_parse(json_t *in, const char *where, json_t **out);
/* A whole configuration document (schedules, routes, retention), as the
 * server's --config file or the fuzz target gives it. */
int ops_config_parse(const char *data, size_t len, const char *name, json_t **out);

/* Store writes (upserts by name); 0 or MM_EDB. */
int ops_schedule_put(mm_fleet *f, json_t *norm);
int ops_route_put(mm_fleet *f, json_t *norm);
int ops_retention_put(mm_fleet *f, json_t *norm);
int ops_delete(mm_fleet *f, const char *table, const char *name);

/* --- alerts and notifications (notify.c) -------------------------------- */
typedef struct ops_alert {
    const char *kind;       /* "new-vulnerability", "stale-image", "job-failed" */
    const char *severity;   /* CRITICAL..UNKNOWN */
    const char *section;    /* SP 800-190 */
    const char *image, *host_id, *namespace_, *vuln_id, *package, *title;
    int64_t scan_seq;
    json_t *extra;          /* borrowed: more members of the body, or NULL */
} ops_alert;
/* Stores the alert and queues it for every route it matches. */
int ops_alert_raise(mm_fleet *f, const ops_alert *a);
/* Delivers what the outbox holds that is due; returns how many went. */
int ops_notify_run(mm_fleet *f, int max);
/* Does route (normalised) take this alert body? */
bool ops_route_matches(json_t *route, json_t *alert);
/* The RFC 5424 line (without framing) of an alert body. */
char *ops_syslog_format(json_t *alert, const char *app);
/* Sends frames over TLS (tls://HOST:PORT or syslog+tls://): octet counted,
 * RFC 5425.  ca_file may be NULL. */
int ops_syslog_send(const char *url, const char *ca_file, bool insecure,
                    const char *const *msgs, size_t n);
/* HMAC-SHA256 of body under secret as "sha256=<hex>". */
void ops_hmac_sig(const char *secret, const char *body, size_t len, char out[72]);
/* POSTs body (ctype NULL: application/json) signed with secret. */
int ops_webhook_post(const char *url, const char *secret, const char *ca_file,
                     bool insecure, const char *ctype, const char *body, size_t len,
                     long *status);

/* --- jobs ----------------------------------------------------------------- */
/* vulndb-update: import/update the database, then re-match (rematch.c). */
int ops_job_vulndb(mm_fleet *f, json_t *params, mm_buf *detail);
/* Re-matches every stored inventory: prev_db (may be NULL) is the database
 * before the update. */
int ops_rematch(mm_fleet *f, const char *db, const char *prev_db, mm_buf *detail);
int ops_job_stale(mm_fleet *f, json_t *params, mm_buf *detail);
int ops_job_registry(mm_fleet *f, json_t *params, mm_buf *detail);
/* issue 20 (regcheck.c): `mamori registry check` of params.registry, stored as a scan. */
int ops_job_regcheck(mm_fleet *f, json_t *params, mm_buf *detail);
int ops_job_export(mm_fleet *f, const char *name, json_t *params, mm_buf *detail);
/* One pass of retention: batched deletes. */
int ops_retention_run(mm_fleet *f, int64_t *deleted);
/* Runs the named schedule now (the API's run call). */
int ops_schedule_run_now(mm_fleet *f, const char *name);

/* --- API routes (ops_routes.c) ------------------------------------------------- */
void route_schedules_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_schedules_put(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_schedule_one(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_notify_routes_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_notify_routes_put(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_notify_route_delete(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_notify_outbox(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_retention_get(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_retention_put(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_alerts_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

/* The scheduler's Prometheus lines (jobs, alerts, deliveries, queue). */
void fleet_ops_metrics(mm_fleet *f, mm_buf *b);

/* Helpers. */
const char *ops_js(json_t *o, const char *k);
int ops_sev_rank(const char *s);   /* CRITICAL 4 .. UNKNOWN 0; -1 unknown */
/* Stores a scan report (the body of POST /api/v1/scans) as scans.c does. */
int fleet_scan_store(mm_fleet *f, const char *body, size_t len, const char *host,
                     const char *token_id, char sid[33], size_t *nfindings);

#endif
