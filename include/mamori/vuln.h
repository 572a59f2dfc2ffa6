/*
 * mamori/vuln.h - the vulnerability database and matching (SP 800-190
 * §3.1.1 image vulnerabilities, §3.4.1 runtime software, §3.5.3 host OS).
 *
 * The database is one SQLite file (default ~/.cache/mamori/vuln.db, or
 * $MAMORI_CACHE_DIR/vuln.db), built from real feeds: OSV JSON (single
 * records and osv.dev's per-ecosystem all.zip), OSV YAML (PyPA), the Debian
 * security tracker JSON and Alpine secdb.  Imports and updates are atomic:
 * the new database is built beside the old one and renamed over it, so a
 * failed or interrupted update never leaves a broken or half-new database.
 *
 * Matching turns an inventory into findings of kind MM_FIND_VULNERABILITY
 * (section "3.1.1"), backport-aware: OS packages are matched by the
 * distribution release's own feed (Debian by source package), language
 * packages by ecosystem with name normalisation.
 */
#ifndef MAMORI_VULN_H
#define MAMORI_VULN_H

#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_vulndb mm_vulndb;

/* $MAMORI_CACHE_DIR/vuln.db, else $XDG_CACHE_HOME/mamori/vuln.db, else
 * ~/.cache/mamori/vuln.db.  Caller frees. */
char *mm_vulndb_default_path(void);

/* Opens an existing database read-only; MM_ENOTFOUND when absent. */
int mm_vulndb_open(mm_vulndb **out, const char *path);
void mm_vulndb_close(mm_vulndb *db);

typedef struct mm_import_stats {
    uint64_t files;        /* feed files read */
    uint64_t advisories;   /* advisories imported */
    uint64_t affected;     /* (ecosystem, package) rows */
    uint64_t skipped;      /* records skipped with a warning */
    double seconds;
} mm_import_stats;

/* Imports local feed files, folders (recursively) and zips into the
 * database at db_path: the existing content is kept, records with the
 * same id are replaced.  Atomic: on any error (naming the file and the
 * record) the database at db_path is unchanged.  Warnings (skipped
 * records) go to warn, if not NULL. */
typedef void (*mm_warn_fn)(void *ud, const char *msg);
int mm_vulndb_import(const char *db_path, const char *const *paths,
                     size_t npaths, mm_import_stats *stats, mm_warn_fn warn,
                     void *warn_ud);

/* What `mamori db info` prints. */
typedef struct mm_vulndb_source_info {
    char *name;          /* source name from the sources file, or the path */
    char *kind;          /* "osv", "debian-tracker", "alpine-secdb" */
    char *location;      /* URL or path */
    int64_t updated_at;  /* epoch seconds */
    uint64_t records;
    char *etag, *last_modified;
} mm_vulndb_source_info;

typedef struct mm_vulndb_info {
    char *path;
    char *db_version;    /* changes with every import/update: "<schema>.<ts>" */
    int schema_version;
    int64_t built_at;
    uint64_t advisories, affected;
    mm_vulndb_source_info *sources;
    size_t nsources;
    char **ecosystems;   /* distinct ecosystems present ("Debian:12", "PyPI") */
    size_t necosystems;
} mm_vulndb_info;

int mm_vulndb_info_get(mm_vulndb *db, mm_vulndb_info **out);
void mm_vulndb_info_free(mm_vulndb_info *info);
const char *mm_vulndb_version(mm_vulndb *db);
int64_t mm_vulndb_built_at(mm_vulndb *db);

typedef struct mm_vuln_opts {
    bool ignore_unfixed;   /* drop findings without a fixed version */
    int64_t max_age_days;  /* warn when the database is older (0 = 7 days) */
} mm_vuln_opts;

void mm_vuln_opts_init(mm_vuln_opts *o);

/* Matches the result's inventory against db and appends findings to the
 * result; adds warnings to it for an OS with no feed in the database
 * ("no advisories for alpine 3.19 in the database": never a silent
 * 0 vulnerabilities), an old database, or an end-of-life release. */
int mm_vuln_match(mm_vulndb *db, mm_result *r, const mm_vuln_opts *o);

#ifdef __cplusplus
}
#endif
#endif
