/*
 * fuzz_image.c - a whole image archive (docker-archive or OCI tar):
 * tar index, manifest.json / index.json / manifest / config parsing,
 * platform selection, digest checks, then the layers.
 */
#include "fuzz_scan_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_scan(data, size, MM_TARGET_IMAGE);
    return 0;
}
