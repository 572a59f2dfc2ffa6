/*
 * test_os.c - OS detection: os-release(5) quoting and precedence, and each
 * legacy release file as a fallback, with contents as real distributions
 * ship them.  Files are handed to mm_os_detect() from a small table.
 */
#include "mmtest.h"

#include <sys/stat.h>

#include "mamori/scan.h"
#include "pkg/osdb.h"

typedef struct ffile {
    const char *path, *text;
} ffile;

static bool get(void *ud, const char *path, const char **d, size_t *n)
{
    for (const ffile *f = ud; f->path; f++) {
        if (strcmp(f->path, path) == 0) {
            *d = f->text;
            *n = strlen(f->text);
            return true;
        }
    }
    return false;
}

#define CHECK_NULL_OR(a, b) do { if (b) CHECK_STR(a, b); else CHECK((a) == NULL); } while (0)

static void expect(const ffile *files, const char *family, const char *version,
                   const char *codename, const char *name)
{
    mm_os_info o;
    CHECK_OK(mm_os_detect(&o, get, (void *)files));
    CHECK_NULL_OR(o.family, family);
    CHECK_NULL_OR(o.version, version);
    CHECK_NULL_OR(o.codename, codename);
    CHECK_NULL_OR(o.name, name);
    mm_os_info_clear(&o);
    CHECK(o.family == NULL);
}

MM_TEST(debian_os_release)
{
    ffile f[] = {
        {"etc/os-release",
         "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
         "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\n"
         "VERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"
         "HOME_URL=\"https://www.debian.org/\"\n"},
        {"etc/debian_version", "12.5\n"},
        {NULL, NULL},
    };
    expect(f, "debian", "12", "bookworm", "Debian GNU/Linux 12 (bookworm)");
}

MM_TEST(os_release_quoting)
{
    /* os-release(5): shell-style values; comments; the last assignment
     * wins; ID_LIKE is not ID; IDs are lower-cased. */
    ffile f[] = {
        {"etc/os-release",
         "# a comment: ID=wrong\n"
         "ID_LIKE=\"rhel fedora\"\n"
         "ID=first\n"
         "  ID=\"MyOS\"\n"
         "VERSION_ID='1.0 beta'\n"
         "VERSION_CODENAME=code\\ name\n"
         "PRETTY_NAME=\"My \\\"quoted\\\" OS \\$HOME \\\\ \\x\" # trailing\n"
         "\n"},
        {NULL, NULL},
    };
    expect(f, "myos", "1.0 beta", "code name",
           "My \"quoted\" OS $HOME \\ \\x");
}

MM_TEST(os_release_values)
{
    const char *t = "A=plain\nB='single \"x\" \\n'\nC=\"\"\nD\nE=a\"b c\"d\n";
    size_t n = strlen(t);
    char *v;
    CHECK_STR(v = mm_os_release_value(t, n, "A"), "plain"); free(v);
    CHECK_STR(v = mm_os_release_value(t, n, "B"), "single \"x\" \\n"); free(v);
    CHECK_STR(v = mm_os_release_value(t, n, "C"), ""); free(v);
    CHECK(mm_os_release_value(t, n, "D") == NULL);
    CHECK_STR(v = mm_os_release_value(t, n, "E"), "ab cd"); free(v);
    CHECK(mm_os_release_value(t, n, "Z") == NULL);
    /* an unterminated quote ends with the line */
    CHECK_STR(v = mm_os_release_value("X=\"open\nY=1\n", 12, "X"), "open");
    free(v);
}

MM_TEST(etc_wins_over_usr_lib)
{
    ffile f[] = {
        {"usr/lib/os-release", "ID=usrlib\nVERSION_ID=1\n"},
        {"etc/os-release", "ID=etc\nVERSION_ID=2\n"},
        {NULL, NULL},
    };
    expect(f, "etc", "2", NULL, NULL);
    ffile g[] = {
        {"usr/lib/os-release",
         "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1\n"
         "PRETTY_NAME=\"Alpine Linux v3.19\"\n"},
        {NULL, NULL},
    };
    expect(g, "alpine", "3.19.1", NULL, "Alpine Linux v3.19");
}

MM_TEST(os_release_without_version_id)
{
    /* Debian testing/sid: no VERSION_ID; debian_version says it. */
    ffile f[] = {
        {"etc/os-release",
         "PRETTY_NAME=\"Debian GNU/Linux trixie/sid\"\nNAME=\"Debian GNU/Linux\"\n"
         "VERSION_CODENAME=trixie\nID=debian\n"},
        {"etc/debian_version", "trixie/sid\n"},
        {NULL, NULL},
    };
    expect(f, "debian", "trixie/sid", "trixie", "Debian GNU/Linux trixie/sid");
    /* A release file of another distribution does not lend its version. */
    ffile g[] = {
        {"etc/os-release", "ID=wolfi\nNAME=\"Wolfi\"\n"},
        {"etc/debian_version", "12.5\n"},
        {NULL, NULL},
    };
    expect(g, "wolfi", NULL, NULL, "Wolfi");
}

