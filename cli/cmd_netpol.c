/*
 * cmd_netpol.c - `mamori net enforce` and `mamori net policy`: network
 * segmentation (docs/netpol.md).  Finds the workloads (running containers,
 * or --target NAME=NETNS), picks each one's policy, compiles it, shows the
 * diff against the live table (--dry-run) or applies every namespace with
 * rollback; --follow then keeps the egress-name sets filled from DNS
 * answers and turns dropped packets into alerts; --kill-switch removes
 * every mamori table; `net policy --from-baseline` proposes a policy file.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "mamori/net.h"
#include "mamori/netpol.h"
#include "cli.h"

static void enforce_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori net enforce --policy FILE [options]   apply segmentation policies\n"
"       mamori net enforce --kill-switch [--netns PATH]...   remove every mamori table\n"
"       mamori net policy --from-baseline FILE [-o OUT]      propose a policy from a graph\n"
"\n"
"  --policy FILE           the YAML policy file (docs/netpol.md)\n"
"  --target NAME=NETNS[,image=IMG][,label=K=V]...  a workload and its namespace file\n"
"                          (repeatable; default: every running container)\n"
"  --host                  enforce on the host's forward hook (bridged workloads)\n"
"                          instead of inside each workload's namespace\n"
"  --dry-run               print the diff against the live tables; change nothing\n"
"  --nflog-group N         where dropped packets are logged (default 100)\n"
"  --follow                after applying: fill egress-name sets from DNS answers and\n"
"                          report dropped packets, until --duration or a signal\n"
"  --duration S            stop following after S seconds\n"
"  --output SINK           alerts: stdout (default), stderr, file:PATH, syslog, URL, none\n"
"  --findings FILE         dropped-packet findings as a JSON array\n"
"  --kill-switch           delete every table named mamori* in this namespace, every\n"
"                          running container's, /run/netns/*, and each --netns\n"
"  --netns PATH            (with --kill-switch) one more namespace\n"
"  --storage-root DIR      containers/storage of podman/CRI-O, to name running containers\n"
"                          (default /var/lib/containers/storage)\n");
}

typedef struct wl {
    char *name, *image, *netns;
    char **labels;
    size_t nlabels;
    mm_ipaddr *addrs;
    size_t naddrs;
    long pol;
    char *table;
    char *ruleset;
} wl;

typedef struct wls {
    wl *v;
    size_t n;
} wls;

static size_t resolve(void *ud, const char *peer, const mm_ipaddr **addrs)
{
    wls *w = ud;
    for (size_t i = 0; i < w->n; i++)
        if (w->v[i].name && !strcmp(w->v[i].name, peer)) {
            *addrs = w->v[i].addrs;
            return w->v[i].naddrs;
        }
    return 0;
}

static void wls_free(wls *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->v[i].name);
        free(w->v[i].image);
        free(w->v[i].netns);
        for (size_t k = 0; k < w->v[i].nlabels; k++)
            free(w->v[i].labels[k]);
        free(w->v[i].labels);
        free(w->v[i].addrs);
        free(w->v[i].table);
        free(w->v[i].ruleset);
    }
    free(w->v);
}

static int parse_target(wls *w, const char *spec)
{
    char *s = strdup(spec), *save = NULL;
    char *first = strtok_r(s, ",", &save);
    char *eq = first ? strchr(first, '=') : NULL;
    if (!eq || eq == first || !eq[1]) {
        fprintf(stderr, "%s: net enforce: --target %s: expected NAME=NETNS\n", prog, spec);
        free(s);
        return -1;
    }
    w->v = realloc(w->v, (w->n + 1) * sizeof *w->v);
    wl *x = &w->v[w->n++];
    memset(x, 0, sizeof *x);
    *eq = 0;
    x->name = strdup(first);
    x->netns = strdup(eq + 1);
    for (char *t; (t = strtok_r(NULL, ",", &save));) {
        if (!strncmp(t, "image=", 6)) {
            free(x->image);
            x->image = strdup(t + 6);
        } else if (!strncmp(t, "label=", 6) && strchr(t + 6, '=')) {
            x->labels = realloc(x->labels, (x->nlabels + 1) * sizeof *x->labels);
            x->labels[x->nlabels++] = strdup(t + 6);
        } else {
            fprintf(stderr, "%s: net enforce: --target %s: unknown part '%s'\n", prog, spec, t);
            free(s);
            return -1;
        }
    }
    free(s);
    return 0;
}

static int from_baseline(int argc, char **argv)
{
    const char *in = NULL, *out = "-";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--from-baseline") && i + 1 < argc)
            in = argv[++i];
        else if ((!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            enforce_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "%s: net policy: unexpected '%s'\n", prog, argv[i]);
            return EXIT_ERROR;
        }
    }
    if (!in) {
        fprintf(stderr, "%s: net policy: --from-baseline FILE is needed\n", prog);
        return EXIT_ERROR;
    }
    FILE *f = fopen(in, "rb");
    if (!f) {
        fprintf(stderr, "%s: net policy: %s: %s\n", prog, in, strerror(errno));
        return EXIT_ERROR;
    }
    char *data = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 65536 > cap)
            data = realloc(data, cap = (cap ? cap * 2 : 131072));
        size_t r = fread(data + len, 1, cap - len, f);
        len += r;
        if (r == 0 || len > (64u << 20) + 1)
            break;
    }
    fclose(f);
    char *yaml = NULL;
    if (mm_netpol_from_baseline(&yaml, data, len, in)) {
        free(data);
        return cli_fail("net policy: ");
    }
    free(data);
    FILE *o = strcmp(out, "-") ? fopen(out, "w") : stdout;
    if (!o) {
        fprintf(stderr, "%s: net policy: %s: %s\n", prog, out, strerror(errno));
        free(yaml);
        return EXIT_ERROR;
    }
    fputs(yaml, o);
    if (o != stdout)
        fclose(o);
    free(yaml);
    return 0;
}

static int kill_switch(char **extra, size_t nextra, const char *storage)
{
    int rc = 0;
    size_t total = 0, n = 0;
    char **paths = NULL;
    size_t np = 0;
    paths = realloc(paths, (np + 1) * sizeof *paths);
    paths[np++] = NULL;                     /* this namespace */
    mm_net_nslist nsl = {0};
    if (mm_net_discover(&nsl, NULL, storage, false) == 0)
        for (size_t i = 0; i < nsl.count; i++) {
            paths = realloc(paths, (np + 1) * sizeof *paths);
            paths[np++] = strdup(nsl.ns[i].path);
        }
    mm_net_nslist_free(&nsl);
    DIR *d = opendir("/run/netns");
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        paths = realloc(paths, (np + 1) * sizeof *paths);
        char *p = malloc(strlen(e->d_name) + 12);
        sprintf(p, "/run/netns/%s", e->d_name);
        paths[np++] = p;
    }
    if (d)
        closedir(d);
    for (size_t i = 0; i < nextra; i++) {
        paths = realloc(paths, (np + 1) * sizeof *paths);
        paths[np++] = strdup(extra[i]);
    }
    for (size_t i = 0; i < np; i++) {
        if (mm_netpol_kill(paths[i], &n)) {
            fprintf(stderr, "%s: net enforce: kill switch: %s\n", prog, mm_error_last());
            rc = EXIT_ERROR;
        } else if (n) {
            printf("removed %zu mamori table%s in %s\n", n, n == 1 ? "" : "s",
                   paths[i] ? paths[i] : "this namespace");
            total += n;
        }
        free(paths[i]);
    }
    free(paths);
    if (!rc)
        printf("kill switch: %zu mamori table%s removed\n", total, total == 1 ? "" : "s");
    return rc;
}

