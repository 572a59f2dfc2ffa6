/*
 * yaml.c - the one YAML loader: a YAML stream (one or many documents) into
 * jansson values, on libyaml's event parser, with the line and column of
 * every mapping key and sequence item kept aside (mm_yaml_posmap) so that
 * errors and findings can point into the file.
 *
 * Scalars resolve as Kubernetes resolves them (sigs.k8s.io/yaml over
 * go-yaml v2, YAML 1.1): ~/null/empty are null; y/yes/on/true and
 * n/no/off/false (in their three casings) are booleans; integers in decimal,
 * 0x, 0b and leading-0 octal with '_' separators; floats, .inf and .nan
 * (as strings: JSON has no infinity); quoted and block scalars and !!str
 * are strings.  Keys become strings as written.  Merge keys ("<<") are
 * applied; explicit keys win over merged ones.
 *
 * Untrusted input is capped: nesting depth, documents, and nodes per
 * document counted with aliases expanded (a "billion laughs" document
 * stops at the cap instead of eating memory: aliased nodes are shared, not
 * copied, but each use counts its whole subtree).  A duplicate key is an
 * error, because different consumers resolve it differently (an admission
 * check could read one value while the API server keeps the other).
 *
 * Options in mm_yaml_limits serve the loaders of data files: scalars kept
 * as strings (MM_YAML_STRINGS: only plain null and true/false are typed,
 * so a version "1.10" is not the number 1.1), the first document only,
 * aliases refused, a per-scalar size cap, and "last key wins".  Loaders
 * that walk the tree as a document (the Falco rules and behaviour profile
 * loaders) ask for the position of each value itself (pos_values: every
 * value keyed by its own json_t, an alias by its anchor's node), "first key
 * wins" with the repetition noted, and a tag before the loader's own
 * messages; a first pass that reruns on an error for its messages keeps
 * the positions of null spellings only (pos_nulls_only), and shares equal
 * short scalars.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <yaml.h>

#include "util/util.h"
#include "util/yaml_int.h"

/* --- scalars ---------------------------------------------------------------- */
static bool word_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return true;
    return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"y", "Y", "yes", "Yes", "YES", "on", "On", "ON",
                                         "true", "True", "TRUE", NULL};
static const char *const false_words[] = {"n", "N", "no", "No", "NO", "off", "Off", "OFF",
                                          "false", "False", "FALSE", NULL};

/* An integer as go-yaml v2 reads it (strconv.ParseInt base 0 after
 * removing '_'): sign, then decimal, 0x hex, 0b binary, 0o or leading-0
 * octal.  False when s is not one or does not fit in 64 bits. */
static bool parse_int(const char *s, json_int_t *out, bool *overflow)
{
    char buf[80];
    size_t n = 0;
    *overflow = false;
    for (const char *p = s; *p; p++) {
        if (*p == '_')
            continue;
        if (n + 1 >= sizeof buf)
            return false;
        buf[n++] = *p;
    }
    buf[n] = 0;
    const char *p = buf;
    bool neg = false;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    if (!*p)
        return false;
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B')) {
        base = 2;
        p += 2;
    } else if (p[0] == '0' && (p[1] == 'o' || p[1] == 'O')) {
        base = 8;
        p += 2;
    } else if (p[0] == '0' && p[1]) {
        base = 8;
        p++;
    }
    if (!*p)
        return false;
    unsigned long long v = 0;
    for (; *p; p++) {
        unsigned d;
        if (*p >= '0' && *p <= '9')
            d = (unsigned)(*p - '0');
        else if (*p >= 'a' && *p <= 'f')
            d = (unsigned)(*p - 'a' + 10);
        else if (*p >= 'A' && *p <= 'F')
            d = (unsigned)(*p - 'A' + 10);
        else
            return false;
        if (d >= base)
            return false;
        if (v > (ULLONG_MAX - d) / base) {
            *overflow = true;
            return false;
        }
        v = v * base + d;
    }
    if (!neg && v > (unsigned long long)INT64_MAX) {
        *overflow = true;
        return false;
    }
    if (neg && v > (unsigned long long)INT64_MAX + 1) {
        *overflow = true;
        return false;
    }
    *out = neg ? (json_int_t)(0 - v) : (json_int_t)v;
    return true;
}

