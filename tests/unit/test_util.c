/*
 * test_util.c - the helpers of lib/util: path normalisation of hostile
 * names, the hash map under growth and deletion, buffers, line iteration,
 * capped string lists, digests, the one time parser, `mkdir -p`, the cache folder, capped
 * file reads and buffers, temp folders and files that do not outlive
 * their process (signals, stale ones of dead processes), the libcurl
 * transport against a local server.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mmtest.h"
#include "util/http.h"
#include "util/json.h"
#include "util/util.h"

MM_TEST(path_normalize)
{
    bool esc;
    char *p = mm_path_normalize("./usr//bin/./ls", &esc);
    CHECK_STR(p, "usr/bin/ls");
    CHECK(!esc);
    free(p);
    p = mm_path_normalize("../../etc/passwd", &esc);
    CHECK_STR(p, "etc/passwd");
    CHECK(esc);
    free(p);
    p = mm_path_normalize("/abs/x/../y", &esc);
    CHECK_STR(p, "abs/y");
    CHECK(!esc);
    free(p);
    CHECK(mm_path_normalize("./", &esc) == NULL);
    p = mm_path_join_norm("usr/lib", "../../../etc/os-release", &esc);
    CHECK_STR(p, "etc/os-release");
    CHECK(esc);
    free(p);
    p = mm_path_join_norm("etc", "/usr/lib/os-release", &esc);
    CHECK_STR(p, "usr/lib/os-release");
    free(p);
    CHECK_STR(mm_path_base("a/b/c"), "c");
    CHECK_INT(mm_path_dirlen("a/b/c"), 3);
    CHECK_INT(mm_path_dirlen("c"), 0);
}

MM_TEST(map_grow_delete)
{
    mm_map *m = mm_map_new();
    char key[32];
    for (long i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        CHECK(mm_map_put(m, key, (void *)(i + 1)) == NULL);
    }
    CHECK_INT(mm_map_count(m), 20000);
    for (long i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof key, "k%ld", i);
        CHECK(mm_map_del(m, key) == (void *)(i + 1));
    }
    CHECK_INT(mm_map_count(m), 10000);
    int bad = 0;
    for (long i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        void *v = mm_map_get(m, key);
        if ((i % 2 == 0 && v) || (i % 2 == 1 && v != (void *)(i + 1)))
            bad++;
    }
    CHECK_INT(bad, 0);
    size_t it = 0, n = 0;
    const char *k;
    while (mm_map_next(m, &it, &k, NULL))
        n++;
    CHECK_INT(n, 10000);
    CHECK(mm_map_getn(m, "k1xyz", 2) == (void *)2);
    mm_map_free(m, NULL);
}

MM_TEST(buf_and_lines)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b, "%s-%d", "x", 42);
    mm_buf_adds(&b, "\r\nsecond\n\nlast");
    CHECK_STR(b.data, "x-42\r\nsecond\n\nlast");
    mm_lines it;
    const char *l;
    size_t n;
    mm_lines_init(&it, b.data, b.len);
    CHECK(mm_lines_next(&it, &l, &n) && n == 4 && !strncmp(l, "x-42", 4));
    CHECK(mm_lines_next(&it, &l, &n) && n == 6);
    CHECK(mm_lines_next(&it, &l, &n) && n == 0);
    CHECK(mm_lines_next(&it, &l, &n) && n == 4 && it.lineno == 4);
    CHECK(!mm_lines_next(&it, &l, &n));
    char **v = NULL;
    size_t nv = 0;
    for (int i = 0; i < 100; i++)
        mm_strv_push(&v, &nv, "s");
    CHECK_INT(nv, 100);
    mm_strv_free(v, nv);
    mm_buf_free(&b);
}

MM_TEST(strv_pushf_capped)
{
    /* the capped, formatted append behind every warning and note list */
    char **v = NULL;
    size_t nv = 0;
    for (int i = 0; i < 5; i++)
        CHECK(mm_strv_pushf(&v, &nv, 3, "w%d:%s", i, "x") == (i < 3));
    CHECK_INT(nv, 3);
    CHECK_STR(v[0], "w0:x");
    CHECK_STR(v[2], "w2:x");
    for (int i = 0; i < 100; i++)   /* no cap: grows past powers of two */
        CHECK(mm_strv_pushf(&v, &nv, 0, "%d", i));
    CHECK_INT(nv, 103);
    CHECK_STR(v[102], "99");
    mm_strv_free(v, nv);
}

