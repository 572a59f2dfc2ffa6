/*
 * store/sqlite.c - the local record of scans: one SQLite file, one row per
 * scan (key, target, kind, time, vulnerability-database version, counts
 * and the full JSON report), so that the gate, rescans and the server can
 * ask "what did we last see for this image?".
 *
 * The schema version lives in PRAGMA user_version and migrations run in
 * order inside one transaction when a store is opened, so that a newer
 * mamori upgrades an older file in place and an older mamori refuses a
 * newer file rather than misreading it.  WAL and a busy timeout let the
 * CLI and the server share a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "mamori/report.h"
#include "mamori/store.h"
#include "util/util.h"

#define STORE_SCHEMA_VERSION 1
#define STORE_BUSY_MS 5000

struct mm_store {
    sqlite3 *db;
    char *path;
};

/* Migration N brings a store from user_version N-1 to N. */
static const char *const migrations[] = {
    /* 1: the scans table */
    "CREATE TABLE scans ("
    " id INTEGER PRIMARY KEY,"
    " key TEXT NOT NULL,"
    " target TEXT,"
    " kind TEXT,"
    " scanned_at INTEGER,"
    " db_version TEXT,"
    " npackages INTEGER,"
    " nfindings INTEGER,"
    " report TEXT);"
    "CREATE INDEX scans_key_time ON scans(key, scanned_at);",
};

static int db_error(mm_store *s, const char *what)
{
    return mm_error_set(MM_EDB, "store %s: %s: %s", s->path, what,
                        s->db ? sqlite3_errmsg(s->db) : "no database");
}

char *mm_store_default_path(void)
{
    return mm_cache_path("mamori.db");
}

static int exec(mm_store *s, const char *sql, const char *what)
{
    char *err = NULL;
    if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        int rc = mm_error_set(MM_EDB, "store %s: %s: %s", s->path, what,
                              err ? err : sqlite3_errmsg(s->db));
        sqlite3_free(err);
        return rc;
    }
    return 0;
}

static int migrate(mm_store *s)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) !=
        SQLITE_OK)
        return db_error(s, "reading the schema version");
    if (sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0)
        return db_error(s, "reading the schema version");
    if (version > STORE_SCHEMA_VERSION)
        return mm_error_set(MM_EDB,
                            "store %s: schema version %d is newer than this "
                            "mamori understands (%d)", s->path, version,
                            STORE_SCHEMA_VERSION);
    if (version == STORE_SCHEMA_VERSION)
        return 0;
    int rc = exec(s, "BEGIN IMMEDIATE", "starting the migration");
    if (rc)
        return rc;
    for (int v = version; v < STORE_SCHEMA_VERSION; v++) {
        rc = exec(s, migrations[v], "migrating the schema");
        if (rc) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return rc;
        }
    }
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d",
             STORE_SCHEMA_VERSION);
    if ((rc = exec(s, sql, "setting the schema version")) ||
        (rc = exec(s, "COMMIT", "committing the migration"))) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    return 0;
}

