/*
 * vuln/import.c - the feed import: OSV JSON (single records, arrays and
 * osv.dev's per-ecosystem all.zip), OSV YAML (the PyPA advisory database),
 * the Debian security tracker JSON and Alpine secdb (YAML and JSON), read
 * from local files, folders, zips or memory into a database build.  This
 * file reads, streams and dispatches; each format has its own file
 * (import_osv.c, import_alpine.c, import_debian.c, sharing import_int.h).
 *
 * Feeds are untrusted: every string is capped, nesting and value counts are
 * capped, zip members are capped in size and number before and while they
 * are inflated, and YAML aliases are refused (no "billion laughs").  A
 * malformed feed fails the whole import with a message naming the file, the
 * zip member and the record id or byte offset; a record that is merely
 * incomplete (nothing affected, an ecosystem we do not know) is skipped
 * with a warning.
 *
 * Large JSON objects and arrays (the Debian tracker is ~70 MB, OSV lists)
 * are walked one member at a time with jansson's "stop after one value"
 * mode, so only one package or record is ever a DOM in memory.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>

#include "util/util.h"
#include "vuln/version.h"
#include "vuln/vuln_int.h"
#include "vuln/import_int.h"

static void note_kind(imp *im, const char *kind)
{
    if (!im->kind)
        im->kind = kind;
    else if (strcmp(im->kind, kind) != 0)
        im->mixed = true;
}

/* --- names ------------------------------------------------------------------- */

static const char *const known_ecosystems[] = {
    "Debian", "Ubuntu", "Alpine", "AlmaLinux", "Rocky Linux", "Red Hat", "SUSE",
    "openSUSE", "Wolfi", "Chainguard", "PyPI", "npm", "Go", "Maven", "crates.io",
    "RubyGems", "Packagist", "NuGet",
};

/* The stored ecosystem: a known base, and for Ubuntu the ":LTS"/":Pro"
 * parts dropped so that "Ubuntu:Pro:18.04:LTS" is found as "Ubuntu:18.04".
 * false for an unknown ecosystem. */
bool mm_imp_norm_ecosystem(const char *in, mm_buf *out)
{
    mm_buf_clear(out);
    size_t blen = strcspn(in, ":");
    bool known = false;
    for (size_t i = 0; i < sizeof known_ecosystems / sizeof known_ecosystems[0]; i++)
        if (strlen(known_ecosystems[i]) == blen &&
            !strncmp(in, known_ecosystems[i], blen))
            known = true;
    if (!known || strlen(in) > 128)
        return false;
    if (blen == 6 && !strncmp(in, "Ubuntu", 6)) {
        const char *p = in;
        bool first = true;
        while (*p) {
            size_t n = strcspn(p, ":");
            if (!((n == 3 && !strncmp(p, "LTS", 3)) || (n == 3 && !strncmp(p, "Pro", 3)))) {
                if (!first)
                    mm_buf_addc(out, ':');
                mm_buf_add(out, p, n);
                first = false;
            }
            p += n;
            if (*p == ':')
                p++;
        }
    } else {
        mm_buf_adds(out, in);
    }
    return true;
}

/* PEP 503: lower case, runs of "-", "_", "." as one "-". */
void mm_imp_norm_package(const char *eco, const char *name, mm_buf *out)
{
    mm_buf_clear(out);
    if (strcmp(eco, "PyPI") != 0) {
        mm_buf_adds(out, name);
        return;
    }
    for (const char *p = name; *p;) {
        if (*p == '-' || *p == '_' || *p == '.') {
            while (*p == '-' || *p == '_' || *p == '.')
                p++;
            mm_buf_addc(out, '-');
        } else {
            mm_buf_addc(out, (char)tolower((unsigned char)*p++));
        }
    }
}

/* --- record checks ----------------------------------------------------------- */

