/*
 * cmd_worker.c - `mamori worker --db URL`: a scan worker of the scale-out
 * server (issue 19).  It claims jobs from the server's store (lib/fleet
 * jobs: a lease each, FOR UPDATE SKIP LOCKED on PostgreSQL), runs each
 * image through the one scan pipeline with the options `mamori registry
 * scan` uses (one pipeline and one registry client for the life of the
 * worker: the database is opened once, connections and tokens are reused,
 * and workers that share a --blob-cache folder pull a shared layer once),
 * and writes the result back as a stored scan.  Option parsing, the loop
 * and printing only; SIGTERM/SIGINT finish the current job and stop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mamori/fleet.h"
#include "cli.h"

enum {
    OPT_DB = 1700, OPT_LEASE, OPT_MAX_ATTEMPTS, OPT_POLL, OPT_DRAIN, OPT_MAX_JOBS,
    OPT_WORKER_ID, OPT_SCANNERS, OPT_PLATFORM, OPT_CACHE_DIR, OPT_NO_LAYER_CACHE,
    OPT_RECORD_MAX,
};

static const struct option longopts[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"lease", required_argument, NULL, OPT_LEASE},
    {"max-attempts", required_argument, NULL, OPT_MAX_ATTEMPTS},
    {"poll", required_argument, NULL, OPT_POLL},
    {"drain", no_argument, NULL, OPT_DRAIN},
    {"max-jobs", required_argument, NULL, OPT_MAX_JOBS},
    {"worker-id", required_argument, NULL, OPT_WORKER_ID},
    {"scanners", required_argument, NULL, OPT_SCANNERS},
    {"platform", required_argument, NULL, OPT_PLATFORM},
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"no-layer-cache", no_argument, NULL, OPT_NO_LAYER_CACHE},
    {"layer-record-max", required_argument, NULL, OPT_RECORD_MAX},
    {"db-path", required_argument, NULL, CLI_OPT_DB_PATH},
    {"db-max-age", required_argument, NULL, CLI_OPT_DB_MAX_AGE},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    CLI_REGISTRY_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static void worker_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori worker --db postgres://... [options]\n"
"\n"
"Takes image scan jobs from the server's store (queued by `mamori registry\n"
"scan --enqueue` or POST /api/v1/jobs), scans each with the registry-scan\n"
"pipeline and stores the result as a scan.  Any number of workers may share\n"
"one PostgreSQL; a job whose worker died is taken again when its lease ends.\n"
"\n"
"  --db URL|PATH        the server's store: postgres://... (or a SQLite file\n"
"                       for a single worker); $MAMORI_DB when not given\n"
"  --lease SECONDS      a claimed job is this worker's for so long (600)\n"
"  --max-attempts N     claims of a job before it is marked failed (3)\n"
"  --poll SECONDS       wait between looks at an empty queue (2)\n"
"  --drain              exit when the queue is empty\n"
"  --max-jobs N         exit after N jobs\n"
"  --worker-id ID       (default HOSTNAME:PID)\n"
"  --no-layer-cache     walk every layer (default: layers another scan walked\n"
"                       are replayed from their record in the store)\n"
"  --layer-record-max SZ  layers whose record would be larger are always\n"
"                       walked (256M; the store keeps records compressed)\n"
"  --scanners LIST      vuln,secret,misconfig,malware (default: all available;\n"
"                       vuln when a database exists)\n"
"  --platform OS/ARCH   image of a multi-platform index (linux/amd64)\n"
"  --db-path FILE       vulnerability database; --cache-dir DIR its folder\n"
"  --db-max-age DAYS    warn when the database is older\n"
"  -q, --quiet          no line per job\n"
"\n");
    cli_registry_usage(f);
}

static volatile sig_atomic_t stop_flag;

/* the scan pipeline's layer cache on the server's store, with the last
 * records used kept in memory (base layers come back job after job) */
#define MEM_SLOTS 8
#define MEM_MAX ((size_t)256 << 20)
typedef struct lslot {
    char *key, *data;
    size_t len;
} lslot;
typedef struct lcache {
    mm_fleet *f;
    const char *owner;
    long lease;
    long hits, walks;
    lslot mem[MEM_SLOTS];
    size_t next, bytes;
} lcache;

static void lc_keep(lcache *c, const char *key, const char *data, size_t len)
{
    if (len > MEM_MAX / 4)
        return;
    for (size_t k = 0; k < MEM_SLOTS && c->bytes + len > MEM_MAX; k++) {
        lslot *s = &c->mem[k];
        c->bytes -= s->len;
        free(s->key);
        free(s->data);
        memset(s, 0, sizeof *s);
    }
    lslot *s = &c->mem[c->next];
    c->next = (c->next + 1) % MEM_SLOTS;
    c->bytes -= s->len;
    free(s->key);
    free(s->data);
    s->key = strdup(key);
    s->data = malloc(len ? len : 1);
    if (!s->key || !s->data) {
        free(s->key);
        free(s->data);
        memset(s, 0, sizeof *s);
        return;
    }
    memcpy(s->data, data, len);
    s->len = len;
    c->bytes += len;
}

