/*
 * map.c - an open-addressing hash map from strings to pointers (linear
 * probing, power-of-two capacity, backward-shift deletion).  The file tree
 * holds millions of paths in it, so entries are two words plus the hash.
 */
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct slot {
    char *key;
    void *val;
    uint64_t hash;
};

struct mm_map {
    struct slot *slots;
    size_t cap, count;
};

/* FNV-1a folded with a final mix: fast on short paths, good enough spread. */
uint64_t mm_hash(const void *d, size_t n)
{
    const unsigned char *p = d;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

mm_map *mm_map_new(void)
{
    mm_map *m = mm_xcalloc(1, sizeof *m);
    m->cap = 16;
    m->slots = mm_xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void mm_map_free(mm_map *m, void (*free_val)(void *))
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        if (m->slots[i].key) {
            free(m->slots[i].key);
            if (free_val)
                free_val(m->slots[i].val);
        }
    }
    free(m->slots);
    free(m);
}

static size_t find(const mm_map *m, const char *key, size_t klen, uint64_t h)
{
    size_t mask = m->cap - 1, i = h & mask;
    for (;;) {
        struct slot *s = &m->slots[i];
        if (!s->key)
            return i;
        if (s->hash == h && strncmp(s->key, key, klen) == 0 &&
            s->key[klen] == 0)
            return i;
        i = (i + 1) & mask;
    }
}

static void grow(mm_map *m)
{
    struct slot *old = m->slots;
    size_t oldcap = m->cap;
    m->cap *= 2;
    m->slots = mm_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < oldcap; i++) {
        if (!old[i].key)
            continue;
        size_t j = old[i].hash & (m->cap - 1);
        while (m->slots[j].key)
            j = (j + 1) & (m->cap - 1);
        m->slots[j] = old[i];
    }
    free(old);
}

void *mm_map_getn(const mm_map *m, const char *key, size_t klen)
{
    uint64_t h = mm_hash(key, klen);
    size_t i = find(m, key, klen, h);
    return m->slots[i].key ? m->slots[i].val : NULL;
}

void *mm_map_get(const mm_map *m, const char *key)
{
    return mm_map_getn(m, key, strlen(key));
}

void *mm_map_put(mm_map *m, const char *key, void *val)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        grow(m);
    size_t klen = strlen(key);
    uint64_t h = mm_hash(key, klen);
    size_t i = find(m, key, klen, h);
    struct slot *s = &m->slots[i];
    if (s->key) {
        void *prev = s->val;
        s->val = val;
        return prev;
    }
    s->key = mm_xstrndup(key, klen);
    s->val = val;
    s->hash = h;
    m->count++;
    return NULL;
}

void *mm_map_del(mm_map *m, const char *key)
{
    size_t klen = strlen(key);
    uint64_t h = mm_hash(key, klen);
    size_t i = find(m, key, klen, h), mask = m->cap - 1;
    if (!m->slots[i].key)
        return NULL;
    void *val = m->slots[i].val;
    free(m->slots[i].key);
    m->slots[i].key = NULL;
    m->count--;
    /* backward-shift the cluster so that probing stays correct */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!m->slots[j].key)
            break;
        size_t home = m->slots[j].hash & mask;
        bool between = (i <= j) ? (i < home && home <= j)
                                : (i < home || home <= j);
        if (between)
            continue;
        m->slots[i] = m->slots[j];
        m->slots[j].key = NULL;
        i = j;
    }
    return val;
}

size_t mm_map_count(const mm_map *m)
{
    return m->count;
}

bool mm_map_next(const mm_map *m, size_t *it, const char **key, void **val)
{
    while (*it < m->cap) {
        struct slot *s = &m->slots[(*it)++];
        if (s->key) {
            if (key)
                *key = s->key;
            if (val)
                *val = s->val;
            return true;
        }
    }
    return false;
}
