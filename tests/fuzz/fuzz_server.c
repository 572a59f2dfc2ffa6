/*
 * fuzz_server.c - libFuzzer target for the request parsers of `mamori
 * server` (lib/fleet): the input's first byte picks a route (an event
 * batch, a scan report, a heartbeat, a token request, or a list with its
 * filters), the rest is the body or the query string; the request goes
 * through the whole handler (auth, roles, parsing, the store) against an
 * in-memory SQLite store.  Hostile bodies must end in a 4xx, never a
 * crash, a leak or a 5xx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fleet_common.h"
#include "mamori/fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mm_fleet *fleet;
static char *admin_auth, *agent_auth;

static void setup(void)
{
    fleet = fz_fleet_open();
    admin_auth = fz_bearer(fleet, "fuzz-admin", "admin", NULL);
    agent_auth = fz_bearer(fleet, "fuzz-agent", "agent", "h1");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fleet)
        setup();
    if (size < 1 || size > (1u << 20))
        return 0;
    static const struct { const char *method, *path; int agent, query; } routes[] = {
        {"POST", "/api/v1/events", 1, 0}, {"POST", "/api/v1/events", 0, 0},
        {"POST", "/api/v1/scans", 0, 0}, {"POST", "/api/v1/heartbeat", 1, 0},
        {"POST", "/api/v1/tokens", 0, 0}, {"GET", "/api/v1/events", 0, 1},
        {"GET", "/api/v1/findings", 0, 1},
    };
    const size_t nr = sizeof routes / sizeof routes[0];
    size_t r = data[0] % nr;
    char *body = malloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = 0;
    /* a query: "name=value" pairs split at '&' (already decoded, as MHD gives them) */
    const char *q[32] = {NULL};
    char *qcopy = NULL;
    if (routes[r].query) {
        qcopy = strdup(body);
        size_t n = 0;
        for (char *save, *kv = strtok_r(qcopy, "&", &save); kv && n < 30;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = 0;
            q[n++] = kv;
            q[n++] = eq + 1;
        }
    }
    const char *hs[] = {"Authorization", routes[r].agent ? agent_auth : admin_auth,
                        "Content-Type", "application/json", NULL};
    mm_http_req rq = {.method = routes[r].method, .path = routes[r].path,
                      .body = routes[r].query ? "" : body,
                      .body_len = routes[r].query ? 0 : size - 1, .peer = "fuzz",
                      .peer_pid = -1, .peer_uid = (uid_t)-1, .fake_headers = hs,
                      .fake_query = q};
    mm_http_resp resp = {0};
    mm_fleet_handle(fleet, &rq, &resp);
    if (resp.status >= 500)
        abort();   /* bad input is the client's error, never the server's */
    mm_http_resp_clear(&resp);
    free(qcopy);
    free(body);
    return 0;
}
