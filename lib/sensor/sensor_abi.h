/*
 * sensor_abi.h - the record layout the eBPF program (sensor.bpf.c) writes
 * into the ring buffer and user space (bpf.c) decodes, plus the syscall
 * "kinds" that tell the BPF side which arguments are strings or socket
 * addresses.  Shared by both sides, so only fixed-width kernel types.
 */
#ifndef MM_SENSOR_ABI_H
#define MM_SENSOR_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* record kinds */
enum { MM_REC_SYS = 1, MM_REC_EXEC = 2, MM_REC_FORK = 3, MM_REC_EXIT = 4, MM_REC_SYSC = 5 };

/* How the BPF side captures a syscall's arguments (value of the `sysconf`
 * map, indexed by syscall number; 0 = not traced).  User space fills the
 * map from <sys/syscall.h> so the numbers follow the architecture. */
enum {
    MM_K_NONE = 0,
    MM_K_INT,        /* integers only */
    MM_K_P0,         /* path/string at arg0 */
    MM_K_P1,         /* path at arg1 (the *at family) */
    MM_K_P0P1,       /* rename, link, symlink: arg0 and arg1 */
    MM_K_P1P3,       /* renameat(2), linkat: arg1 and arg3 */
    MM_K_P0P2,       /* symlinkat: target arg0, linkpath arg2 */
    MM_K_SA1,        /* sockaddr at arg1, length arg2 (connect, bind) */
    MM_K_SA4,        /* sockaddr at arg4, length arg5 (sendto) */
    MM_K_ACCEPT,     /* accept(4): sockaddr arg1, *arg2 length, at exit */
    MM_K_MSG,        /* sendmsg: struct msghdr at arg1 */
    MM_K_MOUNT,      /* mount: source arg0, target arg1, fstype arg2 */
    MM_K_RECVFROM,   /* recvfrom: sockaddr arg4, *arg5 length, at exit */
    MM_K_RECVMSG,    /* recvmsg: struct msghdr at arg1, read at exit */
    MM_K__COUNT
};

/* flags in exe_flags of an exec record */
enum {
    MM_BEXE_MEMFD = 1,
    MM_BEXE_UPPER = 2,      /* the file is on an overlayfs upper layer */
    MM_BEXE_LOWER = 4,      /* ... on an overlayfs lower layer */
    MM_BEXE_EXEPATH = 8,    /* s5 holds the whole exe path (it reached the root) */
    MM_BEXE_CWD = 16,       /* s6 holds the whole cwd */
};

/* flag of a compact open record (mm_bsys.flags): the open created the file */
#define MM_BSYS_CREATED 1

#define MM_S1_SIZE 256
#define MM_S2_SIZE 1024     /* argv of an exec; second path; sockaddr */
#define MM_S3_SIZE 64
#define MM_S4_SIZE 4096     /* environment of an exec */
#define MM_CG1_SIZE 128     /* name of the v1 pids cgroup (exec) */
#define MM_PATH_SIZE 512    /* exe / cwd path components (leaf first) ... */
#define MM_PATH_SLACK 256   /* ... plus room for the last name read */
#define MM_SYS_MAX 512      /* syscall numbers traced are below this */
#define MM_RB_CPU_SIZE (4u << 20)  /* one ring buffer per CPU, at most this size */

struct mm_brec {
    __u16 kind;
    __u16 cpu;
    __u32 pid, tid;         /* tgid and thread id (init pid namespace) */
    __u32 ppid;             /* real parent's tgid (exec, fork) */
    __u32 vpid;             /* pid in the task's own pid namespace */
    __u32 uid, gid, euid, egid, loginuid;
    __u32 tty;              /* tty_nr as /proc/PID/stat encodes it */
    __u32 exe_flags;        /* MM_BEXE_* */
    __u32 lport;            /* local port of connect/accept socket (host order) */
    __u32 mntns;            /* mount namespace inode (exec) */
    __u32 pad0;
    __u64 ts;               /* bpf_ktime_get_boot_ns() */
    __u64 cgid;             /* cgroup v2 id */
    __u64 cap_eff, cap_perm, cap_inh;
    __u64 exe_ino;
    __s64 nr, res;          /* syscall number and return value */
    __u64 args[6];
    __u8 laddr[16];         /* local address of connect/accept socket */
    __u16 lfamily;
    __u16 len1, len2, len3; /* bytes used in s1/s2/s3 (0 = none) */
    __u16 len4, len5, len6; /* bytes used in s4/s5/s6 (exec) */
    __u16 pad1;
    __u64 exe_ctime, exe_mtime; /* ns since the epoch (exec) */
    char comm[16];
    /* The record is cut after its last used string: after len1 bytes of
     * s1 when s2 and s3 are empty (most file syscalls), after len2 bytes
     * of s2 when s3 is empty, else sent whole (exec, mount). */
    char s1[MM_S1_SIZE];
    char s2[MM_S2_SIZE];
    char s3[MM_S3_SIZE];
    /* exec only (sent whole): the environment (NUL separated), then the
     * exe path and the cwd as their names from the leaf up, each ending
     * in NUL, relative to the task's root (complete when MM_BEXE_EXEPATH /
     * MM_BEXE_CWD is set) */
    char s4[MM_S4_SIZE];
    char s5[MM_PATH_SIZE + MM_PATH_SLACK];
    char s6[MM_PATH_SIZE + MM_PATH_SLACK];
    /* the leaf name of the task's cgroup in the v1 pids hierarchy: on
     * hybrid hosts runtimes name the container there (libpod-ID, ID), not
     * in the unified hierarchy the cgroup id points to */
    char cg1[MM_CG1_SIZE];
};

/* The compact record of a syscall whose arguments are integers and at most
 * one path (kinds MM_K_INT, MM_K_P0, MM_K_P1: opens, closes, unlink, chmod,
 * setuid...), which are most of the traffic.  The BPF side builds it in the
 * ring buffer itself (no per-CPU scratch record, no copy) with an 88-byte
 * header; INT records stop before s1.  User space needs nothing more for
 * these: the process's name, cgroup and credentials come from its exec
 * and fork records. */
struct mm_bsys {
    __u16 kind;             /* MM_REC_SYSC */
    __u16 cpu;
    __u16 len1;             /* bytes used in s1 (0 = none) */
    __u16 flags;            /* MM_BSYS_* */
    __u32 pid, tid;
    __u64 ts;
    __s64 nr, res;
    __u64 args[6];
    char s1[MM_S1_SIZE];
};

/* per-CPU counters (the `stats` map) */
struct mm_bstats {
    __u64 events;           /* records written */
    __u64 drops;            /* ring buffer full: record lost */
    __u64 enter_lost;       /* sys_enter could not be remembered */
    __u64 wake;             /* counter for batched wake-ups */
    __u64 last_wake;        /* time of the last wake-up (adaptive wake-ups) */
};

#endif
