/*
 * capture.c - forensic captures: the writer behind `mamori agent --capture`
 * (JSON lines, zstd frames, size-capped rotation) and the reader behind
 * `mamori runtime replay` (plain or zstd by magic, rotated sets in order,
 * capped lines and total size; capture_read.c).  include/mamori/capture.h
 * is the contract, docs/capture.md the user's view.
 *
 * Why one zstd frame per flush rather than one frame per file: a frame that
 * is ended is complete and checksummed on disk, so after a crash (or while
 * the agent still runs) everything up to the last flush reads back cleanly,
 * and a follower never sees half a frame except at the very end.
 *
 * Why a per-file memory of processes: a full line repeats the process and
 * up to 8 ancestors (several KiB for deep trees), which was most of the
 * capture's CPU and size.  The replay reader keeps, per pid, the last
 * description and ancestor chain a line gave (lib/runtime/replay.c), so the
 * writer leaves out a part whose content (SHA-256 of exactly what it would
 * write) equals what it last wrote for that pid in this file, and forgets a
 * pid whenever a line makes the reader change or drop its record (exit,
 * clone of that pid, execve flags, chdir, set*id).  Forgetting is always
 * safe; it only costs bytes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <zstd.h>

#include "mamori/capture.h"
#include "mamori/rules.h"
#include "util/util.h"

#define DEF_MAX_SIZE (64ull << 20)
#define MIN_MAX_SIZE 4096ull
#define DEF_KEEP 5u
#define MAX_KEEP 100000u
#define DEF_FLUSH_EVENTS 4096u
#define DEF_FLUSH_MS 1000u
#define MAX_KNOWN_PROCS 8192u  /* pids remembered per file; then forget all */

/* What this file already gave the reader for one pid. */
typedef struct known_proc {
    mm_event_json_digest dg;
    bool proc_ok;          /* dg.proc is what the reader's record holds */
} known_proc;

/* ---- writer ------------------------------------------------------------------ */

struct mm_capture {
    char *path;
    mm_capture_opts o;
    int fd;
    ZSTD_CCtx *cc;
    mm_buf out;            /* compressed (or plain) bytes not yet written */
    uint64_t file_bytes;   /* bytes written to the current file */
    uint64_t pending_in;   /* uncompressed bytes since the last frame end */
    unsigned pending_events;
    double first_pending;  /* mm_now() of the oldest unflushed event */
    uint64_t flushed_in, flushed_out; /* for the compression ratio estimate */
    mm_capture_stats st;
    int err;               /* sticky first error */
    mm_map *known;         /* "pid" -> known_proc*, for the current file */
};

static void known_reset(mm_capture *c)
{
    if (c->known && !mm_map_count(c->known))
        return;
    mm_map_free(c->known, free);
    c->known = mm_map_new();
}

static void known_forget(mm_capture *c, int64_t pid)
{
    char k[24];
    snprintf(k, sizeof k, "%lld", (long long)pid);
    free(mm_map_del(c->known, k));
}

/* A failure of the capture: the message set, the first code kept. */
static int cap_err(mm_capture *c, int code)
{
    if (!c->err)
        c->err = code;
    return code;
}
#define cap_fail(c, code, ...) cap_err(c, mm_error_set(code, __VA_ARGS__))

static char *member(const char *path, unsigned i)
{
    return i ? mm_xasprintf("%s.%u", path, i) : mm_xstrdup(path);
}

static bool exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

static int write_all(mm_capture *c, const void *d, size_t n)
{
    const char *p = d;
    while (n) {
        ssize_t w = write(c->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return cap_fail(c, MM_EIO, "%s: write: %s", c->path, strerror(errno));
        }
        p += w;
        n -= (size_t)w;
        c->file_bytes += (uint64_t)w;
        c->st.bytes_out += (uint64_t)w;
    }
    return 0;
}

static int drain(mm_capture *c)
{
    if (!c->out.len)
        return 0;
    int rc = write_all(c, c->out.data, c->out.len);
    mm_buf_clear(&c->out);
    return rc;
}

