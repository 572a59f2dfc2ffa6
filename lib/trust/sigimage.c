/*
 * sigimage.c - signatures kept in a registry beside the image: verifying
 * every layer of the "sha256-<hex>.sig" manifest against the given keys,
 * and signing an image by appending one simple-signing layer to that
 * manifest (or creating it).  The registry client does the transport;
 * everything read from it goes through the capped parsers of cosign.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "util/json.h"
#include "trust/trust_int.h"

void mm_verify_report_free(mm_verify_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nchecks; i++) {
        free(r->checks[i].layer_digest);
        free(r->checks[i].key_id);
        free(r->checks[i].key_path);
        free(r->checks[i].reason);
    }
    free(r->checks);
    free(r->reference);
    free(r->digest);
    free(r->sig_tag);
    free(r->error);
    free(r);
}

/* cosign's docker-reference for ref: "registry/repository". */
static char *ref_repo(const mm_imageref *ref)
{
    char *s = mm_xasprintf("%s/%s", ref->registry ? ref->registry : "docker.io",
                           ref->repository ? ref->repository : "");
    char *n = mm_cosign_normref(s);
    free(s);
    return n;
}

/* The image digest the signatures must name.  A digest given in the
 * reference is still asked of the registry: signing a manifest that is
 * not there would leave a signature for nothing. */
static int image_digest(mm_registry *c, const mm_imageref *ref, char digest[72])
{
    if (ref->digest && !mm_digest_valid(ref->digest))
        return mm_error_set(MM_EINVAL, "%s: not a sha256 digest", ref->digest);
    int rc = mm_registry_resolve(c, ref, digest);
    if (rc == 0 && ref->digest && strcmp(digest, ref->digest) != 0)
        return mm_error_set(MM_EDIGEST, "%s/%s: the registry resolves %s to %s",
                            ref->registry, ref->repository, ref->digest, digest);
    return rc;
}

/* Is the failure of a registry call about this one object (so it belongs
 * in the report) rather than about reaching the registry at all? */
static bool object_error(int rc)
{
    return rc == MM_ENOTFOUND || rc == MM_EDIGEST || rc == MM_ELIMIT ||
           rc == MM_EFORMAT;
}

/* Checks one layer against every key; fills chk. */
static int check_layer(mm_sigcheck *chk, mm_registry *c, const mm_imageref *ref,
                       const mm_siglayer *L, mm_sigkey *const *keys, size_t nkeys,
                       const char *digest, const char *reference)
{
    chk->layer_digest = mm_xstrdup(L->digest);
    if (L->problem) {
        chk->reason = mm_xstrdup(L->problem);
        return 0;
    }
    char *payload = NULL;
    size_t plen = 0;
    int rc = mm_registry_get_blob(c, ref, L->digest, MM_COSIGN_MAX_PAYLOAD,
                                  &payload, &plen);
    if (rc < 0) {
        if (!object_error(rc))
            return rc;
        chk->reason = mm_xasprintf("payload %s: %s", L->digest, mm_error_last());
        return 0;
    }
    if (plen != L->size) {
        chk->reason = mm_xasprintf("payload %s: %zu bytes, the manifest says %llu",
                                   L->digest, plen, (unsigned long long)L->size);
        free(payload);
        return 0;
    }
    unsigned char *sig = NULL;
    size_t slen = 0;
    if (mm_b64_decode(&sig, &slen, L->signature, MM_COSIGN_MAX_SIG_B64) < 0) {
        chk->reason = mm_xstrdup(mm_error_last());
        free(payload);
        return 0;
    }
    /* The first key whose signature verifies decides: either the layer is
     * valid, or it is a real signature by that key over the wrong claims
     * (another image, another type), which says more than "no key". */
    for (size_t k = 0; k < nkeys && !chk->key_id; k++) {
        if (!mm_sigkey_verify_raw(keys[k], payload, plen, sig, slen))
            continue;
        chk->key_id = mm_xstrdup(mm_sigkey_id(keys[k]));
        chk->key_path = mm_xstrdup(mm_sigkey_path(keys[k]));
        if (mm_cosign_payload_check(payload, plen, digest, reference) == 0)
            chk->valid = true;
        else
            chk->reason = mm_xstrdup(mm_error_last());
    }
    free(sig);
    if (!chk->key_id && nkeys == 0)
        chk->reason = mm_xstrdup("no key to verify with");
    else if (!chk->key_id)
        chk->reason = nkeys == 1
            ? mm_xasprintf("signature does not verify with %s key %s",
                           mm_sigkey_type(keys[0]), mm_sigkey_path(keys[0]))
            : mm_xasprintf("signature does not verify with any of the %zu keys",
                           nkeys);
    free(payload);
    return 0;
}

