/*
 * digest.c - sha256 through OpenSSL's EVP interface (it uses the CPU's SHA
 * extensions where present, which matters: every layer blob is hashed as it
 * streams by) and the "sha256:<hex>" digest form of OCI.
 */
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <openssl/evp.h>
#include <sys/random.h>

#include "util/util.h"

struct mm_sha256 {
    EVP_MD_CTX *ctx;
};

mm_sha256 *mm_sha256_new(void)
{
    mm_sha256 *h = mm_xcalloc(1, sizeof *h);
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
        abort();
    return h;
}

void mm_sha256_update(mm_sha256 *h, const void *d, size_t n)
{
    EVP_DigestUpdate(h->ctx, d, n);
}

static void to_hex(const unsigned char *md, unsigned n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (unsigned i = 0; i < n; i++) {
        out[2 * i] = hx[md[i] >> 4];
        out[2 * i + 1] = hx[md[i] & 15];
    }
    out[2 * n] = 0;
}

void mm_sha256_final(mm_sha256 *h, char out[72])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    EVP_DigestFinal_ex(h->ctx, md, &n);
    memcpy(out, "sha256:", 7);
    to_hex(md, n, out + 7);
}

void mm_sha256_free(mm_sha256 *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

void mm_sha256_hex(const void *d, size_t n, char out[72])
{
    mm_sha256 *h = mm_sha256_new();
    mm_sha256_update(h, d, n);
    mm_sha256_final(h, out);
    mm_sha256_free(h);
}

bool mm_digest_valid(const char *s)
{
    if (!s || strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
        return false;
    for (const char *p = s + 7; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

int mm_random_hex(char *out, size_t nbytes)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[64];
    size_t got = 0;
    out[0] = 0;
    if (nbytes > sizeof b)
        return mm_error_set(MM_EINVAL, "random: %zu bytes asked, at most %zu", nbytes,
                            sizeof b);
    while (got < nbytes) {
        ssize_t r = getrandom(b + got, nbytes - got, 0);
        if (r > 0)
            got += (size_t)r;
        else if (r < 0 && errno != EINTR)
            return mm_error_set(MM_EIO, "random: getrandom: %s", strerror(errno));
    }
    for (size_t i = 0; i < nbytes; i++) {
        out[2 * i] = hex[b[i] >> 4];
        out[2 * i + 1] = hex[b[i] & 15];
    }
    out[2 * nbytes] = 0;
    explicit_bzero(b, sizeof b);
    return 0;
}
