/*
 * tmp.c - private temporary folders and files that do not outlive their
 * process: removed by their owner on every exit path, removed on SIGINT,
 * SIGTERM and SIGHUP once the program called mm_cleanup_on_signals(), and
 * - after a SIGKILL or a crash - removed by the next mamori that makes one
 * in the same place.
 *
 * "Stale" is decided by a lock, not by age: each folder holds a `.lock`
 * file and each temp file is itself locked (flock, exclusive) for the life
 * of the process that made it.  The kernel drops the lock when that process
 * dies, however it dies, so a lock that can be taken means nobody owns the
 * thing any more.  A folder or file is locked before it gets the name the
 * cleaner looks for (the lock is taken under a name the cleaner skips and
 * renamed), so a fresh one is never taken for stale.
 *
 * The table of live paths below is the library's one piece of process-wide
 * state: a signal handler can reach nothing else.  The handler removes the
 * paths with async-signal-safe system calls only (openat, getdents64,
 * unlinkat), then lets the signal take its default course.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/util.h"

#define TMP_SLOTS 32
#define TMP_DIR_PREFIX "mamori."
#define LOCK_NAME ".lock"
#define LOCK_NEW ".lock-new"
#define NEW_SUFFIX ".new"

struct slot {
    volatile sig_atomic_t used;
    int lockfd;
    bool dir;
    char path[PATH_MAX];
};

static struct slot slots[TMP_SLOTS];
static pthread_mutex_t slots_mu = PTHREAD_MUTEX_INITIALIZER;

static void slot_add(const char *path, int lockfd, bool dir)
{
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < TMP_SLOTS; i++) {
        if (slots[i].used)
            continue;
        snprintf(slots[i].path, sizeof slots[i].path, "%s", path);
        slots[i].lockfd = lockfd;
        slots[i].dir = dir;
        __atomic_thread_fence(__ATOMIC_RELEASE);   /* the path before the flag */
        slots[i].used = 1;
        pthread_mutex_unlock(&slots_mu);
        return;
    }
    pthread_mutex_unlock(&slots_mu);
    /* more than TMP_SLOTS at once: the lock still protects it, and the
     * next run removes it if a signal leaves it behind */
    (void)lockfd;
}

/* Forgets path; returns its lock descriptor (-1 when not listed). */
static int slot_del(const char *path)
{
    int fd = -1;
    pthread_mutex_lock(&slots_mu);
    for (int i = 0; i < TMP_SLOTS; i++) {
        if (slots[i].used && !strcmp(slots[i].path, path)) {
            slots[i].used = 0;
            fd = slots[i].lockfd;
            break;
        }
    }
    pthread_mutex_unlock(&slots_mu);
    return fd;
}

/* --- removal with async-signal-safe calls only ------------------------------ */

struct ldirent {
    unsigned long long d_ino;
    long long d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static void rm_at(int pfd, const char *name, int depth)
{
    if (unlinkat(pfd, name, 0) == 0 || (errno != EISDIR && errno != EPERM))
        return;
    if (depth > 48)
        return;
    int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return;
    char buf[2048];
    for (int pass = 0; pass < 1000; pass++) {
        bool any = false;
        lseek(fd, 0, SEEK_SET);
        long n;
        while ((n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0) {
            for (long off = 0; off < n;) {
                struct ldirent *d = (struct ldirent *)(buf + off);
                off += d->d_reclen;
                if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
                    continue;
                rm_at(fd, d->d_name, depth + 1);
                any = true;
            }
        }
        if (!any)
            break;
    }
    close(fd);
    unlinkat(pfd, name, AT_REMOVEDIR);
}

static void rm_path(const char *path)
{
    rm_at(AT_FDCWD, path, 0);
}

static void on_signal(int sig)
{
    for (int i = 0; i < TMP_SLOTS; i++)
        if (slots[i].used)
            rm_path(slots[i].path);
    signal(sig, SIG_DFL);
    raise(sig);
}

void mm_cleanup_on_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

/* --- stale ones ------------------------------------------------------------ */

/* Is the lock at fd free (its owner gone)?  Takes it when so. */
static bool lock_free(int fd)
{
    return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st; (void)flag; (void)ftw;
    remove(p);
    return 0;
}

static int rm_tree(const char *path)
{
    /* FTW_PHYS: never follow symlinks; FTW_DEPTH: children first */
    return nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

int mm_tmp_clean_stale(const char *dir, const char *prefix, bool dirs)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int removed = 0;
    size_t pl = strlen(prefix);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, pl) || mm_str_endswith(e->d_name, NEW_SUFFIX))
            continue;
        char *p = mm_xasprintf("%s/%s", dir, e->d_name);
        char *lp = dirs ? mm_xasprintf("%s/" LOCK_NAME, p) : mm_xstrdup(p);
        struct stat st;
        int fd = -1;
        if (lstat(p, &st) == 0 && (dirs ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)))
            fd = open(lp, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (lock_free(fd)) {
            if (dirs ? rm_tree(p) == 0 : unlink(p) == 0)
                removed++;
        }
        if (fd >= 0)
            close(fd);
        free(lp);
        free(p);
    }
    closedir(d);
    return removed;
}

