/*
 * fields.c - the Falco field registry: every field name the engine knows
 * (evt.*, proc.*, thread.*, user.*, group.*, container.*, k8s.*, fd.*), its
 * type and argument form, and how its value is read from an mm_event and its
 * process record.  Values are pointers into the event where possible; the
 * few computed ones (proc.cmdline, flag names, capability lists) go into a
 * per-event arena.  A field with no value for an event returns 0 values,
 * which makes every comparison on it false, as in Falco.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "runtime/runtime_int.h"

enum {
    /* evt */
    F_EVT_NUM = 1, F_EVT_TIME, F_EVT_TIME_S, F_EVT_TIME_ISO, F_EVT_DATETIME,
    F_EVT_RAWTIME, F_EVT_TYPE, F_EVT_DIR, F_EVT_CPU, F_EVT_RES, F_EVT_RAWRES,
    F_EVT_FAILED, F_EVT_OPEN_READ, F_EVT_OPEN_WRITE, F_EVT_OPEN_EXEC, F_EVT_ARGS,
    F_EVT_ARG, F_EVT_RAWARG, F_EVT_HOSTNAME, F_EVT_BUFFER, F_EVT_BUFLEN,
    F_EVT_SOURCE, F_EVT_IS_IO, F_EVT_IS_IO_READ, F_EVT_IS_IO_WRITE, F_SYSCALL_TYPE,
    /* proc */
    F_PROC_PID, F_PROC_EXE, F_PROC_NAME, F_PROC_ARGS, F_PROC_ENV, F_PROC_CMDLINE,
    F_PROC_EXELINE, F_PROC_CWD, F_PROC_PPID, F_PROC_PNAME, F_PROC_PCMDLINE,
    F_PROC_PEXE, F_PROC_PEXEPATH, F_PROC_APID, F_PROC_ANAME, F_PROC_AEXE,
    F_PROC_AEXEPATH, F_PROC_ACMDLINE, F_PROC_DURATION, F_PROC_PPID_DURATION,
    F_PROC_TTY, F_PROC_EXEPATH, F_PROC_SID, F_PROC_SNAME, F_PROC_SID_EXE,
    F_PROC_SID_EXEPATH, F_PROC_VPGID, F_PROC_VPGID_NAME, F_PROC_VPGID_EXE,
    F_PROC_VPGID_EXEPATH, F_PROC_IS_VPGID_LEADER, F_PROC_IS_SID_LEADER,
    F_PROC_VPID, F_PROC_PVPID, F_PROC_IS_EXE_WRITABLE, F_PROC_IS_EXE_UPPER,
    F_PROC_IS_EXE_LOWER, F_PROC_IS_EXE_MEMFD, F_PROC_EXE_INO,
    F_PROC_EXE_INO_CTIME, F_PROC_EXE_INO_MTIME, F_PROC_EXE_INO_CTIME_DUR_START,
    F_PROC_EXE_INO_CTIME_DUR_PIDNS, F_PROC_PIDNS_INIT_START_TS, F_PROC_CMDNARGS,
    F_PROC_CMDLENARGS, F_PROC_IS_HEALTHCHECK, F_PROC_IS_LIVENESS,
    F_PROC_IS_READINESS, F_PROC_PID_TS, F_PROC_CGROUP,
    /* thread */
    F_THREAD_TID, F_THREAD_VTID, F_THREAD_CAP_EFF, F_THREAD_CAP_PERM,
    F_THREAD_CAP_INH, F_THREAD_ISMAIN,
    /* user / group */
    F_USER_UID, F_USER_NAME, F_USER_HOMEDIR, F_USER_SHELL, F_USER_LOGINUID,
    F_USER_LOGINNAME, F_GROUP_GID, F_GROUP_NAME,
    /* container / k8s */
    F_CT_ID, F_CT_FULL_ID, F_CT_NAME, F_CT_IMAGE, F_CT_IMAGE_ID, F_CT_IMAGE_REPO,
    F_CT_IMAGE_TAG, F_CT_IMAGE_DIGEST, F_CT_TYPE, F_CT_PRIVILEGED, F_CT_MOUNTS,
    F_CT_MOUNT, F_CT_MOUNT_SOURCE, F_CT_MOUNT_DEST, F_CT_MOUNT_MODE,
    F_CT_MOUNT_RDWR, F_CT_START_TS, F_CT_DURATION, F_K8S_POD_NAME, F_K8S_NS_NAME,
    F_K8S_POD_UID,
    /* fd */
    F_FD_NUM, F_FD_TYPE, F_FD_TYPECHAR, F_FD_NAME, F_FD_DIRECTORY, F_FD_FILENAME,
    F_FD_NAMERAW, F_FD_IP, F_FD_CIP, F_FD_SIP, F_FD_LIP, F_FD_RIP, F_FD_PORT,
    F_FD_CPORT, F_FD_SPORT, F_FD_LPORT, F_FD_RPORT, F_FD_L4PROTO, F_FD_SOCKFAMILY,
    F_FD_IS_SERVER, F_FD_NET, F_FD_CNET, F_FD_SNET, F_FD_LNET, F_FD_RNET,
    F_FD_CONNECTED, F_FD_NAME_CHANGED, F_FD_CIP_NAME, F_FD_SIP_NAME,
    F_FD_LIP_NAME, F_FD_RIP_NAME, F_FD_DEV, F_FD_INO, F_FD_TYPES,
};

