/*
 * main.c - the `mamori` command: dispatch to the subcommands, usage, and
 * the helpers they share.  The command parses no formats and holds no
 * policy: that is the library's.  Exit status: 0 success, 2 error (bad
 * input, bad usage, I/O), and --exit-code N where a command offers it.
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

const char *prog = "mamori";

void cli_usage(FILE *f)
{
    fprintf(f,
"mamori %s - container security scanner (NIST SP 800-190)\n"
"\n"
"Usage:\n"
"  mamori image --input FILE|DIR[:REF] [options]   scan a docker-archive or OCI layout\n"
"  mamori image REGISTRY/REPO[:TAG|@DIGEST]         pull from a registry and scan it\n"
"  mamori rootfs DIR|TAR [options]                 scan an OS root filesystem\n"
"  mamori sbom FILE [options]                      re-check a CycloneDX/SPDX JSON SBOM\n"
"  mamori db import PATH... | info | update        the vulnerability database\n"
"  mamori agent --rules FILE [options]            runtime detection (eBPF sensor)\n"
"  mamori history [--limit N]                     scans recorded in the store\n"
"  mamori config PATH [options]                   lint a Dockerfile (config --help)\n"
"  mamori runtime replay FILE --rules R           replay events through Falco rules\n"
"  mamori registry scan HOST[/REPO] [options]     scan a registry, report stale images\n"
"  mamori sign --key KEY IMAGE                    sign an image (cosign format)\n"
"  mamori verify --key PUB IMAGE                  verify an image's signatures\n"
"  mamori policy check --policy FILE IMAGE        the build/deploy gate: allow or deny\n"
"  mamori host ps | logins                        processes and login records\n"
"  mamori net -r FILE | -i IF | --containers      network sensor: flows, scans, blocklists\n"
"  mamori net enforce --policy FILE [--dry-run]   segmentation with nftables (--kill-switch)\n"
"  mamori waf -r FILE | --listen A --upstream URL  WAF (OWASP CRS): detect, or inline proxy\n"
"  mamori k8s PATH|-|--cluster [options]          Kubernetes posture (k8s --help)\n"
"  mamori k8s who-can VERB RESOURCE [-n NS] ...    who may do it, from RBAC\n"
"  mamori k8s audit [--rules R] LOG...             audit-log rules (k8s_audit)\n"
"  mamori k8s isolate NODE [--effect E]            cordon and taint a node\n"
"  mamori admission manifests|review|authz ...     deploy-time verdicts (webhook, AuthZ)\n"
"  mamori host compliance [--cis docker,linux] [--xccdf DS --profile ID] [--fix]\n"
"                                                 CIS Docker/Debian, SCAP; enforce\n"
"  mamori host runtime | containers | commands    runtime software CVEs, containers,\n"
"                                                 interactive commands\n"
"  mamori server [--listen HOST:PORT] [--db PATH|postgres://...]\n"
"                                                 the fleet API server (server --help)\n"
"  mamori server token create|list|revoke         API tokens and roles\n"
"  mamori server send --server URL --token T --host-id ID [FILE]\n"
"                                                 stream agent events to the server\n"
"  mamori worker --db postgres://...              scan jobs from the server's queue\n"
"  mamori report FILE.json... [--store] [-f html|json]  the SP 800-190 report\n"
"  mamori version\n"
"\n"
"Options:\n"
"  -i, --input PATH        image: docker-archive tar, OCI layout dir or tar; PATH:REF\n"
"                          picks a reference from an OCI layout holding several\n"
"      --platform OS/ARCH[/VARIANT]  image of a multi-platform index (linux/amd64)\n"
"  -f, --format FMT        table (default), json, cyclonedx, spdx-json, sarif\n"
"  -o, --output FILE       write the report to FILE instead of standard output\n"
"      --scanners LIST     comma-separated: vuln,secret,misconfig,malware (the\n"
"                          inventory always runs; default: all, vuln when a\n"
"                          database exists)\n"
"      --list-files        include owned files of packages in the JSON report\n"
"      --severity LIST     only findings of these severities (CRITICAL,HIGH,...,UNKNOWN)\n"
"      --ignore-unfixed    drop vulnerabilities that have no fixed version\n"
"      --ignorefile FILE   ids to ignore, \"ID [exp:YYYY-MM-DD] [# reason]\" a line\n"
"                          (default ./.mamoriignore when present; .trivyignore syntax)\n"
"      --exit-code N       exit N when any finding survives the filters (not 2)\n"
"      --db-path FILE      vulnerability database (default ~/.cache/mamori/vuln.db);\n"
"                          without one, vulnerability scanning is skipped with a warning\n"
"      --db-max-age DAYS   warn when the database is older (default 7)\n"
"      --cache-dir DIR     where the scan store lives (default ~/.cache/mamori)\n"
"      --no-store          do not record the scan in the store\n"
"      --max-entries N     cap on tar entries over all layers (default 50M)\n"
"      --max-path N        cap on one entry name, bytes (default 4096)\n"
"      --max-file-size SZ  cap on one file (default 32G)\n"
"      --max-total-size SZ cap on all uncompressed layers (default 16G)\n"
"      --max-layers N      cap on layers (default 1024)\n"
"      --threads N         1 = no decoder thread (default: all cores)\n"
"      --yara-rules PATH   malware: YARA rule folder or file, added to the built-in\n"
"                          rules (repeatable)\n"
"      --hash-list FILE    malware: digest list (\"<hex> [name]\" lines) or ClamAV\n"
"                          .hdb/.hsb file (repeatable)\n"
"      --malware-max-size SZ  largest file given to YARA (default 64M)\n"
"      --no-builtin-rules  malware: only the rules of --yara-rules\n"
"      --secret-config FILE  secrets: a rule file (YAML, docs/secret-rules.md) applied\n"
"                          over the built-in rules: add, override, disable, allow\n"
"                          (repeatable, in order)\n"
"      --no-builtin-secret-rules  secrets: only the rules of --secret-config\n"
"      --secret-scan-binaries  secrets: also scan binary files (skipped by default)\n"
"      --verify-key PUB    image in a registry: check its cosign-compatible signatures\n"
"                          with this public key (repeatable: any may match); the\n"
"                          report gets a \"signature\" member and, when none is\n"
"                          valid, a finding MM-SIG-001 (SP 800-190 3.1.5)\n"
"      --server URL        also upload the result to `mamori server` (https://HOST:PORT)\n"
"      --token T           its API token (or MAMORI_TOKEN); --server-ca FILE: its\n"
"                          certificate; --server-host ID: the host the scan ran on;\n"
"                          --server-fingerprint sha256:HEX: pin its certificate\n"
"  -q, --quiet             no progress or warnings on standard error\n"
"  -h, --help\n"
"\n"
"Sizes take K, M, G or T suffixes (powers of 1024).  Exit status: 0 on\n"
"success, 2 on errors (the message names the file and the field).\n",
            MM_VERSION);
}
int cli_parse_size(const char *s, uint64_t *out)
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
int cli_read_stdin(char **out, size_t *len, uint64_t max)
{
    size_t cap = 65536, n = 0;
    char *b = malloc(cap);
    if (!b)
        return -1;
    for (;;) {
        if (n == cap) {
            if (cap > max) {
                /* one byte past the cap is enough for the reader to refuse */
                break;
            }
            cap *= 2;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                return -1;
            }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n, stdin);
        n += k;
        if (k == 0)
            break;
    }
    if (ferror(stdin)) {
        free(b);
        return -1;
    }
    *out = b;
    *len = n;
    return 0;
}

