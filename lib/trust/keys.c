/*
 * keys.c - signing keys for image signatures, through OpenSSL libcrypto:
 * public keys in PEM SubjectPublicKeyInfo, private keys in PEM PKCS#8
 * (plain or passphrase-encrypted), and the raw sign/verify operations
 * cosign uses for each algorithm (ECDSA DER over SHA-256, Ed25519 over
 * the message, RSA PKCS#1 v1.5 — PSS also accepted on verify — over
 * SHA-256).
 *
 * OpenSSL is always given a passphrase callback: without one it would
 * prompt on the terminal, and a library must never do that.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "trust/trust_int.h"

enum key_alg { ALG_ECDSA, ALG_ED25519, ALG_RSA };

struct mm_sigkey {
    EVP_PKEY *pkey;
    enum key_alg alg;
    bool priv;
    char type[24];
    char id[72];
    char *path;
};

void mm_sigkey_free(mm_sigkey *k)
{
    if (!k)
        return;
    EVP_PKEY_free(k->pkey);
    free(k->path);
    free(k);
}

const char *mm_sigkey_type(const mm_sigkey *k) { return k->type; }
const char *mm_sigkey_id(const mm_sigkey *k) { return k->id; }
const char *mm_sigkey_path(const mm_sigkey *k) { return k->path; }
bool mm_sigkey_is_private(const mm_sigkey *k) { return k->priv; }

/* The first OpenSSL error as text, for messages (static buffer per call
 * site is fine: the caller copies it into the error message at once). */
static const char *ossl_reason(char buf[256])
{
    unsigned long e = ERR_get_error();
    if (!e)
        return "no detail";
    ERR_error_string_n(e, buf, 256);
    ERR_clear_error();
    return buf;
}

/* Classifies the key, refuses what cosign would not sign with (RSA below
 * 2048 bits, curves other than the NIST ones), and names it by the sha256
 * of its DER SubjectPublicKeyInfo. */
static int key_finish(mm_sigkey *k, const char *path)
{
    int base = EVP_PKEY_get_base_id(k->pkey);
    if (base == EVP_PKEY_EC) {
        char group[64] = "";
        size_t glen = 0;
        if (!EVP_PKEY_get_utf8_string_param(k->pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                            group, sizeof group, &glen))
            return mm_error_set(MM_EUNSUPPORTED, "%s: EC key without a named curve",
                                path);
        const char *t = NULL;
        if (!strcmp(group, "prime256v1") || !strcmp(group, "P-256"))
            t = "ecdsa-p256";
        else if (!strcmp(group, "secp384r1") || !strcmp(group, "P-384"))
            t = "ecdsa-p384";
        else if (!strcmp(group, "secp521r1") || !strcmp(group, "P-521"))
            t = "ecdsa-p521";
        if (!t)
            return mm_error_set(MM_EUNSUPPORTED,
                                "%s: EC curve %s is not supported (use P-256)",
                                path, group);
        k->alg = ALG_ECDSA;
        snprintf(k->type, sizeof k->type, "%s", t);
    } else if (base == EVP_PKEY_ED25519) {
        k->alg = ALG_ED25519;
        snprintf(k->type, sizeof k->type, "ed25519");
    } else if (base == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(k->pkey);
        if (bits < 2048)
            return mm_error_set(MM_EUNSUPPORTED,
                                "%s: RSA key of %d bits is too weak (2048 at least)",
                                path, bits);
        k->alg = ALG_RSA;
        snprintf(k->type, sizeof k->type, "rsa-%d", bits);
    } else {
        return mm_error_set(MM_EUNSUPPORTED,
                            "%s: key type %s is not supported (ECDSA P-256, "
                            "Ed25519 or RSA)", path,
                            OBJ_nid2sn(base) ? OBJ_nid2sn(base) : "unknown");
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k->pkey, &der);
    if (n <= 0)
        return mm_error_set(MM_EFORMAT, "%s: cannot encode the public key", path);
    mm_sha256_hex(der, (size_t)n, k->id);
    OPENSSL_free(der);
    k->path = mm_xstrdup(path);
    return 0;
}

struct pass_ctx {
    const char *pass;
    bool asked;
};

