/*
 * ruby.c - installed Ruby gems, read from the specifications RubyGems
 * writes for every installed gem: "<GEM_HOME>/specifications/NAME-VERSION
 * .gemspec" (and "specifications/default/" for the gems Ruby bundles).
 *
 * Those files are Ruby source.  They are never evaluated: the few
 * assignments that matter have a fixed shape in what RubyGems generates
 * (Gem::Specification#to_ruby), which this file reads as text:
 *     # stub: rack 3.0.8 ruby lib
 *     Gem::Specification.new do |s|
 *       s.name = "rack".freeze
 *       s.version = "3.0.8".freeze
 *       s.licenses = ["MIT".freeze]
 * and the older forms `s.name = %q{rack}`, `s.version = Gem::Version.new
 * ("1.0")` and `s.license = "MIT"`.  A value that is not a literal (a
 * constant, a method call) is ignored; the stub comment then supplies name
 * and version.  A gemspec without either is a warning, not an error.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/analyzers.h"
#include "pkg/lang2.h"
#include "util/util.h"

bool mm_gem_is_spec_path(const char *path)
{
    const char *base = mm_path_base(path);
    if (!mm_str_endswith(base, ".gemspec") || strlen(base) <= 8)
        return false;
    size_t dl = mm_path_dirlen(path);
    if (dl == 0)
        return false;
    /* the parent folder: "specifications", or "specifications/default" */
    size_t ps = dl;
    while (ps > 0 && path[ps - 1] != '/')
        ps--;
    size_t plen = dl - ps;
    if (plen == 14 && memcmp(path + ps, "specifications", 14) == 0)
        return true;
    if (plen == 7 && memcmp(path + ps, "default", 7) == 0 && ps >= 16) {
        size_t gs = ps - 1, ge = gs;
        while (gs > 0 && path[gs - 1] != '/')
            gs--;
        return ge - gs == 14 && memcmp(path + gs, "specifications", 14) == 0;
    }
    return false;
}

/* The closing delimiter of a %q literal opened with c. */
static char closing_of(char c)
{
    switch (c) {
    case '(': return ')';
    case '[': return ']';
    case '{': return '}';
    case '<': return '>';
    default: return c;
    }
}

/* Reads one Ruby string literal at *pp ("..", '..', %q{..}, %Q(..), %{..}),
 * appending its value to out; on success *pp moves past it.  Returns false
 * when *pp is not a literal or it is unterminated. */
static bool read_string(const char **pp, const char *end, mm_buf *out)
{
    const char *p = *pp;
    char open, close;
    bool escapes;
    if (p >= end)
        return false;
    if (*p == '"' || *p == '\'') {
        open = close = *p;
        escapes = true; /* '\'' and '\\' in single quotes; good enough */
        p++;
    } else if (*p == '%') {
        p++;
        escapes = true;
        if (p < end && (*p == 'q' || *p == 'Q'))
            p++;
        if (p >= end || isalnum((unsigned char)*p) || isspace((unsigned char)*p))
            return false;
        open = *p;
        close = closing_of(open);
        p++;
    } else {
        return false;
    }
    int depth = 0;
    while (p < end) {
        char c = *p++;
        if (escapes && c == '\\' && p < end) {
            char n = *p++;
            if (out->len < MM_LANG2_MAX_FIELD)
                mm_buf_addc(out, n == 'n' ? '\n' : n == 't' ? '\t' : n);
            continue;
        }
        if (c == close && open != close && depth > 0) {
            depth--;
        } else if (c == close) {
            *pp = p;
            return true;
        } else if (c == open && open != close) {
            depth++;
        }
        if (out->len < MM_LANG2_MAX_FIELD)
            mm_buf_addc(out, c);
    }
    return false;
}

static const char *skip_ws(const char *p, const char *end, bool newlines)
{
    while (p < end && (*p == ' ' || *p == '\t' ||
                       (newlines && (*p == '\n' || *p == '\r'))))
        p++;
    return p;
}

/* Skips a ".freeze" (or any ".method") after a literal. */
static const char *skip_method(const char *p, const char *end)
{
    while (p < end && *p == '.') {
        p++;
        while (p < end && (isalnum((unsigned char)*p) || *p == '_'))
            p++;
    }
    return p;
}

/* Reads the value of an assignment at p: a string literal, an array of
 * them, or Gem::Version.new(literal).  Every string read is pushed to
 * vals.  Returns the number of strings read. */
static size_t read_value(const char *p, const char *end, char ***vals,
                         size_t *nvals)
{
    mm_buf b = MM_BUF_INIT;
    size_t n = 0;
    p = skip_ws(p, end, false);
    static const char gv[] = "Gem::Version.new";
    if ((size_t)(end - p) > sizeof gv - 1 &&
        memcmp(p, gv, sizeof gv - 1) == 0) {
        p = skip_ws(p + sizeof gv - 1, end, false);
        if (p < end && *p == '(')
            p = skip_ws(p + 1, end, false);
    }
    if (p < end && *p == '[') {
        p++;
        for (int i = 0; i < 64; i++) {
            p = skip_ws(p, end, true);
            if (p >= end || *p == ']')
                break;
            mm_buf_clear(&b);
            if (!read_string(&p, end, &b))
                break;
            mm_strv_push(vals, nvals, b.data ? b.data : "");
            n++;
            p = skip_ws(skip_method(p, end), end, true);
            if (p < end && *p == ',')
                p++;
        }
    } else if (read_string(&p, end, &b)) {
        mm_strv_push(vals, nvals, b.data ? b.data : "");
        n++;
    }
    mm_buf_free(&b);
    return n;
}

