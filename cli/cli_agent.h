/*
 * cli_agent.h - what `mamori agent` shares between its files: the
 * forwarder that streams the agent's alerts and, every interval, the host
 * inventory to `mamori server` through the disk spool (agent_fwd.c).
 */
#ifndef MM_CLI_AGENT_H
#define MM_CLI_AGENT_H

#include <time.h>

#include "mamori/hostinv.h"
#include "cli.h"

typedef struct cli_agent_inv {
    double interval;              /* seconds between snapshots; 0 = none */
    mm_host_inventory_opts o;     /* where the containers and logins are */
} cli_agent_inv;

#define CLI_AGENT_INV_INTERVAL 60

/* Issue 20a: profiles and captures through the forwarder (agent_rt.c). */
typedef struct cli_agent_rt {
    const char *profile_out;      /* --profile-out: uploaded when written */
    const char *capture;          /* --capture: its list uploaded */
    const char *enforced;         /* --server-profiles: fetched into this file */
    double profile_interval;      /* seconds between fetches */
    double capture_interval;      /* seconds between capture lists (60) */
    uint64_t capture_upload_max;  /* --capture-upload-max: files up to this size are
                                     sent themselves; 0 = none */
    /* state */
    struct timespec prof_mtime;
    int64_t prof_size;
    char *cap_last;
    struct mm_capture_member *members;   /* the last look at the capture set */
    size_t nmembers;
    char sent[256][64];           /* capture files sent: "start-end-size" */
    size_t nsent;
    double next_cap, next_fetch;
} cli_agent_rt;
#define CLI_AGENT_PROFILE_INTERVAL 30
struct mm_fleet_sender;
void cli_agent_rt_tick(cli_agent_rt *rt, const cli_forward *fw, struct mm_fleet_sender *s,
                       double now, bool final);
void cli_agent_rt_free(cli_agent_rt *rt);
/* The enforced profiles of this host into path (atomically, when changed):
 * 0, or -1 (printed, unless quiet_away and the server is only away). */
int cli_agent_fetch_enforced(const cli_forward *fw, const char *path, bool quiet_away);
int cli_agent_write_atomic(const char *path, const char *data, size_t len);

/* Reads JSON alerts (a line each) from fd until its end and streams them
 * with the spool; sends the host inventory at start and every interval;
 * a heartbeat every 10 s; what waits goes out at least once a second.
 * 0 when everything was delivered, else EXIT_ERROR (printed). */
int cli_agent_forward(int fd, const cli_forward *fw, const cli_agent_inv *inv,
                      cli_agent_rt *rt);

#endif
