/*
 * fuzz_layer.c - one layer (a tar stream, raw, gzip or zstd) scanned as a
 * root filesystem: decoder, libarchive walk, tree, all analyzers, and the
 * JSON report of what they found.
 */
#include "fuzz_scan_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_scan(data, size, MM_TARGET_ROOTFS);
    return 0;
}
