/*
 * config/dflint_sc.c - ShellCheck on the scripts of RUN instructions, as
 * hadolint does through the ShellCheck library: the shell is the one SHELL
 * set in the stage (sh by default; non-POSIX shells such as PowerShell and
 * cmd are skipped, and so is everything after "# hadolint shell=..." names
 * one), and the names of the stage's ARGs and ENVs plus the proxy
 * variables are exported first so that ShellCheck knows them.  ONBUILD
 * triggers are checked with the defaults, as hadolint does.
 *
 * Every script goes to a file of its own in a private temporary folder;
 * one run of the `shellcheck` program (-f json1) checks them all, and each
 * comment's line is mapped back to the line of the Dockerfile (the
 * scripts keep the file's line structure, see make_script()).  When the
 * program is not installed the linter says so in its status; no SC
 * finding is guessed.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config/config_int.h"
#include "config/dflint_int.h"

extern char **environ;

#define SC_MAX_SCRIPTS 4096
#define SC_MAX_OUT (16u << 20)
#define SC_TIMEOUT_MS 120000

typedef struct sc_job {
    const mm_df_instr *in;   /* for the ignores, the quoted instruction */
    int first_line;          /* file line of the script's first line */
    int last_line;
} sc_job;

static bool valid_var(const char *n)
{
    if (!*n || (!isalpha((unsigned char)*n) && *n != '_'))
        return false;
    for (; *n; n++)
        if (!isalnum((unsigned char)*n) && *n != '_')
            return false;
    return true;
}

