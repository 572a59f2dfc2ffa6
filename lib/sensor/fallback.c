/*
 * fallback.c - the event source for kernels that refuse BPF: the netlink
 * process connector (PROC_EVENT_FORK/EXEC/EXIT, root only) for the process
 * tree, plus fanotify FAN_MARK_FILESYSTEM marks on every mounted
 * filesystem (new ones, such as a container's overlay root, as they appear)
 * for file opens, reported when the file is closed: FAN_CLOSE_NOWRITE as an
 * open for reading, FAN_CLOSE_WRITE as an open for writing, so that a
 * write-only open is never taken for a read.  Coarser than the eBPF sensor and documented as
 * such (docs/sensor.md): no syscall arguments, no network events.  Process
 * details are taken while the kernel holds the exec (execperm.c), so a
 * program that exits at once is seen whole; without permission events
 * they are read from /proc when the connector announces the exec (best
 * effort).  fanotify gives no fd number in the watched process, so
 * file events carry a synthetic fd (>= 1<<24) closed right after delivery.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "sensor_int.h"

/* One connector event as the reader thread took it, with the /proc
 * snapshot of an exec'd process read at once */
typedef struct fb_item {
    struct proc_event pe;
    mm_sn_snap sn;
    bool has_snap;
} fb_item;

struct mm_fb_src {
    mm_sensor_base *b;
    int nl;            /* netlink connector socket (read by the reader thread) */
    /* the reader thread: it reads /proc for an exec the moment the
     * connector announces it (a short-lived program is gone within a
     * millisecond or two, long before the main loop would get to it) and
     * queues the events with their snapshots */
    pthread_t reader;
    bool reader_on;
    int qfd;           /* eventfd: items queued */
    int stopfd;        /* eventfd: reader, stop */
    pthread_mutex_t qlock;
    fb_item *q;
    size_t nq, cq;
    atomic_ulong overruns;
    const char *proc_root;
    int fan;           /* fanotify group, -1 if unavailable */
    int mnt;           /* /proc/self/mountinfo: POLLPRI when mounts change */
    int64_t fake_fd;
    mm_map *exec_path;  /* pid -> path of FAN_OPEN_EXEC, for exits before /proc is read */
    mm_map *exec_open;  /* "pid:path" of exec opens: their close is no read */
    mm_map *marked;     /* "major:minor" of filesystems marked */
    mm_xp *xp;          /* exec details taken while the exec waits (execperm.c), or NULL */
    /* exits held back until fanotify is drained: the kernel reports the
     * closes of an exiting process's files before its EXIT, but the
     * connector's queue is drained first */
    struct proc_event *exits;
    size_t nexits;
};

/* Filesystems that hold no files a rule is about (and some refuse marks) */
static bool pseudo_fs(const char *t)
{
    static const char *const skip[] = {
        "proc", "sysfs", "cgroup", "cgroup2", "devpts", "mqueue", "bpf", "tracefs",
        "debugfs", "securityfs", "pstore", "configfs", "fusectl", "autofs",
        "binfmt_misc", "nsfs", "efivarfs", "selinuxfs", "rpc_pipefs", "hugetlbfs",
    };
    for (size_t i = 0; i < sizeof skip / sizeof skip[0]; i++)
        if (!strcmp(t, skip[i]))
            return true;
    return false;
}

/* Marks every filesystem mounted in the agent's mount namespace that is
 * not marked yet (FAN_MARK_FILESYSTEM: every open on that superblock, from
 * any mount namespace, which is what sees into containers: their overlay
 * root is mounted by the runtime in the host namespace).  Called at start
 * and whenever /proc/self/mountinfo says the mounts changed. */
