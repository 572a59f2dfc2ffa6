/*
 * test_dpkg.c - the dpkg status parser against a real Ubuntu 18.04 status
 * file and dpkg-query's own listing of it, plus hand-written stanzas for
 * the corners: distroless status.d, continuation lines, Source versions,
 * Status states, owned-file lists and corrupt databases.
 */
#include "mmtest.h"

#include <archive.h>
#include <archive_entry.h>
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

MM_TEST(copyright_license)
{
    const char *dep5 =
        "Format: https://www.debian.org/doc/packaging-manuals/"
        "copyright-format/1.0/\n"
        "Upstream-Name: zlib\n\n"
        "Files: *\nCopyright: 1995-2013 Jean-loup Gailly and Mark Adler\n"
        "License: Zlib\n This software is provided 'as-is'.\n\n"
        "Files: contrib/dotzlib/*\nLicense: BSL-1.0\n\n"
        "Files: debian/*\nlicense: GPL-2+ or Artistic\n";
    char *l = mm_dpkg_copyright_license(dep5, strlen(dep5));
    CHECK_STR(l, "Zlib AND BSL-1.0 AND (GPL-2+ or Artistic)");
    free(l);
    const char *old =
        "This package was debianized by someone.\n\n"
        "On Debian systems, the complete text of the GNU General Public\n"
        "License can be found in `/usr/share/common-licenses/GPL-2'.\n"
        "See also /usr/share/common-licenses/LGPL-2.1.\n"
        "and again /usr/share/common-licenses/GPL-2\n";
    l = mm_dpkg_copyright_license(old, strlen(old));
    CHECK_STR(l, "GPL-2 AND LGPL-2.1");
    free(l);
    CHECK(mm_dpkg_copyright_license("no licence here\n", 16) == NULL);
    CHECK(mm_dpkg_copyright_license("License:\n", 9) == NULL);
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

/* ---- the analyzer, on docker-archive images built here ------------------- */

/* One tar entry: 'f' file, 'd' directory, 'l' symlink, 'w' whiteout of
 * path. */
typedef struct ent {
    char kind;
    const char *path, *data;
} ent;

static bool write_layer(const char *file, const ent *es)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_filename(a, file) != ARCHIVE_OK)
        return false;
    for (const ent *e = es; e->kind; e++) {
        struct archive_entry *ae = archive_entry_new();
        char wh[512];
        const char *name = e->path;
        if (e->kind == 'w') {
            const char *b = strrchr(e->path, '/');
            snprintf(wh, sizeof wh, "%.*s.wh.%s", b ? (int)(b - e->path + 1) : 0,
                     e->path, b ? b + 1 : e->path);
            name = wh;
        }
        archive_entry_set_pathname(ae, name);
        archive_entry_set_mtime(ae, 1700000000, 0);
        size_t n = 0;
        if (e->kind == 'd') {
            archive_entry_set_filetype(ae, AE_IFDIR);
            archive_entry_set_perm(ae, 0755);
        } else if (e->kind == 'l') {
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_perm(ae, 0777);
            archive_entry_set_symlink(ae, e->data);
        } else {
            n = e->kind == 'f' ? strlen(e->data) : 0;
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_size(ae, (la_int64_t)n);
        }
        archive_write_header(a, ae);
        if (n)
            archive_write_data(a, e->data, n);
        archive_entry_free(ae);
    }
    bool ok = archive_write_close(a) == ARCHIVE_OK;
    archive_write_free(a);
    return ok;
}

/* Writes a docker-archive directory with the given layers; diff_ids[i]
 * receives each layer's digest.  Returns the directory (static). */
static const char *write_image(const ent *const *layers, int n,
                               char diff_ids[][72])
{
    const char *dir = mmt_tmpdir();
    if (!dir)
        return NULL;
    static char root[1024];
    snprintf(root, sizeof root, "%s", dir);
    char path[1200];
    char *man = NULL, *ids = NULL;
    size_t ml = 0, il = 0;
    FILE *mf = open_memstream(&man, &ml), *idf = open_memstream(&ids, &il);
    fprintf(mf, "[{\"Config\":\"config.json\",\"RepoTags\":[\"t:1\"],\"Layers\":[");
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/l%d.tar", root, i);
        if (!write_layer(path, layers[i]))
            return NULL;
        size_t len;
        char *data = mmt_read(path, &len);
        if (!data)
            return NULL;
        mm_sha256_hex(data, len, diff_ids[i]);
        free(data);
        fprintf(mf, "%s\"l%d.tar\"", i ? "," : "", i);
        fprintf(idf, "%s\"%s\"", i ? "," : "", diff_ids[i]);
    }
    fprintf(mf, "]}]");
    fclose(mf);
    fclose(idf);
    snprintf(path, sizeof path, "%s/manifest.json", root);
    FILE *f = fopen(path, "w");
    fputs(man, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/config.json", root);
    f = fopen(path, "w");
    fprintf(f, "{\"architecture\":\"amd64\",\"os\":\"linux\","
               "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[%s]}}", ids);
    fclose(f);
    free(man);
    free(ids);
    return root;
}

