/*
 * vuln/db.c - the vulnerability database file: where it lives, opening it
 * read-only for matching and `db info`, and the build through which every
 * import and update writes a new version of it atomically.
 *
 * Why a copy-and-rename build rather than writing in place: a scan must
 * never see half an update, and an update that fails (a truncated
 * download, a hostile feed) must leave yesterday's database exactly as it
 * was.  SQLite's own transaction would give the first, but not "a feed
 * three sources in fails the whole update" across several sources nor the
 * byte-identical old file; the rename gives both, and lets the build run
 * with journalling and syncs off (the fsync before the rename is the one
 * that matters), which is what makes thousands of advisories a second
 * possible.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"
#include "vuln/vuln_int.h"

char *mm_vulndb_default_path(void)
{
    return mm_cache_path("vuln.db");
}

/* --- reading --------------------------------------------------------------- */

static char *meta_get(sqlite3 *db, const char *key)
{
    sqlite3_stmt *st = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key=?1", -1, &st,
                           NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        v = mm_xstrdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return v;
}

static int user_version(sqlite3 *db, int *out)
{
    sqlite3_stmt *st = NULL;
    *out = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int mm_vulndb_open(mm_vulndb **out, const char *path)
{
    *out = NULL;
    if (!path)
        return mm_error_set(MM_EINVAL, "no vulnerability database path");
    struct stat sb;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT)
            return mm_error_set(MM_ENOTFOUND, "%s: no vulnerability database "
                                "(run `mamori db update` or `mamori db import`)",
                                path);
        return mm_error_set(MM_EIO, "%s: %s", path, strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        return mm_error_set(MM_EINVAL, "%s: not a regular file", path);
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        int rc = mm_error_set(MM_EDB, "%s: %s", path,
                              db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return rc;
    }
    sqlite3_busy_timeout(db, 5000);
    int ver;
    if (user_version(db, &ver) != 0) {
        int rc = mm_error_set(MM_EDB, "%s: not a vulnerability database: %s",
                              path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return rc;
    }
    if (ver != MM_VULNDB_SCHEMA_VERSION) {
        sqlite3_close(db);
        return mm_error_set(ver > MM_VULNDB_SCHEMA_VERSION ? MM_EUNSUPPORTED : MM_EDB,
                            "%s: vulnerability database schema %d, this mamori "
                            "reads %d", path, ver, MM_VULNDB_SCHEMA_VERSION);
    }
    mm_vulndb *v = mm_xcalloc(1, sizeof *v);
    v->db = db;
    v->path = mm_xstrdup(path);
    v->version = meta_get(db, "db_version");
    char *b = meta_get(db, "built_at");
    v->built_at = b ? strtoll(b, NULL, 10) : 0;
    free(b);
    if (!v->version)
        v->version = mm_xstrdup("0");
    *out = v;
    return 0;
}

void mm_vulndb_close(mm_vulndb *db)
{
    if (!db)
        return;
    sqlite3_close(db->db);
    free(db->path);
    free(db->version);
    free(db);
}

const char *mm_vulndb_version(mm_vulndb *db)
{
    return db ? db->version : NULL;
}

int64_t mm_vulndb_built_at(mm_vulndb *db)
{
    return db ? db->built_at : 0;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? mm_xstrdup((const char *)t) : NULL;
}

static uint64_t count_rows(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    uint64_t n = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

int mm_vulndb_info_get(mm_vulndb *db, mm_vulndb_info **out)
{
    *out = NULL;
    if (!db)
        return mm_error_set(MM_EINVAL, "no database");
    mm_vulndb_info *in = mm_xcalloc(1, sizeof *in);
    in->path = mm_xstrdup(db->path);
    in->db_version = mm_xstrdup(db->version);
    in->schema_version = MM_VULNDB_SCHEMA_VERSION;
    in->built_at = db->built_at;
    in->advisories = count_rows(db->db, "SELECT count(*) FROM advisories");
    in->affected = count_rows(db->db, "SELECT count(*) FROM affected");

    sqlite3_stmt *st = NULL;
    int rc;
    if (sqlite3_prepare_v2(db->db, "SELECT name, kind, location, updated_at, "
                           "records, etag, last_modified FROM sources ORDER BY name",
                           -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (in->nsources == cap) {
            cap = cap ? cap * 2 : 8;
            in->sources = mm_xrealloc(in->sources, cap * sizeof *in->sources);
        }
        mm_vulndb_source_info *s = &in->sources[in->nsources++];
        memset(s, 0, sizeof *s);
        s->name = col_dup(st, 0);
        s->kind = col_dup(st, 1);
        s->location = col_dup(st, 2);
        s->updated_at = sqlite3_column_int64(st, 3);
        s->records = (uint64_t)sqlite3_column_int64(st, 4);
        s->etag = col_dup(st, 5);
        s->last_modified = col_dup(st, 6);
    }
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE)
        goto dberr;
    /* DISTINCT over the (ecosystem, package) index: no table scan */
    if (sqlite3_prepare_v2(db->db, "SELECT DISTINCT ecosystem FROM affected "
                           "ORDER BY ecosystem", -1, &st, NULL) != SQLITE_OK)
        goto dberr;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        mm_strv_push(&in->ecosystems, &in->necosystems,
                     (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    st = NULL;
    if (rc != SQLITE_DONE)
        goto dberr;
    *out = in;
    return 0;
dberr:
    rc = mm_error_set(MM_EDB, "%s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_finalize(st);
    mm_vulndb_info_free(in);
    return rc;
}

void mm_vulndb_info_free(mm_vulndb_info *info)
{
    if (!info)
        return;
    free(info->path);
    free(info->db_version);
    for (size_t i = 0; i < info->nsources; i++) {
        mm_vulndb_source_info *s = &info->sources[i];
        free(s->name);
        free(s->kind);
        free(s->location);
        free(s->etag);
        free(s->last_modified);
    }
    free(info->sources);
    mm_strv_free(info->ecosystems, info->necosystems);
    free(info);
}

/* --- building -------------------------------------------------------------- */

struct mm_vulndb_build {
    sqlite3 *db;
    char *path, *tmp;
    mm_warn_fn warn;
    void *warn_ud;
    sqlite3_stmt *upsert, *del_eco, *ins_aff;
    mm_map *touched;        /* "id\x1f" "ecosystem" seen in this build */
    char *source;
    mm_import_stats st;
    double t0;
    int64_t old_built_at;
    char *old_version;
};

static int bdb_err(mm_vulndb_build *b, const char *what)
{
    return mm_error_set(MM_EDB, "%s: %s: %s", b->path, what,
                        b->db ? sqlite3_errmsg(b->db) : "no database");
}


static void build_free(mm_vulndb_build *b)
{
    sqlite3_finalize(b->upsert);
    sqlite3_finalize(b->del_eco);
    sqlite3_finalize(b->ins_aff);
    if (b->db)
        sqlite3_close(b->db);
    mm_map_free(b->touched, NULL);
    free(b->source);
    free(b->path);
    free(b->tmp);
    free(b->old_version);
    free(b);
}

void mm_vulndb_build_abort(mm_vulndb_build *b)
{
    if (!b)
        return;
    char *tmp = b->tmp;
    b->tmp = NULL;
    build_free(b);
    if (tmp) {
        mm_tmpfile_release(tmp, true);
        free(tmp);
    }
}

/* Copies the live database into the build with the backup API: a
 * consistent snapshot even while a scan reads it. */
static int copy_existing(mm_vulndb_build *b)
{
    sqlite3 *src = NULL;
    int rc = 0;
    if (sqlite3_open_v2(b->path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = mm_error_set(MM_EDB, "%s: %s", b->path,
                          src ? sqlite3_errmsg(src) : "cannot open");
        goto out;
    }
    sqlite3_busy_timeout(src, 5000);
    int ver;
    if (user_version(src, &ver) != 0) {
        rc = mm_error_set(MM_EDB, "%s: not a vulnerability database: %s", b->path,
                          sqlite3_errmsg(src));
        goto out;
    }
    if (ver != MM_VULNDB_SCHEMA_VERSION) {
        /* never overwrite what a newer mamori wrote, nor a stranger's file */
        rc = mm_error_set(MM_EUNSUPPORTED, "%s: vulnerability database schema %d, "
                          "this mamori writes %d; remove it to rebuild", b->path,
                          ver, MM_VULNDB_SCHEMA_VERSION);
        goto out;
    }
    sqlite3_backup *bk = sqlite3_backup_init(b->db, "main", src, "main");
    if (!bk) {
        rc = bdb_err(b, "copying the database");
        goto out;
    }
    int s = sqlite3_backup_step(bk, -1);
    sqlite3_backup_finish(bk);
    if (s != SQLITE_DONE) {
        rc = mm_error_set(MM_EDB, "%s: copying the database: %s", b->path,
                          sqlite3_errstr(s));
        goto out;
    }
    b->old_version = meta_get(src, "db_version");
    char *ba = meta_get(src, "built_at");
    b->old_built_at = ba ? strtoll(ba, NULL, 10) : 0;
    free(ba);
out:
    sqlite3_close(src);
    return rc;
}

int mm_vulndb_build_begin(mm_vulndb_build **out, const char *db_path,
                          mm_warn_fn warn, void *warn_ud)
{
    *out = NULL;
    if (!db_path || !*db_path)
        return mm_error_set(MM_EINVAL, "no vulnerability database path");
    int rc = mm_mkdir_parents(db_path, 0700);
    if (rc)
        return rc;
    mm_vulndb_build *b = mm_xcalloc(1, sizeof *b);
    b->path = mm_xstrdup(db_path);
    b->warn = warn;
    b->warn_ud = warn_ud;
    b->touched = mm_map_new();
    b->t0 = mm_now();
    /* "<db>.build-XXXXXX", locked while this process lives: an interrupted
     * import's file is removed by the next one (util/tmp.c) */
    char *prefix = mm_xasprintf("%s.build-", db_path);
    rc = mm_tmpfile_create(&b->tmp, prefix);
    free(prefix);
    if (rc) {
        rc = mm_error_wrap(MM_EIO, "%s: cannot create a temp file beside it: ", db_path);
        goto fail;
    }
    if (sqlite3_open_v2(b->tmp, &b->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        rc = bdb_err(b, "creating the new database");
        goto fail;
    }
    /* the temp file is thrown away on any failure, so neither a journal
     * nor syncs buy anything until the final fsync */
    if (sqlite3_exec(b->db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
                     "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = bdb_err(b, "configuring the new database");
        goto fail;
    }
    struct stat sb;
    bool existing = stat(db_path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0;
    if (existing) {
        if ((rc = copy_existing(b)))
            goto fail;
    } else if (sqlite3_exec(b->db, "BEGIN;" MM_VULNDB_SCHEMA_SQL "COMMIT;", NULL, NULL,
                            NULL) != SQLITE_OK) {
        rc = bdb_err(b, "creating the schema");
        goto fail;
    }
    if (sqlite3_exec(b->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        rc = bdb_err(b, "starting the build");
        goto fail;
    }
    if (sqlite3_prepare_v3(b->db,
            "INSERT INTO advisories(advisory, aliases, summary, details, severity,"
            " cvss_vector, cvss_score, published, modified, refs, source)"
            " VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
            " ON CONFLICT(advisory) DO UPDATE SET"
            " aliases=coalesce(excluded.aliases, aliases),"
            " summary=coalesce(excluded.summary, summary),"
            " details=coalesce(excluded.details, details),"
            " severity=coalesce(excluded.severity, severity),"
            " cvss_vector=coalesce(excluded.cvss_vector, cvss_vector),"
            " cvss_score=coalesce(excluded.cvss_score, cvss_score),"
            " published=coalesce(excluded.published, published),"
            " modified=coalesce(excluded.modified, modified),"
            " refs=coalesce(excluded.refs, refs),"
            " source=excluded.source"
            " RETURNING id", -1, SQLITE_PREPARE_PERSISTENT, &b->upsert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(b->db, "DELETE FROM affected WHERE advisory_id=?1 AND "
                           "ecosystem=?2", -1, SQLITE_PREPARE_PERSISTENT,
                           &b->del_eco, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(b->db, "INSERT INTO affected(advisory_id, ecosystem, "
                           "package, ranges, versions, fixed, severity, source) "
                           "VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", -1,
                           SQLITE_PREPARE_PERSISTENT, &b->ins_aff, NULL) != SQLITE_OK) {
        rc = bdb_err(b, "preparing statements");
        goto fail;
    }
    *out = b;
    return 0;
fail:
    mm_vulndb_build_abort(b);
    return rc;
}

void mm_vulndb_build_use_source(mm_vulndb_build *b, const char *source)
{
    free(b->source);
    b->source = mm_xstrdup(source);
}

void mm_vulndb_build_count_file(mm_vulndb_build *b)
{
    b->st.files++;
}

const mm_import_stats *mm_vulndb_build_stats(const mm_vulndb_build *b)
{
    return &b->st;
}

void mm_vulndb_build_skip(mm_vulndb_build *b, const char *fmt, ...)
{
    b->st.skipped++;
    if (!b->warn)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    b->warn(b->warn_ud, m);
    free(m);
}

static void bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

int mm_vulndb_build_put(mm_vulndb_build *b, const char *label, const mm_vadv *a,
                        const mm_vaff *aff, size_t naff)
{
    sqlite3_stmt *st = b->upsert;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
    bind_opt(st, 2, a->aliases_json);
    bind_opt(st, 3, a->summary);
    bind_opt(st, 4, a->details);
    bind_opt(st, 5, a->severity);
    bind_opt(st, 6, a->cvss_vector);
    if (a->cvss_score >= 0)
        sqlite3_bind_double(st, 7, a->cvss_score);
    else
        sqlite3_bind_null(st, 7);
    bind_opt(st, 8, a->published);
    bind_opt(st, 9, a->modified);
    bind_opt(st, 10, a->refs_json);
    bind_opt(st, 11, b->source);
    if (sqlite3_step(st) != SQLITE_ROW)
        goto dberr;
    sqlite3_int64 rowid = sqlite3_column_int64(st, 0);
    if (sqlite3_step(st) != SQLITE_DONE)
        goto dberr;
    sqlite3_reset(st);

    mm_buf key = MM_BUF_INIT;
    for (size_t i = 0; i < naff; i++) {
        mm_buf_clear(&key);
        mm_buf_printf(&key, "%s\x1f%s", a->id, aff[i].ecosystem);
        if (!mm_map_get(b->touched, key.data)) {
            mm_map_put(b->touched, key.data, (void *)1);
            sqlite3_reset(b->del_eco);
            sqlite3_bind_int64(b->del_eco, 1, rowid);
            sqlite3_bind_text(b->del_eco, 2, aff[i].ecosystem, -1, SQLITE_STATIC);
            if (sqlite3_step(b->del_eco) != SQLITE_DONE) {
                mm_buf_free(&key);
                goto dberr;
            }
        }
        sqlite3_stmt *ia = b->ins_aff;
        sqlite3_reset(ia);
        sqlite3_bind_int64(ia, 1, rowid);
        sqlite3_bind_text(ia, 2, aff[i].ecosystem, -1, SQLITE_STATIC);
        sqlite3_bind_text(ia, 3, aff[i].package, -1, SQLITE_STATIC);
        bind_opt(ia, 4, aff[i].ranges_json);
        bind_opt(ia, 5, aff[i].versions_json);
        bind_opt(ia, 6, aff[i].fixed);
        bind_opt(ia, 7, aff[i].severity);
        bind_opt(ia, 8, b->source);
        if (sqlite3_step(ia) != SQLITE_DONE) {
            mm_buf_free(&key);
            goto dberr;
        }
        b->st.affected++;
    }
    mm_buf_free(&key);
    b->st.advisories++;
    return 0;
dberr:;
    int rc = mm_error_set(MM_EDB, "%s: record %s: storing: %s", label, a->id,
                          sqlite3_errmsg(b->db));
    sqlite3_reset(st);
    return rc;
}

int mm_vulndb_build_drop_source(mm_vulndb_build *b, const char *source)
{
    sqlite3_stmt *st = NULL;
    static const char *const sql[] = {
        "DELETE FROM affected WHERE source=?1",
        "DELETE FROM sources WHERE name=?1",
    };
    for (size_t i = 0; i < 2; i++) {
        if (sqlite3_prepare_v2(b->db, sql[i], -1, &st, NULL) != SQLITE_OK)
            return bdb_err(b, "dropping a source");
        sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return bdb_err(b, "dropping a source");
    }
    /* advisories no source vouches for any more */
    if (sqlite3_exec(b->db, "DELETE FROM advisories WHERE NOT EXISTS (SELECT 1 "
                     "FROM affected WHERE advisory_id = advisories.id)", NULL, NULL,
                     NULL) != SQLITE_OK)
        return bdb_err(b, "dropping a source");
    return 0;
}

int mm_vulndb_build_set_source(mm_vulndb_build *b, const mm_vulndb_source_info *s,
                               const char *sha256)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(b->db, "INSERT OR REPLACE INTO sources(name, kind, "
                           "location, updated_at, records, etag, last_modified, "
                           "sha256) VALUES(?1,?2,?3,?4,?5,?6,?7,?8)", -1, &st,
                           NULL) != SQLITE_OK)
        return bdb_err(b, "recording a source");
    bind_opt(st, 1, s->name);
    bind_opt(st, 2, s->kind);
    bind_opt(st, 3, s->location);
    sqlite3_bind_int64(st, 4, s->updated_at);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)s->records);
    bind_opt(st, 6, s->etag);
    bind_opt(st, 7, s->last_modified);
    bind_opt(st, 8, sha256);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : bdb_err(b, "recording a source");
}

static int fsync_path(const char *path, bool dir)
{
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

int mm_vulndb_build_commit(mm_vulndb_build *b)
{
    int rc = 0;
    int64_t now = (int64_t)time(NULL);
    char built[32], version[64];
    snprintf(built, sizeof built, "%" PRId64, now);
    /* the version must change with every build, even two in one second */
    snprintf(version, sizeof version, "%d.%" PRId64, MM_VULNDB_SCHEMA_VERSION, now);
    if (b->old_version && mm_str_startswith(b->old_version, version)) {
        const char *rest = b->old_version + strlen(version);
        long n = *rest == '.' ? strtol(rest + 1, NULL, 10) : 1;
        snprintf(version, sizeof version, "%d.%" PRId64 ".%ld",
                 MM_VULNDB_SCHEMA_VERSION, now, n + 1);
    }
    sqlite3_stmt *st = NULL;
    const char *kv[][2] = {{"schema", "1"}, {"built_at", built}, {"db_version", version}};
    if (sqlite3_prepare_v2(b->db, "INSERT OR REPLACE INTO meta(key, value) "
                           "VALUES(?1, ?2)", -1, &st, NULL) != SQLITE_OK) {
        rc = bdb_err(b, "writing meta");
        goto fail;
    }
    for (size_t i = 0; i < 3; i++) {
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, kv[i][0], -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, kv[i][1], -1, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            rc = bdb_err(b, "writing meta");
            goto fail;
        }
    }
    sqlite3_finalize(st);
    if (sqlite3_exec(b->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        rc = bdb_err(b, "committing");
        goto fail;
    }
    sqlite3_finalize(b->upsert);
    sqlite3_finalize(b->del_eco);
    sqlite3_finalize(b->ins_aff);
    b->upsert = b->del_eco = b->ins_aff = NULL;
    if (sqlite3_close(b->db) != SQLITE_OK) {
        rc = bdb_err(b, "closing");
        goto fail;
    }
    b->db = NULL;
    if (fsync_path(b->tmp, false) != 0) {
        rc = mm_error_set(MM_EIO, "%s: fsync: %s", b->tmp, strerror(errno));
        goto fail;
    }
    chmod(b->tmp, 0644);
    if (rename(b->tmp, b->path) != 0) {
        rc = mm_error_set(MM_EIO, "%s: cannot replace: %s", b->path, strerror(errno));
        goto fail;
    }
    mm_tmpfile_release(b->tmp, false);   /* it is the database now */
    free(b->tmp);
    b->tmp = NULL;
    /* the rename itself must survive a crash */
    char *dir = mm_xstrdup(b->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *(slash == dir ? slash + 1 : slash) = 0;
    fsync_path(slash ? dir : ".", true);
    free(dir);
    b->st.seconds = mm_now() - b->t0;
    build_free(b);
    return 0;
fail:
    mm_vulndb_build_abort(b);
    return rc;
}
