/*
 * scan/scan.c - one scan from start to finish: open the source (intake.c),
 * walk every layer once through the merged tree and the analyzers
 * (analyzers.c), let the analyzers conclude against the merged view,
 * complete the inventory (purls, layers, order), mask secrets in the
 * history and the findings' instructions (redact.c), key the result for
 * the store, and hand back an mm_result.  Also a Dockerfile linted into a
 * result for the same report writers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mamori/dockerfile.h"
#include "mamori/pkg.h"
#include "scan/scan_int.h"

/* --- options and results -------------------------------------------------------- */
unsigned mm_scan_available_scanners(void)
{
    /* each scanner adds its bit here when it lands */
    return MM_SCANNER_MALWARE | MM_SCANNER_MISCONFIG | MM_SCANNER_SECRET;
}

void mm_scan_opts_init(mm_scan_opts *o)
{
    memset(o, 0, sizeof *o);
}

/* --- image metadata from the config --------------------------------------------- */
static void image_info_from(mm_result *r, mm_source *s)
{
    mm_image_info *im = mm_result_image_mut(r);
    im->source_format = mm_xstrdup(s->format);
    im->manifest_digest = mm_xstrdup(s->manifest_digest);
    im->index_digest = mm_xstrdup(s->index_digest);
    im->reference = mm_xstrdup(s->reference);
    im->config_digest = mm_xstrdup(s->config_digest);
    for (size_t i = 0; i < s->nrepo_tags; i++)
        mm_strv_push(&im->repo_tags, &im->nrepo_tags, s->repo_tags[i]);
    im->config_json = mm_xstrndup(s->config_json, s->config_len);
    json_t *c = json_loadb(s->config_json, s->config_len, 0, NULL);
    if (!c)
        return;
    im->os = mm_xstrdup(json_string_value(json_object_get(c, "os")));
    im->architecture = mm_xstrdup(json_string_value(json_object_get(c, "architecture")));
    im->variant = mm_xstrdup(json_string_value(json_object_get(c, "variant")));
    im->created = mm_xstrdup(json_string_value(json_object_get(c, "created")));
    json_t *cfg = json_object_get(c, "config");
    im->user = mm_xstrdup(json_string_value(json_object_get(cfg, "User")));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(cfg, "Env"), i, v)
        if (json_is_string(v))
            mm_strv_push(&im->env, &im->nenv, json_string_value(v));
    json_decref(c);
}

/* --- the scan ------------------------------------------------------------------- */
static void complete_inventory(mm_result *r)
{
    char *distro = NULL;
    const mm_os_info *os = mm_result_os(r);
    mm_inventory *inv = mm_result_inventory(r);
    if (os->family && os->version)
        distro = mm_xasprintf("%s-%s", os->family, os->version);
    size_t n = mm_inventory_count(inv);
    for (size_t i = 0; i < n; i++) {
        mm_package *p = (mm_package *)mm_inventory_get(inv, i);
        if (!p->purl)
            p->purl = mm_purl_for(p, os->family, distro);
        const mm_layer_info *li = p->layer >= 0 ? mm_result_layer(r, (size_t)p->layer) : NULL;
        if (!p->layer_digest && li)
            p->layer_digest = mm_xstrdup(li->diff_id);
    }
    free(distro);
    mm_inventory_sort(inv);
}

/* --- layer records shared between scans (mm_layer_cache) ------------------ */
#define DEFAULT_MAX_RECORD ((size_t)256 << 20)

/* The cache keys of an image's layers: the OCI chain id of each layer
 * (its diff_id over those below it) with what decides what the walk hands
 * the analyzers.  NULL when the cache does not apply to this scan. */
