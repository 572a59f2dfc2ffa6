/*
 * report/sp_json.c - the SP 800-190 report as JSON (docs/report.md): the
 * inputs, the 33 rows with their state and evidence, and the shown
 * findings grouped by section with counts by severity.  Strings go
 * through mm_json_str(), so the document is valid UTF-8 JSON whatever the
 * inputs held.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/common.h"
#include "report/sp_int.h"
#include "report/report_int.h"

static json_t *counts(const size_t c[5])
{
    json_t *o = json_object();
    for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--)
        json_object_set_new(o, mm_severity_name((mm_severity)s), json_integer((json_int_t)c[s]));
    return o;
}

int mm_sp_write_json(FILE *out, mm_spreport *r, const mm_spreport_opts *opt)
{
    char when[32];
    mm_time_rfc3339(opt->now ? opt->now : (int64_t)time(NULL), when);
    json_t *doc = json_object();
    json_object_set_new(doc, "schemaVersion", json_integer(1));
    json_object_set_new(doc, "kind", json_string("sp800-190-report"));
    json_object_set_new(doc, "tool", json_pack("{s:s,s:s}", "name", "mamori",
                                               "version", MM_VERSION));
    json_object_set_new(doc, "title", mm_json_str(opt->title ? opt->title
                                                             : "SP 800-190 report"));
    json_object_set_new(doc, "generatedAt", json_string(when));
    json_t *sevf = json_array();
    for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--)
        if (!r->sevmask || (r->sevmask & (1u << s)))
            json_array_append_new(sevf, json_string(mm_severity_name((mm_severity)s)));
    json_object_set_new(doc, "severities", sevf);

    json_t *ins = json_array();
    for (size_t i = 0; i < r->nin; i++) {
        const sp_input *in = &r->in[i];
        json_t *o = json_object(), *caps = json_array();
        json_object_set_new(o, "name", mm_json_str(in->name));
        json_object_set_new(o, "target", mm_json_str(in->target));
        json_object_set_new(o, "kind", mm_json_str(in->kind));
        json_object_set_new(o, "scannedAt", mm_json_str(in->scanned_at));
        json_object_set_new(o, "os", mm_json_str(in->os));
        for (unsigned k = 0; k < SP_CAP__COUNT; k++)
            if (in->caps & (1u << k))
                json_array_append_new(caps, json_string(mm_sp_cap_name(k)));
        json_object_set_new(o, "lookedAt", caps);
        json_object_set_new(o, "findings", json_integer((json_int_t)in->nfindings));
        json_array_append_new(ins, o);
    }
    json_object_set_new(doc, "inputs", ins);

    json_t *rows = json_array();
    size_t st[3] = {0};
    for (size_t i = 0; i < mm_sprow_count(); i++) {
        mm_sprow_info ri;
        mm_spreport_row(r, i, &ri);
        st[ri.state]++;
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(ri.id));
        json_object_set_new(o, "section", json_string(ri.section));
        json_object_set_new(o, "check", json_string(ri.check));
        json_object_set_new(o, "state", json_string(mm_sprow_state_name(ri.state)));
        json_object_set_new(o, "findings", json_integer((json_int_t)ri.findings));
        json_object_set_new(o, "shown", json_integer((json_int_t)ri.shown));
        json_object_set_new(o, "evidence", mm_json_str(ri.evidence));
        json_array_append_new(rows, o);
    }
    json_object_set_new(doc, "rows", rows);

    size_t *idx, *groups, ng, total[5] = {0};
    mm_sp_group(r, &idx, &groups, &ng);
    json_t *secs = json_array();
    for (size_t g = 0; g < ng; g++) {
        const char *sec = r->f[idx[groups[g]]].section;
        size_t c[5] = {0};
        json_t *o = json_object(), *fa = json_array();
        for (size_t k = groups[g]; k < groups[g + 1]; k++) {
            const sp_finding *f = &r->f[idx[k]];
            const sp_input *in = &r->in[f->input];
            c[f->sev]++;
            total[f->sev]++;
            json_t *x = json_object();
            json_object_set_new(x, "input", mm_json_str(in->name));
            json_object_set_new(x, "target", mm_json_str(in->target));
            json_object_set_new(x, "id", mm_json_str(f->id));
            json_object_set_new(x, "kind", mm_json_str(f->kind));
            json_object_set_new(x, "severity", json_string(mm_severity_name(f->sev)));
            json_object_set_new(x, "title", mm_json_str(f->title));
            json_object_set_new(x, "where", mm_json_str(f->where));
            json_object_set_new(x, "evidence", mm_json_str(f->evidence));
            json_object_set_new(x, "remediation", mm_json_str(f->remediation));
            json_array_append_new(fa, x);
        }
        json_object_set_new(o, "section", mm_json_str(sec));
        json_object_set_new(o, "title", mm_json_str(mm_sp_section_title(sec)));
        json_object_set_new(o, "counts", counts(c));
        json_object_set_new(o, "findings", fa);
        json_array_append_new(secs, o);
    }
    json_object_set_new(doc, "sections", secs);
    json_t *sum = json_object();
    json_object_set_new(sum, "inputs", json_integer((json_int_t)r->nin));
    json_object_set_new(sum, "findings", json_integer((json_int_t)groups[ng]));
    json_object_set_new(sum, "hidden", json_integer((json_int_t)(r->nf - groups[ng])));
    json_object_set_new(sum, "bySeverity", counts(total));
    json_object_set_new(sum, "rows", json_pack("{s:I,s:I,s:I}",
                        "passing", (json_int_t)st[MM_SPROW_PASSING],
                        "findings", (json_int_t)st[MM_SPROW_FINDINGS],
                        "notCovered", (json_int_t)st[MM_SPROW_NOT_COVERED]));
    json_object_set_new(doc, "summary", sum);
    free(idx);
    free(groups);
    return mm_report_dump(out, doc, "SP 800-190");
}
