/*
 * secret/analyzer.c - the clear-text secret scanner (NIST SP 800-190
 * §3.1.4) as an analyzer of the single pass over the layers.
 *
 * Every regular file of every layer streams through the matcher
 * (engine.c), including versions that a later layer deletes or replaces:
 * they still ship in the image and anyone with the image can read them.
 * Matches wait until finish(), which knows from the merged tree whether
 * the file is still visible (the title then says it was removed), and
 * which also scans the image config: Env, Labels and the history's
 * created_by lines.  Evidence is always the masked secret; the layer's
 * instruction is redacted too, because a build that did `ENV KEY=...`
 * wrote the secret into it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "secret/analyzer.h"
#include "secret/secret_int.h"
#include "util/util.h"

#define MAX_PER_FILE 100
#define MAX_PENDING  100000

static const char *const REFS[] = {
    "https://nvlpubs.nist.gov/nistpubs/SpecialPublications/NIST.SP.800-190.pdf",
};

static const char REMEDIATION[] =
    "Remove the secret from the image and rotate it: it stays readable in the layer "
    "that added it even when a later layer deletes the file. Give secrets to the "
    "container at run time (a mounted file or a secret store) and to builds with "
    "build secrets (RUN --mount=type=secret), never with COPY, ENV or ARG.";

typedef struct pending {
    const mm_sr_rule *rule;
    char *path;        /* image-absolute, NULL for the config */
    char *evidence;
    char *where;       /* config part ("Env", "Labels", "history"), or NULL */
    int layer;
    size_t line;
} pending;

typedef struct sc_state {
    const mm_sr_set *set;   /* borrowed from the scan options */
    mm_sr_scanner *sc;
    bool scan_binaries;
    /* the current file */
    const char *rel;
    int layer;
    size_t nfile;
    /* what was found */
    pending *pend;
    size_t npend, cappend;
    uint64_t ndropped, ncapped;
    char *capped_example;
    /* for a config part being scanned */
    const char *where;
    const char *label;
    int cfg_layer;
    mm_actx *cx;
} sc_state;

static void state_free(sc_state *s)
{
    if (!s)
        return;
    mm_sr_scanner_free(s->sc);
    for (size_t i = 0; i < s->npend; i++) {
        free(s->pend[i].path);
        free(s->pend[i].evidence);
        free(s->pend[i].where);
    }
    free(s->pend);
    free(s->capped_example);
    free(s);
}

