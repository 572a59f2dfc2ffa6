/*
 * cond_parse.c - the Falco condition language's recursive-descent parser
 * into an AST, macros still by name so that later files can redefine them
 * (cond.c compiles the AST).  Grammar facts from Falco's "Condition Syntax"
 * page: `or` < `and` < `not` precedence, parentheses, comparison operators
 * (= == != < <= > >= contains icontains bcontains startswith bstartswith
 * endswith glob iglob in intersects pmatch exists regex), transformers
 * (tolower toupper b64 basename len) and val(field) on the right side.  A
 * syntax error names its column.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "runtime/cond_int.h"

void mm_cond_ast_free(mm_cond_ast *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->nkids; i++)
        mm_cond_ast_free(a->kids[i]);
    free(a->kids);
    free(a->field);
    free(a->op);
    for (size_t i = 0; i < a->nvals; i++)
        free(a->vals[i]);
    free(a->vals);
    free(a->quoted);
    free(a);
}

typedef struct parser {
    const char *s, *p;
    int depth;
    bool failed;
} parser;


static void perr(parser *ps, const char *what)
{
    if (!ps->failed)
        mm_error_set(MM_EFORMAT, "%s at column %d", what, (int)(ps->p - ps->s) + 1);
    ps->failed = true;
}

static void skip_ws(parser *ps)
{
    while (*ps->p && isspace((unsigned char)*ps->p))
        ps->p++;
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' ||
           c == '/' || c == ':';
}

/* Does the input continue with keyword kw as a whole word? */
static bool peek_kw(parser *ps, const char *kw)
{
    size_t n = strlen(kw);
    if (strncmp(ps->p, kw, n))
        return false;
    char c = ps->p[n];
    return !(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-' || c == '[');
}

static void add_kid(mm_cond_ast *a, mm_cond_ast *k)
{
    a->kids = mm_xrealloc(a->kids, (a->nkids + 1) * sizeof *a->kids);
    a->kids[a->nkids++] = k;
}

static void add_val(mm_cond_ast *a, char *v, bool quoted)
{
    a->vals = mm_xrealloc(a->vals, (a->nvals + 1) * sizeof *a->vals);
    a->quoted = mm_xrealloc(a->quoted, (a->nvals + 1) * sizeof *a->quoted);
    a->vals[a->nvals] = v;
    a->quoted[a->nvals++] = quoted;
}

static mm_cond_ast *parse_or(parser *ps);

static const char *const word_ops[] = {
    "contains", "icontains", "bcontains", "startswith", "bstartswith",
    "endswith", "glob", "iglob", "in", "intersects", "pmatch", "exists",
    "regex", NULL};

static const char *const xforms[] = {
    "", "tolower", "toupper", "b64", "basename", "len", NULL};

/* Reads an operator; NULL when none follows. */
static char *read_op(parser *ps)
{
    skip_ws(ps);
    static const char *const sym[] = {"==", "!=", "<=", ">=", "=", "<", ">", NULL};
    for (int i = 0; sym[i]; i++) {
        size_t n = strlen(sym[i]);
        if (!strncmp(ps->p, sym[i], n)) {
            ps->p += n;
            return mm_xstrdup(sym[i][0] == '=' ? "=" : sym[i]);
        }
    }
    for (int i = 0; word_ops[i]; i++)
        if (peek_kw(ps, word_ops[i])) {
            ps->p += strlen(word_ops[i]);
            return mm_xstrdup(word_ops[i]);
        }
    return NULL;
}

/* A field reference: name, optional [arg]. */
static char *read_field(parser *ps)
{
    const char *st = ps->p;
    while (*ps->p && (isalnum((unsigned char)*ps->p) || *ps->p == '_' || *ps->p == '.'))
        ps->p++;
    if (ps->p == st)
        return NULL;
    if (*ps->p == '[') {
        const char *q = strchr(ps->p, ']');
        if (!q) {
            perr(ps, "unterminated field argument");
            return NULL;
        }
        ps->p = q + 1;
    }
    return mm_xstrndup(st, (size_t)(ps->p - st));
}

static char *read_quoted(parser *ps)
{
    char q = *ps->p++;
    mm_buf b = MM_BUF_INIT;
    mm_buf_adds(&b, "");
    while (*ps->p && *ps->p != q) {
        if (*ps->p == '\\' && ps->p[1]) {
            ps->p++;
            char c = *ps->p;
            mm_buf_addc(&b, c == 'n' ? '\n' : c == 't' ? '\t' : c);
            ps->p++;
            continue;
        }
        mm_buf_addc(&b, *ps->p++);
    }
    if (*ps->p != q) {
        mm_buf_free(&b);
        perr(ps, "unterminated string");
        return NULL;
    }
    ps->p++;
    return mm_buf_detach(&b);
}

/* A value: quoted string or bare word. */
static char *read_value(parser *ps, bool in_list, bool *quoted)
{
    skip_ws(ps);
    *quoted = false;
    if (*ps->p == '"' || *ps->p == '\'') {
        *quoted = true;
        return read_quoted(ps);
    }
    const char *st = ps->p;
    int brackets = 0;
    while (*ps->p && !isspace((unsigned char)*ps->p) && *ps->p != ',') {
        if (*ps->p == '[')
            brackets++;
        else if (*ps->p == ']' && brackets > 0)
            brackets--;
        else if (*ps->p == ')' && brackets == 0)
            break;
        else if (*ps->p == '(' && brackets == 0)
            break;
        ps->p++;
    }
    (void)in_list;
    if (ps->p == st) {
        perr(ps, "expected a value");
        return NULL;
    }
    return mm_xstrndup(st, (size_t)(ps->p - st));
}

/* One value read and added to a; false (a freed) when there is none. */
static bool take_value(parser *ps, mm_cond_ast *a, bool in_list)
{
    bool q;
    char *v = read_value(ps, in_list, &q);
    if (!v) {
        mm_cond_ast_free(a);
        return false;
    }
    add_val(a, v, q);
    return true;
}

static mm_cond_ast *parse_check(parser *ps)
{
    skip_ws(ps);
    mm_cond_ast *a = mm_xcalloc(1, sizeof *a);
    /* transformer(field) */
    for (int i = 1; xforms[i]; i++) {
        size_t n = strlen(xforms[i]);
        if (!strncmp(ps->p, xforms[i], n) && ps->p[n] == '(') {
            ps->p += n + 1;
            skip_ws(ps);
            a->xform = i;
            a->field = read_field(ps);
            skip_ws(ps);
            if (!a->field || *ps->p != ')') {
                perr(ps, "bad transformer argument");
                mm_cond_ast_free(a);
                return NULL;
            }
            ps->p++;
            break;
        }
    }
    if (!a->xform) {
        const char *st = ps->p;
        a->field = read_field(ps);
        if (!a->field) {
            /* a macro name may hold characters a field cannot (rare) */
            while (*ps->p && is_ident(*ps->p))
                ps->p++;
            if (ps->p == st) {
                perr(ps, "expected a field, macro or '('");
                mm_cond_ast_free(a);
                return NULL;
            }
            a->field = mm_xstrndup(st, (size_t)(ps->p - st));
        }
    }
    if (ps->failed) {
        mm_cond_ast_free(a);
        return NULL;
    }
    const char *save = ps->p;
    a->op = read_op(ps);
    if (!a->op) {
        ps->p = save;
        if (a->xform || strchr(a->field, '[')) {
            perr(ps, "expected an operator");
            mm_cond_ast_free(a);
            return NULL;
        }
        a->kind = A_MACRO;
        return a;
    }
    a->kind = A_CMP;
    if (!strcmp(a->op, "exists")) {
        a->rhs = R_NONE;
        return a;
    }
    skip_ws(ps);
    if (!strcmp(a->op, "in") || !strcmp(a->op, "intersects") || !strcmp(a->op, "pmatch")) {
        if (*ps->p != '(') {
            /* a bare list name: `proc.name in shell_binaries` */
            if (!take_value(ps, a, true))
                return NULL;
            a->rhs = R_LIST;
            return a;
        }
        ps->p++;
        a->rhs = R_LIST;
        skip_ws(ps);
        if (*ps->p == ')') {
            ps->p++;
            return a;
        }
        for (;;) {
            if (!take_value(ps, a, true))
                return NULL;
            skip_ws(ps);
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == ')') {
                ps->p++;
                break;
            }
            perr(ps, "expected ',' or ')' in list");
            mm_cond_ast_free(a);
            return NULL;
        }
        return a;
    }
    /* val(field) / transformer(val(field)) */
    int rx = 0;
    const char *save2 = ps->p;
    for (int i = 1; xforms[i]; i++) {
        size_t n = strlen(xforms[i]);
        if (!strncmp(ps->p, xforms[i], n) && ps->p[n] == '(' && !strncmp(ps->p + n + 1, "val(", 4)) {
            rx = i;
            ps->p += n + 1;
            break;
        }
    }
    if (!strncmp(ps->p, "val(", 4)) {
        ps->p += 4;
        skip_ws(ps);
        char *f = read_field(ps);
        skip_ws(ps);
        if (!f || *ps->p != ')') {
            free(f);
            perr(ps, "bad val() argument");
            mm_cond_ast_free(a);
            return NULL;
        }
        ps->p++;
        if (rx) {
            skip_ws(ps);
            if (*ps->p != ')') {
                free(f);
                perr(ps, "bad transformer around val()");
                mm_cond_ast_free(a);
                return NULL;
            }
            ps->p++;
        }
        add_val(a, f, false);
        a->rhs = R_FIELD;
        a->rhs_xform = rx;
        return a;
    }
    ps->p = save2;
    if (!take_value(ps, a, false))
        return NULL;
    a->rhs = R_VALUE;
    return a;
}

static mm_cond_ast *parse_not(parser *ps)
{
    skip_ws(ps);
    if (++ps->depth > MAX_DEPTH) {
        perr(ps, "condition nests too deeply");
        return NULL;
    }
    mm_cond_ast *r;
    if (peek_kw(ps, "not")) {
        ps->p += 3;
        mm_cond_ast *k = parse_not(ps);
        if (!k) {
            ps->depth--;
            return NULL;
        }
        r = mm_xcalloc(1, sizeof *r);
        r->kind = A_NOT;
        add_kid(r, k);
    } else if (*ps->p == '(') {
        ps->p++;
        r = parse_or(ps);
        skip_ws(ps);
        if (r && *ps->p != ')') {
            perr(ps, "expected ')'");
            mm_cond_ast_free(r);
            r = NULL;
        } else if (r) {
            ps->p++;
        }
    } else {
        r = parse_check(ps);
    }
    ps->depth--;
    return r;
}

static mm_cond_ast *parse_chain(parser *ps, const char *kw, int kind,
                           mm_cond_ast *(*sub)(parser *))
{
    mm_cond_ast *l = sub(ps);
    if (!l)
        return NULL;
    mm_cond_ast *node = NULL;
    for (;;) {
        skip_ws(ps);
        if (!peek_kw(ps, kw))
            break;
        ps->p += strlen(kw);
        mm_cond_ast *r = sub(ps);
        if (!r) {
            mm_cond_ast_free(node ? node : l);
            return NULL;
        }
        if (!node) {
            node = mm_xcalloc(1, sizeof *node);
            node->kind = kind;
            add_kid(node, l);
        }
        add_kid(node, r);
    }
    return node ? node : l;
}

static mm_cond_ast *parse_and(parser *ps)
{
    return parse_chain(ps, "and", A_AND, parse_not);
}

static mm_cond_ast *parse_or(parser *ps)
{
    if (++ps->depth > MAX_DEPTH) {
        perr(ps, "condition nests too deeply");
        return NULL;
    }
    mm_cond_ast *r = parse_chain(ps, "or", A_OR, parse_and);
    ps->depth--;
    return r;
}

int mm_cond_parse(mm_cond_ast **out, const char *text)
{
    parser ps = {text, text, 0, false};
    *out = NULL;
    skip_ws(&ps);
    if (!*ps.p)
        return mm_error_set(MM_EFORMAT, "empty condition");
    mm_cond_ast *a = parse_or(&ps);
    if (a) {
        skip_ws(&ps);
        if (*ps.p) {
            perr(&ps, "unexpected text");
            mm_cond_ast_free(a);
            return MM_EFORMAT;
        }
    } else {
        if (!ps.failed)
            perr(&ps, "syntax error");
        return MM_EFORMAT;
    }
    *out = a;
    return MM_OK;
}

