/*
 * cmd_k8s_cis.c - `mamori k8s cis`: the CIS Kubernetes Benchmark on this
 * node, from kube-bench's YAML definitions (--cfg, read unchanged).
 * Output: kube-bench's text layout, JSON, or the failed checks as a SARIF
 * or JSON findings report (--findings).  Exit status: 0; N (--exit-code)
 * when a check FAILs; 2 on errors.
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
    OPT_CFG = 400, OPT_BENCH, OPT_VERSION, OPT_TARGETS, OPT_CHECK, OPT_ROOT, OPT_PS,
    OPT_TIMEOUT, OPT_EXIT, OPT_FINDINGS,
};

static const struct option longopts[] = {
    {"cfg", required_argument, NULL, OPT_CFG},
    {"benchmark", required_argument, NULL, OPT_BENCH},
    {"k8s-version", required_argument, NULL, OPT_VERSION},
    {"targets", required_argument, NULL, OPT_TARGETS},
    {"check", required_argument, NULL, OPT_CHECK},
    {"root", required_argument, NULL, OPT_ROOT},
    {"ps", required_argument, NULL, OPT_PS},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"exit-code", required_argument, NULL, OPT_EXIT},
    {"findings", no_argument, NULL, OPT_FINDINGS},
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mamori k8s cis [options]     CIS Kubernetes Benchmark (kube-bench definitions)\n"
"\n"
"      --cfg DIR           kube-bench's cfg folder (default $MAMORI_CIS_CFG, else\n"
"                          /etc/kube-bench/cfg, else ./cfg)\n"
"      --benchmark B       cis-1.9, eks-1.5.0, ... (default: from --k8s-version)\n"
"      --k8s-version V     Kubernetes version, mapped by config.yaml's version_mapping\n"
"                          (default: the newest 1.N it maps)\n"
"      --targets LIST      master,node,controlplane,etcd,policies (default: those whose\n"
"                          components run here)\n"
"      --check IDS         only these checks or groups (4.2.1,1.1)\n"
"      --root DIR          read node files below DIR (an offline copy of a node)\n"
"      --ps FILE           recorded `ps -ef` output instead of this node's processes\n"
"      --timeout S         per audit command (default 10)\n"
"  -f, --format FMT        table (default) or json; with --findings: table, json, sarif\n"
"      --findings          write the failed checks as a findings report\n"
"  -o, --output FILE\n"
"      --exit-code N       exit N when a check fails\n");
}

static const char *default_cfg(void)
{
    const char *e = getenv("MAMORI_CIS_CFG");
    if (e && *e)
        return e;
    if (access("/etc/kube-bench/cfg/config.yaml", R_OK) == 0)
        return "/etc/kube-bench/cfg";
    return "cfg";
}

int cmd_k8s_cis(int argc, char **argv)
{
    mm_k8s_cis_opts o;
    memset(&o, 0, sizeof o);
    const char *format = "table", *output = NULL;
    int exit_code = 0;
    bool findings = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case OPT_CFG: o.cfg_dir = optarg; break;
        case OPT_BENCH: o.benchmark = optarg; break;
        case OPT_VERSION: o.version = optarg; break;
        case OPT_TARGETS: o.targets = optarg; break;
        case OPT_CHECK: o.checks = optarg; break;
        case OPT_ROOT: o.root = optarg; break;
        case OPT_PS: o.ps_file = optarg; break;
        case OPT_FINDINGS: findings = true; break;
        case OPT_TIMEOUT: {
            double d = strtod(optarg, &end);
            if (end == optarg || *end || d <= 0 || d > 3600) {
                fprintf(stderr, "%s: --timeout: \"%s\" is not a number of seconds\n", prog, optarg);
                return EXIT_ERROR;
            }
            o.timeout_ms = (long)(d * 1000);
            break;
        }
        case OPT_EXIT:
            exit_code = (int)strtol(optarg, &end, 10);
            if (end == optarg || *end || exit_code < 0 || exit_code > 255) {
                fprintf(stderr, "%s: --exit-code: \"%s\" is not 0-255\n", prog, optarg);
                return EXIT_ERROR;
            }
            break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'h': usage(stdout); return 0;
        default:
            fprintf(stderr, "Run '%s k8s cis --help' for usage.\n", prog);
            return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: k8s cis takes no arguments (\"%s\")\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    if (!findings && strcmp(format, "table") && strcmp(format, "json")) {
        fprintf(stderr, "%s: --format: k8s cis writes table or json (sarif with --findings)\n",
                prog);
        return EXIT_ERROR;
    }
    if (!o.cfg_dir)
        o.cfg_dir = default_cfg();
    mm_k8s_cis *res;
    if (mm_k8s_cis_run(&res, &o) < 0)
        return cli_fail("cis: ");
    int status = 0;
    bool failed = false;
    for (size_t i = 0; i < mm_k8s_cis_count(res); i++)
        failed |= mm_k8s_cis_get(res, i)->state == MM_CIS_FAIL;
    if (findings) {
        mm_format fmt;
        mm_result *r;
        if (mm_format_parse(&fmt, format) < 0) {
            mm_k8s_cis_free(res);
            return cli_fail("--format: ");
        }
        char *target = NULL;
        if (asprintf(&target, "CIS %s", mm_k8s_cis_benchmark(res)) < 0)
            target = NULL;
        if (mm_result_new_for_file(&r, target ? target : "CIS") < 0) {
            free(target);
            mm_k8s_cis_free(res);
            return cli_fail(NULL);
        }
        free(target);
        for (size_t i = 0; i < mm_k8s_cis_note_count(res); i++)
            mm_result_warn(r, "%s", mm_k8s_cis_note(res, i));
        mm_k8s_cis_findings(res, mm_result_findings(r));
        cli_vuln vo;
        memset(&vo, 0, sizeof vo);
        vo.exit_code = exit_code;
        status = cli_filter_report(r, &vo, fmt, output);
        cli_vuln_free(&vo);
        mm_result_free(r);
        mm_k8s_cis_free(res);
        return status;
    }
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        mm_k8s_cis_free(res);
        return EXIT_ERROR;
    }
    if (mm_k8s_cis_write(out, res, !strcmp(format, "json")) < 0)
        status = cli_fail("cis: ");
    if (output && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        status = EXIT_ERROR;
    }
    mm_k8s_cis_free(res);
    if (!status && failed && exit_code)
        status = exit_code;
    return status;
}
