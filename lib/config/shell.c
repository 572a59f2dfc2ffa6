/*
 * config/shell.c - just enough of the POSIX shell grammar to lint RUN
 * instructions and image history: words (quotes, backslashes, $(...),
 * `...`, ${...} kept whole), the operators that separate simple commands
 * (&&, ||, ;, &, |, newlines, parentheses), redirections (their targets
 * are not arguments), here-documents inside scripts (their bodies are not
 * commands), comments, and the keywords of compound commands.
 *
 * It never fails: the linter must say something useful about any text, and
 * the text is untrusted (image history), so every loop is bounded by the
 * input length and the counts are capped.
 *
 * Also the credential-name test shared by the linter and the image checks.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "util/util.h"

#define MAX_CMDS 4096
#define MAX_WORDS 4096
#define MAX_DEPTH 4

typedef struct lexer {
    const char *s;
    size_t n, i;
    mm_sh_script *out;
    mm_sh_cmd cur;
    mm_buf word;
    bool have_word;
    bool skip_next_word;     /* the target of a redirection */
    bool heredoc_next_word;  /* the delimiter of a here-document */
    char *pending_heredocs[8];
    bool pending_strip[8];
    size_t npending;
    int depth;
} lexer;

static void sh_parse_depth(mm_sh_script *out, const char *text, int depth);

static bool is_assign(const char *w)
{
    if (!isalpha((unsigned char)*w) && *w != '_')
        return false;
    const char *c = w;
    while (isalnum((unsigned char)*c) || *c == '_')
        c++;
    return *c == '=';
}

static void end_word(lexer *lx)
{
    if (!lx->have_word && !lx->word.len)
        return;
    const char *w = lx->word.data ? lx->word.data : "";
    if (lx->heredoc_next_word) {
        lx->heredoc_next_word = false;
        if (lx->npending < 8) {
            lx->pending_heredocs[lx->npending++] = mm_xstrdup(w);
        }
    } else if (lx->skip_next_word) {
        lx->skip_next_word = false;
    } else if (!lx->cur.argc && is_assign(w) && lx->cur.nassigns < MAX_WORDS) {
        mm_strv_push(&lx->cur.assigns, &lx->cur.nassigns, w);
    } else if (lx->cur.argc < MAX_WORDS) {
        mm_strv_push(&lx->cur.argv, &lx->cur.argc, w);
    }
    mm_buf_clear(&lx->word);
    lx->have_word = false;
}

static const char *const drop_kw[] = {"then", "do", "else", "!", "{", "time", "if",
                                      "while", "until", "elif"};
static const char *const end_kw[] = {"fi", "done", "esac", "}"};

/* Takes off the keywords of compound commands so that argv[0] is the
 * command that runs. */
static void strip_keywords(mm_sh_cmd *c)
{
    for (;;) {
        if (!c->argc)
            return;
        bool hit = false;
        for (size_t k = 0; k < sizeof drop_kw / sizeof drop_kw[0]; k++)
            if (!strcmp(c->argv[0], drop_kw[k]))
                hit = true;
        for (size_t k = 0; k < sizeof end_kw / sizeof end_kw[0]; k++)
            if (!strcmp(c->argv[0], end_kw[k]))
                hit = true;
        if (!hit)
            break;
        free(c->argv[0]);
        memmove(c->argv, c->argv + 1, (c->argc - 1) * sizeof *c->argv);
        c->argc--;
        /* assignments may follow a keyword: "then FOO=1 cmd" */
        while (c->argc && is_assign(c->argv[0])) {
            mm_strv_push(&c->assigns, &c->nassigns, c->argv[0]);
            free(c->argv[0]);
            memmove(c->argv, c->argv + 1, (c->argc - 1) * sizeof *c->argv);
            c->argc--;
        }
    }
    /* "for x in a b c" and "case" are not commands */
    if (c->argc && (!strcmp(c->argv[0], "for") || !strcmp(c->argv[0], "case") ||
                    !strcmp(c->argv[0], "select"))) {
        mm_strv_free(c->argv, c->argc);
        c->argv = NULL;
        c->argc = 0;
    }
}

