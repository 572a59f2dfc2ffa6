/*
 * test_version.c - version ordering per ecosystem.  dpkg, rpm and apk
 * replay their projects' own vectors from ../shared/testdata/versions in
 * full; SemVer, PEP 440, Maven, RubyGems and NuGet check the orderings and
 * equalities their specifications state.  Every ordered pair is checked
 * both ways (cmp(a,b) == -cmp(b,a)), and invalid strings must give
 * MM_EFORMAT with a message naming them.
 */
#include "mmtest.h"

#include "mamori/common.h"
#include "vuln/version.h"
#include "vuln/version_int.h"

static int sgn(int v) { return (v > 0) - (v < 0); }

/* a ? b must come out as want (-1, 0, 1), and b ? a as its opposite. */
static bool order_is(mm_verscheme s, const char *a, const char *b, int want)
{
    int r1 = 99, r2 = 99, rc1 = mm_version_cmp(s, a, b, &r1),
        rc2 = mm_version_cmp(s, b, a, &r2);
    if (rc1 || rc2 || sgn(r1) != want || sgn(r2) != -want) {
        fprintf(stderr, "  scheme %d: \"%s\" vs \"%s\": got %d/%d (rc %d/%d: %s), want %d\n",
                (int)s, a, b, r1, r2, rc1, rc2, rc1 || rc2 ? mm_error_last() : "",
                want);
        return false;
    }
    return true;
}

/* Every earlier element of list is below every later one. */
static int check_ascending(mm_verscheme s, const char *const *list, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (!order_is(s, list[i], list[i], 0))
            bad++;
        for (size_t j = i + 1; j < n; j++)
            if (!order_is(s, list[i], list[j], -1))
                bad++;
    }
    return bad;
}
#define ASCENDING(s, ...) do {                                               \
        static const char *const l_[] = {__VA_ARGS__};                     \
        CHECK_INT(check_ascending(s, l_, sizeof l_ / sizeof l_[0]), 0);    \
    } while (0)
#define EQUAL(s, a, b) CHECK(order_is(s, a, b, 0))
#define LESS(s, a, b) CHECK(order_is(s, a, b, -1))

static int check_invalid(mm_verscheme s, const char *const *list, size_t n)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        int r = 99;
        if (mm_version_valid(s, list[i]) ||
            mm_version_cmp(s, list[i], "1.0.0", &r) != MM_EFORMAT ||
            mm_version_cmp(s, "1.0.0", list[i], &r) != MM_EFORMAT || r != 99) {
            fprintf(stderr, "  scheme %d: \"%s\" not refused\n", (int)s, list[i]);
            bad++;
        }
    }
    return bad;
}
#define INVALID(s, ...) do {                                                 \
        static const char *const l_[] = {__VA_ARGS__};                     \
        CHECK_INT(check_invalid(s, l_, sizeof l_ / sizeof l_[0]), 0);      \
    } while (0)

/* ------------------------------------------------------------- vectors */

/* Reads "A B R" lines; returns the number of lines run, -1 when absent. */
static int run_abr(const char *rel, mm_verscheme s, int *invalid_lines)
{
    const char *p = mmt_shared(rel);
    if (!p)
        return -1;
    char *data = mmt_read(p, NULL);
    if (!data)
        return -1;
    int lines = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        char a[256], b[256];
        int want;
        if (sscanf(line, "%255s %255s %d", a, b, &want) != 3) {
            fprintf(stderr, "  %s: unreadable line \"%s\"\n", rel, line);
            mmt_failed_now = 1;
            continue;
        }
        lines++;
        if (!mm_version_valid(s, a) || !mm_version_valid(s, b)) {
            /* mamori refuses what dpkg --compare-versions refuses */
            int r = 99;
            CHECK_INT(mm_version_cmp(s, a, b, &r), MM_EFORMAT);
            CHECK_INT(r, 99);
            (*invalid_lines)++;
            continue;
        }
        if (!order_is(s, a, b, want))
            mmt_failed_now = 1;
    }
    free(data);
    return lines;
}

