/*
 * profile.c - behaviour profiles (mamori/profile.h): learning what each
 * image does from runtime events, writing it as a reviewable YAML file,
 * loading such a file (untrusted-ish: capped, every error names the file,
 * line and key), and checking events against it, with deviations reported
 * as Falco-shaped alerts.
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
#include <yaml.h>

#include "mamori/profile.h"
#include "runtime/runtime_int.h"

#define MAX_PROFILE_FILE (16u << 20)
#define MAX_IMAGES 4096
#define MAX_ENTRIES 200000
#define MAX_STR 4096
#define MAX_PARENTS 64
#define MAX_MAP_KEYS 64
#define MAX_SEEN 65536
#define DEFAULT_COLLAPSE 8
#define NO_IMAGE ((void *)(uintptr_t)-1)

/* ---- data ------------------------------------------------------------------ */

typedef struct pentry {
    char *a;               /* process: exe pattern; file: path pattern */
    char *b;               /* process: name pattern */
    char *lit_a, *lit_b;   /* unescaped literal when the pattern has no glob */
    char **parents;        /* process: parent name patterns (none = any) */
    size_t nparents;
    uint8_t proto;         /* MM_L4_TCP / MM_L4_UDP; 0 = any */
    uint16_t plo, phi;     /* port range (0-65535 = any) */
    bool anynet;           /* connect: any destination */
    mm_ipaddr net;
    uint8_t prefix;
    uint64_t count;
    int64_t first;         /* first seen, ns since the epoch; 0 = unknown */
} pentry;

typedef struct pcat {
    bool present;          /* absent in a loaded file: not checked */
    pentry *v;
    size_t n, cap;
    mm_map *ix;            /* learning key -> index + 1 */
    mm_map *exact;         /* files: literal path -> (void *)1 */
} pcat;

typedef struct pimage {
    char *name;
    char *lit;             /* name without glob characters, or NULL */
    mm_rule_priority pri;
    mm_rule_action act[MM_PROF__COUNT];
    pcat cat[MM_PROF__COUNT];
} pimage;

/* the Falco fields rendered into every deviation alert */
static const char *const alert_fields[] = {
    "evt.type", "proc.name", "proc.exepath", "proc.cmdline", "proc.pid", "proc.ppid",
    "proc.pname", "user.name", "user.uid", "container.id", "container.name",
    "container.image", "fd.name",
};
#define NAF (sizeof alert_fields / sizeof alert_fields[0])

struct mm_profile {
    mm_profile_opts o;
    pimage *img;
    size_t nimg, cimg;
    mm_map *img_ix;        /* literal name -> index + 1 */
    size_t nentries;
    bool full;
    int64_t start, end;
    mm_rule_priority pri;  /* defaults of the file */
    mm_rule_action act[MM_PROF__COUNT];
    /* checking */
    mm_evalctx ctx;
    mm_fref fref[NAF];
    bool fref_ok[NAF];
    bool fref_init;
    mm_map *seen;          /* (process, category, value) already reported */
    mm_map *img_cache;     /* image key -> index + 1, or NO_IMAGE */
    mm_buf obuf;
    char hostname[256];
};

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

static void ip_norm(mm_ipaddr *a)
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

static void ip_mask(mm_ipaddr *a, unsigned prefix)
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

static void ip_text(const mm_ipaddr *a, char *out, size_t n)
{
    if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->ip, out, (socklen_t)n))
        snprintf(out, n, "?");
}

static const char *proto_name(uint8_t p)
{
    return p == MM_L4_TCP ? "tcp" : p == MM_L4_UDP ? "udp" : "any";
}

/* ---- profile objects -------------------------------------------------------------- */

static void entry_free(pentry *e)
{
    free(e->a); free(e->b); free(e->lit_a); free(e->lit_b);
    mm_strv_free(e->parents, e->nparents);
}

static void entry_lits(pentry *e)
{
    free(e->lit_a); free(e->lit_b);
    e->lit_a = e->a ? glob_literal(e->a) : NULL;
    e->lit_b = e->b ? glob_literal(e->b) : NULL;
}