static void push_cmd(lexer *lx, bool pipe)
{
    end_word(lx);
    mm_sh_cmd *c = &lx->cur;
    strip_keywords(c);
    mm_sh_script *o = lx->out;
    bool prev_pipe = o->n && o->cmds[o->n - 1].pipe_out;
    if (!c->argc && !c->nassigns) {
        /* "a | (b)" keeps the pipe pending for the next real command */
        if (pipe && o->n)
            o->cmds[o->n - 1].pipe_out = true;
        free(c->argv);
        free(c->assigns);
        memset(c, 0, sizeof *c);
        return;
    }
    c->pipe_out = pipe;
    c->pipe_in = prev_pipe;
    if (pipe)
        o->has_pipe = true;
    if (o->n < MAX_CMDS) {
        o->cmds = mm_xrealloc(o->cmds, (o->n + 1) * sizeof *o->cmds);
        o->cmds[o->n++] = *c;
        /* sh -c "script": follow the script */
        const char *nm = mm_sh_name(c);
        if (lx->depth < MAX_DEPTH &&
            (!strcmp(nm, "sh") || !strcmp(nm, "bash") || !strcmp(nm, "ash") ||
             !strcmp(nm, "dash") || !strcmp(nm, "zsh"))) {
            for (size_t k = 1; k + 1 < c->argc; k++) {
                const char *a = c->argv[k];
                if (a[0] == '-' && a[1] != '-' && strchr(a, 'c')) {
                    sh_parse_depth(o, c->argv[k + 1], lx->depth + 1);
                    break;
                }
            }
        }
    } else {
        mm_strv_free(c->argv, c->argc);
        mm_strv_free(c->assigns, c->nassigns);
    }
    memset(c, 0, sizeof *c);
}

/* Copies a balanced $(...), ${...} or `...` verbatim into the word. */
static void copy_balanced(lexer *lx, char open, char close)
{
    int depth = 0;
    while (lx->i < lx->n) {
        char c = lx->s[lx->i];
        mm_buf_addc(&lx->word, c);
        lx->i++;
        if (c == '\\' && lx->i < lx->n) {
            mm_buf_addc(&lx->word, lx->s[lx->i++]);
            continue;
        }
        if (open == close) {
            if (c == close && depth++ > 0)
                return;
            continue;
        }
        if (c == '\'' ) {
            while (lx->i < lx->n && lx->s[lx->i] != '\'')
                mm_buf_addc(&lx->word, lx->s[lx->i++]);
            if (lx->i < lx->n)
                mm_buf_addc(&lx->word, lx->s[lx->i++]);
            continue;
        }
        if (c == open)
            depth++;
        else if (c == close && --depth <= 0)
            return;
    }
}

/* Skips here-document bodies after a newline. */
static void skip_heredoc_bodies(lexer *lx)
{
    for (size_t h = 0; h < lx->npending; h++) {
        const char *delim = lx->pending_heredocs[h];
        size_t dl = strlen(delim);
        while (lx->i < lx->n) {
            const char *ls = lx->s + lx->i;
            const char *nl = memchr(ls, '\n', lx->n - lx->i);
            size_t ll = nl ? (size_t)(nl - ls) : lx->n - lx->i;
            lx->i += ll + (nl ? 1 : 0);
            size_t off = 0;
            while (off < ll && ls[off] == '\t')
                off++;
            if (ll - off == dl && !memcmp(ls + off, delim, dl))
                break;
        }
        free(lx->pending_heredocs[h]);
    }
    lx->npending = 0;
}

