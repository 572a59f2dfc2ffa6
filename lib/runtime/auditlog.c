/*
 * auditlog.c - reading Kubernetes audit log files as the API server's log
 * backend writes them: one JSON audit Event (or EventList) a line, files
 * named in order, and optionally following the last one as it grows and
 * is rotated (the API server renames the file to a timestamped backup and
 * starts a new one at the same path; `copytruncate` rotation truncates it
 * in place).  A rotation is seen by the path's inode changing or its size
 * dropping below what was read; the rest of the old file is read first.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mamori/audit.h"
#include "runtime/runtime_int.h"

struct mm_audit_log {
    char **paths;
    size_t n, cur;
    int fd;
    dev_t dev;
    ino_t ino;
    off_t off;
    char *buf;
    size_t len, cap, start;
    size_t lineno;
    bool eof_all;
    bool toolong;              /* discarding the rest of an over-long line */
    mm_audit_log_opts o;
    size_t rotations;
    mm_audit_batch *batch;
    size_t bi;
};

static int open_cur(mm_audit_log *l)
{
    const char *p = l->paths[l->cur];
    l->lineno = 0;
    l->off = 0;
    if (!strcmp(p, "-")) {
        l->fd = STDIN_FILENO;
        return 0;
    }
    l->fd = open(p, O_RDONLY | O_CLOEXEC);
    if (l->fd < 0)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s", p,
                            strerror(errno));
    struct stat st;
    if (fstat(l->fd, &st) == 0) {
        l->dev = st.st_dev;
        l->ino = st.st_ino;
    }
    return 0;
}

int mm_audit_log_open(mm_audit_log **out, const char *const *paths, size_t n,
                      const mm_audit_log_opts *opts)
{
    *out = NULL;
    if (!n)
        return mm_error_set(MM_EINVAL, "no audit log named");
    mm_audit_log *l = mm_xcalloc(1, sizeof *l);
    l->paths = mm_xcalloc(n, sizeof *l->paths);
    for (size_t i = 0; i < n; i++)
        l->paths[i] = mm_xstrdup(paths[i]);
    l->n = n;
    if (opts)
        l->o = *opts;
    if (l->o.poll_ms <= 0)
        l->o.poll_ms = 200;
    l->cap = 65536;
    l->buf = mm_xmalloc(l->cap);
    int rc = open_cur(l);
    if (rc < 0) {
        mm_audit_log_free(l);
        return rc;
    }
    *out = l;
    return 0;
}

static void close_cur(mm_audit_log *l)
{
    if (l->fd > STDIN_FILENO)
        close(l->fd);
    l->fd = -1;
}

/* Has the followed path been rotated away from the open file? */
static bool rotated(mm_audit_log *l)
{
    struct stat st;
    if (stat(l->paths[l->cur], &st) != 0)
        return false;   /* renamed and not yet recreated: wait */
    return st.st_ino != l->ino || st.st_dev != l->dev || st.st_size < l->off;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The next line: 1 with *line and *len set (in the buffer, NUL-terminated),
 * 0 at the end, <0 on error. */
static int get_line(mm_audit_log *l, char **line, size_t *len)
{
    int idle = 0;
    for (;;) {
        char *nl = l->len > l->start ? memchr(l->buf + l->start, '\n', l->len - l->start) : NULL;
        if (nl) {
            size_t s = l->start;
            *nl = 0;
            l->start = (size_t)(nl - l->buf) + 1;
            l->lineno++;
            if (l->toolong) {
                l->toolong = false;
                return mm_error_set(MM_ELIMIT, "%s:%zu: line longer than %u bytes",
                                    l->paths[l->cur], l->lineno, MM_AUDIT_MAX_TEXT);
            }
            *line = l->buf + s;
            *len = (size_t)(nl - l->buf) - s;
            return 1;
        }
        if (l->len - l->start > MM_AUDIT_MAX_TEXT) {
            l->toolong = true;      /* drop what we have, keep looking for its end */
            l->start = l->len = 0;
        }
        if (l->fd < 0) {
            if (l->cur + 1 >= l->n)
                return 0;
            l->cur++;
            int rc = open_cur(l);
            if (rc < 0)
                return rc;
        }
        if (l->start) {
            memmove(l->buf, l->buf + l->start, l->len - l->start);
            l->len -= l->start;
            l->start = 0;
        }
        if (l->cap - l->len < 65536) {
            l->cap *= 2;
            l->buf = mm_xrealloc(l->buf, l->cap + 1);
        }
        ssize_t r = read(l->fd, l->buf + l->len, l->cap - l->len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mm_error_set(MM_EIO, "%s: %s", l->paths[l->cur], strerror(errno));
        if (r > 0) {
            l->len += (size_t)r;
            l->off += r;
            idle = 0;
            continue;
        }
        /* end of this file */
        bool last = l->cur + 1 >= l->n;
        bool follow = last && l->o.follow && l->fd != STDIN_FILENO;
        if (follow && !(l->o.stop && *l->o.stop) &&
            !(l->o.idle_exit_ms > 0 && idle >= l->o.idle_exit_ms)) {
            if (rotated(l)) {
                /* what the old file held is read; its last line may lack
                 * a newline only if the writer died: count it as a line */
                if (l->len > l->start && !l->toolong)
                    l->buf[l->len++] = '\n';
                close_cur(l);
                int rc = open_cur(l);
                if (rc < 0 && rc != MM_ENOTFOUND)
                    return rc;
                if (rc == MM_ENOTFOUND) {
                    l->fd = -1;
                    l->cur = l->n;   /* cannot happen often: stat just saw it */
                    return 0;
                }
                l->rotations++;
                continue;
            }
            sleep_ms(l->o.poll_ms);
            idle += l->o.poll_ms;
            continue;
        }
        if (l->len > l->start) {      /* a last line without newline */
            l->buf[l->len++] = '\n';
            continue;
        }
        close_cur(l);
        if (last)
            return 0;
    }
}

int mm_audit_log_next(mm_audit_log *l, const mm_event **ev)
{
    *ev = NULL;
    for (;;) {
        if (l->batch && l->bi < mm_audit_batch_count(l->batch)) {
            *ev = mm_audit_batch_event(l->batch, l->bi++);
            return 1;
        }
        mm_audit_batch_free(l->batch);
        l->batch = NULL;
        char *line;
        size_t len;
        int rc = get_line(l, &line, &len);
        if (rc <= 0)
            return rc;
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
            i++;
        if (i == len)
            continue;
        rc = mm_audit_batch_parse(&l->batch, line, len);
        if (rc < 0) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", mm_error_last());
            return mm_error_set(rc, "%s:%zu: %s", mm_audit_log_file(l), l->lineno, msg);
        }
        l->bi = 0;
    }
}

const char *mm_audit_log_file(const mm_audit_log *l)
{
    return l->paths[l->cur < l->n ? l->cur : l->n - 1];
}

size_t mm_audit_log_lineno(const mm_audit_log *l)
{
    return l->lineno;
}

size_t mm_audit_log_rotations(const mm_audit_log *l)
{
    return l->rotations;
}

void mm_audit_log_free(mm_audit_log *l)
{
    if (!l)
        return;
    close_cur(l);
    mm_audit_batch_free(l->batch);
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
    free(l->buf);
    free(l);
}
