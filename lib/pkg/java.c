/*
 * java.c - Java archives (.jar, .war, .ear, and Jenkins' .jpi/.hpi): the
 * Maven coordinates of what they contain, read with libarchive from the
 * buffered archive.
 *
 * What an archive is (Maven's and the JAR specification's conventions):
 *  1. every META-INF/maven/GROUP/ARTIFACT/pom.properties (groupId,
 *     artifactId, version) is a package "group:artifact" (fat and shaded
 *     jars carry several);
 *  2. when none of them matches the archive's own file name, the main
 *     section of META-INF/MANIFEST.MF (Implementation-Version / Bundle-
 *     Version, Implementation-Vendor-Id / Bundle-SymbolicName for the group)
 *     names the archive itself;
 *  3. failing that, the file name "artifact-1.2.3.jar" does.
 * Nested archives (WEB-INF/lib in wars, BOOT-INF/lib in Spring Boot jars,
 * lib/ in ears) are read recursively, MM_JAVA_MAX_DEPTH deep at most, each
 * at most MM_JAVA_MAX_NESTED bytes, within MM_JAVA_MAX_BUDGET decompressed
 * bytes per top-level archive (zip bombs); their packages are indirect and
 * their path is "/outer.war!/WEB-INF/lib/inner.jar" (the jar: URL form).
 *
 * A corrupt archive is a scan warning, not an error: jars are not package
 * databases, and test resources in images are often deliberately broken.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <archive.h>
#include <archive_entry.h>

#include "pkg/analyzers.h"
#include "pkg/lang.h"
#include "util/util.h"

bool mm_java_is_archive_path(const char *path)
{
    static const char *const exts[] = {".jar", ".war", ".ear", ".jpi",
                                       ".hpi"};
    size_t n = strlen(path);
    if (n < 5)
        return false;
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (strcasecmp(path + n - 4, exts[i]) == 0)
            return path[n - 5] != '/';
    return false;
}

bool mm_java_split_filename(const char *base, char **artifact,
                            char **version)
{
    *artifact = *version = NULL;
    size_t n = strlen(base);
    const char *dot = strrchr(base, '.');
    if (dot && mm_java_is_archive_path(base))
        n = (size_t)(dot - base);
    for (size_t i = 1; i + 1 < n; i++) {
        if (base[i] == '-' && isdigit((unsigned char)base[i + 1])) {
            *artifact = mm_xstrndup(base, i);
            *version = mm_xstrndup(base + i + 1, n - i - 1);
            return true;
        }
    }
    return false;
}

/* purl-spec percent-encoding: unreserved characters stay. */
static void purl_part(mm_buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (isalnum(c) || c == '.' || c == '-' || c == '_' || c == '~')
            mm_buf_addc(b, (char)c);
        else
            mm_buf_printf(b, "%%%02X", c);
    }
}

char *mm_java_purl(const char *group, const char *artifact,
                   const char *version)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "pkg:maven/");
    if (group && *group) {
        purl_part(&b, group);
        mm_buf_addc(&b, '/');
    }
    purl_part(&b, artifact);
    if (version && *version) {
        mm_buf_addc(&b, '@');
        purl_part(&b, version);
    }
    return mm_buf_detach(&b);
}

/* --- key/value files ----------------------------------------------------- */

/* A tiny fixed set of keys we care about, filled from a document. */
typedef struct kv {
    const char *key;
    char *val;
} kv;

static void kv_set(kv *kvs, size_t nkv, const char *k, size_t klen,
                   const char *v, size_t vlen)
{
    for (size_t i = 0; i < nkv; i++) {
        if (strlen(kvs[i].key) == klen &&
            strncasecmp(kvs[i].key, k, klen) == 0 && !kvs[i].val) {
            char *s = mm_xstrndup(v, vlen);
            mm_str_trim(s);
            kvs[i].val = s;
            return;
        }
    }
}

static void kv_free(kv *kvs, size_t nkv)
{
    for (size_t i = 0; i < nkv; i++) {
        free(kvs[i].val);
        kvs[i].val = NULL;
    }
}

/* java.util.Properties, the subset Maven writes: "key=value", "key: value"
 * or "key value"; "#" and "!" comments. */
