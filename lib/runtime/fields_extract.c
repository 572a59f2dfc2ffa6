/*
 * fields_extract.c - the values of the Falco fields for one event: read
 * from the mm_event and its process record, pointers into the event where
 * possible, the few computed ones (proc.cmdline, flag names, capability
 * lists, times) in the per-event arena kept here; transformers (tolower,
 * b64, basename, len) applied on top, and a value rendered for outputs.  A
 * field with no value for an event gives 0 values, which makes every
 * comparison on it false, as in Falco.
 *
 * Length: one switch per field family over the same event, process and fd
 * records and the same per-event arena; the families are separate functions,
 * kept in one file so that the compiler inlines them into the one dispatch
 * (rule evaluation's hot path).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/fields_int.h"

/* ---- per-event arena ---------------------------------------------------- */

#define ARENA_SZ 16384

void mm_evalctx_reset(mm_evalctx *c, const mm_event *ev)
{
    c->ev = ev;
    if (!c->arena.data) {
        c->arena.data = mm_xmalloc(ARENA_SZ);
        c->arena.cap = ARENA_SZ;
    }
    c->arena.len = 0;
    for (size_t i = 0; i < c->nblocks; i++)
        free(c->blocks[i]);
    c->nblocks = 0;
}

void mm_evalctx_free(mm_evalctx *c)
{
    for (size_t i = 0; i < c->nblocks; i++)
        free(c->blocks[i]);
    free(c->blocks);
    free(c->arena.data);
    memset(c, 0, sizeof *c);
}

char *mm_evalctx_alloc(mm_evalctx *c, size_t n)
{
    if (!c->arena.data)
        mm_evalctx_reset(c, c->ev);
    if (c->arena.len + n <= c->arena.cap) {
        char *p = c->arena.data + c->arena.len;
        c->arena.len += n;
        return p;
    }
    if (c->nblocks == c->cblocks) {
        c->cblocks = c->cblocks ? c->cblocks * 2 : 8;
        c->blocks = mm_xrealloc(c->blocks, c->cblocks * sizeof *c->blocks);
    }
    char *p = mm_xmalloc(n);
    c->blocks[c->nblocks++] = p;
    return p;
}

