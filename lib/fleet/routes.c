/*
 * routes.c - the reading routes of `mamori server`: paged lists of events,
 * findings, scans, hosts, the audit log and tokens, with their filters
 * (severity, kind, SP 800-190 section, image, host, time range).  Filters
 * become parameters of one statement built from fixed text; a bad filter
 * value is a 400 naming the parameter.  Pages are keyset-paged on the
 * sequence number: {"items": [...], "next": CURSOR or null}, "total" when
 * asked with total=1.  Also the pieces the other routes share: a request
 * body as JSON (with its host_id), an agent upload's checks, the host's
 * row, and store rows as JSON objects.
 */
#include <stdlib.h>
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "fleet/routes.h"

#define MAX_PARAMS 40
#define DEFAULT_LIMIT 100
#define MAX_LIMIT 1000

typedef struct qb {
    mm_buf where;
    const char *p[MAX_PARAMS];
    char *own[MAX_PARAMS];
    int np, nown;
} qb;

static int qb_param(qb *q, const char *v, bool own)
{
    if (q->np >= MAX_PARAMS - 2)
        return -1;
    char *c = own ? mm_xstrdup(v) : NULL;
    if (c)
        q->own[q->nown++] = c;
    q->p[q->np++] = c ? c : v;
    return q->np;
}

int fleet_json_body(const char *body, size_t len, json_t **out)
{
    json_error_t je;
    *out = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!*out)
        return mm_error_set(MM_EFORMAT, "body: not JSON: %s at offset %d", je.text, je.position);
    return 0;
}

int fleet_host_body(const char *body, size_t len, json_t **doc, const char **host,
                    const char **id)
{
    int rc = fleet_json_body(body, len, doc);
    if (rc < 0)
        return rc;
    json_t *h = json_object_get(*doc, "host_id"), *i = json_object_get(*doc, "id");
    if (!json_is_object(*doc))
        return mm_error_set(MM_EFORMAT, "body: not a JSON object");
    if (!json_is_string(h) || !fleet_id_valid(json_string_value(h)))
        return mm_error_set(MM_EFORMAT, "host_id: required, 1 to %d of A-Z a-z 0-9 . _ : -",
                            FLEET_MAX_ID);
    *host = json_string_value(h);
    if (!id)
        return 0;
    if (i && !json_is_null(i) && (!json_is_string(i) || !fleet_id_valid(json_string_value(i))))
        return mm_error_set(MM_EFORMAT, "id: 1 to %d of A-Z a-z 0-9 . _ : -", FLEET_MAX_ID);
    *id = json_string_value(i);
    return 0;
}

int fleet_host_seen(fdb *db, const char *host, const char *now)
{
    const char *hp[] = {host, now};
    return fdb_exec(db, "INSERT INTO hosts (host_id, first_seen, last_seen)"
                    " VALUES ($1, $2, $2) ON CONFLICT (host_id) DO UPDATE SET"
                    " last_seen = excluded.last_seen", 2, hp, NULL);
}

bool fleet_upload_ok(fleet_ctx *fc, int rc, const char *host, mm_http_resp *resp,
                     const char *what)
{
    if (rc) {
        mm_http_resp_error(resp, rc == MM_ELIMIT ? 413 : 400, "%s", mm_error_last());
        return false;
    }
    if ((fc->caller.role_bit & ROLE_AGENT) && strcmp(host, fc->caller.host_id) != 0) {
        mm_http_resp_error(resp, 403, "this agent token is bound to host '%s', not '%s'",
                           fc->caller.host_id, host);
        snprintf(fc->detail, sizeof fc->detail, "refused: %s of host %s", what, host);
        return false;
    }
    return true;
}

static bool in_list(const char *const *l, const char *s)
{
    for (size_t i = 0; l && l[i]; i++)
        if (!strcmp(s, l[i]))
            return true;
    return false;
}

int fleet_jrow(void *ud, int n, const char *const *v, const char *const *names)
{
    fleet_jrows *r = ud;
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        json_t *x;
        if (!v[i])
            x = json_null();
        else if (in_list(r->jsons, names[i]))
            x = json_loads(v[i], 0, NULL);
        else if (in_list(r->ints, names[i]))
            x = json_integer(strtoll(v[i], NULL, 10));
        else
            x = mm_json_str(v[i]);
        json_object_set_new(o, names[i], x ? x : json_null());
    }
    json_array_append_new(r->items, o);
    return 0;
}

void fleet_resp_items(mm_http_resp *resp, int rc, json_t *items)
{
    if (rc) {
        json_decref(items);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "items", items);
    json_object_set_new(j, "next", json_null());
    mm_http_resp_json(resp, 200, j);
}

static void qb_free(qb *q)
{
    for (int i = 0; i < q->nown; i++)
        free(q->own[i]);
    mm_buf_free(&q->where);
}

