/*
 * rules_load.c - loading Falco rule files into a ruleset: the one YAML
 * loader (util/yaml.c) with every scalar kept as text and the position of
 * each value recorded, so that every item keeps its line number, collecting
 * lists, macros and rules with Falco's semantics: a later definition
 * replaces an earlier one, `append: true` and `override: {key:
 * append|replace}` extend it, a rule item with only `enabled` toggles it,
 * and exceptions are kept per rule for the compile (rules.c).  Files are
 * capped in size and items, and every error names the file and line.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <jansson.h>

#include "runtime/rules_int.h"

/* ---- YAML helpers ------------------------------------------------------------ */

typedef struct ldr {
    mm_ruleset *rs;
    mm_yaml_posmap *pm;
    const char *file;
    int docs;
} ldr;

/* The line where the value n starts (0 when unknown): a block scalar at its
 * indicator, a mapping at its first key. */
static int line_of(ldr *l, const json_t *n)
{
    int line;
    return n && mm_yaml_pos_of(l->pm, n, &line, NULL) ? line : 0;
}

static json_t *map_get(ldr *l, const json_t *m, const char *key)
{
    (void)l;
    return json_is_object(m) ? json_object_get(m, key) : NULL;
}

static const char *scalar(const json_t *n)
{
    return json_is_string(n) ? json_string_value(n) : NULL;
}

static bool is_plain_null(ldr *l, const json_t *n)
{
    if (json_is_null(n))
        return true;   /* an empty document */
    const char *s = scalar(n);
    return s && mm_yaml_plain_of(l->pm, n) &&
           (!strcmp(s, "") || !strcmp(s, "~") || !strcmp(s, "null"));
}

static int ferr(ldr *l, const json_t *n, const char *kind, const char *name,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int ferr(ldr *l, const json_t *n, const char *kind, const char *name,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    if (name)
        mm_error_set(MM_EFORMAT, "%s:%d: %s '%s': %s", l->file, line_of(l, n), kind, name, m);
    else
        mm_error_set(MM_EFORMAT, "%s:%d: %s", l->file, line_of(l, n), m);
    free(m);
    return MM_EFORMAT;
}

static int get_bool(ldr *l, const json_t *n, bool *out, const char *kind, const char *name,
                    const char *key)
{
    const char *s = scalar(n);
    if (s && (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))) {
        *out = true;
        return 0;
    }
    if (s && (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))) {
        *out = false;
        return 0;
    }
    return ferr(l, n, kind, name, "'%s' must be true or false", key);
}

/* Items of a sequence of scalars. */
static int get_strv(ldr *l, const json_t *n, char ***out, size_t *nout, const char *kind,
                    const char *name, const char *key)
{
    *out = NULL;
    *nout = 0;
    if (!n || is_plain_null(l, n))
        return 0;
    if (!json_is_array(n))
        return ferr(l, n, kind, name, "'%s' must be a list", key);
    for (size_t it = 0; it < json_array_size(n); it++) {
        const json_t *x = json_array_get(n, it);
        const char *s = scalar(x);
        if (!s) {
            mm_strv_free(*out, *nout);
            *out = NULL;
            *nout = 0;
            return ferr(l, x, kind, name, "'%s' items must be strings", key);
        }
        if (*nout >= MAX_ITEMS) {
            mm_strv_free(*out, *nout);
            *out = NULL;
            *nout = 0;
            return ferr(l, x, kind, name, "'%s' has too many items", key);
        }
        /* keep a YAML-quoted scalar that carries quotes in its text as is */
        mm_strv_push(out, nout, s);
    }
    return 0;
}

/* override: {key: append|replace}; returns 0 and fills mode[key] */
typedef struct ovr { const char *key; int mode; } ovr;   /* 0 none, 1 append, 2 replace */

