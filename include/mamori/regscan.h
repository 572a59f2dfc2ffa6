/*
 * mamori/regscan.h - registry inventory and rescans (SP 800-190 §3.2.2,
 * stale images in registries): list a registry's repositories (or one
 * repository), resolve every tag to a digest, scan each digest that the
 * local store has not yet seen with the current vulnerability database,
 * record the scans, and classify every tag: older than N days (the image
 * config's `created`), not the repository's current release (the `latest`
 * tag's digest, else the highest SemVer tag), or carrying vulnerabilities
 * that have a fix.  Stale tags also become findings (kind MM_FIND_TRUST,
 * section "3.2.2", ids MM-REG-010..012) so that reports and the gate treat
 * them like any other finding.
 *
 * The run keeps going past the failure of one repository or one image:
 * the error is kept with the entry it belongs to.  Only a failure to list
 * the target itself (catalog, or the single repository's tags) fails the
 * whole call.  The library never prints: the CLI formats the report.
 *
 * Ownership: the report owns every entry and string it hands out; they
 * live until mm_regscan_report_free().  The registry client and the store
 * are borrowed for the duration of the call only.
 */
#ifndef MAMORI_REGSCAN_H
#define MAMORI_REGSCAN_H

#include "mamori/common.h"
#include "mamori/finding.h"
#include "mamori/registry.h"
#include "mamori/scan.h"
#include "mamori/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Why a tag is stale (bit set). */
enum {
    MM_REGSCAN_STALE_OLD = 1u << 0,       /* MM-REG-010: created > N days ago */
    MM_REGSCAN_STALE_NOT_CURRENT = 1u << 1, /* MM-REG-011: not the current release */
    MM_REGSCAN_STALE_FIXABLE = 1u << 2,   /* MM-REG-012: fixable vulnerabilities */
};

/* "older-than-max-age", "not-current-release", "fixable-vulnerabilities";
 * NULL for anything but one of the bits above. */
const char *mm_regscan_stale_name(unsigned bit);

typedef enum mm_regscan_status {
    MM_REGSCAN_SCANNED = 0, /* scanned (and recorded) in this run */
    MM_REGSCAN_SKIPPED,     /* the store already had a scan of this digest
                             * with the same database version, or an
                             * earlier tag of this run scanned it */
    MM_REGSCAN_ERROR,       /* resolving, pulling or scanning failed */
} mm_regscan_status;

/* "scanned", "skipped", "error". */
const char *mm_regscan_status_name(mm_regscan_status s);

/* One tag of one repository. */
typedef struct mm_regscan_image {
    char *registry;        /* host[:port] as given */
    char *repository;      /* "team/app" */
    char *tag;
    char *digest;          /* what the tag resolves to (manifest or index),
                            * NULL when resolving failed */
    char *manifest_digest; /* the platform's manifest: the store key; NULL
                            * when not known */
    char *created;         /* config `created` (RFC 3339), or NULL */
    int64_t age_days;      /* whole days since created; -1 when unknown */
    int64_t last_scanned;  /* epoch seconds of the scan used; 0 = never */
    char *db_version;      /* of that scan; NULL when no database was used */
    mm_regscan_status status;
    char *error;           /* why, for MM_REGSCAN_ERROR */
    size_t by_severity[MM_SEV_CRITICAL + 1]; /* findings of the scan */
    size_t nfindings;
    size_t fixable;        /* vulnerabilities with a fixed version */
    mm_severity fixable_max; /* highest severity among those */
    bool current;          /* the tag's digest is the current release's */
    unsigned stale;        /* MM_REGSCAN_STALE_* */
    char **warnings;       /* the scan's warnings (capped) */
    size_t nwarnings;
} mm_regscan_image;

/* One repository: its tags are the images whose repository is this. */
typedef struct mm_regscan_repo {
    char *registry;
    char *name;
    char *current_tag;     /* the current release: "latest" or the highest
                            * SemVer tag; NULL when there is none */
    char *current_digest;
    size_t ntags;
    char *error;           /* listing its tags failed: why */
} mm_regscan_repo;

typedef struct mm_regscan_progress {
    const char *image;     /* "host/repo:tag" */
    size_t index, total;   /* over all tags of the run */
    mm_regscan_status status; /* SCANNED: a scan starts now; SKIPPED, ERROR */
} mm_regscan_progress;
typedef void (*mm_regscan_progress_fn)(void *ud, const mm_regscan_progress *p);