static void parse_properties(kv *kvs, size_t nkv, const char *d, size_t n)
{
    mm_lines it;
    const char *line;
    size_t len;
    mm_lines_init(&it, d, n);
    while (mm_lines_next(&it, &line, &len)) {
        size_t i = 0;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i == len || line[i] == '#' || line[i] == '!')
            continue;
        size_t ks = i;
        while (i < len && line[i] != '=' && line[i] != ':' &&
               line[i] != ' ' && line[i] != '\t')
            i++;
        size_t ke = i;
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i < len && (line[i] == '=' || line[i] == ':'))
            i++;
        kv_set(kvs, nkv, line + ks, ke - ks, line + i, len - i);
    }
}

/* The main section of a manifest: "Name: value" lines, a line starting
 * with one space continues the previous value, a blank line ends it. */
static void parse_manifest(kv *kvs, size_t nkv, const char *d, size_t n)
{
    mm_lines it;
    const char *line;
    size_t len;
    mm_buf key = MM_BUF_INIT, val = MM_BUF_INIT;
    bool have = false;
    mm_lines_init(&it, d, n);
    for (;;) {
        bool more = mm_lines_next(&it, &line, &len);
        if (more && len > 0 && line[0] == ' ') {
            if (have)
                mm_buf_add(&val, line + 1, len - 1);
            continue;
        }
        if (have)
            kv_set(kvs, nkv, key.data, key.len, val.data ? val.data : "",
                   val.len);
        have = false;
        if (!more || len == 0)
            break;
        const char *colon = memchr(line, ':', len);
        if (!colon)
            continue;
        mm_buf_clear(&key);
        mm_buf_clear(&val);
        mm_buf_add(&key, line, (size_t)(colon - line));
        mm_buf_add(&val, colon + 1, len - (size_t)(colon - line) - 1);
        have = true;
    }
    mm_buf_free(&key);
    mm_buf_free(&val);
}

/* --- archives ------------------------------------------------------------ */

typedef struct jwalk {
    mm_lang_result *out;
    uint64_t budget;   /* decompressed bytes left */
    uint64_t entries;  /* zip entries left */
} jwalk;

/* Reads the current entry whole, up to cap bytes. */
static int read_entry(jwalk *w, struct archive *a, size_t cap, char **data,
                      size_t *len, const char *where)
{
    mm_buf b = MM_BUF_INIT;
    char tmp[65536];
    for (;;) {
        la_ssize_t r = archive_read_data(a, tmp, sizeof tmp);
        if (r == 0)
            break;
        if (r < 0) {
            int rc = mm_error_set(MM_EFORMAT, "%s: %s", where,
                                  archive_error_string(a)
                                      ? archive_error_string(a)
                                      : "read error");
            mm_buf_free(&b);
            return rc;
        }
        if (b.len + (size_t)r > cap || (uint64_t)r > w->budget) {
            mm_buf_free(&b);
            return mm_error_set(MM_ELIMIT, "%s: larger than %zu bytes (or "
                                "the archive's decompression budget)",
                                where, cap);
        }
        w->budget -= (uint64_t)r;
        mm_buf_add(&b, tmp, (size_t)r);
    }
    mm_buf_reserve(&b, 1); /* data non-NULL even when empty */
    *len = b.len;
    *data = mm_buf_detach(&b);
    return 0;
}

static void add_pkg(jwalk *w, const char *group, const char *artifact,
                    const char *version, const char *path, bool nested)
{
    /* Skip what this archive already reported: the same artifact and
     * version (a manifest or file name naming the artifact that a
     * pom.properties already gave with its group counts too). */
    char *name = group && *group ? mm_xasprintf("%s:%s", group, artifact)
                                 : mm_xstrdup(artifact);
    for (size_t i = 0; i < w->out->npkgs; i++) {
        mm_package *q = &w->out->pkgs[i];
        const char *qa = strrchr(q->name, ':');
        qa = qa ? qa + 1 : q->name;
        if (strcmp(q->version, version) == 0 && strcmp(q->path, path) == 0 &&
            (strcmp(q->name, name) == 0 ||
             ((!group || !*group) && strcmp(qa, artifact) == 0))) {
            free(name);
            return;
        }
    }
    mm_package p = {0};
    p.type = MM_PKG_MAVEN;
    p.name = name;
    p.version = mm_xstrdup(version);
    p.purl = mm_java_purl(group, artifact, version);
    p.path = mm_xstrdup(path);
    p.epoch = -1;
    p.layer = -1;
    p.indirect = nested;
    if (mm_lang_result_push(w->out, &p) < 0)
        mm_lang_result_warn(w->out, "%s: %s", path, mm_error_last());
}