static int get_override(ldr *l, const json_t *item, const json_t *o, ovr *keys, size_t nkeys,
                        const char *kind, const char *name)
{
    if (!o)
        return 0;
    if (!json_is_object(o))
        return ferr(l, o, kind, name, "'override' must be a mapping");
    const char *k;
    const json_t *vn;
    json_object_foreach((json_t *)o, k, vn) {
        const char *v = scalar(vn);
        if (!k || !v || (strcmp(v, "append") && strcmp(v, "replace")))
            return ferr(l, o, kind, name, "'override' values must be append or replace");
        size_t i;
        for (i = 0; i < nkeys; i++)
            if (!strcmp(keys[i].key, k))
                break;
        if (i == nkeys)
            return ferr(l, o, kind, name, "key '%s' cannot be overridden", k);
        keys[i].mode = !strcmp(v, "append") ? 1 : 2;
        if (!map_get(l, item, k))
            return ferr(l, o, kind, name, "override of '%s' without a '%s' key", k, k);
    }
    return 0;
}

/* ---- lists and macros ---------------------------------------------------------- */

static int load_list(ldr *l, json_t *item, const char *name)
{
    mm_ruleset *rs = l->rs;
    bool append = false;
    json_t *a = map_get(l, item, "append");
    if (a && get_bool(l, a, &append, "list", name, "append"))
        return MM_EFORMAT;
    ovr keys[] = {{"items", 0}};
    if (get_override(l, item, map_get(l, item, "override"), keys, 1, "list", name))
        return MM_EFORMAT;
    if (keys[0].mode == 1)
        append = true;
    json_t *in = map_get(l, item, "items");
    if (!in)
        return ferr(l, item, "list", name, "no 'items'");
    char **items;
    size_t n;
    if (get_strv(l, in, &items, &n, "list", name, "items"))
        return MM_EFORMAT;
    size_t ix = (size_t)(uintptr_t)mm_map_get(rs->list_ix, name);
    if (append) {
        if (!ix) {
            mm_strv_free(items, n);
            return ferr(l, item, "list", name, "append to an undefined list");
        }
        dlist *d = &rs->lists[ix - 1];
        for (size_t i = 0; i < n; i++)
            mm_strv_push(&d->items, &d->n, items[i]);
        mm_strv_free(items, n);
        return 0;
    }
    if (ix) {
        dlist *d = &rs->lists[ix - 1];
        mm_strv_free(d->items, d->n);
        d->items = items;
        d->n = n;
        return 0;
    }
    rs->lists = mm_xrealloc(rs->lists, (rs->nlists + 1) * sizeof *rs->lists);
    rs->lists[rs->nlists] = (dlist){mm_xstrdup(name), items, n};
    rs->nlists++;
    mm_map_put(rs->list_ix, name, (void *)(uintptr_t)rs->nlists);
    return 0;
}

static int load_macro(ldr *l, json_t *item, const char *name)
{
    mm_ruleset *rs = l->rs;
    bool append = false;
    json_t *a = map_get(l, item, "append");
    if (a && get_bool(l, a, &append, "macro", name, "append"))
        return MM_EFORMAT;
    ovr keys[] = {{"condition", 0}};
    if (get_override(l, item, map_get(l, item, "override"), keys, 1, "macro", name))
        return MM_EFORMAT;
    if (keys[0].mode == 1)
        append = true;
    json_t *cn = map_get(l, item, "condition");
    const char *cond = scalar(cn);
    if (!cond)
        return ferr(l, cn ? cn : item, "macro", name, "no 'condition'");
    size_t ix = (size_t)(uintptr_t)mm_map_get(rs->macro_ix, name);
    if (append) {
        if (!ix)
            return ferr(l, item, "macro", name, "append to an undefined macro");
        dmacro *m = &rs->macros[ix - 1];
        char *nc = mm_xasprintf("%s %s", m->cond, cond);
        free(m->cond);
        m->cond = nc;
        return 0;
    }
    if (!ix) {
        rs->macros = mm_xrealloc(rs->macros, (rs->nmacros + 1) * sizeof *rs->macros);
        memset(&rs->macros[rs->nmacros], 0, sizeof rs->macros[0]);
        rs->macros[rs->nmacros].name = mm_xstrdup(name);
        rs->nmacros++;
        ix = rs->nmacros;
        mm_map_put(rs->macro_ix, name, (void *)(uintptr_t)ix);
    }
    dmacro *m = &rs->macros[ix - 1];
    mm_proc_set(&m->cond, cond);
    mm_proc_set(&m->file, l->file);
    m->line = line_of(l, cn);
    return 0;
}

