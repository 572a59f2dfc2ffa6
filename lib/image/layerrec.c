/*
 * image/layerrec.c - the layer record (issue 19, content-addressed layer
 * results): what the walker handed the merged tree and the analyzers for
 * one layer, so that a layer already analysed is not pulled, inflated or
 * walked again.  A record holds every entry's header and, for the regular
 * files the analyzers asked for, exactly the pieces they were given (in
 * the same pieces) and whether they stopped reading or the file ended.
 * Replaying it through the walker's own feed (layer.c) makes the very same
 * calls, so the result is the one a walk gives; should the analyzers of
 * the replay want more of a file than was recorded (another analyzer set),
 * the replay fails instead of guessing.
 *
 * Records come from a store that many workers write: the reader checks the
 * whole record (magic, bounds of every field, counts) before the first
 * entry is fed, so a damaged one is refused whole.
 *
 * Layout (little-endian): "MMLR1\n", u64 blob size, u64 uncompressed size,
 * u64 entries; per entry 'E', u8 type, u32 mode, uid, gid, u64 size,
 * i64 mtime, u32 path length, path, u32 link length + 1 (0 = none), link,
 * u8 fed; when fed: pieces (u32 n > 0, n bytes), u32 0, u8 how (0 = the
 * file ended, 1 = the analyzers stopped reading); then 'Z'.  A finished
 * record is stored zstd-compressed ("MMLZ1\n\0\0", u64 size, the frame);
 * it must inflate to exactly that size, at most 1 GiB.
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "image/image_int.h"

#define MAGIC "MMLR1\n"
#define MAGIC_LEN 6
#define HEAD_LEN (MAGIC_LEN + 24)
#define MAX_NAME 65536
/* a finished record is kept zstd-compressed: "MMLZ1\n\0\0", u64 size of
 * the record, the frame */
#define ZMAGIC "MMLZ1\n\0\0"
#define ZHEAD 16
#define MAX_RAW ((uint64_t)1 << 30)

/* --- writing ------------------------------------------------------------ */
static void put_u32(mm_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    mm_buf_add(b, x, 4);
}

static void put_u64(mm_buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

void mm_lrec_start(mm_buf *b)
{
    mm_buf_clear(b);
    mm_buf_add(b, MAGIC, MAGIC_LEN);
    for (int i = 0; i < 3; i++)
        put_u64(b, 0);   /* patched by mm_lrec_finish */
}

void mm_lrec_entry(mm_buf *b, const mm_entry *e)
{
    mm_buf_addc(b, 'E');
    mm_buf_addc(b, (char)e->type);
    put_u32(b, e->mode);
    put_u32(b, e->uid);
    put_u32(b, e->gid);
    put_u64(b, e->size);
    put_u64(b, (uint64_t)e->mtime);
    size_t pl = strlen(e->path);
    put_u32(b, (uint32_t)pl);
    mm_buf_add(b, e->path, pl);
    if (e->link) {
        size_t ll = strlen(e->link);
        put_u32(b, (uint32_t)ll + 1);
        mm_buf_add(b, e->link, ll);
    } else {
        put_u32(b, 0);
    }
}

void mm_lrec_fed(mm_buf *b, bool fed)
{
    mm_buf_addc(b, fed ? 1 : 0);
}

void mm_lrec_piece(mm_buf *b, const void *d, size_t n)
{
    if (n == 0)
        return;
    put_u32(b, (uint32_t)n);
    mm_buf_add(b, d, n);
}

void mm_lrec_end_content(mm_buf *b, bool stopped)
{
    put_u32(b, 0);
    mm_buf_addc(b, stopped ? 1 : 0);
}

int mm_lrec_finish(mm_buf *b, uint64_t blob_size, uint64_t uncompressed, uint64_t entries)
{
    mm_buf_addc(b, 'Z');
    if (b->over || b->len < HEAD_LEN)
        return mm_error_set(MM_ELIMIT, "layer record: over its cap of %zu bytes", b->max);
    uint64_t v[3] = {blob_size, uncompressed, entries};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < 8; i++)
            b->data[MAGIC_LEN + 8 * k + i] = (char)(uint8_t)(v[k] >> (8 * i));
    /* binaries and text compress well: the store holds a third or less */
    size_t bound = ZSTD_compressBound(b->len);
    char *z = mm_xmalloc(ZHEAD + bound + 1);
    size_t zn = ZSTD_compress(z + ZHEAD, bound, b->data, b->len, 1);
    if (ZSTD_isError(zn)) {
        free(z);
        return 0;   /* kept as it is */
    }
    memcpy(z, ZMAGIC, 8);
    for (int i = 0; i < 8; i++)
        z[8 + i] = (char)(uint8_t)((uint64_t)b->len >> (8 * i));
    free(b->data);
    b->data = z;
    b->len = ZHEAD + zn;
    b->cap = ZHEAD + bound + 1;
    b->data[b->len] = 0;
    return 0;
}

