/*
 * cond_int.h - the parsed form of a Falco condition (private to the
 * condition language): cond_parse.c builds it, cond.c compiles it.
 */
#ifndef MM_COND_INT_H
#define MM_COND_INT_H

#include "runtime/runtime_int.h"

/* nesting a condition may reach, in the parser and after macros inline */
#define MAX_DEPTH 200

enum { A_AND = 1, A_OR, A_NOT, A_CMP, A_MACRO };
enum { R_NONE = 0, R_VALUE, R_LIST, R_FIELD };

struct mm_cond_ast {
    int kind;
    mm_cond_ast **kids;
    size_t nkids;
    char *field;          /* A_CMP: field text; A_MACRO: name */
    int xform;
    char *op;
    int rhs;              /* R_* */
    char **vals;
    bool *quoted;
    size_t nvals;
    int rhs_xform;        /* R_FIELD: transformer around the other field */
};

#endif
