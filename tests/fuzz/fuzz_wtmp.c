/*
 * fuzz_wtmp.c - libFuzzer target for the binary login records and the
 * capture reader, the untrusted files of the host views and of replay.
 * The first byte picks the mode: even = the rest is a wtmp/btmp/lastlog
 * image (decoded by offset, sessions paired, findings made, both reports
 * written); odd = the rest is a capture (plain or zstd by magic) read line
 * by line with small caps.  Nothing may crash, leak or read out of bounds;
 * errors are fine.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mamori/capture.h"
#include "mamori/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

/* The bytes as a file the library can open by name. */
static int as_file(const uint8_t *d, size_t n, char path[64])
{
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (n && write(fd, d, n) != (ssize_t)n) {
        close(fd);
        return -1;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    char path[64];
    if (!(data[0] & 1)) {
        mm_utmp_rec *r = NULL;
        size_t n = 0;
        if (mm_utmp_parse(&r, &n, "fuzz", data + 1, size - 1, 0) == 0)
            free(r);
        int fd = as_file(data + 1, size - 1, path);
        if (fd < 0)
            return 0;
        mm_logins_opts o = {.wtmp = path, .btmp = path, .lastlog = path,
                            .boot_time = 1700000000, .no_live_check = true,
                            .failed_threshold = 2};
        mm_logins *l;
        if (mm_host_logins(&l, &o) == 0) {
            mm_logins_write(devnull, l, true);
            mm_logins_write(devnull, l, false);
            mm_logins_free(l);
        }
        close(fd);
        return 0;
    }
    int fd = as_file(data + 1, size - 1, path);
    if (fd < 0)
        return 0;
    const char *files[] = {path, path};
    mm_capture_read_opts ro = {.max_line = 4096, .max_total = 4u << 20};
    mm_capture_reader *cr;
    if (mm_capture_reader_open(&cr, files, 2, &ro) == 0) {
        const char *line;
        size_t len;
        while (mm_capture_reader_next(cr, &line, &len) == 1)
            ;
        mm_capture_reader_free(cr);
    }
    close(fd);
    return 0;
}
