/*
 * cmd_host.c - `mamori host`: views of the container host for its operator
 * (SP 800-190 §3.5; docs/host.md).
 *
 *   mamori host ps [--format table|json] [--container ID|NAME|host]
 *   mamori host logins [--wtmp F] [--btmp F] [--lastlog F] [--since DATE]
 *                      [--failed-threshold N] [--format table|json]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/host.h"
#include "cli.h"
#include "cli_host.h"

void host_usage(FILE *f)
{
    fprintf(f,
"Usage:\n"
"  mamori host ps [--format table|json] [--container ID|NAME|host]\n"
"      processes from /proc with user, start time, exe, command line and the\n"
"      container (id, runtime, name, image) each runs in (SP 800-190 §3.5.2)\n"
"  mamori host logins [--wtmp FILE] [--btmp FILE] [--lastlog FILE]\n"
"                     [--since DATE] [--failed-threshold N] [--format table|json]\n"
"      sessions paired as `last` does, failed logins, last login per account,\n"
"      and findings for §3.5.4 (defaults: /var/log/wtmp, btmp, lastlog; a\n"
"      missing default is skipped with a note; \"\" skips a file)\n"
"  DATE: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM] (UTC unless an offset), @EPOCH\n");
    cli_compliance_usage(f);
    cli_hostinv_usage(f);
}

static int parse_format(const char *s, bool *json)
{
    if (!strcmp(s, "json"))
        *json = true;
    else if (!strcmp(s, "table"))
        *json = false;
    else {
        fprintf(stderr, "%s: host: --format is table or json\n", prog);
        return -1;
    }
    return 0;
}

enum { O_WTMP = 1400, O_BTMP, O_LASTLOG, O_SINCE, O_CONTAINER, O_THRESHOLD, O_PROC_ROOT };

static int cmd_ps(int argc, char **argv)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"container", required_argument, NULL, O_CONTAINER},
        {"proc-root", required_argument, NULL, O_PROC_ROOT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mm_host_ps_opts o = {0};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (parse_format(optarg, &json))
                return EXIT_ERROR;
            break;
        case O_CONTAINER: o.container = optarg; break;
        case O_PROC_ROOT: o.proc_root = optarg; break;
        case 'h': host_usage(stdout); return 0;
        default: host_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: host ps: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    mm_host_procs *ps;
    if (mm_host_ps(&ps, &o))
        return cli_fail("host ps: ");
    int rc = mm_host_procs_write(stdout, ps, json) ? cli_fail("host ps: ") : 0;
    mm_host_procs_free(ps);
    return rc;
}

static int cmd_logins(int argc, char **argv)
{
    static const struct option lo[] = {
        {"format", required_argument, NULL, 'f'},
        {"wtmp", required_argument, NULL, O_WTMP},
        {"btmp", required_argument, NULL, O_BTMP},
        {"lastlog", required_argument, NULL, O_LASTLOG},
        {"since", required_argument, NULL, O_SINCE},
        {"failed-threshold", required_argument, NULL, O_THRESHOLD},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mm_logins_opts o = {0};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (parse_format(optarg, &json))
                return EXIT_ERROR;
            break;
        case O_WTMP: o.wtmp = optarg; break;
        case O_BTMP: o.btmp = optarg; break;
        case O_LASTLOG: o.lastlog = optarg; break;
        case O_SINCE:
            if (mm_host_parse_date(&o.since, optarg))
                return cli_fail("host logins: --since: ");
            break;
        case O_THRESHOLD: {
            char *e;
            unsigned long n = strtoul(optarg, &e, 10);
            if (*e || !n || n > 1000000) {
                fprintf(stderr, "%s: host logins: --failed-threshold wants 1..1000000\n", prog);
                return EXIT_ERROR;
            }
            o.failed_threshold = (unsigned)n;
            break;
        }
        case 'h': host_usage(stdout); return 0;
        default: host_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: host logins: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    mm_logins *l;
    if (mm_host_logins(&l, &o))
        return cli_fail("host logins: ");
    int rc = mm_logins_write(stdout, l, json) ? cli_fail("host logins: ") : 0;
    /* in JSON the notes are in the document; a table says them on stdout too */
    mm_logins_free(l);
    return rc;
}

int cmd_host(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        host_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : 0;
    }
    if (!strcmp(argv[1], "ps"))
        return cmd_ps(argc - 1, argv + 1);
    if (!strcmp(argv[1], "logins"))
        return cmd_logins(argc - 1, argv + 1);
    if (!strcmp(argv[1], "compliance"))
        return cmd_host_compliance(argc - 1, argv + 1);
    if (!strcmp(argv[1], "runtime"))
        return cmd_host_runtime(argc - 1, argv + 1);
    if (!strcmp(argv[1], "containers"))
        return cmd_host_containers(argc - 1, argv + 1);
    if (!strcmp(argv[1], "commands"))
        return cmd_host_commands(argc - 1, argv + 1);
    fprintf(stderr, "%s: host: unknown subcommand \"%s\"\n", prog, argv[1]);
    host_usage(stderr);
    return EXIT_ERROR;
}
