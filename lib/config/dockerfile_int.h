/*
 * config/dockerfile_int.h - what the files of the Dockerfile parser share:
 * the parser state, the word processing (quotes, escapes, substitution:
 * dockerfile_words.c) and the line level (parser directives, pragmas,
 * continuation, heredocs, JSON form, RUN scripts: dockerfile_lines.c);
 * dockerfile.c turns lines into instructions and stages.
 */
#ifndef MM_DOCKERFILE_INT_H
#define MM_DOCKERFILE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "mamori/dockerfile.h"
#include "util/util.h"

#define MAX_TOTAL_EXPANSION (16u << 20)
#define MAX_NEST 16
#define MAX_PIECES 4096

/* the physical lines of the file */
typedef struct pline {
    const char *s;
    size_t n;
} pline;

typedef struct parser {
    const char *path;
    pline *lines;
    size_t nlines;
    size_t i;                 /* next line (0-based) */
    char esc;
    mm_dockerfile *df;
    /* scopes */
    mm_map *globals;          /* ARG before the first FROM: name -> value
                               * (a strdup'd string, or the NOVALUE marker) */
    mm_map *env, *args;       /* of the current stage */
    mm_map **stage_env;       /* per stage, kept for FROM <stage> */
    size_t total_expanded;
    /* pending "ignore=" ids from the comments just above */
    char **pend;
    size_t npend;
    size_t args_off;          /* where the arguments start in the joined text */
    int depth;                /* inside an ONBUILD trigger */
} parser;


/* the value of an ARG declared without one */
extern const char dfp_novalue;
#define NOVALUE ((void *)&dfp_novalue)
void dfp_free_val(void *v);
int dfp_perr(parser *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

typedef struct scope {
    parser *p;
    bool from_line;   /* FROM: only the global ARGs are visible */
    bool unresolved;
    int line;
    int depth;
} scope;

int dfp_process(scope *sc, const char *s, size_t n, size_t *pos, bool split, char stop,
                char ***words, size_t *nwords, mm_buf *single);
int dfp_expand_words(parser *p, int line, bool from_line, const char *s, char ***words,
                     size_t *nwords, bool *unres);
int dfp_expand_one(parser *p, int line, const char *s, char **out, bool *unres);

/* raw word splitting (no expansion): where each word starts and ends */
typedef struct rword {
    size_t start, end;
} rword;
size_t dfp_raw_words(const char *s, size_t n, char esc, rword *w, size_t max);

/* the line level */
typedef struct piece {
    size_t line;       /* 0-based */
    size_t off, len;   /* in the joined text */
} piece;
void dfp_parse_pragma(parser *p, const char *s, size_t n, int line);
int dfp_directives(parser *p);
bool dfp_continues(const char *s, size_t n, char esc, size_t *cut);
int dfp_read_heredocs(parser *p, mm_df_instr *in, const char *args, size_t alen);
bool dfp_json_form(const char *s, char ***argv, size_t *n);
bool dfp_looks_json(const char *s);
void dfp_make_script(parser *p, mm_df_instr *in, const piece *pc, size_t npc, size_t first_line);

#endif