typedef struct mm_regscan_opts {
    mm_scan_opts scan;       /* scanners, limits, platform, and .registry
                              * (the TLS/credential options the pulls use:
                              * set it to those the client was made with) */
    const char *db_path;     /* vulnerability database; NULL = default */
    bool no_vuln;            /* do not match vulnerabilities */
    bool require_db;         /* a missing database is an error (else the
                              * scans run without it and a warning says so) */
    int64_t db_max_age_days; /* warn when the database is older; 0 = 7 */
    int64_t max_age_days;    /* MM-REG-010 threshold; 0 = no age check */
    bool force;              /* rescan even what the store has */
    int64_t now;             /* epoch seconds; 0 = the current time */
    size_t max_images;       /* tags over the whole run; 0 = 100000 */
    mm_regscan_progress_fn progress;
    void *progress_ud;
    /* List and resolve only (the first phase): no database, no scan, no
     * store; each image's digest is set unless its status is ERROR.  For
     * `mamori registry scan --enqueue`, which hands the scans to workers. */
    bool list_only;
    /* Signatures (issue 20): public keys (PEM paths) the scans verify each
     * image with, as mm_pipeline_opts.verify_keys; a stored scan is reused
     * only when it holds a passed verification by these very keys. */
    const char *const *verify_keys;
    size_t nverify_keys;
} mm_regscan_opts;

/* Defaults: mm_scan_opts_init(), max_age_days 90. */
void mm_regscan_opts_init(mm_regscan_opts *o);

typedef struct mm_regscan_report mm_regscan_report;

/* Scans target "HOST" (every repository of the catalog) or "HOST/REPO"
 * (one repository).  client lists and resolves, and the scans pull
 * through it too (mm_scan(MM_TARGET_REGISTRY) with opts->scan and
 * registry_client = client: one connection pool and token cache for the
 * run).  store (may be NULL: then
 * nothing is skipped or recorded) is read for earlier scans and receives
 * the new ones.  Fails (0 / MM_E*) only when the target cannot be listed
 * or its arguments are wrong; per-image failures are in the report. */
int mm_regscan_run(mm_regscan_report **out, mm_registry *client,
                   mm_store *store, const char *target,
                   const mm_regscan_opts *opts);
void mm_regscan_report_free(mm_regscan_report *r);

const char *mm_regscan_report_target(const mm_regscan_report *r);
/* The database version the run compared and matched with, or NULL. */
const char *mm_regscan_report_db_version(const mm_regscan_report *r);
int64_t mm_regscan_report_started(const mm_regscan_report *r);
double mm_regscan_report_seconds(const mm_regscan_report *r);
size_t mm_regscan_report_repo_count(const mm_regscan_report *r);
const mm_regscan_repo *mm_regscan_report_repo(const mm_regscan_report *r,
                                              size_t i);
/* Images in repository order, then tag order. */
size_t mm_regscan_report_image_count(const mm_regscan_report *r);
const mm_regscan_image *mm_regscan_report_image(const mm_regscan_report *r,
                                                size_t i);
/* The stale-image findings (MM-REG-010..012), one per reason and tag. */
const mm_findings *mm_regscan_report_findings(const mm_regscan_report *r);
/* Run-level warnings (no database, catalog capped, ...). */
size_t mm_regscan_report_warning_count(const mm_regscan_report *r);
const char *mm_regscan_report_warning(const mm_regscan_report *r, size_t i);

typedef struct mm_regscan_summary {
    size_t repositories, tags, digests; /* digests: distinct, resolved */
    size_t scanned, skipped, errors;    /* tags by status */
    size_t stale;                       /* tags with any stale reason */
    size_t by_severity[MM_SEV_CRITICAL + 1]; /* findings, per distinct
                                              * digest (not per tag) */
    size_t fixable;                     /* likewise */
} mm_regscan_summary;
void mm_regscan_report_summary(const mm_regscan_report *r,
                               mm_regscan_summary *out);

/* The JSON document (docs/registry-scan.md); caller frees. */
int mm_regscan_report_json(char **out, const mm_regscan_report *r);

/* --- the rules, exposed for tests and for the policy gate ---------------- */

/* Compares two tags as SemVer 2.0.0 versions ("1.2.3", "v1.2.3-rc.1";
 * "1.2" and "1" read as 1.2.0 and 1.0.0; no leading zeros): <0, 0, >0.
 * Versions order before tags that are not versions, which compare as
 * strings; equal versions spelt differently ("1.2" and "1.2.0") fall
 * back to string order so that the order is total. */
int mm_regscan_tag_cmp(const char *a, const char *b);
/* Does tag read as a SemVer version (as above)?  *prerelease is set when
 * it has a pre-release part. */
bool mm_regscan_tag_is_version(const char *tag, bool *prerelease);

/* The current release among n tags: the index of "latest" when present,
 * else of the highest release version (pre-releases only when no release
 * exists), else -1.  Tags whose digest is NULL (unresolved) are ignored. */
long mm_regscan_current_release(const char *const *tags,
                                const char *const *digests, size_t n);

/* The stale reasons of one tag: digest differs from current_digest (when
 * there is a current release), created older than max_age_days (> 0)
 * before now, fixable > 0. */
unsigned mm_regscan_classify(const char *digest, const char *current_digest,
                             const char *created, int64_t now,
                             int64_t max_age_days, size_t fixable);

#ifdef __cplusplus
}
#endif
#endif
