/*
 * test_layerrec.c - the layer record of the scan workers (issue 19,
 * lib/image/layerrec.c): written and read back entry by entry and piece by
 * piece, compressed and not; every truncation refused whole before an
 * entry is given; a compressed record lying about its size refused; the
 * reader's refusal to invent content the analyzers were not given (a file
 * recorded as not fed, or read past where the analyzers stopped).
 */
#include "mmtest.h"
#include "image/image_int.h"
#include "util/util.h"

static void entry(mm_buf *b, const char *path, mm_entry_type type, uint64_t size,
                  const char *link)
{
    mm_entry e = {0};
    e.path = path;
    e.type = type;
    e.mode = 0644;
    e.uid = 1;
    e.gid = 2;
    e.size = size;
    e.mtime = 1700000000;
    e.link = link;
    mm_lrec_entry(b, &e);
}

/* three entries: a file read whole, a file the analyzers stopped reading,
 * a symlink nobody asked for */
static void sample(mm_buf *b)
{
    mm_lrec_start(b);
    entry(b, "etc/os-release", MM_ENT_REG, 11, NULL);
    mm_lrec_fed(b, true);
    mm_lrec_piece(b, "ID=alpine\n", 10);
    mm_lrec_piece(b, "x", 1);
    mm_lrec_end_content(b, false);
    entry(b, "usr/bin/big", MM_ENT_REG, 1 << 20, NULL);
    mm_lrec_fed(b, true);
    mm_lrec_piece(b, "\x7f" "ELF", 4);
    mm_lrec_end_content(b, true);
    entry(b, "bin/sh", MM_ENT_SYMLINK, 0, "busybox");
    mm_lrec_fed(b, false);
}

/* the record without compression: finish's header and end mark by hand */
static void raw_finish(mm_buf *b, uint64_t entries)
{
    mm_buf_addc(b, 'Z');
    for (int i = 0; i < 8; i++)
        b->data[6 + 16 + i] = (char)(uint8_t)(entries >> (8 * i));
}

static void read_all(mm_lrec *c)
{
    const void *p;
    size_t n;
    REQUIRE(mm_lrec_next(c) == 1);
    CHECK_STR(c->e.path, "etc/os-release");
    CHECK_INT(c->e.size, 11);
    CHECK_INT(c->e.uid, 1);
    CHECK_INT(c->e.mtime, 1700000000);
    CHECK_INT(mm_lrec_read(c, &p, &n), 1);
    CHECK_INT(n, 10);
    CHECK(memcmp(p, "ID=alpine\n", 10) == 0);
    CHECK_INT(mm_lrec_read(c, &p, &n), 1);
    CHECK_INT(n, 1);
    CHECK_INT(mm_lrec_read(c, &p, &n), 0);      /* the file ended */
    REQUIRE(mm_lrec_next(c) == 1);
    CHECK_STR(c->e.path, "usr/bin/big");
    CHECK_INT(mm_lrec_read(c, &p, &n), 1);
    CHECK_INT(n, 4);
    /* the analyzers stopped here when it was recorded: no more to give */
    CHECK(mm_lrec_read(c, &p, &n) == MM_EFORMAT);
    REQUIRE(mm_lrec_next(c) == 1);
    CHECK_STR(c->e.path, "bin/sh");
    CHECK_STR(c->e.link, "busybox");
    CHECK(c->e.type == MM_ENT_SYMLINK);
    CHECK(mm_lrec_read(c, &p, &n) == MM_EFORMAT); /* not fed */
    CHECK_INT(mm_lrec_next(c), 0);
}

MM_TEST(round_trip_compressed)
{
    mm_buf b = MM_BUF_INIT;
    sample(&b);
    CHECK_OK(mm_lrec_finish(&b, 123, 456, 4));
    CHECK(memcmp(b.data, "MMLZ1\n", 6) == 0);
    mm_lrec c;
    REQUIRE(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == 0);
    CHECK_INT(c.blob_size, 123);
    CHECK_INT(c.uncompressed, 456);
    CHECK_INT(c.entries, 4);      /* the root folder is counted, not recorded */
    read_all(&c);
    mm_lrec_close(&c);
    /* every truncation of the compressed record is refused */
    for (size_t k = 0; k < b.len; k++) {
        CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, k) < 0);
        mm_lrec_close(&c);
    }
    /* a size that is not the frame's */
    b.data[8] ^= 1;
    CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == MM_EFORMAT);
    b.data[8] ^= 1;
    b.data[13] = 0x7f;     /* more than 1 GiB */
    CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == MM_EFORMAT);
    mm_buf_free(&b);
}

MM_TEST(raw_records_checked_whole)
{
    mm_buf b = MM_BUF_INIT;
    sample(&b);
    raw_finish(&b, 3);
    mm_lrec c;
    REQUIRE(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == 0);
    read_all(&c);
    mm_lrec_close(&c);
    for (size_t k = 0; k < b.len; k++) {
        CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, k) == MM_EFORMAT);
        mm_lrec_close(&c);
    }
    /* trailing bytes, fewer counted entries than recorded, a bad type */
    mm_buf_addc(&b, 0);
    CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == MM_EFORMAT);
    b.len--;
    b.data[6 + 16] = 2;
    CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == MM_EFORMAT);
    b.data[6 + 16] = 3;
    b.data[6 + 24 + 1] = 9;   /* the first entry's type */
    CHECK(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == MM_EFORMAT);
    mm_buf_free(&b);
}

MM_TEST(unread_pieces_skipped)
{
    /* the analyzers of the replay stop earlier than recorded: the rest of
     * the file is skipped and the next entry comes whole */
    mm_buf b = MM_BUF_INIT;
    sample(&b);
    raw_finish(&b, 3);
    mm_lrec c;
    REQUIRE(mm_lrec_open(&c, (const uint8_t *)b.data, b.len) == 0);
    REQUIRE(mm_lrec_next(&c) == 1);
    const void *p;
    size_t n;
    CHECK_INT(mm_lrec_read(&c, &p, &n), 1);
    REQUIRE(mm_lrec_next(&c) == 1);
    CHECK_STR(c.e.path, "usr/bin/big");
    REQUIRE(mm_lrec_next(&c) == 1);       /* not read at all */
    CHECK_STR(c.e.path, "bin/sh");
    CHECK_INT(mm_lrec_next(&c), 0);
    mm_lrec_close(&c);
    mm_buf_free(&b);
}

MM_TEST(cap)
{
    mm_buf b;
    mm_buf_init(&b, 64);
    sample(&b);
    CHECK(mm_lrec_finish(&b, 1, 1, 3) == MM_ELIMIT);
    mm_buf_free(&b);
}

MM_TEST_MAIN
