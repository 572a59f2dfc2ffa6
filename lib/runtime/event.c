/*
 * event.c - the runtime event model: event type names, process records,
 * per-process fd tables, containers and the process table, plus the state
 * changes each event implies (mm_proctab_apply), shared by every source.
 *
 * Records are reference counted so that an ancestor chain stays readable
 * (proc.aname[N]) after a parent exits, and so that the process of a
 * procexit event can still be read by rules while it is being removed.
 *
 * Length: the process table's hashing, the fd tables and the state changes
 * each event implies share the records' private layout (reference counts, fd
 * slots); the state changes are the last section.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "mamori/event.h"
#include "runtime/runtime_int.h"
#include "util/util.h"

/* ---- names -------------------------------------------------------------- */

static const char *const evt_names[MM_EVT__COUNT] = {
#define N_(e, s) s,
    MM_EVT_TYPES(N_)
#undef N_
};

const char *mm_evt_type_name(mm_evt_type t)
{
    if ((unsigned)t >= MM_EVT__COUNT)
        return "unknown";
    return evt_names[t];
}

mm_evt_type mm_evt_type_from_name(const char *name)
{
    if (!name)
        return MM_EVT_UNKNOWN;
    for (int i = 1; i < MM_EVT__COUNT; i++)
        if (!strcmp(evt_names[i], name))
            return (mm_evt_type)i;
    /* names Falco uses for the same syscalls on other architectures */
    if (!strcmp(name, "pread64")) return MM_EVT_PREAD;
    if (!strcmp(name, "pwrite64")) return MM_EVT_PWRITE;
    if (!strcmp(name, "prlimit64")) return MM_EVT_PRLIMIT;
    return MM_EVT_UNKNOWN;
}

static const struct { const char *name; char c; } fd_types[MM_FD__COUNT] = {
    [MM_FD_UNKNOWN] = {"unknown", 'o'},   [MM_FD_FILE] = {"file", 'f'},
    [MM_FD_DIRECTORY] = {"directory", 'd'}, [MM_FD_IPV4] = {"ipv4", '4'},
    [MM_FD_IPV6] = {"ipv6", '6'},         [MM_FD_UNIX] = {"unix", 'u'},
    [MM_FD_PIPE] = {"pipe", 'p'},         [MM_FD_EVENT] = {"event", 'e'},
    [MM_FD_SIGNALFD] = {"signalfd", 's'}, [MM_FD_EVENTPOLL] = {"eventpoll", 'l'},
    [MM_FD_INOTIFY] = {"inotify", 'i'},   [MM_FD_TIMERFD] = {"timerfd", 't'},
    [MM_FD_NETLINK] = {"netlink", 'n'},   [MM_FD_BPF] = {"bpf", 'b'},
    [MM_FD_USERFAULTFD] = {"userfaultfd", 'u'}, [MM_FD_IOURING] = {"io_uring", 'r'},
    [MM_FD_MEMFD] = {"memfd", 'm'},       [MM_FD_PIDFD] = {"pidfd", 'P'},
};

const char *mm_fd_type_name(mm_fd_type t)
{
    return (unsigned)t < MM_FD__COUNT ? fd_types[t].name : "unknown";
}

char mm_fd_type_char(mm_fd_type t)
{
    return (unsigned)t < MM_FD__COUNT ? fd_types[t].c : 'o';
}

mm_fd_type mm_fd_type_from_name(const char *name)
{
    if (!name)
        return MM_FD_UNKNOWN;
    for (int i = 0; i < MM_FD__COUNT; i++)
        if (!strcmp(fd_types[i].name, name))
            return (mm_fd_type)i;
    return MM_FD_UNKNOWN;
}

/* ---- containers ----------------------------------------------------------- */

int mm_container_new(mm_container **out, const char *id)
{
    mm_container *c = mm_xcalloc(1, sizeof *c);
    c->refs = 1;
    c->id = mm_xstrdup(id ? id : "host");
    *out = c;
    return MM_OK;
}

mm_container *mm_container_ref(mm_container *c)
{
    if (c)
        c->refs++;
    return c;
}

