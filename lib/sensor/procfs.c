/*
 * procfs.c - what the sensors read from /proc: the process table seed at
 * start (every live process with parent, comm, argv, exe, cwd, uids,
 * capabilities, tty, cgroup, container and open fds) and the per-process
 * details a kernel record does not carry (cwd, resolved exe path).
 * Everything here races with processes exiting; a vanished process only
 * leaves fields unknown.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "sensor_int.h"

static char *read_small(const char *root, int64_t pid, const char *what, size_t *len)
{
    char path[96];
    snprintf(path, sizeof path, "%s/%lld/%s", root, (long long)pid, what);
    return mm_file_read_proc(path, 1u << 16, len);
}

char *mm_sn_readlink(const char *root, int64_t pid, const char *what)
{
    char path[96], buf[4096];
    snprintf(path, sizeof path, "%s/%lld/%s", root, (long long)pid, what);
    ssize_t n = readlink(path, buf, sizeof buf - 1);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    return mm_xstrdup(buf);
}

/* The unified (v2) cgroup path of pid, or the first named v1 path that
 * names a container (hybrid hosts put docker in v1 controllers). */
char *mm_sn_proc_cgroup(const char *root, int64_t pid)
{
    size_t len;
    char *d = read_small(root, pid, "cgroup", &len);
    if (!d)
        return NULL;
    char *v2 = NULL, *ctr = NULL;
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, d, len);
    while (mm_lines_next(&it, &line, &ll)) {
        const char *c1 = memchr(line, ':', ll);
        const char *c2 = c1 ? memchr(c1 + 1, ':', ll - (size_t)(c1 + 1 - line)) : NULL;
        if (!c2)
            continue;
        char *path = mm_xstrndup(c2 + 1, ll - (size_t)(c2 + 1 - line));
        char id[65];
        if (!ctr && mm_cgroup_container_id(path, id, NULL))
            ctr = mm_xstrdup(path);
        if (!v2 && c2 == c1 + 1 && line[0] == '0')
            v2 = mm_xstrdup(path);
        free(path);
    }
    free(d);
    if (ctr) {
        free(v2);
        return ctr;
    }
    return v2;
}

char *mm_proc_cgroup_path(const char *proc_root, int64_t pid)
{
    return mm_sn_proc_cgroup(proc_root ? proc_root : "/proc", pid);
}

static void parse_status(mm_proc *p, const char *d, size_t len)
{
    mm_lines it;
    const char *line;
    size_t ll;
    mm_lines_init(&it, d, len);
    while (mm_lines_next(&it, &line, &ll)) {
        char buf[256];
        if (ll >= sizeof buf)
            continue;
        memcpy(buf, line, ll);
        buf[ll] = 0;
        unsigned a, b, c, e;
        unsigned long long x;
        if (sscanf(buf, "Uid: %u %u %u %u", &a, &b, &c, &e) == 4) {
            p->uid = a;
            p->euid = b;
        } else if (sscanf(buf, "Gid: %u %u %u %u", &a, &b, &c, &e) == 4) {
            p->gid = a;
            p->egid = b;
        } else if (sscanf(buf, "CapEff: %llx", &x) == 1) {
            p->cap_effective = x;
        } else if (sscanf(buf, "CapPrm: %llx", &x) == 1) {
            p->cap_permitted = x;
        } else if (sscanf(buf, "CapInh: %llx", &x) == 1) {
            p->cap_inheritable = x;
        } else if (strncmp(buf, "NSpid:", 6) == 0) {
            /* last number: the pid in the innermost namespace */
            char *s = strrchr(buf, '\t');
            if (!s)
                s = strrchr(buf, ' ');
            if (s)
                p->vpid = p->vtid = strtoll(s + 1, NULL, 10);
        }
    }
}

void mm_sn_fill_cwd_exe(const char *root, mm_proc *p)
{
    char *cwd = mm_sn_readlink(root, p->pid, "cwd");
    if (cwd) {
        size_t n = strlen(cwd);
        if (n && cwd[n - 1] != '/') {
            char *c2 = mm_xasprintf("%s/", cwd);
            free(cwd);
            cwd = c2;
        }
        free(p->cwd);
        p->cwd = cwd;
    }
    char *exe = mm_sn_readlink(root, p->pid, "exe");
    if (exe) {
        /* "/path (deleted)" keeps the path; memfd shows "/memfd:x (deleted)" */
        free(p->exepath);
        p->exepath = exe;
    }
}

