/*
 * fleet/fleet_int.h - what the files of lib/fleet share: the service
 * struct, the role bits, the metrics counters and the store calls the API
 * routes use (store.c).  Private to lib/fleet.
 */
#ifndef MM_FLEET_INT_H
#define MM_FLEET_INT_H

#include <pthread.h>
#include <jansson.h>

#include "mamori/fleet.h"
#include "fleet/db.h"
#include "util/util.h"
#include "util/json.h"

enum {
    ROLE_ADMIN = 1u << 0,
    ROLE_OPERATOR = 1u << 1,
    ROLE_VIEWER = 1u << 2,
    ROLE_AGENT = 1u << 3,
    ROLE_CI = 1u << 4,
};
unsigned fleet_role_bit(const char *role);

typedef struct fleet_metrics {
    uint64_t requests[6];          /* by status class 1xx..5xx (index 1..5) */
    uint64_t events_accepted, events_duplicate, event_batches;
    uint64_t scans_ingested, findings_ingested;
    uint64_t rate_limited, auth_failures;
    double ingest_seconds;         /* time spent storing batches */
    double scan_seconds;           /* durations the scan reports state */
    uint64_t scans_timed;
} fleet_metrics;

struct mm_fleet {
    fdb *db;
    mm_fleet_opts o;
    int64_t started;
    pthread_mutex_t mu;            /* metrics and rate buckets */
    fleet_metrics m;
    mm_map *buckets;               /* token id -> bucket */
    int64_t since_analyze;         /* events stored since the planner's statistics */
    struct fleet_group *group;     /* issue 18: batches committed together (ingest.c) */
    struct fleet_sessions *sessions; /* console sessions (console.c, issue 20) */
    struct fleet_ops *ops;         /* the scheduler (ops.h, issue 19), or NULL */
    int64_t events_gen;            /* bumped (atomic) when alerts are stored (issue 20b) */
    void (*on_events)(void *);     /* mm_fleet_on_events (under mu) */
    void *on_events_ud;
};
void fleet_group_free(struct fleet_group *g);

/* The caller of a request, from its bearer token. */
typedef struct fleet_caller {
    char id[32];
    char name[128];
    char role[16];
    unsigned role_bit;
    char host_id[256];
    int64_t last_used;
} fleet_caller;

int fleet_migrate(fdb *db);
/* 0 and *c filled; MM_EAUTH (unknown or revoked); MM_EDB. */
int fleet_auth(mm_fleet *f, const char *token, fleet_caller *c);
void fleet_audit(mm_fleet *f, const fleet_caller *c, const char *peer,
                 const char *method, const char *path, int status, const char *detail);
/* The same with the store's lock held: inside a route's own transaction, so
 * that its data and its audit line are one commit (ingest, issue 18). */
int fleet_audit_locked(mm_fleet *f, const fleet_caller *c, const char *peer,
                       const char *method, const char *path, int status, const char *detail);
int64_t fleet_now(void);

#define FLEET_MAX_ID 128

/* --- the console (console.c, issue 20) --- */
void fleet_sessions_free(struct fleet_sessions *s);
/* The value of cookie name in a Cookie header into out (NUL-terminated):
 * 0, or -1 when absent, empty or longer than outsz - 1. */
int fleet_cookie_get(const char *header, const char *name, char *out, size_t outsz);
/* The fleet's SP 800-190 matrix (JSON text) cached as of the newest scan
 * seq: a malloc'd copy when seq matches, else NULL. */
char *fleet_matrix_cache_get(mm_fleet *f, int64_t seq);
void fleet_matrix_cache_put(mm_fleet *f, int64_t seq, const char *json);
/* The token of a login body {"token": "..."} (malloc'd) or NULL with the
 * reason in mm_error. */
char *fleet_login_parse(const char *body, size_t len);
/* Canonical padded base64 into *out (layers.c); MM_EFORMAT otherwise. */
int fleet_b64_decode(const char *s, char **out, size_t *outlen);
#endif
