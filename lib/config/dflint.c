/*
 * config/dflint.c - the Dockerfile linter's rule table and engine: rule
 * ids and their hadolint aliases, ignores (options, config file, inline
 * pragmas), severity overrides, the findings, and the walk over the
 * instructions that hands each one to its rule family (dflint_run.c,
 * dflint_instr.c), including the trigger of every ONBUILD, which hadolint's
 * rules also check.  Every rule that names a hadolint id behaves as
 * hadolint's rule of that id does on hadolint's own test cases
 * (tests/fixtures/dflint/hadolint-cases.txt); docs/misconfig.md lists the rules and the
 * few deliberate differences.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/config_int.h"
#include "config/dflint_int.h"

#define L_ MM_SEV_LOW
#define M_ MM_SEV_MEDIUM
#define H_ MM_SEV_HIGH

const mm_dflint_rule mm_dfl_rules[R__N] = {
    [R_APT_PIN] = {"MM-DF-001", "DL3008", NULL, L_,
        "apt-get install without pinned package versions",
        "Pin versions (apt-get install pkg=1.2.3-1) so that rebuilds install what was tested."},
    [R_APK_PIN] = {"MM-DF-002", "DL3018", NULL, L_,
        "apk add without pinned package versions", "Pin versions (apk add pkg=1.2.3-r0)."},
    [R_PIP_PIN] = {"MM-DF-003", "DL3013", NULL, L_,
        "pip install without pinned package versions",
        "Pin versions (pip install pkg==1.2.3) or install from a requirements file with pins "
        "and hashes."},
    [R_NPM_PIN] = {"MM-DF-004", "DL3016", NULL, L_,
        "npm install without pinned package versions",
        "Pin versions (npm install pkg@1.2.3) or use npm ci with a lock file."},
    [R_GEM_PIN] = {"MM-DF-005", "DL3028", NULL, L_,
        "gem install without pinned versions", "Pin versions (gem install pkg:1.2.3 or -v 1.2.3)."},
    [R_APT_RECOMMENDS] = {"MM-DF-006", "DL3015", NULL, L_,
        "apt-get install without --no-install-recommends",
        "Add --no-install-recommends: recommended packages widen the attack surface and the "
        "image."},
    [R_APT_LISTS] = {"MM-DF-007", "DL3009", "Dockle DKL-DI-0005", L_,
        "apt lists not removed after apt-get update in the same RUN",
        "End the RUN with rm -rf /var/lib/apt/lists/* (or use cache mounts on /var/lib/apt and "
        "/var/cache/apt)."},
    [R_APK_CACHE] = {"MM-DF-008", "DL3019", "Dockle DKL-DI-0005", L_,
        "apk add without --no-cache",
        "Use apk add --no-cache (or a cache mount on /var/cache/apk)."},
    [R_PIP_CACHE] = {"MM-DF-009", "DL3042", NULL, L_,
        "pip install without --no-cache-dir",
        "Use pip install --no-cache-dir, PIP_NO_CACHE_DIR=1, or a cache mount on ~/.cache/pip."},
    [R_SUDO] = {"MM-DF-010", "DL3004", NULL, M_, "sudo used in RUN",
        "RUN already runs as the build user; switch with USER instead of sudo, and do not ship "
        "sudo."},
    [R_USER_ROOT] = {"MM-DF-011", "DL3002", "CIS 4.1; Dockle CIS-DI-0001", M_,
        "the last USER of a stage is root",
        "End every stage, and the final one above all, with USER set to an unprivileged user "
        "(USER 10001)."},
    [R_ADD_LOCAL] = {"MM-DF-012", "DL3020", "CIS 4.9; Dockle CIS-DI-0009", L_,
        "ADD used for local files or folders",
        "Use COPY for files and folders; ADD only for local tar archives to extract."},
    [R_CURL_PIPE] = {"MM-DF-013", NULL, "SP 800-190 3.1.2", H_,
        "a download piped into a shell (curl | sh)",
        "Download to a file, verify its checksum or signature, then run it."},
    [R_WORKDIR_REL] = {"MM-DF-014", "DL3000", NULL, L_, "WORKDIR is not an absolute path",
        "Use an absolute WORKDIR."},
    [R_MULTI_CMD] = {"MM-DF-015", "DL4003", "Docker check MultipleInstructionsDisallowed", L_,
        "more than one CMD in a stage", "Keep one CMD per stage: only the last one takes effect."},
    [R_MULTI_ENTRYPOINT] = {"MM-DF-016", "DL4004", "Docker check MultipleInstructionsDisallowed",
        L_, "more than one ENTRYPOINT in a stage",
        "Keep one ENTRYPOINT per stage: only the last one takes effect."},
    [R_FROM_UNTAGGED] = {"MM-DF-017", "DL3006", "CIS 4.2", M_,
        "base image without a tag or digest",
        "Name the base image with a tag, better a digest (image:1.2@sha256:...)."},
    [R_FROM_LATEST] = {"MM-DF-018", "DL3007", "CIS 4.2; Dockle DKL-DI-0006", M_,
        "base image tagged latest", "Use a fixed version tag or a digest instead of latest."},
    [R_REGISTRY] = {"MM-DF-019", "DL3026", "CIS 4.2", H_,
        "base image from a registry that is not allowed",
        "Pull base images only from the allowed registries (allowed-registries)."},
    [R_PIPEFAIL] = {"MM-DF-020", "DL4006", NULL, L_,
        "RUN with a pipe but without set -o pipefail",
        "Set SHELL [\"/bin/bash\", \"-o\", \"pipefail\", \"-c\"] so that a failing command before "
        "a pipe fails the build."},
    [R_SECRET_NAME] = {"MM-DF-021", "DL3064",
        "CIS 4.10; Dockle CIS-DI-0010; Docker check SecretsUsedInArgOrEnv", H_,
        "credential in ARG or ENV",
        "Pass secrets with RUN --mount=type=secret; ARG and ENV values stay in the image "
        "config and history."},
    [R_UPGRADE] = {"MM-DF-022", NULL, "hadolint DL3005/DL3017 (removed upstream)", L_,
        "package manager upgrade in RUN",
        "Do not upgrade all packages in a Dockerfile: use an updated base image, pin what you "
        "install."},
    [R_CD] = {"MM-DF-023", "DL3003", NULL, L_, "cd used in RUN", "Use WORKDIR to change directories."},
    [R_MAINTAINER] = {"MM-DF-024", "DL4000", "Docker check MaintainerDeprecated", L_,
        "MAINTAINER is deprecated", "Use LABEL org.opencontainers.image.authors=\"...\"."},
    [R_EXPOSE_SSH] = {"MM-DF-025", NULL, "SP 800-190 3.1.2", M_,
        "remote shell port (22 ssh / 23 telnet) exposed",
        "Do not run ssh or telnet servers in containers; use docker exec / kubectl exec."},
    [R_UPDATE_ALONE] = {"MM-DF-026", NULL, "CIS 4.7; Dockle CIS-DI-0007", L_,
        "package index update alone in a RUN",
        "Update and install in one RUN (apt-get update && apt-get install ...) so that a "
        "cached update layer cannot serve stale indexes."},
    [R_NO_HEALTHCHECK] = {"MM-DF-027", "DL3057", "CIS 4.6; Dockle CIS-DI-0006", L_,
        "no HEALTHCHECK in an image the file builds",
        "Add a HEALTHCHECK so that the orchestrator can detect a broken container."},
    [R_NO_USER] = {"MM-DF-028", "DL3063", "CIS 4.1; Dockle CIS-DI-0001", L_,
        "no USER in the final stage: it runs as root unless the base image sets one",
        "Add USER with an unprivileged user to the final stage."},
    [R_ADD_URL] = {"MM-DF-029", NULL, "CIS 4.9", M_, "ADD downloads a URL without --checksum",
        "Download with a verified checksum (ADD --checksum=sha256:... URL) or with curl and "
        "a checksum check."},
    [R_REGISTRY_BYPASS] = {"MM-DF-030", NULL, "CIS 4.2", H_,
        "COPY --from or RUN --mount from= an image of a registry that is not allowed",
        "Copy from build stages or from images of the allowed registries only."},
    [R_UNKNOWN_INSTR] = {"MM-DF-031", NULL, "hadolint DL1000 (parse error)", M_,
        "unknown instruction: the build fails",
        "Fix the spelling of the instruction (BuildKit refuses the file)."},
    [R_BAD_PRAGMA] = {"MM-DF-032", NULL, NULL, L_, "ignore pragma names no rule id",
        "Name rule ids (MM-DF-001, DL3008, SC2086) in ignore pragmas; a hadolint pragma with a "
        "bad name is ignored as a whole."},
    [R_BAD_CMD] = {"MM-DF-033", "DL3001", NULL, L_,
        "a command that makes no sense in a container (ssh, vim, service, ps, top, ...)",
        "Drop interactive and init-system commands from the build."},
    [R_COPY_EXTRACT] = {"MM-DF-034", "DL3010", NULL, L_,
        "archive copied with COPY and then extracted",
        "Use ADD to extract a local archive in one step."},
    [R_PORT_RANGE] = {"MM-DF-035", "DL3011", NULL, L_, "EXPOSE port outside 0-65535",
        "Use a valid port number."},
    [R_MULTI_HEALTHCHECK] = {"MM-DF-036", "DL3012", NULL, L_,
        "more than one HEALTHCHECK in a stage", "Keep one HEALTHCHECK per stage."},
    [R_APT_YES] = {"MM-DF-037", "DL3014", NULL, L_, "apt-get install without -y",
        "Use apt-get install -y so that the build never waits for input."},
    [R_COPY_DEST_SLASH] = {"MM-DF-038", "DL3021", NULL, L_,
        "COPY of several sources to a destination without a trailing /",
        "End the destination with / when copying more than one source."},
    [R_COPY_FROM_ALIAS] = {"MM-DF-039", "DL3022", NULL, L_,
        "COPY --from names no earlier stage",
        "Name a stage defined before (FROM ... AS name) or a full image reference."},
    [R_COPY_FROM_SELF] = {"MM-DF-040", "DL3023", NULL, L_,
        "COPY --from names its own stage", "Copy from another stage."},
    [R_DUP_ALIAS] = {"MM-DF-041", "DL3024", NULL, L_, "stage name used twice",
        "Give every stage its own name (BuildKit refuses duplicates)."},
    [R_JSON_NOTATION] = {"MM-DF-042", "DL3025", NULL, L_,
        "CMD, ENTRYPOINT or HEALTHCHECK CMD in shell form",
        "Use the JSON (exec) form so that signals reach the process."},
    [R_APT_CMD] = {"MM-DF-043", "DL3027", NULL, L_, "apt used instead of apt-get",
        "Use apt-get or apt-cache in scripts; apt's interface is not stable."},
    [R_FROM_PLATFORM] = {"MM-DF-044", "DL3029", NULL, L_, "FROM --platform with a fixed value",
        "Leave the platform to the build (or use $BUILDPLATFORM / $TARGETPLATFORM)."},
    [R_YUM_YES] = {"MM-DF-045", "DL3030", NULL, L_, "yum install without -y",
        "Use yum install -y."},
    [R_YUM_CLEAN] = {"MM-DF-046", "DL3032", NULL, L_, "yum clean all missing after yum install",
        "End the RUN with yum clean all (or rm -rf /var/cache/yum)."},
    [R_YUM_PIN] = {"MM-DF-047", "DL3033", NULL, L_, "yum install without pinned versions",
        "Pin versions (yum install -y pkg-1.2.3, yum module install mod:stream)."},
    [R_ZYPPER_YES] = {"MM-DF-048", "DL3034", NULL, L_,
        "zypper without the non-interactive switch", "Use zypper install -y (or -n)."},
    [R_ZYPPER_DUP] = {"MM-DF-049", "DL3035", NULL, L_, "zypper dist-upgrade in RUN",
        "Do not dist-upgrade in a Dockerfile: use an updated base image."},
    [R_ZYPPER_CLEAN] = {"MM-DF-050", "DL3036", NULL, L_, "zypper clean missing after zypper install",
        "End the RUN with zypper clean."},
    [R_ZYPPER_PIN] = {"MM-DF-051", "DL3037", NULL, L_, "zypper install without pinned versions",
        "Pin versions (zypper install -y pkg=1.2.3)."},
    [R_DNF_YES] = {"MM-DF-052", "DL3038", NULL, L_, "dnf install without -y",
        "Use dnf install -y."},
    [R_DNF_CLEAN] = {"MM-DF-053", "DL3040", NULL, L_, "dnf clean all missing after dnf install",
        "End the RUN with dnf clean all."},
    [R_DNF_PIN] = {"MM-DF-054", "DL3041", NULL, L_, "dnf install without pinned versions",
        "Pin versions (dnf install -y pkg-1.2.3, dnf module install mod:stream)."},
    [R_ONBUILD_BAD] = {"MM-DF-055", "DL3043", NULL, L_,
        "ONBUILD triggers ONBUILD, FROM or MAINTAINER",
        "Only ordinary instructions may be ONBUILD triggers."},
    [R_ENV_SELF_REF] = {"MM-DF-056", "DL3044", NULL, L_,
        "ENV refers to a variable it defines itself",
        "Define the variable in one ENV and use it in the next: within one ENV the old value "
        "is used."},
    [R_COPY_NO_WORKDIR] = {"MM-DF-057", "DL3045", NULL, L_,
        "COPY to a relative destination without WORKDIR",
        "Set WORKDIR first or copy to an absolute path."},
    [R_USERADD_UID] = {"MM-DF-058", "DL3046", NULL, L_, "useradd with a high UID and without -l",
        "Use useradd -l with high UIDs (the lastlog file would grow the image)."},
    [R_WGET_PROGRESS] = {"MM-DF-059", "DL3047", NULL, L_, "wget without --progress",
        "Use wget --progress=dot:giga, -q or -nv to keep build logs small."},
    [R_LABEL_KEY] = {"MM-DF-060", "DL3048", NULL, L_, "invalid label key",
        "Use lower-case reverse-DNS label keys outside the reserved com.docker., io.docker. "
        "and org.dockerproject. namespaces."},
    [R_LABEL_MISSING] = {"MM-DF-061", "DL3049", NULL, L_, "label required by label-schema missing",
        "Add the label."},
    [R_LABEL_EXTRA] = {"MM-DF-062", "DL3050", NULL, L_, "label not in label-schema (strict-labels)",
        "Remove the label or add it to the schema."},
    [R_LABEL_EMPTY] = {"MM-DF-063", "DL3051", NULL, L_, "label from label-schema is empty",
        "Give the label a value."},
    [R_LABEL_URL] = {"MM-DF-064", "DL3052", NULL, L_, "label is not a valid URL",
        "Use an absolute URL (RFC 3986)."},
    [R_LABEL_TIME] = {"MM-DF-065", "DL3053", NULL, L_, "label is not an RFC 3339 time",
        "Use a time such as 2024-05-01T10:00:00Z."},
    [R_LABEL_SPDX] = {"MM-DF-066", "DL3054", NULL, L_, "label is not an SPDX licence expression",
        "Use SPDX licence identifiers (MIT, Apache-2.0 OR MIT)."},
    [R_LABEL_HASH] = {"MM-DF-067", "DL3055", NULL, L_, "label is not a git hash",
        "Use a 7- or 40-digit lower-case git commit hash."},
    [R_LABEL_SEMVER] = {"MM-DF-068", "DL3056", NULL, L_, "label is not a semantic version",
        "Use a semantic version (1.2.3, 2.0.0-rc.1)."},
    [R_LABEL_EMAIL] = {"MM-DF-069", "DL3058", NULL, L_, "label is not an email address",
        "Use an email address (name@example.org)."},
    [R_CONSECUTIVE_RUN] = {"MM-DF-070", "DL3059", NULL, L_, "consecutive RUN instructions",
        "Join consecutive single-command RUNs into one layer."},
    [R_YARN_CLEAN] = {"MM-DF-071", "DL3060", NULL, L_, "yarn cache clean missing after yarn install",
        "End the RUN with yarn cache clean (or use a cache mount)."},
    [R_ORDER] = {"MM-DF-072", "DL3061", NULL, L_, "instruction before the first FROM",
        "Begin the Dockerfile with FROM (only ARG and comments may come first)."},
    [R_GO_PIN] = {"MM-DF-073", "DL3062", NULL, L_, "go install/get/run without a pinned version",
        "Pin a version (go install example.com/tool@v1.2.3)."},
    [R_PLATFORM_TARGET] = {"MM-DF-074", "DL3065", NULL, L_, "FROM --platform=$TARGETPLATFORM",
        "Drop the flag: the target platform is the default."},
    [R_USER_NONNUMERIC] = {"MM-DF-075", "DL3066", NULL, L_, "USER with a non-numeric user",
        "Use a numeric UID (USER 10001) so that the host and policies can check it."},
    [R_COPY_ROOT] = {"MM-DF-076", "DL3067", NULL, M_,
        "COPY of a whole file system from another stage",
        "Copy only what the image needs; a whole root file system brings build tools and "
        "secrets along."},
    [R_PECL_PIN] = {"MM-DF-077", "DL3068", NULL, L_, "pecl install without pinned versions",
        "Pin versions (pecl install redis-6.1.0)."},
    [R_CACHE_CARGO] = {"MM-DF-078", "DL3069", NULL, L_, "cargo without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.cargo/registry (and .cargo/git)."},
    [R_CACHE_GO] = {"MM-DF-079", "DL3070", NULL, L_, "go without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.cache/go-build (and /go/pkg/mod)."},
    [R_CACHE_MAVEN] = {"MM-DF-080", "DL3071", NULL, L_, "mvn without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.m2."},
    [R_CACHE_GRADLE] = {"MM-DF-081", "DL3072", NULL, L_, "gradle without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.gradle."},
    [R_CACHE_COMPOSER] = {"MM-DF-082", "DL3073", NULL, L_, "composer without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.composer/cache."},
    [R_CACHE_NUGET] = {"MM-DF-083", "DL3074", NULL, L_, "dotnet/nuget without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.nuget/packages."},
    [R_CACHE_PNPM] = {"MM-DF-084", "DL3075", NULL, L_, "pnpm without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.local/share/pnpm/store."},
    [R_CACHE_MIX] = {"MM-DF-085", "DL3076", NULL, L_, "mix without a BuildKit cache mount",
        "Use --mount=type=cache,target=/root/.hex (and /root/.mix)."},
    [R_CACHE_GEM] = {"MM-DF-086", "DL3077", NULL, L_, "gem/bundle without a BuildKit cache mount",
        "Use --mount=type=cache,target=/usr/local/bundle."},
    [R_CURL_AND_WGET] = {"MM-DF-087", "DL4001", NULL, L_, "both wget and curl used in a stage",
        "Use one download tool."},
    [R_LN_SH] = {"MM-DF-088", "DL4005", NULL, L_, "/bin/sh replaced with ln",
        "Use SHELL to change the shell instead of relinking /bin/sh."},
};

/* hadolint ids that hadolint removed and mamori's rules still cover: they
 * keep working in ignores and overrides */
