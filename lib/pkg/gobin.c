/*
 * gobin.c - Go modules compiled into ELF executables, read from the build
 * information the Go linker embeds (what `go version -m` prints).
 *
 * Format facts (Go's debug/buildinfo and runtime/debug): a 32-byte header,
 * 16-byte aligned in the data segment, starting with the 14-byte magic
 * "\xff Go buildinf:", then the pointer size (4 or 8) and a flags byte.
 * With flags bit 2 set (Go >= 1.18) the header is followed by two strings,
 * each an unsigned varint length and the bytes: the runtime version
 * ("go1.21.5") and the module info, framed by two 16-byte sentinels and
 * made of tab-separated lines "path", "mod" (main module), "dep", "=>"
 * (replacement of the line before) and "build".
 *
 * Binaries arrive as a stream of chunks (they can be hundreds of MiB), so
 * the scanner is incremental: it checks the ELF magic in the first bytes
 * (and gives up at once otherwise), looks for the magic at 16-byte aligned
 * file offsets (section file offsets keep the virtual address alignment)
 * carrying a few bytes across chunk boundaries, then buffers only the
 * build info itself.  A magic that does not validate (e.g. the literal in
 * a program that itself reads build info) is skipped and the search goes
 * on.  Pre-1.18 binaries store pointers to the strings instead, which would
 * need random access to the file: they are reported with a warning and
 * not read.
 *
 * Decisions: the main module is reported with its version as written,
 * "(devel)" for a build from a source tree (as Go and syft print it), so
 * that the binary's own module stays visible; a dependency replaced by a
 * local directory ("=> ../x (devel)") keeps its module path with the
 * replacement's version "(devel)" (the folder name is not a module); the
 * standard library is the package "stdlib" at "v1.21.5" (the Go
 * vulnerability database's convention).  Binaries built in GOPATH mode
 * (Debian's packaged Go programs) carry no "mod" line: only stdlib.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pkg/analyzers.h"
#include "pkg/lang.h"
#include "util/util.h"

static const uint8_t go_magic[14] = "\xff Go buildinf:";
#define GO_ALIGN 16u
#define GO_HDR 32u

struct mm_gobin {
    uint64_t next;        /* offset expected for the next chunk */
    uint8_t elf[4];
    size_t nelf;
    mm_buf win;           /* unsearched bytes (or a candidate) at win_off */
    uint64_t win_off;
    bool pending;         /* win starts with a candidate needing more bytes */
    mm_gobin_status st;
    char *goversion;
    char *modinfo;
    size_t modlen;
};

mm_gobin *mm_gobin_new(void)
{
    return mm_xcalloc(1, sizeof(mm_gobin));
}

void mm_gobin_free(mm_gobin *g)
{
    if (!g)
        return;
    mm_buf_free(&g->win);
    free(g->goversion);
    free(g->modinfo);
    free(g);
}

const char *mm_gobin_goversion(const mm_gobin *g)
{
    return g->goversion;
}

const char *mm_gobin_modinfo(const mm_gobin *g, size_t *len)
{
    if (len)
        *len = g->modlen;
    return g->modinfo;
}

/* Reads an unsigned LEB128 varint: 1 and *v on success, 0 when more bytes
 * are needed, -1 when it is longer than 10 bytes (not a varint). */
static int uvarint(const uint8_t *b, size_t n, uint64_t *v, size_t *used)
{
    uint64_t x = 0;
    for (size_t i = 0; i < 10; i++) {
        if (i >= n)
            return 0;
        x |= (uint64_t)(b[i] & 0x7f) << (7 * i);
        if (!(b[i] & 0x80)) {
            *v = x;
            *used = i + 1;
            return 1;
        }
    }
    return -1;
}

enum { DEC_NEED, DEC_INVALID, DEC_DONE };

