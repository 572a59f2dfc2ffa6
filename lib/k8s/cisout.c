/*
 * cisout.c - the results of a CIS Kubernetes Benchmark run: accessors,
 * the table (kube-bench's layout: "[PASS] 4.2.1 text" per check, the
 * remediations of what failed or warned, the totals) and JSON writers, and
 * the findings made from failed checks.
 */
#include <stdlib.h>
#include <string.h>

#include "k8s/cis_int.h"
#include "util/json.h"

static const char *const state_names[] = {"PASS", "FAIL", "WARN", "INFO"};

const char *mm_k8s_cis_state_name(mm_k8s_cis_state s)
{
    return (unsigned)s < 4 ? state_names[s] : "?";
}

void mm_k8s_cis_free(mm_k8s_cis *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++) {
        mm_k8s_cis_result *x = &c->r[i];
        free(x->id);
        free(x->text);
        free(x->target);
        free(x->group);
        free(x->audit);
        free(x->actual);
        free(x->expected);
        free(x->reason);
        free(x->remediation);
    }
    free(c->r);
    mm_strv_free(c->notes, c->nnotes);
    free(c->benchmark);
    free(c);
}

const char *mm_k8s_cis_benchmark(const mm_k8s_cis *c)
{
    return c ? c->benchmark : NULL;
}

size_t mm_k8s_cis_count(const mm_k8s_cis *c)
{
    return c ? c->n : 0;
}

const mm_k8s_cis_result *mm_k8s_cis_get(const mm_k8s_cis *c, size_t i)
{
    return c && i < c->n ? &c->r[i] : NULL;
}

const mm_k8s_cis_result *mm_k8s_cis_find(const mm_k8s_cis *c, const char *id)
{
    for (size_t i = 0; c && id && i < c->n; i++)
        if (!strcmp(c->r[i].id, id))
            return &c->r[i];
    return NULL;
}

size_t mm_k8s_cis_note_count(const mm_k8s_cis *c)
{
    return c ? c->nnotes : 0;
}

const char *mm_k8s_cis_note(const mm_k8s_cis *c, size_t i)
{
    return c && i < c->nnotes ? c->notes[i] : NULL;
}

static void tally(const mm_k8s_cis *c, size_t n[4])
{
    memset(n, 0, 4 * sizeof *n);
    for (size_t i = 0; i < c->n; i++)
        n[c->r[i].state]++;
}

