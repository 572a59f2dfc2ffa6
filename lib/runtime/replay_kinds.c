/*
 * replay_kinds.c - the types of the keys a replayed event line may hold
 * (docs/rules.md, "Event format"): names and paths are strings; pids,
 * ports, ids and times integers (or strings of one); flags true/false.  A
 * key of the wrong type is an error naming it, the type wanted and what was
 * given, so that `"proc.pid":"x"` is never silently read as no pid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "runtime/runtime_int.h"

enum { K_STR, K_INT, K_BOOL, K_STR_OR_INT };

static const struct { const char *key; int kind; } key_kinds[] = {
    {"evt.type", K_STR}, {"evt.dir", K_STR}, {"evt.res", K_STR_OR_INT},
    {"evt.time", K_STR_OR_INT}, {"evt.num", K_INT}, {"evt.rawres", K_INT},
    {"evt.rawtime", K_INT},
    {"proc.name", K_STR}, {"proc.exe", K_STR}, {"proc.exepath", K_STR},
    {"proc.cwd", K_STR}, {"proc.env", K_STR}, {"proc.cgroup", K_STR},
    {"proc.args", K_STR}, {"proc.cmdline", K_STR},
    {"proc.pname", K_STR}, {"proc.pexe", K_STR}, {"proc.pexepath", K_STR},
    {"proc.pcmdline", K_STR},
    {"proc.pid", K_INT}, {"proc.ppid", K_INT}, {"proc.vpid", K_INT}, {"proc.sid", K_INT},
    {"proc.vpgid", K_INT}, {"proc.tty", K_INT}, {"proc.duration", K_INT},
    {"proc.is_exe_writable", K_BOOL}, {"proc.is_exe_upper_layer", K_BOOL},
    {"proc.is_exe_lower_layer", K_BOOL}, {"proc.is_exe_from_memfd", K_BOOL},
    {"thread.tid", K_INT},
    {"user.uid", K_INT}, {"group.gid", K_INT}, {"user.loginuid", K_INT},
    {"user.name", K_STR}, {"user.loginname", K_STR}, {"user.homedir", K_STR},
    {"user.shell", K_STR}, {"group.name", K_STR},
    {"thread.cap_effective", K_STR_OR_INT}, {"thread.cap_permitted", K_STR_OR_INT},
    {"thread.cap_inheritable", K_STR_OR_INT},
    {"container.id", K_STR}, {"container.full_id", K_STR}, {"container.name", K_STR},
    {"container.image", K_STR}, {"container.image.repository", K_STR},
    {"container.image.tag", K_STR}, {"container.image.id", K_STR},
    {"container.image.digest", K_STR}, {"container.type", K_STR},
    {"container.privileged", K_BOOL}, {"container.start_ts", K_INT},
    {"fd.name", K_STR}, {"fd.nameraw", K_STR}, {"fd.type", K_STR}, {"fd.typechar", K_STR},
    {"fd.sip", K_STR}, {"fd.cip", K_STR}, {"fd.lip", K_STR}, {"fd.rip", K_STR},
    {"fd.num", K_INT}, {"fd.ino", K_INT}, {"fd.dev", K_INT}, {"fd.sport", K_INT},
    {"fd.cport", K_INT}, {"fd.lport", K_INT}, {"fd.rport", K_INT},
    {"fd.connected", K_BOOL}, {"fd.is_server", K_BOOL},
};

static const char *kind_name(int kind)
{
    return kind == K_STR ? "a string"
         : kind == K_INT ? "an integer (or a string of one)"
         : kind == K_BOOL ? "true or false"
                          : "a string or an integer";
}

/* what v is, with its value when short: `the string "x"`, `the integer 3` */
static void describe(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        snprintf(buf, len, "the string \"%.40s%s\"", json_string_value(v),
                 strlen(json_string_value(v)) > 40 ? "..." : "");
    else if (json_is_integer(v))
        snprintf(buf, len, "the integer %lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, len, "the number %g", json_real_value(v));
    else if (json_is_boolean(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
    else if (json_is_null(v))
        snprintf(buf, len, "null");
    else
        snprintf(buf, len, "%s", json_is_array(v) ? "an array" : "an object");
}

static bool kind_ok(int kind, json_t *v)
{
    switch (kind) {
    case K_STR:
        return json_is_string(v);
    case K_STR_OR_INT:
        return json_is_string(v) || json_is_integer(v);
    case K_BOOL:
        if (json_is_string(v))
            return !strcmp(json_string_value(v), "true") || !strcmp(json_string_value(v), "false");
        return json_is_boolean(v) || json_is_integer(v);
    default:
        if (json_is_integer(v))
            return true;
        if (json_is_string(v)) {
            const char *s = json_string_value(v);
            char *e;
            errno = 0;
            (void)strtoll(s, &e, 0);
            return *s && !*e && !errno;
        }
        return false;
    }
}

int mm_replay_kinds_check(json_t *o)
{
    for (size_t i = 0; i < sizeof key_kinds / sizeof key_kinds[0]; i++) {
        json_t *v = json_object_get(o, key_kinds[i].key);
        if (!v || kind_ok(key_kinds[i].kind, v))
            continue;
        char got[80];
        describe(v, got, sizeof got);
        return mm_error_set(MM_EFORMAT, "\"%s\": expected %s, got %s", key_kinds[i].key,
                            kind_name(key_kinds[i].kind), got);
    }
    return MM_OK;
}
