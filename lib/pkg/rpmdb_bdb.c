/*
 * pkg/rpmdb_bdb.c - reader of the Berkeley DB hash file "Packages" that
 * rpm used until 4.16 (RHEL/CentOS 7 and 8, Amazon Linux 2, old Fedora).
 *
 * Facts (from Berkeley DB's on-disk format as rpm's read-only bdb_ro
 * backend and go-rpmdb read it): numbers are in the byte order of the
 * host that wrote the file, told by the magic 0x061561 at offset 12 of
 * the meta page (page 0).  The meta page gives the page size (offset 20),
 * the last page (32), the highest bucket (72) and the "spares" table
 * (96, 32 words) that maps bucket b to page b + spares[bit length of b].
 * Every page starts with a 26-byte header: page number (8), next page
 * (16), item count (20), free-area offset (22) and type (25).  Hash pages
 * (type 2 or 13) hold an offset table of key/value pairs; an item is
 * either inline (type 1, bytes follow) or "off page" (type 3: first page
 * and total length of a chain of overflow pages, type 7, each carrying
 * its byte count at offset 22).  The key of a package record is its
 * 4-byte instance number; record 0 holds rpm's counter, not a package.
 *
 * Hostile input: every page number is checked against the buffer, every
 * page is visited at most once (a visited bitmap breaks loops and stops
 * records sharing an overflow chain from making the walk quadratic), and
 * a value is only assembled after its length was checked against the
 * file size.
 */
#include <stdlib.h>
#include <string.h>

#include "pkg/rpmdb.h"
#include "util/util.h"

#define BDB_HASH_MAGIC   0x00061561u
#define BDB_BTREE_MAGIC  0x00053162u
#define BDB_PAGE_HDR     26u
#define P_HASH_UNSORTED  2
#define P_OVERFLOW       7
#define P_HASH           13
#define H_KEYDATA        1
#define H_OFFPAGE        3

typedef struct bdb {
    const uint8_t *data;
    size_t len;
    const char *path;
    bool be;             /* file written by a big-endian host */
    uint32_t pagesize, lastpage, maxbucket;
    uint32_t spares[32];
    uint8_t *visited;    /* one bit per page */
    uint8_t *val;        /* assembled overflow value */
    size_t valcap;
} bdb;

static uint32_t rd32(const bdb *db, const uint8_t *p)
{
    if (db->be)
        return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
               (uint32_t)p[2] << 8 | p[3];
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint16_t rd16(const bdb *db, const uint8_t *p)
{
    return db->be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[0] | p[1] << 8);
}

/* The page, after checking that it exists, was not seen before and says
 * it is the page we asked for. */
static int bdb_page(bdb *db, uint32_t pgno, const uint8_t **out)
{
    if (pgno == 0 || pgno > db->lastpage)
        return mm_error_set(MM_EFORMAT, "%s: page number %u out of range "
                            "(last page %u)", db->path, pgno, db->lastpage);
    uint64_t off = (uint64_t)pgno * db->pagesize;
    if (off + db->pagesize > db->len)
        return mm_error_set(MM_EFORMAT, "%s: page %u (offset %llu) is past "
                            "the end of the file (%zu bytes)", db->path, pgno,
                            (unsigned long long)off, db->len);
    if (db->visited[pgno >> 3] & (1u << (pgno & 7)))
        return mm_error_set(MM_EFORMAT, "%s: page %u (offset %llu) is "
                            "referenced twice", db->path, pgno,
                            (unsigned long long)off);
    db->visited[pgno >> 3] |= (uint8_t)(1u << (pgno & 7));
    const uint8_t *p = db->data + off;
    if (rd32(db, p + 8) != pgno)
        return mm_error_set(MM_EFORMAT, "%s: page %u (offset %llu) carries "
                            "page number %u", db->path, pgno,
                            (unsigned long long)off, rd32(db, p + 8));
    *out = p;
    return 0;
}

