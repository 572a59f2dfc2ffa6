/*
 * store.c - the server's schema and the store calls that are not one
 * route's: the numbered migrations (run at open, each in a transaction,
 * recorded in schema_migrations), API tokens (random secrets of which only
 * the SHA-256 is kept), authentication of a bearer token, and the audit
 * log (append-only: the store itself refuses UPDATE and DELETE on it).
 */
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "fleet/fleet_int.h"

int64_t fleet_now(void)
{
    return (int64_t)time(NULL);
}

/* The migrations, in order; "@SERIAL@" becomes each backend's
 * auto-numbered key.  Append only: a released migration never changes. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,"
    " host_id TEXT, hash TEXT NOT NULL UNIQUE, created BIGINT NOT NULL,"
    " last_used BIGINT NOT NULL DEFAULT 0, revoked BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE hosts (host_id TEXT PRIMARY KEY, first_seen BIGINT NOT NULL,"
    " last_seen BIGINT NOT NULL, version TEXT, queue_depth BIGINT NOT NULL DEFAULT 0,"
    " dropped BIGINT NOT NULL DEFAULT 0, events BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE events (seq @SERIAL@, host_id TEXT NOT NULL, event_id TEXT NOT NULL,"
    " ts BIGINT NOT NULL, received BIGINT NOT NULL, kind TEXT NOT NULL,"
    " severity TEXT NOT NULL, section TEXT, rule TEXT, image TEXT, container TEXT,"
    " title TEXT, body TEXT NOT NULL, UNIQUE (host_id, event_id));"
    "CREATE INDEX events_ts ON events (ts);"
    "CREATE TABLE scans (seq @SERIAL@, scan_id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,"
    " target TEXT, image TEXT, host_id TEXT, token_id TEXT, received BIGINT NOT NULL,"
    " findings BIGINT NOT NULL, report TEXT NOT NULL);"
    "CREATE TABLE findings (seq @SERIAL@, scan_seq BIGINT NOT NULL REFERENCES scans (seq),"
    " finding_id TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL, section TEXT,"
    " title TEXT, package TEXT, path TEXT, image TEXT, host_id TEXT, ts BIGINT NOT NULL);"
    "CREATE INDEX findings_scan ON findings (scan_seq);"
    "CREATE TABLE audit (seq @SERIAL@, ts BIGINT NOT NULL, token_id TEXT, token_name TEXT,"
    " role TEXT, peer TEXT, method TEXT NOT NULL, path TEXT NOT NULL,"
    " status INTEGER NOT NULL, detail TEXT);"
    "@AUDIT_RO@",
    /* 2: lists filtered by host or severity walk an index in seq order */
    "CREATE INDEX events_host_seq ON events (host_id, seq);"
    "CREATE INDEX events_severity_seq ON events (severity, seq);"
    "CREATE INDEX findings_severity_seq ON findings (severity, seq);"
    "CREATE INDEX findings_host_seq ON findings (host_id, seq);",
    /* 3 (issue 19, schedules and notifications): schedules (registry
     * rescans, database updates, stale checks, exports), alerts, routes,
     * the retry queue, retention, export cursors */
    "CREATE TABLE schedules (name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " every BIGINT NOT NULL, params TEXT NOT NULL, next_run BIGINT NOT NULL DEFAULT 0,"
    " last_run BIGINT NOT NULL DEFAULT 0, last_status TEXT, last_detail TEXT,"
    " runs BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE alerts (seq @SERIAL@, ts BIGINT NOT NULL, kind TEXT NOT NULL,"
    " severity TEXT NOT NULL, section TEXT NOT NULL, image TEXT, host_id TEXT,"
    " namespace TEXT, vuln_id TEXT, package TEXT, scan_seq BIGINT, title TEXT NOT NULL,"
    " body TEXT NOT NULL);"
    "CREATE INDEX alerts_ts ON alerts (ts);"
    "CREATE TABLE notify_routes (name TEXT PRIMARY KEY, kind TEXT NOT NULL,"
    " params TEXT NOT NULL, created BIGINT NOT NULL);"
    "CREATE TABLE notify_outbox (seq @SERIAL@, route TEXT NOT NULL, alert_seq BIGINT,"
    " event_seq BIGINT,"
    " created BIGINT NOT NULL, next_try BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL DEFAULT 'pending', last_error TEXT, delivered BIGINT);"
    "CREATE INDEX notify_outbox_due ON notify_outbox (state, next_try);"
    "CREATE TABLE retention (kind TEXT PRIMARY KEY, days BIGINT NOT NULL DEFAULT 0,"
    " max_rows BIGINT NOT NULL DEFAULT 0);"
    "CREATE TABLE export_cursors (name TEXT NOT NULL, kind TEXT NOT NULL,"
    " last_seq BIGINT NOT NULL DEFAULT 0, PRIMARY KEY (name, kind));",
    /* 4 (issue 20): the console's acknowledged and silenced
     * alerts (an ack names one event, a silence a rule until a time), an
     * index for the images view, per-scan counts */
    "CREATE TABLE alert_marks (seq @SERIAL@, kind TEXT NOT NULL, event_seq BIGINT,"
    " rule TEXT, host_id TEXT, until BIGINT, note TEXT, token_id TEXT, token_name TEXT,"
    " created BIGINT NOT NULL);"
    "CREATE INDEX alert_marks_event ON alert_marks (event_seq);"
    "CREATE INDEX scans_image ON scans (image, seq);"
    /* a scan's findings counted by severity and kind once (scans never
     * change): the console's summary and images read these, not findings */
    "CREATE TABLE scan_counts (scan_seq BIGINT NOT NULL, severity TEXT NOT NULL,"
    " kind TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (scan_seq, severity, kind));",
    /* 5 (issue 18): the newest host inventory snapshot of each host */
    ("CREATE TABLE inventory (host_id TEXT PRIMARY KEY, snapshot_id TEXT,"
     " collected BIGINT NOT NULL, received BIGINT NOT NULL, body TEXT NOT NULL);"),
    /* 6 (issue 19, scale-out workers): the scan job queue (jobs.c).  One
     * live job per image reference: the partial unique index makes a second
     * enqueue of a queued or running reference a no-op. */
    "CREATE TABLE scan_jobs (id @SERIAL@, ref TEXT NOT NULL, tag TEXT,"
    " state TEXT NOT NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,"
    " enqueued BIGINT NOT NULL, enqueued_by TEXT, worker TEXT,"
    " lease_until BIGINT NOT NULL DEFAULT 0, started BIGINT NOT NULL DEFAULT 0,"
    " finished BIGINT NOT NULL DEFAULT 0, scan_id TEXT, error TEXT);"
    "CREATE UNIQUE INDEX scan_jobs_live ON scan_jobs (ref)"
    " WHERE state IN ('queued', 'running');"
    "CREATE INDEX scan_jobs_state ON scan_jobs (state, id);"
    /* and the layer records the workers share (layers.c) */
    "CREATE TABLE layer_records (key TEXT PRIMARY KEY, state TEXT NOT NULL,"
    " owner TEXT, until BIGINT NOT NULL DEFAULT 0, created BIGINT NOT NULL,"
    " size BIGINT NOT NULL DEFAULT 0, body TEXT, hits BIGINT NOT NULL DEFAULT 0,"
    " walks BIGINT NOT NULL DEFAULT 0);",
    /* 7 (issue 20a, runtime profiles and captures; profiles.c): learned
     * profiles, one row per host and image key and learning period, the
     * image's part of the profile as JSON, learned or enforced (by whom,
     * when); and the captures each agent keeps (metadata) */
    "CREATE TABLE runtime_profiles (seq @SERIAL@, id TEXT NOT NULL UNIQUE,"
    " host_id TEXT NOT NULL, image TEXT NOT NULL, learned_start BIGINT NOT NULL,"
    " learned_end BIGINT NOT NULL, received BIGINT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'learned', enforced_by TEXT, enforced_at BIGINT,"
    " counts TEXT NOT NULL, doc TEXT NOT NULL,"
    " UNIQUE (host_id, image, learned_start, learned_end));"
    "CREATE INDEX runtime_profiles_host ON runtime_profiles (host_id, state);"
    "CREATE TABLE runtime_captures (seq @SERIAL@, host_id TEXT NOT NULL, file TEXT NOT NULL,"
    " start_ts BIGINT NOT NULL DEFAULT 0, end_ts BIGINT NOT NULL DEFAULT 0,"
    " size BIGINT NOT NULL, events BIGINT NOT NULL, received BIGINT NOT NULL,"
    " UNIQUE (host_id, file));"
    /* capture files an agent sent (base64, capped; the newest per host) */
    "CREATE TABLE runtime_capture_files (seq @SERIAL@, host_id TEXT NOT NULL,"
    " name TEXT NOT NULL, start_ts BIGINT NOT NULL, end_ts BIGINT NOT NULL,"
    " size BIGINT NOT NULL, events BIGINT NOT NULL, received BIGINT NOT NULL,"
    " data TEXT NOT NULL, UNIQUE (host_id, start_ts, end_ts, size));",
};
#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

