/*
 * test_regscan.c - the rules of registry rescans (mamori/regscan.h) that
 * need no registry: SemVer tag ordering (SemVer 2.0.0 §11 precedence,
 * "v" prefixes, short versions, pre-releases, tags that are not
 * versions), the choice of a repository's current release (`latest`
 * first, else the highest release, never an unresolved tag), RFC 3339
 * times, the stale classification, and picking a platform's manifest
 * from an index as a registry serves it.  The registry round trip is in
 * tests/integration/test_regscan.py.
 */
#include "mmtest.h"
#include "mamori/regscan.h"
#include "image/intake.h"
#include "util/util.h"

static int sign(int x) { return x < 0 ? -1 : x > 0; }

MM_TEST(semver_is_version)
{
    bool pre = true;
    CHECK(mm_regscan_tag_is_version("1.2.3", &pre));
    CHECK(!pre);
    CHECK(mm_regscan_tag_is_version("v1.2.3", &pre));
    CHECK(mm_regscan_tag_is_version("1.2", NULL));
    CHECK(mm_regscan_tag_is_version("7", NULL));
    CHECK(mm_regscan_tag_is_version("1.0.0-rc.1", &pre));
    CHECK(pre);
    CHECK(mm_regscan_tag_is_version("1.0.0-alpha-beta.x-1", &pre));
    /* not versions */
    CHECK(!mm_regscan_tag_is_version("latest", NULL));
    CHECK(!mm_regscan_tag_is_version("edge", NULL));
    CHECK(!mm_regscan_tag_is_version("01.2.3", NULL));    /* leading zero */
    CHECK(!mm_regscan_tag_is_version("1.02.3", NULL));
    CHECK(!mm_regscan_tag_is_version("1.2.3.4", NULL));
    CHECK(!mm_regscan_tag_is_version("1.2.3-", NULL));
    CHECK(!mm_regscan_tag_is_version("1.2.3-rc..1", NULL));
    CHECK(!mm_regscan_tag_is_version("1.2.3-rc.01", NULL)); /* numeric id, leading 0 */
    CHECK(!mm_regscan_tag_is_version("1.2.", NULL));
    CHECK(!mm_regscan_tag_is_version("v", NULL));
    CHECK(!mm_regscan_tag_is_version("", NULL));
    CHECK(!mm_regscan_tag_is_version(NULL, NULL));
    CHECK(!mm_regscan_tag_is_version("sha-1234abc", NULL));
    CHECK(!mm_regscan_tag_is_version("1.2.3_build", NULL));
    /* numbers too long to hold are not versions (no overflow) */
    CHECK(!mm_regscan_tag_is_version("1234567890123456789012.0.0", NULL));
}

MM_TEST(semver_order)
{
    /* SemVer 2.0.0 §11.4's example chain, each strictly before the next */
    const char *chain[] = {
        "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
        "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
        "1.2.0", "1.10.0", "2.0.0", "v10.0.0",
    };
    size_t n = sizeof chain / sizeof chain[0];
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int want = i < j ? -1 : i > j;
            int got = sign(mm_regscan_tag_cmp(chain[i], chain[j]));
            if (got != want) {
                fprintf(stderr, "cmp(%s, %s) = %d, want %d\n", chain[i], chain[j],
                        got, want);
                mmt_failed_now = 1;
            }
        }
    /* numeric, not lexical */
    CHECK(mm_regscan_tag_cmp("1.9.0", "1.10.0") < 0);
    CHECK(mm_regscan_tag_cmp("1.0.0-rc.9", "1.0.0-rc.10") < 0);
    /* short forms equal in value order by spelling, so the order is total */
    CHECK(mm_regscan_tag_cmp("1.2", "1.2.0") != 0);
    CHECK(sign(mm_regscan_tag_cmp("1.2", "1.2.0")) ==
          -sign(mm_regscan_tag_cmp("1.2.0", "1.2")));
    CHECK(mm_regscan_tag_cmp("1.2", "1.2.1") < 0);
    CHECK(mm_regscan_tag_cmp("v2", "1.9.9") > 0);
    /* versions before everything else; the rest by string */
    CHECK(mm_regscan_tag_cmp("99.0.0", "alpha") < 0);
    CHECK(mm_regscan_tag_cmp("latest", "1.0.0") > 0);
    CHECK(mm_regscan_tag_cmp("edge", "latest") < 0);
    CHECK_INT(mm_regscan_tag_cmp("1.0.0", "1.0.0"), 0);
}