/* Tries to decode a candidate build-info header at b[0..n). */
static int decode(mm_gobin *g, const uint8_t *b, size_t n)
{
    if (n < GO_HDR)
        return DEC_NEED;
    uint8_t ptr = b[14], flags = b[15];
    if (ptr != 4 && ptr != 8)
        return DEC_INVALID;
    if (!(flags & 2)) {
        if (flags > 1)
            return DEC_INVALID;
        g->st = MM_GOBIN_OLD;
        return DEC_DONE;
    }
    size_t pos = GO_HDR, k;
    uint64_t vlen, mlen;
    int r = uvarint(b + pos, n - pos, &vlen, &k);
    if (r <= 0)
        return r == 0 ? DEC_NEED : DEC_INVALID;
    if (vlen < 3 || vlen > MM_GOBIN_MAX_VERSION)
        return DEC_INVALID;
    pos += k;
    if (n - pos < vlen)
        return DEC_NEED;
    const char *ver = (const char *)b + pos;
    if (!(memcmp(ver, "go", 2) == 0 ||
          (vlen >= 5 && memcmp(ver, "devel", 5) == 0)) ||
        memchr(ver, 0, vlen) || memchr(ver, '\n', vlen))
        return DEC_INVALID;
    pos += vlen;
    r = uvarint(b + pos, n - pos, &mlen, &k);
    if (r <= 0)
        return r == 0 ? DEC_NEED : DEC_INVALID;
    if (mlen > MM_GOBIN_MAX_MODINFO) {
        g->st = MM_GOBIN_BAD;
        return DEC_DONE;
    }
    pos += k;
    if (n - pos < mlen)
        return DEC_NEED;
    const char *mod = (const char *)b + pos;
    g->goversion = mm_xstrndup(ver, vlen);
    /* Strip the sentinels; Go itself treats unframed info as absent. */
    if (mlen >= 33 && mod[mlen - 17] == '\n') {
        g->modinfo = mm_xstrndup(mod + 16, mlen - 32);
        /* the copy stops at a NUL: its length, not the framed one, is what
         * the line reader may walk (a fuzzer found the difference) */
        g->modlen = strlen(g->modinfo);
    } else {
        g->modinfo = mm_xstrdup("");
        g->modlen = 0;
    }
    g->st = MM_GOBIN_FOUND;
    return DEC_DONE;
}

/* Drops the first k bytes of the window. */
static void win_drop(mm_gobin *g, size_t k)
{
    if (k > g->win.len)
        k = g->win.len;
    memmove(g->win.data, g->win.data + k, g->win.len - k);
    g->win.len -= k;
    g->win.data[g->win.len] = 0;
    g->win_off += k;
}

mm_gobin_status mm_gobin_feed(mm_gobin *g, uint64_t off, const uint8_t *d,
                              size_t n)
{
    if (g->st != MM_GOBIN_MORE)
        return g->st;
    if (off != g->next) {
        /* The reader promises contiguous chunks; anything else is a bug
         * upstream, and guessing would misplace the alignment. */
        g->st = MM_GOBIN_BAD;
        return g->st;
    }
    g->next += n;
    if (g->nelf < 4) {
        /* The ELF magic, possibly spread over tiny first chunks. */
        size_t k = 4 - g->nelf < n ? 4 - g->nelf : n;
        memcpy(g->elf + g->nelf, d, k);
        g->nelf += k;
        if (memcmp(g->elf, "\x7f" "ELF", g->nelf) != 0) {
            g->st = MM_GOBIN_NOT_ELF;
            return g->st;
        }
    }
    if (!n)
        return g->st;
    mm_buf_add(&g->win, d, n);
    {
        const uint8_t *w = (const uint8_t *)g->win.data;
        size_t len = g->win.len;
        size_t p = (size_t)((GO_ALIGN - g->win_off % GO_ALIGN) % GO_ALIGN);
        for (; p + sizeof go_magic <= len; p += GO_ALIGN) {
            if (w[p] != 0xff || memcmp(w + p, go_magic, sizeof go_magic))
                continue;
            int r = decode(g, w + p, len - p);
            if (r == DEC_DONE) {
                mm_buf_free(&g->win);
                return g->st;
            }
            if (r == DEC_NEED) {
                /* Keep the candidate and wait for more bytes. */
                win_drop(g, p);
                g->pending = true;
                return g->st;
            }
            /* DEC_INVALID: not the real thing, look further. */
        }
        g->pending = false;
        win_drop(g, p);
    }
    return g->st;
}

mm_gobin_status mm_gobin_finish(mm_gobin *g)
{
    if (g->st == MM_GOBIN_MORE) {
        if (g->nelf < 4)
            g->st = MM_GOBIN_NOT_ELF;
        else
            g->st = g->pending ? MM_GOBIN_BAD : MM_GOBIN_NOT_GO;
    }
    mm_buf_free(&g->win);
    return g->st;
}