MM_TEST(dpkg_vectors)
{
    int invalid = 0, n = run_abr("versions/dpkg.data", MM_VS_DPKG, &invalid);
    if (n < 0)
        MMT_SKIP("shared testdata versions/dpkg.data absent");
    CHECK_INT(n, 44);
    /* exactly the four lines with "0foo-" or "-0.6.5" */
    CHECK_INT(invalid, 4);
    CHECK(!mm_version_valid(MM_VS_DPKG, "0foo-"));
    CHECK(!mm_version_valid(MM_VS_DPKG, "-0.6.5"));
    int r;
    CHECK_INT(mm_version_cmp(MM_VS_DPKG, "0foo-", "0foo", &r), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "dpkg version \"0foo-\"") &&
          strstr(mm_error_last(), "revision is empty"));
    CHECK_INT(mm_version_cmp(MM_VS_DPKG, "1.0", "-0.6.5", &r), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "\"-0.6.5\"") &&
          strstr(mm_error_last(), "upstream version is empty"));
}

MM_TEST(rpm_vectors)
{
    int invalid = 0, n = run_abr("versions/rpm.data", MM_VS_RPM, &invalid);
    if (n < 0)
        MMT_SKIP("shared testdata versions/rpm.data absent");
    CHECK_INT(n, 69);
    CHECK_INT(invalid, 0);
}

/* apk-tools' version.data: "A OP B" lines (OP < > = ~ !~ <~ >~, as apk's
 * dependency operators: ~ is a fuzzy prefix match, ! negates), and lines
 * holding one version that must be valid, or invalid when it starts with
 * '!'.  '#' starts a comment. */
MM_TEST(apk_vectors)
{
    const char *p = mmt_shared("versions/apk.data");
    if (!p)
        MMT_SKIP("shared testdata versions/apk.data absent");
    char *data = mmt_read(p, NULL);
    REQUIRE(data);
    int ops = 0, valid_lines = 0, refused = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char a[256], op[8], b[256];
        int k = sscanf(line, "%255s %7s %255s", a, op, b);
        if (k <= 0)
            continue;
        if (k == 1) {
            /* validity line */
            bool want = a[0] != '!';
            const char *v = want ? a : a + 1;
            if (mm_version_valid(MM_VS_APK, v) != want) {
                fprintf(stderr, "  apk.data: \"%s\" validity wrong\n", a);
                mmt_failed_now = 1;
            }
            valid_lines++;
            continue;
        }
        REQUIRE(k == 3);
        ops++;
        bool negate = op[0] == '!';
        const char *o = negate ? op + 1 : op;
        bool fuzzy = strchr(o, '~') != NULL;
        int mask = 0;
        for (const char *c = o; *c; c++)
            mask |= *c == '<' ? 1 : *c == '=' ? 2 : *c == '>' ? 4 : *c == '~' ? 2 : 0;
        int r = mm_version_apk_compare(a, b, fuzzy);
        bool match = (mask & (r < 0 ? 1 : r == 0 ? 2 : 4)) != 0;
        if (match == negate) {
            fprintf(stderr, "  apk.data: %s %s %s: apk order gave %d\n", a, op, b, r);
            mmt_failed_now = 1;
        }
        /* the public API agrees on valid pairs and refuses the others */
        if (mm_version_valid(MM_VS_APK, a) && mm_version_valid(MM_VS_APK, b)) {
            int pr = 99;
            CHECK_OK(mm_version_cmp(MM_VS_APK, a, b, &pr));
            if (!fuzzy && sgn(pr) != r) {
                fprintf(stderr, "  apk.data: %s %s %s: mm_version_cmp gave %d\n", a, op, b, pr);
                mmt_failed_now = 1;
            }
            if (!fuzzy && !order_is(MM_VS_APK, a, b, r))
                mmt_failed_now = 1;
        } else {
            int pr;
            CHECK_INT(mm_version_cmp(MM_VS_APK, a, b, &pr), MM_EFORMAT);
            refused++;
        }
    }
    free(data);
    CHECK_INT(ops, 754);
    CHECK_INT(valid_lines, 31);
    /* "1.0bc", "23_foo" and "3.6.9_post1" (twice) are not apk versions:
     * apk orders them anyway, mm_version_cmp refuses them */
    CHECK_INT(refused, 4);
}

