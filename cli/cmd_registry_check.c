/*
 * cmd_registry_check.c - `mamori registry check REGISTRY`: the registry
 * security checks of SP 800-190 §3.2.1/§3.2.3 (anonymous pull, push and
 * catalog, plain HTTP, basic auth over HTTP, token service without TLS, an
 * unverifiable certificate).  The probes and verdicts are the library's
 * (mamori/regcheck.h); this file parses options and writes the table, the
 * JSON document or SARIF (docs/registry.md).  With --server URL the result
 * also goes to `mamori server` as a scan of kind "registry-check": the
 * JSON report of the failed checks' findings plus every check's verdict
 * and evidence under "registryCheck" (the console's Registries page).
 *
 * Exit status: 0; the --exit-code value when a check failed at a severity
 * --severity keeps; 2 on a usage error or when the registry cannot be
 * reached at all.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/fleet.h"
#include "mamori/filter.h"
#include "mamori/regcheck.h"
#include "cli.h"

enum { O_CA_FILE = 256, O_REPO, O_TIMEOUT, O_EXIT_CODE, O_SEVERITY, O_SERVER, O_TOKEN,
       O_SERVER_CA };

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {"ca-file", required_argument, NULL, O_CA_FILE},
    {"repository", required_argument, NULL, O_REPO},
    {"timeout", required_argument, NULL, O_TIMEOUT},
    {"exit-code", required_argument, NULL, O_EXIT_CODE},
    {"severity", required_argument, NULL, O_SEVERITY},
    {"server", required_argument, NULL, O_SERVER},
    {"token", required_argument, NULL, O_TOKEN},
    {"server-ca", required_argument, NULL, O_SERVER_CA},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: %s registry check HOST[:PORT] [options]\n"
            "\n"
            "Checks, without credentials, what the registry offers anonymous clients\n"
            "(SP 800-190 3.2.1, 3.2.3): pull, push (an accepted upload is cancelled at\n"
            "once), the catalog; plain HTTP; basic auth over HTTP; a token service\n"
            "without TLS; a certificate that does not verify.\n"
            "\n"
            "  --ca-file FILE         extra CA bundle for the TLS verification\n"
            "  --repository REPO      repository probed for pull and push (default: the\n"
            "                         first in the catalog, else mamori-check/probe)\n"
            "  --timeout SECONDS      per request (default 20)\n"
            "  --severity LIST        failed checks reported (CRITICAL,HIGH,...)\n"
            "  --exit-code N          exit N when a reported check failed\n"
            "  -f, --format FMT       table (default), json or sarif\n"
            "  -o, --output FILE      write the report to FILE\n"
            "  --server URL           also upload the result to mamori server (a scan of\n"
            "                         kind registry-check); --token T (or MAMORI_TOKEN),\n"
            "                         --server-ca FILE: the server's certificate\n"
            "\n", prog);
}

static int write_table(FILE *out, const mm_regcheck *c, unsigned sevmask)
{
    fprintf(out, "Registry %s (SP 800-190 3.2.1, 3.2.3)\n\n", mm_regcheck_target(c));
    fprintf(out, "%-14s %-27s %-8s %-8s %-14s %s\n", "ID", "CHECK", "SECTION", "SEVERITY",
            "VERDICT", "EVIDENCE");
    for (size_t i = 0; i < mm_regcheck_count(c); i++) {
        const mm_regcheck_item *it = mm_regcheck_get(c, i);
        const char *v = mm_regcheck_verdict_name(it->verdict);
        if (it->verdict == MM_REGCHECK_FAIL && sevmask && !(sevmask & (1u << it->severity)))
            v = "fail (filtered)";
        fprintf(out, "%-14s %-27s %-8s %-8s %-14s %s\n", it->id, it->name, it->section,
                mm_severity_name(it->severity), v, it->evidence ? it->evidence : "");
    }
    return ferror(out) ? -1 : 0;
}

/* The mamori JSON report of the failed checks (kind registry-check) with
 * every check's verdict and evidence under "registryCheck" (built by the
 * library, as the server's registry-check schedule builds it), to the
 * server. */
static int upload(const mm_regcheck *rc, const char *server, const char *token,
                  const char *server_ca)
{
    char *doc = NULL;
    int e = mm_fleet_regcheck_report(&doc, rc);
    if (e == 0) {
        mm_fleet_client_opts co = {0};
        co.server = server;
        co.token = token ? token : getenv("MAMORI_TOKEN");
        co.ca_file = server_ca;
        char *id = NULL;
        e = mm_fleet_upload_report(&co, doc, strlen(doc), NULL, &id);
        if (e == 0)
            fprintf(stderr, "%s: uploaded to %s as scan %s\n", prog, server, id ? id : "?");
        free(id);
    }
    free(doc);
    return e;
}

