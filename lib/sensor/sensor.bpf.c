// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * sensor.bpf.c - the eBPF half of mamori's runtime sensor (CO-RE, libbpf).
 *
 * Only BTF tracepoints and raw tracepoints are used: on the kernels mamori
 * targets kprobes, fentry and LSM programs may be unavailable, and classic
 * tracepoints need tracefs mounted.  Process lifecycle comes from
 * tp_btf/sched_process_{exec,fork,exit}; syscalls from raw_tp/sys_enter and
 * raw_tp/sys_exit, filtered by the `sysconf` map (syscall number -> how to
 * capture its arguments) that user space fills.  Arguments are remembered at
 * enter and user memory is read at exit, when the result is known.
 *
 * One ring buffer per CPU carries the records; wake-ups are batched (the consumer is
 * woken every `wakeup_every` records per CPU and polls on a timer for the
 * rest), and every record that does not fit is counted per CPU in `stats`
 * so that user space can report drops.  Licensed GPL-2.0 OR Apache-2.0: the
 * kernel requires a GPL-compatible license for the helpers used.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "sensor_abi.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 self_tgid = 0;       /* the agent: never traced */
const volatile __u32 wakeup_every = 1024; /* batched wake-ups */
/* Adaptive wake-ups: a record written more than this long after the last
 * wake-up of its CPU wakes the consumer at once, so a quiet system sees
 * each event within microseconds while a busy one is still woken only
 * every wakeup_every records (or every wake_gap_ns, whichever is first). */
const volatile __u64 wake_gap_ns = 4000000;

/* One ring buffer per CPU (no lock shared between CPUs on the hot path):
 * the outer array is sized to the possible CPUs and filled by user space
 * with ring buffers of MM_RB_CPU_SIZE, which merges their records back
 * into time order (bpf.c). */
struct rb_cpu {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, MM_RB_CPU_SIZE);
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 1);
    __type(key, __u32);
    __array(values, struct rb_cpu);
} rbs SEC(".maps");

static __always_inline void *cpu_rb(void)
{
    __u32 cpu = bpf_get_smp_processor_id();
    return bpf_map_lookup_elem(&rbs, &cpu);
}

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct mm_bstats);
} stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct mm_brec);
} scratch SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MM_SYS_MAX);
    __type(key, __u32);
    __type(value, __u32);
} sysconf SEC(".maps");

struct enter_args {
    __u64 nr;
    __u64 args[6];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 65536);
    __type(key, __u32);
    __type(value, struct enter_args);
} inflight SEC(".maps");

static __always_inline struct mm_bstats *get_stats(void)
{
    __u32 z = 0;
    return bpf_map_lookup_elem(&stats, &z);
}

static __always_inline struct mm_brec *get_rec(__u16 kind)
{
    __u32 z = 0;
    struct mm_brec *r = bpf_map_lookup_elem(&scratch, &z);
    if (!r)
        return 0;
    __u64 id = bpf_get_current_pid_tgid();
    r->kind = kind;
    r->cpu = (__u16)bpf_get_smp_processor_id();
    r->pid = id >> 32;
    r->tid = (__u32)id;
    r->ts = bpf_ktime_get_boot_ns();
    r->cgid = bpf_get_current_cgroup_id();
    r->len1 = r->len2 = r->len3 = 0;
    r->len4 = r->len5 = r->len6 = 0;
    r->exe_flags = 0;
    r->mntns = 0;
    r->exe_ctime = r->exe_mtime = 0;
    r->lfamily = 0;
    r->lport = 0;
    r->res = 0;
    r->nr = 0;
    bpf_get_current_comm(r->comm, sizeof r->comm);
    return r;
}

/* Batched, adaptive wake-ups: the consumer is woken every wakeup_every
 * records per CPU, and by the first record after a quiet spell of
 * wake_gap_ns (user space polls on a short timer while records flow, so
 * the ones in between wait at most about that long). */
static __always_inline __u64 wake_flags(struct mm_bstats *st, __u64 now)
{
    if (!st)
        return BPF_RB_NO_WAKEUP;
    if (++st->wake >= wakeup_every || now - st->last_wake >= wake_gap_ns) {
        st->wake = 0;
        st->last_wake = now;
        return BPF_RB_FORCE_WAKEUP;
    }
    return BPF_RB_NO_WAKEUP;
}

