/*
 * detect.c - the network detections and how they are said: each one is an
 * mm_alert in Falco's shape (source "mamori_net", rule, priority, output
 * and output fields; mm_alert_json / mm_alert_sink_write of mamori/rules.h
 * print and ship it like the agent's alerts) and the same as an mm_finding
 * (kind network, the SP 800-190 section).  Rules:
 *   MM-NET-001 Port scan (vertical/horizontal, fast/slow)   §3.4.2
 *   MM-NET-010 Connection to or from a listed address          §3.4.2
 *   MM-NET-011 Connection to an address of a listed domain      §3.4.2
 *   MM-NET-012 TLS SNI or HTTP Host of a listed domain          §3.4.2
 *   MM-NET-013 DNS lookup of a listed domain                    §3.4.2
 *   MM-NET-020 Listening port not in EXPOSE or the profile       §3.4.2
 *   MM-NET-030 Flow outside the learned baseline                 §3.3.3
 * One-shot detections are deduplicated by a key (at most 262144 kept).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_int.h"

#define MAX_FINDINGS 100000
#define MAX_DEDUP 262144

typedef struct fb {
    mm_alert_field f[20];
    size_t n;
    char store[3072];
    size_t used;
} fb;

static void fadd(fb *b, const char *name, bool numeric, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fadd(fb *b, const char *name, bool numeric, const char *fmt, ...)
{
    if (b->n >= sizeof b->f / sizeof b->f[0])
        return;
    mm_alert_field *x = &b->f[b->n++];
    x->name = name;
    x->numeric = numeric;
    x->value = NULL;
    if (!fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    size_t room = sizeof b->store - b->used;
    int k = vsnprintf(b->store + b->used, room, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= room) {
        b->n--;
        return;
    }
    x->value = b->store + b->used;
    b->used += (size_t)k + 1;
}

static void fowner(fb *b, const mm_container *c, int64_t pid, const char *comm)
{
    fadd(b, "container.id", false, c ? "%s" : NULL, c ? c->id : "");
    fadd(b, "container.name", false, c && c->name ? "%s" : NULL, c && c->name ? c->name : "");
    fadd(b, "container.image.repository", false, c && c->image_repository ? "%s" : NULL,
         c && c->image_repository ? c->image_repository : "");
    fadd(b, "k8s.ns.name", false, c && c->k8s_ns_name ? "%s" : NULL,
         c && c->k8s_ns_name ? c->k8s_ns_name : "");
    fadd(b, "k8s.pod.name", false, c && c->k8s_pod_name ? "%s" : NULL,
         c && c->k8s_pod_name ? c->k8s_pod_name : "");
    fadd(b, "proc.pid", true, pid ? "%lld" : NULL, (long long)pid);
    fadd(b, "proc.name", false, comm && *comm ? "%s" : NULL, comm ? comm : "");
}

static bool dedup(mm_net *n, const char *key)
{
    if (mm_map_get(n->alerted, key))
        return true;
    if (mm_map_count(n->alerted) < MAX_DEDUP)
        mm_map_put(n->alerted, key, (void *)1);
    return false;
}

typedef struct rule_def {
    const char *id, *rule, *title, *section, *remediation;
    mm_rule_priority pri;
    mm_severity sev;
    const char *tags;
} rule_def;

static const rule_def R_SCAN = {"MM-NET-001", "Port scan", "Port scan", "3.4.2",
    "Find the scanning workload or host; block the source and check what it reached.",
    MM_PRI_WARNING, MM_SEV_MEDIUM, "network,mitre_discovery,T1046"};
static const rule_def R_BL_IP = {"MM-NET-010", "Connection with listed address",
    "Connection with a listed address", "3.4.2",
    "Block the destination (egress policy) and investigate the workload that talked to it.",
    MM_PRI_CRITICAL, MM_SEV_HIGH, "network,mitre_command_and_control,T1071"};
static const rule_def R_BL_RES = {"MM-NET-011", "Connection to address of listed domain",
    "Connection to an address of a listed domain", "3.4.2",
    "Block the domain and its addresses; investigate the workload.",
    MM_PRI_CRITICAL, MM_SEV_HIGH, "network,mitre_command_and_control,T1071"};
static const rule_def R_BL_NAME = {"MM-NET-012", "Connection to listed domain",
    "TLS SNI or HTTP Host of a listed domain", "3.4.2",
    "Block the domain at the egress proxy or DNS; investigate the workload.",
    MM_PRI_CRITICAL, MM_SEV_HIGH, "network,mitre_command_and_control,T1071"};
static const rule_def R_BL_DNS = {"MM-NET-013", "DNS lookup of listed domain",
    "DNS lookup of a listed domain", "3.4.2",
    "Sinkhole the domain; investigate the workload that resolved it.",
    MM_PRI_WARNING, MM_SEV_HIGH, "network,mitre_command_and_control,T1071.004"};
static const rule_def R_LISTEN = {"MM-NET-020", "Unexpected listening port",
    "Listening port not in EXPOSE or the learned profile", "3.4.2",
    "Close the port or declare it (EXPOSE, or learn the profile again).",
    MM_PRI_WARNING, MM_SEV_MEDIUM, "network,mitre_persistence"};
static const rule_def R_BASE = {"MM-NET-030", "Flow outside baseline",
    "Flow outside the learned baseline", "3.3.3",
    "Check whether the new connection is expected; add it to the baseline or block it.",
    MM_PRI_NOTICE, MM_SEV_LOW, "network,baseline"};

static void emit(mm_net *n, const rule_def *r, int64_t ts, const char *output, fb *b,
                 const mm_container *c, int64_t pid, const char *comm)
{
    const char *tags[8];
    size_t ntags = 0;
    char tagbuf[128];
    snprintf(tagbuf, sizeof tagbuf, "%s", r->tags);
    for (char *s = tagbuf, *e; s && *s && ntags < 8; s = e) {
        e = strchr(s, ',');
        if (e)
            *e++ = 0;
        tags[ntags++] = s;
    }
    mm_alert a = {
        .ts = ts, .rule = r->rule, .priority = r->pri, .output = output,
        .fields = b->f, .nfields = b->n, .tags = tags, .ntags = ntags,
        .source = "mamori_net", .hostname = n->hostname,
    };
    n->st.alerts++;
    char proc[64] = "";
    if (pid)
        snprintf(proc, sizeof proc, "%s[%lld]", comm && *comm ? comm : "?", (long long)pid);
    mm_finding f = {
        .id = (char *)r->id, .kind = MM_FIND_NETWORK, .severity = r->sev,
        .title = (char *)r->title, .evidence = (char *)output,
        .remediation = (char *)r->remediation, .section = (char *)r->section,
        .loc = {.layer = -1, .host = n->hostname,
                .container = c ? (c->name ? c->name : c->id) : NULL,
                .process = pid ? proc : NULL},
    };
    if (mm_findings_count(n->findings) < MAX_FINDINGS)
        mm_findings_add(n->findings, &f);
    if (n->o.on_alert)
        n->o.on_alert(n->o.ud, &a, &f);
}

static const char *proto_name(uint8_t p)
{
    switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmp6";
    default: return "ip";
    }
}

static const char *ctname(const mm_container *c)
{
    return c ? (c->name ? c->name : c->id) : "host";
}

/* ---- port scans ---------------------------------------------------------------- */

