/*
 * image/intake.h - what the image area offers the rest of the library (not
 * the front-ends): blobs (byte streams hashed as they pass), the decoder
 * (gzip through ISA-L, zstd, or none, picked by magic bytes), image
 * sources (docker-archive, OCI layout; a registry source plugs in through
 * the same mm_source interface from lib/registry), manifests and configs,
 * and the walker that reads each layer once and hands every entry to the
 * merged tree and to an entry sink (the scan pipeline's analyzers).
 */
#ifndef MM_IMAGE_INTAKE_H
#define MM_IMAGE_INTAKE_H

#include <sys/types.h>

#include "mamori/image.h"
#include "mamori/result.h"
#include "image/analyzer.h"
#include "image/tree.h"

/* What opening an image needs: the platform to pick from an index
 * ("os/arch[/variant]", NULL = linux/amd64) and the caps (filled: no
 * zeros; mm_limits_fill()). */
typedef struct mm_intake_opts {
    const char *platform;
    mm_limits limits;
} mm_intake_opts;

/* --- blobs -------------------------------------------------------------- */
/* A blob is a byte stream (a window of a file, later an HTTP body) that is
 * hashed as it is read; at its end the digest is compared with the one
 * expected (if any).  read() returns bytes read, 0 at the end after a
 * successful check, or a negative MM_E* (MM_EDIGEST on mismatch). */
typedef struct mm_blob mm_blob;
struct mm_blob_ops {
    ssize_t (*read)(void *impl, void *buf, size_t n); /* <0: MM_E* */
    void (*close)(void *impl);
};
int mm_blob_new(mm_blob **out, const struct mm_blob_ops *ops, void *impl,
                const char *name, const char *expect_digest, uint64_t size);
/* A window [off, off+size) of an open file; fd is not closed. */
int mm_blob_open_window(mm_blob **out, int fd, uint64_t off, uint64_t size,
                        const char *name, const char *expect_digest);
/* The whole of an open file, whose fd the blob then owns and closes. */
int mm_blob_open_fd(mm_blob **out, int fd, uint64_t size, const char *name,
                    const char *expect_digest);
ssize_t mm_blob_read(mm_blob *b, void *buf, size_t n);
const char *mm_blob_name(const mm_blob *b);
const char *mm_blob_digest(const mm_blob *b); /* valid at the end */
uint64_t mm_blob_bytes(const mm_blob *b);
void mm_blob_free(mm_blob *b);
/* Reads a whole (small) blob, capped at max bytes. */
int mm_blob_read_all(mm_blob *b, uint64_t max, char **data, size_t *len);

/* --- decoding ----------------------------------------------------------- */
typedef enum mm_codec { MM_CODEC_NONE, MM_CODEC_GZIP, MM_CODEC_ZSTD } mm_codec;
typedef struct mm_decoder mm_decoder;
/* Takes ownership of blob.  max_out caps the decompressed total. */
int mm_decoder_new(mm_decoder **out, mm_blob *blob, uint64_t max_out);
/* Next piece of decompressed data in *buf (valid until the next call);
 * returns its length, 0 at the end (blob fully read and verified), or a
 * negative MM_E*. */
ssize_t mm_decoder_next(mm_decoder *d, const uint8_t **buf);
/* The same into a buffer of the caller's (the decoder thread's ring). */
ssize_t mm_decoder_read(mm_decoder *d, uint8_t *out, size_t cap);
mm_codec mm_decoder_codec(const mm_decoder *d);
uint64_t mm_decoder_total_out(const mm_decoder *d);
uint64_t mm_decoder_total_in(const mm_decoder *d); /* blob bytes read */
/* The sha256 of the whole blob, once the decoder reached its end. */
const char *mm_decoder_blob_digest(const mm_decoder *d);
/* After a decoding or tar error: reads the rest of the blob (bounded by
 * its declared size) and compares its digest.  0 when it matches (the
 * error stands), MM_EDIGEST when not (*got is the content's digest),
 * another MM_E* when it cannot tell (no digest or size, a read error). */
int mm_decoder_verify_rest(mm_decoder *d, char got[72]);
void mm_decoder_free(mm_decoder *d);

/* --- sources -------------------------------------------------------------- */
typedef struct mm_layer_desc {
    char *digest;      /* expected blob digest, or NULL (docker-archive v1) */
    char *diff_id;     /* expected uncompressed digest, from the config */
    char *media_type;
    char *member;      /* file / tar member name, for messages */
    uint64_t size;
    char *created_by;
} mm_layer_desc;

