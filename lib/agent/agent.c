/*
 * agent/agent.c - the runtime agent's loop (mamori/agent.h): open the
 * event source, evaluate every event against the rules and the profile,
 * learn a profile, keep a capture, write alerts, and act on `action: kill`.
 *
 * Start-up says which hooks attached and how many rules are enabled;
 * drops are reported while running and in the final statistics, never
 * silently.  A kill is done before the alert is written, so that the alert
 * can say what happened (output field "mamori.kill").
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mamori/agent.h"
#include "mamori/event.h"
#include "mamori/rules.h"
#include "mamori/sensor.h"
#include "util/util.h"

typedef struct agent {
    const mm_agent_opts *o;
    mm_ruleset *rs;
    mm_alert_sink *sink;
    mm_capture *capture;   /* every event, zstd, rotated */
    mm_capture *exec_store;/* execve events only, for `host commands` */
    mm_profile *learn;     /* what is being recorded */
    mm_profile *profile;   /* what deviations are checked against */
    struct stat prof_st;   /* the profile file as loaded (profile_reload_s) */
    double prof_next;
    bool replay;           /* replayed events name pids of another time: never kill */
    mm_agent_stats *st;
} agent;

static void note(const agent *ag, mm_agent_note_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(const agent *ag, mm_agent_note_level level, const char *fmt, ...)
{
    if (!ag->o->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *m = mm_xvasprintf(fmt, ap);
    va_end(ap);
    ag->o->note(ag->o->note_ud, level, m);
    free(m);
}

void mm_agent_opts_init(mm_agent_opts *o)
{
    memset(o, 0, sizeof *o);
    o->source = "bpf";
    o->output = "stdout";
    o->learn_secs = -1;
}

static void on_alert(void *ud, const mm_alert *a)
{
    agent *ag = ud;
    ag->st->alerts++;
    if ((a->action != MM_ACTION_KILL && a->action != MM_ACTION_ISOLATE_NODE) || !a->event) {
        mm_alert_sink_write(ag->sink, a);
        return;
    }
    /* action: kill (a rule's or a profile's): kill first, then the alert
     * says what happened in output_fields["mamori.kill"]; isolate-node the
     * same way in "mamori.isolate" (the caller's hook does it) */
    char res[256];
    int64_t pid = a->event->pid;
    const char *key = "mamori.kill";
    if (a->action == MM_ACTION_ISOLATE_NODE) {
        key = "mamori.isolate";
        if (ag->o->isolate)
            ag->o->isolate(ag->o->isolate_ud, a, res, sizeof res);
        else
            snprintf(res, sizeof res, "not isolated: no API access");
    } else if (pid <= 1)
        snprintf(res, sizeof res, "refused: pid %lld", (long long)pid);
    else if (pid == (int64_t)getpid())
        snprintf(res, sizeof res, "refused: the agent itself");
    else if (ag->replay)
        snprintf(res, sizeof res, "not killed: replayed event");
    else if (kill((pid_t)pid, SIGKILL) == 0) {
        ag->st->kills++;
        snprintf(res, sizeof res, "killed pid %lld (SIGKILL)", (long long)pid);
    } else
        snprintf(res, sizeof res, "failed: pid %lld: %s", (long long)pid, strerror(errno));
    mm_alert_field *f = calloc(a->nfields + 1, sizeof *f);
    if (!f) {
        mm_alert_sink_write(ag->sink, a);
        return;
    }
    memcpy(f, a->fields, a->nfields * sizeof *f);
    f[a->nfields] = (mm_alert_field){key, res, false};
    mm_alert b = *a;
    b.fields = f;
    b.nfields = a->nfields + 1;
    mm_alert_sink_write(ag->sink, &b);
    free(f);
}

static void on_event(void *ud, mm_event *ev)
{
    agent *ag = ud;
    ag->st->events++;
    if (ag->capture && mm_capture_write(ag->capture, ev) < 0) {
        /* detection goes on without the capture; said once */
        note(ag, MM_AGENT_WARNING, "warning: capture stopped: %s", mm_error_last());
        mm_capture_close(ag->capture);
        ag->capture = NULL;
    }
    if (ag->exec_store && (ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT) &&
        ev->dir == MM_DIR_EXIT && ev->res >= 0 && mm_capture_write(ag->exec_store, ev) < 0) {
        note(ag, MM_AGENT_WARNING, "warning: exec store stopped: %s", mm_error_last());
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

static bool stopped(const agent *ag)
{
    return ag->o->stop && *ag->o->stop;
}

/* End of the learning period: the profile is written (atomically). */
static int learn_finish(agent *ag, int64_t t0, const char *why)
{
    mm_profile_set_period(ag->learn, t0, wall_ns());
    int rc = mm_profile_write_file(ag->learn, ag->o->profile_out);
    if (rc == 0)
        note(ag, MM_AGENT_INFO, "learning %s: profile of %zu image(s) written to %s", why,
             mm_profile_image_count(ag->learn), ag->o->profile_out);
    mm_profile_free(ag->learn);
    ag->learn = NULL;
    if (rc < 0)
        ag->st->failed = MM_AGENT_PROFILE_OUT;
    return rc;
}

static int fail(agent *ag, mm_agent_part part, int rc)
{
    ag->st->failed = part;
    return rc;
}

/* Loads the rules, the profile, the output and the capture. */
static int prepare(agent *ag)
{
    const mm_agent_opts *o = ag->o;
    const char *source = o->source ? o->source : "bpf";
    bool replay = !strncmp(source, "replay:", 7);
    int rc = mm_ruleset_new(&ag->rs);
    for (size_t i = 0; rc == 0 && i < o->nrule_files; i++)
        rc = mm_ruleset_load_file(ag->rs, o->rule_files[i]);
    /* rules the live source cannot serve are disabled (or, strict, fatal) */
    if (rc == 0 && replay) {
        mm_ruleset_set_source(ag->rs, NULL, false);
    } else if (rc == 0) {
        mm_source_caps caps;
        mm_sensor_caps(&caps, !strcmp(source, "fallback") ? MM_SENSOR_FALLBACK
                                                          : MM_SENSOR_BPF);
        mm_ruleset_set_source(ag->rs, &caps, o->strict);
    }
    if (rc == 0)
        rc = mm_ruleset_compile(ag->rs);
    if (rc < 0)
        return fail(ag, MM_AGENT_RULES, rc);
    if (o->nrule_files) {
        for (size_t i = 0; i < mm_ruleset_warning_count(ag->rs); i++)
            note(ag, MM_AGENT_INFO, "warning: %s", mm_ruleset_warning(ag->rs, i));
        mm_ruleset_stats st;
        mm_ruleset_stats_get(ag->rs, &st);
        note(ag, MM_AGENT_INFO, "rules: %zu loaded, %zu enabled, %zu disabled by file, "
             "%zu unsupported, %zu unsupported by the %s source, %zu other source",
             st.rules, st.enabled, st.disabled_by_file, st.disabled_unsupported,
             st.disabled_source, replay ? "replay" : source, st.skipped_source);
    }
    if (o->profile) {
        if (stat(o->profile, &ag->prof_st) != 0)
            memset(&ag->prof_st, 0, sizeof ag->prof_st);
        rc = mm_profile_load_file(&ag->profile, o->profile);
        if (rc < 0)
            return fail(ag, MM_AGENT_PROFILE, rc);
        note(ag, MM_AGENT_INFO, "profile: %zu image(s) from %s",
             mm_profile_image_count(ag->profile), o->profile);
    }
    if (o->learn_secs >= 0)
        mm_profile_new(&ag->learn, &o->learn_opts);
    rc = mm_alert_sink_open(&ag->sink, o->output ? o->output : "stdout");
    if (rc < 0)
        return fail(ag, MM_AGENT_OUTPUT, rc);
    if (o->capture) {
        rc = mm_capture_open(&ag->capture, o->capture, &o->capture_opts);
        if (rc < 0)
            return fail(ag, MM_AGENT_CAPTURE, rc);
    }
    if (o->exec_store) {
        /* every line complete: a command is read without its file's history */
        mm_capture_opts eo = {0};
        eo.full_lines = true;
        char *dir = mm_xstrndup(o->exec_store, mm_path_dirlen(o->exec_store));
        if (*dir)
            mkdir(dir, 0700);
        free(dir);
        rc = mm_capture_open(&ag->exec_store, o->exec_store, &eo);
        if (rc < 0)
            return fail(ag, MM_AGENT_EXEC_STORE, rc);
    }
    return 0;
}

/* profile_reload_s: the profile file again when it changed (issue 20a) */
static void profile_reload(agent *ag, double now)
{
    const mm_agent_opts *o = ag->o;
    if (o->profile_reload_s <= 0 || !o->profile || now < ag->prof_next)
        return;
    ag->prof_next = now + o->profile_reload_s;
    struct stat st;
    if (stat(o->profile, &st) != 0 || (st.st_mtim.tv_sec == ag->prof_st.st_mtim.tv_sec &&
                                       st.st_mtim.tv_nsec == ag->prof_st.st_mtim.tv_nsec &&
                                       st.st_size == ag->prof_st.st_size &&
                                       st.st_ino == ag->prof_st.st_ino))
        return;
    ag->prof_st = st;
    mm_profile *p = NULL;
    if (mm_profile_load_file(&p, o->profile) < 0) {
        note(ag, MM_AGENT_WARNING, "warning: profile not reloaded (the earlier one stays): %s",
             mm_error_last());
        return;
    }
    mm_profile_free(ag->profile);
    ag->profile = p;
    note(ag, MM_AGENT_INFO, "profile: reloaded, %zu image(s) from %s",
         mm_profile_image_count(p), o->profile);
}

static int run_replay(agent *ag, const char *path)
{
    ag->replay = true;
    int64_t t0 = wall_ns();
    mm_replay *rp = NULL;
    int rc = mm_replay_open(&rp, path);
    if (rc < 0)
        return fail(ag, MM_AGENT_EVENTS, rc);
    const mm_event *ev;
    int r = 0;
    while (!stopped(ag) && (r = mm_replay_next(rp, &ev)) > 0)
        on_event(ag, (mm_event *)ev);
    mm_replay_free(rp);
    if (r < 0)
        return fail(ag, MM_AGENT_EVENTS, r);
    /* a replay is learned whole */
    if (ag->learn)
        return learn_finish(ag, t0, "done");
    return 0;
}

static int run_sensor(agent *ag, mm_sensor *sensor)
{
    const mm_agent_opts *o = ag->o;
    if (o->note) {
        mm_buf b = MM_BUF_INIT;
        mm_buf_printf(&b, "source %s, hooks:", o->source);
        for (size_t i = 0; i < mm_sensor_hook_count(sensor); i++) {
            const mm_sensor_hook *h = mm_sensor_hook_get(sensor, i);
            mm_buf_printf(&b, " %s=%s%s%s", h->name, h->attached ? "attached" : "FAILED",
                          h->error ? ":" : "", h->error ? h->error : "");
        }
        mm_buf_printf(&b, "; %zu processes known",
                      mm_proctab_count(mm_sensor_proctab(sensor)));
        note(ag, MM_AGENT_INFO, "%s", b.data);
        mm_buf_free(&b);
        if (ag->learn)
            note(ag, MM_AGENT_INFO, "learning for %.0f s into %s", o->learn_secs,
                 o->profile_out);
        note(ag, MM_AGENT_INFO, "ready");
    }
    int64_t learn_t0 = wall_ns();
    double t0 = mm_now();
    uint64_t last_drops = 0;
    double last_report = 0;
    while (!stopped(ag)) {
        int prc = mm_sensor_poll(sensor, 100, on_event, ag);
        if (prc < 0 && !stopped(ag))
            return fail(ag, MM_AGENT_EVENTS, prc);
        if (ag->exec_store && mm_capture_tick(ag->exec_store) < 0) {
            note(ag, MM_AGENT_WARNING, "warning: exec store stopped: %s", mm_error_last());
            mm_capture_close(ag->exec_store);
            ag->exec_store = NULL;
        }
        if (ag->capture && mm_capture_tick(ag->capture) < 0) {
            note(ag, MM_AGENT_WARNING, "warning: capture stopped: %s", mm_error_last());
            mm_capture_close(ag->capture);
            ag->capture = NULL;
        }
        double el = mm_now() - t0;
        profile_reload(ag, el);
        if (el - last_report >= 1.0) {
            mm_sensor_stats st;
            mm_sensor_stats_get(sensor, &st);
            uint64_t d = st.drops + st.enter_lost + st.overruns;
            if (d != last_drops)
                note(ag, MM_AGENT_WARNING, "warning: %llu events dropped so far",
                     (unsigned long long)d);
            last_drops = d;
            last_report = el;
        }
        if (ag->learn && el >= o->learn_secs) {
            mm_sensor_poll(sensor, 0, on_event, ag);
            int rc = learn_finish(ag, learn_t0, "done");
            if (rc < 0)
                return rc;
            if (!o->nrule_files && !ag->profile)
                break;
        }
        if (o->duration > 0 && el >= o->duration)
            break;
    }
    /* what is still in the buffer */
    mm_sensor_poll(sensor, 0, on_event, ag);
    if (ag->learn)
        return learn_finish(ag, learn_t0, "stopped early");
    return 0;
}

int mm_agent_run(const mm_agent_opts *o, mm_agent_stats *stats)
{
    mm_agent_stats dummy;
    if (!stats)
        stats = &dummy;
    memset(stats, 0, sizeof *stats);
    if (!o)
        return mm_error_set(MM_EINVAL, "agent: no options");
    agent ag = {.o = o, .st = stats};
    mm_sensor *sensor = NULL;
    const char *source = o->source ? o->source : "bpf";
    int rc = prepare(&ag);
    if (rc == 0 && !strncmp(source, "replay:", 7)) {
        rc = run_replay(&ag, source + 7);
    } else if (rc == 0) {
        mm_sensor_opts so = {0};
        if (!strcmp(source, "bpf"))
            so.kind = MM_SENSOR_BPF;
        else if (!strcmp(source, "fallback"))
            so.kind = MM_SENSOR_FALLBACK;
        else
            rc = fail(&ag, MM_AGENT_SOURCE,
                      mm_error_set(MM_EINVAL, "unknown source \"%s\"", source));
        so.wakeup_every = o->wakeup;
        if (rc == 0 && (rc = mm_sensor_open(&sensor, &so)) < 0)
            fail(&ag, MM_AGENT_EVENTS, rc);
        if (rc == 0)
            rc = run_sensor(&ag, sensor);
    }
    if (rc == 0) {
        mm_sensor_stats st = {0};
        if (sensor)
            mm_sensor_stats_get(sensor, &st);
        stats->kernel_records = st.records;
        stats->drops = st.drops;
        stats->enter_lost = st.enter_lost;
        stats->overruns = st.overruns;
        stats->malformed = st.malformed;
        note(&ag, MM_AGENT_INFO, "stats {\"events\":%llu,\"alerts\":%llu,\"kills\":%llu,"
             "\"kernel_records\":%llu,\"drops\":%llu,\"enter_lost\":%llu,"
             "\"overruns\":%llu,\"malformed\":%llu}",
             (unsigned long long)stats->events, (unsigned long long)stats->alerts,
             (unsigned long long)stats->kills, (unsigned long long)st.records,
             (unsigned long long)st.drops, (unsigned long long)st.enter_lost,
             (unsigned long long)st.overruns, (unsigned long long)st.malformed);
    }
    fflush(stdout);
    if (ag.exec_store && mm_capture_close(ag.exec_store) < 0) {
        note(&ag, MM_AGENT_WARNING, "warning: exec store: %s", mm_error_last());
        if (rc == 0)
            rc = fail(&ag, MM_AGENT_CAPTURE_END, MM_EIO);
    }
    if (ag.capture && mm_capture_close(ag.capture) < 0) {
        note(&ag, MM_AGENT_WARNING, "warning: capture: %s", mm_error_last());
        if (rc == 0)
            rc = fail(&ag, MM_AGENT_CAPTURE_END, MM_EIO);
    }
    mm_sensor_free(sensor);
    mm_alert_sink_free(ag.sink);
    mm_ruleset_free(ag.rs);
    mm_profile_free(ag.learn);
    mm_profile_free(ag.profile);
    return rc;
}
