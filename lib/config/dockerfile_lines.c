/*
 * config/dockerfile_lines.c - the line level of the Dockerfile parser:
 * parser directives at the top, ignore and shell pragmas in comments,
 * continuation lines, heredoc bodies, the JSON (exec) form, and the RUN
 * script with the file's line structure kept (for ShellCheck's line
 * numbers).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "config/dockerfile_int.h"

/* Is w a rule name a pragma may give: MM-DF-nnn, DLnnnn, SCnnnn? */
static bool pragma_name_ok(const char *w)
{
    const char *d = NULL;
    if (!strncmp(w, "DL", 2) || !strncmp(w, "SC", 2))
        d = w + 2;
    else if (!strncmp(w, "MM-DF-", 6))
        d = w + 6;
    if (!d || !*d)
        return false;
    for (; *d; d++)
        if (!isdigit((unsigned char)*d))
            return false;
    return true;
}

static void bad_pragma(parser *p, int line, const char *name)
{
    mm_dockerfile *df = p->df;
    if (df->nbad_pragmas >= 256)
        return;
    df->bad_pragma_lines = mm_xrealloc(df->bad_pragma_lines,
                                       (df->nbad_pragmas + 1) * sizeof *df->bad_pragma_lines);
    df->bad_pragma_lines[df->nbad_pragmas] = line;
    mm_strv_push(&df->bad_pragmas, &df->nbad_pragmas, name);
}

/* "# mamori ignore=A,B", "# hadolint ignore=DL3008, SC2086 # why",
 * "# hadolint global ignore = DL3003", "# hadolint shell=powershell".
 * hadolint's own grammar: white space around '=' and ',', a comment after
 * the list.  A hadolint pragma naming something that is no rule id is void
 * (as hadolint treats it) and each bad name is reported; mamori's keeps its
 * good names and reports the bad ones. */
void dfp_parse_pragma(parser *p, const char *s, size_t n, int line)
{
    char *t = mm_xstrndup(s, n);
    char *c = t;
    while (*c == ' ' || *c == '\t')
        c++;
    c++; /* '#' */
    while (*c == ' ' || *c == '\t')
        c++;
    bool hadolint = false;
    if (!strncmp(c, "mamori", 6)) {
        c += 6;
    } else if (!strncmp(c, "hadolint", 8)) {
        c += 8;
        hadolint = true;
    } else {
        free(t);
        return;
    }
    if (*c != ' ' && *c != '\t') {
        free(t);
        return;
    }
    while (*c == ' ' || *c == '\t')
        c++;
    if (!strncmp(c, "shell", 5)) {
        char *q = c + 5;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q == '=') {
            q++;
            while (*q == ' ' || *q == '\t')
                q++;
            size_t l = strcspn(q, " \t#\r");
            if (l) {
                free(p->df->shell_pragma);
                p->df->shell_pragma = mm_xstrndup(q, l);
            }
        }
        free(t);
        return;
    }
    bool global = false;
    if (!strncmp(c, "global", 6) && (c[6] == ' ' || c[6] == '\t')) {
        global = true;
        c += 6;
        while (*c == ' ' || *c == '\t')
            c++;
    }
    if (strncmp(c, "ignore", 6) != 0) {
        free(t);
        return;
    }
    c += 6;
    while (*c == ' ' || *c == '\t')
        c++;
    if (*c != '=') {
        free(t);
        return;
    }
    c++;
    char *hash = strchr(c, '#');
    if (hash)
        *hash = 0;
    char **names = NULL;
    size_t nnames = 0;
    bool bad = false;
    char *save = NULL;
    for (char *tok = strtok_r(c, ", \t\r", &save); tok; tok = strtok_r(NULL, ", \t\r", &save)) {
        if (!pragma_name_ok(tok)) {
            bad_pragma(p, line, tok);
            bad = true;
            continue;
        }
        if (nnames < 256)
            mm_strv_push(&names, &nnames, tok);
    }
    if (!(bad && hadolint)) {
        for (size_t i = 0; i < nnames; i++) {
            if (global) {
                if (p->df->nglobal_ignore < 256)
                    mm_strv_push(&p->df->global_ignore, &p->df->nglobal_ignore, names[i]);
            } else if (p->npend < 256) {
                mm_strv_push(&p->pend, &p->npend, names[i]);
            }
        }
    }
    mm_strv_free(names, nnames);
    free(t);
}

