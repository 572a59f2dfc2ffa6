/*
 * floor.c - loads floor.bpf.c in one mode, runs N x (openat + close of
 * /dev/null) in a child while draining the ring buffer, and prints the
 * kernel's own run-time statistics of the program (bpf_stats must be on):
 * "<runs> <total ns> <records>".  For bench/sensor_floor.sh.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "floor.skel.h"

static long records;

static int on_rec(void *ctx, void *data, size_t size)
{
    (void)ctx;
    (void)data;
    (void)size;
    records++;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: floor MODE N\n");
        return 2;
    }
    long n = atol(argv[2]);
    struct floor_bpf *s = floor_bpf__open();
    if (!s)
        return 1;
    s->rodata->mode = (unsigned)atoi(argv[1]);
    if (floor_bpf__load(s) || floor_bpf__attach(s)) {
        fprintf(stderr, "floor: cannot load or attach the program\n");
        return 1;
    }
    __u32 k = SYS_openat, on = 1;
    bpf_map_update_elem(bpf_map__fd(s->maps.traced), &k, &on, 0);
    struct ring_buffer *rb = ring_buffer__new(bpf_map__fd(s->maps.rb), on_rec, NULL, NULL);
    pid_t c = fork();
    if (c == 0) {
        for (long i = 0; i < n; i++)
            close(open("/dev/null", O_RDONLY));
        _exit(0);
    }
    int st;
    /* records are submitted without wake-ups: drain on a 5 ms timer, as a
     * real consumer of a busy ring would */
    while (waitpid(c, &st, WNOHANG) == 0) {
        ring_buffer__poll(rb, 5);
        ring_buffer__consume(rb);
    }
    ring_buffer__consume(rb);
    struct bpf_prog_info info = {0};
    __u32 len = sizeof info;
    bpf_obj_get_info_by_fd(bpf_program__fd(s->progs.floor_exit), &info, &len);
    printf("%llu %llu %ld\n", (unsigned long long)info.run_cnt,
           (unsigned long long)info.run_time_ns, records);
    ring_buffer__free(rb);
    floor_bpf__destroy(s);
    return 0;
}
