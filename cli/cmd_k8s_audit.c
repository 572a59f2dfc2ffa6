/*
 * cmd_k8s_audit.c - `mamori k8s audit`: Kubernetes audit logs through the
 * runtime rule engine (SP 800-190 §3.3.1).
 *
 *   mamori k8s audit [--rules FILE ...] [--follow] [--format text|json]
 *                    [--output SPEC] [--min-priority P] [--stats] LOG...
 *
 * Without --rules the built-in rules (data/k8s-audit-rules.yaml) run;
 * Falco's k8s_audit_rules.yaml loads as well.  Only option parsing and
 * printing here: the reader and the fields live in lib/runtime.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mamori/audit.h"
#include "mamori/httpd.h"
#include "mamori/k8s.h"
#include "mamori/rules.h"
#include "cli.h"

enum { O_MINPRI = 1, O_FOLLOW, O_IDLE, O_STATS, O_POLL, O_EFFECT, O_INCLUSTER, O_SERVER,
       O_SADIR, O_KUBECONFIG, O_CONTEXT, O_LISTEN, O_CERT, O_KEY, O_STATE, O_PLAIN, O_CLIENT_CA };

static const struct option audit_longopts[] = {
    {"rules", required_argument, NULL, 'r'},
    {"format", required_argument, NULL, 'f'},
    {"output", required_argument, NULL, 'o'},
    {"min-priority", required_argument, NULL, O_MINPRI},
    {"follow", no_argument, NULL, O_FOLLOW},
    {"idle-exit", required_argument, NULL, O_IDLE},
    {"poll-ms", required_argument, NULL, O_POLL},
    {"stats", no_argument, NULL, O_STATS},
    {"isolate-effect", required_argument, NULL, O_EFFECT},
    {"in-cluster", no_argument, NULL, O_INCLUSTER},
    {"server", required_argument, NULL, O_SERVER},
    {"sa-dir", required_argument, NULL, O_SADIR},
    {"kubeconfig", required_argument, NULL, O_KUBECONFIG},
    {"context", required_argument, NULL, O_CONTEXT},
    {"listen", required_argument, NULL, O_LISTEN},
    {"cert", required_argument, NULL, O_CERT},
    {"key", required_argument, NULL, O_KEY},
    {"client-ca", required_argument, NULL, O_CLIENT_CA},
    {"state-dir", required_argument, NULL, O_STATE},
    {"plain", no_argument, NULL, O_PLAIN},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void audit_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori k8s audit [options] LOG...\n"
"       mamori k8s audit [options] --listen HOST:PORT   (the audit webhook backend)\n"
"\n"
"Evaluates Kubernetes audit events (audit.k8s.io Event JSON lines, as the API\n"
"server's log backend writes them; EventList lines too) with Falco's\n"
"k8s_audit rule language (ka.* and jevt.* fields; docs/k8s-audit.md).\n"
"LOG files are read in order (\"-\" = standard input).\n"
"\n"
"Options:\n"
"  -r, --rules FILE       a rules file (repeat; later files append/override).\n"
"                         Default: the built-in rules (forbidden requests,\n"
"                         anonymous access, exec/attach, secret reads,\n"
"                         cluster-admin bindings, privileged pods)\n"
"  -f, --format FMT       text (default) or json (Falco's JSON alert lines)\n"
"  -o, --output SPEC      stdout (default), stderr, file:PATH, syslog, http(s)://URL\n"
"      --min-priority P   only rules at P or more severe (e.g. WARNING)\n"
"      --follow           keep reading the last LOG as it grows, through\n"
"                         rotations (renamed or truncated), until interrupted\n"
"      --idle-exit SECS   with --follow: stop after SECS without a new line\n"
"      --stats            print counts to standard error at the end\n"
"      --listen HOST:PORT the API server's audit webhook backend: EventList POSTs\n"
"                         over TLS (--cert F --key F, or a self-signed pair in\n"
"                         --state-dir, default .; --plain: no TLS) until SIGTERM\n"
"      --client-ca F      with --listen: require the API server's client\n"
"                         certificate, signed by this CA (others get 403)\n"
"\n"
"Rules with `action: isolate-node` cordon and taint the node the event is\n"
"about (a Node object, a pod's spec.nodeName, a kubelet's own requests), once\n"
"per node, when the API can be reached:\n"
"      --in-cluster       the pod's service account (--server URL, --sa-dir DIR)\n"
"      --kubeconfig F     or a kubeconfig (--context C)\n"
"      --isolate-effect E NoSchedule (default), PreferNoSchedule or NoExecute\n"
"  -q, --quiet            no rule-load warnings\n"
"\n"
"Exit status: 0, or 2 when the rules do not load, an output fails or a line\n"
"is not an audit event (each bad line is named; the others are evaluated).\n");
}

typedef struct asink {
    mm_alert_sink *sink;
    FILE *text;
    size_t alerts, errors;
    mm_k8s_client *kc;         /* isolate-node: NULL = no API access given */
    mm_k8s_isolate_opts io;
    char **isolated;           /* nodes done in this run */
    size_t nisolated;
    size_t isolate_failed;
} asink;

