/*
 * test_rpm.c - the rpm database readers against three real databases (a
 * RHEL 8 Berkeley DB, a SUSE 15 NDB and a CBL-Mariner 2.0 SQLite file) and
 * the `rpm -qa` listings of them, plus hand-built header blobs for the
 * corners (epochs, old FILENAMES, dribble entries, gpg-pubkey, forged
 * offsets) and damaged copies of each database, which must fail with
 * MM_EFORMAT and never crash.  The analyzer itself is driven through
 * mm_scan() on root filesystems and on a two-layer image built here.
 */
#include "mmtest.h"

#include <errno.h>
#include <sys/stat.h>


#include <archive.h>
#include <archive_entry.h>
#include <sqlite3.h>

#include "mamori/mamori.h"
#include "pkg/rpmdb.h"
#include "util/util.h"

/* ---- helpers -------------------------------------------------------------- */

typedef struct db_case {
    const char *rel;       /* below the shared test data */
    const char *image;     /* where it lives in an image */
    size_t count;          /* packages in expected.tsv */
} db_case;

static const db_case cases[] = {
    {"pkgdb/rpm/libuuid/Packages", "var/lib/rpm/Packages", 1},
    {"pkgdb/rpm/sle15-bci/Packages.db", "var/lib/rpm/Packages.db", 35},
    {"pkgdb/rpm/cbl-mariner-2.0/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite",
     129},
};

/* The shared database of a case, or NULL (the caller skips). */
static uint8_t *load(const db_case *c, size_t *len)
{
    const char *p = mmt_shared(c->rel);
    return p ? (uint8_t *)mmt_read(p, len) : NULL;
}

static const mm_package *find(const mm_package *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static bool has_file(const mm_package *p, const char *f)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (strcmp(p->files[i], f) == 0)
            return true;
    return false;
}

/* One expected.tsv row as `rpm -qa --qf` printed it: epoch 0 where the
 * header has none, SOURCERPM rebuilt from src_name/src_version (which are
 * NULL where they equal the binary package). */
static char *row_of(const mm_package *p)
{
    const char *dash = strchr(p->version, '-');
    if (!dash)
        return NULL;
    return mm_xasprintf("%s\t%d\t%.*s\t%s\t%s\t%s-%s.src.rpm", p->name,
                        p->epoch < 0 ? 0 : p->epoch,
                        (int)(dash - p->version), p->version, dash + 1,
                        p->arch ? p->arch : "(none)",
                        p->src_name ? p->src_name : p->name,
                        p->src_version ? p->src_version : p->version);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Compares the packages with expected.tsv next to the database: same
 * count, same rows. */
static void check_expected(const db_case *c, const mm_package *const *v,
                           size_t n)
{
    char rel[512];
    snprintf(rel, sizeof rel, "%s", c->rel);
    *strrchr(rel, '/') = 0;
    strcat(rel, "/expected.tsv");
    const char *p = mmt_shared(rel);
    REQUIRE(p);
    char *exp = mmt_read(p, NULL);
    REQUIRE(exp);
    char **want = NULL, **got = NULL;
    size_t nwant = 0, ngot = 0;
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, exp, strlen(exp));
    while (mm_lines_next(&it, &line, &ll)) {
        if (it.lineno == 1 || ll == 0)
            continue; /* header */
        char *s = mm_xstrndup(line, ll);
        mm_strv_push(&want, &nwant, s);
        free(s);
    }
    for (size_t i = 0; i < n; i++) {
        char *r = row_of(v[i]);
        CHECK(r != NULL);
        if (r)
            mm_strv_push(&got, &ngot, r);
        free(r);
    }
    CHECK_INT(nwant, c->count);
    CHECK_INT(ngot, nwant);
    qsort(want, nwant, sizeof *want, cmp_str);
    qsort(got, ngot, sizeof *got, cmp_str);
    for (size_t i = 0; i < nwant && i < ngot; i++)
        CHECK_STR(got[i], want[i]);
    mm_strv_free(want, nwant);
    mm_strv_free(got, ngot);
    free(exp);
}

static void check_parse_case(const db_case *c, mm_rpmdb_format fmt)
{
    size_t len;
    uint8_t *d = load(c, &len);
    if (!d) {
        mmt_skip_why = "shared rpm test databases absent";
        return;
    }
    CHECK_INT(mm_rpmdb_detect(d, len), fmt);
    mm_package *v = NULL;
    size_t n = 0;
    CHECK_OK(mm_rpmdb_parse(&v, &n, d, len, c->image));
    const mm_package **pv = calloc(n + 1, sizeof *pv);
    for (size_t i = 0; i < n; i++) {
        pv[i] = &v[i];
        CHECK_INT(v[i].type, MM_PKG_RPM);
    }
    check_expected(c, pv, n);
    free(pv);
    mm_rpm_packages_free(v, n);
    free(d);
}

