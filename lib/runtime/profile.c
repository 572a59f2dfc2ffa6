/*
 * profile.c - behaviour profiles (mamori/profile.h): learning what each
 * image does from runtime events and checking events against a profile,
 * with deviations reported as Falco-shaped alerts.  Writing the reviewable
 * YAML file is profile_write.c, loading it back profile_load.c.
 *
 * Learning keeps exact observations (one entry per exe+name, written path,
 * listening proto/port, destination ip+port+proto) with counts and the
 * first time seen.  Generalisation happens only when the file is written,
 * so that the learned state stays exact: numeric /proc/<pid> components
 * become '*', a directory with many written files becomes 'dir/<star>',
 * many such directories under one parent become 'parent/<star><star>', and
 * many hosts of one /24 (/64) on the same port become the network.
 * Patterns: '*' within a path component, '**' across components, '?' one
 * character, '\' escapes; a learned literal is escaped so that it matches
 * only itself.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/profile_int.h"

/* the Falco fields rendered into every deviation alert */
static const char *const alert_fields[] = {
    "evt.type", "proc.name", "proc.exepath", "proc.cmdline", "proc.pid", "proc.ppid",
    "proc.pname", "user.name", "user.uid", "container.id", "container.name",
    "container.image", "fd.name",
};
#define NAF (sizeof alert_fields / sizeof alert_fields[0])
_Static_assert(NAF == MM_PROFILE_NAF, "alert_fields and MM_PROFILE_NAF differ");

static const char *const cat_names[MM_PROF__COUNT] = {"processes", "files", "listen", "connect"};
static const char *const rule_names[MM_PROF__COUNT] = {
    "Profile deviation: unexpected process", "Profile deviation: unexpected file write",
    "Profile deviation: unexpected listening port",
    "Profile deviation: unexpected outbound connection"};
static const char *const what[MM_PROF__COUNT] = {
    "Unexpected process", "Unexpected file write", "Unexpected listening port",
    "Unexpected outbound connection"};

const char *mm_profile_cat_name(mm_profile_cat c)
{
    return (unsigned)c < MM_PROF__COUNT ? cat_names[c] : "unknown";
}

/* ---- patterns ---------------------------------------------------------------- */

static bool is_meta(char c) { return c == '*' || c == '?' || c == '[' || c == '\\'; }

/* s with glob characters escaped */
static char *glob_escape(const char *s)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "");
    for (; *s; s++) {
        if (is_meta(*s))
            mm_buf_addc(&b, '\\');
        mm_buf_addc(&b, *s);
    }
    return mm_buf_detach(&b);
}

/* The literal a pattern stands for, or NULL when it has glob characters. */
static char *glob_literal(const char *p)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "");
    for (; *p; p++) {
        if (*p == '\\' && p[1]) {
            mm_buf_addc(&b, *++p);
        } else if (*p == '*' || *p == '?') {
            mm_buf_free(&b);
            return NULL;
        } else {
            mm_buf_addc(&b, *p);
        }
    }
    return mm_buf_detach(&b);
}

enum { T_LIT, T_ONE, T_STAR, T_DSTAR };

/* Glob match as an NFA over pattern tokens: O(len(s) * len(pat)) at worst,
 * never exponential, whatever the pattern (profiles are untrusted). */
