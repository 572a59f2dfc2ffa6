/*
 * blob.c - reading image blobs: byte windows of a file hashed as they pass
 * (every blob is verified against its sha256 digest at its end), the
 * decoder that turns a layer blob into a tar stream (gzip with ISA-L's
 * streaming inflate, which is several times faster than zlib; zstd with
 * libzstd; or nothing), and an index of the members of an outer tar
 * (docker-archive, OCI tar) so that layers are read in place, never
 * extracted.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include "image/image_int.h"

#define READ_CHUNK (1u << 20)

struct mm_blob {
    const struct mm_blob_ops *ops;
    void *impl;
    char *name;
    char *expect;
    uint64_t size, done;
    mm_sha256 *sha;
    char digest[72];
    bool finished;
    bool nohash;       /* nobody reads the digest (mm_blob_no_digest) */
};

int mm_blob_new(mm_blob **out, const struct mm_blob_ops *ops, void *impl,
                const char *name, const char *expect_digest, uint64_t size)
{
    mm_blob *b = mm_xcalloc(1, sizeof *b);
    b->ops = ops;
    b->impl = impl;
    b->name = mm_xstrdup(name);
    b->expect = mm_xstrdup(expect_digest);
    b->size = size;
    b->sha = mm_sha256_new();
    *out = b;
    return 0;
}

ssize_t mm_blob_read(mm_blob *b, void *buf, size_t n)
{
    if (b->finished)
        return 0;
    ssize_t r = b->ops->read(b->impl, buf, n);
    if (r < 0)
        return r;
    if (r > 0) {
        if (!b->nohash)
            mm_sha256_update(b->sha, buf, (size_t)r);
        b->done += (uint64_t)r;
        return r;
    }
    b->finished = true;
    mm_sha256_final(b->sha, b->digest);
    if (b->nohash)
        b->digest[0] = 0;
    if (b->size != UINT64_MAX && b->done != b->size)
        return mm_error_set(MM_EFORMAT,
                            "%s: blob is %llu bytes, the manifest says %llu",
                            b->name, (unsigned long long)b->done,
                            (unsigned long long)b->size);
    if (b->expect && strcmp(b->expect, b->digest) != 0)
        return mm_error_set(MM_EDIGEST,
                            "%s: digest mismatch: expected %s, content is %s",
                            b->name, b->expect, b->digest);
    return 0;
}

void mm_blob_no_digest(mm_blob *b)
{
    if (!b->expect)
        b->nohash = true;
}

const char *mm_blob_name(const mm_blob *b) { return b->name; }
const char *mm_blob_digest(const mm_blob *b) { return b->digest; }
uint64_t mm_blob_bytes(const mm_blob *b) { return b->done; }

void mm_blob_free(mm_blob *b)
{
    if (!b)
        return;
    if (b->ops->close)
        b->ops->close(b->impl);
    mm_sha256_free(b->sha);
    free(b->name);
    free(b->expect);
    free(b);
}

int mm_blob_read_all(mm_blob *b, uint64_t max, char **data, size_t *len)
{
    mm_buf buf = MM_BUF_INIT;
    char tmp[65536];
    for (;;) {
        ssize_t r = mm_blob_read(b, tmp, sizeof tmp);
        if (r < 0) {
            mm_buf_free(&buf);
            return (int)r;
        }
        if (r == 0)
            break;
        if (buf.len + (size_t)r > max) {
            mm_buf_free(&buf);
            return mm_error_set(MM_ELIMIT, "%s: larger than the limit of %llu bytes",
                                b->name, (unsigned long long)max);
        }
        mm_buf_add(&buf, tmp, (size_t)r);
    }
    *len = buf.len;
    *data = mm_buf_detach(&buf);
    return 0;
}

/* --- a window of a file -------------------------------------------------- */
struct window {
    int fd;
    bool own_fd;
    uint64_t off, left;
    char *name;
};

