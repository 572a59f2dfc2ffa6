/*
 * cmd_agent.c - `mamori agent`: runtime detection.  Reads events from the
 * eBPF sensor, the netlink/fanotify fallback or a JSON-lines replay file,
 * evaluates the Falco-compatible rules on each, and writes every alert as a
 * JSON line to the chosen output.  With --learn it records a behaviour
 * profile per image, with --profile it alerts on deviations from one
 * (docs/profiles.md); alerts whose rule or profile says `action: kill` get
 * their process SIGKILLed (never pid 1, the agent, or replayed pids).
 * Start-up says which hooks attached and how many rules are enabled; drops
 * are reported while running (stderr) and in the final statistics line,
 * never silently.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mamori/mamori.h"
#include "mamori/capture.h"
#include "mamori/hostinv.h"
#include "mamori/event.h"
#include "mamori/profile.h"
#include "mamori/rules.h"
#include "mamori/sensor.h"
#include "cli.h"

static volatile sig_atomic_t agent_stop;

static void on_signal(int sig) { (void)sig; agent_stop = 1; }

typedef struct agent {
    mm_ruleset *rs;
    mm_alert_sink *sink;
    mm_capture *capture;   /* --capture: every event, zstd, rotated */
    mm_capture *exec_store;/* --exec-store: execve events only, for `host commands` */
    uint64_t events, alerts, kills;
    mm_profile *learn;     /* --learn: what is being recorded */
    mm_profile *profile;   /* --profile: what deviations are checked against */
    bool replay;           /* replayed events name pids of another time: never kill */
} agent;

static void on_alert(void *ud, const mm_alert *a)
{
    agent *ag = ud;
    ag->alerts++;
    if (a->action != MM_ACTION_KILL || !a->event) {
        mm_alert_sink_write(ag->sink, a);
        return;
    }
    /* action: kill (a rule's or a profile's): kill first, then the alert
     * says what happened in output_fields["mamori.kill"] */
    char res[128];
    int64_t pid = a->event->pid;
    if (pid <= 1)
        snprintf(res, sizeof res, "refused: pid %lld", (long long)pid);
    else if (pid == (int64_t)getpid())
        snprintf(res, sizeof res, "refused: the agent itself");
    else if (ag->replay)
        snprintf(res, sizeof res, "not killed: replayed event");
    else if (kill((pid_t)pid, SIGKILL) == 0) {
        ag->kills++;
        snprintf(res, sizeof res, "killed pid %lld (SIGKILL)", (long long)pid);
    } else
        snprintf(res, sizeof res, "failed: pid %lld: %s", (long long)pid, strerror(errno));
    mm_alert_field *f = calloc(a->nfields + 1, sizeof *f);
    if (!f) {
        mm_alert_sink_write(ag->sink, a);
        return;
    }
    memcpy(f, a->fields, a->nfields * sizeof *f);
    f[a->nfields] = (mm_alert_field){"mamori.kill", res, false};
    mm_alert b = *a;
    b.fields = f;
    b.nfields = a->nfields + 1;
    mm_alert_sink_write(ag->sink, &b);
    free(f);
}

static void on_event(void *ud, mm_event *ev)
{
    agent *ag = ud;
    ag->events++;
    if (ag->capture && mm_capture_write(ag->capture, ev) < 0) {
        /* detection goes on without the capture; said once */
        fprintf(stderr, "%s agent: warning: capture stopped: %s\n", prog, mm_error_last());
        mm_capture_close(ag->capture);
        ag->capture = NULL;
    }
    if (ag->exec_store && (ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT) &&
        ev->dir == MM_DIR_EXIT && ev->res >= 0 && mm_capture_write(ag->exec_store, ev) < 0) {
        fprintf(stderr, "%s agent: warning: exec store stopped: %s\n", prog, mm_error_last());
        mm_capture_close(ag->exec_store);
        ag->exec_store = NULL;
    }
    if (ag->rs)
        mm_ruleset_eval(ag->rs, ev, on_alert, ag);
    if (ag->learn)
        mm_profile_learn(ag->learn, ev);
    if (ag->profile)
        mm_profile_check(ag->profile, ev, on_alert, ag);
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

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

/* End of the learning period: the profile is written (atomically) */
static int learn_finish(agent *ag, const char *out, int64_t t0, bool quiet, const char *why)
{
    mm_profile_set_period(ag->learn, t0, wall_ns());
    int rc = mm_profile_write_file(ag->learn, out);
    if (rc == 0 && !quiet)
        fprintf(stderr, "%s agent: learning %s: profile of %zu image(s) written to %s\n", prog,
                why, mm_profile_image_count(ag->learn), out);
    mm_profile_free(ag->learn);
    ag->learn = NULL;
    return rc < 0 ? cli_fail("agent: --profile-out: ") : 0;
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
"  --quiet              no start-up and statistics lines on stderr\n");
}

