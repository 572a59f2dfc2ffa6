/*
 * test_registry.c - the registry client: reference parsing (normalisation,
 * edge cases, rejects), the local-path-or-reference decision, the parsers
 * of what registries say (WWW-Authenticate with quoted commas, Link
 * pagination, Retry-After, JSON error bodies), Docker config auths, blob
 * cache eviction, and an end-to-end run against a real Debian
 * `docker-registry` started on 127.0.0.1 with the fixture image pushed by
 * skopeo: pulls by tag and digest, streaming through the cache (a cached
 * layer needs no registry), uploads, listing, plain HTTP refused and then
 * allowed and reported, 404 and a tampered blob, and a registry scan that
 * finds the same inventory as the OCI layout it was pushed from.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mamori/registry.h"
#include "mamori/scan.h"
#include "image/intake.h"
#include "registry/regint.h"
#include "util/http.h"
#include "mmtest.h"

#define HEX64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* --- references ---------------------------------------------------------------- */
MM_TEST(ref_docker_hub_normalisation)
{
    mm_imageref *r;
    CHECK_OK(mm_imageref_parse(&r, "debian"));
    REQUIRE(r);
    CHECK_STR(r->registry, "docker.io");
    CHECK_STR(r->api_host, "registry-1.docker.io");
    CHECK_STR(r->repository, "library/debian");
    CHECK(r->tag == NULL && r->digest == NULL);
    char *f = mm_imageref_format(r);
    CHECK_STR(f, "docker.io/library/debian:latest");
    free(f);
    mm_imageref_free(r);

    CHECK_OK(mm_imageref_parse(&r, "index.docker.io/team/app:1.0"));
    CHECK_STR(r->registry, "docker.io");
    CHECK_STR(r->repository, "team/app");
    CHECK_STR(r->tag, "1.0");
    mm_imageref_free(r);

    /* a first component without '.', ':' or "localhost" is a namespace */
    CHECK_OK(mm_imageref_parse(&r, "team/app"));
    CHECK_STR(r->registry, "docker.io");
    CHECK_STR(r->repository, "team/app");
    mm_imageref_free(r);
}

MM_TEST(ref_hosts_tags_digests)
{
    mm_imageref *r;
    CHECK_OK(mm_imageref_parse(&r, "localhost:5000/team/sub/app:v1.2-rc_3"));
    CHECK_STR(r->registry, "localhost:5000");
    CHECK_STR(r->api_host, "localhost:5000");
    CHECK_STR(r->repository, "team/sub/app");
    CHECK_STR(r->tag, "v1.2-rc_3");
    mm_imageref_free(r);

    CHECK_OK(mm_imageref_parse(&r, "localhost/app"));
    CHECK_STR(r->registry, "localhost");
    CHECK_STR(r->repository, "app"); /* no "library/" off docker.io */
    mm_imageref_free(r);

    CHECK_OK(mm_imageref_parse(&r, "127.0.0.1:5000/test/app@sha256:" HEX64));
    CHECK_STR(r->registry, "127.0.0.1:5000");
    CHECK(r->tag == NULL);
    CHECK_STR(r->digest, "sha256:" HEX64);
    char *f = mm_imageref_format(r);
    CHECK_STR(f, "127.0.0.1:5000/test/app@sha256:" HEX64);
    free(f);
    mm_imageref_free(r);

    CHECK_OK(mm_imageref_parse(&r, "ghcr.io/o/a__b.c-----d:tag@sha256:" HEX64));
    CHECK_STR(r->repository, "o/a__b.c-----d");
    CHECK_STR(r->tag, "tag");
    CHECK_STR(r->digest, "sha256:" HEX64);
    f = mm_imageref_format(r);
    CHECK_STR(f, "ghcr.io/o/a__b.c-----d:tag@sha256:" HEX64);
    free(f);
    mm_imageref_free(r);

    CHECK_OK(mm_imageref_parse(&r, "[::1]:5000/app:1"));
    CHECK_STR(r->registry, "[::1]:5000");
    CHECK_STR(r->repository, "app");
    mm_imageref_free(r);

    /* a host with a port and no tag: the ':' belongs to the host */
    CHECK_OK(mm_imageref_parse(&r, "registry:5000/app"));
    CHECK_STR(r->registry, "registry:5000");
    CHECK(r->tag == NULL);
    mm_imageref_free(r);
}

MM_TEST(ref_rejects)
{
    static const char *const bad[] = {
        "", "UPPER/app", "app:", "app@sha256:abc", "app@md5:" HEX64, "a//b", "-app",
        "app-", "a___b", "a..b", "app:tag with space", "host:99999/app", "host:0/app",
        "app:-tag", "app:.tag", "/app", "app/", "host.io/", "ho_st.io/app",
        "exa-.com/app", "[zz]:5000/app", "app@sha256:" HEX64 "00", "app\n",
        "app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mm_imageref *r = (mm_imageref *)1;
        int rc = mm_imageref_parse(&r, bad[i]);
        if (rc != MM_EINVAL || r != NULL)
            fprintf(stderr, "accepted bad reference \"%s\"\n", bad[i]);
        CHECK_INT(rc, MM_EINVAL);
        CHECK(r == NULL);
    }
    char tag[200];
    memset(tag, 'a', sizeof tag);
    memcpy(tag, "app:", 4);
    tag[4 + 129] = 0;
    mm_imageref *r;
    CHECK_INT(mm_imageref_parse(&r, tag), MM_EINVAL);
    tag[4 + 128] = 0;
    CHECK_OK(mm_imageref_parse(&r, tag));
    mm_imageref_free(r);
    /* the message names the reference */
    CHECK_INT(mm_imageref_parse(&r, "Team/App"), MM_EINVAL);
    CHECK(strstr(mm_error_last(), "lowercase") != NULL);
}

MM_TEST(ref_local_or_remote)
{
    const char *dir = mmt_tmpdir();
    REQUIRE(dir);
    CHECK(!mm_imageref_is_remote(dir));
    char p[4096];
    snprintf(p, sizeof p, "%s:app", dir); /* OCI layout PATH:REF */
    CHECK(!mm_imageref_is_remote(p));
    CHECK(!mm_imageref_is_remote("./missing"));
    CHECK(!mm_imageref_is_remote("missing-image.tar"));
    CHECK(!mm_imageref_is_remote("missing.tar.gz"));
    CHECK(!mm_imageref_is_remote("Bad/Ref"));
    CHECK(mm_imageref_is_remote("127.0.0.1:5000/test/app:1"));
    CHECK(mm_imageref_is_remote("ghcr.io/o/app@sha256:" HEX64));
    CHECK(mm_imageref_is_remote("debian:12"));
    rmdir(dir);
}

/* --- what registries say ---------------------------------------------------------- */
MM_TEST(challenge_bearer_quoted_commas)
{
    const char *v = "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                    "scope=\"repository:samalba/my-app:pull,push\"";
    mm_reg_challenge c;
    CHECK_OK(mm_reg_challenge_parse(&c, v, strlen(v)));
    CHECK_STR(c.scheme, "Bearer");
    CHECK_STR(c.realm, "https://auth.docker.io/token");
    CHECK_STR(c.service, "registry.docker.io");
    CHECK_STR(c.scope, "repository:samalba/my-app:pull,push");
    mm_reg_challenge_clear(&c);

    /* escapes, spaces, case, an error parameter */
    v = "bearer  Realm = \"http://a/t?x=\\\"q\\\"\" , error=\"invalid_token\", scope=a";
    CHECK_OK(mm_reg_challenge_parse(&c, v, strlen(v)));
    CHECK_STR(c.realm, "http://a/t?x=\"q\"");
    CHECK_STR(c.error, "invalid_token");
    CHECK_STR(c.scope, "a");
    CHECK(c.service == NULL);
    mm_reg_challenge_clear(&c);
}