/* the shell name ShellCheck should read the script as, or NULL to skip */
static const char *sc_shell(const char *shell)
{
    if (!shell)
        return "sh";
    size_t l = strcspn(shell, " ");
    char *first = mm_xstrndup(shell, l);
    const char *b = strrchr(first, '/');
    b = b ? b + 1 : first;
    const char *r = NULL;
    static const char *const ok[] = {"sh", "bash", "dash", "ksh", "ash", "busybox"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (!strcmp(b, ok[i]))
            r = ok[i];
    free(first);
    return r;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* runs prog with argv, returns its stdout in *out; -ENOENT when absent */
static int run_prog(const char *prog, char **argv, mm_buf *out, int *status)
{
    int po[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) < 0)
        return -errno;
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (devnull >= 0) {
        posix_spawn_file_actions_adddup2(&fa, devnull, 0);
        posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    }
    posix_spawn_file_actions_adddup2(&fa, po[1], 1);
    pid_t pid;
    int se = posix_spawnp(&pid, prog, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close_fd(&po[1]);
    if (devnull >= 0)
        close(devnull);
    if (se != 0) {
        close_fd(&po[0]);
        return -se;
    }
    long deadline = now_ms() + SC_TIMEOUT_MS;
    char chunk[8192];
    bool killed = false;
    while (po[0] >= 0) {
        long left = deadline - now_ms();
        if (left <= 0) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        struct pollfd pf = {po[0], POLLIN, 0};
        int pr = poll(&pf, 1, (int)(left > 1000 ? 1000 : left));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t r = read(po[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (out->len + (size_t)r > SC_MAX_OUT) {
            kill(pid, SIGKILL);
            killed = true;
            break;
        }
        mm_buf_add(out, chunk, (size_t)r);
    }
    close_fd(&po[0]);
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    *status = killed ? -1 : (WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

static void add_job(sc_job **jobs, size_t *n, char ***files, size_t *nf, const char *dir,
                    const mm_df_instr *in, const char *shell, const mm_map *vars)
{
    if (*n >= SC_MAX_SCRIPTS || !in->script)
        return;
    const char *sh = sc_shell(shell);
    if (!sh)
        return;
    char *path = mm_xasprintf("%s/run%04zu.sh", dir, *n);
    FILE *f = fopen(path, "w");
    if (!f) {
        free(path);
        return;
    }
    fprintf(f, "#!/bin/%s\nexport HTTP_PROXY=1 http_proxy=1 HTTPS_PROXY=1 https_proxy=1 "
            "FTP_PROXY=1 ftp_proxy=1 NO_PROXY=1 no_proxy=1", sh);
    size_t it = 0;
    const char *k;
    void *v;
    while (vars && mm_map_next(vars, &it, &k, &v))
        if (valid_var(k))
            fprintf(f, " %s=1", k);
    fprintf(f, "\n%s", in->script);
    size_t sl = strlen(in->script);
    if (!sl || in->script[sl - 1] != '\n')
        fputc('\n', f);
    fclose(f);
    *jobs = mm_xrealloc(*jobs, (*n + 1) * sizeof **jobs);
    (*jobs)[*n].in = in;
    (*jobs)[*n].first_line = in->script_line;
    (*jobs)[*n].last_line = in->end_line > in->line ? in->end_line : in->line;
    (*n)++;
    mm_strv_push(files, nf, path);
    free(path);
}

void dfl_shellcheck(lint *L)
{
    const mm_dflint_opts *o = L->o;
    const char *prog = o && o->shellcheck ? o->shellcheck : "shellcheck";
    if (!*prog)
        return;
    const mm_dockerfile *df = L->df;
    if (df->shell_pragma && !sc_shell(df->shell_pragma))
        return; /* a Windows base image: PowerShell or cmd */
    bool any = false;
    for (size_t i = 0; i < df->ninstrs && !any; i++)
        if (df->instrs[i].script ||
            (df->instrs[i].onbuild && df->instrs[i].onbuild->script))
            any = true;
    if (!any)
        return;
    char *dir = NULL;
    if (mm_tmpdir_create(&dir, NULL) < 0) {
        snprintf(L->status->note, sizeof L->status->note,
                 "ShellCheck was not run: no temporary folder: %s", mm_error_last());
        return;
    }
    sc_job *jobs = NULL;
    size_t njobs = 0;
    char **files = NULL;
    size_t nfiles = 0;
    mm_map *vars = mm_map_new();
    const char *shell = NULL;
    char *shell_own = NULL;
    for (size_t i = 0; i < df->ninstrs; i++) {
        const mm_df_instr *in = &df->instrs[i];
        const char *k = in->keyword;
        if (!strcmp(k, "FROM")) {
            mm_map_free(vars, NULL);
            vars = mm_map_new();
            free(shell_own);
            shell_own = NULL;
            shell = NULL;
        } else if ((!strcmp(k, "ARG") || !strcmp(k, "ENV")) && mm_map_count(vars) < 4096) {
            for (size_t j = 0; j < in->nkv; j++)
                mm_map_put(vars, in->kv[j].key, (void *)1);
        } else if (!strcmp(k, "SHELL") && in->nargv) {
            free(shell_own);
            shell_own = mm_xstrdup(in->argv[0]);
            shell = shell_own;
        } else if (!strcmp(k, "RUN")) {
            add_job(&jobs, &njobs, &files, &nfiles, dir, in, shell, vars);
        } else if (!strcmp(k, "ONBUILD") && in->onbuild && in->onbuild->keyword &&
                   !strcmp(in->onbuild->keyword, "RUN")) {
            /* the trigger has the ONBUILD's line; ignores are the
             * ONBUILD's (the job keeps the ONBUILD instruction for them) */
            size_t before = njobs;
            add_job(&jobs, &njobs, &files, &nfiles, dir, in->onbuild, NULL, NULL);
            if (njobs > before)
                jobs[before].in = in;
        }
    }
    mm_map_free(vars, NULL);
    free(shell_own);
    if (njobs) {
        char **argv = mm_xcalloc(nfiles + 8, sizeof *argv);
        size_t a = 0;
        argv[a++] = (char *)prog;
        argv[a++] = (char *)"--norc";
        argv[a++] = (char *)"-f";
        argv[a++] = (char *)"json1";
        argv[a++] = (char *)"-e";
        argv[a++] = (char *)"2187,1090,1091";
        for (size_t i = 0; i < nfiles; i++)
            argv[a++] = files[i];
        argv[a] = NULL;
        mm_buf out = MM_BUF_INIT;
        int status = 0;
        int rc = run_prog(prog, argv, &out, &status);
        free(argv);
        if (rc == -ENOENT) {
            L->status->shellcheck_missing = true;
            snprintf(L->status->note, sizeof L->status->note,
                     "ShellCheck (%s) is not installed: SC rules were not checked "
                     "(Debian package shellcheck)", prog);
        } else if (rc < 0 || status < 0 || status > 1) {
            snprintf(L->status->note, sizeof L->status->note,
                     "ShellCheck (%s) failed (exit %d): SC rules were not checked", prog, status);
        } else {
            L->status->shellcheck_ran = true;
            json_error_t err;
            json_t *j = json_loadb(out.data ? out.data : "", out.len, 0, &err);
            json_t *cs = json_object_get(j, "comments");
            size_t idx;
            json_t *c;
            json_array_foreach(cs, idx, c) {
                const char *file = json_string_value(json_object_get(c, "file"));
                json_int_t line = json_integer_value(json_object_get(c, "line"));
                json_int_t code = json_integer_value(json_object_get(c, "code"));
                const char *lvl = json_string_value(json_object_get(c, "level"));
                const char *msg = json_string_value(json_object_get(c, "message"));
                const char *base = file ? strrchr(file, '/') : NULL;
                if (!base || strncmp(base, "/run", 4))
                    continue;
                size_t n = (size_t)strtoul(base + 4, NULL, 10);
                if (n >= njobs)
                    continue;
                const sc_job *jb = &jobs[n];
                long fl = (long)jb->first_line + (long)line - 3;
                if (fl < jb->in->line)
                    fl = jb->in->line;
                if (fl > jb->last_line && jb->last_line >= jb->in->line)
                    fl = jb->last_line;
                dfl_emit_sc(L, jb->in, (int)fl, (int)code, lvl, msg);
            }
            json_decref(j);
        }
        mm_buf_free(&out);
    }
    for (size_t i = 0; i < nfiles; i++)
        unlink(files[i]);
    mm_strv_free(files, nfiles);
    free(jobs);
    mm_tmpdir_remove(dir);
    free(dir);
}
