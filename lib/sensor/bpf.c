/*
 * bpf.c - the user-space half of the eBPF sensor: loads the CO-RE program
 * (sensor.bpf.c, through its bpftool skeleton), attaches every hook one by
 * one so that start-up can say which attached, tells the kernel side which
 * syscalls to trace and how, drains the per-CPU ring buffers and decodes
 * their records in time order into mm_events, keeping the process table
 * current.
 *
 * The rings are drained on wake-ups (every N records per CPU, and the first
 * record after a quiet spell) and, while records flow, at least every few
 * milliseconds (mm_bpf_poll adapts its wait), so events reach the rules
 * within milliseconds at any rate.
 * Drops are per-CPU kernel counters summed here; they are never silent.
 *
 * Length: the decoder of the ring-buffer records and the lifecycle share the
 * skeleton and the per-CPU state; the kernel half is sensor.bpf.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "sensor_int.h"
#include "sensor_abi.h"
#include "sensor/sensor.skel.h"

struct mm_bpf_src {
    mm_sensor_base *b;
    struct mm_sensor_bpf *skel;
    int64_t boot_off;
    mm_evt_type type_of[MM_SYS_MAX];
    int ncpu;
    /* cgroup v2 id -> path (cgroup id is the kernfs inode number) */
    mm_map *cgpaths;           /* "%llu" -> char* */
    char *cg2root;
    double cg_scanned;
    /* records one mm_bpf_poll may take from each ring: libbpf keeps
     * consuming while the producer keeps up, so without a budget a busy
     * host would never let the caller see its stop flag or flush its
     * outputs; per ring, so one busy CPU cannot starve the others */
    /* a compact record (mm_bsys) widened for decode_sys */
    struct mm_brec wide;
    /* one ring buffer per CPU (sensor.bpf.c); their records of one poll
     * are staged here and decoded in time order, so a child's exec on one
     * CPU never overtakes its parent's fork on another */
    struct cpu_ring {
        mm_bpf_src *s;
        struct ring_buffer *rb;  /* libbpf consumer of this ring alone */
        int fd;
        uint32_t budget;         /* records this poll may still take */
        uint64_t last_ts;        /* time of the last record taken */
    } *rings;
    uint32_t ring_size;
    int nrb;
    int epfd;                    /* waits on every ring's epoll fd */
    char *arena;
    size_t alen, acap;
    struct staged { uint64_t ts, seq; size_t off; uint32_t size; } *stg;
    size_t nstg, cstg;
    uint64_t seqno;
    uint64_t last_rec_ns;        /* CLOCK_BOOTTIME of the last drain that found records */
};

#define POLL_BUDGET 16384
/* Adaptive wake-ups (sensor.bpf.c): the kernel side wakes the consumer for
 * the first record after MM_WAKE_GAP_MS without one; while records flow,
 * mm_bpf_poll waits at most that long, so none waits longer for a drain.
 * Records held back for ordering (the last MM_ORDER_GRACE_NS) are drained
 * by a poll at most 2 ms later. */
#define MM_WAKE_GAP_MS 4
#define MM_BUSY_SPELL_NS 100000000u  /* "records flow": one in the last 100 ms */
/* how long before a drain a record must have been made to be delivered
 * by it (mm_bpf_poll) */
#define MM_ORDER_GRACE_NS 1000000u

/* libbpf reports through one process-wide print callback; the message is
 * kept per thread, for the error of the call this thread is making */
static __thread char libbpf_msg[512];

static int libbpf_quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
    /* keep the last warning for error messages; the library never prints */
    if (lvl <= LIBBPF_WARN) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        /* the format is libbpf's own */
        vsnprintf(libbpf_msg, sizeof libbpf_msg, fmt, ap);
#pragma GCC diagnostic pop
    }
    return 0;
}

int64_t mm_sn_boot_offset(void)
{
    struct timespec r, bt;
    clock_gettime(CLOCK_REALTIME, &r);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    return ((int64_t)r.tv_sec - bt.tv_sec) * 1000000000LL + (r.tv_nsec - bt.tv_nsec);
}

/* ---- cgroup id -> path ------------------------------------------------------- */

/* Records every cgroup directory under dir (fd, relative path rel) in map,
 * keyed by inode number (the cgroup id of cgroup v2). */
static void scan_cgroups(mm_map *map, int dfd, const char *rel, int depth)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return;
    }
    struct dirent *de;
    while ((de = readdir(d)) && mm_map_count(map) <= 65536) {
        if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st;
        char *path = mm_xasprintf("%s/%s", rel, de->d_name);
        if (fstat(fd, &st) == 0) {
            char key[24];
            snprintf(key, sizeof key, "%llu", (unsigned long long)st.st_ino);
            free(mm_map_put(map, key, mm_xstrdup(path)));
        }
        if (depth < 32)
            scan_cgroups(map, fd, path, depth + 1);
        else
            close(fd);
        free(path);
    }
    closedir(d);
}

