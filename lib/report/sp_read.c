/*
 * report/sp_read.c - reads mamori JSON reports (docs/json-format.md) for
 * the SP 800-190 report: the facts of each input (target, kind, OS, what
 * was looked at) and its findings, copied into the report's own records.
 *
 * Reports are untrusted input (a file someone hands over, a row of the
 * store): one document is capped in bytes, the findings of all inputs in
 * count, and each string in length (longer ones are cut at a character
 * boundary and marked).  A document that is not a mamori scan report is
 * refused with the file and the field named; nothing of it is kept.
 *
 * What an input looked at (SP_CAP_*) comes from its `scanners` list and,
 * for commands that do not list theirs (reports written before `k8s` and
 * `compliance` were listed), from the findings it holds.
 */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "mamori/common.h"
#include "report/sp_int.h"

typedef struct rd {
    mm_spreport *r;
    const char *name;
    size_t max_string;
} rd;

/* s cut to max bytes at a UTF-8 character boundary, "[...]" appended. */
static char *cut(const rd *d, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    if (n <= d->max_string)
        return mm_xstrdup(s);
    size_t k = d->max_string;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    char *o = mm_xmalloc(k + 6);
    memcpy(o, s, k);
    memcpy(o + k, "[...]", 6);
    return o;
}

static int bad(const rd *d, const char *field, const char *why)
{
    return mm_error_set(MM_EFORMAT, "%s: %s: %s", d->name, field, why);
}

/* A string member: *out NULL when absent or null; error when another type. */
static int opt_str(const rd *d, json_t *o, const char *key, const char *field,
                   const char **out)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(d, field, "not a string");
    *out = json_string_value(v);
    return 0;
}

static const struct { const char *name; unsigned cap; } scanner_caps[] = {
    {"vuln", SP_CAP_VULN}, {"secret", SP_CAP_SECRET}, {"misconfig", SP_CAP_MISCONFIG},
    {"malware", SP_CAP_MALWARE}, {"k8s", SP_CAP_K8S}, {"compliance", SP_CAP_COMPLIANCE},
};

static char *where_of(const rd *d, json_t *loc)
{
    if (!json_is_object(loc))
        return NULL;
    mm_buf b = {0};
    static const char *const keys[] = {"image", "layer", "path", "line", "package",
                                       "resource", "field", "host", "container", "process"};
    json_t *path = json_object_get(loc, "path"), *line = json_object_get(loc, "line");
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(loc, keys[i]);
        if (!strcmp(keys[i], "line") && json_is_string(path) && json_is_integer(line)) {
            /* "path:line" */
            mm_buf_printf(&b, ":%lld", (long long)json_integer_value(line));
            continue;
        }
        if (json_is_string(v)) {
            if (!strcmp(keys[i], "path") || !strcmp(keys[i], "resource") ||
                !strcmp(keys[i], "package") || !strcmp(keys[i], "image"))
                mm_buf_printf(&b, "%s%s", b.len ? ", " : "", json_string_value(v));
            else
                mm_buf_printf(&b, "%s%s %s", b.len ? ", " : "", keys[i], json_string_value(v));
        } else if (json_is_integer(v)) {
            mm_buf_printf(&b, "%s%s %lld", b.len ? ", " : "", keys[i],
                          (long long)json_integer_value(v));
        }
    }
    if (!b.len) {
        mm_buf_free(&b);
        return NULL;
    }
    char *s = mm_buf_detach(&b);
    char *c = cut(d, s);
    free(s);
    return c;
}

static void free_finding(sp_finding *f)
{
    free(f->id); free(f->kind); free(f->title); free(f->section); free(f->where);
    free(f->evidence); free(f->remediation);
}

static int read_finding(const rd *d, json_t *o, size_t i, size_t input, sp_finding *f,
                        unsigned *caps)
{
    char field[64];
    const char *id, *kind, *sev, *title, *section, *ev, *rem;
    memset(f, 0, sizeof *f);
    snprintf(field, sizeof field, "findings[%zu]", i);
    if (!json_is_object(o))
        return bad(d, field, "not an object");
#define STR(key, out) do { char fl[96]; snprintf(fl, sizeof fl, "%s.%s", field, key); \
        int rc_ = opt_str(d, o, key, fl, out); if (rc_ < 0) return rc_; } while (0)
    STR("id", &id);
    STR("kind", &kind);
    STR("severity", &sev);
    STR("title", &title);
    STR("section", &section);
    STR("evidence", &ev);
    STR("remediation", &rem);