/* ----------------------------------------------------------- dpkg, rpm */

MM_TEST(dpkg_policy)
{
    ASCENDING(MM_VS_DPKG, "1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a", "1.0+", "1.0.1",
              "1.0.1-1~bpo12+1", "1.0.1-1", "1.0.1-1+deb12u1", "1.0.1-2",
              "1:0.1", "2:0");
    EQUAL(MM_VS_DPKG, "0:1.2-3", "1.2-3");
    EQUAL(MM_VS_DPKG, " 1.2-3 ", "1.2-3"); /* dpkg trims */
    EQUAL(MM_VS_DPKG, "1.2-0", "1.2");
    EQUAL(MM_VS_DPKG, "1.002", "1.2");
    /* numbers beyond 64 bits still compare */
    LESS(MM_VS_DPKG, "1.99999999999999999999", "1.100000000000000000000");
    /* the upstream part may hold hyphens and colons when there is an
     * epoch / revision */
    LESS(MM_VS_DPKG, "1:2.3-a-1", "1:2.3-b-1");
    EQUAL(MM_VS_DPKG, "1:2:3-1", "1:2:3-1");
    /* dpkg only warns about a non-digit start: accepted */
    CHECK(mm_version_valid(MM_VS_DPKG, "a1.0"));
    INVALID(MM_VS_DPKG, "", " ", "1.0-", "-1", "a:1.0", ":1.0", "1:",
            "2147483648:1", "1.0 1", "1.0_1", "1.0-1_2", "1.0-1:2", "1.0\x01");
}

MM_TEST(rpm_evr)
{
    /* rpm's caret and tilde cases (rpmvercmp.at, rpm >= 4.15) */
    LESS(MM_VS_RPM, "1.0", "1.0^");
    LESS(MM_VS_RPM, "1.0", "1.0^git1");
    LESS(MM_VS_RPM, "1.0^git1", "1.0^git2");
    LESS(MM_VS_RPM, "1.0^git1", "1.01");
    LESS(MM_VS_RPM, "1.0^20160101", "1.0.1");
    EQUAL(MM_VS_RPM, "1.0^20160101^git1", "1.0^20160101^git1");
    LESS(MM_VS_RPM, "1.0^20160101^git1", "1.0^20160102");
    LESS(MM_VS_RPM, "1.0~rc1", "1.0~rc1^git1");
    LESS(MM_VS_RPM, "1.0^git1~pre", "1.0^git1");
    LESS(MM_VS_RPM, "1.0~rc1^git1", "1.0");
    /* epoch, version, release */
    LESS(MM_VS_RPM, "2.0-1", "1:1.0-1");
    EQUAL(MM_VS_RPM, "0:1.0-1", "1.0-1");
    LESS(MM_VS_RPM, "1.0-1.el9", "1.0-1.el9_2");
    LESS(MM_VS_RPM, "1.0-9", "1.0-10");
    LESS(MM_VS_RPM, "2.28-225.el9", "2.28-225.el9_3.1");
    /* rpm compares releases only when both have one */
    EQUAL(MM_VS_RPM, "1.0", "1.0-5");
    INVALID(MM_VS_RPM, "", "1.0-", "-1", "1.0 1", "1.0\t", "1.0\xc3\xa9", "1:");
}

