/*
 * table.c - the hash table every per-packet lookup of lib/net goes through
 * (flows, sockets, owners, scan state), the address -> name table and the
 * set of names it and the flows' SNI/Host share.
 *
 * Keys are fixed-size byte strings stored inline; values are uint32 (an
 * index into the caller's slab), so the table never holds pointers that a
 * slab's realloc would invalidate.  Open addressing with linear probing and
 * backward-shift deletion (no tombstones, so a long capture with millions of
 * expired flows does not slow lookups down).  The stored 32-bit hash is
 * checked before the key, and 0 marks an empty slot.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "net/net_int.h"

static void big_free(void *p, size_t bytes, bool mapped);

/* nt_hash: net_int.h (inline: key sizes are constants, so the loop unrolls) */

uint64_t nt_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull ^ (uint64_t)ts.tv_sec ^
            (uint64_t)(uintptr_t)&s;
    }
    return s;
}

static void tab_init(nt_tab *t, size_t ksz, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->ksz = ksz;
    t->ssz = 8 + ((ksz + 7) & ~(size_t)7);
    t->seed = seed;
}

void nt_tab_init(nt_tab *t, size_t ksz)
{
    tab_init(t, ksz, nt_seed());
}

void nt_tab_free(nt_tab *t)
{
    big_free(t->slots, t->cap * t->ssz, t->mapped);
    tab_init(t, t->ksz, t->seed);
}

#define SLOT(t, j) ((t)->slots + (j) * (t)->ssz)
#define SHASH(p) (*(uint32_t *)(void *)(p))
#define SVAL(p) ((uint32_t *)(void *)((p) + 4))
#define SKEY(p) ((p) + 8)

void nt_tab_clear(nt_tab *t)
{
    for (size_t j = 0; j < t->cap; j++)
        SHASH(SLOT(t, j)) = 0;
    t->count = 0;
}

/* Tables of millions of slots are probed at random: 2 MiB pages (where the
 * kernel has transparent huge pages for madvise) take the TLB misses and
 * most page faults away.  They are mapped, not allocated and cleared: the
 * kernel's pages are already zero, so a table that doubles is not written
 * twice (a memset of every new table was 34 M instructions of the bench
 * run, and faulted every page in at once). */
#define HUGE_MIN (4u << 20)
#define HUGE_ALIGN ((size_t)2 << 20)

static void *big_zalloc(size_t bytes, bool *mapped)
{
    *mapped = false;
    if (bytes < HUGE_MIN)
        return mm_xcalloc(1, bytes);
    size_t sz = (bytes + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1);
    uint8_t *m = mmap(NULL, sz + HUGE_ALIGN, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return mm_xcalloc(1, bytes);   /* freed by free(); aborts when out of memory */
    *mapped = true;
    /* a 2 MiB-aligned start inside the mapping; the rest is returned */
    size_t lead = (size_t)(-(uintptr_t)m & (HUGE_ALIGN - 1));
    if (lead)
        munmap(m, lead);
    if (HUGE_ALIGN - lead)
        munmap(m + lead + sz, HUGE_ALIGN - lead);
    madvise(m + lead, sz, MADV_HUGEPAGE);
    return m + lead;
}

static void big_free(void *p, size_t bytes, bool mapped)
{
    if (!p)
        return;
    if (!mapped)
        free(p);
    else
        munmap(p, (bytes + HUGE_ALIGN - 1) & ~(HUGE_ALIGN - 1));
}

static void grow_to(nt_tab *t, size_t ncap)
{
    uint8_t *old = t->slots;
    size_t ocap = t->cap;
    bool omapped = t->mapped;
    t->slots = big_zalloc(ncap * t->ssz, &t->mapped);
    t->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        uint8_t *o = old + i * t->ssz;
        if (!SHASH(o))
            continue;
        size_t j = SHASH(o) & (ncap - 1);
        while (SHASH(SLOT(t, j)))
            j = (j + 1) & (ncap - 1);
        memcpy(SLOT(t, j), o, t->ssz);
    }
    big_free(old, ocap * t->ssz, omapped);
}

static void grow(nt_tab *t) { grow_to(t, t->cap ? t->cap * 2 : 64); }

void nt_tab_reserve(nt_tab *t, size_t n)
{
    /* grown at once to the capacity n members need (no rehash on the way
     * and no smaller tables touched first) */
    size_t ncap = t->cap ? t->cap : 64;
    while ((n + 1) * 10 > ncap * 7 && ncap < ((size_t)1 << 31))
        ncap *= 2;
    if (ncap > t->cap)
        grow_to(t, ncap);
}

/* Keys are multiples of 8 bytes (the structs are laid out so): compared a
 * word at a time, inline, as this is on every packet's path. */
