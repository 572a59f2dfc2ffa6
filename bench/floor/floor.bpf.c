// SPDX-License-Identifier: GPL-2.0 OR Apache-2.0
/*
 * floor.bpf.c - the least a syscall sensor can do on this kernel, for
 * bench/sensor_floor.sh.  One tp_btf/sys_exit program in three modes,
 * picked before load: 0 = the hook and the per-syscall filter only;
 * 1 = plus a 64-byte record (ids, time, syscall, result) reserved in a
 * ring buffer and submitted; 2 = plus the path argument of openat read
 * from user memory into a 320-byte record.  mamori's own sensor does
 * mode 2 and more (fd tables, process data), so what these cost on a
 * machine bounds what any sensor can reach there.  Not part of mamori.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 mode = 0;

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, 16 << 20);
} rb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 512);
    __type(key, __u32);
    __type(value, __u32);
} traced SEC(".maps");

struct small { __u64 id, ts, nr; __s64 res; __u64 pad[4]; };
struct withpath { struct small h; char path[256]; };

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_exit, struct pt_regs *regs, long ret)
{
    long nr = regs->orig_ax;
    if (nr < 0 || nr >= 512)
        return 0;
    __u32 k = nr;
    __u32 *on = bpf_map_lookup_elem(&traced, &k);
    if (!on || !*on || mode == 0)
        return 0;
    if (mode == 1) {
        struct small *r = bpf_ringbuf_reserve(&rb, sizeof *r, 0);
        if (!r)
            return 0;
        r->id = bpf_get_current_pid_tgid();
        r->ts = bpf_ktime_get_boot_ns();
        r->nr = nr;
        r->res = ret;
        bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
        return 0;
    }
    struct withpath *r = bpf_ringbuf_reserve(&rb, sizeof *r, 0);
    if (!r)
        return 0;
    r->h.id = bpf_get_current_pid_tgid();
    r->h.ts = bpf_ktime_get_boot_ns();
    r->h.nr = nr;
    r->h.res = ret;
    bpf_probe_read_user_str(r->path, sizeof r->path, (const void *)regs->si);
    bpf_ringbuf_submit(r, BPF_RB_NO_WAKEUP);
    return 0;
}
