/*
 * replay.c - the JSON-lines event source (its writer, for captures, is
 * replay_write.c).
 *
 * One event per line, keyed by Falco field names (docs/rules.md has the
 * format): "evt.type" is required; proc.*, user.*, group.*, thread.*,
 * container.*, k8s.*, fd.* and evt.arg.* keys fill the event, the process
 * record and its fd table.  Ancestors come from "proc.ancestors" (a list,
 * parent first) or the flat proc.pname / proc.aname[N] keys, or from the
 * reader's own process table when lines carry proc.pid / proc.ppid (the
 * form the agent's captures use, with clone/execve events keeping the tree).
 * A capture describes a process and its ancestors on its first line in a
 * file only (mm_event_to_json_flags): a line without them keeps what the
 * pid's record got from its last line, which the writer relies on.
 * Input is untrusted: sizes are capped and bad lines are errors naming the
 * line, never crashes.
 *
 * Length: the reader of one event line: the process, container, fd and
 * argument keys fill one event and one process table together (the writer is
 * replay_write.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <jansson.h>
#include <openssl/sha.h>

#include "mamori/capture.h"
#include "runtime/runtime_int.h"

#define MAX_LINE (1u << 20)
#define MAX_ANCESTORS 32
#define MAX_CONTAINERS 4096

struct mm_replay {
    mm_capture_reader *cr; /* the lines: plain or zstd, one file or a set */
    size_t lineno;
    const char *name;
    mm_proctab *pt;
    mm_map *containers;    /* id -> mm_container* */
    mm_event ev;
    json_t *cur;           /* keeps borrowed strings alive */
    mm_proc *synth;        /* this line's process when it has no pid */
    mm_proc *chain;        /* explicit ancestors of this line */
    mm_fdinfo sfd;         /* explicit fd of a process outside the table */
    char *owned[8];
    int nowned;
    uint64_t seq;
};

static void ctr_free(void *p)
{
    mm_container_unref(p);
}

static mm_replay *replay_alloc(const char *name)
{
    mm_replay *r = mm_xcalloc(1, sizeof *r);
    mm_proctab_new(&r->pt, 0);
    r->containers = mm_map_new();
    r->name = name;
    return r;
}

int mm_replay_new_mem(mm_replay **out)
{
    *out = replay_alloc("<memory>");
    return 0;
}

int mm_replay_open_reader(mm_replay **out, mm_capture_reader *cr)
{
    mm_replay *r = replay_alloc(mm_capture_reader_path(cr));
    r->cr = cr;
    *out = r;
    return 0;
}

mm_capture_reader *mm_replay_reader(const mm_replay *r)
{
    return r->cr;
}

/* zstd or plain is told by the content (capture.c), not by the name */
int mm_replay_open(mm_replay **out, const char *path)
{
    *out = NULL;
    mm_capture_read_opts ro = {.max_line = MAX_LINE};
    mm_capture_reader *cr;
    int rc = mm_capture_reader_open(&cr, &path, 1, &ro);
    if (rc)
        return rc;
    return mm_replay_open_reader(out, cr);
}

static void clear_line_state(mm_replay *r)
{
    if (r->cur) {
        json_decref(r->cur);
        r->cur = NULL;
    }
    mm_proc_unref(r->synth);
    r->synth = NULL;
    mm_proc_unref(r->chain);
    r->chain = NULL;
    free(r->sfd.name);
    memset(&r->sfd, 0, sizeof r->sfd);
    for (int i = 0; i < r->nowned; i++)
        free(r->owned[i]);
    r->nowned = 0;
}

void mm_replay_free(mm_replay *r)
{
    if (!r)
        return;
    clear_line_state(r);
    mm_capture_reader_free(r->cr);
    mm_proctab_free(r->pt);
    mm_map_free(r->containers, ctr_free);
    free(r);
}

size_t mm_replay_lineno(const mm_replay *r)
{
    return r->lineno;
}

/* ---- helpers -------------------------------------------------------------------- */

static const char *jstr(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* integer from a number or a numeric string */
static bool jint(json_t *o, const char *k, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        *out = (int64_t)json_real_value(v);
        return true;
    }
    if (json_is_true(v) || json_is_false(v)) {
        *out = json_is_true(v);
        return true;
    }
    if (json_is_string(v)) {
        char *e;
        errno = 0;
        long long x = strtoll(json_string_value(v), &e, 0);
        if (*json_string_value(v) && !*e && !errno) {
            *out = x;
            return true;
        }
    }
    return false;
}

