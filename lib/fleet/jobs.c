/*
 * jobs.c - the scan job queue of `mamori server` and `mamori worker`
 * (issue 19, scale-out): enqueue (once per live reference), claim with a
 * lease (PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent workers never
 * block on or take the same row; SQLite: one statement under its single
 * writer), reclaim of jobs whose lease ran out, and completion fenced by
 * the claim: the result is stored as a scan (the same rows as POST
 * /api/v1/scans) in the transaction that checks that the lease is still
 * this claim's, so a worker that lost its lease stores nothing.  Also the
 * API routes POST and GET /api/v1/jobs.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fleet/client.h"
#include "fleet/routes.h"

#define MAX_REF 512
#define MAX_ENQUEUE 10000     /* references per API call */
#define MAX_LIST 1000

static bool ref_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MAX_REF || !strchr(s, '/'))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(isalnum(c) || strchr("._-:/@[]", c)))
            return false;
    }
    return true;
}

static void i64(char *b, size_t n, int64_t v)
{
    snprintf(b, n, "%lld", (long long)v);
}

int mm_fleet_job_enqueue(mm_fleet *f, const char *ref, const char *tag, const char *by,
                         bool *added)
{
    if (added)
        *added = false;
    if (!ref_valid(ref))
        return mm_error_set(MM_EINVAL, "image reference '%.80s': want HOST/REPO[:TAG|@DIGEST],"
                            " at most %d of A-Z a-z 0-9 . _ - : / @", ref ? ref : "", MAX_REF);
    char now[24];
    i64(now, sizeof now, fleet_now());
    char *t = tag ? mm_xstrndup(tag, MAX_REF) : NULL;
    const char *p[] = {ref, t, now, by};
    int64_t ch = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "INSERT INTO scan_jobs (ref, tag, enqueued, enqueued_by)"
                      " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING", 4, p, &ch);
    fdb_unlock(f->db);
    free(t);
    if (rc == 0 && added)
        *added = ch > 0;
    return rc;
}

void mm_fleet_job_free(mm_fleet_job *j)
{
    if (!j)
        return;
    free(j->ref);
    free(j->tag);
    free(j->worker);
    free(j);
}

static int claim_row(void *ud, int n, const char *const *v, const char *const *names)
{
    mm_fleet_job **out = ud;
    if (n < 4 || *out || !v[0] || !v[1])
        return 0;
    mm_fleet_job *j = mm_xcalloc(1, sizeof *j);
    j->id = strtoll(v[0], NULL, 10);
    j->ref = mm_xstrdup(v[1]);
    j->tag = mm_xstrdup(v[2]);
    j->attempt = (int)strtol(v[3] ? v[3] : "0", NULL, 10);
    *out = j;
    return 0;
}

int mm_fleet_job_claim(mm_fleet *f, const char *worker, int lease_s, int max_attempts,
                       mm_fleet_job **out)
{
    *out = NULL;
    if (!worker || !*worker || strlen(worker) > 200)
        return mm_error_set(MM_EINVAL, "worker id: 1 to 200 characters");
    if (lease_s <= 0)
        lease_s = 600;
    if (max_attempts <= 0)
        max_attempts = 3;
    bool pg = strcmp(fdb_kind(f->db), "postgres") == 0;
    int64_t t = fleet_now();
    char now[24], until[24], max[24];
    i64(now, sizeof now, t);
    i64(until, sizeof until, t + lease_s);
    i64(max, sizeof max, max_attempts);
    fdb_lock(f->db);
    /* a job whose workers kept dying is given up, not claimed forever */
    const char *g[] = {now, max};
    int rc = fdb_exec(f->db, "UPDATE scan_jobs SET state = 'failed', finished = $1,"
                      " error = 'lease expired on every attempt (the worker died or hung)'"
                      " WHERE state = 'running' AND lease_until < $1 AND attempts >= $2",
                      2, g, NULL);
    const char *p[] = {worker, until, now, max};
    if (rc == 0)
        rc = fdb_query(f->db, pg
            ? "UPDATE scan_jobs SET state = 'running', worker = $1, lease_until = $2,"
              " started = $3, attempts = attempts + 1"
              " WHERE id = (SELECT id FROM scan_jobs WHERE (state = 'queued'"
              " OR (state = 'running' AND lease_until < $3)) AND attempts < $4"
              " ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)"
              " RETURNING id, ref, tag, attempts"
            : "UPDATE scan_jobs SET state = 'running', worker = $1, lease_until = $2,"
              " started = $3, attempts = attempts + 1"
              " WHERE id = (SELECT id FROM scan_jobs WHERE (state = 'queued'"
              " OR (state = 'running' AND lease_until < $3)) AND attempts < $4"
              " ORDER BY id LIMIT 1)"
              " RETURNING id, ref, tag, attempts",
            4, p, claim_row, out);
    fdb_unlock(f->db);
    if (rc) {
        mm_fleet_job_free(*out);
        *out = NULL;
        return rc;
    }
    if (*out)
        (*out)->worker = mm_xstrdup(worker);
    return 0;
}

