/*
 * profiles.c - runtime profiles and captures in `mamori server` (issue
 * 20a).  Agents upload the profile they learned (POST /api/v1/profiles:
 * one row per host, image key and learning period, state "learned") and
 * the list of the captures they keep (POST /api/v1/captures: the host's
 * list replaced), each only for the host their token is bound to (403).
 * Readers list and read profiles, a profile's drift (the "Profile
 * deviation: ..." alerts that host sent for that image) and the captures
 * (with the alerts stored within each one's time range).  An admin or
 * operator turns a profile into the enforced policy of its host and image
 * (POST /api/v1/profiles/{id}/enforce with {"confirm": true}; audit-logged
 * by api.c with the detail set here); an earlier enforced profile of the
 * same host and image goes back to "learned"; .../unenforce (confirmed
 * too) puts an enforced one back to "learned".  Agents fetch the merged
 * enforced profiles of their host (GET /api/v1/agent/profiles), a profile
 * document the agent's loader reads as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/profiles.h"

#define MAX_DRIFT 500        /* drift alerts returned per profile */
#define DRIFT_SCAN 5000      /* deviation alerts of the host looked at */
#define MAX_LIST 1000

static void store_error(mm_http_resp *resp)
{
    mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
}

/* Rows as objects (fleet_jrow): these columns as numbers, "doc"/"counts" parsed. */
static const char *const NUM_COLS[] = {"seq", "learned_start", "learned_end", "received",
                                       "enforced_at", "start_ts", "end_ts", "size", "events",
                                       "alerts", "ts", "stored", NULL};
static const char *const JSON_COLS[] = {"doc", "counts", NULL};

/* The end of a route's transaction (fdb_end) and of its lock: false with
 * the store's error answered (503) when rc or the COMMIT failed. */
static bool tx_done(mm_fleet *f, int rc, mm_http_resp *resp)
{
    rc = fdb_end(f->db, rc);
    fdb_unlock(f->db);
    if (rc)
        store_error(resp);
    return rc == 0;
}

void route_profiles_ingest(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                           mm_http_resp *resp)
{
    fleet_profile_upload u;
    int rc = fleet_profile_parse(rq->body, rq->body_len, &u);
    if (!fleet_upload_ok(fc, rc, u.host_id, resp, "profile")) {
        fleet_profile_upload_free(&u);
        return;
    }
    char now[24], st[24], en[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    snprintf(st, sizeof st, "%lld", (long long)u.start);
    snprintf(en, sizeof en, "%lld", (long long)u.end);
    json_t *ids = json_array();
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    for (size_t i = 0; rc == 0 && i < u.n; i++) {
        char id[17];
        if ((rc = mm_random_hex(id, 8)) != 0)
            break;
        const char *p[] = {id, u.host_id, u.img[i].image, st, en, now, u.img[i].counts,
                           u.img[i].doc};
        /* the same learning period sent again (a resend) replaces its document */
        rc = fdb_exec(f->db, "INSERT INTO runtime_profiles (id, host_id, image, learned_start,"
                      " learned_end, received, counts, doc) VALUES ($1, $2, $3, $4, $5, $6, $7,"
                      " $8) ON CONFLICT (host_id, image, learned_start, learned_end) DO UPDATE"
                      " SET received = excluded.received, counts = excluded.counts,"
                      " doc = excluded.doc", 8, p, NULL);
        fleet_jrows r = {ids, NUM_COLS, JSON_COLS};
        const char *q[] = {u.host_id, u.img[i].image, st, en};
        if (rc == 0)
            rc = fdb_query(f->db, "SELECT id, image FROM runtime_profiles WHERE host_id = $1"
                           " AND image = $2 AND learned_start = $3 AND learned_end = $4",
                           4, q, fleet_jrow, &r);
    }
    if (rc == 0)
        rc = fleet_host_seen(f->db, u.host_id, now);
    if (!tx_done(f, rc, resp)) {
        json_decref(ids);
        fleet_profile_upload_free(&u);
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "profile of host %s: %zu image(s), %zu entries",
             u.host_id, u.n, u.entries);
    json_t *j = json_object();
    json_object_set_new(j, "stored", json_integer((json_int_t)u.n));
    json_object_set_new(j, "profiles", ids);
    mm_http_resp_json(resp, 200, j);
    fleet_profile_upload_free(&u);
}

#define PROFILE_COLS "seq, id, host_id, image, learned_start, learned_end, received, state," \
                     " enforced_by, enforced_at, counts"

void route_profiles_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                         mm_http_resp *resp)
{
    (void)fc;
    mm_buf sql = MM_BUF_INIT;
    const char *p[3];
    int np = 0;
    mm_buf_adds(&sql, "SELECT " PROFILE_COLS " FROM runtime_profiles WHERE 1 = 1");
    static const char *const args[] = {"host", "image", "state"};
    static const char *const cols[] = {"host_id", "image", "state"};
    for (int i = 0; i < 3; i++) {
        const char *v = mm_http_req_query(rq, args[i]);
        if (!v || !*v)
            continue;
        if (strlen(v) > 4096) {
            mm_buf_free(&sql);
            mm_http_resp_error(resp, 400, "%s: longer than 4096 bytes", args[i]);
            return;
        }
        p[np++] = v;
        mm_buf_printf(&sql, " AND %s = $%d", cols[i], np);
    }
    mm_buf_printf(&sql, " ORDER BY seq DESC LIMIT %d", MAX_LIST);
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, sql.data, np, p, fleet_jrow, &r);
    fdb_unlock(f->db);
    mm_buf_free(&sql);
    if (rc) {
        json_decref(r.items);
        store_error(resp);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "items", r.items);
    mm_http_resp_json(resp, 200, j);
}

