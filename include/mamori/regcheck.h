/*
 * mamori/regcheck.h - security checks of a registry itself (SP 800-190
 * §3.2.1 transport, §3.2.3 authentication and authorization), as
 * `mamori registry check REGISTRY` runs them: anonymous pull, push and
 * catalog; plain HTTP offered; basic auth over plain HTTP; a token service
 * without TLS; a certificate that does not verify.  Every check gets a
 * verdict (pass, fail, not applicable, error) with the evidence seen; the
 * failed ones become findings.  No credentials are ever sent: the checks
 * ask what an anonymous client may do.  An anonymous upload that the
 * registry accepts is cancelled at once (DELETE of its location).
 */
#ifndef MAMORI_REGCHECK_H
#define MAMORI_REGCHECK_H

#include "mamori/common.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_regcheck_verdict {
    MM_REGCHECK_PASS = 0,
    MM_REGCHECK_FAIL,
    MM_REGCHECK_NA,      /* the check does not apply (e.g. no http endpoint) */
    MM_REGCHECK_ERROR,   /* no answer that decides it */
} mm_regcheck_verdict;

const char *mm_regcheck_verdict_name(mm_regcheck_verdict v); /* "pass", ... */

typedef enum mm_regcheck_id {
    MM_REGCHECK_ANON_PULL = 0,
    MM_REGCHECK_ANON_PUSH,
    MM_REGCHECK_ANON_CATALOG,
    MM_REGCHECK_PLAIN_HTTP,
    MM_REGCHECK_BASIC_HTTP,
    MM_REGCHECK_TOKEN_HTTP,
    MM_REGCHECK_TLS_UNVERIFIED,
    MM_REGCHECK__COUNT
} mm_regcheck_id;

typedef struct mm_regcheck_item {
    const char *id;        /* "MM-REGCHK-001" ... */
    const char *name;      /* "anonymous-pull" ... */
    const char *title;
    const char *section;   /* "3.2.1" or "3.2.3" */
    const char *remediation;
    mm_severity severity;  /* of the finding when it fails */
    mm_regcheck_verdict verdict;
    char *evidence;        /* what was seen (never NULL after a run) */
} mm_regcheck_item;

/* What the probes saw; the verdicts follow from it alone
 * (mm_regcheck_evaluate, unit-tested).  Statuses are HTTP codes, 0 when
 * no HTTP answer came; strings may be NULL. */
typedef struct mm_regcheck_obs {
    long https_status;      /* GET https://HOST/v2/ (verified, else not) */
    bool https_verified;    /* that answer came with a verified certificate */
    const char *https_error;/* the verified attempt's TLS/transport error */
    const char *https_challenge; /* its WWW-Authenticate */
    long http_status;       /* GET http://HOST/v2/ */
    const char *http_error;
    const char *http_challenge;
    const char *repository; /* probed for pull and push */
    long catalog_status, pull_status, push_status; /* anonymous, after an
                             * anonymous token when the registry wants one */
    bool catalog_token, pull_token, push_token; /* an anonymous token was granted */
    bool push_cancelled;    /* the accepted upload was deleted again */
} mm_regcheck_obs;

typedef struct mm_regcheck mm_regcheck;

typedef struct mm_regcheck_opts {
    const char *ca_file;     /* extra CA bundle for the verified attempt */
    const char *repository;  /* repository for pull/push; NULL: the first in
                              * the catalog, else "mamori-check/probe" */
    long timeout_s;          /* per request; 0 = 20 s */
} mm_regcheck_opts;

/* Runs every check against registry "HOST[:PORT]" (an https:// or http://
 * prefix is ignored; docker.io means registry-1.docker.io).  A registry
 * that answers neither over https nor over http is MM_ENET. */
int mm_regcheck_run(mm_regcheck **out, const char *registry, const mm_regcheck_opts *o);
/* The checks of obs, without any network (target names the registry). */
int mm_regcheck_evaluate(mm_regcheck **out, const char *target, const mm_regcheck_obs *obs);
void mm_regcheck_free(mm_regcheck *c);

const char *mm_regcheck_target(const mm_regcheck *c);
size_t mm_regcheck_count(const mm_regcheck *c);     /* MM_REGCHECK__COUNT */
const mm_regcheck_item *mm_regcheck_get(const mm_regcheck *c, size_t i);
/* Adds a finding (kind trust, section of the check, host = target) for
 * every failed check whose severity bit (1 << severity) is in sevmask
 * (0 = all).  Returns the number added or a negative error. */
int mm_regcheck_findings(const mm_regcheck *c, unsigned sevmask, mm_findings *out);
/* {"target", "checks": [{id, name, title, section, severity, verdict,
 * evidence}], "summary": {pass, fail, not_applicable, error}}.  Caller frees. */
int mm_regcheck_json(char **out, const mm_regcheck *c);

#ifdef __cplusplus
}
#endif
#endif
