/*
 * policy/load.c - reads a gate policy (docs/policy.md) from YAML with
 * libyaml.  The schema is closed: an unknown or repeated key, a wrong type
 * or an out-of-range value is an error naming the file, the line and the
 * key, because a typo in a security policy must never quietly switch a
 * rule off.  Signature keys are loaded here too, so that a policy naming a
 * missing key fails when it is read rather than when an image is checked.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <yaml.h>

#include "policy/policy_int.h"
#include "util/util.h"

typedef struct ldr {
    yaml_document_t doc;
    const char *name;
    mm_policy *p;
} ldr;

static size_t line_of(const yaml_node_t *n) { return n ? n->start_mark.line + 1 : 1; }

static int ferr(ldr *L, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int ferr(ldr *L, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int rc = mm_error_set(MM_EFORMAT, "%s:%zu: %s", L->name, line_of(n), m);
    free(m);
    return rc;
}

static yaml_node_t *node(ldr *L, int id) { return yaml_document_get_node(&L->doc, id); }

/* A scalar's text for messages: the key names we print are short. */
static const char *stext(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "?";
}

/* A scalar as a new string: NUL bytes and over-long values refused. */
static int scalar(ldr *L, yaml_node_t *n, const char *key, char **out)
{
    *out = NULL;
    if (!n || n->type != YAML_SCALAR_NODE)
        return ferr(L, n, "%s: expected a string", key);
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (memchr(v, 0, len))
        return ferr(L, n, "%s: NUL byte in value", key);
    if (len > MM_POLICY_MAX_STR)
        return ferr(L, n, "%s: value longer than %u bytes", key, MM_POLICY_MAX_STR);
    *out = mm_xstrndup(v, len);
    return 0;
}

/* A plain (unquoted) scalar that YAML would read as something else than a
 * string: booleans and numbers must be written as such, not quoted. */
static bool plain(const yaml_node_t *n)
{
    return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
}

static int boolean(ldr *L, yaml_node_t *n, const char *key, bool *out)
{
    if (!n || n->type != YAML_SCALAR_NODE || !plain(n))
        return ferr(L, n, "%s: expected true or false", key);
    const char *v = (const char *)n->data.scalar.value;
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
        *out = false;
    else
        return ferr(L, n, "%s: expected true or false, got \"%s\"", key, v);
    return 0;
}

static int days(ldr *L, yaml_node_t *n, const char *key, int64_t *out)
{
    if (!n || n->type != YAML_SCALAR_NODE || !plain(n))
        return ferr(L, n, "%s: expected a number of days", key);
    const char *v = (const char *)n->data.scalar.value;
    size_t len = n->data.scalar.length;
    if (!len || len > 6 || strspn(v, "0123456789") != len)
        return ferr(L, n, "%s: expected a whole number of days (0 to %d), got \"%s\"",
                    key, MM_POLICY_MAX_DAYS, v);
    long d = strtol(v, NULL, 10);
    if (d > MM_POLICY_MAX_DAYS)
        return ferr(L, n, "%s: %ld days is over the limit of %d", key, d,
                    MM_POLICY_MAX_DAYS);
    *out = d;
    return 0;
}

/* "none" or a severity other than UNKNOWN (which is not a threshold). */
static int max_severity(ldr *L, yaml_node_t *n, const char *key, int *out)
{
    if (!n || n->type != YAML_SCALAR_NODE)
        return ferr(L, n, "%s: expected none, LOW, MEDIUM, HIGH or CRITICAL", key);
    const char *v = (const char *)n->data.scalar.value;
    mm_severity s;
    if (!strcasecmp(v, "none")) {
        *out = MM_POLICY_SEV_NONE;
        return 0;
    }
    if (mm_severity_parse(&s, v) < 0 || s == MM_SEV_UNKNOWN)
        return ferr(L, n, "%s: expected none, LOW, MEDIUM, HIGH or CRITICAL, got \"%s\"",
                    key, v);
    *out = (int)s;
    return 0;
}

/* A list of strings; a single string is a list of one. */
static int str_list(ldr *L, yaml_node_t *n, const char *key, size_t max,
                    mm_strlist *l)
{
    char *s;
    int rc;
    if (n && n->type == YAML_SCALAR_NODE) {
        if ((rc = scalar(L, n, key, &s)) < 0)
            return rc;
        mm_strv_push(&l->v, &l->n, s);
        free(s);
        l->set = true;
        return 0;
    }
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return ferr(L, n, "%s: expected a list of strings", key);
    for (yaml_node_item_t *it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++) {
        yaml_node_t *item = node(L, *it);
        if (l->n >= max)
            return ferr(L, item, "%s: more than %zu entries", key, max);
        char what[96];
        snprintf(what, sizeof what, "%s[%zu]", key, l->n);
        if ((rc = scalar(L, item, what, &s)) < 0)
            return rc;
        if (!*s) {
            free(s);
            return ferr(L, item, "%s: empty string", what);
        }
        mm_strv_push(&l->v, &l->n, s);
        free(s);
    }
    l->set = true;
    return 0;
}

