/*
 * ingest.c - the writing routes of `mamori server`: event batches from
 * agents (validated whole, then stored in one transaction, each event
 * once: a resent id is counted as a duplicate and ignored), heartbeats,
 * scan results (a mamori JSON report and its findings), and tokens made
 * or revoked through the API.  Every field of untrusted input is checked
 * for type and size, and an error names it ("events[3].id: ...").  Values
 * reach the store only as statement parameters.
 */
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "fleet/routes.h"

#define MAX_FIELD 4096
#define ANALYZE_EVERY 50000   /* events between ANALYZE runs (PostgreSQL) */
#define CHUNK 100   /* events per INSERT statement: 1,200 parameters */

bool fleet_id_valid(const char *s)
{
    if (!s || !*s)
        return false;
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= FLEET_MAX_ID || !(isalnum(c) || c == '.' || c == '_' || c == ':' || c == '-'))
            return false;
    }
    return true;
}

int fleet_time_parse(const char *s, int64_t *out)
{
    if (!s || !*s)
        return mm_error_set(MM_EFORMAT, "empty time");
    bool digits = true;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            digits = false;
    if (digits) {
        if (strlen(s) > 12)
            return mm_error_set(MM_EFORMAT, "time '%.32s': out of range", s);
        *out = strtoll(s, NULL, 10);
        return 0;
    }
    if (strlen(s) > 64)
        return mm_error_set(MM_EFORMAT, "time: longer than 64 characters");
    return mm_time_parse_rfc3339(s, out);
}

static const char *severity_norm(const char *s)
{
    static const char *const sev[] = {"CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"};
    for (int i = 0; s && i < 5; i++)
        if (strcasecmp(s, sev[i]) == 0)
            return sev[i];
    return NULL;
}

/* Falco priorities onto the finding severities */
static const char *priority_sev(const char *p)
{
    static const struct { const char *p, *s; } map[] = {
        {"emergency", "CRITICAL"}, {"alert", "CRITICAL"}, {"critical", "CRITICAL"},
        {"error", "HIGH"}, {"warning", "MEDIUM"}, {"notice", "LOW"},
        {"informational", "LOW"}, {"info", "LOW"}, {"debug", "UNKNOWN"},
    };
    for (size_t i = 0; p && i < sizeof map / sizeof map[0]; i++)
        if (strcasecmp(p, map[i].p) == 0)
            return map[i].s;
    return NULL;
}

/* an optional string member: absent/null is fine, else a string <= max */
static int opt_str(json_t *o, const char *key, const char *where, const char **out)
{
    *out = NULL;
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return mm_error_set(MM_EFORMAT, "%s.%s: not a string", where, key);
    if (json_string_length(v) > MAX_FIELD)
        return mm_error_set(MM_ELIMIT, "%s.%s: longer than %d bytes", where, key, MAX_FIELD);
    if (memchr(json_string_value(v), 0, json_string_length(v)))
        return mm_error_set(MM_EFORMAT, "%s.%s: holds a NUL character", where, key);
    *out = json_string_value(v);
    return 0;
}

