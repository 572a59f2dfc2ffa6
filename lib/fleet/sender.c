/*
 * sender.c - the agent side of ingest (mm_fleet_sender): events in
 * batches with idempotent ids, a capped disk spool while the server is
 * away, resends in order, and the counts (accepted, duplicates, dropped)
 * that the agent reports.  Batch files are named SEQ-COUNT.batch (SEQ is
 * 16 digits, so names sort by age) and hold the exact request body.
 * Host inventory snapshots (issue 18) take the same road as SEQ-0.inv
 * files sent to /api/v1/inventory; a newer snapshot replaces the older
 * ones still waiting (the server keeps only the latest per host).
 * Learned profiles (SEQ-0.prof) and capture lists (SEQ-0.cap, issue 20a)
 * go the same way to /api/v1/profiles and /api/v1/captures.
 */
#include <stdlib.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <jansson.h>

#include "fleet/client.h"
#include "util/json.h"

/* what a spooled file holds (issue 20a adds profiles and capture lists) */
enum { SP_BATCH = 0, SP_INV, SP_PROF, SP_CAP, SP_CAPF, SP__N };
static const char *const sp_ext[] = {"batch", "inv", "prof", "cap", "capf"};
static const char *const sp_path[] = {"/api/v1/events", "/api/v1/inventory", "/api/v1/profiles",
                                      "/api/v1/captures", "/api/v1/captures/file"};
static const char *const sp_what[] = {"events", "inventory", "profile", "captures",
                                      "capture file"};

typedef struct spooled {
    uint64_t seq;
    unsigned count;
    int inv;                /* SP_*: an inventory snapshot is SEQ-0.inv */
} spooled;

struct mm_fleet_sender {
    mm_fleet_sender_opts o;
    mm_fleet_client_opts copt;
    fleet_hc h;
    char boot[17];
    uint64_t next_id;
    mm_buf pending;         /* events joined by ',' */
    unsigned npending;
    spooled *spool;         /* oldest first */
    size_t nspool, capspool;
    uint64_t next_seq;
    double next_try, delay;
    mm_fleet_sender_stats st;
};

void mm_fleet_sender_opts_init(mm_fleet_sender_opts *o)
{
    memset(o, 0, sizeof *o);
}

static char *spool_path(const mm_fleet_sender *s, uint64_t seq, unsigned count, int inv)
{
    return mm_xasprintf("%s/%016llu-%u.%s", s->o.spool_dir, (unsigned long long)seq, count,
                        sp_ext[inv]);
}