static void cat_clear(pcat *c)
{
    for (size_t i = 0; i < c->n; i++)
        entry_free(&c->v[i]);
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

static mm_profile *profile_alloc(void)
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
    mm_profile *p = profile_alloc();
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

static pimage *image_add(mm_profile *p, const char *name)
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

static pentry *cat_push(pcat *c)
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
    ip_norm(ip);
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
        im = image_add(p, esc);
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
        mm_buf_printf(&k, "%s/%u", proto_name(o.proto), o.port);
        break;
    default:
        ip_text(&o.ip, ipb, sizeof ipb);
        mm_buf_printf(&k, "%s|%s|%u", ipb, proto_name(o.proto), o.port);
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
        e = cat_push(c);
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
        entry_lits(e);
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

/* ---- generalisation ------------------------------------------------------------------------ */

/* qsort that accepts an empty (NULL) array */
static void sort(void *v, size_t n, size_t sz, int (*cmp)(const void *, const void *))
{
    if (n > 1)
        qsort(v, n, sz, cmp);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A copy of the entries of a category, generalised and sorted. */
typedef struct elist {
    pentry *v;
    size_t n, cap;
} elist;

static pentry *el_push(elist *l)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mm_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    pentry *e = &l->v[l->n++];
    memset(e, 0, sizeof *e);
    return e;
}

static void el_free(elist *l)
{
    for (size_t i = 0; i < l->n; i++)
        entry_free(&l->v[i]);
    free(l->v);
}

static void merge_into(pentry *dst, const pentry *src)
{
    dst->count += src->count;
    if (src->first && (!dst->first || src->first < dst->first))
        dst->first = src->first;
    for (size_t i = 0; i < src->nparents; i++) {
        bool have = false;
        for (size_t j = 0; j < dst->nparents && !have; j++)
            have = !strcmp(dst->parents[j], src->parents[i]);
        if (!have && dst->nparents < MAX_PARENTS)
            mm_strv_push(&dst->parents, &dst->nparents, src->parents[i]);
    }
}

/* Adds a file entry with pattern pat, merging with an equal one (idx maps
 * pattern -> index + 1). */
static void file_put(elist *l, mm_map *idx, char *pat, const pentry *src)
{
    uintptr_t i = (uintptr_t)mm_map_get(idx, pat);
    if (i) {
        merge_into(&l->v[i - 1], src);
        free(pat);
        return;
    }
    pentry *e = el_push(l);
    e->a = pat;
    e->count = src->count;
    e->first = src->first;
    mm_map_put(idx, pat, (void *)(uintptr_t)l->n);
}

static bool all_digits(const char *s, size_t n)
{
    if (!n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Numeric components below /proc and /dev/pts become a star (pids, ptys). */
static char *gen_pidpath(const char *pat)
{
    bool proc = mm_str_startswith(pat, "/proc/");
    bool pts = mm_str_startswith(pat, "/dev/pts/");
    if (!proc && !pts)
        return mm_xstrdup(pat);
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "");
    const char *s = pat;
    while (*s) {
        if (*s == '/') {
            mm_buf_addc(&b, *s++);
            continue;
        }
        size_t n = strcspn(s, "/");
        if (all_digits(s, n))
            mm_buf_addc(&b, '*');
        else
            mm_buf_add(&b, s, n);
        s += n;
    }
    return mm_buf_detach(&b);
}

/* the directory part of a pattern, without the final '/' ("" for "/x") */
static size_t pat_dirlen(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? (size_t)(s - p) : 0;
}

static bool has_glob(const char *p)
{
    for (; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            continue;
        }
        if (*p == '*' || *p == '?')
            return true;
    }
    return false;
}

static int cmp_entry_a(const void *x, const void *y)
{
    const pentry *a = x, *b = y;
    int c = strcmp(a->a ? a->a : "", b->a ? b->a : "");
    return c ? c : strcmp(a->b ? a->b : "", b->b ? b->b : "");
}

/* Collapses entries per directory: `level` 1 turns more than n literal
 * files of one directory into "dir/" + "*"; level 2 turns more than n
 * "X/" + "*" directories under one parent into "parent/" + "**". */
static void collapse_dirs(elist *l, size_t n, int level)
{
    mm_map *cnt = mm_map_new();
    for (size_t i = 0; i < l->n; i++) {
        const char *a = l->v[i].a;
        size_t dl = pat_dirlen(a);
        const char *last = a + dl + 1;
        if (dl == 0)
            continue;
        char *dir = mm_xstrndup(a, dl);
        char *k = NULL;
        if (level == 1 && !has_glob(last))
            k = mm_xstrdup(dir);
        else if (level == 2 && !strcmp(last, "*") && !has_glob(dir) && pat_dirlen(dir) > 0)
            k = mm_xstrndup(dir, pat_dirlen(dir));   /* "P/X/" + "*" counts under P */
        if (k) {
            uintptr_t c = (uintptr_t)mm_map_get(cnt, k);
            mm_map_put(cnt, k, (void *)(c + 1));
            free(k);
        }
        free(dir);
    }
    elist out = {0};
    mm_map *idx = mm_map_new();
    for (size_t i = 0; i < l->n; i++) {
        pentry *e = &l->v[i];
        size_t dl = pat_dirlen(e->a);
        const char *last = e->a + dl + 1;
        char *np = NULL;
        if (level == 1 && !has_glob(last) && dl > 0) {
            char *dir = mm_xstrndup(e->a, dl);
            if ((uintptr_t)mm_map_get(cnt, dir) > n)
                np = mm_xasprintf("%s/*", dir);
            free(dir);
        } else if (level == 2 && !strcmp(last, "*") && dl > 0) {
            char *dir = mm_xstrndup(e->a, dl);
            if (!has_glob(dir) && pat_dirlen(dir) > 0) {
                char *par = mm_xstrndup(dir, pat_dirlen(dir));
                if ((uintptr_t)mm_map_get(cnt, par) > n)
                    np = mm_xasprintf("%s/**", par);
                free(par);
            }
            free(dir);
        }
        file_put(&out, idx, np ? np : mm_xstrdup(e->a), e);
    }
    mm_map_free(idx, NULL);
    mm_map_free(cnt, NULL);
    el_free(l);
    *l = out;
}

static elist gen_files(const mm_profile *p, const pcat *c)
{
    elist l = {0};
    mm_map *idx = mm_map_new();
    for (size_t i = 0; i < c->n; i++)
        file_put(&l, idx, gen_pidpath(c->v[i].a), &c->v[i]);
    mm_map_free(idx, NULL);
    collapse_dirs(&l, p->o.dir_collapse, 1);
    collapse_dirs(&l, p->o.dir_collapse, 2);
    /* entries a "D/" + "**" pattern covers are dropped into it */
    size_t *cover = mm_xcalloc(l.n + 1, sizeof *cover);   /* index + 1 */
    size_t *ds = mm_xcalloc(l.n + 1, sizeof *ds), nds = 0;
    for (size_t i = 0; i < l.n; i++)
        if (mm_str_endswith(l.v[i].a, "/**"))
            ds[nds++] = i;
    for (size_t i = 0; i < l.n && nds; i++) {
        if (mm_str_endswith(l.v[i].a, "/**"))
            continue;
        for (size_t x = 0; x < nds && !cover[i]; x++) {
            size_t j = ds[x];
            size_t pl = strlen(l.v[j].a) - 2;
            if (!strncmp(l.v[j].a, l.v[i].a, pl))
                cover[i] = j + 1;
        }
    }
    elist out = {0};
    for (size_t i = 0; i < l.n; i++)
        if (cover[i])
            merge_into(&l.v[cover[i] - 1], &l.v[i]);
    for (size_t i = 0; i < l.n; i++) {
        if (cover[i])
            continue;
        pentry *d = el_push(&out);
        *d = l.v[i];
        memset(&l.v[i], 0, sizeof l.v[i]);
    }
    free(cover);
    free(ds);
    el_free(&l);
    sort(out.v, out.n, sizeof *out.v, cmp_entry_a);
    return out;
}

static int cmp_net(const void *x, const void *y)
{
    const pentry *a = x, *b = y;
    if (a->net.family != b->net.family)
        return a->net.family < b->net.family ? -1 : 1;
    int c = memcmp(a->net.ip, b->net.ip, 16);
    if (c)
        return c;
    if (a->prefix != b->prefix)
        return a->prefix < b->prefix ? -1 : 1;
    if (a->plo != b->plo)
        return a->plo < b->plo ? -1 : 1;
    return (int)a->proto - (int)b->proto;
}

static elist gen_connect(const mm_profile *p, const pcat *c)
{
    /* count hosts per (network, proto, port) */
    mm_map *cnt = mm_map_new();
    char key[128], ipb[64];
    for (size_t i = 0; i < c->n; i++) {
        const pentry *e = &c->v[i];
        if (e->anynet || e->prefix != (e->net.family == AF_INET ? 32 : 128))
            continue;
        mm_ipaddr n = e->net;
        ip_mask(&n, n.family == AF_INET ? 24 : 64);
        ip_text(&n, ipb, sizeof ipb);
        snprintf(key, sizeof key, "%s|%u|%u-%u", ipb, e->proto, e->plo, e->phi);
        uintptr_t k = (uintptr_t)mm_map_get(cnt, key);
        mm_map_put(cnt, key, (void *)(k + 1));
    }
    elist l = {0};
    mm_map *idx = mm_map_new();
    for (size_t i = 0; i < c->n; i++) {
        const pentry *e = &c->v[i];
        pentry g = *e;
        if (!e->anynet && e->prefix == (e->net.family == AF_INET ? 32 : 128)) {
            mm_ipaddr n = e->net;
            unsigned pf = n.family == AF_INET ? 24 : 64;
            ip_mask(&n, pf);
            ip_text(&n, ipb, sizeof ipb);
            snprintf(key, sizeof key, "%s|%u|%u-%u", ipb, e->proto, e->plo, e->phi);
            if ((uintptr_t)mm_map_get(cnt, key) > p->o.net_collapse) {
                g.net = n;
                g.prefix = (uint8_t)pf;
            }
        }
        ip_text(&g.net, ipb, sizeof ipb);
        snprintf(key, sizeof key, "%d|%s/%u|%u|%u-%u", g.anynet, ipb, g.prefix, g.proto, g.plo,
                 g.phi);
        uintptr_t j = (uintptr_t)mm_map_get(idx, key);
        if (j) {
            merge_into(&l.v[j - 1], e);
            continue;
        }
        pentry *d = el_push(&l);
        d->anynet = g.anynet;
        d->net = g.net;
        d->prefix = g.prefix;
        d->proto = g.proto;
        d->plo = g.plo;
        d->phi = g.phi;
        d->count = g.count;
        d->first = g.first;
        mm_map_put(idx, key, (void *)(uintptr_t)l.n);
    }
    mm_map_free(idx, NULL);
    mm_map_free(cnt, NULL);
    sort(l.v, l.n, sizeof *l.v, cmp_net);
    return l;
}

/* ---- YAML output ------------------------------------------------------------------------------ */

/* Length of the UTF-8 sequence at s and its code point; 0 when invalid. */
static size_t utf8_dec(const unsigned char *s, uint32_t *cp)
{
    unsigned char c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if ((c & 0xe0) == 0xc0) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)   /* also stops at the NUL */
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* What libyaml reads back unchanged in a double-quoted scalar. */
static bool yaml_printable(uint32_t c)
{
    /* NEL, LS and PS are line breaks to YAML: folded unless escaped */
    if (c == 0x2028 || c == 0x2029)
        return false;
    return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xd7ff) ||
           (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

/* A double-quoted YAML scalar that reads back as s: control and other
 * non-printable characters escaped; a byte that is not UTF-8 becomes \xNN
 * (which reads back as U+00NN: such paths are reported, not matched). */
static void yq(mm_buf *b, const char *s)
{
    mm_buf_addc(b, '"');
    const unsigned char *q = (const unsigned char *)s;
    while (*q) {
        uint32_t cp;
        size_t n = utf8_dec(q, &cp);
        if (!n) {
            mm_buf_printf(b, "\\x%02x", *q);
            q++;
            continue;
        }
        if (cp == '"' || cp == '\\') {
            mm_buf_addc(b, '\\');
            mm_buf_addc(b, (char)cp);
        } else if (!yaml_printable(cp)) {
            if (cp < 0x100)
                mm_buf_printf(b, "\\x%02x", (unsigned)cp);
            else if (cp < 0x10000)
                mm_buf_printf(b, "\\u%04x", (unsigned)cp);
            else
                mm_buf_printf(b, "\\U%08x", (unsigned)cp);
        } else {
            mm_buf_add(b, q, n);
        }
        q += n;
    }
    mm_buf_addc(b, '"');
}

static void y_meta(mm_buf *b, const pentry *e)
{
    mm_buf_printf(b, ", count: %llu", (unsigned long long)e->count);
    if (e->first) {
        char t[32];
        mm_time_rfc3339(e->first / 1000000000, t);
        mm_buf_printf(b, ", first_seen: \"%s\"", t);
    }
}

static void y_port(mm_buf *b, const pentry *e)
{
    if (e->plo == 0 && e->phi == 65535)
        mm_buf_adds(b, "\"*\"");
    else if (e->plo == e->phi)
        mm_buf_printf(b, "%u", e->plo);
    else
        mm_buf_printf(b, "\"%u-%u\"", e->plo, e->phi);
}

static const char *act_name(mm_rule_action a) { return a == MM_ACTION_KILL ? "kill" : "none"; }

static void y_action(mm_buf *b, const mm_rule_action *act)
{
    bool same = true;
    for (int c = 1; c < MM_PROF__COUNT; c++)
        same &= act[c] == act[0];
    if (same) {
        mm_buf_adds(b, act_name(act[0]));
        return;
    }
    mm_buf_adds(b, "{");
    for (int c = 0; c < MM_PROF__COUNT; c++)
        mm_buf_printf(b, "%s%s: %s", c ? ", " : "", cat_names[c], act_name(act[c]));
    mm_buf_adds(b, "}");
}

static int cmp_proc(const void *x, const void *y)
{
    return cmp_entry_a(x, y);
}

char *mm_profile_to_yaml(const mm_profile *p)
{
    mm_buf b = MM_BUF_INIT;
    char t1[32], t2[32];
    mm_buf_printf(&b,
        "# mamori behaviour profile (schema version %d), written by `mamori agent --learn`.\n"
        "# Review it before enforcing (`mamori agent --profile FILE`): every entry is\n"
        "# something the image was seen doing while learning.  Patterns: '*' within one\n"
        "# path component, '**' across components, '?' one character, '\\' escapes.\n"
        "# A category that is absent is not checked; an empty list allows nothing.\n"
        "# action: none (alert) or kill (SIGKILL the deviating process), per image or\n"
        "# per category ({processes: kill, files: none, ...}).  See docs/profiles.md.\n",
        MM_PROFILE_VERSION);
    mm_buf_printf(&b, "version: %d\n", MM_PROFILE_VERSION);
    if (p->start || p->end) {
        mm_buf_adds(&b, "learned:\n");
        if (p->start) {
            mm_time_rfc3339(p->start / 1000000000, t1);
            mm_buf_printf(&b, "  start: \"%s\"\n", t1);
        }
        if (p->end) {
            mm_time_rfc3339(p->end / 1000000000, t2);
            mm_buf_printf(&b, "  end: \"%s\"\n", t2);
        }
        if (p->start && p->end && p->end >= p->start)
            mm_buf_printf(&b, "  seconds: %lld\n", (long long)((p->end - p->start) / 1000000000));
    }
    mm_buf_printf(&b, "generalisation:\n  dir_collapse: %zu\n  net_collapse: %zu\n",
                  p->o.dir_collapse, p->o.net_collapse);
    mm_buf_printf(&b, "priority: %s\naction: ", mm_rule_priority_name(p->pri));
    y_action(&b, p->act);
    mm_buf_adds(&b, "\nimages:");
    /* images sorted by name */
    size_t *ord = mm_xcalloc(p->nimg + 1, sizeof *ord);
    for (size_t i = 0; i < p->nimg; i++)
        ord[i] = i;
    for (size_t i = 1; i < p->nimg; i++)
        for (size_t j = i; j > 0 && strcmp(p->img[ord[j - 1]].name, p->img[ord[j]].name) > 0; j--) {
            size_t t = ord[j];
            ord[j] = ord[j - 1];
            ord[j - 1] = t;
        }
    if (!p->nimg)
        mm_buf_adds(&b, " []");
    mm_buf_adds(&b, "\n");
    for (size_t oi = 0; oi < p->nimg; oi++) {
        const pimage *im = &p->img[ord[oi]];
        mm_buf_adds(&b, "  - image: ");
        yq(&b, im->name);
        mm_buf_printf(&b, "\n    priority: %s\n    action: ", mm_rule_priority_name(im->pri));
        y_action(&b, im->act);
        mm_buf_adds(&b, "\n");
        for (int c = 0; c < MM_PROF__COUNT; c++) {
            const pcat *pc = &im->cat[c];
            if (!pc->present)
                continue;
            elist l = {0};
            if (c == MM_PROF_FILE) {
                l = gen_files(p, pc);
            } else if (c == MM_PROF_CONNECT) {
                l = gen_connect(p, pc);
            } else {
                for (size_t i = 0; i < pc->n; i++) {
                    pentry *d = el_push(&l);
                    *d = pc->v[i];
                    d->a = mm_xstrdup(d->a);
                    d->b = mm_xstrdup(d->b);
                    d->lit_a = d->lit_b = NULL;
                    d->parents = NULL;
                    d->nparents = 0;
                    for (size_t k = 0; k < pc->v[i].nparents; k++)
                        mm_strv_push(&d->parents, &d->nparents, pc->v[i].parents[k]);
                    sort(d->parents, d->nparents, sizeof *d->parents, cmp_str);
                }
                if (c == MM_PROF_PROCESS)
                    sort(l.v, l.n, sizeof *l.v, cmp_proc);
                else
                    sort(l.v, l.n, sizeof *l.v, cmp_net);
            }
            mm_buf_printf(&b, "    %s:%s\n", cat_names[c], l.n ? "" : " []");
            for (size_t i = 0; i < l.n; i++) {
                const pentry *e = &l.v[i];
                mm_buf_adds(&b, "      - {");
                char ipb[64];
                switch (c) {
                case MM_PROF_PROCESS: {
                    const char *sep = "";
                    if (e->a) {
                        mm_buf_adds(&b, "exe: ");
                        yq(&b, e->a);
                        sep = ", ";
                    }
                    if (e->b) {
                        mm_buf_printf(&b, "%sname: ", sep);
                        yq(&b, e->b);
                    }
                    if (e->nparents) {
                        mm_buf_adds(&b, ", parents: [");
                        for (size_t k = 0; k < e->nparents; k++) {
                            if (k)
                                mm_buf_adds(&b, ", ");
                            yq(&b, e->parents[k]);
                        }
                        mm_buf_adds(&b, "]");
                    }
                    break;
                }
                case MM_PROF_FILE:
                    mm_buf_adds(&b, "path: ");
                    yq(&b, e->a);
                    break;
                case MM_PROF_LISTEN:
                    mm_buf_printf(&b, "proto: %s, port: ", proto_name(e->proto));
                    y_port(&b, e);
                    break;
                default:
                    if (e->anynet) {
                        mm_buf_adds(&b, "dest: \"*\"");
                    } else {
                        ip_text(&e->net, ipb, sizeof ipb);
                        if (e->prefix == (e->net.family == AF_INET ? 32 : 128))
                            mm_buf_printf(&b, "dest: \"%s\"", ipb);
                        else
                            mm_buf_printf(&b, "dest: \"%s/%u\"", ipb, e->prefix);
                    }
                    mm_buf_adds(&b, ", port: ");
                    y_port(&b, e);
                    mm_buf_printf(&b, ", proto: %s", proto_name(e->proto));
                    break;
                }
                y_meta(&b, e);
                mm_buf_adds(&b, "}\n");
            }
            el_free(&l);
        }
    }
    free(ord);
    return mm_buf_detach(&b);
}

int mm_profile_write_file(const mm_profile *p, const char *path)
{
    char *y = mm_profile_to_yaml(p);
    char *tmp = mm_xasprintf("%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int rc = mm_error_set(MM_EIO, "%s: cannot create a temp file beside it: %s", path,
                              strerror(errno));
        free(tmp);
        free(y);
        return rc;
    }
    size_t len = strlen(y), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t w = write(fd, y + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = mm_error_set(MM_EIO, "%s: write failed: %s", tmp, strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (!rc && (fchmod(fd, 0644) != 0 || fsync(fd) != 0))
        rc = mm_error_set(MM_EIO, "%s: %s", tmp, strerror(errno));
    if (close(fd) != 0 && !rc)
        rc = mm_error_set(MM_EIO, "%s: close failed: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = mm_error_set(MM_EIO, "%s: cannot rename into place: %s", path, strerror(errno));
    if (rc)
        unlink(tmp);
    free(tmp);
    free(y);
    return rc;
}

/* ---- loading ------------------------------------------------------------------------------------ */

typedef struct ld {
    const char *file;
    yaml_document_t *doc;
    mm_profile *p;
} ld;

static int lerr(ld *l, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int lerr(ld *l, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int rc = mm_error_set(MM_EFORMAT, "%s:%zu: key '%s': %s", l->file,
                          n ? (size_t)n->start_mark.line + 1 : (size_t)0, key, m);
    free(m);
    return rc;
}

static yaml_node_t *node(ld *l, int id) { return yaml_document_get_node(l->doc, id); }

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_null(const yaml_node_t *n)
{
    const char *s = scalar(n);
    return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*s || !strcmp(s, "null") || !strcmp(s, "~"));
}

/* A mapping with scalar, distinct keys, at most MAX_MAP_KEYS of them. */
static int check_map(ld *l, const yaml_node_t *n, const char *key)
{
    if (!n || n->type != YAML_MAPPING_NODE)
        return lerr(l, n, key, "expected a mapping");
    size_t np = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (np > MAX_MAP_KEYS)
        return lerr(l, n, key, "more than %d keys", MAX_MAP_KEYS);
    for (size_t i = 0; i < np; i++) {
        yaml_node_t *k = node(l, n->data.mapping.pairs.start[i].key);
        const char *ks = scalar(k);
        if (!ks)
            return lerr(l, k ? k : n, key, "a key that is not a string");
        for (size_t j = 0; j < i; j++) {
            const char *o = scalar(node(l, n->data.mapping.pairs.start[j].key));
            if (o && !strcmp(o, ks))
                return lerr(l, k, ks, "duplicate key");
        }
    }
    return 0;
}

static int get_str(ld *l, const yaml_node_t *n, const char *key, const char **out)
{
    const char *s = scalar(n);
    if (!s)
        return lerr(l, n, key, "expected a string");
    if (n->data.scalar.length > MAX_STR)
        return lerr(l, n, key, "longer than %d bytes", MAX_STR);
    if (strlen(s) != n->data.scalar.length)
        return lerr(l, n, key, "contains a NUL byte");
    *out = s;
    return 0;
}

static int get_u64(ld *l, const yaml_node_t *n, const char *key, uint64_t max, uint64_t *out)
{
    const char *s = scalar(n);
    if (!s || !*s)
        return lerr(l, n, key, "expected a number");
    for (const char *q = s; *q; q++)
        if (*q < '0' || *q > '9')
            return lerr(l, n, key, "'%.64s' is not a number", s);
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno || v > max)
        return lerr(l, n, key, "'%.64s' is out of range", s);
    *out = v;
    return 0;
}

static int get_action(ld *l, const yaml_node_t *n, mm_rule_action *act)
{
    const char *s = scalar(n);
    if (s) {
        mm_rule_action a;
        if (!strcmp(s, "kill"))
            a = MM_ACTION_KILL;
        else if (!strcmp(s, "none") || !strcmp(s, "alert"))
            a = MM_ACTION_NONE;
        else
            return lerr(l, n, "action", "unknown action '%.64s' (none or kill)", s);
        for (int c = 0; c < MM_PROF__COUNT; c++)
            act[c] = a;
        return 0;
    }
    int rc = check_map(l, n, "action");
    if (rc)
        return rc;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k = scalar(node(l, pr->key));
        yaml_node_t *v = node(l, pr->value);
        int c = 0;
        while (c < MM_PROF__COUNT && strcmp(cat_names[c], k))
            c++;
        if (c == MM_PROF__COUNT)
            return lerr(l, node(l, pr->key), k, "not a category (processes, files, listen, connect)");
        const char *vs = scalar(v);
        if (vs && !strcmp(vs, "kill"))
            act[c] = MM_ACTION_KILL;
        else if (vs && (!strcmp(vs, "none") || !strcmp(vs, "alert")))
            act[c] = MM_ACTION_NONE;
        else
            return lerr(l, v, k, "unknown action (none or kill)");
    }
    return 0;
}

static int get_priority(ld *l, const yaml_node_t *n, mm_rule_priority *out)
{
    const char *s = scalar(n);
    if (!s || mm_rule_priority_parse(out, s))
        return lerr(l, n, "priority", "unknown priority '%.64s'", s ? s : "");
    return 0;
}

static int get_ports(ld *l, const yaml_node_t *n, pentry *e)
{
    const char *s = scalar(n);
    if (!s)
        return lerr(l, n, "port", "expected a port, a range 'A-B' or '*'");
    if (!strcmp(s, "*") || !strcmp(s, "any")) {
        e->plo = 0;
        e->phi = 65535;
        return 0;
    }
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return lerr(l, n, "port", "'%.64s' is not a port", s);
    unsigned long a = strtoul(s, &end, 10), b = a;
    if (*end == '-') {
        const char *q = end + 1;
        if (*q < '0' || *q > '9')
            return lerr(l, n, "port", "'%.64s' is not a port range", s);
        b = strtoul(q, &end, 10);
    }
    if (errno || *end || a > 65535 || b > 65535 || a > b)
        return lerr(l, n, "port", "'%.64s' is not a port or a range A-B within 0-65535", s);
    e->plo = (uint16_t)a;
    e->phi = (uint16_t)b;
    return 0;
}

static int get_proto(ld *l, const yaml_node_t *n, pentry *e)
{
    const char *s = scalar(n);
    if (s && !strcmp(s, "tcp"))
        e->proto = MM_L4_TCP;
    else if (s && !strcmp(s, "udp"))
        e->proto = MM_L4_UDP;
    else if (s && (!strcmp(s, "any") || !strcmp(s, "*")))
        e->proto = 0;
    else
        return lerr(l, n, "proto", "'%.64s' is not tcp, udp or any", s ? s : "");
    return 0;
}

static int get_dest(ld *l, const yaml_node_t *n, pentry *e)
{
    const char *s;
    int rc = get_str(l, n, "dest", &s);
    if (rc)
        return rc;
    if (!strcmp(s, "*") || !strcmp(s, "any")) {
        e->anynet = true;
        return 0;
    }
    char buf[80];
    if (strlen(s) >= sizeof buf)
        return lerr(l, n, "dest", "not an address or network");
    strcpy(buf, s);
    char *slash = strchr(buf, '/');
    long pf = -1;
    if (slash) {
        *slash = 0;
        char *end;
        if (slash[1] < '0' || slash[1] > '9')
            return lerr(l, n, "dest", "bad prefix length in '%s'", s);
        pf = strtol(slash + 1, &end, 10);
        if (*end)
            return lerr(l, n, "dest", "bad prefix length in '%s'", s);
    }
    memset(&e->net, 0, sizeof e->net);
    if (inet_pton(AF_INET, buf, e->net.ip) == 1) {
        e->net.family = AF_INET;
    } else if (inet_pton(AF_INET6, buf, e->net.ip) == 1) {
        e->net.family = AF_INET6;
        ip_norm(&e->net);
        if (e->net.family == AF_INET && pf >= 96)
            pf -= 96;
    } else {
        return lerr(l, n, "dest", "'%s' is not an IP address or CIDR network", s);
    }
    long max = e->net.family == AF_INET ? 32 : 128;
    if (pf < 0)
        pf = max;
    if (pf > max)
        return lerr(l, n, "dest", "prefix length of '%s' beyond %ld", s, max);
    e->prefix = (uint8_t)pf;
    ip_mask(&e->net, (unsigned)pf);
    return 0;
}

static int get_time(ld *l, const yaml_node_t *n, const char *key, int64_t *out)
{
    const char *s = scalar(n);
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm) : NULL;
    if (!end || *end)
        return lerr(l, n, key, "not an RFC 3339 UTC time (YYYY-MM-DDTHH:MM:SSZ)");
    time_t t = timegm(&tm);
    if (t < 0 || (int64_t)t > INT64_MAX / 1000000000)
        return lerr(l, n, key, "out of range");
    *out = (int64_t)t * 1000000000;
    return 0;
}

static int load_entry(ld *l, pimage *im, int c, yaml_node_t *n)
{
    int rc = check_map(l, n, cat_names[c]);
    if (rc)
        return rc;
    if (l->p->nentries >= MAX_ENTRIES)
        return mm_error_set(MM_ELIMIT, "%s:%zu: key '%s': more than %d entries", l->file,
                            (size_t)n->start_mark.line + 1, cat_names[c], MAX_ENTRIES);
    l->p->nentries++;
    pentry *e = cat_push(&im->cat[c]);
    bool have_main = false;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k = scalar(node(l, pr->key));
        yaml_node_t *v = node(l, pr->value);
        const char *s;
        if (!strcmp(k, "count")) {
            rc = get_u64(l, v, k, INT64_MAX, &e->count);
        } else if (!strcmp(k, "first_seen")) {
            rc = get_time(l, v, k, &e->first);
        } else if (c == MM_PROF_PROCESS && (!strcmp(k, "exe") || !strcmp(k, "name"))) {
            if (!(rc = get_str(l, v, k, &s))) {
                if (!*s)
                    return lerr(l, v, k, "empty");
                char **slot = k[0] == 'e' ? &e->a : &e->b;
                *slot = mm_xstrdup(s);
                have_main = true;
            }
        } else if (c == MM_PROF_PROCESS && !strcmp(k, "parents")) {
            if (scalar(v)) {
                if (!(rc = get_str(l, v, k, &s)))
                    mm_strv_push(&e->parents, &e->nparents, s);
            } else if (v && v->type == YAML_SEQUENCE_NODE) {
                size_t ni = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
                if (ni > MAX_PARENTS)
                    return lerr(l, v, k, "more than %d parents", MAX_PARENTS);
                for (size_t i = 0; i < ni && !rc; i++)
                    if (!(rc = get_str(l, node(l, v->data.sequence.items.start[i]), k, &s)))
                        mm_strv_push(&e->parents, &e->nparents, s);
            } else {
                rc = lerr(l, v, k, "expected a name or a list of names");
            }
        } else if (c == MM_PROF_FILE && !strcmp(k, "path")) {
            if (!(rc = get_str(l, v, k, &s))) {
                if (s[0] != '/' && !(s[0] == '*' && s[1] == '*'))
                    return lerr(l, v, k, "'%.64s' is not an absolute path or pattern", s);
                e->a = mm_xstrdup(s);
                have_main = true;
            }
        } else if ((c == MM_PROF_LISTEN || c == MM_PROF_CONNECT) && !strcmp(k, "port")) {
            rc = get_ports(l, v, e);
            have_main = true;
        } else if ((c == MM_PROF_LISTEN || c == MM_PROF_CONNECT) && !strcmp(k, "proto")) {
            rc = get_proto(l, v, e);
        } else if (c == MM_PROF_CONNECT && !strcmp(k, "dest")) {
            rc = get_dest(l, v, e);
            have_main = true;
        } else {
            return lerr(l, node(l, pr->key), k, "unknown key in a %s entry", cat_names[c]);
        }
        if (rc)
            return rc;
    }
    if (c == MM_PROF_CONNECT && !e->net.family && !e->anynet)
        e->anynet = true;   /* no dest: any destination (on the given port) */
    if (!have_main) {
        static const char *const need[] = {"exe or name", "path", "port", "dest or port"};
        return lerr(l, n, cat_names[c], "an entry needs %s", need[c]);
    }
    entry_lits(e);
    if (c == MM_PROF_FILE && e->lit_a) {
        if (!im->cat[c].exact)
            im->cat[c].exact = mm_map_new();
        mm_map_put(im->cat[c].exact, e->lit_a, (void *)1);
    }
    return 0;
}

