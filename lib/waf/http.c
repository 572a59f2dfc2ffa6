/*
 * http.c - HTTP/1.x requests out of a reassembled client byte stream, for
 * the WAF's detect mode: request line, headers, and a body by
 * Content-Length or chunked transfer coding, one request after another
 * (keep-alive, pipelining).  The stream is untrusted: the head is capped at
 * 64 KiB and 100 headers, a body is kept up to max_body and the rest
 * skipped, a chunk-size line at 1 KiB; anything that does not look like
 * HTTP/1 ends the parse for that stream.  After lost bytes (a capture gap)
 * the parser waits for the next line that starts a request.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/waf.h"
#include "util/util.h"

#define HEAD_MAX 65536
#define HDR_MAX 100

enum { S_HEAD, S_BODY, S_CHUNK_SIZE, S_CHUNK_DATA, S_CHUNK_CRLF, S_TRAILER };

struct mm_waf_http {
    size_t max_body;
    mm_buf in;
    int state;
    bool dead, resync;
    char *head;                  /* the head, split in place */
    char *method, *uri, *version;
    mm_waf_header hdr[HDR_MAX];
    size_t nh;
    uint64_t remain;
    mm_buf body;
};

mm_waf_http *mm_waf_http_new(size_t max_body)
{
    mm_waf_http *h = mm_xcalloc(1, sizeof *h);
    h->max_body = max_body ? max_body : (1u << 20);
    return h;
}

static void reset_req(mm_waf_http *h)
{
    free(h->head);
    h->head = NULL;
    h->nh = 0;
    h->remain = 0;
    mm_buf_clear(&h->body);
    h->state = S_HEAD;
}

void mm_waf_http_free(mm_waf_http *h)
{
    if (!h)
        return;
    reset_req(h);
    mm_buf_free(&h->in);
    mm_buf_free(&h->body);
    free(h);
}

static void consume(mm_waf_http *h, size_t n)
{
    memmove(h->in.data, h->in.data + n, h->in.len - n);
    h->in.len -= n;
    h->in.data[h->in.len] = 0;
}

static bool method_ok(const char *s, size_t n)
{
    if (n == 0 || n > 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] >= 'A' && s[i] <= 'Z') && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

/* Does a request line start at p (METHOD SP)? */
static bool looks_like_start(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i <= 16 && p[i] >= 'A' && p[i] <= 'Z')
        i++;
    return i > 0 && i < n && p[i] == ' ' && i <= 16;
}

/* Splits the head (in place); false when it is not HTTP/1. */
static bool parse_head(mm_waf_http *h, char *head)
{
    char *eol = strchr(head, '\n');
    if (!eol)
        return false;
    *eol = 0;
    if (eol > head && eol[-1] == '\r')
        eol[-1] = 0;
    char *sp1 = strchr(head, ' ');
    if (!sp1 || !method_ok(head, (size_t)(sp1 - head)))
        return false;
    *sp1 = 0;
    char *target = sp1 + 1;
    char *sp2 = strrchr(target, ' ');
    if (!sp2 || sp2 == target || strncmp(sp2 + 1, "HTTP/1.", 7) || !sp2[8] || sp2[9])
        return false;
    *sp2 = 0;
    for (char *c = target; *c; c++)
        if ((unsigned char)*c <= ' ' || *c == 0x7f)
            return false;
    h->method = head;
    h->uri = target;
    h->version = sp2 + 6;                       /* "1.1" */
    h->nh = 0;
    char *line = eol + 1;
    while (*line) {
        char *e = strchr(line, '\n');
        if (e) {
            *e = 0;
            if (e > line && e[-1] == '\r')
                e[-1] = 0;
        }
        if (*line == ' ' || *line == '\t') {   /* obsolete folding: ignored */
            line = e ? e + 1 : line + strlen(line);
            continue;
        }
        char *colon = strchr(line, ':');
        if (*line && (!colon || colon == line))
            return false;
        if (*line && h->nh < HDR_MAX) {
            *colon = 0;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                v[--vl] = 0;
            h->hdr[h->nh].name = line;
            h->hdr[h->nh].value = v;
            h->nh++;
        }
        if (!e)
            break;
        line = e + 1;
    }
    return true;
}

static const char *hdr(const mm_waf_http *h, const char *name)
{
    for (size_t i = 0; i < h->nh; i++)
        if (!strcasecmp(h->hdr[i].name, name))
            return h->hdr[i].value;
    return NULL;
}

static void emit(mm_waf_http *h, mm_waf_http_fn fn, void *ud, int *count)
{
    mm_waf_request r = {.method = h->method, .uri = h->uri, .version = h->version,
                        .headers = h->hdr, .nheaders = h->nh,
                        .body = (const uint8_t *)h->body.data, .body_len = h->body.len};
    if (fn)
        fn(ud, &r);
    (*count)++;
    reset_req(h);
}