static int jbool(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (json_is_true(v))
        return 1;
    if (json_is_false(v))
        return 0;
    if (json_is_string(v))
        return !strcmp(json_string_value(v), "true") ? 1 : !strcmp(json_string_value(v), "false") ? 0 : -1;
    if (json_is_integer(v))
        return json_integer_value(v) != 0;
    return -1;
}

static int line_err(mm_replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int line_err(mm_replay *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_error_set(MM_EFORMAT, "%s:%zu: %s", r->name, r->lineno, m);
    free(m);
    return MM_EFORMAT;
}

static bool parse_addr(const char *s, mm_ipaddr *ip)
{
    memset(ip, 0, sizeof *ip);
    if (!s)
        return false;
    if (inet_pton(AF_INET, s, ip->ip) == 1) {
        ip->family = AF_INET;
        return true;
    }
    if (inet_pton(AF_INET6, s, ip->ip) == 1) {
        ip->family = AF_INET6;
        return true;
    }
    return false;
}

static uint64_t caps_parse(json_t *v)
{
    if (json_is_integer(v))
        return (uint64_t)json_integer_value(v);
    if (!json_is_string(v))
        return 0;
    const char *s = json_string_value(v);
    char *e;
    unsigned long long x = strtoull(s, &e, 0);
    if (*s && !*e)
        return x;
    uint64_t caps = 0;
    char name[64];
    while (*s) {
        while (*s == ' ' || *s == '|' || *s == ',')
            s++;
        size_t n = 0;
        while (s[n] && s[n] != ' ' && s[n] != '|' && s[n] != ',')
            n++;
        if (!n)
            break;
        if (n < sizeof name) {
            memcpy(name, s, n);
            name[n] = 0;
            int b = mm_cap_from_name(name);
            if (b >= 0)
                caps |= 1ull << b;
        }
        s += n;
    }
    return caps;
}

/* Fills process fields from the keys with prefix (e.g. "proc." or, for an
 * ancestor object, ""). */
static void fill_proc(mm_proc *p, json_t *o, bool top)
{
    const char *s;
    int64_t n;
    int b;
#define K(a, b2) (top ? (a) : (b2))
    if ((s = jstr(o, K("proc.name", "name"))))
        mm_proc_set(&p->comm, s);
    if ((s = jstr(o, K("proc.exe", "exe"))))
        mm_proc_set(&p->exe, s);
    if ((s = jstr(o, K("proc.exepath", "exepath"))))
        mm_proc_set(&p->exepath, s);
    if ((s = jstr(o, K("proc.cwd", "cwd"))))
        mm_proc_set(&p->cwd, s);
    if ((s = jstr(o, K("proc.env", "env"))))
        mm_proc_set(&p->env, s);
    if ((s = jstr(o, K("proc.cgroup", "cgroup"))))
        mm_proc_set(&p->cgroup, s);
    json_t *av = json_object_get(o, K("proc.argv", "argv"));
    if (json_is_array(av) && json_array_size(av) <= 4096) {
        size_t na = json_array_size(av);
        const char **argv = mm_xcalloc(na + 1, sizeof *argv);
        for (size_t i = 0; i < na; i++) {
            const char *x = json_string_value(json_array_get(av, i));
            argv[i] = x ? x : "";
        }
        mm_proc_set_argv(p, argv, na);
        if (na && !jstr(o, K("proc.exe", "exe")))
            mm_proc_set(&p->exe, argv[0]);
        free(argv);
    } else if ((s = jstr(o, K("proc.args", "args")))) {
        mm_proc_set(&p->args, s);
    } else if ((s = jstr(o, K("proc.cmdline", "cmdline")))) {
        /* "comm args..." */
        const char *sp = strchr(s, ' ');
        mm_proc_set(&p->args, sp ? sp + 1 : "");
        if (!p->comm) {
            char *c = mm_xstrndup(s, sp ? (size_t)(sp - s) : strlen(s));
            mm_proc_set(&p->comm, c);
            free(c);
        }
    }
    if (!p->exe && p->comm)
        mm_proc_set(&p->exe, p->comm);
    if (jint(o, K("proc.pid", "pid"), &n))
        p->pid = p->tid = n;
    if (jint(o, K("proc.vpid", "vpid"), &n))
        p->vpid = n;
    else if (p->vpid <= 0)
        p->vpid = p->pid;
    if (jint(o, K("proc.sid", "sid"), &n))
        p->sid = n;
    if (jint(o, K("proc.vpgid", "vpgid"), &n))
        p->vpgid = n;
    if (jint(o, K("proc.tty", "tty"), &n))
        p->tty = (uint32_t)n;
    if (jint(o, K("user.uid", "uid"), &n))
        p->uid = p->euid = (uint32_t)n;
    if (jint(o, K("group.gid", "gid"), &n))
        p->gid = p->egid = (uint32_t)n;
    if (jint(o, K("user.loginuid", "loginuid"), &n))
        p->loginuid = n < 0 ? UINT32_MAX : (uint32_t)n;
    if ((s = jstr(o, K("user.name", "user"))))
        mm_proc_set(&p->user_name, s);
    if ((s = jstr(o, K("user.loginname", "loginname"))))
        mm_proc_set(&p->login_name, s);
    if ((s = jstr(o, K("user.homedir", "homedir"))))
        mm_proc_set(&p->user_homedir, s);
    if ((s = jstr(o, K("user.shell", "shell"))))
        mm_proc_set(&p->user_shell, s);
    if ((s = jstr(o, K("group.name", "group"))))
        mm_proc_set(&p->group_name, s);
    json_t *cv;
    if ((cv = json_object_get(o, K("thread.cap_effective", "cap_effective"))))
        p->cap_effective = caps_parse(cv);
    if ((cv = json_object_get(o, K("thread.cap_permitted", "cap_permitted"))))
        p->cap_permitted = caps_parse(cv);
    if ((cv = json_object_get(o, K("thread.cap_inheritable", "cap_inheritable"))))
        p->cap_inheritable = caps_parse(cv);
    if ((b = jbool(o, K("proc.is_exe_writable", "is_exe_writable"))) >= 0)
        p->exe_flags = b ? p->exe_flags | MM_EXE_WRITABLE : p->exe_flags & ~(uint32_t)MM_EXE_WRITABLE;
    if ((b = jbool(o, K("proc.is_exe_upper_layer", "is_exe_upper_layer"))) >= 0)
        p->exe_flags = b ? p->exe_flags | MM_EXE_UPPER_LAYER : p->exe_flags & ~(uint32_t)MM_EXE_UPPER_LAYER;
    if ((b = jbool(o, K("proc.is_exe_lower_layer", "is_exe_lower_layer"))) >= 0)
        p->exe_flags = b ? p->exe_flags | MM_EXE_LOWER_LAYER : p->exe_flags & ~(uint32_t)MM_EXE_LOWER_LAYER;
    if ((b = jbool(o, K("proc.is_exe_from_memfd", "is_exe_from_memfd"))) >= 0)
        p->exe_flags = b ? p->exe_flags | MM_EXE_FROM_MEMFD : p->exe_flags & ~(uint32_t)MM_EXE_FROM_MEMFD;
    if (jint(o, K("proc.exe_ino", "exe_ino"), &n))
        p->exe_ino = (uint64_t)n;
    if (jint(o, K("proc.exe_ino.ctime", "exe_ino_ctime"), &n))
        p->exe_ino_ctime = n;
    if (jint(o, K("proc.exe_ino.mtime", "exe_ino_mtime"), &n))
        p->exe_ino_mtime = n;
    if (jint(o, K("proc.start_ts", "start_ts"), &n))
        p->start_ts = n;
    if (jint(o, K("proc.pidns_init_start_ts", "pidns_init_start_ts"), &n))
        p->pidns_init_start_ts = (uint64_t)n;
#undef K
}

static mm_container *container_for(mm_replay *r, json_t *o)
{
    const char *id = jstr(o, "container.id");
    if (!id)
        return NULL;
    mm_container *c = mm_map_get(r->containers, id);
    if (!c) {
        if (mm_map_count(r->containers) >= MAX_CONTAINERS)
            return NULL;
        mm_container_new(&c, id);
        mm_map_put(r->containers, id, c);
    }
    const char *s;
    int b;
    int64_t n;
    if ((s = jstr(o, "container.full_id"))) mm_proc_set(&c->full_id, s);
    if ((s = jstr(o, "container.name"))) mm_proc_set(&c->name, s);
    if ((s = jstr(o, "container.type"))) mm_proc_set(&c->type, s);
    if ((s = jstr(o, "container.image"))) mm_proc_set(&c->image, s);
    if ((s = jstr(o, "container.image.repository"))) mm_proc_set(&c->image_repository, s);
    if ((s = jstr(o, "container.image.tag"))) mm_proc_set(&c->image_tag, s);
    if ((s = jstr(o, "container.image.digest"))) mm_proc_set(&c->image_digest, s);
    if ((s = jstr(o, "container.image.id"))) mm_proc_set(&c->image_id, s);
    if ((s = jstr(o, "k8s.pod.name"))) mm_proc_set(&c->k8s_pod_name, s);
    if ((s = jstr(o, "k8s.ns.name"))) mm_proc_set(&c->k8s_ns_name, s);
    if ((s = jstr(o, "k8s.pod.uid"))) mm_proc_set(&c->k8s_pod_uid, s);
    if ((b = jbool(o, "container.privileged")) >= 0) {
        c->privileged = b;
        c->privileged_known = true;
    }
    if (jint(o, "container.start_ts", &n))
        c->start_ts = n;
    json_t *m = json_object_get(o, "container.mounts");
    if (json_is_array(m) && json_array_size(m) <= 256) {
        for (size_t i = 0; i < c->nmounts; i++) {
            free(c->mounts[i].source); free(c->mounts[i].dest); free(c->mounts[i].mode);
        }
        free(c->mounts);
        c->nmounts = json_array_size(m);
        c->mounts_known = true;   /* a capture lists all of them */
        c->mounts = mm_xcalloc(c->nmounts ? c->nmounts : 1, sizeof *c->mounts);
        for (size_t i = 0; i < c->nmounts; i++) {
            json_t *x = json_array_get(m, i);
            c->mounts[i].source = mm_xstrdup(jstr(x, "source"));
            c->mounts[i].dest = mm_xstrdup(jstr(x, "dest"));
            c->mounts[i].mode = mm_xstrdup(jstr(x, "mode"));
            c->mounts[i].rw = jbool(x, "rw") == 1;
        }
    }
    return c;
}

/* Ancestor specs from "proc.ancestors" or flat keys; builds a chain of
 * synthetic records (parent first) and returns the parent, or NULL. */
static mm_proc *build_chain(mm_replay *r, json_t *o)
{
    json_t *spec[MAX_ANCESTORS + 1] = {0};
    json_t *tmp[MAX_ANCESTORS + 1] = {0};
    int depth = 0;
    json_t *arr = json_object_get(o, "proc.ancestors");
    if (json_is_array(arr)) {
        for (size_t i = 0; i < json_array_size(arr) && i < MAX_ANCESTORS; i++) {
            json_t *x = json_array_get(arr, i);
            if (!json_is_object(x))
                continue;
            spec[i + 1] = x;
            depth = (int)i + 1;
        }
    }
    /* flat keys add to (or create) ancestor specs */
    static const char *const kinds[][2] = {
        {"aname", "name"}, {"aexe", "exe"}, {"aexepath", "exepath"},
        {"acmdline", "cmdline"}, {"apid", "pid"}};
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        int lvl = -1;
        const char *field = NULL;
        if (!strcmp(k, "proc.pname")) { lvl = 1; field = "name"; }
        else if (!strcmp(k, "proc.pexe")) { lvl = 1; field = "exe"; }
        else if (!strcmp(k, "proc.pexepath")) { lvl = 1; field = "exepath"; }
        else if (!strcmp(k, "proc.pcmdline")) { lvl = 1; field = "cmdline"; }
        else if (!strncmp(k, "proc.a", 6)) {
            for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
                size_t kl = strlen(kinds[i][0]);
                if (!strncmp(k + 5, kinds[i][0], kl) && k[5 + kl] == '[') {
                    char *e;
                    long x = strtol(k + 6 + kl, &e, 10);
                    if (*e == ']' && !e[1] && x >= 1 && x <= MAX_ANCESTORS) {
                        lvl = (int)x;
                        field = kinds[i][1];
                    }
                }
            }
        }
        if (lvl < 1)
            continue;
        if (!spec[lvl]) {
            spec[lvl] = tmp[lvl] = json_object();
        } else if (!tmp[lvl]) {
            spec[lvl] = tmp[lvl] = json_deep_copy(spec[lvl]);
        }
        json_object_set(spec[lvl], field, v);
        if (lvl > depth)
            depth = lvl;
    }
    mm_proc *top = NULL, *child = NULL;
    for (int i = 1; i <= depth; i++) {
        int64_t pid = -1;
        if (spec[i])
            jint(spec[i], "pid", &pid);
        mm_proc *a;
        mm_proc_new(&a, pid);
        if (spec[i])
            fill_proc(a, spec[i], false);
        if (!top)
            top = a;
        else {
            mm_proc_set_parent(child, a);
            mm_proc_unref(a);  /* child holds it */
        }
        child = a;
    }
    for (int i = 0; i <= MAX_ANCESTORS; i++)
        if (tmp[i])
            json_decref(tmp[i]);
    return top;
}