/* ---- following: DNS names into sets, drops into alerts ------------------------------ */

static volatile sig_atomic_t stop_now;
static void on_signal(int s) { (void)s; stop_now = 1; }

typedef struct follow {
    const mm_netpol *pol;
    wl *w;                       /* the workload being followed */
    wls *all;                    /* on the host: a drop's workload by address */
    bool host;
    mm_netpol_alerter *al;
    mm_alert_sink *sink;
    mm_findings *findings;
    char **seen;                 /* drop dedup keys of the last 10 s */
    size_t nseen;
    time_t seen_epoch;
    size_t sets_added;
} follow;

typedef struct name_ctx {
    follow *fo;
    const mm_ipaddr *addr;
    uint32_t ttl;
} name_ctx;

static void add_set(void *ud, const char *set)
{
    name_ctx *c = ud;
    const char *ns = c->fo->host ? NULL : c->fo->w->netns;
    if (mm_netpol_set_add(ns, c->fo->w->table, set, c->addr, c->ttl))
        fprintf(stderr, "%s: net enforce: %s\n", prog, mm_error_last());
    else
        c->fo->sets_added++;
}

static void on_name(void *ud, const mm_net_flow *f, const char *name,
                    const mm_ipaddr *addr, uint32_t ttl)
{
    (void)f;
    follow *fo = ud;
    name_ctx c = {.fo = fo, .addr = addr, .ttl = ttl};
    mm_netpol_name_sets(fo->pol, (size_t)fo->w->pol, name, addr->family, add_set, &c);
}

