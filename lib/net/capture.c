/*
 * capture.c - packet sources: files and live interfaces.
 *
 *  - Classic pcap 2.4 files (microsecond or nanosecond, either byte order)
 *    are mapped (MADV_SEQUENTIAL) and their records handed on in place, as
 *    libpcap returns them (cut to the snapshot length): every
 *    record header is checked against the end of the mapping and a 256 KiB
 *    cap before its data is touched, and an error names the record's
 *    offset.  libpcap's offline reader makes two fread calls and a copy per
 *    record, and reading in chunks made the kernel copy every byte once more
 *    (`_copy_to_iter`); mapped, the records are read where the page cache
 *    holds them (a 594 MB file alone: 0.11 s of system time read in chunks,
 *    0.07-0.08 s mapped), with the lines ahead prefetched (the hardware
 *    prefetcher stops at page boundaries), page tables filled ahead in
 *    4 MiB steps, and the pages behind the cursor dropped from the
 *    mapping every 8 MiB so that the resident size stays small.  For
 *    files of 16 MiB and more that page-table work is a second thread's
 *    (mapper_main), so the reading thread only reads.  A file that another
 *    process truncates while it is mapped would fault (SIGBUS): captures
 *    being written are read through libpcap (stdin, `-`), as are pcapng
 *    and anything else.
 *  - Live capture uses an AF_PACKET TPACKET_V3 ring by default: the kernel
 *    fills blocks of packets in shared memory and user space walks a whole
 *    block per wake-up (fewer system calls and copies than one recv per
 *    packet), with the kernel's drop counters read from
 *    PACKET_STATISTICS.  MM_NET_ENGINE_PCAP uses libpcap instead (which on
 *    Linux is itself a TPACKET_V3 ring, with libpcap's per-packet
 *    callback).  BPF filters are compiled by libpcap in both cases.
 *  - A netns path makes the socket in that network namespace: the thread
 *    enters it (setns), creates and binds the socket, and returns to its
 *    own; the socket keeps capturing in the namespace it was made in.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pcap/pcap.h>

#include "net/net_int.h"

#define MAX_SNAP 262144u

typedef enum { K_MMAP, K_PCAP, K_RING } cap_kind;

struct mm_net_capture {
    cap_kind kind;
    char *label;
    int linktype;
    /* classic pcap, mapped */
    int ffd;
    uint8_t *map;                /* the whole file */
    size_t mlen, bpos, dropped_to, pf_to, pop_to, due;
    bool swap, nano;
    /* the mapping's housekeeper thread (big files): fills page tables
     * ahead of and drops pages behind the published cursor `want` */
    pthread_t mth;
    pthread_mutex_t mmu;
    pthread_cond_t mcv;
    size_t want;
    bool mstop, mthread;
    uint32_t snap;
    /* libpcap */
    pcap_t *p;
    bool offline;
    /* TPACKET_V3 */
    int fd;
    uint8_t *ring;
    size_t ringlen;
    unsigned nblocks, blocksz, cur;
    mm_net_capture_stats st;
};

static uint32_t rd32(const mm_net_capture *c, const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return c->swap ? __builtin_bswap32(v) : v;
}

/* ---- netns -------------------------------------------------------------------- */

/* Enters the namespace of path; *back gets a descriptor of the old one. */
static int ns_enter(const char *path, int *back)
{
    *back = -1;
    if (!path)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mm_error_set(MM_ENOTFOUND, "%s: cannot open the network namespace: %m", path);
    *back = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (*back < 0 || setns(fd, CLONE_NEWNET) != 0) {
        int e = errno;
        close(fd);
        if (*back >= 0)
            close(*back);
        *back = -1;
        errno = e;
        return mm_error_set(e == EPERM ? MM_EUNSUPPORTED : MM_EIO,
                            "%s: cannot enter the network namespace: %m (needs CAP_SYS_ADMIN)", path);
    }
    close(fd);
    return 0;
}

static void ns_leave(int back)
{
    if (back < 0)
        return;
    if (setns(back, CLONE_NEWNET) != 0)
        abort();                 /* a thread left in the wrong namespace would lie */
    close(back);
}

/* ---- files ------------------------------------------------------------------------- */

