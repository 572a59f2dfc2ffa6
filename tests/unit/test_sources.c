/*
 * test_sources.c - the sources file of `mamori db update`: a valid file is
 * read field by field, the shipped default file parses and points only at
 * https URLs, and every mistake (unknown kind, missing url, bad size, bad
 * digest, typo'd key, duplicate name, broken YAML) is an error naming the
 * line it is on.
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/vulnupdate.h"
#include "mmtest.h"

static int parse(mm_vuln_sources **s, const char *text)
{
    return mm_vuln_sources_parse(s, text, strlen(text), "src.yaml");
}

/* The call fails with MM_EFORMAT and the message starts "src.yaml:LINE:"
 * and holds what. */
static void expect_error(const char *text, int line, const char *what)
{
    mm_vuln_sources *s = NULL;
    int rc = parse(&s, text);
    CHECK(rc != 0);
    CHECK(s == NULL);
    char want[64];
    snprintf(want, sizeof want, "src.yaml:%d:", line);
    const char *msg = mm_error_last();
    if (strncmp(msg, want, strlen(want)) != 0 || !strstr(msg, what)) {
        fprintf(stderr, "message \"%s\": want prefix \"%s\" and \"%s\"\n", msg,
                want, what);
        mmt_failed_now = 1;
    }
    mm_vuln_sources_free(s);
}

MM_TEST(valid_file)
{
    const char *text =
        "# comment\n"
        "sources:\n"
        "  - name: osv-go\n"
        "    kind: osv-zip\n"
        "    url: https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip\n"
        "    max_size: 64M\n"
        "    expect_min_records: 2000\n"
        "  - name: debian\n"
        "    kind: debian-tracker\n"
        "    url: https://security-tracker.debian.org/tracker/data/json\n"
        "    sha256: sha256:ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789\n"
        "  - name: alpine_3.22.main\n"
        "    kind: alpine-secdb\n"
        "    url: \"http://127.0.0.1:8080/v3.22/main.json\"\n"
        "    sha256_url: https://mirror.example/v3.22/main.json.sha256\n"
        "  - {name: one, kind: osv, url: 'https://x.example/GO-2022-0001.json',"
        " max_size: 1024}\n";
    mm_vuln_sources *s = NULL;
    CHECK_OK(parse(&s, text));
    REQUIRE(s);
    REQUIRE(s->n == 4);
    CHECK_STR(s->v[0].name, "osv-go");
    CHECK_INT(s->v[0].kind, MM_SRC_OSV_ZIP);
    CHECK_STR(s->v[0].url,
              "https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip");
    CHECK_INT(s->v[0].max_size, 64ULL << 20);
    CHECK_INT(s->v[0].expect_min_records, 2000);
    CHECK(s->v[0].sha256 == NULL && s->v[0].sha256_url == NULL);
    CHECK_INT(s->v[0].line, 3);
    CHECK_INT(s->v[1].kind, MM_SRC_DEBIAN_TRACKER);
    /* stored lower case, without the prefix */
    CHECK_STR(s->v[1].sha256,
              "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    CHECK_INT(s->v[1].max_size, MM_SOURCE_DEFAULT_MAX_SIZE);
    CHECK_INT(s->v[1].expect_min_records, 0);
    CHECK_INT(s->v[2].kind, MM_SRC_ALPINE_SECDB);
    CHECK_STR(s->v[2].name, "alpine_3.22.main");
    CHECK_STR(s->v[2].url, "http://127.0.0.1:8080/v3.22/main.json");
    CHECK_STR(s->v[2].sha256_url, "https://mirror.example/v3.22/main.json.sha256");
    CHECK_INT(s->v[3].kind, MM_SRC_OSV);
    CHECK_INT(s->v[3].max_size, 1024);
    CHECK_INT(s->v[3].line, 16);
    CHECK_STR(mm_source_kind_name(s->v[3].kind), "osv");
    mm_vuln_sources_free(s);
}

MM_TEST(bare_list)
{
    mm_vuln_sources *s = NULL;
    CHECK_OK(parse(&s, "- name: a\n  kind: osv-zip\n  url: https://h/a.zip\n"));
    REQUIRE(s && s->n == 1);
    CHECK_STR(s->v[0].name, "a");
    mm_vuln_sources_free(s);
    /* an empty list is valid (the update then says there is nothing to do) */
    CHECK_OK(parse(&s, "sources: []\n"));
    REQUIRE(s);
    CHECK_INT(s->n, 0);
    mm_vuln_sources_free(s);
}

MM_TEST(unknown_kind)
{
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    kind: osv-zip\n"
                 "    url: https://h/a.zip\n"
                 "  - name: b\n"
                 "    kind: nvd\n"
                 "    url: https://h/b.json\n",
                 6, "unknown kind \"nvd\"");
}

MM_TEST(missing_url)
{
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    kind: osv-zip\n"
                 "    url: https://h/a.zip\n"
                 "  - name: b\n"
                 "    kind: osv\n",
                 5, "source b: missing url");
    expect_error("- kind: osv\n  url: https://h/x\n", 1, "without a name");
    expect_error("- name: x\n  url: https://h/x\n", 1, "missing kind");
}

