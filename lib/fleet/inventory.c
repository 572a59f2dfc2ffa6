/*
 * inventory.c - host inventory in `mamori server` (issue 18): POST
 * /api/v1/inventory takes an agent's snapshot of its host (OS, processes,
 * logins, containers), checks every field for type and size and keeps
 * only the known ones, and stores the newest snapshot per host (an older
 * one arriving late is acknowledged and ignored); GET
 * /api/v1/hosts/{id}/inventory gives it back as {host_id, received, os,
 * processes, logins, containers}.  An agent token may send only for its
 * own host (403).  Lists are capped (fleet_inventory_parse), and values
 * reach the store only as statement parameters.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/routes.h"

#define MAX_PROCS 20000
#define MAX_LOGINS 5000
#define MAX_CTRS 5000
#define MAX_MOUNTS 256

typedef enum { F_STR, F_INT, F_BOOL } ftype;

typedef struct field {
    const char *name;
    ftype type;
    size_t max;        /* string bytes; for F_INT: 1 = may be null */
    bool required;
} field;

static const field os_fields[] = {
    {"name", F_STR, 256, false}, {"id", F_STR, 64, false}, {"version", F_STR, 64, false},
    {"kernel", F_STR, 256, false}, {"arch", F_STR, 64, false}, {"hostname", F_STR, 256, false},
    {NULL, 0, 0, false},
};
static const field proc_fields[] = {
    {"pid", F_INT, 0, true}, {"ppid", F_INT, 0, false}, {"user", F_STR, 256, false},
    {"name", F_STR, 256, false}, {"cmdline", F_STR, 4096, false}, {"exe", F_STR, 4096, false},
    {"container_id", F_STR, 128, false}, {NULL, 0, 0, false},
};
static const field login_fields[] = {
    {"user", F_STR, 256, false}, {"tty", F_STR, 64, false}, {"from", F_STR, 256, false},
    {"ts", F_INT, 0, true}, {"kind", F_STR, 16, true}, {NULL, 0, 0, false},
};
static const field ctr_fields[] = {
    {"id", F_STR, 128, true}, {"name", F_STR, 256, false}, {"image", F_STR, 1024, false},
    {"engine", F_STR, 32, false}, {"state", F_STR, 32, false}, {"user", F_STR, 256, false},
    {"privileged", F_BOOL, 0, false}, {"read_only", F_BOOL, 0, false},
    {"disk_bytes", F_INT, 1, false}, {NULL, 0, 0, false},
};
static const field mount_fields[] = {
    {"source", F_STR, 4096, false}, {"destination", F_STR, 4096, false},
    {"rw", F_BOOL, 0, false}, {NULL, 0, 0, false},
};

/* The known members of one object, checked and copied into a new object
 * (absent ones as null, or false for booleans). */
static int norm_obj(json_t *in, const field *fs, const char *where, json_t **out)
{
    *out = NULL;
    if (!json_is_object(in))
        return mm_error_set(MM_EFORMAT, "%s: not an object", where);
    json_t *o = json_object();
    for (const field *f = fs; f->name; f++) {
        json_t *v = json_object_get(in, f->name);
        bool absent = !v || json_is_null(v);
        if (absent && f->required) {
            json_decref(o);
            return mm_error_set(MM_EFORMAT, "%s.%s: required", where, f->name);
        }
        if (absent) {
            json_object_set_new(o, f->name, f->type == F_BOOL ? json_false() : json_null());
            continue;
        }
        int rc = 0;
        switch (f->type) {
        case F_STR:
            if (!json_is_string(v))
                rc = mm_error_set(MM_EFORMAT, "%s.%s: not a string", where, f->name);
            else if (json_string_length(v) > f->max)
                rc = mm_error_set(MM_ELIMIT, "%s.%s: longer than %zu bytes", where, f->name,
                                  f->max);
            else if (memchr(json_string_value(v), 0, json_string_length(v)))
                rc = mm_error_set(MM_EFORMAT, "%s.%s: holds a NUL character", where, f->name);
            break;
        case F_INT:
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 100000000000000LL)
                rc = mm_error_set(MM_EFORMAT, "%s.%s: want a whole number from 0", where,
                                  f->name);
            break;
        case F_BOOL:
            if (!json_is_boolean(v))
                rc = mm_error_set(MM_EFORMAT, "%s.%s: want true or false", where, f->name);
            break;
        }
        if (rc) {
            json_decref(o);
            return rc;
        }
        json_object_set(o, f->name, v);
    }
    *out = o;
    return 0;
}