/* Parser directives at the very top: "# key=value". */
int dfp_directives(parser *p)
{
    bool seen_escape = false, seen_syntax = false;
    while (p->i < p->nlines) {
        const char *s = p->lines[p->i].s;
        size_t n = p->lines[p->i].n, k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k >= n || s[k] != '#')
            return 0;
        k++;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        size_t ks = k;
        while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_'))
            k++;
        size_t ke = k;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (ke == ks || k >= n || s[k] != '=')
            return 0; /* an ordinary comment ends the directives */
        k++;
        while (k < n && (s[k] == ' ' || s[k] == '\t'))
            k++;
        size_t ve = n;
        while (ve > k && isspace((unsigned char)s[ve - 1]))
            ve--;
        char *key = mm_xstrndup(s + ks, ke - ks);
        char *val = mm_xstrndup(s + k, ve - k);
        int rc = 0;
        int line = (int)p->i + 1;
        if (!strcasecmp(key, "escape")) {
            if (seen_escape)
                rc = dfp_perr(p, line, "only one escape parser directive can be used");
            else if (strcmp(val, "\\") && strcmp(val, "`"))
                rc = dfp_perr(p, line, "invalid escape token '%s': it must be \\ or `", val);
            else
                p->esc = val[0];
            seen_escape = true;
        } else if (!strcasecmp(key, "syntax")) {
            if (seen_syntax)
                rc = dfp_perr(p, line, "only one syntax parser directive can be used");
            free(p->df->syntax);
            p->df->syntax = mm_xstrdup(val);
            seen_syntax = true;
        } else if (strcasecmp(key, "check") != 0) {
            /* an unknown directive is an ordinary comment: stop */
            free(key);
            free(val);
            return 0;
        }
        free(key);
        free(val);
        if (rc < 0)
            return rc;
        p->i++;
    }
    return 0;
}

/* Does the physical line end in the escape character (white space after
 * it allowed)?  Sets *cut to the length without it. */
