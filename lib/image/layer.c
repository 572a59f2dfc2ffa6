/*
 * image/layer.c - the walker: reads each layer's tar stream once and hands
 * every entry to the merged tree and to the entry sink (the pipeline's
 * analyzers) when it wants the content.
 *
 * Two stages run on two threads when there is more than one core: the
 * decoder thread reads the blob, hashes it and inflates it into a small
 * ring of buffers; the walker thread hashes the tar stream (the diff_id),
 * parses it with libarchive (which reads from the ring through a callback)
 * and runs the analyzers.  Memory is the ring (a few MiB) plus what
 * analyzers buffer, whatever the size of the image.
 *
 * Entry names are hostile: they are normalised, an escape above the root is
 * reported, and caps on entries, name length, file size and total size end
 * the scan with MM_ELIMIT and a message saying which flag raises the cap.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "image/image_int.h"

#define RING 8
#define SLOT_SIZE (1u << 20)

struct mm_walker {
    mm_actx *cx;
    mm_tree *tree;
    const mm_entry_sink *sink;
    mm_limits lim;
    uint64_t entries, total;
    bool threaded;
    mm_buf *rec;         /* the layer record being written, or NULL */
    bool rec_unsafe;     /* the layer had a name reported by clean_name */
};

int mm_walker_new(mm_walker **out, mm_actx *cx, mm_tree *tree,
                  const mm_entry_sink *sink, const mm_limits *limits,
                  int threads)
{
    mm_walker *w = mm_xcalloc(1, sizeof *w);
    w->cx = cx;
    w->tree = tree;
    w->sink = sink;
    w->lim = *limits;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    w->threaded = threads == 0 ? ncpu > 1 : threads > 1;
    *out = w;
    return 0;
}

void mm_walker_free(mm_walker *w)
{
    free(w);
}

uint64_t mm_walker_total_entries(const mm_walker *w)
{
    return w->entries;
}

/* --- the ring between the decoder thread and the walker ------------------ */
struct ring {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint8_t *buf[RING];
    size_t len[RING];
    size_t head, tail; /* head: next to fill, tail: next to consume */
    bool eof, cancel;
    int err;
    char errmsg[1024];
};

struct stream {
    mm_decoder *dec;
    bool threaded;
    struct ring ring;
    pthread_t thr;
    bool have_thr;
    int held;          /* ring slot the walker holds, -1 none */
    mm_sha256 *diff;   /* hash of the tar stream */
    int err;           /* first error seen by the walker side */
    char errmsg[1024];
    bool at_end;
};

static void *decoder_main(void *arg)
{
    struct stream *s = arg;
    struct ring *r = &s->ring;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        while (r->head - r->tail >= RING && !r->cancel)
            pthread_cond_wait(&r->cv, &r->mu);
        bool cancel = r->cancel;
        size_t slot = r->head % RING;
        pthread_mutex_unlock(&r->mu);
        if (cancel)
            break;
        /* only this thread touches a slot between head and head + 1 */
        if (!r->buf[slot])
            r->buf[slot] = mm_xmalloc(SLOT_SIZE);
        ssize_t n = mm_decoder_read(s->dec, r->buf[slot], SLOT_SIZE);
        pthread_mutex_lock(&r->mu);
        if (n < 0) {
            r->err = (int)n;
            snprintf(r->errmsg, sizeof r->errmsg, "%s", mm_error_last());
            r->eof = true;
        } else if (n == 0) {
            r->eof = true;
        } else {
            r->len[slot] = (size_t)n;
            r->head++;
        }
        bool stop = r->eof;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (stop)
            break;
    }
    return NULL;
}

