/*
 * reach.c - the reachability matrix written out (`mamori k8s reach`: a
 * table, JSON, or a Graphviz DOT graph) and the segmentation findings of
 * SP 800-190 section 3.3.3 that come from it: namespaces that no
 * NetworkPolicy covers (MM-K8S-401) and pods that policies isolate in one
 * direction only (MM-K8S-402).  Pods that no policy selects at all stay
 * MM-K8S-301 (workload family).  Output is streamed: a 1,000-workload
 * matrix is a million cells.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"
#include "k8s/netpol_int.h"
#include "util/json.h"

/* A JSON string literal of s (control characters and quotes escaped;
 * invalid UTF-8 is kept byte for byte: names come from parsed JSON). */
/* A JSON string (util/json.h), written to f. */
static void jstr(FILE *f, const char *s)
{
    mm_buf b = MM_BUF_INIT;
    mm_json_buf_str(&b, s ? s : "");
    fwrite(b.data, 1, b.len, f);
    mm_buf_free(&b);
}

static void json_strv(FILE *f, char **v, size_t n)
{
    fputc('[', f);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        jstr(f, v[i]);
    }
    fputc(']', f);
}

/* Calls fn for every workload pair with something allowed (from, to, the
 * allowed ports as text; first for the first edge). */
typedef void (*edge_fn)(FILE *f, const char *from, const char *to, const char *ports,
                        bool first, void *ud);
static void each_edge(const mm_k8s_reach *r, FILE *f, edge_fn fn, void *ud)
{
    size_t n = mm_k8s_reach_count(r);
    k8s_pset o = {0}, a = {0}, b = {0};
    mm_buf t = {0};
    bool first = true;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            k8s_reach_cell(r, i, j, &o, &a, &b);
            if (!o.n)
                continue;
            mm_buf_clear(&t);
            k8s_pset_text(&o, &t);
            fn(f, mm_k8s_reach_workload(r, i), mm_k8s_reach_workload(r, j), t.data, first, ud);
            first = false;
        }
    free(o.v);
    free(a.v);
    free(b.v);
    mm_buf_free(&t);
}

static void json_edge(FILE *f, const char *from, const char *to, const char *ports, bool first,
                      void *ud)
{
    fprintf(f, "%s\n    {\"from\": ", first ? "" : ",");
    jstr(f, from);
    fputs(", \"to\": ", f);
    jstr(f, to);
    fputs(", \"ports\": ", f);
    jstr(f, ports);
    fputc('}', f);
}

static void write_json(const mm_k8s_reach *r, FILE *f)
{
    size_t n = mm_k8s_reach_count(r);
    fputs("{\n  \"workloads\": [", f);
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\n    {\"id\": ", i ? "," : "");
        jstr(f, mm_k8s_reach_workload(r, i));
        for (int d = 0; d < 2; d++) {
            fprintf(f, ", \"%s_isolated\": %s, \"%s_policies\": [", d ? "egress" : "ingress",
                    mm_k8s_reach_isolated(r, i, !d) ? "true" : "false", d ? "egress" : "ingress");
            const char *ids[64];
            size_t np = k8s_reach_policies(r, i, !d, ids, 64);
            for (size_t k = 0; k < np && k < 64; k++) {
                if (k)
                    fputc(',', f);
                jstr(f, ids[k]);
            }
            fputc(']', f);
            char **v = NULL;
            size_t nv = 0;
            k8s_reach_ipblocks(r, i, !d, &v, &nv);
            fprintf(f, ", \"%s\": ", d ? "egress_to_addresses" : "ingress_from_addresses");
            json_strv(f, v, nv);
            mm_strv_free(v, nv);
        }
        fputc('}', f);
    }
    fputs("\n  ],\n  \"edges\": [", f);
    each_edge(r, f, json_edge, NULL);
    fputs("\n  ]\n}\n", f);
}

/* DOT ids are quoted strings: quotes and backslashes escaped, controls
 * dropped. */
static void dstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p >= 0x20 && *p != 0x7f)
            fputc(*p, f);
    }
    fputc('"', f);
}

static void dot_edge(FILE *f, const char *from, const char *to, const char *ports, bool first,
                     void *ud)
{
    fputs("  ", f);
    dstr(f, from);
    fputs(" -> ", f);
    dstr(f, to);
    fputs(" [label=", f);
    dstr(f, ports);
    fputs("];\n", f);
}

