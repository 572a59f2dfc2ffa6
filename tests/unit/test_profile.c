/*
 * test_profile.c - behaviour profiles: learning from synthetic (replayed)
 * events per image, the generalisation applied when the file is written
 * (directories, /proc/<pid>, networks), the YAML round trip, the deviation
 * decisions of each category with their alert fields and actions, and
 * malformed profiles rejected with file, line and key.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mmtest.h"
#include "mamori/profile.h"
#include "mamori/rules.h"

typedef struct hits {
    int n;
    char rule[16][96];
    char json[16][4096];
    int action[16];
} hits;

static void on_alert(void *ud, const mm_alert *a)
{
    hits *h = ud;
    if (h->n < 16) {
        snprintf(h->rule[h->n], sizeof h->rule[0], "%s", a->rule);
        char *j = mm_alert_json(a);
        snprintf(h->json[h->n], sizeof h->json[0], "%s", j ? j : "");
        free(j);
        h->action[h->n] = a->action;
    }
    h->n++;
}

/* Feeds JSON event lines (NULL-terminated) to learn (when lp) and/or check
 * (when cp); returns the alerts. */
static void feed(mm_profile *lp, mm_profile *cp, const char *const *lines, hits *h)
{
    mm_replay *rp;
    memset(h, 0, sizeof *h);
    if (mm_replay_new_mem(&rp))
        return;
    for (size_t i = 0; lines[i]; i++) {
        const mm_event *ev;
        int rc = mm_replay_parse(rp, lines[i], strlen(lines[i]), &ev);
        if (rc != 1) {
            fprintf(stderr, "replay line %zu: %s\n", i, mm_error_last());
            continue;
        }
        if (lp)
            mm_profile_learn(lp, ev);
        if (cp)
            mm_profile_check(cp, ev, on_alert, h);
    }
    mm_replay_free(rp);
}

#define NGINX "\"container.id\":\"0123456789ab\",\"container.image\":\"nginx:1.25\""

static const char *const workload[] = {
    "{\"evt.type\":\"execve\",\"proc.pid\":100,\"proc.ppid\":1,\"proc.name\":\"nginx\","
    "\"proc.exepath\":\"/usr/sbin/nginx\",\"proc.ancestors\":[{\"pid\":1,\"name\":\"containerd-shim\"}],"
    NGINX "}",
    "{\"evt.type\":\"openat\",\"proc.pid\":100,\"evt.arg.name\":\"/var/log/nginx/access.log\","
    "\"evt.arg.flags\":\"O_WRONLY|O_APPEND|O_CREAT\",\"evt.rawres\":5," NGINX "}",
    "{\"evt.type\":\"openat\",\"proc.pid\":100,\"evt.arg.name\":\"/etc/nginx/nginx.conf\","
    "\"evt.arg.flags\":\"O_RDONLY\",\"evt.rawres\":6," NGINX "}",
    "{\"evt.type\":\"listen\",\"proc.pid\":100,\"evt.arg.fd\":7,\"fd.num\":7,\"fd.type\":\"ipv4\","
    "\"fd.l4proto\":\"tcp\",\"fd.sip\":\"0.0.0.0\",\"fd.sport\":80,\"fd.is_server\":true," NGINX "}",
    "{\"evt.type\":\"connect\",\"proc.pid\":100,\"evt.arg.fd\":8,\"fd.num\":8,\"fd.type\":\"ipv4\","
    "\"fd.l4proto\":\"tcp\",\"fd.cip\":\"172.17.0.2\",\"fd.cport\":40000,\"fd.sip\":\"10.0.0.5\","
    "\"fd.sport\":5432," NGINX "}",
    "{\"evt.type\":\"execve\",\"proc.pid\":200,\"proc.ppid\":2,\"proc.name\":\"true\","
    "\"proc.exepath\":\"/usr/bin/true\",\"proc.ancestors\":[{\"pid\":2,\"name\":\"bash\"}]}",
    "{\"evt.type\":\"execve\",\"proc.pid\":201,\"proc.ppid\":2,\"proc.name\":\"true\","
    "\"proc.exepath\":\"/usr/bin/true\",\"proc.ancestors\":[{\"pid\":2,\"name\":\"bash\"}]}",
    NULL,
};

