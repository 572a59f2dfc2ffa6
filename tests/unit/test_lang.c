/*
 * test_lang.c - the language-package parsers (lib/pkg/lang.h) against
 * fixtures written for the project, a Go program built here with the
 * installed Go toolchain, Debian's own Go binaries, and Java archives
 * assembled in memory with libarchive; then the four analyzers through a
 * real scan of a root filesystem and of a two-layer image.
 */
#include "mmtest.h"

#include <sys/stat.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>

#include "mamori/mamori.h"
#include "pkg/lang.h"
#include "util/util.h"

/* --- helpers ------------------------------------------------------------- */

static const mm_package *find(const mm_lang_result *r, const char *name)
{
    for (size_t i = 0; i < r->npkgs; i++)
        if (strcmp(r->pkgs[i].name, name) == 0)
            return &r->pkgs[i];
    return NULL;
}

static bool has_file(const mm_package *p, const char *f)
{
    for (size_t i = 0; i < p->nfiles; i++)
        if (strcmp(p->files[i], f) == 0)
            return true;
    return false;
}

static char *fixture(const char *rel, size_t *len)
{
    return mmt_read(mmt_fixture(rel), len);
}

/* --- Python -------------------------------------------------------------- */

MM_TEST(python_dist_info_metadata)
{
    size_t len;
    char *d = fixture("lang/python/requests-2.31.0.dist-info/METADATA", &len);
    REQUIRE(d);
    mm_package p;
    CHECK_OK(mm_python_parse_metadata(&p, d, len, "/x/METADATA"));
    CHECK_INT(p.type, MM_PKG_PYTHON);
    /* the body after the blank line holds "Name: not-a-header" */
    CHECK_STR(p.name, "requests");
    CHECK_STR(p.version, "2.31.0");
    CHECK_STR(p.license, "Apache 2.0");
    mm_lang_pkg_clear(&p);
    free(d);
}

MM_TEST(python_record)
{
    size_t len;
    char *d = fixture("lang/python/requests-2.31.0.dist-info/RECORD", &len);
    REQUIRE(d);
    char **files = NULL;
    size_t n = 0;
    CHECK_OK(mm_python_parse_record(&files, &n, d, len,
                                    "/usr/lib/python3.11/site-packages"));
    mm_package p = {0};
    p.files = files;
    p.nfiles = n;
    /* 10 lines; the one climbing above / is dropped */
    CHECK_INT(n, 9);
    CHECK(has_file(&p, "/usr/lib/python3.11/site-packages/requests/api.py"));
    CHECK(has_file(&p, "/usr/lib/python3.11/site-packages/requests-2.31.0"
                       ".dist-info/RECORD"));
    CHECK(has_file(&p, "/usr/lib/python3.11/site-packages/requests/odd,name.py"));
    CHECK(has_file(&p, "/usr/bin/requests-cli"));
    CHECK(!has_file(&p, "/etc/escape"));
    mm_strv_free(files, n);
    free(d);
}

MM_TEST(python_egg_info_file)
{
    size_t len;
    char *d = fixture("lang/python/six-1.16.0.egg-info", &len);
    REQUIRE(d);
    mm_package p;
    CHECK_OK(mm_python_parse_metadata(&p, d, len, "/x"));
    CHECK_STR(p.name, "six");
    CHECK_STR(p.version, "1.16.0");
    CHECK_STR(p.license, "MIT");
    mm_lang_pkg_clear(&p);
    free(d);
}

MM_TEST(python_license_choice)
{
    mm_package p;
    const char *expr = "Metadata-Version: 2.4\nName: a\nVersion: 1\n"
                       "License: whatever\nLicense-Expression: MIT OR Apache-2.0\n";
    CHECK_OK(mm_python_parse_metadata(&p, expr, strlen(expr), "x"));
    CHECK_STR(p.license, "MIT OR Apache-2.0");
    mm_lang_pkg_clear(&p);

    const char *cls = "Name: b\nVersion: 2.0\nLicense: UNKNOWN\n"
        "Classifier: License :: OSI Approved :: BSD License\n"
        "Classifier: Programming Language :: Python\n"
        "Classifier: License :: OSI Approved :: MIT License\n";
    CHECK_OK(mm_python_parse_metadata(&p, cls, strlen(cls), "x"));
    CHECK_STR(p.license, "BSD License, MIT License");
    mm_lang_pkg_clear(&p);

    /* a whole licence text in License: classifiers win, else line one */
    const char *text = "Name: c\nVersion: 3\nLicense: BSD 3-Clause License\n"
        "        \n        Copyright (c) 2020, someone\n"
        "        All rights reserved.\n";
    CHECK_OK(mm_python_parse_metadata(&p, text, strlen(text), "x"));
    CHECK_STR(p.license, "BSD 3-Clause License");
    mm_lang_pkg_clear(&p);

    const char *none = "Name: d\r\nVersion: 4\r\n";
    CHECK_OK(mm_python_parse_metadata(&p, none, strlen(none), "x"));
    CHECK_STR(p.version, "4");
    CHECK(p.license == NULL);
    mm_lang_pkg_clear(&p);
}

MM_TEST(python_missing_version)
{
    mm_package p;
    const char *d = "Metadata-Version: 2.1\nName: half\n\nVersion: 1.0\n";
    CHECK_INT(mm_python_parse_metadata(&p, d, strlen(d), "/site/half.dist-info/METADATA"),
              MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "/site/half.dist-info/METADATA") != NULL);
    CHECK(strstr(mm_error_last(), "Version") != NULL);
    CHECK(p.name == NULL);
    CHECK_INT(mm_python_parse_metadata(&p, "", 0, "e"), MM_EFORMAT);
}