static void lc_free(lcache *c)
{
    for (size_t k = 0; k < MEM_SLOTS; k++) {
        free(c->mem[k].key);
        free(c->mem[k].data);
    }
}

static int lc_get(void *ud, const char *key, char **data, size_t *len)
{
    lcache *c = ud;
    for (size_t k = 0; k < MEM_SLOTS; k++) {
        lslot *s = &c->mem[k];
        if (s->key && !strcmp(s->key, key) && (*data = malloc(s->len ? s->len : 1))) {
            memcpy(*data, s->data, s->len);
            *len = s->len;
            c->hits++;
            mm_fleet_layer_count_hit(c->f, key);
            return 0;
        }
    }
    int rc = mm_fleet_layer_get(c->f, key, c->owner, (int)c->lease, data, len);
    if (rc == 0) {
        c->hits++;
        lc_keep(c, key, *data, *len);
    } else if (rc == MM_ENOTFOUND) {
        c->walks++;
    }
    return rc;
}

static int lc_put(void *ud, const char *key, const char *data, size_t len)
{
    lcache *c = ud;
    int rc = mm_fleet_layer_put(c->f, key, c->owner, data, len);
    if (rc == 0 && data)
        lc_keep(c, key, data, len);
    return rc;
}

static void lc_drop(void *ud, const char *key, bool bad)
{
    lcache *c = ud;
    for (size_t k = 0; bad && k < MEM_SLOTS; k++)
        if (c->mem[k].key && !strcmp(c->mem[k].key, key)) {
            c->bytes -= c->mem[k].len;
            free(c->mem[k].key);
            free(c->mem[k].data);
            memset(&c->mem[k], 0, sizeof c->mem[k]);
        }
    mm_fleet_layer_drop(c->f, key, c->owner, bad);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static int num_opt(const char *name, const char *arg, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(arg, &end, 10);
    if (errno || end == arg || *end || n < lo || n > hi) {
        fprintf(stderr, "%s: %s: \"%s\" is not a number from %ld to %ld\n", prog, name, arg,
                lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

int cmd_worker(int argc, char **argv)
{
    cli_registry reg;
    cli_registry_init(&reg);
    cli_vuln vo;
    memset(&vo, 0, sizeof vo);
    const char *db = getenv("MAMORI_DB"), *scanners = NULL, *platform = NULL,
               *cache_dir = NULL, *wid = NULL;
    long lease = 600, attempts = 3, poll = 2, max_jobs = 0;
    bool drain = false, quiet = false, no_layer_cache = false;
    uint64_t record_max = 0;
    int c, ret = EXIT_ERROR;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
        int r = cli_registry_option(&reg, c, optarg);
        if (r < 0)
            goto out;
        if (r > 0)
            continue;
        switch (c) {
        case OPT_DB: db = optarg; break;
        case OPT_LEASE:
            if (num_opt("--lease", optarg, 1, 86400, &lease) < 0)
                goto out;
            break;
        case OPT_MAX_ATTEMPTS:
            if (num_opt("--max-attempts", optarg, 1, 100, &attempts) < 0)
                goto out;
            break;
        case OPT_POLL:
            if (num_opt("--poll", optarg, 1, 3600, &poll) < 0)
                goto out;
            break;
        case OPT_MAX_JOBS:
            if (num_opt("--max-jobs", optarg, 1, 100000000, &max_jobs) < 0)
                goto out;
            break;
        case OPT_DRAIN: drain = true; break;
        case OPT_NO_LAYER_CACHE: no_layer_cache = true; break;
        case OPT_RECORD_MAX:
            if (cli_parse_size(optarg, &record_max) < 0 || record_max == 0 ||
                record_max > ((uint64_t)1 << 30)) {
                fprintf(stderr, "%s: --layer-record-max: want a size from 1 to 1G\n", prog);
                goto out;
            }
            break;
        case OPT_WORKER_ID: wid = optarg; break;
        case OPT_SCANNERS: scanners = optarg; break;
        case OPT_PLATFORM: platform = optarg; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case CLI_OPT_DB_PATH: case CLI_OPT_DB_MAX_AGE:
            if (cli_vuln_option(&vo, c, optarg) < 0)
                goto out;
            break;
        case 'q': quiet = true; break;
        case 'h': worker_usage(stdout); ret = 0; goto out;
        default:
            fprintf(stderr, "Run '%s worker --help' for usage.\n", prog);
            goto out;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: worker: unexpected argument \"%s\"\n", prog, argv[optind]);
        goto out;
    }
    if (!db || !*db) {
        fprintf(stderr, "%s: worker needs --db postgres://... (or MAMORI_DB)\n", prog);
        goto out;
    }
    if (cli_registry_finish(&reg) != 0)
        goto out;

    /* the pipeline of `mamori registry scan` (lib/scan regscan.c) */
    mm_pipeline_opts po;
    mm_pipeline_opts_init(&po);
    bool require_db = false;
    if (scanners) {
        if (cli_parse_scanners(scanners, &po.scan.scanners) < 0)
            goto out;
        require_db = po.scan.scanners & MM_SCANNER_VULN;
        po.vuln = require_db;
    } else {
        po.scan.scanners = mm_scan_available_scanners();
        po.vuln = true;
    }
    po.scan.scanners &= ~(unsigned)MM_SCANNER_VULN;
    if (po.scan.scanners & ~mm_scan_available_scanners()) {
        fprintf(stderr, "%s: --scanners: a scanner named is not available in this version\n",
                prog);
        goto out;
    }
    po.scan.platform = platform ? platform : "linux/amd64";
    po.scan.registry = &reg.opts;
    po.vuln_required = require_db;
    vo.cache_dir = cache_dir;
    char *db_path = cli_vuln_db_path(&vo);
    if (!db_path) {
        ret = cli_fail("vulnerability database: ");
        goto out;
    }
    po.db_path = db_path;
    po.db_max_age_days = vo.max_age_days;

    char idbuf[300];
    if (!wid) {
        char host[256] = "worker";
        gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = 0;
        snprintf(idbuf, sizeof idbuf, "%s:%ld", host, (long)getpid());
        wid = idbuf;
    }

    mm_fleet_opts fo;
    mm_fleet_opts_init(&fo);
    fo.db = db;
    mm_fleet *f = NULL;
    mm_registry *client = NULL;
    mm_pipeline *pl = NULL;
    lcache lcd;
    memset(&lcd, 0, sizeof lcd);
    if (mm_fleet_open(&f, &fo) < 0) {
        ret = cli_fail("--db: ");
        goto done;
    }
    if (mm_registry_new(&client, &reg.opts) < 0) {
        ret = cli_fail("");
        goto done;
    }
    po.scan.registry_client = client;
    lcd.f = f;
    lcd.owner = wid;
    lcd.lease = lease;
    mm_layer_cache lc = {lc_get, lc_put, lc_drop, &lcd, (size_t)record_max};
    if (!no_layer_cache)
        po.scan.layer_cache = &lc;
    if (mm_pipeline_new(&pl, &po) < 0) {
        ret = cli_fail("");
        goto done;
    }
    const char *dbv = NULL, *why = NULL;
    if (mm_pipeline_db_version(pl, &dbv, &why) < 0) {
        ret = cli_fail("vulnerability database: ");
        goto done;
    }
    if (!dbv && why && !quiet)
        fprintf(stderr, "%s: warning: vulnerability scanning skipped: %s\n", prog, why);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    long done_jobs = 0, failed_jobs = 0;
    ret = 0;
    while (!stop_flag && (!max_jobs || done_jobs + failed_jobs < max_jobs)) {
        mm_fleet_job *j = NULL;
        if (mm_fleet_job_claim(f, wid, (int)lease, (int)attempts, &j) < 0) {
            /* the store went away: say so, wait, try again */
            fprintf(stderr, "%s: worker %s: claim: %s\n", prog, wid, mm_error_last());
            if (drain) {
                ret = EXIT_ERROR;
                break;
            }
            sleep((unsigned)poll);
            continue;
        }
        if (!j) {
            if (drain)
                break;
            for (long s = 0; s < poll * 10 && !stop_flag; s++)
                nanosleep(&(struct timespec){0, 100000000}, NULL);
            continue;
        }
        double t0 = now_s();
        mm_result *r = NULL;
        mm_pipeline_outcome oc;
        char *sid = NULL;
        if (mm_pipeline_scan(pl, &r, &oc, MM_TARGET_REGISTRY, j->ref) < 0) {
            char *msg = strdup(mm_error_last());
            if (mm_fleet_job_fail(f, j, msg, (int)attempts) < 0)
                fprintf(stderr, "%s: worker %s: job %lld: %s\n", prog, wid, (long long)j->id,
                        mm_error_last());
            if (!quiet)
                fprintf(stderr, "%s: worker %s: job %lld %s (attempt %d): failed: %s\n", prog,
                        wid, (long long)j->id, j->ref, j->attempt, msg ? msg : "?");
            free(msg);
            failed_jobs++;
        } else if (mm_fleet_job_done(f, j, r, &sid) < 0) {
            fprintf(stderr, "%s: worker %s: job %lld %s: not stored: %s\n", prog, wid,
                    (long long)j->id, j->ref, mm_error_last());
            failed_jobs++;
        } else {
            if (!quiet)
                printf("job %lld %s: scan %s, %zu findings, %.2fs\n", (long long)j->id,
                       j->ref, sid, mm_findings_count(mm_result_findings(r)), now_s() - t0);
            fflush(stdout);
            done_jobs++;
        }
        free(sid);
        mm_result_free(r);
        mm_pipeline_outcome_clear(&oc);
        mm_fleet_job_free(j);
    }
    if (!quiet)
        fprintf(stderr, "%s: worker %s: %ld jobs done, %ld failed; layers: %ld replayed"
                " from records, %ld walked\n", prog, wid, done_jobs, failed_jobs, lcd.hits,
                lcd.walks);
done:
    lc_free(&lcd);
    mm_pipeline_free(pl);
    mm_registry_free(client);
    mm_fleet_close(f);
    free(db_path);
out:
    cli_registry_free(&reg);
    return ret;
}
