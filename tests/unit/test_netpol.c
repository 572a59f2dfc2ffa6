/*
 * test_netpol.c - the segmentation policy: parsing and its errors (file,
 * line, field), selecting a workload's policy, the compiled nftables text
 * (exactly, in a namespace and on the host), the diff, egress-name sets,
 * a policy proposed from a learned graph (which must load again), and the
 * drop alert.  Applying in real namespaces: tests/integration/test_netpol.sh.
 */
#include <arpa/inet.h>
#include <string.h>

#include "mamori/netpol.h"
#include "mmtest.h"

static const char *POL =
    "version: 1\n"
    "policies:\n"
    "  - name: web\n"
    "    match: {container: web*}\n"
    "    ingress:\n"
    "      - from: [10.88.0.0/16, 10.1.2.3/8, 10.0.0.7, db]\n"
    "        ports: [tcp/443, 80, tcp/8000-8080, tcp/81, icmp]\n"
    "      - ports: [udp/5353]\n"
    "    egress:\n"
    "      - to: [192.168.5.9, \"fd00::/8\"]\n"
    "        ports: [udp/53, tcp/53]\n"
    "      - names: [api.example.com, \"*.cdn.example.net\"]\n"
    "        ports: [tcp/443]\n"
    "  - name: batch\n"
    "    match: {image: \"localhost/batch\", labels: {tier: back, n: 3}}\n"
    "    default: allow\n";

static size_t res(void *ud, const char *peer, const mm_ipaddr **addrs)
{
    static mm_ipaddr db[2];
    (void)ud;
    if (strcmp(peer, "db"))
        return 0;
    db[0].family = AF_INET;
    inet_pton(AF_INET, "172.20.0.2", db[0].ip);
    db[1].family = AF_INET6;
    inet_pton(AF_INET6, "fd00::2", db[1].ip);
    *addrs = db;
    return 2;
}

static const char *WEB_NETNS =
    "table inet mamori {\n"
    "\tset eg1_v4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n\n"
    "\tset eg1_v6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n\n"
    "\tchain input {\n"
    "\t\ttype filter hook input priority filter; policy drop;\n"
    "\t\tct state established,related accept\n"
    "\t\tiif \"lo\" accept\n"
    "\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
    "\t\tip saddr { 10.0.0.0/8, 172.20.0.2 } tcp dport { 80-81, 443, 8000-8080 } accept\n"
    "\t\tip saddr { 10.0.0.0/8, 172.20.0.2 } meta l4proto icmp accept\n"
    "\t\tip6 saddr fd00::2 tcp dport { 80-81, 443, 8000-8080 } accept\n"
    "\t\tip6 saddr fd00::2 meta l4proto ipv6-icmp accept\n"
    "\t\tudp dport 5353 accept\n"
    "\t\tlog prefix \"mamori:web:in \" group 100\n"
    "\t}\n\n"
    "\tchain output {\n"
    "\t\ttype filter hook output priority filter; policy drop;\n"
    "\t\tct state established,related accept\n"
    "\t\toif \"lo\" accept\n"
    "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
    "\t\tip daddr 192.168.5.9 tcp dport 53 accept\n"
    "\t\tip daddr 192.168.5.9 udp dport 53 accept\n"
    "\t\tip6 daddr fd00::/8 tcp dport 53 accept\n"
    "\t\tip6 daddr fd00::/8 udp dport 53 accept\n"
    "\t\tip daddr @eg1_v4 tcp dport 443 accept\n"
    "\t\tip6 daddr @eg1_v6 tcp dport 443 accept\n"
    "\t\tlog prefix \"mamori:web:out \" group 100\n"
    "\t}\n"
    "}\n";

MM_TEST(compile_netns_exact)
{
    mm_netpol *p = NULL;
    CHECK_OK(mm_netpol_load_string(&p, "p.yaml", POL, strlen(POL)));
    REQUIRE(p);
    CHECK_INT(mm_netpol_count(p), 2);
    mm_netpol_compile_opts o = {.resolve = res};
    char *r = NULL;
    CHECK_OK(mm_netpol_compile(&r, p, 0, &o));
    CHECK_STR(r, WEB_NETNS);
    free(r);
    /* the unknown peer is an error naming it */
    mm_netpol_compile_opts o2 = {0};
    CHECK(mm_netpol_compile(&r, p, 0, &o2) == MM_ENOTFOUND);
    CHECK(strstr(mm_error_last(), "peer 'db'") != NULL);
    CHECK(strstr(mm_error_last(), "ingress[0]") != NULL);
    mm_netpol_free(p);
}