static bool has_space(const char *s)
{
    for (; *s; s++)
        if (isspace((unsigned char)*s))
            return true;
    return false;
}

static int walk(jwalk *w, const uint8_t *d, size_t n, const char *path,
                int depth);

/* The archive's own identity from its manifest and file name. */
static void identify_self(jwalk *w, const char *manifest, size_t mlen,
                          const char *path, bool nested)
{
    char *fa = NULL, *fv = NULL;
    mm_java_split_filename(mm_path_base(path), &fa, &fv);
    if (manifest) {
        kv m[] = {
            {"Implementation-Title", NULL}, {"Implementation-Version", NULL},
            {"Implementation-Vendor-Id", NULL}, {"Bundle-SymbolicName", NULL},
            {"Bundle-Version", NULL}, {"Bundle-Name", NULL},
            {"Specification-Title", NULL}, {"Specification-Version", NULL},
        };
        size_t nm = sizeof m / sizeof *m;
        parse_manifest(m, nm, manifest, mlen);
        const char *ver = m[1].val && *m[1].val ? m[1].val
                        : m[4].val && *m[4].val ? m[4].val
                        : m[7].val && *m[7].val ? m[7].val : NULL;
        /* Titles are often prose ("Apache Commons Lang"): the file name's
         * artifact is the better Maven name when there is one. */
        const char *art = fa ? fa
                        : m[0].val && *m[0].val && !has_space(m[0].val) ? m[0].val
                        : m[5].val && *m[5].val && !has_space(m[5].val) ? m[5].val
                        : m[6].val && *m[6].val && !has_space(m[6].val) ? m[6].val
                        : NULL;
        char *group = NULL;
        if (m[2].val && *m[2].val && !has_space(m[2].val)) {
            group = mm_xstrdup(m[2].val);
        } else if (m[3].val && *m[3].val) {
            /* "com.fasterxml.jackson.core.jackson-databind;singleton:=true"
             * -> "com.fasterxml.jackson.core" */
            group = mm_xstrdup(m[3].val);
            group[strcspn(group, ";")] = 0;
            mm_str_trim(group);
            char *dot = strrchr(group, '.');
            if (dot && dot != group)
                *dot = 0;
            else
                group[0] = 0;
            if (has_space(group))
                group[0] = 0;
        }
        bool done = false;
        if (ver && art && !has_space(ver)) {
            add_pkg(w, group, art, ver, path, nested);
            done = true;
        }
        free(group);
        kv_free(m, nm);
        if (done) {
            free(fa);
            free(fv);
            return;
        }
    }
    if (fa && fv)
        add_pkg(w, NULL, fa, fv, path, nested);
    free(fa);
    free(fv);
}

static bool is_pom_properties(const char *name)
{
    return strstr(name, "META-INF/maven/") &&
           mm_str_endswith(name, "/pom.properties");
}

