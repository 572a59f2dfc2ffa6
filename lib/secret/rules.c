/*
 * secret/rules.c - the secret rules as data: loading rule documents (YAML,
 * docs/secret-rules.md), merging user files over the built-in set (add,
 * replace by id, disable), and compiling the result: one PCRE2 program per
 * rule (JIT when the platform has it) and one Vectorscan literal database
 * of every rule keyword, which is the prefilter the matcher runs over all
 * bytes.  Rule files are user input: every error names the file and line,
 * sizes and counts are capped, and regexes run with match limits.
 *
 * Length: loading, merging and compiling one rule set share the rule
 * structures and their freeing; each is a section.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hs/hs.h>
#include <jansson.h>

#include "secret/secret_int.h"
#include "util/util.h"

struct mm_sr_set {
    mm_sr_rule *rules;
    size_t nrules, caprules;
    mm_sr_allow *allow;     /* global allow rules */
    size_t nallow;
    /* compiled */
    bool compiled;
    hs_database_t *db;
    char **kw;              /* unique lower-case keywords = pattern ids */
    size_t nkw;
    uint32_t **kwrules;     /* rules of each keyword */
    size_t *nkwrules;
    uint32_t *nokw;         /* rules without keywords */
    size_t nnokw;
};

/* --- freeing ----------------------------------------------------------------- */
static void allow_clear(mm_sr_allow *a)
{
    free(a->id);
    free(a->description);
    free(a->regex_src);
    free(a->path_src);
    free(a->source);
    pcre2_code_free(a->regex);
    pcre2_code_free(a->path);
    memset(a, 0, sizeof *a);
}

static void rule_clear(mm_sr_rule *r)
{
    free(r->id);
    free(r->title);
    free(r->category);
    free(r->description);
    mm_strv_free(r->keywords, r->nkeywords);
    free(r->regex_src);
    pcre2_code_free(r->regex);
    free(r->group_name);
    for (size_t i = 0; i < r->nallow; i++)
        allow_clear(&r->allow[i]);
    free(r->allow);
    mm_strv_free(r->tp, r->ntp);
    mm_strv_free(r->fp, r->nfp);
    free(r->source);
    memset(r, 0, sizeof *r);
}

static void compiled_clear(mm_sr_set *s)
{
    if (s->db)
        hs_free_database(s->db);
    s->db = NULL;
    mm_strv_free(s->kw, s->nkw);
    for (size_t i = 0; i < s->nkw; i++)
        free(s->kwrules[i]);
    free(s->kwrules);
    free(s->nkwrules);
    free(s->nokw);
    s->kw = NULL;
    s->kwrules = NULL;
    s->nkwrules = NULL;
    s->nokw = NULL;
    s->nkw = s->nnokw = 0;
    s->compiled = false;
}

mm_sr_set *mm_sr_set_new(void)
{
    return mm_xcalloc(1, sizeof(mm_sr_set));
}

void mm_sr_set_free(mm_sr_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->nrules; i++)
        rule_clear(&s->rules[i]);
    free(s->rules);
    for (size_t i = 0; i < s->nallow; i++)
        allow_clear(&s->allow[i]);
    free(s->allow);
    compiled_clear(s);
    free(s);
}

size_t mm_sr_set_count(const mm_sr_set *s) { return s->nrules; }
const mm_sr_rule *mm_sr_set_rule(const mm_sr_set *s, size_t i) { return &s->rules[i]; }
size_t mm_sr_set_allow_count(const mm_sr_set *s) { return s->nallow; }
const mm_sr_allow *mm_sr_set_allow(const mm_sr_set *s, size_t i) { return &s->allow[i]; }
const void *mm_sr_set_hsdb(const mm_sr_set *s) { return s->db; }

const mm_sr_rule *mm_sr_set_find(const mm_sr_set *s, const char *id)
{
    for (size_t i = 0; i < s->nrules; i++)
        if (!strcmp(s->rules[i].id, id))
            return &s->rules[i];
    return NULL;
}