/* OpenSSL's passphrase callback: hands over the given passphrase, and
 * records that the key wanted one so that the error can say so. */
static int pass_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    struct pass_ctx *pc = u;
    pc->asked = true;
    if (!pc->pass)
        return -1;
    size_t n = strlen(pc->pass);
    if (n > (size_t)size)
        return -1;
    memcpy(buf, pc->pass, n);
    return (int)n;
}

static int read_keyfile(const char *path, char **data, size_t *len)
{
    int rc = mm_file_read(path, MM_COSIGN_MAX_KEYFILE, data, len);
    if (rc < 0)
        return mm_error_wrap(rc, "key %s: ", path);
    return 0;
}

/* cosign's own private key files are not PKCS#8 but an scrypt+secretbox
 * envelope OpenSSL cannot open: say what to do instead. */
static int refuse_cosign_format(const char *data, const char *path)
{
    if (strstr(data, "ENCRYPTED COSIGN PRIVATE KEY") ||
        strstr(data, "ENCRYPTED SIGSTORE PRIVATE KEY"))
        return mm_error_set(MM_EUNSUPPORTED,
                            "%s: a cosign-format private key (scrypt/secretbox) "
                            "cannot be read; generate a PKCS#8 key with openssl "
                            "(see docs/signatures.md) and import it into cosign "
                            "with `cosign import-key-pair` if cosign must use it too",
                            path);
    return 0;
}

static int load_private_from(mm_sigkey **out, const char *data, size_t len,
                             const char *path, const char *passphrase)
{
    char why[256];
    struct pass_ctx pc = {passphrase, false};
    BIO *bio = BIO_new_mem_buf(data, (int)len);
    if (!bio)
        return mm_error_set(MM_ENOMEM, "%s: out of memory", path);
    ERR_clear_error();
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, pass_cb, &pc);
    BIO_free(bio);
    if (!pk) {
        bool encrypted = strstr(data, "BEGIN ENCRYPTED PRIVATE KEY") != NULL ||
                         strstr(data, "Proc-Type: 4,ENCRYPTED") != NULL;
        if (encrypted && !passphrase) {
            ERR_clear_error();
            return mm_error_set(MM_EAUTH,
                                "%s: the private key is encrypted and no "
                                "passphrase was given (set MAMORI_SIGN_PASSPHRASE "
                                "or --passphrase-env VAR)", path);
        }
        if (encrypted) {
            ERR_clear_error();
            return mm_error_set(MM_EAUTH,
                                "%s: cannot decrypt the private key: wrong "
                                "passphrase (or a damaged key file)", path);
        }
        return mm_error_set(MM_EFORMAT,
                            "%s: not a PEM PKCS#8 private key (%s)", path,
                            ossl_reason(why));
    }
    mm_sigkey *k = mm_xcalloc(1, sizeof *k);
    k->pkey = pk;
    k->priv = true;
    int rc = key_finish(k, path);
    if (rc < 0) {
        mm_sigkey_free(k);
        return rc;
    }
    *out = k;
    return 0;
}

int mm_sigkey_load_private(mm_sigkey **out, const char *path,
                           const char *passphrase)
{
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    int rc = read_keyfile(path, &data, &len);
    if (rc < 0)
        return rc;
    rc = refuse_cosign_format(data, path);
    if (rc == 0 && !strstr(data, "PRIVATE KEY-----"))
        rc = mm_error_set(MM_EFORMAT,
                          "%s: no \"-----BEGIN PRIVATE KEY-----\" PEM block "
                          "(a PKCS#8 private key is needed to sign)", path);
    if (rc == 0)
        rc = load_private_from(out, data, len, path, passphrase);
    OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}

