/*
 * util/json.h - helpers for building JSON documents with jansson (util/json.c).
 */
#ifndef MM_UTIL_JSON_H
#define MM_UTIL_JSON_H

#include <jansson.h>
#include <stddef.h>

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

/* Length of the valid UTF-8 sequence at p (at most n bytes, n >= 1), 0 if
 * none: the rules jansson applies (no overlongs, surrogates or values over
 * U+10FFFF).  Inline: the network baseline reader calls it per byte run. */
static inline size_t mm_utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

#endif