static void mark_filesystems(mm_fb_src *s, bool report)
{
    size_t n;
    mm_sn_minfo *m = mm_sn_mountinfo("/proc/self/mountinfo", &n);
    for (size_t i = 0; i < n; i++) {
        if (pseudo_fs(m[i].fstype) || mm_map_get(s->marked, m[i].dev) ||
            mm_map_count(s->marked) >= 4096)
            continue;
        int r = fanotify_mark(s->fan, FAN_MARK_ADD | FAN_MARK_FILESYSTEM,
                              FAN_OPEN_EXEC | FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE | FAN_ONDIR,
                              AT_FDCWD, m[i].mnt);
        int e = errno;
        if (r == 0 && s->xp)
            mm_xp_mark(s->xp, m[i].mnt);
        mm_map_put(s->marked, m[i].dev, mm_xstrdup(r == 0 ? "ok" : "failed"));
        if (report) {
            char name[96];
            snprintf(name, sizeof name, "fanotify:%s(%s)", m[i].mnt, m[i].fstype);
            mm_sn_hook(s->b, name, r == 0, r == 0 ? NULL : strerror(e));
        }
    }
    mm_sn_minfo_free(m, n);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int nl_listen(int fd, bool on)
{
    struct {
        struct nlmsghdr nh;
        struct cn_msg cn;
        enum proc_cn_mcast_op op;
    } __attribute__((packed)) m;
    memset(&m, 0, sizeof m);
    m.nh.nlmsg_len = sizeof m;
    m.nh.nlmsg_type = NLMSG_DONE;
    m.nh.nlmsg_pid = (uint32_t)getpid();
    m.cn.id.idx = CN_IDX_PROC;
    m.cn.id.val = CN_VAL_PROC;
    m.cn.len = sizeof m.op;
    m.op = on ? PROC_CN_MCAST_LISTEN : PROC_CN_MCAST_IGNORE;
    return send(fd, &m, sizeof m, 0) < 0 ? -errno : 0;
}

#define FB_QUEUE_MAX 65536
#define FB_EXITS_MAX 4096

static void *reader_main(void *arg)
{
    mm_fb_src *s = arg;
    char buf[8192] __attribute__((aligned(8)));
    pid_t self = getpid();
    for (;;) {
        struct pollfd p[2] = { { .fd = s->nl, .events = POLLIN }, { .fd = s->stopfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR)
            break;
        if (p[1].revents)
            break;
        for (;;) {
            ssize_t n = recv(s->nl, buf, sizeof buf, MSG_DONTWAIT);
            if (n < 0) {
                if (errno == ENOBUFS) {
                    atomic_fetch_add(&s->overruns, 1);   /* the kernel dropped events */
                    continue;
                }
                break;
            }
            for (struct nlmsghdr *nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
                 nh = NLMSG_NEXT(nh, n)) {
                if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR)
                    continue;
                struct cn_msg *cn = NLMSG_DATA(nh);
                if (nh->nlmsg_len < NLMSG_LENGTH(sizeof *cn + sizeof(struct proc_event)))
                    continue;
                fb_item it;
                memset(&it, 0, sizeof it);
                /* cn->data is only 4-byte aligned: copy before reading */
                memcpy(&it.pe, cn->data, sizeof it.pe);
                if (it.pe.what != PROC_EVENT_FORK && it.pe.what != PROC_EVENT_EXEC &&
                    it.pe.what != PROC_EVENT_EXIT)
                    continue;
                /* an exec whose details were taken while it waited
                 * (execperm.c) is completed from that record by the main
                 * loop, in order (a file event of the new program that is
                 * read before this EXEC finds it there too); else /proc
                 * is read now */
                if (it.pe.what == PROC_EVENT_EXEC && it.pe.event_data.exec.process_tgid != self &&
                    (!s->xp || !mm_xp_has(s->xp, it.pe.event_data.exec.process_tgid,
                                          it.pe.timestamp_ns))) {
                    mm_sn_snap_read(&it.sn, s->proc_root, it.pe.event_data.exec.process_tgid);
                    it.has_snap = true;
                }
                pthread_mutex_lock(&s->qlock);
                if (s->nq >= FB_QUEUE_MAX) {
                    pthread_mutex_unlock(&s->qlock);
                    if (it.has_snap)
                        mm_sn_snap_clear(&it.sn);
                    atomic_fetch_add(&s->overruns, 1);
                    continue;
                }
                if (s->nq == s->cq) {
                    s->cq = s->cq ? s->cq * 2 : 256;
                    s->q = mm_xrealloc(s->q, s->cq * sizeof *s->q);
                }
                s->q[s->nq++] = it;
                pthread_mutex_unlock(&s->qlock);
                uint64_t one = 1;
                if (write(s->qfd, &one, sizeof one) < 0) {
                    /* the counter is full: the consumer is awake anyway */
                }
            }
        }
    }
    return NULL;
}

int mm_fb_open(mm_fb_src **out, mm_sensor_base *b, const mm_sensor_opts *o)
{
    *out = NULL;
    int nl = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
    if (nl < 0)
        return mm_error_set(MM_EUNSUPPORTED, "fallback sensor: netlink connector: %s",
                            strerror(errno));
    struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC,
                              .nl_pid = (uint32_t)getpid() };
    int rcvbuf = 8 << 20;
    setsockopt(nl, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    if (bind(nl, (struct sockaddr *)&sa, sizeof sa) < 0 || nl_listen(nl, true) < 0) {
        int e = errno;
        close(nl);
        return mm_error_set(MM_EUNSUPPORTED, "fallback sensor: process connector: %s "
                            "(needs root)", strerror(e));
    }
    mm_sn_hook(b, "netlink/proc_connector", true, NULL);
    mm_fb_src *s = mm_xcalloc(1, sizeof *s);
    s->b = b;
    s->nl = nl;
    s->proc_root = b->proc_root;
    s->fan = s->mnt = -1;
    pthread_mutex_init(&s->qlock, NULL);
    s->qfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    s->fake_fd = 1 << 24;
    s->exec_path = mm_map_new();
    s->exec_open = mm_map_new();
    s->marked = mm_map_new();
    s->mnt = -1;
    s->fan = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK,
                           O_RDONLY | O_LARGEFILE | O_CLOEXEC);
    if (s->fan < 0) {
        mm_sn_hook(b, "fanotify", false, strerror(errno));
    } else {
        int r = mm_xp_open(&s->xp, s->proc_root, s->fan);
        mm_sn_hook(b, "fanotify:exec-permission", r == 0, r == 0 ? NULL : strerror(-r));
        mark_filesystems(s, true);
        s->mnt = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    }
    if (s->qfd < 0 || s->stopfd < 0 || pthread_create(&s->reader, NULL, reader_main, s) != 0) {
        int e = errno;
        mm_fb_free(s);
        return mm_error_set(MM_EUNSUPPORTED, "fallback sensor: connector reader: %s", strerror(e));
    }
    s->reader_on = true;
    *out = s;
    return 0;
}

