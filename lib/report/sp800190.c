/*
 * report/sp800190.c - the SP 800-190 coverage matrix as data, and the
 * state of each row for a set of mamori reports.
 *
 * Each row of the comparison list (R01..R33, docs/report.md) is a line of
 * the table below: its section, what it asks (in mamori's words), which
 * findings count as its evidence (matched on kind, id prefix and section)
 * and which inputs could have produced them (the SP_CAP_* bits an input
 * shows: the scanners its report says ran, or the kind of findings it
 * holds).  A row has findings when a finding matches; it passes when an
 * input that checks it is present and nothing matched; otherwise it is not
 * covered, and its evidence says what would cover it.  A finding may count
 * for several rows (a CIS check of the host counts for the benchmark row
 * and for its host row).  The state counts every finding read; the
 * severity filter only hides findings from what is printed.
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/common.h"
#include "report/sp_int.h"
#include "report/report_int.h"

typedef struct sp_match {
    const char *kind;      /* finding kind, NULL = any */
    const char *prefix;    /* id prefix, NULL = any */
    const char *section;   /* exact section, NULL = any */
} sp_match;

enum { ROW_SHOW_OS = 1, ROW_MAPPING = 2 };

typedef struct sp_row {
    const char *id, *section, *check;
    unsigned caps;          /* inputs that check the row (any of) */
    const char *looked;     /* what those inputs did, for the evidence */
    const char *gap;        /* what a report of scans cannot show, or NULL */
    unsigned flags;
    sp_match m[5];          /* ends at the first all-NULL entry */
} sp_row;