static bool glob_match(const char *pat, const char *s)
{
    size_t m = strlen(pat);
    uint8_t small[4 * 260];
    uint8_t *mem = m < 256 ? small : mm_xmalloc(4 * (m + 2));
    uint8_t *tk = mem, *cur = mem + (m + 2), *nxt = mem + 2 * (m + 2);
    char *lit = (char *)(mem + 3 * (m + 2));
    size_t k = 0;
    for (size_t i = 0; i < m; i++) {
        char c = pat[i];
        if (c == '\\' && i + 1 < m) {
            tk[k] = T_LIT;
            lit[k++] = pat[++i];
        } else if (c == '*') {
            if (i + 1 < m && pat[i + 1] == '*') {
                while (i + 1 < m && pat[i + 1] == '*')
                    i++;
                tk[k++] = T_DSTAR;
            } else {
                tk[k++] = T_STAR;
            }
        } else if (c == '?') {
            tk[k++] = T_ONE;
        } else {
            tk[k] = T_LIT;
            lit[k++] = c;
        }
    }
    memset(cur, 0, k + 1);
    cur[0] = 1;
    for (size_t i = 0; i < k; i++)
        if (cur[i] && (tk[i] == T_STAR || tk[i] == T_DSTAR))
            cur[i + 1] = 1;
    bool any = true;
    for (const char *q = s; *q && any; q++) {
        char c = *q;
        memset(nxt, 0, k + 1);
        for (size_t i = 0; i < k; i++) {
            if (!cur[i])
                continue;
            switch (tk[i]) {
            case T_LIT: if (lit[i] == c) nxt[i + 1] = 1; break;
            case T_ONE: if (c != '/') nxt[i + 1] = 1; break;
            case T_STAR: if (c != '/') nxt[i] = 1; break;
            default: nxt[i] = 1; break;
            }
        }
        any = false;
        for (size_t i = 0; i <= k; i++) {
            if (nxt[i] && i < k && (tk[i] == T_STAR || tk[i] == T_DSTAR))
                nxt[i + 1] = 1;
            any |= nxt[i];
        }
        uint8_t *t = cur;
        cur = nxt;
        nxt = t;
    }
    bool r = any && cur[k];
    if (mem != small)
        free(mem);
    return r;
}

static bool pat_match(const char *pat, const char *lit, const char *s)
{
    if (!pat)
        return true;
    if (!s)
        return false;
    return lit ? !strcmp(lit, s) : glob_match(pat, s);
}

/* ---- addresses ----------------------------------------------------------------- */

void mm_profile_ip_norm(mm_ipaddr *a)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (a->family == AF_INET6 && !memcmp(a->ip, mapped, 12)) {
        memmove(a->ip, a->ip + 12, 4);
        memset(a->ip + 4, 0, 12);
        a->family = AF_INET;
    }
}

static bool ip_in(const mm_ipaddr *net, unsigned prefix, const mm_ipaddr *ip)
{
    if (net->family != ip->family)
        return false;
    unsigned full = prefix / 8, rest = prefix % 8;
    if (memcmp(net->ip, ip->ip, full))
        return false;
    if (rest) {
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (net->ip[full] & mask) == (ip->ip[full] & mask);
    }
    return true;
}

void mm_profile_ip_mask(mm_ipaddr *a, unsigned prefix)
{
    unsigned bytes = a->family == AF_INET ? 4 : 16;
    for (unsigned i = 0; i < bytes; i++) {
        unsigned lo = i * 8;
        if (lo >= prefix)
            a->ip[i] = 0;
        else if (prefix - lo < 8)
            a->ip[i] &= (uint8_t)(0xff << (8 - (prefix - lo)));
    }
}

void mm_profile_ip_text(const mm_ipaddr *a, char *out, size_t n)
{
    if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->ip, out, (socklen_t)n))
        snprintf(out, n, "?");
}

const char *mm_profile_proto_name(uint8_t p)
{
    return p == MM_L4_TCP ? "tcp" : p == MM_L4_UDP ? "udp" : "any";
}

/* ---- profile objects -------------------------------------------------------------- */

void mm_profile_entry_free(pentry *e)
{
    free(e->a); free(e->b); free(e->lit_a); free(e->lit_b);
    mm_strv_free(e->parents, e->nparents);
}

void mm_profile_entry_lits(pentry *e)
{
    free(e->lit_a); free(e->lit_b);
    e->lit_a = e->a ? glob_literal(e->a) : NULL;
    e->lit_b = e->b ? glob_literal(e->b) : NULL;
}

static void cat_clear(pcat *c)
{
    for (size_t i = 0; i < c->n; i++)
        mm_profile_entry_free(&c->v[i]);
    free(c->v);
    mm_map_free(c->ix, NULL);
    mm_map_free(c->exact, NULL);
    memset(c, 0, sizeof *c);
}

void mm_profile_free(mm_profile *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nimg; i++) {
        free(p->img[i].name);
        free(p->img[i].lit);
        for (int c = 0; c < MM_PROF__COUNT; c++)
            cat_clear(&p->img[i].cat[c]);
    }
    free(p->img);
    mm_map_free(p->img_ix, NULL);
    mm_map_free(p->seen, NULL);
    mm_map_free(p->img_cache, NULL);
    if (p->fref_init)
        for (size_t i = 0; i < NAF; i++)
            mm_fref_clear(&p->fref[i]);
    mm_evalctx_free(&p->ctx);
    mm_buf_free(&p->obuf);
    free(p);
}

