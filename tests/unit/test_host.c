/*
 * test_host.c - host views (lib/host): utmp records built byte by byte in
 * the test and decoded by offset, truncated records, session pairing as
 * `last` does it (logout, crash, down, next login on the line, open),
 * failed logins and the §3.5.4 findings, lastlog (sparse), a wtmp made by
 * util-linux `utmpdump -r` from text, dates, and `host ps` over a fake /proc
 * whose process sits in a docker-like cgroup with runtime metadata.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "mamori/mamori.h"
#include "mamori/host.h"
#include "mmtest.h"

static void put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

/* One struct utmp as glibc x86-64 writes it (utmp(5)). */
static void rec(unsigned char *b, int type, int pid, const char *line, const char *user,
                const char *host, uint32_t sec, const unsigned char *ip4)
{
    memset(b, 0, MM_UTMP_SIZE);
    b[0] = (unsigned char)type;
    put32(b + 4, (uint32_t)pid);
    strncpy((char *)b + 8, line, 32);
    if (strlen(line) > 2)
        memcpy(b + 40, line + strlen(line) - 2, 2);
    strncpy((char *)b + 44, user, 32);
    strncpy((char *)b + 76, host, 256);
    put32(b + 340, sec);
    put32(b + 344, 250000);
    if (ip4)
        memcpy(b + 348, ip4, 4);
}

static const char *write_file(const char *name, const void *d, size_t n)
{
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", mmt_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f)
        return NULL;
    fwrite(d, 1, n, f);
    fclose(f);
    return p;
}

#define T0 1709280000u   /* 2024-03-01T08:00:00Z */

MM_TEST(utmp_fields_by_offset)
{
    unsigned char b[2 * MM_UTMP_SIZE];
    static const unsigned char ip[4] = {203, 0, 113, 9};
    rec(b, MM_UT_USER_PROCESS, 1234, "pts/0", "root", "203.0.113.9", T0 + 3600, ip);
    rec(b + MM_UTMP_SIZE, MM_UT_DEAD_PROCESS, 1234, "pts/0", "", "", T0 + 5400, NULL);
    b[MM_UTMP_SIZE + 76] = 0x1b;   /* an escape in the host is neutralised */
    mm_utmp_rec *r;
    size_t n;
    CHECK_OK(mm_utmp_parse(&r, &n, "w", b, sizeof b, 0));
    REQUIRE(n == 2);
    CHECK_INT(r[0].type, MM_UT_USER_PROCESS);
    CHECK_INT(r[0].pid, 1234);
    CHECK_STR(r[0].line, "pts/0");
    CHECK_STR(r[0].id, "/0");
    CHECK_STR(r[0].user, "root");
    CHECK_STR(r[0].host, "203.0.113.9");
    CHECK_STR(r[0].addr, "203.0.113.9");
    CHECK_INT(r[0].sec, T0 + 3600);
    CHECK_INT(r[0].usec, 250000);
    CHECK_INT(r[1].offset, MM_UTMP_SIZE);
    CHECK_STR(r[1].host, "?");
    CHECK_STR(r[1].addr, "");
    free(r);
}

MM_TEST(utmp_truncated_record_names_offset)
{
    unsigned char b[2 * MM_UTMP_SIZE + 10] = {0};
    mm_utmp_rec *r = NULL;
    size_t n = 0;
    CHECK_INT(mm_utmp_parse(&r, &n, "wtmp.bin", b, sizeof b, 0), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "wtmp.bin") != NULL);
    CHECK(strstr(mm_error_last(), "offset 768") != NULL);
    CHECK(r == NULL);
    CHECK_INT(mm_utmp_parse(&r, &n, "w", b, 2 * MM_UTMP_SIZE, 1), MM_ELIMIT);
}

static mm_logins *logins_of(const char *wtmp, const char *btmp, const char *lastlog)
{
    mm_logins_opts o = {0};
    o.wtmp = wtmp ? wtmp : "";
    o.btmp = btmp ? btmp : "";
    o.lastlog = lastlog ? lastlog : "";
    o.boot_time = (int64_t)T0 + 100000000;   /* every open session predates the boot */
    o.no_live_check = true;
    mm_logins *l = NULL;
    if (mm_host_logins(&l, &o))
        fprintf(stderr, "logins: %s\n", mm_error_last());
    return l;
}