static bool is_open_type(mm_evt_type t)
{
    return t == MM_EVT_OPEN || t == MM_EVT_OPENAT || t == MM_EVT_OPENAT2 ||
           t == MM_EVT_CREAT || t == MM_EVT_OPEN_BY_HANDLE_AT;
}

static int parse_args(mm_replay *r, json_t *o)
{
    mm_event *ev = &r->ev;
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        const char *name = NULL;
        if (!strncmp(k, "evt.arg.", 8))
            name = k + 8;
        else if (!strncmp(k, "evt.rawarg.", 11))
            name = k + 11;
        bool extra = !name && (!strcmp(k, "fd.sip.name") || !strcmp(k, "fd.cip.name") ||
                               !strcmp(k, "fd.lip.name") || !strcmp(k, "fd.rip.name"));
        if (!name && !extra)
            continue;
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        char nb[32];
        if (!s && json_is_integer(v)) {
            snprintf(nb, sizeof nb, "%lld", (long long)json_integer_value(v));
            s = nb;
        }
        if (!s)
            return line_err(r, "'%s' must be a string or a number", k);
        if (extra) {
            name = k;
        } else if (!strcmp(name, "flags") || !strcmp(name, "mode") || !strcmp(name, "domain") ||
                   !strcmp(name, "family") || !strcmp(name, "request") || !strcmp(name, "nstype") ||
                   (!strcmp(name, "type") && ev->type != MM_EVT_MOUNT)) {
            uint64_t x;
            int set = mm_flagset_for(ev->type, name);
            if (!mm_flags_parse(set, s, &x))
                return line_err(r, "'%s': cannot read '%s' for %s", k, s, mm_evt_type_name(ev->type));
            if (!strcmp(name, "flags"))
                ev->flags = (uint32_t)x;
            else if (!strcmp(name, "mode"))
                ev->mode = (uint32_t)(set < 0 && s[0] == '0' ? strtoul(s, NULL, 8) : x);
            else if (!strcmp(name, "domain") || !strcmp(name, "family"))
                ev->sock_domain = (uint16_t)x;
            else if (!strcmp(name, "request"))
                ev->request = (int64_t)x;
            else if (!strcmp(name, "nstype"))
                ev->nstype = (uint32_t)x;
            else
                ev->sock_type = (uint16_t)x;
            continue;
        } else if (!strcmp(name, "name") || !strcmp(name, "pathname") || !strcmp(name, "filename") ||
                   !strcmp(name, "path") || !strcmp(name, "oldpath") || !strcmp(name, "target") ||
                   !strcmp(name, "dev") || !strcmp(name, "source")) {
            ev->path = s == nb ? NULL : s;
            continue;
        } else if (!strcmp(name, "newpath") || !strcmp(name, "linkpath") || !strcmp(name, "dir")) {
            ev->path2 = s == nb ? NULL : s;
            continue;
        } else if (!strcmp(name, "type") && ev->type == MM_EVT_MOUNT) {
            ev->fstype = s == nb ? NULL : s;
            continue;
        } else {
            int64_t n;
            bool num = jint(o, k, &n);
            if (num && (!strcmp(name, "fd") || !strcmp(name, "oldfd") || !strcmp(name, "dirfd") ||
                        !strcmp(name, "olddirfd"))) {
                ev->arg_fd = n;
                continue;
            }
            if (num && (!strcmp(name, "newfd") || !strcmp(name, "newdirfd"))) {
                ev->arg_fd2 = n;
                continue;
            }
            if (num && (!strcmp(name, "uid") || !strcmp(name, "gid") || !strcmp(name, "pid") ||
                        !strcmp(name, "euid") || !strcmp(name, "ruid"))) {
                ev->target_id = n;
                continue;
            }
            if (num && (!strcmp(name, "size") || !strcmp(name, "len"))) {
                ev->size = (uint64_t)n;
                continue;
            }
            if (num && !strcmp(name, "proto")) {
                ev->sock_proto = (uint16_t)n;
                continue;
            }
            if (num && (!strcmp(name, "cmd") || !strcmp(name, "option"))) {
                ev->request = n;
                continue;
            }
            if (!strcmp(name, "data")) {
                ev->data = s == nb ? NULL : s;
                ev->datalen = ev->data ? (uint32_t)strlen(s) : 0;
                continue;
            }
        }
        if (ev->nparams < MM_EVT_MAX_PARAMS && s != nb) {
            ev->params[ev->nparams].name = name;
            ev->params[ev->nparams].value = s;
            ev->nparams++;
        }
    }
    return 0;
}

