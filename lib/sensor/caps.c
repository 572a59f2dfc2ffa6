/*
 * caps.c - what each live source can serve: the syscalls the eBPF sensor
 * traces (one table, read by bpf.c to program the kernel side and here to
 * say which event types exist) and, per source, the event types it
 * produces and the fields it cannot fill, with the reason.  The rule engine
 * uses these (mm_ruleset_set_source) to disable, with a warning naming the
 * rule and the field, every rule that would load and never fire.
 */
#include <stddef.h>
#include <sys/syscall.h>

#include "sensor_int.h"
#include "sensor_abi.h"

/* syscall number -> event type and how the kernel side captures it */

const mm_sn_sysdef mm_sn_sysdefs[] = {
#define S(name, t, k) { SYS_##name, MM_EVT_##t, MM_K_##k },
#ifdef SYS_open
    S(open, OPEN, P0)
#endif
#ifdef SYS_creat
    S(creat, CREAT, P0)
#endif
    S(openat, OPENAT, P1)
#ifdef SYS_openat2
    S(openat2, OPENAT2, P1)
#endif
    S(close, CLOSE, INT)
    S(socket, SOCKET, INT)
    S(connect, CONNECT, SA1)
    S(bind, BIND, SA1)
    S(listen, LISTEN, INT)
#ifdef SYS_accept
    S(accept, ACCEPT, ACCEPT)
#endif
    S(accept4, ACCEPT4, ACCEPT)
    S(sendto, SENDTO, SA4)
    S(sendmsg, SENDMSG, MSG)
    S(recvfrom, RECVFROM, RECVFROM)
    S(recvmsg, RECVMSG, RECVMSG)
    S(dup, DUP, INT)
#ifdef SYS_dup2
    S(dup2, DUP2, INT)
#endif
    S(dup3, DUP3, INT)
#ifdef SYS_rename
    S(rename, RENAME, P0P1)
#endif
    S(renameat, RENAMEAT, P1P3)
    S(renameat2, RENAMEAT2, P1P3)
#ifdef SYS_unlink
    S(unlink, UNLINK, P0)
#endif
    S(unlinkat, UNLINKAT, P1)
#ifdef SYS_mkdir
    S(mkdir, MKDIR, P0)
#endif
    S(mkdirat, MKDIRAT, P1)
#ifdef SYS_rmdir
    S(rmdir, RMDIR, P0)
#endif
#ifdef SYS_chmod
    S(chmod, CHMOD, P0)
#endif
    S(fchmod, FCHMOD, INT)
    S(fchmodat, FCHMODAT, P1)
#ifdef SYS_symlink
    S(symlink, SYMLINK, P0P1)
#endif
    S(symlinkat, SYMLINKAT, P0P2)
#ifdef SYS_link
    S(link, LINK, P0P1)
#endif
    S(linkat, LINKAT, P1P3)
    S(setuid, SETUID, INT)
    S(setgid, SETGID, INT)
    S(setreuid, SETREUID, INT)
    S(setregid, SETREGID, INT)
    S(setresuid, SETRESUID, INT)
    S(setresgid, SETRESGID, INT)
    S(setns, SETNS, INT)
    S(unshare, UNSHARE, INT)
    S(ptrace, PTRACE, INT)
    S(mount, MOUNT, MOUNT)
    S(umount2, UMOUNT2, P0)
    S(init_module, INIT_MODULE, INT)
    S(finit_module, FINIT_MODULE, INT)
    S(delete_module, DELETE_MODULE, P0)
    S(memfd_create, MEMFD_CREATE, P0)
    S(chdir, CHDIR, P0)
    S(fchdir, FCHDIR, INT)
    S(chroot, CHROOT, P0)
    S(pivot_root, PIVOT_ROOT, P0P1)
    S(kill, KILL, INT)
    S(bpf, BPF, INT)
    S(userfaultfd, USERFAULTFD, INT)
    S(prctl, PRCTL, INT)
    S(process_vm_writev, PROCESS_VM_WRITEV, INT)
#undef S
};

const size_t mm_sn_nsysdefs = sizeof mm_sn_sysdefs / sizeof mm_sn_sysdefs[0];

