/*
 * mamori/fleet.h - `mamori server` and its clients (lib/fleet): the one
 * place that knows every host, image scan, finding and runtime alert.
 *
 * The service: a store (SQLite file in WAL mode, or PostgreSQL with a
 * postgres:// URL; one schema, numbered migrations run at open), the REST
 * API /api/v1 (docs/api.md) served through lib/httpd by mm_fleet_handle(),
 * API tokens kept as SHA-256 hashes with a role each (admin, operator,
 * viewer, agent, ci; an agent token bound to one host id), an audit log of
 * every state-changing call, per-token rate limits, /healthz, /readyz and
 * /metrics.
 *
 * The clients: uploading a scan result (the JSON report) and an event
 * sender for agents that batches events with idempotent ids and keeps them
 * in a capped disk spool while the server is away (oldest batches dropped
 * and counted when full).
 */
#ifndef MAMORI_FLEET_H
#define MAMORI_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "mamori/common.h"
#include "mamori/httpd.h"
#include "mamori/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- the service ------------------------------------------------------- */
typedef struct mm_fleet mm_fleet;

/* One file of the web console (issue 20), served at path ("/" for the
 * page, "/ui/NAME" for the rest) with its content type; the front-end
 * embeds them (docs/console.md). */
typedef struct mm_fleet_asset {
    const char *path;
    const char *type;
    const char *data;
    size_t len;
} mm_fleet_asset;

typedef struct mm_fleet_opts {
    const char *db;          /* SQLite path (or "sqlite:PATH") or postgres://... */
    double rate;             /* requests per second per token; 0 = 100 */
    double burst;            /* bucket size; 0 = 2 x rate */
    unsigned max_batch;      /* events per ingest call; 0 = 5000 */
    /* the console (issue 20): its files (none: no console), and how long a
     * console session lives (seconds; 0 = 8 hours; idle 1 hour at most) */
    const mm_fleet_asset *assets;
    size_t nassets;
    unsigned session_ttl;
} mm_fleet_opts;

void mm_fleet_opts_init(mm_fleet_opts *o);
/* Opens the store and runs the migrations it lacks. */
int mm_fleet_open(mm_fleet **out, const mm_fleet_opts *o);
void mm_fleet_close(mm_fleet *f);
/* "sqlite" or "postgres". */
const char *mm_fleet_store_kind(const mm_fleet *f);
/* The schema version after the migrations. */
int mm_fleet_schema_version(mm_fleet *f, int64_t *out);
/* The version this build migrates a store to (the number of migrations). */
int64_t mm_fleet_schema_latest(void);

/* The httpd handler: pass mm_fleet_handle and the mm_fleet as ctx. */
void mm_fleet_handle(void *fleet, const mm_http_req *req, mm_http_resp *resp);
/* fn(ud) is called (on a request thread, quickly) each time new alerts are
 * stored, so that the server wakes its live streams (mm_httpd_stream_wake);
 * NULL unsets it.  Without it the streams notice within the server's
 * stream_poll_ms. */
void mm_fleet_on_events(mm_fleet *f, void (*fn)(void *ud), void *ud);
/* The body cap the API expects of lib/httpd (scan reports are large). */
#define MM_FLEET_MAX_BODY (32u << 20)

/* --- operations (issue 19): schedules, re-matching, notifications -------- */
/* The scheduler thread of a running server: vulnerability-database
 * updates on a schedule, each followed by a re-match of every stored
 * inventory that raises a "new-vulnerability" alert per new advisory and
 * image (with the hosts it runs on); registry rescans; stale-image
 * checks; exports; retention; and the delivery of alerts to the
 * notification routes (webhooks with an HMAC-SHA256 signature, syslog
 * RFC 5424 over TLS) through a retry queue kept in the store.
 * docs/server-ops.md. */
