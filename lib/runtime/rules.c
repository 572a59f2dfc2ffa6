/*
 * rules.c - loading Falco rule files into a ruleset and running them.
 *
 * Loading (libyaml document API, so every item keeps its line number)
 * collects lists, macros and rules with Falco's semantics: a later
 * definition replaces an earlier one, `append: true` and
 * `override: {key: append|replace}` extend it, a rule item with only
 * `enabled` toggles it, exceptions are kept per rule and turned into
 * `and not (...)` at compile time.  Compiling parses every condition,
 * inlines macros, expands lists, resolves fields, renders output templates
 * into segments and indexes rules by the event types they can match, so
 * that an event only meets the rules that could fire on it.  A rule that
 * cannot compile is disabled with a warning naming file, line, rule and
 * reason; strict loading turns each of those into the load's error.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "runtime/runtime_int.h"

#define MAX_RULE_FILE (64u << 20)
#define MAX_ITEMS 100000

/* ---- definitions ------------------------------------------------------------ */

typedef struct dlist {
    char *name;
    char **items;
    size_t n;
} dlist;

typedef struct dmacro {
    char *name, *cond, *file;
    int line;
    mm_cond_ast *ast;
    bool parsed, bad;
    char *err;
} dmacro;

typedef struct dexc {
    char *name;
    char **fields;
    size_t nfields;
    bool multi;           /* fields given as a list */
    char **comps;
    size_t ncomps;
    /* values: tuples (multi) or single values; each value is a string or
     * a list of strings (for in/pmatch/intersects) */
    char ***vals;         /* vals[t][f]: text already formatted for the condition */
    size_t nvals;
} dexc;

typedef struct seg {
    char *lit;            /* literal text, or NULL */
    mm_fref f;            /* when lit is NULL */
} seg;

typedef struct drule {
    mm_rule_info info;    /* pointers into the fields below */
    char *name, *desc, *cond, *output, *source, *file, *reason;
    char **tags;
    size_t ntags;
    dexc *exc;
    size_t nexc;
    int cond_line;
    bool skip_unknown;
    /* compiled */
    mm_cond *node;
    seg *segs;
    size_t nsegs;
    mm_fref **ofields;    /* distinct fields of the output, in order */
    size_t nofields;
    bool runnable;
} drule;

struct mm_ruleset {
    dlist *lists;
    size_t nlists;
    dmacro *macros;
    size_t nmacros;
    drule *rules;
    size_t nrules;
    mm_map *list_ix, *macro_ix, *rule_ix;   /* name -> index + 1 */
    char **warnings;
    size_t nwarnings;
    mm_rule_priority min_pri;
    /* compiled index: event type -> rule indexes */
    uint32_t *bucket[MM_EVT__COUNT];
    uint32_t nbucket[MM_EVT__COUNT];
    bool compiled;
    mm_evalctx ctx;
    char hostname[256];
    mm_alert_field *afields;
    size_t cafields;
    mm_buf obuf;
    mm_buf unknown_types;  /* evt.type names of the rule being compiled */
    const mm_source_caps *caps; /* the live source's capabilities, or NULL */
    mm_source_caps caps_buf;
    bool strict;           /* a rule the source cannot serve fails the compile */
};

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

static void warn(mm_ruleset *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(mm_ruleset *rs, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    if (rs->nwarnings < 10000) {
        rs->warnings = mm_xrealloc(rs->warnings, (rs->nwarnings + 1) * sizeof *rs->warnings);
        rs->warnings[rs->nwarnings++] = m;
    } else {
        free(m);
    }
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

static void exc_free(dexc *e)
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

static void rule_free(drule *r)
{
    rule_uncompile(r);
    free(r->name); free(r->desc); free(r->cond); free(r->output);
    free(r->source); free(r->file); free(r->reason);
    mm_strv_free(r->tags, r->ntags);
    for (size_t i = 0; i < r->nexc; i++)
        exc_free(&r->exc[i]);
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
        rule_free(&rs->rules[i]);
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

/* ---- YAML helpers ------------------------------------------------------------ */

typedef struct ldr {
    mm_ruleset *rs;
    yaml_document_t *doc;
    const char *file;
} ldr;

static int line_of(yaml_node_t *n)
{
    return n ? (int)n->start_mark.line + 1 : 0;
}

static yaml_node_t *map_get(ldr *l, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE)
        return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(l->doc, p->key);
        if (k && k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key))
            return yaml_document_get_node(l->doc, p->value);
    }
    return NULL;
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_plain_null(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!strcmp((char *)n->data.scalar.value, "") || !strcmp((char *)n->data.scalar.value, "~") ||
            !strcmp((char *)n->data.scalar.value, "null"));
}