MM_TEST(current_release_latest_wins)
{
    const char *tags[] = {"1.0.0", "2.0.0", "latest"};
    const char *dig[] = {"sha256:a", "sha256:b", "sha256:a"};
    /* latest points at an older release: latest still decides */
    CHECK_INT(mm_regscan_current_release(tags, dig, 3), 2);
}

MM_TEST(current_release_highest_semver)
{
    const char *tags[] = {"1.2.0", "1.10.0", "edge", "2.0.0-rc.1", "1.9.9", "v1.10.0-beta"};
    const char *dig[] = {"sha256:a", "sha256:b", "sha256:c", "sha256:d", "sha256:e", "sha256:f"};
    /* the highest release; a pre-release of a later version does not count */
    CHECK_INT(mm_regscan_current_release(tags, dig, 6), 1);
}

MM_TEST(current_release_prerelease_only)
{
    const char *tags[] = {"1.0.0-rc.1", "1.0.0-rc.2", "nightly"};
    const char *dig[] = {"sha256:a", "sha256:b", "sha256:c"};
    CHECK_INT(mm_regscan_current_release(tags, dig, 3), 1);
}

MM_TEST(current_release_none)
{
    const char *tags[] = {"edge", "nightly", "main"};
    const char *dig[] = {"sha256:a", "sha256:b", "sha256:c"};
    CHECK_INT(mm_regscan_current_release(tags, dig, 3), -1);
    CHECK_INT(mm_regscan_current_release(tags, dig, 0), -1);
}

MM_TEST(current_release_skips_unresolved)
{
    /* a tag that could not be resolved cannot be the current release */
    const char *tags[] = {"latest", "2.0.0", "1.0.0"};
    const char *dig[] = {NULL, NULL, "sha256:a"};
    CHECK_INT(mm_regscan_current_release(tags, dig, 3), 2);
}

MM_TEST(parse_time)
{
    int64_t t = 0;
    CHECK_OK(mm_time_parse_rfc3339("1970-01-01T00:00:00Z", &t));
    CHECK_INT(t, 0);
    CHECK_OK(mm_time_parse_rfc3339("2024-01-31T12:00:00Z", &t));
    CHECK_INT(t, 1706702400);
    CHECK_OK(mm_time_parse_rfc3339("2024-01-31T12:00:00.123456789Z", &t));
    CHECK_INT(t, 1706702400);
    CHECK_OK(mm_time_parse_rfc3339("2024-01-31T14:30:00+02:30", &t));
    CHECK_INT(t, 1706702400);
    CHECK_OK(mm_time_parse_rfc3339("2024-01-31T09:00:00-03:00", &t));
    CHECK_INT(t, 1706702400);
    CHECK(mm_time_parse_rfc3339("2024-01-31", &t) == MM_EFORMAT);
    CHECK(mm_time_parse_rfc3339("2024-01-31T12:00:00", &t) == MM_EFORMAT);
    CHECK(mm_time_parse_rfc3339("2024-13-31T12:00:00Z", &t) == MM_EFORMAT);
    CHECK(mm_time_parse_rfc3339("2024-01-31T12:00:00.Z", &t) == MM_EFORMAT);
    CHECK(mm_time_parse_rfc3339("2024-01-31T12:00:00Zjunk", &t) == MM_EFORMAT);
    CHECK(mm_time_parse_rfc3339("", &t) == MM_EFORMAT);
    CHECK(mm_time_parse_rfc3339(NULL, &t) == MM_EFORMAT);
}