#define WINDOW (8u << 20)       /* pages behind the cursor are dropped in steps of this */
#define PF_AHEAD 4096u          /* lines prefetched this far ahead */
#define POP_STEP (4u << 20)     /* page tables filled this far ahead */
#define MAPPER_MIN ((size_t)16 << 20)  /* files from this size get the housekeeper thread */
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22   /* Linux 5.14; older kernels say EINVAL and fault as before */
#endif

static int open_mmap(mm_net_capture *c, const char *path, bool *handled)
{
    *handled = false;
    if (!strcmp(path, "-"))
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %m", path);
    struct stat st;
    uint8_t hdr[24];
    if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < 24 ||
        (off_t)(size_t)st.st_size != st.st_size ||   /* larger than memory can map */
        pread(fd, hdr, 24, 0) != 24) {
        close(fd);
        return 0;
    }
    uint32_t magic;
    memcpy(&magic, hdr, 4);
    switch (magic) {
    case 0xa1b2c3d4: break;
    case 0xd4c3b2a1: c->swap = true; break;
    case 0xa1b23c4d: c->nano = true; break;
    case 0x4d3cb2a1: c->swap = c->nano = true; break;
    default:
        close(fd);
        return 0;                /* pcapng or not a capture: libpcap says which */
    }
    uint16_t ver[2];
    memcpy(ver, hdr + 4, 4);
    if (c->swap) {
        ver[0] = __builtin_bswap16(ver[0]);
        ver[1] = __builtin_bswap16(ver[1]);
    }
    if (ver[0] != 2 || ver[1] != 4) {
        close(fd);
        c->swap = c->nano = false;
        return 0;                /* libpcap: 2.3 and older may swap the two lengths */
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
        close(fd);
        c->swap = c->nano = false;
        return 0;                /* libpcap reads it */
    }
    madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
    c->ffd = fd;
    c->map = m;
    c->mlen = (size_t)st.st_size;
    c->bpos = 24;
    c->snap = rd32(c, hdr + 16);
    if (c->snap == 0 || c->snap > MAX_SNAP)
        c->snap = MAX_SNAP;      /* as libpcap takes a header's 0 or too big */
    c->linktype = (int)(rd32(c, hdr + 20) & 0x0fffffff);
    c->kind = K_MMAP;
    *handled = true;
    return 0;
}

static void mapper_start(mm_net_capture *c);
static void mapper_stop(mm_net_capture *c);

static void close_mmap(mm_net_capture *c)
{
    mapper_stop(c);
    if (c->map)
        munmap(c->map, c->mlen);
    c->map = NULL;
    if (c->ffd >= 0)
        close(c->ffd);
    c->ffd = -1;
}

/* The mapping's housekeeping up to cursor pos: page tables of the next
 * steps filled in one call each (a fault per 16 pages otherwise), and
 * windows two behind the cursor dropped from the mapping (the page cache
 * keeps them), so that the resident size stays small. */
static void housekeep(mm_net_capture *c, size_t pos, size_t ahead)
{
    while (c->pop_to < c->mlen && c->pop_to < pos + ahead) {
        size_t l = c->mlen - c->pop_to < POP_STEP ? c->mlen - c->pop_to : POP_STEP;
        madvise(c->map + c->pop_to, l, MADV_POPULATE_READ);
        c->pop_to += l;
    }
    while (pos - c->dropped_to >= 2 * (size_t)WINDOW) {
        madvise(c->map + c->dropped_to, WINDOW, MADV_DONTNEED);
        c->dropped_to += WINDOW;
    }
}

/* Files of MAPPER_MIN and more: that work is a second thread's, woken
 * each POP_STEP the reader moves (filling and dropping page tables was a
 * sixth of a big file's read time, in the kernel on the reading thread;
 * no packet byte crosses threads, only the cursor).  pop_to and
 * dropped_to belong to the thread while it runs. */
static void *mapper_main(void *arg)
{
    mm_net_capture *c = arg;
    pthread_mutex_lock(&c->mmu);
    while (!c->mstop) {
        size_t pos = c->want;
        pthread_mutex_unlock(&c->mmu);
        housekeep(c, pos, 4 * (size_t)POP_STEP);
        pthread_mutex_lock(&c->mmu);
        while (!c->mstop && c->want == pos)
            pthread_cond_wait(&c->mcv, &c->mmu);
    }
    pthread_mutex_unlock(&c->mmu);
    return NULL;
}