static int ferr(ldr *l, yaml_node_t *n, const char *kind, const char *name,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int ferr(ldr *l, yaml_node_t *n, const char *kind, const char *name,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    if (name)
        mm_error_set(MM_EFORMAT, "%s:%d: %s '%s': %s", l->file, line_of(n), kind, name, m);
    else
        mm_error_set(MM_EFORMAT, "%s:%d: %s", l->file, line_of(n), m);
    free(m);
    return MM_EFORMAT;
}

static int get_bool(ldr *l, yaml_node_t *n, bool *out, const char *kind, const char *name,
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
static int get_strv(ldr *l, yaml_node_t *n, char ***out, size_t *nout, const char *kind,
                    const char *name, const char *key)
{
    *out = NULL;
    *nout = 0;
    if (!n || is_plain_null(n))
        return 0;
    if (n->type != YAML_SEQUENCE_NODE)
        return ferr(l, n, kind, name, "'%s' must be a list", key);
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        yaml_node_t *x = yaml_document_get_node(l->doc, *it);
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

static int get_override(ldr *l, yaml_node_t *item, yaml_node_t *o, ovr *keys, size_t nkeys,
                        const char *kind, const char *name)
{
    if (!o)
        return 0;
    if (o->type != YAML_MAPPING_NODE)
        return ferr(l, o, kind, name, "'override' must be a mapping");
    for (yaml_node_pair_t *p = o->data.mapping.pairs.start; p < o->data.mapping.pairs.top; p++) {
        const char *k = scalar(yaml_document_get_node(l->doc, p->key));
        const char *v = scalar(yaml_document_get_node(l->doc, p->value));
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

static int load_list(ldr *l, yaml_node_t *item, const char *name)
{
    mm_ruleset *rs = l->rs;
    bool append = false;
    yaml_node_t *a = map_get(l, item, "append");
    if (a && get_bool(l, a, &append, "list", name, "append"))
        return MM_EFORMAT;
    ovr keys[] = {{"items", 0}};
    if (get_override(l, item, map_get(l, item, "override"), keys, 1, "list", name))
        return MM_EFORMAT;
    if (keys[0].mode == 1)
        append = true;
    yaml_node_t *in = map_get(l, item, "items");
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

static int load_macro(ldr *l, yaml_node_t *item, const char *name)
{
    mm_ruleset *rs = l->rs;
    bool append = false;
    yaml_node_t *a = map_get(l, item, "append");
    if (a && get_bool(l, a, &append, "macro", name, "append"))
        return MM_EFORMAT;
    ovr keys[] = {{"condition", 0}};
    if (get_override(l, item, map_get(l, item, "override"), keys, 1, "macro", name))
        return MM_EFORMAT;
    if (keys[0].mode == 1)
        append = true;
    yaml_node_t *cn = map_get(l, item, "condition");
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
    m->line = line_of(cn);
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
static char *exc_value_text(ldr *l, yaml_node_t *v, bool listop)
{
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
    if (v && v->type == YAML_SEQUENCE_NODE) {
        mm_buf_addc(&b, '(');
        bool first = true;
        for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
            const char *x = scalar(yaml_document_get_node(l->doc, *it));
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
static int exc_add_values(ldr *l, dexc *e, yaml_node_t *vn, const char *rname)
{
    if (!vn || is_plain_null(vn))
        return 0;
    if (vn->type != YAML_SEQUENCE_NODE)
        return ferr(l, vn, "rule", rname, "exception '%s': 'values' must be a list", e->name);
    for (yaml_node_item_t *it = vn->data.sequence.items.start; it < vn->data.sequence.items.top; it++) {
        yaml_node_t *t = yaml_document_get_node(l->doc, *it);
        if (e->nvals >= MAX_ITEMS)
            return ferr(l, t, "rule", rname, "exception '%s': too many values", e->name);
        char **tuple;
        if (e->multi) {
            if (!t || t->type != YAML_SEQUENCE_NODE ||
                (size_t)(t->data.sequence.items.top - t->data.sequence.items.start) != e->nfields)
                return ferr(l, t, "rule", rname,
                            "exception '%s': each value must list %zu items (one per field)",
                            e->name, e->nfields);
            tuple = mm_xcalloc(e->nfields, sizeof *tuple);
            for (size_t f = 0; f < e->nfields; f++) {
                yaml_node_t *x = yaml_document_get_node(l->doc, t->data.sequence.items.start[f]);
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

static int load_exceptions(ldr *l, drule *r, yaml_node_t *en, bool append)
{
    if (!en || is_plain_null(en))
        return 0;
    if (en->type != YAML_SEQUENCE_NODE)
        return ferr(l, en, "rule", r->name, "'exceptions' must be a list");
    for (yaml_node_item_t *it = en->data.sequence.items.start; it < en->data.sequence.items.top; it++) {
        yaml_node_t *x = yaml_document_get_node(l->doc, *it);
        const char *ename = scalar(map_get(l, x, "name"));
        if (!ename)
            return ferr(l, x, "rule", r->name, "exception without 'name'");
        dexc *e = NULL;
        for (size_t i = 0; i < r->nexc; i++)
            if (!strcmp(r->exc[i].name, ename))
                e = &r->exc[i];
        yaml_node_t *fn = map_get(l, x, "fields");
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
            yaml_node_t *cn = map_get(l, x, "comps");
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
static char *exceptions_text(const drule *r)
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

static void rule_sync_info(drule *r)
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

static int load_rule(ldr *l, yaml_node_t *item, const char *name)
{
    mm_ruleset *rs = l->rs;
    bool append = false;
    yaml_node_t *a = map_get(l, item, "append");
    if (a && get_bool(l, a, &append, "rule", name, "append"))
        return MM_EFORMAT;
    ovr keys[] = {{"condition", 0}, {"output", 0}, {"desc", 0}, {"priority", 0},
                  {"tags", 0}, {"exceptions", 0}, {"enabled", 0}, {"source", 0},
                  {"action", 0}};
    enum { K_COND, K_OUT, K_DESC, K_PRI, K_TAGS, K_EXC, K_EN, K_SRC, K_ACT };
    yaml_node_t *ov = map_get(l, item, "override");
    if (get_override(l, item, ov, keys, sizeof keys / sizeof keys[0], "rule", name))
        return MM_EFORMAT;
    if (keys[K_PRI].mode == 1 || keys[K_EN].mode == 1 || keys[K_SRC].mode == 1)
        return ferr(l, ov, "rule", name, "priority, enabled and source can only be replaced");
    size_t ix = (size_t)(uintptr_t)mm_map_get(rs->rule_ix, name);
    yaml_node_t *cn = map_get(l, item, "condition");
    yaml_node_t *on = map_get(l, item, "output");
    yaml_node_t *dn = map_get(l, item, "desc");
    yaml_node_t *pn = map_get(l, item, "priority");
    yaml_node_t *tn = map_get(l, item, "tags");
    yaml_node_t *en = map_get(l, item, "enabled");
    yaml_node_t *sn = map_get(l, item, "source");
    yaml_node_t *xn = map_get(l, item, "exceptions");
    yaml_node_t *an = map_get(l, item, "action");
    yaml_node_t *kn = map_get(l, item, "skip-if-unknown-filter");

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
            r->cond_line = line_of(cn);
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
                exc_free(&r->exc[i]);
            r->nexc = 0;
        }
        if (xm && load_exceptions(l, r, xn, xm == 1))
            return MM_EFORMAT;
        rule_sync_info(r);
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
        rule_free(r);
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
    r->cond_line = line_of(cn);
    r->output = mm_xstrdup(scalar(on));
    r->desc = mm_xstrdup(scalar(dn));
    r->source = mm_xstrdup(scalar(sn) ? scalar(sn) : "syscall");
    r->file = mm_xstrdup(l->file);
    r->info.line = line_of(item);
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
    rule_sync_info(r);
    if (load_exceptions(l, r, xn, false))
        return MM_EFORMAT;
    return 0;
}

static int load_doc(ldr *l, yaml_node_t *root)
{
    if (!root || is_plain_null(root))
        return 0;
    if (root->type != YAML_SEQUENCE_NODE)
        return ferr(l, root, NULL, NULL, "a rules file is a list of rules, macros and lists");
    for (yaml_node_item_t *it = root->data.sequence.items.start; it < root->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(l->doc, *it);
        if (!item || item->type != YAML_MAPPING_NODE)
            return ferr(l, item, NULL, NULL, "expected a mapping (rule, macro or list)");
        yaml_node_t *n;
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
            warn(l->rs, "%s:%d: required_plugin_versions ignored (no plugins: container "
                 "metadata comes from mamori's own sensor)", l->file, line_of(n));
        } else {
            yaml_node_pair_t *p = item->data.mapping.pairs.start;
            const char *k = p < item->data.mapping.pairs.top
                ? scalar(yaml_document_get_node(l->doc, p->key)) : NULL;
            warn(l->rs, "%s:%d: unknown item '%s' ignored", l->file, line_of(item), k ? k : "?");
        }
        if (rc)
            return rc;
    }
    return 0;
}

int mm_ruleset_load_string(mm_ruleset *rs, const char *name, const char *yaml, size_t len)
{
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p))
        return mm_error_set(MM_ENOMEM, "%s: cannot initialise the YAML parser", name);
    yaml_parser_set_input_string(&p, (const unsigned char *)yaml, len);
    ldr l = {rs, NULL, name};
    int rc = 0;
    for (int docs = 0;; docs++) {
        yaml_document_t doc;
        if (!yaml_parser_load(&p, &doc)) {
            rc = mm_error_set(MM_EFORMAT, "%s:%zu: YAML error: %s", name,
                              p.problem_mark.line + 1, p.problem ? p.problem : "syntax");
            break;
        }
        yaml_node_t *root = yaml_document_get_root_node(&doc);
        if (!root) {
            yaml_document_delete(&doc);
            break;
        }
        l.doc = &doc;
        rc = load_doc(&l, root);
        yaml_document_delete(&doc);
        if (rc || docs > 100)
            break;
    }
    yaml_parser_delete(&p);
    rs->compiled = false;
    return rc;
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
            warn(rs, "%s:%d: rule '%s': output field '%s' is <NA> under the %s source: %s",
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
            warn(rs, "%s:%d: macro '%s' ignored: condition: %s", m->file, m->line, m->name,
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
            warn(rs, "%s:%d: rule '%s' skipped: %s", r->file, r->info.line, r->name, r->reason);
            rule_sync_info(r);
            continue;
        }
        char *exc = exceptions_text(r);
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
            warn(rs, "%s:%d: rule '%s' disabled: %s", r->file, cline, r->name, r->reason);
            strict_note(rs, &st, MM_EFORMAT, "%s:%d: rule '%s': %s", r->file, cline, r->name,
                        r->reason);
            rule_sync_info(r);
            continue;
        }
        mm_buf_clear(&rs->unknown_types);
        if (mm_cond_compile(&r->node, a, &defs) < 0)
            snprintf(why, sizeof why, "%s", mm_error_last());
        mm_cond_ast_free(a);
        if (r->node && rs->unknown_types.len)
            warn(rs, "%s:%d: rule '%s': evt.type %s not an event mamori produces", r->file,
                 r->info.line, r->name, rs->unknown_types.data);
        if (r->node && compile_output(r) < 0) {
            rule_uncompile(r);
            snprintf(why, sizeof why, "output: %s", mm_error_last());
        }
        if (!r->node) {
            r->info.disabled = true;
            r->reason = mm_xstrdup(why);
            warn(rs, "%s:%d: rule '%s' disabled: %s%s", r->file, r->info.line, r->name, why,
                 r->skip_unknown ? " (skip-if-unknown-filter)" : "");
            if (!r->skip_unknown)
                strict_note(rs, &st, MM_EFORMAT, "%s:%d: rule '%s': %s", r->file,
                            r->info.line, r->name, why);
            rule_sync_info(r);
            continue;
        }
        r->runnable = true;
        rule_sync_info(r);
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
            warn(rs, "%s:%d: rule '%s' disabled: %s", r->file, r->info.line, r->name, r->reason);
            strict_note(rs, &st, MM_EFORMAT, "%s:%d: rule '%s': %s", r->file, r->info.line,
                        r->name, r->reason);
            rule_sync_info(r);
            continue;
        }
        if (rs->caps && source_check(rs, r, types) < 0) {
            rule_uncompile(r);
            r->info.disabled = true;
            r->info.unsupported_source = true;
            warn(rs, "%s:%d: rule '%s' disabled: unsupported by the %s source: %s", r->file,
                 r->info.line, r->name, rs->caps->name, r->reason);
            strict_note(rs, &st, MM_EUNSUPPORTED, "%s:%d: rule '%s': unsupported by the %s "
                        "source: %s", r->file, r->info.line, r->name, rs->caps->name, r->reason);
            rule_sync_info(r);
            continue;
        }
        if (!audit && cnt == MM_EVT__COUNT - 2)
            warn(rs, "%s:%d: rule '%s' does not restrict evt.type: it runs on every event",
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