static const struct { const char *alias; int rule; } legacy[] = {
    {"DL3005", R_UPGRADE}, {"DL3017", R_UPGRADE},
};

size_t mm_dflint_rule_count(void) { return R__N; }
const mm_dflint_rule *mm_dflint_rule_get(size_t i) { return i < R__N ? &mm_dfl_rules[i] : NULL; }

static bool id_match(const char *want, int rule)
{
    const mm_dflint_rule *r = &mm_dfl_rules[rule];
    if (!strcasecmp(want, r->id) || (r->hadolint && !strcasecmp(want, r->hadolint)))
        return true;
    for (size_t i = 0; i < sizeof legacy / sizeof legacy[0]; i++)
        if (legacy[i].rule == rule && !strcasecmp(want, legacy[i].alias))
            return true;
    return false;
}

bool mm_dflint_id_known(const char *id)
{
    if (!id)
        return false;
    for (int r = 0; r < R__N; r++)
        if (id_match(id, r))
            return true;
    if ((id[0] == 'S' || id[0] == 's') && (id[1] == 'C' || id[1] == 'c') && id[2]) {
        for (const char *c = id + 2; *c; c++)
            if (!isdigit((unsigned char)*c))
                return false;
        return true;
    }
    return false;
}

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
    for (size_t i = 0; i < o->nlabels; i++)
        free(o->labels[i].name);
    free(o->labels);
    free(o->shellcheck);
    free(o->spdx_list);
    memset(o, 0, sizeof *o);
}

