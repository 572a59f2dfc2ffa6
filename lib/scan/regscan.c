/*
 * scan/regscan.c - registry inventory and rescans (mamori/regscan.h,
 * SP 800-190 §3.2.2): the scan pipeline run over every tag of a registry.
 *
 * Two phases.  First every repository is listed and every tag resolved
 * to a digest (a HEAD each), so that each repository's current release is
 * known before anything is judged.  Then each tag is settled: its
 * platform manifest digest (the store key of a registry scan) is found —
 * from the store when it already holds the resolved digest, else from the
 * manifest (an index is walked to the requested platform) — and the
 * image is scanned only when neither this run nor the store has a scan of
 * that digest made with the current vulnerability database; a scan is one
 * run of the pipeline (mamori/scan.h: pull, analyzers, match, record)
 * through the run's registry client.  Nothing the
 * registry says is trusted: names are checked against the reference
 * grammar before they are put into a reference, counts are capped, and
 * the failure of one image is kept with that image.
 *
 * Length: the two phases of one registry run share the run state (tags,
 * digests, the store's scans, the report); names, tag ordering, the
 * reference grammar and the JSON output are its sections.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "mamori/regscan.h"
#include "report/json.h"
#include "scan/scan_int.h"
#include "util/json.h"

#define DEFAULT_MAX_IMAGES 100000
#define MAX_IMAGE_WARNINGS 20
#define MAX_RUN_WARNINGS 200
#define MAX_INDEX_DEPTH 4
#define SP800190_URL "https://doi.org/10.6028/NIST.SP.800-190"

struct mm_regscan_report {
    char *target;
    char *host;
    char *db_version;
    char *platform;
    int64_t max_age_days;
    int64_t started;
    double t0, seconds;
    mm_regscan_repo *repos;
    size_t nrepos, caprepos;
    mm_regscan_image *images;
    size_t nimages, capimages;
    mm_result *fres;   /* holds the stale findings, for the JSON writer */
    char **warnings;
    size_t nwarnings;
};

/* --- names --------------------------------------------------------------- */

const char *mm_regscan_stale_name(unsigned bit)
{
    switch (bit) {
    case MM_REGSCAN_STALE_OLD: return "older-than-max-age";
    case MM_REGSCAN_STALE_NOT_CURRENT: return "not-current-release";
    case MM_REGSCAN_STALE_FIXABLE: return "fixable-vulnerabilities";
    }
    return NULL;
}

const char *mm_regscan_status_name(mm_regscan_status s)
{
    switch (s) {
    case MM_REGSCAN_SCANNED: return "scanned";
    case MM_REGSCAN_SKIPPED: return "skipped";
    case MM_REGSCAN_ERROR: return "error";
    }
    return "unknown";
}

void mm_regscan_opts_init(mm_regscan_opts *o)
{
    memset(o, 0, sizeof *o);
    mm_scan_opts_init(&o->scan);
    o->max_age_days = 90;
}

/* --- SemVer tags ----------------------------------------------------------- */

typedef struct semver {
    unsigned long long num[3];
    const char *pre;    /* after '-', or NULL */
} semver;

/* A numeric identifier: digits, no leading zero, at most 18 digits (so
 * that it fits without overflow). */
static bool numeric_id(const char *s, size_t n, unsigned long long *v)
{
    if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
        return false;
    unsigned long long x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        x = x * 10 + (unsigned)(s[i] - '0');
    }
    *v = x;
    return true;
}