/* go-yaml v2's float syntax: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    bool digits = false;
    while (*p >= '0' && *p <= '9') {
        p++;
        digits = true;
    }
    if (*p == '.') {
        p++;
        bool frac = false;
        while (*p >= '0' && *p <= '9') {
            p++;
            frac = true;
        }
        if (!digits && !frac)
            return false;
    } else if (!digits) {
        return false;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return *p == 0;
}

static json_t *plain_scalar(const char *s, size_t len)
{
    if (strlen(s) != len)      /* a NUL inside: keep the bytes as a string */
        return json_stringn_nocheck(s, len);
    if (word_in(s, null_words))
        return json_null();
    if (word_in(s, true_words))
        return json_true();
    if (word_in(s, false_words))
        return json_false();
    char c = s[0];
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.') {
        json_int_t iv;
        bool overflow;
        if (parse_int(s, &iv, &overflow))
            return json_integer(iv);
        if (float_syntax(s) || overflow) {
            char *end;
            double d = strtod(s, &end);
            if (*end == 0 && isfinite(d))
                return json_real(d);
        }
    }
    /* .inf and .nan have no JSON form: they stay text */
    return json_stringn_nocheck(s, len);
}

static bool tag_is(const char *tag, const char *name)
{
    static const char pfx[] = "tag:yaml.org,2002:";
    if (!tag)
        return false;
    if (!strncmp(tag, pfx, sizeof pfx - 1))
        return !strcmp(tag + sizeof pfx - 1, name);
    return tag[0] == '!' && tag[1] == '!' && !strcmp(tag + 2, name);
}

/* --- the builder ------------------------------------------------------------- */
struct anchor {
    char *name;
    json_t *node;
    size_t size;     /* nodes in its subtree */
    bool done;       /* false while the node is being built */
};

struct frame {
    json_t *node;
    bool map;
    bool haskey;            /* mapping: a key waits for its value ... */
    size_t koff;            /* ... at this offset of the builder's key stack */
    bool key_is_merge;
    size_t klen;            /* the waiting key's length */
    uint64_t kseen;         /* mapping: one bit per key placed (by a cheap
                             * hash), so that most keys need no lookup for
                             * a duplicate */
    int key_line, key_col;
    size_t start_count;     /* nodes before this one */
    int anchor;             /* index into anchors, -1 */
    json_t **merges;        /* "<<" sources, applied at the end */
    size_t nmerges;
    yaml_mark_t start;      /* where the node began */
};

struct builder {
    const char *name;
    const mm_yaml_limits *lim;
    mm_yaml_posmap *pm;
    struct frame *st;
    size_t depth, cap;
    struct anchor *anchors;
    size_t nanchors;
    size_t count;           /* nodes so far in this document, aliases expanded */
    char *ks;               /* the waiting keys, one per open mapping, NUL-ended */
    size_t klen, kcap;
    json_t *root;
    json_t *scache[256];    /* pos_nulls_only: recent short scalars, shared */
    int root_line;
    bool root_started;      /* the root's first line is known */
};

