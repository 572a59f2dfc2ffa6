/*
 * host_int.h - what the host views share (private): reading small kernel
 * files that report size 0, and the boot time.
 */
#ifndef MM_HOST_INT_H
#define MM_HOST_INT_H

#include <stddef.h>
#include <stdint.h>

/* btime of ROOT/stat (root NULL = /proc), seconds since the epoch; 0 unknown. */
int64_t mm_host_boot_time(const char *root);

#endif
