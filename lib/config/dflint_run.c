/*
 * config/dflint_run.c - the rules on RUN: the script is split into simple
 * commands by the shell reader (shell.c) and every command is matched
 * against the package managers and tools the rules know.  Option tables
 * say which options take a value, so that a value ("--loglevel verbose",
 * "--root-user-action ignore") is never taken for a package name, and "--"
 * ends the package list where the tool passes the rest on (gem).
 *
 * hadolint's flag model is kept where its test cases depend on it: "-abc"
 * is the flags a, b and c; "--name=value" is the flag name.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "config/dflint_int.h"

/* --- command helpers ---------------------------------------------------------- */
/* hadolint's hasFlag: "--name", "--name=x", or a letter of "-abc" */
static bool hflag(const mm_sh_cmd *c, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 1; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] != '-' || !a[1])
            continue;
        if (a[1] == '-') {
            if (!a[2])
                continue;
            if (!strncmp(a + 2, name, nl) && (a[2 + nl] == 0 || a[2 + nl] == '='))
                return true;
        } else if (nl == 1 && strchr(a + 1, name[0])) {
            return true;
        }
    }
    return false;
}

static bool has_word(const mm_sh_cmd *c, const char *w)
{
    return mm_sh_has(c, w);
}

static bool in_list(const char *a, const char *const *list)
{
    for (; list && *list; list++)
        if (!strcmp(a, *list))
            return true;
    return false;
}

/* The operands of c from argv[from]: words that are not options, with the
 * values of the options in valopts (written "-o value") skipped.  With
 * stop_dd, "--" ends the list. */
static size_t operands(const mm_sh_cmd *c, size_t from, const char *const *valopts,
                       bool stop_dd, const char **out, size_t max)
{
    size_t n = 0;
    for (size_t i = from; i < c->argc && n < max; i++) {
        const char *a = c->argv[i];
        if (!strcmp(a, "--")) {
            if (stop_dd)
                break;
            continue;
        }
        if (a[0] == '-' && a[1]) {
            if (!strchr(a, '=') && in_list(a, valopts))
                i++;
            continue;
        }
        out[n++] = a;
    }
    return n;
}

/* index of the first operand (the subcommand), or argc */
static size_t subcmd(const mm_sh_cmd *c, size_t from, const char *const *valopts)
{
    for (size_t i = from; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-' && a[1]) {
            if (!strchr(a, '=') && in_list(a, valopts))
                i++;
            continue;
        }
        return i;
    }
    return c->argc;
}

static bool is_named(const mm_sh_cmd *c, const char *n)
{
    return c->argc && !strcmp(mm_sh_name(c), n);
}

/* hadolint's cmdHasArgs: the command name and any argument among words */
static bool cmd_has(const mm_sh_cmd *c, const char *n, const char *const *words)
{
    if (!is_named(c, n))
        return false;
    for (size_t i = 1; i < c->argc; i++)
        if (in_list(c->argv[i], words))
            return true;
    return false;
}

static bool has_var(const char *a)
{
    return strchr(a, '$') || strchr(a, '`');
}

static void add_word(mm_buf *b, const char *w)
{
    if (b->len)
        mm_buf_addc(b, ' ');
    mm_buf_adds(b, w);
}

/* --- the facts of one RUN ----------------------------------------------------- */
static bool truthy(const char *v)
{
    return v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") || !strcasecmp(v, "yes") ||
                 !strcasecmp(v, "true"));
}

static bool assign_truthy(char **as, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++)
        if (!strncmp(as[i], name, nl) && as[i][nl] == '=' && truthy(as[i] + nl + 1))
            return true;
    return false;
}

static bool is_shell_name(const char *n)
{
    return !strcmp(n, "sh") || !strcmp(n, "bash") || !strcmp(n, "ash") || !strcmp(n, "dash") ||
           !strcmp(n, "zsh") || !strcmp(n, "ksh") || !strncmp(n, "python", 6) ||
           !strcmp(n, "perl") || !strcmp(n, "ruby") || !strcmp(n, "node");
}

static char *shell_quote_join(char **argv, size_t n)
{
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            mm_buf_addc(&b, ' ');
        mm_buf_addc(&b, '\'');
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'')
                mm_buf_adds(&b, "'\\''");
            else
                mm_buf_addc(&b, *c);
        }
        mm_buf_addc(&b, '\'');
    }
    return mm_buf_detach(&b);
}