/* ---- exceptions ------------------------------------------------------------------ */

static bool bare_ok(const char *s)
{
    if (!*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '-' ||
              *p == '/' || *p == ':'))
            return false;
    return true;
}

static void quote_into(mm_buf *b, const char *s)
{
    mm_buf_addc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            mm_buf_addc(b, '\\');
        mm_buf_addc(b, *p);
    }
    mm_buf_addc(b, '"');
}

/* One exception value as condition text: a scalar (quoted unless it names
 * a list for a list operator) or a sequence "(a, b)". */
static char *exc_value_text(ldr *l, json_t *v, bool listop)
{
    (void)l;
    mm_buf b = MM_BUF_INIT;
    const char *s = scalar(v);
    if (s) {
        if (listop) {
            mm_buf_addc(&b, '(');
            if (bare_ok(s))
                mm_buf_adds(&b, s);
            else
                quote_into(&b, s);
            mm_buf_addc(&b, ')');
        } else {
            quote_into(&b, s);
        }
        return mm_buf_detach(&b);
    }
    if (json_is_array(v)) {
        mm_buf_addc(&b, '(');
        bool first = true;
        for (size_t it = 0; it < json_array_size(v); it++) {
            const char *x = scalar(json_array_get(v, it));
            if (!x)
                continue;
            if (!first)
                mm_buf_adds(&b, ", ");
            first = false;
            if (bare_ok(x))
                mm_buf_adds(&b, x);
            else
                quote_into(&b, x);
        }
        mm_buf_addc(&b, ')');
        return mm_buf_detach(&b);
    }
    mm_buf_free(&b);
    return NULL;
}

static bool is_listop(const char *c)
{
    return !strcmp(c, "in") || !strcmp(c, "intersects") || !strcmp(c, "pmatch");
}

/* Adds the values of exception node en to e (e already has fields/comps). */
static int exc_add_values(ldr *l, dexc *e, json_t *vn, const char *rname)
{
    if (!vn || is_plain_null(l, vn))
        return 0;
    if (!json_is_array(vn))
        return ferr(l, vn, "rule", rname, "exception '%s': 'values' must be a list", e->name);
    for (size_t it = 0; it < json_array_size(vn); it++) {
        json_t *t = json_array_get(vn, it);
        if (e->nvals >= MAX_ITEMS)
            return ferr(l, t, "rule", rname, "exception '%s': too many values", e->name);
        char **tuple;
        if (e->multi) {
            if (!json_is_array(t) || json_array_size(t) != e->nfields)
                return ferr(l, t, "rule", rname,
                            "exception '%s': each value must list %zu items (one per field)",
                            e->name, e->nfields);
            tuple = mm_xcalloc(e->nfields, sizeof *tuple);
            for (size_t f = 0; f < e->nfields; f++) {
                json_t *x = json_array_get(t, f);
                tuple[f] = exc_value_text(l, x, is_listop(e->comps[f]));
                if (!tuple[f]) {
                    for (size_t k = 0; k < f; k++)
                        free(tuple[k]);
                    free(tuple);
                    return ferr(l, x, "rule", rname, "exception '%s': bad value", e->name);
                }
            }
        } else {
            tuple = mm_xcalloc(1, sizeof *tuple);
            /* single field: the values form one list for `in`; a bare
             * word may name a list, which the compiler expands */
            const char *sv = scalar(t);
            if (sv && bare_ok(sv))
                tuple[0] = mm_xstrdup(sv);
            else
                tuple[0] = exc_value_text(l, t, false);
            if (!tuple[0]) {
                free(tuple);
                return ferr(l, t, "rule", rname, "exception '%s': bad value", e->name);
            }
        }
        e->vals = mm_xrealloc(e->vals, (e->nvals + 1) * sizeof *e->vals);
        e->vals[e->nvals++] = tuple;
    }
    return 0;
}