/* Calls fn for each pair of a mapping after checking that every key is a
 * plain string, known (listed in `known`, NULL-terminated) and given once. */
typedef int (*pair_fn)(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v);

static int each_pair(ldr *L, yaml_node_t *map, const char *where,
                     const char *const *known, pair_fn fn)
{
    if (!map || map->type != YAML_MAPPING_NODE)
        return *where ? ferr(L, map, "%s: expected a mapping of keys", where)
                      : ferr(L, map, "the policy must be a mapping of keys (key: value)");
    for (yaml_node_pair_t *a = map->data.mapping.pairs.start;
         a < map->data.mapping.pairs.top; a++) {
        yaml_node_t *k = node(L, a->key), *v = node(L, a->value);
        if (!k || k->type != YAML_SCALAR_NODE)
            return ferr(L, k, "%s: keys must be strings", where);
        const char *ks = stext(k);
        if (strlen(ks) != k->data.scalar.length)
            return ferr(L, k, "%s: NUL byte in a key", where);
        size_t i;
        for (i = 0; known[i]; i++)
            if (!strcmp(known[i], ks))
                break;
        if (!known[i]) {
            mm_buf b = MM_BUF_INIT;
            for (size_t j = 0; known[j]; j++)
                mm_buf_printf(&b, "%s%s", j ? ", " : "", known[j]);
            int rc = ferr(L, k, "%s%sunknown key \"%.64s\" (expected one of: %s)",
                          *where ? where : "", *where ? ": " : "", ks, b.data);
            mm_buf_free(&b);
            return rc;
        }
        for (yaml_node_pair_t *b = map->data.mapping.pairs.start; b < a; b++) {
            yaml_node_t *kb = node(L, b->key);
            if (kb && kb->type == YAML_SCALAR_NODE && !strcmp(stext(kb), ks))
                return ferr(L, k, "%s%sduplicate key \"%s\"", *where ? where : "",
                            *where ? ": " : "", ks);
        }
        int rc = fn(L, ks, k, v);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* --- sections ---------------------------------------------------------------- */
static int allow_deny(ldr *L, const char *section, const char *key, yaml_node_t *v,
                      mm_strlist *allow, mm_strlist *deny)
{
    char what[64];
    snprintf(what, sizeof what, "%s.%s", section, key);
    mm_strlist *l = !strcmp(key, "allow") ? allow : deny;
    int rc = str_list(L, v, what, MM_POLICY_MAX_LIST, l);
    if (rc < 0)
        return rc;
    if (l == allow && !l->n)
        return ferr(L, v, "%s: an empty allow list would deny every image; remove the "
                    "key to allow any", what);
    return 0;
}

static int registries_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    (void)k;
    return allow_deny(L, "registries", key, v, &L->p->reg_allow, &L->p->reg_deny);
}

static int repositories_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    (void)k;
    return allow_deny(L, "repositories", key, v, &L->p->repo_allow, &L->p->repo_deny);
}

static int load_key(ldr *L, yaml_node_t *n, const char *what, const char *path)
{
    mm_policy *p = L->p;
    char *full = path[0] == '/' ? mm_xstrdup(path) : mm_xasprintf("%s/%s", p->base, path);
    struct stat st;
    int rc;
    /* a device or a fifo named by a policy must not hang the gate */
    if (stat(full, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = ferr(L, n, "%s: %s: not a readable key file", what, full);
        free(full);
        return rc;
    }
    mm_sigkey *key = NULL;
    rc = mm_sigkey_load_public(&key, full);
    free(full);
    if (rc < 0) {
        char *msg = mm_xstrdup(mm_error_last());
        rc = ferr(L, n, "%s: %s", what, msg);
        free(msg);
        return rc;
    }
    p->keys = mm_xrealloc(p->keys, (p->nkeys + 1) * sizeof *p->keys);
    p->key_paths = mm_xrealloc(p->key_paths, (p->nkeys + 1) * sizeof *p->key_paths);
    p->keys[p->nkeys] = key;
    p->key_paths[p->nkeys++] = mm_xstrdup(path);
    return 0;
}

static int signatures_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    (void)k;
    if (!strcmp(key, "mode")) {
        char *s;
        int rc = scalar(L, v, "signatures.mode", &s);
        if (rc < 0)
            return rc;
        if (!strcmp(s, "all"))
            L->p->sig_all = true;
        else if (!strcmp(s, "any"))
            L->p->sig_all = false;
        else
            rc = ferr(L, v, "signatures.mode: expected any or all, got \"%s\"", s);
        free(s);
        return rc;
    }
    /* keys */
    mm_strlist l = {0};
    int rc = str_list(L, v, "signatures.keys", MM_POLICY_MAX_KEYS, &l);
    if (rc == 0 && !l.n)
        rc = ferr(L, v, "signatures.keys: the list is empty");
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        char what[48];
        snprintf(what, sizeof what, "signatures.keys[%zu]", i);
        yaml_node_t *item = v->type == YAML_SEQUENCE_NODE
                                ? node(L, v->data.sequence.items.start[i]) : v;
        rc = load_key(L, item, what, l.v[i]);
    }
    mm_strv_free(l.v, l.n);
    return rc;
}

