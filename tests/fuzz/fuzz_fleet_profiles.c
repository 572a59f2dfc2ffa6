/*
 * fuzz_fleet_profiles.c - libFuzzer target for the runtime profile and
 * capture uploads of `mamori server` (lib/fleet/profiles_parse.c and
 * profiles.c, issue 20a).  The first byte picks the route (modulo 3): the
 * body of POST /api/v1/profiles, of POST /api/v1/captures, or of POST
 * /api/v1/captures/file (read back through the download); the rest is the
 * body, sent with an agent token of host h1 through the whole handler
 * (auth, role, parsing, caps, the store) against an in-memory SQLite
 * store.  A stored profile is read back (list, get, drift: JSON objects),
 * enforced (confirmed), and the agent's merged document fetched and given
 * to the agent's profile loader, which may refuse it but must not crash.
 * Hostile bodies must end in a 4xx, never a crash, a leak or a 5xx.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz_fleet_common.h"
#include "mamori/fleet.h"
#include "mamori/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static mm_fleet *fleet;
static char *admin_auth, *agent_auth;


/* GET path must answer 200 with a JSON object; returns it (caller frees) */
static json_t *get_obj(const char *path)
{
    mm_http_resp resp;
    fz_call(fleet, "GET", path, admin_auth, "", 0, &resp);
    json_t *j = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
    if (resp.status != 200 || !json_is_object(j))
        abort();
    mm_http_resp_clear(&resp);
    return j;
}

static void profile_round_trip(const mm_http_resp *up)
{
    json_t *r = json_loadb(up->body ? up->body : "", up->body_len, 0, NULL);
    json_t *ids = json_object_get(r, "profiles");
    if (!json_is_array(ids))
        abort();
    json_decref(get_obj("/api/v1/profiles"));
    for (size_t i = 0; i < json_array_size(ids) && i < 4; i++) {
        const char *id = json_string_value(json_object_get(json_array_get(ids, i), "id"));
        if (!id)
            abort();
        char path[200];
        snprintf(path, sizeof path, "/api/v1/profiles/%s", id);
        json_decref(get_obj(path));
        snprintf(path, sizeof path, "/api/v1/profiles/%s/drift", id);
        json_decref(get_obj(path));
        snprintf(path, sizeof path, "/api/v1/profiles/%s/enforce", id);
        mm_http_resp resp;
        if (fz_call(fleet, "POST", path, admin_auth, "{\"confirm\":true}", 16, &resp) != 200)
            abort();
        mm_http_resp_clear(&resp);
    }
    json_decref(r);
    mm_http_resp resp;
    fz_call(fleet, "GET", "/api/v1/agent/profiles", agent_auth, "", 0, &resp);
    if (resp.status != 200)
        abort();
    mm_profile *p = NULL;
    mm_profile_load_string(&p, "fetched", resp.body ? resp.body : "", resp.body_len);
    mm_profile_free(p);
    mm_http_resp_clear(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fleet)
        fz_fleet_setup(&fleet, &admin_auth, &agent_auth);
    if (size < 1 || size > (4u << 20))
        return 0;
    int mode = data[0] % 3;
    static const char *const paths[] = {"/api/v1/profiles", "/api/v1/captures",
                                        "/api/v1/captures/file"};
    char *body = malloc(size);
    memcpy(body, data + 1, size - 1);
    body[size - 1] = 0;
    mm_http_resp resp;
    int st = fz_call(fleet, "POST", paths[mode], agent_auth, body, size - 1, &resp);
    if (st == 200 && mode == 0)
        profile_round_trip(&resp);
    if (st == 200 && mode == 1)
        json_decref(get_obj("/api/v1/captures"));
    if (st == 200 && mode == 2) {
        /* the stored files download (ids grow by one per new row; the
         * newest 20 of the host are kept): never a 5xx (call aborts) */
        static int stored;
        stored++;
        for (int id = stored; id > 0 && id > stored - 25; id--) {
            char path[64];
            snprintf(path, sizeof path, "/api/v1/captures/%d/file", id);
            mm_http_resp d;
            fz_call(fleet, "GET", path, admin_auth, "", 0, &d);
            mm_http_resp_clear(&d);
        }
    }
    mm_http_resp_clear(&resp);
    free(body);
    return 0;
}