MM_TEST(sessions_paired_as_last)
{
    unsigned char b[12 * MM_UTMP_SIZE];
    static const unsigned char ip[4] = {203, 0, 113, 9};
    int k = 0;
#define R(...) rec(b + MM_UTMP_SIZE * k++, __VA_ARGS__)
    R(MM_UT_BOOT_TIME, 0, "~", "reboot", "6.1.0-a", T0, NULL);
    R(MM_UT_USER_PROCESS, 10, "tty1", "bob", "", T0 + 60, NULL);           /* ends: shutdown */
    R(MM_UT_USER_PROCESS, 11, "pts/0", "root", "203.0.113.9", T0 + 100, ip); /* logout */
    R(MM_UT_DEAD_PROCESS, 11, "pts/0", "", "", T0 + 400, NULL);
    R(MM_UT_USER_PROCESS, 12, "pts/1", "carol", "10.0.0.5", T0 + 500, NULL); /* next login on pts/1 */
    R(MM_UT_USER_PROCESS, 13, "pts/1", "dave", "10.0.0.6", T0 + 700, NULL);  /* logout */
    R(MM_UT_DEAD_PROCESS, 13, "pts/1", "", "", T0 + 800, NULL);
    R(MM_UT_RUN_LVL, 0, "~", "shutdown", "6.1.0-a", T0 + 1000, NULL);
    R(MM_UT_BOOT_TIME, 0, "~", "reboot", "6.1.0-b", T0 + 2000, NULL);
    R(MM_UT_USER_PROCESS, 20, "pts/2", "erin", "198.51.100.4", T0 + 2100, NULL); /* crash */
    R(MM_UT_BOOT_TIME, 0, "~", "reboot", "6.1.0-c", T0 + 3000, NULL);
    R(MM_UT_USER_PROCESS, 30, "pts/3", "frank", "198.51.100.5", T0 + 3100, NULL); /* open */
#undef R
    const char *w = write_file("wtmp", b, sizeof b);
    mm_logins *l = logins_of(w, NULL, NULL);
    REQUIRE(l);
    struct { const char *user, *line; uint32_t login; int64_t logout; mm_session_end end; } want[] = {
        {"frank", "pts/3", T0 + 3100, 0, MM_SESS_GONE},
        {"reboot", "system boot", T0 + 3000, 0, MM_SESS_RUNNING},
        {"erin", "pts/2", T0 + 2100, T0 + 3000, MM_SESS_CRASH},
        {"reboot", "system boot", T0 + 2000, T0 + 3000, MM_SESS_CRASH},
        {"dave", "pts/1", T0 + 700, T0 + 800, MM_SESS_LOGOUT},
        {"carol", "pts/1", T0 + 500, T0 + 700, MM_SESS_LOGOUT},
        {"root", "pts/0", T0 + 100, T0 + 400, MM_SESS_LOGOUT},
        {"bob", "tty1", T0 + 60, T0 + 1000, MM_SESS_DOWN},
        {"reboot", "system boot", T0, T0 + 1000, MM_SESS_LOGOUT},
    };
    size_t nw = sizeof want / sizeof want[0];
    CHECK_INT(mm_logins_session_count(l), nw);
    for (size_t i = 0; i < nw && i < mm_logins_session_count(l); i++) {
        const mm_login_session *s = mm_logins_session(l, i);
        CHECK_STR(s->user, want[i].user);
        CHECK_STR(s->line, want[i].line);
        CHECK_INT(s->login, want[i].login);
        CHECK_INT(s->logout, want[i].logout);
        CHECK_INT(s->end, want[i].end);
    }
    /* root from 203.0.113.9: the one §3.5.4 finding */
    const mm_findings *f = mm_logins_findings(l);
    REQUIRE(mm_findings_count(f) == 1);
    const mm_finding *x = mm_findings_get(f, 0);
    CHECK_STR(x->id, "MM-HOST-LOGIN-001");
    CHECK_STR(x->section, "3.5.4");
    CHECK_INT(x->kind, MM_FIND_COMPLIANCE);
    CHECK(strstr(x->title, "203.0.113.9") != NULL);
    mm_logins_free(l);

    /* --since keeps sessions that began at or after it */
    mm_logins_opts o = {.wtmp = w, .btmp = "", .lastlog = "", .since = (int64_t)T0 + 2000,
                        .boot_time = (int64_t)T0 + 100000000, .no_live_check = true};
    CHECK_OK(mm_host_logins(&l, &o));
    CHECK_INT(mm_logins_session_count(l), 4);
    CHECK_INT(mm_findings_count(mm_logins_findings(l)), 0);
    mm_logins_free(l);
}

