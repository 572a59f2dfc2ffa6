/*
 * report/sarif.c - SARIF 2.1.0 for code-scanning UIs (GitHub, GitLab,
 * Azure DevOps): one rule per finding id in runs[0].tool.driver.rules with
 * its description, help URI and "security-severity" (the numeric property
 * those UIs sort and gate by), and one result per finding with its level
 * and a physical location (the package's or file's path inside the image,
 * relative to the image root, or the image itself).
 *
 * The mapping of severities follows what trivy emits, so that dashboards
 * fed by both agree: CRITICAL/HIGH -> error, MEDIUM -> warning, LOW and
 * UNKNOWN -> note; security-severity 9.5, 8.0, 5.5, 2.0, 0.0.
 */
#include <string.h>

#include "report/report_int.h"
#include "util/util.h"

int mm_report_write_sarif(FILE *out, mm_result *r, const mm_report_opts *o);

#define SARIF_SCHEMA "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/" \
                     "master/Schemata/sarif-schema-2.1.0.json"
#define INFO_URI "https://github.com/mamori-security/mamori"

static const char *level_of(mm_severity s)
{
    switch (s) {
    case MM_SEV_CRITICAL:
    case MM_SEV_HIGH: return "error";
    case MM_SEV_MEDIUM: return "warning";
    default: return "note";
    }
}

static const char *score_of(mm_severity s)
{
    switch (s) {
    case MM_SEV_CRITICAL: return "9.5";
    case MM_SEV_HIGH: return "8.0";
    case MM_SEV_MEDIUM: return "5.5";
    case MM_SEV_LOW: return "2.0";
    default: return "0.0";
    }
}

/* A relative URI reference for an image path: no leading '/', bytes outside
 * the RFC 3986 unreserved set and '/' percent-encoded. */
static char *path_uri(const char *p)
{
    mm_buf b = MM_BUF_INIT;
    while (*p == '/')
        p++;
    for (const unsigned char *c = (const unsigned char *)p; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
            (*c >= '0' && *c <= '9') || strchr("-._~/", *c))
            mm_buf_addc(&b, (char)*c);
        else
            mm_buf_printf(&b, "%%%02X", *c);
    }
    if (!b.len)
        mm_buf_adds(&b, ".");
    return mm_buf_detach(&b);
}

static const char *help_uri(const mm_finding *f)
{
    for (size_t i = 0; i < f->nreferences; i++)
        if (f->references[i] && (mm_str_startswith(f->references[i], "https://") ||
                                 mm_str_startswith(f->references[i], "http://")))
            return f->references[i];
    return NULL;
}

static json_t *text(const char *s)
{
    json_t *o = json_object();
    json_object_set_new(o, "text", mm_json_str(s ? s : ""));
    return o;
}

static json_t *make_rule(const mm_finding *f, mm_severity sev)
{
    json_t *rule = json_object();
    json_object_set_new(rule, "id", mm_json_str(f->id));
    json_object_set_new(rule, "name", json_string(mm_finding_kind_name(f->kind)));
    json_object_set_new(rule, "shortDescription", text(f->title ? f->title : f->id));
    json_object_set_new(rule, "fullDescription", text(f->title ? f->title : f->id));
    json_t *dc = json_object();
    json_object_set_new(dc, "level", json_string(level_of(sev)));
    json_object_set_new(rule, "defaultConfiguration", dc);
    const char *hu = help_uri(f);
    if (hu)
        json_object_set_new(rule, "helpUri", mm_json_str(hu));
    mm_buf h = MM_BUF_INIT;
    mm_buf_printf(&h, "%s (%s, NIST SP 800-190 %s)\nSeverity: %s",
                  f->id, mm_finding_kind_name(f->kind),
                  f->section ? f->section : "-", mm_severity_name(sev));
    if (f->title)
        mm_buf_printf(&h, "\n%s", f->title);
    if (f->remediation)
        mm_buf_printf(&h, "\nRemediation: %s", f->remediation);
    if (hu)
        mm_buf_printf(&h, "\n%s", hu);
    json_object_set_new(rule, "help", text(h.data));
    mm_buf_free(&h);
    json_t *props = json_object();
    json_object_set_new(props, "precision", json_string("very-high"));
    json_object_set_new(props, "security-severity", json_string(score_of(sev)));
    json_t *tags = json_array();
    json_array_append_new(tags, json_string(mm_finding_kind_name(f->kind)));
    json_array_append_new(tags, json_string("security"));
    json_array_append_new(tags, json_string(mm_severity_name(sev)));
    json_object_set_new(props, "tags", tags);
    json_object_set_new(rule, "properties", props);
    return rule;
}

