/*
 * cli_agent.h - what `mamori agent` shares between its files: the
 * forwarder that streams the agent's alerts and, every interval, the host
 * inventory to `mamori server` through the disk spool (agent_fwd.c).
 */
#ifndef MM_CLI_AGENT_H
#define MM_CLI_AGENT_H

#include "mamori/hostinv.h"
#include "cli.h"

typedef struct cli_agent_inv {
    double interval;              /* seconds between snapshots; 0 = none */
    mm_host_inventory_opts o;     /* where the containers and logins are */
} cli_agent_inv;

#define CLI_AGENT_INV_INTERVAL 60

/* Reads JSON alerts (a line each) from fd until its end and streams them
 * with the spool; sends the host inventory at start and every interval;
 * a heartbeat every 10 s; what waits goes out at least once a second.
 * 0 when everything was delivered, else EXIT_ERROR (printed). */
int cli_agent_forward(int fd, const cli_forward *fw, const cli_agent_inv *inv);

#endif
