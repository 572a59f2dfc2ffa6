/*
 * image/tree.h - the merged file tree of an image: what a container started
 * from it sees, plus a record of what earlier layers held and later layers
 * deleted (secret and malware scanners must still see those files: they
 * ship in the image).
 *
 * Built by applying layers in order with OCI whiteouts (".wh.NAME" deletes
 * NAME and everything below it from lower layers, ".wh..wh..opq" empties a
 * directory of lower-layer content), hard links and symlinks.  Nothing is
 * extracted to disk; a node is metadata only.
 */
#ifndef MM_IMAGE_TREE_H
#define MM_IMAGE_TREE_H

#include <stdint.h>
#include <stdbool.h>

typedef struct mm_tree mm_tree;

typedef struct mm_node {
    const char *path;    /* "usr/bin/x" (no leading "/") */
    const char *link;    /* symlink target as written, or hard link target */
    uint64_t size;
    int64_t mtime;
    uint32_t mode;       /* S_IFMT type bits | permission bits */
    uint32_t uid, gid;
    int layer;           /* layer that wrote this version */
    bool hardlink;
} mm_node;

/* The visible node at path (normalised, no leading "/"), or NULL when the
 * path does not exist or was deleted.  Links are not followed. */
const mm_node *mm_tree_get(const mm_tree *t, const char *path);

/* Follows symlinks (at most 40, never out of the root: an absolute or
 * climbing target is resolved against the image root, as the kernel does
 * inside a container's mount namespace) and hard links; NULL when the
 * final target does not exist or a loop is found. */
const mm_node *mm_tree_resolve(const mm_tree *t, const char *path);

/* Visits every visible node, then (deleted == true) every version that a
 * later layer deleted or overwrote.  Stop early by returning non-zero,
 * which is passed back. */
typedef int (*mm_tree_visit_fn)(void *ud, const mm_node *n, bool deleted);
int mm_tree_foreach(const mm_tree *t, mm_tree_visit_fn fn, void *ud);

uint64_t mm_tree_count(const mm_tree *t);         /* visible nodes */
uint64_t mm_tree_deleted_count(const mm_tree *t); /* hidden versions */

/* --- building (used by the layer reader) ------------------------------- */
mm_tree *mm_tree_new(void);
void mm_tree_free(mm_tree *t);
/* Adds an entry of a layer; a whiteout name is applied, not stored.
 * Layers must be added in order.  Returns 0 or MM_E*. */
int mm_tree_add(mm_tree *t, int layer, const char *path, uint32_t mode,
                uint32_t uid, uint32_t gid, uint64_t size, int64_t mtime,
                const char *link, bool hardlink);
/* Ends a layer: whiteouts recorded in it take effect for later lookups. */
void mm_tree_end_layer(mm_tree *t, int layer);

#endif
