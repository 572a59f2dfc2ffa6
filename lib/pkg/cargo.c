/*
 * cargo.c - Rust crates: Cargo.lock files found in an image (a project
 * copied in with its lockfile, e.g. /app/Cargo.lock) and binaries built
 * with cargo-auditable, which embed their dependency list in an ELF
 * section named ".dep-v0": zlib-compressed JSON
 *     {"packages": [{"name": "serde", "version": "1.0.188",
 *                    "source": "crates.io", "kind": "runtime",
 *                    "dependencies": [3], "root": false}, ...]}
 *
 * Cargo.lock is TOML.  Debian ships no C TOML library (only C++ ones), so
 * this file reads the subset lockfiles are written in: comments, [table]
 * and [[array-of-tables]] headers, key = value with basic and literal
 * strings (also multi-line), integers and other bare scalars, arrays
 * (nested, across lines) and inline tables, which are skipped.  Anything
 * else is a syntax error naming the line.
 *
 * Binaries come as a stream.  The section header table is normally at the
 * very end of an ELF file, after the sections it describes, so a single
 * pass cannot know where ".dep-v0" is until it is past it: the reader
 * takes the table's offset from the ELF header and keeps only the last
 * MM_CARGOBIN_TAIL bytes before the table (non-allocated sections such as
 * .dep-v0, .comment and .shstrtab sit there), then finds the section by
 * name.  A binary whose .dep-v0 lies further back is reported with a
 * warning rather than buffered whole.
 *
 * Decisions: from a lockfile, registry crates ("registry+", "sparse+") are
 * dependencies (indirect) and crates without a source are the workspace's
 * own (direct); git sources are left out (no registry version to match
 * advisories against).  From a binary, build-time dependencies (kind
 * "build": build scripts, proc-macros) are left out: they are not in the
 * binary.  Lockfiles inside Cargo's own download cache (~/.cargo/registry,
 * ~/.cargo/git) belong to crate sources, not to anything installed, and
 * are ignored.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

#include "pkg/analyzers.h"
#include "pkg/lang2.h"
#include "util/util.h"

/* --- a TOML subset ------------------------------------------------------ */

typedef struct toml {
    const char *p, *end;
    size_t line;
    const char *where;
} toml;

static int toml_err(toml *t, const char *what)
{
    return mm_error_set(MM_EFORMAT, "%s: line %zu: %s", t->where, t->line,
                        what);
}

/* Skips spaces, tabs and (when nl) newlines and comments. */
static void toml_skip(toml *t, bool nl)
{
    while (t->p < t->end) {
        char c = *t->p;
        if (c == ' ' || c == '\t' || c == '\r') {
            t->p++;
        } else if (c == '#') {
            while (t->p < t->end && *t->p != '\n')
                t->p++;
        } else if (nl && c == '\n') {
            t->line++;
            t->p++;
        } else {
            break;
        }
    }
}

static void add_capped(mm_buf *b, char c)
{
    if (b && b->len < MM_LANG2_MAX_FIELD)
        mm_buf_addc(b, c);
}

/* A string at t->p (basic "..", literal '..', or their multi-line forms)
 * into out (may be NULL).  Returns 0 or MM_EFORMAT. */
