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
    OPT_LIST_RULES,
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
"      --config FILE           YAML: ignored: [ids], allowed-registries: [..],\n"
"                              severity-overrides: {ID: SEV}; hadolint's\n"
"                              .hadolint.yaml (ignored, trustedRegistries) works too\n"
"      --allowed-registries L  comma-separated registries base images may come from\n"
"      --ignore IDS            comma-separated rule ids (MM-DF-xxx or DLxxxx) to skip\n"
"      --list-rules            print the rules and exit\n"
"  -q, --quiet\n"
"\n"
"Exit status: 0, N (--exit-code) when findings remain, 2 on errors.\n");
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
    bool quiet = false;
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
    if (config && mm_dflint_config_load(&lo, config) < 0) {
        status = cli_fail("--config: ");
        goto out;
    }

    mm_dockerfile *df = NULL;
    int rc;
    if (!strcmp(path, "-")) {
        char *data;
        size_t len;
        if (cli_read_stdin(&data, &len, MM_DF_MAX_SIZE) < 0) {
            fprintf(stderr, "%s: standard input: %s\n", prog, strerror(errno ? errno : EIO));
            goto out;
        }
        rc = mm_dockerfile_parse(&df, "-", data, len);
        free(data);
    } else {
        rc = mm_dockerfile_load(&df, path);
    }
    if (rc < 0) {
        status = cli_fail(NULL);
        goto out;
    }
    mm_findings *all;
    mm_findings_new(&all);
    rc = mm_dockerfile_lint(df, &lo, all);
    mm_dockerfile_free(df);
    if (rc < 0) {
        mm_findings_free(all);
        status = cli_fail(NULL);
        goto out;
    }
    mm_result *r;
    if (mm_result_new_for_file(&r, path) < 0) {
        mm_findings_free(all);
        status = cli_fail(NULL);
        goto out;
    }
    mm_findings *keep = mm_result_findings(r);
    for (size_t i = 0; i < mm_findings_count(all); i++) {
        const mm_finding *f = mm_findings_get(all, i);
        if (f->severity >= min_sev)
            mm_findings_add(keep, f);
    }
    mm_findings_free(all);
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
    status = nkept && exit_code ? exit_code : 0;
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