MM_TEST(python_path_kind)
{
    CHECK_INT(mm_python_path_kind("usr/lib/python3/dist-packages/a-1.dist-info/METADATA", true),
              MM_PY_METADATA);
    CHECK_INT(mm_python_path_kind("usr/lib/python3/dist-packages/a-1.dist-info/RECORD", true),
              MM_PY_RECORD);
    CHECK_INT(mm_python_path_kind("usr/lib/python3/dist-packages/a.egg-info/PKG-INFO", true),
              MM_PY_METADATA);
    CHECK_INT(mm_python_path_kind("usr/lib/python3/dist-packages/a.egg/EGG-INFO/PKG-INFO", true),
              MM_PY_METADATA);
    CHECK_INT(mm_python_path_kind("usr/lib/python3/dist-packages/six-1.16.0.egg-info", true),
              MM_PY_METADATA);
    CHECK_INT(mm_python_path_kind("usr/lib/python3/dist-packages/six-1.16.0.egg-info", false),
              MM_PY_NONE);
    CHECK_INT(mm_python_path_kind("a.dist-info/METADATA", true), MM_PY_METADATA);
    CHECK_INT(mm_python_path_kind("src/METADATA", true), MM_PY_NONE);
    CHECK_INT(mm_python_path_kind("x/a.dist-info/WHEEL", true), MM_PY_NONE);
    CHECK_INT(mm_python_path_kind("METADATA", true), MM_PY_NONE);
}

/* --- npm ----------------------------------------------------------------- */

MM_TEST(npm_package_json)
{
    size_t len;
    mm_package p;
    char *d = fixture("lang/npm/lodash.json", &len);
    REQUIRE(d);
    CHECK_OK(mm_npm_parse_package_json(&p, d, len, "/a/package.json"));
    CHECK_INT(p.type, MM_PKG_NPM);
    CHECK_STR(p.name, "lodash");
    CHECK_STR(p.version, "4.17.21");
    CHECK_STR(p.license, "MIT");
    mm_lang_pkg_clear(&p);
    free(d);

    d = fixture("lang/npm/scoped-license-object.json", &len);
    REQUIRE(d);
    CHECK_OK(mm_npm_parse_package_json(&p, d, len, "x"));
    CHECK_STR(p.name, "@babel/core");
    CHECK_STR(p.version, "7.22.5");
    CHECK_STR(p.license, "MIT");
    mm_lang_pkg_clear(&p);
    free(d);

    d = fixture("lang/npm/legacy-licenses.json", &len);
    REQUIRE(d);
    CHECK_OK(mm_npm_parse_package_json(&p, d, len, "x"));
    CHECK_STR(p.license, "MIT OR Apache-2.0");
    mm_lang_pkg_clear(&p);
    free(d);

    d = fixture("lang/npm/no-version.json", &len);
    REQUIRE(d);
    CHECK_INT(mm_npm_parse_package_json(&p, d, len, "x"), 1);
    CHECK(p.name == NULL);
    free(d);

    d = fixture("lang/npm/broken.json", &len);
    REQUIRE(d);
    CHECK_INT(mm_npm_parse_package_json(&p, d, len, "/app/node_modules/broken/package.json"),
              MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "/app/node_modules/broken/package.json") != NULL);
    free(d);

    CHECK_INT(mm_npm_parse_package_json(&p, "[1,2]", 5, "x"), MM_EFORMAT);
    CHECK_INT(mm_npm_parse_package_json(&p, "{\"name\":1,\"version\":\"1\"}", 24, "x"), 1);
}

MM_TEST(npm_package_path)
{
    CHECK(mm_npm_is_package_path("app/node_modules/lodash/package.json"));
    CHECK(mm_npm_is_package_path("node_modules/lodash/package.json"));
    CHECK(mm_npm_is_package_path("app/node_modules/@babel/core/package.json"));
    CHECK(mm_npm_is_package_path(
        "usr/lib/node_modules/npm/node_modules/semver/package.json"));
    CHECK(!mm_npm_is_package_path("app/package.json"));
    CHECK(!mm_npm_is_package_path("package.json"));
    CHECK(!mm_npm_is_package_path("app/node_modules/package.json"));
    CHECK(!mm_npm_is_package_path("app/node_modules/@babel/package.json"));
    CHECK(!mm_npm_is_package_path("app/node_modules/lodash/test/package.json"));
    CHECK(!mm_npm_is_package_path("app/node_modules/@babel/core/lib/package.json"));
    CHECK(!mm_npm_is_package_path("app/node_modules/.bin/package.json"));
    CHECK(!mm_npm_is_package_path("app/node_modules/lodash/package.json.bak"));
}

/* --- Go ------------------------------------------------------------------ */

static const char modinfo_text[] =
    "path\texample.com/app/cmd/app\n"
    "mod\texample.com/app\tv1.4.0\th1:abc=\n"
    "dep\tgithub.com/pkg/errors\tv0.9.1\th1:def=\n"
    "dep\tgolang.org/x/net\tv0.1.0\th1:ghi=\n"
    "=>\tgithub.com/fork/net\tv0.2.0\th1:jkl=\n"
    "dep\texample.com/local\tv1.2.3\n"
    "=>\t../local\t(devel)\t\n"
    "dep\t\tDevel\n"
    "build\t-compiler=gc\n"
    "build\tCGO_ENABLED=0\n";

