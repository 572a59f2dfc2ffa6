/*
 * test_rules.c - the runtime rule engine: loading Falco's upstream rule
 * files (counts, zero disabled rules for the stable file), the condition
 * language (operators, precedence, lists, macros, missing fields),
 * append/override/exceptions semantics, malformed files (errors name file,
 * line and rule), output templates, the replay source and the event model.
 */
#include <string.h>
#include <stdlib.h>

#include "mmtest.h"
#include "mamori/rules.h"
#include "mamori/event.h"
#include "mamori/sensor.h"

typedef struct hits {
    int n;
    char rule[8][128];
    char output[8][1024];
    char json[8][4096];
} hits;

static void on_alert(void *ud, const mm_alert *a)
{
    hits *h = ud;
    if (h->n < 8) {
        snprintf(h->rule[h->n], sizeof h->rule[0], "%s", a->rule);
        snprintf(h->output[h->n], sizeof h->output[0], "%s", a->output);
        char *j = mm_alert_json(a);
        snprintf(h->json[h->n], sizeof h->json[0], "%s", j ? j : "");
        free(j);
    }
    h->n++;
}

static mm_ruleset *load_str(const char *yaml)
{
    mm_ruleset *rs;
    if (mm_ruleset_new(&rs))
        return NULL;
    if (mm_ruleset_load_string(rs, "test.yaml", yaml, strlen(yaml)) ||
        mm_ruleset_compile(rs)) {
        fprintf(stderr, "load: %s\n", mm_error_last());
        mm_ruleset_free(rs);
        return NULL;
    }
    return rs;
}

/* Runs one replayed JSON event through rs; returns hits. */
static int run_json(mm_ruleset *rs, mm_replay *rp, const char *json, hits *h)
{
    const mm_event *ev;
    memset(h, 0, sizeof *h);
    int rc = mm_replay_parse(rp, json, strlen(json), &ev);
    if (rc != 1) {
        fprintf(stderr, "replay: %s\n", mm_error_last());
        return -1;
    }
    return mm_ruleset_eval(rs, ev, on_alert, h);
}

static const mm_rule_info *find_rule(mm_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++)
        if (!strcmp(mm_ruleset_rule(rs, i)->name, name))
            return mm_ruleset_rule(rs, i);
    return NULL;
}

MM_TEST(upstream_stable_zero_disabled)
{
    const char *p = mmt_shared("falco/falco_rules.yaml");
    if (!p)
        MMT_SKIP("falco testdata absent");
    mm_ruleset *rs;
    CHECK_OK(mm_ruleset_new(&rs));
    CHECK_OK(mm_ruleset_load_file(rs, p));
    CHECK_OK(mm_ruleset_compile(rs));
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.rules, 25);
    CHECK_INT(st.macros, 87);
    CHECK_INT(st.lists, 49);
    CHECK_INT(st.disabled_unsupported, 0);
    CHECK_INT(st.skipped_source, 0);
    for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++) {
        const mm_rule_info *r = mm_ruleset_rule(rs, i);
        if (r->disabled)
            fprintf(stderr, "disabled: %s: %s\n", r->name, r->disabled_reason);
    }
    /* the file disables some rules itself (enabled: false) */
    CHECK(st.enabled + st.disabled_by_file == 25);
    CHECK(st.enabled >= 20);
    mm_ruleset_free(rs);
}

static void load_report(const char *rel, size_t want_rules)
{
    const char *p = mmt_shared(rel);
    if (!p)
        MMT_SKIP("falco testdata absent");
    mm_ruleset *rs;
    CHECK_OK(mm_ruleset_new(&rs));
    CHECK_OK(mm_ruleset_load_file(rs, p));
    CHECK_OK(mm_ruleset_compile(rs));
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.rules, want_rules);
    fprintf(stderr, "%s: %zu rules: %zu enabled, %zu disabled by file, %zu unsupported, "
            "%zu other source\n", rel, st.rules, st.enabled, st.disabled_by_file,
            st.disabled_unsupported, st.skipped_source);
    for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++) {
        const mm_rule_info *r = mm_ruleset_rule(rs, i);
        if (r->disabled) {
            fprintf(stderr, "  unsupported: %s: %s\n", r->name, r->disabled_reason);
            /* a disabled rule always says why, naming what is missing */
            CHECK(r->disabled_reason && *r->disabled_reason);
        }
    }
    mm_ruleset_free(rs);
}

MM_TEST(upstream_incubating_loads)
{
    load_report("falco/falco-incubating_rules.yaml", 31);
}

MM_TEST(upstream_sandbox_loads)
{
    load_report("falco/falco-sandbox_rules.yaml", 37);
}

MM_TEST(upstream_all_three_together)
{
    /* mmt_shared returns a static buffer: copy each path at once */
    char pa[4096], pb[4096], pc[4096];
    const char *x;
    if (!(x = mmt_shared("falco/falco_rules.yaml")))
        MMT_SKIP("falco testdata absent");
    snprintf(pa, sizeof pa, "%s", x);
    if (!(x = mmt_shared("falco/falco-incubating_rules.yaml")))
        MMT_SKIP("falco testdata absent");
    snprintf(pb, sizeof pb, "%s", x);
    if (!(x = mmt_shared("falco/falco-sandbox_rules.yaml")))
        MMT_SKIP("falco testdata absent");
    snprintf(pc, sizeof pc, "%s", x);
    mm_ruleset *rs;
    CHECK_OK(mm_ruleset_new(&rs));
    CHECK_OK(mm_ruleset_load_file(rs, pa));
    CHECK_OK(mm_ruleset_load_file(rs, pb));
    CHECK_OK(mm_ruleset_load_file(rs, pc));
    CHECK_OK(mm_ruleset_compile(rs));
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.rules, 25 + 31 + 37);
    mm_ruleset_free(rs);
}