static int event_norm(json_t *ev, const char *where, fleet_event *out)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(ev))
        return mm_error_set(MM_EFORMAT, "%s: not an object", where);
    const char *id, *sev, *prio, *rule, *title, *kind, *section, *image, *ctr, *host;
    int rc;
    if ((rc = opt_str(ev, "id", where, &id)) || (rc = opt_str(ev, "severity", where, &sev)) ||
        (rc = opt_str(ev, "priority", where, &prio)) || (rc = opt_str(ev, "rule", where, &rule)) ||
        (rc = opt_str(ev, "output", where, &title)) || (rc = opt_str(ev, "kind", where, &kind)) ||
        (rc = opt_str(ev, "section", where, &section)) ||
        (rc = opt_str(ev, "image", where, &image)) ||
        (rc = opt_str(ev, "container", where, &ctr)) ||
        (rc = opt_str(ev, "host_id", where, &host)))
        return rc;
    if (!id || !fleet_id_valid(id))
        return mm_error_set(MM_EFORMAT, "%s.id: required, 1 to %d of A-Z a-z 0-9 . _ : -",
                            where, FLEET_MAX_ID);
    if (host && !fleet_id_valid(host))
        return mm_error_set(MM_EFORMAT, "%s.host_id: not a valid host id", where);
    if (!title && (rc = opt_str(ev, "title", where, &title)))
        return rc;
    int64_t ts = fleet_now();
    json_t *tv = json_object_get(ev, "time");
    if (json_is_integer(tv)) {
        ts = json_integer_value(tv);
        if (ts < 0 || ts > 100000000000LL)
            return mm_error_set(MM_EFORMAT, "%s.time: out of range", where);
    } else if (json_is_string(tv)) {
        if (fleet_time_parse(json_string_value(tv), &ts) != 0)
            return mm_error_wrap(MM_EFORMAT, "%s.time: ", where);
    } else if (tv && !json_is_null(tv))
        return mm_error_set(MM_EFORMAT, "%s.time: want RFC 3339 text or epoch seconds", where);
    const char *s = NULL;
    if (sev && !(s = severity_norm(sev)))
        return mm_error_set(MM_EFORMAT, "%s.severity: want CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN",
                            where);
    if (!s && prio && !(s = priority_sev(prio)))
        return mm_error_set(MM_EFORMAT, "%s.priority: not a Falco priority", where);
    /* Falco's fields, when the plain members are absent */
    json_t *of = json_object_get(ev, "output_fields");
    if (of && !json_is_object(of))
        return mm_error_set(MM_EFORMAT, "%s.output_fields: not an object", where);
    if (!image && of) {
        const char *repo = json_string_value(json_object_get(of, "container.image.repository"));
        const char *tag = json_string_value(json_object_get(of, "container.image.tag"));
        if (repo && *repo && strlen(repo) < MAX_FIELD && (!tag || strlen(tag) < 256) &&
            !memchr(repo, 0, json_string_length(json_object_get(of, "container.image.repository"))))
            out->img_owned = tag && *tag && !memchr(tag, 0, json_string_length(
                                 json_object_get(of, "container.image.tag")))
                ? mm_xasprintf("%s:%s", repo, tag) : mm_xstrdup(repo);
    }
    if (!ctr && of) {
        json_t *cv = json_object_get(of, "container.id");
        const char *c = json_string_value(cv);
        if (c && strlen(c) < 256 && strlen(c) == json_string_length(cv))
            ctr = c;
    }
    if (!section) {
        section = "3.4.4";   /* app vulnerabilities: runtime detection (SP 800-190 4.4.4) */
        if (kind && strcmp(kind, "network") == 0)
            section = "3.4.2";
    }
    out->event_id = id;
    out->ts = ts;
    out->kind = kind ? kind : "runtime";
    out->severity = s ? s : "UNKNOWN";
    out->section = section;
    out->rule = rule;
    out->title = title;
    out->image = out->img_owned ? out->img_owned : image;
    out->container = ctr;
    out->host_id = host;
    return 0;
}

/* --- the events' own text ---------------------------------------------------
 * Each event is stored as the client sent it (a slice of the body, which
 * jansson has validated: UTF-8, no NUL, no duplicate keys) instead of being
 * serialised again: that cost as much as parsing it.  The slices are found
 * by a small scanner over the validated text; anything it does not expect
 * (an escaped key) makes the caller fall back to serialising. */

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\')
            p++;
        else if (*p == '"')
            return p + 1;
    }
    return NULL;
}