/* Runs the compressor over in (may be empty) with the directive. */
static int compress(mm_capture *c, const char *data, size_t len, ZSTD_EndDirective how)
{
    ZSTD_inBuffer in = {data, len, 0};
    size_t chunk = ZSTD_CStreamOutSize();
    for (;;) {
        if (mm_buf_reserve(&c->out, chunk))
            return cap_fail(c, MM_ELIMIT, "%s: output buffer over its cap", c->path);
        ZSTD_outBuffer ob = {c->out.data + c->out.len, chunk, 0};
        size_t r = ZSTD_compressStream2(c->cc, &ob, &in, how);
        if (ZSTD_isError(r))
            return cap_fail(c, MM_EIO, "%s: zstd: %s", c->path, ZSTD_getErrorName(r));
        c->out.len += ob.pos;
        c->out.data[c->out.len] = 0;
        bool done = how == ZSTD_e_continue ? in.pos == in.size : r == 0;
        if (done)
            break;
    }
    /* keep the user-space buffer small: what zstd emitted goes out now */
    return drain(c);
}

static int open_current(mm_capture *c)
{
    c->fd = open(c->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (c->fd < 0)
        return cap_fail(c, MM_EIO, "%s: cannot create: %s", c->path, strerror(errno));
    c->file_bytes = 0;
    return 0;
}

/* FILE -> FILE.1 -> ... ; the member beyond keep-1 is removed. */
static int shift_members(mm_capture *c)
{
    unsigned keep = c->o.keep;
    char *last = member(c->path, keep - 1);
    if (keep == 1 || exists(last)) {
        if (unlink(last) == 0)
            c->st.removed++;
        else if (errno != ENOENT) {
            int e = errno;
            free(last);
            return cap_fail(c, MM_EIO, "%s.%u: cannot remove: %s", c->path, keep - 1, strerror(e));
        }
    }
    free(last);
    for (unsigned i = keep - 1; i >= 1; i--) {
        char *from = member(c->path, i - 1), *to = member(c->path, i);
        int rc = 0;
        if (rename(from, to) != 0 && errno != ENOENT)
            rc = cap_fail(c, MM_EIO, "%s: cannot rename to %s: %s", from, to, strerror(errno));
        free(from);
        free(to);
        if (rc)
            return rc;
    }
    return 0;
}

/* Members beyond keep left by an earlier run (with a larger keep): any
 * FILE.N in the directory with N >= keep, gaps or not. */
static void remove_stale(mm_capture *c)
{
    const char *slash = strrchr(c->path, '/');
    char *dir = slash ? mm_xstrndup(c->path, (size_t)(slash - c->path) + 1) : mm_xstrdup(".");
    const char *base = slash ? slash + 1 : c->path;
    size_t bl = strlen(base);
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            const char *n = de->d_name;
            if (strncmp(n, base, bl) || n[bl] != '.' || !n[bl + 1] ||
                strspn(n + bl + 1, "0123456789") != strlen(n + bl + 1) || strlen(n + bl + 1) > 9)
                continue;
            unsigned long k = strtoul(n + bl + 1, NULL, 10);
            if (k < c->o.keep)
                continue;
            char *p = mm_xasprintf("%s%s", slash ? dir : "", n);
            if (unlink(p) == 0)
                c->st.removed++;
            free(p);
        }
        closedir(d);
    }
    free(dir);
}

int mm_capture_flush(mm_capture *c)
{
    if (c->err)
        return c->err;
    if (c->pending_in || c->pending_events) {
        if (c->cc) {
            int rc = compress(c, NULL, 0, ZSTD_e_end);
            if (rc)
                return rc;
        } else {
            int rc = drain(c);
            if (rc)
                return rc;
        }
        c->st.frames++;
    }
    c->flushed_in += c->pending_in;
    c->pending_in = 0;
    c->pending_events = 0;
    c->flushed_out = c->st.bytes_out;
    return 0;
}

static int rotate(mm_capture *c)
{
    int rc = mm_capture_flush(c);
    if (rc)
        return rc;
    if (close(c->fd) != 0) {
        c->fd = -1;
        return cap_fail(c, MM_EIO, "%s: close: %s", c->path, strerror(errno));
    }
    c->fd = -1;
    if ((rc = shift_members(c)))
        return rc;
    c->st.rotations++;
    /* each file replays on its own: the next one describes every process anew */
    known_reset(c);
    return open_current(c);
}

