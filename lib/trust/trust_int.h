/*
 * trust/trust_int.h - what the files of lib/trust share and what the unit
 * tests and the fuzz target reach below the public API: the caps on
 * untrusted signature data, strict base64, the raw key operations, the
 * parser of signature manifests and the check of a payload's claims.
 */
#ifndef MM_TRUST_INT_H
#define MM_TRUST_INT_H

#include "mamori/trust.h"
#include "util/util.h"

/* Caps on what a registry (or a key file) may hand us.  A cosign signature
 * manifest with one layer is ~560 bytes and a payload ~250 bytes; the caps
 * leave room for many signers and annotations and still bound the work. */
#define MM_COSIGN_MAX_MANIFEST (1024u * 1024u) /* signature manifest bytes */
#define MM_COSIGN_MAX_LAYERS 256               /* signatures per manifest */
#define MM_COSIGN_MAX_PAYLOAD (256u * 1024u)   /* one payload blob */
#define MM_COSIGN_MAX_SIG_B64 4096             /* base64 chars (RSA-16384 fits) */
#define MM_COSIGN_MAX_KEYFILE (64u * 1024u)    /* a PEM key file */
#define MM_COSIGN_MAX_OPTIONAL 64              /* -a key=value annotations */

/* --- base64 (RFC 4648 standard alphabet, padded, no white space) --------- */
char *mm_b64_encode(const void *d, size_t n);
/* Strict decoding of at most max_chars characters: MM_ESIGNATURE naming
 * the offset of the first bad character (or the bad length). */
int mm_b64_decode(unsigned char **out, size_t *outlen, const char *s,
                  size_t max_chars);

/* --- raw key operations (keys.c) ------------------------------------------ */
/* Signs msg: ECDSA (DER) and RSA PKCS#1 v1.5 over SHA-256(msg), Ed25519
 * over msg itself.  *sig is malloc'ed. */
int mm_sigkey_sign_raw(const mm_sigkey *k, const void *msg, size_t len,
                       unsigned char **sig, size_t *siglen);
/* 1 when sig is a valid signature over msg (RSA: PKCS#1 v1.5 or PSS with
 * any salt length), 0 when not; never an error for hostile input. */
int mm_sigkey_verify_raw(const mm_sigkey *k, const void *msg, size_t len,
                         const unsigned char *sig, size_t siglen);
bool mm_sigkey_is_private(const mm_sigkey *k);

/* --- payloads (cosign.c) ---------------------------------------------------- */
/* Checks the claims of payload bytes (no signature): JSON object,
 * critical.type, critical.image.docker-manifest-digest == expect_digest,
 * critical.identity.docker-reference matching expect_reference (when
 * non-NULL, both normalised), optional an object or null.  0 or
 * MM_ESIGNATURE with the reason. */
int mm_cosign_payload_check(const void *payload, size_t len,
                            const char *expect_digest,
                            const char *expect_reference);
/* cosign's form of a repository reference, "registry/repository" as
 * go-containerregistry's Repository.Name() gives it: Docker Hub is
 * "index.docker.io", its one-component repositories get "library/", a
 * tag or digest is dropped, the host is lower-cased.  Caller frees. */
char *mm_cosign_normref(const char *ref);

/* --- signature manifests (cosign.c) ----------------------------------------- */
typedef struct mm_siglayer {
    char *media_type;  /* NULL when absent */
    char *digest;      /* NULL when absent or not "sha256:<hex>" */
    uint64_t size;
    char *signature;   /* the MM_COSIGN_SIG_ANNOTATION value, or NULL */
    char *problem;     /* why this descriptor cannot hold a signature, or NULL */
} mm_siglayer;

/* Parses a signature manifest (OCI or Docker schema 2 image manifest).
 * A malformed document, or more than MM_COSIGN_MAX_LAYERS layers, is
 * MM_EFORMAT / MM_ELIMIT naming `where`; a malformed single layer only
 * sets that layer's problem. */
int mm_cosign_manifest_parse(mm_siglayer **out, size_t *n, const char *body,
                             size_t len, const char *where);
void mm_siglayers_free(mm_siglayer *l, size_t n);

/* Builds the signature manifest and its config as cosign writes them:
 * the layers of `existing` (a previous signature manifest, or NULL) kept
 * as they are, plus one simple-signing layer for the payload blob with
 * the signature annotation; the config lists every layer as a diff_id.
 * created is the config's RFC 3339 time.  All outputs malloc'ed. */
int mm_cosign_manifest_build(char **manifest, size_t *mlen, char **config,
                             size_t *clen, const char *existing,
                             size_t exlen, const char *payload_digest,
                             uint64_t payload_size, const char *sig_b64,
                             const char *created);

#endif
