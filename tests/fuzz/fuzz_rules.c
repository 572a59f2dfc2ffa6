/*
 * fuzz_rules.c - libFuzzer target for the runtime rule engine's two inputs
 * from outside: rule files and replayed events.  The first byte picks the
 * mode: even = the rest is a Falco rules file (loaded, compiled, then a few
 * fixed events are evaluated against whatever compiled, so that the
 * evaluator meets fuzzed conditions and output templates; bit 1 set: strict
 * loading, where a rule that cannot compile fails the load); odd = the rest is
 * JSON lines replayed through a small fixed ruleset (the replay parser and
 * the process/fd table on hostile lines).  Neither may crash, leak or read
 * out of bounds; errors are fine.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fixed_rules =
    "- list: shells\n  items: [bash, sh]\n"
    "- macro: spawned\n  condition: evt.type in (execve, execveat)\n"
    "- rule: shell\n  desc: d\n  condition: spawned and proc.name in (shells) and proc.aname[2] exists\n"
    "  output: s %proc.name %proc.aname[3] %fd.name %evt.arg.flags\n  priority: INFO\n"
    "- rule: net\n  desc: d\n  condition: evt.type in (connect, dup2) and fd.snet in (\"10.0.0.0/8\")"
    " and fd.sport in (22, 80)\n  output: n %fd.name %fd.sip %fd.lport\n  priority: INFO\n"
    "- rule: file\n  desc: d\n  condition: evt.type in (open, openat) and fd.name pmatch (/etc) and"
    " evt.is_open_write=true\n  output: f %fd.name %fd.nameraw %fd.directory\n  priority: INFO\n";

static const char *fixed_events[] = {
    "{\"evt.type\":\"execve\",\"proc.pid\":2,\"proc.ppid\":1,\"proc.name\":\"bash\","
    "\"proc.ancestors\":[{\"name\":\"a\"},{\"name\":\"b\"}],\"container.id\":\"0123456789ab\"}",
    "{\"evt.type\":\"openat\",\"proc.pid\":2,\"evt.arg.name\":\"../etc/x\",\"evt.arg.flags\":"
    "\"O_WRONLY\",\"evt.rawres\":3}",
    "{\"evt.type\":\"connect\",\"proc.pid\":2,\"fd.num\":4,\"fd.sip\":\"10.0.0.1\",\"fd.sport\":22}",
    "{\"evt.type\":\"dup2\",\"proc.pid\":2,\"evt.arg.oldfd\":4,\"evt.rawres\":1}",
};

static void sink(void *ud, const mm_alert *a)
{
    char *j = mm_alert_json(a);
    (*(size_t *)ud) += j ? strlen(j) : 0;
    free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    mm_ruleset *rs;
    if (mm_ruleset_new(&rs))
        return 0;
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    size_t total = 0;
    const mm_event *ev;
    if ((data[0] & 1) == 0) {
        mm_ruleset_set_strict(rs, (data[0] & 2) != 0);
        if (mm_ruleset_load_string(rs, "fuzz.yaml", text, len) == 0 &&
            mm_ruleset_compile(rs) == 0) {
            for (size_t i = 0; i < sizeof fixed_events / sizeof fixed_events[0]; i++)
                if (mm_replay_parse(rp, fixed_events[i], strlen(fixed_events[i]), &ev) == 1)
                    mm_ruleset_eval(rs, ev, sink, &total);
        }
    } else {
        if (mm_ruleset_load_string(rs, "fixed.yaml", fixed_rules, strlen(fixed_rules)) == 0 &&
            mm_ruleset_compile(rs) == 0) {
            const char *p = text, *end = text + len;
            while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
                if (mm_replay_parse(rp, p, l, &ev) == 1) {
                    mm_ruleset_eval(rs, ev, sink, &total);
                    char *cap = mm_event_to_json(ev);
                    free(cap);
                }
                p += l + 1;
            }
        }
    }
    mm_replay_free(rp);
    mm_ruleset_free(rs);
    return 0;
}