static uint64_t zone_of(const mm_net *n, uint32_t zidx)
{
    return zidx < n->nzones ? n->zones[zidx] : 0;
}

void nt_on_scan(void *ud, const nt_scan_hit *h)
{
    mm_net *n = ud;
    char src[64], dst[64], kinds[96] = "";
    mm_net_addr_str(&h->src, src, sizeof src);
    if (h->vertical)
        mm_net_addr_str(&h->dst, dst, sizeof dst);
    for (int k = PROBE_SYN; k <= PROBE_CONNECT; k++)
        if (h->kinds & (1u << k)) {
            size_t l = strlen(kinds);
            snprintf(kinds + l, sizeof kinds - l, "%s%s", l ? "+" : "", nt_probe_name(k));
        }
    double secs = (double)(h->last - h->first) / 1e9;
    uint64_t zone = zone_of(n, (uint32_t)h->zone);
    const mm_container *sc = nt_owner(n, zone, &h->src);
    const mm_container *dc = h->vertical ? nt_owner(n, zone, &h->dst) : NULL;
    char out[640];
    if (h->vertical)
        snprintf(out, sizeof out,
                 "%s vertical port scan (%s) of %s by %s: %u ports within %.0fs "
                 "(src_container=%s dst_container=%s)",
                 h->slow ? "Slow" : "Fast", kinds, dst, src, h->count, secs,
                 ctname(sc), ctname(dc));
    else
        snprintf(out, sizeof out,
                 "%s horizontal port scan (%s) of %s/%u by %s: %u hosts within %.0fs "
                 "(src_container=%s)",
                 h->slow ? "Slow" : "Fast", kinds, proto_name(h->proto), h->port, src,
                 h->count, secs, ctname(sc));
    fb b = {0};
    fadd(&b, "net.scan.type", false, "%s", h->vertical ? "vertical" : "horizontal");
    fadd(&b, "net.scan.kind", false, "%s", kinds);
    fadd(&b, "net.scan.speed", false, "%s", h->slow ? "slow" : "fast");
    fadd(&b, "net.scan.count", true, "%u", h->count);
    fadd(&b, "net.scan.duration_s", true, "%lld", (long long)(secs + 0.5));
    fadd(&b, "fd.cip", false, "%s", src);
    if (h->vertical)
        fadd(&b, "fd.sip", false, "%s", dst);
    else {
        fadd(&b, "fd.sport", true, "%u", h->port);
        fadd(&b, "fd.l4proto", false, "%s", proto_name(h->proto));
    }
    fowner(&b, sc ? sc : dc, 0, NULL);
    emit(n, &R_SCAN, h->last, out, &b, sc ? sc : dc, 0, NULL);
}