/* " AND col = $N" */
static void qb_eq(qb *q, const char *col, const char *v)
{
    int n = qb_param(q, v, false);
    if (n > 0)
        mm_buf_printf(&q->where, " AND %s = $%d", col, n);
}

static void qb_op_num(qb *q, const char *col, const char *op, int64_t v)
{
    char b[24];
    snprintf(b, sizeof b, "%lld", (long long)v);
    int n = qb_param(q, b, true);
    if (n > 0)
        mm_buf_printf(&q->where, " AND %s %s $%d", col, op, n);
}

typedef struct listspec {
    const char *table;
    const char *cols;
    const char *time_col;   /* since/until; NULL = none */
    bool has_severity, has_kind, has_section, has_image, has_host, has_rule;
    bool event_body;        /* the body column is JSON: give it back parsed */
} listspec;

/* Builds the filters; 0, or -1 after writing the 400. */
static int filters(const listspec *ls, const mm_http_req *rq, mm_http_resp *resp, qb *q,
                   int64_t *limit)
{
    const char *v;
    *limit = DEFAULT_LIMIT;
    if ((v = mm_http_req_query(rq, "limit"))) {
        char *end;
        long long l = strtoll(v, &end, 10);
        if (*end || end == v || l < 1 || l > MAX_LIMIT) {
            mm_http_resp_error(resp, 400, "limit: want 1 to %d", MAX_LIMIT);
            return -1;
        }
        *limit = l;
    }
    if ((v = mm_http_req_query(rq, "after"))) {
        char *end;
        long long a = strtoll(v, &end, 10);
        if (*end || end == v || a < 0) {
            mm_http_resp_error(resp, 400, "after: want the \"next\" cursor of a page");
            return -1;
        }
        qb_op_num(q, "seq", ">", a);
    }
    static const char *const tnames[] = {"since", "until"};
    for (int i = 0; ls->time_col && i < 2; i++) {
        if (!(v = mm_http_req_query(rq, tnames[i])))
            continue;
        int64_t t;
        if (fleet_time_parse(v, &t) != 0) {
            mm_http_resp_error(resp, 400, "%s: want RFC 3339 or epoch seconds: %s", tnames[i],
                               mm_error_last());
            return -1;
        }
        qb_op_num(q, ls->time_col, i ? "<=" : ">=", t);
    }
    if (ls->has_severity && (v = mm_http_req_query(rq, "severity"))) {
        /* CRITICAL,HIGH */
        mm_buf in = MM_BUF_INIT;
        char *list = mm_xstrdup(v), *save = NULL;
        int bad = 0, k = 0;
        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            for (char *c = t; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            if (strcmp(t, "CRITICAL") && strcmp(t, "HIGH") && strcmp(t, "MEDIUM") &&
                strcmp(t, "LOW") && strcmp(t, "UNKNOWN")) {
                bad = 1;
                break;
            }
            int n = qb_param(q, t, true);
            if (n < 0) {
                bad = 1;
                break;
            }
            mm_buf_printf(&in, "%s$%d", k++ ? ", " : "", n);
        }
        free(list);
        if (bad || !k) {
            mm_buf_free(&in);
            mm_http_resp_error(resp, 400, "severity: want a comma-separated list of CRITICAL,"
                               " HIGH, MEDIUM, LOW, UNKNOWN");
            return -1;
        }
        mm_buf_printf(&q->where, " AND severity IN (%s)", in.data);
        mm_buf_free(&in);
    }
    if (ls->has_section && (v = mm_http_req_query(rq, "section"))) {
        /* "3.1" matches 3.1 and 3.1.x */
        bool ok = *v && strlen(v) <= 16;
        for (const char *c = v; *c; c++)
            if (!isdigit((unsigned char)*c) && *c != '.')
                ok = false;
        if (!ok) {
            mm_http_resp_error(resp, 400, "section: want an SP 800-190 section such as 3.1 or 3.4.4");
            return -1;
        }
        char *pat = mm_xasprintf("%s.%%", v);
        int a = qb_param(q, v, false), b = qb_param(q, pat, true);
        free(pat);
        mm_buf_printf(&q->where, " AND (section = $%d OR section LIKE $%d)", a, b);
    }
    static const struct { const char *arg, *col; size_t off; } eqs[] = {
        {"kind", "kind", offsetof(listspec, has_kind)},
        {"image", "image", offsetof(listspec, has_image)},
        {"host", "host_id", offsetof(listspec, has_host)},
        {"rule", "rule", offsetof(listspec, has_rule)},
    };
    for (size_t i = 0; i < sizeof eqs / sizeof eqs[0]; i++) {
        if (!*(const bool *)((const char *)ls + eqs[i].off))
            continue;
        if (!(v = mm_http_req_query(rq, eqs[i].arg)))
            continue;
        if (strlen(v) > 4096) {
            mm_http_resp_error(resp, 400, "%s: longer than 4096 bytes", eqs[i].arg);
            return -1;
        }
        qb_eq(q, eqs[i].col, v);
    }
    return 0;
}

