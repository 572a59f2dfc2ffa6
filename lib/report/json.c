/*
 * report/json.c - the mamori JSON report: a stable, documented schema
 * (docs/json-format.md, schemaVersion 1) that scripts, the store and the
 * server read.  Keys are written in a fixed order; absent strings are
 * written as null (so that every object has the same shape), except in a
 * finding's location, where only what is known appears.
 *
 * The writer streams: the long arrays (packages, findings) are built and
 * written one element at a time, so a report of 100k findings never holds
 * its whole JSON tree in memory; mm_report_json_doc() builds the same
 * members as one tree for callers that need a document (store, server).
 *
 * Changing a key or a type here is a schema change: bump schemaVersion and
 * document it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_int.h"
#include "util/util.h"

#define MM_JSON_SCHEMA_VERSION 1

static json_t *image_json(const mm_result *r)
{
    const mm_image_info *im = mm_result_image(r);
    if (mm_result_kind(r) != MM_TARGET_IMAGE || !im)
        return json_null();
    json_t *o = json_object();
    json_object_set_new(o, "sourceFormat", mm_json_str(im->source_format));
    json_object_set_new(o, "manifestDigest", mm_json_str(im->manifest_digest));
    json_object_set_new(o, "indexDigest", mm_json_str(im->index_digest));
    json_object_set_new(o, "reference", mm_json_str(im->reference));
    json_object_set_new(o, "configDigest", mm_json_str(im->config_digest));
    json_object_set_new(o, "os", mm_json_str(im->os));
    json_object_set_new(o, "architecture", mm_json_str(im->architecture));
    json_object_set_new(o, "variant", mm_json_str(im->variant));
    json_object_set_new(o, "created", mm_json_str(im->created));
    json_object_set_new(o, "user", mm_json_str(im->user));
    json_t *tags = json_array();
    for (size_t i = 0; i < im->nrepo_tags; i++)
        if (im->repo_tags[i])
            json_array_append_new(tags, mm_json_str(im->repo_tags[i]));
    json_object_set_new(o, "repoTags", tags);
    return o;
}

static json_t *os_json(const mm_result *r)
{
    const mm_os_info *os = mm_result_os(r);
    json_t *o = json_object();
    json_object_set_new(o, "family", mm_json_str(os ? os->family : NULL));
    json_object_set_new(o, "version", mm_json_str(os ? os->version : NULL));
    json_object_set_new(o, "codename", mm_json_str(os ? os->codename : NULL));
    json_object_set_new(o, "name", mm_json_str(os ? os->name : NULL));
    return o;
}

static json_t *layers_json(const mm_result *r)
{
    json_t *a = json_array();
    size_t n = mm_result_layer_count(r);
    for (size_t i = 0; i < n; i++) {
        const mm_layer_info *l = mm_result_layer(r, i);
        if (!l)
            continue;
        json_t *o = json_object();
        json_object_set_new(o, "index", json_integer(l->index));
        json_object_set_new(o, "digest", mm_json_str(l->digest));
        json_object_set_new(o, "diffId", mm_json_str(l->diff_id));
        json_object_set_new(o, "mediaType", mm_json_str(l->media_type));
        json_object_set_new(o, "size", json_integer((json_int_t)l->size));
        json_object_set_new(o, "uncompressedSize",
                            json_integer((json_int_t)l->uncompressed));
        json_object_set_new(o, "createdBy", mm_json_str(l->created_by));
        json_object_set_new(o, "entries", json_integer((json_int_t)l->entries));
        json_array_append_new(a, o);
    }
    return a;
}

static json_t *package_json(const mm_package *p, bool list_files)
{
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(mm_pkg_type_name(p->type)));
    json_object_set_new(o, "name", mm_json_str(p->name));
    json_object_set_new(o, "version", mm_json_str(p->version));
    if (p->epoch >= 0)
        json_object_set_new(o, "epoch", json_integer(p->epoch));
    json_object_set_new(o, "srcName", mm_json_str(p->src_name));
    json_object_set_new(o, "srcVersion", mm_json_str(p->src_version));
    json_object_set_new(o, "arch", mm_json_str(p->arch));
    json_object_set_new(o, "license", mm_json_str(p->license));
    json_object_set_new(o, "purl", mm_json_str(p->purl));
    json_object_set_new(o, "path", mm_json_str(p->path));
    json_object_set_new(o, "layer",
                        p->layer >= 0 ? json_integer(p->layer) : json_null());
    json_object_set_new(o, "layerDigest", mm_json_str(p->layer_digest));
    json_object_set_new(o, "indirect", json_boolean(p->indirect));
    if (list_files) {
        json_t *files = json_array();
        for (size_t i = 0; i < p->nfiles; i++)
            if (p->files[i])
                json_array_append_new(files, mm_json_str(p->files[i]));
        json_object_set_new(o, "files", files);
    }
    return o;
}

static json_t *location_json(const mm_location *l)
{
    json_t *o = json_object();
    mm_json_set_str(o, "image", l->image);
    if (l->layer >= 0)
        json_object_set_new(o, "layer", json_integer(l->layer));
    mm_json_set_str(o, "layerDigest", l->layer_digest);
    mm_json_set_str(o, "instruction", l->instruction);
    mm_json_set_str(o, "path", l->path);
    if (l->line > 0)
        json_object_set_new(o, "line", json_integer(l->line));
    mm_json_set_str(o, "package", l->package);
    mm_json_set_str(o, "host", l->host);
    mm_json_set_str(o, "container", l->container);
    mm_json_set_str(o, "process", l->process);
    mm_json_set_str(o, "resource", l->resource);
    mm_json_set_str(o, "field", l->field);
    return o;
}

static json_t *finding_json(const mm_finding *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", mm_json_str(f->id));
    json_object_set_new(o, "kind", json_string(mm_finding_kind_name(f->kind)));
    json_object_set_new(o, "severity", json_string(mm_severity_name(f->severity)));
    json_object_set_new(o, "title", mm_json_str(f->title));
    json_object_set_new(o, "location", location_json(&f->loc));
    json_object_set_new(o, "evidence", mm_json_str(f->evidence));
    json_object_set_new(o, "remediation", mm_json_str(f->remediation));
    json_t *refs = json_array();
    for (size_t i = 0; i < f->nreferences; i++)
        if (f->references[i])
            json_array_append_new(refs, mm_json_str(f->references[i]));
    json_object_set_new(o, "references", refs);
    json_object_set_new(o, "section", mm_json_str(f->section));
    return o;
}

/* The members of the document in their order, each made on demand, so
 * that the writer below can stream the long arrays (packages, findings)
 * one element at a time instead of holding a tree of the whole report:
 * a cluster or an image with a hundred thousand findings is written in the
 * memory of one finding. */
