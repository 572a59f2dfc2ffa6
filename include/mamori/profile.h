/*
 * mamori/profile.h - behaviour profiles: what each image was seen doing
 * while `mamori agent --learn` watched (processes run, files written,
 * listening ports, outbound destinations), written as a reviewable YAML
 * file (docs/profiles.md), and the deviation check that alerts - in
 * Falco's alert shape, through the same outputs as rules - when a profiled
 * image does something its profile does not list.
 *
 * One mm_profile serves both sides: mm_profile_new() + mm_profile_learn()
 * per event + mm_profile_write_file() at the end of the learning period;
 * mm_profile_load_file() + mm_profile_check() per event when enforcing.  A
 * learned profile can be checked against directly too (exact entries, before
 * generalisation).  The library only reports the action a profile asks for
 * (mm_alert.action); killing is the agent's job.  Not thread-safe: one
 * profile per thread (checking keeps per-event scratch, as a ruleset does).
 */
#ifndef MAMORI_PROFILE_H
#define MAMORI_PROFILE_H

#include "mamori/common.h"
#include "mamori/event.h"
#include "mamori/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The profile schema version this library writes and reads. */
#define MM_PROFILE_VERSION 1

/* What a profile lists per image. */
typedef enum mm_profile_cat {
    MM_PROF_PROCESS = 0,   /* processes: exe path, name, parent names */
    MM_PROF_FILE,          /* files: written paths (globs) */
    MM_PROF_LISTEN,        /* listen: proto + port */
    MM_PROF_CONNECT,       /* connect: destination ip/cidr + port + proto */
    MM_PROF__COUNT
} mm_profile_cat;

/* "processes", "files", "listen", "connect" (the YAML keys). */
const char *mm_profile_cat_name(mm_profile_cat c);

typedef struct mm_profile_opts {
    /* a directory with more than this many distinct written files becomes
     * one glob for all its files; 0 = the default (8) */
    size_t dir_collapse;
    /* more than this many hosts of one IPv4 /24 (IPv6 /64) reached on the
     * same port and protocol become the network; 0 = the default (8) */
    size_t net_collapse;
    /* learn container images only (the host is not recorded) */
    bool containers_only;
} mm_profile_opts;

typedef struct mm_profile mm_profile;

/* An empty profile to learn into (opts may be NULL). */
int mm_profile_new(mm_profile **out, const mm_profile_opts *opts);
void mm_profile_free(mm_profile *p);

/* The image key of an event's process: "host" for host processes, else the
 * container's image (repository:tag as configured, then repository, then
 * image id) or "container:<12-hex id>" when the runtime metadata names no
 * image.  Written into buf (truncated to n); returns buf. */
const char *mm_profile_image_key(const mm_event *ev, char *buf, size_t n);

/* Records what ev shows the process doing (exec, open for writing, creat,
 * rename/link/symlink target, mkdir, unlink, rmdir, listen, UDP bind,
 * connect, sendto/sendmsg with an address).  1 = recorded, 0 = nothing to
 * learn from this event, MM_ELIMIT when the profile is full (then further
 * events are ignored; the profile stays usable). */
int mm_profile_learn(mm_profile *p, const mm_event *ev);
/* Learning period shown in the file (ns since the epoch; 0 = unknown). */
void mm_profile_set_period(mm_profile *p, int64_t start_ns, int64_t end_ns);

/* The generalised profile as YAML (sorted; see docs/profiles.md).  Caller
 * frees. */
char *mm_profile_to_yaml(const mm_profile *p);
/* Writes mm_profile_to_yaml() to path atomically (a temp file beside it,
 * fsync, rename). */
int mm_profile_write_file(const mm_profile *p, const char *path);

/* Loads a profile file.  Untrusted input: size (16 MiB), images (4096),
 * entries (200000) and string lengths (4096) are capped; errors are
 * MM_EFORMAT / MM_ELIMIT with "FILE:LINE: key 'K': why". */
int mm_profile_load_file(mm_profile **out, const char *path);
int mm_profile_load_string(mm_profile **out, const char *name,
                           const char *yaml, size_t len);

/* Issue 20a: a profile document (YAML or JSON text) checked with the
 * loader and written out as compact JSON (the same document: `mamori
 * server` stores it, and the loader reads the JSON back as it is).  Caller
 * frees *out.  The file form reads path (16 MiB at most). */
int mm_profile_doc_json(char **out, const char *name, const char *text, size_t len);
int mm_profile_file_json(char **out, const char *path);

size_t mm_profile_image_count(const mm_profile *p);
/* Name (or glob) of the i-th image, NULL past the end. */
const char *mm_profile_image_name(const mm_profile *p, size_t i);
/* Number of entries of a category for the image named exactly `image`
 * (0 when absent). */
size_t mm_profile_entry_count(const mm_profile *p, const char *image,
                              mm_profile_cat c);

/* Checks one event against the profile: when the event's image is profiled
 * and the event deviates, fn gets an alert (rule "Profile deviation:
 * unexpected process|file write|listening port|outbound connection", the
 * image's priority, action kill when the profile says so, output fields
 * profile.deviation, profile.image, profile.category, container.* and
 * proc.* fields).  The same (pid, category, value) alerts once per
 * process.  Returns the number of alerts (0 = conforms or not profiled). */
int mm_profile_check(mm_profile *p, const mm_event *ev, mm_alert_fn fn,
                     void *ud);

#ifdef __cplusplus
}
#endif
#endif
