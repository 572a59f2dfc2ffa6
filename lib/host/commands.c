/*
 * commands.c - `mamori host commands`: the interactive commands run on the
 * host and in its containers (SP 800-190 §3.5.4: hosts are administered,
 * not used, so every command typed on them - and every `docker exec` into a
 * container - is worth knowing about), per user and per container.
 *
 * The source is the agent's exec store (`mamori agent --exec-store FILE`:
 * the execve events of the sensor in the capture format, one complete line
 * per event) or any capture of the agent; both are read through the
 * capture reader and the replay parser (mamori/capture.h, mamori/rules.h),
 * so rotated sets, zstd frames and a file still being written work as for
 * `mamori runtime replay`.
 *
 * Interactive means: the process has a controlling terminal (a login, an
 * ssh session, `docker exec -it`), or its parent is a shell (a script's or
 * a session's children), or an engine started it inside a running
 * container (runc/crun/conmon/containerd-shim as its parent: an exec
 * session, with or without a TTY).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "mamori/capture.h"
#include "mamori/hostinv.h"
#include "mamori/rules.h"
#include "util/util.h"
#include "host_int.h"

#define DEF_MAX 1000000u

struct mm_commands {
    mm_host_command *v;
    size_t n, cap;
    char **notes;
    size_t nnotes;
};

static bool is_shell(const char *comm)
{
    static const char *const sh[] = {"sh", "bash", "dash", "zsh", "ash", "ksh", "mksh", "fish",
                                     "tcsh", "csh", "busybox", NULL};
    for (size_t i = 0; comm && sh[i]; i++)
        if (!strcmp(comm, sh[i]))
            return true;
    return false;
}

static bool is_engine(const char *comm)
{
    static const char *const en[] = {"runc", "crun", "conmon", "containerd-shim",
                                     "containerd-shim-runc-v2", "containerd-shim-runc-v1",
                                     "runc:[2:INIT]", "runc:[1:CHILD]", NULL};
    for (size_t i = 0; comm && en[i]; i++)
        if (!strncmp(comm, en[i], 15))  /* comm is cut at 15 bytes */
            return true;
    return false;
}

/* "pts/3" for the Unix98 pty majors 136-143, "ttyN" for major 4, else
 * "tty(MAJ:MIN)".  The tty number is the kernel's new encoding. */
static char *tty_name(uint32_t nr)
{
    unsigned major = (nr >> 8) & 0xfff, minor = (nr & 0xff) | ((nr >> 12) & 0xfff00);
    if (major >= 136 && major <= 143)
        return mm_xasprintf("pts/%u", (major - 136) * 256 + minor);
    if (major == 4 && minor < 64)
        return mm_xasprintf("tty%u", minor);
    if (major == 4)
        return mm_xasprintf("ttyS%u", minor - 64);
    return mm_xasprintf("tty(%u:%u)", major, minor);
}

static bool container_match(const mm_container *ct, const char *want)
{
    bool host = !ct || !ct->id || !strcmp(ct->id, "host");
    if (!strcmp(want, "host"))
        return host;
    if (host)
        return false;
    size_t n = strlen(want);
    return (ct->id && !strncmp(ct->id, want, n)) || (ct->full_id && !strncmp(ct->full_id, want, n)) ||
           (ct->name && !strcmp(ct->name, want));
}

