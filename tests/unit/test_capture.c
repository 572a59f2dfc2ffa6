/*
 * test_capture.c - the capture writer and reader (lib/runtime/capture.c):
 * round trips plain and zstd, rotation with its size cap and keep count,
 * the order of a rotated set, a truncated last frame (tolerated with a
 * warning), corruption and caps (errors with file and position), time-based
 * flushing, and replay over a rotated set naming the member file and line;
 * the per-file process dedup: a deep process tree captured with and
 * without it replays to the same alerts as direct evaluation, each rotated
 * member alone too, and a reused pid is not taken for its predecessor.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "mamori/mamori.h"
#include "mamori/capture.h"
#include "mamori/rules.h"
#include "mmtest.h"
#include "util/util.h"

static char *path_in(const char *dir, const char *name)
{
    static char buf[256][512];   /* a ring: callers keep a few at once */
    static int k;
    char *b = buf[k++ % 256];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

static long long fsize(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

/* A line that does not compress to nothing: a counter and pseudo-random hex. */
static size_t make_line(char *buf, size_t cap, unsigned i)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (i + 1);
    int n = snprintf(buf, cap, "{\"evt.type\":\"open\",\"evt.num\":%u,\"proc.name\":\"t%u\",\"x\":\"", i, i % 7);
    for (int k = 0; k < 24; k++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        n += snprintf(buf + n, cap - (size_t)n, "%02x", (unsigned)(x & 0xff));
    }
    n += snprintf(buf + n, cap - (size_t)n, "\"}");
    return (size_t)n;
}

/* Reads every line of the files; returns the count, checks they are
 * consecutive lines first..first+count-1 as made by make_line. */
static long read_all(const char *const *files, size_t n, unsigned *first, size_t *warnings)
{
    mm_capture_reader *r;
    if (mm_capture_reader_open(&r, files, n, NULL))
        return -1;
    const char *l;
    size_t len;
    long cnt = 0;
    int rc;
    char want[512];
    while ((rc = mm_capture_reader_next(r, &l, &len)) == 1) {
        unsigned num;
        if (sscanf(l, "{\"evt.type\":\"open\",\"evt.num\":%u", &num) != 1) {
            cnt = -2;
            break;
        }
        if (cnt == 0 && first)
            *first = num;
        size_t wl = make_line(want, sizeof want, num);
        if (wl != len || memcmp(want, l, len) || (first && num != *first + (unsigned)cnt)) {
            fprintf(stderr, "line %ld differs: %.*s\n", cnt, (int)len, l);
            cnt = -3;
            break;
        }
        cnt++;
    }
    if (rc < 0) {
        fprintf(stderr, "reader: %s\n", mm_error_last());
        cnt = -4;
    }
    if (warnings)
        *warnings = mm_capture_reader_warning_count(r);
    mm_capture_reader_free(r);
    return cnt;
}

static void write_lines(mm_capture *c, unsigned from, unsigned to)
{
    char buf[512];
    for (unsigned i = from; i < to; i++) {
        size_t n = make_line(buf, sizeof buf, i);
        CHECK_OK(mm_capture_write_line(c, buf, n));
    }
}

MM_TEST(roundtrip_zstd_and_plain)
{
    const char *d = mmt_tmpdir();
    for (int plain = 0; plain < 2; plain++) {
        const char *p = path_in(d, plain ? "plain.jsonl" : "cap.zst");
        mm_capture_opts o = {.plain = plain, .flush_events = 100};
        mm_capture *c;
        CHECK_OK(mm_capture_open(&c, p, &o));
        REQUIRE(c);
        write_lines(c, 0, 1000);
        mm_capture_stats st;
        mm_capture_stats_get(c, &st);
        CHECK_INT(st.events, 1000);
        CHECK_INT(st.rotations, 0);
        CHECK_OK(mm_capture_close(c));
        /* zstd magic, or plain text */
        FILE *f = fopen(p, "rb");
        REQUIRE(f);
        unsigned char m[4] = {0};
        CHECK_INT(fread(m, 1, 4, f), 4);
        fclose(f);
        if (plain)
            CHECK(m[0] == '{');
        else
            CHECK(m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd);
        if (!plain)
            CHECK(fsize(p) < 1000 * 60);   /* it is compressed */
        /* mode 0600: captures hold command lines */
        struct stat sb;
        CHECK(stat(p, &sb) == 0 && (sb.st_mode & 0777) == 0600);
        unsigned first = 99;
        size_t w = 9;
        const char *files[] = {p};
        CHECK_INT(read_all(files, 1, &first, &w), 1000);
        CHECK_INT(first, 0);
        CHECK_INT(w, 0);
    }
}