int mm_capture_open(mm_capture **out, const char *path, const mm_capture_opts *opts)
{
    *out = NULL;
    mm_capture *c = mm_xcalloc(1, sizeof *c);
    c->fd = -1;
    c->path = mm_xstrdup(path);
    if (opts)
        c->o = *opts;
    if (!c->o.max_size)
        c->o.max_size = DEF_MAX_SIZE;
    if (c->o.max_size < MIN_MAX_SIZE)
        c->o.max_size = MIN_MAX_SIZE;
    if (!c->o.keep)
        c->o.keep = DEF_KEEP;
    if (c->o.keep > MAX_KEEP)
        c->o.keep = MAX_KEEP;
    known_reset(c);
    if (!c->o.flush_events)
        c->o.flush_events = DEF_FLUSH_EVENTS;
    if (!c->o.flush_ms)
        c->o.flush_ms = DEF_FLUSH_MS;
    if (!c->o.level)
        c->o.level = 3;
    if (!c->o.plain) {
        c->cc = ZSTD_createCCtx();
        if (!c->cc) {
            mm_capture_close(c);
            return mm_error_set(MM_ENOMEM, "%s: zstd: cannot create a context", path);
        }
        ZSTD_CCtx_setParameter(c->cc, ZSTD_c_compressionLevel, c->o.level);
        ZSTD_CCtx_setParameter(c->cc, ZSTD_c_checksumFlag, 1);
    }
    struct stat st;
    int rc = 0;
    if (lstat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode))
            rc = mm_error_set(MM_EUNSAFE, "%s: exists and is not a regular file", path);
        else if (st.st_size > 0 && (rc = shift_members(c)) == 0)
            c->st.rotations++;
    }
    if (!rc) {
        remove_stale(c);
        rc = open_current(c);
    }
    if (rc) {
        c->err = 0;
        mm_capture_close(c);
        return rc;
    }
    *out = c;
    return 0;
}

/* The bytes `in` uncompressed bytes are likely to take on disk. */
static double est(const mm_capture *c, uint64_t in)
{
    if (!c->cc)
        return (double)in;
    double ratio = c->flushed_in > 4096 ? (double)c->flushed_out / (double)c->flushed_in : 0.5;
    if (ratio > 1.1)
        ratio = 1.1;
    return (double)in * ratio;
}

/* Flushes and rotates as needed so that a line of len bytes fits. */
static int make_room(mm_capture *c, size_t len)
{
    int rc;
    uint64_t need = c->pending_in + len + 1;
    if ((c->file_bytes || c->pending_in) &&
        (double)c->file_bytes + est(c, need) + 32 > (double)c->o.max_size) {
        /* the cap is near: make the file size exact, then decide */
        if ((rc = mm_capture_flush(c)))
            return rc;
        if (c->file_bytes && ((double)c->file_bytes + est(c, len + 1) + 32 > (double)c->o.max_size ||
                              c->file_bytes >= c->o.max_size - c->o.max_size / 16) &&
            (rc = rotate(c)))
            return rc;
    }
    return 0;
}

static int append(mm_capture *c, const char *line, size_t len)
{
    int rc;
    if (!c->pending_events)
        c->first_pending = mm_now();
    if (c->cc) {
        if ((rc = compress(c, line, len, ZSTD_e_continue)) || (rc = compress(c, "\n", 1, ZSTD_e_continue)))
            return rc;
    } else {
        mm_buf_add(&c->out, line, len);
        mm_buf_addc(&c->out, '\n');
    }
    c->pending_in += len + 1;
    c->pending_events++;
    c->st.events++;
    c->st.bytes_in += len + 1;
    if (c->pending_events >= c->o.flush_events)
        return mm_capture_flush(c);
    return mm_capture_tick(c);
}

int mm_capture_write_line(mm_capture *c, const char *line, size_t len)
{
    if (c->err)
        return c->err;
    if (len > MM_CAPTURE_MAX_LINE || memchr(line, '\n', len)) {
        c->st.oversize++;
        return 0;
    }
    int rc = make_room(c, len);
    return rc ? rc : append(c, line, len);
}