static int walk(jwalk *w, const uint8_t *d, size_t n, const char *path,
                int depth)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    bool nested = depth > 0;
    char *manifest = NULL;
    size_t mlen = 0;
    bool self_found = false;
    int rc = 0;
    char *fa = NULL, *fv = NULL;
    mm_java_split_filename(mm_path_base(path), &fa, &fv);

    archive_read_support_format_zip(a);
    if (archive_read_open_memory(a, d, n) != ARCHIVE_OK) {
        rc = mm_error_set(MM_EFORMAT, "%s: not a zip archive: %s", path,
                          archive_error_string(a) ? archive_error_string(a)
                                                  : "unknown error");
        goto out;
    }
    for (size_t count = 0;; count++) {
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            break;
        if (r < ARCHIVE_WARN) {
            const char *why = archive_error_string(a) ? archive_error_string(a)
                                                      : "unknown error";
            if (count == 0) {
                rc = mm_error_set(MM_EFORMAT, "%s: not a zip archive: %s",
                                  path, why);
                goto out;
            }
            mm_lang_result_warn(w->out, "%s: entry %zu: %s (rest skipped)",
                                path, count, why);
            break;
        }
        if (w->entries == 0) {
            mm_lang_result_warn(w->out, "%s: more than %u entries (rest "
                                "skipped)", path, MM_JAVA_MAX_ENTRIES);
            break;
        }
        w->entries--;
        const char *name = archive_entry_pathname(e);
        if (!name || archive_entry_filetype(e) != AE_IFREG)
            continue;
        char *where = mm_xasprintf("%s!/%s", path, name);
        char *data = NULL;
        size_t len = 0;
        if (is_pom_properties(name)) {
            if (read_entry(w, a, MM_JAVA_MAX_META, &data, &len, where) == 0) {
                kv p[] = {{"groupId", NULL}, {"artifactId", NULL},
                          {"version", NULL}};
                parse_properties(p, 3, data, len);
                if (p[0].val && p[1].val && p[2].val && *p[0].val &&
                    *p[1].val && *p[2].val) {
                    add_pkg(w, p[0].val, p[1].val, p[2].val, path, nested);
                    if (fa && strcmp(fa, p[1].val) == 0)
                        self_found = true;
                }
                kv_free(p, 3);
            } else {
                mm_lang_result_warn(w->out, "%s", mm_error_last());
            }
        } else if (!manifest && strcasecmp(name, "META-INF/MANIFEST.MF") == 0) {
            if (read_entry(w, a, MM_JAVA_MAX_META, &data, &len, where) == 0) {
                manifest = data;
                mlen = len;
                data = NULL;
            } else {
                mm_lang_result_warn(w->out, "%s", mm_error_last());
            }
        } else if (mm_java_is_archive_path(name)) {
            if (depth + 1 > MM_JAVA_MAX_DEPTH) {
                mm_lang_result_warn(w->out, "%s: nested deeper than %d "
                                    "archives (skipped)", where,
                                    MM_JAVA_MAX_DEPTH);
            } else if (archive_entry_size_is_set(e) &&
                       archive_entry_size(e) > (la_int64_t)MM_JAVA_MAX_NESTED) {
                mm_lang_result_warn(w->out, "%s: nested archive larger than "
                                    "%u bytes (skipped)", where,
                                    MM_JAVA_MAX_NESTED);
            } else if (read_entry(w, a, MM_JAVA_MAX_NESTED, &data, &len,
                                  where) == 0) {
                if (walk(w, (const uint8_t *)data, len, where, depth + 1) < 0)
                    mm_lang_result_warn(w->out, "%s (skipped)",
                                        mm_error_last());
            } else {
                mm_lang_result_warn(w->out, "%s (skipped)", mm_error_last());
            }
        }
        free(data);
        free(where);
    }
    if (!self_found)
        identify_self(w, manifest, mlen, path, nested);
out:
    free(manifest);
    free(fa);
    free(fv);
    archive_read_free(a);
    return rc;
}

int mm_java_parse_archive(mm_lang_result *out, const uint8_t *d, size_t n,
                          const char *path)
{
    jwalk w = {out, MM_JAVA_MAX_BUDGET, MM_JAVA_MAX_ENTRIES};
    return walk(&w, d, n, path, 0);
}

/* --- the analyzer ------------------------------------------------------- */

typedef struct java_state {
    mm_lang_store *jars; /* relative path -> packages (latest version) */
} java_state;

static int java_create(void **state, mm_actx *cx, const void *config)
{
    java_state *s = mm_xcalloc(1, sizeof *s);
    s->jars = mm_lang_store_new();
    *state = s;
    return 0;
}

static void java_destroy(void *state)
{
    java_state *s = state;
    if (!s)
        return;
    mm_lang_store_free(s->jars);
    free(s);
}

static mm_want java_wants(void *state, const mm_entry *e)
{
    return e->type == MM_ENT_REG && mm_java_is_archive_path(e->path)
               ? MM_WANT_WHOLE : MM_WANT_NONE;
}

static int java_file(void *state, mm_actx *cx, const mm_entry *e,
                     const uint8_t *data, size_t len)
{
    java_state *s = state;
    mm_lang_result res = {0};
    char *path = mm_xasprintf("/%s", e->path);
    int rc = mm_java_parse_archive(&res, data, len, path);
    for (size_t i = 0; i < res.nwarnings; i++)
        mm_actx_warn(cx, "java: %s", res.warnings[i]);
    mm_lang_store_parsed(s->jars, cx, "java", e->path, e->layer, rc, &res);
    free(path);
    return 0;
}

static int java_finish(void *state, mm_actx *cx)
{
    java_state *s = state;
    return mm_lang_store_emit(s->jars, cx);
}

const mm_analyzer_ops mm_analyzer_java = {
    .name = "java",
    .create = java_create,
    .wants = java_wants,
    .file = java_file,
    .finish = java_finish,
    .destroy = java_destroy,
};
