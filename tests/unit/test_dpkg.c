/*
 * test_dpkg.c - the dpkg status parser against a real Ubuntu 18.04 status
 * file and dpkg-query's own listing of it, plus hand-written stanzas for
 * the corners: distroless status.d, continuation lines, Source versions,
 * Status states, owned-file lists and corrupt databases.
 */
#include "mmtest.h"

#include "pkg/osdb.h"

static const mm_osdb_pkg *find(const mm_osdb_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].pkg.name, name) == 0)
            return &l->v[i];
    return NULL;
}

static int parse(mm_osdb_list *l, const char *text, bool require_status)
{
    memset(l, 0, sizeof *l);
    return mm_dpkg_parse_status(l, text, strlen(text), "/var/lib/dpkg/status",
                                require_status);
}

/* dpkg-query's ${binary:Package}: NAME:ARCH for Multi-Arch: same. */
static void binary_name(char *out, size_t n, const mm_osdb_pkg *r)
{
    if (r->multiarch_same)
        snprintf(out, n, "%s:%s", r->pkg.name, r->pkg.arch);
    else
        snprintf(out, n, "%s", r->pkg.name);
}

MM_TEST(real_status_matches_dpkg_query)
{
    const char *p = mmt_shared("pkgdb/dpkg/status");
    if (!p)
        MMT_SKIP("shared testdata pkgdb/dpkg/status absent");
    size_t len;
    char *data = mmt_read(p, &len);
    REQUIRE(data);
    p = mmt_shared("pkgdb/dpkg/expected.tsv");
    if (!p) {
        free(data);
        MMT_SKIP("shared testdata pkgdb/dpkg/expected.tsv absent");
    }
    char *exp = mmt_read(p, NULL);
    REQUIRE(exp);

    mm_osdb_list l = {0};
    CHECK_OK(mm_dpkg_parse_status(&l, data, len, "/var/lib/dpkg/status",
                                  true));
    CHECK_INT(l.n, 90);
    CHECK_INT(l.nwarnings, 0);

    /* Every installed row of expected.tsv is in the list, field by field;
     * dpkg-query prints the binary name and version where there is no
     * separate source. */
    bool *seen = calloc(l.n + 1, sizeof *seen);
    int rows = 0, installed_rows = 0;
    char *save = NULL;
    for (char *line = strtok_r(exp, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (rows++ == 0)
            continue; /* header */
        char *f[6] = {0};
        int nf = 0;
        char *s2 = NULL;
        for (char *t = strtok_r(line, "\t", &s2); t && nf < 6;
             t = strtok_r(NULL, "\t", &s2))
            f[nf++] = t;
        REQUIRE(nf == 6);
        bool inst = strncmp(f[5], "ii", 2) == 0;
        const mm_osdb_pkg *hit = NULL;
        size_t hi = 0;
        for (size_t i = 0; i < l.n; i++) {
            char bn[512];
            binary_name(bn, sizeof bn, &l.v[i]);
            if (strcmp(bn, f[0]) == 0) {
                hit = &l.v[i];
                hi = i;
            }
        }
        if (!inst) {
            if (hit)
                fprintf(stderr, "not installed but listed: %s\n", f[0]);
            CHECK(hit == NULL);
            continue;
        }
        installed_rows++;
        if (!hit) {
            fprintf(stderr, "missing: %s\n", f[0]);
            CHECK(hit);
            continue;
        }
        CHECK(!seen[hi]);
        seen[hi] = true;
        const mm_package *k = &hit->pkg;
        CHECK_INT(k->type, MM_PKG_DPKG);
        CHECK_INT(k->epoch, -1);
        CHECK_STR(k->version, f[1]);
        CHECK_STR(k->src_name ? k->src_name : k->name, f[2]);
        CHECK_STR(k->src_version ? k->src_version : k->version, f[3]);
        CHECK_STR(k->arch, f[4]);
        /* pkg.h: src_* only where they differ from the binary's */
        if (k->src_name)
            CHECK(strcmp(k->src_name, k->name) != 0);
        if (k->src_version)
            CHECK(strcmp(k->src_version, k->version) != 0);
    }
    CHECK_INT(rows, 92);
    CHECK_INT(installed_rows, 90);
    CHECK(find(&l, "git") == NULL);

    /* Spot checks of parsed values that dpkg-query shows differently. */
    const mm_osdb_pkg *b = find(&l, "bsdutils");
    REQUIRE(b);
    CHECK_STR(b->pkg.version, "1:2.31.1-0.4ubuntu3.1");
    CHECK_STR(b->pkg.src_name, "util-linux");
    CHECK_STR(b->pkg.src_version, "2.31.1-0.4ubuntu3.1");
    const mm_osdb_pkg *fd = find(&l, "fdisk");
    REQUIRE(fd);
    CHECK_INT(fd->line, 1);
    CHECK(fd->pkg.src_version == NULL);
    const mm_osdb_pkg *c6 = find(&l, "libc6");
    REQUIRE(c6);
    CHECK(c6->multiarch_same);
    CHECK_STR(c6->pkg.src_name, "glibc");
    free(seen);
    mm_osdb_list_free(&l);
    free(data);
    free(exp);
}

MM_TEST(status_states)
{
    mm_osdb_list l;
    CHECK_OK(parse(&l,
        "Package: a\nStatus: install ok installed\nVersion: 1\n\n"
        "Package: held\nStatus: hold ok installed\nVersion: 2\n\n"
        "Package: rc\nStatus: deinstall ok config-files\nVersion: 3\n\n"
        "Package: half\nStatus: install reinstreq half-installed\n"
        "Version: 4\n\n"
        "Package: purged\nStatus: purge ok not-installed\n\n"
        "Package: nostatus\nVersion: 5\n", true));
    CHECK_INT(l.n, 2);
    CHECK(find(&l, "a") != NULL);
    CHECK(find(&l, "held") != NULL);
    CHECK(find(&l, "rc") == NULL);
    CHECK(find(&l, "half") == NULL);
    /* A status-file stanza without Status is reported, not counted. */
    CHECK_INT(l.nwarnings, 1);
    if (l.nwarnings)
        CHECK(strstr(l.warnings[0], "nostatus") != NULL);
    mm_osdb_list_free(&l);
}

MM_TEST(status_d_without_status)
{
    /* distroless: var/lib/dpkg/status.d/libssl1.1, no Status field */
    mm_osdb_list l;
    CHECK_OK(parse(&l,
        "Package: libssl1.1\nVersion: 1.1.1n-0+deb11u5\n"
        "Architecture: amd64\nSource: openssl\n", false));
    REQUIRE(l.n == 1);
    CHECK_STR(l.v[0].pkg.name, "libssl1.1");
    CHECK_STR(l.v[0].pkg.version, "1.1.1n-0+deb11u5");
    CHECK_STR(l.v[0].pkg.arch, "amd64");
    CHECK_STR(l.v[0].pkg.src_name, "openssl");
    CHECK(l.v[0].pkg.src_version == NULL);
    mm_osdb_list_free(&l);
}

MM_TEST(continuation_lines)
{
    /* Folded lines belong to the field above them, even when they look
     * like fields; "." lines and tabs too.  CRLF endings are tolerated. */
    mm_osdb_list l;
    CHECK_OK(parse(&l,
        "Package: tool\r\n"
        "Status: install ok installed\r\n"
        "Description: a tool\r\n"
        " Package: evil\r\n"
        " .\r\n"
        "\tVersion: 666\r\n"
        "Conffiles:\r\n"
        " /etc/tool.conf 0123456789abcdef0123456789abcdef\r\n"
        "Version: 1.0-1\r\n"
        "\r\n\r\n", true));
    REQUIRE(l.n == 1);
    CHECK_STR(l.v[0].pkg.name, "tool");
    CHECK_STR(l.v[0].pkg.version, "1.0-1");
    CHECK(l.v[0].pkg.arch == NULL);
    mm_osdb_list_free(&l);
}

MM_TEST(source_forms)
{
    mm_osdb_list l;
    CHECK_OK(parse(&l,
        "Package: libx1\nStatus: install ok installed\n"
        "Source: xlib (2.0-1)\nVersion: 1:2.0-1+b1\n\n"
        "Package: same\nStatus: install ok installed\n"
        "Source: same\nVersion: 3\n\n"
        "Package: samever\nStatus: install ok installed\n"
        "source:   other   (  4 )  \nversion: 4\n", true));
    REQUIRE(l.n == 3);
    CHECK_STR(l.v[0].pkg.src_name, "xlib");
    CHECK_STR(l.v[0].pkg.src_version, "2.0-1");
    CHECK(l.v[1].pkg.src_name == NULL);
    CHECK(l.v[1].pkg.src_version == NULL);
    /* field names are case-insensitive; the version equals the binary's */
    CHECK_STR(l.v[2].pkg.src_name, "other");
    CHECK(l.v[2].pkg.src_version == NULL);
    CHECK_INT(l.v[2].line, 11);
    mm_osdb_list_free(&l);
}

static void expect_format(const char *text, size_t len, const char *needle)
{
    mm_osdb_list l = {0};
    int rc = mm_dpkg_parse_status(&l, text, len, "/var/lib/dpkg/status",
                                  true);
    CHECK_INT(rc, MM_EFORMAT);
    if (!strstr(mm_error_last(), needle) ||
        !strstr(mm_error_last(), "/var/lib/dpkg/status")) {
        fprintf(stderr, "message \"%s\" lacks \"%s\"\n", mm_error_last(),
                needle);
        CHECK(0);
    }
    mm_osdb_list_free(&l);
}

#define EXPECT_FORMAT(lit, needle) expect_format(lit, sizeof(lit) - 1, needle)

MM_TEST(corrupt_status)
{
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\nVersion: 1\n\n"
                  "Status: install ok installed\nVersion: 2\n",
                  "line 5: stanza without Package");
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\n"
                  "Version: 1.0\x01-1\n", "line 3: control character");
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\nVersion: 1\n"
                  "\x7f" "ELF\x02\x01\x01\n", "line 4");
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\nVer\0sion: 1\n",
                  "line 3: NUL");
    EXPECT_FORMAT(" orphan continuation\n", "line 1: continuation");
    EXPECT_FORMAT("Package: a\nPackage: b\n", "line 2: duplicate Package");
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\n",
                  "line 1: installed package a has no Version");
    EXPECT_FORMAT("\n\nPackage: a\nStatus: installed\nVersion: 1\n",
                  "line 3: Status");
    EXPECT_FORMAT("Package: a b\nStatus: install ok installed\nVersion: 1\n",
                  "line 1: invalid Package");
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\n"
                  "Version: 1 2\n", "line 1: invalid Version");
    EXPECT_FORMAT("Package: a\nStatus: install ok installed\nVersion: 1\n"
                  "Source: b (1\n", "invalid Source");
}