/* ---- the condition language ------------------------------------------------ */

static const char *ops_rules =
    "- list: shells\n  items: [bash, sh]\n"
    "- list: more_shells\n  items: [shells, zsh, '\"my shell\"']\n"
    "- list: nets\n  items: ['\"10.0.0.0/8\"', '\"192.168.0.0/16\"']\n"
    "- macro: spawned\n  condition: evt.type in (execve, execveat)\n"
    "- rule: r_in_nested\n  desc: d\n  condition: spawned and proc.name in (more_shells)\n"
    "  output: shell %proc.name parent=%proc.pname gp=%proc.aname[2]\n  priority: WARNING\n  tags: [a, b]\n"
    "- rule: r_quoted_item\n  desc: d\n  condition: spawned and proc.name = \"my shell\"\n"
    "  output: q\n  priority: INFO\n"
    "- rule: r_precedence\n  desc: d\n  condition: spawned and proc.name=a or proc.name=b and proc.args contains x\n"
    "  output: p\n  priority: NOTICE\n"
    "- rule: r_not_missing\n  desc: d\n  condition: spawned and proc.name=nofd and not fd.name startswith /etc\n"
    "  output: nm\n  priority: NOTICE\n"
    "- rule: r_missing_false\n  desc: d\n  condition: spawned and proc.name=nofd2 and fd.name != /etc/x\n"
    "  output: mf\n  priority: NOTICE\n"
    "- rule: r_ops\n  desc: d\n  condition: >\n    spawned and proc.name=ops and proc.cmdline icontains \"HELLO\"\n"
    "    and proc.args startswith -c and proc.exepath endswith /ops and proc.exepath glob '/usr/*/ops'\n"
    "    and proc.exepath pmatch (/usr/local, /opt) and user.uid >= 1000 and user.uid < 2000\n"
    "    and proc.pname exists and not proc.aname[9] exists and proc.aname in (init)\n"
    "    and proc.tty != 0 and toupper(proc.name) = OPS and proc.pname intersects (x, shellp)\n"
    "  output: ops\n  priority: ERROR\n"
    "- rule: r_net\n  desc: d\n  condition: evt.type=connect and fd.snet in (nets) and fd.sport in (22, 2222) and fd.l4proto=tcp\n"
    "  output: net %fd.name %fd.sip %fd.sport\n  priority: CRITICAL\n";

MM_TEST(condition_language)
{
    mm_ruleset *rs = load_str(ops_rules);
    REQUIRE(rs);
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.enabled, 7);
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    hits h;
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"zsh\",\"proc.pname\":\"sshd\"}", &h), 1);
    CHECK_STR(h.rule[0], "r_in_nested");
    CHECK_STR(h.output[0], "shell zsh parent=sshd gp=<NA>");
    CHECK(strstr(h.json[0], "\"proc.aname[2]\":null") != NULL);
    CHECK(strstr(h.json[0], "\"priority\":\"Warning\"") != NULL);
    CHECK(strstr(h.json[0], "\"tags\":[\"a\",\"b\"]") != NULL);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"bash\",\"proc.ancestors\":[{\"name\":\"sshd\"},{\"name\":\"systemd\"}]}", &h), 1);
    CHECK_STR(h.output[0], "shell bash parent=sshd gp=systemd");
    /* not an execve: the rule is not even evaluated */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"open\",\"proc.name\":\"bash\",\"fd.name\":\"/x\"}", &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"my shell\"}", &h), 2);
    /* precedence: a or (b and args contains x) */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"a\"}", &h), 1);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"b\",\"proc.args\":\"y\"}", &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"b\",\"proc.args\":\"-x\"}", &h), 1);
    /* missing fd: comparison false, its negation true */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"nofd\"}", &h), 1);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"nofd2\"}", &h), 0);
    const char *ops_ok = "{\"evt.type\":\"execve\",\"proc.name\":\"ops\",\"proc.args\":\"-c say hello\","
        "\"proc.exepath\":\"/usr/local/ops\",\"user.uid\":1500,\"proc.tty\":34816,"
        "\"proc.ancestors\":[{\"name\":\"shellp\"},{\"name\":\"init\"}]}";
    CHECK_INT(run_json(rs, rp, ops_ok, &h), 1);
    CHECK_STR(h.rule[0], "r_ops");
    const char *ops_bad_uid = "{\"evt.type\":\"execve\",\"proc.name\":\"ops\",\"proc.args\":\"-c say hello\","
        "\"proc.exepath\":\"/usr/local/ops\",\"user.uid\":2000,\"proc.tty\":34816,"
        "\"proc.ancestors\":[{\"name\":\"shellp\"},{\"name\":\"init\"}]}";
    CHECK_INT(run_json(rs, rp, ops_bad_uid, &h), 0);
    const char *ops_bad_pm = "{\"evt.type\":\"execve\",\"proc.name\":\"ops\",\"proc.args\":\"-c say hello\","
        "\"proc.exepath\":\"/usr/localx/ops\",\"user.uid\":1500,\"proc.tty\":34816,"
        "\"proc.ancestors\":[{\"name\":\"shellp\"},{\"name\":\"init\"}]}";
    CHECK_INT(run_json(rs, rp, ops_bad_pm, &h), 0);
    /* networks, ports */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"connect\",\"proc.name\":\"ssh\",\"fd.sip\":\"10.1.2.3\",\"fd.sport\":22,\"fd.cip\":\"10.0.0.5\",\"fd.cport\":40000}", &h), 1);
    CHECK_STR(h.output[0], "net 10.0.0.5:40000->10.1.2.3:22 10.1.2.3 22");
    CHECK(strstr(h.json[0], "\"fd.sport\":22") != NULL);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"connect\",\"proc.name\":\"ssh\",\"fd.sip\":\"11.1.2.3\",\"fd.sport\":22}", &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"connect\",\"proc.name\":\"ssh\",\"fd.sip\":\"192.168.1.1\",\"fd.sport\":23}", &h), 0);
    mm_replay_free(rp);
    mm_ruleset_free(rs);
}

