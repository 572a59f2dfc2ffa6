/*
 * mamori/hostinv.h - what runs containers on this host and what runs in
 * them: the container runtime software with its vulnerabilities (SP 800-190
 * §3.4.1), every container of docker, podman, containerd and CRI-O with its
 * privileges and mounts (§3.5.4, §3.5.5), and the interactive commands run
 * on the host and in containers as the agent recorded them (§3.5.4).
 * docs/host.md describes the three views.
 */
#ifndef MAMORI_HOSTINV_H
#define MAMORI_HOSTINV_H

#include <stdio.h>

#include "mamori/common.h"
#include "mamori/result.h"
#include "mamori/vuln.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- runtime software (`mamori host runtime`) ------------------------------------- */

typedef struct mm_runtime_opts {
    const char *root;            /* "/" when NULL: binaries and dpkg below it */
    const char *kernel_release;  /* NULL = /proc/sys/kernel/osrelease (root "/" only) */
    const char *const *binaries; /* more: "NAME=PATH" (root-relative) */
    size_t nbinaries;
    bool run_version;            /* a stand-alone binary whose version is not in
                                    its build info is run with --version (root
                                    "/" only; off by default: nothing runs) */
} mm_runtime_opts;

typedef struct mm_runtime_sw {
    char *component;   /* "runc", "crun", "containerd", "dockerd", "podman",
                          "cri-o", "kubelet", "kernel", or a NAME given */
    char *path;        /* root-relative */
    char *version;     /* best known, NULL when unknown */
    char *how;         /* "dpkg runc 1.1.5+ds1-1+deb12u1", "Go build info ...",
                          "-ldflags version", "unknown" */
    char *package;     /* owning OS package, NULL for a stand-alone binary */
    char *go_version;  /* toolchain of a Go binary */
} mm_runtime_sw;

typedef struct mm_runtime_inv mm_runtime_inv;

int mm_host_runtime(mm_runtime_inv **out, const mm_runtime_opts *o);
size_t mm_runtime_inv_count(const mm_runtime_inv *inv);
const mm_runtime_sw *mm_runtime_inv_get(const mm_runtime_inv *inv, size_t i);
/* "runc at /usr/local/sbin/runc: no version (not a Go binary, no package)". */
size_t mm_runtime_inv_note_count(const mm_runtime_inv *inv);
const char *mm_runtime_inv_note(const mm_runtime_inv *inv, size_t i);
void mm_runtime_inv_free(mm_runtime_inv *inv);

/* A result for reports: the root's OS, the packages that identify the
 * runtime software (the owning dpkg packages, matched through the
 * distribution's feed by source package so backports count; the Go
 * modules and standard library of stand-alone binaries) and, when db is
 * not NULL, their vulnerabilities as findings of section 3.4.1 located on
 * host.  *out is the caller's. */
int mm_runtime_result(mm_result **out, const mm_runtime_inv *inv, mm_vulndb *db,
                      const mm_vuln_opts *vo, const char *host);
/* The components as a table or {"runtime": [...]}. */
int mm_runtime_inv_write(FILE *f, const mm_runtime_inv *inv, bool json);

/* ---- containers (`mamori host containers`) ------------------------------------------- */

typedef struct mm_ctr_mount {
    char *type;          /* "bind", "volume", "tmpfs", ... */
    char *source, *destination;
    bool rw;
    char *propagation;   /* "rprivate", "rshared", ... or NULL */
    int64_t bytes;       /* disk use of a volume (or bind source dir), -1 unknown */
} mm_ctr_mount;

typedef struct mm_host_ctr {
    char *engine;        /* "docker", "podman", "containerd", "cri-o" */
    char *id, *name, *image, *state;
    char *user;          /* as configured, "" = the image's (root unless set) */
    bool privileged, readonly_root;
    char **caps;         /* effective capabilities (CAP_ names) */
    size_t ncaps;
    char *host_ns;       /* namespaces shared with the host: "pid,net", "" */
    mm_ctr_mount *mounts;
    size_t nmounts;
    int64_t rw_bytes;    /* writable layer, -1 unknown */
    int64_t volume_bytes;/* sum of the volumes' use, -1 unknown */
} mm_host_ctr;

typedef struct mm_containers_opts {
    const char *root;            /* for containerd/CRI-O state files ("/") */
    const char *docker_host;     /* NULL = $DOCKER_HOST, else unix:///var/run/docker.sock */
    bool no_docker, no_podman;
    const char *podman, *podman_root, *podman_runroot;
    const char *containerd_state;/* NULL = ROOT/run/containerd/io.containerd.runtime.v2.task */
    const char *crio_root;       /* NULL = ROOT/var/lib/containers/storage */
    bool no_disk;                /* skip disk use (walks volume folders) */
} mm_containers_opts;