/* A record that found no room: counted, and the next record wakes the
 * consumer whatever the batch says (a full ring needs draining now). */
static __always_inline void drop(struct mm_bstats *st)
{
    st->drops++;
    st->wake = wakeup_every;
}

/* Writes the record cut after its last used string (sensor_abi.h): an
 * openat sends its header and path, not 1.4 KiB of empty slots; counts
 * drops. */
static __always_inline void emit(struct mm_brec *r)
{
    struct mm_bstats *st = get_stats();
    __u64 size;
    if (r->len3)
        size = sizeof(*r);
    else if (r->len2)
        size = __builtin_offsetof(struct mm_brec, s2) + (r->len2 & (MM_S2_SIZE - 1));
    else
        size = __builtin_offsetof(struct mm_brec, s1) + (r->len1 & (MM_S1_SIZE - 1));
    if (r->len2 >= MM_S2_SIZE || r->len1 >= MM_S1_SIZE)
        size = sizeof(*r);
    __u64 flags = wake_flags(st, r->ts);
    if (size > sizeof(*r))
        size = sizeof(*r);
    void *rb = cpu_rb();
    if (!rb || bpf_ringbuf_output(rb, r, size, flags) < 0) {
        if (st)
            drop(st);
    } else if (st) {
        st->events++;
    }
}

static __always_inline __u32 task_vpid(struct task_struct *t)
{
    struct pid *p = BPF_CORE_READ(t, thread_pid);
    unsigned int level = BPF_CORE_READ(p, level);
    return BPF_CORE_READ(p, numbers[level & 31].nr);
}

static __always_inline void fill_task(struct mm_brec *r, struct task_struct *t)
{
    r->ppid = BPF_CORE_READ(t, real_parent, tgid);
    r->vpid = task_vpid(t);
    const struct cred *c = BPF_CORE_READ(t, cred);
    r->uid = BPF_CORE_READ(c, uid.val);
    r->gid = BPF_CORE_READ(c, gid.val);
    r->euid = BPF_CORE_READ(c, euid.val);
    r->egid = BPF_CORE_READ(c, egid.val);
    /* kernel_cap_t is a u64 since 6.3 and two u32 before: 8 bytes both ways */
    bpf_core_read(&r->cap_eff, 8, &c->cap_effective);
    bpf_core_read(&r->cap_perm, 8, &c->cap_permitted);
    bpf_core_read(&r->cap_inh, 8, &c->cap_inheritable);
    r->loginuid = BPF_CORE_READ(t, loginuid.val);
    r->tty = 0;
    struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);
    if (tty) {
        int major = BPF_CORE_READ(tty, driver, major);
        int minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
        r->tty = (major << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
    }
}

/* overlayfs keeps its inode inside struct ovl_inode, followed by the
 * upper dentry; only the two fields are named, so CO-RE finds them in the
 * kernel's or the overlay module's BTF */
