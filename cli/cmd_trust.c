/* cmd_trust.c - placeholder until sign/verify land (this session). */
#include "cli.h"
int cmd_sign(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "%s: sign: not built yet\n", prog); return EXIT_ERROR; }
int cmd_verify(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "%s: verify: not built yet\n", prog); return EXIT_ERROR; }