MM_TEST(unsupported_is_disabled_with_reason)
{
    mm_ruleset *rs = load_str(
        "- rule: good\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: INFO\n"
        "- rule: badfield\n  desc: d\n  condition: evt.type=execve and proc.nosuchfield=1\n  output: o\n  priority: INFO\n"
        "- rule: badop\n  desc: d\n  condition: evt.type=execve and proc.name regex 'x.*'\n  output: o\n  priority: INFO\n"
        "- rule: badmacro\n  desc: d\n  condition: evt.type=execve and no_such_macro\n  output: o\n  priority: INFO\n"
        "- rule: badout\n  desc: d\n  condition: evt.type=execve\n  output: o %nope.field\n  priority: INFO\n"
        "- rule: badnum\n  desc: d\n  condition: evt.type=execve and user.uid = root\n  output: o\n  priority: INFO\n"
        "- rule: badtype\n  desc: d\n  condition: evt.type in (pluginevent, k8s_thing)\n  output: o\n  priority: INFO\n"
        "- rule: audit\n  desc: d\n  condition: ka.verb=create\n  output: o\n  priority: INFO\n  source: k8s_audit\n"
        "- rule: cloud\n  desc: d\n  condition: ct.name=x\n  output: o\n  priority: INFO\n  source: aws_cloudtrail\n");
    REQUIRE(rs);
    const mm_rule_info *r;
    REQUIRE((r = find_rule(rs, "good")) && !r->disabled);
    REQUIRE((r = find_rule(rs, "badfield")) && r->disabled);
    CHECK(strstr(r->disabled_reason, "proc.nosuchfield") != NULL);
    REQUIRE((r = find_rule(rs, "badop")) && r->disabled);
    CHECK(strstr(r->disabled_reason, "regex") != NULL);
    REQUIRE((r = find_rule(rs, "badmacro")) && r->disabled);
    CHECK(strstr(r->disabled_reason, "no_such_macro") != NULL);
    REQUIRE((r = find_rule(rs, "badout")) && r->disabled);
    CHECK(strstr(r->disabled_reason, "nope.field") != NULL);
    REQUIRE((r = find_rule(rs, "badnum")) && r->disabled);
    REQUIRE((r = find_rule(rs, "badtype")) && r->disabled);
    CHECK(strstr(r->disabled_reason, "pluginevent") != NULL);
    /* k8s_audit rules run on audit events (mamori k8s audit); other
     * sources are skipped */
    REQUIRE((r = find_rule(rs, "audit")) && !r->skipped && !r->disabled);
    REQUIRE((r = find_rule(rs, "cloud")) && r->skipped && !r->disabled);
    /* each disabled rule is in the warnings, with file and line */
    size_t w = 0;
    for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++)
        if (strstr(mm_ruleset_warning(rs, i), "disabled") &&
            strstr(mm_ruleset_warning(rs, i), "test.yaml:"))
            w++;
    CHECK_INT(w, 6);
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.disabled_unsupported, 6);
    CHECK_INT(st.skipped_source, 1);
    mm_ruleset_free(rs);
}

/* ---- append / override / exceptions ----------------------------------------- */

MM_TEST(append_override_exceptions)
{
    mm_ruleset *rs;
    CHECK_OK(mm_ruleset_new(&rs));
    const char *base =
        "- list: bins\n  items: [a]\n"
        "- macro: m\n  condition: proc.name in (bins)\n"
        "- rule: R\n  desc: d\n  condition: evt.type=execve and m\n  output: base %proc.name\n"
        "  priority: WARNING\n  tags: [t1]\n"
        "  exceptions:\n  - name: by_parent\n    fields: [proc.pname, proc.args]\n    comps: [=, startswith]\n"
        "    values:\n    - [okparent, \"-q\"]\n"
        "  - name: by_name\n    fields: proc.exepath\n    values: [/opt/ok/a]\n"
        "- rule: Off\n  desc: d\n  condition: evt.type=execve\n  output: off\n  priority: INFO\n  enabled: false\n";
    const char *more =
        "- list: bins\n  items: [b]\n  append: true\n"
        "- macro: m\n  condition: or proc.name = c\n  override:\n    condition: append\n"
        "- rule: R\n  condition: and not proc.args contains skip\n  append: true\n"
        "- rule: R\n  exceptions:\n  - name: by_parent\n    values:\n    - [otherparent, \"-z\"]\n  append: true\n"
        "- rule: R\n  output: replaced %proc.name\n  priority: CRITICAL\n  tags: [t2]\n"
        "  override:\n    output: replace\n    priority: replace\n    tags: append\n"
        "- rule: Off\n  enabled: true\n";
    CHECK_OK(mm_ruleset_load_string(rs, "base.yaml", base, strlen(base)));
    CHECK_OK(mm_ruleset_load_string(rs, "more.yaml", more, strlen(more)));
    CHECK_OK(mm_ruleset_compile(rs));
    const mm_rule_info *r = find_rule(rs, "R");
    REQUIRE(r);
    CHECK_INT(r->priority, MM_PRI_CRITICAL);
    CHECK_INT(r->ntags, 2);
    CHECK(find_rule(rs, "Off")->enabled);
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    hits h;
#define EV(name, extra) "{\"evt.type\":\"execve\",\"proc.name\":\"" name "\"" extra "}"
    CHECK_INT(run_json(rs, rp, EV("a", ""), &h), 2);        /* R and Off */
    CHECK_STR(h.rule[0], "R");
    CHECK_STR(h.output[0], "replaced a");
    CHECK_INT(run_json(rs, rp, EV("b", ""), &h), 2);        /* appended list item */
    CHECK_INT(run_json(rs, rp, EV("c", ""), &h), 2);        /* appended macro */
    CHECK_INT(run_json(rs, rp, EV("d", ""), &h), 1);        /* only Off */
    CHECK_INT(run_json(rs, rp, EV("a", ",\"proc.args\":\"skip\""), &h), 1); /* appended condition */
    /* exceptions: tuple match needs both fields */
    CHECK_INT(run_json(rs, rp, EV("a", ",\"proc.pname\":\"okparent\",\"proc.args\":\"-q x\""), &h), 1);
    CHECK_INT(run_json(rs, rp, EV("a", ",\"proc.pname\":\"okparent\",\"proc.args\":\"-x\""), &h), 2);
    CHECK_INT(run_json(rs, rp, EV("a", ",\"proc.pname\":\"otherparent\",\"proc.args\":\"-z\""), &h), 1);
    CHECK_INT(run_json(rs, rp, EV("a", ",\"proc.exepath\":\"/opt/ok/a\""), &h), 1);
    CHECK_INT(run_json(rs, rp, EV("a", ",\"proc.exepath\":\"/opt/ok/b\""), &h), 2);
#undef EV
    /* override replace of the condition */
    const char *repl = "- rule: R\n  condition: evt.type=open\n  override:\n    condition: replace\n";
    CHECK_OK(mm_ruleset_load_string(rs, "repl.yaml", repl, strlen(repl)));
    CHECK_OK(mm_ruleset_compile(rs));
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"a\"}", &h), 1);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"open\",\"proc.name\":\"a\",\"fd.name\":\"/x\"}", &h), 1);
    mm_replay_free(rp);
    mm_ruleset_free(rs);
}

