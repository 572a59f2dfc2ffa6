/*
 * rematch.c - the vulnerability-database update of `mamori server` and
 * the re-match that follows it (SP 800-190 §3.1.1 image vulnerabilities,
 * re-evaluated as new ones are published).
 *
 * The update imports local feed files (as `mamori db import`) or fetches
 * the sources of a sources file (as `mamori db update`) into the server's
 * database; both build a new file and rename it over the old one, so a
 * hard link taken first keeps the database as it was.  Then the newest
 * stored scan of every image (or root filesystem) is read back - its JSON
 * report holds the inventory - and matched again through the scan
 * pipeline's match stage (mm_pipeline_process), with no pull.  A
 * vulnerability is new when neither the scan's stored findings nor a match
 * against the previous database had it: each new (advisory, image) raises
 * one "new-vulnerability" alert naming the hosts the image runs on (the
 * hosts of its scans and of runtime events naming it), and becomes a
 * finding of the scan so that the next update does not raise it again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/sbom.h"
#include "mamori/scan.h"
#include "mamori/vuln.h"
#include "mamori/vulnupdate.h"
#include "fleet/ops.h"

#define MAX_REPORT (256u << 20)
#define MAX_HOSTS 20

typedef struct scan_ref {
    int64_t seq;
    char *image, *target, *host;
} scan_ref;

typedef struct scan_list {
    scan_ref *v;
    size_t n;
} scan_list;

static int scan_row(void *ud, int n, const char *const *v, const char *const *names)
{
    scan_list *l = ud;
    if (l->n >= 1000000)
        return -1;
    l->v = mm_xrealloc(l->v, (l->n + 1) * sizeof *l->v);
    scan_ref *s = &l->v[l->n++];
    s->seq = strtoll(v[0], NULL, 10);
    s->image = mm_xstrdup(v[1]);
    s->target = mm_xstrdup(v[2]);
    s->host = mm_xstrdup(v[3]);
    return 0;
}

typedef struct text_acc {
    char *s;
    mm_map *set;
    json_t *arr;
} text_acc;

static int first_text(void *ud, int n, const char *const *v, const char *const *names)
{
    text_acc *t = ud;
    if (!t->s && v[0])
        t->s = mm_xstrdup(v[0]);
    return 0;
}

/* (finding_id, package) keys into a set */
static int key_row(void *ud, int n, const char *const *v, const char *const *names)
{
    text_acc *t = ud;
    char *k = mm_xasprintf("%s\t%s", v[0] ? v[0] : "", v[1] ? v[1] : "");
    mm_map_put(t->set, k, (void *)1);
    free(k);
    return 0;
}

/* the Kubernetes namespace of a runtime event naming the image */
static int ns_row(void *ud, int n, const char *const *v, const char *const *names)
{
    text_acc *t = ud;
    json_t *ev = v[0] ? json_loads(v[0], 0, NULL) : NULL;
    const char *ns = json_string_value(json_object_get(json_object_get(ev, "output_fields"),
                                                       "k8s.ns.name"));
    if (!ns)
        ns = json_string_value(json_object_get(ev, "namespace"));
    if (ns && *ns && strlen(ns) <= 253 && !mm_map_get(t->set, ns) &&
        json_array_size(t->arr) < MAX_HOSTS) {
        mm_map_put(t->set, ns, (void *)1);
        json_array_append_new(t->arr, json_string(ns));
    }
    json_decref(ev);
    return 0;
}

static int host_row(void *ud, int n, const char *const *v, const char *const *names)
{
    text_acc *t = ud;
    if (v[0] && !mm_map_get(t->set, v[0]) && json_array_size(t->arr) < MAX_HOSTS) {
        mm_map_put(t->set, v[0], (void *)1);
        json_array_append_new(t->arr, json_string(v[0]));
    }
    return 0;
}

/* The vulnerability findings of a match of report against the pipeline's
 * database, keyed "id\tpackage" (values: the findings, owned by *rp). */
