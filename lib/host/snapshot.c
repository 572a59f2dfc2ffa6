/*
 * snapshot.c - the host inventory an agent streams to `mamori server`
 * (mm_host_inventory_json): the OS, the processes with their container,
 * the newest login sessions and failed logins, and every container with
 * its user, privileges, mounts and disk use, as one compact JSON object.
 * It only gathers what the host views already read (procs.c, logins.c,
 * containers.c) and caps each list; a part that cannot be read is a note,
 * not an error, so an agent on a host without wtmp or docker still sends
 * the rest.  The shape is docs/api.md's POST /api/v1/inventory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "mamori/host.h"
#include "mamori/hostinv.h"
#include "util/util.h"
#include "util/json.h"

#define DEF_MAX_PROCS 20000
#define DEF_MAX_LOGINS 500
#define DEF_MAX_CMDLINE 1024

static void note(mm_buf *n, const char *what, const char *msg)
{
    if (n->len)
        mm_buf_adds(n, "; ");
    mm_buf_printf(n, "%s: %s", what, msg);
}

/* KEY=value of an os-release file, quotes removed; NULL when absent */
static char *osr_value(const char *data, const char *key)
{
    size_t kl = strlen(key);
    for (const char *l = data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        if (strncmp(l, key, kl) || l[kl] != '=')
            continue;
        const char *v = l + kl + 1, *e = strchr(v, '\n');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
            v++;
            n -= 2;
        }
        return mm_xstrndup(v, n > 256 ? 256 : n);
    }
    return NULL;
}

static json_t *os_json(const mm_host_inventory_opts *o, mm_buf *notes)
{
    json_t *j = json_object();
    char *data = NULL;
    size_t len = 0;
    const char *p = o->os_release ? o->os_release : "/etc/os-release";
    if (mm_file_read(p, 1u << 16, &data, &len) != 0 && !o->os_release) {
        p = "/usr/lib/os-release";
        mm_file_read(p, 1u << 16, &data, &len);
    }
    if (data) {
        char *name = osr_value(data, "PRETTY_NAME"), *id = osr_value(data, "ID"),
             *ver = osr_value(data, "VERSION_ID");
        if (!name)
            name = osr_value(data, "NAME");
        json_object_set_new(j, "name", mm_json_str(name));
        json_object_set_new(j, "id", mm_json_str(id));
        json_object_set_new(j, "version", mm_json_str(ver));
        free(name);
        free(id);
        free(ver);
        free(data);
    } else {
        note(notes, p, "not readable, OS unknown");
        json_object_set_new(j, "name", json_null());
        json_object_set_new(j, "id", json_null());
        json_object_set_new(j, "version", json_null());
    }
    struct utsname u;
    bool un = uname(&u) == 0;
    json_object_set_new(j, "kernel", un ? mm_json_str(u.release) : json_null());
    json_object_set_new(j, "arch", un ? mm_json_str(u.machine) : json_null());
    json_object_set_new(j, "hostname", un ? mm_json_str(u.nodename) : json_null());
    return j;
}

static json_t *procs_json(const mm_host_inventory_opts *o, mm_buf *notes)
{
    json_t *a = json_array();
    mm_host_ps_opts po = {0};
    po.proc_root = o->proc_root;
    po.max_procs = 1000000;
    mm_host_procs *ps;
    if (mm_host_ps(&ps, &po) != 0) {
        note(notes, "processes", mm_error_last());
        return a;
    }
    size_t maxp = o->max_procs ? o->max_procs : DEF_MAX_PROCS;
    size_t maxc = o->max_cmdline ? o->max_cmdline : DEF_MAX_CMDLINE;
    size_t n = mm_host_procs_count(ps);
    if (n > maxp) {
        char m[96];
        snprintf(m, sizeof m, "%zu processes, the first %zu by pid sent", n, maxp);
        note(notes, "processes", m);
        n = maxp;
    }
    for (size_t i = 0; i < n; i++) {
        const mm_host_proc *p = mm_host_procs_get(ps, i);
        json_t *x = json_object();
        json_object_set_new(x, "pid", json_integer(p->pid));
        json_object_set_new(x, "ppid", json_integer(p->ppid));
        json_object_set_new(x, "user", mm_json_str(p->user));
        json_object_set_new(x, "name", mm_json_str(p->comm));
        char *cl = p->cmdline ? mm_xstrndup(p->cmdline, maxc) : NULL;
        json_object_set_new(x, "cmdline", mm_json_str(cl));
        free(cl);
        json_object_set_new(x, "exe", mm_json_str(p->exe));
        json_object_set_new(x, "container_id", mm_json_str(p->container_id));
        json_array_append_new(a, x);
    }
    mm_host_procs_free(ps);
    return a;
}

