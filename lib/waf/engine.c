/*
 * engine.c - the WAF engine: libmodsecurity3 with the OWASP Core Rule Set
 * loaded from Debian's modsecurity-crs (crs-setup.conf, then the paranoia
 * level and anomaly threshold, then the rules), one ModSecurity
 * transaction per request.  What matched is read from ModSecurity's log
 * callback (one message per rule: id, msg, data, severity, tags), the
 * anomaly score from CRS's blocking rule 949110 or, below the threshold
 * (where 949110 stays silent), as CRS adds it up: 5, 4, 3, 2 per matched
 * rule of severity CRITICAL, ERROR, WARNING, NOTICE.
 *
 * libmodsecurity is not linked: mm_waf_new() opens it by the SONAME the
 * build recorded (waf_config.h) and binds the 18 functions below into the
 * engine (util/dlopen.h), so that the commands without a WAF do not map it
 * and its dependencies (lua, GeoIP, curl, yajl, ...) at every start.
 */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <modsecurity/intervention.h>
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>

#include "mamori/waf.h"
#include "util/dlopen.h"
#include "util/util.h"
#include "waf/waf_config.h"


/* The ModSecurity C API this file calls, typed by its headers. */
typedef struct msc_api {
    MM_DLSYM_FIELD(msc_add_request_header);
    MM_DLSYM_FIELD(msc_append_request_body);
    MM_DLSYM_FIELD(msc_cleanup);
    MM_DLSYM_FIELD(msc_create_rules_set);
    MM_DLSYM_FIELD(msc_init);
    MM_DLSYM_FIELD(msc_intervention);
    MM_DLSYM_FIELD(msc_new_transaction);
    MM_DLSYM_FIELD(msc_process_connection);
    MM_DLSYM_FIELD(msc_process_logging);
    MM_DLSYM_FIELD(msc_process_request_body);
    MM_DLSYM_FIELD(msc_process_request_headers);
    MM_DLSYM_FIELD(msc_process_uri);
    MM_DLSYM_FIELD(msc_rules_add);
    MM_DLSYM_FIELD(msc_rules_add_file);
    MM_DLSYM_FIELD(msc_rules_cleanup);
    MM_DLSYM_FIELD(msc_set_connector_info);
    MM_DLSYM_FIELD(msc_set_log_cb);
    MM_DLSYM_FIELD(msc_transaction_cleanup);
} msc_api;

struct mm_waf {
    void *lib;                   /* libmodsecurity's handle (mm_dlclose) */
    msc_api api;
    ModSecurity *ms;
    RulesSet *rules;
    int nrules;
    mm_waf_opts o;
    mm_map *pl;                  /* rule id -> its paranoia level (1-4) */
};

typedef struct tx_log {
    mm_waf_verdict *v;
    const mm_waf *w;
    bool score_seen;
} tx_log;

/* The value of [key "..."] in a ModSecurity message (backslash escapes
 * kept as logged); NULL when absent.  Caller frees. */