mm_profile *mm_profile_alloc(void)
{
    mm_profile *p = mm_xcalloc(1, sizeof *p);
    p->img_ix = mm_map_new();
    p->seen = mm_map_new();
    p->img_cache = mm_map_new();
    p->pri = MM_PRI_WARNING;
    p->o.dir_collapse = DEFAULT_COLLAPSE;
    p->o.net_collapse = DEFAULT_COLLAPSE;
    if (gethostname(p->hostname, sizeof p->hostname - 1) != 0)
        strcpy(p->hostname, "localhost");
    p->ctx.hostname = p->hostname;
    return p;
}

int mm_profile_new(mm_profile **out, const mm_profile_opts *opts)
{
    mm_profile *p = mm_profile_alloc();
    if (opts) {
        p->o = *opts;
        if (!p->o.dir_collapse)
            p->o.dir_collapse = DEFAULT_COLLAPSE;
        if (!p->o.net_collapse)
            p->o.net_collapse = DEFAULT_COLLAPSE;
    }
    *out = p;
    return 0;
}

void mm_profile_set_period(mm_profile *p, int64_t start_ns, int64_t end_ns)
{
    p->start = start_ns;
    p->end = end_ns;
}

pimage *mm_profile_image_add(mm_profile *p, const char *name)
{
    if (p->nimg == p->cimg) {
        p->cimg = p->cimg ? p->cimg * 2 : 8;
        p->img = mm_xrealloc(p->img, p->cimg * sizeof *p->img);
    }
    pimage *im = &p->img[p->nimg++];
    memset(im, 0, sizeof *im);
    im->name = mm_xstrdup(name);
    im->lit = glob_literal(name);
    im->pri = p->pri;
    memcpy(im->act, p->act, sizeof im->act);
    if (im->lit && !mm_map_get(p->img_ix, im->lit))
        mm_map_put(p->img_ix, im->lit, (void *)(uintptr_t)p->nimg);
    return im;
}

/* The image an event's key selects: the exact name first, then the first
 * glob in file order; remembered per key (glob scans are not per event). */
static pimage *image_find(mm_profile *p, const char *key)
{
    uintptr_t i = (uintptr_t)mm_map_get(p->img_ix, key);
    if (i)
        return &p->img[i - 1];
    void *c = mm_map_get(p->img_cache, key);
    if (c)
        return c == NO_IMAGE ? NULL : &p->img[(uintptr_t)c - 1];
    pimage *found = NULL;
    for (size_t j = 0; j < p->nimg && !found; j++)
        if (!p->img[j].lit && glob_match(p->img[j].name, key))
            found = &p->img[j];
    if (mm_map_count(p->img_cache) >= 4096) {
        mm_map_free(p->img_cache, NULL);
        p->img_cache = mm_map_new();
    }
    mm_map_put(p->img_cache, key, found ? (void *)(uintptr_t)(found - p->img + 1) : NO_IMAGE);
    return found;
}

pentry *mm_profile_cat_push(pcat *c)
{
    if (c->n == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->v = mm_xrealloc(c->v, c->cap * sizeof *c->v);
    }
    pentry *e = &c->v[c->n++];
    memset(e, 0, sizeof *e);
    e->phi = 65535;
    return e;
}

size_t mm_profile_image_count(const mm_profile *p) { return p ? p->nimg : 0; }

const char *mm_profile_image_name(const mm_profile *p, size_t i)
{
    return p && i < p->nimg ? p->img[i].name : NULL;
}

size_t mm_profile_entry_count(const mm_profile *p, const char *image, mm_profile_cat c)
{
    if (!p || (unsigned)c >= MM_PROF__COUNT)
        return 0;
    for (size_t i = 0; i < p->nimg; i++)
        if (!strcmp(p->img[i].name, image))
            return p->img[i].cat[c].n;
    return 0;
}

/* ---- observations: what an event shows ---------------------------------------------- */

