/*
 * test_httpd_stream.c - streaming responses of lib/httpd (server-sent
 * events) over a real socket: pieces arrive as the producer makes them
 * (a suspended stream resumed by mm_httpd_stream_wake), the response ends
 * when the producer says so, heartbeats after silence, the cap on streams
 * (503), a client that goes away and a server that stops both end the
 * stream and free the producer's state exactly once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mmtest.h"
#include "mamori/httpd.h"
#include "util/util.h"

typedef struct prod {
    int step;          /* what the producer sends next */
    int *go;           /* the test lets the second piece out */
    int *freed;
    bool never;        /* never has data */
} prod;

static char *produce(void *ud, size_t *len)
{
    prod *p = ud;
    *len = 0;
    if (p->never)
        return NULL;
    if (p->step == 0) {
        p->step = 1;
        *len = 8;
        return mm_xstrdup("data: a\n");
    }
    if (p->step == 1) {
        if (!__atomic_load_n(p->go, __ATOMIC_SEQ_CST))
            return NULL;
        p->step = 2;
        *len = 8;
        return mm_xstrdup("data: b\n");
    }
    *len = MM_HTTP_STREAM_END;
    return NULL;
}

static void prod_free(void *ud)
{
    prod *p = ud;
    __atomic_add_fetch(p->freed, 1, __ATOMIC_SEQ_CST);
    free(p);
}

typedef struct tctx {
    int go, freed;
    bool never;
} tctx;

static void handler(void *ctx, const mm_http_req *rq, mm_http_resp *resp)
{
    tctx *t = ctx;
    if (strcmp(rq->path, "/plain") == 0) {
        mm_http_resp_text(resp, 200, "text/plain", "ok", 2);
        return;
    }
    prod *p = mm_xcalloc(1, sizeof *p);
    p->go = &t->go;
    p->freed = &t->freed;
    p->never = t->never;
    mm_http_resp_stream(resp, "text/event-stream", produce, p, prod_free);
    mm_http_resp_header(resp, "X-Stream", "1");
}

