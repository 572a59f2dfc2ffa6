/*
 * cmd_config.c - `mamori config PATH`: parse and lint a Dockerfile, then
 * write the findings through the common report writers (table, json,
 * sarif).  A Dockerfile that cannot be parsed is an error (exit 2) whose
 * message names the file and the line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mamori/dockerfile.h"
#include "cli.h"

enum {
    OPT_SEVERITY = 256, OPT_EXIT_CODE, OPT_CONFIG, OPT_REGISTRIES, OPT_IGNORE,
    OPT_LIST_RULES, OPT_LABEL, OPT_STRICT_LABELS, OPT_THRESHOLD, OPT_NO_FAIL,
    OPT_NO_PRAGMA, OPT_LEVEL_ERROR, OPT_LEVEL_WARNING, OPT_LEVEL_INFO, OPT_LEVEL_STYLE,
    OPT_SHELLCHECK, OPT_NO_SHELLCHECK,
};

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"severity", required_argument, NULL, OPT_SEVERITY},
    {"exit-code", required_argument, NULL, OPT_EXIT_CODE},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"allowed-registries", required_argument, NULL, OPT_REGISTRIES},
    {"ignore", required_argument, NULL, OPT_IGNORE},
    {"list-rules", no_argument, NULL, OPT_LIST_RULES},
    {"trusted-registry", required_argument, NULL, OPT_REGISTRIES},
    {"require-label", required_argument, NULL, OPT_LABEL},
    {"strict-labels", no_argument, NULL, OPT_STRICT_LABELS},
    {"failure-threshold", required_argument, NULL, OPT_THRESHOLD},
    {"no-fail", no_argument, NULL, OPT_NO_FAIL},
    {"disable-ignore-pragma", no_argument, NULL, OPT_NO_PRAGMA},
    {"error", required_argument, NULL, OPT_LEVEL_ERROR},
    {"warning", required_argument, NULL, OPT_LEVEL_WARNING},
    {"info", required_argument, NULL, OPT_LEVEL_INFO},
    {"style", required_argument, NULL, OPT_LEVEL_STYLE},
    {"shellcheck", required_argument, NULL, OPT_SHELLCHECK},
    {"no-shellcheck", no_argument, NULL, OPT_NO_SHELLCHECK},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
"Usage: mamori config PATH [options]      lint a Dockerfile (PATH - reads stdin)\n"
"\n"
"  -f, --format FMT            table (default), json or sarif\n"
"  -o, --output FILE           write the report to FILE\n"
"      --severity SEV          report only findings of SEV or higher\n"
"                              (LOW, MEDIUM, HIGH, CRITICAL)\n"
"      --exit-code N           exit with N when findings are reported (default 0)\n"
"      --config FILE           YAML: ignored, allowed-registries, severity-overrides,\n"
"                              and hadolint's .hadolint.yaml keys (ignored, override,\n"
"                              trustedRegistries, label-schema, strict-labels,\n"
"                              failure-threshold, no-fail); default ./.hadolint.yaml\n"
"      --allowed-registries L  comma-separated registries images may come from\n"
"      --trusted-registry R    the same, hadolint's name (repeatable)\n"
"      --ignore IDS            rule ids to skip: MM-DF-xxx, DLxxxx or SCxxxx\n"
"      --error|--warning|--info|--style ID   set a rule's level (hadolint's)\n"
"      --require-label L:TYPE  label-schema entry (text url semver hash rfc3339\n"
"                              spdx email)\n"
"      --strict-labels         report labels outside the label schema\n"
"      --failure-threshold LVL exit 1 (or --exit-code N) only for findings of LVL\n"
"                              or above (error warning info style; none: never)\n"
"      --no-fail               exit 0 whatever is found\n"
"      --disable-ignore-pragma ignore the inline ignore pragmas\n"
"      --shellcheck PATH       the ShellCheck program (default: shellcheck on PATH)\n"
"      --no-shellcheck         do not run ShellCheck on RUN scripts\n"
"      --list-rules            print the rules and exit\n"
"  -q, --quiet\n"
"\n"
"Exit status: 0; N (--exit-code) or 1 (a failure threshold) when findings\n"
"remain; 2 on errors.\n");
}

static void split_push(char ***v, size_t *n, const char *list)
{
    char *dup = strdup(list), *save = NULL;
    if (!dup)
        return;
    for (char *t = strtok_r(dup, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
        *v = realloc(*v, (*n + 1) * sizeof **v);
        if (!*v)
            abort();
        (*v)[(*n)++] = strdup(t);
    }
    free(dup);
}

static void list_rules(void)
{
    printf("%-10s %-8s %-8s %-40s %s\n", "ID", "SEVERITY", "HADOLINT", "OTHER", "TITLE");
    for (size_t i = 0; i < mm_dflint_rule_count(); i++) {
        const mm_dflint_rule *r = mm_dflint_rule_get(i);
        printf("%-10s %-8s %-8s %-40s %s\n", r->id, mm_severity_name(r->severity),
               r->hadolint ? r->hadolint : "-", r->other ? r->other : "-", r->title);
    }
}

int cmd_config(int argc, char **argv)
{
    const char *format = "table", *output = NULL, *config = NULL;
    const char *sev_arg = NULL;
    int exit_code = 0;
    bool quiet = false, exit_code_set = false;
    const char *cli_threshold = NULL;
    bool cli_no_fail = false;
    mm_dflint_opts lo;
    mm_dflint_opts_init(&lo);
    int c, status = EXIT_ERROR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); mm_dflint_opts_free(&lo); return 0;
        case OPT_SEVERITY: sev_arg = optarg; break;
        case OPT_EXIT_CODE: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end || end == optarg || v < 0 || v > 255) {
                fprintf(stderr, "%s: --exit-code: expected 0..255, got \"%s\"\n", prog, optarg);
                goto out;
            }
            exit_code = (int)v;
            exit_code_set = true;
            break;
        }
        case OPT_CONFIG: config = optarg; break;
        case OPT_REGISTRIES:
            split_push(&lo.allowed_registries, &lo.nallowed_registries, optarg);
            break;
        case OPT_IGNORE:
            split_push(&lo.ignored, &lo.nignored, optarg);
            break;
        case OPT_LIST_RULES:
            list_rules();
            mm_dflint_opts_free(&lo);
            return 0;
        case OPT_LABEL:
            if (mm_dflint_opts_add_label(&lo, optarg) < 0) {
                status = cli_fail("--require-label: ");
                goto out;
            }
            break;
        case OPT_STRICT_LABELS: lo.strict_labels = true; break;
        case OPT_THRESHOLD: cli_threshold = optarg; break;
        case OPT_NO_FAIL: cli_no_fail = true; break;
        case OPT_NO_PRAGMA: lo.disable_ignore_pragma = true; break;
        case OPT_LEVEL_ERROR: case OPT_LEVEL_WARNING: case OPT_LEVEL_INFO:
        case OPT_LEVEL_STYLE: {
            const char *lvl = c == OPT_LEVEL_ERROR ? "error" : c == OPT_LEVEL_WARNING
                              ? "warning" : c == OPT_LEVEL_INFO ? "info" : "style";
            char *spec = NULL;
            if (asprintf(&spec, "override:\n  %s: [\"%s\"]\n", lvl, optarg) < 0)
                abort();
            int lrc = mm_dflint_config_parse(&lo, "--level", spec, strlen(spec));
            free(spec);
            if (lrc < 0) {
                status = cli_fail(NULL);
                goto out;
            }
            break;
        }
        case OPT_SHELLCHECK:
            free(lo.shellcheck);
            lo.shellcheck = strdup(optarg);
            break;
        case OPT_NO_SHELLCHECK:
            free(lo.shellcheck);
            lo.shellcheck = strdup("");
            break;
        default:
            fprintf(stderr, "Run '%s config --help' for usage.\n", prog);
            goto out;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: config needs a Dockerfile (mamori config PATH)\n", prog);
        goto out;
    }
    const char *path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        goto out;
    }
    mm_format fmt;
    if (mm_format_parse(&fmt, format) < 0) {
        status = cli_fail("--format: ");
        goto out;
    }
    if (fmt != MM_FORMAT_TABLE && fmt != MM_FORMAT_JSON && fmt != MM_FORMAT_SARIF) {
        fprintf(stderr, "%s: --format: config writes table, json or sarif\n", prog);
        goto out;
    }
    mm_severity min_sev = MM_SEV_UNKNOWN;
    if (sev_arg && mm_severity_parse(&min_sev, sev_arg) < 0) {
        status = cli_fail("--severity: ");
        goto out;
    }
    /* hadolint's default: ./.hadolint.yaml (or .yml) when no --config */
    if (!config) {
        if (access(".hadolint.yaml", R_OK) == 0)
            config = ".hadolint.yaml";
        else if (access(".hadolint.yml", R_OK) == 0)
            config = ".hadolint.yml";
    }
    if (config && mm_dflint_config_load(&lo, config) < 0) {
        status = cli_fail("--config: ");
        goto out;
    }
    if (cli_threshold) {
        if (mm_dflint_level_parse(&lo.threshold, cli_threshold) < 0) {
            status = cli_fail("--failure-threshold: ");
            goto out;
        }
        lo.has_threshold = true;
    }
    if (cli_no_fail)
        lo.no_fail = true;
    if (lo.has_threshold && !exit_code_set)
        exit_code = 1;

    mm_result *r = NULL;
    mm_dflint_status lst;
    int rc;
    if (!strcmp(path, "-")) {
        char *data;
        size_t len;
        if (cli_read_stdin(&data, &len, MM_DF_MAX_SIZE) < 0) {
            fprintf(stderr, "%s: standard input: %s\n", prog, strerror(errno ? errno : EIO));
            goto out;
        }
        rc = mm_scan_dockerfile(&r, "-", data, len, &lo, NULL, &lst);
        free(data);
    } else {
        rc = mm_scan_dockerfile(&r, path, NULL, 0, &lo, NULL, &lst);
    }
    if (rc < 0) {
        status = cli_fail(NULL);
        goto out;
    }
    if (lst.note[0] && !quiet)
        fprintf(stderr, "%s: note: %s\n", prog, lst.note);
    /* the pipeline's later stages: no database, no record, --severity */
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    for (int s = min_sev; s <= MM_SEV_CRITICAL; s++)
        po.filter.severities |= MM_SEV_BIT(s);
    mm_pipeline *pl = NULL;
    mm_pipeline_outcome oc;
    rc = mm_pipeline_new(&pl, &po);
    if (rc == 0)
        rc = mm_pipeline_process(pl, r, &oc);
    mm_pipeline_free(pl);
    if (rc < 0) {
        mm_result_free(r);
        status = cli_fail(NULL);
        goto out;
    }
    mm_pipeline_outcome_clear(&oc);
    mm_findings *keep = mm_result_findings(r);
    /* what counts for the exit status: every finding shown, or those at
     * or above the failure threshold */
    size_t nfail = 0;
    for (size_t i = 0; i < mm_findings_count(keep); i++) {
        const mm_finding *f = mm_findings_get(keep, i);
        if (!lo.has_threshold ||
            (lo.threshold != MM_SEV_UNKNOWN && f->severity >= lo.threshold))
            nfail++;
    }
    size_t nkept = mm_findings_count(keep);

    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        mm_result_free(r);
        goto out;
    }
    mm_report_opts ro;
    mm_report_opts_init(&ro);
    ro.color = !output && fmt == MM_FORMAT_TABLE && isatty(STDOUT_FILENO) &&
               !getenv("NO_COLOR");
    status = nfail && exit_code && !lo.no_fail ? exit_code : 0;
    if (mm_report_write(out, r, fmt, &ro) < 0)
        status = cli_fail("writing the report: ");
    if (output && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        status = EXIT_ERROR;
    }
    if (!quiet && nkept && status != EXIT_ERROR && fmt != MM_FORMAT_TABLE && output)
        fprintf(stderr, "%s: %zu findings in %s\n", prog, nkept, path);
    mm_result_free(r);
out:
    mm_dflint_opts_free(&lo);
    return status;
}