#define SCANS (SP_CAP_SCAN)
static const sp_row rows[] = {
    {"R01", "3.1.1", "Images are scanned for known vulnerabilities",
     SP_CAP_VULN, "vulnerability matching of the inventory",
     "unscanned images in use are the server's; deploy-time denials (MM-ADM-*) count under R09", 0,
     {{"vulnerability", NULL, "3.1.1"}}},
    {"R02", "3.1.1", "The scan interval can be configured", 0, NULL,
     "scan schedules are kept by mamori server, not by scan reports", 0, {{0}}},
    {"R03", "3.1.1", "Results name the OS (distribution and version)",
     SP_CAP_OS, "OS identification", NULL, ROW_SHOW_OS, {{0}}},
    {"R04", "3.1.2", "Images with ssh/telnet servers are found; images are re-checked",
     SP_CAP_MISCONFIG, "image configuration checks (remote-access servers and ports)",
     "re-matching after database updates and the image allowlist are the server's", 0,
     {{NULL, "MM-IMG-006", NULL}, {NULL, "MM-IMG-008", NULL}}},
    {"R05", "3.1.2", "Compliance templates: Dockerfile practice, CIS Docker image checks",
     SP_CAP_MISCONFIG | SP_CAP_DOCKERFILE, "image and Dockerfile configuration checks", NULL, 0,
     {{NULL, "MM-IMG-", NULL}, {NULL, "MM-DF-", NULL}, {"misconfiguration", NULL, "3.1.2"}}},
    {"R06", "3.1.3", "Unknown executables and unexpected listening ports are found",
     SP_CAP_MALWARE | SP_CAP_NET, "malware, hash-list and unowned-executable checks", NULL, 0,
     {{"malware", NULL, NULL}, {NULL, NULL, "3.1.3"}, {NULL, "MM-NET-020", NULL}}},
    {"R07", "3.1.4", "Secrets held in images or manifests are found",
     SP_CAP_SECRET | SP_CAP_K8S, "the secret scanner or manifest secret checks",
     "deploy-time denials are the gate's", 0,
     {{"secret", NULL, NULL}, {NULL, NULL, "3.1.4"}}},
    {"R08", "3.1.5", "Registries and images in use are known",
     SP_CAP_PULL | SP_CAP_REGSCAN, "registry pulls or registry scans",
     "the fleet-wide in-use inventory is the server's", 0, {{0}}},
    {"R09", "3.1.5", "Unapproved, unpinned or malformed images are refused",
     SP_CAP_K8S | SP_CAP_ADMISSION,
     "image reference checks of manifests or the admission image gate",
     "decisions of mamori policy check are not scan reports", 0,
     {{NULL, "MM-K8S-109", NULL}, {NULL, "MM-K8S-110", NULL}, {"trust", NULL, "3.1.5"},
      {"intake", NULL, NULL}}},
    {"R10", "3.1.5", "Image signatures are verified before deploy", SP_CAP_SIGNATURE,
     "signature verification of the scanned image (mamori image --verify-key)",
     "deploy-time denials of unsigned images are the gate's (mamori policy, admission)", 0,
     {{"trust", "MM-SIG", NULL}, {"trust", "MM-TRUST", NULL}}},
    {"R11", "3.2.1", "Unencrypted pushes and pulls are refused",
     SP_CAP_PULL, "transport checks of registry pulls", NULL, 0,
     {{NULL, NULL, "3.2.1"}}},
    {"R12", "3.2.2", "Stale or mutable-tag images are found",
     SP_CAP_REGSCAN | SP_CAP_K8S, "registry staleness or manifest tag checks", NULL, 0,
     {{NULL, NULL, "3.2.2"}, {NULL, "MM-K8S-108", NULL}}},
    {"R13", "3.2.3", "Registry authentication and authorization are checked", 0, NULL,
     "no mamori scanner checks a registry's access settings yet", 0,
     {{NULL, NULL, "3.2.3"}}},
    {"R14", "3.3.1", "Administrative access in the orchestrator is bounded",
     SP_CAP_K8S, "a static review of RBAC grants (mamori k8s)",
     "alerts on forbidden actions (mamori k8s audit) are alerts, not scan reports", 0,
     {{NULL, NULL, "3.3.1"}}},
    {"R15", "3.3.2", "Anonymous or weak access to the orchestrator is found",
     SP_CAP_K8S, "RBAC subjects and service-account checks",
     "API-server and kubelet authentication settings are judged by mamori k8s cis "
     "(counted under R14 and R18)", 0,
     {{NULL, NULL, "3.3.2"}}},
    {"R16", "3.3.3", "Traffic between containers is visible and segmented",
     SP_CAP_K8S | SP_CAP_NET, "NetworkPolicy coverage or flow baseline checks",
     "flows and topology are the network sensor's live views", 0,
     {{NULL, NULL, "3.3.3"}, {NULL, "MM-NET-040", NULL}}},
    {"R17", "3.3.4", "Workloads of different sensitivity sharing hosts are found",
     SP_CAP_K8S, "namespace separation and mixed-sensitivity checks", NULL, 0,
     {{NULL, NULL, "3.3.4"}}},
    {"R18", "3.3.5", "Node trust: nodes can be isolated, control traffic is encrypted",
     SP_CAP_K8S, "node-trust, CIS Kubernetes and API version checks",
     "isolating a node is an action (mamori k8s isolate), not a finding", 0,
     {{NULL, NULL, "3.3.5"}}},
    {"R19", "3.4.1", "Vulnerable container runtime software is found", 0, NULL,
     "mamori host runtime reports in its own format; its findings count when given", 0,
     {{NULL, NULL, "3.4.1"}}},
    {"R20", "3.4.2", "Network exposure, port scans and bad destinations are found",
     SP_CAP_K8S | SP_CAP_NET, "host-port, service-exposure and network alert checks", NULL, 0,
     {{NULL, NULL, "3.4.2"}, {"network", NULL, NULL}}},
    {"R21", "3.4.3", "Runtime configuration is checked against CIS and PSS",
     SP_CAP_K8S | SP_CAP_COMPLIANCE | SP_CAP_ADMISSION,
     "Pod Security Standards, admission or host benchmark checks",
     "fixes applied with --fix are recorded by mamori host compliance", 0,
     {{NULL, NULL, "3.4.3"}, {"compliance", NULL, NULL}}},
    {"R22", "3.4.4", "Behaviour is profiled and drift is stopped",
     SP_CAP_RUNTIME, "runtime profiling", "profiles live in the agent", 0,
     {{"runtime", NULL, "3.4.4"}}},
    {"R23", "3.4.5", "Rogue containers are found and activity is audited",
     SP_CAP_RUNTIME, "runtime detection", "audit logs are kept by the agent and the server", 0,
     {{NULL, NULL, "3.4.5"}, {"runtime", NULL, NULL}}},
    {"R24", "3.5.1", "The host OS is identified and its attack surface checked",
     SP_CAP_COMPLIANCE, "the host benchmark", NULL, 0,
     {{NULL, NULL, "3.5.1"}}},
    {"R25", "3.5.2", "The host's processes are visible", 0, NULL,
     "the process list is a live view (mamori host ps, the console)", 0,
     {{NULL, NULL, "3.5.2"}}},
    {"R26", "3.5.4", "Logins, commands, container mounts and user rights are visible",
     SP_CAP_COMPLIANCE, "user-rights checks of the host benchmark",
     "logins, commands and mounts are live views (mamori host logins/commands/containers)", 0,
     {{NULL, NULL, "3.5.4"}}},
    {"R27", "ops", "A web application firewall protects container apps", 0, NULL,
     "mamori waf writes alerts; a report holding its MM-WAF findings counts", 0,
     {{NULL, "MM-WAF-", NULL}}},
    {"R28", "ops", "System calls can be captured and replayed", 0, NULL,
     "captures are files of mamori agent, not scan findings", 0, {{0}}},
    {"R29", "ops", "Agents keep working while the server is down", 0, NULL,
     "a property of the agent and the server", 0, {{0}}},
    {"R30", "ops", "Logs are retained and exported", 0, NULL,
     "retention is a server setting", 0, {{0}}},
    {"R31", "ops", "The platform's own health is visible", 0, NULL,
     "health and metrics are the server's", 0, {{0}}},
    {"R32", "ops", "Runtime policies are generated automatically", 0, NULL,
     "profiles turned into policy are the agent's", 0, {{0}}},
    {"R33", "ops", "Every finding names its SP 800-190 section", 0,
     "section mapping of every finding", NULL, ROW_MAPPING, {{0}}},
};
#define NROWS (sizeof rows / sizeof rows[0])

