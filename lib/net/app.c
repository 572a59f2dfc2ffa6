/*
 * app.c - the application-layer parsers that name addresses: DNS messages
 * (UDP, and TCP with its length prefix), the TLS ClientHello's server_name
 * extension and the HTTP request's Host header; and the per-flow glue that
 * feeds them from UDP datagrams and reassembled TCP streams.
 *
 * Everything parsed here is untrusted: names are bounded (253 bytes, 127
 * labels, 16 compression jumps), a message that spans segments is kept in a
 * small per-direction buffer capped at 16 KiB (64 KiB for DNS over TCP),
 * and a direction whose first bytes are none of these protocols is given
 * up at once.  Fuzzed by tests/fuzz/fuzz_net_packet.c and fuzz_net_app.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "net/net_int.h"

#define R16(p) ((uint16_t)(((uint16_t)(p)[0] << 8) | (p)[1]))
#define APP_BUF_MAX 16384u
#define DNS_TCP_MAX 65537u

/* Byte tables built by the preprocessor: T256(F) lists F(0) ... F(255). */
#define T4(F, b) F(b), F((b) + 1), F((b) + 2), F((b) + 3)
#define T16(F, b) T4(F, b), T4(F, (b) + 4), T4(F, (b) + 8), T4(F, (b) + 12)
#define T64(F, b) T16(F, b), T16(F, (b) + 16), T16(F, (b) + 32), T16(F, (b) + 48)
#define T256(F) T64(F, 0), T64(F, 64), T64(F, 128), T64(F, 192)
#define LOWER(c) ((c) >= 'A' && (c) <= 'Z' ? (c) | 0x20 : (c))   /* | 0x20: no constant past 255 */

/* A host name's byte (SNI, Host) in lower case, or 0 when a host name has
 * no such byte: controls, space, DEL and above, '/', '\\', '"'.  One load
 * both checks and folds a byte. */
#define HOST_CHR(c) ((c) <= 0x20 || (c) >= 0x7f || (c) == '/' || (c) == '\\' || \
                     (c) == '"' ? 0 : LOWER(c))
static const uint8_t host_chr[256] = {T256(HOST_CHR)};

/* A DNS label's byte as written: lower case, '?' for controls, space, DEL
 * and above, and '.' inside a label. */
#define DNS_CHR(c) ((c) < 0x21 || (c) > 0x7e || (c) == '.' ? '?' : LOWER(c))
static const uint8_t dns_chr[256] = {T256(DNS_CHR)};

bool nt_name_ok(const char *s, size_t len)
{
    if (!len || len > 253)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!host_chr[(unsigned char)s[i]])
            return false;
    return true;
}

/* A host name of len bytes into name[n], lower case: false when it is not
 * one (nt_name_ok) or does not fit. */
static bool host_copy(const uint8_t *s, size_t len, char *name, size_t n)
{
    if (!len || len > 253 || len >= n)
        return false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = host_chr[s[i]];
        if (!c)
            return false;
        name[i] = (char)c;
    }
    name[len] = 0;
    return true;
}

/* ---- DNS ---------------------------------------------------------------------- */

/* Reads a (possibly compressed) name at *off into out (lower case, dots);
 * advances *off past it in the message.  The compression pointers followed,
 * or -1 when malformed. */
static int dns_name(const uint8_t *d, size_t len, size_t *off, char out[256])
{
    size_t o = *off, n = 0, end = 0;
    int jumps = 0, labels = 0;
    bool jumped = false;
    for (;;) {
        if (o >= len)
            return -1;
        uint8_t l = d[o];
        if ((l & 0xc0) == 0xc0) {
            if (o + 1 >= len || ++jumps > 16)
                return -1;
            size_t to = ((size_t)(l & 0x3f) << 8) | d[o + 1];
            if (!jumped)
                end = o + 2;
            jumped = true;
            if (to >= len)
                return -1;
            o = to;
            continue;
        }
        if (l & 0xc0)
            return -1;
        o++;
        if (!l)
            break;
        if (o + l > len || n + l + 1 > 254 || ++labels > 127)
            return -1;
        if (n)
            out[n++] = '.';
        const uint8_t *src = d + o;
        char *dst = out + n;
        for (size_t i = 0; i < l; i++)
            dst[i] = (char)dns_chr[src[i]];
        n += l;
        o += l;
    }
    out[n] = 0;
    *off = jumped ? end : o;
    return jumps;
}

