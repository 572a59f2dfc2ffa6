/*
 * layers.c - content-addressed layer records in the server's store (issue
 * 19, scale-out): what the scan pipeline's mm_layer_cache asks of a store
 * that every worker shares.  A key (a layer with everything below it, the
 * mamori version and the analyzer set: lib/scan computes it) is walked by
 * one worker only: the first to ask inserts a "walking" row with a
 * deadline and walks; the others wait for the record (polling) and replay
 * it; a walker that died or dropped its claim lets the next one take the
 * key over.  A layer that cannot have a record (too large, or names a walk
 * reports) is marked "none": everyone walks it, nobody waits.  Counters:
 * hits (records replayed) and walks (times the layer was walked to make
 * the record).  Records are kept base64-encoded (the
 * store takes text parameters only).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/fleet_int.h"

#define MAX_RECORD ((size_t)256 << 20)

/* MM_EFORMAT for anything but canonical padded base64 */
int fleet_b64_decode(const char *s, char **out, size_t *outlen)
{
    size_t n = strlen(s);
    *out = NULL;
    *outlen = 0;
    if (n % 4 || n / 4 * 3 > MAX_RECORD)
        return mm_error_set(MM_EFORMAT, "layer record: not base64 (length %zu)", n);
    unsigned char *o;
    if (n == 0) {   /* an empty record */
        *out = mm_xcalloc(1, 1);
        return 0;
    }
    if (mm_base64_decode(&o, outlen, s, n, 0) < 0)
        return mm_error_set(MM_EFORMAT, "layer record: %s", mm_error_last());
    *out = (char *)o;
    return 0;
}

typedef struct lrow {
    bool found;
    char *state, *body;
    int64_t until;
} lrow;

static int lrow_fn(void *ud, int n, const char *const *v, const char *const *names)
{
    lrow *r = ud;
    if (n < 3 || r->found)
        return 0;
    r->found = true;
    r->state = mm_xstrdup(v[0]);
    r->until = v[1] ? strtoll(v[1], NULL, 10) : 0;
    r->body = mm_xstrdup(v[2]);
    return 0;
}

static void lrow_clear(lrow *r)
{
    free(r->state);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int exec1(mm_fleet *f, const char *sql, int np, const char *const *p, int64_t *ch)
{
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, sql, np, p, ch);
    fdb_unlock(f->db);
    return rc;
}

int mm_fleet_layer_get(mm_fleet *f, const char *key, const char *owner, int walk_s,
                       char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (!key || strlen(key) > 200 || !owner)
        return mm_error_set(MM_EINVAL, "layer record: bad key or owner");
    if (walk_s <= 0)
        walk_s = 300;
    for (int round = 0;; round++) {
        lrow r = {0};
        const char *p[] = {key};
        fdb_lock(f->db);
        int rc = fdb_query(f->db, "SELECT state, until, CASE WHEN state = 'ready' THEN body"
                           " END FROM layer_records WHERE key = $1", 1, p, lrow_fn, &r);
        fdb_unlock(f->db);
        if (rc) {
            lrow_clear(&r);
            return rc;
        }
        int64_t now = fleet_now();
        char nows[24], until[24];
        snprintf(nows, sizeof nows, "%lld", (long long)now);
        snprintf(until, sizeof until, "%lld", (long long)(now + walk_s));
        int64_t ch = 0;
        if (r.found && r.state && !strcmp(r.state, "none")) {
            lrow_clear(&r);
            return mm_error_set(MM_ELIMIT, "layer record: this layer has none (too large,"
                                " or names a walk reports)");
        }
        if (r.found && r.state && !strcmp(r.state, "ready") && r.body) {
            rc = fleet_b64_decode(r.body, data, len);
            lrow_clear(&r);
            if (rc)
                return rc;
            exec1(f, "UPDATE layer_records SET hits = hits + 1 WHERE key = $1", 1, p, NULL);
            return 0;
        }
        if (!r.found) {
            /* the first to ask walks the layer */
            const char *q[] = {key, owner, until, nows};
            rc = exec1(f, "INSERT INTO layer_records (key, state, owner, until, created, walks)"
                       " VALUES ($1, 'walking', $2, $3, $4, 1) ON CONFLICT DO NOTHING",
                       4, q, &ch);
        } else if (r.until < now) {
            /* its walker died or gave up: take it over */
            const char *q[] = {owner, until, key, nows};
            rc = exec1(f, "UPDATE layer_records SET owner = $1, until = $2, walks = walks + 1"
                       " WHERE key = $3 AND state = 'walking' AND until < $4", 4, q, &ch);
        }
        lrow_clear(&r);
        if (rc)
            return rc;
        if (ch == 1)
            return MM_ENOTFOUND;   /* ours to walk; mm_error is not set: not an error */
        /* another worker walks it: wait for its record */
        nanosleep(&(struct timespec){0, round < 20 ? 50000000 : 200000000}, NULL);
    }
}

void mm_fleet_layer_count_hit(mm_fleet *f, const char *key)
{
    const char *p[] = {key};
    exec1(f, "UPDATE layer_records SET hits = hits + 1 WHERE key = $1", 1, p, NULL);
}

int mm_fleet_layer_put(mm_fleet *f, const char *key, const char *owner, const char *data,
                       size_t len)
{
    if (!data || len > MAX_RECORD) {
        /* no record for this layer: said so, nobody waits for one */
        const char *q[] = {key, owner};
        int rc = exec1(f, "UPDATE layer_records SET state = 'none', owner = NULL"
                       " WHERE key = $1 AND state = 'walking' AND owner = $2", 2, q, NULL);
        return rc ? rc : data ? mm_error_set(MM_ELIMIT, "layer record: larger than %zu"
                                             " bytes", MAX_RECORD) : 0;
    }
    char *body = mm_base64_encode(data, len);
    char sz[24];
    snprintf(sz, sizeof sz, "%zu", len);
    const char *p[] = {body, sz, key, owner};
    int rc = exec1(f, "UPDATE layer_records SET state = 'ready', body = $1, size = $2,"
                   " owner = NULL WHERE key = $3 AND state = 'walking' AND owner = $4",
                   4, p, NULL);
    free(body);
    return rc;
}

void mm_fleet_layer_drop(mm_fleet *f, const char *key, const char *owner, bool bad)
{
    const char *p[] = {key, owner};
    if (bad)
        exec1(f, "DELETE FROM layer_records WHERE key = $1 AND state = 'ready'", 1, p, NULL);
    else
        exec1(f, "DELETE FROM layer_records WHERE key = $1 AND state = 'walking'"
              " AND owner = $2", 2, p, NULL);
}

int mm_fleet_layer_stats(mm_fleet *f, int64_t *records, int64_t *hits, int64_t *walks)
{
    fdb_lock(f->db);
    int rc = fdb_query_int(f->db, "SELECT COUNT(*) FROM layer_records WHERE state = 'ready'",
                           0, NULL, 0, records);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COALESCE(SUM(hits), 0) FROM layer_records",
                           0, NULL, 0, hits);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT COALESCE(SUM(walks), 0) FROM layer_records",
                           0, NULL, 0, walks);
    fdb_unlock(f->db);
    return rc;
}
