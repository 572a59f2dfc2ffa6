/*
 * test_lang2.c - the Ruby, Rust and PHP parsers (lib/pkg/lang2.h) against
 * fixtures written in the formats RubyGems, Cargo and Composer produce, a
 * cargo-auditable binary made here by adding a ".dep-v0" section to a copy
 * of /bin/true with objcopy, then the three analyzers through real scans of
 * a root filesystem and of a two-layer image.
 */
#include "mmtest.h"

#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "mamori/mamori.h"
#include "pkg/lang2.h"
#include "util/util.h"

/* --- helpers ------------------------------------------------------------- */

static const mm_package *find(const mm_lang_result *r, const char *name)
{
    for (size_t i = 0; i < r->npkgs; i++)
        if (strcmp(r->pkgs[i].name, name) == 0)
            return &r->pkgs[i];
    return NULL;
}

static char *fixture(const char *rel, size_t *len)
{
    return mmt_read(mmt_fixture(rel), len);
}

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

/* --- Ruby ---------------------------------------------------------------- */

static int parse_gem_fixture(mm_package *p, const char *rel)
{
    size_t len;
    char *d = fixture(rel, &len);
    if (!d)
        return -999;
    int rc = mm_gem_parse_gemspec(p, d, len, rel);
    free(d);
    return rc;
}

MM_TEST(gem_rubygems3)
{
    mm_package p;
    CHECK_OK(parse_gem_fixture(&p, "lang2/gem/rack-3.0.8.gemspec"));
    CHECK_INT(p.type, MM_PKG_GEM);
    CHECK_STR(p.name, "rack");
    CHECK_STR(p.version, "3.0.8");
    CHECK_STR(p.license, "MIT");
    char *purl = mm_purl_for(&p, NULL, NULL);
    CHECK_STR(purl, "pkg:gem/rack@3.0.8");
    free(purl);
    mm_lang_pkg_clear(&p);
}

MM_TEST(gem_old_style)
{
    mm_package p;
    CHECK_OK(parse_gem_fixture(&p, "lang2/gem/json-1.4.6.gemspec"));
    CHECK_STR(p.name, "json");
    CHECK_STR(p.version, "1.4.6");
    /* an array spread over two lines */
    CHECK_STR(p.license, "Ruby OR GPL-2.0");
    mm_lang_pkg_clear(&p);

    CHECK_OK(parse_gem_fixture(&p, "lang2/gem/versioned.gemspec"));
    CHECK_STR(p.name, "bigdecimal");
    CHECK_STR(p.version, "3.1.1");
    CHECK_STR(p.license, "Ruby OR BSD-2-Clause");
    mm_lang_pkg_clear(&p);
}

MM_TEST(gem_stub_fallback)
{
    /* name and version are constants: the stub comment tells them */
    mm_package p;
    CHECK_OK(parse_gem_fixture(&p, "lang2/gem/bundled-default.gemspec"));
    CHECK_STR(p.name, "net-http");
    CHECK_STR(p.version, "0.4.1");
    CHECK_STR(p.license, "Ruby");
    mm_lang_pkg_clear(&p);
}

MM_TEST(gem_literals)
{
    static const char src[] =
        "s.name = %q(a(b)c)\n"
        "s.version = 'x\\'y'\n"
        "s.license = %Q[Apache-2.0]\n";
    mm_package p;
    CHECK_OK(mm_gem_parse_gemspec(&p, src, sizeof src - 1, "x"));
    CHECK_STR(p.name, "a(b)c");
    CHECK_STR(p.version, "x'y");
    CHECK_STR(p.license, "Apache-2.0");
    mm_lang_pkg_clear(&p);

    /* unterminated literals, stray '=' and junk: an error, no crash */
    static const char bad[] = "s.name = \"abc\ns.version = %q{1.0\ns. = \"\n=";
    int rc = mm_gem_parse_gemspec(&p, bad, sizeof bad - 1, "/x.gemspec");
    CHECK_INT(rc, MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "/x.gemspec") != NULL);
}

