/*
 * mamori/scan.h - the scan pipeline (lib/scan), the one path that every
 * front-end takes from a target to a report:
 *
 *   intake -> analyzers -> vulnerability match -> store -> filter -> report
 *
 * mm_scan() is the first two stages: one target (an image as a
 * docker-archive, an OCI layout dir or tar, or a registry reference; an OS
 * root filesystem as a directory or tar) read in a single streaming pass
 * over its layers.  An mm_pipeline runs every stage after it, once per
 * target, sharing what is costly to prepare (compiled secret rules, the
 * open vulnerability database and store) between runs.  The report is
 * written with mm_report_write() (mamori/report.h) from the result a run
 * returns.
 *
 * A result owns everything it points to (mamori/result.h); free it with
 * mm_result_free().
 */
#ifndef MAMORI_SCAN_H
#define MAMORI_SCAN_H

#include "mamori/common.h"
#include "mamori/image.h"
#include "mamori/result.h"
#include "mamori/filter.h"
#include "mamori/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Progress: called from the scanning thread, at most a few times a second. */
typedef void (*mm_progress_fn)(void *ud, int layer, int nlayers,
                               uint64_t bytes_done, uint64_t bytes_total);

/* Content-addressed layer results (issue 19): a store of layer records
 * (what the walk of one layer handed the file tree and the analyzers) that
 * many scans, in many processes, share.  A layer whose record is there is
 * not pulled, inflated or walked: the record is replayed through the same
 * analyzers, so the result is the one a walk gives.  The key names the
 * layer with everything below it (the OCI chain id of the config's
 * diff_ids), the mamori version, the scanners and the limits.  Used for
 * images with the default analyzer options only (malware and secret NULL).
 * The callbacks may block (a cache may make one caller walk a layer while
 * the others wait for its record). */
typedef struct mm_layer_cache {
    /* 0 and *data (malloc'd; the caller frees) when the key has a record;
     * MM_ENOTFOUND when not: the caller walks the layer, then put()s the
     * record or drop()s the key.  Any other error (MM_ELIMIT: the layer
     * cannot have a record): walked, not recorded. */
    int (*get)(void *ud, const char *key, char **data, size_t *len);
    /* data NULL: this layer cannot have a record (over max_record, or names
     * the walk reports): later callers walk it without waiting. */
    int (*put)(void *ud, const char *key, const char *data, size_t len);
    /* No record will come from this caller (bad = the record it got could
     * not be used and should go). */
    void (*drop)(void *ud, const char *key, bool bad);
    void *ud;
    size_t max_record;      /* bytes before compression; larger layers are
                             * always walked; 0 = 256 MiB */
} mm_layer_cache;

typedef struct mm_scan_opts {
    const char *platform;   /* "os/arch[/variant]", default "linux/amd64" */
    unsigned scanners;      /* MM_SCANNER_* bits */
    mm_limits limits;
    const char *tmpdir;     /* parent of the private temp folder, or NULL */
    int threads;            /* 0 = all cores (at most 2 pipeline stages) */
    mm_progress_fn progress;
    void *progress_ud;
    /* Registry pulls (MM_TARGET_REGISTRY): TLS, credentials, blob cache;
     * NULL = defaults. */
    const struct mm_registry_opts *registry;
    /* Borrowed, not owned: a registry client (mamori/registry.h) used
     * instead of one made from `registry`, so that many pulls share its
     * connections and tokens (mm_regscan_run does).  It must outlive the
     * scan and not be used by another thread during it.  The transport
     * findings of the scan are those of the hosts this pull used. */
    struct mm_registry *registry_client;
    /* Options of the malware and secret scanners (mamori/malware.h,
     * mamori/secret.h); NULL = their defaults.  Must outlive the scan. */
    const struct mm_malware_opts *malware;
    const struct mm_secret_opts *secret;
    /* The compiled secret rules (mm_secret_rules_new()) the secret scanner
     * uses, borrowed; NULL = compiled from `secret` for this scan. */
    const struct mm_secret_rules *secret_rules;
    /* Rules that mask secrets in what reports print (layer history, the
     * instruction of each finding), borrowed; NULL = the built-in rules,
     * compiled when first needed: into *redact_cache when redact_cache is
     * set (later scans reuse them; the caller frees the set), else for
     * this scan only. */
    const struct mm_secret_rules *redact_rules;
    struct mm_secret_rules **redact_cache;
    /* Layer records shared between scans (above), borrowed; NULL = none. */
    const mm_layer_cache *layer_cache;
} mm_scan_opts;

void mm_scan_opts_init(mm_scan_opts *o);

/* The MM_SCANNER_* bits this build implements. */
unsigned mm_scan_available_scanners(void);

int mm_scan(mm_result **out, mm_target_kind kind, const char *input,
            const mm_scan_opts *opts);

/* Intake only: opens an image (MM_TARGET_IMAGE or MM_TARGET_REGISTRY) as
 * mm_scan() would, without reading its layers, and returns a result with
 * the image metadata (digests, tags, config) and the key a scan of it is
 * stored under: the manifest digest, else the config digest (NULL when the
 * image has neither).  No layers, inventory or findings.  For the gate,
 * which decides on the stored scan of exactly this image. */
