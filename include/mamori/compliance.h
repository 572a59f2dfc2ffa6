/*
 * mamori/compliance.h - compliance of the container host (SP 800-190 §3.4.3
 * insecure runtime configuration, §3.5 the host OS): the CIS Docker
 * Benchmark v1.6.0 (daemon, files, audit rules, and every container's
 * settings from docker/podman inspect), native CIS Debian Linux checks for
 * what a container host needs, SCAP source datastreams evaluated through
 * libopenscap, and the enforcement of safe settings (`--fix`) as a dry-run
 * diff, applied only on request with a backup and a rollback script.
 * docs/compliance.md describes every check.
 *
 * Every file is read below a root prefix (opts.root, "/" by default) so that
 * tests and audits of a mounted image of a host never touch the real one.
 * Inspect documents and daemon files are untrusted input: sizes are capped
 * and a malformed document is an MM_EFORMAT naming the file (or socket) and
 * the field.
 */
#ifndef MAMORI_COMPLIANCE_H
#define MAMORI_COMPLIANCE_H

#include <stdio.h>

#include "mamori/common.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- check results ------------------------------------------------------------ */

typedef enum mm_check_status {
    MM_CHECK_PASS = 0,
    MM_CHECK_FAIL,       /* becomes a finding */
    MM_CHECK_MANUAL,     /* needs a person: what was seen is in the evidence */
    MM_CHECK_NA,         /* not applicable here (no daemon, no such file, ...) */
    MM_CHECK_ERROR,      /* could not be evaluated (evidence says why) */
} mm_check_status;

const char *mm_check_status_name(mm_check_status s); /* "PASS", "FAIL", ... */

/* A check as the benchmark names it (static data). */
typedef struct mm_check_def {
    const char *id;          /* "CIS-DOCKER-5.5", "CIS-DEBIAN-3.3.2" */
    const char *benchmark;   /* "CIS Docker Benchmark v1.6.0" */
    const char *number;      /* the benchmark's item number, "5.5" */
    const char *dbs_id;      /* docker-bench-security's check, "check_5_4", or NULL */
    const char *title;
    const char *section;     /* SP 800-190 section, "3.4.3" */
    mm_severity severity;
    const char *remediation;
    bool automated;          /* false: the benchmark calls it Manual */
} mm_check_def;

/* The built-in checks (CIS Docker, then CIS Debian), for docs and --list. */
size_t mm_check_def_count(void);
const mm_check_def *mm_check_def_get(size_t i);
const mm_check_def *mm_check_def_find(const char *id);

typedef struct mm_check_result {
    const mm_check_def *def; /* NULL for SCAP rules: the fields below say it */
    char *id, *title, *section, *benchmark, *number; /* copies (def or SCAP rule) */
    mm_severity severity;
    mm_check_status status;
    char *target;            /* "daemon", "host", a file, or the container */
    char *container;         /* the container's name when per container */
    char *engine;            /* "docker", "podman" when per container */
    char *evidence;          /* what was seen */
    char *remediation;
    bool fixable;            /* `--fix` knows how to change it */
    char *fix;               /* the change, lines of "chmod 0644",
                                "chown root:root", "json KEY VALUE",
                                "sysctl KEY VALUE", "audit RULE",
                                "modprobe MODULE" (docs/compliance.md) */
} mm_check_result;

typedef struct mm_checks mm_checks;

int mm_checks_new(mm_checks **out);
void mm_checks_free(mm_checks *c);
size_t mm_checks_count(const mm_checks *c);
const mm_check_result *mm_checks_get(const mm_checks *c, size_t i);
/* Notes on what could not be looked at ("no docker daemon at SOCKET"). */
size_t mm_checks_note_count(const mm_checks *c);
const char *mm_checks_note(const mm_checks *c, size_t i);
/* Counts per status (array of MM_CHECK_ERROR + 1). */
void mm_checks_tally(const mm_checks *c, size_t counts[MM_CHECK_ERROR + 1]);
/* Adds a finding (kind compliance, the check's section and severity, the
 * benchmark item and docker-bench id as references, location host /
 * container / path) for every FAIL (and, with manual, every MANUAL). */
int mm_checks_to_findings(const mm_checks *c, mm_findings *out, const char *host,
                          bool manual);
/* Every result as a table or {"checks": [...], "notes": [...]}. */
int mm_checks_write(FILE *f, const mm_checks *c, bool json);

