/*
 * replay_write.c - an event as one JSON line keyed by Falco field names:
 * the writer of captures, in the form replay.c reads back (a process and
 * its ancestors described on its first line in a file only), and the
 * digest that tells whether a line's description changed.
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

static void path_names(mm_evt_type t, const char **p1, const char **p2)
{
    *p1 = "path";
    *p2 = "newpath";
    switch (t) {
    case MM_EVT_OPEN: case MM_EVT_OPENAT: case MM_EVT_OPENAT2: case MM_EVT_CREAT:
    case MM_EVT_MEMFD_CREATE: case MM_EVT_UNLINKAT: case MM_EVT_INIT_MODULE:
        *p1 = "name"; break;
    case MM_EVT_EXECVE: case MM_EVT_EXECVEAT: case MM_EVT_FCHMODAT:
        *p1 = "filename"; break;
    case MM_EVT_RENAME: case MM_EVT_RENAMEAT: case MM_EVT_RENAMEAT2:
    case MM_EVT_LINK: case MM_EVT_LINKAT:
        *p1 = "oldpath"; break;
    case MM_EVT_SYMLINK: case MM_EVT_SYMLINKAT:
        *p1 = "target"; *p2 = "linkpath"; break;
    case MM_EVT_MOUNT:
        *p1 = "dev"; *p2 = "dir"; break;
    default: break;
    }
}

static void put_s(json_t *o, const char *k, const char *v)
{
    if (v) {
        json_t *s = json_string(v);
        if (s)
            json_object_set_new(o, k, s);
    }
}

/* Where the process parts of a line go: a JSON object, or (o == NULL) the
 * canonical bytes a digest is taken of.  One emitter serves both, so that
 * the digest covers exactly what the line would carry. */
typedef struct jsink {
    json_t *o;
    mm_buf *d;
} jsink;

static void sk_raw(jsink *s, const char *k, char tag, const void *v, size_t n)
{
    mm_buf_adds(s->d, k);
    mm_buf_addc(s->d, 0);
    mm_buf_addc(s->d, tag);
    uint64_t len = n;
    mm_buf_add(s->d, &len, sizeof len);
    mm_buf_add(s->d, v, n);
}

static void sk_str(jsink *s, const char *k, const char *v)
{
    if (!v)
        return;
    if (s->o)
        put_s(s->o, k, v);
    else
        sk_raw(s, k, 's', v, strlen(v));
}

static void sk_int(jsink *s, const char *k, int64_t v)
{
    if (s->o)
        json_object_set_new(s->o, k, json_integer(v));
    else
        sk_raw(s, k, 'i', &v, sizeof v);
}

static void sk_true(jsink *s, const char *k)
{
    if (s->o)
        json_object_set_new(s->o, k, json_true());
    else
        sk_raw(s, k, 't', "", 0);
}

static void sk_argv(jsink *s, const char *k, char *const *argv, size_t argc)
{
    if (s->o) {
        json_t *a = json_array();
        for (size_t i = 0; i < argc; i++) {
            json_t *x = json_string(argv[i]);
            json_array_append_new(a, x ? x : json_string(""));
        }
        json_object_set_new(s->o, k, a);
        return;
    }
    sk_raw(s, k, 'v', &argc, sizeof argc);
    for (size_t i = 0; i < argc; i++)
        sk_raw(s, "", 's', argv[i] ? argv[i] : "", argv[i] ? strlen(argv[i]) : 0);
}

/* One ancestor as "proc.ancestors" holds it (fill_proc reads it back). */
static void emit_ancestor(jsink *s, const mm_proc *a)
{
    sk_int(s, "pid", a->pid);
    sk_str(s, "name", a->comm);
    sk_str(s, "exe", a->exe);
    sk_str(s, "exepath", a->exepath);
    sk_str(s, "args", a->args);
    sk_str(s, "cwd", a->cwd);
    sk_int(s, "uid", a->uid);
}

/* "proc.ancestors": up to 8, parent first. */
static void emit_ancestors(jsink *s, const mm_proc *p)
{
    const mm_proc *a = p->parent;
    if (!s->o) {
        for (int i = 0; a && i < 8; i++, a = a->parent) {
            mm_buf_addc(s->d, 'A');
            emit_ancestor(s, a);
        }
        return;
    }
    if (!a)
        return;
    json_t *anc = json_array();
    for (int i = 0; a && i < 8; i++, a = a->parent) {
        jsink c = {json_object(), NULL};
        emit_ancestor(&c, a);
        json_array_append_new(anc, c.o);
    }
    json_object_set_new(s->o, "proc.ancestors", anc);
}

