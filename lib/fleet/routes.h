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

/* Parsing shared by the routes and the fuzz target (ingest.c). */
/* A host or event id: 1..128 of [A-Za-z0-9._:-]. */
bool fleet_id_valid(const char *s);
/* A time: RFC 3339 text or epoch seconds (number or digits). */
int fleet_time_parse(const char *s, int64_t *out);
/* Validates one ingest batch body and returns the events normalised (array
 * of objects with the columns as members); MM_EFORMAT/MM_ELIMIT naming the
 * field ("events[3].id: ...").  host_id gets the batch's host. */
int fleet_batch_parse(const char *body, size_t len, unsigned max_batch,
                      json_t **events, char **host_id);
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

#endif
