/*
 * test_match.c - vulnerability matching and the filters, on a small
 * database imported (by mm_vulndb_import, the real importer) from the
 * fixture feeds in tests/fixtures/vuln: OSV records exercising every range
 * semantic (introduced/fixed pairs, last_affected, limit, explicit
 * versions, GIT ranges ignored), PEP 503 names, the Go standard library,
 * and a Debian security-tracker document with a backport, a source-keyed
 * binary, an open issue and a never-affected release.
 */
#include <stdlib.h>
#include <string.h>

#include "mmtest.h"
#include "mamori/mamori.h"
#include "mamori/filter.h"
#include "mamori/sbom.h"
#include "mamori/vuln.h"

static char dbpath[4096];

/* Imports the fixtures once into a private database. */
static mm_vulndb *fixture_db(void)
{
    if (!dbpath[0]) {
        char osv[4096], deb[4096];
        snprintf(osv, sizeof osv, "%s", mmt_fixture("vuln/osv"));
        snprintf(deb, sizeof deb, "%s", mmt_fixture("vuln/debian-tracker.json"));
        snprintf(dbpath, sizeof dbpath, "%s/vuln.db", mmt_tmpdir());
        const char *paths[] = {osv, deb};
        mm_import_stats st;
        if (mm_vulndb_import(dbpath, paths, 2, &st, NULL, NULL) != 0) {
            fprintf(stderr, "import: %s\n", mm_error_last());
            dbpath[0] = 0;
            return NULL;
        }
    }
    mm_vulndb *db = NULL;
    if (mm_vulndb_open(&db, dbpath) != 0) {
        fprintf(stderr, "open: %s\n", mm_error_last());
        return NULL;
    }
    return db;
}

static mm_result *new_result(const char *family, const char *version)
{
    mm_result *r = NULL;
    if (mm_result_new(&r, MM_TARGET_ROOTFS, "test-target") != 0)
        return NULL;
    if (family)
        mm_result_set_os(r, family, version, NULL, NULL);
    return r;
}

static void add(mm_result *r, mm_pkg_type t, const char *name, const char *version,
                const char *src, const char *srcver)
{
    mm_package p;
    memset(&p, 0, sizeof p);
    p.type = t;
    p.name = (char *)name;
    p.version = (char *)version;
    p.src_name = (char *)src;
    p.src_version = (char *)srcver;
    p.epoch = -1;
    p.layer = -1;
    p.path = (char *)"/test/path";
    mm_inventory_add(mm_result_inventory(r), &p, NULL);
}

/* The finding of advisory id for package "name@version", or NULL. */
static const mm_finding *find(mm_result *r, const char *id, const char *name,
                              const char *version)
{
    char want[512];
    snprintf(want, sizeof want, "%s@%s", name, version);
    mm_findings *fl = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fl); i++) {
        const mm_finding *f = mm_findings_get(fl, i);
        if (!strcmp(f->id, id) && f->loc.package && !strcmp(f->loc.package, want))
            return f;
    }
    return NULL;
}

static bool has_warning(mm_result *r, const char *needle)
{
    for (size_t i = 0; i < mm_result_warning_count(r); i++)
        if (strstr(mm_result_warning(r, i), needle))
            return true;
    return false;
}

static bool has_ref(const mm_finding *f, const char *ref)
{
    for (size_t i = 0; f && i < f->nreferences; i++)
        if (!strcmp(f->references[i], ref))
            return true;
    return false;
}

static mm_result *match(mm_result *r, bool ignore_unfixed)
{
    mm_vulndb *db = fixture_db();
    if (!db || !r)
        return r;
    mm_vuln_opts o;
    mm_vuln_opts_init(&o);
    o.ignore_unfixed = ignore_unfixed;
    o.max_age_days = 100000; /* fixtures are timeless */
    CHECK_OK(mm_vuln_match(db, r, &o));
    mm_vulndb_close(db);
    return r;
}