MM_TEST(action_kill_extension)
{
    mm_ruleset *rs = load_str(
        "- rule: K\n  desc: d\n  condition: evt.type=execve and proc.name=xmrig\n  output: miner %proc.name\n"
        "  priority: CRITICAL\n  action: kill\n");
    REQUIRE(rs);
    CHECK_INT(find_rule(rs, "K")->action, MM_ACTION_KILL);
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    hits h;
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.name\":\"xmrig\"}", &h), 1);
    CHECK(strstr(h.json[0], "\"action\":\"kill\"") != NULL);
    mm_replay_free(rp);
    mm_ruleset_free(rs);
    mm_ruleset *bad;
    CHECK_OK(mm_ruleset_new(&bad));
    const char *y = "- rule: K\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: INFO\n  action: explode\n";
    CHECK(mm_ruleset_load_string(bad, "act.yaml", y, strlen(y)) == MM_EFORMAT);
    CHECK(strstr(mm_error_last(), "act.yaml:6") && strstr(mm_error_last(), "rule 'K'"));
    mm_ruleset_free(bad);
}

/* ---- malformed files: file, line and rule name ------------------------------- */

static void expect_error(const char *yaml, const char *want1, const char *want2)
{
    mm_ruleset *rs;
    CHECK_OK(mm_ruleset_new(&rs));
    int rc = mm_ruleset_load_string(rs, "bad.yaml", yaml, strlen(yaml));
    if (rc == 0)
        rc = mm_ruleset_compile(rs);
    CHECK(rc == MM_EFORMAT);
    if (!strstr(mm_error_last(), want1) || (want2 && !strstr(mm_error_last(), want2))) {
        fprintf(stderr, "error was: %s (wanted %s / %s)\n", mm_error_last(), want1,
                want2 ? want2 : "");
        CHECK(0);
    }
    mm_ruleset_free(rs);
}

MM_TEST(malformed_rule_files)
{
    /* libyaml finds the unclosed flow sequence at the end of the input */
    expect_error("- rule: A\n  desc: d\n  condition: [unclosed\n", "bad.yaml:4", "YAML");
    expect_error("- rule: A\n  desc: d\n  output: o\n  priority: INFO\n", "bad.yaml:1", "rule 'A': no 'condition'");
    expect_error("- list: l\n  items: [a]\n- rule: B\n  desc: d\n  condition: evt.type=open\n"
                 "  output: o\n  priority: LOUD\n", "bad.yaml:7", "rule 'B': unknown priority");
    expect_error("- rule: C\n  condition: and x\n  append: true\n", "bad.yaml:1", "rule 'C': append to an undefined rule");
    expect_error("- rule: E\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: INFO\n"
                 "  exceptions:\n  - name: x\n    fields: [proc.name, proc.pname]\n    values:\n    - [onlyone]\n",
                 "bad.yaml:10", "rule 'E': exception 'x'");
    expect_error("rule: notalist\n", "bad.yaml:1", "list of rules");
    expect_error("- list: L\n  items: [a, [b]]\n", "bad.yaml:2", "list 'L'");
    expect_error("- rule: F\n  desc: d\n  condition: evt.type=open\n  output: o\n  priority: INFO\n  enabled: maybe\n",
                 "bad.yaml:6", "rule 'F'");
}

/* ---- one policy: a rule that cannot compile is disabled, --strict fails ------ */

/* Loads yaml as pol.yaml: without strict the compile succeeds, rule `rule`
 * is disabled and a warning names the file, line, rule and reason; with
 * strict the compile fails with MM_EFORMAT naming the same. */
