/*
 * cmd_registry.c - `mamori registry scan HOST[/REPO]`: the registry
 * inventory and rescan of SP 800-190 §3.2.2.  The work (listing, skipping
 * what the store already holds, scanning, classifying stale images) is the
 * library's mm_regscan_run(); this file parses options, opens the client,
 * the store and names the database, and formats the report as a table or
 * JSON (docs/registry-scan.md).  With --server the report and the result of
 * each image scanned in this run go to `mamori server` (docs/api.md).
 *
 * Exit status: 0; the --exit-code value when a tag is stale or a finding
 * exists; 2 when the target could not be listed or any image failed (the
 * report is still written in full, with each failure beside its image).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mamori/regscan.h"
#include "mamori/fleet.h"
#include "cli.h"

enum {
    OPT_MAX_AGE = 256, OPT_FORCE, OPT_PLATFORM, OPT_CACHE_DIR, OPT_SCANNERS,
    OPT_MAX_IMAGES, OPT_ENQUEUE, OPT_VERIFY_KEY,
};

static const struct option longopts[] = {
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"max-age", required_argument, NULL, OPT_MAX_AGE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"scanners", required_argument, NULL, OPT_SCANNERS},
    {"max-images", required_argument, NULL, OPT_MAX_IMAGES},
    {"enqueue", required_argument, NULL, OPT_ENQUEUE},
    {"verify-key", required_argument, NULL, OPT_VERIFY_KEY},
    {"exit-code", required_argument, NULL, CLI_OPT_EXIT_CODE},
    {"db-path", required_argument, NULL, CLI_OPT_DB_PATH},
    {"db-max-age", required_argument, NULL, CLI_OPT_DB_MAX_AGE},
    {"server", required_argument, NULL, CLI_OPT_SERVER},
    {"token", required_argument, NULL, CLI_OPT_TOKEN},
    {"server-ca", required_argument, NULL, CLI_OPT_SERVER_CA},
    {"server-host", required_argument, NULL, CLI_OPT_SERVER_HOST},
    {"server-fingerprint", required_argument, NULL, CLI_OPT_SERVER_FINGERPRINT},
    CLI_REGISTRY_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static void registry_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s registry scan HOST[/REPO] [options]\n"
            "\n"
            "Lists every repository of HOST (the catalog) or the tags of REPO, scans\n"
            "each image not yet scanned with the current vulnerability database,\n"
            "records the scans and reports stale images (SP 800-190 3.2.2).\n"
            "\n"
            "  --max-age DAYS         images older than this are stale (default 90,\n"
            "                         0 = no age check)\n"
            "  --force                rescan images the store already holds\n"
            "  --platform OS/ARCH     image of a multi-platform index (linux/amd64)\n"
            "  --scanners LIST        vuln,secret,misconfig,malware (default: all\n"
            "                         available; vuln when a database exists)\n"
            "  --db-path FILE         vulnerability database\n"
            "  --db-max-age DAYS      warn when the database is older\n"
            "  --cache-dir DIR        store and default database folder\n"
            "  --max-images N         stop listing after N tags (default 100000)\n"
            "  --verify-key PUB       check each image's cosign-compatible signatures\n"
            "                         (repeatable: any key may match): MM-SIG-001 when\n"
            "                         none is valid; a stored scan is reused only when\n"
            "                         it verified with these keys (docs/signatures.md)\n"
            "  --enqueue DB           list and resolve only, and queue one scan job per\n"
            "                         image in the server's store (postgres://... or a\n"
            "                         SQLite path) for `mamori worker` to run\n"
            "  -f, --format FMT       table (default) or json\n"
            "  -o, --output FILE      write the report to FILE\n"
            "  --exit-code N          exit N when a tag is stale or findings exist\n"
            "  -q, --quiet            no progress and no warnings\n"
            "  --server URL --token T [--server-ca FILE | --server-fingerprint sha256:HEX]\n"
            "                         [--server-host NAME]\n"
            "                         upload the report and each image scanned in this\n"
            "                         run to `mamori server` (MAMORI_TOKEN for --token)\n"
            "\n"
            "       %s registry check HOST[:PORT] [options]: the registry's own security\n"
            "       (anonymous pull/push/catalog, plain HTTP, SP 800-190 3.2.3; see\n"
            "       'registry check --help')\n"
            "\n", prog, prog);
    cli_registry_usage(f);
}


static void progress(void *ud, const mm_regscan_progress *p)
{
    (void)ud;
    if (p->status != MM_REGSCAN_SCANNED)
        return;
    fprintf(stderr, "\r\033[K%s: [%zu/%zu] scanning %s", prog, p->index + 1,
            p->total, p->image);
    fflush(stderr);
}

static void short_digest(const char *d, char out[20])
{
    if (!d) {
        snprintf(out, 20, "-");
        return;
    }
    const char *hex = strchr(d, ':');
    snprintf(out, 20, "%.12s", hex ? hex + 1 : d);
}

static int write_table(FILE *out, const mm_regscan_report *rep)
{
    mm_regscan_summary s;
    mm_regscan_report_summary(rep, &s);
    const char *dbv = mm_regscan_report_db_version(rep);
    fprintf(out, "%s: %zu repositories, %zu tags (%zu images): %zu scanned, "
            "%zu skipped, %zu errors; %zu stale; database %s\n\n",
            mm_regscan_report_target(rep), s.repositories, s.tags, s.digests,
            s.scanned, s.skipped, s.errors, s.stale, dbv ? dbv : "none");
    size_t wrepo = strlen("REPOSITORY"), wtag = strlen("TAG");
    for (size_t i = 0; i < mm_regscan_report_image_count(rep); i++) {
        const mm_regscan_image *im = mm_regscan_report_image(rep, i);
        size_t a = strlen(im->repository), b = strlen(im->tag);
        if (a > wrepo) wrepo = a < 48 ? a : 48;
        if (b > wtag) wtag = b < 32 ? b : 32;
    }
    fprintf(out, "%-*s  %-*s  %-12s  %5s  %-7s  %4s %4s %4s %4s %4s  %5s  %s\n",
            (int)wrepo, "REPOSITORY", (int)wtag, "TAG", "DIGEST", "AGE", "STATUS",
            "CRIT", "HIGH", "MED", "LOW", "UNKN", "FIX", "STALE");
    for (size_t i = 0; i < mm_regscan_report_image_count(rep); i++) {
        const mm_regscan_image *im = mm_regscan_report_image(rep, i);
        char dg[20], age[24], stale[96] = "";
        short_digest(im->digest, dg);
        if (im->age_days >= 0)
            snprintf(age, sizeof age, "%lldd", (long long)im->age_days);
        else
            snprintf(age, sizeof age, "-");
        for (unsigned b = 1; b <= MM_REGSCAN_STALE_FIXABLE; b <<= 1)
            if (im->stale & b) {
                if (stale[0])
                    strncat(stale, ",", sizeof stale - strlen(stale) - 1);
                strncat(stale, mm_regscan_stale_name(b), sizeof stale - strlen(stale) - 1);
            }
        fprintf(out, "%-*.*s  %-*.*s  %-12s  %5s  %-7s",
                (int)wrepo, (int)wrepo, im->repository, (int)wtag, (int)wtag, im->tag,
                dg, age, mm_regscan_status_name(im->status));
        if (im->status == MM_REGSCAN_ERROR) {
            fprintf(out, "  %s\n", im->error ? im->error : "");
            continue;
        }
        fprintf(out, "  %4zu %4zu %4zu %4zu %4zu  %5zu  %s%s\n",
                im->by_severity[MM_SEV_CRITICAL], im->by_severity[MM_SEV_HIGH],
                im->by_severity[MM_SEV_MEDIUM], im->by_severity[MM_SEV_LOW],
                im->by_severity[MM_SEV_UNKNOWN], im->fixable,
                stale[0] ? stale : "-", im->current ? " (current)" : "");
    }
    for (size_t i = 0; i < mm_regscan_report_repo_count(rep); i++) {
        const mm_regscan_repo *rp = mm_regscan_report_repo(rep, i);
        if (rp->error)
            fprintf(out, "%s: tags not listed: %s\n", rp->name, rp->error);
    }
    const mm_findings *fl = mm_regscan_report_findings(rep);
    if (mm_findings_count(fl)) {
        fprintf(out, "\nStale images (SP 800-190 3.2.2):\n");
        for (size_t i = 0; i < mm_findings_count(fl); i++) {
            const mm_finding *f = mm_findings_get(fl, i);
            fprintf(out, "  %s %-8s %s\n      fix: %s\n", f->id,
                    mm_severity_name(f->severity), f->title,
                    f->remediation ? f->remediation : "-");
        }
    }
    return ferror(out) ? -1 : 0;
}

static int write_report(const mm_regscan_report *rep, bool json, const char *output)
{
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", prog, output, strerror(errno));
        return EXIT_ERROR;
    }
    int rc = 0;
    if (json) {
        char *doc = NULL;
        if (mm_regscan_report_json(&doc, rep) < 0)
            rc = cli_fail("writing the report: ");
        else if (fputs(doc, out) == EOF || fputc('\n', out) == EOF)
            rc = -1;
        free(doc);
    } else if (write_table(out, rep) < 0) {
        rc = -1;
    }
    if (output && fclose(out) != 0)
        rc = -1;
    else if (!output && fflush(out) != 0)
        rc = -1;
    if (rc == -1) {
        fprintf(stderr, "%s: %s: %s\n", prog, output ? output : "standard output",
                strerror(errno));
        rc = EXIT_ERROR;
    }
    return rc;
}

/* --server: the registry report, then the stored result of every image
 * this run scanned (once per manifest digest).  0 or EXIT_ERROR (printed). */