static bool semver_parse(const char *tag, semver *out)
{
    if (!tag)
        return false;
    const char *p = tag;
    if (*p == 'v' || *p == 'V')
        p++;
    memset(out, 0, sizeof *out);
    for (int k = 0; k < 3; k++) {
        size_t n = strspn(p, "0123456789");
        if (!numeric_id(p, n, &out->num[k]))
            return false;
        p += n;
        if (*p != '.')
            break;
        if (k == 2)
            return false;
        p++;
    }
    if (*p == '\0')
        return true;
    if (*p != '-' || !p[1])
        return false;
    /* pre-release: dot-separated identifiers of [0-9A-Za-z-], numeric ones
     * without leading zeros (docker tags cannot hold '+': no build part) */
    const char *q = p + 1;
    while (*q) {
        size_t n = strspn(q, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz-");
        if (n == 0)
            return false;
        if (strspn(q, "0123456789") == n && n > 1 && q[0] == '0')
            return false;
        q += n;
        if (*q == '.') {
            if (!q[1])
                return false;
            q++;
        } else if (*q) {
            return false;
        }
    }
    out->pre = p + 1;
    return true;
}

bool mm_regscan_tag_is_version(const char *tag, bool *prerelease)
{
    semver v;
    if (!semver_parse(tag, &v))
        return false;
    if (prerelease)
        *prerelease = v.pre != NULL;
    return true;
}

/* SemVer 2.0.0 §11.4: identifiers left to right; numeric ones compare
 * numerically and below alphanumeric ones; a longer list wins a tie. */
static int pre_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        size_t na = strcspn(a, "."), nb = strcspn(b, ".");
        unsigned long long va, vb;
        bool da = strspn(a, "0123456789") == na && numeric_id(a, na, &va);
        bool db = strspn(b, "0123456789") == nb && numeric_id(b, nb, &vb);
        int c;
        if (da && db)
            c = va < vb ? -1 : va > vb;
        else if (da != db)
            c = da ? -1 : 1;
        else {
            size_t m = na < nb ? na : nb;
            c = memcmp(a, b, m);
            if (c == 0)
                c = na < nb ? -1 : na > nb;
        }
        if (c)
            return c < 0 ? -1 : 1;
        a += na;
        b += nb;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

int mm_regscan_tag_cmp(const char *a, const char *b)
{
    semver va, vb;
    bool ia = semver_parse(a, &va), ib = semver_parse(b, &vb);
    if (ia && ib) {
        for (int k = 0; k < 3; k++)
            if (va.num[k] != vb.num[k])
                return va.num[k] < vb.num[k] ? -1 : 1;
        if (!va.pre != !vb.pre)
            return va.pre ? -1 : 1; /* a pre-release precedes its release */
        if (va.pre) {
            int c = pre_cmp(va.pre, vb.pre);
            if (c)
                return c;
        }
    } else if (ia != ib) {
        return ia ? -1 : 1;
    }
    int c = strcmp(a ? a : "", b ? b : "");
    return c < 0 ? -1 : c > 0;
}

long mm_regscan_current_release(const char *const *tags,
                                const char *const *digests, size_t n)
{
    long best = -1, best_pre = -1;
    for (size_t i = 0; i < n; i++) {
        if (!tags[i] || !digests || !digests[i])
            continue;
        if (strcmp(tags[i], "latest") == 0)
            return (long)i;
        bool pre;
        if (!mm_regscan_tag_is_version(tags[i], &pre))
            continue;
        long *slot = pre ? &best_pre : &best;
        if (*slot < 0 || mm_regscan_tag_cmp(tags[i], tags[*slot]) > 0)
            *slot = (long)i;
    }
    return best >= 0 ? best : best_pre;
}

unsigned mm_regscan_classify(const char *digest, const char *current_digest,
                             const char *created, int64_t now,
                             int64_t max_age_days, size_t fixable)
{
    unsigned st = 0;
    if (digest && current_digest && strcmp(digest, current_digest) != 0)
        st |= MM_REGSCAN_STALE_NOT_CURRENT;
    int64_t t;
    if (max_age_days > 0 && created && mm_time_parse_rfc3339(created, &t) == 0 &&
        now - t > max_age_days * 86400)
        st |= MM_REGSCAN_STALE_OLD;
    if (fixable > 0)
        st |= MM_REGSCAN_STALE_FIXABLE;
    return st;
}

/* --- reference grammar (distribution/reference) ------------------------------ */

static bool valid_tag(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)t[i]) && !strchr("_.-", t[i]))
            return false;
    return true;
}

/* path components [a-z0-9]+ joined by '.', '_', '__' or '-'s, split by '/' */
static bool valid_repo(const char *r)
{
    size_t n = r ? strlen(r) : 0;
    if (n == 0 || n > 255)
        return false;
    bool need_alnum = true;
    for (size_t i = 0; i < n; i++) {
        char c = r[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            need_alnum = false;
            continue;
        }
        if (need_alnum)
            return false;
        if (c == '/' || c == '.') {
            need_alnum = true;
        } else if (c == '_') {
            if (r[i + 1] == '_')
                i++;
            need_alnum = true;
        } else if (c == '-') {
            while (r[i + 1] == '-')
                i++;
            need_alnum = true;
        } else {
            return false;
        }
    }
    return !need_alnum;
}

static bool valid_host(const char *h)
{
    size_t n = strlen(h);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)h[i]) && !strchr(".-:[]", h[i]))
            return false;
    return true;
}

/* --- the report --------------------------------------------------------------- */

static void report_warn(mm_regscan_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report_warn(mm_regscan_report *rep, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&rep->warnings, &rep->nwarnings, MAX_RUN_WARNINGS, fmt, ap);
    va_end(ap);
}

static void image_clear(mm_regscan_image *im)
{
    free(im->registry);
    free(im->repository);
    free(im->tag);
    free(im->digest);
    free(im->manifest_digest);
    free(im->created);
    free(im->db_version);
    free(im->error);
    mm_strv_free(im->warnings, im->nwarnings);
}

void mm_regscan_report_free(mm_regscan_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrepos; i++) {
        free(r->repos[i].registry);
        free(r->repos[i].name);
        free(r->repos[i].current_tag);
        free(r->repos[i].current_digest);
        free(r->repos[i].error);
    }
    free(r->repos);
    for (size_t i = 0; i < r->nimages; i++)
        image_clear(&r->images[i]);
    free(r->images);
    mm_result_free(r->fres);
    mm_strv_free(r->warnings, r->nwarnings);
    free(r->target);
    free(r->host);
    free(r->db_version);
    free(r->platform);
    free(r);
}

const char *mm_regscan_report_target(const mm_regscan_report *r) { return r->target; }
const char *mm_regscan_report_db_version(const mm_regscan_report *r) { return r->db_version; }
int64_t mm_regscan_report_started(const mm_regscan_report *r) { return r->started; }
double mm_regscan_report_seconds(const mm_regscan_report *r) { return r->seconds; }
size_t mm_regscan_report_repo_count(const mm_regscan_report *r) { return r->nrepos; }
size_t mm_regscan_report_image_count(const mm_regscan_report *r) { return r->nimages; }
size_t mm_regscan_report_warning_count(const mm_regscan_report *r) { return r->nwarnings; }

