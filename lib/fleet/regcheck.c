/*
 * regcheck.c - registry security checks (SP 800-190 §3.2.1, §3.2.3) as
 * scans of the server (issue 20): the report document of one check, which
 * `mamori registry check --server` uploads and the scheduler stores, and
 * the scheduler's "registry-check" job.  The document is the mamori JSON
 * report of the failed checks' findings (kind "registry-check", target the
 * registry) with every check's verdict and evidence under "registryCheck",
 * so that the console's Registries page reads uploaded and scheduled
 * checks alike, and the SP 800-190 report counts their findings.
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/regcheck.h"
#include "mamori/report.h"
#include "fleet/ops.h"

int mm_fleet_regcheck_report(char **out, const mm_regcheck *rc)
{
    *out = NULL;
    mm_result *r = NULL;
    char *rep = NULL, *chk = NULL;
    mm_report_opts ro;
    mm_report_opts_init(&ro);
    int e = mm_result_new(&r, MM_TARGET_REGISTRY, mm_regcheck_target(rc));
    if (e == 0 && (e = mm_regcheck_findings(rc, 0, mm_result_findings(r))) > 0)
        e = 0;
    if (e == 0)
        e = mm_report_json_string(&rep, r, &ro);
    if (e == 0)
        e = mm_regcheck_json(&chk, rc);
    json_t *d = e == 0 ? json_loads(rep, 0, NULL) : NULL;
    json_t *c = e == 0 ? json_loads(chk, 0, NULL) : NULL;
    if (json_is_object(d) && json_is_object(c)) {
        json_object_set_new(d, "kind", json_string("registry-check"));
        json_object_set_new(d, "target", json_string(mm_regcheck_target(rc)));
        json_object_set(d, "registryCheck", c);
        *out = json_dumps(d, JSON_COMPACT);
    }
    if (e == 0 && !*out)
        e = mm_error_set(MM_EFORMAT, "registry check: the report could not be built");
    json_decref(d);
    json_decref(c);
    free(rep);
    free(chk);
    mm_result_free(r);
    return e < 0 ? e : 0;
}

/* The "registry-check" schedule: params registry (HOST[:PORT]), and
 * optionally repository, ca_file, timeout (seconds).  The check is stored
 * as a scan of the server; the detail counts the verdicts. */
int ops_job_regcheck(mm_fleet *f, json_t *params, mm_buf *detail)
{
    const char *target = ops_js(params, "registry");
    mm_regcheck_opts o = {0};
    o.ca_file = ops_js(params, "ca_file");
    o.repository = ops_js(params, "repository");
    o.timeout_s = (long)json_integer_value(json_object_get(params, "timeout"));
    mm_regcheck *rc = NULL;
    char *doc = NULL;
    int e = target ? mm_regcheck_run(&rc, target, &o)
                   : mm_error_set(MM_EINVAL, "registry-check: no registry");
    if (e == 0)
        e = mm_fleet_regcheck_report(&doc, rc);
    char sid[33] = "";
    size_t nf = 0;
    if (e == 0)
        e = fleet_scan_store(f, doc, strlen(doc), NULL, NULL, sid, &nf);
    if (e == 0) {
        size_t n[4] = {0};
        for (size_t i = 0; i < mm_regcheck_count(rc); i++) {
            unsigned v = (unsigned)mm_regcheck_get(rc, i)->verdict;
            if (v < 4)
                n[v]++;
        }
        mm_buf_printf(detail, "%s: %zu failed, %zu passed, %zu not applicable, %zu errors;"
                      " %zu findings stored as scan %s", target, n[MM_REGCHECK_FAIL],
                      n[MM_REGCHECK_PASS], n[MM_REGCHECK_NA], n[MM_REGCHECK_ERROR], nf, sid);
    }
    free(doc);
    mm_regcheck_free(rc);
    return e;
}
