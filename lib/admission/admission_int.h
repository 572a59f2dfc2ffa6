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
    unsigned long long nrecorded;
    size_t record_failed;
};

void adm_violation(mm_adm_verdict *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets allowed (by the mode) and the joined message. */
void adm_finish(const mm_admission *a, mm_adm_verdict *v);
/* The policy gate on one image (cached); its deny reasons as violations. */
void adm_image(mm_admission *a, const char *image, mm_adm_verdict *v);

/* Keeps the decision in c.record (record.c); kind "admission" or "authz". */
void adm_record(mm_admission *a, const char *kind, const char *target,
                const mm_adm_verdict *v);

#endif
