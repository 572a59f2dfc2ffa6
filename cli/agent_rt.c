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

/* --capture-upload-max: the files themselves, each once, when they are
 * complete (rotated away, or all of them when the agent is done) */
static void capture_files(cli_agent_rt *rt, mm_fleet_sender *s, const mm_capture_member *v,
                          size_t n, bool final)
{
    for (size_t i = 0; i < n; i++) {
        if ((v[i].live && !final) || v[i].size == 0)
            continue;
        char key[64];
        snprintf(key, sizeof key, "%lld-%lld-%llu", (long long)v[i].start, (long long)v[i].end,
                 (unsigned long long)v[i].size);
        bool done = false;
        for (size_t k = 0; k < rt->nsent && !done; k++)
            done = !strcmp(rt->sent[k], key);
        if (done)
            continue;
        if (v[i].size > rt->capture_upload_max) {
            fprintf(stderr, "%s agent: capture %s not sent: %llu bytes, over"
                    " --capture-upload-max\n", prog, v[i].path, (unsigned long long)v[i].size);
        } else if (mm_fleet_sender_capture_file(s, v[i].path, v[i].start, v[i].end, v[i].events,
                                                rt->capture_upload_max) != 0) {
            fprintf(stderr, "%s agent: capture %s: %s\n", prog, v[i].path, mm_error_last());
            continue;   /* tried again next time */
        }
        if (rt->nsent == sizeof rt->sent / sizeof rt->sent[0]) {   /* the oldest key goes */
            memmove(rt->sent, rt->sent + 1, (rt->nsent - 1) * sizeof rt->sent[0]);
            rt->nsent--;
        }
        snprintf(rt->sent[rt->nsent++], sizeof rt->sent[0], "%s", key);
    }
}

/* The capture list, when it changed. */
static void capture_tick(cli_agent_rt *rt, mm_fleet_sender *s, bool final)
{
    if (!rt->capture)
        return;
    mm_capture_member *v = NULL;
    size_t n = 0;
    char *json = NULL;
    /* the files a rotation only renamed are not read again */
    if (mm_capture_members(&v, &n, rt->capture, rt->members, rt->nmembers) != 0 ||
        !(json = mm_capture_members_json(v, n))) {
        fprintf(stderr, "%s agent: capture list: %s\n", prog, mm_error_last());
        mm_capture_members_free(v, n);
        return;
    }
    if (!rt->cap_last || strcmp(rt->cap_last, json)) {
        if (mm_fleet_sender_captures(s, json, strlen(json)) != 0)
            fprintf(stderr, "%s agent: capture list: %s\n", prog, mm_error_last());
        free(rt->cap_last);
        rt->cap_last = json;
        json = NULL;
    }
    free(json);
    if (rt->capture_upload_max)
        capture_files(rt, s, v, n, final);
    mm_capture_members_free(rt->members, rt->nmembers);
    rt->members = v;
    rt->nmembers = n;
}

void cli_agent_rt_tick(cli_agent_rt *rt, const cli_forward *fw, mm_fleet_sender *s,
                       double now, bool final)
{
    profile_tick(rt, s, fw->quiet);
    if (final || now >= rt->next_cap) {
        capture_tick(rt, s, final);
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
    mm_capture_members_free(rt->members, rt->nmembers);
    rt->members = NULL;
    rt->nmembers = 0;
}