MM_TEST(challenge_several_and_bad)
{
    const char *v = "Basic realm=\"Registry Realm\", Bearer realm=\"https://t/x\",service=\"s\"";
    mm_reg_challenge c;
    CHECK_OK(mm_reg_challenge_parse(&c, v, strlen(v)));
    CHECK_STR(c.scheme, "Bearer");
    CHECK_STR(c.realm, "https://t/x");
    CHECK_STR(c.service, "s");
    mm_reg_challenge_clear(&c);

    v = "Basic realm=unquoted";
    CHECK_OK(mm_reg_challenge_parse(&c, v, strlen(v)));
    CHECK_STR(c.scheme, "Basic");
    CHECK_STR(c.realm, "unquoted");
    mm_reg_challenge_clear(&c);

    /* the length is honoured: nothing past it is read */
    v = "Bearer realm=\"abc\"XYZ";
    CHECK_OK(mm_reg_challenge_parse(&c, v, 16));
    CHECK_STR(c.realm, "ab");
    mm_reg_challenge_clear(&c);

    CHECK_INT(mm_reg_challenge_parse(&c, "", 0), MM_EFORMAT);
    CHECK_INT(mm_reg_challenge_parse(&c, " ,,= \"", 6), MM_EFORMAT);
    CHECK(c.scheme == NULL);
}

MM_TEST(link_next)
{
    const char *v = "</v2/_catalog?last=b&n=2>; rel=\"next\"";
    char *n = mm_reg_link_next(v, strlen(v));
    CHECK_STR(n, "/v2/_catalog?last=b&n=2");
    free(n);
    v = "<https://r/v2/x?a=1,2>; rel=\"prev\", <https://r/v2/y?a=1,2>; title=\"a, b\"; rel=next";
    n = mm_reg_link_next(v, strlen(v));
    CHECK_STR(n, "https://r/v2/y?a=1,2");
    free(n);
    v = "</x>; rel=\"first next\"";
    n = mm_reg_link_next(v, strlen(v));
    CHECK_STR(n, "/x");
    free(n);
    v = "</x>; rel=\"prev\"";
    CHECK(mm_reg_link_next(v, strlen(v)) == NULL);
    v = "</x; rel=\"next\"";
    CHECK(mm_reg_link_next(v, strlen(v)) == NULL);
    CHECK(mm_reg_link_next("<>; rel=next", 12) == NULL);
}

