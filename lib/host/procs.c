/*
 * procs.c - `mamori host ps`: the host's processes with the container each
 * belongs to, so that an operator sees from the host console what runs in
 * which container (SP 800-190 §3.5.2).
 *
 * Everything comes from /proc (stat, status, cmdline, exe, cgroup) and the
 * attribution from the cgroup path through the sensor's container cache
 * (mamori/sensor.h), so `host ps` and the agent name containers the same
 * way.  /proc races with exiting processes: a process that vanishes while
 * being read is left out or keeps what was read.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "mamori/host.h"
#include "mamori/sensor.h"
#include "util/util.h"
#include "host_int.h"

#define MAX_PROC_FILE (1u << 16)
#define DEF_MAX_PROCS 1000000u

struct mm_host_procs {
    mm_host_proc *v;
    size_t n;
};

static char *read_proc(const char *root, int64_t pid, const char *what, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%lld/%s", root, (long long)pid, what);
    return mm_file_read_proc(path, MAX_PROC_FILE, len);
}

int64_t mm_host_boot_time(const char *root)
{
    char path[256];
    snprintf(path, sizeof path, "%s/stat", root ? root : "/proc");
    /* the intr line before btime can be long on big machines */
    char *d = mm_file_read_proc(path, 4u << 20, NULL);
    const char *p = d ? strstr(d, "\nbtime ") : NULL;
    int64_t bt = p ? strtoll(p + 7, NULL, 10) : 0;
    free(d);
    return bt;
}

static void uid_name(char **out, uint32_t uid, mm_map *cache)
{
    char key[16];
    snprintf(key, sizeof key, "%u", uid);
    const char *c = mm_map_get(cache, key);
    if (!c) {
        struct passwd pw, *res = NULL;
        char buf[4096];
        char *name = getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res
                         ? mm_xstrdup(res->pw_name) : mm_xstrdup(key);
        mm_map_put(cache, key, name);
        c = name;
    }
    *out = mm_xstrdup(c);
}

static void proc_free_fields(mm_host_proc *p)
{
    free(p->user);
    free(p->comm);
    free(p->exe);
    mm_strv_free(p->argv, p->argc);
    free(p->cmdline);
    free(p->cgroup);
    free(p->container_id);
    free(p->container_full_id);
    free(p->container_runtime);
    free(p->container_name);
    free(p->image);
    free(p->k8s_pod);
    free(p->k8s_ns);
}

/* stat: "pid (comm) state ppid ... starttime(22)"; comm may hold ')' */
static bool read_stat(mm_host_proc *p, const char *root, int64_t btime, long hz)
{
    size_t len;
    char *d = read_proc(root, p->pid, "stat", &len);
    if (!d)
        return false;
    char *o = strchr(d, '('), *c = strrchr(d, ')');
    if (!o || !c || c < o) {
        free(d);
        return false;
    }
    p->comm = mm_xstrndup(o + 1, (size_t)(c - o - 1));
    /* fields after ')' start with field 3 (state) */
    char *s = c + 1;
    int field = 2;
    char *save = NULL;
    for (char *t = strtok_r(s, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 4)
            p->ppid = strtoll(t, NULL, 10);
        else if (field == 22) {
            unsigned long long ticks = strtoull(t, NULL, 10);
            if (btime > 0 && hz > 0)
                p->start = btime + (int64_t)(ticks / (unsigned long long)hz);
            break;
        }
    }
    free(d);
    return true;
}

static void read_status(mm_host_proc *p, const char *root)
{
    size_t len;
    char *d = read_proc(root, p->pid, "status", &len);
    if (!d)
        return;
    const char *u = strstr(d, "\nUid:");
    if (u) {
        unsigned a, b;
        if (sscanf(u + 5, "%u %u", &a, &b) == 2)
            p->uid = b;
    }
    free(d);
}

