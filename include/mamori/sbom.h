/*
 * mamori/sbom.h - reading a stored SBOM back into a result, so that an
 * image scanned once is re-checked against today's vulnerability database
 * without pulling it again (SP 800-190 §4.1.1).
 *
 * Accepted: CycloneDX JSON 1.4 to 1.6 and SPDX 2.2/2.3 JSON, written by
 * mamori or by another tool (trivy, syft).  The OS comes from the
 * operating-system component/package, else from a purl's "distro"
 * qualifier; packages come from their package-urls (type, namespace, name,
 * version, arch/epoch/distro/upstream qualifiers), the source package
 * from mamori's, trivy's or syft's properties (Debian matching is by
 * source package).  Components without a purl of a known type are
 * skipped.  A mamori JSON report (docs/json-format.md: schemaVersion 1
 * with a `packages` array) is read the same way, through its packages'
 * purls, srcName/srcVersion and its `os`: what `mamori server` re-matches
 * after a database update.
 */
#ifndef MAMORI_SBOM_H
#define MAMORI_SBOM_H

#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the SBOM at path (capped at 256 MiB, 1,000,000 components) into a
 * new result of kind IMAGE (a container SBOM) or ROOTFS (anything else)
 * with the OS and the inventory filled and no findings.  MM_EFORMAT names
 * the file and the field when the document is not a CycloneDX or SPDX
 * JSON SBOM. */
int mm_sbom_load(mm_result **out, const char *path);
/* The same for a document in memory; name is used in messages. */
int mm_sbom_parse(mm_result **out, const char *data, size_t len,
                  const char *name);

#ifdef __cplusplus
}
#endif
#endif