typedef struct obs {
    mm_profile_cat cat;
    const char *exe, *name, *parent;  /* process */
    char *path;                       /* file (heap) */
    uint8_t proto;
    uint16_t port;
    mm_ipaddr ip;                     /* connect */
} obs;

static bool is_inet(uint16_t fam) { return fam == AF_INET || fam == AF_INET6; }

static char *resolve(const mm_event *ev, const char *path)
{
    if (!path || !*path)
        return NULL;
    const char *base = ev->proc ? ev->proc->cwd : NULL;
    if (path[0] != '/' && ev->arg_fd >= 0 && ev->proc) {
        const mm_fdinfo *d = mm_proc_fd(ev->proc, ev->arg_fd);
        if (d && d->type == MM_FD_DIRECTORY && d->name)
            base = d->name;
    }
    char *r = mm_event_path_resolve(base, path);
    /* a path that stays relative (no cwd known) names no place */
    if (r && (r[0] != '/' || strlen(r) > MAX_STR)) {
        free(r);
        return NULL;
    }
    return r;
}

static uint8_t sock_proto(const mm_fdinfo *f, uint8_t dflt)
{
    if (!f)
        return dflt;
    if (f->l4proto == MM_L4_TCP || f->l4proto == MM_L4_UDP)
        return f->l4proto;
    if (f->sock_type == SOCK_DGRAM)
        return MM_L4_UDP;
    if (f->sock_type == SOCK_STREAM)
        return MM_L4_TCP;
    return dflt;
}

/* The address an event names: the syscall's sockaddr, else (replayed
 * events carry only fd fields) the fd's server side. */
static bool peer(const mm_event *ev, mm_ipaddr *ip, uint16_t *port)
{
    memset(ip, 0, sizeof *ip);
    if (is_inet(ev->addr.family)) {
        *ip = ev->addr.ip;
        ip->family = (uint8_t)ev->addr.family;
        *port = ev->addr.port;
    } else if (ev->fd && (ev->fd->type == MM_FD_IPV4 || ev->fd->type == MM_FD_IPV6) &&
               is_inet(ev->fd->sip.family)) {
        *ip = ev->fd->sip;
        *port = ev->fd->sport;
    } else {
        return false;
    }
    mm_profile_ip_norm(ip);
    return *port != 0;
}

/* Fills o from ev; false when the event says nothing a profile lists. */
static bool observe(const mm_event *ev, obs *o)
{
    memset(o, 0, sizeof *o);
    const mm_proc *p = ev->proc;
    switch (ev->type) {
    case MM_EVT_EXECVE: case MM_EVT_EXECVEAT:
        if (ev->res != 0 || !p)
            return false;
        o->cat = MM_PROF_PROCESS;
        o->exe = p->exepath && *p->exepath ? p->exepath : p->exe;
        o->name = p->comm;
        o->parent = p->parent ? p->parent->comm : NULL;
        if (o->exe && (!*o->exe || strlen(o->exe) > MAX_STR))
            o->exe = NULL;
        if (o->name && (!*o->name || strlen(o->name) > MAX_STR))
            o->name = NULL;
        return o->exe || o->name;
    case MM_EVT_OPEN: case MM_EVT_OPENAT: case MM_EVT_OPENAT2: case MM_EVT_OPEN_BY_HANDLE_AT: {
        unsigned acc = ev->flags & 3;
        if (acc != O_WRONLY && acc != O_RDWR && !(ev->flags & (O_CREAT | O_TRUNC)))
            return false;
    }
        /* fall through */
    case MM_EVT_CREAT:
        o->cat = MM_PROF_FILE;
        if (ev->fd && ev->fd->name && (ev->fd->type == MM_FD_FILE || ev->fd->type == MM_FD_DIRECTORY)
            && ev->fd->name[0] == '/' && strlen(ev->fd->name) <= MAX_STR)
            o->path = mm_xstrdup(ev->fd->name);
        else
            o->path = resolve(ev, ev->path);
        return o->path != NULL;
    case MM_EVT_RENAME: case MM_EVT_RENAMEAT: case MM_EVT_RENAMEAT2:
    case MM_EVT_LINK: case MM_EVT_LINKAT: case MM_EVT_SYMLINK: case MM_EVT_SYMLINKAT:
        o->cat = MM_PROF_FILE;
        o->path = resolve(ev, ev->path2);
        return o->path != NULL;
    case MM_EVT_MKDIR: case MM_EVT_MKDIRAT: case MM_EVT_UNLINK: case MM_EVT_UNLINKAT:
    case MM_EVT_RMDIR:
        o->cat = MM_PROF_FILE;
        o->path = resolve(ev, ev->path);
        return o->path != NULL;
    case MM_EVT_LISTEN:
        if (!ev->fd || !is_inet(ev->fd->sock_family ? ev->fd->sock_family
                                : ev->fd->type == MM_FD_IPV4 ? AF_INET
                                : ev->fd->type == MM_FD_IPV6 ? AF_INET6 : 0))
            return false;
        o->cat = MM_PROF_LISTEN;
        o->proto = sock_proto(ev->fd, MM_L4_TCP);
        o->port = ev->fd->sport;
        return true;
    case MM_EVT_BIND: {
        /* a UDP socket bound to a fixed port is a UDP listener */
        mm_ipaddr ip;
        uint16_t port;
        if (ev->res != 0 || !peer(ev, &ip, &port) || sock_proto(ev->fd, 0) != MM_L4_UDP)
            return false;
        o->cat = MM_PROF_LISTEN;
        o->proto = MM_L4_UDP;
        o->port = port;
        return true;
    }
    case MM_EVT_CONNECT: case MM_EVT_SENDTO: case MM_EVT_SENDMSG:
        if (!peer(ev, &o->ip, &o->port))
            return false;
        if (ev->type != MM_EVT_CONNECT && !is_inet(ev->addr.family) && ev->fd &&
            ev->fd->connected)
            return false;   /* a send on a connected socket: its connect counted */
        o->cat = MM_PROF_CONNECT;
        o->proto = sock_proto(ev->fd, ev->type == MM_EVT_CONNECT ? MM_L4_TCP : MM_L4_UDP);
        return true;
    default:
        return false;
    }
}

