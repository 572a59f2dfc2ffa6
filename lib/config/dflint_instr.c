/*
 * config/dflint_instr.c - the rules on instructions other than RUN (FROM,
 * COPY, ADD, ENV, ARG, LABEL, USER, WORKDIR, EXPOSE, CMD, ENTRYPOINT,
 * HEALTHCHECK, SHELL, ONBUILD, unknown ones) and the rules decided once the
 * whole file is read: the last USER of each stage, the labels of each
 * stage, HEALTHCHECK and USER in the images the file builds, bad pragmas.
 *
 * Image references: registry, tag and digest are split as the Docker
 * reference grammar does (a first component with '.' or ':' or
 * "localhost" names a registry, else it is docker.io).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "config/dflint_int.h"

/* --- image references ---------------------------------------------------------- */
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
        if (!strcmp(a, "*") || !strcasecmp(a, reg))
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

bool dfl_registry_denied(const mm_dflint_opts *o, const char *ref, char **registry)
{
    *registry = NULL;
    if (!o || !o->nallowed_registries || !strcasecmp(ref, "scratch"))
        return false;
    char *tag;
    bool digest;
    image_parts(ref, registry, &tag, &digest);
    free(tag);
    return !registry_allowed(o, *registry);
}

void dfl_check_foreign_image(lint *L, const mm_df_instr *in, const char *ref,
                             const char *what)
{
    const mm_dockerfile *df = L->df;
    for (size_t s = 0; s < df->nstages; s++)
        if (df->stages[s].name && !strcasecmp(df->stages[s].name, ref))
            return; /* a build stage */
    char *reg = NULL;
    if (!strchr(ref, '$') && dfl_registry_denied(L->o, ref, &reg))
        dfl_emit(L, R_REGISTRY_BYPASS, in, "%s=%s: registry %s is not in allowed-registries",
                 what, ref, reg);
    free(reg);
}

/* --- FROM ---------------------------------------------------------------------- */
void dfl_stage_start(lint *L, dfl_pass *ps, const mm_df_instr *in)
{
    const mm_dockerfile *df = L->df;
    if (in->stage < 0 || (size_t)in->stage >= df->nstages)
        return;
    const mm_df_stage *st = &df->stages[in->stage];
    /* inherited through FROM <stage> */
    if (st->parent >= 0) {
        L->workdir[in->stage] = L->workdir[st->parent];
        L->pip_no_cache[in->stage] = L->pip_no_cache[st->parent];
    }
    ps->workdir = L->workdir[in->stage];
    ps->pip_no_cache = L->pip_no_cache[in->stage];
    /* DL3024: a name used twice */
    for (int s = 0; s < in->stage && st->name; s++)
        if (df->stages[s].name && !strcmp(df->stages[s].name, st->name)) {
            dfl_emit(L, R_DUP_ALIAS, in, "stage name \"%s\" also at line %d", st->name,
                     df->stages[s].line);
            break;
        }
    /* --platform */
    const char *plat = dfl_rawflag(in, "platform");
    if (plat) {
        char *u = dfl_unquote(plat);
        if (*u && u[0] != '$')
            dfl_emit(L, R_FROM_PLATFORM, in, "--platform=%s", u);
        if (!strcmp(u, "$TARGETPLATFORM") || !strcmp(u, "${TARGETPLATFORM}"))
            dfl_emit(L, R_PLATFORM_TARGET, in, "--platform=%s", u);
        free(u);
    }
    const char *img = st->image;
    if (st->parent >= 0 || !strcasecmp(img, "scratch"))
        return;
    if (st->image_unresolved || strchr(img, '$'))
        return; /* an ARG without a value: the reference is unknown */
    char *reg, *tag;
    bool digest;
    image_parts(img, &reg, &tag, &digest);
    if (!tag && !digest)
        dfl_emit(L, R_FROM_UNTAGGED, in, "FROM %s", img);
    else if (tag && !digest && !strcmp(tag, "latest"))
        dfl_emit(L, R_FROM_LATEST, in, "FROM %s", img);
    if (L->o && L->o->nallowed_registries && !registry_allowed(L->o, reg))
        dfl_emit(L, R_REGISTRY, in, "registry %s is not in allowed-registries", reg);
    free(reg);
    free(tag);
}

