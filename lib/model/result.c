/*
 * model/result.c - the result of one scan (mamori/result.h): what was
 * scanned, image metadata, OS, layers, inventory, findings, warnings and
 * the store key.  Engines fill it through the builder calls at the end of
 * the header; reports, stores and the gate only read it.
 *
 * Warnings are capped (an image can hold a million odd entries, each worth
 * a warning); what did not fit is counted so that the pipeline can say so.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/result.h"
#include "util/util.h"

#define MAX_WARNINGS 1000

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
    uint64_t nwarn_dropped;
    int64_t started;
    double seconds;
    char *key;
    unsigned scanners;   /* MM_SCANNER_* that ran on this result */
    char *signature;     /* the signature verification, a JSON object */
    char *vulndb_version; /* the database the match used, NULL when none ran */
    int64_t vulndb_built_at;
};

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

int mm_result_new_for_file(mm_result **out, const char *target)
{
    int rc = mm_result_new(out, MM_TARGET_ROOTFS, target);
    if (rc < 0)
        return rc;
    char d[72];
    mm_sha256_hex(target, strlen(target), d);
    (*out)->key = mm_xstrdup(d);
    return 0;
}

void mm_result_warn(mm_result *r, const char *fmt, ...)
{
    if (!r)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (!mm_strv_vpushf(&r->warnings, &r->nwarnings, MAX_WARNINGS, fmt, ap))
        r->nwarn_dropped++;
    va_end(ap);
}

uint64_t mm_result_warnings_dropped(const mm_result *r)
{
    return r->nwarn_dropped;
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

const char *mm_result_signature_json(const mm_result *r)
{
    return r ? r->signature : NULL;
}

void mm_result_set_signature_json(mm_result *r, const char *json)
{
    free(r->signature);
    r->signature = json ? mm_xstrdup(json) : NULL;
}

const char *mm_result_vulndb_version(const mm_result *r)
{
    return r ? r->vulndb_version : NULL;
}

int64_t mm_result_vulndb_built_at(const mm_result *r)
{
    return r ? r->vulndb_built_at : 0;
}

void mm_result_set_vulndb(mm_result *r, const char *version, int64_t built_at)
{
    free(r->vulndb_version);
    r->vulndb_version = version ? mm_xstrdup(version) : NULL;
    r->vulndb_built_at = version ? built_at : 0;
}

mm_image_info *mm_result_image_mut(mm_result *r) { return &r->image; }
mm_os_info *mm_result_os_mut(mm_result *r) { return &r->os; }
void mm_result_set_kind(mm_result *r, mm_target_kind kind) { r->kind = kind; }
void mm_result_set_scanners(mm_result *r, unsigned bits) { r->scanners = bits; }

void mm_result_set_timing(mm_result *r, int64_t started, double seconds)
{
    r->started = started;
    r->seconds = seconds;
}

static void layers_free(mm_layer_info *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].digest);
        free(v[i].diff_id);
        free(v[i].media_type);
        free(v[i].created_by);
    }
    free(v);
}

mm_layer_info *mm_result_set_layers(mm_result *r, size_t n)
{
    layers_free(r->layers, r->nlayers);
    r->layers = NULL;
    r->nlayers = n;
    if (!n)
        return NULL;
    r->layers = mm_xcalloc(n, sizeof *r->layers);
    for (size_t i = 0; i < n; i++)
        r->layers[i].index = (int)i;
    return r->layers;
}

mm_layer_info *mm_result_layer_mut(mm_result *r, size_t i)
{
    return i < r->nlayers ? &r->layers[i] : NULL;
}

void mm_result_free(mm_result *r)
{
    if (!r)
        return;
    free(r->target);
    free(r->signature);
    free(r->vulndb_version);
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
    layers_free(r->layers, r->nlayers);
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
