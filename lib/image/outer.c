/*
 * outer.c - a compressed outer archive (`docker save | gzip`, an OCI layout
 * tar.gz or .tar.zst) inflated into the scan's temp folder, keeping only the
 * members an image can name: docker-archive's manifest.json, repositories,
 * <id>.json, <id>/layer.tar, <id>/json, <id>/VERSION, <id>.tar[.gz|.zst]
 * (skopeo, crane; <id> a hex digest, crane's with "sha256:"), and the OCI
 * layout's oci-layout, index.json and blobs/<algorithm>/<hex>.  Every other member
 * is inflated and thrown away as it passes, so an archive that holds no
 * image (or an image plus gigabytes of something else) writes next to
 * nothing to TMPDIR; the rest of intake reads the kept members as it reads
 * any tar.  The decoder still stops at --max-total-size.
 *
 * The tar stream is followed header by header (512-byte blocks); pax and
 * GNU long-name records are kept with the entry that follows them.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_int.h"

static bool all_hex(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Could an image name this member? */
static bool image_member(const char *name)
{
    while (name[0] == '.' && name[1] == '/')
        name += 2;
    static const char *const fixed[] = {"manifest.json", "repositories", "oci-layout",
                                        "index.json", "blobs", "blobs/"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (!strcmp(name, fixed[i]))
            return true;
    if (!strncmp(name, "blobs/", 6)) {
        /* blobs/<alg>[/<hex>] */
        const char *alg = name + 6, *sl = strchr(alg, '/');
        if (!sl)
            return true;
        const char *hex = sl + 1;
        size_t n = strlen(hex);
        if (n && hex[n - 1] == '/')
            n--;
        return n == 0 || (all_hex(hex, n) && !memchr(hex, '/', n));
    }
    const char *sl = strchr(name, '/');
    size_t idn = sl ? (size_t)(sl - name) : strlen(name);
    if (!sl) {
        /* <id>.json (a config), <id>.tar[.gz|.zst] (a layer), crane's
         * "sha256:<hex>" config */
        const char *id = name;
        if (!strncmp(id, "sha256:", 7))
            id += 7;
        else if (!strncmp(id, "sha512:", 7))
            id += 7;
        size_t hn = strspn(id, "0123456789abcdefABCDEF");
        static const char *const ext[] = {"", ".json", ".tar", ".tar.gz", ".tgz",
                                          ".tar.zst", ".gz", ".zst"};
        for (size_t i = 0; hn >= 12 && i < sizeof ext / sizeof ext[0]; i++)
            if (!strcmp(id + hn, ext[i]))
                return true;
        return false;
    }
    if (!all_hex(name, idn))
        return false;
    const char *rest = sl + 1;
    return !*rest || !strcmp(rest, "layer.tar") || !strcmp(rest, "json") ||
           !strcmp(rest, "VERSION");
}

static uint64_t octal(const char *p, size_t n)
{
    uint64_t v = 0;
    if ((unsigned char)p[0] & 0x80) {
        /* base-256 (GNU): big sizes */
        for (size_t i = 1; i < n; i++)
            v = (v << 8) | (unsigned char)p[i];
        return v;
    }
    for (size_t i = 0; i < n && p[i]; i++) {
        if (p[i] == ' ')
            continue;
        if (p[i] < '0' || p[i] > '7')
            break;
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    return v;
}

struct filt {
    int fd;
    const char *tmpdir;
    uint8_t hdr[512];
    size_t hlen;
    uint64_t left;     /* data + padding of the current entry */
    bool keep;         /* the current entry is written */
    bool keep_next;    /* a pax/long-name record asks to keep the next */
    bool index_seen;   /* manifest.json or index.json kept */
};

static int put(struct filt *f, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(f->fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return mm_error_set(MM_EIO, "%s: write failed: %s", f->tmpdir, strerror(errno));
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int header_done(struct filt *f)
{
    const char *h = (const char *)f->hdr;
    bool zero = true;
    for (size_t i = 0; i < 512 && zero; i++)
        zero = f->hdr[i] == 0;
    if (zero) {
        /* end of archive (or padding): kept as is */
        f->keep = true;
        f->left = 0;
        return put(f, f->hdr, 512);
    }
    uint64_t size = octal(h + 124, 12);
    char type = h[156];
    f->left = (size + 511) / 512 * 512;
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
        f->keep = true;
        f->keep_next = true;
    } else {
        char name[256 + 1];
        size_t pl = strnlen(h + 345, 155), nl = strnlen(h, 100);
        if (!memcmp(h + 257, "ustar", 5) && pl) {
            memcpy(name, h + 345, pl);
            name[pl] = '/';
            memcpy(name + pl + 1, h, nl);
            name[pl + 1 + nl] = 0;
        } else {
            memcpy(name, h, nl);
            name[nl] = 0;
        }
        f->keep = f->keep_next || image_member(name);
        f->keep_next = false;
        const char *nm = name;
        while (nm[0] == '.' && nm[1] == '/')
            nm += 2;
        if (!strcmp(nm, "manifest.json") || !strcmp(nm, "index.json"))
            f->index_seen = true;
    }
    return f->keep ? put(f, f->hdr, 512) : 0;
}

static int feed(struct filt *f, const uint8_t *p, size_t n)
{
    while (n) {
        if (f->left) {
            size_t k = n < f->left ? n : (size_t)f->left;
            if (f->keep) {
                int rc = put(f, p, k);
                if (rc)
                    return rc;
            }
            p += k;
            n -= k;
            f->left -= k;
            continue;
        }
        size_t k = 512 - f->hlen;
        if (k > n)
            k = n;
        memcpy(f->hdr + f->hlen, p, k);
        f->hlen += k;
        p += k;
        n -= k;
        if (f->hlen == 512) {
            f->hlen = 0;
            int rc = header_done(f);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int mm_outer_inflate(const char *path, int fd, const char *tmpdir, int *outfd,
                     const mm_intake_opts *opts)
{
    struct stat sb;
    fstat(fd, &sb);
    mm_blob *b;
    int rc = mm_blob_open_window(&b, fd, 0, (uint64_t)sb.st_size, path, NULL);
    if (rc < 0)
        return rc;
    mm_decoder *d;
    mm_decoder_new(&d, b, opts->limits.max_total_size);
    char *tp = mm_xasprintf("%s/outer.tar", tmpdir);
    int ofd = open(tp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    free(tp);
    if (ofd < 0) {
        mm_decoder_free(d);
        return mm_error_set(MM_EIO, "%s: cannot write to the temp folder: %s",
                            tmpdir, strerror(errno));
    }
    struct filt f = {.fd = ofd, .tmpdir = tmpdir};
    for (;;) {
        const uint8_t *p;
        ssize_t n = mm_decoder_next(d, &p);
        if (n < 0) {
            rc = (int)n;
            break;
        }
        if (n == 0)
            break;
        if ((rc = feed(&f, p, (size_t)n)) < 0)
            break;
    }
    /* a short last block is left for the tar reader to judge */
    if (rc == 0 && f.hlen)
        rc = put(&f, f.hdr, f.hlen);
    mm_decoder_free(d);
    if (rc == 0 && !f.index_seen)
        rc = mm_error_set(MM_EFORMAT,
                          "%s: not an image: neither manifest.json (docker-archive) "
                          "nor index.json (OCI layout) found", path);
    if (rc < 0) {
        close(ofd);
        return rc;
    }
    *outfd = ofd;
    return 0;
}
