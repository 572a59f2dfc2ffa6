/*
 * test_spreport.c - the SP 800-190 report (mamori/sp800190.h): the state
 * of rows from the inputs given (not covered / passing / findings), the
 * severity filter, the reader's errors and caps, the JSON output, and the
 * HTML escaping: hostile strings planted in every field must come out as
 * text, never as markup (every tag and attribute of the output is checked
 * against the few the writer itself uses).
 */
#include <jansson.h>
#include "mmtest.h"
#include "mamori/mamori.h"

/* A mamori JSON report: kind, scanners (JSON array text), OS family or
 * NULL, findings (JSON array text). */
static char *doc(const char *kind, const char *target, const char *scanners,
                 const char *os, int layers, const char *findings)
{
    char *s = NULL;
    if (asprintf(&s,
                 "{\"schemaVersion\":1,\"tool\":{\"name\":\"mamori\",\"version\":\"0.1.0\"},"
                 "\"target\":\"%s\",\"kind\":\"%s\",\"scannedAt\":\"2026-12-01T00:00:00Z\","
                 "\"scanners\":%s,\"image\":null,"
                 "\"os\":{\"family\":%s%s%s,\"version\":\"12\"},\"layers\":[%s],"
                 "\"packages\":[],\"findings\":%s,\"warnings\":[]}",
                 target, kind, scanners, os ? "\"" : "", os ? os : "null", os ? "\"" : "",
                 layers ? "{\"index\":0}" : "", findings) < 0)
        abort();
    return s;
}

static int add(mm_spreport *r, const char *name, char *d)
{
    int rc = mm_spreport_add_json(r, name, d, strlen(d));
    free(d);
    return rc;
}

static mm_sprow_info row(mm_spreport *r, const char *id)
{
    mm_sprow_info ri;
    memset(&ri, 0, sizeof ri);
    for (size_t i = 0; i < mm_sprow_count(); i++) {
        mm_spreport_row(r, i, &ri);
        if (!strcmp(ri.id, id))
            return ri;
    }
    memset(&ri, 0, sizeof ri);
    return ri;
}

#define F(id, kind, sev, sec) "{\"id\":\"" id "\",\"kind\":\"" kind "\",\"severity\":\"" sev \
    "\",\"title\":\"t\",\"location\":{\"path\":\"/p\"},\"evidence\":\"e\",\"remediation\":null," \
    "\"references\":[],\"section\":\"" sec "\"}"

MM_TEST(rows_count_is_33)
{
    CHECK_INT(mm_sprow_count(), 33);
    mm_spreport *r;
    CHECK_OK(mm_spreport_new(&r, NULL));
    mm_sprow_info ri;
    CHECK_OK(mm_spreport_row(r, 0, &ri));
    CHECK_STR(ri.id, "R01");
    CHECK_OK(mm_spreport_row(r, 32, &ri));
    CHECK_STR(ri.id, "R33");
    CHECK(mm_spreport_row(r, 33, &ri) == MM_EINVAL);
    /* nothing given: every row not covered */
    for (size_t i = 0; i < mm_sprow_count(); i++) {
        mm_spreport_row(r, i, &ri);
        CHECK_INT(ri.state, MM_SPROW_NOT_COVERED);
    }
    mm_spreport_free(r);
}

MM_TEST(rows_inventory_only_image_is_not_covered)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "a.json", doc("image", "app.tar", "[\"inventory\"]", NULL, 1, "[]")));
    CHECK_INT(row(r, "R01").state, MM_SPROW_NOT_COVERED); /* no vuln matching */
    CHECK_INT(row(r, "R03").state, MM_SPROW_NOT_COVERED); /* no OS */
    CHECK_INT(row(r, "R07").state, MM_SPROW_NOT_COVERED); /* no secret scanner */
    CHECK_INT(row(r, "R33").state, MM_SPROW_PASSING);
    CHECK(strstr(row(r, "R07").evidence, "None of the inputs ran") != NULL);
    mm_spreport_free(r);
}

