/*
 * test_policy.c - the build/deploy gate: policy files (every malformed case
 * names its line and key) and decisions against real stored scans.  Images
 * are small docker-archives built here (a config with the user, creation
 * time and repository tags under test), scanned with mm_scan and recorded
 * in a private store; findings of each kind are added to the scanned
 * result before it is stored, so each rule meets the real report format.
 * The cached fixture image, when present, is checked end to end too.
 * Signature rules on registry images need a registry: they are covered by
 * tests/integration/test_registry.py.
 */
#include <archive.h>
#include <archive_entry.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mamori/mamori.h"
#include "mamori/policy.h"
#include "mamori/store.h"
#include "util/util.h"
#include "mmtest.h"

/* 2026-01-01T00:00:00Z */
#define T0 1767225600LL
#define DAY 86400LL

static const char pubkey_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEgtYPJkscPx+4kzHVjbga2aVxM17+\n"
    "dSzccqjHt+B6s1F/3Ljd6Y7ihp9F8qTYVcWbO22mq2NkvSm8C4OxF79nNA==\n"
    "-----END PUBLIC KEY-----\n";

/* --- images ------------------------------------------------------------------ */
static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void tar_add(struct archive *a, const char *name, const void *data, size_t len)
{
    struct archive_entry *e = archive_entry_new();
    archive_entry_set_pathname(e, name);
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, (la_int64_t)len);
    archive_write_header(a, e);
    if (len)
        archive_write_data(a, data, len);
    archive_entry_free(e);
}

/* A docker-archive of one layer (an os-release file) at dir/fname.  user
 * and created may be NULL (absent from the config); tags is a JSON array
 * (the RepoTags).  Returns the path (static buffer). */
static const char *make_archive(const char *dir, const char *fname, const char *user,
                                const char *created, const char *tags)
{
    static char path[4096];
    size_t cap = 64 * 1024, lused = 0, oused = 0;
    char *layer = calloc(1, cap), *outer = calloc(1, 4 * cap);
    struct archive *a = archive_write_new();
    archive_write_set_format_ustar(a);
    archive_write_open_memory(a, layer, cap, &lused);
    const char *osr = "ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian 12\"\n";
    tar_add(a, "etc/os-release", osr, strlen(osr));
    archive_write_close(a);
    archive_write_free(a);

    char diff_id[72];
    mm_sha256_hex(layer, lused, diff_id);
    json_t *c = json_pack("{s:s, s:s}", "architecture", "amd64", "os", "linux");
    if (created)
        json_object_set_new(c, "created", json_string(created));
    json_t *cfg = json_object();
    if (user)
        json_object_set_new(cfg, "User", json_string(user));
    json_object_set_new(c, "config", cfg);
    json_object_set_new(c, "rootfs", json_pack("{s:s, s:[s]}", "type", "layers",
                                               "diff_ids", diff_id));
    json_object_set_new(c, "history", json_pack("[{s:s}]", "created_by", "COPY . /"));
    char *config = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    char *manifest = mm_xasprintf("[{\"Config\":\"config.json\",\"RepoTags\":%s,"
                                  "\"Layers\":[\"layer/layer.tar\"]}]", tags);

    a = archive_write_new();
    archive_write_set_format_ustar(a);
    archive_write_open_memory(a, outer, 4 * cap, &oused);
    tar_add(a, "config.json", config, strlen(config));
    tar_add(a, "layer/layer.tar", layer, lused);
    tar_add(a, "manifest.json", manifest, strlen(manifest));
    archive_write_close(a);
    archive_write_free(a);
    snprintf(path, sizeof path, "%s/%s", dir, fname);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(outer, 1, oused, f);
        fclose(f);
    }
    free(config);
    free(manifest);
    free(layer);
    free(outer);
    return path;
}

static mm_result *scan(const char *input, unsigned scanners)
{
    mm_scan_opts o;
    mm_scan_opts_init(&o);
    o.scanners = scanners;
    mm_result *r = NULL;
    if (mm_scan(&r, MM_TARGET_IMAGE, input, &o) < 0) {
        fprintf(stderr, "scan %s: %s\n", input, mm_error_last());
        return NULL;
    }
    return r;
}

static void add_finding(mm_result *r, const char *id, mm_finding_kind kind,
                        mm_severity sev, const char *package, const char *path,
                        const char *remediation)
{
    mm_finding f;
    memset(&f, 0, sizeof f);
    f.id = (char *)id;
    f.kind = kind;
    f.severity = sev;
    f.title = (char *)"test finding";
    f.loc.layer = -1;
    f.loc.package = (char *)package;
    f.loc.path = (char *)path;
    f.remediation = (char *)remediation;
    f.section = (char *)"3.1.1";
    mm_findings_add(mm_result_findings(r), &f);
}

/* --- policies and decisions ---------------------------------------------------- */
static mm_policy *policy(const char *yaml)
{
    mm_policy *p = NULL;
    if (mm_policy_load_mem(&p, yaml, strlen(yaml), "test.yaml") < 0)
        fprintf(stderr, "policy: %s\n", mm_error_last());
    return p;
}