/* ---- listed destinations ------------------------------------------------------------ */

static const char *listed_resolved(const mm_net *n, uint64_t zone, const mm_ipaddr *a)
{
    if (!n->nlisted)
        return NULL;
    nt_addrkey k;
    nt_addrkey_make(&k, zone, a);
    uint32_t *v = NT_TAB_GET(&n->listed, &k, nt_tab_hash(&n->listed, &k, sizeof k));
    return v ? n->listed_why[*v] : NULL;
}

static void flow_alert(mm_net *n, nt_flow *f, const rule_def *r, const char *what,
                       const char *dedup_extra, bool srv_side)
{
    mm_net_flow v;
    nt_flow_view(n, f, &v);
    char cli[64], srv[64], key[400];
    mm_net_addr_str(&v.cli, cli, sizeof cli);
    mm_net_addr_str(&v.srv, srv, sizeof srv);
    snprintf(key, sizeof key, "%s|%s|%s|%s|%u|%s", r->id, cli, srv, proto_name(v.proto),
             v.sport, dedup_extra ? dedup_extra : "");
    if (dedup(n, key))
        return;
    const mm_net_owner *o = srv_side ? &v.srv_owner : &v.cli_owner;
    char out[768];
    snprintf(out, sizeof out, "%s (%s %s:%u -> %s:%u%s%s container=%s proc=%s)", what,
             proto_name(v.proto), cli, v.cport, srv, v.sport, v.srv_name ? " name=" : "",
             v.srv_name ? v.srv_name : "", ctname(o->container),
             o->comm && *o->comm ? o->comm : "<NA>");
    fb b = {0};
    fadd(&b, "fd.cip", false, "%s", cli);
    fadd(&b, "fd.cport", true, "%u", v.cport);
    fadd(&b, "fd.sip", false, "%s", srv);
    fadd(&b, "fd.sport", true, "%u", v.sport);
    fadd(&b, "fd.l4proto", false, "%s", proto_name(v.proto));
    fadd(&b, "fd.sip.name", false, v.srv_name ? "%s" : NULL, v.srv_name ? v.srv_name : "");
    fowner(&b, o->container, o->pid, o->comm);
    emit(n, r, f->last, out, &b, o->container, o->pid, o->comm);
}

