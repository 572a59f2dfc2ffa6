/*
 * capture_read.c - reading captures back (`mamori runtime replay`): plain
 * or zstd told by the magic number, the members of a rotated set oldest
 * first, each line capped and the total inflated size capped.  The writer
 * is capture.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <zstd.h>

#include "mamori/capture.h"
#include "mamori/rules.h"
#include "util/util.h"

#define DEF_MAX_TOTAL (64ull << 30)
#define ZSTD_MAGIC 0xFD2FB528u

#define RCHUNK (128u << 10)

struct mm_capture_reader {
    char **paths;
    size_t npaths, cur;    /* cur: index of the open file (npaths = done) */
    mm_capture_read_opts o;
    FILE *f;
    bool own;
    bool zstd, eof, frame_open, zmore;
    ZSTD_DStream *zs;
    char *zin;
    ZSTD_inBuffer in;
    uint64_t in_off;       /* file offset of zin[0] */
    mm_buf pend;           /* decoded bytes not yet returned as lines */
    size_t pend_off;
    size_t lineno;
    uint64_t total;
    char **warn;
    size_t nwarn;
    int err;
};

/* A failure of the reader: the message set, the code kept. */
static int rd_err(mm_capture_reader *r, int code)
{
    r->err = code;
    return code;
}
#define rd_fail(r, code, ...) rd_err(r, mm_error_set(code, __VA_ARGS__))

static void rd_close_file(mm_capture_reader *r)
{
    if (r->f && r->own)
        fclose(r->f);
    r->f = NULL;
    mm_buf_clear(&r->pend);
    r->pend_off = 0;
}

static const char *cur_path(const mm_capture_reader *r)
{
    return r->cur < r->npaths ? r->paths[r->cur] : r->npaths ? r->paths[r->npaths - 1] : "";
}

static int rd_open_file(mm_capture_reader *r)
{
    const char *p = r->paths[r->cur];
    if (!strcmp(p, "-")) {
        r->f = stdin;
        r->own = false;
    } else {
        struct stat st;
        r->f = fopen(p, "rb");
        if (!r->f)
            return rd_fail(r, errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: cannot open: %s",
                           p, strerror(errno));
        if (fstat(fileno(r->f), &st) == 0 && S_ISDIR(st.st_mode))
            return rd_fail(r, MM_EIO, "%s: is a directory", p);
        r->own = true;
    }
    r->lineno = 0;
    r->eof = false;
    r->frame_open = false;
    r->zmore = false;
    r->in_off = 0;
    /* the first bytes say whether this is zstd */
    size_t got = fread(r->zin, 1, RCHUNK, r->f);
    if (ferror(r->f))
        return rd_fail(r, MM_EIO, "%s: read: %s", p, strerror(errno));
    r->in.src = r->zin;
    r->in.size = got;
    r->in.pos = 0;
    r->zstd = got >= 4 && ((uint32_t)(uint8_t)r->zin[0] | (uint32_t)(uint8_t)r->zin[1] << 8 |
                           (uint32_t)(uint8_t)r->zin[2] << 16 |
                           (uint32_t)(uint8_t)r->zin[3] << 24) == ZSTD_MAGIC;
    if (r->zstd)
        ZSTD_initDStream(r->zs);
    if (!got)
        r->eof = true;
    return 0;
}