static void deliver(mm_fb_src *s, mm_event *ev)
{
    ev->num = ++s->b->seq;
    if (!ev->ts)
        ev->ts = now_ns();
    mm_proctab_apply(s->b->pt, ev);
    s->b->st.decoded++;
    if (s->b->fn)
        s->b->fn(s->b->ud, ev);
}

static void on_proc_event(mm_fb_src *s, const struct proc_event *pe, const mm_sn_snap *sn)
{
    mm_sensor_base *b = s->b;
    mm_event ev = {0};
    switch (pe->what) {
    case PROC_EVENT_FORK:
        if (pe->event_data.fork.child_pid != pe->event_data.fork.child_tgid)
            return;
        ev.type = MM_EVT_CLONE;
        ev.pid = ev.tid = pe->event_data.fork.parent_tgid;
        ev.res = pe->event_data.fork.child_tgid;
        if (ev.pid == getpid())
            return;
        ev.proc = mm_sn_proc(b, ev.pid);
        deliver(s, &ev);
        break;
    case PROC_EVENT_EXEC: {
        ev.type = MM_EVT_EXECVE;
        ev.pid = ev.tid = pe->event_data.exec.process_tgid;
        if (ev.pid == getpid())
            return;
        mm_proc *p = mm_proctab_get(b->pt, ev.pid);
        if (!p)
            p = mm_proctab_add(b->pt, ev.pid, 0);
        int64_t oldppid = p->ppid;
        mm_proc_set(&p->exepath, NULL);   /* the parent's, copied at fork */
        mm_sn_snap xs;
        if (sn) {
            mm_sn_snap_apply(b, p, sn);   /* read when the exec was announced */
        } else if (s->xp && mm_xp_take(s->xp, ev.pid, pe->timestamp_ns, &xs)) {
            mm_sn_snap_apply(b, p, &xs);  /* taken while the exec waited */
            mm_sn_snap_clear(&xs);
        } else {
            mm_sn_fill_from_proc(b, p, false);
        }
        char key[24];
        snprintf(key, sizeof key, "%lld", (long long)ev.pid);
        char *xp = mm_map_del(s->exec_path, key);
        if (!p->exepath) {
            /* gone already: what fanotify saw it execute */
            if (xp) {
                mm_proc_set(&p->exepath, xp);
                mm_proc_set(&p->comm, mm_path_base(xp));
                if (!p->argc)
                    mm_proc_set(&p->exe, xp);
            }
        }
        free(xp);
        if (p->exepath && mm_str_endswith(p->exepath, " (deleted)")) {
            p->exepath[strlen(p->exepath) - 10] = 0;
        }
        p->exe_flags = p->exepath && strncmp(p->exepath, "/memfd:", 7) == 0
                       ? MM_EXE_FROM_MEMFD : 0;
        if (p->ppid > 0 && (p->ppid != oldppid || !p->parent)) {
            mm_proc *pp = mm_sn_proc(b, p->ppid);
            if (pp && pp != p)
                mm_proc_set_parent(p, pp);
        }
        ev.proc = p;
        ev.path = p->exepath;
        ev.flags = p->exe_flags;
        deliver(s, &ev);
        break;
    }
    case PROC_EVENT_EXIT:
        if (pe->event_data.exit.process_pid != pe->event_data.exit.process_tgid)
            return;
        if (s->xp)   /* records of execs that failed after their open */
            mm_xp_forget(s->xp, pe->event_data.exit.process_tgid, pe->timestamp_ns);
        ev.type = MM_EVT_PROCEXIT;
        ev.pid = ev.tid = pe->event_data.exit.process_tgid;
        ev.res = pe->event_data.exit.exit_code;
        ev.proc = mm_proctab_get(b->pt, ev.pid);
        if (ev.proc)
            deliver(s, &ev);
        break;
    default:
        break;
    }
}