MM_TEST(gem_missing)
{
    mm_package p;
    int rc = parse_gem_fixture(&p, "lang2/gem/broken.gemspec");
    CHECK_INT(rc, MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "broken.gemspec") != NULL);
    CHECK(strstr(mm_error_last(), "name") != NULL);
    CHECK_INT(mm_gem_parse_gemspec(&p, "", 0, "empty"), MM_EFORMAT);
}

MM_TEST(gem_path)
{
    CHECK(mm_gem_is_spec_path(
        "usr/local/bundle/specifications/rack-3.0.8.gemspec"));
    CHECK(mm_gem_is_spec_path(
        "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec"));
    CHECK(mm_gem_is_spec_path("specifications/x.gemspec"));
    CHECK(!mm_gem_is_spec_path("app/rack.gemspec"));
    CHECK(!mm_gem_is_spec_path("gems/rack-3.0.8/rack.gemspec"));
    CHECK(!mm_gem_is_spec_path("specifications/.gemspec"));
    CHECK(!mm_gem_is_spec_path("a/default/x.gemspec"));
    CHECK(!mm_gem_is_spec_path("specifications/x.gemspec.orig"));
}

/* --- Rust: Cargo.lock ---------------------------------------------------- */

MM_TEST(cargo_lock_v3)
{
    size_t len;
    char *d = fixture("lang2/cargo/Cargo.lock", &len);
    REQUIRE(d);
    mm_lang_result r = {0};
    CHECK_OK(mm_cargo_parse_lock(&r, d, len, "/app/Cargo.lock"));
    /* six packages; the git one is left out */
    CHECK_INT(r.npkgs, 5);
    const mm_package *p = find(&r, "regex");
    REQUIRE(p);
    CHECK_INT(p->type, MM_PKG_CARGO);
    CHECK_STR(p->version, "1.10.2");
    CHECK(p->indirect);
    p = find(&r, "demo-app");
    REQUIRE(p);
    CHECK_STR(p->version, "0.1.0");
    CHECK(!p->indirect);
    p = find(&r, "serde");
    REQUIRE(p);
    CHECK_STR(p->version, "1.0.193");
    CHECK(find(&r, "mygit") == NULL);
    char *purl = mm_purl_for(find(&r, "aho-corasick"), NULL, NULL);
    CHECK_STR(purl, "pkg:cargo/aho-corasick@1.1.2");
    free(purl);
    mm_lang_result_free(&r);
    free(d);
}

