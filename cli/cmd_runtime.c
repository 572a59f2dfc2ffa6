/*
 * cmd_runtime.c - `mamori runtime`: the rule engine from the command line.
 *
 *   mamori runtime replay FILE --rules R [--rules R2 ...] [--format json|text]
 *                         [--output SPEC] [--min-priority P] [--stats]
 *   mamori runtime rules --rules R [...]      load report: counts, warnings
 *   mamori runtime bench FILE --rules R [...] [--seconds S]
 *
 * replay feeds a JSON-lines capture (docs/rules.md) through the rules and
 * prints alerts (Falco's JSON shape with --format json); bench measures rule
 * throughput on already-decoded events and the JSON-lines replay rate.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/mamori.h"
#include "mamori/capture.h"
#include "mamori/profile.h"
#include "mamori/rules.h"
#include "mamori/sensor.h"
#include "cli.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this thread: on a shared machine, events per CPU second is
 * what "one core" means */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct ropts {
    const char **rules;
    size_t nrules;
    const char *format, *output, *minpri;
    const char *profile;     /* replay --profile: deviation alerts too */
    bool stats, quiet;
    bool strict;             /* a rule that cannot compile fails the load */
    bool check;              /* rules --check: every rule by state */
    const char *source;      /* rules --check --source bpf|fallback|replay */
    double seconds;
    bool multi;              /* replay: several FILEs (a rotated capture) */
    char **files;            /* argv[optind..] */
    int nfiles;
} ropts;

static void runtime_usage(FILE *f)
{
    fprintf(f,
"Usage:\n"
"  mamori runtime replay FILE... --rules R [--rules R2...] [options]\n"
"  mamori runtime rules --rules R [--rules R2...] [--check [--source S]]\n"
"  mamori runtime bench FILE --rules R [--seconds S]\n"
"\n"
"FILE is a JSON-lines capture, one event a line keyed by Falco field names\n"
"(\"-\" = standard input; plain or zstd, told by content); see docs/rules.md.\n"
"A rotated capture (FILE.N ... FILE.1 FILE) is read oldest first, whether FILE\n"
"alone or all its members are given (docs/capture.md).\n"
"\n"
"Options:\n"
"  -r, --rules FILE       a Falco rules file (repeat: later files append/override)\n"
"  -f, --format FMT       text (default) or json (Falco's JSON alert lines)\n"
"  -o, --output SPEC      stdout (default), stderr, file:PATH, syslog, http(s)://URL\n"
"      --min-priority P   only rules at P or more severe (e.g. WARNING)\n"
"      --profile P        replay: also alert on deviations from the profile P\n"
"                         (docs/profiles.md; --rules is then optional)\n"
"      --stats            print counts to standard error at the end\n"
"      --check            rules: list every rule by state (active, disabled\n"
"                         upstream, unsupported in this mode and why)\n"
"      --source S         rules --check: the source the agent would run: bpf\n"
"                         (default), fallback or replay (every field counts)\n"
"      --strict           a rule that cannot compile (each load warning about a\n"
"                         disabled rule or ignored macro) fails the load\n"
"  -q, --quiet            no load warnings\n");
}

static int parse_opts(int argc, char **argv, ropts *o, const char **file)
{
    static const struct option lopts[] = {
        {"rules", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"min-priority", required_argument, NULL, 'p'},
        {"stats", no_argument, NULL, 's'},
        {"profile", required_argument, NULL, 'P'},
        {"seconds", required_argument, NULL, 'S'},
        {"check", no_argument, NULL, 'C'},
        {"source", required_argument, NULL, 'O'},
        {"quiet", no_argument, NULL, 'q'},
        {"strict", no_argument, NULL, 'T'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:f:o:qh", lopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            o->rules = realloc(o->rules, (o->nrules + 1) * sizeof *o->rules);
            if (!o->rules)
                return EXIT_ERROR;
            o->rules[o->nrules++] = optarg;
            break;
        case 'f': o->format = optarg; break;
        case 'o': o->output = optarg; break;
        case 'p': o->minpri = optarg; break;
        case 's': o->stats = true; break;
        case 'P': o->profile = optarg; break;
        case 'S': o->seconds = atof(optarg); break;
        case 'C': o->check = true; break;
        case 'O': o->source = optarg; break;
        case 'q': o->quiet = true; break;
        case 'T': o->strict = true; break;
        case 'h': runtime_usage(stdout); return -1;
        default: runtime_usage(stderr); return EXIT_ERROR;
        }
    }
    *file = optind < argc ? argv[optind] : NULL;
    o->files = argv + optind;
    o->nfiles = argc - optind;
    if (optind + 1 < argc && !o->multi) {
        fprintf(stderr, "%s: runtime: unexpected argument \"%s\"\n", prog, argv[optind + 1]);
        return EXIT_ERROR;
    }
    if (o->format && strcmp(o->format, "json") && strcmp(o->format, "text")) {
        fprintf(stderr, "%s: runtime: --format is json or text\n", prog);
        return EXIT_ERROR;
    }
    if (!o->nrules && !o->profile) {
        fprintf(stderr, "%s: runtime: at least one --rules FILE is needed\n", prog);
        return EXIT_ERROR;
    }
    return 0;
}

