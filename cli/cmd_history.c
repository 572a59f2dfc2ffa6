/*
 * cmd_history.c - `mamori history`: the scans recorded in the store,
 * newest first.
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
int cmd_history(int argc, char **argv)
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
        return cli_fail(NULL);
    printf("%-20s  %-19s  %8s  %8s  %s\n", "SCANNED", "KEY", "PACKAGES", "FINDINGS",
           "TARGET");
    rc = mm_store_list(st, limit, print_scan, NULL);
    mm_store_close(st);
    return rc < 0 ? cli_fail(NULL) : 0;
}