MM_TEST(bad_size)
{
    expect_error("sources:\n"
                 "  - name: a\n"
                 "    kind: osv-zip\n"
                 "    url: https://h/a.zip\n"
                 "    max_size: lots\n",
                 5, "max_size \"lots\"");
    expect_error("- name: a\n  kind: osv-zip\n  url: https://h/a.zip\n"
                 "  max_size: -5\n", 4, "max_size");
    expect_error("- name: a\n  kind: osv-zip\n  url: https://h/a.zip\n"
                 "  max_size: 0\n", 4, "max_size");
    expect_error("- name: a\n  kind: osv-zip\n  url: https://h/a.zip\n"
                 "  max_size: 99999999999999999999999\n", 4, "max_size");
    expect_error("- name: a\n  kind: osv-zip\n  url: https://h/a.zip\n"
                 "  max_size: 2P\n", 4, "max_size");
    expect_error("- name: a\n  kind: osv-zip\n  url: https://h/a.zip\n"
                 "  expect_min_records: many\n", 4, "expect_min_records");
    /* sizes with suffixes are powers of 1024 */
    mm_vuln_sources *s = NULL;
    CHECK_OK(parse(&s, "- {name: a, kind: osv, url: 'https://h/a', max_size: 3KiB}\n"
                       "- {name: b, kind: osv, url: 'https://h/b', max_size: 2G}\n"));
    REQUIRE(s && s->n == 2);
    CHECK_INT(s->v[0].max_size, 3072);
    CHECK_INT(s->v[1].max_size, 2ULL << 30);
    mm_vuln_sources_free(s);
}

MM_TEST(bad_values)
{
    expect_error("- name: a\n  kind: osv\n  url: ftp://h/a\n", 3, "url \"ftp://h/a\"");
    expect_error("- name: a\n  kind: osv\n  url: https://h/a b\n", 3, "url");
    expect_error("- name: a\n  kind: osv\n  url: https://\n", 3, "url");
    expect_error("- name: a\n  kind: osv\n  url: https://h/a\n  sha256: abc\n", 4,
                 "sha256 \"abc\"");
    expect_error("- name: a\n  kind: osv\n  url: https://h/a\n"
                 "  sha256: " "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\n",
                 4, "sha256");
    expect_error("- name: a/b\n  kind: osv\n  url: https://h/a\n", 1, "name \"a/b\"");
    expect_error("- name: a\n  kind: osv\n  url: https://h/a\n  sha265: x\n", 4,
                 "unknown key \"sha265\"");
    expect_error("- name: a\n  kind: osv\n  url: [https://h/a]\n", 3,
                 "url: want a single value");
    expect_error("- name: a\n  kind: osv\n  url: https://h/a\n"
                 "- name: a\n  kind: osv\n  url: https://h/b\n", 4,
                 "already used on line 1");
    expect_error("mirrors:\n  - x\n", 1, "unknown key \"mirrors\"");
    expect_error("sources:\n  name: a\n", 1, "want a list of sources");  /* at the key */
    expect_error("- just a string\n", 1, "must be a mapping");
    expect_error("- name: a\n  kind: osv\n  url: https://h/a\n"
                 "  sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
                 "  sha256_url: https://h/a.sha256\n", 1, "not both");
}

MM_TEST(broken_yaml)
{
    /* libyaml's own message, with the line of the problem */
    expect_error("sources:\n  - name: a\n    kind: [osv\n", 4, "");
    mm_vuln_sources *s = NULL;
    CHECK(parse(&s, "") != 0);
    CHECK(strstr(mm_error_last(), "empty") != NULL);
}

MM_TEST(restrict)
{
    mm_vuln_sources *s = NULL;
    CHECK_OK(parse(&s, "- {name: a, kind: osv, url: 'https://h/a'}\n"
                       "- {name: b, kind: osv, url: 'https://h/b'}\n"
                       "- {name: c, kind: osv, url: 'https://h/c'}\n"));
    REQUIRE(s && s->n == 3);
    CHECK(mm_vuln_sources_restrict(s, "c,zz") == MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "\"zz\"") != NULL);
    CHECK_INT(s->n, 3);                 /* unchanged on error */
    CHECK_OK(mm_vuln_sources_restrict(s, "c, a"));
    REQUIRE(s->n == 2);
    CHECK_STR(s->v[0].name, "a");      /* file order is kept */
    CHECK_STR(s->v[1].name, "c");
    mm_vuln_sources_free(s);
}

MM_TEST(shipped_default_file)
{
    const char *root = getenv("MAMORI_SOURCE");
    if (!root)
        MMT_SKIP("MAMORI_SOURCE not set (run through meson test)");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/vuln-sources.yaml", root);
    mm_vuln_sources *s = NULL;
    CHECK_OK(mm_vuln_sources_load(&s, path));
    REQUIRE(s);
    /* 18 osv.dev ecosystems, the Debian tracker, 3 Alpine releases x 2 */
    CHECK_INT(s->n, 25);
    int zips = 0, tracker = 0, secdb = 0;
    for (size_t i = 0; i < s->n; i++) {
        CHECK(strncmp(s->v[i].url, "https://", 8) == 0);
        zips += s->v[i].kind == MM_SRC_OSV_ZIP;
        tracker += s->v[i].kind == MM_SRC_DEBIAN_TRACKER;
        secdb += s->v[i].kind == MM_SRC_ALPINE_SECDB;
    }
    CHECK_INT(zips, 18);
    CHECK_INT(tracker, 1);
    CHECK_INT(secdb, 6);
    CHECK(mm_vuln_sources_restrict(s, "osv-go,debian-tracker") == 0);
    REQUIRE(s->n == 2);
    CHECK_STR(s->v[0].url, "https://osv-vulnerabilities.storage.googleapis.com/Go/all.zip");
    mm_vuln_sources_free(s);
    /* a missing file names it */
    CHECK(mm_vuln_sources_load(&s, "/nonexistent/sources.yaml") == MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "/nonexistent/sources.yaml") != NULL);
}

MM_TEST_MAIN