/* Assembles an off-page value: a chain of overflow pages. */
static int bdb_overflow(bdb *db, uint32_t pgno, uint32_t tlen,
                        const uint8_t **val, size_t *vlen)
{
    if (tlen == 0 || tlen > db->len || tlen > MM_RPM_MAX_BLOB)
        return mm_error_set(MM_EFORMAT, "%s: overflow item of %u bytes at "
                            "page %u is impossible", db->path, tlen, pgno);
    if (tlen > db->valcap) {
        free(db->val);
        db->val = mm_xmalloc(tlen);
        db->valcap = tlen;
    }
    uint32_t done = 0;
    while (done < tlen) {
        const uint8_t *p;
        int rc = bdb_page(db, pgno, &p);
        if (rc != 0)
            return rc;
        if (p[25] != P_OVERFLOW)
            return mm_error_set(MM_EFORMAT, "%s: page %u should be an "
                                "overflow page (type %u)", db->path, pgno,
                                p[25]);
        uint32_t n = rd16(db, p + 22);
        if (n + BDB_PAGE_HDR > db->pagesize || n > tlen - done || n == 0)
            return mm_error_set(MM_EFORMAT, "%s: overflow page %u holds a "
                                "bad length %u", db->path, pgno, n);
        memcpy(db->val + done, p + BDB_PAGE_HDR, n);
        done += n;
        pgno = rd32(db, p + 16);
    }
    *val = db->val;
    *vlen = tlen;
    return 0;
}

/* One item of a hash page (key or value) at [off, off+ilen). */
static int bdb_item(bdb *db, const uint8_t *p, uint32_t pgno, uint32_t off,
                    uint32_t ilen, const uint8_t **val, size_t *vlen)
{
    if (ilen == 0 || off < BDB_PAGE_HDR || (uint64_t)off + ilen > db->pagesize)
        return mm_error_set(MM_EFORMAT, "%s: page %u: item at %u (%u bytes) "
                            "outside the page", db->path, pgno, off, ilen);
    switch (p[off]) {
    case H_KEYDATA:
        *val = p + off + 1;
        *vlen = ilen - 1;
        return 0;
    case H_OFFPAGE:
        if (ilen != 12)
            return mm_error_set(MM_EFORMAT, "%s: page %u: off-page item at %u "
                                "has length %u", db->path, pgno, off, ilen);
        return bdb_overflow(db, rd32(db, p + off + 4), rd32(db, p + off + 8),
                            val, vlen);
    default:
        return mm_error_set(MM_EFORMAT, "%s: page %u: item type %u at %u not "
                            "supported", db->path, pgno, p[off], off);
    }
}