static int open_get(uint16_t port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    char rq[256];
    int n = snprintf(rq, sizeof rq, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    if (write(fd, rq, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    return fd;
}

/* reads into b until it holds want (true) or secs pass or EOF (false) */
static bool read_until(int fd, mm_buf *b, const char *want, double secs, bool *eof)
{
    double end = mm_now() + secs;
    *eof = false;
    for (;;) {
        mm_buf_addc(b, 0);
        b->len--;
        if (b->data && strstr(b->data, want))
            return true;
        double left = end - mm_now();
        if (left <= 0)
            return false;
        struct pollfd pf = {fd, POLLIN, 0};
        if (poll(&pf, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        char tmp[4096];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n <= 0) {
            *eof = true;
            return false;
        }
        mm_buf_add(b, tmp, (size_t)n);
    }
}

static mm_httpd *start(tctx *t, unsigned max_streams, unsigned hb)
{
    mm_httpd_opts o;
    mm_httpd_opts_init(&o);
    o.listen = "127.0.0.1:0";
    o.plain = true;
    o.threads = 2;
    o.handler = handler;
    o.ctx = t;
    o.max_streams = max_streams;
    o.heartbeat_s = hb;
    mm_httpd *h = NULL;
    if (mm_httpd_start(&h, &o) != 0)
        return NULL;
    return h;
}

static bool wait_freed(tctx *t, int n, double secs)
{
    double end = mm_now() + secs;
    while (mm_now() < end) {
        if (__atomic_load_n(&t->freed, __ATOMIC_SEQ_CST) >= n)
            return true;
        usleep(10000);
    }
    return false;
}

MM_TEST(pieces_then_end)
{
    tctx t = {0};
    mm_httpd *h = start(&t, 0, 0);
    REQUIRE(h);
    int fd = open_get(mm_httpd_port(h), "/s");
    REQUIRE(fd >= 0);
    mm_buf b = MM_BUF_INIT;
    bool eof;
    CHECK(read_until(fd, &b, "data: a\n", 10, &eof));
    CHECK(strstr(b.data, "HTTP/1.1 200") == b.data);
    CHECK(strcasestr(b.data, "content-type: text/event-stream") != NULL);
    CHECK(strcasestr(b.data, "x-stream: 1") != NULL);
    CHECK(strcasestr(b.data, "transfer-encoding: chunked") != NULL);
    CHECK(strstr(b.data, "data: b") == NULL);
    CHECK_INT(mm_httpd_streams(h), 1);
    /* the producer has nothing: the stream waits suspended; the pool still answers */
    int fd2 = open_get(mm_httpd_port(h), "/plain");
    mm_buf b2 = MM_BUF_INIT;
    CHECK(read_until(fd2, &b2, "\r\n\r\nok", 10, &eof));
    close(fd2);
    mm_buf_free(&b2);
    __atomic_store_n(&t.go, 1, __ATOMIC_SEQ_CST);
    mm_httpd_stream_wake(h);
    CHECK(read_until(fd, &b, "data: b\n", 10, &eof));
    CHECK(read_until(fd, &b, "\r\n0\r\n\r\n", 10, &eof));   /* the last chunk */
    CHECK(wait_freed(&t, 1, 10));
    CHECK_INT(mm_httpd_streams(h), 0);
    close(fd);
    mm_buf_free(&b);
    mm_httpd_stop(h);
    CHECK_INT(t.freed, 1);
}

MM_TEST(heartbeat_and_client_gone)
{
    tctx t = {.never = true};
    mm_httpd *h = start(&t, 0, 1);
    REQUIRE(h);
    int fd = open_get(mm_httpd_port(h), "/s");
    REQUIRE(fd >= 0);
    mm_buf b = MM_BUF_INIT;
    bool eof;
    CHECK(read_until(fd, &b, "\r\n\r\n", 10, &eof));
    size_t at = b.len;
    CHECK(read_until(fd, &b, ":\n\n", 10, &eof));   /* a heartbeat after 1 s */
    CHECK(b.len > at);
    CHECK_INT(t.freed, 0);
    close(fd);   /* the client goes away: noticed at a heartbeat */
    CHECK(wait_freed(&t, 1, 15));
    CHECK_INT(mm_httpd_streams(h), 0);
    mm_buf_free(&b);
    mm_httpd_stop(h);
    CHECK_INT(t.freed, 1);
}

MM_TEST(cap_and_stop)
{
    tctx t = {.never = true};
    mm_httpd *h = start(&t, 1, 0);
    REQUIRE(h);
    int fd = open_get(mm_httpd_port(h), "/s");
    mm_buf b = MM_BUF_INIT;
    bool eof;
    CHECK(read_until(fd, &b, "\r\n\r\n", 10, &eof));
    CHECK(strstr(b.data, "HTTP/1.1 200") == b.data);
    int fd2 = open_get(mm_httpd_port(h), "/s");
    mm_buf b2 = MM_BUF_INIT;
    CHECK(read_until(fd2, &b2, "too many streams", 10, &eof));
    CHECK(b2.data && strstr(b2.data, "HTTP/1.1 503") == b2.data);
    CHECK(strcasestr(b2.data, "retry-after: 5") != NULL);
    CHECK_INT(t.freed, 1);   /* the refused one's state */
    close(fd2);
    /* stopping ends the open stream (never left suspended) and frees it */
    mm_httpd_stop(h);
    CHECK_INT(t.freed, 2);
    CHECK(!read_until(fd, &b, "never", 5, &eof) && eof);
    close(fd);
    mm_buf_free(&b);
    mm_buf_free(&b2);
}

MM_TEST(cleared_unsent)
{
    /* a stream response a handler drops (called directly) frees its state */
    int freed = 0, go = 0;
    prod *p = mm_xcalloc(1, sizeof *p);
    p->freed = &freed;
    p->go = &go;
    mm_http_resp r = {0};
    mm_http_resp_stream(&r, "text/event-stream", produce, p, prod_free);
    CHECK_INT(r.status, 200);
    mm_http_resp_clear(&r);
    CHECK_INT(freed, 1);
    CHECK(r.stream_free_ == NULL);
}

MM_TEST_MAIN
