/*
 * cmd_hostinv.c - `mamori host runtime`, `mamori host containers` and
 * `mamori host commands`: the runtime software with its vulnerabilities
 * (§3.4.1), every container with its privileges and mounts (§3.5.4,
 * §3.5.5) and the interactive commands of the host and its containers
 * (§3.5.4).  docs/host.md.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mamori/filter.h"
#include "mamori/host.h"
#include "mamori/hostinv.h"
#include "mamori/vuln.h"
#include "cli.h"
#include "cli_host.h"

void cli_hostinv_usage(FILE *f)
{
    fprintf(f,
"  mamori host runtime [--root DIR] [--binary NAME=PATH]... [--kernel RELEASE]\n"
"                      [--run-version]\n"
"                      [--db-path FILE] [--format table|json|sarif] [--severity LIST]\n"
"                      [--ignore-unfixed] [--exit-code N] [--ignorefile FILE] [-o FILE]\n"
"      runc, crun, containerd, dockerd, podman, CRI-O, kubelet and the kernel with\n"
"      their vulnerabilities (§3.4.1): packages through the distribution's feed,\n"
"      stand-alone binaries through their Go build info\n"
"  mamori host containers [--root DIR] [--docker-host H] [--no-docker] [--podman CMD]\n"
"                         [--podman-root DIR] [--podman-runroot DIR] [--no-podman]\n"
"                         [--containerd-root DIR] [--crio-root DIR] [--no-disk]\n"
"                         [--format table|json]\n"
"      every container of docker, podman, containerd and CRI-O: image, user,\n"
"      privileges, capabilities, mounts, disk use, findings on host paths\n"
"  mamori host commands [--store FILE]... [--user U] [--container ID|NAME|host]\n"
"                       [--since DATE] [--format table|json]\n"
"      interactive commands (TTY sessions and shells' children) from the agent's\n"
"      exec store (mamori agent --exec-store FILE) or captures\n");
}

enum { O_ROOT = 1600, O_BINARY, O_KERNEL, O_CACHE, O_RUN_VERSION };

int cmd_host_runtime(int argc, char **argv)
{
    static const struct option lo[] = {
        {"root", required_argument, NULL, O_ROOT},
        {"binary", required_argument, NULL, O_BINARY},
        {"kernel", required_argument, NULL, O_KERNEL},
        {"run-version", no_argument, NULL, O_RUN_VERSION},
        {"cache-dir", required_argument, NULL, O_CACHE},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        CLI_VULN_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    mm_runtime_opts ro = {0};
    const char *bins[64];
    size_t nbins = 0;
    const char *format = "table", *output = NULL;
    cli_vuln v = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:qh", lo, NULL)) != -1) {
        int vr = cli_vuln_option(&v, c, optarg);
        if (vr < 0)
            return EXIT_ERROR;
        if (vr > 0)
            continue;
        switch (c) {
        case O_ROOT: ro.root = optarg; break;
        case O_BINARY:
            if (nbins >= 64) {
                fprintf(stderr, "%s: host runtime: at most 64 --binary\n", prog);
                return EXIT_ERROR;
            }
            bins[nbins++] = optarg;
            break;
        case O_KERNEL: ro.kernel_release = optarg; break;
        case O_RUN_VERSION: ro.run_version = true; break;
        case O_CACHE: v.cache_dir = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': v.quiet = true; break;
        case 'h': host_usage(stdout); return 0;
        default: host_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: host runtime: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    mm_format fmt;
    if (mm_format_parse(&fmt, format) < 0 ||
        (fmt != MM_FORMAT_TABLE && fmt != MM_FORMAT_JSON && fmt != MM_FORMAT_SARIF)) {
        fprintf(stderr, "%s: host runtime: --format is table, json or sarif\n", prog);
        return EXIT_ERROR;
    }
    ro.binaries = bins;
    ro.nbinaries = nbins;
    mm_runtime_inv *inv;
    if (mm_host_runtime(&inv, &ro) < 0)
        return cli_fail("host runtime: ");
    /* the database: absent is a warning, as for images */
    char *path = cli_vuln_db_path(&v);
    mm_vulndb *db = NULL;
    struct stat sb;
    if (path && stat(path, &sb) == 0) {
        if (mm_vulndb_open(&db, path) < 0) {
            free(path);
            mm_runtime_inv_free(inv);
            return cli_fail("vulnerability database: ");
        }
    } else if (!v.quiet) {
        fprintf(stderr, "%s: warning: vulnerability scanning skipped: no database at %s (run "
                "`mamori db update` or `mamori db import`)\n", prog, path ? path : "?");
    }
    free(path);
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    mm_vuln_opts vo;
    mm_vuln_opts_init(&vo);
    vo.ignore_unfixed = v.ignore_unfixed;
    if (v.max_age_days)
        vo.max_age_days = v.max_age_days;
    mm_result *r;
    int rc = mm_runtime_result(&r, inv, db, &vo, host);
    mm_vulndb_close(db);
    if (rc < 0) {
        mm_runtime_inv_free(inv);
        return cli_fail("host runtime: ");
    }
    if (fmt == MM_FORMAT_TABLE && !output) {
        mm_runtime_inv_write(stdout, inv, false);
        printf("\n");
    }
    mm_runtime_inv_free(inv);
    rc = cli_filter_report(r, &v, fmt, output);
    mm_result_free(r);
    return rc;
}

