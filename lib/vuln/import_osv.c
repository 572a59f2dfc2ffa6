/*
 * import_osv.c - the OSV importer (single records, arrays, the members of
 * osv.dev's all.zip, the PyPA YAML) and the CVSS v3 base score it needs for
 * a severity.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "util/util.h"
#include "vuln/version.h"
#include "vuln/vuln_int.h"
#include "vuln/import_int.h"

/* --- CVSS v3 ----------------------------------------------------------------- */

/* CVSS v3.1 specification, section 7.4 and Appendix A: Roundup avoids
 * floating-point surprises by working on integers. */
static double roundup31(double x)
{
    long long i = (long long)(x * 100000.0 + 0.5);  /* x >= 0 */
    if (i % 10000 == 0)
        return (double)i / 100000.0;
    return (double)(i / 10000 + 1) / 10.0;
}

/* CVSS v3.0 Roundup: the smallest one-decimal number >= x. */
static double roundup30(double x)
{
    double t = x * 10.0;
    long long i = (long long)t;
    return (double)(i + ((double)i < t ? 1 : 0)) / 10.0;
}

double mm_cvss3_base_score(const char *v)
{
    if (!v)
        return -1;
    int minor;
    if (!strncmp(v, "CVSS:3.0/", 9))
        minor = 0;
    else if (!strncmp(v, "CVSS:3.1/", 9))
        minor = 1;
    else
        return -1;
    double av = -1, ac = -1, pr = -1, ui = -1, c = -1, in = -1, a = -1;
    int scope = -1;
    char prv = 0;
    const char *p = v + 9;
    while (*p) {
        const char *colon = strchr(p, ':');
        if (!colon)
            return -1;
        size_t nlen = (size_t)(colon - p);
        const char *val = colon + 1;
        size_t vlen = strcspn(val, "/");
        char m[4] = {0};
        if (nlen == 0 || nlen > 3)
            return -1;
        memcpy(m, p, nlen);
        char x = vlen == 1 ? val[0] : 0;
        if (!strcmp(m, "AV"))
            av = x == 'N' ? 0.85 : x == 'A' ? 0.62 : x == 'L' ? 0.55 : x == 'P' ? 0.2 : -2;
        else if (!strcmp(m, "AC"))
            ac = x == 'L' ? 0.77 : x == 'H' ? 0.44 : -2;
        else if (!strcmp(m, "PR"))
            prv = (x == 'N' || x == 'L' || x == 'H') ? x : '?';
        else if (!strcmp(m, "UI"))
            ui = x == 'N' ? 0.85 : x == 'R' ? 0.62 : -2;
        else if (!strcmp(m, "S"))
            scope = x == 'U' ? 0 : x == 'C' ? 1 : -2;
        else if (!strcmp(m, "C") || !strcmp(m, "I") || !strcmp(m, "A")) {
            double s = x == 'H' ? 0.56 : x == 'L' ? 0.22 : x == 'N' ? 0 : -2;
            if (m[0] == 'C')
                c = s;
            else if (m[0] == 'I')
                in = s;
            else
                a = s;
        }
        /* temporal and environmental metrics do not change the base */
        p = val + vlen;
        if (*p == '/')
            p++;
    }
    if (av < 0 || ac < 0 || ui < 0 || scope < 0 || c < 0 || in < 0 || a < 0 ||
        !prv || prv == '?')
        return -1;
    pr = prv == 'N' ? 0.85 : prv == 'L' ? (scope ? 0.68 : 0.62) : (scope ? 0.5 : 0.27);
    double iss = 1.0 - (1.0 - c) * (1.0 - in) * (1.0 - a);
    /* (iss - 0.02)^15 without libm */
    double p15 = 1, x = iss - 0.02;
    for (int k = 0; k < 15; k++)
        p15 *= x;
    double impact = scope ? 7.52 * (iss - 0.029) - 3.25 * p15 : 6.42 * iss;
    double expl = 8.22 * av * ac * pr * ui;
    if (impact <= 0)
        return 0;
    double base = scope ? 1.08 * (impact + expl) : impact + expl;
    if (base > 10)
        base = 10;
    return minor ? roundup31(base) : roundup30(base);
}

const char *mm_cvss_severity(double s)
{
    if (s >= 9.0)
        return "CRITICAL";
    if (s >= 7.0)
        return "HIGH";
    if (s >= 4.0)
        return "MEDIUM";
    if (s > 0)
        return "LOW";
    return NULL;
}

/* Vendor words (GHSA "MODERATE", Ubuntu "negligible", Debian urgencies
 * "low**") onto the four levels; NULL for "not yet assigned" and the like. */
const char *mm_imp_vendor_severity(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strcspn(s, "*");
    static const struct { const char *w, *level; } map[] = {
        {"critical", "CRITICAL"}, {"high", "HIGH"}, {"important", "HIGH"},
        {"moderate", "MEDIUM"}, {"medium", "MEDIUM"}, {"low", "LOW"},
        {"negligible", "LOW"}, {"unimportant", "LOW"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].w) == n && !strncasecmp(s, map[i].w, n))
            return map[i].level;
    return NULL;
}