static void mapper_start(mm_net_capture *c)
{
    if (c->mlen < MAPPER_MIN)
        return;
    pthread_mutex_init(&c->mmu, NULL);
    pthread_cond_init(&c->mcv, NULL);
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);   /* signals stay the caller's */
    c->mthread = pthread_create(&c->mth, NULL, mapper_main, c) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!c->mthread) {
        pthread_mutex_destroy(&c->mmu);
        pthread_cond_destroy(&c->mcv);
    }
}

static void mapper_stop(mm_net_capture *c)
{
    if (!c->mthread)
        return;
    pthread_mutex_lock(&c->mmu);
    c->mstop = true;
    pthread_cond_signal(&c->mcv);
    pthread_mutex_unlock(&c->mmu);
    pthread_join(c->mth, NULL);
    pthread_mutex_destroy(&c->mmu);
    pthread_cond_destroy(&c->mcv);
    c->mthread = false;
}

/* At cursor pos: the housekeeping (or the thread woken for it), and the
 * next offset that needs it. */
static void window(mm_net_capture *c, size_t pos)
{
    if (c->mthread) {
        pthread_mutex_lock(&c->mmu);
        c->want = pos;
        pthread_cond_signal(&c->mcv);
        pthread_mutex_unlock(&c->mmu);
        c->due = pos + POP_STEP;
        return;
    }
    housekeep(c, pos, POP_STEP);
    size_t a = c->pop_to < c->mlen ? c->pop_to - POP_STEP + 1 : SIZE_MAX;
    size_t b = c->dropped_to + 2 * (size_t)WINDOW;
    c->due = a < b ? a : b;
}

/* always inline: mm_net_capture_feed's copy calls the engine directly */
static inline __attribute__((always_inline)) int
next_mmap(mm_net_capture *c, int max, mm_net_pkt_fn fn, void *ud)
{
    int n = 0;
    size_t pf = c->pf_to;
    const uint8_t *base = c->map;
    size_t pos = c->bpos, len = c->mlen;
    const uint32_t fmax = c->nano ? 1000000000u : 1000000u;
    while (max <= 0 || n < max) {
        size_t avail = len - pos;
        if (avail < 16) {
            c->bpos = pos;
            c->pf_to = pf;
            if (!avail)
                return n ? n : MM_ENOTFOUND;
            return mm_error_set(MM_EFORMAT, "%s: offset %zu: truncated record header", c->label, pos);
        }
        const uint8_t *r = base + pos;
        /* the hardware prefetcher stops at page boundaries: lines a few
         * KiB ahead are asked for here, each once, eight at a time (a
         * prefetch past the end of the mapping does not fault) */
        for (size_t lim = pos + PF_AHEAD < len ? pos + PF_AHEAD : len; pf < lim; pf += 512)
            for (int l = 0; l < 8; l++)
                __builtin_prefetch(base + pf + 64 * l);
        uint32_t sec = rd32(c, r), frac = rd32(c, r + 4), incl = rd32(c, r + 8),
                 orig = rd32(c, r + 12);
        if (incl > MAX_SNAP || frac >= fmax) {
            c->bpos = pos;
            c->pf_to = pf;
            return mm_error_set(MM_EFORMAT, "%s: offset %zu: bad record (length %u, fraction %u)",
                                c->label, pos, incl, frac);
        }
        if (avail - 16 < incl) {
            c->bpos = pos;
            c->pf_to = pf;
            return mm_error_set(MM_EFORMAT, "%s: offset %zu: record of %u bytes runs past the end of the file",
                                c->label, pos, incl);
        }
        /* the seconds are signed 32 bits to libpcap: one before 1970 (or
         * past 2038) is an unknown time, 0, as on the libpcap path */
        int64_t ts = (int32_t)sec < 0 ? 0
                   : (int64_t)sec * 1000000000ll + (c->nano ? frac : (int64_t)frac * 1000);
        /* a record longer than the file's snapshot length is cut to it, as
         * libpcap does (the rest is skipped) */
        fn(ud, c->linktype, ts, r + 16, incl < c->snap ? incl : c->snap, orig < incl ? incl : orig);
        pos += 16 + (size_t)incl;
        c->st.received++;
        n++;
        if (pos >= c->due)
            window(c, pos);
    }
    c->bpos = pos;
    c->pf_to = pf;
    return n;
}

/* ---- TPACKET_V3 ---------------------------------------------------------------------- */