static void expect_disabled(const char *yaml, const char *rule, const char *where,
                            const char *reason)
{
    for (int strict = 0; strict < 2; strict++) {
        mm_ruleset *rs;
        CHECK_OK(mm_ruleset_new(&rs));
        mm_ruleset_set_strict(rs, strict);
        CHECK_OK(mm_ruleset_load_string(rs, "pol.yaml", yaml, strlen(yaml)));
        int rc = mm_ruleset_compile(rs);
        char want_rule[128];
        snprintf(want_rule, sizeof want_rule, "'%s'", rule);
        if (!strict) {
            CHECK_INT(rc, 0);
            bool seen = false;
            for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++) {
                const char *w = mm_ruleset_warning(rs, i);
                seen |= strstr(w, where) && strstr(w, want_rule) && strstr(w, "disabled") &&
                        strstr(w, reason);
            }
            if (!seen) {
                for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++)
                    fprintf(stderr, "warning: %s\n", mm_ruleset_warning(rs, i));
                fprintf(stderr, "wanted: %s %s disabled %s\n", where, want_rule, reason);
            }
            CHECK(seen);
            /* the other rules still run */
            const mm_rule_info *ok = NULL;
            for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++)
                if (!strcmp(mm_ruleset_rule(rs, i)->name, "fine"))
                    ok = mm_ruleset_rule(rs, i);
            REQUIRE(ok);
            CHECK(!ok->disabled);
        } else {
            CHECK_INT(rc, MM_EFORMAT);
            const char *e = mm_error_last();
            /* the first failure is named: the rule, or the macro it uses */
            bool named = (strstr(e, where) && strstr(e, want_rule)) ||
                         strstr(e, "macro '");
            if (!(named && strstr(e, "pol.yaml:") && strstr(e, reason) &&
                  strstr(e, "(strict)"))) {
                fprintf(stderr, "strict error was: %s\n", e);
                CHECK(0);
            }
        }
        mm_ruleset_free(rs);
    }
}

#define FINE "- rule: fine\n  desc: d\n  condition: evt.type=execve\n  output: o\n  priority: INFO\n"

MM_TEST(compile_failures_one_policy)
{
    /* a recursive macro */
    expect_disabled(FINE "- macro: loop\n  condition: evt.type=open and loop\n"
                    "- rule: rec\n  desc: d\n  condition: loop\n  output: o\n  priority: INFO\n",
                    "rec", "pol.yaml:8", "refers to itself");
    /* a condition nested too deeply (was a load failure) */
    char deep[4096] = FINE "- rule: deep\n  desc: d\n  condition: evt.type=execve and ";
    for (int i = 0; i < 300; i++)
        strcat(deep, "(");
    strcat(deep, "proc.name=x");
    for (int i = 0; i < 300; i++)
        strcat(deep, ")");
    strcat(deep, "\n  output: o\n  priority: INFO\n");
    expect_disabled(deep, "deep", "pol.yaml:8", "nests too deeply");
    /* a syntax error in the rule's condition (was a load failure) */
    expect_disabled(FINE "- rule: D\n  desc: d\n  condition: evt.type=open and (proc.name=x\n"
                    "  output: o\n  priority: INFO\n", "D", "pol.yaml:8", "condition");
    /* a macro that does not parse: ignored, its users disabled */
    expect_disabled(FINE "- macro: M\n  condition: proc.name in (a, b\n"
                    "- rule: usesM\n  desc: d\n  condition: evt.type=execve and M\n"
                    "  output: o\n  priority: INFO\n", "usesM", "pol.yaml:8", "macro 'M'");
    /* an unknown field */
    expect_disabled(FINE "- rule: nf\n  desc: d\n  condition: evt.type=execve and proc.nosuch=1\n"
                    "  output: o\n  priority: INFO\n", "nf", "pol.yaml:6", "proc.nosuch");
    /* the ignored macro names itself in a warning too */
    mm_ruleset *rs;
    CHECK_OK(mm_ruleset_new(&rs));
    const char *y = FINE "- macro: M\n  condition: proc.name in (a, b\n";
    CHECK_OK(mm_ruleset_load_string(rs, "pol.yaml", y, strlen(y)));
    CHECK_OK(mm_ruleset_compile(rs));
    bool seen = false;
    for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++)
        seen |= strstr(mm_ruleset_warning(rs, i), "pol.yaml:7: macro 'M' ignored") != NULL;
    CHECK(seen);
    mm_ruleset_free(rs);
}

/* ---- replay: wrongly typed fields are errors naming line, field and type ---- */

static void expect_replay_error(const char *line, const char *want)
{
    mm_replay *rp;
    CHECK_OK(mm_replay_new_mem(&rp));
    const mm_event *ev;
    int rc = mm_replay_parse(rp, line, strlen(line), &ev);
    CHECK_INT(rc, MM_EFORMAT);
    if (rc == MM_EFORMAT && !strstr(mm_error_last(), want)) {
        fprintf(stderr, "error was: %s (wanted %s)\n", mm_error_last(), want);
        CHECK(0);
    }
    mm_replay_free(rp);
}

MM_TEST(replay_field_types)
{
    expect_replay_error("{\"evt.type\":\"execve\",\"proc.pid\":\"x\"}",
                        "\"proc.pid\": expected an integer (or a string of one), got the string \"x\"");
    expect_replay_error("{\"evt.type\":123}",
                        "\"evt.type\": expected a string, got the integer 123");
    expect_replay_error("{\"proc.pid\":1}", "no \"evt.type\"");
    expect_replay_error("{\"evt.type\":\"execve\",\"proc.name\":[\"a\"]}",
                        "\"proc.name\": expected a string, got an array");
    expect_replay_error("{\"evt.type\":\"connect\",\"fd.sport\":1.5}",
                        "\"fd.sport\": expected an integer (or a string of one), got the number 1.5");
    expect_replay_error("{\"evt.type\":\"execve\",\"container.privileged\":\"yes\"}",
                        "\"container.privileged\": expected true or false");
    /* right types, including a number written as a string, still parse */
    mm_replay *rp;
    CHECK_OK(mm_replay_new_mem(&rp));
    const mm_event *ev;
    const char *ok = "{\"evt.type\":\"execve\",\"proc.pid\":\"42\",\"proc.name\":\"sh\","
                     "\"container.privileged\":true}";
    CHECK_INT(mm_replay_parse(rp, ok, strlen(ok), &ev), 1);
    CHECK_INT(ev->pid, 42);
    mm_replay_free(rp);
}