/* --- findings ---------------------------------------------------------------- */
static bool ignored_id(lint *L, const char *id, int rule, const mm_df_instr *in)
{
#define M(x) (rule >= 0 ? id_match((x), rule) : !strcasecmp((x), id))
    bool pragmas = !(L->o && L->o->disable_ignore_pragma);
    for (size_t i = 0; pragmas && in && i < in->nignore; i++)
        if (M(in->ignore[i]))
            return true;
    for (size_t i = 0; pragmas && i < L->df->nglobal_ignore; i++)
        if (M(L->df->global_ignore[i]))
            return true;
    for (size_t i = 0; L->o && i < L->o->nignored; i++)
        if (M(L->o->ignored[i]))
            return true;
#undef M
    return false;
}

/* the overridden severity; false when the rule is turned off */
static bool severity_of(lint *L, const char *id, int rule, mm_severity *sev)
{
    for (size_t i = 0; L->o && i < L->o->noverrides; i++) {
        const char *w = L->o->overrides[i].id;
        if (rule >= 0 ? id_match(w, rule) : !strcasecmp(w, id)) {
            *sev = L->o->overrides[i].severity;
            if (*sev == MM_SEV_UNKNOWN)
                return false;
        }
    }
    return true;
}

static void add_finding(lint *L, const char *id, const char *title, mm_severity sev,
                        const mm_df_instr *in, int line, char *ev, const char *remediation,
                        char **refs, size_t nr)
{
    mm_finding f;
    memset(&f, 0, sizeof f);
    f.id = (char *)id;
    f.kind = MM_FIND_MISCONFIG;
    f.severity = sev;
    f.title = (char *)title;
    f.loc.layer = -1;
    f.loc.path = L->df->path;
    f.loc.line = line;
    char *instr = NULL;
    if (in && in->original) {
        char *full = L->secret ? mm_mask_in(in->original, L->secret) : mm_xstrdup(in->original);
        instr = mm_xstrndup(full, strnlen(full, 200));
        free(full);
        f.loc.instruction = instr;
    }
    if (ev && strlen(ev) > 500)
        ev[500] = 0;
    f.evidence = ev;
    f.remediation = (char *)remediation;
    f.references = refs;
    f.nreferences = nr;
    f.section = (char *)"3.1.2";
    int rc = mm_findings_add(L->out, &f);
    if (rc < 0 && L->rc == 0)
        L->rc = rc;
    free(instr);
}

