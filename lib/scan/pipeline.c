/*
 * scan/pipeline.c - the stages after the single pass over the layers:
 * vulnerability match, store, filter (mamori/scan.h).  Every front-end
 * that scans (`mamori image|rootfs|sbom|config`, registry scans, the coming
 * server) runs them through here, so that "what a scan does" is written
 * once.
 *
 * What is costly to prepare lives as long as the pipeline: the compiled
 * secret rules and the rules that mask secrets in printed history, the
 * open vulnerability database, the open store, the loaded ignore file.
 * The database and the store are opened when a run first needs them, so
 * that a run which fails earlier leaves no trace and a missing database
 * is reported at the point where it matters.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/vuln.h"
#include "scan/scan_int.h"

struct mm_pipeline {
    mm_pipeline_opts o;
    mm_secret_rules *secret_rules;   /* compiled from o.scan.secret */
    mm_secret_rules *redact_rules;   /* the built-in rules, when needed */
    scan_verifier *verifier;         /* the keys of o.verify_keys */
    /* the match stage */
    bool db_tried;
    mm_vulndb *db;
    char *db_skipped;                /* why there is no database */
    /* the store */
    mm_store *own_store;
    /* the filter */
    bool ignore_loaded;
    mm_ignorefile *ignore;
};

void mm_pipeline_opts_init(mm_pipeline_opts *o)
{
    memset(o, 0, sizeof *o);
    mm_scan_opts_init(&o->scan);
    mm_filter_init(&o->filter);
}

void mm_pipeline_outcome_clear(mm_pipeline_outcome *oc)
{
    if (!oc)
        return;
    free(oc->db_version);
    free(oc->vuln_skipped);
    free(oc->store_error);
    memset(oc, 0, sizeof *oc);
}

int mm_pipeline_new(mm_pipeline **out, const mm_pipeline_opts *o)
{
    if (!out || !o)
        return mm_error_set(MM_EINVAL, "pipeline: no output or options");
    *out = NULL;
    mm_pipeline *p = mm_xcalloc(1, sizeof *p);
    p->o = *o;
    /* a bad key file fails here, before any layer is read */
    int vrc = scan_verifier_new(&p->verifier, o->verify_keys, o->nverify_keys);
    if (vrc < 0) {
        mm_pipeline_free(p);
        return vrc;
    }
    if ((o->scan.scanners & MM_SCANNER_SECRET) && !o->scan.secret_rules) {
        int rc = mm_secret_rules_new(&p->secret_rules, o->scan.secret);
        if (rc < 0) {
            mm_pipeline_free(p);
            return rc;
        }
        p->o.scan.secret_rules = p->secret_rules;
        /* the default secret rules are the built-in ones, which also mask
         * the history and instructions that reports print */
        const mm_secret_opts *so = o->scan.secret;
        if (!o->scan.redact_rules && (!so || (!so->nconfig_paths && !so->no_builtin_rules)))
            p->o.scan.redact_rules = p->secret_rules;
    }
    /* else the built-in rules are compiled by the first run that has
     * something to mask, and kept for the later ones */
    if (!p->o.scan.redact_rules)
        p->o.scan.redact_cache = &p->redact_rules;
    *out = p;
    return 0;
}

const scan_verifier *scan_pipeline_verifier(const mm_pipeline *p)
{
    return p ? p->verifier : NULL;
}

void mm_pipeline_free(mm_pipeline *p)
{
    if (!p)
        return;
    mm_secret_rules_free(p->secret_rules);
    mm_secret_rules_free(p->redact_rules);
    scan_verifier_free(p->verifier);
    mm_vulndb_close(p->db);
    free(p->db_skipped);
    mm_store_close(p->own_store);
    mm_ignorefile_free(p->ignore);
    free(p);
}

/* --- match ---------------------------------------------------------------------- */
static int open_db(mm_pipeline *p)
{
    if (p->db_tried)
        return p->db || p->db_skipped || !p->o.vuln ? 0 : MM_EDB;
    p->db_tried = true;
    if (!p->o.vuln)
        return 0;
    char *path = p->o.db_path ? mm_xstrdup(p->o.db_path) : mm_vulndb_default_path();
    if (!path)
        return mm_error_set(MM_ENOMEM, "vulnerability database: no path");
    struct stat sb;
    int rc = 0;
    if (stat(path, &sb) != 0) {
        char *why = mm_xasprintf("no database at %s (run `mamori db update` or "
                                 "`mamori db import`)", path);
        if (p->o.vuln_required) {
            rc = mm_error_set(MM_ENOTFOUND, "no vulnerability database at %s (run "
                              "`mamori db update` or `mamori db import`)", path);
            free(why);
            p->db_tried = false; /* the next run says it again */
        } else {
            p->db_skipped = why;
        }
    } else {
        rc = mm_vulndb_open(&p->db, path);
        if (rc < 0)
            p->db_tried = false;
    }
    free(path);
    return rc;
}

