/*
 * mamori/vulnupdate.h - `mamori db update`: the sources file and the
 * download of the feeds it lists into the vulnerability database.
 *
 * The sources file (YAML, docs/vuln-sources.md) lists feeds by name, kind
 * and URL.  An update downloads every selected source into a private temp
 * folder first (HTTPS, conditional requests with the stored ETag and
 * Last-Modified, size caps, retries with backoff, content checks), then
 * builds ONE new database from a copy of the existing one with the changed
 * sources replaced, and renames it over the old file.  A failure leaves the
 * existing database byte-identical.
 */
#ifndef MAMORI_VULNUPDATE_H
#define MAMORI_VULNUPDATE_H

#include "mamori/vuln.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_source_kind {
    MM_SRC_OSV = 0,          /* one OSV record (JSON or YAML) or a JSON array */
    MM_SRC_OSV_ZIP,          /* osv.dev's per-ecosystem all.zip */
    MM_SRC_DEBIAN_TRACKER,   /* security-tracker.debian.org/tracker/data/json */
    MM_SRC_ALPINE_SECDB,     /* secdb.alpinelinux.org/vX.Y/{main,community}.json */
} mm_source_kind;

/* "osv", "osv-zip", "debian-tracker", "alpine-secdb". */
const char *mm_source_kind_name(mm_source_kind k);

#define MM_SOURCE_DEFAULT_MAX_SIZE (512ULL << 20)

typedef struct mm_vuln_source {
    char *name;              /* [A-Za-z0-9._-]+, unique in the file */
    mm_source_kind kind;
    char *url;               /* https:// (http:// is refused at update time
                                unless loopback or allow_insecure) */
    char *sha256;            /* 64 lowercase hex, or NULL */
    char *sha256_url;        /* a file publishing the digest, or NULL */
    uint64_t max_size;       /* bytes; MM_SOURCE_DEFAULT_MAX_SIZE when unset */
    uint64_t expect_min_records; /* 0 = no check */
    int line;                /* line of the entry in the sources file */
} mm_vuln_source;

typedef struct mm_vuln_sources {
    char *path;              /* where it was read from ("<memory>" ...) */
    mm_vuln_source *v;
    size_t n;
} mm_vuln_sources;

/* The sources file used when none is given: $MAMORI_SOURCES, else
 * $XDG_CONFIG_HOME/mamori/vuln-sources.yaml (~/.config/...) when present,
 * else the installed <datadir>/mamori/vuln-sources.yaml, else the copy in
 * the source tree (uninstalled builds).  Caller frees; NULL when none
 * exists (MM_ENOTFOUND set). */
char *mm_vuln_sources_default_path(void);

/* Parses a sources file; errors name the file and line ("FILE:12: ...").
 * The file is capped at 1 MiB and 1000 sources. */
int mm_vuln_sources_load(mm_vuln_sources **out, const char *path);
int mm_vuln_sources_parse(mm_vuln_sources **out, const char *data, size_t len,
                          const char *name);
/* Keeps only the sources named in the comma-separated list; MM_ENOTFOUND
 * naming the first unknown name. */
int mm_vuln_sources_restrict(mm_vuln_sources *s, const char *names_csv);
void mm_vuln_sources_free(mm_vuln_sources *s);

/* --- the update ---------------------------------------------------------- */

typedef enum mm_update_status {
    MM_UPD_PENDING = 0,
    MM_UPD_UNCHANGED,        /* 304 Not Modified: the stored rows are kept */
    MM_UPD_UPDATED,          /* downloaded and imported */
    MM_UPD_FAILED,           /* error holds why */
} mm_update_status;

typedef struct mm_update_source_result {
    char *name, *url;
    mm_update_status status;
    uint64_t bytes;          /* downloaded */
    uint64_t records;        /* advisories imported (UPDATED) */
    unsigned attempts;       /* HTTP requests made for the feed */
    char *error;             /* FAILED: message naming the source and URL */
} mm_update_source_result;

typedef struct mm_update_report {
    mm_update_source_result *v;
    size_t n;
    size_t nupdated, nunchanged, nfailed;
    bool db_written;         /* a new database replaced the old one */
    bool partial;            /* keep_going: some sources failed, the others
                                were imported (the call returned MM_EIO) */
    mm_import_stats stats;   /* of the build, when db_written */
    double seconds;
} mm_update_report;

typedef struct mm_update_opts {
    const char *sources_path;  /* NULL = mm_vuln_sources_default_path() */
    const char *only;          /* comma-separated source names, or NULL */
    bool allow_insecure;       /* permit http:// to non-loopback hosts */
    bool keep_going;           /* import the sources that worked; still
                                  returns MM_EIO when any failed */
    bool force;                /* no conditional request: fetch everything */
    unsigned retries;          /* extra attempts on 5xx/429/network errors
                                  (default 3 when init'ed) */
    double backoff;            /* first retry delay, seconds (1), doubling */
    double max_retry_wait;     /* cap on Retry-After and backoff (60 s) */
    long connect_timeout;      /* seconds (30) */
    long stall_timeout;        /* abort when under 1 byte/s this long (60) */
    long total_timeout;        /* per transfer, seconds; 0 = none */
    const char *tmp_parent;    /* where the download folder goes (NULL = the
                                  database's folder, so huge feeds do not
                                  fill a tmpfs /tmp) */
    /* Progress of the current download (total 0 when unknown); called
     * often: the front-end draws, the library never prints. */
    void (*progress)(void *ud, const char *source, uint64_t done,
                     uint64_t total);
    /* One line per event ("debian: unchanged (304)", "retrying ...") */
    void (*note)(void *ud, const char *msg);
    mm_warn_fn warn;           /* import warnings (skipped records) */
    void *ud;
} mm_update_opts;

void mm_update_opts_init(mm_update_opts *o);

/* Updates the database at db_path from the sources.  Returns 0 when every
 * selected source is unchanged or updated; on failure returns the error
 * (the message names the source and URL) and the database is unchanged,
 * unless keep_going, where the sources that worked are imported and
 * MM_EIO is returned naming the failed ones.  *out (always set when not
 * NULL, even on failure) tells each source's fate; free it. */
int mm_vulndb_update(const char *db_path, const mm_update_opts *o,
                     mm_update_report **out);
void mm_update_report_free(mm_update_report *r);

#ifdef __cplusplus
}
#endif
#endif
