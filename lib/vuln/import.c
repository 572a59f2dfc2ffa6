/*
 * vuln/import.c - the feed importers: OSV JSON (single records, arrays and
 * osv.dev's per-ecosystem all.zip), OSV YAML (the PyPA advisory database),
 * the Debian security tracker JSON and Alpine secdb (YAML and JSON), read
 * from local files, folders, zips or memory into a database build.
 *
 * Feeds are untrusted: every string is capped, nesting and value counts are
 * capped, zip members are capped in size and number before and while they
 * are inflated, and YAML aliases are refused (no "billion laughs").  A
 * malformed feed fails the whole import with a message naming the file, the
 * zip member and the record id or byte offset; a record that is merely
 * incomplete (nothing affected, an ecosystem we do not know) is skipped
 * with a warning.
 *
 * Large JSON objects and arrays (the Debian tracker is ~70 MB, OSV lists)
 * are walked one member at a time with jansson's "stop after one value"
 * mode, so only one package or record is ever a DOM in memory.
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
#include <yaml.h>

#include "util/util.h"
#include "vuln/version.h"
#include "vuln/vuln_int.h"

#define MAX_ID 256
#define MAX_NAME 1024

typedef struct imp {
    mm_vulndb_build *b;
    const char *kind;      /* kind of the first feed seen */
    bool mixed;
    bool in_walk;          /* unrecognised files in folders are skipped */
    uint64_t records;
    uint64_t zip_total;    /* bytes inflated from the current zip */
} imp;

static void note_kind(imp *im, const char *kind)
{
    if (!im->kind)
        im->kind = kind;
    else if (strcmp(im->kind, kind) != 0)
        im->mixed = true;
}

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
static const char *vendor_severity(const char *s)
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

/* --- names ------------------------------------------------------------------- */

static const char *const known_ecosystems[] = {
    "Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE",
    "openSUSE", "Wolfi", "Chainguard", "PyPI", "npm", "Go", "Maven", "crates.io",
    "RubyGems", "Packagist", "NuGet",
};

/* The stored ecosystem: a known base, and for Ubuntu the ":LTS"/":Pro"
 * parts dropped so that "Ubuntu:Pro:18.04:LTS" is found as "Ubuntu:18.04".
 * false for an unknown ecosystem. */
static bool norm_ecosystem(const char *in, mm_buf *out)
{
    mm_buf_clear(out);
    size_t blen = strcspn(in, ":");
    bool known = false;
    for (size_t i = 0; i < sizeof known_ecosystems / sizeof known_ecosystems[0]; i++)
        if (strlen(known_ecosystems[i]) == blen &&
            !strncmp(in, known_ecosystems[i], blen))
            known = true;
    if (!known || strlen(in) > 128)
        return false;
    if (blen == 6 && !strncmp(in, "Ubuntu", 6)) {
        const char *p = in;
        bool first = true;
        while (*p) {
            size_t n = strcspn(p, ":");
            if (!((n == 3 && !strncmp(p, "LTS", 3)) || (n == 3 && !strncmp(p, "Pro", 3)))) {
                if (!first)
                    mm_buf_addc(out, ':');
                mm_buf_add(out, p, n);
                first = false;
            }
            p += n;
            if (*p == ':')
                p++;
        }
    } else {
        mm_buf_adds(out, in);
    }
    return true;
}

/* PEP 503: lower case, runs of "-", "_", "." as one "-". */
static void norm_package(const char *eco, const char *name, mm_buf *out)
{
    mm_buf_clear(out);
    if (strcmp(eco, "PyPI") != 0) {
        mm_buf_adds(out, name);
        return;
    }
    for (const char *p = name; *p;) {
        if (*p == '-' || *p == '_' || *p == '.') {
            while (*p == '-' || *p == '_' || *p == '.')
                p++;
            mm_buf_addc(out, '-');
        } else {
            mm_buf_addc(out, (char)tolower((unsigned char)*p++));
        }
    }
}

/* --- record checks ----------------------------------------------------------- */

/* Caps on one record: string length, nesting, value count. */
static const char *check_json(const json_t *j, int depth, size_t *nodes)
{
    if (depth > MM_VULN_MAX_DEPTH)
        return "nested too deeply";
    if (++*nodes > MM_VULN_MAX_NODES)
        return "too many values";
    if (json_is_string(j)) {
        if (json_string_length(j) > MM_VULN_MAX_STRING)
            return "a string is longer than the 1 MiB cap";
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            if (strlen(k) > MAX_NAME)
                return "a key is longer than the cap";
            const char *e = check_json(v, depth + 1, nodes);
            if (e)
                return e;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            const char *e = check_json(v, depth + 1, nodes);
            if (e)
                return e;
        }
    }
    return NULL;
}