/* The connector events the reader thread queued, in their order */
static void drain_queue(mm_fb_src *s)
{
    uint64_t v;
    if (read(s->qfd, &v, sizeof v) < 0) {
        /* nothing signalled: the queue may still hold items */
    }
    pthread_mutex_lock(&s->qlock);
    fb_item *q = s->q;
    size_t n = s->nq;
    s->q = NULL;
    s->nq = s->cq = 0;
    pthread_mutex_unlock(&s->qlock);
    for (size_t i = 0; i < n; i++) {
        if (q[i].pe.what == PROC_EVENT_EXIT && s->fan >= 0 && s->nexits < FB_EXITS_MAX) {
            if (!s->exits)
                s->exits = mm_xcalloc(FB_EXITS_MAX, sizeof *s->exits);
            s->exits[s->nexits++] = q[i].pe;
            continue;
        }
        on_proc_event(s, &q[i].pe, q[i].has_snap ? &q[i].sn : NULL);
        if (q[i].has_snap)
            mm_sn_snap_clear(&q[i].sn);
    }
    free(q);
    s->b->st.overruns = atomic_load(&s->overruns);
    if (s->xp) {
        /* execs the guard had to answer before their details were taken */
        unsigned long execs, late;
        mm_xp_counts(s->xp, &execs, &late);
        s->b->st.enter_lost = late;
    }
}

