/*
 * test_vulndb.c - the vulnerability database and its feed importers against
 * the real feeds in ../shared/vulndata (the Go vulndb all.zip, the PyPA
 * advisory database, Alpine secdb) and a Debian-tracker fixture written
 * from published facts: counts, exact records, `db info`, re-import
 * replacing rather than duplicating, and hostile feeds failing with the
 * file and record named while the existing database stays byte-identical.
 */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <time.h>

#include "mamori/vuln.h"
#include "mmtest.h"
#include "util/util.h"
#include "vuln/vuln_int.h"

#define fabs(x) ((x) < 0 ? -(x) : (x))

/* --- helpers ------------------------------------------------------------------ */

static char *q1(const char *dbpath, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *out = NULL;
    if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    else if (db && sqlite3_errcode(db) != SQLITE_OK && sqlite3_errcode(db) != SQLITE_ROW &&
             sqlite3_errcode(db) != SQLITE_DONE)
        fprintf(stderr, "sql: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

static long long qn(const char *dbpath, const char *sql)
{
    char *s = q1(dbpath, sql);
    long long n = s ? atoll(s) : -1;
    free(s);
    return n;
}

#define CHECK_Q(db, sql, want) do { char *_v = q1(db, sql); CHECK_STR(_v, want); \
        free(_v); } while (0)

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    fwrite(data, 1, len, f);
    fclose(f);
}

static void file_digest(const char *path, char out[72])
{
    size_t len = 0;
    char *d = mmt_read(path, &len);
    if (!d) {
        strcpy(out, "absent");
        return;
    }
    mm_sha256_hex(d, len, out);
    free(d);
}

typedef struct warns {
    int n;
    char last[512];
} warns;

static void on_warn(void *ud, const char *msg)
{
    warns *w = ud;
    w->n++;
    snprintf(w->last, sizeof w->last, "%s", msg);
}

/* No "<db>.build-*" temp file left beside the database. */
static int leftovers(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strstr(e->d_name, ".build-"))
            n++;
    if (d)
        closedir(d);
    return n;
}

/* --- CVSS ------------------------------------------------------------------------ */

