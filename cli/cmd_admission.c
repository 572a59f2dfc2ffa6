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
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/admission.h"
#include "mamori/httpd.h"
#include "mamori/policy.h"
#include "mamori/registry.h"
#include "mamori/store.h"
#include "cli.h"

enum { A_POLICY = 400, A_MODE, A_PSS, A_NO_PSS, A_EXEMPT, A_CACHE_DIR, A_CA, A_NS, A_NAME,
       A_IMAGE, A_TIMEOUT, A_FAILURE, A_TTL, A_SENSITIVE, A_LISTEN, A_CERT, A_KEY, A_STATE, A_CLIENT_CA,
       A_UNIX, A_PLAIN, A_LOG, A_THREADS, A_TLSNAME, A_UNSCANNED, A_RESOLVE_TTL,
       A_K8S_CHECKS, A_K8S_MIN, A_RECORD, A_SCAN, A_SCAN_BUDGET,
       A_PLACEMENT };

static void adm_usage(FILE *f)
{
    fprintf(f,
"Usage:\n"
"  mamori admission manifests [options]     the ValidatingWebhookConfiguration,\n"
"                                           Service and Deployment (YAML)\n"
"  mamori admission review [options] FILE   judge one AdmissionReview (\"-\" = stdin)\n"
"  mamori admission authz [options] FILE    judge one Docker AuthZ request\n"
"  mamori admission serve [options]         the webhook (HTTPS) or the Docker\n"
"                                           AuthZ plugin (--unix SOCKET)\n"
"\n"
"Decision options (review, authz):\n"
"      --policy FILE       the image gate (docs/policy.md); without it no image checks\n"
"      --mode M            enforce (default), warn or audit\n"
"      --pss-level L       privileged, baseline (default) or restricted\n"
"      --no-pss            no Pod Security check\n"
"      --placement[=LABEL] a workload labelled LABEL=S (mamori.io/sensitivity)\n"
"                          must select nodes labelled LABEL=S (SP 800-190 3.3.5)\n"
"      --k8s-checks LIST   also mamori k8s's workload,rbac,refs,avail checks on\n"
"                          the object; findings at --k8s-min-severity (HIGH) or\n"
"                          above are violations\n"
"      --exempt NS         a namespace (glob) allowed untouched (repeat)\n"
"      --sensitive PATH    authz: a host path refused as a mount (repeat; replaces\n"
"                          the built-in list)\n"
"      --cache-ttl SECS    image decisions cached (default 300), keyed by the\n"
"                          reference and the digest it resolves to\n"
"      --resolve-ttl SECS  a tag's digest (HEAD on the manifest) cached\n"
"                          (default 60; -1: resolved on every request)\n"
"      --unscanned deny|allow  an image with no scan in the store: a violation\n"
"                          (default), or allowed with a warning naming it\n"
"      --cache-dir DIR     the scan store the gate reads\n"
"      --scan              scan an image the store has never seen, waiting at most\n"
"                          --scan-budget SECS (8: the webhook's 10 s minus a margin);\n"
"                          a longer scan goes on and the request is answered as\n"
"                          for an unscanned image (see --unscanned)\n"
"      --record            keep every decision in that store (`mamori history`:\n"
"                          key admission:<uid>, the violations as findings)\n"
"\n"
"Serve options:\n"
"      --listen HOST:PORT  default 0.0.0.0:8443 (POST /validate, GET /healthz)\n"
"      --cert F --key F    the serving pair (PEM); without them a self-signed\n"
"                          pair is written to --state-dir (default .) and its\n"
"                          caBundle printed\n"
"      --tls-name NAME     the self-signed pair's name (default the host name)\n"
"      --client-ca F       require a client certificate signed by this CA (PEM;\n"
"                          the API server's webhook client certificate): a\n"
"                          request without one is answered 403\n"
"      --unix PATH         the Docker AuthZ plugin: plain HTTP on a Unix socket\n"
"                          (dockerd --authorization-plugin=NAME finds\n"
"                          /run/docker/plugins/NAME.sock)\n"
"      --plain             TCP without TLS (tests, behind a TLS proxy)\n"
"      --log FILE          one JSON line per decision (default standard error)\n"
"      --threads N         worker threads (default 4)\n");
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

static int serve(mm_adm_config *cfg, const char *listen, const char *cert, const char *key,
                 const char *client_ca,
                 const char *state, const char *unix_path, bool plain, const char *logpath,
                 unsigned threads, const char *tls_name);

static int judge(int argc, char **argv, bool authz, bool serving)
{
    const char *listen = NULL, *cert = NULL, *key = NULL, *client_ca = NULL, *state = NULL, *unix_path = NULL,
               *logpath = NULL, *tls_name = NULL;
    bool plain = false, record = false, scan = false;
    double scan_budget = 8;
    unsigned threads = 0;
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
        {"listen", required_argument, NULL, A_LISTEN}, {"cert", required_argument, NULL, A_CERT},
        {"key", required_argument, NULL, A_KEY}, {"state-dir", required_argument, NULL, A_STATE},
        {"client-ca", required_argument, NULL, A_CLIENT_CA},
        {"unix", required_argument, NULL, A_UNIX}, {"plain", no_argument, NULL, A_PLAIN},
        {"log", required_argument, NULL, A_LOG}, {"threads", required_argument, NULL, A_THREADS},
        {"tls-name", required_argument, NULL, A_TLSNAME},
        {"unscanned", required_argument, NULL, A_UNSCANNED},
        {"resolve-ttl", required_argument, NULL, A_RESOLVE_TTL},
        {"k8s-checks", required_argument, NULL, A_K8S_CHECKS},
        {"record", no_argument, NULL, A_RECORD},
        {"scan", no_argument, NULL, A_SCAN},
        {"placement", optional_argument, NULL, A_PLACEMENT},
        {"scan-budget", required_argument, NULL, A_SCAN_BUDGET},
        {"k8s-min-severity", required_argument, NULL, A_K8S_MIN},
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
        case A_RESOLVE_TTL: cfg.resolve_ttl_s = atol(optarg); break;
        case A_RECORD: record = true; break;
        case A_SCAN: scan = true; break;
        case A_PLACEMENT:
            cfg.placement = true;
            cfg.sensitivity_label = optarg;   /* NULL: mamori.io/sensitivity */
            break;
        case A_SCAN_BUDGET:
            scan_budget = atof(optarg);
            if (scan_budget <= 0 || scan_budget > 30) {
                fprintf(stderr, "%s: --scan-budget: 0 to 30 seconds\n", prog);
                goto out;
            }
            break;
        case A_K8S_CHECKS:
            if (mm_k8s_checks_parse(&cfg.k8s_checks, optarg)) {
                cli_fail("--k8s-checks: ");
                goto out;
            }
            break;
        case A_K8S_MIN:
            if (mm_severity_parse(&cfg.workload_min, optarg)) {
                cli_fail("--k8s-min-severity: ");
                goto out;
            }
            break;
        case A_CACHE_DIR: cache_dir = optarg; break;
        case A_LISTEN: listen = optarg; break;
        case A_CERT: cert = optarg; break;
        case A_KEY: key = optarg; break;
        case A_CLIENT_CA: client_ca = optarg; break;
        case A_STATE: state = optarg; break;
        case A_UNIX: unix_path = optarg; break;
        case A_PLAIN: plain = true; break;
        case A_LOG: logpath = optarg; break;
        case A_THREADS: threads = (unsigned)atoi(optarg); break;
        case A_TLSNAME: tls_name = optarg; break;
        case A_UNSCANNED:
            if (strcmp(optarg, "allow") && strcmp(optarg, "deny")) {
                fprintf(stderr, "%s: --unscanned: allow or deny\n", prog);
                goto out;
            }
            cfg.allow_unscanned = !strcmp(optarg, "allow");
            break;
        case 'h': adm_usage(stdout); status = 0; goto out;
        default: adm_usage(stderr); goto out;
        }
    }
    if (serving ? optind != argc : optind != argc - 1) {
        fprintf(stderr, "%s: admission %s: %s\n", prog,
                serving ? "serve" : authz ? "authz" : "review",
                serving ? "takes no FILE" : "name one FILE (\"-\" = standard input)");
        goto out;
    }
    if ((cert == NULL) != (key == NULL)) {
        fprintf(stderr, "%s: admission serve: --cert and --key go together\n", prog);
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;
    if (serving && !reg.opts.timeout_s)
        reg.opts.timeout_s = 5;   /* inside the webhook's timeoutSeconds (10) */
    char *body = NULL;
    size_t len = 0;
    const char *file = serving ? NULL : argv[optind];
    if (serving) {
        /* nothing to read */
    } else if (!strcmp(file, "-")) {
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
    mm_store *rec = NULL;
    mm_pipeline_opts po;
    char *scan_store = NULL;
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
    if (record) {
        char *spath = cli_store_path(cache_dir);
        int rc = mm_store_open(&rec, spath);
        free(spath);
        if (rc < 0) {
            status = cli_fail("--record: ");
            goto done;
        }
        cfg.record = rec;
    }
    if (scan) {
        if (!policy) {
            fprintf(stderr, "%s: --scan needs --policy (the scan feeds the gate)\n", prog);
            goto done;
        }
        mm_pipeline_opts_init(&po);
        po.scan.registry = &reg.opts;
        po.vuln = true;               /* when a database exists */
        scan_store = cli_store_path(cache_dir);
        po.store_path = scan_store;
        cfg.scan = &po;
        cfg.scan_budget_ms = (int)(scan_budget * 1000);
    }
    cfg.exempt_namespaces = ex;
    cfg.nexempt = nex;
    cfg.sensitive_mounts = sens;
    cfg.nsensitive = nsens;
    if (serving) {
        status = serve(&cfg, listen, cert, key, client_ca, state, unix_path, plain, logpath, threads,
                       tls_name);
        goto done;
    }
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
    mm_admission_free(a);   /* waits for scans still running */
    free(scan_store);
    mm_store_close(rec);
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

/* A JSON string literal of s (the decision log is JSON lines). */
static char *json_quote(const char *s)
{
    size_t n = strlen(s);
    char *o = malloc(n * 6 + 3), *p = o;
    *p++ = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c < 0x20) {
            p += sprintf(p, "\\u%04x", c);
        } else {
            *p++ = (char)c;
        }
    }
    *p++ = '"';
    *p = 0;
    return o;
}

