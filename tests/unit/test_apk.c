/*
 * test_apk.c - the apk installed-database parser against a real Alpine
 * database and its expected listing (including the record without a
 * version that must be skipped and reported), plus hand-written records
 * for owned files, licences and corrupt input.
 */
#include "mmtest.h"

#include <sys/stat.h>

#include "mamori/scan.h"
#include "pkg/osdb.h"

static const mm_osdb_pkg *find(const mm_osdb_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].pkg.name, name) == 0)
            return &l->v[i];
    return NULL;
}

static int parse(mm_osdb_list *l, const char *text)
{
    memset(l, 0, sizeof *l);
    return mm_apk_parse_installed(l, text, strlen(text),
                                  "/lib/apk/db/installed");
}

MM_TEST(real_installed_matches_expected)
{
    const char *p = mmt_shared("pkgdb/apk/installed");
    if (!p)
        MMT_SKIP("shared testdata pkgdb/apk/installed absent");
    size_t len;
    char *data = mmt_read(p, &len);
    REQUIRE(data);
    p = mmt_shared("pkgdb/apk/expected.tsv");
    if (!p) {
        free(data);
        MMT_SKIP("shared testdata pkgdb/apk/expected.tsv absent");
    }
    char *exp = mmt_read(p, NULL);
    REQUIRE(exp);

    mm_osdb_list l = {0};
    CHECK_OK(mm_apk_parse_installed(&l, data, len, "/lib/apk/db/installed"));
    CHECK_INT(l.n, 15);
    /* the version-less record: skipped and reported */
    CHECK_INT(l.nwarnings, 1);
    if (l.nwarnings)
        CHECK(strstr(l.warnings[0], "invalidPackageWithoutAVersion") &&
              strstr(l.warnings[0], "/lib/apk/db/installed"));
    CHECK(find(&l, "invalidPackageWithoutAVersion") == NULL);

    /* expected.tsv lists the packages in database order. */
    int rows = 0;
    size_t idx = 0;
    char *save = NULL;
    for (char *line = strtok_r(exp, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (rows++ == 0)
            continue;
        char *f[4] = {0};
        int nf = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, "\t", &s2); t && nf < 4;
             t = strtok_r(NULL, "\t", &s2))
            f[nf++] = t;
        REQUIRE(nf == 4);
        REQUIRE(idx < l.n);
        const mm_package *k = &l.v[idx++].pkg;
        CHECK_INT(k->type, MM_PKG_APK);
        CHECK_INT(k->epoch, -1);
        CHECK_STR(k->name, f[0]);
        CHECK_STR(k->version, f[1]);
        CHECK_STR(k->src_name ? k->src_name : k->name, f[2]);
        if (k->src_name)
            CHECK(strcmp(k->src_name, k->name) != 0);
        CHECK_STR(k->arch, f[3]);
        CHECK(k->src_version == NULL);
    }
    CHECK_INT(rows, 16);
    CHECK_INT(idx, 15);

    /* Licence and owned files of the first record (musl). */
    const mm_osdb_pkg *m = find(&l, "musl");
    REQUIRE(m);
    CHECK_INT(m->line, 1);
    CHECK_STR(m->pkg.license, "MIT");
    REQUIRE(m->pkg.nfiles == 2);
    CHECK_STR(m->pkg.files[0], "/lib/libc.musl-x86_64.so.1");
    CHECK_STR(m->pkg.files[1], "/lib/ld-musl-x86_64.so.1");
    const mm_osdb_pkg *bb = find(&l, "busybox");
    REQUIRE(bb);
    bool acpid = false;
    for (size_t i = 0; i < bb->pkg.nfiles; i++)
        acpid |= strcmp(bb->pkg.files[i], "/etc/logrotate.d/acpid") == 0;
    CHECK(acpid);
    const mm_osdb_pkg *ada = find(&l, "ada-libs");
    REQUIRE(ada);
    CHECK_STR(ada->pkg.license, "( Apache-2.0 OR MIT ) AND MPL-2.0");
    mm_osdb_list_free(&l);
    free(data);
    free(exp);
}

MM_TEST(files_and_fields)
{
    mm_osdb_list l;
    CHECK_OK(parse(&l,
        "C:Q1abc=\nP:tool\nV:1.2-r3\nA:aarch64\no:tool\nL:MIT\n"
        "R:rootfile\nF:usr/bin\nR:tool\nR:tool2\nF:usr/share/empty\n"
        "F:etc/../etc/tool\nR:tool.conf\nx:unknown field\n\n\n"
        "P:lib-dev\nV:2\no:lib\n"));
    REQUIRE(l.n == 2);
    const mm_package *t = &l.v[0].pkg;
    CHECK_STR(t->name, "tool");
    CHECK_STR(t->version, "1.2-r3");
    CHECK_STR(t->arch, "aarch64");
    CHECK(t->src_name == NULL); /* origin == name */
    REQUIRE(t->nfiles == 4);
    CHECK_STR(t->files[0], "/rootfile");
    CHECK_STR(t->files[1], "/usr/bin/tool");
    CHECK_STR(t->files[2], "/usr/bin/tool2");
    CHECK_STR(t->files[3], "/etc/tool/tool.conf");
    const mm_package *d = &l.v[1].pkg;
    CHECK_STR(d->src_name, "lib");
    CHECK(d->arch == NULL && d->license == NULL && d->nfiles == 0);
    CHECK_INT(l.v[1].line, 17);
    CHECK_INT(l.nwarnings, 0);
    mm_osdb_list_free(&l);
}