/* ---- event model: process table and fds ------------------------------------- */

MM_TEST(proctab_tree_and_fds)
{
    mm_proctab *t;
    mm_proctab_new(&t, 0);
    mm_proc *init = mm_proctab_add(t, 1, 0);
    mm_proc_set(&init->comm, "init");
    mm_event ev = {0};
    ev.type = MM_EVT_CLONE;
    ev.pid = 1;
    ev.res = 100;
    mm_proctab_apply(t, &ev);
    mm_proc *c = mm_proctab_get(t, 100);
    REQUIRE(c);
    CHECK_STR(c->comm, "init");          /* inherited until execve */
    CHECK(c->parent == init);
    mm_proc_set(&c->comm, "bash");
    mm_proc_set(&c->cwd, "/home/u");
    /* socket + connect + dup2 onto stdout */
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_SOCKET; ev.pid = 100; ev.res = 3; ev.sock_domain = 2; ev.sock_type = 1;
    mm_proctab_apply(t, &ev);
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_CONNECT; ev.pid = 100; ev.arg_fd = 3; ev.res = 0;
    ev.addr.family = 2; ev.addr.ip.ip[0] = 10; ev.addr.ip.ip[3] = 1; ev.addr.port = 4444;
    ev.laddr.family = 2; ev.laddr.ip.ip[0] = 10; ev.laddr.ip.ip[3] = 2; ev.laddr.port = 5555;
    mm_proctab_apply(t, &ev);
    REQUIRE(ev.fd);
    CHECK_STR(ev.fd->name, "10.0.0.2:5555->10.0.0.1:4444");
    CHECK(ev.fd->connected);
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_DUP2; ev.pid = 100; ev.arg_fd = 3; ev.res = 1;
    mm_proctab_apply(t, &ev);
    REQUIRE(ev.fd);
    CHECK_INT(ev.fd->fd, 1);
    CHECK_INT(ev.fd->type, MM_FD_IPV4);
    /* relative open resolves against the cwd */
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_OPENAT; ev.pid = 100; ev.arg_fd = -100; ev.res = 4; ev.path = "../x/./y//z";
    mm_proctab_apply(t, &ev);
    REQUIRE(ev.fd);
    CHECK_STR(ev.fd->name, "/home/x/y/z");
    /* a child keeps its parent record after the parent exits */
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_FORK; ev.pid = 100; ev.res = 200;
    mm_proctab_apply(t, &ev);
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_PROCEXIT; ev.pid = 100;
    mm_proctab_apply(t, &ev);
    CHECK(mm_proctab_get(t, 100) == NULL);
    mm_proc *g = mm_proctab_get(t, 200);
    REQUIRE(g);
    CHECK_STR(mm_proc_ancestor(g, 1)->comm, "bash");
    CHECK_STR(mm_proc_ancestor(g, 2)->comm, "init");
    CHECK(mm_proc_ancestor(g, 3) == NULL);
    CHECK(mm_proc_fd(g, 1) && mm_proc_fd(g, 1)->type == MM_FD_IPV4);
    /* close removes */
    memset(&ev, 0, sizeof ev);
    ev.type = MM_EVT_CLOSE; ev.pid = 200; ev.arg_fd = 1; ev.res = 0;
    mm_proctab_apply(t, &ev);
    CHECK(ev.fd && ev.fd->type == MM_FD_IPV4);
    CHECK(mm_proc_fd(g, 1) == NULL);
    CHECK_STR(mm_evt_type_name(MM_EVT_FINIT_MODULE), "finit_module");
    CHECK_INT(mm_evt_type_from_name("openat2"), MM_EVT_OPENAT2);
    CHECK_INT(mm_evt_type_from_name("nope"), MM_EVT_UNKNOWN);
    mm_proctab_free(t);
}

/* ---- replay: process table from pid/ppid, fd state, capture round trip -------- */

