/*
 * scan/verify.c - the signature stage of the pipeline (issue 20): when the
 * caller gives public keys (mm_pipeline_opts.verify_keys), an image pulled
 * from a registry has its cosign-compatible signatures checked
 * (mamori/trust.h) against the very digest that was scanned, so that a tag
 * moved between the pull and the check cannot pass.  The verification
 * becomes the result's "signature" member (the document of `mamori verify
 * --format json`) and, when no signature by one of the keys is valid, a
 * finding MM-SIG-001 of kind trust under SP 800-190 §3.1.5 (use of
 * untrusted images).  A registry that cannot be asked is no error of the
 * scan: the member says why and the image counts as not verified.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mamori/registry.h"
#include "mamori/trust.h"
#include "scan/scan_int.h"
#include "util/json.h"

#define SP800190_URL "https://doi.org/10.6028/NIST.SP.800-190"

struct scan_verifier {
    mm_sigkey **keys;
    size_t nkeys;
};

int scan_verifier_new(scan_verifier **out, const char *const *paths, size_t n)
{
    *out = NULL;
    if (!n)
        return 0;
    if (n > 64)
        return mm_error_set(MM_ELIMIT, "signature keys: at most 64, got %zu", n);
    scan_verifier *v = mm_xcalloc(1, sizeof *v);
    v->keys = mm_xcalloc(n, sizeof *v->keys);
    for (size_t i = 0; i < n; i++, v->nkeys++) {
        int rc = mm_sigkey_load_public(&v->keys[i], paths[i]);
        if (rc < 0) {
            scan_verifier_free(v);
            return mm_error_wrap(rc, "signature key: ");
        }
    }
    *out = v;
    return 0;
}

void scan_verifier_free(scan_verifier *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nkeys; i++)
        mm_sigkey_free(v->keys[i]);
    free(v->keys);
    free(v);
}

/* The member when the registry could not be asked: the shape of
 * mm_verify_report_json with the reason in "error". */
static char *failed_json(const scan_verifier *v, const char *image, const char *digest,
                         const char *why)
{
    json_t *o = json_object();
    json_object_set_new(o, "image", mm_json_str(image));
    json_object_set_new(o, "reference", json_null());
    json_object_set_new(o, "digest", mm_json_str(digest));
    json_object_set_new(o, "signature_tag", json_null());
    json_object_set_new(o, "signatures_found", json_false());
    json_object_set_new(o, "verified", json_false());
    json_object_set_new(o, "error", mm_json_str(why));
    json_t *ka = json_array();
    for (size_t k = 0; k < v->nkeys; k++)
        json_array_append_new(ka, json_pack("{s:s,s:s,s:s}", "path",
                                            mm_sigkey_path(v->keys[k]), "type",
                                            mm_sigkey_type(v->keys[k]), "id",
                                            mm_sigkey_id(v->keys[k])));
    json_object_set_new(o, "keys", ka);
    json_object_set_new(o, "signatures", json_array());
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(o);
    char *out = mm_xstrdup(s ? s : "{}");
    free(s);
    return out;
}

/* Why the image is not verified, one line for the finding's evidence. */
static char *why_not(const mm_verify_report *rep, const char *err)
{
    if (err)
        return mm_xasprintf("verification failed: %s", err);
    if (rep->error)
        return mm_xasprintf("signatures %s: %s", rep->sig_tag, rep->error);
    if (!rep->sig_found)
        return mm_xasprintf("no signature (%s:%s not found)", rep->reference, rep->sig_tag);
    mm_buf b = MM_BUF_INIT_MAX(2048);
    mm_buf_printf(&b, "%zu signature%s, none valid by the keys given", rep->nchecks,
                  rep->nchecks == 1 ? "" : "s");
    for (size_t i = 0; i < rep->nchecks && i < 4; i++)
        if (rep->checks[i].reason)
            mm_buf_printf(&b, "; %s", rep->checks[i].reason);
    char *s = mm_xstrdup(b.data ? b.data : "");
    mm_buf_free(&b);
    return s;
}

