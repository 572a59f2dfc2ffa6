/*
 * cmd_k8s.c - `mamori k8s`: Kubernetes posture.  Reads manifests (files,
 * folders, standard input), snapshots (kubectl get -A -o json) or a live
 * cluster (kubeconfig, read-only) into one object set, runs the checks and
 * writes the findings through the common report writers; `mamori k8s
 * who-can VERB RESOURCE [-n NS]` answers from the loaded RBAC objects.
 * Exit status: 0, N (--exit-code) when findings remain, 2 on errors.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "cli.h"

enum {
    OPT_CHECKS = 300, OPT_PSS_LEVEL, OPT_PSS_VERSION, OPT_NO_ANNOTATIONS, OPT_KUBECONFIG,
    OPT_CONTEXT, OPT_CLUSTER, OPT_TIMEOUT, OPT_EXEC_TIMEOUT, OPT_MAX_INPUT, OPT_LIST_RULES,
    OPT_PAGE_SIZE, OPT_SENS_KEY, OPT_SENS_MAP, OPT_NODE_ROOT, OPT_PS, OPT_PROC,
};

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"namespace", required_argument, NULL, 'n'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"severity", required_argument, NULL, CLI_OPT_SEVERITY},
    {"exit-code", required_argument, NULL, CLI_OPT_EXIT_CODE},
    {"ignorefile", required_argument, NULL, CLI_OPT_IGNOREFILE},
    {"checks", required_argument, NULL, OPT_CHECKS},
    {"pss-level", required_argument, NULL, OPT_PSS_LEVEL},
    {"pss-version", required_argument, NULL, OPT_PSS_VERSION},
    {"no-annotations", no_argument, NULL, OPT_NO_ANNOTATIONS},
    {"kubeconfig", required_argument, NULL, OPT_KUBECONFIG},
    {"context", required_argument, NULL, OPT_CONTEXT},
    {"cluster", no_argument, NULL, OPT_CLUSTER},
    {"request-timeout", required_argument, NULL, OPT_TIMEOUT},
    {"exec-timeout", required_argument, NULL, OPT_EXEC_TIMEOUT},
    {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
    {"max-input", required_argument, NULL, OPT_MAX_INPUT},
    {"list-rules", no_argument, NULL, OPT_LIST_RULES},
    {"sensitivity-key", required_argument, NULL, OPT_SENS_KEY},
    {"sensitivity-map", required_argument, NULL, OPT_SENS_MAP},
    {"node-root", required_argument, NULL, OPT_NODE_ROOT},
    {"ps", required_argument, NULL, OPT_PS},
    {"proc", no_argument, NULL, OPT_PROC},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mamori k8s PATH|- [PATH...] [options]     check manifests, folders, snapshots\n"
"       mamori k8s --cluster [--kubeconfig F] [--context C] [options]   a live cluster\n"
"       mamori k8s who-can VERB RESOURCE [-n NS] PATH...|--cluster\n"
"       mamori k8s reach PATH...|--cluster [-f table|json|dot]   NetworkPolicy reachability\n"
"       mamori k8s cis [--cfg DIR] [--benchmark B] [--targets T]   CIS Kubernetes Benchmark\n"
"       mamori k8s --list-rules\n"
"\n"
"  -f, --format FMT          table (default), json or sarif\n"
"  -o, --output FILE         write the report to FILE\n"
"      --severity LIST       only findings of these severities (CRITICAL,HIGH,...)\n"
"      --exit-code N         exit N when findings remain (not 2)\n"
"      --ignorefile FILE     ids to ignore (default ./.mamoriignore when present)\n"
"      --checks LIST         pss,workload,rbac,sensitivity,node (default), refs, avail,\n"
"                            net, all\n"
"      --sensitivity-key K   label/annotation holding a workload's sensitivity\n"
"                            (default mamori.io/sensitivity)\n"
"      --sensitivity-map M   levels of namespaces whose workloads carry none: ns=level,...\n"
"      --ps FILE             node trust: recorded `ps` output (kubelet, kube-apiserver, etcd...)\n"
"      --proc                node trust: the command lines of this node's processes\n"
"      --node-root DIR       node trust: read files named by command lines below DIR\n"
"      --pss-level LEVEL     restricted (default), baseline or privileged\n"
"      --pss-version V       Pod Security policy version: latest (default) or v1.N\n"
"      --no-annotations      ignore mamori.io/ignore annotations on objects\n"
"      --cluster             read a live cluster (read-only: get and list)\n"
"      --kubeconfig FILE     kubeconfig (default $KUBECONFIG, else ~/.kube/config)\n"
"      --context NAME        kubeconfig context (default current-context)\n"
"      --request-timeout S   per API request (default 30)\n"
"      --exec-timeout S      exec credential plugin (default 30)\n"
"      --page-size N         list page size (default 500)\n"
"      --max-input SIZE      cap on one input file or stream (default 512M)\n"
"  -n, --namespace NS        who-can: in this namespace (default: any)\n"
"  -q, --quiet\n"
"\n"
"Exit status: 0, N (--exit-code) when findings remain, 2 on errors.\n");
}

static void list_rules(void)
{
    printf("%-32s %-8s %-8s %-7s %s\n", "ID", "FAMILY", "SEVERITY", "SECTION", "TITLE [UPSTREAM]");
    for (size_t i = 0; i < mm_k8s_rule_count(); i++) {
        const mm_k8s_rule *r = mm_k8s_rule_get(i);
        printf("%-32s %-8s %-8s %-7s %s%s%s%s\n", r->id, r->family,
               mm_severity_name(r->severity), r->section, r->title, r->upstream ? " [" : "",
               r->upstream ? r->upstream : "", r->upstream ? "]" : "");
    }
}

static int parse_secs(const char *opt, const char *arg, long *out)
{
    char *end;
    errno = 0;
    double d = strtod(arg, &end);
    if (errno || end == arg || *end || d <= 0 || d > 3600) {
        fprintf(stderr, "%s: %s: \"%s\" is not a number of seconds (0-3600)\n", prog, opt, arg);
        return -1;
    }
    *out = (long)(d * 1000);
    return 0;
}

static int who_can(mm_k8s_set *set, const char *verb, const char *res, const char *ns,
                   const char *format, const char *output)
{
    mm_k8s_grant *g;
    size_t n;
    if (mm_k8s_who_can(set, verb, res, ns, &g, &n) < 0)
        return cli_fail("who-can: ");
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        mm_k8s_grants_free(g, n);
        return EXIT_ERROR;
    }
    int st = 0;
    if (mm_k8s_grants_write(out, g, n, verb, res, ns, !strcmp(format, "json")) < 0)
        st = cli_fail("who-can: ");
    mm_k8s_grants_free(g, n);
    if (output && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        return EXIT_ERROR;
    }
    return st;
}

static int write_reach(mm_k8s_set *set, const char *format, const char *output, bool quiet)
{
    mm_k8s_reach *rc;
    if (mm_k8s_reach_build(&rc, set) < 0)
        return cli_fail("reach: ");
    /* after the build: it warns about policies it cannot read */
    if (!quiet)
        for (size_t i = 0; i < mm_k8s_warning_count(set); i++)
            fprintf(stderr, "%s: warning: %s\n", prog, mm_k8s_warning(set, i));
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        mm_k8s_reach_free(rc);
        return EXIT_ERROR;
    }
    int st = 0;
    if (mm_k8s_reach_write(rc, out, format) < 0)
        st = cli_fail("reach: ");
    mm_k8s_reach_free(rc);
    if (output && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        return EXIT_ERROR;
    }
    return st;
}

