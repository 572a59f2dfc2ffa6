/*
 * cmd_scan.c - `mamori image` and `mamori rootfs`: options, the scan, the
 * store record and the report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "cli.h"

static void progress(void *ud, int layer, int nlayers, uint64_t done,
                     uint64_t total)
{
    (void)ud; (void)done; (void)total;
    fprintf(stderr, "\r%s: reading layer %d/%d...", prog, layer + 1, nlayers);
    fflush(stderr);
}

enum {
    OPT_PLATFORM = 256, OPT_SCANNERS, OPT_CACHE_DIR, OPT_NO_STORE,
    OPT_MAX_ENTRIES, OPT_MAX_PATH, OPT_MAX_FILE, OPT_MAX_TOTAL, OPT_MAX_LAYERS,
    OPT_THREADS, OPT_LIST_FILES,
};

static const struct option longopts[] = {
    {"input", required_argument, NULL, 'i'},
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"scanners", required_argument, NULL, OPT_SCANNERS},
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"no-store", no_argument, NULL, OPT_NO_STORE},
    {"max-entries", required_argument, NULL, OPT_MAX_ENTRIES},
    {"max-path", required_argument, NULL, OPT_MAX_PATH},
    {"max-file-size", required_argument, NULL, OPT_MAX_FILE},
    {"max-total-size", required_argument, NULL, OPT_MAX_TOTAL},
    {"max-layers", required_argument, NULL, OPT_MAX_LAYERS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"list-files", no_argument, NULL, OPT_LIST_FILES},
    {NULL, 0, NULL, 0},
};

static int parse_scanners(const char *list, unsigned *out)
{
    char *dup = strdup(list), *save = NULL;
    unsigned bits = 0;
    int rc = 0;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "vuln"))
            bits |= MM_SCANNER_VULN;
        else if (!strcmp(t, "secret"))
            bits |= MM_SCANNER_SECRET;
        else if (!strcmp(t, "misconfig"))
            bits |= MM_SCANNER_MISCONFIG;
        else if (!strcmp(t, "malware"))
            bits |= MM_SCANNER_MALWARE;
        else if (strcmp(t, "inventory") && strcmp(t, "sbom")) {
            fprintf(stderr, "%s: --scanners: unknown scanner \"%s\" "
                    "(vuln, secret, misconfig, malware)\n", prog, t);
            rc = -1;
        }
    }
    free(dup);
    *out = bits;
    return rc;
}

int cmd_scan(mm_target_kind kind, int argc, char **argv)
{
    mm_scan_opts opts;
    mm_scan_opts_init(&opts);
    const char *input = NULL, *format = "table", *output = NULL,
               *cache_dir = NULL, *scanners = NULL;
    bool quiet = false, no_store = false, list_files = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:f:o:qh", longopts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case 'i': input = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': quiet = true; break;
        case 'h': cli_usage(stdout); return 0;
        case OPT_PLATFORM: opts.platform = optarg; break;
        case OPT_SCANNERS: scanners = optarg; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case OPT_NO_STORE: no_store = true; break;
        case OPT_LIST_FILES: list_files = true; break;
        case OPT_THREADS: opts.threads = atoi(optarg); break;
        case OPT_MAX_ENTRIES: case OPT_MAX_PATH: case OPT_MAX_FILE:
        case OPT_MAX_TOTAL: case OPT_MAX_LAYERS:
            if (cli_parse_size(optarg, &v) < 0) {
                fprintf(stderr, "%s: %s: not a positive size: \"%s\"\n", prog,
                        argv[optind - 1], optarg);
                return EXIT_ERROR;
            }
            if (c == OPT_MAX_ENTRIES) opts.limits.max_entries = v;
            if (c == OPT_MAX_PATH) opts.limits.max_path = v;
            if (c == OPT_MAX_FILE) opts.limits.max_file_size = v;
            if (c == OPT_MAX_TOTAL) opts.limits.max_total_size = v;
            if (c == OPT_MAX_LAYERS) opts.limits.max_layers = v;
            break;
        default:
            fprintf(stderr, "Run '%s --help' for usage.\n", prog);
            return EXIT_ERROR;
        }
    }
    if (!input && optind < argc)
        input = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    if (!input) {
        fprintf(stderr, "%s: %s needs an input (%s)\n", prog,
                kind == MM_TARGET_IMAGE ? "image" : "rootfs",
                kind == MM_TARGET_IMAGE ? "--input FILE|DIR" : "DIR|TAR");
        return EXIT_ERROR;
    }
    mm_format fmt;
    if (mm_format_parse(&fmt, format) < 0)
        return cli_fail("--format: ");
    if (scanners && parse_scanners(scanners, &opts.scanners) < 0)
        return EXIT_ERROR;
    unsigned unavailable = opts.scanners & ~mm_scan_available_scanners();
    if (unavailable) {
        fprintf(stderr, "%s: --scanners: %s%s%s%sis not available in this version "
                "(the inventory is)\n", prog,
                unavailable & MM_SCANNER_VULN ? "vuln " : "",
                unavailable & MM_SCANNER_SECRET ? "secret " : "",
                unavailable & MM_SCANNER_MISCONFIG ? "misconfig " : "",
                unavailable & MM_SCANNER_MALWARE ? "malware " : "");
        return EXIT_ERROR;
    }

    bool tty = isatty(STDERR_FILENO) && !quiet;
    if (tty) {
        opts.progress = progress;
        opts.progress_ud = NULL;
    }
    mm_result *r;
    int rc = mm_scan(&r, kind, input, &opts);
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (rc < 0)
        return cli_fail(NULL);

    if (!scanners && !quiet)
        fprintf(stderr, "%s: note: vulnerability scanning skipped: no vulnerability "
                "database in this version (inventory only)\n", prog);
    if (!quiet)
        for (size_t i = 0; i < mm_result_warning_count(r); i++)
            fprintf(stderr, "%s: warning: %s\n", prog, mm_result_warning(r, i));

    int exit_status = 0;
    if (!no_store) {
        char *path = cache_dir ? NULL : mm_store_default_path();
        char *p = cache_dir ? NULL : path;
        char buf[4096];
        if (cache_dir) {
            snprintf(buf, sizeof buf, "%s/mamori.db", cache_dir);
            p = buf;
        }
        mm_store *st = NULL;
        if (mm_store_open(&st, p) < 0 || mm_store_put_scan(st, r, NULL) < 0) {
            /* a failed record is worth a warning, not a lost report */
            fprintf(stderr, "%s: warning: scan not recorded: %s\n", prog, mm_error_last());
        }
        mm_store_close(st);
        free(path);
    }

    FILE *out = stdout;
    if (output) {
        out = fopen(output, "w");
        if (!out) {
            fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
            mm_result_free(r);
            return EXIT_ERROR;
        }
    }
    mm_report_opts ro;
    mm_report_opts_init(&ro);
    ro.color = !output && fmt == MM_FORMAT_TABLE && isatty(STDOUT_FILENO) &&
               !getenv("NO_COLOR");
    ro.list_files = list_files;
    if (mm_report_write(out, r, fmt, &ro) < 0)
        exit_status = cli_fail("writing the report: ");
    if (output && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        exit_status = EXIT_ERROR;
    }
    mm_result_free(r);
    return exit_status;
}