/* ---- the three real databases -------------------------------------------- */

MM_TEST(bdb_matches_rpm_qa)
{
    check_parse_case(&cases[0], MM_RPMDB_BDB);
}

MM_TEST(ndb_matches_rpm_qa)
{
    check_parse_case(&cases[1], MM_RPMDB_NDB);
}

MM_TEST(sqlite_matches_rpm_qa)
{
    check_parse_case(&cases[2], MM_RPMDB_SQLITE);
}

/* A Berkeley DB file as a big-endian host (s390x) writes it: the same
 * bytes with every page number, count and offset byte-swapped. */
static void sw16(uint8_t *p)
{
    uint8_t t = p[0];
    p[0] = p[1];
    p[1] = t;
}

static void sw32(uint8_t *p)
{
    uint8_t t = p[0];
    p[0] = p[3];
    p[3] = t;
    t = p[1];
    p[1] = p[2];
    p[2] = t;
}

static void bdb_to_big_endian(uint8_t *d, size_t len)
{
    uint32_t pagesize = (uint32_t)d[20] | (uint32_t)d[21] << 8;
    for (size_t o = 8; o < 224; o += 4)
        if (o != 24) /* four single bytes: encryption, type, flags */
            sw32(d + o);
    for (size_t pg = 1; (pg + 1) * pagesize <= len; pg++) {
        uint8_t *p = d + pg * pagesize;
        uint16_t n = (uint16_t)(p[20] | p[21] << 8);
        uint8_t type = p[25];
        if (type == 2 || type == 13) {
            for (uint16_t i = 0; i < n; i++) {
                uint16_t off = (uint16_t)(p[26 + 2 * i] | p[27 + 2 * i] << 8);
                if (p[off] == 3) {
                    sw32(p + off + 4);
                    sw32(p + off + 8);
                } else if (i % 2 == 0 && p[off] == 1) {
                    sw32(p + off + 1); /* the key: a host-order number */
                }
                sw16(p + 26 + 2 * i);
            }
        }
        sw32(p + 8);
        sw32(p + 12);
        sw32(p + 16);
        sw16(p + 20);
        sw16(p + 22);
    }
}

MM_TEST(bdb_big_endian)
{
    size_t len;
    uint8_t *d = load(&cases[0], &len);
    if (!d)
        MMT_SKIP("shared rpm test databases absent");
    bdb_to_big_endian(d, len);
    CHECK(d[12] == 0x00 && d[13] == 0x06 && d[14] == 0x15 && d[15] == 0x61);
    CHECK_INT(mm_rpmdb_detect(d, len), MM_RPMDB_BDB);
    mm_package *v = NULL;
    size_t n = 0;
    CHECK_OK(mm_rpmdb_parse(&v, &n, d, len, "var/lib/rpm/Packages"));
    REQUIRE(n == 1);
    CHECK_STR(v[0].name, "libuuid");
    CHECK_STR(v[0].version, "2.32.1-42.el8_8");
    CHECK_INT(v[0].nfiles, 7);
    mm_rpm_packages_free(v, n);
    free(d);
}

MM_TEST(fields_and_owned_files)
{
    size_t len;
    mm_package *v;
    size_t n;

    /* RHEL 8 libuuid (BDB): source package util-linux, no epoch; the
     * files as `rpm -ql libuuid` lists them. */
    uint8_t *d = load(&cases[0], &len);
    if (!d)
        MMT_SKIP("shared rpm test databases absent");
    CHECK_OK(mm_rpmdb_parse(&v, &n, d, len, "var/lib/rpm/Packages"));
    REQUIRE(n == 1);
    CHECK_STR(v[0].name, "libuuid");
    CHECK_STR(v[0].version, "2.32.1-42.el8_8");
    CHECK_INT(v[0].epoch, -1);
    CHECK_STR(v[0].arch, "x86_64");
    CHECK_STR(v[0].src_name, "util-linux");
    CHECK(v[0].src_version == NULL); /* same as the binary's */
    CHECK_STR(v[0].license, "BSD");
    CHECK_INT(v[0].nfiles, 7);
    CHECK(has_file(&v[0], "/usr/lib64/libuuid.so.1.3.0"));
    CHECK(has_file(&v[0], "/usr/share/licenses/libuuid/COPYING.BSD-3"));
    CHECK(v[0].purl == NULL && v[0].path == NULL);
    mm_rpm_packages_free(v, n);
    free(d);

    /* SUSE 15 (NDB): bash owns /bin/bash and 89 more. */
    d = load(&cases[1], &len);
    REQUIRE(d);
    CHECK_OK(mm_rpmdb_parse(&v, &n, d, len, "var/lib/rpm/Packages.db"));
    const mm_package *p = find(v, n, "bash");
    REQUIRE(p);
    CHECK_STR(p->license, "GPL-3.0-or-later");
    CHECK_INT(p->nfiles, 90);
    CHECK(has_file(p, "/bin/bash"));
    CHECK(has_file(p, "/etc/skel/.bash_history"));
    p = find(v, n, "file-magic");
    REQUIRE(p);
    CHECK_STR(p->src_name, "file");
    mm_rpm_packages_free(v, n);
    free(d);

    /* Mariner (SQLite): epochs, and bash's 67 files as `rpm -ql bash`. */
    d = load(&cases[2], &len);
    REQUIRE(d);
    CHECK_OK(mm_rpmdb_parse(&v, &n, d, len, "var/lib/rpm/rpmdb.sqlite"));
    p = find(v, n, "ca-certificates-base");
    REQUIRE(p);
    CHECK_INT(p->epoch, 1);
    CHECK_STR(p->version, "2.0.0-1.cm2");
    CHECK_STR(p->src_name, "ca-certificates");
    p = find(v, n, "bash");
    REQUIRE(p);
    CHECK_INT(p->epoch, -1);
    CHECK_STR(p->license, "GPLv3");
    CHECK_INT(p->nfiles, 67);
    CHECK(has_file(p, "/bin/bash"));
    CHECK(has_file(p, "/bin/sh"));
    mm_rpm_packages_free(v, n);
    free(d);
}

