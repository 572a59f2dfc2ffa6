/*
 * fuzz_k8s_reach.c - libFuzzer target for the NetworkPolicy reachability
 * model (lib/k8s/netpol.c, reach.c): the input is a manifest stream
 * (workloads, namespaces, NetworkPolicies with selectors of any type,
 * ipBlocks, ports, endPorts) loaded under tight caps; the matrix is
 * built, written in all three formats and queried with addresses.
 * Hostile policies must give a matrix or an error: never a crash, a leak
 * or a hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "mamori/k8s.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mm_k8s_limits lim = {0};
    lim.max_input = 1u << 20;
    lim.max_docs = 100;
    lim.max_objects = 200;
    lim.max_depth = 30;
    lim.max_nodes = 20000;
    mm_k8s_set *s;
    mm_k8s_set_new(&s, &lim);
    mm_k8s_reach *r;
    if (mm_k8s_load_buffer(s, "fuzz.yaml", (const char *)data, size) == 0 &&
        mm_k8s_reach_build(&r, s) == 0) {
        FILE *f = fopen("/dev/null", "w");
        if (f) {
            mm_k8s_reach_write(r, f, "json");
            mm_k8s_reach_write(r, f, "dot");
            mm_k8s_reach_write(r, f, "table");
            fclose(f);
        }
        size_t n = mm_k8s_reach_count(r);
        for (size_t i = 0; i < n && i < 8; i++) {
            mm_k8s_reach_ip_allowed(r, i, "10.1.2.3", true, "TCP", 80);
            mm_k8s_reach_ip_allowed(r, i, "fd00::1", false, "UDP", 53);
            free(mm_k8s_reach_ports(r, i, n - 1 - i));
        }
        mm_k8s_reach_free(r);
    }
    mm_k8s_set_free(s);
    return 0;
}
