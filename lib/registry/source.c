/*
 * registry/source.c - the registry image source: REGISTRY/REPO[:TAG][@DIGEST]
 * opened through the registry client and plugged into the scan pipeline's
 * intake as an mm_source (image/intake.h).  The manifest (or the index and
 * then the manifest for the platform) and the config are fetched whole and
 * verified; each layer opens as an mm_blob whose bytes stream from the
 * registry (or the blob cache) while the analyzers read them, hashed by
 * the mm_blob and by the client.  The transport facts of the pull
 * (plain HTTP, unverified TLS) become findings through add_findings.
 * The client is made from the registry options, or borrowed (the
 * caller's client) so that a registry scan's many pulls share its
 * connections and tokens; a borrowed client's transport records span
 * every pull, so only the hosts used after this pull began are reported.
 */
#include <stdlib.h>
#include <string.h>

#include "registry/source.h"
#include "util/util.h"

struct impl {
    mm_registry *c;
    bool borrowed;  /* c is the caller's */
    uint64_t mark;  /* its transport records before this pull */
    mm_imageref *ref;
};

static void impl_destroy(mm_source *s)
{
    struct impl *im = s->impl;
    if (!im)
        return;
    if (!im->borrowed)
        mm_registry_free(im->c);
    mm_imageref_free(im->ref);
    free(im);
}

static ssize_t rb_read(void *impl, void *buf, size_t n)
{
    return mm_regblob_read(impl, buf, n);
}

static void rb_close(void *impl)
{
    mm_regblob_free(impl);
}

static const struct mm_blob_ops rb_ops = {rb_read, rb_close};

static int layer_open(mm_source *s, size_t i, mm_blob **out)
{
    struct impl *im = s->impl;
    mm_layer_desc *l = &s->layers[i];
    mm_regblob *rb;
    int rc = mm_registry_open_blob(&rb, im->c, im->ref, l->digest, l->size);
    if (rc < 0)
        return rc;
    char *name = mm_xasprintf("%s@%s", s->reference, l->digest);
    rc = mm_blob_new(out, &rb_ops, rb, name, l->digest, l->size);
    free(name);
    if (rc < 0)
        mm_regblob_free(rb);
    return rc;
}

static int add_findings(mm_source *s, mm_findings *f, const char *image)
{
    struct impl *im = s->impl;
    return mm_registry_add_transport_findings_since(im->c, im->mark, f, image);
}

int mm_registry_source_open(mm_source **out, const char *input,
                            const mm_intake_opts *opts,
                            const mm_registry_opts *ropts, mm_registry *client,
                            const char *tmpdir)
{
    (void)tmpdir;
    *out = NULL;
    mm_source *s = mm_xcalloc(1, sizeof *s);
    struct impl *im = mm_xcalloc(1, sizeof *im);
    s->impl = im;
    s->destroy = impl_destroy;
    s->open_layer = layer_open;
    s->add_findings = add_findings;
    s->format = "registry";
    s->name = mm_xstrdup(input);
    char *body = NULL, *mt = NULL;
    size_t len = 0;
    char digest[72];
    int rc = mm_imageref_parse(&im->ref, input);
    if (rc < 0)
        goto fail;
    s->reference = mm_imageref_format(im->ref);
    if (client) {
        im->c = client;
        im->borrowed = true;
        im->mark = mm_registry_transport_mark(im->c);
    } else {
        rc = mm_registry_new(&im->c, ropts);
        if (rc < 0)
            goto fail;
    }
    uint64_t cap = opts->limits.max_json_size;
    rc = mm_registry_get_manifest(im->c, im->ref, NULL, &body, &len, &mt, digest);
    if (rc < 0)
        goto fail;
    bool is_index;
    char pick[72];
    rc = mm_manifest_platform(s->reference, body, len, mt, opts->platform, &is_index, pick);
    if (rc < 0)
        goto fail;
    if (is_index) {
        s->index_digest = mm_xstrdup(digest);
        free(body);
        free(mt);
        body = mt = NULL;
        rc = mm_registry_get_manifest(im->c, im->ref, pick, &body, &len, &mt, digest);
        if (rc < 0)
            goto fail;
        rc = mm_manifest_platform(s->reference, body, len, mt, opts->platform, &is_index,
                                  pick);
        if (rc < 0)
            goto fail;
        if (is_index) {
            rc = mm_error_set(MM_EUNSUPPORTED, "%s: the index entry for the platform is "
                              "itself an index", s->reference);
            goto fail;
        }
    }
    s->manifest_digest = mm_xstrdup(digest);
    if (len > cap) {
        rc = mm_error_set(MM_ELIMIT, "%s: manifest of %zu bytes is over the limit of %llu",
                          s->reference, len, (unsigned long long)cap);
        goto fail;
    }
    rc = mm_manifest_parse(s, body, len, digest, opts);
    if (rc < 0)
        goto fail;
    /* for messages: which blob a layer came from */
    for (size_t i = 0; i < s->nlayers; i++) {
        free(s->layers[i].member);
        s->layers[i].member = mm_xstrdup(s->layers[i].digest);
    }
    rc = mm_registry_get_blob(im->c, im->ref, s->config_digest, cap, &s->config_json,
                              &s->config_len);
    if (rc < 0) {
        rc = mm_error_wrap(rc, "image config: ");
        goto fail;
    }
    rc = mm_config_parse(s, opts);
    if (rc < 0)
        goto fail;
    if (im->ref->tag) {
        char *t = mm_xasprintf("%s/%s:%s", im->ref->registry, im->ref->repository,
                               im->ref->tag);
        mm_strv_push(&s->repo_tags, &s->nrepo_tags, t);
        free(t);
    }
    free(body);
    free(mt);
    *out = s;
    return 0;
fail:
    free(body);
    free(mt);
    mm_source_free(s);
    return rc;
}
