/*
 * cistest.c - the test half of kube-bench's check definitions, evaluated
 * as kube-bench evaluates them (check/test.go, check/check.go): a test
 * item names a flag (found in the audit command's output), a path (a
 * JSONPath into the audit_config output, read as JSON or YAML) or an env
 * name (VAR=value lines of the audit_env output); `set` (default true)
 * says whether it must be present; `compare` applies eq, noteq, gt, gte,
 * lt, lte, has, nothave, regex, valid_elements or bitmask; items combine
 * with bin_op and/or (default and); use_multiple_values applies an item to
 * every output line.  Flag values follow kube-bench's reading:
 * "--flag=v", "flag: v", "--flag v" (only when compared), a bare "--flag"
 * is "true".  Go's RE2 regexes run on PCRE2, whose syntax is a superset
 * of RE2's for what definitions use ((?: ), \d, \s, \/); since PCRE2
 * backtracks where RE2 does not, the pattern length and the match work
 * are capped (a regex comes from a definitions file, not always ours).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/cis_int.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* --- finding a value --------------------------------------------------------------------- */
static bool flag_value(const char *s, const char *flag, bool compared, char **val)
{
    *val = NULL;
    if (!s || !*s || !flag || !*flag)
        return false;
    const char *p = strstr(s, flag);
    if (!p)
        return false;
    size_t fl = strlen(flag);
    /* (FLAG)(=|: *)*([^\s]*) on the leftmost occurrence */
    const char *q = p + fl;
    for (;;) {
        if (*q == '=') {
            q++;
        } else if (*q == ':') {
            q++;
            while (*q == ' ')
                q++;
        } else {
            break;
        }
    }
    const char *e = q;
    while (*e && !is_space(*e))
        e++;
    if (e > q) {
        *val = mm_xstrndup(q, (size_t)(e - q));
        return true;
    }
    if (compared) {
        /* QuoteMeta(FLAG)\s+([^\s-][^\s]*), leftmost */
        for (const char *r = strstr(s, flag); r; r = strstr(r + 1, flag)) {
            const char *t = r + fl;
            if (!is_space(*t))
                continue;
            while (is_space(*t))
                t++;
            if (!*t || *t == '-')
                continue;
            const char *te = t;
            while (*te && !is_space(*te))
                te++;
            *val = mm_xstrndup(t, (size_t)(te - t));
            return true;
        }
    }
    *val = mm_xstrdup(!strncmp(flag, "--", 2) ? "true" : flag);
    return true;
}

static void jp_print(mm_buf *b, const json_t *v)
{
    if (json_is_string(v)) {
        mm_buf_adds(b, json_string_value(v));
    } else if (json_is_integer(v)) {
        mm_buf_printf(b, "%lld", (long long)json_integer_value(v));
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d < 1e15 && d > -1e15 && d == (double)(long long)d) /* range first: the cast of a huge value is UB */
            mm_buf_printf(b, "%lld", (long long)d);
        else
            mm_buf_printf(b, "%g", d);
    } else if (json_is_true(v)) {
        mm_buf_adds(b, "true");
    } else if (json_is_false(v)) {
        mm_buf_adds(b, "false");
    } else if (json_is_null(v)) {
        mm_buf_adds(b, "null");
    } else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (t)
            mm_buf_adds(b, t);
        free(t);
    }
}

/* The subset of the Kubernetes JSONPath the definitions use:
 * "{.a.b.c}" (missing keys allowed: empty result). */
int k8s_cis_jsonpath(const char *path, const json_t *doc, char **out)
{
    *out = NULL;
    size_t l = path ? strlen(path) : 0;
    if (l < 2 || path[0] != '{' || path[l - 1] != '}')
        return mm_error_set(MM_EFORMAT, "path \"%s\" is not {.field...}", path ? path : "");
    char *p = mm_xstrndup(path + 1, l - 2);
    const json_t *v = doc;
    char *save = NULL;
    if (p[0] != '.') {
        free(p);
        return mm_error_set(MM_EFORMAT, "path \"%s\" does not start with {.", path);
    }
    for (char *t = strtok_r(p, ".", &save); t && v; t = strtok_r(NULL, ".", &save))
        v = json_is_object(v) ? json_object_get(v, t) : NULL;
    free(p);
    mm_buf b = {0};
    if (v)
        jp_print(&b, v);
    *out = mm_buf_detach(&b);
    return 0;
}

static bool path_value(const char *s, const char *path, char **val, char **err)
{
    *val = NULL;
    json_t *doc = NULL;
    json_error_t je;
    doc = json_loads(s, JSON_DECODE_ANY, &je);
    if (!doc && mm_yaml_load_one(&doc, s, strlen(s), "audit_config output", NULL, NULL) < 0) {
        *err = mm_xasprintf("failed to load YAML or JSON from the audit_config output: %s",
                            mm_error_last());
        return false;
    }
    char *v = NULL;
    if (k8s_cis_jsonpath(path, doc, &v) < 0) {
        *err = mm_xstrdup(mm_error_last());
        json_decref(doc);
        return false;
    }
    json_decref(doc);
    if (!*v) {
        free(v);
        return false;
    }
    *val = v;
    return true;
}

