/*
 * nflog.c - packets the segmentation dropped, read back from the nflog
 * group its "log ... group N" rules send them to (libnetfilter_log; the
 * netlink socket is made inside the policy's namespace, where the rules
 * log), decoded (IPv4/IPv6, TCP/UDP ports, ICMP type) and turned into the
 * alert and finding of rule MM-NET-040 (SP 800-190 §3.4.2).  The log
 * prefix "mamori:POLICY:in|out " says which policy and direction dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <libnetfilter_log/libnetfilter_log.h>

#include "netpol/netpol_config.h"
#include "netpol_int.h"
#include "util/dlopen.h"
#include "util/util.h"

/* The libnetfilter_log calls of this file, typed by its header; bound
 * when a reader opens (util/dlopen.h: the library is not linked, so that
 * commands that never read drops do not map it at start). */
typedef struct nflog_api {
    MM_DLSYM_FIELD(nflog_bind_group);
    MM_DLSYM_FIELD(nflog_callback_register);
    MM_DLSYM_FIELD(nflog_close);
    MM_DLSYM_FIELD(nflog_fd);
    MM_DLSYM_FIELD(nflog_get_payload);
    MM_DLSYM_FIELD(nflog_get_prefix);
    MM_DLSYM_FIELD(nflog_get_timestamp);
    MM_DLSYM_FIELD(nflog_handle_packet);
    MM_DLSYM_FIELD(nflog_open);
    MM_DLSYM_FIELD(nflog_set_mode);
    MM_DLSYM_FIELD(nflog_unbind_group);
} nflog_api;

static int nflog_bind(void **lib, nflog_api *a)
{
    const mm_dlsym syms[] = {
        MM_DLSYM(a, nflog_bind_group), MM_DLSYM(a, nflog_callback_register),
        MM_DLSYM(a, nflog_close), MM_DLSYM(a, nflog_fd), MM_DLSYM(a, nflog_get_payload),
        MM_DLSYM(a, nflog_get_prefix), MM_DLSYM(a, nflog_get_timestamp),
        MM_DLSYM(a, nflog_handle_packet), MM_DLSYM(a, nflog_open),
        MM_DLSYM(a, nflog_set_mode), MM_DLSYM(a, nflog_unbind_group),
    };
    int rc = mm_dlopen_syms(lib, MM_NFLOG_SONAME, syms, sizeof syms / sizeof *syms);
    if (rc)
        return mm_error_wrap(rc, "nflog needs libnetfilter_log at run time: ");
    return 0;
}

struct mm_netpol_log {
    void *lib;                   /* libnetfilter_log's handle */
    nflog_api api;
    struct nflog_handle *h;
    struct nflog_g_handle *gh;
    mm_netpol_drop_fn fn;
    void *ud;
    int count;
    char *buf;
};

typedef struct open_job {
    const nflog_api *api;
    struct nflog_handle *h;
    int err;
} open_job;

static void open_fn(void *arg)
{
    open_job *j = arg;
    j->h = j->api->nflog_open();
    if (!j->h)
        j->err = errno ? errno : EIO;
}

/* Decodes the IP packet of a drop; false when it is not one. */
static bool decode(const uint8_t *p, size_t len, mm_netpol_drop *d)
{
    if (len < 1)
        return false;
    size_t off;
    unsigned v = p[0] >> 4;
    if (v == 4) {
        if (len < 20 || (size_t)(p[0] & 15) * 4 < 20 || (size_t)(p[0] & 15) * 4 > len)
            return false;
        d->proto = p[9];
        d->src.family = d->dst.family = AF_INET;
        memcpy(d->src.ip, p + 12, 4);
        memcpy(d->dst.ip, p + 16, 4);
        off = (size_t)(p[0] & 15) * 4;
        if ((p[6] & 0x1f) || p[7])       /* a later fragment: no ports */
            return true;
    } else if (v == 6) {
        if (len < 40)
            return false;
        d->proto = p[6];
        d->src.family = d->dst.family = AF_INET6;
        memcpy(d->src.ip, p + 8, 16);
        memcpy(d->dst.ip, p + 24, 16);
        off = 40;
        /* extension headers: hop-by-hop, routing, destination options */
        for (int i = 0; i < 8 && (d->proto == 0 || d->proto == 43 || d->proto == 60); i++) {
            if (off + 8 > len)
                return true;
            d->proto = p[off];
            off += ((size_t)p[off + 1] + 1) * 8;
        }
    } else {
        return false;
    }
    if ((d->proto == IPPROTO_TCP || d->proto == IPPROTO_UDP) && off + 4 <= len) {
        d->sport = (uint16_t)(p[off] << 8 | p[off + 1]);
        d->dport = (uint16_t)(p[off + 2] << 8 | p[off + 3]);
    } else if ((d->proto == IPPROTO_ICMP || d->proto == IPPROTO_ICMPV6) && off + 2 <= len) {
        d->sport = p[off];
        d->dport = p[off + 1];
    }
    return true;
}