static const mm_fdef fields[] = {
    {"evt.num", F_EVT_NUM, FT_NUM, ARG_NONE},
    {"evt.time", F_EVT_TIME, FT_STR, ARG_NONE},
    {"evt.time.s", F_EVT_TIME_S, FT_STR, ARG_NONE},
    {"evt.time.iso8601", F_EVT_TIME_ISO, FT_STR, ARG_NONE},
    {"evt.datetime", F_EVT_DATETIME, FT_STR, ARG_NONE},
    {"evt.rawtime", F_EVT_RAWTIME, FT_NUM, ARG_NONE},
    {"evt.type", F_EVT_TYPE, FT_STR, ARG_NONE},
    {"evt.dir", F_EVT_DIR, FT_STR, ARG_NONE},
    {"evt.cpu", F_EVT_CPU, FT_NUM, ARG_NONE},
    {"evt.res", F_EVT_RES, FT_STR, ARG_NONE},
    {"evt.rawres", F_EVT_RAWRES, FT_NUM, ARG_NONE},
    {"evt.failed", F_EVT_FAILED, FT_BOOL, ARG_NONE},
    {"evt.is_open_read", F_EVT_OPEN_READ, FT_BOOL, ARG_NONE},
    {"evt.is_open_write", F_EVT_OPEN_WRITE, FT_BOOL, ARG_NONE},
    {"evt.is_open_exec", F_EVT_OPEN_EXEC, FT_BOOL, ARG_NONE},
    {"evt.args", F_EVT_ARGS, FT_STR, ARG_NONE},
    {"evt.arg", F_EVT_ARG, FT_STR, ARG_KEY},
    {"evt.rawarg", F_EVT_RAWARG, FT_STR, ARG_KEY},
    {"evt.hostname", F_EVT_HOSTNAME, FT_STR, ARG_NONE},
    {"evt.buffer", F_EVT_BUFFER, FT_STR, ARG_NONE},
    {"evt.buflen", F_EVT_BUFLEN, FT_NUM, ARG_NONE},
    {"evt.source", F_EVT_SOURCE, FT_STR, ARG_NONE},
    {"evt.is_io", F_EVT_IS_IO, FT_BOOL, ARG_NONE},
    {"evt.is_io_read", F_EVT_IS_IO_READ, FT_BOOL, ARG_NONE},
    {"evt.is_io_write", F_EVT_IS_IO_WRITE, FT_BOOL, ARG_NONE},
    {"syscall.type", F_SYSCALL_TYPE, FT_STR, ARG_NONE},

    {"proc.pid", F_PROC_PID, FT_NUM, ARG_NONE},
    {"proc.exe", F_PROC_EXE, FT_STR, ARG_NONE},
    {"proc.name", F_PROC_NAME, FT_STR, ARG_NONE},
    {"proc.args", F_PROC_ARGS, FT_STR, ARG_NONE},
    {"proc.env", F_PROC_ENV, FT_STR, ARG_OPTKEY},
    {"proc.cmdline", F_PROC_CMDLINE, FT_STR, ARG_NONE},
    {"proc.exeline", F_PROC_EXELINE, FT_STR, ARG_NONE},
    {"proc.cwd", F_PROC_CWD, FT_STR, ARG_NONE},
    {"proc.ppid", F_PROC_PPID, FT_NUM, ARG_NONE},
    {"proc.pname", F_PROC_PNAME, FT_STR, ARG_NONE},
    {"proc.pcmdline", F_PROC_PCMDLINE, FT_STR, ARG_NONE},
    {"proc.pexe", F_PROC_PEXE, FT_STR, ARG_NONE},
    {"proc.pexepath", F_PROC_PEXEPATH, FT_STR, ARG_NONE},
    {"proc.apid", F_PROC_APID, FT_NUM, ARG_OPTIDX},
    {"proc.aname", F_PROC_ANAME, FT_STR, ARG_OPTIDX},
    {"proc.aexe", F_PROC_AEXE, FT_STR, ARG_OPTIDX},
    {"proc.aexepath", F_PROC_AEXEPATH, FT_STR, ARG_OPTIDX},
    {"proc.acmdline", F_PROC_ACMDLINE, FT_STR, ARG_OPTIDX},
    {"proc.duration", F_PROC_DURATION, FT_NUM, ARG_NONE},
    {"proc.ppid.duration", F_PROC_PPID_DURATION, FT_NUM, ARG_NONE},
    {"proc.tty", F_PROC_TTY, FT_NUM, ARG_NONE},
    {"proc.exepath", F_PROC_EXEPATH, FT_STR, ARG_NONE},
    {"proc.sid", F_PROC_SID, FT_NUM, ARG_NONE},
    {"proc.sname", F_PROC_SNAME, FT_STR, ARG_NONE},
    {"proc.sid.exe", F_PROC_SID_EXE, FT_STR, ARG_NONE},
    {"proc.sid.exepath", F_PROC_SID_EXEPATH, FT_STR, ARG_NONE},
    {"proc.vpgid", F_PROC_VPGID, FT_NUM, ARG_NONE},
    {"proc.vpgid.name", F_PROC_VPGID_NAME, FT_STR, ARG_NONE},
    {"proc.vpgid.exe", F_PROC_VPGID_EXE, FT_STR, ARG_NONE},
    {"proc.vpgid.exepath", F_PROC_VPGID_EXEPATH, FT_STR, ARG_NONE},
    {"proc.is_vpgid_leader", F_PROC_IS_VPGID_LEADER, FT_BOOL, ARG_NONE},
    {"proc.is_sid_leader", F_PROC_IS_SID_LEADER, FT_BOOL, ARG_NONE},
    {"proc.vpid", F_PROC_VPID, FT_NUM, ARG_NONE},
    {"proc.pvpid", F_PROC_PVPID, FT_NUM, ARG_NONE},
    {"proc.is_exe_writable", F_PROC_IS_EXE_WRITABLE, FT_BOOL, ARG_NONE},
    {"proc.is_exe_upper_layer", F_PROC_IS_EXE_UPPER, FT_BOOL, ARG_NONE},
    {"proc.is_exe_lower_layer", F_PROC_IS_EXE_LOWER, FT_BOOL, ARG_NONE},
    {"proc.is_exe_from_memfd", F_PROC_IS_EXE_MEMFD, FT_BOOL, ARG_NONE},
    {"proc.exe_ino", F_PROC_EXE_INO, FT_NUM, ARG_NONE},
    {"proc.exe_ino.ctime", F_PROC_EXE_INO_CTIME, FT_NUM, ARG_NONE},
    {"proc.exe_ino.mtime", F_PROC_EXE_INO_MTIME, FT_NUM, ARG_NONE},
    {"proc.exe_ino.ctime_duration_proc_start", F_PROC_EXE_INO_CTIME_DUR_START, FT_NUM, ARG_NONE},
    {"proc.exe_ino.ctime_duration_pidns_start", F_PROC_EXE_INO_CTIME_DUR_PIDNS, FT_NUM, ARG_NONE},
    {"proc.pidns_init_start_ts", F_PROC_PIDNS_INIT_START_TS, FT_NUM, ARG_NONE},
    {"proc.cmdnargs", F_PROC_CMDNARGS, FT_NUM, ARG_NONE},
    {"proc.cmdlenargs", F_PROC_CMDLENARGS, FT_NUM, ARG_NONE},
    {"proc.is_container_healthcheck", F_PROC_IS_HEALTHCHECK, FT_BOOL, ARG_NONE},
    {"proc.is_container_liveness_probe", F_PROC_IS_LIVENESS, FT_BOOL, ARG_NONE},
    {"proc.is_container_readiness_probe", F_PROC_IS_READINESS, FT_BOOL, ARG_NONE},
    {"proc.pid.ts", F_PROC_PID_TS, FT_NUM, ARG_NONE},
    {"proc.cgroup", F_PROC_CGROUP, FT_STR, ARG_NONE},

    {"thread.tid", F_THREAD_TID, FT_NUM, ARG_NONE},
    {"thread.vtid", F_THREAD_VTID, FT_NUM, ARG_NONE},
    {"thread.cap_effective", F_THREAD_CAP_EFF, FT_STR, ARG_NONE},
    {"thread.cap_permitted", F_THREAD_CAP_PERM, FT_STR, ARG_NONE},
    {"thread.cap_inheritable", F_THREAD_CAP_INH, FT_STR, ARG_NONE},
    {"thread.ismain", F_THREAD_ISMAIN, FT_BOOL, ARG_NONE},

    {"user.uid", F_USER_UID, FT_NUM, ARG_NONE},
    {"user.name", F_USER_NAME, FT_STR, ARG_NONE},
    {"user.homedir", F_USER_HOMEDIR, FT_STR, ARG_NONE},
    {"user.shell", F_USER_SHELL, FT_STR, ARG_NONE},
    {"user.loginuid", F_USER_LOGINUID, FT_NUM, ARG_NONE},
    {"user.loginname", F_USER_LOGINNAME, FT_STR, ARG_NONE},
    {"group.gid", F_GROUP_GID, FT_NUM, ARG_NONE},
    {"group.name", F_GROUP_NAME, FT_STR, ARG_NONE},

    {"container.id", F_CT_ID, FT_STR, ARG_NONE},
    {"container.full_id", F_CT_FULL_ID, FT_STR, ARG_NONE},
    {"container.name", F_CT_NAME, FT_STR, ARG_NONE},
    {"container.image", F_CT_IMAGE, FT_STR, ARG_NONE},
    {"container.image.id", F_CT_IMAGE_ID, FT_STR, ARG_NONE},
    {"container.image.repository", F_CT_IMAGE_REPO, FT_STR, ARG_NONE},
    {"container.image.tag", F_CT_IMAGE_TAG, FT_STR, ARG_NONE},
    {"container.image.digest", F_CT_IMAGE_DIGEST, FT_STR, ARG_NONE},
    {"container.type", F_CT_TYPE, FT_STR, ARG_NONE},
    {"container.privileged", F_CT_PRIVILEGED, FT_BOOL, ARG_NONE},
    {"container.mounts", F_CT_MOUNTS, FT_STR, ARG_NONE},
    {"container.mount", F_CT_MOUNT, FT_STR, ARG_KEY},
    {"container.mount.source", F_CT_MOUNT_SOURCE, FT_STR, ARG_KEY},
    {"container.mount.dest", F_CT_MOUNT_DEST, FT_STR, ARG_KEY},
    {"container.mount.mode", F_CT_MOUNT_MODE, FT_STR, ARG_KEY},
    {"container.mount.rdwr", F_CT_MOUNT_RDWR, FT_STR, ARG_KEY},
    {"container.start_ts", F_CT_START_TS, FT_NUM, ARG_NONE},
    {"container.duration", F_CT_DURATION, FT_NUM, ARG_NONE},
    {"k8s.pod.name", F_K8S_POD_NAME, FT_STR, ARG_NONE},
    {"k8s.ns.name", F_K8S_NS_NAME, FT_STR, ARG_NONE},
    {"k8s.pod.uid", F_K8S_POD_UID, FT_STR, ARG_NONE},
    {"k8s.pod.id", F_K8S_POD_UID, FT_STR, ARG_NONE},

    {"fd.num", F_FD_NUM, FT_NUM, ARG_NONE},
    {"fd.type", F_FD_TYPE, FT_STR, ARG_NONE},
    {"fd.typechar", F_FD_TYPECHAR, FT_STR, ARG_NONE},
    {"fd.name", F_FD_NAME, FT_STR, ARG_NONE},
    {"fd.directory", F_FD_DIRECTORY, FT_STR, ARG_NONE},
    {"fd.filename", F_FD_FILENAME, FT_STR, ARG_NONE},
    {"fd.nameraw", F_FD_NAMERAW, FT_STR, ARG_NONE},
    {"fd.ip", F_FD_IP, FT_IP, ARG_NONE},
    {"fd.cip", F_FD_CIP, FT_IP, ARG_NONE},
    {"fd.sip", F_FD_SIP, FT_IP, ARG_NONE},
    {"fd.lip", F_FD_LIP, FT_IP, ARG_NONE},
    {"fd.rip", F_FD_RIP, FT_IP, ARG_NONE},
    {"fd.port", F_FD_PORT, FT_NUM, ARG_NONE},
    {"fd.cport", F_FD_CPORT, FT_NUM, ARG_NONE},
    {"fd.sport", F_FD_SPORT, FT_NUM, ARG_NONE},
    {"fd.lport", F_FD_LPORT, FT_NUM, ARG_NONE},
    {"fd.rport", F_FD_RPORT, FT_NUM, ARG_NONE},
    {"fd.l4proto", F_FD_L4PROTO, FT_STR, ARG_NONE},
    {"fd.sockfamily", F_FD_SOCKFAMILY, FT_STR, ARG_NONE},
    {"fd.is_server", F_FD_IS_SERVER, FT_BOOL, ARG_NONE},
    {"fd.net", F_FD_NET, FT_NET, ARG_NONE},
    {"fd.cnet", F_FD_CNET, FT_NET, ARG_NONE},
    {"fd.snet", F_FD_SNET, FT_NET, ARG_NONE},
    {"fd.lnet", F_FD_LNET, FT_NET, ARG_NONE},
    {"fd.rnet", F_FD_RNET, FT_NET, ARG_NONE},
    {"fd.connected", F_FD_CONNECTED, FT_BOOL, ARG_NONE},
    {"fd.name_changed", F_FD_NAME_CHANGED, FT_BOOL, ARG_NONE},
    {"fd.cip.name", F_FD_CIP_NAME, FT_STR, ARG_NONE},
    {"fd.sip.name", F_FD_SIP_NAME, FT_STR, ARG_NONE},
    {"fd.lip.name", F_FD_LIP_NAME, FT_STR, ARG_NONE},
    {"fd.rip.name", F_FD_RIP_NAME, FT_STR, ARG_NONE},
    {"fd.dev", F_FD_DEV, FT_NUM, ARG_NONE},
    {"fd.ino", F_FD_INO, FT_NUM, ARG_NONE},
    {"fd.types", F_FD_TYPES, FT_STR, ARG_OPTIDX},
};

