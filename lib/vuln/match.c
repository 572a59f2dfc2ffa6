/*
 * vuln/match.c - turns an inventory into vulnerability findings (SP 800-190
 * §3.1.1): each package is looked up by (ecosystem, package) in the
 * database's affected table with ONE prepared statement on the
 * affected_lookup index, and its version is tested against the OSV ranges
 * and explicit versions of the candidate rows only.
 *
 * Backports: OS packages are matched against their distribution RELEASE's
 * feed ("Debian:12"), keyed by SOURCE package and compared with the source
 * version, so a fix Debian shipped in 12 at "-deb12u1" is honoured even
 * though upstream fixed it in a later release.  The Go standard library is
 * the package "stdlib" at the toolchain version of each binary.
 *
 * Silence is never an answer: an OS with no rows in the database, an old
 * database, an end-of-life release and a version that cannot be compared
 * each leave a warning on the result.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/util.h"
#include "vuln/version.h"
#include "vuln/vuln_int.h"

#define TITLE_MAX 240
#define MAX_EVENTS 1024

void mm_vuln_opts_init(mm_vuln_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->max_age_days = 7;
}

/* --- end-of-life table ------------------------------------------------------ */

/* The last day of security support each distribution publishes (Debian:
 * the end of LTS; Ubuntu: end of standard support, ESM excluded; Alpine:
 * the end of the release's support; RHEL and rebuilds: end of maintenance
 * support).  docs/vulnerabilities.md lists the sources. */
static const struct eol {
    const char *family; /* os-release ID */
    const char *version; /* release prefix: "10" matches "10.13" */
    const char *date;   /* YYYY-MM-DD */
} eol_table[] = {
    {"debian", "7", "2018-05-31"},   {"debian", "8", "2020-06-30"},
    {"debian", "9", "2022-06-30"},   {"debian", "10", "2024-06-30"},
    {"debian", "11", "2026-08-31"},  {"debian", "12", "2028-06-30"},
    {"ubuntu", "14.04", "2019-04-30"}, {"ubuntu", "16.04", "2021-04-30"},
    {"ubuntu", "18.04", "2023-05-31"}, {"ubuntu", "19.10", "2020-07-17"},
    {"ubuntu", "20.04", "2025-05-31"}, {"ubuntu", "20.10", "2021-07-22"},
    {"ubuntu", "21.04", "2022-01-20"}, {"ubuntu", "21.10", "2022-07-14"},
    {"ubuntu", "22.04", "2027-06-01"}, {"ubuntu", "22.10", "2023-07-20"},
    {"ubuntu", "23.04", "2024-01-25"}, {"ubuntu", "23.10", "2024-07-11"},
    {"ubuntu", "24.04", "2029-05-31"}, {"ubuntu", "24.10", "2025-07-10"},
    {"alpine", "3.3", "2017-05-01"},  {"alpine", "3.4", "2018-05-01"},
    {"alpine", "3.5", "2018-11-01"},  {"alpine", "3.6", "2019-05-01"},
    {"alpine", "3.7", "2019-11-01"},  {"alpine", "3.8", "2020-05-01"},
    {"alpine", "3.9", "2020-11-01"},  {"alpine", "3.10", "2021-05-01"},
    {"alpine", "3.11", "2021-11-01"}, {"alpine", "3.12", "2022-05-01"},
    {"alpine", "3.13", "2022-11-01"}, {"alpine", "3.14", "2023-05-01"},
    {"alpine", "3.15", "2023-11-01"}, {"alpine", "3.16", "2024-05-23"},
    {"alpine", "3.17", "2024-11-22"}, {"alpine", "3.18", "2025-05-09"},
    {"alpine", "3.19", "2025-11-01"}, {"alpine", "3.20", "2026-04-01"},
    {"alpine", "3.21", "2026-11-01"}, {"alpine", "3.22", "2027-05-01"},
    {"rhel", "7", "2024-06-30"},      {"rhel", "8", "2029-05-31"},
    {"rhel", "9", "2032-05-31"},      {"centos", "7", "2024-06-30"},
    {"centos", "8", "2021-12-31"},    {"rocky", "8", "2029-05-31"},
    {"rocky", "9", "2032-05-31"},     {"almalinux", "8", "2029-03-01"},
    {"almalinux", "9", "2032-05-31"},
};