MM_TEST(replay_stateful_and_roundtrip)
{
    mm_ruleset *rs = load_str(
        "- rule: redirect\n  desc: d\n  condition: evt.type in (dup, dup2, dup3) and container.id != host"
        " and evt.rawres in (0, 1, 2) and fd.type in (ipv4, ipv6)\n"
        "  output: redirect %proc.name %fd.name gp=%proc.aname[2] ct=%container.id\n  priority: NOTICE\n"
        "- rule: shadow\n  desc: d\n  condition: evt.type in (open, openat) and evt.is_open_read=true and fd.name=/etc/shadow\n"
        "  output: read %fd.name by %proc.cmdline flags=%evt.arg.flags\n  priority: WARNING\n");
    REQUIRE(rs);
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    hits h;
    const char *lines[] = {
        "{\"evt.type\":\"execve\",\"proc.pid\":10,\"proc.name\":\"runc\",\"container.id\":\"abcdef012345\"}",
        "{\"evt.type\":\"execve\",\"proc.pid\":11,\"proc.ppid\":10,\"proc.name\":\"sh\",\"container.id\":\"abcdef012345\"}",
        "{\"evt.type\":\"execve\",\"proc.pid\":12,\"proc.ppid\":11,\"proc.name\":\"rev\",\"proc.argv\":[\"rev\",\"-x\"],\"container.id\":\"abcdef012345\"}",
        "{\"evt.type\":\"socket\",\"proc.pid\":12,\"evt.rawres\":5,\"evt.arg.domain\":\"AF_INET\",\"evt.arg.type\":\"SOCK_STREAM\"}",
        "{\"evt.type\":\"connect\",\"proc.pid\":12,\"evt.arg.fd\":5,\"fd.num\":5,\"fd.sip\":\"10.0.0.9\",\"fd.sport\":4444,\"fd.cip\":\"10.0.0.2\",\"fd.cport\":33333}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        CHECK_INT(run_json(rs, rp, lines[i], &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"dup2\",\"proc.pid\":12,\"evt.arg.oldfd\":5,\"evt.rawres\":1}", &h), 1);
    CHECK_STR(h.output[0], "redirect rev 10.0.0.2:33333->10.0.0.9:4444 gp=runc ct=abcdef012345");
    /* benign twin: dup2 of a file */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"openat\",\"proc.pid\":12,\"evt.arg.name\":\"/tmp/log\",\"evt.arg.flags\":\"O_WRONLY|O_CREAT\",\"evt.rawres\":6}", &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"dup2\",\"proc.pid\":12,\"evt.arg.oldfd\":6,\"evt.rawres\":1}", &h), 0);
    /* capture round trip: the written line fires the same way */
    const mm_event *ev;
    const char *sh = "{\"evt.type\":\"openat\",\"proc.pid\":12,\"evt.arg.name\":\"/etc/shadow\",\"evt.arg.flags\":\"O_RDONLY|O_CLOEXEC\",\"evt.rawres\":7}";
    REQUIRE(mm_replay_parse(rp, sh, strlen(sh), &ev) == 1);
    memset(&h, 0, sizeof h);
    CHECK_INT(mm_ruleset_eval(rs, ev, on_alert, &h), 1);
    CHECK_STR(h.output[0], "read /etc/shadow by rev -x flags=O_CLOEXEC|O_RDONLY");
    char *cap = mm_event_to_json(ev);
    REQUIRE(cap);
    mm_replay *rp2;
    mm_replay_new_mem(&rp2);
    hits h2;
    CHECK_INT(run_json(rs, rp2, cap, &h2), 1);
    CHECK_STR(h2.output[0], h.output[0]);
    free(cap);
    /* bad lines are errors naming the line */
    CHECK(mm_replay_parse(rp2, "{\"proc.name\":\"x\"}", 17, &ev) < 0);
    CHECK(strstr(mm_error_last(), "evt.type") != NULL);
    CHECK(mm_replay_parse(rp2, "{\"evt.type\":\"nope\"}", 19, &ev) < 0);
    CHECK(mm_replay_parse(rp2, "{bad json", 9, &ev) < 0);
    mm_replay_free(rp2);
    mm_replay_free(rp);
    mm_ruleset_free(rs);
}

static mm_ruleset *load_src(const char *yaml, const mm_source_caps *caps, bool strict, int *rc)
{
    mm_ruleset *rs;
    if (mm_ruleset_new(&rs))
        return NULL;
    mm_ruleset_set_source(rs, caps, strict);
    if (mm_ruleset_load_string(rs, "src.yaml", yaml, strlen(yaml))) {
        mm_ruleset_free(rs);
        return NULL;
    }
    *rc = mm_ruleset_compile(rs);
    return rs;
}

static const mm_rule_info *rule_named(mm_ruleset *rs, const char *name)
{
    for (size_t i = 0; i < mm_ruleset_rule_count(rs); i++)
        if (!strcmp(mm_ruleset_rule(rs, i)->name, name))
            return mm_ruleset_rule(rs, i);
    return NULL;
}

/* Rules a source cannot serve: disabled with the event or field named,
 * dead branches ignored, outputs only warned about, strict fails */