static int upload(const cli_vuln *v, mm_store *store, const mm_regscan_report *rep,
                  bool quiet)
{
    mm_fleet_client_opts co = {0};
    co.server = v->server;
    co.token = v->token ? v->token : getenv("MAMORI_TOKEN");
    co.ca_file = v->server_ca;
    co.fingerprint = v->server_fp;
    char *doc = NULL, *id = NULL;
    if (mm_regscan_report_json(&doc, rep) < 0)
        return cli_fail("--server: ");
    int rc = mm_fleet_upload_report(&co, doc, strlen(doc), v->server_host, &id);
    free(doc);
    if (rc)
        return cli_fail("--server: ");
    size_t images = 0;
    const char *last = NULL;
    for (size_t i = 0; i < mm_regscan_report_image_count(rep); i++) {
        const mm_regscan_image *im = mm_regscan_report_image(rep, i);
        if (im->status != MM_REGSCAN_SCANNED || !im->manifest_digest ||
            (last && !strcmp(last, im->manifest_digest)))
            continue;
        last = im->manifest_digest;
        mm_scan_record *sr = NULL;
        if (mm_store_get_latest(store, im->manifest_digest, &sr) < 0 || !sr->report_json) {
            fprintf(stderr, "%s: --server: %s/%s:%s: no stored result to upload\n", prog,
                    im->registry, im->repository, im->tag);
            mm_scan_record_free(sr);
            continue;
        }
        rc = mm_fleet_upload_report(&co, sr->report_json, strlen(sr->report_json),
                                    v->server_host, NULL);
        mm_scan_record_free(sr);
        if (rc) {
            free(id);
            return cli_fail("--server: ");
        }
        images++;
    }
    if (!quiet)
        fprintf(stderr, "%s: uploaded to %s as scan %s, with %zu image scan%s\n", prog,
                v->server, id ? id : "?", images, images == 1 ? "" : "s");
    free(id);
    return 0;
}

