/*
 * cmd_agent.c - `mamori agent`: the options of the runtime agent and what
 * it prints.  The agent itself (sources, rules, profiles, capture, alerts,
 * kills) is the library's (mamori/agent.h); this file parses the command
 * line (parse_args: one small function per group of options), installs
 * the signal handlers that stop it, starts the forwarder to `mamori server`
 * (agent_fwd.c: alerts and the host inventory) and prints the agent's notes
 * on standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mamori/mamori.h"
#include "mamori/agent.h"
#include "mamori/hostinv.h"
#include "mamori/k8s.h"
#include "cli.h"
#include "cli_agent.h"

static volatile sig_atomic_t agent_stop;

/* action: isolate-node - this node, once per run */
typedef struct iso_ctx {
    mm_k8s_client *kc;
    const char *node;
    mm_k8s_isolate_opts io;
    bool done;
    char first[200];
} iso_ctx;

static void isolate_hook(void *ud, const mm_alert *a, char *res, size_t reslen)
{
    iso_ctx *x = ud;
    if (x->done) {
        snprintf(res, reslen, "%s (earlier)", x->first);
        return;
    }
    if (!x->node || !*x->node) {
        snprintf(res, reslen, "not isolated: no node name (--node-name or NODE_NAME)");
        return;
    }
    if (!x->kc) {
        snprintf(res, reslen, "not isolated: no API access (--in-cluster or --kubeconfig)");
        return;
    }
    char reason[300];
    snprintf(reason, sizeof reason, "rule '%s' (mamori agent)", a->rule);
    mm_k8s_isolate_opts io = x->io;
    io.reason = reason;
    mm_k8s_isolate_result r;
    if (mm_k8s_isolate_node(x->kc, x->node, &io, &r))
        snprintf(res, reslen, "failed: node %s: %s", x->node, mm_error_last());
    else
        snprintf(res, reslen, "node %s %s", x->node,
                 r.already ? "was already cordoned and tainted" : "cordoned and tainted");
    x->done = true;
    snprintf(x->first, sizeof x->first, "%s", res);
}

static void on_signal(int sig) { (void)sig; agent_stop = 1; }

/* --learn DURATION: seconds, or a number with s, m, h or d */
static double parse_duration(const char *s)
{
    char *e;
    double v = strtod(s, &e);
    if (e == s || v < 0)
        return -1;
    if (!*e || !strcmp(e, "s"))
        return v;
    if (!strcmp(e, "m"))
        return v * 60;
    if (!strcmp(e, "h"))
        return v * 3600;
    if (!strcmp(e, "d"))
        return v * 86400;
    return -1;
}

/* The agent's notes: start-up lines and statistics unless --quiet,
 * warnings about lost events always. */
static void on_note(void *ud, mm_agent_note_level level, const char *msg)
{
    const bool *quiet = ud;
    if (level == MM_AGENT_INFO && *quiet)
        return;
    fprintf(stderr, "%s agent: %s\n", prog, msg);
}