int64_t mm_fleet_schema_latest(void)
{
    return (int64_t)NMIGRATIONS;
}

static const char sqlite_audit_ro[] =
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN"
    " SELECT RAISE(ABORT, 'the audit log is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN"
    " SELECT RAISE(ABORT, 'the audit log is append-only'); END;";
static const char pg_audit_ro[] =
    "CREATE FUNCTION mm_audit_ro() RETURNS trigger LANGUAGE plpgsql AS"
    " $f$ BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $f$;"
    "CREATE TRIGGER audit_ro BEFORE UPDATE OR DELETE ON audit"
    " FOR EACH ROW EXECUTE FUNCTION mm_audit_ro();";

static char *subst(const char *s, const char *from, const char *to)
{
    mm_buf b = MM_BUF_INIT;
    size_t fl = strlen(from);
    const char *p;
    while ((p = strstr(s, from))) {
        mm_buf_add(&b, s, (size_t)(p - s));
        mm_buf_adds(&b, to);
        s = p + fl;
    }
    mm_buf_adds(&b, s);
    return mm_buf_detach(&b);
}

int fleet_migrate(fdb *db)
{
    bool pg = strcmp(fdb_kind(db), "postgres") == 0;
    fdb_lock(db);
    /* servers and workers starting together on one PostgreSQL: one at a
     * time runs the migrations (a lock held to the end of the session or
     * to the unlock below) */
    int rc = pg ? fdb_exec(db, "SELECT pg_advisory_lock(7305001)", 0, NULL, NULL) : 0;
    if (rc == 0)
        rc = fdb_exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations"
                      " (version INTEGER PRIMARY KEY, applied BIGINT NOT NULL)", 0, NULL, NULL);
    int64_t have = 0;
    if (rc == 0)
        rc = fdb_query_int(db, "SELECT MAX(version) FROM schema_migrations", 0, NULL, 0, &have);
    for (size_t i = (size_t)have; rc == 0 && i < NMIGRATIONS; i++) {
        char *a = subst(migrations[i], "@SERIAL@",
                        pg ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT");
        char *sql = subst(a, "@AUDIT_RO@", pg ? pg_audit_ro : sqlite_audit_ro);
        free(a);
        char ver[24], now[24];
        snprintf(ver, sizeof ver, "%zu", i + 1);
        snprintf(now, sizeof now, "%lld", (long long)fleet_now());
        const char *p[] = {ver, now};
        rc = fdb_exec(db, "BEGIN", 0, NULL, NULL);
        if (rc == 0)
            rc = fdb_exec(db, sql, 0, NULL, NULL);
        if (rc == 0)
            rc = fdb_exec(db, "INSERT INTO schema_migrations (version, applied) VALUES ($1, $2)",
                          2, p, NULL);
        if (rc == 0)
            rc = fdb_exec(db, "COMMIT", 0, NULL, NULL);
        else {
            mm_error_wrap(rc, "migration %zu: ", i + 1);
            fdb_exec(db, "ROLLBACK", 0, NULL, NULL);
        }
        free(sql);
    }
    if (rc == 0 && have > (int64_t)NMIGRATIONS)
        rc = mm_error_set(MM_EUNSUPPORTED, "the store's schema is version %lld, newer than"
                          " this mamori knows (%zu)", (long long)have, NMIGRATIONS);
    if (pg)
        fdb_exec(db, "SELECT pg_advisory_unlock(7305001)", 0, NULL, NULL);
    fdb_unlock(db);
    return rc;
}