typedef struct mm_fleet_ops_opts {
    const char *vulndb;      /* the database the server matches with; NULL =
                                mm_vulndb_default_path() */
    const char *work_dir;    /* registry rescans' local store; required */
    double tick_s;           /* how often the scheduler looks; 0 = 1 s */
    double retention_every_s;/* between retention passes; 0 = 300 s */
} mm_fleet_ops_opts;
/* Applies a configuration file (YAML or JSON: schedules, routes,
 * retention; docs/server-ops.md) to the store; MM_EFORMAT naming the
 * file and field. */
int mm_fleet_config_apply(mm_fleet *f, const char *path);
/* Starts the scheduler thread; mm_fleet_close() stops it. */
int mm_fleet_ops_start(mm_fleet *f, const mm_fleet_ops_opts *o);
void mm_fleet_ops_stop(mm_fleet *f);

/* --- tokens ------------------------------------------------------------- */
/* "admin", "operator", "viewer", "agent", "ci": 0 or MM_EINVAL. */
int mm_fleet_role_valid(const char *role);
/* A new token: the secret is returned once (caller frees) and only its
 * SHA-256 is stored.  host_id is required for (and only allowed with) the
 * agent role. */
int mm_fleet_token_create(mm_fleet *f, const char *name, const char *role,
                          const char *host_id, char **token, char **id);
/* Revokes by id; MM_ENOTFOUND when no such live token. */
int mm_fleet_token_revoke(mm_fleet *f, const char *id);

typedef struct mm_fleet_token_info {
    const char *id, *name, *role, *host_id;
    int64_t created, last_used, revoked;   /* epoch seconds, 0 = never */
} mm_fleet_token_info;
typedef void (*mm_fleet_token_fn)(void *ud, const mm_fleet_token_info *t);
int mm_fleet_token_list(mm_fleet *f, mm_fleet_token_fn fn, void *ud);

/* --- clients ------------------------------------------------------------ */
typedef struct mm_fleet_client_opts {
    const char *server;      /* https://HOST:PORT */
    const char *token;
    const char *ca_file;     /* the server's certificate (self-signed) or CA */
    bool insecure;           /* no TLS verification (tests only) */
    long timeout_s;          /* 0 = 30 */
    const char *fingerprint; /* "sha256:HEX" as `mamori server` prints it: the
                                server's certificate must have this SHA-256
                                (then no CA file is needed) */
} mm_fleet_client_opts;

/* Uploads a scan result as its JSON report (POST /api/v1/scans); host names
 * where it ran (NULL: none).  *scan_id (may be NULL) gets the server's id. */
int mm_fleet_upload_scan(const mm_fleet_client_opts *o, mm_result *r,
                         const char *host, char **scan_id);
/* Uploads a report already in JSON (schemaVersion 1, kind, findings; any
 * other members are stored with it), as mm_fleet_upload_scan does: a
 * registry scan's report, a registry check, a scan kept in the local store. */
int mm_fleet_upload_report(const mm_fleet_client_opts *o, const char *json, size_t len,
                           const char *host, char **scan_id);
/* The report of a registry check (mamori/regcheck.h) as the server keeps
 * it: the mamori JSON report of the failed checks' findings, kind
 * "registry-check", with every verdict under "registryCheck" (issue 20;
 * uploaded by `mamori registry check --server`, stored by the
 * "registry-check" schedule).  *out is compact JSON, the caller frees. */
struct mm_regcheck;
int mm_fleet_regcheck_report(char **out, const struct mm_regcheck *rc);

typedef struct mm_fleet_sender mm_fleet_sender;
typedef struct mm_fleet_sender_opts {
    mm_fleet_client_opts client;
    const char *host_id;     /* required: the host the events come from */
    const char *spool_dir;   /* required: batches wait here while the server is away */
    uint64_t spool_max_events; /* 0 = 1,000,000; beyond, the oldest batches go */
    unsigned batch;          /* events per request; 0 = 500 */
    double retry_s;          /* first retry delay; 0 = 0.2 (doubles to 5 s) */
} mm_fleet_sender_opts;

