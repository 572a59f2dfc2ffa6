/*
 * test_util.c - the helpers of lib/util: path normalisation of hostile
 * names, the hash map under growth and deletion, buffers, line iteration,
 * digests.
 */
#include "mmtest.h"
#include "util/util.h"

MM_TEST(path_normalize)
{
    bool esc;
    char *p = mm_path_normalize("./usr//bin/./ls", &esc);
    CHECK_STR(p, "usr/bin/ls");
    CHECK(!esc);
    free(p);
    p = mm_path_normalize("../../etc/passwd", &esc);
    CHECK_STR(p, "etc/passwd");
    CHECK(esc);
    free(p);
    p = mm_path_normalize("/abs/x/../y", &esc);
    CHECK_STR(p, "abs/y");
    CHECK(!esc);
    free(p);
    CHECK(mm_path_normalize("./", &esc) == NULL);
    p = mm_path_join_norm("usr/lib", "../../../etc/os-release", &esc);
    CHECK_STR(p, "etc/os-release");
    CHECK(esc);
    free(p);
    p = mm_path_join_norm("etc", "/usr/lib/os-release", &esc);
    CHECK_STR(p, "usr/lib/os-release");
    free(p);
    CHECK_STR(mm_path_base("a/b/c"), "c");
    CHECK_INT(mm_path_dirlen("a/b/c"), 3);
    CHECK_INT(mm_path_dirlen("c"), 0);
}

MM_TEST(map_grow_delete)
{
    mm_map *m = mm_map_new();
    char key[32];
    for (long i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        CHECK(mm_map_put(m, key, (void *)(i + 1)) == NULL);
    }
    CHECK_INT(mm_map_count(m), 20000);
    for (long i = 0; i < 20000; i += 2) {
        snprintf(key, sizeof key, "k%ld", i);
        CHECK(mm_map_del(m, key) == (void *)(i + 1));
    }
    CHECK_INT(mm_map_count(m), 10000);
    int bad = 0;
    for (long i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%ld", i);
        void *v = mm_map_get(m, key);
        if ((i % 2 == 0 && v) || (i % 2 == 1 && v != (void *)(i + 1)))
            bad++;
    }
    CHECK_INT(bad, 0);
    size_t it = 0, n = 0;
    const char *k;
    while (mm_map_next(m, &it, &k, NULL))
        n++;
    CHECK_INT(n, 10000);
    CHECK(mm_map_getn(m, "k1xyz", 2) == (void *)2);
    mm_map_free(m, NULL);
}

MM_TEST(buf_and_lines)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b, "%s-%d", "x", 42);
    mm_buf_adds(&b, "\r\nsecond\n\nlast");
    CHECK_STR(b.data, "x-42\r\nsecond\n\nlast");
    mm_lines it;
    const char *l;
    size_t n;
    mm_lines_init(&it, b.data, b.len);
    CHECK(mm_lines_next(&it, &l, &n) && n == 4 && !strncmp(l, "x-42", 4));
    CHECK(mm_lines_next(&it, &l, &n) && n == 6);
    CHECK(mm_lines_next(&it, &l, &n) && n == 0);
    CHECK(mm_lines_next(&it, &l, &n) && n == 4 && it.lineno == 4);
    CHECK(!mm_lines_next(&it, &l, &n));
    char **v = NULL;
    size_t nv = 0;
    for (int i = 0; i < 100; i++)
        mm_strv_push(&v, &nv, "s");
    CHECK_INT(nv, 100);
    mm_strv_free(v, nv);
    mm_buf_free(&b);
}

MM_TEST(sha256)
{
    char d[72];
    mm_sha256_hex("abc", 3, d);
    CHECK_STR(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(mm_digest_valid(d));
    CHECK(!mm_digest_valid("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    CHECK(!mm_digest_valid("sha512:ba"));
}

MM_TEST(str_printable)
{
    /* newline, tab, ESC, DEL and a UTF-8 C1 (CSI, c2 9b) become '?';
     * other UTF-8 (é, c3 a9; NBSP, c2 a0) is kept byte for byte */
    char *p = mm_str_printable("sh -c 'a\nb'\t\033[31mred\x7f\xc2\x9b" "2J \xc3\xa9\xc2\xa0");
    CHECK_STR(p, "sh -c 'a?b'??[31mred??2J \xc3\xa9\xc2\xa0");
    free(p);
    CHECK(mm_str_printable(NULL) == NULL);
    p = mm_str_printable("\xc2");   /* a lone lead byte at the end is left */
    CHECK_STR(p, "\xc2");
    free(p);
}

MM_TEST_MAIN
