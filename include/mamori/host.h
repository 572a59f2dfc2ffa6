/*
 * mamori/host.h - host views for the operator (SP 800-190 §3.5): the
 * processes of the host with the container each belongs to ("ps from the
 * console", §3.5.2) and the login records - sessions from wtmp paired as
 * `last` pairs them, failed logins from btmp, lastlog - with findings for
 * what deserves a look (§3.5.4).  docs/host.md describes both.
 *
 * Login files are untrusted binary input: records are decoded by offset
 * (glibc x86-64 `struct utmp`, 384 bytes little-endian; `struct lastlog`,
 * 292 bytes), never by casting to the build host's struct; sizes and counts
 * are capped, and a truncated record is an error naming the file and offset.
 */
#ifndef MAMORI_HOST_H
#define MAMORI_HOST_H

#include <stdio.h>

#include "mamori/common.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- processes (`mamori host ps`) ------------------------------------------- */

typedef struct mm_host_proc {
    int64_t pid, ppid;
    uint32_t uid;            /* effective uid */
    char *user;              /* name from the password database, else the number */
    int64_t start;           /* start time, seconds since the epoch (0 unknown) */
    char *comm;              /* kernel task name */
    char *exe;               /* resolved /proc/PID/exe, NULL if unreadable */
    char **argv;             /* command line (argc 0: kernel thread or gone) */
    size_t argc;
    char *cmdline;           /* argv joined by ' ', or "[comm]" without argv */
    char *cgroup;            /* the cgroup path used for attribution */
    /* container attribution (all NULL on the host) */
    char *container_id;      /* 12-hex short id */
    char *container_full_id;
    char *container_runtime; /* docker, containerd, cri-o, podman */
    char *container_name, *image, *k8s_pod, *k8s_ns;
} mm_host_proc;

typedef struct mm_host_ps_opts {
    const char *proc_root;   /* "/proc" unless set */
    const char *meta_root;   /* where runtime metadata lives: "/" unless set */
    const char *container;   /* only processes of this container (id prefix of
                                at least 3 hex digits, or name); "host" = only
                                host processes; NULL = all */
    size_t max_procs;        /* 0 = 1000000 */
} mm_host_ps_opts;

typedef struct mm_host_procs mm_host_procs;

/* Reads the process table (ordered by pid).  Processes that exit while
 * being read are left out or keep only what was read. */
int mm_host_ps(mm_host_procs **out, const mm_host_ps_opts *opts);
size_t mm_host_procs_count(const mm_host_procs *p);
const mm_host_proc *mm_host_procs_get(const mm_host_procs *p, size_t i);
void mm_host_procs_free(mm_host_procs *p);
/* A table for people or {"processes":[...]} (docs/host.md). */
int mm_host_procs_write(FILE *f, const mm_host_procs *p, bool json);

/* ---- login records (`mamori host logins`) ----------------------------------- */

#define MM_UTMP_SIZE 384      /* glibc x86-64 struct utmp */
#define MM_LASTLOG_SIZE 292   /* glibc x86-64 struct lastlog */

enum {                        /* ut_type values (utmp(5)) */
    MM_UT_EMPTY = 0, MM_UT_RUN_LVL = 1, MM_UT_BOOT_TIME = 2, MM_UT_NEW_TIME = 3,
    MM_UT_OLD_TIME = 4, MM_UT_INIT_PROCESS = 5, MM_UT_LOGIN_PROCESS = 6,
    MM_UT_USER_PROCESS = 7, MM_UT_DEAD_PROCESS = 8, MM_UT_ACCOUNTING = 9,
};

/* One decoded utmp record; strings are NUL-terminated copies of the fixed
 * fields (cut at the first NUL). */
typedef struct mm_utmp_rec {
    int type;
    int32_t pid;
    char line[33], id[5], user[33], host[257];
    int16_t term, exit_status;
    int32_t session;
    int64_t sec;             /* ut_tv.tv_sec (32-bit on disk, unsigned) */
    int32_t usec;
    char addr[46];           /* ut_addr_v6 as text, "" when zero */
    uint64_t offset;         /* of the record in its file */
} mm_utmp_rec;