/* evt.arg.NAME */
enum {
    AR_OTHER = 0, AR_FD, AR_FD2, AR_PATH, AR_PATH2, AR_FLAGS, AR_MODE,
    AR_DOMAIN, AR_TYPE, AR_PROTO, AR_ID, AR_REQUEST, AR_RES, AR_SIZE, AR_DATA,
    AR_TUPLE, AR_NSTYPE, AR_EXE, AR_ARGS, AR_CWD, AR_COMM,
};

static const struct { const char *name; uint16_t id; } argnames[] = {
    {"fd", AR_FD}, {"dirfd", AR_FD}, {"olddirfd", AR_FD}, {"oldfd", AR_FD},
    {"olddir", AR_FD}, {"newfd", AR_FD2}, {"newdirfd", AR_FD2}, {"newdir", AR_FD2},
    {"name", AR_PATH}, {"pathname", AR_PATH}, {"filename", AR_PATH},
    {"path", AR_PATH}, {"oldpath", AR_PATH}, {"target", AR_PATH},
    {"dev", AR_PATH}, {"source", AR_PATH},
    {"newpath", AR_PATH2}, {"linkpath", AR_PATH2}, {"dir", AR_PATH2},
    {"flags", AR_FLAGS}, {"mode", AR_MODE}, {"domain", AR_DOMAIN},
    {"family", AR_DOMAIN}, {"type", AR_TYPE}, {"proto", AR_PROTO},
    {"uid", AR_ID}, {"gid", AR_ID}, {"euid", AR_ID}, {"ruid", AR_ID},
    {"suid", AR_ID}, {"egid", AR_ID}, {"rgid", AR_ID}, {"sgid", AR_ID},
    {"pid", AR_ID}, {"request", AR_REQUEST}, {"cmd", AR_REQUEST},
    {"option", AR_REQUEST}, {"res", AR_RES}, {"res_or_fd", AR_RES},
    {"size", AR_SIZE}, {"len", AR_SIZE}, {"data", AR_DATA},
    {"tuple", AR_TUPLE}, {"addr", AR_TUPLE}, {"nstype", AR_NSTYPE},
    {"exe", AR_EXE}, {"args", AR_ARGS}, {"cwd", AR_CWD}, {"comm", AR_COMM},
};

/* indexes of evt.arg and evt.rawarg in fields[] (checked by a test) */
#define ARG_FIELD_IX 16
#define RAWARG_FIELD_IX 17
_Static_assert(F_EVT_ARG == 17 && F_EVT_RAWARG == 18, "evt.arg indexes");

const mm_fdef *mm_field_find(const char *name, size_t len, const char **argname)
{
    *argname = NULL;
    /* evt.arg.NAME and evt.rawarg.NAME carry their argument after a dot */
    if (len > 8 && !strncmp(name, "evt.arg.", 8)) {
        *argname = name + 8;
        return &fields[ARG_FIELD_IX];
    }
    if (len > 11 && !strncmp(name, "evt.rawarg.", 11)) {
        *argname = name + 11;
        return &fields[RAWARG_FIELD_IX];
    }
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (strlen(fields[i].name) == len && !memcmp(fields[i].name, name, len))
            return &fields[i];
    return mm_audit_field_find(name, len);
}

int mm_fref_init(mm_fref *f, const char *text)
{
    memset(f, 0, sizeof *f);
    f->idx = -1;
    f->text = mm_xstrdup(text);
    const char *br = strchr(text, '[');
    size_t nlen = br ? (size_t)(br - text) : strlen(text);
    const char *argname = NULL;
    const mm_fdef *d = mm_field_find(text, nlen, &argname);
    if (!d) {
        return mm_error_set(MM_EUNSUPPORTED, "unsupported field '%.*s'", (int)nlen, text);
    }
    f->def = d;
    f->type = d->type;
    char *arg = NULL;
    if (br) {
        const char *end = strrchr(br, ']');
        if (!end || end[1]) {
            return mm_error_set(MM_EFORMAT, "bad field argument in '%s'", text);
        }
        arg = mm_xstrndup(br + 1, (size_t)(end - br - 1));
    }
    if (argname) {
        if (br) {   /* evt.arg.name[...] is not a Falco form */
            free(arg);
            return mm_error_set(MM_EFORMAT, "bad field argument in '%s'", text);
        }
        f->key = mm_xstrndup(argname, nlen - (size_t)(argname - text));
        for (size_t i = 0; i < sizeof argnames / sizeof argnames[0]; i++)
            if (!strcmp(argnames[i].name, f->key))
                f->argid = argnames[i].id;
        return 0;
    }
    switch (d->argmode) {
    case ARG_NONE:
        if (arg) {
            free(arg);
            return mm_error_set(MM_EFORMAT, "field '%.*s' takes no argument", (int)nlen, text);
        }
        break;
    case ARG_INDEX: case ARG_OPTIDX: {
        if (!arg) {
            if (d->argmode == ARG_INDEX) {
                return mm_error_set(MM_EFORMAT, "field '%s' needs an index", text);
            }
            break;
        }
        char *e;
        long v = strtol(arg, &e, 10);
        if (!*arg || *e || v < 0 || v > 1000) {
            mm_error_set(MM_EUNSUPPORTED, "unsupported argument '%s' of field '%.*s'",
                         arg, (int)nlen, text);
            free(arg);
            return MM_EUNSUPPORTED;
        }
        f->idx = (int32_t)v;
        free(arg);
        break;
    }
    case ARG_KEY: case ARG_OPTKEY:
        if (!arg && d->argmode == ARG_KEY) {
            if (d->id == F_EVT_ARG || d->id == F_EVT_RAWARG)
                return mm_error_set(MM_EUNSUPPORTED,
                                    "unsupported field '%s' (positional evt.arg)", text);
            return mm_error_set(MM_EFORMAT, "field '%s' needs an argument", text);
        }
        f->key = arg;
        if (arg && (d->id == F_EVT_ARG || d->id == F_EVT_RAWARG)) {
            /* evt.arg[N]: positional arguments are not modelled */
            return mm_error_set(MM_EUNSUPPORTED, "unsupported field '%s' (positional evt.arg)", text);
        }
        break;
    }
    return 0;
}

void mm_fref_clear(mm_fref *f)
{
    free(f->key);
    free(f->text);
    memset(f, 0, sizeof *f);
}

/* ---- per-event arena ---------------------------------------------------- */

#define ARENA_SZ 16384

void mm_evalctx_reset(mm_evalctx *c, const mm_event *ev)
{
    c->ev = ev;
    if (!c->arena.data) {
        c->arena.data = mm_xmalloc(ARENA_SZ);
        c->arena.cap = ARENA_SZ;
    }
    c->arena.len = 0;
    for (size_t i = 0; i < c->nblocks; i++)
        free(c->blocks[i]);
    c->nblocks = 0;
}

void mm_evalctx_free(mm_evalctx *c)
{
    for (size_t i = 0; i < c->nblocks; i++)
        free(c->blocks[i]);
    free(c->blocks);
    free(c->arena.data);
    memset(c, 0, sizeof *c);
}

static char *ctx_alloc(mm_evalctx *c, size_t n)
{
    if (!c->arena.data)
        mm_evalctx_reset(c, c->ev);
    if (c->arena.len + n <= c->arena.cap) {
        char *p = c->arena.data + c->arena.len;
        c->arena.len += n;
        return p;
    }
    if (c->nblocks == c->cblocks) {
        c->cblocks = c->cblocks ? c->cblocks * 2 : 8;
        c->blocks = mm_xrealloc(c->blocks, c->cblocks * sizeof *c->blocks);
    }
    char *p = mm_xmalloc(n);
    c->blocks[c->nblocks++] = p;
    return p;
}

char *mm_evalctx_strdup(mm_evalctx *c, const char *s, size_t n)
{
    char *p = ctx_alloc(c, n + 1);
    memcpy(p, s, n);
    p[n] = 0;
    return p;
}

