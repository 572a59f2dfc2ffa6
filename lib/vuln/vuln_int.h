/*
 * vuln/vuln_int.h - what the vulnerability-database files share inside the
 * library: the SQLite schema, the open database handle, and the "build"
 * through which every writer (local import, `db update`) changes a
 * database.
 *
 * A build never touches the live file: it is a copy of the current database
 * (SQLite backup API) or a fresh one, in a temp file beside it, filled in
 * ONE transaction with prepared statements, and renamed over the live file
 * only by mm_vulndb_build_commit() after an fsync.  Anything else (abort,
 * an error, a crash) leaves the live file byte-for-byte as it was.
 */
#ifndef MM_VULN_INT_H
#define MM_VULN_INT_H

#include <sqlite3.h>

#include "mamori/vuln.h"

#define MM_VULNDB_SCHEMA_VERSION 1

/* The schema (PRAGMA user_version = 1); see docs/vulndb.md.  Beyond the
 * shared design: affected.source names the source that wrote the row, so
 * that an update can replace one source's rows without touching the
 * others', and affected(advisory_id) is indexed for those replacements. */
#define MM_VULNDB_SCHEMA_SQL                                                  \
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT);"                    \
    "CREATE TABLE sources(name TEXT PRIMARY KEY, kind TEXT, location TEXT,"   \
    " updated_at INTEGER, records INTEGER, etag TEXT, last_modified TEXT,"    \
    " sha256 TEXT);"                                                          \
    "CREATE TABLE advisories(id INTEGER PRIMARY KEY,"                         \
    " advisory TEXT UNIQUE NOT NULL, aliases TEXT, summary TEXT,"             \
    " details TEXT, severity TEXT, cvss_vector TEXT, cvss_score REAL,"        \
    " published TEXT, modified TEXT, refs TEXT, source TEXT);"                \
    "CREATE TABLE affected(advisory_id INTEGER REFERENCES advisories(id)"     \
    " ON DELETE CASCADE, ecosystem TEXT NOT NULL, package TEXT NOT NULL,"     \
    " ranges TEXT, versions TEXT, fixed TEXT, severity TEXT, source TEXT);"   \
    "CREATE INDEX affected_lookup ON affected(ecosystem, package);"           \
    "CREATE INDEX affected_advisory ON affected(advisory_id);"                \
    "PRAGMA user_version = 1;"

/* Caps on untrusted feeds. */
#define MM_VULN_MAX_FILE (1024ULL << 20)     /* one feed file read whole */
#define MM_VULN_MAX_MEMBER (64ULL << 20)     /* one zip member, uncompressed */
#define MM_VULN_MAX_ZIP_TOTAL (8ULL << 30)   /* all members of one zip */
#define MM_VULN_MAX_MEMBERS 2000000          /* members of one zip */
#define MM_VULN_MAX_WALK_FILES 1000000       /* files of one folder walk */
#define MM_VULN_MAX_WALK_DEPTH 32
#define MM_VULN_MAX_STRING (1u << 20)        /* any one string of a record */
#define MM_VULN_MAX_DEPTH 64                 /* nesting inside a record */
#define MM_VULN_MAX_NODES 1000000            /* values in one record / YAML doc */

/* An open database (read-only for matching and info). */
struct mm_vulndb {
    sqlite3 *db;
    char *path;
    char *version;     /* meta db_version */
    int64_t built_at;  /* meta built_at */
};

/* --- building ------------------------------------------------------------- */

typedef struct mm_vulndb_build mm_vulndb_build;

/* One advisory as the parsers hand it over (borrowed strings; NULL = no
 * value; *_json are JSON texts). */
typedef struct mm_vadv {
    const char *id;
    const char *aliases_json;   /* ["CVE-..", ...] */
    const char *summary, *details;
    const char *severity;       /* CRITICAL/HIGH/MEDIUM/LOW or NULL */
    const char *cvss_vector;
    double cvss_score;          /* < 0: none */
    const char *published, *modified;
    const char *refs_json;      /* ["https://..", ...] */
} mm_vadv;

