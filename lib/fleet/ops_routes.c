/*
 * ops_routes.c - the API of the server's operations (docs/api.md):
 * schedules (list, create or replace, delete, run now), notification
 * routes (list with secrets hidden, create or replace, delete, the
 * delivery queue), retention (read, replace) and the alerts the server
 * raised.  Changes are for the admin role; api.c writes their audit line
 * with the detail set here.  Bodies are checked by ops_config.c.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/ops.h"

static bool name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') &&
            *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* Rows as objects (fleet_jrow): these columns as numbers, and a secret
 * in "params" hidden. */
static const char *const INT_COLS[] = {"seq", "ts", "every", "next_run", "last_run", "runs",
                                       "scan_seq", "alert_seq", "created", "next_try",
                                       "attempts", "delivered", "days", "max_rows", NULL};

static int jrow(void *ud, int n, const char *const *v, const char *const *names)
{
    fleet_jrows *r = ud;
    fleet_jrow(ud, n, v, names);
    /* secrets never leave the store */
    json_t *o = json_array_get(r->items, json_array_size(r->items) - 1);
    json_t *pr = json_object_get(o, "params");
    if (json_object_get(pr, "secret"))
        json_object_set_new(pr, "secret", json_string("(set)"));
    return 0;
}

static void list_json(mm_fleet *f, mm_http_resp *resp, const char *sql, int np,
                      const char *const *p, const char *json_col)
{
    const char *const jsons[] = {json_col, NULL};
    fleet_jrows r = {json_array(), INT_COLS, jsons};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, sql, np, p, jrow, &r);
    fdb_unlock(f->db);
    if (rc) {
        json_decref(r.items);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "items", r.items);
    mm_http_resp_json(resp, 200, j);
}

static json_t *body_json(const mm_http_req *rq, mm_http_resp *resp)
{
    json_error_t je;
    json_t *doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        mm_http_resp_error(resp, 400, "body: not JSON: %s at offset %d", je.text, je.position);
    return doc;
}

void route_schedules_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    list_json(f, resp, "SELECT name, kind, every, params, next_run, last_run, last_status,"
              " last_detail, runs FROM schedules ORDER BY name", 0, NULL, "params");
}

void route_schedules_put(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_t *doc = body_json(rq, resp), *n = NULL;
    if (!doc)
        return;
    int rc = ops_schedule_parse(doc, "body", &n);
    json_decref(doc);
    if (rc) {
        mm_http_resp_error(resp, 400, "%s", mm_error_last());
        return;
    }
    if ((rc = ops_schedule_put(f, n)) != 0) {
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        json_decref(n);
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "schedule %s (%s, every %llds) set",
             ops_js(n, "name"), ops_js(n, "kind"),
             (long long)json_integer_value(json_object_get(n, "every")));
    json_t *o = json_deep_copy(n);
    if (json_object_get(o, "secret"))
        json_object_set_new(o, "secret", json_string("(set)"));
    mm_http_resp_json(resp, 201, o);
    json_decref(n);
}

/* DELETE /api/v1/schedules/NAME, POST /api/v1/schedules/NAME/run */
void route_schedule_one(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    char name[80];
    const char *rest = rq->path + strlen("/api/v1/schedules/");
    bool run = mm_str_endswith(rest, "/run");
    size_t nl = run ? strlen(rest) - 4 : strlen(rest);
    snprintf(name, sizeof name, "%.*s", (int)(nl < 79 ? nl : 79), rest);
    if (!name_ok(name) || nl > 64) {
        mm_http_resp_error(resp, 400, "schedule name: 1 to 64 of A-Z a-z 0-9 . _ -");
        return;
    }
    bool post = !strcmp(rq->method, "POST");
    if (post != run) {
        mm_http_resp_error(resp, 405, "want DELETE /api/v1/schedules/NAME or POST"
                           " /api/v1/schedules/NAME/run");
        return;
    }
    int rc = run ? ops_schedule_run_now(f, name) : ops_delete(f, "schedules", name);
    if (rc) {
        mm_http_resp_error(resp, rc == MM_ENOTFOUND ? 404 : 503, "%s", mm_error_last());
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "schedule %s %s", name, run ? "run" : "deleted");
    json_t *j = json_object();
    json_object_set_new(j, run ? "queued" : "deleted", json_string(name));
    mm_http_resp_json(resp, run ? 202 : 200, j);
}