static int berr(const struct builder *b, const yaml_mark_t *m, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int berr(const struct builder *b, const yaml_mark_t *m, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int rc = b->lim->errtag
                 ? mm_error_set(code, "%s:%zu:%zu: %s: %s", b->name, m->line + 1,
                                m->column + 1, b->lim->errtag, msg)
                 : mm_error_set(code, "%s:%zu:%zu: %s", b->name, m->line + 1, m->column + 1,
                                msg);
    free(msg);
    return rc;
}

/* A scalar spelt as a YAML null ("", ~, null): what pos_nulls_only keeps
 * (quoted ones too, so that a slot left by a freed value is overwritten). */
static bool is_null_text(const char *s)
{
    return !s[0] || (s[0] == '~' && !s[1]) || (s[0] == 'n' && !strcmp(s, "null"));
}

/* A text scalar for a pos_nulls_only load, where no value but the null
 * spellings has a position of its own: a short scalar equal to one seen
 * recently is the same (shared, read-only) json_t, which saves building and
 * freeing most repeated names, ports and words. */
static json_t *text_shared(struct builder *b, const char *text, size_t len)
{
    if (len == 0 || len > 24 || is_null_text(text))
        return json_stringn_nocheck(text, len);
    unsigned h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 16777619u;
    json_t **slot = &b->scache[(h ^ h >> 8) & 255];
    if (*slot && json_string_length(*slot) == len &&
        !memcmp(json_string_value(*slot), text, len))
        return json_incref(*slot);
    json_t *v = json_stringn_nocheck(text, len);
    json_decref(*slot);
    *slot = json_incref(v);
    return v;
}

static void scache_clear(struct builder *b)
{
    for (size_t i = 0; i < sizeof b->scache / sizeof b->scache[0]; i++) {
        json_decref(b->scache[i]);
        b->scache[i] = NULL;
    }
}

static void anchors_clear(struct builder *b)
{
    for (size_t i = 0; i < b->nanchors; i++) {
        free(b->anchors[i].name);
        json_decref(b->anchors[i].node);
    }
    free(b->anchors);
    b->anchors = NULL;
    b->nanchors = 0;
}

static void frames_clear(struct builder *b)
{
    while (b->depth > 0) {
        struct frame *f = &b->st[--b->depth];
        json_decref(f->node);
        for (size_t i = 0; i < f->nmerges; i++)
            json_decref(f->merges[i]);
        free(f->merges);
    }
}

static int add_anchor(struct builder *b, const char *name, json_t *node)
{
    b->anchors = mm_xrealloc(b->anchors, (b->nanchors + 1) * sizeof *b->anchors);
    b->anchors[b->nanchors] = (struct anchor){mm_xstrdup(name), json_incref(node), 1, false};
    return (int)b->nanchors++;
}

static const struct anchor *find_anchor(const struct builder *b, const char *name)
{
    for (size_t i = b->nanchors; i-- > 0;)
        if (!strcmp(b->anchors[i].name, name))
            return &b->anchors[i];
    return NULL;
}

/* The bit of a key in frame.kseen. */
static uint64_t key_bit(const char *k, size_t len)
{
    unsigned h = (unsigned)len * 31u + (unsigned char)k[0];
    if (len)
        h = h * 31u + (unsigned char)k[len - 1] + (unsigned char)k[len / 2] * 7u;
    return 1ull << (h & 63);
}

/* The value's own position (pos_values), unless it is an alias: an alias
 * keeps its anchor's.  A value dropped after this (a later duplicate key
 * under "first wins") leaves a slot for a freed address, which the next
 * value placed there overwrites.  pos_nulls_only: null spellings only
 * (text: the scalar's text, NULL for a node). */
static inline void value_pos(struct builder *b, json_t *v, const char *text, bool plain,
                             bool alias, const yaml_mark_t *m)
{
    if (b->pm && b->lim->pos_values && !alias &&
        (!b->lim->pos_nulls_only || (text && is_null_text(text))))
        mm_yaml_pos_put(b->pm, v, MM_YAML_VALUE_KEY, (int)m->line + 1, (int)m->column + 1,
                        plain);
}

/* Places a finished value (a new reference, taken) into the parent frame
 * or as the root.  key_text (key_len bytes): a scalar's text, the key when
 * the parent is a mapping waiting for one (NULL for a non-scalar). */
static int place(struct builder *b, json_t *v, const char *key_text, size_t key_len,
                 bool plain, bool alias, const yaml_mark_t *m)
{
    if (b->depth == 0) {
        b->root = v;
        value_pos(b, v, key_text, plain, alias, m);
        if (b->pm && !b->lim->pos_no_keys)
            mm_yaml_pos_put(b->pm, b->pm, mm_yaml_pkey(NULL, 0), (int)m->line + 1,
                            (int)m->column + 1, plain);
        if (!b->root_started)
            b->root_line = (int)m->line + 1;
        return 0;
    }
    struct frame *f = &b->st[b->depth - 1];
    if (!f->map) {
        size_t idx = json_array_size(f->node);
        value_pos(b, v, key_text, plain, alias, m);
        if (b->pm && !b->lim->pos_no_keys)
            mm_yaml_pos_put(b->pm, f->node, mm_yaml_pkey(NULL, idx), (int)m->line + 1,
                            (int)m->column + 1, plain);
        json_array_append_new(f->node, v);
        return 0;
    }
    if (!f->haskey) {
        if (!key_text) {
            json_decref(v);
            return berr(b, m, MM_EFORMAT, "a mapping key must be a scalar");
        }
        /* pushed on the key stack: a deeper mapping's keys come and go
         * above it before this one's value is placed */
        size_t kl = key_len + 1;
        if (b->klen + kl > b->kcap) {
            b->kcap = (b->klen + kl) * 2;
            b->ks = mm_xrealloc(b->ks, b->kcap);
        }
        memcpy(b->ks + b->klen, key_text, kl);
        f->koff = b->klen;
        f->klen = kl - 1;
        b->klen += kl;
        f->haskey = true;
        f->key_is_merge = plain && !strcmp(key_text, "<<");
        f->key_line = (int)m->line + 1;
        f->key_col = (int)m->column + 1;
        json_decref(v);
        return 0;
    }
    const char *fkey = b->ks + f->koff;   /* valid until the stack grows */
    uint64_t kbit = key_bit(fkey, f->klen);
    bool maybe_dup = (f->kseen & kbit) != 0;   /* else certainly a new key */
    if (f->key_is_merge) {
        /* "<<: *base" or "<<: [*a, *b]": earlier sources win over later */
        if (json_is_object(v)) {
            f->merges = mm_xrealloc(f->merges, (f->nmerges + 1) * sizeof *f->merges);
            f->merges[f->nmerges++] = v;
        } else if (json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v); i++) {
                json_t *it = json_array_get(v, i);
                if (!json_is_object(it)) {
                    json_decref(v);
                    return berr(b, m, MM_EFORMAT, "a merge key (<<) takes mappings only");
                }
                f->merges = mm_xrealloc(f->merges, (f->nmerges + 1) * sizeof *f->merges);
                f->merges[f->nmerges++] = json_incref(it);
            }
            json_decref(v);
        } else {
            json_decref(v);
            return berr(b, m, MM_EFORMAT, "a merge key (<<) takes a mapping or a list of them");
        }
    } else if (b->lim->dup_first_wins && maybe_dup && json_object_get(f->node, fkey)) {
        json_decref(v);   /* the first value of a repeated key stays */
        if (b->pm)
            mm_yaml_pos_note_dup(b->pm, f->node, fkey, f->key_line, f->key_col);
    } else {
        if (!b->lim->dup_last_wins && !b->lim->dup_first_wins && maybe_dup &&
            json_object_get(f->node, fkey)) {
            yaml_mark_t km = {0, (size_t)f->key_line - 1, (size_t)f->key_col - 1};
            int rc = berr(b, &km, MM_EFORMAT, "duplicate key \"%.100s\"", fkey);
            json_decref(v);
            return rc;
        }
        value_pos(b, v, key_text, plain, alias, m);
        if (b->pm && !b->lim->pos_no_keys)
            mm_yaml_pos_put(b->pm, f->node, mm_yaml_pkey(fkey, 0), f->key_line, f->key_col,
                            plain);
        json_object_setn_new_nocheck(f->node, fkey, f->klen, v);
        f->kseen |= kbit;
    }
    b->klen = f->koff;   /* popped */
    f->haskey = false;
    f->key_is_merge = false;
    return 0;
}

