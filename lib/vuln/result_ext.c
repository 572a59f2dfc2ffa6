/*
 * vuln/result_ext.c - TEMPORARY home of mm_result_warn, mm_result_new,
 * mm_result_set_os/key, mm_result_image_mut and mm_findings_retain (see
 * result_ext.h): they need the private layouts of mm_result (scan.c) and
 * mm_findings (finding.c), mirrored here.  Every function first checks,
 * through the public accessors, that the mirror still matches the real
 * struct, and does nothing when it does not, so that a layout change makes
 * a warning go missing rather than corrupt memory.  The lead moves these
 * into scan.c and finding.c and deletes this file.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vuln/result_ext.h"
#include "util/util.h"

struct result_mirror {
    char *target;
    mm_target_kind kind;
    mm_image_info image;
    mm_os_info os;
    mm_layer_info *layers;
    size_t nlayers;
    mm_inventory *inv;
    mm_findings *findings;
    char **warnings;
    size_t nwarnings;
    int64_t started;
    double seconds;
    char *key;
};

struct findings_mirror {
    mm_finding *v;
    size_t n, cap;
};

#define MAX_WARNINGS 1000

static struct result_mirror *mirror(mm_result *r)
{
    struct result_mirror *m = (struct result_mirror *)r;
    if (!r || m->target != mm_result_target(r) ||
        (const mm_os_info *)&m->os != mm_result_os(r) ||
        m->inv != mm_result_inventory(r) ||
        m->findings != mm_result_findings(r) ||
        m->nwarnings != mm_result_warning_count(r) ||
        m->nlayers != mm_result_layer_count(r) ||
        m->key != mm_result_key(r) || m->started != mm_result_started(r))
        return NULL;
    return m;
}

void mm_result_warn(mm_result *r, const char *fmt, ...)
{
    struct result_mirror *m = mirror(r);
    if (!m || m->nwarnings >= MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_strv_push(&m->warnings, &m->nwarnings, s);
    free(s);
}

static void finding_clear(mm_finding *f)
{
    free(f->id);
    free(f->title);
    free(f->loc.image);
    free(f->loc.layer_digest);
    free(f->loc.instruction);
    free(f->loc.path);
    free(f->loc.package);
    free(f->loc.host);
    free(f->loc.container);
    free(f->loc.process);
    free(f->evidence);
    free(f->remediation);
    mm_strv_free(f->references, f->nreferences);
    free(f->section);
}

void mm_findings_retain(mm_findings *list,
                        bool (*keep)(void *ud, const mm_finding *f), void *ud)
{
    struct findings_mirror *m = (struct findings_mirror *)list;
    if (!list || !keep || m->n != mm_findings_count(list) ||
        (m->n && mm_findings_get(list, 0) != &m->v[0]))
        return;
    size_t w = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (keep(ud, &m->v[i])) {
            if (w != i)
                m->v[w] = m->v[i];
            w++;
        } else {
            finding_clear(&m->v[i]);
        }
    }
    m->n = w;
}

int mm_result_new(mm_result **out, mm_target_kind kind, const char *target)
{
    if (!out || !target)
        return mm_error_set(MM_EINVAL, "result: no target");
    struct result_mirror *m = mm_xcalloc(1, sizeof *m);
    m->target = mm_xstrdup(target);
    m->kind = kind;
    m->started = (int64_t)time(NULL);
    mm_inventory_new(&m->inv);
    mm_findings_new(&m->findings);
    mm_result *r = (mm_result *)m;
    if (!mirror(r) || mm_result_kind(r) != kind)
        return mm_error_set(MM_EUNSUPPORTED,
                            "internal: the mm_result layout changed; "
                            "lib/vuln/result_ext.c must move into scan.c");
    *out = r;
    return 0;
}

void mm_result_set_os(mm_result *r, const char *family, const char *version,
                      const char *codename, const char *name)
{
    struct result_mirror *m = mirror(r);
    if (!m)
        return;
    if (family) { free(m->os.family); m->os.family = mm_xstrdup(family); }
    if (version) { free(m->os.version); m->os.version = mm_xstrdup(version); }
    if (codename) { free(m->os.codename); m->os.codename = mm_xstrdup(codename); }
    if (name) { free(m->os.name); m->os.name = mm_xstrdup(name); }
}

void mm_result_set_key(mm_result *r, const char *key)
{
    struct result_mirror *m = mirror(r);
    if (!m)
        return;
    free(m->key);
    m->key = mm_xstrdup(key);
}

mm_image_info *mm_result_image_mut(mm_result *r)
{
    struct result_mirror *m = mirror(r);
    return m ? &m->image : NULL;
}