/* "/api/v1/profiles/{id}[/tail]": the id into id (16 hex) and the tail. */
static bool profile_path(const char *path, char id[FLEET_MAX_ID + 1], const char **tail)
{
    const char *rest = path + strlen("/api/v1/profiles/");
    const char *slash = strchr(rest, '/');
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n > FLEET_MAX_ID)
        return false;
    memcpy(id, rest, n);
    id[n] = 0;
    *tail = slash ? slash : "";
    return fleet_id_valid(id);
}

/* The deviation alerts of the host for this image, newest first. */
static int drift(mm_fleet *f, const char *host, const char *image, json_t *out)
{
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    char lim[16];
    snprintf(lim, sizeof lim, "%d", DRIFT_SCAN);
    const char *p[] = {host, lim};
    int rc = fdb_query(f->db, "SELECT seq, ts, severity, rule, container, body FROM events"
                       " WHERE host_id = $1 AND rule LIKE 'Profile deviation:%'"
                       " ORDER BY seq DESC LIMIT $2", 2, p, fleet_jrow, &r);
    for (size_t i = 0; rc == 0 && i < json_array_size(r.items); i++) {
        json_t *e = json_array_get(r.items, i);
        const char *body = json_string_value(json_object_get(e, "body"));
        json_t *ev = body ? json_loads(body, 0, NULL) : NULL;
        json_t *of = json_object_get(ev, "output_fields");
        const char *pi = json_string_value(json_object_get(of, "profile.image"));
        if (pi && !strcmp(pi, image) && json_array_size(out) < MAX_DRIFT) {
            json_object_del(e, "body");
            json_object_set(e, "category", json_object_get(of, "profile.category"));
            json_object_set(e, "deviation", json_object_get(of, "profile.deviation"));
            json_t *act = json_object_get(ev, "action");   /* absent: alert only */
            json_object_set_new(e, "action", json_is_string(act) ? json_incref(act)
                                                                 : json_string("none"));
            json_object_set(e, "event", ev);
            json_array_append(out, e);
        }
        json_decref(ev);
    }
    json_decref(r.items);
    return rc;
}

void route_profile_get(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    (void)fc;
    char id[FLEET_MAX_ID + 1];
    const char *tail;
    if (!profile_path(rq->path, id, &tail) || (*tail && strcmp(tail, "/drift"))) {
        mm_http_resp_error(resp, 404, "no such endpoint: %s", rq->path);
        return;
    }
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    const char *p[] = {id};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT " PROFILE_COLS ", doc FROM runtime_profiles WHERE id = $1",
                       1, p, fleet_jrow, &r);
    json_t *one = json_array_get(r.items, 0);
    json_t *d = json_array();
    if (rc == 0 && one)
        rc = drift(f, json_string_value(json_object_get(one, "host_id")),
                   json_string_value(json_object_get(one, "image")), d);
    fdb_unlock(f->db);
    if (rc || !one) {
        json_decref(r.items);
        json_decref(d);
        if (rc)
            store_error(resp);
        else
            mm_http_resp_error(resp, 404, "no profile '%s'", id);
        return;
    }
    json_t *j;
    if (*tail) {   /* /drift */
        j = json_object();
        json_object_set_new(j, "items", d);
    } else {
        j = json_incref(one);
        json_object_set_new(j, "drift", json_integer((json_int_t)json_array_size(d)));
        json_decref(d);
    }
    json_decref(r.items);
    mm_http_resp_json(resp, 200, j);
}