static int toml_string(toml *t, mm_buf *out)
{
    char q = *t->p;
    bool multi = t->end - t->p >= 3 && t->p[1] == q && t->p[2] == q;
    t->p += multi ? 3 : 1;
    if (multi && t->p < t->end && *t->p == '\n') { /* first newline trimmed */
        t->line++;
        t->p++;
    }
    while (t->p < t->end) {
        char c = *t->p++;
        if (c == q) {
            if (!multi)
                return 0;
            if (t->end - t->p >= 2 && t->p[0] == q && t->p[1] == q) {
                t->p += 2;
                /* up to two more quotes belong to the content */
                while (t->p < t->end && *t->p == q) {
                    add_capped(out, q);
                    t->p++;
                }
                return 0;
            }
            add_capped(out, c);
            continue;
        }
        if (c == '\n') {
            if (!multi)
                return toml_err(t, "newline in a string");
            t->line++;
        }
        if (c == '\\' && q == '"') {
            if (t->p >= t->end)
                break;
            char e = *t->p++;
            switch (e) {
            case 'n': add_capped(out, '\n'); break;
            case 't': add_capped(out, '\t'); break;
            case 'r': add_capped(out, '\r'); break;
            case 'b': add_capped(out, '\b'); break;
            case 'f': add_capped(out, '\f'); break;
            case '"': case '\\': add_capped(out, e); break;
            case 'u': case 'U': {
                /* not needed by lockfiles: keep a placeholder */
                size_t k = e == 'u' ? 4 : 8;
                if ((size_t)(t->end - t->p) < k)
                    return toml_err(t, "bad \\u escape");
                t->p += k;
                add_capped(out, '?');
                break;
            }
            case '\n': /* line-ending backslash in a multi-line string */
                if (!multi)
                    return toml_err(t, "bad escape");
                t->line++;
                while (t->p < t->end && isspace((unsigned char)*t->p)) {
                    if (*t->p == '\n')
                        t->line++;
                    t->p++;
                }
                break;
            default:
                return toml_err(t, "bad escape");
            }
            continue;
        }
        add_capped(out, c);
    }
    return toml_err(t, "unterminated string");
}

/* A value; a top-level string goes to out (when not NULL), *is_str says
 * whether it was one.  Other values are checked and skipped. */
static int toml_value(toml *t, mm_buf *out, bool *is_str, int depth)
{
    if (depth > MM_LANG2_MAX_DEPTH)
        return toml_err(t, "values nested too deep");
    if (is_str)
        *is_str = false;
    if (t->p >= t->end)
        return toml_err(t, "missing value");
    char c = *t->p;
    if (c == '"' || c == '\'') {
        if (is_str)
            *is_str = true;
        return toml_string(t, out);
    }
    if (c == '[' || c == '{') {
        char close = c == '[' ? ']' : '}';
        t->p++;
        for (;;) {
            toml_skip(t, c == '['); /* inline tables stay on one line */
            if (t->p >= t->end)
                return toml_err(t, "unterminated array or inline table");
            if (*t->p == close) {
                t->p++;
                return 0;
            }
            if (c == '{') {
                /* key = value */
                if (*t->p == '"' || *t->p == '\'') {
                    int rc = toml_string(t, NULL);
                    if (rc < 0)
                        return rc;
                } else {
                    while (t->p < t->end && *t->p != '=' && *t->p != '\n' &&
                           *t->p != close)
                        t->p++;
                }
                toml_skip(t, false);
                if (t->p >= t->end || *t->p != '=')
                    return toml_err(t, "expected '=' in an inline table");
                t->p++;
                toml_skip(t, false);
            }
            int rc = toml_value(t, NULL, NULL, depth + 1);
            if (rc < 0)
                return rc;
            toml_skip(t, c == '[');
            if (t->p < t->end && *t->p == ',')
                t->p++;
            else if (t->p < t->end && *t->p != close)
                return toml_err(t, "expected ',' or the closing bracket");
        }
    }
    /* a bare scalar: integer, float, boolean, date */
    const char *s = t->p;
    while (t->p < t->end && *t->p != '\n' && *t->p != ',' && *t->p != ']' &&
           *t->p != '}' && *t->p != '#' && *t->p != ' ' && *t->p != '\t' &&
           *t->p != '\r')
        t->p++;
    if (t->p == s)
        return toml_err(t, "missing value");
    return 0;
}

typedef struct lock_pkg {
    mm_buf name, version, source;
    bool has_name, has_version, has_source;
} lock_pkg;

static void lock_pkg_reset(lock_pkg *k)
{
    mm_buf_free(&k->name);
    mm_buf_free(&k->version);
    mm_buf_free(&k->source);
    k->has_name = k->has_version = k->has_source = false;
}

