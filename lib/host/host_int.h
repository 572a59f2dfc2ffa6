/*
 * host_int.h - what the host views share (private): reading small kernel
 * files that report size 0, and the boot time.
 */
#ifndef MM_HOST_INT_H
#define MM_HOST_INT_H

#include <stddef.h>
#include <stdint.h>

/* Reads path until EOF, at most about max bytes; NUL-terminated, caller
 * frees; NULL when it cannot be opened. */
char *mm_host_read_all(const char *path, size_t max, size_t *len);
/* btime of ROOT/stat (root NULL = /proc), seconds since the epoch; 0 unknown. */
int64_t mm_host_boot_time(const char *root);

#endif
