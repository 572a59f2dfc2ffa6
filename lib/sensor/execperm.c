/*
 * execperm.c - what makes the fallback sensor deterministic for programs
 * that exit at once: a fanotify FAN_OPEN_EXEC_PERM watch on the marked
 * filesystems.  The kernel stops an execve() at the open of the program
 * until this group answers, so the details of the new program are taken
 * while nothing can run or exit: the path from the event's fd, argv and
 * envp from the caller's memory (the syscall's arguments, from
 * /proc/PID/syscall, read with process_vm_readv: the old image is still
 * mapped), the name from the filename given to execve, the ids, cwd,
 * cgroup and namespaces (which an exec keeps) from /proc/PID; a set-user-ID
 * or set-group-ID program's effective id from the file's mode.  Each
 * record is stamped (CLOCK_MONOTONIC) before the answer, so the connector's
 * EXEC event of that exec, stamped by the kernel after it, finds it.
 *
 * The answer is always FAN_ALLOW.  A guard thread answers any exec that
 * waited more than MM_XP_GUARD_MS (the record is then dropped and the
 * connector path reads /proc as before), so mamori never holds an exec for
 * long; if mamori dies, the kernel allows what was pending.  What it cannot
 * prevent: a mamori stopped by SIGSTOP or a debugger holds every exec on
 * the marked filesystems (docs/sensor.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/uio.h>

#include "sensor_int.h"

#define MM_XP_GUARD_MS 200
#define MM_XP_MAX_RECS 4096
#define MM_XP_MAX_ARGS 1024
#define MM_XP_MAX_BLOB (1u << 16)

#if defined(__x86_64__)
#define XP_NR_EXECVE 59
#define XP_NR_EXECVEAT 322
#elif defined(__aarch64__)
#define XP_NR_EXECVE 221
#define XP_NR_EXECVEAT 281
#else
#define XP_NR_EXECVE (-1)
#define XP_NR_EXECVEAT (-1)
#endif

typedef struct xp_rec {
    int64_t pid;
    uint64_t t;                 /* CLOCK_MONOTONIC before the answer */
    unsigned long key[4];       /* syscall nr and its first args: one exec */
    bool script;                /* the file opened starts with "#!" */
    char *interp;               /* a script's "#!" line: name NUL [arg NUL] */
    size_t interp_len;
    char *fname;                /* the filename given to execve */
    mm_sn_snap sn;
} xp_rec;

struct mm_xp {
    const char *proc_root;
    int fan;
    int stopfd;
    pthread_t th, guard;
    bool th_on, guard_on;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    /* the exec being answered (one at a time) */
    int slot_fd;
    bool slot_busy, slot_answered, stop;
    uint64_t slot_deadline;
    unsigned long timeouts, execs;
    xp_rec *recs;
    size_t nrecs;
    /* a container's own procfs (its pid namespace's), marked for the
     * notification group when its first exec is held: mount namespaces
     * looked at, and the procfs devices marked (read by the main loop) */
    int notif;
    uint32_t self_mntns;
    dev_t host_proc;
    uint32_t seen_ns[256];
    size_t nseen;
    dev_t procdev[256];
    size_t nproc;
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void answer(int fan, int fd)
{
    struct fanotify_response r = { .fd = fd, .response = FAN_ALLOW };
    if (write(fan, &r, sizeof r) < 0) {
        /* the event is gone (the process was killed): nothing to allow */
    }
}

/* Reads len bytes at addr in pid; the count read */
static size_t peek(pid_t pid, unsigned long addr, void *buf, size_t len)
{
    struct iovec l = { buf, len }, r = { (void *)addr, len };
    ssize_t n = process_vm_readv(pid, &l, 1, &r, 1, 0);
    return n > 0 ? (size_t)n : 0;
}

/* A NUL-terminated string at addr in pid appended to b (with its NUL);
 * false if it could not be read */
static bool peek_str(pid_t pid, unsigned long addr, mm_buf *b, size_t room)
{
    char chunk[512];
    size_t got = 0;
    while (got < room) {
        /* never across a page: a string may end just before an unmapped one */
        size_t want = 4096 - ((addr + got) & 4095);
        if (want > sizeof chunk)
            want = sizeof chunk;
        size_t n = peek(pid, addr + got, chunk, want);
        if (!n)
            return false;
        size_t l = strnlen(chunk, n);
        if (l > room - got)
            l = room - got;
        mm_buf_add(b, chunk, l);
        got += l;
        if (l < n)
            break;
    }
    mm_buf_add(b, "", 1);
    return true;
}

/* The NUL-separated strings of a NULL-terminated char *[] at addr */
static char *peek_vec(pid_t pid, unsigned long addr, size_t *len)
{
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; addr && i < MM_XP_MAX_ARGS && b.len < MM_XP_MAX_BLOB; i++) {
        unsigned long p = 0;
        if (peek(pid, addr + i * sizeof p, &p, sizeof p) != sizeof p || !p)
            break;
        if (!peek_str(pid, p, &b, MM_XP_MAX_BLOB - b.len))
            break;
    }
    *len = b.len;
    if (!b.len) {
        mm_buf_free(&b);
        return NULL;
    }
    return mm_buf_detach(&b);
}

