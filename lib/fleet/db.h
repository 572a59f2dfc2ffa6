/*
 * fleet/db.h - the store behind `mamori server`, one small interface over
 * SQLite (db_sqlite.c) and PostgreSQL (db_pg.c): statements with $1..$N
 * text parameters (numbered in order of first use, so SQLite's positional
 * binding and PostgreSQL's agree), rows handed to a callback as text.
 * One connection, one lock: callers take fdb_lock() around a statement or
 * a transaction.  Private to lib/fleet.
 */
#ifndef MM_FLEET_DB_H
#define MM_FLEET_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fdb fdb;

/* A row: n columns, values as text (NULL for SQL NULL). Negative return
 * stops the query and is returned. */
typedef int (*fdb_row_fn)(void *ud, int n, const char *const *vals,
                          const char *const *names);

typedef struct fdb_ops {
    const char *name;   /* "sqlite", "postgres" */
    int (*exec)(fdb *db, const char *sql, int np, const char *const *p, int64_t *changes);
    int (*query)(fdb *db, const char *sql, int np, const char *const *p,
                 fdb_row_fn fn, void *ud);
    void (*close)(fdb *db);
} fdb_ops;

/* "postgres://..." or "postgresql://..." opens PostgreSQL; anything else
 * (a path, or "sqlite:PATH") a SQLite file in WAL mode. */
int fdb_open(fdb **out, const char *url);
void fdb_close(fdb *db);
const char *fdb_kind(const fdb *db);
void fdb_lock(fdb *db);
void fdb_unlock(fdb *db);
/* changes may be NULL */
int fdb_exec(fdb *db, const char *sql, int np, const char *const *p, int64_t *changes);
/* The end of a transaction begun with BEGIN: COMMIT when rc is 0; when
 * rc or the COMMIT failed, ROLLBACK, the failure's code and message kept
 * (returned, mm_error_last()). */
int fdb_end(fdb *db, int rc);
int fdb_query(fdb *db, const char *sql, int np, const char *const *p,
              fdb_row_fn fn, void *ud);
/* The first column of the first row as int64 (def when no row or NULL). */
int fdb_query_int(fdb *db, const char *sql, int np, const char *const *p,
                  int64_t def, int64_t *out);

/* backends */
int fdb_sqlite_open(fdb **out, const char *path);
int fdb_pg_open(fdb **out, const char *conninfo);

/* the common head of every backend's struct */
#include <pthread.h>
struct fdb {
    const fdb_ops *ops;
    pthread_mutex_t mu;
};

#endif
