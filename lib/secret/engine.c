/*
 * secret/engine.c - the streaming matcher of the secret scanner.
 *
 * A file arrives in chunks of any size.  Bytes gather in a bounded window
 * (1 MiB); when it is full, or the file ends, one Vectorscan pass over the
 * window finds every rule keyword, and each rule triggered by a keyword is
 * confirmed with its PCRE2 program on the line around the hit only (or a
 * fixed span for multi-line rules such as private keys).  The last 64 KiB
 * are carried over to the next window so that a secret straddling two
 * chunks is still seen whole; a hit whose line runs past the end of the
 * window is deferred to the next window rather than cut.  Line numbers are
 * counted across windows.  Files with a NUL byte in their first 8 KiB are
 * binary and skipped unless asked.  One match is reported per (rule, line).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hs/hs.h>

#include "secret/secret_int.h"
#include "util/util.h"

#define WIN_MIN    (1u << 20)   /* a window is scanned when this full */
#define OVERLAP    (64u << 10)  /* carried over to the next window */
#define MAXBACK    2048u        /* how far back a hit's line is looked for */
#define MAXFWD     4096u        /* how far forward a hit's line is looked for */
#define BIN_CHECK  8192u        /* NUL in these first bytes: binary */
#define MAX_HITS   (1u << 20)   /* keyword hits kept per window */
#define MAX_PER_REGION 1000     /* matches of one rule in one region */

typedef struct hit {
    uint32_t end;
    uint32_t kw;
} hit;

/* A confirmed match waiting for the end of its window, where generic
 * rules yield to specific ones over the same secret. */
typedef struct pmatch {
    const mm_sr_rule *rule;
    size_t line, ss, se;
} pmatch;

struct mm_sr_scanner {
    const mm_sr_set *set;
    hs_scratch_t *scratch;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jstack;
    size_t nrules;
    size_t *last_end;       /* per rule: end of the region last confirmed */
    hit *hits;
    size_t nhits, caphits;
    pmatch *pm;
    size_t npm, cappm;
    /* the current file */
    char *path;
    bool scan_binaries, checked, binary, stopped, file_allowed;
    mm_sr_match_fn fn;
    void *ud;
    mm_buf win;
    uint64_t win_off;
    size_t win_line;
    uint64_t done_before;
    size_t cur_pos, cur_line;
    mm_map *seen;
};

int mm_sr_scanner_new(mm_sr_scanner **out, const mm_sr_set *s)
{
    *out = NULL;
    mm_sr_scanner *sc = mm_xcalloc(1, sizeof *sc);
    sc->set = s;
    const hs_database_t *db = mm_sr_set_hsdb(s);
    if (db && hs_alloc_scratch(db, &sc->scratch) != HS_SUCCESS) {
        free(sc);
        return mm_error_set(MM_ENOMEM, "secret scanner: cannot allocate Vectorscan scratch");
    }
    sc->md = pcre2_match_data_create(32, NULL);
    sc->mctx = pcre2_match_context_create(NULL);
    sc->jstack = pcre2_jit_stack_create(32 << 10, 1 << 20, NULL);
    if (!sc->md || !sc->mctx || !sc->jstack) {
        mm_sr_scanner_free(sc);
        return mm_error_set(MM_ENOMEM, "secret scanner: cannot allocate PCRE2 match data");
    }
    /* user rules may backtrack badly: bound the work per match */
    pcre2_set_match_limit(sc->mctx, 1000000);
    pcre2_set_depth_limit(sc->mctx, 10000);
    pcre2_set_heap_limit(sc->mctx, 20000); /* KiB */
    pcre2_jit_stack_assign(sc->mctx, NULL, sc->jstack);
    sc->nrules = mm_sr_set_count(s);
    sc->last_end = mm_xcalloc(sc->nrules + 1, sizeof *sc->last_end);
    *out = sc;
    return 0;
}

void mm_sr_scanner_free(mm_sr_scanner *sc)
{
    if (!sc)
        return;
    if (sc->scratch)
        hs_free_scratch(sc->scratch);
    pcre2_match_data_free(sc->md);
    pcre2_match_context_free(sc->mctx);
    pcre2_jit_stack_free(sc->jstack);
    free(sc->last_end);
    free(sc->hits);
    free(sc->pm);
    free(sc->path);
    mm_buf_free(&sc->win);
    mm_map_free(sc->seen, NULL);
    free(sc);
}

