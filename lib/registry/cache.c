/*
 * cache.c - the blob cache: verified registry blobs kept by digest so that
 * a rescan of shared base layers makes no request.  Layout:
 * DIR/sha256/<hex> (complete, verified blobs only) and DIR/tmp/ (blobs
 * being streamed; renamed into place after their digest matched, so a
 * reader never sees a partial file).  The file mtime records the last use;
 * beyond the size limit the least recently used blobs go first.  Several
 * mamori processes may share a cache: rename is atomic, and a blob
 * removed under a reader stays readable through its open descriptor.
 */
#include <dirent.h>
#include <stdio.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "registry/regint.h"

#define STALE_TMP_SECONDS (24 * 3600)

struct mm_blobcache {
    char *dir;
    uint64_t max;
};

char *mm_blobcache_default_dir(void)
{
    return mm_cache_path("blobs");
}

static int mkdirs(const char *path)
{
    int rc = mm_mkdir_p(path, 0700);
    return rc ? mm_error_wrap(rc, "blob cache ") : 0;
}

int mm_blobcache_open(mm_blobcache **out, const char *dir, uint64_t max)
{
    *out = NULL;
    char *a = mm_xasprintf("%s/sha256", dir), *b = mm_xasprintf("%s/tmp", dir);
    int rc = mkdirs(a);
    if (rc == 0)
        rc = mkdirs(b);
    free(a);
    free(b);
    if (rc < 0)
        return rc;
    mm_blobcache *bc = mm_xcalloc(1, sizeof *bc);
    bc->dir = mm_xstrdup(dir);
    bc->max = max;
    *out = bc;
    return 0;
}

void mm_blobcache_free(mm_blobcache *bc)
{
    if (!bc)
        return;
    free(bc->dir);
    free(bc);
}

static char *blob_path(const mm_blobcache *bc, const char *digest)
{
    return mm_xasprintf("%s/sha256/%s", bc->dir, digest + 7);
}

int mm_blobcache_lookup(mm_blobcache *bc, const char *digest, uint64_t *size)
{
    if (!bc || !mm_digest_valid(digest))
        return -1;
    char *p = blob_path(bc, digest);
    int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    free(p);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return -1;
    }
    /* the mtime is the last use, for eviction */
    futimens(fd, NULL);
    *size = (uint64_t)sb.st_size;
    return fd;
}

int mm_blobcache_begin(mm_blobcache *bc, char **tmp)
{
    char *t = mm_xasprintf("%s/tmp/blob.XXXXXX", bc->dir);
    int fd = mkostemp(t, O_CLOEXEC);
    if (fd < 0) {
        int rc = mm_error_set(MM_EIO, "blob cache %s: cannot create a temp file: %s",
                              bc->dir, strerror(errno));
        free(t);
        return rc;
    }
    *tmp = t;
    return fd;
}

int mm_blobcache_commit(mm_blobcache *bc, const char *tmp, const char *digest)
{
    if (!mm_digest_valid(digest)) {
        unlink(tmp);
        return mm_error_set(MM_EINVAL, "blob cache: not a sha256 digest");
    }
    char *p = blob_path(bc, digest);
    int rc = 0;
    if (rename(tmp, p) != 0) {
        rc = mm_error_set(MM_EIO, "blob cache %s: %s", p, strerror(errno));
        unlink(tmp);
    }
    free(p);
    if (rc == 0 && bc->max)
        rc = mm_blobcache_evict(bc, bc->max);
    return rc;
}

void mm_blobcache_remove(mm_blobcache *bc, const char *digest)
{
    if (!bc || !mm_digest_valid(digest))
        return;
    char *p = blob_path(bc, digest);
    unlink(p);
    free(p);
}

struct ent {
    char *name;
    uint64_t size;
    struct timespec mtime;
};

static int by_age(const void *a, const void *b)
{
    const struct ent *x = a, *y = b;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    if (x->mtime.tv_nsec != y->mtime.tv_nsec)
        return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int list(mm_blobcache *bc, struct ent **out, size_t *n, uint64_t *total)
{
    char *d = mm_xasprintf("%s/sha256", bc->dir);
    DIR *dir = opendir(d);
    *out = NULL;
    *n = 0;
    *total = 0;
    if (!dir) {
        int rc = errno == ENOENT ? 0 : mm_error_set(MM_EIO, "blob cache %s: %s", d,
                                                    strerror(errno));
        free(d);
        return rc;
    }
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (de->d_name[0] == '.')
            continue;
        struct stat sb;
        if (fstatat(dirfd(dir), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(sb.st_mode))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            *out = mm_xrealloc(*out, cap * sizeof **out);
        }
        (*out)[*n].name = mm_xstrdup(de->d_name);
        (*out)[*n].size = (uint64_t)sb.st_size;
        (*out)[*n].mtime = sb.st_mtim;
        *total += (uint64_t)sb.st_size;
        (*n)++;
    }
    closedir(dir);
    free(d);
    return 0;
}

/* Temp files of crashed runs: removed once a day old. */
static void sweep_tmp(mm_blobcache *bc)
{
    char *d = mm_xasprintf("%s/tmp", bc->dir);
    DIR *dir = opendir(d);
    free(d);
    if (!dir)
        return;
    time_t now = time(NULL);
    struct dirent *de;
    while ((de = readdir(dir))) {
        struct stat sb;
        if (de->d_name[0] == '.' ||
            fstatat(dirfd(dir), de->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if (now - sb.st_mtime > STALE_TMP_SECONDS)
            unlinkat(dirfd(dir), de->d_name, 0);
    }
    closedir(dir);
}

int mm_blobcache_evict(mm_blobcache *bc, uint64_t max)
{
    struct ent *v;
    size_t n;
    uint64_t total;
    int rc = list(bc, &v, &n, &total);
    if (rc < 0)
        return rc;
    if (total > max) {
        qsort(v, n, sizeof *v, by_age);
        for (size_t i = 0; i < n && total > max; i++) {
            char *p = mm_xasprintf("%s/sha256/%s", bc->dir, v[i].name);
            if (unlink(p) == 0 || errno == ENOENT)
                total -= v[i].size;
            free(p);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    sweep_tmp(bc);
    return 0;
}

uint64_t mm_blobcache_size(mm_blobcache *bc)
{
    struct ent *v;
    size_t n;
    uint64_t total = 0;
    if (list(bc, &v, &n, &total) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
    return total;
}