static void write_dot(const mm_k8s_reach *r, FILE *f)
{
    size_t n = mm_k8s_reach_count(r);
    fputs("digraph reach {\n  rankdir=LR;\n  node [shape=box];\n", f);
    fputs("  \"(outside)\" [shape=ellipse];\n", f);
    for (size_t i = 0; i < n; i++) {
        fputs("  ", f);
        dstr(f, mm_k8s_reach_workload(r, i));
        fprintf(f, " [style=%s];\n", mm_k8s_reach_isolated(r, i, true) ? "solid" : "dashed");
    }
    each_edge(r, f, dot_edge, NULL);
    for (size_t i = 0; i < n; i++)
        for (int d = 0; d < 2; d++) {
            char **v = NULL;
            size_t nv = 0;
            k8s_reach_ipblocks(r, i, !d, &v, &nv);
            for (size_t k = 0; k < nv; k++) {
                fputs("  ", f);
                dstr(f, d ? mm_k8s_reach_workload(r, i) : "(outside)");
                fputs(" -> ", f);
                dstr(f, d ? "(outside)" : mm_k8s_reach_workload(r, i));
                fputs(" [style=dotted, label=", f);
                dstr(f, v[k]);
                fputs("];\n", f);
            }
            mm_strv_free(v, nv);
        }
    fputs("}\n", f);
}

/* The table's rows: the printable "from" made once per workload. */
typedef struct table_rows {
    size_t edges;
    const char *from;
    char *from_p;
} table_rows;

static void table_edge(FILE *f, const char *from, const char *to, const char *ports,
                       bool first, void *ud)
{
    table_rows *tr = ud;
    if (from != tr->from) {
        free(tr->from_p);
        tr->from_p = mm_str_printable(from);
        tr->from = from;
    }
    char *b = mm_str_printable(to);
    fprintf(f, "%-48s %-48s %s\n", tr->from_p, b, ports);
    free(b);
    tr->edges++;
}

static void write_table(const mm_k8s_reach *r, FILE *f)
{
    size_t n = mm_k8s_reach_count(r);
    fprintf(f, "%-48s %-9s %-9s %s\n", "WORKLOAD", "INGRESS", "EGRESS", "OUTSIDE (in | out)");
    for (size_t i = 0; i < n; i++) {
        char *id = mm_str_printable(mm_k8s_reach_workload(r, i));
        mm_buf t = {0};
        for (int d = 0; d < 2; d++) {
            char **v = NULL;
            size_t nv = 0;
            k8s_reach_ipblocks(r, i, !d, &v, &nv);
            if (d)
                mm_buf_adds(&t, " | ");
            for (size_t k = 0; k < nv; k++)
                mm_buf_printf(&t, "%s%s", k ? "; " : "", v[k]);
            if (!nv)
                mm_buf_adds(&t, "-");
            mm_strv_free(v, nv);
        }
        char *out = mm_str_printable(t.data);
        fprintf(f, "%-48s %-9s %-9s %s\n", id,
                mm_k8s_reach_isolated(r, i, true) ? "isolated" : "open",
                mm_k8s_reach_isolated(r, i, false) ? "isolated" : "open", out);
        free(out);
        free(id);
        mm_buf_free(&t);
    }
    fprintf(f, "\n%-48s %-48s %s\n", "FROM", "TO", "PORTS");
    table_rows tr = {0};
    each_edge(r, f, table_edge, &tr);
    free(tr.from_p);
    fprintf(f, "\n%zu workloads, %zu of %zu pairs connected\n", n, tr.edges, n * n);
}

int mm_k8s_reach_write(const mm_k8s_reach *r, FILE *out, const char *format)
{
    if (!r || !out)
        return mm_error_set(MM_EINVAL, "reach: nothing to write");
    if (!format || !strcmp(format, "table"))
        write_table(r, out);
    else if (!strcmp(format, "json"))
        write_json(r, out);
    else if (!strcmp(format, "dot"))
        write_dot(r, out);
    else
        return mm_error_set(MM_EINVAL, "reach writes table, json or dot, not \"%s\"", format);
    if (fflush(out) != 0 || ferror(out))
        return mm_error_set(MM_EIO, "reach: write error");
    return 0;
}

/* --- findings ------------------------------------------------------------------------ */
void k8s_check_net(k8s_ctx *c)
{
    mm_k8s_reach *r;
    if (mm_k8s_reach_build(&r, c->s) < 0)
        return;
    for (size_t i = 0; i < k8s_reach_nnamespaces(r); i++) {
        size_t obj, first;
        bool has;
        const char *name = k8s_reach_namespace(r, i, &obj, &has, &first);
        if (has)
            continue;
        if (obj != (size_t)-1)
            k8s_report_on(c, obj, "MM-K8S-401", NULL, "no NetworkPolicy in namespace %s: "
                          "every pod accepts and opens any connection", name);
        else if (first != (size_t)-1)
            k8s_report_on(c, k8s_reach_obj(r, first), "MM-K8S-401", "metadata.namespace",
                          "no NetworkPolicy in namespace %s: every pod accepts and opens any "
                          "connection", name);
    }
    for (size_t w = 0; w < k8s_reach_nworkloads(r); w++) {
        bool in = mm_k8s_reach_isolated(r, w, true), out = mm_k8s_reach_isolated(r, w, false);
        if (in == out)
            continue;   /* both, or neither (not selected at all: MM-K8S-301) */
        k8s_report_on(c, k8s_reach_obj(r, w), "MM-K8S-402", NULL,
                      in ? "policies isolate ingress only: the pods may open any connection"
                         : "policies isolate egress only: the pods accept any connection");
    }
    mm_k8s_reach_free(r);
}