static const char *skip_value(const char *p, const char *e)
{
    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (p && p < e) {
            if (*p == '"') {
                p = skip_string(p, e);
                continue;
            }
            if (*p == '{' || *p == '[')
                depth++;
            else if ((*p == '}' || *p == ']') && --depth == 0)
                return p + 1;
            p++;
        }
        return NULL;
    }
    while (p < e && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\t' &&
           *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* The [start, end) offsets of the elements of the top-level "events"
 * array: their count, or -1 when the text is not as expected. */
static long event_slices(const char *body, size_t len, size_t (*sl)[2], size_t max)
{
    const char *p = body, *e = body + len;
    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return -1;
    p++;
    for (;;) {
        p = skip_ws(p, e);
        if (p >= e || *p != '"')
            return -1;
        const char *k = p + 1, *q = skip_string(p, e);
        if (!q || memchr(k, '\\', (size_t)(q - 1 - k)))
            return -1;
        bool events = (size_t)(q - 1 - k) == 6 && !memcmp(k, "events", 6);
        p = skip_ws(q, e);
        if (p >= e || *p != ':')
            return -1;
        p = skip_ws(p + 1, e);
        if (events) {
            if (p >= e || *p != '[')
                return -1;
            size_t n = 0;
            p = skip_ws(p + 1, e);
            if (p < e && *p == ']')
                return 0;
            for (;;) {
                const char *v = p;
                if (!(p = skip_value(p, e)) || n >= max)
                    return -1;
                sl[n][0] = (size_t)(v - body);
                sl[n][1] = (size_t)(p - body);
                n++;
                p = skip_ws(p, e);
                if (p < e && *p == ']')
                    return (long)n;
                if (p >= e || *p != ',')
                    return -1;
                p = skip_ws(p + 1, e);
            }
        }
        if (!(p = skip_value(p, e)))
            return -1;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p++;
            continue;
        }
        return -1;   /* the end of the object without "events" */
    }
}

void fleet_batch_free(fleet_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->ev[i].img_owned);
        free(b->ev[i].body_owned);
    }
    free(b->ev);
    free(b->text);
    free(b->host_id);
    json_decref(b->doc);
    memset(b, 0, sizeof *b);
}

int fleet_batch_parse(const char *body, size_t len, unsigned max_batch, fleet_batch *out)
{
    memset(out, 0, sizeof *out);
    json_t *doc;
    int rc = fleet_json_body(body, len, &doc);
    if (rc < 0)
        return rc;
    out->doc = doc;
    const char *host;
    json_t *arr = json_object_get(doc, "events");
    if (!json_is_object(doc))
        rc = mm_error_set(MM_EFORMAT, "body: not a JSON object");
    else if ((rc = opt_str(doc, "host_id", "body", &host)) != 0)
        ;
    else if (!host || !fleet_id_valid(host))
        rc = mm_error_set(MM_EFORMAT, "host_id: required, 1 to %d of A-Z a-z 0-9 . _ : -",
                          FLEET_MAX_ID);
    else if (!json_is_array(arr))
        rc = mm_error_set(MM_EFORMAT, "events: required, an array");
    else if (json_array_size(arr) > max_batch)
        rc = mm_error_set(MM_ELIMIT, "events: %zu events exceed the batch cap of %u",
                          json_array_size(arr), max_batch);
    if (rc) {
        fleet_batch_free(out);
        return rc;
    }
    size_t total = json_array_size(arr);
    out->ev = mm_xcalloc(total ? total : 1, sizeof *out->ev);
    /* the events' text: slices of a copy of the body, ended in place */
    size_t (*sl)[2] = mm_xcalloc(total ? total : 1, sizeof *sl);
    long ns = event_slices(body, len, sl, total);
    if (ns == (long)total) {
        out->text = mm_xmalloc(len + 1);
        memcpy(out->text, body, len);
        out->text[len] = 0;
    }
    mm_map *seen = mm_map_new();
    for (size_t i = 0; i < total; i++) {
        char where[40];
        snprintf(where, sizeof where, "events[%zu]", i);
        fleet_event *n = &out->ev[out->n];
        json_t *ev = json_array_get(arr, i);
        if ((rc = event_norm(ev, where, n)) != 0) {
            free(n->img_owned);
            break;
        }
        if (n->host_id && strcmp(n->host_id, host) != 0) {
            rc = mm_error_set(MM_EAUTH, "%s.host_id: '%s' is not the batch's host '%s'",
                              where, n->host_id, host);
            free(n->img_owned);
            break;
        }
        /* an id twice in one batch is one event */
        if (mm_map_get(seen, n->event_id)) {
            free(n->img_owned);
            continue;
        }
        mm_map_put(seen, n->event_id, (void *)1);
        if (out->text) {
            out->text[sl[i][1]] = 0;   /* a separator or the closing bracket */
            n->body = out->text + sl[i][0];
        } else {
            n->body = n->body_owned = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
            if (!n->body) {
                free(n->img_owned);
                rc = mm_error_set(MM_EFORMAT, "%s: cannot be serialised", where);
                break;
            }
        }
        out->n++;
    }
    mm_map_free(seen, NULL);
    free(sl);
    if (rc) {
        fleet_batch_free(out);
        return rc;
    }
    out->host_id = mm_xstrdup(host);
    return 0;
}