MM_TEST(learn_per_image)
{
    mm_profile *p;
    CHECK_OK(mm_profile_new(&p, NULL));
    hits h;
    feed(p, NULL, workload, &h);
    CHECK_INT(mm_profile_image_count(p), 2);
    CHECK_INT(mm_profile_entry_count(p, "nginx:1.25", MM_PROF_PROCESS), 1);
    CHECK_INT(mm_profile_entry_count(p, "nginx:1.25", MM_PROF_FILE), 1);  /* the read is not a write */
    CHECK_INT(mm_profile_entry_count(p, "nginx:1.25", MM_PROF_LISTEN), 1);
    CHECK_INT(mm_profile_entry_count(p, "nginx:1.25", MM_PROF_CONNECT), 1);
    CHECK_INT(mm_profile_entry_count(p, "host", MM_PROF_PROCESS), 1);
    char *y = mm_profile_to_yaml(p);
    REQUIRE(y);
    CHECK(strstr(y, "version: 1\n"));
    CHECK(strstr(y, "  - image: \"nginx:1.25\"\n"));
    CHECK(strstr(y, "{exe: \"/usr/sbin/nginx\", name: \"nginx\", parents: [\"containerd-shim\"], count: 1"));
    CHECK(strstr(y, "{path: \"/var/log/nginx/access.log\", count: 1"));
    CHECK(strstr(y, "{proto: tcp, port: 80, count: 1"));
    CHECK(strstr(y, "{dest: \"10.0.0.5\", port: 5432, proto: tcp, count: 1"));
    /* /usr/bin/true ran twice: one entry, counted */
    CHECK(strstr(y, "{exe: \"/usr/bin/true\", name: \"true\", parents: [\"bash\"], count: 2"));
    /* images sorted: host before nginx */
    CHECK(strstr(y, "image: \"host\"") < strstr(y, "image: \"nginx:1.25\""));
    free(y);
    mm_profile_free(p);

    /* --learn-scope container: the host is not recorded */
    mm_profile_opts o = {.containers_only = true};
    CHECK_OK(mm_profile_new(&p, &o));
    feed(p, NULL, workload, &h);
    CHECK_INT(mm_profile_image_count(p), 1);
    CHECK_STR(mm_profile_image_name(p, 0), "nginx:1.25");
    mm_profile_free(p);
}

MM_TEST(image_keys)
{
    static const char *const lines[] = {
        "{\"evt.type\":\"execve\",\"proc.pid\":1,\"proc.name\":\"a\",\"proc.exepath\":\"/a\","
        "\"container.id\":\"aaaaaaaaaaaa\",\"container.image.repository\":\"redis\","
        "\"container.image.tag\":\"7\"}",
        "{\"evt.type\":\"execve\",\"proc.pid\":2,\"proc.name\":\"b\",\"proc.exepath\":\"/b\","
        "\"container.id\":\"bbbbbbbbbbbb\"}",
        NULL,
    };
    mm_profile *p;
    CHECK_OK(mm_profile_new(&p, NULL));
    hits h;
    feed(p, NULL, lines, &h);
    CHECK_INT(mm_profile_entry_count(p, "redis:7", MM_PROF_PROCESS), 1);
    CHECK_INT(mm_profile_entry_count(p, "container:bbbbbbbbbbbb", MM_PROF_PROCESS), 1);
    mm_profile_free(p);
}