char *mm_evalctx_strdup(mm_evalctx *c, const char *s, size_t n)
{
    char *p = mm_evalctx_alloc(c, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

char *mm_evalctx_printf(mm_evalctx *c, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof tmp)
        return mm_evalctx_strdup(c, tmp, (size_t)n);
    char *p = mm_evalctx_alloc(c, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* ---- helpers ----------------------------------------------------------------- */

static int put_str(mm_fval *v, const char *s)
{
    if (!s)
        return 0;
    v->s = s;
    v->len = MM_LEN_UNKNOWN;   /* measured only by the operators that need it */
    return 1;
}

static int put_num(mm_fval *v, int64_t n)
{
    v->n = n;
    v->s = NULL;
    return 1;
}

static int put_bool(mm_fval *v, bool b)
{
    v->n = b;
    v->s = NULL;
    return 1;
}

static int put_ip(mm_fval *v, const mm_ipaddr *ip)
{
    if (!ip->family)
        return 0;
    v->ip = *ip;
    v->s = NULL;
    return 1;
}

static const char *cmdline_of(mm_evalctx *c, const mm_proc *p)
{
    if (!p || !p->comm)
        return NULL;
    if (!p->args || !p->args[0])
        return p->comm;
    size_t a = strlen(p->comm), b = strlen(p->args);
    char *s = mm_evalctx_alloc(c, a + b + 2);
    memcpy(s, p->comm, a);
    s[a] = ' ';
    memcpy(s + a + 1, p->args, b + 1);
    return s;
}

static bool is_open_type(mm_evt_type t)
{
    return t == MM_EVT_OPEN || t == MM_EVT_OPENAT || t == MM_EVT_OPENAT2 ||
           t == MM_EVT_CREAT || t == MM_EVT_OPEN_BY_HANDLE_AT;
}

static const char *param_get(const mm_event *ev, const char *name)
{
    for (unsigned i = 0; i < ev->nparams && i < MM_EVT_MAX_PARAMS; i++)
        if (ev->params[i].name && !strcmp(ev->params[i].name, name))
            return ev->params[i].value;
    return NULL;
}

static const char *errno_str(mm_evalctx *c, int64_t res)
{
    if (res >= 0)
        return "SUCCESS";
    const char *n = (-res < 4096) ? strerrorname_np((int)-res) : NULL;
    return n ? n : mm_evalctx_printf(c, "%lld", (long long)res);
}

static const char *time_str(mm_evalctx *c, int64_t ts, int form)
{
    time_t s = (time_t)(ts / 1000000000);
    long ns = (long)(ts % 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    switch (form) {
    case 0: strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        return mm_evalctx_printf(c, "%s.%09ld", buf, ns);
    case 1: strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        return mm_evalctx_strdup(c, buf, strlen(buf));
    case 2: strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        return mm_evalctx_printf(c, "%s.%09ldZ", buf, ns);
    default: strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        return mm_evalctx_printf(c, "%s.%09ld", buf, ns);
    }
}

static const char *container_str(const mm_proc *p, int id)
{
    const mm_container *ct = p ? p->container : NULL;
    if (!ct)
        return id == F_CT_ID ? "host" : NULL;
    switch (id) {
    case F_CT_ID: return ct->id ? ct->id : "host";
    case F_CT_FULL_ID: return ct->full_id ? ct->full_id : ct->id;
    case F_CT_NAME: return ct->name ? ct->name : (!strcmp(ct->id, "host") ? "host" : NULL);
    case F_CT_IMAGE: return ct->image;
    case F_CT_IMAGE_ID: return ct->image_id;
    case F_CT_IMAGE_REPO: return ct->image_repository;
    case F_CT_IMAGE_TAG: return ct->image_tag;
    case F_CT_IMAGE_DIGEST: return ct->image_digest;
    case F_CT_TYPE: return ct->type;
    case F_K8S_POD_NAME: return ct->k8s_pod_name;
    case F_K8S_NS_NAME: return ct->k8s_ns_name;
    case F_K8S_POD_UID: return ct->k8s_pod_uid;
    }
    return NULL;
}

/* the ancestor whose pid (or vpid) is `want`, looking up to 64 levels */
static const mm_proc *find_ancestor_pid(const mm_proc *p, int64_t want)
{
    for (int i = 0; p && i < 64; i++, p = p->parent)
        if (p->pid == want || (p->vpid == want && want > 0 && p->vpid != p->pid))
            return p;
    return NULL;
}

static const char *arg_str(mm_evalctx *c, const mm_fref *f, bool raw)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    int set;
    switch (f->argid) {
    case AR_FD: return mm_evalctx_printf(c, "%lld", (long long)ev->arg_fd);
    case AR_FD2: return mm_evalctx_printf(c, "%lld", (long long)ev->arg_fd2);
    case AR_PATH:
        if (!strcmp(f->key, "name") && ev->type == MM_EVT_MEMFD_CREATE)
            return ev->path;
        if (ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT)
            return ev->path ? ev->path : (p ? p->exepath : NULL);
        return ev->path;
    case AR_PATH2: return ev->path2;
    case AR_FLAGS: case AR_MODE: case AR_DOMAIN: case AR_TYPE: case AR_REQUEST:
    case AR_NSTYPE: {
        uint64_t v = f->argid == AR_FLAGS ? ev->flags
                   : f->argid == AR_MODE ? ev->mode
                   : f->argid == AR_DOMAIN ? ev->sock_domain
                   : f->argid == AR_NSTYPE ? (ev->nstype ? ev->nstype : ev->flags)
                   : f->argid == AR_REQUEST ? (uint64_t)ev->request
                   : ev->sock_type;
        if (f->argid == AR_TYPE && (ev->type == MM_EVT_MOUNT))
            return ev->fstype;
        if (f->argid == AR_FLAGS && (ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT))
            v = ev->flags ? ev->flags : (p ? p->exe_flags : 0);
        set = mm_flagset_for(ev->type, f->key);
        if (raw || set < 0) {
            if (f->argid == AR_MODE)
                return mm_evalctx_printf(c, "%04llo", (unsigned long long)v);
            return mm_evalctx_printf(c, "%llu", (unsigned long long)v);
        }
        return mm_flags_render(c, set, v);
    }
    case AR_PROTO: return mm_evalctx_printf(c, "%u", ev->sock_proto);
    case AR_ID: return mm_evalctx_printf(c, "%lld", (long long)ev->target_id);
    case AR_RES:
        if (raw || ev->res >= 0)
            return mm_evalctx_printf(c, "%lld", (long long)ev->res);
        return errno_str(c, ev->res);
    case AR_SIZE: return mm_evalctx_printf(c, "%llu", (unsigned long long)ev->size);
    case AR_DATA: return ev->data ? mm_evalctx_strdup(c, ev->data, ev->datalen) : NULL;
    case AR_TUPLE: return ev->fd ? ev->fd->name : NULL;
    case AR_EXE: return p ? p->exe : NULL;
    case AR_ARGS: return p ? p->args : NULL;
    case AR_CWD: return p ? p->cwd : NULL;
    case AR_COMM: return p ? p->comm : NULL;
    default: return param_get(ev, f->key);
    }
}

static const char *evt_args_str(mm_evalctx *c)
{
    const mm_event *ev = c->ev;
    char buf[1024];
    size_t o = 0;
    buf[0] = 0;
#define ADD(...) do { if (o < sizeof buf) o += (size_t)snprintf(buf + o, sizeof buf - o, __VA_ARGS__); } while (0)
    ADD("res=%lld", (long long)ev->res);
    if (ev->fd && ev->fd->name)
        ADD(" fd=%lld(%s)", (long long)ev->fd->fd, ev->fd->name);
    if (ev->path)
        ADD(" name=%s", ev->path);
    if (ev->path2)
        ADD(" newpath=%s", ev->path2);
    if (ev->flags) {
        int set = mm_flagset_for(ev->type, "flags");
        ADD(" flags=%s", set >= 0 ? mm_flags_render(c, set, ev->flags) : "");
    }
    for (unsigned i = 0; i < ev->nparams && i < MM_EVT_MAX_PARAMS; i++)
        if (ev->params[i].name && ev->params[i].value && !strchr(ev->params[i].name, '.'))
            ADD(" %s=%s", ev->params[i].name, ev->params[i].value);
#undef ADD
    if (o >= sizeof buf)
        o = sizeof buf - 1;
    return mm_evalctx_strdup(c, buf, o);
}

static int fd_ip_pair(const mm_fdinfo *fd, int which, mm_fval *v)
{
    /* which: 0 both, 1 client, 2 server, 3 local, 4 remote */
    if (!fd || (fd->type != MM_FD_IPV4 && fd->type != MM_FD_IPV6))
        return 0;
    const mm_ipaddr *a;
    switch (which) {
    case 0: {
        int n = put_ip(&v[0], &fd->cip);
        n += put_ip(&v[n], &fd->sip);
        return n;
    }
    case 1: a = &fd->cip; break;
    case 2: a = &fd->sip; break;
    case 3: a = fd->role_server ? &fd->sip : &fd->cip; break;
    default: a = fd->role_server ? &fd->cip : &fd->sip; break;
    }
    return put_ip(v, a);
}

static int fd_port_pair(const mm_fdinfo *fd, int which, mm_fval *v)
{
    if (!fd || (fd->type != MM_FD_IPV4 && fd->type != MM_FD_IPV6))
        return 0;
    switch (which) {
    case 0: put_num(&v[0], fd->cport); put_num(&v[1], fd->sport); return 2;
    case 1: return put_num(v, fd->cport);
    case 2: return put_num(v, fd->sport);
    case 3: return put_num(v, fd->role_server ? fd->sport : fd->cport);
    default: return put_num(v, fd->role_server ? fd->cport : fd->sport);
    }
}

static int ancestors(mm_evalctx *c, const mm_fref *f, const mm_proc *p, mm_fval *v)
{
    int id = f->def->id;
    int from = f->idx >= 0 ? f->idx : 1, to = f->idx >= 0 ? f->idx : MM_FIELD_MAXV;
    int n = 0;
    const mm_proc *a = mm_proc_ancestor(p, from);
    for (int i = from; a && i <= to && n < MM_FIELD_MAXV; i++, a = a->parent) {
        int k = 0;
        switch (id) {
        case F_PROC_APID: k = put_num(&v[n], a->pid); break;
        case F_PROC_ANAME: k = put_str(&v[n], a->comm); break;
        case F_PROC_AEXE: k = put_str(&v[n], a->exe); break;
        case F_PROC_AEXEPATH: k = put_str(&v[n], a->exepath); break;
        case F_PROC_ACMDLINE: k = put_str(&v[n], cmdline_of(c, a)); break;
        }
        n += k;
    }
    return n;
}

/* evt.* and syscall.type */
static int extract_evt(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    int id = f->def->id;
    switch (f->def->id) {
    case F_EVT_NUM: return put_num(v, (int64_t)ev->num);
    case F_EVT_TIME: return put_str(v, time_str(c, ev->ts, 0));
    case F_EVT_TIME_S: return put_str(v, time_str(c, ev->ts, 1));
    case F_EVT_TIME_ISO: return put_str(v, time_str(c, ev->ts, 2));
    case F_EVT_DATETIME: return put_str(v, time_str(c, ev->ts, 3));
    case F_EVT_RAWTIME: return put_num(v, ev->ts);
    case F_EVT_TYPE: case F_SYSCALL_TYPE: return put_str(v, mm_evt_type_name(ev->type));
    case F_EVT_DIR: return put_str(v, ev->dir == MM_DIR_ENTER ? ">" : "<");
    case F_EVT_CPU: return put_num(v, ev->cpu);
    case F_EVT_RES: return put_str(v, errno_str(c, ev->res));
    case F_EVT_RAWRES: return put_num(v, ev->res);
    case F_EVT_FAILED: return put_bool(v, ev->res < 0);
    case F_EVT_OPEN_READ: case F_EVT_OPEN_WRITE: case F_EVT_OPEN_EXEC: {
        if (!is_open_type(ev->type))
            return put_bool(v, false);
        unsigned acc = ev->flags & 3;
        /* is_open_exec, as Falco: the open created the file with an
         * execute bit in its mode */
        bool r = id == F_EVT_OPEN_READ ? (acc == O_RDONLY || acc == O_RDWR)
               : id == F_EVT_OPEN_WRITE ? (acc == O_WRONLY || acc == O_RDWR)
               : ((ev->flags & MM_O_F_CREATED) && (ev->mode & 0111));
        return put_bool(v, r);
    }
    case F_EVT_ARGS: return put_str(v, evt_args_str(c));
    case F_EVT_ARG: return put_str(v, arg_str(c, f, false));
    case F_EVT_RAWARG: return put_str(v, arg_str(c, f, true));
    case F_EVT_HOSTNAME: return put_str(v, c->hostname);
    case F_EVT_BUFFER:
        if (!ev->data)
            return 0;
        /* a sensor's buffer need not end in NUL: give operators one */
        v->s = mm_evalctx_strdup(c, ev->data, ev->datalen);
        v->len = ev->datalen;
        return 1;
    case F_EVT_BUFLEN: return ev->data ? put_num(v, ev->datalen) : 0;
    case F_EVT_SOURCE: return put_str(v, ev->type == MM_EVT_K8S_AUDIT ? "k8s_audit" : "syscall");
    case F_EVT_IS_IO: case F_EVT_IS_IO_READ: case F_EVT_IS_IO_WRITE: {
        bool rd = ev->type == MM_EVT_READ || ev->type == MM_EVT_PREAD ||
                  ev->type == MM_EVT_READV || ev->type == MM_EVT_RECVFROM ||
                  ev->type == MM_EVT_RECVMSG || ev->type == MM_EVT_RECVMMSG;
        bool wr = ev->type == MM_EVT_WRITE || ev->type == MM_EVT_PWRITE ||
                  ev->type == MM_EVT_WRITEV || ev->type == MM_EVT_SENDTO ||
                  ev->type == MM_EVT_SENDMSG || ev->type == MM_EVT_SENDMMSG;
        return put_bool(v, id == F_EVT_IS_IO ? (rd || wr) : id == F_EVT_IS_IO_READ ? rd : wr);
    }
    }
    return 0;
}

/* proc.*: none without a process record */
static int extract_proc(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    const mm_proc *pp = p ? p->parent : NULL;
    int id = f->def->id;
    if (!p)
        return 0;
    switch (f->def->id) {
    case F_PROC_PID: return put_num(v, p->pid);
    case F_PROC_EXE: return put_str(v, p->exe);
    case F_PROC_NAME: return put_str(v, p->comm);
    case F_PROC_ARGS: return put_str(v, p->args ? p->args : (p->comm ? "" : NULL));
    case F_PROC_ENV:
        if (!p->env)
            return 0;
        if (f->key) {
            size_t kl = strlen(f->key);
            for (const char *s = p->env; s && *s;) {
                const char *e = strchr(s, ' ');
                size_t l = e ? (size_t)(e - s) : strlen(s);
                if (l > kl && !memcmp(s, f->key, kl) && s[kl] == '=')
                    return put_str(v, mm_evalctx_strdup(c, s + kl + 1, l - kl - 1));
                s = e ? e + 1 : NULL;
            }
            return 0;
        }
        return put_str(v, p->env);
    case F_PROC_CMDLINE: return put_str(v, cmdline_of(c, p));
    case F_PROC_EXELINE:
        if (!p->exe)
            return 0;
        return put_str(v, p->args && p->args[0] ? mm_evalctx_printf(c, "%s %s", p->exe, p->args) : p->exe);
    case F_PROC_CWD: return put_str(v, p->cwd);
    case F_PROC_PPID: return pp ? put_num(v, pp->pid) : (p->ppid >= 0 ? put_num(v, p->ppid) : 0);
    case F_PROC_PNAME: return pp ? put_str(v, pp->comm) : 0;
    case F_PROC_PCMDLINE: return put_str(v, cmdline_of(c, pp));
    case F_PROC_PEXE: return pp ? put_str(v, pp->exe) : 0;
    case F_PROC_PEXEPATH: return pp ? put_str(v, pp->exepath) : 0;
    case F_PROC_APID: case F_PROC_ANAME: case F_PROC_AEXE: case F_PROC_AEXEPATH:
    case F_PROC_ACMDLINE:
        if (f->idx == 0) {   /* [0] is the process itself */
            switch (id) {
            case F_PROC_APID: return put_num(v, p->pid);
            case F_PROC_ANAME: return put_str(v, p->comm);
            case F_PROC_AEXE: return put_str(v, p->exe);
            case F_PROC_AEXEPATH: return put_str(v, p->exepath);
            default: return put_str(v, cmdline_of(c, p));
            }
        }
        return ancestors(c, f, p, v);
    case F_PROC_DURATION:
        return p->start_ts > 0 && ev->ts >= p->start_ts ? put_num(v, ev->ts - p->start_ts) : 0;
    case F_PROC_PPID_DURATION:
        return pp && pp->start_ts > 0 && ev->ts >= pp->start_ts ? put_num(v, ev->ts - pp->start_ts) : 0;
    case F_PROC_PID_TS: return p->start_ts > 0 ? put_num(v, p->start_ts) : 0;
    case F_PROC_TTY: return put_num(v, p->tty);
    case F_PROC_EXEPATH: return put_str(v, p->exepath);
    case F_PROC_SID: return put_num(v, p->sid);
    case F_PROC_SNAME: case F_PROC_SID_EXE: case F_PROC_SID_EXEPATH: {
        const mm_proc *s = p->sid > 0 ? find_ancestor_pid(p, p->sid) : NULL;
        if (!s)
            return 0;
        return put_str(v, id == F_PROC_SNAME ? s->comm : id == F_PROC_SID_EXE ? s->exe : s->exepath);
    }
    case F_PROC_VPGID: return put_num(v, p->vpgid);
    case F_PROC_VPGID_NAME: case F_PROC_VPGID_EXE: case F_PROC_VPGID_EXEPATH: {
        const mm_proc *g = NULL;
        if (p->vpgid > 0)
            for (const mm_proc *a = p; a && !g; a = a->parent)
                if (a->vpid == p->vpgid)
                    g = a;
        if (!g)
            return 0;
        return put_str(v, id == F_PROC_VPGID_NAME ? g->comm : id == F_PROC_VPGID_EXE ? g->exe : g->exepath);
    }
    case F_PROC_IS_VPGID_LEADER: return p->vpgid > 0 ? put_bool(v, p->vpid == p->vpgid) : 0;
    case F_PROC_IS_SID_LEADER: return p->sid > 0 ? put_bool(v, p->pid == p->sid) : 0;
    case F_PROC_VPID: return put_num(v, p->vpid);
    case F_PROC_PVPID: return pp ? put_num(v, pp->vpid) : 0;
    case F_PROC_IS_EXE_WRITABLE: return put_bool(v, (p->exe_flags & MM_EXE_WRITABLE) || p->is_exe_writable);
    case F_PROC_IS_EXE_UPPER: return put_bool(v, p->exe_flags & MM_EXE_UPPER_LAYER);
    case F_PROC_IS_EXE_LOWER: return put_bool(v, p->exe_flags & MM_EXE_LOWER_LAYER);
    case F_PROC_IS_EXE_MEMFD: return put_bool(v, p->exe_flags & MM_EXE_FROM_MEMFD);
    case F_PROC_EXE_INO: return p->exe_ino ? put_num(v, (int64_t)p->exe_ino) : 0;
    case F_PROC_EXE_INO_CTIME: return p->exe_ino_ctime ? put_num(v, p->exe_ino_ctime) : 0;
    case F_PROC_EXE_INO_MTIME: return p->exe_ino_mtime ? put_num(v, p->exe_ino_mtime) : 0;
    case F_PROC_EXE_INO_CTIME_DUR_START:
        return p->exe_ino_ctime && p->start_ts ? put_num(v, p->start_ts - p->exe_ino_ctime) : 0;
    case F_PROC_EXE_INO_CTIME_DUR_PIDNS:
        return p->exe_ino_ctime && p->pidns_init_start_ts
            ? put_num(v, (int64_t)p->pidns_init_start_ts - p->exe_ino_ctime) : 0;
    case F_PROC_PIDNS_INIT_START_TS:
        return p->pidns_init_start_ts ? put_num(v, (int64_t)p->pidns_init_start_ts) : 0;
    case F_PROC_CMDNARGS: return put_num(v, p->argc > 0 ? (int64_t)p->argc - 1 : 0);
    case F_PROC_CMDLENARGS: return put_num(v, p->args ? (int64_t)strlen(p->args) : 0);
    case F_PROC_IS_HEALTHCHECK: case F_PROC_IS_LIVENESS: case F_PROC_IS_READINESS:
        return put_bool(v, false);
    case F_PROC_CGROUP: return put_str(v, p->cgroup);
    }
    return 0;
}

/* thread.*, user.*, group.* */
static int extract_thread_user(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    if (!p && f->def->id != F_THREAD_TID)
        return 0;
    switch (f->def->id) {
    case F_THREAD_TID: return put_num(v, ev->tid ? ev->tid : (p ? p->tid : 0));
    case F_THREAD_VTID: return put_num(v, p->vtid);
    case F_THREAD_CAP_EFF: return put_str(v, mm_caps_render(c, p->cap_effective));
    case F_THREAD_CAP_PERM: return put_str(v, mm_caps_render(c, p->cap_permitted));
    case F_THREAD_CAP_INH: return put_str(v, mm_caps_render(c, p->cap_inheritable));
    case F_THREAD_ISMAIN: return put_bool(v, !ev->tid || ev->tid == p->pid);

    case F_USER_UID: return put_num(v, p->euid ? p->euid : p->uid);
    case F_USER_NAME:
        if (p->user_name)
            return put_str(v, p->user_name);
        return (p->euid ? p->euid : p->uid) == 0 ? put_str(v, "root") : 0;
    case F_USER_HOMEDIR: return put_str(v, p->user_homedir);
    case F_USER_SHELL: return put_str(v, p->user_shell);
    case F_USER_LOGINUID: return put_num(v, p->loginuid == UINT32_MAX ? -1 : (int64_t)p->loginuid);
    case F_USER_LOGINNAME:
        if (p->login_name)
            return put_str(v, p->login_name);
        return p->loginuid == 0 ? put_str(v, "root") : 0;
    case F_GROUP_GID: return put_num(v, p->egid ? p->egid : p->gid);
    case F_GROUP_NAME:
        if (p->group_name)
            return put_str(v, p->group_name);
        return (p->egid ? p->egid : p->gid) == 0 ? put_str(v, "root") : 0;
    }
    return 0;
}

/* container.* and k8s.* */
static int extract_container(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    int id = f->def->id;
    switch (f->def->id) {
    case F_CT_ID: case F_CT_FULL_ID: case F_CT_NAME: case F_CT_IMAGE:
    case F_CT_IMAGE_ID: case F_CT_IMAGE_REPO: case F_CT_IMAGE_TAG:
    case F_CT_IMAGE_DIGEST: case F_CT_TYPE: case F_K8S_POD_NAME:
    case F_K8S_NS_NAME: case F_K8S_POD_UID:
        return put_str(v, container_str(p, id));
    case F_CT_PRIVILEGED:
        if (!p || !p->container || !p->container->privileged_known)
            return 0;
        return put_bool(v, p->container->privileged);
    case F_CT_START_TS:
        return p && p->container && p->container->start_ts ? put_num(v, p->container->start_ts) : 0;
    case F_CT_DURATION:
        return p && p->container && p->container->start_ts
            ? put_num(v, ev->ts - p->container->start_ts) : 0;
    case F_CT_MOUNTS: case F_CT_MOUNT: case F_CT_MOUNT_SOURCE: case F_CT_MOUNT_DEST:
    case F_CT_MOUNT_MODE: case F_CT_MOUNT_RDWR: {
        const mm_container *ct = p ? p->container : NULL;
        if (!ct || (!ct->nmounts && !ct->mounts_known))
            return 0;
        if (id == F_CT_MOUNTS) {
            mm_buf b = MM_BUF_INIT;
            for (size_t i = 0; i < ct->nmounts; i++)
                mm_buf_printf(&b, "%s%s:%s:%s:%s", i ? "," : "",
                              ct->mounts[i].source ? ct->mounts[i].source : "",
                              ct->mounts[i].dest ? ct->mounts[i].dest : "",
                              ct->mounts[i].mode ? ct->mounts[i].mode : "",
                              ct->mounts[i].rw ? "true" : "false");
            const char *s = mm_evalctx_strdup(c, b.data ? b.data : "", b.len);
            mm_buf_free(&b);
            return put_str(v, s);
        }
        /* the argument is a mount source (glob) or an index */
        for (size_t i = 0; i < ct->nmounts; i++) {
            const mm_mount *m = &ct->mounts[i];
            char *e;
            long ix = strtol(f->key, &e, 10);
            bool hit = (*f->key && !*e) ? (size_t)ix == i
                     : (m->source && !fnmatch(f->key, m->source, 0));
            if (!hit)
                continue;
            switch (id) {
            case F_CT_MOUNT:
                return put_str(v, mm_evalctx_printf(c, "%s:%s:%s:%s", m->source ? m->source : "",
                                             m->dest ? m->dest : "", m->mode ? m->mode : "",
                                             m->rw ? "true" : "false"));
            case F_CT_MOUNT_SOURCE: return put_str(v, m->source);
            case F_CT_MOUNT_DEST: return put_str(v, m->dest);
            case F_CT_MOUNT_MODE: return put_str(v, m->mode);
            default: return put_str(v, m->rw ? "true" : "false");
            }
        }
        /* the mounts are known and none matches: Falco's "<NA>", which
         * rules test for (not container.mount.dest[/proc*] in ("<NA>")) */
        return ct->mounts_known ? put_str(v, "<NA>") : 0;
    }
    }
    return 0;
}

/* fd.*: none without a file descriptor (but fd.types, fd.nameraw) */
static int extract_fd(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    const mm_fdinfo *fd = ev->fd;
    int id = f->def->id;
    if (!fd && id != F_FD_TYPES && id != F_FD_NAMERAW)
        return 0;
    switch (f->def->id) {
    case F_FD_NUM: return put_num(v, fd->fd);
    case F_FD_TYPE: return put_str(v, mm_fd_type_name(fd->type));
    case F_FD_TYPECHAR: {
        static const char chars[MM_FD__COUNT][2] = {
            "o", "f", "d", "4", "6", "u", "p", "e", "s", "l", "i", "t", "n", "b", "u", "r", "m", "P"};
        return put_str(v, (unsigned)fd->type < MM_FD__COUNT ? chars[fd->type] : "o");
    }
    case F_FD_NAME: return put_str(v, fd->name);
    case F_FD_DIRECTORY: case F_FD_FILENAME: {
        if (!fd->name || (fd->type != MM_FD_FILE && fd->type != MM_FD_DIRECTORY))
            return 0;
        if (fd->type == MM_FD_DIRECTORY)
            return id == F_FD_DIRECTORY ? put_str(v, fd->name) : 0;
        const char *sl = strrchr(fd->name, '/');
        if (!sl)
            return id == F_FD_FILENAME ? put_str(v, fd->name) : 0;
        if (id == F_FD_FILENAME)
            return put_str(v, sl + 1);
        size_t dl = sl == fd->name ? 1 : (size_t)(sl - fd->name);
        return put_str(v, mm_evalctx_strdup(c, fd->name, dl));
    }
    case F_FD_NAMERAW:
        if (is_open_type(ev->type) && ev->path)
            return put_str(v, ev->path);
        return fd ? put_str(v, fd->name) : 0;
    case F_FD_IP: case F_FD_NET: return fd_ip_pair(fd, 0, v);
    case F_FD_CIP: case F_FD_CNET: return fd_ip_pair(fd, 1, v);
    case F_FD_SIP: case F_FD_SNET: return fd_ip_pair(fd, 2, v);
    case F_FD_LIP: case F_FD_LNET: return fd_ip_pair(fd, 3, v);
    case F_FD_RIP: case F_FD_RNET: return fd_ip_pair(fd, 4, v);
    case F_FD_PORT: return fd_port_pair(fd, 0, v);
    case F_FD_CPORT: return fd_port_pair(fd, 1, v);
    case F_FD_SPORT: return fd_port_pair(fd, 2, v);
    case F_FD_LPORT: return fd_port_pair(fd, 3, v);
    case F_FD_RPORT: return fd_port_pair(fd, 4, v);
    case F_FD_L4PROTO:
        if (fd->type != MM_FD_IPV4 && fd->type != MM_FD_IPV6)
            return 0;
        return put_str(v, fd->l4proto == MM_L4_TCP ? "tcp" : fd->l4proto == MM_L4_UDP ? "udp"
                        : fd->l4proto == MM_L4_ICMP ? "icmp" : fd->l4proto == MM_L4_RAW ? "raw" : "<NA>");
    case F_FD_SOCKFAMILY:
        return fd->type == MM_FD_IPV4 || fd->type == MM_FD_IPV6 ? put_str(v, "ip")
             : fd->type == MM_FD_UNIX ? put_str(v, "unix") : 0;
    case F_FD_IS_SERVER: return put_bool(v, fd->role_server);
    case F_FD_CONNECTED: return put_bool(v, fd->connected);
    case F_FD_NAME_CHANGED:
        return put_bool(v, (ev->type == MM_EVT_SENDTO || ev->type == MM_EVT_SENDMSG ||
                            ev->type == MM_EVT_CONNECT) && ev->addr.family != 0);
    case F_FD_CIP_NAME: return put_str(v, param_get(ev, "fd.cip.name"));
    case F_FD_SIP_NAME: return put_str(v, param_get(ev, "fd.sip.name"));
    case F_FD_LIP_NAME: return put_str(v, param_get(ev, "fd.lip.name"));
    case F_FD_RIP_NAME: return put_str(v, param_get(ev, "fd.rip.name"));
    case F_FD_DEV: return put_num(v, fd->dev);
    case F_FD_INO: return put_num(v, (int64_t)fd->ino);
    case F_FD_TYPES: {
        if (!p)
            return 0;
        if (f->idx >= 0) {
            const mm_fdinfo *x = mm_proc_fd(p, f->idx);
            return x ? put_str(v, mm_fd_type_name(x->type)) : 0;
        }
        size_t it = 0;
        const mm_fdinfo *x;
        int n = 0;
        while (n < MM_FIELD_MAXV && mm_proc_fd_next(p, &it, &x))
            n += put_str(&v[n], mm_fd_type_name(x->type));
        return n;
    }
    }
    return 0;
}

/* The values of a syscall-event field, by family (ids are ordered so). */
static int extract_raw(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    int id = f->def->id;
    if (id < F_PROC_PID)
        return extract_evt(c, f, v);
    if (id < F_THREAD_TID)
        return extract_proc(c, f, v);
    if (id < F_CT_ID)
        return extract_thread_user(c, f, v);
    if (id < F_FD_NUM)
        return extract_container(c, f, v);
    return extract_fd(c, f, v);
}

static const char b64tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *b64_decode(mm_evalctx *c, const char *s, size_t n)
{
    char *out = mm_evalctx_alloc(c, n + 1);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=')
            break;
        const char *q = memchr(b64tab, s[i], 64);
        if (!q)
            return NULL;
        acc = (acc << 6) | (uint32_t)(q - b64tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    return out;
}

int mm_field_extract(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    int n = f->def->id >= MM_FID_AUDIT ? mm_audit_extract(c, f, v) : extract_raw(c, f, v);
    if (!f->xform || n == 0)
        return n;
    for (int i = 0; i < n; i++) {
        if (v[i].s && v[i].len == MM_LEN_UNKNOWN)
            v[i].len = strlen(v[i].s);
        if (!v[i].s) {  /* numbers are transformed as their text */
            v[i].s = mm_evalctx_printf(c, "%lld", (long long)v[i].n);
            v[i].len = strlen(v[i].s);
        }
        switch (f->xform) {
        case XF_TOLOWER: case XF_TOUPPER: {
            char *s = mm_evalctx_strdup(c, v[i].s, v[i].len);
            for (size_t k = 0; k < v[i].len; k++)
                s[k] = (char)(f->xform == XF_TOLOWER ? tolower((unsigned char)s[k])
                                                     : toupper((unsigned char)s[k]));
            v[i].s = s;
            break;
        }
        case XF_B64: {
            const char *d = b64_decode(c, v[i].s, v[i].len);
            if (!d)
                return 0;
            v[i].s = d;
            v[i].len = strlen(d);
            break;
        }
        case XF_BASENAME: {
            const char *sl = strrchr(v[i].s, '/');
            if (sl) {
                v[i].s = sl + 1;
                v[i].len = strlen(sl + 1);
            }
            break;
        }
        case XF_LEN:
            v[i].n = (int64_t)v[i].len;
            v[i].s = NULL;
            break;
        }
    }
    return n;
}

const char *mm_field_render(mm_evalctx *c, const mm_fref *f, bool *numeric)
{
    mm_fval v[MM_FIELD_MAXV];
    *numeric = false;
    int n = mm_field_extract(c, f, v);
    if (n == 0)
        return NULL;
    if (f->def->list && f->type == FT_STR && !f->xform) {   /* Falco's "(a,b)" */
        size_t len = 2;
        for (int i = 0; i < n; i++)
            len += (v[i].len == MM_LEN_UNKNOWN ? strlen(v[i].s) : v[i].len) + 1;
        char *o = mm_evalctx_alloc(c, len + 1), *p = o;
        *p++ = '(';
        for (int i = 0; i < n; i++) {
            size_t l = v[i].len == MM_LEN_UNKNOWN ? strlen(v[i].s) : v[i].len;
            if (i)
                *p++ = ',';
            memcpy(p, v[i].s, l);
            p += l;
        }
        *p++ = ')';
        *p = 0;
        return o;
    }
    switch (f->type) {
    case FT_NUM:
        *numeric = true;
        return mm_evalctx_printf(c, "%lld", (long long)v[0].n);
    case FT_BOOL:
        return v[0].n ? "true" : "false";
    case FT_IP: case FT_NET: {
        char buf[64];
        mm_event_ip_str(&v[0].ip, buf, sizeof buf);
        return mm_evalctx_strdup(c, buf, strlen(buf));
    }
    default:
        if (f->def->id == F_EVT_BUFFER) /* may hold NULs: print up to one */
            return mm_evalctx_strdup(c, v[0].s, v[0].len == MM_LEN_UNKNOWN ? strlen(v[0].s)
                                                  : strnlen(v[0].s, v[0].len));
        return v[0].s;
    }
}