static bool re_search(mm_sr_scanner *sc, const pcre2_code *re, const char *d, size_t n)
{
    return pcre2_match(re, (PCRE2_SPTR)d, n, 0, 0, sc->md, sc->mctx) >= 0;
}

/* An allow rule with only a path, matching this file: the whole file is
 * allowed for that rule (or for all, when global). */
static bool allow_path_only(mm_sr_scanner *sc, const mm_sr_allow *a)
{
    return a->path && !a->regex && sc->path &&
           re_search(sc, a->path, sc->path, strlen(sc->path));
}

static bool allowed(mm_sr_scanner *sc, const mm_sr_allow *a, const char *sec, size_t n)
{
    if (a->path && !(sc->path && re_search(sc, a->path, sc->path, strlen(sc->path))))
        return false;
    if (a->regex && !re_search(sc, a->regex, sec, n))
        return false;
    return a->path || a->regex;
}

void mm_sr_scanner_begin(mm_sr_scanner *sc, const char *path, bool scan_binaries,
                         mm_sr_match_fn fn, void *ud)
{
    free(sc->path);
    sc->path = mm_xstrdup(path);
    sc->scan_binaries = scan_binaries;
    sc->checked = sc->binary = sc->stopped = false;
    sc->fn = fn;
    sc->ud = ud;
    mm_buf_clear(&sc->win);
    sc->win_off = 0;
    sc->win_line = 1;
    sc->done_before = 0;
    if (sc->seen) {
        mm_map_free(sc->seen, NULL);
        sc->seen = NULL;
    }
    sc->file_allowed = false;
    for (size_t i = 0; i < mm_sr_set_allow_count(sc->set); i++)
        if (allow_path_only(sc, mm_sr_set_allow(sc->set, i)))
            sc->file_allowed = true;
    if (sc->file_allowed)
        sc->stopped = true;
}

bool mm_sr_scanner_was_binary(const mm_sr_scanner *sc)
{
    return sc->binary && !sc->scan_binaries;
}

static int on_hit(unsigned id, unsigned long long from, unsigned long long to,
                  unsigned flags, void *ctx)
{
    (void)from;
    (void)flags;
    mm_sr_scanner *sc = ctx;
    if (sc->nhits >= MAX_HITS)
        return 1;
    if (sc->nhits == sc->caphits) {
        sc->caphits = sc->caphits ? sc->caphits * 2 : 1024;
        sc->hits = mm_xrealloc(sc->hits, sc->caphits * sizeof *sc->hits);
    }
    sc->hits[sc->nhits].end = (uint32_t)to;
    sc->hits[sc->nhits].kw = id;
    sc->nhits++;
    return 0;
}

static int hit_cmp(const void *a, const void *b)
{
    const hit *x = a, *y = b;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* Line number of window offset pos. */
static size_t line_at(mm_sr_scanner *sc, size_t pos)
{
    if (pos < sc->cur_pos) {
        sc->cur_pos = 0;
        sc->cur_line = sc->win_line;
    }
    const char *p = sc->win.data + sc->cur_pos, *end = sc->win.data + pos;
    size_t line = sc->cur_line;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
        line++;
        p++;
    }
    sc->cur_pos = pos;
    sc->cur_line = line;
    return line;
}

static int report(mm_sr_scanner *sc, const mm_sr_rule *r, size_t ms, size_t ss, size_t se)
{
    const char *sec = sc->win.data + ss;
    size_t n = se - ss;
    if (!n)
        return 0;
    if (r->entropy > 0 && mm_sr_entropy(sec, n) < r->entropy)
        return 0;
    for (size_t i = 0; i < r->nallow; i++)
        if (allowed(sc, &r->allow[i], sec, n))
            return 0;
    for (size_t i = 0; i < mm_sr_set_allow_count(sc->set); i++)
        if (allowed(sc, mm_sr_set_allow(sc->set, i), sec, n))
            return 0;
    if (sc->npm >= 100000)
        return 0; /* a pathological window: the rest is not worth reporting */
    if (sc->npm == sc->cappm) {
        sc->cappm = sc->cappm ? sc->cappm * 2 : 64;
        sc->pm = mm_xrealloc(sc->pm, sc->cappm * sizeof *sc->pm);
    }
    sc->pm[sc->npm++] = (pmatch){r, line_at(sc, ms), ss, se};
    return 0;
}