MM_TEST(failed_logins_and_findings)
{
    unsigned char b[12 * MM_UTMP_SIZE];
    int k = 0;
    for (int i = 0; i < 6; i++)      /* one host guessing several accounts */
        rec(b + MM_UTMP_SIZE * k++, MM_UT_LOGIN_PROCESS, 100 + i, "ssh:notty",
            i % 2 ? "admin" : "oracle", "198.51.100.7", T0 + (uint32_t)i, NULL);
    for (int i = 0; i < 5; i++)      /* one account guessed from several hosts */
        rec(b + MM_UTMP_SIZE * k++, MM_UT_LOGIN_PROCESS, 200 + i, "ssh:notty", "deploy",
            i == 0 ? "192.0.2.1" : i == 1 ? "192.0.2.2" : "192.0.2.3", T0 + 100 + (uint32_t)i, NULL);
    rec(b + MM_UTMP_SIZE * k++, MM_UT_LOGIN_PROCESS, 300, "ssh:notty", "root", "192.0.2.99",
        T0 + 200, NULL);
    const char *bt = write_file("btmp", b, sizeof b);
    mm_logins *l = logins_of(NULL, bt, NULL);
    REQUIRE(l);
    CHECK_INT(mm_logins_failed_count(l), 12);
    CHECK_STR(mm_logins_failed(l, 0)->user, "root");   /* newest first */
    const mm_findings *f = mm_logins_findings(l);
    REQUIRE(mm_findings_count(f) == 2);
    const mm_finding *a = mm_findings_get(f, 0), *c = mm_findings_get(f, 1);
    CHECK_STR(a->id, "MM-HOST-LOGIN-002");
    CHECK(strstr(a->title, "6 failed logins from 198.51.100.7") != NULL);
    CHECK(strstr(a->evidence, "admin") != NULL && strstr(a->evidence, "oracle") != NULL);
    CHECK_STR(c->id, "MM-HOST-LOGIN-003");
    CHECK(strstr(c->title, "5 failed logins for account deploy") != NULL);
    CHECK_STR(c->section, "3.5.4");
    mm_logins_free(l);
}

MM_TEST(lastlog_sparse_by_uid)
{
    const char *p = write_file("lastlog", "", 0);
    int fd = open(p, O_WRONLY);
    REQUIRE(fd >= 0);
    unsigned char r[MM_LASTLOG_SIZE];
    memset(r, 0, sizeof r);
    put32(r, T0 + 42);
    strcpy((char *)r + 4, "pts/4");
    strcpy((char *)r + 36, "192.0.2.10");
    REQUIRE(pwrite(fd, r, sizeof r, 0) == (ssize_t)sizeof r);                         /* uid 0 */
    REQUIRE(pwrite(fd, r, sizeof r, (off_t)MM_LASTLOG_SIZE * 100000) == (ssize_t)sizeof r); /* uid 100000 */
    close(fd);
    mm_logins *l = logins_of(NULL, NULL, p);
    REQUIRE(l);
    REQUIRE(mm_logins_lastlog_count(l) == 2);
    const mm_lastlog_entry *e = mm_logins_lastlog(l, 1);
    CHECK_INT(e->uid, 100000);
    CHECK_STR(e->line, "pts/4");
    CHECK_STR(e->host, "192.0.2.10");
    CHECK_INT(e->when, T0 + 42);
    CHECK_INT(mm_logins_lastlog(l, 0)->uid, 0);
    mm_logins_free(l);
    /* a cut record is an error with its offset */
    REQUIRE(truncate(p, (off_t)MM_LASTLOG_SIZE * 100000 + 100) == 0);
    mm_logins_opts o = {.wtmp = "", .btmp = "", .lastlog = p};
    CHECK_INT(mm_host_logins(&l, &o), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "offset 29200000") != NULL);
}