/* Does version v belong to release prefix rel ("3.18" for "3.18.4")? */
static bool release_of(const char *v, const char *rel)
{
    size_t n = strlen(rel);
    return strncmp(v, rel, n) == 0 && (v[n] == 0 || v[n] == '.');
}

static int64_t day_epoch(const char *ymd)
{
    int64_t t = 0;
    mm_time_parse(ymd, MM_TIME_DATE, &t, NULL);   /* the table's own dates */
    return t;
}

static void check_eol(mm_result *r, const mm_os_info *os, int64_t now)
{
    if (!os->family || !os->version)
        return;
    for (size_t i = 0; i < sizeof eol_table / sizeof eol_table[0]; i++) {
        const struct eol *e = &eol_table[i];
        if (strcmp(os->family, e->family) != 0 || !release_of(os->version, e->version))
            continue;
        if (now > day_epoch(e->date) + 86400)
            mm_result_warn(r, "%s %s reached its end of life on %s: its "
                           "packages no longer receive security fixes",
                           os->family, os->version, e->date);
        return;
    }
}

/* --- ecosystems --------------------------------------------------------------- */

/* The first n dot-separated parts of v into out ("3.18.4", 2 -> "3.18"). */
static void release_parts(char *out, size_t cap, const char *v, int n)
{
    size_t i = 0;
    int dots = 0;
    for (; v[i] && i + 1 < cap; i++) {
        if (v[i] == '.' && ++dots == n)
            break;
        out[i] = v[i];
    }
    out[i] = 0;
}

/* The OSV ecosystem of the OS's packages, or NULL when mamori does not know
 * the distribution's feed.  Caller frees. */
static char *os_ecosystem(const mm_os_info *os)
{
    const char *f = os->family, *v = os->version;
    char rel[64];
    if (!f)
        return NULL;
    if (!strcmp(f, "debian")) {
        if (v && isdigit((unsigned char)*v)) {
            release_parts(rel, sizeof rel, v, 1);
            return mm_xasprintf("Debian:%s", rel);
        }
        /* testing/unstable carry no VERSION_ID: the codename says */
        static const struct { const char *c, *n; } cn[] = {
            {"buster", "10"}, {"bullseye", "11"}, {"bookworm", "12"},
            {"trixie", "13"}, {"forky", "14"}, {"sid", "sid"},
        };
        for (size_t i = 0; os->codename && i < sizeof cn / sizeof cn[0]; i++)
            if (!strcmp(os->codename, cn[i].c))
                return mm_xasprintf("Debian:%s", cn[i].n);
        return NULL;
    }
    if (!v)
        return !strcmp(f, "wolfi") ? mm_xstrdup("Wolfi")
             : !strcmp(f, "chainguard") ? mm_xstrdup("Chainguard") : NULL;
    if (!strcmp(f, "ubuntu"))
        return mm_xasprintf("Ubuntu:%s", v);
    if (!strcmp(f, "alpine")) {
        release_parts(rel, sizeof rel, v, 2);
        return mm_xasprintf("Alpine:v%s", rel);
    }
    if (!strcmp(f, "wolfi"))
        return mm_xstrdup("Wolfi");
    if (!strcmp(f, "chainguard"))
        return mm_xstrdup("Chainguard");
    release_parts(rel, sizeof rel, v, 1);
    if (!strcmp(f, "rocky"))
        return mm_xasprintf("Rocky Linux:%s", rel);
    if (!strcmp(f, "almalinux"))
        return mm_xasprintf("AlmaLinux:%s", rel);
    if (!strcmp(f, "rhel"))
        return mm_xasprintf("Red Hat:enterprise_linux:%s", rel);
    if (!strcmp(f, "opensuse-leap"))
        return mm_xasprintf("openSUSE:Leap %s", v);
    if (!strcmp(f, "sles"))
        return mm_xasprintf("SUSE:Linux Enterprise Server %s", rel);
    return NULL;
}