static const char *const cap_names[SP_CAP__COUNT] = {
    "scan", "os", "vuln", "secret", "misconfig", "malware", "k8s", "compliance",
    "registry-pull", "dockerfile", "network", "runtime", "registry-scan", "admission",
    "signature",
};

const char *mm_sp_cap_name(unsigned i) { return i < SP_CAP__COUNT ? cap_names[i] : "?"; }

static const struct { const char *s, *t; } titles[] = {
    {"3.1.1", "Image vulnerabilities"},
    {"3.1.2", "Image configuration defects"},
    {"3.1.3", "Embedded malware"},
    {"3.1.4", "Embedded clear-text secrets"},
    {"3.1.5", "Use of untrusted images"},
    {"3.2.1", "Insecure connections to registries"},
    {"3.2.2", "Stale images in registries"},
    {"3.2.3", "Insufficient registry authentication and authorization"},
    {"3.3.1", "Unbounded administrative access"},
    {"3.3.2", "Unauthorized access"},
    {"3.3.3", "Poorly separated inter-container network traffic"},
    {"3.3.4", "Mixing of workload sensitivity levels"},
    {"3.3.5", "Orchestrator node trust"},
    {"3.4.1", "Vulnerabilities within the runtime software"},
    {"3.4.2", "Unbounded network access from containers"},
    {"3.4.3", "Insecure container runtime configurations"},
    {"3.4.4", "App vulnerabilities"},
    {"3.4.5", "Rogue containers"},
    {"3.5.1", "Large attack surface of the host OS"},
    {"3.5.2", "Shared kernel"},
    {"3.5.3", "Host OS component vulnerabilities"},
    {"3.5.4", "Improper user access rights"},
    {"3.5.5", "Host OS file system tampering"},
};