static char *find_cg2root(void)
{
    static const char *const cands[] = { "/sys/fs/cgroup/unified", "/sys/fs/cgroup" };
    for (size_t i = 0; i < 2; i++) {
        char p[64];
        snprintf(p, sizeof p, "%s/cgroup.procs", cands[i]);
        struct stat st;
        char ctl[64];
        snprintf(ctl, sizeof ctl, "%s/cgroup.controllers", cands[i]);
        if (stat(p, &st) == 0 && (stat(ctl, &st) == 0 || i == 0))
            return mm_xstrdup(cands[i]);
    }
    return NULL;
}

static const char *cg_path(mm_bpf_src *s, uint64_t id)
{
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)id);
    const char *p = mm_map_get(s->cgpaths, key);
    if (p || !s->cg2root)
        return p;
    double now = mm_now();
    if (now - s->cg_scanned < 0.5)
        return NULL;
    s->cg_scanned = now;
    int fd = open(s->cg2root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0) {
            char rk[24];
            snprintf(rk, sizeof rk, "%llu", (unsigned long long)st.st_ino);
            free(mm_map_put(s->cgpaths, rk, mm_xstrdup("/")));
        }
        scan_cgroups(s->cgpaths, fd, "", 0);
    }
    return mm_map_get(s->cgpaths, key);
}

/* ---- decoding ------------------------------------------------------------------ */

static void parse_sa(const char *d, size_t len, mm_evt_addr *a, char *upath, size_t upn)
{
    memset(a, 0, sizeof *a);
    if (len < 2)
        return;
    uint16_t fam;
    memcpy(&fam, d, 2);
    if (fam == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in sin;
        memcpy(&sin, d, sizeof sin);
        a->family = AF_INET;
        a->ip.family = AF_INET;
        memcpy(a->ip.ip, &sin.sin_addr, 4);
        a->port = ntohs(sin.sin_port);
    } else if (fam == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 sin6;
        memcpy(&sin6, d, sizeof sin6);
        a->family = AF_INET6;
        a->ip.family = AF_INET6;
        memcpy(a->ip.ip, &sin6.sin6_addr, 16);
        a->port = ntohs(sin6.sin6_port);
    } else if (fam == AF_UNIX) {
        a->family = AF_UNIX;
        size_t n = len - 2;
        if (n >= upn)
            n = upn - 1;
        memcpy(upath, d + 2, n);
        upath[n] = 0;
        if (n && upath[0] == 0)
            upath[0] = '@';   /* abstract socket, shown as Falco does */
        a->unix_path = upath;
    }
}

static const char *rec_str(const struct mm_brec *r, const char *s, uint16_t len, size_t cap,
                           size_t avail)
{
    if (!len || len > cap)
        return NULL;
    if ((size_t)(s - (const char *)r) + len > avail)
        return NULL;
    if (s[len - 1] != 0)
        return NULL;
    return s;
}

static void deliver(mm_bpf_src *s, mm_event *ev)
{
    mm_proctab_apply(s->b->pt, ev);
    if (ev->type >= MM_EVT_SETUID && ev->type <= MM_EVT_SETRESGID && ev->res == 0 && ev->proc)
        mm_sn_resolve_users(s->b, ev->proc);   /* new ids, new names */
    s->b->st.decoded++;
    if (s->b->fn)
        s->b->fn(s->b->ud, ev);
}

/* A path from the names the BPF side collected leaf first ("sh\0bin\0usr\0"),
 * as "/usr/bin/sh" (a cwd gets Falco's trailing '/'). */
static char *join_path(const char *names, size_t len, bool dir)
{
    const char *part[64];
    size_t np = 0, i = 0;
    if (len > MM_PATH_SIZE)
        return NULL;
    while (i < len && np < 64) {
        size_t l = strnlen(names + i, len - i);
        if (l == len - i)
            return NULL;   /* not NUL-terminated: cut short */
        part[np++] = names + i;
        i += l + 1;
    }
    mm_buf b = MM_BUF_INIT;
    for (size_t k = np; k-- > 0;) {
        if (!strcmp(part[k], "/"))
            continue;
        mm_buf_addc(&b, '/');
        mm_buf_adds(&b, part[k]);
    }
    if (!b.len || dir)
        mm_buf_addc(&b, '/');
    return mm_buf_detach(&b);
}

/* An event's head from a record: its type, CPU, number, wall-clock time
 * and ids; the rest zero. */
static inline void ev_head(mm_bpf_src *s, const struct mm_brec *r, mm_evt_type type,
                           mm_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->cpu = r->cpu;
    ev->num = ++s->b->seq;
    ev->ts = (int64_t)r->ts + s->boot_off;
    ev->tid = r->tid;
    ev->pid = r->pid;
}