MM_TEST(generalisation)
{
    mm_profile_opts o = {.dir_collapse = 3, .net_collapse = 3};
    mm_profile *p;
    CHECK_OK(mm_profile_new(&p, &o));
    char *lines[64];
    size_t n = 0;
    /* 4 files in one dir (> 3): dir/<star> */
    for (int i = 0; i < 4; i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"evt.type\":\"openat\",\"proc.pid\":300,\"evt.arg.name\":"
                 "\"/var/log/app/f%d.log\",\"evt.arg.flags\":\"O_WRONLY|O_CREAT\",\"evt.rawres\":3}", i);
        lines[n++] = strdup(b);
    }
    /* 2 files in another: kept */
    for (int i = 0; i < 2; i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"evt.type\":\"creat\",\"proc.pid\":300,\"evt.arg.name\":"
                 "\"/srv/keep/k%d\",\"evt.rawres\":3}", i);
        lines[n++] = strdup(b);
    }
    /* 4 directories under /data with 4 files each: /data/<star><star> */
    for (int d = 0; d < 4; d++)
        for (int i = 0; i < 4; i++) {
            char b[512];
            snprintf(b, sizeof b, "{\"evt.type\":\"openat\",\"proc.pid\":300,\"evt.arg.name\":"
                     "\"/data/d%d/x%d\",\"evt.arg.flags\":\"O_RDWR\",\"evt.rawres\":3}", d, i);
            lines[n++] = strdup(b);
        }
    /* /proc/<pid> */
    lines[n++] = strdup("{\"evt.type\":\"openat\",\"proc.pid\":300,\"evt.arg.name\":"
                        "\"/proc/4242/oom_score_adj\",\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}");
    lines[n++] = strdup("{\"evt.type\":\"openat\",\"proc.pid\":300,\"evt.arg.name\":"
                        "\"/proc/77/oom_score_adj\",\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}");
    /* a literal with glob characters is escaped */
    lines[n++] = strdup("{\"evt.type\":\"openat\",\"proc.pid\":300,\"evt.arg.name\":"
                        "\"/srv/odd/a*b\",\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}");
    /* 4 hosts of 10.1.2.0/24 on 443: the network; 2 of 10.9.9.0/24: kept */
    for (int i = 0; i < 4; i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"evt.type\":\"connect\",\"proc.pid\":300,\"evt.arg.fd\":9,\"fd.num\":9,"
                 "\"fd.type\":\"ipv4\",\"fd.sip\":\"10.1.2.%d\",\"fd.sport\":443}", 10 + i);
        lines[n++] = strdup(b);
    }
    for (int i = 0; i < 2; i++) {
        char b[512];
        snprintf(b, sizeof b, "{\"evt.type\":\"connect\",\"proc.pid\":300,\"evt.arg.fd\":9,\"fd.num\":9,"
                 "\"fd.type\":\"ipv4\",\"fd.l4proto\":\"udp\",\"fd.sip\":\"10.9.9.%d\",\"fd.sport\":53}", 1 + i);
        lines[n++] = strdup(b);
    }
    lines[n] = NULL;
    hits h;
    feed(p, NULL, (const char *const *)lines, &h);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    char *y = mm_profile_to_yaml(p);
    REQUIRE(y);
    CHECK(strstr(y, "{path: \"/var/log/app/*\", count: 4"));
    CHECK(!strstr(y, "f0.log"));
    CHECK(strstr(y, "{path: \"/srv/keep/k0\""));
    CHECK(strstr(y, "{path: \"/srv/keep/k1\""));
    CHECK(strstr(y, "{path: \"/data/**\", count: 16"));
    CHECK(!strstr(y, "/data/d0"));
    CHECK(strstr(y, "{path: \"/proc/*/oom_score_adj\", count: 2"));
    CHECK(strstr(y, "{path: \"/srv/odd/a\\\\*b\""));
    CHECK(strstr(y, "{dest: \"10.1.2.0/24\", port: 443, proto: tcp, count: 4"));
    CHECK(strstr(y, "{dest: \"10.9.9.1\", port: 53, proto: udp"));
    CHECK(strstr(y, "{dest: \"10.9.9.2\", port: 53, proto: udp"));
    CHECK(strstr(y, "dir_collapse: 3"));

    /* the generalised file enforces what it says */
    mm_profile *lp;
    CHECK_OK(mm_profile_load_string(&lp, "gen.yaml", y, strlen(y)));
    static const char *const probe[] = {
        "{\"evt.type\":\"openat\",\"proc.pid\":301,\"evt.arg.name\":\"/var/log/app/new.log\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",                       /* ok: dir/<star> */
        "{\"evt.type\":\"openat\",\"proc.pid\":301,\"evt.arg.name\":\"/data/d9/deep/x\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",                       /* ok: <star><star> */
        "{\"evt.type\":\"openat\",\"proc.pid\":301,\"evt.arg.name\":\"/proc/1/oom_score_adj\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",                       /* ok */
        "{\"evt.type\":\"connect\",\"proc.pid\":301,\"evt.arg.fd\":9,\"fd.num\":9,\"fd.type\":\"ipv4\","
        "\"fd.sip\":\"10.1.2.200\",\"fd.sport\":443}",                            /* ok: /24 */
        "{\"evt.type\":\"openat\",\"proc.pid\":301,\"evt.arg.name\":\"/var/log/app/sub/x\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",                       /* <star> is one level */
        "{\"evt.type\":\"openat\",\"proc.pid\":301,\"evt.arg.name\":\"/srv/odd/aXb\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",                       /* escaped star */
        "{\"evt.type\":\"openat\",\"proc.pid\":301,\"evt.arg.name\":\"/srv/keep/k2\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",
        "{\"evt.type\":\"connect\",\"proc.pid\":301,\"evt.arg.fd\":9,\"fd.num\":9,\"fd.type\":\"ipv4\","
        "\"fd.l4proto\":\"udp\",\"fd.sip\":\"10.9.9.3\",\"fd.sport\":53}",
        NULL,
    };
    feed(NULL, lp, probe, &h);
    CHECK_INT(h.n, 4);
    CHECK(strstr(h.json[0], "\"profile.deviation\":\"/var/log/app/sub/x\""));
    CHECK(strstr(h.json[1], "\"profile.deviation\":\"/srv/odd/aXb\""));
    CHECK(strstr(h.json[2], "\"profile.deviation\":\"/srv/keep/k2\""));
    CHECK(strstr(h.json[3], "\"profile.deviation\":\"10.9.9.3:53/udp\""));
    mm_profile_free(lp);
    free(y);
    mm_profile_free(p);
}