typedef struct mm_source mm_source;
struct mm_source {
    const char *format;        /* "docker-archive", "oci-layout", ... */
    char *name;                /* as given by the user */
    char *manifest_digest;
    char *index_digest;        /* registry: the index the manifest came from */
    char *reference;           /* registry: the normalised reference */
    char *config_digest;
    char *config_json;
    size_t config_len;
    char **repo_tags;
    size_t nrepo_tags;
    mm_layer_desc *layers;
    size_t nlayers;
    /* Opens layer i as a blob that checks its digest. */
    int (*open_layer)(mm_source *s, size_t i, mm_blob **out);
    void (*destroy)(mm_source *s);
    /* Optional: findings about how the image was obtained (registry
     * transport, §3.2.1), added once the layers were read. */
    int (*add_findings)(mm_source *s, mm_findings *f, const char *image);
    void *impl;
};

/* Detects and opens an image: docker-archive tar, OCI layout dir or tar
 * (optionally "PATH:REF" to pick a reference in an OCI layout). */
int mm_source_open_image(mm_source **out, const char *input,
                         const mm_intake_opts *opts, const char *tmpdir);
void mm_source_free(mm_source *s);

/* Manifests and indexes as the registry source reads them (the OCI
 * layout reader uses the same code).  Index and list media types: */
bool mm_media_type_is_index(const char *mt);
/* Reads a manifest document as a registry served it (untrusted; media_type
 * from Content-Type, may be NULL): *is_index says whether it is an OCI
 * index or Docker manifest list (by type or by shape); for an index,
 * digest receives the entry for platform ("os/arch[/variant]", NULL =
 * linux/amd64): the first whose os/architecture (and variant when asked)
 * match, or a lone entry stating no platform.  Every reader of registry
 * indexes (the registry source, registry scans, the gate) uses this one
 * choice, so that they agree on the store key.  0, MM_EFORMAT or
 * MM_ENOTFOUND (no entry for the platform); name is for messages. */
int mm_manifest_platform(const char *name, const char *data, size_t len,
                         const char *media_type, const char *platform, bool *is_index,
                         char digest[72]);
/* Fills s->layers (digest, media type, size, member) and s->config_digest
 * from an OCI or Docker v2 image manifest; capped by opts->limits. */
int mm_manifest_parse(mm_source *s, const char *data, size_t len,
                      const char *digest, const mm_intake_opts *opts);

/* Fills the parts of info that come from the config JSON; fills the
 * created_by of each layer from the history.  Exposed for fuzzing. */
int mm_config_parse(mm_source *s, const mm_intake_opts *opts);

/* --- walking entries ------------------------------------------------------ */
/* Where the walker sends each regular file's content.  begin() says
 * whether anybody wants it (> 0), data() receives it in pieces (return 1
 * when nobody wants more of this file), end() closes the file.  Callbacks
 * return a negative MM_E* to stop the scan. */
typedef struct mm_entry_sink {
    int (*begin)(void *ud, const mm_entry *e);
    int (*data)(void *ud, const mm_entry *e, uint64_t off, const uint8_t *d,
                size_t n);
    int (*end)(void *ud, const mm_entry *e);
    void *ud;
} mm_entry_sink;

typedef struct mm_walker mm_walker;
struct mm_buf;
/* cx receives warnings and intake findings (unsafe names); threads as
 * mm_scan_opts.threads (0 = a decoder thread when there is a second
 * core).  The sink and cx must outlive the walker. */
int mm_walker_new(mm_walker **out, mm_actx *cx, mm_tree *tree,
                  const mm_entry_sink *sink, const mm_limits *limits,
                  int threads);
void mm_walker_free(mm_walker *w);
/* Reads one layer tar stream from a decoder (the caller frees it). */
int mm_walker_layer(mm_walker *w, int layer, mm_decoder *dec,
                    uint64_t *entries, char diff_id[72]);
/* Walks a directory as layer 0 (root filesystem scans). */
int mm_walker_dir(mm_walker *w, const char *dir, uint64_t *entries);
uint64_t mm_walker_total_entries(const mm_walker *w);
/* The layer record (layerrec.c, issue 19): between record_begin and
 * record_end the walker writes what it hands the tree and the analyzers
 * into buf (at most cap bytes).  record_end gives 0 when buf holds a whole
 * record (with the layer's blob and uncompressed sizes), MM_ELIMIT past the
 * cap, MM_EUNSAFE when the layer had a name the walker reports (those are
 * findings of a walk: such a layer is always walked). */
void mm_walker_record_begin(mm_walker *w, struct mm_buf *buf, size_t cap);
int mm_walker_record_end(mm_walker *w, uint64_t blob_size, uint64_t uncompressed,
                         uint64_t entries);
/* Feeds a record to the tree and the analyzers as layer `layer`, in place
 * of mm_walker_layer.  The record is checked whole first (MM_EFORMAT, and
 * nothing is fed: *fed false); an error after that (the analyzers want
 * what was not recorded; *fed true) leaves the scan unusable. */
int mm_walker_replay(mm_walker *w, int layer, const uint8_t *rec, size_t len,
                     uint64_t *entries, uint64_t *blob_size, uint64_t *uncompressed,
                     bool *fed);

#endif