typedef struct mm_fleet_sender_stats {
    uint64_t pushed;         /* events given to the sender */
    uint64_t accepted;       /* stored by the server */
    uint64_t duplicates;     /* the server had them already (a resend) */
    uint64_t dropped;        /* lost to the spool cap */
    uint64_t spooled;        /* waiting on disk now */
    uint64_t pending;        /* waiting in memory now */
    uint64_t failures;       /* requests that failed (server away) */
    /* host inventory snapshots (mm_fleet_sender_inventory, issue 18) */
    uint64_t inventories_sent;      /* stored by the server */
    uint64_t inventories_waiting;   /* in the spool now (0 or 1) */
    uint64_t inventories_replaced;  /* replaced in the spool by a newer one */
    uint64_t inventories_refused;   /* refused as malformed or too large (4xx) */
    /* runtime profiles and capture lists (issue 20a) */
    uint64_t profiles_sent, captures_sent, capture_files_sent;
    uint64_t uploads_refused;       /* profiles or capture lists refused (4xx) */
} mm_fleet_sender_stats;

void mm_fleet_sender_opts_init(mm_fleet_sender_opts *o);
/* Picks up batches an earlier run left in the spool. */
int mm_fleet_sender_new(mm_fleet_sender **out, const mm_fleet_sender_opts *o);
/* One event: a JSON object (a Falco-style alert or any object); an "id"
 * is added when it has none.  Sends when a batch is full; a server that is
 * away only spools.  MM_EFORMAT for a line that is not an object; MM_EAUTH
 * when the server refuses the token (the batch stays in the spool). */
int mm_fleet_sender_push(mm_fleet_sender *s, const char *json, size_t len);
/* Sends everything pending and spooled, retrying up to wait_s seconds:
 * 0 when all went, MM_ENET when the server stayed away. */
int mm_fleet_sender_flush(mm_fleet_sender *s, double wait_s);
/* One host inventory snapshot (a JSON object, mm_host_inventory_json's
 * shape): host_id and a snapshot id are set, it goes through the spool
 * like a batch (POST /api/v1/inventory, in order with the events), and it
 * replaces an older snapshot still waiting there.  A snapshot the server
 * refuses as malformed or too large is counted (inventories_refused) and
 * dropped; MM_EAUTH when the token is refused. */
int mm_fleet_sender_inventory(mm_fleet_sender *s, const char *json, size_t len);
/* Issue 20a: a learned profile (the profile document of docs/profiles.md
 * as a JSON object, as mm_profile_doc_json gives it) for POST
 * /api/v1/profiles, and the list of the captures kept (a JSON array of
 * {file, start, end, size, events}) for POST /api/v1/captures, through the
 * spool in order with the events; a newer capture list replaces one still
 * waiting.  Refused ones (4xx) are counted in uploads_refused and dropped. */
int mm_fleet_sender_profile(mm_fleet_sender *s, const char *json, size_t len);
int mm_fleet_sender_captures(mm_fleet_sender *s, const char *json, size_t len);
/* One capture file itself (its bytes, at most max_size: MM_ELIMIT beyond)
 * for POST /api/v1/captures/file, with the member's first and last event
 * time and event count (mm_capture_members); through the spool. */
int mm_fleet_sender_capture_file(mm_fleet_sender *s, const char *path, int64_t start,
                                 int64_t end, uint64_t events, uint64_t max_size);
/* The profiles enforced for the token's host (GET /api/v1/agent/profiles):
 * one profile document (JSON, no image when none is enforced) for
 * mm_profile_load_string.  MM_EAUTH when the token is refused. */
