/*
 * config/dockerfile.c - the Dockerfile parser: physical lines to
 * instructions, the way the BuildKit front-end reads them.
 *
 * Order of work per instruction: parser directives (only at the very top),
 * comment and blank lines skipped (also between continued lines, as
 * BuildKit does), continuation with the escape character, heredoc bodies
 * read after the instruction's last line, then flags, exec (JSON) or shell
 * form, and for the instructions BuildKit expands (ADD COPY ENV EXPOSE
 * FROM LABEL STOPSIGNAL USER VOLUME WORKDIR ARG) quote removal and
 * variable substitution against the scope of the stage.  RUN, CMD and
 * ENTRYPOINT keep their text: their shell expands them at build/run time.
 *
 * The word level (substitution) is dockerfile_words.c, the line level
 * (directives, pragmas, heredocs, RUN scripts) dockerfile_lines.c.
 *
 * Everything comes from an untrusted file: every size is capped (file,
 * instructions, heredocs, expansion) and every index is checked.
 *
 * Length: the instruction level of the parser; the word and line levels are
 * already dockerfile_words.c and dockerfile_lines.c, and what is left is one
 * state machine over the instructions.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/config_int.h"
#include "config/dockerfile_int.h"

const char dfp_novalue = 0;

void dfp_free_val(void *v)
{
    if (v != NOVALUE)
        free(v);
}

int dfp_perr(parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    int rc = mm_error_set(MM_EFORMAT, "%s:%d: %s", p->path, line, m);
    free(m);
    return rc;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

static bool comment_line(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i < n && s[i] == '#';
}

/* --- instructions ---------------------------------------------------------- */
static const char *const keywords[] = {
    "FROM", "RUN", "CMD", "LABEL", "MAINTAINER", "EXPOSE", "ENV", "ADD",
    "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD",
    "STOPSIGNAL", "HEALTHCHECK", "SHELL",
};

static bool known_keyword(const char *k)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (!strcmp(k, keywords[i]))
            return true;
    return false;
}

static bool expands(const char *k)
{
    static const char *const e[] = {"ADD", "COPY", "ENV", "EXPOSE", "FROM", "LABEL",
                                    "STOPSIGNAL", "USER", "VOLUME", "WORKDIR", "ARG"};
    for (size_t i = 0; i < sizeof e / sizeof e[0]; i++)
        if (!strcmp(k, e[i]))
            return true;
    return false;
}

static bool is_cmdlike(const char *k)
{
    return !strcmp(k, "RUN") || !strcmp(k, "CMD") || !strcmp(k, "ENTRYPOINT") ||
           !strcmp(k, "SHELL") || !strcmp(k, "HEALTHCHECK");
}

static void instr_free(mm_df_instr *in)
{
    free(in->keyword);
    free(in->original);
    free(in->args);
    mm_strv_free(in->flags, in->nflags);
    mm_strv_free(in->argv, in->nargv);
    for (size_t i = 0; i < in->nkv; i++) {
        free(in->kv[i].key);
        free(in->kv[i].value);
        free(in->kv[i].raw_key);
        free(in->kv[i].raw_value);
    }
    free(in->kv);
    for (size_t i = 0; i < in->nheredocs; i++) {
        free(in->heredocs[i].name);
        free(in->heredocs[i].body);
    }
    free(in->heredocs);
    mm_strv_free(in->ignore, in->nignore);
    mm_strv_free(in->raw, in->nraw);
    mm_strv_free(in->rawflags, in->nrawflags);
    if (in->onbuild) {
        instr_free(in->onbuild);
        free(in->onbuild);
    }
    free(in->script);
}

void mm_dockerfile_free(mm_dockerfile *df)
{
    if (!df)
        return;
    for (size_t i = 0; i < df->ninstrs; i++)
        instr_free(&df->instrs[i]);
    free(df->instrs);
    for (size_t i = 0; i < df->nstages; i++) {
        free(df->stages[i].name);
        free(df->stages[i].image);
    }
    free(df->stages);
    mm_strv_free(df->global_ignore, df->nglobal_ignore);
    mm_strv_free(df->bad_pragmas, df->nbad_pragmas);
    free(df->bad_pragma_lines);
    free(df->shell_pragma);
    free(df->path);
    free(df->syntax);
    free(df);
}

