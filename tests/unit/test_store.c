/*
 * test_store.c - the SQLite scan store: the default path's precedence,
 * creating the folder, recording scans and reading back the newest,
 * reopening (the schema is not re-created), and refusing files that are
 * not a mamori store (garbage, a newer schema) with MM_EDB, not a crash.
 */
#include <errno.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sqlite3.h>

#include "mmtest.h"
#include "mamori/mamori.h"

static bool put(const char *root, const char *rel, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) != 0 && errno != EEXIST)
                return false;
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

static mm_result *scan_fixture(const char *root)
{
    if (!put(root, "etc/os-release",
             "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
             "VERSION_ID=\"12\"\n") ||
        !put(root, "var/lib/dpkg/status",
             "Package: zlib1g\nStatus: install ok installed\n"
             "Architecture: amd64\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n"
             "Description: compression library - runtime\n\n"
             "Package: dash\nStatus: install ok installed\n"
             "Architecture: amd64\nVersion: 0.5.12-2\n"
             "Description: POSIX-compliant shell\n"))
        return NULL;
    mm_scan_opts so;
    mm_scan_opts_init(&so);
    mm_result *r = NULL;
    if (mm_scan(&r, MM_TARGET_ROOTFS, root, &so) != 0) {
        fprintf(stderr, "scan of %s: %s\n", root, mm_error_last());
        return NULL;
    }
    return r;
}

MM_TEST(default_path)
{
    setenv("MAMORI_CACHE_DIR", "/c/m", 1);
    setenv("XDG_CACHE_HOME", "/x", 1);
    setenv("HOME", "/h", 1);
    char *p = mm_store_default_path();
    CHECK_STR(p, "/c/m/mamori.db");
    free(p);
    unsetenv("MAMORI_CACHE_DIR");
    p = mm_store_default_path();
    CHECK_STR(p, "/x/mamori/mamori.db");
    free(p);
    unsetenv("XDG_CACHE_HOME");
    p = mm_store_default_path();
    CHECK_STR(p, "/h/.cache/mamori/mamori.db");
    free(p);
}

MM_TEST(put_get_reopen)
{
    const char *t = mmt_tmpdir();
    REQUIRE(t);
    char tmp[1024], root[2048], db[4096], dir[2048];
    snprintf(tmp, sizeof tmp, "%.1000s", t);
    snprintf(root, sizeof root, "%s/rootfs", tmp);
    snprintf(dir, sizeof dir, "%s/cache/deeper", tmp);
    snprintf(db, sizeof db, "%s/mamori.db", dir);
    REQUIRE(mkdir(root, 0755) == 0);
    mm_result *r = scan_fixture(root);
    REQUIRE(r);
    const char *key = mm_result_key(r);
    REQUIRE(key);

    mm_store *s = NULL;
    CHECK_OK(mm_store_open(&s, db));
    REQUIRE(s);
    struct stat st;
    REQUIRE(stat(dir, &st) == 0);
    CHECK_INT(st.st_mode & 0777, 0700); /* created private */

    mm_scan_record *rec = NULL;
    CHECK(mm_store_get_latest(s, key, &rec) == MM_ENOTFOUND);
    CHECK(rec == NULL);

    CHECK_OK(mm_store_put_scan(s, r, "vulndb-1"));
    CHECK_OK(mm_store_put_scan(s, r, NULL));   /* same second: id decides */
    CHECK_OK(mm_store_get_latest(s, key, &rec));
    REQUIRE(rec);
    CHECK_STR(rec->key, key);
    CHECK_STR(rec->target, root);
    CHECK(rec->db_version == NULL);
    CHECK_INT(rec->id, 2);
    CHECK_INT(rec->npackages, 2);
    CHECK_INT(rec->nfindings, 0);
    CHECK_INT(rec->scanned_at, mm_result_started(r));
    REQUIRE(rec->report_json);
    json_error_t err;
    json_t *doc = json_loads(rec->report_json, 0, &err);
    REQUIRE(doc);
    CHECK_INT(json_integer_value(json_object_get(doc, "schemaVersion")), 1);
    CHECK_INT(json_array_size(json_object_get(doc, "packages")), 2);
    json_decref(doc);
    mm_scan_record_free(rec);
    rec = NULL;
    CHECK(mm_store_get_latest(s, "sha256:nothing", &rec) == MM_ENOTFOUND);
    mm_store_close(s);

    /* Reopening keeps the rows and the schema version. */
    s = NULL;
    CHECK_OK(mm_store_open(&s, db));
    REQUIRE(s);
    CHECK_OK(mm_store_put_scan(s, r, "vulndb-3"));
    CHECK_OK(mm_store_get_latest(s, key, &rec));
    REQUIRE(rec);
    CHECK_INT(rec->id, 3);
    CHECK_STR(rec->db_version, "vulndb-3");
    mm_scan_record_free(rec);
    mm_store_close(s);

    sqlite3 *raw = NULL;
    REQUIRE(sqlite3_open(db, &raw) == SQLITE_OK);
    sqlite3_stmt *q = NULL;
    REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    REQUIRE(sqlite3_prepare_v2(raw, "SELECT count(*) FROM scans", -1, &q, NULL) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 3);
    sqlite3_finalize(q);
    sqlite3_close(raw);

    mm_store_close(NULL);
    mm_scan_record_free(NULL);
    mm_result_free(r);
}

MM_TEST(corrupt_file)
{
    const char *t = mmt_tmpdir();
    REQUIRE(t);
    char db[4096];
    snprintf(db, sizeof db, "%s/mamori.db", t);
    FILE *f = fopen(db, "w");
    REQUIRE(f);
    for (int i = 0; i < 8192; i++)
        fputc((i * 7919) & 0xff, f);
    fclose(f);
    mm_store *s = NULL;
    CHECK(mm_store_open(&s, db) == MM_EDB);
    CHECK(s == NULL);
    CHECK(strstr(mm_error_last(), db) != NULL);

    /* A real SQLite header with garbage pages after it. */
    f = fopen(db, "w");
    REQUIRE(f);
    fwrite("SQLite format 3", 1, 16, f);
    for (int i = 16; i < 8192; i++)
        fputc((i * 31) & 0xff, f);
    fclose(f);
    CHECK(mm_store_open(&s, db) == MM_EDB);
    CHECK(s == NULL);
}

MM_TEST(newer_schema_refused)
{
    const char *t = mmt_tmpdir();
    REQUIRE(t);
    char db[4096];
    snprintf(db, sizeof db, "%s/mamori.db", t);
    sqlite3 *raw = NULL;
    REQUIRE(sqlite3_open(db, &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    mm_store *s = NULL;
    CHECK(mm_store_open(&s, db) == MM_EDB);
    CHECK(strstr(mm_error_last(), "99") != NULL);
    CHECK(s == NULL);
}

MM_TEST(unwritable_folder)
{
    if (geteuid() == 0)
        MMT_SKIP("running as root: permissions do not apply");
    const char *t = mmt_tmpdir();
    REQUIRE(t);
    char dir[2048], db[4096];
    snprintf(dir, sizeof dir, "%.2000s/ro", t);
    REQUIRE(mkdir(dir, 0500) == 0);
    snprintf(db, sizeof db, "%s/sub/mamori.db", dir);
    mm_store *s = NULL;
    CHECK(mm_store_open(&s, db) == MM_EDB);
    CHECK(s == NULL);
}

MM_TEST_MAIN
