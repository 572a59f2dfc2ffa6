/*
 * cli.h - what the files of the `mamori` command share: the program name,
 * the error exit status, reporting an error once, and each subcommand's
 * entry point (one file per command family, so that they grow apart).
 */
#ifndef MM_CLI_H
#define MM_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "mamori/mamori.h"

#define EXIT_ERROR 2

extern const char *prog;

/* Prints "mamori: <what><library message>" and returns EXIT_ERROR. */
int cli_fail(const char *what);
/* Parses "123", "64K", "2G" ... into bytes (or a plain count). */
int cli_parse_size(const char *s, uint64_t *out);
/* The store path for --cache-dir DIR (NULL = the default).  Caller frees. */
char *cli_store_path(const char *cache_dir);

int cmd_scan(mm_target_kind kind, int argc, char **argv);   /* cmd_scan.c */
int cmd_history(int argc, char **argv);                     /* cmd_history.c */
void cli_usage(FILE *f);                                    /* main.c */

#endif