void mm_container_unref(mm_container *c)
{
    if (!c || --c->refs > 0)
        return;
    free(c->id); free(c->full_id); free(c->name); free(c->type);
    free(c->image); free(c->image_repository); free(c->image_tag);
    free(c->image_digest); free(c->image_id);
    free(c->k8s_pod_name); free(c->k8s_ns_name); free(c->k8s_pod_uid);
    for (size_t i = 0; i < c->nmounts; i++) {
        free(c->mounts[i].source); free(c->mounts[i].dest); free(c->mounts[i].mode);
    }
    free(c->mounts);
    free(c);
}

/* ---- fd tables: open addressing keyed by fd -------------------------------- */

struct mm_fdtab {
    mm_fdinfo **slot;      /* NULL = empty; deleted slots are compacted */
    size_t cap, n;
};

#define FDTAB_MAX 65536    /* a process with more open fds is capped */

static size_t fd_hash(int64_t fd, size_t cap)
{
    uint64_t h = (uint64_t)fd * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 32) & (cap - 1);
}

static void fdinfo_free(mm_fdinfo *f)
{
    if (f) {
        free(f->name);
        free(f);
    }
}

static mm_fdinfo **fdtab_find(mm_fdtab *t, int64_t fd)
{
    if (!t || !t->cap)
        return NULL;
    for (size_t i = fd_hash(fd, t->cap), k = 0; k < t->cap; k++, i = (i + 1) & (t->cap - 1)) {
        if (!t->slot[i])
            return NULL;
        if (t->slot[i]->fd == fd)
            return &t->slot[i];
    }
    return NULL;
}

static void fdtab_insert(mm_fdtab *t, mm_fdinfo *f);

static void fdtab_grow(mm_fdtab *t)
{
    size_t ocap = t->cap;
    mm_fdinfo **old = t->slot;
    t->cap = ocap ? ocap * 2 : 16;
    t->slot = mm_xcalloc(t->cap, sizeof *t->slot);
    t->n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i])
            fdtab_insert(t, old[i]);
    free(old);
}

static void fdtab_insert(mm_fdtab *t, mm_fdinfo *f)
{
    if ((t->n + 1) * 4 > t->cap * 3)
        fdtab_grow(t);
    size_t i = fd_hash(f->fd, t->cap);
    while (t->slot[i])
        i = (i + 1) & (t->cap - 1);
    t->slot[i] = f;
    t->n++;
}

/* Removes slot i and re-inserts the rest of its cluster (no tombstones). */
static void fdtab_delete_at(mm_fdtab *t, size_t i)
{
    fdinfo_free(t->slot[i]);
    t->slot[i] = NULL;
    t->n--;
    for (size_t j = (i + 1) & (t->cap - 1); t->slot[j]; j = (j + 1) & (t->cap - 1)) {
        mm_fdinfo *f = t->slot[j];
        t->slot[j] = NULL;
        t->n--;
        fdtab_insert(t, f);
    }
}

static void fdtab_free(mm_fdtab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->cap; i++)
        fdinfo_free(t->slot[i]);
    free(t->slot);
    free(t);
}

const mm_fdinfo *mm_proc_fd(const mm_proc *p, int64_t fd)
{
    if (!p || !p->fds)
        return NULL;
    mm_fdinfo **s = fdtab_find(p->fds, fd);
    return s ? *s : NULL;
}

mm_fdinfo *mm_proc_fd_set(mm_proc *p, int64_t fd)
{
    if (!p->fds)
        p->fds = mm_xcalloc(1, sizeof *p->fds);
    mm_fdinfo **s = fdtab_find(p->fds, fd);
    if (s) {
        free((*s)->name);
        memset(*s, 0, sizeof **s);
        (*s)->fd = fd;
        return *s;
    }
    mm_fdinfo *f = mm_xcalloc(1, sizeof *f);
    f->fd = fd;
    if (p->fds->n >= FDTAB_MAX) {
        /* capped: keep the table bounded; the record is still returned
         * but lives in a throw-away slot (the oldest cluster head). */
        size_t i = fd_hash(fd, p->fds->cap);
        while (!p->fds->slot[i])
            i = (i + 1) & (p->fds->cap - 1);
        fdtab_delete_at(p->fds, i);
    }
    fdtab_insert(p->fds, f);
    return f;
}

