/*
 * cmd_server.c - `mamori server`: the options of the server (lib/fleet's
 * API served by lib/httpd), its tokens (`mamori server token
 * create|list|revoke`, straight on the store), and `mamori server send`,
 * the agent-side forwarder that streams JSON events (one object a line,
 * e.g. `mamori agent --output json`) with a disk spool while the server is
 * away.  Parsing options and printing only.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mamori/fleet.h"
#include "mamori/httpd.h"
#include "cli.h"

static void server_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori server [options]                 serve the API (docs/api.md)\n"
"       mamori server token create --role ROLE --name NAME [--host HOST_ID]\n"
"       mamori server token list | token revoke ID\n"
"       mamori server send --server URL --token T --host-id ID [FILE|-]\n"
"Server options:\n"
"  --state-dir DIR     store, certificate and key (default ~/.local/share/mamori/server,\n"
"                      or $MAMORI_SERVER_DIR)\n"
"  --db PATH|URL       SQLite file (default STATE/server.db) or postgres://...\n"
"  --listen HOST:PORT  (default 127.0.0.1:8443; :8443 for every address)\n"
"  --unix PATH         listen on a Unix socket instead (plain HTTP)\n"
"  --cert FILE --key FILE  TLS pair (default: self-signed, written on first start)\n"
"  --tls-name NAME     name in the self-signed certificate (default: host name)\n"
"  --plain             no TLS (behind a TLS proxy only)\n"
"  --rate N            requests per second per token (100)\n"
"  --threads N         request threads (4)\n"
"  --quiet\n"
"  --config FILE       schedules, notification routes, retention (YAML or JSON,\n"
"                      docs/server-ops.md), applied to the store at start\n"
"  --vulndb PATH       the vulnerability database the scheduler updates and\n"
"                      re-matches with (default: that of `mamori db`)\n"
"  --tick S            how often the scheduler looks (1)\n"
"  --retention-every S seconds between retention passes (300)\n"
"  --no-scheduler      serve the API only\n"
"Roles: admin, operator, viewer, agent (bound to --host), ci.\n"
"Send options: --spool DIR (default STATE/spool), --spool-max N (1000000 events),\n"
"  --batch N (500), --wait S (seconds to keep trying at the end, 60),\n"
"  --ca-file FILE (the server's certificate), --server-fingerprint sha256:HEX (pin it\n"
"  instead: the fingerprint the server printed), --insecure\n");
}

static char *state_dir_default(void)
{
    const char *e = getenv("MAMORI_SERVER_DIR");
    if (e && *e)
        return strdup(e);
    const char *home = getenv("HOME");
    char *d = NULL;
    if (asprintf(&d, "%s/.local/share/mamori/server", home && *home ? home : "/var/lib") < 0)
        return NULL;
    return d;
}

static int mkdir_p(const char *path)
{
    char *p = strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        mkdir(p, 0700);
        *s = '/';
    }
    int rc = mkdir(p, 0700) == 0 || errno == EEXIST ? 0 : -1;
    free(p);
    return rc;
}

enum {
    OPT_STATE = 1600, OPT_DB, OPT_LISTEN, OPT_UNIX, OPT_CERT, OPT_KEY, OPT_PLAIN, OPT_RATE,
    OPT_THREADS, OPT_QUIET, OPT_ROLE, OPT_NAME, OPT_HOST, OPT_SERVER, OPT_TOKEN, OPT_HOST_ID,
    OPT_SPOOL, OPT_SPOOL_MAX, OPT_BATCH, OPT_WAIT, OPT_CA, OPT_INSECURE, OPT_TLS_NAME,
    OPT_CONFIG, OPT_VULNDB, OPT_TICK, OPT_NO_SCHED, OPT_RET_EVERY,   /* issue 19 */
};

typedef struct sopts {
    const char *state, *db, *listen, *unix_path, *cert, *key, *tls_name;
    bool plain, quiet, insecure;
    double rate, wait;
    unsigned threads, batch;
    const char *role, *name, *host;
    const char *server, *token, *host_id, *spool, *ca;
    uint64_t spool_max;
    char *state_buf, *db_buf, *spool_buf;
    const char *fingerprint;   /* send --server-fingerprint (issue 18) */
    const char *config, *vulndb;   /* issue 19 */
    double tick, ret_every;
    bool no_sched;
} sopts;