static char **layer_keys(const mm_source *s, const mm_scan_opts *o)
{
    if (!o->layer_cache || o->malware || o->secret || s->nlayers == 0)
        return NULL;
    for (size_t i = 0; i < s->nlayers; i++)
        if (!s->layers[i].diff_id)
            return NULL;
    char **keys = mm_xcalloc(s->nlayers, sizeof *keys);
    char chain[72];
    for (size_t i = 0; i < s->nlayers; i++) {
        if (i == 0) {
            snprintf(chain, sizeof chain, "%s", s->layers[0].diff_id);
        } else {
            char *t = mm_xasprintf("%s %s", chain, s->layers[i].diff_id);
            mm_sha256_hex(t, strlen(t), chain);
            free(t);
        }
        char *k = mm_xasprintf("mamori-layer-record-1|%s|scanners=%u|%llu/%llu/%llu/%llu|%s",
                               MM_VERSION, o->scanners & ~(unsigned)MM_SCANNER_VULN,
                               (unsigned long long)o->limits.max_buffered,
                               (unsigned long long)o->limits.max_file_size,
                               (unsigned long long)o->limits.max_entries,
                               (unsigned long long)o->limits.max_path, chain);
        char d[72];
        mm_sha256_hex(k, strlen(k), d);
        free(k);
        keys[i] = mm_xstrdup(d);
    }
    return keys;
}

/* The layer from its record: 1 done, 0 walk it (*record: and record it),
 * <0 the scan is unusable (a record went in half). */
static int layer_from_cache(mm_result *r, mm_walker *w, const mm_layer_cache *lc,
                            const char *key, size_t i, mm_layer_info *li, bool *record)
{
    *record = false;
    char *data = NULL;
    size_t len = 0;
    int g = lc->get(lc->ud, key, &data, &len);
    if (g == MM_ENOTFOUND) {
        *record = true;
        return 0;
    }
    if (g < 0)
        return 0;
    uint64_t ents = 0, bs = 0, un = 0;
    bool fed = false;
    int rc = mm_walker_replay(w, (int)i, (const uint8_t *)data, len, &ents, &bs, &un, &fed);
    free(data);
    if (rc == 0) {
        li->size = bs;
        li->uncompressed = un;
        li->entries = ents;
        return 1;
    }
    if (fed)
        return mm_error_wrap(rc, "layer %zu: ", i);
    mm_result_warn(r, "layer %zu: its stored record could not be used (%s): walked instead",
                   i, mm_error_last());
    lc->drop(lc->ud, key, true);
    return 0;
}

