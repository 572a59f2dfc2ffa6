/*
 * mamori/secret.h - options of the clear-text secret scanner (NIST SP
 * 800-190 §3.1.4) and the helpers front-ends and reports need: rule-file
 * validation and masking of secrets inside text they print.
 *
 * The scanner runs inside mm_scan() when MM_SCANNER_SECRET is set.  Its
 * rules are data: the built-in set (data/secret-rules.yaml, compiled into
 * the library) plus user files in the same format that add rules,
 * override them by id or disable them (docs/secret-rules.md).  A broken
 * rule file fails the scan with a message naming the file and line.
 */
#ifndef MAMORI_SECRET_H
#define MAMORI_SECRET_H

#include "mamori/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_secret_opts {
    /* --secret-config: rule files applied in order on top of the built-in
     * rules (add, override by id, disable-rules, allow-rules). */
    const char *const *config_paths;
    size_t nconfig_paths;
    /* Start from no rules at all: only the config files count. */
    bool no_builtin_rules;
    /* --secret-scan-binaries: also scan files with NUL bytes in their
     * first 8 KiB (skipped by default). */
    bool scan_binaries;
} mm_secret_opts;

void mm_secret_opts_init(mm_secret_opts *o);

/* Loads and compiles the rules of o (NULL = defaults) and throws them
 * away: lets a front-end refuse a bad --secret-config before a scan
 * starts.  0, or MM_EFORMAT / MM_ENOTFOUND / MM_EIO / MM_EUNSUPPORTED with
 * the file and line in the message. */
int mm_secret_check(const mm_secret_opts *o);

/* The masked form of a secret: at most 4 characters kept at each end
 * (fewer for short secrets), the rest as '*' (at most 24 of them), control
 * bytes shown as '?'.  Never returns the secret itself.  Caller frees. */
char *mm_secret_mask(const char *secret, size_t len);

/* A copy of text with every secret that the built-in rules find in it
 * masked (for reports that print image history, environment or labels).
 * Caller frees; NULL in, NULL out. */
char *mm_secret_redact(const char *text);

#ifdef __cplusplus
}
#endif
#endif
