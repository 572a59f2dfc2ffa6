/*
 * check.c - the registry security checks of SP 800-190 §3.2.1 and §3.2.3
 * (`mamori registry check`, include/mamori/regcheck.h).  The probes ask,
 * without any credentials, what the registry at HOST offers: GET /v2/ over
 * https (verified, then unverified) and over plain http, GET /v2/_catalog,
 * GET /v2/REPO/tags/list (pull) and POST /v2/REPO/blobs/uploads/ (push; an
 * accepted upload is cancelled with DELETE at once).  When the registry
 * answers 401 with a Bearer challenge an anonymous token is asked for, as
 * docker does, and the request repeated with it.  mm_regcheck_evaluate()
 * turns what was seen into verdicts and is free of I/O so that it can be
 * unit-tested.  Requests go through util/http.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mamori/regcheck.h"
#include "registry/regint.h"
#include "util/util.h"

static const struct {
    const char *id, *name, *title, *section, *remediation;
    mm_severity sev;
} defs[MM_REGCHECK__COUNT] = {
    {"MM-REGCHK-001", "anonymous-pull", "anonymous clients may pull images", "3.2.3",
     "require authentication for reads (auth: htpasswd or token in the registry "
     "configuration) and grant pull per repository", MM_SEV_MEDIUM},
    {"MM-REGCHK-002", "anonymous-push", "anonymous clients may push images", "3.2.3",
     "require authentication for writes and grant push only to the CI identities "
     "that publish images", MM_SEV_CRITICAL},
    {"MM-REGCHK-003", "anonymous-catalog", "anonymous clients may list every repository "
     "(/v2/_catalog)", "3.2.3",
     "require authentication for the catalog (registry:catalog:* scope) or turn it off",
     MM_SEV_LOW},
    {"MM-REGCHK-004", "plain-http", "the registry answers over plain HTTP", "3.2.1",
     "serve the registry over TLS only (http.tls in the registry configuration) and "
     "close the plain HTTP port", MM_SEV_HIGH},
    {"MM-REGCHK-005", "basic-auth-over-http", "basic authentication is offered over plain "
     "HTTP (passwords in the clear)", "3.2.3",
     "offer authentication only over TLS", MM_SEV_CRITICAL},
    {"MM-REGCHK-006", "token-endpoint-without-tls", "the token service (Bearer realm) is "
     "plain HTTP", "3.2.3",
     "serve the token service over TLS and name it with an https:// realm", MM_SEV_HIGH},
    {"MM-REGCHK-007", "tls-unverified", "the registry's TLS certificate does not verify",
     "3.2.1",
     "serve a certificate that chains to a trusted CA and names the host (or pass the "
     "private CA with --ca-file)", MM_SEV_MEDIUM},
};

struct mm_regcheck {
    char *target;
    mm_regcheck_item items[MM_REGCHECK__COUNT];
};

const char *mm_regcheck_verdict_name(mm_regcheck_verdict v)
{
    switch (v) {
    case MM_REGCHECK_PASS: return "pass";
    case MM_REGCHECK_FAIL: return "fail";
    case MM_REGCHECK_NA: return "not-applicable";
    default: return "error";
    }
}

static void set(mm_regcheck *c, mm_regcheck_id id, mm_regcheck_verdict v, char *evidence)
{
    c->items[id].verdict = v;
    free(c->items[id].evidence);
    c->items[id].evidence = evidence;
}

/* The scheme of a WWW-Authenticate value (the Bearer challenge when it
 * holds several) into c; false when there is none or it does not parse. */
static bool challenge(mm_reg_challenge *c, const char *v)
{
    memset(c, 0, sizeof *c);
    return v && mm_reg_challenge_parse(c, v, strlen(v)) == 0 && c->scheme;
}

static bool is_scheme(const mm_reg_challenge *c, const char *scheme)
{
    return c->scheme && !strcasecmp(c->scheme, scheme);
}

/* The verdict of an anonymous access probe. */
static void access_verdict(mm_regcheck *c, mm_regcheck_id id, long st, bool token,
                           const char *what)
{
    const char *how = token ? " with an anonymous token" : " without credentials";
    if (st == 401 || st == 403)
        set(c, id, MM_REGCHECK_PASS, mm_xasprintf("%s: HTTP %ld%s (refused)", what, st, how));
    else if (id == MM_REGCHECK_ANON_PUSH && (st == 404 || st == 405))
        set(c, id, MM_REGCHECK_PASS,
            mm_xasprintf("%s: HTTP %ld%s (uploads not offered)", what, st, how));
    else if (id == MM_REGCHECK_ANON_CATALOG && st == 404)
        set(c, id, MM_REGCHECK_NA, mm_xasprintf("%s: HTTP 404 (no catalog)", what));
    else if (st == 0)
        set(c, id, MM_REGCHECK_ERROR, mm_xasprintf("%s: no HTTP answer", what));
    else if ((st >= 200 && st < 300) || (id == MM_REGCHECK_ANON_PULL && st == 404))
        set(c, id, MM_REGCHECK_FAIL, mm_xasprintf("%s: HTTP %ld%s%s", what, st, how,
                                                  st == 404 ? " (the repository lookup "
                                                  "was reached: reads are not checked)" : ""));
    else
        set(c, id, MM_REGCHECK_ERROR, mm_xasprintf("%s: unexpected HTTP %ld%s", what, st, how));
}

