/*
 * cosign.c - cosign's "simple signing" format without the network: the
 * payload bytes (written exactly as cosign's Go encoder writes them, so
 * that the same image gives the same payload digest), signing and
 * checking a payload, strict base64, and the signature manifest with its
 * config (parsed from registries, so every size and count is capped; built
 * byte for byte like cosign's).  docs/signatures.md is the reference.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "trust/trust_int.h"

/* --- base64 -------------------------------------------------------------- */
/* util's codec (b64.c), with the signature's own cap and error domain */

char *mm_b64_encode(const void *d, size_t n)
{
    return mm_base64_encode(d, n);
}

int mm_b64_decode(unsigned char **out, size_t *outlen, const char *s,
                  size_t max_chars)
{
    *out = NULL;
    *outlen = 0;
    size_t n = strnlen(s, max_chars + 1);
    if (n > max_chars)
        return mm_error_set(MM_ESIGNATURE,
                            "signature: base64 longer than %zu characters",
                            max_chars);
    if (mm_base64_decode(out, outlen, s, n, 0) < 0)
        return mm_error_set(MM_ESIGNATURE, "signature: %s (not base64)", mm_error_last());
    return 0;
}

/* --- references ----------------------------------------------------------- */

static bool is_dockerhub(const char *host, size_t n)
{
    return (n == 9 && !strncmp(host, "docker.io", 9)) ||
           (n == 15 && !strncmp(host, "index.docker.io", 15)) ||
           (n == 20 && !strncmp(host, "registry-1.docker.io", 20));
}

char *mm_cosign_normref(const char *ref)
{
    if (!ref || !*ref)
        return NULL;
    /* drop "@digest", then a ":tag" in the last path component */
    size_t n = strcspn(ref, "@");
    const char *last = ref;
    for (size_t i = 0; i < n; i++)
        if (ref[i] == '/')
            last = ref + i + 1;
    const char *colon = memchr(last, ':', n - (size_t)(last - ref));
    if (colon && last != ref)
        n = (size_t)(colon - ref);
    else if (colon && last == ref) {
        /* "name:tag" with no slash: a tag, since a bare host needs a repo */
        n = (size_t)(colon - ref);
    }
    const char *slash = memchr(ref, '/', n);
    size_t hlen = slash ? (size_t)(slash - ref) : 0;
    bool has_host = slash && (memchr(ref, '.', hlen) || memchr(ref, ':', hlen) ||
                              (hlen == 9 && !strncmp(ref, "localhost", 9)));
    mm_buf b = MM_BUF_INIT;
    const char *repo = ref;
    size_t rlen = n;
    bool hub;
    if (has_host) {
        hub = is_dockerhub(ref, hlen);
        if (hub)
            mm_buf_adds(&b, "index.docker.io");
        else
            for (size_t i = 0; i < hlen; i++)
                mm_buf_addc(&b, (char)((ref[i] >= 'A' && ref[i] <= 'Z')
                                           ? ref[i] - 'A' + 'a' : ref[i]));
        repo = slash + 1;
        rlen = n - hlen - 1;
    } else {
        hub = true;
        mm_buf_adds(&b, "index.docker.io");
    }
    mm_buf_addc(&b, '/');
    if (hub && !memchr(repo, '/', rlen))
        mm_buf_adds(&b, "library/");
    mm_buf_add(&b, repo, rlen);
    return mm_buf_detach(&b);
}

/* --- payloads ------------------------------------------------------------- */

/* A JSON string as Go's encoding/json writes it (json.Marshal escapes
 * <, > and & and the JavaScript line separators), so that our payload is
 * byte for byte cosign's.  Control characters and bad UTF-8 are refused
 * earlier, where the value comes in. */
static void go_json_string(mm_buf *b, const char *s)
{
    mm_buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            mm_buf_addc(b, '\\');
            mm_buf_addc(b, (char)*p);
        } else if (*p == '<' || *p == '>' || *p == '&') {
            mm_buf_printf(b, "\\u%04x", *p);
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            mm_buf_printf(b, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
            p += 2;
        } else {
            mm_buf_addc(b, (char)*p);
        }
    }
    mm_buf_addc(b, '"');
}

/* Valid UTF-8 with no control characters: what we accept in a payload
 * string (so that the Go-compatible encoding above stays exact). */
