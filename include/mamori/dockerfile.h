/*
 * mamori/dockerfile.h - a Dockerfile parser and the linter built on it
 * (`mamori config PATH`, NIST SP 800-190 section 3.1.2).
 *
 * The parser follows the BuildKit front-end: parser directives (`# escape=`,
 * `# syntax=`), line continuations with the escape character, comments
 * (also between continued lines), heredocs (`<<EOF`, `<<-EOF`, quoted
 * names, several per instruction), exec (JSON) and shell forms, and
 * ARG/ENV substitution ($VAR, ${VAR}, ${VAR:-x}, ${VAR:+x}, ...) with
 * ARGs before the first FROM visible only to FROM lines and per-stage
 * scopes after it.  Malformed input (an unterminated heredoc, a bad JSON
 * array) is an MM_EFORMAT error naming the file and the line.  What
 * hadolint would accept and lint is kept and linted: instructions before
 * the first FROM, no FROM at all, duplicate stage names, ONBUILD FROM;
 * an unknown instruction is kept as "unknown" and reported by the linter.
 *
 * The linter turns a parsed Dockerfile into mm_findings (kind
 * MM_FIND_MISCONFIG, section "3.1.2"), one per rule violation, each with
 * the file, line and rule id; docs/misconfig.md lists every rule with its
 * hadolint / Dockle / CIS Docker Benchmark equivalent.
 */
#ifndef MAMORI_DOCKERFILE_H
#define MAMORI_DOCKERFILE_H

#include "mamori/common.h"
#include "mamori/finding.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Caps on a hostile Dockerfile. */
#define MM_DF_MAX_SIZE        (4u << 20)  /* bytes in the file */
#define MM_DF_MAX_INSTRS      10000       /* instructions */
#define MM_DF_MAX_HEREDOCS    16          /* heredocs in one instruction */
#define MM_DF_MAX_EXPANSION   (64u << 10) /* bytes of one expanded word */

typedef struct mm_df_heredoc {
    char *name;       /* the terminator word, quotes removed */
    char *body;       /* the lines up to the terminator, each ending in "\n"
                       * (leading tabs removed for "<<-") */
    bool expand;      /* unquoted name: variables expand in the body */
    bool strip_tabs;  /* "<<-" */
    int line;         /* line of the first body line */
} mm_df_heredoc;

/* A key=value of ENV, ARG or LABEL, after quote removal and substitution. */
typedef struct mm_df_kv {
    char *key;
    char *value;      /* NULL for "ARG NAME" without a default */
    bool has_value;
    char *raw_key;    /* the key and the value as written (quotes kept,  */
    char *raw_value;  /* nothing substituted); raw_value NULL without one */
} mm_df_kv;

typedef struct mm_df_instr {
    char *keyword;    /* upper case: "RUN", "FROM", ... */
    int line;         /* line of the keyword (1-based) */
    int end_line;     /* last line, continuations and heredocs included */
    char *original;   /* the instruction as one line: continuations joined,
                       * heredoc bodies left out */
    char *args;       /* the text after the keyword and the flags, as
                       * written (not expanded) */
    char **flags;     /* "--from=build", "--mount=type=cache,..." (expanded) */
    size_t nflags;
    bool exec_form;   /* the arguments are a JSON array */
    /* Exec form: the array's strings.  RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK
     * in shell form: one element, the command as written.  Every other
     * instruction: its words after quote removal and substitution. */
    char **argv;
    size_t nargv;
    mm_df_kv *kv;     /* ENV, ARG, LABEL pairs */
    size_t nkv;
    mm_df_heredoc *heredocs;
    size_t nheredocs;
    bool unresolved;  /* a substitution named a variable with no value */
    int stage;        /* index into the stages, -1 before the first FROM */
    char **ignore;    /* rule ids from "# mamori ignore=" and "# hadolint
                       * ignore=" on the lines just before */
    size_t nignore;
    /* The words after the flags as written: quotes and escapes kept,
     * nothing substituted (what hadolint's rules look at). */
    char **raw;
    size_t nraw;
    char **rawflags;  /* the flags as written */
    size_t nrawflags;
    bool unknown;     /* not a Dockerfile instruction (kept, reported) */
    bool before_from; /* an instruction other than ARG before the first FROM */
    /* ONBUILD: the trigger instruction, parsed (NULL when it could not be;
     * its keyword is set even then).  It is not part of the stage. */
    struct mm_df_instr *onbuild;
    /* RUN in shell form: the script as the shell sees it, with the line
     * structure of the file kept so that a line of the script is a line of
     * the Dockerfile (script_line is the file line of its first line).
     * NULL for other instructions. */
    char *script;
    int script_line;
} mm_df_instr;

typedef struct mm_df_stage {
    char *name;       /* "AS name", lower case, or NULL */
    char *image;      /* the base image after substitution */
    bool image_unresolved; /* the reference used a variable without value */
    int parent;       /* index of an earlier stage it is FROM, else -1 */
    int line;
    size_t first, last; /* indexes of its FROM and last instruction */
} mm_df_stage;

typedef struct mm_dockerfile {
    char *path;
    char escape;      /* '\\' or '`' */
    char *syntax;     /* "# syntax=" directive, or NULL */
    mm_df_instr *instrs;
    size_t ninstrs;
    mm_df_stage *stages;
    size_t nstages;
    char **global_ignore; /* "# hadolint global ignore=" / "# mamori global
                           * ignore=": rule ids off for the whole file */
    size_t nglobal_ignore;
    /* "# hadolint shell=NAME": the shell of the base image (powershell on
     * Windows images), or NULL */
    char *shell_pragma;
    /* rule names in ignore pragmas that are no rule id ("ignore=crazy"):
     * the line and the name, reported by the linter */
    char **bad_pragmas;
    int *bad_pragma_lines;
    size_t nbad_pragmas;
} mm_dockerfile;