typedef struct rows {
    json_t *items;
    const listspec *ls;
    int64_t last_seq;
    int64_t n;
} rows;

static bool numeric_col(const char *c)
{
    static const char *const nums[] = {"seq", "ts", "received", "findings", "status",
                                       "first_seen", "last_seen", "queue_depth", "dropped",
                                       "events", "created", "last_used", "revoked"};
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (strcmp(c, nums[i]) == 0)
            return true;
    return false;
}

static int row_json(void *ud, int n, const char *const *v, const char *const *names)
{
    rows *r = ud;
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "body") == 0 && r->ls->event_body) {
            json_t *b = v[i] ? json_loads(v[i], 0, NULL) : NULL;
            json_object_set_new(o, "event", b ? b : json_null());
        } else if (!v[i])
            json_object_set_new(o, names[i], json_null());
        else if (numeric_col(names[i]))
            json_object_set_new(o, names[i], json_integer(strtoll(v[i], NULL, 10)));
        else
            json_object_set_new(o, names[i], mm_json_str(v[i]));
        if (strcmp(names[i], "seq") == 0 && v[i])
            r->last_seq = strtoll(v[i], NULL, 10);
    }
    json_array_append_new(r->items, o);
    r->n++;
    return 0;
}

/* Pages are written as text: each row's columns through jansson, the
 * stored event (compact JSON that ingest wrote) spliced in as it is,
 * without a parse and a re-serialisation per row. */
typedef struct page {
    mm_buf out;
    const listspec *ls;
    int64_t limit, n, seq_at_limit;
} page;

static int row_text(void *ud, int n, const char *const *v, const char *const *names)
{
    page *pg = ud;
    pg->n++;
    if (pg->n > pg->limit)
        return 0;   /* the one past the page: only says there is more */
    json_t *o = json_object();
    const char *body = NULL;
    for (int i = 0; i < n; i++) {
        if (strcmp(names[i], "body") == 0 && pg->ls->event_body)
            body = v[i];
        else if (!v[i])
            json_object_set_new(o, names[i], json_null());
        else if (numeric_col(names[i]))
            json_object_set_new(o, names[i], json_integer(strtoll(v[i], NULL, 10)));
        else
            json_object_set_new(o, names[i], mm_json_str(v[i]));
        if (strcmp(names[i], "seq") == 0 && v[i])
            pg->seq_at_limit = strtoll(v[i], NULL, 10);
    }
    char *t = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    json_decref(o);
    if (!t)
        return mm_error_set(MM_EDB, "a row could not be serialised");
    size_t tl = strlen(t);
    if (pg->n > 1)
        mm_buf_addc(&pg->out, ',');
    if (pg->ls->event_body) {
        mm_buf_add(&pg->out, t, tl - 1);   /* without the closing brace */
        mm_buf_printf(&pg->out, "%s\"event\":%s}", tl > 2 ? "," : "",
                      body && (body[0] == '{') ? body : "null");
    } else
        mm_buf_add(&pg->out, t, tl);
    free(t);
    return 0;
}

static void list(mm_fleet *f, const listspec *ls, const mm_http_req *rq, mm_http_resp *resp,
                 qb *pre)
{
    qb q = {MM_BUF_INIT};
    int64_t limit;
    if (pre) {
        q = *pre;
    }
    if (filters(ls, rq, resp, &q, &limit) != 0) {
        qb_free(&q);
        return;
    }
    const char *where = q.where.data ? q.where.data : "";
    char lim[24];
    snprintf(lim, sizeof lim, "%lld", (long long)limit + 1);
    int nl = qb_param(&q, lim, false);
    char *sql = mm_xasprintf("SELECT %s FROM %s WHERE 1 = 1%s ORDER BY seq LIMIT $%d",
                             ls->cols, ls->table, where, nl);
    page pg = {MM_BUF_INIT, ls, limit, 0, 0};
    mm_buf_adds(&pg.out, "{\"items\":[");
    int64_t total = -1;
    const char *tq = mm_http_req_query(rq, "total");
    fdb_lock(f->db);
    int rc = fdb_query(f->db, sql, q.np, q.p, row_text, &pg);
    if (rc == 0 && tq && strcmp(tq, "1") == 0) {
        char *csql = mm_xasprintf("SELECT COUNT(*) FROM %s WHERE 1 = 1%s", ls->table, where);
        rc = fdb_query_int(f->db, csql, q.np - 1, q.p, 0, &total);
        free(csql);
    }
    fdb_unlock(f->db);
    free(sql);
    qb_free(&q);
    if (rc) {
        mm_buf_free(&pg.out);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    if (pg.n > limit)
        mm_buf_printf(&pg.out, "],\"next\":\"%lld\"", (long long)pg.seq_at_limit);
    else
        mm_buf_adds(&pg.out, "],\"next\":null");
    if (total >= 0)
        mm_buf_printf(&pg.out, ",\"total\":%lld", (long long)total);
    mm_buf_addc(&pg.out, '}');
    mm_http_resp_text(resp, 200, NULL, pg.out.data, pg.out.len);
    mm_buf_free(&pg.out);
}

void route_events_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    static const listspec ls = {"events", "seq, host_id, event_id, ts, received, kind, severity,"
                                " section, rule, image, container, title, body", "ts",
                                true, true, true, true, true, true, true};
    list(f, &ls, rq, resp, NULL);
}

