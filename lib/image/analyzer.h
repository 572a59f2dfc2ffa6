/*
 * image/analyzer.h - the contract between the layer reader and the engines
 * that look inside an image (package databases, language manifests,
 * secrets, malware, image configuration).  The analyzers live in their
 * own areas (lib/pkg, lib/secret, lib/malware, lib/config); the table of
 * them and the dispatch of entries is the scan pipeline's (lib/scan).
 *
 * The reader walks every entry of every layer once, in layer order.  For
 * each entry it asks every analyzer what it wants:
 *   MM_WANT_NONE    nothing;
 *   MM_WANT_WHOLE   the whole content in one buffer (up to limits.max_buffered,
 *                   beyond that the entry is skipped with a warning): package
 *                   databases, manifests;
 *   MM_WANT_STREAM  the content in chunks as it is decompressed (binaries,
 *                   every file for secret scanning), never buffered whole.
 * Analyzers see entries of every layer, including files a later layer
 * deletes; after the last layer, finish() runs with the merged tree so the
 * analyzer can keep only what the container really sees.
 *
 * Callbacks return 0 or a negative MM_E* with mm_error_set() called; an
 * error ends the scan (a corrupt package database is an error, not a
 * silent gap).  A chunk callback may return 1 to say "no more of this
 * file".  Analyzers run on one thread (the tar walker's); they need no
 * locks.
 */
#ifndef MM_IMAGE_ANALYZER_H
#define MM_IMAGE_ANALYZER_H

#include "mamori/result.h"
#include "image/tree.h"

typedef enum mm_entry_type {
    MM_ENT_REG = 0,
    MM_ENT_DIR,
    MM_ENT_SYMLINK,
    MM_ENT_HARDLINK,
    MM_ENT_OTHER, /* devices, fifos, sockets */
} mm_entry_type;

typedef struct mm_entry {
    const char *path;    /* normalised, relative to the root: "usr/bin/x" */
    mm_entry_type type;
    uint32_t mode;       /* permission bits incl. setuid/setgid/sticky */
    uint32_t uid, gid;
    uint64_t size;
    int64_t mtime;
    const char *link;    /* symlink target as written / hard link target
                          * (normalised), else NULL */
    int layer;           /* 0-based layer index */
} mm_entry;

typedef enum mm_want {
    MM_WANT_NONE = 0,
    MM_WANT_WHOLE,
    MM_WANT_STREAM,
} mm_want;

/* What analyzers may do with the scan while it runs. */
typedef struct mm_actx mm_actx;

/* A warning for the result (e.g. an apk record without a version). */
void mm_actx_warn(mm_actx *cx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The merged file tree (complete only in finish()). */
const mm_tree *mm_actx_tree(const mm_actx *cx);
/* The inventory and findings of the result. */
mm_inventory *mm_actx_inventory(mm_actx *cx);
mm_findings *mm_actx_findings(mm_actx *cx);
/* The OS, filled by the OS analyzer's finish() (which runs first). */
mm_os_info *mm_actx_os(mm_actx *cx);
/* diff_id and Dockerfile instruction of a layer, NULL when unknown. */
const char *mm_actx_layer_digest(const mm_actx *cx, int layer);
const char *mm_actx_layer_instruction(const mm_actx *cx, int layer);
/* The private temp folder of this scan (for libraries that insist on a
 * directory); removed when the scan ends. */
const char *mm_actx_tmpdir(const mm_actx *cx);
/* The image metadata of the result: config_json (labels, history,
 * healthcheck, exposed ports), repo_tags, user, env.  config_json is NULL
 * for a root filesystem. */
const mm_image_info *mm_actx_image(const mm_actx *cx);
/* An intake finding (kind MM_FIND_INTAKE, section 3.1.5): the image itself
 * holds something a standard build tool never writes (unsafe names). */
void mm_actx_intake_finding(mm_actx *cx, const char *id, mm_severity sev,
                            const char *title, int layer, const char *path,
                            const char *evidence);

/* The context of one scan, made by the pipeline: r receives what the
 * analyzers find; tree (complete at finish()) and tmpdir are borrowed and
 * must outlive the context. */
int mm_actx_new(mm_actx **out, mm_result *r, const mm_tree *tree,
                const char *tmpdir);
void mm_actx_free(mm_actx *cx);

typedef struct mm_analyzer_ops {
    const char *name;
    /* Creates the state; config is what the pipeline's table passes to this
     * analyzer (its options, compiled rules), or NULL.  0 or MM_E*. */
    int (*create)(void **state, mm_actx *cx, const void *config);
    mm_want (*wants)(void *state, const mm_entry *e);
    /* MM_WANT_WHOLE content; data is NUL-terminated (data[len] == 0). */
    int (*file)(void *state, mm_actx *cx, const mm_entry *e,
                const uint8_t *data, size_t len);
    /* MM_WANT_STREAM content; off is the offset of d in the file. */
    int (*chunk)(void *state, mm_actx *cx, const mm_entry *e, uint64_t off,
                 const uint8_t *d, size_t n);
    /* End of a streamed file (also after chunk returned 1). */
    int (*end)(void *state, mm_actx *cx, const mm_entry *e);
    /* After the last layer, with the merged tree. */
    int (*finish)(void *state, mm_actx *cx);
    void (*destroy)(void *state);
} mm_analyzer_ops;

#endif