void mm_proc_fd_close(mm_proc *p, int64_t fd)
{
    if (!p || !p->fds)
        return;
    mm_fdinfo **s = fdtab_find(p->fds, fd);
    if (s)
        fdtab_delete_at(p->fds, (size_t)(s - p->fds->slot));
}

static void fdinfo_copy(mm_fdinfo *dst, const mm_fdinfo *src)
{
    int64_t fd = dst->fd;
    char *oldname = dst->name;
    *dst = *src;
    dst->fd = fd;
    dst->name = mm_xstrdup(src->name);
    free(oldname);
}

void mm_proc_fd_dup(mm_proc *p, int64_t oldfd, int64_t newfd)
{
    const mm_fdinfo *o = mm_proc_fd(p, oldfd);
    if (!o || oldfd == newfd)
        return;
    mm_fdinfo tmp = *o;
    tmp.name = mm_xstrdup(o->name);  /* o may move when the table grows */
    mm_fdinfo *n = mm_proc_fd_set(p, newfd);
    fdinfo_copy(n, &tmp);
    free(tmp.name);
}

bool mm_proc_fd_next(const mm_proc *p, size_t *it, const mm_fdinfo **out)
{
    if (!p || !p->fds)
        return false;
    while (*it < p->fds->cap) {
        mm_fdinfo *f = p->fds->slot[(*it)++];
        if (f) {
            *out = f;
            return true;
        }
    }
    return false;
}

void mm_proc_fd_copy(mm_proc *dst, const mm_proc *src)
{
    size_t it = 0;
    const mm_fdinfo *f;
    while (mm_proc_fd_next(src, &it, &f)) {
        mm_fdinfo *n = mm_proc_fd_set(dst, f->fd);
        fdinfo_copy(n, f);
    }
}

void mm_fdinfo_set_name(mm_fdinfo *f, const char *name)
{
    char *o = f->name;
    f->name = mm_xstrdup(name);
    free(o);
}

void mm_event_ip_str(const mm_ipaddr *a, char *out, size_t n)
{
    if (a->family == AF_INET6)
        inet_ntop(AF_INET6, a->ip, out, (socklen_t)n);
    else if (a->family == AF_INET)
        inet_ntop(AF_INET, a->ip, out, (socklen_t)n);
    else
        snprintf(out, n, "0.0.0.0");
}

void mm_fdinfo_name_from_tuple(mm_fdinfo *f)
{
    char c[64], s[64], buf[160];
    mm_event_ip_str(&f->cip, c, sizeof c);
    mm_event_ip_str(&f->sip, s, sizeof s);
    snprintf(buf, sizeof buf, "%s:%u->%s:%u", c, f->cport, s, f->sport);
    mm_fdinfo_set_name(f, buf);
}

/* ---- processes -------------------------------------------------------------- */

int mm_proc_new(mm_proc **out, int64_t pid)
{
    mm_proc *p = mm_xcalloc(1, sizeof *p);
    p->refs = 1;
    p->pid = p->tid = p->vpid = p->vtid = pid;
    p->ppid = -1;
    p->loginuid = UINT32_MAX;
    *out = p;
    return MM_OK;
}

mm_proc *mm_proc_ref(mm_proc *p)
{
    if (p)
        p->refs++;
    return p;
}

void mm_proc_unref(mm_proc *p)
{
    /* iterative up the parent chain: long chains must not recurse */
    while (p && --p->refs <= 0) {
        mm_proc *parent = p->parent;
        free(p->comm); free(p->exe); free(p->exepath); free(p->args);
        mm_strv_free(p->argv, p->argc);
        free(p->cwd); free(p->env); free(p->cgroup);
        free(p->user_name); free(p->group_name); free(p->login_name);
        free(p->user_homedir); free(p->user_shell);
        mm_container_unref(p->container);
        fdtab_free(p->fds);
        free(p);
        p = parent;
    }
}