static ssize_t window_read(void *impl, void *buf, size_t n)
{
    struct window *w = impl;
    if (w->left == 0)
        return 0;
    if (n > w->left)
        n = (size_t)w->left;
    for (;;) {
        ssize_t r = pread(w->fd, buf, n, (off_t)w->off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mm_error_set(MM_EIO, "%s: read failed: %s", w->name,
                                strerror(errno));
        if (r == 0)
            return mm_error_set(MM_EFORMAT, "%s: truncated: %llu bytes missing",
                                w->name, (unsigned long long)w->left);
        w->off += (uint64_t)r;
        w->left -= (uint64_t)r;
        return r;
    }
}

static void window_close(void *impl)
{
    struct window *w = impl;
    if (w->own_fd)
        close(w->fd);
    free(w->name);
    free(w);
}

static const struct mm_blob_ops window_ops = {window_read, window_close};

int mm_blob_open_window(mm_blob **out, int fd, uint64_t off, uint64_t size,
                        const char *name, const char *expect_digest)
{
    struct window *w = mm_xcalloc(1, sizeof *w);
    w->fd = fd;
    w->off = off;
    w->left = size;
    w->name = mm_xstrdup(name);
    return mm_blob_new(out, &window_ops, w, name, expect_digest, size);
}

int mm_blob_open_fd(mm_blob **out, int fd, uint64_t size, const char *name,
                    const char *expect_digest)
{
    int rc = mm_blob_open_window(out, fd, 0, size, name, expect_digest);
    if (rc == 0)
        ((struct window *)(*out)->impl)->own_fd = true;
    return rc;
}

/* --- the decoder ----------------------------------------------------------- */
struct mm_decoder {
    mm_blob *blob;
    mm_codec codec;
    uint8_t *in, *out;
    size_t in_len, in_pos;
    bool in_eof, started, done;
    uint64_t total_out, max_out;
    struct inflate_state *gz;
    ZSTD_DStream *zs;
    bool zs_frame_open;
};

static int fill(mm_decoder *d)
{
    if (d->in_pos < d->in_len || d->in_eof)
        return 0;
    ssize_t r = mm_blob_read(d->blob, d->in, READ_CHUNK);
    if (r < 0)
        return (int)r;
    d->in_len = (size_t)r;
    d->in_pos = 0;
    if (r == 0)
        d->in_eof = true;
    return 0;
}

int mm_decoder_new(mm_decoder **out, mm_blob *blob, uint64_t max_out)
{
    mm_decoder *d = mm_xcalloc(1, sizeof *d);
    d->blob = blob;
    d->in = mm_xmalloc(READ_CHUNK);
    d->out = mm_xmalloc(READ_CHUNK);
    d->max_out = max_out ? max_out : UINT64_MAX;
    *out = d;
    return 0;
}

static int start(mm_decoder *d)
{
    int rc = fill(d);
    if (rc < 0)
        return rc;
    /* The codec comes from the bytes, not the media type: registries and
     * tools mislabel layers often enough. */
    if (d->in_len >= 2 && d->in[0] == 0x1f && d->in[1] == 0x8b) {
        d->codec = MM_CODEC_GZIP;
        d->gz = mm_xmalloc(sizeof *d->gz);
        isal_inflate_init(d->gz);
        d->gz->crc_flag = ISAL_GZIP;
    } else if (d->in_len >= 4 && d->in[0] == 0x28 && d->in[1] == 0xb5 &&
               d->in[2] == 0x2f && d->in[3] == 0xfd) {
        d->codec = MM_CODEC_ZSTD;
        d->zs = ZSTD_createDStream();
        if (!d->zs)
            return mm_error_set(MM_ENOMEM, "zstd: cannot allocate a stream");
        ZSTD_initDStream(d->zs);
    } else {
        d->codec = MM_CODEC_NONE;
    }
    d->started = true;
    return 0;
}

static ssize_t account(mm_decoder *d, size_t n)
{
    d->total_out += n;
    if (d->total_out > d->max_out)
        return mm_error_set(MM_ELIMIT,
                            "%s: decompresses to more than %llu bytes (the "
                            "total-size limit, 16 GiB by default; raise it with "
                            "--max-total-size)",
                            mm_blob_name(d->blob),
                            (unsigned long long)d->max_out);
    return (ssize_t)n;
}

static ssize_t next_gzip(mm_decoder *d, uint8_t *outbuf, size_t cap)
{
    for (;;) {
        int rc = fill(d);
        if (rc < 0)
            return rc;
        if (d->gz->block_state == ISAL_BLOCK_FINISH) {
            /* end of a gzip member: another may follow (concatenated) */
            if (d->in_pos < d->in_len) {
                isal_inflate_reset(d->gz);
                d->gz->crc_flag = ISAL_GZIP;
                continue;
            }
            if (d->in_eof)
                return 0;
            continue;
        }
        if (d->in_eof && d->in_pos >= d->in_len)
            return mm_error_set(MM_EFORMAT,
                                "%s: truncated gzip stream after %llu compressed bytes",
                                mm_blob_name(d->blob),
                                (unsigned long long)mm_blob_bytes(d->blob));
        d->gz->next_in = d->in + d->in_pos;
        d->gz->avail_in = (uint32_t)(d->in_len - d->in_pos);
        d->gz->next_out = outbuf;
        d->gz->avail_out = (uint32_t)cap;
        int r = isal_inflate(d->gz);
        d->in_pos = d->in_len - d->gz->avail_in;
        if (r < 0)
            return mm_error_set(MM_EFORMAT,
                                "%s: corrupt gzip data near compressed offset %llu (isa-l error %d)",
                                mm_blob_name(d->blob),
                                (unsigned long long)(mm_blob_bytes(d->blob) -
                                                     (d->in_len - d->in_pos)),
                                r);
        size_t n = cap - d->gz->avail_out;
        if (n)
            return account(d, n);
    }
}

static ssize_t next_zstd(mm_decoder *d, uint8_t *outbuf, size_t cap)
{
    for (;;) {
        int rc = fill(d);
        if (rc < 0)
            return rc;
        if (d->in_eof && d->in_pos >= d->in_len) {
            if (d->zs_frame_open)
                return mm_error_set(MM_EFORMAT, "%s: truncated zstd stream",
                                    mm_blob_name(d->blob));
            return 0;
        }
        ZSTD_inBuffer in = {d->in, d->in_len, d->in_pos};
        ZSTD_outBuffer out = {outbuf, cap, 0};
        size_t r = ZSTD_decompressStream(d->zs, &out, &in);
        d->in_pos = in.pos;
        if (ZSTD_isError(r))
            return mm_error_set(MM_EFORMAT, "%s: corrupt zstd data: %s",
                                mm_blob_name(d->blob), ZSTD_getErrorName(r));
        d->zs_frame_open = r != 0;
        if (out.pos)
            return account(d, out.pos);
    }
}

/* Common tail of both entry points: at the end, read what is left of the
 * blob (a codec may finish before the blob does) so that its digest is
 * checked over every byte. */
static ssize_t finish_blob(mm_decoder *d, ssize_t r)
{
    if (r == 0) {
        uint8_t tmp[4096];
        ssize_t x;
        while ((x = mm_blob_read(d->blob, tmp, sizeof tmp)) > 0)
            ;
        if (x < 0)
            return x;
        d->done = true;
    }
    return r;
}

/* Before a read: 0 when the blob is done, 1 to go on, or start's error. */
static int ready(mm_decoder *d)
{
    if (d->done)
        return 0;
    if (!d->started) {
        int rc = start(d);
        if (rc < 0)
            return rc;
    }
    return 1;
}

ssize_t mm_decoder_read(mm_decoder *d, uint8_t *out, size_t cap)
{
    int go = ready(d);
    if (go <= 0)
        return go;
    ssize_t r;
    switch (d->codec) {
    case MM_CODEC_GZIP:
        r = next_gzip(d, out, cap > UINT32_MAX ? UINT32_MAX : cap);
        break;
    case MM_CODEC_ZSTD:
        r = next_zstd(d, out, cap);
        break;
    default: {
        int rc = fill(d);
        if (rc < 0)
            return rc;
        size_t n = d->in_len - d->in_pos;
        if (n > cap)
            n = cap;
        memcpy(out, d->in + d->in_pos, n);
        d->in_pos += n;
        r = n ? account(d, n) : 0;
    }
    }
    return finish_blob(d, r);
}

ssize_t mm_decoder_next(mm_decoder *d, const uint8_t **buf)
{
    int go = ready(d);
    if (go <= 0)
        return go;
    if (d->codec == MM_CODEC_NONE) {
        /* no copy: hand out the input buffer itself */
        int rc = fill(d);
        if (rc < 0)
            return rc;
        ssize_t r = (ssize_t)(d->in_len - d->in_pos);
        if (r > 0) {
            *buf = d->in + d->in_pos;
            d->in_pos = d->in_len;
            r = account(d, (size_t)r);
        }
        return finish_blob(d, r);
    }
    *buf = d->out;
    return mm_decoder_read(d, d->out, READ_CHUNK);
}

/* A codec error on a blob whose bytes were altered says only that the
 * bytes make no sense; the digest says that they are not the bytes the
 * manifest names, which is what the user needs to hear.  So the rest of
 * the blob (bytes the codec never asked for) is read and hashed, never
 * more than its declared size. */
int mm_decoder_verify_rest(mm_decoder *d, char got[72])
{
    mm_blob *b = d->blob;
    if (!b->expect)
        return mm_error_set(MM_ENOTFOUND, "%s: no digest to verify against", b->name);
    if (b->size == UINT64_MAX)
        return mm_error_set(MM_EINVAL, "%s: no declared size to bound the read", b->name);
    uint8_t tmp[65536];
    ssize_t r = 0;
    while (!b->finished) {
        r = mm_blob_read(b, tmp, sizeof tmp);
        if (r < 0)
            break;
        if (b->done > b->size)
            return mm_error_set(MM_EFORMAT, "%s: blob is larger than the %llu bytes the "
                                "manifest says", b->name, (unsigned long long)b->size);
    }
    if (!b->finished) {
        if (r != MM_EDIGEST)
            return (int)r;
        /* the source compared the digest itself at its end (a registry
         * blob does): every byte went through b->sha all the same */
        b->finished = true;
        mm_sha256_final(b->sha, b->digest);
    }
    memcpy(got, b->digest, 72);
    if (strcmp(b->digest, b->expect) == 0)
        return 0;
    return mm_error_set(MM_EDIGEST, "%s: digest mismatch: expected %s, content is %s",
                        b->name, b->expect, b->digest);
}

mm_codec mm_decoder_codec(const mm_decoder *d) { return d->codec; }
uint64_t mm_decoder_total_out(const mm_decoder *d) { return d->total_out; }
uint64_t mm_decoder_total_in(const mm_decoder *d) { return mm_blob_bytes(d->blob); }
const char *mm_decoder_blob_digest(const mm_decoder *d) { return mm_blob_digest(d->blob); }

void mm_decoder_free(mm_decoder *d)
{
    if (!d)
        return;
    mm_blob_free(d->blob);
    free(d->in);
    free(d->out);
    free(d->gz);
    if (d->zs)
        ZSTD_freeDStream(d->zs);
    free(d);
}

/* --- index of an outer tar ------------------------------------------------ */
struct member {
    uint64_t off, size;
};

struct mm_tarindex {
    mm_map *members;
};

static void free_member(void *p) { free(p); }

void mm_tarindex_free(mm_tarindex *ix)
{
    if (!ix)
        return;
    mm_map_free(ix->members, free_member);
    free(ix);
}

bool mm_tarindex_find(const mm_tarindex *ix, const char *member,
                      uint64_t *off, uint64_t *size)
{
    char *n = mm_path_normalize(member, NULL);
    struct member *m = n ? mm_map_get(ix->members, n) : NULL;
    free(n);
    if (!m)
        return false;
    *off = m->off;
    *size = m->size;
    return true;
}

/* Octal (or base-256, for big sizes) numeric tar field. */
static bool tar_num(const uint8_t *f, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (f[0] & 0x80) {
        for (size_t i = 1; i < n; i++) {
            if (v >> 56)
                return false;
            v = (v << 8) | f[i];
        }
        *out = v;
        return true;
    }
    size_t i = 0;
    while (i < n && f[i] == ' ')
        i++;
    for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
        if (v >> 60)
            return false;
        v = v * 8 + (uint64_t)(f[i] - '0');
    }
    for (; i < n; i++)
        if (f[i] != 0 && f[i] != ' ')
            return false;
    *out = v;
    return true;
}

