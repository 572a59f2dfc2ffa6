/*
 * rules_int.h - what the two files of Falco rule files share (private): the
 * ruleset's definitions (lists, macros, rules with their exceptions) as
 * rules_load.c collects them from YAML and rules.c compiles and runs them.
 */
#ifndef MM_RULES_INT_H
#define MM_RULES_INT_H

#include "runtime/runtime_int.h"

#define MAX_RULE_FILE (64u << 20)
#define MAX_ITEMS 100000

typedef struct dlist {
    char *name;
    char **items;
    size_t n;
} dlist;

typedef struct dmacro {
    char *name, *cond, *file;
    int line;
    mm_cond_ast *ast;
    bool parsed, bad;
    char *err;
} dmacro;

typedef struct dexc {
    char *name;
    char **fields;
    size_t nfields;
    bool multi;           /* fields given as a list */
    char **comps;
    size_t ncomps;
    /* values: tuples (multi) or single values; each value is a string or
     * a list of strings (for in/pmatch/intersects) */
    char ***vals;         /* vals[t][f]: text already formatted for the condition */
    size_t nvals;
} dexc;

typedef struct seg {
    char *lit;            /* literal text, or NULL */
    mm_fref f;            /* when lit is NULL */
} seg;

typedef struct drule {
    mm_rule_info info;    /* pointers into the fields below */
    char *name, *desc, *cond, *output, *source, *file, *reason;
    char **tags;
    size_t ntags;
    dexc *exc;
    size_t nexc;
    int cond_line;
    bool skip_unknown;
    /* compiled */
    mm_cond *node;
    seg *segs;
    size_t nsegs;
    mm_fref **ofields;    /* distinct fields of the output, in order */
    size_t nofields;
    bool runnable;
} drule;

struct mm_ruleset {
    dlist *lists;
    size_t nlists;
    dmacro *macros;
    size_t nmacros;
    drule *rules;
    size_t nrules;
    mm_map *list_ix, *macro_ix, *rule_ix;   /* name -> index + 1 */
    char **warnings;
    size_t nwarnings;
    mm_rule_priority min_pri;
    /* compiled index: event type -> rule indexes */
    uint32_t *bucket[MM_EVT__COUNT];
    uint32_t nbucket[MM_EVT__COUNT];
    bool compiled;
    mm_evalctx ctx;
    char hostname[256];
    mm_alert_field *afields;
    size_t cafields;
    mm_buf obuf;
    mm_buf unknown_types;  /* evt.type names of the rule being compiled */
    const mm_source_caps *caps; /* the live source's capabilities, or NULL */
    mm_source_caps caps_buf;
    bool strict;           /* a rule the source cannot serve fails the compile */
};

/* rules.c */
/* Keeps a load or compile warning (at most 10,000). */
void mm_ruleset_warn(mm_ruleset *rs, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void mm_ruleset_exc_free(dexc *e);
void mm_ruleset_rule_free(drule *r);
/* rules_load.c */
/* Points r->info at the rule's current fields. */
void mm_ruleset_rule_sync(drule *r);
/* The condition text exceptions add: "" when none has values. */
char *mm_ruleset_exc_text(const drule *r);

#endif