/* The details of the exec that pid is blocked in, into sn */
char *mm_sn_shebang_split(const char *head, size_t n, size_t *len)
{
    /* as binfmt_script splits it: the interpreter, then the rest of the
     * line (trimmed) as one argument */
    char hb[256];
    if (n < 2 || head[0] != '#' || head[1] != '!')
        return NULL;
    if (n > sizeof hb - 1)
        n = sizeof hb - 1;
    memcpy(hb, head, n);
    hb[n] = 0;
    char *e = strchr(hb, '\n');
    if (e)
        *e = 0;
    char *i = hb + 2;
    while (*i == ' ' || *i == '\t')
        i++;
    char *a = i + strcspn(i, " \t");
    if (*a)
        *a++ = 0;
    while (*a == ' ' || *a == '\t')
        a++;
    size_t al = strlen(a);
    while (al && (a[al - 1] == ' ' || a[al - 1] == '\t'))
        a[--al] = 0;
    mm_buf ib = MM_BUF_INIT;
    mm_buf_add(&ib, i, strlen(i) + 1);
    if (al)
        mm_buf_add(&ib, a, al + 1);
    *len = ib.len;
    return mm_buf_detach(&ib);
}

static void take_exec(mm_xp *x, pid_t pid, int fd, xp_rec *r)
{
    mm_sn_snap *sn = &r->sn;
    mm_sn_snap_read_kept(sn, x->proc_root, pid);   /* ids, cwd, cgroup, ns: kept by exec */
    
    char lk[64], path[4200];
    snprintf(lk, sizeof lk, "/proc/self/fd/%d", fd);
    ssize_t l = readlink(lk, path, sizeof path - 1);
    if (l > 0) {
        path[l] = 0;
        if (mm_str_endswith(path, " (deleted)"))
            path[l - 10] = 0;
        sn->exe = mm_xstrdup(path);
    }
    char hb[256];
    ssize_t hn = pread(fd, hb, sizeof hb - 1, 0);
    r->script = hn >= 2 && hb[0] == '#' && hb[1] == '!';
    if (r->script)
        r->interp = mm_sn_shebang_split(hb, (size_t)hn, &r->interp_len);
    struct stat st;
    if (fstat(fd, &st) == 0) {
        if (st.st_mode & S_ISUID) {
            sn->has_seuid = true;
            sn->seuid = st.st_uid;
        }
        if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP)) {
            sn->has_segid = true;
            sn->segid = st.st_gid;
        }
    }

    char *sc = NULL;
    size_t sl = 0;
    char sp[96];
    snprintf(sp, sizeof sp, "%s/%d/syscall", x->proc_root, pid);
    /* "running" until the process has gone to sleep on the event (it
     * wakes this thread first): read again until it has */
    for (int tries = 0; tries < 200; tries++) {
        sc = mm_file_read_proc(sp, 1024, &sl);
        if (!sc || strncmp(sc, "running", 7))
            break;
        free(sc);
        sc = NULL;
        if (tries < 20)
            sched_yield();
        else
            usleep(100);
    }

    long nr = -1;
    unsigned long a[5] = {0};
    if (sc && sscanf(sc, "%ld %lx %lx %lx %lx %lx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4]) >= 4) {
        unsigned long fname = 0, argv = 0, envp = 0;
        if (nr == XP_NR_EXECVE) {
            fname = a[0]; argv = a[1]; envp = a[2];
        } else if (nr == XP_NR_EXECVEAT) {
            fname = a[1]; argv = a[2]; envp = a[3];
        }
        r->key[0] = (unsigned long)nr;
        r->key[1] = fname;
        r->key[2] = argv;
        r->key[3] = envp;
        if (fname) {
            /* a program run from an fd (fexecve: "/dev/fd/N", or execveat
             * with an empty path) on a filesystem that is not marked (a
             * memfd): only its ELF interpreter's open is seen here, so the
             * program is named after the fd */
            long xfd = -1;
            char fb[16] = "";
            peek(pid, fname, fb, sizeof fb - 1);
            if (!strncmp(fb, "/dev/fd/", 8))
                xfd = strtol(fb + 8, NULL, 10);
            else if (nr == XP_NR_EXECVEAT && !fb[0] && (a[4] & AT_EMPTY_PATH))
                xfd = (long)a[0];
            struct stat xs;
            char xl[96], xp[4200];
            snprintf(xl, sizeof xl, "%s/%d/fd/%ld", x->proc_root, pid, xfd);
            if (xfd >= 0 && stat(xl, &xs) == 0 && fstat(fd, &st) == 0 &&
                (xs.st_dev != st.st_dev || xs.st_ino != st.st_ino)) {
                ssize_t xn = readlink(xl, xp, sizeof xp - 1);
                if (xn > 0) {
                    xp[xn] = 0;
                    if (!strncmp(xp, "/memfd:", 7)) {
                        if (mm_str_endswith(xp, " (deleted)"))
                            xp[xn - 10] = 0;
                        free(sn->exe);
                        sn->exe = mm_xstrdup(xp);
                    }
                }
            }
            sn->cmdline = peek_vec(pid, argv, &sn->cmdline_len);
            sn->environ = peek_vec(pid, envp, &sn->environ_len);
            /* the kernel names the new program after the filename given
             * (its last component, 15 bytes) */
            mm_buf b = MM_BUF_INIT;
            if (peek_str(pid, fname, &b, 4096) && b.len > 1) {
                r->fname = mm_xstrdup(b.data);
                const char *base = mm_path_base(b.data);
                if (!*base || b.data[b.len - 2] == '/')
                    base = b.data;
                sn->comm = mm_xasprintf("%.15s\n", base);
                sn->comm_len = strlen(sn->comm);
            }
            mm_buf_free(&b);
        }
    }
    free(sc);
    if (!sn->comm && sn->exe) {
        sn->comm = mm_xasprintf("%.15s\n", mm_path_base(sn->exe));
        sn->comm_len = strlen(sn->comm);
    }
}