/* An array of objects of one kind, at most max. */
static int norm_list(json_t *doc, const char *key, const field *fs, size_t max, json_t **out)
{
    *out = NULL;
    json_t *a = json_object_get(doc, key);
    if (!a || json_is_null(a)) {
        *out = json_array();
        return 0;
    }
    if (!json_is_array(a))
        return mm_error_set(MM_EFORMAT, "%s: want an array", key);
    if (json_array_size(a) > max)
        return mm_error_set(MM_ELIMIT, "%s: %zu entries exceed the cap of %zu", key,
                            json_array_size(a), max);
    json_t *r = json_array();
    for (size_t i = 0; i < json_array_size(a); i++) {
        char where[48];
        snprintf(where, sizeof where, "%s[%zu]", key, i);
        json_t *x, *in = json_array_get(a, i);
        int rc = norm_obj(in, fs, where, &x);
        if (rc == 0 && fs == login_fields) {
            const char *k = json_string_value(json_object_get(x, "kind"));
            if (strcmp(k, "login") && strcmp(k, "failed"))
                rc = mm_error_set(MM_EFORMAT, "%s.kind: want login or failed", where);
        }
        if (rc == 0 && fs == ctr_fields) {
            json_t *m = json_object_get(in, "mounts"), *ms = json_array();
            json_object_set_new(x, "mounts", ms);
            if (m && !json_is_null(m) && !json_is_array(m))
                rc = mm_error_set(MM_EFORMAT, "%s.mounts: want an array", where);
            else if (json_array_size(m) > MAX_MOUNTS)
                rc = mm_error_set(MM_ELIMIT, "%s.mounts: more than %d", where, MAX_MOUNTS);
            for (size_t j = 0; rc == 0 && j < json_array_size(m); j++) {
                char w2[80];
                snprintf(w2, sizeof w2, "%s.mounts[%zu]", where, j);
                json_t *y;
                if ((rc = norm_obj(json_array_get(m, j), mount_fields, w2, &y)) == 0)
                    json_array_append_new(ms, y);
            }
        }
        if (rc) {
            json_decref(x);
            json_decref(r);
            return rc;
        }
        json_array_append_new(r, x);
    }
    *out = r;
    return 0;
}

