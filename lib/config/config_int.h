/*
 * config/config_int.h - what the Dockerfile linter and the image checks
 * share: a small POSIX-shell splitter (RUN commands and image history are
 * shell text: we need the simple commands, their words and which ones are
 * piped), and the test for environment / argument / label names that hold
 * credentials.
 */
#ifndef MM_CONFIG_INT_H
#define MM_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>

/* One simple command: words with quotes removed, leading NAME=value
 * assignments and shell keywords (if, then, do, !, ...) taken off. */
typedef struct mm_sh_cmd {
    char **argv;
    size_t argc;
    char **assigns;
    size_t nassigns;
    bool pipe_out;   /* its output goes into the next command (a `|`) */
    bool pipe_in;    /* it reads the previous command's output */
} mm_sh_cmd;

typedef struct mm_sh_script {
    mm_sh_cmd *cmds;
    size_t n;
    bool has_pipe;
} mm_sh_script;

/* Splits shell text into simple commands.  Never fails: text it cannot
 * follow (an unterminated quote) ends the last word.  `sh -c "..."` is
 * followed into its argument.  Caps: 4096 commands, 4096 words each. */
void mm_sh_parse(mm_sh_script *out, const char *text);
void mm_sh_free(mm_sh_script *s);

/* The command name without its directory ("/usr/bin/apt-get" -> "apt-get"). */
const char *mm_sh_name(const mm_sh_cmd *c);
/* Does the command have this word among its arguments (argv[1..])? */
bool mm_sh_has(const mm_sh_cmd *c, const char *word);
/* Does the command have an argument starting with prefix? */
bool mm_sh_has_prefix(const mm_sh_cmd *c, const char *prefix);

/* Is NAME (an ENV, ARG or label key) the name of a credential: PASSWORD,
 * SECRET, TOKEN, API_KEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIALS, ...?  Names
 * that point at a secret rather than hold one (..._FILE, ..._PATH,
 * ..._DIR, ..._URL) and public keys are not. */
bool mm_sensitive_name(const char *name);
/* Is a value empty or an obvious placeholder ("", "changeme"...)? */
bool mm_placeholder_value(const char *v);
/* "ab****" - a masked copy of a value for evidence.  Caller frees. */
char *mm_mask_value(const char *v);
/* A copy of text with every occurrence of value replaced by its mask (for
 * instructions quoted in findings).  Caller frees. */
char *mm_mask_in(const char *text, const char *value);

#endif