static bool env_value(const char *s, const char *env, char **val)
{
    *val = NULL;
    if (!s || !*s || !env || !*env)
        return false;
    size_t el = strlen(env);
    for (const char *p = strstr(s, env); p; p = strstr(p + 1, env)) {
        if (p[el] != '=')
            continue;
        const char *v = p + el + 1, *e = strchr(v, '\n');
        size_t n = e ? (size_t)(e - v) : strlen(v);
        if (!n)
            return false;   /* kube-bench: the first match is empty: not found */
        *val = mm_xstrndup(v, n);
        return true;
    }
    return false;
}

/* --- comparing ----------------------------------------------------------------------------- */
static bool to_int(const char *s, long long *out)
{
    while (is_space(*s))
        s++;
    char *end;
    if (!*s)
        return false;
    long long v = strtoll(s, &end, 10);
    while (is_space(*end))
        end++;
    if (*end)
        return false;
    *out = v;
    return true;
}

/* Longest regex accepted and the backtracking budget of one match: kube-bench
 * definitions use patterns of a few dozen characters on one flag value. */
#define CIS_RE_MAX_LEN 1024
#define CIS_RE_MATCH_LIMIT 100000
#define CIS_RE_DEPTH_LIMIT 1000

static bool re_matches(const char *pattern, const char *subject)
{
    if (strlen(pattern) > CIS_RE_MAX_LEN)
        return false;
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
                                   PCRE2_NO_AUTO_CAPTURE, &err, &off, NULL);
    if (!re)
        return false;
    bool ok = false;
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    if (mc && md) {
        pcre2_set_match_limit(mc, CIS_RE_MATCH_LIMIT);
        pcre2_set_depth_limit(mc, CIS_RE_DEPTH_LIMIT);
        ok = pcre2_match(re, (PCRE2_SPTR)subject, strlen(subject), 0, 0, md, mc) >= 0;
    }
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(re);
    return ok;
}

static size_t split_elems(const char *s, char ***out)
{
    /* TrimRight(TrimSpace(s), ","), split on ",", each trimmed */
    char *d = mm_xstrdup(s);
    mm_str_trim(d);
    size_t l = strlen(d);
    while (l && d[l - 1] == ',')
        d[--l] = 0;
    size_t n = 0;
    *out = NULL;
    if (l) {
        char *p = d;
        for (;;) {
            char *c = strchr(p, ',');
            if (c)
                *c = 0;
            char *t = mm_xstrdup(p);
            mm_str_trim(t);
            mm_strv_push(out, &n, t);
            free(t);
            if (!c)
                break;
            p = c + 1;
        }
    }
    free(d);
    return n;
}

bool k8s_cis_compare(const char *op, const char *val, const char *want)
{
    if (!op || !val)
        return false;
    want = want ? want : "";
    if (!strcmp(op, "eq") || !strcmp(op, "noteq")) {
        bool eq;
        if (!strcasecmp(val, "true") || !strcasecmp(val, "false")) {
            char low[6];
            size_t n = strlen(val);
            for (size_t i = 0; i <= n && i < sizeof low; i++)
                low[i] = (char)((val[i] >= 'A' && val[i] <= 'Z') ? val[i] + 32 : val[i]);
            eq = !strcmp(low, want);
        } else {
            eq = !strcmp(val, want);
        }
        return !strcmp(op, "eq") ? eq : !eq;
    }
    if (!strcmp(op, "gt") || !strcmp(op, "gte") || !strcmp(op, "lt") || !strcmp(op, "lte")) {
        long long a, b;
        if (!to_int(val, &a) || !to_int(want, &b))
            return false;
        return !strcmp(op, "gt") ? a > b : !strcmp(op, "gte") ? a >= b
             : !strcmp(op, "lt") ? a < b : a <= b;
    }
    if (!strcmp(op, "has"))
        return strstr(val, want) != NULL;
    if (!strcmp(op, "nothave"))
        return strstr(val, want) == NULL;
    if (!strcmp(op, "regex")) {
        return re_matches(want, val);
    }
    if (!strcmp(op, "valid_elements")) {
        char **s, **t;
        size_t ns = split_elems(val, &s), nt = split_elems(want, &t);
        bool ok;
        if (!ns && !nt)
            ok = true;
        else if (!ns || !nt)
            ok = false;
        else {
            ok = true;
            for (size_t i = 0; i < ns && ok; i++) {
                bool f = false;
                for (size_t k = 0; k < nt && !f; k++)
                    f = !strcmp(s[i], t[k]);
                ok = f;
            }
        }
        mm_strv_free(s, ns);
        mm_strv_free(t, nt);
        return ok;
    }
    if (!strcmp(op, "bitmask")) {
        char *e1, *e2;
        if (!*val || !*want)
            return false;
        long long req = strtoll(val, &e1, 8), max = strtoll(want, &e2, 8);
        if (*e1 || *e2)
            return false;
        return (max & req) == req;
    }
    return false;   /* an unknown op fails, as in kube-bench */
}