int nt_dns_parse(const uint8_t *d, size_t len, nt_dns_fn fn, void *ud)
{
    if (len < 12)
        return -1;
    bool resp = d[2] & 0x80;
    unsigned qd = R16(d + 4), an = R16(d + 6);
    if (qd > 16 || an > 256)
        return -1;
    size_t off = 12;
    char qname[256], name[256], target[256];
    bool q_plain = false;        /* the question's name is at 12, uncompressed */
    for (unsigned i = 0; i < qd; i++) {
        int j = dns_name(d, len, &off, i ? name : qname);
        if (j < 0 || off + 4 > len)
            return -1;
        if (i == 0)
            q_plain = j == 0;
        off += 4;
        nt_dns_rr rr = {.name = qname, .type = 0};
        if (i == 0 && fn)
            fn(ud, &rr, resp);
    }
    if (!resp)
        return 0;
    if ((d[3] & 0x0f) != 0)      /* rcode: NXDOMAIN and friends name nothing */
        return 0;
    for (unsigned i = 0; i < an; i++) {
        /* most answers name the question by a pointer to it (c0 0c): the
         * same bytes read again give the same name, so it is not redone
         * (one jump more is within the limit, as the question had none) */
        const char *nm = name;
        if (q_plain && off + 1 < len && d[off] == 0xc0 && d[off + 1] == 12) {
            nm = qname;
            off += 2;
        } else if (dns_name(d, len, &off, name) < 0) {
            return -1;
        }
        if (off + 10 > len)
            return -1;
        uint16_t type = R16(d + off), cls = R16(d + off + 2);
        uint32_t ttl = (uint32_t)R16(d + off + 4) << 16 | R16(d + off + 6);
        size_t rdlen = R16(d + off + 8);
        off += 10;
        if (off + rdlen > len)
            return -1;
        nt_dns_rr rr = {.name = nm, .type = type, .ttl = ttl};
        if (cls == 1 && type == 1 && rdlen == 4) {
            rr.addr.family = AF_INET;
            memcpy(rr.addr.ip, d + off, 4);
            if (fn)
                fn(ud, &rr, true);
        } else if (cls == 1 && type == 28 && rdlen == 16) {
            rr.addr.family = AF_INET6;
            memcpy(rr.addr.ip, d + off, 16);
            if (fn)
                fn(ud, &rr, true);
        } else if (type == 5) {
            size_t t = off;
            if (dns_name(d, len, &t, target) < 0)
                return -1;
            rr.target = target;
            if (fn)
                fn(ud, &rr, true);
        }
        off += rdlen;
    }
    return 0;
}

/* ---- TLS ClientHello ---------------------------------------------------------- */

int nt_tls_sni(const uint8_t *d, size_t len, char *name, size_t n)
{
    if (len < 1)
        return -1;
    if (d[0] != 0x16)
        return 0;
    if (len < 5)
        return -1;
    if (d[1] != 3)
        return 0;
    size_t rl = R16(d + 3);
    if (rl < 4 || rl > 16384 + 2048)
        return 0;
    if (len < 5 + rl)
        return len >= APP_BUF_MAX ? 0 : -1;
    const uint8_t *h = d + 5, *e = h + rl;
    if (h[0] != 1)               /* ClientHello */
        return 0;
    size_t hl = ((size_t)h[1] << 16) | ((size_t)h[2] << 8) | h[3];
    h += 4;
    if (hl < (size_t)(e - h))
        e = h + hl;              /* message ends inside the record */
    /* version, random */
    if (e - h < 34)
        return 0;
    h += 34;
    if (e - h < 1 || e - h < 1 + h[0])
        return 0;
    h += 1 + h[0];               /* session id */
    if (e - h < 2 || e - h < 2 + R16(h))
        return 0;
    h += 2 + R16(h);             /* cipher suites */
    if (e - h < 1 || e - h < 1 + h[0])
        return 0;
    h += 1 + h[0];               /* compression */
    if (e - h < 2)
        return 0;
    size_t el = R16(h);
    h += 2;
    if ((size_t)(e - h) < el)
        el = (size_t)(e - h);
    const uint8_t *x = h, *xe = h + el;
    while (xe - x >= 4) {
        uint16_t type = R16(x), l = R16(x + 2);
        x += 4;
        if (xe - x < l)
            return 0;
        if (type == 0 && l >= 5) {
            const uint8_t *s = x + 2, *se = x + 2 + R16(x);
            if (se > x + l)
                se = x + l;
            while (se - s >= 3) {
                uint8_t nt = s[0];
                uint16_t nl = R16(s + 1);
                s += 3;
                if (se - s < nl)
                    return 0;
                if (nt == 0)
                    return host_copy(s, nl, name, n) ? 1 : 0;
                s += nl;
            }
            return 0;
        }
        x += l;
    }
    return 0;
}

/* ---- HTTP request Host -------------------------------------------------------- */

int nt_http_host(const uint8_t *d, size_t len, char *name, size_t n)
{
    static const char *const methods[] = {"GET ", "POST ", "PUT ", "HEAD ", "DELETE ",
        "OPTIONS ", "PATCH ", "CONNECT ", "TRACE ", "PROPFIND "};
    bool m = false;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        size_t ml = strlen(methods[i]);
        size_t c = len < ml ? len : ml;
        if (memcmp(d, methods[i], c) == 0) {
            if (len < ml)
                return -1;
            m = true;
            break;
        }
    }
    if (!m)
        return 0;
    const uint8_t *p = memchr(d, '\n', len);
    while (p) {
        p++;
        size_t rest = len - (size_t)(p - d);
        if (rest >= 2 && p[0] == '\r' && p[1] == '\n')
            return 0;            /* end of headers: no Host */
        if (rest >= 1 && p[0] == '\n')
            return 0;
        const uint8_t *eol = memchr(p, '\n', rest);
        if (!eol)
            break;
        if (eol - p > 5 && strncasecmp((const char *)p, "host:", 5) == 0) {
            const uint8_t *v = p + 5, *ve = eol;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            /* strip :port (not inside an IPv6 literal) */
            const uint8_t *c = ve, *colon = ve > v ? memrchr(v, ':', (size_t)(ve - v)) : NULL;
            if (colon && !memchr(colon, ']', (size_t)(ve - colon)))
                c = colon;       /* the last ':' with no ']' after it */
            if (v < c && *v == '[' && c[-1] == ']') {
                v++;
                c--;
            }
            return host_copy(v, (size_t)(c - v), name, n) ? 1 : 0;
        }
        p = eol;
    }
    return len >= APP_BUF_MAX ? 0 : -1;
}