const mm_regscan_repo *mm_regscan_report_repo(const mm_regscan_report *r, size_t i)
{
    return i < r->nrepos ? &r->repos[i] : NULL;
}

const mm_regscan_image *mm_regscan_report_image(const mm_regscan_report *r, size_t i)
{
    return i < r->nimages ? &r->images[i] : NULL;
}

const char *mm_regscan_report_warning(const mm_regscan_report *r, size_t i)
{
    return i < r->nwarnings ? r->warnings[i] : NULL;
}

const mm_findings *mm_regscan_report_findings(const mm_regscan_report *r)
{
    return mm_result_findings(r->fres);
}

void mm_regscan_report_summary(const mm_regscan_report *r, mm_regscan_summary *s)
{
    memset(s, 0, sizeof *s);
    s->repositories = r->nrepos;
    s->tags = r->nimages;
    mm_map *seen = mm_map_new();
    for (size_t i = 0; i < r->nimages; i++) {
        const mm_regscan_image *im = &r->images[i];
        if (im->status == MM_REGSCAN_SCANNED)
            s->scanned++;
        else if (im->status == MM_REGSCAN_SKIPPED)
            s->skipped++;
        else
            s->errors++;
        if (im->stale)
            s->stale++;
        if (!im->digest || mm_map_get(seen, im->digest))
            continue;
        mm_map_put(seen, im->digest, (void *)im);
        s->digests++;
        if (im->status == MM_REGSCAN_ERROR)
            continue;
        for (int k = 0; k <= MM_SEV_CRITICAL; k++)
            s->by_severity[k] += im->by_severity[k];
        s->fixable += im->fixable;
    }
    mm_map_free(seen, NULL);
    for (size_t i = 0; i < r->nrepos; i++)
        if (r->repos[i].error)
            s->errors++;
}

/* --- per-image work ------------------------------------------------------------ */

struct run {
    mm_regscan_report *rep;
    mm_registry *client;
    mm_store *store;
    const mm_regscan_opts *o;
    mm_pipeline *pl;     /* one for the run: database, store, rules */
    const char *platform;
    int64_t now;
    mm_map *by_digest;   /* resolved digest -> platform manifest digest */
    mm_map *done;        /* platform manifest digest -> image index + 1 */
};

/* The platform manifest digest of the image a tag resolved to: the digest
 * itself for a manifest, the platform's entry for an index (nested indexes
 * followed to a small depth), chosen by mm_manifest_platform like the
 * registry source does, so the key is the one the scan stores. */
static int platform_digest(struct run *R, mm_imageref *ref, const char *digest,
                           char out[72])
{
    char cur[72];
    snprintf(cur, sizeof cur, "%s", digest);
    for (int depth = 0; depth <= MAX_INDEX_DEPTH; depth++) {
        char *body = NULL, *mt = NULL;
        size_t len = 0;
        char got[72], next[72];
        int rc = mm_registry_get_manifest(R->client, ref, cur, &body, &len, &mt, got);
        if (rc < 0)
            return rc;
        char *name = mm_xasprintf("%s/%s@%s", ref->registry, ref->repository, cur);
        bool index;
        rc = mm_manifest_platform(name, body, len, mt, R->platform, &index, next);
        free(name);
        free(body);
        free(mt);
        if (rc < 0)
            return rc;
        if (!index) {
            snprintf(out, 72, "%s", cur);
            return 0;
        }
        snprintf(cur, sizeof cur, "%s", next);
    }
    return mm_error_set(MM_ELIMIT, "%s/%s@%s: image indexes nested deeper than %d",
                        ref->registry, ref->repository, digest, MAX_INDEX_DEPTH);
}

static void count_finding(mm_regscan_image *im, const char *kind, int sev,
                          bool has_fix)
{
    if (sev < 0 || sev > MM_SEV_CRITICAL)
        sev = MM_SEV_UNKNOWN;
    im->by_severity[sev]++;
    im->nfindings++;
    if (kind && !strcmp(kind, "vulnerability") && has_fix) {
        im->fixable++;
        if ((int)im->fixable_max < sev)
            im->fixable_max = (mm_severity)sev;
    }
}

static void image_from_result(mm_regscan_image *im, mm_result *r)
{
    const mm_image_info *ii = mm_result_image(r);
    free(im->created);
    im->created = mm_xstrdup(ii ? ii->created : NULL);
    const mm_findings *fl = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fl); i++) {
        const mm_finding *f = mm_findings_get(fl, i);
        count_finding(im, mm_finding_kind_name(f->kind), (int)f->severity,
                      f->kind == MM_FIND_VULNERABILITY && !mm_finding_unfixed(f));
    }
    for (size_t i = 0; i < mm_result_warning_count(r) && im->nwarnings < MAX_IMAGE_WARNINGS; i++)
        mm_strv_push(&im->warnings, &im->nwarnings, mm_result_warning(r, i));
}

/* The counts of a stored scan come from its JSON report (the unfiltered
 * result, docs/json-format.md). */