static int load_image(ld *l, yaml_node_t *n)
{
    int rc = check_map(l, n, "images");
    if (rc)
        return rc;
    if (l->p->nimg >= MAX_IMAGES)
        return mm_error_set(MM_ELIMIT, "%s:%zu: key 'images': more than %d images", l->file,
                            (size_t)n->start_mark.line + 1, MAX_IMAGES);
    const char *name = NULL;
    yaml_node_t *nn = NULL;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++)
        if (!strcmp(scalar(node(l, pr->key)), "image")) {
            nn = node(l, pr->value);
            if ((rc = get_str(l, nn, "image", &name)))
                return rc;
        }
    if (!name || !*name)
        return lerr(l, n, "image", "an image entry needs a non-empty 'image'");
    for (size_t i = 0; i < l->p->nimg; i++)
        if (!strcmp(l->p->img[i].name, name))
            return lerr(l, nn, "image", "'%.200s' is listed twice", name);
    pimage *im = image_add(l->p, name);
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k = scalar(node(l, pr->key));
        yaml_node_t *v = node(l, pr->value);
        if (!strcmp(k, "image"))
            continue;
        if (!strcmp(k, "priority")) {
            rc = get_priority(l, v, &im->pri);
        } else if (!strcmp(k, "action")) {
            rc = get_action(l, v, im->act);
        } else {
            int c = 0;
            while (c < MM_PROF__COUNT && strcmp(cat_names[c], k))
                c++;
            if (c == MM_PROF__COUNT)
                return lerr(l, node(l, pr->key), k,
                            "unknown key in an image (image, priority, action, processes, "
                            "files, listen, connect)");
            if (is_null(v))
                continue;   /* "processes:" alone: not checked, like absent */
            if (v->type != YAML_SEQUENCE_NODE)
                return lerr(l, v, k, "expected a list of entries");
            im->cat[c].present = true;
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top && !rc; it++)
                rc = load_entry(l, im, c, node(l, *it));
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* learned: {start, end, seconds} and generalisation: {dir_collapse,
 * net_collapse} are informational; kept so that a rewrite says the same. */