/* fanotify is drained before the connector, so a process may open files
 * here whose exec the connector has not told yet: the table still holds
 * the program before the exec (a copy of its parent).  Read it afresh, so
 * the open is charged to the program that made it; if it is gone, name it
 * after what fanotify saw it execute. */
static void refresh_if_exec_pending(mm_fb_src *s, mm_proc *p)
{
    if (!p)
        return;
    /* with exec records, an exec the main loop has not completed yet is
     * exactly one whose record is still there (taken at the EXEC) */
    if (s->xp) {
        mm_xp_apply_latest(s->xp, s->b, p);
        return;
    }
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)p->pid);
    const char *xp = mm_map_get(s->exec_path, key);
    if (!xp || (p->exepath && !strcmp(p->exepath, xp)))
        return;
    mm_proc_set(&p->exepath, NULL);
    if (!s->xp || !mm_xp_apply_latest(s->xp, s->b, p))
        mm_sn_fill_from_proc(s->b, p, false);
    if (!p->exepath) {
        mm_proc_set(&p->exepath, xp);
        mm_proc_set(&p->comm, mm_path_base(xp));
    }
}

static void drain_fan(mm_fb_src *s)
{
    char buf[8192] __attribute__((aligned(8)));
    for (int round = 0; round < 4096; round++) {
        ssize_t n = read(s->fan, buf, sizeof buf);
        if (n <= 0)
            return;
        struct fanotify_event_metadata *m = (struct fanotify_event_metadata *)buf;
        for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
            if (m->mask & FAN_Q_OVERFLOW) {
                s->b->st.overruns++;
                continue;
            }
            if (m->fd < 0)
                continue;
            char path[4200];
            char lk[64];
            snprintf(lk, sizeof lk, "/proc/self/fd/%d", m->fd);
            ssize_t l = readlink(lk, path, sizeof path - 1);
            struct stat st;
            bool have_st = fstat(m->fd, &st) == 0;
            bool gone = have_st && st.st_nlink == 0;
            close(m->fd);
            if (l <= 0 || m->pid == getpid())
                continue;
            path[l] = 0;
            /* a file removed since (the event is read after the close):
             * the path it was opened by, as the eBPF sensor reports it */
            if (gone && mm_str_endswith(path, " (deleted)"))
                path[l - 10] = 0;
            /* a container's own /proc (marked by execperm.c) is mounted
             * only in its namespace: the path comes relative to it */
            if (s->xp && have_st && mm_xp_is_ns_proc(s->xp, st.st_dev) &&
                strncmp(path, "/proc/", 6) && (size_t)l + 6 < sizeof path) {
                memmove(path + 5, path, (size_t)l + 1);
                memcpy(path, "/proc", 5);
            }
            char ok[4300];
            snprintf(ok, sizeof ok, "%lld:%s", (long long)m->pid, path);
            if (m->mask & FAN_OPEN_EXEC) {
                /* the first exec open of a pid is the program, later ones
                 * (the ELF interpreter) are not */
                char key[24];
                snprintf(key, sizeof key, "%lld", (long long)m->pid);
                if (!mm_map_get(s->exec_path, key) && mm_map_count(s->exec_path) < 4096)
                    mm_map_put(s->exec_path, key, mm_xstrdup(path));
                /* its close (at the next exec or the exit) is no read */
                if (mm_map_count(s->exec_open) < 8192)
                    free(mm_map_put(s->exec_open, ok, mm_xstrdup("")));
                if (!(m->mask & (FAN_CLOSE_WRITE | FAN_CLOSE_NOWRITE)))
                    continue;
            }
            if ((m->mask & FAN_CLOSE_NOWRITE) && !(m->mask & FAN_CLOSE_WRITE)) {
                char *x = mm_map_del(s->exec_open, ok);
                if (x) {
                    free(x);
                    continue;
                }
            }
            /* An open is reported when its file is closed: only then does
             * fanotify say how it was opened (FAN_CLOSE_WRITE: for writing,
             * FAN_CLOSE_NOWRITE: read only), so a write-only open is never
             * taken for a read */
            mm_event ev = {0};
            ev.type = MM_EVT_OPENAT;
            ev.pid = ev.tid = m->pid;
            ev.arg_fd = -100;
            ev.path = path;
            ev.flags = ((m->mask & FAN_CLOSE_WRITE) ? O_WRONLY : O_RDONLY) |
                       ((m->mask & FAN_ONDIR) ? O_DIRECTORY : 0);
            ev.res = s->fake_fd++;
            if (s->fake_fd > (1 << 30))
                s->fake_fd = 1 << 24;
            ev.proc = mm_sn_proc(s->b, ev.pid);
            refresh_if_exec_pending(s, ev.proc);
            deliver(s, &ev);
            mm_proc_fd_close(ev.proc, ev.res);
        }
    }
}

