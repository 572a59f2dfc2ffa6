/*
 * agent_rt.c - runtime profiles and captures for `mamori agent
 * --mamori-server` (issue 20a), done by the forwarder process: the
 * learned profile (--profile-out) is uploaded each time the agent writes
 * it, the list of the captures kept (--capture) every interval and at the
 * end, and with --server-profiles the profiles enforced for this host are
 * fetched every --profile-interval into a file the agent reloads when it
 * changes (written atomically, only when the server's answer changed).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "mamori/fleet.h"
#include "mamori/capture.h"
#include "mamori/profile.h"
#include "cli_agent.h"

/* Writes data to path through a temp file and a rename: 0 or -1 (printed). */
int cli_agent_write_atomic(const char *path, const char *data, size_t len)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 8);
    if (!tmp)
        return -1;
    snprintf(tmp, pl + 8, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    size_t off = 0;
    while (ok && off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0))
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "%s agent: %s: %s\n", prog, path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok ? 0 : -1;
}

/* --server-profiles: the enforced profiles into rt->enforced (when they
 * changed).  0, or -1 when the server could not be asked (printed unless
 * quiet_away and the server is only away). */
int cli_agent_fetch_enforced(const cli_forward *fw, const char *path, bool quiet_away)
{
    mm_fleet_client_opts co = {0};
    co.server = fw->server;
    co.token = fw->token;
    co.ca_file = fw->ca;
    co.insecure = fw->insecure;
    co.fingerprint = fw->fingerprint;
    co.timeout_s = 20;
    char *json = NULL;
    size_t len = 0;
    int rc = mm_fleet_fetch_profiles(&co, &json, &len);
    if (rc) {
        if (!(quiet_away && rc == MM_ENET))
            fprintf(stderr, "%s agent: --server-profiles: %s\n", prog, mm_error_last());
        return -1;
    }
    char *old = NULL;
    size_t oldlen = 0;
    FILE *f = fopen(path, "rb");
    if (f) {
        old = malloc(len + 2);
        if (old)
            oldlen = fread(old, 1, len + 1, f);
        fclose(f);
    }
    bool same = old && oldlen == len && memcmp(old, json, len) == 0;
    free(old);
    rc = same ? 0 : cli_agent_write_atomic(path, json, len);
    free(json);
    return rc;
}

/* The learned profile, when the agent wrote it since the last look. */
static void profile_tick(cli_agent_rt *rt, mm_fleet_sender *s, bool quiet)
{
    struct stat st;
    if (!rt->profile_out || stat(rt->profile_out, &st) != 0 || st.st_size == 0)
        return;
    if (st.st_mtim.tv_sec == rt->prof_mtime.tv_sec && st.st_mtim.tv_nsec == rt->prof_mtime.tv_nsec
        && (int64_t)st.st_size == rt->prof_size)
        return;
    rt->prof_mtime = st.st_mtim;
    rt->prof_size = st.st_size;
    char *json = NULL;
    if (mm_profile_file_json(&json, rt->profile_out) != 0) {
        fprintf(stderr, "%s agent: profile not sent: %s\n", prog, mm_error_last());
        return;
    }
    int rc = mm_fleet_sender_profile(s, json, strlen(json));
    free(json);
    if (rc)
        fprintf(stderr, "%s agent: profile: %s\n", prog, mm_error_last());
    else if (!quiet)
        fprintf(stderr, "%s agent: profile %s sent to the server\n", prog, rt->profile_out);
}

/* The capture list, when it changed. */
static void capture_tick(cli_agent_rt *rt, mm_fleet_sender *s)
{
    if (!rt->capture)
        return;
    char *json = NULL;
    if (mm_capture_list_json(&json, rt->capture) != 0) {
        fprintf(stderr, "%s agent: capture list: %s\n", prog, mm_error_last());
        return;
    }
    if (rt->cap_last && !strcmp(rt->cap_last, json)) {
        free(json);
        return;
    }
    if (mm_fleet_sender_captures(s, json, strlen(json)) != 0)
        fprintf(stderr, "%s agent: capture list: %s\n", prog, mm_error_last());
    free(rt->cap_last);
    rt->cap_last = json;
}

void cli_agent_rt_tick(cli_agent_rt *rt, const cli_forward *fw, mm_fleet_sender *s,
                       double now, bool final)
{
    profile_tick(rt, s, fw->quiet);
    if (final || now >= rt->next_cap) {
        capture_tick(rt, s);
        rt->next_cap = now + (rt->capture_interval > 0 ? rt->capture_interval : 60);
    }
    if (rt->enforced && !final && now >= rt->next_fetch) {
        cli_agent_fetch_enforced(fw, rt->enforced, true);
        rt->next_fetch = now + rt->profile_interval;
    }
}

void cli_agent_rt_free(cli_agent_rt *rt)
{
    free(rt->cap_last);
    rt->cap_last = NULL;
}