#define OPT_SERVER_FP 1690     /* issue 18: outside the enum, to merge cleanly */

static int parse(sopts *o, int argc, char **argv)
{
    static const struct option lo[] = {
        {"state-dir", required_argument, NULL, OPT_STATE},
        {"db", required_argument, NULL, OPT_DB},
        {"listen", required_argument, NULL, OPT_LISTEN},
        {"unix", required_argument, NULL, OPT_UNIX},
        {"cert", required_argument, NULL, OPT_CERT},
        {"key", required_argument, NULL, OPT_KEY},
        {"tls-name", required_argument, NULL, OPT_TLS_NAME},
        {"plain", no_argument, NULL, OPT_PLAIN},
        {"rate", required_argument, NULL, OPT_RATE},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"role", required_argument, NULL, OPT_ROLE},
        {"name", required_argument, NULL, OPT_NAME},
        {"host", required_argument, NULL, OPT_HOST},
        {"server", required_argument, NULL, OPT_SERVER},
        {"token", required_argument, NULL, OPT_TOKEN},
        {"host-id", required_argument, NULL, OPT_HOST_ID},
        {"spool", required_argument, NULL, OPT_SPOOL},
        {"spool-max", required_argument, NULL, OPT_SPOOL_MAX},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"wait", required_argument, NULL, OPT_WAIT},
        {"ca-file", required_argument, NULL, OPT_CA},
        {"server-fingerprint", required_argument, NULL, OPT_SERVER_FP},
        {"server-ca", required_argument, NULL, OPT_CA},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"vulndb", required_argument, NULL, OPT_VULNDB},
        {"tick", required_argument, NULL, OPT_TICK},
        {"no-scheduler", no_argument, NULL, OPT_NO_SCHED},
        {"retention-every", required_argument, NULL, OPT_RET_EVERY},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    o->wait = 60;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "hq", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case OPT_STATE: o->state = optarg; break;
        case OPT_DB: o->db = optarg; break;
        case OPT_LISTEN: o->listen = optarg; break;
        case OPT_UNIX: o->unix_path = optarg; break;
        case OPT_CERT: o->cert = optarg; break;
        case OPT_KEY: o->key = optarg; break;
        case OPT_TLS_NAME: o->tls_name = optarg; break;
        case OPT_PLAIN: o->plain = true; break;
        case OPT_QUIET: case 'q': o->quiet = true; break;
        case OPT_INSECURE: o->insecure = true; break;
        case OPT_ROLE: o->role = optarg; break;
        case OPT_NAME: o->name = optarg; break;
        case OPT_HOST: o->host = optarg; break;
        case OPT_SERVER: o->server = optarg; break;
        case OPT_TOKEN: o->token = optarg; break;
        case OPT_HOST_ID: o->host_id = optarg; break;
        case OPT_SPOOL: o->spool = optarg; break;
        case OPT_CA: o->ca = optarg; break;
        case OPT_SERVER_FP: o->fingerprint = optarg; break;
        case OPT_CONFIG: o->config = optarg; break;
        case OPT_VULNDB: o->vulndb = optarg; break;
        case OPT_NO_SCHED: o->no_sched = true; break;
        case OPT_TICK: case OPT_RET_EVERY: {
            double v = strtod(optarg, &end);
            if (*end || v < 0.05 || v > 86400) {
                fprintf(stderr, "%s server: --%s: want seconds (0.05 to 86400)\n", prog,
                        c == OPT_TICK ? "tick" : "retention-every");
                return -1;
            }
            *(c == OPT_TICK ? &o->tick : &o->ret_every) = v;
            break;
        }
        case OPT_RATE:
            o->rate = strtod(optarg, &end);
            if (*end || o->rate <= 0 || o->rate > 1e6) {
                fprintf(stderr, "%s server: --rate: want requests per second\n", prog);
                return -1;
            }
            break;
        case OPT_WAIT:
            o->wait = strtod(optarg, &end);
            if (*end || o->wait < 0) {
                fprintf(stderr, "%s server: --wait: want seconds\n", prog);
                return -1;
            }
            break;
        case OPT_THREADS: case OPT_BATCH: {
            long v = strtol(optarg, &end, 10);
            if (*end || v < 1 || v > (c == OPT_THREADS ? 256 : 5000)) {
                fprintf(stderr, "%s server: --%s: out of range\n", prog,
                        c == OPT_THREADS ? "threads" : "batch");
                return -1;
            }
            *(c == OPT_THREADS ? &o->threads : &o->batch) = (unsigned)v;
            break;
        }
        case OPT_SPOOL_MAX:
            if (cli_parse_size(optarg, &o->spool_max) != 0) {
                fprintf(stderr, "%s server: --spool-max: want a count\n", prog);
                return -1;
            }
            break;
        case 'h':
            server_usage(stdout);
            return 1;
        default:
            server_usage(stderr);
            return -1;
        }
    }
    if (!o->state)
        o->state = o->state_buf = state_dir_default();
    if (!o->db && asprintf(&o->db_buf, "%s/server.db", o->state) > 0)
        o->db = o->db_buf;
    if (!o->spool && asprintf(&o->spool_buf, "%s/spool", o->state) > 0)
        o->spool = o->spool_buf;
    return 0;
}

