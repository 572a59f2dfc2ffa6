/*
 * output.c - what the network sensor writes for others to read: a flow as
 * one JSON object (the flow log, docs/net.md), the statistics line, the
 * findings as a JSON array in the report's finding shape, and ExposedPorts
 * read from an image config (the EXPOSE a listening port is compared
 * with).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "net/net_int.h"
#include "util/json.h"


static const char *pname(uint8_t p)
{
    return p == IPPROTO_TCP ? "tcp" : p == IPPROTO_UDP ? "udp" : p == IPPROTO_ICMP ? "icmp"
         : p == IPPROTO_ICMPV6 ? "icmp6" : "ip";
}

static void flags_str(uint8_t f, char out[10])
{
    static const char c[] = "FSRPAUEC";
    size_t n = 0;
    for (int i = 0; i < 8; i++)
        if (f & (1u << i))
            out[n++] = c[i];
    out[n] = 0;
}

/* A JSON string (util/json.h: invalid UTF-8 becomes U+FFFD, so the line
 * always parses).  The flow log is written for every flow, so it is
 * formatted into a buffer by hand, not with jansson objects (several times
 * faster at a hundred thousand flows a second). */
#define jstr mm_json_buf_str

static void kstr(mm_buf *b, const char *k, const char *v)
{
    mm_buf_printf(b, ",\"%s\":", k);
    jstr(b, v);
}

static void owner_json(mm_buf *b, const char *key, const mm_net_owner *o)
{
    mm_buf_printf(b, ",\"%s\":{", key);
    const mm_container *c = o->container;
    bool first = true;
    if (c) {
        mm_buf_adds(b, "\"container\":{\"id\":");
        jstr(b, c->id);
        if (c->name)
            kstr(b, "name", c->name);
        if (c->image)
            kstr(b, "image", c->image);
        if (c->k8s_pod_name)
            kstr(b, "pod", c->k8s_pod_name);
        if (c->k8s_ns_name)
            kstr(b, "namespace", c->k8s_ns_name);
        mm_buf_addc(b, '}');
        first = false;
    }
    if (o->pid) {
        mm_buf_printf(b, "%s\"pid\":%lld", first ? "" : ",", (long long)o->pid);
        first = false;
    }
    if (o->comm && *o->comm) {
        mm_buf_adds(b, first ? "\"comm\":" : ",\"comm\":");
        jstr(b, o->comm);
    }
    mm_buf_addc(b, '}');
}

static void time_str(int64_t ns, char out[48])
{
    char b[32];
    mm_time_rfc3339(ns / 1000000000ll, b);
    size_t l = strlen(b);
    if (l && b[l - 1] == 'Z')
        b[l - 1] = 0;
    snprintf(out, 48, "%s.%06lldZ", b, (long long)(ns % 1000000000ll) / 1000);
}

char *mm_net_flow_json(const mm_net_flow *f)
{
    mm_buf b = MM_BUF_INIT;
    char cli[64], srv[64], t1[48], t2[48], fl[10];
    mm_buf_reserve(&b, 512);
    mm_buf_printf(&b, "{\"id\":%llu,\"proto\":\"%s\",\"client\":\"%s\",\"client_port\":%u,"
                  "\"server\":\"%s\",\"server_port\":%u",
                  (unsigned long long)f->id, pname(f->proto),
                  mm_net_addr_str(&f->cli, cli, sizeof cli), f->cport,
                  mm_net_addr_str(&f->srv, srv, sizeof srv), f->sport);
    if (f->vlan)
        mm_buf_printf(&b, ",\"vlan\":%u", f->vlan);
    mm_buf_printf(&b, ",\"packets_to_server\":%llu,\"packets_to_client\":%llu,"
                  "\"bytes_to_server\":%llu,\"bytes_to_client\":%llu",
                  (unsigned long long)f->pkts[0], (unsigned long long)f->pkts[1],
                  (unsigned long long)f->bytes[0], (unsigned long long)f->bytes[1]);
    if (f->proto == IPPROTO_TCP) {
        flags_str(f->tcp_flags[0], fl);
        mm_buf_printf(&b, ",\"client_flags\":\"%s\"", fl);
        flags_str(f->tcp_flags[1], fl);
        mm_buf_printf(&b, ",\"server_flags\":\"%s\"", fl);
    }
    time_str(f->first_ns, t1);
    time_str(f->last_ns, t2);
    mm_buf_printf(&b, ",\"first_seen\":\"%s\",\"last_seen\":\"%s\",\"state\":\"%s\"", t1, t2,
                  f->state ? f->state : "new");
    if (f->end_reason)
        mm_buf_printf(&b, ",\"end\":\"%s\"", f->end_reason);
    if (f->srv_name)
        kstr(&b, "server_name", f->srv_name);
    if (f->sni)
        kstr(&b, "tls_sni", f->sni);
    if (f->http_host)
        kstr(&b, "http_host", f->http_host);
    if (f->source && *f->source)
        kstr(&b, "source", f->source);
    if (f->cli_owner.container || f->cli_owner.pid)
        owner_json(&b, "client_owner", &f->cli_owner);
    if (f->srv_owner.container || f->srv_owner.pid)
        owner_json(&b, "server_owner", &f->srv_owner);
    mm_buf_addc(&b, '}');
    return mm_buf_detach(&b);
}