static int store_status(int rc)
{
    switch (rc) {
    case MM_EFORMAT: return 400;
    case MM_ELIMIT: return 413;
    case MM_EAUTH: return 403;
    case MM_ENOTFOUND: return 404;
    case MM_EINVAL: return 400;
    default: return 503;
    }
}

static void num_str(char *buf, size_t n, int64_t v)
{
    snprintf(buf, n, "%lld", (long long)v);
}

/* "INSERT ... VALUES ($1, ... $12), (...) ... ON CONFLICT DO NOTHING" for n
 * rows, written once per size (printf of 1,200 placeholders per chunk was a
 * tenth of the ingest's CPU) */
static const char *insert_sql(size_t n)
{
    static char *cache[CHUNK + 1];
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    if (!cache[n]) {
        mm_buf sql = MM_BUF_INIT;
        mm_buf_adds(&sql, "INSERT INTO events (host_id, event_id, ts, received, kind, severity,"
                          " section, rule, image, container, title, body) VALUES ");
        for (size_t k = 0; k < n; k++) {
            mm_buf_adds(&sql, k ? ", (" : "(");
            for (int c = 0; c < 12; c++)
                mm_buf_printf(&sql, c ? ", $%zu" : "$%zu", 12 * k + (size_t)c + 1);
            mm_buf_addc(&sql, ')');
        }
        mm_buf_adds(&sql, " ON CONFLICT (host_id, event_id) DO NOTHING");
        cache[n] = mm_buf_detach(&sql);
    }
    const char *r = cache[n];
    pthread_mutex_unlock(&mu);
    return r;
}

/* --- group commit -------------------------------------------------------------
 * Batches that arrive while another is being stored wait in a queue; the
 * first waiting request becomes the leader, stores every queued batch in
 * one transaction (each with its own rows, host line and audit line) and
 * commits once, then wakes the others with their results.  A commit is a
 * disk flush on PostgreSQL, and ingest from several agents was bound by
 * those flushes, not by CPU.  A batch is answered 200 only after the
 * commit that holds it; when that transaction fails, every batch in it is
 * answered 503 and resent by its agent (ids make that harmless).  The
 * store's lock still serialises the writers, so rows get their seq in
 * commit order and keyset pages never skip a late commit. */

#define GROUP_MAX_BATCHES 32

typedef struct gjob {
    fleet_batch *b;
    fleet_ctx *fc;
    const mm_http_req *rq;
    fleet_pg_rows pr;
    int64_t accepted, dup;
    int rc;
    char err[256];
    bool done;
    struct gjob *next;
} gjob;

struct fleet_group {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    gjob *head, *tail;
    bool leader;
};

void fleet_group_free(struct fleet_group *g)
{
    if (!g)
        return;
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->cv);
    free(g);
}

static struct fleet_group *group_of(mm_fleet *f)
{
    pthread_mutex_lock(&f->mu);
    if (!f->group) {
        f->group = mm_xcalloc(1, sizeof *f->group);
        pthread_mutex_init(&f->group->mu, NULL);
        pthread_cond_init(&f->group->cv, NULL);
    }
    struct fleet_group *g = f->group;
    pthread_mutex_unlock(&f->mu);
    return g;
}