static void rec_free(xp_rec *r)
{
    mm_sn_snap_clear(&r->sn);
    free(r->interp);
    free(r->fname);
    r->interp = r->fname = NULL;
}

/* The argv the kernel gives a script run through its "#!" interpreter(s):
 * for each script from first to pick, [interp, arg?, its filename,
 * argv[1:]] (binfmt_script) */
static void script_argv(mm_xp *x, ssize_t first, ssize_t pick)
{
    xp_rec *p = &x->recs[pick];
    const char *cur = x->recs[first].sn.cmdline;
    size_t curl = x->recs[first].sn.cmdline_len;
    const char *name = x->recs[first].fname;
    char *made = NULL;
    for (ssize_t k = first; k < pick; k++) {
        xp_rec *r = &x->recs[k];
        if (r->pid != p->pid || !r->script || !r->interp || !name)
            continue;
        mm_buf b = MM_BUF_INIT;
        mm_buf_add(&b, r->interp, r->interp_len);
        mm_buf_add(&b, name, strlen(name) + 1);
        size_t a0 = cur ? strnlen(cur, curl) + 1 : 0;
        if (cur && a0 < curl)
            mm_buf_add(&b, cur + a0, curl - a0);
        free(made);
        curl = b.len;
        made = mm_buf_detach(&b);
        cur = made;
        name = r->interp;   /* a nested script: the next names this interpreter */
    }
    if (made) {
        free(p->sn.cmdline);
        p->sn.cmdline = made;
        p->sn.cmdline_len = curl;
        /* the name stays the script's (the kernel names the task after
         * the filename given to execve) */
        if (x->recs[first].sn.comm && pick != first) {
            free(p->sn.comm);
            p->sn.comm = mm_xstrdup(x->recs[first].sn.comm);
            p->sn.comm_len = x->recs[first].sn.comm_len;
        }
    }
}