MM_TEST(sha256)
{
    char d[72];
    mm_sha256_hex("abc", 3, d);
    CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(mm_digest_valid(d));
    CHECK(!mm_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(!mm_digest_valid("sha512:ba"));
}

MM_TEST(str_printable)
{
    /* newline, tab, ESC, DEL and a UTF-8 C1 (CSI, c2 9b) become '?';
     * other UTF-8 (é, c3 a9; NBSP, c2 a0) is kept byte for byte */
    char *p = mm_str_printable("sh -c 'a\nb'\t\033[31mred\x7f\xc2\x9b" "2J \xc3\xa9\xc2\xa0");
    CHECK_STR(p, "sh -c 'a?b'??[31mred??2J \xc3\xa9\xc2\xa0");
    free(p);
    CHECK(mm_str_printable(NULL) == NULL);
    p = mm_str_printable("\xc2");   /* a lone lead byte at the end is left */
    CHECK_STR(p, "\xc2");
    free(p);
}

MM_TEST(time_parse)
{
    int64_t t;
    int32_t ns = -1;
    CHECK_OK(mm_time_parse_rfc3339("2024-01-31T12:00:00Z", &t));
    CHECK_INT(t, 1706702400);
    CHECK_OK(mm_time_parse("2024-01-31T14:00:00.5+02:00", 0, &t, &ns));
    CHECK_INT(t, 1706702400);
    CHECK_INT(ns, 500000000);
    CHECK_OK(mm_time_parse("2024-01-31t12:00:00.123456789z", 0, &t, &ns));
    CHECK_INT(ns, 123456789);
    /* RFC 3339 proper: seconds and a zone are required */
    CHECK_INT(mm_time_parse_rfc3339("2024-01-31", &t), MM_EFORMAT);
    CHECK_INT(mm_time_parse_rfc3339("2024-01-31T12:00Z", &t), MM_EFORMAT);
    CHECK_INT(mm_time_parse_rfc3339("2024-01-31T12:00:00", &t), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "no time zone"));
    CHECK_INT(mm_time_parse_rfc3339("2024-13-01T00:00:00Z", &t), MM_EFORMAT);
    CHECK_INT(mm_time_parse_rfc3339("2024-01-01T00:00:00.Z", &t), MM_EFORMAT);
    CHECK_INT(mm_time_parse_rfc3339("2024-01-01T00:00:00Zjunk", &t), MM_EFORMAT);
    CHECK_INT(mm_time_parse_rfc3339(NULL, &t), MM_EFORMAT);
    /* what the flags allow: a date alone, no seconds, no zone */
    CHECK_OK(mm_time_parse("2024-03-02", MM_TIME_DATE, &t, NULL));
    CHECK_INT(t, 1709337600);
    CHECK_OK(mm_time_parse("2024-03-02 10:30", MM_TIME_NOSEC | MM_TIME_NOZONE, &t, NULL));
    CHECK_INT(t, 1709337600 + 10 * 3600 + 30 * 60);
    CHECK_OK(mm_time_parse("2024-03-02T10:30-01:00", MM_TIME_NOSEC, &t, NULL));
    CHECK_INT(t, 1709337600 + 11 * 3600 + 30 * 60);
    CHECK_INT(mm_time_parse("2024-03-02T10", MM_TIME_DATE | MM_TIME_NOSEC, &t, NULL), MM_EFORMAT);
    /* the day must exist only when asked */
    CHECK_OK(mm_time_parse("2023-02-29", MM_TIME_DATE, &t, NULL));
    CHECK_INT(mm_time_parse("2023-02-29", MM_TIME_DATE | MM_TIME_STRICT_DAY, &t, NULL), MM_EFORMAT);
    CHECK_OK(mm_time_parse("2024-02-29", MM_TIME_DATE | MM_TIME_STRICT_DAY, &t, NULL));
    CHECK_INT(mm_time_parse("1900-02-29", MM_TIME_DATE | MM_TIME_STRICT_DAY, &t, NULL), MM_EFORMAT);
    CHECK_OK(mm_time_parse("2000-02-29", MM_TIME_DATE | MM_TIME_STRICT_DAY, &t, NULL));
}

