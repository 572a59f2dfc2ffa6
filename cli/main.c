/*
 * main.c - the `mamori` command.  Parses the command line, calls the
 * library, writes the report and reports an error once.  It parses no
 * formats and holds no policy: that is the library's.
 *
 * Exit status: 0 success, 2 error (bad input, bad usage, I/O), and later
 * --exit-code N when findings survive the filters.
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

#define EXIT_ERROR 2

static const char *prog = "mamori";

static void usage(FILE *f)
{
    fprintf(f,
"mamori %s - container security scanner (NIST SP 800-190)\n"
"\n"
"Usage:\n"
"  mamori image --input FILE|DIR[:REF] [options]   scan a docker-archive or OCI layout\n"
"  mamori rootfs DIR|TAR [options]                 scan an OS root filesystem\n"
"  mamori history [--limit N]                     scans recorded in the store\n"
"  mamori version\n"
"\n"
"Options:\n"
"  -i, --input PATH        image: docker-archive tar, OCI layout dir or tar; PATH:REF\n"
"                          picks a reference from an OCI layout holding several\n"
"      --platform OS/ARCH[/VARIANT]  image of a multi-platform index (linux/amd64)\n"
"  -f, --format FMT        table (default), json, cyclonedx, spdx-json\n"
"  -o, --output FILE       write the report to FILE instead of standard output\n"
"      --scanners LIST     comma-separated: vuln,secret,misconfig,malware (the\n"
"                          inventory always runs)\n"
"      --list-files        include owned files of packages in the JSON report\n"
"      --cache-dir DIR     where the scan store lives (default ~/.cache/mamori)\n"
"      --no-store          do not record the scan in the store\n"
"      --max-entries N     cap on tar entries over all layers (default 50M)\n"
"      --max-path N        cap on one entry name, bytes (default 4096)\n"
"      --max-file-size SZ  cap on one file (default 32G)\n"
"      --max-total-size SZ cap on all uncompressed layers (default 256G)\n"
"      --max-layers N      cap on layers (default 1024)\n"
"      --threads N         1 = no decoder thread (default: all cores)\n"
"  -q, --quiet             no progress or warnings on standard error\n"
"  -h, --help\n"
"\n"
"Sizes take K, M, G or T suffixes (powers of 1024).  Exit status: 0 on\n"
"success, 2 on errors (the message names the file and the field).\n",
            MM_VERSION);
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 0: break;
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    case 't': case 'T': shift = 40; end++; break;
    default: return -1;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end || v == 0 || (shift && v > (UINT64_MAX >> shift)))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int fail(const char *what)
{
    fprintf(stderr, "%s: %s%s\n", prog, what ? what : "", mm_error_last());
    return EXIT_ERROR;
}

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

static int cmd_scan(mm_target_kind kind, int argc, char **argv)
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
        case 'h': usage(stdout); return 0;
        case OPT_PLATFORM: opts.platform = optarg; break;
        case OPT_SCANNERS: scanners = optarg; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case OPT_NO_STORE: no_store = true; break;
        case OPT_LIST_FILES: list_files = true; break;
        case OPT_THREADS: opts.threads = atoi(optarg); break;
        case OPT_MAX_ENTRIES: case OPT_MAX_PATH: case OPT_MAX_FILE:
        case OPT_MAX_TOTAL: case OPT_MAX_LAYERS:
            if (parse_size(optarg, &v) < 0) {
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
        return fail("--format: ");
    if (scanners && parse_scanners(scanners, &opts.scanners) < 0)
        return EXIT_ERROR;
    unsigned unavailable = opts.scanners & (MM_SCANNER_SECRET | MM_SCANNER_MISCONFIG |
                                            MM_SCANNER_MALWARE | MM_SCANNER_VULN);
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
        return fail(NULL);

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
        exit_status = fail("writing the report: ");
    if (output && fclose(out) != 0) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        exit_status = EXIT_ERROR;
    }
    mm_result_free(r);
    return exit_status;
}

static void mm_time_rfc3339_cli(int64_t t, char out[32])
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int print_scan(void *ud, const mm_scan_record *rec)
{
    (void)ud;
    char when[32];
    mm_time_rfc3339_cli(rec->scanned_at, when);
    printf("%-20s  %-19.19s  %8lld  %8lld  %s\n", when, rec->key ? rec->key : "",
           (long long)rec->npackages, (long long)rec->nfindings,
           rec->target ? rec->target : "");
    return 0;
}

/* mamori history: the scans recorded in the store, newest first. */
static int cmd_history(int argc, char **argv)
{
    const char *cache_dir = NULL;
    int limit = 20, c;
    static const struct option hopts[] = {
        {"cache-dir", required_argument, NULL, 'd'},
        {"limit", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:h", hopts, NULL)) != -1) {
        if (c == 'd')
            cache_dir = optarg;
        else if (c == 'n')
            limit = atoi(optarg);
        else if (c == 'h') {
            printf("Usage: mamori history [--limit N] [--cache-dir DIR]\n");
            return 0;
        } else
            return EXIT_ERROR;
    }
    char *path = cache_dir ? NULL : mm_store_default_path();
    char buf[4096];
    if (cache_dir)
        snprintf(buf, sizeof buf, "%s/mamori.db", cache_dir);
    mm_store *st = NULL;
    int rc = mm_store_open(&st, cache_dir ? buf : path);
    free(path);
    if (rc < 0)
        return fail(NULL);
    printf("%-20s  %-19s  %8s  %8s  %s\n", "SCANNED", "KEY", "PACKAGES", "FINDINGS",
           "TARGET");
    rc = mm_store_list(st, limit, print_scan, NULL);
    mm_store_close(st);
    return rc < 0 ? fail(NULL) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_ERROR;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "image"))
        return cmd_scan(MM_TARGET_IMAGE, argc - 1, argv + 1);
    if (!strcmp(cmd, "rootfs"))
        return cmd_scan(MM_TARGET_ROOTFS, argc - 1, argv + 1);
    if (!strcmp(cmd, "history"))
        return cmd_history(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("mamori %s\n", MM_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "%s: unknown command \"%s\"\nRun '%s --help' for usage.\n",
            prog, cmd, prog);
    return EXIT_ERROR;
}