static bool is_os_pkg(mm_pkg_type t)
{
    return mm_pkg_type_info_get(t)->os;
}

/* PEP 503: lower case, runs of '-', '_' and '.' become one '-'. */
static char *pep503(const char *s)
{
    mm_buf b = MM_BUF_INIT;
    bool sep = false;
    for (; *s; s++) {
        if (*s == '-' || *s == '_' || *s == '.') {
            sep = true;
            continue;
        }
        if (sep && b.len)
            mm_buf_addc(&b, '-');
        sep = false;
        mm_buf_addc(&b, (char)tolower((unsigned char)*s));
    }
    return mm_buf_detach(&b);
}

/* The name and version a package is looked up and compared by. */
struct key {
    const char *eco;     /* OSV ecosystem */
    char *name;          /* normalised */
    char *version;       /* in the ecosystem's scheme */
};

static bool make_key(const mm_package *p, const char *os_eco, struct key *k)
{
    memset(k, 0, sizeof *k);
    if (!p->name || !p->version || !*p->name || !*p->version)
        return false;
    switch (p->type) {
    case MM_PKG_DPKG:
        /* Debian and Ubuntu key advisories by source package and version. */
        k->eco = os_eco;
        k->name = mm_xstrdup(p->src_name ? p->src_name : p->name);
        k->version = mm_xstrdup(p->src_version ? p->src_version : p->version);
        break;
    case MM_PKG_APK:
        /* secdb lists origins; a subpackage shares its origin's version */
        k->eco = os_eco;
        k->name = mm_xstrdup(p->src_name ? p->src_name : p->name);
        k->version = mm_xstrdup(p->version);
        break;
    case MM_PKG_RPM:
        k->eco = os_eco;
        k->name = mm_xstrdup(p->name);
        if (p->epoch > 0 && !strchr(p->version, ':'))
            k->version = mm_xasprintf("%d:%s", p->epoch, p->version);
        else
            k->version = mm_xstrdup(p->version);
        break;
    case MM_PKG_PYTHON:
        k->eco = mm_pkg_type_info_get(p->type)->ecosystem;
        k->name = pep503(p->name);
        k->version = mm_xstrdup(p->version);
        break;
    case MM_PKG_GOMOD:
        /* Go vulndb writes SEMVER without the "v" (stdlib "1.21.0") */
        k->eco = mm_pkg_type_info_get(p->type)->ecosystem;
        k->name = mm_xstrdup(p->name);
        k->version = mm_xstrdup(p->version[0] == 'v' ? p->version + 1
                                : mm_str_startswith(p->version, "go") ? p->version + 2
                                : p->version);
        break;
    case MM_PKG_COMPOSER: {
        k->eco = mm_pkg_type_info_get(p->type)->ecosystem;
        k->name = mm_xstrdup(p->name);
        for (char *c = k->name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        k->version = mm_xstrdup(p->version[0] == 'v' ? p->version + 1 : p->version);
        break;
    }
    default:
        k->eco = mm_pkg_type_info_get(p->type)->ecosystem;
        k->name = mm_xstrdup(p->name);
        k->version = mm_xstrdup(p->version);
        break;
    }
    if (!k->eco) {
        free(k->name);
        free(k->version);
        memset(k, 0, sizeof *k);
        return false;
    }
    return true;
}

static void key_free(struct key *k)
{
    free(k->name);
    free(k->version);
}

/* --- OSV range evaluation ---------------------------------------------------- */

/* Result of testing one version against one affected row. */
struct verdict {
    bool affected;
    char *fixed;        /* lowest fixed version above it, or NULL */
};

static int vcmp(mm_verscheme s, const char *a, const char *b, int *out)
{
    return mm_version_cmp(s, a, b, out);
}

/* One OSV range: affected when the greatest "introduced" at or below v is
 * not followed (at or below v) by a "fixed", nor by a "last_affected"
 * below v; "limit" caps the range.  Events whose versions do not parse are
 * ignored (a broken advisory must not hide the others). */
static bool range_affects(mm_verscheme s, json_t *events, const char *v,
                          char **fixed_out)
{
    size_t n = json_array_size(events);
    if (n > MAX_EVENTS)
        n = MAX_EVENTS;
    const char *intro = NULL;   /* greatest introduced <= v; "0" = origin */
    int c;
    for (size_t i = 0; i < n; i++) {
        const char *iv = json_string_value(json_object_get(json_array_get(events, i),
                                                           "introduced"));
        if (!iv)
            continue;
        if (!strcmp(iv, "0")) {
            if (!intro)
                intro = "0";
            continue;
        }
        if (vcmp(s, iv, v, &c) < 0 || c > 0)
            continue;
        if (!intro || !strcmp(intro, "0") ||
            (vcmp(s, iv, intro, &c) == 0 && c > 0))
            intro = iv;
    }
    if (!intro)
        return false;
    bool origin = !strcmp(intro, "0");
    const char *best_fix = NULL;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_array_get(events, i);
        const char *fv = json_string_value(json_object_get(e, "fixed"));
        const char *la = json_string_value(json_object_get(e, "last_affected"));
        const char *lim = json_string_value(json_object_get(e, "limit"));
        if (fv) {
            int ci = 1;
            if (!origin && (vcmp(s, fv, intro, &ci) < 0))
                continue;
            if (ci < 0)
                continue; /* a fix of an earlier introduction */
            if (vcmp(s, fv, v, &c) < 0)
                continue;
            if (c <= 0)
                return false; /* fixed at or below v */
            int cb;
            if (!best_fix || (vcmp(s, fv, best_fix, &cb) == 0 && cb < 0))
                best_fix = fv;
        }
        if (la) {
            int ci = 1;
            if (!origin && vcmp(s, la, intro, &ci) < 0)
                continue;
            if (ci < 0)
                continue;
            if (vcmp(s, la, v, &c) == 0 && c < 0)
                return false; /* the last affected version is below v */
        }
        if (lim && strcmp(lim, "*") != 0) {
            if (vcmp(s, v, lim, &c) == 0 && c >= 0)
                return false;
        }
    }
    if (best_fix && fixed_out && !*fixed_out)
        *fixed_out = mm_xstrdup(best_fix);
    else if (best_fix && fixed_out) {
        int cb;
        if (vcmp(s, best_fix, *fixed_out, &cb) == 0 && cb < 0) {
            free(*fixed_out);
            *fixed_out = mm_xstrdup(best_fix);
        }
    }
    return true;
}

