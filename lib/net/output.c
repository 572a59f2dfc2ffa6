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

static json_t *owner_json(const mm_net_owner *o)
{
    json_t *j = json_object();
    const mm_container *c = o->container;
    if (c) {
        json_t *x = json_object();
        json_object_set_new(x, "id", json_string(c->id));
        if (c->name)
            json_object_set_new(x, "name", json_string(c->name));
        if (c->image)
            json_object_set_new(x, "image", json_string(c->image));
        if (c->k8s_pod_name)
            json_object_set_new(x, "pod", json_string(c->k8s_pod_name));
        if (c->k8s_ns_name)
            json_object_set_new(x, "namespace", json_string(c->k8s_ns_name));
        json_object_set_new(j, "container", x);
    }
    if (o->pid)
        json_object_set_new(j, "pid", json_integer(o->pid));
    if (o->comm && *o->comm)
        json_object_set_new(j, "comm", json_string(o->comm));
    return j;
}

static json_t *time_json(int64_t ns)
{
    char b[32], out[48];
    mm_time_rfc3339(ns / 1000000000ll, b);
    /* 2024-01-01T00:00:00Z -> with microseconds */
    size_t l = strlen(b);
    if (l && b[l - 1] == 'Z')
        b[l - 1] = 0;
    snprintf(out, sizeof out, "%s.%06lldZ", b, (long long)(ns % 1000000000ll) / 1000);
    return json_string(out);
}

char *mm_net_flow_json(const mm_net_flow *f)
{
    json_t *o = json_object();
    char a[64], fl[10];
    json_object_set_new(o, "id", json_integer((json_int_t)f->id));
    json_object_set_new(o, "proto", json_string(pname(f->proto)));
    json_object_set_new(o, "client", json_string(mm_net_addr_str(&f->cli, a, sizeof a)));
    json_object_set_new(o, "client_port", json_integer(f->cport));
    json_object_set_new(o, "server", json_string(mm_net_addr_str(&f->srv, a, sizeof a)));
    json_object_set_new(o, "server_port", json_integer(f->sport));
    if (f->vlan)
        json_object_set_new(o, "vlan", json_integer(f->vlan));
    json_object_set_new(o, "packets_to_server", json_integer((json_int_t)f->pkts[0]));
    json_object_set_new(o, "packets_to_client", json_integer((json_int_t)f->pkts[1]));
    json_object_set_new(o, "bytes_to_server", json_integer((json_int_t)f->bytes[0]));
    json_object_set_new(o, "bytes_to_client", json_integer((json_int_t)f->bytes[1]));
    if (f->proto == IPPROTO_TCP) {
        flags_str(f->tcp_flags[0], fl);
        json_object_set_new(o, "client_flags", json_string(fl));
        flags_str(f->tcp_flags[1], fl);
        json_object_set_new(o, "server_flags", json_string(fl));
    }
    json_object_set_new(o, "first_seen", time_json(f->first_ns));
    json_object_set_new(o, "last_seen", time_json(f->last_ns));
    json_object_set_new(o, "state", json_string(f->state ? f->state : "new"));
    if (f->end_reason)
        json_object_set_new(o, "end", json_string(f->end_reason));
    if (f->srv_name)
        json_object_set_new(o, "server_name", json_string(f->srv_name));
    if (f->sni)
        json_object_set_new(o, "tls_sni", json_string(f->sni));
    if (f->http_host)
        json_object_set_new(o, "http_host", json_string(f->http_host));
    if (f->source && *f->source)
        json_object_set_new(o, "source", json_string(f->source));
    if (f->cli_owner.container || f->cli_owner.pid)
        json_object_set_new(o, "client_owner", owner_json(&f->cli_owner));
    if (f->srv_owner.container || f->srv_owner.pid)
        json_object_set_new(o, "server_owner", owner_json(&f->srv_owner));
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
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
