/*
 * sensor.c - the source-independent part of the live sensor: opening the
 * chosen source (eBPF or the netlink/fanotify fallback), the shared process
 * table and container cache, hook reporting and counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor_int.h"
#include "sensor/sensor_config.h"

struct mm_sensor {
    mm_sensor_base b;
    mm_sensor_kind kind;
    mm_bpf_src *bpf;
    mm_fb_src *fb;
};

void mm_sn_hook(mm_sensor_base *b, const char *name, bool ok, const char *err)
{
    if (b->nhooks >= MM_SN_MAX_HOOKS)
        return;
    mm_sensor_hook *h = &b->hooks[b->nhooks++];
    h->name = mm_xstrdup(name);
    h->attached = ok;
    h->error = err ? mm_xstrdup(err) : NULL;
}

mm_proc *mm_sn_proc(mm_sensor_base *b, int64_t pid)
{
    mm_proc *p = mm_proctab_get(b->pt, pid);
    if (p)
        return p;
    /* started before us and not seeded (or seeding was off): learn it */
    p = mm_proctab_add(b->pt, pid, 0);
    mm_sn_fill_from_proc(b, p, false);
    if (p->ppid > 0 && !p->parent) {
        mm_proc *pp = mm_proctab_get(b->pt, p->ppid);
        if (pp && pp != p)
            mm_proc_set_parent(p, pp);
    }
    return p;
}

int mm_sensor_open(mm_sensor **out, const mm_sensor_opts *opts)
{
    mm_sensor_opts o = {0};
    if (opts)
        o = *opts;
    *out = NULL;
    mm_sensor *s = mm_xcalloc(1, sizeof *s);
    s->kind = o.kind;
    s->b.proc_root = o.proc_root ? o.proc_root : "/proc";
    mm_proctab_new(&s->b.pt, o.max_procs);
    s->b.containers = mm_container_cache_new("/");
    int rc;
    if (o.kind == MM_SENSOR_BPF) {
#ifdef MM_HAVE_BPF
        rc = mm_bpf_open(&s->bpf, &s->b, &o);
#else
        rc = mm_error_set(MM_EUNSUPPORTED, "bpf sensor: mamori was built without it "
                          "(meson -Dsensor=enabled needs clang, bpftool and libbpf)");
#endif
    } else {
        rc = mm_fb_open(&s->fb, &s->b, &o);
    }
    if (rc < 0) {
        mm_sensor_free(s);
        return rc;
    }
    /* seed after attaching, so nothing starting in between is missed */
    if (!o.no_seed)
        mm_sn_seed(&s->b);
    *out = s;
    return 0;
}

void mm_sensor_free(mm_sensor *s)
{
    if (!s)
        return;
#ifdef MM_HAVE_BPF
    mm_bpf_free(s->bpf);
#endif
    mm_fb_free(s->fb);
    mm_proctab_free(s->b.pt);
    mm_sn_users_free(&s->b);
    mm_container_cache_free(s->b.containers);
    for (size_t i = 0; i < s->b.nhooks; i++) {
        free((char *)s->b.hooks[i].name);
        free((char *)s->b.hooks[i].error);
    }
    free(s);
}

size_t mm_sensor_hook_count(const mm_sensor *s) { return s->b.nhooks; }

const mm_sensor_hook *mm_sensor_hook_get(const mm_sensor *s, size_t i)
{
    return i < s->b.nhooks ? &s->b.hooks[i] : NULL;
}

int mm_sensor_poll(mm_sensor *s, int timeout_ms, mm_sensor_fn fn, void *ud)
{
    s->b.fn = fn;
    s->b.ud = ud;
    int rc;
#ifdef MM_HAVE_BPF
    if (s->bpf)
        rc = mm_bpf_poll(s->bpf, timeout_ms);
    else
#endif
        rc = mm_fb_poll(s->fb, timeout_ms);
    s->b.fn = NULL;
    s->b.ud = NULL;
    return rc;
}

void mm_sensor_stats_get(const mm_sensor *s, mm_sensor_stats *out)
{
    *out = s->b.st;
#ifdef MM_HAVE_BPF
    if (s->bpf)
        mm_bpf_stats(s->bpf, out);
#endif
}

mm_proctab *mm_sensor_proctab(mm_sensor *s) { return s->b.pt; }