static int vulnerabilities_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    (void)k;
    mm_policy *p = L->p;
    if (!strcmp(key, "max_severity"))
        return max_severity(L, v, "vulnerabilities.max_severity", &p->vuln_max);
    if (!strcmp(key, "fixable_only"))
        return boolean(L, v, "vulnerabilities.fixable_only", &p->vuln_fixable_only);
    return str_list(L, v, "vulnerabilities.ignore", MM_POLICY_MAX_LIST, &p->vuln_ignore);
}

static int secrets_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    (void)k;
    (void)key;
    return max_severity(L, v, "secrets.max_severity", &L->p->secrets_max);
}

static int malware_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    (void)k;
    (void)key;
    return max_severity(L, v, "malware.max_severity", &L->p->malware_max);
}

static const char *const top_keys[] = {
    "version", "registries", "repositories", "signatures", "require_digest",
    "deny_latest", "vulnerabilities", "secrets", "malware", "deny_root_user",
    "deny_remote_shells", "deny_insecure_registry", "max_image_age_days",
    "max_scan_age_days", NULL};
static const char *const allow_deny_keys[] = {"allow", "deny", NULL};
static const char *const signature_keys[] = {"keys", "mode", NULL};
static const char *const vuln_keys[] = {"max_severity", "fixable_only", "ignore", NULL};
static const char *const secret_keys[] = {"max_severity", NULL};   /* also malware */

/* A key that must be present inside a section. */
static bool has_key(ldr *L, yaml_node_t *map, const char *key)
{
    for (yaml_node_pair_t *a = map->data.mapping.pairs.start;
         a < map->data.mapping.pairs.top; a++)
        if (!strcmp(stext(node(L, a->key)), key))
            return true;
    return false;
}

static int top_pair(ldr *L, const char *key, yaml_node_t *k, yaml_node_t *v)
{
    mm_policy *p = L->p;
    int rc;
    if (!strcmp(key, "version")) {
        if (!v || v->type != YAML_SCALAR_NODE || !plain(v) || strcmp(stext(v), "1"))
            return ferr(L, v, "version: expected 1 (the only policy version), got \"%.32s\"",
                        stext(v));
        return 0;
    }
    if (!strcmp(key, "registries"))
        return each_pair(L, v, "registries", allow_deny_keys, registries_pair);
    if (!strcmp(key, "repositories"))
        return each_pair(L, v, "repositories", allow_deny_keys, repositories_pair);
    if (!strcmp(key, "signatures")) {
        if ((rc = each_pair(L, v, "signatures", signature_keys, signatures_pair)) < 0)
            return rc;
        if (!has_key(L, v, "keys"))
            return ferr(L, v, "signatures: missing key \"keys\" (paths of PEM public keys)");
        return 0;
    }
    if (!strcmp(key, "vulnerabilities")) {
        if ((rc = each_pair(L, v, "vulnerabilities", vuln_keys, vulnerabilities_pair)) < 0)
            return rc;
        if (!has_key(L, v, "max_severity"))
            return ferr(L, v, "vulnerabilities: missing key \"max_severity\"");
        p->vuln_set = true;
        return 0;
    }
    if (!strcmp(key, "secrets")) {
        if ((rc = each_pair(L, v, "secrets", secret_keys, secrets_pair)) < 0)
            return rc;
        if (!has_key(L, v, "max_severity"))
            return ferr(L, v, "secrets: missing key \"max_severity\"");
        p->secrets_set = true;
        return 0;
    }
    if (!strcmp(key, "malware")) {
        if ((rc = each_pair(L, v, "malware", secret_keys, malware_pair)) < 0)
            return rc;
        if (!has_key(L, v, "max_severity"))
            return ferr(L, v, "malware: missing key \"max_severity\"");
        p->malware_set = true;
        return 0;
    }
    if (!strcmp(key, "require_digest"))
        return boolean(L, v, key, &p->require_digest);
    if (!strcmp(key, "deny_latest"))
        return boolean(L, v, key, &p->deny_latest);
    if (!strcmp(key, "deny_root_user"))
        return boolean(L, v, key, &p->deny_root_user);
    if (!strcmp(key, "deny_remote_shells"))
        return boolean(L, v, key, &p->deny_remote_shells);
    if (!strcmp(key, "deny_insecure_registry"))
        return boolean(L, v, key, &p->deny_insecure_registry);
    if (!strcmp(key, "max_image_age_days"))
        return days(L, v, key, &p->max_image_age_days);
    (void)k;
    return days(L, v, key, &p->max_scan_age_days);
}

