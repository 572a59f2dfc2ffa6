/*
 * test_report.c - the report writers and what they rest on: package-urls
 * (cases from the purl-spec's own test data and type definitions), SPDX
 * licence expressions, the findings list, the mamori JSON schema, the
 * CycloneDX and SPDX documents (unique references even when one package
 * sits in two places) and the aligned table.
 *
 * Reports are produced from a real scan of a tiny root filesystem the test
 * writes: os-release (Debian 12), a dpkg status with two packages (one
 * with an epoch and a source package) and Python distributions, one of
 * them installed twice.
 */
#include <errno.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mmtest.h"
#include "mamori/mamori.h"
#include "report/report_int.h"

/* --- purl --------------------------------------------------------------- */

typedef struct purl_case {
    mm_pkg_type type;
    const char *name, *version;
    int epoch;
    const char *arch, *os_id, *distro;
    const char *want;
} purl_case;

static const purl_case purl_cases[] = {
    /* deb: purl-spec tests/types/deb-test.json */
    {MM_PKG_DPKG, "curl", "7.50.3-1", -1, "i386", "debian", "jessie",
     "pkg:deb/debian/curl@7.50.3-1?arch=i386&distro=jessie"},
    {MM_PKG_DPKG, "dpkg", "1.19.0.4", -1, "amd64", "ubuntu", NULL,
     "pkg:deb/ubuntu/dpkg@1.19.0.4?arch=amd64"},
    /* the epoch stays in the version; ':' is never encoded, '+' is */
    {MM_PKG_DPKG, "attr", "1:2.4.47-2+b1", -1, "amd64", "debian", NULL,
     "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64"},
    {MM_PKG_DPKG, "attr", "1:2.4.47-2", -1, "source", "debian", NULL,
     "pkg:deb/debian/attr@1:2.4.47-2?arch=source"},
    {MM_PKG_DPKG, "libc6", "2.36-9+deb12u4", -1, "amd64", NULL, "debian-12",
     "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12"},
    /* rpm: tests/types/rpm-test.json; qualifiers sorted by key */
    {MM_PKG_RPM, "curl", "7.50.3-1.fc25", -1, "i386", "fedora", "fedora-25",
     "pkg:rpm/fedora/curl@7.50.3-1.fc25?arch=i386&distro=fedora-25"},
    {MM_PKG_RPM, "centerim", "4.22.10-1.el6", 1, "i686", "fedora", "fedora-25",
     "pkg:rpm/fedora/centerim@4.22.10-1.el6?arch=i686&distro=fedora-25&epoch=1"},
    /* an epoch written into the version moves to the qualifier */
    {MM_PKG_RPM, "centerim", "1:4.22.10-1.el6", -1, "i686", "rhel", NULL,
     "pkg:rpm/redhat/centerim@4.22.10-1.el6?arch=i686&epoch=1"},
    {MM_PKG_RPM, "zsh", "5.6-1", 0, "x86_64", "opensuse-leap", "opensuse-15.3",
     "pkg:rpm/opensuse/zsh@5.6-1?arch=x86_64&distro=opensuse-15.3"},
    /* apk: tests/types/apk-test.json */
    {MM_PKG_APK, "curl", "7.83.0-r0", -1, "x86", "alpine", NULL,
     "pkg:apk/alpine/curl@7.83.0-r0?arch=x86"},
    /* pypi: lowercase, '_' -> '-' (tests/types/pypi-test.json) */
    {MM_PKG_PYTHON, "Django_package", "1.11.1.dev1", -1, NULL, "debian", NULL,
     "pkg:pypi/django-package@1.11.1.dev1"},
    {MM_PKG_PYTHON, "Django", "1.11.1", -1, NULL, NULL, NULL,
     "pkg:pypi/django@1.11.1"},
    /* npm: the scope is the namespace, '@' encoded */
    {MM_PKG_NPM, "@angular/animation", "12.3.1", -1, NULL, NULL, NULL,
     "pkg:npm/%40angular/animation@12.3.1"},
    {MM_PKG_NPM, "foobar", "12.3.1", -1, NULL, NULL, NULL,
     "pkg:npm/foobar@12.3.1"},
    /* golang: namespace up to the last '/' (tests/types/golang-test.json) */
    {MM_PKG_GOMOD, "github.com/gorilla/context", "234fd47e07d1004f0aed9c", -1,
     NULL, NULL, NULL,
     "pkg:golang/github.com/gorilla/context@234fd47e07d1004f0aed9c"},
    {MM_PKG_GOMOD, "stdlib", "v1.21.5", -1, NULL, NULL, NULL,
     "pkg:golang/stdlib@v1.21.5"},
    {MM_PKG_GOMOD, "stdlib", "go1.21.5", -1, NULL, NULL, NULL,
     "pkg:golang/stdlib@v1.21.5"},
    {MM_PKG_GOMOD, "github.com/docker/docker", "v24.0.7+incompatible", -1,
     NULL, NULL, NULL,
     "pkg:golang/github.com/docker/docker@v24.0.7%2Bincompatible"},
    /* maven: group is the namespace (tests/types/maven-test.json) */
    {MM_PKG_MAVEN, "org.apache.xmlgraphics:batik-anim", "1.9.1", -1, NULL,
     NULL, NULL, "pkg:maven/org.apache.xmlgraphics/batik-anim@1.9.1"},
    /* gem, cargo, composer */
    {MM_PKG_GEM, "ruby-advisory-db-check", "0.12.4", -1, NULL, NULL, NULL,
     "pkg:gem/ruby-advisory-db-check@0.12.4"},
    {MM_PKG_CARGO, "rand", "0.7.2", -1, NULL, NULL, NULL,
     "pkg:cargo/rand@0.7.2"},
    {MM_PKG_COMPOSER, "Laravel/Laravel", "5.5.0", -1, NULL, NULL, NULL,
     "pkg:composer/laravel/laravel@5.5.0"},
    /* characters outside the unreserved set are percent-encoded */
    {MM_PKG_NPM, "odd name", "1.0 beta", -1, NULL, NULL, NULL,
     "pkg:npm/odd%20name@1.0%20beta"},
    /* no version: no '@' */
    {MM_PKG_CARGO, "serde", NULL, -1, NULL, NULL, NULL, "pkg:cargo/serde"},
};

