/*
 * cmd_agent.c - `mamori agent`: the options of the runtime agent and what
 * it prints.  The agent itself (sources, rules, profiles, capture, alerts,
 * kills) is the library's (mamori/agent.h); this file parses the command
 * line, installs the signal handlers that stop it, and prints its notes on
 * standard error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "mamori/mamori.h"
#include "mamori/agent.h"
#include "mamori/hostinv.h"
#include "mamori/k8s.h"
#include "cli.h"

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
"  --mamori-server URL --token T --host-id ID --spool DIR [--server-ca FILE]\n"
"                       stream the alerts to `mamori server` (docs/api.md), spooled\n"
"                       to DIR while it is away\n");
}

/* --mamori-server: a child process reads the agent's JSON alerts through a pipe
 * (standard output of the agent) and streams them with the disk spool;
 * forked before the agent starts a thread.  Its pid, or -1 (printed). */
static pid_t agent_forwarder(cli_forward *fw, bool quiet)
{
    if (!fw->token)
        fw->token = getenv("MAMORI_TOKEN");
    if (!fw->token || !fw->host_id || !fw->spool) {
        fprintf(stderr, "%s agent: --mamori-server needs --token (or MAMORI_TOKEN), --host-id and"
                " --spool DIR\n", prog);
        return -1;
    }
    fw->wait = 30;
    fw->quiet = quiet;
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
        FILE *in = fdopen(pfd[0], "r");
        int rc = in ? cli_forward_events(in, "agent alerts", fw) : EXIT_ERROR;
        _exit(rc);
    }
    close(pfd[0]);
    if (dup2(pfd[1], STDOUT_FILENO) < 0) {
        fprintf(stderr, "%s agent: dup2: %s\n", prog, strerror(errno));
        return -1;
    }
    close(pfd[1]);
    return pid;
}