static void read_cmdline(mm_host_proc *p, const char *root)
{
    size_t len;
    char *d = read_proc(root, p->pid, "cmdline", &len);
    if (d) {
        size_t i = 0;
        while (i < len && p->argc < 4096) {
            size_t l = strnlen(d + i, len - i);
            char *a = mm_xstrndup(d + i, l);
            mm_strv_push(&p->argv, &p->argc, a);
            free(a);
            i += l + 1;
        }
        free(d);
    }
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < p->argc; i++) {
        if (i)
            mm_buf_addc(&b, ' ');
        mm_buf_adds(&b, p->argv[i]);
    }
    if (!p->argc)
        mm_buf_printf(&b, "[%s]", p->comm ? p->comm : "?");
    p->cmdline = mm_buf_detach(&b);
}

static void attribute(mm_host_proc *p, mm_container_cache *cc)
{
    if (!p->cgroup)
        return;
    mm_container *c = mm_container_cache_get(cc, p->cgroup);
    if (c && c->id && strcmp(c->id, "host")) {
        p->container_id = mm_xstrdup(c->id);
        p->container_full_id = mm_xstrdup(c->full_id);
        p->container_runtime = mm_xstrdup(c->type);
        p->container_name = mm_xstrdup(c->name);
        p->image = mm_xstrdup(c->image);
        p->k8s_pod = mm_xstrdup(c->k8s_pod_name);
        p->k8s_ns = mm_xstrdup(c->k8s_ns_name);
    }
    mm_container_unref(c);
}

static bool wanted(const mm_host_proc *p, const char *want)
{
    if (!want)
        return true;
    if (!strcmp(want, "host"))
        return !p->container_id;
    if (!p->container_id)
        return false;
    size_t wl = strlen(want);
    if (wl >= 3 && p->container_full_id && !strncmp(p->container_full_id, want, wl))
        return true;
    return p->container_name && !strcmp(p->container_name, want);
}

static int pid_cmp(const void *a, const void *b)
{
    const mm_host_proc *x = a, *y = b;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

int mm_host_ps(mm_host_procs **out, const mm_host_ps_opts *opts)
{
    *out = NULL;
    mm_host_ps_opts o = {0};
    if (opts)
        o = *opts;
    const char *root = o.proc_root && *o.proc_root ? o.proc_root : "/proc";
    size_t maxp = o.max_procs ? o.max_procs : DEF_MAX_PROCS;
    DIR *dir = opendir(root);
    if (!dir)
        return mm_error_set(MM_EIO, "%s: cannot list processes: %s", root, strerror(errno));
    int64_t btime = mm_host_boot_time(root);
    long hz = sysconf(_SC_CLK_TCK);
    mm_container_cache *cc = mm_container_cache_new(o.meta_root);
    mm_map *users = mm_map_new();
    mm_host_procs *ps = mm_xcalloc(1, sizeof *ps);
    size_t cap = 0;
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(dir))) {
        char *e;
        long long pid = strtoll(de->d_name, &e, 10);
        if (*e || pid <= 0 || !isdigit((unsigned char)de->d_name[0]))
            continue;
        if (ps->n >= maxp) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %zu processes", root, maxp);
            break;
        }
        mm_host_proc p = {0};
        p.pid = pid;
        if (!read_stat(&p, root, btime, hz)) {   /* gone already */
            proc_free_fields(&p);
            continue;
        }
        read_status(&p, root);
        read_cmdline(&p, root);
        char path[256];
        snprintf(path, sizeof path, "%s/%lld/exe", root, pid);
        char buf[4096];
        ssize_t n = readlink(path, buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            p.exe = mm_xstrdup(buf);
        }
        p.cgroup = mm_proc_cgroup_path(root, pid);
        attribute(&p, cc);
        if (!wanted(&p, o.container)) {
            proc_free_fields(&p);
            continue;
        }
        uid_name(&p.user, p.uid, users);
        if (ps->n == cap) {
            cap = cap ? cap * 2 : 256;
            ps->v = mm_xrealloc(ps->v, cap * sizeof *ps->v);
        }
        ps->v[ps->n++] = p;
    }
    closedir(dir);
    mm_map_free(users, free);
    mm_container_cache_free(cc);
    if (rc) {
        mm_host_procs_free(ps);
        return rc;
    }
    if (ps->n)
        qsort(ps->v, ps->n, sizeof *ps->v, pid_cmp);
    *out = ps;
    return 0;
}

size_t mm_host_procs_count(const mm_host_procs *p)
{
    return p->n;
}

