/*
 * report/report.c - choosing a report format and dispatching to its writer,
 * plus the helpers every writer shares (timestamps, JSON output, UUIDs).
 *
 * Writers only format what the scan found; failures here are output
 * failures (a full disk, a closed pipe), reported as MM_EIO.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "report/report_int.h"
#include "util/util.h"

static const struct { const char *name; mm_format fmt; } formats[] = {
    {"table", MM_FORMAT_TABLE},
    {"json", MM_FORMAT_JSON},
    {"cyclonedx", MM_FORMAT_CYCLONEDX},
    {"spdx-json", MM_FORMAT_SPDX_JSON},
    {"sarif", MM_FORMAT_SARIF},
};

int mm_format_parse(mm_format *out, const char *name)
{
    if (!out || !name)
        return mm_error_set(MM_EINVAL, "format: no name given");
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (strcasecmp(name, formats[i].name) == 0) {
            *out = formats[i].fmt;
            return 0;
        }
    }
    return mm_error_set(MM_EINVAL,
                        "unknown format \"%s\": expected table, json, "
                        "cyclonedx, spdx-json or sarif", name);
}

void mm_report_opts_init(mm_report_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof(*o));
    o->tool_version = MM_VERSION;
}

const char *mm_report_tool_version(const mm_report_opts *o)
{
    return o && o->tool_version ? o->tool_version : MM_VERSION;
}

void mm_report_time(const mm_result *r, const mm_report_opts *o,
                    char out[32])
{
    int64_t t = o && o->now ? o->now : mm_result_started(r);
    mm_time_rfc3339(t, out);
}

int mm_report_dump(FILE *out, json_t *doc, const char *what)
{
    if (!doc)
        return mm_error_set(MM_ENOMEM, "%s report: could not build", what);
    int rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(doc);
    if (rc != 0 || fputc('\n', out) == EOF || fflush(out) != 0 ||
        ferror(out))
        return mm_error_set(MM_EIO, "%s report: write failed: %s", what,
                            strerror(errno ? errno : EIO));
    return 0;
}

void mm_report_uuid(char out[37])
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof b) != 1) {
        /* The CSPRNG failing is near impossible; a serial number need
         * not be secret, only unique, so fall back to time and address. */
        uint64_t t = (uint64_t)(mm_now() * 1e9), a = (uint64_t)(uintptr_t)b;
        memcpy(b, &t, 8);
        memcpy(b + 8, &a, 8);
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
             b[10], b[11], b[12], b[13], b[14], b[15]);
}

int mm_report_write(FILE *out, mm_result *r, mm_format fmt,
                    const mm_report_opts *opts)
{
    mm_report_opts def;
    if (!out || !r)
        return mm_error_set(MM_EINVAL, "report: no output or result");
    if (!opts) {
        mm_report_opts_init(&def);
        opts = &def;
    }
    switch (fmt) {
    case MM_FORMAT_TABLE:
        return mm_report_write_table(out, r, opts);
    case MM_FORMAT_JSON:
        return mm_report_write_json(out, r, opts);
    case MM_FORMAT_CYCLONEDX:
        return mm_report_write_cyclonedx(out, r, opts);
    case MM_FORMAT_SPDX_JSON:
        return mm_report_write_spdx(out, r, opts);
    case MM_FORMAT_SARIF: {
        int mm_report_write_sarif(FILE *, mm_result *, const mm_report_opts *);
        return mm_report_write_sarif(out, r, opts);            /* sarif.c */
    }
    }
    return mm_error_set(MM_EINVAL, "report: unknown format %d", (int)fmt);
}

int mm_report_json_string(char **out, mm_result *r, const mm_report_opts *o)
{
    mm_report_opts def;
    if (!out || !r)
        return mm_error_set(MM_EINVAL, "report: no output or result");
    *out = NULL;
    if (!o) {
        mm_report_opts_init(&def);
        o = &def;
    }
    json_t *doc = mm_report_json_doc(r, o);
    if (!doc)
        return mm_error_set(MM_ENOMEM, "json report: could not build");
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    json_decref(doc);
    if (!s)
        return mm_error_set(MM_ENOMEM, "json report: could not serialise");
    /* jansson allocates with malloc by default; hand over a copy made with
     * our allocator so that callers simply free() it either way. */
    *out = mm_xstrdup(s);
    free(s);
    return 0;
}