MM_TEST(range_introduced_fixed_pairs)
{
    mm_result *r = new_result(NULL, NULL);
    REQUIRE(r);
    const char *vs[] = {"0.9.0", "1.0.0", "1.0.5", "1.1.0", "1.5.0", "2.1.0", "2.2.0", "3.0.0"};
    for (size_t i = 0; i < 8; i++)
        add(r, MM_PKG_NPM, "range-intro-fixed", vs[i], NULL, NULL);
    match(r, false);
    CHECK(!find(r, "TEST-RANGES-1", "range-intro-fixed", "0.9.0"));
    const mm_finding *f = find(r, "TEST-RANGES-1", "range-intro-fixed", "1.0.0");
    REQUIRE(f);
    CHECK_STR(f->evidence, "installed 1.0.0, fixed in 1.1.0 (npm)");
    CHECK_STR(f->remediation, "upgrade range-intro-fixed to 1.1.0");
    CHECK_STR(f->section, "3.1.1");
    CHECK_INT(f->kind, MM_FIND_VULNERABILITY);
    CHECK_INT(f->severity, MM_SEV_CRITICAL); /* from the CVSS 3.1 vector (9.8) */
    CHECK_STR(f->title, "introduced/fixed pairs, two of them");
    CHECK(has_ref(f, "CVE-2099-1001"));
    CHECK(has_ref(f, "https://example.org/TEST-RANGES-1"));
    CHECK_STR(f->loc.path, "/test/path");
    CHECK(find(r, "TEST-RANGES-1", "range-intro-fixed", "1.0.5"));
    CHECK(!find(r, "TEST-RANGES-1", "range-intro-fixed", "1.1.0"));
    CHECK(!find(r, "TEST-RANGES-1", "range-intro-fixed", "1.5.0"));
    f = find(r, "TEST-RANGES-1", "range-intro-fixed", "2.1.0");
    REQUIRE(f);
    CHECK_STR(f->remediation, "upgrade range-intro-fixed to 2.2.0");
    CHECK(!find(r, "TEST-RANGES-1", "range-intro-fixed", "2.2.0"));
    CHECK(!find(r, "TEST-RANGES-1", "range-intro-fixed", "3.0.0"));
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 3);
    mm_result_free(r);
}

MM_TEST(range_last_affected_limit_versions)
{
    mm_result *r = new_result(NULL, NULL);
    REQUIRE(r);
    add(r, MM_PKG_NPM, "range-last-affected", "2.0.0", NULL, NULL);
    add(r, MM_PKG_NPM, "range-last-affected", "2.0.1", NULL, NULL);
    add(r, MM_PKG_NPM, "range-limit", "2.9.9", NULL, NULL);
    add(r, MM_PKG_NPM, "range-limit", "3.0.0", NULL, NULL);
    add(r, MM_PKG_NPM, "@scope/explicit", "4.0.1", NULL, NULL);
    add(r, MM_PKG_NPM, "@scope/explicit", "4.0.2", NULL, NULL);
    match(r, false);
    const mm_finding *f = find(r, "TEST-RANGES-2", "range-last-affected", "2.0.0");
    REQUIRE(f);
    CHECK(f->remediation == NULL);
    CHECK_STR(f->evidence, "installed 2.0.0, no fix (npm)");
    CHECK(mm_finding_unfixed(f));
    CHECK(!find(r, "TEST-RANGES-2", "range-last-affected", "2.0.1"));
    f = find(r, "TEST-RANGES-3", "range-limit", "2.9.9");
    REQUIRE(f);
    CHECK_INT(f->severity, MM_SEV_UNKNOWN); /* no source gives one */
    CHECK(!find(r, "TEST-RANGES-3", "range-limit", "3.0.0"));
    CHECK(find(r, "TEST-RANGES-4", "@scope/explicit", "4.0.1"));
    CHECK(!find(r, "TEST-RANGES-4", "@scope/explicit", "4.0.2"));
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 3);
    mm_result_free(r);
}