MM_TEST(rows_states_from_scanners_and_findings)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "img.json", doc("rootfs", "/srv/root", "[\"inventory\",\"vuln\",\"secret\","
                                    "\"misconfig\",\"malware\"]", "debian", 1,
                                    "[" F("MM-SECRET-AWS", "secret", "HIGH", "3.1.4") ","
                                    F("MM-IMG-001", "misconfiguration", "MEDIUM", "3.1.2") "]")));
    mm_sprow_info ri = row(r, "R07");
    CHECK_INT(ri.state, MM_SPROW_FINDINGS);
    CHECK_INT(ri.findings, 1);
    CHECK(strstr(ri.evidence, "MM-SECRET-AWS") && strstr(ri.evidence, "/srv/root"));
    CHECK_INT(row(r, "R05").state, MM_SPROW_FINDINGS);
    CHECK_INT(row(r, "R04").state, MM_SPROW_PASSING);   /* misconfig ran, no ssh */
    CHECK_INT(row(r, "R01").state, MM_SPROW_PASSING);   /* vuln ran, nothing */
    CHECK_INT(row(r, "R06").state, MM_SPROW_PASSING);   /* malware ran */
    ri = row(r, "R03");
    CHECK_INT(ri.state, MM_SPROW_PASSING);
    CHECK(strstr(ri.evidence, "debian 12") != NULL);
    /* no Kubernetes input: its rows are not covered */
    CHECK_INT(row(r, "R14").state, MM_SPROW_NOT_COVERED);
    CHECK_INT(row(r, "R15").state, MM_SPROW_NOT_COVERED);
    CHECK_INT(row(r, "R21").state, MM_SPROW_NOT_COVERED);
    /* a Kubernetes report: its rows become passing or findings */
    CHECK_OK(add(r, "k8s.json", doc("rootfs", "deploy.yaml", "[\"inventory\",\"k8s\"]", NULL, 0,
                                    "[" F("MM-K8S-201", "misconfiguration", "CRITICAL", "3.3.1")
                                    "]")));
    CHECK_INT(row(r, "R14").state, MM_SPROW_FINDINGS);
    CHECK_INT(row(r, "R15").state, MM_SPROW_PASSING);
    CHECK_INT(row(r, "R21").state, MM_SPROW_PASSING);
    CHECK_INT(row(r, "R24").state, MM_SPROW_NOT_COVERED); /* no host benchmark */
    /* rows no scan report can cover stay not covered */
    CHECK_INT(row(r, "R02").state, MM_SPROW_NOT_COVERED);
    CHECK_INT(row(r, "R27").state, MM_SPROW_NOT_COVERED);
    CHECK_INT(row(r, "R33").state, MM_SPROW_PASSING);
    mm_spreport_free(r);
}

/* issue 20: a report with a signature member checks R10 (verified: passing;
 * MM-SIG-001: findings); one without it leaves the row not covered */
static char *with_signature(char *d, const char *sig)
{
    char *s = NULL;
    size_t n = strlen(d);
    if (asprintf(&s, "%.*s,\"signature\":%s}", (int)(n - 1), d, sig) < 0)
        abort();
    free(d);
    return s;
}

MM_TEST(rows_signature_verification)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "plain.json", doc("image", "a", "[\"inventory\"]", NULL, 1, "[]")));
    CHECK_INT(row(r, "R10").state, MM_SPROW_NOT_COVERED);
    CHECK_OK(add(r, "signed.json", with_signature(doc("image", "b", "[\"inventory\"]", NULL, 1,
                                                      "[]"), "{\"verified\":true}")));
    CHECK_INT(row(r, "R10").state, MM_SPROW_PASSING);
    CHECK_OK(add(r, "unsigned.json",
                 with_signature(doc("image", "c", "[\"inventory\"]", NULL, 1,
                                    "[" F("MM-SIG-001", "trust", "HIGH", "3.1.5") "]"),
                                "{\"verified\":false}")));
    mm_sprow_info ri = row(r, "R10");
    CHECK_INT(ri.state, MM_SPROW_FINDINGS);
    CHECK_INT(ri.findings, 1);
    /* a signature that is not an object is refused, naming the member */
    CHECK_INT(add(r, "bad.json", with_signature(doc("image", "d", "[]", NULL, 1, "[]"), "7")),
              MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "signature") != NULL);
    mm_spreport_free(r);
}

MM_TEST(rows_k8s_known_from_findings_without_scanner_name)
{
    /* reports written before "k8s" was listed in scanners */
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "old.json", doc("rootfs", "x.yaml", "[\"inventory\"]", NULL, 0,
                                    "[" F("MM-PSS-privileged", "compliance", "HIGH", "3.4.3")
                                    "]")));
    CHECK_INT(row(r, "R21").state, MM_SPROW_FINDINGS);
    CHECK_INT(row(r, "R15").state, MM_SPROW_PASSING);
    CHECK_INT(row(r, "R24").state, MM_SPROW_NOT_COVERED); /* PSS is not a host check */
    mm_spreport_free(r);
}

