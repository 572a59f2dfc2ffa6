/*
 * cmd_waf.c - `mamori waf`: the web application firewall (docs/waf.md).
 * Detect mode reads packets (a pcap file, an interface or a network
 * namespace), reassembles TCP, checks every HTTP/1 request against the
 * OWASP Core Rule Set and prints each attack as a Falco JSON alert; inline
 * mode (--listen, --upstream) is a reverse proxy that answers 403 to what
 * the rules block.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>

#include "mamori/net.h"
#include "mamori/netpol.h"
#include "mamori/waf.h"
#include "cli.h"

static void waf_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori waf -r FILE | -i IF | --netns PATH | --containers [options]   detect mode\n"
"       mamori waf --listen ADDR --upstream URL [options]     inline reverse proxy\n"
"\n"
"  -r, --read FILE         pcap or pcapng file\n"
"  -i, --interface IF      live capture on IF\n"
"      --netns PATH        live capture inside a network namespace\n"
"      --containers        live capture inside every running container's namespace\n"
"                          (alerts name the container)\n"
"      --storage-root DIR  containers/storage of podman/CRI-O, to name containers\n"
"      --filter EXPR       BPF filter (default: tcp)\n"
"      --listen ADDR       inline: listen on HOST:PORT\n"
"      --upstream URL      inline: the app (http://HOST:PORT)\n"
"      --cert FILE --key FILE  inline: terminate TLS with this pair\n"
"      --paranoia N        CRS paranoia level 1-4 (default 1)\n"
"      --threshold N       inbound anomaly score that blocks (default 5)\n"
"      --rules FILE        more SecRules (exclusions) after the CRS\n"
"      --crs-setup FILE    default /etc/modsecurity/crs/crs-setup.conf\n"
"      --crs-rules DIR     default /usr/share/modsecurity-crs/rules\n"
"      --detect-only       inline: report, never block\n"
"      --block-offenders N inline: after N attacks from one client, drop its packets to\n"
"                          the proxy's port (nftables table mamori_waf) for --block-for\n"
"      --block-for S       seconds a repeat offender stays blocked (default 600)\n"
"      --duration S        stop after S seconds (live capture, proxy)\n"
"      --output SINK       alerts: stdout (default), stderr, file:PATH, syslog, URL, none\n"
"      --findings FILE     findings as a JSON array at the end\n"
"      --exit-code N       exit N when an attack was seen\n"
"  -q, --quiet             no statistics on standard error\n");
}

typedef struct wctx {
    mm_alert_sink *sink;
    mm_findings *findings;
    pthread_mutex_t mu;
    unsigned long attacks;
} wctx;

static void on_alert(void *ud, const mm_alert *a, const mm_finding *f)
{
    wctx *c = ud;
    pthread_mutex_lock(&c->mu);
    c->attacks++;
    if (c->sink)
        mm_alert_sink_write(c->sink, a);
    if (c->findings && mm_findings_count(c->findings) < 100000)
        mm_findings_add(c->findings, f);
    pthread_mutex_unlock(&c->mu);
}

#define MAX_OFFENDERS 65536

typedef struct pctx {
    wctx *c;
    char hostname[256];
    unsigned block_after, block_for;
    pthread_mutex_t mu;
    struct { char ip[64]; unsigned n; } *off;   /* attacks per client */
    size_t noff;
} pctx;

/* A repeat offender: its address into the set the proxy's port drops. */
static void offender(pctx *p, const char *ip)
{
    mm_ipaddr a;
    if (!p->block_after || !ip || mm_net_addr_parse(&a, ip) != 0)
        return;
    pthread_mutex_lock(&p->mu);
    size_t i = 0;
    while (i < p->noff && strcmp(p->off[i].ip, ip))
        i++;
    if (i == p->noff && p->noff < MAX_OFFENDERS) {
        p->off = realloc(p->off, (p->noff + 1) * sizeof *p->off);
        snprintf(p->off[p->noff].ip, sizeof p->off[p->noff].ip, "%s", ip);
        p->off[p->noff++].n = 0;
    }
    bool now = i < p->noff && ++p->off[i].n == p->block_after;
    pthread_mutex_unlock(&p->mu);
    if (!now)
        return;
    if (mm_netpol_set_add(NULL, "mamori_waf", a.family == AF_INET6 ? "offenders_v6" :
                          "offenders_v4", &a, p->block_for))
        fprintf(stderr, "%s: waf: blocking %s: %s\n", prog, ip, mm_error_last());
    else
        fprintf(stderr, "%s: waf: %s blocked at the network layer for %u s after %u attacks\n",
                prog, ip, p->block_for, p->block_after);
}