/* One batch's rows, host line and audit line, inside the open transaction. */
static int store_job(mm_fleet *f, gjob *j, const char *now, bool pg)
{
    const fleet_batch *b = j->b;
    const char *host = b->host_id;
    size_t total = b->n;
    int rc = 0;
    if (pg && total) {
        /* PostgreSQL: the whole batch in one statement (ingest_pg.c) */
        const char *pp[12] = {host, now};
        memcpy(pp + 2, j->pr.arr, sizeof j->pr.arr);
        int64_t ch = 0;
        rc = fdb_exec(f->db, fleet_pg_insert_sql, 12, pp, &ch);
        j->accepted = ch;
    }
    /* SQLite: multi-row statements of CHUNK events, prepared once per size */
    const char *p[CHUNK * 12];
    char tss[CHUNK][24];
    for (size_t at = 0; !pg && rc == 0 && at < total; at += CHUNK) {
        size_t n = total - at < CHUNK ? total - at : CHUNK;
        for (size_t k = 0; k < n; k++) {
            const fleet_event *e = &b->ev[at + k];
            num_str(tss[k], sizeof tss[k], e->ts);
            const char *row[] = {host, e->event_id, tss[k], now, e->kind, e->severity,
                                 e->section, e->rule, e->image, e->container, e->title,
                                 e->body};
            memcpy(p + 12 * k, row, sizeof row);
        }
        int64_t ch = 0;
        rc = fdb_exec(f->db, insert_sql(n), (int)(12 * n), p, &ch);
        j->accepted += ch;
    }
    j->dup = (int64_t)total - j->accepted;
    if (rc == 0) {
        char cnt[24];
        num_str(cnt, sizeof cnt, j->accepted);
        const char *hp[] = {host, now, cnt};
        rc = fdb_exec(f->db, "INSERT INTO hosts (host_id, first_seen, last_seen, events)"
                      " VALUES ($1, $2, $2, $3) ON CONFLICT (host_id) DO UPDATE SET"
                      " last_seen = excluded.last_seen, events = hosts.events + excluded.events",
                      3, hp, NULL);
    }
    /* the audit line in the same commit */
    snprintf(j->fc->detail, sizeof j->fc->detail, "host %s: %lld accepted, %lld duplicates",
             host, (long long)j->accepted, (long long)j->dup);
    if (rc == 0)
        rc = fleet_audit_locked(f, &j->fc->caller, j->rq->peer, j->rq->method, j->rq->path,
                                200, j->fc->detail);
    return rc;
}

/* The leader's work: the queued batches in one transaction. */
static void store_group(mm_fleet *f, gjob *list)
{
    bool pg = strcmp(fdb_kind(f->db), "postgres") == 0;
    char now[24];
    num_str(now, sizeof now, fleet_now());
    int64_t accepted = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    for (gjob *j = list; rc == 0 && j; j = j->next) {
        rc = store_job(f, j, now, pg);
        accepted += j->accepted;
    }
    rc = fdb_end(f->db, rc);
    if (rc) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", mm_error_last());
        for (gjob *j = list; j; j = j->next) {
            j->rc = rc;
            snprintf(j->err, sizeof j->err, "%s", msg);
        }
    } else if ((f->since_analyze += accepted) >= ANALYZE_EVERY && pg) {
        /* a bulk of new rows makes PostgreSQL's statistics stale (autovacuum
         * catches up within minutes): without them a filtered page sorts the
         * whole table instead of walking an index */
        fdb_exec(f->db, "ANALYZE events", 0, NULL, NULL);
        f->since_analyze = 0;
    }
    fdb_unlock(f->db);
}

/* Queues j and returns when its transaction is over (j->rc). */
static void group_submit(mm_fleet *f, gjob *j)
{
    struct fleet_group *g = group_of(f);
    pthread_mutex_lock(&g->mu);
    if (g->tail)
        g->tail->next = j;
    else
        g->head = j;
    g->tail = j;
    while (!j->done) {
        if (g->leader) {
            pthread_cond_wait(&g->cv, &g->mu);
            continue;
        }
        /* lead: take up to GROUP_MAX_BATCHES from the queue */
        g->leader = true;
        gjob *list = g->head, *last = list;
        for (int n = 1; n < GROUP_MAX_BATCHES && last->next; n++)
            last = last->next;
        g->head = last->next;
        if (!g->head)
            g->tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&g->mu);
        store_group(f, list);
        pthread_mutex_lock(&g->mu);
        for (gjob *x = list; x; x = x->next)
            x->done = true;
        g->leader = false;
        pthread_cond_broadcast(&g->cv);
    }
    pthread_mutex_unlock(&g->mu);
}