static void agent_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori agent --rules FILE [--rules FILE...] [options]\n"
"       mamori agent --learn DURATION --profile-out FILE [--rules FILE...] [options]\n"
"       mamori agent --profile FILE [--rules FILE...] [options]\n"
"       mamori agent --exec-store FILE [--rules FILE...] [options]\n"
"  --source bpf|fallback|replay:FILE  event source (default bpf)\n"
"  --output json|syslog|file:PATH|http://URL  where alerts go (default json = stdout)\n"
"  --capture FILE       also keep every event (JSON lines, zstd, rotated; docs/capture.md)\n"
"  --exec-store FILE    keep the execve events (zstd, rotated, 64M x 5) for `mamori host\n"
"                       commands`, which reads " MM_EXEC_STORE_DEFAULT " by default\n"
"  --capture-max-size SZ  rotate the capture at SZ bytes (64M)\n"
"  --capture-keep N     capture files kept, FILE included (5)\n"
"  --learn DURATION     record what each image does (10s, 5m, 1h), then write\n"
"                       --profile-out FILE (docs/profiles.md)\n"
"  --learn-scope container|all  learn containers only, or the host too (all)\n"
"  --profile FILE       alert on (and kill, where it says so) deviations from FILE\n"
"  --duration S         stop after S seconds (default: until SIGINT/SIGTERM)\n"
"  --wakeup N           eBPF: records per CPU between consumer wake-ups (1024)\n"
"  --strict             fail when a rule cannot compile or needs an event or field\n"
"                       the source cannot fill (default: such rules are disabled\n"
"                       with a warning)\n"
"  --quiet              no start-up and statistics lines on stderr\n"
"Rules with `action: isolate-node` cordon and taint this node (once; docs/k8s-audit.md):\n"
"  --node-name NAME     this node (default $NODE_NAME, from the downward API)\n"
"  --in-cluster         the pod's service account (--server URL, --sa-dir DIR)\n"
"  --kubeconfig F       or a kubeconfig (--context C)\n"
"  --isolate-effect E   NoSchedule (default), PreferNoSchedule or NoExecute\n"
"  --mamori-server URL --token T --host-id ID --spool DIR\n"
"                       [--server-ca FILE | --server-fingerprint sha256:HEX]\n"
"                       stream the alerts and the host inventory to `mamori server`\n"
"                       (docs/api.md), spooled to DIR while it is away; also the\n"
"                       profile learned (--profile-out) and the list of the captures\n"
"                       kept (--capture)\n"
"  --capture-upload-max SZ  with --capture and --mamori-server: also send the capture\n"
"                       files themselves (each once, when complete) up to SZ bytes\n"
"                       (at most 16M; default: only their list)\n"
"  --server-profiles    check events against the profiles enforced for this host on\n"
"                       `mamori server` (fetched at start and every --profile-interval\n"
"                       S, default 30; docs/profiles.md)\n"
"The host inventory (OS, processes, logins, containers) with --mamori-server:\n"
"  --inventory-interval S  seconds between snapshots, one at start (60; 0 = none)\n"
"  --inventory-wtmp F, --inventory-btmp F  login records (/var/log/wtmp, btmp)\n"
"  --inventory-root DIR    containerd/CRI-O state below DIR (/)\n"
"  --inventory-docker-host H | --inventory-no-docker\n"
"  --inventory-podman-root DIR --inventory-podman-runroot DIR | --inventory-no-podman\n"
"  --inventory-no-disk     leave out the containers' disk use (no folder walks)\n");
}

/* Everything the command line says. */
typedef struct agent_args {
    const char *rules[64];
    size_t nrules;
    const char *source, *output, *capture, *exec_store;
    mm_capture_opts capopts;
    double duration;
    unsigned wakeup;
    bool quiet, strict;
    double learn_secs;
    const char *profile_out, *profile;
    mm_profile_opts lopts;
    cli_forward fw;          /* --mamori-server: alerts to `mamori server` */
    cli_agent_inv inv;       /* and the host inventory */
    cli_agent_rt rt;         /* and profiles, captures (issue 20a) */
    bool server_profiles;
    char *enforced_path;
    iso_ctx iso;             /* action: isolate-node */
    bool in_cluster;
    const char *server, *sa_dir, *kubeconfig, *context;
} agent_args;

enum {
    O_CAP_MAX = 1300, O_CAP_KEEP, O_EXEC_STORE,
    O_LEARN = 1400, O_PROFILE_OUT, O_LEARN_SCOPE, O_PROFILE,
    O_STRICT = 1500,
    O_NODE = 1600, O_IN_CLUSTER, O_K8S_SERVER, O_SA_DIR, O_KUBECONFIG, O_CONTEXT, O_EFFECT,
    O_MM_SERVER = 1610, O_TOKEN, O_HOST_ID, O_SERVER_CA, O_SPOOL, O_SERVER_FP,
    O_SERVER_PROFILES = 1620, O_PROFILE_INTERVAL, O_CAP_UPLOAD,
    O_INV_INTERVAL = 1700, O_INV_WTMP, O_INV_BTMP, O_INV_ROOT, O_INV_DOCKER, O_INV_NO_DOCKER,
    O_INV_PODMAN_ROOT, O_INV_PODMAN_RUNROOT, O_INV_NO_PODMAN, O_INV_NO_DISK,
};