MM_TEST(pypi_names_and_go_stdlib)
{
    mm_result *r = new_result(NULL, NULL);
    REQUIRE(r);
    add(r, MM_PKG_PYTHON, "foo_bar.Baz", "1.9", NULL, NULL);
    add(r, MM_PKG_PYTHON, "FOO-bar--baz", "2.0.0b1", NULL, NULL);
    add(r, MM_PKG_PYTHON, "foo.bar.baz", "2.0.0rc1", NULL, NULL);
    add(r, MM_PKG_PYTHON, "foo-bar-baz", "2.0.0", NULL, NULL);
    add(r, MM_PKG_GOMOD, "stdlib", "v1.21.4", NULL, NULL);
    add(r, MM_PKG_GOMOD, "stdlib", "v1.21.5", NULL, NULL);
    add(r, MM_PKG_GOMOD, "stdlib", "v1.20.11", NULL, NULL);
    add(r, MM_PKG_GOMOD, "stdlib", "v1.20.12", NULL, NULL);
    match(r, false);
    const mm_finding *f = find(r, "TEST-PYPI-1", "foo_bar.Baz", "1.9");
    REQUIRE(f);
    CHECK_STR(f->title, "PEP 503 names and PEP 440 versions");
    CHECK(find(r, "TEST-PYPI-1", "FOO-bar--baz", "2.0.0b1"));
    CHECK(!find(r, "TEST-PYPI-1", "foo.bar.baz", "2.0.0rc1"));
    CHECK(!find(r, "TEST-PYPI-1", "foo-bar-baz", "2.0.0"));
    f = find(r, "TEST-GO-1", "stdlib", "v1.21.4");
    REQUIRE(f);
    CHECK_STR(f->remediation, "upgrade stdlib to 1.21.5");
    CHECK(!find(r, "TEST-GO-1", "stdlib", "v1.21.5"));
    f = find(r, "TEST-GO-1", "stdlib", "v1.20.11");
    REQUIRE(f);
    CHECK_STR(f->remediation, "upgrade stdlib to 1.20.12");
    CHECK(!find(r, "TEST-GO-1", "stdlib", "v1.20.12"));
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 4);
    mm_result_free(r);
}

MM_TEST(bad_version_is_skipped_with_a_warning)
{
    mm_result *r = new_result(NULL, NULL);
    REQUIRE(r);
    add(r, MM_PKG_PYTHON, "foo-bar-baz", "not a version!", NULL, NULL);
    add(r, MM_PKG_PYTHON, "foo-bar-baz", "1.0", NULL, NULL);
    match(r, false);
    CHECK(has_warning(r, "foo-bar-baz not a version! (/test/path): not a valid version for PyPI"));
    CHECK(find(r, "TEST-PYPI-1", "foo-bar-baz", "1.0")); /* the rest goes on */
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 1);
    mm_result_free(r);
}

MM_TEST(debian_backport_and_source_keying)
{
    mm_result *r = new_result("debian", "12");
    REQUIRE(r);
    add(r, MM_PKG_DPKG, "sample", "1.2-3+deb12u1", NULL, NULL);
    add(r, MM_PKG_DPKG, "libsrc1", "1.0-1+b1", "srcpkg", "1.0-1");
    add(r, MM_PKG_DPKG, "libsrc-fixed", "1:1.0-2", "srcpkg", "1.0-2");
    /* a binary named like a source package but built from another */
    add(r, MM_PKG_DPKG, "srcpkg", "1.0-1", "othersrc", NULL);
    match(r, false);
    /* fixed in bookworm at exactly the installed -deb12u1: not reported,
     * although sid (upstream) fixed it only in 1.5-1 */
    CHECK(!find(r, "CVE-2099-2001", "sample", "1.2-3+deb12u1"));
    const mm_finding *f = find(r, "CVE-2099-2002", "sample", "1.2-3+deb12u1");
    REQUIRE(f);
    CHECK_INT(f->severity, MM_SEV_MEDIUM);
    CHECK_STR(f->remediation, "upgrade sample to 1.2-3+deb12u2");
    CHECK_STR(f->evidence, "installed 1.2-3+deb12u1, fixed in 1.2-3+deb12u2 (Debian:12)");
    f = find(r, "CVE-2099-2003", "sample", "1.2-3+deb12u1");
    REQUIRE(f);
    CHECK(f->remediation == NULL);
    CHECK_INT(f->severity, MM_SEV_LOW); /* urgency "unimportant" */
    CHECK(!find(r, "CVE-2099-2004", "sample", "1.2-3+deb12u1"));
    f = find(r, "CVE-2099-2005", "libsrc1", "1.0-1+b1");
    REQUIRE(f);
    CHECK_STR(f->evidence, "installed 1.0-1+b1 (source srcpkg 1.0-1), fixed in 1.0-2 (Debian:12)");
    CHECK_INT(f->severity, MM_SEV_UNKNOWN); /* "not yet assigned" */
    CHECK(!find(r, "CVE-2099-2005", "libsrc-fixed", "1:1.0-2"));
    CHECK(!find(r, "CVE-2099-2005", "srcpkg", "1.0-1"));
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 3);
    CHECK(!has_warning(r, "no advisories"));
    mm_result_free(r);

    /* --ignore-unfixed at match time drops the open issue only */
    r = new_result("debian", "12");
    REQUIRE(r);
    add(r, MM_PKG_DPKG, "sample", "1.2-3+deb12u1", NULL, NULL);
    match(r, true);
    CHECK(find(r, "CVE-2099-2002", "sample", "1.2-3+deb12u1"));
    CHECK(!find(r, "CVE-2099-2003", "sample", "1.2-3+deb12u1"));
    mm_result_free(r);
}