struct ovl_inode___mm {
    struct inode vfs_inode;
    struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

#define OVERLAYFS_MAGIC 0x794c7630

/* MM_BEXE_UPPER when the file lives on an overlayfs upper layer (written
 * after the container started: drift), MM_BEXE_LOWER on a lower layer (the
 * image), 0 off overlayfs */
static __always_inline __u32 overlay_layer(struct file *f)
{
    struct dentry *d = BPF_CORE_READ(f, f_path.dentry);
    if (BPF_CORE_READ(d, d_sb, s_magic) != OVERLAYFS_MAGIC)
        return 0;
    struct inode *vi = BPF_CORE_READ(d, d_inode);
    if (!vi)
        return 0;
    struct ovl_inode___mm *oi = (void *)((char *)vi -
        bpf_core_field_offset(struct ovl_inode___mm, vfs_inode));
    struct dentry *up = BPF_CORE_READ(oi, __upperdentry);
    if (up && BPF_CORE_READ(up, d_inode))
        return MM_BEXE_UPPER;
    return MM_BEXE_LOWER;
}

/* inode times: 6.11+ keeps seconds and nanoseconds apart, 6.6-6.10 has
 * __i_ctime, older kernels i_ctime (flavours resolved by CO-RE) */
struct inode___v611 { time64_t i_ctime_sec; u32 i_ctime_nsec; time64_t i_mtime_sec; u32 i_mtime_nsec; } __attribute__((preserve_access_index));
struct inode___v66 { struct timespec64 __i_ctime; } __attribute__((preserve_access_index));
struct inode___old { struct timespec64 i_ctime; struct timespec64 i_mtime; } __attribute__((preserve_access_index));

static __always_inline void exe_times(struct mm_brec *r, struct inode *ino)
{
    if (!ino)
        return;
    if (bpf_core_field_exists(struct inode___v611, i_ctime_sec)) {
        struct inode___v611 *i = (void *)ino;
        r->exe_ctime = BPF_CORE_READ(i, i_ctime_sec) * 1000000000ull + BPF_CORE_READ(i, i_ctime_nsec);
        r->exe_mtime = BPF_CORE_READ(i, i_mtime_sec) * 1000000000ull + BPF_CORE_READ(i, i_mtime_nsec);
    } else if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
        struct inode___v66 *i = (void *)ino;
        r->exe_ctime = BPF_CORE_READ(i, __i_ctime.tv_sec) * 1000000000ull +
                       BPF_CORE_READ(i, __i_ctime.tv_nsec);
    } else if (bpf_core_field_exists(struct inode___old, i_ctime)) {
        struct inode___old *i = (void *)ino;
        r->exe_ctime = BPF_CORE_READ(i, i_ctime.tv_sec) * 1000000000ull +
                       BPF_CORE_READ(i, i_ctime.tv_nsec);
        r->exe_mtime = BPF_CORE_READ(i, i_mtime.tv_sec) * 1000000000ull +
                       BPF_CORE_READ(i, i_mtime.tv_nsec);
    }
}

#define MM_PATH_DEPTH 32

/* The names from p up to root (the task's root, so a container process
 * gets its own view), leaf first, each ending in NUL, into buf; crosses
 * mount points through struct mount.  True when it reached root (or the
 * top of the mount tree) within MM_PATH_DEPTH names and the buffer. */
static __always_inline bool walk_path(char *buf, __u16 *len, const struct path *p,
                                      const struct path *root)
{
    struct dentry *d = p->dentry;
    struct vfsmount *vm = p->mnt;
    struct mount *mnt = (void *)((char *)vm - bpf_core_field_offset(struct mount, mnt));
    __u32 off = 0;
    bool done = false;
    for (int i = 0; i < MM_PATH_DEPTH; i++) {
        if (d == root->dentry && vm == root->mnt) {
            done = true;
            break;
        }
        struct dentry *parent = BPF_CORE_READ(d, d_parent);
        if (d == BPF_CORE_READ(vm, mnt_root) || d == parent) {
            struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
            if (mp == mnt || !mp) {
                done = true;   /* the top of the mount tree */
                break;
            }
            d = BPF_CORE_READ(mnt, mnt_mountpoint);
            mnt = mp;
            vm = (void *)((char *)mp + bpf_core_field_offset(struct mount, mnt));
            continue;
        }
        if (off >= MM_PATH_SIZE)
            break;
        const unsigned char *nm = BPF_CORE_READ(d, d_name.name);
        long n = bpf_probe_read_kernel_str(buf + (off & (MM_PATH_SIZE - 1)), MM_PATH_SLACK, nm);
        if (n <= 0)
            break;
        off += n;
        d = parent;
    }
    if (off > MM_PATH_SIZE + MM_PATH_SLACK)
        off = MM_PATH_SIZE + MM_PATH_SLACK;
    *len = off;
    return done && off <= MM_PATH_SIZE;
}

/* A record of kind about task t (its process and thread ids), or NULL for
 * the agent itself or when no scratch record is free. */
