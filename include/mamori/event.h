/*
 * mamori/event.h - the normalised runtime event: what a sensor (eBPF, the
 * netlink/fanotify fallback, or the JSON-lines replay source) fills in and
 * what the rule engine reads.
 *
 * Design, so that a sensor can fill it cheaply and rules read it fast:
 *  - an event is fixed fields plus a few borrowed strings; the producer owns
 *    the bytes (its ring-buffer record, an arena) and keeps them valid until
 *    the consumer callback returns;
 *  - the process state (comm, exe, args, cwd, uids, capabilities, container,
 *    fd table) lives in an mm_proc record kept by a process table
 *    (mm_proctab), so per-event work is a pointer, not copies.  Records are
 *    reference counted and a record holds a reference on its parent, so the
 *    ancestor chain (proc.aname[N]) stays readable after a parent exits;
 *  - event types carry Falco's evt.type names, so rules written for Falco
 *    (evt.type in (open, openat, openat2)) read naturally.
 * Field names in comments are the Falco fields the rule engine maps to them.
 * Constructors take the out parameter first and return 0 (MM_OK), as in the
 * rest of the library; those of this header cannot fail otherwise.
 */
#ifndef MAMORI_EVENT_H
#define MAMORI_EVENT_H

#include "mamori/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- event types (evt.type) --------------------------------------------- */

/* X(enum suffix, Falco evt.type name).  Order is ABI for captures written by
 * name only (captures store the name, never the number). */
#define MM_EVT_TYPES(X)                                                     \
    X(UNKNOWN, "unknown")                                                   \
    X(EXECVE, "execve") X(EXECVEAT, "execveat")                             \
    X(CLONE, "clone") X(CLONE3, "clone3") X(FORK, "fork") X(VFORK, "vfork") \
    X(PROCEXIT, "procexit")                                                 \
    X(OPEN, "open") X(OPENAT, "openat") X(OPENAT2, "openat2")               \
    X(CREAT, "creat") X(OPEN_BY_HANDLE_AT, "open_by_handle_at")             \
    X(CLOSE, "close")                                                       \
    X(READ, "read") X(PREAD, "pread") X(READV, "readv")                     \
    X(WRITE, "write") X(PWRITE, "pwrite") X(WRITEV, "writev")               \
    X(RENAME, "rename") X(RENAMEAT, "renameat") X(RENAMEAT2, "renameat2")   \
    X(UNLINK, "unlink") X(UNLINKAT, "unlinkat")                             \
    X(MKDIR, "mkdir") X(MKDIRAT, "mkdirat")                                 \
    X(RMDIR, "rmdir")                                                       \
    X(CHMOD, "chmod") X(FCHMOD, "fchmod") X(FCHMODAT, "fchmodat")           \
    X(CHOWN, "chown") X(FCHOWN, "fchown") X(FCHOWNAT, "fchownat")           \
    X(LCHOWN, "lchown")                                                     \
    X(SYMLINK, "symlink") X(SYMLINKAT, "symlinkat")                         \
    X(LINK, "link") X(LINKAT, "linkat")                                     \
    X(TRUNCATE, "truncate") X(FTRUNCATE, "ftruncate")                       \
    X(SOCKET, "socket") X(SOCKETPAIR, "socketpair")                         \
    X(CONNECT, "connect") X(ACCEPT, "accept") X(ACCEPT4, "accept4")         \
    X(LISTEN, "listen") X(BIND, "bind")                                     \
    X(SENDTO, "sendto") X(SENDMSG, "sendmsg") X(SENDMMSG, "sendmmsg")       \
    X(RECVFROM, "recvfrom") X(RECVMSG, "recvmsg") X(RECVMMSG, "recvmmsg")   \
    X(SHUTDOWN, "shutdown")                                                 \
    X(DUP, "dup") X(DUP2, "dup2") X(DUP3, "dup3")                           \
    X(FCNTL, "fcntl") X(IOCTL, "ioctl") X(PIPE, "pipe") X(PIPE2, "pipe2")   \
    X(SETUID, "setuid") X(SETGID, "setgid")                                 \
    X(SETREUID, "setreuid") X(SETREGID, "setregid")                         \
    X(SETRESUID, "setresuid") X(SETRESGID, "setresgid")                     \
    X(SETFSUID, "setfsuid") X(SETFSGID, "setfsgid")                         \
    X(CAPSET, "capset") X(PRCTL, "prctl")                                   \
    X(SETNS, "setns") X(UNSHARE, "unshare")                                 \
    X(PTRACE, "ptrace") X(PROCESS_VM_READV, "process_vm_readv")             \
    X(PROCESS_VM_WRITEV, "process_vm_writev")                               \
    X(MOUNT, "mount") X(UMOUNT, "umount") X(UMOUNT2, "umount2")             \
    X(PIVOT_ROOT, "pivot_root") X(CHROOT, "chroot")                         \
    X(INIT_MODULE, "init_module") X(FINIT_MODULE, "finit_module")           \
    X(DELETE_MODULE, "delete_module")                                       \
    X(MEMFD_CREATE, "memfd_create")                                         \
    X(MMAP, "mmap") X(MPROTECT, "mprotect")                                 \
    X(CHDIR, "chdir") X(FCHDIR, "fchdir")                                   \
    X(KILL, "kill") X(TKILL, "tkill") X(TGKILL, "tgkill")                   \
    X(BPF, "bpf") X(PERF_EVENT_OPEN, "perf_event_open")                     \
    X(USERFAULTFD, "userfaultfd") X(IO_URING_SETUP, "io_uring_setup")       \
    X(SETRLIMIT, "setrlimit") X(PRLIMIT, "prlimit")                         \
    X(SETSID, "setsid") X(SETPGID, "setpgid")                               \
    X(SIGNALFD, "signalfd") X(EVENTFD, "eventfd") X(TIMERFD_CREATE, "timerfd_create") \
    X(INOTIFY_INIT, "inotify_init") X(EPOLL_CREATE, "epoll_create")         \
    X(FSCONFIG, "fsconfig") X(SECCOMP, "seccomp")                           \
    X(CONTAINER, "container") /* a container appeared (metadata event) */ \
    X(K8S_AUDIT, "k8s_audit") /* a Kubernetes audit event (source k8s_audit) */