static char *field(const char *msg, const char *key, const char **from)
{
    char pat[32];
    snprintf(pat, sizeof pat, "[%s \"", key);
    const char *p = strstr(from && *from ? *from : msg, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    const char *e = p;
    while (*e && !(e[0] == '"' && e[1] == ']'))
        e += e[0] == '\\' && e[1] ? 2 : 1;
    if (from)
        *from = e;
    return mm_xstrndup(p, (size_t)(e - p));
}

static void on_log(void *data, const void *msgp)
{
    tx_log *l = data;
    const char *msg = msgp;
    if (!l || !msg)
        return;
    char *id = field(msg, "id", NULL);
    if (!id)
        return;
    char *m = field(msg, "msg", NULL);
    if (!strcmp(id, "949110")) {
        const char *s = m ? strstr(m, "Total Score: ") : NULL;
        if (s)
            l->v->score = atoi(s + 13);
        l->score_seen = true;
        l->v->attack = true;
        free(m);
        free(id);
        return;
    }
    long n = atol(id);
    if ((n >= 900000 && n < 902000) || (n >= 949000 && n < 950000) ||
        (n >= 959000 && n < 960000) || (n >= 980000 && n < 981000) ||
        (n >= 9990000 && n < 9991000) || l->v->nmatches >= 256) {
        free(m);
        free(id);
        return;
    }
    mm_waf_match *x;
    l->v->matches = mm_xrealloc(l->v->matches, (l->v->nmatches + 1) * sizeof *x);
    x = &l->v->matches[l->v->nmatches++];
    memset(x, 0, sizeof *x);
    x->id = id;
    x->msg = m;
    x->data = field(msg, "data", NULL);
    void *pl = l->w ? mm_map_get(l->w->pl, id) : NULL;
    if (pl)
        x->paranoia = (int)(uintptr_t)pl;
    char *sev = field(msg, "severity", NULL);
    x->severity = sev ? atoi(sev) : -1;
    free(sev);
    const char *from = NULL;
    char *tag;
    while ((tag = field(msg, "tag", &from))) {
        if (!strncmp(tag, "paranoia-level/", 15))
            x->paranoia = atoi(tag + 15);
        free(tag);
    }
}

static int add_rules(mm_waf *w, const char *text, const char *what)
{
    const char *err = NULL;
    int n = w->api.msc_rules_add(w->rules, text, &err);
    if (n < 0)
        return mm_error_set(MM_EFORMAT, "%s: %s", what, err ? err : "refused");
    w->nrules += n;
    return 0;
}

/* The paranoia level of each rule of a CRS file: its tag
 * 'paranoia-level/N' (ModSecurity does not log tags). */
static void note_levels(mm_waf *w, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    if (mm_file_read(path, 8u << 20, &data, &len) != 0)
        return;
    const char *p = data, *end = data + len;
    while ((p = strstr(p, "id:")) && p < end) {
        p += 3;
        if (*p < '0' || *p > '9')
            continue;
        char id[16];
        size_t k = 0;
        while (p < end && *p >= '0' && *p <= '9' && k < sizeof id - 1)
            id[k++] = *p++;
        id[k] = 0;
        const char *next = strstr(p, "id:"), *tag = strstr(p, "paranoia-level/");
        if (tag && (!next || tag < next) && tag[15] >= '1' && tag[15] <= '4')
            mm_map_put(w->pl, id, (void *)(uintptr_t)(tag[15] - '0'));
    }
    free(data);
}

static int add_file(mm_waf *w, const char *path)
{
    note_levels(w, path);
    const char *err = NULL;
    int n = w->api.msc_rules_add_file(w->rules, path, &err);
    if (n < 0)
        return mm_error_set(MM_EFORMAT, "%s: %s", path, err ? err : "refused");
    w->nrules += n;
    return 0;
}

static int bind_api(mm_waf *w)
{
    msc_api *a = &w->api;
    const mm_dlsym syms[] = {
        MM_DLSYM(a, msc_add_request_header),
        MM_DLSYM(a, msc_append_request_body),
        MM_DLSYM(a, msc_cleanup),
        MM_DLSYM(a, msc_create_rules_set),
        MM_DLSYM(a, msc_init),
        MM_DLSYM(a, msc_intervention),
        MM_DLSYM(a, msc_new_transaction),
        MM_DLSYM(a, msc_process_connection),
        MM_DLSYM(a, msc_process_logging),
        MM_DLSYM(a, msc_process_request_body),
        MM_DLSYM(a, msc_process_request_headers),
        MM_DLSYM(a, msc_process_uri),
        MM_DLSYM(a, msc_rules_add),
        MM_DLSYM(a, msc_rules_add_file),
        MM_DLSYM(a, msc_rules_cleanup),
        MM_DLSYM(a, msc_set_connector_info),
        MM_DLSYM(a, msc_set_log_cb),
        MM_DLSYM(a, msc_transaction_cleanup),
    };
    int rc = mm_dlopen_syms(&w->lib, MM_MODSECURITY_SONAME, syms, sizeof syms / sizeof *syms);
    if (rc)
        return mm_error_wrap(rc, "the WAF needs libmodsecurity at run time: ");
    return 0;
}

int mm_waf_new(mm_waf **out, const mm_waf_opts *o)
{
    *out = NULL;
    mm_waf_opts def = {0};
    if (!o)
        o = &def;
    mm_waf *w = mm_xcalloc(1, sizeof *w);
    w->o = *o;
    if (w->o.paranoia < 1)
        w->o.paranoia = 1;
    if (w->o.paranoia > 4)
        return free(w), mm_error_set(MM_EINVAL, "paranoia level %d: 1 to 4", o->paranoia);
    if (w->o.threshold <= 0)
        w->o.threshold = 5;
    if (!w->o.max_body)
        w->o.max_body = 1u << 20;
    const char *setup = o->crs_setup ? o->crs_setup : "/etc/modsecurity/crs/crs-setup.conf";
    const char *dir = o->crs_rules ? o->crs_rules : "/usr/share/modsecurity-crs/rules";
    w->pl = mm_map_new();
    int rc = bind_api(w);
    if (rc) {
        mm_waf_free(w);
        return rc;
    }
    w->ms = w->api.msc_init();
    w->api.msc_set_connector_info(w->ms, "mamori");
    w->api.msc_set_log_cb(w->ms, on_log);
    w->rules = w->api.msc_create_rules_set();
    char *base = mm_xasprintf(
        "SecRuleEngine %s\n"
        "SecRequestBodyAccess On\n"
        "SecRequestBodyLimit %zu\n"
        "SecRequestBodyNoFilesLimit %zu\n"
        "SecRequestBodyLimitAction ProcessPartial\n"
        "SecResponseBodyAccess Off\n"
        "SecArgumentSeparator &\n"
        "SecCookieFormat 0\n"
        "SecAuditEngine Off\n"
        "SecRule REQUEST_HEADERS:Content-Type \"(?:application(?:/soap\\+|/)|text/)xml\" "
        "\"id:9990010,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML\"\n"
        "SecRule REQUEST_HEADERS:Content-Type \"application/json\" "
        "\"id:9990011,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON\"\n",
        o->detect_only ? "DetectionOnly" : "On", w->o.max_body, w->o.max_body);
    rc = add_rules(w, base, "mamori's base configuration");
    free(base);
    if (!rc)
        rc = add_file(w, setup);
    if (!rc) {
        char *pl = mm_xasprintf(
            "SecAction \"id:9990020,phase:1,nolog,pass,t:none,"
            "setvar:tx.paranoia_level=%d,setvar:tx.inbound_anomaly_score_threshold=%d\"\n",
            w->o.paranoia, w->o.threshold);
        rc = add_rules(w, pl, "paranoia level");
        free(pl);
    }
    const char *before = "/etc/modsecurity/crs/REQUEST-900-EXCLUSION-RULES-BEFORE-CRS.conf";
    if (!rc && access(before, R_OK) == 0)
        rc = add_file(w, before);
    if (!rc) {
        glob_t g;
        char *pat = mm_xasprintf("%s/*.conf", dir);
        int gr = glob(pat, 0, NULL, &g);
        free(pat);
        if (gr != 0 || g.gl_pathc == 0) {
            rc = mm_error_set(MM_ENOTFOUND, "%s: no Core Rule Set (*.conf) there "
                              "(Debian package modsecurity-crs)", dir);
        } else {
            for (size_t i = 0; i < g.gl_pathc && !rc; i++)
                rc = add_file(w, g.gl_pathv[i]);
        }
        if (gr == 0)
            globfree(&g);
    }
    if (!rc && o->extra_rules)
        rc = add_file(w, o->extra_rules);
    if (rc) {
        mm_waf_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

void mm_waf_free(mm_waf *w)
{
    if (!w)
        return;
    if (w->rules)
        w->api.msc_rules_cleanup(w->rules);
    if (w->ms)
        w->api.msc_cleanup(w->ms);
    mm_dlclose(w->lib);
    mm_map_free(w->pl, NULL);
    free(w);
}

int mm_waf_rule_count(const mm_waf *w) { return w ? w->nrules : 0; }

void mm_waf_verdict_clear(mm_waf_verdict *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nmatches; i++) {
        free(v->matches[i].id);
        free(v->matches[i].msg);
        free(v->matches[i].data);
    }
    free(v->matches);
    memset(v, 0, sizeof *v);
}

char *mm_waf_rule_ids(const mm_waf_verdict *v)
{
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < v->nmatches; i++) {
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++)
            dup = !strcmp(v->matches[i].id, v->matches[j].id);
        if (dup)
            continue;
        if (b.len)
            mm_buf_addc(&b, ',');
        mm_buf_adds(&b, v->matches[i].id);
    }
    return mm_buf_detach(&b);
}