static inline bool key_eq(const uint8_t *a, const uint8_t *b, size_t n)
{
    if (n % 8)
        return memcmp(a, b, n) == 0;
    uint64_t d = 0;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        d |= x ^ y;
    }
    return d == 0;
}

uint32_t *nt_tab_get(const nt_tab *t, const void *key, uint32_t h)
{
    if (!t->cap)
        return NULL;
    size_t m = t->cap - 1;
    for (size_t j = h & m;; j = (j + 1) & m) {
        uint8_t *sl = SLOT(t, j);
        uint32_t s = SHASH(sl);
        if (!s)
            return NULL;
        if (s == h && key_eq(SKEY(sl), key, t->ksz))
            return SVAL(sl);
    }
}

uint32_t *nt_tab_put(nt_tab *t, const void *key, uint32_t h, uint32_t val)
{
    if ((t->count + 1) * 10 > t->cap * 7)
        grow(t);
    size_t m = t->cap - 1, j = h & m;
    while (SHASH(SLOT(t, j)))
        j = (j + 1) & m;
    uint8_t *sl = SLOT(t, j);
    SHASH(sl) = h;
    *SVAL(sl) = val;
    memcpy(SKEY(sl), key, t->ksz);
    t->count++;
    return SVAL(sl);
}

bool nt_tab_del(nt_tab *t, const void *key, uint32_t h)
{
    if (!t->cap)
        return false;
    size_t m = t->cap - 1, j = h & m;
    for (;; j = (j + 1) & m) {
        uint8_t *sl = SLOT(t, j);
        if (!SHASH(sl))
            return false;
        if (SHASH(sl) == h && key_eq(SKEY(sl), key, t->ksz))
            break;
    }
    /* backward shift: pull later members of the cluster into the hole */
    size_t hole = j;
    for (size_t k = (j + 1) & m; SHASH(SLOT(t, k)); k = (k + 1) & m) {
        size_t home = SHASH(SLOT(t, k)) & m;
        /* k may move to hole when its home is not in (hole, k] cyclically */
        bool between = hole <= k ? (home > hole && home <= k) : (home > hole || home <= k);
        if (between)
            continue;
        memcpy(SLOT(t, hole), SLOT(t, k), t->ssz);
        hole = k;
    }
    SHASH(SLOT(t, hole)) = 0;
    t->count--;
    return true;
}

/* ---- shared names ------------------------------------------------------------------
 * The same few names come back in every DNS answer, SNI and Host, so each
 * is kept once with a count of its holders (a flow's sni/host, an entry of
 * the address -> name table) instead of a malloc and free per holder.  A
 * name goes when its last holder drops it, so the set holds no more names
 * than those tables do (their caps bound it).  Open addressing with
 * backward-shift deletion, like nt_tab; the name's length and hash are
 * compared before its bytes. */

typedef struct name_str {
    uint32_t refs, hash, len;
    char s[];
} name_str;

typedef struct name_set {
    name_str **slots;
    size_t cap, count;
    uint64_t seed;               /* nt_hash's */
} name_set;

static name_str *str_of(const char *s)
{
    return (name_str *)(void *)(s - offsetof(name_str, s));
}

static void set_grow(name_set *t)
{
    size_t cap = t->cap ? 2 * t->cap : 256, m = cap - 1;
    name_str **sl = mm_xcalloc(cap, sizeof *sl);
    for (size_t i = 0; i < t->cap; i++) {
        name_str *e = t->slots[i];
        if (!e)
            continue;
        size_t j = e->hash & m;
        while (sl[j])
            j = (j + 1) & m;
        sl[j] = e;
    }
    free(t->slots);
    t->slots = sl;
    t->cap = cap;
}

/* The shared copy of s with one more holder. */
static const char *set_hold(name_set *t, const char *s)
{
    size_t len = strlen(s);
    uint32_t h = nt_hash(s, len, t->seed);
    if (2 * (t->count + 1) > t->cap)
        set_grow(t);
    size_t m = t->cap - 1, j = h & m;
    for (name_str *e; (e = t->slots[j]); j = (j + 1) & m)
        if (e->hash == h && e->len == len && !memcmp(e->s, s, len)) {
            e->refs++;
            return e->s;
        }
    name_str *e = mm_xmalloc(sizeof *e + len + 1);
    e->refs = 1;
    e->hash = h;
    e->len = (uint32_t)len;
    memcpy(e->s, s, len + 1);
    t->slots[j] = e;
    t->count++;
    return e->s;
}

/* One holder fewer; the last one frees the name. */
static void set_drop(name_set *t, const char *s)
{
    name_str *e = str_of(s);
    if (--e->refs)
        return;
    size_t m = t->cap - 1, i = e->hash & m;
    while (t->slots[i] != e)
        i = (i + 1) & m;
    for (size_t j = (i + 1) & m; t->slots[j]; j = (j + 1) & m) {
        size_t home = t->slots[j]->hash & m;
        /* an entry may move back to i unless its home lies in (i, j] */
        bool stays = i < j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            t->slots[i] = t->slots[j];
            i = j;
        }
    }
    t->slots[i] = NULL;
    t->count--;
    free(e);
}