/* --- entry points ---------------------------------------------------------------- */
static int load(mm_policy **out, const char *data, size_t len, const char *name,
                const char *base)
{
    *out = NULL;
    if (len > MM_POLICY_MAX_BYTES)
        return mm_error_set(MM_ELIMIT, "%s: policy larger than %u bytes", name,
                            MM_POLICY_MAX_BYTES);
    mm_policy *p = mm_xcalloc(1, sizeof *p);
    p->name = mm_xstrdup(name);
    p->base = mm_xstrdup(base);
    p->max_image_age_days = p->max_scan_age_days = -1;
    ldr L = {.name = name, .p = p};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        mm_policy_free(p);
        return mm_error_set(MM_ENOMEM, "%s: cannot initialise the YAML parser", name);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    int rc;
    if (!yaml_parser_load(&parser, &L.doc)) {
        rc = mm_error_set(MM_EFORMAT, "%s:%zu:%zu: YAML: %s", name,
                          parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                          parser.problem ? parser.problem : "syntax error");
        yaml_parser_delete(&parser);
        mm_policy_free(p);
        return rc;
    }
    yaml_parser_delete(&parser);
    yaml_node_t *root = yaml_document_get_root_node(&L.doc);
    if (!root)
        rc = mm_error_set(MM_EFORMAT, "%s:1: the policy is empty (it needs at least "
                          "\"version: 1\")", name);
    else if ((rc = each_pair(&L, root, "", top_keys, top_pair)) == 0 &&
             !has_key(&L, root, "version"))
        rc = ferr(&L, root, "missing key \"version\" (write \"version: 1\")");
    yaml_document_delete(&L.doc);
    if (rc < 0) {
        mm_policy_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int mm_policy_load_mem(mm_policy **out, const char *data, size_t len, const char *name)
{
    if (!out || (!data && len))
        return mm_error_set(MM_EINVAL, "policy: no data given");
    if (!name)
        name = "policy";
    /* relative key paths start from the folder the name is in */
    size_t dl = mm_path_dirlen(name);
    char *base = dl ? mm_xstrndup(name, dl) : mm_xstrdup(name[0] == '/' ? "/" : ".");
    int rc = load(out, data ? data : "", len, name, base);
    free(base);
    if (rc == 0)
        mm_sha256_hex(data ? data : "", len, (*out)->digest);
    return rc;
}

int mm_policy_load(mm_policy **out, const char *path)
{
    if (!out || !path)
        return mm_error_set(MM_EINVAL, "policy: no file given");
    *out = NULL;
    char *data;
    size_t len;
    int rc = mm_file_read(path, MM_POLICY_MAX_BYTES, &data, &len);
    if (rc < 0)
        return rc;
    rc = mm_policy_load_mem(out, data, len, path);
    free(data);
    return rc;
}

void mm_policy_free(mm_policy *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->base);
    mm_strv_free(p->reg_allow.v, p->reg_allow.n);
    mm_strv_free(p->reg_deny.v, p->reg_deny.n);
    mm_strv_free(p->repo_allow.v, p->repo_allow.n);
    mm_strv_free(p->repo_deny.v, p->repo_deny.n);
    for (size_t i = 0; i < p->nkeys; i++)
        mm_sigkey_free(p->keys[i]);
    free(p->keys);
    mm_strv_free(p->key_paths, p->nkeys);
    mm_strv_free(p->vuln_ignore.v, p->vuln_ignore.n);
    free(p);
}

const char *mm_policy_digest(const mm_policy *p)
{
    return p ? p->digest : NULL;
}
