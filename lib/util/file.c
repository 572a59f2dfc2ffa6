/*
 * file.c - whole-file reads with a cap, `mkdir -p`, the cache folder
 * (MAMORI_CACHE_DIR, XDG rules).  Temporary folders are in tmp.c.
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

int mm_file_open(const char *path, uint64_t max, int *fd_out, uint64_t *size)
{
    *fd_out = -1;
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
                            path, (long long)st.st_size, (unsigned long long)max);
    }
    *fd_out = fd;
    if (size)
        *size = (uint64_t)st.st_size;
    return 0;
}

int mm_file_read_fd(int fd, const char *path, uint64_t size, char **data, size_t *len)
{
    size_t n = (size_t)size, got = 0;
    char *d = mm_xmalloc(n + 1);
    while (got < n) {
        ssize_t r = read(fd, d + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(d);
            return mm_error_set(MM_EIO, "%s: read failed: %s", path,
                                r < 0 ? strerror(errno) : "short file");
        }
        got += (size_t)r;
    }
    d[n] = 0;
    *data = d;
    *len = n;
    return 0;
}

int mm_file_read(const char *path, uint64_t max, char **data, size_t *len)
{
    int fd;
    uint64_t size;
    int rc = mm_file_open(path, max, &fd, &size);
    if (rc)
        return rc;
    rc = mm_file_read_fd(fd, path, size, data, len);
    close(fd);
    return rc;
}

int mm_mkdir_p(const char *dir, mode_t mode)
{
    if (!dir || !*dir)
        return mm_error_set(MM_EINVAL, "mkdir: no folder named");
    char *d = mm_xstrdup(dir);
    for (char *p = d + 1;; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(d, mode) != 0 && errno != EEXIST) {
                int rc = mm_error_set(MM_EIO, "%s: cannot create: %s", d, strerror(errno));
                free(d);
                return rc;
            }
            if (!c)
                break;
            *p = c;
        }
    }
    /* the last component exists: it must be a folder */
    struct stat st;
    int rc = 0;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))
        rc = mm_error_set(MM_EIO, "%s: cannot create: not a folder", d);
    free(d);
    return rc;
}

int mm_mkdir_parents(const char *file, mode_t mode)
{
    size_t n = mm_path_dirlen(file);
    if (n == 0)
        return 0;
    char *dir = mm_xstrndup(file, n);
    int rc = mm_mkdir_p(dir, mode);
    free(dir);
    return rc;
}

char *mm_cache_path(const char *name)
{
    const char *v = getenv("MAMORI_CACHE_DIR");
    if (v && *v)
        return mm_xasprintf("%s/%s", v, name);
    v = getenv("XDG_CACHE_HOME");
    if (v && *v)
        return mm_xasprintf("%s/mamori/%s", v, name);
    v = getenv("HOME");
    if (v && *v)
        return mm_xasprintf("%s/.cache/mamori/%s", v, name);
    mm_error_set(MM_ENOTFOUND, "no cache folder: set MAMORI_CACHE_DIR, XDG_CACHE_HOME or HOME");
    return NULL;
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