static __always_inline struct mm_brec *task_rec(struct task_struct *t, __u16 kind)
{
    __u32 tgid = BPF_CORE_READ(t, tgid);
    if (tgid == self_tgid)
        return 0;
    struct mm_brec *r = get_rec(kind);
    if (!r)
        return 0;
    r->pid = tgid;
    r->tid = BPF_CORE_READ(t, pid);
    return r;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
    struct mm_brec *r = task_rec(p, MM_REC_EXEC);
    if (!r)
        return 0;
    fill_task(r, p);
    const char *fn = BPF_CORE_READ(bprm, filename);
    long n = bpf_probe_read_kernel_str(r->s1, sizeof r->s1, fn);
    r->len1 = n > 0 ? n : 0;
    struct file *f = BPF_CORE_READ(bprm, file);
    r->exe_ino = BPF_CORE_READ(f, f_inode, i_ino);
    /* fileless execution: the file is a memfd ("memfd:NAME" dentry) */
    const unsigned char *dn = BPF_CORE_READ(f, f_path.dentry, d_name.name);
    n = bpf_probe_read_kernel_str(r->s3, sizeof r->s3, dn);
    r->len3 = n > 0 ? n : 0;
    if (r->s3[0] == 'm' && r->s3[1] == 'e' && r->s3[2] == 'm' && r->s3[3] == 'f' &&
        r->s3[4] == 'd' && r->s3[5] == ':')
        r->exe_flags |= MM_BEXE_MEMFD;
    struct inode *ino = BPF_CORE_READ(f, f_inode);
    exe_times(r, ino);
    r->exe_flags |= overlay_layer(f);
    r->mntns = BPF_CORE_READ(p, nsproxy, mnt_ns, ns.inum);
    r->cg1[0] = 0;
    if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id)) {
        int sid = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
        struct cgroup_subsys_state *css = BPF_CORE_READ(p, cgroups, subsys[sid & 15]);
        const char *cn = css ? BPF_CORE_READ(css, cgroup, kn, name) : 0;
        if (cn)
            bpf_probe_read_kernel_str(r->cg1, sizeof r->cg1, cn);
    }
    /* exe path and cwd from the kernel's own dentries, now (reading
     * /proc later races with a quick re-exec) */
    struct path root;
    bpf_core_read(&root, sizeof root, &p->fs->root);
    struct path xp;
    bpf_core_read(&xp, sizeof xp, &f->f_path);
    if (walk_path(r->s5, &r->len5, &xp, &root))
        r->exe_flags |= MM_BEXE_EXEPATH;
    struct path pwd;
    bpf_core_read(&pwd, sizeof pwd, &p->fs->pwd);
    if (walk_path(r->s6, &r->len6, &pwd, &root))
        r->exe_flags |= MM_BEXE_CWD;
    /* argv: the new image's argument area, NUL separated */
    struct mm_struct *mm = BPF_CORE_READ(p, mm);
    unsigned long as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
    unsigned long len = ae - as;
    if (len > MM_S2_SIZE - 1)
        len = MM_S2_SIZE - 1;
    len &= (MM_S2_SIZE - 1);
    if (len > 0 && bpf_probe_read_user(r->s2, len, (const void *)as) == 0) {
        r->s2[len & (MM_S2_SIZE - 1)] = 0;
        r->len2 = len + 1;
    }
    /* the environment, the same way */
    unsigned long es = BPF_CORE_READ(mm, env_start), ee = BPF_CORE_READ(mm, env_end);
    len = ee - es;
    if (len > MM_S4_SIZE - 1)
        len = MM_S4_SIZE - 1;
    len &= (MM_S4_SIZE - 1);
    if (len > 0 && bpf_probe_read_user(r->s4, len, (const void *)es) == 0) {
        r->s4[len & (MM_S4_SIZE - 1)] = 0;
        r->len4 = len + 1;
    }
    emit(r);
    return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child)
{
    __u32 ctgid = BPF_CORE_READ(child, tgid);
    if (BPF_CORE_READ(child, pid) != ctgid)
        return 0;          /* a new thread, not a new process */
    struct mm_brec *r = task_rec(parent, MM_REC_FORK);
    if (!r)
        return 0;
    r->res = ctgid;
    r->vpid = task_vpid(child);
    r->ppid = r->pid;
    emit(r);
    return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p)
{
    if (BPF_CORE_READ(p, pid) != BPF_CORE_READ(p, tgid))
        return 0;          /* only the thread group leader */
    struct mm_brec *r = task_rec(p, MM_REC_EXIT);
    if (!r)
        return 0;
    r->res = BPF_CORE_READ(p, exit_code);
    emit(r);
    return 0;
}