unsigned fleet_role_bit(const char *role)
{
    static const char *const names[] = {"admin", "operator", "viewer", "agent", "ci"};
    for (unsigned i = 0; role && i < 5; i++)
        if (strcmp(role, names[i]) == 0)
            return 1u << i;
    return 0;
}

int mm_fleet_role_valid(const char *role)
{
    if (fleet_role_bit(role))
        return 0;
    return mm_error_set(MM_EINVAL, "role '%s': want admin, operator, viewer, agent or ci",
                        role ? role : "");
}

static bool valid_label(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) > max)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

int mm_fleet_token_create(mm_fleet *f, const char *name, const char *role,
                          const char *host_id, char **token, char **id)
{
    *token = NULL;
    if (id)
        *id = NULL;
    int rc = mm_fleet_role_valid(role);
    if (rc)
        return rc;
    if (!valid_label(name, 100))
        return mm_error_set(MM_EINVAL, "token name: 1 to 100 printable characters");
    bool agent = strcmp(role, "agent") == 0;
    if (agent && !valid_label(host_id, FLEET_MAX_ID))
        return mm_error_set(MM_EINVAL, "an agent token needs a host id (--host)");
    if (!agent && host_id)
        return mm_error_set(MM_EINVAL, "only an agent token is bound to a host");
    char sec[65], tid[17], hash[72], now[24];
    if (mm_random_hex(sec, 32) < 0 || mm_random_hex(tid, 8) < 0)
        return MM_EIO;   /* no randomness: no tokens */
    char *tok = mm_xasprintf("mmt_%s_%s", tid, sec);
    mm_sha256_hex(tok, strlen(tok), hash);
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    const char *p[] = {tid, name, role, host_id, hash + 7, now};
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "INSERT INTO tokens (id, name, role, host_id, hash, created)"
                  " VALUES ($1, $2, $3, $4, $5, $6)", 6, p, NULL);
    fdb_unlock(f->db);
    if (rc) {
        explicit_bzero(tok, strlen(tok));
        free(tok);
        return rc;
    }
    *token = tok;
    if (id)
        *id = mm_xstrdup(tid);
    return 0;
}