/* Is v named in the explicit versions of a row?  The exact spelling is
 * found in the raw JSON text without parsing it (PyPA rows list hundreds
 * of versions); the scheme's equality ("1.0" == "1.0.0" in PEP 440) is
 * only consulted for rows that have no usable range to decide by. */
static bool in_versions(mm_verscheme s, const char *versions_json, const char *v,
                        bool deep)
{
    if (!versions_json || !*versions_json)
        return false;
    size_t vl = strlen(v);
    for (const char *p = strstr(versions_json, v); p; p = strstr(p + 1, v))
        if (p > versions_json && p[-1] == '"' && p[vl] == '"')
            return true;
    if (!deep)
        return false;
    json_t *vs = json_loads(versions_json, 0, NULL);
    size_t n = json_array_size(vs);
    bool hit = false;
    for (size_t i = 0; i < n && !hit; i++) {
        const char *x = json_string_value(json_array_get(vs, i));
        int c;
        hit = x && vcmp(s, x, v, &c) == 0 && c == 0;
    }
    json_decref(vs);
    return hit;
}

/* v must be a valid version of the scheme (the caller checked). */
static void evaluate(mm_verscheme s, const char *ranges_json,
                     const char *versions_json, const char *v,
                     struct verdict *out)
{
    memset(out, 0, sizeof *out);
    bool ranged = false;
    if (ranges_json && *ranges_json && strcmp(ranges_json, "[]") != 0) {
        json_t *rs = json_loads(ranges_json, 0, NULL);
        size_t n = json_array_size(rs);
        for (size_t i = 0; i < n; i++) {
            json_t *rg = json_array_get(rs, i);
            const char *type = json_string_value(json_object_get(rg, "type"));
            if (type && !strcmp(type, "GIT"))
                continue; /* commits, not versions */
            ranged = true;
            if (range_affects(s, json_object_get(rg, "events"), v, &out->fixed))
                out->affected = true;
        }
        json_decref(rs);
    }
    if (!out->affected && in_versions(s, versions_json, v, !ranged))
        out->affected = true;
    if (!out->affected) {
        free(out->fixed);
        out->fixed = NULL;
    }
}