typedef struct mm_containers mm_containers;

/* Every container of the engines found; an engine that does not answer is
 * a note, not an error.  Findings (kind compliance, section 3.5.5) for
 * mounted host paths: sensitive ones mounted read-write, and folders or
 * files any user of the host may write. */
int mm_host_containers(mm_containers **out, const mm_containers_opts *o);
size_t mm_containers_count(const mm_containers *c);
const mm_host_ctr *mm_containers_get(const mm_containers *c, size_t i);
size_t mm_containers_note_count(const mm_containers *c);
const char *mm_containers_note(const mm_containers *c, size_t i);
const mm_findings *mm_containers_findings(const mm_containers *c);
void mm_containers_free(mm_containers *c);
int mm_containers_write(FILE *f, const mm_containers *c, bool json);

/* ---- interactive commands (`mamori host commands`) ---------------------------------- */

/* Where the agent keeps exec events when run with --exec-store and no
 * file is named. */
#define MM_EXEC_STORE_DEFAULT "/var/lib/mamori/exec-events.zst"

typedef struct mm_host_command {
    int64_t ts;          /* ns since the epoch */
    int64_t pid, ppid;
    uint32_t uid;
    char *user;          /* user.name, else the uid */
    char *login;         /* who logged in (user.loginname), NULL unknown */
    char *tty;           /* "pts/3", "tty1", NULL without a terminal */
    char *cmdline, *exe, *parent; /* parent: the parent's name */
    char *container_id, *container_name, *image, *runtime; /* NULL on the host */
    char *why;           /* "tty", "shell child", "exec session" */
} mm_host_command;

typedef struct mm_commands_opts {
    const char *const *stores;  /* exec stores or captures (rotated sets
                                   expanded); none = MM_EXEC_STORE_DEFAULT */
    size_t nstores;
    int64_t since;              /* epoch seconds, 0 = all */
    const char *user;           /* only this user (name or uid) */
    const char *container;      /* id prefix, name, or "host" */
    size_t max_commands;        /* 0 = 1,000,000 */
} mm_commands_opts;

typedef struct mm_commands mm_commands;

/* Reads the stores: every successful execve of a process with a
 * controlling terminal, a child of a shell, or a process an engine
 * started inside a running container (docker/podman exec). */
int mm_host_commands(mm_commands **out, const mm_commands_opts *o);
size_t mm_commands_count(const mm_commands *c);
const mm_host_command *mm_commands_get(const mm_commands *c, size_t i);
size_t mm_commands_note_count(const mm_commands *c);
const char *mm_commands_note(const mm_commands *c, size_t i);
void mm_commands_free(mm_commands *c);
/* The commands, then counts per user and per container. */
int mm_commands_write(FILE *f, const mm_commands *c, bool json);

/* ---- the host inventory an agent streams (`mamori agent --mamori-server`) ----------- */

typedef struct mm_host_inventory_opts {
    mm_containers_opts containers;   /* where the engines are */
    const char *wtmp, *btmp;         /* NULL = /var/log/{wtmp,btmp}; "" = not read */
    const char *proc_root;           /* NULL = /proc */
    const char *os_release;          /* NULL = /etc/os-release (then /usr/lib/os-release) */
    size_t max_procs;                /* 0 = 20,000 (the newest pids beyond are left out) */
    size_t max_logins;               /* 0 = 500 sessions and 500 failed logins, newest */
    size_t max_cmdline;              /* bytes of a command line kept; 0 = 1024 */
} mm_host_inventory_opts;

/* One snapshot of the host as a compact JSON object (docs/api.md, POST
 * /api/v1/inventory without host_id):
 *   {"collected": EPOCH, "os": {name, id, version, kernel, arch, hostname},
 *    "processes": [{pid, ppid, user, name, cmdline, exe, container_id}],
 *    "logins": [{user, tty, from, ts, kind: "login"|"failed"}],
 *    "containers": [{id, name, image, engine, state, user, privileged, read_only,
 *                    mounts: [{source, destination, rw}], disk_bytes}]}
 * A part that cannot be read (no wtmp, no engine) is left empty and named
 * in *notes (a string joined by "; ", NULL when none; the caller frees).
 * *out is the caller's. */
int mm_host_inventory_json(char **out, char **notes, const mm_host_inventory_opts *o);

#ifdef __cplusplus
}
#endif
#endif
