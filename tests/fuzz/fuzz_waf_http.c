/*
 * fuzz_waf_http.c - libFuzzer target for the WAF's HTTP/1 request parser
 * (a reassembled client stream is untrusted): the input is cut into
 * pieces at offsets taken from its first bytes, some marked as following
 * lost bytes (a gap), and fed piece by piece; every request handed out
 * must have its method, target and headers in order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/waf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(void *ud, const mm_waf_request *r)
{
    size_t *n = ud;
    if (!r->method || !r->uri || !r->version || (r->nheaders && !r->headers) ||
        (r->body_len && !r->body))
        abort();
    for (size_t i = 0; i < r->nheaders; i++)
        if (!r->headers[i].name || !r->headers[i].value)
            abort();
    (*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > 1 << 20)
        return 0;
    uint8_t step = data[0] ? data[0] : 1, gaps = data[1], maxb = data[2];
    data += 3;
    size -= 3;
    mm_waf_http *h = mm_waf_http_new(maxb ? maxb : 1);
    size_t n = 0, k = 0;
    for (size_t off = 0; off < size; off += step, k++) {
        size_t len = size - off < step ? size - off : step;
        size_t gap = (gaps >> (k % 8)) & 1 ? 7 : 0;
        if (mm_waf_http_feed(h, data + off, len, k ? gap : 0, check, &n) < 0)
            break;
    }
    mm_waf_http_free(h);
    return 0;
}