static mm_policy_decision *check(const char *yaml, const char *image, mm_store *st,
                                 int64_t now)
{
    mm_policy *p = policy(yaml);
    if (!p)
        return NULL;
    mm_policy_env env = {.store = st, .now = now};
    mm_policy_decision *d = NULL;
    if (mm_policy_check(&d, p, image, &env) < 0)
        fprintf(stderr, "check: %s\n", mm_error_last());
    mm_policy_free(p);
    return d;
}

static const mm_policy_reason *find(const mm_policy_decision *d, const char *rule)
{
    for (size_t i = 0; d && i < d->nreasons; i++)
        if (!strcmp(d->reasons[i].rule, rule))
            return &d->reasons[i];
    return NULL;
}

/* The reason of rule: present, deny as expected, message as expected. */
#define CHECK_REASON(d, rule, want_deny, want_msg) do {                          \
        const mm_policy_reason *_r = find((d), (rule));                          \
        if (!_r) { fprintf(stderr, "%s:%d: no reason for %s\n", __FILE__,      \
                           __LINE__, (rule)); mmt_failed_now = 1; break; }       \
        CHECK_INT(_r->deny, (want_deny));                                        \
        CHECK_STR(_r->message, (want_msg));                                      \
    } while (0)

static mm_store *new_store(const char *dir)
{
    char *p = mm_xasprintf("%s/store/mamori.db", dir);
    mm_store *st = NULL;
    if (mm_store_open(&st, p) < 0)
        fprintf(stderr, "store: %s\n", mm_error_last());
    free(p);
    return st;
}

/* ===== parsing ===================================================================== */
MM_TEST(policy_parse_valid)
{
    const char *dir = mmt_tmpdir();
    char *kd = mm_xasprintf("%s/keys", dir), *kp = mm_xasprintf("%s/keys/release.pub", dir);
    mkdir(kd, 0755);
    write_file(kp, pubkey_pem);
    char *pp = mm_xasprintf("%s/policy.yaml", dir);
    write_file(pp,
               "# a full policy\n"
               "version: 1\n"
               "registries:\n"
               "  allow: [registry.example.com, \"*.corp.example\"]\n"
               "  deny: docker.io\n"
               "repositories:\n"
               "  allow: [\"registry.example.com/team/*\"]\n"
               "  deny: [\"*/experimental/*\"]\n"
               "signatures:\n"
               "  keys: [keys/release.pub]\n"
               "  mode: all\n"
               "require_digest: false\n"
               "deny_latest: true\n"
               "vulnerabilities:\n"
               "  max_severity: medium\n"
               "  fixable_only: true\n"
               "  ignore: [CVE-2024-0001]\n"
               "secrets:\n"
               "  max_severity: none\n"
               "malware:\n"
               "  max_severity: LOW\n"
               "deny_root_user: True\n"
               "deny_remote_shells: true\n"
               "deny_insecure_registry: false\n"
               "max_image_age_days: 90\n"
               "max_scan_age_days: 0\n");
    mm_policy *p = NULL;
    CHECK_OK(mm_policy_load(&p, pp));
    CHECK(p != NULL);
    mm_policy_free(p);

    /* the smallest policy */
    p = policy("version: 1\n");
    CHECK(p != NULL);
    mm_policy_free(p);
    mm_policy_free(NULL);
    free(kd);
    free(kp);
    free(pp);
}

/* The sample shipped in data/ is a valid policy. */
MM_TEST(policy_shipped_example)
{
    const char *root = getenv("MAMORI_SOURCE");
    if (!root)
        MMT_SKIP("MAMORI_SOURCE not set (run through meson test)");
    char *path = mm_xasprintf("%s/data/policy-example.yaml", root);
    mm_policy *p = NULL;
    CHECK_OK(mm_policy_load(&p, path));
    CHECK(p != NULL);
    mm_policy_free(p);
    free(path);
}

