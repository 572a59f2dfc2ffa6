/*
 * mamori/pkgroot.h - packages of a live system root (a host, not an image):
 * which installed OS package owns a file, the OS release, and the Go build
 * information of one executable.  Used by `mamori host runtime` to tell a
 * distribution's package (matched through the distribution's feed, so
 * backported fixes count) from a stand-alone binary (matched by its own
 * version and Go build info).  Same parsers and caps as image scans.
 */
#ifndef MAMORI_PKGROOT_H
#define MAMORI_PKGROOT_H

#include "mamori/pkg.h"
#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The OS of ROOT (etc/os-release, usr/lib/os-release, release files).
 * Fields the caller frees (mm_os_info strings); NULL when unknown. */
int mm_pkgroot_os(mm_os_info *out, const char *root);

/* For each of paths (root-relative, absolute), the dpkg package that owns
 * it (var/lib/dpkg/status, info/NAME[:ARCH].list under root): owners[i]
 * receives a copy of the package (files = the path alone; caller clears
 * each with mm_package_clear) or type MM_PKG_UNKNOWN when no package owns
 * it.  Returns 0, or MM_EFORMAT naming the status file and line. */
int mm_pkgroot_owners(mm_package *owners, const char *root, const char *const *paths,
                      size_t npaths);

/* Go build info of one executable (a real path).  Returns 1 when found
 * (*goversion "go1.21.5", *main_path and *main_version of the "mod" line,
 * NULL when absent or "(devel)"; *ldflags_version from
 * "-X main.version=V" / "-X ...version.Version=V" of the build settings,
 * else NULL; the modules added to inv as MM_PKG_GOMOD with path
 * report_path), 0 when it is not a Go binary with build info, < 0 on I/O
 * errors.  Strings are the caller's. */
int mm_pkgroot_gobin(mm_inventory *inv, const char *file, const char *report_path,
                     char **goversion, char **main_path, char **main_version,
                     char **ldflags_version);

#ifdef __cplusplus
}
#endif
#endif