static const char *sink_spec(const char *out, char **tmp)
{
    *tmp = NULL;
    if (!out || !strcmp(out, "json") || !strcmp(out, "stdout"))
        return "stdout";
    return out;
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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rules[64];
    size_t nrules = 0;
    const char *source = "bpf", *output = NULL, *capture = NULL, *exec_store = NULL;
    mm_capture_opts capopts = {0};
    double duration = 0;
    unsigned wakeup = 0;
    bool quiet = false;
    double learn_secs = -1;
    const char *profile_out = NULL, *profile = NULL;
    mm_profile_opts lopts = {0};
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

    agent ag = {0};
    int rc = EXIT_ERROR;
    mm_sensor *sensor = NULL;
    mm_replay *replay = NULL;
    if (mm_ruleset_new(&ag.rs) < 0)
        return cli_fail("agent: ");
    for (size_t i = 0; i < nrules; i++)
        if (mm_ruleset_load_file(ag.rs, rules[i]) < 0) {
            rc = cli_fail("agent: ");
            goto out;
        }
    if (mm_ruleset_compile(ag.rs) < 0) {
        rc = cli_fail("agent: ");
        goto out;
    }
    if (!quiet && nrules) {
        for (size_t i = 0; i < mm_ruleset_warning_count(ag.rs); i++)
            fprintf(stderr, "%s agent: warning: %s\n", prog, mm_ruleset_warning(ag.rs, i));
        mm_ruleset_stats st;
        mm_ruleset_stats_get(ag.rs, &st);
        fprintf(stderr, "%s agent: rules: %zu loaded, %zu enabled, %zu disabled by file, "
                "%zu unsupported, %zu other source\n", prog, st.rules, st.enabled,
                st.disabled_by_file, st.disabled_unsupported, st.skipped_source);
    }
    if (profile && mm_profile_load_file(&ag.profile, profile) < 0) {
        rc = cli_fail("agent: --profile: ");
        goto out;
    }
    if (profile && !quiet)
        fprintf(stderr, "%s agent: profile: %zu image(s) from %s\n", prog,
                mm_profile_image_count(ag.profile), profile);
    if (learn_secs >= 0)
        mm_profile_new(&ag.learn, &lopts);
    char *tmp;
    if (mm_alert_sink_open(&ag.sink, sink_spec(output, &tmp)) < 0) {
        rc = cli_fail("agent: --output: ");
        goto out;
    }
    if (capture && mm_capture_open(&ag.capture, capture, &capopts) < 0) {
        rc = cli_fail("agent: --capture: ");
        goto out;
    }
    if (exec_store) {
        /* every line complete: a command is read without its file's history */
        mm_capture_opts eo = {0};
        eo.full_lines = true;
        if (!strcmp(exec_store, MM_EXEC_STORE_DEFAULT))
            mkdir("/var/lib/mamori", 0700);
        if (mm_capture_open(&ag.exec_store, exec_store, &eo) < 0) {
            rc = cli_fail("agent: --exec-store: ");
            goto out;
        }
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    agent_stop = 0;
    int64_t learn_t0 = wall_ns();

    if (!strncmp(source, "replay:", 7)) {
        ag.replay = true;
        if (mm_replay_open(&replay, source + 7) < 0) {
            rc = cli_fail("agent: ");
            goto out;
        }
        const mm_event *ev;
        int r = 0;
        while (!agent_stop && (r = mm_replay_next(replay, &ev)) > 0)
            on_event(&ag, (mm_event *)ev);
        if (r < 0) {
            rc = cli_fail("agent: ");
            goto out;
        }
        /* a replay is learned whole */
        if (ag.learn && learn_finish(&ag, profile_out, learn_t0, quiet, "done") < 0)
            goto out;
    } else {
        mm_sensor_opts so = {0};
        if (!strcmp(source, "bpf"))
            so.kind = MM_SENSOR_BPF;
        else if (!strcmp(source, "fallback"))
            so.kind = MM_SENSOR_FALLBACK;
        else {
            fprintf(stderr, "%s agent: unknown --source \"%s\"\n", prog, source);
            goto out;
        }
        so.wakeup_every = wakeup;
        if (mm_sensor_open(&sensor, &so) < 0) {
            rc = cli_fail("agent: ");
            goto out;
        }
        if (!quiet) {
            fprintf(stderr, "%s agent: source %s, hooks:", prog, source);
            for (size_t i = 0; i < mm_sensor_hook_count(sensor); i++) {
                const mm_sensor_hook *h = mm_sensor_hook_get(sensor, i);
                fprintf(stderr, " %s=%s%s%s", h->name, h->attached ? "attached" : "FAILED",
                        h->error ? ":" : "", h->error ? h->error : "");
            }
            fprintf(stderr, "; %zu processes known\n",
                    mm_proctab_count(mm_sensor_proctab(sensor)));
            if (ag.learn)
                fprintf(stderr, "%s agent: learning for %.0f s into %s\n", prog, learn_secs,
                        profile_out);
            fprintf(stderr, "%s agent: ready\n", prog);
        }
        learn_t0 = wall_ns();
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        uint64_t last_drops = 0;
        double last_report = 0;
        while (!agent_stop) {
            if (mm_sensor_poll(sensor, 100, on_event, &ag) < 0 && !agent_stop) {
                rc = cli_fail("agent: ");
                goto out;
            }
            fflush(stdout);
            if (ag.exec_store && mm_capture_tick(ag.exec_store) < 0) {
                fprintf(stderr, "%s agent: warning: exec store stopped: %s\n", prog, mm_error_last());
                mm_capture_close(ag.exec_store);
                ag.exec_store = NULL;
            }
            if (ag.capture && mm_capture_tick(ag.capture) < 0) {
                fprintf(stderr, "%s agent: warning: capture stopped: %s\n", prog, mm_error_last());
                mm_capture_close(ag.capture);
                ag.capture = NULL;
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            double el = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
            if (el - last_report >= 1.0) {
                mm_sensor_stats st;
                mm_sensor_stats_get(sensor, &st);
                uint64_t d = st.drops + st.enter_lost + st.overruns;
                if (d != last_drops)
                    fprintf(stderr, "%s agent: warning: %llu events dropped so far\n", prog,
                            (unsigned long long)d);
                last_drops = d;
                last_report = el;
            }
            if (ag.learn && el >= learn_secs) {
                mm_sensor_poll(sensor, 0, on_event, &ag);
                if (learn_finish(&ag, profile_out, learn_t0, quiet, "done") < 0)
                    goto out;
                if (!nrules && !ag.profile)
                    break;
            }
            if (duration > 0 && el >= duration)
                break;
        }
        /* what is still in the buffer */
        mm_sensor_poll(sensor, 0, on_event, &ag);
        if (ag.learn && learn_finish(&ag, profile_out, learn_t0, quiet, "stopped early") < 0)
            goto out;
    }
    rc = 0;
    if (!quiet) {
        mm_sensor_stats st = {0};
        if (sensor)
            mm_sensor_stats_get(sensor, &st);
        fprintf(stderr, "%s agent: stats {\"events\":%llu,\"alerts\":%llu,\"kills\":%llu,"
                "\"kernel_records\":%llu,\"drops\":%llu,\"enter_lost\":%llu,"
                "\"overruns\":%llu,\"malformed\":%llu}\n", prog,
                (unsigned long long)ag.events, (unsigned long long)ag.alerts,
                (unsigned long long)ag.kills, (unsigned long long)st.records,
                (unsigned long long)st.drops, (unsigned long long)st.enter_lost,
                (unsigned long long)st.overruns, (unsigned long long)st.malformed);
    }
out:
    fflush(stdout);
    if (ag.exec_store && mm_capture_close(ag.exec_store) < 0) {
        fprintf(stderr, "%s agent: warning: exec store: %s\n", prog, mm_error_last());
        if (!rc)
            rc = EXIT_ERROR;
    }
    if (ag.capture && mm_capture_close(ag.capture) < 0) {
        fprintf(stderr, "%s agent: warning: capture: %s\n", prog, mm_error_last());
        if (!rc)
            rc = EXIT_ERROR;
    }
    mm_sensor_free(sensor);
    mm_replay_free(replay);
    mm_alert_sink_free(ag.sink);
    mm_ruleset_free(ag.rs);
    mm_profile_free(ag.learn);
    mm_profile_free(ag.profile);
    return rc;
}