static void decode_exec(mm_bpf_src *s, const struct mm_brec *r, size_t size)
{
    mm_sensor_base *b = s->b;
    mm_proc *p = mm_proctab_get(b->pt, r->pid);
    if (!p)
        p = mm_proctab_add(b->pt, r->pid, r->ppid);
    if (!p->parent && r->ppid) {
        mm_proc *pp = mm_sn_proc(b, r->ppid);
        if (pp && pp != p)
            mm_proc_set_parent(p, pp);
    }
    p->ppid = r->ppid;
    p->tid = r->pid;
    p->vpid = p->vtid = r->vpid;
    char comm[17];
    memcpy(comm, r->comm, 16);
    comm[16] = 0;
    mm_proc_set(&p->comm, comm);
    size_t alen = r->len2 > 0 && (size_t)r->len2 <= MM_S2_SIZE &&
                  offsetof(struct mm_brec, s2) + r->len2 <= size ? r->len2 - 1 : 0;
    if (alen)
        mm_sn_set_argv_blob(p, r->s2, alen);
    else
        mm_proc_set_argv(p, NULL, 0);
    const char *fn = rec_str(r, r->s1, r->len1, MM_S1_SIZE, size);
    if (!alen)
        mm_proc_set(&p->exe, fn);
    p->uid = r->uid;
    p->gid = r->gid;
    p->euid = r->euid;
    p->egid = r->egid;
    p->loginuid = r->loginuid;
    p->cap_effective = r->cap_eff;
    p->cap_permitted = r->cap_perm;
    p->cap_inheritable = r->cap_inh;
    p->tty = r->tty;
    p->exe_ino = r->exe_ino;
    p->exe_ino_ctime = (int64_t)r->exe_ctime;
    p->exe_ino_mtime = (int64_t)r->exe_mtime;
    p->exe_flags = ((r->exe_flags & MM_BEXE_MEMFD) ? MM_EXE_FROM_MEMFD : 0) |
                   ((r->exe_flags & MM_BEXE_UPPER) ? MM_EXE_UPPER_LAYER : 0) |
                   ((r->exe_flags & MM_BEXE_LOWER) ? MM_EXE_LOWER_LAYER : 0);
    bool whole = size >= sizeof *r;
    if (whole && r->len4 && r->len4 <= MM_S4_SIZE)
        mm_sn_set_env_blob(p, r->s4, r->len4 - 1);
    else
        mm_proc_set(&p->env, NULL);
    p->mntns = r->mntns;
    /* exe path and cwd as the kernel had them at the exec (the names the
     * BPF side walked up from the dentries); /proc only when that walk did
     * not reach the root (very deep paths) */
    free(p->exepath);
    p->exepath = NULL;
    char *kx = whole && (r->exe_flags & MM_BEXE_EXEPATH) ? join_path(r->s5, r->len5, false) : NULL;
    char *kc = whole && (r->exe_flags & MM_BEXE_CWD) ? join_path(r->s6, r->len6, true) : NULL;
    if (!kx || !kc)
        mm_sn_fill_cwd_exe(b->proc_root, p);
    if (kx) {
        free(p->exepath);
        p->exepath = kx;
    }
    if (kc) {
        free(p->cwd);
        p->cwd = kc;
    }
    mm_sn_resolve_users(b, p);
    if (p->exe_flags & MM_EXE_FROM_MEMFD) {
        const char *dn = rec_str(r, r->s3, r->len3, MM_S3_SIZE, size);
        char *e = mm_xasprintf("/%s", dn ? dn : "memfd:");
        mm_proc_set(&p->exepath, e);
        free(e);
    } else if (!p->exepath && fn) {
        char *full = fn[0] == '/' || !p->cwd ? mm_xstrdup(fn)
                   : mm_xasprintf("%s%s", p->cwd, fn + (fn[0] == '.' && fn[1] == '/' ? 2 : 0));
        mm_proc_set(&p->exepath, full);
        free(full);
    } else if (p->exepath && mm_str_endswith(p->exepath, " (deleted)")) {
        p->exepath[strlen(p->exepath) - 10] = 0;
    }
    /* the cgroup at the time of the exec (the kernel's id) wins over
     * /proc, read later; /proc serves v1-only hosts and unknown ids */
    const char *cgp = cg_path(s, r->cgid);
    char *cg = cgp ? mm_xstrdup(cgp) : mm_sn_proc_cgroup(b->proc_root, r->pid);
    char cid[65];
    if (whole && (!cg || !mm_cgroup_container_id(cg, cid, NULL))) {
        /* hybrid hosts: the v1 pids cgroup the exec record names (no
         * race with a program that exits at once) */
        char leaf[MM_CG1_SIZE + 2];
        memcpy(leaf + 1, r->cg1, MM_CG1_SIZE);
        leaf[0] = '/';
        leaf[MM_CG1_SIZE + 1] = 0;
        if (mm_cgroup_container_id(leaf, cid, NULL)) {
            free(cg);
            cg = mm_xstrdup(leaf);
        }
    }
    if (cg)
        mm_sn_set_cgroup(b, p, cg);
    free(cg);
    mm_event ev;
    ev_head(s, r, MM_EVT_EXECVE, &ev);
    ev.proc = p;
    ev.path = fn;
    ev.flags = p->exe_flags;
    deliver(s, &ev);
}

