/*
 * fuzz_console.c - libFuzzer target for what the web console of `mamori
 * server` parses (issue 20): the Cookie header (session lookup), the login
 * body, the CSRF header, acknowledge/silence bodies, and the query strings
 * of the images, report and event-stream routes.  The input's first byte
 * picks one, the rest is the header, body or query; each request goes
 * through the whole handler (mm_fleet_handle) against an in-memory SQLite
 * store with a live console session.  Hostile input must end in a 4xx,
 * never a crash, a leak or a 5xx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_fleet_common.h"
#include "mamori/fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mm_fleet *fleet;
static char *admin_auth, *cookie, *csrf;

static const char *resp_header(const mm_http_resp *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->hname[i], name) == 0)
            return r->hvalue[i];
    return NULL;
}

static void setup(void)
{
    fleet = fz_fleet_open();
    char *t, *id;
    if (mm_fleet_token_create(fleet, "fuzz-admin", "admin", NULL, &t, &id) != 0)
        abort();
    admin_auth = malloc(strlen(t) + 8);
    sprintf(admin_auth, "Bearer %s", t);
    /* a console session: its cookie and CSRF token */
    char *body = malloc(strlen(t) + 16);
    sprintf(body, "{\"token\":\"%s\"}", t);
    const char *hs[] = {"Content-Type", "application/json", NULL};
    mm_http_req rq = {.method = "POST", .path = "/api/v1/session", .body = body,
                      .body_len = strlen(body), .peer = "fuzz", .peer_pid = -1,
                      .peer_uid = (uid_t)-1, .fake_headers = hs};
    mm_http_resp resp = {0};
    mm_fleet_handle(fleet, &rq, &resp);
    const char *sc = resp_header(&resp, "Set-Cookie");
    const char *c = resp.body ? strstr(resp.body, "\"csrf\":\"") : NULL;
    if (resp.status != 201 || !sc || !c)
        abort();
    cookie = strndup(sc, strcspn(sc, ";"));
    csrf = strndup(c + 8, 64);
    mm_http_resp_clear(&resp);
    free(body);
    free(t);
    free(id);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fleet)
        setup();
    if (size < 1 || size > (1u << 20))
        return 0;
    enum { HDR_COOKIE, BODY_LOGIN, BODY_MARK, HDR_CSRF, Q_IMAGES, Q_REPORT, HDR_STREAM, NR };
    static const struct { const char *method, *path; } routes[] = {
        [HDR_COOKIE] = {"GET", "/api/v1/events"}, [BODY_LOGIN] = {"POST", "/api/v1/session"},
        [BODY_MARK] = {"POST", "/api/v1/alerts/marks"}, [HDR_CSRF] = {"POST", "/api/v1/alerts/marks"},
        [Q_IMAGES] = {"GET", "/api/v1/images"}, [Q_REPORT] = {"GET", "/api/v1/report"},
        [HDR_STREAM] = {"GET", "/api/v1/events/stream"},
    };
    int r = data[0] % NR;
    char *in = malloc(size);
    memcpy(in, data + 1, size - 1);
    in[size - 1] = 0;
    const char *q[34] = {"wait", "0"};   /* the stream never waits here */
    size_t n = 2;
    char *qcopy = NULL;
    if (r == Q_IMAGES || r == Q_REPORT) {
        qcopy = strdup(in);
        for (char *save, *kv = strtok_r(qcopy, "&", &save); kv && n < 32;
             kv = strtok_r(NULL, "&", &save)) {
            char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            *eq = 0;
            q[n++] = kv;
            q[n++] = eq + 1;
        }
    }
    const char *hs[12] = {"Content-Type", "application/json"};
    int h = 2;
    switch (r) {
    case HDR_COOKIE: hs[h++] = "Cookie"; hs[h++] = in; break;
    case HDR_CSRF: hs[h++] = "Cookie"; hs[h++] = cookie; hs[h++] = "X-CSRF-Token"; hs[h++] = in;
        break;
    case HDR_STREAM: hs[h++] = "Cookie"; hs[h++] = cookie; hs[h++] = "Last-Event-ID"; hs[h++] = in;
        break;
    case BODY_MARK: hs[h++] = "Cookie"; hs[h++] = cookie; hs[h++] = "X-CSRF-Token"; hs[h++] = csrf;
        break;
    case BODY_LOGIN: break;
    default: hs[h++] = "Authorization"; hs[h++] = admin_auth; break;
    }
    hs[h] = NULL;
    bool has_body = r == BODY_LOGIN || r == BODY_MARK;
    mm_http_req rq = {.method = routes[r].method, .path = routes[r].path,
                      .body = has_body ? in : "{}", .body_len = has_body ? size - 1 : 2,
                      .peer = "fuzz", .peer_pid = -1, .peer_uid = (uid_t)-1,
                      .fake_headers = hs, .fake_query = q};
    mm_http_resp resp = {0};
    mm_fleet_handle(fleet, &rq, &resp);
    if (resp.status >= 500)
        abort();   /* bad input is the client's error, never the server's */
    mm_http_resp_clear(&resp);
    free(qcopy);
    free(in);
    return 0;
}
