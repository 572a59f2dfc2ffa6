/*
 * fuzz_scan_common.h - runs a whole scan over fuzzer input held in a memfd
 * (no file is written), so that the layer reader, libarchive, the tree and
 * every analyzer see hostile bytes exactly as they would from an image.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mamori/mamori.h"

static void fuzz_scan(const uint8_t *data, size_t size, mm_target_kind kind)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0)
        return;
    if (write(fd, data, size) == (ssize_t)size) {
        char path[64];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        mm_scan_opts o;
        mm_scan_opts_init(&o);
        o.threads = 1; /* deterministic for the fuzzer */
        o.limits.max_entries = 20000;
        o.limits.max_total_size = 64u << 20;
        o.limits.max_buffered = 8u << 20;
        mm_result *r = NULL;
        if (mm_scan(&r, kind, path, &o) == 0) {
            char *json = NULL;
            mm_report_opts ro;
            mm_report_opts_init(&ro);
            if (mm_report_json_string(&json, r, &ro) == 0)
                free(json);
            mm_result_free(r);
        }
    }
    close(fd);
}
