/*
 * str.c - string helpers: prefixes, trimming, string vectors and a line
 * iterator over buffers that need not be NUL-terminated (package databases
 * arrive as raw bytes from layers).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

bool mm_str_startswith(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool mm_str_endswith(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t mm_str_cat(char *dst, size_t cap, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        if (!parts[i])
            continue;
        size_t l = strlen(parts[i]);
        if (len + 1 < cap) {
            size_t room = cap - 1 - len;
            memcpy(dst + len, parts[i], l < room ? l : room);
        }
        len += l;
    }
    if (cap)
        dst[len < cap ? len : cap - 1] = 0;
    return len;
}

size_t mm_str_utoa(char buf[24], unsigned long long v)
{
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return n;
}

char *mm_str_trim(char *s)
{
    char *p = s;
    while (*p && isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1]))
        n--;
    memmove(s, p, n);
    s[n] = 0;
    return s;
}

char *mm_str_printable(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *o = mm_xmalloc(n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9f) {
            o[k++] = '?';
            i++;
        } else {
            o[k++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        }
    }
    o[k] = 0;
    return o;
}

void mm_strv_push(char ***v, size_t *n, const char *s)
{
    /* The capacity is implied by n: the array is grown to 2n slots each
     * time n reaches a power of two, so callers need no extra field. */
    if (*n == 0 || (*n & (*n - 1)) == 0)
        *v = mm_xrealloc(*v, (*n ? *n * 2 : 1) * sizeof **v);
    (*v)[(*n)++] = mm_xstrdup(s);
}

void mm_strv_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void mm_lines_init(mm_lines *it, const char *data, size_t len)
{
    it->p = data;
    it->end = data + len;
    it->lineno = 0;
}

bool mm_lines_next(mm_lines *it, const char **line, size_t *len)
{
    if (it->p >= it->end)
        return false;
    const char *nl = memchr(it->p, '\n', (size_t)(it->end - it->p));
    const char *e = nl ? nl : it->end;
    *line = it->p;
    *len = (size_t)(e - it->p);
    if (*len && (*line)[*len - 1] == '\r')
        (*len)--;
    it->p = nl ? nl + 1 : it->end;
    it->lineno++;
    return true;
}
