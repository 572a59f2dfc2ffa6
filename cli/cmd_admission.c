/*
 * cmd_admission.c - `mamori admission`: deploy-time enforcement.
 *
 *   mamori admission manifests [--ca FILE] [--namespace NS] [--name N]
 *                              [--image IMG] [--mode M] [--timeout S]
 *                              [--failure-policy Fail|Ignore] [--exempt NS]...
 *   mamori admission review [decision options] FILE|-   one AdmissionReview
 *   mamori admission authz  [decision options] FILE|-   one Docker AuthZ request
 *
 * review and authz print the response body the webhook or the plugin
 * sends for that request (the HTTP server that serves them comes with the
 * shared lib/httpd); exit status 0 allowed, 1 denied, 2 error.  Options
 * are parsed here; the decisions are lib/admission's.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/admission.h"
#include "mamori/policy.h"
#include "mamori/registry.h"
#include "mamori/store.h"
#include "cli.h"

enum { A_POLICY = 400, A_MODE, A_PSS, A_NO_PSS, A_EXEMPT, A_CACHE_DIR, A_CA, A_NS, A_NAME,
       A_IMAGE, A_TIMEOUT, A_FAILURE, A_TTL, A_SENSITIVE };

static void adm_usage(FILE *f)
{
    fprintf(f,
"Usage:\n"
"  mamori admission manifests [options]     the ValidatingWebhookConfiguration,\n"
"                                           Service and Deployment (YAML)\n"
"  mamori admission review [options] FILE   judge one AdmissionReview (\"-\" = stdin)\n"
"  mamori admission authz [options] FILE    judge one Docker AuthZ request\n"
"\n"
"Decision options (review, authz):\n"
"      --policy FILE       the image gate (docs/policy.md); without it no image checks\n"
"      --mode M            enforce (default), warn or audit\n"
"      --pss-level L       privileged, baseline (default) or restricted\n"
"      --no-pss            no Pod Security check\n"
"      --exempt NS         a namespace (glob) allowed untouched (repeat)\n"
"      --sensitive PATH    authz: a host path refused as a mount (repeat; replaces\n"
"                          the built-in list)\n"
"      --cache-ttl SECS    image decisions cached (default 300)\n"
"      --cache-dir DIR     the scan store the gate reads\n");
    cli_registry_usage(f);
    fprintf(f,
"\n"
"Manifest options:\n"
"      --ca FILE           the CA (PEM) of the webhook's serving certificate\n"
"      --namespace NS      default mamori-system;  --name N  default mamori-admission\n"
"      --image IMG         the mamori image to run\n"
"      --mode M, --exempt NS, --timeout S (1-30, default 10),\n"
"      --failure-policy Fail|Ignore (default Fail)\n");
}

static int manifests(int argc, char **argv)
{
    mm_adm_manifest_opts o = {0};
    const char **ex = NULL;
    size_t nex = 0;
    char *ca = NULL;
    static const struct option lo[] = {
        {"ca", required_argument, NULL, A_CA}, {"namespace", required_argument, NULL, A_NS},
        {"name", required_argument, NULL, A_NAME}, {"image", required_argument, NULL, A_IMAGE},
        {"mode", required_argument, NULL, A_MODE}, {"timeout", required_argument, NULL, A_TIMEOUT},
        {"failure-policy", required_argument, NULL, A_FAILURE},
        {"exempt", required_argument, NULL, A_EXEMPT}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0;
    optind = 1;
    while (!rc && (c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        switch (c) {
        case A_CA: {
            FILE *f = fopen(optarg, "r");
            if (!f) {
                fprintf(stderr, "%s: --ca %s: %m\n", prog, optarg);
                rc = EXIT_ERROR;
                break;
            }
            char buf[65536];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            if (!strstr(buf, "-----BEGIN CERTIFICATE-----")) {
                fprintf(stderr, "%s: --ca %s: not a PEM certificate\n", prog, optarg);
                rc = EXIT_ERROR;
                break;
            }
            free(ca);
            ca = strdup(buf);
            break;
        }
        case A_NS: o.namespace_ = optarg; break;
        case A_NAME: o.name = optarg; break;
        case A_IMAGE: o.image = optarg; break;
        case A_MODE:
            if (mm_adm_mode_parse(&o.mode, optarg))
                rc = cli_fail("--mode: ");
            break;
        case A_TIMEOUT:
            o.timeout_s = atoi(optarg);
            if (o.timeout_s < 1 || o.timeout_s > 30) {
                fprintf(stderr, "%s: --timeout: 1 to 30 seconds\n", prog);
                rc = EXIT_ERROR;
            }
            break;
        case A_FAILURE:
            if (strcmp(optarg, "Fail") && strcmp(optarg, "Ignore")) {
                fprintf(stderr, "%s: --failure-policy: Fail or Ignore\n", prog);
                rc = EXIT_ERROR;
            }
            o.failure_policy = optarg;
            break;
        case A_EXEMPT:
            ex = realloc(ex, (nex + 1) * sizeof *ex);
            ex[nex++] = optarg;
            break;
        case 'h': adm_usage(stdout); free(ex); free(ca); return 0;
        default: adm_usage(stderr); rc = EXIT_ERROR;
        }
    }
    if (!rc) {
        o.ca_bundle_pem = ca;
        o.exempt_namespaces = ex;
        o.nexempt = nex;
        char *m = mm_admission_manifests(&o);
        fputs(m, stdout);
        free(m);
        if (!ca)
            fprintf(stderr, "%s: warning: no --ca: caBundle is empty; the API server will not "
                    "trust the webhook until it is set\n", prog);
    }
    free(ex);
    free(ca);
    return rc;
}

static int judge(int argc, char **argv, bool authz)
{
    mm_adm_config cfg;
    mm_adm_config_init(&cfg);
    const char *policy = NULL, *cache_dir = NULL;
    const char **ex = NULL, **sens = NULL;
    size_t nex = 0, nsens = 0;
    cli_registry reg;
    cli_registry_init(&reg);
    static const struct option lo[] = {
        {"policy", required_argument, NULL, A_POLICY}, {"mode", required_argument, NULL, A_MODE},
        {"pss-level", required_argument, NULL, A_PSS}, {"no-pss", no_argument, NULL, A_NO_PSS},
        {"exempt", required_argument, NULL, A_EXEMPT},
        {"sensitive", required_argument, NULL, A_SENSITIVE},
        {"cache-ttl", required_argument, NULL, A_TTL},
        {"cache-dir", required_argument, NULL, A_CACHE_DIR}, {"help", no_argument, NULL, 'h'},
        CLI_REGISTRY_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    int c, status = EXIT_ERROR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        int r = cli_registry_option(&reg, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case A_POLICY: policy = optarg; break;
        case A_MODE:
            if (mm_adm_mode_parse(&cfg.mode, optarg)) {
                cli_fail("--mode: ");
                goto out;
            }
            break;
        case A_PSS:
            if (mm_pss_level_parse(&cfg.pss_level, optarg)) {
                cli_fail("--pss-level: ");
                goto out;
            }
            break;
        case A_NO_PSS: cfg.pss = false; break;
        case A_EXEMPT:
            ex = realloc(ex, (nex + 1) * sizeof *ex);
            ex[nex++] = optarg;
            break;
        case A_SENSITIVE:
            sens = realloc(sens, (nsens + 1) * sizeof *sens);
            sens[nsens++] = optarg;
            break;
        case A_TTL: cfg.cache_ttl_s = atol(optarg); break;
        case A_CACHE_DIR: cache_dir = optarg; break;
        case 'h': adm_usage(stdout); status = 0; goto out;
        default: adm_usage(stderr); goto out;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "%s: admission %s: name one FILE (\"-\" = standard input)\n", prog,
                authz ? "authz" : "review");
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;
    char *body = NULL;
    size_t len = 0;
    const char *file = argv[optind];
    if (!strcmp(file, "-")) {
        if (cli_read_stdin(&body, &len, MM_ADM_MAX_BODY) < 0) {
            fprintf(stderr, "%s: standard input: %m\n", prog);
            goto out;
        }
    } else {
        FILE *f = fopen(file, "r");
        if (!f) {
            fprintf(stderr, "%s: %s: %m\n", prog, file);
            goto out;
        }
        body = malloc(MM_ADM_MAX_BODY + 2);
        len = fread(body, 1, MM_ADM_MAX_BODY + 1, f);
        fclose(f);
    }
    mm_policy *pol = NULL;
    mm_store *st = NULL;
    mm_registry *rcl = NULL;
    mm_admission *a = NULL;
    if (policy) {
        char *spath = cli_store_path(cache_dir);
        int rc = mm_policy_load(&pol, policy);
        if (rc == 0)
            rc = mm_store_open(&st, spath);
        if (rc == 0)
            rc = mm_registry_new(&rcl, &reg.opts);
        free(spath);
        if (rc < 0) {
            status = cli_fail("");
            goto done;
        }
        cfg.policy = pol;
        cfg.env.store = st;
        cfg.env.registry = rcl;
    }
    cfg.exempt_namespaces = ex;
    cfg.nexempt = nex;
    cfg.sensitive_mounts = sens;
    cfg.nsensitive = nsens;
    mm_admission_new(&a, &cfg);
    char *resp = NULL;
    mm_adm_verdict *v = NULL;
    int rc = authz ? mm_admission_authz(a, body, len, &resp, &v)
                   : mm_admission_review(a, body, len, &resp, &v);
    if (resp)
        printf("%s\n", resp);
    if (rc < 0) {
        status = cli_fail(authz ? "authz: " : "review: ");
    } else {
        if (v->violation)
            fprintf(stderr, "%s: %s (%s mode): %s\n", prog, v->allowed ? "allowed" : "denied",
                    mm_adm_mode_name(cfg.mode), v->message);
        status = v->allowed ? 0 : 1;
    }
    free(resp);
    mm_adm_verdict_free(v);
done:
    mm_admission_free(a);
    mm_registry_free(rcl);
    mm_store_close(st);
    mm_policy_free(pol);
    free(body);
out:
    free(ex);
    free(sens);
    cli_registry_free(&reg);
    return status;
}

int cmd_admission(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        adm_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : 0;
    }
    if (!strcmp(argv[1], "manifests"))
        return manifests(argc - 1, argv + 1);
    if (!strcmp(argv[1], "review"))
        return judge(argc - 1, argv + 1, false);
    if (!strcmp(argv[1], "authz"))
        return judge(argc - 1, argv + 1, true);
    fprintf(stderr, "%s: admission: unknown subcommand '%s' (manifests, review, authz)\n", prog,
            argv[1]);
    return EXIT_ERROR;
}