MM_TEST(cargo_lock_v1_metadata)
{
    /* Cargo's first lock format: [root], checksums in [metadata] under
     * quoted keys, and TOML details a lockfile may hold */
    static const char lock[] =
        "[root]\n"
        "name = \"tool\"\n"
        "version = \"0.2.0\"\n"
        "dependencies = [\n \"libc 0.2.40 (registry+https://github.com/rust-"
        "lang/crates.io-index)\",\n]\n\n"
        "[[package]]\n"
        "name = 'libc'  # literal string\n"
        "version = \"0.2.40\"\n"
        "source = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        "weird = { a = 1, b = [\"x\", [2, 3]] }\n"
        "ml = \"\"\"\nline \\\"one\\\"\nline two\"\"\"\n"
        "\n"
        "[[ package ]]\n"
        "name = \"esc\\u00e9\"\n"
        "version = \"1.0.0\"\n"
        "\n"
        "[metadata]\n"
        "\"checksum libc 0.2.40 (registry+https://github.com/rust-lang/crates"
        ".io-index)\" = \"6fd41f331ac7c5b8ac259b8bf82c75c0fb2e469bbf37d2becbba"
        "9a6a2221965b\"\n";
    mm_lang_result r = {0};
    CHECK_OK(mm_cargo_parse_lock(&r, lock, sizeof lock - 1, "Cargo.lock"));
    /* [root] is not [[package]] (older Cargo wrote the root there) */
    CHECK_INT(r.npkgs, 2);
    const mm_package *p = find(&r, "libc");
    REQUIRE(p);
    CHECK_STR(p->version, "0.2.40");
    CHECK(find(&r, "esc?") != NULL);
    mm_lang_result_free(&r);
}

MM_TEST(cargo_lock_errors)
{
    static const char *const bad[] = {
        "[[package]]\nname = \"x\nversion = \"1\"\n",  /* newline in string */
        "[[package]]\nname = \"x\" junk\n",             /* text after value */
        "[[package\nname = \"x\"\n",                    /* header */
        "[[package]]\nname \"x\"\n",                    /* no '=' */
        "[[package]]\ndeps = [\"a\",\n",                /* open array */
        "[[package]]\nname = \"\\q\"\n",                /* bad escape */
        "[[package]]\nname =\n",                        /* no value */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mm_lang_result r = {0};
        int rc = mm_cargo_parse_lock(&r, bad[i], strlen(bad[i]),
                                     "/app/Cargo.lock");
        CHECK_INT(rc, MM_EFORMAT);
        /* the line of the defect (the open array: where input ends) */
        const char *want = i == 1 ? "line 2: unexpected text"
                         : i == 2 ? "line 1: unterminated table header"
                         : i == 4 ? "line 3: unterminated array"
                         : "line 2: ";
        if (!strstr(mm_error_last(), want))
            fprintf(stderr, "case %zu: %s\n", i, mm_error_last());
        CHECK(strstr(mm_error_last(), want) != NULL);
        CHECK(mm_str_startswith(mm_error_last(), "/app/Cargo.lock: "));
        mm_lang_result_free(&r);
    }
    /* nesting deeper than the cap */
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "x = ");
    for (int i = 0; i < 10000; i++)
        mm_buf_addc(&b, '[');
    mm_lang_result r = {0};
    CHECK_INT(mm_cargo_parse_lock(&r, b.data, b.len, "deep"), MM_EFORMAT);
    mm_buf_free(&b);
}

/* --- Rust: cargo-auditable ----------------------------------------------- */

static const char audit_json[] =
    "{\"packages\":["
    "{\"name\":\"demo-bin\",\"version\":\"0.1.0\",\"source\":\"local\","
    "\"dependencies\":[1,2,3],\"root\":true},"
    "{\"name\":\"cc\",\"version\":\"1.0.83\",\"source\":\"crates.io\","
    "\"kind\":\"build\"},"
    "{\"name\":\"itoa\",\"version\":\"1.0.9\",\"source\":\"crates.io\"},"
    "{\"name\":\"serde_json\",\"version\":\"1.0.108\",\"source\":\"crates.io\","
    "\"kind\":\"runtime\",\"dependencies\":[2]},"
    "{\"name\":\"noversion\"}"
    "]}";

static mm_buf zcompress(const char *s, size_t n)
{
    mm_buf b = MM_BUF_INIT;
    uLongf cap = compressBound((uLong)n);
    mm_buf_reserve(&b, cap);
    if (compress2((Bytef *)b.data, &cap, (const Bytef *)s, (uLong)n, 9) != Z_OK)
        abort();
    b.len = cap;
    return b;
}

static void check_audit_pkgs(const mm_lang_result *r)
{
    CHECK_INT(r->npkgs, 3);
    const mm_package *p = find(r, "demo-bin");
    REQUIRE(p);
    CHECK(!p->indirect);
    p = find(r, "serde_json");
    REQUIRE(p);
    CHECK_STR(p->version, "1.0.108");
    CHECK(p->indirect);
    CHECK(find(r, "itoa") != NULL);
    CHECK(find(r, "cc") == NULL); /* build-time only */
}

MM_TEST(cargo_dep_v0)
{
    mm_buf z = zcompress(audit_json, sizeof audit_json - 1);
    mm_lang_result r = {0};
    CHECK_OK(mm_cargo_parse_dep_v0(&r, (const uint8_t *)z.data, z.len, "bin"));
    check_audit_pkgs(&r);
    mm_lang_result_free(&r);
    /* truncated stream, garbage, JSON without packages */
    CHECK_INT(mm_cargo_parse_dep_v0(&r, (const uint8_t *)z.data, z.len / 2,
                                    "bin"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "bin: .dep-v0") != NULL);
    CHECK_INT(mm_cargo_parse_dep_v0(&r, (const uint8_t *)"xyz", 3, "bin"),
              MM_EFORMAT);
    mm_buf_free(&z);
    z = zcompress("{\"pkgs\":[]}", 11);
    CHECK_INT(mm_cargo_parse_dep_v0(&r, (const uint8_t *)z.data, z.len, "bin"),
              MM_EFORMAT);
    mm_buf_free(&z);
    mm_lang_result_free(&r);
    /* a zlib bomb: 64 MiB of spaces is over the inflate cap */
    size_t big = 64u << 20;
    char *sp = malloc(big);
    REQUIRE(sp);
    memset(sp, ' ', big);
    z = zcompress(sp, big);
    free(sp);
    CHECK_INT(mm_cargo_parse_dep_v0(&r, (const uint8_t *)z.data, z.len, "bin"),
              MM_ELIMIT);
    mm_buf_free(&z);
    mm_lang_result_free(&r);
}

/* Builds a copy of /bin/true with a .dep-v0 section holding the
 * compressed audit JSON; returns its path (static) or NULL. */
static const char *make_auditable(const char *dir)
{
    static char out[4096];
    if (access("/bin/true", R_OK) != 0 || system("objcopy --version "
                                                 ">/dev/null 2>&1") != 0)
        return NULL;
    mm_buf z = zcompress(audit_json, sizeof audit_json - 1);
    char *sec = mm_xasprintf("%s/dep.z", dir);
    write_file(dir, "dep.z", z.data, z.len, 0644);
    mm_buf_free(&z);
    snprintf(out, sizeof out, "%s/auditable", dir);
    char *cmd = mm_xasprintf("objcopy --add-section .dep-v0=%s "
                             "--set-section-flags .dep-v0=noload,readonly "
                             "/bin/true %s", sec, out);
    int rc = system(cmd);
    free(cmd);
    free(sec);
    return rc == 0 ? out : NULL;
}

/* Streams a file through the incremental reader in chunks of step. */
static mm_cargobin_status stream_file(const uint8_t *d, size_t n, size_t step,
                                      mm_lang_result *r)
{
    mm_cargobin *c = mm_cargobin_new(n);
    mm_cargobin_status st = MM_CARGOBIN_MORE;
    for (size_t off = 0; off < n && st == MM_CARGOBIN_MORE; off += step)
        st = mm_cargobin_feed(c, off, d + off, n - off < step ? n - off : step);
    if (st == MM_CARGOBIN_MORE)
        st = mm_cargobin_finish(c);
    if (st == MM_CARGOBIN_FOUND) {
        size_t len;
        const uint8_t *s = mm_cargobin_section(c, &len);
        if (mm_cargo_parse_dep_v0(r, s, len, "stream") < 0)
            st = MM_CARGOBIN_BAD;
    }
    mm_cargobin_free(c);
    return st;
}

MM_TEST(cargo_auditable_elf)
{
    char *t = mm_xstrdup(mmt_tmpdir());
    const char *bin = make_auditable(t);
    if (!bin) {
        mm_tmpdir_remove(t);
        free(t);
        MMT_SKIP("objcopy or /bin/true unavailable");
    }
    size_t n;
    uint8_t *d = (uint8_t *)mmt_read(bin, &n);
    REQUIRE(d);
    mm_lang_result r = {0};
    CHECK_INT(mm_cargobin_parse_buffer(&r, d, n, bin), MM_CARGOBIN_FOUND);
    check_audit_pkgs(&r);
    mm_lang_result_free(&r);
    /* chunk sizes that split the ELF header and the section table */
    static const size_t steps[] = {1, 7, 63, 64, 4096, 65536};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        if (steps[i] == 1 && n > (1u << 20))
            continue;
        CHECK_INT(stream_file(d, n, steps[i], &r), MM_CARGOBIN_FOUND);
        CHECK_INT(r.npkgs, 3);
        mm_lang_result_free(&r);
    }
    /* truncated before the section table */
    CHECK_INT(mm_cargobin_parse_buffer(&r, d, n - 100, bin), MM_CARGOBIN_BAD);
    /* an ordinary ELF, a script, a tiny file */
    size_t tn;
    uint8_t *td = (uint8_t *)mmt_read("/bin/true", &tn);
    REQUIRE(td);
    CHECK_INT(mm_cargobin_parse_buffer(&r, td, tn, "/bin/true"),
              MM_CARGOBIN_NONE);
    CHECK_INT(mm_cargobin_parse_buffer(&r, (const uint8_t *)"#!/bin/sh\n", 10,
                                       "s"), MM_CARGOBIN_NOT_ELF);
    CHECK_INT(mm_cargobin_parse_buffer(&r, (const uint8_t *)"\x7f" "EL", 3,
                                       "s"), MM_CARGOBIN_NOT_ELF);
    CHECK_INT(mm_cargobin_parse_buffer(&r, td, 40, "s"), MM_CARGOBIN_NONE);
    CHECK_INT(r.npkgs, 0);
    /* corrupt section headers: every header byte flipped in turn never
     * crashes and never finds more than the real packages */
    for (size_t i = 0; i < 64; i++) {
        uint8_t save = d[i];
        d[i] ^= 0xff;
        (void)mm_cargobin_parse_buffer(&r, d, n, "flip");
        d[i] = save;
        CHECK(r.npkgs == 0 || r.npkgs == 3);
        mm_lang_result_free(&r);
    }
    free(td);
    free(d);
    mm_tmpdir_remove(t);
    free(t);
}

