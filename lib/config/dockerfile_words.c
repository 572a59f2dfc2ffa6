/*
 * config/dockerfile_words.c - the word level of the Dockerfile parser:
 * quote removal, the escape character and ARG/ENV substitution ($VAR,
 * ${VAR}, ${VAR:-word} and the other modifiers BuildKit knows) against
 * the scope of the stage, and the splitting of raw words (as written) for
 * flags, heredoc markers and the rules that judge the text.  Every expansion
 * is capped (per word and in all).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/dockerfile_int.h"

/* --- word processing: quotes, escapes, substitution ------------------------ */

static const char *lookup(scope *sc, const char *name, bool *set)
{
    parser *p = sc->p;
    void *v = NULL;
    if (sc->from_line) {
        v = mm_map_get(p->globals, name);
    } else {
        if (p->env)
            v = mm_map_get(p->env, name);
        if (!v && p->args)
            v = mm_map_get(p->args, name);
    }
    *set = v && v != NOVALUE;
    return *set ? v : "";
}

int dfp_process(scope *sc, const char *s, size_t n, size_t *pos, bool split,
                   char stop, char ***words, size_t *nwords, mm_buf *single);

static int grow_check(scope *sc, mm_buf *b)
{
    if (b->len > MM_DF_MAX_EXPANSION)
        return mm_error_set(MM_ELIMIT, "%s:%d: a word expands to more than %u bytes",
                            sc->p->path, sc->line, MM_DF_MAX_EXPANSION);
    return 0;
}

/* Removes a literal prefix/suffix pattern (no glob support). */
static void trim_pattern(mm_buf *out, const char *val, const char *pat, bool prefix)
{
    size_t vl = strlen(val), pl = strlen(pat);
    if (pl <= vl) {
        if (prefix && memcmp(val, pat, pl) == 0) {
            mm_buf_adds(out, val + pl);
            return;
        }
        if (!prefix && memcmp(val + vl - pl, pat, pl) == 0) {
            mm_buf_add(out, val, vl - pl);
            return;
        }
    }
    mm_buf_adds(out, val);
}

/* At s[*pos] == '$'.  Appends the expansion to out. */
static int expand_var(scope *sc, const char *s, size_t n, size_t *pos, mm_buf *out)
{
    size_t i = *pos + 1;
    if (i >= n) {
        mm_buf_addc(out, '$');
        *pos = i;
        return 0;
    }
    if (s[i] == '{') {
        i++;
        size_t ns = i;
        while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_'))
            i++;
        if (i == ns || i >= n)
            return dfp_perr(sc->p, sc->line, "bad substitution: missing '}' or name in \"%.*s\"",
                        (int)(n - *pos > 60 ? 60 : n - *pos), s + *pos);
        char *name = mm_xstrndup(s + ns, i - ns);
        bool set;
        const char *val = lookup(sc, name, &set);
        free(name);
        if (s[i] == '}') {
            if (!set)
                sc->unresolved = true;
            mm_buf_adds(out, val);
            *pos = i + 1;
            return 0;
        }
        /* modifier */
        char mod[3] = {0};
        if (s[i] == ':' && i + 1 < n && strchr("-+?", s[i + 1])) {
            mod[0] = ':';
            mod[1] = s[i + 1];
            i += 2;
        } else if (strchr("-+?#%", s[i])) {
            mod[0] = s[i++];
            if ((mod[0] == '#' || mod[0] == '%') && i < n && s[i] == mod[0])
                i++; /* longest match: same as shortest without globs */
        } else {
            return dfp_perr(sc->p, sc->line, "bad substitution: unsupported modifier '%c' in "
                        "\"%.*s\"", s[i], (int)(n - *pos > 60 ? 60 : n - *pos), s + *pos);
        }
        if (++sc->depth > MAX_NEST)
            return dfp_perr(sc->p, sc->line, "substitutions nested deeper than %d", MAX_NEST);
        mm_buf word = MM_BUF_INIT;
        bool unres_before = sc->unresolved;
        int rc = dfp_process(sc, s, n, &i, false, '}', NULL, NULL, &word);
        sc->depth--;
        if (rc < 0) {
            mm_buf_free(&word);
            return rc;
        }
        if (i >= n || s[i] != '}') {
            mm_buf_free(&word);
            return dfp_perr(sc->p, sc->line, "bad substitution: missing '}'");
        }
        i++;
        const char *w = word.data ? word.data : "";
        bool empty = !set || !*val;
        bool word_unres = sc->unresolved && !unres_before;
        sc->unresolved = unres_before;
        if (!strcmp(mod, ":-") || !strcmp(mod, "-")) {
            bool use_word = mod[0] == ':' ? empty : !set;
            mm_buf_adds(out, use_word ? w : val);
            if (use_word && word_unres)
                sc->unresolved = true;
        } else if (!strcmp(mod, ":+") || !strcmp(mod, "+")) {
            bool use_word = mod[0] == ':' ? !empty : set;
            if (use_word)
                mm_buf_adds(out, w);
            if (use_word && word_unres)
                sc->unresolved = true;
        } else if (!strcmp(mod, ":?") || !strcmp(mod, "?")) {
            bool fail = mod[0] == ':' ? empty : !set;
            if (fail) {
                /* BuildKit fails the build here; for a linter the value is
                 * simply unknown (it comes with --build-arg) */
                sc->unresolved = true;
            }
            mm_buf_adds(out, val);
        } else if (mod[0] == '#' || mod[0] == '%') {
            if (!set)
                sc->unresolved = true;
            trim_pattern(out, val, w, mod[0] == '#');
        }
        mm_buf_free(&word);
        *pos = i;
        return 0;
    }
    if (isalpha((unsigned char)s[i]) || s[i] == '_') {
        size_t ns = i;
        while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '_'))
            i++;
        char *name = mm_xstrndup(s + ns, i - ns);
        bool set;
        const char *val = lookup(sc, name, &set);
        free(name);
        if (!set)
            sc->unresolved = true;
        mm_buf_adds(out, val);
        *pos = i;
        return 0;
    }
    mm_buf_addc(out, '$');
    *pos = i;
    return 0;
}