MM_TEST(purl_spec_cases)
{
    for (size_t i = 0; i < sizeof purl_cases / sizeof purl_cases[0]; i++) {
        const purl_case *c = &purl_cases[i];
        mm_package p = {0};
        p.type = c->type;
        p.name = (char *)c->name;
        p.version = (char *)c->version;
        p.epoch = c->epoch;
        p.arch = (char *)c->arch;
        p.layer = -1;
        char *got = mm_purl_for(&p, c->os_id, c->distro);
        CHECK_STR(got, c->want);
        free(got);
    }
}

MM_TEST(purl_refuses_nameless)
{
    mm_package p = {0};
    p.type = MM_PKG_DPKG;
    p.epoch = -1;
    CHECK(mm_purl_for(&p, "debian", NULL) == NULL);
    p.name = "x";
    p.type = MM_PKG_UNKNOWN;
    CHECK(mm_purl_for(&p, "debian", NULL) == NULL);
}

MM_TEST(pkg_type_names)
{
    CHECK_STR(mm_pkg_type_name(MM_PKG_DPKG), "dpkg");
    CHECK_STR(mm_pkg_type_name(MM_PKG_GOMOD), "gomod");
    CHECK_STR(mm_pkg_type_name(MM_PKG_COMPOSER), "composer");
    CHECK_STR(mm_pkg_type_name((mm_pkg_type)999), "unknown");
}

/* --- licences ------------------------------------------------------------ */

MM_TEST(spdx_license_expressions)
{
    static const struct { const char *in, *want; bool single; } cases[] = {
        {"MIT", "MIT", true},
        {"mit", "MIT", true},
        {"apache-2.0", "Apache-2.0", true},
        {"GPL-2.0+", "GPL-2.0+", false},
        {"GPL-2.0-only+", "GPL-2.0-only+", false},
        {"MIT OR Apache-2.0", "MIT OR Apache-2.0", false},
        {"(MIT or Apache-2.0) and BSD-3-Clause",
         "(MIT OR Apache-2.0) AND BSD-3-Clause", false},
        {"GPL-2.0-or-later WITH Classpath-exception-2.0",
         "GPL-2.0-or-later WITH Classpath-exception-2.0", false},
        {"GPLv2+ and LGPLv2+", "GPL-2.0-or-later AND LGPL-2.0-or-later", false},
        {"Apache License, Version 2.0", "Apache-2.0", true},
        {"ASL 2.0", "Apache-2.0", true},
        {"LicenseRef-Custom.1", "LicenseRef-Custom.1", false},
        {"  MIT  ", "MIT", true},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool single = !cases[i].single;
        char *got = mm_spdx_license_normalize(cases[i].in, &single);
        CHECK_STR(got, cases[i].want);
        if (single != cases[i].single)
            fprintf(stderr, "single wrong for \"%s\"\n", cases[i].in);
        CHECK(single == cases[i].single);
        free(got);
    }
    static const char *const bad[] = {
        "", "MIT BSD", "AND", "MIT AND", "(MIT", "MIT)", "Public Domain",
        "MIT WITH Foo-exception", "Classpath-exception-2.0", "BSD",
        "LicenseRef-", "LicenseRef-a b", "Some Custom Licence v1", "MIT OR OR",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *got = mm_spdx_license_normalize(bad[i], NULL);
        if (got)
            fprintf(stderr, "\"%s\" accepted as \"%s\"\n", bad[i], got);
        CHECK(got == NULL);
        free(got);
    }
    CHECK(mm_spdx_license_normalize(NULL, NULL) == NULL);
    /* deep nesting is refused, not a stack overflow */
    char deep[4096];
    memset(deep, '(', 2000);
    strcpy(deep + 2000, "MIT");
    memset(deep + 2003, ')', 2000);
    deep[4003] = 0;
    CHECK(mm_spdx_license_normalize(deep, NULL) == NULL);
}

