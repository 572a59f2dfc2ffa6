/*
 * scan/scan_int.h - the pieces of the scan pipeline shared by the files of
 * lib/scan: the analyzer set of one scan (analyzers.c), masking secrets in
 * what reports print (redact.c) and intake (intake.c: opening an image,
 * registry reference or root filesystem as a source).
 */
#ifndef MM_SCAN_INT_H
#define MM_SCAN_INT_H

#include "mamori/scan.h"
#include "mamori/secret.h"
#include "image/intake.h"
#include "util/util.h"

/* --- the analyzers of one scan ------------------------------------------- */
typedef struct mm_anset mm_anset;
/* Creates every analyzer of the table that o's scanners turn on (the
 * inventory analyzers always), in table order, each with its config: the
 * malware options, the compiled secret rules (o->secret_rules, which must
 * be set when secrets are scanned).  Errors name the analyzer. */
int mm_anset_new(mm_anset **out, mm_actx *cx, const mm_scan_opts *o);
/* The entry sink the walker feeds. */
const mm_entry_sink *mm_anset_sink(mm_anset *as);
/* After the last layer, in table order (the OS analyzer first). */
int mm_anset_finish(mm_anset *as);
void mm_anset_free(mm_anset *as);

/* --- masking secrets in printed text ------------------------------------- */
/* The instruction that made a layer and the instruction a finding quotes
 * are printed by every report; a build argument or ENV line may hold a
 * secret.  A redactor uses the given rules, or compiles the built-in ones
 * when it first has something to mask. */
typedef struct mm_redactor {
    const mm_secret_rules *rules;  /* the caller's, or own */
    mm_secret_rules **cache;       /* where to keep what is compiled */
    mm_secret_rules *own;
    mm_secret_redactor *rd;
    bool failed;                   /* rules unusable: mask everything */
} mm_redactor;

/* rules NULL: the built-in rules, taken from *cache or compiled (into
 * *cache when cache is not NULL). */
void mm_redactor_init(mm_redactor *x, const mm_secret_rules *rules,
                      mm_secret_rules **cache);
char *mm_redactor_text(mm_redactor *x, const char *text);
/* Masks the instructions of the findings [from, end) of r. */
void mm_redactor_findings(mm_redactor *x, mm_result *r, size_t from);
void mm_redactor_done(mm_redactor *x);

/* --- intake ------------------------------------------------------------------ */
/* Opens what kind/input names as an image source: a docker-archive or OCI
 * layout (MM_TARGET_IMAGE) or a registry reference (MM_TARGET_REGISTRY,
 * through o->registry_client or a client made from o->registry). */
int mm_intake_open(mm_source **out, mm_target_kind kind, const char *input,
                   const mm_scan_opts *o, const mm_intake_opts *io,
                   const char *tmpdir);

/* --- the signature stage (verify.c) ----------------------------------------- */
typedef struct scan_verifier scan_verifier;
/* Loads the public keys (PEM paths); *out stays NULL when n is 0. */
int scan_verifier_new(scan_verifier **out, const char *const *paths, size_t n);
void scan_verifier_free(scan_verifier *v);
/* Checks the signatures of the image r holds (a registry target), sets
 * r's signature member and adds MM-SIG-001 when not verified; a target
 * that is not in a registry gets a warning.  Fails only on memory. */
int scan_verify(scan_verifier *v, mm_result *r, mm_target_kind kind, const char *input,
                const mm_scan_opts *so);
/* Whether a stored report (a registry rescan's record) carries a passed
 * verification by exactly v's keys, so that the image need not be scanned
 * again; true when v is NULL (nothing to verify).  An image not verified,
 * or verified with other keys, is scanned and verified again: a signature
 * pushed since counts at the next rescan. */
bool scan_verifier_record_fresh(const scan_verifier *v, const char *report_json);
/* "sha256-<64 hex>.sig" (and .att, .sbom): a tag cosign keeps a
 * signature, attestation or SBOM under beside an image, not an image:
 * registry scans leave it out. */
bool scan_cosign_artifact_tag(const char *tag);
/* The verifier of a pipeline (NULL without keys). */
const scan_verifier *scan_pipeline_verifier(const mm_pipeline *p);

#endif