static int match_report(mm_pipeline *p, const char *report, const char *name, mm_result **rp,
                        mm_map **keys)
{
    *rp = NULL;
    *keys = NULL;
    mm_result *r = NULL;
    int rc = mm_sbom_parse(&r, report, strlen(report), name);
    if (rc)
        return rc;
    mm_pipeline_outcome oc;
    memset(&oc, 0, sizeof oc);
    rc = mm_pipeline_process(p, r, &oc);
    mm_pipeline_outcome_clear(&oc);
    if (rc) {
        mm_result_free(r);
        return rc;
    }
    mm_map *m = mm_map_new();
    const mm_findings *fs = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(fs); i++) {
        const mm_finding *x = mm_findings_get(fs, i);
        if (x->kind != MM_FIND_VULNERABILITY)
            continue;
        char *k = mm_xasprintf("%s\t%s", x->id, x->loc.package ? x->loc.package : "");
        mm_map_put(m, k, (void *)x);
        free(k);
    }
    *rp = r;
    *keys = m;
    return 0;
}

static int pipeline_for(const char *db, mm_pipeline **out)
{
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    po.vuln = true;
    po.vuln_required = true;
    po.db_path = db;
    po.db_max_age_days = 36500;
    return mm_pipeline_new(out, &po);
}

/* One alert per new advisory of the image, its packages listed. */
static int raise_new(mm_fleet *f, const scan_ref *s, mm_map *fresh, size_t *nalerts)
{
    /* the hosts the image runs on: its scans' hosts, then runtime events' */
    text_acc h = {NULL, mm_map_new(), json_array()};
    const char *img = s->image ? s->image : s->target;
    const char *hp[] = {img};
    fdb_lock(f->db);
    fdb_query(f->db, "SELECT DISTINCT host_id FROM scans WHERE (image = $1 OR target = $1)"
              " AND host_id IS NOT NULL ORDER BY host_id LIMIT 20", 1, hp, host_row, &h);
    fdb_query(f->db, "SELECT DISTINCT host_id FROM events WHERE image = $1 ORDER BY host_id"
              " LIMIT 20", 1, hp, host_row, &h);
    /* and the Kubernetes namespaces it runs in, from the newest of those events */
    text_acc ns = {NULL, mm_map_new(), json_array()};
    fdb_query(f->db, "SELECT body FROM events WHERE image = $1 ORDER BY seq DESC LIMIT 200", 1,
              hp, ns_row, &ns);
    fdb_unlock(f->db);
    mm_buf hosts = MM_BUF_INIT;
    for (size_t i = 0; i < json_array_size(h.arr); i++)
        mm_buf_printf(&hosts, "%s%s", i ? ", " : "", json_string_value(json_array_get(h.arr, i)));
    /* group the new (id, package) pairs by id */
    mm_map *by_id = mm_map_new();
    size_t it = 0;
    const char *k;
    void *v;
    while (mm_map_next(fresh, &it, &k, &v)) {
        const mm_finding *x = v;
        json_t *g = mm_map_get(by_id, x->id);
        if (!g) {
            g = json_pack("{s:i, s:[]}", "rank", (int)x->severity, "packages");
            json_object_set_new(g, "title", json_string(x->title ? x->title : ""));
            mm_map_put(by_id, x->id, g);
        }
        if ((int)x->severity > json_integer_value(json_object_get(g, "rank")))
            json_object_set_new(g, "rank", json_integer((int)x->severity));
        if (x->loc.package)
            json_array_append_new(json_object_get(g, "packages"), json_string(x->loc.package));
    }
    int rc = 0;
    it = 0;
    while (rc == 0 && mm_map_next(by_id, &it, &k, &v)) {
        json_t *g = v;
        json_t *pk = json_object_get(g, "packages");
        mm_buf pkgs = MM_BUF_INIT;
        for (size_t i = 0; i < json_array_size(pk); i++)
            mm_buf_printf(&pkgs, "%s%s", i ? ", " : "", json_string_value(json_array_get(pk, i)));
        const char *sev = mm_severity_name((mm_severity)json_integer_value(
                                               json_object_get(g, "rank")));
        char *title = hosts.len
            ? mm_xasprintf("new vulnerability %s in image %s, running on host%s %s", k, img,
                           json_array_size(h.arr) > 1 ? "s" : "", hosts.data)
            : mm_xasprintf("new vulnerability %s in image %s, not known to run on any host",
                           k, img);
        json_t *extra = json_object();
        json_object_set(extra, "hosts", h.arr);
        if (json_array_size(ns.arr))
            json_object_set(extra, "namespaces", ns.arr);
        json_object_set(extra, "packages", pk);
        json_object_set_new(extra, "advisory_title", json_incref(json_object_get(g, "title")));
        json_object_set_new(extra, "scan_seq", json_integer(s->seq));
        ops_alert a = {
            .kind = "new-vulnerability", .severity = sev, .section = "3.1.1",
            .image = img, .host_id = json_string_value(json_array_get(h.arr, 0)),
            .namespace_ = json_string_value(json_array_get(ns.arr, 0)),
            .vuln_id = k, .package = pkgs.data, .title = title, .scan_seq = s->seq,
            .extra = extra,
        };
        rc = ops_alert_raise(f, &a);
        if (rc == 0)
            (*nalerts)++;
        json_decref(extra);
        free(title);
        mm_buf_free(&pkgs);
    }
    mm_map_free(by_id, (void (*)(void *))json_decref);
    mm_buf_free(&hosts);
    mm_map_free(h.set, NULL);
    json_decref(h.arr);
    mm_map_free(ns.set, NULL);
    json_decref(ns.arr);
    return rc;
}