MM_TEST(rotation_cap_and_keep)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "rot.zst");
    /* a stale member beyond keep from an earlier run is removed */
    FILE *f = fopen(path_in(d, "rot.zst.7"), "w");
    REQUIRE(f);
    fputs("old", f);
    fclose(f);
    mm_capture_opts o = {.max_size = 4096, .keep = 3, .flush_events = 16};
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, &o));
    REQUIRE(c);
    write_lines(c, 0, 3000);
    mm_capture_stats st;
    mm_capture_stats_get(c, &st);
    CHECK(st.rotations >= 4);
    CHECK_OK(mm_capture_close(c));
    CHECK(fsize(path_in(d, "rot.zst.7")) < 0);
    CHECK(fsize(p) > 0);
    CHECK(fsize(path_in(d, "rot.zst.1")) > 0);
    CHECK(fsize(path_in(d, "rot.zst.2")) > 0);
    CHECK(fsize(path_in(d, "rot.zst.3")) < 0);   /* keep = 3 files in all */
    /* each file within the cap plus one frame of slack */
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, i ? "rot.zst.%d" : "rot.zst", i);
        long long sz = fsize(path_in(d, name));
        if (sz > 4096 + 600)
            fprintf(stderr, "%s: %lld bytes\n", name, sz);
        CHECK(sz <= 4096 + 600);
        if (i)   /* rotated members are nearly full */
            CHECK(sz >= 4096 / 2);
    }
    /* FILE alone expands to the set, oldest first; it ends at the last line */
    char **files;
    size_t n;
    const char *one[] = {p};
    CHECK_OK(mm_capture_files(&files, &n, one, 1));
    REQUIRE(n == 3);
    CHECK_STR(files[0], path_in(d, "rot.zst.2"));
    CHECK_STR(files[1], path_in(d, "rot.zst.1"));
    CHECK_STR(files[2], p);
    unsigned first = 0;
    long cnt = read_all((const char *const *)files, n, &first, NULL);
    CHECK(cnt > 0);
    CHECK_INT(first + (unsigned)cnt, 3000);   /* a contiguous tail */
    mm_capture_files_free(files, n);
    /* a shell's FILE* order (FILE FILE.1 FILE.2) is put back in time order */
    const char *glob[] = {p, path_in(d, "rot.zst.1"), path_in(d, "rot.zst.2")};
    CHECK_OK(mm_capture_files(&files, &n, glob, 3));
    REQUIRE(n == 3);
    CHECK_STR(files[0], path_in(d, "rot.zst.2"));
    CHECK_STR(files[2], p);
    mm_capture_files_free(files, n);
}

MM_TEST(existing_file_is_rotated_not_overwritten)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "again.zst");
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, NULL));
    write_lines(c, 0, 10);
    CHECK_OK(mm_capture_close(c));
    CHECK_OK(mm_capture_open(&c, p, NULL));
    write_lines(c, 10, 20);
    CHECK_OK(mm_capture_close(c));
    const char *files[] = {path_in(d, "again.zst.1"), p};
    unsigned first = 99;
    CHECK_INT(read_all(files, 2, &first, NULL), 20);
    CHECK_INT(first, 0);
}

MM_TEST(truncated_last_frame_is_a_warning)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "cut.zst");
    mm_capture_opts o = {.flush_events = 1000000};
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, &o));
    write_lines(c, 0, 200);
    CHECK_OK(mm_capture_flush(c));
    long long first_frame = fsize(p);
    write_lines(c, 200, 400);
    CHECK_OK(mm_capture_close(c));
    long long full = fsize(p);
    REQUIRE(full > first_frame + 20);
    /* the writer was killed in the middle of the second frame */
    REQUIRE(truncate(p, (off_t)(first_frame + (full - first_frame) / 2)) == 0);
    const char *files[] = {p};
    size_t w = 0;
    unsigned first = 99;
    long n = read_all(files, 1, &first, &w);
    CHECK(n >= 200);   /* the whole first frame, and complete blocks after */
    CHECK(n < 400);
    CHECK_INT(first, 0);
    CHECK_INT(w, 1);
    /* the message says what and where */
    mm_capture_reader *r;
    CHECK_OK(mm_capture_reader_open(&r, files, 1, NULL));
    const char *l;
    size_t len;
    while (mm_capture_reader_next(r, &l, &len) == 1)
        ;
    REQUIRE(mm_capture_reader_warning_count(r) == 1);
    CHECK(strstr(mm_capture_reader_warning(r, 0), "cut.zst") != NULL);
    CHECK(strstr(mm_capture_reader_warning(r, 0), "truncated zstd frame") != NULL);
    CHECK(!mm_capture_reader_failed(r));
    mm_capture_reader_free(r);
}