/* --- PHP ----------------------------------------------------------------- */

MM_TEST(composer_v2)
{
    size_t len;
    char *d = fixture("lang2/composer/installed-v2.json", &len);
    REQUIRE(d);
    mm_lang_result r = {0};
    CHECK_OK(mm_composer_parse_installed(&r, d, len, "installed.json"));
    CHECK_INT(r.npkgs, 3);
    const mm_package *p = find(&r, "monolog/monolog");
    REQUIRE(p);
    CHECK_INT(p->type, MM_PKG_COMPOSER);
    CHECK_STR(p->version, "3.5.0");
    CHECK_STR(p->license, "MIT");
    p = find(&r, "symfony/polyfill-mbstring");
    REQUIRE(p);
    CHECK_STR(p->version, "v1.28.0"); /* as written */
    char *purl = mm_purl_for(p, NULL, NULL);
    CHECK_STR(purl, "pkg:composer/symfony/polyfill-mbstring@v1.28.0");
    free(purl);
    mm_lang_result_free(&r);
    free(d);
}

MM_TEST(composer_v1)
{
    size_t len;
    char *d = fixture("lang2/composer/installed-v1.json", &len);
    REQUIRE(d);
    mm_lang_result r = {0};
    CHECK_OK(mm_composer_parse_installed(&r, d, len, "installed.json"));
    CHECK_INT(r.npkgs, 3);
    const mm_package *p = find(&r, "phpmailer/phpmailer");
    REQUIRE(p);
    CHECK_STR(p->license, "LGPL-2.1-only OR GPL-2.0-or-later");
    p = find(&r, "Doctrine/Inflector");
    REQUIRE(p);
    char *purl = mm_purl_for(p, NULL, NULL);
    CHECK_STR(purl, "pkg:composer/doctrine/inflector@v1.4.4");
    free(purl);
    p = find(&r, "acme/no-license");
    REQUIRE(p);
    CHECK(p->license == NULL);
    mm_lang_result_free(&r);
    free(d);
}

