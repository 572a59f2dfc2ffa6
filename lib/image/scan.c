/*
 * scan.c - one scan from start to finish: open the source, walk every layer
 * once through the tree and the analyzers, let the analyzers conclude
 * against the merged view, then complete the inventory (purls, order) and
 * hand back an mm_result.  Also the mm_actx the analyzers talk to, and the
 * dispatch of entry contents (whole or streamed) to them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "mamori/secret.h"
#include "image/image_int.h"

struct mm_result {
    char *target;
    mm_target_kind kind;
    mm_image_info image;
    mm_os_info os;
    mm_layer_info *layers;
    size_t nlayers;
    mm_inventory *inv;
    mm_findings *findings;
    char **warnings;
    size_t nwarnings;
    int64_t started;
    double seconds;
    char *key;
    unsigned scanners;   /* MM_SCANNER_* that ran on this result */
};

static const mm_analyzer_ops *const analyzers[] = {
    &mm_analyzer_os, &mm_analyzer_dpkg, &mm_analyzer_apk, &mm_analyzer_rpm,
    &mm_analyzer_python, &mm_analyzer_npm, &mm_analyzer_gobin, &mm_analyzer_java,
    &mm_analyzer_gem, &mm_analyzer_cargo, &mm_analyzer_composer,
    &mm_analyzer_malware, &mm_analyzer_misconfig, &mm_analyzer_secret,
};
#define NAN_ (sizeof analyzers / sizeof analyzers[0])

struct an_state {
    const mm_analyzer_ops *ops;
    void *st;
    mm_want want;  /* for the current entry */
    bool more;     /* a streaming analyzer still wants chunks */
};

struct mm_actx {
    mm_result *r;
    mm_tree *tree;
    const mm_scan_opts *opts;
    const char *tmpdir;
    struct an_state an[NAN_];
    mm_buf whole;      /* content of the current entry, for WHOLE */
    bool whole_on;
    uint64_t nwarn_dropped;
};

/* --- mm_actx ------------------------------------------------------------------ */
#define MAX_WARNINGS 1000

