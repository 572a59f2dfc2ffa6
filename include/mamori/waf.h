/*
 * mamori/waf.h - a web application firewall for container apps (SP 800-190
 * §3.4.4, app vulnerabilities): libmodsecurity3 with the OWASP Core Rule
 * Set, in two places:
 *  - detect mode: HTTP/1.x requests reassembled by the network sensor
 *    (mamori/net.h on_stream) are checked; an attack is an alert (Falco's
 *    shape, rule "Web attack detected (OWASP CRS)") and a finding
 *    (MM-WAF-001) carrying the CRS rule ids, the paranoia level and the
 *    anomaly score;
 *  - inline: a reverse proxy (lib/httpd) in front of an app, answering 403
 *    to what the rules block and forwarding the rest (libcurl).
 * One mm_waf (the compiled rules) may be shared by threads; a check is one
 * ModSecurity transaction.
 */
#ifndef MAMORI_WAF_H
#define MAMORI_WAF_H

#include "mamori/common.h"
#include "mamori/finding.h"
#include "mamori/net.h"
#include "mamori/rules.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mm_waf mm_waf;

typedef struct mm_waf_opts {
    const char *crs_setup;       /* NULL = /etc/modsecurity/crs/crs-setup.conf */
    const char *crs_rules;       /* NULL = /usr/share/modsecurity-crs/rules */
    const char *extra_rules;     /* a file of more SecRule lines (exclusions), NULL */
    int paranoia;                /* CRS paranoia level 1-4 [1] */
    int threshold;               /* inbound anomaly score that blocks [5] */
    bool detect_only;            /* SecRuleEngine DetectionOnly (nothing blocks) */
    size_t max_body;             /* request body inspected [1 MiB] */
} mm_waf_opts;

/* Compiles the Core Rule Set (about a second).  Errors name the file.
 * libmodsecurity is opened here, not at program start: MM_EUNSUPPORTED
 * naming the library when it cannot be loaded. */
int mm_waf_new(mm_waf **out, const mm_waf_opts *o);
void mm_waf_free(mm_waf *w);
/* The number of rules loaded. */
int mm_waf_rule_count(const mm_waf *w);

typedef struct mm_waf_header {
    const char *name, *value;
} mm_waf_header;

typedef struct mm_waf_request {
    const char *client_ip, *server_ip;   /* NULL = "0.0.0.0" */
    int client_port, server_port;
    const char *method;                  /* "GET" */
    const char *uri;                     /* the target as sent: "/a?b=c" */
    const char *version;                 /* "1.1" */
    const mm_waf_header *headers;
    size_t nheaders;
    const uint8_t *body;
    size_t body_len;
} mm_waf_request;

typedef struct mm_waf_match {
    char *id;                    /* "942100" */
    char *msg;
    char *data;                  /* what matched (as ModSecurity logs it), NULL */
    int severity;                /* 0 EMERGENCY .. 7 DEBUG, -1 unknown */
    int paranoia;                /* the rule's paranoia-level tag, 0 = none */
} mm_waf_match;

typedef struct mm_waf_verdict {
    bool attack;                 /* the anomaly score reached the threshold */
    bool blocked;                /* and the engine blocks (not detect-only) */
    int status;                  /* the status to answer with when blocked (403) */
    int score;                   /* the inbound anomaly score */
    int paranoia;                /* the paranoia level in force */
    mm_waf_match *matches;       /* detection rules (not the scoring ones) */
    size_t nmatches;
} mm_waf_verdict;

/* Checks one request.  0, or MM_E* when ModSecurity fails. */
int mm_waf_check(mm_waf *w, const mm_waf_request *r, mm_waf_verdict *out);
void mm_waf_verdict_clear(mm_waf_verdict *v);
/* "942100,942190" (caller frees). */
char *mm_waf_rule_ids(const mm_waf_verdict *v);

/* ---- HTTP/1.x requests from a byte stream (untrusted) ------------------- */

typedef struct mm_waf_http mm_waf_http;
/* Caps: 64 KiB of request line and headers, 100 headers, bodies up to
 * max_body (the rest is skipped, not inspected); chunked bodies decoded. */
mm_waf_http *mm_waf_http_new(size_t max_body);
void mm_waf_http_free(mm_waf_http *h);
/* Feeds client-to-server bytes; fn gets each complete request (borrowed,
 * valid during the call).  gap > 0: bytes were lost before data (the
 * parser resynchronises on the next request line).  Returns the number of
 * requests, or -1 once the stream is not HTTP/1 (then ignore it). */
typedef void (*mm_waf_http_fn)(void *ud, const mm_waf_request *r);
int mm_waf_http_feed(mm_waf_http *h, const uint8_t *data, size_t len, size_t gap,
                     mm_waf_http_fn fn, void *ud);

/* ---- detect mode on the network sensor ------------------------------------ */

typedef struct mm_waf_detect mm_waf_detect;
/* Alerts for each attack (rule "Web attack detected (OWASP CRS)", source
 * "mamori_waf", Critical; fields fd.cip, fd.sip, fd.sport, http.method,
 * http.uri, http.host, waf.rule_ids, waf.paranoia_level,
 * waf.anomaly_score, container.name) and its finding (MM-WAF-001, HIGH,
 * §3.4.4).  w is borrowed. */
mm_waf_detect *mm_waf_detect_new(mm_waf *w, const char *hostname,
                                 mm_net_alert_fn on_alert, void *ud);
void mm_waf_detect_free(mm_waf_detect *d);
/* Plug into mm_net_opts: on_stream = mm_waf_detect_stream, on_flow =
 * mm_waf_detect_flow (frees the flow's state), ud = the detector. */
bool mm_waf_detect_stream(void *ud, const mm_net_flow *f, int dir,
                          const uint8_t *data, size_t len, size_t gap);
void mm_waf_detect_flow(void *ud, const mm_net_flow *f);
typedef struct mm_waf_detect_stats {
    uint64_t requests, attacks, streams_not_http;
} mm_waf_detect_stats;
void mm_waf_detect_stats_get(const mm_waf_detect *d, mm_waf_detect_stats *out);
const mm_findings *mm_waf_detect_findings(const mm_waf_detect *d);

/* One attack as the alert and finding above (r's client/server addresses;
 * container NULL = unknown), handed to fn. */
void mm_waf_report(const char *hostname, const mm_waf_request *r, const mm_waf_verdict *v,
                   const char *container, int64_t ts_ns, mm_net_alert_fn fn, void *ud);

/* ---- inline: the reverse proxy ---------------------------------------------- */

typedef struct mm_waf_proxy mm_waf_proxy;
typedef struct mm_waf_proxy_opts {
    const char *listen;          /* "127.0.0.1:8080" */
    const char *upstream;        /* "http://127.0.0.1:9000" */
    const char *cert_file, *key_file; /* TLS termination (both), else plain HTTP */
    size_t max_body;             /* [1 MiB]; larger requests get 413 */
    unsigned threads;            /* [4] */
    void (*on_block)(void *ud, const mm_waf_request *r, const mm_waf_verdict *v);
    void *ud;                    /* on_block is called on the server's threads */
} mm_waf_proxy_opts;
int mm_waf_proxy_start(mm_waf_proxy **out, mm_waf *w, const mm_waf_proxy_opts *o);
uint16_t mm_waf_proxy_port(const mm_waf_proxy *p);
void mm_waf_proxy_stop(mm_waf_proxy *p);

#ifdef __cplusplus
}
#endif
#endif
