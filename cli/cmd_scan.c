/*
 * cmd_scan.c - `mamori image` and `mamori rootfs`: options, the scan, the
 * vulnerability match, the store record, the filters and the report; and
 * the vulnerability/filter options `mamori sbom` shares with them.
 *
 * The vulnerability scanner runs by default whenever a database exists at
 * the database path; without one the scan still runs (every scanner that
 * needs no extra data) and says in one line why vulnerabilities were not
 * checked.  The store keeps the unfiltered result: filters are the user's
 * view, not the record.
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
#include "mamori/filter.h"
#include "mamori/vuln.h"
#include "mamori/malware.h"
#include "mamori/secret.h"
#include "mamori/fleet.h"
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
    OPT_YARA_RULES, OPT_HASH_LIST, OPT_MALWARE_MAX, OPT_NO_BUILTIN_RULES,
    OPT_SECRET_CONFIG, OPT_SECRET_BINARIES, OPT_NO_BUILTIN_SECRET_RULES,
    OPT_VERIFY_KEY,
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
    {"yara-rules", required_argument, NULL, OPT_YARA_RULES},
    {"hash-list", required_argument, NULL, OPT_HASH_LIST},
    {"malware-max-size", required_argument, NULL, OPT_MALWARE_MAX},
    {"no-builtin-rules", no_argument, NULL, OPT_NO_BUILTIN_RULES},
    {"secret-config", required_argument, NULL, OPT_SECRET_CONFIG},
    {"secret-scan-binaries", no_argument, NULL, OPT_SECRET_BINARIES},
    {"no-builtin-secret-rules", no_argument, NULL, OPT_NO_BUILTIN_SECRET_RULES},
    {"verify-key", required_argument, NULL, OPT_VERIFY_KEY},
    CLI_VULN_LONGOPTS,
    CLI_REGISTRY_LONGOPTS,
    {NULL, 0, NULL, 0},
};

int cli_parse_scanners(const char *list, unsigned *out)
{
    char *dup = strdup(list), *save = NULL;
    unsigned bits = 0;
    int rc = 0;
    if (!dup)
        return -1;
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

/* --- vulnerability options shared with `mamori sbom` ------------------------ */

int cli_vuln_option(cli_vuln *v, int c, const char *arg)
{
    char *end;
    long n;
    switch (c) {
    case CLI_OPT_SEVERITY:
        if (mm_severity_set_parse(&v->severities, arg) < 0) {
            cli_fail("--severity: ");
            return -1;
        }
        return 1;
    case CLI_OPT_IGNORE_UNFIXED:
        v->ignore_unfixed = true;
        return 1;
    case CLI_OPT_EXIT_CODE:
        errno = 0;
        n = strtol(arg, &end, 10);
        if (errno || end == arg || *end || n < 0 || n > 255) {
            fprintf(stderr, "%s: --exit-code: \"%s\" is not a number from 0 to 255\n",
                    prog, arg);
            return -1;
        }
        if (n == EXIT_ERROR) {
            fprintf(stderr, "%s: --exit-code: %d is reserved for errors; pick "
                    "another status\n", prog, EXIT_ERROR);
            return -1;
        }
        v->exit_code = (int)n;
        return 1;
    case CLI_OPT_IGNOREFILE:
        v->ignorefile = arg;
        return 1;
    case CLI_OPT_SERVER:
        v->server = arg;
        return 1;
    case CLI_OPT_TOKEN:
        v->token = arg;
        return 1;
    case CLI_OPT_SERVER_CA:
        v->server_ca = arg;
        return 1;
    case CLI_OPT_SERVER_HOST:
        v->server_host = arg;
        return 1;
    case CLI_OPT_SERVER_FINGERPRINT:
        v->server_fp = arg;
        return 1;
    case CLI_OPT_DB_PATH:
        v->db_path = arg;
        return 1;
    case CLI_OPT_DB_MAX_AGE:
        errno = 0;
        n = strtol(arg, &end, 10);
        if (errno || end == arg || *end || n < 1 || n > 100000) {
            fprintf(stderr, "%s: --db-max-age: \"%s\" is not a number of days\n",
                    prog, arg);
            return -1;
        }
        v->max_age_days = n;
        return 1;
    }
    return 0;
}