static char *ctx_printf(mm_evalctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *ctx_printf(mm_evalctx *c, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof tmp)
        return mm_evalctx_strdup(c, tmp, (size_t)n);
    char *p = ctx_alloc(c, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* ---- flag tables ------------------------------------------------------------ */

static const mm_flagname fl_open[] = {
    {0100000, "O_LARGEFILE"}, {O_DIRECTORY, "O_DIRECTORY"}, {O_DIRECT, "O_DIRECT"},
    {O_TRUNC, "O_TRUNC"}, {04000000, "O_SYNC"}, {O_NONBLOCK, "O_NONBLOCK"},
    {O_EXCL, "O_EXCL"}, {O_DSYNC, "O_DSYNC"}, {O_APPEND, "O_APPEND"},
    {O_CREAT, "O_CREAT"}, {O_RDWR, "O_RDWR"}, {O_WRONLY, "O_WRONLY"},
    {O_CLOEXEC, "O_CLOEXEC"}, {O_NOFOLLOW, "O_NOFOLLOW"}, {O_NOATIME, "O_NOATIME"},
    {O_NOCTTY, "O_NOCTTY"}, {010000000, "O_PATH"}, {020000000, "O_TMPFILE"},
    {MM_O_F_CREATED, "O_F_CREATED"}, {0, NULL}};
static const mm_flagname fl_exe[] = {
    {MM_EXE_WRITABLE, "EXE_WRITABLE"}, {MM_EXE_UPPER_LAYER, "EXE_UPPER_LAYER"},
    {MM_EXE_FROM_MEMFD, "EXE_FROM_MEMFD"}, {MM_EXE_LOWER_LAYER, "EXE_LOWER_LAYER"},
    {0, NULL}};
static const mm_flagname fl_clone[] = {
    {0x00000100, "CLONE_VM"}, {0x00000200, "CLONE_FS"}, {0x00000400, "CLONE_FILES"},
    {0x00000800, "CLONE_SIGHAND"}, {0x00001000, "CLONE_PIDFD"},
    {0x00002000, "CLONE_PTRACE"}, {0x00004000, "CLONE_VFORK"},
    {0x00008000, "CLONE_PARENT"}, {0x00010000, "CLONE_THREAD"},
    {0x00020000, "CLONE_NEWNS"}, {0x00040000, "CLONE_SYSVSEM"},
    {0x00080000, "CLONE_SETTLS"}, {0x00100000, "CLONE_PARENT_SETTID"},
    {0x00200000, "CLONE_CHILD_CLEARTID"}, {0x00400000, "CLONE_DETACHED"},
    {0x00800000, "CLONE_UNTRACED"}, {0x01000000, "CLONE_CHILD_SETTID"},
    {0x02000000, "CLONE_NEWCGROUP"}, {0x04000000, "CLONE_NEWUTS"},
    {0x08000000, "CLONE_NEWIPC"}, {0x10000000, "CLONE_NEWUSER"},
    {0x20000000, "CLONE_NEWPID"}, {0x40000000, "CLONE_NEWNET"},
    {0x80000000u, "CLONE_IO"}, {0, NULL}};
static const mm_flagname fl_mount[] = {
    {1, "RDONLY"}, {2, "NOSUID"}, {4, "NODEV"}, {8, "NOEXEC"},
    {16, "SYNCHRONOUS"}, {32, "REMOUNT"}, {64, "MANDLOCK"}, {128, "DIRSYNC"},
    {1024, "NOATIME"}, {2048, "NODIRATIME"}, {4096, "BIND"}, {8192, "MOVE"},
    {16384, "REC"}, {32768, "SILENT"}, {1 << 16, "POSIXACL"},
    {1 << 17, "UNBINDABLE"}, {1 << 18, "PRIVATE"}, {1 << 19, "SLAVE"},
    {1 << 20, "SHARED"}, {1 << 21, "RELATIME"}, {1 << 24, "STRICTATIME"},
    {1 << 25, "LAZYTIME"}, {0, NULL}};
static const mm_flagname fl_memfd[] = {
    {1, "MFD_CLOEXEC"}, {2, "MFD_ALLOW_SEALING"}, {4, "MFD_HUGETLB"},
    {8, "MFD_NOEXEC_SEAL"}, {16, "MFD_EXEC"}, {0, NULL}};
static const mm_flagname fl_dup3[] = {{O_CLOEXEC, "O_CLOEXEC"}, {0, NULL}};
/* enumerations (one value, not bits) */
static const mm_flagname en_af[] = {
    {AF_UNSPEC, "AF_UNSPEC"}, {AF_UNIX, "AF_UNIX"}, {AF_INET, "AF_INET"},
    {AF_AX25, "AF_AX25"}, {AF_IPX, "AF_IPX"}, {AF_APPLETALK, "AF_APPLETALK"},
    {AF_NETROM, "AF_NETROM"}, {AF_BRIDGE, "AF_BRIDGE"}, {AF_ATMPVC, "AF_ATMPVC"},
    {AF_X25, "AF_X25"}, {AF_INET6, "AF_INET6"}, {AF_ROSE, "AF_ROSE"},
    {AF_DECnet, "AF_DECnet"}, {AF_NETBEUI, "AF_NETBEUI"},
    {AF_SECURITY, "AF_SECURITY"}, {AF_KEY, "AF_KEY"},
    {AF_NETLINK, "AF_NETLINK"}, {AF_PACKET, "AF_PACKET"}, {AF_ASH, "AF_ASH"},
    {AF_ECONET, "AF_ECONET"}, {AF_ATMSVC, "AF_ATMSVC"}, {AF_RDS, "AF_RDS"},
    {AF_SNA, "AF_SNA"}, {AF_IRDA, "AF_IRDA"}, {AF_PPPOX, "AF_PPPOX"},
    {AF_WANPIPE, "AF_WANPIPE"}, {AF_LLC, "AF_LLC"}, {AF_CAN, "AF_CAN"},
    {AF_TIPC, "AF_TIPC"}, {AF_BLUETOOTH, "AF_BLUETOOTH"}, {AF_IUCV, "AF_IUCV"},
    {AF_RXRPC, "AF_RXRPC"}, {AF_ISDN, "AF_ISDN"}, {AF_PHONET, "AF_PHONET"},
    {AF_IEEE802154, "AF_IEEE802154"}, {AF_CAIF, "AF_CAIF"}, {AF_ALG, "AF_ALG"},
    {AF_NFC, "AF_NFC"}, {AF_VSOCK, "AF_VSOCK"}, {AF_KCM, "AF_KCM"},
    {AF_QIPCRTR, "AF_QIPCRTR"}, {AF_SMC, "AF_SMC"}, {AF_XDP, "AF_XDP"},
    {0, NULL}};
static const mm_flagname en_ptrace[] = {
    {0, "PTRACE_TRACEME"}, {1, "PTRACE_PEEKTEXT"}, {2, "PTRACE_PEEKDATA"},
    {3, "PTRACE_PEEKUSR"}, {4, "PTRACE_POKETEXT"}, {5, "PTRACE_POKEDATA"},
    {6, "PTRACE_POKEUSR"}, {7, "PTRACE_CONT"}, {8, "PTRACE_KILL"},
    {9, "PTRACE_SINGLESTEP"}, {12, "PTRACE_GETREGS"}, {13, "PTRACE_SETREGS"},
    {14, "PTRACE_GETFPREGS"}, {15, "PTRACE_SETFPREGS"}, {16, "PTRACE_ATTACH"},
    {17, "PTRACE_DETACH"}, {24, "PTRACE_SYSCALL"}, {0x4200, "PTRACE_SETOPTIONS"},
    {0x4201, "PTRACE_GETEVENTMSG"}, {0x4202, "PTRACE_GETSIGINFO"},
    {0x4203, "PTRACE_SETSIGINFO"}, {0x4204, "PTRACE_GETREGSET"},
    {0x4205, "PTRACE_SETREGSET"}, {0x4206, "PTRACE_SEIZE"},
    {0x4207, "PTRACE_INTERRUPT"}, {0x4208, "PTRACE_LISTEN"},
    {0x4209, "PTRACE_PEEKSIGINFO"}, {0, NULL}};
static const mm_flagname fl_mode[] = {
    {04000, "S_ISUID"}, {02000, "S_ISGID"}, {01000, "S_ISVTX"},
    {0400, "S_IRUSR"}, {0200, "S_IWUSR"}, {0100, "S_IXUSR"},
    {040, "S_IRGRP"}, {020, "S_IWGRP"}, {010, "S_IXGRP"},
    {04, "S_IROTH"}, {02, "S_IWOTH"}, {01, "S_IXOTH"}, {0, NULL}};
static const mm_flagname en_socktype[] = {
    {SOCK_STREAM, "SOCK_STREAM"}, {SOCK_DGRAM, "SOCK_DGRAM"},
    {SOCK_RAW, "SOCK_RAW"}, {SOCK_RDM, "SOCK_RDM"},
    {SOCK_SEQPACKET, "SOCK_SEQPACKET"}, {SOCK_PACKET, "SOCK_PACKET"}, {0, NULL}};

static const mm_flagname *const flagsets[FS__COUNT] = {
    [FS_OPEN] = fl_open, [FS_EXE] = fl_exe, [FS_CLONE] = fl_clone,
    [FS_MOUNT] = fl_mount, [FS_MEMFD] = fl_memfd, [FS_AF] = en_af,
    [FS_PTRACE] = en_ptrace, [FS_MODE] = fl_mode, [FS_SOCKTYPE] = en_socktype,
    [FS_DUP3] = fl_dup3,
};
static bool is_enum(int set)
{
    return set == FS_AF || set == FS_PTRACE || set == FS_SOCKTYPE;
}

int mm_flagset_for(mm_evt_type t, const char *argname)
{
    if (!strcmp(argname, "flags")) {
        switch (t) {
        case MM_EVT_OPEN: case MM_EVT_OPENAT: case MM_EVT_OPENAT2:
        case MM_EVT_CREAT: case MM_EVT_OPEN_BY_HANDLE_AT:
            return FS_OPEN;
        case MM_EVT_EXECVE: case MM_EVT_EXECVEAT:
            return FS_EXE;
        case MM_EVT_CLONE: case MM_EVT_CLONE3: case MM_EVT_FORK:
        case MM_EVT_VFORK: case MM_EVT_UNSHARE:
            return FS_CLONE;
        case MM_EVT_MOUNT: case MM_EVT_UMOUNT: case MM_EVT_UMOUNT2:
            return FS_MOUNT;
        case MM_EVT_MEMFD_CREATE:
            return FS_MEMFD;
        case MM_EVT_DUP3: case MM_EVT_PIPE2:
            return FS_DUP3;
        default:
            return -1;
        }
    }
    if (!strcmp(argname, "mode")) {
        switch (t) {
        case MM_EVT_CHMOD: case MM_EVT_FCHMOD: case MM_EVT_FCHMODAT:
            return FS_MODE;
        default:
            return -1;
        }
    }
    if (!strcmp(argname, "domain") || !strcmp(argname, "family"))
        return FS_AF;
    if (!strcmp(argname, "request") && t == MM_EVT_PTRACE)
        return FS_PTRACE;
    if (!strcmp(argname, "nstype"))
        return FS_CLONE;
    if (!strcmp(argname, "type") && (t == MM_EVT_SOCKET || t == MM_EVT_SOCKETPAIR))
        return FS_SOCKTYPE;
    return -1;
}

bool mm_flags_parse(int set, const char *s, uint64_t *out)
{
    *out = 0;
    if (!s)
        return false;
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 0);
    if (*s && !*e && !errno) {
        *out = v;
        return true;
    }
    if (set < 0 || set >= FS__COUNT)
        return false;
    const char *p = s;
    while (*p) {
        while (*p == '|' || *p == ' ')
            p++;
        const char *st = p;
        while (*p && *p != '|' && *p != ' ')
            p++;
        size_t n = (size_t)(p - st);
        if (!n)
            break;
        if (set == FS_OPEN && n == 8 && !memcmp(st, "O_RDONLY", 8))
            continue;
        if (set == FS_MOUNT && n > 3 && !memcmp(st, "MS_", 3)) {
            st += 3;
            n -= 3;
        }
        bool ok = false;
        for (const mm_flagname *f = flagsets[set]; f->name; f++)
            if (strlen(f->name) == n && !memcmp(f->name, st, n)) {
                *out |= f->v;
                ok = true;
                break;
            }
        if (!ok)
            return false;
    }
    return true;
}

static const char *render_flags(mm_evalctx *c, int set, uint64_t v)
{
    const mm_flagname *tab = flagsets[set];
    if (is_enum(set)) {
        if (set == FS_SOCKTYPE)
            v &= 0xf;
        for (const mm_flagname *f = tab; f->name; f++)
            if (f->v == v)
                return f->name;
        return ctx_printf(c, "%llu", (unsigned long long)v);
    }
    char buf[512];
    size_t o = 0;
    buf[0] = 0;
    uint64_t left = v;
    for (const mm_flagname *f = tab; f->name; f++) {
        if (f->v && (v & f->v) == f->v) {
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? "|" : "", f->name);
            left &= ~f->v;
            if (o >= sizeof buf - 32)
                break;
        }
    }
    if (set == FS_OPEN && (v & 3) == 0)
        o += (size_t)snprintf(buf + o, sizeof buf - o, "%sO_RDONLY", o ? "|" : "");
    if (o == 0)
        return ctx_printf(c, "%llu", (unsigned long long)v);
    (void)left;
    return mm_evalctx_strdup(c, buf, o);
}