/* the claim still holds: same worker, same attempt, still running */
#define FENCE " WHERE id = $2 AND worker = $3 AND attempts = $4 AND state = 'running'"

int mm_fleet_job_done(mm_fleet *f, const mm_fleet_job *j, mm_result *r, char **scan_id)
{
    if (scan_id)
        *scan_id = NULL;
    char *json = NULL;
    int rc = fleet_report_json(r, &json);
    if (rc)
        return rc;
    fleet_scan_facts sf;
    rc = fleet_scan_parse(json, strlen(json), &sf);
    if (rc) {
        free(json);
        return mm_error_wrap(rc, "job %lld: the report: ", (long long)j->id);
    }
    char now[24], id[24], att[24], sid[33];
    i64(now, sizeof now, fleet_now());
    i64(id, sizeof id, j->id);
    i64(att, sizeof att, j->attempt);
    const char *p[] = {now, id, j->worker, att};
    int64_t ch = 0;
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    if (rc == 0)
        rc = fdb_exec(f->db, "UPDATE scan_jobs SET state = 'done', finished = $1, error = NULL"
                      FENCE, 4, p, &ch);
    if (rc == 0 && ch != 1)
        rc = mm_error_set(MM_ENOTFOUND, "job %lld: the lease of attempt %d is no longer"
                          " %s's (it ran out and another worker took the job)",
                          (long long)j->id, j->attempt, j->worker);
    if (rc == 0)
        rc = fleet_scan_insert(f, &sf, json, strlen(json), NULL, NULL, sid);
    const char *q[] = {sid, id};
    if (rc == 0)
        rc = fdb_exec(f->db, "UPDATE scan_jobs SET scan_id = $1 WHERE id = $2", 2, q, NULL);
    rc = fdb_end(f->db, rc);
    fdb_unlock(f->db);
    if (rc == 0) {
        pthread_mutex_lock(&f->mu);
        f->m.scans_ingested++;
        f->m.findings_ingested += json_array_size(sf.findings);
        pthread_mutex_unlock(&f->mu);
        if (scan_id)
            *scan_id = mm_xstrdup(sid);
    }
    fleet_scan_facts_free(&sf);
    free(json);
    return rc;
}

int mm_fleet_job_fail(mm_fleet *f, const mm_fleet_job *j, const char *error, int max_attempts)
{
    if (max_attempts <= 0)
        max_attempts = 3;
    char now[24], id[24], att[24];
    i64(now, sizeof now, fleet_now());
    i64(id, sizeof id, j->id);
    i64(att, sizeof att, j->attempt);
    char *err = mm_xstrndup(error ? error : "failed", 1024);
    const char *p[] = {now, id, j->worker, att, err};
    int64_t ch = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, j->attempt >= max_attempts
        ? "UPDATE scan_jobs SET state = 'failed', finished = $1, error = $5" FENCE
        : "UPDATE scan_jobs SET state = 'queued', lease_until = $1, error = $5" FENCE,
        5, p, &ch);
    fdb_unlock(f->db);
    free(err);
    if (rc == 0 && ch != 1)
        rc = mm_error_set(MM_ENOTFOUND, "job %lld: the lease of attempt %d is no longer %s's",
                          (long long)j->id, j->attempt, j->worker);
    return rc;
}

static int count_row(void *ud, int n, const char *const *v, const char *const *names)
{
    mm_fleet_job_counts *c = ud;
    if (n < 2 || !v[0])
        return 0;
    int64_t k = strtoll(v[1] ? v[1] : "0", NULL, 10);
    if (!strcmp(v[0], "queued"))
        c->queued = k;
    else if (!strcmp(v[0], "running"))
        c->running = k;
    else if (!strcmp(v[0], "done"))
        c->done = k;
    else if (!strcmp(v[0], "failed"))
        c->failed = k;
    return 0;
}

int mm_fleet_job_counts_get(mm_fleet *f, mm_fleet_job_counts *c)
{
    memset(c, 0, sizeof *c);
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT state, COUNT(*) FROM scan_jobs GROUP BY state",
                       0, NULL, count_row, c);
    fdb_unlock(f->db);
    return rc;
}

