/*
 * test_imagecheck.c - the misconfiguration analyzer on root filesystems
 * the test writes itself: one with planted problems (setuid binary, sshd,
 * sudo, duplicate UID, UID 0 alias, empty passwords, .git, AWS
 * credentials, an SSH key, .npmrc with a token, .env, world-writable
 * files, apt lists and a pip cache left) and a clean twin that must give
 * none of them.  The image-config checks (user, healthcheck, history, ENV,
 * ports, tags) need an image and are in tests/integration/test_misconfig.py.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mmtest.h"

static char root[4096];

static void mkdirs(const char *rel)
{
    char p[8300];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *c = p + strlen(root) + 1; *c; c++) {
        if (*c == '/') {
            *c = 0;
            mkdir(p, 0755);
            *c = '/';
        }
    }
    mkdir(p, 0755);
}

static void put(const char *rel, const char *data, mode_t mode)
{
    char p[8300];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    char d[4096];
    snprintf(d, sizeof d, "%s", rel);
    char *sl = strrchr(d, '/');
    if (sl) {
        *sl = 0;
        mkdirs(d);
    }
    FILE *f = fopen(p, "w");
    if (!f)
        return;
    fputs(data, f);
    fclose(f);
    chmod(p, mode);
}

static const char *passwd_clean =
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "app:x:1000:1000::/home/app:/bin/sh\n";
static const char *shadow_clean =
    "root:*:19000:0:99999:7:::\n"
    "daemon:*:19000:0:99999:7:::\n"
    "app:!:19000:0:99999:7:::\n";

static void base_tree(void)
{
    put("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12\"\n",
        0644);
    put("usr/bin/ls", "\x7f" "ELF", 0755);
    put("var/lib/apt/lists/lock", "", 0640);
    mkdirs("var/lib/apt/lists/partial");
    mkdirs("tmp");
    chmod(strcat(strcpy((char[4096]){0}, root), "/tmp"), 01777);
}

static mm_result *scan(void)
{
    mm_scan_opts o;
    mm_scan_opts_init(&o);
    o.scanners = MM_SCANNER_MISCONFIG;
    o.threads = 1;
    mm_result *r = NULL;
    int rc = mm_scan(&r, MM_TARGET_ROOTFS, root, &o);
    if (rc != 0)
        fprintf(stderr, "scan: %s\n", mm_error_last());
    return r;
}

static const mm_finding *find(mm_result *r, const char *id, const char *path)
{
    mm_findings *fl = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fl); i++) {
        const mm_finding *f = mm_findings_get(fl, i);
        if (!strcmp(f->id, id) && (!path || (f->loc.path && !strcmp(f->loc.path, path))))
            return f;
    }
    return NULL;
}

static int count(mm_result *r, const char *id)
{
    int n = 0;
    mm_findings *fl = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fl); i++)
        n += !strcmp(mm_findings_get(fl, i)->id, id);
    return n;
}

#define EXPECT(r, id, path) do { if (!find(r, id, path)) {                      \
        fprintf(stderr, "%s:%d: no %s at %s\n", __FILE__, __LINE__, id,           \
                path ? path : "(any)"); mmt_failed_now = 1; } } while (0)

MM_TEST(planted_problems_and_clean_twin)
{
    snprintf(root, sizeof root, "%s/bad", mmt_tmpdir());
    mkdir(root, 0755);
    base_tree();
    put("etc/passwd",
        "root:x:0:0:root:/root:/bin/bash\n"
        "# a comment\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "toor:x:0:0:backdoor:/root:/bin/sh\n"
        "app:x:1000:1000::/home/app:/bin/sh\n"
        "app2:x:1000:1000::/home/app2:/bin/sh\n"
        "guest::1001:1001::/home/guest:/bin/sh\n"
        "broken line without fields\n", 0644);
    put("etc/shadow",
        "root::19000:0:99999:7:::\n"
        "daemon:*:19000:0:99999:7:::\n"
        "app:!:19000:0:99999:7:::\n", 0640);
    put("usr/local/bin/helper", "\x7f" "ELF", 04755);
    put("usr/bin/passwd", "\x7f" "ELF", 04755);
    put("usr/sbin/sshd", "\x7f" "ELF", 0755);
    put("usr/bin/sudo", "\x7f" "ELF", 04755);
    put("usr/bin/x", "#!/bin/sh\n", 0777);
    put("app/.git/HEAD", "ref: refs/heads/main\n", 0644);
    put("app/.git/config", "[core]\n", 0644);
    put("root/.aws/credentials", "[default]\naws_access_key_id = AKIA...\n", 0600);
    put("root/.ssh/id_ed25519", "-----BEGIN OPENSSH PRIVATE KEY-----\n", 0600);
    put("root/.ssh/id_ed25519.pub", "ssh-ed25519 AAAA\n", 0644);
    put("home/app/.npmrc", "//registry.npmjs.org/:_authToken=npm_abcdefghijklmnop\n", 0600);
    put("app/.env", "DB_PASSWORD=x\n", 0644);
    put("app/.env.example", "DB_PASSWORD=\n", 0644);
    put("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "x", 0644);
    put("root/.cache/pip/http/abc", "cache", 0644);
    mm_result *r = scan();
    REQUIRE(r);

    EXPECT(r, "MM-IMG-007", "/usr/local/bin/helper");
    EXPECT(r, "MM-IMG-007", "/usr/bin/passwd");
    const mm_finding *f = find(r, "MM-IMG-007", "/usr/local/bin/helper");
    if (f) {
        CHECK_STR(f->section, "3.1.2");
        CHECK(f->kind == MM_FIND_MISCONFIG);
        CHECK(f->nreferences == 1 && strstr(f->references[0], "4.8"));
        CHECK(strstr(f->evidence, "4755") != NULL);
    }
    EXPECT(r, "MM-IMG-008", "/usr/sbin/sshd");
    EXPECT(r, "MM-IMG-009", "/usr/bin/sudo");
    EXPECT(r, "MM-IMG-010", "/var/lib/apt/lists");
    EXPECT(r, "MM-IMG-010", "/root/.cache/pip");
    f = find(r, "MM-IMG-010", "/var/lib/apt/lists");
    if (f)
        CHECK_STR(f->evidence, "1 files, 1 bytes"); /* lock and partial/ do not count */
    EXPECT(r, "MM-IMG-012", "/etc/shadow");
    EXPECT(r, "MM-IMG-012", "/etc/passwd");
    f = find(r, "MM-IMG-012", "/etc/shadow");
    if (f) {
        CHECK_INT(f->loc.line, 1);
        CHECK(f->severity == MM_SEV_CRITICAL); /* root */
    }
    f = find(r, "MM-IMG-012", "/etc/passwd");
    if (f) {
        CHECK_INT(f->loc.line, 7);
        CHECK(strstr(f->evidence, "guest") != NULL);
    }
    f = find(r, "MM-IMG-013", "/etc/passwd");
    REQUIRE(f);
    CHECK_INT(f->loc.line, 6);
    CHECK_STR(f->evidence, "users app and app2 share uid 1000");
    CHECK_INT(count(r, "MM-IMG-013"), 1);
    f = find(r, "MM-IMG-014", "/etc/passwd");
    REQUIRE(f);
    CHECK_INT(f->loc.line, 4);
    EXPECT(r, "MM-IMG-015", "/app/.git");
    EXPECT(r, "MM-IMG-015", "/root/.aws/credentials");
    EXPECT(r, "MM-IMG-015", "/root/.ssh/id_ed25519");
    EXPECT(r, "MM-IMG-015", "/home/app/.npmrc");
    EXPECT(r, "MM-IMG-015", "/app/.env");
    CHECK(!find(r, "MM-IMG-015", "/app/.env.example"));
    CHECK(!find(r, "MM-IMG-015", "/root/.ssh/id_ed25519.pub"));
    CHECK_INT(count(r, "MM-IMG-015"), 5); /* .git once, not per file */
    EXPECT(r, "MM-IMG-016", "/usr/bin/x");
    CHECK(!find(r, "MM-IMG-016", "/tmp")); /* not a system path, and sticky */
    /* a malformed passwd line is a warning, not a failure */
    bool warned = false;
    for (size_t i = 0; i < mm_result_warning_count(r); i++)
        if (strstr(mm_result_warning(r, i), "/etc/passwd:8"))
            warned = true;
    CHECK(warned);
    /* no image config for a root filesystem: no config checks */
    CHECK_INT(count(r, "MM-IMG-001"), 0);
    mm_result_free(r);

    /* the clean twin */
    snprintf(root, sizeof root, "%s/clean", mmt_tmpdir());
    mkdir(root, 0755);
    base_tree();
    put("etc/passwd", passwd_clean, 0644);
    put("etc/shadow", shadow_clean, 0640);
    put("usr/local/bin/helper", "\x7f" "ELF", 0755);
    put("usr/bin/x", "#!/bin/sh\n", 0755);
    put("app/git/HEAD", "not a .git folder\n", 0644);
    put("app/.gitignore", "*.o\n", 0644);
    put("home/app/.npmrc", "registry=https://registry.npmjs.org/\n", 0644);
    put("root/.ssh/known_hosts", "host ssh-ed25519 AAAA\n", 0644);
    r = scan();
    REQUIRE(r);
    mm_findings *fl = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fl); i++) {
        const mm_finding *x = mm_findings_get(fl, i);
        fprintf(stderr, "clean twin: unexpected %s at %s\n", x->id,
                x->loc.path ? x->loc.path : "-");
    }
    CHECK_INT(mm_findings_count(fl), 0);
    mm_result_free(r);
}

MM_TEST(disabled_without_the_scanner_bit)
{
    snprintf(root, sizeof root, "%s/off", mmt_tmpdir());
    mkdir(root, 0755);
    base_tree();
    put("usr/local/bin/helper", "\x7f" "ELF", 04755);
    mm_scan_opts o;
    mm_scan_opts_init(&o);
    o.threads = 1;
    mm_result *r = NULL;
    CHECK_OK(mm_scan(&r, MM_TARGET_ROOTFS, root, &o));
    REQUIRE(r);
    CHECK_INT(count(r, "MM-IMG-007"), 0);
    mm_result_free(r);
    CHECK((mm_scan_available_scanners() & MM_SCANNER_MISCONFIG) != 0);
}

MM_TEST_MAIN