static int scan_layers(mm_result *r, mm_walker *w, mm_source *s,
                       const mm_scan_opts *o, mm_redactor *rx)
{
    mm_layer_info *layers = mm_result_set_layers(r, s->nlayers);
    for (size_t i = 0; i < s->nlayers; i++) {
        mm_layer_info *li = &layers[i];
        li->index = (int)i;
        li->digest = mm_xstrdup(s->layers[i].digest);
        li->diff_id = mm_xstrdup(s->layers[i].diff_id);
        li->media_type = mm_xstrdup(s->layers[i].media_type);
        /* history lines are printed in every report: a secret passed
         * as a build argument must not be */
        li->created_by = mm_redactor_text(rx, s->layers[i].created_by);
    }
    const mm_layer_cache *lc = o->layer_cache;
    char **keys = layer_keys(s, o);
    mm_buf rec = MM_BUF_INIT;
    int rc = 0;
    for (size_t i = 0; i < s->nlayers; i++) {
        mm_layer_info *li = &layers[i];
        if (o->progress)
            o->progress(o->progress_ud, (int)i, (int)s->nlayers, 0, 0);
        bool record = false;
        if (keys) {
            rc = layer_from_cache(r, w, lc, keys[i], i, li, &record);
            if (rc < 0)
                break;
            if (rc == 1) {
                rc = 0;
                continue;
            }
        }
        mm_blob *b;
        rc = s->open_layer(s, i, &b);
        if (rc < 0) {
            rc = mm_error_wrap(rc, "layer %zu: ", i);
            goto drop;
        }
        mm_decoder *d;
        mm_decoder_new(&d, b, o->limits.max_total_size);
        char diff[72];
        uint64_t entries = 0;
        if (record)
            mm_walker_record_begin(w, &rec, lc->max_record ? lc->max_record
                                                           : DEFAULT_MAX_RECORD);
        rc = mm_walker_layer(w, (int)i, d, &entries, diff);
        bool tampered = false;
        if (rc == MM_EFORMAT && s->layers[i].digest) {
            /* bytes flipped in a blob usually break the codec or the tar
             * stream before the digest is complete: say what happened */
            char *why = mm_xstrdup(mm_error_last());
            char got[72];
            tampered = mm_decoder_verify_rest(d, got) == MM_EDIGEST;
            if (tampered)
                rc = mm_error_set(MM_EDIGEST, "%s layer %zu blob %s: digest mismatch: got %s",
                                  s->reference ? s->reference : s->name, i,
                                  s->layers[i].digest, got);
            else
                mm_error_set(rc, "%s", why);
            free(why);
        }
        li->size = mm_decoder_total_in(d);
        li->uncompressed = mm_decoder_total_out(d);
        if (rc == 0 && !li->digest) /* docker-archive: no digest given */
            li->digest = mm_xstrdup(mm_decoder_blob_digest(d));
        mm_decoder_free(d);
        if (tampered) /* the message names image, layer and blob */
            goto drop;
        if (rc < 0) {
            rc = mm_error_wrap(rc, "%s: layer %zu (%s): ", s->name, i, s->layers[i].member);
            goto drop;
        }
        li->entries = entries;
        if (s->layers[i].diff_id && strcmp(s->layers[i].diff_id, diff) != 0) {
            rc = mm_error_set(MM_EDIGEST,
                              "%s: layer %zu (%s): uncompressed content is %s, the config's "
                              "rootfs.diff_ids says %s",
                              s->name, i, s->layers[i].member, diff,
                              s->layers[i].diff_id);
            goto drop;
        }
        if (!li->diff_id)
            li->diff_id = mm_xstrdup(diff);
        if (record) {
            /* verified against the config's diff_id: the record may be shared;
             * a layer that cannot have one (over the cap, names the walk
             * reports) is said so, so that no one waits for its record */
            if (mm_walker_record_end(w, li->size, li->uncompressed, entries) == 0)
                lc->put(lc->ud, keys[i], rec.data, rec.len);
            else
                lc->put(lc->ud, keys[i], NULL, 0);
        }
        continue;
drop:
        if (record) {
            mm_walker_record_end(w, 0, 0, 0);
            lc->drop(lc->ud, keys[i], false);
        }
        break;
    }
    mm_buf_free(&rec);
    if (keys)
        mm_strv_free(keys, s->nlayers);
    return rc;
}

