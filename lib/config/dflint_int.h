/*
 * config/dflint_int.h - what the files of the Dockerfile linter share:
 * the rule numbers (indexes into the rule table of dflint.c), the lint
 * context with the state hadolint's stateful rules keep, emit(), and the
 * entry points of the rule families:
 *
 *   dflint.c        the rule table, ids and aliases, ignores, overrides,
 *                   findings, the walk over the instructions and ONBUILD
 *   dflint_run.c    rules on RUN: the shell commands (package managers,
 *                   pipes, cache mounts, sudo, cd, ...)
 *   dflint_pkg.c    version pins and option tables of the package managers
 *   dflint_instr.c  rules on the other instructions and the per-stage and
 *                   whole-file rules (USER, HEALTHCHECK, labels, stages)
 *   dflint_label.c  LABEL keys and values against the label schema
 *   dflint_sc.c     ShellCheck on the RUN scripts, mapped to file lines
 *   dflint_config.c the YAML configuration (.hadolint.yaml and mamori's)
 */
#ifndef MM_DFLINT_INT_H
#define MM_DFLINT_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "mamori/dockerfile.h"
#include "util/util.h"

enum {
    R_APT_PIN, R_APK_PIN, R_PIP_PIN, R_NPM_PIN, R_GEM_PIN, R_APT_RECOMMENDS,
    R_APT_LISTS, R_APK_CACHE, R_PIP_CACHE, R_SUDO, R_USER_ROOT, R_ADD_LOCAL,
    R_CURL_PIPE, R_WORKDIR_REL, R_MULTI_CMD, R_MULTI_ENTRYPOINT, R_FROM_UNTAGGED,
    R_FROM_LATEST, R_REGISTRY, R_PIPEFAIL, R_SECRET_NAME, R_UPGRADE, R_CD,
    R_MAINTAINER, R_EXPOSE_SSH, R_UPDATE_ALONE, R_NO_HEALTHCHECK, R_NO_USER,
    R_ADD_URL,
    /* 030 on */
    R_REGISTRY_BYPASS, R_UNKNOWN_INSTR, R_BAD_PRAGMA, R_BAD_CMD, R_COPY_EXTRACT,
    R_PORT_RANGE, R_MULTI_HEALTHCHECK, R_APT_YES, R_COPY_DEST_SLASH, R_COPY_FROM_ALIAS,
    R_COPY_FROM_SELF, R_DUP_ALIAS, R_JSON_NOTATION, R_APT_CMD, R_FROM_PLATFORM,
    R_YUM_YES, R_YUM_CLEAN, R_YUM_PIN, R_ZYPPER_YES, R_ZYPPER_DUP, R_ZYPPER_CLEAN,
    R_ZYPPER_PIN, R_DNF_YES, R_DNF_CLEAN, R_DNF_PIN, R_ONBUILD_BAD, R_ENV_SELF_REF,
    R_COPY_NO_WORKDIR, R_USERADD_UID, R_WGET_PROGRESS, R_LABEL_KEY, R_LABEL_MISSING,
    R_LABEL_EXTRA, R_LABEL_EMPTY, R_LABEL_URL, R_LABEL_TIME, R_LABEL_SPDX,
    R_LABEL_HASH, R_LABEL_SEMVER, R_LABEL_EMAIL, R_CONSECUTIVE_RUN, R_YARN_CLEAN,
    R_ORDER, R_GO_PIN, R_PLATFORM_TARGET, R_USER_NONNUMERIC, R_COPY_ROOT,
    R_PECL_PIN, R_CACHE_CARGO, R_CACHE_GO, R_CACHE_MAVEN, R_CACHE_GRADLE,
    R_CACHE_COMPOSER, R_CACHE_NUGET, R_CACHE_PNPM, R_CACHE_MIX, R_CACHE_GEM,
    R_CURL_AND_WGET, R_LN_SH,
    R__N
};

/* State of one pass: the instructions themselves, or (hadolint's
 * "onbuild" rules) the triggers of the ONBUILD instructions, which see no
 * FROM and nothing else. */
