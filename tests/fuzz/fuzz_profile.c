/*
 * fuzz_profile.c - libFuzzer target for behaviour profiles (mamori/
 * profile.h), whose two inputs come from outside: profile files and the
 * events a profile is learned from.  The first byte picks the mode:
 *  - even: the rest is a profile file; when it loads, a few fixed events
 *    are checked against it (fuzzed globs, ports and networks meet real
 *    paths and addresses) and its rewrite must load again;
 *  - odd: the rest is JSON lines (the replay format) learned into a
 *    profile with small collapse thresholds (so that generalisation runs),
 *    written as YAML, which must load again, then checked.
 * Nothing may crash, leak or read out of bounds; a written profile that
 * does not load back is a bug (abort).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mamori/profile.h"
#include "mamori/rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fixed_events[] = {
    "{\"evt.type\":\"execve\",\"proc.pid\":2,\"proc.ppid\":1,\"proc.name\":\"sh\","
    "\"proc.exepath\":\"/bin/sh\",\"proc.ancestors\":[{\"pid\":1,\"name\":\"init\"}],"
    "\"container.id\":\"0123456789ab\",\"container.image\":\"x:1\"}",
    "{\"evt.type\":\"openat\",\"proc.pid\":2,\"evt.arg.name\":\"/tmp/a/b/c\",\"evt.arg.flags\":"
    "\"O_WRONLY\",\"evt.rawres\":3}",
    "{\"evt.type\":\"rename\",\"proc.pid\":2,\"evt.arg.oldpath\":\"/a\",\"evt.arg.newpath\":\"b\"}",
    "{\"evt.type\":\"listen\",\"proc.pid\":2,\"fd.num\":4,\"evt.arg.fd\":4,\"fd.type\":\"ipv4\","
    "\"fd.sip\":\"0.0.0.0\",\"fd.sport\":80}",
    "{\"evt.type\":\"connect\",\"proc.pid\":2,\"fd.num\":5,\"evt.arg.fd\":5,\"fd.type\":\"ipv6\","
    "\"fd.sip\":\"::ffff:10.1.2.3\",\"fd.sport\":443}",
    "{\"evt.type\":\"execve\",\"proc.pid\":3,\"proc.name\":\"t\",\"proc.exepath\":\"/usr/bin/t\"}",
};

static void sink(void *ud, const mm_alert *a)
{
    char *j = mm_alert_json(a);
    (*(size_t *)ud) += j ? strlen(j) : 0;
    free(j);
}

static void check_events(mm_profile *p, size_t *total)
{
    mm_replay *rp;
    mm_replay_new_mem(&rp);
    const mm_event *ev;
    for (size_t i = 0; i < sizeof fixed_events / sizeof fixed_events[0]; i++)
        if (mm_replay_parse(rp, fixed_events[i], strlen(fixed_events[i]), &ev) == 1)
            mm_profile_check(p, ev, sink, total);
    mm_replay_free(rp);
}

/* The rewrite of p must load: the writer's output is the reviewed file. */
static void reload(mm_profile *p, size_t *total)
{
    char *y = mm_profile_to_yaml(p);
    mm_profile *q = NULL;
    if (!y || mm_profile_load_string(&q, "rewrite.yaml", y, strlen(y)) != 0) {
        fprintf(stderr, "rewritten profile does not load: %s\n%s\n", mm_error_last(),
                y ? y : "(null)");
        abort();
    }
    check_events(q, total);
    mm_profile_free(q);
    free(y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1u << 20))
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    size_t total = 0;
    mm_profile *p = NULL;
    if ((data[0] & 1) == 0) {
        if (mm_profile_load_string(&p, "fuzz.yaml", text, len) == 0) {
            check_events(p, &total);
            reload(p, &total);
        }
    } else {
        mm_profile_opts o = {.dir_collapse = 2, .net_collapse = 2};
        mm_profile_new(&p, &o);
        mm_replay *rp;
        mm_replay_new_mem(&rp);
        const char *q = text, *end = text + len;
        while (q < end) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            size_t l = nl ? (size_t)(nl - q) : (size_t)(end - q);
            const mm_event *ev;
            if (mm_replay_parse(rp, q, l, &ev) == 1) {
                mm_profile_learn(p, ev);
                mm_profile_check(p, ev, sink, &total);
            }
            q += l + 1;
        }
        mm_replay_free(rp);
        reload(p, &total);
    }
    mm_profile_free(p);
    return 0;
}