MM_TEST(yaml_round_trip)
{
    mm_profile *p;
    CHECK_OK(mm_profile_new(&p, NULL));
    hits h;
    feed(p, NULL, workload, &h);
    mm_profile_set_period(p, 1700000000000000000ll, 1700000010000000000ll);
    char *y1 = mm_profile_to_yaml(p);
    REQUIRE(y1);
    CHECK(strstr(y1, "learned:\n  start: \"2023-11-14T22:13:20Z\"\n"));
    CHECK(strstr(y1, "  seconds: 10\n"));
    mm_profile *q;
    CHECK_OK(mm_profile_load_string(&q, "rt.yaml", y1, strlen(y1)));
    REQUIRE(q);
    char *y2 = mm_profile_to_yaml(q);
    CHECK_STR(y2, y1);
    /* the workload conforms to its own profile, learned or loaded */
    feed(NULL, q, workload, &h);
    CHECK_INT(h.n, 0);
    feed(NULL, p, workload, &h);
    CHECK_INT(h.n, 0);
    /* through a file, written atomically */
    char path[512];
    snprintf(path, sizeof path, "%s/profile.yaml", mmt_tmpdir());
    CHECK_OK(mm_profile_write_file(p, path));
    mm_profile *r;
    CHECK_OK(mm_profile_load_file(&r, path));
    char *y3 = r ? mm_profile_to_yaml(r) : NULL;
    CHECK_STR(y3, y1);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(mm_profile_write_file(p, "/nonexistent-dir-mamori/x.yaml") == MM_EIO);
    free(y1);
    free(y2);
    free(y3);
    mm_profile_free(p);
    mm_profile_free(q);
    mm_profile_free(r);
}

static const char *enforce_yaml =
    "# hand-written\n"
    "version: 1\n"
    "priority: NOTICE\n"
    "images:\n"
    "  - image: \"nginx:*\"          # any tag\n"
    "    priority: ERROR\n"
    "    action: {processes: kill, files: none}\n"
    "    processes:\n"
    "      - {exe: /usr/sbin/nginx, name: nginx, parents: [containerd-shim]}\n"
    "      - {exe: \"/usr/bin/*\", name: \"t?ue\"}\n"
    "    files:\n"
    "      - path: /var/log/nginx/*\n"
    "      - path: /tmp/**\n"
    "    listen:\n"
    "      - {proto: tcp, port: 80}\n"
    "      - {proto: any, port: 8000-8010}\n"
    "    connect:\n"
    "      - {dest: 10.0.0.0/8, port: 5432, proto: tcp}\n"
    "      - {dest: \"::1\", port: \"*\"}\n"
    "  - image: redis:7\n"
    "    processes: []\n"           /* nothing allowed */
    "    # files absent: not checked\n";