MM_TEST(go_modinfo_packages)
{
    mm_lang_result r = {0};
    CHECK_OK(mm_gobin_packages(&r, "go1.21.5", modinfo_text,
                               sizeof modinfo_text - 1));
    CHECK_INT(r.npkgs, 5);
    const mm_package *p = find(&r, "example.com/app");
    REQUIRE(p);
    CHECK_STR(p->version, "v1.4.0");
    CHECK(!p->indirect);
    CHECK_INT(p->type, MM_PKG_GOMOD);
    p = find(&r, "github.com/pkg/errors");
    REQUIRE(p);
    CHECK_STR(p->version, "v0.9.1");
    CHECK(p->indirect);
    /* replaced by another module: that module is what is compiled in */
    CHECK(find(&r, "golang.org/x/net") == NULL);
    p = find(&r, "github.com/fork/net");
    REQUIRE(p);
    CHECK_STR(p->version, "v0.2.0");
    /* replaced by a folder: the module path stays, the version is (devel) */
    p = find(&r, "example.com/local");
    REQUIRE(p);
    CHECK_STR(p->version, "(devel)");
    p = find(&r, "stdlib");
    REQUIRE(p);
    CHECK_STR(p->version, "v1.21.5");
    mm_lang_result_free(&r);

    /* GOPATH-mode binary: stdlib only */
    CHECK_OK(mm_gobin_packages(&r, "go1.19.8", "path\tgithub.com/x/y\n", 19));
    CHECK_INT(r.npkgs, 1);
    CHECK_STR(r.pkgs[0].name, "stdlib");
    CHECK_STR(r.pkgs[0].version, "v1.19.8");
    mm_lang_result_free(&r);
}

MM_TEST(go_stdlib_version)
{
    struct { const char *in, *out; } c[] = {
        {"go1.21.5", "v1.21.5"}, {"go1.20", "v1.20.0"},
        {"go1.21rc2", "v1.21.0-rc.2"}, {"go1.9beta1", "v1.9.0-beta.1"},
        {"go1.22.1 X:boringcrypto", "v1.22.1"}, {"go1", "v1.0.0"},
        {"go1.19.8", "v1.19.8"},
        {"devel go1.22-abc", NULL}, {"go", NULL}, {"gox", NULL},
        {"go1.", NULL}, {"go1.21rc", NULL}, {"go1.2x", NULL}, {"", NULL},
    };
    for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
        char *v = mm_go_stdlib_version(c[i].in);
        if (c[i].out)
            CHECK_STR(v, c[i].out);
        else if (v) {
            fprintf(stderr, "%s -> %s, expected NULL\n", c[i].in, v);
            CHECK(v == NULL);
        }
        free(v);
    }
}

static const uint8_t start_sentinel[16] = {
    0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02,
    0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6};
static const uint8_t end_sentinel[16] = {
    0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72,
    0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2};

static void add_varint(mm_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        mm_buf_addc(b, (char)(v | 0x80));
        v >>= 7;
    }
    mm_buf_addc(b, (char)v);
}

static void pad_to(mm_buf *b, size_t off)
{
    while (b->len < off)
        mm_buf_addc(b, (char)(b->len * 7 + 1)); /* junk, never 0xff at 16k */
}

/* A fake ELF file: a decoy magic (bad pointer size), an unaligned real-
 * looking magic, then the real build info at an aligned offset. */
static mm_buf synthetic_go(size_t at, uint8_t flags)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_add(&b, "\x7f" "ELF\x02\x01\x01", 7);
    pad_to(&b, 96);
    mm_buf_add(&b, "\xff Go buildinf:\x41\x02", 16);    /* decoy */
    pad_to(&b, 201);
    mm_buf_add(&b, "\xff Go buildinf:\x08\x02", 16);    /* unaligned */
    pad_to(&b, at);
    mm_buf_add(&b, "\xff Go buildinf:\x08", 15);
    mm_buf_addc(&b, (char)flags);
    for (int i = 0; i < 16; i++)
        mm_buf_addc(&b, 0);
    add_varint(&b, 8);
    mm_buf_adds(&b, "go1.21.5");
    add_varint(&b, 32 + sizeof modinfo_text - 1);
    mm_buf_add(&b, start_sentinel, 16);
    mm_buf_add(&b, modinfo_text, sizeof modinfo_text - 1);
    mm_buf_add(&b, end_sentinel, 16);
    pad_to(&b, b.len + 100);
    return b;
}

MM_TEST(go_scanner_chunks)
{
    mm_buf b = synthetic_go(512, 2);
    /* every chunk size from 1 to 70 bytes (straddling the magic, the
     * header, the varints and the sentinels), and one chunk */
    for (size_t cs = 1; cs <= 71; cs++) {
        size_t step = cs == 71 ? b.len : cs;
        mm_gobin *g = mm_gobin_new();
        mm_gobin_status st = MM_GOBIN_MORE;
        for (size_t off = 0; off < b.len && st == MM_GOBIN_MORE; off += step) {
            size_t n = b.len - off < step ? b.len - off : step;
            st = mm_gobin_feed(g, off, (const uint8_t *)b.data + off, n);
        }
        st = mm_gobin_finish(g);
        CHECK_INT(st, MM_GOBIN_FOUND);
        if (st == MM_GOBIN_FOUND) {
            size_t ml;
            const char *mi = mm_gobin_modinfo(g, &ml);
            CHECK_STR(mm_gobin_goversion(g), "go1.21.5");
            CHECK_INT(ml, sizeof modinfo_text - 1);
            CHECK(ml == sizeof modinfo_text - 1 && memcmp(mi, modinfo_text, ml) == 0);
        }
        mm_gobin_free(g);
        if (mmt_failed_now) {
            fprintf(stderr, "chunk size %zu\n", cs);
            break;
        }
    }
    mm_lang_result r = {0};
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)b.data, b.len),
              MM_GOBIN_FOUND);
    CHECK_INT(r.npkgs, 5);
    mm_lang_result_free(&r);
    mm_buf_free(&b);
}