/* Next piece of the tar stream: >0 length, 0 end, <0 error. */
static ssize_t stream_next(struct stream *s, const uint8_t **p)
{
    ssize_t n;
    if (!s->threaded) {
        n = mm_decoder_next(s->dec, p);
    } else {
        struct ring *r = &s->ring;
        pthread_mutex_lock(&r->mu);
        if (s->held >= 0) {
            r->tail++;
            s->held = -1;
            pthread_cond_broadcast(&r->cv);
        }
        while (r->head == r->tail && !r->eof)
            pthread_cond_wait(&r->cv, &r->mu);
        if (r->head != r->tail) {
            size_t slot = r->tail % RING;
            *p = r->buf[slot];
            n = (ssize_t)r->len[slot];
            s->held = (int)slot;
        } else if (r->err) {
            n = mm_error_set(r->err, "%s", r->errmsg);
        } else {
            n = 0;
        }
        pthread_mutex_unlock(&r->mu);
    }
    if (n > 0)
        mm_sha256_update(s->diff, *p, (size_t)n);
    if (n == 0)
        s->at_end = true;
    if (n < 0 && !s->err) {
        s->err = (int)n;
        snprintf(s->errmsg, sizeof s->errmsg, "%s", mm_error_last());
    }
    return n;
}

static la_ssize_t la_read(struct archive *a, void *ud, const void **buf)
{
    struct stream *s = ud;
    const uint8_t *p = NULL;
    ssize_t n = stream_next(s, &p);
    if (n < 0) {
        archive_set_error(a, EIO, "%s", s->errmsg);
        return -1;
    }
    *buf = p;
    return n;
}

static void stream_stop(struct stream *s)
{
    if (s->have_thr) {
        pthread_mutex_lock(&s->ring.mu);
        s->ring.cancel = true;
        pthread_cond_broadcast(&s->ring.cv);
        pthread_mutex_unlock(&s->ring.mu);
        pthread_join(s->thr, NULL);
        s->have_thr = false;
    }
    for (int i = 0; i < RING; i++)
        free(s->ring.buf[i]);
    if (s->threaded) {
        pthread_mutex_destroy(&s->ring.mu);
        pthread_cond_destroy(&s->ring.cv);
    }
}

/* --- entries ---------------------------------------------------------------- */
static int check_limits(mm_walker *w, int layer, const char *raw, uint64_t size)
{
    if (++w->entries > w->lim.max_entries)
        return mm_error_set(MM_ELIMIT,
                            "layer %d: more than %llu entries (--max-entries)",
                            layer, (unsigned long long)w->lim.max_entries);
    size_t plen = strlen(raw);
    if (plen > w->lim.max_path)
        return mm_error_set(MM_ELIMIT,
                            "layer %d: an entry name of %zu bytes exceeds %llu (--max-path): %.80s...",
                            layer, plen, (unsigned long long)w->lim.max_path, raw);
    if (size > w->lim.max_file_size)
        return mm_error_set(MM_ELIMIT,
                            "layer %d: %s is %llu bytes, over the file-size limit of %llu (--max-file-size)",
                            layer, raw, (unsigned long long)size,
                            (unsigned long long)w->lim.max_file_size);
    return 0;
}

/* Normalises a hostile name; reports escapes.  NULL for the root. */
static char *clean_name(mm_walker *w, int layer, const char *raw)
{
    bool escaped = false;
    char *p = mm_path_normalize(raw, &escaped);
    if (escaped) {
        mm_actx_warn(w->cx, "layer %d: entry \"%s\" climbs above the image root; read as \"/%s\"",
                     layer, raw, p ? p : "");
        w->rec_unsafe = true;
        mm_actx_intake_finding(w->cx, "MM-INTAKE-PATH-ESCAPE", MM_SEV_HIGH,
                               "Layer entry name climbs above the image root",
                               layer, p ? p : "", raw);
    } else if (raw[0] == '/' && p) {
        /* tar writers strip the leading "/"; one that did not is unusual
         * and, extracted naively, writes outside the target folder */
        mm_actx_warn(w->cx, "layer %d: entry \"%s\" has an absolute name; read as \"/%s\"",
                     layer, raw, p ? p : "");
        w->rec_unsafe = true;
        mm_actx_intake_finding(w->cx, "MM-INTAKE-ABSOLUTE-PATH", MM_SEV_LOW,
                               "Layer entry has an absolute name", layer,
                               p ? p : "", raw);
    }
    return p;
}

typedef int (*read_fn)(void *rd, const void **buf, size_t *len);

/* Adds one entry to the tree and feeds the analyzers that want it (and
 * writes it to the layer record when one is being written). */