static int lock_flush(mm_lang_result *out, lock_pkg *k)
{
    int rc = 0;
    /* a NUL inside a string would cut the copy short: not a crate name */
    if (k->has_name && k->has_version && k->name.len && k->version.len &&
        strlen(k->name.data) == k->name.len &&
        strlen(k->version.data) == k->version.len) {
        const char *src = k->has_source ? k->source.data : NULL;
        bool registry = src && (mm_str_startswith(src, "registry+") ||
                                mm_str_startswith(src, "sparse+"));
        if (!src || registry) {
            mm_package p;
            memset(&p, 0, sizeof p);
            p.type = MM_PKG_CARGO;
            p.name = mm_xstrdup(k->name.data);
            p.version = mm_xstrdup(k->version.data);
            p.epoch = -1;
            p.layer = -1;
            p.indirect = registry;
            rc = mm_lang_result_push(out, &p);
        }
    }
    lock_pkg_reset(k);
    return rc;
}

int mm_cargo_parse_lock(mm_lang_result *out, const char *data, size_t len,
                        const char *where)
{
    toml t = {data, data + len, 1, where};
    lock_pkg k;
    memset(&k, 0, sizeof k);
    bool in_pkg = false;
    mm_buf key = MM_BUF_INIT, val = MM_BUF_INIT;
    int rc = 0;
    for (;;) {
        toml_skip(&t, true);
        if (t.p >= t.end)
            break;
        if (*t.p == '[') {
            bool arr = t.end - t.p >= 2 && t.p[1] == '[';
            t.p += arr ? 2 : 1;
            const char *s = t.p;
            while (t.p < t.end && *t.p != ']' && *t.p != '\n')
                t.p++;
            const char *e = t.p;
            if (t.p >= t.end || *t.p != ']' ||
                (arr && (t.end - t.p < 2 || t.p[1] != ']'))) {
                rc = toml_err(&t, "unterminated table header");
                break;
            }
            t.p += arr ? 2 : 1;
            while (s < e && (*s == ' ' || *s == '\t'))
                s++;
            while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
                e--;
            if (in_pkg && (rc = lock_flush(out, &k)) < 0)
                break;
            in_pkg = arr && e - s == 7 && memcmp(s, "package", 7) == 0;
        } else {
            /* key: bare, quoted or dotted */
            mm_buf_clear(&key);
            if (*t.p == '"' || *t.p == '\'') {
                if ((rc = toml_string(&t, &key)) < 0)
                    break;
            } else {
                while (t.p < t.end && (isalnum((unsigned char)*t.p) ||
                                       *t.p == '_' || *t.p == '-' ||
                                       *t.p == '.'))
                    mm_buf_addc(&key, *t.p++);
                if (!key.len) {
                    rc = toml_err(&t, "expected a key or a table header");
                    break;
                }
            }
            toml_skip(&t, false);
            if (t.p >= t.end || *t.p != '=') {
                rc = toml_err(&t, "expected '='");
                break;
            }
            t.p++;
            toml_skip(&t, false);
            mm_buf_clear(&val);
            bool is_str = false;
            if ((rc = toml_value(&t, &val, &is_str, 0)) < 0)
                break;
            if (in_pkg && is_str) {
                mm_buf *dst = NULL;
                bool *has = NULL;
                if (strcmp(key.data, "name") == 0) {
                    dst = &k.name; has = &k.has_name;
                } else if (strcmp(key.data, "version") == 0) {
                    dst = &k.version; has = &k.has_version;
                } else if (strcmp(key.data, "source") == 0) {
                    dst = &k.source; has = &k.has_source;
                }
                if (dst) {
                    mm_buf_clear(dst);
                    mm_buf_add(dst, val.data ? val.data : "", val.len);
                    *has = true;
                }
            }
        }
        /* the rest of the line: nothing but a comment */
        toml_skip(&t, false);
        if (t.p < t.end && *t.p != '\n') {
            rc = toml_err(&t, "unexpected text after a value");
            break;
        }
    }
    if (rc == 0 && in_pkg)
        rc = lock_flush(out, &k);
    if (rc == MM_ELIMIT)
        rc = mm_error_wrap(rc, "%s: ", where);
    lock_pkg_reset(&k);
    mm_buf_free(&key);
    mm_buf_free(&val);
    return rc;
}

