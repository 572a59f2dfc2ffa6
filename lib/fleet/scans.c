/*
 * scans.c - scan results sent to `mamori server` (POST /api/v1/scans: the
 * JSON report of `mamori image|rootfs|sbom --format json`, docs/json-format.md)
 * and the token routes of the API.  A report is checked before anything is
 * stored: its findings become rows that the findings list filters by
 * severity, kind, SP 800-190 section, image and host; the report itself is
 * kept whole for GET /api/v1/scans/{id}.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "fleet/ops.h"
#include "fleet/routes.h"

#define MAX_FINDINGS 1000000

static const char *str_or(json_t *o, const char *k, const char *def)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : def;
}

static bool sev_ok(const char *s)
{
    return s && (!strcmp(s, "CRITICAL") || !strcmp(s, "HIGH") || !strcmp(s, "MEDIUM") ||
                 !strcmp(s, "LOW") || !strcmp(s, "UNKNOWN"));
}

void fleet_scan_facts_free(fleet_scan_facts *s)
{
    free(s->kind);
    free(s->target);
    free(s->image);
    json_decref(s->findings);
    memset(s, 0, sizeof *s);
}

/* s cut to at most max bytes, not inside a UTF-8 sequence */
static json_t *jcut(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1);
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    json_t *j = json_stringn(s, n);
    return j ? j : json_string("(not UTF-8)");
}

static char *capped(const char *s)
{
    if (!s)
        return NULL;
    json_t *j = jcut(s, 1024);
    char *r = mm_xstrdup(json_string_value(j));
    json_decref(j);
    return r;
}

int fleet_scan_parse(const char *body, size_t len, fleet_scan_facts *out)
{
    memset(out, 0, sizeof *out);
    json_t *doc;
    int rc = fleet_json_body(body, len, &doc);
    if (rc < 0)
        return rc;
    json_t *fs = json_object_get(doc, "findings");
    json_t *sv = json_object_get(doc, "schemaVersion");
    if (!json_is_object(doc))
        rc = mm_error_set(MM_EFORMAT, "body: not a JSON object (want a mamori JSON report)");
    else if (!json_is_integer(sv) || json_integer_value(sv) != 1)
        rc = mm_error_set(MM_EFORMAT, "schemaVersion: want 1 (a mamori JSON report)");
    else if (!json_is_string(json_object_get(doc, "kind")))
        rc = mm_error_set(MM_EFORMAT, "kind: required, a string");
    else if (!json_is_array(fs))
        rc = mm_error_set(MM_EFORMAT, "findings: required, an array");
    else if (json_array_size(fs) > MAX_FINDINGS)
        rc = mm_error_set(MM_ELIMIT, "findings: more than %d", MAX_FINDINGS);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    out->kind = capped(str_or(doc, "kind", NULL));
    json_t *dur = json_object_get(doc, "durationSeconds");
    out->duration = json_is_number(dur) && json_number_value(dur) >= 0 &&
                    json_number_value(dur) < 1e7 ? json_number_value(dur) : -1;
    out->target = capped(str_or(doc, "target", NULL));
    json_t *img = json_object_get(doc, "image");
    const char *iname = str_or(img, "reference", NULL);
    if (!iname)
        iname = json_string_value(json_array_get(json_object_get(img, "repoTags"), 0));
    if (!iname && json_is_object(img))
        iname = out->target;
    out->image = capped(iname);
    out->findings = json_array();
    for (size_t i = 0; i < json_array_size(fs); i++) {
        json_t *f = json_array_get(fs, i);
        const char *id = str_or(f, "id", NULL), *kind = str_or(f, "kind", NULL);
        const char *sev = str_or(f, "severity", NULL), *sec = str_or(f, "section", NULL);
        if (!json_is_object(f) || !id || !kind || !sev_ok(sev) || !sec) {
            rc = mm_error_set(MM_EFORMAT, "findings[%zu]: want an object with id, kind,"
                              " severity (CRITICAL..UNKNOWN) and section strings", i);
            break;
        }
        json_t *loc = json_object_get(f, "location");
        json_t *n = json_object();
        json_object_set_new(n, "finding_id", jcut(id, 256));
        json_object_set_new(n, "kind", jcut(kind, 64));
        json_object_set_new(n, "severity", json_string(sev));
        json_object_set_new(n, "section", jcut(sec, 32));
        const char *t = str_or(f, "title", NULL), *pkg = str_or(loc, "package", NULL);
        const char *path = str_or(loc, "path", NULL);
        if (t)
            json_object_set_new(n, "title", jcut(t, 1024));
        if (pkg)
            json_object_set_new(n, "package", jcut(pkg, 512));
        if (path)
            json_object_set_new(n, "path", jcut(path, 1024));
        /* a string cut inside a UTF-8 sequence is refused by jansson: fine, dropped */
        json_array_append_new(out->findings, n);
    }
    json_decref(doc);
    if (rc)
        fleet_scan_facts_free(out);
    return rc;
}