/* Each malformed policy, the exact message (file, line, key). */
MM_TEST(policy_parse_errors)
{
    static const struct { const char *yaml, *msg; } cases[] = {
        {"", "test.yaml:1:1: the policy is empty (it needs at least \"version: 1\")"},
        {"# only a comment\n", "test.yaml:1:1: the policy is empty (it needs at least \"version: 1\")"},
        {"deny_root_user: true\n", "test.yaml:1:1: missing key \"version\" (write \"version: 1\")"},
        {"version: 2\n", "test.yaml:1:1: version: expected 1 (the only policy version), got \"2\""},
        {"version: \"1\"\n", "test.yaml:1:1: version: expected 1 (the only policy version), got \"1\""},
        {"- version: 1\n", "test.yaml:1:1: the policy must be a mapping of keys (key: value)"},
        {"version: 1\ndeny_root_user: true\ndeny_lates: true\n",
         "test.yaml:3:1: unknown key \"deny_lates\" (expected one of: version, registries, "
         "repositories, signatures, require_digest, deny_latest, vulnerabilities, secrets, "
         "malware, deny_root_user, deny_remote_shells, deny_insecure_registry, "
         "max_image_age_days, max_scan_age_days)"},
        {"version: 1\nregistries:\n  alow: [a]\n",
         "test.yaml:3:3: registries: unknown key \"alow\" (expected one of: allow, deny)"},
        {"version: 1\ndeny_latest: true\ndeny_latest: false\n",
         "test.yaml:3:1: duplicate key \"deny_latest\""},
        {"version: 1\ndeny_remote_shells: yes\n",
         "test.yaml:2:1: deny_remote_shells: expected true or false, got \"yes\""},
        {"version: 1\nmalware:\n  max_severity: high\n  deny: true\n",
         "test.yaml:4:3: malware: unknown key \"deny\" (expected one of: max_severity)"},
        {"version: 1\nmalware: {}\n", "test.yaml:2:1: malware: missing key \"max_severity\""},
        {"version: 1\ndeny_root_user: \"true\"\n",
         "test.yaml:2:1: deny_root_user: expected true or false"},
        {"version: 1\nvulnerabilities:\n  max_severity: SEVERE\n",
         "test.yaml:3:3: vulnerabilities.max_severity: expected none, LOW, MEDIUM, HIGH or "
         "CRITICAL, got \"SEVERE\""},
        {"version: 1\nvulnerabilities:\n  max_severity: unknown\n",
         "test.yaml:3:3: vulnerabilities.max_severity: expected none, LOW, MEDIUM, HIGH or "
         "CRITICAL, got \"unknown\""},
        {"version: 1\nvulnerabilities:\n  fixable_only: true\n",
         "test.yaml:2:1: vulnerabilities: missing key \"max_severity\""},
        {"version: 1\nsecrets: {}\n", "test.yaml:2:1: secrets: missing key \"max_severity\""},
        {"version: 1\nsecrets: none\n", "test.yaml:2:1: secrets: expected a mapping of keys"},
        {"version: 1\nmax_image_age_days: -1\n",
         "test.yaml:2:1: max_image_age_days: expected a whole number of days (0 to 100000), "
         "got \"-1\""},
        {"version: 1\nmax_scan_age_days: 1000000\n",
         "test.yaml:2:1: max_scan_age_days: expected a whole number of days (0 to 100000), "
         "got \"1000000\""},
        {"version: 1\nmax_scan_age_days: 200000\n",
         "test.yaml:2:1: max_scan_age_days: 200000 days is over the limit of 100000"},
        {"version: 1\nregistries:\n  allow: []\n",
         "test.yaml:3:3: registries.allow: an empty allow list would deny every image; remove "
         "the key to allow any"},
        {"version: 1\nrepositories:\n  deny: [ok, [nested]]\n",
         "test.yaml:3:14: repositories.deny[1]: expected a string"},
        {"version: 1\nrepositories:\n  deny:\n    - ok\n    - \"\"\n",
         "test.yaml:5:7: repositories.deny[1]: empty string"},
        {"version: 1\nregistries:\n  deny: {a: b}\n",
         "test.yaml:3:3: registries.deny: expected a list of strings"},
        {"version: 1\nsignatures:\n  mode: any\n",
         "test.yaml:2:1: signatures: missing key \"keys\" (paths of PEM public keys)"},
        {"version: 1\nsignatures:\n  keys: []\n", "test.yaml:3:3: signatures.keys: the list is empty"},
        {"version: 1\nsignatures:\n  mode: some\n  keys: [k.pub]\n",
         "test.yaml:3:3: signatures.mode: expected any or all, got \"some\""},
        {"version: 1\nsignatures:\n  keys:\n    - /nonexistent/k.pub\n",
         "test.yaml:4:7: signatures.keys[0]: /nonexistent/k.pub: not a readable key file"},
        {"version: 1\nsignatures:\n  keys: [/dev/null]\n",
         "test.yaml:3:10: signatures.keys[0]: /dev/null: not a readable key file"},
        {"version: 1\nregistries: [a\n", NULL /* YAML syntax error: checked below */},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mm_policy *p = NULL;
        int rc = mm_policy_load_mem(&p, cases[i].yaml, strlen(cases[i].yaml), "test.yaml");
        CHECK_INT(rc, MM_EFORMAT);
        CHECK(p == NULL);
        if (cases[i].msg && strcmp(mm_error_last(), cases[i].msg) != 0) {
            fprintf(stderr, "case %zu: got      \"%s\"\n         expected \"%s\"\n", i,
                    mm_error_last(), cases[i].msg);
            mmt_failed_now = 1;
        }
        if (!cases[i].msg)
            CHECK(strstr(mm_error_last(), "test.yaml:3:1: ") == mm_error_last());
        mm_policy_free(p);
    }
    /* a key file that is not a key: the trust module's reason, with the line */
    const char *dir = mmt_tmpdir();
    char *kp = mm_xasprintf("%s/bad.pub", dir);
    write_file(kp, "not a key\n");
    char *y = mm_xasprintf("version: 1\nsignatures:\n  keys: [%s]\n", kp);
    mm_policy *p = NULL;
    CHECK(mm_policy_load_mem(&p, y, strlen(y), "test.yaml") < 0);
    CHECK(strncmp(mm_error_last(), "test.yaml:3:10: signatures.keys[0]: ", 36) == 0);
    free(y);
    free(kp);
    /* a file too big, and a file that is absent */
    CHECK_INT(mm_policy_load(&p, "/nonexistent/policy.yaml"), MM_ENOTFOUND);
    size_t big = (1u << 20) + 1;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    CHECK_INT(mm_policy_load_mem(&p, huge, big, "big.yaml"), MM_ELIMIT);
    free(huge);
}

