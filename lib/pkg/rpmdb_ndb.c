/*
 * pkg/rpmdb_ndb.c - reader of rpm's native database "Packages.db" (NDB),
 * the default of SUSE and openSUSE.
 *
 * Layout (all numbers little-endian, facts from rpm's lib/backend/ndb):
 *   offset 0   file header, 32 bytes: "RpmP", version 0, generation,
 *              number of slot pages, next package index;
 *   then       slot pages (4096 bytes each; the first one starts after
 *              the header): 16-byte slots "Slot", pkgidx, blkoff, blkcnt,
 *              blkoff 0 meaning a free slot;
 *   blkoff*16  a blob of blkcnt 16-byte blocks: head "BlbS", pkgidx,
 *              timestamp, length; the header blob; zero padding; tail
 *              adler32 (of head, blob and padding), length, "BlbE".
 * Every slot and blob is checked against the buffer and against itself
 * (magics, lengths, checksum) before its blob is handed on.
 */
#include <string.h>
#include <zlib.h>

#include "pkg/rpmdb.h"

#define NDB_HEADER_SIZE 32u
#define NDB_PAGE_SIZE   4096u
#define NDB_SLOT_SIZE   16u
#define NDB_BLK_SIZE    16u
#define NDB_BLOBHEAD    16u
#define NDB_BLOBTAIL    12u

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static bool magic_is(const uint8_t *p, const char *m)
{
    return memcmp(p, m, 4) == 0;
}

/* Checks the blob of one slot and passes its header blob to fn. */
static int ndb_blob(const uint8_t *data, size_t len, const char *path,
                    uint32_t pkgidx, uint32_t blkoff, uint32_t blkcnt,
                    mm_rpmdb_blob_fn fn, void *ud)
{
    uint64_t start = (uint64_t)blkoff * NDB_BLK_SIZE;
    uint64_t size = (uint64_t)blkcnt * NDB_BLK_SIZE;
    if (start + size > len)
        return mm_error_set(MM_EFORMAT,
            "%s: package %u: blob at offset %llu (%llu bytes) runs past the "
            "end of the file (%zu bytes)", path, pkgidx,
            (unsigned long long)start, (unsigned long long)size, len);
    if (size < NDB_BLOBHEAD + NDB_BLOBTAIL)
        return mm_error_set(MM_EFORMAT,
            "%s: package %u: blob at offset %llu is too small", path, pkgidx,
            (unsigned long long)start);
    const uint8_t *b = data + start;
    if (!magic_is(b, "BlbS") || le32(b + 4) != pkgidx)
        return mm_error_set(MM_EFORMAT,
            "%s: package %u: bad blob head at offset %llu", path, pkgidx,
            (unsigned long long)start);
    uint32_t bloblen = le32(b + 12);
    uint64_t need = ((uint64_t)NDB_BLOBHEAD + bloblen + NDB_BLOBTAIL +
                     NDB_BLK_SIZE - 1) / NDB_BLK_SIZE;
    if (need != blkcnt)
        return mm_error_set(MM_EFORMAT,
            "%s: package %u: blob length %u does not match its %u blocks "
            "(offset %llu)", path, pkgidx, bloblen, blkcnt,
            (unsigned long long)start);
    const uint8_t *tail = b + size - NDB_BLOBTAIL;
    if (!magic_is(tail + 8, "BlbE") || le32(tail + 4) != bloblen)
        return mm_error_set(MM_EFORMAT,
            "%s: package %u: bad blob tail at offset %llu", path, pkgidx,
            (unsigned long long)(start + size - NDB_BLOBTAIL));
    /* The checksum catches torn writes and bit rot, as rpm itself does
     * when it verifies a blob.  (Fuzzing builds skip it: a fuzzer cannot
     * forge checksums and would never reach the header decoder.) */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    uLong adl = adler32_z(adler32(0L, Z_NULL, 0), b, size - NDB_BLOBTAIL);
    if ((uint32_t)adl != le32(tail))
        return mm_error_set(MM_EFORMAT,
            "%s: package %u: blob checksum mismatch at offset %llu", path,
            pkgidx, (unsigned long long)start);
#endif
    return fn(ud, pkgidx, b + NDB_BLOBHEAD, bloblen);
}

int mm_rpmdb_ndb_walk(const uint8_t *data, size_t len, const char *path,
                      mm_rpmdb_blob_fn fn, void *ud)
{
    if (!data || len < NDB_HEADER_SIZE || !magic_is(data, "RpmP"))
        return mm_error_set(MM_EFORMAT, "%s: not an rpm NDB database "
                            "(offset 0)", path);
    uint32_t version = le32(data + 4);
    if (version != 0)
        return mm_error_set(MM_EFORMAT, "%s: NDB version %u unsupported "
                            "(offset 4)", path, version);
    uint32_t npages = le32(data + 12);
    if (npages == 0 || (uint64_t)npages * NDB_PAGE_SIZE > len)
        return mm_error_set(MM_EFORMAT,
            "%s: %u slot pages do not fit in %zu bytes (offset 12)", path,
            npages, len);
    /* Blobs live after the slot pages. */
    uint64_t minblk = (uint64_t)npages * (NDB_PAGE_SIZE / NDB_BLK_SIZE);
    uint64_t end = (uint64_t)npages * NDB_PAGE_SIZE;
    /* Blobs never overlap (rpm refuses such a file too): their blocks add
     * up to less than the file, which keeps the work linear when forged
     * slots all point at one big blob. */
    uint64_t blocks = 0;
    for (uint64_t off = NDB_HEADER_SIZE; off < end; off += NDB_SLOT_SIZE) {
        const uint8_t *s = data + off;
        if (!magic_is(s, "Slot"))
            return mm_error_set(MM_EFORMAT, "%s: bad slot magic at offset "
                                "%llu", path, (unsigned long long)off);
        uint32_t pkgidx = le32(s + 4), blkoff = le32(s + 8);
        uint32_t blkcnt = le32(s + 12);
        if (blkoff == 0)
            continue; /* free slot */
        if (pkgidx == 0 || blkcnt == 0 || blkoff < minblk)
            return mm_error_set(MM_EFORMAT, "%s: bad slot at offset %llu "
                                "(package %u, block %u, %u blocks)", path,
                                (unsigned long long)off, pkgidx, blkoff,
                                blkcnt);
        blocks += blkcnt;
        if (blocks > len / NDB_BLK_SIZE)
            return mm_error_set(MM_EFORMAT, "%s: slot at offset %llu: blobs "
                                "overlap (more blocks than the file holds)",
                                path, (unsigned long long)off);
        int rc = ndb_blob(data, len, path, pkgidx, blkoff, blkcnt, fn, ud);
        if (rc != 0)
            return rc;
    }
    return 0;
}