const char *mm_profile_image_key(const mm_event *ev, char *buf, size_t n)
{
    const mm_container *c = ev && ev->proc ? ev->proc->container : NULL;
    if (!c || !c->id || !strcmp(c->id, "host"))
        snprintf(buf, n, "host");
    else if (c->image && *c->image)
        snprintf(buf, n, "%s", c->image);
    else if (c->image_repository && *c->image_repository)
        snprintf(buf, n, "%s%s%s", c->image_repository, c->image_tag && *c->image_tag ? ":" : "",
                 c->image_tag && *c->image_tag ? c->image_tag : "");
    else if (c->image_id && *c->image_id)
        snprintf(buf, n, "%s", c->image_id);
    else
        snprintf(buf, n, "container:%s", c->id);
    return buf;
}

/* ---- learning -------------------------------------------------------------------------- */

static void parent_add(pentry *e, const char *parent)
{
    if (!parent || !*parent || strlen(parent) > MAX_STR)
        return;
    char *esc = glob_escape(parent);
    for (size_t i = 0; i < e->nparents; i++)
        if (!strcmp(e->parents[i], esc)) {
            free(esc);
            return;
        }
    if (e->nparents < MAX_PARENTS)
        mm_strv_push(&e->parents, &e->nparents, esc);
    free(esc);
}

