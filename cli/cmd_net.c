/*
 * cmd_net.c - `mamori net`: the network sensor (docs/net.md).  Reads a
 * pcap/pcapng file or captures live on interfaces, in a network namespace
 * or in every running container's namespace; prints detections as Falco
 * JSON lines (or to another alert sink), and writes the flow log, the
 * findings and the service graph (JSON or DOT; a learned baseline) on
 * request.
 */
#include <errno.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "mamori/net.h"
#include "cli.h"

static void net_usage(FILE *f)
{
    fprintf(f,
"Usage: mamori net [SOURCE] [options]\n"
"       mamori net topology -r FILE [--format json|dot]   the service graph only\n"
"       mamori net enforce --policy FILE [--dry-run]      segmentation (enforce --help)\n"
"\n"
"Sources (one file, or any mix of live sources):\n"
"  -r, --read FILE           pcap or pcapng file (\"-\" = stdin)\n"
"  -i, --interface IF        live capture on IF (repeatable; \"any\" = all)\n"
"      --netns PATH          capture inside a network namespace (/proc/PID/ns/net,\n"
"                            /run/netns/NAME), all its interfaces unless -i\n"
"      --containers          capture inside every running container's namespace\n"
"      --engine E            auto (default), pcap (libpcap), afpacket (TPACKET_V3)\n"
"      --filter EXPR         BPF filter (tcpdump syntax)\n"
"      --snaplen N           bytes kept per packet (default 262144)\n"
"      --buffer SZ           kernel ring per capture (default 64M)\n"
"      --duration S          stop after S seconds (live)\n"
"      --count N             stop after N packets\n"
"Detections:\n"
"      --blocklist FILE      listed IPs/CIDRs/domains: plain, CSV or STIX 2.1 (repeatable,\n"
"                            reloaded when a file changes)\n"
"      --baseline FILE       a learned service graph: flows and listening ports outside\n"
"                            it are reported\n"
"      --learn               learn (no baseline or listening-port findings); write the\n"
"                            graph with --baseline-out or --topology\n"
"      --baseline-out FILE   write the observed graph as a baseline (JSON)\n"
"      --profile FILE        a runtime profile (mamori agent --learn): its images'\n"
"                            listen entries are the ports their containers may open\n"
"      --expose WORKLOAD=PORT[/PROTO],...  ports a workload (container name, image,\n"
"                            address) may listen on, as EXPOSE (repeatable)\n"
"      --storage-root DIR    containers/storage of podman/CRI-O for EXPOSE of running\n"
"                            containers (default /var/lib/containers/storage)\n"
"      --scan-ports N --scan-hosts N --scan-window S          fast scans (15, 15, 60)\n"
"      --scan-slow-ports N --scan-slow-hosts N --scan-slow-window S  slow (6, 8, 7200)\n"
"      --probe-timeout S     a probe without answer counts after S seconds (3)\n"
"      --no-scan             no port-scan detection\n"
"      --max-flows N --reasm-flow-max SZ --reasm-total-max SZ --stream-depth SZ\n"
"Output:\n"
"      --output SINK         alerts as Falco JSON lines: stdout (default), stderr,\n"
"                            file:PATH, syslog, http(s)://URL, none\n"
"      --flows FILE          flow log, JSON lines (\"-\" = stdout)\n"
"      --topology FILE       the service graph (\"-\" = stdout)\n"
"      --topology-format F   json (default) or dot\n"
"      --findings FILE       findings as a JSON array (\"-\" = stdout)\n"
"      --exit-code N         exit N when anything was detected\n"
"      --hostname NAME       hostname in alerts\n"
"  -q, --quiet               no statistics on standard error\n");
}

