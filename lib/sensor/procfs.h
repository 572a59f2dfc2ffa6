/*
 * sensor/procfs.h - the /proc readers of the sensor (procfs.c) that other
 * parts of the library share, so that a process is read the same way by
 * the runtime sensor and by `mamori host ps` (lib/host).
 */
#ifndef MM_SENSOR_PROCFS_H
#define MM_SENSOR_PROCFS_H

#include <stdint.h>

/* The cgroup path of pid under root (a /proc mount, "/proc" normally):
 * the unified (v2) path, or the first named v1 path that names a
 * container (hybrid hosts put docker in v1 controllers).  Caller frees;
 * NULL when it cannot be read. */
char *mm_sn_proc_cgroup(const char *root, int64_t pid);

#endif
