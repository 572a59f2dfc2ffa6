/*
 * registry_opts.c - the registry flags every command that talks to a
 * registry shares (image, registry, sign, verify, policy): TLS (--ca-file,
 * --insecure-registry), credentials (flags, MAMORI_USERNAME /
 * MAMORI_PASSWORD, --password-stdin; else the Docker config), the blob
 * cache and the stall timeout, turned into an mm_registry_opts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_registry_init(cli_registry *r)
{
    memset(r, 0, sizeof *r);
    mm_registry_opts_init(&r->opts);
}

static int read_password_stdin(cli_registry *r)
{
    char buf[4096];
    if (!fgets(buf, sizeof buf, stdin)) {
        fprintf(stderr, "%s: --password-stdin: nothing on standard input\n", prog);
        return -1;
    }
    buf[strcspn(buf, "\r\n")] = 0;
    free(r->password_buf);
    r->password_buf = strdup(buf);
    memset(buf, 0, sizeof buf);
    if (!r->password_buf) {
        fprintf(stderr, "%s: --password-stdin: out of memory\n", prog);
        return -1;
    }
    r->opts.password = r->password_buf;
    return 0;
}

int cli_registry_option(cli_registry *r, int c, const char *arg)
{
    uint64_t v;
    switch (c) {
    case CLI_OPT_CA_FILE:
        r->opts.ca_file = arg;
        return 1;
    case CLI_OPT_INSECURE_REGISTRY:
        if (!*arg || strchr(arg, '/')) {
            fprintf(stderr, "%s: --insecure-registry: want HOST or HOST:PORT, got \"%s\"\n",
                    prog, arg);
            return -1;
        }
        if (r->ninsecure >= CLI_MAX_INSECURE) {
            fprintf(stderr, "%s: --insecure-registry: at most %d\n", prog, CLI_MAX_INSECURE);
            return -1;
        }
        r->insecure[r->ninsecure++] = arg;
        r->opts.insecure_hosts = r->insecure;
        r->opts.ninsecure = r->ninsecure;
        return 1;
    case CLI_OPT_USERNAME:
        r->opts.username = arg;
        return 1;
    case CLI_OPT_PASSWORD:
        r->opts.password = arg;
        return 1;
    case CLI_OPT_PASSWORD_STDIN:
        return read_password_stdin(r) < 0 ? -1 : 1;
    case CLI_OPT_REGISTRY_CONFIG:
        r->opts.docker_config = arg;
        return 1;
    case CLI_OPT_BLOB_CACHE:
        if (!*arg) {
            fprintf(stderr, "%s: --blob-cache: empty folder name (use --no-blob-cache)\n",
                    prog);
            return -1;
        }
        r->opts.cache_dir = arg;
        return 1;
    case CLI_OPT_BLOB_CACHE_MAX:
        if (cli_parse_size(arg, &v) < 0 || v == 0) {
            fprintf(stderr, "%s: --blob-cache-max: not a positive size: \"%s\"\n", prog, arg);
            return -1;
        }
        r->opts.cache_max = v;
        return 1;
    case CLI_OPT_NO_BLOB_CACHE:
        r->opts.cache_dir = "";
        return 1;
    case CLI_OPT_REGISTRY_TIMEOUT: {
        char *end;
        errno = 0;
        long t = strtol(arg, &end, 10);
        if (errno || end == arg || *end || t < 1 || t > 86400) {
            fprintf(stderr, "%s: --registry-timeout: want seconds (1-86400), got \"%s\"\n",
                    prog, arg);
            return -1;
        }
        r->opts.timeout_s = t;
        return 1;
    }
    default:
        return 0;
    }
}

int cli_registry_finish(cli_registry *r)
{
    if (!r->opts.username) {
        const char *u = getenv("MAMORI_USERNAME");
        if (u && *u)
            r->opts.username = u;
    }
    if (!r->opts.password) {
        const char *p = getenv("MAMORI_PASSWORD");
        if (p)
            r->opts.password = p;
    }
    if (r->opts.password && !r->opts.username) {
        fprintf(stderr, "%s: a registry password was given without --username "
                "(or MAMORI_USERNAME)\n", prog);
        return EXIT_ERROR;
    }
    if (r->opts.username && !r->opts.password) {
        fprintf(stderr, "%s: --username %s needs a password: --password, --password-stdin "
                "or MAMORI_PASSWORD\n", prog, r->opts.username);
        return EXIT_ERROR;
    }
    return 0;
}

void cli_registry_free(cli_registry *r)
{
    if (!r)
        return;
    r->ninsecure = 0;
    if (r->password_buf) {
        memset(r->password_buf, 0, strlen(r->password_buf));
        free(r->password_buf);
        r->password_buf = NULL;
    }
}

void cli_registry_usage(FILE *f)
{
    fputs("\nRegistry options (images named REGISTRY/REPO[:TAG][@sha256:DIGEST]):\n"
          "  --ca-file FILE           extra CA certificates (PEM) for registry TLS\n"
          "  --insecure-registry HOST allow plain HTTP or unverified TLS to HOST[:PORT]\n"
          "                           (repeatable; each such connection is a finding)\n"
          "  --username USER          registry user (or MAMORI_USERNAME)\n"
          "  --password PASS          registry password (or MAMORI_PASSWORD)\n"
          "  --password-stdin         read the password from standard input\n"
          "  --registry-config FILE   Docker config.json with `auths` (default\n"
          "                           $DOCKER_CONFIG/config.json, ~/.docker/config.json)\n"
          "  --blob-cache DIR         layer cache (default <cache dir>/blobs)\n"
          "  --blob-cache-max SIZE    cache size limit, least recently used go first\n"
          "                           (default 10G)\n"
          "  --no-blob-cache          stream layers without keeping them\n"
          "  --registry-timeout SECS  give up on a stalled transfer (default 60)\n",
          f);
}
