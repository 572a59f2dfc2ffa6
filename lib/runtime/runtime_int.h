/*
 * runtime_int.h - what the files of the runtime area share (private): the
 * field registry and extraction (fields.c, fields_extract.c), the condition
 * parser and compiled evaluation trees (cond_parse.c, cond.c), and small
 * helpers of the event model (event.c).  Rules and macros are parsed into
 * an AST first (macros and lists still by name), then compiled against the
 * ruleset's definitions.
 *
 * The area's files by concern: the event model (event.c); the rule engine
 * (fields*.c, cond*.c, rules*.c, audit.c for the k8s_audit fields); event
 * sources (replay*.c, capture.c, auditlog.c); alert outputs (alert.c);
 * behaviour profiles (profile*.c).  Each concern with more than one file
 * has its own private header (fields_int.h, cond_int.h, rules_int.h,
 * profile_int.h).
 */
#ifndef MM_RUNTIME_INT_H
#define MM_RUNTIME_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/event.h"
#include "mamori/rules.h"
#include "util/util.h"

/* ---- event.c helpers ------------------------------------------------------ */
char *mm_event_path_resolve(const char *base, const char *path);
void mm_event_ip_str(const mm_ipaddr *a, char *out, size_t n);

/* ---- field registry (fields.c) -------------------------------------------- */

enum mm_ftype { FT_STR = 0, FT_NUM, FT_BOOL, FT_IP, FT_NET };

enum mm_argmode {
    ARG_NONE = 0,     /* no [arg] */
    ARG_INDEX,        /* [N] required (proc.aname[2]); optional when ARG_OPTIDX */
    ARG_OPTIDX,       /* [N] optional: without it, the field is multi-valued */
    ARG_KEY,          /* [string] required (container.mount.dest[/etc]) */
    ARG_OPTKEY,       /* [string] optional */
};

typedef struct mm_fdef {
    const char *name;
    uint16_t id;
    uint8_t type;     /* mm_ftype */
    uint8_t argmode;  /* mm_argmode */
    uint8_t list;     /* a list (ka.req.pod.containers.image): `in` needs
                         every value in the set, outputs print "(a,b)" */
} mm_fdef;

/* Field ids from here on are the k8s_audit fields of audit.c. */
#define MM_FID_AUDIT 1000

/* transformers applied to a field (tolower(proc.name)) */
enum mm_xform { XF_NONE = 0, XF_TOLOWER, XF_TOUPPER, XF_B64, XF_BASENAME, XF_LEN };

/* A resolved field reference: the field, its argument, a cache slot. */
typedef struct mm_fref {
    const mm_fdef *def;
    int32_t idx;          /* ARG_INDEX argument, -1 = none */
    char *key;            /* ARG_KEY argument or evt.arg.NAME name */
    uint16_t argid;       /* evt.arg.NAME resolved */
    uint8_t xform;        /* mm_xform (applied on top) */
    uint8_t type;         /* type after the transformer */
    char *text;           /* "proc.aname[2]" as written (outputs) */
} mm_fref;

/* One extracted value.  Strings are NUL-terminated and live in the event
 * (borrowed) or in the evaluation arena. */
#define MM_LEN_UNKNOWN SIZE_MAX   /* mm_fval.len not measured yet (NUL-terminated) */

typedef struct mm_fval {
    const char *s;
    size_t len;           /* MM_LEN_UNKNOWN until an operator needs it */
    int64_t n;
    mm_ipaddr ip;
} mm_fval;

#define MM_FIELD_MAXV 32     /* values of a multi-valued field (ancestors ...) */

/* Per-event evaluation state: the event, a bump arena for computed
 * strings, and the hostname. */
typedef struct mm_evalctx {
    const mm_event *ev;
    mm_buf arena;          /* reset per event; strings referenced by offset */
    char **blocks;         /* overflow blocks (freed per event) */
    size_t nblocks, cblocks;
    const char *hostname;
} mm_evalctx;

/* Looks up "proc.aname" / "evt.arg.flags" ...; NULL when unknown. */
const mm_fdef *mm_field_find(const char *name, size_t len, const char **argname);
/* Fills f from "name[arg]" text; returns 0, or a negative MM_E* code with
 * the mm_error message when the field or its argument is unsupported.  f is
 * to be cleared with mm_fref_clear() either way. */