MM_TEST(mkdir_p_and_cache_path)
{
    const char *base = mmt_tmpdir();
    char *d = mm_xasprintf("%s/a/b//c", base);
    CHECK_OK(mm_mkdir_p(d, 0700));
    CHECK_OK(mm_mkdir_p(d, 0700));              /* existing: fine */
    struct stat st;
    char *c = mm_xasprintf("%s/a/b/c", base);
    CHECK(stat(c, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    char *f = mm_xasprintf("%s/a/file", base);
    FILE *fp = fopen(f, "w");
    REQUIRE(fp);
    fclose(fp);
    char *under = mm_xasprintf("%s/x/y", f);
    CHECK_INT(mm_mkdir_p(under, 0700), MM_EIO);  /* a file in the way */
    CHECK_INT(mm_mkdir_p(f, 0700), MM_EIO);      /* the target is a file */
    CHECK(strstr(mm_error_last(), "not a folder"));
    char *db = mm_xasprintf("%s/p/q/vuln.db", base);
    CHECK_OK(mm_mkdir_parents(db, 0700));
    char *pq = mm_xasprintf("%s/p/q", base);
    CHECK(stat(pq, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(stat(db, &st) != 0);
    CHECK_OK(mm_mkdir_parents("bare-name", 0700));
    free(d); free(c); free(f); free(under); free(db); free(pq);

    char *keep_m = mm_xstrdup(getenv("MAMORI_CACHE_DIR"));
    char *keep_x = mm_xstrdup(getenv("XDG_CACHE_HOME"));
    char *keep_h = mm_xstrdup(getenv("HOME"));
    setenv("MAMORI_CACHE_DIR", "/m", 1);
    setenv("XDG_CACHE_HOME", "/x", 1);
    setenv("HOME", "/h", 1);
    char *p = mm_cache_path("vuln.db");
    CHECK_STR(p, "/m/vuln.db");
    free(p);
    setenv("MAMORI_CACHE_DIR", "", 1);      /* empty counts as unset */
    p = mm_cache_path("blobs");
    CHECK_STR(p, "/x/mamori/blobs");
    free(p);
    unsetenv("XDG_CACHE_HOME");
    p = mm_cache_path("mamori.db");
    CHECK_STR(p, "/h/.cache/mamori/mamori.db");
    free(p);
    unsetenv("HOME");
    unsetenv("MAMORI_CACHE_DIR");
    CHECK(mm_cache_path("x") == NULL);
    CHECK(strstr(mm_error_last(), "MAMORI_CACHE_DIR"));
    if (keep_m) setenv("MAMORI_CACHE_DIR", keep_m, 1);
    if (keep_x) setenv("XDG_CACHE_HOME", keep_x, 1);
    if (keep_h) setenv("HOME", keep_h, 1);
    free(keep_m); free(keep_x); free(keep_h);
}

MM_TEST(file_read_capped)
{
    const char *base = mmt_tmpdir();
    char *f = mm_xasprintf("%s/ten", base);
    FILE *fp = fopen(f, "w");
    REQUIRE(fp);
    fputs("0123456789", fp);
    fclose(fp);
    char *data;
    size_t len;
    CHECK_OK(mm_file_read(f, 10, &data, &len));
    CHECK_INT(len, 10);
    CHECK_STR(data, "0123456789");
    free(data);
    CHECK_INT(mm_file_read(f, 9, &data, &len), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "exceeds the limit of 9"));
    CHECK_INT(mm_file_read(base, 100, &data, &len), MM_EIO);   /* a folder */
    char *none = mm_xasprintf("%s/none", base);
    CHECK_INT(mm_file_read(none, 100, &data, &len), MM_ENOTFOUND);
    int fd;
    uint64_t size;
    CHECK_OK(mm_file_open(f, 10, &fd, &size));
    CHECK_INT(size, 10);
    CHECK_OK(mm_file_read_fd(fd, f, size, &data, &len));
    close(fd);
    CHECK_STR(data, "0123456789");
    free(data);
    free(f);
    free(none);
}

/* The in-place JSON string writer gives what jansson dumps for the same
 * string (after mm_json_str's U+FFFD repair), also for strings longer than
 * one 4 KiB round with escapes and UTF-8 sequences across the rounds'
 * ends; and a capped buffer refuses instead of writing past its cap. */
MM_TEST(base64_strict_and_lenient)
{
    unsigned char *o;
    size_t n;
    char *e = mm_base64_encode("fooba", 5);
    CHECK_STR(e, "Zm9vYmE=");
    CHECK_OK(mm_base64_decode(&o, &n, e, strlen(e), 0));
    CHECK_INT(n, 5);
    CHECK(!memcmp(o, "fooba", 5) && o[5] == 0);
    free(o);
    free(e);
    e = mm_base64_encode("", 0);
    CHECK_STR(e, "");
    free(e);
    /* strict: canonical padded text only, the offset of a bad byte named */
    CHECK_OK(mm_base64_decode(&o, &n, "Zm9vYg==", 8, 0));
    CHECK_INT(n, 4);
    free(o);
    CHECK_INT(mm_base64_decode(&o, &n, "", 0, 0), MM_EFORMAT);
    CHECK_INT(mm_base64_decode(&o, &n, "Zm9", 3, 0), MM_EFORMAT);
    CHECK_INT(mm_base64_decode(&o, &n, "Zm=vYmFy", 8, 0), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "offset 2"));
    CHECK_INT(mm_base64_decode(&o, &n, "Zm9v\nYmFy", 9, 0), MM_EFORMAT);
    CHECK_INT(mm_base64_decode(&o, &n, "Zm9v_mFy", 8, 0), MM_EFORMAT);
    CHECK(o == NULL && n == 0);
    /* lenient: line breaks, blanks, URL-safe letters, no padding */
    CHECK_OK(mm_base64_decode(&o, &n, "Zm9v\r\nYm Fy", 11, MM_BASE64_LENIENT));
    CHECK_INT(n, 6);
    CHECK(!memcmp(o, "foobar", 6));
    free(o);
    CHECK_OK(mm_base64_decode(&o, &n, "Zm9vYg", 6, MM_BASE64_LENIENT));
    CHECK_INT(n, 4);
    free(o);
    CHECK_OK(mm_base64_decode(&o, &n, "-_-_", 4, MM_BASE64_LENIENT));
    CHECK_INT(n, 3);
    CHECK(o[0] == 0xfb && o[1] == 0xff && o[2] == 0xbf);
    free(o);
    CHECK_INT(mm_base64_decode(&o, &n, "Zm9v!", 5, MM_BASE64_LENIENT), MM_EFORMAT);
}

MM_TEST(str_cat_and_utoa)
{
    char d[8], num[24];
    const char *p[] = {"ab", NULL, "cd", "\x1f", "e"};
    CHECK_INT(mm_str_cat(d, sizeof d, p, 5), 6);
    CHECK_STR(d, "abcd\x1f" "e");
    const char *q[] = {"0123", "4567", "89"};
    CHECK_INT(mm_str_cat(d, sizeof d, q, 3), 10);   /* cut, as snprintf */
    CHECK_STR(d, "0123456");
    CHECK_INT(mm_str_cat(d, 1, q, 3), 10);
    CHECK_STR(d, "");
    CHECK_INT(mm_str_utoa(num, 0), 1);
    CHECK_STR(num, "0");
    CHECK_INT(mm_str_utoa(num, 18446744073709551615ull), 20);
    CHECK_STR(num, "18446744073709551615");
}

MM_TEST(json_buf_str_word_runs)
{
    /* plain runs of every length around the 8-byte steps, then each byte
     * that needs care, at every offset: the word-at-a-time scan must stop
     * on it exactly as the byte loop does */
    static const char *const special[] = {"\"", "\\", "\x01", "\x1f", "\x7f", "\xc3\xa9",
                                          "\xff", " ", "~", "\n"};
    for (size_t run = 0; run < 20; run++)
        for (size_t k = 0; k < sizeof special / sizeof special[0]; k++) {
            char in[64];
            memset(in, 'x', run);
            strcpy(in + run, special[k]);
            strcat(in, "yyyyyyyyy");
            mm_buf out = MM_BUF_INIT;
            mm_json_buf_str(&out, in);
            json_t *j = mm_json_str(in);
            char *want = json_dumps(j, JSON_ENCODE_ANY);
            CHECK_STR(out.data, want);
            free(want);
            json_decref(j);
            mm_buf_free(&out);
        }
    mm_buf e = MM_BUF_INIT;
    mm_json_buf_str(&e, "");
    CHECK_STR(e.data, "\"\"");
    mm_buf_free(&e);
}

MM_TEST(json_buf_str_matches_jansson)
{
    static const char *const pieces[] = {"a", "\xc3\xa9", "\xe2\x80\xa8", "\"", "\\",
                                         "\x01", "\x1f", "\n", "\x7f", "\xff", "\xf0\x9f\x98\x80",
                                         "\xc0\xaf", "/", "\t"};
    for (size_t len = 0; len < 13000; len += 997) {
        mm_buf in = MM_BUF_INIT;
        for (size_t i = 0; in.len < len; i++)
            mm_buf_adds(&in, pieces[(i * 7 + len) % (sizeof pieces / sizeof pieces[0])]);
        const char *s = in.data ? in.data : "";
        mm_buf out = MM_BUF_INIT;
        mm_json_buf_str(&out, s);
        json_t *j = mm_json_str(s);
        char *want = json_dumps(j, JSON_ENCODE_ANY);
        CHECK_STR(out.data, want);
        free(want);
        json_decref(j);
        mm_buf_free(&out);
        mm_buf_free(&in);
    }
    mm_buf out = MM_BUF_INIT;
    mm_json_buf_str(&out, NULL);
    CHECK_STR(out.data, "null");
    mm_buf_free(&out);
    mm_buf small = MM_BUF_INIT_MAX(16);
    mm_json_buf_str(&small, "a string longer than sixteen bytes");
    CHECK(small.over);
    CHECK(small.len <= 16);
    mm_buf_free(&small);
    mm_error_clear();
}

MM_TEST(buf_cap)
{
    mm_buf b = MM_BUF_INIT_MAX(8);
    CHECK_OK(mm_buf_adds(&b, "12345"));
    CHECK_INT(mm_buf_adds(&b, "6789"), MM_ELIMIT);   /* 9 > 8: nothing added */
    CHECK(b.over);
    CHECK_STR(b.data, "12345");
    CHECK_OK(mm_buf_adds(&b, "678"));                /* exactly the cap */
    CHECK_STR(b.data, "12345678");
    CHECK_INT(mm_buf_addc(&b, 'x'), MM_ELIMIT);
    CHECK_INT(mm_buf_printf(&b, "%d", 1), MM_ELIMIT);
    CHECK_INT(mm_buf_reserve(&b, 1), MM_ELIMIT);
    CHECK_INT(mm_buf_reserve(&b, SIZE_MAX), MM_ELIMIT);   /* no overflow */
    CHECK_INT(b.len, 8);
    mm_buf_clear(&b);
    CHECK(!b.over);
    CHECK_INT(b.max, 8);
    CHECK_OK(mm_buf_printf(&b, "%s-%d", "ab", 42));
    CHECK_STR(b.data, "ab-42");
    /* written straight into the free space, then past the cap: unchanged */
    CHECK_INT(mm_buf_printf(&b, "%s", "xyzw"), MM_ELIMIT);
    CHECK_STR(b.data, "ab-42");
    mm_buf_free(&b);
    CHECK_INT(b.max, 8);
    {
        /* a printf longer than the free space: measured, grown, written */
        mm_buf g = MM_BUF_INIT;
        CHECK_OK(mm_buf_adds(&g, "a"));
        char big[300];
        memset(big, 'q', sizeof big - 1);
        big[sizeof big - 1] = 0;
        CHECK_OK(mm_buf_printf(&g, "<%s>%d", big, 7));
        CHECK_INT(g.len, 1 + 1 + 299 + 1 + 1);
        CHECK(g.data[0] == 'a' && g.data[1] == '<' && g.data[301] == '>' && g.data[302] == '7');
        CHECK(g.data[g.len] == 0);
        mm_buf_free(&g);
    }
    /* the default cap applies to a buffer made with MM_BUF_INIT or zeroed */
    mm_buf d = MM_BUF_INIT;
    CHECK_INT(mm_buf_reserve(&d, MM_BUF_DEFAULT_MAX + 1), MM_ELIMIT);
    CHECK_OK(mm_buf_adds(&d, "ok"));
    mm_buf_free(&d);
    mm_buf z;
    mm_buf_init(&z, 0);
    CHECK_INT(mm_buf_reserve(&z, MM_BUF_DEFAULT_MAX + 1), MM_ELIMIT);
    mm_buf_free(&z);
}

/* A child makes a temp folder (with content) or file, tells its path, then
 * raises sig (0: waits to be killed).  Returns the child's pid. */
static pid_t tmp_child(const char *parent, bool file, int sig, char *path, size_t n)
{
    int pfd[2];
    if (pipe(pfd) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        close(pfd[0]);
        mm_cleanup_on_signals();
        char *t = NULL;
        if (file) {
            char *prefix = mm_xasprintf("%s/vuln.db.build-", parent);
            if (mm_tmpfile_create(&t, prefix))
                _exit(3);
        } else {
            if (mm_tmpdir_create(&t, parent))
                _exit(3);
            char *sub = mm_xasprintf("%s/layers/blobs", t);
            mm_mkdir_p(sub, 0700);
            char *f = mm_xasprintf("%s/outer.tar", sub);
            FILE *fp = fopen(f, "w");
            if (fp) {
                fputs("data", fp);
                fclose(fp);
            }
        }
        if (write(pfd[1], t, strlen(t) + 1) < 0)
            _exit(4);
        close(pfd[1]);
        if (sig)
            raise(sig);
        for (;;)
            pause();
    }
    close(pfd[1]);
    ssize_t r = read(pfd[0], path, n - 1);
    path[r > 0 ? r : 0] = 0;
    close(pfd[0]);
    return pid;
}

MM_TEST(tmpdir_signals_and_stale)
{
    char *parent = mm_xasprintf("%s/t", mmt_tmpdir());
    REQUIRE(mm_mkdir_p(parent, 0700) == 0);
    char a[PATH_MAX], b[PATH_MAX];
    int st;
    /* SIGTERM and SIGINT: the folder goes with the process */
    pid_t pid = tmp_child(parent, false, SIGTERM, a, sizeof a);
    REQUIRE(pid > 0 && a[0]);
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    CHECK(access(a, F_OK) != 0);
    pid = tmp_child(parent, false, SIGINT, a, sizeof a);
    REQUIRE(pid > 0 && a[0]);
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
    CHECK(access(a, F_OK) != 0);
    /* SIGKILL leaves it; the next folder made there removes it */
    pid = tmp_child(parent, false, 0, a, sizeof a);
    REQUIRE(pid > 0 && a[0]);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    CHECK(access(a, F_OK) == 0);
    char *legacy = mm_xasprintf("%s/mamori.legacy", parent);   /* no lock: not ours to judge */
    CHECK_OK(mm_mkdir_p(legacy, 0700));
    char *mine = NULL, *mine2 = NULL;
    CHECK_OK(mm_tmpdir_create(&mine, parent));
    CHECK(access(a, F_OK) != 0);
    CHECK(access(legacy, F_OK) == 0);
    /* a live owner's folder is left alone, in this process too */
    CHECK_OK(mm_tmpdir_create(&mine2, parent));
    CHECK(access(mine, F_OK) == 0);
    CHECK_OK(mm_tmpdir_remove(mine));
    CHECK(access(mine, F_OK) != 0);
    CHECK_OK(mm_tmpdir_remove(mine2));

    /* files: an interrupted database build's "vuln.db.build-*" */
    pid = tmp_child(parent, true, SIGTERM, b, sizeof b);
    REQUIRE(pid > 0 && b[0]);
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st));
    CHECK(access(b, F_OK) != 0);
    pid = tmp_child(parent, true, 0, b, sizeof b);
    REQUIRE(pid > 0 && b[0]);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    CHECK(access(b, F_OK) == 0);
    char *prefix = mm_xasprintf("%s/vuln.db.build-", parent), *f = NULL;
    CHECK_OK(mm_tmpfile_create(&f, prefix));
    CHECK(access(b, F_OK) != 0);
    CHECK(f && access(f, F_OK) == 0 && strncmp(f, prefix, strlen(prefix)) == 0);
    mm_tmpfile_release(f, true);
    CHECK(access(f, F_OK) != 0);
    free(f); free(prefix); free(mine); free(mine2); free(legacy); free(parent);
}