static int sc_create(void **state, mm_actx *cx, const void *config)
{
    *state = NULL;
    const mm_secret_config *c = config;
    if (!c || !c->rules)
        return mm_error_set(MM_EINVAL, "no compiled secret rules given");
    sc_state *s = mm_xcalloc(1, sizeof *s);
    s->cx = cx;
    s->scan_binaries = c->scan_binaries;
    s->set = mm_sr_rules_set(c->rules);
    /* what loading the rules had to say belongs to every scan using them */
    for (size_t i = 0; i < mm_secret_rules_warning_count(c->rules); i++)
        mm_actx_warn(cx, "%s", mm_secret_rules_warning(c->rules, i));
    int rc = mm_sr_scanner_new(&s->sc, s->set);
    if (rc < 0) {
        state_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

static void push(sc_state *s, const mm_sr_rule *r, const char *path, const char *evidence,
                 const char *where, int layer, size_t line)
{
    if (s->npend >= MAX_PENDING) {
        s->ndropped++;
        return;
    }
    if (s->npend == s->cappend) {
        s->cappend = s->cappend ? s->cappend * 2 : 64;
        s->pend = mm_xrealloc(s->pend, s->cappend * sizeof *s->pend);
    }
    pending *p = &s->pend[s->npend++];
    p->rule = r;
    p->path = path ? mm_xasprintf("/%s", path) : NULL;
    p->evidence = mm_xstrdup(evidence);
    p->where = mm_xstrdup(where);
    p->layer = layer;
    p->line = line;
}

static int on_file_match(void *ud, const mm_sr_match *m)
{
    sc_state *s = ud;
    if (s->nfile >= MAX_PER_FILE) {
        if (!s->ncapped++)
            s->capped_example = mm_xasprintf("/%s", s->rel);
        return 1;
    }
    s->nfile++;
    char *ev = mm_secret_mask(m->secret, m->secret_len);
    push(s, m->rule, s->rel, ev, NULL, s->layer, m->line);
    free(ev);
    return 0;
}

static mm_want sc_wants(void *state, const mm_entry *e)
{
    sc_state *s = state;
    if (!s || e->type != MM_ENT_REG || e->size == 0)
        return MM_WANT_NONE;
    s->rel = e->path;
    s->layer = e->layer;
    s->nfile = 0;
    mm_sr_scanner_begin(s->sc, e->path, s->scan_binaries, on_file_match, s);
    return MM_WANT_STREAM;
}

static int sc_chunk(void *state, mm_actx *cx, const mm_entry *e, uint64_t off,
                    const uint8_t *d, size_t n)
{
    sc_state *s = state;
    int rc = mm_sr_scanner_feed(s->sc, d, n);
    if (rc < 0)
        return mm_error_wrap(rc, "/%s (layer %d): ", e->path, e->layer);
    return rc;
}

static int sc_end(void *state, mm_actx *cx, const mm_entry *e)
{
    sc_state *s = state;
    int rc = mm_sr_scanner_end(s->sc);
    if (rc < 0)
        return mm_error_wrap(rc, "/%s (layer %d): ", e->path, e->layer);
    return 0;
}

/* --- the image config --------------------------------------------------------- */
static int on_cfg_match(void *ud, const mm_sr_match *m)
{
    sc_state *s = ud;
    char *mask = mm_secret_mask(m->secret, m->secret_len);
    char *ev = mm_xasprintf("%s%s%s: %s", s->where, s->label ? " " : "",
                            s->label ? s->label : "", mask);
    push(s, m->rule, NULL, ev, s->where, s->cfg_layer, 0);
    free(mask);
    free(ev);
    return 0;
}

static int scan_text(sc_state *s, const char *where, const char *label, int layer,
                     const char *text)
{
    if (!text || !*text)
        return 0;
    s->where = where;
    s->label = label;
    s->cfg_layer = layer;
    return mm_sr_scan_buffer(s->sc, NULL, text, strlen(text), true, on_cfg_match, s);
}

static int scan_config(sc_state *s, mm_actx *cx)
{
    const mm_image_info *im = mm_actx_image(cx);
    if (!im || !im->config_json)
        return 0;
    json_t *c = json_loads(im->config_json, 0, NULL);
    if (!c)
        return 0; /* the source already refused or warned about it */
    int rc = 0;
    json_t *cfg = json_object_get(c, "config");
    json_t *env = json_object_get(cfg, "Env");
    size_t i;
    json_t *v;
    json_array_foreach(env, i, v) {
        const char *e = json_string_value(v);
        if (!e)
            continue;
        const char *eq = strchr(e, '=');
        char *name = mm_xstrndup(e, eq ? (size_t)(eq - e) : strlen(e));
        rc = scan_text(s, "Env", name, -1, e);
        free(name);
        if (rc < 0)
            goto out;
    }
    json_t *labels = json_object_get(cfg, "Labels");
    const char *k;
    json_object_foreach(labels, k, v) {
        const char *val = json_string_value(v);
        if (!val)
            continue;
        char *kv = mm_xasprintf("%s=%s", k, val);
        rc = scan_text(s, "Labels", k, -1, kv);
        free(kv);
        if (rc < 0)
            goto out;
    }
    /* history entries that made a layer map to the layers in order */
    json_t *hist = json_object_get(c, "history");
    int layer = 0;
    json_array_foreach(hist, i, v) {
        bool empty = json_is_true(json_object_get(v, "empty_layer"));
        const char *cb = json_string_value(json_object_get(v, "created_by"));
        char label[32];
        snprintf(label, sizeof label, "[%zu]", i);
        rc = scan_text(s, "history", label, empty ? -1 : layer, cb);
        if (rc < 0)
            goto out;
        if (!empty)
            layer++;
    }
out:
    json_decref(c);
    return rc;
}

/* --- the findings ---------------------------------------------------------------- */
static int sc_finish(void *state, mm_actx *cx)
{
    sc_state *s = state;
    if (!s)
        return 0;
    int rc = scan_config(s, cx);
    if (rc < 0)
        return rc;
    const mm_tree *tree = mm_actx_tree(cx);
    mm_map *instr = mm_map_new(); /* layer -> redacted instruction */
    for (size_t i = 0; i < s->npend; i++) {
        pending *p = &s->pend[i];
        const mm_sr_rule *r = p->rule;
        char *title;
        if (p->where) {
            title = mm_xasprintf("%s in the image config (%s)", r->title, p->where);
        } else {
            const mm_node *n = tree ? mm_tree_get(tree, p->path + 1) : NULL;
            if (!n || n->layer != p->layer)
                title = mm_xasprintf("%s (in a file that a later layer removes or "
                                     "replaces: still shipped in layer %d)", r->title,
                                     p->layer);
            else
                title = mm_xstrdup(r->title);
        }
        char *ins = NULL;
        if (p->layer >= 0) {
            char key[16];
            snprintf(key, sizeof key, "%d", p->layer);
            ins = mm_map_get(instr, key);
            if (!ins) {
                const char *raw = mm_actx_layer_instruction(cx, p->layer);
                ins = raw ? mm_sr_redact(s->sc, raw) : mm_xstrdup("");
                mm_map_put(instr, key, ins);
            }
        }
        mm_finding f;
        memset(&f, 0, sizeof f);
        f.id = r->id;
        f.kind = MM_FIND_SECRET;
        f.severity = r->severity;
        f.title = title;
        f.loc.layer = p->layer;
        f.loc.layer_digest = p->layer >= 0 ? (char *)mm_actx_layer_digest(cx, p->layer) : NULL;
        f.loc.instruction = ins && *ins ? ins : NULL;
        f.loc.path = p->path;
        f.loc.line = (int)p->line;
        f.evidence = p->evidence;
        f.remediation = (char *)REMEDIATION;
        f.references = (char **)REFS;
        f.nreferences = sizeof REFS / sizeof REFS[0];
        f.section = (char *)"3.1.4";
        rc = mm_findings_add(mm_actx_findings(cx), &f);
        free(title);
        if (rc < 0)
            break;
    }
    mm_map_free(instr, free);
    if (s->ncapped)
        mm_actx_warn(cx, "secret scanner: %llu file(s) with more than %d secrets, only the "
                     "first %d reported (e.g. %s)", (unsigned long long)s->ncapped,
                     MAX_PER_FILE, MAX_PER_FILE, s->capped_example);
    if (s->ndropped)
        mm_actx_warn(cx, "secret scanner: %llu more secrets not reported (over %d)",
                     (unsigned long long)s->ndropped, MAX_PENDING);
    return rc;
}

static void sc_destroy(void *state)
{
    state_free(state);
}

const mm_analyzer_ops mm_analyzer_secret = {
    .name = "secret",
    .create = sc_create,
    .wants = sc_wants,
    .chunk = sc_chunk,
    .end = sc_end,
    .finish = sc_finish,
    .destroy = sc_destroy,
};