static void isolate(asink *s, const mm_alert *a)
{
    const char *node = a->event ? mm_audit_event_node(a->event->audit) : NULL;
    if (!node) {
        fprintf(stderr, "%s: isolate-node (rule '%s'): the event names no node\n", prog,
                a->rule);
        return;
    }
    for (size_t i = 0; i < s->nisolated; i++)
        if (!strcmp(s->isolated[i], node))
            return;
    if (!s->kc) {
        fprintf(stderr, "%s: isolate-node (rule '%s'): node %s not isolated: no API access "
                "(--in-cluster or --kubeconfig)\n", prog, a->rule, node);
        return;
    }
    s->isolated = realloc(s->isolated, (s->nisolated + 1) * sizeof *s->isolated);
    s->isolated[s->nisolated++] = strdup(node);
    mm_k8s_isolate_opts io = s->io;
    char reason[512];
    snprintf(reason, sizeof reason, "rule '%s' (audit %s)", a->rule,
             a->event && a->event->audit ? mm_audit_event_str(a->event->audit, "/auditID") : "");
    io.reason = reason;
    mm_k8s_isolate_result r;
    if (mm_k8s_isolate_node(s->kc, node, &io, &r)) {
        s->isolate_failed++;
        fprintf(stderr, "%s: isolate-node (rule '%s'): node %s: %s\n", prog, a->rule, node,
                mm_error_last());
        return;
    }
    fprintf(stderr, "%s: isolate-node (rule '%s'): node %s %s\n", prog, a->rule, node,
            r.already ? "was already cordoned and tainted" : "cordoned and tainted");
}

static void on_alert(void *ud, const mm_alert *a)
{
    asink *s = ud;
    s->alerts++;
    if (a->action == MM_ACTION_ISOLATE_NODE)
        isolate(s, a);
    if (s->text) {
        char t[64];
        time_t sec = (time_t)(a->ts / 1000000000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(s->text, "%s.%09lldZ: %s %s (rule: %s)\n", t,
                (long long)(a->ts % 1000000000), mm_rule_priority_name(a->priority),
                a->output, a->rule);
        fflush(s->text);
        return;
    }
    if (mm_alert_sink_write(s->sink, a) && s->errors++ < 5)
        fprintf(stderr, "%s: %s\n", prog, mm_error_last());
}

static volatile int stop_flag;

/* The webhook backend: each POST is an EventList (or one Event); the rules
 * and the outputs are not thread-safe, so one request at a time. */
typedef struct wctx {
    mm_ruleset *rs;
    asink *s;
    pthread_mutex_t mu;
    size_t events, bad;
} wctx;

static void on_post(void *ud, const mm_http_req *req, mm_http_resp *resp)
{
    wctx *w = ud;
    if (strcmp(req->method, "POST")) {
        mm_http_resp_error(resp, 405, "POST an audit EventList");
        return;
    }
    mm_audit_batch *b;
    if (mm_audit_batch_parse(&b, req->body, req->body_len)) {
        pthread_mutex_lock(&w->mu);
        w->bad++;
        fprintf(stderr, "%s: webhook: %s\n", prog, mm_error_last());
        pthread_mutex_unlock(&w->mu);
        mm_http_resp_error(resp, 400, "%s", mm_error_last());
        return;
    }
    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < mm_audit_batch_count(b); i++) {
        w->events++;
        mm_ruleset_eval(w->rs, mm_audit_batch_event(b, i), on_alert, w->s);
    }
    pthread_mutex_unlock(&w->mu);
    mm_audit_batch_free(b);
    mm_http_resp_text(resp, 200, "application/json", "{}", 2);
}