MM_TEST(corruption_is_an_error_with_position)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "bad.zst");
    mm_capture *c;
    mm_capture_opts o = {.flush_events = 50};
    CHECK_OK(mm_capture_open(&c, p, &o));
    write_lines(c, 0, 300);
    CHECK_OK(mm_capture_close(c));
    long long sz = fsize(p);
    REQUIRE(sz > 400);
    /* garble bytes in the middle */
    int fd = open(p, O_RDWR);
    REQUIRE(fd >= 0);
    char junk[64];
    memset(junk, 0x5a, sizeof junk);
    REQUIRE(pwrite(fd, junk, sizeof junk, sz / 2) == (ssize_t)sizeof junk);
    close(fd);
    mm_capture_reader *r;
    const char *files[] = {p};
    CHECK_OK(mm_capture_reader_open(&r, files, 1, NULL));
    const char *l;
    size_t len;
    int rc;
    long lines = 0;
    while ((rc = mm_capture_reader_next(r, &l, &len)) == 1)
        lines++;
    CHECK_INT(rc, MM_EFORMAT);
    CHECK(lines < 300);
    CHECK(strstr(mm_error_last(), "bad.zst") != NULL);
    CHECK(strstr(mm_error_last(), "byte") != NULL);
    CHECK(mm_capture_reader_failed(r));
    /* errors are final */
    CHECK_INT(mm_capture_reader_next(r, &l, &len), MM_EFORMAT);
    mm_capture_reader_free(r);
}

MM_TEST(caps_on_line_and_total)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "long.jsonl");
    FILE *f = fopen(p, "w");
    REQUIRE(f);
    fputs("{\"evt.type\":\"open\"}\n", f);
    for (int i = 0; i < 300; i++)
        fputc('x', f);
    fputs("\n", f);
    fclose(f);
    mm_capture_read_opts ro = {.max_line = 100};
    mm_capture_reader *r;
    const char *files[] = {p};
    CHECK_OK(mm_capture_reader_open(&r, files, 1, &ro));
    const char *l;
    size_t len;
    CHECK_INT(mm_capture_reader_next(r, &l, &len), 1);
    CHECK_INT(mm_capture_reader_next(r, &l, &len), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "long.jsonl:2") != NULL);
    mm_capture_reader_free(r);

    /* a small capture that decompresses beyond the total cap */
    const char *z = path_in(d, "big.zst");
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, z, NULL));
    write_lines(c, 0, 500);
    CHECK_OK(mm_capture_close(c));
    mm_capture_read_opts ro2 = {.max_total = 10000};
    const char *zf[] = {z};
    CHECK_OK(mm_capture_reader_open(&r, zf, 1, &ro2));
    int rc;
    while ((rc = mm_capture_reader_next(r, &l, &len)) == 1)
        ;
    CHECK_INT(rc, MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "big.zst") != NULL);
    mm_capture_reader_free(r);
}

MM_TEST(time_flush_makes_a_live_file_readable)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "live.zst");
    mm_capture_opts o = {.flush_ms = 50, .flush_events = 1000000};
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, &o));
    write_lines(c, 0, 3);
    struct timespec ts = {0, 120 * 1000 * 1000};
    nanosleep(&ts, NULL);
    CHECK_OK(mm_capture_tick(c));
    mm_capture_stats st;
    mm_capture_stats_get(c, &st);
    CHECK_INT(st.frames, 1);
    /* a follower reads the three events while the writer still runs */
    const char *files[] = {p};
    size_t w = 9;
    CHECK_INT(read_all(files, 1, NULL, &w), 3);
    CHECK_INT(w, 0);
    CHECK_OK(mm_capture_close(c));
}