static int kv_add(mm_df_instr *in, const char *k, const char *v, bool has)
{
    if (in->nkv >= 4096)
        return 0;
    in->kv = mm_xrealloc(in->kv, (in->nkv + 1) * sizeof *in->kv);
    mm_df_kv *e = &in->kv[in->nkv++];
    memset(e, 0, sizeof *e);
    e->key = mm_xstrdup(k);
    e->value = has ? mm_xstrdup(v) : NULL;
    e->has_value = has;
    return 0;
}

/* The raw key/value pairs of ENV, ARG and LABEL, from the raw words: the
 * first '=' outside quotes splits; the legacy "KEY value ..." form is one
 * pair.  Pairs are matched to the parsed ones by position. */
static const char *eq_outside_quotes(const char *w)
{
    char q = 0;
    for (const char *c = w; *c; c++) {
        if (q) {
            if (*c == q)
                q = 0;
        } else if (*c == '"' || *c == '\'') {
            q = *c;
        } else if (*c == '=') {
            return c;
        }
    }
    return NULL;
}

static void kv_raw(mm_df_instr *in)
{
    if (!in->nraw)
        return;
    const char *w0 = in->raw[0];
    bool legacy = eq_outside_quotes(w0) == NULL;
    if (!strcmp(in->keyword, "ARG"))
        legacy = false;
    if (legacy) {
        if (in->nkv) {
            in->kv[0].raw_key = mm_xstrdup(w0);
            mm_buf b = MM_BUF_INIT;
            for (size_t i = 1; i < in->nraw; i++) {
                if (i > 1)
                    mm_buf_addc(&b, ' ');
                mm_buf_adds(&b, in->raw[i]);
            }
            in->kv[0].raw_value = mm_buf_detach(&b);
        }
        return;
    }
    for (size_t i = 0; i < in->nraw && i < in->nkv; i++) {
        const char *w = in->raw[i];
        const char *eq = eq_outside_quotes(w);
        in->kv[i].raw_key = eq ? mm_xstrndup(w, (size_t)(eq - w)) : mm_xstrdup(w);
        in->kv[i].raw_value = eq ? mm_xstrdup(eq + 1) : NULL;
    }
}

