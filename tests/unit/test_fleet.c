/*
 * test_fleet.c - lib/fleet without a network: the store's migrations run
 * once (a second open finds the schema current), tokens (only the hash
 * kept, revocation), and the API handler called directly with requests
 * made in memory: authentication, the role table, an agent bound to its
 * host, idempotent batches, the filters.  The real server over TLS is
 * tests/integration/test_server.py.
 */
#include <jansson.h>
#include <sqlite3.h>

#include "mmtest.h"
#include "mamori/fleet.h"

static char db_path[600];

static mm_fleet *open_fleet(void)
{
    mm_fleet_opts o;
    mm_fleet_opts_init(&o);
    o.db = db_path;
    o.rate = 1e9;
    mm_fleet *f = NULL;
    CHECK_OK(mm_fleet_open(&f, &o));
    return f;
}

static json_t *call(mm_fleet *f, const char *method, const char *path, const char *token,
                    const char *body, const char *const *query, int *status)
{
    char auth[300];
    snprintf(auth, sizeof auth, "Bearer %s", token ? token : "");
    const char *hs[] = {"Authorization", auth, NULL};
    mm_http_req rq = {.method = method, .path = path, .body = body ? body : "",
                      .body_len = body ? strlen(body) : 0, .peer = "127.0.0.1",
                      .peer_pid = -1, .peer_uid = (uid_t)-1,
                      .fake_headers = token ? hs : NULL, .fake_query = query};
    mm_http_resp resp = {0};
    mm_fleet_handle(f, &rq, &resp);
    *status = resp.status;
    json_t *j = json_loadb(resp.body ? resp.body : "", resp.body_len, 0, NULL);
    mm_http_resp_clear(&resp);
    return j;
}

static void tok_count(void *ud, const mm_fleet_token_info *t)
{
    (*(int *)ud)++;
}