static bool clean_text(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        unsigned c = *p;
        size_t k;
        uint32_t cp;
        if (c < 0x20 || c == 0x7f)
            return false;
        if (c < 0x80) {
            p++;
            continue;
        }
        if ((c & 0xe0) == 0xc0) { k = 1; cp = c & 0x1f; }
        else if ((c & 0xf0) == 0xe0) { k = 2; cp = c & 0x0f; }
        else if ((c & 0xf8) == 0xf0) { k = 3; cp = c & 0x07; }
        else return false;
        if ((size_t)(end - p) <= k)
            return false;
        for (size_t i = 1; i <= k; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) ||
            (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += k + 1;
    }
    return true;
}

struct kv { char *k, *v; };

static int kv_cmp(const void *a, const void *b)
{
    return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

int mm_cosign_payload(char **out, size_t *len, const char *reference,
                      const char *digest, const char *const *optional_kv,
                      size_t nkv)
{
    *out = NULL;
    if (len)
        *len = 0;
    if (!reference || !*reference || !clean_text(reference, strlen(reference)))
        return mm_error_set(MM_EINVAL, "payload: bad docker-reference");
    if (!digest || !mm_digest_valid(digest))
        return mm_error_set(MM_EINVAL, "payload: \"%s\" is not a sha256 digest",
                            digest ? digest : "(null)");
    if (nkv > MM_COSIGN_MAX_OPTIONAL)
        return mm_error_set(MM_ELIMIT, "payload: %zu annotations (at most %d)",
                            nkv, MM_COSIGN_MAX_OPTIONAL);
    struct kv *kvs = nkv ? mm_xcalloc(nkv, sizeof *kvs) : NULL;
    size_t m = 0;
    int rc = 0;
    for (size_t i = 0; i < nkv && rc == 0; i++) {
        const char *eq = optional_kv[i] ? strchr(optional_kv[i], '=') : NULL;
        if (!eq || eq == optional_kv[i]) {
            rc = mm_error_set(MM_EINVAL,
                              "annotation \"%s\": expected key=value",
                              optional_kv[i] ? optional_kv[i] : "(null)");
            break;
        }
        if (!clean_text(optional_kv[i], strlen(optional_kv[i]))) {
            rc = mm_error_set(MM_EINVAL,
                              "annotation %zu: control characters or bad UTF-8",
                              i + 1);
            break;
        }
        char *k = mm_xstrndup(optional_kv[i], (size_t)(eq - optional_kv[i]));
        /* a repeated key keeps its last value, like cosign's map */
        size_t j;
        for (j = 0; j < m; j++)
            if (!strcmp(kvs[j].k, k))
                break;
        if (j < m) {
            free(k);
            free(kvs[j].v);
            kvs[j].v = mm_xstrdup(eq + 1);
        } else {
            kvs[m].k = k;
            kvs[m++].v = mm_xstrdup(eq + 1);
        }
    }
    if (rc == 0) {
        /* Go marshals a map with its keys sorted bytewise */
        if (m)
            qsort(kvs, m, sizeof *kvs, kv_cmp);
        mm_buf b = MM_BUF_INIT;
        mm_buf_adds(&b, "{\"critical\":{\"identity\":{\"docker-reference\":");
        go_json_string(&b, reference);
        mm_buf_adds(&b, "},\"image\":{\"docker-manifest-digest\":");
        go_json_string(&b, digest);
        mm_buf_adds(&b, "},\"type\":");
        go_json_string(&b, MM_COSIGN_TYPE);
        mm_buf_adds(&b, "},\"optional\":");
        if (!m) {
            mm_buf_adds(&b, "null");
        } else {
            mm_buf_addc(&b, '{');
            for (size_t j = 0; j < m; j++) {
                if (j)
                    mm_buf_addc(&b, ',');
                go_json_string(&b, kvs[j].k);
                mm_buf_addc(&b, ':');
                go_json_string(&b, kvs[j].v);
            }
            mm_buf_addc(&b, '}');
        }
        mm_buf_addc(&b, '}');
        if (len)
            *len = b.len;
        *out = mm_buf_detach(&b);
    }
    for (size_t j = 0; j < m; j++) {
        free(kvs[j].k);
        free(kvs[j].v);
    }
    free(kvs);
    return rc;
}

static json_t *obj_get(json_t *o, const char *k)
{
    return json_is_object(o) ? json_object_get(o, k) : NULL;
}

int mm_cosign_payload_check(const void *payload, size_t len,
                            const char *expect_digest,
                            const char *expect_reference)
{
    if (len > MM_COSIGN_MAX_PAYLOAD)
        return mm_error_set(MM_ESIGNATURE, "payload: %zu bytes (at most %u)", len,
                            MM_COSIGN_MAX_PAYLOAD);
    json_error_t jerr;
    /* duplicate keys are refused: two docker-manifest-digest members would
     * let a signer and a verifier read different claims */
    json_t *root = json_loadb(payload, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return mm_error_set(MM_ESIGNATURE, "payload: not JSON (line %d column %d: %s)",
                            jerr.line, jerr.column, jerr.text);
    int rc = 0;
    json_t *crit = obj_get(root, "critical");
    json_t *type = obj_get(crit, "type");
    json_t *dig = obj_get(obj_get(crit, "image"), "docker-manifest-digest");
    json_t *ref = obj_get(obj_get(crit, "identity"), "docker-reference");
    json_t *opt = obj_get(root, "optional");
    if (!json_is_object(root))
        rc = mm_error_set(MM_ESIGNATURE, "payload: not a JSON object");
    else if (!json_is_object(crit))
        rc = mm_error_set(MM_ESIGNATURE, "payload: no \"critical\" object");
    else if (!json_is_string(type))
        rc = mm_error_set(MM_ESIGNATURE, "payload: no critical.type");
    else if (strcmp(json_string_value(type), MM_COSIGN_TYPE) != 0)
        rc = mm_error_set(MM_ESIGNATURE,
                          "payload: critical.type is \"%.80s\", not \"%s\"",
                          json_string_value(type), MM_COSIGN_TYPE);
    else if (!json_is_string(dig))
        rc = mm_error_set(MM_ESIGNATURE,
                          "payload: no critical.image.docker-manifest-digest");
    else if (!expect_digest || strcmp(json_string_value(dig), expect_digest) != 0)
        rc = mm_error_set(MM_ESIGNATURE,
                          "payload: signs digest %.80s, the image is %s",
                          json_string_value(dig),
                          expect_digest ? expect_digest : "(none)");
    else if (!json_is_string(ref))
        rc = mm_error_set(MM_ESIGNATURE,
                          "payload: no critical.identity.docker-reference");
    else if (opt && !json_is_object(opt) && !json_is_null(opt))
        rc = mm_error_set(MM_ESIGNATURE,
                          "payload: \"optional\" is neither an object nor null");
    else if (expect_reference) {
        char *a = mm_cosign_normref(json_string_value(ref));
        char *b = mm_cosign_normref(expect_reference);
        if (!a || !b || strcmp(a, b) != 0)
            rc = mm_error_set(MM_ESIGNATURE,
                              "payload: signs reference %.200s, the image is %s",
                              json_string_value(ref), b ? b : expect_reference);
        free(a);
        free(b);
    }
    json_decref(root);
    return rc;
}

int mm_cosign_sign(char **sig_b64, const mm_sigkey *key, const void *payload,
                   size_t len)
{
    *sig_b64 = NULL;
    unsigned char *sig = NULL;
    size_t slen = 0;
    int rc = mm_sigkey_sign_raw(key, payload, len, &sig, &slen);
    if (rc < 0)
        return rc;
    *sig_b64 = mm_b64_encode(sig, slen);
    free(sig);
    return 0;
}

int mm_cosign_verify_payload(const mm_sigkey *key, const void *payload,
                             size_t len, const char *sig_b64,
                             const char *expect_digest,
                             const char *expect_reference)
{
    if (!sig_b64)
        return mm_error_set(MM_ESIGNATURE, "no %s annotation", MM_COSIGN_SIG_ANNOTATION);
    if (len > MM_COSIGN_MAX_PAYLOAD)
        return mm_error_set(MM_ESIGNATURE, "payload: %zu bytes (at most %u)", len,
                            MM_COSIGN_MAX_PAYLOAD);
    unsigned char *sig = NULL;
    size_t slen = 0;
    int rc = mm_b64_decode(&sig, &slen, sig_b64, MM_COSIGN_MAX_SIG_B64);
    if (rc < 0)
        return rc;
    /* the signature first: the claims of an unsigned payload mean nothing */
    int ok = mm_sigkey_verify_raw(key, payload, len, sig, slen);
    free(sig);
    if (!ok)
        return mm_error_set(MM_ESIGNATURE,
                            "signature does not verify with %s key %s (%s)",
                            mm_sigkey_type(key), mm_sigkey_path(key),
                            mm_sigkey_id(key));
    return mm_cosign_payload_check(payload, len, expect_digest, expect_reference);
}

int mm_cosign_sig_tag(char out[80], const char *digest)
{
    if (!digest || !mm_digest_valid(digest))
        return mm_error_set(MM_EINVAL, "\"%s\" is not a sha256 digest",
                            digest ? digest : "(null)");
    snprintf(out, 80, "sha256-%s.sig", digest + 7);
    return 0;
}

/* --- signature manifests ------------------------------------------------- */

void mm_siglayers_free(mm_siglayer *l, size_t n)
{
    if (!l)
        return;
    for (size_t i = 0; i < n; i++) {
        free(l[i].media_type);
        free(l[i].digest);
        free(l[i].signature);
        free(l[i].problem);
    }
    free(l);
}

static void parse_layer(mm_siglayer *L, json_t *d, size_t i)
{
    if (!json_is_object(d)) {
        L->problem = mm_xasprintf("layer %zu is not an object", i);
        return;
    }
    json_t *mt = json_object_get(d, "mediaType");
    json_t *dg = json_object_get(d, "digest");
    json_t *sz = json_object_get(d, "size");
    json_t *sig = json_object_get(obj_get(d, "annotations"), MM_COSIGN_SIG_ANNOTATION);
    if (json_is_string(mt))
        L->media_type = mm_xstrndup(json_string_value(mt), 200);
    if (json_is_string(dg) && mm_digest_valid(json_string_value(dg)))
        L->digest = mm_xstrdup(json_string_value(dg));
    if (json_is_integer(sz) && json_integer_value(sz) >= 0)
        L->size = (uint64_t)json_integer_value(sz);
    if (json_is_string(sig) && json_string_length(sig) <= MM_COSIGN_MAX_SIG_B64)
        L->signature = mm_xstrdup(json_string_value(sig));
    if (!L->media_type || strcmp(L->media_type, MM_COSIGN_PAYLOAD_TYPE) != 0)
        L->problem = mm_xasprintf("layer %zu: media type %s is not %s", i,
                                  L->media_type ? L->media_type : "(none)",
                                  MM_COSIGN_PAYLOAD_TYPE);
    else if (!L->digest)
        L->problem = mm_xasprintf("layer %zu: no sha256 digest", i);
    else if (!json_is_integer(sz) || json_integer_value(sz) < 0)
        L->problem = mm_xasprintf("layer %zu: no size", i);
    else if (L->size > MM_COSIGN_MAX_PAYLOAD)
        L->problem = mm_xasprintf("layer %zu: payload of %llu bytes (at most %u)",
                                  i, (unsigned long long)L->size,
                                  MM_COSIGN_MAX_PAYLOAD);
    else if (json_is_string(sig) && !L->signature)
        L->problem = mm_xasprintf("layer %zu: signature annotation over %d "
                                  "characters", i, MM_COSIGN_MAX_SIG_B64);
    else if (!L->signature)
        L->problem = mm_xasprintf("layer %zu: no %s annotation", i,
                                  MM_COSIGN_SIG_ANNOTATION);
}

int mm_cosign_manifest_parse(mm_siglayer **out, size_t *n, const char *body,
                             size_t len, const char *where)
{
    *out = NULL;
    *n = 0;
    if (len > MM_COSIGN_MAX_MANIFEST)
        return mm_error_set(MM_ELIMIT, "%s: signature manifest of %zu bytes "
                            "(at most %u)", where, len, MM_COSIGN_MAX_MANIFEST);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return mm_error_set(MM_EFORMAT, "%s: signature manifest: line %d column %d: %s",
                            where, jerr.line, jerr.column, jerr.text);
    int rc = 0;
    json_t *layers = obj_get(root, "layers");
    json_t *sv = obj_get(root, "schemaVersion");
    if (!json_is_object(root))
        rc = mm_error_set(MM_EFORMAT, "%s: signature manifest is not an object", where);
    else if (!json_is_integer(sv) || json_integer_value(sv) != 2)
        rc = mm_error_set(MM_EFORMAT, "%s: signature manifest: schemaVersion is not 2",
                          where);
    else if (!json_is_array(layers))
        rc = mm_error_set(MM_EFORMAT, "%s: signature manifest: no \"layers\" array",
                          where);
    else if (json_array_size(layers) > MM_COSIGN_MAX_LAYERS)
        rc = mm_error_set(MM_ELIMIT, "%s: signature manifest: %zu layers (at most %d)",
                          where, json_array_size(layers), MM_COSIGN_MAX_LAYERS);
    if (rc == 0) {
        size_t cnt = json_array_size(layers);
        mm_siglayer *L = cnt ? mm_xcalloc(cnt, sizeof *L) : NULL;
        for (size_t i = 0; i < cnt; i++)
            parse_layer(&L[i], json_array_get(layers, i), i);
        *out = L;
        *n = cnt;
    }
    json_decref(root);
    return rc;
}

static json_t *descriptor(const char *media_type, uint64_t size, const char *digest)
{
    json_t *d = json_object();
    json_object_set_new(d, "mediaType", json_string(media_type));
    json_object_set_new(d, "size", json_integer((json_int_t)size));
    json_object_set_new(d, "digest", json_string(digest));
    return d;
}

int mm_cosign_manifest_build(char **manifest, size_t *mlen, char **config,
                             size_t *clen, const char *existing, size_t exlen,
                             const char *payload_digest, uint64_t payload_size,
                             const char *sig_b64, const char *created)
{
    *manifest = *config = NULL;
    *mlen = *clen = 0;
    json_t *old = NULL;
    json_t *layers = json_array();
    int rc = 0;
    if (existing) {
        /* our own parser first: it enforces the caps and the shape */
        mm_siglayer *L = NULL;
        size_t n = 0;
        rc = mm_cosign_manifest_parse(&L, &n, existing, exlen, "existing signatures");
        mm_siglayers_free(L, n);
        if (rc == 0) {
            old = json_loadb(existing, exlen, JSON_REJECT_DUPLICATES, NULL);
            json_t *ol = obj_get(old, "layers");
            if (json_array_size(ol) + 1 > MM_COSIGN_MAX_LAYERS)
                rc = mm_error_set(MM_ELIMIT, "signature manifest already holds %zu "
                                  "signatures (at most %d)", json_array_size(ol),
                                  MM_COSIGN_MAX_LAYERS);
            for (size_t i = 0; rc == 0 && i < json_array_size(ol); i++)
                json_array_append(layers, json_array_get(ol, i));
        }
    }
    if (rc == 0) {
        json_t *nl = descriptor(MM_COSIGN_PAYLOAD_TYPE, payload_size, payload_digest);
        json_t *ann = json_object();
        json_object_set_new(ann, MM_COSIGN_SIG_ANNOTATION, json_string(sig_b64));
        json_object_set_new(nl, "annotations", ann);
        json_array_append_new(layers, nl);

        /* the config as go-containerregistry's mutate.Append leaves it on
         * an empty image: one history entry and one diff_id per layer
         * (a payload is not compressed, so its diff_id is its digest) */
        json_t *cfg = json_object();
        json_t *hist = json_array(), *diffs = json_array();
        for (size_t i = 0; i < json_array_size(layers); i++) {
            json_t *h = json_object();
            json_object_set_new(h, "created", json_string("0001-01-01T00:00:00Z"));
            json_array_append_new(hist, h);
            json_t *dg = obj_get(json_array_get(layers, i), "digest");
            json_array_append_new(diffs, json_string(json_is_string(dg)
                                                         ? json_string_value(dg) : ""));
        }
        json_t *rootfs = json_object();
        json_object_set_new(rootfs, "type", json_string("layers"));
        json_object_set_new(rootfs, "diff_ids", diffs);
        json_object_set_new(cfg, "architecture", json_string(""));
        json_object_set_new(cfg, "created", json_string(created));
        json_object_set_new(cfg, "history", hist);
        json_object_set_new(cfg, "os", json_string(""));
        json_object_set_new(cfg, "rootfs", rootfs);
        json_object_set_new(cfg, "config", json_object());
        char *cj = json_dumps(cfg, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(cfg);
        char cdig[72];
        mm_sha256_hex(cj, strlen(cj), cdig);

        json_t *m = json_object();
        json_object_set_new(m, "schemaVersion", json_integer(2));
        json_object_set_new(m, "mediaType",
                            json_string("application/vnd.oci.image.manifest.v1+json"));
        json_object_set_new(m, "config",
                            descriptor("application/vnd.oci.image.config.v1+json",
                                       strlen(cj), cdig));
        json_object_set(m, "layers", layers);
        json_t *oann = obj_get(old, "annotations");
        if (json_is_object(oann))
            json_object_set(m, "annotations", oann);
        char *mj = json_dumps(m, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(m);
        *manifest = mm_xstrdup(mj);
        *mlen = strlen(mj);
        *config = mm_xstrdup(cj);
        *clen = strlen(cj);
        free(mj);
        free(cj);
    }
    json_decref(layers);
    json_decref(old);
    return rc;
}
