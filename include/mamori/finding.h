/*
 * mamori/finding.h - the one finding shape every scanner emits.
 *
 * Vulnerabilities, secrets, malware, misconfigurations, compliance results
 * and runtime alerts are all an mm_finding: id, kind, severity, title,
 * location, evidence (masked where sensitive), remediation, references and
 * the NIST SP 800-190 section it addresses.  Reports, the gate and the
 * stores read only this shape.  Findings are owned by an mm_findings list;
 * mm_findings_add() copies what it is given.
 */
#ifndef MAMORI_FINDING_H
#define MAMORI_FINDING_H

#include "mamori/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_severity {
    MM_SEV_UNKNOWN = 0, /* the source gave none: filters treat it explicitly */
    MM_SEV_LOW,
    MM_SEV_MEDIUM,
    MM_SEV_HIGH,
    MM_SEV_CRITICAL,
} mm_severity;

const char *mm_severity_name(mm_severity s);    /* "UNKNOWN".."CRITICAL" */
int mm_severity_parse(mm_severity *out, const char *s); /* case-insensitive */

typedef enum mm_finding_kind {
    MM_FIND_VULNERABILITY = 0,
    MM_FIND_MISCONFIG,
    MM_FIND_SECRET,
    MM_FIND_MALWARE,
    MM_FIND_TRUST,      /* signatures, registries, provenance */
    MM_FIND_COMPLIANCE,
    MM_FIND_RUNTIME,
    MM_FIND_NETWORK,
    MM_FIND_INTAKE,     /* the image itself was unusual: unsafe paths, ... */
    MM_FIND__COUNT
} mm_finding_kind;

const char *mm_finding_kind_name(mm_finding_kind k); /* "vulnerability", ... */

typedef struct mm_location {
    char *image;        /* image reference or digest */
    int layer;          /* layer index, -1 when none */
    char *layer_digest; /* diff_id */
    char *instruction;  /* Dockerfile instruction that made the layer */
    char *path;         /* image-absolute file path */
    int line;           /* 1-based, 0 when none */
    char *package;      /* "name@version" */
    char *host, *container, *process; /* runtime locations (later issues) */
    char *resource;     /* orchestrator object "namespace/Kind/name" */
    char *field;        /* JSON path of the offending field in it:
                         * "spec.template.spec.containers[0].image" */
} mm_location;

typedef struct mm_finding {
    char *id;           /* rule or advisory id */
    mm_finding_kind kind;
    mm_severity severity;
    char *title;
    mm_location loc;
    char *evidence;     /* masked where sensitive */
    char *remediation;
    char **references;
    size_t nreferences;
    char *section;      /* NIST SP 800-190 section, e.g. "3.1.1" */
} mm_finding;

typedef struct mm_findings mm_findings;

int mm_findings_new(mm_findings **out);
void mm_findings_free(mm_findings *f);
/* Deep-copies *f; a NULL section is refused (every finding names one). */
int mm_findings_add(mm_findings *list, const mm_finding *f);
size_t mm_findings_count(const mm_findings *list);
const mm_finding *mm_findings_get(const mm_findings *list, size_t i);
/* Removes (and frees) every finding for which keep() returns false,
 * keeping the order of the rest. */
void mm_findings_retain(mm_findings *list,
                        bool (*keep)(void *ud, const mm_finding *f), void *ud);

#ifdef __cplusplus
}
#endif
#endif