char *cli_vuln_db_path(const cli_vuln *v)
{
    if (v->db_path)
        return strdup(v->db_path);
    if (v->cache_dir) {
        size_t n = strlen(v->cache_dir) + sizeof "/vuln.db";
        char *p = malloc(n);
        if (p)
            snprintf(p, n, "%s/vuln.db", v->cache_dir);
        return p;
    }
    return mm_vulndb_default_path();
}

int cli_pipeline_setup(mm_pipeline_opts *po, cli_vuln *v, bool vuln, bool required)
{
    po->vuln = vuln;
    po->vuln_required = required;
    if (vuln) {
        free(v->db_path_buf);
        v->db_path_buf = cli_vuln_db_path(v);
        if (!v->db_path_buf)
            return cli_fail("vulnerability database: ");
        po->db_path = v->db_path_buf;
    }
    po->db_max_age_days = v->max_age_days;
    po->filter.severities = v->severities;
    po->filter.ignore_unfixed = v->ignore_unfixed;
    struct stat sb;
    po->ignorefile = v->ignorefile;
    if (!po->ignorefile && stat(".mamoriignore", &sb) == 0)
        po->ignorefile = ".mamoriignore";
    return 0;
}

void cli_vuln_free(cli_vuln *v)
{
    free(v->db_path_buf);
    v->db_path_buf = NULL;
}

int cli_pipeline_fail(const mm_pipeline_outcome *oc, const cli_vuln *v)
{
    /* what the stages before the failing one had to say comes first */
    if (oc->failed == MM_STAGE_FILTER)
        cli_pipeline_notes(oc, v);
    return cli_fail(oc->failed == MM_STAGE_FILTER ? "--ignorefile: " : NULL);
}

void cli_pipeline_notes(const mm_pipeline_outcome *oc, const cli_vuln *v)
{
    if (oc->vuln_skipped && !v->quiet)
        fprintf(stderr, "%s: warning: vulnerability scanning skipped: %s\n", prog,
                oc->vuln_skipped);
    /* a failed record is worth a warning, not a lost report */
    if (oc->store_error)
        fprintf(stderr, "%s: warning: scan not recorded: %s\n", prog, oc->store_error);
}

