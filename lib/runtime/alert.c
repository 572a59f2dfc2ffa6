/*
 * alert.c - alerts in Falco's JSON shape and the places they go: stdout,
 * stderr, a file (appended, one line per alert), syslog (priority mapped to
 * the syslog level of the same name), or an HTTP endpoint (one POST of the
 * JSON per alert, as Falco's http_output does, through the library's one
 * transport, util/http.h: http and https URLs only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <jansson.h>

#include "runtime/runtime_int.h"
#include "util/http.h"

char *mm_alert_json(const mm_alert *a)
{
    json_t *o = json_object();
    char ts[64], buf[32];
    time_t s = (time_t)(a->ts / 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof ts, "%s.%09lldZ", buf, (long long)(a->ts % 1000000000));
    json_object_set_new(o, "hostname", json_string(a->hostname ? a->hostname : ""));
    json_object_set_new(o, "output", json_string(a->output ? a->output : ""));
    json_object_set_new(o, "priority", json_string(mm_rule_priority_name(a->priority)));
    json_object_set_new(o, "rule", json_string(a->rule ? a->rule : ""));
    json_object_set_new(o, "source", json_string(a->source ? a->source : "syscall"));
    json_t *tags = json_array();
    for (size_t i = 0; i < a->ntags; i++)
        json_array_append_new(tags, json_string(a->tags[i]));
    json_object_set_new(o, "tags", tags);
    json_object_set_new(o, "time", json_string(ts));
    json_t *f = json_object();
    for (size_t i = 0; i < a->nfields; i++) {
        const mm_alert_field *x = &a->fields[i];
        json_t *v;
        if (!x->value)
            v = json_null();
        else if (x->numeric)
            v = json_integer(strtoll(x->value, NULL, 10));
        else
            v = json_stringn_nocheck(x->value, strlen(x->value));
        if (!v)  /* invalid UTF-8 from the event: keep it visible */
            v = json_string("<invalid utf-8>");
        json_object_set_new(f, x->name, v);
    }
    json_object_set_new(o, "output_fields", f);
    if (a->action == MM_ACTION_KILL)
        json_object_set_new(o, "action", json_string("kill"));
    else if (a->action == MM_ACTION_ISOLATE_NODE)
        json_object_set_new(o, "action", json_string("isolate-node"));
    char *s2 = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s2;
}

typedef enum { SINK_FILE, SINK_SYSLOG, SINK_HTTP } sink_kind;

struct mm_alert_sink {
    sink_kind kind;
    FILE *f;
    bool own;
    mm_http *http;
    char *url;
};

int mm_alert_sink_open(mm_alert_sink **out, const char *spec)
{
    *out = NULL;
    if (!spec)
        return mm_error_set(MM_EINVAL, "no alert output");
    mm_alert_sink *s = mm_xcalloc(1, sizeof *s);
    if (!strcmp(spec, "stdout") || !strcmp(spec, "-")) {
        s->kind = SINK_FILE;
        s->f = stdout;
    } else if (!strcmp(spec, "stderr")) {
        s->kind = SINK_FILE;
        s->f = stderr;
    } else if (!strcmp(spec, "syslog")) {
        s->kind = SINK_SYSLOG;
        openlog("mamori", LOG_PID, LOG_USER);
    } else if (strstr(spec, "://") && strncmp(spec, "file:", 5)) {
        /* a URL: http and https only (a URL of another scheme is refused,
         * not taken for a file name) */
        int rc = mm_http_check_url("alert output", spec);
        mm_http_opts ho = {.connect_timeout_s = 5, .total_timeout_s = 5};
        if (rc || (rc = mm_http_new(&s->http, &ho))) {
            free(s);
            return rc;
        }
        s->kind = SINK_HTTP;
        s->url = mm_xstrdup(spec);
    } else {
        const char *path = !strncmp(spec, "file:", 5) ? spec + 5 : spec;
        s->kind = SINK_FILE;
        s->f = fopen(path, "a");
        if (!s->f) {
            free(s);
            return mm_error_set(MM_EIO, "%s: cannot open for alerts: %m", path);
        }
        s->own = true;
    }
    *out = s;
    return 0;
}

int mm_alert_sink_write(mm_alert_sink *s, const mm_alert *a)
{
    char *j = mm_alert_json(a);
    if (!j)
        return mm_error_set(MM_ENOMEM, "cannot format an alert");
    int rc = 0;
    switch (s->kind) {
    case SINK_FILE:
        if (fprintf(s->f, "%s\n", j) < 0 || fflush(s->f) != 0)
            rc = mm_error_set(MM_EIO, "cannot write an alert: %m");
        break;
    case SINK_SYSLOG: {
        static const int lv[] = {LOG_EMERG, LOG_ALERT, LOG_CRIT, LOG_ERR, LOG_WARNING,
                                 LOG_NOTICE, LOG_INFO, LOG_DEBUG};
        syslog(lv[a->priority <= MM_PRI_DEBUG ? a->priority : MM_PRI_DEBUG], "%s", j);
        break;
    }
    case SINK_HTTP: {
        long code = 0;
        rc = mm_http_send(s->http, "POST", s->url, "application/json", j, strlen(j),
                          &code, NULL);
        if (rc)
            rc = mm_error_wrap(MM_EIO, "alert POST failed: ");
        else if (code < 200 || code >= 300)
            rc = mm_error_set(MM_EIO, "%s: alert POST answered HTTP %ld", s->url, code);
        break;
    }
    }
    free(j);
    return rc;
}

void mm_alert_sink_free(mm_alert_sink *s)
{
    if (!s)
        return;
    if (s->own && s->f)
        fclose(s->f);
    if (s->kind == SINK_SYSLOG)
        closelog();
    mm_http_free(s->http);
    free(s->url);
    free(s);
}