static bool tar_checksum_ok(const uint8_t *h)
{
    uint64_t want;
    if (!tar_num(h + 148, 8, &want))
        return false;
    uint64_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum == want;
}

/* Reader of header blocks from memory or a file. */
struct tsrc {
    const uint8_t *mem;
    size_t memlen;
    int fd;
    const char *name;
};

static int tsrc_read(struct tsrc *s, uint64_t off, void *buf, size_t n)
{
    if (s->mem) {
        if (off > s->memlen || n > s->memlen - off)
            return 1;
        memcpy(buf, s->mem + off, n);
        return 0;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(s->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return mm_error_set(MM_EIO, "%s: %s", s->name, strerror(errno));
        if (r == 0)
            return 1;
        got += (size_t)r;
    }
    return 0;
}

/* Extracts "path=" from a pax extended header (records "LEN key=value\n"). */
static char *pax_path(const char *d, size_t n)
{
    size_t p = 0;
    char *res = NULL;
    while (p < n) {
        size_t len = 0, q = p;
        while (q < n && d[q] >= '0' && d[q] <= '9' && len < n)
            len = len * 10 + (size_t)(d[q++] - '0');
        if (q >= n || d[q] != ' ' || len == 0 || len > n - p)
            break;
        const char *kv = d + q + 1, *end = d + p + len;
        if (end - kv > 5 && memcmp(kv, "path=", 5) == 0) {
            free(res);
            size_t vl = (size_t)(end - kv - 5);
            if (vl && kv[5 + vl - 1] == '\n')
                vl--;
            res = mm_xstrndup(kv + 5, vl);
        }
        p += len;
    }
    return res;
}

static int index_from(mm_tarindex **out, struct tsrc *s, uint64_t max_entries)
{
    mm_tarindex *ix = mm_xcalloc(1, sizeof *ix);
    ix->members = mm_map_new();
    uint8_t h[512];
    uint64_t off = 0, count = 0;
    char *longname = NULL;
    int rc = 0;
    for (;;) {
        int r = tsrc_read(s, off, h, 512);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r > 0) {
            /* a missing end-of-archive marker is tolerated (some tools) */
            break;
        }
        bool zero = true;
        for (int i = 0; i < 512 && zero; i++)
            zero = h[i] == 0;
        if (zero)
            break;
        if (!tar_checksum_ok(h)) {
            rc = mm_error_set(MM_EFORMAT, "%s: not a tar archive (bad header checksum at offset %llu)",
                              s->name, (unsigned long long)off);
            break;
        }
        uint64_t size;
        if (!tar_num(h + 124, 12, &size)) {
            rc = mm_error_set(MM_EFORMAT, "%s: bad size field in the tar header at offset %llu",
                              s->name, (unsigned long long)off);
            break;
        }
        if (++count > max_entries) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %llu members",
                              s->name, (unsigned long long)max_entries);
            break;
        }
        char type = (char)h[156];
        uint64_t data = off + 512;
        uint64_t next = data + ((size + 511) & ~(uint64_t)511);
        if (next < data) {
            rc = mm_error_set(MM_EFORMAT, "%s: size overflow at offset %llu",
                              s->name, (unsigned long long)off);
            break;
        }
        if (type == 'L' || type == 'x') {
            if (size > 65536) {
                rc = mm_error_set(MM_ELIMIT, "%s: extended header of %llu bytes at offset %llu",
                                  s->name, (unsigned long long)size,
                                  (unsigned long long)off);
                break;
            }
            char *d = mm_xmalloc((size_t)size + 1);
            r = tsrc_read(s, data, d, (size_t)size);
            if (r != 0) {
                free(d);
                rc = r < 0 ? r : mm_error_set(MM_EFORMAT, "%s: truncated at offset %llu",
                                              s->name, (unsigned long long)data);
                break;
            }
            d[size] = 0;
            free(longname);
            if (type == 'L') {
                longname = mm_xstrndup(d, strnlen(d, (size_t)size));
            } else {
                longname = pax_path(d, (size_t)size);
            }
            free(d);
            off = next;
            continue;
        }
        if (type == '0' || type == '\0' || type == '7') {
            char *name;
            if (longname) {
                name = longname;
                longname = NULL;
            } else {
                name = mm_tar_header_name(h);
            }
            char *norm = mm_path_normalize(name, NULL);
            free(name);
            if (norm) {
                struct member *m = mm_xmalloc(sizeof *m);
                m->off = data;
                m->size = size;
                free(mm_map_put(ix->members, norm, m));
                free(norm);
            }
        } else {
            free(longname);
            longname = NULL;
        }
        off = next;
    }
    free(longname);
    if (rc < 0) {
        mm_tarindex_free(ix);
        return rc;
    }
    if (mm_map_count(ix->members) == 0) {
        mm_tarindex_free(ix);
        return mm_error_set(MM_EFORMAT, "%s: not a tar archive, or an empty one",
                            s->name);
    }
    *out = ix;
    return 0;
}

