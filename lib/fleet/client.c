/*
 * client.c - the clients of `mamori server`: a scan result uploaded as its
 * JSON report, and the agent's event sender.  The sender gives every event
 * an id (kept when the event has one), gathers batches, and on any failure
 * to deliver writes the batch to a spool folder (one file per batch,
 * written to a temporary name and renamed, so a crash leaves whole batches
 * only); spooled batches go first when the server answers again, oldest
 * first.  Beyond the spool cap the oldest batches are deleted and their
 * events counted as dropped.  The server ignores ids it has, so a batch
 * resent after a lost answer is not stored twice.
 *
 * The HTTP side is the library's one transport (util/http.h: http/https
 * only, timeouts, the reply capped at 1 MiB, TLS with an optional CA file).
 */
#include <stdlib.h>
#include <dirent.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <jansson.h>

#include "mamori/fleet.h"
#include "mamori/report.h"
#include "util/util.h"
#include "util/json.h"
#include "util/http.h"
#include "fleet/client.h"

#define MAX_REPLY (1u << 20)

int fleet_hc_init(fleet_hc *h, const mm_fleet_client_opts *o)
{
    return fleet_hc_init_capped(h, o, MAX_REPLY);
}

int fleet_hc_init_capped(fleet_hc *h, const mm_fleet_client_opts *o, size_t max_reply)
{
    h->o = o;
    h->c = NULL;
    if (!o->server || !(mm_str_startswith(o->server, "https://") ||
                        mm_str_startswith(o->server, "http://")))
        return mm_error_set(MM_EINVAL, "--server '%s': want https://HOST:PORT",
                            o->server ? o->server : "");
    h->pin[0] = 0;
    if (o->fingerprint) {
        int prc = mm_http_pin_parse(o->fingerprint, h->pin);
        if (prc)
            return mm_error_wrap(prc, "--server-fingerprint: ");
    }
    mm_http_opts ho = {
        .connect_timeout_s = 10,
        .total_timeout_s = o->timeout_s > 0 ? o->timeout_s : 30,
        .max_body = max_reply,
        .ca_file = o->ca_file,
        .insecure = o->insecure,
        .pin_sha256 = h->pin[0] ? h->pin : NULL,
    };
    mm_http *c = NULL;
    int rc = mm_http_new(&c, &ho);
    if (rc)
        return rc;
    h->c = c;
    return 0;
}

/* POST path with a JSON body; *status and the reply (capped). */
int fleet_hc_post(fleet_hc *h, const char *path, const char *body, size_t len,
                   long *status, mm_buf *reply)
{
    return fleet_hc_send(h, "POST", path, "application/json", body, len, status, reply);
}

int fleet_hc_send(fleet_hc *h, const char *method, const char *path, const char *ctype,
                  const char *body, size_t len, long *status, mm_buf *reply)
{
    char *url = mm_xasprintf("%s%s", h->o->server, path);
    size_t ul = strlen(h->o->server);
    if (ul && h->o->server[ul - 1] == '/')
        url = (free(url), mm_xasprintf("%.*s%s", (int)(ul - 1), h->o->server, path));
    char *auth = mm_xasprintf("Authorization: Bearer %s", h->o->token ? h->o->token : "");
    const char *hdrs[] = {auth, NULL};
    mm_buf_clear(reply);
    int rc = mm_http_send_hdrs(h->c, method, url, ctype, body, len, hdrs, status, reply);
    explicit_bzero(auth, strlen(auth));
    free(auth);
    free(url);
    return rc;
}

void fleet_hc_free(fleet_hc *h)
{
    mm_http_free(h->c);
    h->c = NULL;
}

/* the server's {"error": ...} message, or the status */
int fleet_status_error(long status, const mm_buf *reply, const char *what)
{
    json_t *j = reply->data ? json_loadb(reply->data, reply->len, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(j, "error"));
    int code = status == 401 || status == 403 ? MM_EAUTH
             : status == 400 || status == 413 || status == 415 ? MM_EFORMAT : MM_ENET;
    mm_error_set(code, "%s: the server answered %ld%s%s", what, status, msg ? ": " : "",
                 msg ? msg : "");
    json_decref(j);
    return code;
}

int mm_fleet_upload_report(const mm_fleet_client_opts *o, const char *json, size_t len,
                           const char *host, char **scan_id)
{
    if (scan_id)
        *scan_id = NULL;
    fleet_hc h;
    int rc;
    if ((rc = fleet_hc_init(&h, o)) != 0)
        return rc;
    char *path = NULL;
    if (host) {
        char *e = mm_http_escape(host);
        path = mm_xasprintf("/api/v1/scans?host=%s", e);
        free(e);
    }
    long status;
    mm_buf reply = MM_BUF_INIT;
    rc = fleet_hc_post(&h, path ? path : "/api/v1/scans", json, len, &status, &reply);
    if (rc == 0 && status != 201)
        rc = fleet_status_error(status, &reply, "upload");
    if (rc == 0 && scan_id) {
        json_t *j = json_loadb(reply.data ? reply.data : "", reply.len, 0, NULL);
        *scan_id = mm_xstrdup(json_string_value(json_object_get(j, "id")));
        json_decref(j);
    }
    mm_buf_free(&reply);
    free(path);
    fleet_hc_free(&h);
    return rc;
}

int fleet_report_json(mm_result *r, char **json)
{
    mm_report_opts ro;
    mm_report_opts_init(&ro);
    return mm_report_json_string(json, r, &ro);
}

int mm_fleet_upload_scan(const mm_fleet_client_opts *o, mm_result *r,
                         const char *host, char **scan_id)
{
    if (scan_id)
        *scan_id = NULL;
    char *json = NULL;
    int rc = fleet_report_json(r, &json);
    if (rc)
        return rc;
    rc = mm_fleet_upload_report(o, json, strlen(json), host, scan_id);
    free(json);
    return rc;
}