static void sopts_free(sopts *o)
{
    free(o->state_buf);
    free(o->db_buf);
    free(o->spool_buf);
}

static int open_store(const sopts *o, mm_fleet **f)
{
    if (!strstr(o->db, "://") && mkdir_p(o->state) != 0) {
        fprintf(stderr, "%s server: %s: cannot create: %s\n", prog, o->state, strerror(errno));
        return EXIT_ERROR;
    }
    mm_fleet_opts fo;
    mm_fleet_opts_init(&fo);
    fo.db = o->db;
    fo.rate = o->rate;
    fo.assets = cli_console_assets(&fo.nassets);   /* the web console at / (issue 20) */
    if (mm_fleet_open(f, &fo) != 0)
        return cli_fail("server: store: ");
    return 0;
}

static void print_token(void *ud, const mm_fleet_token_info *t)
{
    char c[32] = "-", u[32] = "-";
    time_t tt = (time_t)t->created;
    struct tm tm;
    strftime(c, sizeof c, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
    if (t->last_used) {
        tt = (time_t)t->last_used;
        strftime(u, sizeof u, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&tt, &tm));
    }
    /* names are printable: the library refuses control characters in them */
    printf("%-16s  %-8s  %-8s  %-20s  %-20s  %-20s  %s\n", t->id, t->role,
           t->revoked ? "revoked" : "active", t->host_id ? t->host_id : "-", c, u, t->name);
}

static int token_cmd(int argc, char **argv)
{
    if (argc < 2) {
        server_usage(stderr);
        return EXIT_ERROR;
    }
    const char *sub = argv[1];
    sopts o = {0};
    int pr = parse(&o, argc - 1, argv + 1);
    if (pr) {
        sopts_free(&o);
        return pr > 0 ? 0 : EXIT_ERROR;
    }
    mm_fleet *f = NULL;
    int rc = open_store(&o, &f);
    if (rc) {
        sopts_free(&o);
        return rc;
    }
    if (!strcmp(sub, "create")) {
        char *tok = NULL, *id = NULL;
        if (!o.role || !o.name) {
            fprintf(stderr, "%s server token create: --role and --name are required\n", prog);
            rc = EXIT_ERROR;
        } else if (mm_fleet_token_create(f, o.name, o.role, o.host, &tok, &id) != 0)
            rc = cli_fail("server token create: ");
        else {
            printf("%s\n", tok);
            if (!o.quiet)
                fprintf(stderr, "%s: token %s (role %s) created; it is shown only this once\n",
                        prog, id, o.role);
        }
        free(tok);
        free(id);
    } else if (!strcmp(sub, "list")) {
        printf("%-16s  %-8s  %-8s  %-20s  %-20s  %-20s  %s\n", "ID", "ROLE", "STATE", "HOST",
               "CREATED", "LAST USED", "NAME");
        if (mm_fleet_token_list(f, print_token, NULL) != 0)
            rc = cli_fail("server token list: ");
    } else if (!strcmp(sub, "revoke")) {
        if (optind >= argc - 1) {
            fprintf(stderr, "%s server token revoke: which token id?\n", prog);
            rc = EXIT_ERROR;
        } else if (mm_fleet_token_revoke(f, argv[1 + optind]) != 0)
            rc = cli_fail("server token revoke: ");
        else if (!o.quiet)
            fprintf(stderr, "%s: token %s revoked\n", prog, argv[1 + optind]);
    } else {
        fprintf(stderr, "%s server token: unknown action '%s' (create, list, revoke)\n", prog, sub);
        rc = EXIT_ERROR;
    }
    mm_fleet_close(f);
    sopts_free(&o);
    return rc;
}