int mm_fleet_token_revoke(mm_fleet *f, const char *id)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    const char *p[] = {now, id};
    int64_t ch = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "UPDATE tokens SET revoked = $1 WHERE id = $2 AND revoked = 0",
                      2, p, &ch);
    fdb_unlock(f->db);
    if (rc == 0 && ch == 0)
        return mm_error_set(MM_ENOTFOUND, "token '%s': no such live token", id);
    return rc;
}

typedef struct list_ctx {
    mm_fleet_token_fn fn;
    void *ud;
} list_ctx;

static int64_t num(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static int list_row(void *ud, int n, const char *const *v, const char *const *names)
{
    list_ctx *l = ud;
    mm_fleet_token_info t = {v[0], v[1], v[2], v[3], num(v[4]), num(v[5]), num(v[6])};
    l->fn(l->ud, &t);
    return 0;
}

int mm_fleet_token_list(mm_fleet *f, mm_fleet_token_fn fn, void *ud)
{
    list_ctx l = {fn, ud};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT id, name, role, host_id, created, last_used, revoked"
                       " FROM tokens ORDER BY created, id", 0, NULL, list_row, &l);
    fdb_unlock(f->db);
    return rc;
}

static int auth_row(void *ud, int n, const char *const *v, const char *const *names)
{
    fleet_caller *c = ud;
    snprintf(c->id, sizeof c->id, "%s", v[0] ? v[0] : "");
    snprintf(c->name, sizeof c->name, "%s", v[1] ? v[1] : "");
    snprintf(c->role, sizeof c->role, "%s", v[2] ? v[2] : "");
    snprintf(c->host_id, sizeof c->host_id, "%s", v[3] ? v[3] : "");
    c->role_bit = fleet_role_bit(c->role);
    c->last_used = v[4] ? strtoll(v[4], NULL, 10) : 0;
    return 0;
}