MM_TEST(missing_files)
{
    mm_logins_opts o = {.wtmp = "/nonexistent/wtmp", .btmp = "", .lastlog = ""};
    mm_logins *l = NULL;
    CHECK_INT(mm_host_logins(&l, &o), MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "/nonexistent/wtmp") != NULL);
}

/* util-linux utmpdump turns the text form back into binary records, the
 * way an administrator would build a test wtmp. */
MM_TEST(wtmp_from_utmpdump)
{
    if (access("/usr/bin/utmpdump", X_OK) != 0 && access("/bin/utmpdump", X_OK) != 0)
        MMT_SKIP("utmpdump (util-linux) is not installed");
    const char *text =
        "[2] [00000] [~~  ] [reboot  ] [~           ] [6.1.0-test          ] [0.0.0.0        ] [2024-03-01T08:00:00,000000+00:00]\n"
        "[7] [01234] [ts/0] [root    ] [pts/0       ] [203.0.113.9         ] [203.0.113.9    ] [2024-03-01T09:00:00,000000+00:00]\n"
        "[8] [01234] [ts/0] [        ] [pts/0       ] [                    ] [0.0.0.0        ] [2024-03-01T09:30:00,000000+00:00]\n"
        "[7] [01300] [ts/1] [alice   ] [pts/1       ] [2001:db8::1         ] [2001:db8::1    ] [2024-03-01T10:00:00,500000+00:00]\n";
    const char *t = write_file("wtmp.txt", text, strlen(text));
    char bin[600], cmd[1400];
    snprintf(bin, sizeof bin, "%s/wtmp.bin", mmt_tmpdir());
    snprintf(cmd, sizeof cmd, "utmpdump -r < '%s' > '%s' 2>/dev/null", t, bin);
    REQUIRE(system(cmd) == 0);
    mm_logins *l = logins_of(bin, NULL, NULL);
    REQUIRE(l);
    REQUIRE(mm_logins_session_count(l) == 3);
    const mm_login_session *s = mm_logins_session(l, 0);
    CHECK_STR(s->user, "alice");
    CHECK_STR(s->host, "2001:db8::1");
    CHECK_STR(s->addr, "2001:db8::1");
    CHECK_INT(s->login, T0 + 7200);
    CHECK_INT(s->end, MM_SESS_GONE);
    s = mm_logins_session(l, 1);
    CHECK_STR(s->user, "root");
    CHECK_STR(s->line, "pts/0");
    CHECK_INT(s->pid, 1234);
    CHECK_INT(s->login, T0 + 3600);
    CHECK_INT(s->logout, T0 + 5400);
    CHECK_INT(s->end, MM_SESS_LOGOUT);
    s = mm_logins_session(l, 2);
    CHECK(s->boot);
    CHECK_STR(s->host, "6.1.0-test");
    CHECK_INT(s->end, MM_SESS_RUNNING);
    mm_logins_free(l);
}

MM_TEST(dates)
{
    int64_t t;
    CHECK_OK(mm_host_parse_date(&t, "2024-03-01"));
    CHECK_INT(t, T0 - 8 * 3600);
    CHECK_OK(mm_host_parse_date(&t, "2024-03-01T08:00:00Z"));
    CHECK_INT(t, T0);
    CHECK_OK(mm_host_parse_date(&t, "2024-03-01 10:00+02:00"));
    CHECK_INT(t, T0);
    CHECK_OK(mm_host_parse_date(&t, "@1709280000"));
    CHECK_INT(t, T0);
    CHECK_INT(mm_host_parse_date(&t, "2024-13-01"), MM_EINVAL);
    CHECK_INT(mm_host_parse_date(&t, "yesterday"), MM_EINVAL);
    CHECK_INT(mm_host_parse_date(&t, "2024-03-01T08:00:00Zjunk"), MM_EINVAL);
}