static int count_nodes(struct builder *b, size_t n, const yaml_mark_t *m)
{
    b->count += n;
    if (b->count > b->lim->max_nodes)
        return berr(b, m, MM_ELIMIT, "more than %zu nodes in one document (aliases "
                    "expanded)", b->lim->max_nodes);
    return 0;
}

static int open_node(struct builder *b, bool map, const char *anchor, const yaml_mark_t *m)
{
    if (b->depth >= b->lim->max_depth)
        return berr(b, m, MM_ELIMIT, "nesting deeper than %zu levels", b->lim->max_depth);
    int rc = count_nodes(b, 1, m);
    if (rc < 0)
        return rc;
    if (b->depth == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->st = mm_xrealloc(b->st, b->cap * sizeof *b->st);
    }
    json_t *node = map ? json_object() : json_array();
    if (!node)
        abort();
    struct frame *f = &b->st[b->depth++];
    memset(f, 0, sizeof *f);
    f->node = node;
    f->map = map;
    f->start_count = b->count - 1;
    f->anchor = anchor ? add_anchor(b, anchor, node) : -1;
    f->start = *m;
    if (map && b->pm && b->lim->dup_first_wins) {
        /* a mapping freed earlier at this address may have noted a dup */
        mm_yaml_pos_dup_reset(b->pm, node);
    }
    return 0;
}

