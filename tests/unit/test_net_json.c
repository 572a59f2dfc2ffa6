/*
 * test_net_json.c - lib/net's JSON reader (jsonrd.c, the learned
 * baseline's parser) and the baseline loader on top of it: strings
 * scanned 16 bytes at a time with escapes, quotes and UTF-8 on and across
 * every 16-byte boundary, white space runs of every length, duplicate keys
 * caught in small and big objects whatever their bits, errors naming line
 * and column of the file (not of line feeds an escape wrote), the padded
 * buffer parsed in place, the field lookup, and a baseline file loaded
 * with repeated edges and names.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/mamori.h"
#include "mamori/net.h"
#include "net/net_int.h"
#include "mmtest.h"

static int parse(nt_json *j, const char *s)
{
    return nt_json_parse(j, "t.json", s, strlen(s));
}

/* ["<pad x's>" + mid + "tail"] for every pad 0..40: mid lands on and
 * across each 16-byte boundary */
MM_TEST(json_strings_across_16_byte_boundaries)
{
    static const struct { const char *raw, *want; } cases[] = {
        {"a\\\"b", "a\"b"},
        {"\\\\", "\\"},
        {"x\\n\\t\\/y", "x\n\t/y"},
        {"\\u00e9\\u20ac", "\xc3\xa9\xe2\x82\xac"},
        {"\\ud83d\\ude00", "\xf0\x9f\x98\x80"},
        {"caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac"},
        {"\x7f~", "\x7f~"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int pad = 0; pad <= 40; pad++) {
            char doc[256], want[256];
            snprintf(doc, sizeof doc, "[\"%.*s%stail\", 7]", pad,
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", cases[c].raw);
            snprintf(want, sizeof want, "%.*s%stail", pad,
                     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", cases[c].want);
            nt_json j;
            REQUIRE(parse(&j, doc) == 0);
            CHECK_INT(j.ntok, 3);
            CHECK_INT(j.tok[1].type, NT_J_STR);
            CHECK_STR(j.text + j.tok[1].off, want);
            CHECK_INT(j.tok[1].len, strlen(want));
            CHECK_INT(j.tok[2].i, 7);
            nt_json_free(&j);
        }
}

MM_TEST(json_bad_strings_at_every_offset)
{
    static const char *bad[] = {"\x01", "\\x", "\\u12", "\\ud800", "\\udc00x", "\\u0000",
                                "\xc3", "\xff", "\x1f"};
    for (size_t c = 0; c < sizeof bad / sizeof *bad; c++)
        for (int pad = 0; pad <= 33; pad++) {
            char doc[128];
            snprintf(doc, sizeof doc, "[\"%.*s%s\"]", pad, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
                     bad[c]);
            nt_json j;
            CHECK(parse(&j, doc) == MM_EFORMAT);
        }
    /* an unterminated string ends at the end of the input, on a boundary
       or not */
    for (int pad = 0; pad <= 33; pad++) {
        char doc[64];
        snprintf(doc, sizeof doc, "[\"%.*s", pad, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
        nt_json j;
        CHECK(parse(&j, doc) == MM_EFORMAT);
        CHECK(strstr(mm_error_last(), "premature end of input"));
    }
}

MM_TEST(json_white_space_runs)
{
    for (int n = 0; n <= 40; n++) {
        char doc[256];
        size_t l = 0;
        doc[l++] = '{';
        for (int i = 0; i < n; i++)
            doc[l++] = " \n\t\r"[i % 4];
        l += (size_t)snprintf(doc + l, sizeof doc - l, "\"k\"");
        for (int i = 0; i < n; i++)
            doc[l++] = ' ';
        l += (size_t)snprintf(doc + l, sizeof doc - l, ":[1 ,");
        for (int i = 0; i < n; i++)
            doc[l++] = '\n';
        snprintf(doc + l, sizeof doc - l, "true]}");
        nt_json j;
        REQUIRE(parse(&j, doc) == 0);
        long v = nt_json_get(&j, 0, "k");
        REQUIRE(v > 0);
        CHECK_INT(j.tok[v].type, NT_J_ARR);
        CHECK_INT(j.tok[v].n, 2);
        nt_json_free(&j);
    }
}

MM_TEST(json_numbers)
{
    static const struct { const char *s; int64_t v; } ok[] = {
        {"0", 0}, {"-0", 0}, {"7", 7}, {"-7", -7}, {"65535", 65535},
        {"999999999999999999", 999999999999999999ll},            /* 18 digits */
        {"-999999999999999999", -999999999999999999ll},
        {"1000000000000000000", 1000000000000000000ll},          /* 19 digits */
        {"9223372036854775807", INT64_MAX},
        {"-9223372036854775808", INT64_MIN},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "[%s,%s]", ok[i].s, ok[i].s);
        nt_json j;
        REQUIRE(parse(&j, doc) == 0);
        CHECK_INT(j.tok[1].type, NT_J_INT);
        CHECK_INT(j.tok[1].i, ok[i].v);
        CHECK_INT(j.tok[2].i, ok[i].v);
        nt_json_free(&j);
    }
    static const char *real[] = {"0.5", "-1.25", "1e3", "2E-2", "12345678901234567890.5",
                                 "99999999999999999999e0"};
    for (size_t i = 0; i < sizeof real / sizeof *real; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "[%s]", real[i]);
        nt_json j;
        REQUIRE(parse(&j, doc) == 0);
        CHECK_INT(j.tok[1].type, NT_J_REAL);
        nt_json_free(&j);
    }
    static const char *bad[] = {"01", "-", "-a", "1.", "1e", "1e+", ".5", "+1", "00",
                                "9223372036854775808", "-9223372036854775809",
                                "99999999999999999999", "1e999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char doc[64];
        snprintf(doc, sizeof doc, "[%s]", bad[i]);
        nt_json j;
        CHECK(parse(&j, doc) == MM_EFORMAT);
    }
    /* a number at the very end of the text (the padding stops it) */
    nt_json j;
    CHECK(parse(&j, "[12") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "t.json:1:4:"));
}

MM_TEST(json_duplicate_keys)
{
    nt_json j;
    CHECK(parse(&j, "{\"a\":1,\"b\":2,\"a\":3}") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "duplicate object key"));
    /* the same key written with an escape */
    CHECK(parse(&j, "{\"ab\":1,\"a\\u0062\":2}") == MM_EFORMAT);
    CHECK(parse(&j, "{\"\":1,\"\":2}") == MM_EFORMAT);
    /* keys that share a bit but differ: no error, every pair of 2-byte keys */
    char doc[8192], *p = doc;
    p += sprintf(p, "{");
    for (int i = 0; i < 30; i++)
        p += sprintf(p, "%s\"%c%c\":%d", i ? "," : "", 'a' + i % 26, 'a' + i / 26, i);
    sprintf(p, "}");
    REQUIRE(parse(&j, doc) == 0);
    CHECK_INT(j.tok[0].n, 30);
    nt_json_free(&j);
    /* a big object (over 32 keys): a duplicate after the first 32 and one
       of the first 32 repeated late */
    for (int dup = 0; dup < 3; dup++) {
        p = doc;
        p += sprintf(p, "{");
        for (int i = 0; i < 100; i++)
            p += sprintf(p, "%s\"key%d\":%d", i ? "," : "", i, i);
        if (dup == 1)
            p += sprintf(p, ",\"key70\":0");
        if (dup == 2)
            p += sprintf(p, ",\"key3\":0");
        sprintf(p, "}");
        int rc = parse(&j, doc);
        CHECK_INT(rc, dup ? MM_EFORMAT : 0);
        if (!rc) {
            CHECK_INT(j.tok[0].n, 100);
            long v = nt_json_get(&j, 0, "key99");
            CHECK(v > 0 && j.tok[v].i == 99);
            nt_json_free(&j);
        }
    }
}