/* Is s a usable single-line value? */
static bool usable(const char *s)
{
    return s && *s && !strpbrk(s, "\n\r");
}

int mm_gem_parse_gemspec(mm_package *out, const char *data, size_t len,
                         const char *where)
{
    char **names = NULL, **versions = NULL, **lics = NULL;
    size_t nn = 0, nv = 0, nl = 0;
    char *stub_name = NULL, *stub_ver = NULL;
    const char *end = data + len;
    mm_lines it;
    const char *line;
    size_t n;

    memset(out, 0, sizeof *out);
    mm_lines_init(&it, data, len);
    while (mm_lines_next(&it, &line, &n)) {
        const char *p = skip_ws(line, line + n, false);
        const char *le = line + n;
        if (p < le && *p == '#') {
            /* "# stub: NAME VERSION PLATFORM REQUIRE_PATHS" */
            static const char stub[] = "# stub:";
            if (!stub_name && (size_t)(le - p) > sizeof stub - 1 &&
                memcmp(p, stub, sizeof stub - 1) == 0) {
                const char *q = skip_ws(p + sizeof stub - 1, le, false);
                const char *ns = q;
                while (q < le && *q != ' ' && *q != '\t')
                    q++;
                const char *ne = q;
                q = skip_ws(q, le, false);
                const char *vs = q;
                while (q < le && *q != ' ' && *q != '\t')
                    q++;
                if (ne > ns && q > vs && ne - ns < MM_LANG2_MAX_FIELD &&
                    q - vs < MM_LANG2_MAX_FIELD) {
                    stub_name = mm_xstrndup(ns, (size_t)(ne - ns));
                    stub_ver = mm_xstrndup(vs, (size_t)(q - vs));
                }
            }
            continue;
        }
        /* IDENT "." ATTR spaces "=" (not "==") */
        const char *q = p;
        if (q >= le || !(isalpha((unsigned char)*q) || *q == '_'))
            continue;
        while (q < le && (isalnum((unsigned char)*q) || *q == '_'))
            q++;
        if (q >= le || *q != '.')
            continue;
        const char *as = ++q;
        while (q < le && (isalnum((unsigned char)*q) || *q == '_'))
            q++;
        size_t alen = (size_t)(q - as);
        q = skip_ws(q, le, false);
        if (q >= le || *q != '=' || (q + 1 < le && (q[1] == '=' || q[1] == '~')))
            continue;
        q++;
#define ATTR(a) (alen == sizeof(a) - 1 && memcmp(as, a, alen) == 0)
        /* The value may continue on later lines (an array): read from the
         * buffer, not the line. */
        if (ATTR("name") && nn == 0)
            read_value(q, end, &names, &nn);
        else if (ATTR("version") && nv == 0)
            read_value(q, end, &versions, &nv);
        else if ((ATTR("license") || ATTR("licenses")) && nl < 16)
            read_value(q, end, &lics, &nl);
#undef ATTR
    }

    const char *name = nn && usable(names[0]) ? names[0] : stub_name;
    const char *ver = nv && usable(versions[0]) ? versions[0] : stub_ver;
    int rc = 0;
    if (!usable(name) || !usable(ver)) {
        rc = mm_error_set(MM_EFORMAT, "%s: no %s assignment", where,
                          !usable(name) ? "name" : "version");
    } else {
        out->type = MM_PKG_GEM;
        out->name = mm_xstrdup(name);
        out->version = mm_xstrdup(ver);
        out->epoch = -1;
        out->layer = -1;
        mm_buf b = MM_BUF_INIT;
        for (size_t i = 0; i < nl && i < 16; i++) {
            if (!usable(lics[i]))
                continue;
            if (b.len)
                mm_buf_adds(&b, " OR ");
            mm_buf_adds(&b, lics[i]);
        }
        out->license = b.len ? mm_buf_detach(&b) : NULL;
        mm_buf_free(&b);
    }
    mm_strv_free(names, nn);
    mm_strv_free(versions, nv);
    mm_strv_free(lics, nl);
    free(stub_name);
    free(stub_ver);
    return rc;
}

/* --- the analyzer --------------------------------------------------------- */

static int gem_create(void **state, mm_actx *cx, const void *config)
{
    (void)cx;
    *state = mm_lang_store_new();
    return 0;
}

static void gem_destroy(void *state)
{
    mm_lang_store_free(state);
}

static mm_want gem_wants(void *state, const mm_entry *e)
{
    (void)state;
    return e->type == MM_ENT_REG && mm_gem_is_spec_path(e->path)
               ? MM_WANT_WHOLE : MM_WANT_NONE;
}

static int gem_file(void *state, mm_actx *cx, const mm_entry *e,
                    const uint8_t *data, size_t len)
{
    mm_package p;
    char *where = mm_xasprintf("/%s", e->path);
    int rc = mm_gem_parse_gemspec(&p, (const char *)data, len, where);
    free(where);
    if (rc < 0) {
        mm_actx_warn(cx, "gem: %s (skipped)", mm_error_last());
        mm_lang_store_put(state, e->path, e->layer, NULL);
        return 0;
    }
    mm_lang_result res;
    memset(&res, 0, sizeof res);
    rc = mm_lang_result_push(&res, &p);
    if (rc == 0)
        mm_lang_store_put(state, e->path, e->layer, &res);
    mm_lang_result_free(&res);
    return 0;
}

static int gem_finish(void *state, mm_actx *cx)
{
    return mm_lang_store_emit(state, cx);
}

const mm_analyzer_ops mm_analyzer_gem = {
    .name = "gem",
    .create = gem_create,
    .wants = gem_wants,
    .file = gem_file,
    .finish = gem_finish,
    .destroy = gem_destroy,
};