static int close_node(struct builder *b, const yaml_mark_t *start, const yaml_mark_t *m)
{
    struct frame f = b->st[--b->depth];
    if (f.map && f.haskey) {   /* a key without a value: dropped */
        b->klen = f.koff;
        f.haskey = false;
    }
    for (size_t i = 0; i < f.nmerges; i++) {
        const char *k;
        json_t *v;
        json_object_foreach(f.merges[i], k, v) {
            if (!json_object_get(f.node, k))
                json_object_set_nocheck(f.node, k, v);
        }
        json_decref(f.merges[i]);
    }
    free(f.merges);
    if (f.anchor >= 0) {
        b->anchors[f.anchor].size = b->count - f.start_count;
        b->anchors[f.anchor].done = true;
    }
    (void)start;
    return place(b, f.node, NULL, 0, false, false, &f.start);
}

static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (b->lim->max_scalar && len > b->lim->max_scalar)
        return berr(b, &ev->start_mark, MM_ELIMIT, "a scalar is longer than the %zu-byte cap",
                    b->lim->max_scalar);
    int rc = count_nodes(b, 1, &ev->start_mark);
    if (rc < 0)
        return rc;
    struct frame *f = b->depth ? &b->st[b->depth - 1] : NULL;
    bool is_key = f && f->map && !f->haskey;
    if (is_key && strlen(text) != len)
        return berr(b, &ev->start_mark, MM_EFORMAT, "a NUL byte in a key");
    json_t *v;
    if (is_key) {
        v = json_null();   /* keys are kept as text by place() */
    } else if (b->lim->scalars == MM_YAML_TEXT) {
        v = b->lim->pos_nulls_only ? text_shared(b, text, len) : json_stringn_nocheck(text, len);
    } else if (b->lim->scalars == MM_YAML_STRINGS) {
        if (plain && !tag && strlen(text) == len && word_in(text, null_words))
            v = json_null();
        else if (plain && !tag && (!strcmp(text, "true") || !strcmp(text, "True") ||
                                   !strcmp(text, "TRUE")))
            v = json_true();
        else if (plain && !tag && (!strcmp(text, "false") || !strcmp(text, "False") ||
                                   !strcmp(text, "FALSE")))
            v = json_false();
        else
            v = json_stringn_nocheck(text, len);
    } else if (tag && tag[0] && strcmp(tag, "!")) {
        if (tag_is(tag, "null")) {
            v = json_null();
        } else if (tag_is(tag, "bool")) {
            if (word_in(text, true_words))
                v = json_true();
            else if (word_in(text, false_words))
                v = json_false();
            else
                return berr(b, &ev->start_mark, MM_EFORMAT, "\"%.60s\" is not a !!bool", text);
        } else if (tag_is(tag, "int") || tag_is(tag, "float")) {
            json_t *p = plain_scalar(text, len);
            if (!json_is_number(p)) {
                json_decref(p);
                return berr(b, &ev->start_mark, MM_EFORMAT, "\"%.60s\" is not a number", text);
            }
            v = p;
        } else {
            v = json_stringn_nocheck(text, len);   /* !!str, !!binary, local tags */
        }
    } else if (!plain || (tag && !strcmp(tag, "!"))) {
        v = json_stringn_nocheck(text, len);
    } else {
        v = plain_scalar(text, len);
    }
    if (!v)
        abort();
    if (ev->data.scalar.anchor) {
        /* an anchored key is remembered as its text */
        json_t *an = is_key ? json_stringn_nocheck(text, len) : json_incref(v);
        int ai = add_anchor(b, (const char *)ev->data.scalar.anchor, an);
        json_decref(an);
        b->anchors[ai].done = true;
    }
    /* a key has no NUL: len is its strlen */
    return place(b, v, text, len, plain && !tag, false, &ev->start_mark);
}