typedef enum mm_evt_type {
#define MM_EVT_ENUM_(e, s) MM_EVT_##e,
    MM_EVT_TYPES(MM_EVT_ENUM_)
#undef MM_EVT_ENUM_
    MM_EVT__COUNT
} mm_evt_type;

/* "execve" for MM_EVT_EXECVE; "unknown" out of range. */
const char *mm_evt_type_name(mm_evt_type t);
/* MM_EVT_UNKNOWN when the name is not one we know (never an error). */
mm_evt_type mm_evt_type_from_name(const char *name);

/* evt.dir: Falco keeps enter '>' and exit '<' events; sensors here emit
 * the exit (with return value and all parameters) unless they cannot. */
enum { MM_DIR_EXIT = 0, MM_DIR_ENTER = 1 };

/* ---- addresses and fds --------------------------------------------------- */

typedef struct mm_ipaddr {
    uint8_t family;        /* AF_INET, AF_INET6 or 0 = none */
    uint8_t ip[16];        /* v4 in the first 4 bytes, network order */
} mm_ipaddr;

/* fd.type, with Falco's fd.typechar in the comment */
typedef enum mm_fd_type {
    MM_FD_UNKNOWN = 0,  /* o */
    MM_FD_FILE,         /* f  "file" */
    MM_FD_DIRECTORY,    /* d  "directory" */
    MM_FD_IPV4,         /* 4  "ipv4" */
    MM_FD_IPV6,         /* 6  "ipv6" */
    MM_FD_UNIX,         /* u  "unix" */
    MM_FD_PIPE,         /* p  "pipe" */
    MM_FD_EVENT,        /* e  "event" */
    MM_FD_SIGNALFD,     /* s  "signalfd" */
    MM_FD_EVENTPOLL,    /* l  "eventpoll" */
    MM_FD_INOTIFY,      /* i  "inotify" */
    MM_FD_TIMERFD,      /* t  "timerfd" */
    MM_FD_NETLINK,      /* n  "netlink" */
    MM_FD_BPF,          /* b  "bpf" */
    MM_FD_USERFAULTFD,  /* u  "userfaultfd" */
    MM_FD_IOURING,      /* r  "io_uring" */
    MM_FD_MEMFD,        /* m  "memfd" */
    MM_FD_PIDFD,        /* P  "pidfd" */
    MM_FD__COUNT
} mm_fd_type;

