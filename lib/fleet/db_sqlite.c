/*
 * db_sqlite.c - the SQLite backend of the server's store (fleet/db.h):
 * one file in WAL mode with synchronous=NORMAL (a committed batch survives
 * a killed server), a busy timeout for the CLI's token commands running
 * beside the server, and a cache of prepared statements keyed by their
 * text so that ingest does not re-parse SQL per event.
 */
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "fleet/db.h"
#include "util/util.h"

typedef struct sq_db {
    fdb base;
    sqlite3 *db;
    mm_map *stmts;   /* sql -> sqlite3_stmt* */
    char *path;
} sq_db;

static void stmt_free(void *p)
{
    sqlite3_finalize(p);
}

static int prep(sq_db *s, const char *sql, int np, const char *const *p, sqlite3_stmt **out)
{
    sqlite3_stmt *st = mm_map_get(s->stmts, sql);
    if (!st) {
        if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
            return mm_error_set(MM_EDB, "%s: %s", s->path, sqlite3_errmsg(s->db));
        if (mm_map_count(s->stmts) < 256)
            mm_map_put(s->stmts, sql, st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    int want = sqlite3_bind_parameter_count(st);
    for (int i = 0; i < np && i < want; i++) {
        int rc;
        if (!p[i])
            rc = sqlite3_bind_null(st, i + 1);
        else
            rc = sqlite3_bind_text(st, i + 1, p[i], -1, SQLITE_STATIC); /* outlives the step */
        if (rc != SQLITE_OK) {
            if (mm_map_get(s->stmts, sql) != st)
                sqlite3_finalize(st);
            return mm_error_set(MM_EDB, "%s: bind: %s", s->path, sqlite3_errmsg(s->db));
        }
    }
    *out = st;
    return 0;
}

static void done(sq_db *s, const char *sql, sqlite3_stmt *st)
{
    if (mm_map_get(s->stmts, sql) == st)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
}

static int sq_query(fdb *db, const char *sql, int np, const char *const *p,
                    fdb_row_fn fn, void *ud)
{
    sq_db *s = (sq_db *)db;
    sqlite3_stmt *st;
    int rc = prep(s, sql, np, p, &st);
    if (rc)
        return rc;
    int n = sqlite3_column_count(st);
    const char *vals[64], *names[64];
    if (n > 64)
        n = 64;
    int r;
    rc = 0;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        for (int i = 0; i < n; i++) {
            vals[i] = (const char *)sqlite3_column_text(st, i);
            names[i] = sqlite3_column_name(st, i);
        }
        if (fn && (rc = fn(ud, n, vals, names)) < 0)
            break;
    }
    if (rc >= 0 && r != SQLITE_DONE && r != SQLITE_ROW)
        rc = mm_error_set(MM_EDB, "%s: %s", s->path, sqlite3_errmsg(s->db));
    done(s, sql, st);
    return rc < 0 ? rc : 0;
}

static int sq_exec(fdb *db, const char *sql, int np, const char *const *p, int64_t *changes)
{
    sq_db *s = (sq_db *)db;
    if (np == 0 && strchr(sql, ';') && strchr(sql, ';')[1]) {
        /* a script (migrations): no parameters, several statements */
        char *err = NULL;
        if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
            int rc = mm_error_set(MM_EDB, "%s: %s", s->path, err ? err : "exec failed");
            sqlite3_free(err);
            return rc;
        }
        *changes = sqlite3_changes(s->db);
        return 0;
    }
    int rc = sq_query(db, sql, np, p, NULL, NULL);
    *changes = rc ? 0 : sqlite3_changes(s->db);
    return rc;
}

static void sq_close(fdb *db)
{
    sq_db *s = (sq_db *)db;
    mm_map_free(s->stmts, stmt_free);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->base.mu);
    free(s->path);
    free(s);
}

static const fdb_ops sq_ops = {"sqlite", sq_exec, sq_query, sq_close};

int fdb_sqlite_open(fdb **out, const char *path)
{
    *out = NULL;
    sq_db *s = mm_xcalloc(1, sizeof *s);
    s->base.ops = &sq_ops;
    pthread_mutex_init(&s->base.mu, NULL);
    s->stmts = mm_map_new();
    s->path = mm_xstrdup(path);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        int rc = mm_error_set(MM_EDB, "%s: %s", path,
                              s->db ? sqlite3_errmsg(s->db) : "cannot open");
        sq_close(&s->base);
        return rc;
    }
    sqlite3_busy_timeout(s->db, 10000);
    char *err = NULL;
    if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "PRAGMA foreign_keys=ON;", NULL, NULL, &err) != SQLITE_OK) {
        int rc = mm_error_set(MM_EDB, "%s: %s", path, err ? err : "pragma failed");
        sqlite3_free(err);
        sq_close(&s->base);
        return rc;
    }
    *out = &s->base;
    return 0;
}