static void on_drop(void *ud, const mm_netpol_drop *d)
{
    follow *fo = ud;
    char key[256], s[64], t[64];
    mm_net_addr_str(&d->src, s, sizeof s);
    mm_net_addr_str(&d->dst, t, sizeof t);
    snprintf(key, sizeof key, "%s|%s|%s|%u|%u", d->policy, s, t, d->proto, d->dport);
    time_t now = time(NULL);
    if (now - fo->seen_epoch >= 10) {
        for (size_t i = 0; i < fo->nseen; i++)
            free(fo->seen[i]);
        fo->nseen = 0;
        fo->seen_epoch = now;
    }
    for (size_t i = 0; i < fo->nseen; i++)
        if (!strcmp(fo->seen[i], key))
            return;
    if (fo->nseen < 4096) {
        fo->seen = realloc(fo->seen, (fo->nseen + 1) * sizeof *fo->seen);
        fo->seen[fo->nseen++] = strdup(key);
    }
    const char *who = fo->w->name;
    for (size_t i = 0; fo->host && i < fo->all->n; i++)
        for (size_t k = 0; k < fo->all->v[i].naddrs; k++) {
            const mm_ipaddr *x = &fo->all->v[i].addrs[k];
            if (x->family == d->src.family &&
                (!memcmp(x->ip, d->src.ip, 16) || !memcmp(x->ip, d->dst.ip, 16)))
                who = fo->all->v[i].name;
        }
    const mm_alert *a;
    const mm_finding *fd;
    mm_netpol_alert(fo->al, d, who, &a, &fd);
    if (fo->sink)
        mm_alert_sink_write(fo->sink, a);
    if (mm_findings_count(fo->findings) < 100000)
        mm_findings_add(fo->findings, fd);
}

static void on_pkt(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cl, size_t wl_)
{
    void **p = ud;
    mm_net_feed(p[0], (uint32_t)(uintptr_t)p[1], lt, ts, d, cl, wl_);
}

