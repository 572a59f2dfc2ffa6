/*
 * fleet/client.h - the small HTTP client (on util/http.h) that the scan upload and the
 * event sender share (client.c), and the report body of a scan.  Private to
 * lib/fleet.
 */
#ifndef MM_FLEET_CLIENT_H
#define MM_FLEET_CLIENT_H

#include "mamori/fleet.h"
#include "util/util.h"

typedef struct fleet_hc {
    void *c;    /* mm_http * (util/http.h) */
    const mm_fleet_client_opts *o;
    char pin[65];   /* the parsed fingerprint, "" when none */
} fleet_hc;

/* The client for o's server, its replies capped at 1 MiB (or max_reply). */
int fleet_hc_init(fleet_hc *h, const mm_fleet_client_opts *o);
int fleet_hc_init_capped(fleet_hc *h, const mm_fleet_client_opts *o, size_t max_reply);
/* POST a JSON body to server + path: 0 with *status (any HTTP status), or
 * MM_ENET when no answer came. */
int fleet_hc_post(fleet_hc *h, const char *path, const char *body, size_t len,
                  long *status, mm_buf *reply);
/* The same for any method (ctype and body NULL for none). */
int fleet_hc_send(fleet_hc *h, const char *method, const char *path, const char *ctype,
                  const char *body, size_t len, long *status, mm_buf *reply);
void fleet_hc_free(fleet_hc *h);
/* Sets the error for a refused request (the server's message) and returns
 * MM_EAUTH (401/403), MM_EFORMAT (400/413/415) or MM_ENET. */
int fleet_status_error(long status, const mm_buf *reply, const char *what);
/* A scan's report as mamori JSON with the default options, the body the
 * server stores (uploads and the workers' results): *json is the
 * caller's to free. */
int fleet_report_json(mm_result *r, char **json);

#endif