static const char *const capnames[] = {
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
    "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
    "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int)(sizeof capnames / sizeof capnames[0]))

const char *mm_cap_name(int bit)
{
    return bit >= 0 && bit < NCAPS ? capnames[bit] : NULL;
}

int mm_cap_from_name(const char *name)
{
    for (int i = 0; i < NCAPS; i++)
        if (!strcasecmp(capnames[i], name) || !strcasecmp(capnames[i] + 4, name))
            return i;
    return -1;
}

static const char *render_caps(mm_evalctx *c, uint64_t caps)
{
    char buf[1024];
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < NCAPS; i++)
        if (caps & (1ull << i))
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? " " : "", capnames[i]);
    return mm_evalctx_strdup(c, buf, o);
}

/* ---- helpers ----------------------------------------------------------------- */

static int put_str(mm_fval *v, const char *s)
{
    if (!s)
        return 0;
    v->s = s;
    v->len = MM_LEN_UNKNOWN;   /* measured only by the operators that need it */
    return 1;
}

static int put_num(mm_fval *v, int64_t n)
{
    v->n = n;
    v->s = NULL;
    return 1;
}

static int put_bool(mm_fval *v, bool b)
{
    v->n = b;
    v->s = NULL;
    return 1;
}

static int put_ip(mm_fval *v, const mm_ipaddr *ip)
{
    if (!ip->family)
        return 0;
    v->ip = *ip;
    v->s = NULL;
    return 1;
}

static const char *cmdline_of(mm_evalctx *c, const mm_proc *p)
{
    if (!p || !p->comm)
        return NULL;
    if (!p->args || !p->args[0])
        return p->comm;
    size_t a = strlen(p->comm), b = strlen(p->args);
    char *s = ctx_alloc(c, a + b + 2);
    memcpy(s, p->comm, a);
    s[a] = ' ';
    memcpy(s + a + 1, p->args, b + 1);
    return s;
}

static bool is_open_type(mm_evt_type t)
{
    return t == MM_EVT_OPEN || t == MM_EVT_OPENAT || t == MM_EVT_OPENAT2 ||
           t == MM_EVT_CREAT || t == MM_EVT_OPEN_BY_HANDLE_AT;
}

static const char *param_get(const mm_event *ev, const char *name)
{
    for (unsigned i = 0; i < ev->nparams && i < MM_EVT_MAX_PARAMS; i++)
        if (ev->params[i].name && !strcmp(ev->params[i].name, name))
            return ev->params[i].value;
    return NULL;
}

static const char *errno_str(mm_evalctx *c, int64_t res)
{
    if (res >= 0)
        return "SUCCESS";
    const char *n = (-res < 4096) ? strerrorname_np((int)-res) : NULL;
    return n ? n : ctx_printf(c, "%lld", (long long)res);
}

static const char *time_str(mm_evalctx *c, int64_t ts, int form)
{
    time_t s = (time_t)(ts / 1000000000);
    long ns = (long)(ts % 1000000000);
    struct tm tm;
    gmtime_r(&s, &tm);
    char buf[64];
    switch (form) {
    case 0: strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        return ctx_printf(c, "%s.%09ld", buf, ns);
    case 1: strftime(buf, sizeof buf, "%H:%M:%S", &tm);
        return mm_evalctx_strdup(c, buf, strlen(buf));
    case 2: strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
        return ctx_printf(c, "%s.%09ldZ", buf, ns);
    default: strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
        return ctx_printf(c, "%s.%09ld", buf, ns);
    }
}

static const char *container_str(const mm_proc *p, int id)
{
    const mm_container *ct = p ? p->container : NULL;
    if (!ct)
        return id == F_CT_ID ? "host" : NULL;
    switch (id) {
    case F_CT_ID: return ct->id ? ct->id : "host";
    case F_CT_FULL_ID: return ct->full_id ? ct->full_id : ct->id;
    case F_CT_NAME: return ct->name ? ct->name : (!strcmp(ct->id, "host") ? "host" : NULL);
    case F_CT_IMAGE: return ct->image;
    case F_CT_IMAGE_ID: return ct->image_id;
    case F_CT_IMAGE_REPO: return ct->image_repository;
    case F_CT_IMAGE_TAG: return ct->image_tag;
    case F_CT_IMAGE_DIGEST: return ct->image_digest;
    case F_CT_TYPE: return ct->type;
    case F_K8S_POD_NAME: return ct->k8s_pod_name;
    case F_K8S_NS_NAME: return ct->k8s_ns_name;
    case F_K8S_POD_UID: return ct->k8s_pod_uid;
    }
    return NULL;
}

/* the ancestor whose pid (or vpid) is `want`, looking up to 64 levels */
static const mm_proc *find_ancestor_pid(const mm_proc *p, int64_t want)
{
    for (int i = 0; p && i < 64; i++, p = p->parent)
        if (p->pid == want || (p->vpid == want && want > 0 && p->vpid != p->pid))
            return p;
    return NULL;
}

static const char *arg_str(mm_evalctx *c, const mm_fref *f, bool raw)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    int set;
    switch (f->argid) {
    case AR_FD: return ctx_printf(c, "%lld", (long long)ev->arg_fd);
    case AR_FD2: return ctx_printf(c, "%lld", (long long)ev->arg_fd2);
    case AR_PATH:
        if (!strcmp(f->key, "name") && ev->type == MM_EVT_MEMFD_CREATE)
            return ev->path;
        if (ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT)
            return ev->path ? ev->path : (p ? p->exepath : NULL);
        return ev->path;
    case AR_PATH2: return ev->path2;
    case AR_FLAGS: case AR_MODE: case AR_DOMAIN: case AR_TYPE: case AR_REQUEST:
    case AR_NSTYPE: {
        uint64_t v = f->argid == AR_FLAGS ? ev->flags
                   : f->argid == AR_MODE ? ev->mode
                   : f->argid == AR_DOMAIN ? ev->sock_domain
                   : f->argid == AR_NSTYPE ? (ev->nstype ? ev->nstype : ev->flags)
                   : f->argid == AR_REQUEST ? (uint64_t)ev->request
                   : ev->sock_type;
        if (f->argid == AR_TYPE && (ev->type == MM_EVT_MOUNT))
            return ev->fstype;
        if (f->argid == AR_FLAGS && (ev->type == MM_EVT_EXECVE || ev->type == MM_EVT_EXECVEAT))
            v = ev->flags ? ev->flags : (p ? p->exe_flags : 0);
        set = mm_flagset_for(ev->type, f->key);
        if (raw || set < 0) {
            if (f->argid == AR_MODE)
                return ctx_printf(c, "%04llo", (unsigned long long)v);
            return ctx_printf(c, "%llu", (unsigned long long)v);
        }
        return render_flags(c, set, v);
    }
    case AR_PROTO: return ctx_printf(c, "%u", ev->sock_proto);
    case AR_ID: return ctx_printf(c, "%lld", (long long)ev->target_id);
    case AR_RES:
        if (raw || ev->res >= 0)
            return ctx_printf(c, "%lld", (long long)ev->res);
        return errno_str(c, ev->res);
    case AR_SIZE: return ctx_printf(c, "%llu", (unsigned long long)ev->size);
    case AR_DATA: return ev->data ? mm_evalctx_strdup(c, ev->data, ev->datalen) : NULL;
    case AR_TUPLE: return ev->fd ? ev->fd->name : NULL;
    case AR_EXE: return p ? p->exe : NULL;
    case AR_ARGS: return p ? p->args : NULL;
    case AR_CWD: return p ? p->cwd : NULL;
    case AR_COMM: return p ? p->comm : NULL;
    default: return param_get(ev, f->key);
    }
}