int mm_fref_init(mm_fref *f, const char *text);
void mm_fref_clear(mm_fref *f);
/* Extracts the values of f for ctx->ev into v[MM_FIELD_MAXV]; returns how many
 * (0 = the field has no value for this event). */
int mm_field_extract(mm_evalctx *c, const mm_fref *f, mm_fval *v);
/* Renders the first value as text for outputs (NULL = missing); numeric
 * set when the JSON value should be a number. */
const char *mm_field_render(mm_evalctx *c, const mm_fref *f, bool *numeric);
void mm_evalctx_reset(mm_evalctx *c, const mm_event *ev);
/* audit.c: the ka.* / jevt.* fields (NULL when name is not one), and their
 * values for an MM_EVT_K8S_AUDIT event. */
const mm_fdef *mm_audit_field_find(const char *name, size_t len);
int mm_audit_extract(mm_evalctx *c, const mm_fref *f, mm_fval *v);
void mm_evalctx_free(mm_evalctx *c);
char *mm_evalctx_strdup(mm_evalctx *c, const char *s, size_t n);
/* n bytes (or a formatted string) in the per-event arena of c */
char *mm_evalctx_alloc(mm_evalctx *c, size_t n);
char *mm_evalctx_printf(mm_evalctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Flag tables shared by rendering (fields.c) and replay parsing. */
typedef struct mm_flagname { uint64_t v; const char *name; } mm_flagname;
enum mm_flagset { FS_OPEN, FS_EXE, FS_CLONE, FS_MOUNT, FS_MEMFD, FS_AF,
                  FS_PTRACE, FS_MODE, FS_SOCKTYPE, FS_DUP3, FS__COUNT };
/* Which flag table evt.arg.flags / mode / ... uses for this event type. */
int mm_flagset_for(mm_evt_type t, const char *argname);
/* Parses "O_WRONLY|O_CREAT" (or a number) into raw flags; false if a name
 * is unknown. */
bool mm_flags_parse(int set, const char *s, uint64_t *out);
const char *mm_cap_name(int bit);
int mm_cap_from_name(const char *name);

/* ---- conditions (cond.c) --------------------------------------------------- */

typedef struct mm_cond_ast mm_cond_ast;     /* parsed condition (macros by name) */

/* Parses a condition into *out.  On a syntax error returns MM_EFORMAT (*out
 * NULL) with an mm_error message naming the column. */
int mm_cond_parse(mm_cond_ast **out, const char *text);
void mm_cond_ast_free(mm_cond_ast *a);

/* Definitions a compile resolves names against. */
typedef struct mm_cond_defs {
    /* macro name -> parsed AST (NULL when the macro failed to parse) */
    mm_cond_ast *(*macro)(void *ud, const char *name, bool *found);
    /* list name -> items (NULL when not a list); n set */
    char **(*list)(void *ud, const char *name, size_t *n);
    /* told of each evt.type name the event model does not have (optional) */
    void (*unknown_evttype)(void *ud, const char *name);
    void *ud;
} mm_cond_defs;

typedef struct mm_cond mm_cond;   /* compiled condition */

/* Compiles an AST into *out.  Returns a negative MM_E* code (*out NULL) with
 * an mm_error message (the missing field, operator, macro, or bad value) when
 * the rule cannot be evaluated by this engine. */
int mm_cond_compile(mm_cond **out, const mm_cond_ast *a, const mm_cond_defs *defs);
void mm_cond_free(mm_cond *n);
/* The event types the condition can match, as a bitmap of MM_EVT__COUNT
 * bits; all set when unrestricted. */
#define MM_COND_TYPEWORDS ((MM_EVT__COUNT + 63) / 64)
void mm_cond_types(const mm_cond *n, uint64_t out[MM_COND_TYPEWORDS]);
bool mm_cond_eval(const mm_cond *n, mm_evalctx *c);
/* The first field in a part of the condition that can matter for events of
 * the types in prod which ok() refuses (NULL when every one is fine). */
const mm_fref *mm_cond_first_unfillable(const mm_cond *n, const uint64_t prod[MM_COND_TYPEWORDS],
                                        bool (*ok)(void *ud, const mm_fref *f), void *ud);

/* replay_kinds.c: MM_EFORMAT, with an mm_error message ("\"proc.pid\":
 * expected an integer ..., got the string \"x\""), when a known key of the
 * event object o has the wrong JSON type; 0 otherwise. */
struct json_t;
int mm_replay_kinds_check(struct json_t *o);

#endif