MM_TEST(composer_lock_and_errors)
{
    static const char lock[] =
        "{\"_readme\":[\"x\"],\"packages\":[{\"name\":\"a/b\",\"version\":"
        "\"1.0\",\"license\":\"BSD-3-Clause\"}],\"packages-dev\":[{\"name\":"
        "\"phpunit/phpunit\",\"version\":\"10.4.2\"}]}";
    mm_lang_result r = {0};
    CHECK_OK(mm_composer_parse_installed(&r, lock, sizeof lock - 1, "lock"));
    CHECK_INT(r.npkgs, 2);
    CHECK_STR(find(&r, "a/b")->license, "BSD-3-Clause");
    CHECK(find(&r, "phpunit/phpunit")->indirect);
    CHECK(!find(&r, "a/b")->indirect);
    mm_lang_result_free(&r);
    CHECK_INT(mm_composer_parse_installed(&r, "{\"packages\":", 12, "/v/i.json"),
              MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "/v/i.json") != NULL);
    CHECK_INT(mm_composer_parse_installed(&r, "{\"x\":1}", 7, "/v/i.json"),
              MM_EFORMAT);
    CHECK_INT(mm_composer_parse_installed(&r, "\"str\"", 5, "/v/i.json"),
              MM_EFORMAT);
    CHECK_INT(r.npkgs, 0);
}