/* --- OSV --------------------------------------------------------------------- */


/* The lowest "fixed" event of the non-GIT ranges, by the ecosystem's own
 * order when it has one (a display value: matching uses the ranges). */
static const char *lowest_fixed(const char *eco, json_t *ranges)
{
    mm_verscheme vs;
    bool have_vs = mm_verscheme_for_ecosystem(eco, &vs);
    const char *best = NULL;
    size_t i, k;
    json_t *r, *e;
    json_array_foreach(ranges, i, r) {
        const char *t = json_string_value(json_object_get(r, "type"));
        if (t && !strcmp(t, "GIT"))
            continue;
        json_array_foreach(json_object_get(r, "events"), k, e) {
            const char *f = json_string_value(json_object_get(e, "fixed"));
            if (!f)
                continue;
            int c;
            if (!best)
                best = f;
            else if (have_vs && mm_version_cmp(vs, f, best, &c) == 0 && c < 0)
                best = f;
        }
    }
    mm_error_clear();
    return best;
}

/* Checks the shape of an OSV ranges array: objects with a string type and
 * events that are objects of strings. */
static const char *check_ranges(json_t *ranges)
{
    if (!json_is_array(ranges))
        return "ranges is not an array";
    size_t i, k;
    json_t *r, *e;
    json_array_foreach(ranges, i, r) {
        if (!json_is_object(r) || !json_is_string(json_object_get(r, "type")))
            return "a range is not an object with a string type";
        json_t *ev = json_object_get(r, "events");
        if (!json_is_array(ev))
            return "range events is not an array";
        json_array_foreach(ev, k, e) {
            if (!json_is_object(e))
                return "an event is not an object";
            const char *key;
            json_t *v;
            json_object_foreach(e, key, v)
                if (!json_is_string(v))
                    return "an event value is not a string";
        }
    }
    return NULL;
}

typedef struct aff_row {
    char *eco, *pkg, *ranges, *versions, *fixed;
    const char *severity;
} aff_row;