/* Strings from images need not be UTF-8; the JSON must stay valid. */
MM_TEST(json_strings_not_utf8)
{
    json_t *j = mm_json_str("ok \xc3\xa9 bad \xff\xfe overlong \xc0\xaf "
                            "surrogate \xed\xa0\x80 cut \xe2\x82");
    REQUIRE(j);
    CHECK_STR(json_string_value(j),
              "ok \xc3\xa9 bad \xef\xbf\xbd\xef\xbf\xbd overlong "
              "\xef\xbf\xbd\xef\xbf\xbd surrogate \xef\xbf\xbd\xef\xbf\xbd"
              "\xef\xbf\xbd cut \xef\xbf\xbd\xef\xbf\xbd");
    json_decref(j);
    j = mm_json_str(NULL);
    CHECK(json_is_null(j));
    json_decref(j);
}

/* --- findings ------------------------------------------------------------ */

MM_TEST(findings_list)
{
    mm_findings *fl = NULL;
    CHECK_OK(mm_findings_new(&fl));
    REQUIRE(fl);
    char *refs[] = {"https://example.org/a", "https://example.org/b"};
    mm_finding f = {0};
    f.id = "TEST-1";
    f.kind = MM_FIND_SECRET;
    f.severity = MM_SEV_HIGH;
    f.title = "a title";
    f.loc.layer = 2;
    f.loc.path = "/etc/x";
    f.loc.line = 3;
    f.references = refs;
    f.nreferences = 2;
    CHECK(mm_findings_add(fl, &f) == MM_EINVAL); /* no section */
    CHECK_INT(mm_findings_count(fl), 0);
    f.section = "3.1.4";
    CHECK_OK(mm_findings_add(fl, &f));
    CHECK_INT(mm_findings_count(fl), 1);
    const mm_finding *g = mm_findings_get(fl, 0);
    REQUIRE(g);
    CHECK(g->id != f.id); /* a copy */
    CHECK_STR(g->id, "TEST-1");
    CHECK_STR(g->loc.path, "/etc/x");
    CHECK_INT(g->nreferences, 2);
    CHECK_STR(g->references[1], "https://example.org/b");
    CHECK(mm_findings_get(fl, 1) == NULL);
    mm_findings_free(fl);
    mm_findings_free(NULL);

    mm_severity s;
    CHECK_OK(mm_severity_parse(&s, "critical"));
    CHECK_INT(s, MM_SEV_CRITICAL);
    CHECK(mm_severity_parse(&s, "severe") == MM_EINVAL);
    CHECK_STR(mm_severity_name(MM_SEV_MEDIUM), "MEDIUM");
    CHECK_STR(mm_finding_kind_name(MM_FIND_MISCONFIG), "misconfiguration");
    CHECK_STR(mm_finding_kind_name(MM_FIND_INTAKE), "intake");
}

MM_TEST(format_names)
{
    mm_format f;
    CHECK_OK(mm_format_parse(&f, "spdx-json"));
    CHECK_INT(f, MM_FORMAT_SPDX_JSON);
    CHECK_OK(mm_format_parse(&f, "CycloneDX"));
    CHECK_INT(f, MM_FORMAT_CYCLONEDX);
    CHECK(mm_format_parse(&f, "xml") == MM_EINVAL);
    mm_report_opts o;
    mm_report_opts_init(&o);
    CHECK_STR(o.tool_version, MM_VERSION);
    CHECK(!o.color && !o.list_files && o.now == 0);
}

/* --- a scanned fixture --------------------------------------------------- */

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

static const char dpkg_status[] =
    "Package: attr\n"
    "Status: install ok installed\n"
    "Priority: optional\n"
    "Section: utils\n"
    "Installed-Size: 180\n"
    "Maintainer: Debian Attr Maintainers <pkg-attr@example.org>\n"
    "Architecture: amd64\n"
    "Multi-Arch: foreign\n"
    "Version: 1:2.5.1-4\n"
    "Depends: libattr1 (= 1:2.5.1-4), libc6 (>= 2.34)\n"
    "Description: utilities for manipulating filesystem extended attributes\n"
    "\n"
    "Package: libattr1\n"
    "Status: install ok installed\n"
    "Priority: required\n"
    "Section: libs\n"
    "Installed-Size: 59\n"
    "Maintainer: Debian Attr Maintainers <pkg-attr@example.org>\n"
    "Architecture: amd64\n"
    "Multi-Arch: same\n"
    "Source: attr\n"
    "Version: 1:2.5.1-4\n"
    "Description: extended attribute handling - shared library\n";

