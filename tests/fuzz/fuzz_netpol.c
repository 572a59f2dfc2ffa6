/*
 * fuzz_netpol.c - libFuzzer target for the segmentation policy file (YAML,
 * untrusted: it may ship with a workload) and the learned graph a policy is
 * proposed from, picked by the first byte.  Whatever loads is selected,
 * compiled in both places (namespace and host) and diffed; a proposed
 * policy must load again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/netpol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t res(void *ud, const char *peer, const mm_ipaddr **addrs)
{
    static const mm_ipaddr a[2] = {{.family = 2, .ip = {10, 0, 0, 9}},
                                   {.family = 10, .ip = {0xfd, [15] = 9}}};
    (void)ud;
    *addrs = a;
    return peer[0] == 'x' ? 0 : 2;
}

static void use(mm_netpol *p)
{
    const char *labels[] = {"app=web", "tier=1"};
    mm_netpol_select(p, "web", "localhost/web:1", labels, 2);
    mm_ipaddr own = {.family = 2, .ip = {10, 0, 0, 2}};
    for (size_t i = 0; i < mm_netpol_count(p) && i < 8; i++) {
        char *a = NULL, *b = NULL;
        mm_netpol_compile_opts o = {.resolve = res};
        mm_netpol_compile(&a, p, i, &o);
        o.where = MM_NETPOL_HOST;
        o.addrs = &own;
        o.naddrs = 1;
        mm_netpol_compile(&b, p, i, &o);
        if (a && b)
            free(mm_netpol_diff(a, b, "a", "b"));
        free(a);
        free(b);
        free(mm_netpol_table(p, i, MM_NETPOL_HOST));
        mm_netpol_name_sets(p, i, "api.example.com", 2, NULL, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size || size > 256 * 1024)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    mm_netpol *p = NULL;
    if (data[0] & 1) {
        char *y = NULL;
        if (mm_netpol_from_baseline(&y, s, n, "fuzz") == 0) {
            if (mm_netpol_load_string(&p, "proposed", y, strlen(y)) != 0)
                abort();                 /* what we propose must load */
            use(p);
            mm_netpol_free(p);
            free(y);
        }
        return 0;
    }
    if (mm_netpol_load_string(&p, "fuzz", s, n) == 0) {
        use(p);
        mm_netpol_free(p);
    }
    return 0;
}