MM_TEST(compile_allow_and_host)
{
    mm_netpol *p = NULL;
    CHECK_OK(mm_netpol_load_string(&p, "p.yaml", POL, strlen(POL)));
    REQUIRE(p);
    char *r = NULL;
    CHECK_OK(mm_netpol_compile(&r, p, 1, NULL));
    CHECK_STR(r, "table inet mamori {\n"
                 "\tchain input {\n"
                 "\t\ttype filter hook input priority filter; policy accept;\n"
                 "\t\tct state established,related accept\n"
                 "\t\tiif \"lo\" accept\n"
                 "\t\ticmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                 "\t}\n\n"
                 "\tchain output {\n"
                 "\t\ttype filter hook output priority filter; policy accept;\n"
                 "\t\tct state established,related accept\n"
                 "\t\toif \"lo\" accept\n"
                 "\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert } accept\n"
                 "\t}\n"
                 "}\n");
    free(r);
    const char *y = "version: 1\npolicies:\n- name: api\n  ingress:\n  - from: [10.9.0.0/24]\n"
                    "    ports: [tcp/9000]\n  egress:\n  - to: [10.9.0.53]\n    ports: [udp/53]\n";
    mm_netpol *q = NULL;
    CHECK_OK(mm_netpol_load_string(&q, "h.yaml", y, strlen(y)));
    REQUIRE(q);
    mm_ipaddr own = {.family = AF_INET};
    inet_pton(AF_INET, "10.9.0.5", own.ip);
    mm_netpol_compile_opts o = {.where = MM_NETPOL_HOST, .addrs = &own, .naddrs = 1,
                                .nflog_group = 7, .table = "mamori_api_1"};
    CHECK_OK(mm_netpol_compile(&r, q, 0, &o));
    CHECK_STR(r, "table inet mamori_api_1 {\n"
                 "\tchain ingress {\n"
                 "\t\tct state established,related accept\n"
                 "\t\tip saddr 10.9.0.0/24 tcp dport 9000 accept\n"
                 "\t\tlog prefix \"mamori:api:in \" group 7\n"
                 "\t\tdrop\n"
                 "\t}\n\n"
                 "\tchain egress {\n"
                 "\t\tct state established,related accept\n"
                 "\t\tip daddr 10.9.0.53 udp dport 53 accept\n"
                 "\t\tlog prefix \"mamori:api:out \" group 7\n"
                 "\t\tdrop\n"
                 "\t}\n\n"
                 "\tchain forward {\n"
                 "\t\ttype filter hook forward priority filter; policy accept;\n"
                 "\t\tip daddr 10.9.0.5 jump ingress\n"
                 "\t\tip saddr 10.9.0.5 jump egress\n"
                 "\t}\n"
                 "}\n");
    free(r);
    o.naddrs = 0;
    CHECK(mm_netpol_compile(&r, q, 0, &o) == MM_EINVAL);
    char *t = mm_netpol_table(q, 0, MM_NETPOL_HOST);
    CHECK_STR(t, "mamori_api");
    free(t);
    mm_netpol_free(q);
    mm_netpol_free(p);
}

MM_TEST(select_and_names)
{
    mm_netpol *p = NULL;
    CHECK_OK(mm_netpol_load_string(&p, "p.yaml", POL, strlen(POL)));
    REQUIRE(p);
    CHECK_INT(mm_netpol_select(p, "web-1", NULL, NULL, 0), 0);
    CHECK_INT(mm_netpol_select(p, "db", NULL, NULL, 0), -1);
    const char *l1[] = {"tier=back", "n=3", "x=y"}, *l2[] = {"tier=back"};
    CHECK_INT(mm_netpol_select(p, "job", "localhost/batch:7", l1, 3), 1);
    CHECK_INT(mm_netpol_select(p, "job", "localhost/batch:7", l2, 1), -1);
    CHECK_INT(mm_netpol_select(p, "job", "localhost/other:7", l1, 3), -1);
    CHECK_INT(mm_netpol_name_sets(p, 0, "api.example.com", AF_INET, NULL, NULL), 1);
    CHECK_INT(mm_netpol_name_sets(p, 0, "API.Example.com.", AF_INET, NULL, NULL), 1);
    CHECK_INT(mm_netpol_name_sets(p, 0, "x.cdn.example.net", AF_INET6, NULL, NULL), 1);
    CHECK_INT(mm_netpol_name_sets(p, 0, "cdn.example.net", AF_INET6, NULL, NULL), 1);
    CHECK_INT(mm_netpol_name_sets(p, 0, "evilapi.example.com", AF_INET, NULL, NULL), 0);
    CHECK_INT(mm_netpol_name_sets(p, 0, "example.com", AF_INET, NULL, NULL), 0);
    CHECK_INT(mm_netpol_name_sets(p, 1, "api.example.com", AF_INET, NULL, NULL), 0);
    mm_netpol_free(p);
}

