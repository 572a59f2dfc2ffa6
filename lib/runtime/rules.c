/*
 * rules.c - a ruleset: its life, compiling and running Falco rules
 * (loading rule files is rules_load.c).
 *
 * Compiling parses every condition (rules' with their exceptions turned
 * into `and not (...)`), inlines macros, expands lists, resolves fields,
 * renders output templates into segments and indexes rules by the event
 * types they can match, so that an event only meets the rules that could
 * fire on it.  A rule that cannot compile is disabled with a warning naming
 * file, line, rule and reason; strict loading turns each of those into the
 * load's error.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "runtime/rules_int.h"

static const char *const pri_names[] = {
    "Emergency", "Alert", "Critical", "Error", "Warning", "Notice",
    "Informational", "Debug"};

const char *mm_rule_priority_name(mm_rule_priority p)
{
    return (unsigned)p <= MM_PRI_DEBUG ? pri_names[p] : "Debug";
}

int mm_rule_priority_parse(mm_rule_priority *out, const char *s)
{
    if (!s)
        return mm_error_set(MM_EINVAL, "no priority");
    for (int i = 0; i <= MM_PRI_DEBUG; i++)
        if (!strcasecmp(s, pri_names[i])) {
            *out = (mm_rule_priority)i;
            return 0;
        }
    if (!strcasecmp(s, "INFO")) {
        *out = MM_PRI_INFORMATIONAL;
        return 0;
    }
    return mm_error_set(MM_EFORMAT, "unknown priority '%s'", s);
}

void mm_ruleset_warn(mm_ruleset *rs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&rs->warnings, &rs->nwarnings, 10000, fmt, ap);
    va_end(ap);
}

int mm_ruleset_new(mm_ruleset **out)
{
    mm_ruleset *rs = mm_xcalloc(1, sizeof *rs);
    rs->list_ix = mm_map_new();
    rs->macro_ix = mm_map_new();
    rs->rule_ix = mm_map_new();
    rs->min_pri = MM_PRI_DEBUG;
    if (gethostname(rs->hostname, sizeof rs->hostname - 1) != 0)
        strcpy(rs->hostname, "localhost");
    rs->ctx.hostname = rs->hostname;
    *out = rs;
    return 0;
}

void mm_ruleset_exc_free(dexc *e)
{
    free(e->name);
    mm_strv_free(e->fields, e->nfields);
    mm_strv_free(e->comps, e->ncomps);
    for (size_t t = 0; t < e->nvals; t++) {
        for (size_t f = 0; f < (e->multi ? e->nfields : 1); f++)
            free(e->vals[t][f]);
        free(e->vals[t]);
    }
    free(e->vals);
}

static void rule_uncompile(drule *r)
{
    mm_cond_free(r->node);
    r->node = NULL;
    for (size_t i = 0; i < r->nsegs; i++) {
        free(r->segs[i].lit);
        if (!r->segs[i].lit)
            mm_fref_clear(&r->segs[i].f);
    }
    free(r->segs);
    r->segs = NULL;
    r->nsegs = 0;
    free(r->ofields);
    r->ofields = NULL;
    r->nofields = 0;
    r->runnable = false;
}

void mm_ruleset_rule_free(drule *r)
{
    rule_uncompile(r);
    free(r->name); free(r->desc); free(r->cond); free(r->output);
    free(r->source); free(r->file); free(r->reason);
    mm_strv_free(r->tags, r->ntags);
    for (size_t i = 0; i < r->nexc; i++)
        mm_ruleset_exc_free(&r->exc[i]);
    free(r->exc);
}

void mm_ruleset_free(mm_ruleset *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nlists; i++) {
        free(rs->lists[i].name);
        mm_strv_free(rs->lists[i].items, rs->lists[i].n);
    }
    free(rs->lists);
    for (size_t i = 0; i < rs->nmacros; i++) {
        free(rs->macros[i].name); free(rs->macros[i].cond); free(rs->macros[i].file);
        free(rs->macros[i].err);
        mm_cond_ast_free(rs->macros[i].ast);
    }
    free(rs->macros);
    for (size_t i = 0; i < rs->nrules; i++)
        mm_ruleset_rule_free(&rs->rules[i]);
    free(rs->rules);
    mm_map_free(rs->list_ix, NULL);
    mm_map_free(rs->macro_ix, NULL);
    mm_map_free(rs->rule_ix, NULL);
    mm_strv_free(rs->warnings, rs->nwarnings);
    for (int t = 0; t < MM_EVT__COUNT; t++)
        free(rs->bucket[t]);
    mm_evalctx_free(&rs->ctx);
    free(rs->afields);
    mm_buf_free(&rs->obuf);
    mm_buf_free(&rs->unknown_types);
    free(rs);
}

/* ---- compile ------------------------------------------------------------------------ */