static void image_from_record(mm_regscan_image *im, const mm_scan_record *rec)
{
    im->last_scanned = rec->scanned_at;
    free(im->db_version);
    im->db_version = mm_xstrdup(rec->db_version);
    json_t *doc = rec->report_json ? json_loads(rec->report_json, 0, NULL) : NULL;
    if (!doc) {
        mm_strv_push(&im->warnings, &im->nwarnings,
                     "the stored report could not be read: counts are missing");
        return;
    }
    free(im->created);
    im->created = mm_xstrdup(json_string_value(
        json_object_get(json_object_get(doc, "image"), "created")));
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(doc, "findings"), i, f) {
        mm_severity sev = MM_SEV_UNKNOWN;
        const char *s = json_string_value(json_object_get(f, "severity"));
        if (s && mm_severity_parse(&sev, s) < 0)
            sev = MM_SEV_UNKNOWN;
        const char *rem = json_string_value(json_object_get(f, "remediation"));
        count_finding(im, json_string_value(json_object_get(f, "kind")), (int)sev,
                      rem != NULL);
    }
    json_decref(doc);
}

static void copy_outcome(mm_regscan_image *dst, const mm_regscan_image *src)
{
    dst->status = src->status == MM_REGSCAN_ERROR ? MM_REGSCAN_ERROR : MM_REGSCAN_SKIPPED;
    free(dst->manifest_digest);
    dst->manifest_digest = mm_xstrdup(src->manifest_digest);
    dst->created = mm_xstrdup(src->created);
    dst->last_scanned = src->last_scanned;
    dst->db_version = mm_xstrdup(src->db_version);
    dst->error = mm_xstrdup(src->error);
    memcpy(dst->by_severity, src->by_severity, sizeof dst->by_severity);
    dst->nfindings = src->nfindings;
    dst->fixable = src->fixable;
    dst->fixable_max = src->fixable_max;
}