MM_TEST(read_into_inventory)
{
    size_t len;
    uint8_t *d = load(&cases[2], &len);
    if (!d)
        MMT_SKIP("shared rpm test databases absent");
    mm_inventory *inv;
    CHECK_OK(mm_inventory_new(&inv));
    CHECK_OK(mm_rpmdb_read(inv, d, len, "usr/lib/sysimage/rpm/rpmdb.sqlite",
                           2, "sha256:0000000000000000000000000000000000000000"
                              "000000000000000000000000"));
    CHECK_INT(mm_inventory_count(inv), 129);
    const mm_package *p = NULL;
    for (size_t i = 0; i < mm_inventory_count(inv); i++)
        if (strcmp(mm_inventory_get(inv, i)->name, "glibc") == 0)
            p = mm_inventory_get(inv, i);
    REQUIRE(p);
    CHECK_STR(p->path, "/usr/lib/sysimage/rpm/rpmdb.sqlite");
    CHECK_INT(p->layer, 2);
    CHECK(p->layer_digest && mm_str_startswith(p->layer_digest, "sha256:"));
    CHECK_STR(p->version, "2.34-2.cm2");
    CHECK(mm_inventory_owns(inv, "/bin/bash"));
    mm_inventory_free(inv);
    free(d);
}

/* ---- damaged databases ---------------------------------------------------- */

static int parse_copy(const uint8_t *d, size_t len, const char *path)
{
    /* An exact-size heap copy: ASan sees any read past the end. */
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, d, len);
    mm_package *v = NULL;
    size_t n = 0;
    int rc = mm_rpmdb_parse(&v, &n, c, len, path);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++)
            if (!v[i].name || !v[i].version) {
                rc = 99;
                break;
            }
    } else if (n != 0 || v != NULL) {
        rc = 98; /* nothing is handed back on failure */
    }
    mm_rpm_packages_free(v, n);
    free(c);
    return rc;
}

MM_TEST(truncated_databases_fail)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t len;
        uint8_t *d = load(&cases[k], &len);
        if (!d)
            MMT_SKIP("shared rpm test databases absent");
        const size_t cuts[] = {len / 2, len * 3 / 4, len - 4096, 100, 20, 7};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            int rc = parse_copy(d, cuts[i], cases[k].image);
            if (rc != MM_EFORMAT)
                fprintf(stderr, "%s cut at %zu: rc %d (%s)\n", cases[k].rel,
                        cuts[i], rc, mm_error_last());
            CHECK_INT(rc, MM_EFORMAT);
            CHECK(strstr(mm_error_last(), cases[k].image) != NULL);
        }
        free(d);
    }
}

