/*
 * util/json.c - jansson helpers every JSON writer shares: a string from
 * bytes that may not be UTF-8 (names in hostile images can be anything),
 * so that a document always stays valid JSON.
 */
#include <string.h>

#include "util/json.h"
#include "util/util.h"

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if none:
 * the rules jansson applies (no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    unsigned cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

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
        size_t k = utf8_seq(p, n);
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


void mm_json_write_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    putc('"', out);
    while (n) {
        /* the run of bytes that need no escape, written at once */
        size_t run = 0;
        while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
            run++;
        if (run) {
            fwrite(p, 1, run, out);
            p += run;
            n -= run;
            continue;
        }
        unsigned c = p[0];
        size_t k = 1;
        if (c >= 0x80) {
            k = utf8_seq(p, n);
            if (k)
                fwrite(p, 1, k, out);
            else {
                fputs("\xef\xbf\xbd", out);
                k = 1;
            }
        } else if (c == '"' || c == '\\') {
            putc('\\', out);
            putc((int)c, out);
        } else if (c == '\b') fputs("\\b", out);
        else if (c == '\f') fputs("\\f", out);
        else if (c == '\n') fputs("\\n", out);
        else if (c == '\r') fputs("\\r", out);
        else if (c == '\t') fputs("\\t", out);
        else
            fprintf(out, "\\u%04X", c);
        p += k;
        n -= k;
    }
    putc('"', out);
}
