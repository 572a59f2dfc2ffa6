/* cmd_registry.c - placeholder until the registry commands land (this session). */
#include "cli.h"
int cmd_registry(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "%s: registry: not built yet\n", prog); return EXIT_ERROR; }