/* Key paths are relative to the policy file, not to the working folder. */
MM_TEST(policy_key_paths_relative)
{
    const char *dir = mmt_tmpdir();
    char *sub = mm_xasprintf("%s/conf", dir), *kd = mm_xasprintf("%s/conf/keys", dir);
    mkdir(sub, 0755);
    mkdir(kd, 0755);
    char *kp = mm_xasprintf("%s/release.pub", kd), *pp = mm_xasprintf("%s/p.yaml", sub);
    write_file(kp, pubkey_pem);
    write_file(pp, "version: 1\nsignatures:\n  keys: keys/release.pub\n");
    mm_policy *p = NULL;
    CHECK_OK(mm_policy_load(&p, pp));
    mm_policy_free(p);
    /* the same text read as a policy in another folder finds no key */
    const char *y = "version: 1\nsignatures:\n  keys: keys/release.pub\n";
    CHECK_INT(mm_policy_load_mem(&p, y, strlen(y), "/nonexistent/p.yaml"), MM_EFORMAT);
    CHECK_STR(mm_error_last(), "/nonexistent/p.yaml:3:3: signatures.keys[0]: "
                               "/nonexistent/keys/release.pub: not a readable key file");
    free(sub);
    free(kd);
    free(kp);
    free(pp);
}

/* ===== decisions ===================================================================== */
MM_TEST(policy_never_scanned)
{
    const char *dir = mmt_tmpdir();
    const char *img = make_archive(dir, "app.tar", "1000", "2026-01-01T00:00:00Z",
                                   "[\"registry.example.com/team/app:1.0\"]");
    mm_store *st = new_store(dir);
    REQUIRE(st);
    mm_policy_decision *d = check("version: 1\nvulnerabilities:\n  max_severity: HIGH\n"
                                  "deny_root_user: true\n", img, st, T0 + DAY);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_STR(d->image, img);
    CHECK(d->reference == NULL);
    CHECK(mm_digest_valid(d->digest));
    CHECK_INT(d->scanned_at, 0);
    CHECK(d->db_version == NULL);
    /* the rules that need a scan are named, not evaluated */
    char *want = mm_xasprintf("never scanned: no scan of %s in the store; run "
                              "\"mamori image --input %s\" first (not checked without a "
                              "scan: vulnerabilities.max_severity)", d->digest, img);
    CHECK_REASON(d, "scan", true, want);
    free(want);
    CHECK(find(d, "vulnerabilities.max_severity") == NULL);
    /* config rules still run: the config is read from the archive */
    CHECK_REASON(d, "deny_root_user", false, "runs as \"1000\"");
    CHECK_INT(d->nreasons, 2);
    mm_policy_decision_free(d);
    d = check("version: 1\n", img, st, T0 + DAY);
    REQUIRE(d);
    want = mm_xasprintf("never scanned: no scan of %s in the store; run "
                        "\"mamori image --input %s\" first", d->digest, img);
    CHECK_REASON(d, "scan", true, want);
    free(want);
    mm_policy_decision_free(d);

    /* once scanned, the same image (same key) is found */
    mm_result *r = scan(img, 0);
    REQUIRE(r);
    CHECK_OK(mm_store_put_scan(st, r, "db-1"));
    d = check("version: 1\n", img, st, T0 + DAY);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_STR(d->digest, mm_result_key(r));
    CHECK_STR(d->db_version, "db-1");
    CHECK(d->scanned_at > 0);
    CHECK_INT(d->nreasons, 1);
    CHECK(find(d, "scan") && !find(d, "scan")->deny);
    mm_policy_decision_free(d);
    mm_result_free(r);
    mm_store_close(st);
}