static int feed(mm_walker *w, mm_entry *e, read_fn rd, void *rdud)
{
    int rc = mm_tree_add(w->tree, e->layer, e->path,
                         e->mode | (e->type == MM_ENT_DIR ? S_IFDIR
                                    : e->type == MM_ENT_SYMLINK ? S_IFLNK
                                    : e->type == MM_ENT_OTHER ? 0 : S_IFREG),
                         e->uid, e->gid, e->size, e->mtime, e->link,
                         e->type == MM_ENT_HARDLINK);
    if (rc < 0)
        return rc;
    if (w->rec)
        mm_lrec_entry(w->rec, e);
    int want = 0;
    if (e->type == MM_ENT_REG && strncmp(mm_path_base(e->path), ".wh.", 4) != 0)
        want = w->sink->begin(w->sink->ud, e);
    if (want < 0)
        return want;
    if (w->rec)
        mm_lrec_fed(w->rec, want != 0);
    if (want == 0)
        return 0;
    uint64_t off = 0;
    bool stopped = false;
    for (;;) {
        const void *buf = NULL;
        size_t len = 0;
        int r = rd(rdud, &buf, &len);
        if (r < 0)
            return r;
        if (r == 0 || len == 0)
            break;
        w->total += len;
        if (w->rec)
            mm_lrec_piece(w->rec, buf, len);
        rc = w->sink->data(w->sink->ud, e, off, buf, len);
        if (rc < 0)
            return rc;
        off += len;
        if (rc == 1) {
            stopped = true;
            break; /* nobody wants more */
        }
    }
    if (w->rec)
        mm_lrec_end_content(w->rec, stopped);
    return w->sink->end(w->sink->ud, e);
}

void mm_walker_record_begin(mm_walker *w, mm_buf *buf, size_t cap)
{
    mm_buf_free(buf);
    mm_buf_init(buf, cap);
    mm_lrec_start(buf);
    w->rec = buf;
    w->rec_unsafe = false;
}

int mm_walker_record_end(mm_walker *w, uint64_t blob_size, uint64_t uncompressed,
                         uint64_t entries)
{
    mm_buf *b = w->rec;
    w->rec = NULL;
    if (!b)
        return mm_error_set(MM_EINVAL, "layer record: none begun");
    if (w->rec_unsafe)
        return mm_error_set(MM_EUNSAFE, "layer record: the layer has names the walk reports");
    return mm_lrec_finish(b, blob_size, uncompressed, entries);
}

int mm_walker_replay(mm_walker *w, int layer, const uint8_t *rec, size_t len,
                     uint64_t *entries, uint64_t *blob_size, uint64_t *uncompressed,
                     bool *fed)
{
    mm_lrec c;
    *fed = false;
    int rc = mm_lrec_open(&c, rec, len);
    if (rc < 0)
        return rc;
    *fed = true;
    uint64_t start = w->entries;
    while ((rc = mm_lrec_next(&c)) == 1) {
        rc = check_limits(w, layer, c.e.path, c.e.size);
        if (rc < 0)
            break;
        c.e.layer = layer;
        rc = feed(w, &c.e, mm_lrec_read, &c);
        if (rc < 0)
            break;
    }
    if (rc == 0) {
        w->entries = start + c.entries;   /* as the walk counted them */
        *entries = c.entries;
        *blob_size = c.blob_size;
        *uncompressed = c.uncompressed;
        mm_tree_end_layer(w->tree, layer);
    }
    mm_lrec_close(&c);
    return rc;
}

struct la_rd {
    struct archive *a;
    int layer;
};

static int la_block(void *ud, const void **buf, size_t *len)
{
    struct la_rd *r = ud;
    la_int64_t off;
    int rc = archive_read_data_block(r->a, buf, len, &off);
    if (rc == ARCHIVE_EOF)
        return 0;
    if (rc < ARCHIVE_WARN)
        return mm_error_set(MM_EFORMAT, "layer %d: %s", r->layer,
                            archive_error_string(r->a));
    return 1;
}

