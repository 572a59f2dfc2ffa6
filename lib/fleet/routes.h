/*
 * fleet/routes.h - the API routes of `mamori server` (routes.c lists,
 * ingest.c writes) as api.c's route table calls them.  Private.
 */
#ifndef MM_FLEET_ROUTES_H
#define MM_FLEET_ROUTES_H

#include "fleet/fleet_int.h"

typedef struct fleet_ctx {
    fleet_caller caller;
    char detail[256];   /* the audit line's detail, set by a route */
    bool audited;       /* the route wrote its audit line in its transaction */
} fleet_ctx;

typedef void (*fleet_route_fn)(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                               mm_http_resp *resp);

void route_events_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_events_ingest(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_heartbeat(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_hosts_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_scans_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_scans_ingest(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_scan_get(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_findings_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_audit_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_tokens_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_tokens_create(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_tokens_revoke(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_whoami(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

/* The console (issue 20): console.c (files, session, headers) and
 * console_data.c (the console's views and the report). */
bool fleet_console_pre(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp);
bool fleet_has_session_cookie(const mm_http_req *rq);
/* The cookie session as the caller: 0; MM_EAUTH (none, expired, revoked
 * token, or *csrf_bad: a state change without the right X-CSRF-Token). */
int fleet_session_auth(mm_fleet *f, const mm_http_req *rq, bool changing, fleet_caller *c,
                       bool *csrf_bad);
void fleet_security_headers(mm_http_resp *resp, bool asset);
void route_summary(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_images_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_alert_marks_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_alert_marks_add(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_events_stream(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_report(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

/* Parsing shared by the routes and the fuzz target (ingest.c). */
/* A host or event id: 1..128 of [A-Za-z0-9._:-]. */
bool fleet_id_valid(const char *s);
/* A time: RFC 3339 text or epoch seconds (number or digits). */
int fleet_time_parse(const char *s, int64_t *out);
/* A request body as JSON (duplicate keys refused): MM_EFORMAT "body: not
 * JSON: ... at offset N" when it is not. */
int fleet_json_body(const char *body, size_t len, json_t **out);
/* A body that is a JSON object with a valid "host_id" (*host, borrowed
 * from *doc) and, when id is not NULL, an optional valid "id" (*id, NULL
 * when absent): MM_EFORMAT naming the member.  *doc is NULL only when the
 * body is not JSON; the caller decrefs it. */
int fleet_host_body(const char *body, size_t len, json_t **doc, const char **host,
                    const char **id);
/* The host's row: added, or its last_seen set to now (epoch seconds as
 * text); inside the caller's transaction. */
int fleet_host_seen(fdb *db, const char *host, const char *now);
/* An upload route's checks after its parser returned rc: false with the
 * answer set (413 or 400 for rc; 403, and the audit detail "refused: WHAT
 * of host H", when an agent's token is bound to another host than host). */
bool fleet_upload_ok(fleet_ctx *fc, int rc, const char *host, mm_http_resp *resp,
                     const char *what);
/* Rows as JSON objects (an fdb_row_fn appending to items): SQL NULL as
 * null, the columns named in jsons (JSON text) parsed (null when not
 * JSON), those in ints as numbers, the rest as strings.  The lists end
 * with NULL; either may be NULL. */
typedef struct fleet_jrows {
    json_t *items;
    const char *const *ints, *const *jsons;
} fleet_jrows;
int fleet_jrow(void *ud, int n, const char *const *v, const char *const *names);
/* A list answer {"items": items, "next": null} (200), or, when rc is not
 * 0, the store's error (503).  items is consumed. */
void fleet_resp_items(mm_http_resp *resp, int rc, json_t *items);
/* One event of a batch, normalised: the columns (borrowed from the
 * batch's parsed document) and its JSON text. */
typedef struct fleet_event {
    const char *event_id, *kind, *severity, *section, *rule, *title, *image, *container,
               *host_id;
    int64_t ts;
    const char *body;            /* the event as sent (or serialised again) */
    char *img_owned, *body_owned;
} fleet_event;
typedef struct fleet_batch {
    json_t *doc;
    char *text;                  /* the body's copy the event texts point into */
    char *host_id;
    fleet_event *ev;             /* each id once */
    size_t n;
} fleet_batch;
/* Validates one ingest batch body and returns its events normalised;
 * MM_EFORMAT/MM_ELIMIT naming the field ("events[3].id: ...").  Free with
 * fleet_batch_free (also after an error). */
int fleet_batch_parse(const char *body, size_t len, unsigned max_batch, fleet_batch *out);
void fleet_batch_free(fleet_batch *b);
/* PostgreSQL: a whole batch in one statement (ingest_pg.c): the columns as
 * array literals; fleet_pg_insert_sql takes host, received, then arr[0..9]. */
typedef struct fleet_pg_rows {
    char *arr[10];
} fleet_pg_rows;
extern const char fleet_pg_insert_sql[];
void fleet_pg_rows_build(fleet_pg_rows *r, const fleet_event *ev, size_t n);
void fleet_pg_rows_free(fleet_pg_rows *r);
/* Validates a scan report body: the findings normalised, and the facts. */
typedef struct fleet_scan_facts {
    char *kind, *target, *image;
    double duration;    /* durationSeconds, -1 when absent */
    json_t *findings;   /* array of {id, kind, severity, section, title, package, path} */
} fleet_scan_facts;
int fleet_scan_parse(const char *body, size_t len, fleet_scan_facts *out);
void fleet_scan_facts_free(fleet_scan_facts *s);
/* Stores a checked report and its findings as a scan (scans.c); the
 * caller holds the store lock and a transaction.  sid gets the new id. */
int fleet_scan_insert(mm_fleet *f, const fleet_scan_facts *sf, const char *body,
                      size_t len, const char *host, const char *token_id, char sid[33]);

/* The scan job queue (jobs.c, issue 19 workers). */
void route_jobs_enqueue(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_jobs_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

/* Host inventory (inventory.c, issue 18). */
typedef struct fleet_inventory {
    char *host_id, *snapshot_id;   /* snapshot_id may be NULL */
    int64_t collected;
    char *body;                    /* {"os":..,"processes":..,"logins":..,"containers":..} */
    size_t nprocs, nlogins, nctrs;
} fleet_inventory;
/* Validates an inventory body (caps: 20,000 processes, 5,000 logins, 5,000
 * containers of 256 mounts): MM_EFORMAT/MM_ELIMIT naming the field. */
int fleet_inventory_parse(const char *body, size_t len, fleet_inventory *out);
void fleet_inventory_free(fleet_inventory *v);
void route_inventory_ingest(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_host_inventory(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

#endif