/* The key/value pairs of one hash page. */
static int bdb_hash_page(bdb *db, const uint8_t *p, uint32_t pgno,
                         size_t *count, mm_rpmdb_blob_fn fn, void *ud)
{
    uint32_t n = rd16(db, p + 20);
    if (n > (db->pagesize - BDB_PAGE_HDR) / 2 || (n & 1))
        return mm_error_set(MM_EFORMAT, "%s: page %u: bad item count %u",
                            db->path, pgno, n);
    for (uint32_t i = 0; i < n; i += 2) {
        uint32_t koff = rd16(db, p + BDB_PAGE_HDR + 2 * i);
        uint32_t voff = rd16(db, p + BDB_PAGE_HDR + 2 * i + 2);
        /* Items are packed from the end of the page down: a key ends
         * where the previous pair's value starts, a value ends where its
         * key starts. */
        uint32_t kend = i == 0 ? db->pagesize
                               : rd16(db, p + BDB_PAGE_HDR + 2 * i - 2);
        if (koff >= kend || voff >= koff)
            return mm_error_set(MM_EFORMAT, "%s: page %u: item offsets %u/%u "
                                "out of order", db->path, pgno, koff, voff);
        const uint8_t *key, *val;
        size_t klen, vlen;
        int rc = bdb_item(db, p, pgno, koff, kend - koff, &key, &klen);
        if (rc != 0)
            return rc;
        if (klen != 4)
            return mm_error_set(MM_EFORMAT, "%s: page %u: key of %zu bytes "
                                "(a package number has 4)", db->path, pgno,
                                klen);
        uint32_t recno = rd32(db, key);
        if (recno == 0)
            continue; /* rpm's instance counter */
        rc = bdb_item(db, p, pgno, voff, koff - voff, &val, &vlen);
        if (rc != 0)
            return rc;
        if (++*count > MM_RPM_MAX_PACKAGES)
            return mm_error_set(MM_ELIMIT, "%s: more than %u packages",
                                db->path, MM_RPM_MAX_PACKAGES);
        rc = fn(ud, recno, val, vlen);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int bdb_walk_buckets(bdb *db, mm_rpmdb_blob_fn fn, void *ud)
{
    size_t count = 0;
    for (uint64_t b = 0; b <= db->maxbucket; b++) {
        unsigned bits = 0;
        for (uint64_t x = b; x; x >>= 1)
            bits++;
        if (bits >= 32)
            return mm_error_set(MM_EFORMAT, "%s: bucket %llu out of range",
                                db->path, (unsigned long long)b);
        uint32_t pgno = (uint32_t)(b + db->spares[bits]);
        /* The bucket page, then its chain of overflow buckets. */
        while (pgno != 0) {
            const uint8_t *p;
            int rc = bdb_page(db, pgno, &p);
            if (rc != 0)
                return mm_error_wrap(rc, "bucket %llu: ",
                                     (unsigned long long)b);
            if (p[25] != P_HASH && p[25] != P_HASH_UNSORTED)
                return mm_error_set(MM_EFORMAT, "%s: bucket %llu: page %u has "
                                    "type %u, not a hash page", db->path,
                                    (unsigned long long)b, pgno, p[25]);
            rc = bdb_hash_page(db, p, pgno, &count, fn, ud);
            if (rc != 0)
                return rc;
            pgno = rd32(db, p + 16);
        }
    }
    return 0;
}

int mm_rpmdb_bdb_walk(const uint8_t *data, size_t len, const char *path,
                      mm_rpmdb_blob_fn fn, void *ud)
{
    bdb db = {.data = data, .len = len, .path = path};
    if (!data || len < 512)
        return mm_error_set(MM_EFORMAT, "%s: too short for a Berkeley DB "
                            "file (%zu bytes)", path, len);
    uint32_t magic = (uint32_t)data[12] | (uint32_t)data[13] << 8 |
                     (uint32_t)data[14] << 16 | (uint32_t)data[15] << 24;
    if (magic == BDB_HASH_MAGIC)
        db.be = false;
    else if (__builtin_bswap32(magic) == BDB_HASH_MAGIC)
        db.be = true;
    else if (magic == BDB_BTREE_MAGIC ||
             __builtin_bswap32(magic) == BDB_BTREE_MAGIC)
        return mm_error_set(MM_EUNSUPPORTED, "%s: a Berkeley DB btree, not "
                            "the hash file rpm keeps packages in", path);
    else
        return mm_error_set(MM_EFORMAT, "%s: not a Berkeley DB hash file "
                            "(magic at offset 12)", path);
    uint32_t version = rd32(&db, data + 16);
    if (version < 8 || version > 10)
        return mm_error_set(MM_EFORMAT, "%s: hash version %u unsupported "
                            "(offset 16)", path, version);
    db.pagesize = rd32(&db, data + 20);
    if (db.pagesize < 512 || db.pagesize > 65536 ||
        (db.pagesize & (db.pagesize - 1)))
        return mm_error_set(MM_EFORMAT, "%s: bad page size %u (offset 20)",
                            path, db.pagesize);
    if (data[24] != 0)
        return mm_error_set(MM_EUNSUPPORTED, "%s: encrypted Berkeley DB "
                            "(offset 24)", path);
    db.lastpage = rd32(&db, data + 32);
    if ((uint64_t)db.lastpage * db.pagesize >= len)
        return mm_error_set(MM_EFORMAT, "%s: last page %u lies past the end "
                            "of the file (%zu bytes, offset 32)", path,
                            db.lastpage, len);
    db.maxbucket = rd32(&db, data + 72);
    if (db.maxbucket > db.lastpage)
        return mm_error_set(MM_EFORMAT, "%s: %u buckets in %u pages "
                            "(offset 72)", path, db.maxbucket, db.lastpage);
    for (int i = 0; i < 32; i++)
        db.spares[i] = rd32(&db, data + 96 + 4 * i);
    db.visited = mm_xcalloc((size_t)db.lastpage / 8 + 1, 1);
    int rc = bdb_walk_buckets(&db, fn, ud);
    free(db.visited);
    free(db.val);
    return rc;
}