static int load_info(ld *l, yaml_node_t *n, const char *key)
{
    int rc = check_map(l, n, key);
    if (rc)
        return rc;
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
        const char *k = scalar(node(l, pr->key));
        yaml_node_t *v = node(l, pr->value);
        uint64_t u;
        if (!strcmp(key, "learned") && (!strcmp(k, "start") || !strcmp(k, "end")))
            rc = get_time(l, v, k, k[0] == 's' ? &l->p->start : &l->p->end);
        else if (!strcmp(key, "learned") && !strcmp(k, "seconds"))
            rc = get_u64(l, v, k, INT64_MAX, &u);
        else if (!strcmp(key, "generalisation") &&
                 (!strcmp(k, "dir_collapse") || !strcmp(k, "net_collapse"))) {
            if (!(rc = get_u64(l, v, k, 1000000, &u)) && u)
                *(k[0] == 'd' ? &l->p->o.dir_collapse : &l->p->o.net_collapse) = (size_t)u;
        } else
            return lerr(l, node(l, pr->key), k, "unknown key in '%s'", key);
        if (rc)
            return rc;
    }
    return 0;
}

static int load_doc(ld *l, yaml_node_t *root)
{
    int rc = check_map(l, root, "(top)");
    if (rc)
        return rc;
    bool version = false;
    yaml_node_t *images = NULL;
    /* defaults first, so that images inherit them whatever the key order */
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
        const char *k = scalar(node(l, pr->key));
        yaml_node_t *v = node(l, pr->value);
        if (!strcmp(k, "version")) {
            uint64_t ver;
            if ((rc = get_u64(l, v, k, 1000, &ver)))
                return rc;
            if (ver != MM_PROFILE_VERSION)
                return lerr(l, v, k, "unsupported profile version %llu (this mamori reads %d)",
                            (unsigned long long)ver, MM_PROFILE_VERSION);
            version = true;
        } else if (!strcmp(k, "priority")) {
            rc = get_priority(l, v, &l->p->pri);
        } else if (!strcmp(k, "action")) {
            rc = get_action(l, v, l->p->act);
        } else if (!strcmp(k, "images")) {
            images = v;
        } else if (!strcmp(k, "learned") || !strcmp(k, "generalisation")) {
            rc = load_info(l, v, k);
        } else {
            return lerr(l, node(l, pr->key), k,
                        "unknown key (version, learned, generalisation, priority, action, images)");
        }
        if (rc)
            return rc;
    }
    if (!version)
        return lerr(l, root, "version", "missing (this mamori reads version %d)", MM_PROFILE_VERSION);
    if (!images || is_null(images))
        return 0;
    if (images->type != YAML_SEQUENCE_NODE)
        return lerr(l, images, "images", "expected a list of images");
    for (yaml_node_item_t *it = images->data.sequence.items.start;
         it < images->data.sequence.items.top && !rc; it++)
        rc = load_image(l, node(l, *it));
    return rc;
}