const char *mm_sp_section_title(const char *s)
{
    for (size_t i = 0; s && i < sizeof titles / sizeof titles[0]; i++)
        if (!strcmp(titles[i].s, s))
            return titles[i].t;
    return NULL;
}

const char *mm_sprow_state_name(mm_sprow_state s)
{
    switch (s) {
    case MM_SPROW_PASSING: return "passing";
    case MM_SPROW_FINDINGS: return "findings";
    default: return "not covered";
    }
}

int mm_spformat_parse(mm_spformat *out, const char *name)
{
    if (name && !strcmp(name, "html"))
        *out = MM_SPFORMAT_HTML;
    else if (name && !strcmp(name, "json"))
        *out = MM_SPFORMAT_JSON;
    else
        return mm_error_set(MM_EINVAL, "unknown report format \"%s\" (html or json)",
                            name ? name : "");
    return 0;
}

size_t mm_sprow_count(void) { return NROWS; }

int mm_spreport_new(mm_spreport **out, const mm_spreport_limits *lim)
{
    mm_spreport *r = mm_xcalloc(1, sizeof *r);
    if (lim)
        r->lim = *lim;
    if (!r->lim.max_document)
        r->lim.max_document = 256ull << 20;
    if (!r->lim.max_inputs)
        r->lim.max_inputs = 10000;
    if (!r->lim.max_findings)
        r->lim.max_findings = 2000000;
    if (!r->lim.max_string)
        r->lim.max_string = 65536;
    *out = r;
    return 0;
}

void mm_sp_invalidate(mm_spreport *r)
{
    if (r->rows)
        for (size_t i = 0; i < NROWS; i++)
            free(r->rows[i].evidence);
    free(r->rows);
    r->rows = NULL;
    r->computed = false;
}

void mm_spreport_free(mm_spreport *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nin; i++) {
        sp_input *in = &r->in[i];
        free(in->name); free(in->target); free(in->kind); free(in->scanned_at); free(in->os);
    }
    for (size_t i = 0; i < r->nf; i++) {
        sp_finding *f = &r->f[i];
        free(f->id); free(f->kind); free(f->title); free(f->section); free(f->where);
        free(f->evidence); free(f->remediation);
    }
    free(r->in);
    free(r->f);
    mm_sp_invalidate(r);
    free(r);
}

size_t mm_spreport_input_count(const mm_spreport *r) { return r->nin; }

void mm_spreport_set_severities(mm_spreport *r, unsigned mask)
{
    r->sevmask = mask;
    mm_sp_invalidate(r);
}

bool mm_sp_shown(const mm_spreport *r, const sp_finding *f)
{
    return !r->sevmask || (r->sevmask & (1u << f->sev));
}

static bool section_valid(const char *s)
{
    /* "3.N.N": the risk sections of SP 800-190 */
    if (!s || s[0] != '3' || s[1] != '.' || s[2] < '1' || s[2] > '9' || s[3] != '.')
        return false;
    const char *p = s + 4;
    if (*p < '1' || *p > '9')
        return false;
    while (*p >= '0' && *p <= '9')
        p++;
    return *p == 0;
}

static bool match_one(const sp_match *m, const sp_finding *f)
{
    if (m->kind && (!f->kind || strcmp(m->kind, f->kind)))
        return false;
    if (m->prefix && (!f->id || !mm_str_startswith(f->id, m->prefix)))
        return false;
    if (m->section && (!f->section || strcmp(m->section, f->section)))
        return false;
    return true;
}

static bool row_matches(const sp_row *row, const sp_finding *f)
{
    for (size_t k = 0; k < sizeof row->m / sizeof row->m[0]; k++) {
        const sp_match *m = &row->m[k];
        if (!m->kind && !m->prefix && !m->section)
            break;
        if (match_one(m, f))
            return true;
    }
    return false;
}

