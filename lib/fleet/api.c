/*
 * api.c - the front door of `mamori server` (mm_fleet_handle, the lib/httpd
 * handler): health and readiness, Prometheus metrics, bearer-token
 * authentication, the per-token rate limit, the route table with the roles
 * allowed on each route, and the audit line of every state-changing call
 * (refused ones included).  The routes themselves are in routes.c.
 */
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "fleet/fleet_int.h"
#include "fleet/routes.h"
#include "fleet/ops.h"   /* issue 19: schedules, notifications, retention */
#include "fleet/profiles.h"   /* issue 20a: runtime profiles and captures */

#define READERS (ROLE_ADMIN | ROLE_OPERATOR | ROLE_VIEWER)

typedef struct route {
    const char *method;
    const char *path;     /* exact, or a prefix ending in '/' with prefix=true */
    bool prefix;
    unsigned roles;
    fleet_route_fn fn;
} route;

static const route routes[] = {
    {"GET", "/api/v1/events", false, READERS, route_events_list},
    {"POST", "/api/v1/events", false, ROLE_ADMIN | ROLE_AGENT, route_events_ingest},
    {"POST", "/api/v1/heartbeat", false, ROLE_ADMIN | ROLE_AGENT, route_heartbeat},
    {"GET", "/api/v1/hosts", false, READERS, route_hosts_list},
    {"GET", "/api/v1/scans", false, READERS, route_scans_list},
    {"POST", "/api/v1/scans", false, ROLE_ADMIN | ROLE_OPERATOR | ROLE_CI | ROLE_AGENT,
     route_scans_ingest},
    {"GET", "/api/v1/scans/", true, READERS, route_scan_get},
    {"GET", "/api/v1/findings", false, READERS, route_findings_list},
    {"GET", "/api/v1/audit", false, ROLE_ADMIN, route_audit_list},
    {"GET", "/api/v1/tokens", false, ROLE_ADMIN, route_tokens_list},
    {"POST", "/api/v1/tokens", false, ROLE_ADMIN, route_tokens_create},
    {"DELETE", "/api/v1/tokens/", true, ROLE_ADMIN, route_tokens_revoke},
    {"GET", "/api/v1/whoami", false, READERS | ROLE_AGENT | ROLE_CI, route_whoami},
    {"GET", "/metrics", false, READERS, NULL},
    /* issue 20: the console's views, alert acknowledgement, the live stream, the report */
    {"GET", "/api/v1/summary", false, READERS, route_summary},
    {"GET", "/api/v1/images", false, READERS, route_images_list},
    {"GET", "/api/v1/alerts/marks", false, READERS, route_alert_marks_list},
    {"POST", "/api/v1/alerts/marks", false, ROLE_ADMIN | ROLE_OPERATOR, route_alert_marks_add},
    {"GET", "/api/v1/events/stream", false, READERS, route_events_stream},
    {"GET", "/api/v1/report", false, READERS, route_report},
    /* issue 19 (schedules, notifications, retention; ops_routes.c) */
    {"GET", "/api/v1/schedules", false, READERS, route_schedules_list},
    {"POST", "/api/v1/schedules", false, ROLE_ADMIN, route_schedules_put},
    {"POST", "/api/v1/schedules/", true, ROLE_ADMIN, route_schedule_one},
    {"DELETE", "/api/v1/schedules/", true, ROLE_ADMIN, route_schedule_one},
    {"GET", "/api/v1/notify/routes", false, READERS, route_notify_routes_list},
    {"POST", "/api/v1/notify/routes", false, ROLE_ADMIN, route_notify_routes_put},
    {"DELETE", "/api/v1/notify/routes/", true, ROLE_ADMIN, route_notify_route_delete},
    {"GET", "/api/v1/notify/outbox", false, ROLE_ADMIN | ROLE_OPERATOR, route_notify_outbox},
    {"GET", "/api/v1/retention", false, READERS, route_retention_get},
    {"PUT", "/api/v1/retention", false, ROLE_ADMIN, route_retention_put},
    {"GET", "/api/v1/alerts", false, READERS, route_alerts_list},
    /* issue 18: host inventory from agents, and read back per host */
    {"POST", "/api/v1/inventory", false, ROLE_ADMIN | ROLE_AGENT, route_inventory_ingest},
    {"GET", "/api/v1/hosts/", true, READERS, route_host_inventory},
    /* issue 19 workers: the scan job queue (jobs.c) */
    {"POST", "/api/v1/jobs", false, ROLE_ADMIN | ROLE_OPERATOR, route_jobs_enqueue},
    {"GET", "/api/v1/jobs", false, READERS, route_jobs_list},
    /* issue 20a: runtime profiles (learned, enforced, drift) and captures (profiles.c) */
    {"POST", "/api/v1/profiles", false, ROLE_ADMIN | ROLE_AGENT, route_profiles_ingest},
    {"GET", "/api/v1/profiles", false, READERS, route_profiles_list},
    {"GET", "/api/v1/profiles/", true, READERS, route_profile_get},
    {"POST", "/api/v1/profiles/", true, ROLE_ADMIN | ROLE_OPERATOR, route_profile_enforce},
    {"GET", "/api/v1/agent/profiles", false, ROLE_ADMIN | ROLE_AGENT, route_agent_profiles},
    {"POST", "/api/v1/captures", false, ROLE_ADMIN | ROLE_AGENT, route_captures_ingest},
    {"GET", "/api/v1/captures", false, READERS, route_captures_list},
    {"POST", "/api/v1/captures/file", false, ROLE_ADMIN | ROLE_AGENT, route_capture_file_ingest},
    {"GET", "/api/v1/captures/", true, READERS, route_capture_file_get},
};

