/*
 * mamori/pkg.h - what the package analyzers (lib/pkg) offer besides filling
 * the inventory (mamori/inventory.h): the package-url of a package.
 */
#ifndef MAMORI_PKG_H
#define MAMORI_PKG_H

#include "mamori/inventory.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The package-url of a package; distro is e.g. "debian-12" (for the
 * `distro` qualifier of OS packages) or NULL.  Caller frees. */
char *mm_purl_for(const mm_package *pkg, const char *os_id,
                  const char *distro);

#ifdef __cplusplus
}
#endif
#endif
