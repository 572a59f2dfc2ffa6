/*
 * mamori/store.h - the local record of what was scanned, when, and with
 * which vulnerability database version: an SQLite file (default
 * ~/.cache/mamori/mamori.db, or $MAMORI_CACHE_DIR/mamori.db) keyed by image
 * digest.  The gate, registry rescans and the server read it later.
 */
#ifndef MAMORI_STORE_H
#define MAMORI_STORE_H

#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_store mm_store;

/* The default path: $MAMORI_CACHE_DIR, else $XDG_CACHE_HOME/mamori, else
 * $HOME/.cache/mamori; plus "/mamori.db".  Caller frees. */
char *mm_store_default_path(void);

/* Opens (creating the folder and schema when needed) the store at path. */
int mm_store_open(mm_store **out, const char *path);
void mm_store_close(mm_store *s);

/* Records the scan: key, target, kind, counts, db_version (NULL when no
 * vulnerability database was used) and the full JSON report. */
int mm_store_put_scan(mm_store *s, mm_result *r, const char *db_version);

typedef struct mm_scan_record {
    int64_t id;
    char *key;          /* image digest */
    char *target;
    int64_t scanned_at; /* epoch seconds */
    char *db_version;
    int64_t npackages, nfindings;
    char *report_json;
} mm_scan_record;

/* The newest scan of key; MM_ENOTFOUND when there is none. Free with
 * mm_scan_record_free. */
int mm_store_get_latest(mm_store *s, const char *key, mm_scan_record **out);
void mm_scan_record_free(mm_scan_record *rec);

/* Calls fn for the newest `limit` scans (all when limit <= 0), newest
 * first, without their reports; fn returns non-zero to stop.  The record
 * is valid only during the call. */
typedef int (*mm_store_list_fn)(void *ud, const mm_scan_record *rec);
int mm_store_list(mm_store *s, int limit, mm_store_list_fn fn, void *ud);

#ifdef __cplusplus
}
#endif
#endif