MM_TEST(apk_rules)
{
    ASCENDING(MM_VS_APK, "1.0_alpha", "1.0_alpha2", "1.0_beta", "1.0_pre1", "1.0_rc1",
              "1.0", "1.0-r1", "1.0_cvs1", "1.0_svn1", "1.0_git20240101",
              "1.0_hg1", "1.0_p1", "1.0_p2-r3", "1.0a", "1.0b", "1.0.1");
    LESS(MM_VS_APK, "1.0~1234-r1", "1.0~2345-r0");
    LESS(MM_VS_APK, "3.1_p16", "3.1_p17");
    EQUAL(MM_VS_APK, "0.2.0-r1", "0.2.0-r1");
    /* fuzzy "~": a prefix match that the public compare does not do */
    CHECK(mm_version_apk_compare("3.6.9", "3.6", true) == 0);
    CHECK(mm_version_apk_compare("3.6.9", "3.6", false) > 0);
    CHECK(mm_version_apk_compare("3.8", "3.8.1", true) < 0);
    INVALID(MM_VS_APK, "1.0-1", "1.0bc", "1.0_foo", "v1.0", "1.0-r", "1.0-r1-r2",
            "1.0~", "1.0~xyz", ".1", "1.0_", "1.0 ");
}

/* -------------------------------------------------------------- SemVer */

MM_TEST(semver_spec)
{
    /* SemVer 2.0.0 §11 */
    ASCENDING(MM_VS_SEMVER, "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
              "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
              "1.0.0", "2.0.0", "2.1.0", "2.1.1");
    /* §11.4.3: numeric identifiers below alphanumeric; ASCII order */
    LESS(MM_VS_SEMVER, "1.0.0-999", "1.0.0-a");
    LESS(MM_VS_SEMVER, "1.0.0-Z", "1.0.0-a");
    LESS(MM_VS_SEMVER, "1.0.0-a.b", "1.0.0-a-b"); /* "a-b" is one identifier */
    LESS(MM_VS_SEMVER, "1.9.0", "1.10.0");
    /* §10: build metadata is ignored */
    EQUAL(MM_VS_SEMVER, "1.0.0-alpha+001", "1.0.0-alpha");
    EQUAL(MM_VS_SEMVER, "1.0.0+20130313144700", "1.0.0");
    EQUAL(MM_VS_SEMVER, "1.0.0-beta+exp.sha.5114f85", "1.0.0-beta");
    /* Go: "v" prefix, +incompatible, pseudo-versions */
    EQUAL(MM_VS_SEMVER, "v1.2.3", "1.2.3");
    EQUAL(MM_VS_SEMVER, "v2.0.0+incompatible", "2.0.0");
    ASCENDING(MM_VS_SEMVER, "v0.0.0-20191109021931-daa7c04131f5",
              "v0.0.0-20200101000000-aaaaaaaaaaaa", "v0.0.1",
              "v1.2.4-0.20191109021931-daa7c04131f5", "v1.2.4");
    /* npm: "=" and "v" */
    EQUAL(MM_VS_SEMVER, "=1.2.3", "1.2.3");
    EQUAL(MM_VS_SEMVER, "=v1.2.3", "v1.2.3");
    LESS(MM_VS_SEMVER, "1.2.3", "18446744073709551616.0.0");
    INVALID(MM_VS_SEMVER, "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03",
            "1.2.3-", "1.2.3-01", "1.2.3-a..b", "1.2.3+", "1.2.3+a..b",
            "1.2.3-a_b", "a.b.c", "1.2.3 ", " 1.2.3", "-1.2.3", "vv1.2.3",
            "1.2.3-\xc3\xa9");
}

/* ------------------------------------------------------------- PEP 440 */

