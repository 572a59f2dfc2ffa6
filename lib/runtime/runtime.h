/*
 * runtime.h - what the files of the runtime rule engine share (private):
 * the field registry and extraction (fields.c), the condition parser and
 * compiled evaluation trees (cond.c), and small helpers of the event model
 * (event.c).  Rules and macros are parsed into an AST first (macros and
 * lists still by name), then compiled against the ruleset's definitions.
 */
#ifndef MM_RUNTIME_H
#define MM_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/event.h"
#include "mamori/rules.h"
#include "util/util.h"

/* ---- event.c helpers ------------------------------------------------------ */
char *mm_rt_path_resolve(const char *base, const char *path);
void mm_rt_ip_str(const mm_ipaddr *a, char *out, size_t n);

/* ---- field registry (fields.c) -------------------------------------------- */

enum rt_ftype { FT_STR = 0, FT_NUM, FT_BOOL, FT_IP, FT_NET };

enum rt_argmode {
    ARG_NONE = 0,     /* no [arg] */
    ARG_INDEX,        /* [N] required (proc.aname[2]); optional when ARG_OPTIDX */
    ARG_OPTIDX,       /* [N] optional: without it, the field is multi-valued */
    ARG_KEY,          /* [string] required (container.mount.dest[/etc]) */
    ARG_OPTKEY,       /* [string] optional */
};

typedef struct rt_fdef {
    const char *name;
    uint16_t id;
    uint8_t type;     /* rt_ftype */
    uint8_t argmode;  /* rt_argmode */
    uint8_t list;     /* a list (ka.req.pod.containers.image): `in` needs
                         every value in the set, outputs print "(a,b)" */
} rt_fdef;

/* Field ids from here on are the k8s_audit fields of audit.c. */
#define RT_FID_AUDIT 1000

/* transformers applied to a field (tolower(proc.name)) */
enum rt_xform { XF_NONE = 0, XF_TOLOWER, XF_TOUPPER, XF_B64, XF_BASENAME, XF_LEN };

/* A resolved field reference: the field, its argument, a cache slot. */
typedef struct rt_fref {
    const rt_fdef *def;
    int32_t idx;          /* ARG_INDEX argument, -1 = none */
    char *key;            /* ARG_KEY argument or evt.arg.NAME name */
    uint16_t argid;       /* evt.arg.NAME resolved */
    uint8_t xform;        /* rt_xform (applied on top) */
    uint8_t type;         /* type after the transformer */
    char *text;           /* "proc.aname[2]" as written (outputs) */
} rt_fref;

/* One extracted value.  Strings are NUL-terminated and live in the event
 * (borrowed) or in the evaluation arena. */
#define RT_LEN_UNKNOWN SIZE_MAX   /* rt_val.len not measured yet (NUL-terminated) */

typedef struct rt_val {
    const char *s;
    size_t len;           /* RT_LEN_UNKNOWN until an operator needs it */
    int64_t n;
    mm_ipaddr ip;
} rt_val;

#define RT_MAXV 32     /* values of a multi-valued field (ancestors ...) */

/* Per-event evaluation state: the event, a bump arena for computed
 * strings, and the hostname. */
typedef struct rt_ctx {
    const mm_event *ev;
    mm_buf arena;          /* reset per event; strings referenced by offset */
    char **blocks;         /* overflow blocks (freed per event) */
    size_t nblocks, cblocks;
    const char *hostname;
} rt_ctx;

/* Looks up "proc.aname" / "evt.arg.flags" ...; NULL when unknown. */
const rt_fdef *rt_field_find(const char *name, size_t len, const char **argname);
/* Fills f from "name[arg]" text; returns 0, or -1 with *why set (static or
 * allocated into why_buf) when the field or its argument is unsupported. */
int rt_fref_init(rt_fref *f, const char *text, char *why, size_t whylen);
void rt_fref_clear(rt_fref *f);
/* Extracts the values of f for ctx->ev into v[RT_MAXV]; returns how many
 * (0 = the field has no value for this event). */