/* --- cargo-auditable ----------------------------------------------------- */

int mm_cargo_parse_audit_json(mm_lang_result *out, const char *data,
                              size_t len, const char *where)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    if (!root)
        return mm_error_set(MM_EFORMAT, "%s: .dep-v0: %s", where, jerr.text);
    json_t *pk = json_object_get(root, "packages");
    if (!json_is_array(pk)) {
        json_decref(root);
        return mm_error_set(MM_EFORMAT, "%s: .dep-v0: no \"packages\" array",
                            where);
    }
    int rc = 0;
    size_t i;
    json_t *e;
    json_array_foreach(pk, i, e) {
        json_t *name = json_object_get(e, "name");
        json_t *ver = json_object_get(e, "version");
        json_t *kind = json_object_get(e, "kind");
        if (!json_is_string(name) || !json_is_string(ver) ||
            !*json_string_value(name) || !*json_string_value(ver))
            continue;
        if (json_is_string(kind) && strcmp(json_string_value(kind), "build") == 0)
            continue;
        mm_package p;
        memset(&p, 0, sizeof p);
        p.type = MM_PKG_CARGO;
        p.name = mm_lang2_strdup(json_string_value(name));
        p.version = mm_lang2_strdup(json_string_value(ver));
        p.epoch = -1;
        p.layer = -1;
        p.indirect = !json_is_true(json_object_get(e, "root"));
        if ((rc = mm_lang_result_push(out, &p)) < 0) {
            rc = mm_error_wrap(rc, "%s: ", where);
            break;
        }
    }
    json_decref(root);
    return rc;
}

int mm_cargo_parse_dep_v0(mm_lang_result *out, const uint8_t *zd, size_t n,
                          const char *where)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK)
        return mm_error_set(MM_EFORMAT, "%s: .dep-v0: zlib init failed", where);
    mm_buf b = MM_BUF_INIT;
    uint8_t tmp[16384];
    int zrc = Z_OK, rc = 0;
    z.next_in = (Bytef *)zd;
    z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    while (zrc != Z_STREAM_END) {
        z.next_out = tmp;
        z.avail_out = sizeof tmp;
        zrc = inflate(&z, Z_NO_FLUSH);
        if (zrc != Z_OK && zrc != Z_STREAM_END) {
            rc = mm_error_set(MM_EFORMAT, "%s: .dep-v0: bad zlib data (%s)",
                              where, z.msg ? z.msg : "truncated");
            break;
        }
        size_t got = sizeof tmp - z.avail_out;
        if (b.len + got > MM_CARGOBIN_MAX_JSON) {
            rc = mm_error_set(MM_ELIMIT, "%s: .dep-v0: more than %u bytes "
                              "inflated", where, MM_CARGOBIN_MAX_JSON);
            break;
        }
        mm_buf_add(&b, tmp, got);
        if (zrc == Z_OK && got == 0 && z.avail_in == 0) {
            rc = mm_error_set(MM_EFORMAT, "%s: .dep-v0: truncated zlib data",
                              where);
            break;
        }
    }
    inflateEnd(&z);
    if (rc == 0)
        rc = mm_cargo_parse_audit_json(out, b.data ? b.data : "", b.len,
                                       where);
    mm_buf_free(&b);
    return rc;
}

/* --- the streaming ELF section finder ------------------------------------- */

struct mm_cargobin {
    uint64_t size;       /* file size as announced (0: unknown) */
    uint8_t hdr[64];
    size_t nhdr;
    bool have_hdr;
    bool is64, be;
    uint64_t shoff;
    uint32_t shentsize, shnum, shstrndx;
    uint64_t lo, hi;     /* window of the file kept */
    mm_buf win;          /* bytes [lo, lo + win.len) */
    mm_cargobin_status st;
    bool far;            /* .dep-v0 exists but lies before the window */
    uint8_t *sec;
    size_t nsec;
};

mm_cargobin *mm_cargobin_new(uint64_t size)
{
    mm_cargobin *c = mm_xcalloc(1, sizeof *c);
    c->size = size;
    return c;
}