/* Decodes a whole wtmp/btmp image; name is used in errors.  A length that
 * is not a multiple of MM_UTMP_SIZE fails (MM_EFORMAT) with the offset of
 * the truncated record; more than max_records (0 = 4M) fails (MM_ELIMIT).
 * *out is an array the caller frees. */
int mm_utmp_parse(mm_utmp_rec **out, size_t *n, const char *name, const void *data,
                  size_t len, size_t max_records);

/* How a session ended, as `last` says it. */
typedef enum mm_session_end {
    MM_SESS_LOGOUT = 0,      /* a logout record: logout time known */
    MM_SESS_STILL,           /* "still logged in" (the login process lives) */
    MM_SESS_GONE,            /* "gone - no logout" */
    MM_SESS_CRASH,           /* the system booted again without a shutdown */
    MM_SESS_DOWN,            /* the system was shut down */
    MM_SESS_RUNNING,         /* a boot record: "still running" */
} mm_session_end;

const char *mm_session_end_name(mm_session_end e); /* "logout", "still logged in", ... */

typedef struct mm_login_session {
    const char *user, *line, *host, *addr; /* borrowed from the list */
    int32_t pid;
    bool boot;               /* a "reboot  system boot" entry (host = kernel) */
    int64_t login;           /* seconds since the epoch */
    int64_t logout;          /* end time; 0 when still open */
    mm_session_end end;
} mm_login_session;

typedef struct mm_failed_login {
    const char *user, *line, *host, *addr;
    int64_t when;
} mm_failed_login;

typedef struct mm_lastlog_entry {
    uint32_t uid;
    const char *user;        /* from the password database, else the number */
    const char *line, *host;
    int64_t when;
} mm_lastlog_entry;

typedef struct mm_logins_opts {
    const char *wtmp, *btmp, *lastlog; /* NULL = /var/log/{wtmp,btmp,lastlog}
                                          (a missing default is a note);
                                          "" = not read */
    int64_t since;           /* only records at or after (epoch seconds) */
    unsigned failed_threshold; /* failed logins from one host (or for one user)
                                  that make a finding (0 = 5) */
    int64_t boot_time;       /* current boot (0 = btime of /proc/stat): open
                                sessions older than it are "gone" */
    bool no_live_check;      /* never look at /proc for "still logged in" */
    uint64_t max_file_size;  /* per wtmp/btmp file (0 = 256 MiB) */
} mm_logins_opts;

typedef struct mm_logins mm_logins;

/* Reads the files and pairs sessions: newest first, a login ends at the
 * next logout (DEAD_PROCESS or nameless record) or login on the same line,
 * else at the next shutdown ("down") or boot ("crash"), else it is open.
 * Findings (kind MM_FIND_COMPLIANCE, section "3.5.4"):
 *   MM-HOST-LOGIN-001  root logged in over the network (per source host)
 *   MM-HOST-LOGIN-002  failed logins from one host >= threshold
 *   MM-HOST-LOGIN-003  failed logins for one account >= threshold */
int mm_host_logins(mm_logins **out, const mm_logins_opts *opts);
size_t mm_logins_session_count(const mm_logins *l);
const mm_login_session *mm_logins_session(const mm_logins *l, size_t i);
size_t mm_logins_failed_count(const mm_logins *l);
const mm_failed_login *mm_logins_failed(const mm_logins *l, size_t i);
size_t mm_logins_lastlog_count(const mm_logins *l);
const mm_lastlog_entry *mm_logins_lastlog(const mm_logins *l, size_t i);
/* "FILE: not present, skipped" and the like. */
size_t mm_logins_note_count(const mm_logins *l);
const char *mm_logins_note(const mm_logins *l, size_t i);
const mm_findings *mm_logins_findings(const mm_logins *l);
void mm_logins_free(mm_logins *l);
/* A table for people or one JSON object (docs/host.md). */
int mm_logins_write(FILE *f, const mm_logins *l, bool json);

/* "2024-03-01", "2024-03-01 10:00[:00]", "2024-03-01T10:00:00Z" (UTC, or
 * with a +HH:MM offset) or "@EPOCH" -> epoch seconds. */
int mm_host_parse_date(int64_t *out, const char *s);

#ifdef __cplusplus
}
#endif
#endif
