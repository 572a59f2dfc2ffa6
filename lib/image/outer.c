/*
 * outer.c - a compressed outer archive (`docker save | gzip`, an OCI layout
 * tar.gz or .tar.zst) read manifest first, in two passes over the stream:
 *
 *  1. mm_outer_scan() inflates the stream and writes nothing: it keeps in
 *     memory only manifest.json, index.json, oci-layout and the members
 *     that can be a manifest, an index or a config (a manifest may name its
 *     config anything: every member within the document cap, 16 MiB, that
 *     starts as a JSON object, max_buffered in all; any other member is
 *     dropped at its first byte), and skips every other byte.  An archive
 *     that holds no image is refused there, naming the file, before
 *     anything reaches TMPDIR.  The archive itself is not hashed: it has no
 *     digest to meet, and it is read twice.
 *  2. Once the source (source.c) has chosen the image from those
 *     documents, mm_outer_extract() inflates the stream again and writes
 *     the members the chosen manifest references (its layers), and no
 *     other, one after another into "<tmpdir>/outer.data", indexed as a
 *     tar index is; unreferenced members are skipped, never written.
 *
 * The decoder stops both passes at --max-total-size.  The tar stream is
 * followed header by header (512-byte blocks): pax and GNU long names name
 * the entry that follows them, checksums are checked, an entry count is
 * capped (--max-entries), and a stream that ends inside a member is an
 * error naming the member.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image_int.h"

/* --- the tar stream ------------------------------------------------------------ */
/* member() says whether the entry's data is wanted (> 0), data() receives
 * it in pieces, done() closes it; a negative return stops the pass. */
struct tw {
    const char *label;
    uint64_t max_entries, count;
    uint8_t hdr[512];
    size_t hlen;
    uint64_t pos;          /* bytes of the tar stream consumed */
    uint64_t hoff;         /* where the current entry's header began */
    uint64_t left, pad;    /* data bytes left in the entry, then its padding */
    bool want;             /* the entry's data goes to data() */
    char ext;              /* 'L' or 'x' being read into extbuf, or 0 */
    char *extbuf;
    size_t extlen;
    char *longname;        /* the name the last pax/L record gave */
    char *cur;             /* the current entry's name, for messages */
    bool ended;            /* the end-of-archive block was seen */
    int (*member)(void *ud, const char *name, uint64_t size);
    int (*data)(void *ud, const uint8_t *p, size_t n);
    int (*done)(void *ud);
    void *ud;
};

static void tw_clear(struct tw *t)
{
    free(t->extbuf);
    free(t->longname);
    free(t->cur);
    t->extbuf = t->longname = t->cur = NULL;
}

static int ext_done(struct tw *t)
{
    free(t->longname);
    t->extbuf[t->extlen] = 0;
    t->longname = t->ext == 'L' ? mm_xstrndup(t->extbuf, strnlen(t->extbuf, t->extlen))
                                : mm_tar_pax_path(t->extbuf, t->extlen);
    free(t->extbuf);
    t->extbuf = NULL;
    t->ext = 0;
    return 0;
}

static int header(struct tw *t)
{
    const uint8_t *h = t->hdr;
    bool zero = true;
    for (size_t i = 0; i < 512 && zero; i++)
        zero = h[i] == 0;
    if (zero) {
        t->ended = true;   /* what follows the end block is not read */
        return 0;
    }
    uint64_t size;
    if (!mm_tar_header_ok(h, &size))
        return mm_error_set(MM_EFORMAT, "%s: not a tar archive (bad header at offset %llu of "
                            "the inflated stream)", t->label, (unsigned long long)t->hoff);
    if (++t->count > t->max_entries)
        return mm_error_set(MM_ELIMIT, "%s: more than %llu members", t->label,
                            (unsigned long long)t->max_entries);
    char type = (char)h[156];
    t->left = size;
    t->pad = (512 - size % 512) % 512;
    t->want = false;
    if (type == 'L' || type == 'x') {
        if (size > 65536)
            return mm_error_set(MM_ELIMIT, "%s: extended header of %llu bytes at offset %llu",
                                t->label, (unsigned long long)size,
                                (unsigned long long)t->hoff);
        t->ext = type;
        t->extbuf = mm_xmalloc((size_t)size + 1);
        t->extlen = 0;
        return size ? 0 : ext_done(t);
    }
    char *name = t->longname;
    t->longname = NULL;
    if (type != '0' && type != '\0' && type != '7') {
        free(name);            /* directories, links, devices: skipped */
        return 0;
    }
    if (!name)
        name = mm_tar_header_name(h);
    free(t->cur);
    t->cur = mm_path_normalize(name, NULL);   /* NULL: an unsafe name, skipped */
    free(name);
    if (!t->cur)
        return 0;
    int rc = t->member(t->ud, t->cur, size);
    if (rc < 0)
        return rc;
    t->want = rc > 0;
    if (t->want && size == 0) {
        t->want = false;
        return t->done(t->ud);
    }
    return 0;
}

