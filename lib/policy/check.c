/*
 * policy/check.c - evaluates a gate policy against one image.
 *
 * The image is either a registry reference, resolved through the registry
 * client (an index is narrowed to the platform's manifest: that digest is
 * the store key of its scans, while signatures are checked on the digest
 * the reference itself resolves to, as cosign does), or a local archive
 * (docker-archive or OCI layout) opened without reading its layers.  The
 * facts then come from three places: the reference (registries, tags),
 * the image config (user, creation time) and the newest stored scan of the
 * digest (findings, scan time, database version).
 *
 * Every rule the policy sets yields exactly one reason, pass or deny, so
 * that the decision explains itself; rules the policy leaves out yield
 * nothing.  A rule that needs a scan when there is none denies ("not
 * checked") rather than passing quietly.
 *
 * Length: one rule evaluator a policy key each, all reading the same
 * gathered facts; a reader follows a decision top to bottom here.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "mamori/scan.h"
#include "image/intake.h"
#include "policy/policy_int.h"
#include "util/json.h"
#include "util/util.h"

#define MAX_CONFIG (16u << 20)   /* an image config blob */
#define MAX_LISTED 10            /* offending items named in one reason */
#define MAX_MESSAGE 4096         /* bytes in one reason */
#define DAY 86400

/* One name the image goes by: registry host and "registry/repository". */
typedef struct name {
    char *registry, *repo, *tag;
    bool digest;
} name;

typedef struct eval {
    const mm_policy *p;
    const mm_policy_env *env;
    mm_policy_decision *d;
    int64_t now;
    bool remote;
    mm_imageref *ref;
    name *names;
    size_t nnames;
    json_t *config;          /* the image config, or NULL when unreadable */
    mm_scan_record *rec;     /* newest scan, or NULL */
    json_t *report;          /* its JSON report */
} eval;