MM_TEST(rows_admission_records_and_waf)
{
    /* an admission decision kept in the store: the object as resource, but
     * no Kubernetes posture scan ran */
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "store:admission:1", doc("rootfs", "shop/Pod/web", "[\"inventory\"]", NULL,
                                             0, "[{\"id\":\"MM-ADM-DENY\",\"kind\":"
                                             "\"misconfiguration\",\"severity\":\"HIGH\","
                                             "\"location\":{\"resource\":\"shop/Pod/web\"},"
                                             "\"section\":\"3.4.3\"}]")));
    CHECK_INT(row(r, "R21").state, MM_SPROW_FINDINGS);
    CHECK_INT(row(r, "R09").state, MM_SPROW_PASSING);     /* the image gate ran */
    CHECK_INT(row(r, "R15").state, MM_SPROW_NOT_COVERED); /* not a k8s scan */
    CHECK_INT(row(r, "R27").state, MM_SPROW_NOT_COVERED);
    CHECK_OK(add(r, "waf.json", doc("rootfs", "waf", "[\"inventory\"]", NULL, 0,
                                    "[" F("MM-WAF-001", "network", "HIGH", "3.4.4") "]")));
    CHECK_INT(row(r, "R27").state, MM_SPROW_FINDINGS);
    CHECK_INT(row(r, "R22").state, MM_SPROW_NOT_COVERED); /* a web attack is not drift */
    mm_spreport_free(r);
}

MM_TEST(rows_unmapped_section_fails_r33)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "x.json", doc("image", "a", "[\"inventory\"]", NULL, 1,
                                  "[" F("X-1", "secret", "LOW", "9.9") "]")));
    mm_sprow_info ri = row(r, "R33");
    CHECK_INT(ri.state, MM_SPROW_FINDINGS);
    CHECK(strstr(ri.evidence, "X-1") != NULL);
    mm_spreport_free(r);
}

MM_TEST(severity_filter_hides_but_keeps_state)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "img.json", doc("image", "a", "[\"inventory\",\"secret\"]", NULL, 1,
                                    "[" F("S1", "secret", "LOW", "3.1.4") "]")));
    mm_spreport_set_severities(r, 1u << MM_SEV_CRITICAL);
    mm_sprow_info ri = row(r, "R07");
    CHECK_INT(ri.state, MM_SPROW_FINDINGS);
    CHECK_INT(ri.findings, 1);
    CHECK_INT(ri.shown, 0);
    CHECK(strstr(ri.evidence, "hidden by the severity filter") != NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_OK(mm_spreport_write(f, r, MM_SPFORMAT_JSON, NULL));
    fclose(f);
    json_t *j = json_loads(buf, 0, NULL);
    REQUIRE(j);
    CHECK_INT(json_array_size(json_object_get(j, "sections")), 0);
    CHECK_INT(json_integer_value(json_object_get(json_object_get(j, "summary"), "hidden")), 1);
    json_decref(j);
    free(buf);
    mm_spreport_free(r);
}

MM_TEST(json_output_shape)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(add(r, "img.json", doc("image", "a", "[\"inventory\",\"secret\",\"misconfig\"]",
                                    "alpine", 1,
                                    "[" F("S1", "secret", "HIGH", "3.1.4") ","
                                    F("M1", "misconfiguration", "LOW", "3.1.2") ","
                                    F("S2", "secret", "CRITICAL", "3.1.4") "]")));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mm_spreport_opts o = {.now = 1700000000};
    CHECK_OK(mm_spreport_write(f, r, MM_SPFORMAT_JSON, &o));
    fclose(f);
    json_t *j = json_loads(buf, 0, NULL);
    REQUIRE(j);
    CHECK_STR(json_string_value(json_object_get(j, "kind")), "sp800-190-report");
    CHECK_STR(json_string_value(json_object_get(j, "generatedAt")), "2023-11-14T22:13:20Z");
    json_t *rows = json_object_get(j, "rows"), *secs = json_object_get(j, "sections");
    CHECK_INT(json_array_size(rows), 33);
    CHECK_STR(json_string_value(json_object_get(json_array_get(rows, 6), "state")), "findings");
    REQUIRE(json_array_size(secs) == 2);
    json_t *s0 = json_array_get(secs, 0), *s1 = json_array_get(secs, 1);
    CHECK_STR(json_string_value(json_object_get(s0, "section")), "3.1.2");
    CHECK_STR(json_string_value(json_object_get(s1, "section")), "3.1.4");
    CHECK_STR(json_string_value(json_object_get(s1, "title")), "Embedded clear-text secrets");
    /* by severity within a section */
    json_t *fa = json_object_get(s1, "findings");
    CHECK_STR(json_string_value(json_object_get(json_array_get(fa, 0), "id")), "S2");
    CHECK_INT(json_integer_value(json_object_get(json_object_get(s1, "counts"), "CRITICAL")), 1);
    json_decref(j);
    free(buf);
    mm_spreport_free(r);
}

