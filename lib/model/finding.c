/*
 * model/finding.c - the findings list every scanner fills and every report
 * reads, plus the names of severities and finding kinds.
 *
 * mm_findings_add() deep-copies the finding so that scanners may pass
 * stack-allocated records built from borrowed strings.  The names returned
 * by mm_severity_name() and mm_finding_kind_name() are part of the JSON
 * schema (docs/json-format.md): never rename them.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mamori/finding.h"
#include "util/util.h"

struct mm_findings {
    mm_finding *v;
    size_t n, cap;
};

static const char *const sev_names[] = {
    [MM_SEV_UNKNOWN] = "UNKNOWN",
    [MM_SEV_LOW] = "LOW",
    [MM_SEV_MEDIUM] = "MEDIUM",
    [MM_SEV_HIGH] = "HIGH",
    [MM_SEV_CRITICAL] = "CRITICAL",
};

const char *mm_severity_name(mm_severity s)
{
    if ((unsigned)s > MM_SEV_CRITICAL)
        return "UNKNOWN";
    return sev_names[s];
}

int mm_severity_parse(mm_severity *out, const char *s)
{
    if (!out || !s)
        return mm_error_set(MM_EINVAL, "severity: no value given");
    for (int i = MM_SEV_UNKNOWN; i <= MM_SEV_CRITICAL; i++) {
        if (strcasecmp(s, sev_names[i]) == 0) {
            *out = (mm_severity)i;
            return 0;
        }
    }
    return mm_error_set(MM_EINVAL,
                        "severity \"%s\": expected one of UNKNOWN, LOW, "
                        "MEDIUM, HIGH, CRITICAL", s);
}

static const char *const kind_names[MM_FIND__COUNT] = {
    [MM_FIND_VULNERABILITY] = "vulnerability",
    [MM_FIND_MISCONFIG] = "misconfiguration",
    [MM_FIND_SECRET] = "secret",
    [MM_FIND_MALWARE] = "malware",
    [MM_FIND_TRUST] = "trust",
    [MM_FIND_COMPLIANCE] = "compliance",
    [MM_FIND_RUNTIME] = "runtime",
    [MM_FIND_NETWORK] = "network",
    [MM_FIND_INTAKE] = "intake",
};

const char *mm_finding_kind_name(mm_finding_kind k)
{
    if ((unsigned)k >= MM_FIND__COUNT)
        return "unknown";
    return kind_names[k];
}

int mm_findings_new(mm_findings **out)
{
    if (!out)
        return mm_error_set(MM_EINVAL, "findings: no output pointer");
    *out = mm_xcalloc(1, sizeof(mm_findings));
    return 0;
}

static void finding_clear(mm_finding *f)
{
    free(f->id);
    free(f->title);
    free(f->loc.image);
    free(f->loc.layer_digest);
    free(f->loc.instruction);
    free(f->loc.path);
    free(f->loc.package);
    free(f->loc.host);
    free(f->loc.container);
    free(f->loc.process);
    free(f->loc.resource);
    free(f->loc.field);
    free(f->evidence);
    free(f->remediation);
    mm_strv_free(f->references, f->nreferences);
    free(f->section);
}

void mm_findings_free(mm_findings *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        finding_clear(&list->v[i]);
    free(list->v);
    free(list);
}

void mm_findings_retain(mm_findings *list,
                        bool (*keep)(void *ud, const mm_finding *f), void *ud)
{
    if (!list || !keep)
        return;
    size_t w = 0;
    for (size_t i = 0; i < list->n; i++) {
        if (keep(ud, &list->v[i])) {
            if (w != i)
                list->v[w] = list->v[i];
            w++;
        } else {
            finding_clear(&list->v[i]);
        }
    }
    list->n = w;
}

int mm_findings_add(mm_findings *list, const mm_finding *f)
{
    if (!list || !f)
        return mm_error_set(MM_EINVAL, "findings: no list or finding");
    if (!f->section)
        return mm_error_set(MM_EINVAL,
                            "finding %s: no NIST SP 800-190 section",
                            f->id ? f->id : "(no id)");
    if (!f->id)
        return mm_error_set(MM_EINVAL, "finding: no id");
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        list->v = mm_xrealloc(list->v, cap * sizeof(mm_finding));
        list->cap = cap;
    }
    mm_finding *d = &list->v[list->n];
    memset(d, 0, sizeof(*d));
    d->id = mm_xstrdup(f->id);
    d->kind = f->kind;
    d->severity = f->severity;
    d->title = mm_xstrdup(f->title);
    d->loc.image = mm_xstrdup(f->loc.image);
    d->loc.layer = f->loc.layer;
    d->loc.layer_digest = mm_xstrdup(f->loc.layer_digest);
    d->loc.instruction = mm_xstrdup(f->loc.instruction);
    d->loc.path = mm_xstrdup(f->loc.path);
    d->loc.line = f->loc.line;
    d->loc.package = mm_xstrdup(f->loc.package);
    d->loc.host = mm_xstrdup(f->loc.host);
    d->loc.container = mm_xstrdup(f->loc.container);
    d->loc.process = mm_xstrdup(f->loc.process);
    d->loc.resource = mm_xstrdup(f->loc.resource);
    d->loc.field = mm_xstrdup(f->loc.field);
    d->evidence = mm_xstrdup(f->evidence);
    d->remediation = mm_xstrdup(f->remediation);
    for (size_t i = 0; i < f->nreferences; i++)
        if (f->references && f->references[i])
            mm_strv_push(&d->references, &d->nreferences, f->references[i]);
    d->section = mm_xstrdup(f->section);
    list->n++;
    return 0;
}

size_t mm_findings_count(const mm_findings *list)
{
    return list ? list->n : 0;
}

const mm_finding *mm_findings_get(const mm_findings *list, size_t i)
{
    if (!list || i >= list->n)
        return NULL;
    return &list->v[i];
}
