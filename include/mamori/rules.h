/*
 * mamori/rules.h - the Falco-compatible runtime rule engine, its alert
 * outputs and the JSON-lines replay source.
 *
 * A ruleset loads Falco rule files (rules, macros, lists, append/override,
 * exceptions, enabled, tags, priorities, output templates), then
 * mm_ruleset_compile() resolves macros and lists, compiles every condition
 * into an evaluation tree and indexes rules by the event types they can
 * match.  A rule that needs a field or operator this engine lacks is
 * disabled with a warning naming it - never silently dropped.
 * mm_ruleset_eval() runs the enabled rules for one mm_event and hands each
 * match to a callback as an mm_alert (Falco's JSON alert shape).
 */
#ifndef MAMORI_RULES_H
#define MAMORI_RULES_H

#include "mamori/common.h"
#include "mamori/event.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Falco priorities, most severe first (as Falco orders them). */
typedef enum mm_rule_priority {
    MM_PRI_EMERGENCY = 0, MM_PRI_ALERT, MM_PRI_CRITICAL, MM_PRI_ERROR,
    MM_PRI_WARNING, MM_PRI_NOTICE, MM_PRI_INFORMATIONAL, MM_PRI_DEBUG,
} mm_rule_priority;

const char *mm_rule_priority_name(mm_rule_priority p); /* "Warning" (Falco's) */
/* Case-insensitive; "INFO" is accepted for INFORMATIONAL. */
int mm_rule_priority_parse(mm_rule_priority *out, const char *s);

/* The response a rule asks for (mamori extension key `action:`). */
typedef enum mm_rule_action {
    MM_ACTION_NONE = 0,
    MM_ACTION_KILL,        /* kill the offending process (SIGKILL) */
    MM_ACTION_ISOLATE_NODE,/* cordon and taint the node (mamori k8s isolate) */
} mm_rule_action;

typedef struct mm_ruleset mm_ruleset;

/* What the loader knows about one rule (after append/override). */
typedef struct mm_rule_info {
    const char *name, *desc, *condition, *output, *source;
    mm_rule_priority priority;
    const char *const *tags;
    size_t ntags;
    bool enabled;          /* as the files say (enabled: false -> false) */
    bool disabled;         /* the engine could not compile it (see reason) */
    const char *disabled_reason; /* names the missing field/operator */
    bool skipped;          /* another source (k8s_audit, plugins) */
    bool unsupported_source; /* disabled: the event source set with
                                mm_ruleset_set_source() cannot serve it
                                (disabled is true; disabled_reason says
                                which event or field) */
    mm_rule_action action;
    const char *file;      /* where it was defined */
    int line;
} mm_rule_info;

typedef struct mm_ruleset_stats {
    size_t rules, macros, lists;
    size_t enabled;        /* compiled and enabled: will be evaluated */
    size_t disabled_by_file; /* enabled: false */
    size_t disabled_unsupported; /* field/operator the engine lacks */
    size_t disabled_source; /* the source cannot fill what it needs */
    size_t skipped_source; /* other sources (k8s_audit, plugin sources) */
} mm_ruleset_stats;

int mm_ruleset_new(mm_ruleset **out);
void mm_ruleset_free(mm_ruleset *rs);

/* Loads one rule file; may be called for several files (later files append
 * to or override earlier ones, as in Falco).  Structural errors (YAML syntax,
 * a rule without condition, append to an unknown rule, bad priority...)
 * fail with MM_EFORMAT and a message "FILE:LINE: rule 'NAME': why". */
int mm_ruleset_load_file(mm_ruleset *rs, const char *path);
int mm_ruleset_load_string(mm_ruleset *rs, const char *name,
                           const char *yaml, size_t len);
/* Resolves and compiles everything loaded so far.  One policy: a rule that
 * cannot be compiled (a condition syntax error, a condition nested too
 * deeply, an unknown field, operator or macro, a macro that refers to
 * itself or does not parse, a bad output field, no event type mamori
 * produces) is disabled with a warning naming the file, line, rule and
 * reason; a macro whose condition does not parse is ignored with a warning
 * and the rules that use it are disabled.  With strict set (below), each
 * of those is a load failure instead: MM_EFORMAT (MM_EUNSUPPORTED for a
 * rule the source cannot serve) naming the first, "(strict)", and how many
 * more.  Errors in the YAML itself (structure, unknown priority, a bad
 * exception) always fail the load.  May be called again after more files
 * are loaded. */
int mm_ruleset_compile(mm_ruleset *rs);

/* Strict loading: every rule that cannot compile fails the compile (see
 * above).  Takes effect at the next mm_ruleset_compile(). */
void mm_ruleset_set_strict(mm_ruleset *rs, bool strict);

/* What a live event source can serve.  A rule whose condition needs an
 * event type the source never produces, or a field it cannot fill on the
 * events the rule can match, would load and never fire (or fire wrongly):
 * with the source's capabilities set, mm_ruleset_compile() disables it with
 * a warning naming the rule and the event or field ("unsupported in this
 * mode"), or, when strict, fails with MM_EUNSUPPORTED naming the first.
 * Without it (the default, e.g. replayed captures) every field counts as
 * filled.  mamori/sensor.h gives each source's capabilities. */
typedef struct mm_source_field {
    /* "proc.env", "evt.arg.flags"; a trailing '*' matches a prefix
     * ("evt.arg.*"); a leading '!' marks a field the source does fill,
     * checked in order before a later wildcard ("!evt.arg.name") */
    const char *field;
    const char *why;       /* why the source cannot fill it */
} mm_source_field;

