/*
 * profile_int.h - what the files of behaviour profiles share (private): the
 * learned or loaded state (images, their categories and entries) and the
 * helpers more than one file calls.  profile.c learns and checks,
 * profile_write.c generalises and writes YAML, profile_load.c reads it back.
 */
#ifndef MM_PROFILE_INT_H
#define MM_PROFILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mamori/profile.h"
#include "runtime/runtime_int.h"

#define MAX_PROFILE_FILE (16u << 20)
#define MAX_IMAGES 4096
#define MAX_ENTRIES 200000
#define MAX_STR 4096
#define MAX_PARENTS 64
#define MAX_MAP_KEYS 64
#define MAX_SEEN 65536
#define DEFAULT_COLLAPSE 8
#define NO_IMAGE ((void *)(uintptr_t)-1)

/* how many Falco fields a deviation alert renders (alert_fields of profile.c) */
#define MM_PROFILE_NAF 13

typedef struct pentry {
    char *a;               /* process: exe pattern; file: path pattern */
    char *b;               /* process: name pattern */
    char *lit_a, *lit_b;   /* unescaped literal when the pattern has no glob */
    char **parents;        /* process: parent name patterns (none = any) */
    size_t nparents;
    uint8_t proto;         /* MM_L4_TCP / MM_L4_UDP; 0 = any */
    uint16_t plo, phi;     /* port range (0-65535 = any) */
    bool anynet;           /* connect: any destination */
    mm_ipaddr net;
    uint8_t prefix;
    uint64_t count;
    int64_t first;         /* first seen, ns since the epoch; 0 = unknown */
} pentry;

typedef struct pcat {
    bool present;          /* absent in a loaded file: not checked */
    pentry *v;
    size_t n, cap;
    mm_map *ix;            /* learning key -> index + 1 */
    mm_map *exact;         /* files: literal path -> (void *)1 */
} pcat;

typedef struct pimage {
    char *name;
    char *lit;             /* name without glob characters, or NULL */
    mm_rule_priority pri;
    mm_rule_action act[MM_PROF__COUNT];
    pcat cat[MM_PROF__COUNT];
} pimage;


struct mm_profile {
    mm_profile_opts o;
    pimage *img;
    size_t nimg, cimg;
    mm_map *img_ix;        /* literal name -> index + 1 */
    size_t nentries;
    bool full;
    int64_t start, end;
    mm_rule_priority pri;  /* defaults of the file */
    mm_rule_action act[MM_PROF__COUNT];
    /* checking */
    mm_evalctx ctx;
    mm_fref fref[MM_PROFILE_NAF];
    bool fref_ok[MM_PROFILE_NAF];
    bool fref_init;
    mm_map *seen;          /* (process, category, value) already reported */
    mm_map *img_cache;     /* image key -> index + 1, or NO_IMAGE */
    mm_buf obuf;
    char hostname[256];
};

/* profile.c */
mm_profile *mm_profile_alloc(void);
pimage *mm_profile_image_add(mm_profile *p, const char *name);
pentry *mm_profile_cat_push(pcat *c);
void mm_profile_entry_free(pentry *e);
/* sets lit_a / lit_b: the unescaped literal of a pattern without globs */
void mm_profile_entry_lits(pentry *e);
/* IPv4-mapped IPv6 becomes IPv4 */
void mm_profile_ip_norm(mm_ipaddr *a);
void mm_profile_ip_mask(mm_ipaddr *a, unsigned prefix);
void mm_profile_ip_text(const mm_ipaddr *a, char *out, size_t n);
const char *mm_profile_proto_name(uint8_t p);

#endif
