/*
 * file.c - whole-file reads with a cap, private temporary folders and their
 * removal (without following links: a temp folder may hold files named by
 * an image), and time helpers.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

int mm_file_read(const char *path, uint64_t max, char **data, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO,
                            "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return mm_error_set(MM_EIO, "%s: not a regular file", path);
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return mm_error_set(MM_ELIMIT, "%s: %lld bytes exceeds the limit of %llu",
                            path, (long long)st.st_size,
                            (unsigned long long)max);
    }
    size_t n = (size_t)st.st_size, got = 0;
    char *d = mm_xmalloc(n + 1);
    while (got < n) {
        ssize_t r = read(fd, d + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(d);
            close(fd);
            return mm_error_set(MM_EIO, "%s: read failed: %s", path,
                                r < 0 ? strerror(errno) : "short file");
        }
        got += (size_t)r;
    }
    close(fd);
    d[n] = 0;
    *data = d;
    *len = n;
    return 0;
}

int mm_tmpdir_create(char **out, const char *parent)
{
    if (!parent || !*parent)
        parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    char *t = mm_xasprintf("%s/mamori.XXXXXX", parent);
    if (!mkdtemp(t)) {
        int e = errno;
        free(t);
        return mm_error_set(MM_EIO, "cannot create a temporary folder in %s: %s",
                            parent, strerror(e));
    }
    *out = t;
    return 0;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(p);
    return 0;
}

int mm_tmpdir_remove(const char *path)
{
    if (!path)
        return 0;
    /* FTW_PHYS: never follow symlinks; FTW_DEPTH: children first */
    if (nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS) != 0)
        return mm_error_set(MM_EIO, "cannot remove %s", path);
    return 0;
}

double mm_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mm_time_rfc3339(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *mm_file_read_proc(const char *path, size_t max, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, n = 0;
    char *d = mm_xmalloc(cap + 1);
    for (;;) {
        ssize_t r = read(fd, d + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            if (cap >= max)
                break;
            cap *= 2;
            d = mm_xrealloc(d, cap + 1);
        }
    }
    close(fd);
    d[n] = 0;
    if (len)
        *len = n;
    return d;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

int mm_time_parse_rfc3339(const char *s, int64_t *out)
{
    int Y, M, D, h, m, sec, oh = 0, om = 0;
    if (!s || strlen(s) < 20 || !digits(s, 4, &Y) || s[4] != '-' ||
        !digits(s + 5, 2, &M) || s[7] != '-' || !digits(s + 8, 2, &D) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &m) ||
        s[16] != ':' || !digits(s + 17, 2, &sec))
        return mm_error_set(MM_EFORMAT, "time \"%.40s\": not RFC 3339", s ? s : "");
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        size_t n = strspn(p, "0123456789");
        if (n == 0)
            return mm_error_set(MM_EFORMAT, "time \"%.40s\": empty fraction", s);
        p += n;
    }
    int sign = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '+' ? 1 : -1;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om))
            return mm_error_set(MM_EFORMAT, "time \"%.40s\": bad offset", s);
        p += 6;
    } else {
        return mm_error_set(MM_EFORMAT, "time \"%.40s\": no time zone", s);
    }
    if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 ||
        sec > 60 || oh > 23 || om > 59)
        return mm_error_set(MM_EFORMAT, "time \"%.40s\": out of range", s);
    struct tm tm = {0};
    tm.tm_year = Y - 1900;
    tm.tm_mon = M - 1;
    tm.tm_mday = D;
    tm.tm_hour = h;
    tm.tm_min = m;
    tm.tm_sec = sec;
    int64_t t = (int64_t)timegm(&tm);
    *out = t - sign * (int64_t)(oh * 3600 + om * 60);
    return 0;
}