const mm_host_proc *mm_host_procs_get(const mm_host_procs *p, size_t i)
{
    return i < p->n ? &p->v[i] : NULL;
}

void mm_host_procs_free(mm_host_procs *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        proc_free_fields(&p->v[i]);
    free(p->v);
    free(p);
}

/* ---- output -------------------------------------------------------------------- */

static void put_s(json_t *o, const char *k, const char *v)
{
    json_t *s = v ? json_string(v) : NULL;
    json_object_set_new(o, k, s ? s : json_null());
}

static void time_str(int64_t t, char out[32])
{
    if (t > 0)
        mm_time_rfc3339(t, out);
    else
        strcpy(out, "-");
}

int mm_host_procs_write(FILE *f, const mm_host_procs *ps, bool json)
{
    char ts[32];
    if (json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < ps->n; i++) {
            const mm_host_proc *p = &ps->v[i];
            json_t *o = json_object();
            json_object_set_new(o, "pid", json_integer(p->pid));
            json_object_set_new(o, "ppid", json_integer(p->ppid));
            json_object_set_new(o, "uid", json_integer(p->uid));
            put_s(o, "user", p->user);
            time_str(p->start, ts);
            put_s(o, "start", p->start > 0 ? ts : NULL);
            put_s(o, "comm", p->comm);
            put_s(o, "exe", p->exe);
            json_t *av = json_array();
            for (size_t j = 0; j < p->argc; j++) {
                json_t *s = json_string(p->argv[j]);
                json_array_append_new(av, s ? s : json_string(""));
            }
            json_object_set_new(o, "argv", av);
            put_s(o, "cmdline", p->cmdline);
            put_s(o, "cgroup", p->cgroup);
            if (p->container_id) {
                json_t *c = json_object();
                put_s(c, "id", p->container_id);
                put_s(c, "full_id", p->container_full_id);
                put_s(c, "runtime", p->container_runtime);
                put_s(c, "name", p->container_name);
                put_s(c, "image", p->image);
                put_s(c, "k8s_pod", p->k8s_pod);
                put_s(c, "k8s_namespace", p->k8s_ns);
                json_object_set_new(o, "container", c);
            } else {
                json_object_set_new(o, "container", json_null());
            }
            json_array_append_new(arr, o);
        }
        json_t *top = json_object();
        json_object_set_new(top, "section", json_string("3.5.2"));
        json_object_set_new(top, "processes", arr);
        char *s = json_dumps(top, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(top);
        int rc = fprintf(f, "%s\n", s) < 0 ? MM_EIO : 0;
        free(s);
        return rc ? mm_error_set(MM_EIO, "cannot write the process list") : 0;
    }
    fprintf(f, "%-7s %-7s %-10s %-20s %-12s %-10s %-20s %s\n", "PID", "PPID", "USER", "START",
            "CONTAINER", "RUNTIME", "IMAGE", "COMMAND");
    for (size_t i = 0; i < ps->n; i++) {
        const mm_host_proc *p = &ps->v[i];
        time_str(p->start, ts);
        /* the exe is said when it differs from what argv[0] claims */
        const char *a0 = p->argc ? mm_path_base(p->argv[0]) : NULL;
        bool show_exe = p->exe && (!a0 || strcmp(a0, mm_path_base(p->exe)));
        /* argv, exe and image are the process's own words: one row each,
         * no control characters reach the terminal */
        char *user = mm_str_printable(p->user), *image = mm_str_printable(p->image);
        char *cmd = mm_str_printable(p->cmdline), *exe = mm_str_printable(p->exe);
        fprintf(f, "%-7lld %-7lld %-10s %-20s %-12s %-10s %-20s %s%s%s%s\n", (long long)p->pid,
                (long long)p->ppid, user ? user : "?", ts,
                p->container_id ? p->container_id : "host",
                p->container_runtime ? p->container_runtime : "-", image ? image : "-",
                cmd ? cmd : "", show_exe ? " (exe " : "", show_exe ? exe : "",
                show_exe ? ")" : "");
        free(user);
        free(image);
        free(cmd);
        free(exe);
    }
    return ferror(f) ? mm_error_set(MM_EIO, "cannot write the process list") : 0;
}