static int serve_webhook(mm_ruleset *rs, asink *s, const char *listen, const char *cert,
                         const char *key, const char *client_ca, const char *state,
                         bool plain, bool stats)
{
    wctx w = {.rs = rs, .s = s};
    pthread_mutex_init(&w.mu, NULL);
    mm_httpd_opts ho;
    mm_httpd_opts_init(&ho);
    ho.listen = listen;
    ho.plain = plain;
    ho.cert_file = cert;
    ho.key_file = key;
    ho.client_ca_file = client_ca;
    ho.state_dir = state ? state : ".";
    ho.max_body = 64u << 20;    /* the API server batches up to 400 events */
    ho.json_only = true;
    ho.handler = on_post;
    ho.ctx = &w;
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGINT);
    sigaddset(&ss, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);
    mm_httpd *h;
    if (mm_httpd_start(&h, &ho))
        return cli_fail("k8s audit --listen: ");
    fprintf(stderr, "%s: k8s audit: webhook backend on %s://%s (port %u)%s%s\n", prog,
            plain ? "http" : "https", listen, (unsigned)mm_httpd_port(h),
            plain ? "" : ", certificate ", plain ? "" : mm_httpd_cert_path(h));
    int sig;
    sigwait(&ss, &sig);
    mm_httpd_stop(h);
    if (stats)
        fprintf(stderr, "%s: %zu audit events, %zu alerts, %zu bad requests\n", prog, w.events,
                s->alerts, w.bad);
    pthread_mutex_destroy(&w.mu);
    return s->errors || s->isolate_failed ? EXIT_ERROR : 0;
}

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