static int pm_cmp(const void *a, const void *b)
{
    const pmatch *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->ss != y->ss)
        return x->ss < y->ss ? -1 : 1;
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Hands the window's matches over in file order: a generic rule's match
 * is dropped when a specific rule found a secret overlapping it; one
 * match per (rule, line). */
static void flush(mm_sr_scanner *sc)
{
    if (!sc->npm)
        return;
    qsort(sc->pm, sc->npm, sizeof *sc->pm, pm_cmp);
    /* specific matches by start, with the running maximum of their ends */
    size_t nspec = 0;
    size_t *sstart = mm_xcalloc(sc->npm, sizeof *sstart);
    size_t *smaxend = mm_xcalloc(sc->npm, sizeof *smaxend);
    for (size_t i = 0; i < sc->npm; i++)
        if (!sc->pm[i].rule->generic)
            sstart[nspec++] = i;
    /* pm is sorted by line then start, which is start order within a
     * window (lines grow with offsets) */
    for (size_t k = 0; k < nspec; k++) {
        size_t e = sc->pm[sstart[k]].se;
        smaxend[k] = k && smaxend[k - 1] > e ? smaxend[k - 1] : e;
    }
    for (size_t i = 0; i < sc->npm && !sc->stopped; i++) {
        pmatch *p = &sc->pm[i];
        if (p->rule->generic && nspec) {
            /* last specific match starting before p ends */
            size_t lo = 0, hi = nspec;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (sc->pm[sstart[mid]].ss < p->se)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            if (lo > 0 && smaxend[lo - 1] > p->ss)
                continue;
        }
        size_t ridx = (size_t)(p->rule - mm_sr_set_rule(sc->set, 0));
        char key[64];
        snprintf(key, sizeof key, "%zu:%zu", ridx, p->line);
        if (!sc->seen)
            sc->seen = mm_map_new();
        if (mm_map_get(sc->seen, key))
            continue;
        mm_map_put(sc->seen, key, (void *)1);
        mm_sr_match m = {.rule = p->rule, .line = p->line, .secret = sc->win.data + p->ss,
                         .secret_len = p->se - p->ss, .offset = sc->win_off + p->ss};
        if (sc->fn && sc->fn(sc->ud, &m))
            sc->stopped = true;
    }
    free(sstart);
    free(smaxend);
    sc->npm = 0;
}

/* Runs rule r over window bytes [rs, re). */
static int run_rule(mm_sr_scanner *sc, const mm_sr_rule *r, size_t rs, size_t re)
{
    uint32_t opts = sc->win_off > 0 ? PCRE2_NOTBOL : 0;
    size_t start = rs;
    for (int k = 0; k < MAX_PER_REGION && start <= re && !sc->stopped; k++) {
        int n = pcre2_match(r->regex, (PCRE2_SPTR)sc->win.data, re, start, opts,
                            sc->md, sc->mctx);
        if (n < 0)
            break; /* no match, or a limit hit: nothing more here */
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
        size_t ms = ov[0], me = ov[1], ss = ms, se = me;
        if (r->group > 0 && n > r->group && ov[2 * r->group] != PCRE2_UNSET) {
            ss = ov[2 * r->group];
            se = ov[2 * r->group + 1];
        }
        if (se < ss || se > re)
            break;
        int rc = report(sc, r, ms, ss, se);
        if (rc < 0)
            return rc;
        start = me > ms ? me : me + 1;
    }
    return 0;
}