/* --- helpers ------------------------------------------------------------------- */
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

/* a port number of EXPOSE above 65535 (variables are not judged) */
static bool port_invalid(const char *spec)
{
    if (strchr(spec, '$'))
        return false;
    const char *p = spec;
    for (int k = 0; k < 2; k++) {
        if (!isdigit((unsigned char)*p))
            return false;
        char *end;
        long v = strtol(p, &end, 10);
        if (v > 65535)
            return true;
        if (*end != '-')
            return false;
        p = end + 1;
    }
    return false;
}

static bool is_url(const char *s)
{
    return strstr(s, "://") || mm_str_startswith(s, "git@");
}

static bool is_root_user(const char *u)
{
    size_t n = strcspn(u, ":");
    return (n == 4 && !strncmp(u, "root", 4)) || (n == 1 && u[0] == '0');
}

/* hadolint's absolute path test (after quote removal) */
static bool abs_path(const char *w)
{
    return w[0] == '/' || w[0] == '\\' || w[0] == '$' ||
           (isalpha((unsigned char)w[0]) && w[1] == ':');
}

/* names hadolint's DL3064 knows to hold secrets */
static bool known_secret_name(const char *n)
{
    static const char *const names[] = {
        "ACCESS_TOKEN", "APPLICATION_KEY", "APP_SECRET", "AUTH_TOKEN", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "CF_PASSWORD", "CI_DEPLOY_PASSWORD", "DOCKERHUB_PASSWORD",
        "DOCKER_PASSWORD", "GH_TOKEN", "GITHUB_TOKEN", "NPM_AUTH_TOKEN", "NPM_TOKEN",
        "OPENAI_API_KEY", "OS_PASSWORD", "POSTGRES_PASSWORD", "SLACK_TOKEN", "STRIPE_API_KEY",
        "VAULT_TOKEN", "VAULT_CLIENT_KEY", "HEROKU_API_KEY", "FIREBASE_TOKEN"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(n, names[i]))
            return true;
    return false;
}

/* DL3044: is $v or ${v} used in text (a bare $v must end there)? */
static bool refers_to(const char *text, const char *v)
{
    size_t vl = strlen(v);
    for (const char *p = strchr(text, '$'); p; p = strchr(p + 1, '$')) {
        if (p[1] == '{' && !strncmp(p + 2, v, vl) && (p[2 + vl] == '}' || p[2 + vl] == ':' ||
                                                       p[2 + vl] == '-' || p[2 + vl] == '+'))
            return true;
        if (!strncmp(p + 1, v, vl) && !isalnum((unsigned char)p[1 + vl]) && p[1 + vl] != '_')
            return true;
    }
    return false;
}