void nt_on_new_flow(mm_net *n, nt_flow *f)
{
    if (!n->bl && !n->nlisted)
        return;
    mm_ipaddr a, b;
    a.family = b.family = f->key.family;
    memcpy(a.ip, f->key.ip_lo, 16);
    memcpy(b.ip, f->key.ip_hi, 16);
    const mm_ipaddr *srv = f->cli_lo ? &b : &a, *cli = f->cli_lo ? &a : &b;
    uint64_t zone = n->src[f->source].zone;
    const char *why;
    char what[512];
    if (n->bl && (why = mm_net_blocklist_match_ip(n->bl, srv))) {
        snprintf(what, sizeof what, "Connection to listed address [%s]", why);
        flow_alert(n, f, &R_BL_IP, what, NULL, false);
    } else if (n->bl && (why = mm_net_blocklist_match_ip(n->bl, cli))) {
        snprintf(what, sizeof what, "Connection from listed address [%s]", why);
        flow_alert(n, f, &R_BL_IP, what, NULL, true);
    } else if ((why = listed_resolved(n, zone, srv))) {
        snprintf(what, sizeof what, "Connection to an address of listed domain %s", why);
        flow_alert(n, f, &R_BL_RES, what, NULL, false);
    }
}

/* false when s cannot be an IP literal (no ':', a character other than a
   digit or '.'): most names, judged without inet_pton and an error message */
static bool maybe_ip(const char *s)
{
    if (strchr(s, ':'))
        return true;
    for (; *s; s++)
        if ((*s < '0' || *s > '9') && *s != '.')
            return false;
    return true;
}

void nt_on_name(mm_net *n, nt_flow *f, int kind, const char *name)
{
    const char **slot = kind == 1 ? &f->sni : &f->host;
    bool held = false;
    if (!*slot) {
        *slot = nt_names_hold(n->names, name);
        name = *slot;            /* the shared copy: the name table takes it as it is */
        held = true;
    }
    mm_ipaddr a, b;
    a.family = b.family = f->key.family;
    memcpy(a.ip, f->key.ip_lo, 16);
    memcpy(b.ip, f->key.ip_hi, 16);
    const mm_ipaddr *srv = f->cli_lo ? &b : &a;
    mm_ipaddr tmp;
    if (!maybe_ip(name) || mm_net_addr_parse(&tmp, name) != 0) { /* a name, not an IP literal */
        if (held)
            nt_names_set_held(n->names, n->src[f->source].zone, srv, name);
        else
            nt_names_set(n->names, n->src[f->source].zone, srv, name);
    }
    const char *why;
    if (n->bl && (why = mm_net_blocklist_match_domain(n->bl, name))) {
        char what[512];
        snprintf(what, sizeof what, "%s of listed domain %s [%s]",
                 kind == 1 ? "TLS connection (SNI)" : "HTTP request (Host)", name, why);
        flow_alert(n, f, &R_BL_NAME, what, name, false);
    }
}

static void dns_listed(mm_net *n, nt_flow *f, const char *name, const char *why)
{
    mm_net_flow v;
    nt_flow_view(n, f, &v);
    char cli[64], srv[64], key[400];
    mm_net_addr_str(&v.cli, cli, sizeof cli);
    mm_net_addr_str(&v.srv, srv, sizeof srv);
    snprintf(key, sizeof key, "%s|%s|%s", R_BL_DNS.id, cli, name);
    if (dedup(n, key))
        return;
    char out[768];
    snprintf(out, sizeof out,
             "DNS lookup of listed domain %s [%s] (client=%s resolver=%s container=%s proc=%s)",
             name, why, cli, srv, ctname(v.cli_owner.container),
             v.cli_owner.comm && *v.cli_owner.comm ? v.cli_owner.comm : "<NA>");
    fb b = {0};
    fadd(&b, "dns.query", false, "%s", name);
    fadd(&b, "fd.cip", false, "%s", cli);
    fadd(&b, "fd.sip", false, "%s", srv);
    fadd(&b, "fd.sport", true, "%u", v.sport);
    fowner(&b, v.cli_owner.container, v.cli_owner.pid, v.cli_owner.comm);
    emit(n, &R_BL_DNS, f->last, out, &b, v.cli_owner.container, v.cli_owner.pid,
         v.cli_owner.comm);
}

