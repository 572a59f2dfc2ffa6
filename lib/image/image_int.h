/*
 * image/image_int.h - internals of image intake shared by the files of
 * lib/image only: the tar index of outer archives (docker-archive, OCI
 * tar).  What other areas may use is in image/intake.h.
 */
#ifndef MM_IMAGE_INT_H
#define MM_IMAGE_INT_H

#include "image/intake.h"
#include "util/util.h"

typedef struct mm_tarindex mm_tarindex;

/* --- a compressed outer archive (outer.c), manifest first --------------- */
/* First pass over the compressed tar at fd: writes nothing; keeps in
 * memory manifest.json, index.json, oci-layout and the members that can be
 * a manifest, an index or a config (any member of at most max_json_size
 * bytes that starts as a JSON object; max_buffered bytes in all). */
typedef struct mm_outer mm_outer;
int mm_outer_scan(mm_outer **out, const char *path, int fd, const mm_intake_opts *opts);
/* A member kept by the first pass (normalised name), or NULL. */
const char *mm_outer_doc(const mm_outer *o, const char *member, size_t *len);
/* Whether the first pass had to leave documents out (over max_buffered). */
bool mm_outer_overflow(const mm_outer *o);
/* Second pass: the members named in want (normalised names), and no
 * other, written one after another into "<tmpdir>/outer.data"; *outfd is
 * that file (open for reading) and *ix says where each member is. */
int mm_outer_extract(mm_outer *o, int fd, const char *tmpdir, char *const *want,
                     size_t nwant, int *outfd, mm_tarindex **ix);
void mm_outer_free(mm_outer *o);

/* Indexes the regular files of an uncompressed tar file by normalised name. */
int mm_tarindex_build(mm_tarindex **out, int fd, const char *name,
                      uint64_t max_entries);
/* Position of a member; false when absent. */
bool mm_tarindex_find(const mm_tarindex *ix, const char *member,
                      uint64_t *off, uint64_t *size);
void mm_tarindex_free(mm_tarindex *ix);
/* A blob whose digest nobody reads (an outer archive, read twice): not
 * hashed (without an expected digest only); its digest is then "". */
void mm_blob_no_digest(mm_blob *b);
/* An empty index, and a member added to it (outer.c writes its own file). */
mm_tarindex *mm_tarindex_new(void);
void mm_tarindex_add(mm_tarindex *ix, const char *member, uint64_t off, uint64_t size);
/* A header block whose checksum holds, and its size field. */
bool mm_tar_header_ok(const uint8_t h[512], uint64_t *size);
/* A header block's member name as written (the ustar prefix joined to the
 * name; not normalised, malloc'd). */
char *mm_tar_header_name(const uint8_t h[512]);
/* "path=" of a pax extended header's records, or NULL (malloc'd). */
char *mm_tar_pax_path(const char *d, size_t n);
/* Parses the tar headers in buf (for fuzzing the header parser alone). */
int mm_tarindex_parse_mem(mm_tarindex **out, const uint8_t *buf, size_t len,
                          uint64_t max_entries);

/* --- the layer record (layerrec.c) -------------------------------------- */
/* Writing, in the walker's order: start, then per entry: entry, fed, and
 * when fed its pieces and end_content; finish patches the header (MM_ELIMIT
 * when the buffer's cap was hit: no record). */
void mm_lrec_start(mm_buf *b);
void mm_lrec_entry(mm_buf *b, const mm_entry *e);
void mm_lrec_fed(mm_buf *b, bool fed);
void mm_lrec_piece(mm_buf *b, const void *d, size_t n);
void mm_lrec_end_content(mm_buf *b, bool stopped);
int mm_lrec_finish(mm_buf *b, uint64_t blob_size, uint64_t uncompressed, uint64_t entries);

/* Reading: open checks the whole record; next gives 1 and c->e for each
 * entry (0 at the end); read is the walker's content reader for the
 * current entry (an error when the analyzers want what was not recorded). */
typedef struct mm_lrec {
    const uint8_t *p;
    size_t len, off, pieces;
    uint64_t blob_size, uncompressed, entries;
    mm_entry e;
    char *path, *link;
    bool fed, stopped, drained;
    uint8_t *own;      /* the inflated record */
} mm_lrec;
int mm_lrec_open(mm_lrec *c, const uint8_t *p, size_t len);
int mm_lrec_next(mm_lrec *c);
int mm_lrec_read(void *ud, const void **buf, size_t *len);
void mm_lrec_close(mm_lrec *c);

#endif