static int load_exceptions(ldr *l, drule *r, json_t *en, bool append)
{
    if (!en || is_plain_null(l, en))
        return 0;
    if (!json_is_array(en))
        return ferr(l, en, "rule", r->name, "'exceptions' must be a list");
    for (size_t it = 0; it < json_array_size(en); it++) {
        json_t *x = json_array_get(en, it);
        const char *ename = scalar(map_get(l, x, "name"));
        if (!ename)
            return ferr(l, x, "rule", r->name, "exception without 'name'");
        dexc *e = NULL;
        for (size_t i = 0; i < r->nexc; i++)
            if (!strcmp(r->exc[i].name, ename))
                e = &r->exc[i];
        json_t *fn = map_get(l, x, "fields");
        if (!e) {
            if (!fn) {
                if (append)
                    return ferr(l, x, "rule", r->name,
                                "exception '%s' appended without 'fields' and not defined before", ename);
                return ferr(l, x, "rule", r->name, "exception '%s' without 'fields'", ename);
            }
            if (r->nexc >= 1000)
                return ferr(l, x, "rule", r->name, "too many exceptions");
            r->exc = mm_xrealloc(r->exc, (r->nexc + 1) * sizeof *r->exc);
            e = &r->exc[r->nexc++];
            memset(e, 0, sizeof *e);
            e->name = mm_xstrdup(ename);
            json_t *cn = map_get(l, x, "comps");
            if (scalar(fn)) {
                mm_strv_push(&e->fields, &e->nfields, scalar(fn));
                mm_strv_push(&e->comps, &e->ncomps, scalar(cn) ? scalar(cn) : "in");
                if (!is_listop(e->comps[0]))
                    return ferr(l, x, "rule", r->name,
                                "exception '%s': a single field needs a list operator", ename);
            } else {
                e->multi = true;
                if (get_strv(l, fn, &e->fields, &e->nfields, "rule", r->name, "fields"))
                    return MM_EFORMAT;
                if (e->nfields == 0)
                    return ferr(l, fn, "rule", r->name, "exception '%s' has no fields", ename);
                if (cn) {
                    if (get_strv(l, cn, &e->comps, &e->ncomps, "rule", r->name, "comps"))
                        return MM_EFORMAT;
                    if (e->ncomps != e->nfields)
                        return ferr(l, cn, "rule", r->name,
                                    "exception '%s': %zu comps for %zu fields", ename,
                                    e->ncomps, e->nfields);
                } else {
                    for (size_t i = 0; i < e->nfields; i++)
                        mm_strv_push(&e->comps, &e->ncomps, "=");
                }
            }
        }
        if (exc_add_values(l, e, map_get(l, x, "values"), r->name))
            return MM_EFORMAT;
    }
    return 0;
}

/* The condition text exceptions add: "" when none has values. */
char *mm_ruleset_exc_text(const drule *r)
{
    mm_buf b = MM_BUF_INIT;
    bool any = false;
    for (size_t i = 0; i < r->nexc; i++) {
        const dexc *e = &r->exc[i];
        if (!e->nvals)
            continue;
        mm_buf_adds(&b, any ? " or " : "");
        any = true;
        if (!e->multi) {
            /* values form one list */
            mm_buf_printf(&b, "(%s %s (", e->fields[0], e->comps[0]);
            for (size_t t = 0; t < e->nvals; t++) {
                const char *v = e->vals[t][0];
                /* quoted scalar "x" -> x stays quoted; list refs come bare */
                mm_buf_adds(&b, t ? ", " : "");
                mm_buf_adds(&b, v);
            }
            mm_buf_adds(&b, "))");
            continue;
        }
        mm_buf_addc(&b, '(');
        for (size_t t = 0; t < e->nvals; t++) {
            mm_buf_adds(&b, t ? " or (" : "(");
            for (size_t f = 0; f < e->nfields; f++)
                mm_buf_printf(&b, "%s%s %s %s", f ? " and " : "", e->fields[f],
                              e->comps[f], e->vals[t][f]);
            mm_buf_addc(&b, ')');
        }
        mm_buf_addc(&b, ')');
    }
    if (!any) {
        mm_buf_free(&b);
        return mm_xstrdup("");
    }
    return mm_buf_detach(&b);
}