/* --enqueue: the listing phase, then one job per distinct image */
static int registry_enqueue(const char *target, const char *db, cli_registry *reg,
                            mm_regscan_opts *o, bool quiet)
{
    o->list_only = true;
    o->scan.registry = &reg->opts;
    mm_fleet_opts fo;
    mm_fleet_opts_init(&fo);
    fo.db = db;
    mm_fleet *f = NULL;
    mm_registry *client = NULL;
    mm_regscan_report *rep = NULL;
    int ret = EXIT_ERROR;
    if (mm_fleet_open(&f, &fo) < 0) {
        ret = cli_fail("--enqueue: ");
        goto out;
    }
    if (mm_registry_new(&client, &reg->opts) < 0 ||
        mm_regscan_run(&rep, client, NULL, target, o) < 0) {
        ret = cli_fail("");
        goto out;
    }
    size_t added = 0, had = 0, errors = 0;
    const char *last = NULL;
    for (size_t i = 0; i < mm_regscan_report_image_count(rep); i++) {
        const mm_regscan_image *im = mm_regscan_report_image(rep, i);
        if (im->status == MM_REGSCAN_ERROR || !im->digest) {
            if (!quiet)
                fprintf(stderr, "%s: %s/%s:%s: %s\n", prog, im->registry, im->repository,
                        im->tag, im->error ? im->error : "not resolved");
            errors++;
            continue;
        }
        char *ref = NULL;
        if (asprintf(&ref, "%s/%s@%s", im->registry, im->repository, im->digest) < 0)
            goto out;
        if (last && !strcmp(last, ref)) { /* the same image under another tag */
            free(ref);
            continue;
        }
        bool a = false;
        if (mm_fleet_job_enqueue(f, ref, im->tag, "cli", &a) < 0) {
            free(ref);
            ret = cli_fail("--enqueue: ");
            goto out;
        }
        added += a;
        had += !a;
        free((char *)last);
        last = ref;
    }
    free((char *)last);
    for (size_t i = 0; i < mm_regscan_report_repo_count(rep); i++)
        if (mm_regscan_report_repo(rep, i)->error)
            errors++;
    printf("%s: %zu images enqueued, %zu already queued, %zu errors\n", target, added, had,
           errors);
    ret = errors ? EXIT_ERROR : 0;
out:
    mm_regscan_report_free(rep);
    mm_registry_free(client);
    mm_fleet_close(f);
    return ret;
}