static const char *evt_args_str(mm_evalctx *c)
{
    const mm_event *ev = c->ev;
    char buf[1024];
    size_t o = 0;
    buf[0] = 0;
#define ADD(...) do { if (o < sizeof buf) o += (size_t)snprintf(buf + o, sizeof buf - o, __VA_ARGS__); } while (0)
    ADD("res=%lld", (long long)ev->res);
    if (ev->fd && ev->fd->name)
        ADD(" fd=%lld(%s)", (long long)ev->fd->fd, ev->fd->name);
    if (ev->path)
        ADD(" name=%s", ev->path);
    if (ev->path2)
        ADD(" newpath=%s", ev->path2);
    if (ev->flags) {
        int set = mm_flagset_for(ev->type, "flags");
        ADD(" flags=%s", set >= 0 ? render_flags(c, set, ev->flags) : "");
    }
    for (unsigned i = 0; i < ev->nparams && i < MM_EVT_MAX_PARAMS; i++)
        if (ev->params[i].name && ev->params[i].value && !strchr(ev->params[i].name, '.'))
            ADD(" %s=%s", ev->params[i].name, ev->params[i].value);
#undef ADD
    if (o >= sizeof buf)
        o = sizeof buf - 1;
    return mm_evalctx_strdup(c, buf, o);
}

static int fd_ip_pair(const mm_fdinfo *fd, int which, mm_fval *v)
{
    /* which: 0 both, 1 client, 2 server, 3 local, 4 remote */
    if (!fd || (fd->type != MM_FD_IPV4 && fd->type != MM_FD_IPV6))
        return 0;
    const mm_ipaddr *a;
    switch (which) {
    case 0: {
        int n = put_ip(&v[0], &fd->cip);
        n += put_ip(&v[n], &fd->sip);
        return n;
    }
    case 1: a = &fd->cip; break;
    case 2: a = &fd->sip; break;
    case 3: a = fd->role_server ? &fd->sip : &fd->cip; break;
    default: a = fd->role_server ? &fd->cip : &fd->sip; break;
    }
    return put_ip(v, a);
}

static int fd_port_pair(const mm_fdinfo *fd, int which, mm_fval *v)
{
    if (!fd || (fd->type != MM_FD_IPV4 && fd->type != MM_FD_IPV6))
        return 0;
    switch (which) {
    case 0: put_num(&v[0], fd->cport); put_num(&v[1], fd->sport); return 2;
    case 1: return put_num(v, fd->cport);
    case 2: return put_num(v, fd->sport);
    case 3: return put_num(v, fd->role_server ? fd->sport : fd->cport);
    default: return put_num(v, fd->role_server ? fd->cport : fd->sport);
    }
}

static int ancestors(mm_evalctx *c, const mm_fref *f, const mm_proc *p, mm_fval *v)
{
    int id = f->def->id;
    int from = f->idx >= 0 ? f->idx : 1, to = f->idx >= 0 ? f->idx : MM_FIELD_MAXV;
    int n = 0;
    const mm_proc *a = mm_proc_ancestor(p, from);
    for (int i = from; a && i <= to && n < MM_FIELD_MAXV; i++, a = a->parent) {
        int k = 0;
        switch (id) {
        case F_PROC_APID: k = put_num(&v[n], a->pid); break;
        case F_PROC_ANAME: k = put_str(&v[n], a->comm); break;
        case F_PROC_AEXE: k = put_str(&v[n], a->exe); break;
        case F_PROC_AEXEPATH: k = put_str(&v[n], a->exepath); break;
        case F_PROC_ACMDLINE: k = put_str(&v[n], cmdline_of(c, a)); break;
        }
        n += k;
    }
    return n;
}