MM_TEST(reader_errors_name_the_field)
{
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK(mm_spreport_add_json(r, "a.json", "{", 1) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "a.json") != NULL);
    const char *nosv = "{\"findings\":[]}";
    CHECK(mm_spreport_add_json(r, "b.json", nosv, strlen(nosv)) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "b.json: schemaVersion") != NULL);
    CHECK(add(r, "c.json", doc("image", "a", "[]", NULL, 1,
                               "[" F("A", "secret", "LOW", "3.1.4") ","
                               F("B", "secret", "BAD", "3.1.4") "]")) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "c.json: findings[1].severity") != NULL);
    const char *dup = "{\"schemaVersion\":1,\"schemaVersion\":1,\"findings\":[]}";
    CHECK(mm_spreport_add_json(r, "d.json", dup, strlen(dup)) == MM_EFORMAT);
    const char *noid = "{\"schemaVersion\":1,\"findings\":[{\"kind\":\"secret\"}]}";
    CHECK(mm_spreport_add_json(r, "e.json", noid, strlen(noid)) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "findings[0].id") != NULL);
    CHECK_INT(mm_spreport_input_count(r), 0); /* nothing kept of refused inputs */
    mm_spreport_free(r);
}

MM_TEST(reader_caps)
{
    mm_spreport_limits lim = {.max_findings = 2, .max_string = 8, .max_inputs = 2,
                              .max_document = 4096};
    mm_spreport *r;
    mm_spreport_new(&r, &lim);
    CHECK(add(r, "a.json", doc("image", "a", "[]", NULL, 1,
                               "[" F("A", "secret", "LOW", "3.1.4") "," F("B", "secret", "LOW",
                               "3.1.4") "," F("C", "secret", "LOW", "3.1.4") "]")) == MM_ELIMIT);
    CHECK_OK(add(r, "b.json", doc("image", "a-very-long-target-name", "[]", NULL, 1, "[]")));
    CHECK_OK(add(r, "c.json", doc("image", "a", "[]", NULL, 1, "[]")));
    CHECK(add(r, "d.json", doc("image", "a", "[]", NULL, 1, "[]")) == MM_ELIMIT);
    char big[5000];
    memset(big, ' ', sizeof big);
    mm_spreport_free(r);
    mm_spreport_new(&r, &lim);
    CHECK(mm_spreport_add_json(r, "big.json", big, sizeof big) == MM_ELIMIT);
    mm_spreport_free(r);
}

/* --- HTML escaping --------------------------------------------------------- */

static const char *const tags_ok[] = {
    "!DOCTYPE", "html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3",
    "p", "span", "section", "table", "thead", "tbody", "tr", "th", "td", "a", NULL};
static const char *const attrs_ok[] = {
    "lang", "charset", "http-equiv", "content", "name", "class", "id", "href", NULL};

static bool in_list(const char *const *l, const char *s, size_t n)
{
    for (; *l; l++)
        if (strlen(*l) == n && !strncasecmp(*l, s, n))
            return true;
    return false;
}

/* Checks every tag of html: a known name, known attributes, quoted values,
 * hrefs only to "#" anchors.  Returns the number of problems. */