static __always_inline __u64 reg_arg(struct pt_regs *regs, int i)
{
#if defined(__TARGET_ARCH_x86)
    switch (i) {
    case 0: return BPF_CORE_READ(regs, di);
    case 1: return BPF_CORE_READ(regs, si);
    case 2: return BPF_CORE_READ(regs, dx);
    case 3: return BPF_CORE_READ(regs, r10);
    case 4: return BPF_CORE_READ(regs, r8);
    default: return BPF_CORE_READ(regs, r9);
    }
#elif defined(__TARGET_ARCH_arm64)
    return BPF_CORE_READ((struct user_pt_regs *)regs, regs[i & 7]);
#else
    return 0;
#endif
}

SEC("raw_tp/sys_enter")
int on_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
    long nr = ctx->args[1];
    if (nr < 0 || nr >= MM_SYS_MAX)
        return 0;
    __u32 k = nr;
    __u32 *kind = bpf_map_lookup_elem(&sysconf, &k);
    if (!kind || !*kind)
        return 0;
    __u64 id = bpf_get_current_pid_tgid();
    if ((id >> 32) == self_tgid)
        return 0;
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    struct enter_args ea = { .nr = nr };
    ea.args[0] = reg_arg(regs, 0);
    ea.args[1] = reg_arg(regs, 1);
    ea.args[2] = reg_arg(regs, 2);
    ea.args[3] = reg_arg(regs, 3);
    ea.args[4] = reg_arg(regs, 4);
    ea.args[5] = reg_arg(regs, 5);
    __u32 tid = (__u32)id;
    if (bpf_map_update_elem(&inflight, &tid, &ea, BPF_ANY) < 0) {
        struct mm_bstats *st = get_stats();
        if (st)
            st->enter_lost++;
    }
    return 0;
}

static __always_inline void read_str1(struct mm_brec *r, __u64 p)
{
    long n = bpf_probe_read_user_str(r->s1, sizeof r->s1, (const void *)p);
    r->len1 = n > 0 ? n : 0;
}

static __always_inline void read_str2(struct mm_brec *r, __u64 p)
{
    long n = bpf_probe_read_user_str(r->s2, MM_S1_SIZE, (const void *)p);
    r->len2 = n > 0 ? n : 0;
}

static __always_inline void read_sa(struct mm_brec *r, __u64 p, __u64 len)
{
    if (!p)
        return;
    if (len > 128)
        len = 128;
    len &= 0xff;
    if (len && bpf_probe_read_user(r->s2, len, (const void *)p) == 0)
        r->len2 = len;
}

