/*
 * scan/analyzers.c - the analyzers of the single pass and the dispatch of
 * each entry's content to them.
 *
 * The table below is the one place that says which analyzers exist and in
 * which order they conclude: the OS first (the others need the
 * distribution), then the package managers and language ecosystems, then
 * the scanners that the MM_SCANNER_* bits turn on.  Adding an ecosystem is
 * one file in lib/pkg, its line in pkg/analyzers.h and one row here.
 *
 * An entry's content is read once: analyzers that want it whole share one
 * buffer (capped by limits.max_buffered), streaming analyzers get the
 * pieces as they are decompressed, and the walker stops reading a file as
 * soon as nobody wants more of it.
 */
#include <stdlib.h>
#include <string.h>

#include "scan/scan_int.h"
#include "pkg/analyzers.h"
#include "malware/analyzer.h"
#include "config/analyzer.h"
#include "secret/analyzer.h"

typedef enum an_config { CFG_NONE, CFG_MALWARE, CFG_SECRET } an_config;

static const struct an_row {
    const mm_analyzer_ops *ops;
    unsigned scanner;   /* MM_SCANNER_* that turns it on; 0 = always */
    an_config config;
} table[] = {
    {&mm_analyzer_os, 0, CFG_NONE},
    {&mm_analyzer_dpkg, 0, CFG_NONE},
    {&mm_analyzer_apk, 0, CFG_NONE},
    {&mm_analyzer_rpm, 0, CFG_NONE},
    {&mm_analyzer_python, 0, CFG_NONE},
    {&mm_analyzer_npm, 0, CFG_NONE},
    {&mm_analyzer_gobin, 0, CFG_NONE},
    {&mm_analyzer_java, 0, CFG_NONE},
    {&mm_analyzer_gem, 0, CFG_NONE},
    {&mm_analyzer_cargo, 0, CFG_NONE},
    {&mm_analyzer_composer, 0, CFG_NONE},
    {&mm_analyzer_malware, MM_SCANNER_MALWARE, CFG_MALWARE},
    {&mm_analyzer_misconfig, MM_SCANNER_MISCONFIG, CFG_NONE},
    {&mm_analyzer_secret, MM_SCANNER_SECRET, CFG_SECRET},
};
#define NROWS (sizeof table / sizeof table[0])

struct an_state {
    const mm_analyzer_ops *ops;
    void *st;
    mm_want want;  /* for the current entry */
    bool more;     /* a streaming analyzer still wants chunks */
};

struct mm_anset {
    mm_actx *cx;
    uint64_t max_buffered;
    struct an_state an[NROWS];
    size_t n;
    mm_buf whole;      /* content of the current entry, for WHOLE */
    bool whole_on;
    mm_entry_sink sink;
    mm_malware_config malware;
    mm_secret_config secret;
};

static int entry_begin(void *ud, const mm_entry *e)
{
    mm_anset *as = ud;
    int any = 0;
    as->whole_on = false;
    mm_buf_clear(&as->whole);
    for (size_t i = 0; i < as->n; i++) {
        struct an_state *a = &as->an[i];
        a->want = a->ops->wants ? a->ops->wants(a->st, e) : MM_WANT_NONE;
        a->more = a->want == MM_WANT_STREAM;
        if (a->want == MM_WANT_WHOLE) {
            if (e->size > as->max_buffered) {
                mm_actx_warn(as->cx, "/%s (layer %d): %llu bytes, over the %llu-byte limit of "
                             "what an analyzer reads whole (%s); not analysed",
                             e->path, e->layer, (unsigned long long)e->size,
                             (unsigned long long)as->max_buffered, a->ops->name);
                a->want = MM_WANT_NONE;
                continue;
            }
            as->whole_on = true;
        }
        if (a->want != MM_WANT_NONE)
            any = 1;
    }
    if (as->whole_on)
        mm_buf_reserve(&as->whole, (size_t)e->size);
    return any;
}

static int entry_data(void *ud, const mm_entry *e, uint64_t off, const uint8_t *d,
                      size_t n)
{
    mm_anset *as = ud;
    bool more = as->whole_on;
    if (as->whole_on) {
        if (as->whole.len + n > as->max_buffered)
            return mm_error_set(MM_ELIMIT, "/%s (layer %d): content larger than its header says",
                                e->path, e->layer);
        mm_buf_add(&as->whole, d, n);
    }
    for (size_t i = 0; i < as->n; i++) {
        struct an_state *a = &as->an[i];
        if (a->want != MM_WANT_STREAM || !a->more)
            continue;
        int rc = a->ops->chunk(a->st, as->cx, e, off, d, n);
        if (rc < 0)
            return mm_error_wrap(rc, "%s analyzer: ", a->ops->name);
        if (rc == 1)
            a->more = false;
        else
            more = true;
    }
    return more ? 0 : 1;
}

static int entry_end(void *ud, const mm_entry *e)
{
    mm_anset *as = ud;
    for (size_t i = 0; i < as->n; i++) {
        struct an_state *a = &as->an[i];
        int rc = 0;
        if (a->want == MM_WANT_WHOLE) {
            if (!as->whole.data)
                mm_buf_reserve(&as->whole, 0);
            rc = a->ops->file(a->st, as->cx, e, (const uint8_t *)as->whole.data,
                              as->whole.len);
        } else if (a->want == MM_WANT_STREAM && a->ops->end) {
            rc = a->ops->end(a->st, as->cx, e);
        }
        a->want = MM_WANT_NONE;
        if (rc < 0)
            return rc;
    }
    /* do not keep a big buffer around after a big file */
    if (as->whole.cap > (4u << 20))
        mm_buf_free(&as->whole);
    return 0;
}

int mm_anset_new(mm_anset **out, mm_actx *cx, const mm_scan_opts *o)
{
    mm_anset *as = mm_xcalloc(1, sizeof *as);
    as->cx = cx;
    as->max_buffered = o->limits.max_buffered;
    as->sink = (mm_entry_sink){entry_begin, entry_data, entry_end, as};
    as->malware = (mm_malware_config){o->malware, o->threads};
    as->secret = (mm_secret_config){o->secret_rules,
                                    o->secret && o->secret->scan_binaries};
    *out = as;
    for (size_t i = 0; i < NROWS; i++) {
        const struct an_row *row = &table[i];
        if (row->scanner && !(o->scanners & row->scanner))
            continue;
        const void *config = row->config == CFG_MALWARE ? (const void *)&as->malware
                             : row->config == CFG_SECRET ? (const void *)&as->secret
                                                         : NULL;
        struct an_state *a = &as->an[as->n++];
        a->ops = row->ops;
        if (a->ops->create) {
            int rc = a->ops->create(&a->st, cx, config);
            if (rc < 0)
                return mm_error_wrap(rc, "%s analyzer: ", a->ops->name);
        }
    }
    return 0;
}

const mm_entry_sink *mm_anset_sink(mm_anset *as)
{
    return &as->sink;
}

int mm_anset_finish(mm_anset *as)
{
    for (size_t i = 0; i < as->n; i++) {
        struct an_state *a = &as->an[i];
        if (a->ops->finish) {
            int rc = a->ops->finish(a->st, as->cx);
            if (rc < 0)
                return mm_error_wrap(rc, "%s analyzer: ", a->ops->name);
        }
    }
    return 0;
}

void mm_anset_free(mm_anset *as)
{
    if (!as)
        return;
    for (size_t i = 0; i < as->n; i++)
        if (as->an[i].ops->destroy && as->an[i].st)
            as->an[i].ops->destroy(as->an[i].st);
    mm_buf_free(&as->whole);
    free(as);
}