MM_TEST(os_without_feed_is_never_silent)
{
    mm_result *r = new_result("alpine", "3.19.1");
    REQUIRE(r);
    add(r, MM_PKG_APK, "musl", "1.2.4_git20230717-r4", NULL, NULL);
    add(r, MM_PKG_NPM, "range-limit", "1.0.0", NULL, NULL);
    match(r, false);
    CHECK(has_warning(r, "no advisories for alpine 3.19.1 in the vulnerability "
                         "database; its OS packages were not checked"));
    CHECK(find(r, "TEST-RANGES-3", "range-limit", "1.0.0")); /* languages still are */
    mm_result_free(r);

    /* Debian 11 has no rows either: the release matters, not the family */
    r = new_result("debian", "11");
    REQUIRE(r);
    add(r, MM_PKG_DPKG, "sample", "1.2-3", NULL, NULL);
    match(r, false);
    CHECK(has_warning(r, "no advisories for debian 11"));
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 0);
    mm_result_free(r);

    r = new_result(NULL, NULL);
    REQUIRE(r);
    add(r, MM_PKG_DPKG, "sample", "1.2-3", NULL, NULL);
    match(r, false);
    CHECK(has_warning(r, "the OS is unknown; its 1 OS packages were not checked"));
    mm_result_free(r);

    /* no OS packages: nothing to warn about */
    r = new_result("alpine", "3.19.1");
    REQUIRE(r);
    add(r, MM_PKG_NPM, "range-limit", "1.0.0", NULL, NULL);
    match(r, false);
    CHECK(!has_warning(r, "no advisories"));
    mm_result_free(r);
}

MM_TEST(eol_and_old_database_warnings)
{
    mm_vulndb *db = fixture_db();
    REQUIRE(db);
    mm_result *r = new_result("debian", "10");
    REQUIRE(r);
    mm_vuln_opts o;
    mm_vuln_opts_init(&o);
    CHECK_INT(o.max_age_days, 7);
    CHECK_OK(mm_vuln_match(db, r, &o));
    CHECK(has_warning(r, "debian 10 reached its end of life on 2024-06-30"));
    /* just built: not old */
    CHECK(!has_warning(r, "days old"));
    mm_result_free(r);
    mm_vulndb_close(db);
}

static mm_result *debian_sample(void)
{
    mm_result *r = new_result("debian", "12");
    if (!r)
        return NULL;
    add(r, MM_PKG_DPKG, "sample", "1.2-3+deb12u1", NULL, NULL);  /* 2002 MEDIUM, 2003 LOW */
    add(r, MM_PKG_NPM, "range-intro-fixed", "1.0.0", NULL, NULL); /* R-1 CRITICAL */
    add(r, MM_PKG_NPM, "range-limit", "1.0.0", NULL, NULL);       /* R-3 UNKNOWN */
    return match(r, false);
}

