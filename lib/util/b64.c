/*
 * b64.c - base64 (RFC 4648) for every area: cosign signatures, the workers'
 * layer records, kubeconfig "-data" fields, Docker AuthZ request bodies.
 * Encoding is OpenSSL's; decoding is checked here because EVP_DecodeBlock
 * skips white space, counts padding as data and cannot say where the input
 * went wrong.  Two readings: strict (the canonical padded text a signer or
 * mamori itself wrote: a bad byte is an error naming its offset) and
 * lenient (what Go and kubectl accept in hand-edited files: line breaks
 * and blanks skipped, the URL-safe alphabet too, padding optional).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "util/util.h"

char *mm_base64_encode(const void *d, size_t n)
{
    char *s = mm_xmalloc(4 * ((n + 2) / 3) + 1);
    int w = n ? EVP_EncodeBlock((unsigned char *)s, d, (int)n) : 0;
    s[w < 0 ? 0 : w] = 0;
    return s;
}

/* the value of a base64 character, or -1 */
static int b64_val(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || (url && c == '-'))
        return 62;
    if (c == '/' || (url && c == '_'))
        return 63;
    return -1;
}

static int decode_strict(unsigned char *o, size_t *w, const char *s, size_t n)
{
    if (n == 0 || n % 4 != 0)
        return mm_error_set(MM_EFORMAT, "base64: length %zu is not a positive multiple of 4",
                            n);
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (size_t j = 0; j < 4; j++) {
            size_t at = i + j;
            v[j] = at >= n - pad ? 0 : b64_val((unsigned char)s[at], false);
            if (v[j] < 0)
                return mm_error_set(MM_EFORMAT, "base64: bad character at offset %zu", at);
        }
        uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
                     (uint32_t)v[3];
        o[k++] = (unsigned char)(q >> 16);
        o[k++] = (unsigned char)(q >> 8);
        o[k++] = (unsigned char)q;
    }
    *w = k - pad;
    return 0;
}

static int decode_lenient(unsigned char *o, size_t *w, const char *s, size_t n)
{
    size_t k = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '=')
            break;
        if (c == '\n' || c == '\r' || c == ' ' || c == '\t')
            continue;
        int v = b64_val(c, true);
        if (v < 0)
            return mm_error_set(MM_EFORMAT, "base64: bad character at offset %zu", i);
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            o[k++] = (unsigned char)(acc >> bits);
        }
    }
    *w = k;
    return 0;
}

int mm_base64_decode(unsigned char **out, size_t *outlen, const char *s, size_t n,
                     unsigned flags)
{
    *out = NULL;
    *outlen = 0;
    if (!s)
        return mm_error_set(MM_EINVAL, "base64: no text");
    unsigned char *o = mm_xmalloc(n / 4 * 3 + 4);
    size_t w = 0;
    int rc = flags & MM_BASE64_LENIENT ? decode_lenient(o, &w, s, n)
                                       : decode_strict(o, &w, s, n);
    if (rc < 0) {
        free(o);
        return rc;
    }
    o[w] = 0;   /* a NUL after the bytes, for callers that read text */
    *out = o;
    *outlen = w;
    return 0;
}