enum { M_PACKAGES = 10, M_FINDINGS = 11, M_NMEMBERS = 14 };
static const char *const member_names[M_NMEMBERS] = {
    "schemaVersion", "tool", "target", "kind", "scannedAt", "durationSeconds",
    "scanners", "image", "os", "layers", "packages", "findings", "warnings",
    "summary",
};

struct doc_ctx {
    mm_result *r;
    const mm_report_opts *o;
    size_t npkg, nf;
    size_t by_sev[MM_SEV_CRITICAL + 1];
};

static void doc_ctx_init(struct doc_ctx *c, mm_result *r, const mm_report_opts *o)
{
    memset(c, 0, sizeof *c);
    c->r = r;
    c->o = o;
    c->npkg = mm_inventory_count(mm_result_inventory(r));
    mm_findings *fl = mm_result_findings(r);
    c->nf = mm_findings_count(fl);
    for (size_t i = 0; i < c->nf; i++) {
        const mm_finding *f = mm_findings_get(fl, i);
        if (!f)
            continue;
        if ((unsigned)f->severity <= MM_SEV_CRITICAL)
            c->by_sev[f->severity]++;
        else
            c->by_sev[MM_SEV_UNKNOWN]++;
    }
}

/* Element i of the packages (M_PACKAGES) or findings (M_FINDINGS) array,
 * or NULL for an element that is skipped. */