bool scan_cosign_artifact_tag(const char *tag)
{
    static const char *const ends[] = {".sig", ".att", ".sbom"};
    size_t n = tag ? strlen(tag) : 0;
    if (n < 7 + 64 + 4 || strncmp(tag, "sha256-", 7) != 0)
        return false;
    for (size_t i = 7; i < 7 + 64; i++)
        if (!strchr("0123456789abcdef", tag[i]) || !tag[i])
            return false;
    for (size_t k = 0; k < sizeof ends / sizeof ends[0]; k++)
        if (!strcmp(tag + 7 + 64, ends[k]))
            return true;
    return false;
}

bool scan_verifier_record_fresh(const scan_verifier *v, const char *report_json)
{
    if (!v)
        return true;
    /* most stored reports carry no verification: no need to parse them */
    if (!report_json || !strstr(report_json, "\"signature\""))
        return false;
    json_t *d = json_loads(report_json, 0, NULL);
    json_t *sig = json_object_get(d, "signature");
    json_t *ka = json_object_get(sig, "keys");
    bool ok = json_is_true(json_object_get(sig, "verified")) &&
              json_array_size(ka) == v->nkeys;
    for (size_t i = 0; ok && i < v->nkeys; i++) {
        bool found = false;
        for (size_t k = 0; !found && k < json_array_size(ka); k++) {
            const char *id = json_string_value(json_object_get(json_array_get(ka, k), "id"));
            found = id && !strcmp(id, mm_sigkey_id(v->keys[i]));
        }
        ok = found;
    }
    json_decref(d);
    return ok;
}

int scan_verify(scan_verifier *v, mm_result *r, mm_target_kind kind, const char *input,
                const mm_scan_opts *so)
{
    if (!v)
        return 0;
    if (kind != MM_TARGET_REGISTRY) {
        mm_result_warn(r, "signatures not checked: %s is no registry reference (signatures "
                       "are kept in the registry beside the image)", input);
        return 0;
    }
    const mm_image_info *im = mm_result_image(r);
    /* the digest that was scanned: an index's when the tag named one */
    const char *digest = im ? (im->index_digest ? im->index_digest : im->manifest_digest)
                            : NULL;
    mm_imageref *ref = NULL;
    mm_registry *own = NULL, *c = so->registry_client;
    mm_verify_report *rep = NULL;
    char *err = NULL, *doc = NULL;
    int rc = mm_imageref_parse(&ref, input);
    if (rc == 0 && digest && mm_digest_valid(digest)) {
        free(ref->digest);
        ref->digest = mm_xstrdup(digest);
    }
    if (rc == 0 && !c && (rc = mm_registry_new(&own, so->registry)) == 0)
        c = own;
    if (rc == 0)
        rc = mm_cosign_verify_image(&rep, c, ref, v->keys, v->nkeys);
    if (rc < 0) {
        err = mm_xstrdup(mm_error_last());
        doc = failed_json(v, input, digest, err);
    } else {
        doc = mm_verify_report_json(rep, input, v->keys, v->nkeys);
    }
    mm_result_set_signature_json(r, doc);
    bool verified = rep && rep->verified;
    rc = 0;
    if (!verified) {
        char *ev = why_not(rep, err);
        char *title = mm_xasprintf("image %s is not signed by a trusted key", input);
        char *refs[] = {SP800190_URL};
        mm_finding f;
        memset(&f, 0, sizeof f);
        f.id = (char *)"MM-SIG-001";
        f.kind = MM_FIND_TRUST;
        f.severity = MM_SEV_HIGH;
        f.title = title;
        f.section = (char *)"3.1.5";
        f.loc.image = (char *)input;
        f.loc.layer = -1;
        f.evidence = ev;
        f.remediation = (char *)"Sign the image with a key of the trusted set (mamori sign, or cosign "
                        "sign --key) after it was built and scanned, and deploy it by digest; "
                        "do not run images whose signature does not verify.";
        f.references = refs;
        f.nreferences = 1;
        rc = mm_findings_add(mm_result_findings(r), &f);
        free(title);
        free(ev);
    }
    free(doc);
    free(err);
    mm_verify_report_free(rep);
    mm_registry_free(own);
    mm_imageref_free(ref);
    return rc;
}