/* the script a shell runs for this RUN */
static char *run_text(const mm_df_instr *in)
{
    mm_buf text = MM_BUF_INIT;
    if (in->exec_form) {
        if (in->nargv >= 3) {
            const char *n = strrchr(in->argv[0], '/');
            n = n ? n + 1 : in->argv[0];
            if (is_shell_name(n) && in->argv[1][0] == '-' && strchr(in->argv[1], 'c')) {
                mm_buf_adds(&text, in->argv[in->nargv - 1]);
                return mm_buf_detach(&text);
            }
        }
        char *j = shell_quote_join(in->argv, in->nargv);
        mm_buf_adds(&text, j);
        free(j);
        return mm_buf_detach(&text);
    }
    if (!in->nargv)
        return mm_buf_detach(&text);
    mm_buf_adds(&text, in->argv[0]);
    const char *cmd = in->argv[0];
    while (*cmd == ' ')
        cmd++;
    mm_sh_script first;
    mm_sh_parse(&first, cmd);
    bool body_is_script = mm_str_startswith(cmd, "<<") ||
                          (first.n && is_shell_name(mm_sh_name(&first.cmds[0])) &&
                           strncmp(mm_sh_name(&first.cmds[0]), "python", 6) &&
                           strcmp(mm_sh_name(&first.cmds[0]), "node"));
    mm_sh_free(&first);
    for (size_t h = 0; body_is_script && h < in->nheredocs; h++) {
        mm_buf_addc(&text, '\n');
        mm_buf_adds(&text, in->heredocs[h].body);
    }
    return mm_buf_detach(&text);
}

/* a table of the BuildKit cache-mount rules (DL3069 - DL3077) */
typedef struct cache_rule {
    int rule;
    const char *cmd;               /* command name */
    const char *const *subs;       /* any of these arguments; NULL: any use */
    const char *frag1, *frag2;     /* a cache/tmpfs mount target containing one */
    const char *frag_both_a, *frag_both_b; /* or both of these */
} cache_rule;

static const char *const cargo_s[] = {"build", "install", "fetch", "test", "check", "clippy", NULL};
static const char *const go_s[] = {"build", "get", "install", "test", "mod", NULL};
static const char *const mvn_s[] = {"install", "compile", "package", "test", "verify", "deploy",
                                    "dependency:resolve", NULL};
static const char *const composer_s[] = {"install", "update", "require", NULL};
static const char *const dotnet_s[] = {"restore", "build", "publish", "test", NULL};
static const char *const nuget_s[] = {"restore", NULL};
static const char *const pnpm_s[] = {"install", "add", "fetch", "i", NULL};
static const char *const mix_s[] = {"deps.get", "deps.compile", "compile", NULL};
static const char *const gem_s[] = {"install", NULL};
static const char *const bundle_s[] = {"install", "update", NULL};

static const cache_rule cache_rules[] = {
    {R_CACHE_CARGO, "cargo", cargo_s, ".cargo", NULL, ".cargo/registry", ".cargo/git"},
    {R_CACHE_GO, "go", go_s, ".cache/go-build", "go/pkg/mod", NULL, NULL},
    {R_CACHE_MAVEN, "mvn", mvn_s, ".m2", NULL, NULL, NULL},
    {R_CACHE_GRADLE, "gradle", NULL, ".gradle", NULL, NULL, NULL},
    {R_CACHE_GRADLE, "gradlew", NULL, ".gradle", NULL, NULL, NULL},
    {R_CACHE_COMPOSER, "composer", composer_s, ".composer/cache", NULL, NULL, NULL},
    {R_CACHE_NUGET, "dotnet", dotnet_s, ".nuget/packages", NULL, NULL, NULL},
    {R_CACHE_NUGET, "nuget", nuget_s, ".nuget/packages", NULL, NULL, NULL},
    {R_CACHE_PNPM, "pnpm", pnpm_s, "pnpm", NULL, NULL, NULL},
    {R_CACHE_MIX, "mix", mix_s, ".hex", ".mix", NULL, NULL},
    {R_CACHE_GEM, "gem", gem_s, ".gem", "bundle", NULL, NULL},
    {R_CACHE_GEM, "bundle", bundle_s, ".gem", "bundle", NULL, NULL},
};

static bool cache_mounted(const mm_df_instr *in, const cache_rule *cr)
{
    if (cr->frag1 && dfl_mount_with(in, cr->frag1, false))
        return true;
    if (cr->frag2 && dfl_mount_with(in, cr->frag2, false))
        return true;
    return cr->frag_both_a && dfl_mount_with(in, cr->frag_both_a, false) &&
           dfl_mount_with(in, cr->frag_both_b, false);
}