static void intervene(Transaction *t, tx_log *lg)
{
    mm_waf_verdict *v = lg->v;
    ModSecurityIntervention it = {.status = 200};
    if (lg->w->api.msc_intervention(t, &it) && it.disruptive && !v->blocked) {
        v->blocked = true;
        v->status = it.status >= 400 ? it.status : 403;
        if (it.log)              /* the disruptive rule's message (949110) */
            on_log(lg, it.log);
    }
    free(it.url);
    free(it.log);
}

int mm_waf_check(mm_waf *w, const mm_waf_request *r, mm_waf_verdict *out)
{
    memset(out, 0, sizeof *out);
    out->paranoia = w->o.paranoia;
    tx_log lg = {.v = out, .w = w};
    Transaction *t = w->api.msc_new_transaction(w->ms, w->rules, &lg);
    if (!t)
        return mm_error_set(MM_ENOMEM, "ModSecurity: no transaction");
    w->api.msc_process_connection(t, r->client_ip ? r->client_ip : "0.0.0.0", r->client_port,
                           r->server_ip ? r->server_ip : "0.0.0.0", r->server_port);
    intervene(t, &lg);
    w->api.msc_process_uri(t, r->uri ? r->uri : "/", r->method ? r->method : "GET",
                    r->version ? r->version : "1.1");
    for (size_t i = 0; i < r->nheaders; i++)
        w->api.msc_add_request_header(t, (const unsigned char *)r->headers[i].name,
                               (const unsigned char *)(r->headers[i].value ?
                                                       r->headers[i].value : ""));
    w->api.msc_process_request_headers(t);
    intervene(t, &lg);
    if (!out->blocked) {
        if (r->body_len)
            w->api.msc_append_request_body(t, r->body, r->body_len < w->o.max_body ?
                                                r->body_len : w->o.max_body);
        w->api.msc_process_request_body(t);
        intervene(t, &lg);
    }
    w->api.msc_process_logging(t);
    w->api.msc_transaction_cleanup(t);
    if (!lg.score_seen) {
        for (size_t i = 0; i < out->nmatches; i++) {
            int sev = out->matches[i].severity;
            out->score += sev == 2 ? 5 : sev == 3 ? 4 : sev == 4 ? 3 : sev == 5 ? 2 : 0;
        }
    }
    if (out->score >= w->o.threshold)
        out->attack = true;
    if (out->blocked)
        out->attack = true;
    return 0;
}
