/*
 * fuzz_server_ops.c - libFuzzer target for the operations parsers of
 * `mamori server` (issue 19): the input's first byte picks a schedule, a
 * notification route or a retention body sent through the whole API
 * handler (admin token, in-memory SQLite store), or a mamori JSON report
 * read back as an inventory (mm_sbom_parse, what the re-match reads from
 * the store), or a whole --config file (YAML) applied to the store.
 * Hostile bodies must end in a 4xx or a clean error, never a
 * crash, a leak or a 5xx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_fleet_common.h"
#include "mamori/fleet.h"
#include "mamori/sbom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mm_fleet *fleet;
static char *admin_auth;
static char cfg_path[64];

static void cleanup(void)
{
    if (cfg_path[0])
        unlink(cfg_path);
}

static void setup(void)
{
    fleet = fz_fleet_open();
    admin_auth = fz_bearer(fleet, "fuzz-admin", "admin", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fleet)
        setup();
    if (size < 1 || size > (1u << 20))
        return 0;
    static const struct { const char *method, *path; } routes[] = {
        {"POST", "/api/v1/schedules"}, {"POST", "/api/v1/notify/routes"},
        {"PUT", "/api/v1/retention"}, {NULL, NULL}, {"CONFIG", NULL},
    };
    size_t r = data[0] % (sizeof routes / sizeof routes[0]);
    if (routes[r].method && !routes[r].path) {
        if (!cfg_path[0]) {
            snprintf(cfg_path, sizeof cfg_path, "/tmp/fuzz_server_ops.%d.yaml", (int)getpid());
            atexit(cleanup);
        }
        FILE *fp = fopen(cfg_path, "wb");
        if (!fp)
            abort();
        fwrite(data + 1, 1, size - 1, fp);
        fclose(fp);
        mm_fleet_config_apply(fleet, cfg_path);   /* an error is fine; a crash is not */
        return 0;
    }
    if (!routes[r].method) {
        mm_result *res = NULL;
        if (mm_sbom_parse(&res, (const char *)data + 1, size - 1, "fuzz") == 0)
            mm_result_free(res);
        return 0;
    }
    char *body = malloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = 0;
    const char *hs[] = {"Authorization", admin_auth, "Content-Type", "application/json", NULL};
    const char *q[] = {NULL};
    mm_http_req rq = {.method = routes[r].method, .path = routes[r].path, .body = body,
                      .body_len = size - 1, .peer = "fuzz", .peer_pid = -1,
                      .peer_uid = (uid_t)-1, .fake_headers = hs, .fake_query = q};
    mm_http_resp resp = {0};
    mm_fleet_handle(fleet, &rq, &resp);
    if (resp.status >= 500)
        abort();   /* bad input is the client's error, never the server's */
    mm_http_resp_clear(&resp);
    free(body);
    return 0;
}