MM_TEST(json_errors_name_line_and_column)
{
    nt_json j;
    CHECK(parse(&j, "{\n \"a\": 1,\n \"b\": ]\n}") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "t.json:3:7:"));
    /* line feeds written by \n and \u000a escapes are not lines of the file */
    CHECK(parse(&j, "[\"x\\ny\\u000az\",\n\"\\n\\n\", tru]") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "t.json:2:9:"));
    CHECK(parse(&j, "{\"a\\n\":1,\n\"a\\n\":2}") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "t.json:2:2: duplicate object key"));
    CHECK(parse(&j, "[1] x") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "end of file expected"));
    CHECK(parse(&j, "") == MM_EFORMAT);
    CHECK(parse(&j, "[99999999999999999999]") == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "too big integer"));
}

MM_TEST(json_parse_buf_in_place)
{
    const char *s = "{\"id\":\"n\\u00e9\",\"n\":-42,\"x\":[null,false,1.5e3]}";
    size_t len = strlen(s);
    char *buf = malloc(len + NT_JSON_PAD);
    memcpy(buf, s, len);
    memset(buf + len, 0, NT_JSON_PAD);
    nt_json j;
    REQUIRE(nt_json_parse_buf(&j, "b.json", buf, len) == 0);
    CHECK(j.text == buf);      /* no copy */
    static const nt_jkey keys[] = {NT_JKEY("x"), NT_JKEY("missing"), NT_JKEY("id"), NT_JKEY("n")};
    long v[4];
    nt_json_fields(&j, 0, keys, 4, v);
    CHECK(v[0] > 0 && j.tok[v[0]].type == NT_J_ARR && j.tok[v[0]].n == 3);
    CHECK_INT(v[1], -1);
    CHECK(v[2] > 0);
    CHECK_STR(j.text + j.tok[v[2]].off, "n\xc3\xa9");
    CHECK(v[3] > 0 && j.tok[v[3]].i == -42);
    CHECK_INT(v[3], nt_json_get(&j, 0, "n"));
    nt_json_fields(&j, v[0], keys, 4, v);   /* not an object */
    CHECK(v[0] == -1 && v[2] == -1);
    nt_json_free(&j);
    /* an error frees the buffer too (ASan) */
    buf = malloc(3 + NT_JSON_PAD);
    memcpy(buf, "[1,", 3);
    memset(buf + 3, 0, NT_JSON_PAD);
    CHECK(nt_json_parse_buf(&j, "b.json", buf, 3) == MM_EFORMAT);
}