/* POST .../unenforce: the profile back to "learned"; the agents stop
 * checking it at their next fetch. */
static void profile_unenforce(mm_fleet *f, fleet_ctx *fc, const char *id, mm_http_resp *resp)
{
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    const char *p[] = {id};
    int64_t changed = 0;
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT host_id, image, state FROM runtime_profiles WHERE id = $1",
                       1, p, fleet_jrow, &r);
    json_t *one = json_array_get(r.items, 0);
    if (rc == 0 && one)
        rc = fdb_exec(f->db, "UPDATE runtime_profiles SET state = 'learned', enforced_by = NULL,"
                      " enforced_at = NULL WHERE id = $1 AND state = 'enforced'", 1, p, &changed);
    fdb_unlock(f->db);
    if (rc)
        store_error(resp);
    else if (!one)
        mm_http_resp_error(resp, 404, "no profile '%s'", id);
    else {
        snprintf(fc->detail, sizeof fc->detail, "unenforced profile %.32s: host %.48s,"
                 " image %.96s%s", id, json_string_value(json_object_get(one, "host_id")),
                 json_string_value(json_object_get(one, "image")),
                 changed ? "" : " (was not enforced)");
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(id));
        json_object_set_new(j, "state", json_string("learned"));
        json_object_set_new(j, "changed", json_boolean(changed > 0));
        mm_http_resp_json(resp, 200, j);
    }
    json_decref(r.items);
}

void route_profile_enforce(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                           mm_http_resp *resp)
{
    char id[FLEET_MAX_ID + 1];
    const char *tail;
    if (!profile_path(rq->path, id, &tail) || (strcmp(tail, "/enforce") &&
                                                strcmp(tail, "/unenforce"))) {
        mm_http_resp_error(resp, 404, "no such endpoint: %s", rq->path);
        return;
    }
    bool undo = !strcmp(tail, "/unenforce");
    json_t *b = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, NULL);
    bool confirmed = json_is_object(b) && json_is_true(json_object_get(b, "confirm"));
    json_decref(b);
    if (!confirmed) {
        mm_http_resp_error(resp, 400, "confirm: %s a profile needs {\"confirm\": true}"
                           " in the body", undo ? "ending the enforcement of" : "enforcing");
        snprintf(fc->detail, sizeof fc->detail, "refused: %s profile %.32s without"
                 " confirmation", undo ? "unenforce" : "enforce", id);
        return;
    }
    if (undo)
        return profile_unenforce(f, fc, id, resp);
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    const char *p[] = {id};
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    int64_t replaced = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    if (rc == 0)
        rc = fdb_query(f->db, "SELECT host_id, image FROM runtime_profiles WHERE id = $1", 1, p,
                       fleet_jrow, &r);
    json_t *one = json_array_get(r.items, 0);
    const char *host = json_string_value(json_object_get(one, "host_id"));
    const char *image = json_string_value(json_object_get(one, "image"));
    if (rc == 0 && one) {
        const char *q[] = {host, image, id};
        rc = fdb_exec(f->db, "UPDATE runtime_profiles SET state = 'learned', enforced_by = NULL,"
                      " enforced_at = NULL WHERE host_id = $1 AND image = $2"
                      " AND state = 'enforced' AND id <> $3", 3, q, &replaced);
    }
    if (rc == 0 && one) {
        /* parameters are numbered in their order of use (db.h) */
        const char *q[] = {fc->caller.name, now, id};
        rc = fdb_exec(f->db, "UPDATE runtime_profiles SET state = 'enforced', enforced_by = $1,"
                      " enforced_at = $2 WHERE id = $3", 3, q, NULL);
    }
    bool ok = tx_done(f, rc, resp);
    if (ok && !one) {
        mm_http_resp_error(resp, 404, "no profile '%s'", id);
    } else if (ok) {
        snprintf(fc->detail, sizeof fc->detail, "enforced profile %.32s: host %.48s, image %.96s%s",
                 id, host, image, replaced ? " (replacing the earlier one)" : "");
        json_t *j = json_object();
        json_object_set_new(j, "id", json_string(id));
        json_object_set_new(j, "state", json_string("enforced"));
        json_object_set_new(j, "enforced_by", mm_json_str(fc->caller.name));
        json_object_set_new(j, "enforced_at", json_integer(fleet_now()));
        json_object_set_new(j, "replaced", json_integer(replaced));
        mm_http_resp_json(resp, 200, j);
    }
    json_decref(r.items);
}