static void decode_sys(mm_bpf_src *s, const struct mm_brec *r, size_t size)
{
    mm_sensor_base *b = s->b;
    if (r->nr < 0 || r->nr >= MM_SYS_MAX)
        return;
    mm_evt_type type = s->type_of[r->nr];
    if (type == MM_EVT_UNKNOWN)
        return;
    mm_event ev;
    ev_head(s, r, type, &ev);
    ev.res = r->res;
    ev.proc = mm_sn_proc(b, r->pid);
    const char *s1 = rec_str(r, r->s1, r->len1, MM_S1_SIZE, size);
    const char *s2 = rec_str(r, r->s2, r->len2, MM_S2_SIZE, size);
    const char *s3 = rec_str(r, r->s3, r->len3, MM_S3_SIZE, size);
    const __u64 *a = r->args;
    char upath[110];
    size_t salen = r->len2 && offsetof(struct mm_brec, s2) + r->len2 <= size ? r->len2 : 0;
    switch (ev.type) {
    case MM_EVT_OPEN:
        ev.path = s1; ev.flags = (uint32_t)a[1]; ev.mode = (uint32_t)a[2]; ev.arg_fd = -100;
        break;
    case MM_EVT_CREAT:
        ev.path = s1; ev.flags = O_CREAT | O_WRONLY | O_TRUNC; ev.mode = (uint32_t)a[1];
        ev.arg_fd = -100;
        break;
    case MM_EVT_OPENAT:
        ev.arg_fd = (int32_t)a[0]; ev.path = s1; ev.flags = (uint32_t)a[2]; ev.mode = (uint32_t)a[3];
        break;
    case MM_EVT_OPENAT2:
        ev.arg_fd = (int32_t)a[0]; ev.path = s1;
        break;
    case MM_EVT_CLOSE: case MM_EVT_LISTEN: case MM_EVT_DUP: case MM_EVT_FCHDIR:
    case MM_EVT_FINIT_MODULE:
        ev.arg_fd = (int32_t)a[0];
        break;
    case MM_EVT_FCHMOD:
        ev.arg_fd = (int32_t)a[0]; ev.mode = (uint32_t)a[1];
        break;
    case MM_EVT_SOCKET:
        ev.sock_domain = (uint16_t)a[0]; ev.sock_type = (uint16_t)a[1]; ev.sock_proto = (uint16_t)a[2];
        ev.flags = (uint32_t)a[1];
        break;
    case MM_EVT_CONNECT: case MM_EVT_BIND: case MM_EVT_ACCEPT: case MM_EVT_ACCEPT4:
    case MM_EVT_SENDTO: case MM_EVT_SENDMSG: case MM_EVT_RECVFROM: case MM_EVT_RECVMSG:
        ev.arg_fd = (int32_t)a[0];
        if (salen)
            parse_sa(r->s2, salen, &ev.addr, upath, sizeof upath);
        if (r->lfamily == AF_INET || r->lfamily == AF_INET6) {
            ev.laddr.family = r->lfamily;
            ev.laddr.ip.family = (uint8_t)r->lfamily;
            memcpy(ev.laddr.ip.ip, r->laddr, 16);
            ev.laddr.port = (uint16_t)r->lport;
        }
        if (ev.type == MM_EVT_SENDTO || ev.type == MM_EVT_RECVFROM)
            ev.size = a[2];
        if (ev.type == MM_EVT_ACCEPT4)
            ev.flags = (uint32_t)a[3];
        break;
    case MM_EVT_DUP2: case MM_EVT_DUP3:
        ev.arg_fd = (int32_t)a[0]; ev.arg_fd2 = (int32_t)a[1];
        if (ev.type == MM_EVT_DUP3)
            ev.flags = (uint32_t)a[2];
        break;
    case MM_EVT_RENAME: case MM_EVT_SYMLINK: case MM_EVT_LINK: case MM_EVT_PIVOT_ROOT:
        ev.path = s1; ev.path2 = s2 && r->len2 <= MM_S1_SIZE ? s2 : NULL;
        break;
    case MM_EVT_RENAMEAT: case MM_EVT_RENAMEAT2: case MM_EVT_LINKAT:
        ev.arg_fd = (int32_t)a[0]; ev.arg_fd2 = (int32_t)a[2];
        ev.path = s1; ev.path2 = s2;
        ev.flags = (uint32_t)a[4];
        break;
    case MM_EVT_SYMLINKAT:
        ev.path = s1; ev.path2 = s2; ev.arg_fd = (int32_t)a[1];
        break;
    case MM_EVT_UNLINK: case MM_EVT_RMDIR: case MM_EVT_CHDIR: case MM_EVT_CHROOT:
    case MM_EVT_UMOUNT2: case MM_EVT_DELETE_MODULE:
        ev.path = s1;
        if (ev.type == MM_EVT_UMOUNT2)
            ev.flags = (uint32_t)a[1];
        break;
    case MM_EVT_MKDIR: case MM_EVT_CHMOD:
        ev.path = s1; ev.mode = (uint32_t)a[1];
        break;
    case MM_EVT_UNLINKAT: case MM_EVT_MKDIRAT: case MM_EVT_FCHMODAT:
        ev.arg_fd = (int32_t)a[0]; ev.path = s1;
        if (ev.type == MM_EVT_UNLINKAT)
            ev.flags = (uint32_t)a[2];
        else
            ev.mode = (uint32_t)a[2];
        break;
    case MM_EVT_SETUID: case MM_EVT_SETGID:
        ev.target_id = (int32_t)a[0];
        break;
    case MM_EVT_SETREUID: case MM_EVT_SETREGID: case MM_EVT_SETRESUID: case MM_EVT_SETRESGID:
        ev.target_id = (int32_t)a[1];
        break;
    case MM_EVT_SETNS:
        ev.arg_fd = (int32_t)a[0]; ev.nstype = ev.flags = (uint32_t)a[1];
        break;
    case MM_EVT_UNSHARE:
        ev.nstype = ev.flags = (uint32_t)a[0];
        break;
    case MM_EVT_PTRACE:
        ev.request = (int64_t)a[0]; ev.target_id = (int32_t)a[1];
        break;
    case MM_EVT_MOUNT:
        ev.path = s1; ev.path2 = s2; ev.fstype = s3; ev.flags = (uint32_t)a[3];
        break;
    case MM_EVT_INIT_MODULE:
        ev.size = a[1];
        break;
    case MM_EVT_MEMFD_CREATE:
        ev.path = s1; ev.flags = (uint32_t)a[1];
        break;
    case MM_EVT_KILL:
        ev.target_id = (int32_t)a[0]; ev.request = (int64_t)a[1];
        break;
    case MM_EVT_BPF: case MM_EVT_PRCTL:
        ev.request = (int64_t)a[0];
        break;
    case MM_EVT_PROCESS_VM_WRITEV:
        ev.target_id = (int32_t)a[0];
        break;
    default:
        break;
    }
    if ((ev.type == MM_EVT_OPEN || ev.type == MM_EVT_OPENAT || ev.type == MM_EVT_CREAT) &&
        (r->kind == MM_REC_SYS && (r->exe_flags & MM_BSYS_CREATED)))
        ev.flags |= MM_O_F_CREATED;
    deliver(s, &ev);
}

