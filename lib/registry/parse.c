/*
 * parse.c - what registries and config files say, parsed without trusting
 * them: WWW-Authenticate challenges (RFC 7235 parameters, quoted strings
 * with escapes and commas), Link headers for pagination (RFC 8288),
 * Retry-After (seconds or an HTTP date), the JSON error bodies of the
 * Distribution API, the `auths`, `credHelpers` and `credsStore` of a Docker
 * config.json and the JSON a docker-credential-* helper prints.  Each works
 * on a length-bounded buffer and caps what it keeps; the fuzz targets
 * fuzz_regauth and the unit tests drive them directly.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "registry/regint.h"

/* --- WWW-Authenticate --------------------------------------------------------- */
static bool is_tchar(char c)
{
    return isalnum((unsigned char)c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

struct scan {
    const char *p, *e;
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->e && (*s->p == ' ' || *s->p == '\t'))
        s->p++;
}

static size_t read_token(struct scan *s)
{
    const char *b = s->p;
    while (s->p < s->e && is_tchar(*s->p))
        s->p++;
    return (size_t)(s->p - b);
}

/* A quoted string (the opening quote at s->p) or a bare value up to a comma
 * or white space; returns a new string capped at MM_REG_MAX_HEADER. */
static char *read_value(struct scan *s)
{
    mm_buf b = MM_BUF_INIT;
    if (s->p < s->e && *s->p == '"') {
        s->p++;
        while (s->p < s->e && *s->p != '"') {
            char c = *s->p++;
            if (c == '\\' && s->p < s->e)
                c = *s->p++;
            if (b.len < MM_REG_MAX_HEADER)
                mm_buf_addc(&b, c);
        }
        if (s->p < s->e)
            s->p++; /* closing quote; an unterminated one ends the value */
    } else {
        while (s->p < s->e && *s->p != ',' && *s->p != ' ' && *s->p != '\t') {
            if (b.len < MM_REG_MAX_HEADER)
                mm_buf_addc(&b, *s->p);
            s->p++;
        }
    }
    return mm_buf_detach(&b);
}

void mm_reg_challenge_clear(mm_reg_challenge *c)
{
    if (!c)
        return;
    free(c->scheme);
    free(c->realm);
    free(c->service);
    free(c->scope);
    free(c->error);
    memset(c, 0, sizeof *c);
}

int mm_reg_challenge_parse(mm_reg_challenge *out, const char *v, size_t len)
{
    memset(out, 0, sizeof *out);
    if (!v)
        return mm_error_set(MM_EFORMAT, "WWW-Authenticate: empty");
    if (len > MM_REG_MAX_HEADER)
        len = MM_REG_MAX_HEADER;
    struct scan s = {v, v + len};
    mm_reg_challenge cur = {0};
    bool have = false, chosen_bearer = false;
    for (int guard = 0; s.p < s.e && guard < 64; guard++) {
        while (s.p < s.e && (*s.p == ',' || *s.p == ' ' || *s.p == '\t'))
            s.p++;
        const char *sb = s.p;
        size_t sl = read_token(&s);
        if (sl == 0)
            break;
        memset(&cur, 0, sizeof cur);
        cur.scheme = mm_xstrndup(sb, sl > 64 ? 64 : sl);
        /* parameters until the next scheme */
        for (int pg = 0; s.p < s.e && pg < 64; pg++) {
            skip_ws(&s);
            const char *save = s.p, *nb = s.p;
            size_t nl = read_token(&s);
            skip_ws(&s);
            if (nl == 0) {
                if (s.p >= s.e)
                    break;
                /* a comma, or junk such as token68 padding */
                while (s.p < s.e && *s.p != ',')
                    s.p++;
                if (s.p < s.e)
                    s.p++;
                continue;
            }
            if (s.p >= s.e || *s.p != '=') {
                /* a bare token: the next challenge's scheme (a token68
                 * credential reads the same way, harmlessly) */
                s.p = save;
                break;
            }
            s.p++; /* '=' */
            skip_ws(&s);
            char *val = read_value(&s);
            char **slot = NULL;
            if (nl == 5 && strncasecmp(nb, "realm", 5) == 0)
                slot = &cur.realm;
            else if (nl == 7 && strncasecmp(nb, "service", 7) == 0)
                slot = &cur.service;
            else if (nl == 5 && strncasecmp(nb, "scope", 5) == 0)
                slot = &cur.scope;
            else if (nl == 5 && strncasecmp(nb, "error", 5) == 0)
                slot = &cur.error;
            if (slot && !*slot)
                *slot = val;
            else
                free(val);
            skip_ws(&s);
            if (s.p < s.e && *s.p == ',')
                s.p++;
        }
        bool bearer = strcasecmp(cur.scheme, "bearer") == 0;
        if (!have || (bearer && !chosen_bearer)) {
            mm_reg_challenge_clear(out);
            *out = cur;
            have = true;
            chosen_bearer = bearer;
        } else {
            mm_reg_challenge_clear(&cur);
        }
    }
    if (!have)
        return mm_error_set(MM_EFORMAT, "WWW-Authenticate: no authentication scheme in "
                            "\"%.*s\"", (int)(len > 80 ? 80 : len), v);
    return 0;
}

/* --- Link ---------------------------------------------------------------- */
char *mm_reg_link_next(const char *v, size_t len)
{
    if (!v)
        return NULL;
    if (len > MM_REG_MAX_HEADER)
        len = MM_REG_MAX_HEADER;
    struct scan s = {v, v + len};
    for (int guard = 0; s.p < s.e && guard < 64; guard++) {
        const char *lt = memchr(s.p, '<', (size_t)(s.e - s.p));
        if (!lt)
            return NULL;
        const char *gt = memchr(lt, '>', (size_t)(s.e - lt));
        if (!gt)
            return NULL;
        s.p = gt + 1;
        bool next = false;
        /* parameters up to the comma that ends this link */
        for (int pg = 0; s.p < s.e && pg < 32; pg++) {
            skip_ws(&s);
            if (s.p >= s.e || *s.p == ',')
                break;
            if (*s.p != ';') {
                s.p++;
                continue;
            }
            s.p++;
            skip_ws(&s);
            const char *nb = s.p;
            size_t nl = read_token(&s);
            skip_ws(&s);
            if (s.p >= s.e || *s.p != '=')
                continue;
            s.p++;
            skip_ws(&s);
            char *val = read_value(&s);
            if (nl == 3 && strncasecmp(nb, "rel", 3) == 0) {
                /* rel is a space-separated list of relation types */
                char *save = NULL;
                for (char *t = strtok_r(val, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                    if (strcasecmp(t, "next") == 0)
                        next = true;
            }
            free(val);
        }
        if (next && gt > lt + 1)
            return mm_xstrndup(lt + 1, (size_t)(gt - lt - 1));
        if (s.p < s.e && *s.p == ',')
            s.p++;
    }
    return NULL;
}

/* --- JSON error bodies ----------------------------------------------------- */
static void add_printable(mm_buf *b, const char *s, size_t max)
{
    for (size_t i = 0; s[i] && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        mm_buf_addc(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
}

char *mm_reg_error_text(const char *body, size_t len)
{
    if (!body || len == 0 || len > MM_REG_MAX_ERRBODY)
        return NULL;
    json_t *j = json_loadb(body, len, 0, NULL);
    json_t *errs = json_object_get(j, "errors");
    if (!json_is_array(errs) || json_array_size(errs) == 0) {
        json_decref(j);
        return NULL;
    }
    mm_buf b = MM_BUF_INIT;
    size_t i;
    json_t *e;
    json_array_foreach(errs, i, e) {
        if (i >= 4)
            break;
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        if (!code && !msg)
            continue;
        if (b.len)
            mm_buf_adds(&b, "; ");
        if (code)
            add_printable(&b, code, 64);
        if (code && msg)
            mm_buf_adds(&b, ": ");
        if (msg)
            add_printable(&b, msg, 200);
    }
    json_decref(j);
    if (!b.len) {
        mm_buf_free(&b);
        return NULL;
    }
    return mm_buf_detach(&b);
}

/* --- Docker config auths --------------------------------------------------- */
/* "https://host:port/v1/" -> "host:port" (lower case) */
static void norm_host(const char *key, char *out, size_t cap)
{
    const char *p = strstr(key, "://");
    p = p ? p + 3 : key;
    size_t n = strcspn(p, "/");
    if (n >= cap)
        n = cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)p[i]);
    out[n] = 0;
}

static bool is_hub(const char *h)
{
    return !strcmp(h, "docker.io") || !strcmp(h, "index.docker.io") ||
           !strcmp(h, "registry-1.docker.io");
}

static bool host_matches(const char *key, const char *host)
{
    char k[300], h[300];
    norm_host(key, k, sizeof k);
    norm_host(host, h, sizeof h);
    if (!strcmp(k, h))
        return true;
    return is_hub(k) && is_hub(h);
}

/* The credentials of the auths entry for host in the parsed document j:
 * its base64 "auth" (user:password) or "username"/"password", and an
 * "identitytoken" (an OAuth2 refresh token).  MM_ENOTFOUND when there is
 * no entry or it holds none of these. */
static int auths_entry(json_t *j, const char *label, const char *host, char **user,
                       char **pass, char **idtok)
{
    json_t *auths = json_object_get(j, "auths");
    const char *key;
    json_t *ent, *found = NULL;
    const char *found_key = NULL;
    if (json_is_object(auths)) {
        json_object_foreach(auths, key, ent) {
            if (host_matches(key, host)) {
                found = ent;
                found_key = key;
                break;
            }
        }
    }
    if (!found)
        return MM_ENOTFOUND;
    if (!json_is_object(found))
        return mm_error_set(MM_EFORMAT, "%s: auths.\"%.100s\" is not an object", label,
                            found_key);
    const char *a = json_string_value(json_object_get(found, "auth"));
    const char *u = json_string_value(json_object_get(found, "username"));
    const char *p = json_string_value(json_object_get(found, "password"));
    const char *it = idtok ? json_string_value(json_object_get(found, "identitytoken")) : NULL;
    int rc = MM_ENOTFOUND;
    if (it && *it) {
        if (strlen(it) > MM_REG_MAX_HEADER)
            return mm_error_set(MM_EFORMAT, "%s: auths.\"%.100s\".identitytoken is over %u "
                                "bytes", label, found_key, MM_REG_MAX_HEADER);
        *idtok = mm_xstrdup(it);
        rc = 0;
    }
    if (a && *a) {
        /* Docker writes "auth" as the canonical padded standard base64 of
         * user:password (Go's base64.StdEncoding): read strictly, so that
         * a truncated or hand-mangled value is an error, not a guess */
        size_t al = strlen(a);
        if (al > 16384)
            goto bad64;
        unsigned char *dec;
        size_t dl;
        if (mm_base64_decode(&dec, &dl, a, al, 0) < 0) {
            char why[128];   /* "base64: bad character at offset N" */
            snprintf(why, sizeof why, "%s", mm_error_last());
            rc = mm_error_set(MM_EFORMAT, "%s: auths.\"%.100s\".auth is not base64 (%s)",
                              label, found_key, why);
            goto fail;
        }
        char *colon = memchr(dec, ':', dl);
        if (!colon || memchr(dec, 0, dl)) {
            OPENSSL_cleanse(dec, dl);
            free(dec);
            rc = mm_error_set(MM_EFORMAT, "%s: auths.\"%.100s\".auth does not decode to "
                              "user:password", label, found_key);
            goto fail;
        }
        *user = mm_xstrndup((char *)dec, (size_t)(colon - (char *)dec));
        *pass = mm_xstrdup(colon + 1);
        OPENSSL_cleanse(dec, dl);
        free(dec);
        rc = 0;
    } else if (u && p) {
        *user = mm_xstrdup(u);
        *pass = mm_xstrdup(p);
        rc = 0;
    }
    return rc;
bad64:
    rc = mm_error_set(MM_EFORMAT, "%s: auths.\"%.100s\".auth is not base64", label, found_key);
fail:
    if (idtok && *idtok) {
        mm_secret_free(*idtok);
        *idtok = NULL;
    }
    return rc;
}

void mm_secret_free(char *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* Wipes the secrets of every auths entry in jansson's tree before it is
 * freed: the copies we keep are cleansed, so are these. */
static void wipe_auths(json_t *j)
{
    static const char *const secret_keys[] = {"auth", "password", "identitytoken"};
    json_t *auths = json_object_get(j, "auths");
    const char *key;
    json_t *ent;
    if (!json_is_object(auths))
        return;
    json_object_foreach(auths, key, ent) {
        for (size_t i = 0; i < sizeof secret_keys / sizeof *secret_keys; i++) {
            const char *v = json_string_value(json_object_get(ent, secret_keys[i]));
            if (v)
                OPENSSL_cleanse((char *)v, json_string_length(json_object_get(ent, secret_keys[i])));
        }
    }
}

static json_t *load_config(const char *json, size_t len, const char *label, int *rc)
{
    json_error_t err;
    json_t *j = json_loadb(json, len, 0, &err);
    if (!json_is_object(j)) {
        *rc = mm_error_set(MM_EFORMAT, "%s: not a JSON object (line %d: %s)", label,
                           err.line, j ? "not an object" : err.text);
        json_decref(j);
        return NULL;
    }
    *rc = 0;
    return j;
}

int mm_reg_docker_auth(const char *json, size_t len, const char *label,
                       const char *host, char **user, char **pass)
{
    *user = *pass = NULL;
    int rc;
    json_t *j = load_config(json, len, label, &rc);
    if (!j)
        return rc;
    rc = auths_entry(j, label, host, user, pass, NULL);
    wipe_auths(j);
    json_decref(j);
    return rc;
}

/* --- credential helpers and identity tokens ------------------------------------- */
bool mm_reg_helper_name_valid(const char *name)
{
    if (!name || !*name || strlen(name) > MM_REG_MAX_HELPER_NAME)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
            return false;
    return true;
}

char *mm_reg_helper_server(const char *host)
{
    char h[300];
    norm_host(host, h, sizeof h);
    if (is_hub(h))
        return mm_xstrdup("https://index.docker.io/v1/");
    return mm_xstrdup(h);
}

void mm_reg_authcfg_clear(mm_reg_authcfg *a)
{
    if (!a)
        return;
    free(a->helper);
    free(a->source);
    free(a->user);
    mm_secret_free(a->pass);
    mm_secret_free(a->identity_token);
    memset(a, 0, sizeof *a);
}

static int take_helper(mm_reg_authcfg *out, json_t *v, const char *label, const char *what)
{
    const char *name = json_string_value(v);
    if (!name)
        return mm_error_set(MM_EFORMAT, "%s: %s is not a string", label, what);
    if (!mm_reg_helper_name_valid(name)) {
        char *pr = mm_str_printable(name);
        int rc = mm_error_set(MM_EFORMAT, "%s: %s names the credential helper \"%.100s\": "
                              "only letters, digits, '.', '_' and '-' are allowed", label, what,
                              pr);
        free(pr);
        return rc;
    }
    out->helper = mm_xstrdup(name);
    out->source = mm_xasprintf("%s of %s", what, label);
    return 0;
}

/*
 * Precedence, as docker/cli does it (configfile.GetCredentialsStore and
 * credentials.nativeStore.Get):
 *   1. credHelpers[host]: the helper named for this registry;
 *   2. else credsStore: the default helper, for every registry - the
 *      auths entry's credentials are then NOT used (docker keeps only the
 *      e-mail from the file), even when it holds an "auth";
 *   3. else the auths entry: "identitytoken" (an OAuth2 refresh token),
 *      "auth" (base64 user:password) or "username"/"password".
 * A helper that knows nothing for the registry means anonymous access,
 * never a fallback to auths (docker does the same).  credHelpers keys are
 * compared like auths keys (scheme and path dropped, case-insensitive,
 * Docker Hub's names equal).
 */
int mm_reg_docker_authcfg(mm_reg_authcfg *out, const char *json, size_t len,
                          const char *label, const char *host)
{
    memset(out, 0, sizeof *out);
    int rc;
    json_t *j = load_config(json, len, label, &rc);
    if (!j)
        return rc;
    json_t *helpers = json_object_get(j, "credHelpers");
    json_t *store = json_object_get(j, "credsStore");
    const char *key;
    json_t *v, *hit = NULL;
    const char *hit_key = NULL;
    if (helpers && !json_is_object(helpers) && !json_is_null(helpers)) {
        rc = mm_error_set(MM_EFORMAT, "%s: credHelpers is not an object", label);
        goto out;
    }
    if (json_is_object(helpers)) {
        json_object_foreach(helpers, key, v) {
            if (host_matches(key, host)) {
                hit = v;
                hit_key = key;
                break;
            }
        }
    }
    if (hit) {
        char what[160];
        char *pk = mm_str_printable(hit_key);
        snprintf(what, sizeof what, "credHelpers.\"%.100s\"", pk);
        free(pk);
        rc = take_helper(out, hit, label, what);
        goto out;
    }
    if (store && !json_is_null(store) &&
        !(json_is_string(store) && !*json_string_value(store))) {
        rc = take_helper(out, store, label, "credsStore");
        goto out;
    }
    rc = auths_entry(j, label, host, &out->user, &out->pass, &out->identity_token);
    if (rc == 0 && !out->identity_token)
        out->source = mm_xasprintf("auths of %s", label);
    else if (rc == 0)
        out->source = mm_xasprintf("auths identitytoken of %s", label);
out:
    wipe_auths(j);
    json_decref(j);
    if (rc < 0)
        mm_reg_authcfg_clear(out);
    return rc;
}

int mm_reg_helper_parse(const char *data, size_t len, const char *label, char **user,
                        char **secret, bool *idtoken)
{
    *user = *secret = NULL;
    *idtoken = false;
    if (!data || len == 0)
        return mm_error_set(MM_EFORMAT, "%s: printed nothing", label);
    if (len > MM_REG_MAX_HELPER_OUT)
        return mm_error_set(MM_ELIMIT, "%s: printed more than %u bytes", label,
                            MM_REG_MAX_HELPER_OUT);
    json_error_t err;
    json_t *j = json_loadb(data, len, 0, &err);
    if (!json_is_object(j)) {
        int rc = mm_error_set(MM_EFORMAT, "%s: the answer is not a JSON object (%s)", label,
                              j ? "another JSON value" : err.text);
        json_decref(j);
        return rc;
    }
    const char *u = json_string_value(json_object_get(j, "Username"));
    const char *s = json_string_value(json_object_get(j, "Secret"));
    int rc = 0;
    if (!u || !*u)
        rc = mm_error_set(MM_EFORMAT, "%s: the answer has no Username", label);
    else if (!s || !*s)
        rc = mm_error_set(MM_EFORMAT, "%s: the answer has no Secret", label);
    else if (strlen(u) > 4096 || strlen(s) > MM_REG_MAX_HEADER)
        rc = mm_error_set(MM_ELIMIT, "%s: Username or Secret is too long", label);
    else if (strchr(u, ':') && strcmp(u, "<token>") != 0)
        rc = mm_error_set(MM_EFORMAT, "%s: the Username holds ':'", label);
    if (rc == 0) {
        *idtoken = strcmp(u, "<token>") == 0;
        *user = mm_xstrdup(u);
        *secret = mm_xstrdup(s);
    }
    /* the document holds the secret too: wipe jansson's copy */
    if (s)
        OPENSSL_cleanse((char *)s, strlen(s));
    json_decref(j);
    return rc;
}
