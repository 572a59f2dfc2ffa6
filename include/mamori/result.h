/*
 * mamori/result.h - the result of one scan: what was scanned (an image, a
 * root filesystem, an SBOM read back, a linted file), its image metadata,
 * OS and layers, the inventory, the findings and the warnings.  It is the
 * one record that the engines fill, the stores keep and the reports print
 * (lib/model).
 *
 * The result owns everything it points to; free it with mm_result_free().
 */
#ifndef MAMORI_RESULT_H
#define MAMORI_RESULT_H

#include "mamori/common.h"
#include "mamori/inventory.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_target_kind {
    MM_TARGET_IMAGE = 0, /* docker-archive tar, OCI layout dir or tar */
    MM_TARGET_ROOTFS,    /* an OS root filesystem: directory or tar */
    MM_TARGET_REGISTRY,  /* REGISTRY/REPO[:TAG][@DIGEST] pulled over the
                          * Distribution API (mamori/registry.h) */
} mm_target_kind;

/* Scanners besides the inventory (bit set): what a result says ran. */
enum {
    MM_SCANNER_VULN = 1u << 0,
    MM_SCANNER_SECRET = 1u << 1,
    MM_SCANNER_MISCONFIG = 1u << 2,
    MM_SCANNER_MALWARE = 1u << 3,
    MM_SCANNER_K8S = 1u << 4,        /* Kubernetes posture (mamori k8s) */
    MM_SCANNER_COMPLIANCE = 1u << 5, /* host benchmark (mamori host compliance) */
};

typedef struct mm_result mm_result;

void mm_result_free(mm_result *r);

/* An empty result for one file that is not an image (a Dockerfile linted
 * by `mamori config`), so that the report writers can print its findings:
 * target names the file, kind is MM_TARGET_ROOTFS, no layers, an empty
 * inventory; add findings through mm_result_findings(). */
int mm_result_new_for_file(mm_result **out, const char *target);

typedef struct mm_os_info {
    char *family;     /* os-release ID: "debian", "alpine", "rhel", ... */
    char *version;    /* VERSION_ID or the release file's version */
    char *codename;   /* VERSION_CODENAME when known */
    char *name;       /* PRETTY_NAME */
} mm_os_info;

typedef struct mm_layer_info {
    int index;
    char *digest;       /* blob digest "sha256:..." (NULL for a rootfs) */
    char *diff_id;      /* digest of the uncompressed layer */
    char *media_type;
    uint64_t size;      /* compressed blob size */
    uint64_t uncompressed;
    char *created_by;   /* history entry (Dockerfile instruction), or NULL */
    uint64_t entries;
} mm_layer_info;

typedef struct mm_image_info {
    char *source_format;   /* "docker-archive", "oci-layout", "rootfs" */
    char *manifest_digest; /* sha256 of the manifest bytes, or NULL */
    char *index_digest;    /* the index/manifest list the manifest was
                            * picked from (registry pulls), or NULL */
    char *reference;       /* registry reference as normalised, or NULL */
    char *config_digest;   /* image id */
    char *os, *architecture, *variant;
    char *created;         /* RFC 3339, from the config */
    char *user;            /* config User */
    char **repo_tags; size_t nrepo_tags;
    char **env; size_t nenv;
    char *config_json;     /* the config document as read (for later
                            * scanners: labels, history, healthcheck) */
} mm_image_info;

const char *mm_result_target(const mm_result *r);
mm_target_kind mm_result_kind(const mm_result *r);
const mm_image_info *mm_result_image(const mm_result *r);
const mm_os_info *mm_result_os(const mm_result *r);    /* never NULL;
                                                        * fields may be */
size_t mm_result_layer_count(const mm_result *r);
const mm_layer_info *mm_result_layer(const mm_result *r, size_t i);
mm_inventory *mm_result_inventory(mm_result *r);
mm_findings *mm_result_findings(mm_result *r);
size_t mm_result_warning_count(const mm_result *r);
const char *mm_result_warning(const mm_result *r, size_t i);
/* Seconds since the epoch when the scan started, and its duration. */
int64_t mm_result_started(const mm_result *r);
double mm_result_seconds(const mm_result *r);
/* A key for the store: the manifest digest, else config digest, else a
 * digest of the layer diff_ids. */
const char *mm_result_key(const mm_result *r);
/* The MM_SCANNER_* bits that ran on r (the inventory always does), so
 * that a report and the gate can tell "nothing found" from "not looked";
 * mm_vuln_match adds MM_SCANNER_VULN. */
unsigned mm_result_scanners(const mm_result *r);
void mm_result_add_scanners(mm_result *r, unsigned bits);
/* The image's signature verification (issue 20): a JSON object, the
 * document of `mamori verify --format json`, that the JSON report writes
 * as its "signature" member; NULL when none was made.  The setter copies
 * (NULL clears); the pipeline sets it (mm_pipeline_opts.verify_keys). */
const char *mm_result_signature_json(const mm_result *r);
void mm_result_set_signature_json(mm_result *r, const char *json);
/* The vulnerability database the match used: its version (NULL when no
 * match ran) and when it was built (seconds since the epoch, 0 unknown),
 * written by the JSON report as its "vulnerabilityDB" member so that a
 * reader (the console) can tell the database's age at the scan.  The
 * setter copies version; the pipeline sets it after the match. */
const char *mm_result_vulndb_version(const mm_result *r);
int64_t mm_result_vulndb_built_at(const mm_result *r);
void mm_result_set_vulndb(mm_result *r, const char *version, int64_t built_at);

/* --- results that do not come from a scan --------------------------------
 * An SBOM read back (mamori sbom) or a linted file (mamori config) is
 * reported through the same writers, so it is an mm_result too. */

/* An empty result: no layers, an empty inventory and findings, started =
 * now. */
int mm_result_new(mm_result **out, mm_target_kind kind, const char *target);
/* Appends a warning (printf format), capped like scan warnings. */
void mm_result_warn(mm_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets OS fields (copied; NULL leaves a field as it is). */
void mm_result_set_os(mm_result *r, const char *family, const char *version,
                      const char *codename, const char *name);
/* Sets the store key (copied). */
void mm_result_set_key(mm_result *r, const char *key);
/* The image info for a caller building a result (strings must be
 * malloc'ed: the result frees them). */
mm_image_info *mm_result_image_mut(mm_result *r);

/* --- filling a result (the pipeline and the engines) ---------------------
 * Strings stored into the structures handed out here must be malloc'ed:
 * the result frees them. */

/* The OS, for the analyzer that reads the release files. */
mm_os_info *mm_result_os_mut(mm_result *r);
/* Replaces the layer list with n zeroed layers (index set, -1 nowhere) and
 * returns it for filling; NULL when n is 0. */
mm_layer_info *mm_result_set_layers(mm_result *r, size_t n);
mm_layer_info *mm_result_layer_mut(mm_result *r, size_t i);
void mm_result_set_kind(mm_result *r, mm_target_kind kind);
/* Start (epoch seconds) and duration of the scan. */
void mm_result_set_timing(mm_result *r, int64_t started, double seconds);
/* Replaces the set of scanners that ran. */
void mm_result_set_scanners(mm_result *r, unsigned bits);
/* Warnings that did not fit under the cap of mm_result_warn() (1,000). */
uint64_t mm_result_warnings_dropped(const mm_result *r);

#ifdef __cplusplus
}
#endif
#endif
