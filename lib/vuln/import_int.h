/*
 * vuln/import_int.h - what the feed importers share: the import state, the
 * caps on ids and names, record checks and name normalisation (import.c),
 * and one entry per feed format (import_osv.c, import_alpine.c,
 * import_debian.c) that the dispatcher of import.c calls.
 */
#ifndef MM_VULN_IMPORT_INT_H
#define MM_VULN_IMPORT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "util/util.h"
#include "vuln/vuln_int.h"

#define MAX_ID 256
#define MAX_NAME 1024

typedef struct imp {
    mm_vulndb_build *b;
    const char *kind;      /* kind of the first feed seen */
    bool mixed;
    bool in_walk;          /* unrecognised files in folders are skipped */
    uint64_t records;
    uint64_t zip_total;    /* bytes inflated from the current zip */
} imp;

#define FAIL(...) do { rc = mm_error_set(MM_EFORMAT, __VA_ARGS__); goto out; } while (0)

const char *mm_imp_check_json(const json_t *j, int depth, size_t *nodes);
char *mm_imp_dump(json_t *j);
bool mm_imp_norm_ecosystem(const char *in, mm_buf *out);
void mm_imp_norm_package(const char *eco, const char *name, mm_buf *out);
const char *mm_imp_opt_str(json_t *o, const char *key, bool *bad);
int mm_imp_osv_record(imp *im, const char *label, json_t *rec, size_t offset);
const char *mm_imp_vendor_severity(const char *s);
char *mm_imp_range_fixed(const char *fixed);
int mm_imp_secdb(imp *im, const char *label, json_t *root);
int mm_imp_tracker_package(imp *im, const char *label, const char *pkg, json_t *cves);

#endif
