/*
 * tree.c - the merged file tree (see tree.h).
 *
 * Every version of every path is kept as a node (metadata only: no file
 * contents), in chunks so that pointers stay stable.  An index maps a path
 * to its newest version.  Deletions are not applied eagerly, because a
 * whiteout of a directory would need a scan of everything below it;
 * instead two small maps record, per path, the highest layer that deleted
 * it (".wh.NAME": the path and all below) or emptied it (".wh..wh..opq",
 * or a non-directory written over a directory: all below).  A node is
 * visible when no such record of a later layer covers it or an ancestor.
 *
 * Memory: about 100 bytes per entry plus the path, whatever the contents.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "image/tree.h"
#include "util/util.h"

#define CHUNK_NODES 4096
#define ARENA_BLOCK (256 * 1024)

enum { TN_SUPERSEDED = 1 };

typedef struct tnode {
    mm_node pub;
    uint8_t flags;
} tnode;

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
};

struct mm_tree {
    tnode **chunks;
    size_t nchunks, nnodes;
    /* index: open addressing, path -> newest tnode */
    tnode **slots;
    uint64_t *hashes;
    size_t cap, count;
    mm_map *wh;  /* path -> (layer + 1): path and below deleted */
    mm_map *opq; /* path -> (layer + 1): everything below deleted */
    struct arena_block *arena;
    uint64_t visible, hidden;
    bool counted;
};

static char *arena_dup(mm_tree *t, const char *s)
{
    size_t n = strlen(s) + 1;
    struct arena_block *b = t->arena;
    if (!b || b->used + n > b->cap) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = mm_xmalloc(sizeof *b + cap);
        b->next = t->arena;
        b->used = 0;
        b->cap = cap;
        t->arena = b;
    }
    char *d = b->data + b->used;
    memcpy(d, s, n);
    b->used += n;
    return d;
}

mm_tree *mm_tree_new(void)
{
    mm_tree *t = mm_xcalloc(1, sizeof *t);
    t->cap = 1024;
    t->slots = mm_xcalloc(t->cap, sizeof *t->slots);
    t->hashes = mm_xcalloc(t->cap, sizeof *t->hashes);
    t->wh = mm_map_new();
    t->opq = mm_map_new();
    return t;
}

void mm_tree_free(mm_tree *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->slots);
    free(t->hashes);
    mm_map_free(t->wh, NULL);
    mm_map_free(t->opq, NULL);
    while (t->arena) {
        struct arena_block *n = t->arena->next;
        free(t->arena);
        t->arena = n;
    }
    free(t);
}

static size_t slot_find(const mm_tree *t, const char *path, size_t len,
                        uint64_t h)
{
    size_t mask = t->cap - 1, i = h & mask;
    while (t->slots[i]) {
        if (t->hashes[i] == h &&
            strncmp(t->slots[i]->pub.path, path, len) == 0 &&
            t->slots[i]->pub.path[len] == 0)
            return i;
        i = (i + 1) & mask;
    }
    return i;
}

static void index_grow(mm_tree *t)
{
    size_t oldcap = t->cap;
    tnode **os = t->slots;
    uint64_t *oh = t->hashes;
    t->cap *= 2;
    t->slots = mm_xcalloc(t->cap, sizeof *t->slots);
    t->hashes = mm_xcalloc(t->cap, sizeof *t->hashes);
    for (size_t i = 0; i < oldcap; i++) {
        if (!os[i])
            continue;
        size_t j = oh[i] & (t->cap - 1);
        while (t->slots[j])
            j = (j + 1) & (t->cap - 1);
        t->slots[j] = os[i];
        t->hashes[j] = oh[i];
    }
    free(os);
    free(oh);
}

static tnode *node_alloc(mm_tree *t)
{
    if (t->nnodes % CHUNK_NODES == 0) {
        t->chunks = mm_xrealloc(t->chunks, (t->nchunks + 1) * sizeof *t->chunks);
        t->chunks[t->nchunks++] = mm_xcalloc(CHUNK_NODES, sizeof(tnode));
    }
    tnode *n = &t->chunks[t->nnodes / CHUNK_NODES][t->nnodes % CHUNK_NODES];
    t->nnodes++;
    return n;
}

static tnode *index_get(const mm_tree *t, const char *path, size_t len)
{
    uint64_t h = mm_hash(path, len);
    return t->slots[slot_find(t, path, len, h)];
}

static void mark(mm_map *m, const char *path, int layer)
{
    intptr_t prev = (intptr_t)mm_map_get(m, path);
    if (prev < layer + 1)
        mm_map_put(m, path, (void *)(intptr_t)(layer + 1));
}

/* The highest layer that deleted `path` (wh) or its contents (opq), as
 * layer + 1, 0 for none. */
static int deleted_by(const mm_map *m, const char *path, size_t len)
{
    return (int)(intptr_t)mm_map_getn(m, path, len);
}

static bool visible(const mm_tree *t, const tnode *n)
{
    if (n->flags & TN_SUPERSEDED)
        return false;
    if (mm_map_count(t->wh) == 0 && mm_map_count(t->opq) == 0)
        return true;
    const char *p = n->pub.path;
    size_t len = strlen(p);
    int layer = n->pub.layer;
    int self = deleted_by(t->wh, p, len);
    if (self && self - 1 > layer)
        return false;
    /* every ancestor */
    for (size_t i = 0; i < len; i++) {
        if (p[i] != '/')
            continue;
        int w = deleted_by(t->wh, p, i), o = deleted_by(t->opq, p, i);
        if ((w && w - 1 > layer) || (o && o - 1 > layer))
            return false;
    }
    return true;
}