MM_TEST(baseline_file_loaded)
{
    char path[512];
    snprintf(path, sizeof path, "%s/base.json", mmt_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"version\":1,\"nodes\":[{\"id\":\"web\",\"kind\":\"container\",\"container\":"
          "{\"id\":\"3f2a\",\"name\":\"web\",\"image\":\"w:1\"},\"addresses\":[\"10.0.0.2\",\"fd00::2\"],"
          "\"names\":[],\"processes\":[],\"listen\":[\"tcp/80\"]},\n"
          "{\"id\":\"10.0.0.1\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"]}],\n"
          "\"edges\":[{\"client\":\"10.0.0.1\",\"server\":\"web\",\"proto\":\"tcp\",\"port\":80,"
          "\"names\":[\"a.example\",\"b.example\",\"a.example\",\"\"],\"flows\":3},\n"
          "{\"port\":80,\"proto\":\"tcp\",\"server\":\"web\",\"client\":\"10.0.0.1\","
          "\"names\":[\"c.example\",\"b.example\"]},\n"
          "{\"client\":\"10.0.0.3\",\"server\":\"web\",\"proto\":\"udp\",\"port\":53}]}\n", f);
    fclose(f);
    mm_net_topo *t;
    REQUIRE(mm_net_topo_load_file(&t, path) == 0);
    CHECK_INT(mm_net_topo_node_count(t), 3);
    CHECK_INT(mm_net_topo_edge_count(t), 2);
    CHECK(mm_net_topo_has_edge(t, "10.0.0.1", "web", IPPROTO_TCP, 80));
    CHECK(mm_net_topo_has_edge(t, "10.0.0.1", "a.example", IPPROTO_TCP, 80));
    CHECK(mm_net_topo_has_edge(t, "10.0.0.1", "c.example", IPPROTO_TCP, 80));
    CHECK(!mm_net_topo_has_edge(t, "10.0.0.3", "a.example", IPPROTO_UDP, 53));
    CHECK(mm_net_topo_has_edge(t, "10.0.0.3", "web", IPPROTO_UDP, 53));
    bool known;
    CHECK(mm_net_topo_has_listen(t, "web", IPPROTO_TCP, 80, &known) && known);
    /* by address: IPv4 pairs in one lookup, IPv6 through the nodes */
    mm_ipaddr c4, s4, c6, s6, o4;
    REQUIRE(!mm_net_addr_parse(&c4, "10.0.0.1") && !mm_net_addr_parse(&s4, "10.0.0.2") &&
            !mm_net_addr_parse(&c6, "fd00::1") && !mm_net_addr_parse(&s6, "fd00::2") &&
            !mm_net_addr_parse(&o4, "10.0.0.3"));
    CHECK(nt_topo_has_flow(t, &c4, &s4, IPPROTO_TCP, 80));
    CHECK(!nt_topo_has_flow(t, &c4, &s4, IPPROTO_TCP, 81));
    CHECK(!nt_topo_has_flow(t, &c4, &s4, IPPROTO_UDP, 80));
    CHECK(!nt_topo_has_flow(t, &s4, &c4, IPPROTO_TCP, 80));
    CHECK(!nt_topo_has_flow(t, &o4, &s4, IPPROTO_UDP, 53));   /* "10.0.0.3" has no address */
    CHECK(nt_topo_has_flow(t, &c6, &s6, IPPROTO_TCP, 80));
    CHECK(!nt_topo_has_flow(t, &c6, &s6, IPPROTO_TCP, 81));
    CHECK(nt_topo_has_flow(t, &c4, &s4, IPPROTO_TCP, 80) ==
          (nt_topo_node_for(t, 0, &c4) >= 0 && nt_topo_node_for(t, 0, &s4) >= 0 &&
           nt_topo_has_edge_ix(t, nt_topo_node_for(t, 0, &c4), nt_topo_node_for(t, 0, &s4),
                               IPPROTO_TCP, 80)));
    char *json = mm_net_topo_json(t);
    REQUIRE(json);
    /* the repeated edge's names once each, in order; its flows added */
    const char *a = strstr(json, "\"a.example\""), *b = strstr(json, "\"b.example\""),
               *c = strstr(json, "\"c.example\"");
    CHECK(a && b && c && a < b && b < c);
    CHECK(strstr(json, "\"names\": [\n    \"a.example\",\n    \"b.example\",\n    \"c.example\"\n   ]"));
    CHECK(strstr(json, "\"flows\": 3"));
    free(json);
    mm_net_topo_free(t);
    /* errors name the file's line */
    f = fopen(path, "w");
    REQUIRE(f);
    fputs("{\"nodes\":[],\n\"edges\":[{\"client\":\"a\",\"client\":\"b\"}]}", f);
    fclose(f);
    CHECK(mm_net_topo_load_file(&t, path) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "base.json:2:25: duplicate object key"));
}

MM_TEST_MAIN