MM_TEST(record_without_version_is_reported)
{
    mm_osdb_list l;
    CHECK_OK(parse(&l, "P:a\nV:1\n\nP:nover\nA:x86_64\n\nP:b\nV:\n\nP:c\nV:3"));
    CHECK_INT(l.n, 2);
    CHECK(find(&l, "a") && find(&l, "c"));
    REQUIRE(l.nwarnings == 2);
    CHECK(strstr(l.warnings[0], "line 4") && strstr(l.warnings[0], "nover"));
    CHECK(strstr(l.warnings[1], "line 7"));
    mm_osdb_list_free(&l);
}

static void expect_format(const char *text, size_t len, const char *needle)
{
    mm_osdb_list l = {0};
    int rc = mm_apk_parse_installed(&l, text, len, "/lib/apk/db/installed");
    CHECK_INT(rc, MM_EFORMAT);
    if (!strstr(mm_error_last(), needle) ||
        !strstr(mm_error_last(), "/lib/apk/db/installed")) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", mm_error_last(),
                needle);
        CHECK(0);
    }
    mm_osdb_list_free(&l);
}

#define EXPECT_FORMAT(lit, needle) expect_format(lit, sizeof(lit) - 1, needle)

MM_TEST(corrupt_installed)
{
    EXPECT_FORMAT("P:a\nV:1\n\nV:2\nA:x86_64\n", "line 4: record without P");
    EXPECT_FORMAT("P:a\nV:1\ngarbage line\n", "line 3: expected");
    EXPECT_FORMAT("P:a\nV:1.0\x1b[31m\n", "line 2: control character");
    EXPECT_FORMAT("P:a\nV:1\x00\n", "line 2: NUL");
    EXPECT_FORMAT("\x89PNG\r\n\x1a\n", "line 1");
    EXPECT_FORMAT("P:a\nP:b\nV:1\n", "line 2: second P");
    EXPECT_FORMAT("P:a\nV:1\nF:usr\nR:x/../../y\n", "line 4: invalid R");
    EXPECT_FORMAT("P:a b\nV:1\n", "line 1: invalid package name");
}

MM_TEST(empty_input)
{
    mm_osdb_list l;
    CHECK_OK(parse(&l, ""));
    CHECK_INT(l.n, 0);
    CHECK_OK(parse(&l, "\n\n"));
    CHECK_INT(l.n, 0);
    mm_osdb_list_free(&l);
}

/* ---- the analyzer, on a root filesystem directory ----------------------- */

/* Writes text at root/rel, creating the directories above it. */
static bool put(const char *root, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fputs(text, f);
    return fclose(f) == 0;
}

MM_TEST(analyzer_rootfs)
{
    const char *tmp = mmt_tmpdir();
    REQUIRE(tmp);
    char root[512];
    snprintf(root, sizeof root, "%s", tmp);
    REQUIRE(put(root, "etc/alpine-release", "3.19.1\n"));
    REQUIRE(put(root, "lib/apk/db/installed",
                "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\nL:MIT\no:musl\n"
                "F:lib\nR:ld-musl-x86_64.so.1\n\n"
                "P:broken\nA:x86_64\n\n"
                "P:busybox-binsh\nV:1.36.1-r15\nA:x86_64\no:busybox\n"
                "F:bin\nR:sh\n"));
    /* an installed file of another name is not the database */
    REQUIRE(put(root, "usr/lib/apk/db/installed", "P:decoy\nV:1\n"));
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    REQUIRE(r);
    CHECK_STR(mm_result_os(r)->family, "alpine");
    CHECK_STR(mm_result_os(r)->version, "3.19.1");
    mm_inventory *inv = mm_result_inventory(r);
    size_t n = 0;
    const mm_package *sh = NULL;
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p->type != MM_PKG_APK)
            continue;
        n++;
        CHECK_STR(p->path, "/lib/apk/db/installed");
        CHECK_INT(p->layer, 0);
        if (strcmp(p->name, "busybox-binsh") == 0)
            sh = p;
    }
    CHECK_INT(n, 2);
    REQUIRE(sh);
    CHECK_STR(sh->version, "1.36.1-r15");
    CHECK_STR(sh->src_name, "busybox");
    REQUIRE(sh->nfiles == 1);
    CHECK_STR(sh->files[0], "/bin/sh");
    CHECK(mm_inventory_owns(inv, "/lib/ld-musl-x86_64.so.1"));
    bool warned = false;
    for (size_t i = 0; i < mm_result_warning_count(r); i++)
        warned |= strstr(mm_result_warning(r, i), "broken") &&
                  strstr(mm_result_warning(r, i), "/lib/apk/db/installed");
    CHECK(warned);
    mm_result_free(r);
    mm_tmpdir_remove(root);
}

/* The MM-PKGDB-UNREADABLE finding of r, or NULL. */
static const mm_finding *unreadable_finding(mm_result *r)
{
    mm_findings *fs = r ? mm_result_findings(r) : NULL;
    for (size_t i = 0; fs && i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        if (f->id && !strcmp(f->id, "MM-PKGDB-UNREADABLE"))
            return f;
    }
    return NULL;
}

MM_TEST(analyzer_corrupt_rootfs)
{
    const char *tmp = mmt_tmpdir();
    REQUIRE(tmp);
    char root[512];
    snprintf(root, sizeof root, "%s", tmp);
    REQUIRE(put(root, "lib/apk/db/installed", "P:a\nV:1\n\n\nnot a field\n"));
    /* the scan goes on; the unreadable database is a HIGH finding */
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    const mm_finding *f = unreadable_finding(r);
    REQUIRE(f);
    CHECK_INT(f->severity, MM_SEV_HIGH);
    CHECK_STR(f->loc.path, "/lib/apk/db/installed");
    CHECK(f->evidence && strstr(f->evidence, "/lib/apk/db/installed: line 5") != NULL);
    mm_result_free(r);
    mm_tmpdir_remove(root);
}

MM_TEST_MAIN