MM_TEST(cvss3_base_scores)
{
    /* values from the FIRST calculator / NVD for these vectors */
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") - 9.8) < 1e-9);
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H") - 7.5) < 1e-9);
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N") - 6.1) < 1e-9);
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H") - 7.8) < 1e-9);
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H") - 9.9) < 1e-9);
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N") - 5.3) < 1e-9);
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N") - 1.6) < 1e-9);
    /* temporal metrics do not change the base */
    CHECK(fabs(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O") - 9.8) < 1e-9);
    CHECK(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N") == 0);
    CHECK(mm_cvss3_base_score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H") < 0);
    CHECK(mm_cvss3_base_score("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H") < 0);
    CHECK(mm_cvss3_base_score("AV:N/AC:L/Au:N/C:P/I:P/A:P") < 0);
    CHECK(mm_cvss3_base_score("") < 0);
    CHECK_STR(mm_cvss_severity(9.8), "CRITICAL");
    CHECK_STR(mm_cvss_severity(7.0), "HIGH");
    CHECK_STR(mm_cvss_severity(4.0), "MEDIUM");
    CHECK_STR(mm_cvss_severity(0.1), "LOW");
    CHECK(mm_cvss_severity(0) == NULL);
}

/* --- the real feeds ---------------------------------------------------------------- */

MM_TEST(import_go_and_pypa)
{
    char gozip[4096], pypa[4096];
    const char *p = mmt_shared("../vulndata/osv-go/all.zip");
    if (!p)
        MMT_SKIP("../shared/vulndata/osv-go/all.zip absent");
    snprintf(gozip, sizeof gozip, "%s", p);
    if (!(p = mmt_shared("../vulndata/pypa")))
        MMT_SKIP("../shared/vulndata/pypa absent");
    snprintf(pypa, sizeof pypa, "%s", p);
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char db[4096];
    snprintf(db, sizeof db, "%s/cache/vuln.db", dir);

    const char *paths[] = {gozip, pypa};
    mm_import_stats st;
    warns w = {0};
    clock_t c0 = clock();
    CHECK_OK(mm_vulndb_import(db, paths, 2, &st, on_warn, &w));
    double cpu = (double)(clock() - c0) / CLOCKS_PER_SEC;
    /* wall time depends on the machine's load; CPU time says what the
     * importer costs (sanitizer builds are several times slower) */
    printf("# import of the Go and PyPA feeds: %llu advisories in %.3f s wall = "
           "%.0f advisories/s; %.3f s CPU = %.0f advisories/s (%llu affected "
           "rows, %llu files)\n",
           (unsigned long long)st.advisories, st.seconds,
           st.seconds > 0 ? (double)st.advisories / st.seconds : 0.0, cpu,
           cpu > 0 ? (double)st.advisories / cpu : 0.0,
           (unsigned long long)st.affected, (unsigned long long)st.files);
    /* 4,291 Go records of which 17 are withdrawn; 2,661 PyPA records of
     * which 10 are withdrawn */
    CHECK_INT(st.advisories, 4274 + 2651);
    CHECK_INT(st.skipped, 17 + 10);
    CHECK_INT(w.n, 27);
    CHECK(strstr(w.last, "withdrawn") != NULL);
    CHECK_INT(st.files, 4291 + 2661);
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories"), 4274 + 2651);
    CHECK_INT(qn(db, "SELECT count(*) FROM affected"), st.affected);
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories WHERE advisory LIKE 'GO-%'"), 4274);
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories WHERE advisory LIKE 'PYSEC-%'"), 2651);
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories WHERE advisory='GO-2024-2730'"), 0);

    /* an exact Go record: the runtime setuid advisory */
    CHECK_Q(db, "SELECT f.package || '|' || f.ecosystem || '|' || f.fixed || '|' || "
                "f.ranges FROM affected f JOIN advisories a ON a.id=f.advisory_id "
                "WHERE a.advisory='GO-2023-1840'",
            "stdlib|Go|1.19.10|[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"},"
            "{\"fixed\":\"1.19.10\"},{\"introduced\":\"1.20.0-0\"},{\"fixed\":\"1.20.5\"}]}]");
    CHECK_Q(db, "SELECT aliases || '|' || summary || '|' || modified FROM advisories "
                "WHERE advisory='GO-2023-1840'",
            "[\"CVE-2023-29403\"]|Unsafe behavior in setuid/setgid binaries in "
            "runtime|0001-01-01T00:00:00Z");
    CHECK_Q(db, "SELECT refs FROM advisories WHERE advisory='GO-2023-1840'",
            "[\"https://go.dev/issue/60272\",\"https://go.dev/cl/501223\","
            "\"https://groups.google.com/g/golang-announce/c/q5135a9d924/m/j0ZoAJOHAwAJ\"]");
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories WHERE advisory LIKE 'GO-%' AND "
                     "severity IS NOT NULL"), 0);

    /* PyPA: the lowest fixed version by PEP 440 order, not feed order */
    CHECK_Q(db, "SELECT f.package || '|' || f.fixed FROM affected f JOIN advisories a "
                "ON a.id=f.advisory_id WHERE a.advisory='PYSEC-2023-100'",
            "django|3.2.20");
    CHECK_Q(db, "SELECT versions FROM affected f JOIN advisories a ON "
                "a.id=f.advisory_id WHERE a.advisory='PYSEC-2021-335'",
            "[\"4.0\",\"4.1\",\"4.2\",\"5.0\",\"5.1\"]");
    CHECK_Q(db, "SELECT f.fixed FROM affected f JOIN advisories a ON "
                "a.id=f.advisory_id WHERE a.advisory='PYSEC-2021-335'", "4.3");
    /* severity from the CVSS vector: 7.5 -> HIGH */
    CHECK_Q(db, "SELECT cvss_vector || '|' || cvss_score || '|' || severity FROM "
                "advisories WHERE advisory='PYSEC-2023-221'",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H|7.5|HIGH");
    /* every PyPI package name is PEP 503-normalised */
    CHECK_INT(qn(db, "SELECT count(*) FROM affected WHERE ecosystem='PyPI' AND "
                     "(package GLOB '*[A-Z_.]*' OR package GLOB '*--*')"), 0);

    /* db info */
    mm_vulndb *v = NULL;
    CHECK_OK(mm_vulndb_open(&v, db));
    REQUIRE(v);
    mm_vulndb_info *in = NULL;
    CHECK_OK(mm_vulndb_info_get(v, &in));
    REQUIRE(in);
    CHECK_INT(in->advisories, 4274 + 2651);
    CHECK_INT(in->affected, st.affected);
    CHECK_INT(in->schema_version, 1);
    CHECK(in->built_at > 1700000000);
    REQUIRE(in->nsources == 2);
    /* sorted by name: the zip path, then the folder */
    bool zip_first = strcmp(gozip, pypa) < 0;
    mm_vulndb_source_info *sz = &in->sources[zip_first ? 0 : 1];
    mm_vulndb_source_info *sp = &in->sources[zip_first ? 1 : 0];
    CHECK_STR(sz->name, gozip);
    CHECK_STR(sz->kind, "osv-zip");
    CHECK_INT(sz->records, 4274);
    CHECK_STR(sp->kind, "osv");
    CHECK_INT(sp->records, 2651);
    CHECK(sp->location && sp->location[0] == '/');
    REQUIRE(in->necosystems == 2);
    CHECK_STR(in->ecosystems[0], "Go");
    CHECK_STR(in->ecosystems[1], "PyPI");
    char *version1 = strdup(mm_vulndb_version(v));
    mm_vulndb_info_free(in);
    mm_vulndb_close(v);

    /* re-import: the same rows, not twice as many; a new version */
    long long naff = qn(db, "SELECT count(*) FROM affected");
    CHECK_OK(mm_vulndb_import(db, paths, 2, &st, NULL, NULL));
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories"), 4274 + 2651);
    CHECK_INT(qn(db, "SELECT count(*) FROM affected"), naff);
    CHECK_INT(qn(db, "SELECT count(*) FROM sources"), 2);
    CHECK_OK(mm_vulndb_open(&v, db));
    REQUIRE(v);
    CHECK(strcmp(mm_vulndb_version(v), version1) != 0);
    mm_vulndb_close(v);
    free(version1);
    CHECK_INT(leftovers(dir), 0);
}

MM_TEST(import_alpine_secdb)
{
    const char *p = mmt_shared("../vulndata/alpine-secdb");
    if (!p)
        MMT_SKIP("../shared/vulndata/alpine-secdb absent");
    char secdb[4096];
    snprintf(secdb, sizeof secdb, "%s", p);
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char db[4096];
    snprintf(db, sizeof db, "%s/vuln.db", dir);
    const char *paths[] = {secdb};
    mm_import_stats st;
    CHECK_OK(mm_vulndb_import(db, paths, 1, &st, NULL, NULL));
    /* 18 files (v3.3..v3.11, main and community), 12,023 (CVE, package,
     * release) facts; a fixed version "0" means never affected */
    CHECK_INT(st.files, 18);
    CHECK_INT(st.affected, 12023);
    CHECK_INT(st.skipped, 0);
    CHECK_INT(qn(db, "SELECT count(*) FROM affected"), 12023);
    CHECK_Q(db, "SELECT f.fixed || '|' || f.ranges FROM affected f JOIN advisories a "
                "ON a.id=f.advisory_id WHERE a.advisory='CVE-2019-10206' AND "
                "f.ecosystem='Alpine:v3.10' AND f.package='ansible'",
            "2.8.4-r0|[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
            "{\"fixed\":\"2.8.4-r0\"}]}]");
    /* "CVE-2019-5060 TALOS-2019-0844": the id, and the other word an alias */
    CHECK_Q(db, "SELECT aliases FROM advisories WHERE advisory='CVE-2019-5060'",
            "[\"TALOS-2019-0844\"]");
    CHECK_INT(qn(db, "SELECT count(DISTINCT ecosystem) FROM affected"), 9);
    CHECK_Q(db, "SELECT kind FROM sources", "alpine-secdb");
}

/* --- Debian tracker ------------------------------------------------------------- */

MM_TEST(import_debian_tracker)
{
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char db[4096], fx[4096];
    snprintf(db, sizeof db, "%s/vuln.db", dir);
    snprintf(fx, sizeof fx, "%s", mmt_fixture("vuln/debian-tracker-bookworm.json"));
    const char *paths[] = {fx};
    mm_import_stats st;
    CHECK_OK(mm_vulndb_import(db, paths, 1, &st, NULL, NULL));
    /* xz-utils is only affected in sid; all six CVEs are stored */
    CHECK_INT(st.advisories, 6);
    CHECK_Q(db, "SELECT kind FROM sources", "debian-tracker");
    CHECK_Q(db, "SELECT f.fixed || '|' || f.severity FROM affected f JOIN advisories a "
                "ON a.id=f.advisory_id WHERE a.advisory='CVE-2023-4911' AND "
                "f.ecosystem='Debian:12' AND f.package='glibc'",
            "2.36-9+deb12u3|HIGH");
    CHECK_Q(db, "SELECT f.fixed FROM affected f JOIN advisories a ON "
                "a.id=f.advisory_id WHERE a.advisory='CVE-2024-6387' AND "
                "f.ecosystem='Debian:12'", "1:9.2p1-2+deb12u3");
    /* fixed_version "0": bullseye never shipped the vulnerable code */
    CHECK_INT(qn(db, "SELECT count(*) FROM affected f JOIN advisories a ON "
                     "a.id=f.advisory_id WHERE a.advisory='CVE-2024-6387' AND "
                     "f.ecosystem='Debian:11'"), 0);
    CHECK_INT(qn(db, "SELECT count(*) FROM affected WHERE package='xz-utils'"), 1);
    CHECK_Q(db, "SELECT ecosystem FROM affected WHERE package='xz-utils'", "Debian:sid");
    /* open: affected from 0 with no fix, urgency "unimportant" -> LOW */
    CHECK_Q(db, "SELECT coalesce(f.fixed, '-') || '|' || f.ranges || '|' || f.severity "
                "FROM affected f JOIN advisories a ON a.id=f.advisory_id WHERE "
                "a.advisory='CVE-2005-2541' AND f.ecosystem='Debian:12'",
            "-|[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]|LOW");
    CHECK_INT(qn(db, "SELECT count(*) FROM affected WHERE package='tar'"), 3);
    CHECK(qn(db, "SELECT count(*) FROM advisories WHERE advisory='CVE-2023-38545' AND "
                 "summary LIKE '%SOCKS5%'") == 1);
}

/* --- small OSV feeds: normalisation, skips, the build API --------------------------- */

static const char osv_small[] =
    "[{\"id\":\"UBUNTU-CVE-2024-0001\",\"modified\":\"2024-01-02T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Ubuntu:22.04:LTS\",\"name\":\"zlib\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},"
    "{\"fixed\":\"1:1.2.11.dfsg-2ubuntu9.2\"}]}],"
    "\"ecosystem_specific\":{\"severity\":\"medium\"}},"
    "{\"package\":{\"ecosystem\":\"Ubuntu:Pro:18.04:LTS\",\"name\":\"zlib\"},"
    "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"}]}]}]},"
    "{\"id\":\"GHSA-aaaa-bbbb-cccc\",\"modified\":\"2024-01-02T00:00:00Z\","
    "\"severity\":[{\"type\":\"CVSS_V3\",\"score\":\"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"}],"
    "\"database_specific\":{\"severity\":\"MODERATE\"},"
    "\"affected\":[{\"package\":{\"ecosystem\":\"PyPI\",\"name\":\"Foo_Bar.baz\"},"
    "\"versions\":[\"1.0\"]}]},"
    "{\"id\":\"HEX-2024-1\",\"modified\":\"2024-01-02T00:00:00Z\","
    "\"affected\":[{\"package\":{\"ecosystem\":\"Hex\",\"name\":\"plug\"}}]}]";