int mm_scan_inspect(mm_result **out, mm_target_kind kind, const char *input,
                    const mm_scan_opts *opts);

/* Lints a Dockerfile (mamori/dockerfile.h) into a result the report
 * writers print: the target is path, the findings are the linter's, and
 * the instruction each quotes has its secrets masked with redact_rules
 * (NULL = the built-in rules).  data (len bytes) is the text, or NULL to
 * read path.  *st (may be NULL) says what the linter could not check.
 * Parse errors as mm_dockerfile_parse(). */
struct mm_dflint_opts;
struct mm_dflint_status;
int mm_scan_dockerfile(mm_result **out, const char *path, const char *data,
                       size_t len, const struct mm_dflint_opts *lint,
                       const struct mm_secret_rules *redact_rules,
                       struct mm_dflint_status *st);

/* --- the pipeline ---------------------------------------------------------- */
typedef struct mm_pipeline_opts {
    /* intake and analyzers; the MM_SCANNER_VULN bit is ignored there: the
     * match is the `vuln` stage below */
    mm_scan_opts scan;
    /* vulnerability match */
    bool vuln;                /* match the inventory against the database */
    bool vuln_required;       /* no database is an error; else the stage is
                               * skipped and the outcome says why */
    const char *db_path;      /* NULL = mm_vulndb_default_path() */
    int64_t db_max_age_days;  /* warn when the database is older; 0 = 7 */
    /* store: the unfiltered result is recorded (filters are the user's
     * view, not the record) */
    mm_store *store;          /* borrowed; or: */
    const char *store_path;   /* opened at the first record and kept; NULL
                               * with store NULL = nothing is recorded */
    /* filter */
    mm_filter filter;         /* severities, unfixed; .ignore is replaced
                               * by ignorefile when that is set */
    const char *ignorefile;   /* loaded when the filter stage first runs */
    /* signatures (issue 20): public keys (PEM paths, mamori/trust.h), any
     * of which may have signed the image.  A registry target then has its
     * cosign-compatible signatures checked against the digest scanned: the
     * result's signature member (mm_result_signature_json) holds the
     * verification and a finding MM-SIG-001 (trust, SP 800-190 3.1.5)
     * says when none is valid.  Other targets get a warning.  Loaded by
     * mm_pipeline_new (a bad key fails there); 0 = not checked. */
    const char *const *verify_keys;
    size_t nverify_keys;
} mm_pipeline_opts;

/* Defaults: mm_scan_opts_init(), mm_filter_init(), everything else off. */
void mm_pipeline_opts_init(mm_pipeline_opts *o);

typedef struct mm_pipeline mm_pipeline;

/* Makes a pipeline; compiles the secret rules of o->scan.secret when
 * secrets are scanned, so that a bad rule file fails here, before any
 * layer is read (MM_EFORMAT naming the file and line).  o is copied; the
 * strings and objects it points to must outlive the pipeline.  One
 * pipeline serves one thread at a time. */
int mm_pipeline_new(mm_pipeline **out, const mm_pipeline_opts *o);
void mm_pipeline_free(mm_pipeline *p);

/* The stage a run stopped in. */
typedef enum mm_stage {
    MM_STAGE_NONE = 0,
    MM_STAGE_INTAKE,    /* opening or reading the target, an analyzer */
    MM_STAGE_MATCH,     /* the vulnerability database or the match */
    MM_STAGE_STORE,
    MM_STAGE_FILTER,    /* the ignore file, the filters */
} mm_stage;

/* What a run did besides its result.  Strings are owned; clear with
 * mm_pipeline_outcome_clear(). */
typedef struct mm_pipeline_outcome {
    char *db_version;      /* the database matched against; NULL = none */
    char *vuln_skipped;    /* why the match did not run ("no database at
                            * PATH (run ...)"), NULL when it ran or was off */
    bool stored;
    char *store_error;     /* recording failed: why (not an error of the
                            * run: the report is still worth having) */
    mm_filter_stats filter;
    mm_stage failed;       /* on error: the stage that failed */
} mm_pipeline_outcome;

void mm_pipeline_outcome_clear(mm_pipeline_outcome *oc);

/* Runs every stage on one target; *out receives the filtered result.  On
 * failure nothing is returned and oc->failed names the stage (a failed
 * match or filter comes after the record of the scan). */
int mm_pipeline_scan(mm_pipeline *p, mm_result **out, mm_pipeline_outcome *oc,
                     mm_target_kind kind, const char *input);
/* Runs the stages after the analyzers on a result made elsewhere (an SBOM
 * read back, a linted Dockerfile): match, store, filter; r is changed in
 * place and stays the caller's. */
int mm_pipeline_process(mm_pipeline *p, mm_result *r, mm_pipeline_outcome *oc);
/* The version of the database the runs match against, opening it on the
 * first call: *out is NULL when the match is off or there is no database
 * (then *why, when not NULL, says why, as the outcome would).  Fails only
 * when the database is required or cannot be opened. */
int mm_pipeline_db_version(mm_pipeline *p, const char **out, const char **why);

#ifdef __cplusplus
}
#endif
#endif