typedef struct dfl_pass {
    bool onbuild;
    bool seen_from;
    int stage;              /* index into df->stages, -1 before the first */
    /* per stage */
    int n_cmd, n_entrypoint, n_healthcheck;
    unsigned curl_wget;     /* bit 0 curl, bit 1 wget (DL4001) */
    bool shell_pipefail, shell_posix;
    char *shell;            /* SHELL in effect, argv joined, or NULL */
    bool workdir;           /* WORKDIR set in this stage or inherited */
    bool pip_no_cache;      /* ENV PIP_NO_CACHE_DIR truthy (inherited) */
    /* DL3059: the previous RUN, when nothing but comments came after it */
    bool prev_run;
    char *prev_flags;
    size_t prev_count;
    /* DL3010: archives copied in this stage (line, base name) */
    char **archives;
    const mm_df_instr **archive_in; /* the COPY that brought each */
    size_t narchives;
    /* DL3044: names defined by ENV or ARG so far */
    mm_map *defined;
} dfl_pass;

typedef struct lint {
    const mm_dockerfile *df;
    const mm_dflint_opts *o;
    mm_findings *out;
    mm_dflint_status *status;
    const char *secret;     /* a value to mask in the quoted instruction */
    int rc;
    /* per stage of the main pass */
    bool *workdir;          /* WORKDIR set in the stage (with its base) */
    bool *pip_no_cache;
    bool *stage_used;       /* its name is the image of some FROM (DL3009) */
    dfl_pass main, ob;
} lint;

extern const mm_dflint_rule mm_dfl_rules[R__N];

void dfl_emit(lint *L, int rule, const mm_df_instr *in, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* a finding for a ShellCheck comment: id "SCnnnn" */
void dfl_emit_sc(lint *L, const mm_df_instr *in, int line, int code, const char *level,
                 const char *message);

/* helpers on instructions */
const char *dfl_flag(const mm_df_instr *in, const char *name);     /* expanded */
const char *dfl_rawflag(const mm_df_instr *in, const char *name);  /* as written */
/* Does a --mount of type cache or tmpfs have a target containing frag? */
bool dfl_mount_with(const mm_df_instr *in, const char *frag, bool any_type);
/* A copy of w without one pair of surrounding quotes. */
char *dfl_unquote(const char *w);
bool dfl_is_archive_name(const char *s);
/* MM-DF-030 for an image reference of COPY --from / RUN --mount from= that
 * is no build stage and comes from a registry outside allowed-registries */
void dfl_check_foreign_image(lint *L, const mm_df_instr *in, const char *ref,
                             const char *what);
/* Is the image reference one from a registry outside allowed-registries? */
bool dfl_registry_denied(const mm_dflint_opts *o, const char *ref, char **registry);

/* dflint_pkg.c: version pins and option tables of the package managers */
bool dfl_pin_apt(const char *a);
bool dfl_pin_apk(const char *a);
bool dfl_pin_pip(const char *a);
bool dfl_pin_npm(const char *a);
bool dfl_pin_rpm(const char *a);   /* name-version for yum and dnf */
bool dfl_pin_zypper(const char *a);
bool dfl_pin_pecl(const char *a);
extern const char *const dfl_apt_vo[], *const dfl_apk_vo[], *const dfl_pip_vo[],
    *const dfl_npm_vo[], *const dfl_gem_vo[], *const dfl_rpm_vo[], *const dfl_zypper_vo[],
    *const dfl_go_vo[];

/* dflint_label.c: LABEL keys and the label schema */
void dfl_lint_labels(lint *L, const mm_df_instr *in);

void dfl_lint_run(lint *L, dfl_pass *ps, const mm_df_instr *in);
void dfl_lint_other(lint *L, dfl_pass *ps, const mm_df_instr *in);
void dfl_stage_start(lint *L, dfl_pass *ps, const mm_df_instr *in);
void dfl_finish(lint *L);
void dfl_shellcheck(lint *L);

#endif