static int attach_filter(int fd, int linktype, unsigned snap, const char *filter, const char *label)
{
    if (!filter || !*filter)
        return 0;
    struct bpf_program prog;
    pcap_t *dead = pcap_open_dead(linktype, (int)snap);
    if (!dead)
        return mm_error_set(MM_ENOMEM, "cannot compile the filter");
    if (pcap_compile(dead, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        int rc = mm_error_set(MM_EINVAL, "filter \"%s\": %s", filter, pcap_geterr(dead));
        pcap_close(dead);
        return rc;
    }
    pcap_close(dead);
    struct sock_fprog fp = {.len = (unsigned short)prog.bf_len,
                            .filter = (struct sock_filter *)prog.bf_insns};
    int rc = 0;
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) != 0)
        rc = mm_error_set(MM_EIO, "%s: cannot attach the filter: %m", label);
    pcap_freecode(&prog);
    return rc;
}

static int open_ring(mm_net_capture *c, const mm_net_capture_opts *o)
{
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (fd < 0)
        return mm_error_set(errno == EPERM ? MM_EUNSUPPORTED : MM_EIO,
                            "%s: AF_PACKET socket: %m (needs CAP_NET_RAW)", c->label);
    c->fd = fd;
    int v = TPACKET_V3;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0)
        return mm_error_set(MM_EUNSUPPORTED, "%s: TPACKET_V3: %m", c->label);
    unsigned ifindex = 0;
    if (o->iface && *o->iface && strcmp(o->iface, "any")) {
        ifindex = if_nametoindex(o->iface);
        if (!ifindex)
            return mm_error_set(MM_ENOTFOUND, "%s: no such interface", o->iface);
    }
    /* the filter before the ring fills, so nothing unfiltered slips in */
    int rc = attach_filter(fd, DLT_EN10MB, o->snaplen ? o->snaplen : MAX_SNAP, o->filter, c->label);
    if (rc)
        return rc;
    size_t total = o->ring_bytes ? o->ring_bytes : (64u << 20);
    c->blocksz = 1u << 20;
    c->nblocks = (unsigned)(total / c->blocksz);
    if (c->nblocks < 4)
        c->nblocks = 4;
    struct tpacket_req3 req = {
        .tp_block_size = c->blocksz, .tp_block_nr = c->nblocks,
        .tp_frame_size = 2048, .tp_frame_nr = (c->blocksz / 2048) * c->nblocks,
        .tp_retire_blk_tov = 50, .tp_sizeof_priv = 0,
        .tp_feature_req_word = TP_FT_REQ_FILL_RXHASH,
    };
    if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
        return mm_error_set(MM_EIO, "%s: PACKET_RX_RING (%u blocks of %u): %m", c->label,
                            c->nblocks, c->blocksz);
    c->ringlen = (size_t)c->blocksz * c->nblocks;
    c->ring = mmap(NULL, c->ringlen, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
    if (c->ring == MAP_FAILED)
        c->ring = mmap(NULL, c->ringlen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c->ring == MAP_FAILED) {
        c->ring = NULL;
        return mm_error_set(MM_EIO, "%s: mmap of the ring: %m", c->label);
    }
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = (int)ifindex};
    if (bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0)
        return mm_error_set(MM_EIO, "%s: bind: %m", c->label);
    if (o->promisc && ifindex) {
        struct packet_mreq mr = {.mr_ifindex = (int)ifindex, .mr_type = PACKET_MR_PROMISC};
        setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
    }
    c->linktype = MM_NET_LINK_ETHERNET;
    c->kind = K_RING;
    return 0;
}