int cmd_registry_check(int argc, char **argv)
{
    mm_regcheck_opts o = {0};
    const char *format = "table", *output = NULL;
    const char *server = NULL, *token = NULL, *server_ca = NULL;
    unsigned sevmask = 0;
    int exit_code = 0, c;
    char *end;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'h': usage(stdout); return 0;
        case O_CA_FILE: o.ca_file = optarg; break;
        case O_REPO: o.repository = optarg; break;
        case O_TIMEOUT: case O_EXIT_CODE: {
            errno = 0;
            long n = strtol(optarg, &end, 10);
            long lo = c == O_TIMEOUT ? 1 : 0, hi = c == O_TIMEOUT ? 600 : 255;
            if (errno || end == optarg || *end || n < lo || n > hi) {
                fprintf(stderr, "%s: %s: \"%s\" is not a number from %ld to %ld\n", prog,
                        c == O_TIMEOUT ? "--timeout" : "--exit-code", optarg, lo, hi);
                return EXIT_ERROR;
            }
            if (c == O_TIMEOUT)
                o.timeout_s = n;
            else
                exit_code = (int)n;
            break;
        }
        case O_SERVER: server = optarg; break;
        case O_TOKEN: token = optarg; break;
        case O_SERVER_CA: server_ca = optarg; break;
        case O_SEVERITY:
            if (mm_severity_set_parse(&sevmask, optarg) < 0)
                return cli_fail("--severity: ");
            break;
        default:
            fprintf(stderr, "Run '%s registry check --help' for usage.\n", prog);
            return EXIT_ERROR;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: registry check needs HOST[:PORT]\n", prog);
        return EXIT_ERROR;
    }
    const char *target = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    mm_format fmt;
    if (mm_format_parse(&fmt, format) < 0 ||
        (fmt != MM_FORMAT_TABLE && fmt != MM_FORMAT_JSON && fmt != MM_FORMAT_SARIF)) {
        fprintf(stderr, "%s: --format: \"%s\" is not one of table, json, sarif\n", prog, format);
        return EXIT_ERROR;
    }
    if (o.repository && (!*o.repository || strpbrk(o.repository, "?#% \t\r\n"))) {
        fprintf(stderr, "%s: --repository: \"%s\" is not a repository name\n", prog, o.repository);
        return EXIT_ERROR;
    }
    mm_regcheck *rc = NULL;
    if (mm_regcheck_run(&rc, target, &o) < 0)
        return cli_fail("");
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        mm_regcheck_free(rc);
        return EXIT_ERROR;
    }
    int ret = 0;
    if (fmt == MM_FORMAT_TABLE) {
        ret = write_table(out, rc, sevmask);
    } else if (fmt == MM_FORMAT_JSON) {
        char *doc = NULL;
        if (mm_regcheck_json(&doc, rc) < 0)
            ret = cli_fail("registry check: ");
        else if (fputs(doc, out) == EOF || fputc('\n', out) == EOF)
            ret = -1;
        free(doc);
    } else {
        mm_result *r = NULL;
        mm_report_opts ro;
        mm_report_opts_init(&ro);
        if (mm_result_new(&r, MM_TARGET_REGISTRY, mm_regcheck_target(rc)) < 0 ||
            mm_regcheck_findings(rc, sevmask, mm_result_findings(r)) < 0)
            ret = cli_fail("registry check: ");
        else if (mm_report_write(out, r, MM_FORMAT_SARIF, &ro) < 0)
            ret = -1;
        mm_result_free(r);
    }
    if (output ? fclose(out) != 0 : fflush(out) != 0)
        ret = ret ? ret : -1;
    if (ret == -1) {
        fprintf(stderr, "%s: %s: %s\n", prog, output ? output : "standard output",
                strerror(errno));
        ret = EXIT_ERROR;
    }
    if (ret == 0 && server && upload(rc, server, token, server_ca) != 0)
        ret = cli_fail("--server: ");
    if (ret == 0 && exit_code) {
        mm_findings *fl = NULL;
        if (mm_findings_new(&fl) == 0 && mm_regcheck_findings(rc, sevmask, fl) > 0)
            ret = exit_code;
        mm_findings_free(fl);
    }
    mm_regcheck_free(rc);
    return ret;
}