void mm_sn_set_argv_blob(mm_proc *p, const char *blob, size_t len)
{
    const char *argv[256];
    size_t argc = 0;
    size_t i = 0;
    while (i < len && argc < 256) {
        const char *s = blob + i;
        size_t l = strnlen(s, len - i);
        if (l == len - i && argc > 0 && l == 0)
            break;
        argv[argc++] = s;
        i += l + 1;
    }
    if (argc)
        mm_proc_set_argv(p, argv, argc);
    if (argc) {
        mm_proc_set(&p->exe, argv[0]);
    }
}

/* proc.env: the NUL-separated environment as "K=V K=V" */
void mm_sn_set_env_blob(mm_proc *p, const char *blob, size_t len)
{
    mm_buf b = MM_BUF_INIT;
    size_t i = 0;
    int n = 0;
    while (i < len && n < 1024) {
        size_t l = strnlen(blob + i, len - i);
        if (l) {
            if (b.len)
                mm_buf_addc(&b, ' ');
            mm_buf_add(&b, blob + i, l);
            n++;
        }
        i += l + 1;
    }
    free(p->env);
    p->env = b.len ? mm_buf_detach(&b) : NULL;
    mm_buf_free(&b);
}

/* fd table from /proc/PID/fd: files by name, sockets as "unknown" typed by
 * the inode (their addresses are learned from later events). */
static void seed_fds(const char *root, mm_proc *p)
{
    char dpath[96];
    snprintf(dpath, sizeof dpath, "%s/%lld/fd", root, (long long)p->pid);
    DIR *d = opendir(dpath);
    if (!d)
        return;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) && n < 4096) {
        if (de->d_name[0] == '.')
            continue;
        char *end;
        long fd = strtol(de->d_name, &end, 10);
        if (*end)
            continue;
        char rel[32];
        snprintf(rel, sizeof rel, "fd/%ld", fd);
        char *target = mm_sn_readlink(root, p->pid, rel);
        if (!target)
            continue;
        mm_fdinfo *f = mm_proc_fd_set(p, fd);
        if (target[0] == '/') {
            f->type = MM_FD_FILE;
            f->name = target;
            target = NULL;
        } else if (strncmp(target, "socket:", 7) == 0) {
            f->type = MM_FD_UNKNOWN;
        } else if (strncmp(target, "pipe:", 5) == 0) {
            f->type = MM_FD_PIPE;
        } else if (strstr(target, "memfd:")) {
            f->type = MM_FD_MEMFD;
            f->name = target;
            target = NULL;
        }
        free(target);
        n++;
    }
    closedir(d);
}

/* A snapshot of what /proc says about one process, read in one go (the
 * fallback's connector thread takes it the moment the exec is announced,
 * before a short-lived program can exit) and applied later. */
static void snap_read(mm_sn_snap *sn, const char *root, int64_t pid, bool image)
{
    memset(sn, 0, sizeof *sn);
    sn->pid = pid;
    sn->status = read_small(root, pid, "status", &sn->status_len);
    if (image) {
        sn->comm = read_small(root, pid, "comm", &sn->comm_len);
        sn->cmdline = read_small(root, pid, "cmdline", &sn->cmdline_len);
        sn->environ = read_small(root, pid, "environ", &sn->environ_len);
        sn->exe = mm_sn_readlink(root, pid, "exe");
    }
    sn->loginuid = read_small(root, pid, "loginuid", &sn->loginuid_len);
    sn->stat = read_small(root, pid, "stat", &sn->stat_len);
    sn->cwd = mm_sn_readlink(root, pid, "cwd");
    sn->cgroup = mm_sn_proc_cgroup(root, pid);
    char path[96];
    snprintf(path, sizeof path, "%s/%lld/ns/mnt", root, (long long)pid);
    struct stat st;
    sn->mntns = stat(path, &st) == 0 ? (uint32_t)st.st_ino : 0;
    snprintf(path, sizeof path, "%s/%lld/root", root, (long long)pid);
    sn->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
    sn->alive = sn->status != NULL;
}

void mm_sn_snap_read(mm_sn_snap *sn, const char *root, int64_t pid)
{
    snap_read(sn, root, pid, true);
}

/* What an exec keeps (ids, cwd, cgroup, namespaces): not the name,
 * arguments, environment or program, which the exec replaces */
void mm_sn_snap_read_kept(mm_sn_snap *sn, const char *root, int64_t pid)
{
    snap_read(sn, root, pid, false);
}

void mm_sn_snap_clear(mm_sn_snap *sn)
{
    free(sn->status); free(sn->comm); free(sn->cmdline); free(sn->loginuid);
    free(sn->stat); free(sn->environ); free(sn->cwd); free(sn->exe); free(sn->cgroup);
    if (sn->rootfd > 0)
        close(sn->rootfd);
    memset(sn, 0, sizeof *sn);
}