static int load_rules(const ropts *o, mm_ruleset **out)
{
    mm_ruleset *rs;
    if (mm_ruleset_new(&rs))
        return cli_fail("");
    mm_source_caps caps;
    if (o->check && o->source && strcmp(o->source, "replay")) {
        mm_sensor_caps(&caps, !strcmp(o->source, "fallback") ? MM_SENSOR_FALLBACK : MM_SENSOR_BPF);
        mm_ruleset_set_source(rs, &caps, false);
    }
    mm_ruleset_set_strict(rs, o->strict);
    for (size_t i = 0; i < o->nrules; i++)
        if (mm_ruleset_load_file(rs, o->rules[i])) {
            mm_ruleset_free(rs);
            return cli_fail("");
        }
    if (mm_ruleset_compile(rs)) {
        mm_ruleset_free(rs);
        return cli_fail("");
    }
    if (o->minpri) {
        mm_rule_priority p;
        if (mm_rule_priority_parse(&p, o->minpri)) {
            mm_ruleset_free(rs);
            return cli_fail("--min-priority: ");
        }
        mm_ruleset_set_min_priority(rs, p);
    }
    if (!o->quiet)
        for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++)
            fprintf(stderr, "%s: warning: %s\n", prog, mm_ruleset_warning(rs, i));
    *out = rs;
    return 0;
}

typedef struct sinkctx {
    mm_alert_sink *sink;
    bool json;
    FILE *text;
    size_t alerts, errors;
} sinkctx;

static void on_alert(void *ud, const mm_alert *a)
{
    sinkctx *s = ud;
    s->alerts++;
    if (!s->json && s->text) {
        char t[64];
        time_t sec = (time_t)(a->ts / 1000000000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(t, sizeof t, "%H:%M:%S", &tm);
        fprintf(s->text, "%s.%09lld: %s %s\n", t, (long long)(a->ts % 1000000000),
                mm_rule_priority_name(a->priority), a->output);
        return;
    }
    if (mm_alert_sink_write(s->sink, a) && s->errors++ < 5)
        fprintf(stderr, "%s: %s\n", prog, mm_error_last());
}

static int cmd_replay(int argc, char **argv)
{
    ropts o = {.multi = true};
    const char *file;
    int rc = parse_opts(argc, argv, &o, &file);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!file) {
        fprintf(stderr, "%s: runtime replay: which FILE?\n", prog);
        free(o.rules);
        return EXIT_ERROR;
    }
    mm_ruleset *rs;
    if ((rc = load_rules(&o, &rs))) {
        free(o.rules);
        return rc;
    }
    mm_profile *prof = NULL;
    if (o.profile && mm_profile_load_file(&prof, o.profile)) {
        mm_ruleset_free(rs);
        free(o.rules);
        return cli_fail("--profile: ");
    }
    sinkctx sc = {0};
    sc.json = o.format && !strcmp(o.format, "json");
    const char *spec = o.output ? o.output : "stdout";
    /* text goes to a stream; anything but stdout/stderr/file is JSON */
    if (!sc.json && (!strcmp(spec, "stdout") || !strcmp(spec, "-")))
        sc.text = stdout;
    else if (!sc.json && !strcmp(spec, "stderr"))
        sc.text = stderr;
    else {
        sc.json = true;
        if (mm_alert_sink_open(&sc.sink, spec)) {
            mm_ruleset_free(rs);
            mm_profile_free(prof);
            free(o.rules);
            return cli_fail("");
        }
    }
    mm_replay *rp = NULL;
    char **files = NULL;
    size_t nfiles = 0;
    mm_capture_reader *cr = NULL;
    if (mm_capture_files(&files, &nfiles, (const char *const *)o.files, (size_t)o.nfiles) ||
        mm_capture_reader_open(&cr, (const char *const *)files, nfiles, NULL) ||
        mm_replay_open_reader(&rp, cr)) {
        mm_capture_files_free(files, nfiles);
        mm_alert_sink_free(sc.sink);
        mm_ruleset_free(rs);
        mm_profile_free(prof);
        free(o.rules);
        return cli_fail("");
    }
    size_t events = 0, bad = 0;
    double t0 = now_s();
    for (;;) {
        const mm_event *ev;
        int r = mm_replay_next(rp, &ev);
        if (r == 0)
            break;
        if (r < 0) {
            if (bad++ < 20)
                fprintf(stderr, "%s: %s\n", prog, mm_error_last());
            if (mm_capture_reader_failed(cr))   /* corrupt, too long, over the cap */
                break;
            continue;
        }
        events++;
        mm_ruleset_eval(rs, ev, on_alert, &sc);
        if (prof)
            mm_profile_check(prof, ev, on_alert, &sc);
    }
    double dt = now_s() - t0;
    if (o.stats)
        fprintf(stderr, "%s: %zu events, %zu alerts, %zu bad lines, %.3f s (%.0f events/s)\n",
                prog, events, sc.alerts, bad, dt, dt > 0 ? (double)events / dt : 0.0);
    if (sc.text)
        fflush(sc.text);
    for (size_t i = 0; i < mm_capture_reader_warning_count(cr); i++)
        fprintf(stderr, "%s: warning: %s\n", prog, mm_capture_reader_warning(cr, i));
    mm_capture_files_free(files, nfiles);
    mm_replay_free(rp);
    mm_alert_sink_free(sc.sink);
    mm_ruleset_free(rs);
    mm_profile_free(prof);
    free(o.rules);
    return bad || sc.errors ? EXIT_ERROR : 0;
}

