/*
 * cli_host.h - what the `mamori host` files share: usage and the
 * subcommands of cmd_hostcheck.c and cmd_hostinv.c.
 */
#ifndef MM_CLI_HOST_H
#define MM_CLI_HOST_H

#include <stdio.h>

void host_usage(FILE *f);                            /* cmd_host.c */
void cli_compliance_usage(FILE *f);                  /* cmd_hostcheck.c */
int cmd_host_compliance(int argc, char **argv);
void cli_hostinv_usage(FILE *f);                     /* cmd_hostinv.c */
int cmd_host_runtime(int argc, char **argv);
int cmd_host_containers(int argc, char **argv);
int cmd_host_commands(int argc, char **argv);
/* "host:NAME" or "host:NAME:ROOT" for reports.  Caller frees. */
char *cli_host_target(const char *host, const char *root);

#endif
