/*
 * admission_int.h - what the files of the admission area share: the
 * decider (config and the image-decision cache) and the verdict helpers.
 */
#ifndef MM_ADMISSION_INT_H
#define MM_ADMISSION_INT_H

#include <pthread.h>
#include <stdarg.h>

#include "mamori/admission.h"
#include "util/util.h"

#define ADM_CACHE_MAX 4096
#define ADM_MAX_IMAGES 64
#define ADM_MAX_JOBS 256

struct adm_job;

typedef struct adm_centry {
    char *key;          /* the image reference */
    int64_t expires;    /* monotonic seconds */
    char **msgs;        /* the violations it gave (none: allowed) */
    size_t nmsgs;
} adm_centry;

struct mm_admission {
    mm_adm_config c;
    pthread_mutex_t mu;        /* the cache */
    pthread_mutex_t check_mu;  /* one policy check at a time (store, registry) */
    adm_centry *cache;
    size_t ncache;
    pthread_mutex_t record_mu; /* the store of decisions */
    pthread_mutex_t job_mu;    /* scans at admission (scanjob.c) */
    pthread_cond_t job_cv;
    struct adm_job **jobs;
    size_t njobs;
    unsigned long long nrecorded;
    size_t record_failed;
};

void adm_violation(mm_adm_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets allowed (by the mode) and the joined message. */
void adm_finish(const mm_admission *a, mm_adm_verdict *v);
/* The policy gate on one image (cached); its deny reasons as violations. */
void adm_image(mm_admission *a, const char *image, mm_adm_verdict *v);

/* Scans an image never scanned (once at a time per image) and waits at
 * most c.scan_budget_ms: 0 when it is scanned and recorded, else <0 with
 * err set (still scanning, or why it failed). */
int adm_scan_wait(mm_admission *a, const char *image, char *err, size_t errlen);
void adm_jobs_free(mm_admission *a);

/* Keeps the decision in c.record (record.c); kind "admission" or "authz". */
void adm_record(mm_admission *a, const char *kind, const char *target,
                const mm_adm_verdict *v);

#endif
