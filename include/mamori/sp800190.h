/*
 * mamori/sp800190.h - the NIST SP 800-190 report (`mamori report`): reads
 * one or more mamori JSON reports (docs/json-format.md) of images, root
 * filesystems, Kubernetes manifests or host checks, and writes the
 * coverage matrix of the 33 comparison rows (each passing, with findings,
 * or not covered, with its evidence) followed by every finding under its
 * SP 800-190 section, as one self-contained HTML file or as JSON
 * (docs/report.md).  The row table is data in lib/report/sp800190.c.
 */
#ifndef MAMORI_SP800190_H
#define MAMORI_SP800190_H

#include <stdio.h>
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_spreport mm_spreport;

typedef enum mm_sprow_state {
    MM_SPROW_NOT_COVERED = 0, /* no input could have produced evidence */
    MM_SPROW_PASSING,         /* the scanner that checks it ran, found nothing */
    MM_SPROW_FINDINGS,        /* findings of this row exist */
} mm_sprow_state;

const char *mm_sprow_state_name(mm_sprow_state s); /* "passing", ... */

typedef enum mm_spformat {
    MM_SPFORMAT_HTML = 0,
    MM_SPFORMAT_JSON,
} mm_spformat;

/* "html" or "json". */
int mm_spformat_parse(mm_spformat *out, const char *name);

/* Caps on what one report reads (0 = the default). */
typedef struct mm_spreport_limits {
    uint64_t max_document;  /* bytes of one JSON report (default 256M) */
    size_t max_inputs;      /* reports (default 10,000) */
    size_t max_findings;    /* findings over all reports (default 2M) */
    size_t max_string;      /* longer strings are cut, marked (default 64K) */
} mm_spreport_limits;

int mm_spreport_new(mm_spreport **out, const mm_spreport_limits *lim);
void mm_spreport_free(mm_spreport *r);

/* Adds one mamori JSON report read from data (len bytes); name is what the
 * report calls it (the file, or "store:KEY").  MM_EFORMAT names name and
 * the field when the document is not a mamori scan report; MM_ELIMIT when
 * a cap is exceeded.  On error nothing of the document is kept. */
int mm_spreport_add_json(mm_spreport *r, const char *name, const char *data,
                         size_t len);
/* The same, reading the file at path (named by path). */
int mm_spreport_add_file(mm_spreport *r, const char *path);

size_t mm_spreport_input_count(const mm_spreport *r);

/* Shown findings: only these severities (bit 1 << MM_SEV_*); 0 = all.  The
 * state of a row counts every finding read, so that a filter never turns a
 * row to passing; the matrix says how many the filter hid. */
void mm_spreport_set_severities(mm_spreport *r, unsigned mask);

/* The matrix: the rows in order (R01..R33), computed from what was added. */
size_t mm_sprow_count(void);
typedef struct mm_sprow_info {
    const char *id;        /* "R01" */
    const char *section;   /* "3.1.1", or "ops" */
    const char *check;     /* what the row asks, one line */
    mm_sprow_state state;
    size_t findings;       /* findings counted for the row (all severities) */
    size_t shown;          /* of which the severity filter keeps */
    const char *evidence;  /* why this state, one paragraph (owned by r) */
} mm_sprow_info;
/* Fills *out for row i (< mm_sprow_count()); MM_EINVAL past the end. */
int mm_spreport_row(mm_spreport *r, size_t i, mm_sprow_info *out);

typedef struct mm_spreport_opts {
    const char *title;     /* heading; NULL = "SP 800-190 report" */
    int64_t now;           /* generation time (epoch seconds); 0 = now */
} mm_spreport_opts;

/* Writes the report.  0 or MM_EIO. */
int mm_spreport_write(FILE *out, mm_spreport *r, mm_spformat fmt,
                      const mm_spreport_opts *o);

#ifdef __cplusplus
}
#endif
#endif