/* Fills what the snapshot holds into p (not parent links); fields it
 * lacks (the process had gone) are left as they were. */
void mm_sn_snap_apply(mm_sensor_base *b, mm_proc *p, const mm_sn_snap *sn)
{
    if (sn->status)
        parse_status(p, sn->status, sn->status_len);
    if (sn->comm) {
        char *d = mm_xstrndup(sn->comm, sn->comm_len);
        size_t len = strlen(d);
        while (len && d[len - 1] == '\n')
            d[--len] = 0;
        mm_proc_set(&p->comm, d);
        free(d);
    }
    if (sn->cmdline)
        mm_sn_set_argv_blob(p, sn->cmdline, sn->cmdline_len);
    if (sn->loginuid)
        p->loginuid = (uint32_t)strtoul(sn->loginuid, NULL, 10);
    if (sn->stat) {
        /* after the last ')': state ppid pgrp session tty_nr */
        char *rp = strrchr(sn->stat, ')');
        long long ppid, pgrp, sess;
        int tty;
        char st;
        if (rp && sscanf(rp + 1, " %c %lld %lld %lld %d", &st, &ppid, &pgrp, &sess, &tty) == 5) {
            p->ppid = ppid;
            p->pgid = pgrp;
            p->sid = sess;
            p->tty = (uint32_t)tty;
        }
    }
    if (sn->environ)
        mm_sn_set_env_blob(p, sn->environ, sn->environ_len);
    if (sn->cwd) {
        size_t n = strlen(sn->cwd);
        char *c = n && sn->cwd[n - 1] != '/' ? mm_xasprintf("%s/", sn->cwd) : mm_xstrdup(sn->cwd);
        free(p->cwd);
        p->cwd = c;
    }
    if (sn->exe)
        mm_proc_set(&p->exepath, sn->exe);
    if (sn->mntns)
        p->mntns = sn->mntns;
    if (sn->has_seuid)
        p->euid = sn->seuid;
    if (sn->has_segid)
        p->egid = sn->segid;
    mm_sn_resolve_users_in(b, p, sn->rootfd);
    if (sn->cgroup)
        mm_sn_set_cgroup(b, p, sn->cgroup);
}

/* Fills what /proc says about pid into p (not parent links). */
void mm_sn_fill_from_proc(mm_sensor_base *b, mm_proc *p, bool fds)
{
    mm_sn_snap sn;
    mm_sn_snap_read(&sn, b->proc_root, p->pid);
    mm_sn_snap_apply(b, p, &sn);
    mm_sn_snap_clear(&sn);
    if (fds)
        seed_fds(b->proc_root, p);
}

void mm_sn_set_cgroup(mm_sensor_base *b, mm_proc *p, const char *cg)
{
    if (p->cgroup && strcmp(p->cgroup, cg) == 0 && p->container &&
        (!p->container->full_id || p->container->meta_from_proc))
        return;
    mm_proc_set(&p->cgroup, cg);
    mm_container *c = mm_container_cache_get_pid(b->containers, cg, b->proc_root, p->pid);
    mm_proc_set_container(p, c);
    mm_container_unref(c);
}

static int cmp_pid(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

void mm_sn_seed(mm_sensor_base *b)
{
    DIR *d = opendir(b->proc_root);
    if (!d)
        return;
    int64_t *pids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        char *end;
        long long pid = strtoll(de->d_name, &end, 10);
        if (*end || pid <= 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            pids = mm_xrealloc(pids, cap * sizeof *pids);
        }
        pids[n++] = pid;
        if (n >= 65536)
            break;
    }
    closedir(d);
    qsort(pids, n, sizeof *pids, cmp_pid);
    /* two passes: records first, then parent links (parents may have
     * larger pids than their children after pid wrap) */
    for (size_t i = 0; i < n; i++) {
        mm_proc *p = mm_proctab_add(b->pt, pids[i], 0);
        mm_sn_fill_from_proc(b, p, true);
        if (!p->container) {
            mm_container *h = mm_container_cache_get(b->containers, "/");
            mm_proc_set_container(p, h);
            mm_container_unref(h);
        }
    }
    for (size_t i = 0; i < n; i++) {
        mm_proc *p = mm_proctab_get(b->pt, pids[i]);
        if (p && p->ppid > 0) {
            mm_proc *pp = mm_proctab_get(b->pt, p->ppid);
            if (pp && pp != p)
                mm_proc_set_parent(p, pp);
        }
    }
    free(pids);
}