int mm_profile_learn(mm_profile *p, const mm_event *ev)
{
    obs o;
    if (!observe(ev, &o))
        return 0;
    char key[512];
    mm_profile_image_key(ev, key, sizeof key);
    int rc = 0;
    if (p->o.containers_only && !strcmp(key, "host"))
        goto out;
    uintptr_t ii = (uintptr_t)mm_map_get(p->img_ix, key);
    pimage *im;
    if (ii) {
        im = &p->img[ii - 1];
    } else {
        if (p->nimg >= MAX_IMAGES || p->full) {
            p->full = true;
            rc = mm_error_set(MM_ELIMIT, "profile: more than %d images", MAX_IMAGES);
            goto out;
        }
        char *esc = glob_escape(key);
        im = mm_profile_image_add(p, esc);
        free(esc);
        for (int c = 0; c < MM_PROF__COUNT; c++)
            im->cat[c].present = true;
    }
    pcat *c = &im->cat[o.cat];
    mm_buf k = MM_BUF_INIT;
    char ipb[64];
    switch (o.cat) {
    case MM_PROF_PROCESS:
        mm_buf_printf(&k, "%s%c%s", o.exe ? o.exe : "", 0x1f, o.name ? o.name : "");
        break;
    case MM_PROF_FILE:
        mm_buf_adds(&k, o.path);
        break;
    case MM_PROF_LISTEN:
        mm_buf_printf(&k, "%s/%u", mm_profile_proto_name(o.proto), o.port);
        break;
    default:
        mm_profile_ip_text(&o.ip, ipb, sizeof ipb);
        mm_buf_printf(&k, "%s|%s|%u", ipb, mm_profile_proto_name(o.proto), o.port);
        break;
    }
    if (!c->ix)
        c->ix = mm_map_new();
    uintptr_t ei = (uintptr_t)mm_map_get(c->ix, k.data);
    pentry *e;
    if (ei) {
        e = &c->v[ei - 1];
    } else {
        if (p->nentries >= MAX_ENTRIES) {
            p->full = true;
            mm_buf_free(&k);
            rc = mm_error_set(MM_ELIMIT, "profile: more than %d entries", MAX_ENTRIES);
            goto out;
        }
        p->nentries++;
        e = mm_profile_cat_push(c);
        switch (o.cat) {
        case MM_PROF_PROCESS:
            e->a = o.exe ? glob_escape(o.exe) : NULL;
            e->b = o.name ? glob_escape(o.name) : NULL;
            break;
        case MM_PROF_FILE:
            e->a = glob_escape(o.path);
            if (!c->exact)
                c->exact = mm_map_new();
            mm_map_put(c->exact, o.path, (void *)1);
            break;
        case MM_PROF_LISTEN:
            e->proto = o.proto;
            e->plo = e->phi = o.port;
            break;
        default:
            e->proto = o.proto;
            e->plo = e->phi = o.port;
            e->net = o.ip;
            e->prefix = o.ip.family == AF_INET ? 32 : 128;
            break;
        }
        mm_profile_entry_lits(e);
        e->first = ev->ts;
        mm_map_put(c->ix, k.data, (void *)(uintptr_t)c->n);
    }
    mm_buf_free(&k);
    e->count++;
    if (ev->ts && (!e->first || ev->ts < e->first))
        e->first = ev->ts;
    if (o.cat == MM_PROF_PROCESS)
        parent_add(e, o.parent);
    rc = 1;
out:
    free(o.path);
    return rc;
}

/* ---- checking ------------------------------------------------------------------------------------ */

static bool matches(const pcat *c, const obs *o)
{
    switch (o->cat) {
    case MM_PROF_PROCESS:
        for (size_t i = 0; i < c->n; i++) {
            const pentry *e = &c->v[i];
            if (!pat_match(e->a, e->lit_a, o->exe) || !pat_match(e->b, e->lit_b, o->name))
                continue;
            if (!e->nparents)
                return true;
            for (size_t k = 0; k < e->nparents; k++)
                if (o->parent && glob_match(e->parents[k], o->parent))
                    return true;
        }
        return false;
    case MM_PROF_FILE:
        if (c->exact && mm_map_get(c->exact, o->path))
            return true;
        for (size_t i = 0; i < c->n; i++)
            if (!c->v[i].lit_a && glob_match(c->v[i].a, o->path))
                return true;
        return false;
    case MM_PROF_LISTEN:
        for (size_t i = 0; i < c->n; i++) {
            const pentry *e = &c->v[i];
            if ((!e->proto || e->proto == o->proto) && o->port >= e->plo && o->port <= e->phi)
                return true;
        }
        return false;
    default:
        for (size_t i = 0; i < c->n; i++) {
            const pentry *e = &c->v[i];
            if ((!e->proto || e->proto == o->proto) && o->port >= e->plo && o->port <= e->phi &&
                (e->anynet || ip_in(&e->net, e->prefix, &o->ip)))
                return true;
        }
        return false;
    }
}

