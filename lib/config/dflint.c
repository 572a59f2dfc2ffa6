/*
 * config/dflint.c - the Dockerfile rules: one pass over the parsed
 * instructions, with the RUN commands split into simple commands by the
 * shell splitter, producing one finding per violation (file, line, rule
 * id).  Each rule names its hadolint / Dockle / CIS Docker Benchmark
 * equivalent (docs/misconfig.md), and `# hadolint ignore=DLxxxx` is
 * honoured for the rules that have one.
 *
 * Rules about what the final image ships (cache left behind, the last
 * USER, HEALTHCHECK) look only at the "shipping" stages: the last stage
 * and the stages it is built FROM.  Intermediate build stages leave no
 * trace in the image.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "mamori/dockerfile.h"
#include "config/config_int.h"
#include "util/util.h"

enum {
    R_APT_PIN, R_APK_PIN, R_PIP_PIN, R_NPM_PIN, R_GEM_PIN, R_APT_RECOMMENDS,
    R_APT_LISTS, R_APK_CACHE, R_PIP_CACHE, R_SUDO, R_USER_ROOT, R_ADD_LOCAL,
    R_CURL_PIPE, R_WORKDIR_REL, R_MULTI_CMD, R_MULTI_ENTRYPOINT, R_FROM_UNTAGGED,
    R_FROM_LATEST, R_REGISTRY, R_PIPEFAIL, R_SECRET_NAME, R_UPGRADE, R_CD,
    R_MAINTAINER, R_EXPOSE_SSH, R_UPDATE_ALONE, R_NO_HEALTHCHECK, R_NO_USER,
    R_ADD_URL, R__N
};

static const mm_dflint_rule rules[R__N] = {
    [R_APT_PIN] = {"MM-DF-001", "DL3008", NULL, MM_SEV_LOW,
        "apt-get install without pinned package versions",
        "Pin versions (apt-get install pkg=1.2.3-1) so that rebuilds install what was tested."},
    [R_APK_PIN] = {"MM-DF-002", "DL3018", NULL, MM_SEV_LOW,
        "apk add without pinned package versions",
        "Pin versions (apk add pkg=1.2.3-r0)."},
    [R_PIP_PIN] = {"MM-DF-003", "DL3013", NULL, MM_SEV_LOW,
        "pip install without pinned package versions",
        "Pin versions (pip install pkg==1.2.3) or install from a requirements file with pins "
        "and hashes."},
    [R_NPM_PIN] = {"MM-DF-004", "DL3016", NULL, MM_SEV_LOW,
        "npm install without pinned package versions",
        "Pin versions (npm install pkg@1.2.3) or use npm ci with a lock file."},
    [R_GEM_PIN] = {"MM-DF-005", "DL3028", NULL, MM_SEV_LOW,
        "gem install without pinned versions",
        "Pin versions (gem install pkg:1.2.3 or -v 1.2.3)."},
    [R_APT_RECOMMENDS] = {"MM-DF-006", "DL3015", NULL, MM_SEV_LOW,
        "apt-get install without --no-install-recommends",
        "Add --no-install-recommends: recommended packages widen the attack surface and the "
        "image."},
    [R_APT_LISTS] = {"MM-DF-007", "DL3009", "Dockle DKL-DI-0005", MM_SEV_LOW,
        "apt lists not removed after apt-get in the same RUN",
        "End the RUN with rm -rf /var/lib/apt/lists/* (or use a cache mount)."},
    [R_APK_CACHE] = {"MM-DF-008", "DL3019", "Dockle DKL-DI-0005", MM_SEV_LOW,
        "apk add without --no-cache",
        "Use apk add --no-cache (or remove /var/cache/apk/* in the same RUN)."},
    [R_PIP_CACHE] = {"MM-DF-009", "DL3042", NULL, MM_SEV_LOW,
        "pip install without --no-cache-dir",
        "Use pip install --no-cache-dir or set ENV PIP_NO_CACHE_DIR=1."},
    [R_SUDO] = {"MM-DF-010", "DL3004", NULL, MM_SEV_MEDIUM,
        "sudo used in RUN",
        "RUN already runs as the build user; switch with USER instead of sudo, and do not ship "
        "sudo."},
    [R_USER_ROOT] = {"MM-DF-011", "DL3002", "CIS 4.1; Dockle CIS-DI-0001", MM_SEV_MEDIUM,
        "the last USER is root",
        "End the final stage with USER set to an unprivileged user (USER 10001)."},
    [R_ADD_LOCAL] = {"MM-DF-012", "DL3020", "CIS 4.9; Dockle CIS-DI-0009", MM_SEV_LOW,
        "ADD used for local files or folders",
        "Use COPY for files and folders; ADD only for local tar archives to extract."},
    [R_CURL_PIPE] = {"MM-DF-013", NULL, "SP 800-190 3.1.2", MM_SEV_HIGH,
        "a download piped into a shell (curl | sh)",
        "Download to a file, verify its checksum or signature, then run it."},
    [R_WORKDIR_REL] = {"MM-DF-014", "DL3000", NULL, MM_SEV_LOW,
        "WORKDIR is not an absolute path",
        "Use an absolute WORKDIR."},
    [R_MULTI_CMD] = {"MM-DF-015", "DL4003", "Docker check MultipleInstructionsDisallowed",
        MM_SEV_LOW, "more than one CMD in a stage",
        "Keep one CMD per stage: only the last one takes effect."},
    [R_MULTI_ENTRYPOINT] = {"MM-DF-016", "DL4004", "Docker check MultipleInstructionsDisallowed",
        MM_SEV_LOW, "more than one ENTRYPOINT in a stage",
        "Keep one ENTRYPOINT per stage: only the last one takes effect."},
    [R_FROM_UNTAGGED] = {"MM-DF-017", "DL3006", "CIS 4.2", MM_SEV_MEDIUM,
        "base image without a tag or digest",
        "Name the base image with a tag, better a digest (image:1.2@sha256:...)."},
    [R_FROM_LATEST] = {"MM-DF-018", "DL3007", "CIS 4.2; Dockle DKL-DI-0006", MM_SEV_MEDIUM,
        "base image tagged latest",
        "Use a fixed version tag or a digest instead of latest."},
    [R_REGISTRY] = {"MM-DF-019", "DL3026", "CIS 4.2", MM_SEV_HIGH,
        "base image from a registry that is not allowed",
        "Pull base images only from the allowed registries (allowed-registries)."},
    [R_PIPEFAIL] = {"MM-DF-020", "DL4006", NULL, MM_SEV_LOW,
        "RUN with a pipe but without set -o pipefail",
        "Set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] (or set -o pipefail in the RUN) "
        "so that a failing command before a pipe fails the build."},
    [R_SECRET_NAME] = {"MM-DF-021", NULL,
        "CIS 4.10; Dockle CIS-DI-0010; Docker check SecretsUsedInArgOrEnv", MM_SEV_HIGH,
        "credential in ARG or ENV",
        "Pass secrets with RUN --mount=type=secret; ARG and ENV values stay in the image "
        "config and history."},
    [R_UPGRADE] = {"MM-DF-022", "DL3005", "DL3017", MM_SEV_LOW,
        "package manager upgrade in RUN",
        "Do not upgrade all packages in a Dockerfile: use an updated base image, pin what you "
        "install."},
    [R_CD] = {"MM-DF-023", "DL3003", NULL, MM_SEV_LOW,
        "cd used in RUN",
        "Use WORKDIR to change directories."},
    [R_MAINTAINER] = {"MM-DF-024", "DL4000", "Docker check MaintainerDeprecated", MM_SEV_LOW,
        "MAINTAINER is deprecated",
        "Use LABEL org.opencontainers.image.authors=\"...\"."},
    [R_EXPOSE_SSH] = {"MM-DF-025", NULL, "SP 800-190 3.1.2", MM_SEV_MEDIUM,
        "remote shell port (22 ssh / 23 telnet) exposed",
        "Do not run ssh or telnet servers in containers; use docker exec / kubectl exec."},
    [R_UPDATE_ALONE] = {"MM-DF-026", NULL, "CIS 4.7; Dockle CIS-DI-0007", MM_SEV_LOW,
        "package index update alone in a RUN",
        "Update and install in one RUN (apt-get update && apt-get install ...) so that a "
        "cached update layer cannot serve stale indexes."},
    [R_NO_HEALTHCHECK] = {"MM-DF-027", NULL, "CIS 4.6; Dockle CIS-DI-0006", MM_SEV_LOW,
        "no HEALTHCHECK in the final image",
        "Add a HEALTHCHECK so that the orchestrator can detect a broken container."},
    [R_NO_USER] = {"MM-DF-028", NULL, "CIS 4.1; Dockle CIS-DI-0001", MM_SEV_LOW,
        "no USER in the final image: it runs as root unless the base image sets one",
        "Add USER with an unprivileged user to the final stage."},
    [R_ADD_URL] = {"MM-DF-029", NULL, "CIS 4.9", MM_SEV_MEDIUM,
        "ADD downloads a URL without --checksum",
        "Download with a verified checksum (ADD --checksum=sha256:... URL) or with curl and "
        "a checksum check."},
};

size_t mm_dflint_rule_count(void) { return R__N; }
const mm_dflint_rule *mm_dflint_rule_get(size_t i) { return i < R__N ? &rules[i] : NULL; }

void mm_dflint_opts_init(mm_dflint_opts *o)
{
    memset(o, 0, sizeof *o);
}

void mm_dflint_opts_free(mm_dflint_opts *o)
{
    if (!o)
        return;
    mm_strv_free(o->ignored, o->nignored);
    mm_strv_free(o->allowed_registries, o->nallowed_registries);
    for (size_t i = 0; i < o->noverrides; i++)
        free(o->overrides[i].id);
    free(o->overrides);
    memset(o, 0, sizeof *o);
}

/* --- the lint context ------------------------------------------------------- */
typedef struct lint {
    const mm_dockerfile *df;
    const mm_dflint_opts *o;
    mm_findings *out;
    bool *shipping;        /* per stage */
    const char *secret;    /* a value to mask in the quoted instruction */
    int rc;
} lint;