static int scan_rootfs(mm_result *r, mm_walker *w, const char *input,
                       const mm_scan_opts *o)
{
    struct stat sb;
    if (stat(input, &sb) < 0)
        return mm_error_set(MM_ENOTFOUND, "%s: %s", input, strerror(errno));
    mm_layer_info *l0 = mm_result_set_layers(r, 1);
    uint64_t entries = 0;
    int rc;
    if (S_ISDIR(sb.st_mode)) {
        rc = mm_walker_dir(w, input, &entries);
        mm_result_image_mut(r)->source_format = mm_xstrdup("rootfs-dir");
    } else {
        int fd = open(input, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return mm_error_set(MM_EIO, "%s: %s", input, strerror(errno));
        mm_blob *b;
        mm_blob_open_fd(&b, fd, (uint64_t)sb.st_size, input, NULL);
        mm_decoder *d;
        mm_decoder_new(&d, b, o->limits.max_total_size);
        char diff[72];
        rc = mm_walker_layer(w, 0, d, &entries, diff);
        l0->size = mm_decoder_total_in(d);
        l0->uncompressed = mm_decoder_total_out(d);
        mm_decoder_free(d);
        if (rc == 0)
            l0->diff_id = mm_xstrdup(diff);
        mm_result_image_mut(r)->source_format = mm_xstrdup("rootfs-tar");
    }
    l0->entries = entries;
    return rc;
}

/* The caller's options (the defaults when NULL), limits filled in. */
static void opts_of(const mm_scan_opts *in, mm_scan_opts *o)
{
    if (in)
        *o = *in;
    else
        mm_scan_opts_init(o);
    mm_limits_fill(&o->limits);
}

int mm_scan(mm_result **out, mm_target_kind kind, const char *input,
            const mm_scan_opts *opts_in)
{
    mm_scan_opts o;
    opts_of(opts_in, &o);
    if (!input || !*input)
        return mm_error_set(MM_EINVAL, "no input given");

    double t0 = mm_now();
    mm_result *r;
    mm_result_new(&r, kind, input);

    char *tmpdir = NULL;
    mm_actx *cx = NULL;
    mm_anset *as = NULL;
    mm_source *src = NULL;
    mm_walker *w = NULL;
    mm_tree *tree = mm_tree_new();
    mm_secret_rules *own_rules = NULL;
    mm_redactor rx;
    mm_redactor_init(&rx, o.redact_rules, o.redact_cache);
    int rc = mm_tmpdir_create(&tmpdir, o.tmpdir);
    if (rc < 0)
        goto out;
    if ((o.scanners & MM_SCANNER_SECRET) && !o.secret_rules) {
        rc = mm_secret_rules_new(&own_rules, o.secret);
        if (rc < 0) {
            rc = mm_error_wrap(rc, "secret analyzer: ");
            goto out;
        }
        o.secret_rules = own_rules;
    }
    mm_actx_new(&cx, r, tree, tmpdir);
    rc = mm_anset_new(&as, cx, &o);
    if (rc < 0)
        goto out;
    mm_walker_new(&w, cx, tree, mm_anset_sink(as), &o.limits, o.threads);

    if (kind == MM_TARGET_IMAGE || kind == MM_TARGET_REGISTRY) {
        /* a pulled image is an image like any other once opened */
        mm_result_set_kind(r, MM_TARGET_IMAGE);
        mm_intake_opts io = {o.platform, o.limits};
        rc = mm_intake_open(&src, kind, input, &o, &io, tmpdir);
        if (rc < 0)
            goto out;
        image_info_from(r, src);
        rc = scan_layers(r, w, src, &o, &rx);
        /* transport facts (plain HTTP, unverified TLS) are findings even
         * when the pull itself failed half-way */
        if (src->add_findings)
            src->add_findings(src, mm_result_findings(r), input);
    } else {
        rc = scan_rootfs(r, w, input, &o);
    }
    if (rc < 0)
        goto out;
    rc = mm_anset_finish(as);
    if (rc < 0)
        goto out;
    mm_redactor_findings(&rx, r, 0);
    complete_inventory(r);
    if (mm_result_warnings_dropped(r))
        mm_result_warn(r, "%llu more warnings not shown",
                       (unsigned long long)mm_result_warnings_dropped(r));
    if (!mm_result_os(r)->family)
        mm_result_warn(r, "no OS release file found: the OS is unknown");

    /* the store key */
    const mm_image_info *im = mm_result_image_mut(r);
    const mm_layer_info *l0 = mm_result_layer(r, 0);
    if (im->manifest_digest) {
        mm_result_set_key(r, im->manifest_digest);
    } else if (im->config_digest) {
        mm_result_set_key(r, im->config_digest);
    } else if (kind == MM_TARGET_ROOTFS && !l0->diff_id) {
        /* a live directory has no content digest: key it by where it is */
        char *abs = realpath(input, NULL);
        char *k = mm_xasprintf("rootfs-dir:%s", abs ? abs : input);
        char d[72];
        mm_sha256_hex(k, strlen(k), d);
        mm_result_set_key(r, d);
        free(k);
        free(abs);
    } else {
        mm_sha256 *h = mm_sha256_new();
        for (size_t i = 0; i < mm_result_layer_count(r); i++) {
            const char *id = mm_result_layer(r, i)->diff_id;
            if (id)
                mm_sha256_update(h, id, strlen(id));
        }
        char d[72];
        mm_sha256_final(h, d);
        mm_sha256_free(h);
        mm_result_set_key(r, d);
    }
out:
    mm_anset_free(as);
    mm_actx_free(cx);
    mm_walker_free(w);
    mm_source_free(src);
    mm_tree_free(tree);
    mm_secret_rules_free(own_rules);
    mm_redactor_done(&rx);
    if (tmpdir) {
        mm_tmpdir_remove(tmpdir);
        free(tmpdir);
    }
    mm_result_set_timing(r, mm_result_started(r), mm_now() - t0);
    /* what ran (vulnerability matching adds itself when it runs) */
    mm_result_set_scanners(r, o.scanners & ~(unsigned)MM_SCANNER_VULN &
                                  mm_scan_available_scanners());
    if (rc < 0) {
        mm_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* --- intake only --------------------------------------------------------------- */
int mm_scan_inspect(mm_result **out, mm_target_kind kind, const char *input,
                    const mm_scan_opts *opts_in)
{
    if (!out || !input || !*input)
        return mm_error_set(MM_EINVAL, "no input given");
    if (kind != MM_TARGET_IMAGE && kind != MM_TARGET_REGISTRY)
        return mm_error_set(MM_EINVAL, "%s: only an image can be inspected", input);
    *out = NULL;
    mm_scan_opts o;
    opts_of(opts_in, &o);
    char *tmpdir = NULL;
    int rc = mm_tmpdir_create(&tmpdir, o.tmpdir);
    if (rc < 0)
        return rc;
    mm_source *src = NULL;
    mm_intake_opts io = {o.platform, o.limits};
    rc = mm_intake_open(&src, kind, input, &o, &io, tmpdir);
    if (rc == 0) {
        mm_result *r;
        mm_result_new(&r, MM_TARGET_IMAGE, input);
        image_info_from(r, src);
        const mm_image_info *im = mm_result_image(r);
        if (im->manifest_digest || im->config_digest)
            mm_result_set_key(r, im->manifest_digest ? im->manifest_digest
                                                     : im->config_digest);
        *out = r;
    }
    mm_source_free(src);
    mm_tmpdir_remove(tmpdir);
    free(tmpdir);
    return rc;
}

/* --- a Dockerfile, linted ------------------------------------------------------ */
int mm_scan_dockerfile(mm_result **out, const char *path, const char *data,
                       size_t len, const mm_dflint_opts *lint,
                       const mm_secret_rules *redact_rules, mm_dflint_status *st)
{
    if (st)
        memset(st, 0, sizeof *st);
    if (!out || !path)
        return mm_error_set(MM_EINVAL, "dockerfile: no output or path");
    *out = NULL;
    mm_dockerfile *df = NULL;
    int rc = data ? mm_dockerfile_parse(&df, path, data, len)
                  : mm_dockerfile_load(&df, path);
    if (rc < 0)
        return rc;
    mm_result *r = NULL;
    rc = mm_result_new_for_file(&r, path);
    if (rc == 0)
        rc = mm_dockerfile_lint_ex(df, lint, mm_result_findings(r), st);
    mm_dockerfile_free(df);
    if (rc < 0) {
        mm_result_free(r);
        return rc;
    }
    /* the quoted instruction may hold a secret (RUN TOKEN=... curl) */
    mm_redactor rx;
    mm_redactor_init(&rx, redact_rules, NULL);
    mm_redactor_findings(&rx, r, 0);
    mm_redactor_done(&rx);
    *out = r;
    return 0;
}