MM_TEST(replay_over_a_rotated_set_names_member_and_line)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "ev.zst");
    mm_capture_opts o = {.plain = true};
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, &o));
    const char *good = "{\"evt.type\":\"openat\",\"proc.pid\":7,\"proc.name\":\"cat\",\"fd.name\":\"/etc/shadow\"}";
    CHECK_OK(mm_capture_write_line(c, good, strlen(good)));
    CHECK_OK(mm_capture_write_line(c, "{broken", 7));
    CHECK_OK(mm_capture_close(c));
    /* a second run: the first file became ev.zst.1 */
    o.plain = false;
    CHECK_OK(mm_capture_open(&c, p, &o));
    CHECK_OK(mm_capture_write_line(c, good, strlen(good)));
    CHECK_OK(mm_capture_close(c));
    char **files;
    size_t n;
    const char *one[] = {p};
    CHECK_OK(mm_capture_files(&files, &n, one, 1));
    REQUIRE(n == 2);
    mm_capture_reader *r;
    CHECK_OK(mm_capture_reader_open(&r, (const char *const *)files, n, NULL));
    mm_replay *rp;
    CHECK_OK(mm_replay_open_reader(&rp, r));
    CHECK(mm_replay_reader(rp) == r);
    const mm_event *ev;
    CHECK_INT(mm_replay_next(rp, &ev), 1);
    CHECK_STR(ev->fd ? ev->fd->name : NULL, "/etc/shadow");
    CHECK_INT(mm_replay_next(rp, &ev), MM_EFORMAT);
    char want[600];
    snprintf(want, sizeof want, "%s.1:2", p);
    CHECK(strstr(mm_error_last(), want) != NULL);
    CHECK(!mm_capture_reader_failed(r));   /* a bad line is not the end */
    CHECK_INT(mm_replay_next(rp, &ev), 1);  /* the zstd member */
    CHECK_STR(ev->proc ? ev->proc->comm : NULL, "cat");
    CHECK_INT(mm_replay_next(rp, &ev), 0);
    mm_replay_free(rp);
    mm_capture_files_free(files, n);
    /* mm_replay_open tells zstd by content, whatever the name */
    CHECK_OK(mm_replay_open(&rp, p));
    CHECK_INT(mm_replay_next(rp, &ev), 1);
    mm_replay_free(rp);
}

MM_TEST(oversize_lines_are_skipped_by_the_writer)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "os.zst");
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, NULL));
    CHECK_OK(mm_capture_write_line(c, "a\nb", 3));
    mm_capture_stats st;
    mm_capture_stats_get(c, &st);
    CHECK_INT(st.oversize, 1);
    CHECK_INT(st.events, 0);
    CHECK_OK(mm_capture_close(c));
}

/* ---- per-file process dedup -------------------------------------------------- */

static const char dedup_rules[] =
    "- rule: deep_open\n"
    "  desc: an open with the ancestry in the output\n"
    "  condition: evt.type in (open, openat)\n"
    "  output: \"open %fd.name by %proc.name pid=%proc.pid cmd=%proc.cmdline parent=%proc.pname"
    " pcmd=%proc.pcmdline ppid=%proc.ppid a2=%proc.aname[2] a3=%proc.aname[3] a5=%proc.aname[5]"
    " a8=%proc.aname[8] acmd4=%proc.acmdline[4] apid7=%proc.apid[7] cwd=%proc.cwd uid=%user.uid"
    " exe=%proc.exepath\"\n"
    "  priority: WARNING\n"
    "- rule: under_p3\n"
    "  desc: a condition on ancestors\n"
    "  condition: evt.type in (open, openat, execve) and proc.aname[4] = p3 and proc.pcmdline contains \"--level=\"\n"
    "  output: \"under p3 %proc.name %proc.aname[4] %evt.type\"\n"
    "  priority: ERROR\n"
    "- rule: reused\n"
    "  desc: a process named cron whose parent is not p11\n"
    "  condition: evt.type = openat and proc.name startswith cron and proc.pname != p11\n"
    "  output: \"reused pid %proc.pid %proc.name %proc.pname %proc.aname[2]\"\n"
    "  priority: NOTICE\n";

static const char *bstr(const mm_buf *b)
{
    return b->data ? b->data : "";
}

typedef struct dd_ctx {
    mm_proctab *pt;
    mm_ruleset *rs;
    mm_capture *cap[3];    /* dedup zstd rotating, full plain, dedup plain */
    mm_buf direct;         /* "num|rule|output\n" of direct evaluation */
    uint64_t num;
    int64_t ts;
} dd_ctx;

static void dd_collect(void *ud, const mm_alert *a)
{
    mm_buf *b = ud;
    char n[32];
    snprintf(n, sizeof n, "%llu|", (unsigned long long)a->event->num);
    mm_buf_adds(b, n);
    mm_buf_adds(b, a->rule);
    mm_buf_addc(b, '|');
    mm_buf_adds(b, a->output);
    mm_buf_addc(b, '\n');
}