MM_TEST(corrupted_databases_fail)
{
    size_t len;
    uint8_t *d = load(&cases[1], &len);
    if (!d)
        MMT_SKIP("shared rpm test databases absent");
    /* NDB: one flipped byte inside the first blob breaks its checksum. */
    uint32_t blkoff = (uint32_t)d[32 + 8] | (uint32_t)d[32 + 9] << 8 |
                      (uint32_t)d[32 + 10] << 16 | (uint32_t)d[32 + 11] << 24;
    REQUIRE((uint64_t)blkoff * 16 + 100 < len);
    d[blkoff * 16 + 60] ^= 0x40;
    CHECK_INT(parse_copy(d, len, "var/lib/rpm/Packages.db"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "checksum") != NULL);
    d[blkoff * 16 + 60] ^= 0x40;
    /* A bad slot magic. */
    d[32 + 16] = 'X';
    CHECK_INT(parse_copy(d, len, "var/lib/rpm/Packages.db"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "offset 48") != NULL);
    free(d);

    /* BDB: a page that claims to be another page; a forged page size. */
    d = load(&cases[0], &len);
    REQUIRE(d);
    uint8_t save = d[4096 + 8];
    d[4096 + 8] ^= 0x5;
    CHECK_INT(parse_copy(d, len, "var/lib/rpm/Packages"), MM_EFORMAT);
    d[4096 + 8] = save;
    CHECK_OK(parse_copy(d, len, "var/lib/rpm/Packages"));
    d[21] = 0x11; /* page size 0x1100 */
    CHECK_INT(parse_copy(d, len, "var/lib/rpm/Packages"), MM_EFORMAT);
    free(d);

    /* SQLite: the schema page overwritten. */
    d = load(&cases[2], &len);
    REQUIRE(d);
    memset(d + 100, 0xff, 400);
    CHECK_INT(parse_copy(d, len, "var/lib/rpm/rpmdb.sqlite"), MM_EFORMAT);
    free(d);
}

/* Random damage: the result may be an error or a (partial) success, but
 * never a crash, a leak or a read out of bounds (run under ASan). */
MM_TEST(random_damage_never_crashes)
{
    unsigned seed = 12345;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t len;
        uint8_t *d = load(&cases[k], &len);
        if (!d)
            MMT_SKIP("shared rpm test databases absent");
        uint8_t *w = malloc(len);
        int rounds = k == 0 ? 150 : k == 1 ? 60 : 10;
        for (int r = 0; r < rounds; r++) {
            memcpy(w, d, len);
            int flips = 1 + (int)(rand_r(&seed) % 8);
            for (int f = 0; f < flips; f++) {
                /* Mostly the metadata near the start, sometimes anywhere. */
                size_t span = (rand_r(&seed) & 1) ? len : (len < 8192 ? len : 8192);
                w[rand_r(&seed) % span] = (uint8_t)rand_r(&seed);
            }
            int rc = parse_copy(w, len, cases[k].image);
            CHECK(rc == 0 || rc == MM_EFORMAT || rc == MM_EUNSUPPORTED ||
                  rc == MM_ELIMIT);
        }
        free(w);
        free(d);
    }
}

MM_TEST(empty_and_foreign_input)
{
    mm_package *v = (mm_package *)1;
    size_t n = 7;
    /* An empty file is an empty database: rpm creates one like that. */
    CHECK_OK(mm_rpmdb_parse(&v, &n, (const uint8_t *)"", 0,
                            "var/lib/rpm/Packages"));
    CHECK_INT(n, 0);
    CHECK(v == NULL);
    CHECK_INT(mm_rpmdb_detect((const uint8_t *)"", 0), MM_RPMDB_UNKNOWN);
    const char *junk = "this is not a database, just text in the wrong place";
    CHECK_INT(parse_copy((const uint8_t *)junk, strlen(junk),
                         "var/lib/rpm/Packages"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "var/lib/rpm/Packages") != NULL);
    /* Magic alone. */
    CHECK_INT(parse_copy((const uint8_t *)"RpmP", 4, "x/Packages.db"),
              MM_EFORMAT);
    CHECK_INT(parse_copy((const uint8_t *)"SQLite format 3", 16,
                         "x/rpmdb.sqlite"), MM_EFORMAT);
    /* A Berkeley DB btree (an rpm index file, not Packages). */
    uint8_t bt[512] = {0};
    bt[12] = 0x62; bt[13] = 0x31; bt[14] = 0x05;
    CHECK_INT(parse_copy(bt, sizeof bt, "var/lib/rpm/Packages"),
              MM_EUNSUPPORTED);
}

/* ---- hand-built headers ---------------------------------------------------- */

typedef struct hb {
    mm_buf idx, store;
    uint32_t n;
} hb;

static void put32(mm_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                    (uint8_t)v};
    mm_buf_add(b, x, 4);
}

static void hb_entry(hb *h, uint32_t tag, uint32_t type, uint32_t off,
                     uint32_t count)
{
    put32(&h->idx, tag);
    put32(&h->idx, type);
    put32(&h->idx, off);
    put32(&h->idx, count);
    h->n++;
}

static void hb_str(hb *h, uint32_t tag, const char *s)
{
    hb_entry(h, tag, 6, (uint32_t)h->store.len, 1);
    mm_buf_add(&h->store, s, strlen(s) + 1);
}