static void on_block(void *ud, const mm_waf_request *r, const mm_waf_verdict *v)
{
    pctx *p = ud;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    mm_waf_report(p->hostname, r, v, NULL, (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec,
                  on_alert, p->c);
    offender(p, r->client_ip);
}

/* table inet mamori_waf: packets from the offender sets to the proxy's port
 * are dropped (one transaction; the kill switch removes it too). */
static int offender_table(unsigned port, bool create)
{
    char *cmds = create ? mm_netpol_offender_table("mamori_waf", (uint16_t)port) : NULL;
    int rc = mm_netpol_nft_run(NULL, cmds ? cmds : "table inet mamori_waf\n"
                               "delete table inet mamori_waf\n", false);
    free(cmds);
    return rc;
}

static volatile sig_atomic_t stop_now;
static void on_signal(int s) { (void)s; stop_now = 1; }

typedef struct feed_ctx {
    mm_net *n;
    uint32_t src;
} feed_ctx;

static void on_pkt(void *ud, int lt, int64_t ts, const uint8_t *d, size_t cl, size_t wl)
{
    feed_ctx *f = ud;
    mm_net_feed(f->n, f->src, lt, ts, d, cl, wl);
}

int cmd_waf(int argc, char **argv)
{
    enum { O_NETNS = 1800, O_FILTER, O_LISTEN, O_UPSTREAM, O_CERT, O_KEY, O_PARANOIA,
           O_THRESHOLD, O_RULES, O_SETUP, O_CRS, O_DETECT, O_DURATION, O_OUTPUT,
           O_FINDINGS, O_EXIT, O_BLOCK_AFTER, O_BLOCK_FOR, O_CONTAINERS, O_STORAGE };
    static const struct option longopts[] = {
        {"read", required_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'},
        {"netns", required_argument, NULL, O_NETNS},
        {"filter", required_argument, NULL, O_FILTER},
        {"listen", required_argument, NULL, O_LISTEN},
        {"upstream", required_argument, NULL, O_UPSTREAM},
        {"cert", required_argument, NULL, O_CERT},
        {"key", required_argument, NULL, O_KEY},
        {"paranoia", required_argument, NULL, O_PARANOIA},
        {"threshold", required_argument, NULL, O_THRESHOLD},
        {"rules", required_argument, NULL, O_RULES},
        {"crs-setup", required_argument, NULL, O_SETUP},
        {"crs-rules", required_argument, NULL, O_CRS},
        {"detect-only", no_argument, NULL, O_DETECT},
        {"duration", required_argument, NULL, O_DURATION},
        {"output", required_argument, NULL, O_OUTPUT},
        {"findings", required_argument, NULL, O_FINDINGS},
        {"exit-code", required_argument, NULL, O_EXIT},
        {"block-offenders", required_argument, NULL, O_BLOCK_AFTER},
        {"block-for", required_argument, NULL, O_BLOCK_FOR},
        {"containers", no_argument, NULL, O_CONTAINERS},
        {"storage-root", required_argument, NULL, O_STORAGE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *iface = NULL, *netns = NULL, *filter = "tcp", *listen_on = NULL,
               *upstream = NULL, *cert = NULL, *key = NULL, *output = "stdout",
               *findings = NULL;
    mm_waf_opts wo = {0};
    double duration = 0;
    int exit_code = 0, c;
    unsigned block_after = 0, block_for = 600;
    bool containers = false;
    const char *storage = NULL;
    bool quiet = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:i:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r': file = optarg; break;
        case 'i': iface = optarg; break;
        case O_NETNS: netns = optarg; break;
        case O_FILTER: filter = optarg; break;
        case O_LISTEN: listen_on = optarg; break;
        case O_UPSTREAM: upstream = optarg; break;
        case O_CERT: cert = optarg; break;
        case O_KEY: key = optarg; break;
        case O_PARANOIA:
            wo.paranoia = atoi(optarg);
            if (wo.paranoia < 1 || wo.paranoia > 4) {
                fprintf(stderr, "%s: waf: --paranoia: 1 to 4\n", prog);
                return EXIT_ERROR;
            }
            break;
        case O_THRESHOLD:
            wo.threshold = atoi(optarg);
            if (wo.threshold < 1) {
                fprintf(stderr, "%s: waf: --threshold: a positive score\n", prog);
                return EXIT_ERROR;
            }
            break;
        case O_RULES: wo.extra_rules = optarg; break;
        case O_SETUP: wo.crs_setup = optarg; break;
        case O_CRS: wo.crs_rules = optarg; break;
        case O_DETECT: wo.detect_only = true; break;
        case O_DURATION: duration = atof(optarg); break;
        case O_OUTPUT: output = optarg; break;
        case O_FINDINGS: findings = optarg; break;
        case O_EXIT: exit_code = atoi(optarg); break;
        case O_BLOCK_AFTER: block_after = (unsigned)atoi(optarg); break;
        case O_BLOCK_FOR: block_for = (unsigned)atoi(optarg); break;
        case O_CONTAINERS: containers = true; break;
        case O_STORAGE: storage = optarg; break;
        case 'q': quiet = true; break;
        case 'h': waf_usage(stdout); return 0;
        default: waf_usage(stderr); return EXIT_ERROR;
        }
    }
    bool inline_mode = listen_on || upstream;
    if (optind < argc || (inline_mode && (!listen_on || !upstream)) ||
        (!inline_mode && !!file + !!iface + !!netns + containers == 0) ||
        (file && (iface || netns || containers)) || (!!cert != !!key)) {
        waf_usage(stderr);
        return EXIT_ERROR;
    }
    if (!inline_mode)
        wo.detect_only = true;
    wctx cx = {.sink = NULL};
    pthread_mutex_init(&cx.mu, NULL);
    mm_findings_new(&cx.findings);
    mm_waf *w = NULL;
    int rc = 0;
    if (strcmp(output, "none") && mm_alert_sink_open(&cx.sink, output)) {
        rc = cli_fail("waf: ");
        goto out;
    }
    if (mm_waf_new(&w, &wo)) {
        rc = cli_fail("waf: ");
        goto out;
    }
    if (!quiet)
        fprintf(stderr, "%s: waf: %d rules (OWASP CRS, paranoia level %d)\n", prog,
                mm_waf_rule_count(w), wo.paranoia ? wo.paranoia : 1);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    if (inline_mode) {
        pctx pc = {.c = &cx, .block_after = block_after, .block_for = block_for};
        pthread_mutex_init(&pc.mu, NULL);
        if (gethostname(pc.hostname, sizeof pc.hostname - 1) != 0)
            pc.hostname[0] = 0;
        mm_waf_proxy_opts po = {.listen = listen_on, .upstream = upstream, .cert_file = cert,
                                .key_file = key, .on_block = on_block, .ud = &pc};
        mm_waf_proxy *p = NULL;
        if (mm_waf_proxy_start(&p, w, &po)) {
            rc = cli_fail("waf: ");
            goto out;
        }
        if (block_after && offender_table(mm_waf_proxy_port(p), true)) {
            rc = cli_fail("waf: --block-offenders: ");
            mm_waf_proxy_stop(p);
            pthread_mutex_destroy(&pc.mu);
            goto out;
        }
        fprintf(stderr, "%s: waf: listening on port %u, upstream %s\n", prog,
                mm_waf_proxy_port(p), upstream);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!stop_now) {
            usleep(100000);
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (duration > 0 && (double)(t1.tv_sec - t0.tv_sec) +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
                break;
        }
        mm_waf_proxy_stop(p);
        if (block_after && offender_table(0, false))
            fprintf(stderr, "%s: waf: removing table mamori_waf: %s\n", prog, mm_error_last());
        free(pc.off);
        pthread_mutex_destroy(&pc.mu);
    } else {
        mm_waf_detect *d = mm_waf_detect_new(w, NULL, on_alert, &cx);
        mm_net_opts no = {.on_stream = mm_waf_detect_stream, .on_flow = mm_waf_detect_flow,
                          .ud = d, .learn = true, .stream_depth = 1u << 20,
                          .no_topology = true};
        no.scan.disabled = true;
        mm_net *n = NULL;
        mm_net_capture *caps[256];
        feed_ctx fcs[256];
        size_t ncap = 0;
        mm_net_nslist nsl = {0};
        if (mm_net_new(&n, &no)) {
            rc = cli_fail("waf: ");
            mm_waf_detect_free(d);
            goto out;
        }
        if (file || iface || netns) {
            mm_net_capture_opts co = {.file = file, .iface = iface, .netns = netns,
                                      .filter = filter};
            if (mm_net_capture_open(&caps[0], &co) == 0) {
                fcs[0] = (feed_ctx){.n = n};
                fcs[0].src = mm_net_source_add(n, mm_net_capture_label(caps[0]), 0, NULL);
                ncap = 1;
            } else {
                rc = cli_fail("waf: ");
            }
        }
        if (!rc && containers) {
            /* every running container's namespace: a capture each, its
             * addresses owned by the container (alerts name it) */
            if (mm_net_discover(&nsl, NULL, storage, false))
                rc = cli_fail("waf: ");
            for (size_t i = 0; !rc && i < nsl.count && ncap < 256; i++) {
                mm_net_ns *ns = &nsl.ns[i];
                if (!ns->container)
                    continue;
                for (size_t k = 0; k < ns->naddrs; k++)
                    mm_net_addr_owner(n, ns->inode, &ns->addrs[k], ns->container);
                mm_net_capture_opts co = {.netns = ns->path, .filter = filter,
                                          .ring_bytes = 8u << 20};
                if (mm_net_capture_open(&caps[ncap], &co)) {
                    rc = cli_fail("waf: ");
                    break;
                }
                fcs[ncap] = (feed_ctx){.n = n};
                fcs[ncap].src = mm_net_source_add(n, mm_net_capture_label(caps[ncap]),
                                                  ns->inode, ns->container);
                ncap++;
            }
            if (!rc && !quiet)
                fprintf(stderr, "%s: waf: watching %zu container namespace%s\n", prog,
                        ncap - (file || iface || netns ? 1 : 0),
                        ncap - (file || iface || netns ? 1 : 0) == 1 ? "" : "s");
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (!rc && !stop_now && ncap) {
            if (file) {
                int r = mm_net_capture_next(caps[0], 0, 100, on_pkt, &fcs[0]);
                if (r == MM_ENOTFOUND)
                    break;
                if (r < 0)
                    rc = cli_fail("waf: ");
                continue;
            }
            struct pollfd pf[256];
            for (size_t i = 0; i < ncap; i++)
                pf[i] = (struct pollfd){.fd = mm_net_capture_fd(caps[i]), .events = POLLIN};
            poll(pf, ncap, 100);
            for (size_t i = 0; i < ncap && !rc; i++)
                if (mm_net_capture_next(caps[i], 0, 0, on_pkt, &fcs[i]) < 0)
                    rc = cli_fail("waf: ");
            clock_gettime(CLOCK_MONOTONIC, &t1);
            if (duration > 0 && (double)(t1.tv_sec - t0.tv_sec) +
                (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 >= duration)
                break;
            clock_gettime(CLOCK_REALTIME, &t1);
            mm_net_advance(n, (int64_t)t1.tv_sec * 1000000000LL + t1.tv_nsec);
        }
        mm_net_finish(n);
        mm_waf_detect_stats st;
        mm_waf_detect_stats_get(d, &st);
        if (!quiet)
            fprintf(stderr, "%s: waf: %llu requests, %llu attacks, %llu streams not HTTP/1\n",
                    prog, (unsigned long long)st.requests, (unsigned long long)st.attacks,
                    (unsigned long long)st.streams_not_http);
        for (size_t i = 0; i < ncap; i++)
            mm_net_capture_free(caps[i]);
        mm_net_free(n);
        mm_net_nslist_free(&nsl);
        mm_waf_detect_free(d);
    }
    if (!rc && findings) {
        char *j = mm_net_findings_json(cx.findings);
        FILE *f = strcmp(findings, "-") ? fopen(findings, "w") : stdout;
        if (!f) {
            fprintf(stderr, "%s: waf: %s: %s\n", prog, findings, strerror(errno));
            rc = EXIT_ERROR;
        } else {
            fputs(j, f);
            fputc('\n', f);
            if (f != stdout)
                fclose(f);
        }
        free(j);
    }
    if (!rc && exit_code && cx.attacks)
        rc = exit_code;
out:
    mm_waf_free(w);
    mm_alert_sink_free(cx.sink);
    mm_findings_free(cx.findings);
    pthread_mutex_destroy(&cx.mu);
    return rc;
}