/* The verdict on the message's question name, looked up once per message. */
static const char *q_listed(const mm_net *n, nt_dns_q *q)
{
    if (!q->looked) {
        q->why = mm_net_blocklist_match_domain(n->bl, q->name);
        q->looked = true;
    }
    return q->why;
}

void nt_on_dns(mm_net *n, nt_flow *f, const nt_dns_rr *rr, bool response, nt_dns_q *q)
{
    uint64_t zone = n->src[f->source].zone;
    const char *why = NULL, *qname = q->name;
    if (rr->type == 0) {         /* rr->name is the question's name */
        if (n->bl && (why = q_listed(n, q)))
            dns_listed(n, f, rr->name, why);
        return;
    }
    if (rr->type == 5) {
        if (n->bl && (why = mm_net_blocklist_match_domain(n->bl, rr->target)))
            dns_listed(n, f, rr->target, why);
        return;
    }
    n->st.dns_answers++;
    nt_names_set(n->names, zone, &rr->addr, qname);
    if (n->o.on_name) {
        mm_net_flow v;
        nt_flow_view(n, f, &v);
        n->o.on_name(n->o.ud, &v, qname, &rr->addr, rr->ttl);
    }
    if (!n->bl)
        return;
    const char *dom = qname;
    why = q_listed(n, q);
    if (!why && rr->name != qname && strcmp(rr->name, qname)) { /* same name, same verdict */
        why = mm_net_blocklist_match_domain(n->bl, rr->name);
        dom = rr->name;
    }
    if (!why || n->nlisted >= 65536)
        return;
    nt_addrkey k;
    nt_addrkey_make(&k, zone, &rr->addr);
    uint32_t h = nt_tab_hash(&n->listed, &k, sizeof k);
    if (NT_TAB_GET(&n->listed, &k, h))
        return;
    if (n->nlisted % 64 == 0)
        n->listed_why = mm_xrealloc(n->listed_why, (n->nlisted + 64) * sizeof *n->listed_why);
    n->listed_why[n->nlisted] = mm_xasprintf("%s [%s]", dom, why);
    nt_tab_put(&n->listed, &k, h, (uint32_t)n->nlisted++);
    (void)response;
}

/* ---- listening ports and the baseline ----------------------------------------------- */

static bool expose_has(const mm_net *n, const char *key, uint8_t proto, uint16_t port,
                       bool *known)
{
    const char *v = key ? mm_map_get(n->expose, key) : NULL;
    if (!v)
        return false;
    *known = true;
    char tok[16];
    snprintf(tok, sizeof tok, " %s/%u ", proto == IPPROTO_UDP ? "udp" : "tcp", port);
    return strstr(v, tok) != NULL;
}

static void ignore_alert(void *ud, const mm_alert *a)
{
    (void)a;
    *(int *)ud += 1;
}

/* Asks the runtime profile whether the container's image may listen on
 * the flow's server port: a listen event as the agent would see it. */
static bool profile_deviates(mm_profile *p, const mm_container *c, const mm_net_flow *v)
{
    mm_proc *pr;
    mm_proc_new(&pr, v->srv_owner.pid ? v->srv_owner.pid : 1);
    mm_proc_set_container(pr, (mm_container *)c);
    mm_fdinfo fd = {.fd = 3, .type = v->srv.family == AF_INET6 ? MM_FD_IPV6 : MM_FD_IPV4,
                    .sock_family = v->srv.family, .sock_type = 1,
                    .l4proto = v->proto == IPPROTO_UDP ? MM_L4_UDP : MM_L4_TCP,
                    .listening = true, .role_server = true, .sip = v->srv, .sport = v->sport};
    mm_event ev = {.type = MM_EVT_LISTEN, .ts = v->last_ns, .pid = pr->pid, .tid = pr->pid,
                   .proc = pr, .fd = &fd, .arg_fd = 3};
    int hits = 0;
    mm_profile_check(p, &ev, ignore_alert, &hits);
    mm_proc_unref(pr);
    return hits > 0;
}