void mm_sr_set_keyword(const mm_sr_set *s, unsigned k, const uint32_t **rules,
                       size_t *nrules, size_t *kwlen)
{
    *rules = s->kwrules[k];
    *nrules = s->nkwrules[k];
    *kwlen = strlen(s->kw[k]);
}

void mm_sr_set_nokw(const mm_sr_set *s, const uint32_t **rules, size_t *n)
{
    *rules = s->nokw;
    *n = s->nnokw;
}

double mm_sr_entropy(const char *str, size_t n)
{
    if (!n)
        return 0;
    size_t cnt[256] = {0};
    for (size_t i = 0; i < n; i++)
        cnt[(unsigned char)str[i]]++;
    double h = 0;
    for (int c = 0; c < 256; c++) {
        if (!cnt[c])
            continue;
        double p = (double)cnt[c] / (double)n;
        h -= p * log2(p);
    }
    return h;
}

/* --- YAML helpers ------------------------------------------------------------- */
/* The file is read by the one YAML loader of lib/util with every scalar as
 * its text; that loader refuses repeated keys (a key given twice would
 * silently replace the first value) and keys with NUL bytes. */
typedef struct ldr {
    mm_yaml_posmap *pm;
    const char *name;
    mm_sr_warn_fn warn;
    void *ud;
} ldr;

/* A value: its parent and its key (objects) or index (arrays). */
typedef mm_yaml_ref vref;

static size_t line_of(ldr *L, vref r)
{
    int line = 0;
    mm_yaml_pos_get(L->pm, r.parent, r.key, r.idx, &line, NULL);
    return (size_t)line;
}

/* An error at r: "NAME:LINE:COL: ...". */
#define ferr(L, ...) mm_yaml_ref_errf((L)->pm, (L)->name, MM_EFORMAT, __VA_ARGS__)

/* A scalar as a new string (NUL bytes refused). */
static int scalar(ldr *L, vref r, const char *what, char **out)
{
    return mm_yaml_get_str(L->pm, L->name, r.parent, r.key, r.idx, what, 0, out);
}

static int str_list(ldr *L, vref r, const char *what, size_t max, char ***v, size_t *nv)
{
    return mm_yaml_get_strlist(L->pm, L->name, r.parent, r.key, r.idx, what, max, 0, 0, v,
                               nv);
}