static void set_free(name_set *t)
{
    for (size_t i = 0; i < t->cap; i++)
        free(t->slots[i]);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

/* ---- address -> name -------------------------------------------------------------
 * Two generations: when the current one is full it becomes the previous one
 * and a fresh table starts, so the table stays bounded and recently used
 * names survive (a lookup hit in the old generation is copied forward). */

typedef struct name_key {
    uint64_t zone;
    uint8_t family, pad[7];
    uint8_t ip[16];
} name_key;

typedef struct name_gen {
    nt_tab t;
    const char **names;          /* held in nt_names.strs */
    size_t n;
} name_gen;

struct nt_names {
    name_gen g[2];               /* [0] current, [1] previous */
    size_t max;
    name_set strs;               /* the names held by g[] and the flows */
    uint64_t seed;               /* of both generations' tables: one hash
                                    looks a key up in both */
};

nt_names *nt_names_new(size_t max)
{
    nt_names *n = mm_xcalloc(1, sizeof *n);
    n->max = max ? max : 262144;
    n->seed = nt_seed();
    n->strs.seed = nt_seed();
    tab_init(&n->g[0].t, sizeof(name_key), n->seed);
    tab_init(&n->g[1].t, sizeof(name_key), n->seed);
    return n;
}

static void gen_free(nt_names *n, name_gen *g)
{
    for (size_t i = 0; i < g->n; i++)
        set_drop(&n->strs, g->names[i]);
    free(g->names);
    nt_tab_free(&g->t);
    memset(g, 0, sizeof *g);
}

void nt_names_free(nt_names *n)
{
    if (!n)
        return;
    gen_free(n, &n->g[0]);
    gen_free(n, &n->g[1]);
    set_free(&n->strs);
    free(n);
}

static void mkkey(name_key *k, uint64_t zone, const mm_ipaddr *a)
{
    memset(k, 0, sizeof *k);
    k->zone = zone;
    k->family = a->family;
    memcpy(k->ip, a->ip, a->family == AF_INET ? 4 : 16);
}

/* name's copy in the set for one more holder: held names (from nt_names_hold)
 * are counted without a lookup. */
static const char *hold_as(nt_names *n, const char *name, bool held)
{
    if (!held)
        return set_hold(&n->strs, name);
    str_of(name)->refs++;
    return name;
}

static void names_put(nt_names *n, uint64_t zone, const mm_ipaddr *a, const char *name,
                      bool held)
{
    name_key k;
    mkkey(&k, zone, a);
    uint32_t h = nt_hash(&k, sizeof k, n->seed);
    name_gen *g = &n->g[0];
    uint32_t *v = NT_TAB_GET(&g->t, &k, h);
    if (v) {
        const char *old = g->names[*v];
        if (old != name && strcmp(old, name)) {
            g->names[*v] = hold_as(n, name, held);
            set_drop(&n->strs, old);
        }
        return;
    }
    if (g->n >= n->max / 2 + 1) {
        gen_free(n, &n->g[1]);
        n->g[1] = n->g[0];
        memset(&n->g[0], 0, sizeof n->g[0]);
        tab_init(&n->g[0].t, sizeof(name_key), n->seed);
        g = &n->g[0];
    }
    if (g->n % 64 == 0)
        g->names = mm_xrealloc(g->names, (g->n + 64) * sizeof *g->names);
    g->names[g->n] = hold_as(n, name, held);
    nt_tab_put(&g->t, &k, h, (uint32_t)g->n);
    g->n++;
}

void nt_names_set(nt_names *n, uint64_t zone, const mm_ipaddr *a, const char *name)
{
    names_put(n, zone, a, name, false);
}

void nt_names_set_held(nt_names *n, uint64_t zone, const mm_ipaddr *a, const char *name)
{
    names_put(n, zone, a, name, true);
}

const char *nt_names_get(const nt_names *n, uint64_t zone, const mm_ipaddr *a)
{
    name_key k;
    mkkey(&k, zone, a);
    uint32_t h = nt_hash(&k, sizeof k, n->seed);
    for (int i = 0; i < 2; i++) {
        uint32_t *v = NT_TAB_GET(&n->g[i].t, &k, h);
        if (v)
            return n->g[i].names[*v];
    }
    return NULL;
}

size_t nt_names_count(const nt_names *n)
{
    return n->g[0].n + n->g[1].n;
}

const char *nt_names_hold(nt_names *n, const char *name)
{
    return set_hold(&n->strs, name);
}

void nt_names_drop(nt_names *n, const char *name)
{
    if (name)
        set_drop(&n->strs, name);
}