/* --- findings ------------------------------------------------------------------ */

static mm_severity sev_of(const char *s)
{
    mm_severity v;
    if (s && *s && mm_severity_parse(&v, s) == 0)
        return v;
    return MM_SEV_UNKNOWN;
}

/* Vendor severity of the ecosystem first, then the advisory's, then its
 * CVSS score. */
static mm_severity pick_severity(const char *eco_sev, const char *adv_sev,
                                 double score, bool has_score)
{
    mm_severity s = sev_of(eco_sev);
    if (s != MM_SEV_UNKNOWN)
        return s;
    s = sev_of(adv_sev);
    if (s != MM_SEV_UNKNOWN)
        return s;
    if (has_score)
        return sev_of(mm_cvss_severity(score));
    return MM_SEV_UNKNOWN;
}

static char *make_title(const char *summary, const char *details)
{
    const char *t = summary && *summary ? summary : details;
    if (!t || !*t)
        return NULL;
    size_t n = strcspn(t, "\n");
    while (n && (t[n - 1] == '\r' || t[n - 1] == ' '))
        n--;
    if (n > TITLE_MAX) {
        /* cut on a UTF-8 boundary */
        n = TITLE_MAX;
        while (n && ((unsigned char)t[n] & 0xc0) == 0x80)
            n--;
        char *s = mm_xstrndup(t, n);
        char *r = mm_xasprintf("%s...", s);
        free(s);
        return r;
    }
    return mm_xstrndup(t, n);
}

static void push_json_strings(char ***v, size_t *n, const char *json)
{
    if (!json || !*json)
        return;
    json_t *a = json_loads(json, 0, NULL);
    size_t k = json_array_size(a);
    for (size_t i = 0; i < k && *n < 256; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        if (!s || !*s)
            continue;
        bool dup = false;
        for (size_t j = 0; j < *n && !dup; j++)
            dup = !strcmp((*v)[j], s);
        if (!dup)
            mm_strv_push(v, n, s);
    }
    json_decref(a);
}

#define LOOKUP_SQL                                                        \
    "SELECT a.advisory, a.aliases, a.summary, a.details, a.severity,"    \
    " a.cvss_score, a.refs, f.ranges, f.versions, f.fixed, f.severity,"  \
    " f.ecosystem FROM affected f JOIN advisories a ON a.id = f.advisory_id" \
    " WHERE f.ecosystem = ?1 AND f.package = ?2"

struct matcher {
    mm_vulndb *db;
    mm_result *r;
    const mm_vuln_opts *o;
    sqlite3_stmt *lookup;
    mm_map *seen;        /* advisory + package + path: one finding each */
    size_t added;
};

static const char *col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Looks up one package under one ecosystem and adds its findings.
 * Returns the number of candidate rows (so that callers know whether the
 * package was known at all), or a negative MM_E*. */
