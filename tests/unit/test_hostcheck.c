/*
 * test_hostcheck.c - the compliance check table (unique ids, every check
 * names its SP 800-190 section and benchmark item), audit-rule watches as
 * auditctl and rules files write them, saved inspect documents through the
 * CIS container checks, and a --fix plan's diff and apply/rollback on a
 * temp root.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/mamori.h"
#include "mamori/compliance.h"
#include "host/cis_int.h"
#include "mmtest.h"

MM_TEST(check_table)
{
    size_t n = mm_check_def_count();
    CHECK(n > 100);
    for (size_t i = 0; i < n; i++) {
        const mm_check_def *d = mm_check_def_get(i);
        CHECK(d->id && d->title && d->number && d->benchmark && d->remediation);
        CHECK(d->section && !strncmp(d->section, "3.", 2));
        CHECK(mm_check_def_find(d->id) == d);   /* unique */
        if (!strncmp(d->id, "CIS-DOCKER-", 11)) {
            CHECK_STR(d->id + 11, d->number);
        }
    }
    /* docker-bench numbers section 5 one lower */
    CHECK_STR(mm_check_def_find("CIS-DOCKER-5.32")->dbs_id, "check_5_31");
    CHECK_STR(mm_check_def_find("CIS-DOCKER-2.2")->dbs_id, "check_2_2");
    CHECK(mm_check_def_find("nope") == NULL);
}

MM_TEST(audit_watches)
{
    const char *rules = "-w /usr/bin/dockerd -k docker\n"
                        "# -w /etc/docker -k docker\n"
                        "-a always,exit -F path=/usr/bin/runc -F perm=x -k docker\n"
                        "-a always,exit -F dir=/var/lib/docker/ -k docker\n"
                        "-w /usr/bin/containerd-shim-runc-v2 -p wa\n";
    CHECK(mm_audit_watches(rules, "/usr/bin/dockerd"));
    CHECK(!mm_audit_watches(rules, "/etc/docker"));             /* a comment */
    CHECK(mm_audit_watches(rules, "/usr/bin/runc"));
    CHECK(mm_audit_watches(rules, "/var/lib/docker"));          /* trailing slash */
    CHECK(!mm_audit_watches(rules, "/usr/bin/containerd"));     /* a prefix only */
    CHECK(mm_audit_watches(rules, "/usr/bin/containerd-shim-runc-v2"));
}

static const mm_check_result *find(const mm_checks *c, const char *id, const char *ctr)
{
    for (size_t i = 0; i < mm_checks_count(c); i++) {
        const mm_check_result *r = mm_checks_get(c, i);
        if (!strcmp(r->id, id) && (!ctr || (r->container && !strcmp(r->container, ctr))))
            return r;
    }
    return NULL;
}