static void expect_err(const char *y, int code, const char *needle)
{
    mm_netpol *p = NULL;
    int rc = mm_netpol_load_string(&p, "bad.yaml", y, strlen(y));
    if (rc != code || !strstr(mm_error_last(), needle)) {
        fprintf(stderr, "for %s\n  got %d: %s\n  want %d with '%s'\n", y, rc,
                mm_error_last(), code, needle);
        mmt_failed_now = 1;
    }
    CHECK(p == NULL);
}

MM_TEST(parse_errors)
{
    expect_err("version: 2\npolicies: []\n", MM_EFORMAT, "bad.yaml:1:1: version: expected 1");
    expect_err("version: 1\n", MM_EFORMAT, "policies: expected a list");
    expect_err("version: 1\npolicies:\n- name: a\n  ingress:\n  - from: [10.0.0.0/33]\n",
               MM_EFORMAT, "bad.yaml:5:12: policies[0].ingress[0].from[0]: '10.0.0.0/33'");
    expect_err("version: 1\npolicies:\n- name: a\n  egress:\n  - ports: [tcp/70000]\n",
               MM_EFORMAT, "bad.yaml:5:13: policies[0].egress[0].ports[0]");
    expect_err("version: 1\npolicies:\n- name: a\n  ingress:\n  - names: [x.com]\n",
               MM_EFORMAT, "names are for egress rules");
    expect_err("version: 1\npolicies:\n- name: a\n  egress:\n  - names: [\"bad name\"]\n",
               MM_EFORMAT, "not a DNS name");
    expect_err("version: 1\npolicies:\n- name: a\n  egress:\n  - {}\n", MM_EFORMAT,
               "an empty rule");
    expect_err("version: 1\npolicies:\n- name: a\n- name: a\n", MM_EFORMAT,
               "also policies[0]'s name");
    expect_err("version: 1\npolicies:\n- name: \"a b\"\n", MM_EFORMAT, "policies[0].name");
    expect_err("version: 1\npolicies:\n- name: a\n  default: maybe\n", MM_EFORMAT,
               "expected deny or allow");
    expect_err("version: 1\npolicies:\n- name: a\n  colour: red\n", MM_EFORMAT,
               "bad.yaml:4:3: policies[0]: unknown field 'colour'");
    expect_err("version: 1\npolicies:\n- name: a\n  match: {pod: x}\n", MM_EFORMAT,
               "unknown field 'pod'");
    expect_err("version: 1\npolicies:\n- name: a\n  ingress:\n  - ports: [tcp/9-1]\n",
               MM_EFORMAT, "ports[0]");
    expect_err("version: 1\npolicies: [\n", MM_EFORMAT, "bad.yaml");
    /* caps */
    char *big = malloc(200000);
    size_t n = (size_t)sprintf(big, "version: 1\npolicies:\n- name: a\n  egress:\n  - ports: [");
    for (int i = 0; i < 1001; i++)
        n += (size_t)sprintf(big + n, "%s%d", i ? "," : "", i + 1);
    strcpy(big + n, "]\n");
    expect_err(big, MM_ELIMIT, "more than 1000 entries");
    free(big);
}

MM_TEST(diff_lines)
{
    char *d = mm_netpol_diff("a\nb\nc\n", "a\nb\nc\n", "x", "y");
    CHECK_STR(d, "");
    free(d);
    d = mm_netpol_diff("a\nb\nc\nd\n", "a\nB\nc\nd\ne\n", "x", "y");
    CHECK_STR(d, "--- x\n+++ y\n a\n+B\n-b\n c\n d\n+e\n");
    free(d);
    d = mm_netpol_diff("", "t {\n}\n", "live", "policy");
    CHECK_STR(d, "--- live\n+++ policy\n+t {\n+}\n");
    free(d);
}