static int process(mm_sr_scanner *sc, bool final)
{
    size_t len = sc->win.len;
    if (sc->stopped)
        return 1;
    if (!sc->checked && (len >= BIN_CHECK || final)) {
        sc->checked = true;
        if (len && memchr(sc->win.data, 0, len < BIN_CHECK ? len : BIN_CHECK)) {
            sc->binary = true;
            if (!sc->scan_binaries) {
                sc->stopped = true;
                return 1;
            }
        }
    }
    if (!len || (!final && len < WIN_MIN))
        return 0;
    const char *w = sc->win.data;
    sc->cur_pos = 0;
    sc->cur_line = sc->win_line;
    memset(sc->last_end, 0, (sc->nrules + 1) * sizeof *sc->last_end);
    sc->nhits = 0;
    sc->npm = 0;
    const hs_database_t *db = mm_sr_set_hsdb(sc->set);
    if (db) {
        hs_error_t e = hs_scan(db, w, (unsigned)len, 0, sc->scratch, on_hit, sc);
        if (e != HS_SUCCESS && e != HS_SCAN_TERMINATED)
            return mm_error_set(MM_EIO, "/%s: Vectorscan scan failed (%d)",
                                sc->path ? sc->path : "", (int)e);
    }
    for (size_t i = 1; i < sc->nhits; i++)
        if (sc->hits[i].end < sc->hits[i - 1].end) {
            qsort(sc->hits, sc->nhits, sizeof *sc->hits, hit_cmp);
            break;
        }
    uint64_t min_deferred = UINT64_MAX;
    for (size_t h = 0; h < sc->nhits && !sc->stopped; h++) {
        size_t end = sc->hits[h].end;
        if (sc->win_off + end < sc->done_before)
            continue; /* confirmed in the previous window */
        const uint32_t *rules;
        size_t nr, kwlen;
        mm_sr_set_keyword(sc->set, sc->hits[h].kw, &rules, &nr, &kwlen);
        size_t kws = end >= kwlen ? end - kwlen : 0;
        /* start of the keyword's line */
        size_t lo = kws > MAXBACK ? kws - MAXBACK : 0;
        const char *nl = kws > lo ? memrchr(w + lo, '\n', kws - lo) : NULL;
        size_t rs = nl ? (size_t)(nl - w) + 1 : lo;
        for (size_t q = 0; q < nr; q++) {
            const mm_sr_rule *r = mm_sr_set_rule(sc->set, rules[q]);
            if (end <= sc->last_end[rules[q]])
                continue; /* already confirmed over this region */
            size_t re;
            bool cut;
            if (r->span) {
                re = end + r->span < len ? end + r->span : len;
                cut = end + r->span > len;
            } else {
                size_t hi = end + MAXFWD < len ? end + MAXFWD : len;
                const char *e = memchr(w + end, '\n', hi - end);
                re = e ? (size_t)(e - w) : hi;
                cut = !e && hi == len;
            }
            if (cut && !final && end + OVERLAP >= len + MAXBACK) {
                /* the next window holds this hit with all of its line */
                if (sc->win_off + end < min_deferred)
                    min_deferred = sc->win_off + end;
                continue;
            }
            int rc = run_rule(sc, r, rs, re);
            if (rc < 0)
                return rc;
            sc->last_end[rules[q]] = re;
        }
    }
    const uint32_t *nokw;
    size_t nnokw;
    mm_sr_set_nokw(sc->set, &nokw, &nnokw);
    for (size_t q = 0; q < nnokw && !sc->stopped; q++) {
        int rc = run_rule(sc, mm_sr_set_rule(sc->set, nokw[q]), 0, len);
        if (rc < 0)
            return rc;
    }
    flush(sc);
    sc->done_before = sc->win_off + len < min_deferred ? sc->win_off + len : min_deferred;
    if (!final) {
        size_t drop = len - OVERLAP;
        for (const char *p = w, *e = w + drop; p < e && (p = memchr(p, '\n', (size_t)(e - p))); p++)
            sc->win_line++;
        memmove(sc->win.data, w + drop, OVERLAP);
        sc->win.len = OVERLAP;
        sc->win.data[OVERLAP] = 0;
        sc->win_off += drop;
    }
    return sc->stopped ? 1 : 0;
}

int mm_sr_scanner_feed(mm_sr_scanner *sc, const uint8_t *d, size_t n)
{
    while (n) {
        if (sc->stopped)
            return 1;
        size_t room = WIN_MIN - sc->win.len;
        size_t take = n < room ? n : room;
        mm_buf_add(&sc->win, d, take);
        d += take;
        n -= take;
        int rc = process(sc, false);
        if (rc)
            return rc;
    }
    return sc->stopped ? 1 : 0;
}