static bool id_match(const char *want, const mm_dflint_rule *r)
{
    return !strcasecmp(want, r->id) || (r->hadolint && !strcasecmp(want, r->hadolint)) ||
           (r->other && !strncasecmp(r->other, "DL", 2) && !strcasecmp(want, r->other));
}

static bool ignored(lint *L, int rule, const mm_df_instr *in)
{
    const mm_dflint_rule *r = &rules[rule];
    for (size_t i = 0; in && i < in->nignore; i++)
        if (id_match(in->ignore[i], r))
            return true;
    for (size_t i = 0; i < L->df->nglobal_ignore; i++)
        if (id_match(L->df->global_ignore[i], r))
            return true;
    for (size_t i = 0; L->o && i < L->o->nignored; i++)
        if (id_match(L->o->ignored[i], r))
            return true;
    return false;
}

static void emit(lint *L, int rule, const mm_df_instr *in, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void emit(lint *L, int rule, const mm_df_instr *in, const char *fmt, ...)
{
    if (ignored(L, rule, in))
        return;
    const mm_dflint_rule *r = &rules[rule];
    mm_finding f;
    memset(&f, 0, sizeof f);
    f.id = (char *)r->id;
    f.kind = MM_FIND_MISCONFIG;
    f.severity = r->severity;
    for (size_t i = 0; L->o && i < L->o->noverrides; i++)
        if (id_match(L->o->overrides[i].id, r))
            f.severity = L->o->overrides[i].severity;
    f.title = (char *)r->title;
    f.loc.layer = -1;
    f.loc.path = L->df->path;
    f.loc.line = in ? in->line : 0;
    char *instr = NULL;
    if (in) {
        char *full = L->secret ? mm_mask_in(in->original, L->secret)
                               : mm_xstrdup(in->original);
        instr = mm_xstrndup(full, strnlen(full, 200));
        free(full);
        f.loc.instruction = instr;
    }
    char *ev = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        ev = mm_xvasprintf(fmt, ap);
        va_end(ap);
        if (strlen(ev) > 500)
            ev[500] = 0;
    }
    f.evidence = ev;
    f.remediation = (char *)r->remediation;
    char *refs[3];
    size_t nr = 0;
    if (r->hadolint)
        refs[nr++] = mm_xasprintf("https://github.com/hadolint/hadolint/wiki/%s", r->hadolint);
    if (r->other)
        refs[nr++] = mm_xstrdup(r->other);
    f.references = refs;
    f.nreferences = nr;
    f.section = (char *)"3.1.2";
    int rc = mm_findings_add(L->out, &f);
    if (rc < 0 && L->rc == 0)
        L->rc = rc;
    for (size_t i = 0; i < nr; i++)
        free(refs[i]);
    free(ev);
    free(instr);
}