/* --- one item, a test block ----------------------------------------------------------------- */
enum { USE_CMD, USE_CONFIG, USE_ENV };

struct item_out {
    bool result, found;
    char *expected;
};

static void item_eval_one(const json_t *it, int used, const char *s, struct item_out *o,
                          char **err)
{
    const char *flag = kj_str(it, "flag"), *path = kj_str(it, "path"), *env = kj_str(it, "env");
    const json_t *cmp = kj_obj(it, "compare");
    const char *op = kj_str(cmp, "op");
    char *want = NULL;
    const json_t *wv = kj_get(cmp, "value");
    if (wv) {
        mm_buf b = {0};
        jp_print(&b, wv);
        want = mm_buf_detach(&b);
    }
    bool set = !kj_false(it, "set");
    char *val = NULL;
    bool match;
    const char *name;
    if (used == USE_CONFIG) {
        char *perr = NULL;
        match = path_value(s, path, &val, &perr);
        if (perr) {
            /* kube-bench: a failed parse fails the item, set or not */
            o->result = o->found = false;
            o->expected = perr;
            free(*err);
            *err = mm_xstrdup(perr);
            free(want);
            return;
        }
        name = path;
    } else if (used == USE_ENV) {
        match = env_value(s, env, &val);
        name = env;
    } else {
        match = flag_value(s, flag, op && *op, &val);
        name = flag;
    }
    name = name ? name : "";
    if (set) {
        if (match && op && *op) {
            o->result = k8s_cis_compare(op, val, want);
            o->expected = mm_xasprintf("'%s' %s '%s'", name, op, want ? want : "");
        } else {
            o->result = match;
            o->expected = mm_xasprintf("'%s' is present", name);
        }
    } else {
        o->result = !match;
        o->expected = mm_xasprintf("'%s' is not present", name);
    }
    o->found = match;
    free(val);
    free(want);
}

static void item_exec(const json_t *it, int used, const char *s, bool multi, struct item_out *o,
                      char **err)
{
    char *d = mm_xstrdup(s ? s : "");
    size_t l = strlen(d);
    while (l && (d[l - 1] == ' ' || d[l - 1] == '\n'))
        d[--l] = 0;
    memset(o, 0, sizeof *o);
    if (!multi) {
        item_eval_one(it, used, d, o, err);
    } else {
        char *save = NULL, *p = d;
        /* strings.Split: empty lines count too */
        for (;;) {
            char *nl = strchr(p, '\n');
            if (nl)
                *nl = 0;
            free(o->expected);
            o->expected = NULL;
            item_eval_one(it, used, p, o, err);
            if (!o->result || !nl)
                break;
            p = nl + 1;
        }
        (void)save;
    }
    free(d);
}

int k8s_cis_eval(const json_t *tests, bool multi, const char *audit_out, bool has_config,
                 const char *config_out, const char *env_out, bool *result, char **expected,
                 char **err)
{
    *result = false;
    *expected = NULL;
    *err = NULL;
    const json_t *items = kj_arr(tests, "test_items");
    const char *op = kj_str(tests, "bin_op");
    if (op && *op && strcmp(op, "and") && strcmp(op, "or")) {
        *err = mm_xasprintf("unknown binary operator for tests %s", op);
        return 0;
    }
    bool is_or = op && !strcmp(op, "or");
    bool r = !is_or;
    mm_buf ex = {0};
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *it = json_array_get(items, i);
        struct item_out o;
        item_exec(it, USE_CMD, audit_out, multi, &o, err);
        if (!o.found && has_config) {
            free(o.expected);
            item_exec(it, USE_CONFIG, config_out, multi, &o, err);
            if (!o.found && kj_str(it, "env")) {
                free(o.expected);
                item_exec(it, USE_ENV, env_out, multi, &o, err);
            }
        }
        if (!o.found && kj_str(it, "env")) {
            free(o.expected);
            item_exec(it, USE_ENV, env_out, multi, &o, err);
        }
        r = is_or ? (r || o.result) : (r && o.result);
        mm_buf_printf(&ex, "%s%s", i ? (is_or ? " OR " : " AND ") : "", o.expected ? o.expected : "");
        free(o.expected);
    }
    *result = r;
    *expected = mm_buf_detach(&ex);
    return 0;
}