int mm_profile_load_string(mm_profile **out, const char *name, const char *yaml, size_t len)
{
    *out = NULL;
    if (!name)
        name = "(profile)";
    if (len > MAX_PROFILE_FILE)
        return mm_error_set(MM_ELIMIT, "%s: larger than %u bytes", name, MAX_PROFILE_FILE);
    yaml_parser_t ps;
    yaml_document_t doc;
    if (!yaml_parser_initialize(&ps))
        return mm_error_set(MM_ENOMEM, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&ps, (const unsigned char *)yaml, len);
    if (!yaml_parser_load(&ps, &doc)) {
        int rc = mm_error_set(MM_EFORMAT, "%s:%zu: YAML: %s%s%s", name,
                              (size_t)ps.problem_mark.line + 1,
                              ps.problem ? ps.problem : "syntax error",
                              ps.context ? " " : "", ps.context ? ps.context : "");
        yaml_parser_delete(&ps);
        return rc;
    }
    yaml_parser_delete(&ps);
    mm_profile *p = profile_alloc();
    ld l = {.file = name, .doc = &doc, .p = p};
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    int rc = root ? load_doc(&l, root)
                  : mm_error_set(MM_EFORMAT, "%s:1: key '(top)': empty profile (needs version: %d)",
                                 name, MM_PROFILE_VERSION);
    yaml_document_delete(&doc);
    if (rc) {
        mm_profile_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int mm_profile_load_file(mm_profile **out, const char *path)
{
    char *data;
    size_t len;
    *out = NULL;
    int rc = mm_file_read(path, MAX_PROFILE_FILE, &data, &len);
    if (rc)
        return rc;
    rc = mm_profile_load_string(out, path, data, len);
    free(data);
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
        snprintf(buf, n, "%s/%u", proto_name(o->proto), o->port);
        break;
    default:
        ip_text(&o->ip, ipb, sizeof ipb);
        snprintf(buf, n, o->ip.family == AF_INET6 ? "[%s]:%u/%s" : "%s:%u/%s", ipb, o->port,
                 proto_name(o->proto));
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
