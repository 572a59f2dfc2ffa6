/*
 * scanjob.c - an image the store has never seen, scanned at admission
 * (mm_adm_config.scan): the scan runs on a thread of its own through the
 * scan pipeline (recorded in the store the gate reads), and the request
 * waits for it at most scan_budget_ms - what fits in the webhook's
 * timeoutSeconds minus a margin.  Done in time: the gate is asked again
 * and decides on the scan.  Not done: the request is answered as for an
 * unscanned image (a violation, or allowed with a warning under
 * allow_unscanned) and the scan goes on, so a retry a little later finds
 * it (allow-and-scan-later).  One scan per image at a time; the decider
 * waits for running scans when it is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission/admission_int.h"
#include "mamori/scan.h"

typedef struct adm_job {
    mm_admission *a;
    char *image;
    pthread_t th;
    bool done;
    int rc;
    char err[256];
} adm_job;

static void *job_run(void *arg)
{
    adm_job *j = arg;
    mm_pipeline *p = NULL;
    int rc = mm_pipeline_new(&p, j->a->c.scan);
    if (rc == 0) {
        mm_result *r = NULL;
        mm_pipeline_outcome oc = {0};
        mm_target_kind kind = mm_imageref_is_remote(j->image) ? MM_TARGET_REGISTRY
                                                              : MM_TARGET_IMAGE;
        rc = mm_pipeline_scan(p, &r, &oc, kind, j->image);
        if (rc == 0 && !oc.stored)
            rc = mm_error_set(MM_EDB, "the scan was not recorded: %s",
                              oc.store_error ? oc.store_error : "no store");
        mm_result_free(r);
        mm_pipeline_outcome_clear(&oc);
    }
    mm_pipeline_free(p);
    pthread_mutex_lock(&j->a->job_mu);
    j->rc = rc;
    if (rc < 0)
        snprintf(j->err, sizeof j->err, "%s", mm_error_last());
    j->done = true;
    pthread_cond_broadcast(&j->a->job_cv);
    pthread_mutex_unlock(&j->a->job_mu);
    return NULL;
}

int adm_scan_wait(mm_admission *a, const char *image, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->job_mu);
    adm_job *j = NULL;
    for (size_t i = 0; i < a->njobs && !j; i++)
        if (!strcmp(a->jobs[i]->image, image) && !a->jobs[i]->done)
            j = a->jobs[i];
    if (!j) {
        /* finished scans are reaped here */
        size_t k = 0;
        for (size_t i = 0; i < a->njobs; i++) {
            if (a->jobs[i]->done) {
                pthread_join(a->jobs[i]->th, NULL);
                free(a->jobs[i]->image);
                free(a->jobs[i]);
            } else {
                a->jobs[k++] = a->jobs[i];
            }
        }
        a->njobs = k;
        if (a->njobs >= ADM_MAX_JOBS) {
            pthread_mutex_unlock(&a->job_mu);
            snprintf(err, errlen, "too many scans at once (%d)", ADM_MAX_JOBS);
            return MM_ELIMIT;
        }
        j = mm_xcalloc(1, sizeof *j);
        j->a = a;
        j->image = mm_xstrdup(image);
        if (pthread_create(&j->th, NULL, job_run, j) != 0) {
            pthread_mutex_unlock(&a->job_mu);
            free(j->image);
            free(j);
            snprintf(err, errlen, "cannot start a scan thread");
            return MM_EIO;
        }
        a->jobs = mm_xrealloc(a->jobs, (a->njobs + 1) * sizeof *a->jobs);
        a->jobs[a->njobs++] = j;
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    int64_t ns = until.tv_nsec + (int64_t)(a->c.scan_budget_ms % 1000) * 1000000;
    until.tv_sec += a->c.scan_budget_ms / 1000 + ns / 1000000000;
    until.tv_nsec = ns % 1000000000;
    while (!j->done)
        if (pthread_cond_timedwait(&a->job_cv, &a->job_mu, &until) == ETIMEDOUT)
            break;
    int rc = j->done ? j->rc : MM_ENET;
    if (!j->done)
        snprintf(err, errlen, "still scanning after %d ms (it goes on)", a->c.scan_budget_ms);
    else if (rc < 0)
        snprintf(err, errlen, "%s", j->err);
    pthread_mutex_unlock(&a->job_mu);
    return rc;
}

void adm_jobs_free(mm_admission *a)
{
    for (size_t i = 0; i < a->njobs; i++) {
        pthread_join(a->jobs[i]->th, NULL);
        free(a->jobs[i]->image);
        free(a->jobs[i]);
    }
    free(a->jobs);
    a->jobs = NULL;
    a->njobs = 0;
}