int mm_sr_scanner_end(mm_sr_scanner *sc)
{
    int rc = 0;
    if (!sc->stopped)
        rc = process(sc, true);
    mm_buf_clear(&sc->win);
    if (sc->win.cap > 4 * WIN_MIN)
        mm_buf_free(&sc->win);
    return rc < 0 ? rc : 0;
}

int mm_sr_scan_buffer(mm_sr_scanner *sc, const char *path, const void *d, size_t n,
                      bool scan_binaries, mm_sr_match_fn fn, void *ud)
{
    mm_sr_scanner_begin(sc, path, scan_binaries, fn, ud);
    int rc = mm_sr_scanner_feed(sc, d, n);
    if (rc < 0)
        return rc;
    return mm_sr_scanner_end(sc);
}

/* --- masking ---------------------------------------------------------------- */
char *mm_secret_mask(const char *secret, size_t len)
{
    size_t keep = len >= 20 ? 4 : len / 5;
    size_t stars = len - 2 * keep;
    if (stars > 24)
        stars = 24;
    if (stars < 4)
        stars = 4; /* a short secret does not show its length */
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < keep; i++) {
        unsigned char c = (unsigned char)secret[i];
        mm_buf_addc(&b, c >= 0x21 && c < 0x7f ? (char)c : '?');
    }
    for (size_t i = 0; i < stars; i++)
        mm_buf_addc(&b, '*');
    for (size_t i = len - keep; i < len; i++) {
        unsigned char c = (unsigned char)secret[i];
        mm_buf_addc(&b, c >= 0x21 && c < 0x7f ? (char)c : '?');
    }
    return mm_buf_detach(&b);
}

/* --- redaction ------------------------------------------------------------------ */
typedef struct span {
    uint64_t off, len;
} span;

typedef struct spans {
    span *v;
    size_t n;
} spans;

static int collect(void *ud, const mm_sr_match *m)
{
    spans *s = ud;
    if (s->n >= 10000)
        return 1;
    s->v = mm_xrealloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n].off = m->offset;
    s->v[s->n].len = m->secret_len;
    s->n++;
    return 0;
}

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->off < y->off ? -1 : x->off > y->off;
}

char *mm_sr_redact(mm_sr_scanner *sc, const char *text)
{
    if (!text)
        return NULL;
    size_t len = strlen(text);
    spans sp = {NULL, 0};
    if (mm_sr_scan_buffer(sc, NULL, text, len, true, collect, &sp) < 0) {
        free(sp.v);
        /* the rules failed: hide everything rather than leak */
        return mm_secret_mask(text, len);
    }
    if (sp.n)
        qsort(sp.v, sp.n, sizeof *sp.v, span_cmp);
    mm_buf b = MM_BUF_INIT;
    uint64_t pos = 0;
    for (size_t i = 0; i < sp.n; i++) {
        uint64_t s = sp.v[i].off, e = sp.v[i].off + sp.v[i].len;
        if (e > len)
            e = len;
        if (e <= pos)
            continue;
        if (s < pos)
            s = pos;
        mm_buf_add(&b, text + pos, (size_t)(s - pos));
        char *m = mm_secret_mask(text + s, (size_t)(e - s));
        mm_buf_adds(&b, m);
        free(m);
        pos = e;
    }
    mm_buf_add(&b, text + pos, len - (size_t)pos);
    free(sp.v);
    return mm_buf_detach(&b);
}

struct mm_secret_redactor {
    mm_sr_scanner *sc;
};

int mm_secret_redactor_new(mm_secret_redactor **out, const mm_secret_rules *rules)
{
    if (!out || !rules)
        return mm_error_set(MM_EINVAL, "secret redactor: no output or rules");
    mm_sr_scanner *sc;
    int rc = mm_sr_scanner_new(&sc, mm_sr_rules_set(rules));
    if (rc < 0)
        return rc;
    mm_secret_redactor *rd = mm_xcalloc(1, sizeof *rd);
    rd->sc = sc;
    *out = rd;
    return 0;
}

void mm_secret_redactor_free(mm_secret_redactor *rd)
{
    if (!rd)
        return;
    mm_sr_scanner_free(rd->sc);
    free(rd);
}

char *mm_secret_redact(mm_secret_redactor *rd, const char *text)
{
    if (!text)
        return NULL;
    if (!rd)
        return mm_secret_mask(text, strlen(text));
    return mm_sr_redact(rd->sc, text);
}