MM_TEST(deviation_decisions)
{
    mm_profile *p;
    CHECK_OK(mm_profile_load_string(&p, "enforce.yaml", enforce_yaml, strlen(enforce_yaml)));
    REQUIRE(p);
    hits h;
    feed(NULL, p, workload, &h);
    CHECK_INT(h.n, 0);   /* conforming (and the host is not profiled) */

    static const char *const dev[] = {
        /* nginx as profiled (no alert) */
        "{\"evt.type\":\"execve\",\"proc.pid\":100,\"proc.ppid\":1,\"proc.name\":\"nginx\","
        "\"proc.exepath\":\"/usr/sbin/nginx\",\"proc.ancestors\":[{\"pid\":1,\"name\":\"containerd-shim\"}],"
        NGINX "}",
        /* nginx spawns a shell: process deviation, killed */
        "{\"evt.type\":\"execve\",\"proc.pid\":101,\"proc.ppid\":100,\"proc.name\":\"sh\","
        "\"proc.exepath\":\"/bin/sh\",\"proc.cmdline\":\"sh -c id\"," NGINX "}",
        /* the same deviation again from the same process: one alert */
        "{\"evt.type\":\"execve\",\"proc.pid\":101,\"proc.ppid\":100,\"proc.name\":\"sh\","
        "\"proc.exepath\":\"/bin/sh\"," NGINX "}",
        /* nginx with another parent */
        "{\"evt.type\":\"execve\",\"proc.pid\":102,\"proc.ppid\":101,\"proc.name\":\"nginx\","
        "\"proc.exepath\":\"/usr/sbin/nginx\"," NGINX "}",
        /* allowed: a glob exe and name */
        "{\"evt.type\":\"execve\",\"proc.pid\":103,\"proc.ppid\":100,\"proc.name\":\"true\","
        "\"proc.exepath\":\"/usr/bin/true\"," NGINX "}",
        /* a write below /etc */
        "{\"evt.type\":\"openat\",\"proc.pid\":100,\"evt.arg.name\":\"/etc/passwd\","
        "\"evt.arg.flags\":\"O_WRONLY|O_APPEND\",\"evt.rawres\":9," NGINX "}",
        /* allowed writes: /tmp tree, a rename into it */
        "{\"evt.type\":\"openat\",\"proc.pid\":100,\"evt.arg.name\":\"/tmp/a/b/c\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":10," NGINX "}",
        "{\"evt.type\":\"rename\",\"proc.pid\":100,\"evt.arg.oldpath\":\"/etc/x\","
        "\"evt.arg.newpath\":\"/tmp/y\"," NGINX "}",
        /* an unlink outside */
        "{\"evt.type\":\"unlink\",\"proc.pid\":100,\"evt.arg.pathname\":\"/usr/lib/x.so\"," NGINX "}",
        /* listening: 8005 allowed (range), 4444 not */
        "{\"evt.type\":\"listen\",\"proc.pid\":100,\"evt.arg.fd\":11,\"fd.num\":11,\"fd.type\":\"ipv4\","
        "\"fd.sip\":\"0.0.0.0\",\"fd.sport\":8005," NGINX "}",
        "{\"evt.type\":\"listen\",\"proc.pid\":100,\"evt.arg.fd\":12,\"fd.num\":12,\"fd.type\":\"ipv4\","
        "\"fd.sip\":\"0.0.0.0\",\"fd.sport\":4444," NGINX "}",
        /* connect: 10.2.3.4:5432 allowed, 203.0.113.10:4444 not, ::1 any port */
        "{\"evt.type\":\"connect\",\"proc.pid\":100,\"evt.arg.fd\":13,\"fd.num\":13,\"fd.type\":\"ipv4\","
        "\"fd.sip\":\"10.2.3.4\",\"fd.sport\":5432," NGINX "}",
        "{\"evt.type\":\"connect\",\"proc.pid\":100,\"evt.arg.fd\":14,\"fd.num\":14,\"fd.type\":\"ipv4\","
        "\"fd.sip\":\"203.0.113.10\",\"fd.sport\":4444," NGINX "}",
        "{\"evt.type\":\"connect\",\"proc.pid\":100,\"evt.arg.fd\":15,\"fd.num\":15,\"fd.type\":\"ipv6\","
        "\"fd.sip\":\"::1\",\"fd.sport\":9999," NGINX "}",
        /* redis: any process deviates; its files are not checked */
        "{\"evt.type\":\"execve\",\"proc.pid\":500,\"proc.name\":\"redis-server\","
        "\"proc.exepath\":\"/usr/bin/redis-server\",\"container.id\":\"cccccccccccc\","
        "\"container.image\":\"redis:7\"}",
        "{\"evt.type\":\"openat\",\"proc.pid\":500,\"evt.arg.name\":\"/etc/shadow\","
        "\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}",
        NULL,
    };
    feed(NULL, p, dev, &h);
    REQUIRE(h.n == 7);
    CHECK_STR(h.rule[0], "Profile deviation: unexpected process");
    CHECK(strstr(h.json[0], "\"priority\":\"Error\""));
    CHECK(strstr(h.json[0], "\"profile.deviation\":\"/bin/sh\""));
    CHECK(strstr(h.json[0], "\"profile.image\":\"nginx:1.25\""));
    CHECK(strstr(h.json[0], "\"container.id\":\"0123456789ab\""));
    CHECK(strstr(h.json[0], "\"proc.pname\":\"nginx\""));
    CHECK(strstr(h.json[0], "\"proc.pid\":101"));
    CHECK(strstr(h.json[0], "\"action\":\"kill\""));
    CHECK(strstr(h.json[0], "\"output\":\"Unexpected process /bin/sh for image nginx:1.25 ("));
    CHECK_INT(h.action[0], MM_ACTION_KILL);
    CHECK_STR(h.rule[1], "Profile deviation: unexpected process");
    CHECK(strstr(h.json[1], "\"proc.pname\":\"sh\""));
    CHECK_STR(h.rule[2], "Profile deviation: unexpected file write");
    CHECK(strstr(h.json[2], "\"profile.deviation\":\"/etc/passwd\""));
    CHECK(strstr(h.json[2], "\"fd.name\":\"/etc/passwd\""));
    CHECK_INT(h.action[2], MM_ACTION_NONE);
    CHECK(!strstr(h.json[2], "\"action\""));
    CHECK(strstr(h.json[3], "\"profile.deviation\":\"/usr/lib/x.so\""));
    CHECK_STR(h.rule[4], "Profile deviation: unexpected listening port");
    CHECK(strstr(h.json[4], "\"profile.deviation\":\"tcp/4444\""));
    CHECK_STR(h.rule[5], "Profile deviation: unexpected outbound connection");
    CHECK(strstr(h.json[5], "\"profile.deviation\":\"203.0.113.10:4444/tcp\""));
    CHECK(strstr(h.json[5], "\"tags\":[\"mamori_profile\",\"network\"]"));
    CHECK(strstr(h.json[6], "\"profile.image\":\"redis:7\""));
    CHECK(strstr(h.json[6], "\"priority\":\"Notice\""));   /* the file's default */
    mm_profile_free(p);
}