char *mm_net_stats_json(const mm_net_stats *s)
{
    return mm_xasprintf(
        "{\"packets\":%llu,\"bytes\":%llu,\"malformed\":%llu,\"non_ip\":%llu,"
        "\"fragments\":%llu,\"flows\":%llu,\"flows_active\":%llu,\"flows_dropped\":%llu,"
        "\"reasm_buffered\":%llu,\"reasm_dropped\":%llu,\"dns_answers\":%llu,"
        "\"names\":%llu,\"alerts\":%llu}",
        (unsigned long long)s->packets, (unsigned long long)s->bytes,
        (unsigned long long)s->malformed, (unsigned long long)s->non_ip,
        (unsigned long long)s->fragments, (unsigned long long)s->flows,
        (unsigned long long)s->flows_active, (unsigned long long)s->flows_dropped,
        (unsigned long long)s->reasm_buffered, (unsigned long long)s->reasm_dropped,
        (unsigned long long)s->dns_answers, (unsigned long long)s->names,
        (unsigned long long)s->alerts);
}

char *mm_net_findings_json(const mm_findings *fs)
{
    json_t *a = json_array();
    for (size_t i = 0; fs && i < mm_findings_count(fs); i++) {
        const mm_finding *f = mm_findings_get(fs, i);
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(f->id));
        json_object_set_new(o, "kind", json_string(mm_finding_kind_name(f->kind)));
        json_object_set_new(o, "severity", json_string(mm_severity_name(f->severity)));
        json_object_set_new(o, "title", json_string(f->title));
        json_t *loc = json_object();
        if (f->loc.host)
            json_object_set_new(loc, "host", json_string(f->loc.host));
        if (f->loc.container)
            json_object_set_new(loc, "container", json_string(f->loc.container));
        if (f->loc.process)
            json_object_set_new(loc, "process", json_string(f->loc.process));
        json_object_set_new(o, "location", loc);
        if (f->evidence)
            json_object_set_new(o, "evidence", json_string(f->evidence));
        if (f->remediation)
            json_object_set_new(o, "remediation", json_string(f->remediation));
        json_object_set_new(o, "section", json_string(f->section));
        json_array_append_new(a, o);
    }
    char *s = json_dumps(a, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(a);
    return s;
}

int mm_net_expose_image_config(mm_net *n, const char *workload, const char *cfg, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(cfg, len, 0, &je);
    if (!root)
        return mm_error_set(MM_EFORMAT, "image config: %d:%d: %s", je.line, je.column, je.text);
    json_t *c = json_object_get(root, "config");
    if (!json_is_object(c))
        c = json_object_get(root, "Config");
    if (!json_is_object(c))
        c = root;
    json_t *ports = json_object_get(c, "ExposedPorts");
    int added = 0;
    const char *k;
    json_t *v;
    json_object_foreach(ports, k, v) {
        char *e;
        unsigned long p = strtoul(k, &e, 10);
        if (e == k || p == 0 || p > 65535)
            continue;
        uint8_t proto = !strcmp(e, "/udp") ? IPPROTO_UDP : IPPROTO_TCP;
        if (*e && strcmp(e, "/tcp") && strcmp(e, "/udp"))
            continue;
        mm_net_expose(n, workload, proto, (uint16_t)p);
        added++;
    }
    json_decref(root);
    return added;
}
