/*
 * report/table.c - the report for people: a header (target, OS, image,
 * layers), every package in an aligned table grouped by type, the findings
 * ordered by severity with a per-severity summary, and the warnings.
 *
 * Every string printed comes from an untrusted image, so control characters
 * (which could move the cursor or recolour the terminal) are replaced by
 * '?'.  Column widths count UTF-8 code points, which is exact for the
 * ASCII that package names are in practice.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "util/util.h"

#define TITLE_MAX 72   /* a finding's title is cut beyond this */
#define CELL_MAX 200   /* no cell is wider than this */

/* A printable copy of s (mm_str_printable: control characters become
 * '?'), at most max code points (the last replaced by "..." when cut). */
static char *cell(const char *s, size_t max)
{
    mm_buf b = MM_BUF_INIT;
    size_t cps = 0;
    char *clean = mm_str_printable(s ? s : "-");
    for (const unsigned char *p = (const unsigned char *)clean; *p; p++) {
        bool cont = (*p & 0xc0) == 0x80;
        if (!cont) {
            if (cps == max) {
                /* cut: replace the tail with "..." */
                size_t keep = b.len;
                size_t back = 0;
                while (keep && back < 3) {
                    keep--;
                    if (((unsigned char)b.data[keep] & 0xc0) != 0x80)
                        back++;
                }
                b.len = keep;
                b.data[keep] = 0;
                mm_buf_adds(&b, "...");
                break;
            }
            cps++;
        }
        mm_buf_addc(&b, (char)*p);
    }
    free(clean);
    return mm_buf_detach(&b);
}

/* Display width of a printable string (code points). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static void pad(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

static const char *sev_color(mm_severity s)
{
    switch (s) {
    case MM_SEV_CRITICAL: return "\033[1;31m";
    case MM_SEV_HIGH: return "\033[31m";
    case MM_SEV_MEDIUM: return "\033[33m";
    case MM_SEV_LOW: return "\033[36m";
    default: return "\033[2m";
    }
}

/* Prints one row of ncol printable cells padded to w[]; the last column
 * is not padded.  colour, when set, wraps the first cell. */
static void row(FILE *out, char **c, const size_t *w, int ncol,
                const char *colour)
{
    for (int i = 0; i < ncol; i++) {
        if (i)
            fputs("  ", out);
        if (i == 0 && colour)
            fprintf(out, "%s%s\033[0m", colour, c[i]);
        else
            fputs(c[i], out);
        if (i + 1 < ncol)
            pad(out, w[i] - width(c[i]));
    }
    fputc('\n', out);
}

static void rule(FILE *out, const size_t *w, int ncol)
{
    for (int i = 0; i < ncol; i++) {
        if (i)
            fputs("  ", out);
        for (size_t k = 0; k < w[i]; k++)
            fputc('-', out);
    }
    fputc('\n', out);
}

/* Widens the column widths w to one row's cells. */
static void widen(size_t *w, char **c, int ncol)
{
    for (int k = 0; k < ncol; k++)
        if (width(c[k]) > w[k])
            w[k] = width(c[k]);
}

/* Prints a table: the heading, its rule, then nrows rows of ncol cells
 * (row i in colors[i] when colors is not NULL), and frees the cells. */
static void table_out(FILE *out, char **head, char **cells, size_t nrows, const size_t *w,
                      int ncol, const char *const *colors)
{
    row(out, head, w, ncol, NULL);
    rule(out, w, ncol);
    for (size_t i = 0; i < nrows; i++)
        row(out, &cells[i * (size_t)ncol], w, ncol, colors ? colors[i] : NULL);
    for (size_t i = 0; i < nrows * (size_t)ncol; i++)
        free(cells[i]);
    free(cells);
}

static void header(FILE *out, mm_result *r, const mm_report_opts *o)
{
    char ts[32];
    char *t = cell(mm_result_target(r), 4096);
    fprintf(out, "Target:   %s (%s)\n", t,
            mm_result_kind(r) == MM_TARGET_IMAGE ? "image" : "rootfs");
    free(t);
    const mm_os_info *os = mm_result_os(r);
    if (os && (os->name || os->family)) {
        char *name = cell(os->name ? os->name : os->family, CELL_MAX);
        char *fam = cell(os->family, CELL_MAX);
        char *ver = cell(os->version, CELL_MAX);
        fprintf(out, "OS:       %s [%s %s]\n", name, fam, ver);
        free(name);
        free(fam);
        free(ver);
    } else {
        fputs("OS:       unknown\n", out);
    }
    const mm_image_info *im = mm_result_image(r);
    if (mm_result_kind(r) == MM_TARGET_IMAGE && im) {
        char *id = cell(im->config_digest, CELL_MAX);
        char *os_ = cell(im->os, 64), *arch = cell(im->architecture, 64);
        fprintf(out, "Image:    %s (%s/%s", id, os_, arch);
        if (im->variant) {
            char *v = cell(im->variant, 64);
            fprintf(out, "/%s", v);
            free(v);
        }
        fputs(")\n", out);
        for (size_t i = 0; i < im->nrepo_tags; i++) {
            char *tag = cell(im->repo_tags[i], CELL_MAX);
            fprintf(out, "Tag:      %s\n", tag);
            free(tag);
        }
        free(id);
        free(os_);
        free(arch);
    }
    fprintf(out, "Layers:   %zu\n", mm_result_layer_count(r));
    mm_report_time(r, o, ts);
    fprintf(out, "Scanned:  %s (%.2f s)\n", ts, mm_result_seconds(r));
}

