/* cmd_host.c - placeholder until host views land (this session). */
#include "cli.h"
int cmd_host(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "%s: host: not built yet\n", prog); return EXIT_ERROR; }
