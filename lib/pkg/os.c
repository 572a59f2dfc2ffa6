/*
 * os.c - which operating system an image holds, from os-release(5) and the
 * older release files, plus the helpers shared by the OS package-database
 * analyzers (dpkg.c, apk.c): record lists, per-layer tracking of a
 * database file and adding what the container sees to the inventory.
 *
 * The OS analyzer's finish() runs before every other one: the purls of OS
 * packages and the vulnerability matching depend on family and version.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pkg/osdb.h"

/* Release files are a few lines; anything larger is not one. */
#define OS_FILE_MAX   (64u * 1024)
/* Longest field value kept (names, versions). */
#define OS_VALUE_MAX  256u

const char *const mm_os_release_files[] = {
    "etc/os-release", "usr/lib/os-release", "etc/alpine-release",
    "etc/lsb-release", "etc/centos-release", "etc/fedora-release",
    "etc/redhat-release", "etc/system-release", "etc/SuSE-release",
    "etc/debian_version", NULL,
};

/* ------------------------------------------------------------------------ */
/* shared helpers                                                           */

bool mm_osdb_has_ctrl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

void mm_osdb_list_free(mm_osdb_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        mm_package_clear(&l->v[i].pkg);
    }
    free(l->v);
    mm_strv_free(l->warnings, l->nwarnings);
    memset(l, 0, sizeof *l);
}

mm_osdb_pkg *mm_osdb_list_push(mm_osdb_list *l, mm_pkg_type t,
                               const char *path)
{
    if (l->n >= MM_OSDB_MAX_PKGS) {
        mm_error_set(MM_ELIMIT, "%s: more than %u packages", path,
                     MM_OSDB_MAX_PKGS);
        return NULL;
    }
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v = mm_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    mm_osdb_pkg *r = &l->v[l->n++];
    memset(r, 0, sizeof *r);
    r->pkg.type = t;
    r->pkg.epoch = -1;
    r->pkg.layer = -1;
    return r;
}

void mm_osdb_list_warn(mm_osdb_list *l, const char *fmt, ...)
{
    /* A hostile database could ask for millions of warnings. */
    va_list ap;
    va_start(ap, fmt);
    mm_strv_vpushf(&l->warnings, &l->nwarnings, 1000, fmt, ap);
    va_end(ap);
}

void mm_osdb_blob_free(void *p)
{
    mm_osdb_blob *b = p;
    if (!b)
        return;
    free(b->data);
    free(b);
}

void mm_osdb_blob_put(mm_map *m, const char *path, int layer,
                      const uint8_t *data, size_t len)
{
    mm_osdb_blob *b = mm_xcalloc(1, sizeof *b);
    b->layer = layer;
    b->len = len;
    b->data = mm_xmalloc(len + 1);
    if (len)
        memcpy(b->data, data, len);
    b->data[len] = 0;
    mm_osdb_blob_free(mm_map_put(m, path, b));
}

/* The tree shows the version we read when the visible node is a regular
 * file written by the same layer. */
static bool visible_version(const mm_tree *t, const char *path, int layer)
{
    if (!t)
        return false;
    const mm_node *n = mm_tree_get(t, path);
    return n && S_ISREG(n->mode) && n->layer == layer;
}

const mm_osdb_blob *mm_osdb_blob_visible(const mm_map *m, const mm_tree *t,
                                         const char *path)
{
    const mm_osdb_blob *b = mm_map_get(m, path);
    return b && visible_version(t, path, b->layer) ? b : NULL;
}

mm_osdb_db *mm_osdb_db_get(mm_map *m, const char *path)
{
    mm_osdb_db *db = mm_map_get(m, path);
    if (!db) {
        db = mm_xcalloc(1, sizeof *db);
        db->path = mm_xstrdup(path);
        db->layer = -1;
        db->since = mm_map_new();
        mm_map_put(m, path, db);
    }
    return db;
}

void mm_osdb_db_free(void *p)
{
    mm_osdb_db *db = p;
    if (!db)
        return;
    free(db->path);
    mm_osdb_list_free(&db->list);
    mm_map_free(db->since, NULL);
    free(db->errmsg);
    free(db);
}

/* Key of a record for layer attribution: same name, arch and version. */
static char *rec_key(const mm_package *p)
{
    return mm_xasprintf("%s\037%s\037%s", p->name ? p->name : "",
                        p->arch ? p->arch : "", p->version ? p->version : "");
}

