/*
 * test_util.c - the helpers of lib/util: path normalisation of hostile
 * names, the hash map under growth and deletion, buffers, line iteration,
 * digests, the libcurl transport against a local server.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "mmtest.h"
#include "util/http.h"
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

/* --- the transport (util/http.h) against a one-connection local server --- */
struct mini_srv {
    int fd;
    const char *reply;   /* the whole HTTP response */
    char req[4096];
};

static void *mini_serve(void *ud)
{
    struct mini_srv *m = ud;
    int c = accept(m->fd, NULL, NULL);
    if (c < 0)
        return NULL;
    size_t n = 0;
    ssize_t r;
    /* headers, then whatever body is already there */
    while (n < sizeof m->req - 1 && (r = read(c, m->req + n, sizeof m->req - 1 - n)) > 0) {
        n += (size_t)r;
        m->req[n] = 0;
        char *eoh = strstr(m->req, "\r\n\r\n");
        const char *cl = strcasestr(m->req, "Content-Length:");
        if (eoh && (!cl || n >= (size_t)(eoh + 4 - m->req) + (size_t)atoi(cl + 15)))
            break;
    }
    if (write(c, m->reply, strlen(m->reply)) < 0)
        m->req[0] = 0;
    close(c);
    return NULL;
}

static int mini_start(struct mini_srv *m, pthread_t *th, const char *reply)
{
    memset(m, 0, sizeof *m);
    m->reply = reply;
    m->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (m->fd < 0 || bind(m->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(m->fd, 1) < 0 ||
        getsockname(m->fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    pthread_create(th, NULL, mini_serve, m);
    return ntohs(a.sin_port);
}

static void mini_stop(struct mini_srv *m, pthread_t th)
{
    shutdown(m->fd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(m->fd);
}

MM_TEST(http_schemes)
{
    CHECK_OK(mm_http_check_url("x", "http://h/p"));
    CHECK_OK(mm_http_check_url("x", "HTTPS://h/p"));
    CHECK_INT(mm_http_check_url("alert output", "ftp://h/p"), MM_EINVAL);
    CHECK(strstr(mm_error_last(), "alert output: ftp://h/p: only http and https"));
    CHECK_INT(mm_http_check_url("x", "file:///etc/passwd"), MM_EINVAL);
    CHECK_INT(mm_http_check_url("x", "gopher://h/"), MM_EINVAL);
    CHECK_INT(mm_http_check_url("x", NULL), MM_EINVAL);
    mm_http *h = NULL;
    CHECK_OK(mm_http_new(&h, NULL));
    long st = -1;
    CHECK_INT(mm_http_send(h, "GET", "file:///etc/passwd", NULL, NULL, 0, &st, NULL), MM_EINVAL);
    CHECK_INT(st, 0);
    mm_http_free(h);
    mm_http_free(NULL);
}

MM_TEST(http_post_and_cap)
{
    static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
    struct mini_srv m;
    pthread_t th;
    int port = mini_start(&m, &th, ok);
    REQUIRE(port > 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/in", port);
    mm_http_opts o = {.total_timeout_s = 10, .max_body = 64};
    mm_http *h = NULL;
    CHECK_OK(mm_http_new(&h, &o));
    mm_buf b = MM_BUF_INIT;
    long st = 0;
    CHECK_OK(mm_http_send(h, "POST", url, "application/json", "{\"a\":1}", 7, &st, &b));
    mini_stop(&m, th);
    CHECK_INT(st, 200);
    CHECK_STR(b.data, "hello");
    CHECK(!strncmp(m.req, "POST /in HTTP/1.1\r\n", 19));
    CHECK(strstr(m.req, "Content-Type: application/json\r\n"));
    CHECK(strstr(m.req, "\r\n\r\n{\"a\":1}"));
    mm_buf_free(&b);
    mm_http_free(h);

    /* a body over the cap: MM_ELIMIT, announced or not */
    static const char big[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
                              "0123456789012345678901234567890123456789";
    port = mini_start(&m, &th, big);
    REQUIRE(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/big", port);
    o.max_body = 16;
    CHECK_OK(mm_http_new(&h, &o));
    CHECK_INT(mm_http_send(h, "GET", url, NULL, NULL, 0, &st, &b), MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "larger than 16 bytes"));
    mini_stop(&m, th);
    mm_buf_free(&b);
    mm_http_free(h);

    /* a redirect to another scheme is not followed */
    static const char redir[] = "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1/x\r\n"
                                "Content-Length: 0\r\nConnection: close\r\n\r\n";
    port = mini_start(&m, &th, redir);
    REQUIRE(port > 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/r", port);
    o.follow = true;
    CHECK_OK(mm_http_new(&h, &o));
    CHECK_INT(mm_http_send(h, "GET", url, NULL, NULL, 0, &st, NULL), MM_ENET);
    mini_stop(&m, th);
    mm_http_free(h);
}

MM_TEST_MAIN