MM_TEST(retry_after_and_error_bodies)
{
    CHECK_INT(mm_http_retry_after("5", 0, MM_REG_RETRY_CAP), 5);
    CHECK_INT(mm_http_retry_after(" 0 ", 0, MM_REG_RETRY_CAP), 0);
    CHECK_INT(mm_http_retry_after("100000", 0, MM_REG_RETRY_CAP), MM_REG_RETRY_CAP);
    CHECK_INT(mm_http_retry_after("99999999999999999999", 0, MM_REG_RETRY_CAP), MM_REG_RETRY_CAP);
    time_t when = 1445412480; /* Wed, 21 Oct 2015 07:28:00 GMT */
    CHECK_INT(mm_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", when - 30, MM_REG_RETRY_CAP), 30);
    CHECK_INT(mm_http_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", when + 30, MM_REG_RETRY_CAP), 0);
    CHECK_INT(mm_http_retry_after("soon", 0, MM_REG_RETRY_CAP), -1);
    CHECK_INT(mm_http_retry_after("", 0, MM_REG_RETRY_CAP), -1);

    const char *b = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
                    "unknown\",\"detail\":{}},{\"code\":\"X\",\"message\":\"a\\u0001b\"}]}";
    char *t = mm_reg_error_text(b, strlen(b));
    CHECK_STR(t, "MANIFEST_UNKNOWN: manifest unknown; X: a?b");
    free(t);
    CHECK(mm_reg_error_text("<html>", 6) == NULL);
    CHECK(mm_reg_error_text("{\"errors\":[]}", 13) == NULL);
}

MM_TEST(docker_config_auths)
{
    /* "user:pa:ss" in base64; Docker Hub under its legacy key */
    const char *j = "{\"auths\":{\"https://index.docker.io/v1/\":{\"auth\":\"dXNlcjpwYTpzcw==\"},"
                    "\"reg.example:5000\":{\"username\":\"u2\",\"password\":\"p2\"},"
                    "\"http://bad.example\":{\"auth\":\"!!!!\"},"
                    "\"helper.example\":{}}, \"credsStore\":\"desktop\"}";
    char *u, *p;
    CHECK_OK(mm_reg_docker_auth(j, strlen(j), "cfg", "registry-1.docker.io", &u, &p));
    CHECK_STR(u, "user");
    CHECK_STR(p, "pa:ss");
    free(u);
    free(p);
    CHECK_OK(mm_reg_docker_auth(j, strlen(j), "cfg", "REG.example:5000", &u, &p));
    CHECK_STR(u, "u2");
    CHECK_STR(p, "p2");
    free(u);
    free(p);
    CHECK_INT(mm_reg_docker_auth(j, strlen(j), "cfg", "other.example", &u, &p), MM_ENOTFOUND);
    CHECK(u == NULL && p == NULL);
    CHECK_INT(mm_reg_docker_auth(j, strlen(j), "cfg", "helper.example", &u, &p), MM_ENOTFOUND);
    CHECK_INT(mm_reg_docker_auth(j, strlen(j), "cfg", "bad.example", &u, &p), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "cfg") != NULL);
    CHECK_INT(mm_reg_docker_auth("[1]", 3, "cfg", "x", &u, &p), MM_EFORMAT);
    /* base64 of "nocolon" */
    const char *j2 = "{\"auths\":{\"x\":{\"auth\":\"bm9jb2xvbg==\"}}}";
    CHECK_INT(mm_reg_docker_auth(j2, strlen(j2), "cfg", "x", &u, &p), MM_EFORMAT);
}

/* "auth" is read as Docker writes it (Go's base64.StdEncoding): the padded
 * standard alphabet.  Padding is required and placed only at the end; white
 * space, the URL-safe alphabet and other garbage are errors naming the key
 * and the offset, and never yield credentials. */
MM_TEST(docker_config_auth_base64)
{
    static const struct { const char *auth, *user, *pass, *why; } cases[] = {
        {"dTpw", "u", "p", NULL},                      /* "u:p", no padding needed */
        {"dTpwdw==", "u", "pw", NULL},                 /* "u:pw", two '=' */
        {"dTpwd3c=", "u", "pww", NULL},                /* "u:pww", one '=' */
        {"dTpwdw", NULL, NULL, "length 6"},            /* padding left out */
        {"dTpwdw=", NULL, NULL, "length 7"},           /* half the padding */
        {"dTpwdw===", NULL, NULL, "length 9"},         /* too much padding */
        {"dT=wdw==", NULL, NULL, "offset 2"},          /* '=' inside */
        {"dTpw\\ndw==", NULL, NULL, "length 9"},      /* a line break (JSON \\n) */
        {"dTp-dw==", NULL, NULL, "offset 3"},          /* URL-safe alphabet */
        {"dTp!dw==", NULL, NULL, "offset 3"},          /* garbage */
        {" dTpwdw=", NULL, NULL, "offset 0"},          /* a leading blank */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *j = mm_xasprintf("{\"auths\":{\"r.example\":{\"auth\":\"%s\"}}}",
                               cases[i].auth);
        char *u = NULL, *p = NULL;
        int rc = mm_reg_docker_auth(j, strlen(j), "cfg.json", "r.example", &u, &p);
        if (cases[i].user) {
            CHECK_OK(rc);
            CHECK_STR(u, cases[i].user);
            CHECK_STR(p, cases[i].pass);
        } else {
            CHECK_INT(rc, MM_EFORMAT);
            CHECK(u == NULL && p == NULL);
            CHECK(strstr(mm_error_last(), "cfg.json: auths.\"r.example\".auth is not base64") &&
                  strstr(mm_error_last(), cases[i].why));
            if (!strstr(mm_error_last(), cases[i].why))
                fprintf(stderr, "case %zu: %s\n", i, mm_error_last());
        }
        free(u);
        free(p);
        free(j);
    }
}

/* --- manifests and indexes (shared with the OCI layout reader) ----------------------- */
MM_TEST(index_platform_pick)
{
    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\","
        "\"manifests\":[{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"digest\":\"sha256:" HEX64 "\",\"size\":1,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"digest\":\"sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":1,"
        "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}";
    char d[72];
    bool ix = false;
    CHECK_OK(mm_manifest_platform("idx", idx, strlen(idx), NULL, NULL, &ix, d));
    CHECK(ix);
    CHECK_STR(d, "sha256:" HEX64);
    CHECK_OK(mm_manifest_platform("idx", idx, strlen(idx), NULL, "linux/arm64", &ix, d));
    CHECK_STR(d, "sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    CHECK_OK(mm_manifest_platform("idx", idx, strlen(idx), NULL, "linux/arm64/v8", &ix, d));
    CHECK_INT(mm_manifest_platform("idx", idx, strlen(idx), NULL, "linux/arm64/v7", &ix, d),
              MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "linux/amd64, linux/arm64/v8") != NULL);
    CHECK_INT(mm_manifest_platform("idx", "{\"manifests\":[]}", 16, NULL, NULL, &ix, d),
              MM_EFORMAT);
    CHECK_INT(mm_manifest_platform("idx", "[", 1, NULL, NULL, &ix, d), MM_EFORMAT);
    /* an image manifest is not an index, whatever the Content-Type lacked */
    const char *man = "{\"schemaVersion\":2,\"config\":{\"digest\":\"sha256:" HEX64 "\"},"
                      "\"layers\":[]}";
    CHECK_OK(mm_manifest_platform("m", man, strlen(man), NULL, NULL, &ix, d));
    CHECK(!ix);
}

MM_TEST(manifest_layers_docker_v2_and_schema1)
{
    const char *m =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\","
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":2,"
        "\"digest\":\"sha256:" HEX64 "\"},\"layers\":[{\"mediaType\":"
        "\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":10,"
        "\"digest\":\"sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}]}";
    mm_intake_opts o = {0};
    o.limits.max_layers = 8;
    mm_source *s = calloc(1, sizeof *s);
    s->name = mm_xstrdup("m");
    CHECK_OK(mm_manifest_parse(s, m, strlen(m), "sha256:" HEX64, &o));
    CHECK_INT(s->nlayers, 1);
    CHECK_STR(s->config_digest, "sha256:" HEX64);
    if (s->nlayers == 1) {
        CHECK_INT(s->layers[0].size, 10);
        CHECK_STR(s->layers[0].media_type, "application/vnd.docker.image.rootfs.diff.tar.gzip");
    }
    mm_source_free(s);
    s = calloc(1, sizeof *s);
    s->name = mm_xstrdup("m");
    const char *v1 = "{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}";
    CHECK_INT(mm_manifest_parse(s, v1, strlen(v1), "sha256:" HEX64, &o), MM_EUNSUPPORTED);
    mm_source_free(s);
}

/* --- blob cache ------------------------------------------------------------------------ */
static void put_blob_file(mm_blobcache *bc, const char *content, char digest[72],
                          time_t mtime, const char *dir)
{
    char *tmp;
    int fd = mm_blobcache_begin(bc, &tmp);
    if (fd < 0)
        return;
    size_t n = strlen(content);
    if (write(fd, content, n) != (ssize_t)n)
        mmt_failed_now = 1;
    close(fd);
    mm_sha256_hex(content, n, digest);
    CHECK_OK(mm_blobcache_commit(bc, tmp, digest));
    free(tmp);
    char p[4096];
    snprintf(p, sizeof p, "%s/sha256/%s", dir, digest + 7);
    struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
    CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
}

MM_TEST(blob_cache_lru_eviction)
{
    const char *d = mmt_tmpdir();
    REQUIRE(d);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cache", d);
    mm_blobcache *bc;
    CHECK_OK(mm_blobcache_open(&bc, dir, 0)); /* no limit while filling */
    REQUIRE(bc);
    char a[200], b[200], c[200];
    memset(a, 'a', 100); a[100] = 0;
    memset(b, 'b', 100); b[100] = 0;
    memset(c, 'c', 100); c[100] = 0;
    char da[72], db[72], dc[72];
    time_t now = time(NULL);
    put_blob_file(bc, a, da, now - 300, dir);
    put_blob_file(bc, b, db, now - 200, dir);
    put_blob_file(bc, c, dc, now - 100, dir);
    CHECK_INT(mm_blobcache_size(bc), 300);
    /* using a makes it the most recent: b is now the oldest */
    uint64_t sz = 0;
    int fd = mm_blobcache_lookup(bc, da, &sz);
    CHECK(fd >= 0);
    CHECK_INT(sz, 100);
    if (fd >= 0)
        close(fd);
    CHECK_OK(mm_blobcache_evict(bc, 200));
    CHECK_INT(mm_blobcache_size(bc), 200);
    fd = mm_blobcache_lookup(bc, db, &sz);
    CHECK(fd < 0);
    fd = mm_blobcache_lookup(bc, da, &sz);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    fd = mm_blobcache_lookup(bc, dc, &sz);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    CHECK(mm_blobcache_lookup(bc, "sha256:" HEX64, &sz) < 0);
    CHECK(mm_blobcache_lookup(bc, "../../etc/passwd", &sz) < 0);
    mm_blobcache_free(bc);
    /* a limit set at open applies at every commit */
    CHECK_OK(mm_blobcache_open(&bc, dir, 150));
    char dd[72];
    put_blob_file(bc, "dddd", dd, now, dir);
    CHECK(mm_blobcache_size(bc) <= 150);
    mm_blobcache_free(bc);
    mm_tmpdir_remove(d);
}

/* --- against a real docker-registry ------------------------------------------------------ */
#define OCI_DIR "/var/cache/mamori-test/oci"

static struct {
    bool tried, up;
    pid_t pid;
    char dir[4096];
    char host[64];
    const char *why;
} R;

static void reg_stop(void)
{
    if (R.pid > 0) {
        kill(R.pid, SIGTERM);
        waitpid(R.pid, NULL, 0);
        R.pid = 0;
    }
    if (R.dir[0])
        mm_tmpdir_remove(R.dir);
}

static int free_port(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(s, (struct sockaddr *)&a, &l) < 0) {
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    return ntohs(a.sin_port);
}

static bool port_open(int port)
{
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = s >= 0 && connect(s, (struct sockaddr *)&a, sizeof a) == 0;
    if (s >= 0)
        close(s);
    return ok;
}

/* Starts docker-registry (plain HTTP on 127.0.0.1) and pushes the fixture
 * image as test/app:1 with skopeo; false (R.why set) when a tool or the
 * fixture is missing. */
static bool reg_up(void)
{
    if (R.tried)
        return R.up;
    R.tried = true;
    if (access("/usr/bin/docker-registry", X_OK) != 0)
        return R.why = "docker-registry is not installed", false;
    if (access("/usr/bin/skopeo", X_OK) != 0)
        return R.why = "skopeo is not installed", false;
    if (access(OCI_DIR "/index.json", R_OK) != 0)
        return R.why = OCI_DIR " is missing (run scripts/build-test-image.sh)", false;
    const char *d = mmt_tmpdir();
    if (!d)
        return R.why = "no temp folder", false;
    snprintf(R.dir, sizeof R.dir, "%s", d);
    int port = free_port();
    if (port < 0)
        return R.why = "no free port", false;
    snprintf(R.host, sizeof R.host, "127.0.0.1:%d", port);
    char cfg[4200];
    snprintf(cfg, sizeof cfg, "%s/config.yml", R.dir);
    FILE *f = fopen(cfg, "w");
    if (!f)
        return R.why = "cannot write the registry config", false;
    fprintf(f, "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\n"
               "storage:\n  filesystem:\n    rootdirectory: %s/data\n"
               "http:\n  addr: %s\n", R.dir, R.host);
    fclose(f);
    atexit(reg_stop);
    R.pid = fork();
    if (R.pid == 0) {
        int nul = open("/dev/null", O_RDWR);
        dup2(nul, 1);
        dup2(nul, 2);
        execl("/usr/bin/docker-registry", "docker-registry", "serve", cfg, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !port_open(port); i++)
        usleep(100 * 1000);
    if (!port_open(port))
        return R.why = "docker-registry did not start", false;
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "skopeo copy -q --dest-tls-verify=false oci:%s:app "
             "docker://%s/test/app:1 >/dev/null 2>&1", OCI_DIR, R.host);
    if (system(cmd) != 0)
        return R.why = "skopeo copy to the test registry failed", false;
    R.up = true;
    return true;
}

static mm_registry *client(const char *cache_dir, bool insecure)
{
    static const char *hosts[1];
    hosts[0] = R.host;
    mm_registry_opts o;
    mm_registry_opts_init(&o);
    if (insecure) {
        o.insecure_hosts = hosts;
        o.ninsecure = 1;
    }
    o.cache_dir = cache_dir;
    o.docker_config = "/nonexistent-mamori-test/config.json";
    o.retries = 1;
    o.timeout_s = 20;
    mm_registry *c = NULL;
    if (mm_registry_new(&c, &o) < 0)
        return NULL;
    return c;
}

static mm_imageref *ref_of(const char *path)
{
    char s[512];
    snprintf(s, sizeof s, "%s%s", R.host, path);
    mm_imageref *r = NULL;
    if (mm_imageref_parse(&r, s) < 0)
        return NULL;
    return r;
}

MM_TEST(e2e_plain_http_refused_then_allowed_and_recorded)
{
    if (!reg_up())
        MMT_SKIP(R.why);
    mm_imageref *ref = ref_of("/test/app:1");
    REQUIRE(ref);
    mm_registry *c = client("", false);
    REQUIRE(c);
    char *body = NULL, *mt = NULL, dg[72];
    size_t len;
    int rc = mm_registry_get_manifest(c, ref, NULL, &body, &len, &mt, dg);
    CHECK_INT(rc, MM_ENET);
    CHECK(strstr(mm_error_last(), R.host) != NULL);
    CHECK(strstr(mm_error_last(), "--insecure-registry") != NULL);
    CHECK_INT(mm_registry_transport_count(c), 0);
    mm_registry_free(c);

    c = client("", true);
    REQUIRE(c);
    CHECK_OK(mm_registry_get_manifest(c, ref, NULL, &body, &len, &mt, dg));
    CHECK_STR(mt, "application/vnd.oci.image.manifest.v1+json");
    CHECK(mm_digest_valid(dg));
    /* the digest the manifest has in the OCI layout */
    char *idx = mmt_read(OCI_DIR "/index.json", NULL);
    CHECK(idx && strstr(idx, dg + 7));
    free(idx);
    CHECK_INT(mm_registry_transport_count(c), 1);
    const mm_registry_transport *t = mm_registry_transport_get(c, 0);
    REQUIRE(t);
    CHECK_STR(t->host, R.host);
    CHECK(t->plain_http && !t->tls_unverified);
    mm_findings *f;
    mm_findings_new(&f);
    CHECK_OK(mm_registry_add_transport_findings(c, f, "img"));
    CHECK_INT(mm_findings_count(f), 1);
    const mm_finding *x = mm_findings_get(f, 0);
    CHECK_STR(x->id, "MM-REG-001");
    CHECK_STR(x->section, "3.2.1");
    CHECK_INT(x->severity, MM_SEV_HIGH);
    CHECK_INT(x->kind, MM_FIND_TRUST);
    mm_findings_free(f);

    /* by digest, and resolve agrees */
    char dg2[72];
    CHECK_OK(mm_registry_resolve(c, ref, dg2));
    CHECK_STR(dg2, dg);
    char *body2 = NULL;
    CHECK_OK(mm_registry_get_manifest(c, ref, dg, &body2, &len, NULL, dg2));
    CHECK(body2 && memcmp(body, body2, len) == 0);
    free(body2);
    free(body);
    free(mt);

    /* 404 names the reference */
    mm_imageref *miss = ref_of("/test/app:nope");
    rc = mm_registry_get_manifest(c, miss, NULL, &body, &len, &mt, dg);
    CHECK_INT(rc, MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "test/app:nope") != NULL);
    CHECK(strstr(mm_error_last(), "MANIFEST_UNKNOWN") != NULL);
    mm_imageref_free(miss);
    mm_registry_free(c);
    mm_imageref_free(ref);
}