MM_TEST(policy_vulnerabilities)
{
    const char *dir = mmt_tmpdir();
    const char *img = make_archive(dir, "app.tar", "app", "2026-01-01T00:00:00Z", "[]");
    mm_store *st = new_store(dir);
    REQUIRE(st);
    mm_result *r = scan(img, 0);
    REQUIRE(r);
    add_finding(r, "CVE-2024-0001", MM_FIND_VULNERABILITY, MM_SEV_HIGH, "openssl@3.0.1",
                NULL, "upgrade openssl to 3.0.2");
    add_finding(r, "CVE-2024-0002", MM_FIND_VULNERABILITY, MM_SEV_CRITICAL, "zlib@1.2",
                NULL, NULL);
    add_finding(r, "CVE-2024-0003", MM_FIND_VULNERABILITY, MM_SEV_LOW, "bash@5.2", NULL,
                "upgrade bash to 5.3");
    add_finding(r, "CVE-2024-0004", MM_FIND_VULNERABILITY, MM_SEV_UNKNOWN, "tar@1.3", NULL,
                NULL);
    CHECK_OK(mm_store_put_scan(st, r, "db-2026-01-01"));

    mm_policy_decision *d = check("version: 1\nvulnerabilities:\n  max_severity: MEDIUM\n",
                                  img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "vulnerabilities.max_severity", true,
                 "2 vulnerabilities above MEDIUM: CVE-2024-0001 (HIGH, openssl@3.0.1), "
                 "CVE-2024-0002 (CRITICAL, zlib@1.2)");
    mm_policy_decision_free(d);

    d = check("version: 1\nvulnerabilities:\n  max_severity: MEDIUM\n  fixable_only: true\n",
              img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "vulnerabilities.max_severity", true,
                 "1 vulnerability above MEDIUM with a fix: CVE-2024-0001 (HIGH, "
                 "openssl@3.0.1); 1 without a fix not counted");
    mm_policy_decision_free(d);

    d = check("version: 1\nvulnerabilities:\n  max_severity: MEDIUM\n  fixable_only: true\n"
              "  ignore: [CVE-2024-0001]\n", img, st, T0);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_REASON(d, "vulnerabilities.max_severity", false,
                 "no vulnerability above MEDIUM with a fix (database db-2026-01-01); 1 "
                 "ignored by the policy; 1 without a fix not counted");
    mm_policy_decision_free(d);

    d = check("version: 1\nvulnerabilities:\n  max_severity: CRITICAL\n", img, st, T0);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_REASON(d, "vulnerabilities.max_severity", false,
                 "no vulnerability above CRITICAL (database db-2026-01-01)");
    mm_policy_decision_free(d);

    /* none: even a finding of unknown severity denies */
    d = check("version: 1\nvulnerabilities:\n  max_severity: none\n", img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    const mm_policy_reason *rs = find(d, "vulnerabilities.max_severity");
    CHECK(rs && rs->deny && strstr(rs->message, "4 vulnerabilities above none: ") &&
          strstr(rs->message, "CVE-2024-0004 (UNKNOWN, tar@1.3)"));
    mm_policy_decision_free(d);

    /* a scan made without a vulnerability database proves nothing */
    CHECK_OK(mm_store_put_scan(st, r, NULL));
    d = check("version: 1\nvulnerabilities:\n  max_severity: CRITICAL\n", img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "vulnerabilities.max_severity", true,
                 "the scan used no vulnerability database, so vulnerabilities were not "
                 "checked (mamori db update, then scan again)");
    CHECK(d->db_version == NULL);
    mm_policy_decision_free(d);
    mm_result_free(r);
    mm_store_close(st);
}

MM_TEST(policy_secrets_malware_shells)
{
    const char *dir = mmt_tmpdir();
    const char *img = make_archive(dir, "app.tar", "app", "2026-01-01T00:00:00Z", "[]");
    mm_store *st = new_store(dir);
    REQUIRE(st);
    mm_result *r = scan(img, 0);
    REQUIRE(r);
    add_finding(r, "MM-IMG-002", MM_FIND_MISCONFIG, MM_SEV_LOW, NULL, NULL, NULL);
    CHECK_OK(mm_store_put_scan(st, r, "db"));
    const char *pol = "version: 1\nsecrets:\n  max_severity: none\nmalware:\n"
                      "  max_severity: none\ndeny_remote_shells: true\n";
    /* an inventory-only scan found nothing because nobody looked */
    mm_policy_decision *d = check(pol, img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "secrets.max_severity", true,
                 "the stored scan did not run the secret scanner, so nothing was looked "
                 "for: rescan with --scanners including secret");
    CHECK_REASON(d, "malware.max_severity", true,
                 "the stored scan did not run the malware scanner, so nothing was looked "
                 "for: rescan with --scanners including malware");
    CHECK_REASON(d, "deny_remote_shells", true,
                 "the stored scan did not run the misconfig scanner, so nothing was looked "
                 "for: rescan with --scanners including misconfig");
    mm_policy_decision_free(d);

    mm_result_add_scanners(r, MM_SCANNER_SECRET | MM_SCANNER_MALWARE | MM_SCANNER_MISCONFIG);
    CHECK_OK(mm_store_put_scan(st, r, "db"));
    d = check(pol, img, st, T0);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_REASON(d, "secrets.max_severity", false, "no secret finding above none");
    CHECK_REASON(d, "malware.max_severity", false, "no malware finding above none");
    CHECK_REASON(d, "deny_remote_shells", false,
                 "no ssh or telnet server installed or exposed");
    mm_policy_decision_free(d);

    add_finding(r, "MM-SECRET-AWS-KEY", MM_FIND_SECRET, MM_SEV_MEDIUM, NULL,
                "/etc/app/creds", NULL);
    add_finding(r, "MM-MAL-EICAR", MM_FIND_MALWARE, MM_SEV_MEDIUM, NULL, "/tmp/eicar.com",
                NULL);
    add_finding(r, "MM-MAL-UNOWNED-ELF", MM_FIND_MALWARE, MM_SEV_LOW, NULL, "/usr/bin/x",
                NULL);
    add_finding(r, "MM-IMG-008", MM_FIND_MISCONFIG, MM_SEV_HIGH, NULL, "/usr/sbin/sshd", NULL);
    add_finding(r, "MM-IMG-006", MM_FIND_MISCONFIG, MM_SEV_MEDIUM, NULL, NULL, NULL);
    CHECK_OK(mm_store_put_scan(st, r, "db"));
    d = check(pol, img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "secrets.max_severity", true,
                 "1 secret finding(s) above none: MM-SECRET-AWS-KEY (MEDIUM, /etc/app/creds)");
    CHECK_REASON(d, "malware.max_severity", true,
                 "2 malware finding(s) above none: MM-MAL-EICAR (MEDIUM, /tmp/eicar.com), "
                 "MM-MAL-UNOWNED-ELF (LOW, /usr/bin/x)");
    CHECK_REASON(d, "deny_remote_shells", true,
                 "2 remote shell finding(s): MM-IMG-008 (HIGH, /usr/sbin/sshd), "
                 "MM-IMG-006 (MEDIUM)");
    mm_policy_decision_free(d);

    /* at or below the maximum passes */
    d = check("version: 1\nsecrets:\n  max_severity: medium\nmalware:\n  max_severity: LOW\n",
              img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "secrets.max_severity", false, "no secret finding above MEDIUM");
    CHECK_REASON(d, "malware.max_severity", true,
                 "1 malware finding(s) above LOW: MM-MAL-EICAR (MEDIUM, /tmp/eicar.com)");
    mm_policy_decision_free(d);
    d = check("version: 1\nmalware:\n  max_severity: medium\n", img, st, T0);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_REASON(d, "malware.max_severity", false, "no malware finding above MEDIUM");
    mm_policy_decision_free(d);
    mm_result_free(r);
    mm_store_close(st);
}

MM_TEST(policy_root_user)
{
    static const struct { const char *user; bool deny; const char *msg; } cases[] = {
        {NULL, true, "runs as root (no User set)"},
        {"", true, "runs as root (no User set)"},
        {"root", true, "runs as root (User \"root\")"},
        {"0:0", true, "runs as root (User \"0:0\")"},
        {"root:staff", true, "runs as root (User \"root:staff\")"},
        {"1000:1000", false, "runs as \"1000:1000\""},
        {"rootless", false, "runs as \"rootless\""},
        {"00", false, "runs as \"00\""},
    };
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "u%zu.tar", i);
        const char *img = make_archive(dir, name, cases[i].user, "2026-01-01T00:00:00Z", "[]");
        mm_result *r = scan(img, 0);
        REQUIRE(r);
        CHECK_OK(mm_store_put_scan(st, r, "db"));
        mm_result_free(r);
        mm_policy_decision *d = check("version: 1\ndeny_root_user: true\n", img, st, T0);
        REQUIRE(d);
        CHECK_INT(d->allow, !cases[i].deny);
        CHECK_REASON(d, "deny_root_user", cases[i].deny, cases[i].msg);
        mm_policy_decision_free(d);
    }
    mm_store_close(st);
}