int mm_tarindex_build(mm_tarindex **out, int fd, const char *name,
                      uint64_t max_entries)
{
    struct tsrc s = {NULL, 0, fd, name};
    return index_from(out, &s, max_entries);
}

int mm_tarindex_parse_mem(mm_tarindex **out, const uint8_t *buf, size_t len,
                          uint64_t max_entries)
{
    struct tsrc s = {buf ? buf : (const uint8_t *)"", len, -1, "memory"};
    return index_from(out, &s, max_entries);
}

/* --- for the outer archive's stream reader (outer.c) ------------------------ */
mm_tarindex *mm_tarindex_new(void)
{
    mm_tarindex *ix = mm_xcalloc(1, sizeof *ix);
    ix->members = mm_map_new();
    return ix;
}

void mm_tarindex_add(mm_tarindex *ix, const char *member, uint64_t off, uint64_t size)
{
    struct member *m = mm_xmalloc(sizeof *m);
    m->off = off;
    m->size = size;
    free(mm_map_put(ix->members, member, m));
}

bool mm_tar_header_ok(const uint8_t h[512], uint64_t *size)
{
    return tar_checksum_ok(h) && tar_num(h + 124, 12, size);
}

char *mm_tar_header_name(const uint8_t h[512])
{
    char nm[101], pre[156];
    memcpy(nm, h, 100);
    nm[100] = 0;
    memcpy(pre, h + 345, 155);
    pre[155] = 0;
    bool ustar = memcmp(h + 257, "ustar", 5) == 0;
    return (ustar && pre[0]) ? mm_xasprintf("%s/%s", pre, nm) : mm_xstrdup(nm);
}

char *mm_tar_pax_path(const char *d, size_t n)
{
    return pax_path(d, n);
}
