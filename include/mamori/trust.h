/*
 * mamori/trust.h - image signatures compatible with cosign's key-based
 * "simple signing" format (SP 800-190 §3.1.5): keys, payloads, signing and
 * verification, and the signature manifests kept in the registry beside
 * the image under the tag "sha256-<hex>.sig".  docs/signatures.md gives
 * the format byte by byte.
 *
 * Keys: public keys in PEM (SubjectPublicKeyInfo) — ECDSA P-256, Ed25519,
 * RSA (PKCS#1 v1.5 and PSS, SHA-256); private keys in PEM PKCS#8,
 * optionally encrypted with a passphrase.  OpenSSL libcrypto throughout.
 *
 * Ownership: returned strings are malloc'ed and belong to the caller.
 */
#ifndef MAMORI_TRUST_H
#define MAMORI_TRUST_H

#include "mamori/common.h"
#include "mamori/registry.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MM_COSIGN_PAYLOAD_TYPE "application/vnd.dev.cosign.simplesigning.v1+json"
#define MM_COSIGN_SIG_ANNOTATION "dev.cosignproject.cosign/signature"
#define MM_COSIGN_TYPE "cosign container image signature"

typedef struct mm_sigkey mm_sigkey;

/* A public key (PEM SubjectPublicKeyInfo), or the public half of a
 * private key file. */
int mm_sigkey_load_public(mm_sigkey **out, const char *path);
/* A private key (PEM PKCS#8, encrypted or not; passphrase may be NULL). */
int mm_sigkey_load_private(mm_sigkey **out, const char *path,
                           const char *passphrase);
void mm_sigkey_free(mm_sigkey *k);
/* "ecdsa-p256", "ed25519", "rsa-2048", ... */
const char *mm_sigkey_type(const mm_sigkey *k);
/* "sha256:<hex>" of the DER public key: names the key in reports. */
const char *mm_sigkey_id(const mm_sigkey *k);
/* Where the key came from (the path given). */
const char *mm_sigkey_path(const mm_sigkey *k);

/* The simple-signing payload for an image, byte for byte as cosign writes
 * it (Go's encoding/json, compact, map keys sorted):
 * critical.identity.docker-reference = reference (registry/repository,
 * no tag; mm_cosign_sign_image passes cosign's form, e.g.
 * "index.docker.io/library/debian"), critical.image.docker-manifest-digest
 * = digest, critical.type = MM_COSIGN_TYPE, optional = the nkv
 * "key=value" strings of optional_kv as an object of strings (or null
 * when nkv is 0; a repeated key keeps its last value).  *len (if non-NULL)
 * receives the length. */
int mm_cosign_payload(char **out, size_t *len, const char *reference,
                      const char *digest, const char *const *optional_kv,
                      size_t nkv);

/* Signs payload bytes: base64 of the signature (ECDSA DER, Ed25519 raw,
 * RSA PKCS#1 v1.5) over SHA-256 of the payload (Ed25519 signs the bytes).
 * key must have been loaded with mm_sigkey_load_private. */
int mm_cosign_sign(char **sig_b64, const mm_sigkey *key, const void *payload,
                   size_t len);

/* Checks one signature: 0 when sig_b64 is a valid signature by key over
 * payload, and the payload names expect_digest (and expect_reference when
 * non-NULL) with the right type; else MM_ESIGNATURE with the reason in the
 * error message. RSA accepts PKCS#1 v1.5 and PSS. */
int mm_cosign_verify_payload(const mm_sigkey *key, const void *payload,
                             size_t len, const char *sig_b64,
                             const char *expect_digest,
                             const char *expect_reference);

/* "sha256-<hex>.sig": the tag of the signature manifest of the image with
 * this manifest digest.  MM_EINVAL when digest is not sha256:<64 hex>. */
int mm_cosign_sig_tag(char out[80], const char *digest);

/* --- signatures in a registry ---------------------------------------------- */
/* One signature layer found beside an image. */
typedef struct mm_sigcheck {
    char *layer_digest;  /* the payload blob */
    char *key_id;        /* the key whose signature this is (cryptographically
                          * valid), or NULL; with valid false it signed other
                          * claims (digest, reference, type: see reason) */
    char *key_path;
    bool valid;
    char *reason;        /* why it is not valid (or NULL) */
} mm_sigcheck;

typedef struct mm_verify_report {
    char *reference;       /* normalised image reference */
    char *digest;          /* the image manifest digest the signatures name */
    char *sig_tag;         /* "sha256-<hex>.sig" */
    bool sig_found;        /* the signature manifest exists */
    mm_sigcheck *checks;
    size_t nchecks;
    bool verified;         /* at least one valid signature by one of the keys */
    char *error;           /* the signature manifest exists but cannot be
                            * used (malformed, over a cap): why; else NULL */
} mm_verify_report;

/* Resolves ref to its digest (ref->digest when given), fetches the
 * signature manifest and checks every signature layer against each key
 * (one mm_sigcheck per layer, in manifest order).  Returns 0 with a report
 * whatever the verdict (missing signatures give sig_found = false, a
 * malformed signature manifest sets error); negative only when the
 * registry could not be asked (MM_ENET, MM_EAUTH, the image itself is
 * missing: MM_ENOTFOUND ...). */
int mm_cosign_verify_image(mm_verify_report **out, mm_registry *c,
                           const mm_imageref *ref, mm_sigkey *const *keys,
                           size_t nkeys);
void mm_verify_report_free(mm_verify_report *r);
/* The report as a JSON document (image, reference, digest, signature_tag,
 * signatures_found, verified, error, keys[], signatures[]; see
 * docs/signatures.md) for CI and the admission webhook.  Caller frees. */
char *mm_verify_report_json(const mm_verify_report *r, const char *image,
                            mm_sigkey *const *keys, size_t nkeys);

/* Signs the image: builds the payload for its digest, signs it, uploads
 * the payload blob, the config (as cosign writes it) and the signature
 * manifest (appending to signatures already there; when a layer with the
 * same payload already verifies with this key nothing is pushed), tagged
 * sha256-<hex>.sig.  optional_kv as for mm_cosign_payload.  digest_out (if
 * non-NULL) receives the signed image digest. */
int mm_cosign_sign_image(mm_registry *c, const mm_imageref *ref,
                         const mm_sigkey *key, const char *const *optional_kv,
                         size_t nkv, char digest_out[72]);

#ifdef __cplusplus
}
#endif
#endif