/* ---- CIS Docker Benchmark ------------------------------------------------------ */

typedef struct mm_docker_check_opts {
    const char *root;          /* files are read below it ("/" when NULL) */
    const char *proc_root;     /* where dockerd is looked for ("/proc") */
    const char *docker_host;   /* "unix:///PATH" of the daemon to ask (and to
                                  pick the dockerd whose -H names it); NULL =
                                  $DOCKER_HOST, else unix:///var/run/docker.sock */
    bool no_docker;            /* do not ask the docker daemon */
    const char *podman;        /* podman command (NULL = "podman" when found) */
    const char *podman_root, *podman_runroot; /* --root / --runroot for podman */
    bool no_podman;
    const char *const *inspect_files; /* docker/podman inspect JSON arrays to
                                         check as well (no engine needed) */
    size_t ninspect;
    bool all_containers;       /* also stopped/created ones (default: running) */
    const char *auditctl;      /* output of `auditctl -l` from this file instead
                                  of running auditctl ("" = only rules files) */
} mm_docker_check_opts;

/* Runs sections 1 (host), 2 (daemon), 3 (files), 4.1 and 5 (per container).
 * Appends results to out. */
int mm_docker_checks(mm_checks *out, const mm_docker_check_opts *o);

/* ---- native CIS Debian Linux checks -------------------------------------------- */

typedef struct mm_linux_check_opts {
    const char *root;          /* "/" when NULL */
    const char *proc_root;     /* live sysctl and modules ("/proc") */
    bool no_live;              /* sysctl from the files only, no /proc */
} mm_linux_check_opts;

int mm_linux_checks(mm_checks *out, const mm_linux_check_opts *o);

/* ---- SCAP (libopenscap) -------------------------------------------------------- */

typedef struct mm_scap_opts {
    const char *datastream;    /* SCAP source datastream (XML) */
    const char *profile;       /* XCCDF profile id (full or its suffix) */
    const char *tailoring;     /* XCCDF tailoring file, or NULL */
    const char *results_arf;   /* write ARF results here too, or NULL */
} mm_scap_opts;

/* Evaluates the profile on this host: pass/fail/notapplicable/notchecked/
 * error results become checks (notapplicable: MM_CHECK_NA with the reason;
 * notchecked/informational: MANUAL).  Needs a build with libopenscap's
 * headers and the library at run time: it is opened here, at the first
 * evaluation, not when the program starts (MM_EUNSUPPORTED naming the
 * library when it cannot be loaded). */
int mm_scap_eval(mm_checks *out, const mm_scap_opts *o);
/* Whether mm_scap_eval() can run: a build with libopenscap, and the
 * library loadable now (this loads it). */
bool mm_scap_available(void);

/* ---- enforcement (`--fix`) ----------------------------------------------------- */

typedef struct mm_fix_opts {
    const char *root;          /* files are changed below it ("/" when NULL) */
    bool apply;                /* false: only the plan and the diff */
    bool restart;              /* restart docker when daemon.json changed */
    const char *backup_dir;    /* NULL = ROOT/var/backups/mamori/<time> */
    const char *sysctl_file;   /* NULL = ROOT/etc/sysctl.d/90-mamori.conf */
    const char *audit_file;    /* NULL = ROOT/etc/audit/rules.d/90-mamori-docker.rules */
    bool live_sysctl;          /* with apply: also write /proc/sys (root "/" only) */
} mm_fix_opts;

typedef struct mm_fix_plan mm_fix_plan;

/* Builds the changes that fix the fixable FAIL results of c. */
int mm_fix_plan_new(mm_fix_plan **out, const mm_checks *c, const mm_fix_opts *o);
void mm_fix_plan_free(mm_fix_plan *p);
size_t mm_fix_plan_count(const mm_fix_plan *p);
/* Writes the plan as a unified diff (file contents) plus "# chmod/chown"
 * lines for metadata changes. */
int mm_fix_plan_diff(FILE *f, const mm_fix_plan *p);
/* Applies it: every changed file is copied to the backup folder first, and
 * a rollback script (backup/rollback.sh) that restores content, mode and
 * owner is written before the first change.  *backup gets the folder
 * (caller frees).  A daemon is restarted only with opts.restart. */
int mm_fix_plan_apply(mm_fix_plan *p, char **backup, char **notes);

#ifdef __cplusplus
}
#endif
#endif