int rt_extract(rt_ctx *c, const rt_fref *f, rt_val *v);
/* Renders the first value as text for outputs (NULL = missing); numeric
 * set when the JSON value should be a number. */
const char *rt_render(rt_ctx *c, const rt_fref *f, bool *numeric);
void rt_ctx_reset(rt_ctx *c, const mm_event *ev);
/* audit.c: the ka.* / jevt.* fields (NULL when name is not one), and their
 * values for an MM_EVT_K8S_AUDIT event. */
const rt_fdef *rt_audit_field_find(const char *name, size_t len);
int rt_audit_extract(rt_ctx *c, const rt_fref *f, rt_val *v);
void rt_ctx_free(rt_ctx *c);
char *rt_ctx_strdup(rt_ctx *c, const char *s, size_t n);

/* Flag tables shared by rendering (fields.c) and replay parsing. */
typedef struct rt_flagname { uint64_t v; const char *name; } rt_flagname;
enum rt_flagset { FS_OPEN, FS_EXE, FS_CLONE, FS_MOUNT, FS_MEMFD, FS_AF,
                  FS_PTRACE, FS_MODE, FS_SOCKTYPE, FS_DUP3, FS__COUNT };
/* Which flag table evt.arg.flags / mode / ... uses for this event type. */
int rt_flagset_for(mm_evt_type t, const char *argname);
/* Parses "O_WRONLY|O_CREAT" (or a number) into raw flags; false if a name
 * is unknown. */
bool rt_flags_parse(int set, const char *s, uint64_t *out);
const char *rt_cap_name(int bit);
int rt_cap_from_name(const char *name);

/* ---- conditions (cond.c) --------------------------------------------------- */

typedef struct rt_ast rt_ast;     /* parsed condition (macros by name) */

/* Parses a condition.  On a syntax error returns NULL and writes a message
 * with the column into err. */
rt_ast *rt_ast_parse(const char *text, char *err, size_t errlen);
void rt_ast_free(rt_ast *a);

/* Definitions a compile resolves names against. */
typedef struct rt_defs {
    /* macro name -> parsed AST (NULL when the macro failed to parse) */
    rt_ast *(*macro)(void *ud, const char *name, bool *found);
    /* list name -> items (NULL when not a list); n set */
    char **(*list)(void *ud, const char *name, size_t *n);
    /* told of each evt.type name the event model does not have (optional) */
    void (*unknown_evttype)(void *ud, const char *name);
    void *ud;
} rt_defs;

typedef struct rt_node rt_node;   /* compiled condition */

/* Compiles an AST.  Returns NULL with *why set (the missing field, operator,
 * macro, or bad value) when the rule cannot be evaluated by this engine. */
rt_node *rt_compile(const rt_ast *a, const rt_defs *defs, char *why,
                    size_t whylen);
void rt_node_free(rt_node *n);
/* The event types the condition can match, as a bitmap of MM_EVT__COUNT
 * bits; all set when unrestricted. */
#define RT_TYPEWORDS ((MM_EVT__COUNT + 63) / 64)
void rt_node_types(const rt_node *n, uint64_t out[RT_TYPEWORDS]);
bool rt_eval(const rt_node *n, rt_ctx *c);
/* The first field in a part of the condition that can matter for events of
 * the types in prod which ok() refuses (NULL when every one is fine). */
const rt_fref *rt_node_first_unfillable(const rt_node *n, const uint64_t prod[RT_TYPEWORDS],
                                        bool (*ok)(void *ud, const rt_fref *f), void *ud);

/* replay_kinds.c: false, with why ("\"proc.pid\": expected an integer ...,
 * got the string \"x\""), when a known key of the event object o has the
 * wrong JSON type. */
struct json_t;
bool rt_replay_kinds_ok(struct json_t *o, char *why, size_t len);

#endif