int mm_store_open(mm_store **out, const char *path)
{
    if (!out)
        return mm_error_set(MM_EINVAL, "store: no output pointer");
    *out = NULL;
    char *def = NULL;
    if (!path || !*path) {
        path = def = mm_store_default_path();
        if (!path)
            return mm_error_set(MM_EINVAL,
                                "store: no path given and neither "
                                "MAMORI_CACHE_DIR, XDG_CACHE_HOME nor HOME "
                                "is set");
    }
    mm_store *s = mm_xcalloc(1, sizeof(*s));
    s->path = mm_xstrdup(path);
    free(def);
    int rc = mm_mkdir_parents(s->path, 0700);
    if (rc) {
        rc = mm_error_wrap(MM_EDB, "store %s: ", s->path);
        mm_store_close(s);
        return rc;
    }
    if (sqlite3_open_v2(s->path, &s->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = db_error(s, "cannot open");
        mm_store_close(s);
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
    /* journal_mode is the first statement that reads the file, so a
     * corrupt or foreign file fails here with sqlite's own message. */
    if ((rc = exec(s, "PRAGMA journal_mode=WAL", "cannot use the file")) ||
        (rc = exec(s, "PRAGMA synchronous=NORMAL", "cannot use the file")) ||
        (rc = migrate(s))) {
        mm_store_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void mm_store_close(mm_store *s)
{
    if (!s)
        return;
    if (s->db)
        sqlite3_close_v2(s->db);
    free(s->path);
    free(s);
}

int mm_store_put_scan(mm_store *s, mm_result *r, const char *db_version)
{
    if (!s || !r)
        return mm_error_set(MM_EINVAL, "store: no store or result");
    const char *key = mm_result_key(r);
    if (!key || !*key)
        return mm_error_set(MM_EINVAL, "store %s: the scan of %s has no key",
                            s->path, mm_result_target(r) ? mm_result_target(r)
                                                        : "(unknown)");
    char *report = NULL;
    int rc = mm_report_json_string(&report, r, NULL);
    if (rc)
        return rc;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "INSERT INTO scans(key, target, kind, scanned_at,"
                           " db_version, npackages, nfindings, report)"
                           " VALUES (?,?,?,?,?,?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(report);
        return db_error(s, "preparing the insert");
    }
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, mm_result_target(r), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3,
                      mm_result_kind(r) == MM_TARGET_IMAGE ? "image"
                                                           : "rootfs",
                      -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, mm_result_started(r));
    if (db_version)
        sqlite3_bind_text(st, 5, db_version, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, 5);
    sqlite3_bind_int64(st, 6,
                       (sqlite3_int64)mm_inventory_count(mm_result_inventory(r)));
    sqlite3_bind_int64(st, 7,
                       (sqlite3_int64)mm_findings_count(mm_result_findings(r)));
    sqlite3_bind_text(st, 8, report, -1, free);
    rc = sqlite3_step(st) == SQLITE_DONE ? 0 : db_error(s, "recording the scan");
    sqlite3_finalize(st);
    return rc;
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? mm_xstrdup((const char *)t) : NULL;
}

int mm_store_get_latest(mm_store *s, const char *key, mm_scan_record **out)
{
    if (!out)
        return mm_error_set(MM_EINVAL, "store: no output pointer");
    *out = NULL;
    if (!s || !key)
        return mm_error_set(MM_EINVAL, "store: no store or key");
    sqlite3_stmt *st = NULL;
    /* id breaks ties between scans made within the same second. */
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, key, target, scanned_at, db_version,"
                           " npackages, nfindings, report FROM scans"
                           " WHERE key = ? ORDER BY scanned_at DESC, id DESC"
                           " LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, "preparing the query");
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        sqlite3_finalize(st);
        return mm_error_set(MM_ENOTFOUND, "store %s: no scan of %s", s->path,
                            key);
    }
    if (rc != SQLITE_ROW) {
        rc = db_error(s, "reading the scan");
        sqlite3_finalize(st);
        return rc;
    }
    mm_scan_record *rec = mm_xcalloc(1, sizeof(*rec));
    rec->id = sqlite3_column_int64(st, 0);
    rec->key = col_text(st, 1);
    rec->target = col_text(st, 2);
    rec->scanned_at = sqlite3_column_int64(st, 3);
    rec->db_version = col_text(st, 4);
    rec->npackages = sqlite3_column_int64(st, 5);
    rec->nfindings = sqlite3_column_int64(st, 6);
    rec->report_json = col_text(st, 7);
    sqlite3_finalize(st);
    *out = rec;
    return 0;
}

void mm_scan_record_free(mm_scan_record *rec)
{
    if (!rec)
        return;
    free(rec->key);
    free(rec->target);
    free(rec->db_version);
    free(rec->report_json);
    free(rec);
}

int mm_store_list(mm_store *s, int limit, mm_store_list_fn fn, void *ud)
{
    if (!s || !fn)
        return mm_error_set(MM_EINVAL, "store: no store or callback");
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT id, key, target, scanned_at, db_version,"
                           " npackages, nfindings FROM scans"
                           " ORDER BY scanned_at DESC, id DESC LIMIT ?",
                           -1, &st, NULL) != SQLITE_OK)
        return db_error(s, "preparing the query");
    sqlite3_bind_int(st, 1, limit > 0 ? limit : -1);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        mm_scan_record rec = {0};
        rec.id = sqlite3_column_int64(st, 0);
        rec.key = col_text(st, 1);
        rec.target = col_text(st, 2);
        rec.scanned_at = sqlite3_column_int64(st, 3);
        rec.db_version = col_text(st, 4);
        rec.npackages = sqlite3_column_int64(st, 5);
        rec.nfindings = sqlite3_column_int64(st, 6);
        int stop = fn(ud, &rec);
        free(rec.key);
        free(rec.target);
        free(rec.db_version);
        if (stop)
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = db_error(s, "listing scans");
        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return 0;
}