static bool id_ok(const char *id)
{
    if (!*id || strlen(id) > 128)
        return false;
    for (const char *c = id; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
              (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' || *c == '.'))
            return false;
    return true;
}

/* --- allow rules ------------------------------------------------------------- */
static int parse_allow(ldr *L, vref n, mm_sr_allow *a)
{
    memset(a, 0, sizeof *a);
    a->line = line_of(L, n);
    a->source = mm_xstrdup(L->name);
    const json_t *m = mm_yaml_ref_get(n);
    if (!json_is_object(m)) {
        allow_clear(a);
        return ferr(L, n, "allow rule: expected a mapping with regex and/or path");
    }
    int rc = 0;
    const char *k;
    json_t *jv;
    json_object_foreach((json_t *)m, k, jv) {
        vref v = {m, k, 0};
        if (!strcmp(k, "id"))
            rc = scalar(L, v, "allow rule id", &a->id);
        else if (!strcmp(k, "description"))
            rc = scalar(L, v, "allow rule description", &a->description);
        else if (!strcmp(k, "regex"))
            rc = scalar(L, v, "allow rule regex", &a->regex_src);
        else if (!strcmp(k, "path"))
            rc = scalar(L, v, "allow rule path", &a->path_src);
        else
            rc = ferr(L, v, "allow rule: unknown key \"%s\" (id, description, regex, path)", k);
        if (rc < 0)
            break;
    }
    if (rc == 0 && !a->regex_src && !a->path_src)
        rc = ferr(L, n, "allow rule%s%s: needs a regex or a path", a->id ? " " : "",
                  a->id ? a->id : "");
    if (rc == 0 && a->id && !id_ok(a->id))
        rc = ferr(L, n, "allow rule id \"%s\": use letters, digits, '-', '_' and '.'", a->id);
    if (rc < 0)
        allow_clear(a);
    return rc;
}

static int parse_allow_list(ldr *L, vref n, mm_sr_allow **v, size_t *nv)
{
    const json_t *list = mm_yaml_ref_get(n);
    if (!json_is_array(list))
        return ferr(L, n, "allow-rules: expected a list");
    for (size_t i = 0; i < json_array_size(list); i++) {
        if (*nv >= MM_SR_MAX_RULES)
            return ferr(L, n, "allow-rules: more than %d entries", MM_SR_MAX_RULES);
        mm_sr_allow a;
        int rc = parse_allow(L, (vref){list, NULL, i}, &a);
        if (rc < 0)
            return rc;
        /* same id: replaced in place */
        size_t j = *nv;
        if (a.id)
            for (j = 0; j < *nv; j++)
                if ((*v)[j].id && !strcmp((*v)[j].id, a.id))
                    break;
        if (j == *nv) {
            *v = mm_xrealloc(*v, (*nv + 1) * sizeof **v);
            (*nv)++;
        } else {
            allow_clear(&(*v)[j]);
        }
        (*v)[j] = a;
    }
    return 0;
}

/* --- rules -------------------------------------------------------------------- */
static int parse_number(ldr *L, vref v, const char *what, double lo, double hi, double *out)
{
    char *s;
    int rc = scalar(L, v, what, &s);
    if (rc < 0)
        return rc;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    bool ok = end != s && !*end && errno == 0 && d >= lo && d <= hi;
    free(s);
    if (!ok)
        return ferr(L, v, "%s: expected a number from %g to %g", what, lo, hi);
    *out = d;
    return 0;
}

static int parse_examples(ldr *L, vref n, mm_sr_rule *r)
{
    const json_t *m = mm_yaml_ref_get(n);
    if (!json_is_object(m))
        return ferr(L, n, "rule %s: examples: expected true_positive and false_positive lists",
                    r->id ? r->id : "?");
    int rc = 0;
    const char *k;
    json_t *jv;
    json_object_foreach((json_t *)m, k, jv) {
        vref v = {m, k, 0};
        if (!strcmp(k, "true_positive") || !strcmp(k, "true-positive"))
            rc = str_list(L, v, "examples.true_positive", 1000, &r->tp, &r->ntp);
        else if (!strcmp(k, "false_positive") || !strcmp(k, "false-positive"))
            rc = str_list(L, v, "examples.false_positive", 1000, &r->fp, &r->nfp);
        else
            rc = ferr(L, v, "examples: unknown key \"%s\" (true_positive, false_positive)", k);
        if (rc < 0)
            break;
    }
    return rc;
}

static int unsupported_block(ldr *L, vref k)
{
    return mm_yaml_errf(L->pm, L->name, k.parent, k.key, k.idx, MM_EUNSUPPORTED,
                        "exclude-block is not supported: mamori scans files as streams, "
                        "not whole");
}

static int parse_rule(ldr *L, vref n, mm_sr_rule *r)
{
    memset(r, 0, sizeof *r);
    r->line = line_of(L, n);
    r->source = mm_xstrdup(L->name);
    const json_t *m = mm_yaml_ref_get(n);
    if (!json_is_object(m)) {
        rule_clear(r);
        return ferr(L, n, "rule: expected a mapping (id, title, severity, keywords, regex, ...)");
    }
    int rc = 0;
    bool have_sev = false;
    const char *k;
    json_t *jv;
    json_object_foreach((json_t *)m, k, jv) {
        vref v = {m, k, 0};
        if (!strcmp(k, "id")) {
            rc = scalar(L, v, "rule id", &r->id);
            if (rc == 0 && !id_ok(r->id))
                rc = ferr(L, v, "rule id \"%s\": use letters, digits, '-', '_' and '.'", r->id);
        } else if (!strcmp(k, "title")) {
            rc = scalar(L, v, "title", &r->title);
        } else if (!strcmp(k, "category")) {
            rc = scalar(L, v, "category", &r->category);
        } else if (!strcmp(k, "description")) {
            rc = scalar(L, v, "description", &r->description);
        } else if (!strcmp(k, "severity")) {
            char *s;
            rc = scalar(L, v, "severity", &s);
            if (rc == 0) {
                bool bad = mm_severity_parse(&r->severity, s) < 0 ||
                           r->severity == MM_SEV_UNKNOWN;
                if (bad)
                    rc = ferr(L, v, "severity \"%s\": expected LOW, MEDIUM, HIGH or CRITICAL", s);
                free(s);
                have_sev = rc == 0;
            }
        } else if (!strcmp(k, "keywords")) {
            rc = str_list(L, v, "keywords", MM_SR_MAX_KEYWORDS, &r->keywords, &r->nkeywords);
            for (size_t i = 0; rc == 0 && i < r->nkeywords; i++) {
                if (strlen(r->keywords[i]) < 2 || strlen(r->keywords[i]) > 256)
                    rc = ferr(L, v, "keyword \"%s\": 2 to 256 characters", r->keywords[i]);
                for (char *c = r->keywords[i]; *c; c++)
                    if (*c >= 'A' && *c <= 'Z')
                        *c = (char)(*c - 'A' + 'a');
            }
        } else if (!strcmp(k, "regex")) {
            rc = scalar(L, v, "regex", &r->regex_src);
            if (rc == 0 && (!*r->regex_src || strlen(r->regex_src) > MM_SR_MAX_REGEX))
                rc = ferr(L, v, "regex: 1 to %d bytes", MM_SR_MAX_REGEX);
        } else if (!strcmp(k, "secret-group-name")) {
            rc = scalar(L, v, "secret-group-name", &r->group_name);
        } else if (!strcmp(k, "entropy")) {
            rc = parse_number(L, v, "entropy", 0, 8, &r->entropy);
        } else if (!strcmp(k, "span")) {
            double d = 0;
            rc = parse_number(L, v, "span", 0, MM_SR_MAX_SPAN, &d);
            r->span = (uint32_t)d;
        } else if (!strcmp(k, "allow-rules")) {
            rc = parse_allow_list(L, v, &r->allow, &r->nallow);
        } else if (!strcmp(k, "examples")) {
            rc = parse_examples(L, v, r);
        } else if (!strcmp(k, "exclude-block")) {
            rc = unsupported_block(L, v);
        } else {
            rc = ferr(L, v, "rule: unknown key \"%s\" (id, title, severity, "
                      "category, description, keywords, regex, secret-group-name, entropy, "
                      "span, allow-rules, examples)", k);
        }
        if (rc < 0)
            break;
    }
    if (rc == 0 && !r->id)
        rc = ferr(L, n, "rule: no id");
    if (rc == 0 && !r->regex_src)
        rc = ferr(L, n, "rule %s: no regex", r->id);
    if (rc == 0 && !have_sev)
        rc = ferr(L, n, "rule %s: no severity (LOW, MEDIUM, HIGH or CRITICAL)", r->id);
    if (rc == 0 && !r->title)
        r->title = mm_xstrdup(r->id);
    if (rc == 0 && r->category && !strcasecmp(r->category, "generic"))
        r->generic = true;
    if (rc < 0)
        rule_clear(r);
    return rc;
}

static void add_rule(mm_sr_set *s, mm_sr_rule *r)
{
    for (size_t i = 0; i < s->nrules; i++) {
        if (!strcmp(s->rules[i].id, r->id)) {
            rule_clear(&s->rules[i]);
            s->rules[i] = *r;
            return;
        }
    }
    if (s->nrules == s->caprules) {
        s->caprules = s->caprules ? s->caprules * 2 : 128;
        s->rules = mm_xrealloc(s->rules, s->caprules * sizeof *s->rules);
    }
    s->rules[s->nrules++] = *r;
}

static void warnf(ldr *L, vref n, const char *what, const char *id)
{
    if (!L->warn)
        return;
    int line = 0, col = 0;
    mm_yaml_pos_get(L->pm, n.parent, n.key, n.idx, &line, &col);
    char *m = mm_xasprintf("%s:%d:%d: %s \"%s\"", L->name, line, col, what, id);
    L->warn(L->ud, m);
    free(m);
}

static int apply_doc(mm_sr_set *s, ldr *L, const json_t *root, bool builtin)
{
    if (json_is_null(root))
        return 0; /* an empty file changes nothing */
    if (!json_is_object(root))
        return ferr(L, (vref){NULL, NULL, 0}, "expected a mapping with rules, allow-rules, "
                    "disable-rules, ...");
    int rc = 0;
    /* Disabling refers to what exists after this file's rules are in, so
     * the lists are applied last. */
    vref dis = {0}, disallow = {0}, enable = {0};
    const char *k;
    json_t *jv;
    json_object_foreach((json_t *)root, k, jv) {
        vref v = {root, k, 0};
        if (!strcmp(k, "rules")) {
            if (!json_is_array(jv))
                return ferr(L, v, "rules: expected a list");
            for (size_t i = 0; rc == 0 && i < json_array_size(jv); i++) {
                if (s->nrules >= MM_SR_MAX_RULES)
                    return ferr(L, v, "rules: more than %d rules", MM_SR_MAX_RULES);
                mm_sr_rule r;
                rc = parse_rule(L, (vref){jv, NULL, i}, &r);
                if (rc == 0) {
                    r.builtin = builtin;
                    add_rule(s, &r);
                }
            }
        } else if (!strcmp(k, "allow-rules")) {
            rc = parse_allow_list(L, v, &s->allow, &s->nallow);
        } else if (!strcmp(k, "disable-rules")) {
            dis = v;
        } else if (!strcmp(k, "disable-allow-rules")) {
            disallow = v;
        } else if (!strcmp(k, "enable-builtin-rules")) {
            enable = v;
        } else if (!strcmp(k, "builtin-rules")) {
            char *b;
            rc = scalar(L, v, "builtin-rules", &b);
            if (rc < 0)
                return rc;
            bool off = !strcmp(b, "false") || !strcmp(b, "no") || !strcmp(b, "off");
            bool on = !strcmp(b, "true") || !strcmp(b, "yes") || !strcmp(b, "on");
            free(b);
            if (!off && !on)
                return ferr(L, v, "builtin-rules: expected true or false");
            if (off)
                for (size_t i = 0; i < s->nrules; i++)
                    if (s->rules[i].builtin)
                        s->rules[i].disabled = true;
        } else if (!strcmp(k, "version")) {
            char *ver;
            rc = scalar(L, v, "version", &ver);
            if (rc == 0 && strcmp(ver, "1"))
                rc = ferr(L, v, "version %s: only version 1 is known", ver);
            free(ver);
        } else if (!strcmp(k, "exclude-block")) {
            return unsupported_block(L, v);
        } else {
            return ferr(L, v, "unknown key \"%s\" (version, rules, allow-rules, "
                        "disable-rules, disable-allow-rules, enable-builtin-rules, "
                        "builtin-rules)", k);
        }
        if (rc < 0)
            break;
    }
    if (rc < 0)
        return rc;
    char **ids = NULL;
    size_t nids = 0;
    if (dis.parent) {
        rc = str_list(L, dis, "disable-rules", MM_SR_MAX_RULES, &ids, &nids);
        for (size_t i = 0; rc == 0 && i < nids; i++) {
            bool found = false;
            for (size_t j = 0; j < s->nrules; j++)
                if (!strcmp(s->rules[j].id, ids[i]))
                    s->rules[j].disabled = found = true;
            if (!found)
                warnf(L, dis, "disable-rules: no rule", ids[i]);
        }
        mm_strv_free(ids, nids);
        ids = NULL;
        nids = 0;
    }
    if (rc == 0 && disallow.parent) {
        rc = str_list(L, disallow, "disable-allow-rules", MM_SR_MAX_RULES, &ids, &nids);
        for (size_t i = 0; rc == 0 && i < nids; i++) {
            bool found = false;
            for (size_t j = 0; j < s->nallow;) {
                if (s->allow[j].id && !strcmp(s->allow[j].id, ids[i])) {
                    allow_clear(&s->allow[j]);
                    memmove(&s->allow[j], &s->allow[j + 1],
                            (s->nallow - j - 1) * sizeof *s->allow);
                    s->nallow--;
                    found = true;
                } else {
                    j++;
                }
            }
            for (size_t r = 0; r < s->nrules; r++) {
                mm_sr_rule *ru = &s->rules[r];
                for (size_t j = 0; j < ru->nallow;) {
                    if (ru->allow[j].id && !strcmp(ru->allow[j].id, ids[i])) {
                        allow_clear(&ru->allow[j]);
                        memmove(&ru->allow[j], &ru->allow[j + 1],
                                (ru->nallow - j - 1) * sizeof *ru->allow);
                        ru->nallow--;
                        found = true;
                    } else {
                        j++;
                    }
                }
            }
            if (!found)
                warnf(L, disallow, "disable-allow-rules: no allow rule", ids[i]);
        }
        mm_strv_free(ids, nids);
        ids = NULL;
        nids = 0;
    }
    if (rc == 0 && enable.parent) {
        /* only the listed built-in rules stay on */
        rc = str_list(L, enable, "enable-builtin-rules", MM_SR_MAX_RULES, &ids, &nids);
        for (size_t j = 0; rc == 0 && j < s->nrules; j++) {
            if (!s->rules[j].builtin)
                continue;
            bool keep = false;
            for (size_t i = 0; i < nids; i++)
                if (!strcmp(s->rules[j].id, ids[i]))
                    keep = true;
            if (!keep)
                s->rules[j].disabled = true;
        }
        mm_strv_free(ids, nids);
    }
    return rc;
}

int mm_sr_set_load(mm_sr_set *s, const char *name, const char *text, size_t len,
                   bool builtin, mm_sr_warn_fn warn, void *ud)
{
    if (len > MM_SR_MAX_FILE)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, over the %u-byte limit of a rule file",
                            name, len, MM_SR_MAX_FILE);
    compiled_clear(s);
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.first_doc_only = true;
    ldr L = {.pm = mm_yaml_posmap_new(), .name = name, .warn = warn, .ud = ud};
    json_t *root = NULL;
    int rc = mm_yaml_load_one(&root, text ? text : "", len, name, &lim, L.pm);
    if (rc == 0)
        rc = apply_doc(s, &L, root, builtin);
    json_decref(root);
    mm_yaml_posmap_free(L.pm);
    return rc;
}

int mm_sr_set_load_file(mm_sr_set *s, const char *path, mm_sr_warn_fn warn, void *ud)
{
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, MM_SR_MAX_FILE, &data, &len);
    if (rc < 0)
        return mm_error_wrap(rc, "secret rule file: ");
    rc = mm_sr_set_load(s, path, data, len, false, warn, ud);
    free(data);
    return rc;
}

