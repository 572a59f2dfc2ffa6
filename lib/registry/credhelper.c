/*
 * credhelper.c - runs a Docker credential helper (`docker-credential-<name>
 * get`, the protocol of docker/docker-credential-helpers): the server URL
 * goes to its stdin, a JSON {"ServerURL","Username","Secret"} comes back
 * on stdout.  The helper is whatever program of that name is first on
 * PATH, so it is treated like any untrusted child (mm_proc_run in
 * lib/util: no shell, only stdin/stdout/stderr open, its own process group
 * killed whole on timeout, stdout capped at MM_REG_MAX_HELPER_OUT and
 * wiped, stderr kept only for the error message).  The parse of what it
 * prints lives in parse.c (fuzzed).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "registry/regint.h"

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
    /* the URL and a newline: docker writes it bare, its helpers trim white
     * space, and a newline lets a shell script `read` it */
    char *line = mm_xasprintf("%s\n", server);
    const char *argv[] = {prog, "get", NULL};
    mm_proc_opts po = {argv, NULL, line, strlen(line), timeout_ms, MM_REG_MAX_HELPER_OUT,
                       STDERR_KEEP};
    mm_proc_result pr;
    int prc = mm_proc_run(&pr, &po);
    free(line);
    if (prc < 0)
        return mm_error_wrap(prc, "%s (%s): ", prog, label);
    if (pr.spawn_errno) {
        mm_proc_result_free(&pr);
        if (pr.spawn_errno == ENOENT)
            return mm_error_set(MM_EAUTH, "%s names credential helper \"%s\", but %s is not "
                                "on PATH", label, name, prog);
        return mm_error_set(MM_EAUTH, "%s (%s): cannot run: %s", prog, label,
                            strerror(pr.spawn_errno));
    }
    bool timed_out = pr.timed_out, over = pr.over;
    int status = pr.status;
    mm_buf ob = {pr.out, pr.out_len, pr.out_len + 1};
    mm_buf eb = {pr.err, pr.err_len, pr.err_len + 1};
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
    pr.out_len = ob.len;
    mm_proc_result_free(&pr);
    return rc;
}
