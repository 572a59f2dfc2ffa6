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

/* A compiled rule set: the built-in rules (unless o->no_builtin_rules)
 * and o's files (NULL = defaults), compiled into one Vectorscan database
 * and one PCRE2 program per rule.  Compiling is the costly part of the
 * scanner, so one set serves many scans (mm_scan_opts.secret_rules) and
 * threads: it is read-only once made.  Loading may warn (an id to disable
 * that does not exist); the warnings stay with the set and every scan
 * that uses it reports them.  0, or MM_EFORMAT / MM_ENOTFOUND / MM_EIO /
 * MM_EUNSUPPORTED with the file and line in the message. */
typedef struct mm_secret_rules mm_secret_rules;
int mm_secret_rules_new(mm_secret_rules **out, const mm_secret_opts *o);
void mm_secret_rules_free(mm_secret_rules *r);
size_t mm_secret_rules_warning_count(const mm_secret_rules *r);
const char *mm_secret_rules_warning(const mm_secret_rules *r, size_t i);

/* Loads and compiles the rules of o (NULL = defaults) and throws them
 * away: lets a front-end refuse a bad --secret-config before a scan
 * starts.  Errors as mm_secret_rules_new(). */
int mm_secret_check(const mm_secret_opts *o);

/* The masked form of a secret: at most 4 characters kept at each end
 * (fewer for short secrets), the rest as '*' (at most 24 of them), control
 * bytes shown as '?'.  Never returns the secret itself.  Caller frees. */
char *mm_secret_mask(const char *secret, size_t len);

/* Masks the secrets that a rule set finds inside text that reports print
 * (image history, Dockerfile instructions, environment, labels).  A
 * redactor holds the matcher's scratch space: one per thread; the rules
 * must outlive it. */
typedef struct mm_secret_redactor mm_secret_redactor;
int mm_secret_redactor_new(mm_secret_redactor **out, const mm_secret_rules *rules);
void mm_secret_redactor_free(mm_secret_redactor *rd);
/* A copy of text with every secret the rules find in it masked; when the
 * matcher fails the whole text is masked rather than leaked.  Caller
 * frees; NULL in, NULL out. */
char *mm_secret_redact(mm_secret_redactor *rd, const char *text);

#ifdef __cplusplus
}
#endif
#endif