const char *mm_fd_type_name(mm_fd_type t);   /* "file", "ipv4", ... */
char mm_fd_type_char(mm_fd_type t);          /* 'f', '4', ... */
mm_fd_type mm_fd_type_from_name(const char *name); /* UNKNOWN if unknown */

/* l4 protocol of a socket (fd.l4proto) */
enum { MM_L4_NONE = 0, MM_L4_TCP, MM_L4_UDP, MM_L4_ICMP, MM_L4_RAW };

/* One open file descriptor of a process (what fd.* reads).  Owned by the
 * process's fd table; name is heap-owned by the record. */
typedef struct mm_fdinfo {
    int64_t fd;            /* fd.num */
    mm_fd_type type;
    char *name;            /* fd.name: path, "cip:cport->sip:sport", unix path */
    uint32_t open_flags;   /* O_* flags it was opened with (files) */
    uint32_t mode;
    uint64_t ino;          /* fd.ino */
    uint32_t dev;          /* fd.dev */
    /* sockets */
    uint16_t sock_family;  /* AF_* (fd.sockfamily) */
    uint16_t sock_type;    /* SOCK_STREAM, ... */
    uint8_t l4proto;       /* MM_L4_* */
    bool connected;        /* fd.connected */
    bool listening;
    bool role_server;      /* fd.is_server: accepted/listening side */
    mm_ipaddr cip, sip;    /* client / server addresses (fd.cip, fd.sip) */
    uint16_t cport, sport; /* fd.cport, fd.sport */
} mm_fdinfo;

/* ---- containers ---------------------------------------------------------- */

typedef struct mm_mount {
    char *source, *dest, *mode; /* container.mount.source/dest/mode */
    bool rw;
} mm_mount;

/* Container metadata; reference counted, shared by its processes.  The host
 * is the record with id "host" (Falco's container.id for host processes). */
typedef struct mm_container {
    int refs;
    char *id;              /* container.id: 12-hex short id, or "host" */
    char *full_id;         /* container.full_id */
    char *name;            /* container.name */
    char *type;            /* container.type: docker, containerd, cri-o, podman */
    char *image;           /* container.image: repo:tag as configured */
    char *image_repository;/* container.image.repository */
    char *image_tag;       /* container.image.tag */
    char *image_digest;    /* container.image.digest */
    char *image_id;        /* container.image.id */
    bool privileged;       /* container.privileged */
    bool privileged_known; /* false: container.privileged is missing */
    int64_t start_ts;      /* container.start_ts (ns since epoch), 0 = unknown */
    char *k8s_pod_name, *k8s_ns_name, *k8s_pod_uid; /* k8s.pod.name, k8s.ns.name */
    mm_mount *mounts;
    size_t nmounts;
    bool mounts_known;     /* mounts read: a container.mount.*[X] that
                              matches none is "<NA>" (Falco's sentinel) */
    bool meta_from_proc;   /* metadata read through a live process */
} mm_container;

int mm_container_new(mm_container **out, const char *id);  /* refs = 1 */
mm_container *mm_container_ref(mm_container *c);    /* NULL stays NULL */
void mm_container_unref(mm_container *c);

/* ---- processes ----------------------------------------------------------- */

typedef struct mm_fdtab mm_fdtab;   /* fd -> mm_fdinfo (private) */

/* Exe properties Falco reports as execve evt.arg.flags (EXE_WRITABLE ...) */
enum {
    MM_EXE_WRITABLE = 1u << 0,     /* the exe is writable by the caller */
    MM_EXE_UPPER_LAYER = 1u << 1,  /* exe lives in an overlayfs upper layer */
    MM_EXE_FROM_MEMFD = 1u << 2,   /* exe is a memfd (fileless) */
    MM_EXE_LOWER_LAYER = 1u << 3,
};

/* In an open event's flags (above every O_* bit): the open created the file
 * (Falco's O_F_CREATED; evt.is_open_exec needs it) */
#define MM_O_F_CREATED 0x80000000u

/* One process (thread group) as rules see it.  Strings are heap-owned by the
 * record (set them with mm_proc_set); NULL means "not known" so that a rule
 * comparing it is false, as in Falco. */