static int on_alias(struct builder *b, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    if (b->lim->no_aliases)
        return berr(b, &ev->start_mark, MM_EFORMAT, "aliases (*%.60s) are not accepted here",
                    name);
    const struct anchor *a = find_anchor(b, name);
    if (!a)
        return berr(b, &ev->start_mark, MM_EFORMAT, "unknown anchor \"*%.60s\"", name);
    if (!a->done)
        return berr(b, &ev->start_mark, MM_EFORMAT, "alias \"*%.60s\" refers to a node that "
                    "contains it", name);
    int rc = count_nodes(b, a->size, &ev->start_mark);
    if (rc < 0)
        return rc;
    const char *text = json_is_string(a->node) ? json_string_value(a->node) : NULL;
    return place(b, json_incref(a->node), text, text ? strlen(text) : 0, false, true,
                 &ev->start_mark);
}

void mm_yaml_limits_init(mm_yaml_limits *l)
{
    l->max_depth = 64;
    l->max_nodes = 1000000;
    l->max_docs = 100000;
    l->max_scalar = 0;
    l->scalars = MM_YAML_TYPED;
    l->first_doc_only = false;
    l->no_aliases = false;
    l->dup_last_wins = false;
    l->dup_first_wins = false;
    l->pos_values = false;
    l->pos_no_keys = false;
    l->pos_nulls_only = false;
    l->errtag = NULL;
}