static int match_one(struct matcher *m, const mm_package *p, const char *eco,
                     const struct key *k)
{
    mm_verscheme scheme;
    if (!mm_verscheme_for_ecosystem(eco, &scheme))
        return 0;
    sqlite3_stmt *st = m->lookup;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, k->name, -1, SQLITE_STATIC);
    int rows = 0, rc;
    bool warned = false, valid = mm_version_valid(scheme, k->version);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rows++;
        if (!valid) {
            /* only worth a word when the package has advisories at all */
            mm_result_warn(m->r, "%s %s (%s): not a valid version for "
                           "%s; the package was not checked for "
                           "vulnerabilities", p->name, p->version,
                           p->path ? p->path : "-", eco);
            warned = true;
            break;
        }
        struct verdict vd;
        evaluate(scheme, col(st, 7), col(st, 8), k->version, &vd);
        if (!vd.affected)
            continue;
        const char *adv = col(st, 0);
        if (!adv) {
            free(vd.fixed);
            continue;
        }
        /* the row's "fixed" column is the display fallback */
        const char *fixed = vd.fixed;
        if (!fixed && col(st, 9) && *col(st, 9)) {
            int c;
            if (vcmp(scheme, col(st, 9), k->version, &c) == 0 && c > 0)
                fixed = col(st, 9);
        }
        if (m->o->ignore_unfixed && !fixed) {
            free(vd.fixed);
            continue;
        }
        char *dkey = mm_xasprintf("%s\x1f%s\x1f%s\x1f%s\x1f%s", adv, p->name,
                                  p->version, p->path ? p->path : "",
                                  mm_pkg_type_name(p->type));
        if (mm_map_get(m->seen, dkey)) {
            free(dkey);
            free(vd.fixed);
            continue;
        }
        mm_map_put(m->seen, dkey, (void *)1);
        free(dkey);

        mm_finding f;
        memset(&f, 0, sizeof f);
        f.id = (char *)adv;
        f.kind = MM_FIND_VULNERABILITY;
        f.section = (char *)"3.1.1";
        f.severity = pick_severity(col(st, 10), col(st, 4),
                                   sqlite3_column_double(st, 5),
                                   sqlite3_column_type(st, 5) != SQLITE_NULL &&
                                       sqlite3_column_double(st, 5) > 0);
        char *title = make_title(col(st, 2), col(st, 3));
        f.title = title ? title : (char *)adv;
        char *pkgref = mm_xasprintf("%s@%s", p->name, p->version);
        f.loc.package = pkgref;
        f.loc.path = p->path;
        f.loc.layer = p->layer;
        f.loc.layer_digest = p->layer_digest;
        f.loc.image = (char *)mm_result_target(m->r);
        const mm_layer_info *li = p->layer >= 0
                                      ? mm_result_layer(m->r, (size_t)p->layer)
                                      : NULL;
        f.loc.instruction = li ? li->created_by : NULL;
        bool src_differs = strcmp(k->version, p->version) != 0 ||
                           strcmp(k->name, p->name) != 0;
        mm_buf ev = MM_BUF_INIT;
        mm_buf_printf(&ev, "installed %s", p->version);
        if (src_differs && is_os_pkg(p->type))
            mm_buf_printf(&ev, " (source %s %s)", k->name, k->version);
        if (fixed)
            mm_buf_printf(&ev, ", fixed in %s", fixed);
        else
            mm_buf_adds(&ev, ", no fix");
        mm_buf_printf(&ev, " (%s)", col(st, 11) ? col(st, 11) : eco);
        f.evidence = ev.data;
        char *rem = fixed ? mm_xasprintf("upgrade %s to %s", p->name, fixed) : NULL;
        f.remediation = rem;
        char **refs = NULL;
        size_t nrefs = 0;
        push_json_strings(&refs, &nrefs, col(st, 6));
        push_json_strings(&refs, &nrefs, col(st, 1));
        f.references = refs;
        f.nreferences = nrefs;
        mm_findings_add(mm_result_findings(m->r), &f);
        m->added++;
        mm_strv_free(refs, nrefs);
        free(rem);
        mm_buf_free(&ev);
        free(pkgref);
        free(title);
        free(vd.fixed);
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE && !warned) {
        int e = mm_error_set(MM_EDB, "%s: lookup of %s %s: %s", m->db->path,
                             eco, k->name, sqlite3_errmsg(m->db->db));
        sqlite3_reset(st);
        return e;
    }
    sqlite3_reset(st);
    return rows;
}

/* Does the database hold any row for the ecosystem (or a sub-ecosystem
 * "E:...", such as "Ubuntu:22.04:LTS" when not normalised)? */