void nt_on_listen(mm_net *n, nt_flow *f)
{
    /* the server side straight from the key: most flows go to a port
     * already known to listen, and need no view */
    uint64_t zone = n->src[f->source].zone;
    nt_sockkey k;
    memset(&k, 0, sizeof k);
    k.zone = zone;
    k.proto = f->key.proto;
    k.family = f->key.family;
    k.lport = f->cli_lo ? f->key.port_hi : f->key.port_lo;
    memcpy(k.l, f->cli_lo ? f->key.ip_hi : f->key.ip_lo, f->key.family == AF_INET ? 4 : 16);
    uint32_t h = nt_tab_hash(&n->listen_seen, &k, sizeof k);
    if (NT_TAB_GET(&n->listen_seen, &k, h) || n->listen_seen.count >= (1u << 20))
        return;
    nt_tab_put(&n->listen_seen, &k, h, 1);
    mm_net_flow v;
    nt_flow_view(n, f, &v);
    const mm_container *c = v.srv_owner.container;
    char id[300], addr[64];
    nt_node_id(n, c, &v.srv, id, sizeof id);
    mm_net_addr_str(&v.srv, addr, sizeof addr);
    nt_node_info ni = {.id = id, .kind = c ? (c->k8s_pod_name ? "pod" : "container") : "address",
                       .container = c, .addr = &v.srv, .pid = v.srv_owner.pid,
                       .comm = v.srv_owner.comm};
    if (!n->o.no_topology)
        nt_topo_listen(n->topo, &ni, v.proto, v.sport);
    if (n->o.learn)
        return;
    bool known = false, allowed = false;
    allowed |= expose_has(n, id, v.proto, v.sport, &known);
    allowed |= expose_has(n, addr, v.proto, v.sport, &known);
    if (c) {
        allowed |= expose_has(n, c->image, v.proto, v.sport, &known);
        allowed |= expose_has(n, c->image_repository, v.proto, v.sport, &known);
        allowed |= expose_has(n, c->id, v.proto, v.sport, &known);
    }
    if (n->baseline) {
        bool bk = false;
        allowed |= mm_net_topo_has_listen(n->baseline, id, v.proto, v.sport, &bk);
        known |= bk;
    }
    if (n->profile && c && profile_deviates(n->profile, c, &v)) {
        known = true;
        allowed = false;
    }
    if (!known || allowed)
        return;
    char out[640];
    snprintf(out, sizeof out,
             "Unexpected listening port %s/%u on %s (not in EXPOSE or the learned profile; "
             "first answered %s:%u, container=%s proc=%s)",
             proto_name(v.proto), v.sport, id, addr, v.sport, ctname(c),
             v.srv_owner.comm && *v.srv_owner.comm ? v.srv_owner.comm : "<NA>");
    fb b = {0};
    fadd(&b, "fd.sip", false, "%s", addr);
    fadd(&b, "fd.sport", true, "%u", v.sport);
    fadd(&b, "fd.l4proto", false, "%s", proto_name(v.proto));
    fadd(&b, "net.node", false, "%s", id);
    fowner(&b, c, v.srv_owner.pid, v.srv_owner.comm);
    emit(n, &R_LISTEN, f->last, out, &b, c, v.srv_owner.pid, v.srv_owner.comm);
}