int mm_capture_reader_open(mm_capture_reader **out, const char *const *paths, size_t npaths,
                           const mm_capture_read_opts *opts)
{
    *out = NULL;
    if (!npaths)
        return mm_error_set(MM_EINVAL, "capture: no file to read");
    mm_capture_reader *r = mm_xcalloc(1, sizeof *r);
    for (size_t i = 0; i < npaths; i++)
        mm_strv_push(&r->paths, &r->npaths, paths[i]);
    if (opts)
        r->o = *opts;
    if (!r->o.max_line || r->o.max_line > MM_CAPTURE_MAX_LINE)
        r->o.max_line = MM_CAPTURE_MAX_LINE;
    if (!r->o.max_total)
        r->o.max_total = DEF_MAX_TOTAL;
    r->zs = ZSTD_createDStream();
    r->zin = mm_xmalloc(RCHUNK);
    if (!r->zs) {
        mm_capture_reader_free(r);
        return mm_error_set(MM_ENOMEM, "capture: zstd: cannot create a context");
    }
    /* bound the window a hostile frame may ask for (the writer's are small) */
    ZSTD_DCtx_setParameter(r->zs, ZSTD_d_windowLogMax, 27);
    int rc = rd_open_file(r);
    if (rc) {
        mm_capture_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* Adds more decoded bytes to pend; sets eof at the end of the file. */
static int rd_fill(mm_capture_reader *r)
{
    const char *p = r->paths[r->cur];
    /* a full output buffer last time means zstd may hold more: drain first */
    if (r->in.pos >= r->in.size && !(r->zstd && r->zmore)) {
        r->in_off += r->in.size;
        size_t got = fread(r->zin, 1, RCHUNK, r->f);
        if (ferror(r->f))
            return rd_fail(r, MM_EIO, "%s: read: %s", p, strerror(errno));
        r->in.size = got;
        r->in.pos = 0;
        if (!got) {
            r->eof = true;
            return 0;
        }
    }
    if (!r->zstd) {
        size_t n = r->in.size - r->in.pos;
        mm_buf_add(&r->pend, r->zin + r->in.pos, n);
        r->in.pos = r->in.size;
        r->total += n;
    } else {
        /* decode in slices so that a small frame cannot become a huge buffer */
        size_t chunk = ZSTD_DStreamOutSize();
        if (mm_buf_reserve(&r->pend, chunk))
            return rd_fail(r, MM_ELIMIT, "%s: decoded data over the buffer cap", p);
        ZSTD_outBuffer ob = {r->pend.data + r->pend.len, chunk, 0};
        size_t before = r->in.pos;
        size_t zr = ZSTD_decompressStream(r->zs, &ob, &r->in);
        if (ZSTD_isError(zr))
            return rd_fail(r, MM_EFORMAT,
                           "%s: zstd: corrupt data near byte %llu (after line %zu): %s", p,
                           (unsigned long long)(r->in_off + before), r->lineno,
                           ZSTD_getErrorName(zr));
        r->pend.len += ob.pos;
        r->pend.data[r->pend.len] = 0;
        r->total += ob.pos;
        r->frame_open = zr != 0;
        r->zmore = ob.pos == ob.size;
    }
    if (r->total > r->o.max_total)
        return rd_fail(r, MM_ELIMIT, "%s: more than %llu decompressed bytes (capture size cap)", p,
                       (unsigned long long)r->o.max_total);
    return 0;
}

int mm_capture_reader_next(mm_capture_reader *r, const char **line, size_t *len)
{
    if (r->err)
        return r->err;
    for (;;) {
        if (r->cur >= r->npaths)
            return 0;
        const char *p = r->paths[r->cur];
        if (r->pend_off > RCHUNK && r->pend_off * 2 > r->pend.len) {
            /* drop what was returned, so pend stays about one chunk */
            size_t rest = r->pend.len - r->pend_off;
            memmove(r->pend.data, r->pend.data + r->pend_off, rest);
            r->pend.len = rest;
            r->pend.data[rest] = 0;
            r->pend_off = 0;
        }
        char *start = r->pend.data ? r->pend.data + r->pend_off : NULL;
        size_t avail = r->pend.len - r->pend_off;
        char *nl = avail ? memchr(start, '\n', avail) : NULL;
        size_t l = nl ? (size_t)(nl - start) : avail;
        if (l > r->o.max_line)
            return rd_fail(r, MM_ELIMIT, "%s:%zu: line longer than %zu bytes", p, r->lineno + 1,
                           r->o.max_line);
        bool last = !nl && r->eof && avail;
        if (last && r->zstd && r->frame_open) {
            /* the partial line of a cut frame is not an event */
            char *w = mm_xasprintf("%s: truncated zstd frame at the end (writer stopped or still "
                                   "running): %zu bytes after line %zu ignored", p, avail, r->lineno);
            mm_strv_push(&r->warn, &r->nwarn, w);
            free(w);
            r->pend_off = r->pend.len;
            r->frame_open = false;   /* said once */
            continue;
        }
        if (nl || last) {
            /* returned in place: the buffer only moves on the next call */
            start[l] = 0;
            r->pend_off += nl ? l + 1 : l;
            r->lineno++;
            *line = start;
            *len = l;
            return 1;
        }
        if (r->eof) {
            if (r->zstd && r->frame_open && !avail) {
                char *w = mm_xasprintf("%s: truncated zstd frame at the end (writer stopped or "
                                       "still running) after line %zu", p, r->lineno);
                mm_strv_push(&r->warn, &r->nwarn, w);
                free(w);
            }
            rd_close_file(r);
            r->cur++;
            if (r->cur < r->npaths) {
                int rc = rd_open_file(r);
                if (rc)
                    return rc;
            }
            continue;
        }
        int rc = rd_fill(r);
        if (rc)
            return rc;
    }
}

const char *mm_capture_reader_path(const mm_capture_reader *r)
{
    return cur_path(r);
}

size_t mm_capture_reader_lineno(const mm_capture_reader *r)
{
    return r->lineno;
}

bool mm_capture_reader_failed(const mm_capture_reader *r)
{
    return r->err != 0;
}

size_t mm_capture_reader_warning_count(const mm_capture_reader *r)
{
    return r->nwarn;
}

const char *mm_capture_reader_warning(const mm_capture_reader *r, size_t i)
{
    return i < r->nwarn ? r->warn[i] : NULL;
}

void mm_capture_reader_free(mm_capture_reader *r)
{
    if (!r)
        return;
    rd_close_file(r);
    ZSTD_freeDStream(r->zs);
    free(r->zin);
    mm_buf_free(&r->pend);
    mm_strv_free(r->paths, r->npaths);
    mm_strv_free(r->warn, r->nwarn);
    free(r);
}
