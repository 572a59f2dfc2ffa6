/*
 * netpol_int.h - what netpol.c (the reachability model) shares with
 * reach.c (its writers and the segmentation findings): port sets and
 * per-workload accessors.
 */
#ifndef MM_K8S_NETPOL_INT_H
#define MM_K8S_NETPOL_INT_H

#include <stdint.h>

#include "mamori/k8s.h"
#include "util/util.h"

typedef struct k8s_prange {
    uint8_t proto;          /* 0 TCP, 1 UDP, 2 SCTP */
    uint16_t lo, hi;
} k8s_prange;

typedef struct k8s_pset {
    k8s_prange *v;
    size_t n, cap;
} k8s_pset;

void k8s_pset_add(k8s_pset *s, int proto, int lo, int hi);
bool k8s_pset_is_all(const k8s_pset *s);
/* "*" (every port of every protocol), "TCP:80,UDP:53,TCP:8000-8080", ""
 * for none. */
void k8s_pset_text(const k8s_pset *s, mm_buf *b);

size_t k8s_reach_nworkloads(const mm_k8s_reach *r);
size_t k8s_reach_obj(const mm_k8s_reach *r, size_t i);
void k8s_reach_cell(const mm_k8s_reach *r, size_t from, size_t to, k8s_pset *out,
                    k8s_pset *in, k8s_pset *eg);
void k8s_reach_ipblocks(const mm_k8s_reach *r, size_t w, bool ingress, char ***v, size_t *n);
size_t k8s_reach_policies(const mm_k8s_reach *r, size_t w, bool ingress, const char **ids,
                          size_t max);
size_t k8s_reach_nnamespaces(const mm_k8s_reach *r);
const char *k8s_reach_namespace(const mm_k8s_reach *r, size_t i, size_t *obj, bool *has_pol,
                                size_t *first_wl);

#endif
