/*
 * test_net_pcap.c - the mapped pcap reader of lib/net (capture.c) against
 * libpcap: the same records (time, captured length, wire length, bytes) on
 * every pcap in tests/fixtures/net and on files written here (each byte
 * order, micro- and nanoseconds, records longer than the snapshot length),
 * and errors that name the offset of a corrupt record.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/net.h"
#include "mmtest.h"

/* ---- the mapped pcap reader against libpcap ----------------------------------- */

typedef struct recs {
    size_t n;
    uint64_t sum;                /* every field and byte, in order */
    int64_t first_ts, last_ts;
} recs;

static void rec_cb(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cap, size_t wire)
{
    recs *r = ud;
    uint64_t h = r->sum ^ 0xcbf29ce484222325ull;
    uint64_t f[4] = {(uint64_t)lt, (uint64_t)ts, cap, wire};
    for (int i = 0; i < 4; i++)
        h = (h ^ f[i]) * 0x100000001b3ull;
    for (size_t i = 0; i < cap; i++)
        h = (h ^ d[i]) * 0x100000001b3ull;
    r->sum = h;
    if (!r->n++)
        r->first_ts = ts;
    r->last_ts = ts;
}

/* Reads path with the engine; *rc gets the last result (MM_ENOTFOUND at the end). */
static recs read_all(const char *path, mm_net_engine engine, int *rc)
{
    recs r = {0};
    mm_net_capture *cap;
    mm_net_capture_opts co = {.file = path, .engine = engine};
    *rc = mm_net_capture_open(&cap, &co);
    if (*rc)
        return r;
    while ((*rc = mm_net_capture_next(cap, 7, 0, rec_cb, &r)) > 0)
        ;
    mm_net_capture_free(cap);
    return r;
}

static void agree(const char *path)
{
    int rm, rp;
    recs m = read_all(path, MM_NET_ENGINE_AUTO, &rm);
    recs p = read_all(path, MM_NET_ENGINE_PCAP, &rp);
    if (rm != MM_ENOTFOUND || rp != MM_ENOTFOUND || m.n != p.n || m.sum != p.sum || !m.n) {
        fprintf(stderr, "%s: mapped %zu records (rc %d), libpcap %zu (rc %d), %s\n", path, m.n, rm,
                p.n, rp, m.sum == p.sum ? "same bytes" : "different bytes");
        mmt_failed_now = 1;
    }
}

MM_TEST(pcap_reader_agrees_with_libpcap)
{
    const char *dir = mmt_fixture("net");
    DIR *d = opendir(dir);
    REQUIRE(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".pcap"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        agree(path);
        files++;
    }
    closedir(d);
    CHECK(files >= 9);

    /* written here: each byte order, micro- and nanoseconds, a record cut
     * by the snap length (caplen < len) */
    static const uint32_t magics[] = {0xa1b2c3d4, 0xa1b23c4d};
    for (int swap = 0; swap < 2; swap++)
        for (int nano = 0; nano < 2; nano++) {
            char path[512];
            snprintf(path, sizeof path, "%s/o%d%d.pcap", mmt_tmpdir(), swap, nano);
            FILE *f = fopen(path, "wb");
            REQUIRE(f);
            uint32_t gh[6] = {magics[nano], 0x00040002, 0, 0, 64, 1};
            uint8_t frame[64];
            for (size_t i = 0; i < sizeof frame; i++)
                frame[i] = (uint8_t)(i * 7 + 1);
            memcpy(frame + 12, "\x08\x00", 2);
            for (int i = 0; i < 6; i++)
                gh[i] = swap ? __builtin_bswap32(gh[i]) : gh[i];
            if (swap)
                gh[1] = 0x04000200;      /* two 16-bit fields, each swapped */
            fwrite(gh, 4, 6, f);
            for (uint32_t k = 0; k < 5; k++) {
                uint32_t rh[4] = {1700000000 + k, nano ? 999999999 - k : 999999 - k, 60 - k, k == 4 ? 1500 : 60 - k};
                for (int i = 0; i < 4; i++)
                    rh[i] = swap ? __builtin_bswap32(rh[i]) : rh[i];
                fwrite(rh, 4, 4, f);
                fwrite(frame, 1, 60 - k, f);
            }
            fclose(f);
            agree(path);
            int rc;
            recs m = read_all(path, MM_NET_ENGINE_AUTO, &rc);
            CHECK_INT(m.n, 5);
            CHECK(m.first_ts == 1700000000ll * 1000000000ll + (nano ? 999999999 : 999999000));
        }

    /* records longer than the file's snapshot length: cut to it, as libpcap
     * does; a snapshot length of 0 means the largest */
    for (uint32_t snap = 0; snap <= 64; snap += 64) {
        char path[512];
        snprintf(path, sizeof path, "%s/snap%u.pcap", mmt_tmpdir(), snap);
        FILE *f = fopen(path, "wb");
        REQUIRE(f);
        uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, snap, 1};
        fwrite(gh, 4, 6, f);
        uint8_t frame[100] = {0};
        memcpy(frame + 12, "\x08\x00", 2);
        uint32_t rh[4] = {5, 6, 100, 100};
        fwrite(rh, 4, 4, f);
        fwrite(frame, 1, 100, f);
        fclose(f);
        agree(path);
    }
}