/* What a sensor does: state update, then the event goes to the rules and
 * to every capture. */
static void dd_emit(dd_ctx *x, mm_event *ev)
{
    ev->num = ++x->num;
    ev->ts = x->ts += 1000;
    if (!ev->arg_fd)
        ev->arg_fd = -100;
    mm_proctab_apply(x->pt, ev);
    mm_ruleset_eval(x->rs, ev, dd_collect, &x->direct);
    for (int i = 0; i < 3; i++)
        CHECK_OK(mm_capture_write(x->cap[i], ev));
}

/* parent clones child, child execs comm with a long argv */
static void dd_spawn(dd_ctx *x, int64_t ppid, int64_t pid, const char *comm, int level)
{
    mm_event ev = {.type = MM_EVT_CLONE, .pid = ppid, .tid = ppid, .res = pid};
    ev.proc = mm_proctab_get(x->pt, ppid);
    dd_emit(x, &ev);
    mm_proc *c = mm_proctab_get(x->pt, pid);
    REQUIRE(c);
    char exe[64], a1[320], a2[64];
    snprintf(exe, sizeof exe, "/usr/bin/%s", comm);
    int n = snprintf(a1, sizeof a1, "--level=%d --config=/etc/%s/", level, comm);
    while (n < 300)
        n += snprintf(a1 + n, sizeof a1 - (size_t)n, "%s-x", comm);
    snprintf(a2, sizeof a2, "--pid-file=/run/%s.pid", comm);
    const char *argv[] = {exe, a1, a2, "--verbose"};
    mm_proc_set(&c->comm, comm);
    mm_proc_set(&c->exe, exe);
    mm_proc_set(&c->exepath, exe);
    mm_proc_set_argv(c, argv, 4);
    char cwd[64];
    snprintf(cwd, sizeof cwd, "/var/lib/%s/", comm);
    mm_proc_set(&c->cwd, cwd);
    mm_proc_set(&c->env, "PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME=/root TERM=xterm-256color");
    c->uid = c->euid = (uint32_t)(level % 3 == 0 ? 0 : 1000 + level);
    mm_event ex = {.type = MM_EVT_EXECVE, .pid = pid, .tid = pid, .proc = c, .path = exe};
    dd_emit(x, &ex);
}

static void dd_open(dd_ctx *x, int64_t pid, const char *path, int64_t fd)
{
    mm_event ev = {.type = MM_EVT_OPENAT, .pid = pid, .tid = pid, .res = fd, .path = path,
                   .proc = mm_proctab_get(x->pt, pid)};
    dd_emit(x, &ev);
    mm_event cl = {.type = MM_EVT_CLOSE, .pid = pid, .tid = pid, .arg_fd = fd,
                   .proc = mm_proctab_get(x->pt, pid)};
    dd_emit(x, &cl);
}

/* Replays files with the rules; alerts as dd_collect makes them, and the
 * evt.num of every event read (nums). */
static int dd_replay(const char *const *files, size_t n, mm_buf *alerts, mm_buf *nums)
{
    mm_ruleset *rs;
    if (mm_ruleset_new(&rs) || mm_ruleset_load_string(rs, "dedup.yaml", dedup_rules, strlen(dedup_rules)) ||
        mm_ruleset_compile(rs))
        return -1;
    mm_capture_reader *r;
    if (mm_capture_reader_open(&r, files, n, NULL)) {
        mm_ruleset_free(rs);
        return -1;
    }
    mm_replay *rp;
    mm_replay_open_reader(&rp, r);
    const mm_event *ev;
    int rc;
    while ((rc = mm_replay_next(rp, &ev)) == 1) {
        mm_ruleset_eval(rs, ev, dd_collect, alerts);
        if (nums) {
            char b[32];
            snprintf(b, sizeof b, "%llu|", (unsigned long long)ev->num);
            mm_buf_adds(nums, b);
        }
    }
    if (rc < 0)
        fprintf(stderr, "replay: %s\n", mm_error_last());
    mm_replay_free(rp);
    mm_ruleset_free(rs);
    return rc;
}

/* The lines of `all` whose "num|" prefix is in nums ("|1|2|...|"). */
static char *dd_filter(const char *all, const char *nums)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "");
    for (const char *l = all; *l;) {
        const char *e = strchr(l, '\n');
        size_t ll = e ? (size_t)(e - l + 1) : strlen(l);
        const char *bar = strchr(l, '|');
        char key[40];
        snprintf(key, sizeof key, "|%.*s|", (int)(bar - l), l);
        if (strstr(nums, key))
            mm_buf_add(&b, l, ll);
        l += ll;
    }
    return mm_buf_detach(&b);
}