static mm_cond_ast *macro_cb(void *ud, const char *name, bool *found)
{
    mm_ruleset *rs = ud;
    size_t ix = (size_t)(uintptr_t)mm_map_get(rs->macro_ix, name);
    *found = ix != 0;
    if (!ix)
        return NULL;
    dmacro *m = &rs->macros[ix - 1];
    return m->bad ? NULL : m->ast;
}

static char **list_cb(void *ud, const char *name, size_t *n)
{
    mm_ruleset *rs = ud;
    size_t ix = (size_t)(uintptr_t)mm_map_get(rs->list_ix, name);
    if (!ix)
        return NULL;
    *n = rs->lists[ix - 1].n;
    return rs->lists[ix - 1].items ? rs->lists[ix - 1].items : (char **)"";
}

static void unknown_type_cb(void *ud, const char *name)
{
    mm_ruleset *rs = ud;
    if (rs->unknown_types.len < 1024)
        mm_buf_printf(&rs->unknown_types, "%s%s", rs->unknown_types.len ? ", " : "", name);
}

/* Splits an output template into literal and %field segments. */
static int compile_output(drule *r)
{
    const char *s = r->output ? r->output : "";
    mm_buf lit = MM_BUF_INIT;
#define FLUSH() do { if (lit.len) { \
        r->segs = mm_xrealloc(r->segs, (r->nsegs + 1) * sizeof *r->segs); \
        memset(&r->segs[r->nsegs], 0, sizeof r->segs[0]); \
        r->segs[r->nsegs++].lit = mm_buf_detach(&lit); } } while (0)
    while (*s) {
        if (*s == '%' && (isalpha((unsigned char)s[1]) || s[1] == '(')) {
            const char *st = s + 1;
            bool paren = *st == '(';
            if (paren)
                st++;
            const char *p = st;
            while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
                p++;
            if (*p == '[') {
                const char *q = strchr(p, ']');
                if (q)
                    p = q + 1;
            }
            /* a trailing '.' ends a sentence, not a field */
            while (p > st && p[-1] == '.')
                p--;
            char *ftext = mm_xstrndup(st, (size_t)(p - st));
            if (paren && *p == ')')
                p++;
            FLUSH();
            r->segs = mm_xrealloc(r->segs, (r->nsegs + 1) * sizeof *r->segs);
            seg *sg = &r->segs[r->nsegs];
            memset(sg, 0, sizeof *sg);
            int rc = mm_fref_init(&sg->f, ftext);
            if (rc < 0) {
                mm_fref_clear(&sg->f);
                free(ftext);
                mm_buf_free(&lit);
                return rc;
            }
            r->nsegs++;
            free(ftext);
            s = p;
            continue;
        }
        mm_buf_addc(&lit, *s++);
    }
    FLUSH();
#undef FLUSH
    /* ofields point into segs (stable now) */
    for (size_t i = 0; i < r->nsegs; i++) {
        if (r->segs[i].lit)
            continue;
        bool dup = false;
        for (size_t k = 0; k < r->nofields; k++)
            if (!strcmp(r->ofields[k]->text, r->segs[i].f.text))
                dup = true;
        if (dup)
            continue;
        r->ofields = mm_xrealloc(r->ofields, (r->nofields + 1) * sizeof *r->ofields);
        r->ofields[r->nofields++] = &r->segs[i].f;
    }
    return 0;
}

/* Does the source fill field f?  The caps' list is read in order: the
 * first entry that matches decides ('!' = filled). */
/* The name a caps list uses for f: "evt.arg.NAME" for an argument,
 * else the field's own name */