typedef struct mm_proc {
    int refs;
    int64_t pid, tid, ppid;        /* proc.pid, thread.tid, proc.ppid */
    int64_t vpid, vtid;            /* ids in the pid namespace (proc.vpid) */
    int64_t sid, pgid, vpgid;      /* proc.sid, proc.vpgid */
    char *comm;                    /* proc.name (task comm, <= 15 bytes) */
    char *exe;                     /* proc.exe: argv[0] as given */
    char *exepath;                 /* proc.exepath: resolved executable path */
    char *args;                    /* proc.args: argv[1..] joined by ' ' */
    char **argv;                   /* argv[0..argc-1] (proc.args splits) */
    size_t argc;
    char *cwd;                     /* proc.cwd, with trailing '/' as Falco */
    char *env;                     /* proc.env: "K=V K=V", optional */
    char *cgroup;                  /* the unified cgroup path */
    uint32_t tty;                  /* proc.tty: tty dev nr, 0 = none */
    uint32_t uid, gid, euid, egid; /* user.uid (euid per Falco), group.gid */
    uint32_t loginuid;             /* user.loginuid; (uint32)-1 = unset */
    char *user_name, *group_name;  /* user.name/group.name if resolved */
    char *login_name;              /* user.loginname */
    char *user_homedir, *user_shell;
    uint64_t cap_effective, cap_permitted, cap_inheritable; /* thread.cap_* */
    uint32_t exe_flags;            /* MM_EXE_* */
    uint64_t exe_ino;              /* proc.exe_ino */
    int64_t exe_ino_ctime, exe_ino_mtime; /* ns since epoch, 0 = unknown */
    int64_t start_ts;              /* process start (clone), ns since epoch */
    int64_t exec_ts;               /* last execve, ns since epoch */
    uint64_t pidns_init_start_ts;  /* for proc.pidns_init_start_ts */
    uint32_t mntns;                /* mount namespace inode, 0 = unknown */
    bool is_exe_writable;          /* computed from exe_flags, kept for speed */
    mm_container *container;       /* never NULL once in a table: "host" */
    struct mm_proc *parent;        /* holds a reference; NULL = unknown/root */
    mm_fdtab *fds;                 /* lazily created */
} mm_proc;

int mm_proc_new(mm_proc **out, int64_t pid);  /* refs = 1, all unknown */
mm_proc *mm_proc_ref(mm_proc *p);           /* NULL stays NULL */
void mm_proc_unref(mm_proc *p);             /* frees at 0; drops parent */
/* Replaces the heap string *slot with a copy of s (NULL clears). */
void mm_proc_set(char **slot, const char *s);
/* Sets argv (copied) and the derived args string. */
void mm_proc_set_argv(mm_proc *p, const char *const *argv, size_t argc);
/* Sets the parent link (takes its own reference; NULL clears). */
void mm_proc_set_parent(mm_proc *p, mm_proc *parent);
void mm_proc_set_container(mm_proc *p, mm_container *c);
/* The n-th ancestor: 0 = p itself, 1 = parent, ...; NULL past the root. */
const mm_proc *mm_proc_ancestor(const mm_proc *p, int n);

/* fd table of a process */
const mm_fdinfo *mm_proc_fd(const mm_proc *p, int64_t fd);
/* The record for fd, created (zeroed, fd set) or reset if present. */
mm_fdinfo *mm_proc_fd_set(mm_proc *p, int64_t fd);
void mm_proc_fd_close(mm_proc *p, int64_t fd);
/* newfd becomes a copy of oldfd (dup2 semantics); no-op if oldfd unknown. */
void mm_proc_fd_dup(mm_proc *p, int64_t oldfd, int64_t newfd);
/* Iterates fds in no fixed order: *it starts at 0; false at the end. */
bool mm_proc_fd_next(const mm_proc *p, size_t *it, const mm_fdinfo **out);
/* Copies all fds of src into dst (fork). */
void mm_proc_fd_copy(mm_proc *dst, const mm_proc *src);
void mm_fdinfo_set_name(mm_fdinfo *f, const char *name);
/* Sets f->name from the addresses: "cip:cport->sip:sport" (Falco's form). */
void mm_fdinfo_name_from_tuple(mm_fdinfo *f);

/* The process table: pid -> record. */
typedef struct mm_proctab mm_proctab;