int fleet_inventory_parse(const char *body, size_t len, fleet_inventory *out)
{
    memset(out, 0, sizeof *out);
    json_t *doc;
    const char *host = NULL, *id = NULL;
    int rc = fleet_host_body(body, len, &doc, &host, &id);
    if (!doc)
        return rc;
    json_t *col = json_object_get(doc, "collected"), *os = json_object_get(doc, "os");
    json_t *osn = NULL, *procs = NULL, *logins = NULL, *ctrs = NULL;
    if (rc)
        ;
    else if (col && !json_is_null(col) && (!json_is_integer(col) || json_integer_value(col) < 0
                                            || json_integer_value(col) > 100000000000LL))
        rc = mm_error_set(MM_EFORMAT, "collected: want epoch seconds");
    else if (os && !json_is_null(os) && !json_is_object(os))
        rc = mm_error_set(MM_EFORMAT, "os: want an object");
    else if (json_is_object(os))
        rc = norm_obj(os, os_fields, "os", &osn);
    else {   /* no os: every member null */
        osn = json_object();
        for (const field *f = os_fields; f->name; f++)
            json_object_set_new(osn, f->name, json_null());
    }
    if (rc == 0)
        rc = norm_list(doc, "processes", proc_fields, MAX_PROCS, &procs);
    if (rc == 0)
        rc = norm_list(doc, "logins", login_fields, MAX_LOGINS, &logins);
    if (rc == 0)
        rc = norm_list(doc, "containers", ctr_fields, MAX_CTRS, &ctrs);
    if (rc == 0) {
        json_t *n = json_object();
        json_object_set_new(n, "os", osn);
        json_object_set_new(n, "processes", procs);
        json_object_set_new(n, "logins", logins);
        json_object_set_new(n, "containers", ctrs);
        out->nprocs = json_array_size(procs);
        out->nlogins = json_array_size(logins);
        out->nctrs = json_array_size(ctrs);
        osn = procs = logins = ctrs = NULL;
        out->body = json_dumps(n, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
        json_decref(n);
        out->host_id = mm_xstrdup(host);
        out->snapshot_id = id ? mm_xstrdup(id) : NULL;
        out->collected = json_is_integer(col) ? (int64_t)json_integer_value(col) : fleet_now();
        if (!out->body)
            rc = mm_error_set(MM_EFORMAT, "body: cannot be serialised");
    }
    json_decref(osn);
    json_decref(procs);
    json_decref(logins);
    json_decref(ctrs);
    json_decref(doc);
    if (rc)
        fleet_inventory_free(out);
    return rc;
}

void fleet_inventory_free(fleet_inventory *v)
{
    free(v->host_id);
    free(v->snapshot_id);
    free(v->body);
    memset(v, 0, sizeof *v);
}

void route_inventory_ingest(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                            mm_http_resp *resp)
{
    fleet_inventory v;
    int rc = fleet_inventory_parse(rq->body, rq->body_len, &v);
    if (!fleet_upload_ok(fc, rc, v.host_id, resp, "inventory")) {
        fleet_inventory_free(&v);
        return;
    }
    char now[24], col[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    snprintf(col, sizeof col, "%lld", (long long)v.collected);
    const char *p[] = {v.host_id, v.snapshot_id, col, now, v.body};
    int64_t changed = 0;
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    /* the newest snapshot wins: a late older one changes nothing */
    if (rc == 0)
        rc = fdb_exec(f->db, "INSERT INTO inventory (host_id, snapshot_id, collected, received,"
                      " body) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (host_id) DO UPDATE SET"
                      " snapshot_id = excluded.snapshot_id, collected = excluded.collected,"
                      " received = excluded.received, body = excluded.body"
                      " WHERE excluded.collected >= inventory.collected", 5, p, &changed);
    if (rc == 0)
        rc = fleet_host_seen(f->db, v.host_id, now);
    rc = fdb_end(f->db, rc);
    if (rc) {
        fdb_unlock(f->db);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        fleet_inventory_free(&v);
        return;
    }
    fdb_unlock(f->db);
    snprintf(fc->detail, sizeof fc->detail, "inventory of host %s: %zu processes, %zu logins,"
             " %zu containers%s", v.host_id, v.nprocs, v.nlogins, v.nctrs,
             changed ? "" : " (older than the stored one: ignored)");
    json_t *j = json_object();
    json_object_set_new(j, "stored", json_boolean(changed > 0));
    json_object_set_new(j, "processes", json_integer((json_int_t)v.nprocs));
    json_object_set_new(j, "logins", json_integer((json_int_t)v.nlogins));
    json_object_set_new(j, "containers", json_integer((json_int_t)v.nctrs));
    mm_http_resp_json(resp, 200, j);
    fleet_inventory_free(&v);
}

typedef struct inv_row {
    char *body;
    int64_t received;
} inv_row;

static int inv_row_fn(void *ud, int n, const char *const *v, const char *const *names)
{
    (void)names;
    inv_row *r = ud;
    if (n >= 2 && v[0] && !r->body) {
        r->body = mm_xstrdup(v[0]);
        r->received = v[1] ? strtoll(v[1], NULL, 10) : 0;
    }
    return 0;
}

void route_host_inventory(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq,
                          mm_http_resp *resp)
{
    (void)fc;
    /* /api/v1/hosts/{id}/inventory */
    const char *rest = rq->path + strlen("/api/v1/hosts/");
    const char *slash = strchr(rest, '/');
    char id[FLEET_MAX_ID + 1];
    size_t n = slash ? (size_t)(slash - rest) : 0;
    if (!slash || strcmp(slash, "/inventory") != 0 || n == 0 || n > FLEET_MAX_ID) {
        mm_http_resp_error(resp, 404, "no such endpoint: %s", rq->path);
        return;
    }
    memcpy(id, rest, n);
    id[n] = 0;
    if (!fleet_id_valid(id)) {
        mm_http_resp_error(resp, 400, "host id: 1 to %d of A-Z a-z 0-9 . _ : -", FLEET_MAX_ID);
        return;
    }
    inv_row r = {NULL, 0};
    const char *p[] = {id};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT body, received FROM inventory WHERE host_id = $1", 1, p,
                       inv_row_fn, &r);
    fdb_unlock(f->db);
    if (rc) {
        free(r.body);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    if (!r.body || r.body[0] != '{') {
        free(r.body);
        mm_http_resp_error(resp, 404, "no inventory for host '%s'", id);
        return;
    }
    /* {"host_id":..., "received":N, then the stored members (os, processes,
     * logins, containers) as they are: no parse of a large body per read */
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "{\"host_id\":");
    mm_json_buf_str(&b, id);
    mm_buf_printf(&b, ",\"received\":%lld,", (long long)r.received);
    mm_buf_adds(&b, r.body + 1);
    free(r.body);
    mm_http_resp_text(resp, 200, "application/json", b.data, b.len);
    mm_buf_free(&b);
}