void dfl_emit(lint *L, int rule, const mm_df_instr *in, const char *fmt, ...)
{
    const mm_dflint_rule *r = &mm_dfl_rules[rule];
    if (ignored_id(L, r->id, rule, in))
        return;
    mm_severity sev = r->severity;
    if (!severity_of(L, r->id, rule, &sev))
        return;
    char *ev = NULL;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        ev = mm_xvasprintf(fmt, ap);
        va_end(ap);
    }
    char *refs[2];
    size_t nr = 0;
    if (r->hadolint)
        refs[nr++] = mm_xasprintf("https://github.com/hadolint/hadolint/wiki/%s", r->hadolint);
    if (r->other)
        refs[nr++] = mm_xstrdup(r->other);
    add_finding(L, r->id, r->title, sev, in, in ? in->line : 0, ev, r->remediation, refs, nr);
    for (size_t i = 0; i < nr; i++)
        free(refs[i]);
    free(ev);
}

void dfl_emit_sc(lint *L, const mm_df_instr *in, int line, int code, const char *level,
                 const char *message)
{
    char id[16];
    snprintf(id, sizeof id, "SC%04d", code);
    if (ignored_id(L, id, -1, in))
        return;
    /* a broken script fails the build; the rest are hygiene */
    mm_severity sev = level && !strcmp(level, "error") ? MM_SEV_MEDIUM : MM_SEV_LOW;
    if (!severity_of(L, id, -1, &sev))
        return;
    char *title = mm_xasprintf("ShellCheck %s: %s", id, message ? message : "");
    if (strlen(title) > 300)
        title[300] = 0;
    char *ev = mm_xasprintf("%s (ShellCheck %s)", message ? message : "", level ? level : "");
    char *ref = mm_xasprintf("https://www.shellcheck.net/wiki/%s", id);
    char *refs[1] = {ref};
    add_finding(L, id, title, sev, in, line, ev,
                "Fix the script as ShellCheck suggests, or ignore the code with "
                "# hadolint ignore=SCnnnn above the RUN.", refs, 1);
    free(ref);
    free(ev);
    free(title);
}