typedef struct mm_vaff {
    const char *ecosystem;      /* normalised ("Ubuntu:22.04", "PyPI") */
    const char *package;        /* normalised per ecosystem */
    const char *ranges_json;    /* OSV ranges array */
    const char *versions_json;  /* array or NULL */
    const char *fixed;          /* lowest fixed, or NULL */
    const char *severity;       /* per-ecosystem vendor severity or NULL */
} mm_vaff;

/* Starts a build of db_path (its folder is created, 0700): a temp file
 * "<db_path>.build-XXXXXX" beside it holding a copy of the existing
 * database, or a fresh one.  warn (may be NULL) receives the warnings of
 * skipped records.  Refuses an existing file of another schema version. */
int mm_vulndb_build_begin(mm_vulndb_build **out, const char *db_path,
                          mm_warn_fn warn, void *warn_ud);

/* What one import call brought in. */
typedef struct mm_vulndb_feed_result {
    const char *kind;     /* "osv", "osv-zip", "debian-tracker",
                             "alpine-secdb", "mixed" (folders), static */
    uint64_t records;     /* advisories stored */
} mm_vulndb_feed_result;

/* Imports a local file (any feed format, detected by content), a zip of
 * OSV records, or a folder (walked recursively: *.json, *.yaml, *.yml,
 * *.zip).  Rows are tagged with source (NULL = path).  Errors name the file,
 * the zip member and the record id or byte offset. */
int mm_vulndb_build_import_path(mm_vulndb_build *b, const char *path,
                                const char *source, mm_vulndb_feed_result *res);
/* The same for a feed in memory (a download): label names it in errors. */
int mm_vulndb_build_import_mem(mm_vulndb_build *b, const void *data, size_t len,
                               const char *label, const char *source,
                               mm_vulndb_feed_result *res);

/* Removes every affected row written by source (and advisories left with
 * no rows) and its sources row: call before importing a new copy of a
 * source so that records it dropped disappear too. */
int mm_vulndb_build_drop_source(mm_vulndb_build *b, const char *source);

/* Writes (replaces) the sources row.  s->records == 0 and s->updated_at
 * == 0 are stored as given; sha256 may be NULL. */
int mm_vulndb_build_set_source(mm_vulndb_build *b, const mm_vulndb_source_info *s,
                               const char *sha256);

/* Counters so far (files, advisories, affected, skipped). */
const mm_import_stats *mm_vulndb_build_stats(const mm_vulndb_build *b);

/* Sets meta (schema, built_at, db_version), commits, fsyncs, renames the
 * temp file over db_path and frees b, in every case (on failure the temp
 * file is removed and db_path is unchanged). */
int mm_vulndb_build_commit(mm_vulndb_build *b);
/* Discards the build: the temp file is removed; NULL is accepted. */
void mm_vulndb_build_abort(mm_vulndb_build *b);

/* --- used by the parsers (import.c) ---------------------------------------- */

/* Stores one advisory with its affected rows; the first time in a build
 * that (id, ecosystem) is seen, older rows for that pair are removed, so
 * that a re-import replaces instead of duplicating.  label names the file
 * in errors. */
int mm_vulndb_build_put(mm_vulndb_build *b, const char *label, const mm_vadv *a,
                        const mm_vaff *aff, size_t naff);
/* Reports a skipped record: counted, and passed to the warn callback. */
void mm_vulndb_build_skip(mm_vulndb_build *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The source name rows are being tagged with (set by the import calls). */
void mm_vulndb_build_use_source(mm_vulndb_build *b, const char *source);
void mm_vulndb_build_count_file(mm_vulndb_build *b);

/* CVSS v3.0/v3.1 base score of a vector ("CVSS:3.1/AV:N/..."), or -1
 * when it is not a complete, valid v3 vector. */
double mm_cvss3_base_score(const char *vector);
/* CRITICAL (>= 9.0), HIGH (>= 7), MEDIUM (>= 4), LOW (> 0), else NULL. */
const char *mm_cvss_severity(double score);

#endif
