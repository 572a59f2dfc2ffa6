/*
 * rootfs.c - what the host checks share to look at a host: files below a
 * root prefix (so that a test, or an audit of a mounted disk image, never
 * reads or changes the machine running it), user and group names from that
 * root's own /etc/passwd and /etc/group (not this machine's NSS), small
 * JSON accessors, and running a tool (auditctl, podman, systemctl) without
 * a shell with its output capped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/util.h"
#include "host_int.h"

extern char **environ;

char *mm_host_path(const char *root, const char *abs)
{
    if (!root || !*root || !strcmp(root, "/"))
        return mm_xstrdup(abs);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    return mm_xasprintf("%.*s%s%s", (int)n, root, abs[0] == '/' ? "" : "/", abs);
}

int mm_host_stat(const char *root, const char *abs, struct stat *st)
{
    char *p = mm_host_path(root, abs);
    int rc = lstat(p, st);
    free(p);
    return rc ? -1 : 0;
}

int mm_host_read(const char *root, const char *abs, size_t max, char **data, size_t *len)
{
    char *p = mm_host_path(root, abs);
    struct stat st;
    int rc;
    if (stat(p, &st) != 0)
        rc = mm_error_set(MM_ENOTFOUND, "%s: not present", p);
    else if (!S_ISREG(st.st_mode))
        rc = mm_error_set(MM_EFORMAT, "%s: not a regular file", p);
    else
        rc = mm_file_read(p, max, data, len);
    free(p);
    return rc;
}

/* Looks a numeric id up in a passwd/group style file: field 0 name,
 * field 2 id. */
static char *id_name(const char *root, const char *file, uint32_t id)
{
    char *d = NULL;
    size_t len = 0;
    char *name = NULL;
    if (mm_host_read(root, file, 16u << 20, &d, &len) == 0) {
        mm_lines it;
        const char *line;
        size_t n;
        mm_lines_init(&it, d, len);
        while (!name && mm_lines_next(&it, &line, &n)) {
            const char *c1 = memchr(line, ':', n);
            const char *c2 = c1 ? memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line)) : NULL;
            if (!c2)
                continue;
            char *e;
            unsigned long v = strtoul(c2 + 1, &e, 10);
            if (e != c2 + 1 && (*e == ':' || e == line + n) && v == id)
                name = mm_xstrndup(line, (size_t)(c1 - line));
        }
    }
    free(d);
    mm_error_clear();
    /* id 0 is root on every Linux system, whatever a partial root holds */
    if (!name && id == 0)
        name = mm_xstrdup("root");
    return name ? name : mm_xasprintf("%u", id);
}

char *mm_host_user_name(const char *root, uint32_t uid)
{
    return id_name(root, "/etc/passwd", uid);
}

char *mm_host_group_name(const char *root, uint32_t gid)
{
    return id_name(root, "/etc/group", gid);
}

int64_t mm_host_group_gid(const char *root, const char *name)
{
    char *d = NULL;
    size_t len = 0;
    int64_t gid = -1;
    size_t nl = strlen(name);
    if (mm_host_read(root, "/etc/group", 16u << 20, &d, &len) == 0) {
        mm_lines it;
        const char *line;
        size_t n;
        mm_lines_init(&it, d, len);
        while (gid < 0 && mm_lines_next(&it, &line, &n)) {
            if (n <= nl + 1 || memcmp(line, name, nl) || line[nl] != ':')
                continue;
            const char *c2 = memchr(line + nl + 1, ':', n - nl - 1);
            if (c2)
                gid = strtoll(c2 + 1, NULL, 10);
        }
    }
    free(d);
    mm_error_clear();
    return gid;
}

/* ---- JSON ------------------------------------------------------------------------ */

const char *mm_hj_str(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

json_int_t mm_hj_int(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_integer(v) ? json_integer_value(v)
         : json_is_real(v) ? (json_int_t)json_real_value(v) : 0;
}

bool mm_hj_bool(const json_t *o, const char *key)
{
    json_t *v = json_is_object(o) ? json_object_get(o, key) : NULL;
    return json_is_true(v);
}

bool mm_hj_array_has(const json_t *a, const char *needle)
{
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        if (json_is_string(v) && strstr(json_string_value(v), needle))
            return true;
    return false;
}

json_t *mm_hj_path(const json_t *o, const char *dotted)
{
    json_t *cur = (json_t *)o;
    const char *p = dotted;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];
        if (n >= sizeof key || !json_is_object(cur))
            return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        cur = json_object_get(cur, key);
        p += n + (dot ? 1 : 0);
    }
    return cur;
}

/* ---- running a tool ----------------------------------------------------------------- */

int mm_host_strpcmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *mm_host_which(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? mm_xstrdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    char *copy = mm_xstrdup(path), *save = NULL, *found = NULL;
    for (char *d = strtok_r(copy, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
        char *p = mm_xasprintf("%s/%s", d, name);
        if (access(p, X_OK) == 0)
            found = p;
        else
            free(p);
    }
    free(copy);
    return found;
}

#define RUN_TIMEOUT_MS 120000

int mm_host_run(const char *const *argv, size_t max, char **out, size_t *outlen, char **err)
{
    int po[2], pe[2];
    *out = NULL;
    if (outlen)
        *outlen = 0;
    if (err)
        *err = NULL;
    if (pipe2(po, O_CLOEXEC) != 0)
        return mm_error_set(MM_EIO, "%s: pipe: %s", argv[0], strerror(errno));
    if (pipe2(pe, O_CLOEXEC) != 0) {
        close(po[0]);
        close(po[1]);
        return mm_error_set(MM_EIO, "%s: pipe: %s", argv[0], strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        close(po[0]);
        close(pe[0]);
        return mm_error_set(MM_ENOTFOUND, "%s: cannot run: %s", argv[0], strerror(rc));
    }
    mm_buf bo = MM_BUF_INIT, be = MM_BUF_INIT;
    struct pollfd pf[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
    bool over = false;
    double start = mm_now();
    int open_fds = 2;
    while (open_fds > 0) {
        int left = RUN_TIMEOUT_MS - (int)((mm_now() - start) * 1000);
        if (left <= 0) {
            over = true;
            break;
        }
        if (poll(pf, 2, left) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[65536];
            ssize_t n = read(pf[i].fd, buf, sizeof buf);
            if (n <= 0) {
                close(pf[i].fd);
                pf[i].fd = -1;
                open_fds--;
                continue;
            }
            mm_buf *b = i == 0 ? &bo : &be;
            if (b->len + (size_t)n > max) {
                over = true;
                open_fds = 0;
                break;
            }
            mm_buf_add(b, buf, (size_t)n);
        }
    }
    for (int i = 0; i < 2; i++)
        if (pf[i].fd >= 0)
            close(pf[i].fd);
    if (over)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (over) {
        mm_buf_free(&bo);
        mm_buf_free(&be);
        return mm_error_set(MM_ELIMIT, "%s: output over %zu bytes or no end after %d s",
                            argv[0], max, RUN_TIMEOUT_MS / 1000);
    }
    if (outlen)
        *outlen = bo.len;
    *out = mm_buf_detach(&bo);
    if (err)
        *err = mm_buf_detach(&be);
    else
        mm_buf_free(&be);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
