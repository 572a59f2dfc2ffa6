/*
 * config/dflint_label.c - LABEL keys (DL3048) and hadolint's label schema:
 * required labels are checked per stage in dflint_instr.c; here the values
 * of schema labels are judged: empty, URL (RFC 3986), RFC 3339 time, SPDX
 * licence expression (against Debian's node-spdx-license-ids list), git
 * hash, semantic version, email address; and, with strict-labels, labels
 * outside the schema.  A value from a variable is only known at build time
 * and is not judged.
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/dflint_int.h"

/* --- labels -------------------------------------------------------------------- */
static bool label_key_ok(const char *k)
{
    size_t n = strlen(k);
    if (!n || !islower((unsigned char)k[0]))
        return false;
    if (!islower((unsigned char)k[n - 1]) && !isdigit((unsigned char)k[n - 1]))
        return false;
    for (const char *c = k; *c; c++)
        if (!islower((unsigned char)*c) && !isdigit((unsigned char)*c) && *c != '.' && *c != '-')
            return false;
    if (mm_str_startswith(k, "com.docker.") || mm_str_startswith(k, "io.docker.") ||
        mm_str_startswith(k, "org.dockerproject."))
        return false;
    return !strstr(k, "..") && !strstr(k, "--");
}

/* RFC 3986 absolute URI: scheme ":" and characters a URI may hold */
static bool valid_url(const char *u)
{
    if (!isalpha((unsigned char)u[0]))
        return false;
    const char *c = u + 1;
    while (isalnum((unsigned char)*c) || *c == '+' || *c == '-' || *c == '.')
        c++;
    if (*c != ':')
        return false;
    for (c++; *c; c++) {
        if (*c == '%') {
            if (!isxdigit((unsigned char)c[1]) || !isxdigit((unsigned char)c[2]))
                return false;
            c += 2;
            continue;
        }
        if (!isalnum((unsigned char)*c) && !strchr("-._~:/?#[]@!$&'()*+,;=", *c))
            return false;
    }
    return true;
}