static int cmp_spool(const void *a, const void *b)
{
    const spooled *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void spool_add(mm_fleet_sender *s, uint64_t seq, unsigned count, int inv)
{
    if (s->nspool == s->capspool) {
        s->capspool = s->capspool ? 2 * s->capspool : 64;
        s->spool = mm_xrealloc(s->spool, s->capspool * sizeof *s->spool);
    }
    s->spool[s->nspool++] = (spooled){seq, count, inv};
    s->st.spooled += count;
    if (inv == SP_INV)
        s->st.inventories_waiting++;
}

/* Removes entry i of the spool (its file too). */
static void spool_remove(mm_fleet_sender *s, size_t i, bool dropped)
{
    char *p = spool_path(s, s->spool[i].seq, s->spool[i].count, s->spool[i].inv);
    unlink(p);
    free(p);
    s->st.spooled -= s->spool[i].count;
    if (s->spool[i].inv == SP_INV)
        s->st.inventories_waiting--;
    if (dropped)
        s->st.dropped += s->spool[i].count;
    memmove(s->spool + i, s->spool + i + 1, (s->nspool - i - 1) * sizeof *s->spool);
    s->nspool--;
}

static void spool_pop(mm_fleet_sender *s, bool dropped)
{
    spool_remove(s, 0, dropped);
}

static int spool_load(mm_fleet_sender *s)
{
    if (mkdir(s->o.spool_dir, 0700) != 0 && errno != EEXIST)
        return mm_error_set(MM_EIO, "%s: cannot create the spool folder: %s", s->o.spool_dir,
                            strerror(errno));
    DIR *d = opendir(s->o.spool_dir);
    if (!d)
        return mm_error_set(MM_EIO, "%s: %s", s->o.spool_dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        unsigned long long seq;
        unsigned count;
        char tail[16];
        if (sscanf(e->d_name, "%16llu-%u.%15s", &seq, &count, tail) == 3) {
            int kind = -1;
            for (int k = 0; k < SP__N; k++)
                if (strcmp(tail, sp_ext[k]) == 0)
                    kind = k;
            if (kind >= 0)
                spool_add(s, seq, count, kind);
            else if (strcmp(tail, "tmp") == 0) { /* a write cut short: never sent */
                char *p = mm_xasprintf("%s/%s", s->o.spool_dir, e->d_name);
                unlink(p);
                free(p);
            }
            if (seq >= s->next_seq)
                s->next_seq = seq + 1;
        }
    }
    closedir(d);
    if (s->nspool)
        qsort(s->spool, s->nspool, sizeof *s->spool, cmp_spool);
    return 0;
}

int mm_fleet_sender_new(mm_fleet_sender **out, const mm_fleet_sender_opts *o)
{
    *out = NULL;
    if (!o->host_id || !o->spool_dir)
        return mm_error_set(MM_EINVAL, "sender: a host id and a spool folder are required");
    mm_fleet_sender *s = mm_xcalloc(1, sizeof *s);
    s->o = *o;
    s->copt = o->client;
    if (!s->o.spool_max_events)
        s->o.spool_max_events = 1000000;
    if (!s->o.batch)
        s->o.batch = 500;
    if (s->o.retry_s <= 0)
        s->o.retry_s = 0.2;
    s->delay = s->o.retry_s;
    s->next_seq = 1;
    int rc = mm_random_hex(s->boot, 8);
    if (rc == 0)
        rc = spool_load(s);
    if (rc == 0)
        rc = fleet_hc_init(&s->h, &s->copt);
    if (rc) {
        mm_fleet_sender_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static char *batch_body(const mm_fleet_sender *s, const char *events, size_t len)
{
    mm_buf b = MM_BUF_INIT;
    mm_buf_printf(&b, "{\"host_id\":\"%s\",\"events\":[", s->o.host_id);
    mm_buf_add(&b, events, len);
    mm_buf_adds(&b, "]}");
    return mm_buf_detach(&b);
}

static int spool_write(mm_fleet_sender *s, unsigned n, int inv, const char *body);

/* Writes the pending batch to the spool, dropping the oldest over the cap. */
static int spool_pending(mm_fleet_sender *s)
{
    if (!s->npending)
        return 0;
    unsigned n = s->npending;
    while (s->nspool && s->st.spooled + n > s->o.spool_max_events)
        spool_pop(s, true);
    if (n > s->o.spool_max_events) {
        s->st.dropped += n;
    } else {
        char *body = batch_body(s, s->pending.data, s->pending.len);
        int rc = spool_write(s, n, SP_BATCH, body);
        free(body);
        if (rc)
            return rc;   /* the batch stays pending */
    }
    mm_buf_clear(&s->pending);
    s->npending = 0;
    return 0;
}

/* Writes one request body to the spool (a temp file renamed into place). */
static int spool_write(mm_fleet_sender *s, unsigned n, int inv, const char *body)
{
    uint64_t seq = s->next_seq++;
    char *path = spool_path(s, seq, n, inv);
    char *tmp = mm_xasprintf("%s/%016llu-%u.tmp", s->o.spool_dir, (unsigned long long)seq, n);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t len = strlen(body), off = 0;
    bool ok = fd >= 0;
    while (ok && off < len) {
        ssize_t w = write(fd, body + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, path) != 0)
        ok = false;
    int rc = 0;
    if (!ok) {
        rc = mm_error_set(MM_EIO, "%s: cannot spool a batch: %s", path, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    free(path);
    if (rc)
        return rc;
    spool_add(s, seq, n, inv);
    return 0;
}

/* One request; 0 delivered, MM_ENET retry later, other: refused */
static int deliver(mm_fleet_sender *s, int inv, const char *body, size_t len)
{
    long status;
    mm_buf reply = MM_BUF_INIT;
    int rc = fleet_hc_post(&s->h, sp_path[inv], body, len, &status, &reply);
    if (rc == 0 && status == 200 && inv == SP_INV) {
        s->st.inventories_sent++;
    } else if (rc == 0 && status == 200 && inv == SP_PROF) {
        s->st.profiles_sent++;
    } else if (rc == 0 && status == 200 && inv == SP_CAP) {
        s->st.captures_sent++;
    } else if (rc == 0 && status == 200 && inv == SP_CAPF) {
        s->st.capture_files_sent++;
    } else if (rc == 0 && status == 200) {
        json_t *j = json_loadb(reply.data ? reply.data : "", reply.len, 0, NULL);
        s->st.accepted += (uint64_t)json_integer_value(json_object_get(j, "accepted"));
        s->st.duplicates += (uint64_t)json_integer_value(json_object_get(j, "duplicates"));
        json_decref(j);
    } else if (rc == 0) {
        rc = fleet_status_error(status, &reply, sp_what[inv]);
        if (status == 429 || status >= 500 || status == 408)
            rc = MM_ENET;
    }
    mm_buf_free(&reply);
    if (rc == MM_ENET) {
        s->st.failures++;
        s->next_try = mm_now() + s->delay;
        s->delay = s->delay * 2 > 5 ? 5 : s->delay * 2;
    } else if (rc == 0)
        s->delay = s->o.retry_s;
    return rc;
}

/* Sends what it can: the spool (oldest first), then the pending batch;
 * what cannot go waits in the spool. */
static int pump(mm_fleet_sender *s)
{
    int rc = 0;
    if (mm_now() >= s->next_try) {
        while (s->nspool) {
            int inv = s->spool[0].inv;
            char *p = spool_path(s, s->spool[0].seq, s->spool[0].count, inv);
            char *data = NULL;
            size_t len = 0;
            rc = mm_file_read(p, 64u << 20, &data, &len);
            free(p);
            if (rc) {   /* unreadable: counted as lost, not retried forever */
                spool_pop(s, true);
                continue;
            }
            rc = deliver(s, inv, data, len);
            free(data);
            if (rc == MM_EFORMAT && inv) {
                /* a snapshot the server refuses (too large, malformed) never
                 * passes: counted, and the road stays open for the events */
                if (inv == SP_INV)
                    s->st.inventories_refused++;
                else
                    s->st.uploads_refused++;
                spool_pop(s, false);
                rc = 0;
                continue;
            }
            if (rc)
                break;
            spool_pop(s, false);
        }
        if (rc == 0 && s->npending) {
            char *body = batch_body(s, s->pending.data, s->pending.len);
            rc = deliver(s, SP_BATCH, body, strlen(body));
            free(body);
            if (rc == 0) {
                mm_buf_clear(&s->pending);
                s->npending = 0;
            }
        }
    } else
        rc = MM_ENET;
    if (rc && s->npending) {
        int src = spool_pending(s);
        if (src)
            return src;
    }
    return rc == MM_ENET ? 0 : rc;
}

/* json as a JSON object: MM_EFORMAT "WHAT: not a JSON object" when not. */
static int object_of(const char *what, const char *json, size_t len, json_t **out)
{
    json_error_t je;
    json_t *j = json_loadb(json, len, 0, &je);
    if (!json_is_object(j)) {
        json_decref(j);
        *out = NULL;
        return mm_error_set(MM_EFORMAT, "%s: not a JSON object%s%s", what, j ? "" : ": ",
                            j ? "" : je.text);
    }
    *out = j;
    return 0;
}

int mm_fleet_sender_push(mm_fleet_sender *s, const char *json, size_t len)
{
    json_t *ev;
    int rc = object_of("event", json, len, &ev);
    if (rc)
        return rc;
    if (!json_is_string(json_object_get(ev, "id"))) {
        char id[64];
        snprintf(id, sizeof id, "%s-%llu", s->boot, (unsigned long long)++s->next_id);
        json_object_set_new(ev, "id", json_string(id));
    }
    char *c = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(ev);
    if (!c)
        return mm_error_set(MM_EFORMAT, "event: cannot be serialised");
    if (s->npending)
        mm_buf_addc(&s->pending, ',');
    mm_buf_adds(&s->pending, c);
    free(c);
    s->npending++;
    s->st.pushed++;
    if (s->npending >= s->o.batch)
        return pump(s);
    return 0;
}

int mm_fleet_sender_inventory(mm_fleet_sender *s, const char *json, size_t len)
{
    json_t *doc;
    int err = object_of("inventory", json, len, &doc);
    if (err)
        return err;
    char id[64];
    snprintf(id, sizeof id, "%s-inv-%llu", s->boot, (unsigned long long)++s->next_id);
    json_object_set_new(doc, "host_id", json_string(s->o.host_id));
    json_object_set_new(doc, "id", json_string(id));
    char *body = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!body)
        return mm_error_set(MM_EFORMAT, "inventory: cannot be serialised");
    /* the older snapshots still waiting are replaced by this one */
    for (size_t i = s->nspool; i-- > 0;)
        if (s->spool[i].inv == SP_INV) {
            spool_remove(s, i, false);
            s->st.inventories_replaced++;
        }
    int rc = spool_write(s, 0, SP_INV, body);
    free(body);
    if (rc)
        return rc;
    return pump(s);
}

/* issue 20a: a learned profile (the document) or the capture list, through
 * the spool like a snapshot; a newer capture list replaces a waiting one */
static int sender_upload(mm_fleet_sender *s, int kind, const char *member, const char *json,
                         size_t len)
{
    json_error_t je;
    json_t *doc = json_loadb(json, len, 0, &je);
    if (kind == SP_PROF ? !json_is_object(doc) : !json_is_array(doc)) {
        json_decref(doc);
        return mm_error_set(MM_EFORMAT, "%s: not a JSON %s%s%s", sp_what[kind],
                            kind == SP_PROF ? "object" : "array", doc ? "" : ": ",
                            doc ? "" : je.text);
    }
    char id[64];
    snprintf(id, sizeof id, "%s-%s-%llu", s->boot, sp_ext[kind], (unsigned long long)++s->next_id);
    json_t *body = json_object();
    json_object_set_new(body, "host_id", json_string(s->o.host_id));
    if (kind == SP_PROF)
        json_object_set_new(body, "id", json_string(id));
    json_object_set_new(body, member, doc);
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text)
        return mm_error_set(MM_EFORMAT, "%s: cannot be serialised", sp_what[kind]);
    for (size_t i = s->nspool; kind == SP_CAP && i-- > 0;)
        if (s->spool[i].inv == SP_CAP)
            spool_remove(s, i, false);
    int rc = spool_write(s, 0, kind, text);
    free(text);
    return rc ? rc : pump(s);
}

int mm_fleet_sender_profile(mm_fleet_sender *s, const char *json, size_t len)
{
    return sender_upload(s, SP_PROF, "profile", json, len);
}

int mm_fleet_sender_captures(mm_fleet_sender *s, const char *json, size_t len)
{
    return sender_upload(s, SP_CAP, "captures", json, len);
}

int mm_fleet_sender_capture_file(mm_fleet_sender *s, const char *path, int64_t start,
                                 int64_t end, uint64_t events, uint64_t max_size)
{
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, max_size, &data, &len);
    if (rc)
        return rc;
    char *b64 = mm_base64_encode(data, len);
    free(data);
    json_t *body = json_object();
    json_object_set_new(body, "host_id", json_string(s->o.host_id));
    json_object_set_new(body, "file", mm_json_str(path));
    json_object_set_new(body, "start", json_integer(start));
    json_object_set_new(body, "end", json_integer(end));
    json_object_set_new(body, "size", json_integer((json_int_t)len));
    json_object_set_new(body, "events", json_integer((json_int_t)events));
    json_object_set_new(body, "data", json_string(b64));
    free(b64);
    char *text = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(body);
    if (!text)
        return mm_error_set(MM_EFORMAT, "%s: cannot be serialised", path);
    rc = spool_write(s, 0, SP_CAPF, text);
    free(text);
    return rc ? rc : pump(s);
}

int mm_fleet_sender_flush(mm_fleet_sender *s, double wait_s)
{
    double end = mm_now() + wait_s;
    for (;;) {
        int rc = pump(s);
        if (rc)
            return rc;
        if (!s->nspool && !s->npending)
            return 0;
        double now = mm_now();
        if (now >= end)
            return mm_error_set(MM_ENET, "the server stayed away: %llu events wait in %s",
                                (unsigned long long)(s->st.spooled + s->npending),
                                s->o.spool_dir);
        double nap = s->next_try - now;
        if (nap > end - now)
            nap = end - now;
        if (nap > 0) {
            struct timespec ts = {(time_t)nap, (long)((nap - (time_t)nap) * 1e9)};
            nanosleep(&ts, NULL);
        }
    }
}

int mm_fleet_sender_heartbeat(mm_fleet_sender *s)
{
    char *body = mm_xasprintf("{\"host_id\":\"%s\",\"version\":\"%s\",\"queue_depth\":%llu,"
                              "\"dropped\":%llu}", s->o.host_id, MM_VERSION,
                              (unsigned long long)(s->st.spooled + s->npending),
                              (unsigned long long)s->st.dropped);
    long status;
    mm_buf reply = MM_BUF_INIT;
    int rc = fleet_hc_post(&s->h, "/api/v1/heartbeat", body, strlen(body), &status, &reply);
    if (rc == 0 && status != 200)
        rc = fleet_status_error(status, &reply, "heartbeat");
    mm_buf_free(&reply);
    free(body);
    return rc;
}

void mm_fleet_sender_stats_get(const mm_fleet_sender *s, mm_fleet_sender_stats *st)
{
    *st = s->st;
    st->pending = s->npending;
}

void mm_fleet_sender_free(mm_fleet_sender *s)
{
    if (!s)
        return;
    fleet_hc_free(&s->h);
    mm_buf_free(&s->pending);
    free(s->spool);
    free(s);
}