char *mm_go_stdlib_version(const char *goversion)
{
    if (!goversion || strncmp(goversion, "go", 2) != 0 ||
        !isdigit((unsigned char)goversion[2]))
        return NULL;
    const char *p = goversion + 2;
    unsigned long part[3] = {0, 0, 0};
    int nparts = 0;
    while (nparts < 3 && isdigit((unsigned char)*p)) {
        char *e;
        part[nparts++] = strtoul(p, &e, 10);
        if (e - p > 9)
            return NULL;
        p = e;
        if (*p != '.')
            break;
        p++;
    }
    if (p[-1] == '.')
        return NULL; /* "go1." */
    const char *pre = NULL;
    size_t prelen = 0;
    unsigned long pren = 0;
    if (strncmp(p, "rc", 2) == 0 || strncmp(p, "beta", 4) == 0) {
        pre = p;
        prelen = p[0] == 'r' ? 2 : 4;
        p += prelen;
        if (!isdigit((unsigned char)*p))
            return NULL;
        char *e;
        pren = strtoul(p, &e, 10);
        if (e - p > 9)
            return NULL;
        p = e;
    }
    /* What may follow: nothing, " X:experiment", or a vendor suffix. */
    if (*p && *p != ' ' && *p != '-' && *p != '+')
        return NULL;
    if (pre)
        return mm_xasprintf("v%lu.%lu.%lu-%.*s.%lu", part[0], part[1],
                            part[2], (int)prelen, pre, pren);
    return mm_xasprintf("v%lu.%lu.%lu", part[0], part[1], part[2]);
}

/* Splits a module line body into at most 3 tab-separated fields. */
static size_t split_tabs(const char *s, size_t n, const char *f[3],
                         size_t fl[3])
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < 3; i++) {
        if (i == n || s[i] == '\t') {
            f[k] = s + start;
            fl[k] = i - start;
            k++;
            start = i + 1;
        }
    }
    return k;
}

/* Is a replacement path a folder on the build machine (Go's rule: it
 * starts with "./", "../" or "/", or is "." / "..")? */
static bool local_path(const char *s, size_t n)
{
    if (n >= 1 && s[0] == '/')
        return true;
    if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
        return true;
    if (n >= 2 && s[0] == '.' && s[1] == '/')
        return true;
    if (n >= 3 && s[0] == '.' && s[1] == '.' && s[2] == '/')
        return true;
    /* Windows builds: "C:\..." or ".\x" */
    if (n >= 2 && (s[1] == ':' || (s[0] == '.' && s[1] == '\\')))
        return true;
    return false;
}

static char *field_or(const char *s, size_t n, const char *dflt)
{
    return n ? mm_xstrndup(s, n) : mm_xstrdup(dflt);
}

int mm_gobin_packages(mm_lang_result *out, const char *goversion,
                      const char *modinfo, size_t len)
{
    mm_lines it;
    const char *line;
    size_t n;
    /* Index in out of the last "dep" (a "=>" line applies to it). */
    long last_dep = -1;
    int rc = 0;
    mm_lines_init(&it, modinfo ? modinfo : "", modinfo ? len : 0);
    while (rc == 0 && mm_lines_next(&it, &line, &n)) {
        const char *f[3];
        size_t fl[3];
        size_t nf;
        bool is_mod = n > 4 && memcmp(line, "mod\t", 4) == 0;
        if (is_mod || (n > 4 && memcmp(line, "dep\t", 4) == 0)) {
            /* the main module ("mod") or a dependency ("dep", indirect) */
            nf = split_tabs(line + 4, n - 4, f, fl);
            last_dep = -1;
            /* Old toolchains listed the main module as a dep with an empty
             * path: nothing to report. */
            if (nf < 1 || !fl[0])
                continue;
            mm_package p = {0};
            p.type = MM_PKG_GOMOD;
            p.name = mm_xstrndup(f[0], fl[0]);
            p.version = field_or(f[1], nf > 1 ? fl[1] : 0, "(devel)");
            p.epoch = -1;
            p.layer = -1;
            p.indirect = !is_mod;
            rc = mm_lang_result_push(out, &p);
            if (rc == 0 && !is_mod)
                last_dep = (long)out->npkgs - 1;
        } else if (n > 3 && memcmp(line, "=>\t", 3) == 0) {
            if (last_dep < 0)
                continue;
            nf = split_tabs(line + 3, n - 3, f, fl);
            if (nf < 1 || !fl[0])
                continue;
            mm_package *p = &out->pkgs[last_dep];
            size_t vl = nf > 1 ? fl[1] : 0;
            free(p->version);
            p->version = field_or(nf > 1 ? f[1] : "", vl, "(devel)");
            if (!local_path(f[0], fl[0])) {
                free(p->name);
                p->name = mm_xstrndup(f[0], fl[0]);
            }
            last_dep = -1;
        }
        /* "path", "build" and unknown lines carry no package. */
    }
    if (rc < 0)
        return rc;
    char *sv = mm_go_stdlib_version(goversion);
    if (sv) {
        mm_package p = {0};
        p.type = MM_PKG_GOMOD;
        p.name = mm_xstrdup("stdlib");
        p.version = sv;
        p.epoch = -1;
        p.layer = -1;
        rc = mm_lang_result_push(out, &p);
    }
    return rc;
}