static bool state_changing(const char *m)
{
    return strcmp(m, "GET") != 0 && strcmp(m, "HEAD") != 0 && strcmp(m, "OPTIONS") != 0;
}

typedef struct bucket {
    double tokens, last;
} bucket;

/* true when the caller may go on; *retry: seconds until a token is back */
static bool rate_take(mm_fleet *f, const char *id, double *retry)
{
    double now = mm_now();
    pthread_mutex_lock(&f->mu);
    bucket *b = mm_map_get(f->buckets, id);
    if (!b) {
        b = mm_xcalloc(1, sizeof *b);
        b->tokens = f->o.burst;
        b->last = now;
        if (mm_map_count(f->buckets) > 100000) { /* tokens are few; keep it bounded */
            mm_map_free(f->buckets, free);
            f->buckets = mm_map_new();
        }
        mm_map_put(f->buckets, id, b);
    }
    b->tokens = fmin(f->o.burst, b->tokens + (now - b->last) * f->o.rate);
    b->last = now;
    bool ok = b->tokens >= 1.0;
    if (ok)
        b->tokens -= 1.0;
    else {
        f->m.rate_limited++;
        *retry = (1.0 - b->tokens) / f->o.rate;
    }
    pthread_mutex_unlock(&f->mu);
    return ok;
}

static void health(mm_fleet *f, bool ready, mm_http_resp *resp)
{
    json_t *j = json_object();
    json_object_set_new(j, "status", json_string("ok"));
    if (!ready) {
        mm_http_resp_json(resp, 200, j);
        return;
    }
    int64_t ver = 0, newest = 0;
    fdb_lock(f->db);
    int rc = fdb_query_int(f->db, "SELECT MAX(version) FROM schema_migrations", 0, NULL, 0, &ver);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT MAX(received) FROM events", 0, NULL, 0, &newest);
    fdb_unlock(f->db);
    json_object_set_new(j, "store", json_string(fdb_kind(f->db)));
    json_object_set_new(j, "schemaVersion", json_integer(ver));
    int64_t now = fleet_now();
    json_object_set_new(j, "uptimeSeconds", json_integer(now - f->started));
    json_object_set_new(j, "lastEventAgeSeconds", newest ? json_integer(now - newest)
                                                         : json_null());
    if (rc) {
        json_object_set_new(j, "status", json_string("unavailable"));
        json_object_set_new(j, "error", json_string(mm_error_last()));
        mm_http_resp_json(resp, 503, j);
        return;
    }
    mm_http_resp_json(resp, 200, j);
}

typedef struct mbuf_host {
    mm_buf *b;
    int64_t now;
    int n;
} mbuf_host;

static int metrics_host(void *ud, int n, const char *const *v, const char *const *names)
{
    mbuf_host *m = ud;
    if (!v[0])
        return 0;
    /* host ids are [A-Za-z0-9._:-] (checked at ingest): no label escaping needed */
    mm_buf_printf(m->b, "mamori_agent_last_seen_age_seconds{host=\"%s\"} %lld\n", v[0],
                  (long long)(m->now - strtoll(v[1] ? v[1] : "0", NULL, 10)));
    mm_buf_printf(m->b, "mamori_agent_queue_depth{host=\"%s\"} %s\n", v[0], v[2] ? v[2] : "0");
    mm_buf_printf(m->b, "mamori_agent_dropped_events{host=\"%s\"} %s\n", v[0], v[3] ? v[3] : "0");
    m->n++;
    return 0;
}

