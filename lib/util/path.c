/*
 * path.c - normalisation of entry names read from image layers.  Names are
 * hostile: "../../etc/passwd", "/abs", "a//b/./c" all happen.  Everything is
 * reduced to a root-relative "a/b/c"; an attempt to climb above the root is
 * clamped at the root and flagged so that the scan can report it.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

/* Appends the components of s to b (which holds a normalised path). */
static void add_components(mm_buf *b, const char *s, bool *escaped)
{
    const char *p = s;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 1 && p[0] == '.') {
            /* nothing */
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (b->len == 0) {
                if (escaped)
                    *escaped = true;
            } else {
                size_t d = b->len;
                while (d > 0 && b->data[d - 1] != '/')
                    d--;
                b->len = d ? d - 1 : 0;
                b->data[b->len] = 0;
            }
        } else {
            if (b->len)
                mm_buf_addc(b, '/');
            mm_buf_add(b, p, n);
        }
        p += n;
    }
}

char *mm_path_normalize(const char *name, bool *escaped)
{
    mm_buf b = MM_BUF_INIT;
    if (escaped)
        *escaped = false;
    add_components(&b, name, escaped);
    if (b.len == 0) {
        mm_buf_free(&b);
        return NULL;
    }
    return mm_buf_detach(&b);
}

char *mm_path_join_norm(const char *dir, const char *rel, bool *escaped)
{
    mm_buf b = MM_BUF_INIT;
    if (escaped)
        *escaped = false;
    if (rel[0] != '/' && dir)
        add_components(&b, dir, escaped);
    add_components(&b, rel, escaped);
    if (b.len == 0) {
        mm_buf_free(&b);
        return NULL;
    }
    return mm_buf_detach(&b);
}

const char *mm_path_base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

size_t mm_path_dirlen(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? (size_t)(s - p) : 0;
}