void mm_cargobin_free(mm_cargobin *c)
{
    if (!c)
        return;
    mm_buf_free(&c->win);
    free(c->sec);
    free(c);
}

const uint8_t *mm_cargobin_section(const mm_cargobin *c, size_t *len)
{
    *len = c->nsec;
    return c->sec;
}

static uint64_t rd(const uint8_t *p, int n, bool be)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)p[be ? i : n - 1 - i] << (8 * (n - 1 - i));
    return v;
}

/* Reads the ELF header once 64 bytes (or the 52 of ELF32) are in. */
static void parse_hdr(mm_cargobin *c)
{
    const uint8_t *h = c->hdr;
    c->is64 = h[4] == 2;
    c->be = h[5] == 2;
    if ((h[4] != 1 && h[4] != 2) || (h[5] != 1 && h[5] != 2)) {
        c->st = MM_CARGOBIN_NONE;
        return;
    }
    if (c->is64) {
        c->shoff = rd(h + 0x28, 8, c->be);
        c->shentsize = (uint32_t)rd(h + 0x3a, 2, c->be);
        c->shnum = (uint32_t)rd(h + 0x3c, 2, c->be);
        c->shstrndx = (uint32_t)rd(h + 0x3e, 2, c->be);
    } else {
        c->shoff = rd(h + 0x20, 4, c->be);
        c->shentsize = (uint32_t)rd(h + 0x2e, 2, c->be);
        c->shnum = (uint32_t)rd(h + 0x30, 2, c->be);
        c->shstrndx = (uint32_t)rd(h + 0x32, 2, c->be);
    }
    c->have_hdr = true;
    uint32_t need = c->is64 ? 64 : 40;
    uint64_t shsz = (uint64_t)c->shnum * c->shentsize;
    if (c->shoff == 0 || c->shnum == 0 || c->shstrndx >= c->shnum) {
        c->st = MM_CARGOBIN_NONE; /* no (usable) section table */
        return;
    }
    if (c->shentsize < need || shsz > MM_CARGOBIN_MAX_SHDRS ||
        c->shoff > UINT64_MAX - shsz ||
        (c->size && c->shoff + shsz > c->size)) {
        c->st = MM_CARGOBIN_BAD;
        return;
    }
    c->lo = c->shoff > MM_CARGOBIN_TAIL ? c->shoff - MM_CARGOBIN_TAIL : 0;
    c->hi = c->shoff + shsz;
    /* at most MM_CARGOBIN_TAIL + MM_CARGOBIN_MAX_SHDRS, and no more than
     * the file when its size is known */
    mm_buf_reserve(&c->win, (size_t)(c->hi - c->lo));
}

/* Appends what of [off, off + n) falls in the window. */
static void win_add(mm_cargobin *c, uint64_t off, const uint8_t *d, size_t n)
{
    uint64_t s = off > c->lo ? off : c->lo;
    uint64_t e = off + n < c->hi ? off + n : c->hi;
    if (s >= e || s != c->lo + c->win.len)
        return;
    mm_buf_add(&c->win, d + (s - off), (size_t)(e - s));
}

/* Section header i's name offset, file offset and size. */
static void shdr(const mm_cargobin *c, uint32_t i, uint32_t *name,
                 uint64_t *off, uint64_t *size)
{
    const uint8_t *p = (const uint8_t *)c->win.data + (c->shoff - c->lo) +
                       (uint64_t)i * c->shentsize;
    *name = (uint32_t)rd(p, 4, c->be);
    if (c->is64) {
        *off = rd(p + 24, 8, c->be);
        *size = rd(p + 32, 8, c->be);
    } else {
        *off = rd(p + 16, 4, c->be);
        *size = rd(p + 20, 4, c->be);
    }
}

static bool in_win(const mm_cargobin *c, uint64_t off, uint64_t size)
{
    return off >= c->lo && size <= c->win.len &&
           off - c->lo <= c->win.len - size;
}