static bool valid_name(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

/* ENV / LABEL: "k=v k2=v2" or the legacy "k value with spaces". */
static int parse_kv(parser *p, mm_df_instr *in, const char *a)
{
    const char *s = a;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t fl = strcspn(s, " \t");
    bool legacy = !memchr(s, '=', fl);
    if (legacy) {
        if (!*s)
            return dfp_perr(p, in->line, "%s needs at least one argument", in->keyword);
        char *key = mm_xstrndup(s, fl);
        const char *rest = s + fl;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (!*rest) {
            free(key);
            return dfp_perr(p, in->line, "%s %s: missing a value (the form is NAME=VALUE)",
                        in->keyword, s);
        }
        char *val;
        int rc = dfp_expand_one(p, in->line, rest, &val, &in->unresolved);
        if (rc < 0) {
            free(key);
            return rc;
        }
        kv_add(in, key, val, true);
        mm_strv_push(&in->argv, &in->nargv, key);
        mm_strv_push(&in->argv, &in->nargv, val);
        free(key);
        free(val);
        return 0;
    }
    char **w = NULL;
    size_t nw = 0;
    int rc = dfp_expand_words(p, in->line, false, s, &w, &nw, &in->unresolved);
    if (rc < 0) {
        mm_strv_free(w, nw);
        return rc;
    }
    for (size_t i = 0; i < nw; i++) {
        char *eq = strchr(w[i], '=');
        if (!eq) {
            rc = dfp_perr(p, in->line, "%s: can't find = in \"%s\": the form is NAME=VALUE",
                      in->keyword, w[i]);
            break;
        }
        *eq = 0;
        if (!*w[i]) {
            rc = dfp_perr(p, in->line, "%s: a NAME=VALUE pair has an empty name", in->keyword);
            break;
        }
        kv_add(in, w[i], eq + 1, true);
        *eq = '=';
    }
    in->argv = w;
    in->nargv = nw;
    return rc;
}

/* Quote removal for the names of ENV / LABEL keys has to happen before the
 * substitution of values, but BuildKit processes the whole word at once;
 * the simple way here matches it for every practical input. */

static int apply_scope(parser *p, mm_df_instr *in)
{
    if (!strcmp(in->keyword, "ENV") && p->env) {
        for (size_t i = 0; i < in->nkv; i++) {
            if (mm_map_count(p->env) >= 10000)
                break;
            dfp_free_val(mm_map_put(p->env, in->kv[i].key, mm_xstrdup(in->kv[i].value)));
        }
    }
    return 0;
}

static int parse_arg(parser *p, mm_df_instr *in, const char *a)
{
    char **w = NULL;
    size_t nw = 0;
    int rc = dfp_expand_words(p, in->line, p->df->nstages == 0, a, &w, &nw, &in->unresolved);
    if (rc < 0) {
        mm_strv_free(w, nw);
        return rc;
    }
    if (!nw) {
        mm_strv_free(w, nw);
        return dfp_perr(p, in->line, "ARG needs a name");
    }
    for (size_t i = 0; i < nw; i++) {
        char *eq = strchr(w[i], '=');
        if (eq)
            *eq = 0;
        if (!valid_name(w[i])) {
            rc = dfp_perr(p, in->line, "ARG: invalid name \"%s\"", w[i]);
            break;
        }
        const char *val = eq ? eq + 1 : NULL;
        kv_add(in, w[i], val, eq != NULL);
        mm_map *m = p->df->nstages == 0 ? p->globals : p->args;
        if (p->depth == 0 && mm_map_count(m) < 10000) {
            void *v;
            if (val)
                v = mm_xstrdup(val);
            else if (p->df->nstages && (v = mm_map_get(p->globals, w[i])) && v != NOVALUE)
                v = mm_xstrdup(v); /* ARG NAME re-imports the global default */
            else
                v = NOVALUE;
            dfp_free_val(mm_map_put(m, w[i], v));
        }
        if (eq)
            *eq = '=';
    }
    in->argv = w;
    in->nargv = nw;
    return rc;
}

static void env_copy(mm_map *dst, const mm_map *src)
{
    size_t it = 0;
    const char *k;
    void *v;
    while (src && mm_map_next(src, &it, &k, &v))
        dfp_free_val(mm_map_put(dst, k, v == NOVALUE ? NOVALUE : mm_xstrdup(v)));
}

static int parse_from(parser *p, mm_df_instr *in, const char *a)
{
    /* word by word: "FROM $BASE" with BASE unset keeps the reference as
     * written (unresolved) instead of vanishing */
    rword rw[8];
    size_t nrw = dfp_raw_words(a, strlen(a), p->esc, rw, 8);
    char **w = NULL;
    size_t nw = 0;
    bool unres = false;
    for (size_t k = 0; k < nrw; k++) {
        char *word = mm_xstrndup(a + rw[k].start, rw[k].end - rw[k].start);
        char *e = NULL;
        bool u = false;
        scope sc = {p, true, false, in->line, 0};
        size_t pos = 0;
        mm_buf b = MM_BUF_INIT;
        int rc = dfp_process(&sc, word, strlen(word), &pos, false, 0, NULL, NULL, &b);
        if (rc < 0) {
            mm_buf_free(&b);
            free(word);
            mm_strv_free(w, nw);
            return rc;
        }
        u = sc.unresolved;
        e = mm_buf_detach(&b);
        if (u && k == 0)
            unres = true;
        mm_strv_push(&w, &nw, (u && !*e) ? word : e);
        free(e);
        free(word);
    }
    in->argv = w;
    in->nargv = nw;
    in->unresolved = unres;
    if (nw != 1 && !(nw == 3 && !strcasecmp(w[1], "AS")))
        return dfp_perr(p, in->line, "FROM: expected \"FROM [--platform=P] IMAGE [AS NAME]\", got "
                    "%zu words", nw);
    if (p->df->nstages >= 1000)
        return mm_error_set(MM_ELIMIT, "%s:%d: more than 1000 build stages", p->path, in->line);
    if (nw == 3) {
        for (char *c = w[2]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        if (!valid_name(w[2]))
            return dfp_perr(p, in->line, "FROM: invalid stage name \"%s\"", w[2]);
    }
    p->df->stages = mm_xrealloc(p->df->stages, (p->df->nstages + 1) * sizeof *p->df->stages);
    p->stage_env = mm_xrealloc(p->stage_env, (p->df->nstages + 1) * sizeof *p->stage_env);
    mm_df_stage *st = &p->df->stages[p->df->nstages];
    memset(st, 0, sizeof *st);
    st->image = mm_xstrdup(w[0]);
    st->image_unresolved = unres;
    st->line = in->line;
    st->parent = -1;
    st->first = st->last = p->df->ninstrs - 1;
    if (nw == 3)
        st->name = mm_xstrdup(w[2]);
    /* a stage reference: the latest earlier stage of that name (a repeated
     * name is reported by the linter, DL3024, as BuildKit refuses it) */
    for (size_t i = p->df->nstages; i-- > 0;) {
        const char *nm = p->df->stages[i].name;
        if (nm && !strcasecmp(nm, w[0])) {
            st->parent = (int)i;
            break;
        }
    }
    /* a new scope: ENV inherited from a parent stage, ARGs start empty */
    mm_map *env = mm_map_new();
    if (st->parent >= 0)
        env_copy(env, p->stage_env[st->parent]);
    p->stage_env[p->df->nstages] = env;
    p->env = env;
    if (p->args)
        mm_map_free(p->args, dfp_free_val);
    p->args = mm_map_new();
    p->df->nstages++;
    return 0;
}

/* Splits off leading "--flag[=value]" words; returns the rest's offset. */
static size_t split_flags(parser *p, mm_df_instr *in, const char *a, size_t n,
                          char ***raw, size_t *nraw)
{
    rword w[64];
    size_t nw = dfp_raw_words(a, n, p->esc, w, 64);
    size_t off = 0;
    for (size_t k = 0; k < nw; k++) {
        if (w[k].end - w[k].start < 3 || a[w[k].start] != '-' || a[w[k].start + 1] != '-')
            break;
        char *f = mm_xstrndup(a + w[k].start, w[k].end - w[k].start);
        mm_strv_push(raw, nraw, f);
        free(f);
        off = w[k].end;
    }
    while (off < n && isspace((unsigned char)a[off]))
        off++;
    (void)in;
    return off;
}

static int parse_instr(parser *p, mm_df_instr *in, const char *text)
{
    /* keyword */
    const char *s = text;
    while (*s == ' ' || *s == '\t')
        s++;
    size_t kl = 0;
    while (s[kl] && !isspace((unsigned char)s[kl]))
        kl++;
    char *kw = mm_xstrndup(s, kl);
    for (char *c = kw; *c; c++)
        *c = (char)toupper((unsigned char)*c);
    in->keyword = kw;
    const char *a = s + kl;
    if (!known_keyword(kw)) {
        /* hadolint's parser refuses the file (DL1000); BuildKit too.  We
         * keep the rest of the file linted and report it (MM-DF-031). */
        in->unknown = true;
        while (*a == ' ' || *a == '\t')
            a++;
        in->original = mm_xasprintf("%s %s", kw, a);
        in->stage = (int)p->df->nstages - 1;
        return 0;
    }
    while (*a == ' ' || *a == '\t')
        a++;
    size_t alen = strlen(a);
    while (alen && isspace((unsigned char)a[alen - 1]))
        alen--;
    in->original = mm_xasprintf("%s %.*s", kw, (int)alen, a);

    /* only ARG may come before the first FROM: BuildKit refuses anything
     * else; hadolint lints it (DL3061) and so do we */
    if (p->df->nstages == 0 && strcmp(kw, "FROM") && strcmp(kw, "ARG"))
        in->before_from = true;
    in->stage = (int)p->df->nstages - 1;

    /* heredocs: RUN, COPY, ADD in shell form */
    if ((!strcmp(kw, "RUN") || !strcmp(kw, "COPY") || !strcmp(kw, "ADD")) &&
        !dfp_looks_json(a)) {
        int rc = dfp_read_heredocs(p, in, a, alen);
        if (rc < 0)
            return rc;
    }

    char **rawflags = NULL;
    size_t nrawflags = 0;
    size_t off = 0;
    if (strcmp(kw, "ENV") && strcmp(kw, "ARG") && strcmp(kw, "LABEL") &&
        strcmp(kw, "MAINTAINER") && strcmp(kw, "ONBUILD"))
        off = split_flags(p, in, a, alen, &rawflags, &nrawflags);
    in->args = mm_xstrndup(a + off, alen - off);
    p->args_off = (size_t)((a + off) - text);
    for (size_t i = 0; i < nrawflags; i++)
        mm_strv_push(&in->rawflags, &in->nrawflags, rawflags[i]);
    {
        rword rw[256];
        size_t nrw = dfp_raw_words(in->args, strlen(in->args), p->esc, rw, 256);
        for (size_t k = 0; k < nrw; k++) {
            char *w = mm_xstrndup(in->args + rw[k].start, rw[k].end - rw[k].start);
            mm_strv_push(&in->raw, &in->nraw, w);
            free(w);
        }
    }
    const char *rest = in->args;
    int rc = 0;
    /* flags: expanded where the instruction expands */
    for (size_t i = 0; i < nrawflags; i++) {
        if (expands(kw)) {
            char *e = NULL;
            rc = dfp_expand_one(p, in->line, rawflags[i], &e, NULL);
            if (rc < 0)
                break;
            mm_strv_push(&in->flags, &in->nflags, e);
            free(e);
        } else {
            mm_strv_push(&in->flags, &in->nflags, rawflags[i]);
        }
    }
    mm_strv_free(rawflags, nrawflags);
    if (rc < 0)
        return rc;

    if (!strcmp(kw, "FROM")) {
        rc = parse_from(p, in, rest);
        in->stage = (int)p->df->nstages - 1; /* the stage it opens */
        return rc;
    }
    if (!strcmp(kw, "ARG")) {
        rc = parse_arg(p, in, rest);
        kv_raw(in);
        return rc;
    }
    if (!strcmp(kw, "ENV") || !strcmp(kw, "LABEL")) {
        rc = parse_kv(p, in, rest);
        kv_raw(in);
        if (rc == 0 && p->depth == 0)
            apply_scope(p, in);
        return rc;
    }
    if (!strcmp(kw, "HEALTHCHECK")) {
        /* HEALTHCHECK [flags] NONE | CMD command */
        size_t wl = strcspn(rest, " \t");
        if (wl == 4 && !strncasecmp(rest, "NONE", 4)) {
            if (rest[4])
                return dfp_perr(p, in->line, "HEALTHCHECK NONE takes no arguments");
            mm_strv_push(&in->argv, &in->nargv, "NONE");
            return 0;
        }
        if (wl != 3 || strncasecmp(rest, "CMD", 3))
            return dfp_perr(p, in->line, "HEALTHCHECK: expected NONE or CMD, got \"%.*s\"",
                        (int)(wl > 40 ? 40 : wl), rest);
        rest += 3;
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (!*rest)
            return dfp_perr(p, in->line, "HEALTHCHECK CMD needs a command");
    }
    if (is_cmdlike(kw) || !strcmp(kw, "COPY") || !strcmp(kw, "ADD") ||
        !strcmp(kw, "VOLUME")) {
        if (dfp_looks_json(rest)) {
            if (!dfp_json_form(rest, &in->argv, &in->nargv))
                return dfp_perr(p, in->line, "%s: malformed JSON array (exec form) %s: use "
                            "double quotes and commas, e.g. [\"executable\", \"arg\"]",
                            kw, rest);
            in->exec_form = true;
            if (!strcmp(kw, "SHELL") && in->nargv == 0)
                return dfp_perr(p, in->line, "SHELL needs at least one element");
            return 0;
        }
        if (!strcmp(kw, "SHELL"))
            return dfp_perr(p, in->line, "SHELL requires the arguments in JSON form, e.g. "
                        "SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"]");
    }
    if (is_cmdlike(kw)) {
        if (!*rest && !in->nheredocs && strcmp(kw, "CMD") != 0)
            return dfp_perr(p, in->line, "%s needs a command", kw);
        mm_strv_push(&in->argv, &in->nargv, rest);
        return 0;
    }
    if (!strcmp(kw, "ONBUILD")) {
        mm_strv_push(&in->argv, &in->nargv, rest);
        /* the trigger, parsed as an instruction of its own: the linter
         * checks it as hadolint does.  ONBUILD ONBUILD / FROM / MAINTAINER
         * are reported (DL3043), not parsed; a trigger that does not parse
         * is kept as text (BuildKit only reads it in the child build). */
        mm_df_instr *ob = mm_xcalloc(1, sizeof *ob);
        ob->line = in->line;
        ob->end_line = in->end_line;
        ob->stage = in->stage;
        in->onbuild = ob;
        size_t wl = strcspn(rest, " \t");
        char *inner = mm_xstrndup(rest, wl);
        for (char *c = inner; *c; c++)
            *c = (char)toupper((unsigned char)*c);
        if (!strcmp(inner, "ONBUILD") || !strcmp(inner, "FROM") ||
            !strcmp(inner, "MAINTAINER") || !*inner) {
            ob->keyword = inner;
            ob->original = mm_xstrdup(rest);
            ob->args = mm_xstrdup(rest + wl);
            return 0;
        }
        free(inner);
        if (p->depth > 0)
            return 0;
        p->depth++;
        size_t saved_off = p->args_off;
        int orc = parse_instr(p, ob, rest);
        p->depth--;
        p->args_off = saved_off;
        if (orc < 0) {
            /* keep what was parsed; the message is dropped on purpose */
            mm_error_clear();
        } else if (!strcmp(ob->keyword, "RUN") && !ob->exec_form && ob->nargv) {
            ob->script = mm_xasprintf("%s\n", ob->argv[0]);
            ob->script_line = in->line;
        }
        return 0;
    }
    if (!strcmp(kw, "MAINTAINER")) {
        mm_strv_push(&in->argv, &in->nargv, rest);
        return 0;
    }
    /* ADD COPY EXPOSE STOPSIGNAL USER VOLUME WORKDIR */
    rc = dfp_expand_words(p, in->line, false, rest, &in->argv, &in->nargv, &in->unresolved);
    if (rc == MM_EFORMAT) {
        /* a quote BuildKit would not close ("C:\" with the default escape):
         * hadolint reads such words as written, and so do we */
        mm_error_clear();
        mm_strv_free(in->argv, in->nargv);
        in->argv = NULL;
        in->nargv = 0;
        for (size_t i = 0; i < in->nraw; i++) {
            char *u = mm_xstrdup(in->raw[i]);
            size_t ul = strlen(u);
            if (ul >= 2 && (u[0] == '"' || u[0] == '\'') && u[ul - 1] == u[0]) {
                memmove(u, u + 1, ul - 2);
                u[ul - 2] = 0;
            }
            mm_strv_push(&in->argv, &in->nargv, u);
            free(u);
        }
        in->unresolved = true;
        return 0;
    }
    if (rc < 0)
        return rc;
    if (in->unresolved)
        return 0; /* an empty --build-arg may well be filled in at build time */
    if (!in->nargv && !(!strcmp(kw, "COPY") || !strcmp(kw, "ADD")))
        return dfp_perr(p, in->line, "%s needs an argument", kw);
    if ((!strcmp(kw, "COPY") || !strcmp(kw, "ADD")) && in->nargv + in->nheredocs < 2)
        return dfp_perr(p, in->line, "%s needs a source and a destination", kw);
    if ((!strcmp(kw, "USER") || !strcmp(kw, "WORKDIR") || !strcmp(kw, "STOPSIGNAL")) &&
        in->nargv != 1)
        return dfp_perr(p, in->line, "%s takes exactly one argument", kw);
    return 0;
}

static int parse_all(parser *p)
{
    int rc = dfp_directives(p);
    if (rc < 0)
        return rc;
    mm_buf text = MM_BUF_INIT;
    piece pieces[MAX_PIECES];
    size_t npieces = 0;
    while (p->i < p->nlines) {
        const char *s = p->lines[p->i].s;
        size_t n = p->lines[p->i].n;
        if (blank(s, n)) {
            mm_strv_free(p->pend, p->npend);
            p->pend = NULL;
            p->npend = 0;
            p->i++;
            continue;
        }
        if (comment_line(s, n)) {
            dfp_parse_pragma(p, s, n, (int)p->i + 1);
            p->i++;
            continue;
        }
        if (p->df->ninstrs >= MM_DF_MAX_INSTRS) {
            rc = mm_error_set(MM_ELIMIT, "%s:%zu: more than %d instructions", p->path,
                              p->i + 1, MM_DF_MAX_INSTRS);
            break;
        }
        int line = (int)p->i + 1;
        size_t first_line = p->i;
        mm_buf_clear(&text);
        npieces = 0;
        /* continuation lines, skipping comments and blank lines in between */
        for (;;) {
            s = p->lines[p->i].s;
            n = p->lines[p->i].n;
            size_t cut;
            bool cont = dfp_continues(s, n, p->esc, &cut);
            if (!cont && n && s[n - 1] == '\r')
                n--;
            if (npieces < MAX_PIECES) {
                pieces[npieces].line = p->i;
                pieces[npieces].off = text.len;
                pieces[npieces].len = cont ? cut : n;
                npieces++;
            }
            p->i++;
            if (cont) {
                mm_buf_add(&text, s, cut);
                while (p->i < p->nlines &&
                       (comment_line(p->lines[p->i].s, p->lines[p->i].n) ||
                        blank(p->lines[p->i].s, p->lines[p->i].n)))
                    p->i++;
                if (p->i >= p->nlines)
                    break;
                continue;
            }
            mm_buf_add(&text, s, n);
            break;
        }
        p->df->instrs = mm_xrealloc(p->df->instrs, (p->df->ninstrs + 1) * sizeof *p->df->instrs);
        mm_df_instr *in = &p->df->instrs[p->df->ninstrs++];
        memset(in, 0, sizeof *in);
        in->line = line;
        in->end_line = (int)p->i;
        in->ignore = p->pend;
        in->nignore = p->npend;
        p->pend = NULL;
        p->npend = 0;
        p->args_off = 0;
        rc = parse_instr(p, in, text.data ? text.data : "");
        if (rc < 0)
            break;
        if (!strcmp(in->keyword, "RUN"))
            dfp_make_script(p, in, pieces, npieces, first_line);
        if (p->df->nstages)
            p->df->stages[p->df->nstages - 1].last = p->df->ninstrs - 1;
    }
    mm_buf_free(&text);
    return rc;
}

int mm_dockerfile_parse(mm_dockerfile **out, const char *path, const char *data,
                        size_t len)
{
    if (!out || (!data && len))
        return mm_error_set(MM_EINVAL, "dockerfile: no output or data");
    *out = NULL;
    if (!path)
        path = "Dockerfile";
    if (len > MM_DF_MAX_SIZE)
        return mm_error_set(MM_ELIMIT, "%s: %zu bytes, over the %u-byte limit for a "
                            "Dockerfile", path, len, MM_DF_MAX_SIZE);
    parser p;
    memset(&p, 0, sizeof p);
    p.path = path;
    p.esc = '\\';
    p.df = mm_xcalloc(1, sizeof *p.df);
    p.df->path = mm_xstrdup(path);
    p.globals = mm_map_new();
    /* lines; a UTF-8 byte order mark is dropped */
    const char *d = data ? data : "";
    size_t n = len;
    if (n >= 3 && !memcmp(d, "\xef\xbb\xbf", 3)) {
        d += 3;
        n -= 3;
    }
    size_t cap = 0;
    for (size_t i = 0; i < n;) {
        const char *nl = memchr(d + i, '\n', n - i);
        size_t e = nl ? (size_t)(nl - d) : n;
        if (p.nlines == cap) {
            cap = cap ? cap * 2 : 64;
            p.lines = mm_xrealloc(p.lines, cap * sizeof *p.lines);
        }
        p.lines[p.nlines].s = d + i;
        p.lines[p.nlines].n = e - i;
        p.nlines++;
        i = e + 1;
    }
    /* a NUL byte is not text: refuse rather than parse around it */
    int rc = 0;
    const char *z = memchr(d, 0, n);
    if (z) {
        size_t line = 1;
        for (const char *c = d; c < z; c++)
            line += *c == '\n';
        rc = mm_error_set(MM_EFORMAT, "%s:%zu: a NUL byte: not a text file", path, line);
    }
    if (rc == 0)
        rc = parse_all(&p);
    p.df->escape = p.esc;
    free(p.lines);
    mm_map_free(p.globals, dfp_free_val);
    if (p.args)
        mm_map_free(p.args, dfp_free_val);
    for (size_t i = 0; i < p.df->nstages; i++)
        mm_map_free(p.stage_env[i], dfp_free_val);
    free(p.stage_env);
    mm_strv_free(p.pend, p.npend);
    if (rc < 0) {
        mm_dockerfile_free(p.df);
        return rc;
    }
    *out = p.df;
    return 0;
}

int mm_dockerfile_load(mm_dockerfile **out, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, MM_DF_MAX_SIZE, &data, &len);
    if (rc < 0)
        return rc;
    rc = mm_dockerfile_parse(out, path, data, len);
    free(data);
    return rc;
}
