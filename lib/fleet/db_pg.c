/*
 * db_pg.c - the PostgreSQL backend of the server's store (fleet/db.h)
 * through libpq: one connection (the store's lock serialises it),
 * statements with text parameters through PQexecParams (never spliced
 * into the SQL), scripts without parameters through PQexec.  A connection
 * found broken is reset once before the statement is tried again, outside
 * a transaction only.  INSERT statements are prepared once per connection
 * (PQprepare, keyed by their text) and then only executed: ingest sends the
 * same 100-row statement for every chunk of events, whose parse and plan
 * used to cost PostgreSQL more than the rows themselves.  Queries are not
 * prepared, so their plans stay custom to each call's parameters.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "fleet/db.h"
#include "util/util.h"

typedef struct pg_db {
    fdb base;
    PGconn *c;
    bool in_tx;
    mm_map *prepared;   /* sql -> statement name (on this connection) */
    unsigned nprepared;
} pg_db;

#define MAX_PREPARED 64

/* The name of sql prepared on this connection, preparing it when new;
 * NULL when it cannot be (then the statement runs unprepared). */
static const char *prepared(pg_db *p, const char *sql, int np)
{
    if (np == 0 || strncmp(sql, "INSERT", 6) != 0)
        return NULL;
    const char *name = mm_map_get(p->prepared, sql);
    if (name || mm_map_count(p->prepared) >= MAX_PREPARED)
        return name;
    char *n = mm_xasprintf("mm_ins_%u", ++p->nprepared);
    PGresult *r = PQprepare(p->c, n, sql, np, NULL);
    bool ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        free(n);
        return NULL;
    }
    mm_map_put(p->prepared, sql, n);
    return n;
}

static int pg_err(pg_db *p, PGresult *r)
{
    const char *m = r ? PQresultErrorMessage(r) : NULL;
    if (!m || !*m)
        m = PQerrorMessage(p->c);
    char *msg = mm_xstrdup(m ? m : "failed");
    mm_str_trim(msg);
    int rc = mm_error_set(MM_EDB, "postgres: %s", msg);
    free(msg);
    return rc;
}

static PGresult *run(pg_db *p, const char *sql, int np, const char *const *prm)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *name = prepared(p, sql, np);
        PGresult *r = np == 0 && strchr(sql, ';')
            ? PQexec(p->c, sql)
            : name ? PQexecPrepared(p->c, name, np, prm, NULL, NULL, 0)
                   : PQexecParams(p->c, sql, np, NULL, prm, NULL, NULL, 0);
        if (PQstatus(p->c) == CONNECTION_OK || p->in_tx || attempt)
            return r;
        PQclear(r);
        PQreset(p->c);   /* the server restarted: one more try */
        /* a new connection has no prepared statements */
        mm_map_free(p->prepared, free);
        p->prepared = mm_map_new();
    }
    return NULL;
}

static void track_tx(pg_db *p, const char *sql)
{
    if (!strcmp(sql, "BEGIN"))
        p->in_tx = true;
    else if (!strcmp(sql, "COMMIT") || !strcmp(sql, "ROLLBACK"))
        p->in_tx = false;
}

static int pg_exec(fdb *db, const char *sql, int np, const char *const *prm, int64_t *changes)
{
    pg_db *p = (pg_db *)db;
    PGresult *r = run(p, sql, np, prm);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_err(p, r);
    else {
        const char *t = PQcmdTuples(r);
        *changes = t && *t ? strtoll(t, NULL, 10) : 0;
        track_tx(p, sql);
    }
    if (rc && !strcmp(sql, "ROLLBACK"))
        p->in_tx = false;
    PQclear(r);
    return rc;
}

static int pg_query(fdb *db, const char *sql, int np, const char *const *prm,
                    fdb_row_fn fn, void *ud)
{
    pg_db *p = (pg_db *)db;
    PGresult *r = run(p, sql, np, prm);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        int rc = pg_err(p, r);
        PQclear(r);
        return rc;
    }
    int n = PQnfields(r), rows = PQntuples(r), rc = 0;
    if (n > 64)
        n = 64;
    const char *vals[64], *names[64];
    for (int i = 0; i < n; i++)
        names[i] = PQfname(r, i);
    for (int row = 0; fn && row < rows; row++) {
        for (int i = 0; i < n; i++)
            vals[i] = PQgetisnull(r, row, i) ? NULL : PQgetvalue(r, row, i);
        if ((rc = fn(ud, n, vals, names)) < 0)
            break;
    }
    PQclear(r);
    return rc < 0 ? rc : 0;
}

static void pg_close(fdb *db)
{
    pg_db *p = (pg_db *)db;
    PQfinish(p->c);
    mm_map_free(p->prepared, free);
    pthread_mutex_destroy(&p->base.mu);
    free(p);
}

static const fdb_ops pg_ops = {"postgres", pg_exec, pg_query, pg_close};

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg; (void)msg;   /* "relation already exists, skipping": the library never prints */
}

int fdb_pg_open(fdb **out, const char *conninfo)
{
    *out = NULL;
    pg_db *p = mm_xcalloc(1, sizeof *p);
    p->base.ops = &pg_ops;
    pthread_mutex_init(&p->base.mu, NULL);
    p->prepared = mm_map_new();
    p->c = PQconnectdb(conninfo);
    if (!p->c || PQstatus(p->c) != CONNECTION_OK) {
        char *msg = mm_xstrdup(p->c ? PQerrorMessage(p->c) : "out of memory");
        mm_str_trim(msg);
        int rc = mm_error_set(MM_EDB, "postgres: cannot connect: %s", msg);
        free(msg);
        pg_close(&p->base);
        return rc;
    }
    PQsetNoticeProcessor(p->c, quiet_notice, NULL);
    *out = &p->base;
    return 0;
}