static bool valid_semver(const char *v)
{
    /* MAJOR.MINOR.PATCH(-pre)?(+build)?, no leading zeros */
    const char *c = v;
    for (int part = 0; part < 3; part++) {
        if (!isdigit((unsigned char)*c))
            return false;
        if (*c == '0' && isdigit((unsigned char)c[1]))
            return false;
        while (isdigit((unsigned char)*c))
            c++;
        if (part < 2) {
            if (*c != '.')
                return false;
            c++;
        }
    }
    if (*c == '-') {
        c++;
        if (!*c || *c == '+')
            return false;
        while (*c && *c != '+') {
            if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
                return false;
            if (*c == '.' && (c[1] == '.' || c[1] == 0 || c[1] == '+'))
                return false;
            c++;
        }
    }
    if (*c == '+') {
        c++;
        if (!*c)
            return false;
        for (; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
                return false;
    }
    return *c == 0;
}

static bool valid_email(const char *e)
{
    const char *at = strrchr(e, '@');
    if (!at || at == e || !at[1] || strchr(e, ' '))
        return false;
    for (const char *c = e; c < at; c++)
        if (!isalnum((unsigned char)*c) && !strchr("!#$%&'*+-/=?^_`{|}~.", *c))
            return false;
    if (e[0] == '.' || at[-1] == '.' || strstr(e, ".."))
        return false;
    const char *d = at + 1;
    if (d[0] == '.' || d[0] == '-' || d[strlen(d) - 1] == '.')
        return false;
    for (const char *c = d; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '.')
            return false;
    return true;
}

static bool valid_githash(const char *h)
{
    size_t n = strlen(h);
    if (n != 7 && n != 40)
        return false;
    for (; *h; h++)
        if (!isdigit((unsigned char)*h) && !(*h >= 'a' && *h <= 'f'))
            return false;
    return true;
}

/* SPDX: an expression of ids from the licence list (Debian's
 * node-spdx-license-ids), LicenseRef-/DocumentRef- ids, WITH, AND, OR,
 * parentheses and "+".  -1 when the list is not installed. */
static int spdx_valid(lint *L, const char *expr)
{
    const char *path = L->o && L->o->spdx_list ? L->o->spdx_list
                                               : "/usr/share/nodejs/spdx-license-ids/index.json";
    json_error_t err;
    json_t *list = json_load_file(path, 0, &err);
    if (!list || !json_is_array(list)) {
        json_decref(list);
        return -1;
    }
    json_t *dep = NULL;
    const char *slash = strrchr(path, '/');
    if (slash) {
        char *dep_path = mm_xasprintf("%.*sdeprecated.json", (int)(slash + 1 - path), path);
        dep = json_load_file(dep_path, 0, &err);
        free(dep_path);
    }
    int ok = 1, depth = 0, want_id = 1;
    char *save = NULL;
    mm_buf sp = MM_BUF_INIT;
    for (const char *c = expr; *c; c++) {
        if (*c == '(' || *c == ')') {
            mm_buf_addc(&sp, ' ');
            mm_buf_addc(&sp, *c);
            mm_buf_addc(&sp, ' ');
        } else {
            mm_buf_addc(&sp, *c);
        }
    }
    char *toks = mm_buf_detach(&sp);
    size_t ntok = 0;
    for (char *t = strtok_r(toks, " \t", &save); t && ok; t = strtok_r(NULL, " \t", &save)) {
        ntok++;
        if (!strcmp(t, "(")) {
            if (!want_id)
                ok = 0;
            depth++;
        } else if (!strcmp(t, ")")) {
            if (want_id || --depth < 0)
                ok = 0;
        } else if (!strcmp(t, "AND") || !strcmp(t, "OR") || !strcmp(t, "WITH")) {
            if (want_id)
                ok = 0;
            want_id = 1;
        } else {
            if (!want_id)
                ok = 0;
            size_t tl = strlen(t);
            if (tl && t[tl - 1] == '+')
                t[--tl] = 0;
            bool found = mm_str_startswith(t, "LicenseRef-") || mm_str_startswith(t, "DocumentRef-");
            for (size_t i = 0; !found && i < json_array_size(list); i++)
                found = json_is_string(json_array_get(list, i)) &&
                        !strcasecmp(json_string_value(json_array_get(list, i)), t);
            for (size_t i = 0; !found && dep && i < json_array_size(dep); i++)
                found = json_is_string(json_array_get(dep, i)) &&
                        !strcasecmp(json_string_value(json_array_get(dep, i)), t);
            /* exceptions after WITH are not in the licence list: accept
             * the form (they end in "-exception" or similar) */
            if (!found && strstr(t, "exception"))
                found = true;
            if (!found)
                ok = 0;
            want_id = 0;
        }
    }
    if (want_id || depth || !ntok)
        ok = 0;
    free(toks);
    json_decref(list);
    json_decref(dep);
    return ok;
}

void dfl_lint_labels(lint *L, const mm_df_instr *in)
{
    const mm_dflint_opts *o = L->o;
    for (size_t i = 0; i < in->nkv; i++) {
        const mm_df_kv *kv = &in->kv[i];
        const char *rk = kv->raw_key ? kv->raw_key : kv->key;
        char *key = dfl_unquote(rk);
        if (!label_key_ok(key))
            dfl_emit(L, R_LABEL_KEY, in, "label key \"%s\"", key);
        bool in_schema = false;
        for (size_t s = 0; o && s < o->nlabels; s++) {
            const mm_dflint_label *lb = &o->labels[s];
            if (strcmp(lb->name, kv->key))
                continue;
            in_schema = true;
            const char *v = kv->value ? kv->value : "";
            bool var = kv->raw_value && strchr(kv->raw_value, '$');
            if (!*v && !var) {
                dfl_emit(L, R_LABEL_EMPTY, in, "label %s is empty", lb->name);
                continue;
            }
            if (var)
                continue; /* filled in at build time: only "text" can say */
            switch (lb->type) {
            case MM_LABEL_URL:
                if (!valid_url(v))
                    dfl_emit(L, R_LABEL_URL, in, "label %s=\"%s\"", lb->name, v);
                break;
            case MM_LABEL_RFC3339: {
                int64_t t;
                if (mm_time_parse_rfc3339(v, &t) < 0)
                    dfl_emit(L, R_LABEL_TIME, in, "label %s=\"%s\"", lb->name, v);
                break;
            }
            case MM_LABEL_SPDX: {
                int r = spdx_valid(L, v);
                if (r == 0)
                    dfl_emit(L, R_LABEL_SPDX, in, "label %s=\"%s\"", lb->name, v);
                else if (r < 0 && L->status && !L->status->note[0])
                    snprintf(L->status->note, sizeof L->status->note,
                             "the SPDX licence list (Debian package node-spdx-license-ids) is "
                             "not installed: DL3054 was not checked");
                break;
            }
            case MM_LABEL_HASH:
                if (!valid_githash(v))
                    dfl_emit(L, R_LABEL_HASH, in, "label %s=\"%s\"", lb->name, v);
                break;
            case MM_LABEL_SEMVER:
                if (!valid_semver(v))
                    dfl_emit(L, R_LABEL_SEMVER, in, "label %s=\"%s\"", lb->name, v);
                break;
            case MM_LABEL_EMAIL:
                if (!valid_email(v))
                    dfl_emit(L, R_LABEL_EMAIL, in, "label %s=\"%s\"", lb->name, v);
                break;
            case MM_LABEL_TEXT:
                break;
            }
        }
        if (o && o->strict_labels && !in_schema)
            dfl_emit(L, R_LABEL_EXTRA, in, "label %s is not in label-schema", kv->key);
        free(key);
    }
}