static void caps_name(const mm_fref *f, char *name, size_t n)
{
    if (f->def->argmode == ARG_KEY && f->key && !strncmp(f->def->name, "evt.", 4) &&
        strstr(f->def->name, "arg"))
        snprintf(name, n, "%s.%s", f->def->name, f->key);
    else
        snprintf(name, n, "%s", f->def->name);
}

static bool field_ok(void *ud, const mm_fref *f)
{
    const mm_source_caps *c = ud;
    char name[160];
    caps_name(f, name, sizeof name);
    for (size_t i = 0; i < c->nmissing; i++) {
        const char *e = c->missing[i].field;
        bool allow = e[0] == '!';
        if (allow)
            e++;
        size_t el = strlen(e);
        bool hit = el && e[el - 1] == '*' ? !strncmp(name, e, el - 1) : !strcmp(name, e);
        if (hit)
            return allow;
    }
    return true;
}

static const char *field_why(const mm_source_caps *c, const mm_fref *f)
{
    char name[160];
    caps_name(f, name, sizeof name);
    for (size_t i = 0; i < c->nmissing; i++) {
        const char *e = c->missing[i].field;
        if (e[0] == '!')
            continue;
        size_t el = strlen(e);
        if (el && e[el - 1] == '*' ? !strncmp(name, e, el - 1) : !strcmp(name, e))
            return c->missing[i].why;
    }
    return "not filled";
}

/* Can the source serve rule r (compiled, matching event types `types`)?
 * Narrows `types` to what the source produces; on refusal sets r->reason
 * (naming the event types or the field) and returns -1. */
static int source_check(mm_ruleset *rs, drule *r, uint64_t types[MM_COND_TYPEWORDS])
{
    const mm_source_caps *c = rs->caps;
    uint64_t prod[MM_COND_TYPEWORDS];
    bool any = false;
    for (int w = 0; w < MM_COND_TYPEWORDS; w++) {
        prod[w] = w < (int)(sizeof c->types / sizeof c->types[0]) ? c->types[w] : 0;
        any |= (types[w] & prod[w]) != 0;
    }
    free(r->reason);
    r->reason = NULL;
    if (!any) {
        mm_buf b = MM_BUF_INIT;
        int shown = 0;
        for (int t = 1; t < MM_EVT__COUNT; t++)
            if ((types[t / 64] >> (t % 64)) & 1) {
                if (shown < 6)
                    mm_buf_printf(&b, "%s%s", shown ? ", " : "", mm_evt_type_name((mm_evt_type)t));
                else if (shown == 6)
                    mm_buf_adds(&b, ", ...");
                shown++;
            }
        r->reason = mm_xasprintf("evt.type %s: %s", b.data ? b.data : "(none)",
                                 c->types_why ? c->types_why : "not produced by this source");
        mm_buf_free(&b);
        return -1;
    }
    const mm_fref *bad = mm_cond_first_unfillable(r->node, prod, field_ok, (void *)c);
    if (!bad) {
        /* the output needs its fields too (shown as <NA> otherwise) */
        for (size_t i = 0; i < r->nofields && !bad; i++)
            if (!field_ok((void *)c, r->ofields[i]))
                bad = r->ofields[i];
        if (bad) {
            /* an output field the source cannot fill is shown as <NA>:
             * worth a warning, not a reason to drop the detection */
            mm_ruleset_warn(rs, "%s:%d: rule '%s': output field '%s' is <NA> under the %s source: %s",
                 r->file, r->info.line, r->name, bad->text, c->name, field_why(c, bad));
            bad = NULL;
        }
    }
    if (bad) {
        r->reason = mm_xasprintf("field '%s': %s", bad->text, field_why(c, bad));
        return -1;
    }
    for (int w = 0; w < MM_COND_TYPEWORDS; w++)
        types[w] &= prod[w];
    return 0;
}

void mm_ruleset_set_source(mm_ruleset *rs, const mm_source_caps *caps, bool strict)
{
    if (caps) {
        rs->caps_buf = *caps;
        rs->caps = &rs->caps_buf;
    } else {
        rs->caps = NULL;
    }
    rs->strict = strict;
    rs->compiled = false;
}

