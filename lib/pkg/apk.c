/*
 * apk.c - packages installed by apk (Alpine, Wolfi): lib/apk/db/installed.
 *
 * The database is a sequence of records separated by empty lines; each line
 * is one letter, a colon and a value ("P:musl").  We keep P (name),
 * V (version), A (architecture), o (origin, the source package),
 * L (licence) and the owned files: "F:usr/bin" names a directory, each
 * following "R:file" a file in it.  A record without V cannot be matched
 * against anything and is skipped with a warning; a line that is not
 * "X:value" makes the database corrupt, as it does for apk itself.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/osdb.h"

#define APK_FIELD_MAX 1024u

typedef struct apk_rec {
    size_t line;          /* line of its first field, 0 when none yet */
    const char *f[128];   /* value of each field letter we keep */
    size_t fn[128];
    char *dir;            /* current F: directory */
    char **files;
    size_t nfiles;
} apk_rec;

static void rec_reset(apk_rec *r)
{
    free(r->dir);
    mm_strv_free(r->files, r->nfiles);
    memset(r, 0, sizeof *r);
}

static bool valid_word(const char *p, size_t n)
{
    if (n == 0 || n > APK_FIELD_MAX || mm_osdb_has_ctrl(p, n))
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] == ' ')
            return false;
    return true;
}

static int rec_end(mm_osdb_list *out, apk_rec *r, const char *path)
{
    if (r->line == 0)
        return 0;
    if (!r->f['P'])
        return mm_error_set(MM_EFORMAT, "%s: line %zu: record without P: "
                            "(package name)", path, r->line);
    if (!valid_word(r->f['P'], r->fn['P']))
        return mm_error_set(MM_EFORMAT, "%s: line %zu: invalid package name",
                            path, r->line);
    if (!r->f['V'] || r->fn['V'] == 0) {
        mm_osdb_list_warn(out, "%s: line %zu: package %.*s has no version; "
                          "skipped", path, r->line, (int)r->fn['P'],
                          r->f['P']);
        return 0;
    }
    static const char keep[] = "VAo";
    for (const char *k = keep; *k; k++) {
        int c = (unsigned char)*k;
        if (r->f[c] && !valid_word(r->f[c], r->fn[c]))
            return mm_error_set(MM_EFORMAT, "%s: line %zu: invalid %c: field "
                                "of %.*s", path, r->line, c, (int)r->fn['P'],
                                r->f['P']);
    }
    mm_osdb_pkg *rec = mm_osdb_list_push(out, MM_PKG_APK, path);
    if (!rec)
        return MM_ELIMIT;
    rec->line = r->line;
    mm_package *p = &rec->pkg;
    p->name = mm_xstrndup(r->f['P'], r->fn['P']);
    p->version = mm_xstrndup(r->f['V'], r->fn['V']);
    if (r->f['A'])
        p->arch = mm_xstrndup(r->f['A'], r->fn['A']);
    if (r->f['o'] &&
        !(r->fn['o'] == r->fn['P'] &&
          memcmp(r->f['o'], r->f['P'], r->fn['P']) == 0))
        p->src_name = mm_xstrndup(r->f['o'], r->fn['o']);
    if (r->f['L'] && r->fn['L'] && r->fn['L'] <= APK_FIELD_MAX)
        p->license = mm_xstrndup(r->f['L'], r->fn['L']);
    p->files = r->files;
    p->nfiles = r->nfiles;
    r->files = NULL;
    r->nfiles = 0;
    return 0;
}

/* "F:dir" then "R:name" -> "/dir/name"; an R: before any F: is in /. */
static int add_file(apk_rec *r, const char *v, size_t n, const char *path,
                    size_t lineno)
{
    if (n == 0 || memchr(v, '/', n))
        return mm_error_set(MM_EFORMAT, "%s: line %zu: invalid R: file name",
                            path, lineno);
    if (r->nfiles >= MM_OSDB_MAX_FILES)
        return mm_error_set(MM_ELIMIT, "%s: line %zu: more than %u files",
                            path, lineno, MM_OSDB_MAX_FILES);
    char *raw = r->dir ? mm_xasprintf("%s/%.*s", r->dir, (int)n, v)
                       : mm_xstrndup(v, n);
    bool esc = false;
    char *norm = mm_path_normalize(raw, &esc);
    free(raw);
    if (norm && !esc) {
        char *abs = mm_xasprintf("/%s", norm);
        mm_strv_push(&r->files, &r->nfiles, abs);
        free(abs);
    }
    free(norm);
    return 0;
}