static const char os_release[] =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
    "NAME=\"Debian GNU/Linux\"\n"
    "VERSION_ID=\"12\"\n"
    "VERSION=\"12 (bookworm)\"\n"
    "VERSION_CODENAME=bookworm\n"
    "ID=debian\n";

/* Scans a fresh fixture rootfs; adds two findings. */
static mm_result *scan_fixture(void)
{
    const char *tmp = mmt_tmpdir();
    if (!tmp)
        return NULL;
    char root[4096];
    snprintf(root, sizeof root, "%s", tmp);
    bool ok =
        put(root, "etc/os-release", os_release) &&
        put(root, "var/lib/dpkg/status", dpkg_status) &&
        put(root, "usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n"
            "License: MIT\n\nA package.\n") &&
        put(root, "usr/lib/python3/dist-packages/Foo_Bar-1.0.dist-info/RECORD",
            "foo_bar/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
            "Foo_Bar-1.0.dist-info/METADATA,,\n") &&
        put(root, "opt/venv/lib/python3.11/site-packages/Foo_Bar-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\n"
            "License: MIT\n\nThe same package again.\n") &&
        put(root, "opt/venv/lib/python3.11/site-packages/odd-2.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: odd\nVersion: 2.0\n"
            "License: Some Custom Licence v1\n\n");
    if (!ok)
        return NULL;
    mm_scan_opts so;
    mm_scan_opts_init(&so);
    mm_result *r = NULL;
    if (mm_scan(&r, MM_TARGET_ROOTFS, root, &so) != 0) {
        fprintf(stderr, "scan of %s failed: %s\n", root, mm_error_last());
        return NULL;
    }
    mm_finding f = {0};
    f.id = "MM-TEST-SECRET";
    f.kind = MM_FIND_SECRET;
    f.severity = MM_SEV_CRITICAL;
    f.title = "A private key";
    f.loc.layer = -1;
    f.loc.path = "/root/.ssh/id_rsa";
    f.loc.line = 1;
    f.evidence = "-----BEGIN ****";
    f.section = "3.1.4";
    mm_findings_add(mm_result_findings(r), &f);
    mm_finding g = {0};
    g.id = "MM-TEST-CFG";
    g.kind = MM_FIND_MISCONFIG;
    g.severity = MM_SEV_MEDIUM;
    g.title = "Runs as root\x1b[31m\xc2\x9b" "2J"; /* ESC and a C1 CSI */
    g.loc.layer = 0;
    g.section = "3.1.2";
    mm_findings_add(mm_result_findings(r), &g);
    return r;
}

static json_t *find_pkg(json_t *pkgs, const char *type, const char *name,
                        const char *path_prefix)
{
    size_t i;
    json_t *p;
    json_array_foreach(pkgs, i, p) {
        const char *t = json_string_value(json_object_get(p, "type"));
        const char *n = json_string_value(json_object_get(p, "name"));
        const char *pa = json_string_value(json_object_get(p, "path"));
        if (t && n && strcmp(t, type) == 0 && strcmp(n, name) == 0 &&
            (!path_prefix || (pa && strncmp(pa, path_prefix,
                                             strlen(path_prefix)) == 0)))
            return p;
    }
    return NULL;
}

/* The streaming writer (packages and findings written one at a time,
 * findings without a jansson tree) and the document tree dumped whole
 * give the same bytes, hostile strings included: control characters,
 * quotes, backslashes, invalid UTF-8, U+2028, empty and missing fields. */
/* The report of r through both JSON writers (the tree as a string, the
 * streaming one to a file), checked to be the same text; the document
 * parsed, or NULL (the failure already recorded). */
static json_t *both_json_writers(mm_result *r, const mm_report_opts *o)
{
    char *tree = NULL, *stream = NULL;
    size_t len = 0;
    CHECK_OK(mm_report_json_string(&tree, r, o));
    FILE *mf = open_memstream(&stream, &len);
    json_t *d = NULL;
    if (mf) {
        CHECK_OK(mm_report_write(mf, r, MM_FORMAT_JSON, o));
        fclose(mf);
    }
    CHECK(tree && stream);
    if (tree && stream) {
        /* the file ends with a newline, the string does not */
        CHECK_INT(len, strlen(tree) + 1);
        CHECK(strncmp(stream, tree, strlen(tree)) == 0);
        d = json_loads(stream, 0, NULL);
        CHECK(d != NULL);
    }
    free(tree);
    free(stream);
    return d;
}