static bool same_db(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void progress(struct run *R, size_t idx, mm_regscan_status st)
{
    if (!R->o->progress)
        return;
    const mm_regscan_image *im = &R->rep->images[idx];
    char *name = mm_xasprintf("%s/%s:%s", im->registry, im->repository, im->tag);
    mm_regscan_progress p = {name, idx, R->rep->nimages, st};
    R->o->progress(R->o->progress_ud, &p);
    free(name);
}

static void set_error(mm_regscan_image *im, const char *what)
{
    im->status = MM_REGSCAN_ERROR;
    free(im->error);
    im->error = mm_xasprintf("%s%s", what, mm_error_last());
}

/* Settles one tag: skip, or scan and record. */
static void settle(struct run *R, size_t idx)
{
    mm_regscan_image *im = &R->rep->images[idx];
    if (im->status == MM_REGSCAN_ERROR) {
        progress(R, idx, im->status);
        return;
    }
    mm_imageref *ref = NULL;
    char *refstr = mm_xasprintf("%s/%s@%s", im->registry, im->repository, im->digest);
    if (mm_imageref_parse(&ref, refstr) < 0) {
        set_error(im, "");
        free(refstr);
        progress(R, idx, im->status);
        return;
    }

    /* the platform manifest digest: known from this run, from the store
     * (it holds a manifest digest only as a key of its own), or fetched */
    mm_scan_record *rec = NULL;
    const char *pd = mm_map_get(R->by_digest, im->digest);
    if (pd) {
        im->manifest_digest = mm_xstrdup(pd);
    } else {
        if (R->store && mm_store_get_latest(R->store, im->digest, &rec) == 0) {
            im->manifest_digest = mm_xstrdup(im->digest);
        } else {
            char got[72];
            if (platform_digest(R, ref, im->digest, got) < 0) {
                set_error(im, "");
                goto out;
            }
            im->manifest_digest = mm_xstrdup(got);
        }
        mm_map_put(R->by_digest, im->digest, mm_xstrdup(im->manifest_digest));
    }

    uintptr_t prev = (uintptr_t)mm_map_get(R->done, im->manifest_digest);
    if (prev) {
        copy_outcome(im, &R->rep->images[prev - 1]);
        goto out;
    }
    if (!R->o->force && R->store && !rec &&
        mm_store_get_latest(R->store, im->manifest_digest, &rec) < 0)
        rec = NULL;
    if (!R->o->force && rec && same_db(rec->db_version, R->rep->db_version) &&
        scan_verifier_record_fresh(scan_pipeline_verifier(R->pl), rec->report_json)) {
        im->status = MM_REGSCAN_SKIPPED;
        image_from_record(im, rec);
        mm_map_put(R->done, im->manifest_digest, (void *)(uintptr_t)(idx + 1));
        goto out;
    }

    /* scan */
    progress(R, idx, MM_REGSCAN_SCANNED);
    mm_result *r = NULL;
    mm_pipeline_outcome oc;
    if (mm_pipeline_scan(R->pl, &r, &oc, MM_TARGET_REGISTRY, refstr) < 0) {
        set_error(im, "");
        mm_pipeline_outcome_clear(&oc);
        mm_map_put(R->done, im->manifest_digest, (void *)(uintptr_t)(idx + 1));
        free(refstr);
        mm_imageref_free(ref);
        mm_scan_record_free(rec);
        return; /* progress was reported as the scan started */
    }
    const char *key = mm_result_key(r);
    if (key && strcmp(key, im->manifest_digest) != 0) {
        /* the pull chose another manifest than our reading of the index:
         * the scan is the truth */
        free(im->manifest_digest);
        im->manifest_digest = mm_xstrdup(key);
        mm_map_put(R->by_digest, im->digest, mm_xstrdup(key));
    }
    im->status = MM_REGSCAN_SCANNED;
    im->last_scanned = mm_result_started(r);
    im->db_version = mm_xstrdup(R->rep->db_version);
    image_from_result(im, r);
    if (oc.store_error && im->nwarnings < MAX_IMAGE_WARNINGS + 1) {
        char *w = mm_xasprintf("scan not recorded: %s", oc.store_error);
        mm_strv_push(&im->warnings, &im->nwarnings, w);
        free(w);
    }
    mm_pipeline_outcome_clear(&oc);
    mm_result_free(r);
    mm_map_put(R->done, im->manifest_digest, (void *)(uintptr_t)(idx + 1));
    mm_scan_record_free(rec);
    free(refstr);
    mm_imageref_free(ref);
    return;
out:
    progress(R, idx, im->status);
    mm_scan_record_free(rec);
    free(refstr);
    mm_imageref_free(ref);
}

/* --- listing ----------------------------------------------------------------------- */

static mm_regscan_repo *add_repo(mm_regscan_report *rep, const char *name)
{
    if (rep->nrepos == rep->caprepos) {
        rep->caprepos = rep->caprepos ? rep->caprepos * 2 : 16;
        rep->repos = mm_xrealloc(rep->repos, rep->caprepos * sizeof *rep->repos);
    }
    mm_regscan_repo *r = &rep->repos[rep->nrepos++];
    memset(r, 0, sizeof *r);
    r->registry = mm_xstrdup(rep->host);
    r->name = mm_xstrdup(name);
    return r;
}

static mm_regscan_image *add_image(mm_regscan_report *rep, const char *repo,
                                   const char *tag)
{
    if (rep->nimages == rep->capimages) {
        rep->capimages = rep->capimages ? rep->capimages * 2 : 64;
        rep->images = mm_xrealloc(rep->images, rep->capimages * sizeof *rep->images);
    }
    mm_regscan_image *im = &rep->images[rep->nimages++];
    memset(im, 0, sizeof *im);
    im->registry = mm_xstrdup(rep->host);
    im->repository = mm_xstrdup(repo);
    im->tag = mm_xstrdup(tag);
    im->age_days = -1;
    return im;
}

/* Lists one repository's tags, resolves each, and picks the current
 * release.  Returns 0, or MM_E* when the tags could not be listed (the
 * repository then carries the error). */
static int list_repo(struct run *R, size_t ri, size_t max_images, bool *capped)
{
    mm_regscan_report *rep = R->rep;
    char *name = mm_xasprintf("%s/%s", rep->host, rep->repos[ri].name);
    mm_imageref *ref = NULL;
    int rc = mm_imageref_parse(&ref, name);
    free(name);
    char **tags = NULL;
    size_t ntags = 0;
    if (rc == 0)
        rc = mm_registry_tags(R->client, ref, &tags, &ntags);
    if (rc < 0) {
        rep->repos[ri].error = mm_xstrdup(mm_error_last());
        mm_imageref_free(ref);
        return rc;
    }
    size_t first = rep->nimages;
    for (size_t i = 0; i < ntags; i++) {
        if (rep->nimages >= max_images) {
            report_warn(rep, "stopped at %zu tags (the cap): %s is incomplete and "
                        "later repositories are not listed", max_images,
                        rep->repos[ri].name);
            *capped = true;
            break;
        }
        if (scan_cosign_artifact_tag(tags[i]))
            continue;   /* a signature beside an image (issue 20), no image */
        mm_regscan_image *im = add_image(rep, rep->repos[ri].name, tags[i]);
        rep->repos[ri].ntags++;
        if (!valid_tag(tags[i])) {
            im->status = MM_REGSCAN_ERROR;
            im->error = mm_xasprintf("%s/%s: the registry listed an invalid tag",
                                     rep->host, rep->repos[ri].name);
            free(im->tag);
            im->tag = mm_xstrndup(tags[i], 128);
            continue;
        }
        free(ref->tag);
        ref->tag = mm_xstrdup(tags[i]);
        free(ref->digest);
        ref->digest = NULL;
        char d[72];
        memset(d, 0, sizeof d);
        if (mm_registry_resolve(R->client, ref, d) < 0) {
            set_error(im, "");
            continue;
        }
        if (!mm_digest_valid(d)) {
            mm_error_set(MM_EFORMAT, "%s/%s:%s: the registry gave no sha256 digest",
                         rep->host, rep->repos[ri].name, tags[i]);
            set_error(im, "");
            continue;
        }
        im->digest = mm_xstrdup(d);
    }
    mm_strv_free(tags, ntags);
    mm_imageref_free(ref);

    /* the current release, over the tags just listed */
    size_t n = rep->nimages - first;
    const char **tv = mm_xcalloc(n + 1, sizeof *tv);
    const char **dv = mm_xcalloc(n + 1, sizeof *dv);
    for (size_t i = 0; i < n; i++) {
        tv[i] = rep->images[first + i].tag;
        dv[i] = rep->images[first + i].digest;
    }
    long cur = mm_regscan_current_release(tv, dv, n);
    if (cur >= 0) {
        rep->repos[ri].current_tag = mm_xstrdup(tv[cur]);
        rep->repos[ri].current_digest = mm_xstrdup(dv[cur]);
    }
    free(tv);
    free(dv);
    return 0;
}

/* --- findings ------------------------------------------------------------------------ */

static void add_stale_findings(mm_regscan_report *rep, const mm_regscan_image *im,
                               const mm_regscan_repo *repo)
{
    char *where = mm_xasprintf("%s/%s:%s@%s", im->registry, im->repository, im->tag,
                               im->digest ? im->digest : "?");
    char *refs[] = {SP800190_URL};
    mm_finding f;
    memset(&f, 0, sizeof f);
    f.kind = MM_FIND_TRUST;
    f.section = "3.2.2";
    f.loc.image = where;
    f.loc.layer = -1;
    f.references = refs;
    f.nreferences = 1;
    mm_findings *fl = mm_result_findings(rep->fres);
    char *title, *ev, *rem;
    if (im->stale & MM_REGSCAN_STALE_OLD) {
        f.id = "MM-REG-010";
        f.severity = MM_SEV_LOW;
        f.title = title = mm_xasprintf("image %s:%s is %lld days old (more than %lld)",
                                       im->repository, im->tag,
                                       (long long)im->age_days,
                                       (long long)rep->max_age_days);
        f.evidence = ev = mm_xasprintf("config created %s", im->created);
        f.remediation = rem = mm_xasprintf(
            "rebuild %s from an updated base image and push it, or delete the "
            "tag %s from the registry if nothing runs it", im->repository, im->tag);
        mm_findings_add(fl, &f);
        free(title), free(ev), free(rem);
    }
    if (im->stale & MM_REGSCAN_STALE_NOT_CURRENT) {
        f.id = "MM-REG-011";
        f.severity = MM_SEV_LOW;
        f.title = title = mm_xasprintf("tag %s of %s is not the current release (%s)",
                                       im->tag, im->repository, repo->current_tag);
        f.evidence = ev = mm_xasprintf("%s is %s; %s is %s", im->tag, im->digest,
                                       repo->current_tag, repo->current_digest);
        f.remediation = rem = mm_xasprintf(
            "move deployments to %s/%s:%s (%s), then delete or retag %s so that "
            "no one pulls the old release", im->registry, im->repository,
            repo->current_tag, repo->current_digest, im->tag);
        mm_findings_add(fl, &f);
        free(title), free(ev), free(rem);
    }
    if (im->stale & MM_REGSCAN_STALE_FIXABLE) {
        f.id = "MM-REG-012";
        f.severity = im->fixable_max;
        f.title = title = mm_xasprintf("image %s:%s has %zu vulnerabilities with a fix",
                                       im->repository, im->tag, im->fixable);
        f.evidence = ev = mm_xasprintf("%zu fixable, the worst %s (database %s)",
                                       im->fixable, mm_severity_name(im->fixable_max),
                                       im->db_version ? im->db_version : "none");
        f.remediation = rem = mm_xasprintf(
            "rebuild %s with the fixed package versions (`mamori image %s/%s@%s` "
            "lists them) and push a new release", im->repository, im->registry,
            im->repository, im->digest);
        mm_findings_add(fl, &f);
        free(title), free(ev), free(rem);
    }
    free(where);
}

/* --- the run ----------------------------------------------------------------------------- */

/* One pipeline for every scan of the run: the store records, the database
 * (opened once) matches, the client pulls.  Its database version is what
 * stored scans are compared with. */
static int open_pipeline(struct run *R)
{
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    po.scan = R->o->scan;
    po.scan.platform = R->platform;
    /* one client for the whole run: a connection and a token per image
     * cost more than many a small image's scan */
    po.scan.registry_client = R->client;
    po.vuln = !R->o->no_vuln;
    po.vuln_required = R->o->require_db;
    po.db_path = R->o->db_path;
    po.db_max_age_days = R->o->db_max_age_days;
    po.store = R->store;
    po.verify_keys = R->o->verify_keys;   /* issue 20: signatures */
    po.nverify_keys = R->o->nverify_keys;
    int rc = mm_pipeline_new(&R->pl, &po);
    if (rc < 0)
        return rc;
    const char *v = NULL, *why = NULL;
    rc = mm_pipeline_db_version(R->pl, &v, &why);
    if (rc < 0)
        return rc;
    if (v)
        R->rep->db_version = mm_xstrdup(v);
    else if (why)
        report_warn(R->rep, "vulnerability scanning skipped: %s", why);
    return 0;
}

int mm_regscan_run(mm_regscan_report **out, mm_registry *client, mm_store *store,
                   const char *target, const mm_regscan_opts *opts)
{
    if (!out)
        return mm_error_set(MM_EINVAL, "registry scan: no output pointer");
    *out = NULL;
    if (!client || !target || !opts)
        return mm_error_set(MM_EINVAL, "registry scan: no client, target or options");
    /* HOST or HOST/REPO: a repository, never a tag or digest */
    const char *slash = strchr(target, '/');
    char *host = slash ? mm_xstrndup(target, (size_t)(slash - target)) : mm_xstrdup(target);
    const char *repo = slash ? slash + 1 : NULL;
    if (!valid_host(host)) {
        free(host);
        return mm_error_set(MM_EINVAL, "registry scan \"%s\": \"HOST[/REPO]\" expected",
                            target);
    }
    if (repo && !valid_repo(repo)) {
        free(host);
        return mm_error_set(MM_EINVAL, "registry scan \"%s\": \"%s\" is not a repository "
                            "name (lowercase components; no :TAG or @DIGEST)",
                            target, repo);
    }
    /* the first component must read as a host by docker's rule, or every
     * reference made from it would silently mean Docker Hub */
    {
        char *probe = mm_xasprintf("%s/x", host);
        mm_imageref *pr = NULL;
        int prc = mm_imageref_parse(&pr, probe);
        bool same = prc == 0 && strcmp(pr->registry, host) == 0;
        mm_imageref_free(pr);
        free(probe);
        if (!same) {
            int rc = mm_error_set(MM_EINVAL, "registry scan \"%s\": \"%s\" is not a registry "
                                  "host (a host name with a '.', a host:port, or localhost)",
                                  target, host);
            free(host);
            return rc;
        }
    }

    mm_regscan_report *rep = mm_xcalloc(1, sizeof *rep);
    rep->target = mm_xstrdup(target);
    rep->host = host;
    rep->platform = mm_xstrdup(opts->scan.platform ? opts->scan.platform : "linux/amd64");
    rep->max_age_days = opts->max_age_days;
    rep->started = (int64_t)time(NULL);
    rep->t0 = mm_now();
    mm_result_new(&rep->fres, MM_TARGET_IMAGE, target);

    struct run R = {
        .rep = rep, .client = client, .store = store, .o = opts,
        .platform = rep->platform,
        .now = opts->now ? opts->now : (int64_t)time(NULL),
        .by_digest = mm_map_new(), .done = mm_map_new(),
    };
    size_t max_images = opts->max_images ? opts->max_images : DEFAULT_MAX_IMAGES;
    int rc = opts->list_only ? 0 : open_pipeline(&R);
    if (rc < 0)
        goto fail;

    /* phase 1: list and resolve */
    if (repo) {
        add_repo(rep, repo);
        bool capped = false;
        rc = list_repo(&R, 0, max_images, &capped);
        if (rc < 0)
            goto fail;
    } else {
        char **repos = NULL;
        size_t nrepos = 0;
        rc = mm_registry_catalog(client, host, &repos, &nrepos);
        if (rc < 0)
            goto fail;
        bool capped = false;
        for (size_t i = 0; i < nrepos && !capped; i++) {
            if (!valid_repo(repos[i])) {
                report_warn(rep, "%s: the catalog lists an invalid repository name "
                            "\"%.80s\": skipped", host, repos[i]);
                continue;
            }
            if (rep->nimages >= max_images) {
                report_warn(rep, "stopped at %zu tags (the cap): %s and later "
                            "repositories are not listed", max_images, repos[i]);
                break;
            }
            add_repo(rep, repos[i]);
            (void)list_repo(&R, rep->nrepos - 1, max_images, &capped);
        }
        mm_strv_free(repos, nrepos);
    }

    if (opts->list_only) {
        rc = 0;
        goto fail;
    }
    /* phase 2: settle each tag, then judge it against its repository */
    for (size_t i = 0; i < rep->nimages; i++)
        settle(&R, i);
    size_t ri = 0;
    for (size_t i = 0; i < rep->nimages; i++) {
        mm_regscan_image *im = &rep->images[i];
        while (ri < rep->nrepos && strcmp(rep->repos[ri].name, im->repository) != 0)
            ri++;
        const mm_regscan_repo *rp = ri < rep->nrepos ? &rep->repos[ri] : NULL;
        int64_t t;
        if (im->created && mm_time_parse_rfc3339(im->created, &t) == 0)
            im->age_days = R.now > t ? (R.now - t) / 86400 : 0;
        im->current = rp && rp->current_digest && im->digest &&
                      strcmp(im->digest, rp->current_digest) == 0;
        if (im->status == MM_REGSCAN_ERROR)
            continue;
        im->stale = mm_regscan_classify(im->digest, rp ? rp->current_digest : NULL,
                                        im->created, R.now, opts->max_age_days,
                                        im->fixable);
        if (im->stale && rp)
            add_stale_findings(rep, im, rp);
    }
    rc = 0;
fail:
    mm_map_free(R.by_digest, free);
    mm_map_free(R.done, NULL);
    mm_pipeline_free(R.pl);
    rep->seconds = mm_now() - rep->t0;
    if (rc < 0) {
        mm_regscan_report_free(rep);
        return rc;
    }
    *out = rep;
    return 0;
}

/* --- JSON --------------------------------------------------------------------------------- */

static json_t *counts_json(const size_t *by_sev)
{
    json_t *o = json_object();
    for (int k = MM_SEV_CRITICAL; k >= MM_SEV_UNKNOWN; k--)
        json_object_set_new(o, mm_severity_name((mm_severity)k),
                            json_integer((json_int_t)by_sev[k]));
    return o;
}

static json_t *time_json(int64_t t)
{
    if (!t)
        return json_null();
    char buf[32];
    mm_time_rfc3339(t, buf);
    return json_string(buf);
}

static json_t *image_json(const mm_regscan_image *im)
{
    json_t *o = json_object();
    json_object_set_new(o, "tag", mm_json_str(im->tag));
    json_object_set_new(o, "digest", mm_json_str(im->digest));
    json_object_set_new(o, "manifestDigest", mm_json_str(im->manifest_digest));
    json_object_set_new(o, "status", json_string(mm_regscan_status_name(im->status)));
    json_object_set_new(o, "error", mm_json_str(im->error));
    json_object_set_new(o, "created", mm_json_str(im->created));
    json_object_set_new(o, "ageDays", im->age_days >= 0
                                          ? json_integer(im->age_days) : json_null());
    json_object_set_new(o, "lastScanned", time_json(im->last_scanned));
    json_object_set_new(o, "dbVersion", mm_json_str(im->db_version));
    json_object_set_new(o, "findings", counts_json(im->by_severity));
    json_object_set_new(o, "fixable", json_integer((json_int_t)im->fixable));
    json_object_set_new(o, "current", json_boolean(im->current));
    json_t *st = json_array();
    for (unsigned b = 1; b <= MM_REGSCAN_STALE_FIXABLE; b <<= 1)
        if (im->stale & b)
            json_array_append_new(st, json_string(mm_regscan_stale_name(b)));
    json_object_set_new(o, "stale", st);
    json_t *w = json_array();
    for (size_t i = 0; i < im->nwarnings; i++)
        json_array_append_new(w, mm_json_str(im->warnings[i]));
    json_object_set_new(o, "warnings", w);
    return o;
}

int mm_regscan_report_json(char **out, const mm_regscan_report *r)
{
    if (!out || !r)
        return mm_error_set(MM_EINVAL, "registry scan report: nothing to write");
    json_t *doc = json_object();
    json_object_set_new(doc, "schemaVersion", json_integer(1));
    json_t *tool = json_object();
    json_object_set_new(tool, "name", json_string("mamori"));
    json_object_set_new(tool, "version", json_string(MM_VERSION));
    json_object_set_new(doc, "tool", tool);
    json_object_set_new(doc, "kind", json_string("registry-scan"));
    json_object_set_new(doc, "target", mm_json_str(r->target));
    json_object_set_new(doc, "scannedAt", time_json(r->started));
    json_object_set_new(doc, "durationSeconds", json_real(r->seconds));
    json_object_set_new(doc, "platform", mm_json_str(r->platform));
    json_object_set_new(doc, "dbVersion", mm_json_str(r->db_version));
    json_object_set_new(doc, "maxAgeDays", r->max_age_days > 0
                                               ? json_integer(r->max_age_days) : json_null());

    json_t *regs = json_array(), *reg = json_object(), *repos = json_array();
    json_object_set_new(reg, "host", mm_json_str(r->host));
    size_t ii = 0;
    for (size_t i = 0; i < r->nrepos; i++) {
        const mm_regscan_repo *rp = &r->repos[i];
        json_t *ro = json_object();
        json_object_set_new(ro, "name", mm_json_str(rp->name));
        json_t *cur = json_null();
        if (rp->current_tag) {
            cur = json_object();
            json_object_set_new(cur, "tag", mm_json_str(rp->current_tag));
            json_object_set_new(cur, "digest", mm_json_str(rp->current_digest));
            json_object_set_new(cur, "rule", json_string(
                strcmp(rp->current_tag, "latest") == 0 ? "latest" : "semver"));
        }
        json_object_set_new(ro, "currentRelease", cur);
        json_object_set_new(ro, "error", mm_json_str(rp->error));
        json_t *ims = json_array();
        /* images were added repository by repository, in this order */
        for (size_t k = 0; k < rp->ntags && ii < r->nimages; k++, ii++)
            json_array_append_new(ims, image_json(&r->images[ii]));
        json_object_set_new(ro, "images", ims);
        json_array_append_new(repos, ro);
    }
    json_object_set_new(reg, "repositories", repos);
    json_array_append_new(regs, reg);
    json_object_set_new(doc, "registries", regs);

    /* the findings in the same shape as every mamori report */
    mm_report_opts ro;
    mm_report_opts_init(&ro);
    json_t *fdoc = mm_report_json_doc(r->fres, &ro);
    json_t *fl = json_object_get(fdoc, "findings");
    json_object_set(doc, "findings", fl ? fl : json_array());
    json_decref(fdoc);

    json_t *w = json_array();
    for (size_t i = 0; i < r->nwarnings; i++)
        json_array_append_new(w, mm_json_str(r->warnings[i]));
    json_object_set_new(doc, "warnings", w);

    mm_regscan_summary s;
    mm_regscan_report_summary(r, &s);
    json_t *so = json_object();
    json_object_set_new(so, "repositories", json_integer((json_int_t)s.repositories));
    json_object_set_new(so, "tags", json_integer((json_int_t)s.tags));
    json_object_set_new(so, "digests", json_integer((json_int_t)s.digests));
    json_object_set_new(so, "scanned", json_integer((json_int_t)s.scanned));
    json_object_set_new(so, "skipped", json_integer((json_int_t)s.skipped));
    json_object_set_new(so, "errors", json_integer((json_int_t)s.errors));
    json_object_set_new(so, "stale", json_integer((json_int_t)s.stale));
    json_object_set_new(so, "findings", counts_json(s.by_severity));
    json_object_set_new(so, "fixable", json_integer((json_int_t)s.fixable));
    json_object_set_new(so, "staleFindings",
                        json_integer((json_int_t)mm_findings_count(
                            mm_result_findings(r->fres))));
    json_object_set_new(doc, "summary", so);

    char *s_out = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!s_out)
        return mm_error_set(MM_ENOMEM, "registry scan report: JSON could not be written");
    *out = s_out;
    return 0;
}