/* Distinct strings: the first five kept for the evidence, the rest
 * counted (a hash set, so that 100,000 findings stay linear). */
typedef struct distinct {
    mm_map *seen;
    const char *first[5];
    size_t nfirst;
} distinct;

static void distinct_add(distinct *d, const char *s)
{
    if (!s)
        return;
    if (!d->seen)
        d->seen = mm_map_new();
    if (mm_map_get(d->seen, s))
        return;
    mm_map_put(d->seen, s, (void *)1);
    if (d->nfirst < 5)
        d->first[d->nfirst++] = s;
}

static size_t distinct_count(const distinct *d) { return d->seen ? mm_map_count(d->seen) : 0; }

static void distinct_free(distinct *d) { mm_map_free(d->seen, NULL); }

/* "a, b, c and 4 more" */
static void add_list(mm_buf *b, const distinct *d)
{
    for (size_t i = 0; i < d->nfirst; i++) {
        if (i)
            mm_buf_adds(b, ", ");
        mm_buf_adds(b, d->first[i]);
    }
    if (distinct_count(d) > d->nfirst)
        mm_buf_printf(b, " and %zu more", distinct_count(d) - d->nfirst);
}

static const char *input_label(const sp_input *in)
{
    return in->target ? in->target : in->name;
}

static void compute_row(mm_spreport *r, const sp_row *row, sp_rowres *res)
{
    mm_buf b = {0};
    distinct ids = {0}, where = {0};
    size_t sev[5] = {0};
    if (row->flags & ROW_MAPPING) {
        for (size_t i = 0; i < r->nf; i++)
            if (!section_valid(r->f[i].section)) {
                res->findings++;
                res->shown += mm_sp_shown(r, &r->f[i]);
                distinct_add(&ids, r->f[i].id);
            }
        if (res->findings) {
            res->state = MM_SPROW_FINDINGS;
            mm_buf_printf(&b, "%zu of %zu findings name no SP 800-190 risk section: ",
                          res->findings, r->nf);
            add_list(&b, &ids);
        } else if (r->nin) {
            res->state = MM_SPROW_PASSING;
            mm_buf_printf(&b, "Every finding (%zu, from %zu input%s) names its section.",
                          r->nf, r->nin, r->nin == 1 ? "" : "s");
        } else {
            mm_buf_adds(&b, "No input was given.");
        }
        goto done;
    }
    for (size_t i = 0; i < r->nf; i++) {
        const sp_finding *f = &r->f[i];
        if (!row_matches(row, f))
            continue;
        res->findings++;
        res->shown += mm_sp_shown(r, f);
        sev[f->sev]++;
        distinct_add(&ids, f->id);
        distinct_add(&where, input_label(&r->in[f->input]));
    }
    if (res->findings) {
        res->state = MM_SPROW_FINDINGS;
        mm_buf_printf(&b, "%zu finding%s (", res->findings, res->findings == 1 ? "" : "s");
        bool first = true;
        for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--)
            if (sev[s]) {
                mm_buf_printf(&b, "%s%zu %s", first ? "" : ", ", sev[s],
                              mm_severity_name((mm_severity)s));
                first = false;
            }
        mm_buf_adds(&b, ") in ");
        add_list(&b, &where);
        mm_buf_adds(&b, "; ids: ");
        add_list(&b, &ids);
        mm_buf_adds(&b, ".");
        if (res->shown < res->findings)
            mm_buf_printf(&b, " %zu hidden by the severity filter.",
                          res->findings - res->shown);
    } else {
        distinct who = {0};
        size_t nos = 0;
        for (size_t i = 0; i < r->nin; i++)
            if (r->in[i].caps & row->caps) {
                if (row->flags & ROW_SHOW_OS) {
                    if (nos < 5)
                        mm_buf_printf(&b, "%s%s (%s)", nos ? "; " : "OS identified: ",
                                      input_label(&r->in[i]), r->in[i].os);
                    nos++;
                } else {
                    distinct_add(&who, input_label(&r->in[i]));
                }
            }
        if (nos || distinct_count(&who)) {
            res->state = MM_SPROW_PASSING;
            if (row->flags & ROW_SHOW_OS) {
                if (nos > 5)
                    mm_buf_printf(&b, " and %zu more", nos - 5);
                mm_buf_adds(&b, ".");
            } else {
                mm_buf_printf(&b, "No finding: %s ran on ", row->looked);
                add_list(&b, &who);
                mm_buf_adds(&b, ".");
            }
        } else if (row->caps) {
            mm_buf_printf(&b, "None of the inputs ran %s.", row->looked);
        }
        distinct_free(&who);
    }
    if (row->gap)
        mm_buf_printf(&b, "%sNot shown by scan reports: %s.", b.len ? " " : "", row->gap);
