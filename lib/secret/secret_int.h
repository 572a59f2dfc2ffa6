/*
 * secret/secret_int.h - the pieces of the secret scanner: the rule set
 * (rules.c: YAML loading, merging of user files, compilation into one
 * Vectorscan keyword database plus one PCRE2 JIT program per rule) and
 * the streaming matcher (engine.c: bounded windows with a carry-over, a
 * keyword prefilter, confirmation around each keyword hit).  analyzer.c
 * ties them to the single pass over the layers and the image config.
 */
#ifndef MM_SECRET_INT_H
#define MM_SECRET_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "mamori/secret.h"
#include "mamori/finding.h"

/* Caps on rule files (they are user input too). */
#define MM_SR_MAX_FILE      (8u << 20)  /* bytes in one rule file */
#define MM_SR_MAX_RULES     10000
#define MM_SR_MAX_KEYWORDS  64          /* per rule */
#define MM_SR_MAX_REGEX     8192        /* bytes in one regex */
#define MM_SR_MAX_SPAN      (32u << 10) /* how far a multi-line rule reaches */

typedef struct mm_sr_allow {
    char *id, *description;
    char *regex_src, *path_src;
    pcre2_code *regex;      /* tested on the secret */
    pcre2_code *path;       /* tested on the path (no leading "/") */
    char *source;           /* rule file name */
    size_t line;
} mm_sr_allow;

typedef struct mm_sr_rule {
    char *id, *title, *category, *description;
    mm_severity severity;
    char **keywords;        /* lower case */
    size_t nkeywords;
    char *regex_src;
    pcre2_code *regex;
    char *group_name;       /* secret-group-name; else "secret" if present */
    int group;              /* capture number of the secret, 0 = whole match */
    double entropy;         /* minimum Shannon entropy of the secret, 0 = none */
    uint32_t span;          /* bytes a match may reach past its keyword's line */
    mm_sr_allow *allow;
    size_t nallow;
    char **tp, **fp;        /* examples: true / false positives */
    size_t ntp, nfp;
    char *source;           /* rule file name */
    size_t line;
    bool disabled;
    bool builtin;
    bool generic;           /* category "Generic": yields to specific rules */
} mm_sr_rule;

typedef struct mm_sr_set mm_sr_set;

typedef void (*mm_sr_warn_fn)(void *ud, const char *msg);

mm_sr_set *mm_sr_set_new(void);
void mm_sr_set_free(mm_sr_set *s);
/* Parses one rule document and merges it into s: new ids are added,
 * existing ids replaced, disable-rules / disable-allow-rules /
 * enable-builtin-rules applied.  name is used in messages.  Warnings (an
 * id to disable that does not exist) go to warn. */
int mm_sr_set_load(mm_sr_set *s, const char *name, const char *text, size_t len,
                   bool builtin, mm_sr_warn_fn warn, void *ud);
int mm_sr_set_load_file(mm_sr_set *s, const char *path, mm_sr_warn_fn warn, void *ud);
/* The built-in rules (data/secret-rules.yaml, embedded). */
int mm_sr_set_load_builtin(mm_sr_set *s);
/* Compiles every enabled rule; after this the set is read-only. */
int mm_sr_set_compile(mm_sr_set *s);
/* A set built from o: built-in rules, then o's files, compiled. */
int mm_sr_set_from_opts(mm_sr_set **out, const mm_secret_opts *o,
                        mm_sr_warn_fn warn, void *ud);

/* The compiled set behind the public rules object. */
const mm_sr_set *mm_sr_rules_set(const mm_secret_rules *r);

size_t mm_sr_set_count(const mm_sr_set *s);
const mm_sr_rule *mm_sr_set_rule(const mm_sr_set *s, size_t i);
const mm_sr_rule *mm_sr_set_find(const mm_sr_set *s, const char *id);
size_t mm_sr_set_allow_count(const mm_sr_set *s);
const mm_sr_allow *mm_sr_set_allow(const mm_sr_set *s, size_t i);
/* Internals the matcher uses. */
const void *mm_sr_set_hsdb(const mm_sr_set *s);
/* Rules triggered by keyword k (the Vectorscan pattern id). */
void mm_sr_set_keyword(const mm_sr_set *s, unsigned k, const uint32_t **rules,
                       size_t *nrules, size_t *kwlen);
/* Rules without keywords: run on every window. */
void mm_sr_set_nokw(const mm_sr_set *s, const uint32_t **rules, size_t *n);

/* Shannon entropy in bits per byte. */
double mm_sr_entropy(const char *s, size_t n);

/* --- the matcher ------------------------------------------------------------ */
typedef struct mm_sr_match {
    const mm_sr_rule *rule;
    size_t line;            /* 1-based line of the match start */
    const char *secret;     /* not NUL-terminated */
    size_t secret_len;
    uint64_t offset;        /* of the secret in the file */
} mm_sr_match;

/* Return non-zero to stop the file. */
typedef int (*mm_sr_match_fn)(void *ud, const mm_sr_match *m);

typedef struct mm_sr_scanner mm_sr_scanner;

int mm_sr_scanner_new(mm_sr_scanner **out, const mm_sr_set *s);
void mm_sr_scanner_free(mm_sr_scanner *sc);
/* Starts a file: path (no leading "/") is what path allow rules test. */
void mm_sr_scanner_begin(mm_sr_scanner *sc, const char *path, bool scan_binaries,
                         mm_sr_match_fn fn, void *ud);
/* Feeds bytes; 1 when the file needs no more (binary, stopped), else 0
 * or MM_E*. */
int mm_sr_scanner_feed(mm_sr_scanner *sc, const uint8_t *d, size_t n);
/* Ends the file (scans what is left). */
int mm_sr_scanner_end(mm_sr_scanner *sc);
/* Whether the file was skipped as binary. */
bool mm_sr_scanner_was_binary(const mm_sr_scanner *sc);
/* Convenience: one whole buffer as a file. */
int mm_sr_scan_buffer(mm_sr_scanner *sc, const char *path, const void *d, size_t n,
                      bool scan_binaries, mm_sr_match_fn fn, void *ud);

/* A copy of text with the secrets sc's rules find masked (the scanner
 * must be between files). */
char *mm_sr_redact(mm_sr_scanner *sc, const char *text);

/* The built-in rule text (generated from data/secret-rules.yaml). */
extern const char mm_sr_builtin_yaml[];
extern const size_t mm_sr_builtin_yaml_len;


#endif
