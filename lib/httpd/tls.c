/*
 * tls.c - the server's certificate: a self-signed ECDSA P-256 pair written
 * on first start (OpenSSL), and the SHA-256 fingerprint of a PEM
 * certificate that the front-end prints so that clients can pin it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mamori/httpd.h"
#include "util/util.h"

static int write_pem(const char *path, mode_t mode, EVP_PKEY *key, X509 *crt)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return mm_error_set(MM_EIO, "%s: cannot create: %s", path, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return mm_error_set(MM_EIO, "%s: cannot open: %s", path, strerror(errno));
    }
    int ok = key ? PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)
                 : PEM_write_X509(f, crt);
    if (fclose(f) != 0 || !ok)
        return mm_error_set(MM_EIO, "%s: write failed", path);
    return 0;
}

static int add_ext(X509 *crt, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, crt, crt, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(crt, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

int mm_httpd_selfsigned_write(const char *cert_path, const char *key_path,
                              const char *name)
{
    if (!cert_path || !key_path || !name || !*name || strlen(name) > 200)
        return mm_error_set(MM_EINVAL, "self-signed certificate: bad arguments");
    int rc = MM_EIO;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *crt = X509_new();
    if (!key || !crt) {
        rc = mm_error_set(MM_EIO, "self-signed certificate: key generation failed");
        goto out;
    }
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1) {
        rc = mm_error_set(MM_EIO, "self-signed certificate: no randomness");
        goto out;
    }
    serial[0] &= 0x7f;
    BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
    ASN1_INTEGER *sn = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
    BN_free(bn);
    if (!sn) {
        rc = mm_error_set(MM_EIO, "self-signed certificate: serial failed");
        goto out;
    }
    X509_set_serialNumber(crt, sn);
    ASN1_INTEGER_free(sn);
    X509_set_version(crt, 2);
    X509_gmtime_adj(X509_getm_notBefore(crt), -3600);
    X509_gmtime_adj(X509_getm_notAfter(crt), 3650L * 24 * 3600);
    X509_set_pubkey(crt, key);
    X509_NAME *xn = X509_get_subject_name(crt);
    X509_NAME_add_entry_by_txt(xn, "O", MBSTRING_ASC, (const unsigned char *)"mamori", -1, -1, 0);
    X509_NAME_add_entry_by_txt(xn, "CN", MBSTRING_UTF8, (const unsigned char *)name, -1, -1, 0);
    X509_set_issuer_name(crt, xn);
    unsigned char ipbuf[16];
    bool is_ip = inet_pton(AF_INET, name, ipbuf) == 1 || inet_pton(AF_INET6, name, ipbuf) == 1;
    char *san = mm_xasprintf("%s:%s,DNS:localhost,IP:127.0.0.1,IP:::1",
                             is_ip ? "IP" : "DNS", name);
    int e = add_ext(crt, NID_subject_alt_name, san);
    free(san);
    if (e || add_ext(crt, NID_basic_constraints, "critical,CA:FALSE") ||
        add_ext(crt, NID_key_usage, "critical,digitalSignature") ||
        add_ext(crt, NID_ext_key_usage, "serverAuth") ||
        add_ext(crt, NID_subject_key_identifier, "hash")) {
        rc = mm_error_set(MM_EIO, "self-signed certificate: extension failed (name '%s')", name);
        goto out;
    }
    if (!X509_sign(crt, key, EVP_sha256())) {
        rc = mm_error_set(MM_EIO, "self-signed certificate: signing failed");
        goto out;
    }
    /* the key first, private from the start */
    rc = write_pem(key_path, 0600, key, NULL);
    if (rc == 0)
        rc = write_pem(cert_path, 0644, NULL, crt);
out:
    X509_free(crt);
    EVP_PKEY_free(key);
    return rc;
}

int mm_httpd_cert_fingerprint(const char *cert_path, char out[104])
{
    out[0] = 0;
    FILE *f = fopen(cert_path, "r");
    if (!f)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s",
                            cert_path, strerror(errno));
    X509 *crt = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!crt)
        return mm_error_set(MM_EFORMAT, "%s: not a PEM certificate", cert_path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    int ok = X509_digest(crt, EVP_sha256(), md, &n);
    X509_free(crt);
    if (!ok || n != 32)
        return mm_error_set(MM_EIO, "%s: digest failed", cert_path);
    char *p = out + sprintf(out, "SHA256:");
    for (unsigned i = 0; i < n; i++)
        p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
    return 0;
}