int cmd_agent(int argc, char **argv)
{
    static const struct option lo[] = {
        {"rules", required_argument, NULL, 'r'},
        {"source", required_argument, NULL, 's'},
        {"output", required_argument, NULL, 'o'},
        {"capture", required_argument, NULL, 'c'},
        {"exec-store", required_argument, NULL, 1302},
        {"capture-max-size", required_argument, NULL, 1300},
        {"capture-keep", required_argument, NULL, 1301},
        {"duration", required_argument, NULL, 'd'},
        {"learn", required_argument, NULL, 1400},
        {"profile-out", required_argument, NULL, 1401},
        {"learn-scope", required_argument, NULL, 1402},
        {"profile", required_argument, NULL, 1403},
        {"wakeup", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},
        {"strict", no_argument, NULL, 1500},
        {"node-name", required_argument, NULL, 1600},
        {"in-cluster", no_argument, NULL, 1601},
        {"server", required_argument, NULL, 1602},
        {"sa-dir", required_argument, NULL, 1603},
        {"kubeconfig", required_argument, NULL, 1604},
        {"context", required_argument, NULL, 1605},
        {"isolate-effect", required_argument, NULL, 1606},
        {"mamori-server", required_argument, NULL, 1610},
        {"token", required_argument, NULL, 1611},
        {"host-id", required_argument, NULL, 1612},
        {"server-ca", required_argument, NULL, 1613},
        {"spool", required_argument, NULL, 1614},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rules[64];
    size_t nrules = 0;
    const char *source = "bpf", *output = NULL, *capture = NULL, *exec_store = NULL;
    mm_capture_opts capopts = {0};
    double duration = 0;
    unsigned wakeup = 0;
    bool quiet = false, strict = false;
    double learn_secs = -1;
    const char *profile_out = NULL, *profile = NULL;
    mm_profile_opts lopts = {0};
    cli_forward fw = {0};   /* --mamori-server: alerts to `mamori server` */
    iso_ctx iso = {0};
    mm_k8s_isolate_opts_init(&iso.io);
    iso.node = getenv("NODE_NAME");
    bool in_cluster = false;
    const char *server = NULL, *sa_dir = NULL, *kubeconfig = NULL, *context = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:s:o:c:d:w:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (nrules == 64) {
                fprintf(stderr, "%s agent: too many --rules\n", prog);
                return EXIT_ERROR;
            }
            rules[nrules++] = optarg;
            break;
        case 's': source = optarg; break;
        case 'o': output = optarg; break;
        case 1610: fw.server = optarg; break;
        case 1611: fw.token = optarg; break;
        case 1612: fw.host_id = optarg; break;
        case 1613: fw.ca = optarg; break;
        case 1614: fw.spool = optarg; break;
        case 'c': capture = optarg; break;
        case 1302: exec_store = optarg; break;
        case 1300:   /* --capture-max-size */
            if (cli_parse_size(optarg, &capopts.max_size) < 0 || capopts.max_size < 4096) {
                fprintf(stderr, "%s agent: --capture-max-size: want a size of at least 4K\n", prog);
                return EXIT_ERROR;
            }
            break;
        case 1301: {   /* --capture-keep */
            char *e;
            unsigned long k = strtoul(optarg, &e, 10);
            if (*e || !k || k > 100000) {
                fprintf(stderr, "%s agent: --capture-keep: want a count from 1 to 100000\n", prog);
                return EXIT_ERROR;
            }
            capopts.keep = (unsigned)k;
            break;
        }
        case 'd': duration = strtod(optarg, NULL); break;
        case 1400:   /* --learn */
            if ((learn_secs = parse_duration(optarg)) < 0) {
                fprintf(stderr, "%s agent: --learn: want a duration (30, 30s, 5m, 1h)\n", prog);
                return EXIT_ERROR;
            }
            break;
        case 1401: profile_out = optarg; break;
        case 1402:   /* --learn-scope */
            if (strcmp(optarg, "container") && strcmp(optarg, "all")) {
                fprintf(stderr, "%s agent: --learn-scope is container or all\n", prog);
                return EXIT_ERROR;
            }
            lopts.containers_only = !strcmp(optarg, "container");
            break;
        case 1403: profile = optarg; break;
        case 'w': wakeup = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'q': quiet = true; break;
        case 1500: strict = true; break;
        case 1600: iso.node = optarg; break;
        case 1601: in_cluster = true; break;
        case 1602: server = optarg; break;
        case 1603: sa_dir = optarg; break;
        case 1604: kubeconfig = optarg; break;
        case 1605: context = optarg; break;
        case 1606: iso.io.effect = optarg; break;
        case 'h': agent_usage(stdout); return 0;
        default: agent_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc || (!nrules && learn_secs < 0 && !profile && !exec_store)) {
        agent_usage(stderr);
        return EXIT_ERROR;
    }
    if ((learn_secs >= 0) != (profile_out != NULL) || (learn_secs >= 0 && profile)) {
        fprintf(stderr, "%s agent: --learn needs --profile-out (and not --profile)\n", prog);
        return EXIT_ERROR;
    }

    pid_t fwd = -1;
    if (fw.server) {
        if (output && strcmp(output, "json")) {
            fprintf(stderr, "%s agent: --mamori-server takes the alerts; no --output with it\n", prog);
            return EXIT_ERROR;
        }
        fwd = agent_forwarder(&fw, quiet);
        if (fwd < 0)
            return EXIT_ERROR;
    }

    mm_agent_opts ao;
    mm_agent_opts_init(&ao);
    ao.rule_files = rules;
    ao.nrule_files = nrules;
    ao.source = source;
    ao.output = !output || !strcmp(output, "json") ? "stdout" : output;
    ao.capture = capture;
    ao.capture_opts = capopts;
    ao.exec_store = exec_store;
    ao.duration = duration;
    ao.wakeup = wakeup;
    ao.learn_secs = learn_secs;
    ao.profile_out = profile_out;
    ao.learn_opts = lopts;
    ao.profile = profile;
    ao.strict = strict;
    ao.note = on_note;
    ao.note_ud = &quiet;
    ao.stop = &agent_stop;
    if ((in_cluster || server || sa_dir || kubeconfig) &&
        cli_k8s_isolate_client(&iso.kc, in_cluster, server, sa_dir, kubeconfig, context, 0))
        return cli_fail("isolate-node: ");
    ao.isolate = isolate_hook;
    ao.isolate_ud = &iso;

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    agent_stop = 0;

    mm_agent_stats st;
    int arc = mm_agent_run(&ao, &st);
    mm_k8s_client_free(iso.kc);
    if (fwd > 0) {
        /* the end of the alerts: the forwarder sends what is left and exits */
        fflush(stdout);
        close(STDOUT_FILENO);
        int ws = 0;
        while (waitpid(fwd, &ws, 0) < 0 && errno == EINTR)
            ;
        if (arc == 0 && !(WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
            return EXIT_ERROR;   /* it said why */
    }
    if (arc == 0)
        return 0;
    switch (st.failed) {
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