MM_TEST(json_stream_equals_tree)
{
    mm_result *r = scan_fixture();
    REQUIRE(r);
    mm_findings *fl = mm_result_findings(r);
    char *refs[] = {"https://example.com/a\"b", NULL, "\x01\x1f\x7f"};
    mm_finding f = {
        .id = "X-1\t\"q\"\\", .kind = MM_FIND_SECRET, .severity = MM_SEV_HIGH,
        .title = "bad \xff\xfe utf8 \xc0\xaf ok \xc3\xa9 \xe2\x80\xa8 \b\f\n\r",
        .loc = {.layer = 3, .line = 7, .path = "/etc/p\"w", .resource = "Pod/ns/x",
                .field = "spec.containers[0]"},
        .evidence = "", .references = refs, .nreferences = 3, .section = "3.1.4"};
    CHECK_OK(mm_findings_add(fl, &f));
    mm_finding g = {.id = "X-2", .kind = MM_FIND_MISCONFIG, .severity = MM_SEV_LOW,
                    .loc = {.layer = -1}, .section = "3.1.2"};
    CHECK_OK(mm_findings_add(fl, &g));
    mm_report_opts o;
    mm_report_opts_init(&o);
    o.now = 1700000000;
    json_t *d = both_json_writers(r, &o);
    CHECK(d != NULL);
    json_decref(d);
    /* the signature verification (issue 20): the last member, the same in
     * both writers; a non-object is left out */
    mm_result_set_signature_json(r, "{\"verified\": false, \"keys\": [{\"id\": \"sha256:cc\"}],"
                                    " \"error\": \"no \\\"sig\\\"\"}");
    d = both_json_writers(r, &o);
    REQUIRE(d);
    json_t *sig = json_object_get(d, "signature");
    CHECK(json_is_false(json_object_get(sig, "verified")));
    CHECK_STR(json_string_value(json_object_get(sig, "error")), "no \"sig\"");
    json_decref(d);
    mm_result_set_signature_json(r, "[1]");
    char *tree = NULL;
    CHECK_OK(mm_report_json_string(&tree, r, &o));
    CHECK(tree && !strstr(tree, "\"signature\""));
    CHECK(tree && !strstr(tree, "\"vulnerabilityDB\""));   /* no match ran */
    free(tree);
    /* the database the match used: version, build time and its age in
     * days at the scan's start, the same in both writers */
    mm_result_set_timing(r, 1700000000, 1.0);
    mm_result_set_vulndb(r, "2:1699000000", 1700000000 - 3 * 86400 - 5);
    d = both_json_writers(r, &o);
    REQUIRE(d);
    json_t *db = json_object_get(d, "vulnerabilityDB");
    CHECK_STR(json_string_value(json_object_get(db, "version")), "2:1699000000");
    CHECK_STR(json_string_value(json_object_get(db, "builtAt")), "2023-11-11T22:13:15Z");
    CHECK_INT(json_integer_value(json_object_get(db, "ageDays")), 3);
    json_decref(d);
    mm_result_free(r);
}

