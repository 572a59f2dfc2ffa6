/*
 * cmd_hostcheck.c - `mamori host compliance`: CIS Docker and CIS Debian
 * checks, SCAP content, and --fix (SP 800-190 §3.4.3, §3.5;
 * docs/compliance.md).  Findings go through the common report writers and
 * filters, so --format, --severity, --exit-code and ignore files work as
 * for images.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/compliance.h"
#include "mamori/filter.h"
#include "cli.h"
#include "cli_host.h"

void cli_compliance_usage(FILE *f)
{
    fprintf(f,
"  mamori host compliance [--cis docker,linux] [--xccdf DATASTREAM --profile ID\n"
"                         [--tailoring FILE] [--arf FILE]] [--root DIR]\n"
"                         [--docker-host unix:///PATH] [--no-docker]\n"
"                         [--podman CMD] [--podman-root DIR] [--podman-runroot DIR]\n"
"                         [--no-podman] [--inspect FILE]... [--all] [--auditctl FILE]\n"
"                         [--manual] [--format table|json|sarif|checks|checks-json]\n"
"                         [--severity LIST] [--exit-code N] [--ignorefile FILE] [-o FILE]\n"
"                         [--fix [--apply [--restart] [--backup-dir DIR]]] [--list]\n"
"      CIS Docker Benchmark v1.6.0 (host, daemon, files, every container), native\n"
"      CIS Debian Linux items, SCAP datastreams (libopenscap); failures are findings\n"
"      (§3.4.3, §3.5).  --fix prints the safe changes as a diff; --apply makes them\n"
"      with a backup and rollback.sh; --restart restarts docker for daemon.json\n");
}

enum {
    O_CIS = 1500, O_XCCDF, O_PROFILE, O_TAILORING, O_ARF, O_ROOT, O_DOCKER_HOST, O_NO_DOCKER,
    O_PODMAN, O_PODMAN_ROOT, O_PODMAN_RUNROOT, O_NO_PODMAN, O_INSPECT, O_ALL, O_AUDITCTL,
    O_MANUAL, O_FIX, O_APPLY, O_RESTART, O_BACKUP, O_LIST, O_PROC_ROOT, O_NO_LIVE,
};

static int list_checks(void)
{
    printf("%-20s %-9s %-12s %-8s %-8s %s\n", "ID", "ITEM", "DOCKER-BENCH", "SP800190",
           "SEVERITY", "TITLE");
    for (size_t i = 0; i < mm_check_def_count(); i++) {
        const mm_check_def *d = mm_check_def_get(i);
        printf("%-20s %-9s %-12s %-8s %-8s %s\n", d->id, d->number, d->dbs_id ? d->dbs_id : "-",
               d->section, mm_severity_name(d->severity), d->title);
    }
    return 0;
}

int cmd_host_compliance(int argc, char **argv)
{
    static const struct option lo[] = {
        {"cis", required_argument, NULL, O_CIS},
        {"xccdf", required_argument, NULL, O_XCCDF},
        {"profile", required_argument, NULL, O_PROFILE},
        {"tailoring", required_argument, NULL, O_TAILORING},
        {"arf", required_argument, NULL, O_ARF},
        {"root", required_argument, NULL, O_ROOT},
        {"proc-root", required_argument, NULL, O_PROC_ROOT},
        {"no-live", no_argument, NULL, O_NO_LIVE},
        {"docker-host", required_argument, NULL, O_DOCKER_HOST},
        {"no-docker", no_argument, NULL, O_NO_DOCKER},
        {"podman", required_argument, NULL, O_PODMAN},
        {"podman-root", required_argument, NULL, O_PODMAN_ROOT},
        {"podman-runroot", required_argument, NULL, O_PODMAN_RUNROOT},
        {"no-podman", no_argument, NULL, O_NO_PODMAN},
        {"inspect", required_argument, NULL, O_INSPECT},
        {"all", no_argument, NULL, O_ALL},
        {"auditctl", required_argument, NULL, O_AUDITCTL},
        {"manual", no_argument, NULL, O_MANUAL},
        {"fix", no_argument, NULL, O_FIX},
        {"apply", no_argument, NULL, O_APPLY},
        {"restart", no_argument, NULL, O_RESTART},
        {"backup-dir", required_argument, NULL, O_BACKUP},
        {"list", no_argument, NULL, O_LIST},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        CLI_VULN_LONGOPTS,
        {NULL, 0, NULL, 0},
    };
    const char *cis = NULL, *format = "table", *output = NULL;
    mm_scap_opts so = {0};
    mm_docker_check_opts dopt = {0};
    mm_linux_check_opts lopt = {0};
    mm_fix_opts fo = {0};
    const char *inspect[256];
    size_t ninspect = 0;
    bool manual = false, fix = false, list = false;
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
        case O_CIS: cis = optarg; break;
        case O_XCCDF: so.datastream = optarg; break;
        case O_PROFILE: so.profile = optarg; break;
        case O_TAILORING: so.tailoring = optarg; break;
        case O_ARF: so.results_arf = optarg; break;
        case O_ROOT: dopt.root = lopt.root = fo.root = optarg; break;
        case O_PROC_ROOT: dopt.proc_root = lopt.proc_root = optarg; break;
        case O_NO_LIVE: lopt.no_live = true; break;
        case O_DOCKER_HOST: dopt.docker_host = optarg; break;
        case O_NO_DOCKER: dopt.no_docker = true; break;
        case O_PODMAN: dopt.podman = optarg; break;
        case O_PODMAN_ROOT: dopt.podman_root = optarg; break;
        case O_PODMAN_RUNROOT: dopt.podman_runroot = optarg; break;
        case O_NO_PODMAN: dopt.no_podman = true; break;
        case O_INSPECT:
            if (ninspect >= 256) {
                fprintf(stderr, "%s: host compliance: at most 256 --inspect files\n", prog);
                return EXIT_ERROR;
            }
            inspect[ninspect++] = optarg;
            break;
        case O_ALL: dopt.all_containers = true; break;
        case O_AUDITCTL: dopt.auditctl = optarg; break;
        case O_MANUAL: manual = true; break;
        case O_FIX: fix = true; break;
        case O_APPLY: fo.apply = true; break;
        case O_RESTART: fo.restart = true; break;
        case O_BACKUP: fo.backup_dir = optarg; break;
        case O_LIST: list = true; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': v.quiet = true; break;
        case 'h': host_usage(stdout); return 0;
        default: host_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: host compliance: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    if (list)
        return list_checks();
    if ((so.datastream != NULL) != (so.profile != NULL)) {
        fprintf(stderr, "%s: host compliance: --xccdf and --profile go together\n", prog);
        return EXIT_ERROR;
    }
    if ((fo.apply || fo.restart) && !fix) {
        fprintf(stderr, "%s: host compliance: --apply and --restart need --fix\n", prog);
        return EXIT_ERROR;
    }
    bool want_docker = false, want_linux = false;
    if (!cis && !so.datastream)
        want_docker = want_linux = true;
    if (cis) {
        char *dup = strdup(cis), *save = NULL;
        for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (!strcmp(t, "docker"))
                want_docker = true;
            else if (!strcmp(t, "linux") || !strcmp(t, "debian"))
                want_linux = true;
            else {
                fprintf(stderr, "%s: host compliance: --cis takes docker and linux, not \"%s\"\n", prog, t);
                free(dup);
                return EXIT_ERROR;
            }
        }
        free(dup);
    }
    mm_format fmt = MM_FORMAT_TABLE;
    bool checks_text = !strcmp(format, "checks"), checks_json = !strcmp(format, "checks-json");
    if (!checks_text && !checks_json &&
        (mm_format_parse(&fmt, format) < 0 ||
         (fmt != MM_FORMAT_TABLE && fmt != MM_FORMAT_JSON && fmt != MM_FORMAT_SARIF))) {
        fprintf(stderr, "%s: host compliance: --format is table, json, sarif, checks or checks-json\n", prog);
        return EXIT_ERROR;
    }
    dopt.inspect_files = inspect;
    dopt.ninspect = ninspect;

    mm_checks *cr;
    mm_checks_new(&cr);
    int rc = 0;
    if (want_docker && mm_docker_checks(cr, &dopt) < 0)
        rc = cli_fail("host compliance: ");
    if (!rc && want_linux && mm_linux_checks(cr, &lopt) < 0)
        rc = cli_fail("host compliance: ");
    if (!rc && so.datastream) {
        /* oscap's offline mode: probes read below the root */
        if (dopt.root && strcmp(dopt.root, "/"))
            setenv("OSCAP_PROBE_ROOT", dopt.root, 1);
        if (mm_scap_eval(cr, &so) < 0)
            rc = cli_fail("host compliance: ");
    }
    if (rc) {
        mm_checks_free(cr);
        return rc;
    }
    if (fix) {
        mm_fix_plan *plan;
        if (mm_fix_plan_new(&plan, cr, &fo) < 0) {
            mm_checks_free(cr);
            return cli_fail("host compliance --fix: ");
        }
        if (!mm_fix_plan_count(plan))
            printf("# nothing to fix: no failed check has a safe automatic fix\n");
        mm_fix_plan_diff(stdout, plan);
        if (fo.apply && mm_fix_plan_count(plan)) {
            char *bdir = NULL, *notes = NULL;
            if (mm_fix_plan_apply(plan, &bdir, &notes) < 0)
                rc = cli_fail("host compliance --apply: ");
            if (bdir)
                printf("# applied; backup and rollback script in %s (sh %s/rollback.sh undoes it)\n",
                       bdir, bdir);
            if (notes && *notes)
                printf("%s", notes);
            free(bdir);
            free(notes);
        } else if (mm_fix_plan_count(plan)) {
            printf("# dry run: nothing was changed (add --apply)\n");
        }
        mm_fix_plan_free(plan);
        mm_checks_free(cr);
        return rc;
    }
    if (checks_text || checks_json) {
        FILE *out = output ? fopen(output, "w") : stdout;
        if (!out) {
            perror(output);
            mm_checks_free(cr);
            return EXIT_ERROR;
        }
        rc = mm_checks_write(out, cr, checks_json) < 0 ? cli_fail("host compliance: ") : 0;
        if (output)
            fclose(out);
        size_t counts[MM_CHECK_ERROR + 1];
        mm_checks_tally(cr, counts);
        if (!rc && v.exit_code && counts[MM_CHECK_FAIL])
            rc = v.exit_code;
        mm_checks_free(cr);
        return rc;
    }
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    char *target = cli_host_target(host, dopt.root);
    mm_result *r;
    if (mm_result_new(&r, MM_TARGET_ROOTFS, target) < 0) {
        free(target);
        mm_checks_free(cr);
        return cli_fail("host compliance: ");
    }
    free(target);
    mm_result_add_scanners(r, MM_SCANNER_COMPLIANCE);
    rc = mm_checks_to_findings(cr, mm_result_findings(r), host, manual);
    for (size_t i = 0; i < mm_checks_note_count(cr); i++)
        mm_result_warn(r, "%s", mm_checks_note(cr, i));
    size_t counts[MM_CHECK_ERROR + 1];
    mm_checks_tally(cr, counts);
    if (!v.quiet)
        fprintf(stderr, "%s: %zu checks: %zu pass, %zu fail, %zu manual, %zu not applicable, %zu error\n",
                prog, mm_checks_count(cr), counts[MM_CHECK_PASS], counts[MM_CHECK_FAIL],
                counts[MM_CHECK_MANUAL], counts[MM_CHECK_NA], counts[MM_CHECK_ERROR]);
    mm_checks_free(cr);
    if (rc < 0) {
        mm_result_free(r);
        return cli_fail("host compliance: ");
    }
    rc = cli_filter_report(r, &v, fmt, output);
    mm_result_free(r);
    return rc;
}

char *cli_host_target(const char *host, const char *root)
{
    size_t n = strlen(host) + (root ? strlen(root) : 0) + 16;
    char *t = malloc(n);
    if (t)
        snprintf(t, n, "host:%s%s%s", host, root && strcmp(root, "/") ? ":" : "",
                 root && strcmp(root, "/") ? root : "");
    return t;
}
