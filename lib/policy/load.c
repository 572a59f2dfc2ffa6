/*
 * policy/load.c - reads a gate policy (docs/policy.md) from YAML with the
 * one loader of lib/util.  The schema is closed: an unknown or repeated key, a wrong type
 * or an out-of-range value is an error naming the file, the line, the column and the
 * key, because a typo in a security policy must never quietly switch a
 * rule off.  Signature keys are loaded here too, so that a policy naming a
 * missing key fails when it is read rather than when an image is checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "policy/policy_int.h"
#include "util/util.h"

typedef struct ldr {
    mm_yaml_posmap *pm;
    const char *name;
    mm_policy *p;
} ldr;

/* A value: its parent and its key (objects) or index (arrays). */
typedef mm_yaml_ref vref;

/* An error at r: "NAME:LINE:COL: ...". */
#define ferr(L, ...) mm_yaml_ref_errf((L)->pm, (L)->name, MM_EFORMAT, __VA_ARGS__)

/* A scalar's text (every scalar is text: MM_YAML_TEXT), or NULL. */
static const char *stext(vref r) { return json_string_value(mm_yaml_ref_get(r)); }

/* A scalar as a new string: NUL bytes and over-long values refused. */
static int scalar(ldr *L, vref r, const char *key, char **out)
{
    return mm_yaml_get_str(L->pm, L->name, r.parent, r.key, r.idx, key, MM_POLICY_MAX_STR,
                           out);
}

/* A plain (unquoted) scalar: booleans and numbers must be written as
 * such, not quoted. */
static bool plain(ldr *L, vref r)
{
    return stext(r) && mm_yaml_pos_plain(L->pm, r.parent, r.key, r.idx);
}

static int boolean(ldr *L, vref r, const char *key, bool *out)
{
    if (!plain(L, r))
        return ferr(L, r, "%s: expected true or false", key);
    const char *v = stext(r);
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
        *out = false;
    else
        return ferr(L, r, "%s: expected true or false, got \"%s\"", key, v);
    return 0;
}

static int days(ldr *L, vref r, const char *key, int64_t *out)
{
    if (!plain(L, r))
        return ferr(L, r, "%s: expected a number of days", key);
    const char *v = stext(r);
    size_t len = json_string_length(mm_yaml_ref_get(r));
    if (!len || len > 6 || strspn(v, "0123456789") != len)
        return ferr(L, r, "%s: expected a whole number of days (0 to %d), got \"%s\"",
                    key, MM_POLICY_MAX_DAYS, v);
    long d = strtol(v, NULL, 10);
    if (d > MM_POLICY_MAX_DAYS)
        return ferr(L, r, "%s: %ld days is over the limit of %d", key, d,
                    MM_POLICY_MAX_DAYS);
    *out = d;
    return 0;
}

/* "none" or a severity other than UNKNOWN (which is not a threshold). */
static int max_severity(ldr *L, vref r, const char *key, int *out)
{
    const char *v = stext(r);
    if (!v)
        return ferr(L, r, "%s: expected none, LOW, MEDIUM, HIGH or CRITICAL", key);
    mm_severity s;
    if (!strcasecmp(v, "none")) {
        *out = MM_POLICY_SEV_NONE;
        return 0;
    }
    if (mm_severity_parse(&s, v) < 0 || s == MM_SEV_UNKNOWN)
        return ferr(L, r, "%s: expected none, LOW, MEDIUM, HIGH or CRITICAL, got \"%s\"",
                    key, v);
    *out = (int)s;
    return 0;
}

/* A list of strings; a single string is a list of one. */
static int str_list(ldr *L, vref r, const char *key, size_t max, mm_strlist *l)
{
    int rc = mm_yaml_get_strlist(L->pm, L->name, r.parent, r.key, r.idx, key, max,
                                 MM_POLICY_MAX_STR, MM_YAML_NONEMPTY, &l->v, &l->n);
    if (rc < 0)
        return rc;
    l->set = true;
    return 0;
}

/* Calls fn for each pair of a mapping after checking that every key is
 * known (listed in `known`, NULL-terminated); the loader refuses keys that
 * are not strings, hold a NUL byte or are given twice. */
typedef int (*pair_fn)(ldr *L, const char *key, vref v);