void mm_actx_warn(mm_actx *cx, const char *fmt, ...)
{
    if (cx->r->nwarnings >= MAX_WARNINGS) {
        cx->nwarn_dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_strv_push(&cx->r->warnings, &cx->r->nwarnings, m);
    free(m);
}

const mm_tree *mm_actx_tree(const mm_actx *cx) { return cx->tree; }
mm_inventory *mm_actx_inventory(mm_actx *cx) { return cx->r->inv; }
mm_findings *mm_actx_findings(mm_actx *cx) { return cx->r->findings; }
mm_os_info *mm_actx_os(mm_actx *cx) { return &cx->r->os; }
const mm_scan_opts *mm_actx_opts(const mm_actx *cx) { return cx->opts; }
const char *mm_actx_tmpdir(const mm_actx *cx) { return cx->tmpdir; }
const mm_image_info *mm_actx_image(const mm_actx *cx) { return &cx->r->image; }

const char *mm_actx_layer_digest(const mm_actx *cx, int layer)
{
    if (layer < 0 || (size_t)layer >= cx->r->nlayers)
        return NULL;
    return cx->r->layers[layer].diff_id;
}

const char *mm_actx_layer_instruction(const mm_actx *cx, int layer)
{
    if (layer < 0 || (size_t)layer >= cx->r->nlayers)
        return NULL;
    return cx->r->layers[layer].created_by;
}

void mm_actx_intake_finding(mm_actx *cx, const char *id, mm_severity sev,
                            const char *title, int layer, const char *path,
                            const char *evidence)
{
    mm_finding f = {0};
    f.id = (char *)id;
    f.kind = MM_FIND_INTAKE;
    f.severity = sev;
    f.title = (char *)title;
    f.loc.layer = layer;
    f.loc.line = 0;
    char *abs = mm_xasprintf("/%s", path);
    f.loc.path = abs;
    f.loc.layer_digest = (char *)mm_actx_layer_digest(cx, layer);
    f.loc.instruction = (char *)mm_actx_layer_instruction(cx, layer);
    f.loc.image = cx->r->target;
    f.evidence = (char *)evidence;
    f.remediation = (char *)"Do not run images from a source that builds layers with "
                            "such entries; rebuild the image with a standard tool.";
    f.section = (char *)"3.1.5";
    mm_findings_add(cx->r->findings, &f);
    free(abs);
}

int mm_actx_entry_begin(mm_actx *cx, const mm_entry *e)
{
    int any = 0;
    cx->whole_on = false;
    mm_buf_clear(&cx->whole);
    for (size_t i = 0; i < NAN_; i++) {
        struct an_state *a = &cx->an[i];
        a->want = a->ops->wants ? a->ops->wants(a->st, e) : MM_WANT_NONE;
        a->more = a->want == MM_WANT_STREAM;
        if (a->want == MM_WANT_WHOLE) {
            if (e->size > cx->opts->limits.max_buffered) {
                mm_actx_warn(cx, "/%s (layer %d): %llu bytes, over the %llu-byte limit of "
                             "what an analyzer reads whole (%s); not analysed",
                             e->path, e->layer, (unsigned long long)e->size,
                             (unsigned long long)cx->opts->limits.max_buffered,
                             a->ops->name);
                a->want = MM_WANT_NONE;
                continue;
            }
            cx->whole_on = true;
        }
        if (a->want != MM_WANT_NONE)
            any = 1;
    }
    if (cx->whole_on)
        mm_buf_reserve(&cx->whole, (size_t)e->size);
    return any;
}

int mm_actx_entry_data(mm_actx *cx, const mm_entry *e, uint64_t off,
                       const uint8_t *d, size_t n)
{
    bool more = cx->whole_on;
    if (cx->whole_on) {
        if (cx->whole.len + n > cx->opts->limits.max_buffered)
            return mm_error_set(MM_ELIMIT, "/%s (layer %d): content larger than its header says",
                                e->path, e->layer);
        mm_buf_add(&cx->whole, d, n);
    }
    for (size_t i = 0; i < NAN_; i++) {
        struct an_state *a = &cx->an[i];
        if (a->want != MM_WANT_STREAM || !a->more)
            continue;
        int rc = a->ops->chunk(a->st, cx, e, off, d, n);
        if (rc < 0)
            return mm_error_wrap(rc, "%s analyzer: ", a->ops->name);
        if (rc == 1)
            a->more = false;
        else
            more = true;
    }
    return more ? 0 : 1;
}

int mm_actx_entry_end(mm_actx *cx, const mm_entry *e)
{
    for (size_t i = 0; i < NAN_; i++) {
        struct an_state *a = &cx->an[i];
        int rc = 0;
        if (a->want == MM_WANT_WHOLE) {
            if (!cx->whole.data)
                mm_buf_reserve(&cx->whole, 0);
            rc = a->ops->file(a->st, cx, e, (const uint8_t *)cx->whole.data,
                              cx->whole.len);
        } else if (a->want == MM_WANT_STREAM && a->ops->end) {
            rc = a->ops->end(a->st, cx, e);
        }
        a->want = MM_WANT_NONE;
        if (rc < 0)
            return rc;
    }
    /* do not keep a big buffer around after a big file */
    if (cx->whole.cap > (4u << 20))
        mm_buf_free(&cx->whole);
    return 0;
}

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

static void fill_limits(mm_limits *l)
{
    if (!l->max_entries) l->max_entries = MM_DEFAULT_MAX_ENTRIES;
    if (!l->max_path) l->max_path = MM_DEFAULT_MAX_PATH;
    if (!l->max_file_size) l->max_file_size = MM_DEFAULT_MAX_FILE_SIZE;
    if (!l->max_total_size) l->max_total_size = MM_DEFAULT_MAX_TOTAL_SIZE;
    if (!l->max_layers) l->max_layers = MM_DEFAULT_MAX_LAYERS;
    if (!l->max_json_size) l->max_json_size = MM_DEFAULT_MAX_JSON_SIZE;
    if (!l->max_buffered) l->max_buffered = MM_DEFAULT_MAX_BUFFERED;
}

int mm_result_new(mm_result **out, mm_target_kind kind, const char *target)
{
    if (!out || !target)
        return mm_error_set(MM_EINVAL, "result: no output or target");
    mm_result *r = mm_xcalloc(1, sizeof *r);
    r->target = mm_xstrdup(target);
    r->kind = kind;
    r->started = (int64_t)time(NULL);
    mm_inventory_new(&r->inv);
    mm_findings_new(&r->findings);
    *out = r;
    return 0;
}

void mm_result_warn(mm_result *r, const char *fmt, ...)
{
    if (!r || r->nwarnings >= MAX_WARNINGS)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    mm_strv_push(&r->warnings, &r->nwarnings, m);
    free(m);
}

static void set_str(char **dst, const char *v)
{
    if (!v)
        return;
    free(*dst);
    *dst = mm_xstrdup(v);
}

void mm_result_set_os(mm_result *r, const char *family, const char *version,
                      const char *codename, const char *name)
{
    set_str(&r->os.family, family);
    set_str(&r->os.version, version);
    set_str(&r->os.codename, codename);
    set_str(&r->os.name, name);
}

void mm_result_set_key(mm_result *r, const char *key)
{
    set_str(&r->key, key);
}

mm_image_info *mm_result_image_mut(mm_result *r)
{
    return &r->image;
}

int mm_result_new_for_file(mm_result **out, const char *target)
{
    if (!out || !target)
        return mm_error_set(MM_EINVAL, "result: no output or target");
    mm_result *r = mm_xcalloc(1, sizeof *r);
    r->target = mm_xstrdup(target);
    r->kind = MM_TARGET_ROOTFS;
    r->started = (int64_t)time(NULL);
    mm_inventory_new(&r->inv);
    mm_findings_new(&r->findings);
    char d[72];
    mm_sha256_hex(target, strlen(target), d);
    r->key = mm_xstrdup(d);
    *out = r;
    return 0;
}

void mm_result_free(mm_result *r)
{
    if (!r)
        return;
    free(r->target);
    mm_image_info *im = &r->image;
    free(im->source_format);
    free(im->manifest_digest);
    free(im->index_digest);
    free(im->reference);
    free(im->config_digest);
    free(im->os);
    free(im->architecture);
    free(im->variant);
    free(im->created);
    free(im->user);
    mm_strv_free(im->repo_tags, im->nrepo_tags);
    mm_strv_free(im->env, im->nenv);
    free(im->config_json);
    free(r->os.family);
    free(r->os.version);
    free(r->os.codename);
    free(r->os.name);
    for (size_t i = 0; i < r->nlayers; i++) {
        free(r->layers[i].digest);
        free(r->layers[i].diff_id);
        free(r->layers[i].media_type);
        free(r->layers[i].created_by);
    }
    free(r->layers);
    mm_inventory_free(r->inv);
    mm_findings_free(r->findings);
    mm_strv_free(r->warnings, r->nwarnings);
    free(r->key);
    free(r);
}

const char *mm_result_target(const mm_result *r) { return r->target; }
mm_target_kind mm_result_kind(const mm_result *r) { return r->kind; }
const mm_image_info *mm_result_image(const mm_result *r)
{
    return r->kind == MM_TARGET_IMAGE ? &r->image : NULL;
}
const mm_os_info *mm_result_os(const mm_result *r) { return &r->os; }
size_t mm_result_layer_count(const mm_result *r) { return r->nlayers; }
const mm_layer_info *mm_result_layer(const mm_result *r, size_t i)
{
    return i < r->nlayers ? &r->layers[i] : NULL;
}
mm_inventory *mm_result_inventory(mm_result *r) { return r->inv; }
mm_findings *mm_result_findings(mm_result *r) { return r->findings; }
size_t mm_result_warning_count(const mm_result *r) { return r->nwarnings; }
const char *mm_result_warning(const mm_result *r, size_t i)
{
    return i < r->nwarnings ? r->warnings[i] : NULL;
}
int64_t mm_result_started(const mm_result *r) { return r->started; }
double mm_result_seconds(const mm_result *r) { return r->seconds; }
const char *mm_result_key(const mm_result *r) { return r->key; }
unsigned mm_result_scanners(const mm_result *r) { return r->scanners; }
void mm_result_add_scanners(mm_result *r, unsigned bits) { r->scanners |= bits; }

/* --- image metadata from the config --------------------------------------------- */
static void image_info_from(mm_result *r, mm_source *s)
{
    mm_image_info *im = &r->image;
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
static int run_analyzers_finish(mm_actx *cx)
{
    for (size_t i = 0; i < NAN_; i++) {
        struct an_state *a = &cx->an[i];
        if (a->ops->finish) {
            int rc = a->ops->finish(a->st, cx);
            if (rc < 0)
                return mm_error_wrap(rc, "%s analyzer: ", a->ops->name);
        }
    }
    return 0;
}

static void complete_inventory(mm_result *r)
{
    char *distro = NULL;
    if (r->os.family && r->os.version)
        distro = mm_xasprintf("%s-%s", r->os.family, r->os.version);
    size_t n = mm_inventory_count(r->inv);
    for (size_t i = 0; i < n; i++) {
        mm_package *p = (mm_package *)mm_inventory_get(r->inv, i);
        if (!p->purl)
            p->purl = mm_purl_for(p, r->os.family, distro);
        if (!p->layer_digest && p->layer >= 0 && (size_t)p->layer < r->nlayers)
            p->layer_digest = mm_xstrdup(r->layers[p->layer].diff_id);
    }
    free(distro);
    mm_inventory_sort(r->inv);
}

static int scan_layers(mm_result *r, mm_actx *cx, mm_walker *w, mm_source *s,
                       const mm_scan_opts *o)
{
    r->nlayers = s->nlayers;
    r->layers = mm_xcalloc(s->nlayers ? s->nlayers : 1, sizeof *r->layers);
    for (size_t i = 0; i < s->nlayers; i++) {
        mm_layer_info *li = &r->layers[i];
        li->index = (int)i;
        li->digest = mm_xstrdup(s->layers[i].digest);
        li->diff_id = mm_xstrdup(s->layers[i].diff_id);
        li->media_type = mm_xstrdup(s->layers[i].media_type);
        /* history lines are printed in every report: a secret passed
         * as a build argument must not be */
        li->created_by = mm_secret_redact(s->layers[i].created_by);
    }
    for (size_t i = 0; i < s->nlayers; i++) {
        mm_layer_info *li = &r->layers[i];
        if (o->progress)
            o->progress(o->progress_ud, (int)i, (int)s->nlayers, 0, 0);
        mm_blob *b;
        int rc = s->open_layer(s, i, &b);
        if (rc < 0)
            return mm_error_wrap(rc, "layer %zu: ", i);
        mm_decoder *d;
        mm_decoder_new(&d, b, o->limits.max_total_size);
        char diff[72];
        uint64_t entries = 0;
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
            return rc;
        if (rc < 0)
            return mm_error_wrap(rc, "%s: layer %zu (%s): ", s->name, i,
                                 s->layers[i].member);
        li->entries = entries;
        if (s->layers[i].diff_id && strcmp(s->layers[i].diff_id, diff) != 0)
            return mm_error_set(MM_EDIGEST,
                                "%s: layer %zu (%s): uncompressed content is %s, the config's "
                                "rootfs.diff_ids says %s",
                                s->name, i, s->layers[i].member, diff,
                                s->layers[i].diff_id);
        if (!li->diff_id)
            li->diff_id = mm_xstrdup(diff);
    }
    return 0;
}

static int scan_rootfs(mm_result *r, mm_walker *w, const char *input,
                       const mm_scan_opts *o)
{
    struct stat sb;
    if (stat(input, &sb) < 0)
        return mm_error_set(MM_ENOTFOUND, "%s: %s", input, strerror(errno));
    r->nlayers = 1;
    r->layers = mm_xcalloc(1, sizeof *r->layers);
    uint64_t entries = 0;
    int rc;
    if (S_ISDIR(sb.st_mode)) {
        rc = mm_walker_dir(w, input, &entries);
        r->image.source_format = mm_xstrdup("rootfs-dir");
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
        r->layers[0].size = mm_decoder_total_in(d);
        r->layers[0].uncompressed = mm_decoder_total_out(d);
        mm_decoder_free(d);
        if (rc == 0)
            r->layers[0].diff_id = mm_xstrdup(diff);
        r->image.source_format = mm_xstrdup("rootfs-tar");
    }
    r->layers[0].entries = entries;
    return rc;
}

int mm_scan(mm_result **out, mm_target_kind kind, const char *input,
            const mm_scan_opts *opts_in)
{
    mm_scan_opts o;
    if (opts_in)
        o = *opts_in;
    else
        mm_scan_opts_init(&o);
    fill_limits(&o.limits);
    if (!input || !*input)
        return mm_error_set(MM_EINVAL, "no input given");

    double t0 = mm_now();
    mm_result *r = mm_xcalloc(1, sizeof *r);
    r->target = mm_xstrdup(input);
    r->kind = kind;
    r->started = (int64_t)time(NULL);
    mm_inventory_new(&r->inv);
    mm_findings_new(&r->findings);

    char *tmpdir = NULL;
    mm_actx cx;
    memset(&cx, 0, sizeof cx);
    mm_source *src = NULL;
    mm_walker *w = NULL;
    mm_tree *tree = mm_tree_new();
    int rc = mm_tmpdir_create(&tmpdir, o.tmpdir);
    if (rc < 0)
        goto out;
    cx.r = r;
    cx.tree = tree;
    cx.opts = &o;
    cx.tmpdir = tmpdir;
    for (size_t i = 0; i < NAN_; i++) {
        cx.an[i].ops = analyzers[i];
        if (analyzers[i]->create) {
            rc = analyzers[i]->create(&cx.an[i].st, &cx);
            if (rc < 0) {
                rc = mm_error_wrap(rc, "%s analyzer: ", analyzers[i]->name);
                goto out;
            }
        }
    }
    mm_walker_new(&w, &cx, tree, &o);

    if (kind == MM_TARGET_IMAGE || kind == MM_TARGET_REGISTRY) {
        /* a pulled image is an image like any other once opened */
        r->kind = MM_TARGET_IMAGE;
        rc = kind == MM_TARGET_REGISTRY
                 ? mm_source_open_registry(&src, input, &o, tmpdir)
                 : mm_source_open_image(&src, input, &o, tmpdir);
        if (rc < 0)
            goto out;
        image_info_from(r, src);
        rc = scan_layers(r, &cx, w, src, &o);
        /* transport facts (plain HTTP, unverified TLS) are findings even
         * when the pull itself failed half-way */
        if (src->add_findings)
            src->add_findings(src, r->findings, input);
    } else {
        rc = scan_rootfs(r, w, input, &o);
    }
    if (rc < 0)
        goto out;
    rc = run_analyzers_finish(&cx);
    if (rc < 0)
        goto out;
    complete_inventory(r);
    if (cx.nwarn_dropped)
        mm_actx_warn(&cx, "%llu more warnings not shown",
                     (unsigned long long)cx.nwarn_dropped);
    if (!r->os.family)
        mm_actx_warn(&cx, "no OS release file found: the OS is unknown");

    /* the store key */
    if (r->image.manifest_digest)
        r->key = mm_xstrdup(r->image.manifest_digest);
    else if (r->image.config_digest)
        r->key = mm_xstrdup(r->image.config_digest);
    else if (kind == MM_TARGET_ROOTFS && !r->layers[0].diff_id) {
        /* a live directory has no content digest: key it by where it is */
        char *abs = realpath(input, NULL);
        char *k = mm_xasprintf("rootfs-dir:%s", abs ? abs : input);
        char d[72];
        mm_sha256_hex(k, strlen(k), d);
        r->key = mm_xstrdup(d);
        free(k);
        free(abs);
    } else {
        mm_sha256 *h = mm_sha256_new();
        for (size_t i = 0; i < r->nlayers; i++)
            if (r->layers[i].diff_id)
                mm_sha256_update(h, r->layers[i].diff_id, strlen(r->layers[i].diff_id));
        char d[72];
        mm_sha256_final(h, d);
        mm_sha256_free(h);
        r->key = mm_xstrdup(d);
    }
out:
    for (size_t i = 0; i < NAN_; i++)
        if (cx.an[i].ops && cx.an[i].ops->destroy && cx.an[i].st)
            cx.an[i].ops->destroy(cx.an[i].st);
    mm_buf_free(&cx.whole);
    mm_walker_free(w);
    mm_source_free(src);
    mm_tree_free(tree);
    if (tmpdir) {
        mm_tmpdir_remove(tmpdir);
        free(tmpdir);
    }
    r->seconds = mm_now() - t0;
    /* what ran (vulnerability matching adds itself when it runs) */
    r->scanners = o.scanners & ~(unsigned)MM_SCANNER_VULN &
                  mm_scan_available_scanners();
    if (rc < 0) {
        mm_result_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