MM_TEST(go_scanner_not_go)
{
    mm_lang_result r = {0};
    /* not ELF: decided from the first bytes, even fed one by one */
    mm_gobin *g = mm_gobin_new();
    CHECK_INT(mm_gobin_feed(g, 0, (const uint8_t *)"\x7f", 1), MM_GOBIN_MORE);
    CHECK_INT(mm_gobin_feed(g, 1, (const uint8_t *)"EL", 2), MM_GOBIN_MORE);
    CHECK_INT(mm_gobin_feed(g, 3, (const uint8_t *)"X", 1), MM_GOBIN_NOT_ELF);
    mm_gobin_free(g);
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)"#!/bin/sh\n", 10),
              MM_GOBIN_NOT_ELF);
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)"\x7f" "E", 2),
              MM_GOBIN_NOT_ELF);
    /* ELF without build info (only the decoy and the unaligned magic) */
    mm_buf b = synthetic_go(512, 2);
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)b.data, 400),
              MM_GOBIN_NOT_GO);
    /* truncated inside the module info */
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)b.data, 512 + 60),
              MM_GOBIN_BAD);
    mm_buf_free(&b);
    /* pointer-form (pre-1.18) build info */
    b = synthetic_go(512, 0);
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)b.data, b.len),
              MM_GOBIN_OLD);
    mm_buf_free(&b);
    /* a module info length over the cap */
    b = synthetic_go(512, 2);
    b.data[512 + 32 + 9] = (char)0xff;  /* 2^28 - 1 bytes */
    b.data[512 + 32 + 10] = (char)0xff;
    b.data[512 + 32 + 11] = (char)0xff;
    b.data[512 + 32 + 12] = (char)0x7f;
    CHECK_INT(mm_gobin_parse_buffer(&r, (const uint8_t *)b.data, b.len),
              MM_GOBIN_BAD);
    mm_buf_free(&b);
    CHECK_INT(r.npkgs, 0);
}

/* Runs a shell command, returning its first output line (or NULL). */
static char *run_line(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    char buf[4096];
    char *s = fgets(buf, sizeof buf, f) ? mm_xstrdup(buf) : NULL;
    int st = pclose(f);
    if (s)
        s[strcspn(s, "\n")] = 0;
    if (st != 0) {
        free(s);
        return NULL;
    }
    return s;
}

/* The Go version of the toolchain: "go1.19.8" from `go version`. */
static char *go_toolchain_version(void)
{
    char *line = run_line("go version 2>/dev/null");
    if (!line)
        return NULL;
    /* "go version go1.19.8 linux/amd64" */
    char *v = NULL;
    if (mm_str_startswith(line, "go version ")) {
        const char *s = line + 11;
        v = mm_xstrndup(s, strcspn(s, " "));
    }
    free(line);
    return v;
}

/* Scans a file through the streaming scanner in chunks of cs bytes. */
static mm_gobin_status scan_file(mm_lang_result *r, const char *path,
                                 size_t cs)
{
    size_t len;
    char *d = mmt_read(path, &len);
    if (!d)
        return MM_GOBIN_BAD;
    mm_gobin *g = mm_gobin_new();
    mm_gobin_status st = MM_GOBIN_MORE;
    for (size_t off = 0; off < len && st == MM_GOBIN_MORE; off += cs)
        st = mm_gobin_feed(g, off, (const uint8_t *)d + off,
                           len - off < cs ? len - off : cs);
    st = mm_gobin_finish(g);
    if (st == MM_GOBIN_FOUND) {
        size_t ml;
        const char *mi = mm_gobin_modinfo(g, &ml);
        mm_gobin_packages(r, mm_gobin_goversion(g), mi, ml);
    }
    mm_gobin_free(g);
    free(d);
    return st;
}

static char built_go[4096];
static char built_go_dir[4096];

static void remove_go_dir(void)
{
    if (built_go_dir[0])
        mm_tmpdir_remove(built_go_dir);
}

/* Builds tests/fixtures/gomod/app once into a temp folder (module mode,
 * no network, private caches); NULL when `go` is missing. */
static const char *build_go_fixture(void)
{
    if (built_go[0])
        return built_go;
    if (system("command -v go >/dev/null 2>&1") != 0)
        return NULL;
    const char *tmp = mmt_tmpdir();
    if (!tmp)
        return NULL;
    if (!built_go_dir[0]) {
        snprintf(built_go_dir, sizeof built_go_dir, "%s", tmp);
        atexit(remove_go_dir);
    }
    char *cmd = mm_xasprintf(
        "set -e; cp -r '%s' '%s/src' && cd '%s/src/app' && "
        "env GOPROXY=off GOFLAGS=-mod=mod GO111MODULE=on GOTOOLCHAIN=local "
        "GOCACHE='%s/cache' GOPATH='%s/gopath' GOMODCACHE='%s/gopath/mod' "
        "CGO_ENABLED=0 go build -buildvcs=false -trimpath -o '%s/gofixture' . "
        ">'%s/build.log' 2>&1 && cd / && chmod -R u+w '%s' && "
        "rm -rf '%s/cache' '%s/gopath' '%s/src'",
        mmt_fixture("gomod"), tmp, tmp, tmp, tmp, tmp, tmp, tmp, tmp, tmp,
        tmp, tmp);
    int rc = system(cmd);
    free(cmd);
    if (rc != 0) {
        char *log = mm_xasprintf("%s/build.log", tmp);
        char *text = mmt_read(log, NULL);
        fprintf(stderr, "go build failed:\n%s\n", text ? text : "(no log)");
        free(text);
        free(log);
        return "";
    }
    snprintf(built_go, sizeof built_go, "%s/gofixture", tmp);
    return built_go;
}

MM_TEST(go_real_binary)
{
    const char *bin = build_go_fixture();
    if (!bin)
        MMT_SKIP("no `go` toolchain installed (golang-go)");
    REQUIRE(*bin);
    char *gov = go_toolchain_version();
    REQUIRE(gov);
    char *want_std = mm_go_stdlib_version(gov);
    REQUIRE(want_std);
    size_t sizes[] = {65536, 4093, 1 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        mm_lang_result r = {0};
        CHECK_INT(scan_file(&r, bin, sizes[i]), MM_GOBIN_FOUND);
        CHECK_INT(r.npkgs, 3);
        const mm_package *p = find(&r, "example.com/mamori/gofixture");
        REQUIRE(p);
        CHECK_STR(p->version, "(devel)");
        CHECK(!p->indirect);
        /* required at v1.2.3, replaced by ../greet: Go records (devel) */
        p = find(&r, "example.com/greet");
        REQUIRE(p);
        CHECK_STR(p->version, "(devel)");
        CHECK(p->indirect);
        p = find(&r, "stdlib");
        REQUIRE(p);
        CHECK_STR(p->version, want_std);
        mm_lang_result_free(&r);
    }
    free(want_std);
    free(gov);
}

