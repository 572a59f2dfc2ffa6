/*
 * fuzz_outer.c - compressed outer archives read manifest first (outer.c):
 * the tar stream followed block by block while it is inflated, a first
 * pass that keeps only documents in memory (never more than the caps),
 * then a second that writes only the wanted members.  What the second
 * writes is never more than what was inflated, and every member it
 * indexes lies inside the file it wrote.
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
    o.limits.max_json_size = 1u << 20;
    o.limits.max_buffered = 4u << 20;
    o.limits.max_entries = 10000;
    mm_limits_fill(&o.limits);
    char *out = mm_xasprintf("%s/outer.data", dir);
    unlink(out);
    mm_outer *oa = NULL;
    if (mm_outer_scan(&oa, "fuzz", fd, &o) == 0) {
        size_t len;
        const char *m = mm_outer_doc(oa, "manifest.json", &len);
        if (m && len > o.limits.max_json_size)
            __builtin_trap();
        /* want the documents and a few names a manifest would give */
        char *want[] = {"manifest.json", "index.json", "layer.tar",
                        "blobs/sha256/0000000000000000000000000000000000000000000000000000000000000000"};
        int ofd = -1;
        mm_tarindex *ix = NULL;
        if (mm_outer_extract(oa, fd, dir, want, 4, &ofd, &ix) == 0) {
            struct stat st;
            if (fstat(ofd, &st) != 0 || (uint64_t)st.st_size > (64u << 20))
                __builtin_trap(); /* more written than inflated */
            for (size_t i = 0; i < 4; i++) {
                uint64_t off, sz;
                if (mm_tarindex_find(ix, want[i], &off, &sz) &&
                    (off > (uint64_t)st.st_size || sz > (uint64_t)st.st_size - off))
                    __builtin_trap();
            }
            mm_tarindex_free(ix);
            close(ofd);
        }
        mm_outer_free(oa);
    }
    unlink(out);
    free(out);
    close(fd);
    return 0;
}
