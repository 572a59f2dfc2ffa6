/*
 * yaml_pos.c - the position map of the one YAML loader (yaml.c): the line
 * and column of every mapping key and sequence item by parent and key or
 * index, and (pos_values) of every value by the value itself, in one open
 * addressing table keyed by pointer; the first repeated key of a mapping
 * under "first key wins"; and mm_yaml_errf(), the "NAME:LINE:COL: message"
 * of the loaders' own checks.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/util.h"
#include "util/yaml_int.h"

struct pslot {
    const void *parent;
    uint64_t key;   /* hash of the key for objects; index | 1<<63 for arrays */
    int32_t line, col;
    bool plain;     /* the value is a plain, untagged scalar */
    uint32_t aux;   /* MM_YAML_DUP_KEY slots: the index of the key's name */
};

struct mm_yaml_posmap {
    struct pslot *slots;
    size_t cap, count;
    char **dups;        /* names of repeated keys (dup_first_wins), by slot */
    size_t ndups;
};

mm_yaml_posmap *mm_yaml_posmap_new(void)
{
    mm_yaml_posmap *pm = mm_xcalloc(1, sizeof *pm);
    pm->cap = 256;
    pm->slots = mm_xcalloc(pm->cap, sizeof *pm->slots);
    return pm;
}

void mm_yaml_posmap_free(mm_yaml_posmap *pm)
{
    if (!pm)
        return;
    free(pm->slots);
    mm_strv_free(pm->dups, pm->ndups);
    free(pm);
}

uint64_t mm_yaml_pkey(const char *key, size_t idx)
{
    if (key)
        return mm_hash(key, strlen(key)) & ~(1ull << 63);
    return (uint64_t)idx | (1ull << 63);
}

static size_t pslot_of(const void *parent, uint64_t key, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)parent * 0x9e3779b97f4a7c15ull ^ key;
    h ^= h >> 29;
    return (size_t)h & (cap - 1);
}

static struct pslot *put(mm_yaml_posmap *pm, const void *parent, uint64_t key, int line,
                         int col, bool plain)
{
    if ((pm->count + 1) * 4 > pm->cap * 3) {
        struct pslot *old = pm->slots;
        size_t oc = pm->cap;
        pm->cap *= 2;
        pm->slots = mm_xcalloc(pm->cap, sizeof *pm->slots);
        for (size_t i = 0; i < oc; i++) {
            if (!old[i].parent)
                continue;
            size_t j = pslot_of(old[i].parent, old[i].key, pm->cap);
            while (pm->slots[j].parent)
                j = (j + 1) & (pm->cap - 1);
            pm->slots[j] = old[i];
        }
        free(old);
    }
    size_t j = pslot_of(parent, key, pm->cap);
    while (pm->slots[j].parent) {
        if (pm->slots[j].parent == parent && pm->slots[j].key == key) {
            pm->slots[j].line = line;
            pm->slots[j].col = col;
            pm->slots[j].plain = plain;
            return &pm->slots[j];
        }
        j = (j + 1) & (pm->cap - 1);
    }
    pm->slots[j] = (struct pslot){parent, key, line, col, plain, 0};
    pm->count++;
    return &pm->slots[j];
}

void mm_yaml_pos_put(mm_yaml_posmap *pm, const void *parent, uint64_t key, int line, int col,
                     bool plain)
{
    put(pm, parent, key, line, col, plain);
}

static const struct pslot *pos_find(const mm_yaml_posmap *pm, const struct json_t *parent,
                                    const char *key, size_t idx)
{
    if (!pm)
        return NULL;
    if (!parent) {          /* the root: kept under the posmap itself */
        parent = (const struct json_t *)(const void *)pm;
        key = NULL;
        idx = 0;
    }
    uint64_t k = mm_yaml_pkey(key, idx);
    size_t j = pslot_of(parent, k, pm->cap);
    while (pm->slots[j].parent) {
        if (pm->slots[j].parent == parent && pm->slots[j].key == k)
            return &pm->slots[j];
        j = (j + 1) & (pm->cap - 1);
    }
    return NULL;
}

bool mm_yaml_pos_get(const mm_yaml_posmap *pm, const struct json_t *parent, const char *key,
                     size_t idx, int *line, int *col)
{
    const struct pslot *sl = pos_find(pm, parent, key, idx);
    if (!sl)
        return false;
    if (line)
        *line = sl->line;
    if (col)
        *col = sl->col;
    return true;
}

bool mm_yaml_pos_plain(const mm_yaml_posmap *pm, const struct json_t *parent, const char *key,
                       size_t idx)
{
    const struct pslot *sl = pos_find(pm, parent, key, idx);
    return sl && sl->plain;
}

static const struct pslot *value_find(const mm_yaml_posmap *pm, const struct json_t *v,
                                      uint64_t key)
{
    if (!pm || !v)
        return NULL;
    size_t j = pslot_of(v, key, pm->cap);
    while (pm->slots[j].parent) {
        if (pm->slots[j].parent == v && pm->slots[j].key == key)
            return &pm->slots[j];
        j = (j + 1) & (pm->cap - 1);
    }
    return NULL;
}

bool mm_yaml_dup_of(const mm_yaml_posmap *pm, const struct json_t *map, const char **key,
                    int *line, int *col)
{
    if (!pm || !pm->ndups)
        return false;   /* no repeated key noted */
    const struct pslot *sl = value_find(pm, map, MM_YAML_DUP_KEY);
    if (!sl || !sl->line)   /* line 0: a mapping since freed had one */
        return false;
    size_t i = sl->aux;
    if (key)
        *key = i < pm->ndups ? pm->dups[i] : "";
    if (line)
        *line = sl->line;
    if (col)
        *col = sl->col;
    return true;
}

bool mm_yaml_pos_of(const mm_yaml_posmap *pm, const struct json_t *v, int *line, int *col)
{
    const struct pslot *sl = value_find(pm, v, MM_YAML_VALUE_KEY);
    if (!sl)
        return false;
    if (line)
        *line = sl->line;
    if (col)
        *col = sl->col;
    return true;
}

bool mm_yaml_plain_of(const mm_yaml_posmap *pm, const struct json_t *v)
{
    const struct pslot *sl = value_find(pm, v, MM_YAML_VALUE_KEY);
    return sl && sl->plain;
}

int mm_yaml_errf(const mm_yaml_posmap *pm, const char *name, const struct json_t *parent,
                 const char *key, size_t idx, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int line, col;
    int rc;
    if (mm_yaml_pos_get(pm, parent, key, idx, &line, &col))
        rc = mm_error_set(code, "%s:%d:%d: %s", name ? name : "-", line, col, msg);
    else
        rc = mm_error_set(code, "%s: %s", name ? name : "-", msg);
    free(msg);
    return rc;
}

void mm_yaml_pos_note_dup(mm_yaml_posmap *pm, const void *map, const char *key, int line,
                          int col)
{
    const struct pslot *old = value_find(pm, map, MM_YAML_DUP_KEY);
    if (old && old->line)
        return;
    struct pslot *sl = put(pm, map, MM_YAML_DUP_KEY, line, col, false);
    sl->aux = (uint32_t)pm->ndups;
    mm_strv_push(&pm->dups, &pm->ndups, key);
}

void mm_yaml_pos_dup_reset(mm_yaml_posmap *pm, const void *map)
{
    if (!pm->ndups)
        return;   /* nothing noted yet */
    struct pslot *sl = (struct pslot *)value_find(pm, map, MM_YAML_DUP_KEY);
    if (sl)
        sl->line = 0;
}