static void hb_strv(hb *h, uint32_t tag, const char *const *v, uint32_t n)
{
    hb_entry(h, tag, 8, (uint32_t)h->store.len, n);
    for (uint32_t i = 0; i < n; i++)
        mm_buf_add(&h->store, v[i], strlen(v[i]) + 1);
}

static void hb_i32(hb *h, uint32_t tag, const uint32_t *v, uint32_t n)
{
    while (h->store.len % 4)
        mm_buf_addc(&h->store, 0);
    hb_entry(h, tag, 4, (uint32_t)h->store.len, n);
    for (uint32_t i = 0; i < n; i++)
        put32(&h->store, v[i]);
}

static uint8_t *hb_done(hb *h, size_t *len)
{
    mm_buf out = MM_BUF_INIT;
    put32(&out, h->n);
    put32(&out, (uint32_t)h->store.len);
    mm_buf_add(&out, h->idx.data, h->idx.len);
    mm_buf_add(&out, h->store.data, h->store.len);
    mm_buf_free(&h->idx);
    mm_buf_free(&h->store);
    *len = out.len;
    return (uint8_t *)mm_buf_detach(&out);
}

static void hb_base(hb *h, const char *name)
{
    memset(h, 0, sizeof *h);
    hb_str(h, 1000, name);
    hb_str(h, 1001, "1.2");
    hb_str(h, 1002, "3.fc40");
}

static int parse_hdr(mm_package *p, const uint8_t *b, size_t len)
{
    uint8_t *c = malloc(len ? len : 1);
    memcpy(c, b, len);
    int rc = mm_rpm_header_parse(p, c, len, "var/lib/rpm/rpmdb.sqlite", 42);
    free(c);
    return rc;
}

MM_TEST(header_fields)
{
    hb h;
    hb_base(&h, "openssl-libs");
    uint32_t epoch = 1;
    hb_i32(&h, 1003, &epoch, 1);
    hb_str(&h, 1022, "x86_64");
    hb_str(&h, 1014, "Apache-2.0");
    hb_str(&h, 1044, "openssl-1.2-3.fc40.src.rpm");
    const char *dirs[] = {"/usr/lib64/", "/usr/share/doc/openssl-libs/"};
    const char *bases[] = {"libssl.so.3", "libcrypto.so.3", "README"};
    uint32_t di[] = {0, 0, 1};
    hb_strv(&h, 1118, dirs, 2);
    hb_strv(&h, 1117, bases, 3);
    hb_i32(&h, 1116, di, 3);
    size_t len;
    uint8_t *b = hb_done(&h, &len);
    mm_package p;
    CHECK_OK(parse_hdr(&p, b, len));
    CHECK_STR(p.name, "openssl-libs");
    CHECK_STR(p.version, "1.2-3.fc40");
    CHECK_INT(p.epoch, 1);
    CHECK_STR(p.arch, "x86_64");
    CHECK_STR(p.license, "Apache-2.0");
    CHECK_STR(p.src_name, "openssl");
    CHECK(p.src_version == NULL);
    REQUIRE(p.nfiles == 3);
    CHECK_STR(p.files[0], "/usr/lib64/libssl.so.3");
    CHECK_STR(p.files[2], "/usr/share/doc/openssl-libs/README");
    mm_rpm_package_clear(&p);
    free(b);

    /* Old headers: FILENAMES; a source package of another version; an
     * install-time ("dribble") entry replacing the region's RELEASE. */
    hb_base(&h, "zlib");
    const char *old[] = {"/lib/libz.so.1", "/usr/share/doc/zlib"};
    hb_strv(&h, 1027, old, 2);
    hb_str(&h, 1044, "zlib-1.2-2.src.rpm");
    hb_str(&h, 1002, "4.el7");
    b = hb_done(&h, &len);
    CHECK_OK(parse_hdr(&p, b, len));
    CHECK_STR(p.version, "1.2-4.el7");
    CHECK_INT(p.epoch, -1);
    CHECK(p.arch == NULL && p.license == NULL && p.src_name == NULL);
    CHECK_STR(p.src_version, "1.2-2");
    REQUIRE(p.nfiles == 2);
    CHECK_STR(p.files[1], "/usr/share/doc/zlib");
    mm_rpm_package_clear(&p);
    free(b);

    /* gpg-pubkey pseudo packages are not software. */
    hb_base(&h, "gpg-pubkey");
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), 1);
    CHECK(p.name == NULL);
    free(b);
}