MM_TEST(go_debian_binary)
{
    const char *cands[] = {"/usr/bin/skopeo", "/usr/bin/umoci",
                           "/usr/bin/containerd", "/usr/bin/runc"};
    const char *bin = NULL;
    for (size_t i = 0; i < sizeof cands / sizeof *cands && !bin; i++)
        if (access(cands[i], R_OK) == 0)
            bin = cands[i];
    if (!bin)
        MMT_SKIP("no Debian-built Go binary installed (skopeo, umoci)");
    mm_lang_result r = {0};
    CHECK_INT(scan_file(&r, bin, 65536), MM_GOBIN_FOUND);
    /* Debian builds in GOPATH mode: no module lines, stdlib only */
    CHECK_INT(r.npkgs, 1);
    const mm_package *p = find(&r, "stdlib");
    REQUIRE(p);
    CHECK(mm_str_startswith(p->version, "v1."));
    /* the same version `go version FILE` prints, when go is here */
    char *cmd = mm_xasprintf("go version '%s' 2>/dev/null", bin);
    char *line = run_line(cmd);
    free(cmd);
    if (line) {
        const char *v = strstr(line, ": ");
        char *want = v ? mm_go_stdlib_version(v + 2) : NULL;
        CHECK_STR(p->version, want);
        free(want);
        free(line);
    }
    mm_lang_result_free(&r);

    /* a C binary: ELF, no build info */
    CHECK_INT(scan_file(&r, "/bin/sh", 65536), MM_GOBIN_NOT_GO);
    CHECK_INT(r.npkgs, 0);
}

/* --- Java ---------------------------------------------------------------- */

typedef struct zfile {
    const char *name;
    const void *data;
    size_t len; /* (size_t)-1: strlen */
} zfile;