static json_t *array_elem(struct doc_ctx *c, int m, size_t i)
{
    if (m == M_PACKAGES) {
        const mm_package *p = mm_inventory_get(mm_result_inventory(c->r), i);
        return p ? package_json(p, c->o && c->o->list_files) : NULL;
    }
    const mm_finding *f = mm_findings_get(mm_result_findings(c->r), i);
    return f ? finding_json(f) : NULL;
}

static json_t *member(struct doc_ctx *c, int m)
{
    mm_result *r = c->r;
    switch (m) {
    case 0:
        return json_integer(MM_JSON_SCHEMA_VERSION);
    case 1: {
        json_t *tool = json_object();
        json_object_set_new(tool, "name", json_string("mamori"));
        json_object_set_new(tool, "version", mm_json_str(mm_report_tool_version(c->o)));
        return tool;
    }
    case 2:
        return mm_json_str(mm_result_target(r));
    case 3:
        return json_string(mm_result_kind(r) == MM_TARGET_IMAGE ? "image" : "rootfs");
    case 4: {
        char ts[32];
        mm_report_time(r, c->o, ts);
        return json_string(ts);
    }
    case 5:
        return json_real(mm_result_seconds(r));
    case 6: {
        json_t *sc = json_array();
        unsigned bits = mm_result_scanners(r);
        json_array_append_new(sc, json_string("inventory"));
        static const struct { unsigned bit; const char *name; } names[] = {
            {MM_SCANNER_VULN, "vuln"}, {MM_SCANNER_SECRET, "secret"},
            {MM_SCANNER_MISCONFIG, "misconfig"}, {MM_SCANNER_MALWARE, "malware"},
            {MM_SCANNER_K8S, "k8s"}, {MM_SCANNER_COMPLIANCE, "compliance"},
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (bits & names[i].bit)
                json_array_append_new(sc, json_string(names[i].name));
        return sc;
    }
    case 7:
        return image_json(r);
    case 8:
        return os_json(r);
    case 9:
        return layers_json(r);
    case M_PACKAGES:
    case M_FINDINGS: {
        json_t *a = json_array();
        size_t n = m == M_PACKAGES ? c->npkg : c->nf;
        for (size_t i = 0; i < n; i++) {
            json_t *e = array_elem(c, m, i);
            if (e)
                json_array_append_new(a, e);
        }
        return a;
    }
    case 12: {
        json_t *warns = json_array();
        size_t nw = mm_result_warning_count(r);
        for (size_t i = 0; i < nw; i++) {
            const char *w = mm_result_warning(r, i);
            if (w)
                json_array_append_new(warns, mm_json_str(w));
        }
        return warns;
    }
    default: {
        json_t *sum = json_object();
        json_object_set_new(sum, "packages", json_integer((json_int_t)c->npkg));
        json_t *fs = json_object();
        for (int s = MM_SEV_CRITICAL; s >= MM_SEV_UNKNOWN; s--)
            json_object_set_new(fs, mm_severity_name((mm_severity)s),
                                json_integer((json_int_t)c->by_sev[s]));
        json_object_set_new(sum, "findings", fs);
        return sum;
    }
    }
}

/* The signature verification the pipeline made (mm_result_signature_json),
 * an object, or NULL: the optional last member "signature". */
static json_t *signature_member(const mm_result *r)
{
    const char *s = mm_result_signature_json(r);
    json_t *v = s ? json_loads(s, 0, NULL) : NULL;
    if (v && !json_is_object(v)) {
        json_decref(v);
        v = NULL;
    }
    return v;
}

/* The vulnerability database the match used (mm_result_vulndb_*), or
 * NULL when no match ran: the optional member "vulnerabilityDB", with the
 * database's age in whole days at the start of the scan. */
static json_t *vulndb_member(const mm_result *r)
{
    const char *v = mm_result_vulndb_version(r);
    if (!v)
        return NULL;
    int64_t built = mm_result_vulndb_built_at(r);
    json_t *o = json_object();
    json_object_set_new(o, "version", mm_json_str(v));
    if (built > 0) {
        char when[32];
        mm_time_rfc3339(built, when);
        json_object_set_new(o, "builtAt", json_string(when));
        int64_t age = mm_result_started(r) - built;
        json_object_set_new(o, "ageDays", json_integer(age > 0 ? (json_int_t)(age / 86400) : 0));
    } else {
        json_object_set_new(o, "builtAt", json_null());
        json_object_set_new(o, "ageDays", json_null());
    }
    return o;
}

json_t *mm_report_json_doc(mm_result *r, const mm_report_opts *o)
{
    struct doc_ctx c;
    doc_ctx_init(&c, r, o);
    json_t *doc = json_object();
    for (int m = 0; m < M_NMEMBERS; m++)
        json_object_set_new(doc, member_names[m], member(&c, m));
    json_t *db = vulndb_member(r);
    if (db)
        json_object_set_new(doc, "vulnerabilityDB", db);
    json_t *sig = signature_member(r);
    if (sig)
        json_object_set_new(doc, "signature", sig);
    return doc;
}

/* --- the streaming writer ----------------------------------------------------
 * Writes exactly what json_dumpf(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
 * JSON_REAL_PRECISION(6)) writes for the document above: each value is
 * dumped by jansson on its own and indented to its depth, the long arrays
 * element by element. */
#define DUMP_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))

/* Writes v (stolen) dumped by jansson, every line after the first indented
 * by pad more spaces. */
static int put_value(FILE *out, json_t *v, int pad)
{
    if (!v)
        return mm_error_set(MM_ENOMEM, "json report: could not build");
    char *s = json_dumps(v, DUMP_FLAGS | JSON_ENCODE_ANY);
    json_decref(v);
    if (!s)
        return mm_error_set(MM_ENOMEM, "json report: could not build");
    /* indented in a buffer, written with one call */
    static const char spaces[] = "        ";
    mm_buf b = MM_BUF_INIT;
    const char *p = s;
    for (const char *nl; (nl = strchr(p, '\n')); p = nl + 1) {
        mm_buf_add(&b, p, (size_t)(nl - p) + 1);
        for (int k = pad; k > 0; k -= 8)
            mm_buf_add(&b, spaces, k < 8 ? (size_t)k : 8);
    }
    mm_buf_adds(&b, p);
    fwrite(b.data, 1, b.len, out);
    mm_buf_free(&b);
    free(s);
    return 0;
}

/* A finding as put_value(finding_json(f), 4) writes it, without the tree:
 * findings are most of a large report, and building then dumping a
 * jansson object per finding was most of the time of writing one.  The
 * finding is built in b (reused from one finding to the next) and written
 * with one call.  test_report checks the two agree byte for byte.
 *
 * Each key with what comes before it, as one literal: ",\n      \"id\": "
 * (the comma is skipped for the first member of an object). */
#define K6(k) ",\n      \"" k "\": "
#define K8(k) ",\n        \"" k "\": "
#define LIT(b, s) mm_buf_add((b), (s), sizeof(s) - 1)

static void put_loc_str(mm_buf *b, const char *lit, size_t litlen, const char *v, bool *first)
{
    if (!v)
        return;
    mm_buf_add(b, lit + *first, litlen - *first);
    *first = false;
    mm_json_buf_str(b, v);
}

static void put_loc_int(mm_buf *b, const char *lit, size_t litlen, int v, bool *first)
{
    char num[24];
    mm_buf_add(b, lit + *first, litlen - *first);
    *first = false;
    if (v >= 0)   /* one per finding: no printf on the path */
        mm_buf_add(b, num, mm_str_utoa(num, (unsigned long long)v));
    else
        mm_buf_add(b, num, (size_t)snprintf(num, sizeof num, "%d", v));
}

#define LOC_STR(k, v) put_loc_str(b, K8(k), sizeof(K8(k)) - 1, (v), &lfirst)
#define LOC_INT(k, v) put_loc_int(b, K8(k), sizeof(K8(k)) - 1, (v), &lfirst)

static void finding_text(mm_buf *b, const mm_finding *f)
{
    const mm_location *l = &f->loc;
    bool lfirst = true;
    LIT(b, "{\n      \"id\": ");
    mm_json_buf_str(b, f->id);
    LIT(b, K6("kind"));
    mm_json_buf_str(b, mm_finding_kind_name(f->kind));
    LIT(b, K6("severity"));
    mm_json_buf_str(b, mm_severity_name(f->severity));
    LIT(b, K6("title"));
    mm_json_buf_str(b, f->title);
    LIT(b, K6("location") "{");
    LOC_STR("image", l->image);
    if (l->layer >= 0)
        LOC_INT("layer", l->layer);
    LOC_STR("layerDigest", l->layer_digest);
    LOC_STR("instruction", l->instruction);
    LOC_STR("path", l->path);
    if (l->line > 0)
        LOC_INT("line", l->line);
    LOC_STR("package", l->package);
    LOC_STR("host", l->host);
    LOC_STR("container", l->container);
    LOC_STR("process", l->process);
    LOC_STR("resource", l->resource);
    LOC_STR("field", l->field);
    if (lfirst)
        LIT(b, "}");
    else
        LIT(b, "\n      }");
    LIT(b, K6("evidence"));
    mm_json_buf_str(b, f->evidence);
    LIT(b, K6("remediation"));
    mm_json_buf_str(b, f->remediation);
    LIT(b, K6("references"));
    size_t nref = 0;
    for (size_t i = 0; i < f->nreferences; i++) {
        if (!f->references[i])
            continue;
        if (nref++)
            LIT(b, ",\n        ");
        else
            LIT(b, "[\n        ");
        mm_json_buf_str(b, f->references[i]);
    }
    if (nref)
        LIT(b, "\n      ]");
    else
        LIT(b, "[]");
    LIT(b, K6("section"));
    mm_json_buf_str(b, f->section);
    LIT(b, "\n    }");
}

int mm_report_write_json(FILE *out, mm_result *r, const mm_report_opts *o)
{
    struct doc_ctx c;
    doc_ctx_init(&c, r, o);
    int rc = 0;
    mm_buf fb = MM_BUF_INIT;
    fputs("{", out);
    for (int m = 0; rc == 0 && m < M_NMEMBERS; m++) {
        fprintf(out, "%s\n  \"%s\": ", m ? "," : "", member_names[m]);
        if (m != M_PACKAGES && m != M_FINDINGS) {
            rc = put_value(out, member(&c, m), 2);
            continue;
        }
        size_t n = m == M_PACKAGES ? c.npkg : c.nf, written = 0;
        for (size_t i = 0; rc == 0 && i < n; i++) {
            if (m == M_FINDINGS) {
                const mm_finding *f = mm_findings_get(mm_result_findings(r), i);
                if (!f)
                    continue;
                fb.len = 0;
                mm_buf_adds(&fb, written++ ? ",\n    " : "[\n    ");
                finding_text(&fb, f);
                fwrite(fb.data, 1, fb.len, out);
                continue;
            }
            json_t *e = array_elem(&c, m, i);
            if (!e)
                continue;
            fputs(written++ ? ",\n    " : "[\n    ", out);
            rc = put_value(out, e, 4);
        }
        fputs(written ? "\n  ]" : "[]", out);
    }
    json_t *db = rc == 0 ? vulndb_member(r) : NULL;
    if (db) {
        fputs(",\n  \"vulnerabilityDB\": ", out);
        rc = put_value(out, db, 2);
    }
    json_t *sig = rc == 0 ? signature_member(r) : NULL;
    if (sig) {
        fputs(",\n  \"signature\": ", out);
        rc = put_value(out, sig, 2);
    }
    mm_buf_free(&fb);
    if (rc == 0 && (fputs("\n}\n", out) == EOF || fflush(out) != 0 || ferror(out)))
        rc = mm_error_set(MM_EIO, "json report: write failed: %s", strerror(errno ? errno : EIO));
    return rc;
}