/* A compact syscall record (sensor_abi.h) carries only what decode_sys
 * reads for its kinds; it is widened into the general layout so that one
 * decoder serves both. */
static void decode_compact(mm_bpf_src *s, const struct mm_bsys *c, size_t size)
{
    if (size < offsetof(struct mm_bsys, s1) ||
        (c->len1 && (c->len1 > MM_S1_SIZE || offsetof(struct mm_bsys, s1) + c->len1 > size))) {
        s->b->st.malformed++;
        return;
    }
    struct mm_brec *w = &s->wide;
    memset(w, 0, offsetof(struct mm_brec, s1));
    w->kind = MM_REC_SYS;
    w->cpu = c->cpu;
    w->pid = c->pid;
    w->tid = c->tid;
    w->ts = c->ts;
    w->nr = c->nr;
    w->res = c->res;
    memcpy(w->args, c->args, sizeof w->args);
    w->len1 = c->len1;
    if (c->len1)
        memcpy(w->s1, c->s1, c->len1);
    w->exe_flags = c->flags;   /* MM_BSYS_CREATED, read by decode_sys */
    decode_sys(s, w, offsetof(struct mm_brec, s1) + c->len1);
}

static void decode_record(mm_bpf_src *s, const void *data, size_t size)
{
    const struct mm_brec *r = data;
    if (size >= sizeof(uint16_t) && r->kind == MM_REC_SYSC) {
        decode_compact(s, data, size);
        return;
    }
    if (size < offsetof(struct mm_brec, s1)) {
        s->b->st.malformed++;
        return;
    }
    switch (r->kind) {
    case MM_REC_SYS:
        decode_sys(s, r, size);
        break;
    case MM_REC_EXEC:
        decode_exec(s, r, size);
        break;
    case MM_REC_FORK: {
        mm_event ev;
        ev_head(s, r, MM_EVT_CLONE, &ev);
        ev.res = r->res;
        ev.proc = mm_sn_proc(s->b, r->pid);
        deliver(s, &ev);
        mm_proc *c = mm_proctab_get(s->b->pt, r->res);
        if (c)
            c->vpid = c->vtid = r->vpid;
        break;
    }
    case MM_REC_EXIT: {
        mm_event ev;
        ev_head(s, r, MM_EVT_PROCEXIT, &ev);
        ev.tid = r->pid;
        ev.res = r->res;
        ev.proc = mm_proctab_get(s->b->pt, r->pid);
        if (!ev.proc)
            break;   /* never seen: nothing to say about it */
        deliver(s, &ev);
        break;
    }
    default:
        s->b->st.malformed++;
    }
}