static int extract_raw(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    const mm_event *ev = c->ev;
    const mm_proc *p = ev->proc;
    const mm_proc *pp = p ? p->parent : NULL;
    const mm_fdinfo *fd = ev->fd;
    int id = f->def->id;

    if (id >= F_PROC_PID && id < F_THREAD_TID && !p)
        return 0;
    if (id >= F_THREAD_TID && id < F_CT_ID && !p && id != F_THREAD_TID)
        return 0;
    if (id >= F_FD_NUM && !fd && id != F_FD_TYPES && id != F_FD_NAMERAW)
        return 0;

    switch (id) {
    case F_EVT_NUM: return put_num(v, (int64_t)ev->num);
    case F_EVT_TIME: return put_str(v, time_str(c, ev->ts, 0));
    case F_EVT_TIME_S: return put_str(v, time_str(c, ev->ts, 1));
    case F_EVT_TIME_ISO: return put_str(v, time_str(c, ev->ts, 2));
    case F_EVT_DATETIME: return put_str(v, time_str(c, ev->ts, 3));
    case F_EVT_RAWTIME: return put_num(v, ev->ts);
    case F_EVT_TYPE: case F_SYSCALL_TYPE: return put_str(v, mm_evt_type_name(ev->type));
    case F_EVT_DIR: return put_str(v, ev->dir == MM_DIR_ENTER ? ">" : "<");
    case F_EVT_CPU: return put_num(v, ev->cpu);
    case F_EVT_RES: return put_str(v, errno_str(c, ev->res));
    case F_EVT_RAWRES: return put_num(v, ev->res);
    case F_EVT_FAILED: return put_bool(v, ev->res < 0);
    case F_EVT_OPEN_READ: case F_EVT_OPEN_WRITE: case F_EVT_OPEN_EXEC: {
        if (!is_open_type(ev->type))
            return put_bool(v, false);
        unsigned acc = ev->flags & 3;
        /* is_open_exec, as Falco: the open created the file with an
         * execute bit in its mode */
        bool r = id == F_EVT_OPEN_READ ? (acc == O_RDONLY || acc == O_RDWR)
               : id == F_EVT_OPEN_WRITE ? (acc == O_WRONLY || acc == O_RDWR)
               : ((ev->flags & MM_O_F_CREATED) && (ev->mode & 0111));
        return put_bool(v, r);
    }
    case F_EVT_ARGS: return put_str(v, evt_args_str(c));
    case F_EVT_ARG: return put_str(v, arg_str(c, f, false));
    case F_EVT_RAWARG: return put_str(v, arg_str(c, f, true));
    case F_EVT_HOSTNAME: return put_str(v, c->hostname);
    case F_EVT_BUFFER:
        if (!ev->data)
            return 0;
        /* a sensor's buffer need not end in NUL: give operators one */
        v->s = mm_evalctx_strdup(c, ev->data, ev->datalen);
        v->len = ev->datalen;
        return 1;
    case F_EVT_BUFLEN: return ev->data ? put_num(v, ev->datalen) : 0;
    case F_EVT_SOURCE: return put_str(v, ev->type == MM_EVT_K8S_AUDIT ? "k8s_audit" : "syscall");
    case F_EVT_IS_IO: case F_EVT_IS_IO_READ: case F_EVT_IS_IO_WRITE: {
        bool rd = ev->type == MM_EVT_READ || ev->type == MM_EVT_PREAD ||
                  ev->type == MM_EVT_READV || ev->type == MM_EVT_RECVFROM ||
                  ev->type == MM_EVT_RECVMSG || ev->type == MM_EVT_RECVMMSG;
        bool wr = ev->type == MM_EVT_WRITE || ev->type == MM_EVT_PWRITE ||
                  ev->type == MM_EVT_WRITEV || ev->type == MM_EVT_SENDTO ||
                  ev->type == MM_EVT_SENDMSG || ev->type == MM_EVT_SENDMMSG;
        return put_bool(v, id == F_EVT_IS_IO ? (rd || wr) : id == F_EVT_IS_IO_READ ? rd : wr);
    }

    case F_PROC_PID: return put_num(v, p->pid);
    case F_PROC_EXE: return put_str(v, p->exe);
    case F_PROC_NAME: return put_str(v, p->comm);
    case F_PROC_ARGS: return put_str(v, p->args ? p->args : (p->comm ? "" : NULL));
    case F_PROC_ENV:
        if (!p->env)
            return 0;
        if (f->key) {
            size_t kl = strlen(f->key);
            for (const char *s = p->env; s && *s;) {
                const char *e = strchr(s, ' ');
                size_t l = e ? (size_t)(e - s) : strlen(s);
                if (l > kl && !memcmp(s, f->key, kl) && s[kl] == '=')
                    return put_str(v, mm_evalctx_strdup(c, s + kl + 1, l - kl - 1));
                s = e ? e + 1 : NULL;
            }
            return 0;
        }
        return put_str(v, p->env);
    case F_PROC_CMDLINE: return put_str(v, cmdline_of(c, p));
    case F_PROC_EXELINE:
        if (!p->exe)
            return 0;
        return put_str(v, p->args && p->args[0] ? ctx_printf(c, "%s %s", p->exe, p->args) : p->exe);
    case F_PROC_CWD: return put_str(v, p->cwd);
    case F_PROC_PPID: return pp ? put_num(v, pp->pid) : (p->ppid >= 0 ? put_num(v, p->ppid) : 0);
    case F_PROC_PNAME: return pp ? put_str(v, pp->comm) : 0;
    case F_PROC_PCMDLINE: return put_str(v, cmdline_of(c, pp));
    case F_PROC_PEXE: return pp ? put_str(v, pp->exe) : 0;
    case F_PROC_PEXEPATH: return pp ? put_str(v, pp->exepath) : 0;
    case F_PROC_APID: case F_PROC_ANAME: case F_PROC_AEXE: case F_PROC_AEXEPATH:
    case F_PROC_ACMDLINE:
        if (f->idx == 0) {   /* [0] is the process itself */
            switch (id) {
            case F_PROC_APID: return put_num(v, p->pid);
            case F_PROC_ANAME: return put_str(v, p->comm);
            case F_PROC_AEXE: return put_str(v, p->exe);
            case F_PROC_AEXEPATH: return put_str(v, p->exepath);
            default: return put_str(v, cmdline_of(c, p));
            }
        }
        return ancestors(c, f, p, v);
    case F_PROC_DURATION:
        return p->start_ts > 0 && ev->ts >= p->start_ts ? put_num(v, ev->ts - p->start_ts) : 0;
    case F_PROC_PPID_DURATION:
        return pp && pp->start_ts > 0 && ev->ts >= pp->start_ts ? put_num(v, ev->ts - pp->start_ts) : 0;
    case F_PROC_PID_TS: return p->start_ts > 0 ? put_num(v, p->start_ts) : 0;
    case F_PROC_TTY: return put_num(v, p->tty);
    case F_PROC_EXEPATH: return put_str(v, p->exepath);
    case F_PROC_SID: return put_num(v, p->sid);
    case F_PROC_SNAME: case F_PROC_SID_EXE: case F_PROC_SID_EXEPATH: {
        const mm_proc *s = p->sid > 0 ? find_ancestor_pid(p, p->sid) : NULL;
        if (!s)
            return 0;
        return put_str(v, id == F_PROC_SNAME ? s->comm : id == F_PROC_SID_EXE ? s->exe : s->exepath);
    }
    case F_PROC_VPGID: return put_num(v, p->vpgid);
    case F_PROC_VPGID_NAME: case F_PROC_VPGID_EXE: case F_PROC_VPGID_EXEPATH: {
        const mm_proc *g = NULL;
        if (p->vpgid > 0)
            for (const mm_proc *a = p; a && !g; a = a->parent)
                if (a->vpid == p->vpgid)
                    g = a;
        if (!g)
            return 0;
        return put_str(v, id == F_PROC_VPGID_NAME ? g->comm : id == F_PROC_VPGID_EXE ? g->exe : g->exepath);
    }
    case F_PROC_IS_VPGID_LEADER: return p->vpgid > 0 ? put_bool(v, p->vpid == p->vpgid) : 0;
    case F_PROC_IS_SID_LEADER: return p->sid > 0 ? put_bool(v, p->pid == p->sid) : 0;
    case F_PROC_VPID: return put_num(v, p->vpid);
    case F_PROC_PVPID: return pp ? put_num(v, pp->vpid) : 0;
    case F_PROC_IS_EXE_WRITABLE: return put_bool(v, (p->exe_flags & MM_EXE_WRITABLE) || p->is_exe_writable);
    case F_PROC_IS_EXE_UPPER: return put_bool(v, p->exe_flags & MM_EXE_UPPER_LAYER);
    case F_PROC_IS_EXE_LOWER: return put_bool(v, p->exe_flags & MM_EXE_LOWER_LAYER);
    case F_PROC_IS_EXE_MEMFD: return put_bool(v, p->exe_flags & MM_EXE_FROM_MEMFD);
    case F_PROC_EXE_INO: return p->exe_ino ? put_num(v, (int64_t)p->exe_ino) : 0;
    case F_PROC_EXE_INO_CTIME: return p->exe_ino_ctime ? put_num(v, p->exe_ino_ctime) : 0;
    case F_PROC_EXE_INO_MTIME: return p->exe_ino_mtime ? put_num(v, p->exe_ino_mtime) : 0;
    case F_PROC_EXE_INO_CTIME_DUR_START:
        return p->exe_ino_ctime && p->start_ts ? put_num(v, p->start_ts - p->exe_ino_ctime) : 0;
    case F_PROC_EXE_INO_CTIME_DUR_PIDNS:
        return p->exe_ino_ctime && p->pidns_init_start_ts
            ? put_num(v, (int64_t)p->pidns_init_start_ts - p->exe_ino_ctime) : 0;
    case F_PROC_PIDNS_INIT_START_TS:
        return p->pidns_init_start_ts ? put_num(v, (int64_t)p->pidns_init_start_ts) : 0;
    case F_PROC_CMDNARGS: return put_num(v, p->argc > 0 ? (int64_t)p->argc - 1 : 0);
    case F_PROC_CMDLENARGS: return put_num(v, p->args ? (int64_t)strlen(p->args) : 0);
    case F_PROC_IS_HEALTHCHECK: case F_PROC_IS_LIVENESS: case F_PROC_IS_READINESS:
        return put_bool(v, false);
    case F_PROC_CGROUP: return put_str(v, p->cgroup);

    case F_THREAD_TID: return put_num(v, ev->tid ? ev->tid : (p ? p->tid : 0));
    case F_THREAD_VTID: return put_num(v, p->vtid);
    case F_THREAD_CAP_EFF: return put_str(v, render_caps(c, p->cap_effective));
    case F_THREAD_CAP_PERM: return put_str(v, render_caps(c, p->cap_permitted));
    case F_THREAD_CAP_INH: return put_str(v, render_caps(c, p->cap_inheritable));
    case F_THREAD_ISMAIN: return put_bool(v, !ev->tid || ev->tid == p->pid);

    case F_USER_UID: return put_num(v, p->euid ? p->euid : p->uid);
    case F_USER_NAME:
        if (p->user_name)
            return put_str(v, p->user_name);
        return (p->euid ? p->euid : p->uid) == 0 ? put_str(v, "root") : 0;
    case F_USER_HOMEDIR: return put_str(v, p->user_homedir);
    case F_USER_SHELL: return put_str(v, p->user_shell);
    case F_USER_LOGINUID: return put_num(v, p->loginuid == UINT32_MAX ? -1 : (int64_t)p->loginuid);
    case F_USER_LOGINNAME:
        if (p->login_name)
            return put_str(v, p->login_name);
        return p->loginuid == 0 ? put_str(v, "root") : 0;
    case F_GROUP_GID: return put_num(v, p->egid ? p->egid : p->gid);
    case F_GROUP_NAME:
        if (p->group_name)
            return put_str(v, p->group_name);
        return (p->egid ? p->egid : p->gid) == 0 ? put_str(v, "root") : 0;

    case F_CT_ID: case F_CT_FULL_ID: case F_CT_NAME: case F_CT_IMAGE:
    case F_CT_IMAGE_ID: case F_CT_IMAGE_REPO: case F_CT_IMAGE_TAG:
    case F_CT_IMAGE_DIGEST: case F_CT_TYPE: case F_K8S_POD_NAME:
    case F_K8S_NS_NAME: case F_K8S_POD_UID:
        return put_str(v, container_str(p, id));
    case F_CT_PRIVILEGED:
        if (!p || !p->container || !p->container->privileged_known)
            return 0;
        return put_bool(v, p->container->privileged);
    case F_CT_START_TS:
        return p && p->container && p->container->start_ts ? put_num(v, p->container->start_ts) : 0;
    case F_CT_DURATION:
        return p && p->container && p->container->start_ts
            ? put_num(v, ev->ts - p->container->start_ts) : 0;
    case F_CT_MOUNTS: case F_CT_MOUNT: case F_CT_MOUNT_SOURCE: case F_CT_MOUNT_DEST:
    case F_CT_MOUNT_MODE: case F_CT_MOUNT_RDWR: {
        const mm_container *ct = p ? p->container : NULL;
        if (!ct || (!ct->nmounts && !ct->mounts_known))
            return 0;
        if (id == F_CT_MOUNTS) {
            mm_buf b = MM_BUF_INIT;
            for (size_t i = 0; i < ct->nmounts; i++)
                mm_buf_printf(&b, "%s%s:%s:%s:%s", i ? "," : "",
                              ct->mounts[i].source ? ct->mounts[i].source : "",
                              ct->mounts[i].dest ? ct->mounts[i].dest : "",
                              ct->mounts[i].mode ? ct->mounts[i].mode : "",
                              ct->mounts[i].rw ? "true" : "false");
            const char *s = mm_evalctx_strdup(c, b.data ? b.data : "", b.len);
            mm_buf_free(&b);
            return put_str(v, s);
        }
        /* the argument is a mount source (glob) or an index */
        for (size_t i = 0; i < ct->nmounts; i++) {
            const mm_mount *m = &ct->mounts[i];
            char *e;
            long ix = strtol(f->key, &e, 10);
            bool hit = (*f->key && !*e) ? (size_t)ix == i
                     : (m->source && !fnmatch(f->key, m->source, 0));
            if (!hit)
                continue;
            switch (id) {
            case F_CT_MOUNT:
                return put_str(v, ctx_printf(c, "%s:%s:%s:%s", m->source ? m->source : "",
                                             m->dest ? m->dest : "", m->mode ? m->mode : "",
                                             m->rw ? "true" : "false"));
            case F_CT_MOUNT_SOURCE: return put_str(v, m->source);
            case F_CT_MOUNT_DEST: return put_str(v, m->dest);
            case F_CT_MOUNT_MODE: return put_str(v, m->mode);
            default: return put_str(v, m->rw ? "true" : "false");
            }
        }
        /* the mounts are known and none matches: Falco's "<NA>", which
         * rules test for (not container.mount.dest[/proc*] in ("<NA>")) */
        return ct->mounts_known ? put_str(v, "<NA>") : 0;
    }

    case F_FD_NUM: return put_num(v, fd->fd);
    case F_FD_TYPE: return put_str(v, mm_fd_type_name(fd->type));
    case F_FD_TYPECHAR: {
        static const char chars[MM_FD__COUNT][2] = {
            "o", "f", "d", "4", "6", "u", "p", "e", "s", "l", "i", "t", "n", "b", "u", "r", "m", "P"};
        return put_str(v, (unsigned)fd->type < MM_FD__COUNT ? chars[fd->type] : "o");
    }
    case F_FD_NAME: return put_str(v, fd->name);
    case F_FD_DIRECTORY: case F_FD_FILENAME: {
        if (!fd->name || (fd->type != MM_FD_FILE && fd->type != MM_FD_DIRECTORY))
            return 0;
        if (fd->type == MM_FD_DIRECTORY)
            return id == F_FD_DIRECTORY ? put_str(v, fd->name) : 0;
        const char *sl = strrchr(fd->name, '/');
        if (!sl)
            return id == F_FD_FILENAME ? put_str(v, fd->name) : 0;
        if (id == F_FD_FILENAME)
            return put_str(v, sl + 1);
        size_t dl = sl == fd->name ? 1 : (size_t)(sl - fd->name);
        return put_str(v, mm_evalctx_strdup(c, fd->name, dl));
    }
    case F_FD_NAMERAW:
        if (is_open_type(ev->type) && ev->path)
            return put_str(v, ev->path);
        return fd ? put_str(v, fd->name) : 0;
    case F_FD_IP: case F_FD_NET: return fd_ip_pair(fd, 0, v);
    case F_FD_CIP: case F_FD_CNET: return fd_ip_pair(fd, 1, v);
    case F_FD_SIP: case F_FD_SNET: return fd_ip_pair(fd, 2, v);
    case F_FD_LIP: case F_FD_LNET: return fd_ip_pair(fd, 3, v);
    case F_FD_RIP: case F_FD_RNET: return fd_ip_pair(fd, 4, v);
    case F_FD_PORT: return fd_port_pair(fd, 0, v);
    case F_FD_CPORT: return fd_port_pair(fd, 1, v);
    case F_FD_SPORT: return fd_port_pair(fd, 2, v);
    case F_FD_LPORT: return fd_port_pair(fd, 3, v);
    case F_FD_RPORT: return fd_port_pair(fd, 4, v);
    case F_FD_L4PROTO:
        if (fd->type != MM_FD_IPV4 && fd->type != MM_FD_IPV6)
            return 0;
        return put_str(v, fd->l4proto == MM_L4_TCP ? "tcp" : fd->l4proto == MM_L4_UDP ? "udp"
                        : fd->l4proto == MM_L4_ICMP ? "icmp" : fd->l4proto == MM_L4_RAW ? "raw" : "<NA>");
    case F_FD_SOCKFAMILY:
        return fd->type == MM_FD_IPV4 || fd->type == MM_FD_IPV6 ? put_str(v, "ip")
             : fd->type == MM_FD_UNIX ? put_str(v, "unix") : 0;
    case F_FD_IS_SERVER: return put_bool(v, fd->role_server);
    case F_FD_CONNECTED: return put_bool(v, fd->connected);
    case F_FD_NAME_CHANGED:
        return put_bool(v, (ev->type == MM_EVT_SENDTO || ev->type == MM_EVT_SENDMSG ||
                            ev->type == MM_EVT_CONNECT) && ev->addr.family != 0);
    case F_FD_CIP_NAME: return put_str(v, param_get(ev, "fd.cip.name"));
    case F_FD_SIP_NAME: return put_str(v, param_get(ev, "fd.sip.name"));
    case F_FD_LIP_NAME: return put_str(v, param_get(ev, "fd.lip.name"));
    case F_FD_RIP_NAME: return put_str(v, param_get(ev, "fd.rip.name"));
    case F_FD_DEV: return put_num(v, fd->dev);
    case F_FD_INO: return put_num(v, (int64_t)fd->ino);
    case F_FD_TYPES: {
        if (!p)
            return 0;
        if (f->idx >= 0) {
            const mm_fdinfo *x = mm_proc_fd(p, f->idx);
            return x ? put_str(v, mm_fd_type_name(x->type)) : 0;
        }
        size_t it = 0;
        const mm_fdinfo *x;
        int n = 0;
        while (n < MM_FIELD_MAXV && mm_proc_fd_next(p, &it, &x))
            n += put_str(&v[n], mm_fd_type_name(x->type));
        return n;
    }
    }
    return 0;
}