MM_TEST(empty_input)
{
    mm_osdb_list l;
    CHECK_OK(parse(&l, "", true));
    CHECK_INT(l.n, 0);
    CHECK_OK(parse(&l, "\n\n\n", true));
    CHECK_INT(l.n, 0);
    mm_osdb_list_free(&l);
}

MM_TEST(owned_files)
{
    const char *list = "/.\n/usr\n/usr/bin\n/usr/bin/tool\n\n"
                       "/usr/share/doc/tool/../tool/copyright\n"
                       "/../../etc/escape\n";
    char **f = NULL;
    size_t n = 0;
    CHECK_OK(mm_dpkg_parse_files(&f, &n, list, strlen(list), false));
    REQUIRE(n == 4);
    CHECK_STR(f[0], "/usr");
    CHECK_STR(f[1], "/usr/bin");
    CHECK_STR(f[2], "/usr/bin/tool");
    CHECK_STR(f[3], "/usr/share/doc/tool/copyright");
    mm_strv_free(f, n);

    const char *sums = "0123456789abcdef0123456789abcdef  usr/lib/libx.so.1\n"
                       "fedcba9876543210fedcba9876543210  usr/share/a b\n";
    f = NULL;
    n = 0;
    CHECK_OK(mm_dpkg_parse_files(&f, &n, sums, strlen(sums), true));
    REQUIRE(n == 2);
    CHECK_STR(f[0], "/usr/lib/libx.so.1");
    CHECK_STR(f[1], "/usr/share/a b");
    mm_strv_free(f, n);
}

MM_TEST_MAIN
