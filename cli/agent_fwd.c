/*
 * agent_fwd.c - the forwarder of `mamori agent --mamori-server`: a child
 * process reads the agent's JSON alerts from a pipe and streams them to
 * `mamori server` with the library's sender (batches, idempotent ids, the
 * capped disk spool); at start and then every --inventory-interval it
 * takes the host inventory (mamori/hostinv.h) and sends it the same way.
 * It waits on the pipe with a timeout so that snapshots, heartbeats and
 * resends happen while no alert comes.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mamori/fleet.h"
#include "mamori/hostinv.h"
#include "cli_agent.h"

#define MAX_LINE (16u << 20)   /* an alert longer than this is skipped */

/* what was read of the pipe and not yet pushed (a partial line) */
typedef struct linebuf {
    char *data;
    size_t len, cap;
} linebuf;

static void lb_add(linebuf *b, const char *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
            abort();
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, d, n);
    b->len += n;
    b->data[b->len] = 0;
}

typedef struct fwd {
    mm_fleet_sender *s;
    const cli_forward *fw;
    const cli_agent_inv *inv;
    cli_agent_rt *rt;         /* issue 20a: profiles and captures */
    uint64_t lineno;
    bool noted;               /* the inventory's notes were printed once */
    bool skipping;            /* inside an over-long line */
} fwd;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One alert line: 0, or EXIT_ERROR (printed) when the sender gives up. */
static int push_line(fwd *f, char *line, size_t n)
{
    f->lineno++;
    while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' '))
        line[--n] = 0;
    if (n == 0)
        return 0;
    int r = mm_fleet_sender_push(f->s, line, n);
    if (r == MM_EFORMAT && !strncmp(mm_error_last(), "event:", 6)) {
        fprintf(stderr, "%s agent: alert %llu: %s (skipped)\n", prog,
                (unsigned long long)f->lineno, mm_error_last());
        return 0;
    }
    return r ? cli_fail("agent: server: ") : 0;
}

/* The lines complete in buf; what is left (a partial line) moves to the front. */
static int push_lines(fwd *f, linebuf *buf)
{
    if (!buf->len)
        return 0;
    size_t start = 0;
    char *nl;
    while ((nl = memchr(buf->data + start, '\n', buf->len - start))) {
        size_t n = (size_t)(nl - (buf->data + start));
        *nl = 0;
        int rc = f->skipping ? 0 : push_line(f, buf->data + start, n);
        f->skipping = false;
        start += n + 1;
        if (rc)
            return rc;
    }
    memmove(buf->data, buf->data + start, buf->len - start);
    buf->len -= start;
    buf->data[buf->len] = 0;
    if (buf->len > MAX_LINE) {
        fprintf(stderr, "%s agent: alert %llu: longer than %u bytes (skipped)\n", prog,
                (unsigned long long)f->lineno + 1, MAX_LINE);
        buf->len = 0;
        f->skipping = true;
    }
    return 0;
}

/* A snapshot of the host into the sender: 0, or EXIT_ERROR (printed). */
static int send_inventory(fwd *f)
{
    char *json = NULL, *notes = NULL;
    if (mm_host_inventory_json(&json, &notes, &f->inv->o) != 0) {
        fprintf(stderr, "%s agent: inventory: %s\n", prog, mm_error_last());
        return 0;   /* the alerts go on */
    }
    if (notes && !f->noted && !f->fw->quiet)
        fprintf(stderr, "%s agent: inventory: %s\n", prog, notes);
    f->noted = true;
    int rc = mm_fleet_sender_inventory(f->s, json, strlen(json));
    free(json);
    free(notes);
    if (rc == MM_EAUTH)
        return cli_fail("agent: inventory: ");
    if (rc)   /* the spool could not take it: the next one will */
        fprintf(stderr, "%s agent: inventory: %s\n", prog, mm_error_last());
    return 0;
}