/* --- the instructions -------------------------------------------------------- */
static void lint_copy(lint *L, dfl_pass *ps, const mm_df_instr *in)
{
    const mm_dockerfile *df = L->df;
    const char *from = dfl_flag(in, "from");
    size_t nsrc = in->nraw ? in->nraw - 1 : 0;
    const char *dest = in->nraw ? in->raw[in->nraw - 1] : "";
    if (in->exec_form && in->nargv) {
        nsrc = in->nargv - 1;
        dest = in->argv[in->nargv - 1];
    }
    char *udest = dfl_unquote(dest);
    /* DL3021 */
    if (nsrc + in->nheredocs > 1 && (!*udest || udest[strlen(udest) - 1] != '/'))
        dfl_emit(L, R_COPY_DEST_SLASH, in, "destination %s", udest);
    /* DL3045 */
    if (!ps->workdir && *udest && !abs_path(udest))
        dfl_emit(L, R_COPY_NO_WORKDIR, in, "relative destination %s", udest);
    if (from) {
        bool numeric = *from != 0;
        for (const char *c = from; *c; c++)
            if (!isdigit((unsigned char)*c))
                numeric = false;
        bool external = strpbrk(from, ":/@") != NULL;
        bool known = false, self = false;
        if (numeric) {
            known = !ps->onbuild && ps->stage >= 0 && atol(from) < ps->stage;
        } else if (!ps->onbuild) {
            for (int s = 0; s < ps->stage && (size_t)s < df->nstages; s++)
                if (df->stages[s].name && !strcasecmp(df->stages[s].name, from))
                    known = true;
            if (ps->stage >= 0 && df->stages[ps->stage].name &&
                !strcasecmp(df->stages[ps->stage].name, from))
                self = true;
        }
        if (self)
            dfl_emit(L, R_COPY_FROM_SELF, in, "--from=%s is this stage", from);
        else if (!known && !external && !strchr(from, '$'))
            dfl_emit(L, R_COPY_FROM_ALIAS, in, "--from=%s names no earlier stage", from);
        /* MM-DF-030: an image outside allowed-registries */
        if (!numeric)
            dfl_check_foreign_image(L, in, from, "COPY --from");
        /* DL3067: the whole root file system */
        for (size_t i = 0; i < nsrc; i++) {
            char *u = dfl_unquote(in->exec_form ? in->argv[i] : in->raw[i]);
            bool root = !strcmp(u, "/");
            free(u);
            if (root && !strcmp(udest, "/")) {
                dfl_emit(L, R_COPY_ROOT, in, "COPY --from=%s / /", from);
                break;
            }
        }
    } else if (!in->exec_form) {
        /* DL3010: remember archives for a later extraction */
        bool dest_archive = dfl_is_archive_name(udest);
        for (size_t i = 0; i < (dest_archive ? 1 : nsrc); i++) {
            const char *w = dest_archive ? udest : in->raw[i];
            char *u = dfl_unquote(w);
            const char *b = u;
            for (const char *c = u; *c; c++)
                if (*c == '/' || *c == '\\')
                    b = c + 1;
            if (dfl_is_archive_name(b) && ps->narchives < 256) {
                ps->archive_in = mm_xrealloc(ps->archive_in,
                                             (ps->narchives + 1) * sizeof *ps->archive_in);
                ps->archive_in[ps->narchives] = in;
                mm_strv_push(&ps->archives, &ps->narchives, b);
            }
            free(u);
        }
    }
    free(udest);
}

static void lint_add(lint *L, const mm_df_instr *in)
{
    size_t nsrc = in->nargv ? in->nargv - 1 : 0;
    bool local = in->nheredocs > 0, url = false;
    for (size_t i = 0; i < nsrc; i++) {
        const char *w = in->exec_form ? in->argv[i] : (i < in->nraw ? in->raw[i] : in->argv[i]);
        char *u = dfl_unquote(w);
        if (is_url(u))
            url = true;
        else if (!dfl_is_archive_name(u))
            local = true;
        free(u);
    }
    if (local)
        dfl_emit(L, R_ADD_LOCAL, in, "%s", in->original);
    if (url && !dfl_flag(in, "checksum"))
        dfl_emit(L, R_ADD_URL, in, "%s", in->original);
}