static int on_packet(struct nflog_g_handle *gh, struct nfgenmsg *nfmsg,
                     struct nflog_data *nfa, void *data)
{
    (void)gh;
    (void)nfmsg;
    mm_netpol_log *l = data;
    char *payload = NULL;
    int plen = l->api.nflog_get_payload(nfa, &payload);
    mm_netpol_drop d;
    memset(&d, 0, sizeof d);
    if (plen <= 0 || !decode((const uint8_t *)payload, (size_t)plen, &d))
        return 0;
    struct timeval tv;
    if (l->api.nflog_get_timestamp(nfa, &tv) == 0)
        d.ts_ns = (int64_t)tv.tv_sec * 1000000000LL + (int64_t)tv.tv_usec * 1000;
    else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        d.ts_ns = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
    }
    const char *prefix = l->api.nflog_get_prefix(nfa);
    char pol[80] = "", dir[8] = "";
    d.prefix = prefix ? prefix : "";
    if (prefix && !strncmp(prefix, "mamori:", 7)) {
        const char *a = prefix + 7, *b = strchr(a, ':');
        if (b && (size_t)(b - a) < sizeof pol) {
            memcpy(pol, a, (size_t)(b - a));
            pol[b - a] = 0;
            snprintf(dir, sizeof dir, "%.3s", b + 1);
        }
    }
    d.policy = pol;
    d.direction = !strncmp(dir, "in", 2) ? "ingress" : !strncmp(dir, "out", 3) ? "egress" : "";
    if (l->fn)
        l->fn(l->ud, &d);
    l->count++;
    return 0;
}

int mm_netpol_log_open(mm_netpol_log **out, const char *netns, unsigned group)
{
    *out = NULL;
    if (group > 65535)
        return mm_error_set(MM_EINVAL, "nflog group %u: at most 65535", group);
    mm_netpol_log *l = mm_xcalloc(1, sizeof *l);
    int rc = nflog_bind(&l->lib, &l->api);
    if (rc) {
        mm_netpol_log_free(l);
        return rc;
    }
    const nflog_api *a = &l->api;
    open_job j = {.api = a};
    if (netns) {
        rc = np_in_netns(netns, open_fn, &j);
        if (rc == 0 && !j.h)
            rc = mm_error_set(MM_EIO, "nflog in %s: %s", netns, strerror(j.err));
    } else if (!(j.h = a->nflog_open())) {
        rc = mm_error_set(MM_EIO, "nflog: %s", strerror(errno));
    }
    if (rc < 0) {
        mm_netpol_log_free(l);
        return rc;
    }
    struct nflog_handle *h = j.h;
    l->h = h;
    l->gh = a->nflog_bind_group(h, (uint16_t)group);
    if (!l->gh) {
        int e = errno;
        mm_netpol_log_free(l);
        return mm_error_set(MM_EIO, "nflog group %u%s%s: %s", group, netns ? " in " : "",
                            netns ? netns : "", strerror(e));
    }
    if (a->nflog_set_mode(l->gh, NFULNL_COPY_PACKET, 256) < 0) {
        mm_netpol_log_free(l);
        return mm_error_set(MM_EIO, "nflog group %u: cannot set the copy mode", group);
    }
    a->nflog_callback_register(l->gh, on_packet, l);
    int fd = a->nflog_fd(h);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    l->buf = mm_xmalloc(65536);
    *out = l;
    return 0;
}

void mm_netpol_log_free(mm_netpol_log *l)
{
    if (!l)
        return;
    if (l->gh)
        l->api.nflog_unbind_group(l->gh);
    if (l->h)
        l->api.nflog_close(l->h);
    mm_dlclose(l->lib);
    free(l->buf);
    free(l);
}

int mm_netpol_log_fd(const mm_netpol_log *l) { return l ? l->api.nflog_fd(l->h) : -1; }

int mm_netpol_log_read(mm_netpol_log *l, mm_netpol_drop_fn fn, void *ud)
{
    l->fn = fn;
    l->ud = ud;
    l->count = 0;
    for (int i = 0; i < 1024; i++) {
        ssize_t r = recv(l->api.nflog_fd(l->h), l->buf, 65536, MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            if (errno == ENOBUFS)        /* the kernel dropped log messages */
                continue;
            return mm_error_set(MM_EIO, "nflog: %s", strerror(errno));
        }
        l->api.nflog_handle_packet(l->h, l->buf, (int)r);
    }
    return l->count;
}

/* ---- the alert and finding ------------------------------------------------------- */