void mm_ruleset_set_strict(mm_ruleset *rs, bool strict)
{
    rs->strict = strict;
    rs->compiled = false;
}

/* With strict set, every rule (or macro) that cannot be used is a load
 * failure: the first is kept for the message, the others counted. */
typedef struct strict_state {
    char *first;
    size_t n;
    int code;
} strict_state;

static void strict_note(mm_ruleset *rs, strict_state *st, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void strict_note(mm_ruleset *rs, strict_state *st, int code, const char *fmt, ...)
{
    if (!rs->strict)
        return;
    if (st->n++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        st->first = mm_xvasprintf(fmt, ap);
        va_end(ap);
        st->code = code;
    }
}

int mm_ruleset_compile(mm_ruleset *rs)
{
    char err[512], why[512];
    strict_state st = {NULL, 0, 0};
    mm_cond_defs defs = {macro_cb, list_cb, unknown_type_cb, rs};
    for (int t = 0; t < MM_EVT__COUNT; t++) {
        free(rs->bucket[t]);
        rs->bucket[t] = NULL;
        rs->nbucket[t] = 0;
    }
    /* macros first: one that does not parse is ignored, its users disabled */
    for (size_t i = 0; i < rs->nmacros; i++) {
        dmacro *m = &rs->macros[i];
        mm_cond_ast_free(m->ast);
        m->bad = mm_cond_parse(&m->ast, m->cond) < 0;
        if (m->bad) {
            snprintf(err, sizeof err, "%s", mm_error_last());
            /* the rules that use it are disabled, each naming it */
            mm_ruleset_warn(rs, "%s:%d: macro '%s' ignored: condition: %s", m->file, m->line, m->name,
                 err);
            strict_note(rs, &st, MM_EFORMAT, "%s:%d: macro '%s': condition: %s", m->file,
                        m->line, m->name, err);
        }
    }
    for (size_t i = 0; i < rs->nrules; i++) {
        drule *r = &rs->rules[i];
        rule_uncompile(r);
        free(r->reason);
        r->reason = NULL;
        r->info.disabled = false;
        r->info.skipped = false;
        r->info.unsupported_source = false;
        const char *src = r->source ? r->source : "syscall";
        bool audit = !strcmp(src, "k8s_audit");
        if ((strcmp(src, "syscall") && !audit) || (audit && rs->caps)) {
            r->info.skipped = true;
            r->reason = audit ? mm_xasprintf("source 'k8s_audit' is not served by the %s source "
                                             "(mamori k8s audit)", rs->caps->name)
                              : mm_xasprintf("source '%s' is not handled (syscall and "
                                             "k8s_audit only)", r->source);
            mm_ruleset_warn(rs, "%s:%d: rule '%s' skipped: %s", r->file, r->info.line, r->name, r->reason);
            mm_ruleset_rule_sync(r);
            continue;
        }
        char *exc = mm_ruleset_exc_text(r);
        char *full = *exc ? mm_xasprintf("(%s) and not (%s)", r->cond, exc) : mm_xstrdup(r->cond);
        free(exc);
        mm_cond_ast *a;
        if (mm_cond_parse(&a, full) < 0)
            snprintf(err, sizeof err, "%s", mm_error_last());
        free(full);
        int cline = r->cond_line ? r->cond_line : r->info.line;
        if (!a) {
            r->info.disabled = true;
            r->reason = mm_xasprintf("condition: %s", err);
            mm_ruleset_warn(rs, "%s:%d: rule '%s' disabled: %s", r->file, cline, r->name, r->reason);
            strict_note(rs, &st, MM_EFORMAT, "%s:%d: rule '%s': %s", r->file, cline, r->name,
                        r->reason);
            mm_ruleset_rule_sync(r);
            continue;
        }
        mm_buf_clear(&rs->unknown_types);
        if (mm_cond_compile(&r->node, a, &defs) < 0)
            snprintf(why, sizeof why, "%s", mm_error_last());
        mm_cond_ast_free(a);
        if (r->node && rs->unknown_types.len)
            mm_ruleset_warn(rs, "%s:%d: rule '%s': evt.type %s not an event mamori produces", r->file,
                 r->info.line, r->name, rs->unknown_types.data);
        if (r->node && compile_output(r) < 0) {
            rule_uncompile(r);
            snprintf(why, sizeof why, "output: %s", mm_error_last());
        }
        if (!r->node) {
            r->info.disabled = true;
            r->reason = mm_xstrdup(why);
            mm_ruleset_warn(rs, "%s:%d: rule '%s' disabled: %s%s", r->file, r->info.line, r->name, why,
                 r->skip_unknown ? " (skip-if-unknown-filter)" : "");
            if (!r->skip_unknown)
                strict_note(rs, &st, MM_EFORMAT, "%s:%d: rule '%s': %s", r->file,
                            r->info.line, r->name, why);
            mm_ruleset_rule_sync(r);
            continue;
        }
        r->runnable = true;
        mm_ruleset_rule_sync(r);
        uint64_t types[MM_COND_TYPEWORDS];
        mm_cond_types(r->node, types);
        /* audit events go to k8s_audit rules only, syscall events to the others */
        bool has_audit = (types[MM_EVT_K8S_AUDIT / 64] >> (MM_EVT_K8S_AUDIT % 64)) & 1;
        if (audit) {
            memset(types, 0, sizeof types);
            if (has_audit)
                types[MM_EVT_K8S_AUDIT / 64] |= 1ull << (MM_EVT_K8S_AUDIT % 64);
        } else {
            types[MM_EVT_K8S_AUDIT / 64] &= ~(1ull << (MM_EVT_K8S_AUDIT % 64));
        }
        size_t cnt = 0;
        for (int t = 1; t < MM_EVT__COUNT; t++)
            cnt += (types[t / 64] >> (t % 64)) & 1;
        if (cnt == 0) {
            /* it could never fire: say so rather than keep a dead rule */
            rule_uncompile(r);
            r->info.disabled = true;
            r->reason = mm_xasprintf("unsupported event type(s): %s",
                                     rs->unknown_types.len ? rs->unknown_types.data : "none matches");
            mm_ruleset_warn(rs, "%s:%d: rule '%s' disabled: %s", r->file, r->info.line, r->name, r->reason);
            strict_note(rs, &st, MM_EFORMAT, "%s:%d: rule '%s': %s", r->file, r->info.line,
                        r->name, r->reason);
            mm_ruleset_rule_sync(r);
            continue;
        }
        if (rs->caps && source_check(rs, r, types) < 0) {
            rule_uncompile(r);
            r->info.disabled = true;
            r->info.unsupported_source = true;
            mm_ruleset_warn(rs, "%s:%d: rule '%s' disabled: unsupported by the %s source: %s", r->file,
                 r->info.line, r->name, rs->caps->name, r->reason);
            strict_note(rs, &st, MM_EUNSUPPORTED, "%s:%d: rule '%s': unsupported by the %s "
                        "source: %s", r->file, r->info.line, r->name, rs->caps->name, r->reason);
            mm_ruleset_rule_sync(r);
            continue;
        }
        if (!audit && cnt == MM_EVT__COUNT - 2)
            mm_ruleset_warn(rs, "%s:%d: rule '%s' does not restrict evt.type: it runs on every event",
                 r->file, r->info.line, r->name);
        for (int t = 1; t < MM_EVT__COUNT; t++) {
            if (!((types[t / 64] >> (t % 64)) & 1))
                continue;
            rs->bucket[t] = mm_xrealloc(rs->bucket[t], (rs->nbucket[t] + 1) * sizeof *rs->bucket[t]);
            rs->bucket[t][rs->nbucket[t]++] = (uint32_t)i;
        }
    }
    rs->compiled = true;
    if (st.first) {
        int rc = st.n > 1 ? mm_error_set(st.code, "%s (strict); and %zu more", st.first,
                                         st.n - 1)
                          : mm_error_set(st.code, "%s (strict)", st.first);
        free(st.first);
        return rc;
    }
    return 0;
}

int mm_ruleset_enable(mm_ruleset *rs, const char *name_or_tag, bool tag, bool enabled)
{
    int hits = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        drule *r = &rs->rules[i];
        bool m = false;
        if (tag) {
            for (size_t k = 0; k < r->ntags; k++)
                if (!strcmp(r->tags[k], name_or_tag))
                    m = true;
        } else {
            m = !strcmp(r->name, name_or_tag);
        }
        if (m) {
            r->info.enabled = enabled;
            hits++;
        }
    }
    if (!hits)
        return mm_error_set(MM_ENOTFOUND, "no rule %s '%s'", tag ? "tagged" : "named", name_or_tag);
    return 0;
}