int mm_sr_set_load_builtin(mm_sr_set *s)
{
    return mm_sr_set_load(s, "builtin:secret-rules.yaml", mm_sr_builtin_yaml,
                          mm_sr_builtin_yaml_len, true, NULL, NULL);
}

/* --- compilation ------------------------------------------------------------------ */
static int compile_re(const char *src, const char *file, size_t line, const char *what,
                      pcre2_code **out)
{
    int err;
    PCRE2_SIZE off;
    /* Bytes, not UTF-8: files are arbitrary; NEVER_UTF keeps a rule from
     * switching the mode on with (*UTF). */
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
                                   PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C, &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        return mm_error_set(MM_EFORMAT, "%s:%zu: %s: regex error at offset %zu: %s",
                            file, line, what, (size_t)off, (const char *)msg);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    *out = re;
    return 0;
}

static int compile_allow(mm_sr_allow *a)
{
    const char *file = a->source;
    char what[300];
    snprintf(what, sizeof what, "allow rule %s", a->id ? a->id : "(no id)");
    if (a->regex_src && !a->regex) {
        int rc = compile_re(a->regex_src, file, a->line, what, &a->regex);
        if (rc < 0)
            return rc;
    }
    if (a->path_src && !a->path) {
        int rc = compile_re(a->path_src, file, a->line, what, &a->path);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static hs_database_t *build_db(mm_sr_set *s, char **err)
{
    const char **exprs = mm_xcalloc(s->nkw, sizeof *exprs);
    unsigned *flags = mm_xcalloc(s->nkw, sizeof *flags);
    unsigned *ids = mm_xcalloc(s->nkw, sizeof *ids);
    size_t *lens = mm_xcalloc(s->nkw, sizeof *lens);
    for (size_t i = 0; i < s->nkw; i++) {
        exprs[i] = s->kw[i];
        flags[i] = HS_FLAG_CASELESS;
        ids[i] = (unsigned)i;
        lens[i] = strlen(s->kw[i]);
    }
    hs_database_t *db = NULL;
    hs_compile_error_t *ce = NULL;
    if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)s->nkw, HS_MODE_BLOCK,
                             NULL, &db, &ce) != HS_SUCCESS) {
        *err = mm_xstrdup(ce && ce->message ? ce->message : "unknown error");
        hs_free_compile_error(ce);
        db = NULL;
    }
    free(exprs);
    free(flags);
    free(ids);
    free(lens);
    return db;
}

