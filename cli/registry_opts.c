/* registry_opts.c - placeholder until the registry client lands (this session). */
#include <string.h>
#include "cli.h"
void cli_registry_init(cli_registry *r) { memset(r, 0, sizeof *r); mm_registry_opts_init(&r->opts); }
int cli_registry_option(cli_registry *r, int c, const char *arg) { (void)r; (void)c; (void)arg; return 0; }
int cli_registry_finish(cli_registry *r) { (void)r; return 0; }
void cli_registry_free(cli_registry *r) { (void)r; }
void cli_registry_usage(FILE *f) { (void)f; }