void route_agent_profiles(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                          mm_http_resp *resp)
{
    const char *host = fc->caller.host_id;
    if (!(fc->caller.role_bit & ROLE_AGENT))
        host = mm_http_req_query(rq, "host");
    if (!host || !fleet_id_valid(host)) {
        mm_http_resp_error(resp, 400, "host: required (1 to %d of A-Z a-z 0-9 . _ : -)",
                           FLEET_MAX_ID);
        return;
    }
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    const char *p[] = {host};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT id, doc FROM runtime_profiles WHERE host_id = $1"
                       " AND state = 'enforced' ORDER BY image", 1, p, fleet_jrow, &r);
    fdb_unlock(f->db);
    if (rc) {
        json_decref(r.items);
        store_error(resp);
        return;
    }
    /* one profile document: the images of every enforced profile */
    json_t *doc = json_object(), *imgs = json_array();
    json_object_set_new(doc, "version", json_integer(1));
    json_object_set_new(doc, "images", imgs);
    mm_buf ids = MM_BUF_INIT;
    for (size_t i = 0; i < json_array_size(r.items); i++) {
        json_t *row = json_array_get(r.items, i);
        json_t *im = json_object_get(json_object_get(row, "doc"), "images");
        for (size_t k = 0; k < json_array_size(im); k++)
            json_array_append(imgs, json_array_get(im, k));
        mm_buf_printf(&ids, "%s%s", i ? "," : "", json_string_value(json_object_get(row, "id")));
    }
    json_decref(r.items);
    /* which profiles these are, for the agent's note (not part of the document) */
    mm_http_resp_header(resp, "X-Mamori-Profiles", ids.len ? ids.data : "none");
    mm_buf_free(&ids);
    mm_http_resp_json(resp, 200, doc);
}

/* A capture's start, end, size and events as statement parameters. */
static void meta_text(const fleet_capture_meta *m, char t[4][24])
{
    const int64_t v[4] = {m->start, m->end, m->size, m->events};
    for (int i = 0; i < 4; i++)
        snprintf(t[i], sizeof t[i], "%lld", (long long)v[i]);
}

void route_captures_ingest(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                           mm_http_resp *resp)
{
    fleet_capture_list c;
    int rc = fleet_capture_list_parse(rq->body, rq->body_len, &c);
    if (!fleet_upload_ok(fc, rc, c.host_id, resp, "captures")) {
        fleet_capture_list_free(&c);
        return;
    }
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    const char *hp[] = {c.host_id};
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    /* the list is what the agent keeps now: files rotated away are gone */
    if (rc == 0)
        rc = fdb_exec(f->db, "DELETE FROM runtime_captures WHERE host_id = $1", 1, hp, NULL);
    for (size_t i = 0; rc == 0 && i < c.n; i++) {
        char t[4][24];
        meta_text(&c.v[i], t);
        const char *p[] = {c.host_id, c.v[i].file, t[0], t[1], t[2], t[3], now};
        rc = fdb_exec(f->db, "INSERT INTO runtime_captures (host_id, file, start_ts, end_ts,"
                      " size, events, received) VALUES ($1, $2, $3, $4, $5, $6, $7)", 7, p,
                      NULL);
    }
    if (tx_done(f, rc, resp)) {
        snprintf(fc->detail, sizeof fc->detail, "captures of host %s: %zu file(s)", c.host_id,
                 c.n);
        json_t *j = json_object();
        json_object_set_new(j, "stored", json_integer((json_int_t)c.n));
        mm_http_resp_json(resp, 200, j);
    }
    fleet_capture_list_free(&c);
}

void route_captures_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                         mm_http_resp *resp)
{
    (void)fc;
    const char *host = mm_http_req_query(rq, "host");
    const char *p[] = {host};
    fleet_jrows r = {json_array(), NUM_COLS, JSON_COLS};
    /* each capture with the alerts its host sent within its time range: the
     * events to replay for them are in that file */
    char *sql = mm_xasprintf("SELECT c.seq, c.host_id, c.file, c.start_ts, c.end_ts, c.size,"
                             " c.events, c.received, (SELECT COUNT(*) FROM events e WHERE"
                             " e.host_id = c.host_id AND e.ts >= c.start_ts AND e.ts <= c.end_ts)"
                             " AS alerts, (SELECT f.seq FROM runtime_capture_files f WHERE"
                             " f.host_id = c.host_id AND f.start_ts = c.start_ts AND"
                             " f.end_ts = c.end_ts AND f.size = c.size) AS stored"
                             " FROM runtime_captures c%s ORDER BY c.host_id,"
                             " c.start_ts DESC LIMIT %d", host && *host ? " WHERE c.host_id = $1"
                             : "", MAX_LIST);
    fdb_lock(f->db);
    int rc = fdb_query(f->db, sql, host && *host ? 1 : 0, p, fleet_jrow, &r);
    fdb_unlock(f->db);
    free(sql);
    if (rc) {
        json_decref(r.items);
        store_error(resp);
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "items", r.items);
    mm_http_resp_json(resp, 200, j);
}

