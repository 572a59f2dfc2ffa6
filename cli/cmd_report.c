/*
 * cmd_report.c - `mamori report`: the NIST SP 800-190 report of one
 * image, host, cluster or set of scans.  Parses the options, hands the
 * JSON reports named on the command line and (with --store) the newest
 * scan of each image recorded in the store to the library
 * (mamori/sp800190.h), and writes the HTML or JSON report.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "cli.h"

static void report_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori report [REPORT.json|- ...] [--store] [options]\n"
"\n"
"The SP 800-190 report: the coverage matrix of the 33 rows (passing, findings,\n"
"not covered, with the evidence), then every finding under its section.\n"
"REPORT.json are mamori JSON reports (--format json of image, rootfs, k8s,\n"
"config, host compliance); - reads one from standard input.  See docs/report.md.\n"
"\n"
"  -f, --format FMT       html (default: one self-contained file) or json\n"
"  -o, --output FILE      write the report to FILE instead of standard output\n"
"      --store            add the newest record of each image (and admission\n"
"                         decision) in the store\n"
"      --limit N          with --store: at most N of them, newest first (100)\n"
"      --cache-dir DIR    where the store lives (default ~/.cache/mamori)\n"
"      --severity LIST    only findings of these severities (rows still count all)\n"
"      --title TEXT       the report's heading\n"
"  -h, --help\n");
}

typedef struct keys {
    char **v;
    size_t n;
    size_t limit;
} keys;

static int collect_key(void *ud, const mm_scan_record *rec)
{
    keys *k = ud;
    if (!rec->key)
        return 0;
    for (size_t i = 0; i < k->n; i++)
        if (!strcmp(k->v[i], rec->key))
            return 0;
    char **nv = realloc(k->v, (k->n + 1) * sizeof *nv);
    char *s = strdup(rec->key);
    if (!nv || !s) {
        free(s);
        if (nv)
            k->v = nv;
        return 1;
    }
    k->v = nv;
    k->v[k->n++] = s;
    return k->n >= k->limit;
}

static int add_store(mm_spreport *rep, const char *cache_dir, size_t limit)
{
    char *path = cli_store_path(cache_dir);
    mm_store *st = NULL;
    int rc = path ? mm_store_open(&st, path) : -1;
    free(path);
    if (rc < 0)
        return cli_fail("--store: ");
    keys k = {NULL, 0, limit};
    int status = 0;
    if (mm_store_list(st, 0, collect_key, &k) < 0)
        status = cli_fail("--store: ");
    for (size_t i = 0; !status && i < k.n; i++) {
        mm_scan_record *rec;
        if (mm_store_get_latest(st, k.v[i], &rec) < 0) {
            status = cli_fail("--store: ");
            break;
        }
        char name[300];
        snprintf(name, sizeof name, "store:%s", k.v[i]);
        /* a record the report cannot read (written by an older mamori, or
         * damaged) is skipped with a warning: one bad row must not hide the
         * rest of the store */
        const char *js = rec->report_json ? rec->report_json : "";
        if (mm_spreport_add_json(rep, name, js, strlen(js)) < 0)
            fprintf(stderr, "%s: warning: %s (skipped)\n", prog, mm_error_last());
        mm_scan_record_free(rec);
    }
    for (size_t i = 0; i < k.n; i++)
        free(k.v[i]);
    free(k.v);
    mm_store_close(st);
    return status;
}

int cmd_report(int argc, char **argv)
{
    enum { OPT_STORE = 256, OPT_LIMIT, OPT_CACHE_DIR, OPT_TITLE };
    static const struct option lopts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"store", no_argument, NULL, OPT_STORE},
        {"limit", required_argument, NULL, OPT_LIMIT},
        {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
        {"severity", required_argument, NULL, CLI_OPT_SEVERITY},
        {"title", required_argument, NULL, OPT_TITLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "html", *output = NULL, *cache_dir = NULL, *title = NULL;
    bool store = false;
    unsigned sev = 0;
    long limit = 100;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", lopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case OPT_STORE: store = true; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case OPT_TITLE: title = optarg; break;
        case OPT_LIMIT:
            errno = 0;
            limit = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || limit < 1 || limit > 1000000) {
                fprintf(stderr, "%s: --limit: \"%s\" is not a number from 1 to 1000000\n",
                        prog, optarg);
                return EXIT_ERROR;
            }
            break;
        case CLI_OPT_SEVERITY:
            if (mm_severity_set_parse(&sev, optarg) < 0)
                return cli_fail("--severity: ");
            break;
        case 'h': report_usage(stdout); return 0;
        default: report_usage(stderr); return EXIT_ERROR;
        }
    }
    mm_spformat fmt;
    if (mm_spformat_parse(&fmt, format) < 0)
        return cli_fail("--format: ");
    if (optind >= argc && !store) {
        fprintf(stderr, "%s: report: name JSON reports or --store\n", prog);
        report_usage(stderr);
        return EXIT_ERROR;
    }
    mm_spreport *rep;
    if (mm_spreport_new(&rep, NULL) < 0)
        return cli_fail(NULL);
    int status = 0;
    bool stdin_used = false;
    for (int i = optind; !status && i < argc; i++) {
        if (!strcmp(argv[i], "-")) {
            char *data;
            size_t len;
            if (stdin_used) {
                fprintf(stderr, "%s: report: standard input named twice\n", prog);
                status = EXIT_ERROR;
                break;
            }
            stdin_used = true;
            /* a little past the reader's cap, which then refuses it by name */
            if (cli_read_stdin(&data, &len, 256ull << 20) < 0) {
                fprintf(stderr, "%s: standard input: %s\n", prog, strerror(errno ? errno : EIO));
                status = EXIT_ERROR;
                break;
            }
            if (mm_spreport_add_json(rep, "-", data, len) < 0)
                status = cli_fail(NULL);
            free(data);
        } else if (mm_spreport_add_file(rep, argv[i]) < 0) {
            status = cli_fail(NULL);
        }
    }
    if (!status && store)
        status = add_store(rep, cache_dir, (size_t)limit);
    if (!status && !mm_spreport_input_count(rep)) {
        fprintf(stderr, "%s: report: the store holds no scan\n", prog);
        status = EXIT_ERROR;
    }
    if (status) {
        mm_spreport_free(rep);
        return status;
    }
    mm_spreport_set_severities(rep, sev);
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        mm_spreport_free(rep);
        return EXIT_ERROR;
    }
    mm_spreport_opts o = {.title = title};
    if (mm_spreport_write(out, rep, fmt, &o) < 0)
        status = cli_fail(output ? output : "standard output: ");
    if (output && fclose(out) != 0 && !status) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        status = EXIT_ERROR;
    }
    mm_spreport_free(rep);
    return status;
}