static void lint_env_arg(lint *L, dfl_pass *ps, const mm_df_instr *in)
{
    bool arg = !strcmp(in->keyword, "ARG");
    for (size_t i = 0; i < in->nkv; i++) {
        const mm_df_kv *kv = &in->kv[i];
        bool named = mm_sensitive_name(kv->key) || known_secret_name(kv->key);
        if (!named)
            continue;
        if (!arg && mm_placeholder_value(kv->value) && !known_secret_name(kv->key))
            continue;
        if (kv->has_value && !mm_placeholder_value(kv->value)) {
            char *m = mm_mask_value(kv->value);
            L->secret = kv->value;
            dfl_emit(L, R_SECRET_NAME, in, "%s %s=%s", in->keyword, kv->key, m);
            L->secret = NULL;
            free(m);
        } else {
            dfl_emit(L, R_SECRET_NAME, in, "%s %s", in->keyword, kv->key);
        }
    }
    if (!arg) {
        /* DL3044 */
        bool self = false;
        for (size_t i = 0; i < in->nkv && !self; i++) {
            const char *v = in->kv[i].key;
            if (mm_map_get(ps->defined, v))
                continue;
            for (size_t j = 0; j < in->nkv; j++)
                if (j != i && in->kv[j].raw_value && refers_to(in->kv[j].raw_value, v))
                    self = true;
        }
        if (self)
            dfl_emit(L, R_ENV_SELF_REF, in, "a variable defined in this ENV is used in it");
        /* DL3042: PIP_NO_CACHE_DIR */
        for (size_t i = 0; i < in->nkv; i++)
            if (!strcmp(in->kv[i].key, "PIP_NO_CACHE_DIR")) {
                const char *v = in->kv[i].value;
                bool t = v && (!strcasecmp(v, "1") || !strcasecmp(v, "on") ||
                               !strcasecmp(v, "yes") || !strcasecmp(v, "true"));
                ps->pip_no_cache = t;
                if (!ps->onbuild && ps->stage >= 0)
                    L->pip_no_cache[ps->stage] = t;
            }
    }
    for (size_t i = 0; i < in->nkv; i++)
        if (mm_map_count(ps->defined) < 10000)
            mm_map_put(ps->defined, in->kv[i].key, (void *)1);
}

