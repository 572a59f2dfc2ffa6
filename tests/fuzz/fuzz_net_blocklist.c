/*
 * fuzz_net_blocklist.c - libFuzzer target for the network sensor's
 * untrusted text inputs: blocklists (plain, CSV, STIX 2.1 patterns) and
 * saved service graphs (baselines), picked by the first byte; whatever
 * loads is queried and written back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    if (data[0] & 1) {
        mm_net_topo *t;
        if (mm_net_topo_load_string(&t, "fuzz", s, n) == 0) {
            bool known;
            mm_net_topo_has_edge(t, "a", "b", 6, 80);
            mm_net_topo_has_listen(t, "a", 6, 80, &known);
            free(mm_net_topo_json(t));
            free(mm_net_topo_dot(t));
            mm_net_topo_free(t);
        }
        return 0;
    }
    mm_net_blocklist *b;
    mm_net_blocklist_new(&b);
    mm_net_blocklist_add_string(b, "fuzz", s, n);
    mm_ipaddr a = {.family = 2, .ip = {10, 0, 0, 1}};
    mm_net_blocklist_match_ip(b, &a);
    a.family = 10;
    mm_net_blocklist_match_ip(b, &a);
    mm_net_blocklist_match_domain(b, "www.evil.example");
    mm_net_blocklist_free(b);
    return 0;
}