/* --- RUN analysis --------------------------------------------------------------- */
static bool opt_takes_arg(const char *a, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(a, *list))
            return true;
    return false;
}

/* The index of the subcommand (first non-option word from argv[from]). */
static size_t subcommand(const mm_sh_cmd *c, size_t from, const char *const *argopts)
{
    for (size_t i = from; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-') {
            if (argopts && opt_takes_arg(a, argopts))
                i++;
            continue;
        }
        return i;
    }
    return c->argc;
}

/* Appends the non-option words after index `from` that fail `pinned`. */
static void unpinned(const mm_sh_cmd *c, size_t from, const char *const *argopts,
                     bool (*pinned)(const char *), mm_buf *out)
{
    for (size_t i = from; i < c->argc; i++) {
        const char *a = c->argv[i];
        if (a[0] == '-') {
            if (argopts && opt_takes_arg(a, argopts))
                i++;
            continue;
        }
        if (strchr(a, '$') || strchr(a, '`'))
            continue; /* a variable: the version may well be in it */
        if (!pinned(a)) {
            if (out->len)
                mm_buf_adds(out, " ");
            mm_buf_adds(out, a);
        }
    }
}

static bool apt_pinned(const char *a)
{
    return strchr(a, '=') || strchr(a, '/') || mm_str_endswith(a, ".deb");
}

static bool apk_pinned(const char *a)
{
    return strpbrk(a, "=~<>") || mm_str_endswith(a, ".apk");
}

static bool pip_pinned(const char *a)
{
    return strstr(a, "==") || strstr(a, ">=") || strstr(a, "<=") || strstr(a, "~=") ||
           strstr(a, "!=") || strchr(a, '<') || strchr(a, '>') || strchr(a, '@') ||
           strchr(a, '/') || !strcmp(a, ".") || mm_str_endswith(a, ".whl") ||
           mm_str_endswith(a, ".tar.gz") || mm_str_endswith(a, ".zip");
}

static bool npm_pinned(const char *a)
{
    const char *at = strchr(a[0] == '@' ? a + 1 : a, '@');
    if (at)
        return strcmp(at + 1, "latest") && strcmp(at + 1, "next") && at[1];
    return strchr(a, '#') || strchr(a, ':') || a[0] == '.' || a[0] == '/' ||
           mm_str_endswith(a, ".tgz") || mm_str_endswith(a, ".tar.gz") ||
           (a[0] != '@' && strchr(a, '/')); /* user/repo on GitHub */
}

static bool gem_pinned(const char *a)
{
    return strchr(a, ':') || mm_str_endswith(a, ".gem");
}

static const char *const apt_argopts[] = {"-o", "-c", "-t", "--target-release",
                                          "--option", "--config-file", NULL};
static const char *const apk_argopts[] = {"-t", "--virtual", "-X", "--repository", "-p",
                                          "--root", "--arch", "--keys-dir", "--cache-dir",
                                          "--repositories-file", NULL};
static const char *const pip_argopts[] = {
    "-r", "--requirement", "-c", "--constraint", "-e", "--editable", "-i", "--index-url",
    "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix", "--root",
    "--src", "--upgrade-strategy", "--platform", "--python-version", "--implementation",
    "--abi", "--trusted-host", "--cache-dir", "--progress-bar", "--global-option",
    "--install-option", "--config-settings", "-C", "--report", "--log", "--proxy",
    "--retries", "--timeout", "--exists-action", "--cert", "--client-cert", NULL};
static const char *const npm_argopts[] = {"--prefix", "--registry", "--cache", "--tag",
                                          "-w", "--workspace", NULL};
static const char *const gem_argopts[] = {"-v", "--version", "-i", "--install-dir", "-n",
                                          "--bindir", "-s", "--source", "--platform",
                                          "-P", "--trust-policy", NULL};