enum {
    O_NETNS = 1500, O_CONTAINERS, O_ENGINE, O_FILTER, O_SNAPLEN, O_BUFFER, O_DURATION,
    O_COUNT, O_BLOCKLIST, O_BASELINE, O_LEARN, O_BASELINE_OUT, O_EXPOSE, O_STORAGE,
    O_SCAN_PORTS, O_SCAN_HOSTS, O_SCAN_WINDOW, O_SLOW_PORTS, O_SLOW_HOSTS, O_SLOW_WINDOW,
    O_PROBE_TIMEOUT, O_NO_SCAN, O_MAX_FLOWS, O_REASM_FLOW, O_REASM_TOTAL, O_DEPTH,
    O_OUTPUT, O_FLOWS, O_TOPOLOGY, O_TOPO_FORMAT, O_FINDINGS, O_EXIT_CODE, O_HOSTNAME,
    O_PROFILE,
};

typedef struct netcli {
    mm_net *n;
    mm_alert_sink *sink;
    FILE *flows;
    uint64_t alerts, packets, max_packets;
    uint32_t source;
    bool stop;
} netcli;

static volatile sig_atomic_t g_stop;
static void on_signal(int s) { (void)s; g_stop = 1; }

static void on_alert(void *ud, const mm_alert *a, const mm_finding *f)
{
    netcli *c = ud;
    (void)f;
    c->alerts++;
    if (c->sink && mm_alert_sink_write(c->sink, a))
        fprintf(stderr, "%s: net: %s\n", prog, mm_error_last());
}

static void on_flow(void *ud, const mm_net_flow *f)
{
    netcli *c = ud;
    if (!c->flows)
        return;
    char *j = mm_net_flow_json(f);
    if (j) {
        fputs(j, c->flows);
        fputc('\n', c->flows);
        free(j);
    }
}

static void on_pkt(void *ud, int linktype, int64_t ts, const uint8_t *d, size_t cap, size_t wire)
{
    netcli *c = ud;
    mm_net_feed(c->n, c->source, linktype, ts, d, cap, wire);
    c->packets++;
}