/* Parses data (len bytes, need not be NUL-terminated); path names the file
 * in messages and findings.  0 or MM_EFORMAT / MM_ELIMIT with a message
 * "PATH:LINE: ...". */
int mm_dockerfile_parse(mm_dockerfile **out, const char *path,
                        const char *data, size_t len);
/* Reads and parses a file (MM_EIO / MM_ENOTFOUND when it cannot be read). */
int mm_dockerfile_load(mm_dockerfile **out, const char *path);
void mm_dockerfile_free(mm_dockerfile *df);

/* --- the linter ----------------------------------------------------------- */
typedef struct mm_dflint_override {
    char *id;
    mm_severity severity;
} mm_dflint_override;

/* label-schema types (hadolint's): the value a label must hold */
typedef enum mm_dflint_label_type {
    MM_LABEL_TEXT, MM_LABEL_URL, MM_LABEL_SEMVER, MM_LABEL_HASH, MM_LABEL_RFC3339,
    MM_LABEL_SPDX, MM_LABEL_EMAIL,
} mm_dflint_label_type;

typedef struct mm_dflint_label {
    char *name;
    mm_dflint_label_type type;
} mm_dflint_label;

typedef struct mm_dflint_opts {
    char **ignored;             /* rule ids (MM-DF-xxx, hadolint DLxxxx, SCxxxx) */
    size_t nignored;
    char **allowed_registries;  /* enables MM-DF-019 when non-empty;
                                 * "*.example.com" wildcards, "*" for any */
    size_t nallowed_registries;
    mm_dflint_override *overrides; /* severity MM_SEV_UNKNOWN turns a rule off
                                    * (hadolint's "ignore"/"none" level) */
    size_t noverrides;
    mm_dflint_label *labels;    /* label-schema: required labels and types */
    size_t nlabels;
    bool strict_labels;         /* labels not in the schema are reported */
    bool disable_ignore_pragma; /* inline "ignore=" pragmas are not honoured */
    /* failure-threshold / no-fail from a config file, for the front-end's
     * exit status: has_threshold says whether one was given; threshold
     * MM_SEV_UNKNOWN means "never fail" (hadolint's none/ignore) */
    bool has_threshold;
    mm_severity threshold;
    bool no_fail;
    /* ShellCheck: the program to run on RUN scripts (NULL: "shellcheck" from
     * PATH), or "" to not run it */
    char *shellcheck;
    /* the SPDX licence list (a JSON array of ids, Debian's
     * node-spdx-license-ids); NULL: the Debian path */
    char *spdx_list;
} mm_dflint_opts;

/* What the linter could not do, for the front-end to say so. */
typedef struct mm_dflint_status {
    bool shellcheck_ran;      /* at least one script was checked */
    bool shellcheck_missing;  /* wanted but not installed */
    char note[256];           /* why SC checks (or DL3054) were skipped, or "" */
} mm_dflint_status;

void mm_dflint_opts_init(mm_dflint_opts *o);
void mm_dflint_opts_free(mm_dflint_opts *o);
/* Reads a YAML config file into o (adding to what is there): keys
 * `ignored: [ids]`, `allowed-registries: [..]` (also hadolint's
 * `trustedRegistries`, a list or one string), `severity-overrides:
 * {ID: SEVERITY}`, and hadolint's `override: {error|warning|info|style|
 * ignore: [..]}`, `label-schema: {name: text|url|semver|hash|rfc3339|spdx|
 * email}`, `strict-labels`, `failure-threshold`, `no-fail`,
 * `disable-ignore-pragma`.  Keys of hadolint's that concern its own output
 * (format, no-color, verbose) are accepted and ignored; an unknown value
 * of a known key is MM_EFORMAT naming the file and the line. */
int mm_dflint_config_load(mm_dflint_opts *o, const char *path);
/* The same on a document in memory; name is used in messages. */
int mm_dflint_config_parse(mm_dflint_opts *o, const char *name, const char *data,
                           size_t len);
/* Parses "LABEL:TYPE" (hadolint's --require-label) into o. */
int mm_dflint_opts_add_label(mm_dflint_opts *o, const char *spec);
/* "error", "warning", "info", "style" -> HIGH, MEDIUM, LOW, LOW; "ignore",
 * "none" -> MM_SEV_UNKNOWN; mamori's LOW..CRITICAL too.  MM_EINVAL else. */
int mm_dflint_level_parse(mm_severity *out, const char *s);

/* Lints df and appends the findings to out.  o may be NULL. */
int mm_dockerfile_lint(const mm_dockerfile *df, const mm_dflint_opts *o,
                       mm_findings *out);
/* The same, telling in *st (may be NULL) what could not be checked. */
int mm_dockerfile_lint_ex(const mm_dockerfile *df, const mm_dflint_opts *o,
                          mm_findings *out, mm_dflint_status *st);

/* The rules, for docs and `--list-rules`. */
typedef struct mm_dflint_rule {
    const char *id;        /* "MM-DF-001" */
    const char *hadolint;  /* "DL3008": hadolint's rule it implements, with
                            * hadolint's behaviour, or NULL */
    const char *other;     /* Dockle / CIS / Docker build-check id, or NULL */
    mm_severity severity;
    const char *title;
    const char *remediation;
} mm_dflint_rule;

size_t mm_dflint_rule_count(void);
const mm_dflint_rule *mm_dflint_rule_get(size_t i);
/* Is id a rule id mamori knows: MM-DF-xxx, a hadolint id it implements or
 * that hadolint removed (DL3005, DL3017, ...), or a ShellCheck SCxxxx? */
bool mm_dflint_id_known(const char *id);

#ifdef __cplusplus
}
#endif
#endif
