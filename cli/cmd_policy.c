/*
 * cmd_policy.c - `mamori policy check`: the build/deploy gate.  Loads a
 * YAML policy (docs/policy.md), evaluates one image against it (its
 * reference, its signatures in the registry, its newest stored scan) and
 * prints allow or deny with every reason.  Exit status: 0 allow, 1 deny,
 * 2 error — the contract CI pipelines rely on.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/policy.h"
#include "cli.h"

enum { OPT_POLICY = 1, OPT_FORMAT, OPT_PLATFORM, OPT_CACHE_DIR, OPT_OUTPUT };

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: mamori policy check --policy FILE [options] IMAGE\n"
            "\n"
            "Checks IMAGE (REGISTRY/REPO[:TAG][@DIGEST], or a docker-archive / OCI\n"
            "layout path) against the policy and prints allow or deny with every\n"
            "reason.  The image's scans come from the local store: scan it first with\n"
            "`mamori image`.  Exit status: 0 allow, 1 deny, 2 error.\n"
            "\n"
            "Options:\n"
            "  --policy FILE        the YAML policy (docs/policy.md)\n"
            "  -f, --format F       table (default) or json\n"
            "  -o, --output FILE    write the decision there instead of standard output\n"
            "  --platform P         os/arch[/variant] to pick from an index (linux/amd64)\n"
            "  --cache-dir DIR      the store of scans (default ~/.cache/mamori)\n");
    cli_registry_usage(f);
}

static void print_table(FILE *out, const mm_policy_decision *d)
{
    size_t ndeny = 0, w = 4;
    for (size_t i = 0; i < d->nreasons; i++) {
        ndeny += d->reasons[i].deny;
        size_t l = strlen(d->reasons[i].rule);
        if (l > w)
            w = l;
    }
    fprintf(out, "%s  %s\n", d->allow ? "ALLOW" : "DENY", d->reference ? d->reference : d->image);
    if (d->digest) {
        fprintf(out, "  digest %s", d->digest);
        if (d->resolved_digest && strcmp(d->resolved_digest, d->digest))
            fprintf(out, " (platform manifest of index %s)", d->resolved_digest);
        fputc('\n', out);
    }
    fputc('\n', out);
    fprintf(out, "%-4s  %-*s  %s\n", "", (int)w, "RULE", "REASON");
    for (size_t i = 0; i < d->nreasons; i++)
        fprintf(out, "%-4s  %-*s  %s\n", d->reasons[i].deny ? "DENY" : "pass", (int)w,
                d->reasons[i].rule, d->reasons[i].message);
    fprintf(out, "\n%s: %zu rule%s denied, %zu passed\n", d->allow ? "allowed" : "denied",
            ndeny, ndeny == 1 ? "" : "s", d->nreasons - ndeny);
}

static int policy_check(int argc, char **argv)
{
    const char *policy = NULL, *format = "table", *platform = NULL, *cache_dir = NULL,
               *output = NULL;
    cli_registry reg;
    cli_registry_init(&reg);
    static const struct option lopts[] = {
        {"policy", required_argument, NULL, OPT_POLICY},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"platform", required_argument, NULL, OPT_PLATFORM},
        {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
        {"help", no_argument, NULL, 'h'},
        CLI_REGISTRY_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c, status = EXIT_ERROR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", lopts, NULL)) != -1) {
        int r = cli_registry_option(&reg, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case OPT_POLICY: policy = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case OPT_PLATFORM: platform = optarg; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case 'h': usage(stdout); status = 0; goto out;
        default: usage(stderr); goto out;
        }
    }
    if (!policy || optind != argc - 1) {
        fprintf(stderr, "%s: policy check: %s\n", prog,
                !policy ? "--policy FILE is required" : "exactly one IMAGE is required");
        usage(stderr);
        goto out;
    }
    bool json = !strcmp(format, "json");
    if (!json && strcmp(format, "table")) {
        fprintf(stderr, "%s: policy check: --format: expected table or json, got \"%s\"\n",
                prog, format);
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;
    const char *image = argv[optind];

    mm_policy *pol = NULL;
    mm_store *st = NULL;
    mm_registry *rc_client = NULL;
    mm_policy_decision *d = NULL;
    if (mm_policy_load(&pol, policy) < 0) {
        status = cli_fail("policy: ");
        goto done;
    }
    char *spath = cli_store_path(cache_dir);
    int rc = mm_store_open(&st, spath);
    free(spath);
    if (rc < 0) {
        status = cli_fail(NULL);
        goto done;
    }
    /* a client only for registry references: a local archive needs none */
    if (mm_imageref_is_remote(image) && mm_registry_new(&rc_client, &reg.opts) < 0) {
        status = cli_fail(NULL);
        goto done;
    }
    mm_policy_env env = {.registry = rc_client, .store = st, .platform = platform};
    if (mm_policy_check(&d, pol, image, &env) < 0) {
        status = cli_fail("policy check: ");
        goto done;
    }
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: cannot write: %m\n", prog, output);
        goto done;
    }
    if (json) {
        char *s = mm_policy_decision_json(d);
        fprintf(out, "%s\n", s ? s : "{}");
        free(s);
    } else {
        print_table(out, d);
    }
    if (out != stdout ? fclose(out) != 0 : fflush(out) != 0) {
        fprintf(stderr, "%s: %s: write failed: %m\n", prog, output ? output : "stdout");
        goto done;
    }
    status = d->allow ? 0 : 1;
done:
    mm_policy_decision_free(d);
    mm_registry_free(rc_client);
    mm_store_close(st);
    mm_policy_free(pol);
out:
    cli_registry_free(&reg);
    return status;
}

/* mamori policy SUBCOMMAND */
int cmd_policy(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return policy_check(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "%s: policy: expected the subcommand \"check\"\n", prog);
    usage(stderr);
    return EXIT_ERROR;
}