static bool is_shell_name(const char *n)
{
    return !strcmp(n, "sh") || !strcmp(n, "bash") || !strcmp(n, "ash") ||
           !strcmp(n, "dash") || !strcmp(n, "zsh") || !strcmp(n, "ksh") ||
           !strncmp(n, "python", 6) || !strcmp(n, "perl") || !strcmp(n, "ruby") ||
           !strcmp(n, "node");
}

static bool is_pip(const mm_sh_cmd *c, size_t *sub)
{
    const char *n = mm_sh_name(c);
    if (!strncmp(n, "pip", 3) && (!n[3] || isdigit((unsigned char)n[3]))) {
        *sub = 1;
        return true;
    }
    if (!strncmp(n, "python", 6) && c->argc >= 3 && !strcmp(c->argv[1], "-m") &&
        !strncmp(c->argv[2], "pip", 3)) {
        *sub = 3;
        return true;
    }
    return false;
}

static bool has_cache_mount(const mm_df_instr *in, const char *target)
{
    for (size_t i = 0; i < in->nflags; i++) {
        const char *f = in->flags[i];
        if (!mm_str_startswith(f, "--mount=") || !strstr(f, "type=cache"))
            continue;
        const char *t = strstr(f, "target=");
        if (!t)
            t = strstr(f, "dst=");
        if (!t)
            t = strstr(f, "destination=");
        if (t && strstr(t, target))
            return true;
    }
    return false;
}

static bool stage_env_set(lint *L, const mm_df_instr *in, const char *name)
{
    /* ENV earlier in this stage or in a stage it is built FROM */
    int st = in->stage;
    size_t upto = (size_t)(in - L->df->instrs);
    while (st >= 0) {
        const mm_df_stage *s = &L->df->stages[st];
        for (size_t i = s->first; i <= s->last && i < upto; i++) {
            const mm_df_instr *e = &L->df->instrs[i];
            if (strcmp(e->keyword, "ENV"))
                continue;
            for (size_t k = 0; k < e->nkv; k++)
                if (!strcmp(e->kv[k].key, name) && e->kv[k].value && *e->kv[k].value &&
                    strcmp(e->kv[k].value, "0") && strcasecmp(e->kv[k].value, "false"))
                    return true;
        }
        st = s->parent;
    }
    return false;
}