MM_TEST(header_forgeries_fail)
{
    hb h;
    size_t len;
    uint8_t *b;
    mm_package p;

    /* A string offset past the data store. */
    hb_base(&h, "x");
    hb_entry(&h, 1022, 6, 1000, 1);
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "record 42") != NULL);
    CHECK(strstr(mm_error_last(), "ARCH") != NULL);
    free(b);

    /* A string without its NUL: the last byte of the store is cut. */
    hb_base(&h, "x");
    b = hb_done(&h, &len);
    b[7]--; /* dl - 1 */
    CHECK_INT(parse_hdr(&p, b, len - 1), MM_EFORMAT);
    free(b);

    /* Index and data sizes larger than the blob. */
    hb_base(&h, "x");
    b = hb_done(&h, &len);
    b[3] = 200;
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    b[3] = 3;
    b[4] = 0x7f;
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    CHECK_INT(parse_hdr(&p, b, 5), MM_EFORMAT);
    free(b);

    /* A directory index past DIRNAMES; counts that disagree. */
    hb_base(&h, "x");
    const char *dirs[] = {"/a/"};
    const char *bases[] = {"b", "c"};
    uint32_t di[] = {0, 1};
    hb_strv(&h, 1118, dirs, 1);
    hb_strv(&h, 1117, bases, 2);
    hb_i32(&h, 1116, di, 2);
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "DIRINDEXES") != NULL);
    free(b);
    hb_base(&h, "x");
    hb_strv(&h, 1118, dirs, 1);
    hb_strv(&h, 1117, bases, 2);
    hb_i32(&h, 1116, di, 1);
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    free(b);

    /* A string array whose count exceeds its strings. */
    hb_base(&h, "x");
    hb_entry(&h, 1027, 8, (uint32_t)h.store.len, 3);
    mm_buf_add(&h.store, "/a\0/b", 6);
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    free(b);

    /* An EPOCH that is a string; an INT32 array past the store. */
    hb_base(&h, "x");
    hb_str(&h, 1003, "1");
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    free(b);
    hb_base(&h, "x");
    hb_entry(&h, 1003, 4, 0, 0x40000000);
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    free(b);

    /* No NAME; a control character in the release. */
    memset(&h, 0, sizeof h);
    hb_str(&h, 1001, "1");
    hb_str(&h, 1002, "1");
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    free(b);
    memset(&h, 0, sizeof h);
    hb_str(&h, 1000, "x");
    hb_str(&h, 1001, "1");
    hb_str(&h, 1002, "1\nfake-line");
    b = hb_done(&h, &len);
    CHECK_INT(parse_hdr(&p, b, len), MM_EFORMAT);
    free(b);
}

/* ---- the analyzer through mm_scan() ---------------------------------------- */

static int copy_file(const char *from, const char *root, const char *rel)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    size_t len;
    char *d = mmt_read(from, &len);
    if (!d)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(d);
        return -1;
    }
    fwrite(d, 1, len, f);
    fclose(f);
    free(d);
    return 0;
}

static size_t count_rpm(mm_result *r, const char *path)
{
    mm_inventory *inv = mm_result_inventory(r);
    size_t n = 0;
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p->type == MM_PKG_RPM && (!path || strcmp(p->path, path) == 0))
            n++;
    }
    return n;
}

MM_TEST(analyzer_rootfs)
{
    const char *db = mmt_shared(cases[2].rel);
    if (!db)
        MMT_SKIP("shared rpm test databases absent");
    char sq[4096];
    snprintf(sq, sizeof sq, "%s", db);
    const char *nd = mmt_shared(cases[1].rel);
    REQUIRE(nd);
    char ndb[4096];
    snprintf(ndb, sizeof ndb, "%s", nd);
    const char *tmp = mmt_tmpdir();
    REQUIRE(tmp);
    char root[1024];
    snprintf(root, sizeof root, "%s", tmp);

    /* Fedora's layout: the database below usr/lib/sysimage. */
    REQUIRE(copy_file(sq, root, "usr/lib/sysimage/rpm/rpmdb.sqlite") == 0);
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    REQUIRE(r);
    CHECK_INT(count_rpm(r, "/usr/lib/sysimage/rpm/rpmdb.sqlite"), 129);
    CHECK_INT(count_rpm(r, NULL), 129);
    mm_inventory *inv = mm_result_inventory(r);
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p->type == MM_PKG_RPM)
            CHECK_INT(p->layer, 0);
    }
    mm_result_free(r);

    /* A leftover database in the old location is not listed twice: the
     * new location wins and the scan says so. */
    REQUIRE(copy_file(ndb, root, "var/lib/rpm/Packages.db") == 0);
    r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    REQUIRE(r);
    CHECK_INT(count_rpm(r, NULL), 129);
    bool warned = false;
    for (size_t i = 0; i < mm_result_warning_count(r); i++)
        warned |= strstr(mm_result_warning(r, i), "Packages.db") != NULL;
    CHECK(warned);
    mm_result_free(r);

    /* A corrupt visible database is a HIGH finding naming it; the scan goes on. */
    char path[4096];
    snprintf(path, sizeof path, "%s/usr/lib/sysimage/rpm/rpmdb.sqlite", root);
    FILE *f = fopen(path, "r+b");
    REQUIRE(f);
    fseek(f, 100, SEEK_SET);
    for (int i = 0; i < 400; i++)
        fputc(0xff, f);
    fclose(f);
    r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    bool found = false;
    mm_findings *fs = r ? mm_result_findings(r) : NULL;
    for (size_t i = 0; fs && i < mm_findings_count(fs); i++) {
        const mm_finding *fd = mm_findings_get(fs, i);
        if (!strcmp(fd->id, "MM-PKGDB-UNREADABLE") && fd->severity == MM_SEV_HIGH &&
            strstr(fd->loc.path, "rpmdb.sqlite") && fd->evidence &&
            strstr(fd->evidence, "rpmdb.sqlite"))
            found = true;
    }
    CHECK(found);
    CHECK_INT(count_rpm(r, NULL), 0);
    mm_result_free(r);
    mm_tmpdir_remove(root);
}

