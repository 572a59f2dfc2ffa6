/*
 * host_int.h - what the host views share (private): reading small kernel
 * files that report size 0, and the boot time.
 */
#ifndef MM_HOST_INT_H
#define MM_HOST_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mamori/compliance.h"

/* btime of ROOT/stat (root NULL = /proc), seconds since the epoch; 0 unknown. */
int64_t mm_host_boot_time(const char *root);


/* ---- compliance results (checks.c) --------------------------------------------- */

/* Where a result applies. */
typedef struct mm_host_target {
    const char *target;      /* "daemon", a path, "host" */
    const char *container;   /* the container's name, or NULL */
    const char *engine;
    const char *fix;         /* what --fix changes when this FAILs (fix.c):
                                lines of "chmod 0644", "chown root:docker",
                                "json KEY VALUE", "sysctl KEY VALUE",
                                "audit RULE", "modprobe MODULE"; NULL = none */
} mm_host_target;

/* Adds a result for the built-in check id (evidence printf-style, may be NULL). */
void mm_checks_add(mm_checks *c, const char *id, mm_check_status st,
                   const mm_host_target *t, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void mm_checks_addv(mm_checks *c, const char *id, mm_check_status st,
                    const mm_host_target *t, const char *fmt, va_list ap);
/* The rules of ROOT/etc/audit/audit.rules, rules.d/NAME.rules and (root "/"
 * only, unless auditctl names a file or is "") `auditctl -l`, one a line.
 * Problems become notes on c.  Caller frees. */
char *mm_audit_rules_load(const char *root, const char *auditctl, mm_checks *c);

/* Adds a copy of r (SCAP rules, which have no built-in definition). */
mm_check_result *mm_checks_push(mm_checks *c, const mm_check_result *r);
void mm_checks_notef(mm_checks *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- files below a root prefix (rootfs.c) -------------------------------------- */

/* ROOT + abs ("/" root gives abs itself).  Caller frees. */
char *mm_host_path(const char *root, const char *abs);
/* lstat of ROOT+abs: 0, or -1 when absent. */
int mm_host_stat(const char *root, const char *abs, struct stat *st);
/* Reads ROOT+abs (at most max bytes): 0, MM_ENOTFOUND, MM_ELIMIT, MM_EIO. */
int mm_host_read(const char *root, const char *abs, size_t max, char **data, size_t *len);
/* User and group names of ROOT/etc/passwd and ROOT/etc/group ("1000" when
 * unknown).  Caller frees. */
char *mm_host_user_name(const char *root, uint32_t uid);
char *mm_host_group_name(const char *root, uint32_t gid);
/* gid of a group name in ROOT/etc/group, -1 when absent. */
int64_t mm_host_group_gid(const char *root, const char *name);
/* Runs argv (no shell) and collects its standard output (capped at max
 * bytes; stderr goes to *err when not NULL, capped too).  Returns the exit
 * status (>= 0) or a negative MM_E* when it could not run. */
int mm_host_run(const char *const *argv, size_t max, char **out, size_t *outlen, char **err);
/* qsort comparator of an array of char *. */
int mm_host_strpcmp(const void *a, const void *b);
/* Finds an executable in $PATH (or an absolute path): caller frees, NULL if none. */
char *mm_host_which(const char *name);

/* ---- container engines (engine.c) ---------------------------------------------- */

/* One container as docker/podman inspect describe it. */
typedef struct mm_hctr {
    char *engine;            /* "docker", "podman" */
    char *id, *name, *image;
    bool running;
    bool from_file;          /* from a saved document: its paths are not ours */
    json_t *j;               /* the inspect document (owned) */
} mm_hctr;

typedef struct mm_hctrs {
    mm_hctr *v;
    size_t n, cap;
} mm_hctrs;

void mm_hctrs_free(mm_hctrs *l);

/* GET path from the docker daemon at sock (a unix socket path): the parsed
 * JSON (capped at 64 MiB).  MM_ENET when nothing answers. */
int mm_docker_api_get(const char *sock, const char *path, json_t **out);
/* The unix socket of a docker_host ("unix:///x" or a plain path); NULL
 * for tcp:// hosts.  Caller frees. */
char *mm_docker_sock_path(const char *docker_host);
/* Appends the containers of the docker daemon at sock. */
int mm_docker_containers(mm_hctrs *out, const char *sock, bool all);
/* Appends the containers of podman (cmd with its --root/--runroot). */
int mm_podman_containers(mm_hctrs *out, const char *podman, const char *root,
                         const char *runroot, bool all);
/* Appends the containers of a docker/podman inspect JSON array file. */
int mm_inspect_file_containers(mm_hctrs *out, const char *path);
/* Parses an inspect array from memory (name used in errors; the fuzz target). */
int mm_inspect_parse(mm_hctrs *out, const char *data, size_t len, const char *name,
                     const char *engine);

/* jansson helpers that accept NULL and wrong types. */
const char *mm_hj_str(const json_t *o, const char *key);
json_int_t mm_hj_int(const json_t *o, const char *key);
bool mm_hj_bool(const json_t *o, const char *key);
json_t *mm_hj_path(const json_t *o, const char *dotted);
/* Does an array of strings hold one containing needle? */
bool mm_hj_array_has(const json_t *a, const char *needle);   /* "HostConfig.Privileged" */

#endif
