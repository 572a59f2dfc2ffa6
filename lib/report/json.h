/*
 * report/json.h - the mamori JSON report (docs/json-format.md) as a
 * jansson document, for the parts of the library that embed it in a
 * document of their own (a registry scan's findings, the server's API).
 * Front-ends use mm_report_write() / mm_report_json_string() instead.
 */
#ifndef MM_REPORT_JSON_H
#define MM_REPORT_JSON_H

#include <jansson.h>

#include "mamori/report.h"

/* A new reference the caller owns. */
json_t *mm_report_json_doc(mm_result *r, const mm_report_opts *o);

#endif
