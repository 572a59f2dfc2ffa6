/*
 * sensor_int.h - what the files of the sensor share (private): the common
 * state of a source (process table, container cache, hooks, counters), the
 * /proc readers (procfs.c) and the two kernel sources (bpf.c, fallback.c).
 */
#ifndef MM_SENSOR_INT_H
#define MM_SENSOR_INT_H

#include "mamori/sensor.h"
#include "util/util.h"

#define MM_SN_MAX_HOOKS 32

typedef struct mm_sensor_base {
    const char *proc_root;
    mm_proctab *pt;
    mm_container_cache *containers;
    mm_sensor_hook hooks[MM_SN_MAX_HOOKS];
    size_t nhooks;
    mm_sensor_stats st;
    uint64_t seq;             /* evt.num */
    mm_map *users;            /* mount namespace -> its passwd/group (users.c) */
    mm_sensor_fn fn;          /* during a poll */
    void *ud;
} mm_sensor_base;

/* Records a hook result (name and error copied). */
void mm_sn_hook(mm_sensor_base *b, const char *name, bool ok, const char *err);

/* procfs.c: a snapshot of /proc/PID (read now, applied later) */
typedef struct mm_sn_snap {
    int64_t pid;
    bool alive;                 /* status could be read */
    char *status, *comm, *cmdline, *loginuid, *stat, *environ;
    size_t status_len, comm_len, cmdline_len, loginuid_len, stat_len, environ_len;
    char *cwd, *exe, *cgroup;
    uint32_t mntns;
    int rootfd;                 /* O_PATH of /proc/PID/root (passwd lookups), or -1/0 */
    /* execperm.c: a set-user/group-ID program's effective ids */
    bool has_seuid, has_segid;
    uint32_t seuid, segid;
} mm_sn_snap;
void mm_sn_snap_read(mm_sn_snap *sn, const char *proc_root, int64_t pid);
/* the same without what an exec replaces (comm, cmdline, environ, exe) */
void mm_sn_snap_read_kept(mm_sn_snap *sn, const char *proc_root, int64_t pid);
void mm_sn_snap_apply(mm_sensor_base *b, mm_proc *p, const mm_sn_snap *sn);
void mm_sn_snap_clear(mm_sn_snap *sn);

void mm_sn_seed(mm_sensor_base *b);
void mm_sn_fill_from_proc(mm_sensor_base *b, mm_proc *p, bool fds);
void mm_sn_fill_cwd_exe(const char *root, mm_proc *p);
char *mm_sn_readlink(const char *root, int64_t pid, const char *what);
/* The unified (v2) cgroup path of pid, or the first named v1 path that
 * names a container (mm_proc_cgroup_path() is the public form). */
char *mm_sn_proc_cgroup(const char *root, int64_t pid);
void mm_sn_set_cgroup(mm_sensor_base *b, mm_proc *p, const char *cg);
void mm_sn_set_argv_blob(mm_proc *p, const char *blob, size_t len);
void mm_sn_set_env_blob(mm_proc *p, const char *blob, size_t len);
/* users.c: user.name, group.name, user.loginname, homedir and shell of p
 * from the passwd/group of its own root, cached per mount namespace */
void mm_sn_resolve_users(mm_sensor_base *b, mm_proc *p);
/* the same with the process's root already open (O_PATH; -1 = open it) */
void mm_sn_resolve_users_in(mm_sensor_base *b, mm_proc *p, int rootfd);
void mm_sn_users_free(mm_sensor_base *b);
/* The record of pid, created and filled from /proc when unknown. */
mm_proc *mm_sn_proc(mm_sensor_base *b, int64_t pid);

/* container.c: a mount table (/proc/.../mountinfo), blanks unescaped */
typedef struct mm_sn_minfo {
    char *dev;           /* major:minor */
    char *root;          /* path inside its filesystem */
    char *mnt;           /* mount point */
    char *fstype;
    bool rw;
} mm_sn_minfo;
mm_sn_minfo *mm_sn_mountinfo(const char *path, size_t *n);
void mm_sn_minfo_free(mm_sn_minfo *m, size_t n);

/* caps.c: the syscalls the eBPF sensor traces (number, event, capture kind) */
typedef struct mm_sn_sysdef { int nr; mm_evt_type type; uint32_t kind; } mm_sn_sysdef;
extern const mm_sn_sysdef mm_sn_sysdefs[];
extern const size_t mm_sn_nsysdefs;

/* bpf.c (absent when built without the BPF sensor) */
typedef struct mm_bpf_src mm_bpf_src;
int mm_bpf_open(mm_bpf_src **out, mm_sensor_base *b, const mm_sensor_opts *o);
int mm_bpf_poll(mm_bpf_src *s, int timeout_ms);
void mm_bpf_stats(mm_bpf_src *s, mm_sensor_stats *st);
void mm_bpf_free(mm_bpf_src *s);

/* fallback.c */
typedef struct mm_fb_src mm_fb_src;
int mm_fb_open(mm_fb_src **out, mm_sensor_base *b, const mm_sensor_opts *o);
int mm_fb_poll(mm_fb_src *s, int timeout_ms);
void mm_fb_free(mm_fb_src *s);

/* execperm.c: exec details taken while the kernel holds the exec
 * (FAN_OPEN_EXEC_PERM); the fallback takes them at the connector's EXEC */
typedef struct mm_xp mm_xp;
/* notif: the notification group, for the marks of containers' /proc */
int mm_xp_open(mm_xp **out, const char *proc_root, int notif);   /* 0 or -errno */
/* dev is a container's procfs marked by mm_xp (its paths lack "/proc") */
bool mm_xp_is_ns_proc(mm_xp *x, dev_t dev);
int mm_xp_mark(mm_xp *x, const char *mnt);             /* 0 or -errno */
/* The details of pid's exec that the connector stamped ts_ns
 * (CLOCK_MONOTONIC) into out (owned by the caller); false if none */
bool mm_xp_take(mm_xp *x, int64_t pid, uint64_t ts_ns, mm_sn_snap *out);
/* whether such a record is there (not taken) */
bool mm_xp_has(mm_xp *x, int64_t pid, uint64_t ts_ns);
/* Fills p from the latest exec record of its pid not taken yet (an open
 * seen before the connector's EXEC); false if none */
bool mm_xp_apply_latest(mm_xp *x, mm_sensor_base *b, mm_proc *p);
void mm_xp_forget(mm_xp *x, int64_t pid, uint64_t ts_ns);
void mm_xp_counts(mm_xp *x, unsigned long *execs, unsigned long *timeouts);
void mm_xp_free(mm_xp *x);

/* CLOCK_REALTIME - CLOCK_BOOTTIME, ns */
int64_t mm_sn_boot_offset(void);

/* The "#!" line at the head of a file (n bytes, the first 255 used) split
 * as the kernel's binfmt_script does: "interpreter\0[argument\0]" (malloc'd,
 * *len bytes), or NULL when head is not a script.  execperm.c. */
char *mm_sn_shebang_split(const char *head, size_t n, size_t *len);

#endif
