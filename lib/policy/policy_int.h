/*
 * policy/policy_int.h - what the loader (load.c) and the evaluator
 * (check.c) of the gate share: the parsed policy.  Every rule keeps the
 * line it was written on, so that messages can point back at it.
 */
#ifndef MM_POLICY_INT_H
#define MM_POLICY_INT_H

#include "mamori/policy.h"
#include "mamori/trust.h"

/* Caps on what a policy file may hold: it is untrusted input (fuzzed). */
#define MM_POLICY_MAX_BYTES   (1u << 20)  /* the file */
#define MM_POLICY_MAX_LIST    1024        /* entries in one list */
#define MM_POLICY_MAX_STR     1024        /* bytes in one pattern or path */
#define MM_POLICY_MAX_KEYS    64          /* signature keys */
#define MM_POLICY_MAX_DAYS    100000      /* ages, in days */

/* "none": not even the lowest severity is allowed. */
#define MM_POLICY_SEV_NONE (-1)

typedef struct mm_strlist {
    char **v;
    size_t n;
    bool set;      /* the key was written (an allow list then applies) */
} mm_strlist;

struct mm_policy {
    char *name;             /* the file, for messages */
    char digest[72];        /* "sha256:..." of the policy text as loaded */
    char *base;             /* folder that relative key paths start from */

    mm_strlist reg_allow, reg_deny, repo_allow, repo_deny;

    /* signatures.keys: loaded when the policy is loaded */
    mm_sigkey **keys;
    char **key_paths;       /* as written in the policy */
    size_t nkeys;
    bool sig_all;           /* mode: all (else any) */

    bool require_digest, deny_latest;

    bool vuln_set;
    int vuln_max;           /* mm_severity or MM_POLICY_SEV_NONE */
    bool vuln_fixable_only;
    mm_strlist vuln_ignore;

    bool secrets_set;
    int secrets_max;
    bool malware_set;
    int malware_max;

    bool deny_root_user, deny_remote_shells;
    bool deny_insecure_registry;

    int64_t max_image_age_days;  /* -1: no limit */
    int64_t max_scan_age_days;   /* -1: no limit */
};

#endif