int cmd_k8s_audit(int argc, char **argv)
{
    const char **rules = NULL;
    size_t nrules = 0;
    const char *format = "text", *output = "stdout", *minpri = NULL;
    bool stats = false, quiet = false;
    mm_audit_log_opts lo = {0};
    asink s = {0};
    mm_k8s_isolate_opts_init(&s.io);
    bool in_cluster = false;
    const char *server = NULL, *sa_dir = NULL, *kubeconfig = NULL, *context = NULL;
    const char *listen = NULL, *cert = NULL, *key = NULL, *client_ca = NULL, *state = NULL;
    bool plain = false;
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:f:o:qh", audit_longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            rules = realloc(rules, (nrules + 1) * sizeof *rules);
            rules[nrules++] = optarg;
            break;
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        case O_MINPRI: minpri = optarg; break;
        case O_FOLLOW: lo.follow = true; break;
        case O_IDLE: lo.idle_exit_ms = (int)(atof(optarg) * 1000); break;
        case O_POLL: lo.poll_ms = atoi(optarg); break;
        case O_STATS: stats = true; break;
        case O_EFFECT: s.io.effect = optarg; break;
        case O_INCLUSTER: in_cluster = true; break;
        case O_SERVER: server = optarg; break;
        case O_SADIR: sa_dir = optarg; break;
        case O_KUBECONFIG: kubeconfig = optarg; break;
        case O_CONTEXT: context = optarg; break;
        case O_LISTEN: listen = optarg; break;
        case O_CERT: cert = optarg; break;
        case O_KEY: key = optarg; break;
        case O_CLIENT_CA: client_ca = optarg; break;
        case O_STATE: state = optarg; break;
        case O_PLAIN: plain = true; break;
        case 'q': quiet = true; break;
        case 'h': audit_usage(stdout); free(rules); return 0;
        default: audit_usage(stderr); free(rules); return EXIT_ERROR;
        }
    }
    if (listen ? optind < argc : optind >= argc) {
        fprintf(stderr, "%s: k8s audit: %s (see --help)\n", prog,
                listen ? "--listen takes no LOG" : "which LOG?");
        free(rules);
        return EXIT_ERROR;
    }
    if (strcmp(format, "text") && strcmp(format, "json")) {
        fprintf(stderr, "%s: k8s audit: --format is text or json\n", prog);
        free(rules);
        return EXIT_ERROR;
    }
    mm_ruleset *rs = NULL;
    if (mm_ruleset_new(&rs)) {
        free(rules);
        return cli_fail("");
    }
    for (size_t i = 0; i < nrules && !rc; i++)
        if (mm_ruleset_load_file(rs, rules[i]))
            rc = cli_fail("");
    if (!rc && !nrules && mm_audit_load_default_rules(rs))
        rc = cli_fail("built-in rules: ");
    if (!rc && mm_ruleset_compile(rs))
        rc = cli_fail("");
    if (!rc && minpri) {
        mm_rule_priority p;
        if (mm_rule_priority_parse(&p, minpri))
            rc = cli_fail("--min-priority: ");
        else
            mm_ruleset_set_min_priority(rs, p);
    }
    free(rules);
    if (rc) {
        mm_ruleset_free(rs);
        return rc;
    }
    if (!quiet)
        for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++) {
            const char *w = mm_ruleset_warning(rs, i);
            if (!strstr(w, "skipped: source"))   /* syscall rules of a shared file */
                fprintf(stderr, "%s: warning: %s\n", prog, w);
        }
    if ((in_cluster || server || sa_dir || kubeconfig) &&
        cli_k8s_isolate_client(&s.kc, in_cluster, server, sa_dir, kubeconfig, context, 0)) {
        mm_ruleset_free(rs);
        return cli_fail("isolate-node: ");
    }
    if (!strcmp(format, "text") && (!strcmp(output, "stdout") || !strcmp(output, "-")))
        s.text = stdout;
    else if (!strcmp(format, "text") && !strcmp(output, "stderr"))
        s.text = stderr;
    else if (mm_alert_sink_open(&s.sink, output)) {
        mm_ruleset_free(rs);
        mm_k8s_client_free(s.kc);
        return cli_fail("");
    }
    if (listen) {
        rc = serve_webhook(rs, &s, listen, cert, key, client_ca, state, plain, stats);
        mm_alert_sink_free(s.sink);
        mm_ruleset_free(rs);
        mm_k8s_client_free(s.kc);
        for (size_t i = 0; i < s.nisolated; i++)
            free(s.isolated[i]);
        free(s.isolated);
        return rc;
    }
    if (lo.follow) {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        lo.stop = &stop_flag;
    }
    mm_audit_log *log;
    if (mm_audit_log_open(&log, (const char *const *)argv + optind, (size_t)(argc - optind),
                          &lo)) {
        mm_alert_sink_free(s.sink);
        mm_ruleset_free(rs);
        mm_k8s_client_free(s.kc);
        return cli_fail("");
    }
    size_t events = 0, bad = 0;
    for (;;) {
        const mm_event *ev;
        int r = mm_audit_log_next(log, &ev);
        if (r == 0)
            break;
        if (r < 0) {
            if (bad++ < 20)
                fprintf(stderr, "%s: %s\n", prog, mm_error_last());
            if (r == MM_EIO || r == MM_ENOTFOUND)
                break;
            continue;
        }
        events++;
        mm_ruleset_eval(rs, ev, on_alert, &s);
    }
    if (stats)
        fprintf(stderr, "%s: %zu audit events, %zu alerts, %zu bad lines, %zu rotations\n",
                prog, events, s.alerts, bad, mm_audit_log_rotations(log));
    mm_audit_log_free(log);
    mm_alert_sink_free(s.sink);
    mm_ruleset_free(rs);
    mm_k8s_client_free(s.kc);
    for (size_t i = 0; i < s.nisolated; i++)
        free(s.isolated[i]);
    free(s.isolated);
    return bad || s.errors || s.isolate_failed ? EXIT_ERROR : 0;
}