/* 1 once the end block was seen (the rest of the stream is not looked at) */
static int tw_feed(struct tw *t, const uint8_t *p, size_t n)
{
    while (n && !t->ended) {
        if (t->left) {
            size_t k = n < t->left ? n : (size_t)t->left;
            int rc = 0;
            if (t->ext) {
                memcpy(t->extbuf + t->extlen, p, k);
                t->extlen += k;
            } else if (t->want) {
                rc = t->data(t->ud, p, k);
            }
            p += k;
            n -= k;
            t->pos += k;
            t->left -= k;
            if (rc == 0 && !t->left) {
                if (t->ext)
                    rc = ext_done(t);
                else if (t->want) {
                    t->want = false;
                    rc = t->done(t->ud);
                }
            }
            if (rc < 0)
                return rc;
            continue;
        }
        if (t->pad) {
            size_t k = n < t->pad ? n : (size_t)t->pad;
            p += k;
            n -= k;
            t->pos += k;
            t->pad -= k;
            continue;
        }
        if (t->hlen == 0)
            t->hoff = t->pos;
        size_t k = 512 - t->hlen;
        if (k > n)
            k = n;
        memcpy(t->hdr + t->hlen, p, k);
        t->hlen += k;
        p += k;
        n -= k;
        t->pos += k;
        if (t->hlen == 512) {
            t->hlen = 0;
            int rc = header(t);
            if (rc < 0)
                return rc;
        }
    }
    return t->ended ? 1 : 0;
}

/* --- the archive ---------------------------------------------------------------- */
struct doc {
    char *data;
    size_t len;
};

struct mm_outer {
    char *path;
    mm_limits lim;
    mm_map *docs;          /* normalised name -> struct doc */
    size_t kept;           /* bytes held in docs */
    bool overflow;
    /* the pass under way */
    struct doc *cur;       /* first pass: the document being read, or NULL */
    char *curname;
    int ofd;               /* second pass: outer.data */
    const char *tmpdir;
    mm_map *want;
    mm_tarindex *ix;
    uint64_t woff, wstart;
};

static void doc_free(void *p)
{
    struct doc *d = p;
    if (d) {
        free(d->data);
        free(d);
    }
}

void mm_outer_free(mm_outer *o)
{
    if (!o)
        return;
    mm_map_free(o->docs, doc_free);
    doc_free(o->cur);
    free(o->curname);
    free(o->path);
    free(o);
}

const char *mm_outer_doc(const mm_outer *o, const char *member, size_t *len)
{
    const struct doc *d = o ? mm_map_get(o->docs, member) : NULL;
    if (!d)
        return NULL;
    *len = d->len;
    return d->data;
}

bool mm_outer_overflow(const mm_outer *o)
{
    return o && o->overflow;
}

/* Runs one pass of t over the whole stream at fd (the decoder reads it to
 * its end, so that a corrupt stream is an error in either pass). */
static int pass(mm_outer *o, int fd, struct tw *t)
{
    struct stat sb;
    if (fstat(fd, &sb) < 0)
        return mm_error_set(MM_EIO, "%s: %s", o->path, strerror(errno));
    mm_blob *b;
    int rc = mm_blob_open_window(&b, fd, 0, (uint64_t)sb.st_size, o->path, NULL);
    if (rc < 0)
        return rc;
    mm_blob_no_digest(b);   /* the archive itself has no digest to meet */
    mm_decoder *d;
    rc = mm_decoder_new(&d, b, o->lim.max_total_size);
    if (rc < 0)
        return rc;
    t->label = o->path;
    t->max_entries = o->lim.max_entries;
    t->ud = o;
    for (;;) {
        const uint8_t *p;
        ssize_t n = mm_decoder_next(d, &p);
        if (n <= 0) {
            rc = (int)n;
            break;
        }
        if (!t->ended && (rc = tw_feed(t, p, (size_t)n)) < 0)
            break;
        rc = 0;
    }
    mm_decoder_free(d);
    if (rc == 0 && t->ext)
        rc = mm_error_set(MM_EFORMAT, "%s: truncated inside an extended header", o->path);
    else if (rc == 0 && t->left)
        rc = mm_error_set(MM_EFORMAT, "%s: truncated inside member %s (%llu bytes missing)",
                          o->path, t->cur ? t->cur : "?", (unsigned long long)t->left);
    tw_clear(t);
    return rc;
}

/* --- first pass: the documents ------------------------------------------------------ */
static bool fixed_doc(const char *name)
{
    return !strcmp(name, "manifest.json") || !strcmp(name, "index.json") ||
           !strcmp(name, "oci-layout");
}