done:
    distinct_free(&ids);
    distinct_free(&where);
    res->evidence = mm_buf_detach(&b);
}

void mm_sp_compute(mm_spreport *r)
{
    if (r->computed)
        return;
    r->rows = mm_xcalloc(NROWS, sizeof *r->rows);
    for (size_t i = 0; i < NROWS; i++)
        compute_row(r, &rows[i], &r->rows[i]);
    r->computed = true;
}

int mm_spreport_row(mm_spreport *r, size_t i, mm_sprow_info *out)
{
    if (i >= NROWS)
        return mm_error_set(MM_EINVAL, "row %zu: there are %zu rows", i, NROWS);
    mm_sp_compute(r);
    out->id = rows[i].id;
    out->section = rows[i].section;
    out->check = rows[i].check;
    out->state = r->rows[i].state;
    out->findings = r->rows[i].findings;
    out->shown = r->rows[i].shown;
    out->evidence = r->rows[i].evidence;
    return 0;
}

/* --- grouping findings by section ---------------------------------------- */

static int section_cmp(const char *a, const char *b)
{
    bool va = section_valid(a), vb = section_valid(b);
    if (va != vb)
        return va ? -1 : 1;
    if (!va)
        return strcmp(a ? a : "", b ? b : "");
    return strverscmp(a, b);
}

static int finding_cmp(const void *pa, const void *pb, void *ud)
{
    const mm_spreport *r = ud;
    const sp_finding *a = &r->f[*(const size_t *)pa], *b = &r->f[*(const size_t *)pb];
    int c = section_cmp(a->section, b->section);
    if (c)
        return c;
    if (a->sev != b->sev)
        return a->sev > b->sev ? -1 : 1;
    c = strcmp(a->id ? a->id : "", b->id ? b->id : "");
    if (c)
        return c;
    return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1;
}

void mm_sp_group(const mm_spreport *r, size_t **idx, size_t **groups, size_t *ngroups)
{
    size_t n = 0;
    size_t *v = mm_xmalloc((r->nf + 1) * sizeof *v);
    for (size_t i = 0; i < r->nf; i++)
        if (mm_sp_shown(r, &r->f[i]))
            v[n++] = i;
    qsort_r(v, n, sizeof *v, finding_cmp, (void *)r);
    size_t *g = mm_xmalloc((n + 1) * sizeof *g), ng = 0;
    for (size_t i = 0; i < n; i++)
        if (!i || section_cmp(r->f[v[i]].section, r->f[v[i - 1]].section))
            g[ng++] = i;
    g[ng] = n;
    *idx = v;
    *groups = g;
    *ngroups = ng;
}

int mm_spreport_write(FILE *out, mm_spreport *r, mm_spformat fmt, const mm_spreport_opts *o)
{
    mm_spreport_opts def = {0};
    if (!o)
        o = &def;
    mm_sp_compute(r);
    return fmt == MM_SPFORMAT_JSON ? mm_sp_write_json(out, r, o) : mm_sp_write_html(out, r, o);
}