static int write_json(FILE *f, const mm_k8s_cis *c)
{
    json_t *doc = json_object(), *arr = json_array();
    json_object_set_new(doc, "benchmark", mm_json_str(c->benchmark));
    for (size_t i = 0; i < c->n; i++) {
        const mm_k8s_cis_result *x = &c->r[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", mm_json_str(x->id));
        json_object_set_new(o, "target", mm_json_str(x->target));
        json_object_set_new(o, "group", mm_json_str(x->group));
        json_object_set_new(o, "text", mm_json_str(x->text));
        json_object_set_new(o, "status", json_string(mm_k8s_cis_state_name(x->state)));
        json_object_set_new(o, "scored", json_boolean(x->scored));
        mm_json_set_str(o, "audit", x->audit);
        mm_json_set_str(o, "actual_value", x->actual);
        mm_json_set_str(o, "expected_result", x->expected);
        mm_json_set_str(o, "reason", x->reason);
        mm_json_set_str(o, "remediation", x->remediation);
        json_array_append_new(arr, o);
    }
    json_object_set_new(doc, "results", arr);
    size_t n[4];
    tally(c, n);
    json_object_set_new(doc, "totals", json_pack("{s:I, s:I, s:I, s:I}", "pass", (json_int_t)n[0],
                                                 "fail", (json_int_t)n[1], "warn", (json_int_t)n[2],
                                                 "info", (json_int_t)n[3]));
    json_t *notes = json_array();
    for (size_t i = 0; i < c->nnotes; i++)
        json_array_append_new(notes, mm_json_str(c->notes[i]));
    json_object_set_new(doc, "notes", notes);
    int rc = json_dumpf(doc, f, JSON_INDENT(2));
    fputc('\n', f);
    json_decref(doc);
    return rc;
}

static void line(FILE *f, const char *s)
{
    char *p = mm_str_printable(s ? s : "");
    fputs(p, f);
    free(p);
}

int mm_k8s_cis_write(FILE *f, const mm_k8s_cis *c, bool json)
{
    if (!f || !c)
        return mm_error_set(MM_EINVAL, "cis: nothing to write");
    if (json) {
        if (write_json(f, c) < 0)
            return mm_error_set(MM_EIO, "cis: write error");
    } else {
        fprintf(f, "Benchmark: %s\n", c->benchmark);
        const char *tgt = NULL, *grp = NULL;
        for (size_t i = 0; i < c->n; i++) {
            const mm_k8s_cis_result *x = &c->r[i];
            if (!tgt || strcmp(tgt, x->target)) {
                fprintf(f, "\n== %s ==\n", x->target);
                grp = NULL;
            }
            if (!grp || strcmp(grp, x->group)) {
                fputs("[INFO] ", f);
                line(f, x->group);
                fputc('\n', f);
            }
            tgt = x->target;
            grp = x->group;
            fprintf(f, "[%s] %s ", mm_k8s_cis_state_name(x->state), x->id);
            line(f, x->text);
            fputc('\n', f);
        }
        bool head = false;
        for (size_t i = 0; i < c->n; i++) {
            const mm_k8s_cis_result *x = &c->r[i];
            if (x->state != MM_CIS_FAIL && x->state != MM_CIS_WARN)
                continue;
            if (!head)
                fputs("\n== Remediations ==\n", f);
            head = true;
            fprintf(f, "%s %s", x->id, mm_k8s_cis_state_name(x->state));
            char *rem = mm_xstrdup(x->remediation ? x->remediation : ""), *save = NULL;
            for (char *t = strtok_r(rem, "\n", &save); t; t = strtok_r(NULL, "\n", &save)) {
                fputs("\n    ", f);
                line(f, t);
            }
            free(rem);
            if (x->reason) {
                fputs("\n    reason: ", f);
                line(f, x->reason);
            }
            fputc('\n', f);
        }
        size_t n[4];
        tally(c, n);
        fprintf(f, "\n== Summary ==\n%zu checks PASS\n%zu checks FAIL\n%zu checks WARN\n"
                "%zu checks INFO\n", n[0], n[1], n[2], n[3]);
        for (size_t i = 0; i < c->nnotes; i++) {
            fputs("note: ", f);
            line(f, c->notes[i]);
            fputc('\n', f);
        }
    }
    if (fflush(f) != 0 || ferror(f))
        return mm_error_set(MM_EIO, "cis: write error");
    return 0;
}

int mm_k8s_cis_findings(const mm_k8s_cis *c, mm_findings *out)
{
    if (!c || !out)
        return mm_error_set(MM_EINVAL, "cis: no results");
    for (size_t i = 0; i < c->n; i++) {
        const mm_k8s_cis_result *x = &c->r[i];
        if (x->state != MM_CIS_FAIL)
            continue;
        char *id = mm_xasprintf("CIS-K8S-%s", x->id);
        char *res = mm_xasprintf("%s/%s", c->benchmark, x->target);
        char *ref = mm_xasprintf("%s %s", c->benchmark, x->id);
        char *ev = mm_xasprintf("%s%s%s", x->expected ? "expected " : "",
                                x->expected ? x->expected : "", x->reason ? x->reason : "");
        char *refs[] = {ref};
        mm_finding f;
        memset(&f, 0, sizeof f);
        f.id = id;
        f.kind = MM_FIND_COMPLIANCE;
        f.severity = x->scored ? MM_SEV_HIGH : MM_SEV_MEDIUM;
        f.title = x->text;
        f.loc.layer = -1;
        f.loc.resource = res;
        f.evidence = ev;
        f.remediation = x->remediation;
        f.references = refs;
        f.nreferences = 1;
        f.section = (char *)(!strcmp(x->target, "policies") ? "3.3.1" : "3.3.5");
        mm_findings_add(out, &f);
        free(id);
        free(res);
        free(ref);
        free(ev);
    }
    return 0;
}
