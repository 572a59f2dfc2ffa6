/*
 * cmd_sbom.c - `mamori sbom FILE`: re-evaluates a stored CycloneDX or SPDX
 * JSON SBOM (ours or another tool's) against today's vulnerability
 * database, so that an image is re-checked when new advisories appear
 * without pulling it again (SP 800-190 §4.1.1).  Same filters, formats and
 * exit codes as `mamori image`.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/sbom.h"
#include "cli.h"

int cmd_sbom(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {"cache-dir", required_argument, NULL, 'C'},
        CLI_VULN_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *format = "table", *output = NULL;
    cli_vuln vo;
    memset(&vo, 0, sizeof vo);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': vo.quiet = true; break;
        case 'C': vo.cache_dir = optarg; break;
        case 'h': cli_usage(stdout); return 0;
        default: {
            int k = cli_vuln_option(&vo, c, optarg);
            if (k > 0)
                break;
            if (k == 0)
                fprintf(stderr, "Run '%s --help' for usage.\n", prog);
            return EXIT_ERROR;
        }
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: sbom needs a file (CycloneDX or SPDX JSON)\n", prog);
        return EXIT_ERROR;
    }
    const char *file = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    mm_format fmt;
    if (mm_format_parse(&fmt, format) < 0)
        return cli_fail("--format: ");
    mm_result *r = NULL;
    if (mm_sbom_load(&r, file) < 0)
        return cli_fail(NULL);
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    mm_pipeline *pl = NULL;
    mm_pipeline_outcome oc;
    memset(&oc, 0, sizeof oc);
    int rc = cli_pipeline_setup(&po, &vo, true, true);
    if (rc == 0 && mm_pipeline_new(&pl, &po) < 0)
        rc = cli_fail(NULL);
    if (rc == 0) {
        if (mm_pipeline_process(pl, r, &oc) < 0) {
            rc = cli_pipeline_fail(&oc, &vo);
        } else {
            cli_pipeline_notes(&oc, &vo);
            rc = cli_report(r, &oc, &vo, fmt, output, false);
        }
    }
    mm_pipeline_outcome_clear(&oc);
    mm_pipeline_free(pl);
    mm_result_free(r);
    cli_vuln_free(&vo);
    return rc;
}