void route_notify_routes_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                              mm_http_resp *resp)
{
    list_json(f, resp, "SELECT name, kind, params, created FROM notify_routes ORDER BY name", 0,
              NULL, "params");
}

void route_notify_routes_put(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                             mm_http_resp *resp)
{
    json_t *doc = body_json(rq, resp), *n = NULL;
    if (!doc)
        return;
    int rc = ops_route_parse(doc, "body", &n);
    json_decref(doc);
    if (rc) {
        mm_http_resp_error(resp, 400, "%s", mm_error_last());
        return;
    }
    if ((rc = ops_route_put(f, n)) != 0) {
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        json_decref(n);
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "route %s (%s) set", ops_js(n, "name"),
             ops_js(n, "kind"));
    json_t *o = json_deep_copy(n);
    if (json_object_get(o, "secret"))
        json_object_set_new(o, "secret", json_string("(set)"));
    mm_http_resp_json(resp, 201, o);
    json_decref(n);
}

void route_notify_route_delete(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                               mm_http_resp *resp)
{
    const char *name = rq->path + strlen("/api/v1/notify/routes/");
    if (!name_ok(name)) {
        mm_http_resp_error(resp, 400, "route name: 1 to 64 of A-Z a-z 0-9 . _ -");
        return;
    }
    int rc = ops_delete(f, "notify_routes", name);
    if (rc) {
        mm_http_resp_error(resp, rc == MM_ENOTFOUND ? 404 : 503, "%s", mm_error_last());
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "route %s deleted", name);
    json_t *j = json_object();
    json_object_set_new(j, "deleted", json_string(name));
    mm_http_resp_json(resp, 200, j);
}

void route_notify_outbox(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *state = mm_http_req_query(rq, "state");
    const char *p[] = {state ? state : ""};
    list_json(f, resp, "SELECT seq, route, alert_seq, created, next_try, attempts, state,"
              " last_error, delivered FROM notify_outbox WHERE ($1 = '' OR state = $1)"
              " ORDER BY seq DESC LIMIT 1000", 1, p, NULL);
}

void route_retention_get(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    list_json(f, resp, "SELECT kind, days, max_rows FROM retention ORDER BY kind", 0, NULL,
              NULL);
}

void route_retention_put(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_t *doc = body_json(rq, resp), *n = NULL;
    if (!doc)
        return;
    int rc = ops_retention_parse(doc, "body", &n);
    json_decref(doc);
    if (rc) {
        mm_http_resp_error(resp, 400, "%s", mm_error_last());
        return;
    }
    if ((rc = ops_retention_put(f, n)) != 0) {
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        json_decref(n);
        return;
    }
    char *d = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS);
    snprintf(fc->detail, sizeof fc->detail, "retention %.200s", d ? d : "");
    free(d);
    mm_http_resp_json(resp, 200, n);
}

void route_alerts_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *kind = mm_http_req_query(rq, "kind"), *after = mm_http_req_query(rq, "after");
    const char *image = mm_http_req_query(rq, "image");
    char a[24] = "0";
    if (after) {
        char *end = NULL;
        long long v = strtoll(after, &end, 10);
        if (!*after || *end || v < 0) {
            mm_http_resp_error(resp, 400, "after: want a sequence number");
            return;
        }
        snprintf(a, sizeof a, "%lld", v);
    }
    const char *p[] = {kind ? kind : "", a, image ? image : ""};
    list_json(f, resp, "SELECT seq, ts, kind, severity, section, image, host_id, namespace,"
              " vuln_id, package, title, body FROM alerts WHERE ($1 = '' OR kind = $1) AND"
              " seq > $2 AND ($3 = '' OR image = $3) ORDER BY seq LIMIT 1000", 3, p, "body");
}
