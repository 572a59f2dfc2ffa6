/*
 * dpkg.c - packages installed by dpkg (Debian, Ubuntu and distroless
 * images): var/lib/dpkg/status, or one file per package in
 * var/lib/dpkg/status.d/ (distroless), with owned files from
 * var/lib/dpkg/info/PKG[:ARCH].list or status.d/PKG.md5sums, and the
 * licence from usr/share/doc/PKG/copyright (dpkg itself records none).
 *
 * The status file is a sequence of deb822 stanzas ("Field: value", a
 * continuation line starts with a space or tab, stanzas are separated by
 * empty lines).  Only packages whose Status state is "installed" are on
 * disk; "deinstall ok config-files" (dpkg -l shows "rc") and the like are
 * not inventory.  Field names are case-insensitive, as dpkg reads them.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "pkg/osdb.h"

/* Longest name, version or architecture we accept. */
#define DPKG_FIELD_MAX 1024u

typedef struct span {
    const char *p;
    size_t n;
    bool set;
} span;

typedef struct stanza {
    size_t line; /* line of its first field, 0 when none yet */
    span package, version, source, arch, status, multiarch;
} stanza;

static const struct {
    const char *name;
    size_t off;
} dpkg_fields[] = {
    {"Package", offsetof(stanza, package)},
    {"Version", offsetof(stanza, version)},
    {"Source", offsetof(stanza, source)},
    {"Architecture", offsetof(stanza, arch)},
    {"Status", offsetof(stanza, status)},
    {"Multi-Arch", offsetof(stanza, multiarch)},
};

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

static void trim_span(const char **p, size_t *n)
{
    while (*n && is_space(**p)) {
        (*p)++;
        (*n)--;
    }
    while (*n && is_space((*p)[*n - 1]))
        (*n)--;
}

/* dpkg package names: a letter or digit, then letters, digits, + - . _
 * (Debian policy allows fewer; dpkg itself tolerates these). */