MM_TEST(classify)
{
    int64_t now = 1706702400; /* 2024-01-31T12:00:00Z */
    /* current, new, nothing fixable: not stale */
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", "2024-01-30T12:00:00Z",
                                  now, 90, 0), 0);
    /* another digest than the current release */
    CHECK_INT(mm_regscan_classify("sha256:b", "sha256:a", "2024-01-30T12:00:00Z",
                                  now, 90, 0), MM_REGSCAN_STALE_NOT_CURRENT);
    /* no current release: nothing to compare with */
    CHECK_INT(mm_regscan_classify("sha256:b", NULL, NULL, now, 90, 0), 0);
    /* exactly 90 days is not older than 90 days; a second more is */
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", "2023-11-02T12:00:00Z",
                                  now, 90, 0), 0);
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", "2023-11-02T11:59:59Z",
                                  now, 90, 0), MM_REGSCAN_STALE_OLD);
    /* age check off, or created unknown/unreadable */
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", "2000-01-01T00:00:00Z",
                                  now, 0, 0), 0);
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", NULL, now, 90, 0), 0);
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", "yesterday", now, 90, 0), 0);
    /* fixable vulnerabilities */
    CHECK_INT(mm_regscan_classify("sha256:a", "sha256:a", NULL, now, 90, 3),
              MM_REGSCAN_STALE_FIXABLE);
    /* all three */
    CHECK_INT(mm_regscan_classify("sha256:b", "sha256:a", "2001-01-01T00:00:00Z",
                                  now, 30, 1),
              MM_REGSCAN_STALE_OLD | MM_REGSCAN_STALE_NOT_CURRENT |
                  MM_REGSCAN_STALE_FIXABLE);
}

MM_TEST(names)
{
    CHECK_STR(mm_regscan_stale_name(MM_REGSCAN_STALE_OLD), "older-than-max-age");
    CHECK_STR(mm_regscan_stale_name(MM_REGSCAN_STALE_NOT_CURRENT), "not-current-release");
    CHECK_STR(mm_regscan_stale_name(MM_REGSCAN_STALE_FIXABLE), "fixable-vulnerabilities");
    CHECK(mm_regscan_stale_name(0) == NULL);
    CHECK(mm_regscan_stale_name(MM_REGSCAN_STALE_OLD | MM_REGSCAN_STALE_FIXABLE) == NULL);
    CHECK_STR(mm_regscan_status_name(MM_REGSCAN_SKIPPED), "skipped");
}

#define D1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define D2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"
#define D3 "sha256:3333333333333333333333333333333333333333333333333333333333333333"

static int pick(const char *doc, const char *mt, const char *plat, bool *is_index,
                char out[72])
{
    return mm_manifest_platform("test", doc, strlen(doc), mt, plat, is_index, out);
}