/* --- helpers ------------------------------------------------------------------ */
static const char *flag_in(char **flags, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (size_t i = 0; i < n; i++) {
        const char *f = flags[i];
        if (f[0] == '-' && f[1] == '-' && !strncmp(f + 2, name, nl) && f[2 + nl] == '=')
            return f + 3 + nl;
    }
    return NULL;
}

const char *dfl_flag(const mm_df_instr *in, const char *name)
{
    return flag_in(in->flags, in->nflags, name);
}

const char *dfl_rawflag(const mm_df_instr *in, const char *name)
{
    return flag_in(in->rawflags, in->nrawflags, name);
}

bool dfl_mount_with(const mm_df_instr *in, const char *frag, bool any_type)
{
    for (size_t i = 0; i < in->nflags; i++) {
        const char *f = in->flags[i];
        if (!mm_str_startswith(f, "--mount="))
            continue;
        char *m = mm_xstrdup(f + 8);
        bool hit = false, typed = false;
        char *save = NULL;
        for (char *kv = strtok_r(m, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
            if (!strcmp(kv, "type=cache") || !strcmp(kv, "type=tmpfs"))
                typed = true;
            const char *eq = strchr(kv, '=');
            if (!eq)
                continue;
            size_t kl = (size_t)(eq - kv);
            if (((kl == 6 && !strncmp(kv, "target", 6)) || (kl == 3 && !strncmp(kv, "dst", 3)) ||
                 (kl == 11 && !strncmp(kv, "destination", 11))) && strstr(eq + 1, frag))
                hit = true;
        }
        free(m);
        if (hit && (typed || any_type))
            return true;
    }
    return false;
}

char *dfl_unquote(const char *w)
{
    size_t n = strlen(w);
    if (n >= 2 && (w[0] == '"' || w[0] == '\'') && w[n - 1] == w[0])
        return mm_xstrndup(w + 1, n - 2);
    return mm_xstrdup(w);
}

/* hadolint's list of archive file extensions */
bool dfl_is_archive_name(const char *s)
{
    static const char *const ext[] = {".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2",
                                      ".tbz", ".tbz2", ".tgz", ".tlz", ".tpz", ".txz", ".xz"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (mm_str_endswith(s, ext[i]))
            return true;
    return false;
}

/* --- the walk ----------------------------------------------------------------- */
static void pass_reset_stage(dfl_pass *ps)
{
    ps->n_cmd = ps->n_entrypoint = ps->n_healthcheck = 0;
    ps->curl_wget = 0;
    ps->shell_pipefail = false;
    ps->shell_posix = true;
    free(ps->shell);
    ps->shell = NULL;
    ps->prev_run = false;
    mm_strv_free(ps->archives, ps->narchives);
    free(ps->archive_in);
    ps->archives = NULL;
    ps->archive_in = NULL;
    ps->narchives = 0;
}

static void pass_free(dfl_pass *ps)
{
    pass_reset_stage(ps);
    free(ps->prev_flags);
    if (ps->defined)
        mm_map_free(ps->defined, NULL);
}

static void lint_one(lint *L, dfl_pass *ps, const mm_df_instr *in)
{
    if (!strcmp(in->keyword, "FROM") && !ps->onbuild) {
        pass_reset_stage(ps);
        ps->seen_from = true;
        ps->stage = in->stage;
        dfl_stage_start(L, ps, in);
        return;
    }
    if (!strcmp(in->keyword, "RUN")) {
        dfl_lint_run(L, ps, in);
        return;
    }
    /* anything else ends a run of consecutive RUNs (DL3059) */
    ps->prev_run = false;
    dfl_lint_other(L, ps, in);
}

int mm_dockerfile_lint_ex(const mm_dockerfile *df, const mm_dflint_opts *o, mm_findings *out,
                          mm_dflint_status *st)
{
    if (!df || !out)
        return mm_error_set(MM_EINVAL, "dockerfile lint: no Dockerfile or findings list");
    mm_dflint_status dummy;
    if (!st)
        st = &dummy;
    memset(st, 0, sizeof *st);
    lint L;
    memset(&L, 0, sizeof L);
    L.df = df;
    L.o = o;
    L.out = out;
    L.status = st;
    size_t ns = df->nstages + 1;
    L.workdir = mm_xcalloc(ns, sizeof *L.workdir);
    L.pip_no_cache = mm_xcalloc(ns, sizeof *L.pip_no_cache);
    L.stage_used = mm_xcalloc(ns, sizeof *L.stage_used);
    for (size_t s = 0; s < df->nstages; s++)
        for (size_t t = 0; t < df->nstages && df->stages[s].name; t++)
            if (!strcasecmp(df->stages[t].image, df->stages[s].name))
                L.stage_used[s] = true;
    L.main.stage = -1;
    L.main.shell_posix = true;
    L.main.defined = mm_map_new();
    L.ob.onbuild = true;
    L.ob.stage = -1;
    L.ob.shell_posix = true;
    L.ob.defined = mm_map_new();
    for (size_t i = 0; i < df->ninstrs; i++) {
        const mm_df_instr *in = &df->instrs[i];
        lint_one(&L, &L.main, in);
        if (!strcmp(in->keyword, "ONBUILD") && in->onbuild && in->onbuild->keyword &&
            strcmp(in->onbuild->keyword, "ONBUILD") && strcmp(in->onbuild->keyword, "FROM") &&
            strcmp(in->onbuild->keyword, "MAINTAINER")) {
            /* the trigger is checked as hadolint's onbuild rules do, with
             * its line and the ignores of the ONBUILD line */
            mm_df_instr t = *in->onbuild;
            t.ignore = in->ignore;
            t.nignore = in->nignore;
            t.original = in->original;
            lint_one(&L, &L.ob, &t);
        }
    }
    dfl_finish(&L);
    dfl_shellcheck(&L);
    pass_free(&L.main);
    pass_free(&L.ob);
    free(L.workdir);
    free(L.pip_no_cache);
    free(L.stage_used);
    return L.rc;
}

int mm_dockerfile_lint(const mm_dockerfile *df, const mm_dflint_opts *o, mm_findings *out)
{
    return mm_dockerfile_lint_ex(df, o, out, NULL);
}