/* A string member, absent/null as NULL; *bad when of another type. */
static const char *opt_str(json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

static char *dump(json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* --- OSV --------------------------------------------------------------------- */

#define FAIL(...) do { rc = mm_error_set(MM_EFORMAT, __VA_ARGS__); goto out; } while (0)

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

static int osv_record(imp *im, const char *label, json_t *rec, size_t offset)
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
    const char *why = check_json(rec, 0, &nodes);
    if (why)
        FAIL("%s: record %s: %s", label, id, why);

    mm_vadv a = {.id = id, .cvss_score = -1};
    a.summary = opt_str(rec, "summary", &bad);
    a.details = opt_str(rec, "details", &bad);
    a.published = opt_str(rec, "published", &bad);
    a.modified = opt_str(rec, "modified", &bad);
    const char *withdrawn = opt_str(rec, "withdrawn", &bad);
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
            aliases = dump(al);
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
            refs = dump(urls);
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
    const char *vendor = vendor_severity(json_string_value(json_object_get(dbs, "severity")));

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
        const char *pe = opt_str(p, "ecosystem", &bad);
        const char *pn = opt_str(p, "name", &bad);
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
        if (!pe || !pn || !*pn || strlen(pn) > MAX_NAME || !norm_ecosystem(pe, &eco))
            continue;
        norm_package(eco.data, pn, &pkg);
        aff_row *r = &rows[nrows++];
        r->eco = mm_xstrdup(eco.data);
        r->pkg = mm_xstrdup(pkg.data);
        if (json_array_size(ranges)) {
            r->ranges = dump(ranges);
            const char *f = lowest_fixed(r->eco, ranges);
            r->fixed = mm_xstrdup(f);
        }
        if (json_array_size(vers))
            r->versions = dump(vers);
        json_t *es = json_object_get(e, "ecosystem_specific");
        r->severity = vendor_severity(json_string_value(json_object_get(es, "severity")));
        if (!r->severity)
            r->severity = vendor_severity(json_string_value(
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

/* --- Alpine secdb ------------------------------------------------------------ */

static char *range_fixed(const char *fixed)
{
    json_t *ev = fixed ? json_pack("[{s:s},{s:s}]", "introduced", "0", "fixed", fixed)
                       : json_pack("[{s:s}]", "introduced", "0");
    json_t *r = json_pack("[{s:s,s:o}]", "type", "ECOSYSTEM", "events", ev);
    char *s = dump(r);
    json_decref(r);
    return s;
}

static int secdb(imp *im, const char *label, json_t *root)
{
    int rc = 0;
    mm_buf eco = MM_BUF_INIT;
    size_t nodes = 0;
    const char *why = check_json(root, 0, &nodes);
    if (why)
        FAIL("%s: %s", label, why);
    const char *dv = json_string_value(json_object_get(root, "distroversion"));
    if (!dv || !*dv || strlen(dv) > 32 || strchr(dv, ':'))
        FAIL("%s: distroversion is not a release name", label);
    mm_buf_printf(&eco, "Alpine:%s", dv);
    json_t *pkgs = json_object_get(root, "packages");
    if (pkgs && !json_is_null(pkgs) && !json_is_array(pkgs))
        FAIL("%s: packages is not an array", label);
    size_t i;
    json_t *p;
    json_array_foreach(pkgs, i, p) {
        json_t *pk = json_object_get(p, "pkg");
        const char *name = json_string_value(json_object_get(pk, "name"));
        if (!json_is_object(p) || !json_is_object(pk) || !name || !*name ||
            strlen(name) > MAX_NAME)
            FAIL("%s: packages[%zu]: not a {pkg: {name, secfixes}} entry", label, i);
        json_t *sf = json_object_get(pk, "secfixes");
        if (!sf || json_is_null(sf))
            continue;
        if (!json_is_object(sf))
            FAIL("%s: package %s: secfixes is not a mapping", label, name);
        const char *ver;
        json_t *ids;
        json_object_foreach(sf, ver, ids) {
            if (json_is_null(ids))
                continue;
            if (!json_is_array(ids))
                FAIL("%s: package %s: secfixes %s is not a list", label, name, ver);
            /* "0": the package was never affected */
            bool never = !strcmp(ver, "0");
            char *ranges = never ? NULL : range_fixed(ver);
            size_t k;
            json_t *idv;
            json_array_foreach(ids, k, idv) {
                const char *s = json_string_value(idv);
                if (!s) {
                    free(ranges);
                    FAIL("%s: package %s: secfixes %s[%zu] is not a string", label,
                         name, ver, k);
                }
                if (never)
                    continue;
                /* "CVE-2019-5060 TALOS-2019-0844": the first word is the id,
                 * the others are aliases */
                while (isspace((unsigned char)*s))
                    s++;
                size_t n = strcspn(s, " \t");
                if (n == 0 || n > MAX_ID)
                    continue;
                char *id = mm_xstrndup(s, n);
                json_t *al = json_array();
                for (const char *q = s + n; *q;) {
                    while (*q == ' ' || *q == '\t')
                        q++;
                    size_t m = strcspn(q, " \t");
                    if (m && m <= MAX_ID)
                        json_array_append_new(al, json_stringn(q, m));
                    q += m;
                }
                char *aliases = json_array_size(al) ? dump(al) : NULL;
                json_decref(al);
                mm_vadv a = {.id = id, .aliases_json = aliases, .cvss_score = -1};
                mm_vaff f = {.ecosystem = eco.data, .package = name,
                             .ranges_json = ranges, .fixed = ver};
                rc = mm_vulndb_build_put(im->b, label, &a, &f, 1);
                free(id);
                free(aliases);
                if (rc) {
                    free(ranges);
                    goto out;
                }
                im->records++;
            }
            free(ranges);
        }
    }
out:
    mm_buf_free(&eco);
    return rc;
}

/* --- Debian security tracker -------------------------------------------------- */

static const struct { const char *code, *eco; } debian_releases[] = {
    {"jessie", "Debian:8"}, {"stretch", "Debian:9"}, {"buster", "Debian:10"},
    {"bullseye", "Debian:11"}, {"bookworm", "Debian:12"}, {"trixie", "Debian:13"},
    {"forky", "Debian:14"}, {"sid", "Debian:sid"},
};

/* One source package of the tracker: {"CVE-..": {description, releases:
 * {codename: {status, fixed_version, urgency}}}}. */
static int tracker_package(imp *im, const char *label, const char *pkg, json_t *cves)
{
    int rc = 0;
    if (!*pkg || strlen(pkg) > MAX_NAME)
        FAIL("%s: a package name is empty or too long", label);
    if (!json_is_object(cves))
        FAIL("%s: package %s: not an object of CVE ids", label, pkg);
    size_t nodes = 0;
    const char *why = check_json(cves, 0, &nodes);
    if (why)
        FAIL("%s: package %s: %s", label, pkg, why);
    const char *id;
    json_t *c;
    json_object_foreach(cves, id, c) {
        if (!json_is_object(c))
            FAIL("%s: package %s: record %.200s is not an object", label, pkg, id);
        if (!*id || strlen(id) > MAX_ID)
            FAIL("%s: package %s: a record id is empty or too long", label, pkg);
        bool bad = false;
        const char *desc = opt_str(c, "description", &bad);
        json_t *rels = json_object_get(c, "releases");
        if (bad || (rels && !json_is_object(rels)))
            FAIL("%s: package %s: record %s: description or releases of the "
                 "wrong type", label, pkg, id);
        mm_vaff rows[sizeof debian_releases / sizeof debian_releases[0]];
        char *ranges[sizeof debian_releases / sizeof debian_releases[0]] = {0};
        size_t n = 0;
        for (size_t r = 0; r < sizeof debian_releases / sizeof debian_releases[0]; r++) {
            json_t *rel = json_object_get(rels, debian_releases[r].code);
            if (!rel)
                continue;
            const char *status = opt_str(rel, "status", &bad);
            const char *fv = opt_str(rel, "fixed_version", &bad);
            const char *urg = opt_str(rel, "urgency", &bad);
            if (!json_is_object(rel) || bad) {
                for (size_t k = 0; k < n; k++)
                    free(ranges[k]);
                FAIL("%s: package %s: record %s: release %s: status, fixed_version "
                     "or urgency of the wrong type", label, pkg, id,
                     debian_releases[r].code);
            }
            if (!status)
                continue;
            const char *fixed = NULL;
            if (!strcmp(status, "resolved")) {
                /* fixed_version "0": this release was never affected */
                if (!fv || !strcmp(fv, "0"))
                    continue;
                fixed = fv;
            } else if (strcmp(status, "open") && strcmp(status, "undetermined")) {
                continue;
            }
            ranges[n] = range_fixed(fixed);
            rows[n] = (mm_vaff){.ecosystem = debian_releases[r].eco, .package = pkg,
                                .ranges_json = ranges[n], .fixed = fixed,
                                .severity = vendor_severity(urg)};
            n++;
        }
        if (n) {
            mm_vadv a = {.id = id, .summary = desc, .cvss_score = -1};
            rc = mm_vulndb_build_put(im->b, label, &a, rows, n);
            if (!rc)
                im->records++;
        }
        for (size_t k = 0; k < n; k++)
            free(ranges[k]);
        if (rc)
            goto out;
    }
out:
    return rc;
}

/* --- streaming JSON ------------------------------------------------------------ */

static size_t skip_ws(const char *d, size_t len, size_t p)
{
    while (p < len && (d[p] == ' ' || d[p] == '\t' || d[p] == '\n' || d[p] == '\r'))
        p++;
    return p;
}

/* One JSON value at d[*p]; advances *p past it. */
static json_t *next_value(const char *label, const char *d, size_t len, size_t *p,
                          int *rc)
{
    json_error_t err;
    json_t *v = json_loadb(d + *p, len - *p,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL,
                           &err);
    if (!v) {
        *rc = mm_error_set(MM_EFORMAT, "%s: byte offset %zu: %s", label,
                           *p + (size_t)(err.position > 0 ? err.position : 0), err.text);
        return NULL;
    }
    *p += (size_t)err.position;
    return v;
}

static bool top_key_of_feed(const char *k)
{
    static const char *const keys[] = {
        "id", "schema_version", "modified", "published", "withdrawn", "aliases",
        "related", "summary", "details", "severity", "affected", "references",
        "credits", "database_specific", "distroversion", "reponame", "archs",
        "urlprefix", "apkurl", "packages", "upstream",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(k, keys[i]))
            return true;
    return false;
}

static int dispatch_dom(imp *im, const char *label, json_t *root, size_t offset);

/* A top-level JSON object: the Debian tracker (package -> CVEs), streamed
 * member by member, or one OSV record / secdb document. */
static int json_object_feed(imp *im, const char *label, const char *d, size_t len,
                            size_t p)
{
    int rc = 0;
    json_t *whole = NULL;
    bool tracker = false, first = true;
    p = skip_ws(d, len, p + 1);
    if (p < len && d[p] == '}') {
        p++;
        goto end;
    }
    for (;;) {
        p = skip_ws(d, len, p);
        size_t at = p;
        if (p >= len || d[p] != '"')
            FAIL("%s: byte offset %zu: expected a member name", label, p);
        json_t *k = next_value(label, d, len, &p, &rc);
        if (!k)
            goto out;
        p = skip_ws(d, len, p);
        if (p >= len || d[p] != ':') {
            json_decref(k);
            FAIL("%s: byte offset %zu: expected ':'", label, p);
        }
        p = skip_ws(d, len, p + 1);
        json_t *v = next_value(label, d, len, &p, &rc);
        if (!v) {
            json_decref(k);
            goto out;
        }
        const char *key = json_string_value(k);
        if (first) {
            tracker = json_is_object(v) && !top_key_of_feed(key);
            if (tracker)
                note_kind(im, "debian-tracker");
            else
                whole = json_object();
            first = false;
        }
        if (tracker)
            rc = tracker_package(im, label, key, v);
        else
            json_object_set(whole, key, v);
        (void)at;
        json_decref(k);
        json_decref(v);
        if (rc)
            goto out;
        p = skip_ws(d, len, p);
        if (p < len && d[p] == ',') {
            p++;
            continue;
        }
        if (p < len && d[p] == '}') {
            p++;
            break;
        }
        FAIL("%s: byte offset %zu: expected ',' or '}'%s", label, p,
             p >= len ? " (truncated)" : "");
    }
end:
    p = skip_ws(d, len, p);
    if (p != len)
        FAIL("%s: byte offset %zu: data after the JSON document", label, p);
    if (!tracker) {
        if (!whole)
            whole = json_object();
        rc = dispatch_dom(im, label, whole, 0);
    }
out:
    json_decref(whole);
    return rc;
}

/* A top-level JSON array of OSV records, one at a time. */
static int json_array_feed(imp *im, const char *label, const char *d, size_t len,
                           size_t p)
{
    int rc = 0;
    note_kind(im, "osv");
    p = skip_ws(d, len, p + 1);
    if (p < len && d[p] == ']') {
        p++;
    } else {
        for (;;) {
            p = skip_ws(d, len, p);
            size_t at = p;
            json_t *v = next_value(label, d, len, &p, &rc);
            if (!v)
                return rc;
            rc = osv_record(im, label, v, at);
            json_decref(v);
            if (rc)
                return rc;
            p = skip_ws(d, len, p);
            if (p < len && d[p] == ',') {
                p++;
                continue;
            }
            if (p < len && d[p] == ']') {
                p++;
                break;
            }
            return mm_error_set(MM_EFORMAT, "%s: byte offset %zu: expected ',' or "
                                "']'%s", label, p, p >= len ? " (truncated)" : "");
        }
    }
    p = skip_ws(d, len, p);
    if (p != len)
        return mm_error_set(MM_EFORMAT, "%s: byte offset %zu: data after the JSON "
                            "document", label, p);
    return 0;
}

/* --- YAML ---------------------------------------------------------------------- */

/* Plain scalars stay strings ("1.10" is a version, not 1.1); only the YAML
 * null and booleans are mapped. */
static json_t *yaml_scalar(const yaml_event_t *ev)
{
    const char *s = (const char *)ev->data.scalar.value;
    size_t n = ev->data.scalar.length;
    if (ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag) {
        if (n == 0 || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
            !strcmp(s, "NULL"))
            return json_null();
        if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
            return json_true();
        if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
            return json_false();
    }
    return json_stringn(s, n);
}

/* The first YAML document as a jansson value. */
static json_t *yaml_to_json(const char *label, const char *d, size_t len, int *rc)
{
    yaml_parser_t ps;
    yaml_event_t ev;
    json_t *stack[MM_VULN_MAX_DEPTH + 1];
    char *keys[MM_VULN_MAX_DEPTH + 1];
    int depth = 0;
    size_t nodes = 0;
    json_t *root = NULL;
    bool done = false;
    *rc = 0;
    if (!yaml_parser_initialize(&ps)) {
        *rc = mm_error_set(MM_ENOMEM, "%s: cannot start the YAML parser", label);
        return NULL;
    }
    yaml_parser_set_input_string(&ps, (const unsigned char *)d, len);
    while (!done) {
        if (!yaml_parser_parse(&ps, &ev)) {
            *rc = mm_error_set(MM_EFORMAT, "%s: line %zu: YAML: %s", label,
                               (size_t)ps.problem_mark.line + 1,
                               ps.problem ? ps.problem : "syntax error");
            break;
        }
        json_t *val = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
        case YAML_DOCUMENT_END_EVENT:
            done = true;
            break;
        case YAML_ALIAS_EVENT:
            *rc = mm_error_set(MM_EFORMAT, "%s: line %zu: YAML aliases are not "
                               "accepted in feeds", label,
                               (size_t)ev.start_mark.line + 1);
            break;
        case YAML_MAPPING_START_EVENT:
        case YAML_SEQUENCE_START_EVENT:
            if (depth >= MM_VULN_MAX_DEPTH) {
                *rc = mm_error_set(MM_ELIMIT, "%s: line %zu: nested too deeply",
                                   label, (size_t)ev.start_mark.line + 1);
                break;
            }
            /* a mapping or list cannot be a key here */
            if (depth > 0 && json_is_object(stack[depth - 1]) && !keys[depth - 1]) {
                *rc = mm_error_set(MM_EFORMAT, "%s: line %zu: complex YAML keys "
                                   "are not accepted", label,
                                   (size_t)ev.start_mark.line + 1);
                break;
            }
            stack[depth] = ev.type == YAML_MAPPING_START_EVENT ? json_object()
                                                               : json_array();
            keys[depth] = NULL;
            depth++;
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT:
            depth--;
            val = stack[depth];
            free(keys[depth]);
            break;
        case YAML_SCALAR_EVENT:
            if (ev.data.scalar.length > MM_VULN_MAX_STRING) {
                *rc = mm_error_set(MM_ELIMIT, "%s: line %zu: a string is longer "
                                   "than the 1 MiB cap", label,
                                   (size_t)ev.start_mark.line + 1);
                break;
            }
            if (depth > 0 && json_is_object(stack[depth - 1]) && !keys[depth - 1]) {
                keys[depth - 1] = mm_xstrndup((const char *)ev.data.scalar.value,
                                              ev.data.scalar.length);
                break;
            }
            val = yaml_scalar(&ev);
            if (!val)
                *rc = mm_error_set(MM_EFORMAT, "%s: line %zu: invalid UTF-8", label,
                                   (size_t)ev.start_mark.line + 1);
            break;
        default:
            break;
        }
        if (val && !*rc) {
            if (++nodes > MM_VULN_MAX_NODES) {
                json_decref(val);
                *rc = mm_error_set(MM_ELIMIT, "%s: more than %d YAML values", label,
                                   MM_VULN_MAX_NODES);
            } else if (depth == 0) {
                root = val;
            } else if (json_is_object(stack[depth - 1])) {
                json_object_set_new(stack[depth - 1], keys[depth - 1], val);
                free(keys[depth - 1]);
                keys[depth - 1] = NULL;
            } else {
                json_array_append_new(stack[depth - 1], val);
            }
        } else if (val) {
            json_decref(val);
        }
        yaml_event_delete(&ev);
        if (*rc)
            break;
    }
    while (depth > 0) {
        depth--;
        json_decref(stack[depth]);
        free(keys[depth]);
    }
    yaml_parser_delete(&ps);
    if (*rc) {
        json_decref(root);
        return NULL;
    }
    if (!root)
        root = json_null();
    return root;
}

/* --- dispatch ------------------------------------------------------------------ */

static int unrecognised(imp *im, const char *label)
{
    if (im->in_walk) {
        mm_vulndb_build_skip(im->b, "%s: not a vulnerability feed; skipped", label);
        return 0;
    }
    return mm_error_set(MM_EFORMAT, "%s: not a vulnerability feed (OSV, Debian "
                        "tracker or Alpine secdb)", label);
}

/* A parsed document: an OSV record or a secdb. */
static int dispatch_dom(imp *im, const char *label, json_t *root, size_t offset)
{
    if (json_is_object(root) && json_object_get(root, "distroversion") &&
        json_object_get(root, "packages")) {
        note_kind(im, "alpine-secdb");
        return secdb(im, label, root);
    }
    if (json_is_object(root) && json_object_get(root, "id") &&
        (json_object_get(root, "affected") || json_object_get(root, "modified"))) {
        note_kind(im, "osv");
        return osv_record(im, label, root, offset);
    }
    if (json_is_array(root)) {
        note_kind(im, "osv");
        size_t i;
        json_t *v;
        json_array_foreach(root, i, v) {
            int rc = osv_record(im, label, v, offset);
            if (rc)
                return rc;
        }
        return 0;
    }
    return unrecognised(im, label);
}

static bool is_zip(const void *d, size_t len)
{
    return len >= 4 && (!memcmp(d, "PK\x03\x04", 4) || !memcmp(d, "PK\x05\x06", 4));
}

static int import_zip(imp *im, const char *label, const char *path, const void *mem,
                      size_t len);

static int import_buffer(imp *im, const char *label, const char *d, size_t len,
                         bool zip_ok)
{
    if (is_zip(d, len)) {
        if (!zip_ok)
            return mm_error_set(MM_EUNSUPPORTED, "%s: a zip inside a zip", label);
        return import_zip(im, label, NULL, d, len);
    }
    size_t p = 0;
    if (len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3))
        p = 3;
    p = skip_ws(d, len, p);
    if (p >= len)
        return unrecognised(im, label);
    if (d[p] == '{')
        return json_object_feed(im, label, d, len, p);
    if (d[p] == '[')
        return json_array_feed(im, label, d, len, p);
    int rc;
    json_t *root = yaml_to_json(label, d, len, &rc);
    if (!root)
        return rc;
    size_t nodes = 0;
    const char *why = check_json(root, 0, &nodes);
    if (why) {
        const char *id = json_string_value(json_object_get(root, "id"));
        rc = mm_error_set(MM_ELIMIT, "%s: %s%s%s", label, id ? "record " : "",
                          id ? id : "", why);
    } else if (json_is_array(root)) {
        rc = unrecognised(im, label);  /* YAML lists of records: not a format */
    } else {
        rc = dispatch_dom(im, label, root, 0);
    }
    json_decref(root);
    return rc;
}

/* --- zips ------------------------------------------------------------------------ */

static int import_zip(imp *im, const char *label, const char *path, const void *mem,
                      size_t len)
{
    int rc = 0;
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    int r = path ? archive_read_open_filename(a, path, 1 << 16)
                 : archive_read_open_memory(a, mem, len);
    if (r != ARCHIVE_OK) {
        rc = mm_error_set(MM_EFORMAT, "%s: not a readable zip: %s", label,
                          archive_error_string(a));
        archive_read_free(a);
        return rc;
    }
    note_kind(im, "osv-zip");
    const char *saved_kind = im->kind;
    bool saved_mixed = im->mixed;
    struct archive_entry *e;
    uint64_t members = 0;
    uint64_t total = 0;
    mm_buf buf = MM_BUF_INIT;
    char *mlabel = NULL;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (++members > MM_VULN_MAX_MEMBERS) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %d zip members", label,
                              MM_VULN_MAX_MEMBERS);
            break;
        }
        const char *name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || !name ||
            !(mm_str_endswith(name, ".json") || mm_str_endswith(name, ".yaml") ||
              mm_str_endswith(name, ".yml")))
            continue;
        free(mlabel);
        mlabel = mm_xasprintf("%s: member %.200s", label, name);
        /* a zip bomb is refused on what it claims and on what it inflates */
        if (archive_entry_size_is_set(e) &&
            (uint64_t)archive_entry_size(e) > MM_VULN_MAX_MEMBER) {
            rc = mm_error_set(MM_ELIMIT, "%s: %lld bytes uncompressed, over the "
                              "%llu-byte cap", mlabel, (long long)archive_entry_size(e),
                              (unsigned long long)MM_VULN_MAX_MEMBER);
            break;
        }
        mm_buf_clear(&buf);
        char chunk[65536];
        ssize_t n;
        while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
            if (buf.len + (size_t)n > MM_VULN_MAX_MEMBER) {
                rc = mm_error_set(MM_ELIMIT, "%s: inflates beyond the %llu-byte cap",
                                  mlabel, (unsigned long long)MM_VULN_MAX_MEMBER);
                break;
            }
            total += (uint64_t)n;
            if (total > MM_VULN_MAX_ZIP_TOTAL) {
                rc = mm_error_set(MM_ELIMIT, "%s: the zip inflates beyond %llu bytes",
                                  mlabel, (unsigned long long)MM_VULN_MAX_ZIP_TOTAL);
                break;
            }
            mm_buf_add(&buf, chunk, (size_t)n);
        }
        if (rc)
            break;
        if (n < 0) {
            rc = mm_error_set(MM_EFORMAT, "%s: %s", mlabel, archive_error_string(a));
            break;
        }
        mm_vulndb_build_count_file(im->b);
        bool walk = im->in_walk;
        im->in_walk = true;  /* a stray non-feed member is skipped, not fatal */
        rc = import_buffer(im, mlabel, buf.data ? buf.data : "", buf.len, false);
        im->in_walk = walk;
        if (rc)
            break;
    }
    if (!rc && r != ARCHIVE_EOF)
        rc = mm_error_set(MM_EFORMAT, "%s: %s%s", mlabel ? mlabel : label,
                          archive_error_string(a) ? archive_error_string(a)
                                                  : "unreadable zip",
                          r == ARCHIVE_WARN ? "" : "");
    /* the zip's kind is "osv-zip", whatever its members said */
    im->kind = saved_kind;
    im->mixed = saved_mixed;
    free(mlabel);
    mm_buf_free(&buf);
    archive_read_free(a);
    return rc;
}

