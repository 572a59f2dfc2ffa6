/*
 * db.c - the backend-neutral part of the server's store interface
 * (fleet/db.h): picking the backend from the --db value, the lock, and
 * the one-number query helper.
 */
#include <stdlib.h>
#include <string.h>

#include "fleet/db.h"
#include "util/util.h"

int fdb_open(fdb **out, const char *url)
{
    *out = NULL;
    if (!url || !*url)
        return mm_error_set(MM_EINVAL, "--db: empty");
    if (mm_str_startswith(url, "postgres://") || mm_str_startswith(url, "postgresql://"))
        return fdb_pg_open(out, url);
    if (mm_str_startswith(url, "sqlite:"))
        url += 7;
    return fdb_sqlite_open(out, url);
}

void fdb_close(fdb *db)
{
    if (db)
        db->ops->close(db);
}

const char *fdb_kind(const fdb *db)
{
    return db->ops->name;
}

void fdb_lock(fdb *db)
{
    pthread_mutex_lock(&db->mu);
}

void fdb_unlock(fdb *db)
{
    pthread_mutex_unlock(&db->mu);
}

int fdb_exec(fdb *db, const char *sql, int np, const char *const *p, int64_t *changes)
{
    int64_t ch = 0;
    int rc = db->ops->exec(db, sql, np, p, &ch);
    if (changes)
        *changes = ch;
    return rc;
}

int fdb_end(fdb *db, int rc)
{
    if (rc == 0)
        rc = fdb_exec(db, "COMMIT", 0, NULL, NULL);
    if (rc) {
        char *msg = mm_xstrdup(mm_error_last());
        fdb_exec(db, "ROLLBACK", 0, NULL, NULL);
        mm_error_set(rc, "%s", msg);
        free(msg);
    }
    return rc;
}

int fdb_query(fdb *db, const char *sql, int np, const char *const *p,
              fdb_row_fn fn, void *ud)
{
    return db->ops->query(db, sql, np, p, fn, ud);
}

typedef struct one_int {
    bool seen;
    int64_t v;
} one_int;

static int one_int_row(void *ud, int n, const char *const *vals, const char *const *names)
{
    one_int *o = ud;
    if (!o->seen && n > 0 && vals[0]) {
        o->v = strtoll(vals[0], NULL, 10);
        o->seen = true;
    }
    return 0;
}

int fdb_query_int(fdb *db, const char *sql, int np, const char *const *p,
                  int64_t def, int64_t *out)
{
    one_int o = {false, def};
    int rc = fdb_query(db, sql, np, p, one_int_row, &o);
    *out = o.seen ? o.v : def;
    return rc;
}