struct mm_netpol_alerter {
    char *hostname;
    char *s[16];                 /* strings of the last alert */
    mm_alert_field f[12];
    mm_alert a;
    mm_finding fd;
};

mm_netpol_alerter *mm_netpol_alerter_new(const char *hostname)
{
    mm_netpol_alerter *a = mm_xcalloc(1, sizeof *a);
    char h[256] = "";
    if (!hostname && gethostname(h, sizeof h - 1) == 0)
        hostname = h;
    a->hostname = mm_xstrdup(hostname ? hostname : "");
    return a;
}

static void alerter_reset(mm_netpol_alerter *a)
{
    for (size_t i = 0; i < sizeof a->s / sizeof a->s[0]; i++) {
        free(a->s[i]);
        a->s[i] = NULL;
    }
}

void mm_netpol_alerter_free(mm_netpol_alerter *a)
{
    if (!a)
        return;
    alerter_reset(a);
    free(a->hostname);
    free(a);
}

static const char *proto_name(uint8_t p)
{
    switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    default: return "ip";
    }
}

void mm_netpol_alert(mm_netpol_alerter *a, const mm_netpol_drop *d,
                     const char *workload, const mm_alert **alert,
                     const mm_finding **finding)
{
    alerter_reset(a);
    char src[64], dst[64];
    inet_ntop(d->src.family, d->src.ip, src, sizeof src);
    inet_ntop(d->dst.family, d->dst.ip, dst, sizeof dst);
    const char *wl = workload && *workload ? workload : "<NA>";
    const char *pol = d->policy && *d->policy ? d->policy : "<NA>";
    const char *dir = d->direction && *d->direction ? d->direction : "<NA>";
    a->s[0] = mm_xasprintf("Connection denied by segmentation policy %s (%s %s %s:%u -> "
                           "%s:%u workload=%s)", pol, dir, proto_name(d->proto), src,
                           d->sport, dst, d->dport, wl);
    a->s[1] = mm_xstrdup(src);
    a->s[2] = mm_xstrdup(dst);
    a->s[3] = mm_xasprintf("%u", d->sport);
    a->s[4] = mm_xasprintf("%u", d->dport);
    a->s[5] = mm_xstrdup(proto_name(d->proto));
    a->s[6] = mm_xstrdup(pol);
    a->s[7] = mm_xstrdup(dir);
    a->s[8] = mm_xstrdup(wl);
    a->s[9] = mm_xasprintf("%s %s %s:%u -> %s:%u dropped by policy %s", dir,
                           proto_name(d->proto), src, d->sport, dst, d->dport, pol);
    size_t n = 0;
    a->f[n++] = (mm_alert_field){"fd.cip", a->s[1], false};
    a->f[n++] = (mm_alert_field){"fd.sip", a->s[2], false};
    a->f[n++] = (mm_alert_field){"fd.cport", a->s[3], true};
    a->f[n++] = (mm_alert_field){"fd.sport", a->s[4], true};
    a->f[n++] = (mm_alert_field){"fd.l4proto", a->s[5], false};
    a->f[n++] = (mm_alert_field){"net.policy", a->s[6], false};
    a->f[n++] = (mm_alert_field){"net.direction", a->s[7], false};
    a->f[n++] = (mm_alert_field){"container.name", a->s[8], false};
    static const char *const tags[] = {"network", "mitre_lateral_movement", "NIST_800-190_3.4.2"};
    memset(&a->a, 0, sizeof a->a);
    a->a.ts = d->ts_ns;
    a->a.rule = "Connection denied by segmentation policy";
    a->a.priority = MM_PRI_WARNING;
    a->a.output = a->s[0];
    a->a.fields = a->f;
    a->a.nfields = n;
    a->a.tags = tags;
    a->a.ntags = 3;
    a->a.source = "mamori_net";
    a->a.hostname = a->hostname;
    memset(&a->fd, 0, sizeof a->fd);
    a->fd.id = (char *)"MM-NET-040";
    a->fd.kind = MM_FIND_NETWORK;
    a->fd.severity = MM_SEV_MEDIUM;
    a->fd.title = (char *)"Connection denied by segmentation policy";
    a->fd.loc.layer = -1;
    a->fd.loc.host = a->hostname;
    a->fd.loc.container = workload && *workload ? a->s[8] : NULL;
    a->fd.evidence = a->s[9];
    a->fd.remediation = (char *)"If the connection is legitimate, add the peer and port to "
                        "the workload's segmentation policy; otherwise find out why the "
                        "workload tried it (SP 800-190 §3.4.2).";
    a->fd.section = (char *)"3.4.2";
    if (alert)
        *alert = &a->a;
    if (finding)
        *finding = &a->fd;
}