MM_TEST(json_report_schema)
{
    mm_result *r = scan_fixture();
    REQUIRE(r);
    mm_report_opts o;
    mm_report_opts_init(&o);
    o.now = 1700000000;
    char *s = NULL;
    CHECK_OK(mm_report_json_string(&s, r, &o));
    REQUIRE(s);
    json_error_t err;
    json_t *doc = json_loads(s, 0, &err);
    REQUIRE(doc);
    /* key order is part of the stable schema */
    CHECK(strncmp(s, "{\n  \"schemaVersion\": 1,\n  \"tool\": {", 35) == 0);
    CHECK_INT(json_integer_value(json_object_get(doc, "schemaVersion")), 1);
    json_t *tool = json_object_get(doc, "tool");
    CHECK_STR(json_string_value(json_object_get(tool, "name")), "mamori");
    CHECK_STR(json_string_value(json_object_get(tool, "version")), MM_VERSION);
    CHECK_STR(json_string_value(json_object_get(doc, "kind")), "rootfs");
    CHECK_STR(json_string_value(json_object_get(doc, "scannedAt")),
              "2023-11-14T22:13:20Z");
    CHECK(json_is_real(json_object_get(doc, "durationSeconds")));
    CHECK(json_is_null(json_object_get(doc, "image")));
    json_t *os = json_object_get(doc, "os");
    CHECK_STR(json_string_value(json_object_get(os, "family")), "debian");
    CHECK_STR(json_string_value(json_object_get(os, "version")), "12");
    CHECK_STR(json_string_value(json_object_get(os, "codename")), "bookworm");
    CHECK(json_is_array(json_object_get(doc, "layers")));
    CHECK(json_is_array(json_object_get(doc, "warnings")));

    json_t *pkgs = json_object_get(doc, "packages");
    REQUIRE(json_is_array(pkgs));
    CHECK_INT(json_array_size(pkgs), 5);
    json_t *attr = find_pkg(pkgs, "dpkg", "attr", NULL);
    REQUIRE(attr);
    CHECK_STR(json_string_value(json_object_get(attr, "version")), "1:2.5.1-4");
    CHECK(json_object_get(attr, "epoch") == NULL); /* dpkg: -1, omitted */
    CHECK_STR(json_string_value(json_object_get(attr, "arch")), "amd64");
    CHECK_STR(json_string_value(json_object_get(attr, "purl")),
              "pkg:deb/debian/attr@1:2.5.1-4?arch=amd64&distro=debian-12");
    CHECK_STR(json_string_value(json_object_get(attr, "path")),
              "/var/lib/dpkg/status");
    CHECK(json_is_null(json_object_get(attr, "srcName")));
    CHECK(json_object_get(attr, "files") == NULL); /* only with list_files */
    json_t *lib = find_pkg(pkgs, "dpkg", "libattr1", NULL);
    REQUIRE(lib);
    CHECK_STR(json_string_value(json_object_get(lib, "srcName")), "attr");
    json_t *py = find_pkg(pkgs, "python", "Foo_Bar", "/usr/");
    REQUIRE(py);
    CHECK_STR(json_string_value(json_object_get(py, "purl")),
              "pkg:pypi/foo-bar@1.0");
    CHECK_STR(json_string_value(json_object_get(py, "license")), "MIT");
    CHECK(json_is_boolean(json_object_get(py, "indirect")));
    CHECK(find_pkg(pkgs, "python", "Foo_Bar", "/opt/") != NULL);

    json_t *finds = json_object_get(doc, "findings");
    REQUIRE(json_array_size(finds) == 2);
    json_t *f0 = json_array_get(finds, 0);
    CHECK_STR(json_string_value(json_object_get(f0, "id")), "MM-TEST-SECRET");
    CHECK_STR(json_string_value(json_object_get(f0, "kind")), "secret");
    CHECK_STR(json_string_value(json_object_get(f0, "severity")), "CRITICAL");
    CHECK_STR(json_string_value(json_object_get(f0, "section")), "3.1.4");
    json_t *loc = json_object_get(f0, "location");
    CHECK_STR(json_string_value(json_object_get(loc, "path")),
              "/root/.ssh/id_rsa");
    CHECK_INT(json_integer_value(json_object_get(loc, "line")), 1);
    CHECK(json_object_get(loc, "layer") == NULL);   /* -1: omitted */
    CHECK(json_object_get(loc, "package") == NULL); /* NULL: omitted */
    CHECK(json_is_array(json_object_get(f0, "references")));
    json_t *loc1 = json_object_get(json_array_get(finds, 1), "location");
    CHECK_INT(json_integer_value(json_object_get(loc1, "layer")), 0);
    CHECK(json_object_get(loc1, "line") == NULL);

    json_t *sum = json_object_get(doc, "summary");
    CHECK_INT(json_integer_value(json_object_get(sum, "packages")), 5);
    json_t *bys = json_object_get(sum, "findings");
    CHECK_INT(json_integer_value(json_object_get(bys, "CRITICAL")), 1);
    CHECK_INT(json_integer_value(json_object_get(bys, "MEDIUM")), 1);
    CHECK_INT(json_integer_value(json_object_get(bys, "HIGH")), 0);
    CHECK_INT(json_object_size(bys), 5);
    json_decref(doc);
    free(s);

    /* list_files adds the owned files */
    o.list_files = true;
    CHECK_OK(mm_report_json_string(&s, r, &o));
    doc = json_loads(s, 0, &err);
    REQUIRE(doc);
    json_t *py2 = find_pkg(json_object_get(doc, "packages"), "python",
                           "Foo_Bar", "/usr/");
    CHECK(json_is_array(json_object_get(py2, "files")));
    json_decref(doc);
    free(s);
    mm_result_free(r);
}

/* Writes r in fmt into a string. */
static char *render(mm_result *r, mm_format fmt, const mm_report_opts *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    int rc = mm_report_write(f, r, fmt, o);
    fclose(f);
    if (rc != 0) {
        fprintf(stderr, "write failed: %s\n", mm_error_last());
        free(buf);
        return NULL;
    }
    return buf;
}