void route_events_ingest(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    fleet_batch b;
    int rc = fleet_batch_parse(rq->body, rq->body_len, f->o.max_batch, &b);
    if (rc) {
        mm_http_resp_error(resp, store_status(rc), "%s", mm_error_last());
        return;
    }
    const char *host = b.host_id;
    if ((fc->caller.role_bit & ROLE_AGENT) && strcmp(host, fc->caller.host_id) != 0) {
        mm_http_resp_error(resp, 403, "this agent token is bound to host '%s', not '%s'",
                           fc->caller.host_id, host);
        snprintf(fc->detail, sizeof fc->detail, "refused: host %s", host);
        fleet_batch_free(&b);
        return;
    }
    double t0 = mm_now();
    gjob j;
    memset(&j, 0, sizeof j);
    j.b = &b;
    j.fc = fc;
    j.rq = rq;
    if (strcmp(fdb_kind(f->db), "postgres") == 0 && b.n)
        fleet_pg_rows_build(&j.pr, b.ev, b.n);   /* before any lock */
    group_submit(f, &j);
    fleet_pg_rows_free(&j.pr);
    fc->audited = j.rc == 0;
    if (j.rc) {
        snprintf(fc->detail, sizeof fc->detail, "host %s: not stored", host);
        mm_http_resp_error(resp, 503, "store: %s", j.err);
        fleet_batch_free(&b);
        return;
    }
    pthread_mutex_lock(&f->mu);
    f->m.events_accepted += (uint64_t)j.accepted;
    f->m.events_duplicate += (uint64_t)j.dup;
    f->m.event_batches++;
    f->m.ingest_seconds += mm_now() - t0;
    if (j.accepted) {   /* the live streams (console_stream.c) look again now */
        __atomic_add_fetch(&f->events_gen, 1, __ATOMIC_RELEASE);
        if (f->on_events)
            f->on_events(f->on_events_ud);
    }
    pthread_mutex_unlock(&f->mu);
    json_t *jr = json_object();
    json_object_set_new(jr, "accepted", json_integer(j.accepted));
    json_object_set_new(jr, "duplicates", json_integer(j.dup));
    mm_http_resp_json(resp, 200, jr);
    fleet_batch_free(&b);
}

void route_heartbeat(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_error_t je;
    json_t *doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *host = NULL, *ver = NULL;
    int rc = 0;
    if (!json_is_object(doc))
        rc = mm_error_set(MM_EFORMAT, "body: want a JSON object");
    else if ((rc = opt_str(doc, "host_id", "body", &host)) == 0 &&
             (rc = opt_str(doc, "version", "body", &ver)) == 0 &&
             (!host || !fleet_id_valid(host)))
        rc = mm_error_set(MM_EFORMAT, "host_id: required, a valid host id");
    json_t *qd = json_object_get(doc, "queue_depth"), *dr = json_object_get(doc, "dropped");
    if (rc == 0 && ((qd && !json_is_integer(qd)) || (dr && !json_is_integer(dr)) ||
                    json_integer_value(qd) < 0 || json_integer_value(dr) < 0))
        rc = mm_error_set(MM_EFORMAT, "queue_depth, dropped: want counts");
    if (rc) {
        json_decref(doc);
        mm_http_resp_error(resp, 400, "%s", mm_error_last());
        return;
    }
    if ((fc->caller.role_bit & ROLE_AGENT) && strcmp(host, fc->caller.host_id) != 0) {
        mm_http_resp_error(resp, 403, "this agent token is bound to host '%s', not '%s'",
                           fc->caller.host_id, host);
        json_decref(doc);
        return;
    }
    char now[24], q[24], d[24];
    num_str(now, sizeof now, fleet_now());
    num_str(q, sizeof q, json_integer_value(qd));
    num_str(d, sizeof d, json_integer_value(dr));
    char *v = mm_xstrndup(ver ? ver : "", 64);
    const char *p[] = {host, now, v, q, d};
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "INSERT INTO hosts (host_id, first_seen, last_seen, version,"
                  " queue_depth, dropped) VALUES ($1, $2, $2, $3, $4, $5)"
                  " ON CONFLICT (host_id) DO UPDATE SET last_seen = excluded.last_seen,"
                  " version = excluded.version, queue_depth = excluded.queue_depth,"
                  " dropped = excluded.dropped", 5, p, NULL);
    fdb_unlock(f->db);
    free(v);
    json_decref(doc);
    if (rc) {
        mm_http_resp_error(resp, 503, "store: %s", mm_error_last());
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_true());
    mm_http_resp_json(resp, 200, j);
}
