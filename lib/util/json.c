/*
 * util/json.c - jansson helpers every JSON writer shares: a string from
 * bytes that may not be UTF-8 (names in hostile images can be anything),
 * so that a document always stays valid JSON.
 */
#include <stdint.h>
#include <string.h>

#include "util/json.h"
#include "util/util.h"

json_t *mm_json_str(const char *s)
{
    if (!s)
        return json_null();
    json_t *j = json_string(s);
    if (j)
        return j;
    /* Not UTF-8 (names in hostile images can be anything): replace each
     * invalid byte with U+FFFD so that the report stays valid JSON. */
    mm_buf b = MM_BUF_INIT;
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n) {
        size_t k = mm_utf8_seq(p, n);
        if (k) {
            mm_buf_add(&b, p, k);
        } else {
            mm_buf_adds(&b, "\xef\xbf\xbd");
            k = 1;
        }
        p += k;
        n -= k;
    }
    j = json_stringn(b.data ? b.data : "", b.len);
    mm_buf_free(&b);
    return j ? j : json_string("");
}

void mm_json_set_str(json_t *obj, const char *key, const char *s)
{
    if (s)
        json_object_set_new(obj, key, mm_json_str(s));
}


/* Bytes copied as they are: printable ASCII but '"' (0x22) and '\\'
 * (0x5c). */
static const unsigned char plain_byte[256] = {
    [0x20 ... 0x21] = 1, [0x23 ... 0x5b] = 1, [0x5d ... 0x7f] = 1,
};

/* Whether any of the 8 bytes of w is not a plain byte: a control
 * (< 0x20), '"', '\\' or a byte >= 0x80 (bit tricks on the whole word:
 * the has-zero-byte test of "Bit Twiddling Hacks", applied to w ^ c). */
static inline bool needs_escape8(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
    uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
    uint64_t ctl = (w - ones * 0x20) & ~w;
    uint64_t zq = (q - ones) & ~q, zb = (bs - ones) & ~bs;
    return ((w | ctl | zq | zb) & high) != 0;
}

void mm_json_buf_str(mm_buf *b, const char *s)
{
    if (!s) {
        mm_buf_add(b, "null", 4);
        return;
    }
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    if (n == 0) {
        mm_buf_add(b, "\"\"", 2);
        return;
    }
    bool first = true;
    while (n) {
        /* Up to 4 KiB of input a round, written in place after one reserve
         * for the worst case: every byte as \u00XX, plus a UTF-8 sequence
         * that starts inside the round and ends past it, plus the quotes.  This is on the
         * path of every string of a large report. */
        size_t take = n < 4096 ? n : 4096;
        if (mm_buf_reserve(b, 6 * take + 8) < 0)
            return;
        char *o = b->data + b->len;
        if (first)   /* the reserve's slack holds both quotes */
            *o++ = '"', first = false;
        const unsigned char *end = p + take;
        size_t rest = n - take;   /* input after this round */
        while (p < end) {
            /* runs of plain bytes first, 8 at a time: most of a report is
             * plain ASCII */
            while (end - p >= 8) {
                uint64_t w;
                memcpy(&w, p, 8);
                if (needs_escape8(w))
                    break;
                memcpy(o, &w, 8);
                o += 8;
                p += 8;
            }
            while (p < end && plain_byte[*p])
                *o++ = (char)*p++;
            if (p == end)
                break;
            n = (size_t)(end - p) + rest;
            unsigned c = *p;
            size_t k = 1;
            if (c >= 0x80) {
                k = mm_utf8_seq(p, n);
                if (k) {
                    memcpy(o, p, k);
                    o += k;
                } else {
                    memcpy(o, "\xef\xbf\xbd", 3);
                    o += 3;
                    k = 1;
                }
            } else {
                *o++ = '\\';
                switch (c) {
                case '"': case '\\': *o++ = (char)c; break;
                case '\b': *o++ = 'b'; break;
                case '\f': *o++ = 'f'; break;
                case '\n': *o++ = 'n'; break;
                case '\r': *o++ = 'r'; break;
                case '\t': *o++ = 't'; break;
                default:
                    *o++ = 'u', *o++ = '0', *o++ = '0';
                    *o++ = hex[c >> 4], *o++ = hex[c & 15];
                }
            }
            p += k;
        }
        /* a UTF-8 sequence may have run past the round's end */
        n = rest - (size_t)(p - end);
        if (!n)
            *o++ = '"';
        b->len = (size_t)(o - b->data);
        b->data[b->len] = 0;
    }
}