/* 0 = default cap (65536) */
int mm_proctab_new(mm_proctab **out, size_t max_procs);
void mm_proctab_free(mm_proctab *t);
mm_proc *mm_proctab_get(const mm_proctab *t, int64_t pid);
/* The record for pid, created if absent (linked to ppid's record when that
 * is known).  The table keeps its reference: callers do not unref. */
mm_proc *mm_proctab_add(mm_proctab *t, int64_t pid, int64_t ppid);
/* Drops the table's reference (procexit); the record lives on while
 * children or events still reference it. */
void mm_proctab_remove(mm_proctab *t, int64_t pid);
size_t mm_proctab_count(const mm_proctab *t);
bool mm_proctab_next(const mm_proctab *t, size_t *it, mm_proc **out);

/* ---- the event ----------------------------------------------------------- */

/* socket address carried by connect/accept/bind/sendto ... */
typedef struct mm_evt_addr {
    uint16_t family;       /* AF_INET, AF_INET6, AF_UNIX, 0 = none */
    mm_ipaddr ip;
    uint16_t port;
    const char *unix_path; /* AF_UNIX path (borrowed) */
} mm_evt_addr;

/* Extra name=value parameters a source has no fixed slot for (evt.arg.X
 * falls back to these).  Borrowed strings. */
typedef struct mm_evt_param {
    const char *name, *value;
} mm_evt_param;

#define MM_EVT_MAX_PARAMS 8

typedef struct mm_event {
    mm_evt_type type;      /* evt.type */
    uint8_t dir;           /* MM_DIR_EXIT / MM_DIR_ENTER (evt.dir) */
    uint16_t cpu;          /* evt.cpu */
    uint64_t num;          /* evt.num: sequence number from the source */
    int64_t ts;            /* evt.time: ns since the epoch */
    int64_t res;           /* evt.rawres: return value (-errno on failure) */
    int64_t tid, pid;      /* thread.tid, proc.pid */
    mm_proc *proc;         /* the process (after this event's state update) */
    const mm_fdinfo *fd;   /* the fd the event is about (fd.*): opened,
                              connected, read, duped... NULL if none */

    /* parameters (evt.arg.*); 0 / NULL when the event has no such param */
    int64_t arg_fd;        /* fd / oldfd / dirfd param (evt.arg.fd) */
    int64_t arg_fd2;       /* newfd of dup2/dup3 */
    const char *path;      /* name/pathname/filename/path/oldpath/target/dev */
    const char *path2;     /* newpath/linkpath/dir (mount target) */
    const char *fstype;    /* mount type */
    uint32_t flags;        /* raw flags (O_*, MS_*, CLONE_*, exe flags...) */
    uint32_t mode;         /* mode_t */
    uint16_t sock_domain;  /* socket(): evt.arg.domain */
    uint16_t sock_type;    /* socket(): type */
    uint16_t sock_proto;   /* socket(): proto */
    int64_t target_id;     /* setuid uid / setgid gid / ptrace pid / kill pid */
    int64_t request;       /* ptrace request, ioctl request, prctl option */
    uint32_t nstype;       /* setns nstype / unshare flags (in flags too) */
    uint64_t size;         /* read/write/sendto bytes requested */
    mm_evt_addr addr;      /* connect/bind/sendto/accept peer address */
    mm_evt_addr laddr;     /* the socket's local address, when known */
    const char *data;      /* evt.buffer: first bytes read/written (borrowed) */
    uint32_t datalen;

    mm_evt_param params[MM_EVT_MAX_PARAMS];
    uint8_t nparams;

    /* MM_EVT_K8S_AUDIT: the audit event (ka.*, jevt.* fields; made by
     * mamori/audit.h), NULL for syscall events */
    const struct mm_audit_event *audit;
} mm_event;

/* Applies the state change an event implies to the table and sets ev->proc
 * and ev->fd: clone/fork (new child, copied fds), execve (new comm/exe/args,
 * close-on-exec is not tracked), procexit (removal), open/creat/socket/
 * connect/accept/bind/listen/dup/close/memfd_create/pipe (fd table).  The
 * sensor fills the process fields it read from the kernel directly into the
 * record returned by mm_proctab_add() before or after calling this. */
void mm_proctab_apply(mm_proctab *t, mm_event *ev);

#ifdef __cplusplus
}
#endif
#endif