int mm_cosign_verify_image(mm_verify_report **out, mm_registry *c,
                           const mm_imageref *ref, mm_sigkey *const *keys,
                           size_t nkeys)
{
    *out = NULL;
    if (!ref || !ref->repository)
        return mm_error_set(MM_EINVAL, "verify: no image reference");
    char digest[72];
    int rc = image_digest(c, ref, digest);
    if (rc < 0)
        return rc;
    char tag[80];
    rc = mm_cosign_sig_tag(tag, digest);
    if (rc < 0)
        return rc;
    mm_verify_report *r = mm_xcalloc(1, sizeof *r);
    r->reference = ref_repo(ref);
    r->digest = mm_xstrdup(digest);
    r->sig_tag = mm_xstrdup(tag);

    char *body = NULL, *mt = NULL;
    size_t blen = 0;
    char mdig[72];
    rc = mm_registry_get_manifest(c, ref, tag, &body, &blen, &mt, mdig);
    free(mt);
    if (rc == MM_ENOTFOUND) {
        *out = r;
        return 0;
    }
    if (rc < 0) {
        if (!object_error(rc)) {
            mm_verify_report_free(r);
            return rc;
        }
        r->sig_found = true;
        r->error = mm_xstrdup(mm_error_last());
        *out = r;
        return 0;
    }
    r->sig_found = true;
    mm_siglayer *L = NULL;
    size_t n = 0;
    char *where = mm_xasprintf("%s:%s", r->reference, tag);
    rc = mm_cosign_manifest_parse(&L, &n, body, blen, where);
    free(where);
    free(body);
    if (rc < 0) {
        r->error = mm_xstrdup(mm_error_last());
        *out = r;
        return 0;
    }
    r->checks = n ? mm_xcalloc(n, sizeof *r->checks) : NULL;
    for (size_t i = 0; i < n; i++) {
        r->nchecks = i + 1;
        rc = check_layer(&r->checks[i], c, ref, &L[i], keys, nkeys, digest,
                         r->reference);
        if (rc < 0) {
            mm_siglayers_free(L, n);
            mm_verify_report_free(r);
            return rc;
        }
        if (r->checks[i].valid)
            r->verified = true;
    }
    if (n == 0)
        r->error = mm_xstrdup("the signature manifest holds no signatures");
    mm_siglayers_free(L, n);
    *out = r;
    return 0;
}

/* Does a layer of the existing manifest already carry a valid signature
 * by key over this very payload?  Then signing again changes nothing. */
static bool already_signed(const char *existing, size_t exlen, const mm_sigkey *key,
                           const char *pdigest, const char *payload, size_t plen)
{
    mm_siglayer *L = NULL;
    size_t n = 0;
    bool found = false;
    if (mm_cosign_manifest_parse(&L, &n, existing, exlen, "signatures") < 0)
        return false;
    for (size_t i = 0; i < n && !found; i++) {
        if (L[i].problem || strcmp(L[i].digest, pdigest) != 0)
            continue;
        unsigned char *sig = NULL;
        size_t slen = 0;
        if (mm_b64_decode(&sig, &slen, L[i].signature, MM_COSIGN_MAX_SIG_B64) == 0)
            found = mm_sigkey_verify_raw(key, payload, plen, sig, slen) == 1;
        free(sig);
    }
    mm_siglayers_free(L, n);
    mm_error_clear();
    return found;
}