/* ---- rules ------------------------------------------------------------------------ */

void mm_ruleset_rule_sync(drule *r)
{
    r->info.name = r->name;
    r->info.desc = r->desc;
    r->info.condition = r->cond;
    r->info.output = r->output;
    r->info.source = r->source ? r->source : "syscall";
    r->info.tags = (const char *const *)r->tags;
    r->info.ntags = r->ntags;
    r->info.file = r->file;
    r->info.disabled_reason = r->reason;
}

static int load_rule(ldr *l, json_t *item, const char *name)
{
    mm_ruleset *rs = l->rs;
    bool append = false;
    json_t *a = map_get(l, item, "append");
    if (a && get_bool(l, a, &append, "rule", name, "append"))
        return MM_EFORMAT;
    ovr keys[] = {{"condition", 0}, {"output", 0}, {"desc", 0}, {"priority", 0},
                  {"tags", 0}, {"exceptions", 0}, {"enabled", 0}, {"source", 0},
                  {"action", 0}};
    enum { K_COND, K_OUT, K_DESC, K_PRI, K_TAGS, K_EXC, K_EN, K_SRC, K_ACT };
    json_t *ov = map_get(l, item, "override");
    if (get_override(l, item, ov, keys, sizeof keys / sizeof keys[0], "rule", name))
        return MM_EFORMAT;
    if (keys[K_PRI].mode == 1 || keys[K_EN].mode == 1 || keys[K_SRC].mode == 1)
        return ferr(l, ov, "rule", name, "priority, enabled and source can only be replaced");
    size_t ix = (size_t)(uintptr_t)mm_map_get(rs->rule_ix, name);
    json_t *cn = map_get(l, item, "condition");
    json_t *on = map_get(l, item, "output");
    json_t *dn = map_get(l, item, "desc");
    json_t *pn = map_get(l, item, "priority");
    json_t *tn = map_get(l, item, "tags");
    json_t *en = map_get(l, item, "enabled");
    json_t *sn = map_get(l, item, "source");
    json_t *xn = map_get(l, item, "exceptions");
    json_t *an = map_get(l, item, "action");
    json_t *kn = map_get(l, item, "skip-if-unknown-filter");

    if (cn && !scalar(cn))
        return ferr(l, cn, "rule", name, "'condition' must be a string");
    if (on && !scalar(on))
        return ferr(l, on, "rule", name, "'output' must be a string");
    if (dn && !scalar(dn))
        return ferr(l, dn, "rule", name, "'desc' must be a string");
    mm_rule_priority pri = MM_PRI_DEBUG;
    if (pn && mm_rule_priority_parse(&pri, scalar(pn)) != 0)
        return ferr(l, pn, "rule", name, "unknown priority '%s'", scalar(pn) ? scalar(pn) : "?");
    bool enabled = true;
    if (en && get_bool(l, en, &enabled, "rule", name, "enabled"))
        return MM_EFORMAT;
    mm_rule_action action = MM_ACTION_NONE;
    if (an) {
        const char *s = scalar(an);
        if (s && !strcmp(s, "kill"))
            action = MM_ACTION_KILL;
        else if (s && !strcmp(s, "isolate-node"))
            action = MM_ACTION_ISOLATE_NODE;
        else if (!s || strcmp(s, "none"))
            return ferr(l, an, "rule", name, "unknown action '%s' (kill, isolate-node or none)", s ? s : "?");
    }
    char **tags = NULL;
    size_t ntags = 0;
    if (tn && get_strv(l, tn, &tags, &ntags, "rule", name, "tags"))
        return MM_EFORMAT;

    bool any_override = false;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        any_override |= keys[i].mode != 0;

    if (append || any_override) {
        if (!ix) {
            mm_strv_free(tags, ntags);
            return ferr(l, item, "rule", name, "%s an undefined rule",
                        append ? "append to" : "override of");
        }
        drule *r = &rs->rules[ix - 1];
        int cm = append ? (cn ? 1 : 0) : keys[K_COND].mode;
        if (cm == 1) {
            char *nc = mm_xasprintf("%s %s", r->cond, scalar(cn));
            free(r->cond);
            r->cond = nc;
        } else if (cm == 2) {
            mm_proc_set(&r->cond, scalar(cn));
            r->cond_line = line_of(l, cn);
        }
        int om = keys[K_OUT].mode;
        if (om == 1) {
            char *no = mm_xasprintf("%s %s", r->output, scalar(on));
            free(r->output);
            r->output = no;
        } else if (om == 2) {
            mm_proc_set(&r->output, scalar(on));
        }
        int dm = keys[K_DESC].mode;
        if (dm == 1) {
            char *nd = mm_xasprintf("%s %s", r->desc ? r->desc : "", scalar(dn));
            free(r->desc);
            r->desc = nd;
        } else if (dm == 2) {
            mm_proc_set(&r->desc, scalar(dn));
        }
        if (keys[K_PRI].mode == 2)
            r->info.priority = pri;
        if (keys[K_EN].mode == 2)
            r->info.enabled = enabled;
        if (keys[K_SRC].mode == 2)
            mm_proc_set(&r->source, scalar(sn));
        if (keys[K_ACT].mode == 2)
            r->info.action = action;
        if (keys[K_TAGS].mode == 2) {
            mm_strv_free(r->tags, r->ntags);
            r->tags = tags;
            r->ntags = ntags;
            tags = NULL;
            ntags = 0;
        } else if (keys[K_TAGS].mode == 1) {
            for (size_t i = 0; i < ntags; i++)
                mm_strv_push(&r->tags, &r->ntags, tags[i]);
        }
        mm_strv_free(tags, ntags);
        int xm = append ? (xn ? 1 : 0) : keys[K_EXC].mode;
        if (xm == 2) {
            for (size_t i = 0; i < r->nexc; i++)
                mm_ruleset_exc_free(&r->exc[i]);
            r->nexc = 0;
        }
        if (xm && load_exceptions(l, r, xn, xm == 1))
            return MM_EFORMAT;
        mm_ruleset_rule_sync(r);
        return 0;
    }

    /* a rule item with only `enabled` (and the name) toggles an existing rule */
    if (!cn && en && ix) {
        mm_strv_free(tags, ntags);
        rs->rules[ix - 1].info.enabled = enabled;
        return 0;
    }
    if (!cn) {
        mm_strv_free(tags, ntags);
        return ferr(l, item, "rule", name, "no 'condition'");
    }
    if (!on) {
        mm_strv_free(tags, ntags);
        return ferr(l, item, "rule", name, "no 'output'");
    }
    if (!pn) {
        mm_strv_free(tags, ntags);
        return ferr(l, item, "rule", name, "no 'priority'");
    }
    drule *r;
    if (ix) {   /* redefinition replaces, keeping the rule's place */
        r = &rs->rules[ix - 1];
        mm_ruleset_rule_free(r);
        memset(r, 0, sizeof *r);
    } else {
        if (rs->nrules >= MAX_ITEMS) {
            mm_strv_free(tags, ntags);
            return ferr(l, item, "rule", name, "too many rules");
        }
        rs->rules = mm_xrealloc(rs->rules, (rs->nrules + 1) * sizeof *rs->rules);
        r = &rs->rules[rs->nrules++];
        memset(r, 0, sizeof *r);
        mm_map_put(rs->rule_ix, name, (void *)(uintptr_t)rs->nrules);
    }
    r->name = mm_xstrdup(name);
    r->cond = mm_xstrdup(scalar(cn));
    r->cond_line = line_of(l, cn);
    r->output = mm_xstrdup(scalar(on));
    r->desc = mm_xstrdup(scalar(dn));
    r->source = mm_xstrdup(scalar(sn) ? scalar(sn) : "syscall");
    r->file = mm_xstrdup(l->file);
    r->info.line = line_of(l, item);
    r->info.priority = pri;
    r->info.enabled = enabled;
    r->info.action = action;
    r->tags = tags;
    r->ntags = ntags;
    if (kn) {
        bool b;
        if (get_bool(l, kn, &b, "rule", name, "skip-if-unknown-filter"))
            return MM_EFORMAT;
        r->skip_unknown = b;
    }
    mm_ruleset_rule_sync(r);
    if (load_exceptions(l, r, xn, false))
        return MM_EFORMAT;
    return 0;
}