/* The state of one rule, as `rules --check` names it */
static const char *rule_state(const mm_rule_info *r)
{
    if (r->skipped)
        return "other-source";
    if (r->unsupported_source)
        return "unsupported-mode";
    if (r->disabled)
        return "unsupported";
    return r->enabled ? "active" : "disabled-upstream";
}

static int cmd_rules(int argc, char **argv)
{
    ropts o = {0};
    const char *file;
    int rc = parse_opts(argc, argv, &o, &file);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (o.source && !o.check) {
        fprintf(stderr, "%s: runtime rules: --source goes with --check\n", prog);
        free(o.rules);
        return EXIT_ERROR;
    }
    if (o.check && !o.source)
        o.source = "bpf";
    if (o.source && strcmp(o.source, "bpf") && strcmp(o.source, "fallback") &&
        strcmp(o.source, "replay")) {
        fprintf(stderr, "%s: runtime rules: --source is bpf, fallback or replay\n", prog);
        free(o.rules);
        return EXIT_ERROR;
    }
    o.quiet = true;
    mm_ruleset *rs;
    if ((rc = load_rules(&o, &rs))) {
        free(o.rules);
        return rc;
    }
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    if (o.check) {
        printf("source %s: %zu rules: %zu active, %zu disabled upstream, %zu unsupported in "
               "this mode, %zu unsupported by the engine, %zu of other sources\n", o.source,
               st.rules, st.enabled, st.disabled_by_file, st.disabled_source,
               st.disabled_unsupported, st.skipped_source);
        for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++) {
            const mm_rule_info *r = mm_ruleset_rule(rs, i);
            bool why = r->disabled || r->skipped;
            printf("%-17s %-13s %s%s%s\n", rule_state(r), mm_rule_priority_name(r->priority),
                   r->name, why ? ": " : "", why && r->disabled_reason ? r->disabled_reason : "");
        }
        mm_ruleset_free(rs);
        free(o.rules);
        return 0;
    }
    printf("rules %zu, macros %zu, lists %zu: %zu enabled, %zu disabled by the files, "
           "%zu disabled (unsupported), %zu skipped (other sources)\n",
           st.rules, st.macros, st.lists, st.enabled, st.disabled_by_file,
           st.disabled_unsupported, st.skipped_source);
    for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++)
        printf("warning: %s\n", mm_ruleset_warning(rs, i));
    for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++) {
        const mm_rule_info *r = mm_ruleset_rule(rs, i);
        printf("%-9s %-13s %s%s\n",
               r->skipped ? "skipped" : r->disabled ? "UNSUPP" : r->enabled ? "enabled" : "disabled",
               mm_rule_priority_name(r->priority), r->name,
               r->action == MM_ACTION_KILL ? " [action: kill]" : "");
    }
    mm_ruleset_free(rs);
    free(o.rules);
    return 0;
}