/* --- files and folders ------------------------------------------------------------ */

static int import_file(imp *im, const char *path)
{
    /* zips are read from the file (libarchive seeks to the central
     * directory); everything else is read whole */
    int fd;
    uint64_t size;
    int rc = mm_file_open(path, MM_VULN_MAX_FILE, &fd, &size);
    if (rc)
        return rc;
    unsigned char magic[4];
    if (pread(fd, magic, 4, 0) == 4 && is_zip(magic, 4)) {
        close(fd);
        return import_zip(im, path, path, NULL, 0);
    }
    char *data;
    size_t len;
    rc = mm_file_read_fd(fd, path, size, &data, &len);
    close(fd);
    if (rc)
        return rc;
    mm_vulndb_build_count_file(im->b);
    rc = import_buffer(im, path, data, len, true);
    free(data);
    return rc;
}

static bool feed_name(const char *name)
{
    return name[0] != '.' &&
           (mm_str_endswith(name, ".json") || mm_str_endswith(name, ".yaml") ||
            mm_str_endswith(name, ".yml") || mm_str_endswith(name, ".zip"));
}

static int walk(imp *im, const char *dir, int depth, uint64_t *nfiles)
{
    if (depth > MM_VULN_MAX_WALK_DEPTH)
        return mm_error_set(MM_ELIMIT, "%s: folders nested deeper than %d", dir,
                            MM_VULN_MAX_WALK_DEPTH);
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return mm_error_set(MM_EIO, "%s: %s", dir, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc || name[0] == '.')
            continue;
        char *p = mm_xasprintf("%s/%s", dir, name);
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            rc = mm_error_set(MM_EIO, "%s: %s", p, strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            rc = walk(im, p, depth + 1, nfiles);
        } else if (S_ISREG(sb.st_mode) && feed_name(name)) {
            if (++*nfiles > MM_VULN_MAX_WALK_FILES)
                rc = mm_error_set(MM_ELIMIT, "%s: more than %d feed files", dir,
                                  MM_VULN_MAX_WALK_FILES);
            else
                rc = import_file(im, p);
        }
        free(p);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

static void finish_result(imp *im, mm_vulndb_feed_result *res)
{
    if (!res)
        return;
    res->kind = im->mixed ? "mixed" : im->kind ? im->kind : "osv";
    res->records = im->records;
}

int mm_vulndb_build_import_path(mm_vulndb_build *b, const char *path,
                                const char *source, mm_vulndb_feed_result *res)
{
    imp im = {.b = b};
    mm_vulndb_build_use_source(b, source ? source : path);
    struct stat sb;
    int rc;
    if (stat(path, &sb) != 0)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s", path,
                            strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        uint64_t nfiles = 0;
        im.in_walk = true;
        rc = walk(&im, path, 0, &nfiles);
    } else {
        rc = import_file(&im, path);
    }
    finish_result(&im, res);
    return rc;
}