MM_TEST(policy_ages)
{
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    const char *img = make_archive(dir, "a.tar", "app", "2026-01-01T02:00:00.123456789+02:00",
                                   "[]");
    mm_result *r = scan(img, 0);
    REQUIRE(r);
    CHECK_OK(mm_store_put_scan(st, r, "db"));
    int64_t scanned = mm_result_started(r);
    mm_result_free(r);

    mm_policy_decision *d = check("version: 1\nmax_image_age_days: 30\n", img, st, T0 + 10 * DAY);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_REASON(d, "max_image_age_days", false,
                 "created 2026-01-01T00:00:00Z, 10 days ago (limit 30)");
    mm_policy_decision_free(d);
    d = check("version: 1\nmax_image_age_days: 5\n", img, st, T0 + 10 * DAY + 3600);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "max_image_age_days", true,
                 "created 2026-01-01T00:00:00Z, 10 days ago (limit 5)");
    mm_policy_decision_free(d);

    /* the scan's age */
    d = check("version: 1\nmax_scan_age_days: 7\n", img, st, scanned + 8 * DAY);
    REQUIRE(d);
    CHECK(!d->allow);
    const mm_policy_reason *rs = find(d, "max_scan_age_days");
    CHECK(rs && rs->deny && strstr(rs->message, ", 8 days ago (limit 7)"));
    mm_policy_decision_free(d);
    d = check("version: 1\nmax_scan_age_days: 7\n", img, st, scanned + 6 * DAY);
    REQUIRE(d);
    CHECK(d->allow);
    mm_policy_decision_free(d);

    /* no creation time: the age is unknown, which denies */
    img = make_archive(dir, "b.tar", "app", NULL, "[]");
    d = check("version: 1\nmax_image_age_days: 5\n", img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "max_image_age_days", true,
                 "the image config has no creation time, so its age is unknown");
    mm_policy_decision_free(d);
    img = make_archive(dir, "c.tar", "app", "yesterday", "[]");
    d = check("version: 1\nmax_image_age_days: 5\n", img, st, T0);
    REQUIRE(d);
    CHECK_REASON(d, "max_image_age_days", true,
                 "the image config has an unreadable creation time, so its age is unknown");
    mm_policy_decision_free(d);
    mm_store_close(st);
}