static int follow_loop(const mm_netpol *pol, wls *w, bool host, unsigned group,
                       double duration, const char *output, const char *findings_path)
{
    int rc = 0;
    size_t n = w->n;
    follow *fo = calloc(n ? n : 1, sizeof *fo);
    mm_netpol_log **logs = calloc(n ? n : 1, sizeof *logs);
    mm_net **nets = calloc(n ? n : 1, sizeof *nets);
    mm_net_capture **caps = calloc(n ? n : 1, sizeof *caps);
    mm_alert_sink *sink = NULL;
    mm_findings *fl = NULL;
    mm_netpol_alerter *al = mm_netpol_alerter_new(NULL);
    bool host_log = false;
    mm_findings_new(&fl);
    if (strcmp(output, "none") && mm_alert_sink_open(&sink, output)) {
        rc = cli_fail("net enforce: ");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        if (w->v[i].pol < 0)
            continue;
        fo[i] = (follow){.pol = pol, .w = &w->v[i], .all = w, .host = host, .al = al,
                         .sink = sink, .findings = fl, .seen_epoch = time(NULL)};
        const char *ns = host ? NULL : w->v[i].netns;
        if (!host || !host_log) {          /* on the host: one log for all */
            if (mm_netpol_log_open(&logs[i], ns, group)) {
                rc = cli_fail("net enforce: ");
                goto out;
            }
            host_log = true;
        }
        mm_net_opts no = {.on_name = on_name, .ud = &fo[i], .learn = true,
                          .no_topology = true};
        no.scan.disabled = true;
        mm_net_new(&nets[i], &no);
        mm_net_capture_opts co = {.netns = ns, .filter = "port 53", .ring_bytes = 4u << 20};
        if (mm_net_capture_open(&caps[i], &co)) {
            rc = cli_fail("net enforce: ");
            goto out;
        }
        mm_net_source_add(nets[i], mm_net_capture_label(caps[i]), i + 1, NULL);
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fprintf(stderr, "%s: net enforce: following %zu workload%s\n", prog, n, n == 1 ? "" : "s");
    while (!stop_now) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (duration > 0 && el >= duration)
            break;
        struct pollfd pf[2 * 256];
        size_t np = 0;
        for (size_t i = 0; i < n && np + 2 <= 512; i++) {
            if (logs[i])
                pf[np++] = (struct pollfd){.fd = mm_netpol_log_fd(logs[i]), .events = POLLIN};
            if (caps[i])
                pf[np++] = (struct pollfd){.fd = mm_net_capture_fd(caps[i]), .events = POLLIN};
        }
        poll(pf, np, 100);
        for (size_t i = 0; i < n; i++) {
            if (caps[i]) {
                void *ud[2] = {nets[i], (void *)(uintptr_t)0};
                mm_net_capture_next(caps[i], 0, 0, on_pkt, ud);
            }
            if (logs[i]) {
                if (mm_netpol_log_read(logs[i], on_drop, &fo[i]) < 0)
                    fprintf(stderr, "%s: net enforce: %s\n", prog, mm_error_last());
            }
        }
    }
    size_t added = 0;
    for (size_t i = 0; i < n; i++)
        added += fo[i].sets_added;
    fprintf(stderr, "%s: net enforce: %zu dropped connection%s reported, %zu name set "
            "element%s added\n", prog, mm_findings_count(fl),
            mm_findings_count(fl) == 1 ? "" : "s", added, added == 1 ? "" : "s");
    if (findings_path) {
        char *j = mm_net_findings_json(fl);
        FILE *f = strcmp(findings_path, "-") ? fopen(findings_path, "w") : stdout;
        if (f) {
            fputs(j, f);
            fputc('\n', f);
            if (f != stdout)
                fclose(f);
        } else {
            fprintf(stderr, "%s: net enforce: %s: %s\n", prog, findings_path, strerror(errno));
            rc = EXIT_ERROR;
        }
        free(j);
    }
out:
    for (size_t i = 0; i < n; i++) {
        mm_netpol_log_free(logs[i]);
        mm_net_capture_free(caps[i]);
        mm_net_free(nets[i]);
        for (size_t k = 0; k < fo[i].nseen; k++)
            free(fo[i].seen[k]);
        free(fo[i].seen);
    }
    free(fo);
    free(logs);
    free(nets);
    free(caps);
    mm_alert_sink_free(sink);
    mm_findings_free(fl);
    mm_netpol_alerter_free(al);
    return rc;
}