MM_TEST(index_pick)
{
    const char *idx =
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\","
        "\"manifests\":["
        "{\"digest\":\"" D1 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
        "{\"digest\":\"" D2 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},"
        "{\"digest\":\"" D3 "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    bool ix = false;
    char out[72];
    CHECK_OK(pick(idx, NULL, NULL, &ix, out));     /* default linux/amd64 */
    CHECK(ix);
    CHECK_STR(out, D3);
    CHECK_OK(pick(idx, NULL, "linux/arm/v7", &ix, out));
    CHECK_STR(out, D2);
    CHECK_OK(pick(idx, NULL, "linux/arm", &ix, out)); /* no variant asked: first */
    CHECK_STR(out, D1);
    CHECK(pick(idx, NULL, "linux/arm64", &ix, out) == MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "linux/arm64") != NULL);
    CHECK(pick(idx, NULL, "windows/amd64", &ix, out) == MM_ENOTFOUND);

    /* a Docker manifest list known only by its Content-Type */
    const char *list = "{\"schemaVersion\":2,\"manifests\":[{\"digest\":\"" D1 "\","
                       "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}";
    CHECK_OK(pick(list, "application/vnd.docker.distribution.manifest.list.v2+json",
                  NULL, &ix, out));
    CHECK(ix);
    CHECK_STR(out, D1);
    /* a lone entry without a platform is the image */
    CHECK_OK(pick("{\"manifests\":[{\"digest\":\"" D2 "\"}]}", NULL, NULL, &ix, out));
    CHECK(ix);
    CHECK_STR(out, D2);
    /* two entries without platforms: none can be chosen */
    CHECK(pick("{\"manifests\":[{\"digest\":\"" D2 "\"},{\"digest\":\"" D3 "\"}]}",
               NULL, NULL, &ix, out) == MM_ENOTFOUND);
    /* an image manifest is not an index */
    CHECK_OK(pick("{\"schemaVersion\":2,\"config\":{\"digest\":\"" D1 "\"},\"layers\":[]}",
                  "application/vnd.oci.image.manifest.v1+json", NULL, &ix, out));
    CHECK(!ix);
    /* hostile or broken documents */
    CHECK(pick("{\"manifests\":[{\"digest\":\"sha256:../../etc\",\"platform\":"
               "{\"os\":\"linux\",\"architecture\":\"amd64\"}}]}", NULL, NULL, &ix, out)
          == MM_EFORMAT);
    CHECK(pick("{\"manifests\":[{\"digest\":7,\"platform\":{\"os\":\"linux\","
               "\"architecture\":\"amd64\"}}]}", NULL, NULL, &ix, out) == MM_EFORMAT);
    CHECK(pick("{\"manifests\":[{\"platform\":\"linux/amd64\",\"digest\":\"" D1 "\"}]}",
               NULL, NULL, &ix, out) == MM_ENOTFOUND);
    CHECK(pick("[1,2]", NULL, NULL, &ix, out) == MM_EFORMAT);
    CHECK(pick("{\"manifests\":", NULL, NULL, &ix, out) == MM_EFORMAT);
    CHECK(pick("", NULL, NULL, &ix, out) == MM_EFORMAT);
    CHECK(mm_manifest_platform("t", NULL, 0, NULL, NULL, &ix, out) == MM_EFORMAT);
    /* an index media type whose body has no manifests is malformed */
    CHECK(pick("{}", "application/vnd.oci.image.index.v1+json", NULL, &ix, out)
          == MM_EFORMAT);
}

MM_TEST(run_refuses_bad_targets)
{
    /* arguments are checked before the client is ever used */
    mm_regscan_opts o;
    mm_regscan_opts_init(&o);
    CHECK_INT(o.max_age_days, 90);
    mm_regscan_report *rep = (mm_regscan_report *)1;
    mm_registry_opts ro;
    mm_registry_opts_init(&ro);
    mm_registry *c = NULL;
    if (mm_registry_new(&c, &ro) < 0)
        MMT_SKIP("the registry client is not available in this build");
    CHECK(mm_regscan_run(&rep, c, NULL, "127.0.0.1:1/Team/App", &o) == MM_EINVAL);
    CHECK(rep == NULL);
    CHECK(mm_regscan_run(&rep, c, NULL, "127.0.0.1:1/app:1.0", &o) == MM_EINVAL);
    CHECK(mm_regscan_run(&rep, c, NULL, "127.0.0.1:1/app@sha256:00", &o) == MM_EINVAL);
    CHECK(mm_regscan_run(&rep, c, NULL, "127.0.0.1:1/a//b", &o) == MM_EINVAL);
    CHECK(mm_regscan_run(&rep, c, NULL, "", &o) == MM_EINVAL);
    CHECK(mm_regscan_run(&rep, c, NULL, "host with space", &o) == MM_EINVAL);
    CHECK(mm_regscan_run(&rep, NULL, NULL, "127.0.0.1:1", &o) == MM_EINVAL);
    /* "myregistry" would be read as a Docker Hub namespace, not a host */
    CHECK(mm_regscan_run(&rep, c, NULL, "myregistry/app", &o) == MM_EINVAL);
    CHECK(strstr(mm_error_last(), "not a registry host") != NULL);
    mm_registry_free(c);
}

MM_TEST_MAIN