void dfl_lint_other(lint *L, dfl_pass *ps, const mm_df_instr *in)
{
    const char *k = in->keyword;
    if (in->unknown) {
        dfl_emit(L, R_UNKNOWN_INSTR, in, "unknown instruction %s", k);
        return;
    }
    if (in->before_from && !ps->onbuild && !ps->seen_from)
        dfl_emit(L, R_ORDER, in, "%s before the first FROM", k);
    if (!strcmp(k, "WORKDIR")) {
        const char *w = in->nraw ? in->raw[0] : "";
        char *u = dfl_unquote(w);
        if (!abs_path(u))
            dfl_emit(L, R_WORKDIR_REL, in, "WORKDIR %s", u);
        free(u);
        ps->workdir = true;
        if (!ps->onbuild && ps->stage >= 0)
            L->workdir[ps->stage] = true;
    } else if (!strcmp(k, "MAINTAINER")) {
        dfl_emit(L, R_MAINTAINER, in, "MAINTAINER");
    } else if (!strcmp(k, "EXPOSE")) {
        for (size_t i = 0; i < in->nraw; i++) {
            char *u = dfl_unquote(in->raw[i]);
            if (port_in(u, 22) || port_in(u, 23))
                dfl_emit(L, R_EXPOSE_SSH, in, "EXPOSE %s", u);
            if (port_invalid(u))
                dfl_emit(L, R_PORT_RANGE, in, "EXPOSE %s", u);
            free(u);
        }
    } else if (!strcmp(k, "ARG") || !strcmp(k, "ENV")) {
        lint_env_arg(L, ps, in);
    } else if (!strcmp(k, "ADD")) {
        lint_add(L, in);
    } else if (!strcmp(k, "COPY")) {
        lint_copy(L, ps, in);
    } else if (!strcmp(k, "LABEL")) {
        dfl_lint_labels(L, in);
    } else if (!strcmp(k, "USER")) {
        const char *u = in->nraw ? in->raw[0] : "";
        char *uq = dfl_unquote(u);
        size_t n = strcspn(uq, ":");
        bool numeric = n > 0;
        for (size_t i = 0; i < n; i++)
            if (!isdigit((unsigned char)uq[i]))
                numeric = false;
        if (!numeric)
            dfl_emit(L, R_USER_NONNUMERIC, in, "USER %s", uq);
        free(uq);
    } else if (!strcmp(k, "CMD") || !strcmp(k, "ENTRYPOINT")) {
        if (!in->exec_form)
            dfl_emit(L, R_JSON_NOTATION, in, "%s in shell form", k);
        if (!ps->onbuild) {
            bool cmd = !strcmp(k, "CMD");
            int n = cmd ? ++ps->n_cmd : ++ps->n_entrypoint;
            if (n > 1)
                dfl_emit(L, cmd ? R_MULTI_CMD : R_MULTI_ENTRYPOINT, in,
                         "%s number %d in this stage", k, n);
        }
    } else if (!strcmp(k, "HEALTHCHECK")) {
        if (!in->exec_form && in->nargv && strcmp(in->argv[0], "NONE"))
            dfl_emit(L, R_JSON_NOTATION, in, "HEALTHCHECK CMD in shell form");
        if (!ps->onbuild && ++ps->n_healthcheck > 1)
            dfl_emit(L, R_MULTI_HEALTHCHECK, in, "HEALTHCHECK number %d in this stage",
                     ps->n_healthcheck);
    } else if (!strcmp(k, "SHELL")) {
        if (in->nargv) {
            const char *n = strrchr(in->argv[0], '/');
            n = n ? n + 1 : in->argv[0];
            bool posix = !strcmp(n, "sh") || !strcmp(n, "bash") || !strcmp(n, "ash") ||
                         !strcmp(n, "dash") || !strcmp(n, "zsh") || !strcmp(n, "ksh");
            bool pf_ok = !strcmp(n, "bash") || !strcmp(n, "zsh") || !strcmp(n, "ash") ||
                         !strcmp(n, "ksh");
            bool pf = false;
            for (size_t i = 1; i + 1 < in->nargv; i++)
                if (in->argv[i][0] == '-' && strchr(in->argv[i], 'o') &&
                    !strcmp(in->argv[i + 1], "pipefail"))
                    pf = true;
            ps->shell_posix = posix;
            ps->shell_pipefail = pf && pf_ok;
            mm_buf b = MM_BUF_INIT;
            for (size_t i = 0; i < in->nargv; i++) {
                if (i)
                    mm_buf_addc(&b, ' ');
                mm_buf_adds(&b, in->argv[i]);
            }
            free(ps->shell);
            ps->shell = mm_buf_detach(&b);
        }
    } else if (!strcmp(k, "ONBUILD")) {
        const mm_df_instr *t = in->onbuild;
        if (t && t->keyword && (!strcmp(t->keyword, "ONBUILD") || !strcmp(t->keyword, "FROM") ||
                                !strcmp(t->keyword, "MAINTAINER")))
            dfl_emit(L, R_ONBUILD_BAD, in, "ONBUILD %s", t->keyword);
    }
}