#undef STR
    char fl[96];
    if (!id) {
        snprintf(fl, sizeof fl, "%s.id", field);
        return bad(d, fl, "missing");
    }
    if (!kind) {
        snprintf(fl, sizeof fl, "%s.kind", field);
        return bad(d, fl, "missing");
    }
    mm_severity s = MM_SEV_UNKNOWN;
    if (sev && mm_severity_parse(&s, sev) < 0) {
        snprintf(fl, sizeof fl, "%s.severity", field);
        return bad(d, fl, "not CRITICAL, HIGH, MEDIUM, LOW or UNKNOWN");
    }
    json_t *loc = json_object_get(o, "location");
    if (loc && !json_is_object(loc) && !json_is_null(loc)) {
        snprintf(fl, sizeof fl, "%s.location", field);
        return bad(d, fl, "not an object");
    }
    f->input = input;
    f->id = cut(d, id);
    f->kind = cut(d, kind);
    f->sev = s;
    f->title = cut(d, title);
    f->section = cut(d, section);
    f->evidence = cut(d, ev);
    f->remediation = cut(d, rem);
    f->where = where_of(d, loc);

    /* what the finding shows was looked at */
    if (mm_str_startswith(id, "MM-ADM-"))
        *caps |= SP_CAP_ADMISSION;
    else if (mm_str_startswith(id, "MM-K8S-") || mm_str_startswith(id, "MM-PSS-") ||
             json_is_string(json_object_get(loc, "resource")))
        *caps |= SP_CAP_K8S;
    else if (!strcmp(kind, "compliance"))
        *caps |= SP_CAP_COMPLIANCE;
    if (mm_str_startswith(id, "MM-DF-"))
        *caps |= SP_CAP_DOCKERFILE;
    if (!strcmp(kind, "network"))
        *caps |= SP_CAP_NET;
    if (!strcmp(kind, "runtime"))
        *caps |= SP_CAP_RUNTIME;
    if (mm_str_startswith(id, "MM-REG-01"))
        *caps |= SP_CAP_REGSCAN;
    if (section && !strcmp(section, "3.2.1"))
        *caps |= SP_CAP_PULL;
    return 0;
}

