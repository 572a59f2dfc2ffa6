/*
 * util/json.h - helpers for building JSON documents with jansson (util/json.c).
 */
#ifndef MM_UTIL_JSON_H
#define MM_UTIL_JSON_H

#include <jansson.h>

#include "util/util.h"

/* A JSON string of s (invalid UTF-8 bytes become U+FFFD), or null when s
 * is NULL. */
json_t *mm_json_str(const char *s);
/* Sets a string member only when s is not NULL. */
void mm_json_set_str(json_t *obj, const char *key, const char *s);

/* Appends s as a JSON string literal exactly as jansson dumps it (\",
 * \\, \b \f \n \r \t, other control characters as \u00XX, the rest as
 * is), with invalid UTF-8 bytes as U+FFFD like mm_json_str(); `null` when
 * s is NULL.  For writers that stream without building a tree. */
void mm_json_buf_str(mm_buf *b, const char *s);

#endif
