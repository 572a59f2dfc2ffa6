/*
 * detect.c - the WAF's detect mode on the network sensor: the client side
 * of each TCP stream (mm_net_opts.on_stream) goes through the HTTP/1
 * parser, each request through the Core Rule Set (a detect-only engine,
 * or a blocking one whose verdict is only reported), and each attack
 * becomes an alert in Falco's shape and a finding (MM-WAF-001, §3.4.4)
 * with the CRS rule ids, the paranoia level and the anomaly score.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mamori/waf.h"
#include "util/util.h"

typedef struct flow_st {
    mm_waf_http *http;
} flow_st;

struct mm_waf_detect {
    mm_waf *w;
    char *hostname;
    mm_net_alert_fn on_alert;
    void *ud;
    mm_map *flows;               /* flow id -> flow_st */
    mm_findings *findings;
    mm_waf_detect_stats st;
    const mm_net_flow *cur;      /* during a feed */
};

static void flow_free(void *p)
{
    flow_st *s = p;
    if (!s)
        return;
    mm_waf_http_free(s->http);
    free(s);
}

mm_waf_detect *mm_waf_detect_new(mm_waf *w, const char *hostname,
                                 mm_net_alert_fn on_alert, void *ud)
{
    mm_waf_detect *d = mm_xcalloc(1, sizeof *d);
    d->w = w;
    char h[256] = "";
    if (!hostname && gethostname(h, sizeof h - 1) == 0)
        hostname = h;
    d->hostname = mm_xstrdup(hostname ? hostname : "");
    d->on_alert = on_alert;
    d->ud = ud;
    d->flows = mm_map_new();
    mm_findings_new(&d->findings);
    return d;
}

void mm_waf_detect_free(mm_waf_detect *d)
{
    if (!d)
        return;
    mm_map_free(d->flows, flow_free);
    mm_findings_free(d->findings);
    free(d->hostname);
    free(d);
}

void mm_waf_detect_stats_get(const mm_waf_detect *d, mm_waf_detect_stats *out)
{
    *out = d->st;
}

const mm_findings *mm_waf_detect_findings(const mm_waf_detect *d) { return d->findings; }