MM_TEST(inspect_file)
{
    const char *dir = mmt_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/inspect.json", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("[{\"Id\":\"0123456789ab\",\"Name\":\"/web\",\"State\":{\"Running\":true},"
          "\"Config\":{\"User\":\"app\",\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"]}},"
          "\"HostConfig\":{\"CapAdd\":[\"NET_BIND_SERVICE\",\"SYS_PTRACE\"],\"PidMode\":\"host\","
          "\"Memory\":1048576,\"PidsLimit\":10,\"RestartPolicy\":{\"Name\":\"on-failure\","
          "\"MaximumRetryCount\":9},\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\","
          "\"HostPort\":\"80\"}]}},\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/etc/ssl\","
          "\"Destination\":\"/ssl\",\"RW\":false,\"Propagation\":\"rshared\"}]}]", f);
    fclose(f);
    mm_checks *c;
    mm_checks_new(&c);
    const char *files[] = {path};
    mm_docker_check_opts o = {0};
    o.root = dir;
    o.proc_root = "/nonexistent";
    o.no_docker = o.no_podman = true;
    o.inspect_files = files;
    o.ninspect = 1;
    o.auditctl = "";
    CHECK_OK(mm_docker_checks(c, &o));
    CHECK_INT(find(c, "CIS-DOCKER-4.1", "web")->status, MM_CHECK_PASS);
    CHECK_INT(find(c, "CIS-DOCKER-5.4", "web")->status, MM_CHECK_FAIL);  /* SYS_PTRACE */
    CHECK(strstr(find(c, "CIS-DOCKER-5.4", "web")->evidence, "SYS_PTRACE"));
    CHECK(!strstr(find(c, "CIS-DOCKER-5.4", "web")->evidence, "NET_BIND"));
    CHECK_INT(find(c, "CIS-DOCKER-5.6", "web")->status, MM_CHECK_PASS);  /* /etc/ssl ro */
    CHECK_INT(find(c, "CIS-DOCKER-5.8", "web")->status, MM_CHECK_FAIL);  /* port 80 */
    CHECK_INT(find(c, "CIS-DOCKER-5.14", "web")->status, MM_CHECK_PASS); /* 127.0.0.1 */
    CHECK_INT(find(c, "CIS-DOCKER-5.15", "web")->status, MM_CHECK_FAIL); /* on-failure:9 */
    CHECK_INT(find(c, "CIS-DOCKER-5.16", "web")->status, MM_CHECK_FAIL);
    CHECK_INT(find(c, "CIS-DOCKER-5.20", "web")->status, MM_CHECK_FAIL); /* rshared */
    CHECK_INT(find(c, "CIS-DOCKER-5.27", "web")->status, MM_CHECK_PASS);
    CHECK_INT(find(c, "CIS-DOCKER-5.29", "web")->status, MM_CHECK_PASS);
    mm_findings *fl;
    mm_findings_new(&fl);
    CHECK_OK(mm_checks_to_findings(c, fl, "node1", false));
    bool saw = false;
    for (size_t i = 0; i < mm_findings_count(fl); i++) {
        const mm_finding *x = mm_findings_get(fl, i);
        CHECK(x->kind == MM_FIND_COMPLIANCE && x->section);
        if (!strcmp(x->id, "CIS-DOCKER-5.16")) {
            saw = true;
            CHECK_STR(x->loc.container, "web");
            CHECK_STR(x->loc.host, "node1");
            CHECK_STR(x->section, "3.4.3");
        }
    }
    CHECK(saw);
    mm_findings_free(fl);
    mm_checks_free(c);
}

MM_TEST(fix_plan)
{
    const char *dir = mmt_tmpdir();
    char p[512];
    snprintf(p, sizeof p, "%s/etc", dir);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/etc/passwd", dir);
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fputs("root:x:0:0::/root:/bin/sh\n", f);
    fclose(f);
    chmod(p, 0666);
    mm_checks *c;
    mm_checks_new(&c);
    mm_linux_check_opts lo = {0};
    lo.root = dir;
    lo.no_live = true;
    CHECK_OK(mm_linux_checks(c, &lo));
    REQUIRE(find(c, "CIS-DEBIAN-6.1.1", NULL));
    CHECK_INT(find(c, "CIS-DEBIAN-6.1.1", NULL)->status, MM_CHECK_FAIL);
    CHECK(find(c, "CIS-DEBIAN-6.1.1", NULL)->fixable);
    mm_fix_opts fo = {0};
    fo.root = dir;
    char bdir[512];
    snprintf(bdir, sizeof bdir, "%s/backup", dir);
    fo.backup_dir = bdir;
    mm_fix_plan *plan;
    CHECK_OK(mm_fix_plan_new(&plan, c, &fo));
    CHECK(mm_fix_plan_count(plan) >= 2);   /* passwd mode, sysctl file */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    CHECK_OK(mm_fix_plan_diff(m, plan));
    fclose(m);
    CHECK(strstr(buf, "# chmod 0644 /etc/passwd   (was 0666)"));
    CHECK(strstr(buf, "+++ /etc/sysctl.d/90-mamori.conf"));
    CHECK(strstr(buf, "+kernel.randomize_va_space = 2"));
    free(buf);
    struct stat st;
    stat(p, &st);
    CHECK_INT(st.st_mode & 07777, 0666);   /* a plan changes nothing */
    char *backup = NULL, *notes = NULL;
    CHECK_OK(mm_fix_plan_apply(plan, &backup, &notes));
    stat(p, &st);
    CHECK_INT(st.st_mode & 07777, 0644);
    CHECK_STR(backup, bdir);
    char rb[600];
    snprintf(rb, sizeof rb, "%s/rollback.sh", bdir);
    CHECK(stat(rb, &st) == 0 && (st.st_mode & 0100));
    free(backup);
    free(notes);
    mm_fix_plan_free(plan);
    mm_checks_free(c);
}

MM_TEST_MAIN