int mm_walker_layer(mm_walker *w, int layer, mm_decoder *dec,
                    uint64_t *entries, char diff_id[72])
{
    struct stream s;
    memset(&s, 0, sizeof s);
    s.dec = dec;
    s.held = -1;
    s.diff = mm_sha256_new();
    s.threaded = w->threaded;
    if (s.threaded) {
        pthread_mutex_init(&s.ring.mu, NULL);
        pthread_cond_init(&s.ring.cv, NULL);
        if (pthread_create(&s.thr, NULL, decoder_main, &s) == 0)
            s.have_thr = true;
        else
            s.threaded = false;
    }

    struct archive *a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    int rc = 0;
    uint64_t start_entries = w->entries;
    if (archive_read_open(a, &s, NULL, la_read, NULL) != ARCHIVE_OK) {
        rc = s.err ? mm_error_set(s.err, "%s", s.errmsg)
                   : mm_error_set(MM_EFORMAT, "layer %d: not a tar stream: %s",
                                  layer, archive_error_string(a));
        goto out;
    }
    struct archive_entry *ae;
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            rc = s.err ? mm_error_set(s.err, "%s", s.errmsg)
                       : mm_error_set(MM_EFORMAT, "layer %d: bad tar stream after %llu entries: %s",
                                      layer,
                                      (unsigned long long)(w->entries - start_entries),
                                      archive_error_string(a));
            goto out;
        }
        const char *raw = archive_entry_pathname(ae);
        if (!raw)
            raw = "";
        uint64_t size = archive_entry_size_is_set(ae) && archive_entry_size(ae) > 0
                            ? (uint64_t)archive_entry_size(ae) : 0;
        rc = check_limits(w, layer, raw, size);
        if (rc < 0)
            goto out;
        char *path = clean_name(w, layer, raw);
        if (!path)
            continue; /* the root directory itself */
        mm_entry e = {0};
        e.path = path;
        e.layer = layer;
        e.mode = archive_entry_perm(ae) & 07777;
        e.uid = (uint32_t)archive_entry_uid(ae);
        e.gid = (uint32_t)archive_entry_gid(ae);
        e.size = size;
        e.mtime = archive_entry_mtime(ae);
        char *link = NULL;
        const char *hl = archive_entry_hardlink(ae);
        mode_t ft = archive_entry_filetype(ae);
        if (hl) {
            e.type = MM_ENT_HARDLINK;
            link = mm_path_normalize(hl, NULL);
            e.link = link;
        } else if (ft == AE_IFREG) {
            e.type = MM_ENT_REG;
        } else if (ft == AE_IFDIR) {
            e.type = MM_ENT_DIR;
        } else if (ft == AE_IFLNK) {
            e.type = MM_ENT_SYMLINK;
            e.link = archive_entry_symlink(ae);
            if (!e.link)
                e.link = "";
        } else {
            e.type = MM_ENT_OTHER;
        }
        struct la_rd rd = {a, layer};
        rc = feed(w, &e, la_block, &rd);
        free(link);
        free(path);
        if (rc < 0)
            goto out;
    }
    /* Drain what follows the end-of-archive marker: the digests cover the
     * whole stream, padding included. */
    while (!s.at_end) {
        const uint8_t *p;
        ssize_t n = stream_next(&s, &p);
        if (n < 0) {
            rc = (int)n;
            goto out;
        }
    }
out:
    if (rc < 0 && s.err && rc != s.err)
        rc = mm_error_set(s.err, "%s", s.errmsg);
    archive_read_free(a);
    stream_stop(&s);
    if (rc == 0) {
        mm_sha256_final(s.diff, diff_id);
        *entries = w->entries - start_entries;
        mm_tree_end_layer(w->tree, layer);
    }
    mm_sha256_free(s.diff);
    return rc;
}

/* --- a directory as one layer ------------------------------------------------ */
struct fd_rd {
    int fd;
    uint8_t *buf;
    const char *path;
};

static int fd_block(void *ud, const void **buf, size_t *len)
{
    struct fd_rd *r = ud;
    for (;;) {
        ssize_t n = read(r->fd, r->buf, SLOT_SIZE);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return mm_error_set(MM_EIO, "%s: %s", r->path, strerror(errno));
        *buf = r->buf;
        *len = (size_t)n;
        return n > 0;
    }
}

/* Kernel pseudo filesystems (/proc, /sys, /dev, ...) are not part of an OS
 * root filesystem's contents: scanning a live host's "/" skips them, as
 * trivy's rootfs and syft's dir sources do. */