int mm_tree_add(mm_tree *t, int layer, const char *path, uint32_t mode,
                uint32_t uid, uint32_t gid, uint64_t size, int64_t mtime,
                const char *link, bool hardlink)
{
    const char *base = mm_path_base(path);
    size_t dlen = mm_path_dirlen(path);
    t->counted = false;
    if (strncmp(base, ".wh.", 4) == 0) {
        char *dir = mm_xstrndup(path, dlen);
        if (strcmp(base, ".wh..wh..opq") == 0) {
            mark(t->opq, dir, layer);
        } else if (base[4]) {
            char *victim = dlen ? mm_xasprintf("%s/%s", dir, base + 4)
                                : mm_xstrdup(base + 4);
            mark(t->wh, victim, layer);
            free(victim);
        }
        free(dir);
        return 0;
    }

    if ((t->count + 1) * 4 > t->cap * 3)
        index_grow(t);
    size_t len = strlen(path);
    uint64_t h = mm_hash(path, len);
    size_t i = slot_find(t, path, len, h);
    tnode *old = t->slots[i];
    tnode *n = node_alloc(t);
    if (old) {
        old->flags |= TN_SUPERSEDED;
        n->pub.path = old->pub.path;
    } else {
        n->pub.path = arena_dup(t, path);
        t->count++;
    }
    t->slots[i] = n;
    t->hashes[i] = h;
    n->pub.link = link ? arena_dup(t, link) : NULL;
    n->pub.size = size;
    n->pub.mtime = mtime;
    n->pub.mode = mode;
    n->pub.uid = uid;
    n->pub.gid = gid;
    n->pub.layer = layer;
    n->pub.hardlink = hardlink;
    /* A non-directory written over a directory hides what was below it. */
    if (!S_ISDIR(mode) && old && S_ISDIR(old->pub.mode) && old->pub.layer < layer)
        mark(t->opq, path, layer);
    return 0;
}

void mm_tree_end_layer(mm_tree *t, int layer)
{
    (void)layer;
    t->counted = false;
}

const mm_node *mm_tree_get(const mm_tree *t, const char *path)
{
    while (*path == '/')
        path++;
    tnode *n = index_get(t, path, strlen(path));
    if (!n || !visible(t, n))
        return NULL;
    return &n->pub;
}

const mm_node *mm_tree_resolve(const mm_tree *t, const char *path)
{
    char *cur = mm_path_normalize(path, NULL);
    const mm_node *res = NULL;
    int hops = 0;
    if (!cur)
        return NULL;
    /* Walk component by component so that links in directories count. */
    size_t pos = 0;
    for (;;) {
        size_t len = strlen(cur);
        const char *slash = strchr(cur + pos, '/');
        size_t end = slash ? (size_t)(slash - cur) : len;
        char save = cur[end];
        cur[end] = 0;
        tnode *n = index_get(t, cur, end);
        const mm_node *node = (n && visible(t, n)) ? &n->pub : NULL;
        cur[end] = save;
        if (!node && end < len) {
            /* tars need not list parent directories: an implied one */
            pos = end + 1;
            continue;
        }
        if (!node)
            break;
        if (S_ISLNK(node->mode) && node->link && !node->hardlink) {
            if (++hops > 40)
                break;
            /* target relative to the link's directory, clamped at root */
            char *dir = mm_xstrndup(cur, mm_path_dirlen(node->path));
            char *tgt = mm_path_join_norm(dir, node->link, NULL);
            free(dir);
            char *next;
            if (end < len)
                next = mm_xasprintf("%s/%s", tgt ? tgt : "", cur + end + 1);
            else
                next = mm_xstrdup(tgt ? tgt : "");
            free(tgt);
            free(cur);
            cur = mm_path_normalize(next, NULL);
            free(next);
            if (!cur)
                break; /* resolved to the root: not a file */
            pos = 0;
            continue;
        }
        if (node->hardlink && node->link) {
            if (++hops > 40)
                break;
            if (end < len)
                break; /* a hard link is never a directory */
            free(cur);
            cur = mm_xstrdup(node->link);
            pos = 0;
            continue;
        }
        if (end == len) {
            res = node;
            break;
        }
        pos = end + 1;
    }
    free(cur);
    return res;
}

int mm_tree_foreach(const mm_tree *t, mm_tree_visit_fn fn, void *ud)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < t->nnodes; i++) {
            const tnode *n = &t->chunks[i / CHUNK_NODES][i % CHUNK_NODES];
            bool vis = visible(t, n);
            if (vis != (pass == 0))
                continue;
            int rc = fn(ud, &n->pub, pass == 1);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static void count(const mm_tree *ct)
{
    mm_tree *t = (mm_tree *)ct;
    if (t->counted)
        return;
    t->visible = t->hidden = 0;
    for (size_t i = 0; i < t->nnodes; i++) {
        const tnode *n = &t->chunks[i / CHUNK_NODES][i % CHUNK_NODES];
        if (visible(t, n))
            t->visible++;
        else
            t->hidden++;
    }
    t->counted = true;
}

uint64_t mm_tree_count(const mm_tree *t)
{
    count(t);
    return t->visible;
}

uint64_t mm_tree_deleted_count(const mm_tree *t)
{
    count(t);
    return t->hidden;
}
