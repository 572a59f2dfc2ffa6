/*
 * mamori/sensor.h - the live runtime event sources of `mamori agent`: the
 * CO-RE eBPF sensor (BTF and raw tracepoints, one ring buffer with batched
 * wake-ups and per-CPU drop counters) and the fallback for kernels that
 * refuse BPF (netlink process connector for exec/fork/exit plus fanotify for
 * file opens and executions).  Both decode into the event model of
 * mamori/event.h and keep its process table (seeded from /proc at start,
 * with per-process fd tables and container attribution from the cgroup).
 *
 * Container attribution (mm_container_from_cgroup, also used by host views)
 * maps a cgroup path to the runtime's container id and reads the runtime's
 * metadata where it is readable (docs/sensor.md lists the places).
 */
#ifndef MAMORI_SENSOR_H
#define MAMORI_SENSOR_H

#include "mamori/common.h"
#include "mamori/event.h"
#include "mamori/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_sensor_kind {
    MM_SENSOR_BPF = 0,       /* eBPF (needs CAP_BPF/CAP_PERFMON or root, BTF) */
    MM_SENSOR_FALLBACK,      /* netlink process connector + fanotify */
} mm_sensor_kind;

typedef struct mm_sensor_opts {
    mm_sensor_kind kind;
    unsigned wakeup_every;   /* records per CPU between wake-ups (0 = 1024) */
    size_t max_procs;        /* process table cap (0 = default) */
    bool no_seed;            /* do not seed the process table from /proc */
    const char *proc_root;   /* "/proc" unless set (tests) */
} mm_sensor_opts;

/* One hook and whether it attached (said at start). */
typedef struct mm_sensor_hook {
    const char *name;        /* "tp_btf/sched_process_exec", "fanotify", ... */
    bool attached;
    const char *error;       /* why not, when !attached */
} mm_sensor_hook;

typedef struct mm_sensor_stats {
    uint64_t records;        /* records the kernel side wrote */
    uint64_t drops;          /* records lost: ring buffer full (kernel side) */
    uint64_t enter_lost;     /* syscalls whose entry could not be kept */
    uint64_t decoded;        /* events handed to the callback */
    uint64_t malformed;      /* records user space could not decode */
    uint64_t overruns;       /* fallback: netlink ENOBUFS / fanotify overflow */
} mm_sensor_stats;

typedef struct mm_sensor mm_sensor;

/* Loads and attaches.  Fails (MM_EUNSUPPORTED with the kernel's reason)
 * when the source cannot run here: no BTF, BPF refused, not root... */
int mm_sensor_open(mm_sensor **out, const mm_sensor_opts *opts);
void mm_sensor_free(mm_sensor *s);

size_t mm_sensor_hook_count(const mm_sensor *s);
const mm_sensor_hook *mm_sensor_hook_get(const mm_sensor *s, size_t i);

/* Called for each decoded event after the process table has been updated
 * (ev->proc, ev->fd set).  The event and its strings are valid during the
 * call only. */
typedef void (*mm_sensor_fn)(void *ud, mm_event *ev);

/* Waits up to timeout_ms for events and delivers all that are ready.
 * The eBPF source delivers in time order across CPUs: a poll that waits
 * keeps records of its last millisecond for the next poll (another CPU
 * may still be writing an earlier one); timeout_ms 0 delivers everything
 * (use it for the final drain).  Returns the number delivered (>= 0) or a
 * negative MM_E*. */
int mm_sensor_poll(mm_sensor *s, int timeout_ms, mm_sensor_fn fn, void *ud);

void mm_sensor_stats_get(const mm_sensor *s, mm_sensor_stats *out);

/* What a source can serve: the event types it produces and the fields it
 * cannot fill, with the reason (for mm_ruleset_set_source).  The strings
 * it points to are static. */
void mm_sensor_caps(mm_source_caps *out, mm_sensor_kind kind);
mm_proctab *mm_sensor_proctab(mm_sensor *s);

/* ---- container attribution ------------------------------------------------ */

/* The container id (64 hex) and runtime a cgroup path names, from the
 * naming schemes of docker (docker-ID.scope, /docker/ID), containerd/CRI
 * (cri-containerd-ID.scope), CRI-O (crio-ID.scope, crio-conmon excluded)
 * and podman (libpod-ID.scope).  false for host cgroups. */
bool mm_cgroup_container_id(const char *cgroup_path, char id[65],
                            const char **runtime);

/* The cgroup path of a process that names its container: the first v1
 * path that names one (hybrid hosts), else the unified (v2) path; NULL
 * when /proc has no such process.  proc_root NULL = "/proc".  Caller
 * frees. */
char *mm_proc_cgroup_path(const char *proc_root, int64_t pid);

/* The container record for a cgroup path: "host" when it names none;
 * otherwise id, type and, best effort, name/image/k8s pod and namespace
 * from the runtime's metadata below root ("/" unless testing).  Cached by
 * the caller-owned cache; returns a new reference. */
typedef struct mm_container_cache mm_container_cache;
mm_container_cache *mm_container_cache_new(const char *root);
void mm_container_cache_free(mm_container_cache *c);
mm_container *mm_container_cache_get(mm_container_cache *c,
                                     const char *cgroup_path);
/* The same, and through pid, a live process of the container (its
 * /proc/PID below proc_root): the mounts it sees (container.mounts, from
 * /proc/PID/mountinfo, sources mapped to host paths), the runtime's files
 * its /etc/hostname bind mount comes from (docker: config.v2.json beside
 * it, so any --data-root works) and podman's /run/.containerenv (name,
 * image).  Read once per container, with the first live process. */
mm_container *mm_container_cache_get_pid(mm_container_cache *c, const char *cgroup_path,
                                         const char *proc_root, int64_t pid);

#ifdef __cplusplus
}
#endif
#endif