MM_TEST(pep440_spec)
{
    /* PEP 440, "Summary of permitted suffixes and relative ordering" */
    ASCENDING(MM_VS_PEP440, "1.dev0", "1.0.dev456", "1.0a1", "1.0a2.dev456",
              "1.0a12.dev456", "1.0a12", "1.0b1.dev456", "1.0b2",
              "1.0b2.post345.dev456", "1.0b2.post345", "1.0rc1.dev456",
              "1.0rc1", "1.0", "1.0+abc.5", "1.0+abc.7", "1.0+5",
              "1.0.post456.dev34", "1.0.post456", "1.0.15", "1.1.dev1");
    /* epochs come first */
    LESS(MM_VS_PEP440, "2013.10", "1!1.0");
    LESS(MM_VS_PEP440, "1!1.0", "1!1.1");
    EQUAL(MM_VS_PEP440, "0!1.0", "1.0");
    /* release segments: trailing zeros do not count */
    EQUAL(MM_VS_PEP440, "1.0", "1.0.0");
    EQUAL(MM_VS_PEP440, "1.01", "1.1");
    /* normalisation */
    EQUAL(MM_VS_PEP440, "1.0RC1", "1.0rc1");
    EQUAL(MM_VS_PEP440, "1.0c1", "1.0rc1");
    EQUAL(MM_VS_PEP440, "1.0pre1", "1.0rc1");
    EQUAL(MM_VS_PEP440, "1.0preview1", "1.0rc1");
    EQUAL(MM_VS_PEP440, "1.0alpha1", "1.0a1");
    EQUAL(MM_VS_PEP440, "1.0-beta.2", "1.0b2");
    EQUAL(MM_VS_PEP440, "1.0a", "1.0a0");
    EQUAL(MM_VS_PEP440, "1.0-1", "1.0.post1");
    EQUAL(MM_VS_PEP440, "1.0.post", "1.0.post0");
    EQUAL(MM_VS_PEP440, "1.0-r1", "1.0.post1");
    EQUAL(MM_VS_PEP440, "1.0rev1", "1.0.post1");
    EQUAL(MM_VS_PEP440, "1.0-dev", "1.0.dev0");
    EQUAL(MM_VS_PEP440, "v1.0", "1.0");
    EQUAL(MM_VS_PEP440, " 1.0\n", "1.0");
    EQUAL(MM_VS_PEP440, "1.0+Ubuntu-1", "1.0+ubuntu.1");
    /* local labels: numbers above words, more segments above fewer */
    LESS(MM_VS_PEP440, "1.0+abc", "1.0+1");
    LESS(MM_VS_PEP440, "1.0+abc", "1.0+abc.1");
    LESS(MM_VS_PEP440, "1.0+9", "1.0+10");
    INVALID(MM_VS_PEP440, "", "foo", "1.0-", "1.0.", "1..0", "1.0+", "1.0+a..b",
            "1.0+.a", "1.0.x", "1.0a1a", "!1.0", "1!", "1.0.dev1.dev2",
            "1.0 beta", "1.0\xc3\xa9");
}

/* --------------------------------------------------------------- Maven */