static int next_ring(mm_net_capture *c, int max, int timeout_ms, mm_net_pkt_fn fn, void *ud)
{
    int n = 0;
    for (int waited = 0;;) {
        struct tpacket_block_desc *b = (void *)(c->ring + (size_t)c->cur * c->blocksz);
        if (!(__atomic_load_n(&b->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
            if (n || waited || timeout_ms == 0)
                return n;
            struct pollfd pf = {.fd = c->fd, .events = POLLIN | POLLERR};
            if (poll(&pf, 1, timeout_ms) < 0 && errno != EINTR)
                return mm_error_set(MM_EIO, "%s: poll: %m", c->label);
            waited = 1;
            continue;
        }
        uint32_t np = b->hdr.bh1.num_pkts;
        uint8_t *p = (uint8_t *)b + b->hdr.bh1.offset_to_first_pkt;
        for (uint32_t i = 0; i < np; i++) {
            struct tpacket3_hdr *h = (void *)p;
            const struct sockaddr_ll *sll = (const void *)(p + TPACKET_ALIGN(sizeof *h));
            int lt = MM_NET_LINK_ETHERNET;
            if (sll->sll_hatype == 0xfffe /* ARPHRD_NONE */ || sll->sll_hatype == 65534 ||
                sll->sll_hatype == 776 /* ARPHRD_SIT */)
                lt = MM_NET_LINK_RAW;
            fn(ud, lt, (int64_t)h->tp_sec * 1000000000ll + h->tp_nsec, p + h->tp_mac,
               h->tp_snaplen, h->tp_len);
            p += h->tp_next_offset;
        }
        c->st.received += np;
        n += (int)np;
        __atomic_store_n(&b->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        c->cur = (c->cur + 1) % c->nblocks;
        if (max > 0 && n >= max)
            return n;
    }
}

/* ---- libpcap --------------------------------------------------------------------------- */

static int open_pcap_live(mm_net_capture *c, const mm_net_capture_opts *o)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    const char *dev = o->iface && *o->iface ? o->iface : "any";
    c->p = pcap_create(dev, err);
    if (!c->p)
        return mm_error_set(MM_EIO, "%s: %s", dev, err);
    pcap_set_snaplen(c->p, (int)(o->snaplen ? o->snaplen : MAX_SNAP));
    pcap_set_promisc(c->p, o->promisc);
    pcap_set_timeout(c->p, 50);
    pcap_set_buffer_size(c->p, (int)(o->ring_bytes ? o->ring_bytes : (64u << 20)));
    pcap_set_tstamp_precision(c->p, PCAP_TSTAMP_PRECISION_NANO);
    int rc = pcap_activate(c->p);
    if (rc < 0)
        return mm_error_set(rc == PCAP_ERROR_PERM_DENIED ? MM_EUNSUPPORTED : MM_EIO, "%s: %s",
                            dev, pcap_geterr(c->p));
    if (pcap_setnonblock(c->p, 1, err) != 0)
        return mm_error_set(MM_EIO, "%s: %s", dev, err);
    c->fd = pcap_get_selectable_fd(c->p);
    c->linktype = pcap_datalink(c->p);
    c->kind = K_PCAP;
    return 0;
}

static int open_pcap_file(mm_net_capture *c, const char *path)
{
    char err[PCAP_ERRBUF_SIZE] = "";
    c->p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!c->p)
        return mm_error_set(MM_EFORMAT, "%s: %s", path, err);
    c->linktype = pcap_datalink(c->p);
    c->offline = true;
    c->kind = K_PCAP;
    return 0;
}

static int set_pcap_filter(mm_net_capture *c, const char *filter)
{
    if (!filter || !*filter)
        return 0;
    struct bpf_program prog;
    if (pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
        return mm_error_set(MM_EINVAL, "filter \"%s\": %s", filter, pcap_geterr(c->p));
    int rc = pcap_setfilter(c->p, &prog) ? mm_error_set(MM_EIO, "filter: %s", pcap_geterr(c->p)) : 0;
    pcap_freecode(&prog);
    return rc;
}

typedef struct pcb {
    mm_net_capture *c;
    mm_net_pkt_fn fn;
    void *ud;
} pcb;

static void pcap_cb(u_char *u, const struct pcap_pkthdr *h, const u_char *d)
{
    pcb *x = (pcb *)u;
    /* nanosecond precision was asked for: tv_usec holds nanoseconds */
    int64_t ts = 0;      /* a pcapng time past year 2255 or before 1970: unknown */
    if (h->ts.tv_sec >= 0 && h->ts.tv_sec < 9000000000ll && h->ts.tv_usec >= 0)
        ts = (int64_t)h->ts.tv_sec * 1000000000ll + (h->ts.tv_usec % 1000000000);
    x->fn(x->ud, x->c->linktype, ts, d, h->caplen, h->len);
}

static int next_pcap(mm_net_capture *c, int max, int timeout_ms, mm_net_pkt_fn fn, void *ud)
{
    pcb x = {c, fn, ud};
    if (!c->offline && timeout_ms) {
        struct pollfd pf = {.fd = c->fd, .events = POLLIN};
        poll(&pf, 1, timeout_ms);
    }
    int r = pcap_dispatch(c->p, max > 0 ? max : -1, pcap_cb, (u_char *)&x);
    if (r == PCAP_ERROR)
        return mm_error_set(c->offline ? MM_EFORMAT : MM_EIO, "%s: %s", c->label, pcap_geterr(c->p));
    if (r == 0 && c->offline)
        return MM_ENOTFOUND;
    if (r > 0)
        c->st.received += (uint64_t)r;
    return r < 0 ? 0 : r;
}

/* ---- the interface ------------------------------------------------------------------- */

int mm_net_capture_open(mm_net_capture **out, const mm_net_capture_opts *o)
{
    *out = NULL;
    mm_net_capture *c = mm_xcalloc(1, sizeof *c);
    c->fd = -1;
    c->ffd = -1;
    int rc = 0;
    if (o->file) {
        c->label = mm_xstrdup(o->file);
        bool handled;
        rc = open_mmap(c, o->file, &handled);
        if (!rc && (!handled || o->engine == MM_NET_ENGINE_PCAP || (o->filter && *o->filter))) {
            if (handled)
                close_mmap(c);
            rc = open_pcap_file(c, o->file);
            if (!rc)
                rc = set_pcap_filter(c, o->filter);
        }
        if (!rc && c->kind == K_MMAP)
            mapper_start(c);
    } else {
        c->label = mm_xasprintf("%s%s%s", o->netns ? o->netns : "",
                                o->netns ? ":" : "", o->iface && *o->iface ? o->iface : "any");
        int back;
        rc = ns_enter(o->netns, &back);
        if (!rc) {
            if (o->engine == MM_NET_ENGINE_PCAP) {
                rc = open_pcap_live(c, o);
                if (!rc)
                    rc = set_pcap_filter(c, o->filter);
            } else
                rc = open_ring(c, o);
            ns_leave(back);
        }
    }
    if (rc) {
        mm_net_capture_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

void mm_net_capture_free(mm_net_capture *c)
{
    if (!c)
        return;
    close_mmap(c);
    if (c->p)
        pcap_close(c->p);
    if (c->ring)
        munmap(c->ring, c->ringlen);
    if (c->kind != K_PCAP && c->fd >= 0)
        close(c->fd);
    free(c->label);
    free(c);
}

int mm_net_capture_linktype(const mm_net_capture *c) { return c->linktype; }
int mm_net_capture_fd(const mm_net_capture *c) { return c->kind == K_MMAP || c->offline ? -1 : c->fd; }
const char *mm_net_capture_label(const mm_net_capture *c) { return c->label; }

int mm_net_capture_next(mm_net_capture *c, int max, int timeout_ms, mm_net_pkt_fn fn, void *ud)
{
    switch (c->kind) {
    case K_MMAP: return next_mmap(c, max, fn, ud);
    case K_RING: return next_ring(c, max, timeout_ms, fn, ud);
    default: return next_pcap(c, max, timeout_ms, fn, ud);
    }
}

/* mm_net_capture_feed: the packets of one source go straight into the
 * engine (a file read is one loop with a direct call per packet, no
 * callback of the caller's in between) */
typedef struct feed_to {
    mm_net *n;
    uint32_t source;
} feed_to;

static void feed_one(void *ud, int linktype, int64_t ts, const uint8_t *d, size_t cap,
                     size_t wire)
{
    const feed_to *t = ud;
    mm_net_feed(t->n, t->source, linktype, ts, d, cap, wire);
}

int mm_net_capture_feed(mm_net_capture *c, int max, int timeout_ms, mm_net *n, uint32_t source)
{
    feed_to t = {n, source};
    if (c->kind == K_MMAP)
        return next_mmap(c, max, feed_one, &t);
    return mm_net_capture_next(c, max, timeout_ms, feed_one, &t);
}

void mm_net_capture_stats_get(mm_net_capture *c, mm_net_capture_stats *out)
{
    if (c->kind == K_RING) {
        struct tpacket_stats_v3 s;
        socklen_t l = sizeof s;
        if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &s, &l) == 0)
            c->st.dropped += s.tp_drops;     /* the kernel resets them on read */
    } else if (c->kind == K_PCAP && !c->offline) {
        struct pcap_stat s;
        if (pcap_stats(c->p, &s) == 0) {
            c->st.dropped = s.ps_drop;
            c->st.if_dropped = s.ps_ifdrop;
        }
    }
    *out = c->st;
}