int mm_sigkey_load_public(mm_sigkey **out, const char *path)
{
    *out = NULL;
    char *data = NULL;
    size_t len = 0;
    char why[256];
    int rc = read_keyfile(path, &data, &len);
    if (rc < 0)
        return rc;
    if (strstr(data, "-----BEGIN PUBLIC KEY-----")) {
        BIO *bio = BIO_new_mem_buf(data, (int)len);
        struct pass_ctx pc = {NULL, false};
        ERR_clear_error();
        EVP_PKEY *pk = bio ? PEM_read_bio_PUBKEY(bio, NULL, pass_cb, &pc) : NULL;
        BIO_free(bio);
        if (!pk) {
            rc = mm_error_set(MM_EFORMAT, "%s: bad PEM public key (%s)", path,
                              ossl_reason(why));
        } else {
            mm_sigkey *k = mm_xcalloc(1, sizeof *k);
            k->pkey = pk;
            rc = key_finish(k, path);
            if (rc < 0)
                mm_sigkey_free(k);
            else
                *out = k;
        }
    } else if ((rc = refuse_cosign_format(data, path)) == 0) {
        if (strstr(data, "BEGIN ENCRYPTED PRIVATE KEY") ||
            strstr(data, "Proc-Type: 4,ENCRYPTED")) {
            rc = mm_error_set(MM_EFORMAT,
                              "%s: an encrypted private key; give its public key "
                              "(`openssl pkey -in KEY -pubout`)", path);
        } else if (strstr(data, "PRIVATE KEY-----")) {
            /* the public half of an unencrypted private key */
            rc = load_private_from(out, data, len, path, NULL);
            if (rc == 0)
                (*out)->priv = false;
        } else if (strstr(data, "-----BEGIN RSA PUBLIC KEY-----")) {
            rc = mm_error_set(MM_EFORMAT,
                              "%s: a PKCS#1 RSA public key; convert it to PKIX "
                              "with `openssl rsa -RSAPublicKey_in -pubout`", path);
        } else {
            rc = mm_error_set(MM_EFORMAT,
                              "%s: no \"-----BEGIN PUBLIC KEY-----\" PEM block",
                              path);
        }
    }
    OPENSSL_cleanse(data, len);
    free(data);
    return rc;
}

int mm_sigkey_sign_raw(const mm_sigkey *k, const void *msg, size_t len,
                       unsigned char **sig, size_t *siglen)
{
    char why[256];
    *sig = NULL;
    *siglen = 0;
    if (!k->priv)
        return mm_error_set(MM_EINVAL, "%s: a public key cannot sign", k->path);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md && EVP_DigestSignInit(md, &pctx,
                                      k->alg == ALG_ED25519 ? NULL : EVP_sha256(),
                                      NULL, k->pkey) == 1;
    if (ok && k->alg == ALG_RSA)
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    size_t n = 0;
    if (ok)
        ok = EVP_DigestSign(md, NULL, &n, msg, len) == 1;
    unsigned char *s = ok ? mm_xmalloc(n) : NULL;
    if (ok)
        ok = EVP_DigestSign(md, s, &n, msg, len) == 1;
    EVP_MD_CTX_free(md);
    if (!ok) {
        free(s);
        return mm_error_set(MM_ESIGNATURE, "%s: signing failed (%s)", k->path,
                            ossl_reason(why));
    }
    *sig = s;
    *siglen = n;
    return 0;
}

/* One verification attempt; RSA with the given padding. */
static int verify_once(const mm_sigkey *k, int padding, const void *msg,
                       size_t len, const unsigned char *sig, size_t siglen)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md && EVP_DigestVerifyInit(md, &pctx,
                                        k->alg == ALG_ED25519 ? NULL : EVP_sha256(),
                                        NULL, k->pkey) == 1;
    if (ok && k->alg == ALG_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, padding) == 1;
        if (ok && padding == RSA_PKCS1_PSS_PADDING)
            ok = EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1 &&
                 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1;
    }
    if (ok)
        ok = EVP_DigestVerify(md, sig, siglen, msg, len) == 1;
    EVP_MD_CTX_free(md);
    ERR_clear_error();
    return ok;
}

int mm_sigkey_verify_raw(const mm_sigkey *k, const void *msg, size_t len,
                         const unsigned char *sig, size_t siglen)
{
    if (!sig || siglen == 0 || siglen > 4096)
        return 0;
    if (k->alg == ALG_ED25519 && siglen != 64)
        return 0;
    if (k->alg == ALG_RSA)
        return verify_once(k, RSA_PKCS1_PADDING, msg, len, sig, siglen) ||
               verify_once(k, RSA_PKCS1_PSS_PADDING, msg, len, sig, siglen);
    return verify_once(k, 0, msg, len, sig, siglen);
}