static int read_blob(mm_regblob *b, uint64_t *total, char d[72])
{
    mm_sha256 *h = mm_sha256_new();
    char buf[70000];
    ssize_t n;
    *total = 0;
    while ((n = mm_regblob_read(b, buf, sizeof buf)) > 0) {
        mm_sha256_update(h, buf, (size_t)n);
        *total += (uint64_t)n;
    }
    mm_sha256_final(h, d);
    mm_sha256_free(h);
    return (int)n;
}

MM_TEST(e2e_stream_cache_and_offline_rescan)
{
    if (!reg_up())
        MMT_SKIP(R.why);
    mm_imageref *ref = ref_of("/test/app:1");
    REQUIRE(ref);
    const char *cd = mmt_tmpdir();
    REQUIRE(cd);
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/blobs", cd);
    mm_registry *c = client(cache, true);
    REQUIRE(c);
    char *body = NULL, *mt = NULL, dg[72];
    size_t len;
    CHECK_OK(mm_registry_get_manifest(c, ref, NULL, &body, &len, &mt, dg));
    REQUIRE(body);
    /* the largest layer digest of the manifest */
    const char *p = strstr(body, "\"layers\"");
    REQUIRE(p);
    p = strstr(p, "sha256:");
    REQUIRE(p);
    char layer[72];
    memcpy(layer, p, 71);
    layer[71] = 0;
    REQUIRE(mm_digest_valid(layer));
    mm_regblob *b;
    CHECK_OK(mm_registry_open_blob(&b, c, ref, layer, UINT64_MAX));
    REQUIRE(b);
    uint64_t total;
    char got[72];
    CHECK_INT(read_blob(b, &total, got), 0);
    CHECK_STR(got, layer);
    CHECK(total > 0);
    mm_regblob_free(b);
    /* kept in the cache, verified */
    char cp[4400];
    snprintf(cp, sizeof cp, "%s/sha256/%s", cache, layer + 7);
    struct stat sb;
    CHECK(stat(cp, &sb) == 0 && (uint64_t)sb.st_size == total);

    /* a cached layer needs no registry: a client whose registry host does
     * not answer still reads it */
    mm_registry *off = client(cache, true);
    mm_imageref *gone = NULL;
    CHECK_OK(mm_imageref_parse(&gone, "127.0.0.1:1/test/app:1"));
    CHECK_OK(mm_registry_open_blob(&b, off, gone, layer, total));
    if (b) {
        CHECK_INT(read_blob(b, &total, got), 0);
        CHECK_STR(got, layer);
        mm_regblob_free(b);
    }
    /* a wrong expected size is caught */
    mm_imageref_free(gone);
    mm_registry_free(off);

    /* small blobs whole: the config */
    p = strstr(body, "\"config\"");
    REQUIRE(p);
    p = strstr(p, "sha256:");
    char cfgd[72];
    memcpy(cfgd, p, 71);
    cfgd[71] = 0;
    char *cfg = NULL;
    size_t cl;
    CHECK_OK(mm_registry_get_blob(c, ref, cfgd, 1 << 20, &cfg, &cl));
    CHECK(cfg && strstr(cfg, "rootfs"));
    free(cfg);
    CHECK_INT(mm_registry_get_blob(c, ref, cfgd, 10, &cfg, &cl), MM_ELIMIT);
    free(body);
    free(mt);
    mm_registry_free(c);
    mm_imageref_free(ref);
    mm_tmpdir_remove(cd);
}