void nt_on_established(mm_net *n, nt_flow *f)
{
    if (!n->baseline || n->o.learn)
        return;
    /* the common case: both addresses are baseline nodes with this edge
     * (a loaded baseline indexes its nodes' addresses) */
    mm_ipaddr lo, hi;
    lo.family = hi.family = f->key.family;
    memcpy(lo.ip, f->key.ip_lo, 16);
    memcpy(hi.ip, f->key.ip_hi, 16);
    const mm_ipaddr *ca = f->cli_lo ? &lo : &hi, *sa = f->cli_lo ? &hi : &lo;
    uint16_t sport = f->cli_lo ? f->key.port_hi : f->key.port_lo;
    if (nt_topo_has_flow(n->baseline, ca, sa, f->key.proto, sport))
        return;
    mm_net_flow v;
    nt_flow_view(n, f, &v);
    char cid[300], sid[300];
    nt_node_id(n, v.cli_owner.container, &v.cli, cid, sizeof cid);
    nt_node_id(n, v.srv_owner.container, &v.srv, sid, sizeof sid);
    if (mm_net_topo_has_edge(n->baseline, cid, sid, v.proto, v.sport) ||
        (v.srv_name && mm_net_topo_has_edge(n->baseline, cid, v.srv_name, v.proto, v.sport)))
        return;
    char key[700];
    snprintf(key, sizeof key, "%s|%s|%s|%u|%s", R_BASE.id, cid, sid, v.sport,
             proto_name(v.proto));
    if (dedup(n, key))
        return;
    char out[900];
    snprintf(out, sizeof out,
             "Flow outside the learned baseline: %s -> %s%s%s%s %s/%u (container=%s proc=%s)",
             cid, sid, v.srv_name ? " (" : "", v.srv_name ? v.srv_name : "",
             v.srv_name ? ")" : "", proto_name(v.proto), v.sport,
             ctname(v.cli_owner.container),
             v.cli_owner.comm && *v.cli_owner.comm ? v.cli_owner.comm : "<NA>");
    char cli[64], srv[64];
    fb b = {0};
    fadd(&b, "net.client", false, "%s", cid);
    fadd(&b, "net.server", false, "%s", sid);
    fadd(&b, "fd.cip", false, "%s", mm_net_addr_str(&v.cli, cli, sizeof cli));
    fadd(&b, "fd.sip", false, "%s", mm_net_addr_str(&v.srv, srv, sizeof srv));
    fadd(&b, "fd.sport", true, "%u", v.sport);
    fadd(&b, "fd.l4proto", false, "%s", proto_name(v.proto));
    fadd(&b, "fd.sip.name", false, v.srv_name ? "%s" : NULL, v.srv_name ? v.srv_name : "");
    fowner(&b, v.cli_owner.container, v.cli_owner.pid, v.cli_owner.comm);
    emit(n, &R_BASE, f->last, out, &b, v.cli_owner.container, v.cli_owner.pid,
         v.cli_owner.comm);
}

static long topo_node(mm_net *n, uint64_t zone, const mm_ipaddr *a, const mm_container *c,
                      const char *name, int64_t pid, const char *comm)
{
    long ix = nt_topo_node_for(n->topo, zone, a);
    if (ix >= 0) {
        /* names reach the node through its edges when the graph is
         * written; processes are rare (live attribution) */
        if (comm && *comm)
            nt_topo_node_touch(n->topo, ix, NULL, comm);
        return ix;
    }
    char id[300];
    nt_node_info ni = {.id = nt_node_id(n, c, a, id, sizeof id),
                       .kind = c ? (c->k8s_pod_name ? "pod" : "container") : "address",
                       .container = c, .addr = a, .name = name, .pid = pid, .comm = comm};
    return nt_topo_node_add(n->topo, zone, &ni);
}

void nt_topo_flow(mm_net *n, const nt_flow *f, const mm_net_flow *v)
{
    uint16_t port = v->sport;
    if (v->proto != IPPROTO_TCP && v->proto != IPPROTO_UDP)
        port = 0;
    uint64_t zone = n->src[f->source].zone;
    if (nt_topo_flow_edge(n->topo, zone, v, port) >= 0)
        return;                  /* a pair seen before: counted into its edge */
    long ci = topo_node(n, zone, &v->cli, v->cli_owner.container, NULL, v->cli_owner.pid,
                        v->cli_owner.comm);
    long si = topo_node(n, zone, &v->srv, v->srv_owner.container, v->srv_name, v->srv_owner.pid,
                        v->srv_owner.comm);
    if (ci >= 0 && si >= 0)
        nt_topo_flow_edge_add(n->topo, zone, ci, si, v, port);
}
