/*
 * fuzz_fleet_common.h - what every libFuzzer target of `mamori server`
 * shares: an in-memory SQLite store with no rate limit, bearer tokens of a
 * role (bound to a host for agents), and one request through the whole
 * handler (auth, role, parsing, caps, the store) that aborts on a 5xx:
 * bad input is the client's error, never the server's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/fleet.h"

static inline mm_fleet *fz_fleet_open(void)
{
    mm_fleet_opts o;
    mm_fleet_opts_init(&o);
    o.db = ":memory:";
    o.rate = 1e12;
    mm_fleet *f;
    if (mm_fleet_open(&f, &o) != 0)
        abort();
    return f;
}

/* "Bearer <token>" of a new token (caller frees) */
static inline char *fz_bearer(mm_fleet *f, const char *name, const char *role, const char *host)
{
    char *t, *id;
    if (mm_fleet_token_create(f, name, role, host, &t, &id) != 0)
        abort();
    char *a = malloc(strlen(t) + 8);
    sprintf(a, "Bearer %s", t);
    free(t);
    free(id);
    return a;
}

/* The store with an admin token and an agent token of host h1. */
static inline void fz_fleet_setup(mm_fleet **f, char **admin, char **agent)
{
    *f = fz_fleet_open();
    *admin = fz_bearer(*f, "admin", "admin", NULL);
    *agent = fz_bearer(*f, "agent", "agent", "h1");
}

/* One JSON request; returns the status.  resp is the caller's to clear. */
static inline int fz_call(mm_fleet *f, const char *method, const char *path, const char *auth,
                   const char *body, size_t len, mm_http_resp *resp)
{
    const char *hs[] = {"Authorization", auth, "Content-Type", "application/json", NULL};
    const char *q[] = {NULL};
    mm_http_req rq = {.method = method, .path = path, .body = body, .body_len = len,
                      .peer = "fuzz", .peer_pid = -1, .peer_uid = (uid_t)-1,
                      .fake_headers = hs, .fake_query = q};
    memset(resp, 0, sizeof *resp);
    mm_fleet_handle(f, &rq, resp);
    if (resp->status >= 500)
        abort();
    return resp->status;
}