static int scan_member(void *ud, const char *name, uint64_t size)
{
    mm_outer *o = ud;
    /* a manifest may name its config (and a layer) anything: every member
     * small enough to be a document is looked at, and kept when it starts
     * as a JSON object */
    bool fixed = fixed_doc(name);
    if (size > o->lim.max_json_size) {
        if (fixed)
            return mm_error_set(MM_ELIMIT, "%s:%s: larger than the limit of %llu bytes",
                                o->path, name, (unsigned long long)o->lim.max_json_size);
        return 0;   /* too large for a document: a layer */
    }
    if (!fixed && o->kept + size > o->lim.max_buffered) {
        o->overflow = true;
        return 0;
    }
    o->cur = mm_xcalloc(1, sizeof *o->cur);
    o->cur->data = mm_xmalloc((size_t)size + 1);
    free(o->curname);
    o->curname = mm_xstrdup(name);
    return 1;
}

static bool blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int scan_data(void *ud, const uint8_t *p, size_t n)
{
    mm_outer *o = ud;
    struct doc *d = o->cur;
    if (!d)
        return 0;
    if (!fixed_doc(o->curname)) {
        /* not a JSON object (a layer, a text): dropped at its first byte */
        size_t i = 0;
        bool started = false;
        for (size_t k = 0; k < d->len && !started; k++)
            started = !blank((uint8_t)d->data[k]);
        while (!started && i < n && blank(p[i]))
            i++;
        if (!started && i < n && p[i] != '{') {
            doc_free(d);
            o->cur = NULL;
            return 0;
        }
    }
    memcpy(d->data + d->len, p, n);
    d->len += n;
    return 0;
}

static int scan_done(void *ud)
{
    mm_outer *o = ud;
    struct doc *d = o->cur;
    o->cur = NULL;
    if (!d)
        return 0;   /* dropped on the way */
    d->data[d->len] = 0;
    size_t i = 0;
    while (i < d->len && blank((uint8_t)d->data[i]))
        i++;
    /* a blob that is not a JSON object is a layer or something else */
    if (!fixed_doc(o->curname) && (i == d->len || d->data[i] != '{')) {
        doc_free(d);
        return 0;
    }
    struct doc *old = mm_map_put(o->docs, o->curname, d);
    if (old) {
        o->kept -= old->len;
        doc_free(old);
    }
    o->kept += d->len;
    return 0;
}

int mm_outer_scan(mm_outer **out, const char *path, int fd, const mm_intake_opts *opts)
{
    *out = NULL;
    mm_outer *o = mm_xcalloc(1, sizeof *o);
    o->path = mm_xstrdup(path);
    o->lim = opts->limits;
    o->docs = mm_map_new();
    o->ofd = -1;
    struct tw t = {.member = scan_member, .data = scan_data, .done = scan_done};
    int rc = pass(o, fd, &t);
    doc_free(o->cur);
    o->cur = NULL;
    if (rc < 0) {
        mm_outer_free(o);
        return rc;
    }
    *out = o;
    return 0;
}

/* --- second pass: the referenced members ---------------------------------------------- */
static int put(mm_outer *o, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(o->ofd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return mm_error_set(MM_EIO, "%s: write failed: %s", o->tmpdir, strerror(errno));
        b += w;
        n -= (size_t)w;
        o->woff += (uint64_t)w;
    }
    return 0;
}

static int x_member(void *ud, const char *name, uint64_t size)
{
    mm_outer *o = ud;
    (void)size;
    if (!mm_map_get(o->want, name))
        return 0;
    free(o->curname);
    o->curname = mm_xstrdup(name);
    o->wstart = o->woff;
    return 1;
}

static int x_data(void *ud, const uint8_t *p, size_t n)
{
    return put(ud, p, n);
}

static int x_done(void *ud)
{
    mm_outer *o = ud;
    /* a member written twice: the later one counts, as in a tar index */
    mm_tarindex_add(o->ix, o->curname, o->wstart, o->woff - o->wstart);
    return 0;
}

int mm_outer_extract(mm_outer *o, int fd, const char *tmpdir, char *const *want, size_t nwant,
                     int *outfd, mm_tarindex **ix)
{
    *outfd = -1;
    *ix = NULL;
    char *tp = mm_xasprintf("%s/outer.data", tmpdir);
    o->ofd = open(tp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    free(tp);
    if (o->ofd < 0)
        return mm_error_set(MM_EIO, "%s: cannot write to the temp folder: %s", tmpdir,
                            strerror(errno));
    o->tmpdir = tmpdir;
    o->want = mm_map_new();
    for (size_t i = 0; i < nwant; i++)
        if (want[i])
            mm_map_put(o->want, want[i], (void *)1);
    o->ix = mm_tarindex_new();
    o->woff = 0;
    struct tw t = {.member = x_member, .data = x_data, .done = x_done};
    int rc = nwant ? pass(o, fd, &t) : 0;   /* no layers: nothing to inflate */
    mm_map_free(o->want, NULL);
    o->want = NULL;
    if (rc < 0) {
        close(o->ofd);
        o->ofd = -1;
        mm_tarindex_free(o->ix);
        o->ix = NULL;
        return rc;
    }
    *outfd = o->ofd;
    *ix = o->ix;
    o->ofd = -1;
    o->ix = NULL;
    return 0;
}
