/*
 * util/json.h - helpers for building JSON documents with jansson (util/json.c).
 */
#ifndef MM_UTIL_JSON_H
#define MM_UTIL_JSON_H

#include <jansson.h>

/* A JSON string of s (invalid UTF-8 bytes become U+FFFD), or null when s
 * is NULL. */
json_t *mm_json_str(const char *s);
/* Sets a string member only when s is not NULL. */
void mm_json_set_str(json_t *obj, const char *key, const char *s);

#endif
