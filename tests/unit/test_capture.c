/*
 * test_capture.c - the capture writer and reader (lib/runtime/capture.c):
 * round trips plain and zstd, rotation with its size cap and keep count,
 * the order of a rotated set, a truncated last frame (tolerated with a
 * warning), corruption and caps (errors with file and position), time-based
 * flushing, and replay over a rotated set naming the member file and line.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "mamori/mamori.h"
#include "mamori/capture.h"
#include "mamori/rules.h"
#include "mmtest.h"

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

MM_TEST_MAIN
