/*
 * fuzz_inventory.c - libFuzzer target for the host inventory routes of
 * `mamori server` (lib/fleet/inventory.c, issue 18): the input is the body
 * of POST /api/v1/inventory sent with an agent token of host h1 through
 * the whole handler (auth, role, parsing, caps, the store) against an
 * in-memory SQLite store; when it is stored, GET
 * /api/v1/hosts/h1/inventory reads it back and the reply must be a JSON
 * object.  Hostile bodies must end in a 4xx, never a crash, a leak or a
 * 5xx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_fleet_common.h"
#include "mamori/fleet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mm_fleet *fleet;
static char *admin_auth, *agent_auth;


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fleet)
        fz_fleet_setup(&fleet, &admin_auth, &agent_auth);
    if (size > (4u << 20))
        return 0;
    char *body = malloc(size + 1);
    memcpy(body, data, size);
    body[size] = 0;
    mm_http_resp resp;
    int st = fz_call(fleet, "POST", "/api/v1/inventory", agent_auth, body, size, &resp);
    mm_http_resp_clear(&resp);
    if (st == 200) {
        fz_call(fleet, "GET", "/api/v1/hosts/h1/inventory", admin_auth, "", 0, &resp);
        json_t *j = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
        if (resp.status != 200 || !json_is_object(j) ||
            !json_is_array(json_object_get(j, "processes")))
            abort();   /* what was stored reads back as the documented object */
        json_decref(j);
        mm_http_resp_clear(&resp);
    }
    free(body);
    return 0;
}