static void put_text(const char *dir, const char *rel, const char *text, size_t len)
{
    char p[1024];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/%s", dir, rel);
    for (char *s = p + strlen(dir) + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    FILE *f = fopen(p, "wb");
    if (f) {
        fwrite(text, 1, len, f);
        fclose(f);
    }
}

MM_TEST(ps_over_a_fake_proc_with_a_container)
{
    const char *d = mmt_tmpdir();
    char proc[600], meta[600];
    snprintf(proc, sizeof proc, "%s/proc", d);
    snprintf(meta, sizeof meta, "%s/meta", d);
    const char *id = "4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a1f";
    put_text(proc, "stat", "cpu 1 2 3\nbtime 1709280000\n", 27);
    /* pid 4242 in a docker cgroup; comm with a space and a ')' */
    const char *st = "4242 (my ) app) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 500 0 0";
    put_text(proc, "4242/stat", st, strlen(st));
    put_text(proc, "4242/status", "Name:\tapp\nUid:\t1000\t0\t0\t0\n", 26);
    put_text(proc, "4242/cmdline", "/usr/bin/app\0--serve\0--port=80\0", 31);
    char cg[300];
    int n = snprintf(cg, sizeof cg, "0::/system.slice/docker-%s.scope\n", id);
    put_text(proc, "4242/cgroup", cg, (size_t)n);
    /* pid 7 on the host, a kernel thread (no cmdline) */
    const char *st7 = "7 (kworker/0:1) I 2 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0";
    put_text(proc, "7/stat", st7, strlen(st7));
    put_text(proc, "7/cmdline", "", 0);
    put_text(proc, "7/cgroup", "0::/\n", 5);
    char rel[300];
    snprintf(rel, sizeof rel, "var/lib/docker/containers/%s/config.v2.json", id);
    const char *cfg = "{\"Name\":\"/web\",\"Config\":{\"Image\":\"nginx:1.25\"},\"Image\":\"sha256:abc\"}";
    put_text(meta, rel, cfg, strlen(cfg));

    mm_host_ps_opts o = {.proc_root = proc, .meta_root = meta};
    mm_host_procs *ps;
    CHECK_OK(mm_host_ps(&ps, &o));
    REQUIRE(ps);
    REQUIRE(mm_host_procs_count(ps) == 2);
    const mm_host_proc *k = mm_host_procs_get(ps, 0), *p = mm_host_procs_get(ps, 1);
    CHECK_INT(k->pid, 7);
    CHECK_INT(k->ppid, 2);
    CHECK_STR(k->cmdline, "[kworker/0:1]");
    CHECK(k->container_id == NULL);
    CHECK_INT(p->pid, 4242);
    CHECK_INT(p->ppid, 1);
    CHECK_STR(p->comm, "my ) app");
    CHECK_INT(p->uid, 0);                 /* effective uid */
    CHECK_INT(p->argc, 3);
    CHECK_STR(p->cmdline, "/usr/bin/app --serve --port=80");
    long hz = sysconf(_SC_CLK_TCK);
    CHECK_INT(p->start, 1709280000 + 500 / hz);
    CHECK_STR(p->container_id, "4f2a9c1d8e7b");
    CHECK_STR(p->container_full_id, id);
    CHECK_STR(p->container_runtime, "docker");
    CHECK_STR(p->container_name, "web");
    CHECK_STR(p->image, "nginx:1.25");
    mm_host_procs_free(ps);

    /* --container: by id prefix, by name, and "host" */
    o.container = "4f2a9c";
    CHECK_OK(mm_host_ps(&ps, &o));
    CHECK_INT(mm_host_procs_count(ps), 1);
    mm_host_procs_free(ps);
    o.container = "web";
    CHECK_OK(mm_host_ps(&ps, &o));
    CHECK_INT(mm_host_procs_count(ps), 1);
    mm_host_procs_free(ps);
    o.container = "host";
    CHECK_OK(mm_host_ps(&ps, &o));
    REQUIRE(mm_host_procs_count(ps) == 1);
    CHECK_INT(mm_host_procs_get(ps, 0)->pid, 7);
    mm_host_procs_free(ps);
}

MM_TEST(ps_sees_this_process)
{
    mm_host_procs *ps;
    CHECK_OK(mm_host_ps(&ps, NULL));
    REQUIRE(ps);
    bool found = false;
    for (size_t i = 0; i < mm_host_procs_count(ps); i++) {
        const mm_host_proc *p = mm_host_procs_get(ps, i);
        if (p->pid == getpid()) {
            found = true;
            CHECK(p->argc >= 1);
            CHECK(p->exe && strstr(p->exe, "test_host"));
            CHECK(p->start > 0);
        }
    }
    CHECK(found);
    mm_host_procs_free(ps);
}

MM_TEST_MAIN