static const char *req_header(const mm_waf_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (!strcasecmp(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

void mm_waf_report(const char *hostname, const mm_waf_request *r, const mm_waf_verdict *v,
                   const char *container, int64_t ts_ns, mm_net_alert_fn fn, void *ud)
{
    char sport[16], cport[16], pl[8], score[16];
    const char *cli = r->client_ip ? r->client_ip : "<NA>";
    const char *srv = r->server_ip ? r->server_ip : "<NA>";
    snprintf(sport, sizeof sport, "%d", r->server_port);
    snprintf(cport, sizeof cport, "%d", r->client_port);
    snprintf(pl, sizeof pl, "%d", v->paranoia);
    snprintf(score, sizeof score, "%d", v->score);
    char *ids = mm_waf_rule_ids(v);
    char *uri = mm_str_printable(r->uri ? r->uri : "");
    if (strlen(uri) > 512)
        uri[512] = 0;
    char *method = mm_str_printable(r->method ? r->method : "");
    const char *host = req_header(r, "Host");
    char *hostp = mm_str_printable(host ? host : "<NA>");
    const char *ctname = container && *container ? container : "<NA>";
    /* the most severe match names the attack (0 EMERGENCY .. 7 DEBUG) */
    const char *first = "anomaly score";
    int best = 99;
    for (size_t i = 0; i < v->nmatches; i++)
        if (v->matches[i].msg && v->matches[i].severity >= 0 && v->matches[i].severity < best) {
            best = v->matches[i].severity;
            first = v->matches[i].msg;
        }
    char *out = mm_xasprintf("Web attack %s (OWASP CRS) %s %s rules=%s score=%d "
                             "paranoia=%d (client=%s server=%s:%s host=%s container=%s: %s)",
                             v->blocked ? "blocked" : "detected", method, uri, ids, v->score,
                             v->paranoia, cli, srv, sport, hostp, ctname, first);
    mm_alert_field fl[] = {
        {"fd.cip", cli, false}, {"fd.cport", cport, true},
        {"fd.sip", srv, false}, {"fd.sport", sport, true},
        {"http.method", method, false}, {"http.uri", uri, false},
        {"http.host", hostp, false}, {"waf.rule_ids", ids, false},
        {"waf.paranoia_level", pl, true}, {"waf.anomaly_score", score, true},
        {"waf.blocked", v->blocked ? "true" : "false", false},
        {"container.name", ctname, false},
    };
    static const char *const tags[] = {"network", "waf", "owasp_crs", "NIST_800-190_3.4.4"};
    mm_alert a = {.ts = ts_ns, .rule = "Web attack detected (OWASP CRS)",
                  .priority = MM_PRI_CRITICAL, .output = out, .fields = fl,
                  .nfields = sizeof fl / sizeof fl[0], .tags = tags, .ntags = 4,
                  .source = "mamori_waf", .hostname = hostname};
    char *ev = mm_xasprintf("%s %s from %s: CRS rules %s, anomaly score %d at paranoia "
                            "level %d%s", method, uri, cli, ids, v->score, v->paranoia,
                            v->blocked ? " (blocked)" : "");
    char *title = mm_xasprintf("Web attack: %s", first);
    mm_finding fd = {.id = (char *)"MM-WAF-001", .kind = MM_FIND_NETWORK,
                     .severity = MM_SEV_HIGH, .title = title, .evidence = ev,
                     .remediation = (char *)"Find and fix the application flaw the request "
                     "probes; put the WAF inline (mamori waf --listen) in front of the app "
                     "and block the client (SP 800-190 §3.4.4).",
                     .section = (char *)"3.4.4"};
    fd.loc.layer = -1;
    fd.loc.host = (char *)hostname;
    fd.loc.container = container && *container ? (char *)container : NULL;
    if (fn)
        fn(ud, &a, &fd);
    free(title);
    free(ev);
    free(out);
    free(hostp);
    free(method);
    free(uri);
    free(ids);
}

static void on_finding(void *ud, const mm_alert *a, const mm_finding *f)
{
    mm_waf_detect *d = ud;
    if (mm_findings_count(d->findings) < 100000)
        mm_findings_add(d->findings, f);
    if (d->on_alert)
        d->on_alert(d->ud, a, f);
}

static void on_request(void *ud, const mm_waf_request *r)
{
    mm_waf_detect *d = ud;
    const mm_net_flow *f = d->cur;
    char cli[64], srv[64];
    mm_net_addr_str(&f->cli, cli, sizeof cli);
    mm_net_addr_str(&f->srv, srv, sizeof srv);
    mm_waf_request q = *r;
    q.client_ip = cli;
    q.server_ip = srv;
    q.client_port = f->cport;
    q.server_port = f->sport;
    d->st.requests++;
    mm_waf_verdict v;
    if (mm_waf_check(d->w, &q, &v) != 0)
        return;
    if (v.attack) {
        d->st.attacks++;
        const mm_container *ct = f->srv_owner.container;
        mm_waf_report(d->hostname, &q, &v, ct ? (ct->name ? ct->name : ct->id) : NULL,
                      f->last_ns, on_finding, d);
    }
    mm_waf_verdict_clear(&v);
}

bool mm_waf_detect_stream(void *ud, const mm_net_flow *f, int dir,
                          const uint8_t *data, size_t len, size_t gap)
{
    mm_waf_detect *d = ud;
    if (dir != MM_NET_DIR_C2S)
        return true;
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)f->id);
    flow_st *s = mm_map_get(d->flows, key);
    if (!s) {
        s = mm_xcalloc(1, sizeof *s);
        s->http = mm_waf_http_new(1u << 20);
        mm_map_put(d->flows, key, s);
    }
    d->cur = f;
    int n = mm_waf_http_feed(s->http, data, len, gap, on_request, d);
    d->cur = NULL;
    if (n < 0) {
        d->st.streams_not_http++;
        flow_free(mm_map_del(d->flows, key));
        return false;
    }
    return true;
}

void mm_waf_detect_flow(void *ud, const mm_net_flow *f)
{
    mm_waf_detect *d = ud;
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)f->id);
    flow_free(mm_map_del(d->flows, key));
}
