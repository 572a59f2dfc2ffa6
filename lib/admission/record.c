/*
 * record.c - every admission decision kept in the scan store, when the
 * caller gives one (mm_adm_config.record): a result keyed
 * "admission:<request uid>" (Docker: "authz:<time>:<n>") whose target is
 * the object ("ns/Kind/name", or the Docker API call) and whose findings
 * are the violations (MM-ADM-DENY when refused, MM-ADM-WARN when the mode
 * let it through, MM-ADM-NOTE for an image allowed unscanned), each naming
 * its SP 800-190 section: the image gate §3.1.5 (untrusted images), the
 * pod or container configuration §3.4.3 (insecure runtime configuration).
 * An allowed request without violations is kept too, with no findings, so
 * that `mamori history` shows every decision.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission/admission_int.h"
#include "mamori/result.h"

static void add(mm_result *r, const char *id, mm_severity sev, const char *text,
                const char *resource, const char *evidence)
{
    bool image = !strncmp(text, "image ", 6);
    mm_finding f = {0};
    f.id = (char *)id;
    f.kind = image ? MM_FIND_TRUST : MM_FIND_MISCONFIG;
    f.severity = sev;
    f.title = (char *)text;
    f.loc.layer = -1;
    f.loc.resource = (char *)resource;
    f.evidence = (char *)evidence;
    f.section = (char *)(image ? "3.1.5" : "3.4.3");
    mm_findings_add(mm_result_findings(r), &f);
}

void adm_record(mm_admission *a, const char *kind, const char *target,
                const mm_adm_verdict *v)
{
    if (!a->c.record || !v)
        return;
    pthread_mutex_lock(&a->record_mu);
    char key[200];
    if (v->uid && *v->uid) {
        snprintf(key, sizeof key, "%s:%s", kind, v->uid);
    } else {
        char t[32];
        mm_time_rfc3339((int64_t)time(NULL), t);
        snprintf(key, sizeof key, "%s:%s:%llu", kind, t, (unsigned long long)++a->nrecorded);
    }
    mm_result *r = NULL;
    if (mm_result_new(&r, MM_TARGET_ROOTFS, target ? target : kind) == 0) {
        mm_result_set_key(r, key);
        char *ev = mm_xasprintf("%s %s, mode %s", kind, v->uid && *v->uid ? v->uid : key,
                                mm_adm_mode_name(a->c.mode));
        const char *id = v->allowed ? "MM-ADM-WARN" : "MM-ADM-DENY";
        for (size_t i = 0; i < v->nviolations; i++)
            add(r, id, v->allowed ? MM_SEV_MEDIUM : MM_SEV_HIGH, v->violations[i], target, ev);
        for (size_t i = 0; i < v->nnotes; i++)
            add(r, "MM-ADM-NOTE", MM_SEV_LOW, v->notes[i], target, ev);
        free(ev);
        if (mm_store_put_scan(a->c.record, r, NULL) < 0)
            a->record_failed++;
    }
    mm_result_free(r);
    pthread_mutex_unlock(&a->record_mu);
}