static int read_doc(const rd *d, json_t *doc)
{
    mm_spreport *r = d->r;
    if (!json_is_object(doc))
        return bad(d, "(top level)", "not a JSON object");
    json_t *sv = json_object_get(doc, "schemaVersion");
    if (!json_is_integer(sv))
        return bad(d, "schemaVersion", "missing: not a mamori JSON report "
                                       "(write one with --format json)");
    if (json_integer_value(sv) != 1)
        return bad(d, "schemaVersion", "only version 1 is known");
    json_t *fa = json_object_get(doc, "findings");
    if (!json_is_array(fa))
        return bad(d, "findings", "missing or not an array");
    size_t n = json_array_size(fa);
    if (n > r->lim.max_findings || r->nf > r->lim.max_findings - n)
        return mm_error_set(MM_ELIMIT, "%s: findings: more than %zu findings over all "
                            "inputs", d->name, r->lim.max_findings);
    const char *target, *kind, *at;
    int rc;
    if ((rc = opt_str(d, doc, "target", "target", &target)) < 0 ||
        (rc = opt_str(d, doc, "kind", "kind", &kind)) < 0 ||
        (rc = opt_str(d, doc, "scannedAt", "scannedAt", &at)) < 0)
        return rc;
    unsigned caps = 0;
    json_t *sc = json_object_get(doc, "scanners");
    if (sc && !json_is_array(sc))
        return bad(d, "scanners", "not an array");
    for (size_t i = 0; i < json_array_size(sc); i++) {
        const char *s = json_string_value(json_array_get(sc, i));
        if (!s)
            return bad(d, "scanners", "holds a value that is not a string");
        for (size_t k = 0; k < sizeof scanner_caps / sizeof scanner_caps[0]; k++)
            if (!strcmp(s, scanner_caps[k].name))
                caps |= scanner_caps[k].cap;
    }
    json_t *layers = json_object_get(doc, "layers");
    if (layers && !json_is_array(layers))
        return bad(d, "layers", "not an array");
    bool scan = json_array_size(layers) > 0 && kind &&
                (!strcmp(kind, "image") || !strcmp(kind, "rootfs"));
    if (scan)
        caps |= SP_CAP_SCAN;
    else
        caps &= ~(unsigned)(SP_CAP_MISCONFIG | SP_CAP_MALWARE);
    json_t *img = json_object_get(doc, "image");
    if (img && !json_is_object(img) && !json_is_null(img))
        return bad(d, "image", "not an object");
    const char *ref = NULL;
    if (json_is_object(img) && (rc = opt_str(d, img, "reference", "image.reference", &ref)) < 0)
        return rc;
    if (ref)
        caps |= SP_CAP_PULL;
    /* the verification of mamori image --verify-key: R10 was looked at */
    json_t *sig = json_object_get(doc, "signature");
    if (sig && !json_is_object(sig) && !json_is_null(sig))
        return bad(d, "signature", "not an object");
    if (json_is_object(sig) && json_is_boolean(json_object_get(sig, "verified")))
        caps |= SP_CAP_SIGNATURE;
    json_t *os = json_object_get(doc, "os");
    if (os && !json_is_object(os) && !json_is_null(os))
        return bad(d, "os", "not an object");
    const char *fam = NULL, *ver = NULL;
    if (json_is_object(os) && ((rc = opt_str(d, os, "family", "os.family", &fam)) < 0 ||
                               (rc = opt_str(d, os, "version", "os.version", &ver)) < 0))
        return rc;

    sp_finding *nf = n ? mm_xcalloc(n, sizeof *nf) : NULL;
    size_t input = r->nin;
    for (size_t i = 0; i < n; i++)
        if ((rc = read_finding(d, json_array_get(fa, i), i, input, &nf[i], &caps)) < 0) {
            for (size_t k = 0; k <= i; k++)
                free_finding(&nf[k]);
            free(nf);
            return rc;
        }
    if (fam)
        caps |= SP_CAP_OS;

    if (r->nin == r->capin) {
        r->capin = r->capin ? r->capin * 2 : 8;
        r->in = mm_xrealloc(r->in, r->capin * sizeof *r->in);
    }
    sp_input *in = &r->in[r->nin++];
    memset(in, 0, sizeof *in);
    in->name = cut(d, d->name);
    in->target = cut(d, target);
    in->kind = cut(d, kind);
    in->scanned_at = cut(d, at);
    if (fam) {
        char *s = ver ? mm_xasprintf("%s %s", fam, ver) : mm_xstrdup(fam);
        in->os = cut(d, s);
        free(s);
    }
    in->caps = caps;
    in->nfindings = n;
    if (r->nf + n > r->capf) {
        size_t c = r->capf ? r->capf : 64;
        while (c < r->nf + n)
            c *= 2;
        r->f = mm_xrealloc(r->f, c * sizeof *r->f);
        r->capf = c;
    }
    if (n)
        memcpy(r->f + r->nf, nf, n * sizeof *nf);
    r->nf += n;
    free(nf);
    return 0;
}

int mm_spreport_add_json(mm_spreport *r, const char *name, const char *data, size_t len)
{
    rd d = {r, name ? name : "(report)", r->lim.max_string};
    if (r->nin >= r->lim.max_inputs)
        return mm_error_set(MM_ELIMIT, "%s: more than %zu reports", d.name, r->lim.max_inputs);
    if (len > r->lim.max_document)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes: larger than the cap of %llu", d.name,
                            len, (unsigned long long)r->lim.max_document);
    json_error_t err;
    json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        return mm_error_set(MM_EFORMAT, "%s: line %d, column %d: %s", d.name, err.line,
                            err.column, err.text);
    int rc = read_doc(&d, doc);
    json_decref(doc);
    if (rc == 0)
        mm_sp_invalidate(r);
    return rc;
}

int mm_spreport_add_file(mm_spreport *r, const char *path)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, r->lim.max_document, &data, &len);
    if (rc < 0)
        return rc; /* the message names the path */
    rc = mm_spreport_add_json(r, path, data, len);
    free(data);
    return rc;
}