static void obs_value(const obs *o, char *buf, size_t n)
{
    char ipb[64];
    switch (o->cat) {
    case MM_PROF_PROCESS:
        snprintf(buf, n, "%s", o->exe ? o->exe : o->name ? o->name : "?");
        break;
    case MM_PROF_FILE:
        snprintf(buf, n, "%s", o->path);
        break;
    case MM_PROF_LISTEN:
        snprintf(buf, n, "%s/%u", mm_profile_proto_name(o->proto), o->port);
        break;
    default:
        mm_profile_ip_text(&o->ip, ipb, sizeof ipb);
        snprintf(buf, n, o->ip.family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", ipb, o->port,
                 mm_profile_proto_name(o->proto));
        break;
    }
}

int mm_profile_check(mm_profile *p, const mm_event *ev, mm_alert_fn fn, void *ud)
{
    if (!p || !ev || !p->nimg)
        return 0;
    obs o;
    if (!observe(ev, &o))
        return 0;
    char key[512];
    mm_profile_image_key(ev, key, sizeof key);
    pimage *im = image_find(p, key);
    int hits = 0;
    if (!im || !im->cat[o.cat].present || matches(&im->cat[o.cat], &o))
        goto out;
    char val[MAX_STR + 80];
    obs_value(&o, val, sizeof val);
    /* once per (process, category, value): a deviating loop is one alert;
     * the start time tells a reused pid from the process that had it */
    char *sk = mm_xasprintf("%lld|%lld|%d|%s", (long long)ev->pid,
                            (long long)(ev->proc ? ev->proc->start_ts : 0), (int)o.cat, val);
    if (mm_map_get(p->seen, sk)) {
        free(sk);
        goto out;
    }
    if (mm_map_count(p->seen) >= MAX_SEEN) {
        mm_map_free(p->seen, NULL);
        p->seen = mm_map_new();
    }
    mm_map_put(p->seen, sk, (void *)1);
    free(sk);
    hits = 1;
    if (!fn)
        goto out;
    if (!p->fref_init) {
        for (size_t i = 0; i < NAF; i++)
            p->fref_ok[i] = mm_fref_init(&p->fref[i], alert_fields[i]) == 0;
        p->fref_init = true;
    }
    mm_evalctx_reset(&p->ctx, ev);
    mm_alert_field af[NAF + 3];
    size_t nf = 0;
    static const char *const catval[MM_PROF__COUNT] = {"process", "file", "listen", "connect"};
    af[nf++] = (mm_alert_field){"profile.deviation", val, false};
    af[nf++] = (mm_alert_field){"profile.image", key, false};
    af[nf++] = (mm_alert_field){"profile.category", catval[o.cat], false};
    const char *fv[NAF];
    for (size_t i = 0; i < NAF; i++) {
        bool num = false;
        fv[i] = p->fref_ok[i] ? mm_field_render(&p->ctx, &p->fref[i], &num) : NULL;
        if (!strcmp(alert_fields[i], "fd.name") && o.cat == MM_PROF_PROCESS)
            continue;
        af[nf++] = (mm_alert_field){alert_fields[i], fv[i], num};
    }
    mm_buf_clear(&p->obuf);
    mm_buf_printf(&p->obuf, "%s %s for image %s (", what[o.cat], val, key);
    for (size_t i = 1; i < NAF; i++) {   /* evt.type is in the rule name already */
        if (!strcmp(alert_fields[i], "fd.name"))
            continue;
        mm_buf_printf(&p->obuf, "%s%s=%s", i > 1 ? " " : "", alert_fields[i],
                      fv[i] ? fv[i] : "<NA>");
    }
    mm_buf_adds(&p->obuf, ")");
    static const char *const tags_proc[] = {"mamori_profile", "process"};
    static const char *const tags_file[] = {"mamori_profile", "filesystem"};
    static const char *const tags_net[] = {"mamori_profile", "network"};
    const char *const *tags = o.cat == MM_PROF_PROCESS ? tags_proc
                            : o.cat == MM_PROF_FILE ? tags_file : tags_net;
    mm_alert a = {
        .ts = ev->ts, .rule = rule_names[o.cat], .priority = im->pri, .output = p->obuf.data,
        .fields = af, .nfields = nf, .tags = tags, .ntags = 2, .source = "syscall",
        .hostname = p->hostname, .action = im->act[o.cat], .event = ev,
    };
    fn(ud, &a);
out:
    free(o.path);
    return hits;
}