void mm_ruleset_set_min_priority(mm_ruleset *rs, mm_rule_priority p)
{
    rs->min_pri = p;
}

void mm_ruleset_stats_get(const mm_ruleset *rs, mm_ruleset_stats *out)
{
    memset(out, 0, sizeof *out);
    out->rules = rs->nrules;
    out->macros = rs->nmacros;
    out->lists = rs->nlists;
    for (size_t i = 0; i < rs->nrules; i++) {
        const drule *r = &rs->rules[i];
        if (r->info.skipped)
            out->skipped_source++;
        else if (r->info.unsupported_source)
            out->disabled_source++;
        else if (r->info.disabled)
            out->disabled_unsupported++;
        else if (!r->info.enabled)
            out->disabled_by_file++;
        else
            out->enabled++;
    }
}

size_t mm_ruleset_rule_count(const mm_ruleset *rs)
{
    return rs->nrules;
}

const mm_rule_info *mm_ruleset_rule(const mm_ruleset *rs, size_t i)
{
    return i < rs->nrules ? &rs->rules[i].info : NULL;
}

size_t mm_ruleset_warning_count(const mm_ruleset *rs)
{
    return rs->nwarnings;
}

const char *mm_ruleset_warning(const mm_ruleset *rs, size_t i)
{
    return i < rs->nwarnings ? rs->warnings[i] : NULL;
}