MM_TEST(e2e_upload_list_and_tamper)
{
    if (!reg_up())
        MMT_SKIP(R.why);
    mm_registry *c = client("", true);
    REQUIRE(c);
    mm_imageref *ref = ref_of("/test/up:x");
    REQUIRE(ref);
    const char *cfg = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":"
                      "\"layers\",\"diff_ids\":[]}}";
    char cd[72], cd2[72];
    CHECK_OK(mm_registry_put_blob(c, ref, cfg, strlen(cfg), cd));
    /* again: HEAD finds it */
    CHECK_OK(mm_registry_put_blob(c, ref, cfg, strlen(cfg), cd2));
    CHECK_STR(cd, cd2);
    char man[1024];
    snprintf(man, sizeof man,
             "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
             "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
             "\"digest\":\"%s\",\"size\":%zu},\"layers\":[]}", cd, strlen(cfg));
    CHECK_OK(mm_registry_put_manifest(c, ref, "x", "application/vnd.oci.image.manifest.v1+json",
                                      man, strlen(man)));
    CHECK_OK(mm_registry_put_manifest(c, ref, "y", "application/vnd.oci.image.manifest.v1+json",
                                      man, strlen(man)));
    char *body = NULL, dg[72];
    size_t len;
    CHECK_OK(mm_registry_get_manifest(c, ref, "y", &body, &len, NULL, dg));
    CHECK(body && len == strlen(man) && memcmp(body, man, len) == 0);
    free(body);

    char **v;
    size_t n;
    CHECK_OK(mm_registry_tags(c, ref, &v, &n));
    CHECK_INT(n, 2);
    if (n == 2) {
        CHECK_STR(v[0], "x");
        CHECK_STR(v[1], "y");
    }
    mm_strv_free(v, n);
    CHECK_OK(mm_registry_catalog(c, R.host, &v, &n));
    bool app = false, up = false;
    for (size_t i = 0; i < n; i++) {
        app |= !strcmp(v[i], "test/app");
        up |= !strcmp(v[i], "test/up");
    }
    CHECK(app && up);
    mm_strv_free(v, n);

    /* tamper with the stored config blob: the digest check catches it */
    char path[4600];
    snprintf(path, sizeof path, "%s/data/docker/registry/v2/blobs/sha256/%.2s/%s/data",
             R.dir, cd + 7, cd + 7);
    FILE *f = fopen(path, "r+");
    CHECK(f != NULL);
    if (f) {
        fputc('X', f);
        fclose(f);
        char *data = NULL;
        CHECK_INT(mm_registry_get_blob(c, ref, cd, 1 << 20, &data, &len), MM_EDIGEST);
        CHECK(strstr(mm_error_last(), cd) != NULL);
        mm_regblob *b;
        CHECK_OK(mm_registry_open_blob(&b, c, ref, cd, strlen(cfg)));
        if (b) {
            uint64_t t;
            char got[72];
            CHECK_INT(read_blob(b, &t, got), MM_EDIGEST);
            mm_regblob_free(b);
        }
    }
    mm_registry_free(c);
    mm_imageref_free(ref);
}

static char *inventory_text(mm_result *r)
{
    mm_buf b = MM_BUF_INIT;
    mm_inventory *inv = mm_result_inventory(r);
    for (size_t i = 0; i < mm_inventory_count(inv); i++) {
        const mm_package *p = mm_inventory_get(inv, i);
        mm_buf_printf(&b, "%d %s %s %s\n", (int)p->type, p->name, p->version ? p->version : "",
                      p->purl ? p->purl : "");
    }
    return mm_buf_detach(&b);
}

MM_TEST(e2e_registry_scan_matches_oci_layout)
{
    if (!reg_up())
        MMT_SKIP(R.why);
    const char *cd = mmt_tmpdir();
    REQUIRE(cd);
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/blobs", cd);
    static const char *hosts[1];
    hosts[0] = R.host;
    mm_registry_opts ro;
    mm_registry_opts_init(&ro);
    ro.insecure_hosts = hosts;
    ro.ninsecure = 1;
    ro.cache_dir = cache;
    ro.docker_config = "/nonexistent-mamori-test/config.json";
    mm_scan_opts o;
    mm_scan_opts_init(&o);
    o.registry = &ro;
    mm_result *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(mm_scan(&a, MM_TARGET_IMAGE, OCI_DIR ":app", &o));
    char ref[256];
    snprintf(ref, sizeof ref, "%s/test/app:1", R.host);
    CHECK_OK(mm_scan(&b, MM_TARGET_REGISTRY, ref, &o));
    if (a && b) {
        char *ta = inventory_text(a), *tb = inventory_text(b);
        CHECK(strlen(ta) > 100);
        CHECK_STR(tb, ta);
        free(ta);
        free(tb);
        CHECK_STR(mm_result_image(b)->manifest_digest, mm_result_image(a)->manifest_digest);
        CHECK_STR(mm_result_image(b)->config_digest, mm_result_image(a)->config_digest);
        CHECK_STR(mm_result_image(b)->source_format, "registry");
        /* the plain-HTTP pull is a finding of the scan */
        bool reg001 = false;
        mm_findings *f = mm_result_findings(b);
        for (size_t i = 0; i < mm_findings_count(f); i++)
            reg001 |= !strcmp(mm_findings_get(f, i)->id, "MM-REG-001");
        CHECK(reg001);
    }
    /* the rescan gives the same inventory; every layer is in the cache
     * (that a cached layer needs no request is e2e_stream_cache_...) */
    CHECK_OK(mm_scan(&c, MM_TARGET_REGISTRY, ref, &o));
    if (c && b) {
        char *tb = inventory_text(b), *tc = inventory_text(c);
        CHECK_STR(tc, tb);
        free(tb);
        free(tc);
        for (size_t i = 0; i < mm_result_layer_count(c); i++) {
            char p[4400];
            snprintf(p, sizeof p, "%s/sha256/%s", cache, mm_result_layer(c, i)->digest + 7);
            CHECK(access(p, R_OK) == 0);
        }
    }
    /* a borrowed client (what a registry scan does): both pulls through
     * it report the plain-HTTP host, the client is not freed by the scan,
     * and a pull reports only hosts it used itself */
    mm_registry *shared = client(cache, true);
    REQUIRE(shared);
    mm_scan_opts so = o;
    so.registry = NULL;
    so.registry_client = shared;
    for (int k = 0; k < 2; k++) {
        mm_result *d = NULL;
        CHECK_OK(mm_scan(&d, MM_TARGET_REGISTRY, ref, &so));
        if (d && b) {
            char *tb = inventory_text(b), *td = inventory_text(d);
            CHECK_STR(td, tb);
            free(tb);
            free(td);
            int reg001 = 0;
            mm_findings *f = mm_result_findings(d);
            for (size_t i = 0; i < mm_findings_count(f); i++)
                reg001 += !strcmp(mm_findings_get(f, i)->id, "MM-REG-001");
            CHECK_INT(reg001, 1);
        }
        mm_result_free(d);
    }
    CHECK_INT(mm_registry_transport_count(shared), 1);
    uint64_t mark = mm_registry_transport_mark(shared);
    CHECK(mark > 0);
    mm_findings *f;
    mm_findings_new(&f);
    CHECK_OK(mm_registry_add_transport_findings_since(shared, mark, f, "img"));
    CHECK_INT(mm_findings_count(f), 0);
    char dg[72];
    mm_imageref *r = ref_of("/test/app:1");
    REQUIRE(r);
    CHECK_OK(mm_registry_resolve(shared, r, dg));
    CHECK(mm_registry_transport_mark(shared) > mark);
    CHECK_OK(mm_registry_add_transport_findings_since(shared, mark, f, "img"));
    CHECK_INT(mm_findings_count(f), 1);
    mm_findings_free(f);
    mm_imageref_free(r);
    mm_registry_free(shared);

    mm_result_free(a);
    mm_result_free(b);
    mm_result_free(c);
    mm_tmpdir_remove(cd);
}

/* --- against a scripted server: bearer tokens, retries, paging, resume --------------- */
/* A small registry in Python that wants bearer tokens (basic bob:pw at its
 * token service), answers 429 then 503 before the manifest, pages tags with
 * Link, lies in Docker-Content-Digest on one tag, breaks a blob transfer
 * half-way (a Range request resumes it), and takes an upload at a relative
 * Location that carries a query. */
