/*
 * fuzz_outer.c - the member filter of compressed outer archives (outer.c):
 * the tar stream followed block by block while it is inflated, members an
 * image cannot name dropped.  What it writes must never be larger than
 * what came in, and must index as a tar when it is one.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char *dir;
    if (!dir && mm_tmpdir_create(&dir, NULL) != 0)
        return 0;
    int fd = memfd_create("outer", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    mm_intake_opts o;
    memset(&o, 0, sizeof o);
    o.limits.max_total_size = 64u << 20;
    char *out = mm_xasprintf("%s/outer.tar", dir);
    unlink(out);
    int ofd = -1;
    if (mm_outer_inflate("fuzz", fd, dir, &ofd, &o) == 0) {
        struct stat st;
        if (fstat(ofd, &st) == 0 && (uint64_t)st.st_size > (64u << 20) + 512)
            __builtin_trap(); /* more written than inflated */
        mm_tarindex *ix = NULL;
        if (mm_tarindex_build(&ix, ofd, "fuzz", 100000) == 0)
            mm_tarindex_free(ix);
        close(ofd);
    }
    unlink(out);
    free(out);
    close(fd);
    return 0;
}