/* The local address of socket fd of the current task (connect, accept). */
static __always_inline void local_addr(struct mm_brec *r, __u64 fd)
{
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
    unsigned int max = BPF_CORE_READ(fdt, max_fds);
    if (fd >= max)
        return;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = 0;
    bpf_core_read(&f, sizeof f, &fds[fd]);
    if (!f)
        return;
    struct socket *so = BPF_CORE_READ(f, private_data);
    struct sock *sk = BPF_CORE_READ(so, sk);
    if (!sk)
        return;
    __u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (fam == 2 /* AF_INET */) {
        __u32 a = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
        __builtin_memcpy(r->laddr, &a, 4);
    } else if (fam == 10 /* AF_INET6 */) {
        bpf_core_read(r->laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
    } else {
        return;
    }
    r->lfamily = fam;
    r->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
}

/* The file of fd in the current task was created by the open that
 * returned it (FMODE_CREATED) */
static __always_inline bool open_created(long fd)
{
    struct task_struct *t = (struct task_struct *)bpf_get_current_task();
    struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
    unsigned int max = BPF_CORE_READ(fdt, max_fds);
    if (fd < 0 || (unsigned long)fd >= max)
        return false;
    struct file **fds = BPF_CORE_READ(fdt, fd);
    struct file *f = 0;
    bpf_core_read(&f, sizeof f, &fds[fd]);
    if (!f)
        return false;
    return (BPF_CORE_READ(f, f_mode) & 0x100000 /* FMODE_CREATED */) != 0;
}

static __always_inline void fill_compact(struct mm_bsys *r, const struct enter_args *a, long res,
                                         __u64 now)
{
    __u64 id = bpf_get_current_pid_tgid();
    r->kind = MM_REC_SYSC;
    r->cpu = (__u16)bpf_get_smp_processor_id();
    r->len1 = 0;
    r->flags = 0;
    r->pid = id >> 32;
    r->tid = (__u32)id;
    r->ts = now;
    r->nr = a->nr;
    r->res = res;
    for (int i = 0; i < 6; i++)
        r->args[i] = a->args[i];
}

/* The compact record (sensor_abi.h) of a syscall with integer arguments
 * and at most one path, built in the ring buffer itself: no scratch
 * record, no copy, no name or cgroup lookups.  Measured on the benchmark
 * VM this is about a third cheaper per event than the general path. */
static __always_inline int emit_compact(const struct enter_args *a, long res, __u32 kind)
{
    struct mm_bstats *st = get_stats();
    __u64 now = bpf_ktime_get_boot_ns();   /* one clock read: record time and wake-up */
    __u64 flags = wake_flags(st, now);
    void *rb = cpu_rb();
    if (!rb) {
        if (st)
            drop(st);
        return 0;
    }
    if (kind == MM_K_INT) {
        struct mm_bsys *r = bpf_ringbuf_reserve(rb, __builtin_offsetof(struct mm_bsys, s1), 0);
        if (!r) {
            if (st)
                drop(st);
            return 0;
        }
        fill_compact(r, a, res, now);
        bpf_ringbuf_submit(r, flags);
    } else {
        struct mm_bsys *r = bpf_ringbuf_reserve(rb, sizeof(struct mm_bsys), 0);
        if (!r) {
            if (st)
                drop(st);
            return 0;
        }
        fill_compact(r, a, res, now);
        __u64 path = kind == MM_K_P0 ? a->args[0] : a->args[1];
        long n = bpf_probe_read_user_str(r->s1, sizeof r->s1, (const void *)path);
        r->len1 = n > 0 ? n : 0;
        /* an open with O_CREAT: did it create the file (evt.is_open_exec)?
         * open and creat pass flags in arg1, openat in arg2 (openat2 in a
         * struct: not looked at) */
        __u64 fl = kind == MM_K_P0 ? a->args[1] : a->args[2];
        if (res >= 0 && (fl & 0100 /* O_CREAT */) && open_created(res))
            r->flags |= MM_BSYS_CREATED;
        bpf_ringbuf_submit(r, flags);
    }
    if (st)
        st->events++;
    return 0;
}

/* The record of one traced syscall, its arguments already read. */
static __always_inline int handle_exit(struct enter_args *ap, long res, __u32 kind)
{
    if (kind == MM_K_INT || kind == MM_K_P0 || kind == MM_K_P1)
        return emit_compact(ap, res, kind);
    struct enter_args a = *ap;
    struct mm_brec *r = get_rec(MM_REC_SYS);
    if (!r)
        return 0;
    r->nr = a.nr;
    r->res = res;
    for (int i = 0; i < 6; i++)
        r->args[i] = a.args[i];
    switch (kind) {
    case MM_K_P0P1:
        read_str1(r, a.args[0]);
        read_str2(r, a.args[1]);
        break;
    case MM_K_P1P3:
        read_str1(r, a.args[1]);
        read_str2(r, a.args[3]);
        break;
    case MM_K_P0P2:
        read_str1(r, a.args[0]);
        read_str2(r, a.args[2]);
        break;
    case MM_K_SA1:
        read_sa(r, a.args[1], a.args[2]);
        if (r->res == 0 || r->res == -115)
            local_addr(r, a.args[0]);
        break;
    case MM_K_SA4:
        read_sa(r, a.args[4], a.args[5]);
        break;
    case MM_K_ACCEPT: {
        int l = 0;
        if (a.args[2])
            bpf_probe_read_user(&l, sizeof l, (const void *)a.args[2]);
        if (r->res >= 0) {
            read_sa(r, a.args[1], l > 0 ? l : 0);
            local_addr(r, r->res);
        }
        break;
    }
    case MM_K_MSG: {
        struct user_msghdr mh = {};
        if (a.args[1] &&
            bpf_probe_read_user(&mh, sizeof mh, (const void *)a.args[1]) == 0)
            read_sa(r, (__u64)mh.msg_name, mh.msg_namelen);
        break;
    }
    case MM_K_RECVFROM: {
        int l = 0;
        if (a.args[5])
            bpf_probe_read_user(&l, sizeof l, (const void *)a.args[5]);
        if (r->res >= 0 && a.args[4])
            read_sa(r, a.args[4], l > 0 ? l : 0);
        break;
    }
    case MM_K_RECVMSG: {
        struct user_msghdr mh = {};
        if (r->res >= 0 && a.args[1] &&
            bpf_probe_read_user(&mh, sizeof mh, (const void *)a.args[1]) == 0)
            read_sa(r, (__u64)mh.msg_name, mh.msg_namelen);
        break;
    }
    case MM_K_MOUNT: {
        read_str1(r, a.args[0]);
        read_str2(r, a.args[1]);
        long n = bpf_probe_read_user_str(r->s3, sizeof r->s3, (const void *)a.args[2]);
        r->len3 = n > 0 ? n : 0;
        break;
    }
    default:
        break;
    }
    emit(r);
    return 0;
}

/* The kind of syscall nr (sysconf) when it is traced and the caller is not
 * the agent itself, else NULL. */
static __always_inline __u32 *traced_sys(long nr)
{
    if (nr < 0 || nr >= MM_SYS_MAX)
        return 0;
    __u32 k = nr;
    __u32 *kp = bpf_map_lookup_elem(&sysconf, &k);
    if (!kp || !*kp)
        return 0;
    if ((bpf_get_current_pid_tgid() >> 32) == self_tgid)
        return 0;
    return kp;
}

SEC("raw_tp/sys_exit")
int on_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
    struct enter_args a;
#if defined(__TARGET_ARCH_x86)
    /* x86_64 keeps the caller's registers in pt_regs for the whole
     * syscall: the arguments are read here, at exit, and no entry hook or
     * per-thread map is needed (sys_enter is not even loaded) */
    struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
    long xnr = BPF_CORE_READ(regs, orig_ax);
    __u32 *kp = traced_sys(xnr);
    if (!kp)
        return 0;
    a.nr = xnr;
    a.args[0] = BPF_CORE_READ(regs, di);
    a.args[1] = BPF_CORE_READ(regs, si);
    a.args[2] = BPF_CORE_READ(regs, dx);
    a.args[3] = BPF_CORE_READ(regs, r10);
    a.args[4] = BPF_CORE_READ(regs, r8);
    a.args[5] = BPF_CORE_READ(regs, r9);
#else
    __u64 id = bpf_get_current_pid_tgid();
    __u32 tid = (__u32)id;
    struct enter_args *ea = bpf_map_lookup_elem(&inflight, &tid);
    if (!ea)
        return 0;
    a = *ea;
    bpf_map_delete_elem(&inflight, &tid);
    __u32 k = a.nr;
    __u32 *kp = bpf_map_lookup_elem(&sysconf, &k);
    if (!kp)
        return 0;
#endif
    return handle_exit(&a, ctx->args[1], *kp);
}

#if defined(__TARGET_ARCH_x86)
/* The same through the BTF tracepoint: pt_regs is a typed pointer, so its
 * registers are plain loads instead of seven bpf_probe_read_kernel calls
 * (a fifth of the program's cost in a profile).  Preferred when the kernel
 * accepts it; raw_tp/sys_exit is the fallback (bpf.c). */
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit_btf, struct pt_regs *regs, long ret)
{
    long xnr = regs->orig_ax;
    __u32 *kp = traced_sys(xnr);
    if (!kp)
        return 0;
    struct enter_args a;
    a.nr = xnr;
    a.args[0] = regs->di;
    a.args[1] = regs->si;
    a.args[2] = regs->dx;
    a.args[3] = regs->r10;
    a.args[4] = regs->r8;
    a.args[5] = regs->r9;
    return handle_exit(&a, ret, *kp);
}
#endif