MM_TEST(ignorefile_with_expired_entry)
{
    const char *text =
        "# accepted risks\n"
        "\n"
        "CVE-2099-2002 exp:2000-01-01 # expired long ago: applies no more\n"
        "CVE-2099-1001   # an alias of TEST-RANGES-1\n"
        "  TEST-RANGES-3 exp:2999-12-31\n";
    mm_ignorefile *ign = NULL;
    CHECK_OK(mm_ignorefile_parse(&ign, text, strlen(text), ".mamoriignore"));
    REQUIRE(ign);
    CHECK_INT(ign->n, 3);
    CHECK_STR(ign->v[0].id, "CVE-2099-2002");
    CHECK_STR(ign->v[0].reason, "expired long ago: applies no more");
    CHECK_INT(ign->v[0].line, 3);
    CHECK_INT(ign->v[0].expires, 946771200); /* 2000-01-02T00:00:00Z */
    CHECK(ign->v[1].expires == 0);
    CHECK_STR(ign->v[2].id, "TEST-RANGES-3");

    mm_result *r = debian_sample();
    REQUIRE(r);
    CHECK_INT(mm_findings_count(mm_result_findings(r)), 4);
    mm_filter f;
    mm_filter_init(&f);
    f.ignore = ign;
    mm_filter_stats st;
    CHECK_OK(mm_filter_apply(r, &f, &st));
    CHECK_INT(st.kept, 2);
    CHECK_INT(st.dropped_ignored, 2);
    CHECK_INT(st.expired, 1);
    CHECK(find(r, "CVE-2099-2002", "sample", "1.2-3+deb12u1")); /* expired entry */
    CHECK(find(r, "CVE-2099-2003", "sample", "1.2-3+deb12u1"));
    CHECK(!find(r, "TEST-RANGES-1", "range-intro-fixed", "1.0.0"));
    CHECK(!find(r, "TEST-RANGES-3", "range-limit", "1.0.0"));
    CHECK(has_warning(r, ".mamoriignore:3: ignore entry CVE-2099-2002 expired on 2000-01-01"));
    mm_result_free(r);
    mm_ignorefile_free(ign);

    /* the entry applies through its whole last day */
    const char *t2 = "CVE-2099-2002 exp:2030-06-15\n";
    CHECK_OK(mm_ignorefile_parse(&ign, t2, strlen(t2), "x"));
    r = debian_sample();
    REQUIRE(r);
    mm_filter_init(&f);
    f.ignore = ign;
    f.now = 1907798399; /* 2030-06-15T23:59:59Z */
    CHECK_OK(mm_filter_apply(r, &f, &st));
    CHECK_INT(st.dropped_ignored, 1);
    mm_result_free(r);
    r = debian_sample();
    REQUIRE(r);
    f.now = 1907798400; /* 2030-06-16T00:00:00Z */
    CHECK_OK(mm_filter_apply(r, &f, &st));
    CHECK_INT(st.dropped_ignored, 0);
    CHECK_INT(st.expired, 1);
    mm_result_free(r);
    mm_ignorefile_free(ign);
}

MM_TEST(ignorefile_syntax_errors)
{
    mm_ignorefile *ign = NULL;
    const char *bad_date = "CVE-1\nCVE-2 exp:2024-02-30\n";
    CHECK(mm_ignorefile_parse(&ign, bad_date, strlen(bad_date), "ign") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "ign:2:") != NULL);
    CHECK(ign == NULL);
    const char *junk = "CVE-1 whatever\n";
    CHECK(mm_ignorefile_parse(&ign, junk, strlen(junk), "ign") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "ign:1: unexpected \"whatever\"") != NULL);
    /* trivy's .trivyignore: comments, ids, exp: */
    const char *trivy = "# Accept the risk\nCVE-2018-14618\n\n# No impact in our settings\n"
                        "CVE-2019-1543 exp:2023-01-01\nAVD-DS-0002\n";
    CHECK_OK(mm_ignorefile_parse(&ign, trivy, strlen(trivy), ".trivyignore"));
    REQUIRE(ign);
    CHECK_INT(ign->n, 3);
    CHECK_STR(ign->v[2].id, "AVD-DS-0002");
    mm_ignorefile_free(ign);
}