/* --- the analyzers through real scans ------------------------------------ */

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
    char *t = mm_xstrdup(mmt_tmpdir());
    char *root = mm_xasprintf("%s/root", t);
    mkdir(root, 0755);
    const char *spec = "usr/local/bundle/specifications";
    char rel[512];
    snprintf(rel, sizeof rel, "%s/rack-3.0.8.gemspec", spec);
    put_fixture(root, rel, "lang2/gem/rack-3.0.8.gemspec");
    put_fixture(root, "usr/lib/ruby/gems/3.1.0/specifications/default/"
                      "net-http-0.4.1.gemspec",
                "lang2/gem/bundled-default.gemspec");
    snprintf(rel, sizeof rel, "%s/broken-1.0.gemspec", spec);
    put_fixture(root, rel, "lang2/gem/broken.gemspec");
    /* a gem's own source gemspec is not an installed specification */
    put_fixture(root, "usr/local/bundle/gems/rack-3.0.8/rack.gemspec",
                "lang2/gem/json-1.4.6.gemspec");
    put_fixture(root, "app/Cargo.lock", "lang2/cargo/Cargo.lock");
    write_file(root, "srv/broken/Cargo.lock", "[[package]\n", 11, 0644);
    put_fixture(root, "root/.cargo/registry/src/index/x-1.0/Cargo.lock",
                "lang2/cargo/Cargo.lock");
    put_fixture(root, "var/www/vendor/composer/installed.json",
                "lang2/composer/installed-v2.json");
    write_file(root, "srv/php/vendor/composer/installed.json", "[{", 2, 0644);
    const char *bin = make_auditable(t);
    if (bin) {
        size_t n;
        char *d = mmt_read(bin, &n);
        REQUIRE(d);
        write_file(root, "usr/local/bin/demo-bin", d, n, 0755);
        free(d);
    }

    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    free(root);
    mm_tmpdir_remove(t);
    free(t);
    REQUIRE(r);
    mm_inventory *inv = mm_result_inventory(r);

    CHECK_INT(inv_count(inv, MM_PKG_GEM), 2);
    const mm_package *p = inv_find(inv, MM_PKG_GEM, "rack");
    REQUIRE(p);
    CHECK_STR(p->version, "3.0.8");
    CHECK_STR(p->purl, "pkg:gem/rack@3.0.8");
    CHECK_STR(p->path, "/usr/local/bundle/specifications/rack-3.0.8.gemspec");
    CHECK_INT(p->layer, 0);
    CHECK(inv_find(inv, MM_PKG_GEM, "net-http") != NULL);
    CHECK(has_warning(r, "broken-1.0.gemspec"));

    /* the download cache's lockfile is ignored; the broken one warns */
    size_t ncargo = inv_count(inv, MM_PKG_CARGO);
    CHECK_INT(ncargo, bin ? 5 + 3 : 5);
    p = inv_find(inv, MM_PKG_CARGO, "regex");
    REQUIRE(p);
    CHECK_STR(p->path, "/app/Cargo.lock");
    CHECK_STR(p->purl, "pkg:cargo/regex@1.10.2");
    CHECK(has_warning(r, "/srv/broken/Cargo.lock: line 1"));
    if (bin) {
        p = inv_find(inv, MM_PKG_CARGO, "serde_json");
        REQUIRE(p);
        CHECK_STR(p->path, "/usr/local/bin/demo-bin");
        CHECK_STR(p->purl, "pkg:cargo/serde_json@1.0.108");
    }

    CHECK_INT(inv_count(inv, MM_PKG_COMPOSER), 3);
    p = inv_find(inv, MM_PKG_COMPOSER, "monolog/monolog");
    REQUIRE(p);
    CHECK_STR(p->path, "/var/www/vendor/composer/installed.json");
    CHECK_STR(p->purl, "pkg:composer/monolog/monolog@3.5.0");
    CHECK_STR(p->license, "MIT");
    CHECK(has_warning(r, "/srv/php/vendor/composer/installed.json"));
    mm_result_free(r);
}

