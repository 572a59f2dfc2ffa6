/*
 * report/sp_html.c - the SP 800-190 report as one self-contained HTML
 * file: inline CSS (screen and print), no script, no external resource, a
 * Content-Security-Policy that forbids both, the coverage matrix first,
 * then the inputs, then every finding under its section.
 *
 * Every string that comes from a report (image names, paths, evidence,
 * ids, titles, even sections) is attacker-controlled: it is written only
 * as element text, through html_text(), which escapes the five markup
 * characters and replaces control characters.  No such string is ever put
 * in an attribute, a URL or a style; the only links are to anchors made
 * from the row table (constants) and from sections that passed the
 * "3.N.N" check.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/common.h"
#include "report/sp_int.h"
#include "report/report_int.h"

static void html_text(FILE *o, const char *s)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", o); break;
        case '<': fputs("&lt;", o); break;
        case '>': fputs("&gt;", o); break;
        case '"': fputs("&quot;", o); break;
        case '\'': fputs("&#39;", o); break;
        case '\n': case '\t': fputc(*p, o); break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fputs("&#xFFFD;", o);
            else
                fputc(*p, o);
        }
    }
}

static void td(FILE *o, const char *cls, const char *s)
{
    fputs(cls ? "<td class=\"" : "<td>", o);
    if (cls) {
        fputs(cls, o); /* constants only */
        fputs("\">", o);
    }
    if (s)
        html_text(o, s);
    else
        fputs("&#8212;", o);
    fputs("</td>", o);
}

static const char css[] =
    ":root{--fg:#1b1f24;--bg:#fff;--mut:#57606a;--line:#d0d7de;--head:#f6f8fa;"
    "--pass:#1a7f37;--find:#cf222e;--nc:#6e7781;--crit:#8b0000;--high:#cf222e;"
    "--med:#bc4c00;--low:#9a6700;--unk:#6e7781}\n"
    "@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--mut:#9198a1;"
    "--line:#30363d;--head:#161b22;--pass:#3fb950;--find:#f85149;--nc:#9198a1;"
    "--crit:#ff7b72;--high:#f85149;--med:#f0883e;--low:#d29922;--unk:#9198a1}}\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:var(--fg);"
    "background:var(--bg);margin:2em auto;max-width:1280px;padding:0 1em}\n"
    "h1{font-size:1.6em;margin:0 0 .2em}h2{font-size:1.25em;margin:1.6em 0 .5em;"
    "border-bottom:1px solid var(--line);padding-bottom:.2em}h3{font-size:1.05em;margin:1.3em 0 .3em}\n"
    ".meta{color:var(--mut)}table{border-collapse:collapse;width:100%;margin:.4em 0}\n"
    "th,td{border:1px solid var(--line);padding:.3em .5em;text-align:left;vertical-align:top;"
    "overflow-wrap:anywhere}th{background:var(--head)}\n"
    "td.ev{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:.9em}\n"
    ".st{font-weight:600;white-space:nowrap}.passing{color:var(--pass)}.findings{color:var(--find)}"
    ".not-covered{color:var(--nc)}\n"
    ".CRITICAL{color:var(--crit);font-weight:700}.HIGH{color:var(--high);font-weight:600}"
    ".MEDIUM{color:var(--med)}.LOW{color:var(--low)}.UNKNOWN{color:var(--unk)}\n"
    ".counts span{display:inline-block;margin-right:1.2em}a{color:inherit}\n"
    "@media print{body{margin:0;max-width:none;font-size:10pt;color:#000;background:#fff}"
    "h2{break-before:page}#matrix h2{break-before:auto}tr,h3{break-inside:avoid}"
    "h3{break-after:avoid}thead{display:table-header-group}a{text-decoration:none}"
    "th{background:#eee}}\n";

static const char *state_class(mm_sprow_state s)
{
    return s == MM_SPROW_PASSING ? "st passing" : s == MM_SPROW_FINDINGS ? "st findings"
                                                                         : "st not-covered";
}

static bool anchor_ok(const char *s)
{
    /* only "3.N.N" (digits and dots) becomes an anchor */
    if (!s || strncmp(s, "3.", 2))
        return false;
    for (const char *p = s; *p; p++)
        if (!(*p == '.' || (*p >= '0' && *p <= '9')))
            return false;
    return strlen(s) < 16;
}

/* Is there a shown group of findings of section sec (the anchor exists)? */
static bool has_group(const mm_spreport *r, const size_t *idx, const size_t *groups,
                      size_t ng, const char *sec)
{
    for (size_t g = 0; g < ng; g++) {
        const char *s = r->f[idx[groups[g]]].section;
        if (s && !strcmp(s, sec))
            return true;
    }
    return false;
}

static void counts_line(FILE *o, const size_t c[5])
{
    fputs("<p class=\"counts\">", o);
    for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--)
        fprintf(o, "<span class=\"%s\">%s %zu</span>", mm_severity_name((mm_severity)s),
                mm_severity_name((mm_severity)s), c[s]);
    fputs("</p>\n", o);
}

static void caps_text(mm_buf *b, unsigned caps)
{
    for (unsigned i = 0; i < SP_CAP__COUNT; i++)
        if (caps & (1u << i))
            mm_buf_printf(b, "%s%s", b->len ? ", " : "", mm_sp_cap_name(i));
}