static void sh_parse_depth(mm_sh_script *out, const char *text, int depth)
{
    lexer lx;
    memset(&lx, 0, sizeof lx);
    lx.s = text ? text : "";
    lx.n = strlen(lx.s);
    lx.out = out;
    lx.depth = depth;
    while (lx.i < lx.n) {
        char c = lx.s[lx.i];
        if (c == ' ' || c == '\t' || c == '\r') {
            end_word(&lx);
            lx.i++;
            continue;
        }
        if (c == '\n') {
            lx.i++;
            push_cmd(&lx, false);
            skip_heredoc_bodies(&lx);
            continue;
        }
        if (c == '#' && !lx.word.len && !lx.have_word) {
            while (lx.i < lx.n && lx.s[lx.i] != '\n')
                lx.i++;
            continue;
        }
        if (c == '\\') {
            if (lx.i + 1 < lx.n) {
                if (lx.s[lx.i + 1] != '\n')
                    mm_buf_addc(&lx.word, lx.s[lx.i + 1]);
                lx.have_word = lx.have_word || lx.s[lx.i + 1] != '\n';
            }
            lx.i += 2;
            continue;
        }
        if (c == '\'') {
            lx.i++;
            while (lx.i < lx.n && lx.s[lx.i] != '\'')
                mm_buf_addc(&lx.word, lx.s[lx.i++]);
            lx.i++;
            lx.have_word = true;
            continue;
        }
        if (c == '"') {
            lx.i++;
            while (lx.i < lx.n && lx.s[lx.i] != '"') {
                char d = lx.s[lx.i];
                if (d == '\\' && lx.i + 1 < lx.n && strchr("\"\\$`\n", lx.s[lx.i + 1])) {
                    if (lx.s[lx.i + 1] != '\n')
                        mm_buf_addc(&lx.word, lx.s[lx.i + 1]);
                    lx.i += 2;
                } else if (d == '$' && lx.i + 1 < lx.n && lx.s[lx.i + 1] == '(') {
                    copy_balanced(&lx, '(', ')');
                } else if (d == '`') {
                    copy_balanced(&lx, '`', '`');
                } else {
                    mm_buf_addc(&lx.word, d);
                    lx.i++;
                }
            }
            lx.i++;
            lx.have_word = true;
            continue;
        }
        if (c == '$' && lx.i + 1 < lx.n && (lx.s[lx.i + 1] == '(' || lx.s[lx.i + 1] == '{')) {
            copy_balanced(&lx, lx.s[lx.i + 1], lx.s[lx.i + 1] == '(' ? ')' : '}');
            lx.have_word = true;
            continue;
        }
        if (c == '`') {
            copy_balanced(&lx, '`', '`');
            lx.have_word = true;
            continue;
        }
        if (c == '&' || c == '|' || c == ';' || c == '(' || c == ')') {
            char d = lx.i + 1 < lx.n ? lx.s[lx.i + 1] : 0;
            if (c == '&' && d == '>') { /* &> file */
                end_word(&lx);
                lx.i += 2;
                if (lx.i < lx.n && lx.s[lx.i] == '>')
                    lx.i++;
                lx.skip_next_word = true;
                continue;
            }
            bool pipe = c == '|' && d != '|';
            if ((c == '&' && d == '&') || (c == '|' && d == '|') || (c == ';' && d == ';') ||
                (c == '|' && d == '&'))
                lx.i++;
            lx.i++;
            push_cmd(&lx, pipe);
            continue;
        }
        if (c == '<' || c == '>') {
            /* a file-descriptor number right before belongs to the operator */
            bool digits = lx.word.len > 0 && !lx.have_word;
            for (size_t k = 0; digits && k < lx.word.len; k++)
                if (!isdigit((unsigned char)lx.word.data[k]))
                    digits = false;
            if (digits)
                mm_buf_clear(&lx.word);
            else
                end_word(&lx);
            bool heredoc = false;
            if (c == '<' && lx.i + 1 < lx.n && lx.s[lx.i + 1] == '<') {
                if (lx.i + 2 < lx.n && lx.s[lx.i + 2] == '<') {
                    lx.i += 3; /* <<< here-string: the word is data */
                } else {
                    lx.i += 2;
                    if (lx.i < lx.n && lx.s[lx.i] == '-')
                        lx.i++;
                    heredoc = true;
                }
            } else {
                lx.i++;
                if (lx.i < lx.n && (lx.s[lx.i] == '>' || lx.s[lx.i] == '&' ||
                                    lx.s[lx.i] == '|' || lx.s[lx.i] == '<'))
                    lx.i++;
            }
            /* "2>&1": the target is a descriptor */
            if (lx.i < lx.n && lx.s[lx.i - 1] == '&' && (isdigit((unsigned char)lx.s[lx.i]) ||
                                                          lx.s[lx.i] == '-')) {
                lx.i++;
                continue;
            }
            if (heredoc)
                lx.heredoc_next_word = true;
            else
                lx.skip_next_word = true;
            continue;
        }
        mm_buf_addc(&lx.word, c);
        lx.i++;
    }
    push_cmd(&lx, false);
    for (size_t h = 0; h < lx.npending; h++)
        free(lx.pending_heredocs[h]);
    mm_buf_free(&lx.word);
    if (lx.cur.argv || lx.cur.assigns) {
        mm_strv_free(lx.cur.argv, lx.cur.argc);
        mm_strv_free(lx.cur.assigns, lx.cur.nassigns);
    }
}

void mm_sh_parse(mm_sh_script *out, const char *text)
{
    memset(out, 0, sizeof *out);
    sh_parse_depth(out, text, 0);
}

void mm_sh_free(mm_sh_script *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        mm_strv_free(s->cmds[i].argv, s->cmds[i].argc);
        mm_strv_free(s->cmds[i].assigns, s->cmds[i].nassigns);
    }
    free(s->cmds);
    memset(s, 0, sizeof *s);
}

const char *mm_sh_name(const mm_sh_cmd *c)
{
    if (!c->argc)
        return "";
    const char *s = strrchr(c->argv[0], '/');
    return s ? s + 1 : c->argv[0];
}

bool mm_sh_has(const mm_sh_cmd *c, const char *word)
{
    for (size_t i = 1; i < c->argc; i++)
        if (!strcmp(c->argv[i], word))
            return true;
    return false;
}

bool mm_sh_has_prefix(const mm_sh_cmd *c, const char *prefix)
{
    for (size_t i = 1; i < c->argc; i++)
        if (mm_str_startswith(c->argv[i], prefix))
            return true;
    return false;
}

/* --- credential names --------------------------------------------------------- */
static bool tok_is(const char *t, size_t n, const char *w)
{
    return strlen(w) == n && !strncasecmp(t, w, n);
}