/* The time a record was made (0 when it is too short to say; decoding
 * then counts it as malformed). */
static uint64_t record_ts(const void *data, size_t size)
{
    const struct mm_brec *r = data;
    if (size >= offsetof(struct mm_bsys, s1) && r->kind == MM_REC_SYSC)
        return ((const struct mm_bsys *)data)->ts;
    if (size >= offsetof(struct mm_brec, s1))
        return r->ts;
    return 0;
}

/* libbpf's callback, for every CPU's ring: the record is copied aside to
 * be decoded in time order when the poll ends (flush_staged). */
/* Ring size per CPU: 32 MiB shared out among the possible CPUs (a VM may
 * list many hot-plug CPUs), a power of two between 256 KiB and
 * MM_RB_CPU_SIZE. */
static uint32_t ring_size_for(int ncpu)
{
    uint32_t sz = MM_RB_CPU_SIZE;
    while (sz > (256u << 10) && (uint64_t)sz * (uint64_t)(ncpu > 0 ? ncpu : 1) > (32u << 20))
        sz /= 2;
    return sz;
}

static int on_record(void *ctx, void *data, size_t size)
{
    struct cpu_ring *ring = ctx;
    mm_bpf_src *s = ring->s;
    if (size > sizeof(struct mm_brec)) {
        s->b->st.malformed++;
    } else {
        size_t need = (size + 7) & ~(size_t)7;
        if (s->alen + need > s->acap) {
            s->acap = s->acap ? s->acap * 2 : 1u << 20;
            while (s->alen + need > s->acap)
                s->acap *= 2;
            s->arena = mm_xrealloc(s->arena, s->acap);
        }
        if (s->nstg == s->cstg) {
            s->cstg = s->cstg ? s->cstg * 2 : 4096;
            s->stg = mm_xrealloc(s->stg, s->cstg * sizeof *s->stg);
        }
        memcpy(s->arena + s->alen, data, size);
        uint64_t ts = record_ts(data, size);
        s->stg[s->nstg++] = (struct staged){ ts, s->seqno++, s->alen, (uint32_t)size };
        s->alen += need;
        ring->last_ts = ts;
    }
    /* the record is consumed either way; a negative return only stops
     * this round of consumption of this ring */
    if (ring->budget && --ring->budget == 0)
        return -EAGAIN;
    return 0;
}

