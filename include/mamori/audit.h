/*
 * mamori/audit.h - Kubernetes audit events for the runtime rule engine
 * (SP 800-190 §3.3.1: alerts on forbidden and risky orchestrator actions).
 *
 * An audit event (audit.k8s.io Event, as the API server's log backend writes
 * one per line, or the items of an EventList as its webhook backend POSTs
 * them) becomes an mm_event of type MM_EVT_K8S_AUDIT that rules of
 * `source: k8s_audit` match with Falco's k8s-audit fields (`ka.*`,
 * `jevt.value[/json/pointer]`, `jevt.rawtime` ...; docs/k8s-audit.md lists
 * them).  The log reader reads files of JSON lines, in order, and can follow
 * the last one as the API server writes and rotates it.  Input is untrusted:
 * a line is at most 4 MiB, an EventList at most 100000 items, nesting at most
 * 64 levels; a bad line is an error naming file and line, and the reader
 * goes on with the next one.
 */
#ifndef MAMORI_AUDIT_H
#define MAMORI_AUDIT_H

#include "mamori/common.h"
#include "mamori/event.h"
#include "mamori/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_audit_event mm_audit_event;

/* One JSON text: an Event or an EventList.  Each audit event becomes an
 * mm_event (type MM_EVT_K8S_AUDIT, ts from stageTimestamp or timestamp). */
typedef struct mm_audit_batch mm_audit_batch;

#define MM_AUDIT_MAX_TEXT (4u << 20)
#define MM_AUDIT_MAX_ITEMS 100000u

/* MM_EFORMAT when the text is not JSON or not an audit event ("data not
 * recognized as a k8s audit event", as Falco says). */
int mm_audit_batch_parse(mm_audit_batch **out, const char *text, size_t len);
size_t mm_audit_batch_count(const mm_audit_batch *b);
const mm_event *mm_audit_batch_event(const mm_audit_batch *b, size_t i);
void mm_audit_batch_free(mm_audit_batch *b);

/* Fields of the audit event an alert or a caller wants (NULL when absent):
 * the audit id, verb, user, and the object's resource/namespace/name. */
const char *mm_audit_event_str(const mm_audit_event *e, const char *json_pointer);

/* The node an audit event is about, for the isolate-node action: the
 * object when it is a Node, the pod's spec.nodeName (request, then
 * response), or the kubelet's own user (system:node:NAME); NULL if none. */
const char *mm_audit_event_node(const mm_audit_event *e);

/* ---- log files ------------------------------------------------------------- */

typedef struct mm_audit_log_opts {
    bool follow;             /* at the end of the last file, wait for more and
                                reopen the path when it is rotated (renamed
                                or truncated) */
    int poll_ms;             /* follow: how often to look (default 200) */
    int idle_exit_ms;        /* follow: end after this long with no new line
                                (0 = never) */
    volatile const int *stop;/* follow: ends when *stop becomes non-zero */
} mm_audit_log_opts;

typedef struct mm_audit_log mm_audit_log;

/* Opens the files in order ("-" = standard input). */
int mm_audit_log_open(mm_audit_log **out, const char *const *paths, size_t n,
                      const mm_audit_log_opts *opts);
/* The next audit event: 1 = one (valid until the next call), 0 = the end,
 * <0 = a bad line (the message names file and line; call again to go on)
 * or a read error. */
int mm_audit_log_next(mm_audit_log *l, const mm_event **ev);
const char *mm_audit_log_file(const mm_audit_log *l);
size_t mm_audit_log_lineno(const mm_audit_log *l);
/* Files reopened after a rotation so far. */
size_t mm_audit_log_rotations(const mm_audit_log *l);
void mm_audit_log_free(mm_audit_log *l);

/* The built-in k8s_audit rules (data/k8s-audit-rules.yaml): forbidden (403)
 * requests, anonymous access, exec/attach, secret reads, cluster-admin
 * bindings, privileged and host-namespace pods. */
int mm_audit_load_default_rules(mm_ruleset *rs);

#ifdef __cplusplus
}
#endif
#endif