/* The first exec held in a mount namespace not seen yet: its /proc (a
 * procfs of its own pid namespace, mounted only there) gets a mark, before
 * the program runs, so its reads of /proc files are seen */
static void mark_ns_proc(mm_xp *x, pid_t pid, uint32_t mntns)
{
    if (x->notif < 0 || !mntns || mntns == x->self_mntns)
        return;
    for (size_t i = 0; i < x->nseen; i++)
        if (x->seen_ns[i] == mntns)
            return;
    if (x->nseen >= sizeof x->seen_ns / sizeof x->seen_ns[0])
        return;
    x->seen_ns[x->nseen++] = mntns;
    char path[96];
    snprintf(path, sizeof path, "%s/%d/root/proc", x->proc_root, pid);
    struct stat st;
    struct statfs sf;
    if (stat(path, &st) < 0 || statfs(path, &sf) < 0 || sf.f_type != 0x9fa0 /* procfs */ ||
        st.st_dev == x->host_proc)
        return;
    pthread_mutex_lock(&x->lock);
    bool have = false;
    for (size_t i = 0; i < x->nproc; i++)
        have |= x->procdev[i] == st.st_dev;
    pthread_mutex_unlock(&x->lock);
    if (have || x->nproc >= sizeof x->procdev / sizeof x->procdev[0])
        return;
    if (fanotify_mark(x->notif, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                      FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE, AT_FDCWD, path) < 0)
        return;
    pthread_mutex_lock(&x->lock);
    x->procdev[x->nproc++] = st.st_dev;
    pthread_mutex_unlock(&x->lock);
}

bool mm_xp_is_ns_proc(mm_xp *x, dev_t dev)
{
    bool have = false;
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->nproc; i++)
        have |= x->procdev[i] == dev;
    pthread_mutex_unlock(&x->lock);
    return have;
}

static void keep(mm_xp *x, xp_rec *r)
{
    /* under x->lock */
    if (x->nrecs >= MM_XP_MAX_RECS) {
        rec_free(&x->recs[0]);
        memmove(x->recs, x->recs + 1, --x->nrecs * sizeof *x->recs);
    }
    if (!x->recs)
        x->recs = mm_xcalloc(MM_XP_MAX_RECS, sizeof *x->recs);
    x->recs[x->nrecs++] = *r;
}

