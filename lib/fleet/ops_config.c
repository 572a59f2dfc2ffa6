/*
 * ops_config.c - the configuration of the server's operations: schedules
 * (vulnerability-database updates, registry rescans, stale-image checks,
 * exports), notification routes and retention, as the --config file (YAML
 * or JSON) and the API (POST /api/v1/schedules, /notify/routes,
 * /retention) give them.  Everything is untrusted input: every member is
 * checked for type, size and range, unknown members are refused, and an
 * error names the field ("schedules[2].every: ...").  What passes is
 * stored normalised, as JSON text in the store (docs/server-ops.md).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fleet/ops.h"

#define MAX_CONFIG (1u << 20)
#define MAX_ITEMS 1000
#define MAX_STR 2048
#define MAX_LIST 64

const char *ops_js(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

int ops_sev_rank(const char *s)
{
    static const char *const sev[] = {"UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL"};
    for (int i = 0; s && i < 5; i++)
        if (strcasecmp(s, sev[i]) == 0)
            return i;
    return -1;
}

static bool name_ok(const char *s)
{
    if (!s || !*s || strlen(s) > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
            return false;
    return true;
}

/* a string member: *out NULL when absent; printable, <= MAX_STR */
static int str_member(json_t *o, const char *k, const char *where, bool req, const char **out)
{
    json_t *v = json_object_get(o, k);
    *out = NULL;
    if (!v || json_is_null(v)) {
        if (req)
            return mm_error_set(MM_EFORMAT, "%s.%s: required", where, k);
        return 0;
    }
    if (!json_is_string(v))
        return mm_error_set(MM_EFORMAT, "%s.%s: not a string", where, k);
    const char *s = json_string_value(v);
    if (json_string_length(v) > MAX_STR || json_string_length(v) != strlen(s))
        return mm_error_set(MM_ELIMIT, "%s.%s: longer than %d bytes or holds NUL", where, k,
                            MAX_STR);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return mm_error_set(MM_EFORMAT, "%s.%s: holds a control character", where, k);
    *out = s;
    return 0;
}

/* "90", 90, "30s", "15m", "6h", "2d" -> seconds in [lo, hi] */
static int duration_member(json_t *o, const char *k, const char *where, int64_t lo, int64_t hi,
                           int64_t def, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    *out = def;
    if (!v || json_is_null(v))
        return def < 0 ? mm_error_set(MM_EFORMAT, "%s.%s: required", where, k) : 0;
    int64_t n = 0;
    if (json_is_integer(v))
        n = json_integer_value(v);
    else if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end = NULL;
        if (!isdigit((unsigned char)*s) || strlen(s) > 16)
            return mm_error_set(MM_EFORMAT, "%s.%s: want seconds or N[smhd]", where, k);
        long long x = strtoll(s, &end, 10);
        int64_t mul = 1;
        if (*end == 's')
            end++;
        else if (*end == 'm')
            mul = 60, end++;
        else if (*end == 'h')
            mul = 3600, end++;
        else if (*end == 'd')
            mul = 86400, end++;
        if (*end || x > hi)
            return mm_error_set(MM_EFORMAT, "%s.%s: want seconds or N[smhd]", where, k);
        n = (int64_t)x * mul;
    } else
        return mm_error_set(MM_EFORMAT, "%s.%s: want seconds or N[smhd]", where, k);
    if (n < lo || n > hi)
        return mm_error_set(MM_EFORMAT, "%s.%s: %lld out of range [%lld, %lld]", where, k,
                            (long long)n, (long long)lo, (long long)hi);
    *out = n;
    return 0;
}

static int int_member(json_t *o, const char *k, const char *where, int64_t lo, int64_t hi,
                      int64_t *out)
{
    json_t *v = json_object_get(o, k);
    *out = 0;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return mm_error_set(MM_EFORMAT, "%s.%s: want an integer in [%lld, %lld]", where, k,
                            (long long)lo, (long long)hi);
    *out = json_integer_value(v);
    return 0;
}

static int bool_member(json_t *o, const char *k, const char *where, bool *out)
{
    json_t *v = json_object_get(o, k);
    *out = false;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_boolean(v))
        return mm_error_set(MM_EFORMAT, "%s.%s: want true or false", where, k);
    *out = json_is_true(v);
    return 0;
}