static int staged_cmp(const void *a, const void *b)
{
    const struct staged *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Decodes in time order the staged records made up to `upto` (each ring
 * is already in order; equal times keep the order they were read) and
 * keeps the later ones, compacted, for the next poll: a record another CPU
 * made just before them may still be on its way. */
static void flush_staged(mm_bpf_src *s, uint64_t upto)
{
    if (s->nstg > 1)
        qsort(s->stg, s->nstg, sizeof *s->stg, staged_cmp);
    size_t i = 0;
    for (; i < s->nstg && s->stg[i].ts <= upto; i++)
        decode_record(s, s->arena + s->stg[i].off, s->stg[i].size);
    size_t keep = s->nstg - i;
    if (!keep) {
        s->nstg = 0;
        s->alen = 0;
        return;
    }
    size_t bytes = 0;
    for (size_t k = i; k < s->nstg; k++)
        bytes += ((size_t)s->stg[k].size + 7) & ~(size_t)7;
    char *tmp = mm_xmalloc(bytes);
    size_t pos = 0;
    for (size_t k = i; k < s->nstg; k++) {
        struct staged st = s->stg[k];
        memcpy(tmp + pos, s->arena + st.off, st.size);
        st.off = pos;
        s->stg[k - i] = st;
        pos += ((size_t)st.size + 7) & ~(size_t)7;
    }
    memcpy(s->arena, tmp, bytes);
    free(tmp);
    s->nstg = keep;
    s->alen = bytes;
}

/* ---- lifecycle ------------------------------------------------------------------- */

int mm_bpf_open(mm_bpf_src **out, mm_sensor_base *b, const mm_sensor_opts *o)
{
    *out = NULL;
    libbpf_set_print(libbpf_quiet);
    libbpf_msg[0] = 0;
    struct mm_sensor_bpf *skel = NULL;
    int rc = -1;
    /* x86_64: first the BTF tracepoint for syscall exits (typed register
     * loads), then, if the kernel refuses it, the raw tracepoint */
    for (int attempt = 0; attempt < 2 && rc; attempt++) {
        if (skel)
            mm_sensor_bpf__destroy(skel);
        skel = mm_sensor_bpf__open();
        if (!skel)
            return mm_error_set(MM_EUNSUPPORTED, "bpf sensor: cannot open the BPF object: %s",
                                libbpf_msg[0] ? libbpf_msg : strerror(errno));
        skel->rodata->self_tgid = (uint32_t)getpid();
        int ncpu = libbpf_num_possible_cpus();
        bpf_map__set_max_entries(skel->maps.rbs, ncpu > 0 ? (uint32_t)ncpu : 1);
        unsigned wake = o && o->wakeup_every ? o->wakeup_every : 1024;
        /* a batch must fit in half a ring even if every record is a whole
         * exec record */
        unsigned fit = ring_size_for(libbpf_num_possible_cpus()) / 2 / sizeof(struct mm_brec);
        skel->rodata->wakeup_every = wake < fit ? wake : fit;
        skel->rodata->wake_gap_ns = (uint64_t)MM_WAKE_GAP_MS * 1000000u;
#if defined(__x86_64__)
        /* arguments are read from the saved registers at exit (sensor.bpf.c) */
        bpf_program__set_autoload(skel->progs.on_sys_enter, false);
        bpf_program__set_autoload(attempt == 0 ? skel->progs.on_sys_exit
                                               : skel->progs.on_sys_exit_btf, false);
#else
        attempt = 1;
#endif
        libbpf_msg[0] = 0;
        rc = mm_sensor_bpf__load(skel);
    }
    if (rc) {
        mm_sensor_bpf__destroy(skel);
        char *m = mm_xstrdup(libbpf_msg);
        mm_str_trim(m);
        rc = mm_error_set(MM_EUNSUPPORTED, "bpf sensor: the kernel refused the BPF program "
                          "(%s)%s%s", strerror(-rc), m[0] ? ": " : "", m);
        free(m);
        return rc;
    }
    mm_bpf_src *s = mm_xcalloc(1, sizeof *s);
    s->epfd = -1;
    s->b = b;
    s->skel = skel;
    s->boot_off = mm_sn_boot_offset();
    s->cgpaths = mm_map_new();
    s->cg2root = find_cg2root();
    s->ncpu = libbpf_num_possible_cpus();
    int cfd = bpf_map__fd(skel->maps.sysconf);
    for (size_t i = 0; i < mm_sn_nsysdefs; i++) {
        uint32_t k = (uint32_t)mm_sn_sysdefs[i].nr, v = mm_sn_sysdefs[i].kind;
        if (k >= MM_SYS_MAX)
            continue;
        s->type_of[k] = mm_sn_sysdefs[i].type;
        bpf_map_update_elem(cfd, &k, &v, BPF_ANY);
    }
    /* one ring buffer per possible CPU, each put in the program's array
     * (before any hook attaches: a record with no ring is a drop) and
     * read by a libbpf consumer of its own */
    int nrb = s->ncpu > 0 ? s->ncpu : 1;
    s->ring_size = ring_size_for(nrb);
    s->rings = mm_xcalloc((size_t)nrb, sizeof *s->rings);
    s->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (s->epfd < 0) {
        int e = errno;
        mm_bpf_free(s);
        return mm_error_set(MM_EUNSUPPORTED, "bpf sensor: epoll: %s", strerror(e));
    }
    int outer = bpf_map__fd(skel->maps.rbs);
    for (int i = 0; i < nrb; i++) {
        struct cpu_ring *ring = &s->rings[i];
        ring->s = s;
        ring->fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "mm_rb_cpu", 0, 0, s->ring_size, NULL);
        int e = ring->fd < 0 ? errno : 0;
        s->nrb++;
        uint32_t k = (uint32_t)i;
        if (!e && bpf_map_update_elem(outer, &k, &ring->fd, BPF_ANY) < 0)
            e = errno;
        if (!e && !(ring->rb = ring_buffer__new(ring->fd, on_record, ring, NULL)))
            e = errno ? errno : EINVAL;
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)i };
        if (!e && epoll_ctl(s->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(ring->rb), &ev) < 0)
            e = errno;
        if (e) {
            mm_bpf_free(s);
            return mm_error_set(MM_EUNSUPPORTED, "bpf sensor: ring buffer of CPU %d: %s", i,
                                strerror(e));
        }
    }
    /* attach one by one: report each hook */
    struct bpf_program *prog;
    size_t ok = 0;
    bpf_object__for_each_program(prog, skel->obj) {
        libbpf_msg[0] = 0;
        if (!bpf_program__autoload(prog))
            continue;
        struct bpf_link *l = bpf_program__attach(prog);
        const char *sec = bpf_program__section_name(prog);
        if (!l) {
            char err[256];
            snprintf(err, sizeof err, "%s", strerror(errno));
            mm_sn_hook(b, sec, false, err);
        } else {
            mm_sn_hook(b, sec, true, NULL);
            /* the skeleton's destroy frees links it knows; keep ours */
            if (prog == skel->progs.on_exec) skel->links.on_exec = l;
            else if (prog == skel->progs.on_fork) skel->links.on_fork = l;
            else if (prog == skel->progs.on_exit) skel->links.on_exit = l;
            else if (prog == skel->progs.on_sys_enter) skel->links.on_sys_enter = l;
            else if (prog == skel->progs.on_sys_exit) skel->links.on_sys_exit = l;
#if defined(__x86_64__)
            else if (prog == skel->progs.on_sys_exit_btf) skel->links.on_sys_exit_btf = l;
#endif
            ok++;
        }
    }
    if (!ok) {
        mm_bpf_free(s);
        return mm_error_set(MM_EUNSUPPORTED, "bpf sensor: no hook attached");
    }
    *out = s;
    return 0;
}