MM_TEST(severity_filter_and_unfixed)
{
    unsigned set = 0;
    CHECK_OK(mm_severity_set_parse(&set, "critical,MEDIUM"));
    CHECK_INT(set, MM_SEV_BIT(MM_SEV_CRITICAL) | MM_SEV_BIT(MM_SEV_MEDIUM));
    CHECK(mm_severity_set_parse(&set, "HIGH,severe") == MM_EINVAL);
    CHECK(mm_severity_set_parse(&set, "") == MM_EINVAL);

    mm_result *r = debian_sample();
    REQUIRE(r);
    mm_filter f;
    mm_filter_init(&f);
    CHECK_OK(mm_severity_set_parse(&f.severities, "CRITICAL,MEDIUM"));
    mm_filter_stats st;
    CHECK_OK(mm_filter_apply(r, &f, &st));
    CHECK_INT(st.kept, 2);
    CHECK_INT(st.dropped_severity, 2);
    CHECK_INT(st.by_severity[MM_SEV_CRITICAL], 1);
    CHECK_INT(st.by_severity[MM_SEV_MEDIUM], 1);
    CHECK(find(r, "TEST-RANGES-1", "range-intro-fixed", "1.0.0"));
    CHECK(find(r, "CVE-2099-2002", "sample", "1.2-3+deb12u1"));
    mm_result_free(r);

    /* UNKNOWN is a severity of its own, selected explicitly */
    r = debian_sample();
    REQUIRE(r);
    mm_filter_init(&f);
    CHECK_OK(mm_severity_set_parse(&f.severities, "UNKNOWN"));
    CHECK_OK(mm_filter_apply(r, &f, &st));
    CHECK_INT(st.kept, 1);
    CHECK(find(r, "TEST-RANGES-3", "range-limit", "1.0.0"));
    mm_result_free(r);

    r = debian_sample();
    REQUIRE(r);
    mm_filter_init(&f);
    f.ignore_unfixed = true;
    CHECK_OK(mm_filter_apply(r, &f, &st));
    CHECK_INT(st.dropped_unfixed, 2); /* CVE-2099-2003 (open), TEST-RANGES-3 */
    CHECK_INT(st.kept, 2);
    CHECK(!find(r, "CVE-2099-2003", "sample", "1.2-3+deb12u1"));
    mm_result_free(r);
}

MM_TEST(sbom_cyclonedx_roundtrip_matches)
{
    /* an SBOM in trivy's style: epoch as a purl qualifier, source package
     * in trivy properties, OS component */
    const char *doc =
        "{\"bomFormat\":\"CycloneDX\",\"specVersion\":\"1.5\",\"metadata\":{\"component\":"
        "{\"type\":\"container\",\"name\":\"example/app:1\"}},\"components\":["
        "{\"type\":\"operating-system\",\"name\":\"debian\",\"version\":\"12\"},"
        "{\"type\":\"library\",\"name\":\"sample\",\"version\":\"1.2-3+deb12u1\","
        "\"purl\":\"pkg:deb/debian/sample@1.2-3%2Bdeb12u1?arch=amd64&distro=debian-12\"},"
        "{\"type\":\"library\",\"name\":\"libsrc1\",\"purl\":\"pkg:deb/debian/libsrc1@1.0-1%2Bb1?arch=amd64&epoch=0\","
        "\"properties\":[{\"name\":\"aquasecurity:trivy:SrcName\",\"value\":\"srcpkg\"},"
        "{\"name\":\"aquasecurity:trivy:SrcVersion\",\"value\":\"1.0\"},"
        "{\"name\":\"aquasecurity:trivy:SrcRelease\",\"value\":\"1\"}]},"
        "{\"type\":\"library\",\"name\":\"explicit\",\"purl\":\"pkg:npm/%40scope/explicit@4.0.1\"},"
        "{\"type\":\"library\",\"name\":\"x\",\"purl\":\"pkg:golang/stdlib@v1.21.4\"},"
        "{\"type\":\"library\",\"name\":\"junk\",\"purl\":\"not-a-purl\"}]}";
    mm_result *r = NULL;
    CHECK_OK(mm_sbom_parse(&r, doc, strlen(doc), "t.cdx.json"));
    REQUIRE(r);
    CHECK_STR(mm_result_os(r)->family, "debian");
    CHECK_STR(mm_result_target(r), "example/app:1");
    CHECK_INT(mm_result_kind(r), MM_TARGET_IMAGE);
    CHECK_INT(mm_inventory_count(mm_result_inventory(r)), 4);
    match(r, false);
    CHECK(find(r, "CVE-2099-2002", "sample", "1.2-3+deb12u1"));
    CHECK(!find(r, "CVE-2099-2001", "sample", "1.2-3+deb12u1"));
    CHECK(find(r, "CVE-2099-2005", "libsrc1", "1.0-1+b1"));
    CHECK(find(r, "TEST-RANGES-4", "@scope/explicit", "4.0.1"));
    CHECK(find(r, "TEST-GO-1", "stdlib", "v1.21.4"));
    mm_result_free(r);

    const char *notsbom = "{\"hello\": 1}";
    CHECK(mm_sbom_parse(&r, notsbom, strlen(notsbom), "x.json") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "x.json") != NULL);
    CHECK(mm_sbom_parse(&r, "{", 1, "y.json") == MM_EFORMAT);
}