static const char fake_py[] =
    "import http.server, json, sys, hashlib, base64\n"
    "PORT = int(sys.argv[1])\n"
    "MAN = json.dumps({\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n"
    "                  \"config\": {\"digest\": \"sha256:\" + \"0\" * 64, \"size\": 2}, \"layers\": []}).encode()\n"
    "BLOB = bytes(range(256)) * 4096\n"
    "D = \"sha256:\" + hashlib.sha256(MAN).hexdigest()\n"
    "BD = \"sha256:\" + hashlib.sha256(BLOB).hexdigest()\n"
    "st = {\"n\": 0, \"broke\": 0}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = \"HTTP/1.1\"\n"
    "    def log_message(self, *a): pass\n"
    "    def send(self, code, body=b\"\", hdrs={}):\n"
    "        self.send_response(code)\n"
    "        for k, v in hdrs.items(): self.send_header(k, v)\n"
    "        self.send_header(\"Content-Length\", str(len(body))); self.end_headers()\n"
    "        if self.command != \"HEAD\": self.wfile.write(body)\n"
    "    def authok(self):\n"
    "        a = self.headers.get(\"Authorization\")\n"
    "        if a == \"Bearer tok-push\" or (a == \"Bearer tok-pull\" and self.command not in (\"POST\", \"PUT\")):\n"
    "            return True\n"
    "        scope = \"repository:r/x:pull\" + (\",push\" if self.command in (\"POST\", \"PUT\") else \"\")\n"
    "        self.send(401, b'{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}',\n"
    "                  {\"WWW-Authenticate\": 'Bearer realm=\"http://127.0.0.1:%d/token\",service=\"fake\",scope=\"%s\"' % (PORT, scope)})\n"
    "        return False\n"
    "    def do_GET(self):\n"
    "        p = self.path\n"
    "        if p.startswith(\"/token\"):\n"
    "            if self.headers.get(\"Authorization\", \"\") != \"Basic \" + base64.b64encode(b\"bob:pw\").decode():\n"
    "                return self.send(401, b'{\"errors\":[{\"code\":\"DENIED\",\"message\":\"bad creds\"}]}')\n"
    "            return self.send(200, json.dumps({\"token\": \"tok-\" + (\"push\" if \"push\" in p else \"pull\")}).encode())\n"
    "        if not self.authok(): return\n"
    "        if p == \"/v2/r/x/manifests/t\":\n"
    "            st[\"n\"] += 1\n"
    "            if st[\"n\"] == 1: return self.send(429, b\"\", {\"Retry-After\": \"1\"})\n"
    "            if st[\"n\"] == 2: return self.send(503, b\"\", {\"Retry-After\": \"0\"})\n"
    "            return self.send(200, MAN, {\"Content-Type\": \"application/vnd.oci.image.manifest.v1+json\", \"Docker-Content-Digest\": D})\n"
    "        if p == \"/v2/r/x/manifests/bad\":\n"
    "            return self.send(200, MAN, {\"Content-Type\": \"application/vnd.oci.image.manifest.v1+json\", \"Docker-Content-Digest\": \"sha256:\" + \"1\" * 64})\n"
    "        if p == \"/v2/r/x/manifests/slow\":\n"
    "            import time; time.sleep(4); return self.send(200, MAN)\n"
    "        if p == \"/v2/r/x/manifests/big\":\n"
    "            return self.send(200, b\" \" * (5 << 20))\n"
    "        if p == \"/v2/r/x/manifests/down\":\n"
    "            return self.send(503, b'{\"errors\":[{\"code\":\"UNAVAILABLE\",\"message\":\"try later\"}]}', {\"Retry-After\": \"0\"})\n"
    "        if p.startswith(\"/v2/r/x/tags/list\"):\n"
    "            if \"last\" not in p:\n"
    "                return self.send(200, b'{\"name\":\"r/x\",\"tags\":[\"b\",\"a\"]}', {\"Link\": '</v2/r/x/tags/list?last=b&n=2>; rel=\"next\"'})\n"
    "            return self.send(200, b'{\"name\":\"r/x\",\"tags\":[\"c\"]}')\n"
    "        if p == \"/v2/r/x/blobs/\" + BD:\n"
    "            rng = self.headers.get(\"Range\")\n"
    "            if rng is None:\n"
    "                # the connection breaks half-way\n"
    "                self.send_response(200); self.send_header(\"Content-Length\", str(len(BLOB))); self.end_headers()\n"
    "                self.wfile.write(BLOB[:len(BLOB) // 2]); self.wfile.flush()\n"
    "                self.close_connection = True\n"
    "                import socket; self.connection.shutdown(socket.SHUT_RDWR)\n"
    "                return\n"
    "            start = int(rng.split(\"=\")[1].rstrip(\"-\"))\n"
    "            return self.send(206, BLOB[start:], {\"Content-Range\": \"bytes %d-%d/%d\" % (start, len(BLOB) - 1, len(BLOB))})\n"
    "        self.send(404, b'{\"errors\":[{\"code\":\"NOT_FOUND\",\"message\":\"nope\"}]}')\n"
    "    def do_HEAD(self):\n"
    "        if not self.authok(): return\n"
    "        self.send(404)\n"
    "    def do_POST(self):\n"
    "        self.rfile.read(int(self.headers.get(\"Content-Length\", 0)))\n"
    "        if not self.authok(): return\n"
    "        self.send(202, b\"\", {\"Location\": \"/v2/r/x/blobs/uploads/uuid1?_state=abc\"})\n"
    "    def do_PUT(self):\n"
    "        body = self.rfile.read(int(self.headers.get(\"Content-Length\", 0)))\n"
    "        if not self.authok(): return\n"
    "        want = \"/v2/r/x/blobs/uploads/uuid1?_state=abc&digest=sha256%3A\" + hashlib.sha256(body).hexdigest()\n"
    "        if self.path == want: return self.send(201)\n"
    "        self.send(400, b'{\"errors\":[{\"code\":\"DIGEST_INVALID\",\"message\":\"unexpected PUT\"}]}')\n"
    "http.server.ThreadingHTTPServer((\"127.0.0.1\", PORT), H).serve_forever()\n";

static struct {
    bool tried, up;
    pid_t pid;
    char dir[4096], host[64];
    const char *why;
} F;

static void fake_stop(void)
{
    if (F.pid > 0) {
        kill(F.pid, SIGTERM);
        waitpid(F.pid, NULL, 0);
        F.pid = 0;
    }
    if (F.dir[0])
        mm_tmpdir_remove(F.dir);
}

static bool fake_up(void)
{
    if (F.tried)
        return F.up;
    F.tried = true;
    if (system("python3 -c 'import http.server' >/dev/null 2>&1") != 0)
        return F.why = "python3 is not installed", false;
    const char *d = mmt_tmpdir();
    if (!d)
        return F.why = "no temp folder", false;
    snprintf(F.dir, sizeof F.dir, "%s", d);
    char py[4200];
    snprintf(py, sizeof py, "%s/fake.py", F.dir);
    FILE *f = fopen(py, "w");
    if (!f)
        return F.why = "cannot write the script", false;
    fputs(fake_py, f);
    fclose(f);
    int port = free_port();
    if (port < 0)
        return F.why = "no free port", false;
    snprintf(F.host, sizeof F.host, "127.0.0.1:%d", port);
    atexit(fake_stop);
    F.pid = fork();
    if (F.pid == 0) {
        char ps[16];
        snprintf(ps, sizeof ps, "%d", port);
        int nul = open("/dev/null", O_RDWR); /* aborted requests make noise */
        dup2(nul, 1);
        dup2(nul, 2);
        execlp("python3", "python3", py, ps, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 100 && !port_open(port); i++)
        usleep(100 * 1000);
    if (!port_open(port))
        return F.why = "the scripted registry did not start", false;
    F.up = true;
    return true;
}

static mm_registry *fake_client_t(const char *password, long timeout, int retries)
{
    static const char *hosts[1];
    hosts[0] = F.host;
    mm_registry_opts o;
    mm_registry_opts_init(&o);
    o.insecure_hosts = hosts;
    o.ninsecure = 1;
    o.username = "bob";
    o.password = password;
    o.cache_dir = "";
    o.retries = retries;
    o.timeout_s = timeout;
    mm_registry *c = NULL;
    return mm_registry_new(&c, &o) < 0 ? NULL : c;
}

static mm_registry *fake_client(const char *password)
{
    return fake_client_t(password, 10, 3);
}

MM_TEST(scripted_bearer_retries_paging_upload_resume)
{
    if (!fake_up())
        MMT_SKIP(F.why);
    char s[256];
    snprintf(s, sizeof s, "%s/r/x:t", F.host);
    mm_imageref *ref;
    CHECK_OK(mm_imageref_parse(&ref, s));
    mm_registry *c = fake_client("pw");
    REQUIRE(c && ref);
    char *body = NULL, *mt = NULL, dg[72];
    size_t len;
    double t0 = mm_now();
    CHECK_OK(mm_registry_get_manifest(c, ref, NULL, &body, &len, &mt, dg));
    /* 429 with Retry-After: 1 was waited for, then 503 retried */
    CHECK(mm_now() - t0 >= 0.9);
    CHECK_STR(mt, "application/vnd.oci.image.manifest.v1+json");
    free(body);
    free(mt);

    CHECK_INT(mm_registry_get_manifest(c, ref, "bad", &body, &len, &mt, dg), MM_EDIGEST);
    CHECK(strstr(mm_error_last(), "Docker-Content-Digest") != NULL);
    CHECK_INT(mm_registry_get_manifest(c, ref, "down", &body, &len, &mt, dg), MM_ENET);
    CHECK(strstr(mm_error_last(), "503") != NULL);
    CHECK(strstr(mm_error_last(), "UNAVAILABLE: try later") != NULL);
    CHECK_INT(mm_registry_get_manifest(c, ref, "zz", &body, &len, &mt, dg), MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "r/x:zz") != NULL);

    char **v;
    size_t n;
    CHECK_OK(mm_registry_tags(c, ref, &v, &n));
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(v[0], "a");
        CHECK_STR(v[2], "c");
    }
    mm_strv_free(v, n);

    CHECK_OK(mm_registry_put_blob(c, ref, "hello", 5, dg));
    CHECK_STR(dg, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");

    /* the blob: 1 MiB of bytes 0..255; the first transfer breaks */
    size_t bl = 256 * 4096;
    unsigned char *exp = malloc(bl);
    for (size_t i = 0; i < bl; i++)
        exp[i] = (unsigned char)i;
    char bd[72];
    mm_sha256_hex(exp, bl, bd);
    free(exp);
    mm_regblob *b;
    CHECK_OK(mm_registry_open_blob(&b, c, ref, bd, bl));
    if (b) {
        uint64_t total;
        char got[72];
        CHECK_INT(read_blob(b, &total, got), 0);
        CHECK_INT(total, bl);
        CHECK_STR(got, bd);
        mm_regblob_free(b);
    }
    /* the token service's plain HTTP is recorded like the registry's */
    CHECK_INT(mm_registry_transport_count(c), 1);
    mm_registry_free(c);

    /* caps and stalls */
    c = fake_client_t("pw", 1, -1);
    REQUIRE(c);
    CHECK_INT(mm_registry_get_manifest(c, ref, "big", &body, &len, &mt, dg), MM_ELIMIT);
    t0 = mm_now();
    CHECK_INT(mm_registry_get_manifest(c, ref, "slow", &body, &len, &mt, dg), MM_ENET);
    CHECK(mm_now() - t0 < 3.5);
    CHECK(strstr(mm_error_last(), "too slow") || strstr(mm_error_last(), "timed out"));
    mm_registry_free(c);

    c = fake_client("wrong");
    REQUIRE(c);
    CHECK_INT(mm_registry_get_manifest(c, ref, "t", &body, &len, &mt, dg), MM_EAUTH);
    CHECK(strstr(mm_error_last(), F.host) != NULL);
    CHECK(strstr(mm_error_last(), "bad creds") != NULL);
    mm_registry_free(c);
    mm_imageref_free(ref);
}