int mm_bpf_poll(mm_bpf_src *s, int timeout_ms)
{
    uint64_t before = s->b->st.decoded;
    struct epoll_event evs[8];
    struct timespec now;
    clock_gettime(CLOCK_BOOTTIME, &now);
    uint64_t tn = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    /* adaptive: held-back records are due within the grace period; while
     * records flow, the ones written without a wake-up are due within the
     * wake gap; a quiet system sleeps until the kernel wakes it */
    if (timeout_ms != 0) {
        int cap = -1;
        if (s->nstg)
            cap = 2;
        else if (tn - s->last_rec_ns < MM_BUSY_SPELL_NS)
            cap = MM_WAKE_GAP_MS;
        if (cap >= 0 && (timeout_ms < 0 || timeout_ms > cap))
            timeout_ms = cap;
    }
    if (epoll_wait(s->epfd, evs, 8, timeout_ms) < 0 && errno != EINTR)
        return mm_error_set(MM_EIO, "bpf sensor: ring buffer poll: %s", strerror(errno));
    /* Records made more than a grace period before the drain began are
     * all in their rings by now (a BPF program runs for microseconds), so
     * those are delivered, in time order, and later ones wait for the next
     * poll.  A ring left at its budget holds back everything after the
     * last record taken from it.  timeout 0 delivers everything (the
     * caller is draining before it stops or reports). */
    clock_gettime(CLOCK_BOOTTIME, &now);   /* bpf_ktime_get_boot_ns() */
    uint64_t t0 = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    uint64_t upto = timeout_ms == 0 ? UINT64_MAX : t0 - MM_ORDER_GRACE_NS;
    /* every ring is drained, woken or not: records are written without a
     * wake-up between batches */
    uint32_t per = POLL_BUDGET / (uint32_t)s->nrb;
    int err = 0;
    for (int i = 0; i < s->nrb; i++) {
        struct cpu_ring *ring = &s->rings[i];
        ring->budget = per < 64 ? 64 : per;
        int rc = ring_buffer__consume(ring->rb);
        if (rc < 0 && rc != -EAGAIN && rc != -EINTR && !err)
            err = rc;
        if (ring->budget == 0 && timeout_ms != 0 && ring->last_ts < upto)
            upto = ring->last_ts;   /* stopped at its budget */
        ring->budget = 0;
    }
    if (s->nstg)
        s->last_rec_ns = t0;
    flush_staged(s, upto);
    if (err)
        return mm_error_set(MM_EIO, "bpf sensor: ring buffer: %s", strerror(-err));
    return (int)(s->b->st.decoded - before);
}

void mm_bpf_stats(mm_bpf_src *s, mm_sensor_stats *st)
{
    if (s->ncpu <= 0)
        return;
    struct mm_bstats *v = mm_xcalloc((size_t)s->ncpu, sizeof *v);
    uint32_t z = 0;
    if (bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.stats), &z, v) == 0) {
        st->records = st->drops = st->enter_lost = 0;
        for (int i = 0; i < s->ncpu; i++) {
            st->records += v[i].events;
            st->drops += v[i].drops;
            st->enter_lost += v[i].enter_lost;
        }
    }
    free(v);
}

static void free_str(void *v) { free(v); }

void mm_bpf_free(mm_bpf_src *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nrb; i++) {
        ring_buffer__free(s->rings[i].rb);
        if (s->rings[i].fd >= 0)
            close(s->rings[i].fd);
    }
    free(s->rings);
    if (s->epfd >= 0)
        close(s->epfd);
    free(s->arena);
    free(s->stg);
    mm_sensor_bpf__destroy(s->skel);
    mm_map_free(s->cgpaths, free_str);
    free(s->cg2root);
    free(s);
}