MM_TEST(sbom_spdx_reads_os_and_source)
{
    const char *doc =
        "{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"rootfs\",\"packages\":["
        "{\"name\":\"debian\",\"SPDXID\":\"SPDXRef-OperatingSystem\",\"versionInfo\":\"12\","
        "\"primaryPackagePurpose\":\"OPERATING_SYSTEM\"},"
        "{\"name\":\"libsrc1\",\"SPDXID\":\"SPDXRef-P-1\",\"versionInfo\":\"1.0-1+b1\","
        "\"sourceInfo\":\"built from source package srcpkg 1.0-1\","
        "\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MANAGER\",\"referenceType\":\"purl\","
        "\"referenceLocator\":\"pkg:deb/debian/libsrc1@1.0-1%2Bb1?arch=amd64&distro=debian-12\"}],"
        "\"comment\":\"type dpkg; found in /var/lib/dpkg/status; layer 0 (sha256:abc)\"}]}";
    mm_result *r = NULL;
    CHECK_OK(mm_sbom_parse(&r, doc, strlen(doc), "t.spdx.json"));
    REQUIRE(r);
    CHECK_STR(mm_result_os(r)->version, "12");
    REQUIRE(mm_inventory_count(mm_result_inventory(r)) == 1);
    const mm_package *p = mm_inventory_get(mm_result_inventory(r), 0);
    CHECK_STR(p->src_name, "srcpkg");
    CHECK_STR(p->src_version, "1.0-1");
    CHECK_STR(p->path, "/var/lib/dpkg/status");
    CHECK_INT(p->layer, 0);
    CHECK_STR(p->layer_digest, "sha256:abc");
    match(r, false);
    CHECK(find(r, "CVE-2099-2005", "libsrc1", "1.0-1+b1"));
    mm_result_free(r);
}

/* issue 19: the JSON report `mamori server` stores, read back for a re-match */
MM_TEST(mamori_report_reads_inventory)
{
    const char *doc =
        "{\"schemaVersion\":1,\"kind\":\"image\",\"target\":\"app.tar\","
        "\"image\":{\"repoTags\":[\"example/app:1\"],\"configDigest\":\"sha256:c0\"},"
        "\"os\":{\"family\":\"debian\",\"version\":\"12\",\"codename\":null,\"name\":null},"
        "\"packages\":[{\"type\":\"dpkg\",\"name\":\"libsrc1\",\"version\":\"1.0-1+b1\","
        "\"srcName\":\"srcpkg\",\"srcVersion\":\"1.0-1\",\"path\":\"/var/lib/dpkg/status\","
        "\"layer\":0,\"layerDigest\":\"sha256:abc\","
        "\"purl\":\"pkg:deb/debian/libsrc1@1.0-1%2Bb1?arch=amd64&distro=debian-12\"},"
        "{\"type\":\"npm\",\"name\":\"@scope/explicit\",\"version\":\"4.0.1\","
        "\"purl\":\"pkg:npm/%40scope/explicit@4.0.1\"},"
        "{\"type\":\"npm\",\"name\":\"nopurl\",\"version\":\"1\",\"purl\":null}],"
        "\"findings\":[],\"warnings\":[]}";
    mm_result *r = NULL;
    CHECK_OK(mm_sbom_parse(&r, doc, strlen(doc), "scan 1"));
    REQUIRE(r);
    CHECK_INT(mm_result_kind(r), MM_TARGET_IMAGE);
    CHECK_STR(mm_result_target(r), "app.tar");
    CHECK_STR(mm_result_os(r)->family, "debian");
    REQUIRE(mm_inventory_count(mm_result_inventory(r)) == 2);
    const mm_package *p = mm_inventory_get(mm_result_inventory(r), 0);
    if (strcmp(p->name, "libsrc1") != 0)
        p = mm_inventory_get(mm_result_inventory(r), 1);
    CHECK_STR(p->src_name, "srcpkg");
    CHECK_STR(p->path, "/var/lib/dpkg/status");
    match(r, false);
    CHECK(find(r, "CVE-2099-2005", "libsrc1", "1.0-1+b1"));
    CHECK(find(r, "TEST-RANGES-4", "@scope/explicit", "4.0.1"));
    mm_result_free(r);
    const char *bad = "{\"schemaVersion\":1,\"packages\":{}}";
    CHECK(mm_sbom_parse(&r, bad, strlen(bad), "scan 2") == MM_EFORMAT);
}

MM_TEST_MAIN