/* --- reading -------------------------------------------------------------- */
static bool get(mm_lrec *c, void *out, size_t n)
{
    if (c->len - c->off < n)
        return false;
    if (out)
        memcpy(out, c->p + c->off, n);
    c->off += n;
    return true;
}

static bool get_u32(mm_lrec *c, uint32_t *v)
{
    uint8_t x[4];
    if (!get(c, x, 4))
        return false;
    *v = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
    return true;
}

static bool get_u64(mm_lrec *c, uint64_t *v)
{
    uint32_t lo, hi;
    if (!get_u32(c, &lo) || !get_u32(c, &hi))
        return false;
    *v = (uint64_t)hi << 32 | lo;
    return true;
}

static int bad(const mm_lrec *c, const char *what)
{
    return mm_error_set(MM_EFORMAT, "layer record: %s at offset %zu", what, c->off);
}

/* One entry's header into c->e (path and link copied into c's buffers). */
static int read_entry(mm_lrec *c)
{
    uint8_t type;
    uint32_t mode, uid, gid, pl, ll;
    uint64_t size, mtime;
    if (!get(c, &type, 1) || !get_u32(c, &mode) || !get_u32(c, &uid) || !get_u32(c, &gid) ||
        !get_u64(c, &size) || !get_u64(c, &mtime) || !get_u32(c, &pl))
        return bad(c, "truncated entry");
    if (type > MM_ENT_OTHER)
        return bad(c, "unknown entry type");
    if (pl == 0 || pl > MAX_NAME || c->len - c->off < pl)
        return bad(c, "bad path length");
    free(c->path);
    c->path = mm_xstrndup((const char *)c->p + c->off, pl);
    if (strlen(c->path) != pl)
        return bad(c, "NUL in a path");
    c->off += pl;
    if (!get_u32(c, &ll) || ll > MAX_NAME + 1 || c->len - c->off < (ll ? ll - 1 : 0))
        return bad(c, "bad link length");
    free(c->link);
    c->link = NULL;
    if (ll) {
        c->link = mm_xstrndup((const char *)c->p + c->off, ll - 1);
        if (strlen(c->link) != ll - 1)
            return bad(c, "NUL in a link");
        c->off += ll - 1;
    }
    memset(&c->e, 0, sizeof c->e);
    c->e.type = (mm_entry_type)type;
    c->e.mode = mode & 07777;
    c->e.uid = uid;
    c->e.gid = gid;
    c->e.size = size;
    c->e.mtime = (int64_t)mtime;
    c->e.path = c->path;
    c->e.link = c->link;
    uint8_t fed;
    if (!get(c, &fed, 1) || fed > 1)
        return bad(c, "bad content flag");
    c->fed = fed;
    c->pieces = c->off;
    return 0;
}

/* Skips the pieces of the current entry; sets c->stopped. */
static int skip_pieces(mm_lrec *c)
{
    c->stopped = false;
    if (!c->fed)
        return 0;
    for (;;) {
        uint32_t n;
        if (!get_u32(c, &n))
            return bad(c, "truncated content");
        if (n == 0)
            break;
        if (!get(c, NULL, n))
            return bad(c, "content past the end");
    }
    uint8_t how;
    if (!get(c, &how, 1) || how > 1)
        return bad(c, "bad end of content");
    c->stopped = how;
    return 0;
}