/* A file big enough for the housekeeper thread (capture.c, MAPPER_MIN):
 * the same records as libpcap, through mm_net_capture_feed into an engine
 * too, and a reader closed half way (the thread is stopped and joined). */
MM_TEST(pcap_reader_big_file_with_the_housekeeper)
{
    char path[512];
    snprintf(path, sizeof path, "%s/big.pcap", mmt_tmpdir());
    FILE *f = fopen(path, "wb");
    REQUIRE(f);
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    fwrite(gh, 4, 6, f);
    static uint8_t frame[1514];
    const uint32_t n = 52000;            /* 52000 x 1530 bytes: 76 MiB */
    for (uint32_t k = 0; k < n; k++) {
        /* Ethernet + IPv4 + UDP from one of 64 clients, a varying payload */
        memset(frame, 0, 42);
        memcpy(frame + 12, "\x08\x00\x45\x00\x05\xdc", 6);
        frame[23] = 17;
        memcpy(frame + 26, "\x0a\x00\x00", 3);
        frame[29] = (uint8_t)(k % 64 + 1);
        memcpy(frame + 30, "\x0a\x00\x01\x01", 4);
        frame[34] = 0x9c;
        frame[35] = (uint8_t)k;
        frame[37] = 99;
        frame[38] = 0x05;
        frame[39] = 0xc8;
        for (size_t i = 42; i < sizeof frame; i += 97)
            frame[i] = (uint8_t)(k + i);
        uint32_t rh[4] = {1700000000 + k / 1000, (k % 1000) * 1000, sizeof frame, sizeof frame};
        fwrite(rh, 4, 4, f);
        fwrite(frame, 1, sizeof frame, f);
    }
    REQUIRE(fclose(f) == 0);
    agree(path);
    int rc;
    recs m = read_all(path, MM_NET_ENGINE_AUTO, &rc);
    CHECK_INT(m.n, n);

    mm_net *eng;
    REQUIRE(mm_net_new(&eng, NULL) == 0);
    uint32_t src = mm_net_source_add(eng, path, 0, NULL);
    mm_net_capture *cap;
    mm_net_capture_opts co = {.file = path};
    REQUIRE(mm_net_capture_open(&cap, &co) == 0);
    uint64_t fed = 0;
    int r;
    while ((r = mm_net_capture_feed(cap, 4096, 0, eng, src)) > 0)
        fed += (uint64_t)r;
    CHECK_INT(r, MM_ENOTFOUND);
    CHECK_INT(fed, n);
    mm_net_capture_free(cap);
    mm_net_finish(eng);
    mm_net_stats st;
    mm_net_stats_get(eng, &st);
    CHECK_INT(st.packets, n);
    CHECK_INT(st.flows, 256);    /* k mod 256 picks both the client and the port */
    mm_net_free(eng);

    REQUIRE(mm_net_capture_open(&cap, &co) == 0);
    recs half = {0};
    while (half.n < n / 2 && mm_net_capture_next(cap, 1000, 0, rec_cb, &half) > 0)
        ;
    CHECK_INT(half.n, n / 2);
    mm_net_capture_free(cap);
}

MM_TEST(pcap_reader_errors_name_the_offset)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bad.pcap", mmt_tmpdir());
    uint32_t gh[6] = {0xa1b2c3d4, 0x00040002, 0, 0, 65535, 1};
    uint32_t ok[4] = {1, 0, 4, 4};
    struct { uint32_t rh[4]; size_t extra; const char *msg; } cases[] = {
        {{1, 0, 300000, 300000}, 0, "offset 44: bad record (length 300000"},
        {{1, 1000000, 4, 4}, 4, "offset 44: bad record (length 4, fraction 1000000)"},
        {{1, 0, 4, 4}, 0, "offset 44: record of 4 bytes runs past the end"},
        {{1, 0, 4, 4}, ~(size_t)0, "offset 44: truncated record header"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        FILE *f = fopen(path, "wb");
        REQUIRE(f);
        fwrite(gh, 4, 6, f);
        fwrite(ok, 4, 4, f);
        fwrite("abcd", 1, 4, f);
        if (cases[i].extra == ~(size_t)0)
            fwrite(cases[i].rh, 1, 9, f);
        else {
            fwrite(cases[i].rh, 4, 4, f);
            fwrite("wxyz", 1, cases[i].extra, f);
        }
        fclose(f);
        int rc;
        recs m = read_all(path, MM_NET_ENGINE_AUTO, &rc);
        CHECK_INT(m.n, 1);
        CHECK_INT(rc, MM_EFORMAT);
        if (!strstr(mm_error_last(), cases[i].msg) || !strstr(mm_error_last(), "bad.pcap")) {
            fprintf(stderr, "case %zu: %s\n", i, mm_error_last());
            mmt_failed_now = 1;
        }
    }
}

MM_TEST_MAIN