/* SHELL in effect for an instruction: does it set pipefail, is it POSIX? */
static void shell_of(lint *L, const mm_df_instr *in, bool *pipefail, bool *posix)
{
    *pipefail = false;
    *posix = true;
    int st = in->stage;
    size_t upto = (size_t)(in - L->df->instrs);
    while (st >= 0) {
        const mm_df_stage *s = &L->df->stages[st];
        for (size_t i = upto > s->last ? s->last + 1 : upto; i-- > s->first;) {
            const mm_df_instr *e = &L->df->instrs[i];
            if (strcmp(e->keyword, "SHELL") || !e->nargv)
                continue;
            const char *n = strrchr(e->argv[0], '/');
            n = n ? n + 1 : e->argv[0];
            *posix = !strcmp(n, "sh") || !strcmp(n, "bash") || !strcmp(n, "ash") ||
                     !strcmp(n, "dash") || !strcmp(n, "zsh") || !strcmp(n, "ksh");
            for (size_t k = 1; k < e->nargv; k++)
                if (strstr(e->argv[k], "pipefail"))
                    *pipefail = true;
            return;
        }
        st = s->parent;
        upto = SIZE_MAX;
    }
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

static void lint_run(lint *L, const mm_df_instr *in)
{
    bool shipping = in->stage >= 0 && L->shipping[in->stage];
    /* the script: the command, plus heredoc bodies a shell runs */
    mm_buf text = MM_BUF_INIT;
    if (in->exec_form) {
        if (in->nargv >= 3) {
            const char *n = strrchr(in->argv[0], '/');
            n = n ? n + 1 : in->argv[0];
            if (is_shell_name(n) && !strncmp(in->argv[1], "-", 1) &&
                strchr(in->argv[1], 'c')) {
                mm_buf_adds(&text, in->argv[in->nargv - 1]);
                goto have_text;
            }
        }
        char *j = shell_quote_join(in->argv, in->nargv);
        mm_buf_adds(&text, j);
        free(j);
    } else if (in->nargv) {
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
    }
have_text:;
    mm_sh_script sc;
    mm_sh_parse(&sc, text.data ? text.data : "");

    bool pipefail_shell, posix;
    shell_of(L, in, &pipefail_shell, &posix);
    bool pipefail = pipefail_shell || !posix || in->exec_form;
    bool apt_update = false, apt_install = false, apt_clean = false;
    bool apk_update = false, apk_add = false;
    bool saw_sudo = false, saw_cd = false, saw_pipe = false, saw_curl = false,
         saw_upgrade = false;
    mm_buf apt_unpinned = MM_BUF_INIT, apk_unpinned = MM_BUF_INIT, pip_unpinned = MM_BUF_INIT,
           npm_unpinned = MM_BUF_INIT, gem_unpinned = MM_BUF_INIT;
    bool apt_no_rec_missing = false, apk_cache_missing = false, pip_cache_missing = false,
         apk_clean = false;
    const char *upgrade_cmd = NULL;
    for (size_t i = 0; i < sc.n; i++) {
        const mm_sh_cmd *c = &sc.cmds[i];
        const char *n = mm_sh_name(c);
        if (!strcmp(n, "set") && mm_sh_has(c, "pipefail"))
            pipefail = true;
        if (c->pipe_out && !pipefail)
            saw_pipe = true;
        if (!strcmp(n, "sudo"))
            saw_sudo = true;
        if (!strcmp(n, "cd"))
            saw_cd = true;
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
        if (is_shell_name(n)) {
            for (size_t k = 1; k < c->argc; k++)
                if (strstr(c->argv[k], "$(curl") || strstr(c->argv[k], "$(wget") ||
                    strstr(c->argv[k], "`curl") || strstr(c->argv[k], "`wget"))
                    saw_curl = true;
        }
        if (!strcmp(n, "rm")) {
            bool rec = false;
            for (size_t k = 1; k < c->argc; k++)
                if (c->argv[k][0] == '-' && (strchr(c->argv[k], 'r') || strchr(c->argv[k], 'R')))
                    rec = true;
            if (rec && mm_sh_has_prefix(c, "/var/lib/apt/lists"))
                apt_clean = true;
            if (mm_sh_has_prefix(c, "/var/cache/apk"))
                apk_clean = true;
        }
        if (!strcmp(n, "apt-get") || !strcmp(n, "apt")) {
            size_t s = subcommand(c, 1, apt_argopts);
            const char *sub = s < c->argc ? c->argv[s] : "";
            if (!strcmp(sub, "update")) {
                apt_update = true;
            } else if (!strcmp(sub, "install")) {
                apt_install = true;
                unpinned(c, s + 1, apt_argopts, apt_pinned, &apt_unpinned);
                bool norec = mm_sh_has(c, "--no-install-recommends");
                for (size_t k = 1; k < c->argc; k++)
                    if (strstr(c->argv[k], "Install-Recommends=false") ||
                        strstr(c->argv[k], "Install-Recommends=0") ||
                        strstr(c->argv[k], "Install-Recommends \"false\""))
                        norec = true;
                /* a local .deb only: recommends do not apply the same way */
                if (!norec)
                    apt_no_rec_missing = true;
            } else if (!strcmp(sub, "upgrade") || !strcmp(sub, "dist-upgrade") ||
                       !strcmp(sub, "full-upgrade")) {
                saw_upgrade = true;
                upgrade_cmd = "apt-get upgrade";
            }
        } else if (!strcmp(n, "apk")) {
            size_t s = subcommand(c, 1, apk_argopts);
            const char *sub = s < c->argc ? c->argv[s] : "";
            if (!strcmp(sub, "update")) {
                apk_update = true;
            } else if (!strcmp(sub, "add")) {
                apk_add = true;
                unpinned(c, s + 1, apk_argopts, apk_pinned, &apk_unpinned);
                if (!mm_sh_has(c, "--no-cache"))
                    apk_cache_missing = true;
            } else if (!strcmp(sub, "upgrade")) {
                saw_upgrade = true;
                upgrade_cmd = "apk upgrade";
            }
        } else {
            size_t s0;
            if (is_pip(c, &s0)) {
                size_t s = subcommand(c, s0, pip_argopts);
                if (s < c->argc && !strcmp(c->argv[s], "install")) {
                    /* "-r file" installs pinned requirements (or not: the file says) */
                    unpinned(c, s + 1, pip_argopts, pip_pinned, &pip_unpinned);
                    if (!mm_sh_has(c, "--no-cache-dir") && !mm_sh_has(c, "--no-cache-dir=1"))
                        pip_cache_missing = true;
                }
            } else if (!strcmp(n, "npm")) {
                size_t s = subcommand(c, 1, npm_argopts);
                if (s < c->argc && (!strcmp(c->argv[s], "install") || !strcmp(c->argv[s], "i") ||
                                    !strcmp(c->argv[s], "add")))
                    unpinned(c, s + 1, npm_argopts, npm_pinned, &npm_unpinned);
            } else if (!strcmp(n, "gem")) {
                size_t s = subcommand(c, 1, gem_argopts);
                if (s < c->argc && !strcmp(c->argv[s], "install") && !mm_sh_has(c, "-v") &&
                    !mm_sh_has(c, "--version") && !mm_sh_has_prefix(c, "--version="))
                    unpinned(c, s + 1, gem_argopts, gem_pinned, &gem_unpinned);
            }
        }
    }
    if (!in->exec_form && strstr(text.data ? text.data : "", "<(curl"))
        saw_curl = true;
    if (!in->exec_form && strstr(text.data ? text.data : "", "<(wget"))
        saw_curl = true;

    if (apt_unpinned.len)
        emit(L, R_APT_PIN, in, "unpinned: %s", apt_unpinned.data);
    if (apk_unpinned.len)
        emit(L, R_APK_PIN, in, "unpinned: %s", apk_unpinned.data);
    if (pip_unpinned.len)
        emit(L, R_PIP_PIN, in, "unpinned: %s", pip_unpinned.data);
    if (npm_unpinned.len)
        emit(L, R_NPM_PIN, in, "unpinned: %s", npm_unpinned.data);
    if (gem_unpinned.len)
        emit(L, R_GEM_PIN, in, "unpinned: %s", gem_unpinned.data);
    if (apt_no_rec_missing)
        emit(L, R_APT_RECOMMENDS, in, "apt-get install without --no-install-recommends");
    if (shipping && (apt_update || apt_install) && !apt_clean &&
        !has_cache_mount(in, "/var/lib/apt"))
        emit(L, R_APT_LISTS, in, "no rm -rf /var/lib/apt/lists/* in this RUN");
    if (shipping && apk_cache_missing && !apk_clean && !has_cache_mount(in, "/var/cache/apk"))
        emit(L, R_APK_CACHE, in, "apk add without --no-cache");
    if (shipping && pip_cache_missing && !stage_env_set(L, in, "PIP_NO_CACHE_DIR") &&
        !has_cache_mount(in, ".cache/pip"))
        emit(L, R_PIP_CACHE, in, "pip install without --no-cache-dir");
    if (saw_sudo)
        emit(L, R_SUDO, in, "sudo");
    if (saw_curl)
        emit(L, R_CURL_PIPE, in, "a download is run by a shell without verification");
    if (saw_pipe)
        emit(L, R_PIPEFAIL, in, "a pipe without pipefail");
    if (saw_upgrade)
        emit(L, R_UPGRADE, in, "%s", upgrade_cmd);
    if (saw_cd)
        emit(L, R_CD, in, "cd");
    if ((apt_update && !apt_install) || (apk_update && !apk_add))
        emit(L, R_UPDATE_ALONE, in, "%s without an install in the same RUN",
             apt_update ? "apt-get update" : "apk update");
    mm_buf_free(&apt_unpinned);
    mm_buf_free(&apk_unpinned);
    mm_buf_free(&pip_unpinned);
    mm_buf_free(&npm_unpinned);
    mm_buf_free(&gem_unpinned);
    mm_sh_free(&sc);
    mm_buf_free(&text);
}

/* --- image references ---------------------------------------------------------- */
/* Splits "reg/ns/name:tag@digest" into registry, tag and digest parts. */
static void image_parts(const char *ref, char **registry, char **tag, bool *digest)
{
    *digest = strchr(ref, '@') != NULL;
    size_t rl = strcspn(ref, "@");
    char *r = mm_xstrndup(ref, rl);
    const char *slash = strchr(r, '/');
    if (slash && (memchr(r, '.', (size_t)(slash - r)) || memchr(r, ':', (size_t)(slash - r)) ||
                  !strncmp(r, "localhost/", 10)))
        *registry = mm_xstrndup(r, (size_t)(slash - r));
    else
        *registry = mm_xstrdup("docker.io");
    const char *ls = strrchr(r, '/');
    const char *colon = strrchr(ls ? ls : r, ':');
    *tag = colon ? mm_xstrdup(colon + 1) : NULL;
    free(r);
    for (char *c = *registry; *c; c++)
        *c = (char)tolower((unsigned char)*c);
}

static bool registry_allowed(const mm_dflint_opts *o, const char *reg)
{
    for (size_t i = 0; i < o->nallowed_registries; i++) {
        const char *a = o->allowed_registries[i];
        if (!strcasecmp(a, reg))
            return true;
        if (!strcasecmp(reg, "docker.io") &&
            (!strcasecmp(a, "index.docker.io") || !strcasecmp(a, "registry-1.docker.io") ||
             !strcasecmp(a, "hub.docker.com")))
            return true;
        if (a[0] == '*' && a[1] == '.' && strlen(reg) > strlen(a + 1) &&
            !strcasecmp(reg + strlen(reg) - strlen(a + 1), a + 1))
            return true;
    }
    return false;
}

static void lint_from(lint *L, const mm_df_instr *in, const mm_df_stage *st)
{
    const char *img = st->image;
    if (st->parent >= 0 || !strcasecmp(img, "scratch"))
        return;
    if (st->image_unresolved || strchr(img, '$'))
        return; /* an ARG without a value: the reference is unknown */
    char *reg, *tag;
    bool digest;
    image_parts(img, &reg, &tag, &digest);
    if (!tag && !digest)
        emit(L, R_FROM_UNTAGGED, in, "FROM %s", img);
    else if (tag && !digest && !strcmp(tag, "latest"))
        emit(L, R_FROM_LATEST, in, "FROM %s", img);
    if (L->o && L->o->nallowed_registries && !registry_allowed(L->o, reg))
        emit(L, R_REGISTRY, in, "registry %s is not in allowed-registries", reg);
    free(reg);
    free(tag);
}

static bool is_root_user(const char *u)
{
    size_t n = strcspn(u, ":");
    return (n == 4 && !strncmp(u, "root", 4)) || (n == 1 && u[0] == '0');
}

static bool port_in(const char *spec, long port)
{
    char *end;
    long a = strtol(spec, &end, 10);
    if (end == spec)
        return false;
    long b = a;
    if (*end == '-') {
        const char *s2 = end + 1;
        b = strtol(s2, &end, 10);
        if (end == s2)
            return false;
    }
    if (*end && *end != '/')
        return false;
    return port >= a && port <= b;
}

static bool is_archive(const char *s)
{
    static const char *const ext[] = {".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz",
                                      ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".tzst",
                                      ".tar.lz", ".gz", ".bz2", ".xz", ".zst"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (mm_str_endswith(s, ext[i]))
            return true;
    return false;
}

static bool is_url(const char *s)
{
    return strstr(s, "://") || mm_str_startswith(s, "git@");
}

static bool has_flag(const mm_df_instr *in, const char *prefix)
{
    for (size_t i = 0; i < in->nflags; i++)
        if (mm_str_startswith(in->flags[i], prefix))
            return true;
    return false;
}

static void lint_instr(lint *L, const mm_df_instr *in)
{
    const char *k = in->keyword;
    if (!strcmp(k, "FROM")) {
        if (in->stage >= 0)
            lint_from(L, in, &L->df->stages[in->stage]);
    } else if (!strcmp(k, "RUN")) {
        lint_run(L, in);
    } else if (!strcmp(k, "WORKDIR")) {
        const char *w = in->nargv ? in->argv[0] : "";
        bool abs = w[0] == '/' || w[0] == '\\' ||
                   (isalpha((unsigned char)w[0]) && w[1] == ':');
        if (!abs && !in->unresolved && !strchr(w, '$'))
            emit(L, R_WORKDIR_REL, in, "WORKDIR %s", w);
    } else if (!strcmp(k, "MAINTAINER")) {
        emit(L, R_MAINTAINER, in, "MAINTAINER");
    } else if (!strcmp(k, "EXPOSE")) {
        for (size_t i = 0; i < in->nargv; i++)
            if (port_in(in->argv[i], 22) || port_in(in->argv[i], 23))
                emit(L, R_EXPOSE_SSH, in, "EXPOSE %s", in->argv[i]);
    } else if (!strcmp(k, "ARG") || !strcmp(k, "ENV")) {
        bool arg = !strcmp(k, "ARG");
        for (size_t i = 0; i < in->nkv; i++) {
            const mm_df_kv *kv = &in->kv[i];
            if (!mm_sensitive_name(kv->key))
                continue;
            if (!arg && mm_placeholder_value(kv->value))
                continue;
            if (kv->has_value && !mm_placeholder_value(kv->value)) {
                char *m = mm_mask_value(kv->value);
                L->secret = kv->value;
                emit(L, R_SECRET_NAME, in, "%s %s=%s", k, kv->key, m);
                L->secret = NULL;
                free(m);
            } else {
                emit(L, R_SECRET_NAME, in, "%s %s", k, kv->key);
            }
        }
    } else if (!strcmp(k, "ADD")) {
        size_t nsrc = in->nargv ? in->nargv - 1 : 0;
        bool local = in->nheredocs > 0, url = false;
        for (size_t i = 0; i < nsrc && !in->exec_form; i++) {
            if (is_url(in->argv[i]))
                url = true;
            else if (!is_archive(in->argv[i]))
                local = true;
        }
        for (size_t i = 0; i < nsrc && in->exec_form; i++) {
            if (is_url(in->argv[i]))
                url = true;
            else if (!is_archive(in->argv[i]))
                local = true;
        }
        if (local)
            emit(L, R_ADD_LOCAL, in, "%s", in->original);
        if (url && !has_flag(in, "--checksum="))
            emit(L, R_ADD_URL, in, "%s", in->original);
    }
}

int mm_dockerfile_lint(const mm_dockerfile *df, const mm_dflint_opts *o, mm_findings *out)
{
    if (!df || !out)
        return mm_error_set(MM_EINVAL, "dockerfile lint: no Dockerfile or findings list");
    lint L;
    memset(&L, 0, sizeof L);
    L.df = df;
    L.o = o;
    L.out = out;
    L.shipping = mm_xcalloc(df->nstages + 1, sizeof *L.shipping);
    /* the final stage and what it is built FROM */
    for (int s = (int)df->nstages - 1, guard = 0; s >= 0 && guard < 1000; guard++) {
        L.shipping[s] = true;
        s = df->stages[s].parent;
    }
    for (size_t i = 0; i < df->ninstrs; i++)
        lint_instr(&L, &df->instrs[i]);

    /* per stage: several CMD / ENTRYPOINT */
    for (size_t s = 0; s < df->nstages; s++) {
        const mm_df_stage *st = &df->stages[s];
        int ncmd = 0, nep = 0;
        for (size_t i = st->first; i <= st->last && i < df->ninstrs; i++) {
            const mm_df_instr *in = &df->instrs[i];
            if (!strcmp(in->keyword, "CMD") && ++ncmd > 1)
                emit(&L, R_MULTI_CMD, in, "CMD number %d in this stage", ncmd);
            if (!strcmp(in->keyword, "ENTRYPOINT") && ++nep > 1)
                emit(&L, R_MULTI_ENTRYPOINT, in, "ENTRYPOINT number %d in this stage", nep);
        }
    }
    /* the final image: last USER, HEALTHCHECK (inherited through FROM stage) */
    if (df->nstages) {
        const mm_df_instr *last_user = NULL, *health = NULL;
        for (int s = (int)df->nstages - 1, guard = 0; s >= 0 && guard < 1000; guard++) {
            const mm_df_stage *st = &df->stages[s];
            for (size_t i = st->last + 1; i-- > st->first;) {
                const mm_df_instr *in = &df->instrs[i];
                if (!last_user && !strcmp(in->keyword, "USER"))
                    last_user = in;
                if (!health && !strcmp(in->keyword, "HEALTHCHECK"))
                    health = in;
            }
            s = st->parent;
        }
        const mm_df_stage *fin = &df->stages[df->nstages - 1];
        const mm_df_instr *from = &df->instrs[fin->first];
        if (last_user && last_user->nargv && is_root_user(last_user->argv[0]))
            emit(&L, R_USER_ROOT, last_user, "USER %s", last_user->argv[0]);
        else if (!last_user && strcasecmp(fin->image, "scratch"))
            emit(&L, R_NO_USER, from, "no USER instruction in the final stage");
        if (!health)
            emit(&L, R_NO_HEALTHCHECK, from, "no HEALTHCHECK instruction");
    }
    free(L.shipping);
    return L.rc;
}

/* --- the config file ---------------------------------------------------------- */
static int yerr(const char *path, const yaml_node_t *n, const char *what)
{
    return mm_error_set(MM_EFORMAT, "%s:%zu: %s", path,
                        n ? (size_t)n->start_mark.line + 1 : (size_t)0, what);
}

static const char *scalar(yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int seq_strings(yaml_document_t *doc, yaml_node_t *n, const char *path,
                       const char *key, char ***v, size_t *nv)
{
    if (n->type == YAML_SCALAR_NODE && !*n->data.scalar.value)
        return 0; /* "ignored:" with nothing */
    if (n->type != YAML_SEQUENCE_NODE) {
        char *m = mm_xasprintf("%s: expected a list", key);
        int rc = yerr(path, n, m);
        free(m);
        return rc;
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start;
         it < n->data.sequence.items.top; it++) {
        yaml_node_t *e = yaml_document_get_node(doc, *it);
        const char *s = scalar(e);
        if (!s) {
            char *m = mm_xasprintf("%s: expected a list of strings", key);
            int rc = yerr(path, e, m);
            free(m);
            return rc;
        }
        if (*nv < 10000)
            mm_strv_push(v, nv, s);
    }
    return 0;
}

static void add_override(mm_dflint_opts *o, const char *id, mm_severity s)
{
    if (o->noverrides >= 10000)
        return;
    o->overrides = mm_xrealloc(o->overrides, (o->noverrides + 1) * sizeof *o->overrides);
    o->overrides[o->noverrides].id = mm_xstrdup(id);
    o->overrides[o->noverrides].severity = s;
    o->noverrides++;
}

int mm_dflint_config_load(mm_dflint_opts *o, const char *path)
{
    if (!o || !path)
        return mm_error_set(MM_EINVAL, "lint config: no options or path");
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, 1u << 20, &data, &len);
    if (rc < 0)
        return rc;
    yaml_parser_t ps;
    yaml_document_t doc;
    yaml_parser_initialize(&ps);
    yaml_parser_set_input_string(&ps, (const unsigned char *)data, len);
    if (!yaml_parser_load(&ps, &doc)) {
        rc = mm_error_set(MM_EFORMAT, "%s:%zu: YAML: %s", path,
                          (size_t)ps.problem_mark.line + 1,
                          ps.problem ? ps.problem : "malformed");
        yaml_parser_delete(&ps);
        free(data);
        return rc;
    }
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root || (root->type == YAML_SCALAR_NODE && !*root->data.scalar.value))
        goto out; /* an empty file */
    if (root->type != YAML_MAPPING_NODE) {
        rc = yerr(path, root, "expected a mapping (ignored:, allowed-registries:, ...)");
        goto out;
    }
    for (yaml_node_pair_t *pr = root->data.mapping.pairs.start;
         pr < root->data.mapping.pairs.top && rc == 0; pr++) {
        yaml_node_t *kn = yaml_document_get_node(&doc, pr->key);
        yaml_node_t *vn = yaml_document_get_node(&doc, pr->value);
        const char *k = scalar(kn);
        if (!k || !vn)
            continue;
        if (!strcmp(k, "ignored")) {
            rc = seq_strings(&doc, vn, path, k, &o->ignored, &o->nignored);
        } else if (!strcmp(k, "allowed-registries") || !strcmp(k, "allowed_registries") ||
                   !strcmp(k, "trustedRegistries")) {
            rc = seq_strings(&doc, vn, path, k, &o->allowed_registries,
                             &o->nallowed_registries);
        } else if (!strcmp(k, "severity-overrides") || !strcmp(k, "severity_overrides")) {
            if (vn->type != YAML_MAPPING_NODE) {
                rc = yerr(path, vn, "severity-overrides: expected a mapping ID: SEVERITY");
                break;
            }
            for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
                 q < vn->data.mapping.pairs.top; q++) {
                yaml_node_t *qk = yaml_document_get_node(&doc, q->key);
                yaml_node_t *qv = yaml_document_get_node(&doc, q->value);
                mm_severity sev;
                if (!scalar(qk) || !scalar(qv) || mm_severity_parse(&sev, scalar(qv)) < 0) {
                    char *m = mm_xasprintf("severity-overrides: \"%s\": expected LOW, MEDIUM, "
                                           "HIGH or CRITICAL", scalar(qv) ? scalar(qv) : "?");
                    rc = yerr(path, qv ? qv : qk, m);
                    free(m);
                    break;
                }
                add_override(o, scalar(qk), sev);
            }
        } else if (!strcmp(k, "override")) {
            /* hadolint: override: {error: [..], warning: [..], info: [..], style: [..]} */
            if (vn->type != YAML_MAPPING_NODE) {
                rc = yerr(path, vn, "override: expected a mapping of levels to lists");
                break;
            }
            for (yaml_node_pair_t *q = vn->data.mapping.pairs.start;
                 q < vn->data.mapping.pairs.top && rc == 0; q++) {
                const char *lvl = scalar(yaml_document_get_node(&doc, q->key));
                yaml_node_t *qv = yaml_document_get_node(&doc, q->value);
                mm_severity sev;
                if (!lvl || !qv)
                    continue;
                if (!strcmp(lvl, "error"))
                    sev = MM_SEV_HIGH;
                else if (!strcmp(lvl, "warning"))
                    sev = MM_SEV_MEDIUM;
                else if (!strcmp(lvl, "info") || !strcmp(lvl, "style"))
                    sev = MM_SEV_LOW;
                else
                    continue;
                char **ids = NULL;
                size_t nids = 0;
                rc = seq_strings(&doc, qv, path, lvl, &ids, &nids);
                for (size_t i = 0; i < nids; i++)
                    add_override(o, ids[i], sev);
                mm_strv_free(ids, nids);
            }
        }
        /* other keys (hadolint's failure-threshold, label-schema...) are not ours */
    }
out:
    yaml_document_delete(&doc);
    yaml_parser_delete(&ps);
    free(data);
    return rc;
}