/* --- folders ---------------------------------------------------------------- */

int mm_tmpdir_create(char **out, const char *parent)
{
    if (!parent || !*parent)
        parent = getenv("TMPDIR");
    if (!parent || !*parent)
        parent = "/tmp";
    mm_tmp_clean_stale(parent, TMP_DIR_PREFIX, true);
    char *t = mm_xasprintf("%s/" TMP_DIR_PREFIX "XXXXXX", parent);
    if (!mkdtemp(t)) {
        int e = errno;
        free(t);
        return mm_error_set(MM_EIO, "cannot create a temporary folder in %s: %s",
                            parent, strerror(e));
    }
    char *ln = mm_xasprintf("%s/" LOCK_NEW, t), *lk = mm_xasprintf("%s/" LOCK_NAME, t);
    int fd = open(ln, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) != 0 || rename(ln, lk) != 0) {
        int rc = mm_error_set(MM_EIO, "%s: cannot lock the temporary folder: %s", t,
                              strerror(errno));
        if (fd >= 0)
            close(fd);
        rm_tree(t);
        free(ln);
        free(lk);
        free(t);
        return rc;
    }
    free(ln);
    free(lk);
    slot_add(t, fd, true);
    *out = t;
    return 0;
}

int mm_tmpdir_remove(const char *path)
{
    if (!path)
        return 0;
    int fd = slot_del(path);
    int rc = rm_tree(path) != 0 ? mm_error_set(MM_EIO, "cannot remove %s", path) : 0;
    if (fd >= 0)
        close(fd);
    return rc;
}

/* --- files ------------------------------------------------------------------ */

int mm_tmpfile_create(char **out, const char *prefix)
{
    *out = NULL;
    size_t dl = mm_path_dirlen(prefix);
    char *dir = dl ? mm_xstrndup(prefix, dl) : mm_xstrdup(".");
    mm_tmp_clean_stale(dir, prefix + (dl ? dl + 1 : 0), false);
    free(dir);
    char *t = mm_xasprintf("%sXXXXXX" NEW_SUFFIX, prefix);
    int fd = mkstemps(t, (int)strlen(NEW_SUFFIX));
    if (fd < 0) {
        int e = errno;
        free(t);
        return mm_error_set(MM_EIO, "%s: cannot create a temp file: %s", prefix, strerror(e));
    }
    char *final = mm_xstrndup(t, strlen(t) - strlen(NEW_SUFFIX));
    if (flock(fd, LOCK_EX) != 0 || rename(t, final) != 0) {
        int e = errno;
        int rc = mm_error_set(MM_EIO, "%s: cannot lock a temp file: %s", final, strerror(e));
        close(fd);
        unlink(t);
        free(t);
        free(final);
        return rc;
    }
    free(t);
    slot_add(final, fd, false);
    *out = final;
    return 0;
}

void mm_tmpfile_release(const char *path, bool remove_it)
{
    if (!path)
        return;
    int fd = slot_del(path);
    if (remove_it)
        unlink(path);
    if (fd >= 0)
        close(fd);
}