int cmd_k8s(int argc, char **argv)
{
    const char *format = "table", *output = NULL, *ns = NULL;
    mm_k8s_check_opts co;
    mm_k8s_check_opts_init(&co);
    mm_k8s_client_opts ko;
    mm_k8s_client_opts_init(&ko);
    mm_k8s_limits lim;
    memset(&lim, 0, sizeof lim);
    cli_vuln vo;
    memset(&vo, 0, sizeof vo);
    bool cluster = false, use_proc = false;
    const char *ps_file = NULL;
    int c;
    if (argc > 1 && !strcmp(argv[1], "cis"))
        return cmd_k8s_cis(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "audit"))
        return cmd_k8s_audit(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "isolate"))
        return cmd_k8s_isolate(argc - 1, argv + 1);
    bool whocan = argc > 1 && !strcmp(argv[1], "who-can");
    bool reach = argc > 1 && !strcmp(argv[1], "reach");
    if (whocan || reach) {
        argc--;
        argv++;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:n:qh", longopts, NULL)) != -1) {
        int r = cli_vuln_option(&vo, c, optarg);
        if (r < 0)
            return EXIT_ERROR;
        if (r > 0)
            continue;
        uint64_t sz;
        long ms;
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'n': ns = optarg; break;
        case 'q': vo.quiet = true; break;
        case 'h': usage(stdout); return 0;
        case OPT_CHECKS:
            if (mm_k8s_checks_parse(&co.checks, optarg) < 0)
                return cli_fail("--checks: ");
            break;
        case OPT_PSS_LEVEL:
            if (mm_pss_level_parse(&co.pss_level, optarg) < 0)
                return cli_fail("--pss-level: ");
            break;
        case OPT_PSS_VERSION:
            if (mm_pss_version_parse(&co.pss_version, optarg) < 0)
                return cli_fail("--pss-version: ");
            break;
        case OPT_NO_ANNOTATIONS: co.no_annotations = true; break;
        case OPT_KUBECONFIG: ko.kubeconfig = optarg; cluster = true; break;
        case OPT_CONTEXT: ko.context = optarg; cluster = true; break;
        case OPT_CLUSTER: cluster = true; break;
        case OPT_TIMEOUT:
            if (parse_secs("--request-timeout", optarg, &ms) < 0)
                return EXIT_ERROR;
            ko.timeout_s = ms < 1000 ? 1 : ms / 1000;
            break;
        case OPT_EXEC_TIMEOUT:
            if (parse_secs("--exec-timeout", optarg, &ms) < 0)
                return EXIT_ERROR;
            ko.exec_timeout_ms = ms;
            break;
        case OPT_PAGE_SIZE:
            if (cli_parse_size(optarg, &sz) < 0 || sz > 100000) {
                fprintf(stderr, "%s: --page-size: \"%s\" is not a count (1-100000)\n", prog,
                        optarg);
                return EXIT_ERROR;
            }
            ko.page_size = (size_t)sz;
            break;
        case OPT_MAX_INPUT:
            if (cli_parse_size(optarg, &sz) < 0) {
                fprintf(stderr, "%s: --max-input: \"%s\" is not a size\n", prog, optarg);
                return EXIT_ERROR;
            }
            lim.max_input = sz;
            break;
        case OPT_LIST_RULES: list_rules(); return 0;
        case OPT_SENS_KEY: co.sens_key = optarg; break;
        case OPT_SENS_MAP: co.sens_ns_map = optarg; break;
        case OPT_NODE_ROOT: co.node_root = optarg; break;
        case OPT_PS: ps_file = optarg; break;
        case OPT_PROC: use_proc = true; break;
        default:
            fprintf(stderr, "Run '%s k8s --help' for usage.\n", prog);
            return EXIT_ERROR;
        }
    }
    const char *verb = NULL, *res = NULL;
    if (whocan) {
        if (argc - optind < 2) {
            fprintf(stderr, "%s: who-can needs a verb and a resource (mamori k8s who-can get "
                    "secrets -n NS PATH)\n", prog);
            return EXIT_ERROR;
        }
        verb = argv[optind++];
        res = argv[optind++];
    }
    if (optind >= argc && !cluster && !ps_file && !use_proc) {
        fprintf(stderr, "%s: k8s needs manifests (PATH, or - for standard input) or --cluster\n",
                prog);
        return EXIT_ERROR;
    }
    if (optind < argc && cluster) {
        fprintf(stderr, "%s: give manifests or --cluster, not both\n", prog);
        return EXIT_ERROR;
    }
    if (reach && strcmp(format, "table") && strcmp(format, "json") && strcmp(format, "dot")) {
        fprintf(stderr, "%s: --format: reach writes table, json or dot\n", prog);
        return EXIT_ERROR;
    }
    mm_format fmt = MM_FORMAT_TABLE;
    if (!reach && mm_format_parse(&fmt, format) < 0)
        return cli_fail("--format: ");
    if (fmt != MM_FORMAT_TABLE && fmt != MM_FORMAT_JSON && fmt != MM_FORMAT_SARIF) {
        fprintf(stderr, "%s: --format: k8s writes table, json or sarif\n", prog);
        return EXIT_ERROR;
    }
    if (whocan && fmt == MM_FORMAT_SARIF) {
        fprintf(stderr, "%s: --format: who-can writes table or json\n", prog);
        return EXIT_ERROR;
    }

    mm_k8s_set *set;
    mm_k8s_set_new(&set, &lim);
    int status = EXIT_ERROR;
    char *target = NULL;
    if (cluster) {
        mm_k8s_client *kc;
        if (mm_k8s_client_new(&kc, &ko) < 0) {
            status = cli_fail(NULL);
            goto out;
        }
        if (asprintf(&target, "cluster %s", mm_k8s_client_server(kc)) < 0)
            target = NULL;
        int rc = mm_k8s_client_snapshot(kc, set);
        mm_k8s_client_free(kc);
        if (rc < 0) {
            status = cli_fail(NULL);
            goto out;
        }
    } else {
        size_t tl = 0;
        for (int i = optind; i < argc; i++)
            tl += strlen(argv[i]) + 1;
        target = calloc(1, tl + 1);
        if (!target)
            goto out;
        for (int i = optind; i < argc; i++) {
            if (i > optind)
                strcat(target, " ");
            strcat(target, argv[i]);
            int rc;
            if (!strcmp(argv[i], "-")) {
                char *data;
                size_t len;
                uint64_t max = lim.max_input ? lim.max_input : (512ull << 20);
                if (cli_read_stdin(&data, &len, max) < 0) {
                    fprintf(stderr, "%s: standard input: %s\n", prog, strerror(errno ? errno : EIO));
                    goto out;
                }
                rc = mm_k8s_load_buffer(set, "-", data, len);
                free(data);
            } else {
                rc = mm_k8s_load_path(set, argv[i]);
            }
            if (rc < 0) {
                status = cli_fail(NULL);
                goto out;
            }
        }
    }
    if (ps_file || use_proc) {
        int rc = 0;
        if (ps_file)
            rc = mm_k8s_load_ps_file(set, ps_file);
        if (rc == 0 && use_proc)
            rc = mm_k8s_load_proc(set, "/proc");
        if (rc < 0) {
            status = cli_fail(NULL);
            goto out;
        }
        if (!target || !*target) {
            free(target);
            target = strdup(ps_file ? ps_file : "/proc");
        }
    }
    if (whocan) {
        if (!vo.quiet)
            for (size_t i = 0; i < mm_k8s_warning_count(set); i++)
                fprintf(stderr, "%s: warning: %s\n", prog, mm_k8s_warning(set, i));
        status = who_can(set, verb, res, ns, format, output);
        goto out;
    }
    if (reach) {
        status = write_reach(set, format, output, vo.quiet);
        goto out;
    }
    mm_result *r;
    if (mm_result_new_for_file(&r, target) < 0) {
        status = cli_fail(NULL);
        goto out;
    }
    for (size_t i = 0; i < mm_k8s_warning_count(set); i++)
        mm_result_warn(r, "%s", mm_k8s_warning(set, i));
    mm_result_add_scanners(r, MM_SCANNER_K8S);
    if (mm_k8s_check(set, &co, mm_result_findings(r)) < 0) {
        mm_result_free(r);
        status = cli_fail(NULL);
        goto out;
    }
    if (!vo.quiet && fmt == MM_FORMAT_TABLE)
        fprintf(stderr, "%s: %zu objects checked\n", prog, mm_k8s_count(set));
    status = cli_filter_report(r, &vo, fmt, output);
    mm_result_free(r);
out:
    cli_vuln_free(&vo);
    free(target);
    mm_k8s_set_free(set);
    return status;
}