/* --- the transport (util/http.h) against a one-connection local server --- */
struct mini_srv {
    int fd;
    const char *reply;   /* the whole HTTP response */
    char req[4096];
};

static void *mini_serve(void *ud)
{
    struct mini_srv *m = ud;
    int c = accept(m->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t n = 0;
    ssize_t r;
    /* headers, then whatever body is already there */
    while (n < sizeof m->req - 1 && (r = read(c, m->req + n, sizeof m->req - 1 - n)) > 0) {
        n += (size_t)r;
        m->req[n] = 0;
        char *eoh = strstr(m->req, "\r\n\r\n");
        const char *cl = strcasestr(m->req, "Content-Length:");
        if (eoh && (!cl || n >= (size_t)(eoh + 4 - m->req) + (size_t)atoi(cl + 15)))
            break;
    }
    if (write(c, m->reply, strlen(m->reply)) < 0)
        m->req[0] = 0;
    close(c);
    return NULL;
}

static int mini_start(struct mini_srv *m, pthread_t *th, const char *reply)
{
    memset(m, 0, sizeof *m);
    m->reply = reply;
    m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(m->fd, 1) < 0 ||
        getsockname(m->fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    pthread_create(th, NULL, mini_serve, m);
    return ntohs(a.sin_port);
}

static void mini_stop(struct mini_srv *m, pthread_t th)
{
    shutdown(m->fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(m->fd);
}

MM_TEST(http_schemes)
{
    CHECK_OK(mm_http_check_url("x", "http://h/p"));
    CHECK_OK(mm_http_check_url("x", "HTTPS://h/p"));
    CHECK_INT(mm_http_check_url("alert output", "ftp://h/p"), MM_EINVAL);
    CHECK(strstr(mm_error_last(), "alert output: ftp://h/p: only http and https"));
    CHECK_INT(mm_http_check_url("x", "file:///etc/passwd"), MM_EINVAL);
    CHECK_INT(mm_http_check_url("x", "gopher://h/"), MM_EINVAL);
    CHECK_INT(mm_http_check_url("x", NULL), MM_EINVAL);
    mm_http *h = NULL;
    CHECK_OK(mm_http_new(&h, NULL));
    long st = -1;
    CHECK_INT(mm_http_send(h, "GET", "file:///etc/passwd", NULL, NULL, 0, &st, NULL), MM_EINVAL);
    CHECK_INT(st, 0);
    mm_http_free(h);
    mm_http_free(NULL);
}

MM_TEST(http_post_and_cap)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    struct mini_srv m;
    pthread_t th;
    int port = mini_start(&m, &th, ok);
    REQUIRE(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/in", port);
    mm_http_opts o = {.total_timeout_s = 10, .max_body = 64};
    mm_http *h = NULL;
    CHECK_OK(mm_http_new(&h, &o));
    mm_buf b = MM_BUF_INIT;
    long st = 0;
    CHECK_OK(mm_http_send(h, "POST", url, "application/json", "{\"a\":1}", 7, &st, &b));
    mini_stop(&m, th);
    CHECK_INT(st, 200);
    CHECK_STR(b.data, "hello");
    CHECK(!strncmp(m.req, "POST /in HTTP/1.1\r\n", 19));
    CHECK(strstr(m.req, "Content-Type: application/json\r\n"));
    CHECK(strstr(m.req, "\r\n\r\n{\"a\":1}"));
    mm_buf_free(&b);
    mm_http_free(h);

    /* a body over the cap: MM_ELIMIT, announced or not */
    static const char big[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                              "0123456789012345678901234567890123456789";
    port = mini_start(&m, &th, big);
    REQUIRE(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/big", port);
    o.max_body = 16;
    CHECK_OK(mm_http_new(&h, &o));
    CHECK_INT(mm_http_send(h, "GET", url, NULL, NULL, 0, &st, &b), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "larger than 16 bytes"));
    mini_stop(&m, th);
    mm_buf_free(&b);
    mm_http_free(h);

    /* a redirect to another scheme is not followed */
    static const char redir[] = "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/x\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n";
    port = mini_start(&m, &th, redir);
    REQUIRE(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r", port);
    o.follow = true;
    CHECK_OK(mm_http_new(&h, &o));
    CHECK_INT(mm_http_send(h, "GET", url, NULL, NULL, 0, &st, NULL), MM_ENET);
    mini_stop(&m, th);
    mm_http_free(h);
}

MM_TEST(http_request_headers_method_escape)
{
    char *e = mm_http_escape("a b/c?d=é~_.-");
    CHECK_STR(e, "a%20b%2Fc%3Fd%3D%C3%A9~_.-");
    free(e);
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    struct mini_srv m;
    pthread_t th;
    int port = mini_start(&m, &th, ok);
    REQUIRE(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/p", port);
    mm_http_opts o = {.total_timeout_s = 10, .max_body = 64};
    mm_http *h = NULL;
    CHECK_OK(mm_http_new(&h, &o));
    const char *hdrs[] = {"Authorization: Bearer T0K", "Accept: application/json", NULL};
    mm_http_request rq = {.method = "PATCH", .url = url, .body = "{}", .len = 2,
                          .ctype = "application/merge-patch+json", .headers = hdrs};
    mm_buf b = MM_BUF_INIT;
    long st = 0;
    CHECK_OK(mm_http_do(h, &rq, &st, &b));
    mini_stop(&m, th);
    CHECK_INT(st, 200);
    CHECK_STR(b.data, "ok");
    CHECK(!strncmp(m.req, "PATCH /p HTTP/1.1\r\n", 19));
    CHECK(strstr(m.req, "Authorization: Bearer T0K\r\n"));
    CHECK(strstr(m.req, "Content-Type: application/merge-patch+json\r\n"));
    CHECK(strstr(m.req, "\r\n\r\n{}"));
    mm_buf_free(&b);
    /* errors of mm_http_do name the method */
    rq.url = "http://127.0.0.1:9/none";
    CHECK_INT(mm_http_do(h, &rq, &st, NULL), MM_ENET);
    CHECK(!strncmp(mm_error_last(), "PATCH http://127.0.0.1:9/none: ", 31));
    rq.url = "ftp://127.0.0.1/x";
    CHECK_INT(mm_http_do(h, &rq, &st, NULL), MM_EINVAL);
    mm_http_free(h);
}

/* mm_cidr_parse and mm_prefix_eq: the one reader of addresses and CIDR
 * blocks (rule conditions, NetworkPolicy ipBlocks). */
MM_TEST(cidr_parse)
{
    mm_cidr c, ip;
    CHECK(mm_cidr_parse("10.0.0.0/8", &c));
    CHECK_INT(c.family, AF_INET);
    CHECK_INT(c.bits, 8);
    CHECK(mm_cidr_parse("10.200.3.4", &ip));
    CHECK_INT(ip.bits, 32);
    CHECK(mm_prefix_eq(c.a, ip.a, c.bits));
    CHECK(mm_cidr_parse("11.0.0.1", &ip));
    CHECK(!mm_prefix_eq(c.a, ip.a, c.bits));
    CHECK(mm_cidr_parse("192.168.1.0/25", &c));
    CHECK(mm_cidr_parse("192.168.1.127", &ip));
    CHECK(mm_prefix_eq(c.a, ip.a, c.bits));
    CHECK(mm_cidr_parse("192.168.1.128", &ip));
    CHECK(!mm_prefix_eq(c.a, ip.a, c.bits));
    CHECK(mm_cidr_parse("fd00::/8", &c));
    CHECK_INT(c.family, AF_INET6);
    CHECK_INT(c.bits, 8);
    CHECK(mm_cidr_parse("fdab::1", &ip));
    CHECK_INT(ip.bits, 128);
    CHECK(mm_prefix_eq(c.a, ip.a, c.bits));
    CHECK(mm_cidr_parse("0.0.0.0/0", &c));
    CHECK_INT(c.bits, 0);
    /* refused: no address, a prefix past the family's length, not decimal */
    CHECK(!mm_cidr_parse(NULL, &c));
    CHECK(!mm_cidr_parse("", &c));
    CHECK(!mm_cidr_parse("10.0.0.0/33", &c));
    CHECK(!mm_cidr_parse("fd00::/129", &c));
    CHECK(!mm_cidr_parse("10.0.0.0/", &c));
    CHECK(!mm_cidr_parse("10.0.0.0/8x", &c));
    CHECK(!mm_cidr_parse("10.0.0.0/-1", &c));
    CHECK(!mm_cidr_parse("example.com/8", &c));
    char longs[100];
    memset(longs, '1', sizeof longs - 1);
    longs[sizeof longs - 1] = 0;
    CHECK(!mm_cidr_parse(longs, &c));
}

MM_TEST_MAIN