bool dfp_continues(const char *s, size_t n, char esc, size_t *cut)
{
    size_t e = n;
    while (e > 0 && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
        e--;
    if (e > 0 && s[e - 1] == esc) {
        *cut = e - 1;
        return true;
    }
    return false;
}

int dfp_read_heredocs(parser *p, mm_df_instr *in, const char *args, size_t alen)
{
    rword w[256];
    size_t nw = dfp_raw_words(args, alen, '\\', w, 256);
    for (size_t k = 0; k < nw; k++) {
        const char *ws = args + w[k].start;
        size_t wl = w[k].end - w[k].start, j = 0;
        while (j < wl && isdigit((unsigned char)ws[j]))
            j++;
        if (j + 2 > wl || ws[j] != '<' || ws[j + 1] != '<')
            continue;
        j += 2;
        bool strip = false;
        if (j < wl && ws[j] == '-') {
            strip = true;
            j++;
        }
        if (j >= wl || memchr(ws + j, '<', wl - j))
            continue; /* "<<<" here-strings, "<<" alone */
        const char *nm = ws + j;
        size_t nl = wl - j;
        bool quoted = false;
        char *name;
        if (nl >= 2 && (nm[0] == '"' || nm[0] == '\'') && nm[nl - 1] == nm[0]) {
            quoted = true;
            name = mm_xstrndup(nm + 1, nl - 2);
        } else {
            if (memchr(nm, '"', nl) || memchr(nm, '\'', nl) || memchr(nm, '\\', nl))
                quoted = true;
            mm_buf b = MM_BUF_INIT;
            for (size_t q = 0; q < nl; q++)
                if (nm[q] != '"' && nm[q] != '\'' && nm[q] != '\\')
                    mm_buf_addc(&b, nm[q]);
            name = mm_buf_detach(&b);
        }
        if (!*name) {
            free(name);
            continue;
        }
        if (in->nheredocs >= MM_DF_MAX_HEREDOCS) {
            free(name);
            return mm_error_set(MM_ELIMIT, "%s:%d: more than %d heredocs in one instruction",
                                p->path, in->line, MM_DF_MAX_HEREDOCS);
        }
        in->heredocs = mm_xrealloc(in->heredocs, (in->nheredocs + 1) * sizeof *in->heredocs);
        mm_df_heredoc *h = &in->heredocs[in->nheredocs++];
        memset(h, 0, sizeof *h);
        h->name = name;
        h->expand = !quoted;
        h->strip_tabs = strip;
        h->line = (int)p->i + 1;
        mm_buf body = MM_BUF_INIT;
        bool done = false;
        while (p->i < p->nlines) {
            const char *s = p->lines[p->i].s;
            size_t n = p->lines[p->i].n;
            p->i++;
            if (n && s[n - 1] == '\r')
                n--;
            size_t off = 0;
            if (strip)
                while (off < n && s[off] == '\t')
                    off++;
            if (n - off == strlen(name) && memcmp(s + off, name, n - off) == 0) {
                done = true;
                break;
            }
            mm_buf_add(&body, s + off, n - off);
            mm_buf_addc(&body, '\n');
        }
        h->body = mm_buf_detach(&body);
        if (!done)
            return dfp_perr(p, in->line, "%s: unterminated heredoc <<%s (no line \"%s\" "
                        "before the end of the file)", in->keyword, name, name);
        in->end_line = (int)p->i;
    }
    return 0;
}

/* Parses a JSON array of strings; false when s is not one. */
bool dfp_json_form(const char *s, char ***argv, size_t *n)
{
    json_error_t err;
    json_t *j = json_loads(s, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
    if (!j || !json_is_array(j)) {
        json_decref(j);
        return false;
    }
    size_t i;
    json_t *v;
    json_array_foreach(j, i, v) {
        if (!json_is_string(v)) {
            json_decref(j);
            mm_strv_free(*argv, *n);
            *argv = NULL;
            *n = 0;
            return false;
        }
        mm_strv_push(argv, n, json_string_value(v));
    }
    json_decref(j);
    return true;
}

/* Does the text try to be a JSON array: "[" then a quote? */
bool dfp_looks_json(const char *s)
{
    if (*s != '[')
        return false;
    s++;
    while (*s == ' ' || *s == '\t')
        s++;
    return *s == '"' || *s == '\'' || *s == ']';
}


/* A physical line's share of an instruction's joined text. */

/* The shell script of a RUN with the file's line structure: line k of the
 * script is line script_line + k - 1 of the Dockerfile.  The keyword and
 * flags become spaces (columns stay), continued lines keep their
 * backslash-newline, and comment or blank lines inside a continuation
 * (which BuildKit drops) become a lone backslash so that the shell joins
 * across them as BuildKit does. */
void dfp_make_script(parser *p, mm_df_instr *in, const piece *pc, size_t npc,
                        size_t first_line)
{
    if (in->exec_form) {
        if (in->nargv >= 3) {
            const char *nm = strrchr(in->argv[0], '/');
            nm = nm ? nm + 1 : in->argv[0];
            if ((!strcmp(nm, "sh") || !strcmp(nm, "bash") || !strcmp(nm, "dash") ||
                 !strcmp(nm, "ash")) && !strcmp(in->argv[1], "-c")) {
                in->script = mm_xstrdup(in->argv[2]);
                in->script_line = in->line;
            }
        }
        return;
    }
    if (in->nheredocs) {
        const char *cmd = in->args ? in->args : "";
        while (*cmd == ' ' || *cmd == '\t')
            cmd++;
        if (!strncmp(cmd, "<<", 2) && in->heredocs[0].body) {
            in->script = mm_xstrdup(in->heredocs[0].body);
            in->script_line = in->heredocs[0].line;
        }
        return;
    }
    if (p->esc != '\\' || !npc)
        return;
    mm_buf b = MM_BUF_INIT;
    size_t next_line = first_line;
    for (size_t k = 0; k < npc; k++) {
        for (; next_line < pc[k].line; next_line++)
            mm_buf_adds(&b, "\\\n");
        const char *ls = p->lines[pc[k].line].s;
        /* the piece starts at the line's first byte */
        for (size_t j = 0; j < pc[k].len; j++) {
            size_t joff = pc[k].off + j;
            mm_buf_addc(&b, joff < p->args_off ? ' ' : ls[j]);
        }
        if (k + 1 < npc)
            mm_buf_adds(&b, "\\\n");
        next_line = pc[k].line + 1;
    }
    mm_buf_addc(&b, '\n');
    in->script = mm_buf_detach(&b);
    in->script_line = (int)first_line + 1;
}