static json_t *make_result(mm_result *r, const mm_finding *f, size_t rule_index,
                           mm_severity sev)
{
    json_t *res = json_object();
    json_object_set_new(res, "ruleId", mm_json_str(f->id));
    json_object_set_new(res, "ruleIndex", json_integer((json_int_t)rule_index));
    json_object_set_new(res, "level", json_string(level_of(sev)));
    mm_buf m = MM_BUF_INIT;
    mm_buf_printf(&m, "%s: %s", f->id, f->title ? f->title : f->id);
    if (f->loc.package)
        mm_buf_printf(&m, "\nPackage: %s", f->loc.package);
    if (f->evidence)
        mm_buf_printf(&m, "\nEvidence: %s", f->evidence);
    if (f->remediation)
        mm_buf_printf(&m, "\nRemediation: %s", f->remediation);
    mm_buf_printf(&m, "\nSeverity: %s", mm_severity_name(sev));
    if (f->loc.layer >= 0)
        mm_buf_printf(&m, "\nLayer: %d%s%s", f->loc.layer,
                      f->loc.instruction ? " " : "",
                      f->loc.instruction ? f->loc.instruction : "");
    json_object_set_new(res, "message", text(m.data));
    mm_buf_free(&m);

    const char *where = f->loc.path ? f->loc.path
                      : f->loc.image ? f->loc.image : mm_result_target(r);
    char *uri = path_uri(where ? where : "");
    json_t *al = json_object();
    json_object_set_new(al, "uri", mm_json_str(uri));
    json_object_set_new(al, "uriBaseId", json_string("ROOTPATH"));
    free(uri);
    json_t *region = json_object();
    json_object_set_new(region, "startLine", json_integer(f->loc.line > 0 ? f->loc.line : 1));
    json_object_set_new(region, "startColumn", json_integer(1));
    json_t *pl = json_object();
    json_object_set_new(pl, "artifactLocation", al);
    json_object_set_new(pl, "region", region);
    json_t *loc = json_object();
    json_object_set_new(loc, "physicalLocation", pl);
    if (f->loc.package)
        json_object_set_new(loc, "message", text(f->loc.package));
    if (f->loc.resource || f->loc.field) {
        /* an orchestrator object and the field in it */
        json_t *ll = json_object();
        mm_buf q = MM_BUF_INIT;
        mm_buf_printf(&q, "%s%s%s", f->loc.resource ? f->loc.resource : "",
                      f->loc.resource && f->loc.field ? ":" : "",
                      f->loc.field ? f->loc.field : "");
        json_object_set_new(ll, "fullyQualifiedName", mm_json_str(q.data));
        json_object_set_new(ll, "kind", json_string("object"));
        mm_buf_free(&q);
        json_t *lls = json_array();
        json_array_append_new(lls, ll);
        json_object_set_new(loc, "logicalLocations", lls);
    }
    json_t *locs = json_array();
    json_array_append_new(locs, loc);
    json_object_set_new(res, "locations", locs);
    return res;
}

int mm_report_write_sarif(FILE *out, mm_result *r, const mm_report_opts *o)
{
    mm_findings *fl = mm_result_findings(r);
    size_t n = mm_findings_count(fl);
    json_t *rules = json_array(), *results = json_array();
    mm_map *index = mm_map_new();   /* id -> rule index + 1 */
    mm_severity *rsev = mm_xcalloc(n ? n : 1, sizeof *rsev);
    size_t nrules = 0;
    for (size_t i = 0; i < n; i++) {
        const mm_finding *f = mm_findings_get(fl, i);
        mm_severity sev = (unsigned)f->severity <= MM_SEV_CRITICAL ? f->severity
                                                                   : MM_SEV_UNKNOWN;
        size_t ri = (size_t)(uintptr_t)mm_map_get(index, f->id);
        if (!ri) {
            json_array_append_new(rules, make_rule(f, sev));
            rsev[nrules] = sev;
            ri = ++nrules;
            mm_map_put(index, f->id, (void *)(uintptr_t)ri);
        } else if (sev > rsev[ri - 1]) {
            /* one rule per id: it carries the worst severity seen */
            rsev[ri - 1] = sev;
            json_array_set_new(rules, ri - 1, make_rule(f, sev));
        }
        json_array_append_new(results, make_result(r, f, ri - 1, sev));
    }
    mm_map_free(index, NULL);
    free(rsev);

    json_t *driver = json_object();
    json_object_set_new(driver, "name", json_string("mamori"));
    json_object_set_new(driver, "fullName", json_string("mamori container security scanner"));
    json_object_set_new(driver, "version", mm_json_str(mm_report_tool_version(o)));
    json_object_set_new(driver, "informationUri", json_string(INFO_URI));
    json_object_set_new(driver, "rules", rules);
    json_t *tool = json_object();
    json_object_set_new(tool, "driver", driver);

    json_t *run = json_object();
    json_object_set_new(run, "tool", tool);
    json_object_set_new(run, "results", results);
    json_object_set_new(run, "columnKind", json_string("utf16CodeUnits"));
    json_t *base = json_object(), *root = json_object();
    json_object_set_new(root, "uri", json_string("file:///"));
    json_object_set_new(base, "ROOTPATH", root);
    json_object_set_new(run, "originalUriBaseIds", base);
    json_t *props = json_object();
    json_object_set_new(props, "target", mm_json_str(mm_result_target(r)));
    const mm_image_info *im = mm_result_image(r);
    if (im) {
        mm_json_set_str(props, "imageID", im->config_digest);
        if (im->nrepo_tags) {
            json_t *tags = json_array();
            for (size_t i = 0; i < im->nrepo_tags; i++)
                json_array_append_new(tags, mm_json_str(im->repo_tags[i]));
            json_object_set_new(props, "repoTags", tags);
        }
    }
    const mm_os_info *os = mm_result_os(r);
    if (os && os->family) {
        mm_json_set_str(props, "osFamily", os->family);
        mm_json_set_str(props, "osVersion", os->version);
    }
    json_object_set_new(run, "properties", props);
    json_t *runs = json_array();
    json_array_append_new(runs, run);

    json_t *doc = json_object();
    json_object_set_new(doc, "version", json_string("2.1.0"));
    json_object_set_new(doc, "$schema", json_string(SARIF_SCHEMA));
    json_object_set_new(doc, "runs", runs);
    return mm_report_dump(out, doc, "sarif");
}