/* a list of strings (or one string): copied into out[k] as an array */
static int list_member(json_t *in, const char *k, const char *where, json_t *out)
{
    json_t *v = json_object_get(in, k);
    if (!v || json_is_null(v))
        return 0;
    json_t *a = json_array();
    if (json_is_string(v))
        json_array_append(a, v);
    else if (json_is_array(v) && json_array_size(v) <= MAX_LIST) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *x = json_array_get(v, i);
            if (!json_is_string(x) || json_string_length(x) > 256) {
                json_decref(a);
                return mm_error_set(MM_EFORMAT, "%s.%s[%zu]: want a string of <= 256 bytes",
                                    where, k, i);
            }
            json_array_append(a, x);
        }
    } else {
        json_decref(a);
        return mm_error_set(MM_EFORMAT, "%s.%s: want a string or a list of at most %d", where,
                            k, MAX_LIST);
    }
    json_object_set_new(out, k, a);
    return 0;
}

static int only_members(json_t *in, const char *where, const char *const *allowed)
{
    const char *k;
    json_t *v;
    json_object_foreach(in, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(k, allowed[i]) == 0;
        if (!ok)
            return mm_error_set(MM_EFORMAT, "%s: unknown member '%.64s'", where, k);
    }
    return 0;
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

int ops_schedule_parse(json_t *in, const char *where, json_t **out)
{
    static const char *const allowed[] = {
        "name", "kind", "every", "feeds", "sources", "only", "allow_insecure", "registry",
        "insecure", "plain_http", "ca_file", "max_age_days", "kinds", "sink", "secret",
        "repository", "timeout", "verify_keys", NULL};
    *out = NULL;
    if (!json_is_object(in))
        return mm_error_set(MM_EFORMAT, "%s: want an object", where);
    const char *name, *kind, *s;
    int rc;
    if ((rc = only_members(in, where, allowed)) || (rc = str_member(in, "name", where, true, &name)) ||
        (rc = str_member(in, "kind", where, true, &kind)))
        return rc;
    if (!name_ok(name))
        return mm_error_set(MM_EFORMAT, "%s.name: 1 to 64 of A-Z a-z 0-9 . _ -", where);
    if (strcmp(kind, SCHED_VULNDB) && strcmp(kind, SCHED_REGISTRY) && strcmp(kind, SCHED_STALE) &&
        strcmp(kind, SCHED_EXPORT) && strcmp(kind, SCHED_REGCHECK))
        return mm_error_set(MM_EFORMAT, "%s.kind: want %s, %s, %s, %s or %s", where,
                            SCHED_VULNDB, SCHED_REGISTRY, SCHED_REGCHECK, SCHED_STALE,
                            SCHED_EXPORT);
    int64_t every, age;
    if ((rc = duration_member(in, "every", where, 1, 366 * 86400LL, -1, &every)))
        return rc;
    json_t *n = json_object();
    json_object_set_new(n, "name", json_string(name));
    json_object_set_new(n, "kind", json_string(kind));
    json_object_set_new(n, "every", json_integer(every));
    bool b;
    if (!strcmp(kind, SCHED_VULNDB)) {
        rc = list_member(in, "feeds", where, n);
        if (!rc && !(rc = str_member(in, "sources", where, false, &s)))
            set_str(n, "sources", s);
        if (!rc && !(rc = str_member(in, "only", where, false, &s)))
            set_str(n, "only", s);
        if (!rc && !(rc = bool_member(in, "allow_insecure", where, &b)) && b)
            json_object_set_new(n, "allow_insecure", json_true());
        if (!rc && !json_object_get(n, "feeds") && !json_object_get(n, "sources"))
            rc = mm_error_set(MM_EFORMAT, "%s: a %s schedule needs feeds (local files, as"
                              " `mamori db import`) or sources (a sources file, as"
                              " `mamori db update`)", where, SCHED_VULNDB);
    } else if (!strcmp(kind, SCHED_REGISTRY)) {
        if (!(rc = str_member(in, "registry", where, true, &s)))
            set_str(n, "registry", s);
        if (!rc && !(rc = str_member(in, "ca_file", where, false, &s)))
            set_str(n, "ca_file", s);
        if (!rc && !(rc = bool_member(in, "insecure", where, &b)) && b)
            json_object_set_new(n, "insecure", json_true());
        if (!rc && !(rc = bool_member(in, "plain_http", where, &b)) && b)
            json_object_set_new(n, "plain_http", json_true());
        if (!rc && !(rc = int_member(in, "max_age_days", where, 0, 36500, &age)) && age)
            json_object_set_new(n, "max_age_days", json_integer(age));
        if (!rc)   /* issue 20: public keys the scans verify signatures with */
            rc = list_member(in, "verify_keys", where, n);
    } else if (!strcmp(kind, SCHED_REGCHECK)) {
        /* issue 20: the registry's HOST[:PORT], as `mamori registry check` */
        int64_t t;
        if (!(rc = str_member(in, "registry", where, true, &s))) {
            if (!*s || strpbrk(s, "/?#@ \t\r\n"))
                rc = mm_error_set(MM_EFORMAT, "%s.registry: want HOST[:PORT]", where);
            set_str(n, "registry", s);
        }
        if (!rc && !(rc = str_member(in, "repository", where, false, &s)) && s) {
            if (!*s || strpbrk(s, "?#% \t\r\n"))
                rc = mm_error_set(MM_EFORMAT, "%s.repository: not a repository name", where);
            set_str(n, "repository", s);
        }
        if (!rc && !(rc = str_member(in, "ca_file", where, false, &s)))
            set_str(n, "ca_file", s);
        if (!rc && !(rc = int_member(in, "timeout", where, 0, 600, &t)) && t)
            json_object_set_new(n, "timeout", json_integer(t));
    } else if (!strcmp(kind, SCHED_STALE)) {
        if (!(rc = int_member(in, "max_age_days", where, 1, 36500, &age)))
            json_object_set_new(n, "max_age_days", json_integer(age ? age : 30));
    } else {
        rc = list_member(in, "kinds", where, n);
        json_t *ks = json_object_get(n, "kinds");
        for (size_t i = 0; !rc && i < json_array_size(ks); i++) {
            const char *k = json_string_value(json_array_get(ks, i));
            if (strcmp(k, "findings") && strcmp(k, "alerts") && strcmp(k, "events"))
                rc = mm_error_set(MM_EFORMAT, "%s.kinds[%zu]: want findings, alerts or events",
                                  where, i);
        }
        if (!rc && !ks)
            json_object_set_new(n, "kinds", json_pack("[sss]", "findings", "alerts", "events"));
        if (!rc && !(rc = str_member(in, "sink", where, true, &s))) {
            if (!mm_str_startswith(s, "file:") && !mm_str_startswith(s, "https://") &&
                !mm_str_startswith(s, "http://") && !mm_str_startswith(s, "tls://"))
                rc = mm_error_set(MM_EFORMAT, "%s.sink: want file:PATH, https://URL or"
                                  " tls://HOST:PORT (syslog)", where);
            set_str(n, "sink", s);
        }
        if (!rc && !(rc = str_member(in, "ca_file", where, false, &s)))
            set_str(n, "ca_file", s);
        if (!rc && !(rc = str_member(in, "secret", where, false, &s)))
            set_str(n, "secret", s);
        if (!rc && !(rc = bool_member(in, "insecure", where, &b)) && b)
            json_object_set_new(n, "insecure", json_true());
    }
    if (rc) {
        json_decref(n);
        return rc;
    }
    *out = n;
    return 0;
}

int ops_route_parse(json_t *in, const char *where, json_t **out)
{
    static const char *const allowed[] = {
        "name", "kind", "url", "secret", "min_severity", "kinds", "namespaces", "sections",
        "ca_file", "insecure", "app_name", NULL};
    *out = NULL;
    if (!json_is_object(in))
        return mm_error_set(MM_EFORMAT, "%s: want an object", where);
    const char *name, *kind, *url, *s;
    int rc;
    if ((rc = only_members(in, where, allowed)) || (rc = str_member(in, "name", where, true, &name)) ||
        (rc = str_member(in, "kind", where, true, &kind)) ||
        (rc = str_member(in, "url", where, true, &url)))
        return rc;
    if (!name_ok(name))
        return mm_error_set(MM_EFORMAT, "%s.name: 1 to 64 of A-Z a-z 0-9 . _ -", where);
    bool hook = !strcmp(kind, "webhook");
    if (!hook && strcmp(kind, "syslog"))
        return mm_error_set(MM_EFORMAT, "%s.kind: want webhook or syslog", where);
    if (hook && !mm_str_startswith(url, "https://") && !mm_str_startswith(url, "http://"))
        return mm_error_set(MM_EFORMAT, "%s.url: a webhook wants an https:// URL", where);
    if (!hook && !mm_str_startswith(url, "tls://"))
        return mm_error_set(MM_EFORMAT, "%s.url: syslog wants tls://HOST:PORT (RFC 5425)",
                            where);
    json_t *n = json_object();
    json_object_set_new(n, "name", json_string(name));
    json_object_set_new(n, "kind", json_string(kind));
    json_object_set_new(n, "url", json_string(url));
    bool b;
    if (!(rc = str_member(in, "secret", where, false, &s)))
        set_str(n, "secret", s);
    if (!rc && hook && !s)
        rc = mm_error_set(MM_EFORMAT, "%s.secret: a webhook needs the secret its"
                          " X-Mamori-Signature is made with", where);
    if (!rc && !(rc = str_member(in, "min_severity", where, false, &s)) && s) {
        if (ops_sev_rank(s) < 0)
            rc = mm_error_set(MM_EFORMAT, "%s.min_severity: want CRITICAL, HIGH, MEDIUM, LOW"
                              " or UNKNOWN", where);
        else {
            char up[16];
            snprintf(up, sizeof up, "%s", s);
            for (char *c = up; *c; c++)
                *c = (char)toupper((unsigned char)*c);
            set_str(n, "min_severity", up);
        }
    }
    if (!rc)
        rc = list_member(in, "kinds", where, n);
    if (!rc)
        rc = list_member(in, "namespaces", where, n);
    if (!rc)
        rc = list_member(in, "sections", where, n);
    if (!rc && !(rc = str_member(in, "ca_file", where, false, &s)))
        set_str(n, "ca_file", s);
    if (!rc && !(rc = str_member(in, "app_name", where, false, &s)))
        set_str(n, "app_name", s);
    if (!rc && !(rc = bool_member(in, "insecure", where, &b)) && b)
        json_object_set_new(n, "insecure", json_true());
    if (rc) {
        json_decref(n);
        return rc;
    }
    *out = n;
    return 0;
}

int ops_retention_parse(json_t *in, const char *where, json_t **out)
{
    *out = NULL;
    if (!json_is_object(in))
        return mm_error_set(MM_EFORMAT, "%s: want an object {KIND: {days, rows}}", where);
    json_t *n = json_object();
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(in, k, v) {
        char w[160];
        snprintf(w, sizeof w, "%s.%.32s", where, k);
        if (strcmp(k, "findings") && strcmp(k, "events") && strcmp(k, "alerts") &&
            strcmp(k, "scans")) {
            rc = mm_error_set(MM_EFORMAT, "%s: want findings, events, alerts or scans (the"
                              " audit log is append-only)", w);
            break;
        }
        static const char *const allowed[] = {"days", "rows", NULL};
        int64_t days = 0, rows = 0;
        if (!json_is_object(v))
            rc = mm_error_set(MM_EFORMAT, "%s: want {days, rows}", w);
        else if (!(rc = only_members(v, w, allowed)) &&
                 !(rc = int_member(v, "days", w, 0, 36500, &days)))
            rc = int_member(v, "rows", w, 0, 1000000000000LL, &rows);
        if (rc)
            break;
        json_object_set_new(n, k, json_pack("{sIsI}", "days", (json_int_t)days, "rows",
                                            (json_int_t)rows));
    }
    if (rc) {
        json_decref(n);
        return rc;
    }
    *out = n;
    return 0;
}

static int parse_list(json_t *doc, const char *key, int (*one)(json_t *, const char *, json_t **),
                      json_t *out)
{
    json_t *a = json_object_get(doc, key);
    if (!a || json_is_null(a))
        return 0;
    if (!json_is_array(a) || json_array_size(a) > MAX_ITEMS)
        return mm_error_set(MM_EFORMAT, "%s: want a list of at most %d", key, MAX_ITEMS);
    json_t *arr = json_array();
    mm_map *seen = mm_map_new();
    int rc = 0;
    for (size_t i = 0; i < json_array_size(a); i++) {
        char w[64];
        snprintf(w, sizeof w, "%s[%zu]", key, i);
        json_t *n;
        if ((rc = one(json_array_get(a, i), w, &n)))
            break;
        const char *name = ops_js(n, "name");
        if (mm_map_get(seen, name)) {
            rc = mm_error_set(MM_EFORMAT, "%s.name: '%s' given twice", w, name);
            json_decref(n);
            break;
        }
        mm_map_put(seen, name, (void *)1);
        json_array_append_new(arr, n);
    }
    mm_map_free(seen, NULL);
    if (rc)
        json_decref(arr);
    else
        json_object_set_new(out, key, arr);
    return rc;
}

int ops_config_parse(const char *data, size_t len, const char *name, json_t **out)
{
    *out = NULL;
    if (len > MAX_CONFIG)
        return mm_error_set(MM_ELIMIT, "%s: larger than %u bytes", name, MAX_CONFIG);
    json_t *doc = NULL;
    int rc = mm_yaml_load_one(&doc, data, len, name, NULL, NULL);
    if (rc)
        return rc;
    static const char *const allowed[] = {"schedules", "routes", "retention", NULL};
    json_t *n = json_object();
    if (!json_is_object(doc))
        rc = mm_error_set(MM_EFORMAT, "%s: want a mapping of schedules, routes, retention",
                          name);
    else if (!(rc = only_members(doc, name, allowed)) &&
             !(rc = parse_list(doc, "schedules", ops_schedule_parse, n)) &&
             !(rc = parse_list(doc, "routes", ops_route_parse, n))) {
        json_t *r = json_object_get(doc, "retention"), *rn;
        if (r && !(rc = ops_retention_parse(r, "retention", &rn)))
            json_object_set_new(n, "retention", rn);
    }
    json_decref(doc);
    if (rc) {
        json_decref(n);
        if (!mm_str_startswith(mm_error_last(), name))
            mm_error_wrap(rc, "%s: ", name);
        return rc;
    }
    *out = n;
    return 0;
}

/* --- store ------------------------------------------------------------------ */

int ops_schedule_put(mm_fleet *f, json_t *n)
{
    char every[24], now[24];
    snprintf(every, sizeof every, "%lld", (long long)json_integer_value(json_object_get(n, "every")));
    snprintf(now, sizeof now, "%lld", (long long)(fleet_now() + json_integer_value(
                                                      json_object_get(n, "every"))));
    char *params = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS);
    const char *p[] = {ops_js(n, "name"), ops_js(n, "kind"), every, params, now};
    fdb_lock(f->db);
    /* a changed schedule keeps its history; its next run follows the new interval */
    int rc = fdb_exec(f->db, "INSERT INTO schedules (name, kind, every, params, next_run)"
                      " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET"
                      " kind = excluded.kind, every = excluded.every, params = excluded.params,"
                      " next_run = CASE WHEN schedules.every = excluded.every THEN"
                      " schedules.next_run ELSE excluded.next_run END", 5, p, NULL);
    fdb_unlock(f->db);
    free(params);
    return rc;
}