int mm_apk_parse_installed(mm_osdb_list *out, const char *data, size_t len,
                           const char *path)
{
    apk_rec r;
    memset(&r, 0, sizeof r);
    mm_lines it;
    const char *line;
    size_t n;
    int rc = 0;
    mm_lines_init(&it, data, len);
    while (rc == 0 && mm_lines_next(&it, &line, &n)) {
        if (n == 0) {
            rc = rec_end(out, &r, path);
            rec_reset(&r);
            continue;
        }
        if (n < 2 || line[1] != ':' || !isalpha((unsigned char)line[0])) {
            rc = mm_error_set(MM_EFORMAT,
                              "%s: line %zu: expected \"X:value\"", path,
                              it.lineno);
            break;
        }
        if (memchr(line, 0, n)) {
            rc = mm_error_set(MM_EFORMAT, "%s: line %zu: NUL byte", path,
                              it.lineno);
            break;
        }
        if (r.line == 0)
            r.line = it.lineno;
        int c = (unsigned char)line[0];
        const char *v = line + 2;
        size_t vn = n - 2;
        switch (c) {
        case 'P': case 'V': case 'A': case 'o': case 'L':
            if (r.f[c]) {
                rc = mm_error_set(MM_EFORMAT, "%s: line %zu: second %c: "
                                  "field in one record", path, it.lineno, c);
                break;
            }
            if (mm_osdb_has_ctrl(v, vn)) {
                rc = mm_error_set(MM_EFORMAT, "%s: line %zu: control "
                                  "character in %c: field", path, it.lineno,
                                  c);
                break;
            }
            r.f[c] = v;
            r.fn[c] = vn;
            break;
        case 'F':
            if (vn > 4096 || mm_osdb_has_ctrl(v, vn)) {
                rc = mm_error_set(MM_EFORMAT, "%s: line %zu: invalid F: "
                                  "directory", path, it.lineno);
                break;
            }
            free(r.dir);
            r.dir = vn ? mm_xstrndup(v, vn) : NULL;
            break;
        case 'R':
            if (mm_osdb_has_ctrl(v, vn)) {
                rc = mm_error_set(MM_EFORMAT, "%s: line %zu: invalid R: "
                                  "file name", path, it.lineno);
                break;
            }
            rc = add_file(&r, v, vn, path, it.lineno);
            break;
        default:
            break;
        }
    }
    if (rc == 0)
        rc = rec_end(out, &r, path);
    rec_reset(&r);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* the analyzer                                                             */

#define APK_INSTALLED "lib/apk/db/installed"

typedef struct apk_state {
    mm_map *dbs; /* path -> mm_osdb_db */
} apk_state;

static int apk_create(void **state, mm_actx *cx, const void *config)
{
    apk_state *s = mm_xcalloc(1, sizeof *s);
    s->dbs = mm_map_new();
    *state = s;
    return 0;
}

static mm_want apk_wants(void *state, const mm_entry *e)
{
    return e->type == MM_ENT_REG && strcmp(e->path, APK_INSTALLED) == 0
               ? MM_WANT_WHOLE : MM_WANT_NONE;
}

static int apk_file(void *state, mm_actx *cx, const mm_entry *e,
                    const uint8_t *data, size_t len)
{
    apk_state *s = state;
    char *abs = mm_xasprintf("/%s", e->path);
    mm_osdb_list l = {0};
    int rc = mm_apk_parse_installed(&l, (const char *)data, len, abs);
    free(abs);
    mm_osdb_db_update(mm_osdb_db_get(s->dbs, e->path), e->layer, rc, &l);
    return 0;
}

static int apk_finish(void *state, mm_actx *cx)
{
    apk_state *s = state;
    return mm_osdb_emit(s->dbs, cx, NULL, NULL);
}

static void apk_destroy(void *state)
{
    apk_state *s = state;
    if (!s)
        return;
    mm_map_free(s->dbs, mm_osdb_db_free);
    free(s);
}

const mm_analyzer_ops mm_analyzer_apk = {
    .name = "apk",
    .create = apk_create,
    .wants = apk_wants,
    .file = apk_file,
    .finish = apk_finish,
    .destroy = apk_destroy,
};
