/*
 * mamori/report.h - writing a scan result: a table for people, JSON (the
 * documented mamori schema, docs/json-format.md), CycloneDX 1.5 JSON and
 * SPDX 2.3 JSON.  Writers only format; they never scan.
 */
#ifndef MAMORI_REPORT_H
#define MAMORI_REPORT_H

#include <stdio.h>
#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_format {
    MM_FORMAT_TABLE = 0,
    MM_FORMAT_JSON,
    MM_FORMAT_CYCLONEDX,
    MM_FORMAT_SPDX_JSON,
    MM_FORMAT_SARIF,
} mm_format;

/* "table", "json", "cyclonedx", "spdx-json", "sarif". */
int mm_format_parse(mm_format *out, const char *name);

typedef struct mm_report_opts {
    bool color;          /* ANSI colours in the table */
    bool list_files;     /* include owned files in JSON */
    const char *tool_version; /* defaults to MM_VERSION */
    int64_t now;         /* timestamp to write; 0 = the scan's start */
} mm_report_opts;

void mm_report_opts_init(mm_report_opts *o);

/* Writes r to out in the format.  Returns 0 or MM_EIO. */
int mm_report_write(FILE *out, mm_result *r, mm_format fmt,
                    const mm_report_opts *opts);

/* The JSON report as a string (caller frees), for the store. */
int mm_report_json_string(char **out, mm_result *r, const mm_report_opts *o);

#ifdef __cplusplus
}
#endif
#endif