static bool valid_name(const char *p, size_t n)
{
    if (n == 0 || n > DPKG_FIELD_MAX || !isalnum((unsigned char)p[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!isalnum((unsigned char)p[i]) && (!p[i] || !strchr("+-._", p[i])))
            return false;
    return true;
}

/* A version or architecture: one printable word. */
static bool valid_word(const char *p, size_t n)
{
    if (n == 0 || n > DPKG_FIELD_MAX || mm_osdb_has_ctrl(p, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (is_space(p[i]))
            return false;
    return true;
}

static bool span_eq(const span *s, const char *lit)
{
    size_t n = strlen(lit);
    return s->set && s->n == n && memcmp(s->p, lit, n) == 0;
}

/* Is the stanza's package on disk?  Status is "want flag state"; the
 * state word decides (dpkg-query's third status letter). */
static int installed(const stanza *st, const char *path, bool require_status,
                     bool *yes)
{
    *yes = false;
    if (!st->status.set) {
        *yes = !require_status;
        return 0;
    }
    const char *w[4];
    size_t wn[4], k = 0;
    const char *p = st->status.p, *e = p + st->status.n;
    while (p < e && k < 4) {
        while (p < e && is_space(*p))
            p++;
        if (p == e)
            break;
        w[k] = p;
        while (p < e && !is_space(*p))
            p++;
        wn[k] = (size_t)(p - w[k]);
        k++;
    }
    if (k != 3)
        return mm_error_set(MM_EFORMAT,
                            "%s: line %zu: Status field needs three words",
                            path, st->line);
    *yes = wn[2] == 9 && memcmp(w[2], "installed", 9) == 0;
    return 0;
}

static int stanza_end(mm_osdb_list *out, stanza *st, const char *path,
                      bool require_status)
{
    if (st->line == 0)
        return 0;
    if (!st->package.set)
        return mm_error_set(MM_EFORMAT,
                            "%s: line %zu: stanza without Package field",
                            path, st->line);
    if (!valid_name(st->package.p, st->package.n))
        return mm_error_set(MM_EFORMAT, "%s: line %zu: invalid Package name",
                            path, st->line);
    bool yes;
    int rc = installed(st, path, require_status, &yes);
    if (rc)
        return rc;
    if (!yes) {
        if (!st->status.set)
            mm_osdb_list_warn(out, "%s: line %zu: package %.*s has no Status "
                              "field; not counted as installed", path,
                              st->line, (int)st->package.n, st->package.p);
        return 0;
    }
    if (!st->version.set)
        return mm_error_set(MM_EFORMAT,
                            "%s: line %zu: installed package %.*s has no "
                            "Version field", path, st->line,
                            (int)st->package.n, st->package.p);
    if (!valid_word(st->version.p, st->version.n))
        return mm_error_set(MM_EFORMAT, "%s: line %zu: invalid Version of %.*s",
                            path, st->line, (int)st->package.n,
                            st->package.p);
    if (st->arch.set && st->arch.n && !valid_word(st->arch.p, st->arch.n))
        return mm_error_set(MM_EFORMAT,
                            "%s: line %zu: invalid Architecture of %.*s",
                            path, st->line, (int)st->package.n,
                            st->package.p);

    /* Source: "name" or "name (version)" when the source version differs
     * from the binary's (binNMUs, epochs dropped). */
    const char *sn = NULL, *sv = NULL;
    size_t snl = 0, svl = 0;
    if (st->source.set && st->source.n) {
        const char *p = st->source.p, *e = p + st->source.n;
        sn = p;
        while (p < e && !is_space(*p) && *p != '(')
            p++;
        snl = (size_t)(p - sn);
        while (p < e && is_space(*p))
            p++;
        if (p < e) {
            if (*p != '(' || e[-1] != ')')
                return mm_error_set(MM_EFORMAT,
                                    "%s: line %zu: invalid Source of %.*s",
                                    path, st->line, (int)st->package.n,
                                    st->package.p);
            sv = p + 1;
            svl = (size_t)(e - 1 - sv);
            trim_span(&sv, &svl);
            if (!valid_word(sv, svl))
                return mm_error_set(MM_EFORMAT,
                                    "%s: line %zu: invalid Source version of "
                                    "%.*s", path, st->line,
                                    (int)st->package.n, st->package.p);
        }
        if (!valid_name(sn, snl))
            return mm_error_set(MM_EFORMAT,
                                "%s: line %zu: invalid Source of %.*s", path,
                                st->line, (int)st->package.n, st->package.p);
    }

    mm_osdb_pkg *r = mm_osdb_list_push(out, MM_PKG_DPKG, path);
    if (!r)
        return MM_ELIMIT;
    r->line = st->line;
    r->multiarch_same = span_eq(&st->multiarch, "same");
    mm_package *p = &r->pkg;
    p->name = mm_xstrndup(st->package.p, st->package.n);
    p->version = mm_xstrndup(st->version.p, st->version.n);
    if (st->arch.set && st->arch.n)
        p->arch = mm_xstrndup(st->arch.p, st->arch.n);
    /* pkg.h: src_name/src_version only where they differ. */
    if (sn && !(snl == st->package.n && memcmp(sn, st->package.p, snl) == 0))
        p->src_name = mm_xstrndup(sn, snl);
    if (sv && !(svl == st->version.n && memcmp(sv, st->version.p, svl) == 0))
        p->src_version = mm_xstrndup(sv, svl);
    return 0;
}

int mm_dpkg_parse_status(mm_osdb_list *out, const char *data, size_t len,
                         const char *path, bool require_status)
{
    stanza st;
    memset(&st, 0, sizeof st);
    mm_lines it;
    const char *line;
    size_t n;
    int rc = 0;
    mm_lines_init(&it, data, len);
    while (rc == 0 && mm_lines_next(&it, &line, &n)) {
        if (memchr(line, 0, n)) {
            rc = mm_error_set(MM_EFORMAT, "%s: line %zu: NUL byte", path,
                              it.lineno);
            break;
        }
        if (n == 0) {
            rc = stanza_end(out, &st, path, require_status);
            memset(&st, 0, sizeof st);
            continue;
        }
        if (is_space(line[0])) {
            /* A continuation of the previous field (Description and
             * Conffiles use them; the fields we keep do not). */
            if (st.line == 0)
                rc = mm_error_set(MM_EFORMAT,
                                  "%s: line %zu: continuation line outside "
                                  "a field", path, it.lineno);
            continue;
        }
        const char *colon = memchr(line, ':', n);
        if (!colon || colon == line) {
            rc = mm_error_set(MM_EFORMAT,
                              "%s: line %zu: expected \"Field: value\"", path,
                              it.lineno);
            break;
        }
        size_t fl = (size_t)(colon - line);
        for (size_t i = 0; i < fl; i++) {
            unsigned char c = (unsigned char)line[i];
            if (c <= 0x20 || c >= 0x7f) {
                rc = mm_error_set(MM_EFORMAT,
                                  "%s: line %zu: invalid field name", path,
                                  it.lineno);
                break;
            }
        }
        if (rc)
            break;
        if (st.line == 0)
            st.line = it.lineno;
        const char *v = colon + 1;
        size_t vn = n - fl - 1;
        trim_span(&v, &vn);
        for (size_t f = 0; f < sizeof dpkg_fields / sizeof *dpkg_fields; f++) {
            const char *name = dpkg_fields[f].name;
            if (strlen(name) != fl || strncasecmp(line, name, fl) != 0)
                continue;
            span *s = (span *)((char *)&st + dpkg_fields[f].off);
            if (s->set) {
                rc = mm_error_set(MM_EFORMAT,
                                  "%s: line %zu: duplicate %s field", path,
                                  it.lineno, name);
                break;
            }
            if (mm_osdb_has_ctrl(v, vn)) {
                rc = mm_error_set(MM_EFORMAT,
                                  "%s: line %zu: control character in %s",
                                  path, it.lineno, name);
                break;
            }
            s->p = v;
            s->n = vn;
            s->set = true;
            break;
        }
    }
    if (rc == 0)
        rc = stanza_end(out, &st, path, require_status);
    return rc;
}

/* Adds name to the distinct names of v (at most 16, each printable and
 * short). */
static void add_name(char ***v, size_t *n, const char *p, size_t len)
{
    if (len == 0 || len > 128 || *n >= 16 || mm_osdb_has_ctrl(p, len))
        return;
    for (size_t i = 0; i < *n; i++)
        if (strlen((*v)[i]) == len && memcmp((*v)[i], p, len) == 0)
            return;
    char *s = mm_xstrndup(p, len);
    if (strlen(s) == len)
        mm_strv_push(v, n, s);
    free(s);
}

char *mm_dpkg_copyright_license(const char *data, size_t len)
{
    char **names = NULL;
    size_t n = 0;
    mm_lines it;
    const char *line;
    size_t ln;
    mm_lines_init(&it, data, len);
    while (mm_lines_next(&it, &line, &ln)) {
        /* DEP-5: the first line of a License field is its short name. */
        if (ln > 8 && strncasecmp(line, "License:", 8) == 0) {
            const char *v = line + 8;
            size_t vn = ln - 8;
            trim_span(&v, &vn);
            add_name(&names, &n, v, vn);
        }
    }
    if (n == 0) {
        /* Older free-form files point at the licence texts dpkg ships. */
        static const char ref[] = "/usr/share/common-licenses/";
        const size_t rl = sizeof ref - 1;
        const char *p = data, *end = data + len;
        while (p < end && (p = memmem(p, (size_t)(end - p), ref, rl))) {
            p += rl;
            const char *q = p;
            while (q < end && (isalnum((unsigned char)*q) ||
                               strchr("+-._", *q)) && *q)
                q++;
            size_t k = (size_t)(q - p);
            while (k && p[k - 1] == '.') /* end of a sentence */
                k--;
            add_name(&names, &n, p, k);
        }
    }
    if (n == 0)
        return NULL;
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        bool compound = n > 1 && strchr(names[i], ' ');
        mm_buf_printf(&b, "%s%s%s%s", i ? " AND " : "", compound ? "(" : "",
                      names[i], compound ? ")" : "");
    }
    mm_strv_free(names, n);
    return mm_buf_detach(&b);
}

int mm_dpkg_parse_files(char ***files, size_t *nfiles, const char *data,
                        size_t len, bool md5sums)
{
    mm_lines it;
    const char *line;
    size_t n;
    mm_lines_init(&it, data, len);
    while (mm_lines_next(&it, &line, &n)) {
        if (md5sums) {
            /* "<32 hex>  path": the path follows the first blank run. */
            size_t i = 0;
            while (i < n && !is_space(line[i]))
                i++;
            while (i < n && is_space(line[i]))
                i++;
            line += i;
            n -= i;
        }
        if (n == 0 || n > 4096 || memchr(line, 0, n) ||
            mm_osdb_has_ctrl(line, n))
            continue;
        char *raw = mm_xstrndup(line, n);
        bool esc = false;
        char *norm = mm_path_normalize(raw, &esc);
        free(raw);
        /* "/." (the root) normalises to NULL; a path climbing out of the
         * root is nothing a package owns. */
        if (norm && !esc) {
            if (*nfiles >= MM_OSDB_MAX_FILES) {
                free(norm);
                return mm_error_set(MM_ELIMIT, "more than %u owned files",
                                    MM_OSDB_MAX_FILES);
            }
            char *abs = mm_xasprintf("/%s", norm);
            mm_strv_push(files, nfiles, abs);
            free(abs);
        }
        free(norm);
    }
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the analyzer                                                             */

#define DPKG_STATUS   "var/lib/dpkg/status"
#define DPKG_STATUS_D "var/lib/dpkg/status.d/"
#define DPKG_INFO     "var/lib/dpkg/info/"

#define DPKG_DOC      "usr/share/doc/"
/* A copyright file larger than this is not read for its licence. */
#define COPYRIGHT_MAX (1u << 20)

typedef struct dpkg_state {
    mm_map *dbs;   /* path -> mm_osdb_db */
    mm_map *lists; /* path -> mm_osdb_blob: .list and .md5sums files */
    mm_map *lic;   /* copyright path -> mm_osdb_blob holding the licence
                    * it states (empty when none) */
    const mm_tree *tree;
} dpkg_state;

enum { F_NONE, F_DB, F_DBD, F_LIST, F_COPYRIGHT };

static int classify(const char *path)
{
    if (strcmp(path, DPKG_STATUS) == 0)
        return F_DB;
    if (mm_str_startswith(path, DPKG_STATUS_D)) {
        const char *b = path + strlen(DPKG_STATUS_D);
        if (!*b || strchr(b, '/'))
            return F_NONE;
        return mm_str_endswith(b, ".md5sums") ? F_LIST : F_DBD;
    }
    if (mm_str_startswith(path, DPKG_INFO)) {
        const char *b = path + strlen(DPKG_INFO);
        if (*b && !strchr(b, '/') && mm_str_endswith(b, ".list"))
            return F_LIST;
    }
    if (mm_str_startswith(path, DPKG_DOC)) {
        /* usr/share/doc/PKG/copyright */
        const char *b = path + strlen(DPKG_DOC);
        const char *sl = strchr(b, '/');
        if (sl && sl > b && strcmp(sl, "/copyright") == 0)
            return F_COPYRIGHT;
    }
    return F_NONE;
}

static int dpkg_create(void **state, mm_actx *cx, const void *config)
{
    dpkg_state *s = mm_xcalloc(1, sizeof *s);
    s->dbs = mm_map_new();
    s->lists = mm_map_new();
    s->lic = mm_map_new();
    *state = s;
    return 0;
}

static mm_want dpkg_wants(void *state, const mm_entry *e)
{
    if (e->type != MM_ENT_REG)
        return MM_WANT_NONE;
    int kind = classify(e->path);
    if (kind == F_NONE || (kind == F_COPYRIGHT && e->size > COPYRIGHT_MAX))
        return MM_WANT_NONE;
    return MM_WANT_WHOLE;
}

static int dpkg_file(void *state, mm_actx *cx, const mm_entry *e,
                     const uint8_t *data, size_t len)
{
    dpkg_state *s = state;
    int kind = classify(e->path);
    if (kind == F_LIST) {
        mm_osdb_blob_put(s->lists, e->path, e->layer, data, len);
        return 0;
    }
    if (kind == F_COPYRIGHT) {
        /* Keep the licence only: there is one such file per package. */
        char *l = mm_dpkg_copyright_license((const char *)data, len);
        mm_osdb_blob_put(s->lic, e->path, e->layer, (const uint8_t *)l,
                         l ? strlen(l) : 0);
        free(l);
        return 0;
    }
    if (kind != F_DB && kind != F_DBD)
        return 0;
    char *abs = mm_xasprintf("/%s", e->path);
    mm_osdb_list l = {0};
    int rc = mm_dpkg_parse_status(&l, (const char *)data, len, abs,
                                  kind == F_DB);
    free(abs);
    mm_osdb_db_update(mm_osdb_db_get(s->dbs, e->path), e->layer, rc, &l);
    return 0;
}

/* Keeps the files of a list that are not directories in the tree (dpkg
 * lists every directory it created, /usr included). */
static void add_list(dpkg_state *s, const char *path, char ***files,
                     size_t *nfiles)
{
    const mm_osdb_blob *b = mm_osdb_blob_visible(s->lists, s->tree, path);
    if (!b)
        return;
    char **all = NULL;
    size_t nall = 0;
    mm_dpkg_parse_files(&all, &nall, b->data, b->len,
                        mm_str_endswith(path, ".md5sums"));
    for (size_t i = 0; i < nall; i++) {
        const mm_node *n = mm_tree_get(s->tree, all[i] + 1);
        if (n && S_ISDIR(n->mode))
            continue;
        mm_strv_push(files, nfiles, all[i]);
    }
    mm_strv_free(all, nall);
}

/* The licence of usr/share/doc/NAME/copyright, links followed (the doc
 * directory of a binary package is often a link to a sibling's). */
static char *doc_license(dpkg_state *s, const char *name)
{
    char *path = mm_xasprintf(DPKG_DOC "%s/copyright", name);
    const mm_node *n = s->tree ? mm_tree_resolve(s->tree, path) : NULL;
    free(path);
    if (!n || !n->path)
        return NULL;
    const mm_osdb_blob *b = mm_osdb_blob_visible(s->lic, s->tree, n->path);
    return b && b->len ? mm_xstrdup(b->data) : NULL;
}

static void dpkg_files(void *ud, const mm_osdb_db *db, const mm_osdb_pkg *rec,
                       char ***files, size_t *nfiles, char **license)
{
    dpkg_state *s = ud;
    const mm_package *p = &rec->pkg;
    if (!p->license)
        *license = doc_license(s, p->name);
    if (strcmp(db->path, DPKG_STATUS) != 0) {
        /* distroless: status.d/NAME has its sums in status.d/NAME.md5sums */
        char *path = mm_xasprintf("%s.md5sums", db->path);
        add_list(s, path, files, nfiles);
        free(path);
        return;
    }
    char *path = NULL;
    if (p->arch) {
        path = mm_xasprintf(DPKG_INFO "%s:%s.list", p->name, p->arch);
        if (!mm_osdb_blob_visible(s->lists, s->tree, path)) {
            free(path);
            path = NULL;
        }
    }
    if (!path)
        path = mm_xasprintf(DPKG_INFO "%s.list", p->name);
    add_list(s, path, files, nfiles);
    free(path);
}

static int dpkg_finish(void *state, mm_actx *cx)
{
    dpkg_state *s = state;
    s->tree = mm_actx_tree(cx);
    return mm_osdb_emit(s->dbs, cx, dpkg_files, s);
}

static void dpkg_destroy(void *state)
{
    dpkg_state *s = state;
    if (!s)
        return;
    mm_map_free(s->dbs, mm_osdb_db_free);
    mm_map_free(s->lists, mm_osdb_blob_free);
    mm_map_free(s->lic, mm_osdb_blob_free);
    free(s);
}

const mm_analyzer_ops mm_analyzer_dpkg = {
    .name = "dpkg",
    .create = dpkg_create,
    .wants = dpkg_wants,
    .file = dpkg_file,
    .finish = dpkg_finish,
    .destroy = dpkg_destroy,
};
