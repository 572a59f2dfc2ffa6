/*
 * mamori/agent.h - the runtime agent (lib/agent): events from the eBPF
 * sensor, the netlink/fanotify fallback or a recorded capture, through the
 * Falco-compatible rules (mamori/rules.h), the behaviour profiles
 * (mamori/profile.h: learning one, or alerting on deviations from one) and
 * the capture (mamori/capture.h), to an alert output.  Alerts whose rule or
 * profile says `action: kill` get their process SIGKILLed (never pid 1,
 * the agent itself, or a replayed pid).
 *
 * The library never prints: what the agent has to say (start-up, warnings,
 * statistics) goes to a callback, and a run that fails says in which part.
 * The caller owns the process: it installs the signal handlers and sets
 * *stop to end the run.
 */
#ifndef MAMORI_AGENT_H
#define MAMORI_AGENT_H

#include <signal.h>

#include "mamori/common.h"
#include "mamori/capture.h"
#include "mamori/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_agent_note_level {
    MM_AGENT_INFO = 0,   /* start-up lines, rule warnings, statistics */
    MM_AGENT_WARNING,    /* something is being lost: drops, a capture
                          * that stopped; worth saying even when quiet */
} mm_agent_note_level;

typedef void (*mm_agent_note_fn)(void *ud, mm_agent_note_level level,
                                 const char *msg);

typedef struct mm_agent_opts {
    const char *const *rule_files;  /* Falco rule files, loaded in order */
    size_t nrule_files;
    const char *source;       /* "bpf" (default), "fallback", "replay:FILE" */
    const char *output;       /* alert output (mm_alert_sink_open): "stdout"
                               * (default), "syslog", "file:PATH", URL */
    const char *capture;      /* keep every event here (NULL = no) */
    mm_capture_opts capture_opts;
    const char *exec_store;   /* keep successful execve events here, every
                               * line complete (`mamori host commands` reads
                               * it); its folder is made (0700) when missing */
    double duration;          /* seconds; 0 = until *stop */
    unsigned wakeup;          /* eBPF: records per CPU between wake-ups */
    double learn_secs;        /* < 0: no learning; else learn this long */
    const char *profile_out;  /* where the learned profile is written */
    mm_profile_opts learn_opts;
    const char *profile;      /* alert on deviations from this profile */
    double profile_reload_s;  /* > 0: look this often whether the profile file
                               * changed (mtime, size, inode) and load it again
                               * (a bad new file is a warning; the old one stays);
                               * `mamori agent --server-profiles` (issue 20a) */
    bool strict;              /* a rule the source cannot serve (an event or
                               * field it cannot fill) fails the run instead
                               * of being disabled with a warning */
    mm_agent_note_fn note;    /* NULL = notes are dropped */
    void *note_ud;
    volatile sig_atomic_t *stop;  /* the run ends when *stop != 0 */
    /* action: isolate-node: asked to isolate this node (cordon and taint,
     * mamori/k8s.h) before the alert is written; writes what happened into
     * res, which the alert carries as output_fields["mamori.isolate"].
     * NULL: "not isolated: no API access". */
    void (*isolate)(void *ud, const mm_alert *a, char *res, size_t reslen);
    void *isolate_ud;
} mm_agent_opts;

/* Defaults: source bpf, output stdout, no learning (learn_secs -1). */
void mm_agent_opts_init(mm_agent_opts *o);

/* The part of a run that failed. */
typedef enum mm_agent_part {
    MM_AGENT_OK = 0,
    MM_AGENT_RULES,        /* loading or compiling the rules */
    MM_AGENT_PROFILE,      /* the profile to check against */
    MM_AGENT_OUTPUT,       /* the alert output */
    MM_AGENT_CAPTURE,      /* opening the capture */
    MM_AGENT_CAPTURE_END,  /* completing the capture (said in a warning) */
    MM_AGENT_EXEC_STORE,   /* opening the exec store */
    MM_AGENT_SOURCE,       /* an unknown source */
    MM_AGENT_EVENTS,       /* the sensor or the replay */
    MM_AGENT_PROFILE_OUT,  /* writing the learned profile */
} mm_agent_part;

typedef struct mm_agent_stats {
    uint64_t events, alerts, kills;
    uint64_t kernel_records, drops, enter_lost, overruns, malformed;
    mm_agent_part failed;  /* on error: where */
} mm_agent_stats;

/* Runs the agent until *stop, the duration, the end of a replay, or the
 * end of learning when there is nothing else to do.  0, or MM_E* with
 * stats->failed saying where; stats are filled either way. */
int mm_agent_run(const mm_agent_opts *o, mm_agent_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