MM_TEST(cyclonedx_structure)
{
    mm_result *r = scan_fixture();
    REQUIRE(r);
    char *s = render(r, MM_FORMAT_CYCLONEDX, NULL);
    REQUIRE(s);
    json_error_t err;
    json_t *doc = json_loads(s, 0, &err);
    REQUIRE(doc);
    CHECK_STR(json_string_value(json_object_get(doc, "bomFormat")), "CycloneDX");
    CHECK_STR(json_string_value(json_object_get(doc, "specVersion")), "1.5");
    const char *sn = json_string_value(json_object_get(doc, "serialNumber"));
    REQUIRE(sn);
    CHECK(strlen(sn) == 45 && strncmp(sn, "urn:uuid:", 9) == 0 &&
          sn[9 + 14] == '4');
    CHECK_INT(json_integer_value(json_object_get(doc, "version")), 1);
    json_t *meta = json_object_get(doc, "metadata");
    json_t *mc = json_object_get(meta, "component");
    CHECK_STR(json_string_value(json_object_get(mc, "type")), "operating-system");
    json_t *tools = json_object_get(json_object_get(meta, "tools"), "components");
    CHECK_STR(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
              "mamori");

    json_t *comps = json_object_get(doc, "components");
    REQUIRE(json_is_array(comps));
    CHECK_INT(json_array_size(comps), 6); /* the OS + 5 packages */
    /* every bom-ref unique, metadata.component's included */
    size_t i, j;
    json_t *c, *d;
    int dup = 0, foo = 0, lic_id = 0, lic_name = 0;
    json_array_foreach(comps, i, c) {
        const char *ref = json_string_value(json_object_get(c, "bom-ref"));
        REQUIRE(ref);
        CHECK(strcmp(ref, json_string_value(json_object_get(mc, "bom-ref"))) != 0);
        json_array_foreach(comps, j, d)
            if (j != i && strcmp(ref, json_string_value(
                                          json_object_get(d, "bom-ref"))) == 0)
                dup++;
        const char *name = json_string_value(json_object_get(c, "name"));
        if (name && strcmp(name, "Foo_Bar") == 0) {
            foo++;
            CHECK_STR(json_string_value(json_object_get(c, "purl")),
                      "pkg:pypi/foo-bar@1.0");
            json_t *l = json_object_get(json_array_get(
                                            json_object_get(c, "licenses"), 0),
                                        "license");
            if (json_is_string(json_object_get(l, "id")) &&
                strcmp(json_string_value(json_object_get(l, "id")), "MIT") == 0)
                lic_id++;
        }
        if (name && strcmp(name, "odd") == 0) {
            json_t *l = json_object_get(json_array_get(
                                            json_object_get(c, "licenses"), 0),
                                        "license");
            if (json_is_string(json_object_get(l, "name")))
                lic_name++;
        }
        if (name && strcmp(name, "debian") == 0)
            CHECK_STR(json_string_value(json_object_get(c, "type")),
                      "operating-system");
    }
    CHECK_INT(dup, 0);
    CHECK_INT(foo, 2);
    CHECK_INT(lic_id, 2);
    CHECK_INT(lic_name, 1);
    CHECK(json_is_array(json_object_get(doc, "dependencies")));
    json_decref(doc);
    free(s);
    mm_result_free(r);
}

static bool spdx_id_ok(const char *s)
{
    if (!s || strncmp(s, "SPDXRef-", 8) != 0 || !s[8])
        return false;
    for (s += 8; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '.' || *s == '-'))
            return false;
    return true;
}

MM_TEST(spdx_structure)
{
    mm_result *r = scan_fixture();
    REQUIRE(r);
    char *s = render(r, MM_FORMAT_SPDX_JSON, NULL);
    REQUIRE(s);
    json_error_t err;
    json_t *doc = json_loads(s, 0, &err);
    REQUIRE(doc);
    CHECK_STR(json_string_value(json_object_get(doc, "spdxVersion")), "SPDX-2.3");
    CHECK_STR(json_string_value(json_object_get(doc, "dataLicense")), "CC0-1.0");
    CHECK_STR(json_string_value(json_object_get(doc, "SPDXID")), "SPDXRef-DOCUMENT");
    const char *ns = json_string_value(json_object_get(doc, "documentNamespace"));
    CHECK(ns && strncmp(ns, "https://", 8) == 0 && !strchr(ns, '#'));
    json_t *ci = json_object_get(doc, "creationInfo");
    CHECK_STR(json_string_value(json_array_get(json_object_get(ci, "creators"), 0)),
              "Tool: mamori-" MM_VERSION);

    json_t *pkgs = json_object_get(doc, "packages");
    CHECK_INT(json_array_size(pkgs), 7); /* root + OS + 5 */
    size_t i, j;
    json_t *p, *q;
    int dup = 0;
    const char *odd_lic = NULL;
    json_array_foreach(pkgs, i, p) {
        const char *id = json_string_value(json_object_get(p, "SPDXID"));
        CHECK(spdx_id_ok(id));
        json_array_foreach(pkgs, j, q)
            if (j != i && id && strcmp(id, json_string_value(
                                              json_object_get(q, "SPDXID"))) == 0)
                dup++;
        CHECK_STR(json_string_value(json_object_get(p, "downloadLocation")),
                  "NOASSERTION");
        CHECK(json_is_false(json_object_get(p, "filesAnalyzed")));
        const char *name = json_string_value(json_object_get(p, "name"));
        if (name && strcmp(name, "odd") == 0)
            odd_lic = json_string_value(json_object_get(p, "licenseDeclared"));
        if (name && strcmp(name, "attr") == 0) {
            json_t *ref = json_array_get(json_object_get(p, "externalRefs"), 0);
            CHECK_STR(json_string_value(json_object_get(ref, "referenceType")), "purl");
            CHECK_STR(json_string_value(json_object_get(ref, "referenceCategory")),
                      "PACKAGE-MANAGER");
            CHECK_STR(json_string_value(json_object_get(p, "licenseDeclared")),
                      "NOASSERTION");
        }
        if (name && strcmp(name, "Foo_Bar") == 0)
            CHECK_STR(json_string_value(json_object_get(p, "licenseDeclared")), "MIT");
    }
    CHECK_INT(dup, 0);
    /* an invalid licence string becomes a declared LicenseRef- */
    REQUIRE(odd_lic);
    CHECK(strncmp(odd_lic, "LicenseRef-", 11) == 0);
    json_t *ex = json_object_get(doc, "hasExtractedLicensingInfos");
    REQUIRE(json_array_size(ex) == 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ex, 0), "licenseId")),
              odd_lic);
    CHECK_STR(json_string_value(json_object_get(json_array_get(ex, 0), "extractedText")),
              "Some Custom Licence v1");

    /* DOCUMENT DESCRIBES root; root CONTAINS the OS and each package */
    json_t *rels = json_object_get(doc, "relationships");
    CHECK_INT(json_array_size(rels), 7);
    json_t *r0 = json_array_get(rels, 0);
    CHECK_STR(json_string_value(json_object_get(r0, "spdxElementId")), "SPDXRef-DOCUMENT");
    CHECK_STR(json_string_value(json_object_get(r0, "relationshipType")), "DESCRIBES");
    json_decref(doc);
    free(s);
    mm_result_free(r);
}