void mm_proc_set(char **slot, const char *s)
{
    char *o = *slot;
    *slot = mm_xstrdup(s);
    free(o);
}

void mm_proc_set_argv(mm_proc *p, const char *const *argv, size_t argc)
{
    mm_strv_free(p->argv, p->argc);
    p->argv = NULL;
    p->argc = 0;
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < argc; i++) {
        mm_strv_push(&p->argv, &p->argc, argv[i] ? argv[i] : "");
        if (i > 0) {
            if (i > 1)
                mm_buf_addc(&b, ' ');
            mm_buf_adds(&b, argv[i] ? argv[i] : "");
        }
    }
    free(p->args);
    p->args = mm_buf_detach(&b);
}

void mm_proc_set_parent(mm_proc *p, mm_proc *parent)
{
    /* refuse cycles: a parent chain must end */
    for (mm_proc *a = parent; a; a = a->parent)
        if (a == p)
            return;
    mm_proc *o = p->parent;
    p->parent = mm_proc_ref(parent);
    if (parent)
        p->ppid = parent->pid;
    mm_proc_unref(o);
}

void mm_proc_set_container(mm_proc *p, mm_container *c)
{
    mm_container *o = p->container;
    p->container = mm_container_ref(c);
    mm_container_unref(o);
}

const mm_proc *mm_proc_ancestor(const mm_proc *p, int n)
{
    while (p && n-- > 0)
        p = p->parent;
    return p;
}

/* ---- process table: chained hash keyed by pid -------------------------------- */

typedef struct pt_ent {
    int64_t pid;
    mm_proc *p;
    struct pt_ent *next;
} pt_ent;

struct mm_proctab {
    pt_ent **b;
    size_t nb, n, max;
    mm_container *host;
    mm_proc *pending;      /* procexit record kept until the next event */
    mm_fdinfo scratch_fd;  /* failed opens and closed fds */
};

static size_t pid_hash(int64_t pid, size_t nb)
{
    return (size_t)(((uint64_t)pid * 0x9E3779B97F4A7C15ull) >> 29) & (nb - 1);
}

int mm_proctab_new(mm_proctab **out, size_t max_procs)
{
    mm_proctab *t = mm_xcalloc(1, sizeof *t);
    t->nb = 1024;
    t->b = mm_xcalloc(t->nb, sizeof *t->b);
    t->max = max_procs ? max_procs : 65536;
    mm_container_new(&t->host, "host");
    *out = t;
    return MM_OK;
}

void mm_proctab_free(mm_proctab *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nb; i++)
        for (pt_ent *e = t->b[i], *n; e; e = n) {
            n = e->next;
            mm_proc_unref(e->p);
            free(e);
        }
    free(t->b);
    mm_proc_unref(t->pending);
    mm_container_unref(t->host);
    free(t->scratch_fd.name);
    free(t);
}

mm_proc *mm_proctab_get(const mm_proctab *t, int64_t pid)
{
    for (pt_ent *e = t->b[pid_hash(pid, t->nb)]; e; e = e->next)
        if (e->pid == pid)
            return e->p;
    return NULL;
}

static void pt_rehash(mm_proctab *t)
{
    size_t nb = t->nb * 2;
    pt_ent **b = mm_xcalloc(nb, sizeof *b);
    for (size_t i = 0; i < t->nb; i++)
        for (pt_ent *e = t->b[i], *n; e; e = n) {
            n = e->next;
            size_t h = pid_hash(e->pid, nb);
            e->next = b[h];
            b[h] = e;
        }
    free(t->b);
    t->b = b;
    t->nb = nb;
}

/* Evicts some record when the table is full (bounded memory under a fork
 * bomb or lost exit events): the first one of a bucket. */
static void pt_evict(mm_proctab *t)
{
    for (size_t i = 0; i < t->nb; i++)
        if (t->b[i]) {
            mm_proctab_remove(t, t->b[i]->pid);
            return;
        }
}

