/*
 * fuzz_tar_index.c - the header parser of outer archives (docker-archive,
 * OCI tar): ustar, GNU long names, pax paths, base-256 sizes.
 */
#include <stdint.h>
#include <stddef.h>

#include "image/image_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_tarindex *ix = NULL;
    if (mm_tarindex_parse_mem(&ix, data, size, 100000) == 0) {
        uint64_t off, sz;
        if (mm_tarindex_find(ix, "manifest.json", &off, &sz) && (off > size || sz > size - off + 511))
            __builtin_trap(); /* a member the index placed beyond the input */
        mm_tarindex_free(ix);
    }
    return 0;
}