MM_TEST(policy_from_baseline)
{
    const char *g =
        "{\"version\":1,\"nodes\":["
        "{\"id\":\"web\",\"kind\":\"container\",\"addresses\":[\"10.233.0.2\"],\"names\":[],"
        "\"processes\":[\"nc\"],\"listen\":[\"tcp/9090\"]},"
        "{\"id\":\"10.233.0.1\",\"kind\":\"address\",\"addresses\":[\"10.233.0.1\"]},"
        "{\"id\":\"db\",\"kind\":\"container\",\"addresses\":[\"10.233.0.3\"]},"
        "{\"id\":\"10.0.0.53\",\"kind\":\"address\",\"addresses\":[\"10.0.0.53\"]},"
        "{\"id\":\"93.184.216.34\",\"kind\":\"address\",\"addresses\":[\"93.184.216.34\"]}],"
        "\"edges\":["
        "{\"client\":\"10.233.0.1\",\"server\":\"web\",\"proto\":\"tcp\",\"port\":9090,\"names\":[]},"
        "{\"client\":\"10.233.0.1\",\"server\":\"web\",\"proto\":\"tcp\",\"port\":9091,\"names\":[]},"
        "{\"client\":\"web\",\"server\":\"db\",\"proto\":\"tcp\",\"port\":5432,\"names\":[]},"
        "{\"client\":\"web\",\"server\":\"10.0.0.53\",\"proto\":\"udp\",\"port\":53,\"names\":[]},"
        "{\"client\":\"web\",\"server\":\"93.184.216.34\",\"proto\":\"tcp\",\"port\":443,"
        "\"names\":[\"example.com\"]}]}";
    char *y = NULL;
    CHECK_OK(mm_netpol_from_baseline(&y, g, strlen(g), "base.json"));
    REQUIRE(y);
    CHECK(strstr(y, "  - name: \"web\"\n    match: {container: \"web\"}\n    default: deny\n"
                    "    ingress:\n      - # from 10.233.0.1\n        from: [\"10.233.0.1\"]\n"
                    "        ports: [tcp/9090, tcp/9091]\n") != NULL);
    CHECK(strstr(y, "        names: [\"example.com\"]\n        ports: [tcp/443]\n") != NULL);
    CHECK(strstr(y, "        to: [\"db\"]\n        ports: [tcp/5432]\n") != NULL);
    mm_netpol *p = NULL;
    CHECK_OK(mm_netpol_load_string(&p, "proposed.yaml", y, strlen(y)));
    REQUIRE(p);
    CHECK_INT(mm_netpol_count(p), 2);            /* web and db */
    CHECK_INT(mm_netpol_select(p, "web", NULL, NULL, 0), 0);
    CHECK_INT(mm_netpol_name_sets(p, 0, "example.com", AF_INET, NULL, NULL), 1);
    mm_netpol_free(p);
    free(y);
    CHECK(mm_netpol_from_baseline(&y, "{\"nodes\":3}", 11, "b.json") == MM_EFORMAT);
    CHECK(mm_netpol_from_baseline(&y, "{", 1, "b.json") == MM_EFORMAT);
}

MM_TEST(offender_table)
{
    char *t = mm_netpol_offender_table("mamori_waf", 8080);
    CHECK_STR(t, "table inet mamori_waf\ndelete table inet mamori_waf\n"
                 "table inet mamori_waf {\n"
                 "\tset offenders_v4 {\n\t\ttype ipv4_addr\n\t\tflags timeout\n\t}\n\n"
                 "\tset offenders_v6 {\n\t\ttype ipv6_addr\n\t\tflags timeout\n\t}\n\n"
                 "\tchain input {\n"
                 "\t\ttype filter hook input priority filter; policy accept;\n"
                 "\t\tip saddr @offenders_v4 tcp dport 8080 drop\n"
                 "\t\tip6 saddr @offenders_v6 tcp dport 8080 drop\n"
                 "\t}\n}\n");
    free(t);
}

MM_TEST(drop_alert)
{
    mm_netpol_drop d = {.ts_ns = 1700000000000000000LL, .prefix = "mamori:web:out ",
                        .policy = "web", .direction = "egress", .proto = 6,
                        .sport = 40000, .dport = 22};
    d.src.family = d.dst.family = AF_INET;
    inet_pton(AF_INET, "10.1.0.2", d.src.ip);
    inet_pton(AF_INET, "10.1.0.1", d.dst.ip);
    mm_netpol_alerter *a = mm_netpol_alerter_new("h1");
    const mm_alert *al;
    const mm_finding *f;
    mm_netpol_alert(a, &d, "web", &al, &f);
    CHECK_STR(al->rule, "Connection denied by segmentation policy");
    CHECK_STR(al->output, "Connection denied by segmentation policy web (egress tcp "
                          "10.1.0.2:40000 -> 10.1.0.1:22 workload=web)");
    CHECK_STR(f->id, "MM-NET-040");
    CHECK_STR(f->section, "3.4.2");
    CHECK_STR(f->loc.container, "web");
    char *j = mm_alert_json(al);
    CHECK(strstr(j, "\"fd.sport\":22") != NULL);
    CHECK(strstr(j, "\"hostname\":\"h1\"") != NULL);
    free(j);
    mm_netpol_alerter_free(a);
}

MM_TEST_MAIN