static bool has_fd_keys(json_t *o)
{
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v)
        if (!strncmp(k, "fd.", 3) && strcmp(k, "fd.sip.name") && strcmp(k, "fd.cip.name") &&
            strcmp(k, "fd.lip.name") && strcmp(k, "fd.rip.name") && strcmp(k, "fd.nameraw"))
            return true;
    return false;
}

static int fill_fd(mm_replay *r, json_t *o, mm_fdinfo *f)
{
    const char *s;
    int64_t n;
    int b;
    if ((s = jstr(o, "fd.type"))) {
        f->type = mm_fd_type_from_name(s);
    } else if ((s = jstr(o, "fd.typechar")) || jint(o, "fd.typechar", &n)) {
        char c = s ? s[0] : (char)('0' + n);
        for (int t = 0; t < MM_FD__COUNT; t++)
            if (mm_fd_type_char((mm_fd_type)t) == c) {
                f->type = (mm_fd_type)t;
                break;
            }
    }
    bool server = jbool(o, "fd.is_server") == 1;
    f->role_server = server;
    /* addresses: client/server, or local/remote per the role */
    mm_ipaddr ip;
    if (parse_addr(jstr(o, "fd.cip"), &ip)) f->cip = ip;
    if (parse_addr(jstr(o, "fd.sip"), &ip)) f->sip = ip;
    if (parse_addr(jstr(o, "fd.lip"), &ip)) *(server ? &f->sip : &f->cip) = ip;
    if (parse_addr(jstr(o, "fd.rip"), &ip)) *(server ? &f->cip : &f->sip) = ip;
    if (jint(o, "fd.cport", &n)) f->cport = (uint16_t)n;
    if (jint(o, "fd.sport", &n)) f->sport = (uint16_t)n;
    if (jint(o, "fd.lport", &n)) *(server ? &f->sport : &f->cport) = (uint16_t)n;
    if (jint(o, "fd.rport", &n)) *(server ? &f->cport : &f->sport) = (uint16_t)n;
    if (!f->type || f->type == MM_FD_FILE) {
        uint8_t fam = f->sip.family ? f->sip.family : f->cip.family;
        if (fam == AF_INET)
            f->type = MM_FD_IPV4;
        else if (fam == AF_INET6)
            f->type = MM_FD_IPV6;
        else if (!f->type)
            f->type = MM_FD_FILE;
    }
    if ((s = jstr(o, "fd.l4proto")))
        f->l4proto = !strcmp(s, "tcp") ? MM_L4_TCP : !strcmp(s, "udp") ? MM_L4_UDP
                   : !strcmp(s, "icmp") ? MM_L4_ICMP : !strcmp(s, "raw") ? MM_L4_RAW : MM_L4_NONE;
    else if ((f->type == MM_FD_IPV4 || f->type == MM_FD_IPV6) && !f->l4proto)
        f->l4proto = MM_L4_TCP;
    if ((b = jbool(o, "fd.connected")) >= 0)
        f->connected = b;
    if (f->type == MM_FD_IPV4 || f->type == MM_FD_IPV6) {
        f->sock_family = f->type == MM_FD_IPV4 ? AF_INET : AF_INET6;
        if (!f->cip.family)
            f->cip.family = f->sip.family ? f->sip.family : (uint8_t)f->sock_family;
        if (!f->sip.family)
            f->sip.family = f->cip.family;
    } else if (f->type == MM_FD_UNIX) {
        f->sock_family = AF_UNIX;
    }
    if ((s = jstr(o, "fd.name")))
        mm_fdinfo_set_name(f, s);
    else if (f->type == MM_FD_IPV4 || f->type == MM_FD_IPV6)
        mm_fdinfo_name_from_tuple(f);
    if (jint(o, "fd.ino", &n)) f->ino = (uint64_t)n;
    if (jint(o, "fd.dev", &n)) f->dev = (uint32_t)n;
    (void)r;
    return 0;
}