void mm_osdb_db_update(mm_osdb_db *db, int layer, int rc,
                       mm_osdb_list *parsed)
{
    mm_map *since = mm_map_new();
    free(db->errmsg);
    db->errmsg = NULL;
    db->err = rc;
    if (rc != 0) {
        /* A corrupt version breaks continuity: records that reappear
         * later count from their reappearance. */
        db->errmsg = mm_xstrdup(mm_error_last());
        mm_osdb_list_free(parsed);
    } else {
        for (size_t i = 0; i < parsed->n; i++) {
            char *k = rec_key(&parsed->v[i].pkg);
            void *old = mm_map_get(db->since, k);
            if (!mm_map_get(since, k))
                mm_map_put(since, k, old ? old : (void *)(intptr_t)(layer + 1));
            free(k);
        }
    }
    mm_map_free(db->since, NULL);
    db->since = since;
    mm_osdb_list_free(&db->list);
    db->list = *parsed;
    memset(parsed, 0, sizeof *parsed);
    db->layer = layer;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int mm_osdb_unreadable(mm_actx *cx, const char *path, int layer, const char *why)
{
    mm_actx_warn(cx, "%s (its packages are not listed; reported as a HIGH finding)", why);
    char *abs = mm_xasprintf("/%s", path);
    mm_finding f = {0};
    f.id = (char *)"MM-PKGDB-UNREADABLE";
    f.kind = MM_FIND_INTAKE;
    f.severity = MM_SEV_HIGH;
    f.title = (char *)"Package database unreadable: its packages are not checked "
                      "for vulnerabilities";
    f.loc.layer = layer;
    f.loc.layer_digest = (char *)mm_actx_layer_digest(cx, layer);
    f.loc.instruction = (char *)mm_actx_layer_instruction(cx, layer);
    f.loc.path = abs;
    f.evidence = (char *)why;
    f.remediation = (char *)"Rebuild the image so that the package manager's database "
                            "is intact; until then the packages it lists are unknown "
                            "to the scan.";
    f.section = (char *)"3.1.1";
    int rc = mm_findings_add(mm_actx_findings(cx), &f);
    free(abs);
    return rc;
}

static int emit_db(mm_osdb_db *db, mm_actx *cx, mm_osdb_files_fn files,
                   void *ud)
{
    if (db->err)
        return mm_osdb_unreadable(cx, db->path, db->layer, db->errmsg);
    for (size_t i = 0; i < db->list.nwarnings; i++)
        mm_actx_warn(cx, "%s", db->list.warnings[i]);
    char *path = mm_xasprintf("/%s", db->path);
    mm_inventory *inv = mm_actx_inventory(cx);
    int rc = 0;
    for (size_t i = 0; i < db->list.n && rc == 0; i++) {
        const mm_osdb_pkg *rec = &db->list.v[i];
        mm_package p = rec->pkg;
        char *k = rec_key(&p);
        intptr_t since = (intptr_t)mm_map_get(db->since, k);
        free(k);
        p.layer = since > 0 ? (int)(since - 1) : db->layer;
        p.layer_digest = (char *)mm_actx_layer_digest(cx, p.layer);
        p.path = path;
        char **fv = NULL, *lic = NULL;
        size_t nf = 0;
        if (files)
            files(ud, db, rec, &fv, &nf, &lic);
        if (fv && !p.files) {
            p.files = fv;
            p.nfiles = nf;
        }
        if (lic && !p.license)
            p.license = lic;
        rc = mm_inventory_add(inv, &p, NULL);
        mm_strv_free(fv, nf);
        free(lic);
    }
    free(path);
    return rc;
}

int mm_osdb_emit(mm_map *dbs, mm_actx *cx, mm_osdb_files_fn files, void *ud)
{
    const mm_tree *t = mm_actx_tree(cx);
    size_t n = mm_map_count(dbs), it = 0, k = 0;
    const char **paths = mm_xcalloc(n ? n : 1, sizeof *paths);
    const char *key;
    void *val;
    while (mm_map_next(dbs, &it, &key, &val) && k < n)
        paths[k++] = key;
    qsort(paths, k, sizeof *paths, cmp_str);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        mm_osdb_db *db = mm_map_get(dbs, paths[i]);
        /* A database a later layer deleted or replaced no longer counts. */
        if (!db || !visible_version(t, db->path, db->layer))
            continue;
        rc = emit_db(db, cx, files, ud);
    }
    free(paths);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* os-release and release files                                             */

void mm_os_info_clear(mm_os_info *os)
{
    if (!os)
        return;
    free(os->family);
    free(os->version);
    free(os->codename);
    free(os->name);
    memset(os, 0, sizeof *os);
}

/* Undoes shell quoting as os-release(5) allows it: "double" quotes (where
 * a backslash escapes $ ` " \ only), 'single' quotes (literal) and
 * backslash escapes outside quotes.  Unquoted white space ends the value
 * (a trailing comment, say). */
static char *unquote(const char *s, size_t n)
{
    mm_buf b = MM_BUF_INIT;
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    char q = 0;
    for (; i < n; i++) {
        char c = s[i];
        if (q == '\'') {
            if (c == '\'')
                q = 0;
            else
                mm_buf_addc(&b, c);
        } else if (q == '"') {
            if (c == '"')
                q = 0;
            else if (c == '\\' && i + 1 < n && s[i + 1] &&
                     strchr("$`\"\\", s[i + 1])) {
                mm_buf_addc(&b, s[++i]);
            } else
                mm_buf_addc(&b, c);
        } else {
            if (c == '"' || c == '\'')
                q = c;
            else if (c == '\\' && i + 1 < n)
                mm_buf_addc(&b, s[++i]);
            else if (c == ' ' || c == '\t')
                break;
            else
                mm_buf_addc(&b, c);
        }
    }
    return mm_buf_detach(&b);
}

char *mm_os_release_value(const char *data, size_t len, const char *key)
{
    if (!data)
        return NULL;
    size_t klen = strlen(key);
    char *val = NULL;
    mm_lines it;
    const char *line;
    size_t n;
    mm_lines_init(&it, data, len);
    while (mm_lines_next(&it, &line, &n)) {
        while (n && (*line == ' ' || *line == '\t')) {
            line++;
            n--;
        }
        if (n == 0 || *line == '#')
            continue;
        if (n > klen && memcmp(line, key, klen) == 0 && line[klen] == '=') {
            /* The last assignment wins, as when a shell sources it. */
            free(val);
            val = unquote(line + klen + 1, n - klen - 1);
        }
    }
    return val;
}

/* Keeps a value only when it is printable and short; trims it. */
static char *clean(char *v)
{
    if (!v)
        return NULL;
    mm_str_trim(v);
    size_t n = strlen(v);
    if (n == 0 || n > OS_VALUE_MAX || mm_osdb_has_ctrl(v, n)) {
        free(v);
        return NULL;
    }
    return v;
}

/* An os-release ID: lower case, [a-z0-9._-] only (os-release(5)). */
static char *clean_id(char *v)
{
    v = clean(v);
    if (!v)
        return NULL;
    for (char *p = v; *p; p++) {
        *p = (char)tolower((unsigned char)*p);
        if (!isalnum((unsigned char)*p) && !strchr("._-", *p)) {
            free(v);
            return NULL;
        }
    }
    return v;
}

/* The first line of a file, trimmed; NULL when empty or unprintable. */
static char *first_line(const char *data, size_t len)
{
    const char *nl = memchr(data, '\n', len);
    return clean(mm_xstrndup(data, nl ? (size_t)(nl - data) : len));
}

/* "Name release 7.9.2009 (Core)" -> family from the name, version. */
static const struct {
    const char *prefix, *id;
} rel_names[] = {
    {"Red Hat Enterprise Linux", "rhel"}, {"CentOS", "centos"},
    {"Fedora", "fedora"}, {"Rocky Linux", "rocky"},
    {"AlmaLinux", "almalinux"}, {"Amazon Linux", "amzn"},
    {"Oracle Linux", "ol"}, {"Enterprise Linux", "ol"},
    {"Scientific Linux", "scientific"}, {"CBL-Mariner", "mariner"},
    {"openEuler", "openeuler"}, {"Photon", "photon"},
};

static bool parse_redhat_like(mm_os_info *o, const char *data, size_t len)
{
    char *line = first_line(data, len);
    if (!line)
        return false;
    const char *rel = strstr(line, " release ");
    if (!rel) {
        free(line);
        return false;
    }
    for (size_t i = 0; i < sizeof rel_names / sizeof *rel_names; i++) {
        if (mm_str_startswith(line, rel_names[i].prefix)) {
            o->family = mm_xstrdup(rel_names[i].id);
            break;
        }
    }
    if (!o->family) {
        /* Unknown distribution: its first word, as an ID would be. */
        o->family = clean_id(mm_xstrndup(line, strcspn(line, " ")));
    }
    const char *v = rel + strlen(" release ");
    o->version = clean(mm_xstrndup(v, strcspn(v, " (")));
    o->name = line;
    return o->family != NULL;
}

/* SuSE-release: a name line, then "VERSION = 12" and "PATCHLEVEL = 3". */
static char *suse_field(const char *data, size_t len, const char *key)
{
    mm_lines it;
    const char *line;
    size_t n, klen = strlen(key);
    mm_lines_init(&it, data, len);
    while (mm_lines_next(&it, &line, &n)) {
        if (n > klen && memcmp(line, key, klen) == 0 &&
            (line[klen] == ' ' || line[klen] == '=')) {
            const char *eq = memchr(line, '=', n);
            if (eq)
                return clean(mm_xstrndup(eq + 1, n - (size_t)(eq + 1 - line)));
        }
    }
    return NULL;
}

static bool parse_suse(mm_os_info *o, const char *data, size_t len)
{
    char *line = first_line(data, len);
    if (!line)
        return false;
    if (strstr(line, "openSUSE"))
        o->family = mm_xstrdup("opensuse");
    else if (strstr(line, "SUSE Linux Enterprise Desktop"))
        o->family = mm_xstrdup("sled");
    else if (strstr(line, "SUSE Linux Enterprise"))
        o->family = mm_xstrdup("sles");
    else {
        free(line);
        return false;
    }
    /* Drop the "(x86_64)" architecture suffix from the name. */
    char *paren = strstr(line, " (");
    if (paren)
        *paren = 0;
    o->name = line;
    char *ver = suse_field(data, len, "VERSION");
    char *pl = suse_field(data, len, "PATCHLEVEL");
    if (ver && pl && strcmp(pl, "0") != 0) {
        o->version = clean(mm_xasprintf("%s.%s", ver, pl));
        free(ver);
    } else
        o->version = ver;
    free(pl);
    o->codename = suse_field(data, len, "CODENAME");
    return true;
}

typedef struct os_src {
    mm_os_get_fn get;
    void *ud;
} os_src;

static bool src_get(const os_src *s, const char *path, const char **d,
                    size_t *n)
{
    if (!s->get(s->ud, path, d, n))
        return false;
    if (*n > OS_FILE_MAX)
        *n = OS_FILE_MAX;
    return true;
}

/* The OS as the legacy release files describe it; false when none does. */
static bool from_release_files(mm_os_info *o, const os_src *s)
{
    const char *d;
    size_t n;
    if (src_get(s, "etc/alpine-release", &d, &n)) {
        char *v = first_line(d, n);
        if (v) {
            o->family = mm_xstrdup("alpine");
            o->name = mm_xasprintf("Alpine Linux %s", v);
            o->version = v;
            return true;
        }
    }
    if (src_get(s, "etc/lsb-release", &d, &n)) {
        char *id = clean_id(mm_os_release_value(d, n, "DISTRIB_ID"));
        if (id) {
            o->family = id;
            o->version = clean(mm_os_release_value(d, n, "DISTRIB_RELEASE"));
            o->codename = clean(mm_os_release_value(d, n, "DISTRIB_CODENAME"));
            o->name = clean(mm_os_release_value(d, n, "DISTRIB_DESCRIPTION"));
            return true;
        }
    }
    static const char *const rh[] = {
        "etc/centos-release", "etc/fedora-release", "etc/redhat-release",
        "etc/system-release",
    };
    for (size_t i = 0; i < sizeof rh / sizeof *rh; i++) {
        if (src_get(s, rh[i], &d, &n)) {
            if (parse_redhat_like(o, d, n))
                return true;
            mm_os_info_clear(o);
        }
    }
    if (src_get(s, "etc/SuSE-release", &d, &n)) {
        if (parse_suse(o, d, n))
            return true;
        mm_os_info_clear(o);
    }
    if (src_get(s, "etc/debian_version", &d, &n)) {
        char *v = first_line(d, n);
        if (v) {
            o->family = mm_xstrdup("debian");
            o->name = mm_xasprintf("Debian GNU/Linux %s", v);
            o->version = v;
            return true;
        }
    }
    return false;
}

int mm_os_detect(mm_os_info *out, mm_os_get_fn get, void *ud)
{
    os_src s = {get, ud};
    const char *d = NULL;
    size_t n = 0;
    memset(out, 0, sizeof *out);
    if (src_get(&s, "etc/os-release", &d, &n) ||
        src_get(&s, "usr/lib/os-release", &d, &n)) {
        out->family = clean_id(mm_os_release_value(d, n, "ID"));
        out->version = clean(mm_os_release_value(d, n, "VERSION_ID"));
        out->codename = clean(mm_os_release_value(d, n, "VERSION_CODENAME"));
        out->name = clean(mm_os_release_value(d, n, "PRETTY_NAME"));
        if (!out->name)
            out->name = clean(mm_os_release_value(d, n, "NAME"));
    }
    if (out->family && out->version)
        return 0;
    mm_os_info fb = {0};
    if (from_release_files(&fb, &s)) {
        if (!out->family) {
            /* No usable os-release: the release file says it all, the
             * os-release name is kept if there was one. */
            char *name = out->name;
            out->name = NULL;
            mm_os_info_clear(out);
            *out = fb;
            if (name) {
                free(out->name);
                out->name = name;
            }
            return 0;
        }
        /* os-release without VERSION_ID (Debian testing/sid): the release
         * file of the same distribution gives it. */
        if (fb.family && strcmp(fb.family, out->family) == 0) {
            out->version = fb.version;
            fb.version = NULL;
            if (!out->codename) {
                out->codename = fb.codename;
                fb.codename = NULL;
            }
        }
    }
    mm_os_info_clear(&fb);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* the analyzer                                                             */

typedef struct os_state {
    mm_map *files; /* path -> mm_osdb_blob: latest version read */
    const mm_tree *tree;
} os_state;

static bool is_release_base(const char *base)
{
    for (size_t i = 0; mm_os_release_files[i]; i++)
        if (strcmp(mm_path_base(mm_os_release_files[i]), base) == 0)
            return true;
    return false;
}

static int os_create(void **state, mm_actx *cx, const void *config)
{
    os_state *s = mm_xcalloc(1, sizeof *s);
    s->files = mm_map_new();
    *state = s;
    return 0;
}

static mm_want os_wants(void *state, const mm_entry *e)
{
    if (e->type != MM_ENT_REG || e->size > OS_FILE_MAX)
        return MM_WANT_NONE;
    /* The known paths, and files of the same names elsewhere below etc/
     * and usr/: the target of an etc/os-release symlink, say. */
    for (size_t i = 0; mm_os_release_files[i]; i++)
        if (strcmp(e->path, mm_os_release_files[i]) == 0)
            return MM_WANT_WHOLE;
    if ((mm_str_startswith(e->path, "etc/") ||
         mm_str_startswith(e->path, "usr/")) &&
        is_release_base(mm_path_base(e->path)))
        return MM_WANT_WHOLE;
    return MM_WANT_NONE;
}

static int os_file(void *state, mm_actx *cx, const mm_entry *e,
                   const uint8_t *data, size_t len)
{
    os_state *s = state;
    mm_osdb_blob_put(s->files, e->path, e->layer, data, len);
    return 0;
}

/* The content the container sees at path: links followed in the merged
 * tree, and only if the version we read is still the visible one. */
static bool os_get(void *ud, const char *path, const char **d, size_t *n)
{
    os_state *s = ud;
    if (!s->tree)
        return false;
    const mm_node *node = mm_tree_resolve(s->tree, path);
    if (!node || !node->path)
        return false;
    const mm_osdb_blob *b = mm_osdb_blob_visible(s->files, s->tree,
                                                 node->path);
    if (!b)
        return false;
    *d = b->data;
    *n = b->len;
    return true;
}

static int os_finish(void *state, mm_actx *cx)
{
    os_state *s = state;
    s->tree = mm_actx_tree(cx);
    mm_os_info found;
    mm_os_detect(&found, os_get, s);
    mm_os_info *os = mm_actx_os(cx);
    if (!os) {
        mm_os_info_clear(&found);
        return 0;
    }
#define MOVE(f) do { if (!os->f) { os->f = found.f; found.f = NULL; } } while (0)
    MOVE(family);
    MOVE(version);
    MOVE(codename);
    MOVE(name);
#undef MOVE
    mm_os_info_clear(&found);
    return 0;
}

static void os_destroy(void *state)
{
    os_state *s = state;
    if (!s)
        return;
    mm_map_free(s->files, mm_osdb_blob_free);
    free(s);
}

const mm_analyzer_ops mm_analyzer_os = {
    .name = "os",
    .create = os_create,
    .wants = os_wants,
    .file = os_file,
    .finish = os_finish,
    .destroy = os_destroy,
};