/* Writes a zip archive in memory with libarchive. */
static mm_buf make_zip(const zfile *files, size_t n)
{
    mm_buf out = MM_BUF_INIT;
    size_t cap = 1 << 16, used = 0;
    for (size_t i = 0; i < n; i++)
        cap += (files[i].len == (size_t)-1 ? strlen(files[i].data)
                                           : files[i].len) * 2 + 1024;
    mm_buf_reserve(&out, cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_zip(a);
    archive_write_set_bytes_in_last_block(a, 1);
    if (archive_write_open_memory(a, out.data, cap, &used) != ARCHIVE_OK)
        abort();
    for (size_t i = 0; i < n; i++) {
        size_t len = files[i].len == (size_t)-1 ? strlen(files[i].data)
                                                : files[i].len;
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, files[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_write_header(a, e);
        archive_write_data(a, files[i].data, len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    out.len = used;
    return out;
}

#define S(x) (x), (size_t)-1

MM_TEST(java_jar_pom_properties)
{
    zfile f[] = {
        {"META-INF/MANIFEST.MF", S("Manifest-Version: 1.0\r\n"
                                   "Implementation-Title: Demo\r\n\r\n")},
        {"META-INF/maven/org.example/demo/pom.properties",
         S("#Generated by Maven\n#Tue Jun 06 10:00:00 UTC 2023\n"
           "groupId=org.example\nartifactId=demo\nversion=1.0.0\n")},
        /* a shaded dependency inside the same jar */
        {"META-INF/maven/com.google.guava/guava/pom.properties",
         S("version = 31.1-jre\ngroupId : com.google.guava\n"
           "artifactId guava\n")},
        {"org/example/Demo.class", S("\xca\xfe\xba\xbe")},
    };
    mm_buf z = make_zip(f, 4);
    mm_lang_result r = {0};
    CHECK_OK(mm_java_parse_archive(&r, (const uint8_t *)z.data, z.len,
                                   "/app/demo-1.0.0.jar"));
    CHECK_INT(r.npkgs, 2);
    CHECK_INT(r.nwarnings, 0);
    const mm_package *p = find(&r, "org.example:demo");
    REQUIRE(p);
    CHECK_INT(p->type, MM_PKG_MAVEN);
    CHECK_STR(p->version, "1.0.0");
    CHECK_STR(p->purl, "pkg:maven/org.example/demo@1.0.0");
    CHECK_STR(p->path, "/app/demo-1.0.0.jar");
    CHECK(!p->indirect);
    p = find(&r, "com.google.guava:guava");
    REQUIRE(p);
    CHECK_STR(p->version, "31.1-jre");
    mm_lang_result_free(&r);
    mm_buf_free(&z);

    /* a file name without a version: the manifest names the same artifact
     * the pom.properties gave, which is not reported twice */
    zfile g[] = {
        {"META-INF/MANIFEST.MF", S("Manifest-Version: 1.0\n"
                                   "Implementation-Title: myapp\n"
                                   "Implementation-Version: 2.1\n")},
        {"META-INF/maven/org.example/myapp/pom.properties",
         S("groupId=org.example\nartifactId=myapp\nversion=2.1\n")},
    };
    z = make_zip(g, 2);
    CHECK_OK(mm_java_parse_archive(&r, (const uint8_t *)z.data, z.len,
                                   "/app.jar"));
    CHECK_INT(r.npkgs, 1);
    CHECK(find(&r, "org.example:myapp") != NULL);
    mm_lang_result_free(&r);
    mm_buf_free(&z);
}

MM_TEST(java_war_nested)
{
    zfile lang3[] = {
        {"META-INF/MANIFEST.MF", S("Manifest-Version: 1.0\n")},
        {"META-INF/maven/org.apache.commons/commons-lang3/pom.properties",
         S("groupId=org.apache.commons\nartifactId=commons-lang3\n"
           "version=3.12.0\n")},
    };
    mm_buf j1 = make_zip(lang3, 2);
    zfile jackson[] = {
        {"META-INF/MANIFEST.MF",
         S("Manifest-Version: 1.0\nBundle-SymbolicName: com.fasterxml.jackson"
           ".core.jackson-\n databind;singleton:=true\nBundle-Version: 2.15.2"
           "\nImplementation-Title: Jackson-databind\n\nName: x\n"
           "Implementation-Version: 9.9\n")},
    };
    mm_buf j2 = make_zip(jackson, 1);
    zfile plain[] = {{"a/B.class", S("\xca\xfe")}};
    mm_buf j3 = make_zip(plain, 1);
    zfile war[] = {
        {"WEB-INF/web.xml", S("<web-app/>")},
        {"WEB-INF/lib/commons-lang3-3.12.0.jar", j1.data, j1.len},
        {"WEB-INF/lib/jackson-databind-2.15.2.jar", j2.data, j2.len},
        {"WEB-INF/lib/plain-lib-2.0.1.jar", j3.data, j3.len},
        {"WEB-INF/lib/garbage-1.0.jar", S("this is not a zip file at all")},
    };
    mm_buf w = make_zip(war, 5);
    mm_lang_result r = {0};
    CHECK_OK(mm_java_parse_archive(&r, (const uint8_t *)w.data, w.len,
                                   "/srv/shop.war"));
    /* three nested jars; the war itself has no version anywhere */
    CHECK_INT(r.npkgs, 3);
    const mm_package *p = find(&r, "org.apache.commons:commons-lang3");
    REQUIRE(p);
    CHECK_STR(p->version, "3.12.0");
    CHECK_STR(p->path, "/srv/shop.war!/WEB-INF/lib/commons-lang3-3.12.0.jar");
    CHECK(p->indirect);
    p = find(&r, "com.fasterxml.jackson.core:jackson-databind");
    REQUIRE(p);
    CHECK_STR(p->version, "2.15.2");
    CHECK_STR(p->purl, "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.15.2");
    p = find(&r, "plain-lib");
    REQUIRE(p);
    CHECK_STR(p->version, "2.0.1");
    CHECK_STR(p->purl, "pkg:maven/plain-lib@2.0.1");
    /* the garbage jar is a warning naming it, not a failure */
    CHECK_INT(r.nwarnings, 1);
    CHECK(r.nwarnings && strstr(r.warnings[0], "garbage-1.0.jar") != NULL);
    mm_lang_result_free(&r);
    mm_buf_free(&w);
    mm_buf_free(&j1);
    mm_buf_free(&j2);
    mm_buf_free(&j3);
}

MM_TEST(java_depth_cap)
{
    zfile inner[] = {{"META-INF/maven/g/deep/pom.properties",
                      S("groupId=g\nartifactId=deep\nversion=1\n")}};
    mm_buf cur = make_zip(inner, 1);
    /* depth 0 is the top; nested 1..MAX are read, deeper is skipped */
    for (int level = 0; level < MM_JAVA_MAX_DEPTH + 1; level++) {
        zfile outer[] = {{"lib/x-1.jar", cur.data, cur.len}};
        mm_buf next = make_zip(outer, 1);
        mm_buf_free(&cur);
        cur = next;
    }
    mm_lang_result r = {0};
    CHECK_OK(mm_java_parse_archive(&r, (const uint8_t *)cur.data, cur.len,
                                   "/top.jar"));
    CHECK(find(&r, "g:deep") == NULL);
    CHECK_INT(r.nwarnings, 1);
    CHECK(r.nwarnings && strstr(r.warnings[0], "nested deeper") != NULL);
    mm_lang_result_free(&r);
    mm_buf_free(&cur);

    /* one level less: found */
    cur = make_zip(inner, 1);
    for (int level = 0; level < MM_JAVA_MAX_DEPTH; level++) {
        zfile outer[] = {{"lib/x-1.jar", cur.data, cur.len}};
        mm_buf next = make_zip(outer, 1);
        mm_buf_free(&cur);
        cur = next;
    }
    CHECK_OK(mm_java_parse_archive(&r, (const uint8_t *)cur.data, cur.len,
                                   "/top.jar"));
    CHECK(find(&r, "g:deep") != NULL);
    CHECK_INT(r.nwarnings, 0);
    mm_lang_result_free(&r);
    mm_buf_free(&cur);
}

MM_TEST(java_corrupt)
{
    mm_lang_result r = {0};
    CHECK_INT(mm_java_parse_archive(&r, (const uint8_t *)"garbage", 7,
                                    "/opt/bad.jar"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "/opt/bad.jar") != NULL);
    CHECK_INT(mm_java_parse_archive(&r, (const uint8_t *)"", 0, "/e.jar"),
              MM_EFORMAT);
    /* a truncated real archive: never a crash, at most a warning */
    zfile f[] = {{"META-INF/maven/g/a/pom.properties",
                  S("groupId=g\nartifactId=a\nversion=1\n")},
                 {"data.bin", S("0123456789abcdef0123456789abcdef")}};
    mm_buf z = make_zip(f, 2);
    for (size_t cut = 0; cut < z.len; cut += 7) {
        int rc = mm_java_parse_archive(&r, (const uint8_t *)z.data, cut,
                                       "/t-1.jar");
        CHECK(rc == 0 || rc == MM_EFORMAT);
        mm_lang_result_free(&r);
    }
    mm_buf_free(&z);
}

MM_TEST(java_names)
{
    char *a, *v;
    CHECK(mm_java_split_filename("commons-lang3-3.12.0.jar", &a, &v));
    CHECK_STR(a, "commons-lang3");
    CHECK_STR(v, "3.12.0");
    free(a); free(v);
    CHECK(mm_java_split_filename("spring-core-5.3.20.RELEASE.JAR", &a, &v));
    CHECK_STR(a, "spring-core");
    CHECK_STR(v, "5.3.20.RELEASE");
    free(a); free(v);
    CHECK(!mm_java_split_filename("app.jar", &a, &v));
    CHECK(!mm_java_split_filename("-1.0.jar", &a, &v));
    CHECK(mm_java_is_archive_path("a/b.war"));
    CHECK(mm_java_is_archive_path("x.EAR"));
    CHECK(!mm_java_is_archive_path("a/.jar"));
    CHECK(!mm_java_is_archive_path("a/b.jar.sha1"));
    char *p = mm_java_purl("org.ex", "a b", "1.0+x:y");
    CHECK_STR(p, "pkg:maven/org.ex/a%20b@1.0%2Bx%3Ay");
    free(p);
}

/* --- the analyzers through real scans ------------------------------------ */

static void write_file(const char *root, const char *rel, const void *d,
                       size_t len, mode_t mode)
{
    char *path = mm_xasprintf("%s/%s", root, rel);
    for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
        *s = 0;
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(d, 1, len, f);
        fclose(f);
        chmod(path, mode);
    }
    free(path);
}

static void put_fixture(const char *root, const char *rel, const char *fx)
{
    size_t len;
    char *d = fixture(fx, &len);
    if (d)
        write_file(root, rel, d, len, 0644);
    free(d);
}

static const mm_package *inv_find(mm_inventory *inv, mm_pkg_type t,
                                  const char *name)
{
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p->type == t && strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

static size_t inv_count(mm_inventory *inv, mm_pkg_type t)
{
    size_t n = 0;
    for (size_t i = 0; i < mm_inventory_count(inv); i++)
        n += mm_inventory_get(inv, i)->type == t;
    return n;
}

static bool has_warning(const mm_result *r, const char *needle)
{
    for (size_t i = 0; i < mm_result_warning_count(r); i++)
        if (strstr(mm_result_warning(r, i), needle))
            return true;
    return false;
}

MM_TEST(analyzers_rootfs)
{
    char *t = mm_xstrdup(mmt_tmpdir()); /* mmt_tmpdir's buffer is reused */
    REQUIRE(t);
    char *root = mm_xasprintf("%s/root", t);
    mkdir(root, 0755);
    const char *site = "usr/lib/python3.11/site-packages";
    char rel[512];
    snprintf(rel, sizeof rel, "%s/requests-2.31.0.dist-info/METADATA", site);
    put_fixture(root, rel, "lang/python/requests-2.31.0.dist-info/METADATA");
    snprintf(rel, sizeof rel, "%s/requests-2.31.0.dist-info/RECORD", site);
    put_fixture(root, rel, "lang/python/requests-2.31.0.dist-info/RECORD");
    put_fixture(root, "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
                "lang/python/six-1.16.0.egg-info");
    write_file(root, "usr/lib/python3/dist-packages/bad.dist-info/METADATA",
               "Name: bad\n", 10, 0644);
    put_fixture(root, "app/node_modules/lodash/package.json",
                "lang/npm/lodash.json");
    put_fixture(root, "app/node_modules/@babel/core/package.json",
                "lang/npm/scoped-license-object.json");
    put_fixture(root, "app/node_modules/broken/package.json",
                "lang/npm/broken.json");
    /* the application itself and a nested marker: not packages */
    put_fixture(root, "app/package.json", "lang/npm/lodash.json");
    put_fixture(root, "app/node_modules/lodash/fp/package.json",
                "lang/npm/legacy-licenses.json");
    zfile f[] = {{"META-INF/maven/org.example/demo/pom.properties",
                  S("groupId=org.example\nartifactId=demo\nversion=1.0.0\n")}};
    mm_buf z = make_zip(f, 1);
    write_file(root, "opt/demo/demo-1.0.0.jar", z.data, z.len, 0644);
    mm_buf_free(&z);
    write_file(root, "opt/demo/broken-2.0.jar", "PK\3\4garbage", 11, 0644);
    const char *gobin = build_go_fixture();
    if (gobin && *gobin) {
        size_t len;
        char *d = mmt_read(gobin, &len);
        REQUIRE(d);
        write_file(root, "usr/local/bin/gofixture", d, len, 0755);
        /* not executable: not looked at */
        write_file(root, "srv/gofixture.copy", d, len, 0644);
        free(d);
    }

    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    free(root);
    mm_tmpdir_remove(t);
    free(t);
    REQUIRE(r);
    mm_inventory *inv = mm_result_inventory(r);

    CHECK_INT(inv_count(inv, MM_PKG_PYTHON), 2);
    const mm_package *p = inv_find(inv, MM_PKG_PYTHON, "requests");
    REQUIRE(p);
    CHECK_STR(p->version, "2.31.0");
    CHECK_STR(p->path, "/usr/lib/python3.11/site-packages/requests-2.31.0"
                       ".dist-info/METADATA");
    CHECK_INT(p->layer, 0);
    CHECK(has_file(p, "/usr/lib/python3.11/site-packages/requests/api.py"));
    p = inv_find(inv, MM_PKG_PYTHON, "six");
    REQUIRE(p);
    CHECK_STR(p->path, "/usr/lib/python3/dist-packages/six-1.16.0.egg-info");
    CHECK(has_warning(r, "bad.dist-info/METADATA"));

    CHECK_INT(inv_count(inv, MM_PKG_NPM), 2);
    p = inv_find(inv, MM_PKG_NPM, "lodash");
    REQUIRE(p);
    CHECK_STR(p->path, "/app/node_modules/lodash/package.json");
    CHECK_STR(p->license, "MIT");
    CHECK(inv_find(inv, MM_PKG_NPM, "@babel/core") != NULL);
    CHECK(has_warning(r, "/app/node_modules/broken/package.json"));

    CHECK_INT(inv_count(inv, MM_PKG_MAVEN), 1);
    p = inv_find(inv, MM_PKG_MAVEN, "org.example:demo");
    REQUIRE(p);
    CHECK_STR(p->path, "/opt/demo/demo-1.0.0.jar");
    CHECK_STR(p->purl, "pkg:maven/org.example/demo@1.0.0");
    CHECK(has_warning(r, "/opt/demo/broken-2.0.jar"));

    if (gobin && *gobin) {
        CHECK_INT(inv_count(inv, MM_PKG_GOMOD), 3);
        p = inv_find(inv, MM_PKG_GOMOD, "example.com/greet");
        REQUIRE(p);
        CHECK_STR(p->path, "/usr/local/bin/gofixture");
        CHECK(inv_find(inv, MM_PKG_GOMOD, "stdlib") != NULL);
    }
    mm_result_free(r);
}

/* Writes a layer tar: entries "path" -> content (NULL content: a dir). */
static void write_layer(const char *file, const zfile *f, size_t n,
                        char digest[72])
{
    struct archive *a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_open_filename(a, file);
    for (size_t i = 0; i < n; i++) {
        size_t len = f[i].len == (size_t)-1 ? strlen(f[i].data) : f[i].len;
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, f[i].name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, mm_str_startswith(f[i].name, "usr/bin/")
                                      ? 0755 : 0644);
        archive_entry_set_size(e, (la_int64_t)len);
        archive_write_header(a, e);
        archive_write_data(a, f[i].data, len);
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    size_t len;
    char *d = mmt_read(file, &len);
    mm_sha256_hex(d, len, digest);
    free(d);
}

MM_TEST(analyzers_layers)
{
    char *t = mm_xstrdup(mmt_tmpdir()); /* mmt_tmpdir's buffer is reused */
    REQUIRE(t);
    char *img = mm_xasprintf("%s/img", t);
    mkdir(img, 0755);
    zfile jf[] = {{"META-INF/maven/g/old/pom.properties",
                   S("groupId=g\nartifactId=old\nversion=1\n")}};
    mm_buf jar = make_zip(jf, 1);
    const char *gobin = build_go_fixture();
    size_t golen = 0;
    char *god = gobin && *gobin ? mmt_read(gobin, &golen) : NULL;
    const char *site = "usr/lib/python3/site-packages/";
    char m1[256], m2[256], wh[256];
    snprintf(m1, sizeof m1, "%sfoo-1.0.dist-info/METADATA", site);
    snprintf(m2, sizeof m2, "%sbar-2.0.dist-info/METADATA", site);
    snprintf(wh, sizeof wh, "%s.wh.foo-1.0.dist-info", site);
    zfile l1[] = {
        {"app/node_modules/lodash/package.json",
         S("{\"name\":\"lodash\",\"version\":\"4.17.20\"}")},
        {"app/node_modules/left-pad/package.json",
         S("{\"name\":\"left-pad\",\"version\":\"1.3.0\"}")},
        {m1, S("Name: foo\nVersion: 1.0\n")},
        {m2, S("Name: bar\nVersion: 2.0\n")},
        {"app/old-1.jar", jar.data, jar.len},
        {"usr/bin/gofixture", god ? god : "", god ? golen : 0},
        {"usr/bin/gofixture2", god ? god : "", god ? golen : 0},
    };
    zfile l2[] = {
        /* upgraded in place, deleted, replaced by a non-Go file */
        {"app/node_modules/lodash/package.json",
         S("{\"name\":\"lodash\",\"version\":\"4.17.21\"}")},
        {wh, S("")},
        {"app/.wh.old-1.jar", S("")},
        {"usr/bin/gofixture", S("#!/bin/sh\necho replaced\n")},
    };
    char d1[72], d2[72];
    char *p1 = mm_xasprintf("%s/l1.tar", img), *p2 = mm_xasprintf("%s/l2.tar", img);
    write_layer(p1, l1, sizeof l1 / sizeof *l1, d1);
    write_layer(p2, l2, sizeof l2 / sizeof *l2, d2);
    char *cfg = mm_xasprintf(
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
        d1, d2);
    write_file(img, "config.json", cfg, strlen(cfg), 0644);
    const char *man = "[{\"Config\":\"config.json\",\"RepoTags\":[\"t:1\"],"
                      "\"Layers\":[\"l1.tar\",\"l2.tar\"]}]";
    write_file(img, "manifest.json", man, strlen(man), 0644);

    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_IMAGE, img, NULL));
    mm_tmpdir_remove(t);
    free(t);
    REQUIRE(r);
    mm_inventory *inv = mm_result_inventory(r);
    CHECK_INT(inv_count(inv, MM_PKG_NPM), 2);
    const mm_package *p = inv_find(inv, MM_PKG_NPM, "lodash");
    REQUIRE(p);
    CHECK_STR(p->version, "4.17.21");
    CHECK_INT(p->layer, 1);
    CHECK_STR(p->layer_digest, d2);
    p = inv_find(inv, MM_PKG_NPM, "left-pad");
    REQUIRE(p);
    CHECK_INT(p->layer, 0);
    CHECK_STR(p->layer_digest, d1);
    CHECK(inv_find(inv, MM_PKG_PYTHON, "foo") == NULL);
    CHECK(inv_find(inv, MM_PKG_PYTHON, "bar") != NULL);
    CHECK_INT(inv_count(inv, MM_PKG_MAVEN), 0);
    if (god) {
        /* only gofixture2 is still a Go binary */
        CHECK_INT(inv_count(inv, MM_PKG_GOMOD), 3);
        p = inv_find(inv, MM_PKG_GOMOD, "stdlib");
        REQUIRE(p);
        CHECK_STR(p->path, "/usr/bin/gofixture2");
    }
    mm_result_free(r);
    free(cfg);
    free(p1);
    free(p2);
    free(god);
    free(img);
    mm_buf_free(&jar);
}

MM_TEST_MAIN