static const char *const bad_cmds[] = {"free", "kill", "mount", "ps", "service", "shutdown",
                                       "ssh", "top", "vim", "ifconfig", NULL};

/* flags of a RUN as one string, for DL3059 */
static char *flags_key(const mm_df_instr *in)
{
    mm_buf b = MM_BUF_INIT;
    for (size_t i = 0; i < in->nrawflags; i++) {
        mm_buf_adds(&b, in->rawflags[i]);
        mm_buf_addc(&b, '\n');
    }
    return mm_buf_detach(&b);
}

/* is c pip installing packages?  *from is the index after "install" */
static bool pip_install(const mm_sh_cmd *c, size_t *from)
{
    const char *n = mm_sh_name(c);
    size_t s0 = 0;
    if (!strncmp(n, "pip", 3)) {
        for (const char *d = n + 3; *d; d++)
            if (!isdigit((unsigned char)*d) && *d != '.')
                return false;
        s0 = 1;
    } else if (!strncmp(n, "python", 6)) {
        size_t i = 1;
        while (i < c->argc && c->argv[i][0] == '-' && strcmp(c->argv[i], "-m"))
            i++;
        if (i + 1 >= c->argc || strcmp(c->argv[i], "-m") || strncmp(c->argv[i + 1], "pip", 3) ||
            (c->argv[i + 1][3] && !isdigit((unsigned char)c->argv[i + 1][3])))
            return false;
        s0 = i + 2;
    } else {
        return false;
    }
    size_t s = subcmd(c, s0, dfl_pip_vo);
    if (s >= c->argc || strcmp(c->argv[s], "install"))
        return false;
    *from = s + 1;
    return true;
}

/* the base name of a path, Windows separators too, quotes dropped */
static char *base_of(const char *w)
{
    char *u = dfl_unquote(w);
    const char *b = u;
    for (const char *c = u; *c; c++)
        if (*c == '/' || *c == '\\')
            b = c + 1;
    char *r = mm_xstrdup(b);
    free(u);
    return r;
}

/* DL3010: an archive copied in with COPY and extracted here */
static void check_extract(lint *L, dfl_pass *ps, const mm_sh_cmd *c)
{
    static const char *const unz[] = {"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz",
                                      "uncompress", "zcat", "gzcat", NULL};
    const char *n = mm_sh_name(c);
    bool ex = in_list(n, unz);
    if (!strcmp(n, "tar"))
        for (size_t k = 1; k < c->argc; k++) {
            const char *a = c->argv[k];
            if (!strcmp(a, "--extract") || !strcmp(a, "--get") ||
                (a[0] == '-' && strchr(a, 'x')) || (k == 1 && a[0] != '-' && strchr(a, 'x')))
                ex = true;
        }
    if (!ex || !ps->narchives)
        return;
    for (size_t k = 1; k < c->argc; k++) {
        if (c->argv[k][0] == '-')
            continue;
        char *b = base_of(c->argv[k]);
        for (size_t a = 0; a < ps->narchives; a++) {
            if (!ps->archives[a] || strcmp(ps->archives[a], b))
                continue;
            dfl_emit(L, R_COPY_EXTRACT, ps->archive_in[a], "%s is extracted by a later RUN", b);
            free(ps->archives[a]);
            ps->archives[a] = NULL;
        }
        free(b);
    }
}