int ops_route_put(mm_fleet *f, json_t *n)
{
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)fleet_now());
    char *params = json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS);
    const char *p[] = {ops_js(n, "name"), ops_js(n, "kind"), params, now};
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, "INSERT INTO notify_routes (name, kind, params, created)"
                      " VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO UPDATE SET"
                      " kind = excluded.kind, params = excluded.params", 4, p, NULL);
    fdb_unlock(f->db);
    free(params);
    return rc;
}

int ops_retention_put(mm_fleet *f, json_t *n)
{
    const char *k;
    json_t *v;
    int rc = 0;
    fdb_lock(f->db);
    json_object_foreach(n, k, v) {
        char d[24], r[24];
        snprintf(d, sizeof d, "%lld", (long long)json_integer_value(json_object_get(v, "days")));
        snprintf(r, sizeof r, "%lld", (long long)json_integer_value(json_object_get(v, "rows")));
        const char *p[] = {k, d, r};
        if ((rc = fdb_exec(f->db, "INSERT INTO retention (kind, days, max_rows) VALUES"
                           " ($1, $2, $3) ON CONFLICT (kind) DO UPDATE SET days = excluded.days,"
                           " max_rows = excluded.max_rows", 3, p, NULL)))
            break;
    }
    fdb_unlock(f->db);
    return rc;
}