MM_TEST(osv_normalisation_and_skips)
{
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char db[4096], f[4096];
    snprintf(db, sizeof db, "%s/vuln.db", dir);
    snprintf(f, sizeof f, "%s/list.json", dir);
    write_file(f, osv_small, sizeof osv_small - 1);
    const char *paths[] = {f};
    mm_import_stats st;
    warns w = {0};
    CHECK_OK(mm_vulndb_import(db, paths, 1, &st, on_warn, &w));
    CHECK_INT(st.advisories, 2);
    CHECK_INT(st.skipped, 1);
    CHECK_INT(w.n, 1);
    CHECK(strstr(w.last, "HEX-2024-1") && strstr(w.last, "list.json"));
    CHECK_Q(db, "SELECT group_concat(ecosystem, ',') FROM (SELECT ecosystem FROM "
                "affected WHERE package='zlib' ORDER BY ecosystem)",
            "Ubuntu:18.04,Ubuntu:22.04");
    CHECK_Q(db, "SELECT severity FROM affected WHERE ecosystem='Ubuntu:22.04'", "MEDIUM");
    CHECK_Q(db, "SELECT fixed FROM affected WHERE ecosystem='Ubuntu:22.04'",
            "1:1.2.11.dfsg-2ubuntu9.2");
    CHECK_Q(db, "SELECT package FROM affected WHERE ecosystem='PyPI'", "foo-bar-baz");
    /* the vendor's word wins over the CVSS score */
    CHECK_Q(db, "SELECT severity || '|' || cvss_score FROM advisories WHERE "
                "advisory='GHSA-aaaa-bbbb-cccc'", "MEDIUM|9.8");
}