static int check_all(mm_lrec *c, const uint8_t *p, size_t len)
{
    if (len < HEAD_LEN + 1 || memcmp(p, MAGIC, MAGIC_LEN) != 0)
        return bad(c, "not a layer record (version 1)");
    c->off = MAGIC_LEN;
    get_u64(c, &c->blob_size);
    get_u64(c, &c->uncompressed);
    get_u64(c, &c->entries);
    size_t body = c->off;
    /* the whole record is checked before anything is fed */
    uint64_t n = 0;
    for (;;) {
        uint8_t tag;
        if (!get(c, &tag, 1))
            return bad(c, "no end mark");
        if (tag == 'Z')
            break;
        if (tag != 'E')
            return bad(c, "unknown mark");
        int rc = read_entry(c);
        if (rc == 0)
            rc = skip_pieces(c);
        if (rc < 0)
            return rc;
        n++;
    }
    if (c->off != len)
        return bad(c, "bytes after the end mark");
    /* the header counts every tar header of the layer (the root folder's
     * too, which is not recorded) */
    if (n > c->entries)
        return bad(c, "more entries than the header counts");
    c->off = body;
    c->fed = false;
    return 0;
}

int mm_lrec_open(mm_lrec *c, const uint8_t *p, size_t len)
{
    memset(c, 0, sizeof *c);
    c->p = p;
    c->len = len;
    if (len >= ZHEAD && memcmp(p, ZMAGIC, 8) == 0) {
        uint64_t raw = 0;
        for (int i = 0; i < 8; i++)
            raw |= (uint64_t)p[8 + i] << (8 * i);
        if (raw < HEAD_LEN || raw > MAX_RAW)
            return bad(c, "compressed record of a bad size");
        c->own = mm_xmalloc((size_t)raw);
        size_t got = ZSTD_decompress(c->own, (size_t)raw, p + ZHEAD, len - ZHEAD);
        if (ZSTD_isError(got) || got != raw) {
            mm_lrec_close(c);
            return mm_error_set(MM_EFORMAT, "layer record: the compressed record does not"
                                " inflate to its %llu bytes", (unsigned long long)raw);
        }
        c->p = c->own;
        c->len = (size_t)raw;
        p = c->own;
        len = (size_t)raw;
    }
    int rc = check_all(c, p, len);
    if (rc < 0)
        mm_lrec_close(c);
    return rc;
}

int mm_lrec_next(mm_lrec *c)
{
    if (c->fed && !c->drained) {
        int rc = skip_pieces(c);   /* what the analyzers did not read this time */
        if (rc < 0)
            return rc;
    }
    c->drained = false;
    uint8_t tag;
    if (!get(c, &tag, 1))
        return bad(c, "no end mark");
    if (tag == 'Z')
        return 0;
    int rc = read_entry(c);
    return rc < 0 ? rc : 1;
}

int mm_lrec_read(void *ud, const void **buf, size_t *len)
{
    mm_lrec *c = ud;
    *buf = NULL;
    *len = 0;
    if (!c->fed)
        return mm_error_set(MM_EFORMAT, "layer record: the analyzers want /%s, which was"
                            " not recorded (the record was made with other analyzers)",
                            c->e.path);
    if (c->drained)
        goto ended;
    uint32_t n;
    if (!get_u32(c, &n))
        return bad(c, "truncated content");
    if (n > 0) {
        *buf = c->p + c->off;
        *len = n;
        c->off += n;
        return 1;
    }
    uint8_t how = 0;
    if (!get(c, &how, 1))
        return bad(c, "truncated content");
    c->stopped = how;
    c->drained = true;
ended:
    if (c->stopped)
        return mm_error_set(MM_EFORMAT, "layer record: the analyzers want more of /%s than"
                            " was recorded (the record was made with other analyzers)",
                            c->e.path);
    return 0;
}

void mm_lrec_close(mm_lrec *c)
{
    free(c->path);
    free(c->link);
    free(c->own);
    c->path = c->link = NULL;
    c->own = NULL;
}
