/*
 * mamori/policy.h - the build/deploy gate: a YAML policy (docs/policy.md)
 * evaluated against an image reference, its stored scan (mamori/store.h)
 * and its signatures (mamori/trust.h), giving allow or deny with every
 * reason.  The CLI (`mamori policy check`), CI pipelines and the admission
 * webhook of a later issue all use this one decision.
 *
 * Rules: allowed / denied registries and repositories (globs), required
 * signature keys, digest pinning or no `latest`, maximum vulnerability
 * severity (optionally fixable ones only), no secrets, no malware, no root
 * user, no remote shells, maximum image age.  An image that was never
 * scanned is denied with that reason.
 *
 * Ownership: the decision and everything in it belong to the caller
 * (mm_policy_decision_free).
 */
#ifndef MAMORI_POLICY_H
#define MAMORI_POLICY_H

#include "mamori/common.h"
#include "mamori/registry.h"
#include "mamori/store.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_policy mm_policy;

/* Loads and validates a policy file; errors name the file, line and key. */
int mm_policy_load(mm_policy **out, const char *path);
/* The same from memory (name is used in messages; for fuzzing too). */
int mm_policy_load_mem(mm_policy **out, const char *data, size_t len,
                       const char *name);
void mm_policy_free(mm_policy *p);
/* "sha256:<hex>" of the policy text as loaded (owned by p): what a cache
 * of decisions keys on, so that a changed policy never reuses them. */
const char *mm_policy_digest(const mm_policy *p);

typedef struct mm_policy_reason {
    char *rule;       /* policy key that decided: "registries.allow", ... */
    char *message;    /* human sentence, with the offending values */
    bool deny;        /* false: an informational pass line */
} mm_policy_reason;

typedef struct mm_policy_decision {
    bool allow;
    char *image;          /* as given */
    char *reference;      /* normalised, or NULL for a local archive */
    char *digest;         /* manifest digest the decision is about: the
                           * platform's manifest, the store key of its scans */
    int64_t scanned_at;   /* 0 when never scanned */
    char *db_version;     /* of that scan, or NULL */
    mm_policy_reason *reasons;
    size_t nreasons;
    char *resolved_digest; /* what the reference resolves to (an index for a
                            * multi-platform image): signatures are checked
                            * on it; NULL for a local archive */
} mm_policy_decision;

/* What the check may consult.  registry is needed for remote references
 * (resolution and signatures); store for the scans; now = 0 means the
 * current time. */
typedef struct mm_policy_env {
    mm_registry *registry;
    mm_store *store;
    const char *platform;   /* for picking from an index; NULL = linux/amd64 */
    int64_t now;
} mm_policy_env;

/* Evaluates image (a registry reference or a local archive path) against
 * p.  Returns 0 with a decision whatever the verdict; negative only when
 * the inputs could not be consulted at all (then nothing is decided). */
int mm_policy_check(mm_policy_decision **out, const mm_policy *p,
                    const char *image, const mm_policy_env *env);

/* The decision as a JSON document (docs/policy.md: schema_version, allow,
 * decision, image, reference, digest, resolved_digest, scanned_at (RFC
 * 3339 or null), db_version, denied, reasons[] of {rule, result ("pass" or
 * "deny"), deny (the same as a boolean), message}).  Caller frees. */
char *mm_policy_decision_json(const mm_policy_decision *d);
void mm_policy_decision_free(mm_policy_decision *d);

#ifdef __cplusplus
}
#endif
#endif