/* Start columns of the dash runs in a rule line "----  ---  --". */
static int rule_columns(const char *line, size_t len, size_t *cols, int max)
{
    int n = 0;
    for (size_t i = 0; i < len && n < max; i++)
        if (line[i] == '-' && (i == 0 || line[i - 1] == ' '))
            cols[n++] = i;
    return n;
}

MM_TEST(table_alignment)
{
    mm_result *r = scan_fixture();
    REQUIRE(r);
    char *s = render(r, MM_FORMAT_TABLE, NULL);
    REQUIRE(s);
    CHECK(strstr(s, "OS:       Debian GNU/Linux 12 (bookworm)") != NULL);
    CHECK(strstr(s, "Packages: 5 (dpkg 2, python 3)") != NULL);
    CHECK(strstr(s, "Findings: 2 (CRITICAL 1, HIGH 0, MEDIUM 1, LOW 0, UNKNOWN 0)") != NULL);
    CHECK(strchr(s, '\x1b') == NULL); /* no colour, escapes neutralised */
    CHECK(strstr(s, "Runs as root?[31m?2J") != NULL);
    CHECK(strstr(s, "\xc2\x9b") == NULL);

    /* In each table, every row's cells start at the rule's columns. */
    int tables = 0, rows = 0;
    const char *p = s;
    size_t cols[8];
    int ncol = 0;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == 0) {
            ncol = 0;
        } else if (p[0] == '-') {
            ncol = rule_columns(p, len, cols, 8);
            tables++;
        } else if (ncol > 0) {
            rows++;
            for (int k = 1; k < ncol; k++) {
                CHECK(cols[k] < len);
                if (cols[k] >= len)
                    break;
                CHECK(p[cols[k]] != ' ');
                CHECK(p[cols[k] - 1] == ' ' && p[cols[k] - 2] == ' ');
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    CHECK_INT(tables, 2);
    CHECK_INT(rows, 7);
    /* the CRITICAL finding is listed first */
    const char *crit = strstr(s, "CRITICAL  MM-TEST-SECRET");
    const char *med = strstr(s, "MEDIUM    MM-TEST-CFG");
    CHECK(crit && med && crit < med);
    free(s);

    mm_report_opts o;
    mm_report_opts_init(&o);
    o.color = true;
    s = render(r, MM_FORMAT_TABLE, &o);
    REQUIRE(s);
    CHECK(strstr(s, "\x1b[1;31mCRITICAL\x1b[0m") != NULL);
    free(s);
    mm_result_free(r);
}

MM_TEST(write_errors)
{
    mm_result *r = scan_fixture();
    REQUIRE(r);
    FILE *f = fopen("/dev/full", "w");
    if (!f) {
        mm_result_free(r);
        MMT_SKIP("/dev/full is not available");
    }
    CHECK(mm_report_write(f, r, MM_FORMAT_JSON, NULL) == MM_EIO);
    clearerr(f);
    CHECK(mm_report_write(f, r, MM_FORMAT_TABLE, NULL) == MM_EIO);
    fclose(f);
    mm_result_free(r);
}

MM_TEST_MAIN
