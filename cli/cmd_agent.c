/*
 * cmd_agent.c - `mamori agent`: runtime detection.  Reads events from the
 * eBPF sensor, the netlink/fanotify fallback or a JSON-lines replay file,
 * evaluates the Falco-compatible rules on each, and writes every alert as a
 * JSON line to the chosen output.  Start-up says which hooks attached and
 * how many rules are enabled; drops are reported while running (stderr) and
 * in the final statistics line, never silently.
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
#include "mamori/capture.h"
#include "mamori/event.h"
#include "mamori/rules.h"
#include "mamori/sensor.h"
#include "cli.h"

static volatile sig_atomic_t agent_stop;

static void on_signal(int sig) { (void)sig; agent_stop = 1; }

typedef struct agent {
    mm_ruleset *rs;
    mm_alert_sink *sink;
    mm_capture *capture;   /* --capture: every event, zstd, rotated */
    uint64_t events, alerts, kills;
} agent;

static void on_alert(void *ud, const mm_alert *a)
{
    agent *ag = ud;
    ag->alerts++;
    mm_alert_sink_write(ag->sink, a);
    if (a->action == MM_ACTION_KILL && a->event && a->event->pid > 1 &&
        a->event->pid != getpid()) {
        if (kill((pid_t)a->event->pid, SIGKILL) == 0)
            ag->kills++;
    }
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
    if (ag->rs)
        mm_ruleset_eval(ag->rs, ev, on_alert, ag);
}

static void agent_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori agent --rules FILE [--rules FILE...] [options]\n"
"  --source bpf|fallback|replay:FILE  event source (default bpf)\n"
"  --output json|syslog|file:PATH|http://URL  where alerts go (default json = stdout)\n"
"  --capture FILE       also keep every event (JSON lines, zstd, rotated; docs/capture.md)\n"
"  --capture-max-size SZ  rotate the capture at SZ bytes (64M)\n"
"  --capture-keep N     capture files kept, FILE included (5)\n"
"  --duration S         stop after S seconds (default: until SIGINT/SIGTERM)\n"
"  --wakeup N           eBPF: records per CPU between consumer wake-ups (64)\n"
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
        {"capture-max-size", required_argument, NULL, 'C'},
        {"capture-keep", required_argument, NULL, 'K'},
        {"duration", required_argument, NULL, 'd'},
        {"wakeup", required_argument, NULL, 'w'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *rules[64];
    size_t nrules = 0;
    const char *source = "bpf", *output = NULL, *capture = NULL;
    mm_capture_opts capopts = {0};
    double duration = 0;
    unsigned wakeup = 0;
    bool quiet = false;
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
        case 'C':
            if (cli_parse_size(optarg, &capopts.max_size) < 0 || capopts.max_size < 4096) {
                fprintf(stderr, "%s agent: --capture-max-size: want a size of at least 4K\n", prog);
                return EXIT_ERROR;
            }
            break;
        case 'K': {
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
        case 'w': wakeup = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'q': quiet = true; break;
        case 'h': agent_usage(stdout); return 0;
        default: agent_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc || !nrules) {
        agent_usage(stderr);
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
    if (!quiet) {
        for (size_t i = 0; i < mm_ruleset_warning_count(ag.rs); i++)
            fprintf(stderr, "%s agent: warning: %s\n", prog, mm_ruleset_warning(ag.rs, i));
        mm_ruleset_stats st;
        mm_ruleset_stats_get(ag.rs, &st);
        fprintf(stderr, "%s agent: rules: %zu loaded, %zu enabled, %zu disabled by file, "
                "%zu unsupported, %zu other source\n", prog, st.rules, st.enabled,
                st.disabled_by_file, st.disabled_unsupported, st.skipped_source);
    }
    char *tmp;
    if (mm_alert_sink_open(&ag.sink, sink_spec(output, &tmp)) < 0) {
        rc = cli_fail("agent: --output: ");
        goto out;
    }
    if (capture && mm_capture_open(&ag.capture, capture, &capopts) < 0) {
        rc = cli_fail("agent: --capture: ");
        goto out;
    }

    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    agent_stop = 0;

    if (!strncmp(source, "replay:", 7)) {
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
            fprintf(stderr, "%s agent: ready\n", prog);
        }
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
            if (duration > 0 && el >= duration)
                break;
        }
        /* what is still in the buffer */
        mm_sensor_poll(sensor, 0, on_event, &ag);
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
    if (ag.capture && mm_capture_close(ag.capture) < 0) {
        fprintf(stderr, "%s agent: warning: capture: %s\n", prog, mm_error_last());
        if (!rc)
            rc = EXIT_ERROR;
    }
    mm_sensor_free(sensor);
    mm_replay_free(replay);
    mm_alert_sink_free(ag.sink);
    mm_ruleset_free(ag.rs);
    return rc;
}
