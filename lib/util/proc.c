/*
 * proc.c - runs a helper program the way credential helpers must be run:
 * found on PATH and spawned without a shell, with only stdin, stdout and
 * stderr open (pipes), default signal handling, in its own process group
 * (killed whole on timeout), the input written without dying of SIGPIPE,
 * stdout capped (reserved up front, so no realloc leaves a copy of a
 * secret behind; wiped on free) and stderr kept only for messages.  Docker
 * credential helpers (lib/registry) and Kubernetes exec credential plugins
 * (lib/k8s) both go through here.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/util.h"

extern char **environ;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void write_input(int fd, const char *s, size_t n)
{
    sigset_t pipe_set, old;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    bool epipe = false;
    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            epipe = errno == EPIPE;
            break;
        }
        s += w;
        n -= (size_t)w;
    }
    if (epipe && !sigismember(&old, SIGPIPE)) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

/* environ with env_add applied ("NAME=value" replaces NAME). */
static char **make_env(const char *const *add, size_t *nout)
{
    size_t n = 0, na = 0;
    while (environ[n])
        n++;
    while (add && add[na])
        na++;
    char **e = mm_xcalloc(n + na + 1, sizeof *e);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *eq = strchr(environ[i], '=');
        size_t nl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
        bool replaced = false;
        for (size_t j = 0; j < na && !replaced; j++)
            replaced = !strncmp(add[j], environ[i], nl) && add[j][nl] == '=';
        if (!replaced)
            e[k++] = environ[i];
    }
    for (size_t j = 0; j < na; j++)
        e[k++] = (char *)add[j];
    e[k] = NULL;
    *nout = k;
    return e;
}

int mm_proc_run(mm_proc_result *res, const mm_proc_opts *o)
{
    memset(res, 0, sizeof *res);
    res->status = -1;
    if (!o || !o->argv || !o->argv[0])
        return mm_error_set(MM_EINVAL, "proc: no program");
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        int rc = mm_error_set(MM_EIO, "%s: cannot make pipes: %s", o->argv[0], strerror(errno));
        for (int i = 0; i < 2; i++) {
            close_fd(&in[i]);
            close_fd(&out[i]);
            close_fd(&err[i]);
        }
        return rc;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    /* dup2 clears close-on-exec on the targets; every other descriptor of
     * ours is closed in the child (no leaks into a third-party program) */
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                      POSIX_SPAWN_SETPGROUP);
    size_t ne;
    char **envp = make_env(o->env_add, &ne);
    pid_t pid;
    int se = strchr(o->argv[0], '/')
                 ? posix_spawn(&pid, o->argv[0], &fa, &at, (char *const *)o->argv, envp)
                 : posix_spawnp(&pid, o->argv[0], &fa, &at, (char *const *)o->argv, envp);
    free(envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    if (se != 0) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        res->spawn_errno = se;
        return 0;
    }
    if (o->input && o->input_len)
        write_input(in[1], o->input, o->input_len);
    close_fd(&in[1]);

    size_t max_out = o->max_out ? o->max_out : (1u << 20);
    size_t max_err = o->max_err ? o->max_err : 4096;
    mm_buf ob = MM_BUF_INIT_MAX(max_out + 1), eb = MM_BUF_INIT_MAX(max_err + 1);
    mm_buf_reserve(&ob, max_out + 1);
    long timeout = o->timeout_ms > 0 ? o->timeout_ms : 30000;
    long deadline = now_ms() + timeout;
    char chunk[4096];
    while (out[0] >= 0 || err[0] >= 0) {
        long left = deadline - now_ms();
        if (left <= 0) {
            res->timed_out = true;
            break;
        }
        struct pollfd pf[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
        int pr = poll(pf, 2, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0)
            break;
        for (int i = 0; i < 2; i++) {
            int *fd = i == 0 ? &out[0] : &err[0];
            if (*fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(*fd, chunk, sizeof chunk);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                close_fd(fd);
                continue;
            }
            mm_buf *b = i == 0 ? &ob : &eb;
            size_t cap = i == 0 ? max_out : max_err;
            size_t room = b->len < cap ? cap - b->len : 0;
            mm_buf_add(b, chunk, (size_t)r < room ? (size_t)r : room);
            if (i == 0 && (size_t)r > room)
                res->over = true;
        }
        if (res->over)
            break;
    }
    explicit_bzero(chunk, sizeof chunk);
    close_fd(&out[0]);
    close_fd(&err[0]);
    if (res->over || res->timed_out)
        kill_group(pid);
    /* the program closed its output: give it until the deadline to exit */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (w == 0 && now_ms() >= deadline && !res->timed_out) {
            res->timed_out = true;
            kill_group(pid);
        }
        if (w == 0) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    res->status = status;
    if (!ob.data)
        mm_buf_reserve(&ob, 1);
    if (!eb.data)
        mm_buf_reserve(&eb, 1);
    res->out_len = ob.len;
    res->out = ob.data;
    res->err_len = eb.len;
    res->err = eb.data;
    return 0;
}

void mm_proc_result_free(mm_proc_result *r)
{
    if (!r)
        return;
    if (r->out)
        explicit_bzero(r->out, r->out_len);
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
}