static bool same_text(const char *what, const char *a, const char *b)
{
    if (!strcmp(a, b))
        return true;
    size_t i = 0;
    while (a[i] && a[i] == b[i])
        i++;
    size_t st = i > 200 ? i - 200 : 0;
    fprintf(stderr, "%s: differ at %zu:\n  got  ...%.300s\n  want ...%.300s\n", what, i, a + st, b + st);
    return false;
}

MM_TEST(dedup_replays_to_the_same_alerts_with_rotation_and_pid_reuse)
{
    const char *d = mmt_tmpdir();
    dd_ctx x = {0};
    x.ts = 1700000000000000000ll;
    mm_proctab_new(&x.pt, 0);
    CHECK_OK(mm_ruleset_new(&x.rs));
    CHECK_OK(mm_ruleset_load_string(x.rs, "dedup.yaml", dedup_rules, strlen(dedup_rules)));
    CHECK_OK(mm_ruleset_compile(x.rs));
    const char *prot = path_in(d, "dd.zst"), *pfull = path_in(d, "full.json"), *pdd = path_in(d, "dd.json");
    mm_capture_opts o0 = {.max_size = 4096, .keep = 10000, .flush_events = 64};
    mm_capture_opts o1 = {.plain = true, .full_lines = true, .max_size = 1ull << 30};
    mm_capture_opts o2 = {.plain = true, .max_size = 1ull << 30};
    CHECK_OK(mm_capture_open(&x.cap[0], prot, &o0));
    CHECK_OK(mm_capture_open(&x.cap[1], pfull, &o1));
    CHECK_OK(mm_capture_open(&x.cap[2], pdd, &o2));

    /* init and a chain of 12 below it: pid 100+i is p<i> */
    mm_proc *init = mm_proctab_add(x.pt, 1, 0);
    mm_proc_set(&init->comm, "systemd");
    mm_proc_set(&init->exe, "/sbin/init");
    const char *iargv[] = {"/sbin/init", "splash"};
    mm_proc_set_argv(init, iargv, 2);
    int64_t ppid = 1;
    char nm[16];
    for (int i = 0; i < 12; i++) {
        snprintf(nm, sizeof nm, "p%d", i);
        dd_spawn(&x, ppid, 100 + i, nm, i);
        ppid = 100 + i;
    }
    /* work at every depth, many events per process (enough to rotate) */
    char path[64];
    for (int round = 0; round < 120; round++)
        for (int i = 0; i < 12; i++) {
            snprintf(path, sizeof path, "/etc/conf%d/file%d", i, round);
            dd_open(&x, 100 + i, path, 3 + round % 5);
        }
    /* a parent execs: its children's chains change and must be rewritten */
    mm_proc *p5 = mm_proctab_get(x.pt, 105);
    mm_proc_set(&p5->comm, "p5b");
    mm_event ex = {.type = MM_EVT_EXECVE, .pid = 105, .tid = 105, .proc = p5, .path = "/usr/bin/p5b"};
    dd_emit(&x, &ex);
    for (int i = 0; i < 12; i++)
        dd_open(&x, 100 + i, "/etc/after-exec", 4);
    /* pid reuse with an exit event: 111 (p11) exits, a new 111 under init */
    mm_event pe = {.type = MM_EVT_PROCEXIT, .pid = 111, .tid = 111, .proc = mm_proctab_get(x.pt, 111)};
    dd_emit(&x, &pe);
    dd_spawn(&x, 1, 111, "cron", 1);
    dd_open(&x, 111, "/etc/crontab", 3);
    dd_open(&x, 111, "/etc/crontab", 3);
    /* pid reuse whose exit was lost: 110 (p10) vanishes without an event and
     * a new 110 is born under p2 */
    mm_proctab_remove(x.pt, 110);
    dd_spawn(&x, 102, 110, "cronjob", 3);
    dd_open(&x, 110, "/etc/cron.d/job", 3);
    dd_open(&x, 110, "/etc/cron.d/job", 3);
    /* the same command again and again under one parent (same content) */
    for (int k = 0; k < 5; k++) {
        dd_spawn(&x, 109, 200, "true", 10);
        dd_open(&x, 200, "/etc/ld.so.cache", 3);
        mm_event e2 = {.type = MM_EVT_PROCEXIT, .pid = 200, .tid = 200, .proc = mm_proctab_get(x.pt, 200)};
        dd_emit(&x, &e2);
    }
    mm_capture_stats st[3];
    for (int i = 0; i < 3; i++) {
        mm_capture_stats_get(x.cap[i], &st[i]);
        CHECK_OK(mm_capture_close(x.cap[i]));
    }
    const char *direct = bstr(&x.direct);
    CHECK(strstr(direct, "a8=p3 ") != NULL);        /* deep chains reached the rules */
    CHECK(strstr(direct, "parent=p5b") != NULL);    /* after the parent's exec */
    CHECK(strstr(direct, "reused pid 111 cron systemd") != NULL);
    CHECK(strstr(direct, "reused pid 110 cronjob p2 p1") != NULL);
    CHECK(st[0].rotations > 3);
    CHECK(st[0].anc_omitted > 0 && st[2].anc_omitted > 0 && st[2].proc_omitted > 0);
    CHECK_INT(st[1].anc_omitted + st[1].proc_omitted, 0);
    CHECK_INT(st[0].events, x.num);

    /* the whole rotated set, the full capture and the dedup plain file */
    char **files;
    size_t nf;
    const char *one[] = {prot};
    CHECK_OK(mm_capture_files(&files, &nf, one, 1));
    CHECK_INT(nf, st[0].rotations + 1);
    mm_buf a = MM_BUF_INIT;
    mm_buf_adds(&a, "");
    CHECK_INT(dd_replay((const char *const *)files, nf, &a, NULL), 0);
    CHECK(same_text("rotated set", bstr(&a), direct));
    mm_buf_clear(&a);
    mm_buf_adds(&a, "");
    CHECK_INT(dd_replay(&pfull, 1, &a, NULL), 0);
    CHECK(same_text("full capture", bstr(&a), direct));
    mm_buf_clear(&a);
    mm_buf_adds(&a, "");
    CHECK_INT(dd_replay(&pdd, 1, &a, NULL), 0);
    CHECK(same_text("dedup capture", bstr(&a), direct));

    /* every member alone gives the alerts of its own events */
    size_t alerted = 0;
    for (size_t i = 0; i < nf; i++) {
        mm_buf nums = MM_BUF_INIT;
        mm_buf_adds(&nums, "|");
        mm_buf_clear(&a);
        mm_buf_adds(&a, "");
        CHECK_INT(dd_replay((const char *const *)&files[i], 1, &a, &nums), 0);
        char *want = dd_filter(direct, bstr(&nums));
        char what[600];
        snprintf(what, sizeof what, "member %s alone", files[i]);
        CHECK(same_text(what, bstr(&a), want));
        alerted += strlen(want) > 0;
        free(want);
        mm_buf_free(&nums);
    }
    CHECK(alerted > 3);

    /* the figures for docs/capture.md */
    fprintf(stderr, "deep tree, %llu events: full %.0f B/event plain, dedup %.0f B/event plain; "
            "zstd dedup %.1f B/event on disk\n", (unsigned long long)x.num,
            (double)st[1].bytes_in / (double)st[1].events, (double)st[2].bytes_in / (double)st[2].events,
            (double)st[0].bytes_out / (double)st[0].events);
    CHECK(st[2].bytes_in * 4 < st[1].bytes_in);

    mm_buf_free(&a);
    mm_capture_files_free(files, nf);
    mm_buf_free(&x.direct);
    mm_ruleset_free(x.rs);
    mm_proctab_free(x.pt);
}