static bool pseudo_fs(int fd)
{
    struct statfs sf;
    if (fstatfs(fd, &sf) < 0)
        return false;
    switch ((unsigned long)sf.f_type) {
    case 0x9fa0:      /* proc */
    case 0x62656572:  /* sysfs */
    case 0x1cd1:      /* devpts */
    case 0x27e0eb:    /* cgroup */
    case 0x63677270:  /* cgroup2 */
    case 0x64626720:  /* debugfs */
    case 0x74726163:  /* tracefs */
    case 0x73636673:  /* securityfs */
    case 0xcafe4a11:  /* bpf */
    case 0x19800202:  /* mqueue */
    case 0x958458f6:  /* hugetlbfs */
    case 0x6165676c:  /* pstore */
    case 0x62656570:  /* configfs */
    case 0x65735543:  /* fusectl */
    case 0x0187:      /* autofs */
    case 0x42494e4d:  /* binfmt_misc */
        return true;
    default:
        return false;
    }
}

static int walk_dir(mm_walker *w, int dfd, const char *rel, int depth,
                    uint8_t *iobuf)
{
    if (depth > 0 && pseudo_fs(dfd)) {
        close(dfd);
        return 0;
    }
    if (depth > 256)
        return mm_error_set(MM_ELIMIT, "%s: directories nested deeper than 256", rel);
    DIR *d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return mm_error_set(MM_EIO, "%s: %s", rel[0] ? rel : ".", strerror(errno));
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        char *path = rel[0] ? mm_xasprintf("%s/%s", rel, de->d_name)
                            : mm_xstrdup(de->d_name);
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
            mm_actx_warn(w->cx, "/%s: %s (skipped)", path, strerror(errno));
            free(path);
            continue;
        }
        rc = check_limits(w, 0, path, S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0);
        if (rc < 0) {
            free(path);
            break;
        }
        mm_entry e = {0};
        e.path = path;
        e.layer = 0;
        e.mode = st.st_mode & 07777;
        e.uid = st.st_uid;
        e.gid = st.st_gid;
        e.mtime = st.st_mtime;
        char linkbuf[4097];
        if (S_ISREG(st.st_mode)) {
            e.type = MM_ENT_REG;
            e.size = (uint64_t)st.st_size;
        } else if (S_ISDIR(st.st_mode)) {
            e.type = MM_ENT_DIR;
        } else if (S_ISLNK(st.st_mode)) {
            e.type = MM_ENT_SYMLINK;
            ssize_t n = readlinkat(dirfd(d), de->d_name, linkbuf, sizeof linkbuf - 1);
            linkbuf[n > 0 ? n : 0] = 0;
            e.link = linkbuf;
        } else {
            e.type = MM_ENT_OTHER;
        }
        if (e.type == MM_ENT_REG) {
            /* O_NOFOLLOW|O_NONBLOCK: never a link, never a blocking fifo */
            int fd = openat(dirfd(d), de->d_name,
                            O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                mm_actx_warn(w->cx, "/%s: %s (contents not read)", path, strerror(errno));
                rc = mm_tree_add(w->tree, 0, path, e.mode | S_IFREG, e.uid, e.gid,
                                 (uint64_t)st.st_size, e.mtime, NULL, false);
            } else {
                struct fd_rd rd = {fd, iobuf, path};
                rc = feed(w, &e, fd_block, &rd);
                close(fd);
            }
        } else {
            rc = feed(w, &e, NULL, NULL);
        }
        if (rc == 0 && e.type == MM_ENT_DIR) {
            int sub = openat(dirfd(d), de->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub < 0)
                mm_actx_warn(w->cx, "/%s: %s (not walked)", path, strerror(errno));
            else
                rc = walk_dir(w, sub, path, depth + 1, iobuf);
        }
        free(path);
        if (rc < 0)
            break;
    }
    closedir(d);
    return rc;
}

int mm_walker_dir(mm_walker *w, const char *dir, uint64_t *entries)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return mm_error_set(MM_EIO, "%s: %s", dir, strerror(errno));
    uint8_t *iobuf = mm_xmalloc(SLOT_SIZE);
    uint64_t start = w->entries;
    int rc = walk_dir(w, fd, "", 0, iobuf);
    free(iobuf);
    if (rc == 0) {
        *entries = w->entries - start;
        mm_tree_end_layer(w->tree, 0);
    }
    return rc;
}