int cmd_net_enforce(int argc, char **argv)
{
    if (argc >= 1 && !strcmp(argv[0], "policy"))
        return from_baseline(argc, argv);
    enum { O_POLICY = 1700, O_TARGET, O_HOST, O_DRY, O_GROUP, O_FOLLOW, O_DURATION,
           O_OUTPUT, O_FINDINGS, O_KILL, O_NETNS, O_FAIL_AT, O_STORAGE };
    static const struct option longopts[] = {
        {"policy", required_argument, NULL, O_POLICY},
        {"target", required_argument, NULL, O_TARGET},
        {"host", no_argument, NULL, O_HOST},
        {"dry-run", no_argument, NULL, O_DRY},
        {"nflog-group", required_argument, NULL, O_GROUP},
        {"follow", no_argument, NULL, O_FOLLOW},
        {"duration", required_argument, NULL, O_DURATION},
        {"output", required_argument, NULL, O_OUTPUT},
        {"findings", required_argument, NULL, O_FINDINGS},
        {"kill-switch", no_argument, NULL, O_KILL},
        {"netns", required_argument, NULL, O_NETNS},
        {"test-fail-at", required_argument, NULL, O_FAIL_AT},
        {"storage-root", required_argument, NULL, O_STORAGE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policy = NULL, *output = "stdout", *findings = NULL, *storage = NULL;
    bool host = false, dry = false, do_follow = false, kill = false;
    unsigned group = 100;
    double duration = 0;
    long fail_at = -1;
    char *extra[64];
    size_t nextra = 0;
    wls w = {0};
    int rc = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case O_POLICY: policy = optarg; break;
        case O_TARGET:
            if (parse_target(&w, optarg)) {
                wls_free(&w);
                return EXIT_ERROR;
            }
            break;
        case O_HOST: host = true; break;
        case O_DRY: dry = true; break;
        case O_GROUP: {
            char *end;
            unsigned long g = strtoul(optarg, &end, 10);
            if (*end || g == 0 || g > 65535) {
                fprintf(stderr, "%s: net enforce: --nflog-group: 1-65535\n", prog);
                wls_free(&w);
                return EXIT_ERROR;
            }
            group = (unsigned)g;
            break;
        }
        case O_FOLLOW: do_follow = true; break;
        case O_DURATION: duration = atof(optarg); break;
        case O_OUTPUT: output = optarg; break;
        case O_FINDINGS: findings = optarg; break;
        case O_KILL: kill = true; break;
        case O_NETNS:
            if (nextra < 64)
                extra[nextra++] = optarg;
            break;
        case O_FAIL_AT: fail_at = atol(optarg); break;
        case O_STORAGE: storage = optarg; break;
        case 'h': enforce_usage(stdout); wls_free(&w); return 0;
        default: enforce_usage(stderr); wls_free(&w); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: net enforce: unexpected '%s'\n", prog, argv[optind]);
        wls_free(&w);
        return EXIT_ERROR;
    }
    if (kill) {
        wls_free(&w);
        return kill_switch(extra, nextra, storage);
    }
    if (!policy) {
        fprintf(stderr, "%s: net enforce: --policy FILE is needed (or --kill-switch)\n", prog);
        wls_free(&w);
        return EXIT_ERROR;
    }
    mm_netpol *pol = NULL;
    mm_netpol_target *tg = NULL;
    size_t ntg = 0;
    if (mm_netpol_load_file(&pol, policy)) {
        wls_free(&w);
        return cli_fail("net enforce: ");
    }
    if (w.n == 0) {             /* every running container */
        mm_net_nslist nsl = {0};
        if (mm_net_discover(&nsl, NULL, storage, false)) {
            rc = cli_fail("net enforce: ");
            goto out;
        }
        for (size_t i = 0; i < nsl.count; i++) {
            const mm_container *ct = nsl.ns[i].container;
            if (!ct)
                continue;
            w.v = realloc(w.v, (w.n + 1) * sizeof *w.v);
            wl *x = &w.v[w.n++];
            memset(x, 0, sizeof *x);
            x->name = strdup(ct->name ? ct->name : ct->id);
            x->image = ct->image ? strdup(ct->image) : NULL;
            x->netns = strdup(nsl.ns[i].path);
        }
        mm_net_nslist_free(&nsl);
    }
    for (size_t i = 0; i < w.n; i++) {
        if (mm_netpol_netns_addrs(&w.v[i].addrs, &w.v[i].naddrs, w.v[i].netns)) {
            rc = cli_fail("net enforce: ");
            goto out;
        }
        w.v[i].pol = mm_netpol_select(pol, w.v[i].name, w.v[i].image,
                                      (const char *const *)w.v[i].labels, w.v[i].nlabels);
    }
    tg = calloc(w.n ? w.n : 1, sizeof *tg);
    for (size_t i = 0; i < w.n; i++) {
        wl *x = &w.v[i];
        if (x->pol < 0) {
            fprintf(stderr, "%s: net enforce: no policy matches %s: left alone\n", prog, x->name);
            continue;
        }
        mm_netpol_compile_opts co = {.where = host ? MM_NETPOL_HOST : MM_NETPOL_NETNS,
                                     .addrs = x->addrs, .naddrs = x->naddrs,
                                     .nflog_group = group, .resolve = resolve, .ud = &w};
        if (host) {
            char t[256];                     /* nft's limit on a table name */
            snprintf(t, sizeof t, "mamori_%s", x->name);
            for (char *p = t; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_'))
                    *p = '_';
            x->table = strdup(t);
        } else {
            x->table = mm_netpol_table(pol, (size_t)x->pol, MM_NETPOL_NETNS);
        }
        co.table = x->table;
        if (mm_netpol_compile(&x->ruleset, pol, (size_t)x->pol, &co)) {
            fprintf(stderr, "%s: net enforce: %s: %s\n", prog, x->name, mm_error_last());
            rc = EXIT_ERROR;
            goto out;
        }
        tg[ntg++] = (mm_netpol_target){.netns = host ? NULL : x->netns, .table = x->table,
                                       .ruleset = x->ruleset};
    }
    if (dry) {
        for (size_t i = 0; i < ntg; i++) {
            char *cur = NULL;
            if (mm_netpol_nft_list(&cur, tg[i].netns, tg[i].table)) {
                rc = cli_fail("net enforce: ");
                goto out;
            }
            char a[512], b[512];
            snprintf(a, sizeof a, "%s: table inet %s (live)",
                     tg[i].netns ? tg[i].netns : "host", tg[i].table);
            snprintf(b, sizeof b, "%s: table inet %s (policy)",
                     tg[i].netns ? tg[i].netns : "host", tg[i].table);
            char *d = mm_netpol_diff(cur ? cur : "", tg[i].ruleset, a, b);
            if (*d)
                fputs(d, stdout);
            else
                printf("%s: table inet %s: no change\n", tg[i].netns ? tg[i].netns : "host",
                       tg[i].table);
            free(d);
            free(cur);
        }
        if (mm_netpol_apply(tg, ntg, true, -1)) {       /* the kernel checks every table */
            rc = cli_fail("net enforce: --dry-run: ");
            goto out;
        }
        goto out;
    }
    if (mm_netpol_apply(tg, ntg, false, fail_at)) {
        rc = cli_fail("net enforce: ");
        goto out;
    }
    for (size_t i = 0, k = 0; i < w.n; i++)
        if (w.v[i].pol >= 0)
            fprintf(stderr, "%s: net enforce: policy %s applied to %s (%s, table inet %s)\n",
                    prog, mm_netpol_name(pol, (size_t)w.v[i].pol), w.v[i].name,
                    tg[k++].netns ? w.v[i].netns : "host", w.v[i].table);
    if (do_follow)
        rc = follow_loop(pol, &w, host, group, duration, output, findings);
out:
    mm_netpol_targets_clear(tg, ntg);
    free(tg);
    mm_netpol_free(pol);
    wls_free(&w);
    return rc;
}