mm_proc *mm_proctab_add(mm_proctab *t, int64_t pid, int64_t ppid)
{
    mm_proc *p = mm_proctab_get(t, pid);
    if (!p) {
        if (t->n >= t->max)
            pt_evict(t);
        if (t->n * 2 > t->nb)
            pt_rehash(t);
        mm_proc_new(&p, pid);
        mm_proc_set_container(p, t->host);
        pt_ent *e = mm_xcalloc(1, sizeof *e);
        e->pid = pid;
        e->p = p;
        size_t h = pid_hash(pid, t->nb);
        e->next = t->b[h];
        t->b[h] = e;
        t->n++;
    }
    if (ppid > 0 && ppid != pid && (!p->parent || p->parent->pid != ppid)) {
        mm_proc *pp = mm_proctab_get(t, ppid);
        if (pp)
            mm_proc_set_parent(p, pp);
        else
            p->ppid = ppid;
    }
    return p;
}

void mm_proctab_remove(mm_proctab *t, int64_t pid)
{
    pt_ent **pe = &t->b[pid_hash(pid, t->nb)];
    for (; *pe; pe = &(*pe)->next)
        if ((*pe)->pid == pid) {
            pt_ent *e = *pe;
            *pe = e->next;
            mm_proc_unref(e->p);
            free(e);
            t->n--;
            return;
        }
}

size_t mm_proctab_count(const mm_proctab *t)
{
    return t->n;
}

bool mm_proctab_next(const mm_proctab *t, size_t *it, mm_proc **out)
{
    /* *it encodes bucket << 16 | position in chain */
    size_t bi = *it >> 16, pos = *it & 0xffff;
    for (; bi < t->nb; bi++, pos = 0) {
        size_t k = 0;
        for (pt_ent *e = t->b[bi]; e; e = e->next, k++)
            if (k == pos) {
                *out = e->p;
                *it = (bi << 16) | (pos + 1);
                return true;
            }
    }
    *it = bi << 16;
    return false;
}

/* ---- state changes ------------------------------------------------------------ */

/* Absolute, normalised path of an open/chdir argument: relative paths are
 * resolved against the cwd or the dirfd's name as the kernel would. */
char *mm_event_path_resolve(const char *base, const char *path)
{
    mm_buf b = MM_BUF_INIT;
    if (!path)
        return NULL;
    if (path[0] != '/' && base && base[0] == '/') {
        mm_buf_adds(&b, base);
        mm_buf_addc(&b, '/');
    } else if (path[0] != '/') {
        /* unknown base: keep the relative path as given */
        mm_buf_adds(&b, path);
        return mm_buf_detach(&b);
    }
    mm_buf_adds(&b, path);
    /* collapse "//", "/./" and "/x/../" in place */
    char *s = b.data, *out = b.data;
    size_t n = b.len;
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && s[i] == '/')
            i++;
        size_t st = i;
        while (i < n && s[i] != '/')
            i++;
        size_t len = i - st;
        if (len == 0 || (len == 1 && s[st] == '.'))
            continue;
        if (len == 2 && s[st] == '.' && s[st + 1] == '.') {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        memmove(out + o, s + st, len);
        o += len;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = 0;
    b.len = o;
    return mm_buf_detach(&b);
}

static uint8_t l4_of(uint16_t type, uint16_t proto)
{
    type &= 0xf;  /* strip SOCK_NONBLOCK / SOCK_CLOEXEC */
    if (type == SOCK_STREAM)
        return MM_L4_TCP;
    if (type == SOCK_DGRAM)
        return (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) ? MM_L4_ICMP : MM_L4_UDP;
    if (type == SOCK_RAW)
        return (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6) ? MM_L4_ICMP : MM_L4_RAW;
    return MM_L4_NONE;
}

static void addr_to_ip(const mm_evt_addr *a, mm_ipaddr *ip, uint16_t *port)
{
    if (a->family == AF_INET || a->family == AF_INET6) {
        *ip = a->ip;
        ip->family = (uint8_t)a->family;
        *port = a->port;
    }
}