/* Fields no live source fills (shared by both lists) */
#define MM_CAPS_COMMON \
    {"fd.cip.name", "host names of addresses are not resolved by the sensor"}, \
    {"fd.sip.name", "host names of addresses are not resolved by the sensor"}, \
    {"fd.lip.name", "host names of addresses are not resolved by the sensor"}, \
    {"fd.rip.name", "host names of addresses are not resolved by the sensor"}, \
    {"evt.buffer", "I/O payloads are not captured"}, \
    {"evt.buflen", "I/O payloads are not captured"}

static const mm_source_field bpf_missing[] = {
    MM_CAPS_COMMON,
    {"proc.is_exe_writable", "write permission on the exe is not checked at exec"},
    {"proc.pidns_init_start_ts", "the start time of a pid namespace's init is not read"},
    {"proc.exe_ino.ctime_duration_pidns_start",
     "the start time of a pid namespace's init is not read"},
};

static const mm_source_field fb_missing[] = {
    MM_CAPS_COMMON,
    /* the few arguments fanotify and the connector do give */
    {"!evt.arg.name", NULL}, {"!evt.arg.pathname", NULL}, {"!evt.arg.path", NULL},
    {"!evt.arg.filename", NULL}, {"!evt.arg.res", NULL}, {"!evt.arg.fd", NULL},
    {"!evt.arg.exe", NULL}, {"!evt.arg.args", NULL}, {"!evt.arg.cwd", NULL},
    {"!evt.arg.comm", NULL}, {"!evt.rawarg.res", NULL},
    {"evt.arg.*", "fanotify and the process connector carry no syscall arguments "
                  "(open flags are only read/write)"},
    {"evt.rawarg.*", "fanotify and the process connector carry no syscall arguments"},
    {"evt.args", "fanotify and the process connector carry no syscall arguments"},
    {"fd.nameraw", "fanotify gives the resolved path, not the one the process passed"},
    {"evt.is_open_exec", "fanotify does not say whether an open created the file"},
    {"fd.ino", "not read for fanotify events"},
    {"fd.dev", "not read for fanotify events"},
    {"thread.tid", "fanotify and the connector name the process, not the thread"},
    {"thread.vtid", "fanotify and the connector name the process, not the thread"},
    {"proc.exe_ino", "the exec event carries no inode"},
    {"proc.exe_ino.ctime", "the exec event carries no inode"},
    {"proc.exe_ino.mtime", "the exec event carries no inode"},
    {"proc.exe_ino.ctime_duration_proc_start", "the exec event carries no inode"},
    {"proc.pidns_init_start_ts", "the start time of a pid namespace's init is not read"},
    {"proc.exe_ino.ctime_duration_pidns_start", "the exec event carries no inode"},
    {"proc.is_exe_writable", "the exec event carries no file"},
    {"proc.is_exe_upper_layer", "the exec event carries no file (its layer is unknown)"},
    {"proc.is_exe_from_memfd", "the kernel's memfd filesystem cannot be marked, so the exec "
                               "of a static program from a memfd is not held: it is only seen "
                               "in /proc/PID/exe, which a program that exits at once no longer has"},
    {"proc.is_exe_lower_layer", "the exec event carries no file (its layer is unknown)"},
};

void mm_sensor_caps(mm_source_caps *out, mm_sensor_kind kind)
{
    mm_source_caps c = {0};
    const mm_evt_type base[] = { MM_EVT_EXECVE, MM_EVT_CLONE, MM_EVT_PROCEXIT };
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        c.types[base[i] / 64] |= 1ull << (base[i] % 64);
    if (kind == MM_SENSOR_BPF) {
        c.name = "bpf";
        c.types_why = "not traced by the eBPF sensor (docs/sensor.md lists what is)";
        for (size_t i = 0; i < mm_sn_nsysdefs; i++)
            c.types[mm_sn_sysdefs[i].type / 64] |= 1ull << (mm_sn_sysdefs[i].type % 64);
        c.missing = bpf_missing;
        c.nmissing = sizeof bpf_missing / sizeof bpf_missing[0];
    } else {
        c.name = "fallback";
        c.types_why = "the fallback sees exec, fork, exit and file opens only";
        c.types[MM_EVT_OPENAT / 64] |= 1ull << (MM_EVT_OPENAT % 64);
        c.missing = fb_missing;
        c.nmissing = sizeof fb_missing / sizeof fb_missing[0];
    }
    *out = c;
}