typedef struct vlog {
    FILE *f;
    pthread_mutex_t mu;
    mm_adm_mode mode;
} vlog;

static void log_verdict(void *ud, const char *kind, const mm_adm_verdict *v, const char *err)
{
    vlog *l = ud;
    char t[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%SZ", &tm);
    pthread_mutex_lock(&l->mu);
    if (!v) {
        char *e = json_quote(err ? err : "");
        fprintf(l->f, "{\"time\":\"%s\",\"kind\":\"%s\",\"error\":%s}\n", t, kind, e);
        free(e);
    } else {
        char *u = json_quote(v->uid ? v->uid : "");
        fprintf(l->f, "{\"time\":\"%s\",\"kind\":\"%s\",\"uid\":%s,\"allowed\":%s,"
                "\"mode\":\"%s\",\"exempt\":%s,\"image_cache_hits\":%zu,\"violations\":[",
                t, kind, u, v->allowed ? "true" : "false", mm_adm_mode_name(l->mode),
                v->exempt ? "true" : "false", v->cache_hits);
        free(u);
        for (size_t i = 0; i < v->nviolations; i++) {
            char *q = json_quote(v->violations[i]);
            fprintf(l->f, "%s%s", i ? "," : "", q);
            free(q);
        }
        fprintf(l->f, "],\"notes\":[");
        for (size_t i = 0; i < v->nnotes; i++) {
            char *q = json_quote(v->notes[i]);
            fprintf(l->f, "%s%s", i ? "," : "", q);
            free(q);
        }
        fprintf(l->f, "]}\n");
    }
    fflush(l->f);
    pthread_mutex_unlock(&l->mu);
}

static int serve(mm_adm_config *cfg, const char *listen, const char *cert, const char *key,
                 const char *client_ca,
                 const char *state, const char *unix_path, bool plain, const char *logpath,
                 unsigned threads, const char *tls_name)
{
    vlog lg = {.f = stderr, .mode = cfg->mode};
    pthread_mutex_init(&lg.mu, NULL);
    if (logpath && !(lg.f = fopen(logpath, "a"))) {
        fprintf(stderr, "%s: --log %s: %m\n", prog, logpath);
        return EXIT_ERROR;
    }
    cfg->on_verdict = log_verdict;
    cfg->on_verdict_ud = &lg;
    mm_admission *a;
    mm_admission_new(&a, cfg);
    mm_httpd_opts ho;
    mm_httpd_opts_init(&ho);
    ho.listen = listen ? listen : "0.0.0.0:8443";
    ho.unix_path = unix_path;
    ho.plain = plain || unix_path;
    ho.cert_file = cert;
    ho.key_file = key;
    ho.client_ca_file = client_ca;
    ho.state_dir = state ? state : ".";
    ho.tls_name = tls_name;
    ho.max_body = MM_ADM_MAX_BODY;
    ho.json_only = !unix_path;   /* dockerd's plugin client sends no Content-Type */
    ho.threads = threads;
    ho.handler = mm_admission_http;
    ho.ctx = a;
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);   /* the pool threads inherit it */
    mm_httpd *h;
    if (mm_httpd_start(&h, &ho)) {
        mm_admission_free(a);
        if (lg.f != stderr)
            fclose(lg.f);
        return cli_fail("serve: ");
    }
    if (unix_path)
        fprintf(stderr, "%s: admission: Docker AuthZ plugin on %s (%s mode)\n", prog, unix_path,
                mm_adm_mode_name(cfg->mode));
    else
        fprintf(stderr, "%s: admission: webhook on %s://%s (port %u, %s mode)\n", prog,
                ho.plain ? "http" : "https", ho.listen, (unsigned)mm_httpd_port(h),
                mm_adm_mode_name(cfg->mode));
    if (!ho.plain && !unix_path) {
        fprintf(stderr, "%s: certificate %s, %s\n", prog, mm_httpd_cert_path(h),
                mm_httpd_fingerprint(h));
        if (!cert)
            fprintf(stderr, "%s: self-signed: give it as caBundle (mamori admission manifests "
                    "--ca %s)\n", prog, mm_httpd_cert_path(h));
    }
    int sig = 0;
    sigwait(&ss, &sig);
    fprintf(stderr, "%s: admission: stopping (signal %d)\n", prog, sig);
    mm_httpd_stop(h);
    mm_admission_free(a);
    if (lg.f != stderr)
        fclose(lg.f);
    pthread_mutex_destroy(&lg.mu);
    return 0;
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
        return judge(argc - 1, argv + 1, false, false);
    if (!strcmp(argv[1], "authz"))
        return judge(argc - 1, argv + 1, true, false);
    if (!strcmp(argv[1], "serve"))
        return judge(argc - 1, argv + 1, false, true);
    fprintf(stderr, "%s: admission: unknown subcommand '%s' (manifests, review, authz, serve)\n", prog,
            argv[1]);
    return EXIT_ERROR;
}