int mm_cosign_sign_image(mm_registry *c, const mm_imageref *ref,
                         const mm_sigkey *key, const char *const *optional_kv,
                         size_t nkv, char digest_out[72])
{
    if (!ref || !ref->repository)
        return mm_error_set(MM_EINVAL, "sign: no image reference");
    if (!mm_sigkey_is_private(key))
        return mm_error_set(MM_EINVAL, "%s: a private key is needed to sign",
                            mm_sigkey_path(key));
    char digest[72];
    int rc = image_digest(c, ref, digest);
    if (rc < 0)
        return rc;
    if (digest_out)
        snprintf(digest_out, 72, "%s", digest);
    char tag[80];
    if ((rc = mm_cosign_sig_tag(tag, digest)) < 0)
        return rc;
    char *reference = ref_repo(ref);
    char *payload = NULL, *sig = NULL, *existing = NULL, *mt = NULL;
    char *manifest = NULL, *config = NULL;
    size_t plen = 0, exlen = 0, mlen = 0, clen = 0;
    char pdig[72], cdig[72], mdig[72];

    rc = mm_cosign_payload(&payload, &plen, reference, digest, optional_kv, nkv);
    if (rc == 0)
        rc = mm_cosign_sign(&sig, key, payload, plen);
    if (rc == 0) {
        mm_sha256_hex(payload, plen, pdig);
        rc = mm_registry_get_manifest(c, ref, tag, &existing, &exlen, &mt, mdig);
        if (rc == MM_ENOTFOUND) {
            rc = 0;
            existing = NULL;
            exlen = 0;
        } else if (rc < 0) {
            rc = mm_error_wrap(rc, "%s:%s: ", reference, tag);
        }
    }
    if (rc == 0 && existing &&
        already_signed(existing, exlen, key, pdig, payload, plen))
        goto done;
    if (rc == 0) {
        char created[32];
        mm_time_rfc3339((int64_t)time(NULL), created);
        rc = mm_cosign_manifest_build(&manifest, &mlen, &config, &clen, existing,
                                      exlen, pdig, plen, sig, created);
    }
    if (rc == 0)
        rc = mm_registry_put_blob(c, ref, payload, plen, pdig);
    if (rc == 0)
        rc = mm_registry_put_blob(c, ref, config, clen, cdig);
    if (rc == 0)
        rc = mm_registry_put_manifest(c, ref, tag,
                                      "application/vnd.oci.image.manifest.v1+json",
                                      manifest, mlen);
done:
    free(reference);
    free(payload);
    free(sig);
    free(existing);
    free(mt);
    free(manifest);
    free(config);
    return rc;
}

/* --- the report as JSON (`mamori verify --format json`) --------------------- */
char *mm_verify_report_json(const mm_verify_report *r, const char *image,
                            mm_sigkey *const *keys, size_t nkeys)
{
    json_t *o = json_object();
    json_object_set_new(o, "image", mm_json_str(image));
    json_object_set_new(o, "reference", mm_json_str(r->reference));
    json_object_set_new(o, "digest", mm_json_str(r->digest));
    json_object_set_new(o, "signature_tag", mm_json_str(r->sig_tag));
    json_object_set_new(o, "signatures_found", json_boolean(r->sig_found));
    json_object_set_new(o, "verified", json_boolean(r->verified));
    json_object_set_new(o, "error", mm_json_str(r->error));
    json_t *ka = json_array();
    for (size_t k = 0; k < nkeys; k++) {
        json_t *ko = json_object();
        json_object_set_new(ko, "path", mm_json_str(mm_sigkey_path(keys[k])));
        json_object_set_new(ko, "type", mm_json_str(mm_sigkey_type(keys[k])));
        json_object_set_new(ko, "id", mm_json_str(mm_sigkey_id(keys[k])));
        json_array_append_new(ka, ko);
    }
    json_object_set_new(o, "keys", ka);
    json_t *sa = json_array();
    for (size_t i = 0; i < r->nchecks; i++) {
        const mm_sigcheck *s = &r->checks[i];
        json_t *so = json_object();
        json_object_set_new(so, "payload_digest", mm_json_str(s->layer_digest));
        json_object_set_new(so, "valid", json_boolean(s->valid));
        json_object_set_new(so, "key_id", mm_json_str(s->key_id));
        json_object_set_new(so, "key_path", mm_json_str(s->key_path));
        json_object_set_new(so, "reason", mm_json_str(s->reason));
        json_array_append_new(sa, so);
    }
    json_object_set_new(o, "signatures", sa);
    char *doc = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    return doc ? doc : mm_xstrdup("{}");
}