static void flush_exits(mm_fb_src *s)
{
    for (size_t i = 0; i < s->nexits; i++)
        on_proc_event(s, &s->exits[i], NULL);
    s->nexits = 0;
}

int mm_fb_poll(mm_fb_src *s, int timeout_ms)
{
    uint64_t before = s->b->st.decoded;
    struct pollfd p[3] = { { .fd = s->qfd, .events = POLLIN }, { .fd = s->fan, .events = POLLIN },
                           { .fd = s->mnt, .events = POLLPRI } };
    int n = poll(p, s->fan >= 0 ? (s->mnt >= 0 ? 3 : 2) : 1, timeout_ms);
    if (n < 0 && errno != EINTR)
        return mm_error_set(MM_EIO, "fallback sensor: poll: %s", strerror(errno));
    /* a filesystem mounted since (a container's overlay root): mark it */
    if (n > 0 && s->mnt >= 0 && (p[2].revents & (POLLPRI | POLLERR)))
        mark_filesystems(s, false);
    /* the connector's events first (forks and execs name the processes
     * of the file events), then fanotify, then what came in meanwhile */
    drain_queue(s);
    if (s->fan >= 0)
        drain_fan(s);
    flush_exits(s);
    drain_queue(s);
    if (s->nexits) {
        /* exits that came in meanwhile: their files' closes are queued */
        drain_fan(s);
        flush_exits(s);
    }
    return (int)(s->b->st.decoded - before);
}

void mm_fb_free(mm_fb_src *s)
{
    if (!s)
        return;
    if (s->reader_on) {
        uint64_t one = 1;
        if (write(s->stopfd, &one, sizeof one) < 0) {
            /* cannot fail for an eventfd below its maximum */
        }
        pthread_join(s->reader, NULL);
    }
    for (size_t i = 0; i < s->nq; i++)
        if (s->q[i].has_snap)
            mm_sn_snap_clear(&s->q[i].sn);
    free(s->q);
    if (s->qfd >= 0)
        close(s->qfd);
    if (s->stopfd >= 0)
        close(s->stopfd);
    pthread_mutex_destroy(&s->qlock);
    nl_listen(s->nl, false);
    close(s->nl);
    if (s->fan >= 0)
        close(s->fan);
    mm_xp_free(s->xp);
    free(s->exits);
    mm_map_free(s->exec_path, free);
    mm_map_free(s->exec_open, free);
    mm_map_free(s->marked, free);
    if (s->mnt >= 0)
        close(s->mnt);
    free(s);
}