void cli_forward_sender_opts(mm_fleet_sender_opts *so, const cli_forward *fw)
{
    mm_fleet_sender_opts_init(so);
    so->client.server = fw->server;
    so->client.token = fw->token;
    so->client.ca_file = fw->ca;
    so->client.insecure = fw->insecure;
    so->client.fingerprint = fw->fingerprint;
    so->host_id = fw->host_id;
    so->spool_dir = fw->spool;
    so->spool_max_events = fw->spool_max;
    so->batch = fw->batch;
}

int cli_forward_events(FILE *fin, const char *in, const cli_forward *fw)
{
    mm_fleet_sender_opts so;
    cli_forward_sender_opts(&so, fw);
    mm_fleet_sender *s = NULL;
    if (mm_fleet_sender_new(&s, &so) != 0)
        return cli_fail("server send: ");
    int rc = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lineno = 0;
    double last_hb = 0;
    while ((n = getline(&line, &cap, fin)) > 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = 0;
        if (n == 0)
            continue;
        int r = mm_fleet_sender_push(s, line, (size_t)n);
        if (r == MM_EFORMAT && !strncmp(mm_error_last(), "event:", 6)) {
            fprintf(stderr, "%s server send: %s:%llu: %s (skipped)\n", prog, in,
                    (unsigned long long)lineno, mm_error_last());
            continue;
        }
        if (r) {
            rc = cli_fail("server send: ");
            break;
        }
        time_t now = time(NULL);
        if (now - last_hb >= 10) {
            mm_fleet_sender_heartbeat(s);   /* best effort */
            last_hb = (double)now;
        }
    }
    free(line);
    if (rc == 0 && mm_fleet_sender_flush(s, fw->wait) != 0)
        rc = cli_fail("server send: ");
    if (rc == 0)
        mm_fleet_sender_heartbeat(s);
    mm_fleet_sender_stats st;
    mm_fleet_sender_stats_get(s, &st);
    if (!fw->quiet || rc)
        fprintf(stderr, "%s server send: %llu events: %llu stored, %llu duplicates ignored,"
                " %llu dropped (spool full), %llu waiting, %llu failed requests\n", prog,
                (unsigned long long)st.pushed, (unsigned long long)st.accepted,
                (unsigned long long)st.duplicates, (unsigned long long)st.dropped,
                (unsigned long long)(st.spooled + st.pending), (unsigned long long)st.failures);
    mm_fleet_sender_free(s);
    return rc;
}

static int send_cmd(int argc, char **argv)
{
    sopts o = {0};
    int pr = parse(&o, argc, argv);
    if (pr) {
        sopts_free(&o);
        return pr > 0 ? 0 : EXIT_ERROR;
    }
    cli_forward fw = {0};
    fw.token = o.token ? o.token : getenv("MAMORI_TOKEN");
    fw.server = o.server ? o.server : getenv("MAMORI_SERVER");
    if (!fw.server || !fw.token || !o.host_id) {
        fprintf(stderr, "%s server send: --server, --token (or MAMORI_SERVER, MAMORI_TOKEN)"
                " and --host-id are required\n", prog);
        sopts_free(&o);
        return EXIT_ERROR;
    }
    const char *in = optind < argc ? argv[optind] : "-";
    FILE *fin = strcmp(in, "-") ? fopen(in, "r") : stdin;
    if (!fin) {
        fprintf(stderr, "%s server send: %s: %s\n", prog, in, strerror(errno));
        sopts_free(&o);
        return EXIT_ERROR;
    }
    if (o.spool_buf)
        mkdir_p(o.state);   /* the default spool lives in the state folder */
    fw.host_id = o.host_id;
    fw.ca = o.ca;
    fw.fingerprint = o.fingerprint;
    fw.insecure = o.insecure;
    fw.spool = o.spool;
    fw.spool_max = o.spool_max;
    fw.batch = o.batch;
    fw.wait = o.wait;
    fw.quiet = o.quiet;
    int rc = cli_forward_events(fin, in, &fw);
    if (fin != stdin)
        fclose(fin);
    sopts_free(&o);
    return rc;
}