static void metrics(mm_fleet *f, mm_http_resp *resp)
{
    fleet_metrics m;
    pthread_mutex_lock(&f->mu);
    m = f->m;
    pthread_mutex_unlock(&f->mu);
    mm_buf b = MM_BUF_INIT;
    static const char *const cls[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};
    mm_buf_adds(&b, "# HELP mamori_http_requests_total API requests by status class.\n"
                    "# TYPE mamori_http_requests_total counter\n");
    for (int i = 1; i <= 5; i++)
        mm_buf_printf(&b, "mamori_http_requests_total{code=\"%s\"} %llu\n", cls[i],
                      (unsigned long long)m.requests[i]);
#define C(name, help, v) mm_buf_printf(&b, "# HELP " name " " help "\n# TYPE " name \
                                       " counter\n" name " %llu\n", (unsigned long long)(v))
    C("mamori_events_ingested_total", "Runtime events stored.", m.events_accepted);
    C("mamori_events_duplicate_total", "Events received again (idempotent resends).",
      m.events_duplicate);
    C("mamori_event_batches_total", "Event batches stored.", m.event_batches);
    C("mamori_scans_ingested_total", "Scan results stored.", m.scans_ingested);
    C("mamori_findings_ingested_total", "Findings stored with scans.", m.findings_ingested);
    C("mamori_rate_limited_total", "Requests refused by the per-token rate limit.",
      m.rate_limited);
    C("mamori_auth_failures_total", "Requests with a missing, unknown or revoked token.",
      m.auth_failures);
#undef C
    mm_buf_printf(&b, "# HELP mamori_ingest_seconds_total Time spent storing event batches.\n"
                      "# TYPE mamori_ingest_seconds_total counter\n"
                      "mamori_ingest_seconds_total %.6f\n", m.ingest_seconds);
    mm_buf_printf(&b, "# HELP mamori_scan_duration_seconds How long the scans received took"
                      " (their reports' durationSeconds).\n"
                      "# TYPE mamori_scan_duration_seconds summary\n"
                      "mamori_scan_duration_seconds_sum %.6f\nmamori_scan_duration_seconds_count %llu\n",
                  m.scan_seconds, (unsigned long long)m.scans_timed);
    mm_buf_printf(&b, "# HELP mamori_uptime_seconds Seconds since the server started.\n"
                      "# TYPE mamori_uptime_seconds gauge\nmamori_uptime_seconds %lld\n",
                  (long long)(fleet_now() - f->started));
    fleet_ops_metrics(f, &b);   /* issue 19: the scheduler's counters */
    mbuf_host mh = {&b, fleet_now(), 0};
    mm_buf_adds(&b, "# HELP mamori_agent_last_seen_age_seconds Seconds since an agent was heard.\n"
                    "# TYPE mamori_agent_last_seen_age_seconds gauge\n"
                    "# HELP mamori_agent_queue_depth Events an agent reported waiting.\n"
                    "# TYPE mamori_agent_queue_depth gauge\n"
                    "# HELP mamori_agent_dropped_events Events an agent reported lost to its spool cap.\n"
                    "# TYPE mamori_agent_dropped_events gauge\n");
    fdb_lock(f->db);
    fdb_query(f->db, "SELECT host_id, last_seen, queue_depth, dropped FROM hosts"
              " ORDER BY host_id LIMIT 1000", 0, NULL, metrics_host, &mh);
    int64_t stored = 0;
    fdb_query_int(f->db, "SELECT COUNT(*) FROM hosts", 0, NULL, 0, &stored);
    fdb_unlock(f->db);
    mm_buf_printf(&b, "# HELP mamori_agents Hosts known to the server.\n"
                      "# TYPE mamori_agents gauge\nmamori_agents %lld\n", (long long)stored);
    mm_http_resp_text(resp, 200, "text/plain; version=0.0.4", b.data, b.len);
    mm_buf_free(&b);
}