static const struct option agent_longopts[] = {
    {"rules", required_argument, NULL, 'r'},
    {"source", required_argument, NULL, 's'},
    {"output", required_argument, NULL, 'o'},
    {"capture", required_argument, NULL, 'c'},
    {"exec-store", required_argument, NULL, O_EXEC_STORE},
    {"capture-max-size", required_argument, NULL, O_CAP_MAX},
    {"capture-keep", required_argument, NULL, O_CAP_KEEP},
    {"duration", required_argument, NULL, 'd'},
    {"learn", required_argument, NULL, O_LEARN},
    {"profile-out", required_argument, NULL, O_PROFILE_OUT},
    {"learn-scope", required_argument, NULL, O_LEARN_SCOPE},
    {"profile", required_argument, NULL, O_PROFILE},
    {"wakeup", required_argument, NULL, 'w'},
    {"quiet", no_argument, NULL, 'q'},
    {"strict", no_argument, NULL, O_STRICT},
    {"node-name", required_argument, NULL, O_NODE},
    {"in-cluster", no_argument, NULL, O_IN_CLUSTER},
    {"server", required_argument, NULL, O_K8S_SERVER},
    {"sa-dir", required_argument, NULL, O_SA_DIR},
    {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
    {"context", required_argument, NULL, O_CONTEXT},
    {"isolate-effect", required_argument, NULL, O_EFFECT},
    {"mamori-server", required_argument, NULL, O_MM_SERVER},
    {"token", required_argument, NULL, O_TOKEN},
    {"host-id", required_argument, NULL, O_HOST_ID},
    {"server-ca", required_argument, NULL, O_SERVER_CA},
    {"spool", required_argument, NULL, O_SPOOL},
    {"server-fingerprint", required_argument, NULL, O_SERVER_FP},
    {"server-profiles", no_argument, NULL, O_SERVER_PROFILES},
    {"profile-interval", required_argument, NULL, O_PROFILE_INTERVAL},
    {"capture-upload-max", required_argument, NULL, O_CAP_UPLOAD},
    {"inventory-interval", required_argument, NULL, O_INV_INTERVAL},
    {"inventory-wtmp", required_argument, NULL, O_INV_WTMP},
    {"inventory-btmp", required_argument, NULL, O_INV_BTMP},
    {"inventory-root", required_argument, NULL, O_INV_ROOT},
    {"inventory-docker-host", required_argument, NULL, O_INV_DOCKER},
    {"inventory-no-docker", no_argument, NULL, O_INV_NO_DOCKER},
    {"inventory-podman-root", required_argument, NULL, O_INV_PODMAN_ROOT},
    {"inventory-podman-runroot", required_argument, NULL, O_INV_PODMAN_RUNROOT},
    {"inventory-no-podman", no_argument, NULL, O_INV_NO_PODMAN},
    {"inventory-no-disk", no_argument, NULL, O_INV_NO_DISK},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int opt_error(const char *msg)
{
    fprintf(stderr, "%s agent: %s\n", prog, msg);
    return -1;
}

/* Rules, sources, outputs, capture and profiles: 1 taken, 0 not ours, -1 bad. */
static int opt_engine(agent_args *a, int c, const char *arg)
{
    switch (c) {
    case 'r':
        if (a->nrules == 64)
            return opt_error("too many --rules");
        a->rules[a->nrules++] = arg;
        return 1;
    case 's': a->source = arg; return 1;
    case 'o': a->output = arg; return 1;
    case 'c': a->capture = arg; return 1;
    case O_EXEC_STORE: a->exec_store = arg; return 1;
    case O_CAP_MAX:
        if (cli_parse_size(arg, &a->capopts.max_size) < 0 || a->capopts.max_size < 4096)
            return opt_error("--capture-max-size: want a size of at least 4K");
        return 1;
    case O_CAP_KEEP: {
        char *e;
        unsigned long k = strtoul(arg, &e, 10);
        if (*e || !k || k > 100000)
            return opt_error("--capture-keep: want a count from 1 to 100000");
        a->capopts.keep = (unsigned)k;
        return 1;
    }
    case 'd': a->duration = strtod(arg, NULL); return 1;
    case O_LEARN:
        if ((a->learn_secs = parse_duration(arg)) < 0)
            return opt_error("--learn: want a duration (30, 30s, 5m, 1h)");
        return 1;
    case O_PROFILE_OUT: a->profile_out = arg; return 1;
    case O_LEARN_SCOPE:
        if (strcmp(arg, "container") && strcmp(arg, "all"))
            return opt_error("--learn-scope is container or all");
        a->lopts.containers_only = !strcmp(arg, "container");
        return 1;
    case O_PROFILE: a->profile = arg; return 1;
    case 'w': a->wakeup = (unsigned)strtoul(arg, NULL, 10); return 1;
    case 'q': a->quiet = true; return 1;
    case O_STRICT: a->strict = true; return 1;
    default: return 0;
    }
}

/* Node isolation (Kubernetes API access): 1 taken, 0 not ours. */
static int opt_isolate(agent_args *a, int c, const char *arg)
{
    switch (c) {
    case O_NODE: a->iso.node = arg; return 1;
    case O_IN_CLUSTER: a->in_cluster = true; return 1;
    case O_K8S_SERVER: a->server = arg; return 1;
    case O_SA_DIR: a->sa_dir = arg; return 1;
    case O_KUBECONFIG: a->kubeconfig = arg; return 1;
    case O_CONTEXT: a->context = arg; return 1;
    case O_EFFECT: a->iso.io.effect = arg; return 1;
    default: return 0;
    }
}

/* `mamori server` and the host inventory: 1 taken, 0 not ours, -1 bad. */
static int opt_fleet(agent_args *a, int c, const char *arg)
{
    mm_containers_opts *co = &a->inv.o.containers;
    switch (c) {
    case O_MM_SERVER: a->fw.server = arg; return 1;
    case O_TOKEN: a->fw.token = arg; return 1;
    case O_HOST_ID: a->fw.host_id = arg; return 1;
    case O_SERVER_CA: a->fw.ca = arg; return 1;
    case O_SPOOL: a->fw.spool = arg; return 1;
    case O_SERVER_FP: a->fw.fingerprint = arg; return 1;
    case O_SERVER_PROFILES: a->server_profiles = true; return 1;
    case O_CAP_UPLOAD:
        if (cli_parse_size(arg, &a->rt.capture_upload_max) < 0 ||
            a->rt.capture_upload_max > (16u << 20))
            return opt_error("--capture-upload-max: want a size up to 16M");
        return 1;
    case O_PROFILE_INTERVAL: {
        char *e;
        double v = strtod(arg, &e);
        if (e == arg || *e || v < 1 || v > 86400)
            return opt_error("--profile-interval: want seconds from 1 to 86400");
        a->rt.profile_interval = v;
        return 1;
    }
    case O_INV_INTERVAL: {
        char *e;
        double v = strtod(arg, &e);
        if (e == arg || *e || v < 0 || (v > 0 && v < 1) || v > 86400)
            return opt_error("--inventory-interval: want seconds from 1 to 86400, or 0");
        a->inv.interval = v;
        return 1;
    }
    case O_INV_WTMP: a->inv.o.wtmp = arg; return 1;
    case O_INV_BTMP: a->inv.o.btmp = arg; return 1;
    case O_INV_ROOT: co->root = arg; return 1;
    case O_INV_DOCKER: co->docker_host = arg; return 1;
    case O_INV_NO_DOCKER: co->no_docker = true; return 1;
    case O_INV_PODMAN_ROOT: co->podman_root = arg; return 1;
    case O_INV_PODMAN_RUNROOT: co->podman_runroot = arg; return 1;
    case O_INV_NO_PODMAN: co->no_podman = true; return 1;
    case O_INV_NO_DISK: co->no_disk = true; return 1;
    default: return 0;
    }
}

/* 0 run, 1 help printed, -1 bad usage (printed). */
static int parse_args(agent_args *a, int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:s:o:c:d:w:qh", agent_longopts, NULL)) != -1) {
        int r = opt_engine(a, c, optarg);
        if (r == 0)
            r = opt_isolate(a, c, optarg);
        if (r == 0)
            r = opt_fleet(a, c, optarg);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        if (c == 'h') {
            agent_usage(stdout);
            return 1;
        }
        agent_usage(stderr);
        return -1;
    }
    if (optind < argc || (!a->nrules && a->learn_secs < 0 && !a->profile && !a->exec_store &&
                          !a->server_profiles)) {
        agent_usage(stderr);
        return -1;
    }
    if ((a->learn_secs >= 0) != (a->profile_out != NULL) || (a->learn_secs >= 0 && a->profile))
        return opt_error("--learn needs --profile-out (and not --profile)");
    if (a->fw.server && a->output && strcmp(a->output, "json"))
        return opt_error("--mamori-server takes the alerts; no --output with it");
    if (a->rt.capture_upload_max && (!a->fw.server || !a->capture))
        return opt_error("--capture-upload-max needs --capture and --mamori-server");
    if (a->server_profiles && (!a->fw.server || !a->fw.spool || a->profile || a->learn_secs >= 0))
        return opt_error("--server-profiles needs --mamori-server and --spool (and not"
                         " --profile or --learn)");
    return 0;
}

static void args_init(agent_args *a)
{
    memset(a, 0, sizeof *a);
    a->source = "bpf";
    a->learn_secs = -1;
    a->inv.interval = CLI_AGENT_INV_INTERVAL;
    a->rt.profile_interval = CLI_AGENT_PROFILE_INTERVAL;
    mm_k8s_isolate_opts_init(&a->iso.io);
    a->iso.node = getenv("NODE_NAME");
}

/* --mamori-server: a child process reads the agent's JSON alerts through a
 * pipe (standard output of the agent) and streams them, with the host
 * inventory, through the disk spool; forked before the agent starts a
 * thread.  Its pid, or -1 (printed). */
static pid_t start_forwarder(agent_args *a)
{
    cli_forward *fw = &a->fw;
    if (!fw->token)
        fw->token = getenv("MAMORI_TOKEN");
    if (!fw->token || !fw->host_id || !fw->spool) {
        opt_error("--mamori-server needs --token (or MAMORI_TOKEN), --host-id and --spool DIR");
        return -1;
    }
    fw->wait = 30;
    fw->quiet = a->quiet;
    int pfd[2];
    if (pipe(pfd) != 0) {
        fprintf(stderr, "%s agent: pipe: %s\n", prog, strerror(errno));
        return -1;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s agent: fork: %s\n", prog, strerror(errno));
        close(pfd[0]);
        close(pfd[1]);
        return -1;
    }
    if (pid == 0) {
        /* the forwarder: outlives a SIGINT/SIGTERM of the agent to flush */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        close(pfd[1]);
        _exit(cli_agent_forward(pfd[0], fw, &a->inv, &a->rt));
    }
    close(pfd[0]);
    if (dup2(pfd[1], STDOUT_FILENO) < 0) {
        fprintf(stderr, "%s agent: dup2: %s\n", prog, strerror(errno));
        return -1;
    }
    close(pfd[1]);
    return pid;
}

/* --server-profiles: the first fetch, before the agent starts, into
 * SPOOL/enforced-profiles.json (the forwarder then keeps it fresh). */
static int server_profiles_first(agent_args *a)
{
    if (!a->fw.token)
        a->fw.token = getenv("MAMORI_TOKEN");
    if (mkdir(a->fw.spool, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "%s agent: --spool %s: %s\n", prog, a->fw.spool, strerror(errno));
        return -1;
    }
    size_t n = strlen(a->fw.spool) + 32;
    a->enforced_path = malloc(n);
    if (!a->enforced_path)
        return -1;
    snprintf(a->enforced_path, n, "%s/enforced-profiles.json", a->fw.spool);
    a->rt.enforced = a->enforced_path;
    a->rt.next_fetch = 0;
    if (cli_agent_fetch_enforced(&a->fw, a->enforced_path, false) == 0)
        return 0;
    /* the server is away: the last profiles fetched, if any, are used */
    if (access(a->enforced_path, R_OK) == 0) {
        fprintf(stderr, "%s agent: --server-profiles: using the profiles fetched earlier (%s)\n",
                prog, a->enforced_path);
        return 0;
    }
    free(a->enforced_path);
    a->enforced_path = NULL;
    return -1;
}

/* The end of the alerts: the forwarder sends what is left and exits.
 * 0 when it delivered everything. */
static int wait_forwarder(pid_t fwd)
{
    fflush(stdout);
    close(STDOUT_FILENO);
    int ws = 0;
    while (waitpid(fwd, &ws, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(ws) && WEXITSTATUS(ws) == 0 ? 0 : -1;
}

static void agent_opts_fill(agent_args *a, mm_agent_opts *ao)
{
    mm_agent_opts_init(ao);
    ao->rule_files = a->rules;
    ao->nrule_files = a->nrules;
    ao->source = a->source;
    ao->output = !a->output || !strcmp(a->output, "json") ? "stdout" : a->output;
    ao->capture = a->capture;
    ao->capture_opts = a->capopts;
    ao->exec_store = a->exec_store;
    ao->duration = a->duration;
    ao->wakeup = a->wakeup;
    ao->learn_secs = a->learn_secs;
    ao->profile_out = a->profile_out;
    ao->learn_opts = a->lopts;
    ao->profile = a->profile;
    if (a->enforced_path) {   /* --server-profiles: the file the forwarder keeps fresh */
        ao->profile = a->enforced_path;
        ao->profile_reload_s = 2;
    }
    ao->strict = a->strict;
    ao->note = on_note;
    ao->note_ud = &a->quiet;
    ao->stop = &agent_stop;
    ao->isolate = isolate_hook;
    ao->isolate_ud = &a->iso;
}

static void install_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    agent_stop = 0;
}

/* The exit status of a run that failed, with its message. */
static int run_failure(const mm_agent_stats *st, const char *source)
{
    switch (st->failed) {
    case MM_AGENT_PROFILE: return cli_fail("agent: --profile: ");
    case MM_AGENT_OUTPUT: return cli_fail("agent: --output: ");
    case MM_AGENT_CAPTURE: return cli_fail("agent: --capture: ");
    case MM_AGENT_EXEC_STORE: return cli_fail("agent: --exec-store: ");
    case MM_AGENT_PROFILE_OUT: return cli_fail("agent: --profile-out: ");
    case MM_AGENT_CAPTURE_END: return EXIT_ERROR; /* the warning said why */
    case MM_AGENT_SOURCE:
        fprintf(stderr, "%s agent: unknown --source \"%s\"\n", prog, source);
        return EXIT_ERROR;
    default: return cli_fail("agent: ");
    }
}

int cmd_agent(int argc, char **argv)
{
    agent_args a;
    args_init(&a);
    int pr = parse_args(&a, argc, argv);
    if (pr)
        return pr > 0 ? 0 : EXIT_ERROR;
    pid_t fwd = -1;
    if (a.server_profiles && server_profiles_first(&a) != 0)
        return EXIT_ERROR;
    a.rt.profile_out = a.profile_out;
    a.rt.capture = a.capture;
    if (a.fw.server && (fwd = start_forwarder(&a)) < 0) {
        free(a.enforced_path);
        return EXIT_ERROR;
    }
    if ((a.in_cluster || a.server || a.sa_dir || a.kubeconfig) &&
        cli_k8s_isolate_client(&a.iso.kc, a.in_cluster, a.server, a.sa_dir, a.kubeconfig,
                               a.context, 0))
        return cli_fail("isolate-node: ");
    mm_agent_opts ao;
    agent_opts_fill(&a, &ao);
    install_signals();
    mm_agent_stats st;
    int arc = mm_agent_run(&ao, &st);
    mm_k8s_client_free(a.iso.kc);
    free(a.enforced_path);
    if (fwd > 0 && wait_forwarder(fwd) != 0 && arc == 0)
        return EXIT_ERROR;   /* it said why */
    return arc == 0 ? 0 : run_failure(&st, a.source);
}