static json_t *login_json(const char *user, const char *tty, const char *from, int64_t ts,
                          const char *kind)
{
    json_t *x = json_object();
    json_object_set_new(x, "user", mm_json_str(user));
    json_object_set_new(x, "tty", mm_json_str(tty && *tty ? tty : NULL));
    json_object_set_new(x, "from", mm_json_str(from && *from ? from : NULL));
    json_object_set_new(x, "ts", json_integer(ts));
    json_object_set_new(x, "kind", json_string(kind));
    return x;
}

static json_t *logins_json(const mm_host_inventory_opts *o, mm_buf *notes)
{
    json_t *a = json_array();
    mm_logins_opts lo = {0};
    lo.wtmp = o->wtmp;
    lo.btmp = o->btmp;
    lo.lastlog = "";
    mm_logins *l;
    if (mm_host_logins(&l, &lo) != 0) {
        note(notes, "logins", mm_error_last());
        return a;
    }
    size_t max = o->max_logins ? o->max_logins : DEF_MAX_LOGINS;
    size_t k = 0;
    for (size_t i = 0; i < mm_logins_session_count(l) && k < max; i++) {
        const mm_login_session *s = mm_logins_session(l, i);
        if (s->boot)
            continue;
        json_array_append_new(a, login_json(s->user, s->line, s->host, s->login, "login"));
        k++;
    }
    for (size_t i = 0; i < mm_logins_failed_count(l) && i < max; i++) {
        const mm_failed_login *f = mm_logins_failed(l, i);
        json_array_append_new(a, login_json(f->user, f->line, f->host, f->when, "failed"));
    }
    for (size_t i = 0; i < mm_logins_note_count(l); i++)
        note(notes, "logins", mm_logins_note(l, i));
    mm_logins_free(l);
    return a;
}

static json_t *ctrs_json(const mm_host_inventory_opts *o, mm_buf *notes)
{
    json_t *a = json_array();
    mm_containers *cs;
    if (mm_host_containers(&cs, &o->containers) != 0) {
        note(notes, "containers", mm_error_last());
        return a;
    }
    for (size_t i = 0; i < mm_containers_count(cs) && i < 5000; i++) {
        const mm_host_ctr *c = mm_containers_get(cs, i);
        json_t *x = json_object();
        json_object_set_new(x, "id", mm_json_str(c->id));
        json_object_set_new(x, "name", mm_json_str(c->name));
        json_object_set_new(x, "image", mm_json_str(c->image));
        json_object_set_new(x, "engine", mm_json_str(c->engine));
        json_object_set_new(x, "state", mm_json_str(c->state));
        json_object_set_new(x, "user", mm_json_str(c->user));
        json_object_set_new(x, "privileged", json_boolean(c->privileged));
        json_object_set_new(x, "read_only", json_boolean(c->readonly_root));
        json_t *m = json_array();
        for (size_t j = 0; j < c->nmounts && j < 256; j++) {
            json_t *y = json_object();
            json_object_set_new(y, "source", mm_json_str(c->mounts[j].source));
            json_object_set_new(y, "destination", mm_json_str(c->mounts[j].destination));
            json_object_set_new(y, "rw", json_boolean(c->mounts[j].rw));
            json_array_append_new(m, y);
        }
        json_object_set_new(x, "mounts", m);
        /* the writable layer and the volumes: null when neither is known */
        int64_t d = -1;
        if (c->rw_bytes >= 0 || c->volume_bytes >= 0)
            d = (c->rw_bytes > 0 ? c->rw_bytes : 0) + (c->volume_bytes > 0 ? c->volume_bytes : 0);
        json_object_set_new(x, "disk_bytes", d >= 0 ? json_integer(d) : json_null());
        json_array_append_new(a, x);
    }
    for (size_t i = 0; i < mm_containers_note_count(cs); i++)
        note(notes, "containers", mm_containers_note(cs, i));
    mm_containers_free(cs);
    return a;
}

int mm_host_inventory_json(char **out, char **notes, const mm_host_inventory_opts *o)
{
    *out = NULL;
    if (notes)
        *notes = NULL;
    mm_host_inventory_opts d = {0};
    if (!o)
        o = &d;
    mm_buf nb = MM_BUF_INIT;
    json_t *j = json_object();
    json_object_set_new(j, "collected", json_integer((json_int_t)time(NULL)));
    json_object_set_new(j, "os", os_json(o, &nb));
    json_object_set_new(j, "processes", procs_json(o, &nb));
    json_object_set_new(j, "logins", logins_json(o, &nb));
    json_object_set_new(j, "containers", ctrs_json(o, &nb));
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    if (!s) {
        mm_buf_free(&nb);
        return mm_error_set(MM_ENOMEM, "inventory: cannot be serialised");
    }
    *out = s;
    if (notes && nb.len)
        *notes = mm_buf_detach(&nb);
    mm_buf_free(&nb);
    return 0;
}