static int parse_uint(const char *opt, const char *s, unsigned long max, unsigned long *out)
{
    char *e;
    errno = 0;
    unsigned long v = strtoul(s, &e, 10);
    if (errno || e == s || *e || v == 0 || v > max) {
        fprintf(stderr, "%s: net: %s wants a number from 1 to %lu, not \"%s\"\n", prog, opt, max, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_expose(mm_net *n, const char *spec)
{
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec || !eq[1]) {
        fprintf(stderr, "%s: net: --expose wants WORKLOAD=PORT[/PROTO],...\n", prog);
        return -1;
    }
    char *w = strndup(spec, (size_t)(eq - spec));
    char *list = strdup(eq + 1), *sp;
    int rc = 0;
    for (char *t = strtok_r(list, ",", &sp); t; t = strtok_r(NULL, ",", &sp)) {
        char *e;
        unsigned long p = strtoul(t, &e, 10);
        uint8_t proto = IPPROTO_TCP;
        if (!strcmp(e, "/udp"))
            proto = IPPROTO_UDP;
        else if (*e && strcmp(e, "/tcp"))
            p = 0;
        if (!p || p > 65535) {
            fprintf(stderr, "%s: net: --expose: \"%s\" is not PORT[/tcp|/udp]\n", prog, t);
            rc = -1;
            break;
        }
        mm_net_expose(n, w, proto, (uint16_t)p);
    }
    free(w);
    free(list);
    return rc;
}

static FILE *open_out(const char *path)
{
    if (!strcmp(path, "-"))
        return stdout;
    FILE *f = fopen(path, "w");
    if (!f)
        fprintf(stderr, "%s: net: %s: %s\n", prog, path, strerror(errno));
    return f;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = open_out(path);
    if (!f)
        return -1;
    fputs(text, f);
    if (text[0] && text[strlen(text) - 1] != '\n')
        fputc('\n', f);
    int rc = fflush(f) == 0 ? 0 : -1;
    if (f != stdout)
        rc |= fclose(f);
    return rc;
}

static uint64_t self_netns(void)
{
    struct stat st;
    return stat("/proc/self/ns/net", &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static int64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

typedef struct live_src {
    mm_net_capture *cap;
    uint32_t source;
} live_src;

int cmd_net(int argc, char **argv)
{
    static const struct option lo[] = {
        {"read", required_argument, NULL, 'r'},
        {"interface", required_argument, NULL, 'i'},
        {"netns", required_argument, NULL, O_NETNS},
        {"containers", no_argument, NULL, O_CONTAINERS},
        {"engine", required_argument, NULL, O_ENGINE},
        {"filter", required_argument, NULL, O_FILTER},
        {"snaplen", required_argument, NULL, O_SNAPLEN},
        {"buffer", required_argument, NULL, O_BUFFER},
        {"duration", required_argument, NULL, O_DURATION},
        {"count", required_argument, NULL, O_COUNT},
        {"blocklist", required_argument, NULL, O_BLOCKLIST},
        {"baseline", required_argument, NULL, O_BASELINE},
        {"learn", no_argument, NULL, O_LEARN},
        {"baseline-out", required_argument, NULL, O_BASELINE_OUT},
        {"expose", required_argument, NULL, O_EXPOSE},
        {"profile", required_argument, NULL, O_PROFILE},
        {"storage-root", required_argument, NULL, O_STORAGE},
        {"scan-ports", required_argument, NULL, O_SCAN_PORTS},
        {"scan-hosts", required_argument, NULL, O_SCAN_HOSTS},
        {"scan-window", required_argument, NULL, O_SCAN_WINDOW},
        {"scan-slow-ports", required_argument, NULL, O_SLOW_PORTS},
        {"scan-slow-hosts", required_argument, NULL, O_SLOW_HOSTS},
        {"scan-slow-window", required_argument, NULL, O_SLOW_WINDOW},
        {"probe-timeout", required_argument, NULL, O_PROBE_TIMEOUT},
        {"no-scan", no_argument, NULL, O_NO_SCAN},
        {"max-flows", required_argument, NULL, O_MAX_FLOWS},
        {"reasm-flow-max", required_argument, NULL, O_REASM_FLOW},
        {"reasm-total-max", required_argument, NULL, O_REASM_TOTAL},
        {"stream-depth", required_argument, NULL, O_DEPTH},
        {"output", required_argument, NULL, O_OUTPUT},
        {"flows", required_argument, NULL, O_FLOWS},
        {"topology", required_argument, NULL, O_TOPOLOGY},
        {"topology-format", required_argument, NULL, O_TOPO_FORMAT},
        {"format", required_argument, NULL, O_TOPO_FORMAT},
        {"findings", required_argument, NULL, O_FINDINGS},
        {"exit-code", required_argument, NULL, O_EXIT_CODE},
        {"hostname", required_argument, NULL, O_HOSTNAME},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (argc >= 2 && (!strcmp(argv[1], "enforce") || !strcmp(argv[1], "policy")))
        return cmd_net_enforce(argc - 1, argv + 1);      /* cmd_netpol.c */
    bool topo_only = argc >= 2 && !strcmp(argv[1], "topology");
    if (topo_only) {
        argc--;
        argv++;
    }
    const char *file = NULL, *netns = NULL, *filter = NULL, *baseline = NULL,
               *baseline_out = NULL, *output = topo_only ? "none" : "stdout", *flows = NULL,
               *topology = topo_only ? "-" : NULL, *findings = NULL, *storage = NULL,
               *profile_path = NULL;
    const char *ifaces[32], *blocklists[32], *exposes[64];
    size_t nif = 0, nbl = 0, nexp = 0;
    bool containers = false, quiet = false, dot = false;
    mm_net_engine engine = MM_NET_ENGINE_AUTO;
    unsigned long snaplen = 0, duration = 0, count = 0, exit_code = 0, v;
    uint64_t buffer = 0, sz;
    mm_net_opts o = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "r:i:qh", lo, NULL)) != -1) {
        switch (c) {
        case 'r': file = optarg; break;
        case 'i':
            if (nif == 32) { fprintf(stderr, "%s: net: at most 32 interfaces\n", prog); return EXIT_ERROR; }
            ifaces[nif++] = optarg;
            break;
        case O_NETNS: netns = optarg; break;
        case O_CONTAINERS: containers = true; break;
        case O_ENGINE:
            if (!strcmp(optarg, "auto")) engine = MM_NET_ENGINE_AUTO;
            else if (!strcmp(optarg, "pcap")) engine = MM_NET_ENGINE_PCAP;
            else if (!strcmp(optarg, "afpacket")) engine = MM_NET_ENGINE_AFPACKET;
            else { fprintf(stderr, "%s: net: --engine is auto, pcap or afpacket\n", prog); return EXIT_ERROR; }
            break;
        case O_FILTER: filter = optarg; break;
        case O_SNAPLEN: if (parse_uint("--snaplen", optarg, 262144, &snaplen)) return EXIT_ERROR; break;
        case O_BUFFER:
            if (cli_parse_size(optarg, &buffer) || buffer > (4ull << 30)) {
                fprintf(stderr, "%s: net: --buffer: bad size \"%s\"\n", prog, optarg);
                return EXIT_ERROR;
            }
            break;
        case O_DURATION: if (parse_uint("--duration", optarg, 86400 * 365, &duration)) return EXIT_ERROR; break;
        case O_COUNT: if (parse_uint("--count", optarg, ~0ul, &count)) return EXIT_ERROR; break;
        case O_BLOCKLIST:
            if (nbl == 32) { fprintf(stderr, "%s: net: at most 32 blocklists\n", prog); return EXIT_ERROR; }
            blocklists[nbl++] = optarg;
            break;
        case O_BASELINE: baseline = optarg; break;
        case O_LEARN: o.learn = true; break;
        case O_BASELINE_OUT: baseline_out = optarg; break;
        case O_EXPOSE:
            if (nexp == 64) { fprintf(stderr, "%s: net: at most 64 --expose\n", prog); return EXIT_ERROR; }
            exposes[nexp++] = optarg;
            break;
        case O_STORAGE: storage = optarg; break;
        case O_PROFILE: profile_path = optarg; break;
#define U(opt, field, max) case opt: if (parse_uint("--" #field, optarg, max, &v)) return EXIT_ERROR; field = (unsigned)v; break;
        U(O_SCAN_PORTS, o.scan.ports, 64)
        U(O_SCAN_HOSTS, o.scan.hosts, 64)
        U(O_SCAN_WINDOW, o.scan.window_s, 86400)
        U(O_SLOW_PORTS, o.scan.slow_ports, 64)
        U(O_SLOW_HOSTS, o.scan.slow_hosts, 64)
        U(O_SLOW_WINDOW, o.scan.slow_window_s, 7 * 86400)
        U(O_PROBE_TIMEOUT, o.scan.probe_timeout_s, 3600)
#undef U
        case O_NO_SCAN: o.scan.disabled = true; break;
        case O_MAX_FLOWS: if (parse_uint("--max-flows", optarg, 1ul << 30, &v)) return EXIT_ERROR; o.max_flows = v; break;
        case O_REASM_FLOW:
        case O_REASM_TOTAL:
        case O_DEPTH:
            if (cli_parse_size(optarg, &sz) || sz > (16ull << 30)) {
                fprintf(stderr, "%s: net: bad size \"%s\"\n", prog, optarg);
                return EXIT_ERROR;
            }
            if (c == O_REASM_FLOW) o.reasm_flow_max = sz;
            else if (c == O_REASM_TOTAL) o.reasm_total_max = sz;
            else o.stream_depth = sz;
            break;
        case O_OUTPUT: output = optarg; break;
        case O_FLOWS: flows = optarg; break;
        case O_TOPOLOGY: topology = optarg; break;
        case O_TOPO_FORMAT:
            if (!strcmp(optarg, "dot")) dot = true;
            else if (!strcmp(optarg, "json")) dot = false;
            else { fprintf(stderr, "%s: net: the graph format is json or dot\n", prog); return EXIT_ERROR; }
            break;
        case O_FINDINGS: findings = optarg; break;
        case O_EXIT_CODE: if (parse_uint("--exit-code", optarg, 255, &exit_code)) return EXIT_ERROR; break;
        case O_HOSTNAME: o.hostname = optarg; break;
        case 'q': quiet = true; break;
        case 'h': net_usage(stdout); return 0;
        default: net_usage(stderr); return EXIT_ERROR;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: net: unexpected argument \"%s\"\n", prog, argv[optind]);
        return EXIT_ERROR;
    }
    bool live = nif || netns || containers;
    if (!file == !live) {
        fprintf(stderr, "%s: net: give either --read FILE or live sources (-i, --netns, --containers)\n", prog);
        return EXIT_ERROR;
    }
    if (dot && baseline_out) {
        fprintf(stderr, "%s: net: a baseline is JSON (--baseline-out); use --topology for DOT\n", prog);
        return EXIT_ERROR;
    }
#ifdef __GLIBC__
    /* A file read is one batch: memory freed after the baseline is loaded
     * (its text and tokens) is kept for the flows and buffers that follow
     * instead of being returned to the kernel and faulted in again page by
     * page (4,000 page faults fewer on the bench file).  Not for live
     * capture, which runs for days and should give memory back. */
    if (file) {
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 1 << 30);
    }
#endif

    netcli cl = {0};
    int rc = EXIT_ERROR;
    mm_net_blocklist_watch *bw = NULL;
    mm_net_topo *base = NULL;
    mm_profile *prof = NULL;
    mm_net_nslist nsl = {0};
    live_src *srcs = NULL;
    size_t nsrcs = 0;
    mm_net_capture *fcap = NULL;
    o.on_alert = on_alert;
    o.on_flow = on_flow;
    o.ud = &cl;
    if (nbl && mm_net_blocklist_watch_new(&bw, blocklists, nbl))
        return cli_fail("net: ");
    if (baseline && mm_net_topo_load_file(&base, baseline)) {
        mm_net_blocklist_watch_free(bw);
        return cli_fail("net: baseline: ");
    }
    if (profile_path && mm_profile_load_file(&prof, profile_path)) {
        rc = cli_fail("net: profile: ");
        goto out;
    }
    if (strcmp(output, "none") && mm_alert_sink_open(&cl.sink, output)) {
        rc = cli_fail("net: ");
        goto out;
    }
    if (flows && !(cl.flows = open_out(flows)))
        goto out;
    /* the service graph costs a tenth of the time; built when written */
    o.no_topology = !topology && !baseline_out;
    mm_net_new(&cl.n, &o);
    if (bw) {
        mm_net_set_blocklist(cl.n, mm_net_blocklist_watch_get(bw));
        const char *why;
        size_t sk = mm_net_blocklist_skipped(mm_net_blocklist_watch_get(bw), &why);
        if (!quiet)
            fprintf(stderr, "%s: net: blocklist: %zu entries%s%s%s\n", prog,
                    mm_net_blocklist_count(mm_net_blocklist_watch_get(bw)),
                    sk ? ", skipped: " : "", sk ? why : "", sk ? " ..." : "");
    }
    if (base)
        mm_net_set_baseline(cl.n, base);
    if (prof)
        mm_net_set_profile(cl.n, prof);
    for (size_t i = 0; i < nexp; i++)
        if (parse_expose(cl.n, exposes[i]))
            goto out;
    cl.max_packets = count;

    mm_net_capture_opts co = {.filter = filter, .engine = engine, .snaplen = (unsigned)snaplen,
                              .ring_bytes = buffer};
    if (file) {
        co.file = file;
        if (mm_net_capture_open(&fcap, &co)) {
            rc = cli_fail("net: ");
            goto out;
        }
        cl.source = mm_net_source_add(cl.n, file, 0, NULL);
        for (;;) {
            /* straight into the engine, and --count exactly */
            int max = count && count - cl.packets < 4096 ? (int)(count - cl.packets) : 4096;
            int r = mm_net_capture_feed(fcap, max, 0, cl.n, cl.source);
            if (r == MM_ENOTFOUND)
                break;
            if (r < 0) {
                rc = cli_fail("net: ");
                goto out;
            }
            cl.packets += (uint64_t)r;
            if (count && cl.packets >= count)
                break;
        }
    } else {
        uint64_t host = self_netns();
        if (containers && mm_net_discover(&nsl, NULL, storage, false)) {
            rc = cli_fail("net: ");
            goto out;
        }
        /* host interfaces and explicit namespaces */
        for (size_t i = 0; i < (nif ? nif : (netns ? 1 : 0)); i++) {
            co.iface = nif ? ifaces[i] : NULL;
            co.netns = netns;
            srcs = realloc(srcs, (nsrcs + 1) * sizeof *srcs);
            if (mm_net_capture_open(&srcs[nsrcs].cap, &co)) {
                rc = cli_fail("net: ");
                goto out;
            }
            struct stat st;
            uint64_t zone = netns && stat(netns, &st) == 0 ? (uint64_t)st.st_ino : host;
            srcs[nsrcs].source = mm_net_source_add(cl.n, mm_net_capture_label(srcs[nsrcs].cap), zone, NULL);
            nsrcs++;
        }
        for (size_t i = 0; i < nsl.count; i++) {
            mm_net_ns *ns = &nsl.ns[i];
            for (size_t k = 0; k < ns->naddrs; k++) {
                mm_net_addr_owner(cl.n, ns->inode, &ns->addrs[k], ns->container);
                mm_net_addr_owner(cl.n, 0, &ns->addrs[k], ns->container);
            }
            char *cfg = NULL;
            size_t cfglen = 0;
            if (ns->container && mm_net_container_image_config(&cfg, &cfglen, ns->container, storage) == 0) {
                const mm_container *ct = ns->container;
                int added = mm_net_expose_image_config(cl.n, ct->name ? ct->name : ct->id, cfg, cfglen);
                if (!quiet && added > 0)
                    fprintf(stderr, "%s: net: %s: %d exposed ports from its image\n", prog,
                            ct->name ? ct->name : ct->id, added);
            }
            free(cfg);
            mm_net_scan_sockets(cl.n, ns, NULL);
            co.iface = NULL;
            co.netns = ns->path;
            srcs = realloc(srcs, (nsrcs + 1) * sizeof *srcs);
            if (mm_net_capture_open(&srcs[nsrcs].cap, &co)) {
                rc = cli_fail("net: ");
                goto out;
            }
            char label[300];
            snprintf(label, sizeof label, "container:%s",
                     ns->container ? (ns->container->name ? ns->container->name : ns->container->id) : "?");
            srcs[nsrcs].source = mm_net_source_add(cl.n, label, ns->inode, ns->container);
            nsrcs++;
        }
        if (!nsrcs) {
            fprintf(stderr, "%s: net: no container is running: nothing to capture\n", prog);
            goto out;
        }
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        if (!quiet) {
            fprintf(stderr, "%s: net: capturing on", prog);
            for (size_t i = 0; i < nsrcs; i++)
                fprintf(stderr, " %s", mm_net_capture_label(srcs[i].cap));
            fprintf(stderr, "\n%s: net: ready\n", prog);
        }
        struct pollfd *pf = calloc(nsrcs, sizeof *pf);
        int64_t start = wall_ns(), last_tick = start, last_sockets = start;
        while (!g_stop) {
            for (size_t i = 0; i < nsrcs; i++) {
                pf[i].fd = mm_net_capture_fd(srcs[i].cap);
                pf[i].events = POLLIN;
                pf[i].revents = 0;
            }
            poll(pf, nsrcs, 100);
            for (size_t i = 0; i < nsrcs; i++) {
                cl.source = srcs[i].source;
                int r = mm_net_capture_next(srcs[i].cap, 0, 0, on_pkt, &cl);
                if (r < 0 && r != MM_ENOTFOUND) {
                    free(pf);
                    rc = cli_fail("net: ");
                    goto out;
                }
            }
            int64_t now = wall_ns();
            if (now - last_tick >= 1000000000ll) {
                last_tick = now;
                mm_net_advance(cl.n, now);
                bool changed;
                if (bw && mm_net_blocklist_watch_check(bw, &changed))
                    fprintf(stderr, "%s: net: blocklist not reloaded (the previous list stays): %s\n",
                            prog, mm_error_last());
                else if (bw && changed) {
                    mm_net_set_blocklist(cl.n, mm_net_blocklist_watch_get(bw));
                    if (!quiet)
                        fprintf(stderr, "%s: net: blocklist reloaded: %zu entries\n", prog,
                                mm_net_blocklist_count(mm_net_blocklist_watch_get(bw)));
                }
            }
            if (nsl.count && now - last_sockets >= 2000000000ll) {
                last_sockets = now;
                for (size_t i = 0; i < nsl.count; i++)
                    mm_net_scan_sockets(cl.n, &nsl.ns[i], NULL);
            }
            if (duration && now - start >= (int64_t)duration * 1000000000ll)
                break;
            if (count && cl.packets >= count)
                break;
        }
        free(pf);
        /* what is still in the rings */
        for (size_t i = 0; i < nsrcs; i++) {
            cl.source = srcs[i].source;
            mm_net_capture_next(srcs[i].cap, 0, 0, on_pkt, &cl);
        }
    }
    mm_net_finish(cl.n);
    if (cl.flows)
        fflush(cl.flows);
    const mm_net_topo *topo = mm_net_topology(cl.n);
    if (topology) {
        char *t = dot ? mm_net_topo_dot(topo) : mm_net_topo_json(topo);
        int wr = write_text(topology, t);
        free(t);
        if (wr)
            goto out;
    }
    if (baseline_out) {
        char *t = mm_net_topo_json(topo);
        int wr = write_text(baseline_out, t);
        free(t);
        if (wr)
            goto out;
    }
    if (findings) {
        char *t = mm_net_findings_json(mm_net_findings(cl.n));
        int wr = write_text(findings, t);
        free(t);
        if (wr)
            goto out;
    }
    if (!quiet) {
        mm_net_stats st;
        mm_net_stats_get(cl.n, &st);
        char *j = mm_net_stats_json(&st);
        uint64_t recv = 0, drop = 0;
        for (size_t i = 0; i < nsrcs; i++) {
            mm_net_capture_stats cs;
            mm_net_capture_stats_get(srcs[i].cap, &cs);
            recv += cs.received;
            drop += cs.dropped + cs.if_dropped;
        }
        if (live)
            fprintf(stderr, "%s: net: stats %s capture {\"received\":%llu,\"dropped\":%llu}\n", prog, j,
                    (unsigned long long)recv, (unsigned long long)drop);
        else
            fprintf(stderr, "%s: net: stats %s\n", prog, j);
        free(j);
    }
    rc = exit_code && mm_findings_count(mm_net_findings(cl.n)) ? (int)exit_code : 0;
out:
    for (size_t i = 0; i < nsrcs; i++)
        mm_net_capture_free(srcs[i].cap);
    free(srcs);
    mm_net_capture_free(fcap);
    mm_net_nslist_free(&nsl);
    mm_net_free(cl.n);
    mm_net_topo_free(base);
    mm_profile_free(prof);
    mm_net_blocklist_watch_free(bw);
    mm_alert_sink_free(cl.sink);
    if (cl.flows && cl.flows != stdout)
        fclose(cl.flows);
    return rc;
}