int mm_regcheck_evaluate(mm_regcheck **out, const char *target, const mm_regcheck_obs *o)
{
    *out = NULL;
    mm_regcheck *c = mm_xcalloc(1, sizeof *c);
    c->target = mm_xstrdup(target);
    for (int i = 0; i < MM_REGCHECK__COUNT; i++) {
        c->items[i].id = defs[i].id;
        c->items[i].name = defs[i].name;
        c->items[i].title = defs[i].title;
        c->items[i].section = defs[i].section;
        c->items[i].remediation = defs[i].remediation;
        c->items[i].severity = defs[i].sev;
    }
    bool http_reg = o->http_status == 200 || o->http_status == 401;
    bool https_reg = o->https_status != 0;

    /* transport */
    if (http_reg)
        set(c, MM_REGCHECK_PLAIN_HTTP, MM_REGCHECK_FAIL,
            mm_xasprintf("GET http://%s/v2/: HTTP %ld", target, o->http_status));
    else if (o->http_status)
        set(c, MM_REGCHECK_PLAIN_HTTP, MM_REGCHECK_PASS,
            mm_xasprintf("GET http://%s/v2/: HTTP %ld (no registry API over http)", target,
                         o->http_status));
    else
        set(c, MM_REGCHECK_PLAIN_HTTP, MM_REGCHECK_PASS,
            mm_xasprintf("GET http://%s/v2/: no HTTP answer (%s)", target,
                         o->http_error ? o->http_error : "refused"));
    if (!https_reg)
        set(c, MM_REGCHECK_TLS_UNVERIFIED, MM_REGCHECK_NA,
            mm_xasprintf("no TLS endpoint (%s)", o->https_error ? o->https_error : "no answer"));
    else if (o->https_verified)
        set(c, MM_REGCHECK_TLS_UNVERIFIED, MM_REGCHECK_PASS,
            mm_xasprintf("GET https://%s/v2/: HTTP %ld, certificate verified", target,
                         o->https_status));
    else
        set(c, MM_REGCHECK_TLS_UNVERIFIED, MM_REGCHECK_FAIL,
            mm_xasprintf("GET https://%s/v2/: HTTP %ld only without verification (%s)",
                         target, o->https_status, o->https_error ? o->https_error : "?"));

    /* basic auth over http */
    mm_reg_challenge ch, cs;
    bool has_h = challenge(&ch, o->http_challenge), has_s = challenge(&cs, o->https_challenge);
    if (!http_reg)
        set(c, MM_REGCHECK_BASIC_HTTP, MM_REGCHECK_NA,
            mm_xasprintf("no registry API over http"));
    else if (has_h && is_scheme(&ch, "basic"))
        set(c, MM_REGCHECK_BASIC_HTTP, MM_REGCHECK_FAIL,
            mm_xasprintf("http://%s/v2/: WWW-Authenticate: %.200s", target, o->http_challenge));
    else
        set(c, MM_REGCHECK_BASIC_HTTP, MM_REGCHECK_PASS,
            mm_xasprintf("http://%s/v2/: %s%.200s", target,
                         o->http_challenge ? "WWW-Authenticate: " : "no basic challenge",
                         o->http_challenge ? o->http_challenge : ""));

    /* token service without TLS: the realm of any Bearer challenge */
    const mm_reg_challenge *b = has_s && is_scheme(&cs, "bearer") ? &cs
                              : has_h && is_scheme(&ch, "bearer") ? &ch : NULL;
    if (!b)
        set(c, MM_REGCHECK_TOKEN_HTTP, MM_REGCHECK_NA, mm_xasprintf("no Bearer challenge"));
    else if (!b->realm || !b->realm[0])
        set(c, MM_REGCHECK_TOKEN_HTTP, MM_REGCHECK_ERROR,
            mm_xasprintf("Bearer challenge without realm: %.200s",
                         b == &cs ? o->https_challenge : o->http_challenge));
    else if (!strncasecmp(b->realm, "https://", 8))
        set(c, MM_REGCHECK_TOKEN_HTTP, MM_REGCHECK_PASS, mm_xasprintf("realm %.500s", b->realm));
    else
        set(c, MM_REGCHECK_TOKEN_HTTP, MM_REGCHECK_FAIL,
            mm_xasprintf("realm %.500s is not https", b->realm));
    mm_reg_challenge_clear(&ch);
    mm_reg_challenge_clear(&cs);

    /* anonymous access */
    if (!https_reg && !http_reg) {
        for (int i = MM_REGCHECK_ANON_PULL; i <= MM_REGCHECK_ANON_CATALOG; i++)
            set(c, i, MM_REGCHECK_ERROR, mm_xasprintf("the registry API did not answer"));
    } else {
        const char *repo = o->repository ? o->repository : "?";
        char what[600];
        snprintf(what, sizeof what, "GET /v2/%.500s/tags/list", repo);
        access_verdict(c, MM_REGCHECK_ANON_PULL, o->pull_status, o->pull_token, what);
        snprintf(what, sizeof what, "POST /v2/%.500s/blobs/uploads/", repo);
        access_verdict(c, MM_REGCHECK_ANON_PUSH, o->push_status, o->push_token, what);
        if (c->items[MM_REGCHECK_ANON_PUSH].verdict == MM_REGCHECK_FAIL) {
            char *e = mm_xasprintf("%s; the upload was %s", c->items[MM_REGCHECK_ANON_PUSH].evidence,
                                   o->push_cancelled ? "cancelled" : "NOT cancelled");
            set(c, MM_REGCHECK_ANON_PUSH, MM_REGCHECK_FAIL, e);
        }
        access_verdict(c, MM_REGCHECK_ANON_CATALOG, o->catalog_status, o->catalog_token,
                       "GET /v2/_catalog");
    }
    *out = c;
    return 0;
}