/* Records the new findings with the scan (so the next update knows them). */
static int record_new(mm_fleet *f, const scan_ref *s, mm_map *fresh)
{
    char sq[24], now[24];
    snprintf(sq, sizeof sq, "%lld", (long long)s->seq);
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    size_t it = 0;
    const char *k;
    void *v;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    while (rc == 0 && mm_map_next(fresh, &it, &k, &v)) {
        const mm_finding *x = v;
        const char *q[] = {sq, x->id, mm_severity_name(x->severity), x->section ? x->section : "3.1.1",
                           x->title, x->loc.package, s->image, s->host, now};
        rc = fdb_exec(f->db, "INSERT INTO findings (scan_seq, finding_id, kind, severity,"
                      " section, title, package, image, host_id, ts) VALUES"
                      " ($1, $2, 'vulnerability', $3, $4, $5, $6, $7, $8, $9)", 9, q, NULL);
    }
    char nn[24];
    snprintf(nn, sizeof nn, "%zu", mm_map_count(fresh));
    const char *up[] = {nn, sq};
    if (rc == 0)
        rc = fdb_exec(f->db, "UPDATE scans SET findings = findings + $1 WHERE seq = $2", 2, up,
                      NULL);
    rc = fdb_end(f->db, rc);
    fdb_unlock(f->db);
    return rc;
}