/* ---- layers: which layer brought a package --------------------------------- */

/* A header blob for name-version-release.x86_64 owning /usr/bin/name. */
static uint8_t *pkg_blob(const char *name, const char *ver, const char *rel,
                         size_t *len)
{
    hb h;
    memset(&h, 0, sizeof h);
    hb_str(&h, 1000, name);
    hb_str(&h, 1001, ver);
    hb_str(&h, 1002, rel);
    hb_str(&h, 1022, "x86_64");
    char srpm[256];
    snprintf(srpm, sizeof srpm, "%s-%s-%s.src.rpm", name, ver, rel);
    hb_str(&h, 1044, srpm);
    const char *dirs[] = {"/usr/bin/"};
    uint32_t di = 0;
    hb_strv(&h, 1118, dirs, 1);
    hb_strv(&h, 1117, &name, 1);
    hb_i32(&h, 1116, &di, 1);
    return hb_done(&h, len);
}

/* An rpmdb.sqlite as rpm 4.16+ writes it, holding "name ver rel" triples;
 * returns its bytes (caller frees). */
static char *make_sqlite_db(const char *const *nvr, int n, size_t *len)
{
    const char *dir = mmt_tmpdir();
    if (!dir)
        return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/rpmdb.sqlite", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return NULL;
    sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE 'Packages' "
                 "(hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT "
                 "NULL)", NULL, NULL, NULL);
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "INSERT INTO Packages (blob) VALUES (?)", -1, &st,
                       NULL);
    for (int i = 0; i < n; i++) {
        size_t bl;
        uint8_t *b = pkg_blob(nvr[3 * i], nvr[3 * i + 1], nvr[3 * i + 2], &bl);
        sqlite3_bind_blob(st, 1, b, (int)bl, SQLITE_TRANSIENT);
        sqlite3_step(st);
        sqlite3_reset(st);
        free(b);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    char *d = mmt_read(path, len);
    mm_tmpdir_remove(dir);
    return d;
}

/* One tar entry: a file with data (len bytes) or, with data NULL, the
 * whiteout of path. */
typedef struct lent {
    const char *path;
    const char *data;
    size_t len;
} lent;

static bool write_layer(const char *file, const lent *es, int n)
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    if (archive_write_open_filename(a, file) != ARCHIVE_OK) {
        archive_write_free(a);
        return false;
    }
    for (int i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        char name[512];
        if (es[i].data) {
            snprintf(name, sizeof name, "%s", es[i].path);
        } else {
            const char *b = strrchr(es[i].path, '/');
            snprintf(name, sizeof name, "%.*s.wh.%s",
                     (int)(b - es[i].path + 1), es[i].path, b + 1);
        }
        archive_entry_set_pathname(ae, name);
        archive_entry_set_filetype(ae, AE_IFREG);
        archive_entry_set_perm(ae, 0644);
        archive_entry_set_mtime(ae, 1700000000, 0);
        archive_entry_set_size(ae, es[i].data ? (la_int64_t)es[i].len : 0);
        archive_write_header(a, ae);
        if (es[i].data && es[i].len)
            archive_write_data(a, es[i].data, es[i].len);
        archive_entry_free(ae);
    }
    bool ok = archive_write_close(a) == ARCHIVE_OK;
    archive_write_free(a);
    return ok;
}

/* A docker-archive directory of n layers (layer i: nents[i] entries from
 * ents[i]); diff_ids[i] receives each layer's digest.  Static buffer. */