void mm_regcheck_free(mm_regcheck *c)
{
    if (!c)
        return;
    for (int i = 0; i < MM_REGCHECK__COUNT; i++)
        free(c->items[i].evidence);
    free(c->target);
    free(c);
}

const char *mm_regcheck_target(const mm_regcheck *c) { return c->target; }
size_t mm_regcheck_count(const mm_regcheck *c) { (void)c; return MM_REGCHECK__COUNT; }

const mm_regcheck_item *mm_regcheck_get(const mm_regcheck *c, size_t i)
{
    return i < MM_REGCHECK__COUNT ? &c->items[i] : NULL;
}

int mm_regcheck_findings(const mm_regcheck *c, unsigned sevmask, mm_findings *out)
{
    int n = 0;
    for (int i = 0; i < MM_REGCHECK__COUNT; i++) {
        const mm_regcheck_item *it = &c->items[i];
        if (it->verdict != MM_REGCHECK_FAIL ||
            (sevmask && !(sevmask & (1u << it->severity))))
            continue;
        mm_finding f;
        memset(&f, 0, sizeof f);
        f.id = (char *)it->id;
        f.kind = MM_FIND_TRUST;
        f.severity = it->severity;
        f.title = (char *)it->title;
        f.loc.layer = -1;
        f.loc.host = c->target;
        f.evidence = it->evidence;
        f.remediation = (char *)it->remediation;
        f.section = (char *)it->section;
        int rc = mm_findings_add(out, &f);
        if (rc < 0)
            return rc;
        n++;
    }
    return n;
}

int mm_regcheck_json(char **out, const mm_regcheck *c)
{
    *out = NULL;
    json_t *doc = json_object(), *arr = json_array();
    size_t tally[MM_REGCHECK_ERROR + 1] = {0};
    json_object_set_new(doc, "target", json_string(c->target));
    for (int i = 0; i < MM_REGCHECK__COUNT; i++) {
        const mm_regcheck_item *it = &c->items[i];
        tally[it->verdict]++;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
            "id", it->id, "name", it->name, "title", it->title, "section", it->section,
            "severity", mm_severity_name(it->severity),
            "verdict", mm_regcheck_verdict_name(it->verdict),
            "evidence", it->evidence ? it->evidence : ""));
    }
    json_object_set_new(doc, "checks", arr);
    json_object_set_new(doc, "summary", json_pack("{s:I,s:I,s:I,s:I}",
        "pass", (json_int_t)tally[MM_REGCHECK_PASS], "fail", (json_int_t)tally[MM_REGCHECK_FAIL],
        "not_applicable", (json_int_t)tally[MM_REGCHECK_NA],
        "error", (json_int_t)tally[MM_REGCHECK_ERROR]));
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    json_decref(doc);
    if (!s)
        return mm_error_set(MM_ENOMEM, "registry check: JSON");
    *out = s;
    return 0;
}
