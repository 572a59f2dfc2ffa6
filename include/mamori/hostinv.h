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
#include "mamori/scan.h"
#include "mamori/vuln.h"

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

#ifdef __cplusplus
}
#endif
#endif