/* The window is complete: look the section up. */
static void decide(mm_cargobin *c)
{
    uint32_t sn;
    uint64_t stroff, strsz;
    shdr(c, c->shstrndx, &sn, &stroff, &strsz);
    if (!in_win(c, stroff, strsz)) {
        c->st = MM_CARGOBIN_BAD;
        return;
    }
    const char *strs = c->win.data + (stroff - c->lo);
    static const char want[] = ".dep-v0";
    for (uint32_t i = 0; i < c->shnum; i++) {
        uint32_t name;
        uint64_t off, size;
        shdr(c, i, &name, &off, &size);
        if (name >= strsz || strsz - name < sizeof want ||
            memcmp(strs + name, want, sizeof want) != 0)
            continue;
        if (!in_win(c, off, size) || size == 0) {
            c->far = size != 0;
            c->st = MM_CARGOBIN_BAD;
            return;
        }
        c->sec = mm_xmalloc(size ? (size_t)size : 1);
        memcpy(c->sec, c->win.data + (off - c->lo), (size_t)size);
        c->nsec = (size_t)size;
        c->st = MM_CARGOBIN_FOUND;
        return;
    }
    c->st = MM_CARGOBIN_NONE;
}

mm_cargobin_status mm_cargobin_feed(mm_cargobin *c, uint64_t off,
                                    const uint8_t *d, size_t n)
{
    if (c->st != MM_CARGOBIN_MORE)
        return c->st;
    if (off < sizeof c->hdr && !c->have_hdr) {
        if (off != c->nhdr)
            return c->st = MM_CARGOBIN_BAD; /* chunks out of order */
        size_t k = sizeof c->hdr - c->nhdr;
        if (k > n)
            k = n;
        memcpy(c->hdr + c->nhdr, d, k);
        c->nhdr += k;
        if (c->nhdr >= 4 && memcmp(c->hdr, "\x7f" "ELF", 4) != 0)
            return c->st = MM_CARGOBIN_NOT_ELF;
        if (c->nhdr == sizeof c->hdr) {
            parse_hdr(c);
            if (c->st != MM_CARGOBIN_MORE)
                return c->st;
            /* bytes of earlier chunks are only in hdr */
            if (off > 0 && c->lo < off)
                win_add(c, 0, c->hdr, (size_t)off);
        }
    }
    if (c->have_hdr) {
        win_add(c, off, d, n);
        if (c->win.len == c->hi - c->lo)
            decide(c);
    }
    return c->st;
}

mm_cargobin_status mm_cargobin_finish(mm_cargobin *c)
{
    if (c->st != MM_CARGOBIN_MORE)
        return c->st;
    if (c->nhdr < 4 || memcmp(c->hdr, "\x7f" "ELF", 4) != 0)
        return c->st = MM_CARGOBIN_NOT_ELF;
    if (!c->have_hdr && c->nhdr >= 52 && c->hdr[4] == 1) {
        parse_hdr(c); /* a tiny ELF32 file */
        if (c->st == MM_CARGOBIN_MORE) {
            win_add(c, 0, c->hdr, c->nhdr);
            if (c->win.len == c->hi - c->lo)
                decide(c);
        }
        if (c->st != MM_CARGOBIN_MORE)
            return c->st;
    }
    /* the file ended before the section table */
    return c->st = c->have_hdr ? MM_CARGOBIN_BAD : MM_CARGOBIN_NONE;
}

mm_cargobin_status mm_cargobin_parse_buffer(mm_lang_result *out,
                                            const uint8_t *d, size_t n,
                                            const char *where)
{
    mm_cargobin *c = mm_cargobin_new(n);
    mm_cargobin_status st = mm_cargobin_feed(c, 0, d, n);
    if (st == MM_CARGOBIN_MORE)
        st = mm_cargobin_finish(c);
    if (st == MM_CARGOBIN_FOUND) {
        size_t len;
        const uint8_t *s = mm_cargobin_section(c, &len);
        if (mm_cargo_parse_dep_v0(out, s, len, where) < 0)
            st = MM_CARGOBIN_BAD;
    }
    mm_cargobin_free(c);
    return st;
}