void dfl_lint_run(lint *L, dfl_pass *ps, const mm_df_instr *in)
{
    const mm_dockerfile *df = L->df;
    char *text = run_text(in);
    mm_sh_script sc;
    mm_sh_parse(&sc, text);
    int stage = ps->onbuild ? -1 : in->stage;

    /* DL3059: consecutive RUNs with the same flags and one command each */
    char *fk = flags_key(in);
    if (ps->prev_run && ps->prev_flags && !strcmp(ps->prev_flags, fk) && sc.n <= 1 &&
        ps->prev_count <= 1)
        dfl_emit(L, R_CONSECUTIVE_RUN, in, "a RUN right after a RUN");
    ps->prev_run = true;
    free(ps->prev_flags);
    ps->prev_flags = fk;
    ps->prev_count = sc.n;

    bool pipefail = ps->shell_pipefail || !ps->shell_posix || in->exec_form;
    bool stage_ships = ps->onbuild ||
                       (stage < 0 ? df->nstages == 0
                                  : (size_t)stage + 1 == df->nstages || L->stage_used[stage]);
    bool apt_update = false, apt_listclean = false, apk_update = false, apk_add = false;
    bool apt_install_any = false;
    bool saw_pipe = false, saw_curl = false, yum_clean = false, zypper_clean = false;
    bool dnf_clean = false, microdnf_clean = false, yarn_clean = false, pip_env = false;
    bool wants_yum_clean = false, wants_zypper_clean = false, wants_dnf = false,
         wants_microdnf = false, wants_yarn_clean = false, wants_pip_cache = false;
    mm_buf apt_un = MM_BUF_INIT, apk_un = MM_BUF_INIT, pip_un = MM_BUF_INIT,
           npm_un = MM_BUF_INIT, gem_un = MM_BUF_INIT, yum_un = MM_BUF_INIT,
           zyp_un = MM_BUF_INIT, dnf_un = MM_BUF_INIT, go_un = MM_BUF_INIT,
           pecl_un = MM_BUF_INIT;
    bool apt_norec = false, apt_noyes = false, apk_nocache = false, apk_clean = false;
    bool upgrade = false;
    const char *upgrade_cmd = "";
    bool fire[R__N];
    memset(fire, 0, sizeof fire);

    for (size_t i = 0; i < sc.n; i++) {
        const mm_sh_cmd *c = &sc.cmds[i];
        const char *n = mm_sh_name(c);
        check_extract(L, ps, c);
        if (!strcmp(n, "set") && mm_sh_has(c, "pipefail"))
            pipefail = true;
        if (c->pipe_out && !pipefail)
            saw_pipe = true;
        if (!strcmp(n, "sudo"))
            fire[R_SUDO] = true;
        if (!strcmp(n, "cd"))
            fire[R_CD] = true;
        if (in_list(n, bad_cmds))
            fire[R_BAD_CMD] = true;
        if (!strcmp(n, "apt"))
            fire[R_APT_CMD] = true;
        if (!strcmp(n, "curl") || !strcmp(n, "wget")) {
            unsigned bit = !strcmp(n, "curl") ? 1u : 2u;
            ps->curl_wget |= bit;
            if (ps->curl_wget == 3u)
                fire[R_CURL_AND_WGET] = true;
        }
        if (!strcmp(n, "export") && assign_truthy(c->argv + 1, c->argc - 1, "PIP_NO_CACHE_DIR"))
            pip_env = true;
        /* downloads run by a shell */
        if ((!strcmp(n, "curl") || !strcmp(n, "wget")) && c->pipe_out && i + 1 < sc.n) {
            const mm_sh_cmd *nx = &sc.cmds[i + 1];
            const char *nn = mm_sh_name(nx);
            if (!strcmp(nn, "sudo") && nx->argc > 1) {
                const char *s = strrchr(nx->argv[1], '/');
                nn = s ? s + 1 : nx->argv[1];
            }
            if (is_shell_name(nn))
                saw_curl = true;
        }
        if (is_shell_name(n))
            for (size_t k = 1; k < c->argc; k++)
                if (strstr(c->argv[k], "$(curl") || strstr(c->argv[k], "$(wget") ||
                    strstr(c->argv[k], "`curl") || strstr(c->argv[k], "`wget"))
                    saw_curl = true;
        if (!strcmp(n, "rm")) {
            bool rec = false;
            for (size_t k = 1; k < c->argc; k++)
                if (c->argv[k][0] == '-' && (strchr(c->argv[k], 'r') || strchr(c->argv[k], 'R')))
                    rec = true;
            if (rec && mm_sh_has_prefix(c, "/var/lib/apt/lists"))
                apt_listclean = true;
            if (mm_sh_has_prefix(c, "/var/cache/apk"))
                apk_clean = true;
            if (rec && mm_sh_has_prefix(c, "/var/cache/yum"))
                yum_clean = dnf_clean = microdnf_clean = true;
        }
        if (!strcmp(n, "ln") && has_word(c, "/bin/sh"))
            fire[R_LN_SH] = true;
        if (!strcmp(n, "useradd")) {
            bool l = hflag(c, "l") || hflag(c, "no-log-init");
            for (size_t k = 1; k + 1 < c->argc && !l; k++)
                if ((!strcmp(c->argv[k], "-u") || !strcmp(c->argv[k], "--uid")) &&
                    strlen(c->argv[k + 1]) > 5)
                    fire[R_USERADD_UID] = true;
            for (size_t k = 1; k < c->argc && !l; k++)
                if (mm_str_startswith(c->argv[k], "--uid=") && strlen(c->argv[k]) - 6 > 5)
                    fire[R_USERADD_UID] = true;
        }
        if (!strcmp(n, "wget") && !hflag(c, "progress") && !hflag(c, "q") &&
            !hflag(c, "quiet") && !hflag(c, "o") && !hflag(c, "output-file") &&
            !hflag(c, "a") && !hflag(c, "append-output") && !hflag(c, "no-verbose") &&
            !has_word(c, "-nv"))
            fire[R_WGET_PROGRESS] = true;

        if (!strcmp(n, "apt-get") || !strcmp(n, "apt")) {
            size_t s = subcmd(c, 1, dfl_apt_vo);
            const char *sub = s < c->argc ? c->argv[s] : "";
            if (!strcmp(sub, "update")) {
                apt_update = true;
            } else if (!strcmp(sub, "install")) {
                apt_install_any = true;
                const char *ops[512];
                size_t no = operands(c, s + 1, dfl_apt_vo, false, ops, 512);
                for (size_t k = 0; k < no; k++)
                    if (!has_var(ops[k]) && !dfl_pin_apt(ops[k]))
                        add_word(&apt_un, ops[k]);
                if (!strcmp(n, "apt-get")) {
                    bool norec = hflag(c, "no-install-recommends");
                    for (size_t k = 1; k < c->argc; k++)
                        if (strstr(c->argv[k], "Install-Recommends=false") ||
                            strstr(c->argv[k], "Install-Recommends=0"))
                            norec = true;
                    if (!norec)
                        apt_norec = true;
                    int quiet = 0;
                    bool yes = hflag(c, "y") || hflag(c, "yes") || hflag(c, "assume-yes");
                    for (size_t k = 1; k < c->argc; k++) {
                        const char *a = c->argv[k];
                        if (!strcmp(a, "--quiet"))
                            quiet++;
                        else if (mm_str_startswith(a, "--quiet="))
                            quiet += atoi(a + 8);
                        else if (mm_str_startswith(a, "-q="))
                            quiet += atoi(a + 3);
                        else if (a[0] == '-' && a[1] != '-')
                            for (const char *q = a + 1; *q && *q != '='; q++)
                                quiet += *q == 'q';
                        if (strstr(a, "Assume-Yes=true") || strstr(a, "Assume-Yes=1"))
                            yes = true;
                    }
                    if (!yes && quiet < 2)
                        apt_noyes = true;
                }
            } else if (!strcmp(sub, "upgrade") || !strcmp(sub, "dist-upgrade") ||
                       !strcmp(sub, "full-upgrade")) {
                upgrade = true;
                upgrade_cmd = "apt-get upgrade";
            }
        } else if (!strcmp(n, "apk")) {
            size_t s = subcmd(c, 1, dfl_apk_vo);
            const char *sub = s < c->argc ? c->argv[s] : "";
            if (!strcmp(sub, "update")) {
                apk_update = true;
            } else if (!strcmp(sub, "add")) {
                apk_add = true;
                const char *ops[512];
                size_t no = operands(c, s + 1, dfl_apk_vo, false, ops, 512);
                for (size_t k = 0; k < no; k++)
                    if (!has_var(ops[k]) && !dfl_pin_apk(ops[k]) && ops[k][0] != '!')
                        add_word(&apk_un, ops[k]);
                if (!hflag(c, "no-cache"))
                    apk_nocache = true;
            } else if (!strcmp(sub, "upgrade")) {
                upgrade = true;
                upgrade_cmd = "apk upgrade";
            }
        } else if (!strcmp(n, "npm")) {
            size_t s = subcmd(c, 1, dfl_npm_vo);
            if (s < c->argc && !strcmp(c->argv[s], "install")) {
                const char *ops[512];
                size_t no = operands(c, s + 1, dfl_npm_vo, false, ops, 512);
                for (size_t k = 0; k < no; k++)
                    if (!has_var(ops[k]) && !dfl_pin_npm(ops[k]))
                        add_word(&npm_un, ops[k]);
            }
        } else if (!strcmp(n, "gem")) {
            size_t s = subcmd(c, 1, dfl_gem_vo);
            if (s < c->argc && (!strcmp(c->argv[s], "install") || !strcmp(c->argv[s], "i")) &&
                !hflag(c, "version") && !has_word(c, "-v")) {
                for (size_t k = s + 1; k < c->argc; k++) {
                    const char *a = c->argv[k];
                    if (!strcmp(a, "--"))
                        break;
                    if (a[0] == '-') {
                        if (!strchr(a, '=') && in_list(a, dfl_gem_vo))
                            k++;
                        else if (a[1] == '-' && !strchr(a, '=') && k + 1 < c->argc &&
                                 (!strcmp(c->argv[k + 1], "true") ||
                                  !strcmp(c->argv[k + 1], "false")))
                            k++; /* "--use-system-libraries true" */
                        continue;
                    }
                    if (!has_var(a) && !strchr(a, ':') && !mm_str_endswith(a, ".gem"))
                        add_word(&gem_un, a);
                }
            }
        } else if (!strcmp(n, "yum")) {
            static const char *const inst[] = {"install", "groupinstall", "localinstall", NULL};
            if (cmd_has(c, "yum", inst) && !hflag(c, "y") && !hflag(c, "assumeyes"))
                fire[R_YUM_YES] = true;
            size_t s = subcmd(c, 1, dfl_rpm_vo);
            bool module = s < c->argc && !strcmp(c->argv[s], "module");
            if (module)
                s = subcmd(c, s + 1, dfl_rpm_vo);
            if (s < c->argc && !strcmp(c->argv[s], "install")) {
                wants_yum_clean = true;
                const char *ops[512];
                size_t no = operands(c, s + 1, dfl_rpm_vo, false, ops, 512);
                for (size_t k = 0; k < no; k++)
                    if (!has_var(ops[k]) && !(module ? strchr(ops[k], ':') != NULL
                                                     : dfl_pin_rpm(ops[k])))
                        add_word(&yum_un, ops[k]);
            }
            if (mm_sh_has(c, "clean") && mm_sh_has(c, "all"))
                yum_clean = true;
        } else if (!strcmp(n, "dnf") || !strcmp(n, "microdnf")) {
            bool micro = !strcmp(n, "microdnf");
            static const char *const inst[] = {"install", "groupinstall", "localinstall", NULL};
            if (cmd_has(c, n, inst) && !hflag(c, "y") && !hflag(c, "assumeyes"))
                fire[R_DNF_YES] = true;
            size_t s = subcmd(c, 1, dfl_rpm_vo);
            bool module = s < c->argc && !strcmp(c->argv[s], "module");
            bool group = s < c->argc && !strcmp(c->argv[s], "group");
            if (module || group)
                s = subcmd(c, s + 1, dfl_rpm_vo);
            if (s < c->argc && !strcmp(c->argv[s], "install")) {
                if (micro)
                    wants_microdnf = true;
                else
                    wants_dnf = true;
                const char *ops[512];
                size_t no = group ? 0 : operands(c, s + 1, dfl_rpm_vo, false, ops, 512);
                for (size_t k = 0; k < no; k++) {
                    const char *a = ops[k];
                    bool pinned;
                    if (module)
                        pinned = strchr(a, ':') != NULL;
                    else if (has_var(a))
                        pinned = true; /* a version in a variable */
                    else
                        pinned = dfl_pin_rpm(a);
                    if (!pinned)
                        add_word(&dnf_un, a);
                }
            }
            if (mm_sh_has(c, "clean") && mm_sh_has(c, "all")) {
                if (micro)
                    microdnf_clean = true;
                else
                    dnf_clean = true;
            }
        } else if (!strcmp(n, "zypper")) {
            static const char *const yes_subs[] = {"install", "in", "remove", "rm",
                                                   "source-install", "si", "patch", NULL};
            if (cmd_has(c, "zypper", yes_subs) && !hflag(c, "n") && !hflag(c, "y") &&
                !hflag(c, "non-interactive") && !hflag(c, "no-confirm"))
                fire[R_ZYPPER_YES] = true;
            static const char *const dup[] = {"dist-upgrade", "dup", NULL};
            if (cmd_has(c, "zypper", dup))
                fire[R_ZYPPER_DUP] = true;
            size_t s = subcmd(c, 1, dfl_zypper_vo);
            const char *sub = s < c->argc ? c->argv[s] : "";
            if (!strcmp(sub, "install") || !strcmp(sub, "in")) {
                wants_zypper_clean = true;
                const char *ops[512];
                size_t no = operands(c, s + 1, dfl_zypper_vo, false, ops, 512);
                for (size_t k = 0; k < no; k++)
                    if (!has_var(ops[k]) && !dfl_pin_zypper(ops[k]))
                        add_word(&zyp_un, ops[k]);
            }
            if (!strcmp(sub, "clean") || !strcmp(sub, "cc"))
                zypper_clean = true;
        } else if (!strcmp(n, "yarn")) {
            if (mm_sh_has(c, "install"))
                wants_yarn_clean = true;
            if (mm_sh_has(c, "cache") && mm_sh_has(c, "clean"))
                yarn_clean = true;
        } else if (!strcmp(n, "go")) {
            size_t s = subcmd(c, 1, dfl_go_vo);
            const char *sub = s < c->argc ? c->argv[s] : "";
            bool run = !strcmp(sub, "run");
            if (run || !strcmp(sub, "install") || !strcmp(sub, "get")) {
                for (size_t k = s + 1; k < c->argc; k++) {
                    const char *a = c->argv[k];
                    if (a[0] == '-') {
                        if (!strchr(a, '=') && in_list(a, dfl_go_vo))
                            k++;
                        continue;
                    }
                    if (!strcmp(a, "tool"))
                        continue;
                    bool local = a[0] == '/' || a[0] == '.' || has_var(a);
                    const char *at = strrchr(a, '@');
                    bool pinned = local || (at && at[1] && strcmp(at + 1, "latest"));
                    if (!pinned)
                        add_word(&go_un, a);
                    if (run)
                        break; /* the rest are the program's arguments */
                }
            }
        } else if (!strcmp(n, "pecl")) {
            size_t s = subcmd(c, 1, NULL);
            if (s < c->argc && !strcmp(c->argv[s], "install")) {
                const char *ops[512];
                size_t no = operands(c, s + 1, NULL, false, ops, 512);
                for (size_t k = 0; k < no; k++)
                    if (!has_var(ops[k]) && !dfl_pin_pecl(ops[k]))
                        add_word(&pecl_un, ops[k]);
            }
        } else {
            size_t from;
            if (pip_install(c, &from)) {
                bool skip = false;
                for (size_t k = from; k < c->argc; k++) {
                    const char *a = c->argv[k];
                    if (!strcmp(a, "-r") || !strcmp(a, "--requirement") || !strcmp(a, ".") ||
                        mm_str_startswith(a, "--requirement=") || !strcmp(a, "-c") ||
                        !strcmp(a, "--constraint") || mm_str_startswith(a, "--constraint=") ||
                        mm_str_startswith(a, "-r") || mm_str_startswith(a, "-c"))
                        skip = true;
                }
                if (!skip) {
                    const char *ops[512];
                    size_t no = operands(c, from, dfl_pip_vo, false, ops, 512);
                    for (size_t k = 0; k < no; k++)
                        if (!has_var(ops[k]) && !dfl_pin_pip(ops[k]))
                            add_word(&pip_un, ops[k]);
                }
                if (!has_word(c, "--no-cache-dir") &&
                    !assign_truthy(c->assigns, c->nassigns, "PIP_NO_CACHE_DIR"))
                    wants_pip_cache = true;
            }
        }
        for (size_t k = 0; k < sizeof cache_rules / sizeof cache_rules[0]; k++) {
            const cache_rule *cr = &cache_rules[k];
            if (strcmp(n, cr->cmd))
                continue;
            bool use = !cr->subs;
            for (size_t a = 1; a < c->argc && !use; a++)
                use = in_list(c->argv[a], cr->subs);
            if (use && !cache_mounted(in, cr))
                fire[cr->rule] = true;
        }
    }
    if (!in->exec_form && (strstr(text, "<(curl") || strstr(text, "<(wget")))
        saw_curl = true;

    if (apt_un.len)
        dfl_emit(L, R_APT_PIN, in, "unpinned: %s", apt_un.data);
    if (apk_un.len)
        dfl_emit(L, R_APK_PIN, in, "unpinned: %s", apk_un.data);
    if (pip_un.len)
        dfl_emit(L, R_PIP_PIN, in, "unpinned: %s", pip_un.data);
    if (npm_un.len)
        dfl_emit(L, R_NPM_PIN, in, "unpinned: %s", npm_un.data);
    if (gem_un.len)
        dfl_emit(L, R_GEM_PIN, in, "unpinned: %s", gem_un.data);
    if (yum_un.len)
        dfl_emit(L, R_YUM_PIN, in, "unpinned: %s", yum_un.data);
    if (dnf_un.len)
        dfl_emit(L, R_DNF_PIN, in, "unpinned: %s", dnf_un.data);
    if (zyp_un.len)
        dfl_emit(L, R_ZYPPER_PIN, in, "unpinned: %s", zyp_un.data);
    if (go_un.len)
        dfl_emit(L, R_GO_PIN, in, "unpinned: %s", go_un.data);
    if (pecl_un.len)
        dfl_emit(L, R_PECL_PIN, in, "unpinned: %s", pecl_un.data);
    if (apt_norec)
        dfl_emit(L, R_APT_RECOMMENDS, in, "apt-get install without --no-install-recommends");
    if (apt_noyes)
        dfl_emit(L, R_APT_YES, in, "apt-get install without -y");
    if (apt_update && !apt_listclean && stage_ships &&
        !dfl_mount_with(in, "/var/lib/apt/lists", false) &&
        !(dfl_mount_with(in, "/var/lib/apt", false) && dfl_mount_with(in, "/var/cache/apt", false)))
        dfl_emit(L, R_APT_LISTS, in, "no rm -rf /var/lib/apt/lists/* in this RUN");
    if (apk_nocache && !apk_clean && !dfl_mount_with(in, "/var/cache/apk", false))
        dfl_emit(L, R_APK_CACHE, in, "apk add without --no-cache");
    if (wants_pip_cache && !pip_env && !ps->pip_no_cache &&
        !dfl_mount_with(in, ".cache/pip", false))
        dfl_emit(L, R_PIP_CACHE, in, "pip install without --no-cache-dir");
    if (wants_yum_clean && !yum_clean && !dfl_mount_with(in, "/var/cache/yum", false))
        dfl_emit(L, R_YUM_CLEAN, in, "no yum clean all in this RUN");
    if (wants_zypper_clean && !zypper_clean && !dfl_mount_with(in, "/var/cache/zypp", false))
        dfl_emit(L, R_ZYPPER_CLEAN, in, "no zypper clean in this RUN");
    if (((wants_dnf && !dnf_clean) || (wants_microdnf && !microdnf_clean)) &&
        !dfl_mount_with(in, "/var/cache/dnf", false) && !dfl_mount_with(in, "libdnf5", false) &&
        !dfl_mount_with(in, "/var/cache/yum", false))
        dfl_emit(L, R_DNF_CLEAN, in, "no dnf clean all in this RUN");
    if (wants_yarn_clean && !yarn_clean && stage_ships && !dfl_mount_with(in, "yarn", false))
        dfl_emit(L, R_YARN_CLEAN, in, "no yarn cache clean in this RUN");
    if (saw_curl)
        dfl_emit(L, R_CURL_PIPE, in, "a download is run by a shell without verification");
    if (saw_pipe)
        dfl_emit(L, R_PIPEFAIL, in, "a pipe without pipefail");
    if (upgrade)
        dfl_emit(L, R_UPGRADE, in, "%s", upgrade_cmd);
    if ((apt_update && !apt_install_any) || (apk_update && !apk_add))
        dfl_emit(L, R_UPDATE_ALONE, in, "%s without an install in the same RUN",
                 apt_update ? "apt-get update" : "apk update");
    static const struct { int rule; const char *ev; } simple[] = {
        {R_SUDO, "sudo"}, {R_CD, "cd"}, {R_BAD_CMD, "an interactive or system command"},
        {R_APT_CMD, "apt"}, {R_CURL_AND_WGET, "curl and wget in one stage"},
        {R_LN_SH, "ln ... /bin/sh"}, {R_USERADD_UID, "useradd -u with a long UID, no -l"},
        {R_WGET_PROGRESS, "wget without --progress"}, {R_YUM_YES, "yum install without -y"},
        {R_DNF_YES, "dnf install without -y"}, {R_ZYPPER_YES, "zypper without -y/-n"},
        {R_ZYPPER_DUP, "zypper dist-upgrade"},
        {R_CACHE_CARGO, "cargo"}, {R_CACHE_GO, "go"}, {R_CACHE_MAVEN, "mvn"},
        {R_CACHE_GRADLE, "gradle"}, {R_CACHE_COMPOSER, "composer"}, {R_CACHE_NUGET, "dotnet"},
        {R_CACHE_PNPM, "pnpm"}, {R_CACHE_MIX, "mix"}, {R_CACHE_GEM, "gem/bundle"},
    };
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++)
        if (fire[simple[k].rule])
            dfl_emit(L, simple[k].rule, in, "%s", simple[k].ev);

    /* RUN --mount=...,from=IMAGE: an image pulled past allowed-registries */
    for (size_t i = 0; L->o && L->o->nallowed_registries && i < in->nflags; i++) {
        const char *f = in->flags[i];
        if (!mm_str_startswith(f, "--mount="))
            continue;
        const char *fr = strstr(f, ",from=");
        if (!fr && mm_str_startswith(f, "--mount=from="))
            fr = f + 7;
        if (!fr)
            continue;
        char *ref = mm_xstrndup(fr + 6, strcspn(fr + 6, ","));
        dfl_check_foreign_image(L, in, ref, "RUN --mount from");
        free(ref);
    }

    mm_buf *bufs[] = {&apt_un, &apk_un, &pip_un, &npm_un, &gem_un, &yum_un, &zyp_un, &dnf_un,
                      &go_un, &pecl_un};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        mm_buf_free(bufs[k]);
    mm_sh_free(&sc);
    free(text);
}