int mm_vulndb_build_import_mem(mm_vulndb_build *b, const void *data, size_t len,
                               const char *label, const char *source,
                               mm_vulndb_feed_result *res)
{
    imp im = {.b = b};
    mm_vulndb_build_use_source(b, source ? source : label);
    if (len > MM_VULN_MAX_FILE)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, over the feed cap", label, len);
    mm_vulndb_build_count_file(b);
    int rc = import_buffer(&im, label, data ? data : "", len, true);
    finish_result(&im, res);
    return rc;
}

/* --- the public import --------------------------------------------------------- */

int mm_vulndb_import(const char *db_path, const char *const *paths, size_t npaths,
                     mm_import_stats *stats, mm_warn_fn warn, void *warn_ud)
{
    double t0 = mm_now();
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!paths || npaths == 0)
        return mm_error_set(MM_EINVAL, "nothing to import");
    mm_vulndb_build *b = NULL;
    int rc = mm_vulndb_build_begin(&b, db_path, warn, warn_ud);
    if (rc)
        return rc;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < npaths; i++) {
        mm_vulndb_feed_result res = {0};
        /* a path imported again replaces its earlier rows, so records it
         * no longer holds go away too */
        if ((rc = mm_vulndb_build_drop_source(b, paths[i])) ||
            (rc = mm_vulndb_build_import_path(b, paths[i], paths[i], &res)))
            goto fail;
        char *loc = realpath(paths[i], NULL);
        mm_vulndb_source_info s = {.name = (char *)paths[i], .kind = (char *)res.kind,
                                   .location = loc ? loc : (char *)paths[i],
                                   .updated_at = now, .records = res.records};
        rc = mm_vulndb_build_set_source(b, &s, NULL);
        free(loc);
        if (rc)
            goto fail;
    }
    mm_import_stats st = *mm_vulndb_build_stats(b);
    if ((rc = mm_vulndb_build_commit(b)))
        return rc;
    st.seconds = mm_now() - t0;
    if (stats)
        *stats = st;
    return 0;
fail:
    mm_vulndb_build_abort(b);
    return rc;
}