MM_TEST(build_api_memory_feed_and_sources)
{
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char db[4096];
    snprintf(db, sizeof db, "%s/vuln.db", dir);
    mm_vulndb_build *b = NULL;
    CHECK_OK(mm_vulndb_build_begin(&b, db, NULL, NULL));
    REQUIRE(b);
    mm_vulndb_feed_result res;
    CHECK_OK(mm_vulndb_build_import_mem(b, osv_small, sizeof osv_small - 1,
                                        "https://example.test/osv.json", "mirror", &res));
    CHECK_STR(res.kind, "osv");
    CHECK_INT(res.records, 2);
    static const char secdb_json[] =
        "{\"apkurl\":\"x\",\"archs\":[\"x86_64\"],\"distroversion\":\"v3.18\","
        "\"reponame\":\"main\",\"packages\":[{\"pkg\":{\"name\":\"openssl\","
        "\"secfixes\":{\"3.1.4-r0\":[\"CVE-2023-5678\"],\"0\":[\"CVE-2000-1\"]}}}]}";
    CHECK_OK(mm_vulndb_build_import_mem(b, secdb_json, sizeof secdb_json - 1,
                                        "secdb", "alpine-main", &res));
    CHECK_STR(res.kind, "alpine-secdb");
    CHECK_INT(res.records, 1);
    mm_vulndb_source_info s = {.name = "mirror", .kind = "osv",
                               .location = "https://example.test/osv.json",
                               .updated_at = 1700000000, .records = 2,
                               .etag = "\"abc\"", .last_modified = "Tue, 14 Nov 2023"};
    CHECK_OK(mm_vulndb_build_set_source(b, &s, "sha256:00"));
    CHECK_OK(mm_vulndb_build_commit(b));
    CHECK_Q(db, "SELECT etag || '|' || last_modified || '|' || sha256 FROM sources "
                "WHERE name='mirror'", "\"abc\"|Tue, 14 Nov 2023|sha256:00");
    CHECK_Q(db, "SELECT fixed FROM affected WHERE ecosystem='Alpine:v3.18' AND "
                "package='openssl'", "3.1.4-r0");
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories WHERE advisory='CVE-2000-1'"), 0);

    /* a later build replaces one source: its rows go, the others stay */
    CHECK_OK(mm_vulndb_build_begin(&b, db, NULL, NULL));
    REQUIRE(b);
    CHECK_OK(mm_vulndb_build_drop_source(b, "mirror"));
    CHECK_OK(mm_vulndb_build_commit(b));
    CHECK_INT(qn(db, "SELECT count(*) FROM advisories"), 1);
    CHECK_INT(qn(db, "SELECT count(*) FROM affected WHERE source='alpine-main'"), 1);
    CHECK_INT(qn(db, "SELECT count(*) FROM sources"), 0);

    /* an aborted build leaves nothing behind */
    char before[72], after[72];
    file_digest(db, before);
    CHECK_OK(mm_vulndb_build_begin(&b, db, NULL, NULL));
    CHECK_OK(mm_vulndb_build_drop_source(b, "alpine-main"));
    mm_vulndb_build_abort(b);
    file_digest(db, after);
    CHECK_STR(after, before);
    CHECK_INT(leftovers(dir), 0);
    mm_vulndb_build_abort(NULL);
}