static bool has_fd_param(mm_evt_type t)
{
    switch (t) {
    case MM_EVT_READ: case MM_EVT_PREAD: case MM_EVT_READV:
    case MM_EVT_WRITE: case MM_EVT_PWRITE: case MM_EVT_WRITEV:
    case MM_EVT_SENDTO: case MM_EVT_SENDMSG: case MM_EVT_SENDMMSG:
    case MM_EVT_RECVFROM: case MM_EVT_RECVMSG: case MM_EVT_RECVMMSG:
    case MM_EVT_CONNECT: case MM_EVT_BIND: case MM_EVT_LISTEN:
    case MM_EVT_SHUTDOWN: case MM_EVT_FCHMOD: case MM_EVT_FCHOWN:
    case MM_EVT_FTRUNCATE: case MM_EVT_FCHDIR: case MM_EVT_IOCTL:
    case MM_EVT_FCNTL: case MM_EVT_FINIT_MODULE: case MM_EVT_SETNS:
    case MM_EVT_MMAP:
        return true;
    default:
        return false;
    }
}

static const mm_fdinfo *scratch(mm_proctab *t, int64_t fd, mm_fd_type type,
                                const char *name)
{
    free(t->scratch_fd.name);
    memset(&t->scratch_fd, 0, sizeof t->scratch_fd);
    t->scratch_fd.fd = fd;
    t->scratch_fd.type = type;
    t->scratch_fd.name = mm_xstrdup(name);
    return &t->scratch_fd;
}

