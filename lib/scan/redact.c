/*
 * scan/redact.c - masking secrets in what reports print: the instruction
 * that made each layer (image history) and the instruction a finding
 * quotes.  A build that ran `RUN TOKEN=... curl` or `ENV KEY=...` wrote the
 * secret into the image's history; every report, the store and the server
 * would show it again.
 *
 * The rules are the caller's compiled set or the built-in rules, compiled
 * only when something needs masking (a root filesystem scan usually has
 * nothing) and kept by a pipeline for its later scans: compiling them
 * costs a few hundred milliseconds.  When the rules cannot be
 * used the whole text is masked rather than leaked.
 */
#include <stdlib.h>

#include "scan/scan_int.h"

void mm_redactor_init(mm_redactor *x, const mm_secret_rules *rules,
                      mm_secret_rules **cache)
{
    *x = (mm_redactor){.rules = rules, .cache = cache};
}

char *mm_redactor_text(mm_redactor *x, const char *text)
{
    if (!text)
        return NULL;
    if (!x->rd && !x->failed) {
        if (!x->rules && x->cache && *x->cache)
            x->rules = *x->cache;
        if (!x->rules && mm_secret_rules_new(&x->own, NULL) == 0) {
            x->rules = x->own;
            if (x->cache) {      /* the caller keeps it for later scans */
                *x->cache = x->own;
                x->own = NULL;
            }
        }
        if (!x->rules || mm_secret_redactor_new(&x->rd, x->rules) < 0) {
            x->failed = true;
            mm_error_clear();
        }
    }
    return mm_secret_redact(x->rd, text);
}

void mm_redactor_findings(mm_redactor *x, mm_result *r, size_t from)
{
    mm_findings *fs = mm_result_findings(r);
    for (size_t i = from; i < mm_findings_count(fs); i++) {
        mm_finding *f = (mm_finding *)mm_findings_get(fs, i);
        if (!f->loc.instruction)
            continue;
        char *m = mm_redactor_text(x, f->loc.instruction);
        free(f->loc.instruction);
        f->loc.instruction = m;
    }
}

void mm_redactor_done(mm_redactor *x)
{
    mm_secret_redactor_free(x->rd);
    mm_secret_rules_free(x->own);
    *x = (mm_redactor){0};
}