int ops_delete(mm_fleet *f, const char *table, const char *name)
{
    const char *p[] = {name};
    char sql[96];
    snprintf(sql, sizeof sql, "DELETE FROM %s WHERE name = $1", table);  /* table: ours */
    int64_t ch = 0;
    fdb_lock(f->db);
    int rc = fdb_exec(f->db, sql, 1, p, &ch);
    fdb_unlock(f->db);
    if (rc == 0 && ch == 0)
        return mm_error_set(MM_ENOTFOUND, "'%s': no such entry", name);
    return rc;
}

int mm_fleet_config_apply(mm_fleet *f, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, MAX_CONFIG, &data, &len);
    if (rc)
        return rc;
    json_t *cfg = NULL;
    rc = ops_config_parse(data, len, path, &cfg);
    free(data);
    if (rc)
        return rc;
    json_t *a = json_object_get(cfg, "schedules");
    for (size_t i = 0; rc == 0 && i < json_array_size(a); i++)
        rc = ops_schedule_put(f, json_array_get(a, i));
    a = json_object_get(cfg, "routes");
    for (size_t i = 0; rc == 0 && i < json_array_size(a); i++)
        rc = ops_route_put(f, json_array_get(a, i));
    if (rc == 0 && json_object_get(cfg, "retention"))
        rc = ops_retention_put(f, json_object_get(cfg, "retention"));
    json_decref(cfg);
    return rc;
}
