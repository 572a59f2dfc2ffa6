/*
 * report/report_int.h - what the report writers share: the mamori JSON
 * document (json.c), output helpers, UUIDs for SBOM serial numbers and
 * namespaces, and SPDX licence-expression normalisation (spdx.c), which
 * both SBOM writers use.
 */
#ifndef MM_REPORT_INT_H
#define MM_REPORT_INT_H

#include <stdio.h>
#include <jansson.h>

#include "report/json.h"
#include "util/json.h"


/* The timestamp to write (opts->now, else the scan's start) as RFC 3339. */
void mm_report_time(const mm_result *r, const mm_report_opts *o,
                    char out[32]);
const char *mm_report_tool_version(const mm_report_opts *o);

/* Writes doc with indentation 2, keys in insertion order and a final
 * newline; steals doc.  0 or MM_EIO. */
int mm_report_dump(FILE *out, json_t *doc, const char *what);

/* A random (version 4) UUID, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx". */
void mm_report_uuid(char out[37]);


/* Licence strings as package metadata states them, normalised to SPDX:
 * returns a new string holding a valid SPDX licence expression with
 * canonical identifiers ("MIT", "GPL-2.0-or-later AND BSD-3-Clause"), or
 * NULL when the string is not one.  *single is set when the expression is
 * one licence identifier (no operators, no "+", no exception). */
char *mm_spdx_license_normalize(const char *s, bool *single);

/* The writers. */
int mm_report_write_json(FILE *out, mm_result *r, const mm_report_opts *o);
int mm_report_write_table(FILE *out, mm_result *r, const mm_report_opts *o);
int mm_report_write_cyclonedx(FILE *out, mm_result *r,
                              const mm_report_opts *o);
int mm_report_write_spdx(FILE *out, mm_result *r, const mm_report_opts *o);

#endif
