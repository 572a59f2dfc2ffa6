/* bench/net_send.c — a paced packet sender for bench/net.sh's live part.
 *
 * tcpreplay reaches only ~25k packets/s on this VM, and the kernel has no
 * pktgen (CONFIG_NET_PKTGEN is not set), so the live benchmark sends with
 * this: the first packets of a pcap (Ethernet link type, at most MAX_PKTS
 * and MAX_BYTES of them) are loaded into memory and sent round-robin on an
 * AF_PACKET socket bound to one interface, with PACKET_QDISC_BYPASS (the
 * frames go straight to the driver) and sendmmsg() batches of up to BATCH
 * frames, paced so that by time t exactly RATE*t frames have been sent
 * (token bucket on CLOCK_MONOTONIC; short sleeps when ahead).  ENOBUFS
 * from the driver is retried, never counted as sent.  Prints one line:
 *   sent N in S s = R packets/s (target T), retries E
 * Bench tooling only (not built by meson): bench/net.sh compiles it with cc.
 *
 * Usage: net_send IFACE FILE.pcap RATE SECONDS
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKTS 100000
#define MAX_BYTES (64u << 20)
#define BATCH 64

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s IFACE FILE.pcap RATE SECONDS\n", argv[0]);
        return 2;
    }
    double rate = atof(argv[3]), secs = atof(argv[4]);
    FILE *f = fopen(argv[2], "rb");
    if (!f || rate <= 0 || secs <= 0) {
        perror(argv[2]);
        return 2;
    }
    uint8_t gh[24];
    if (fread(gh, 1, 24, f) != 24) {
        fprintf(stderr, "%s: short pcap header\n", argv[2]);
        return 2;
    }
    uint32_t magic;
    memcpy(&magic, gh, 4);
    int swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (!swap && magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
        fprintf(stderr, "%s: not a classic pcap file\n", argv[2]);
        return 2;
    }
    uint8_t *buf = malloc(MAX_BYTES);
    struct iovec *iov = calloc(MAX_PKTS, sizeof *iov);
    size_t n = 0, used = 0;
    uint8_t rh[16];
    while (n < MAX_PKTS && fread(rh, 1, 16, f) == 16) {
        uint32_t cap;
        memcpy(&cap, rh + 8, 4);
        if (swap)
            cap = __builtin_bswap32(cap);
        if (cap > 65535 || used + cap > MAX_BYTES)
            break;
        if (fread(buf + used, 1, cap, f) != cap)
            break;
        if (cap >= 14 && cap <= 1514) {
            iov[n].iov_base = buf + used;
            iov[n].iov_len = cap;
            n++;
            used += cap;
        }
    }
    fclose(f);
    if (!n) {
        fprintf(stderr, "%s: no packets\n", argv[2]);
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0); /* protocol 0: send only, receive nothing */
    if (fd < 0) {
        perror("AF_PACKET socket");
        return 1;
    }
    int one = 1;
    if (setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one) != 0)
        perror("PACKET_QDISC_BYPASS (continuing through the qdisc)");
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1]),
                              .sll_halen = ETH_ALEN};
    if (!sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
        perror(argv[1]);
        return 1;
    }
    struct mmsghdr mm[BATCH];
    memset(mm, 0, sizeof mm);
    uint64_t total = (uint64_t)(rate * secs), sent = 0, retries = 0;
    size_t next = 0;
    double t0 = now(), t = t0;
    while (sent < total) {
        t = now();
        uint64_t due = (uint64_t)((t - t0) * rate) + 1;
        if (due > total)
            due = total;
        if (due <= sent) {
            struct timespec ts = {0, 20000}; /* 20 µs: 4 frames at 200k/s */
            nanosleep(&ts, NULL);
            continue;
        }
        unsigned k = (unsigned)(due - sent < BATCH ? due - sent : BATCH);
        for (unsigned i = 0; i < k; i++) {
            mm[i].msg_hdr.msg_iov = &iov[(next + i) % n];
            mm[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, mm, k, 0);
        if (r < 0) {
            if (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) {
                retries++;
                continue;
            }
            perror("sendmmsg");
            return 1;
        }
        sent += (uint64_t)r;
        next = (next + (size_t)r) % n;
    }
    double el = now() - t0;
    printf("sent %llu in %.3f s = %.0f packets/s (target %.0f), retries %llu\n",
           (unsigned long long)sent, el, (double)sent / el, rate, (unsigned long long)retries);
    close(fd);
    free(buf);
    free(iov);
    return 0;
}