int mm_sr_set_compile(mm_sr_set *s)
{
    compiled_clear(s);
    int rc = 0;
    for (size_t i = 0; i < s->nallow && rc == 0; i++)
        rc = compile_allow(&s->allow[i]);
    mm_map *kwidx = mm_map_new();
    for (size_t i = 0; i < s->nrules && rc == 0; i++) {
        mm_sr_rule *r = &s->rules[i];
        if (r->disabled)
            continue;
        if (!r->regex) {
            char what[200];
            snprintf(what, sizeof what, "rule %s", r->id);
            rc = compile_re(r->regex_src, r->source, r->line, what, &r->regex);
            if (rc < 0)
                break;
        }
        for (size_t j = 0; j < r->nallow && rc == 0; j++)
            rc = compile_allow(&r->allow[j]);
        if (rc < 0)
            break;
        r->group = 0;
        const char *gname = r->group_name ? r->group_name : "secret";
        int g = pcre2_substring_number_from_name(r->regex, (PCRE2_SPTR)gname);
        if (g > 0)
            r->group = g;
        else if (r->group_name) {
            rc = mm_error_set(MM_EFORMAT, "%s:%zu: rule %s: secret-group-name \"%s\" is not "
                              "a named group of its regex", r->source, r->line, r->id,
                              r->group_name);
            break;
        }
        if (!r->nkeywords) {
            s->nokw = mm_xrealloc(s->nokw, (s->nnokw + 1) * sizeof *s->nokw);
            s->nokw[s->nnokw++] = (uint32_t)i;
            continue;
        }
        for (size_t k = 0; k < r->nkeywords; k++) {
            void *v = mm_map_get(kwidx, r->keywords[k]);
            size_t idx;
            if (!v) {
                idx = s->nkw;
                mm_strv_push(&s->kw, &s->nkw, r->keywords[k]);
                s->kwrules = mm_xrealloc(s->kwrules, s->nkw * sizeof *s->kwrules);
                s->nkwrules = mm_xrealloc(s->nkwrules, s->nkw * sizeof *s->nkwrules);
                s->kwrules[idx] = NULL;
                s->nkwrules[idx] = 0;
                mm_map_put(kwidx, r->keywords[k], (void *)(uintptr_t)(idx + 1));
            } else {
                idx = (size_t)(uintptr_t)v - 1;
            }
            /* a rule listed once per keyword */
            bool dup = false;
            for (size_t q = 0; q < s->nkwrules[idx]; q++)
                if (s->kwrules[idx][q] == (uint32_t)i)
                    dup = true;
            if (dup)
                continue;
            s->kwrules[idx] = mm_xrealloc(s->kwrules[idx],
                                          (s->nkwrules[idx] + 1) * sizeof **s->kwrules);
            s->kwrules[idx][s->nkwrules[idx]++] = (uint32_t)i;
        }
    }
    mm_map_free(kwidx, NULL);
    if (rc == 0 && s->nkw) {
        char *err = NULL;
        s->db = build_db(s, &err);
        if (!s->db) {
            rc = mm_error_set(MM_EFORMAT, "secret rules: keyword database: %s", err);
            free(err);
        }
    }
    if (rc < 0) {
        compiled_clear(s);
        return rc;
    }
    s->compiled = true;
    return 0;
}