/* the fleet stored new alerts: the live streams look now (issue 20) */
static void wake_streams(void *h)
{
    mm_httpd_stream_wake(h);
}

int cmd_server(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "token"))
        return token_cmd(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "send"))
        return send_cmd(argc - 1, argv + 1);
    sopts o = {0};
    int pr = parse(&o, argc, argv);
    if (pr) {
        sopts_free(&o);
        return pr > 0 ? 0 : EXIT_ERROR;
    }
    if (optind < argc) {
        fprintf(stderr, "%s server: unexpected argument '%s'\n", prog, argv[optind]);
        sopts_free(&o);
        return EXIT_ERROR;
    }
    mm_fleet *f = NULL;
    int rc = open_store(&o, &f);
    if (rc) {
        sopts_free(&o);
        return rc;
    }
    if (o.config && mm_fleet_config_apply(f, o.config) != 0) {
        mm_fleet_close(f);
        sopts_free(&o);
        return cli_fail("server: --config: ");
    }
    /* the signals are waited for here, never delivered to the pool's threads */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    mm_httpd_opts ho;
    mm_httpd_opts_init(&ho);
    ho.listen = o.listen ? o.listen : "127.0.0.1:8443";
    ho.unix_path = o.unix_path;
    ho.plain = o.plain;
    ho.cert_file = o.cert;
    ho.key_file = o.key;
    ho.state_dir = o.state;
    ho.tls_name = o.tls_name;
    ho.max_body = MM_FLEET_MAX_BODY;
    ho.json_only = true;
    ho.threads = o.threads;
    ho.handler = mm_fleet_handle;
    ho.ctx = f;
    mm_httpd *h = NULL;
    if (mm_httpd_start(&h, &ho) != 0) {
        mm_fleet_close(f);
        sopts_free(&o);
        return cli_fail("server: ");
    }
    mm_fleet_on_events(f, wake_streams, h);   /* live alerts at once (issue 20) */
    char *work = NULL;
    if (!o.no_sched) {
        mm_fleet_ops_opts op = {0};
        if (asprintf(&work, "%s/work", o.state) < 0)
            work = NULL;
        op.work_dir = work;
        op.vulndb = o.vulndb;
        op.tick_s = o.tick;
        op.retention_every_s = o.ret_every;
        if (mm_fleet_ops_start(f, &op) != 0) {
            mm_httpd_stop(h);
            mm_fleet_close(f);
            free(work);
            sopts_free(&o);
            return cli_fail("server: scheduler: ");
        }
    }
    int64_t ver = 0;
    mm_fleet_schema_version(f, &ver);
    const char *fp = mm_httpd_fingerprint(h);
    if (o.unix_path)
        printf("mamori server: listening on unix:%s", o.unix_path);
    else {
        const char *lis = ho.listen;
        const char *colon = strrchr(lis, ':');
        int hl = (int)(colon - lis);
        printf("mamori server: listening on %s://%.*s:%u", fp ? "https" : "http",
               hl ? hl : 9, hl ? lis : "localhost", mm_httpd_port(h));
    }
    printf(" (store %s, schema %lld)\n", mm_fleet_store_kind(f), (long long)ver);
    if (fp)
        printf("mamori server: certificate %s\nmamori server: fingerprint %s\n",
               mm_httpd_cert_path(h), fp);
    if (!o.unix_path)
        printf("mamori server: console at the same address, path / (log in with an API token)\n");
    fflush(stdout);
    int sig = 0;
    sigwait(&set, &sig);
    if (!o.quiet)
        fprintf(stderr, "%s server: stopping (%s)\n", prog, sig == SIGINT ? "SIGINT" : "SIGTERM");
    mm_fleet_on_events(f, NULL, NULL);
    mm_httpd_stop(h);
    mm_fleet_close(f);
    free(work);
    sopts_free(&o);
    return 0;
}
