/*
 * client_profiles.c - the agent's side of enforced profiles (issue 20a):
 * GET /api/v1/agent/profiles with the agent's token, over the sender's
 * client (fleet_hc: the same TLS settings and certificate pinning), the
 * reply capped at the size the profile loader accepts (16 MiB).
 */
#include <stdlib.h>

#include "mamori/fleet.h"
#include "util/util.h"
#include "fleet/client.h"

#define MAX_PROFILES_REPLY (16u << 20)

int mm_fleet_fetch_profiles(const mm_fleet_client_opts *o, char **json, size_t *len)
{
    *json = NULL;
    *len = 0;
    fleet_hc h;
    int rc = fleet_hc_init_capped(&h, o, MAX_PROFILES_REPLY);
    if (rc)
        return rc;
    long status = 0;
    mm_buf reply = MM_BUF_INIT;
    rc = fleet_hc_send(&h, "GET", "/api/v1/agent/profiles", NULL, NULL, 0, &status, &reply);
    fleet_hc_free(&h);
    if (rc == 0 && status != 200)
        rc = fleet_status_error(status, &reply, "enforced profiles");
    if (rc) {
        mm_buf_free(&reply);
        return rc;
    }
    *len = reply.len;
    *json = reply.data ? mm_buf_detach(&reply) : mm_xstrdup("");
    return 0;
}