MM_TEST(policy_registries_and_tags)
{
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    const char *img = make_archive(dir, "a.tar", "app", "2026-01-01T00:00:00Z",
                                   "[\"registry.example.com/team/app:1.0\"]");
    mm_result *r = scan(img, 0);
    REQUIRE(r);
    CHECK_OK(mm_store_put_scan(st, r, "db"));
    mm_result_free(r);

    mm_policy_decision *d = check(
        "version: 1\nregistries:\n  allow: [\"*.EXAMPLE.com\"]\n  deny: [docker.io]\n"
        "repositories:\n  allow: [\"registry.example.com/team/*\"]\n"
        "  deny: [\"*/experimental/*\"]\nrequire_digest: true\ndeny_latest: true\n",
        img, st, T0);
    REQUIRE(d);
    CHECK(d->allow);
    CHECK_REASON(d, "registries.deny", false,
                 "registry \"registry.example.com\" matches no deny pattern");
    CHECK_REASON(d, "registries.allow", false,
                 "registry \"registry.example.com\" is allowed by \"*.EXAMPLE.com\"");
    CHECK_REASON(d, "repositories.deny", false,
                 "repository \"registry.example.com/team/app\" matches no deny pattern");
    CHECK_REASON(d, "repositories.allow", false,
                 "repository \"registry.example.com/team/app\" is allowed by "
                 "\"registry.example.com/team/*\"");
    char *want = mm_xasprintf("a local archive is checked by its content (%s)", d->digest);
    CHECK_REASON(d, "require_digest", false, want);
    free(want);
    CHECK_REASON(d, "deny_latest", false, "tagged registry.example.com/team/app:1.0");
    /* rule order: the reference rules first, then the scan */
    REQUIRE(d->nreasons == 7);
    CHECK_STR(d->reasons[0].rule, "registries.deny");
    CHECK_STR(d->reasons[6].rule, "scan");
    mm_policy_decision_free(d);

    /* deny wins over allow */
    d = check("version: 1\nregistries:\n  allow: [\"*\"]\n  deny: [\"registry.example.*\"]\n",
              img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "registries.deny", true,
                 "registry \"registry.example.com\" matches the deny pattern "
                 "\"registry.example.*\"");
    CHECK_REASON(d, "registries.allow", false,
                 "registry \"registry.example.com\" is allowed by \"*\"");
    mm_policy_decision_free(d);

    /* not on the allow list */
    d = check("version: 1\nrepositories:\n  allow: [\"registry.example.com/other/*\", "
              "\"ghcr.io/*\"]\n", img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "repositories.allow", true,
                 "repository \"registry.example.com/team/app\" is not in the allow list "
                 "(registry.example.com/other/*, ghcr.io/*)");
    mm_policy_decision_free(d);

    /* latest, and Docker's normalisation of short names */
    img = make_archive(dir, "b.tar", "app", "2026-01-01T00:00:00Z", "[\"app:latest\"]");
    d = check("version: 1\ndeny_latest: true\nregistries:\n  deny: [docker.io]\n", img, st,
              T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "deny_latest", true,
                 "the latest tag is not allowed: docker.io/library/app:latest");
    CHECK_REASON(d, "registries.deny", true,
                 "registry \"docker.io\" matches the deny pattern \"docker.io\"");
    mm_policy_decision_free(d);

    /* an archive without names cannot be on an allow list */
    img = make_archive(dir, "c.tar", "app", "2026-01-01T00:00:00Z", "[]");
    d = check("version: 1\nregistries:\n  allow: [docker.io]\n  deny: [x]\ndeny_latest: true\n",
              img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "registries.allow", true,
                 "the local archive names no registry (no repository tags), so it cannot "
                 "match the allow list (docker.io)");
    CHECK_REASON(d, "registries.deny", false, "the local archive names no registry");
    CHECK_REASON(d, "deny_latest", false, "the local archive carries no tag");
    mm_policy_decision_free(d);
    mm_store_close(st);
}

MM_TEST(policy_signatures_local)
{
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    char *kp = mm_xasprintf("%s/k.pub", dir);
    write_file(kp, pubkey_pem);
    const char *img = make_archive(dir, "a.tar", "app", "2026-01-01T00:00:00Z", "[]");
    char *y = mm_xasprintf("version: 1\nsignatures:\n  keys: [%s]\n", kp);
    mm_policy_decision *d = check(y, img, st, T0);
    REQUIRE(d);
    CHECK(!d->allow);
    CHECK_REASON(d, "signatures.keys", true,
                 "signatures are kept in a registry beside the image: a local archive "
                 "cannot be verified (check the pushed image instead)");
    mm_policy_decision_free(d);
    free(y);
    free(kp);
    mm_store_close(st);
}