static void count_alert(void *ud, const mm_alert *a)
{
    (void)a;
    (*(size_t *)ud)++;
}

/* Rule throughput on decoded events: every line is decoded once (each in
 * its own replay reader, so that the events stay valid), then the decoded
 * events are evaluated in a loop for --seconds.  The JSON-lines rate
 * (decode + evaluate) is measured separately over the file. */
static int cmd_bench(int argc, char **argv)
{
    ropts o = {0};
    const char *file;
    int rc = parse_opts(argc, argv, &o, &file);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (!file) {
        fprintf(stderr, "%s: runtime bench: which FILE?\n", prog);
        free(o.rules);
        return EXIT_ERROR;
    }
    o.quiet = true;
    mm_ruleset *rs;
    if ((rc = load_rules(&o, &rs))) {
        free(o.rules);
        return rc;
    }
    double secs = o.seconds > 0 ? o.seconds : 3;
    /* 1: JSON-lines replay throughput */
    size_t events = 0, alerts = 0;
    double t0 = now_s(), c0 = cpu_s();
    int passes = 0;
    while (now_s() - t0 < secs / 2 || passes == 0) {
        mm_replay *rp;
        if (mm_replay_open(&rp, file)) {
            mm_ruleset_free(rs);
            free(o.rules);
            return cli_fail("");
        }
        const mm_event *ev;
        int r;
        while ((r = mm_replay_next(rp, &ev)) != 0) {
            if (r < 0)
                continue;
            events++;
            mm_ruleset_eval(rs, ev, count_alert, &alerts);
        }
        mm_replay_free(rp);
        passes++;
    }
    double jdt = now_s() - t0, jcpu = cpu_s() - c0;
    /* 2: decoded events */
    FILE *f = fopen(file, "r");
    if (!f) {
        mm_ruleset_free(rs);
        free(o.rules);
        fprintf(stderr, "%s: %s: cannot open\n", prog, file);
        return EXIT_ERROR;
    }
    size_t cap = 0, n = 0;
    mm_replay **rps = NULL;
    const mm_event **evs = NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0 && n < 100000) {
        if (line[0] != '{')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            rps = realloc(rps, cap * sizeof *rps);
            evs = realloc(evs, cap * sizeof *evs);
            if (!rps || !evs)
                return EXIT_ERROR;
        }
        mm_replay_new_mem(&rps[n]);
        if (mm_replay_parse(rps[n], line, (size_t)len, &evs[n]) == 1)
            n++;
        else
            mm_replay_free(rps[n]);
    }
    free(line);
    fclose(f);
    size_t done = 0, dalerts = 0;
    t0 = now_s();
    c0 = cpu_s();
    double dt;
    do {
        for (size_t i = 0; i < n; i++)
            mm_ruleset_eval(rs, evs[i], count_alert, &dalerts);
        done += n;
        dt = now_s() - t0;
    } while (dt < secs / 2 && n);
    double dcpu = cpu_s() - c0;
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    printf("rules enabled: %zu (of %zu)\n", st.enabled, st.rules);
    printf("decoded events: %zu distinct, %zu evaluated: %.0f events/s per CPU second "
           "(%.0f ns/event; wall %.3f s, cpu %.3f s), %zu alerts\n", n, done,
           dcpu > 0 ? (double)done / dcpu : 0.0, done ? dcpu * 1e9 / (double)done : 0.0,
           dt, dcpu, dalerts);
    printf("json-lines replay (parse + evaluate): %zu events: %.0f events/s per CPU second "
           "(wall %.3f s, cpu %.3f s), %zu alerts\n", events,
           jcpu > 0 ? (double)events / jcpu : 0.0, jdt, jcpu, alerts);
    for (size_t i = 0; i < n; i++)
        mm_replay_free(rps[i]);
    free(rps);
    free(evs);
    mm_ruleset_free(rs);
    free(o.rules);
    return 0;
}

int cmd_runtime(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        runtime_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_ERROR : 0;
    }
    if (!strcmp(argv[1], "replay"))
        return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(argv[1], "rules"))
        return cmd_rules(argc - 1, argv + 1);
    if (!strcmp(argv[1], "bench"))
        return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "%s: runtime: unknown subcommand \"%s\"\n", prog, argv[1]);
    runtime_usage(stderr);
    return EXIT_ERROR;
}