static int eco_present(mm_vulndb *db, const char *eco, bool *present)
{
    sqlite3_stmt *st = NULL;
    *present = false;
    int rc = sqlite3_prepare_v2(db->db,
                                "SELECT ecosystem FROM affected WHERE ecosystem >= ?1"
                                " ORDER BY ecosystem LIMIT 1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return mm_error_set(MM_EDB, "%s: %s", db->path, sqlite3_errmsg(db->db));
    sqlite3_bind_text(st, 1, eco, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const char *e = (const char *)sqlite3_column_text(st, 0);
        size_t n = strlen(eco);
        *present = e && strncmp(e, eco, n) == 0 && (e[n] == 0 || e[n] == ':');
    }
    sqlite3_finalize(st);
    return 0;
}

int mm_vuln_match(mm_vulndb *db, mm_result *r, const mm_vuln_opts *o)
{
    if (!db || !db->db || !r)
        return mm_error_set(MM_EINVAL, "vulnerability match: no database or result");
    mm_vuln_opts def;
    if (!o) {
        mm_vuln_opts_init(&def);
        o = &def;
    }
    int64_t now = (int64_t)time(NULL);
    int64_t max_age = o->max_age_days > 0 ? o->max_age_days : 7;
    if (db->built_at > 0 && now - db->built_at > max_age * 86400) {
        char when[32];
        mm_time_rfc3339(db->built_at, when);
        when[10] = 0;
        mm_result_warn(r, "the vulnerability database is %lld days old (built "
                       "%s); run `mamori db update`",
                       (long long)((now - db->built_at) / 86400), when);
    }
    const mm_os_info *os = mm_result_os(r);
    check_eol(r, os, now);

    struct matcher m;
    memset(&m, 0, sizeof m);
    m.db = db;
    m.r = r;
    m.o = o;
    int rc = sqlite3_prepare_v2(db->db, LOOKUP_SQL, -1, &m.lookup, NULL);
    if (rc != SQLITE_OK)
        return mm_error_set(MM_EDB, "%s: preparing the lookup: %s", db->path,
                            sqlite3_errmsg(db->db));
    m.seen = mm_map_new();
    /* One read transaction for the whole match: without it every lookup is
     * its own transaction (a lock, an fstat and a re-read of the header);
     * memory-mapped pages spare a copy per page. */
    sqlite3_exec(db->db, "PRAGMA mmap_size = 1073741824", NULL, NULL, NULL);
    bool txn = sqlite3_exec(db->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;

    char *os_eco = os_ecosystem(os);
    bool os_known = false;
    if (os_eco && (rc = eco_present(db, os_eco, &os_known)) < 0)
        goto out;
    /* Ubuntu rows may be stored with a ":LTS" suffix by other tools */
    char *os_eco_lts = os_eco && !strncmp(os_eco, "Ubuntu:", 7)
                           ? mm_xasprintf("%s:LTS", os_eco) : NULL;

    mm_inventory *inv = mm_result_inventory(r);
    size_t n = mm_inventory_count(inv), nos = 0;
    for (size_t i = 0; i < n; i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (!p)
            continue;
        if (is_os_pkg(p->type)) {
            nos++;
            if (!os_known)
                continue;
        }
        struct key k;
        if (!make_key(p, os_eco, &k))
            continue;
        rc = match_one(&m, p, k.eco, &k);
        if (rc >= 0 && os_eco_lts && is_os_pkg(p->type))
            rc = match_one(&m, p, os_eco_lts, &k);
        key_free(&k);
        if (rc < 0)
            goto out_lts;
    }
    if (nos && !os_known) {
        if (!os->family)
            mm_result_warn(r, "the OS is unknown; its %zu OS packages were not "
                           "checked for vulnerabilities", nos);
        else
            mm_result_warn(r, "no advisories for %s %s in the vulnerability "
                           "database; its OS packages were not checked%s%s%s",
                           os->family, os->version ? os->version : "(no version)",
                           os_eco ? " (import the feed of " : "",
                           os_eco ? os_eco : "", os_eco ? ")" : "");
    }
    rc = 0;
out_lts:
    free(os_eco_lts);
out:
    free(os_eco);
    sqlite3_finalize(m.lookup);
    if (txn)
        sqlite3_exec(db->db, "COMMIT", NULL, NULL, NULL);
    mm_map_free(m.seen, NULL);
    if (rc >= 0)
        mm_result_add_scanners(r, MM_SCANNER_VULN);
    return rc < 0 ? rc : 0;
}