int mm_pipeline_db_version(mm_pipeline *p, const char **out, const char **why)
{
    *out = NULL;
    if (why)
        *why = NULL;
    int rc = open_db(p);
    if (rc < 0)
        return rc;
    if (p->db) {
        const char *v = mm_vulndb_version(p->db);
        *out = v ? v : "";
    } else if (why) {
        *why = p->db_skipped;
    }
    return 0;
}

static int stage_match(mm_pipeline *p, mm_result *r, mm_pipeline_outcome *oc)
{
    if (!p->o.vuln)
        return 0;
    int rc = open_db(p);
    if (rc < 0)
        return rc;
    if (!p->db) {
        oc->vuln_skipped = mm_xstrdup(p->db_skipped);
        return 0;
    }
    mm_vuln_opts vo;
    mm_vuln_opts_init(&vo);
    if (p->o.db_max_age_days)
        vo.max_age_days = p->o.db_max_age_days;
    rc = mm_vuln_match(p->db, r, &vo);
    if (rc < 0)
        return mm_error_wrap(rc, "vulnerability match: ");
    const char *v = mm_vulndb_version(p->db);
    oc->db_version = mm_xstrdup(v ? v : "");
    mm_result_set_vulndb(r, oc->db_version, mm_vulndb_built_at(p->db));
    return 0;
}

/* --- store ---------------------------------------------------------------------- */
static void stage_store(mm_pipeline *p, mm_result *r, mm_pipeline_outcome *oc)
{
    mm_store *st = p->o.store;
    if (!st && p->o.store_path) {
        if (!p->own_store && mm_store_open(&p->own_store, p->o.store_path) < 0) {
            oc->store_error = mm_xstrdup(mm_error_last());
            return;
        }
        st = p->own_store;
    }
    if (!st)
        return;
    if (mm_store_put_scan(st, r, oc->db_version) < 0) {
        oc->store_error = mm_xstrdup(mm_error_last());
        return;
    }
    oc->stored = true;
}

/* --- filter --------------------------------------------------------------------- */
static int stage_filter(mm_pipeline *p, mm_result *r, mm_pipeline_outcome *oc)
{
    mm_filter f = p->o.filter;
    if (p->o.ignorefile) {
        if (!p->ignore_loaded) {
            int rc = mm_ignorefile_load(&p->ignore, p->o.ignorefile);
            if (rc < 0)
                return rc;
            p->ignore_loaded = true;
        }
        f.ignore = p->ignore;
    }
    return mm_filter_apply(r, &f, &oc->filter);
}

/* --- runs ----------------------------------------------------------------------- */
static int after_analyzers(mm_pipeline *p, mm_result *r, mm_pipeline_outcome *oc)
{
    int rc = stage_match(p, r, oc);
    if (rc < 0) {
        oc->failed = MM_STAGE_MATCH;
        return rc;
    }
    stage_store(p, r, oc);
    rc = stage_filter(p, r, oc);
    if (rc < 0) {
        oc->failed = MM_STAGE_FILTER;
        return rc;
    }
    return 0;
}

int mm_pipeline_process(mm_pipeline *p, mm_result *r, mm_pipeline_outcome *oc)
{
    if (!p || !r || !oc)
        return mm_error_set(MM_EINVAL, "pipeline: missing argument");
    memset(oc, 0, sizeof *oc);
    return after_analyzers(p, r, oc);
}

int mm_pipeline_scan(mm_pipeline *p, mm_result **out, mm_pipeline_outcome *oc,
                     mm_target_kind kind, const char *input)
{
    if (!p || !out || !oc)
        return mm_error_set(MM_EINVAL, "pipeline: missing argument");
    *out = NULL;
    memset(oc, 0, sizeof *oc);
    mm_result *r = NULL;
    int rc = mm_scan(&r, kind, input, &p->o.scan);
    if (rc < 0) {
        oc->failed = MM_STAGE_INTAKE;
        return rc;
    }
    /* signatures: before the record, so that the store and the filters
     * see the verification and its finding */
    rc = scan_verify(p->verifier, r, kind, input, &p->o.scan);
    if (rc < 0) {
        oc->failed = MM_STAGE_INTAKE;
        mm_result_free(r);
        return rc;
    }
    rc = after_analyzers(p, r, oc);
    if (rc < 0) {
        mm_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