static void packages(FILE *out, mm_result *r)
{
    mm_inventory *inv = mm_result_inventory(r);
    size_t n = mm_inventory_count(inv);
    size_t count[MM_PKG__COUNT + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        if (p)
            count[(unsigned)p->type < MM_PKG__COUNT ? p->type : 0]++;
    }
    fprintf(out, "\nPackages: %zu", n);
    if (n) {
        fputs(" (", out);
        bool first = true;
        for (int t = 0; t < MM_PKG__COUNT; t++) {
            if (!count[t])
                continue;
            fprintf(out, "%s%s %zu", first ? "" : ", ",
                    mm_pkg_type_name((mm_pkg_type)t), count[t]);
            first = false;
        }
        fputc(')', out);
    }
    fputc('\n', out);
    if (!n)
        return;

    /* Cells first, so that widths are known before printing. */
    enum { NC = 4 };
    char **cells = mm_xcalloc(n * NC, sizeof(char *));
    size_t w[NC] = {4, 4, 7, 5}; /* the headings' widths */
    size_t nrows = 0;
    for (int t = 0; t < MM_PKG__COUNT; t++) {
        if (!count[t])
            continue;
        for (size_t i = 0; i < n; i++) {
            const mm_package *p = mm_inventory_get(inv, i);
            if (!p || (int)((unsigned)p->type < MM_PKG__COUNT ? p->type : 0) != t)
                continue;
            char **c = &cells[nrows++ * NC];
            char layer[16] = "-";
            if (p->layer >= 0)
                snprintf(layer, sizeof layer, "%d", p->layer);
            c[0] = cell(mm_pkg_type_name(p->type), CELL_MAX);
            c[1] = cell(p->name, CELL_MAX);
            c[2] = cell(p->version, CELL_MAX);
            c[3] = cell(layer, CELL_MAX);
            widen(w, c, NC);
        }
    }
    char *head[NC] = {"TYPE", "NAME", "VERSION", "LAYER"};
    table_out(out, head, cells, nrows, w, NC, NULL);
}

static char *location_text(const mm_location *l)
{
    mm_buf b = MM_BUF_INIT;
    if (l->path) {
        mm_buf_adds(&b, l->path);
        if (l->line > 0)
            mm_buf_printf(&b, ":%d", l->line);
    }
    if (l->resource)
        mm_buf_printf(&b, "%s%s", b.len ? " " : "", l->resource);
    if (l->field)
        mm_buf_printf(&b, "%s%s", l->resource ? " " : b.len ? " " : "", l->field);
    if (l->package)
        mm_buf_printf(&b, "%s%s", b.len ? " " : "", l->package);
    if (l->layer >= 0)
        mm_buf_printf(&b, "%slayer %d", b.len ? " " : "", l->layer);
    if (!b.len && l->container)
        mm_buf_printf(&b, "container %s", l->container);
    if (!b.len && l->image)
        mm_buf_adds(&b, l->image);
    char *s = cell(b.len ? b.data : "-", CELL_MAX);
    mm_buf_free(&b);
    return s;
}

static void findings(FILE *out, mm_result *r, bool color)
{
    mm_findings *fl = mm_result_findings(r);
    size_t n = mm_findings_count(fl);
    size_t by[MM_SEV_CRITICAL + 1] = {0};
    for (size_t i = 0; i < n; i++) {
        const mm_finding *f = mm_findings_get(fl, i);
        by[(unsigned)f->severity <= MM_SEV_CRITICAL ? f->severity : 0]++;
    }
    fprintf(out, "\nFindings: %zu (", n);
    for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--)
        fprintf(out, "%s%s %zu", s == MM_SEV_CRITICAL ? "" : ", ",
                mm_severity_name((mm_severity)s), by[s]);
    fputs(")\n", out);
    if (!n)
        return;

    enum { NC = 4 };
    char **cells = mm_xcalloc(n * NC, sizeof(char *));
    const char **colors = color ? mm_xcalloc(n, sizeof *colors) : NULL;
    size_t w[NC] = {8, 2, 5, 8};
    size_t nrows = 0;
    for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--) {
        for (size_t i = 0; i < n; i++) {
            const mm_finding *f = mm_findings_get(fl, i);
            mm_severity fs = (unsigned)f->severity <= MM_SEV_CRITICAL
                                 ? f->severity : MM_SEV_UNKNOWN;
            if ((int)fs != s)
                continue;
            if (colors)
                colors[nrows] = sev_color(fs);
            char **c = &cells[nrows++ * NC];
            c[0] = cell(mm_severity_name(fs), CELL_MAX);
            c[1] = cell(f->id, CELL_MAX);
            c[2] = cell(f->title, TITLE_MAX);
            c[3] = location_text(&f->loc);
            widen(w, c, NC);
        }
    }
    char *head[NC] = {"SEVERITY", "ID", "TITLE", "LOCATION"};
    table_out(out, head, cells, nrows, w, NC, colors);
    free(colors);
}

int mm_report_write_table(FILE *out, mm_result *r, const mm_report_opts *o)
{
    header(out, r, o);
    packages(out, r);
    findings(out, r, o && o->color);
    size_t nw = mm_result_warning_count(r);
    if (nw) {
        fprintf(out, "\nWarnings: %zu\n", nw);
        for (size_t i = 0; i < nw; i++) {
            char *w = cell(mm_result_warning(r, i), 1000);
            fprintf(out, "  - %s\n", w);
            free(w);
        }
    }
    if (fflush(out) != 0 || ferror(out))
        return mm_error_set(MM_EIO, "table report: write failed: %s",
                            strerror(errno ? errno : EIO));
    return 0;
}