/* The process's own description: everything of proc.* / user.* / group.* /
 * thread.cap_* but its ids (proc.pid, proc.ppid, proc.vpid). */
static void emit_proc_desc(jsink *s, const mm_proc *p)
{
    char buf[64];
    sk_str(s, "proc.name", p->comm);
    sk_str(s, "proc.exe", p->exe);
    sk_str(s, "proc.exepath", p->exepath);
    if (p->argv)
        sk_argv(s, "proc.argv", p->argv, p->argc);
    else
        sk_str(s, "proc.args", p->args);
    sk_str(s, "proc.cwd", p->cwd);
    sk_str(s, "proc.env", p->env);
    if (p->tty)
        sk_int(s, "proc.tty", p->tty);
    if (p->sid)
        sk_int(s, "proc.sid", p->sid);
    if (p->vpgid)
        sk_int(s, "proc.vpgid", p->vpgid);
    if (p->start_ts)
        sk_int(s, "proc.start_ts", p->start_ts);
    sk_int(s, "user.uid", p->euid ? p->euid : p->uid);
    sk_int(s, "group.gid", p->egid ? p->egid : p->gid);
    sk_int(s, "user.loginuid", p->loginuid == UINT32_MAX ? -1 : (int64_t)p->loginuid);
    sk_str(s, "user.name", p->user_name);
    sk_str(s, "user.loginname", p->login_name);
    sk_str(s, "group.name", p->group_name);
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)p->cap_effective);
    sk_str(s, "thread.cap_effective", buf);
    snprintf(buf, sizeof buf, "0x%llx", (unsigned long long)p->cap_permitted);
    sk_str(s, "thread.cap_permitted", buf);
    if (p->exe_flags & MM_EXE_WRITABLE)
        sk_true(s, "proc.is_exe_writable");
    if (p->exe_flags & MM_EXE_UPPER_LAYER)
        sk_true(s, "proc.is_exe_upper_layer");
    if (p->exe_flags & MM_EXE_FROM_MEMFD)
        sk_true(s, "proc.is_exe_from_memfd");
    if (p->exe_ino_ctime)
        sk_int(s, "proc.exe_ino.ctime", p->exe_ino_ctime);
    if (p->exe_ino_mtime)
        sk_int(s, "proc.exe_ino.mtime", p->exe_ino_mtime);
}

void mm_event_json_digest_compute(mm_event_json_digest *out, const mm_event *ev)
{
    memset(out, 0, sizeof *out);
    const mm_proc *p = ev->proc;
    if (!p)
        return;
    mm_buf d = MM_BUF_INIT;
    jsink s = {NULL, &d};
    emit_proc_desc(&s, p);
    SHA256((const unsigned char *)(d.data ? d.data : ""), d.len, out->proc);
    mm_buf_clear(&d);
    emit_ancestors(&s, p);
    SHA256((const unsigned char *)(d.data ? d.data : ""), d.len, out->anc);
    mm_buf_free(&d);
}

char *mm_event_to_json(const mm_event *ev)
{
    return mm_event_to_json_flags(ev, 0);
}