typedef struct mm_source_caps {
    const char *name;      /* "bpf", "fallback": used in messages */
    uint64_t types[(MM_EVT__COUNT + 63) / 64]; /* event types it produces */
    const char *types_why; /* why the other types are not produced */
    const mm_source_field *missing;
    size_t nmissing;
} mm_source_caps;

/* Sets (or with NULL clears) the source the rules will run on; caps is
 * copied, the strings it points to must stay valid while rs is used (the
 * sensors' are static).  Takes effect at the next mm_ruleset_compile(). */
void mm_ruleset_set_source(mm_ruleset *rs, const mm_source_caps *caps, bool strict);

/* Enables/disables rules by name, or by tag when tag is true. */
int mm_ruleset_enable(mm_ruleset *rs, const char *name_or_tag, bool tag,
                      bool enabled);
/* Only rules at this priority or more severe are evaluated (default DEBUG). */
void mm_ruleset_set_min_priority(mm_ruleset *rs, mm_rule_priority p);

void mm_ruleset_stats_get(const mm_ruleset *rs, mm_ruleset_stats *out);
size_t mm_ruleset_rule_count(const mm_ruleset *rs);
const mm_rule_info *mm_ruleset_rule(const mm_ruleset *rs, size_t i);
size_t mm_ruleset_warning_count(const mm_ruleset *rs);
const char *mm_ruleset_warning(const mm_ruleset *rs, size_t i);

/* ---- alerts ---------------------------------------------------------------- */

typedef struct mm_alert_field {
    const char *name;      /* "proc.aname[2]" as written in the template */
    const char *value;     /* NULL when the event has no value */
    bool numeric;          /* value is a JSON number */
} mm_alert_field;

/* One match; everything is borrowed and valid during the callback only. */
typedef struct mm_alert {
    int64_t ts;            /* event time, ns since the epoch */
    const char *rule;
    mm_rule_priority priority;
    const char *output;    /* the formatted template */
    const mm_alert_field *fields;
    size_t nfields;
    const char *const *tags;
    size_t ntags;
    const char *source;    /* "syscall" */
    const char *hostname;
    mm_rule_action action;
    const mm_event *event;
} mm_alert;

typedef void (*mm_alert_fn)(void *ud, const mm_alert *a);

/* Evaluates every enabled rule that can match ev->type; calls fn for each
 * match.  Returns the number of matches.  Not thread-safe per ruleset
 * (per-event scratch lives in it): use one ruleset per thread. */
int mm_ruleset_eval(mm_ruleset *rs, const mm_event *ev, mm_alert_fn fn,
                    void *ud);

/* Falco's JSON alert line (no trailing newline).  Caller frees. */
char *mm_alert_json(const mm_alert *a);

/* Where alerts go: "stdout", "stderr", "file:PATH" (appends), "syslog",
 * "http://HOST:PORT/PATH" or "https://..." (one JSON POST per alert). */
typedef struct mm_alert_sink mm_alert_sink;
int mm_alert_sink_open(mm_alert_sink **out, const char *spec);
int mm_alert_sink_write(mm_alert_sink *s, const mm_alert *a);
void mm_alert_sink_free(mm_alert_sink *s);

/* ---- replay source ----------------------------------------------------------- */

/* JSON lines, one event per line, keyed by Falco field names (docs/rules.md
 * gives the format).  The reader keeps a process table so that events that
 * only carry proc.pid/proc.ppid still see their ancestors.  Plain text or
 * zstd, told by the magic number (mamori/capture.h reads rotated sets). */
typedef struct mm_replay mm_replay;

int mm_replay_open(mm_replay **out, const char *path); /* "-" = stdin */
/* Parses one line into an event owned by r, valid until the next call.
 * 1 = an event, 0 = end, <0 = error naming the line. Blank lines and lines
 * starting with '#' are skipped. */
int mm_replay_next(mm_replay *r, const mm_event **ev);
/* Parses a JSON text (one event) without a file; for tests and fuzzing. */
int mm_replay_new_mem(mm_replay **out);
int mm_replay_parse(mm_replay *r, const char *line, size_t len,
                    const mm_event **ev);
size_t mm_replay_lineno(const mm_replay *r);
void mm_replay_free(mm_replay *r);

/* The capture line for an event (the replay format); caller frees.
 * Includes the process, its container and up to 8 ancestors. */
char *mm_event_to_json(const mm_event *ev);

/* Parts of a line mm_event_to_json_flags may leave out, for a writer that
 * knows the reader already holds them for this proc.pid (the replay reader
 * keeps each pid's last description and ancestor chain in its process
 * table; docs/capture.md says when that is exact). */
enum {
    MM_EVJ_NO_PROC = 1u << 0,      /* proc.name ... thread.cap_* (ids, the
                                      container and the event stay) */
    MM_EVJ_NO_ANCESTORS = 1u << 1, /* "proc.ancestors" */
};
/* mm_event_to_json with parts left out (flags 0 = the same line). */
char *mm_event_to_json_flags(const mm_event *ev, unsigned flags);

/* SHA-256 of what each omittable part of the event's line would hold, so a
 * writer can tell whether it is what it wrote last for this pid.  All zero
 * when the event has no process. */
typedef struct mm_event_json_digest {
    uint8_t proc[32];      /* MM_EVJ_NO_PROC's part */
    uint8_t anc[32];       /* MM_EVJ_NO_ANCESTORS's part */
} mm_event_json_digest;
void mm_event_json_digest_compute(mm_event_json_digest *out, const mm_event *ev);

#ifdef __cplusplus
}
#endif
#endif