/* --- hostile feeds ------------------------------------------------------------ */

static void make_bomb(const char *path, const char *member, size_t size)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_open_filename(a, path);
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, "GO-2000-0001.json");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)strlen(member));
    archive_write_header(a, e);
    archive_write_data(a, member, strlen(member));
    archive_entry_clear(e);
    archive_entry_set_pathname(e, "GO-2000-0002.json");
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)size);
    archive_write_header(a, e);
    static char zeros[1 << 20];
    memset(zeros, ' ', sizeof zeros);
    for (size_t n = 0; n < size; n += sizeof zeros)
        archive_write_data(a, zeros, sizeof zeros);
    archive_entry_free(e);
    archive_write_close(a);
    archive_write_free(a);
}

MM_TEST(bad_feeds_leave_database_unchanged)
{
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char base[1024], db[1100], good[1100], bad[1100];
    snprintf(base, sizeof base, "%s", dir);
    snprintf(db, sizeof db, "%s/vuln.db", base);
    snprintf(good, sizeof good, "%s/good.json", base);
    write_file(good, osv_small, sizeof osv_small - 1);
    const char *paths[] = {good, bad};
    CHECK_OK(mm_vulndb_import(db, paths, 1, NULL, NULL, NULL));
    char before[72], after[72];
    file_digest(db, before);

    static const char good_rec[] =
        "{\"id\":\"GO-2000-0001\",\"modified\":\"2024-01-01T00:00:00Z\","
        "\"affected\":[{\"package\":{\"ecosystem\":\"Go\",\"name\":\"example.com/m\"},"
        "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"0\"}]}]}]}";
    struct {
        const char *name, *data, *want1, *want2;
    } cases[] = {
        /* truncated JSON: the byte offset */
        {"trunc.json", "{\"id\":\"GO-1\",\"affected\":[{\"package\":{\"ecos", "trunc.json",
         "byte offset"},
        /* wrong types: the record id and the field */
        {"types.json", "{\"id\":\"GHSA-wrong-type\",\"modified\":\"x\",\"affected\":\"all\"}",
         "types.json", "record GHSA-wrong-type"},
        {"events.json", "[{\"id\":\"GO-2\",\"modified\":\"x\",\"affected\":[{\"package\":"
         "{\"ecosystem\":\"Go\",\"name\":\"m\"},\"ranges\":[{\"type\":\"SEMVER\","
         "\"events\":[{\"fixed\":1}]}]}]}]", "events.json", "record GO-2"},
        {"tracker.json", "{\"openssl\":{\"CVE-2023-1\":{\"releases\":{\"bookworm\":"
         "{\"status\":3}}}}}", "tracker.json", "CVE-2023-1"},
        {"secdb.yaml", "distroversion: v3.18\npackages:\n  - pkg:\n      name: x\n"
         "      secfixes: [1, 2]\n", "secdb.yaml", "secfixes"},
        {"bad.yaml", "id: PYSEC-1\naffected: [\n", "bad.yaml:3:1: ", "flow"},
        {"alias.yaml", "id: PYSEC-2\nmodified: &a x\naffected: *a\n", "alias.yaml",
         "aliases"},
        {"noid.json", "[{\"modified\":\"x\",\"affected\":[]}]", "noid.json",
         "byte offset 1"},
        {"random.json", "{\"name\":\"left-pad\"}", "random.json", "not a vulnerability feed"},
        {"trailing.json", "[] []", "trailing.json", "data after"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(bad, sizeof bad, "%s/%s", base, cases[i].name);
        write_file(bad, cases[i].data, strlen(cases[i].data));
        int rc = mm_vulndb_import(db, paths, 2, NULL, NULL, NULL);
        CHECK(rc < 0);
        const char *m = mm_error_last();
        if (!strstr(m, cases[i].want1) || !strstr(m, cases[i].want2))
            fprintf(stderr, "case %s: message \"%s\"\n", cases[i].name, m);
        CHECK(strstr(m, cases[i].want1) != NULL);
        CHECK(strstr(m, cases[i].want2) != NULL);
        file_digest(db, after);
        CHECK_STR(after, before);
    }

    /* a 10 MB string in a record */
    size_t big = 10u << 20;
    char *huge = malloc(big + 256);
    REQUIRE(huge);
    int n = snprintf(huge, 256, "{\"id\":\"GHSA-huge-string\",\"modified\":\"x\","
                     "\"affected\":[],\"details\":\"");
    memset(huge + n, 'A', big);
    strcpy(huge + n + big, "\"}");
    snprintf(bad, sizeof bad, "%s/huge.json", base);
    write_file(bad, huge, strlen(huge));
    free(huge);
    CHECK(mm_vulndb_import(db, paths, 2, NULL, NULL, NULL) < 0);
    CHECK(strstr(mm_error_last(), "huge.json") && strstr(mm_error_last(), "GHSA-huge-string"));
    file_digest(db, after);
    CHECK_STR(after, before);

    /* a zip bomb: a member inflating to more than the cap */
    snprintf(bad, sizeof bad, "%s/all.zip", base);
    make_bomb(bad, good_rec, (size_t)MM_VULN_MAX_MEMBER + (1u << 20));
    struct stat sb;
    REQUIRE(stat(bad, &sb) == 0);
    CHECK(sb.st_size < (1 << 20));
    CHECK(mm_vulndb_import(db, paths, 2, NULL, NULL, NULL) == MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "all.zip") &&
          strstr(mm_error_last(), "member GO-2000-0002.json"));
    file_digest(db, after);
    CHECK_STR(after, before);

    /* the same zip held in memory (a download) */
    size_t zlen = 0;
    char *zdata = mmt_read(bad, &zlen);
    REQUIRE(zdata);
    mm_vulndb_build *b = NULL;
    CHECK_OK(mm_vulndb_build_begin(&b, db, NULL, NULL));
    REQUIRE(b);
    CHECK(mm_vulndb_build_import_mem(b, zdata, zlen, "go-mirror", NULL, NULL) == MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "go-mirror: member GO-2000-0002.json") != NULL);
    mm_vulndb_build_abort(b);
    free(zdata);
    file_digest(db, after);
    CHECK_STR(after, before);
    CHECK_INT(leftovers(base), 0);

    /* a file that is not a database at the target is refused, not replaced */
    char notdb[1100];
    snprintf(notdb, sizeof notdb, "%s/not.db", base);
    write_file(notdb, "hello, world, this is not SQLite at all\n", 40);
    const char *gp[] = {good};
    CHECK(mm_vulndb_import(notdb, gp, 1, NULL, NULL, NULL) < 0);
    char *keep = mmt_read(notdb, NULL);
    CHECK_STR(keep, "hello, world, this is not SQLite at all\n");
    free(keep);
}

