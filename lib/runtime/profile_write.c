/*
 * profile_write.c - a behaviour profile as the YAML file a person reviews:
 * the learned observations generalised (numeric /proc/<pid> components
 * become '*', a directory with many written files becomes 'dir/<star>',
 * many such directories under one parent 'parent/<star><star>', many hosts
 * of one /24 (/64) on the same port the network), then written with every
 * string quoted so that it reads back unchanged.  The learned state itself
 * stays exact (profile.c).
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
        mm_profile_entry_free(&l->v[i]);
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
        mm_profile_ip_mask(&n, n.family == AF_INET ? 24 : 64);
        mm_profile_ip_text(&n, ipb, sizeof ipb);
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
            mm_profile_ip_mask(&n, pf);
            mm_profile_ip_text(&n, ipb, sizeof ipb);
            snprintf(key, sizeof key, "%s|%u|%u-%u", ipb, e->proto, e->plo, e->phi);
            if ((uintptr_t)mm_map_get(cnt, key) > p->o.net_collapse) {
                g.net = n;
                g.prefix = (uint8_t)pf;
            }
        }
        mm_profile_ip_text(&g.net, ipb, sizeof ipb);
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
        mm_buf_printf(b, "%s%s: %s", c ? ", " : "", mm_profile_cat_name(c), act_name(act[c]));
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
            mm_buf_printf(&b, "    %s:%s\n", mm_profile_cat_name(c), l.n ? "" : " []");
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
                    mm_buf_printf(&b, "proto: %s, port: ", mm_profile_proto_name(e->proto));
                    y_port(&b, e);
                    break;
                default:
                    if (e->anynet) {
                        mm_buf_adds(&b, "dest: \"*\"");
                    } else {
                        mm_profile_ip_text(&e->net, ipb, sizeof ipb);
                        if (e->prefix == (e->net.family == AF_INET ? 32 : 128))
                            mm_buf_printf(&b, "dest: \"%s\"", ipb);
                        else
                            mm_buf_printf(&b, "dest: \"%s/%u\"", ipb, e->prefix);
                    }
                    mm_buf_adds(&b, ", port: ");
                    y_port(&b, e);
                    mm_buf_printf(&b, ", proto: %s", mm_profile_proto_name(e->proto));
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