MM_TEST(event_to_json_flags_leave_out_only_their_parts)
{
    mm_proctab *pt;
    mm_proctab_new(&pt, 0);
    mm_proc *a = mm_proctab_add(pt, 10, 0);
    mm_proc_set(&a->comm, "bash");
    mm_proc *b = mm_proctab_add(pt, 11, 10);
    mm_proc_set(&b->comm, "cat");
    mm_proc_set(&b->cwd, "/tmp/");
    mm_event ev = {.type = MM_EVT_OPENAT, .pid = 11, .res = 3, .path = "/etc/passwd", .proc = b, .arg_fd = -100};
    mm_proctab_apply(pt, &ev);
    char *full = mm_event_to_json(&ev), *f0 = mm_event_to_json_flags(&ev, 0);
    char *np = mm_event_to_json_flags(&ev, MM_EVJ_NO_PROC);
    char *na = mm_event_to_json_flags(&ev, MM_EVJ_NO_ANCESTORS);
    CHECK_STR(f0, full);
    CHECK(strstr(full, "\"proc.name\":\"cat\"") && strstr(full, "\"proc.ancestors\""));
    CHECK(!strstr(np, "\"proc.name\"") && !strstr(np, "\"proc.cwd\"") && strstr(np, "\"proc.ancestors\""));
    CHECK(strstr(np, "\"proc.pid\":11") && strstr(np, "\"proc.ppid\":10") && strstr(np, "\"fd.name\":\"/etc/passwd\""));
    CHECK(strstr(na, "\"proc.name\":\"cat\"") && !strstr(na, "\"proc.ancestors\""));
    mm_event_json_digest d1, d2;
    mm_event_json_digest_compute(&d1, &ev);
    mm_proc_set(&a->comm, "zsh");   /* the parent changed: only anc differs */
    mm_event_json_digest_compute(&d2, &ev);
    CHECK(!memcmp(d1.proc, d2.proc, 32));
    CHECK(memcmp(d1.anc, d2.anc, 32) != 0);
    free(full); free(f0); free(np); free(na);
    mm_proctab_free(pt);
}