static int registry_scan(int argc, char **argv)
{
    mm_regscan_opts o;
    mm_regscan_opts_init(&o);
    cli_registry reg;
    cli_registry_init(&reg);
    cli_vuln vo;
    memset(&vo, 0, sizeof vo);
    const char *format = "table", *output = NULL, *cache_dir = NULL,
               *scanners = NULL, *enqueue = NULL;
    const char *verify_keys[64];
    bool quiet = false;
    int c, ret = EXIT_ERROR;
    char *end;
    long n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "f:o:qh", longopts, NULL)) != -1) {
        int r = cli_registry_option(&reg, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case 'q': quiet = true; break;
        case 'h': registry_usage(stdout); ret = 0; goto out;
        case OPT_FORCE: o.force = true; break;
        case OPT_PLATFORM: o.scan.platform = optarg; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case OPT_SCANNERS: scanners = optarg; break;
        case OPT_ENQUEUE: enqueue = optarg; break;
        case OPT_VERIFY_KEY:
            if (o.nverify_keys >= 64) {
                fprintf(stderr, "%s: --verify-key: at most 64\n", prog);
                goto out;
            }
            verify_keys[o.nverify_keys++] = optarg;
            o.verify_keys = verify_keys;
            break;
        case OPT_MAX_AGE: case OPT_MAX_IMAGES:
            errno = 0;
            n = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || n < 0 || n > 10000000) {
                fprintf(stderr, "%s: %s: \"%s\" is not a number%s\n", prog,
                        c == OPT_MAX_AGE ? "--max-age" : "--max-images", optarg,
                        c == OPT_MAX_AGE ? " of days" : "");
                goto out;
            }
            if (c == OPT_MAX_AGE)
                o.max_age_days = n;
            else
                o.max_images = (size_t)n;
            break;
        case CLI_OPT_EXIT_CODE: case CLI_OPT_DB_PATH: case CLI_OPT_DB_MAX_AGE:
        case CLI_OPT_SERVER: case CLI_OPT_TOKEN: case CLI_OPT_SERVER_CA:
        case CLI_OPT_SERVER_HOST: case CLI_OPT_SERVER_FINGERPRINT:
            if (cli_vuln_option(&vo, c, optarg) < 0)
                goto out;
            break;
        default:
            fprintf(stderr, "Run '%s registry --help' for usage.\n", prog);
            goto out;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "%s: registry scan needs HOST or HOST/REPO\n", prog);
        goto out;
    }
    const char *target = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog, argv[optind]);
        goto out;
    }
    bool json;
    if (!strcmp(format, "json"))
        json = true;
    else if (!strcmp(format, "table"))
        json = false;
    else {
        fprintf(stderr, "%s: --format: \"%s\" is not one of table, json\n", prog, format);
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;
    if (enqueue && o.nverify_keys) {
        fprintf(stderr, "%s: --verify-key: not with --enqueue (the workers' scans do not "
                "check signatures)\n", prog);
        goto out;
    }
    if (enqueue) {
        ret = registry_enqueue(target, enqueue, &reg, &o, quiet);
        goto out;
    }

    /* scanners: as `mamori image` (vulnerabilities are matched after the
     * pull; a database named by --scanners vuln must exist) */
    if (scanners) {
        if (cli_parse_scanners(scanners, &o.scan.scanners) < 0)
            goto out;
        o.no_vuln = !(o.scan.scanners & MM_SCANNER_VULN);
        o.require_db = !o.no_vuln;
    } else {
        o.scan.scanners = mm_scan_available_scanners();
    }
    o.scan.scanners &= ~(unsigned)MM_SCANNER_VULN;
    unsigned unavailable = o.scan.scanners & ~mm_scan_available_scanners();
    if (unavailable) {
        fprintf(stderr, "%s: --scanners: %s%s%sis not available in this version\n", prog,
                unavailable & MM_SCANNER_SECRET ? "secret " : "",
                unavailable & MM_SCANNER_MISCONFIG ? "misconfig " : "",
                unavailable & MM_SCANNER_MALWARE ? "malware " : "");
        goto out;
    }
    o.scan.registry = &reg.opts;
    vo.cache_dir = cache_dir;
    char *db_path = cli_vuln_db_path(&vo);
    if (!db_path) {
        ret = cli_fail("vulnerability database: ");
        goto out;
    }
    o.db_path = db_path;
    o.db_max_age_days = vo.max_age_days;
    if (!quiet && isatty(STDERR_FILENO)) {
        o.progress = progress;
        o.progress_ud = NULL;
    }

    mm_registry *client = NULL;
    mm_store *store = NULL;
    mm_regscan_report *rep = NULL;
    char *spath = cli_store_path(cache_dir);
    if (mm_registry_new(&client, &reg.opts) < 0) {
        ret = cli_fail("");
    } else if (!spath || mm_store_open(&store, spath) < 0) {
        ret = cli_fail("store: ");
    } else if (mm_regscan_run(&rep, client, store, target, &o) < 0) {
        if (o.progress)
            fprintf(stderr, "\r\033[K");
        ret = cli_fail("");
    } else {
        if (o.progress)
            fprintf(stderr, "\r\033[K");
        if (!quiet) {
            for (size_t i = 0; i < mm_regscan_report_warning_count(rep); i++)
                fprintf(stderr, "%s: warning: %s\n", prog,
                        mm_regscan_report_warning(rep, i));
            const char *last = NULL;
            for (size_t i = 0; i < mm_regscan_report_image_count(rep); i++) {
                const mm_regscan_image *im = mm_regscan_report_image(rep, i);
                /* a scan's warnings once per image, not per tag */
                if (im->status != MM_REGSCAN_SCANNED ||
                    (last && im->manifest_digest && !strcmp(last, im->manifest_digest)))
                    continue;
                last = im->manifest_digest;
                for (size_t k = 0; k < im->nwarnings; k++)
                    fprintf(stderr, "%s: warning: %s/%s:%s: %s\n", prog, im->registry,
                            im->repository, im->tag, im->warnings[k]);
            }
        }
        ret = write_report(rep, json, output);
        if (ret == 0 && vo.server)
            ret = upload(&vo, store, rep, quiet);
        mm_regscan_summary s;
        mm_regscan_report_summary(rep, &s);
        if (ret == 0 && s.errors) {
            const char *first = NULL, *what = NULL;
            for (size_t i = 0; i < mm_regscan_report_repo_count(rep) && !first; i++)
                if (mm_regscan_report_repo(rep, i)->error) {
                    first = mm_regscan_report_repo(rep, i)->error;
                    what = mm_regscan_report_repo(rep, i)->name;
                }
            for (size_t i = 0; i < mm_regscan_report_image_count(rep) && !first; i++) {
                const mm_regscan_image *im = mm_regscan_report_image(rep, i);
                if (im->status == MM_REGSCAN_ERROR) {
                    first = im->error;
                    what = im->tag;
                }
            }
            fprintf(stderr, "%s: %zu of %zu tags or repositories failed (first, %s: %s)\n",
                    prog, s.errors, s.tags + s.repositories, what ? what : "?",
                    first ? first : "?");
            ret = EXIT_ERROR;
        } else if (ret == 0 && vo.exit_code) {
            size_t nf = mm_findings_count(mm_regscan_report_findings(rep));
            for (int k = 0; k <= MM_SEV_CRITICAL; k++)
                nf += s.by_severity[k];
            if (s.stale || nf)
                ret = vo.exit_code;
        }
    }
    mm_regscan_report_free(rep);
    mm_store_close(store);
    mm_registry_free(client);
    free(spath);
    free(db_path);
out:
    cli_registry_free(&reg);
    return ret;
}

int cmd_registry(int argc, char **argv)
{
    if (argc < 2) {
        registry_usage(stderr);
        return EXIT_ERROR;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") ||
        !strcmp(argv[1], "-h")) {
        registry_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "scan"))
        return registry_scan(argc - 1, argv + 1);
    if (!strcmp(argv[1], "check"))
        return cmd_registry_check(argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown registry subcommand \"%s\"\n", prog, argv[1]);
    registry_usage(stderr);
    return EXIT_ERROR;
}