static int audit_html(const char *html)
{
    int bad = 0;
    const char *p = html;
    while ((p = strchr(p, '<'))) {
        p++;
        if (*p == '/')
            p++;
        size_t n = strspn(p, "!ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
        if (!in_list(tags_ok, p, n)) {
            fprintf(stderr, "unexpected tag <%.*s>\n", (int)(n < 40 ? n : 40), p);
            bad++;
        }
        bool in_style = n == 5 && !strncmp(p, "style", 5);
        if (n == 8 && !strncmp(p, "!DOCTYPE", 8)) {
            if (strncmp(p, "!DOCTYPE html>", 14)) {
                fprintf(stderr, "odd doctype\n");
                bad++;
            }
            p += 14;
            continue;
        }
        p += n;
        while (*p && *p != '>') {
            while (*p == ' ')
                p++;
            if (*p == '>' || !*p)
                break;
            size_t an = strspn(p, "abcdefghijklmnopqrstuvwxyz-");
            if (!an) {
                fprintf(stderr, "unexpected text in a tag: %.20s\n", p);
                bad++;
                break;
            }
            if (!in_list(attrs_ok, p, an)) {
                fprintf(stderr, "unexpected attribute %.*s\n", (int)an, p);
                bad++;
            }
            bool href = an == 4 && !strncmp(p, "href", 4);
            p += an;
            if (*p != '=' || p[1] != '"') {
                fprintf(stderr, "unquoted attribute\n");
                bad++;
                break;
            }
            p += 2;
            const char *end = strchr(p, '"');
            if (!end)
                return bad + 1;
            if (href && *p != '#') {
                fprintf(stderr, "href to %.*s\n", (int)(end - p), p);
                bad++;
            }
            if (memmem(p, (size_t)(end - p), "javascript", 10) ||
                memchr(p, '<', (size_t)(end - p))) {
                fprintf(stderr, "hostile attribute value %.*s\n", (int)(end - p), p);
                bad++;
            }
            p = end + 1;
        }
        if (in_style) { /* skip the stylesheet: it is a constant */
            const char *e = strstr(p, "</style>");
            if (e)
                p = e;
        }
    }
    return bad;
}

MM_TEST(html_escapes_hostile_strings)
{
#define EVIL "<script>alert(1)</script>\\\"><img src=x onerror=alert(1)>javascript:alert(1)'"
    const char *d =
        "{\"schemaVersion\":1,\"target\":\"" EVIL "\",\"kind\":\"image\",\"scannedAt\":\"" EVIL
        "\",\"scanners\":[\"secret\",\"" EVIL "\"],\"image\":{\"reference\":\"" EVIL "\"},"
        "\"os\":{\"family\":\"" EVIL "\",\"version\":\"" EVIL "\"},\"layers\":[{}],"
        "\"findings\":[{\"id\":\"" EVIL "\",\"kind\":\"" EVIL "\",\"severity\":\"HIGH\","
        "\"title\":\"" EVIL "\",\"location\":{\"path\":\"" EVIL "\",\"image\":\"" EVIL "\","
        "\"resource\":\"" EVIL "\",\"line\":3},\"evidence\":\"" EVIL "\\u0001\\u001b[31m\","
        "\"remediation\":\"" EVIL "\",\"references\":[\"javascript:alert(1)\"],"
        "\"section\":\"" EVIL "\"},{\"id\":\"x\",\"kind\":\"secret\",\"severity\":\"LOW\","
        "\"evidence\":\"" EVIL "\",\"section\":\"3.1.4\"}]}";
    mm_spreport *r;
    mm_spreport_new(&r, NULL);
    CHECK_OK(mm_spreport_add_json(r, "<script>name.json", d, strlen(d)));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    mm_spreport_opts o = {.title = EVIL};
    CHECK_OK(mm_spreport_write(f, r, MM_SPFORMAT_HTML, &o));
    fclose(f);
    REQUIRE(buf);
    CHECK(strstr(buf, "<script") == NULL);
    CHECK(strstr(buf, "<img") == NULL);
    CHECK(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL); /* shown as text */
    CHECK(strstr(buf, "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;") != NULL);
    CHECK(strchr(buf, 0x1b) == NULL);           /* control characters replaced */
    CHECK(strstr(buf, "&#xFFFD;") != NULL);
    CHECK(strstr(buf, "Content-Security-Policy") != NULL);
    CHECK(strstr(buf, "@media print") != NULL);
    CHECK_INT(audit_html(buf), 0);
    /* the audit itself catches live markup */
    CHECK(audit_html("<p><img src=x onerror=alert(1)></p>") > 0);
    CHECK(audit_html("<a href=\"javascript:alert(1)\">x</a>") > 0);
    CHECK(audit_html("<td onclick=\"x\">") > 0);
    free(buf);
    mm_spreport_free(r);
}

MM_TEST(format_parse)
{
    mm_spformat f;
    CHECK_OK(mm_spformat_parse(&f, "html"));
    CHECK_INT(f, MM_SPFORMAT_HTML);
    CHECK_OK(mm_spformat_parse(&f, "json"));
    CHECK_INT(f, MM_SPFORMAT_JSON);
    CHECK(mm_spformat_parse(&f, "pdf") == MM_EINVAL);
}

MM_TEST_MAIN