int mm_yaml_parse(const char *data, size_t len, const char *name, const mm_yaml_limits *lim,
                  mm_yaml_posmap *pm, mm_yaml_doc_fn fn, void *ud)
{
    mm_yaml_limits dl;
    mm_yaml_limits_init(&dl);
    if (lim) {
        if (lim->max_depth)
            dl.max_depth = lim->max_depth;
        if (lim->max_nodes)
            dl.max_nodes = lim->max_nodes;
        if (lim->max_docs)
            dl.max_docs = lim->max_docs;
        dl.max_scalar = lim->max_scalar;
        dl.scalars = lim->scalars;
        dl.first_doc_only = lim->first_doc_only;
        dl.no_aliases = lim->no_aliases;
        dl.dup_last_wins = lim->dup_last_wins;
        dl.dup_first_wins = lim->dup_first_wins;
        dl.pos_values = lim->pos_values;
        dl.pos_no_keys = lim->pos_no_keys;
        dl.pos_nulls_only = lim->pos_nulls_only;
        dl.errtag = lim->errtag;
    }
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        abort();
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    struct builder b = {.name = name ? name : "-", .lim = &dl, .pm = pm};
    size_t ndocs = 0;
    int rc = 0;
    bool done = false;
    yaml_mark_t doc_start = {0, 0, 0};
    while (!done && rc == 0) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            yaml_mark_t m = parser.problem_mark;
            if (parser.context)
                rc = berr(&b, &m, MM_EFORMAT, "%s %s", parser.context,
                          parser.problem ? parser.problem : "malformed YAML");
            else
                rc = berr(&b, &m, MM_EFORMAT, "%s", parser.problem ? parser.problem
                                                                  : "malformed YAML");
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++ndocs > dl.max_docs) {
                rc = berr(&b, &ev.start_mark, MM_ELIMIT, "more than %zu documents", dl.max_docs);
                break;
            }
            b.count = 0;
            b.root = NULL;
            b.root_started = false;
            b.root_line = (int)ev.start_mark.line + 1;
            doc_start = ev.start_mark;
            break;
        case YAML_DOCUMENT_END_EVENT: {
            json_t *root = b.root ? b.root : json_null();
            b.root = NULL;
            anchors_clear(&b);
            if (dl.pos_nulls_only)
                scache_clear(&b);
            rc = fn(ud, root, b.root_line);
            (void)doc_start;
            if (dl.first_doc_only)
                done = true;
            break;
        }
        case YAML_MAPPING_START_EVENT:
            rc = open_node(&b, true, (const char *)ev.data.mapping_start.anchor, &ev.start_mark);
            if (rc == 0 && b.depth == 1) {
                b.root_line = (int)ev.start_mark.line + 1;
                b.root_started = true;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            rc = open_node(&b, false, (const char *)ev.data.sequence_start.anchor,
                           &ev.start_mark);
            if (rc == 0 && b.depth == 1) {
                b.root_line = (int)ev.start_mark.line + 1;
                b.root_started = true;
            }
            break;
        case YAML_MAPPING_END_EVENT:
        case YAML_SEQUENCE_END_EVENT: {
            yaml_mark_t m = ev.start_mark;
            rc = close_node(&b, &m, &ev.end_mark);
            break;
        }
        case YAML_SCALAR_EVENT:
            rc = on_scalar(&b, &ev);
            break;
        case YAML_ALIAS_EVENT:
            rc = on_alias(&b, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    frames_clear(&b);
    json_decref(b.root);
    anchors_clear(&b);
    scache_clear(&b);
    free(b.st);
    free(b.ks);
    yaml_parser_delete(&parser);
    return rc;
}

struct one_ctx {
    json_t *doc;
    size_t n;
};

static int take_one(void *ud, json_t *doc, int line)
{
    struct one_ctx *c = ud;
    if (c->n++ == 0) {
        c->doc = doc;
    } else {
        json_decref(doc);
    }
    return 0;
}

int mm_yaml_load_one(struct json_t **out, const char *data, size_t len, const char *name,
                     const mm_yaml_limits *lim, mm_yaml_posmap *pm)
{
    *out = NULL;
    struct one_ctx c = {NULL, 0};
    int rc = mm_yaml_parse(data, len, name, lim, pm, take_one, &c);
    if (rc < 0) {
        json_decref(c.doc);
        return rc;
    }
    if (c.n > 1) {
        json_decref(c.doc);
        return mm_error_set(MM_EFORMAT, "%s: holds %zu YAML documents; one was expected",
                            name ? name : "-", c.n);
    }
    *out = c.doc ? c.doc : json_null();
    return 0;
}