/* --- the analyzer --------------------------------------------------------- */

typedef struct cargo_state {
    mm_lang_store *store;
    mm_cargobin *cur;
} cargo_state;

static bool lock_path(const char *p)
{
    if (strcmp(mm_path_base(p), "Cargo.lock") != 0)
        return false;
    return !strstr(p, ".cargo/registry/") && !strstr(p, ".cargo/git/");
}

static int cargo_create(void **state, mm_actx *cx, const void *config)
{
    (void)cx;
    cargo_state *s = mm_xcalloc(1, sizeof *s);
    s->store = mm_lang_store_new();
    *state = s;
    return 0;
}

static void cargo_destroy(void *state)
{
    cargo_state *s = state;
    if (!s)
        return;
    mm_lang_store_free(s->store);
    mm_cargobin_free(s->cur);
    free(s);
}

static mm_want cargo_wants(void *state, const mm_entry *e)
{
    (void)state;
    if (e->type != MM_ENT_REG)
        return MM_WANT_NONE;
    if (lock_path(e->path))
        return MM_WANT_WHOLE;
    /* executables big enough for an ELF header */
    return (e->mode & 0111) && e->size >= 64 ? MM_WANT_STREAM : MM_WANT_NONE;
}

static int cargo_file(void *state, mm_actx *cx, const mm_entry *e,
                      const uint8_t *data, size_t len)
{
    cargo_state *s = state;
    mm_lang_result res;
    memset(&res, 0, sizeof res);
    char *where = mm_xasprintf("/%s", e->path);
    int rc = mm_cargo_parse_lock(&res, (const char *)data, len, where);
    free(where);
    mm_lang_store_parsed(s->store, cx, "cargo", e->path, e->layer, rc, &res);
    return 0;
}

static int cargo_chunk(void *state, mm_actx *cx, const mm_entry *e,
                       uint64_t off, const uint8_t *d, size_t n)
{
    (void)cx;
    cargo_state *s = state;
    if (!s->cur)
        s->cur = mm_cargobin_new(e->size);
    return mm_cargobin_feed(s->cur, off, d, n) == MM_CARGOBIN_MORE ? 0 : 1;
}

static int cargo_end(void *state, mm_actx *cx, const mm_entry *e)
{
    cargo_state *s = state;
    mm_cargobin *c = s->cur;
    s->cur = NULL;
    mm_cargobin_status st = c ? mm_cargobin_finish(c) : MM_CARGOBIN_NOT_ELF;
    if (st == MM_CARGOBIN_FOUND) {
        mm_lang_result res;
        memset(&res, 0, sizeof res);
        size_t len;
        const uint8_t *sec = mm_cargobin_section(c, &len);
        char *where = mm_xasprintf("/%s", e->path);
        int rc = mm_cargo_parse_dep_v0(&res, sec, len, where);
        free(where);
        mm_lang_store_parsed(s->store, cx, "cargo binary", e->path, e->layer, rc, &res);
    } else {
        /* a later layer's version may have lost its audit data */
        mm_lang_store_put(s->store, e->path, e->layer, NULL);
        /* BAD is only worth a word when the file has a .dep-v0 we could
         * not reach; a corrupt section table of an ordinary binary is not
         * this analyzer's business. */
        if (st == MM_CARGOBIN_BAD && c && c->far)
            mm_actx_warn(cx, "cargo binary /%s: .dep-v0 section out of reach "
                         "(more than %u bytes before the section table); "
                         "not read", e->path, MM_CARGOBIN_TAIL);
    }
    mm_cargobin_free(c);
    return 0;
}

static int cargo_finish(void *state, mm_actx *cx)
{
    cargo_state *s = state;
    return mm_lang_store_emit(s->store, cx);
}

const mm_analyzer_ops mm_analyzer_cargo = {
    .name = "cargo",
    .create = cargo_create,
    .wants = cargo_wants,
    .file = cargo_file,
    .chunk = cargo_chunk,
    .end = cargo_end,
    .finish = cargo_finish,
    .destroy = cargo_destroy,
};