/* --- reasons --------------------------------------------------------------------- */
static void reason(eval *e, const char *rule, bool deny, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reason(eval *e, const char *rule, bool deny, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    /* values come from images and registries: one line, no terminal
     * control sequences, bounded */
    for (char *c = m; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    if (strlen(m) > MAX_MESSAGE)
        strcpy(m + MAX_MESSAGE - 4, "...");
    mm_policy_decision *d = e->d;
    d->reasons = mm_xrealloc(d->reasons, (d->nreasons + 1) * sizeof *d->reasons);
    mm_policy_reason *r = &d->reasons[d->nreasons++];
    r->rule = mm_xstrdup(rule);
    r->message = m;
    r->deny = deny;
    if (deny)
        d->allow = false;
}

static void join(mm_buf *b, char *const *v, size_t n)
{
    for (size_t i = 0; i < n && i < MAX_LISTED; i++)
        mm_buf_printf(b, "%s%s", i ? ", " : "", v[i]);
    if (n > MAX_LISTED)
        mm_buf_printf(b, ", ... (%zu in all)", n);
}

static const char *sev_text(int s)
{
    return s == MM_POLICY_SEV_NONE ? "none" : mm_severity_name((mm_severity)s);
}

static void fmt_time(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "%lld", (long long)t);
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* --- names and reference rules ------------------------------------------------------- */
static void add_name(eval *e, const mm_imageref *r)
{
    e->names = mm_xrealloc(e->names, (e->nnames + 1) * sizeof *e->names);
    name *n = &e->names[e->nnames++];
    n->registry = mm_xstrdup(r->registry);
    n->repo = mm_xasprintf("%s/%s", r->registry, r->repository);
    n->tag = mm_xstrdup(r->tag);
    n->digest = r->digest != NULL;
}

static const char *first_match(const mm_strlist *l, const char *s, int flags)
{
    for (size_t i = 0; i < l->n; i++)
        if (fnmatch(l->v[i], s, flags) == 0)
            return l->v[i];
    return NULL;
}

/* registries.* (repo = false) or repositories.* (repo = true). */
static void rule_lists(eval *e, bool repo)
{
    const mm_policy *p = e->p;
    const mm_strlist *deny = repo ? &p->repo_deny : &p->reg_deny;
    const mm_strlist *allow = repo ? &p->repo_allow : &p->reg_allow;
    const char *what = repo ? "repository" : "registry";
    /* host names are case-insensitive; repositories are lower case by spec */
    int flags = repo ? 0 : FNM_CASEFOLD;
    char rule[32];

    if (deny->set) {
        snprintf(rule, sizeof rule, "%s.deny", repo ? "repositories" : "registries");
        mm_buf bad = MM_BUF_INIT, ok = MM_BUF_INIT;
        for (size_t i = 0; i < e->nnames; i++) {
            const char *v = repo ? e->names[i].repo : e->names[i].registry;
            const char *m = first_match(deny, v, flags);
            if (m)
                mm_buf_printf(&bad, "%s%s \"%s\" matches the deny pattern \"%s\"",
                              bad.len ? "; " : "", what, v, m);
            else
                mm_buf_printf(&ok, "%s\"%s\"", ok.len ? ", " : "", v);
        }
        if (bad.len)
            reason(e, rule, true, "%s", bad.data);
        else if (!e->nnames)
            reason(e, rule, false, "the local archive names no %s", what);
        else
            reason(e, rule, false, "%s %s matches no deny pattern", what, ok.data);
        mm_buf_free(&bad);
        mm_buf_free(&ok);
    }
    if (allow->set) {
        snprintf(rule, sizeof rule, "%s.allow", repo ? "repositories" : "registries");
        mm_buf bad = MM_BUF_INIT, ok = MM_BUF_INIT, pats = MM_BUF_INIT;
        join(&pats, allow->v, allow->n);
        for (size_t i = 0; i < e->nnames; i++) {
            const char *v = repo ? e->names[i].repo : e->names[i].registry;
            const char *m = first_match(allow, v, flags);
            if (m)
                mm_buf_printf(&ok, "%s%s \"%s\" is allowed by \"%s\"", ok.len ? "; " : "",
                              what, v, m);
            else
                mm_buf_printf(&bad, "%s%s \"%s\"", bad.len ? ", " : "", what, v);
        }
        if (!e->nnames)
            reason(e, rule, true, "the local archive names no %s (no repository tags), so "
                   "it cannot match the allow list (%s)", what, pats.data);
        else if (bad.len)
            reason(e, rule, true, "%s is not in the allow list (%s)", bad.data, pats.data);
        else
            reason(e, rule, false, "%s", ok.data);
        mm_buf_free(&bad);
        mm_buf_free(&ok);
        mm_buf_free(&pats);
    }
}

static void rule_digest(eval *e)
{
    if (!e->p->require_digest)
        return;
    if (!e->remote)
        reason(e, "require_digest", false,
               "a local archive is checked by its content (%s)", e->d->digest);
    else if (e->ref->digest)
        reason(e, "require_digest", false, "pinned by digest %s", e->ref->digest);
    else
        reason(e, "require_digest", true,
               "\"%s\" names a tag, not a digest: pin it as %s/%s@%s", e->d->image,
               e->ref->registry, e->ref->repository, e->d->resolved_digest);
}

static void rule_latest(eval *e)
{
    if (!e->p->deny_latest)
        return;
    if (e->remote && e->ref->digest) {
        reason(e, "deny_latest", false, "pinned by digest %s: the tag is not what runs",
               e->ref->digest);
        return;
    }
    mm_buf bad = MM_BUF_INIT, ok = MM_BUF_INIT;
    for (size_t i = 0; i < e->nnames; i++) {
        const name *n = &e->names[i];
        if (!n->tag || !strcmp(n->tag, "latest"))
            mm_buf_printf(&bad, "%s%s:latest%s", bad.len ? ", " : "", n->repo,
                          n->tag ? "" : " (no tag means latest)");
        else
            mm_buf_printf(&ok, "%s%s:%s", ok.len ? ", " : "", n->repo, n->tag);
    }
    if (bad.len)
        reason(e, "deny_latest", true, "the latest tag is not allowed: %s", bad.data);
    else if (ok.len)
        reason(e, "deny_latest", false, "tagged %s", ok.data);
    else
        reason(e, "deny_latest", false, "the local archive carries no tag");
    mm_buf_free(&bad);
    mm_buf_free(&ok);
}

static void rule_transport(eval *e)
{
    if (!e->p->deny_insecure_registry)
        return;
    if (!e->remote) {
        reason(e, "deny_insecure_registry", false, "a local archive: no registry connection");
        return;
    }
    size_t n = mm_registry_transport_count(e->env->registry);
    for (size_t i = 0; i < n; i++) {
        const mm_registry_transport *t = mm_registry_transport_get(e->env->registry, i);
        if (t && t->host && !strcasecmp(t->host, e->ref->api_host) &&
            (t->plain_http || t->tls_unverified)) {
            reason(e, "deny_insecure_registry", true, "%s was reached %s", t->host,
                   t->plain_http ? "over plain HTTP" : "with TLS verification off");
            return;
        }
    }
    reason(e, "deny_insecure_registry", false, "%s was reached over verified TLS",
           e->ref->api_host);
}

/* --- signatures ------------------------------------------------------------------ */
static int rule_signatures(eval *e)
{
    const mm_policy *p = e->p;
    if (!p->nkeys)
        return 0;
    if (!e->remote) {
        reason(e, "signatures.keys", true,
               "signatures are kept in a registry beside the image: a local archive "
               "cannot be verified (check the pushed image instead)");
        return 0;
    }
    /* verify the digest resolved above, so that what is checked is what the
     * scan and the other rules saw */
    mm_imageref r = *e->ref;
    r.digest = e->d->resolved_digest;
    mm_buf good = MM_BUF_INIT, bad = MM_BUF_INIT;
    size_t nvalid = 0;
    for (size_t i = 0; i < p->nkeys; i++) {
        mm_verify_report *vr = NULL;
        mm_sigkey *k = p->keys[i];
        int rc = mm_cosign_verify_image(&vr, e->env->registry, &r, &k, 1);
        if (rc < 0) {
            mm_buf_free(&good);
            mm_buf_free(&bad);
            return mm_error_wrap(rc, "signatures of %s: ", e->d->image);
        }
        const char *id = mm_sigkey_id(k);
        if (vr->verified) {
            nvalid++;
            mm_buf_printf(&good, "%s%s (%s)", good.len ? ", " : "", p->key_paths[i],
                          id ? id : "?");
        } else {
            /* a signature manifest that could not be read says why first */
            const char *why = vr->error;
            for (size_t j = 0; j < vr->nchecks && !why; j++)
                why = vr->checks[j].reason;
            mm_buf_printf(&bad, "%s%s (%s): %s", bad.len ? "; " : "", p->key_paths[i],
                          id ? id : "?",
                          !vr->sig_found ? "no signature stored (no tag " : why ? why
                                         : "no valid signature");
            if (!vr->sig_found)
                mm_buf_printf(&bad, "%s)", vr->sig_tag ? vr->sig_tag : "sha256-<hex>.sig");
        }
        mm_verify_report_free(vr);
    }
    bool ok = p->sig_all ? nvalid == p->nkeys : nvalid > 0;
    const char *mode = p->sig_all ? "all" : "any";
    if (ok)
        reason(e, "signatures.keys", false, "%s signed by %s%s%s (mode %s)",
               e->d->resolved_digest, good.data, bad.len ? "; not by " : "",
               bad.len ? bad.data : "", mode);
    else if (nvalid)
        reason(e, "signatures.keys", true,
               "%s is signed by %s but every key is required (mode all): not by %s",
               e->d->resolved_digest, good.data, bad.data);
    else
        reason(e, "signatures.keys", true, "%s has no valid signature by %s: %s",
               e->d->resolved_digest, p->sig_all ? "every required key" : "any of the keys",
               bad.data);
    mm_buf_free(&good);
    mm_buf_free(&bad);
    return 0;
}

/* --- rules on the stored scan ------------------------------------------------------------ */
typedef bool (*pick_fn)(eval *e, json_t *f);

/* Lists the findings pick() selects: "ID (SEV, where)". */
static size_t list_findings(eval *e, pick_fn pick, mm_buf *out)
{
    size_t n = 0, i;
    json_t *f;
    json_array_foreach(json_object_get(e->report, "findings"), i, f) {
        if (!json_is_object(f) || !pick(e, f))
            continue;
        if (n < MAX_LISTED) {
            json_t *loc = json_object_get(f, "location");
            const char *where = jstr(loc, "package");
            if (!where)
                where = jstr(loc, "path");
            const char *id = jstr(f, "id"), *sev = jstr(f, "severity");
            mm_buf_printf(out, "%s%s (%s%s%s)", n ? ", " : "", id ? id : "?",
                          sev ? sev : "UNKNOWN", where ? ", " : "", where ? where : "");
        }
        n++;
    }
    if (n > MAX_LISTED)
        mm_buf_printf(out, ", ... (%zu in all)", n);
    return n;
}

static int sev_rank(json_t *f)
{
    mm_severity s = MM_SEV_UNKNOWN;
    const char *v = jstr(f, "severity");
    if (!v || mm_severity_parse(&s, v) < 0)
        s = MM_SEV_UNKNOWN;
    mm_error_clear();
    return (int)s;
}

static bool is_kind(json_t *f, const char *k)
{
    const char *v = jstr(f, "kind");
    return v && !strcmp(v, k);
}

static bool vuln_ignored(eval *e, json_t *f)
{
    const mm_strlist *ig = &e->p->vuln_ignore;
    const char *id = jstr(f, "id");
    for (size_t i = 0; i < ig->n; i++) {
        if (id && !strcmp(ig->v[i], id))
            return true;
        size_t j;
        json_t *r;
        json_array_foreach(json_object_get(f, "references"), j, r) {
            const char *s = json_string_value(r);
            if (s && !strchr(s, '/') && !strcmp(s, ig->v[i]))
                return true;  /* an alias (GHSA-..., CVE-...) */
        }
    }
    return false;
}

/* A vulnerability is fixable when the match named a fixed version, which
 * the report carries as a remediation (see mm_finding_unfixed). */
static bool vuln_fixable(json_t *f) { return jstr(f, "remediation") != NULL; }

static bool pick_vuln(eval *e, json_t *f)
{
    return is_kind(f, "vulnerability") && sev_rank(f) > e->p->vuln_max &&
           (!e->p->vuln_fixable_only || vuln_fixable(f)) && !vuln_ignored(e, f);
}

static bool pick_vuln_ignored(eval *e, json_t *f)
{
    return is_kind(f, "vulnerability") && sev_rank(f) > e->p->vuln_max &&
           (!e->p->vuln_fixable_only || vuln_fixable(f)) && vuln_ignored(e, f);
}

static bool pick_vuln_unfixed(eval *e, json_t *f)
{
    return is_kind(f, "vulnerability") && sev_rank(f) > e->p->vuln_max &&
           e->p->vuln_fixable_only && !vuln_fixable(f) && !vuln_ignored(e, f);
}

static bool pick_secret(eval *e, json_t *f)
{
    return is_kind(f, "secret") && sev_rank(f) > e->p->secrets_max;
}

static bool pick_malware(eval *e, json_t *f)
{
    return is_kind(f, "malware") && sev_rank(f) > e->p->malware_max;
}

/* The misconfiguration checks of lib/config/imagecheck.c that mean a
 * remote shell: ssh/telnet port exposed, ssh/telnet server installed. */
static bool pick_shell(eval *e, json_t *f)
{
    (void)e;
    const char *id = jstr(f, "id");
    return id && (!strcmp(id, "MM-IMG-006") || !strcmp(id, "MM-IMG-008"));
}

static void rule_vulns(eval *e)
{
    const mm_policy *p = e->p;
    const char *rule = "vulnerabilities.max_severity";
    const char *scope = p->vuln_fixable_only ? " with a fix" : "";
    if (!e->rec->db_version || !*e->rec->db_version) {
        reason(e, rule, true, "the scan used no vulnerability database, so vulnerabilities "
               "were not checked (mamori db update, then scan again)");
        return;
    }
    mm_buf b = MM_BUF_INIT, extra = MM_BUF_INIT, tmp = MM_BUF_INIT;
    size_t n = list_findings(e, pick_vuln, &b);
    size_t nig = list_findings(e, pick_vuln_ignored, &tmp);
    size_t nunf = list_findings(e, pick_vuln_unfixed, &tmp);
    if (nig)
        mm_buf_printf(&extra, "; %zu ignored by the policy", nig);
    if (nunf)
        mm_buf_printf(&extra, "; %zu without a fix not counted", nunf);
    if (n)
        reason(e, rule, true, "%zu vulnerabilit%s above %s%s: %s%s", n, n == 1 ? "y" : "ies",
               sev_text(p->vuln_max), scope, b.data, extra.data ? extra.data : "");
    else
        reason(e, rule, false, "no vulnerability above %s%s (database %s)%s",
               sev_text(p->vuln_max), scope, e->rec->db_version,
               extra.data ? extra.data : "");
    mm_buf_free(&b);
    mm_buf_free(&extra);
    mm_buf_free(&tmp);
}

static void rule_found(eval *e, const char *rule, pick_fn pick, const char *what,
                       const char *none)
{
    mm_buf b = MM_BUF_INIT;
    size_t n = list_findings(e, pick, &b);
    if (n)
        reason(e, rule, true, "%zu %s: %s", n, what, b.data);
    else
        reason(e, rule, false, "%s", none);
    mm_buf_free(&b);
}

/* Whether the stored scan ran `scanner`: "no finding" only means
 * something when somebody looked.  Denies the rule (with the reason) when
 * it did not, or when the report predates the "scanners" record. */
static bool scanner_ran(eval *e, const char *rule, const char *scanner)
{
    json_t *sc = json_object_get(e->report, "scanners"), *v;
    size_t i;
    if (!json_is_array(sc)) {
        reason(e, rule, true, "the stored scan does not record which scanners ran "
               "(made by an older mamori): rescan the image");
        return false;
    }
    json_array_foreach(sc, i, v)
        if (json_is_string(v) && !strcmp(json_string_value(v), scanner))
            return true;
    reason(e, rule, true, "the stored scan did not run the %s scanner, so nothing was "
           "looked for: rescan with --scanners including %s", scanner, scanner);
    return false;
}

/* secrets.max_severity and malware.max_severity */
static void rule_max(eval *e, const char *rule, const char *what, int max, pick_fn pick)
{
    if (!scanner_ran(e, rule, what))
        return;
    char found[64], none[64];
    snprintf(found, sizeof found, "%s finding(s) above %s", what, sev_text(max));
    snprintf(none, sizeof none, "no %s finding above %s", what, sev_text(max));
    rule_found(e, rule, pick, found, none);
}

/* --- rules on the image config --------------------------------------------------------- */
static void rule_root(eval *e)
{
    if (!e->p->deny_root_user)
        return;
    const char *user = NULL;
    if (e->config)
        user = jstr(json_object_get(e->config, "config"), "User");
    else if (e->report)
        user = jstr(json_object_get(e->report, "image"), "user");
    else {
        reason(e, "deny_root_user", true, "the image config could not be read");
        return;
    }
    /* the user part of "user[:group]" */
    size_t ul = user ? strcspn(user, ":") : 0;
    bool root = !user || ul == 0 || (ul == 4 && !strncmp(user, "root", 4)) ||
                (ul == 1 && user[0] == '0');
    if (root)
        reason(e, "deny_root_user", true, "runs as root (%s%s%s)",
               user && *user ? "User \"" : "no User set", user && *user ? user : "",
               user && *user ? "\"" : "");
    else
        reason(e, "deny_root_user", false, "runs as \"%s\"", user);
}

static void rule_image_age(eval *e)
{
    int64_t max = e->p->max_image_age_days;
    if (max < 0)
        return;
    const char *created = NULL;
    if (e->config)
        created = jstr(e->config, "created");
    else if (e->report)
        created = jstr(json_object_get(e->report, "image"), "created");
    int64_t t;
    if (!created || mm_time_parse_rfc3339(created, &t) < 0) {
        reason(e, "max_image_age_days", true,
               "the image config has %s creation time, so its age is unknown",
               created ? "an unreadable" : "no");
        return;
    }
    int64_t age = e->now > t ? (e->now - t) / DAY : 0;
    char when[32];
    fmt_time(t, when);
    reason(e, "max_image_age_days", age > max, "created %s, %lld day%s ago (limit %lld)",
           when, (long long)age, age == 1 ? "" : "s", (long long)max);
}

static void rule_scan_age(eval *e)
{
    int64_t max = e->p->max_scan_age_days;
    if (max < 0)
        return;
    int64_t age = e->now > e->rec->scanned_at ? (e->now - e->rec->scanned_at) / DAY : 0;
    char when[32];
    fmt_time(e->rec->scanned_at, when);
    reason(e, "max_scan_age_days", age > max, "scanned %s, %lld day%s ago (limit %lld)",
           when, (long long)age, age == 1 ? "" : "s", (long long)max);
}

/* The rules that read the scan, as the policy sets them ("a, b"); empty
 * when none is set. */
static void scan_rule_names(const mm_policy *p, mm_buf *b)
{
    const char *rules[] = {
        p->max_scan_age_days >= 0 ? "max_scan_age_days" : NULL,
        p->vuln_set ? "vulnerabilities.max_severity" : NULL,
        p->secrets_set ? "secrets.max_severity" : NULL,
        p->malware_set ? "malware.max_severity" : NULL,
        p->deny_remote_shells ? "deny_remote_shells" : NULL,
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i])
            mm_buf_printf(b, "%s%s", b->len ? ", " : "", rules[i]);
}

/* Every rule that reads the scan, in output order.  Without a scan they
 * are not evaluated: the "scan" reason denies and names them. */
static void scan_rules(eval *e)
{
    const mm_policy *p = e->p;
    if (!e->rec)
        return;
    rule_scan_age(e);
    if (p->vuln_set)
        rule_vulns(e);
    if (p->secrets_set)
        rule_max(e, "secrets.max_severity", "secret", p->secrets_max, pick_secret);
    if (p->malware_set)
        rule_max(e, "malware.max_severity", "malware", p->malware_max, pick_malware);
    if (p->deny_remote_shells && scanner_ran(e, "deny_remote_shells", "misconfig"))
        rule_found(e, "deny_remote_shells", pick_shell, "remote shell finding(s)",
                   "no ssh or telnet server installed or exposed");
}

/* --- resolving the image ------------------------------------------------------------- */
static int open_remote(eval *e)
{
    mm_registry *c = e->env->registry;
    if (!c)
        return mm_error_set(MM_EINVAL, "%s: a registry reference needs a registry client",
                            e->d->image);
    int rc = mm_imageref_parse(&e->ref, e->d->image);
    if (rc < 0)
        return rc;
    e->d->reference = mm_imageref_format(e->ref);
    add_name(e, e->ref);

    char *body = NULL, *mt = NULL, dg[72], want[72];
    size_t len = 0;
    const char *which = NULL;   /* NULL: the reference's own tag or digest */
    json_t *m = NULL;
    for (int depth = 0;; depth++) {
        rc = mm_registry_get_manifest(c, e->ref, which, &body, &len, &mt, dg);
        if (rc < 0)
            goto out;
        if (depth == 0)
            e->d->resolved_digest = mm_xstrdup(dg);
        /* the same platform choice as the scan that made the store key */
        bool is_index;
        char *label = mm_xasprintf("%s (manifest %s)", e->d->image, dg);
        rc = mm_manifest_platform(label, body, len, mt, e->env->platform, &is_index, want);
        free(label);
        if (rc < 0)
            goto out;
        if (!is_index) {
            m = json_loadb(body, len, 0, NULL);
            break;
        }
        if (depth >= 2) {
            rc = mm_error_set(MM_ELIMIT, "%s: indexes nested deeper than 2", e->d->image);
            goto out;
        }
        which = want;
        free(body);
        free(mt);
        body = mt = NULL;
    }
    e->d->digest = mm_xstrdup(dg);
    const char *cd = jstr(json_object_get(m, "config"), "digest");
    if (!mm_digest_valid(cd)) {
        rc = mm_error_set(MM_EFORMAT, "%s: manifest %s: config.digest is not a sha256 digest",
                          e->d->image, dg);
        goto out;
    }
    char *cfg = NULL;
    size_t clen = 0;
    rc = mm_registry_get_blob(c, e->ref, cd, MAX_CONFIG, &cfg, &clen);
    if (rc < 0)
        goto out;
    e->config = json_loadb(cfg, clen, 0, NULL);
    free(cfg);
out:
    json_decref(m);
    free(body);
    free(mt);
    return rc;
}

static int open_local(eval *e)
{
    mm_scan_opts o;
    mm_scan_opts_init(&o);
    o.platform = e->env->platform;
    mm_result *r = NULL;
    int rc = mm_scan_inspect(&r, MM_TARGET_IMAGE, e->d->image, &o);
    if (rc == 0) {
        /* the key every scan of this image is stored under */
        const mm_image_info *im = mm_result_image(r);
        e->d->digest = mm_xstrdup(mm_result_key(r));
        if (!e->d->digest)
            rc = mm_error_set(MM_EFORMAT, "%s: the image has neither a manifest nor a "
                              "config digest", e->d->image);
        for (size_t i = 0; rc == 0 && i < im->nrepo_tags; i++) {
            mm_imageref *ref = NULL;
            if (mm_imageref_parse(&ref, im->repo_tags[i]) == 0)
                add_name(e, ref);
            mm_imageref_free(ref);
        }
        mm_error_clear();
        if (im->config_json)
            e->config = json_loads(im->config_json, 0, NULL);
    }
    mm_result_free(r);
    return rc;
}

/* --- the check ------------------------------------------------------------------------ */
int mm_policy_check(mm_policy_decision **out, const mm_policy *p, const char *image,
                    const mm_policy_env *env)
{
    if (!out || !p || !image || !env)
        return mm_error_set(MM_EINVAL, "policy check: missing argument");
    *out = NULL;
    if (!env->store)
        return mm_error_set(MM_EINVAL, "policy check: no store of scans given");
    eval E = {.p = p, .env = env};
    eval *e = &E;
    e->now = env->now ? env->now : (int64_t)time(NULL);
    e->d = mm_xcalloc(1, sizeof *e->d);
    e->d->allow = true;
    e->d->image = mm_xstrdup(image);
    e->remote = mm_imageref_is_remote(image);
    int rc = e->remote ? open_remote(e) : open_local(e);
    if (rc < 0)
        goto out;

    rc = mm_store_get_latest(env->store, e->d->digest, &e->rec);
    if (rc == MM_ENOTFOUND) {
        e->rec = NULL;
        mm_error_clear();
    } else if (rc < 0) {
        goto out;
    } else {
        json_error_t jerr;
        e->report = json_loads(e->rec->report_json ? e->rec->report_json : "", 0, &jerr);
        if (!json_is_object(e->report)) {
            rc = mm_error_set(MM_EDB, "store: the report of scan %lld (%s) is not JSON: %s",
                              (long long)e->rec->id, e->d->digest, jerr.text);
            goto out;
        }
        e->d->scanned_at = e->rec->scanned_at;
        e->d->db_version = mm_xstrdup(e->rec->db_version);
    }
    rc = 0;

    /* what the image is called and where it comes from */
    rule_lists(e, false);
    rule_lists(e, true);
    rule_digest(e);
    rule_latest(e);
    rule_transport(e);
    if ((rc = rule_signatures(e)) < 0)
        goto out;
    /* what is inside, per the newest scan */
    if (e->rec) {
        char when[32];
        fmt_time(e->rec->scanned_at, when);
        reason(e, "scan", false, "scanned %s: %lld packages, %lld findings, %s%s", when,
               (long long)e->rec->npackages, (long long)e->rec->nfindings,
               e->rec->db_version ? "vulnerability database " : "no vulnerability database",
               e->rec->db_version ? e->rec->db_version : "");
    } else {
        /* the command that records a scan of this very digest */
        char *cmd = e->remote ? mm_xasprintf("mamori image %s", e->d->reference)
                              : mm_xasprintf("mamori image --input %s", image);
        mm_buf unchecked = MM_BUF_INIT;
        scan_rule_names(p, &unchecked);
        char *tail = unchecked.len ? mm_xasprintf(" (not checked without a scan: %s)",
                                                  unchecked.data)
                                   : mm_xstrdup("");
        reason(e, "scan", true, "never scanned: no scan of %s in the store; run \"%s%s%s\" "
               "first%s", e->d->digest, cmd, env->platform ? " --platform " : "",
               env->platform ? env->platform : "", tail);
        free(tail);
        mm_buf_free(&unchecked);
        free(cmd);
    }
    scan_rules(e);
    rule_root(e);
    rule_image_age(e);
out:
    for (size_t i = 0; i < e->nnames; i++) {
        free(e->names[i].registry);
        free(e->names[i].repo);
        free(e->names[i].tag);
    }
    free(e->names);
    mm_imageref_free(e->ref);
    json_decref(e->config);
    json_decref(e->report);
    mm_scan_record_free(e->rec);
    if (rc < 0) {
        mm_policy_decision_free(e->d);
        return rc;
    }
    *out = e->d;
    return 0;
}

/* --- output ----------------------------------------------------------------------------- */
char *mm_policy_decision_json(const mm_policy_decision *d)
{
    if (!d)
        return NULL;
    json_t *o = json_object();
    json_object_set_new(o, "schema_version", json_integer(1));
    json_object_set_new(o, "allow", json_boolean(d->allow));
    json_object_set_new(o, "decision", json_string(d->allow ? "allow" : "deny"));
    json_object_set_new(o, "image", mm_json_str(d->image));
    json_object_set_new(o, "reference", mm_json_str(d->reference));
    json_object_set_new(o, "digest", mm_json_str(d->digest));
    json_object_set_new(o, "resolved_digest", mm_json_str(d->resolved_digest));
    if (d->scanned_at) {
        char when[32];
        fmt_time(d->scanned_at, when);
        json_object_set_new(o, "scanned_at", json_string(when));
    } else {
        json_object_set_new(o, "scanned_at", json_null());
    }
    json_object_set_new(o, "db_version", mm_json_str(d->db_version));
    json_t *rs = json_array();
    size_t ndeny = 0;
    for (size_t i = 0; i < d->nreasons; i++) {
        json_t *r = json_object();
        json_object_set_new(r, "rule", mm_json_str(d->reasons[i].rule));
        json_object_set_new(r, "result", json_string(d->reasons[i].deny ? "deny" : "pass"));
        json_object_set_new(r, "deny", json_boolean(d->reasons[i].deny));
        json_object_set_new(r, "message", mm_json_str(d->reasons[i].message));
        json_array_append_new(rs, r);
        ndeny += d->reasons[i].deny;
    }
    json_object_set_new(o, "denied", json_integer((json_int_t)ndeny));
    json_object_set_new(o, "reasons", rs);
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

void mm_policy_decision_free(mm_policy_decision *d)
{
    if (!d)
        return;
    free(d->image);
    free(d->reference);
    free(d->digest);
    free(d->resolved_digest);
    free(d->db_version);
    for (size_t i = 0; i < d->nreasons; i++) {
        free(d->reasons[i].rule);
        free(d->reasons[i].message);
    }
    free(d->reasons);
    free(d);
}