static const char *js(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Inserts a parsed report and its findings; the caller holds the store's
 * lock inside a transaction (the ingest route, a worker's job). */
int fleet_scan_insert(mm_fleet *f, const fleet_scan_facts *sf, const char *body,
                      size_t len, const char *host, const char *token_id, char sid[33])
{
    char now[24], nf[24];
    if (mm_random_hex(sid, 16) < 0)
        return MM_EIO;
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    size_t n = json_array_size(sf->findings);
    snprintf(nf, sizeof nf, "%zu", n);
    char *report = mm_xstrndup(body, len);
    const char *p[] = {sid, sf->kind, sf->target, sf->image, host, token_id, now, nf, report};
    int64_t seq = 0;
    int rc = fdb_exec(f->db, "INSERT INTO scans (scan_id, kind, target, image, host_id, token_id,"
                      " received, findings, report) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                      9, p, NULL);
    if (rc == 0)
        rc = fdb_query_int(f->db, "SELECT seq FROM scans WHERE scan_id = $1", 1, p, 0, &seq);
    char sq[24];
    snprintf(sq, sizeof sq, "%lld", (long long)seq);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        json_t *x = json_array_get(sf->findings, i);
        const char *q[] = {sq, js(x, "finding_id"), js(x, "kind"), js(x, "severity"),
                           js(x, "section"), js(x, "title"), js(x, "package"), js(x, "path"),
                           sf->image, host, now};
        rc = fdb_exec(f->db, "INSERT INTO findings (scan_seq, finding_id, kind, severity,"
                      " section, title, package, path, image, host_id, ts) VALUES"
                      " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", 11, q, NULL);
    }
    free(report);
    return rc;
}

/* Stores one checked report and its findings in one transaction (the
 * ingest route; the scheduler's registry rescans, issue 19).  MM_EFORMAT /
 * MM_ELIMIT for a body that is not a report, MM_EDB for the store. */
int fleet_scan_store(mm_fleet *f, const char *body, size_t len, const char *host,
                     const char *token_id, char sid[33], size_t *nfindings)
{
    fleet_scan_facts sf;
    int rc = fleet_scan_parse(body, len, &sf);
    if (rc)
        return rc;
    size_t n = json_array_size(sf.findings);
    fdb_lock(f->db);
    rc = fdb_exec(f->db, "BEGIN", 0, NULL, NULL);
    if (rc == 0)
        rc = fleet_scan_insert(f, &sf, body, len, host, token_id, sid);
    rc = fdb_end(f->db, rc);
    fdb_unlock(f->db);
    if (rc) {
        rc = mm_error_wrap(MM_EDB, "store: ");
        fleet_scan_facts_free(&sf);
        return rc;
    }
    pthread_mutex_lock(&f->mu);
    f->m.scans_ingested++;
    f->m.findings_ingested += n;
    if (sf.duration >= 0) {
        f->m.scan_seconds += sf.duration;
        f->m.scans_timed++;
    }
    pthread_mutex_unlock(&f->mu);
    *nfindings = n;
    fleet_scan_facts_free(&sf);
    return 0;
}

void route_scans_ingest(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *host = mm_http_req_query(rq, "host");
    if (host && !fleet_id_valid(host)) {
        mm_http_resp_error(resp, 400, "host: 1 to %d of A-Z a-z 0-9 . _ : -", FLEET_MAX_ID);
        return;
    }
    if (fc->caller.role_bit & ROLE_AGENT) {
        if (host && strcmp(host, fc->caller.host_id) != 0) {
            mm_http_resp_error(resp, 403, "this agent token is bound to host '%s', not '%s'",
                               fc->caller.host_id, host);
            snprintf(fc->detail, sizeof fc->detail, "refused: host %s", host);
            return;
        }
        host = fc->caller.host_id;
    }
    char sid[33];
    size_t n = 0;
    int rc = fleet_scan_store(f, rq->body, rq->body_len, host, fc->caller.id, sid, &n);
    if (rc) {
        mm_http_resp_error(resp, rc == MM_ELIMIT ? 413 : rc == MM_EFORMAT ? 400 : 503, "%s",
                           mm_error_last());
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "scan %s: %zu findings", sid, n);
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(sid));
    json_object_set_new(j, "findings", json_integer((json_int_t)n));
    mm_http_resp_json(resp, 201, j);
}

void route_tokens_create(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    json_error_t je;
    json_t *doc = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
    const char *name = js(doc, "name"), *role = js(doc, "role"), *host = js(doc, "host_id");
    if (!json_is_object(doc) || !name || !role) {
        json_decref(doc);
        mm_http_resp_error(resp, 400, "body: want {\"name\": ..., \"role\": ...,"
                           " \"host_id\": ... (agent tokens)}");
        return;
    }
    if (host && !fleet_id_valid(host)) {
        json_decref(doc);
        mm_http_resp_error(resp, 400, "host_id: 1 to %d of A-Z a-z 0-9 . _ : -", FLEET_MAX_ID);
        return;
    }
    char *tok = NULL, *id = NULL;
    int rc = mm_fleet_token_create(f, name, role, host, &tok, &id);
    if (rc) {
        mm_http_resp_error(resp, rc == MM_EINVAL ? 400 : 503, "%s", mm_error_last());
        json_decref(doc);
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "token %s created (role %s)", id, role);
    json_t *j = json_object();
    json_object_set_new(j, "id", json_string(id));
    json_object_set_new(j, "token", json_string(tok));
    json_object_set_new(j, "role", json_string(role));
    mm_http_resp_json(resp, 201, j);
    explicit_bzero(tok, strlen(tok));
    free(tok);
    free(id);
    json_decref(doc);
}

void route_tokens_revoke(mm_fleet *f, fleet_ctx *fc, const mm_http_req *rq, mm_http_resp *resp)
{
    const char *id = rq->path + strlen("/api/v1/tokens/");
    if (!fleet_id_valid(id)) {
        mm_http_resp_error(resp, 400, "token id: not valid");
        return;
    }
    int rc = mm_fleet_token_revoke(f, id);
    if (rc) {
        mm_http_resp_error(resp, rc == MM_ENOTFOUND ? 404 : 503, "%s", mm_error_last());
        return;
    }
    snprintf(fc->detail, sizeof fc->detail, "token %s revoked", id);
    json_t *j = json_object();
    json_object_set_new(j, "revoked", json_string(id));
    mm_http_resp_json(resp, 200, j);
}