MM_TEST(malformed_profiles)
{
    static const struct { const char *yaml, *want; int code; } cases[] = {
        {"images: []\n", "bad.yaml:1: key 'version': missing", MM_EFORMAT},
        {"version: 2\n", "bad.yaml:1: key 'version': unsupported profile version 2", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    listen:\n      - {proto: tcp, port: 70000}\n",
         "bad.yaml:5: key 'port'", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    proceses: []\n",
         "bad.yaml:4: key 'proceses': unknown key in an image", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    action: explode\n",
         "bad.yaml:4: key 'action': unknown action 'explode'", MM_EFORMAT},
        {"version: 1\npriority: LOUD\n", "bad.yaml:2: key 'priority': unknown priority 'LOUD'",
         MM_EFORMAT},
        {"version: 1\nversion: 1\n", "bad.yaml:2: key 'version': duplicate key", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    connect:\n      - {dest: 10.0.0.0/33, port: 1}\n",
         "bad.yaml:5: key 'dest': prefix length", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    connect:\n      - {dest: nowhere}\n",
         "bad.yaml:5: key 'dest': 'nowhere' is not an IP", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    files:\n      - {path: relative/x}\n",
         "bad.yaml:5: key 'path'", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    files:\n      - {count: 3}\n",
         "bad.yaml:5: key 'files': an entry needs path", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    files:\n      - /etc\n",
         "bad.yaml:5: key 'files': expected a mapping", MM_EFORMAT},
        {"version: 1\nimages:\n  - priority: INFO\n", "bad.yaml:3: key 'image'", MM_EFORMAT},
        {"version: 1\nimages: {a: 1}\n", "bad.yaml:2: key 'images': expected a list", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n    processes:\n      - {exe: /a, first_seen: yesterday}\n",
         "bad.yaml:5: key 'first_seen': not an RFC 3339", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: x\n  bad indent: [\n", "bad.yaml:", MM_EFORMAT},
        {"", "bad.yaml:1: key '(top)': empty profile", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: a\n  - image: b\n  - image: a\n",
         "bad.yaml:5: key 'image': 'a' is listed twice", MM_EFORMAT},
        {"version: 1\nimages:\n  - image: a\n    processes:\n      - {exe: /a, color: red}\n",
         "bad.yaml:5: key 'color': unknown key in a processes entry", MM_EFORMAT},
        {"- a\n- b\n", "bad.yaml:1: key '(top)': expected a mapping", MM_EFORMAT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_profile *p = (mm_profile *)1;
        int rc = mm_profile_load_string(&p, "bad.yaml", cases[i].yaml, strlen(cases[i].yaml));
        if (rc != cases[i].code || !strstr(mm_error_last(), cases[i].want)) {
            fprintf(stderr, "case %zu: rc %d, message \"%s\", wanted \"%s\"\n", i, rc,
                    mm_error_last(), cases[i].want);
            mmt_failed_now = 1;
        }
        CHECK(p == NULL);
    }
    /* caps: more than 4096 images */
    size_t cap = 4200 * 24 + 64, len = 0;
    char *big = malloc(cap);
    REQUIRE(big);
    len += (size_t)snprintf(big + len, cap - len, "version: 1\nimages:\n");
    for (int i = 0; i < 4200; i++)
        len += (size_t)snprintf(big + len, cap - len, "  - image: i%d\n", i);
    mm_profile *p;
    CHECK(mm_profile_load_string(&p, "big.yaml", big, len) == MM_ELIMIT);
    CHECK(strstr(mm_error_last(), "big.yaml:4099: key 'images': more than 4096 images"));
    free(big);
}

/* Bytes a sensor may report that YAML cannot carry raw: control and C1
 * characters are escaped and read back exactly; a byte that is not UTF-8
 * still gives a loadable file (that entry then reports, never matches). */
MM_TEST(odd_bytes_round_trip)
{
    static const char *const exes[] = {"/x/a\x01\xc2\x85" "b\"\\*\xe2\x80\xa8", "/x/\xff\xfe"};
    for (int i = 0; i < 2; i++) {
        mm_profile *p;
        CHECK_OK(mm_profile_new(&p, NULL));
        mm_proc *pr;
        mm_proc_new(&pr, 4242);
        mm_proc_set(&pr->exepath, exes[i]);
        mm_proc_set(&pr->comm, "odd");
        mm_event ev = {.type = MM_EVT_EXECVE, .pid = 4242, .proc = pr, .ts = 1};
        CHECK_INT(mm_profile_learn(p, &ev), 1);
        char *y = mm_profile_to_yaml(p);
        mm_profile *q = NULL;
        CHECK_OK(mm_profile_load_string(&q, "odd.yaml", y, strlen(y)));
        hits h = {0};
        if (q)
            mm_profile_check(q, &ev, on_alert, &h);
        CHECK_INT(h.n, i == 0 ? 0 : 1);
        free(y);
        mm_profile_free(q);
        mm_profile_free(p);
        mm_proc_unref(pr);
    }
}

MM_TEST(glob_semantics)
{
    static const char *yaml =
        "version: 1\nimages:\n  - image: host\n    files:\n"
        "      - path: /a/**/x.log\n      - path: /b/*/y\n      - path: /c/f?.txt\n"
        "      - path: \"/d/\\\\*\"\n";
    mm_profile *p;
    CHECK_OK(mm_profile_load_string(&p, "g.yaml", yaml, strlen(yaml)));
    REQUIRE(p);
    static const struct { const char *path; int dev; } cases[] = {
        {"/a/b/c/x.log", 0}, {"/a/b/x.log", 0}, {"/a/x.log", 1}, {"/a/b/x.log.1", 1},
        {"/b/q/y", 0}, {"/b/q/r/y", 1}, {"/b/y", 1},
        {"/c/f1.txt", 0}, {"/c/f12.txt", 1}, {"/c/f/.txt", 1},
        {"/d/*", 0}, {"/d/x", 1},
    };
    mm_replay *rp;
    REQUIRE(mm_replay_new_mem(&rp) == 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char line[512];
        snprintf(line, sizeof line, "{\"evt.type\":\"openat\",\"proc.pid\":%zu,\"evt.arg.name\":"
                 "\"%s\",\"evt.arg.flags\":\"O_WRONLY\",\"evt.rawres\":3}", 10 + i, cases[i].path);
        const mm_event *ev;
        REQUIRE(mm_replay_parse(rp, line, strlen(line), &ev) == 1);
        int n = mm_profile_check(p, ev, NULL, NULL);
        if (n != cases[i].dev) {
            fprintf(stderr, "%s: %d deviations, want %d\n", cases[i].path, n, cases[i].dev);
            mmt_failed_now = 1;
        }
    }
    mm_replay_free(rp);
    mm_profile_free(p);
}

/* Issue 20a: the document mamori server stores is the file as JSON, and
 * the loader reads that JSON back to the same profile: entries, escaped
 * globs, odd bytes and the check decisions survive; a bad file is refused
 * with the loader's message before anything is written. */
MM_TEST(json_round_trip)
{
    static const char *yaml =
        "version: 1\nlearned: {start: \"2024-06-01T10:00:00Z\", end: \"2024-06-01T11:00:00Z\"}\n"
        "priority: Error\naction: {processes: kill}\nimages:\n"
        "  - image: \"shop/api:1.4\"\n    processes:\n"
        "      - {exe: \"/app/a\\x01b\", name: \"yes\", parents: [\"tini\"], count: 3}\n"
        "    files:\n      - path: \"/d/\\\\*\"\n      - path: /tmp/**\n"
        "    listen:\n      - {proto: tcp, port: 8080}\n      - {port: \"9000-9010\"}\n"
        "    connect:\n      - {dest: 10.1.2.0/24, port: 443, proto: tcp}\n"
        "  - image: host\n    files: []\n";
    char *json = NULL;
    CHECK_OK(mm_profile_doc_json(&json, "p.yaml", yaml, strlen(yaml)));
    REQUIRE(json);
    CHECK(json[0] == '{' && !strchr(json, '\n'));
    mm_profile *a = NULL, *b = NULL;
    CHECK_OK(mm_profile_load_string(&a, "p.yaml", yaml, strlen(yaml)));
    CHECK_OK(mm_profile_load_string(&b, "p.json", json, strlen(json)));
    REQUIRE(a && b);
    CHECK_INT(mm_profile_image_count(b), 2);
    for (int c = 0; c < MM_PROF__COUNT; c++) {
        CHECK_INT(mm_profile_entry_count(b, "shop/api:1.4", (mm_profile_cat)c),
                  mm_profile_entry_count(a, "shop/api:1.4", (mm_profile_cat)c));
        CHECK_INT(mm_profile_entry_count(b, "host", (mm_profile_cat)c), 0);
    }
    /* the same decisions: the escaped glob matches only itself; kill kept */
    static const char *const lines[] = {
        "{\"evt.type\":\"openat\",\"proc.pid\":10,\"evt.arg.name\":\"/d/*\",\"evt.arg.flags\":\"O_WRONLY\","
        "\"evt.rawres\":3," "\"container.id\":\"0123456789ab\",\"container.image\":\"shop/api:1.4\"}",
        "{\"evt.type\":\"openat\",\"proc.pid\":10,\"evt.arg.name\":\"/d/x\",\"evt.arg.flags\":\"O_WRONLY\","
        "\"evt.rawres\":3," "\"container.id\":\"0123456789ab\",\"container.image\":\"shop/api:1.4\"}",
        "{\"evt.type\":\"execve\",\"proc.pid\":11,\"proc.name\":\"sh\",\"proc.exepath\":\"/bin/sh\","
        "\"container.id\":\"0123456789ab\",\"container.image\":\"shop/api:1.4\"}",
        NULL};
    hits ha, hb;
    feed(NULL, a, lines, &ha);
    feed(NULL, b, lines, &hb);
    CHECK_INT(hb.n, ha.n);
    CHECK_INT(hb.n, 2);
    CHECK(!strcmp(hb.rule[1], "Profile deviation: unexpected process"));
    CHECK_INT(hb.action[1], MM_ACTION_KILL);
    mm_profile_free(a);
    mm_profile_free(b);
    free(json);
    static const char *bad = "version: 1\nimages:\n  - image: x\n    listen:\n      - {port: 99999}\n";
    CHECK(mm_profile_doc_json(&json, "bad.yaml", bad, strlen(bad)) == MM_EFORMAT);
    CHECK(json == NULL);
    CHECK(strstr(mm_error_last(), "bad.yaml:5: key 'port'"));
}

MM_TEST_MAIN