static void *perm_main(void *arg)
{
    mm_xp *x = arg;
    char buf[4096] __attribute__((aligned(8)));
    pid_t self = getpid();
    /* every exec on the host waits for this thread: ahead of batch work
     * on a loaded machine (root may raise a thread's priority) */
    if (setpriority(PRIO_PROCESS, (id_t)gettid(), -10) < 0) {
        /* not allowed: it runs at the agent's priority */
    }
    for (;;) {
        struct pollfd p[2] = { { .fd = x->fan, .events = POLLIN }, { .fd = x->stopfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        ssize_t n = read(x->fan, buf, sizeof buf);
        if (n <= 0)
            continue;
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            if (m->fd < 0)
                continue;
            if (!(m->mask & FAN_OPEN_EXEC_PERM) || m->pid == self) {
                answer(x->fan, m->fd);
                close(m->fd);
                continue;
            }
            pthread_mutex_lock(&x->lock);
            x->slot_fd = m->fd;
            x->slot_busy = true;
            x->slot_answered = false;
            x->slot_deadline = mono_ns() + MM_XP_GUARD_MS * 1000000ull;
            pthread_cond_signal(&x->cond);
            pthread_mutex_unlock(&x->lock);

            xp_rec r;
            memset(&r, 0, sizeof r);
            r.pid = m->pid;
            take_exec(x, m->pid, m->fd, &r);
            mark_ns_proc(x, m->pid, r.sn.mntns);

            pthread_mutex_lock(&x->lock);
            bool late = x->slot_answered;
            r.t = mono_ns();
            if (!late)
                answer(x->fan, m->fd);
            x->slot_busy = false;
            x->execs++;
            if (late)
                rec_free(&r);   /* the program may have run: not exact */
            else
                keep(x, &r);
            pthread_mutex_unlock(&x->lock);
            close(m->fd);
        }
    }
    return NULL;
}

/* Answers an exec that waited past the guard time */
static void *guard_main(void *arg)
{
    mm_xp *x = arg;
    pthread_mutex_lock(&x->lock);
    while (!x->stop) {
        if (!x->slot_busy || x->slot_answered) {
            pthread_cond_wait(&x->cond, &x->lock);
            continue;
        }
        struct timespec ts = { (time_t)(x->slot_deadline / 1000000000ull),
                               (long)(x->slot_deadline % 1000000000ull) };
        pthread_cond_timedwait(&x->cond, &x->lock, &ts);
        if (x->slot_busy && !x->slot_answered && mono_ns() >= x->slot_deadline) {
            answer(x->fan, x->slot_fd);
            x->slot_answered = true;
            x->timeouts++;
        }
    }
    pthread_mutex_unlock(&x->lock);
    return NULL;
}

int mm_xp_open(mm_xp **out, const char *proc_root, int notif)
{
    *out = NULL;
    int fan = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (fan < 0)
        return -errno;
    mm_xp *x = mm_xcalloc(1, sizeof *x);
    x->proc_root = proc_root;
    x->fan = fan;
    x->notif = notif;
    struct stat st;
    char sp[96];
    snprintf(sp, sizeof sp, "%s/self/ns/mnt", proc_root);
    x->self_mntns = stat(sp, &st) == 0 ? (uint32_t)st.st_ino : 0;
    x->host_proc = stat(proc_root, &st) == 0 ? st.st_dev : 0;
    x->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    pthread_mutex_init(&x->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&x->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (x->stopfd < 0 || pthread_create(&x->guard, NULL, guard_main, x) != 0) {
        int e = errno ? errno : EAGAIN;
        mm_xp_free(x);
        return -e;
    }
    x->guard_on = true;
    if (pthread_create(&x->th, NULL, perm_main, x) != 0) {
        int e = errno ? errno : EAGAIN;
        mm_xp_free(x);
        return -e;
    }
    x->th_on = true;
    *out = x;
    return 0;
}

int mm_xp_mark(mm_xp *x, const char *mnt)
{
    if (fanotify_mark(x->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FAN_OPEN_EXEC_PERM,
                      AT_FDCWD, mnt) < 0)
        return -errno;
    return 0;
}

/* Of the records of one execve (the same syscall and arguments) ending
 * at last: the program the kernel runs.  The first is the file named by
 * execve; a script ("#!") is followed by its interpreter's open, which is
 * the program (as /proc/PID/exe and the eBPF sensor say); an ELF's
 * interpreter (ld.so) is not. */
static ssize_t pick_in_run(mm_xp *x, ssize_t last)
{
    int64_t pid = x->recs[last].pid;
    ssize_t first = last;
    for (ssize_t i = last - 1; i >= 0; i--) {
        if (x->recs[i].pid != pid)
            continue;
        if (memcmp(x->recs[i].key, x->recs[last].key, sizeof x->recs[i].key))
            break;
        first = i;
    }
    ssize_t pick = first;
    while (x->recs[pick].script && pick < last) {
        ssize_t n = pick + 1;
        while (n <= last && x->recs[n].pid != pid)
            n++;
        if (n > last)
            break;
        pick = n;
    }
    if (pick != first)
        script_argv(x, first, pick);
    return pick;
}

static void drop_before(mm_xp *x, int64_t pid, uint64_t ts, mm_sn_snap *out, bool *found)
{
    /* under x->lock: records of pid stamped before ts go; the exec is the
     * last run of records with one syscall (its program, then the ELF or
     * script interpreter opened in the same execve) */
    ssize_t last = -1;
    for (size_t i = 0; i < x->nrecs; i++)
        if (x->recs[i].pid == pid && x->recs[i].t < ts)
            last = (ssize_t)i;
    ssize_t pick = last >= 0 && out ? pick_in_run(x, last) : -1;
    size_t w = 0;
    for (size_t i = 0; i < x->nrecs; i++) {
        if (x->recs[i].pid == pid && x->recs[i].t < ts) {
            if (out && (ssize_t)i == pick) {
                *out = x->recs[i].sn;
                memset(&x->recs[i].sn, 0, sizeof x->recs[i].sn);
                *found = true;
            }
            rec_free(&x->recs[i]);
            continue;
        }
        x->recs[w++] = x->recs[i];
    }
    x->nrecs = w;
}

bool mm_xp_take(mm_xp *x, int64_t pid, uint64_t ts_ns, mm_sn_snap *out)
{
    bool found = false;
    pthread_mutex_lock(&x->lock);
    drop_before(x, pid, ts_ns, out, &found);
    pthread_mutex_unlock(&x->lock);
    return found;
}

bool mm_xp_has(mm_xp *x, int64_t pid, uint64_t ts_ns)
{
    bool have = false;
    pthread_mutex_lock(&x->lock);
    for (size_t i = 0; i < x->nrecs && !have; i++)
        have = x->recs[i].pid == pid && x->recs[i].t < ts_ns;
    pthread_mutex_unlock(&x->lock);
    return have;
}

bool mm_xp_apply_latest(mm_xp *x, mm_sensor_base *b, mm_proc *p)
{
    /* the latest exec of p, its program's record (the first of its run) */
    pthread_mutex_lock(&x->lock);
    ssize_t last = -1;
    for (size_t i = 0; i < x->nrecs; i++)
        if (x->recs[i].pid == p->pid)
            last = (ssize_t)i;
    ssize_t pick = last >= 0 ? pick_in_run(x, last) : -1;
    if (pick >= 0)
        mm_sn_snap_apply(b, p, &x->recs[pick].sn);
    pthread_mutex_unlock(&x->lock);
    return pick >= 0;
}

void mm_xp_forget(mm_xp *x, int64_t pid, uint64_t ts_ns)
{
    pthread_mutex_lock(&x->lock);
    drop_before(x, pid, ts_ns, NULL, NULL);
    pthread_mutex_unlock(&x->lock);
}

void mm_xp_counts(mm_xp *x, unsigned long *execs, unsigned long *timeouts)
{
    pthread_mutex_lock(&x->lock);
    *execs = x->execs;
    *timeouts = x->timeouts;
    pthread_mutex_unlock(&x->lock);
}

void mm_xp_free(mm_xp *x)
{
    if (!x)
        return;
    if (x->th_on) {
        uint64_t one = 1;
        if (write(x->stopfd, &one, sizeof one) < 0) {
            /* cannot fail for an eventfd below its maximum */
        }
        pthread_join(x->th, NULL);
    }
    if (x->guard_on) {
        pthread_mutex_lock(&x->lock);
        x->stop = true;
        pthread_cond_signal(&x->cond);
        pthread_mutex_unlock(&x->lock);
        pthread_join(x->guard, NULL);
    }
    /* closing the group allows whatever is still pending */
    close(x->fan);
    if (x->stopfd >= 0)
        close(x->stopfd);
    for (size_t i = 0; i < x->nrecs; i++)
        rec_free(&x->recs[i]);
    free(x->recs);
    pthread_cond_destroy(&x->cond);
    pthread_mutex_destroy(&x->lock);
    free(x);
}