static int load_doc(ldr *l, json_t *root)
{
    if (!root || is_plain_null(l, root))
        return 0;
    if (!json_is_array(root))
        return ferr(l, root, NULL, NULL, "a rules file is a list of rules, macros and lists");
    for (size_t it = 0; it < json_array_size(root); it++) {
        json_t *item = json_array_get(root, it);
        if (!json_is_object(item))
            return ferr(l, item, NULL, NULL, "expected a mapping (rule, macro or list)");
        json_t *n;
        int rc = 0;
        if ((n = map_get(l, item, "rule"))) {
            if (!scalar(n) || !*scalar(n))
                return ferr(l, item, NULL, NULL, "rule without a name");
            rc = load_rule(l, item, scalar(n));
        } else if ((n = map_get(l, item, "macro"))) {
            if (!scalar(n) || !*scalar(n))
                return ferr(l, item, NULL, NULL, "macro without a name");
            rc = load_macro(l, item, scalar(n));
        } else if ((n = map_get(l, item, "list"))) {
            if (!scalar(n) || !*scalar(n))
                return ferr(l, item, NULL, NULL, "list without a name");
            rc = load_list(l, item, scalar(n));
        } else if ((n = map_get(l, item, "required_engine_version"))) {
            if (!scalar(n))
                return ferr(l, n, NULL, NULL, "required_engine_version must be a scalar");
        } else if ((n = map_get(l, item, "required_plugin_versions"))) {
            mm_ruleset_warn(l->rs, "%s:%d: required_plugin_versions ignored (no plugins: container "
                 "metadata comes from mamori's own sensor)", l->file, line_of(l, n));
        } else {
            void *first = json_object_iter(item);
            const char *k = first ? json_object_iter_key(first) : NULL;
            mm_ruleset_warn(l->rs, "%s:%d: unknown item '%s' ignored", l->file, line_of(l, item), k ? k : "?");
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* One document of the stream; a stream stops quietly after 102 documents */
static int on_doc(void *ud, json_t *doc, int line)
{
    (void)line;
    ldr *l = ud;
    int rc = load_doc(l, doc);
    json_decref(doc);
    if (rc)
        return rc;
    return ++l->docs > 101 ? 1 : 0;   /* > 0: stop quietly */
}

int mm_ruleset_load_string(mm_ruleset *rs, const char *name, const char *yaml, size_t len)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;       /* Falco reads scalars as the rule needs them */
    lim.pos_values = true;
    lim.pos_no_keys = true;           /* every message names a value's line */
    lim.dup_first_wins = true;        /* a repeated key: the first value counts */
    lim.max_nodes = MAX_RULE_FILE / 4;
    lim.errtag = "YAML error";
    ldr l = {rs, mm_yaml_posmap_new(), name, 0};
    int rc = mm_yaml_parse(yaml, len, name, &lim, l.pm, on_doc, &l);
    mm_yaml_posmap_free(l.pm);
    rs->compiled = false;
    return rc < 0 ? rc : 0;
}

int mm_ruleset_load_file(mm_ruleset *rs, const char *path)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, MAX_RULE_FILE, &data, &len);
    if (rc)
        return mm_error_wrap(rc, "%s: ", path);
    rc = mm_ruleset_load_string(rs, path, data, len);
    free(data);
    return rc;
}