void mm_proctab_apply(mm_proctab *t, mm_event *ev)
{
    mm_proc_unref(t->pending);
    t->pending = NULL;
    mm_proc *p = ev->proc;
    if (!p) {
        p = mm_proctab_get(t, ev->pid);
        if (!p)
            p = mm_proctab_add(t, ev->pid, 0);
        ev->proc = p;
    }
    if (!p->container)
        mm_proc_set_container(p, t->host);
    int64_t res = ev->res;

    switch (ev->type) {
    case MM_EVT_CLONE: case MM_EVT_CLONE3: case MM_EVT_FORK: case MM_EVT_VFORK:
        if (res > 0) {
            /* the child may already be known (its own events can arrive
             * first, e.g. from another CPU's buffer): then only link it */
            bool known = mm_proctab_get(t, res) != NULL;
            mm_proc *c = mm_proctab_add(t, res, p->pid);
            if (c == p)
                break;
            if (known) {
                if (!c->parent)
                    mm_proc_set_parent(c, p);
                break;
            }
            mm_proc_set(&c->comm, p->comm);
            mm_proc_set(&c->exe, p->exe);
            mm_proc_set(&c->exepath, p->exepath);
            mm_proc_set_argv(c, (const char *const *)p->argv, p->argc);
            mm_proc_set(&c->cwd, p->cwd);
            mm_proc_set(&c->env, p->env);
            mm_proc_set(&c->cgroup, p->cgroup);
            mm_proc_set(&c->user_name, p->user_name);
            mm_proc_set(&c->group_name, p->group_name);
            mm_proc_set(&c->login_name, p->login_name);
            c->tty = p->tty;
            c->uid = p->uid; c->gid = p->gid; c->euid = p->euid; c->egid = p->egid;
            c->loginuid = p->loginuid;
            c->cap_effective = p->cap_effective;
            c->cap_permitted = p->cap_permitted;
            c->cap_inheritable = p->cap_inheritable;
            c->exe_flags = p->exe_flags;
            c->exe_ino = p->exe_ino;
            c->exe_ino_ctime = p->exe_ino_ctime;
            c->exe_ino_mtime = p->exe_ino_mtime;
            c->sid = p->sid; c->pgid = p->pgid; c->vpgid = p->vpgid;
            c->mntns = p->mntns;
            c->start_ts = ev->ts;
            mm_proc_set_container(c, p->container);
            mm_proc_set_parent(c, p);
            mm_proc_fd_copy(c, p);
        }
        break;
    case MM_EVT_EXECVE: case MM_EVT_EXECVEAT:
        if (res == 0)
            p->exec_ts = ev->ts;
        break;
    case MM_EVT_PROCEXIT:
        t->pending = mm_proc_ref(p);
        mm_proctab_remove(t, p->pid);
        break;
    case MM_EVT_OPEN: case MM_EVT_OPENAT: case MM_EVT_OPENAT2:
    case MM_EVT_CREAT: case MM_EVT_OPEN_BY_HANDLE_AT: {
        const char *base = p->cwd;
        if ((ev->type == MM_EVT_OPENAT || ev->type == MM_EVT_OPENAT2) &&
            ev->arg_fd >= 0 && ev->path && ev->path[0] != '/') {
            const mm_fdinfo *d = mm_proc_fd(p, ev->arg_fd);
            base = d ? d->name : NULL;
        }
        char *full = mm_event_path_resolve(base, ev->path);
        mm_fd_type ft = (ev->flags & O_DIRECTORY) ? MM_FD_DIRECTORY : MM_FD_FILE;
        if (res >= 0) {
            mm_fdinfo *f = mm_proc_fd_set(p, res);
            f->type = ft;
            f->open_flags = ev->flags;
            f->mode = ev->mode;
            f->name = full;
            full = NULL;
            ev->fd = f;
        } else {
            ev->fd = scratch(t, -1, ft, full);
        }
        free(full);
        break;
    }
    case MM_EVT_MEMFD_CREATE:
        if (res >= 0) {
            mm_fdinfo *f = mm_proc_fd_set(p, res);
            f->type = MM_FD_MEMFD;
            char *n = mm_xasprintf("memfd:%s", ev->path ? ev->path : "");
            f->name = n;
            ev->fd = f;
        }
        break;
    case MM_EVT_SOCKET:
        if (res >= 0) {
            mm_fdinfo *f = mm_proc_fd_set(p, res);
            f->sock_family = ev->sock_domain;
            f->sock_type = ev->sock_type;
            f->l4proto = l4_of(ev->sock_type, ev->sock_proto);
            f->type = ev->sock_domain == AF_INET ? MM_FD_IPV4
                    : ev->sock_domain == AF_INET6 ? MM_FD_IPV6
                    : ev->sock_domain == AF_UNIX ? MM_FD_UNIX
                    : ev->sock_domain == AF_NETLINK ? MM_FD_NETLINK : MM_FD_UNKNOWN;
            ev->fd = f;
        }
        break;
    case MM_EVT_CONNECT: {
        mm_fdinfo **s = p->fds ? fdtab_find(p->fds, ev->arg_fd) : NULL;
        mm_fdinfo *f = s ? *s : NULL;
        if (!f) {
            /* socket opened before we started: learn what we can */
            f = mm_proc_fd_set(p, ev->arg_fd);
            f->sock_family = ev->addr.family;
            f->type = ev->addr.family == AF_INET ? MM_FD_IPV4
                    : ev->addr.family == AF_INET6 ? MM_FD_IPV6
                    : ev->addr.family == AF_UNIX ? MM_FD_UNIX : MM_FD_UNKNOWN;
            f->l4proto = MM_L4_TCP;
        }
        if (ev->addr.family == AF_UNIX) {
            mm_fdinfo_set_name(f, ev->addr.unix_path);
        } else if (ev->addr.family) {
            addr_to_ip(&ev->addr, &f->sip, &f->sport);
            addr_to_ip(&ev->laddr, &f->cip, &f->cport);
            f->role_server = false;
            mm_fdinfo_name_from_tuple(f);
        }
        if (res == 0 || res == -115 /* EINPROGRESS */)
            f->connected = true;
        ev->fd = f;
        break;
    }
    case MM_EVT_ACCEPT: case MM_EVT_ACCEPT4:
        if (res >= 0) {
            const mm_fdinfo *l = mm_proc_fd(p, ev->arg_fd);
            mm_fdinfo tmp = {0};
            if (l)
                tmp = *l;
            mm_fdinfo *f = mm_proc_fd_set(p, res);
            f->type = tmp.type ? tmp.type
                    : ev->addr.family == AF_INET6 ? MM_FD_IPV6
                    : ev->addr.family == AF_UNIX ? MM_FD_UNIX : MM_FD_IPV4;
            f->sock_family = tmp.sock_family ? tmp.sock_family : ev->addr.family;
            f->sock_type = tmp.sock_type;
            f->l4proto = tmp.l4proto ? tmp.l4proto : MM_L4_TCP;
            f->role_server = true;
            f->connected = true;
            if (ev->addr.family == AF_UNIX) {
                mm_fdinfo_set_name(f, l ? l->name : ev->addr.unix_path);
            } else {
                addr_to_ip(&ev->addr, &f->cip, &f->cport);
                if (ev->laddr.family)
                    addr_to_ip(&ev->laddr, &f->sip, &f->sport);
                else {
                    f->sip = tmp.sip;
                    f->sport = tmp.sport;
                }
                mm_fdinfo_name_from_tuple(f);
            }
            ev->fd = f;
        }
        break;
    case MM_EVT_BIND: case MM_EVT_LISTEN: case MM_EVT_SENDTO: case MM_EVT_SENDMSG: {
        mm_fdinfo **s = p->fds ? fdtab_find(p->fds, ev->arg_fd) : NULL;
        mm_fdinfo *f = s ? *s : NULL;
        if (f && ev->type == MM_EVT_BIND && ev->addr.family && res == 0) {
            if (ev->addr.family == AF_UNIX)
                mm_fdinfo_set_name(f, ev->addr.unix_path);
            else {
                addr_to_ip(&ev->addr, &f->sip, &f->sport);
                f->role_server = true;
                mm_fdinfo_name_from_tuple(f);
            }
        } else if (f && ev->type == MM_EVT_LISTEN && res == 0) {
            f->listening = true;
            f->role_server = true;
        } else if (f && ev->addr.family && !f->connected &&
                   (ev->addr.family == AF_INET || ev->addr.family == AF_INET6)) {
            addr_to_ip(&ev->addr, &f->sip, &f->sport);
            if (ev->laddr.family)
                addr_to_ip(&ev->laddr, &f->cip, &f->cport);
            mm_fdinfo_name_from_tuple(f);
        }
        ev->fd = f;
        break;
    }
    case MM_EVT_DUP: case MM_EVT_DUP2: case MM_EVT_DUP3:
        if (res >= 0) {
            mm_proc_fd_dup(p, ev->arg_fd, res);
            ev->fd = mm_proc_fd(p, res);
        } else {
            ev->fd = mm_proc_fd(p, ev->arg_fd);
        }
        break;
    case MM_EVT_CLOSE: {
        const mm_fdinfo *f = mm_proc_fd(p, ev->arg_fd);
        if (f) {
            /* rules read the fd after it is gone: keep a copy */
            int64_t fd = f->fd;
            free(t->scratch_fd.name);
            t->scratch_fd = *f;
            t->scratch_fd.name = mm_xstrdup(f->name);
            ev->fd = &t->scratch_fd;
            if (res == 0)
                mm_proc_fd_close(p, fd);
        }
        break;
    }
    case MM_EVT_CHDIR:
        if (res == 0 && ev->path) {
            char *full = mm_event_path_resolve(p->cwd, ev->path);
            mm_proc_set(&p->cwd, full);
            free(full);
        }
        break;
    case MM_EVT_SETUID:
        if (res == 0 && ev->target_id >= 0)
            p->uid = p->euid = (uint32_t)ev->target_id;
        break;
    case MM_EVT_SETGID:
        if (res == 0 && ev->target_id >= 0)
            p->gid = p->egid = (uint32_t)ev->target_id;
        break;
    case MM_EVT_SETREUID: case MM_EVT_SETRESUID:
        /* target_id is the new effective id (-1: unchanged) */
        if (res == 0 && ev->target_id >= 0)
            p->euid = (uint32_t)ev->target_id;
        break;
    case MM_EVT_SETREGID: case MM_EVT_SETRESGID:
        if (res == 0 && ev->target_id >= 0)
            p->egid = (uint32_t)ev->target_id;
        break;
    default:
        break;
    }
    if (!ev->fd && has_fd_param(ev->type))
        ev->fd = mm_proc_fd(p, ev->arg_fd);
}