int cli_fail(const char *what)
{
    fprintf(stderr, "%s: %s%s\n", prog, what ? what : "", mm_error_last());
    return EXIT_ERROR;
}
char *cli_store_path(const char *cache_dir)
{
    if (!cache_dir)
        return mm_store_default_path();
    size_t n = strlen(cache_dir) + sizeof "/mamori.db";
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/mamori.db", cache_dir);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_ERROR;
    }
    /* an interrupted scan or database build leaves no temp folder behind */
    mm_cleanup_on_signals();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "image"))
        return cmd_scan(MM_TARGET_IMAGE, argc - 1, argv + 1);
    if (!strcmp(cmd, "rootfs"))
        return cmd_scan(MM_TARGET_ROOTFS, argc - 1, argv + 1);
    if (!strcmp(cmd, "history"))
        return cmd_history(argc - 1, argv + 1);
    if (!strcmp(cmd, "config"))
        return cmd_config(argc - 1, argv + 1);
    if (!strcmp(cmd, "sbom"))
        return cmd_sbom(argc - 1, argv + 1);
    if (!strcmp(cmd, "db"))
        return cmd_db(argc - 1, argv + 1);
    if (!strcmp(cmd, "agent"))
        return cmd_agent(argc - 1, argv + 1);
    if (!strcmp(cmd, "runtime"))
        return cmd_runtime(argc - 1, argv + 1);
    if (!strcmp(cmd, "registry"))
        return cmd_registry(argc - 1, argv + 1);
    if (!strcmp(cmd, "sign"))
        return cmd_sign(argc - 1, argv + 1);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(argc - 1, argv + 1);
    if (!strcmp(cmd, "policy"))
        return cmd_policy(argc - 1, argv + 1);
    if (!strcmp(cmd, "host"))
        return cmd_host(argc - 1, argv + 1);
    if (!strcmp(cmd, "net"))
        return cmd_net(argc - 1, argv + 1);
    if (!strcmp(cmd, "k8s"))
        return cmd_k8s(argc - 1, argv + 1);
    if (!strcmp(cmd, "server"))
        return cmd_server(argc - 1, argv + 1);
    if (!strcmp(cmd, "worker"))
        return cmd_worker(argc - 1, argv + 1);
    if (!strcmp(cmd, "admission"))
        return cmd_admission(argc - 1, argv + 1);
    if (!strcmp(cmd, "waf"))
        return cmd_waf(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("mamori %s\n", MM_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        cli_usage(stdout);
        return 0;
    }
    fprintf(stderr, "%s: unknown command \"%s\"\nRun '%s --help' for usage.\n",
            prog, cmd, prog);
    return EXIT_ERROR;
}