/* Caps on one record: string length, nesting, value count. */
const char *mm_imp_check_json(const json_t *j, int depth, size_t *nodes)
{
    if (depth > MM_VULN_MAX_DEPTH)
        return "nested too deeply";
    if (++*nodes > MM_VULN_MAX_NODES)
        return "too many values";
    if (json_is_string(j)) {
        if (json_string_length(j) > MM_VULN_MAX_STRING)
            return "a string is longer than the 1 MiB cap";
    } else if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            if (strlen(k) > MAX_NAME)
                return "a key is longer than the cap";
            const char *e = mm_imp_check_json(v, depth + 1, nodes);
            if (e)
                return e;
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            const char *e = mm_imp_check_json(v, depth + 1, nodes);
            if (e)
                return e;
        }
    }
    return NULL;
}

/* A string member, absent/null as NULL; *bad when of another type. */
const char *mm_imp_opt_str(json_t *o, const char *key, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return NULL;
    if (!json_is_string(v)) {
        *bad = true;
        return NULL;
    }
    return json_string_value(v);
}

char *mm_imp_dump(json_t *j)
{
    return json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* --- streaming JSON ------------------------------------------------------------ */

static size_t skip_ws(const char *d, size_t len, size_t p)
{
    while (p < len && (d[p] == ' ' || d[p] == '\t' || d[p] == '\n' || d[p] == '\r'))
        p++;
    return p;
}

/* One JSON value at d[*p]; advances *p past it. */
static json_t *next_value(const char *label, const char *d, size_t len, size_t *p,
                          int *rc)
{
    json_error_t err;
    json_t *v = json_loadb(d + *p, len - *p,
                           JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL,
                           &err);
    if (!v) {
        *rc = mm_error_set(MM_EFORMAT, "%s: byte offset %zu: %s", label,
                           *p + (size_t)(err.position > 0 ? err.position : 0), err.text);
        return NULL;
    }
    *p += (size_t)err.position;
    return v;
}

static bool top_key_of_feed(const char *k)
{
    static const char *const keys[] = {
        "id", "schema_version", "modified", "published", "withdrawn", "aliases",
        "related", "summary", "details", "severity", "affected", "references",
        "credits", "database_specific", "distroversion", "reponame", "archs",
        "urlprefix", "apkurl", "packages", "upstream",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (!strcmp(k, keys[i]))
            return true;
    return false;
}

static int dispatch_dom(imp *im, const char *label, json_t *root, size_t offset);

/* A top-level JSON object: the Debian tracker (package -> CVEs), streamed
 * member by member, or one OSV record / secdb document. */
static int json_object_feed(imp *im, const char *label, const char *d, size_t len,
                            size_t p)
{
    int rc = 0;
    json_t *whole = NULL;
    bool tracker = false, first = true;
    p = skip_ws(d, len, p + 1);
    if (p < len && d[p] == '}') {
        p++;
        goto end;
    }
    for (;;) {
        p = skip_ws(d, len, p);
        size_t at = p;
        if (p >= len || d[p] != '"')
            FAIL("%s: byte offset %zu: expected a member name", label, p);
        json_t *k = next_value(label, d, len, &p, &rc);
        if (!k)
            goto out;
        p = skip_ws(d, len, p);
        if (p >= len || d[p] != ':') {
            json_decref(k);
            FAIL("%s: byte offset %zu: expected ':'", label, p);
        }
        p = skip_ws(d, len, p + 1);
        json_t *v = next_value(label, d, len, &p, &rc);
        if (!v) {
            json_decref(k);
            goto out;
        }
        const char *key = json_string_value(k);
        if (first) {
            tracker = json_is_object(v) && !top_key_of_feed(key);
            if (tracker)
                note_kind(im, "debian-tracker");
            else
                whole = json_object();
            first = false;
        }
        if (tracker)
            rc = mm_imp_tracker_package(im, label, key, v);
        else
            json_object_set(whole, key, v);
        (void)at;
        json_decref(k);
        json_decref(v);
        if (rc)
            goto out;
        p = skip_ws(d, len, p);
        if (p < len && d[p] == ',') {
            p++;
            continue;
        }
        if (p < len && d[p] == '}') {
            p++;
            break;
        }
        FAIL("%s: byte offset %zu: expected ',' or '}'%s", label, p,
             p >= len ? " (truncated)" : "");
    }
end:
    p = skip_ws(d, len, p);
    if (p != len)
        FAIL("%s: byte offset %zu: data after the JSON document", label, p);
    if (!tracker) {
        if (!whole)
            whole = json_object();
        rc = dispatch_dom(im, label, whole, 0);
    }
out:
    json_decref(whole);
    return rc;
}

/* A top-level JSON array of OSV records, one at a time. */
static int json_array_feed(imp *im, const char *label, const char *d, size_t len,
                           size_t p)
{
    int rc = 0;
    note_kind(im, "osv");
    p = skip_ws(d, len, p + 1);
    if (p < len && d[p] == ']') {
        p++;
    } else {
        for (;;) {
            p = skip_ws(d, len, p);
            size_t at = p;
            json_t *v = next_value(label, d, len, &p, &rc);
            if (!v)
                return rc;
            rc = mm_imp_osv_record(im, label, v, at);
            json_decref(v);
            if (rc)
                return rc;
            p = skip_ws(d, len, p);
            if (p < len && d[p] == ',') {
                p++;
                continue;
            }
            if (p < len && d[p] == ']') {
                p++;
                break;
            }
            return mm_error_set(MM_EFORMAT, "%s: byte offset %zu: expected ',' or "
                                "']'%s", label, p, p >= len ? " (truncated)" : "");
        }
    }
    p = skip_ws(d, len, p);
    if (p != len)
        return mm_error_set(MM_EFORMAT, "%s: byte offset %zu: data after the JSON "
                            "document", label, p);
    return 0;
}

/* --- YAML ---------------------------------------------------------------------- */

/* The first YAML document as a jansson value, on the one loader: plain
 * scalars stay strings ("1.10" is a version, not 1.1; only the YAML null
 * and true/false are mapped), aliases are refused, each string is capped,
 * a repeated key keeps its last value.  The node cap is left to
 * mm_imp_check_json, which counts values as the JSON feeds are counted. */
static json_t *yaml_to_json(const char *label, const char *d, size_t len, int *rc)
{
    mm_yaml_limits lim;
    mm_yaml_limits_init(&lim);
    lim.max_depth = MM_VULN_MAX_DEPTH;
    lim.max_nodes = 2 * (size_t)MM_VULN_MAX_NODES + 2;   /* keys are nodes there */
    lim.max_docs = 1;
    lim.max_scalar = MM_VULN_MAX_STRING;
    lim.scalars = MM_YAML_STRINGS;
    lim.first_doc_only = true;
    lim.no_aliases = true;
    lim.dup_last_wins = true;
    json_t *root = NULL;
    *rc = mm_yaml_load_one(&root, d, len, label, &lim, NULL);
    return *rc < 0 ? NULL : root;
}

/* --- dispatch ------------------------------------------------------------------ */

static int unrecognised(imp *im, const char *label)
{
    if (im->in_walk) {
        mm_vulndb_build_skip(im->b, "%s: not a vulnerability feed; skipped", label);
        return 0;
    }
    return mm_error_set(MM_EFORMAT, "%s: not a vulnerability feed (OSV, Debian "
                        "tracker or Alpine secdb)", label);
}

/* A parsed document: an OSV record or a secdb. */
static int dispatch_dom(imp *im, const char *label, json_t *root, size_t offset)
{
    if (json_is_object(root) && json_object_get(root, "distroversion") &&
        json_object_get(root, "packages")) {
        note_kind(im, "alpine-secdb");
        return mm_imp_secdb(im, label, root);
    }
    if (json_is_object(root) && json_object_get(root, "id") &&
        (json_object_get(root, "affected") || json_object_get(root, "modified"))) {
        note_kind(im, "osv");
        return mm_imp_osv_record(im, label, root, offset);
    }
    if (json_is_array(root)) {
        note_kind(im, "osv");
        size_t i;
        json_t *v;
        json_array_foreach(root, i, v) {
            int rc = mm_imp_osv_record(im, label, v, offset);
            if (rc)
                return rc;
        }
        return 0;
    }
    return unrecognised(im, label);
}

static bool is_zip(const void *d, size_t len)
{
    return len >= 4 && (!memcmp(d, "PK\x03\x04", 4) || !memcmp(d, "PK\x05\x06", 4));
}

static int import_zip(imp *im, const char *label, const char *path, const void *mem,
                      size_t len);

static int import_buffer(imp *im, const char *label, const char *d, size_t len,
                         bool zip_ok)
{
    if (is_zip(d, len)) {
        if (!zip_ok)
            return mm_error_set(MM_EUNSUPPORTED, "%s: a zip inside a zip", label);
        return import_zip(im, label, NULL, d, len);
    }
    size_t p = 0;
    if (len >= 3 && !memcmp(d, "\xef\xbb\xbf", 3))
        p = 3;
    p = skip_ws(d, len, p);
    if (p >= len)
        return unrecognised(im, label);
    if (d[p] == '{')
        return json_object_feed(im, label, d, len, p);
    if (d[p] == '[')
        return json_array_feed(im, label, d, len, p);
    int rc;
    json_t *root = yaml_to_json(label, d, len, &rc);
    if (!root)
        return rc;
    size_t nodes = 0;
    const char *why = mm_imp_check_json(root, 0, &nodes);
    if (why) {
        const char *id = json_string_value(json_object_get(root, "id"));
        rc = mm_error_set(MM_ELIMIT, "%s: %s%s%s", label, id ? "record " : "",
                          id ? id : "", why);
    } else if (json_is_array(root)) {
        rc = unrecognised(im, label);  /* YAML lists of records: not a format */
    } else {
        rc = dispatch_dom(im, label, root, 0);
    }
    json_decref(root);
    return rc;
}

/* --- zips ------------------------------------------------------------------------ */

static int import_zip(imp *im, const char *label, const char *path, const void *mem,
                      size_t len)
{
    int rc = 0;
    struct archive *a = archive_read_new();
    archive_read_support_format_zip(a);
    int r = path ? archive_read_open_filename(a, path, 1 << 16)
                 : archive_read_open_memory(a, mem, len);
    if (r != ARCHIVE_OK) {
        rc = mm_error_set(MM_EFORMAT, "%s: not a readable zip: %s", label,
                          archive_error_string(a));
        archive_read_free(a);
        return rc;
    }
    note_kind(im, "osv-zip");
    const char *saved_kind = im->kind;
    bool saved_mixed = im->mixed;
    struct archive_entry *e;
    uint64_t members = 0;
    uint64_t total = 0;
    mm_buf buf = MM_BUF_INIT;
    char *mlabel = NULL;
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        if (++members > MM_VULN_MAX_MEMBERS) {
            rc = mm_error_set(MM_ELIMIT, "%s: more than %d zip members", label,
                              MM_VULN_MAX_MEMBERS);
            break;
        }
        const char *name = archive_entry_pathname(e);
        if (archive_entry_filetype(e) != AE_IFREG || !name ||
            !(mm_str_endswith(name, ".json") || mm_str_endswith(name, ".yaml") ||
              mm_str_endswith(name, ".yml")))
            continue;
        free(mlabel);
        mlabel = mm_xasprintf("%s: member %.200s", label, name);
        /* a zip bomb is refused on what it claims and on what it inflates */
        if (archive_entry_size_is_set(e) &&
            (uint64_t)archive_entry_size(e) > MM_VULN_MAX_MEMBER) {
            rc = mm_error_set(MM_ELIMIT, "%s: %lld bytes uncompressed, over the "
                              "%llu-byte cap", mlabel, (long long)archive_entry_size(e),
                              (unsigned long long)MM_VULN_MAX_MEMBER);
            break;
        }
        mm_buf_clear(&buf);
        char chunk[65536];
        ssize_t n;
        while ((n = archive_read_data(a, chunk, sizeof chunk)) > 0) {
            if (buf.len + (size_t)n > MM_VULN_MAX_MEMBER) {
                rc = mm_error_set(MM_ELIMIT, "%s: inflates beyond the %llu-byte cap",
                                  mlabel, (unsigned long long)MM_VULN_MAX_MEMBER);
                break;
            }
            total += (uint64_t)n;
            if (total > MM_VULN_MAX_ZIP_TOTAL) {
                rc = mm_error_set(MM_ELIMIT, "%s: the zip inflates beyond %llu bytes",
                                  mlabel, (unsigned long long)MM_VULN_MAX_ZIP_TOTAL);
                break;
            }
            mm_buf_add(&buf, chunk, (size_t)n);
        }
        if (rc)
            break;
        if (n < 0) {
            rc = mm_error_set(MM_EFORMAT, "%s: %s", mlabel, archive_error_string(a));
            break;
        }
        mm_vulndb_build_count_file(im->b);
        bool walk = im->in_walk;
        im->in_walk = true;  /* a stray non-feed member is skipped, not fatal */
        rc = import_buffer(im, mlabel, buf.data ? buf.data : "", buf.len, false);
        im->in_walk = walk;
        if (rc)
            break;
    }
    if (!rc && r != ARCHIVE_EOF)
        rc = mm_error_set(MM_EFORMAT, "%s: %s%s", mlabel ? mlabel : label,
                          archive_error_string(a) ? archive_error_string(a)
                                                  : "unreadable zip",
                          r == ARCHIVE_WARN ? "" : "");
    /* the zip's kind is "osv-zip", whatever its members said */
    im->kind = saved_kind;
    im->mixed = saved_mixed;
    free(mlabel);
    mm_buf_free(&buf);
    archive_read_free(a);
    return rc;
}

/* --- files and folders ------------------------------------------------------------ */

static int import_file(imp *im, const char *path)
{
    /* zips are read from the file (libarchive seeks to the central
     * directory); everything else is read whole */
    int fd;
    uint64_t size;
    int rc = mm_file_open(path, MM_VULN_MAX_FILE, &fd, &size);
    if (rc)
        return rc;
    unsigned char magic[4];
    if (pread(fd, magic, 4, 0) == 4 && is_zip(magic, 4)) {
        close(fd);
        return import_zip(im, path, path, NULL, 0);
    }
    char *data;
    size_t len;
    rc = mm_file_read_fd(fd, path, size, &data, &len);
    close(fd);
    if (rc)
        return rc;
    mm_vulndb_build_count_file(im->b);
    rc = import_buffer(im, path, data, len, true);
    free(data);
    return rc;
}

static bool feed_name(const char *name)
{
    return name[0] != '.' &&
           (mm_str_endswith(name, ".json") || mm_str_endswith(name, ".yaml") ||
            mm_str_endswith(name, ".yml") || mm_str_endswith(name, ".zip"));
}

static int walk(imp *im, const char *dir, int depth, uint64_t *nfiles)
{
    if (depth > MM_VULN_MAX_WALK_DEPTH)
        return mm_error_set(MM_ELIMIT, "%s: folders nested deeper than %d", dir,
                            MM_VULN_MAX_WALK_DEPTH);
    struct dirent **ents = NULL;
    int n = scandir(dir, &ents, NULL, alphasort);
    if (n < 0)
        return mm_error_set(MM_EIO, "%s: %s", dir, strerror(errno));
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *name = ents[i]->d_name;
        if (rc || name[0] == '.')
            continue;
        char *p = mm_xasprintf("%s/%s", dir, name);
        struct stat sb;
        if (lstat(p, &sb) != 0) {
            rc = mm_error_set(MM_EIO, "%s: %s", p, strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            rc = walk(im, p, depth + 1, nfiles);
        } else if (S_ISREG(sb.st_mode) && feed_name(name)) {
            if (++*nfiles > MM_VULN_MAX_WALK_FILES)
                rc = mm_error_set(MM_ELIMIT, "%s: more than %d feed files", dir,
                                  MM_VULN_MAX_WALK_FILES);
            else
                rc = import_file(im, p);
        }
        free(p);
    }
    for (int i = 0; i < n; i++)
        free(ents[i]);
    free(ents);
    return rc;
}

static void finish_result(imp *im, mm_vulndb_feed_result *res)
{
    if (!res)
        return;
    res->kind = im->mixed ? "mixed" : im->kind ? im->kind : "osv";
    res->records = im->records;
}

int mm_vulndb_build_import_path(mm_vulndb_build *b, const char *path,
                                const char *source, mm_vulndb_feed_result *res)
{
    imp im = {.b = b};
    mm_vulndb_build_use_source(b, source ? source : path);
    struct stat sb;
    int rc;
    if (stat(path, &sb) != 0)
        return mm_error_set(errno == ENOENT ? MM_ENOTFOUND : MM_EIO, "%s: %s", path,
                            strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        uint64_t nfiles = 0;
        im.in_walk = true;
        rc = walk(&im, path, 0, &nfiles);
    } else {
        rc = import_file(&im, path);
    }
    finish_result(&im, res);
    return rc;
}

int mm_vulndb_build_import_mem(mm_vulndb_build *b, const void *data, size_t len,
                               const char *label, const char *source,
                               mm_vulndb_feed_result *res)
{
    imp im = {.b = b};
    mm_vulndb_build_use_source(b, source ? source : label);
    if (len > MM_VULN_MAX_FILE)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, over the feed cap", label, len);
    mm_vulndb_build_count_file(b);
    int rc = import_buffer(&im, label, data ? data : "", len, true);
    finish_result(&im, res);
    return rc;
}

/* --- the public import --------------------------------------------------------- */

int mm_vulndb_import(const char *db_path, const char *const *paths, size_t npaths,
                     mm_import_stats *stats, mm_warn_fn warn, void *warn_ud)
{
    double t0 = mm_now();
    if (stats)
        memset(stats, 0, sizeof *stats);
    if (!paths || npaths == 0)
        return mm_error_set(MM_EINVAL, "nothing to import");
    mm_vulndb_build *b = NULL;
    int rc = mm_vulndb_build_begin(&b, db_path, warn, warn_ud);
    if (rc)
        return rc;
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < npaths; i++) {
        mm_vulndb_feed_result res = {0};
        /* a path imported again replaces its earlier rows, so records it
         * no longer holds go away too */
        if ((rc = mm_vulndb_build_drop_source(b, paths[i])) ||
            (rc = mm_vulndb_build_import_path(b, paths[i], paths[i], &res)))
            goto fail;
        char *loc = realpath(paths[i], NULL);
        mm_vulndb_source_info s = {.name = (char *)paths[i], .kind = (char *)res.kind,
                                   .location = loc ? loc : (char *)paths[i],
                                   .updated_at = now, .records = res.records};
        rc = mm_vulndb_build_set_source(b, &s, NULL);
        free(loc);
        if (rc)
            goto fail;
    }
    mm_import_stats st = *mm_vulndb_build_stats(b);
    if ((rc = mm_vulndb_build_commit(b)))
        return rc;
    st.seconds = mm_now() - t0;
    if (stats)
        *stats = st;
    return 0;
fail:
    mm_vulndb_build_abort(b);
    return rc;
}
