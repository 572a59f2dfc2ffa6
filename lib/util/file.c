/*
 * file.c - whole-file reads with a cap, private temporary folders and their
 * removal (without following links: a temp folder may hold files named by
 * an image), and time helpers.
 */
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
