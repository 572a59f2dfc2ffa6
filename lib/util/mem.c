/*
 * mem.c - allocation wrappers and the growable buffer.  Allocation failure
 * aborts: every size that comes from untrusted input is capped before it
 * gets here, so running out means the machine itself is out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static void __attribute__((noreturn)) mm_xalloc_fail(size_t n)
{
    fprintf(stderr, "mamori: out of memory allocating %zu bytes\n", n);
    abort();
}

void *mm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        mm_xalloc_fail(n);
    return p;
}

void *mm_xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p)
        mm_xalloc_fail(n * sz);
    return p;
}

void *mm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        mm_xalloc_fail(n);
    return q;
}

char *mm_xstrdup(const char *s)
{
    return s ? mm_xstrndup(s, strlen(s)) : NULL;
}

char *mm_xstrndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    n = strnlen(s, n); /* never read past a shorter string's end */
    char *d = mm_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

/* fmt always comes from a checked printf-style caller */
__attribute__((format(printf, 1, 0)))
char *mm_xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        mm_xalloc_fail(0);
    return s;
}

char *mm_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = mm_xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

void mm_buf_init(mm_buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

static size_t buf_max(const mm_buf *b)
{
    return b->max ? b->max : MM_BUF_DEFAULT_MAX;
}

int mm_buf_reserve(mm_buf *b, size_t extra)
{
    if (extra > buf_max(b) || b->len > buf_max(b) - extra) {
        b->over = true;
        return mm_error_set(MM_ELIMIT, "buffer: %zu more bytes would pass the cap of %zu",
                            extra, buf_max(b));
    }
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = mm_xrealloc(b->data, cap);
    b->cap = cap;
    b->data[b->len] = 0;
    return 0;
}

int mm_buf_add(mm_buf *b, const void *d, size_t n)
{
    int rc = mm_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, d, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int mm_buf_adds(mm_buf *b, const char *s)
{
    return mm_buf_add(b, s, strlen(s));
}

int mm_buf_addc(mm_buf *b, char c)
{
    return mm_buf_add(b, &c, 1);
}

int mm_buf_printf(mm_buf *b, const char *fmt, ...)
{
    va_list ap, ap2;
    char probe[1];
    int rc = 0;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    /* straight into the free space when it fits (one pass), else measured
     * and written again after a reserve */
    size_t room = b->data && b->cap > b->len ? b->cap - b->len : 0;
    int n = room ? vsnprintf(b->data + b->len, room, fmt, ap) : vsnprintf(probe, 0, fmt, ap);
    va_end(ap);
    if (n > 0 && (size_t)n < room) {
        if (b->len + (size_t)n > buf_max(b)) {
            b->data[b->len] = 0;
            b->over = true;
            rc = mm_error_set(MM_ELIMIT, "buffer: %d more bytes would pass the cap of %zu",
                              n, buf_max(b));
        } else {
            b->len += (size_t)n;
        }
    } else if (n > 0 && (rc = mm_buf_reserve(b, (size_t)n)) == 0) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    } else if (room) {
        b->data[b->len] = 0;   /* a cut first pass or an error: nothing added */
    }
    va_end(ap2);
    return rc;
}

void mm_buf_clear(mm_buf *b)
{
    b->len = 0;
    b->over = false;
    if (b->data)
        b->data[0] = 0;
}

char *mm_buf_detach(mm_buf *b)
{
    char *d = b->data ? b->data : mm_xstrdup("");
    b->data = NULL;
    b->len = b->cap = 0;
    b->over = false;
    return d;
}

void mm_buf_free(mm_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->over = false;
}