/* --- Docker credential helpers and identity tokens ------------------------------ */
MM_TEST(docker_config_helper_precedence)
{
    const char *j = "{\"auths\":{\"reg.example:5000\":{\"auth\":\"dXNlcjpwYXNz\"},"
                    "\"tok.example\":{\"identitytoken\":\"rt-1\"},"
                    "\"both.example\":{\"auth\":\"dXNlcjpwYXNz\"}},"
                    "\"credHelpers\":{\"https://ECR.example/\":\"ecr-login\","
                    "\"both.example\":\"gcr\"}}";
    mm_reg_authcfg a;
    /* credHelpers by host, keys compared like auths keys */
    CHECK_OK(mm_reg_docker_authcfg(&a, j, strlen(j), "cfg.json", "ecr.example"));
    CHECK_STR(a.helper, "ecr-login");
    CHECK(a.user == NULL && a.pass == NULL);
    CHECK(a.source && strstr(a.source, "credHelpers") && strstr(a.source, "cfg.json"));
    mm_reg_authcfg_clear(&a);
    /* credHelpers beats an auths entry holding credentials */
    CHECK_OK(mm_reg_docker_authcfg(&a, j, strlen(j), "cfg.json", "both.example"));
    CHECK_STR(a.helper, "gcr");
    CHECK(a.user == NULL);
    mm_reg_authcfg_clear(&a);
    /* no helper: the auths entry */
    CHECK_OK(mm_reg_docker_authcfg(&a, j, strlen(j), "cfg.json", "reg.example:5000"));
    CHECK(a.helper == NULL);
    CHECK_STR(a.user, "user");
    CHECK_STR(a.pass, "pass");
    CHECK(a.identity_token == NULL);
    mm_reg_authcfg_clear(&a);
    CHECK_OK(mm_reg_docker_authcfg(&a, j, strlen(j), "cfg.json", "tok.example"));
    CHECK_STR(a.identity_token, "rt-1");
    CHECK(a.helper == NULL && a.pass == NULL);
    mm_reg_authcfg_clear(&a);
    CHECK_INT(mm_reg_docker_authcfg(&a, j, strlen(j), "cfg.json", "none.example"), MM_ENOTFOUND);
    CHECK(a.helper == NULL && a.user == NULL);

    /* credsStore: every host without a credHelpers entry, auths or not
     * (docker's nativeStore ignores the file's credentials) */
    const char *k = "{\"auths\":{\"reg.example:5000\":{\"auth\":\"dXNlcjpwYXNz\"}},"
                    "\"credsStore\":\"desktop\",\"credHelpers\":{\"gcr.io\":\"gcloud\"}}";
    CHECK_OK(mm_reg_docker_authcfg(&a, k, strlen(k), "c2", "reg.example:5000"));
    CHECK_STR(a.helper, "desktop");
    CHECK(a.user == NULL);
    CHECK(strstr(a.source, "credsStore") != NULL);
    mm_reg_authcfg_clear(&a);
    CHECK_OK(mm_reg_docker_authcfg(&a, k, strlen(k), "c2", "other.example"));
    CHECK_STR(a.helper, "desktop");
    mm_reg_authcfg_clear(&a);
    CHECK_OK(mm_reg_docker_authcfg(&a, k, strlen(k), "c2", "gcr.io"));
    CHECK_STR(a.helper, "gcloud");
    mm_reg_authcfg_clear(&a);
    /* an empty credsStore is none */
    const char *e = "{\"credsStore\":\"\",\"auths\":{\"x\":{\"username\":\"u\",\"password\":\"p\"}}}";
    CHECK_OK(mm_reg_docker_authcfg(&a, e, strlen(e), "c3", "x"));
    CHECK(a.helper == NULL);
    CHECK_STR(a.user, "u");
    mm_reg_authcfg_clear(&a);
    /* Docker Hub: its names are one registry, the helper gets the
     * legacy URL */
    const char *h = "{\"credHelpers\":{\"docker.io\":\"hub\"}}";
    CHECK_OK(mm_reg_docker_authcfg(&a, h, strlen(h), "c4", "registry-1.docker.io"));
    CHECK_STR(a.helper, "hub");
    mm_reg_authcfg_clear(&a);
    char *srv = mm_reg_helper_server("registry-1.docker.io");
    CHECK_STR(srv, "https://index.docker.io/v1/");
    free(srv);
    srv = mm_reg_helper_server("Reg.Example:5000");
    CHECK_STR(srv, "reg.example:5000");
    free(srv);
}

MM_TEST(docker_config_helper_names)
{
    CHECK(mm_reg_helper_name_valid("ecr-login"));
    CHECK(mm_reg_helper_name_valid("a.b_C-9"));
    CHECK(!mm_reg_helper_name_valid(""));
    CHECK(!mm_reg_helper_name_valid("../evil"));
    CHECK(!mm_reg_helper_name_valid("a b"));
    CHECK(!mm_reg_helper_name_valid("x;rm -rf /"));
    CHECK(!mm_reg_helper_name_valid("a/b"));
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    CHECK(!mm_reg_helper_name_valid(longname));
    mm_reg_authcfg a;
    const char *j = "{\"credHelpers\":{\"reg.example\":\"../../bin/sh\"}}";
    CHECK_INT(mm_reg_docker_authcfg(&a, j, strlen(j), "/home/u/.docker/config.json",
                                    "reg.example"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "/home/u/.docker/config.json") != NULL);
    CHECK(strstr(mm_error_last(), "credHelpers.\"reg.example\"") != NULL);
    CHECK(a.helper == NULL);
    const char *k = "{\"credsStore\":\"pass word\"}";
    CHECK_INT(mm_reg_docker_authcfg(&a, k, strlen(k), "cfgX", "reg.example"), MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "credsStore") && strstr(mm_error_last(), "cfgX"));
    const char *n = "{\"credsStore\":7}";
    CHECK_INT(mm_reg_docker_authcfg(&a, n, strlen(n), "cfgX", "reg.example"), MM_EFORMAT);
    const char *m = "{\"credHelpers\":[\"x\"]}";
    CHECK_INT(mm_reg_docker_authcfg(&a, m, strlen(m), "cfgX", "reg.example"), MM_EFORMAT);
    CHECK_INT(mm_reg_docker_authcfg(&a, "{", 1, "cfgX", "reg.example"), MM_EFORMAT);
}

