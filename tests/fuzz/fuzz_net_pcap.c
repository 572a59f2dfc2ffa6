/*
 * fuzz_net_pcap.c - libFuzzer target for capture files: the input is a
 * pcap (read by the mapped reader) or, when the first byte is odd, read
 * through libpcap (pcapng and friends), every packet fed to an engine.
 * Truncated or corrupt files must end in an error, never a crash.  The
 * mapped reader is also checked against libpcap: the records both read
 * (all of them on a sound file; the mapped reader stops with an error at
 * some corrupt records libpcap reads on) have the same time, captured
 * length and bytes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mamori/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void pkt(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cap, size_t wire)
{
    mm_net_feed(ud, 0, lt, ts, d, cap, wire);
}

#define MAXREC 512

typedef struct recs {
    size_t n;
    uint64_t h[MAXREC];          /* time, length and bytes of each record */
} recs;

static void rec(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cap, size_t wire)
{
    (void)lt;
    (void)wire;
    recs *r = ud;
    if (r->n >= MAXREC)
        return;
    uint64_t h = 0xcbf29ce484222325ull ^ (uint64_t)ts;
    h = (h ^ cap) * 0x100000001b3ull;
    for (size_t i = 0; i < cap; i++)
        h = (h ^ d[i]) * 0x100000001b3ull;
    r->h[r->n++] = h;
}

static void read_all(const char *path, mm_net_engine e, recs *r)
{
    mm_net_capture_opts co = {.file = path, .engine = e};
    mm_net_capture *c;
    r->n = 0;
    if (mm_net_capture_open(&c, &co))
        return;
    while (r->n < MAXREC && mm_net_capture_next(c, 64, 0, rec, r) > 0)
        ;
    mm_net_capture_free(c);
}

/* the mapped reader and libpcap agree on the records both read */
static void differential(const char *path)
{
    static recs m, p;
    read_all(path, MM_NET_ENGINE_AUTO, &m);
    read_all(path, MM_NET_ENGINE_PCAP, &p);
    size_t n = m.n < p.n ? m.n : p.n;
    for (size_t i = 0; i < n; i++)
        if (m.h[i] != p.h[i]) {
            fprintf(stderr, "record %zu: the mapped reader and libpcap differ\n", i);
            abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size)
        return 0;
    bool viapcap = data[0] & 1;
    int fd = memfd_create("fuzz", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data + 1, size - 1) != (ssize_t)(size - 1)) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (!viapcap)
        differential(path);
    mm_net_capture_opts co = {.file = path, .engine = viapcap ? MM_NET_ENGINE_PCAP : MM_NET_ENGINE_AUTO};
    mm_net_capture *c;
    if (mm_net_capture_open(&c, &co) == 0) {
        mm_net_opts o = {.max_flows = 128, .hostname = "fuzz"};
        mm_net *n;
        mm_net_new(&n, &o);
        mm_net_source_add(n, "f", 0, NULL);
        for (int i = 0; i < 100000; i++)
            if (mm_net_capture_next(c, 64, 0, pkt, n) <= 0)
                break;
        mm_net_finish(n);
        mm_net_free(n);
        mm_net_capture_free(c);
    }
    close(fd);
    return 0;
}