MM_TEST(store_tokens_and_api)
{
    snprintf(db_path, sizeof db_path, "%s/server.db", mmt_tmpdir());
    mm_fleet *f = open_fleet();
    REQUIRE(f);
    int64_t ver = 0, ver1;
    CHECK_OK(mm_fleet_schema_version(f, &ver));
    /* every migration of store.c (test_server.py counts them there) */
    CHECK(ver >= 2);
    ver1 = ver;
    CHECK_STR(mm_fleet_store_kind(f), "sqlite");
    char *admin, *agent, *viewer, *id, *vid;
    CHECK_OK(mm_fleet_token_create(f, "root", "admin", NULL, &admin, &id));
    free(id);
    CHECK_OK(mm_fleet_token_create(f, "a", "agent", "h1", &agent, &id));
    free(id);
    CHECK_OK(mm_fleet_token_create(f, "v", "viewer", NULL, &viewer, &vid));
    char *t2 = NULL;
    CHECK_INT(mm_fleet_token_create(f, "x", "agent", NULL, &t2, NULL), MM_EINVAL);
    CHECK_INT(mm_fleet_token_create(f, "x", "viewer", "h1", &t2, NULL), MM_EINVAL);
    CHECK_INT(mm_fleet_token_create(f, "x", "superuser", NULL, &t2, NULL), MM_EINVAL);
    CHECK_INT(mm_fleet_token_create(f, "bad\nname", "viewer", NULL, &t2, NULL), MM_EINVAL);
    CHECK(t2 == NULL);
    int n = 0;
    CHECK_OK(mm_fleet_token_list(f, tok_count, &n));
    CHECK_INT(n, 3);

    int st;
    json_t *j = call(f, "GET", "/api/v1/events", NULL, NULL, NULL, &st);
    CHECK_INT(st, 401);
    json_decref(j);
    j = call(f, "POST", "/api/v1/events", agent,
             "{\"host_id\":\"h2\",\"events\":[{\"id\":\"e1\"}]}", NULL, &st);
    CHECK_INT(st, 403);
    json_decref(j);
    const char *b = "{\"host_id\":\"h1\",\"events\":[{\"id\":\"e1\",\"severity\":\"high\"},"
                    "{\"id\":\"e2\",\"priority\":\"Critical\",\"image\":\"x'--\"}]}";
    j = call(f, "POST", "/api/v1/events", agent, b, NULL, &st);
    CHECK_INT(st, 200);
    CHECK_INT(json_integer_value(json_object_get(j, "accepted")), 2);
    json_decref(j);
    j = call(f, "POST", "/api/v1/events", agent, b, NULL, &st);
    CHECK_INT(json_integer_value(json_object_get(j, "duplicates")), 2);
    json_decref(j);
    j = call(f, "GET", "/api/v1/events", agent, NULL, NULL, &st);
    CHECK_INT(st, 403);
    json_decref(j);
    const char *q[] = {"severity", "CRITICAL", "image", "x'--", "total", "1", NULL};
    j = call(f, "GET", "/api/v1/events", viewer, NULL, q, &st);
    CHECK_INT(st, 200);
    CHECK_INT(json_integer_value(json_object_get(j, "total")), 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0),
                                                "event_id")), "e2");
    json_decref(j);
    const char *bad[] = {"since", "soon", NULL};
    j = call(f, "GET", "/api/v1/events", viewer, NULL, bad, &st);
    CHECK_INT(st, 400);
    json_decref(j);

    /* revoked: refused at once */
    CHECK_OK(mm_fleet_token_revoke(f, vid));
    CHECK_INT(mm_fleet_token_revoke(f, vid), MM_ENOTFOUND);
    j = call(f, "GET", "/api/v1/events", viewer, NULL, NULL, &st);
    CHECK_INT(st, 401);
    json_decref(j);
    mm_fleet_close(f);

    /* a second open: nothing to migrate, data kept; the secret is not stored */
    f = open_fleet();
    REQUIRE(f);
    CHECK_OK(mm_fleet_schema_version(f, &ver));
    CHECK_INT(ver, ver1);
    j = call(f, "GET", "/api/v1/audit", admin, NULL, NULL, &st);
    CHECK_INT(st, 200);
    CHECK_INT(json_array_size(json_object_get(j, "items")), 3); /* the three POSTs */
    CHECK_INT(json_integer_value(json_object_get(json_array_get(json_object_get(j, "items"), 0),
                                                 "status")), 403);
    json_decref(j);
    mm_fleet_close(f);
    sqlite3 *db;
    REQUIRE(sqlite3_open(db_path, &db) == SQLITE_OK);
    sqlite3_stmt *s;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*) FROM tokens WHERE hash = ? OR name = ?"
                               " OR id = ?", -1, &s, NULL) == SQLITE_OK);
    sqlite3_bind_text(s, 1, admin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, admin, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, admin, -1, SQLITE_STATIC);
    REQUIRE(sqlite3_step(s) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(s, 0), 0);
    sqlite3_finalize(s);
    CHECK(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL) != SQLITE_OK);
    /* a store migrated by a newer mamori is refused, not damaged */
    CHECK(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0)", NULL, NULL,
                       NULL) == SQLITE_OK);
    sqlite3_close(db);
    mm_fleet_opts o;
    mm_fleet_opts_init(&o);
    o.db = db_path;
    mm_fleet *f2 = NULL;
    CHECK_INT(mm_fleet_open(&f2, &o), MM_EUNSUPPORTED);
    CHECK(strstr(mm_error_last(), "version 99") != NULL);
    free(admin);
    free(agent);
    free(viewer);
    free(vid);
    mm_fleet_close(NULL);
}

MM_TEST(bad_store)
{
    mm_fleet_opts o;
    mm_fleet_opts_init(&o);
    o.db = "/nonexistent/dir/server.db";
    mm_fleet *f = NULL;
    CHECK_INT(mm_fleet_open(&f, &o), MM_EDB);
    CHECK(f == NULL);
    o.db = "postgres://nobody@127.0.0.1:1/none?connect_timeout=2";
    CHECK_INT(mm_fleet_open(&f, &o), MM_EDB);
    CHECK(strstr(mm_error_last(), "postgres") != NULL);
}

MM_TEST_MAIN
