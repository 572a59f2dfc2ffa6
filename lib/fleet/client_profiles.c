/*
 * client_profiles.c - the agent's side of enforced profiles (issue 20a):
 * GET /api/v1/agent/profiles with the agent's token, over the same TLS
 * settings and certificate pinning as the sender, the reply capped at the
 * size the profile loader accepts (16 MiB).
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/fleet.h"
#include "util/util.h"
#include "util/http.h"
#include "fleet/client.h"

#define MAX_PROFILES_REPLY (16u << 20)

int mm_fleet_fetch_profiles(const mm_fleet_client_opts *o, char **json, size_t *len)
{
    *json = NULL;
    *len = 0;
    if (!o->server || !(mm_str_startswith(o->server, "https://") ||
                        mm_str_startswith(o->server, "http://")))
        return mm_error_set(MM_EINVAL, "--server '%s': want https://HOST:PORT",
                            o->server ? o->server : "");
    char pin[65] = "";
    if (o->fingerprint) {
        int prc = mm_http_pin_parse(o->fingerprint, pin);
        if (prc)
            return mm_error_wrap(prc, "--server-fingerprint: ");
    }
    mm_http_opts ho = {
        .connect_timeout_s = 10,
        .total_timeout_s = o->timeout_s > 0 ? o->timeout_s : 30,
        .max_body = MAX_PROFILES_REPLY,
        .ca_file = o->ca_file,
        .insecure = o->insecure,
        .pin_sha256 = pin[0] ? pin : NULL,
    };
    mm_http *c = NULL;
    int rc = mm_http_new(&c, &ho);
    if (rc)
        return rc;
    size_t ul = strlen(o->server);
    char *url = mm_xasprintf("%.*s/api/v1/agent/profiles",
                             (int)(ul && o->server[ul - 1] == '/' ? ul - 1 : ul), o->server);
    char *auth = mm_xasprintf("Authorization: Bearer %s", o->token ? o->token : "");
    const char *hdrs[] = {auth, NULL};
    long status = 0;
    mm_buf reply = MM_BUF_INIT;
    rc = mm_http_send_hdrs(c, "GET", url, NULL, NULL, 0, hdrs, &status, &reply);
    explicit_bzero(auth, strlen(auth));
    free(auth);
    free(url);
    mm_http_free(c);
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