/* ---- evaluation ------------------------------------------------------------------------ */

static void fire(mm_ruleset *rs, drule *r, const mm_event *ev, mm_alert_fn fn, void *ud)
{
    mm_evalctx *c = &rs->ctx;
    mm_buf *o = &rs->obuf;
    mm_buf_clear(o);
    mm_buf_adds(o, "");
    for (size_t i = 0; i < r->nsegs; i++) {
        if (r->segs[i].lit) {
            mm_buf_adds(o, r->segs[i].lit);
        } else {
            bool num;
            const char *v = mm_field_render(c, &r->segs[i].f, &num);
            mm_buf_adds(o, v ? v : "<NA>");
        }
    }
    if (rs->cafields < r->nofields) {
        rs->cafields = r->nofields;
        rs->afields = mm_xrealloc(rs->afields, rs->cafields * sizeof *rs->afields);
    }
    for (size_t i = 0; i < r->nofields; i++) {
        bool num;
        rs->afields[i].name = r->ofields[i]->text;
        rs->afields[i].value = mm_field_render(c, r->ofields[i], &num);
        rs->afields[i].numeric = num;
    }
    mm_alert a = {
        .ts = ev->ts, .rule = r->name, .priority = r->info.priority, .output = o->data,
        .fields = rs->afields, .nfields = r->nofields,
        .tags = (const char *const *)r->tags, .ntags = r->ntags,
        .source = r->info.source, .hostname = rs->hostname, .action = r->info.action,
        .event = ev,
    };
    fn(ud, &a);
}

int mm_ruleset_eval(mm_ruleset *rs, const mm_event *ev, mm_alert_fn fn, void *ud)
{
    if (!rs->compiled && mm_ruleset_compile(rs) != 0)
        return -1;
    unsigned t = (unsigned)ev->type;
    if (t >= MM_EVT__COUNT || !rs->nbucket[t])
        return 0;
    mm_evalctx_reset(&rs->ctx, ev);
    int hits = 0;
    for (uint32_t i = 0; i < rs->nbucket[t]; i++) {
        drule *r = &rs->rules[rs->bucket[t][i]];
        if (!r->info.enabled || r->info.priority > rs->min_pri)
            continue;
        if (mm_cond_eval(r->node, &rs->ctx)) {
            hits++;
            if (fn)
                fire(rs, r, ev, fn, ud);
        }
    }
    return hits;
}