static const char b64tab[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static const char *b64_decode(mm_evalctx *c, const char *s, size_t n)
{
    char *out = ctx_alloc(c, n + 1);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=')
            break;
        const char *q = memchr(b64tab, s[i], 64);
        if (!q)
            return NULL;
        acc = (acc << 6) | (uint32_t)(q - b64tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = 0;
    return out;
}

int mm_field_extract(mm_evalctx *c, const mm_fref *f, mm_fval *v)
{
    int n = f->def->id >= MM_FID_AUDIT ? mm_audit_extract(c, f, v) : extract_raw(c, f, v);
    if (!f->xform || n == 0)
        return n;
    for (int i = 0; i < n; i++) {
        if (v[i].s && v[i].len == MM_LEN_UNKNOWN)
            v[i].len = strlen(v[i].s);
        if (!v[i].s) {  /* numbers are transformed as their text */
            v[i].s = ctx_printf(c, "%lld", (long long)v[i].n);
            v[i].len = strlen(v[i].s);
        }
        switch (f->xform) {
        case XF_TOLOWER: case XF_TOUPPER: {
            char *s = mm_evalctx_strdup(c, v[i].s, v[i].len);
            for (size_t k = 0; k < v[i].len; k++)
                s[k] = (char)(f->xform == XF_TOLOWER ? tolower((unsigned char)s[k])
                                                     : toupper((unsigned char)s[k]));
            v[i].s = s;
            break;
        }
        case XF_B64: {
            const char *d = b64_decode(c, v[i].s, v[i].len);
            if (!d)
                return 0;
            v[i].s = d;
            v[i].len = strlen(d);
            break;
        }
        case XF_BASENAME: {
            const char *sl = strrchr(v[i].s, '/');
            if (sl) {
                v[i].s = sl + 1;
                v[i].len = strlen(sl + 1);
            }
            break;
        }
        case XF_LEN:
            v[i].n = (int64_t)v[i].len;
            v[i].s = NULL;
            break;
        }
    }
    return n;
}

const char *mm_field_render(mm_evalctx *c, const mm_fref *f, bool *numeric)
{
    mm_fval v[MM_FIELD_MAXV];
    *numeric = false;
    int n = mm_field_extract(c, f, v);
    if (n == 0)
        return NULL;
    if (f->def->list && f->type == FT_STR && !f->xform) {   /* Falco's "(a,b)" */
        size_t len = 2;
        for (int i = 0; i < n; i++)
            len += (v[i].len == MM_LEN_UNKNOWN ? strlen(v[i].s) : v[i].len) + 1;
        char *o = ctx_alloc(c, len + 1), *p = o;
        *p++ = '(';
        for (int i = 0; i < n; i++) {
            size_t l = v[i].len == MM_LEN_UNKNOWN ? strlen(v[i].s) : v[i].len;
            if (i)
                *p++ = ',';
            memcpy(p, v[i].s, l);
            p += l;
        }
        *p++ = ')';
        *p = 0;
        return o;
    }
    switch (f->type) {
    case FT_NUM:
        *numeric = true;
        return ctx_printf(c, "%lld", (long long)v[0].n);
    case FT_BOOL:
        return v[0].n ? "true" : "false";
    case FT_IP: case FT_NET: {
        char buf[64];
        mm_event_ip_str(&v[0].ip, buf, sizeof buf);
        return mm_evalctx_strdup(c, buf, strlen(buf));
    }
    default:
        if (f->def->id == F_EVT_BUFFER) /* may hold NULs: print up to one */
            return mm_evalctx_strdup(c, v[0].s, v[0].len == MM_LEN_UNKNOWN ? strlen(v[0].s)
                                                  : strnlen(v[0].s, v[0].len));
        return v[0].s;
    }
}