static int each_pair(ldr *L, vref m, const char *where, const char *const *known, pair_fn fn)
{
    const json_t *map = mm_yaml_ref_get(m);
    if (!json_is_object(map))
        return *where ? ferr(L, m, "%s: expected a mapping of keys", where)
                      : ferr(L, m, "the policy must be a mapping of keys (key: value)");
    const char *ks;
    json_t *v;
    json_object_foreach((json_t *)map, ks, v) {
        vref r = {map, ks, 0};
        size_t i;
        for (i = 0; known[i]; i++)
            if (!strcmp(known[i], ks))
                break;
        if (!known[i]) {
            mm_buf b = MM_BUF_INIT;
            for (size_t j = 0; known[j]; j++)
                mm_buf_printf(&b, "%s%s", j ? ", " : "", known[j]);
            int rc = ferr(L, r, "%s%sunknown key \"%.64s\" (expected one of: %s)",
                          *where ? where : "", *where ? ": " : "", ks, b.data);
            mm_buf_free(&b);
            return rc;
        }
        int rc = fn(L, ks, r);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* --- sections ---------------------------------------------------------------- */
static int allow_deny(ldr *L, const char *section, const char *key, vref v,
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

static int registries_pair(ldr *L, const char *key, vref v)
{
    return allow_deny(L, "registries", key, v, &L->p->reg_allow, &L->p->reg_deny);
}

static int repositories_pair(ldr *L, const char *key, vref v)
{
    return allow_deny(L, "repositories", key, v, &L->p->repo_allow, &L->p->repo_deny);
}

static int load_key(ldr *L, vref n, const char *what, const char *path)
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

static int signatures_pair(ldr *L, const char *key, vref v)
{
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
    const json_t *list = mm_yaml_ref_get(v);
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        char what[48];
        snprintf(what, sizeof what, "signatures.keys[%zu]", i);
        vref item = json_is_array(list) ? (vref){list, NULL, i} : v;
        rc = load_key(L, item, what, l.v[i]);
    }
    mm_strv_free(l.v, l.n);
    return rc;
}

static int vulnerabilities_pair(ldr *L, const char *key, vref v)
{
    mm_policy *p = L->p;
    if (!strcmp(key, "max_severity"))
        return max_severity(L, v, "vulnerabilities.max_severity", &p->vuln_max);
    if (!strcmp(key, "fixable_only"))
        return boolean(L, v, "vulnerabilities.fixable_only", &p->vuln_fixable_only);
    return str_list(L, v, "vulnerabilities.ignore", MM_POLICY_MAX_LIST, &p->vuln_ignore);
}

static int secrets_pair(ldr *L, const char *key, vref v)
{
    (void)key;
    return max_severity(L, v, "secrets.max_severity", &L->p->secrets_max);
}

static int malware_pair(ldr *L, const char *key, vref v)
{
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
static bool has_key(vref m, const char *key)
{
    return json_object_get(mm_yaml_ref_get(m), key) != NULL;
}

static int top_pair(ldr *L, const char *key, vref v)
{
    mm_policy *p = L->p;
    int rc;
    if (!strcmp(key, "version")) {
        if (!plain(L, v) || strcmp(stext(v), "1"))
            return ferr(L, v, "version: expected 1 (the only policy version), got \"%.32s\"",
                        stext(v) ? stext(v) : "?");
        return 0;
    }
    if (!strcmp(key, "registries"))
        return each_pair(L, v, "registries", allow_deny_keys, registries_pair);
    if (!strcmp(key, "repositories"))
        return each_pair(L, v, "repositories", allow_deny_keys, repositories_pair);
    if (!strcmp(key, "signatures")) {
        if ((rc = each_pair(L, v, "signatures", signature_keys, signatures_pair)) < 0)
            return rc;
        if (!has_key(v, "keys"))
            return ferr(L, v, "signatures: missing key \"keys\" (paths of PEM public keys)");
        return 0;
    }
    if (!strcmp(key, "vulnerabilities")) {
        if ((rc = each_pair(L, v, "vulnerabilities", vuln_keys, vulnerabilities_pair)) < 0)
            return rc;
        if (!has_key(v, "max_severity"))
            return ferr(L, v, "vulnerabilities: missing key \"max_severity\"");
        p->vuln_set = true;
        return 0;
    }
    if (!strcmp(key, "secrets")) {
        if ((rc = each_pair(L, v, "secrets", secret_keys, secrets_pair)) < 0)
            return rc;
        if (!has_key(v, "max_severity"))
            return ferr(L, v, "secrets: missing key \"max_severity\"");
        p->secrets_set = true;
        return 0;
    }
    if (!strcmp(key, "malware")) {
        if ((rc = each_pair(L, v, "malware", secret_keys, malware_pair)) < 0)
            return rc;
        if (!has_key(v, "max_severity"))
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
    /* every scalar as text (quoting is checked where it matters), the
     * first document only, as libyaml's document loader read it */
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.scalars = MM_YAML_TEXT;
    lim.first_doc_only = true;
    ldr L = {.pm = mm_yaml_posmap_new(), .name = name};
    json_t *root = NULL;
    int rc = mm_yaml_load_one(&root, data, len, name, &lim, L.pm);
    if (rc < 0) {
        mm_yaml_posmap_free(L.pm);
        return rc;
    }
    mm_policy *p = mm_xcalloc(1, sizeof *p);
    p->name = mm_xstrdup(name);
    p->base = mm_xstrdup(base);
    p->max_image_age_days = p->max_scan_age_days = -1;
    L.p = p;
    /* the root is held by a one-item array so that it has a position */
    json_t *hold = json_array();
    json_array_append(hold, root);
    vref rr = {NULL, NULL, 0};
    if (json_is_null(root))
        rc = mm_error_set(MM_EFORMAT, "%s:1:1: the policy is empty (it needs at least "
                          "\"version: 1\")", name);
    else if (!json_is_object(root))
        rc = ferr(&L, rr, "the policy must be a mapping of keys (key: value)");
    else if ((rc = each_pair(&L, (vref){hold, NULL, 0}, "", top_keys, top_pair)) == 0 &&
             !json_object_get(root, "version"))
        rc = ferr(&L, rr, "missing key \"version\" (write \"version: 1\")");
    json_decref(hold);
    json_decref(root);
    mm_yaml_posmap_free(L.pm);
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
