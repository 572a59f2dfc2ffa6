/*
 * util/yaml_int.h - what the builder (yaml.c) and the position map
 * (yaml_pos.c) of the one YAML loader share; not for other files.
 */
#ifndef MM_UTIL_YAML_INT_H
#define MM_UTIL_YAML_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* The keys of a value's own slot (parent = the value) and of a mapping's
 * first repeated key: no item index reaches them. */
#define MM_YAML_VALUE_KEY UINT64_MAX
#define MM_YAML_DUP_KEY (UINT64_MAX - 1)

/* The slot key of member key of an object, or (key NULL) of item idx. */
uint64_t mm_yaml_pkey(const char *key, size_t idx);
/* Records (or overwrites) the position under parent and key. */
void mm_yaml_pos_put(mm_yaml_posmap *pm, const void *parent, uint64_t key, int line, int col,
                     bool plain);
/* Notes key as the first repeated key of map (later ones are not noted). */
void mm_yaml_pos_note_dup(mm_yaml_posmap *pm, const void *map, const char *key, int line,
                          int col);
/* Forgets the note of a mapping freed earlier at the address of map. */
void mm_yaml_pos_dup_reset(mm_yaml_posmap *pm, const void *map);

#endif
