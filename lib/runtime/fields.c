/*
 * fields.c - the Falco field registry: every field name the engine knows
 * (evt.*, proc.*, thread.*, user.*, group.*, container.*, k8s.*, fd.*), its
 * type and argument form, field references parsed from rule text, and the
 * flag and capability tables that evt.arg.flags / thread.cap_* render and
 * replay parses.  Reading the values of a field is fields_extract.c.
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

#include "runtime/fields_int.h"

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

const char *mm_flags_render(mm_evalctx *c, int set, uint64_t v)
{
    const mm_flagname *tab = flagsets[set];
    if (is_enum(set)) {
        if (set == FS_SOCKTYPE)
            v &= 0xf;
        for (const mm_flagname *f = tab; f->name; f++)
            if (f->v == v)
                return f->name;
        return mm_evalctx_printf(c, "%llu", (unsigned long long)v);
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
        return mm_evalctx_printf(c, "%llu", (unsigned long long)v);
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

const char *mm_caps_render(mm_evalctx *c, uint64_t caps)
{
    char buf[1024];
    size_t o = 0;
    buf[0] = 0;
    for (int i = 0; i < NCAPS; i++)
        if (caps & (1ull << i))
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s%s", o ? " " : "", capnames[i]);
    return mm_evalctx_strdup(c, buf, o);
}