int fleet_auth(mm_fleet *f, const char *token, fleet_caller *c)
{
    memset(c, 0, sizeof *c);
    if (!token || !*token || strlen(token) > 200)
        return mm_error_set(MM_EAUTH, "missing or malformed token");
    char hash[72], now[24], old[24];
    mm_sha256_hex(token, strlen(token), hash);
    const char *p[] = {hash + 7};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT id, name, role, host_id, last_used FROM tokens"
                       " WHERE hash = $1 AND revoked = 0", 1, p, auth_row, c);
    int64_t t = fleet_now();
    if (rc == 0 && c->role_bit && c->last_used < t - 60) {
        /* "last used" to the minute: a write at most once a minute per token */
        snprintf(now, sizeof now, "%lld", (long long)t);
        snprintf(old, sizeof old, "%lld", (long long)(t - 60));
        const char *q[] = {now, c->id, old};
        fdb_exec(f->db, "UPDATE tokens SET last_used = $1 WHERE id = $2 AND last_used < $3",
                 3, q, NULL);
    }
    fdb_unlock(f->db);
    if (rc)
        return rc;
    return c->role_bit ? 0 : mm_error_set(MM_EAUTH, "unknown or revoked token");
}

int fleet_audit_locked(mm_fleet *f, const fleet_caller *c, const char *peer,
                       const char *method, const char *path, int status, const char *detail)
{
    char now[24], st[16];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    snprintf(st, sizeof st, "%d", status);
    bool who = c && c->role_bit;
    char *pth = mm_xstrndup(path, 512);
    const char *p[] = {now, who ? c->id : NULL, who ? c->name : NULL, who ? c->role : NULL,
                       peer, method, pth, st, detail};
    int rc = fdb_exec(f->db, "INSERT INTO audit (ts, token_id, token_name, role, peer, method,"
                      " path, status, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)", 9, p,
                      NULL);
    free(pth);
    return rc;
}

void fleet_audit(mm_fleet *f, const fleet_caller *c, const char *peer,
                 const char *method, const char *path, int status, const char *detail)
{
    fdb_lock(f->db);
    fleet_audit_locked(f, c, peer, method, path, status, detail);
    fdb_unlock(f->db);
}

void mm_fleet_opts_init(mm_fleet_opts *o)
{
    memset(o, 0, sizeof *o);
}

int mm_fleet_open(mm_fleet **out, const mm_fleet_opts *o)
{
    *out = NULL;
    fdb *db = NULL;
    int rc = fdb_open(&db, o->db);
    if (rc)
        return rc;
    rc = fleet_migrate(db);
    if (rc) {
        fdb_close(db);
        return rc;
    }
    mm_fleet *f = mm_xcalloc(1, sizeof *f);
    f->db = db;
    f->o = *o;
    if (f->o.rate <= 0)
        f->o.rate = 100;
    if (f->o.burst <= 0)
        f->o.burst = 2 * f->o.rate;
    if (!f->o.max_batch)
        f->o.max_batch = 5000;
    f->started = fleet_now();
    pthread_mutex_init(&f->mu, NULL);
    f->buckets = mm_map_new();
    *out = f;
    return 0;
}

void mm_fleet_close(mm_fleet *f)
{
    if (!f)
        return;
    mm_fleet_ops_stop(f);
    fdb_close(f->db);
    fleet_group_free(f->group);
    mm_map_free(f->buckets, free);
    fleet_sessions_free(f->sessions);   /* issue 20 */
    pthread_mutex_destroy(&f->mu);
    free(f);
}

const char *mm_fleet_store_kind(const mm_fleet *f)
{
    return fdb_kind(f->db);
}

int mm_fleet_schema_version(mm_fleet *f, int64_t *out)
{
    fdb_lock(f->db);
    int rc = fdb_query_int(f->db, "SELECT MAX(version) FROM schema_migrations", 0, NULL, 0, out);
    fdb_unlock(f->db);
    return rc;
}