/* Issue 20a: what an agent tells the server about its captures: each
 * member of a rotated set with its events, first and last event time,
 * size and which one is live; a second look reuses the members a rotation
 * only renamed (same inode, size, mtime) and reads the rest. */
/* make_line's line with "evt.time" (second 1700000000 + i) in front */
static int timed_line(mm_capture *c, char *buf, size_t cap, unsigned i)
{
    int n = snprintf(buf, cap, "{\"evt.time\":%llu,",
                     (unsigned long long)(1700000000ull + i) * 1000000000ull);
    char line[512];
    size_t l = make_line(line, sizeof line, i);
    memcpy(buf + n, line + 1, l - 1);   /* without its '{' */
    return mm_capture_write_line(c, buf, (size_t)n + l - 1);
}

MM_TEST(members_of_a_rotated_set)
{
    const char *d = mmt_tmpdir();
    const char *p = path_in(d, "mem.zst");
    mm_capture_opts o = {.max_size = 4096, .keep = 4, .flush_events = 16};
    mm_capture *c;
    CHECK_OK(mm_capture_open(&c, p, &o));
    REQUIRE(c);
    char buf[512];
    for (unsigned i = 0; i < 900; i++) {
        /* evt.time: second 1700000000 + i */
        CHECK_OK(timed_line(c, buf, sizeof buf, i));
    }
    CHECK_OK(mm_capture_flush(c));
    mm_capture_member *v = NULL;
    size_t nv = 0;
    CHECK_OK(mm_capture_members(&v, &nv, p, NULL, 0));
    REQUIRE(nv >= 2 && nv <= 4);
    uint64_t events = 0;
    for (size_t i = 0; i < nv; i++) {
        events += v[i].events;
        CHECK(v[i].start <= v[i].end);
        CHECK_INT(v[i].size, fsize(v[i].path));
        CHECK(v[i].live == (i == 0));
        if (i)   /* newest first: each member ends before the next newer begins */
            CHECK(v[i].end < v[i - 1].start);
    }
    CHECK_STR(v[0].path, p);
    CHECK_INT(v[0].end, 1700000000 + 899);
    CHECK(events <= 900 && events > 0);
    CHECK_INT(v[nv - 1].start + (int64_t)events - 1, 1700000000 + 899);   /* a contiguous tail */
    char *json = mm_capture_members_json(v, nv);
    REQUIRE(json);
    CHECK(json[0] == '[' && strstr(json, "\"events\":"));
    free(json);
    /* more lines rotate: the renamed members are reused, the set is right */
    for (unsigned i = 900; i < 1200; i++) {
        CHECK_OK(timed_line(c, buf, sizeof buf, i));
    }
    CHECK_OK(mm_capture_close(c));
    mm_capture_member *w = NULL, *x = NULL;
    size_t nw = 0, nx = 0;
    CHECK_OK(mm_capture_members(&w, &nw, p, v, nv));
    CHECK_OK(mm_capture_members(&x, &nx, p, NULL, 0));
    REQUIRE(nw == nx);
    for (size_t i = 0; i < nw; i++) {
        CHECK_STR(w[i].path, x[i].path);
        CHECK_INT(w[i].events, x[i].events);
        CHECK_INT(w[i].start, x[i].start);
        CHECK_INT(w[i].end, x[i].end);
        CHECK(w[i].live == x[i].live);
    }
    CHECK_INT(x[0].end, 1700000000 + 1199);
    mm_capture_members_free(v, nv);
    mm_capture_members_free(w, nw);
    mm_capture_members_free(x, nx);
}

MM_TEST_MAIN