int mm_imp_osv_record(imp *im, const char *label, json_t *rec, size_t offset)
{
    int rc = 0;
    bool bad = false;
    aff_row *rows = NULL;
    size_t nrows = 0;
    char *aliases = NULL, *refs = NULL;
    json_t *urls = NULL;
    mm_buf eco = MM_BUF_INIT, pkg = MM_BUF_INIT;

    if (!json_is_object(rec))
        FAIL("%s: byte offset %zu: an OSV record is not an object", label, offset);
    json_t *jid = json_object_get(rec, "id");
    const char *id = json_string_value(jid);
    if (!id || !*id || strlen(id) > MAX_ID)
        FAIL("%s: byte offset %zu: OSV record without a string id", label, offset);
    size_t nodes = 0;
    const char *why = mm_imp_check_json(rec, 0, &nodes);
    if (why)
        FAIL("%s: record %s: %s", label, id, why);

    mm_vadv a = {.id = id, .cvss_score = -1};
    a.summary = mm_imp_opt_str(rec, "summary", &bad);
    a.details = mm_imp_opt_str(rec, "details", &bad);
    a.published = mm_imp_opt_str(rec, "published", &bad);
    a.modified = mm_imp_opt_str(rec, "modified", &bad);
    const char *withdrawn = mm_imp_opt_str(rec, "withdrawn", &bad);
    if (bad)
        FAIL("%s: record %s: summary, details, published, modified or withdrawn "
             "is not a string", label, id);
    json_t *al = json_object_get(rec, "aliases");
    if (al && !json_is_null(al)) {
        size_t i;
        json_t *v;
        if (!json_is_array(al))
            FAIL("%s: record %s: aliases is not an array", label, id);
        json_array_foreach(al, i, v)
            if (!json_is_string(v))
                FAIL("%s: record %s: aliases[%zu] is not a string", label, id, i);
        if (json_array_size(al))
            aliases = mm_imp_dump(al);
    }
    json_t *rf = json_object_get(rec, "references");
    if (rf && !json_is_null(rf)) {
        size_t i;
        json_t *v;
        if (!json_is_array(rf))
            FAIL("%s: record %s: references is not an array", label, id);
        urls = json_array();
        json_array_foreach(rf, i, v) {
            json_t *u = json_object_get(v, "url");
            if (!json_is_object(v) || (u && !json_is_string(u)))
                FAIL("%s: record %s: references[%zu] is not an object with a "
                     "string url", label, id, i);
            if (u)
                json_array_append(urls, u);
        }
        if (json_array_size(urls))
            refs = mm_imp_dump(urls);
    }
    a.aliases_json = aliases;
    a.refs_json = refs;

    /* severity: the CVSS v3 vector scored, else a v4/v2 vector as is */
    json_t *sv = json_object_get(rec, "severity");
    if (sv && !json_is_null(sv)) {
        size_t i;
        json_t *v;
        if (!json_is_array(sv))
            FAIL("%s: record %s: severity is not an array", label, id);
        int best = 0;
        json_array_foreach(sv, i, v) {
            const char *t = json_string_value(json_object_get(v, "type"));
            const char *s = json_string_value(json_object_get(v, "score"));
            if (!json_is_object(v) || !t || !s)
                FAIL("%s: record %s: severity[%zu] is not {type, score} strings",
                     label, id, i);
            int rank = !strcmp(t, "CVSS_V3") ? 3 : !strcmp(t, "CVSS_V4") ? 2
                     : !strcmp(t, "CVSS_V2") ? 1 : 0;
            if (rank > best) {
                best = rank;
                a.cvss_vector = s;
                a.cvss_score = rank == 3 ? mm_cvss3_base_score(s) : -1;
            }
        }
    }
    json_t *dbs = json_object_get(rec, "database_specific");
    const char *vendor = mm_imp_vendor_severity(json_string_value(json_object_get(dbs, "severity")));

    json_t *aff = json_object_get(rec, "affected");
    if (aff && !json_is_null(aff) && !json_is_array(aff))
        FAIL("%s: record %s: affected is not an array", label, id);
    size_t naff = json_array_size(aff);
    rows = mm_xcalloc(naff ? naff : 1, sizeof *rows);
    size_t i;
    json_t *e;
    json_array_foreach(aff, i, e) {
        if (!json_is_object(e))
            FAIL("%s: record %s: affected[%zu] is not an object", label, id, i);
        json_t *p = json_object_get(e, "package");
        if (p && !json_is_object(p))
            FAIL("%s: record %s: affected[%zu].package is not an object", label, id, i);
        const char *pe = mm_imp_opt_str(p, "ecosystem", &bad);
        const char *pn = mm_imp_opt_str(p, "name", &bad);
        if (bad)
            FAIL("%s: record %s: affected[%zu].package fields are not strings",
                 label, id, i);
        json_t *ranges = json_object_get(e, "ranges");
        json_t *vers = json_object_get(e, "versions");
        if (ranges && !json_is_null(ranges) && (why = check_ranges(ranges)))
            FAIL("%s: record %s: affected[%zu]: %s", label, id, i, why);
        if (vers && !json_is_null(vers)) {
            size_t k;
            json_t *v;
            if (!json_is_array(vers))
                FAIL("%s: record %s: affected[%zu].versions is not an array",
                     label, id, i);
            json_array_foreach(vers, k, v)
                if (!json_is_string(v))
                    FAIL("%s: record %s: affected[%zu].versions[%zu] is not a "
                         "string", label, id, i, k);
        }
        /* incomplete entries carry nothing to match on */
        if (!pe || !pn || !*pn || strlen(pn) > MAX_NAME || !mm_imp_norm_ecosystem(pe, &eco))
            continue;
        mm_imp_norm_package(eco.data, pn, &pkg);
        aff_row *r = &rows[nrows++];
        r->eco = mm_xstrdup(eco.data);
        r->pkg = mm_xstrdup(pkg.data);
        if (json_array_size(ranges)) {
            r->ranges = mm_imp_dump(ranges);
            const char *f = lowest_fixed(r->eco, ranges);
            r->fixed = mm_xstrdup(f);
        }
        if (json_array_size(vers))
            r->versions = mm_imp_dump(vers);
        json_t *es = json_object_get(e, "ecosystem_specific");
        r->severity = mm_imp_vendor_severity(json_string_value(json_object_get(es, "severity")));
        if (!r->severity)
            r->severity = mm_imp_vendor_severity(json_string_value(
                json_object_get(json_object_get(e, "database_specific"), "severity")));
        if (!vendor)
            vendor = r->severity;
    }
    a.severity = vendor ? vendor : mm_cvss_severity(a.cvss_score);

    if (withdrawn) {
        mm_vulndb_build_skip(im->b, "%s: record %s: withdrawn on %s", label, id,
                             withdrawn);
        goto out;
    }
    if (nrows == 0) {
        mm_vulndb_build_skip(im->b, "%s: record %s: no affected package in a "
                             "known ecosystem; skipped", label, id);
        goto out;
    }
    mm_vaff *va = mm_xcalloc(nrows, sizeof *va);
    for (size_t k = 0; k < nrows; k++)
        va[k] = (mm_vaff){rows[k].eco, rows[k].pkg, rows[k].ranges,
                          rows[k].versions, rows[k].fixed, rows[k].severity};
    rc = mm_vulndb_build_put(im->b, label, &a, va, nrows);
    free(va);
    if (!rc)
        im->records++;
out:
    for (size_t k = 0; k < nrows; k++) {
        free(rows[k].eco);
        free(rows[k].pkg);
        free(rows[k].ranges);
        free(rows[k].versions);
        free(rows[k].fixed);
    }
    free(rows);
    free(aliases);
    free(refs);
    json_decref(urls);
    mm_buf_free(&eco);
    mm_buf_free(&pkg);
    return rc;
}
