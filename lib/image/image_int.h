/*
 * image/image_int.h - internals of image intake shared by the files of
 * lib/image only: the tar index of outer archives (docker-archive, OCI
 * tar).  What other areas may use is in image/intake.h.
 */
#ifndef MM_IMAGE_INT_H
#define MM_IMAGE_INT_H

#include "image/intake.h"
#include "util/util.h"

/* --- tar index of an outer archive (docker-archive, OCI tar) ----------- */
/* Inflates the compressed outer archive at fd into "<tmpdir>/outer.tar",
 * keeping only the members an image can name (outer.c); *outfd is the
 * result, open for reading. */
int mm_outer_inflate(const char *path, int fd, const char *tmpdir, int *outfd,
                     const mm_intake_opts *opts);

typedef struct mm_tarindex mm_tarindex;
/* Indexes the regular files of an uncompressed tar file by normalised name. */
int mm_tarindex_build(mm_tarindex **out, int fd, const char *name,
                      uint64_t max_entries);
/* Position of a member; false when absent. */
bool mm_tarindex_find(const mm_tarindex *ix, const char *member,
                      uint64_t *off, uint64_t *size);
void mm_tarindex_free(mm_tarindex *ix);
/* Parses the tar headers in buf (for fuzzing the header parser alone). */
int mm_tarindex_parse_mem(mm_tarindex **out, const uint8_t *buf, size_t len,
                          uint64_t max_entries);

#endif