static void count_status(mm_fleet *f, int status)
{
    int c = status / 100;
    pthread_mutex_lock(&f->mu);
    if (c >= 1 && c <= 5)
        f->m.requests[c]++;
    pthread_mutex_unlock(&f->mu);
}

static void handle(mm_fleet *f, const mm_http_req *rq, mm_http_resp *resp, fleet_ctx *fc)
{
    const char *path = rq->path;
    if (strcmp(rq->method, "POST") == 0 && strcmp(path, "/api/v1/session") == 0) {
        /* issue 20: logins are rate-limited per peer address, as calls per token */
        double retry = 0;
        char key[96];
        snprintf(key, sizeof key, "login:%.80s", rq->peer ? rq->peer : "");
        if (!rate_take(f, key, &retry)) {
            char ra[24];
            snprintf(ra, sizeof ra, "%d", (int)ceil(retry));
            mm_http_resp_header(resp, "Retry-After", ra);
            mm_http_resp_error(resp, 429, "too many logins from %s", rq->peer ? rq->peer : "?");
            return;
        }
    }
    if (fleet_console_pre(f, fc, rq, resp))   /* issue 20: console files and session */
        return;
    if (strcmp(rq->method, "GET") == 0 && strcmp(path, "/healthz") == 0)
        return health(f, false, resp);
    if (strcmp(rq->method, "GET") == 0 && strcmp(path, "/readyz") == 0)
        return health(f, true, resp);
    /* the route, before the token, so that an unknown path is a 404 */
    const route *rt = NULL;
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route *r = &routes[i];
        bool m = r->prefix ? (mm_str_startswith(path, r->path) && path[strlen(r->path)])
                           : strcmp(path, r->path) == 0;
        if (!m)
            continue;
        path_known = true;
        if (strcmp(r->method, rq->method) == 0) {
            rt = r;
            break;
        }
    }
    if (!rt) {
        if (path_known)
            mm_http_resp_error(resp, 405, "%s is not allowed on %s", rq->method, path);
        else
            mm_http_resp_error(resp, 404, "no such endpoint: %s", path);
        return;
    }
    const char *auth = mm_http_req_header(rq, "Authorization");
    const char *tok = auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
    bool csrf_bad = false;   /* issue 20: a console session stands for its token */
    int arc = !tok && fleet_has_session_cookie(rq)
                  ? fleet_session_auth(f, rq, state_changing(rq->method), &fc->caller, &csrf_bad)
                  : fleet_auth(f, tok, &fc->caller);
    if (csrf_bad) {
        mm_http_resp_error(resp, 403, "%s", mm_error_last());
        return;
    }
    if (arc != 0) {
        pthread_mutex_lock(&f->mu);
        f->m.auth_failures++;
        pthread_mutex_unlock(&f->mu);
        mm_http_resp_header(resp, "WWW-Authenticate", "Bearer realm=\"mamori\"");
        mm_http_resp_error(resp, 401, "%s", tok ? "unknown or revoked token"
                                               : "missing bearer token (Authorization: Bearer ...)");
        return;
    }
    double retry = 0;
    if (!rate_take(f, fc->caller.id, &retry)) {
        char ra[24];
        snprintf(ra, sizeof ra, "%d", (int)ceil(retry));
        mm_http_resp_header(resp, "Retry-After", ra);
        mm_http_resp_error(resp, 429, "rate limit of %.0f requests/s for this token exceeded",
                           f->o.rate);
        return;
    }
    if (!(rt->roles & fc->caller.role_bit)) {
        mm_http_resp_error(resp, 403, "role %s may not %s %s", fc->caller.role, rq->method,
                           rt->path);
        return;
    }
    if (!rt->fn)
        return metrics(f, resp);
    rt->fn(f, fc, rq, resp);
}

void mm_fleet_handle(void *fleet, const mm_http_req *rq, mm_http_resp *resp)
{
    mm_fleet *f = fleet;
    fleet_ctx fc;
    memset(&fc, 0, sizeof fc);
    handle(f, rq, resp, &fc);
    fleet_security_headers(resp, strcmp(rq->path, "/") == 0 || mm_str_startswith(rq->path, "/ui/"));
    int status = resp->status ? resp->status : 500;
    count_status(f, status);
    if (state_changing(rq->method) && !fc.audited)
        fleet_audit(f, fc.caller.role_bit ? &fc.caller : NULL, rq->peer, rq->method,
                    rq->path, status, fc.detail[0] ? fc.detail : NULL);
}