char *mm_event_to_json_flags(const mm_event *ev, unsigned flags)
{
    json_t *o = json_object();
    const mm_proc *p = ev->proc;
    char buf[64];
    json_object_set_new(o, "evt.type", json_string(mm_evt_type_name(ev->type)));
    json_object_set_new(o, "evt.num", json_integer((json_int_t)ev->num));
    json_object_set_new(o, "evt.time", json_integer(ev->ts));
    json_object_set_new(o, "evt.rawres", json_integer(ev->res));
    if (ev->dir == MM_DIR_ENTER)
        json_object_set_new(o, "evt.dir", json_string(">"));
    if (ev->tid)
        json_object_set_new(o, "thread.tid", json_integer(ev->tid));
    if (p) {
        jsink s = {o, NULL};
        json_object_set_new(o, "proc.pid", json_integer(p->pid));
        if (p->parent)
            json_object_set_new(o, "proc.ppid", json_integer(p->parent->pid));
        else if (p->ppid > 0)
            json_object_set_new(o, "proc.ppid", json_integer(p->ppid));
        if (p->vpid != p->pid)
            json_object_set_new(o, "proc.vpid", json_integer(p->vpid));
        if (!(flags & MM_EVJ_NO_PROC))
            emit_proc_desc(&s, p);
        /* the container is always written: its record is shared by id in
         * the reader, so another process's line may have changed it */
        const mm_container *c = p->container;
        if (c) {
            put_s(o, "container.id", c->id);
            put_s(o, "container.name", c->name);
            put_s(o, "container.type", c->type);
            put_s(o, "container.image", c->image);
            put_s(o, "container.image.repository", c->image_repository);
            put_s(o, "container.image.tag", c->image_tag);
            put_s(o, "container.image.digest", c->image_digest);
            put_s(o, "k8s.pod.name", c->k8s_pod_name);
            put_s(o, "k8s.ns.name", c->k8s_ns_name);
            if (c->privileged_known)
                json_object_set_new(o, "container.privileged", json_boolean(c->privileged));
            if (c->start_ts)
                json_object_set_new(o, "container.start_ts", json_integer(c->start_ts));
        }
        if (!(flags & MM_EVJ_NO_ANCESTORS))
            emit_ancestors(&s, p);
    }
    const mm_fdinfo *f = ev->fd;
    if (f) {
        json_object_set_new(o, "fd.num", json_integer(f->fd));
        json_object_set_new(o, "fd.type", json_string(mm_fd_type_name(f->type)));
        put_s(o, "fd.name", f->name);
        if (f->type == MM_FD_IPV4 || f->type == MM_FD_IPV6) {
            mm_event_ip_str(&f->cip, buf, sizeof buf);
            put_s(o, "fd.cip", buf);
            mm_event_ip_str(&f->sip, buf, sizeof buf);
            put_s(o, "fd.sip", buf);
            json_object_set_new(o, "fd.cport", json_integer(f->cport));
            json_object_set_new(o, "fd.sport", json_integer(f->sport));
            put_s(o, "fd.l4proto", f->l4proto == MM_L4_UDP ? "udp" : f->l4proto == MM_L4_ICMP ? "icmp"
                                   : f->l4proto == MM_L4_RAW ? "raw" : "tcp");
            json_object_set_new(o, "fd.connected", json_boolean(f->connected));
            json_object_set_new(o, "fd.is_server", json_boolean(f->role_server));
        }
    }
    const char *p1, *p2;
    path_names(ev->type, &p1, &p2);
    char key[96];
    if (ev->path) {
        snprintf(key, sizeof key, "evt.arg.%s", p1);
        put_s(o, key, ev->path);
    }
    if (ev->path2) {
        snprintf(key, sizeof key, "evt.arg.%s", p2);
        put_s(o, key, ev->path2);
    }
    if (ev->flags)
        json_object_set_new(o, "evt.arg.flags", json_integer(ev->flags));
    if (ev->mode)
        json_object_set_new(o, "evt.arg.mode", json_integer(ev->mode));
    if (ev->arg_fd != -100 && ev->arg_fd != 0)
        json_object_set_new(o, "evt.arg.fd", json_integer(ev->arg_fd));
    if (ev->arg_fd2)
        json_object_set_new(o, "evt.arg.newfd", json_integer(ev->arg_fd2));
    if (ev->type == MM_EVT_SOCKET || ev->type == MM_EVT_SOCKETPAIR) {
        json_object_set_new(o, "evt.arg.domain", json_integer(ev->sock_domain));
        json_object_set_new(o, "evt.arg.type", json_integer(ev->sock_type));
        json_object_set_new(o, "evt.arg.proto", json_integer(ev->sock_proto));
    }
    if (ev->type == MM_EVT_MOUNT && ev->fstype)
        put_s(o, "evt.arg.type", ev->fstype);
    if (ev->target_id)
        json_object_set_new(o, "evt.arg.uid", json_integer(ev->target_id));
    if (ev->request)
        json_object_set_new(o, "evt.arg.request", json_integer(ev->request));
    if (ev->nstype)
        json_object_set_new(o, "evt.arg.nstype", json_integer(ev->nstype));
    if (ev->size)
        json_object_set_new(o, "evt.arg.size", json_integer((json_int_t)ev->size));
    for (unsigned i = 0; i < ev->nparams && i < MM_EVT_MAX_PARAMS; i++) {
        if (!ev->params[i].name || !ev->params[i].value)
            continue;
        if (strchr(ev->params[i].name, '.'))
            put_s(o, ev->params[i].name, ev->params[i].value);
        else {
            snprintf(key, sizeof key, "evt.arg.%s", ev->params[i].name);
            put_s(o, key, ev->params[i].value);
        }
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}