MM_TEST(source_capabilities_rule_states)
{
    static const mm_source_field missing[] = {
        {"!evt.arg.name", NULL},
        {"evt.arg.*", "no arguments here"},
        {"fd.nameraw", "no raw names here"},
        {"proc.env", "no environment here"},
    };
    mm_source_caps caps = {0};
    caps.name = "test";
    caps.types_why = "only exec and open";
    const mm_evt_type prod[] = { MM_EVT_EXECVE, MM_EVT_OPENAT };
    for (size_t i = 0; i < 2; i++)
        caps.types[prod[i] / 64] |= 1ull << (prod[i] % 64);
    caps.missing = missing;
    caps.nmissing = sizeof missing / sizeof missing[0];
    const char *yaml =
        "- rule: on connect\n  desc: d\n  condition: evt.type = connect and fd.sport = 22\n"
        "  output: x\n  priority: NOTICE\n"
        "- rule: raw name\n  desc: d\n  condition: evt.type = openat and fd.nameraw contains ../\n"
        "  output: x\n  priority: NOTICE\n"
        "- rule: dead branch\n  desc: d\n  condition: (evt.type = connect and evt.arg.flags contains X) or (evt.type = openat and evt.arg.name = /etc/shadow)\n"
        "  output: x %proc.env\n  priority: NOTICE\n"
        "- rule: env in exec\n  desc: d\n  condition: evt.type = execve and proc.env contains HTTP_PROXY\n"
        "  output: x\n  priority: NOTICE\n"
        "- rule: upstream off\n  desc: d\n  condition: evt.type = openat\n"
        "  output: x\n  priority: NOTICE\n  enabled: false\n";
    int rc = 0;
    mm_ruleset *rs = load_src(yaml, &caps, false, &rc);
    REQUIRE(rs);
    CHECK_INT(rc, 0);
    const mm_rule_info *r = rule_named(rs, "on connect");
    CHECK(r->disabled && r->unsupported_source);
    CHECK(strstr(r->disabled_reason, "connect") && strstr(r->disabled_reason, "only exec and open"));
    r = rule_named(rs, "raw name");
    CHECK(r->unsupported_source && strstr(r->disabled_reason, "fd.nameraw"));
    r = rule_named(rs, "dead branch");
    CHECK(!r->disabled);   /* the connect branch cannot matter here */
    r = rule_named(rs, "env in exec");
    CHECK(r->unsupported_source && strstr(r->disabled_reason, "proc.env") &&
          strstr(r->disabled_reason, "no environment here"));
    r = rule_named(rs, "upstream off");
    CHECK(!r->disabled && !r->enabled);
    mm_ruleset_stats st;
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.enabled, 1);
    CHECK_INT(st.disabled_source, 3);
    CHECK_INT(st.disabled_by_file, 1);
    bool warned = false, outwarn = false;
    for (size_t i = 0; i < mm_ruleset_warning_count(rs); i++) {
        const char *w = mm_ruleset_warning(rs, i);
        warned |= strstr(w, "rule 'raw name' disabled") && strstr(w, "fd.nameraw");
        outwarn |= strstr(w, "rule 'dead branch'") && strstr(w, "proc.env") && strstr(w, "<NA>");
    }
    CHECK(warned);
    CHECK(outwarn);
    /* the live rule still fires on what the source produces */
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    hits h;
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"openat\",\"proc.pid\":5,\"evt.arg.name\":\"/etc/shadow\",\"evt.rawres\":3}", &h), 1);
    mm_replay_free(rp);
    mm_ruleset_free(rs);
    /* strict: the compile fails, naming the first rule and what it needs */
    rs = load_src(yaml, &caps, true, &rc);
    REQUIRE(rs);
    CHECK_INT(rc, MM_EUNSUPPORTED);
    CHECK(strstr(mm_error_last(), "rule 'on connect'") && strstr(mm_error_last(), "strict"));
    mm_ruleset_free(rs);
    /* no source: every rule compiles as before (replayed captures) */
    rs = load_src(yaml, NULL, true, &rc);
    REQUIRE(rs);
    CHECK_INT(rc, 0);
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.enabled, 4);
    mm_ruleset_free(rs);
    /* the sensors' own capabilities: the fallback cannot serve ptrace or
     * evt.arg.flags; the eBPF sensor can */
    mm_source_caps fb, bpf;
    mm_sensor_caps(&fb, MM_SENSOR_FALLBACK);
    mm_sensor_caps(&bpf, MM_SENSOR_BPF);
    const char *y2 =
        "- rule: ptrace\n  desc: d\n  condition: evt.type = ptrace and evt.arg.request = PTRACE_ATTACH\n"
        "  output: x\n  priority: NOTICE\n"
        "- rule: trunc\n  desc: d\n  condition: evt.type in (open, openat) and evt.arg.flags contains O_TRUNC\n"
        "  output: x\n  priority: NOTICE\n"
        "- rule: recv\n  desc: d\n  condition: evt.type in (recvfrom, recvmsg) and fd.sport = 53\n"
        "  output: x\n  priority: NOTICE\n";
    rs = load_src(y2, &fb, false, &rc);
    REQUIRE(rs);
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.disabled_source, 3);
    mm_ruleset_free(rs);
    rs = load_src(y2, &bpf, false, &rc);
    REQUIRE(rs);
    mm_ruleset_stats_get(rs, &st);
    CHECK_INT(st.enabled, 3);
    mm_ruleset_free(rs);
}

/* evt.is_open_exec: an open that created the file with an execute bit;
 * container.mount.*[X] is <NA> when the mounts are known and none matches */
MM_TEST(open_exec_and_known_mounts)
{
    mm_ruleset *rs = load_str(
        "- rule: open exec\n  desc: d\n  condition: evt.type = openat and evt.is_open_exec = true\n"
        "  output: \"oe %fd.name\"\n  priority: NOTICE\n"
        "- rule: sensitive mount\n  desc: d\n  condition: evt.type = execve and container.id != host and not container.mount.dest[/proc*] in (\"<NA>\",\"N/A\")\n"
        "  output: \"sm %container.mount.dest[/proc*]\"\n  priority: NOTICE\n");
    REQUIRE(rs);
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    hits h;
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"openat\",\"proc.pid\":7,\"evt.arg.name\":\"/tmp/x\",\"evt.arg.flags\":\"O_WRONLY|O_CREAT|O_F_CREATED\",\"evt.arg.mode\":493,\"evt.rawres\":3}", &h), 1);
    CHECK_STR(h.output[0], "oe /tmp/x");
    /* created, but not executable; executable, but not created */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"openat\",\"proc.pid\":7,\"evt.arg.name\":\"/tmp/y\",\"evt.arg.flags\":\"O_WRONLY|O_CREAT|O_F_CREATED\",\"evt.arg.mode\":420,\"evt.rawres\":4}", &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"openat\",\"proc.pid\":7,\"evt.arg.name\":\"/tmp/z\",\"evt.arg.flags\":\"O_WRONLY|O_CREAT\",\"evt.arg.mode\":493,\"evt.rawres\":5}", &h), 0);
    /* mounts known, none sensitive: quiet; a host /proc bind: fires */
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.pid\":8,\"container.id\":\"aaaaaaaaaaaa\",\"container.mounts\":[{\"source\":\"/srv\",\"dest\":\"/data\",\"mode\":\"ro\",\"rw\":false}]}", &h), 0);
    CHECK_INT(run_json(rs, rp, "{\"evt.type\":\"execve\",\"proc.pid\":9,\"container.id\":\"bbbbbbbbbbbb\",\"container.mounts\":[{\"source\":\"/proc\",\"dest\":\"/host/proc\",\"mode\":\"ro\",\"rw\":false}]}", &h), 1);
    CHECK_STR(h.output[0], "sm /host/proc");
    mm_replay_free(rp);
    mm_ruleset_free(rs);
}

MM_TEST_MAIN