void route_capture_file_ingest(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                               mm_http_resp *resp)
{
    fleet_capture_file c;
    int rc = fleet_capture_file_parse(rq->body, rq->body_len, &c);
    if (!fleet_upload_ok(fc, rc, c.host_id, resp, "capture file")) {
        fleet_capture_file_free(&c);
        return;
    }
    char now[24], t[4][24], keep[16];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    meta_text(&c.m, t);
    snprintf(keep, sizeof keep, "%d", FLEET_CAPTURE_FILES_KEPT);
    const char *p[] = {c.host_id, c.m.file, t[0], t[1], t[2], t[3], now, c.b64};
    const char *k[] = {c.host_id, keep};
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    /* the same file again (a resend, or renamed by a rotation) is one row */
    if (rc == 0)
        rc = fdb_exec(f->db, "INSERT INTO runtime_capture_files (host_id, name, start_ts, end_ts,"
                      " size, events, received, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
                      " ON CONFLICT (host_id, start_ts, end_ts, size) DO UPDATE SET"
                      " name = excluded.name, received = excluded.received", 8, p, NULL);
    if (rc == 0)   /* the newest ones of the host are kept */
        rc = fdb_exec(f->db, "DELETE FROM runtime_capture_files WHERE host_id = $1 AND seq NOT IN"
                      " (SELECT seq FROM runtime_capture_files WHERE host_id = $1"
                      " ORDER BY seq DESC LIMIT $2)", 2, k, NULL);
    if (tx_done(f, rc, resp)) {
        snprintf(fc->detail, sizeof fc->detail, "capture file of host %s: %lld bytes, %lld events",
                 c.host_id, (long long)c.m.size, (long long)c.m.events);
        json_t *j = json_object();
        json_object_set_new(j, "stored", json_true());
        json_object_set_new(j, "size", json_integer(c.m.size));
        mm_http_resp_json(resp, 200, j);
    }
    fleet_capture_file_free(&c);
}

typedef struct cfile {
    char *host, *b64;
    int64_t start;
} cfile;

static int cfile_row(void *ud, int n, const char *const *v, const char *const *names)
{
    (void)names;
    cfile *c = ud;
    if (n >= 3 && v[0] && v[2] && !c->b64) {
        c->host = mm_xstrdup(v[0]);
        c->start = v[1] ? strtoll(v[1], NULL, 10) : 0;
        c->b64 = mm_xstrdup(v[2]);
    }
    return 0;
}

void route_capture_file_get(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                            mm_http_resp *resp)
{
    (void)fc;
    /* /api/v1/captures/{seq}/file */
    const char *rest = rq->path + strlen("/api/v1/captures/");
    char *end;
    long long seq = strtoll(rest, &end, 10);
    if (end == rest || seq <= 0 || strcmp(end, "/file") != 0) {
        mm_http_resp_error(resp, 404, "no such endpoint: %s", rq->path);
        return;
    }
    char sq[24];
    snprintf(sq, sizeof sq, "%lld", seq);
    const char *p[] = {sq};
    cfile c = {0};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT host_id, start_ts, data FROM runtime_capture_files"
                       " WHERE seq = $1", 1, p, cfile_row, &c);
    fdb_unlock(f->db);
    unsigned char *data = NULL;
    size_t n = 0;
    if (rc)
        store_error(resp);
    else if (!c.b64)
        mm_http_resp_error(resp, 404, "no stored capture file %lld", seq);
    else if (mm_base64_decode(&data, &n, c.b64, strlen(c.b64), 0) != 0)
        mm_http_resp_error(resp, 500, "stored capture file %lld: %s", seq, mm_error_last());
    else {
        char cd[256];
        /* host ids are [A-Za-z0-9._:-]: safe in the header */
        snprintf(cd, sizeof cd, "attachment; filename=\"capture-%s-%lld.zst\"", c.host,
                 (long long)c.start);
        mm_http_resp_header(resp, "Content-Disposition", cd);
        mm_http_resp_text(resp, 200, "application/octet-stream", (const char *)data, n);
    }
    free(data);
    free(c.host);
    free(c.b64);
}
