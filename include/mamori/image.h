/*
 * mamori/image.h - what image intake (lib/image) lets a front-end set: the
 * caps on untrusted input that every layer, manifest and config is read
 * under (docs/limits.md).  The scan itself is mamori/scan.h.
 */
#ifndef MAMORI_IMAGE_H
#define MAMORI_IMAGE_H

#include "mamori/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps on untrusted input; 0 means "use the default" (see docs/limits.md). */
typedef struct mm_limits {
    uint64_t max_entries;      /* tar entries over all layers */
    uint64_t max_path;         /* bytes in one entry name */
    uint64_t max_file_size;    /* bytes in one file */
    uint64_t max_total_size;   /* uncompressed bytes over all layers */
    uint64_t max_layers;       /* layers in one image */
    uint64_t max_json_size;    /* manifest, index, config documents */
    uint64_t max_buffered;     /* one file an analyzer reads whole */
} mm_limits;

#define MM_DEFAULT_MAX_ENTRIES    (50ull * 1000 * 1000)
#define MM_DEFAULT_MAX_PATH       4096ull
#define MM_DEFAULT_MAX_FILE_SIZE  (32ull << 30)   /* 32 GiB */
#define MM_DEFAULT_MAX_TOTAL_SIZE (16ull << 30)   /* 16 GiB: what a laptop can hold */
#define MM_DEFAULT_MAX_LAYERS     1024ull
#define MM_DEFAULT_MAX_JSON_SIZE  (16ull << 20)   /* 16 MiB */
#define MM_DEFAULT_MAX_BUFFERED   (64ull << 20)   /* 64 MiB */

/* Replaces every 0 of l by its default. */
void mm_limits_fill(mm_limits *l);

#ifdef __cplusplus
}
#endif
#endif