int cli_report(mm_result *r, const mm_pipeline_outcome *oc, const cli_vuln *v,
               mm_format fmt, const char *output, bool list_files)
{
    if (!v->quiet)
        for (size_t i = 0; i < mm_result_warning_count(r); i++)
            fprintf(stderr, "%s: warning: %s\n", prog, mm_result_warning(r, i));

    int exit_status = 0;
    FILE *out = stdout;
    if (output) {
        out = fopen(output, "w");
        if (!out) {
            fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
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
    if (exit_status == 0 && v->server) {
        /* --server: the same result, as its JSON report, to `mamori server` */
        mm_fleet_client_opts co = {0};
        co.server = v->server;
        co.token = v->token ? v->token : getenv("MAMORI_TOKEN");
        co.ca_file = v->server_ca;
        co.fingerprint = v->server_fp;
        char *id = NULL;
        if (mm_fleet_upload_scan(&co, r, v->server_host, &id) != 0)
            exit_status = cli_fail("--server: ");
        else if (!v->quiet)
            fprintf(stderr, "%s: uploaded to %s as scan %s\n", prog, v->server, id ? id : "?");
        free(id);
    }
    if (exit_status == 0 && v->exit_code && oc->filter.kept > 0)
        exit_status = v->exit_code;
    return exit_status;
}

int cli_filter_report(mm_result *r, cli_vuln *v, mm_format fmt, const char *output)
{
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    mm_pipeline *pl = NULL;
    mm_pipeline_outcome oc;
    memset(&oc, 0, sizeof oc);
    int status = cli_pipeline_setup(&po, v, false, false);
    if (status == 0 && mm_pipeline_new(&pl, &po) < 0)
        status = cli_fail(NULL);
    if (status == 0) {
        if (mm_pipeline_process(pl, r, &oc) < 0)
            status = cli_pipeline_fail(&oc, v);
        else
            status = cli_report(r, &oc, v, fmt, output, false);
    }
    mm_pipeline_outcome_clear(&oc);
    mm_pipeline_free(pl);
    cli_vuln_free(v);
    return status;
}

int cmd_scan(mm_target_kind kind, int argc, char **argv)
{
    mm_scan_opts opts;
    mm_scan_opts_init(&opts);
    const char *input = NULL, *format = "table", *output = NULL,
               *cache_dir = NULL, *scanners = NULL;
    bool quiet = false, no_store = false, list_files = false;
    /* --yara-rules / --hash-list repeat: pointers into argv */
    const char *rule_paths[64], *hash_lists[64];
    mm_malware_opts mo;
    mm_malware_opts_init(&mo);
    mo.rule_paths = rule_paths;
    mo.hash_lists = hash_lists;
    /* --secret-config repeats too: applied in order over the built-in rules */
    const char *secret_paths[64];
    mm_secret_opts so;
    mm_secret_opts_init(&so);
    so.config_paths = secret_paths;
    /* --verify-key repeats: the public keys of the signature check */
    const char *verify_keys[64];
    size_t nverify = 0;
    cli_vuln vo;
    memset(&vo, 0, sizeof vo);
    /* registry flags (`mamori image REGISTRY/REPO:TAG`); static so that
     * what they own lives until exit on every return path */
    static cli_registry reg;
    cli_registry_init(&reg);
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:f:o:qh", longopts, NULL)) != -1) {
        uint64_t v;
        switch (c) {
        case 'i': input = optarg; break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': quiet = true; break;
        case 'h':
            cli_usage(stdout);
            if (kind == MM_TARGET_IMAGE)
                cli_registry_usage(stdout);
            return 0;
        case OPT_PLATFORM: opts.platform = optarg; break;
        case OPT_SCANNERS: scanners = optarg; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case OPT_NO_STORE: no_store = true; break;
        case OPT_LIST_FILES: list_files = true; break;
        case OPT_THREADS: opts.threads = atoi(optarg); break;
        case OPT_YARA_RULES: case OPT_HASH_LIST:
            if ((c == OPT_YARA_RULES ? mo.nrule_paths : mo.nhash_lists) >= 64) {
                fprintf(stderr, "%s: %s: at most 64\n", prog,
                        c == OPT_YARA_RULES ? "--yara-rules" : "--hash-list");
                return EXIT_ERROR;
            }
            if (c == OPT_YARA_RULES)
                rule_paths[mo.nrule_paths++] = optarg;
            else
                hash_lists[mo.nhash_lists++] = optarg;
            break;
        case OPT_NO_BUILTIN_RULES: mo.no_builtin_rules = true; break;
        case OPT_SECRET_CONFIG:
            if (so.nconfig_paths >= 64) {
                fprintf(stderr, "%s: --secret-config: at most 64\n", prog);
                return EXIT_ERROR;
            }
            secret_paths[so.nconfig_paths++] = optarg;
            break;
        case OPT_SECRET_BINARIES: so.scan_binaries = true; break;
        case OPT_VERIFY_KEY:
            if (kind != MM_TARGET_IMAGE || nverify >= 64) {
                fprintf(stderr, "%s: --verify-key: %s\n", prog, kind != MM_TARGET_IMAGE
                        ? "signatures are checked for images in a registry only"
                        : "at most 64");
                return EXIT_ERROR;
            }
            verify_keys[nverify++] = optarg;
            break;
        case OPT_NO_BUILTIN_SECRET_RULES: so.no_builtin_rules = true; break;
        case OPT_MALWARE_MAX:
            if (cli_parse_size(optarg, &mo.max_file_size) < 0 || !mo.max_file_size) {
                fprintf(stderr, "%s: --malware-max-size: not a positive size: \"%s\"\n",
                        prog, optarg);
                return EXIT_ERROR;
            }
            break;
        case CLI_OPT_SEVERITY: case CLI_OPT_IGNORE_UNFIXED:
        case CLI_OPT_EXIT_CODE: case CLI_OPT_IGNOREFILE: case CLI_OPT_DB_PATH:
        case CLI_OPT_DB_MAX_AGE: case CLI_OPT_SERVER: case CLI_OPT_TOKEN:
        case CLI_OPT_SERVER_CA: case CLI_OPT_SERVER_HOST: case CLI_OPT_SERVER_FINGERPRINT:
            if (cli_vuln_option(&vo, c, optarg) < 0)
                return EXIT_ERROR;
            break;
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
        default: {
            int rr = kind == MM_TARGET_IMAGE ? cli_registry_option(&reg, c, optarg) : 0;
            if (rr == 1)
                break;
            if (rr == 0)
                fprintf(stderr, "Run '%s --help' for usage.\n", prog);
            return EXIT_ERROR;
        }
        }
    }
    if (!input && optind < argc)
        input = argv[optind++];
    /* REGISTRY/REPO[:TAG][@DIGEST] that is no local file: pull it */
    if (kind == MM_TARGET_IMAGE && input && mm_imageref_is_remote(input)) {
        kind = MM_TARGET_REGISTRY;
        if (cli_registry_finish(&reg) != 0)
            return EXIT_ERROR;
        static char blobs[4096]; /* --cache-dir moves the blob cache too */
        if (cache_dir && !reg.opts.cache_dir) {
            snprintf(blobs, sizeof blobs, "%s/blobs", cache_dir);
            reg.opts.cache_dir = blobs;
        }
        opts.registry = &reg.opts;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    if (nverify && kind != MM_TARGET_REGISTRY) {
        fprintf(stderr, "%s: --verify-key: %s is no registry reference (signatures are "
                "kept in the registry beside the image)\n", prog, input ? input : "the input");
        return EXIT_ERROR;
    }
    if (!input) {
        fprintf(stderr, "%s: %s needs an input (%s)\n", prog,
                kind != MM_TARGET_ROOTFS ? "image" : "rootfs",
                kind != MM_TARGET_ROOTFS ? "--input FILE|DIR|REFERENCE" : "DIR|TAR");
        return EXIT_ERROR;
    }
    mm_format fmt;
    if (mm_format_parse(&fmt, format) < 0)
        return cli_fail("--format: ");
    vo.quiet = quiet;
    vo.cache_dir = cache_dir;
    /* Default: every scanner that needs no extra data, plus vuln when a
     * database exists (decided after the scan, with a warning if not). */
    bool want_vuln = true, vuln_required = false;
    if (scanners) {
        if (cli_parse_scanners(scanners, &opts.scanners) < 0)
            return EXIT_ERROR;
        want_vuln = vuln_required = (opts.scanners & MM_SCANNER_VULN) != 0;
    } else {
        opts.scanners = mm_scan_available_scanners();
    }
    /* the match is the pipeline's stage after the analyzers, not one of them */
    opts.scanners &= ~(unsigned)MM_SCANNER_VULN;
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
    opts.malware = &mo;
    opts.secret = &so;
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    po.scan = opts;
    po.verify_keys = verify_keys;
    po.nverify_keys = nverify;
    char *store_path = NULL;
    if (!no_store) {
        store_path = cli_store_path(cache_dir);
        po.store_path = store_path;
    }
    mm_pipeline *pl = NULL;
    int exit_status = EXIT_ERROR;
    if (cli_pipeline_setup(&po, &vo, want_vuln, vuln_required) != 0)
        goto out;
    /* a broken rule or key file is refused before any layer is read */
    if (mm_pipeline_new(&pl, &po) < 0) {
        exit_status = cli_fail(nverify ? NULL : "--secret-config: ");
        goto out;
    }
    mm_result *r = NULL;
    mm_pipeline_outcome oc;
    int rc = mm_pipeline_scan(pl, &r, &oc, kind, input);
    if (tty)
        fprintf(stderr, "\r\033[K");
    if (rc < 0) {
        exit_status = cli_pipeline_fail(&oc, &vo);
    } else {
        cli_pipeline_notes(&oc, &vo);
        exit_status = cli_report(r, &oc, &vo, fmt, output, list_files);
    }
    mm_result_free(r);
    mm_pipeline_outcome_clear(&oc);
out:
    mm_pipeline_free(pl);
    free(store_path);
    cli_vuln_free(&vo);
    return exit_status;
}