/* Processes s from *pos: quote removal, escapes and substitution.  With
 * split, words separated by white space go to *words; else everything goes
 * to *single.  stop (non-zero) ends processing at that character outside
 * quotes (for the word of ${x:-word}).  Follows BuildKit's shell lexer. */
int dfp_process(scope *sc, const char *s, size_t n, size_t *pos, bool split,
                   char stop, char ***words, size_t *nwords, mm_buf *single)
{
    char esc = sc->p->esc;
    mm_buf cur = MM_BUF_INIT;
    mm_buf *b = split ? &cur : single;
    bool have = false;
    size_t i = *pos;
    int rc = 0;
    while (i < n) {
        char c = s[i];
        if (stop && c == stop)
            break;
        if (split && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) {
            if (cur.len || have) {
                mm_strv_push(words, nwords, cur.data ? cur.data : "");
                mm_buf_clear(&cur);
                have = false;
            }
            i++;
            continue;
        }
        if (c == esc) {
            if (i + 1 < n) {
                mm_buf_addc(b, s[i + 1]);
                i += 2;
            } else {
                mm_buf_addc(b, c);
                i++;
            }
            have = true;
            continue;
        }
        if (c == '\'') {
            size_t j = i + 1;
            while (j < n && s[j] != '\'')
                j++;
            if (j >= n) {
                rc = dfp_perr(sc->p, sc->line, "unexpected end of statement while looking "
                          "for the matching single quote");
                goto out;
            }
            mm_buf_add(b, s + i + 1, j - i - 1);
            i = j + 1;
            have = true;
            continue;
        }
        if (c == '"') {
            i++;
            for (;;) {
                if (i >= n) {
                    rc = dfp_perr(sc->p, sc->line, "unexpected end of statement while "
                              "looking for the matching double quote");
                    goto out;
                }
                char d = s[i];
                if (d == '"') {
                    i++;
                    break;
                }
                if (d == esc && i + 1 < n &&
                    (s[i + 1] == '"' || s[i + 1] == '$' || s[i + 1] == esc)) {
                    mm_buf_addc(b, s[i + 1]);
                    i += 2;
                } else if (d == '$') {
                    if ((rc = expand_var(sc, s, n, &i, b)) < 0)
                        goto out;
                } else {
                    mm_buf_addc(b, d);
                    i++;
                }
                if ((rc = grow_check(sc, b)) < 0)
                    goto out;
            }
            have = true;
            continue;
        }
        if (c == '$') {
            size_t before = b->len;
            if ((rc = expand_var(sc, s, n, &i, b)) < 0)
                goto out;
            sc->p->total_expanded += b->len - before;
            if (sc->p->total_expanded > MAX_TOTAL_EXPANSION) {
                rc = mm_error_set(MM_ELIMIT, "%s:%d: variables expand to more than %u "
                                  "bytes in all", sc->p->path, sc->line,
                                  MAX_TOTAL_EXPANSION);
                goto out;
            }
        } else {
            mm_buf_addc(b, c);
            i++;
        }
        if ((rc = grow_check(sc, b)) < 0)
            goto out;
    }
    if (split && (cur.len || have))
        mm_strv_push(words, nwords, cur.data ? cur.data : "");
out:
    mm_buf_free(&cur);
    *pos = i;
    return rc;
}

int dfp_expand_words(parser *p, int line, bool from_line, const char *s,
                        char ***words, size_t *nwords, bool *unres)
{
    scope sc = {p, from_line, false, line, 0};
    size_t pos = 0;
    int rc = dfp_process(&sc, s, strlen(s), &pos, true, 0, words, nwords, NULL);
    if (unres && sc.unresolved)
        *unres = true;
    return rc;
}

int dfp_expand_one(parser *p, int line, const char *s, char **out, bool *unres)
{
    scope sc = {p, false, false, line, 0};
    size_t pos = 0;
    mm_buf b = MM_BUF_INIT;
    int rc = dfp_process(&sc, s, strlen(s), &pos, false, 0, NULL, NULL, &b);
    if (rc < 0) {
        mm_buf_free(&b);
        return rc;
    }
    if (unres && sc.unresolved)
        *unres = true;
    *out = mm_buf_detach(&b);
    return 0;
}

/* --- raw word splitting (no expansion) ------------------------------------- */
/* Splits at white space outside quotes, keeping quotes and escapes as
 * written; records where each word starts.  Used for flags and heredoc
 * markers, which must be found before any expansion. */

size_t dfp_raw_words(const char *s, size_t n, char esc, rword *w, size_t max)
{
    size_t k = 0, i = 0;
    while (i < n && k < max) {
        while (i < n && isspace((unsigned char)s[i]))
            i++;
        if (i >= n)
            break;
        size_t st = i;
        char q = 0;
        while (i < n) {
            char c = s[i];
            if (q) {
                if (c == q)
                    q = 0;
                else if (q == '"' && (c == esc || c == '\\') && i + 1 < n)
                    i++;
            } else if (c == '\'' || c == '"') {
                q = c;
            } else if ((c == esc || c == '\\') && i + 1 < n) {
                i++;
            } else if (isspace((unsigned char)c)) {
                break;
            }
            i++;
        }
        w[k].start = st;
        w[k].end = i > n ? n : i;
        k++;
    }
    return k;
}

