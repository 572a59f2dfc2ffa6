/*
 * cmd_trust.c - `mamori sign` and `mamori verify`: cosign-compatible image
 * signatures in a registry (docs/signatures.md).  sign exits 0 when the
 * signature was pushed (or was already there), 2 on error; verify exits 0
 * when at least one signature by one of the keys is valid, 1 when none is
 * (missing, invalid, another key, another image), 2 when the check could
 * not be made (bad key, registry unreachable, bad usage).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "cli.h"

#define DEFAULT_PASS_ENV "MAMORI_SIGN_PASSPHRASE"

enum { OPT_KEY = 1200, OPT_PASS_ENV, OPT_FORMAT };

static void sign_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori sign --key KEY [options] REGISTRY/REPO[:TAG|@DIGEST]\n"
"\n"
"Signs the image's manifest digest and pushes the signature beside it, as\n"
"cosign does (tag sha256-<hex>.sig, appended to signatures already there).\n"
"\n"
"  -k, --key FILE            private key, PEM PKCS#8 (ECDSA P-256, Ed25519 or\n"
"                            RSA >= 2048), optionally passphrase-encrypted\n"
"      --passphrase-env VAR  environment variable holding the passphrase\n"
"                            (default %s)\n"
"  -a, --annotation K=V      add K=V to the payload's \"optional\" (repeatable)\n\n",
            DEFAULT_PASS_ENV);
    cli_registry_usage(f);
    fprintf(f, "\nExit status: 0 signed, 2 error.\n");
}

static void verify_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori verify --key PUB [--key PUB2...] [options] REGISTRY/REPO[:TAG|@DIGEST]\n"
"\n"
"Checks the cosign-compatible signatures stored beside the image.\n"
"\n"
"  -k, --key FILE       public key, PEM (PKIX); repeatable: any key may match\n"
"  -f, --format FMT     table (default) or json\n\n");
    cli_registry_usage(f);
    fprintf(f, "\nExit status: 0 verified, 1 not verified, 2 error.\n");
}

static int parse_image(mm_imageref **ref, const char *s)
{
    int rc = mm_imageref_parse(ref, s);
    if (rc < 0)
        return cli_fail("");
    return 0;
}

int cmd_sign(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"passphrase-env", required_argument, NULL, OPT_PASS_ENV},
        {"annotation", required_argument, NULL, 'a'},
        {"help", no_argument, NULL, 'h'},
        CLI_REGISTRY_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *keyfile = NULL, *pass_env = NULL;
    const char **ann = NULL;
    size_t nann = 0;
    cli_registry reg;
    cli_registry_init(&reg);
    int c, status = EXIT_ERROR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:a:h", lopts, NULL)) != -1) {
        int r = cli_registry_option(&reg, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'k':
            if (keyfile) {
                fprintf(stderr, "%s: sign: one --key only\n", prog);
                goto out;
            }
            keyfile = optarg;
            break;
        case OPT_PASS_ENV:
            pass_env = optarg;
            break;
        case 'a':
            if (!strchr(optarg, '=') || optarg[0] == '=') {
                fprintf(stderr, "%s: sign: --annotation %s: expected KEY=VALUE\n",
                        prog, optarg);
                goto out;
            }
            ann = realloc(ann, (nann + 1) * sizeof *ann);
            if (!ann)
                goto out;
            ann[nann++] = optarg;
            break;
        case 'h':
            sign_usage(stdout);
            status = 0;
            goto out;
        default:
            sign_usage(stderr);
            goto out;
        }
    }
    if (!keyfile || optind != argc - 1) {
        fprintf(stderr, "%s: sign: %s\n", prog,
                !keyfile ? "--key is required" : "exactly one image is needed");
        sign_usage(stderr);
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;

    /* The passphrase comes from the environment only: a flag would show it
     * in the process list and the shell history. */
    const char *pass = NULL;
    if (pass_env) {
        pass = getenv(pass_env);
        if (!pass) {
            fprintf(stderr, "%s: sign: --passphrase-env %s: the variable is not set\n",
                    prog, pass_env);
            goto out;
        }
    } else {
        pass = getenv(DEFAULT_PASS_ENV);
    }

    mm_sigkey *key = NULL;
    mm_imageref *ref = NULL;
    mm_registry *client = NULL;
    if (mm_sigkey_load_private(&key, keyfile, pass) < 0) {
        status = cli_fail("sign: ");
        goto out;
    }
    if (parse_image(&ref, argv[optind]) != 0)
        goto out_key;
    if (mm_registry_new(&client, &reg.opts) < 0) {
        status = cli_fail("sign: ");
        goto out_key;
    }
    char digest[72];
    if (mm_cosign_sign_image(client, ref, key, ann, nann, digest) < 0) {
        status = cli_fail("sign: ");
    } else {
        char tag[80];
        mm_cosign_sig_tag(tag, digest);
        printf("signed %s/%s@%s with %s key %s\nsignatures in %s/%s:%s\n", ref->registry,
               ref->repository, digest, mm_sigkey_type(key), mm_sigkey_id(key),
               ref->registry, ref->repository, tag);
        status = 0;
    }
    /* plain-HTTP / unverified-TLS use is a finding elsewhere; here a note */
    for (size_t i = 0; i < mm_registry_transport_count(client); i++) {
        const mm_registry_transport *t = mm_registry_transport_get(client, i);
        fprintf(stderr, "%s: warning: %s reached %s\n", prog, t->host,
                t->plain_http ? "over plain HTTP" : "without TLS verification");
    }
    mm_registry_free(client);
