/* cmd_policy.c - placeholder until the gate lands (this session). */
#include "cli.h"
int cmd_policy(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "%s: policy: not built yet\n", prog); return EXIT_ERROR; }