int mm_sr_set_from_opts(mm_sr_set **out, const mm_secret_opts *o, mm_sr_warn_fn warn,
                        void *ud)
{
    *out = NULL;
    mm_secret_opts dflt;
    if (!o) {
        mm_secret_opts_init(&dflt);
        o = &dflt;
    }
    mm_sr_set *s = mm_sr_set_new();
    int rc = 0;
    if (!o->no_builtin_rules)
        rc = mm_sr_set_load_builtin(s);
    for (size_t i = 0; rc == 0 && i < o->nconfig_paths; i++)
        rc = mm_sr_set_load_file(s, o->config_paths[i], warn, ud);
    if (rc == 0)
        rc = mm_sr_set_compile(s);
    if (rc < 0) {
        mm_sr_set_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* --- public options ---------------------------------------------------------------- */
void mm_secret_opts_init(mm_secret_opts *o)
{
    memset(o, 0, sizeof *o);
}

struct mm_secret_rules {
    mm_sr_set *set;
    char **warnings;
    size_t nwarnings;
};

static void keep_warning(void *ud, const char *msg)
{
    mm_secret_rules *r = ud;
    mm_strv_push(&r->warnings, &r->nwarnings, msg);
}

int mm_secret_rules_new(mm_secret_rules **out, const mm_secret_opts *o)
{
    if (!out)
        return mm_error_set(MM_EINVAL, "secret rules: no output");
    *out = NULL;
    mm_secret_rules *r = mm_xcalloc(1, sizeof *r);
    int rc = mm_sr_set_from_opts(&r->set, o, keep_warning, r);
    if (rc < 0) {
        mm_secret_rules_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void mm_secret_rules_free(mm_secret_rules *r)
{
    if (!r)
        return;
    mm_sr_set_free(r->set);
    mm_strv_free(r->warnings, r->nwarnings);
    free(r);
}

size_t mm_secret_rules_warning_count(const mm_secret_rules *r)
{
    return r ? r->nwarnings : 0;
}

const char *mm_secret_rules_warning(const mm_secret_rules *r, size_t i)
{
    return r && i < r->nwarnings ? r->warnings[i] : NULL;
}

const mm_sr_set *mm_sr_rules_set(const mm_secret_rules *r)
{
    return r->set;
}

int mm_secret_check(const mm_secret_opts *o)
{
    mm_secret_rules *r = NULL;
    int rc = mm_secret_rules_new(&r, o);
    mm_secret_rules_free(r);
    return rc;
}
