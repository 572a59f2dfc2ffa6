/*
 * vuln/result_ext.h - the few changes to an mm_result that matching,
 * filtering and SBOM loading need beyond what include/mamori/scan.h and
 * finding.h offer today: adding a warning, removing findings, and making a
 * result that did not come from a scan (an SBOM read back).
 *
 * TEMPORARY: these belong in lib/image/scan.c (mm_result_*) and
 * lib/report/finding.c (mm_findings_retain), declared in the public
 * headers.  Until they move there, result_ext.c implements them against a
 * mirror of the private struct and checks, through the public accessors,
 * that the mirror still matches before it touches anything.
 */
#ifndef MM_RESULT_EXT_H
#define MM_RESULT_EXT_H

#include <stdbool.h>

#include "mamori/scan.h"

/* Appends a warning to the result (printf format). Capped like scan
 * warnings. */
void mm_result_warn(mm_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Removes (and frees) every finding for which keep() returns false,
 * keeping the order of the rest. */
void mm_findings_retain(mm_findings *list,
                        bool (*keep)(void *ud, const mm_finding *f),
                        void *ud);

/* An empty result for a target that was not scanned (an SBOM): no layers,
 * an empty inventory and findings, started = now. */
int mm_result_new(mm_result **out, mm_target_kind kind, const char *target);
/* Sets the OS (copies; NULL leaves a field unset). */
void mm_result_set_os(mm_result *r, const char *family, const char *version,
                      const char *codename, const char *name);
/* Sets the store key (copied). */
void mm_result_set_key(mm_result *r, const char *key);
/* The image info of a result made by mm_result_new (kind IMAGE), for the
 * SBOM reader to fill (strings must be malloc'ed; the result frees them). */
mm_image_info *mm_result_image_mut(mm_result *r);

#endif
