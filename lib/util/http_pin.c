/*
 * http_pin.c - pinning a server's certificate by its SHA-256 fingerprint
 * for the one libcurl transport (util/http.h, mm_http_opts.pin_sha256):
 * `mamori server` writes a self-signed pair on first start and prints its
 * fingerprint, and a client that is given that fingerprint needs neither
 * the certificate file nor a CA.  The check runs inside the TLS handshake
 * (an OpenSSL verify callback set through CURLOPT_SSL_CTX_FUNCTION): the
 * leaf certificate's DER digest must equal the pin, whatever its chain or
 * name, and any other certificate ends the handshake.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <strings.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "util/util.h"
#include "util/http.h"

int mm_http_pin_parse(const char *s, char out[65])
{
    out[0] = 0;
    if (!s)
        return mm_error_set(MM_EINVAL, "fingerprint: empty");
    const char *p = s;
    if (!strncasecmp(p, "sha256:", 7))
        p += 7;
    size_t n = 0;
    for (; *p; p++) {
        if (*p == ':')
            continue;
        if (!isxdigit((unsigned char)*p) || n >= 64)
            return mm_error_set(MM_EINVAL, "fingerprint '%.120s': want sha256:HEX (64 hex"
                                " digits, colons allowed), as `mamori server` prints it", s);
        out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = 0;
    if (n != 64)
        return mm_error_set(MM_EINVAL, "fingerprint '%.120s': want sha256:HEX (64 hex"
                            " digits, colons allowed), as `mamori server` prints it", s);
    return 0;
}

static int pin_idx = -1;
static pthread_once_t pin_once = PTHREAD_ONCE_INIT;

static void pin_init(void)
{
    pin_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* OpenSSL's verify callback: the leaf (depth 0) decides, by its digest */
static int pin_verify(int preverify_ok, X509_STORE_CTX *xs)
{
    (void)preverify_ok;
    if (X509_STORE_CTX_get_error_depth(xs) > 0)
        return 1;   /* the chain does not matter: the leaf is pinned */
    SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    const char *pin = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), pin_idx) : NULL;
    X509 *crt = X509_STORE_CTX_get_current_cert(xs);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!pin || !crt || !X509_digest(crt, EVP_sha256(), md, &n) || n != 32)
        return 0;
    char hex[65];
    for (unsigned i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    if (strcmp(hex, pin) != 0) {
        X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
        return 0;
    }
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

static CURLcode pin_ctx(CURL *e, void *sslctx, void *ud)
{
    (void)e;
    pthread_once(&pin_once, pin_init);
    if (pin_idx < 0 || !SSL_CTX_set_ex_data(sslctx, pin_idx, ud))
        return CURLE_SSL_CERTPROBLEM;
    SSL_CTX_set_verify(sslctx, SSL_VERIFY_PEER, pin_verify);
    return CURLE_OK;
}

void mm_http_pin_setup(CURL *e, const char *pin)
{
    if (!pin)
        return;
    /* the pin replaces the CA and name checks: a self-signed certificate
     * has neither, and the digest is stronger than both */
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, pin_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, (void *)pin);
    /* no TLS session reused from a connection that was not checked */
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
}