out_key:
    mm_imageref_free(ref);
    mm_sigkey_free(key);
out:
    free(ann);
    cli_registry_free(&reg);
    return status;
}

static void print_table(const mm_verify_report *r, const char *image,
                        mm_sigkey *const *keys, size_t nkeys)
{
    printf("image      %s\n", image);
    printf("digest     %s\n", r->digest);
    printf("signatures %s:%s%s\n", r->reference, r->sig_tag,
           r->sig_found ? "" : " (not found)");
    for (size_t k = 0; k < nkeys; k++)
        printf("key        %s %s %s\n", mm_sigkey_path(keys[k]), mm_sigkey_type(keys[k]),
               mm_sigkey_id(keys[k]));
    if (r->error)
        printf("error      %s\n", r->error);
    if (r->nchecks) {
        printf("\n%-8s  %-71s  %s\n", "STATUS", "PAYLOAD", "KEY / REASON");
        for (size_t i = 0; i < r->nchecks; i++) {
            const mm_sigcheck *s = &r->checks[i];
            printf("%-8s  %-71s  %s\n", s->valid ? "valid" : "invalid",
                   s->layer_digest ? s->layer_digest : "-",
                   s->valid ? s->key_path : (s->reason ? s->reason : "-"));
        }
    }
    printf("\n%s\n", r->verified ? "VERIFIED" : "NOT VERIFIED");
}

int cmd_verify(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"key", required_argument, NULL, 'k'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        CLI_REGISTRY_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char **keyfiles = NULL;
    size_t nkeyfiles = 0;
    bool json = false;
    cli_registry reg;
    cli_registry_init(&reg);
    int c, status = EXIT_ERROR;
    mm_sigkey **keys = NULL;
    size_t nkeys = 0;
    mm_imageref *ref = NULL;
    mm_registry *client = NULL;
    mm_verify_report *rep = NULL;
    optind = 1;
    while ((c = getopt_long(argc, argv, "k:f:h", lopts, NULL)) != -1) {
        int r = cli_registry_option(&reg, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'k':
            keyfiles = realloc(keyfiles, (nkeyfiles + 1) * sizeof *keyfiles);
            if (!keyfiles)
                goto out;
            keyfiles[nkeyfiles++] = optarg;
            break;
        case 'f':
            if (!strcmp(optarg, "json"))
                json = true;
            else if (!strcmp(optarg, "table"))
                json = false;
            else {
                fprintf(stderr, "%s: verify: --format %s: table or json\n", prog,
                        optarg);
                goto out;
            }
            break;
        case 'h':
            verify_usage(stdout);
            status = 0;
            goto out;
        default:
            verify_usage(stderr);
            goto out;
        }
    }
    if (!nkeyfiles || optind != argc - 1) {
        fprintf(stderr, "%s: verify: %s\n", prog,
                !nkeyfiles ? "--key is required" : "exactly one image is needed");
        verify_usage(stderr);
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;
    keys = calloc(nkeyfiles, sizeof *keys);
    if (!keys)
        goto out;
    for (size_t i = 0; i < nkeyfiles; i++, nkeys++) {
        if (mm_sigkey_load_public(&keys[i], keyfiles[i]) < 0) {
            status = cli_fail("verify: ");
            goto out;
        }
    }
    if (parse_image(&ref, argv[optind]) != 0)
        goto out;
    if (mm_registry_new(&client, &reg.opts) < 0) {
        status = cli_fail("verify: ");
        goto out;
    }
    if (mm_cosign_verify_image(&rep, client, ref, keys, nkeys) < 0) {
        status = cli_fail("verify: ");
        goto out;
    }
    if (json) {
        char *doc = mm_verify_report_json(rep, argv[optind], keys, nkeys);
        fputs(doc, stdout);
        fputc('\n', stdout);
        free(doc);
    } else
        print_table(rep, argv[optind], keys, nkeys);
    for (size_t i = 0; i < mm_registry_transport_count(client); i++) {
        const mm_registry_transport *t = mm_registry_transport_get(client, i);
        fprintf(stderr, "%s: warning: %s reached %s\n", prog, t->host,
                t->plain_http ? "over plain HTTP" : "without TLS verification");
    }
    status = rep->verified ? 0 : 1;
out:
    mm_verify_report_free(rep);
    mm_registry_free(client);
    mm_imageref_free(ref);
    for (size_t i = 0; i < nkeys; i++)
        mm_sigkey_free(keys[i]);
    free(keys);
    free(keyfiles);
    cli_registry_free(&reg);
    return status;
}