bool mm_sensitive_name(const char *name)
{
    if (!name || !*name)
        return false;
    /* split into tokens at '_', '-', '.' and lower->upper case changes */
    const char *tok[32];
    size_t len[32], nt = 0;
    const char *s = name;
    while (*s && nt < 32) {
        while (*s == '_' || *s == '-' || *s == '.')
            s++;
        if (!*s)
            break;
        const char *st = s;
        s++;
        while (*s && *s != '_' && *s != '-' && *s != '.' &&
               !(islower((unsigned char)s[-1]) && isupper((unsigned char)*s)))
            s++;
        tok[nt] = st;
        len[nt] = (size_t)(s - st);
        nt++;
    }
    if (!nt)
        return false;
    /* names that point at a secret, or say something about it */
    static const char *const not_last[] = {
        "FILE", "PATH", "DIR", "URL", "URI", "HOST", "PORT", "USER", "USERNAME",
        "NAME", "LENGTH", "LEN", "TYPE", "POLICY", "MODE", "ENABLED", "EXPIRY",
        "EXPIRES", "TTL", "HEADER", "ID", "FORMAT", "LOCATION", "REF", "VERSION",
        "MIN", "MAX", "SIZE", "PROVIDER", "ALGORITHM", "METHOD", "COMMAND", "CMD",
        "PROMPT", "HASH", "HINT", "PARAM", "FIELD", "ENDPOINT", "ISSUER", "DAYS",
        "AGE", "WARN", "COUNT", "ATTEMPTS", "RETRIES", "REQUIRED", "RESET"};
    for (size_t k = 0; k < sizeof not_last / sizeof not_last[0]; k++)
        if (tok_is(tok[nt - 1], len[nt - 1], not_last[k]))
            return false;
    for (size_t i = 0; i < nt; i++)
        if (tok_is(tok[i], len[i], "PUBLIC") || tok_is(tok[i], len[i], "PUB"))
            return false;
    static const char *const words[] = {
        "PASSWORD", "PASSWD", "PASS", "PASSPHRASE", "SECRET", "SECRETS",
        "TOKEN", "APIKEY", "CREDENTIAL", "CREDENTIALS", "CREDS", "PRIVATEKEY",
        "ACCESSKEY", "SECRETKEY", "AUTHTOKEN", "CLIENTSECRET"};
    /* (PWD is the working directory, not a password: not in the list) */
    for (size_t i = 0; i < nt; i++) {
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            if (tok_is(tok[i], len[i], words[k]))
                return true;
        if (i + 1 < nt && tok_is(tok[i + 1], len[i + 1], "KEY") &&
            (tok_is(tok[i], len[i], "API") || tok_is(tok[i], len[i], "ACCESS") ||
             tok_is(tok[i], len[i], "PRIVATE") || tok_is(tok[i], len[i], "SECRET") ||
             tok_is(tok[i], len[i], "ENCRYPTION") || tok_is(tok[i], len[i], "SIGNING") ||
             tok_is(tok[i], len[i], "MASTER") || tok_is(tok[i], len[i], "LICENSE")))
            return true;
    }
    return false;
}

bool mm_placeholder_value(const char *v)
{
    if (!v)
        return true;
    while (*v == ' ' || *v == '\t')
        v++;
    if (!*v)
        return true;
    static const char *const ph[] = {
        "changeme", "change-me", "change_me", "xxx", "xxxx", "xxxxxx", "<secret>",
        "<password>", "<token>", "none", "null", "nil", "false", "true", "todo",
        "placeholder", "dummy", "example", "secret", "password", "token", "-", "*",
        "''", "\"\""};
    for (size_t k = 0; k < sizeof ph / sizeof ph[0]; k++)
        if (!strcasecmp(v, ph[k]))
            return true;
    /* a reference to another variable or a file is no secret itself */
    if (v[0] == '$' || v[0] == '/')
        return true;
    return false;
}

char *mm_mask_value(const char *v)
{
    size_t n = v ? strlen(v) : 0;
    if (n <= 4)
        return mm_xstrdup("****");
    return mm_xasprintf("%.2s****", v);
}

char *mm_mask_in(const char *text, const char *value)
{
    if (!text)
        return NULL;
    size_t vl = value ? strlen(value) : 0;
    if (vl < 3)
        return mm_xstrdup(text);
    char *m = mm_mask_value(value);
    mm_buf b = MM_BUF_INIT;
    const char *p = text, *hit;
    while ((hit = strstr(p, value))) {
        mm_buf_add(&b, p, (size_t)(hit - p));
        mm_buf_adds(&b, m);
        p = hit + vl;
    }
    mm_buf_adds(&b, p);
    free(m);
    return mm_buf_detach(&b);
}