/* Event types after whose line the reader's record of the process no longer
 * holds what the line described: mm_proctab_apply() and the reader set
 * cwd, uid/gid or the exe flags from the event itself. */
static bool reader_changes_proc(const mm_event *ev)
{
    switch (ev->type) {
    case MM_EVT_EXECVE: case MM_EVT_EXECVEAT: case MM_EVT_CHDIR: case MM_EVT_FCHDIR:
    case MM_EVT_SETUID: case MM_EVT_SETGID: case MM_EVT_SETREUID: case MM_EVT_SETREGID:
    case MM_EVT_SETRESUID: case MM_EVT_SETRESGID: case MM_EVT_SETFSUID: case MM_EVT_SETFSGID:
    case MM_EVT_CAPSET:
        return true;
    default:
        return false;
    }
}

static bool is_clone(mm_evt_type t)
{
    return t == MM_EVT_CLONE || t == MM_EVT_CLONE3 || t == MM_EVT_FORK || t == MM_EVT_VFORK;
}

int mm_capture_write(mm_capture *c, const mm_event *ev)
{
    if (c->err)
        return c->err;
    const mm_proc *p = ev->proc;
    /* pid <= 0: the reader makes a throw-away record per line */
    bool dedup = !c->o.full_lines && p && p->pid > 0;
    mm_event_json_digest dg;
    char key[24];
    unsigned flags = 0;
    known_proc *kp = NULL;
    if (dedup) {
        mm_event_json_digest_compute(&dg, ev);
        snprintf(key, sizeof key, "%lld", (long long)p->pid);
        kp = mm_map_get(c->known, key);
        if (kp && kp->proc_ok && !memcmp(kp->dg.proc, dg.proc, sizeof dg.proc))
            flags |= MM_EVJ_NO_PROC;
        if (kp && !memcmp(kp->dg.anc, dg.anc, sizeof dg.anc))
            flags |= MM_EVJ_NO_ANCESTORS;
    }
    char *line = mm_event_to_json_flags(ev, flags);
    if (!line)
        return 0;
    size_t len = strlen(line);
    if (len > MM_CAPTURE_MAX_LINE) {
        free(line);
        c->st.oversize++;
        return 0;   /* the reader never sees it: remember nothing */
    }
    uint64_t rot = c->st.rotations;
    int rc = make_room(c, len);
    if (!rc && flags && c->st.rotations != rot) {
        /* the line goes to a new file, which must describe the process */
        free(line);
        flags = 0;
        line = mm_event_to_json_flags(ev, 0);
        len = line ? strlen(line) : 0;
        if (!line || len > MM_CAPTURE_MAX_LINE) {
            free(line);
            c->st.oversize++;
            return 0;
        }
    }
    if (!rc)
        rc = append(c, line, len);
    free(line);
    if (rc || !dedup)
        return rc;
    if (flags & MM_EVJ_NO_PROC)
        c->st.proc_omitted++;
    if (flags & MM_EVJ_NO_ANCESTORS)
        c->st.anc_omitted++;
    if (ev->type == MM_EVT_PROCEXIT) {
        known_forget(c, p->pid);   /* the reader drops its record */
    } else {
        kp = mm_map_get(c->known, key);
        if (!kp) {
            if (mm_map_count(c->known) >= MAX_KNOWN_PROCS)
                known_reset(c);
            kp = mm_xcalloc(1, sizeof *kp);
            mm_map_put(c->known, key, kp);
        }
        kp->dg = dg;
        kp->proc_ok = !reader_changes_proc(ev);
    }
    /* the reader creates or re-links the child's record from this line */
    if (is_clone(ev->type) && ev->res > 0 && ev->res != p->pid)
        known_forget(c, ev->res);
    return 0;
}

int mm_capture_tick(mm_capture *c)
{
    if (c->err)
        return c->err;
    if (c->pending_events && (mm_now() - c->first_pending) * 1000.0 >= (double)c->o.flush_ms)
        return mm_capture_flush(c);
    return 0;
}