int ops_rematch(mm_fleet *f, const char *db, const char *prev_db, mm_buf *detail)
{
    scan_list sl = {0};
    fdb_lock(f->db);
    int rc = fdb_query(f->db, "SELECT seq, image, target, host_id FROM scans WHERE seq IN"
                       " (SELECT MAX(seq) FROM scans WHERE kind IN ('image', 'rootfs')"
                       " GROUP BY COALESCE(image, target, scan_id)) ORDER BY seq", 0, NULL,
                       scan_row, &sl);
    fdb_unlock(f->db);
    mm_pipeline *pn = NULL, *pp = NULL;
    if (rc == 0)
        rc = pipeline_for(db, &pn);
    if (rc == 0 && prev_db && pipeline_for(prev_db, &pp) != 0)
        pp = NULL;   /* no usable previous database: the stored findings are the baseline */
    size_t matched = 0, skipped = 0, fresh_n = 0, nalerts = 0;
    for (size_t i = 0; rc == 0 && i < sl.n; i++) {
        scan_ref *s = &sl.v[i];
        char sq[24], name[48];
        snprintf(sq, sizeof sq, "%lld", (long long)s->seq);
        snprintf(name, sizeof name, "scan %lld", (long long)s->seq);
        const char *p[] = {sq};
        text_acc rep = {NULL, NULL, NULL}, known = {NULL, mm_map_new(), NULL};
        fdb_lock(f->db);
        fdb_query(f->db, "SELECT report FROM scans WHERE seq = $1", 1, p, first_text, &rep);
        fdb_query(f->db, "SELECT finding_id, package FROM findings WHERE scan_seq = $1 AND"
                  " kind = 'vulnerability'", 1, p, key_row, &known);
        fdb_unlock(f->db);
        mm_result *rn = NULL, *rp = NULL;
        mm_map *kn = NULL, *kp = NULL;
        if (!rep.s || match_report(pn, rep.s, name, &rn, &kn) != 0) {
            skipped++;   /* not a report with an inventory (a k8s or host scan) */
        } else {
            matched++;
            if (pp)
                match_report(pp, rep.s, name, &rp, &kp);
            mm_map *fresh = mm_map_new();
            size_t it = 0;
            const char *k;
            void *v;
            while (mm_map_next(kn, &it, &k, &v))
                if (!mm_map_get(known.set, k) && !(kp && mm_map_get(kp, k)))
                    mm_map_put(fresh, k, v);
            if (mm_map_count(fresh)) {
                fresh_n += mm_map_count(fresh);
                rc = record_new(f, s, fresh);
                if (rc == 0)
                    rc = raise_new(f, s, fresh, &nalerts);
            }
            mm_map_free(fresh, NULL);
        }
        mm_map_free(kn, NULL);
        mm_map_free(kp, NULL);
        mm_result_free(rn);
        mm_result_free(rp);
        mm_map_free(known.set, NULL);
        free(rep.s);
    }
    mm_buf_printf(detail, "re-matched %zu stored inventories (%zu without one): %zu new"
                  " vulnerabilities, %zu alerts", matched, skipped, fresh_n, nalerts);
    mm_pipeline_free(pn);
    mm_pipeline_free(pp);
    for (size_t i = 0; i < sl.n; i++) {
        free(sl.v[i].image);
        free(sl.v[i].target);
        free(sl.v[i].host);
    }
    free(sl.v);
    return rc;
}

static void quiet_warn(void *ud, const char *msg)
{
    (void)ud;
    (void)msg;
}

int ops_job_vulndb(mm_fleet *f, json_t *params, mm_buf *detail)
{
    const char *db = f->ops->vulndb;
    char *prev = mm_xasprintf("%s.prev", db);
    unlink(prev);
    bool have_prev = link(db, prev) == 0;
    if (mm_mkdir_parents(db, 0755) != 0) {
        free(prev);
        return mm_error_set(MM_EIO, "%s: cannot create its folder", db);
    }
    int rc = 0;
    bool written = false;
    json_t *feeds = json_object_get(params, "feeds");
    if (json_array_size(feeds)) {
        size_t n = json_array_size(feeds);
        const char **paths = mm_xcalloc(n, sizeof *paths);
        for (size_t i = 0; i < n; i++)
            paths[i] = json_string_value(json_array_get(feeds, i));
        mm_import_stats st;
        memset(&st, 0, sizeof st);
        rc = mm_vulndb_import(db, paths, n, &st, quiet_warn, NULL);
        free(paths);
        if (rc == 0) {
            written = true;
            mm_buf_printf(detail, "imported %llu advisories from %zu feeds; ",
                          (unsigned long long)st.advisories, n);
        }
    }
    if (rc == 0 && ops_js(params, "sources")) {
        mm_update_opts uo;
        mm_update_opts_init(&uo);
        uo.sources_path = ops_js(params, "sources");
        uo.only = ops_js(params, "only");
        uo.allow_insecure = json_is_true(json_object_get(params, "allow_insecure"));
        uo.warn = quiet_warn;
        mm_update_report *rep = NULL;
        rc = mm_vulndb_update(db, &uo, &rep);
        if (rep) {
            written = written || rep->db_written;
            mm_buf_printf(detail, "update: %zu updated, %zu unchanged, %zu failed; ",
                          rep->nupdated, rep->nunchanged, rep->nfailed);
        }
        mm_update_report_free(rep);
    }
    if (rc == 0 && written)
        rc = ops_rematch(f, db, have_prev ? prev : NULL, detail);
    else if (rc == 0)
        mm_buf_adds(detail, "the database did not change: no re-match");
    unlink(prev);
    free(prev);
    return rc;
}