enum {
    O_DOCKER_HOST = 1650, O_NO_DOCKER, O_PODMAN, O_PODMAN_ROOT, O_PODMAN_RUNROOT, O_NO_PODMAN,
    O_CONTAINERD, O_CRIO, O_NO_DISK,
};

int cmd_host_containers(int argc, char **argv)
{
    static const struct option lo[] = {
        {"root", required_argument, NULL, O_ROOT},
        {"docker-host", required_argument, NULL, O_DOCKER_HOST},
        {"no-docker", no_argument, NULL, O_NO_DOCKER},
        {"podman", required_argument, NULL, O_PODMAN},
        {"podman-root", required_argument, NULL, O_PODMAN_ROOT},
        {"podman-runroot", required_argument, NULL, O_PODMAN_RUNROOT},
        {"no-podman", no_argument, NULL, O_NO_PODMAN},
        {"containerd-state", required_argument, NULL, O_CONTAINERD},
        {"crio-root", required_argument, NULL, O_CRIO},
        {"no-disk", no_argument, NULL, O_NO_DISK},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mm_containers_opts o = {0};
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case O_ROOT: o.root = optarg; break;
        case O_DOCKER_HOST: o.docker_host = optarg; break;
        case O_NO_DOCKER: o.no_docker = true; break;
        case O_PODMAN: o.podman = optarg; break;
        case O_PODMAN_ROOT: o.podman_root = optarg; break;
        case O_PODMAN_RUNROOT: o.podman_runroot = optarg; break;
        case O_NO_PODMAN: o.no_podman = true; break;
        case O_CONTAINERD: o.containerd_state = optarg; break;
        case O_CRIO: o.crio_root = optarg; break;
        case O_NO_DISK: o.no_disk = true; break;
        case 'f':
            if (!strcmp(optarg, "json"))
                json = true;
            else if (strcmp(optarg, "table")) {
                fprintf(stderr, "%s: host containers: --format is table or json\n", prog);
                return EXIT_ERROR;
            }
            break;
        case 'h': host_usage(stdout); return 0;
        default: host_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: host containers: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    mm_containers *cs;
    if (mm_host_containers(&cs, &o) < 0)
        return cli_fail("host containers: ");
    int rc = mm_containers_write(stdout, cs, json) < 0 ? cli_fail("host containers: ") : 0;
    mm_containers_free(cs);
    return rc;
}

enum { O_STORE = 1700, O_USER, O_CONTAINER, O_SINCE };

int cmd_host_commands(int argc, char **argv)
{
    static const struct option lo[] = {
        {"store", required_argument, NULL, O_STORE},
        {"user", required_argument, NULL, O_USER},
        {"container", required_argument, NULL, O_CONTAINER},
        {"since", required_argument, NULL, O_SINCE},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mm_commands_opts o = {0};
    const char *stores[64];
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:h", lo, NULL)) != -1) {
        switch (c) {
        case O_STORE:
            if (o.nstores >= 64) {
                fprintf(stderr, "%s: host commands: at most 64 --store\n", prog);
                return EXIT_ERROR;
            }
            stores[o.nstores++] = optarg;
            break;
        case O_USER: o.user = optarg; break;
        case O_CONTAINER: o.container = optarg; break;
        case O_SINCE:
            if (mm_host_parse_date(&o.since, optarg))
                return cli_fail("host commands: --since: ");
            break;
        case 'f':
            if (!strcmp(optarg, "json"))
                json = true;
            else if (strcmp(optarg, "table")) {
                fprintf(stderr, "%s: host commands: --format is table or json\n", prog);
                return EXIT_ERROR;
            }
            break;
        case 'h': host_usage(stdout); return 0;
        default: host_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: host commands: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    o.stores = stores;
    mm_commands *cs;
    if (mm_host_commands(&cs, &o) < 0)
        return cli_fail("host commands: ");
    int rc = mm_commands_write(stdout, cs, json) < 0 ? cli_fail("host commands: ") : 0;
    mm_commands_free(cs);
    return rc;
}