void route_findings_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    static const listspec ls = {"findings", "seq, finding_id, kind, severity, section, title,"
                                " package, path, image, host_id, ts,"
                                " (SELECT scan_id FROM scans WHERE scans.seq = scan_seq) AS scan_id",
                                "ts", true, true, true, true, true, false, false};
    qb q = {MM_BUF_INIT};
    const char *scan = mm_http_req_query(rq, "scan");
    if (scan) {
        int n = qb_param(&q, scan, false);
        mm_buf_printf(&q.where, " AND scan_seq = (SELECT seq FROM scans WHERE scan_id = $%d)", n);
    }
    list(f, &ls, rq, resp, &q);
}

void route_scans_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    static const listspec ls = {"scans", "seq, scan_id, kind, target, image, host_id, token_id,"
                                " received, findings", "received",
                                false, true, false, true, true, false, false};
    list(f, &ls, rq, resp, NULL);
}

void route_audit_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    static const listspec ls = {"audit", "seq, ts, token_id, token_name, role, peer, method,"
                                " path, status, detail", "ts",
                                false, false, false, false, false, false, false};
    list(f, &ls, rq, resp, NULL);
}

void route_hosts_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    rows r = {json_array(), NULL, 0, 0};
    static const listspec ls = {0};
    r.ls = &ls;
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT host_id, first_seen, last_seen, version, queue_depth,"
                       " dropped, events FROM hosts ORDER BY host_id LIMIT 10000",
                       0, NULL, row_json, &r);
    fdb_unlock(f->db);
    if (rc) {
        json_decref(r.items);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    int64_t now = fleet_now();
    size_t i;
    json_t *h;
    json_array_foreach(r.items, i, h) {
        json_object_set_new(h, "last_seen_age_seconds",
                            json_integer(now - json_integer_value(json_object_get(h, "last_seen"))));
    }
    fleet_resp_items(resp, 0, r.items);
}

typedef struct scan_one {
    char *report;
} scan_one;

static int scan_row(void *ud, int n, const char *const *v, const char *const *names)
{
    scan_one *s = ud;
    if (!s->report && v[0])
        s->report = mm_xstrdup(v[0]);
    return 0;
}

void route_scan_get(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *id = rq->path + strlen("/api/v1/scans/");
    if (!fleet_id_valid(id)) {
        mm_http_resp_error(resp, 400, "scan id: not valid");
        return;
    }
    scan_one s = {NULL};
    const char *p[] = {id};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT report FROM scans WHERE scan_id = $1", 1, p, scan_row, &s);
    fdb_unlock(f->db);
    if (rc) {
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    if (!s.report) {
        mm_http_resp_error(resp, 404, "no scan '%s'", id);
        return;
    }
    mm_http_resp_text(resp, 200, NULL, s.report, strlen(s.report));
    free(s.report);
}

static void token_cb(void *ud, const mm_fleet_token_info *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", mm_json_str(t->id));
    json_object_set_new(o, "name", mm_json_str(t->name));
    json_object_set_new(o, "role", mm_json_str(t->role));
    json_object_set_new(o, "host_id", mm_json_str(t->host_id));
    json_object_set_new(o, "created", json_integer(t->created));
    json_object_set_new(o, "last_used", json_integer(t->last_used));
    json_object_set_new(o, "revoked", json_integer(t->revoked));
    json_array_append_new(ud, o);
}

void route_tokens_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_t *a = json_array();
    fleet_resp_items(resp, mm_fleet_token_list(f, token_cb, a), a);
}

void route_whoami(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(fc->caller.id));
    json_object_set_new(j, "name", mm_json_str(fc->caller.name));
    json_object_set_new(j, "role", json_string(fc->caller.role));
    json_object_set_new(j, "host_id", fc->caller.host_id[0] ? json_string(fc->caller.host_id)
                                                            : json_null());
    mm_http_resp_json(resp, 200, j);
}