/* --- the API ---------------------------------------------------------------------- */

/* POST /api/v1/jobs {"images": ["host/repo@sha256:...", ...]} */
void route_jobs_enqueue(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_error_t je;
    json_t *doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    json_t *imgs = json_object_get(doc, "images");
    if (!json_is_object(doc) || !json_is_array(imgs) || json_array_size(imgs) == 0) {
        json_decref(doc);
        mm_http_resp_error(resp, 400, "body: want {\"images\": [\"HOST/REPO@DIGEST\", ...]}");
        return;
    }
    if (json_array_size(imgs) > MAX_ENQUEUE) {
        json_decref(doc);
        mm_http_resp_error(resp, 413, "images: more than %d", MAX_ENQUEUE);
        return;
    }
    size_t i;
    json_t *v;
    json_array_foreach(imgs, i, v) {
        if (!ref_valid(json_string_value(v))) {
            mm_http_resp_error(resp, 400, "images[%zu]: want HOST/REPO[:TAG|@DIGEST], at most"
                               " %d of A-Z a-z 0-9 . _ - : / @", i, MAX_REF);
            json_decref(doc);
            return;
        }
    }
    size_t added = 0;
    json_array_foreach(imgs, i, v) {
        bool a = false;
        if (mm_fleet_job_enqueue(f, json_string_value(v), NULL, fc->caller.id, &a) != 0) {
            mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
            snprintf(fc->detail, sizeof fc->detail, "jobs: %zu enqueued, then a store error",
                     added);
            json_decref(doc);
            return;
        }
        added += a;
    }
    snprintf(fc->detail, sizeof fc->detail, "jobs: %zu of %zu images enqueued", added,
             json_array_size(imgs));
    json_t *j = json_object();
    json_object_set_new(j, "enqueued", json_integer((json_int_t)added));
    json_object_set_new(j, "alreadyQueued",
                        json_integer((json_int_t)(json_array_size(imgs) - added)));
    mm_http_resp_json(resp, 202, j);
    json_decref(doc);
}

static int list_row(void *ud, int n, const char *const *v, const char *const *names)
{
    json_t *a = ud;
    json_t *o = json_object();
    for (int i = 0; i < n; i++) {
        bool num = !strcmp(names[i], "id") || !strcmp(names[i], "attempts") ||
                   !strcmp(names[i], "enqueued") || !strcmp(names[i], "started") ||
                   !strcmp(names[i], "finished");
        json_object_set_new(o, names[i], !v[i] ? json_null()
                            : num ? json_integer(strtoll(v[i], NULL, 10))
                                  : json_string(v[i]));
    }
    json_array_append_new(a, o);
    return 0;
}

/* GET /api/v1/jobs[?state=queued|running|done|failed][&limit=N] */
void route_jobs_list(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *state = mm_http_req_query(rq, "state");
    const char *lim = mm_http_req_query(rq, "limit");
    if (state && strcmp(state, "queued") && strcmp(state, "running") && strcmp(state, "done") &&
        strcmp(state, "failed")) {
        mm_http_resp_error(resp, 400, "state: want queued, running, done or failed");
        return;
    }
    long limit = 100;
    if (lim) {
        char *end;
        limit = strtol(lim, &end, 10);
        if (*end || limit < 1 || limit > MAX_LIST) {
            mm_http_resp_error(resp, 400, "limit: 1 to %d", MAX_LIST);
            return;
        }
    }
    mm_fleet_job_counts c;
    int rc = mm_fleet_job_counts_get(f, &c);
    char ls[24];
    snprintf(ls, sizeof ls, "%ld", limit);
    json_t *a = json_array();
    const char *p[] = {state ? state : "", ls};
    if (rc == 0) {
        fdb_lock(f->db);
        rc = fdb_query(f->db, "SELECT id, ref, tag, state, attempts, worker, enqueued, started,"
                       " finished, scan_id, error FROM scan_jobs WHERE ($1 = '' OR state = $1)"
                       " ORDER BY id DESC LIMIT $2", 2, p, list_row, a);
        fdb_unlock(f->db);
    }
    if (rc) {
        json_decref(a);
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    json_t *j = json_object();
    json_t *co = json_object();
    json_object_set_new(co, "queued", json_integer(c.queued));
    json_object_set_new(co, "running", json_integer(c.running));
    json_object_set_new(co, "done", json_integer(c.done));
    json_object_set_new(co, "failed", json_integer(c.failed));
    json_object_set_new(j, "counts", co);
    json_object_set_new(j, "jobs", a);
    mm_http_resp_json(resp, 200, j);
}
