/*
 * cis_int.h - what the CIS Docker files share (private): the daemon's
 * effective configuration and the per-container section.
 */
#ifndef MM_HOST_CIS_INT_H
#define MM_HOST_CIS_INT_H

#include <jansson.h>

#include "mamori/compliance.h"

typedef struct mm_dcfg {
    char **args;             /* dockerd argv (args[0] = the program) */
    size_t nargs;
    char *args_from;         /* "dockerd pid 42", "ExecStart of ..." */
    int64_t pid;             /* of the running dockerd, 0 when from the unit */
    json_t *file;            /* daemon.json (object) or NULL */
    char *file_path;         /* root-relative path of daemon.json */
    json_t *info;            /* GET /info, NULL without a daemon */
    char *sock;              /* the daemon's unix socket (real path) */
} mm_dcfg;

int mm_dcfg_load(mm_dcfg *d, const mm_docker_check_opts *o, mm_checks *notes);
void mm_dcfg_free(mm_dcfg *d);
/* The idx-th value of a dockerd flag (long name, optional short one). */
const char *mm_dcfg_flag(const mm_dcfg *d, const char *lng, const char *shrt, size_t idx);
/* The unit file of a systemd unit below root (root-relative), NULL if none. */
char *mm_unit_path(const char *root, const char *unit);
/* A real path made root-relative when it lies below root ("/r/etc/x" with
 * root "/r" -> "/etc/x"); else a copy. */
char *mm_host_unroot(const char *root, const char *path);
/* Is there an audit watch on path in these rules (one a line)? */
bool mm_audit_watches(const char *rules, const char *path);

/* Section 4.1 and 5, per container of docker (through d->sock), podman and
 * the inspect files. */
int mm_container_checks(mm_checks *out, const mm_dcfg *d, const mm_docker_check_opts *o);

#endif