MM_TEST(maven_comparable_version)
{
    /* maven-artifact's ComparableVersionTest */
    ASCENDING(MM_VS_MAVEN, "1-alpha2snapshot", "1-alpha2", "1-alpha-123", "1-beta-2",
              "1-beta123", "1-m2", "1-m11", "1-rc", "1-cr2", "1-rc123",
              "1-SNAPSHOT", "1", "1-sp", "1-sp2", "1-sp123", "1-abc", "1-def",
              "1-pom-1", "1-1-snapshot", "1-1", "1-2", "1-123");
    /* (Maven 3.9: a trailing ".a" reads as "-a", so 2.0.a == 2.0.0.a) */
    ASCENDING(MM_VS_MAVEN, "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0",
              "2.1-a", "2.1b", "2.1-c", "2.1-1", "2.1.0.1", "2.2", "2.123",
              "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11", "11",
              "11.a", "11b", "11c", "11m");
    EQUAL(MM_VS_MAVEN, "2.0.a", "2.0.0.a");
    /* MNG-7644, the class's own documentation */
    ASCENDING(MM_VS_MAVEN, "1.0.RC2", "1.0-RC3", "1.0.1");
    ASCENDING(MM_VS_MAVEN, "1.0.X2", "1.0-X3", "1.0.1");
    /* the POM reference's version order examples */
    ASCENDING(MM_VS_MAVEN, "1-snapshot", "1", "1-sp");
    LESS(MM_VS_MAVEN, "1-foo2", "1-foo10");
    ASCENDING(MM_VS_MAVEN, "1.foo", "1-1", "1.1");
    EQUAL(MM_VS_MAVEN, "1.foo", "1-foo");
    EQUAL(MM_VS_MAVEN, "1.ga", "1-ga");
    EQUAL(MM_VS_MAVEN, "1-0", "1.0");
    LESS(MM_VS_MAVEN, "1-ga", "1-sp");
    LESS(MM_VS_MAVEN, "1-ga.1", "1-sp.1");
    EQUAL(MM_VS_MAVEN, "1-a1", "1-alpha-1");
    /* MNG-6964: a sub-list against nothing looks past its first item */
    LESS(MM_VS_MAVEN, "1", "1-0.1");
    LESS(MM_VS_MAVEN, "1-0.alpha", "1");
    static const char *const eq[][2] = {
        {"1", "1"}, {"1", "1.0"}, {"1", "1.0.0"}, {"1.0", "1.0.0"}, {"1", "1-0"},
        {"1", "1.0-0"}, {"1.0", "1.0-0"}, {"1a", "1.a"}, {"1a", "1-a"},
        {"1a", "1.0-a"}, {"1a", "1.0.0-a"}, {"1.0a", "1.0.a"},
        {"1.0.0a", "1.0.0.a"}, {"1x", "1.x"}, {"1x", "1-x"}, {"1x", "1.0-x"},
        {"1x", "1.0.0-x"}, {"1.0x", "1.0.x"}, {"1.0.0x", "1.0.0.x"},
        {"1ga", "1"}, {"1final", "1"}, {"1release", "1"}, {"1cr", "1rc"},
        {"1a1", "1alpha1"}, {"1b2", "1beta2"}, {"1m3", "1milestone3"},
        {"1X", "1x"}, {"1A", "1a"}, {"1B", "1b"}, {"1M", "1m"}, {"1Ga", "1"},
        {"1GA", "1"}, {"1Final", "1"}, {"1FinaL", "1"}, {"1FINAL", "1"},
        {"1Cr", "1Rc"}, {"1cR", "1rC"}, {"1m3", "1Milestone3"},
        {"1m3", "1MileStone3"}, {"1m3", "1MILESTONE3"},
        {"1-abcdefghijklmnopqrstuvwxyz", "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    };
    for (size_t i = 0; i < sizeof eq / sizeof eq[0]; i++)
        EQUAL(MM_VS_MAVEN, eq[i][0], eq[i][1]);
    static const char *const lt[][2] = {
        {"1", "2"}, {"1.5", "2"}, {"1", "2.5"}, {"1.0", "1.1"}, {"1.1", "1.2"},
        {"1.0.0", "1.1"}, {"1.0.1", "1.1"}, {"1.1", "1.2.0"},
        {"1.0-alpha-1", "1.0"}, {"1.0-alpha-1", "1.0-alpha-2"},
        {"1.0-alpha-1", "1.0-beta-1"}, {"1.0-beta-1", "1.0-SNAPSHOT"},
        {"1.0-SNAPSHOT", "1.0"}, {"1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"},
        {"1.0", "1.0-1"}, {"1.0-1", "1.0-2"}, {"1.0.0", "1.0-1"},
        {"2.0-1", "2.0.1"}, {"2.0.1-klm", "2.0.1-lmn"}, {"2.0.1", "2.0.1-xyz"},
        {"2.0.1", "2.0.1-123"}, {"2.0.1-xyz", "2.0.1-123"},
        /* numbers past 64 bits */
        {"1.9223372036854775807", "1.9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof lt / sizeof lt[0]; i++)
        LESS(MM_VS_MAVEN, lt[i][0], lt[i][1]);
    INVALID(MM_VS_MAVEN, "", "1.0 beta", "1.0\t", "1.0\xc3\xa9");
}

/* ------------------------------------------------------------ RubyGems */

MM_TEST(gem_version)
{
    /* rubygems' test_gem_version.rb (test_spaceship, test_prerelease) */
    EQUAL(MM_VS_GEM, "1.0", "1.0.0");
    LESS(MM_VS_GEM, "1.0.a", "1.0");
    LESS(MM_VS_GEM, "0.0.0", "1.8.2");
    LESS(MM_VS_GEM, "1.8.2.a", "1.8.2");
    LESS(MM_VS_GEM, "1.8.2.a", "1.8.2.b");
    LESS(MM_VS_GEM, "1.8.2.a9", "1.8.2.a10");
    EQUAL(MM_VS_GEM, "0.beta.1", "0.0.beta.1");
    LESS(MM_VS_GEM, "0.0.beta", "0.0.beta.1");
    LESS(MM_VS_GEM, "0.0.beta", "0.beta.1");
    LESS(MM_VS_GEM, "5.a", "5.0.0.rc2");
    LESS(MM_VS_GEM, "5.0.0.rc2", "5.x");
    /* "-" is ".pre." */
    EQUAL(MM_VS_GEM, "1.0.0-rc1", "1.0.0.pre.rc1");
    EQUAL(MM_VS_GEM, "1.9.3-1", "1.9.3.pre.1");
    LESS(MM_VS_GEM, "1.9.3-1", "1.9.3");
    ASCENDING(MM_VS_GEM, "1.0.a.1", "1.0.a.2", "1.0.b1", "1.0.rc1", "1.0", "1.0.1",
              "1.1", "2", "10");
    EQUAL(MM_VS_GEM, " 1.2 ", "1.2");
    LESS(MM_VS_GEM, "1.0.A", "1.0.a"); /* words compare as bytes */
    INVALID(MM_VS_GEM, "", "junk", "1.0\n2.0", "1..2", "1.2 3.4", "1a", "1.0-",
            "1.", "-1", "1.0+1", "1.0_1");
}

/* --------------------------------------------------------------- NuGet */

MM_TEST(nuget_version)
{
    ASCENDING(MM_VS_NUGET, "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
              "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1",
              "1.0.0", "1.0.0.1", "1.0.1", "1.1", "2");
    /* four parts, padded; labels case-insensitive; metadata ignored */
    EQUAL(MM_VS_NUGET, "1.0", "1.0.0.0");
    EQUAL(MM_VS_NUGET, "1", "1.0.0");
    EQUAL(MM_VS_NUGET, "1.0.0-ALPHA", "1.0.0-alpha");
    EQUAL(MM_VS_NUGET, "1.0.0-Beta.2", "1.0.0-beta.2");
    EQUAL(MM_VS_NUGET, "1.0.0+abc", "1.0.0");
    EQUAL(MM_VS_NUGET, "1.0.0-rc.1+build.5", "1.0.0-RC.1");
    EQUAL(MM_VS_NUGET, "1.01.0", "1.1.0");
    LESS(MM_VS_NUGET, "1.0.0-1", "1.0.0-a");
    LESS(MM_VS_NUGET, "1.0.0-alpha", "1.0.0-Beta");
    LESS(MM_VS_NUGET, "4.0.0.9", "4.0.0.10");
    INVALID(MM_VS_NUGET, "", "a", "1.0.0.0.0", "1..0", "1.0.0-", "1.0.0-a..b",
            "1.0.0+", "v1.0.0", "1.0.0 ", "1.0.0-a_b");
}

/* --------------------------------------------------------- ecosystems */

MM_TEST(ecosystem_schemes)
{
    static const struct { const char *eco; mm_verscheme s; } tab[] = {
        {"Debian:12", MM_VS_DPKG}, {"Debian", MM_VS_DPKG},
        {"Ubuntu:22.04:LTS", MM_VS_DPKG}, {"Ubuntu:Pro:18.04:LTS", MM_VS_DPKG},
        {"Alpine:v3.18", MM_VS_APK}, {"Wolfi", MM_VS_APK}, {"Chainguard", MM_VS_APK},
        {"Red Hat:enterprise_linux:9::appstream", MM_VS_RPM},
        {"Rocky Linux:9", MM_VS_RPM}, {"AlmaLinux:8", MM_VS_RPM},
        {"SUSE:Linux Enterprise Server 15 SP5", MM_VS_RPM},
        {"openSUSE:Leap 15.5", MM_VS_RPM}, {"PyPI", MM_VS_PEP440},
        {"npm", MM_VS_SEMVER}, {"Go", MM_VS_SEMVER}, {"crates.io", MM_VS_SEMVER},
        {"Packagist", MM_VS_SEMVER}, {"Maven", MM_VS_MAVEN},
        {"RubyGems", MM_VS_GEM}, {"NuGet", MM_VS_NUGET},
    };
    for (size_t i = 0; i < sizeof tab / sizeof tab[0]; i++) {
        mm_verscheme s = MM_VS__COUNT;
        CHECK(mm_verscheme_for_ecosystem(tab[i].eco, &s));
        if (s != tab[i].s)
            fprintf(stderr, "  %s -> %d\n", tab[i].eco, (int)s);
        CHECK(s == tab[i].s);
    }
    mm_verscheme s;
    CHECK(!mm_verscheme_for_ecosystem("debian:12", &s)); /* names are exact */
    CHECK(!mm_verscheme_for_ecosystem("Deb", &s));
    CHECK(!mm_verscheme_for_ecosystem("", &s));
    CHECK(!mm_verscheme_for_ecosystem("GIT", &s));
    CHECK(!mm_verscheme_for_ecosystem(NULL, &s));
}

MM_TEST(bad_arguments_and_limits)
{
    int r = 99;
    CHECK_INT(mm_version_cmp(MM_VS_DPKG, NULL, "1", &r), MM_EINVAL);
    CHECK_INT(mm_version_cmp(MM_VS__COUNT, "1", "1", &r), MM_EINVAL);
    CHECK_INT(mm_version_cmp((mm_verscheme)-1, "1", "1", &r), MM_EINVAL);
    CHECK(!mm_version_valid(MM_VS_DPKG, NULL));
    CHECK(!mm_version_valid(MM_VS__COUNT, "1"));
    /* over-long versions are refused by every scheme, messages stay short */
    char big[1100];
    memset(big, '1', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    for (int s = 0; s < MM_VS__COUNT; s++) {
        CHECK(!mm_version_valid((mm_verscheme)s, big));
        CHECK_INT(mm_version_cmp((mm_verscheme)s, big, "1", &r), MM_EFORMAT);
        CHECK(strlen(mm_error_last()) < 200);
    }
    /* Maven and RubyGems cap their component lists */
    char many[600];
    size_t k = 0;
    for (int i = 0; i < 200; i++)
        many[k++] = '1', many[k++] = '.';
    many[k - 1] = '\0';
    CHECK(!mm_version_valid(MM_VS_MAVEN, many));
    CHECK(!mm_version_valid(MM_VS_GEM, many));
    CHECK(mm_version_valid(MM_VS_DPKG, many));
    /* control characters are shown as '?' in messages */
    CHECK_INT(mm_version_cmp(MM_VS_SEMVER, "1.0.0\x1b[31m", "1.0.0", &r), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "1.0.0?[31m") != NULL);
}

MM_TEST_MAIN