static const mm_package *inv_find(mm_inventory *inv, const char *name)
{
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p->type == MM_PKG_DPKG && strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

static size_t count_dpkg(mm_inventory *inv)
{
    size_t n = 0;
    for (size_t i = 0; i < mm_inventory_count(inv); i++)
        n += mm_inventory_get(inv, i)->type == MM_PKG_DPKG;
    return n;
}

#define ST(name, ver, extra) \
    "Package: " name "\nStatus: install ok installed\nVersion: " ver \
    "\nArchitecture: amd64\n" extra "\n"

MM_TEST(analyzer_layers_and_files)
{
    /* Layer 0 installs a and b; layer 1 upgrades b and adds c; layer 2
     * adds d, rewrites the database again and deletes c's file list.  A
     * package counts from the layer since which the same version has
     * been in the database without a break. */
    static const ent l0[] = {
        {'d', "usr", NULL}, {'d', "usr/bin", NULL}, {'d', "usr/lib", NULL},
        {'f', "usr/bin/a", "bin"}, {'d', "etc", NULL},
        {'f', "usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n"},
        {'l', "etc/os-release", "../usr/lib/os-release"},
        {'d', "var", NULL}, {'d', "var/lib", NULL}, {'d', "var/lib/dpkg", NULL},
        {'d', "var/lib/dpkg/info", NULL},
        {'f', "var/lib/dpkg/status",
         ST("a", "1.0", "") "\n" ST("b", "1:1.0-1", "Multi-Arch: same\n")},
        {'f', "var/lib/dpkg/info/a.list", "/.\n/usr\n/usr/bin\n/usr/bin/a\n"},
        {'f', "var/lib/dpkg/info/b:amd64.list", "/usr/lib/b.so.1\n"},
        {'d', "usr/share", NULL}, {'d', "usr/share/doc", NULL},
        {'d', "usr/share/doc/a", NULL},
        {'f', "usr/share/doc/a/copyright",
         "Format: https://www.debian.org/doc/packaging-manuals/"
         "copyright-format/1.0/\nUpstream-Name: a\n\nFiles: *\n"
         "Copyright: 2020 A <a@example.org>\nLicense: GPL-2+\n"
         " This program is free software.\n\nFiles: debian/*\n"
         "License: GPL-2+\n\nFiles: lib/*\nLicense: MIT\n"},
        /* b's doc directory is a link to a's, as dh_installdocs --link-doc
         * makes them */
        {'l', "usr/share/doc/b", "a"},
        {0, NULL, NULL},
    };
    static const ent l1[] = {
        {'f', "var/lib/dpkg/status",
         ST("a", "1.0", "") "\n" ST("b", "1:2.0-1", "Multi-Arch: same\n")
         "\n" ST("c", "3", "Source: csrc (3-1)\n")},
        {'f', "var/lib/dpkg/info/b:amd64.list", "/usr/lib/b.so.2\n"},
        {'f', "var/lib/dpkg/info/c.list", "/usr/bin/c\n"},
        {0, NULL, NULL},
    };
    static const ent l2[] = {
        {'f', "var/lib/dpkg/status",
         ST("a", "1.0", "") "\n" ST("b", "1:2.0-1", "Multi-Arch: same\n")
         "\n" ST("c", "3", "Source: csrc (3-1)\n") "\n" ST("d", "4", "")
         "\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 5\n"},
        {'w', "var/lib/dpkg/info/c.list", NULL},
        {0, NULL, NULL},
    };
    const ent *const layers[] = {l0, l1, l2};
    char ids[3][72];
    const char *img = write_image(layers, 3, ids);
    REQUIRE(img);
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    REQUIRE(r);
    const mm_os_info *os = mm_result_os(r);
    CHECK_STR(os->family, "debian");
    CHECK_STR(os->version, "12");
    mm_inventory *inv = mm_result_inventory(r);
    CHECK_INT(count_dpkg(inv), 4);
    const mm_package *a = inv_find(inv, "a"), *b = inv_find(inv, "b"),
                     *c = inv_find(inv, "c"), *d = inv_find(inv, "d");
    REQUIRE(a && b && c && d);
    CHECK(inv_find(inv, "gone") == NULL);
    CHECK_INT(a->layer, 0);
    CHECK_STR(a->layer_digest, ids[0]);
    CHECK_STR(a->path, "/var/lib/dpkg/status");
    CHECK_INT(a->epoch, -1);
    /* directories of the list are not owned files */
    REQUIRE(a->nfiles == 1);
    CHECK_STR(a->files[0], "/usr/bin/a");
    CHECK_STR(a->license, "GPL-2+ AND MIT");
    CHECK_STR(b->license, "GPL-2+ AND MIT");
    CHECK(c->license == NULL);
    CHECK_INT(b->layer, 1);
    CHECK_STR(b->layer_digest, ids[1]);
    CHECK_STR(b->version, "1:2.0-1");
    REQUIRE(b->nfiles == 1);
    CHECK_STR(b->files[0], "/usr/lib/b.so.2");
    CHECK_INT(c->layer, 1);
    CHECK_STR(c->src_name, "csrc");
    CHECK_STR(c->src_version, "3-1");
    CHECK_INT(c->nfiles, 0); /* its list was deleted */
    CHECK_INT(d->layer, 2);
    CHECK_STR(d->layer_digest, ids[2]);
    CHECK(mm_inventory_owns(inv, "/usr/bin/a"));
    CHECK(!mm_inventory_owns(inv, "/usr/lib/b.so.1"));
    mm_result_free(r);
    mm_tmpdir_remove(img);
}

MM_TEST(analyzer_deleted_database)
{
    /* A database a later layer deletes no longer counts; distroless
     * status.d files count with their md5sums as owned files. */
    static const ent l0[] = {
        {'f', "var/lib/dpkg/status", ST("a", "1.0", "")},
        {'f', "var/lib/dpkg/status.d/base-files",
         "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"},
        {'f', "var/lib/dpkg/status.d/base-files.md5sums",
         "0123456789abcdef0123456789abcdef  etc/debian_version\n"},
        {'f', "var/lib/dpkg/status.d/tzdata",
         "Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n"},
        {'f', "etc/debian_version", "12.5\n"},
        {0, NULL, NULL},
    };
    static const ent l1[] = {
        {'w', "var/lib/dpkg/status", NULL},
        {'w', "var/lib/dpkg/status.d/tzdata", NULL},
        {0, NULL, NULL},
    };
    const ent *const layers[] = {l0, l1};
    char ids[2][72];
    const char *img = write_image(layers, 2, ids);
    REQUIRE(img);
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    REQUIRE(r);
    CHECK_STR(mm_result_os(r)->family, "debian");
    CHECK_STR(mm_result_os(r)->version, "12.5");
    mm_inventory *inv = mm_result_inventory(r);
    CHECK_INT(count_dpkg(inv), 1);
    const mm_package *bf = inv_find(inv, "base-files");
    REQUIRE(bf);
    CHECK_STR(bf->path, "/var/lib/dpkg/status.d/base-files");
    CHECK_INT(bf->layer, 0);
    REQUIRE(bf->nfiles == 1);
    CHECK_STR(bf->files[0], "/etc/debian_version");
    mm_result_free(r);
    mm_tmpdir_remove(img);
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

MM_TEST(analyzer_corrupt_database)
{
    /* A corrupt version that a later layer replaced is harmless; a corrupt
     * version the container sees is a HIGH finding naming path and line,
     * and the scan goes on. */
    static const ent good_after_bad[] = {
        {'f', "var/lib/dpkg/status", ST("a", "1.0", "")},
        {0, NULL, NULL},
    };
    static const ent bad[] = {
        {'f', "var/lib/dpkg/status", "Package: a\nVersion: 1\x02\n"},
        {0, NULL, NULL},
    };
    const ent *const ok_layers[] = {bad, good_after_bad};
    char ids[2][72];
    const char *img = write_image(ok_layers, 2, ids);
    REQUIRE(img);
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    if (r) {
        const mm_package *a = inv_find(mm_result_inventory(r), "a");
        CHECK(a && a->layer == 1);
    }
    mm_result_free(r);
    mm_tmpdir_remove(img);

    const ent *const bad_layers[] = {good_after_bad, bad};
    img = write_image(bad_layers, 2, ids);
    REQUIRE(img);
    r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    const mm_finding *f = unreadable_finding(r);
    REQUIRE(f);
    CHECK_INT(f->severity, MM_SEV_HIGH);
    CHECK_STR(f->section, "3.1.1");
    CHECK_STR(f->loc.path, "/var/lib/dpkg/status");
    CHECK_INT(f->loc.layer, 1);
    CHECK(f->evidence && strstr(f->evidence, "/var/lib/dpkg/status: line 2") != NULL);
    CHECK(inv_find(mm_result_inventory(r), "a") == NULL);
    mm_result_free(r);
    mm_tmpdir_remove(img);
}

MM_TEST_MAIN