/* --- the whole file --------------------------------------------------------- */
void dfl_finish(lint *L)
{
    const mm_dockerfile *df = L->df;
    const mm_dflint_opts *o = L->o;
    /* DL3002: the last USER of each stage is root */
    for (size_t s = 0; s < df->nstages; s++) {
        const mm_df_stage *st = &df->stages[s];
        for (size_t i = st->last + 1; i-- > st->first;) {
            const mm_df_instr *in = &df->instrs[i];
            if (strcmp(in->keyword, "USER"))
                continue;
            if (in->nargv && is_root_user(in->argv[0]))
                dfl_emit(L, R_USER_ROOT, in, "USER %s", in->argv[0]);
            break;
        }
    }
    if (df->nstages) {
        /* DL3063: no USER in the last stage */
        /* (a USER of a stage the final one is built FROM counts: hadolint
         * looks at the last stage only) */
        const mm_df_stage *fin = &df->stages[df->nstages - 1];
        bool user = false;
        for (int s = (int)df->nstages - 1, guard = 0; s >= 0 && !user && guard < 1000; guard++) {
            const mm_df_stage *st = &df->stages[s];
            for (size_t i = st->first; i <= st->last && i < df->ninstrs; i++)
                if (!strcmp(df->instrs[i].keyword, "USER"))
                    user = true;
            s = st->parent;
        }
        if (!user)
            dfl_emit(L, R_NO_USER, &df->instrs[fin->first],
                     "no USER instruction in the final stage");
        /* DL3057: an image the file builds (a stage no later FROM builds
         * on) without HEALTHCHECK, inherited ones counted */
        bool *hc = mm_xcalloc(df->nstages, sizeof *hc);
        bool *base = mm_xcalloc(df->nstages, sizeof *base);
        for (size_t s = 0; s < df->nstages; s++) {
            const mm_df_stage *st = &df->stages[s];
            if (st->parent >= 0) {
                hc[s] = hc[st->parent];
                base[st->parent] = true;
            }
            for (size_t i = st->first; i <= st->last && i < df->ninstrs; i++) {
                const mm_df_instr *in = &df->instrs[i];
                if (!strcmp(in->keyword, "HEALTHCHECK"))
                    hc[s] = true;
                /* a stage only copied from is no image of its own */
                const char *from = !strcmp(in->keyword, "COPY") ? dfl_flag(in, "from") : NULL;
                for (size_t t = 0; from && t < s; t++)
                    if ((df->stages[t].name && !strcasecmp(df->stages[t].name, from)) ||
                        (isdigit((unsigned char)from[0]) && (size_t)atol(from) == t))
                        base[t] = true;
            }
        }
        for (size_t s = 0; s < df->nstages; s++)
            if (!hc[s] && !base[s])
                dfl_emit(L, R_NO_HEALTHCHECK, &df->instrs[df->stages[s].first],
                         "no HEALTHCHECK instruction");
        free(hc);
        free(base);
    }
    /* DL3049: labels of the schema missing in a stage (hadolint's
     * bookkeeping: a stage built on a good stage is good; a bad stage that
     * is copied from, or whose child defines the label, is not reported) */
    for (size_t l = 0; o && l < o->nlabels && df->nstages; l++) {
        const char *name = o->labels[l].name;
        int *state = mm_xcalloc(df->nstages, sizeof *state); /* 0 bad 1 good 2 silent */
        for (size_t s = 0; s < df->nstages; s++) {
            const mm_df_stage *st = &df->stages[s];
            if (st->parent >= 0 && state[st->parent] == 1)
                state[s] = 1;
            const char *cur = st->name ? st->name : st->image;
            for (size_t i = st->first; i <= st->last && i < df->ninstrs; i++) {
                const mm_df_instr *in = &df->instrs[i];
                const char *from = !strcmp(in->keyword, "COPY") ? dfl_flag(in, "from") : NULL;
                const char *silence = NULL;
                if (from)
                    silence = from;
                if (!strcmp(in->keyword, "LABEL"))
                    for (size_t k = 0; k < in->nkv; k++)
                        if (!strcmp(in->kv[k].key, name)) {
                            silence = cur;
                            state[s] = 1;
                        }
                for (size_t t = 0; silence && t < df->nstages; t++)
                    if (state[t] == 0 && df->stages[t].name &&
                        !strcasecmp(df->stages[t].name, silence) && t != s)
                        state[t] = 2;
            }
        }
        for (size_t s = 0; s < df->nstages; s++)
            if (state[s] == 0)
                dfl_emit(L, R_LABEL_MISSING, &df->instrs[df->stages[s].first],
                         "label %s is missing", name);
        free(state);
    }
    /* pragmas naming no rule */
    for (size_t i = 0; i < df->nbad_pragmas; i++) {
        mm_df_instr fake;
        memset(&fake, 0, sizeof fake);
        fake.line = df->bad_pragma_lines[i];
        fake.keyword = (char *)"#";
        dfl_emit(L, R_BAD_PRAGMA, &fake, "\"%s\" is no rule id", df->bad_pragmas[i]);
    }
}