mm_gobin_status mm_gobin_parse_buffer(mm_lang_result *out, const uint8_t *d,
                                      size_t n)
{
    mm_gobin *g = mm_gobin_new();
    mm_gobin_feed(g, 0, d, n);
    mm_gobin_status st = mm_gobin_finish(g);
    if (st == MM_GOBIN_FOUND)
        mm_gobin_packages(out, g->goversion, g->modinfo, g->modlen);
    mm_gobin_free(g);
    return st;
}

/* --- the analyzer ------------------------------------------------------- */

typedef struct go_state {
    mm_gobin *cur;   /* scanner of the file being streamed */
    mm_lang_store *bins;  /* relative path -> packages (latest version) */
} go_state;

static int go_create(void **state, mm_actx *cx, const void *config)
{
    go_state *s = mm_xcalloc(1, sizeof *s);
    s->bins = mm_lang_store_new();
    *state = s;
    return 0;
}

static void go_destroy(void *state)
{
    go_state *s = state;
    if (!s)
        return;
    mm_gobin_free(s->cur);
    mm_lang_store_free(s->bins);
    free(s);
}

static mm_want go_wants(void *state, const mm_entry *e)
{
    /* Executables only: any x bit, and big enough to hold an ELF header
     * and the build info. */
    if (e->type != MM_ENT_REG || !(e->mode & 0111) || e->size < 64)
        return MM_WANT_NONE;
    return MM_WANT_STREAM;
}

static int go_chunk(void *state, mm_actx *cx, const mm_entry *e, uint64_t off,
                    const uint8_t *d, size_t n)
{
    go_state *s = state;
    if (!s->cur)
        s->cur = mm_gobin_new();
    return mm_gobin_feed(s->cur, off, d, n) == MM_GOBIN_MORE ? 0 : 1;
}

static int go_end(void *state, mm_actx *cx, const mm_entry *e)
{
    go_state *s = state;
    mm_gobin *g = s->cur;
    s->cur = NULL;
    mm_gobin_status st = g ? mm_gobin_finish(g) : MM_GOBIN_NOT_ELF;
    int rc = 0;
    if (st == MM_GOBIN_FOUND) {
        mm_lang_result res = {0};
        size_t mlen;
        const char *mi = mm_gobin_modinfo(g, &mlen);
        rc = mm_gobin_packages(&res, mm_gobin_goversion(g), mi, mlen);
        if (rc < 0) {
            mm_actx_warn(cx, "go binary /%s: %s (skipped)", e->path,
                         mm_error_last());
            mm_lang_result_free(&res);
            rc = 0;
        } else {
            mm_lang_store_put(s->bins, e->path, e->layer, &res);
        }
    } else {
        mm_lang_store_put(s->bins, e->path, e->layer, NULL);
        if (st == MM_GOBIN_OLD)
            mm_actx_warn(cx, "go binary /%s: built before Go 1.18 (pointer-"
                         "form build info is not read)", e->path);
        else if (st == MM_GOBIN_BAD)
            mm_actx_warn(cx, "go binary /%s: build info truncated or too "
                         "large (skipped)", e->path);
    }
    mm_gobin_free(g);
    return rc;
}

static int go_finish(void *state, mm_actx *cx)
{
    go_state *s = state;
    return mm_lang_store_emit(s->bins, cx);
}

const mm_analyzer_ops mm_analyzer_gobin = {
    .name = "gobin",
    .create = go_create,
    .wants = go_wants,
    .chunk = go_chunk,
    .end = go_end,
    .finish = go_finish,
    .destroy = go_destroy,
};