MM_TEST(helper_output_parse)
{
    char *u, *s;
    bool tok;
    const char *ok = "{\"ServerURL\":\"reg.example\",\"Username\":\"AWS\",\"Secret\":\"s3cr3t\"}";
    CHECK_OK(mm_reg_helper_parse(ok, strlen(ok), "h", &u, &s, &tok));
    CHECK_STR(u, "AWS");
    CHECK_STR(s, "s3cr3t");
    CHECK(!tok);
    free(u);
    mm_secret_free(s);
    const char *it = "{\"Username\":\"<token>\",\"Secret\":\"refresh-1\"}\n";
    CHECK_OK(mm_reg_helper_parse(it, strlen(it), "h", &u, &s, &tok));
    CHECK(tok);
    CHECK_STR(s, "refresh-1");
    free(u);
    mm_secret_free(s);
    /* malformed, missing or empty fields, wrong types */
    const char *bad[] = {
        "", "{", "[1]", "\"x\"", "{\"Username\":\"u\"}", "{\"Secret\":\"s\"}",
        "{\"Username\":\"\",\"Secret\":\"s\"}", "{\"Username\":\"u\",\"Secret\":\"\"}",
        "{\"Username\":1,\"Secret\":\"s\"}", "{\"Username\":\"u\",\"Secret\":null}",
        "{\"Username\":\"a:b\",\"Secret\":\"s\"}",
        "credentials not found in native keychain",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = mm_reg_helper_parse(bad[i], strlen(bad[i]), "helper-X", &u, &s, &tok);
        CHECK_INT(rc, MM_EFORMAT);
        CHECK(u == NULL && s == NULL && !tok);
        if (rc < 0)
            CHECK(strstr(mm_error_last(), "helper-X") != NULL);
    }
    /* oversized: refused before parsing */
    size_t big = MM_REG_MAX_HELPER_OUT + 10;
    char *b = malloc(big + 1);
    REQUIRE(b);
    memset(b, ' ', big);
    memcpy(b, ok, strlen(ok));
    b[big] = 0;
    CHECK_INT(mm_reg_helper_parse(b, big, "h", &u, &s, &tok), MM_ELIMIT);
    /* the same document just under the cap parses */
    CHECK_OK(mm_reg_helper_parse(b, MM_REG_MAX_HELPER_OUT, "h", &u, &s, &tok));
    free(u);
    mm_secret_free(s);
    free(b);
}

/* Writes an executable docker-credential-NAME holding script into dir. */
static void write_helper(const char *dir, const char *name, const char *script)
{
    char path[512];
    snprintf(path, sizeof path, "%s/docker-credential-%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(script, f);
    fclose(f);
    chmod(path, 0755);
}

MM_TEST(credhelper_run)
{
    if (access("/bin/sh", X_OK) != 0)
        MMT_SKIP("no /bin/sh");
    const char *dir = mmt_tmpdir();
    char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    char *path = mm_xasprintf("%s:%s", dir, old ? old : "/usr/bin:/bin");
    setenv("PATH", path, 1);
    free(path);
    /* answers only for reg.example:5000, checks it got "get" */
    write_helper(dir, "good",
                 "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread -r url\n"
                 "if [ \"$url\" = reg.example:5000 ]; then\n"
                 "  printf '{\"ServerURL\":\"%s\",\"Username\":\"bob\",\"Secret\":\"pw\"}' \"$url\"\n"
                 "  exit 0\nfi\n"
                 "echo 'credentials not found in native keychain'\nexit 1\n");
    write_helper(dir, "fail", "#!/bin/sh\necho 'error getting credentials: token expired' >&2\n"
                              "exit 4\n");
    write_helper(dir, "failout", "#!/bin/sh\necho 'the keychain is locked'\nexit 1\n");
    write_helper(dir, "hang", "#!/bin/sh\nsleep 30\n");
    write_helper(dir, "big", "#!/bin/sh\nhead -c 200000 /dev/zero | tr '\\0' x\n");
    write_helper(dir, "token", "#!/bin/sh\ncat >/dev/null\n"
                               "echo '{\"Username\":\"<token>\",\"Secret\":\"rt\"}'\n");
    /* counts the descriptors it was given: 0, 1, 2 and the one ls opens */
    write_helper(dir, "fds", "#!/bin/sh\nn=$(ls /proc/self/fd | wc -l)\n"
                             "echo \"fds $n\"; exit 1\n");
    char *u, *s;
    bool tok;
    CHECK_OK(mm_reg_credhelper_get("good", "reg.example:5000", "L", 5000, &u, &s, &tok));
    CHECK_STR(u, "bob");
    CHECK_STR(s, "pw");
    CHECK(!tok);
    free(u);
    mm_secret_free(s);
    CHECK_INT(mm_reg_credhelper_get("good", "other.example", "L", 5000, &u, &s, &tok),
              MM_ENOTFOUND);
    CHECK(u == NULL && s == NULL);
    CHECK_INT(mm_reg_credhelper_get("fail", "r", "credsStore of cfg", 5000, &u, &s, &tok),
              MM_EAUTH);
    CHECK(strstr(mm_error_last(), "token expired") != NULL);
    CHECK(strstr(mm_error_last(), "exit status 4") != NULL);
    CHECK(strstr(mm_error_last(), "credsStore of cfg") != NULL);
    CHECK_INT(mm_reg_credhelper_get("failout", "r", "L", 5000, &u, &s, &tok), MM_EAUTH);
    CHECK(strstr(mm_error_last(), "the keychain is locked") != NULL);
    long t0 = (long)time(NULL);
    CHECK_INT(mm_reg_credhelper_get("hang", "r", "L", 300, &u, &s, &tok), MM_EAUTH);
    CHECK((long)time(NULL) - t0 < 5);
    CHECK(strstr(mm_error_last(), "MAMORI_CREDHELPER_TIMEOUT") != NULL);
    CHECK_INT(mm_reg_credhelper_get("big", "r", "L", 5000, &u, &s, &tok), MM_EAUTH);
    CHECK(strstr(mm_error_last(), "65536") != NULL);
    CHECK_OK(mm_reg_credhelper_get("token", "r", "L", 5000, &u, &s, &tok));
    CHECK(tok);
    CHECK_STR(s, "rt");
    free(u);
    mm_secret_free(s);
    CHECK_INT(mm_reg_credhelper_get("absent", "r", "credHelpers.\"r\" of cfg", 5000, &u, &s,
                                    &tok), MM_EAUTH);
    CHECK(strstr(mm_error_last(), "docker-credential-absent") != NULL);
    CHECK(strstr(mm_error_last(), "PATH") != NULL);
    CHECK_INT(mm_reg_credhelper_get("../x", "r", "L", 5000, &u, &s, &tok), MM_EFORMAT);
    /* a descriptor of ours without close-on-exec does not reach the helper */
    int leak = open("/dev/null", O_RDONLY);
    CHECK_INT(mm_reg_credhelper_get("fds", "r", "L", 5000, &u, &s, &tok), MM_EAUTH);
    CHECK(strstr(mm_error_last(), "\"fds 4\"") != NULL);
    if (leak >= 0)
        close(leak);
    /* the timeout from the environment */
    setenv("MAMORI_CREDHELPER_TIMEOUT", "2.5", 1);
    CHECK_INT(mm_reg_credhelper_timeout_ms(), 2500);
    setenv("MAMORI_CREDHELPER_TIMEOUT", "junk", 1);
    CHECK_INT(mm_reg_credhelper_timeout_ms(), 30000);
    unsetenv("MAMORI_CREDHELPER_TIMEOUT");
    CHECK_INT(mm_reg_credhelper_timeout_ms(), 30000);
    if (old) {
        setenv("PATH", old, 1);
        free(old);
    }
}

MM_TEST_MAIN
