/*
 * fleet/profiles.h - runtime profiles and captures in `mamori server`
 * (issue 20a): the parsers of their upload bodies (profiles_parse.c, also
 * the fuzz target's) and the routes (profiles.c).  Private to lib/fleet.
 */
#ifndef MM_FLEET_PROFILES_H
#define MM_FLEET_PROFILES_H

#include "fleet/routes.h"

#define FLEET_PROFILE_MAX_BODY (16u << 20)   /* as the agent's profile loader */
#define FLEET_PROFILE_MAX_IMAGES 4096
#define FLEET_PROFILE_MAX_ENTRIES 200000
#define FLEET_CAPTURE_MAX 1000
#define FLEET_CAPTURE_FILE_MAX (16u << 20)   /* one capture file's bytes */
#define FLEET_CAPTURE_FILES_KEPT 20          /* capture files kept per host */

/* One image of an uploaded profile, as the document stored for it. */
typedef struct fleet_profile_image {
    char *image;     /* the image key (or glob) */
    char *doc;       /* {"version":1,"learned":{..},"images":[the image, defaults in it]} */
    char *counts;    /* {"processes":N,...} for the categories present */
} fleet_profile_image;

typedef struct fleet_profile_upload {
    char *host_id, *upload_id;   /* upload_id may be NULL */
    int64_t start, end;          /* learned period, epoch seconds (0 unknown) */
    fleet_profile_image *img;
    size_t n, entries;
} fleet_profile_upload;

/* {host_id, id?, profile: {version: 1, learned?, generalisation?, priority?,
 * action?, images: [...]}}: MM_EFORMAT/MM_ELIMIT naming the field. */
int fleet_profile_parse(const char *body, size_t len, fleet_profile_upload *out);
void fleet_profile_upload_free(fleet_profile_upload *u);

typedef struct fleet_capture_meta {
    char *file;
    int64_t start, end, size, events;
} fleet_capture_meta;
typedef struct fleet_capture_list {
    char *host_id;
    fleet_capture_meta *v;
    size_t n;
} fleet_capture_list;
/* {host_id, captures: [{file, start, end, size, events}]} (at most
 * FLEET_CAPTURE_MAX): MM_EFORMAT/MM_ELIMIT naming the field. */
int fleet_capture_list_parse(const char *body, size_t len, fleet_capture_list *out);
void fleet_capture_list_free(fleet_capture_list *c);

/* {host_id, file, start, end, size, events, data: base64 of the file}:
 * the decoded bytes into *data (size of them, checked). */
typedef struct fleet_capture_file {
    char *host_id;
    fleet_capture_meta m;
    unsigned char *data;
    char *b64;      /* the data as sent (stored as it is) */
} fleet_capture_file;
int fleet_capture_file_parse(const char *body, size_t len, fleet_capture_file *out);
void fleet_capture_file_free(fleet_capture_file *c);
void route_capture_file_ingest(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_capture_file_get(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

void route_profiles_ingest(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_profiles_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_profile_get(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_profile_enforce(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_agent_profiles(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_captures_ingest(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);
void route_captures_list(mm_fleet *, fleet_ctx *, const mm_http_req *, mm_http_resp *);

#endif