MM_TEST(fallback_alpine_release)
{
    ffile f[] = {{"etc/alpine-release", "3.4.6\n"}, {NULL, NULL}};
    expect(f, "alpine", "3.4.6", NULL, "Alpine Linux 3.4.6");
}

MM_TEST(fallback_debian_version)
{
    ffile f[] = {{"etc/debian_version", "12.5\n"}, {NULL, NULL}};
    expect(f, "debian", "12.5", NULL, "Debian GNU/Linux 12.5");
}

MM_TEST(fallback_lsb_release)
{
    /* Ubuntu before os-release: lsb-release beats debian_version. */
    ffile f[] = {
        {"etc/debian_version", "buster/sid\n"},
        {"etc/lsb-release",
         "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=18.04\nDISTRIB_CODENAME=bionic\n"
         "DISTRIB_DESCRIPTION=\"Ubuntu 18.04.1 LTS\"\n"},
        {NULL, NULL},
    };
    expect(f, "ubuntu", "18.04", "bionic", "Ubuntu 18.04.1 LTS");
}

MM_TEST(fallback_centos_release)
{
    ffile f[] = {
        {"etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n"},
        {"etc/redhat-release", "CentOS Linux release 7.9.2009 (Core)\n"},
        {NULL, NULL},
    };
    expect(f, "centos", "7.9.2009", NULL,
           "CentOS Linux release 7.9.2009 (Core)");
}

MM_TEST(fallback_redhat_release)
{
    ffile f[] = {
        {"etc/redhat-release",
         "Red Hat Enterprise Linux Server release 7.9 (Maipo)\n"},
        {NULL, NULL},
    };
    expect(f, "rhel", "7.9", NULL,
           "Red Hat Enterprise Linux Server release 7.9 (Maipo)");
}

MM_TEST(fallback_fedora_release)
{
    ffile f[] = {
        {"etc/fedora-release", "Fedora release 38 (Thirty Eight)\n"},
        {NULL, NULL},
    };
    expect(f, "fedora", "38", NULL, "Fedora release 38 (Thirty Eight)");
}

MM_TEST(fallback_system_release)
{
    ffile f[] = {
        {"etc/system-release", "Amazon Linux AMI release 2018.03\n"},
        {NULL, NULL},
    };
    expect(f, "amzn", "2018.03", NULL, "Amazon Linux AMI release 2018.03");
}

MM_TEST(fallback_suse_release)
{
    ffile f[] = {
        {"etc/SuSE-release",
         "SUSE Linux Enterprise Server 11 (x86_64)\nVERSION = 11\n"
         "PATCHLEVEL = 4\n"},
        {NULL, NULL},
    };
    expect(f, "sles", "11.4", NULL, "SUSE Linux Enterprise Server 11");
    ffile g[] = {
        {"etc/SuSE-release",
         "openSUSE 13.2 (x86_64)\nVERSION = 13.2\nCODENAME = Harlequin\n"
         "# /etc/SuSE-release is deprecated and will be removed in a future "
         "service pack or release.\n"},
        {NULL, NULL},
    };
    expect(g, "opensuse", "13.2", "Harlequin", "openSUSE 13.2");
}

MM_TEST(nothing_known)
{
    ffile f[] = {{"etc/hostname", "box\n"}, {NULL, NULL}};
    expect(f, NULL, NULL, NULL, NULL);
    /* Garbage is no OS: control characters and bad IDs are dropped. */
    ffile g[] = {
        {"etc/os-release", "ID=\"bad/id\"\nVERSION_ID=\"1\x01\"\n"},
        {"etc/alpine-release", "\x01\x02\n"},
        {NULL, NULL},
    };
    expect(g, NULL, NULL, NULL, NULL);
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

static void scan_os(const char *root, const char *family, const char *version)
{
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, NULL));
    if (!r)
        return;
    const mm_os_info *os = mm_result_os(r);
    if (family)
        CHECK_STR(os->family, family);
    else
        CHECK(os->family == NULL);
    if (version)
        CHECK_STR(os->version, version);
    mm_result_free(r);
}

MM_TEST(analyzer_symlinked_os_release)
{
    const char *tmp = mmt_tmpdir();
    REQUIRE(tmp);
    char root[512], link[600];
    snprintf(root, sizeof root, "%s", tmp);
    REQUIRE(put(root, "usr/lib/os-release",
                "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n"));
    REQUIRE(put(root, "etc/debian_version", "bookworm/sid\n"));
    /* etc/os-release -> /usr/lib/os-release: absolute, resolved inside the
     * image, not on the host */
    snprintf(link, sizeof link, "%s/etc/os-release", root);
    REQUIRE(symlink("/usr/lib/os-release", link) == 0);
    scan_os(root, "ubuntu", "22.04");

    /* A dangling etc/os-release: usr/lib/os-release still counts. */
    unlink(link);
    REQUIRE(symlink("../nowhere/os-release", link) == 0);
    scan_os(root, "ubuntu", "22.04");

    /* Without any os-release, the release files decide. */
    unlink(link);
    snprintf(link, sizeof link, "%s/usr/lib/os-release", root);
    unlink(link);
    scan_os(root, "debian", "bookworm/sid");
    mm_tmpdir_remove(root);
}

MM_TEST_MAIN
