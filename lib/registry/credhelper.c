/*
 * credhelper.c - runs a Docker credential helper (`docker-credential-<name>
 * get`, the protocol of docker/docker-credential-helpers): the server URL
 * goes to its stdin, a JSON {"ServerURL","Username","Secret"} comes back
 * on stdout.  The helper is whatever program of that name is first on
 * PATH, so it is treated like any untrusted child: spawned without a
 * shell, with only stdin/stdout/stderr open (pipes), default signals, in
 * its own process group (killed whole on timeout), stdout capped at
 * MM_REG_MAX_HELPER_OUT and stderr kept only for the error message.  The
 * parse of what it prints lives in parse.c (fuzzed).
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

#include <openssl/crypto.h>

#include "registry/regint.h"

extern char **environ;

#define STDERR_KEEP 4096u
#define MSG_CAP 300
#define NOT_FOUND_MSG "credentials not found in native keychain"

long mm_reg_credhelper_timeout_ms(void)
{
    const char *v = getenv("MAMORI_CREDHELPER_TIMEOUT");
    if (v && *v) {
        char *end;
        double s = strtod(v, &end);
        if (end != v && *end == 0 && s >= 0.1 && s <= 600)
            return (long)(s * 1000);
    }
    return 30000;
}

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

/* Writes all of s to fd without dying of SIGPIPE when the helper exits
 * before reading: SIGPIPE is blocked in this thread for the write and a
 * pending one is consumed. */
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

/* The printable, trimmed, capped text of a helper's message. */
static char *quote_msg(const char *s, size_t n)
{
    mm_buf b = MM_BUF_INIT;
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    while (n > 0 && (*s == '\n' || *s == ' ')) {
        s++;
        n--;
    }
    for (size_t i = 0; i < n && b.len < MSG_CAP; i++) {
        unsigned char c = (unsigned char)s[i];
        mm_buf_addc(&b, c == '\n' ? ' ' : c >= 0x20 && c < 0x7f ? (char)c : '?');
    }
    if (n > MSG_CAP)
        mm_buf_adds(&b, "...");
    return mm_buf_detach(&b);
}

static void kill_group(pid_t pid)
{
    kill(-pid, SIGKILL);
    kill(pid, SIGKILL);
}

int mm_reg_credhelper_get(const char *name, const char *server, const char *label,
                          long timeout_ms, char **user, char **secret, bool *idtoken)
{
    *user = *secret = NULL;
    *idtoken = false;
    if (!mm_reg_helper_name_valid(name))
        return mm_error_set(MM_EFORMAT, "%s: invalid credential helper name \"%.100s\"",
                            label, name ? name : "");
    char prog[32 + MM_REG_MAX_HELPER_NAME];
    snprintf(prog, sizeof prog, "docker-credential-%s", name);
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
        int rc = mm_error_set(MM_EIO, "%s (%s): cannot make pipes: %s", prog, label,
                              strerror(errno));
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
    char *argv[] = {prog, "get", NULL};
    pid_t pid;
    int se = posix_spawnp(&pid, prog, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&err[1]);
    if (se != 0) {
        close_fd(&in[1]);
        close_fd(&out[0]);
        close_fd(&err[0]);
        if (se == ENOENT)
            return mm_error_set(MM_EAUTH, "%s names credential helper \"%s\", but %s is not "
                                "on PATH", label, name, prog);
        return mm_error_set(MM_EAUTH, "%s (%s): cannot run: %s", prog, label, strerror(se));
    }
    /* the URL and a newline: docker writes it bare, its helpers trim white
     * space, and a newline lets a shell script `read` it.  A few hundred
     * bytes fit in the pipe whatever the helper does. */
    char *line = mm_xasprintf("%s\n", server);
    write_input(in[1], line, strlen(line));
    free(line);
    close_fd(&in[1]);

    mm_buf ob = MM_BUF_INIT, eb = MM_BUF_INIT;
    /* room for all of stdout at once: no realloc leaves a copy of the
     * secret behind uncleansed */
    mm_buf_reserve(&ob, MM_REG_MAX_HELPER_OUT + 1);
    bool over = false, timed_out = false;
    long deadline = now_ms() + timeout_ms;
    char chunk[4096];
    while (out[0] >= 0 || err[0] >= 0) {
        long left = deadline - now_ms();
        if (left <= 0) {
            timed_out = true;
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
            size_t cap = i == 0 ? MM_REG_MAX_HELPER_OUT : STDERR_KEEP;
            size_t room = b->len < cap ? cap - b->len : 0;
            mm_buf_add(b, chunk, (size_t)r < room ? (size_t)r : room);
            if (i == 0 && (size_t)r > room)
                over = true;
        }
        if (over)
            break;
    }
    OPENSSL_cleanse(chunk, sizeof chunk);
    close_fd(&out[0]);
    close_fd(&err[0]);
    if (over || timed_out)
        kill_group(pid);
    /* the helper closed its output: give it until the deadline to exit */
    int status = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid)
            break;
        if (w < 0 && errno != EINTR) {
            status = -1;
            break;
        }
        if (w == 0 && now_ms() >= deadline && !timed_out) {
            timed_out = true;
            kill_group(pid);
        }
        if (w == 0) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
    int rc;
    if (timed_out) {
        rc = mm_error_set(MM_EAUTH, "%s (%s) gave no answer for %s within %.1f s; killed "
                          "(MAMORI_CREDHELPER_TIMEOUT sets the limit)", prog, label, server,
                          timeout_ms / 1000.0);
    } else if (over) {
        rc = mm_error_set(MM_EAUTH, "%s (%s) printed more than %u bytes for %s", prog, label,
                          MM_REG_MAX_HELPER_OUT, server);
    } else if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *t = quote_msg(ob.data ? ob.data : "", ob.len);
        if (status != -1 && WIFEXITED(status) && !strcmp(t, NOT_FOUND_MSG)) {
            rc = MM_ENOTFOUND;
        } else {
            /* docker's helpers print their error on stdout; others use
             * stderr */
            if (!*t) {
                free(t);
                t = quote_msg(eb.data ? eb.data : "", eb.len);
            }
            char how[64];
            if (status != -1 && WIFSIGNALED(status))
                snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(status));
            else if (status != -1)
                snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(status));
            else
                snprintf(how, sizeof how, "lost");
            rc = mm_error_set(MM_EAUTH, "%s (%s) failed for %s: %s%s%s%s", prog, label,
                              server, how, *t ? ": \"" : "", t, *t ? "\"" : "");
        }
        free(t);
    } else {
        char *what = mm_xasprintf("%s (%s) for %s", prog, label, server);
        rc = mm_reg_helper_parse(ob.data, ob.len, what, user, secret, idtoken);
        free(what);
    }
    if (ob.data)
        OPENSSL_cleanse(ob.data, ob.len);
    mm_buf_free(&ob);
    mm_buf_free(&eb);
    return rc;
}