MM_TEST(open_missing_and_default_path)
{
    mm_vulndb *v = (mm_vulndb *)1;
    CHECK(mm_vulndb_open(&v, "/nonexistent/mamori/vuln.db") == MM_ENOTFOUND);
    CHECK(v == NULL);
    setenv("MAMORI_CACHE_DIR", "/tmp/mmcache", 1);
    char *p = mm_vulndb_default_path();
    CHECK_STR(p, "/tmp/mmcache/vuln.db");
    free(p);
    unsetenv("MAMORI_CACHE_DIR");
    mm_vulndb_close(NULL);
    mm_vulndb_info_free(NULL);
}

MM_TEST(stale_build_file_removed)
{
    /* an import killed with SIGKILL leaves "vuln.db.build-XXXXXX": nobody
     * holds its lock, so the next import removes it */
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    char db[4096], stale[4096], live[4096];
    snprintf(db, sizeof db, "%s/vuln.db", dir);
    snprintf(stale, sizeof stale, "%s/vuln.db.build-AbC123", dir);
    FILE *fp = fopen(stale, "w");
    REQUIRE(fp);
    fputs("half a database", fp);
    fclose(fp);
    /* one that a live build holds stays */
    char *held = NULL, *prefix = mm_xasprintf("%s/vuln.db.build-", dir);
    CHECK_OK(mm_tmpfile_create(&held, prefix));
    snprintf(live, sizeof live, "%s", held ? held : "");
    const char *paths[] = {mmt_fixture("vuln/osv")};
    mm_import_stats st;
    CHECK_OK(mm_vulndb_import(db, paths, 1, &st, NULL, NULL));
    CHECK(access(stale, F_OK) != 0);
    CHECK(access(live, F_OK) == 0);
    mm_tmpfile_release(held, true);
    DIR *d = opendir(dir);
    REQUIRE(d);
    struct dirent *e;
    int left = 0;
    while ((e = readdir(d)))
        left += strncmp(e->d_name, "vuln.db.build-", 14) == 0;
    closedir(d);
    CHECK_INT(left, 0);
    free(held);
    free(prefix);
}

MM_TEST_MAIN