static int64_t parse_time(json_t *v, uint64_t seq)
{
    if (json_is_integer(v))
        return json_integer_value(v);
    if (json_is_string(v)) {
        struct tm tm = {0};
        const char *s = json_string_value(v);
        const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (e) {
            int64_t ns = 0;
            if (*e == '.') {
                int digits = 0;
                for (e++; isdigit((unsigned char)*e) && digits < 9; e++, digits++)
                    ns = ns * 10 + (*e - '0');
                while (digits++ < 9)
                    ns *= 10;
            }
            return (int64_t)timegm(&tm) * 1000000000 + ns;
        }
    }
    /* no time: a fixed epoch plus the sequence keeps replays deterministic */
    return 1700000000000000000ll + (int64_t)seq * 1000;
}

static int parse_obj(mm_replay *r, json_t *o, const mm_event **out)
{
    mm_event *ev = &r->ev;
    memset(ev, 0, sizeof *ev);
    if (!json_is_object(o))
        return line_err(r, "an event is a JSON object");
    if (mm_replay_kinds_check(o) < 0) {
        char kwhy[256];
        snprintf(kwhy, sizeof kwhy, "%s", mm_error_last());
        return line_err(r, "%s", kwhy);
    }
    const char *ts = jstr(o, "evt.type");
    if (!ts)
        return line_err(r, "no \"evt.type\" (a string such as \"execve\")");
    ev->type = mm_evt_type_from_name(ts);
    if (ev->type == MM_EVT_UNKNOWN)
        return line_err(r, "unknown evt.type '%s'", ts);
    r->seq++;
    int64_t n;
    ev->num = jint(o, "evt.num", &n) ? (uint64_t)n : r->seq;
    ev->ts = parse_time(json_object_get(o, "evt.time"), r->seq);
    if (jint(o, "evt.rawtime", &n))
        ev->ts = n;
    const char *dir = jstr(o, "evt.dir");
    ev->dir = dir && !strcmp(dir, ">") ? MM_DIR_ENTER : MM_DIR_EXIT;
    ev->arg_fd = -100;  /* AT_FDCWD unless told */
    bool have_res = false;
    if (jint(o, "evt.rawres", &n)) {
        ev->res = n;
        have_res = true;
    } else if (jstr(o, "evt.res")) {
        const char *s = jstr(o, "evt.res");
        have_res = true;
        if (strcmp(s, "SUCCESS")) {
            int e = 0;
            for (int i = 1; i < 4096 && !e; i++) {
                const char *nm = strerrorname_np(i);
                if (nm && !strcmp(nm, s))
                    e = i;
            }
            if (!e)
                return line_err(r, "unknown evt.res '%s'", s);
            ev->res = -e;
        }
    } else if (jint(o, "evt.res", &n)) {
        ev->res = n;
        have_res = true;
    }
    int rc = parse_args(r, o);
    if (rc)
        return rc;

    /* the process */
    mm_proc *p;
    int64_t pid = -1, ppid = -1;
    jint(o, "proc.pid", &pid);
    jint(o, "proc.ppid", &ppid);
    if (pid > 0) {
        p = mm_proctab_add(r->pt, pid, ppid);
    } else {
        mm_proc_new(&p, -1);
        r->synth = p;
        if (ppid > 0) {
            mm_proc *pp = mm_proctab_get(r->pt, ppid);
            if (pp)
                mm_proc_set_parent(p, pp);
            p->ppid = ppid;
        }
    }
    fill_proc(p, o, true);
    if (jint(o, "proc.duration", &n) && n >= 0)
        p->start_ts = ev->ts - n;
    if ((ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT) && ev->flags)
        p->exe_flags = ev->flags;
    if (jint(o, "thread.tid", &n))
        ev->tid = n;
    ev->pid = p->pid;
    mm_container *c = container_for(r, o);
    if (c)
        mm_proc_set_container(p, c);
    mm_proc *chain = build_chain(r, o);
    if (chain) {
        mm_proc_set_parent(p, chain);
        r->chain = chain;  /* keep our reference until the next line */
    }
    /* fd: explicit keys, or implied by the event (open of evt.arg.name) */
    bool fdk = has_fd_keys(o);
    int64_t fdnum = -1;
    bool have_fdnum = jint(o, "fd.num", &fdnum);
    const char *nameraw = jstr(o, "fd.nameraw");
    if (is_open_type(ev->type)) {
        if (!ev->path)
            ev->path = nameraw ? nameraw : jstr(o, "fd.name");
        if (!have_res)
            ev->res = have_fdnum ? fdnum : 3;
    } else if (!have_res && (ev->type == MM_EVT_SOCKET || ev->type == MM_EVT_MEMFD_CREATE ||
                             ev->type == MM_EVT_ACCEPT || ev->type == MM_EVT_ACCEPT4)) {
        ev->res = have_fdnum ? fdnum : 3;
    }
    if (have_fdnum && ev->arg_fd == -100 && !is_open_type(ev->type))
        ev->arg_fd = fdnum;
    ev->proc = p;
    mm_proctab_apply(r->pt, ev);
    if (fdk && !(is_open_type(ev->type) && !jstr(o, "fd.type") && !jstr(o, "fd.typechar") &&
                 !json_object_get(o, "fd.typechar") && ev->fd && !json_object_get(o, "fd.sip"))) {
        mm_fdinfo *f;
        int64_t num = have_fdnum ? fdnum : (ev->fd ? ev->fd->fd : -1);
        if (num >= 0 && num < (1 << 20)) {
            f = mm_proc_fd_set(p, num);
        } else {
            free(r->sfd.name);
            memset(&r->sfd, 0, sizeof r->sfd);
            r->sfd.fd = num;
            f = &r->sfd;
        }
        fill_fd(r, o, f);
        ev->fd = f;
    } else if (fdk && ev->fd && jstr(o, "fd.name") && is_open_type(ev->type)) {
        /* an open with both a raw path and the resolved fd.name */
        mm_fdinfo *f = (mm_fdinfo *)ev->fd;
        mm_fdinfo_set_name(f, jstr(o, "fd.name"));
    }
    *out = ev;
    return 1;
}

int mm_replay_parse(mm_replay *r, const char *line, size_t len, const mm_event **ev)
{
    clear_line_state(r);
    if (len > MAX_LINE)
        return line_err(r, "line longer than %u bytes", MAX_LINE);
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!o)
        return line_err(r, "JSON: %s (column %d)", je.text, je.column);
    r->cur = o;
    return parse_obj(r, o, ev);
}

int mm_replay_next(mm_replay *r, const mm_event **ev)
{
    if (!r->cr)
        return 0;
    for (;;) {
        const char *l;
        size_t len;
        int rc = mm_capture_reader_next(r->cr, &l, &len);
        if (rc <= 0) {
            clear_line_state(r);
            return rc;   /* the reader named the file and line or offset */
        }
        /* errors of this line name the member file of a rotated set */
        r->name = mm_capture_reader_path(r->cr);
        r->lineno = mm_capture_reader_lineno(r->cr);
        while (len && l[len - 1] == '\r')
            len--;
        size_t i = 0;
        while (i < len && isspace((unsigned char)l[i]))
            i++;
        if (i == len || l[i] == '#')
            continue;
        return mm_replay_parse(r, l + i, len - i, ev);
    }
}