typedef struct lfile {
    const char *name;
    const char *data;
    size_t len; /* (size_t)-1: strlen */
    unsigned mode;
} lfile;

/* Writes a layer tar and returns its sha256 (the diff_id). */
static void write_layer(const char *file, const lfile *f, size_t n,
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
        archive_entry_set_perm(e, f[i].mode ? f[i].mode : 0644);
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

#define S(x) (x), (size_t)-1

MM_TEST(analyzers_layers)
{
    char *t = mm_xstrdup(mmt_tmpdir());
    char *img = mm_xasprintf("%s/img", t);
    mkdir(img, 0755);
    const char *bin = make_auditable(t);
    size_t binlen = 0;
    char *bind = bin ? mmt_read(bin, &binlen) : NULL;
    const char *spec = "usr/local/bundle/specifications/";
    char g1[256], g2[256], wh[256];
    snprintf(g1, sizeof g1, "%srack-3.0.8.gemspec", spec);
    snprintf(g2, sizeof g2, "%sjson-1.4.6.gemspec", spec);
    snprintf(wh, sizeof wh, "%s.wh.json-1.4.6.gemspec", spec);
    const char *comp = "app/vendor/composer/installed.json";
    lfile l1[] = {
        {g1, S("s.name = \"rack\"\ns.version = \"2.2.8\"\n"), 0},
        {g2, S("s.name = \"json\"\ns.version = \"1.4.6\"\n"), 0},
        {"app/Cargo.lock", S("[[package]]\nname = \"old\"\nversion = \"1\"\n"),
         0},
        {comp, S("[{\"name\":\"a/b\",\"version\":\"1.0\"}]"), 0},
        {"usr/bin/demo", bind ? bind : "", bind ? binlen : 0, 0755},
        {"usr/bin/demo2", bind ? bind : "", bind ? binlen : 0, 0755},
    };
    lfile l2[] = {
        /* upgraded, deleted, replaced, broken, no longer auditable */
        {g1, S("s.name = \"rack\"\ns.version = \"3.0.8\"\n"), 0},
        {wh, S(""), 0},
        {"app/Cargo.lock", S("[[package]]\nname = \"new\"\nversion = \"2\"\n"),
         0},
        {comp, S("not json"), 0},
        {"usr/bin/demo", S("#!/bin/sh\necho replaced\n"), 0755},
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
    CHECK_INT(inv_count(inv, MM_PKG_GEM), 1);
    const mm_package *p = inv_find(inv, MM_PKG_GEM, "rack");
    REQUIRE(p);
    CHECK_STR(p->version, "3.0.8");
    CHECK_INT(p->layer, 1);
    CHECK_STR(p->layer_digest, d2);
    CHECK(inv_find(inv, MM_PKG_CARGO, "old") == NULL);
    p = inv_find(inv, MM_PKG_CARGO, "new");
    REQUIRE(p);
    CHECK_INT(p->layer, 1);
    CHECK_INT(inv_count(inv, MM_PKG_COMPOSER), 0);
    CHECK(has_warning(r, "/app/vendor/composer/installed.json"));
    if (bind) {
        /* only demo2 still carries audit data */
        CHECK_INT(inv_count(inv, MM_PKG_CARGO), 1 + 3);
        p = inv_find(inv, MM_PKG_CARGO, "demo-bin");
        REQUIRE(p);
        CHECK_STR(p->path, "/usr/bin/demo2");
        CHECK_INT(p->layer, 0);
        CHECK_STR(p->layer_digest, d1);
    }
    mm_result_free(r);
    free(cfg);
    free(p1);
    free(p2);
    free(bind);
    free(img);
}

MM_TEST_MAIN