int mm_fleet_fetch_profiles(const mm_fleet_client_opts *o, char **json, size_t *len);
/* Sends a heartbeat with the sender's counts. */
int mm_fleet_sender_heartbeat(mm_fleet_sender *s);
void mm_fleet_sender_stats_get(const mm_fleet_sender *s, mm_fleet_sender_stats *st);
void mm_fleet_sender_free(mm_fleet_sender *s);

/* --- scan jobs (`mamori worker`, lib/fleet/jobs.c) ------------------------
 * A queue of image scans in the store.  Jobs are enqueued by
 * `mamori registry scan --enqueue` or POST /api/v1/jobs; any number of
 * worker processes sharing one PostgreSQL claim them (FOR UPDATE SKIP
 * LOCKED: no two workers get the same job) with a lease; a job whose lease
 * ran out (its worker died) is claimed again.  A worker's result is stored
 * as a scan only while its lease is its own: the fencing check and the
 * insert are one transaction, so every job ends in exactly one stored scan.
 */
typedef struct mm_fleet_job {
    int64_t id;
    char *ref;       /* the image: host/repo@sha256:... or host/repo:tag */
    char *tag;       /* the tag(s) it was listed under, or NULL */
    int attempt;     /* 1 for the first claim */
    char *worker;    /* the claimant */
} mm_fleet_job;

typedef struct mm_fleet_job_counts {
    int64_t queued, running, done, failed;
} mm_fleet_job_counts;

/* ref: at most 512 printable characters, no spaces; *added (may be NULL)
 * is false when the same reference was already queued or running. */
int mm_fleet_job_enqueue(mm_fleet *f, const char *ref, const char *tag,
                         const char *by, bool *added);
/* The oldest queued job, or one whose lease ran out, leased to worker for
 * lease_s seconds; *out is NULL when there is none.  Jobs claimed
 * max_attempts times without finishing are marked failed instead. */
int mm_fleet_job_claim(mm_fleet *f, const char *worker, int lease_s, int max_attempts,
                       mm_fleet_job **out);
/* Stores r as the job's scan (its JSON report, as POST /api/v1/scans) and
 * marks the job done; MM_ENOTFOUND (nothing stored) when the lease is no
 * longer this claim's.  *scan_id (may be NULL) gets the scan's id. */
int mm_fleet_job_done(mm_fleet *f, const mm_fleet_job *j, mm_result *r, char **scan_id);
/* The scan failed: queued again until max_attempts, then failed. */
int mm_fleet_job_fail(mm_fleet *f, const mm_fleet_job *j, const char *error,
                      int max_attempts);
int mm_fleet_job_counts_get(mm_fleet *f, mm_fleet_job_counts *c);
void mm_fleet_job_free(mm_fleet_job *j);

/* --- layer records shared by the workers (lib/fleet/layers.c) -------------
 * The store behind the scan pipeline's mm_layer_cache (mamori/scan.h).
 * get: 0 and the record (caller frees); MM_ENOTFOUND when owner is to
 * walk the layer (it is claimed for walk_s seconds: others asking wait for
 * the record meanwhile); MM_ELIMIT when the layer has none (put with data
 * NULL said so: walk it, nobody waits); put stores owner's record (data
 * NULL: none can be made); drop gives up owner's claim (bad: the record
 * could not be used: it goes). */
int mm_fleet_layer_get(mm_fleet *f, const char *key, const char *owner, int walk_s,
                       char **data, size_t *len);
int mm_fleet_layer_put(mm_fleet *f, const char *key, const char *owner, const char *data,
                       size_t len);
void mm_fleet_layer_drop(mm_fleet *f, const char *key, const char *owner, bool bad);
/* A record replayed from a copy the caller kept: counted as get counts. */
void mm_fleet_layer_count_hit(mm_fleet *f, const char *key);
/* Records ready, times one was replayed, times a layer was walked for one. */
int mm_fleet_layer_stats(mm_fleet *f, int64_t *records, int64_t *hits, int64_t *walks);

#ifdef __cplusplus
}
#endif
#endif