/* Sends what waits, without waiting: a server away is not an error here. */
static int pump(fwd *f)
{
    int rc = mm_fleet_sender_flush(f->s, 0);
    if (rc == 0 || rc == MM_ENET)
        return 0;
    return cli_fail("agent: server: ");
}

static int loop(fwd *f, int fd)
{
    linebuf buf = {NULL, 0, 0};
    double t = now_s(), next_inv = t, next_hb = t, next_pump = t + 1;
    int rc = 0;
    for (;;) {
        t = now_s();
        if (f->inv->interval > 0 && t >= next_inv) {
            if ((rc = send_inventory(f)) != 0)
                break;
            next_inv = t + f->inv->interval;
        }
        if (t >= next_pump) {
            cli_agent_rt_tick(f->rt, f->fw, f->s, t, false);
            if ((rc = pump(f)) != 0)
                break;
            next_pump = t + 1;
        }
        if (t >= next_hb) {
            mm_fleet_sender_heartbeat(f->s);   /* best effort */
            next_hb = t + 10;
        }
        double wait = next_pump - t;
        if (f->inv->interval > 0 && next_inv - t < wait)
            wait = next_inv - t;
        struct pollfd p = {fd, POLLIN, 0};
        int pr = poll(&p, 1, wait > 0 ? (int)(wait * 1000) + 1 : 0);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            fprintf(stderr, "%s agent: poll: %s\n", prog, strerror(errno));
            rc = EXIT_ERROR;
            break;
        }
        if (pr == 0)
            continue;
        char chunk[65536];
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {   /* the agent is done */
            if (buf.len && !f->skipping)
                rc = push_line(f, buf.data, buf.len);   /* NUL-terminated by lb_add */
            break;
        }
        lb_add(&buf, chunk, (size_t)n);
        if ((rc = push_lines(f, &buf)) != 0)
            break;
    }
    free(buf.data);
    return rc;
}

int cli_agent_forward(int fd, const cli_forward *fw, const cli_agent_inv *inv,
                      cli_agent_rt *rt)
{
    mm_fleet_sender_opts so;
    cli_forward_sender_opts(&so, fw);
    fwd f = {0};
    f.fw = fw;
    f.inv = inv;
    f.rt = rt;
    if (mm_fleet_sender_new(&f.s, &so) != 0)
        return cli_fail("agent: server: ");
    int rc = loop(&f, fd);
    if (rc == 0)   /* the agent is done: what it learned and captured last */
        cli_agent_rt_tick(rt, fw, f.s, now_s(), true);
    if (rc == 0 && mm_fleet_sender_flush(f.s, fw->wait) != 0)
        rc = cli_fail("agent: server: ");
    if (rc == 0)
        mm_fleet_sender_heartbeat(f.s);
    mm_fleet_sender_stats st;
    mm_fleet_sender_stats_get(f.s, &st);
    if (!fw->quiet || rc)
        fprintf(stderr, "%s agent: server: %llu alerts: %llu stored, %llu duplicates ignored,"
                " %llu dropped (spool full), %llu waiting; inventory: %llu sent, %llu waiting,"
                " %llu replaced by a newer one, %llu refused; profiles: %llu sent, capture lists:"
                " %llu sent, capture files: %llu sent, %llu refused; %llu failed requests\n", prog,
                (unsigned long long)st.pushed, (unsigned long long)st.accepted,
                (unsigned long long)st.duplicates, (unsigned long long)st.dropped,
                (unsigned long long)(st.spooled + st.pending),
                (unsigned long long)st.inventories_sent,
                (unsigned long long)st.inventories_waiting,
                (unsigned long long)st.inventories_replaced,
                (unsigned long long)st.inventories_refused, (unsigned long long)st.profiles_sent,
                (unsigned long long)st.captures_sent, (unsigned long long)st.capture_files_sent,
                (unsigned long long)st.uploads_refused,
                (unsigned long long)st.failures);
    cli_agent_rt_free(rt);
    mm_fleet_sender_free(f.s);
    return rc;
}