int mm_host_commands(mm_commands **out, const mm_commands_opts *o)
{
    mm_commands_opts def = {0};
    if (!o)
        o = &def;
    const char *dflt[] = {MM_EXEC_STORE_DEFAULT};
    const char *const *stores = o->nstores ? o->stores : dflt;
    size_t ns = o->nstores ? o->nstores : 1;
    char **files = NULL;
    size_t nf = 0;
    int rc = mm_capture_files(&files, &nf, stores, ns);
    if (rc < 0)
        return rc;
    mm_capture_reader *cr;
    rc = mm_capture_reader_open(&cr, (const char *const *)files, nf, NULL);
    mm_capture_files_free(files, nf);
    if (rc < 0) {
        if (!o->nstores && rc == MM_ENOTFOUND)
            return mm_error_wrap(rc, "no exec store (run `mamori agent --exec-store %s`, or name "
                                     "one with --store): ", MM_EXEC_STORE_DEFAULT);
        return rc;
    }
    mm_replay *rp;
    if ((rc = mm_replay_open_reader(&rp, cr)) < 0)
        return rc;
    mm_commands *c = mm_xcalloc(1, sizeof *c);
    size_t max = o->max_commands ? o->max_commands : DEF_MAX;
    const mm_event *ev;
    while ((rc = mm_replay_next(rp, &ev)) > 0) {
        if (ev->type != MM_EVT_EXECVE && ev->type != MM_EVT_EXECVEAT)
            continue;
        if (ev->dir != MM_DIR_EXIT || ev->res < 0 || !ev->proc)
            continue;
        const mm_proc *p = ev->proc, *pp = p->parent;
        if (o->since && ev->ts / 1000000000 < o->since)
            continue;
        const mm_container *ct = p->container;
        bool in_ctr = ct && ct->id && strcmp(ct->id, "host");
        const char *why = p->tty ? "tty"
                        : pp && is_shell(pp->comm) ? "shell child"
                        : in_ctr && pp && is_engine(pp->comm) && p->vpid != 1 ? "exec session" : NULL;
        if (!why)
            continue;
        if (o->container && !container_match(ct, o->container))
            continue;
        char uidbuf[16];
        snprintf(uidbuf, sizeof uidbuf, "%u", p->euid);
        const char *user = p->user_name ? p->user_name : uidbuf;
        if (o->user && strcmp(o->user, user) && strcmp(o->user, uidbuf))
            continue;
        if (c->n >= max) {
            mm_strv_push(&c->notes, &c->nnotes, "more commands than the cap: the rest were left out");
            break;
        }
        if (c->n == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 256;
            c->v = mm_xrealloc(c->v, c->cap * sizeof *c->v);
        }
        mm_host_command *h = &c->v[c->n++];
        memset(h, 0, sizeof *h);
        h->ts = ev->ts;
        h->pid = p->pid;
        h->ppid = pp ? pp->pid : p->ppid;
        h->uid = p->euid;
        h->user = mm_xstrdup(user);
        h->login = mm_xstrdup(p->login_name);
        h->tty = p->tty ? tty_name(p->tty) : NULL;
        mm_buf cl = MM_BUF_INIT;
        for (size_t i = 0; i < p->argc && cl.len < 4096; i++)
            mm_buf_printf(&cl, "%s%s", i ? " " : "", p->argv[i]);
        if (!p->argc)
            mm_buf_printf(&cl, "%s%s%s", p->comm ? p->comm : "?", p->args && *p->args ? " " : "",
                          p->args ? p->args : "");
        h->cmdline = mm_buf_detach(&cl);
        h->exe = mm_xstrdup(p->exepath ? p->exepath : p->exe);
        h->parent = mm_xstrdup(pp ? pp->comm : NULL);
        if (in_ctr) {
            h->container_id = mm_xstrdup(ct->id);
            h->container_name = mm_xstrdup(ct->name);
            h->image = mm_xstrdup(ct->image);
            h->runtime = mm_xstrdup(ct->type);
        }
        h->why = mm_xstrdup(why);
    }
    mm_capture_reader *r2 = mm_replay_reader(rp);
    for (size_t i = 0; r2 && i < mm_capture_reader_warning_count(r2); i++)
        mm_strv_push(&c->notes, &c->nnotes, mm_capture_reader_warning(r2, i));
    mm_replay_free(rp);
    if (rc < 0) {
        mm_commands_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

size_t mm_commands_count(const mm_commands *c) { return c ? c->n : 0; }
const mm_host_command *mm_commands_get(const mm_commands *c, size_t i)
{
    return c && i < c->n ? &c->v[i] : NULL;
}
size_t mm_commands_note_count(const mm_commands *c) { return c ? c->nnotes : 0; }
const char *mm_commands_note(const mm_commands *c, size_t i)
{
    return c && i < c->nnotes ? c->notes[i] : NULL;
}

void mm_commands_free(mm_commands *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        mm_host_command *h = &c->v[i];
        free(h->user); free(h->login); free(h->tty); free(h->cmdline); free(h->exe);
        free(h->parent); free(h->container_id); free(h->container_name); free(h->image);
        free(h->runtime); free(h->why);
    }
    free(c->v);
    mm_strv_free(c->notes, c->nnotes);
    free(c);
}

static json_t *js(const char *s)
{
    json_t *v = s ? json_string(s) : NULL;
    return v ? v : json_null();
}

static void when(int64_t ns, char out[32])
{
    mm_time_rfc3339(ns / 1000000000, out);
}

int mm_commands_write(FILE *f, const mm_commands *c, bool json)
{
    /* counts per user and per container (host = "host") */
    mm_map *per_user = mm_map_new(), *per_ctr = mm_map_new();
    for (size_t i = 0; i < c->n; i++) {
        const mm_host_command *h = &c->v[i];
        const char *ck = h->container_name ? h->container_name : h->container_id ? h->container_id : "host";
        mm_map_put(per_user, h->user, (void *)((uintptr_t)mm_map_get(per_user, h->user) + 1));
        mm_map_put(per_ctr, ck, (void *)((uintptr_t)mm_map_get(per_ctr, ck) + 1));
    }
    int rc = 0;
    if (json) {
        json_t *root = json_object(), *arr = json_array(), *pu = json_object(), *pc = json_object(),
               *na = json_array();
        for (size_t i = 0; i < c->n; i++) {
            const mm_host_command *h = &c->v[i];
            json_t *o = json_object();
            char t[32];
            when(h->ts, t);
            json_object_set_new(o, "time", json_string(t));
            json_object_set_new(o, "pid", json_integer(h->pid));
            json_object_set_new(o, "ppid", json_integer(h->ppid));
            json_object_set_new(o, "uid", json_integer(h->uid));
            json_object_set_new(o, "user", js(h->user));
            json_object_set_new(o, "login", js(h->login));
            json_object_set_new(o, "tty", js(h->tty));
            json_object_set_new(o, "cmdline", js(h->cmdline));
            json_object_set_new(o, "exe", js(h->exe));
            json_object_set_new(o, "parent", js(h->parent));
            json_object_set_new(o, "why", js(h->why));
            if (h->container_id) {
                json_t *ct = json_object();
                json_object_set_new(ct, "id", js(h->container_id));
                json_object_set_new(ct, "name", js(h->container_name));
                json_object_set_new(ct, "image", js(h->image));
                json_object_set_new(ct, "runtime", js(h->runtime));
                json_object_set_new(o, "container", ct);
            } else {
                json_object_set_new(o, "container", json_null());
            }
            json_array_append_new(arr, o);
        }
        size_t it = 0;
        const char *k;
        void *v;
        while (mm_map_next(per_user, &it, &k, &v))
            json_object_set_new(pu, k, json_integer((json_int_t)(uintptr_t)v));
        it = 0;
        while (mm_map_next(per_ctr, &it, &k, &v))
            json_object_set_new(pc, k, json_integer((json_int_t)(uintptr_t)v));
        for (size_t i = 0; i < c->nnotes; i++)
            json_array_append_new(na, json_string(c->notes[i]));
        json_object_set_new(root, "section", json_string("3.5.4"));
        json_object_set_new(root, "commands", arr);
        json_object_set_new(root, "per_user", pu);
        json_object_set_new(root, "per_container", pc);
        json_object_set_new(root, "notes", na);
        rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_SORT_KEYS) ? mm_error_set(MM_EIO, "write failed") : 0;
        fputc('\n', f);
        json_decref(root);
    } else {
        fprintf(f, "%-20s %-10s %-7s %-16s %-12s %s\n", "TIME", "USER", "TTY", "CONTAINER", "WHY", "COMMAND");
        for (size_t i = 0; i < c->n; i++) {
            const mm_host_command *h = &c->v[i];
            char t[32];
            when(h->ts, t);
            char *cmd = mm_str_printable(h->cmdline), *u = mm_str_printable(h->user);
            char *cn = mm_str_printable(h->container_name ? h->container_name
                                        : h->container_id ? h->container_id : "host");
            fprintf(f, "%-20s %-10s %-7s %-16s %-12s %s\n", t, u, h->tty ? h->tty : "-", cn, h->why, cmd);
            free(cmd);
            free(u);
            free(cn);
        }
        fprintf(f, "\n%zu interactive commands\n", c->n);
        size_t it = 0;
        const char *k;
        void *v;
        while (mm_map_next(per_user, &it, &k, &v)) {
            char *pk = mm_str_printable(k);
            fprintf(f, "  user %-16s %zu\n", pk, (size_t)(uintptr_t)v);
            free(pk);
        }
        it = 0;
        while (mm_map_next(per_ctr, &it, &k, &v)) {
            char *pk = mm_str_printable(k);
            fprintf(f, "  container %-11s %zu\n", pk, (size_t)(uintptr_t)v);
            free(pk);
        }
        for (size_t i = 0; i < c->nnotes; i++)
            fprintf(f, "note: %s\n", c->notes[i]);
        rc = ferror(f) ? mm_error_set(MM_EIO, "write failed") : 0;
    }
    mm_map_free(per_user, NULL);
    mm_map_free(per_ctr, NULL);
    return rc;
}