int mm_sp_write_html(FILE *o, mm_spreport *r, const mm_spreport_opts *opt)
{
    const char *title = opt->title ? opt->title : "SP 800-190 report";
    char when[32];
    mm_time_rfc3339(opt->now ? opt->now : (int64_t)time(NULL), when);
    size_t *idx, *groups, ng, shown_total = 0, sev[5] = {0}, st[3] = {0};
    mm_sp_group(r, &idx, &groups, &ng);
    shown_total = groups[ng];
    for (size_t i = 0; i < shown_total; i++)
        sev[r->f[idx[i]].sev]++;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>", o);
    html_text(o, title);
    fprintf(o, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
    html_text(o, title);
    fprintf(o, "</h1>\n<p class=\"meta\">NIST SP 800-190 coverage and findings &#183; "
               "generated %s by mamori %s &#183; %zu input%s &#183; %zu finding%s shown",
            when, MM_VERSION, r->nin, r->nin == 1 ? "" : "s", shown_total,
            shown_total == 1 ? "" : "s");
    if (shown_total < r->nf)
        fprintf(o, " (%zu hidden by the severity filter)", r->nf - shown_total);
    fputs("</p>\n", o);
    counts_line(o, sev);
    fputs("</header>\n", o);

    /* the matrix */
    size_t nrows = mm_sprow_count();
    for (size_t i = 0; i < nrows; i++) {
        mm_sprow_info ri;
        mm_spreport_row(r, i, &ri);
        st[ri.state]++;
    }
    fprintf(o, "<section id=\"matrix\">\n<h2>Coverage matrix</h2>\n<p class=\"meta\">"
               "%zu passing &#183; %zu with findings &#183; %zu not covered</p>\n"
               "<table>\n<thead><tr><th>Row</th><th>Section</th><th>Check</th><th>State</th>"
               "<th>Findings</th><th>Evidence</th></tr></thead>\n<tbody>\n",
            st[MM_SPROW_PASSING], st[MM_SPROW_FINDINGS], st[MM_SPROW_NOT_COVERED]);
    for (size_t i = 0; i < nrows; i++) {
        mm_sprow_info ri;
        mm_spreport_row(r, i, &ri);
        fprintf(o, "<tr id=\"%s\"><td>%s</td><td>", ri.id, ri.id);
        if (anchor_ok(ri.section) && ri.shown && has_group(r, idx, groups, ng, ri.section))
            fprintf(o, "<a href=\"#s-%s\">%s</a>", ri.section, ri.section);
        else
            html_text(o, ri.section);
        fputs("</td>", o);
        td(o, NULL, ri.check);
        td(o, state_class(ri.state), mm_sprow_state_name(ri.state));
        if (ri.shown < ri.findings)
            fprintf(o, "<td>%zu (%zu shown)</td>", ri.findings, ri.shown);
        else
            fprintf(o, "<td>%zu</td>", ri.findings);
        td(o, NULL, ri.evidence);
        fputs("</tr>\n", o);
    }
    fputs("</tbody>\n</table>\n</section>\n", o);

    /* the inputs */
    fputs("<section id=\"inputs\">\n<h2>Inputs</h2>\n<table>\n<thead><tr><th>Report</th>"
          "<th>Target</th><th>Kind</th><th>Scanned</th><th>OS</th><th>Looked at</th>"
          "<th>Findings</th></tr></thead>\n<tbody>\n", o);
    for (size_t i = 0; i < r->nin; i++) {
        const sp_input *in = &r->in[i];
        mm_buf b = {0};
        caps_text(&b, in->caps);
        fputs("<tr>", o);
        td(o, NULL, in->name);
        td(o, NULL, in->target);
        td(o, NULL, in->kind);
        td(o, NULL, in->scanned_at);
        td(o, NULL, in->os);
        td(o, NULL, b.len ? b.data : NULL);
        fprintf(o, "<td>%zu</td></tr>\n", in->nfindings);
        mm_buf_free(&b);
    }
    fputs("</tbody>\n</table>\n</section>\n", o);

    /* the findings by section */
    fputs("<section id=\"findings\">\n<h2>Findings by section</h2>\n", o);
    if (!ng)
        fputs("<p>No finding.</p>\n", o);
    for (size_t g = 0; g < ng; g++) {
        const sp_finding *first = &r->f[idx[groups[g]]];
        const char *sec = first->section;
        size_t c[5] = {0};
        for (size_t k = groups[g]; k < groups[g + 1]; k++)
            c[r->f[idx[k]].sev]++;
        if (anchor_ok(sec))
            fprintf(o, "<h3 id=\"s-%s\">", sec);
        else
            fputs("<h3>", o);
        if (sec)
            html_text(o, sec);
        else
            fputs("(no section)", o);
        const char *t = mm_sp_section_title(sec);
        if (t) {
            fputs(" ", o);
            html_text(o, t);
        }
        fprintf(o, " &#8212; %zu finding%s</h3>\n", groups[g + 1] - groups[g],
                groups[g + 1] - groups[g] == 1 ? "" : "s");
        counts_line(o, c);
        fputs("<table>\n<thead><tr><th>Severity</th><th>Id</th><th>Kind</th><th>Title</th>"
              "<th>Input</th><th>Where</th><th>Evidence</th><th>Remediation</th></tr></thead>"
              "\n<tbody>\n", o);
        for (size_t k = groups[g]; k < groups[g + 1]; k++) {
            const sp_finding *f = &r->f[idx[k]];
            const sp_input *in = &r->in[f->input];
            fputs("<tr>", o);
            td(o, mm_severity_name(f->sev), mm_severity_name(f->sev));
            td(o, NULL, f->id);
            td(o, NULL, f->kind);
            td(o, NULL, f->title);
            td(o, NULL, in->target ? in->target : in->name);
            td(o, NULL, f->where);
            td(o, "ev", f->evidence);
            td(o, NULL, f->remediation);
            fputs("</tr>\n", o);
        }
        fputs("</tbody>\n</table>\n", o);
    }
    fputs("</section>\n</body>\n</html>\n", o);
    free(idx);
    free(groups);
    if (fflush(o) || ferror(o))
        return mm_error_set(MM_EIO, "writing the report failed");
    return 0;
}