MM_TEST(policy_json)
{
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    const char *img = make_archive(dir, "a.tar", "0", "2026-01-01T00:00:00Z", "[]");
    mm_result *r = scan(img, 0);
    REQUIRE(r);
    CHECK_OK(mm_store_put_scan(st, r, "db-7"));
    mm_result_free(r);
    mm_policy_decision *d = check("version: 1\ndeny_root_user: true\n", img, st, T0);
    REQUIRE(d);
    char *s = mm_policy_decision_json(d);
    REQUIRE(s);
    json_t *j = json_loads(s, 0, NULL);
    REQUIRE(j);
    CHECK_INT(json_integer_value(json_object_get(j, "schema_version")), 1);
    CHECK(json_is_false(json_object_get(j, "allow")));
    CHECK_STR(json_string_value(json_object_get(j, "decision")), "deny");
    CHECK_STR(json_string_value(json_object_get(j, "image")), img);
    CHECK(json_is_null(json_object_get(j, "reference")));
    CHECK_STR(json_string_value(json_object_get(j, "digest")), d->digest);
    CHECK(json_is_null(json_object_get(j, "resolved_digest")));
    const char *sa = json_string_value(json_object_get(j, "scanned_at"));
    CHECK(sa && strlen(sa) == 20 && sa[19] == 'Z');
    CHECK_STR(json_string_value(json_object_get(j, "db_version")), "db-7");
    CHECK_INT(json_integer_value(json_object_get(j, "denied")), 1);
    json_t *rs = json_object_get(j, "reasons");
    REQUIRE(json_array_size(rs) == 2);
    json_t *r1 = json_array_get(rs, 1);
    CHECK_STR(json_string_value(json_object_get(r1, "rule")), "deny_root_user");
    CHECK_STR(json_string_value(json_object_get(r1, "result")), "deny");
    CHECK(json_is_true(json_object_get(r1, "deny")));
    CHECK(json_is_false(json_object_get(json_array_get(rs, 0), "deny")));
    CHECK_STR(json_string_value(json_object_get(r1, "message")), "runs as root (User \"0\")");
    CHECK_STR(json_string_value(json_object_get(json_array_get(rs, 0), "result")), "pass");
    json_decref(j);
    free(s);
    mm_policy_decision_free(d);
    CHECK(mm_policy_decision_json(NULL) == NULL);
    mm_store_close(st);
}

/* Hostile values from an image never reach a terminal as control bytes. */
MM_TEST(policy_messages_sanitised)
{
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    const char *img = make_archive(dir, "a.tar", "evil\033[2J\n", "2026-01-01T00:00:00Z", "[]");
    mm_policy_decision *d = check("version: 1\ndeny_root_user: true\n", img, st, T0);
    REQUIRE(d);
    CHECK_REASON(d, "deny_root_user", false, "runs as \"evil?[2J?\"");
    mm_policy_decision_free(d);
    mm_store_close(st);
}

MM_TEST(policy_errors)
{
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    mm_policy *p = policy("version: 1\n");
    REQUIRE(p);
    mm_policy_env env = {.store = st};
    mm_policy_decision *d = (mm_policy_decision *)1;
    /* an archive that does not exist: an error, not a decision */
    CHECK(mm_policy_check(&d, p, "/nonexistent/app.tar", &env) < 0);
    CHECK(d == NULL);
    CHECK(strstr(mm_error_last(), "/nonexistent/app.tar") != NULL);
    /* no store */
    mm_policy_env none = {0};
    CHECK_INT(mm_policy_check(&d, p, "/nonexistent/app.tar", &none), MM_EINVAL);
    /* a registry reference needs a registry client */
    if (mm_imageref_is_remote("registry.example.com/team/app:1.0")) {
        CHECK_INT(mm_policy_check(&d, p, "registry.example.com/team/app:1.0", &env), MM_EINVAL);
        CHECK(strstr(mm_error_last(), "needs a registry client") != NULL);
    }
    mm_policy_free(p);
    mm_store_close(st);
}

/* The cached fixture image, scanned for real (misconfiguration checks), then
 * judged: the store key is its manifest digest and the config's user and
 * creation time are those of the image. */
MM_TEST(policy_fixture_image)
{
    const char *oci = "/var/cache/mamori-test/oci:app";
    struct stat sb;
    if (stat("/var/cache/mamori-test/oci/index.json", &sb) != 0)
        MMT_SKIP("fixture image /var/cache/mamori-test/oci absent (make fixtures)");
    const char *dir = mmt_tmpdir();
    mm_store *st = new_store(dir);
    REQUIRE(st);
    mm_result *r = scan(oci, MM_SCANNER_MISCONFIG & mm_scan_available_scanners());
    REQUIRE(r);
    CHECK_OK(mm_store_put_scan(st, r, "db-fixture"));
    const mm_image_info *im = mm_result_image(r);
    REQUIRE(im && im->manifest_digest);
    mm_policy_decision *d = check("version: 1\ndeny_root_user: true\ndeny_remote_shells: true\n"
                                  "max_scan_age_days: 1\n", oci, st, 0);
    REQUIRE(d);
    CHECK_STR(d->digest, im->manifest_digest);
    CHECK_STR(d->db_version, "db-fixture");
    const mm_policy_reason *u = find(d, "deny_root_user");
    REQUIRE(u);
    bool root = !im->user || !*im->user || !strcmp(im->user, "root") || !strncmp(im->user, "0", 1);
    CHECK_INT(u->deny, root);
    if (!root) {
        char *want = mm_xasprintf("runs as \"%s\"", im->user);
        CHECK_STR(u->message, want);
        free(want);
    }
    CHECK(find(d, "deny_remote_shells") && find(d, "max_scan_age_days") &&
          !find(d, "max_scan_age_days")->deny);
    mm_policy_decision_free(d);
    mm_result_free(r);
    mm_store_close(st);
}

MM_TEST_MAIN