static void take_body(mm_waf_http *h, size_t n)
{
    size_t keep = h->body.len < h->max_body ? h->max_body - h->body.len : 0;
    mm_buf_add(&h->body, h->in.data, n < keep ? n : keep);
    consume(h, n);
}

int mm_waf_http_feed(mm_waf_http *h, const uint8_t *data, size_t len, size_t gap,
                     mm_waf_http_fn fn, void *ud)
{
    int count = 0;
    if (h->dead)
        return -1;
    if (gap) {
        reset_req(h);
        mm_buf_clear(&h->in);
        h->resync = true;
    }
    mm_buf_add(&h->in, data, len);
    for (;;) {
        if (h->resync) {
            /* the next line that starts a request */
            const char *p = h->in.data;
            size_t n = h->in.len, at = (size_t)-1;
            for (size_t i = 0; i < n; i++)
                if ((i == 0 || p[i - 1] == '\n') && looks_like_start(p + i, n - i)) {
                    at = i;
                    break;
                }
            if (at == (size_t)-1) {
                const char *nl = h->in.len ? memrchr(p, '\n', n) : NULL;
                consume(h, nl ? (size_t)(nl - p) + 1 : (n > 32 ? n - 32 : 0));
                return count;
            }
            consume(h, at);
            h->resync = false;
        }
        switch (h->state) {
        case S_HEAD: {
            if (!h->in.len)
                return count;
            char *p = h->in.data, *end = NULL;
            for (size_t i = 0; i + 1 < h->in.len; i++) {
                if (p[i] == '\n' && (p[i + 1] == '\n' ||
                                     (p[i + 1] == '\r' && i + 2 < h->in.len && p[i + 2] == '\n'))) {
                    end = p + i + (p[i + 1] == '\n' ? 2 : 3);
                    break;
                }
            }
            if (!end) {
                /* what is there must be a method so far: else not HTTP */
                size_t sp = 0;
                while (sp < h->in.len && h->in.data[sp] != ' ')
                    sp++;
                if (!method_ok(h->in.data, sp < h->in.len ? sp : h->in.len) ||
                    (sp == h->in.len && sp > 16) || h->in.len > HEAD_MAX) {
                    h->dead = true;
                    return count ? count : -1;
                }
                return count;
            }
            size_t hl = (size_t)(end - p);
            if (hl > HEAD_MAX) {
                h->dead = true;
                return count ? count : -1;
            }
            h->head = mm_xstrndup(p, hl);
            consume(h, hl);
            if (!parse_head(h, h->head)) {
                h->dead = true;
                return count ? count : -1;
            }
            const char *te = hdr(h, "Transfer-Encoding"), *cl = hdr(h, "Content-Length");
            if (te && strcasestr(te, "chunked")) {
                h->state = S_CHUNK_SIZE;
            } else if (cl) {
                char *e;
                if (*cl < '0' || *cl > '9') {
                    h->dead = true;
                    return count ? count : -1;
                }
                unsigned long long v = strtoull(cl, &e, 10);
                if (*e) {
                    h->dead = true;
                    return count ? count : -1;
                }
                h->remain = v;
                h->state = S_BODY;
                if (!v)
                    emit(h, fn, ud, &count);
            } else {
                emit(h, fn, ud, &count);
            }
            break;
        }
        case S_BODY:
        case S_CHUNK_DATA: {
            size_t n = h->in.len < h->remain ? h->in.len : (size_t)h->remain;
            take_body(h, n);
            h->remain -= n;
            if (h->remain)
                return count;
            if (h->state == S_BODY)
                emit(h, fn, ud, &count);
            else
                h->state = S_CHUNK_CRLF;
            break;
        }
        case S_CHUNK_CRLF:
            if (h->in.len < 1 || (h->in.data[0] == '\r' && h->in.len < 2))
                return count;
            consume(h, h->in.data[0] == '\r' ? 2 : 1);
            h->state = S_CHUNK_SIZE;
            break;
        case S_CHUNK_SIZE:
        case S_TRAILER: {
            char *nl = memchr(h->in.data, '\n', h->in.len);
            if (!nl) {
                if (h->in.len > 1024) {
                    h->dead = true;
                    return count ? count : -1;
                }
                return count;
            }
            size_t ll = (size_t)(nl - h->in.data) + 1;
            if (h->state == S_TRAILER) {
                bool empty = ll == 1 || (ll == 2 && h->in.data[0] == '\r');
                consume(h, ll);
                if (empty)
                    emit(h, fn, ud, &count);
                break;
            }
            if (!isxdigit((unsigned char)h->in.data[0])) {
                h->dead = true;
                return count ? count : -1;
            }
            char *e;
            unsigned long long v = strtoull(h->in.data, &e, 16);
            consume(h, ll);
            if (v > (1ull << 40)) {
                h->dead = true;
                return count ? count : -1;
            }
            if (v == 0) {
                h->state = S_TRAILER;
            } else {
                h->remain = v;
                h->state = S_CHUNK_DATA;
            }
            break;
        }
        }
    }
}