void mm_capture_stats_get(const mm_capture *c, mm_capture_stats *out)
{
    *out = c->st;
}

int mm_capture_close(mm_capture *c)
{
    if (!c)
        return 0;
    int rc = c->err;
    if (!rc && c->fd >= 0)
        rc = mm_capture_flush(c);
    if (c->fd >= 0 && close(c->fd) != 0 && !rc)
        rc = mm_error_set(MM_EIO, "%s: close: %s", c->path, strerror(errno));
    ZSTD_freeCCtx(c->cc);
    mm_map_free(c->known, free);
    mm_buf_free(&c->out);
    free(c->path);
    free(c);
    return rc;
}

/* ---- the files of a rotated set ---------------------------------------------- */

/* "P.N" -> base length and N; false when p does not end in ".digits". */
static bool split_member(const char *p, size_t *blen, unsigned long *n)
{
    size_t l = strlen(p), i = l;
    while (i > 0 && p[i - 1] >= '0' && p[i - 1] <= '9')
        i--;
    if (i == l || i < 2 || p[i - 1] != '.' || l - i > 6)
        return false;
    *blen = i - 1;
    *n = strtoul(p + i, NULL, 10);
    return *n > 0;
}

typedef struct fent {
    char *path;
    size_t group;          /* index of the set's first appearance */
    unsigned long idx;     /* rotation number, 0 = the current file */
    size_t order;
} fent;

static int fent_cmp(const void *a, const void *b)
{
    const fent *x = a, *y = b;
    if (x->group != y->group)
        return x->group < y->group ? -1 : 1;
    if (x->idx != y->idx)
        return x->idx > y->idx ? -1 : 1;   /* oldest (highest number) first */
    return x->order < y->order ? -1 : x->order > y->order;
}

void mm_capture_files_free(char **v, size_t n)
{
    mm_strv_free(v, n);
}

int mm_capture_files(char ***out, size_t *n, const char *const *paths, size_t npaths)
{
    *out = NULL;
    *n = 0;
    if (npaths > 100000)
        return mm_error_set(MM_ELIMIT, "capture: too many files (%zu)", npaths);
    /* candidates: the given paths, plus P.1.. of each base given alone */
    char **cand = NULL;
    size_t ncand = 0;
    for (size_t i = 0; i < npaths; i++) {
        size_t bl;
        unsigned long k;
        mm_strv_push(&cand, &ncand, paths[i]);
        if (!strcmp(paths[i], "-") || split_member(paths[i], &bl, &k))
            continue;
        for (unsigned j = 1; j <= MAX_KEEP; j++) {
            char *m = member(paths[i], j);
            bool ok = exists(m);
            if (ok)
                mm_strv_push(&cand, &ncand, m);
            free(m);
            if (!ok)
                break;
        }
    }
    fent *e = mm_xcalloc(ncand ? ncand : 1, sizeof *e);
    mm_map *groups = mm_map_new();   /* base -> group number + 1 */
    mm_map *seen = mm_map_new();
    size_t ne = 0;
    for (size_t i = 0; i < ncand; i++) {
        if (mm_map_get(seen, cand[i]))
            continue;
        mm_map_put(seen, cand[i], (void *)1);
        size_t bl = strlen(cand[i]);
        unsigned long k = 0;
        if (strcmp(cand[i], "-"))
            split_member(cand[i], &bl, &k);
        char *base = mm_xstrndup(cand[i], bl);
        uintptr_t g = (uintptr_t)mm_map_get(groups, base);
        if (!g) {
            g = mm_map_count(groups) + 1;
            mm_map_put(groups, base, (void *)g);
        }
        free(base);
        e[ne].path = cand[i];
        e[ne].group = (size_t)g;
        e[ne].idx = k;
        e[ne].order = ne;
        ne++;
    }
    qsort(e, ne, sizeof *e, fent_cmp);
    char **v = NULL;
    size_t nv = 0;
    for (size_t i = 0; i < ne; i++)
        mm_strv_push(&v, &nv, e[i].path);
    mm_map_free(groups, NULL);
    mm_map_free(seen, NULL);
    free(e);
    mm_strv_free(cand, ncand);
    *out = v;
    *n = nv;
    return 0;
}