static const char *write_image(const lent *const *ents, const int *nents,
                               int n, char diff_ids[][72])
{
    const char *dir = mmt_tmpdir();
    if (!dir)
        return NULL;
    static char root[1024];
    snprintf(root, sizeof root, "%s", dir);
    mm_buf man = MM_BUF_INIT, ids = MM_BUF_INIT;
    mm_buf_adds(&man, "[{\"Config\":\"config.json\",\"RepoTags\":[\"r:1\"],"
                      "\"Layers\":[");
    for (int i = 0; i < n; i++) {
        char path[1200];
        snprintf(path, sizeof path, "%s/layer%d.tar", root, i);
        if (!write_layer(path, ents[i], nents[i]))
            return NULL;
        size_t len;
        char *data = mmt_read(path, &len);
        if (!data)
            return NULL;
        mm_sha256_hex(data, len, diff_ids[i]);
        free(data);
        mm_buf_printf(&man, "%s\"layer%d.tar\"", i ? "," : "", i);
        mm_buf_printf(&ids, "%s\"%s\"", i ? "," : "", diff_ids[i]);
    }
    mm_buf_adds(&man, "]}]");
    char path[1200];
    snprintf(path, sizeof path, "%s/manifest.json", root);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(man.data, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/config.json", root);
    f = fopen(path, "w");
    if (!f)
        return NULL;
    fprintf(f, "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
               "{\"type\":\"layers\",\"diff_ids\":[%s]}}", ids.data);
    fclose(f);
    mm_buf_free(&man);
    mm_buf_free(&ids);
    return root;
}

static const mm_package *rpm_pkg(mm_result *r, const char *name)
{
    mm_inventory *inv = mm_result_inventory(r);
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p->type == MM_PKG_RPM && strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

MM_TEST(analyzer_layers)
{
    const char *v1[] = {"bash", "5.1", "1", "glibc", "2.34", "1"};
    const char *v2[] = {"bash", "5.1", "1", "glibc", "2.34", "2",
                        "curl", "8.0", "1"};
    size_t l1, l2;
    char *db1 = make_sqlite_db(v1, 2, &l1);
    char *db2 = make_sqlite_db(v2, 3, &l2);
    REQUIRE(db1 && db2);
    const char *dbp = "usr/lib/sysimage/rpm/rpmdb.sqlite";
    const char *junk = "not a database at all, a torn write perhaps";

    /* 0: the base (with a torn database the next layer replaces);
     * 1: base packages; 2: unrelated; 3: an update (glibc) and an
     * install (curl). */
    lent L0[] = {{dbp, junk, strlen(junk)}};
    lent L1[] = {{dbp, db1, l1}};
    lent L2[] = {{"etc/motd", "hi\n", 3}};
    lent L3[] = {{dbp, db2, l2}};
    const lent *ls[] = {L0, L1, L2, L3};
    int ns[] = {1, 1, 1, 1};
    char ids[5][72];
    const char *img = write_image(ls, ns, 4, ids);
    REQUIRE(img);
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    REQUIRE(r);
    CHECK_INT(count_rpm(r, "/usr/lib/sysimage/rpm/rpmdb.sqlite"), 3);
    const mm_package *p = rpm_pkg(r, "bash");
    REQUIRE(p);
    CHECK_INT(p->layer, 1);
    CHECK_STR(p->layer_digest, ids[1]);
    p = rpm_pkg(r, "glibc");
    REQUIRE(p);
    CHECK_STR(p->version, "2.34-2");
    CHECK_INT(p->layer, 3);
    CHECK_STR(p->layer_digest, ids[3]);
    p = rpm_pkg(r, "curl");
    REQUIRE(p);
    CHECK_INT(p->layer, 3);
    CHECK(has_file(p, "/usr/bin/curl"));
    mm_result_free(r);
    mm_tmpdir_remove(img);

    /* A later layer deletes the database: no rpm packages. */
    lent W[] = {{dbp, NULL, 0}};
    const lent *ls2[] = {L1, W};
    int ns2[] = {1, 1};
    img = write_image(ls2, ns2, 2, ids);
    REQUIRE(img);
    r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    REQUIRE(r);
    CHECK_INT(count_rpm(r, NULL), 0);
    mm_result_free(r);
    mm_tmpdir_remove(img);

    /* The torn database as the last word: a HIGH finding naming it and
     * its layer, no rpm packages, the scan goes on. */
    const lent *ls3[] = {L1, L0};
    img = write_image(ls3, ns2, 2, ids);
    REQUIRE(img);
    r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    REQUIRE(r);
    bool torn = false;
    mm_findings *fs = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *fd = mm_findings_get(fs, i);
        torn |= !strcmp(fd->id, "MM-PKGDB-UNREADABLE") && fd->severity == MM_SEV_HIGH &&
                fd->loc.layer == 1 && strstr(fd->loc.path, "rpmdb.sqlite") != NULL;
    }
    CHECK(torn);
    CHECK_INT(count_rpm(r, NULL), 0);
    mm_result_free(r);
    mm_tmpdir_remove(img);
    free(db1);
    free(db2);
}

MM_TEST_MAIN
