/*
 * cli.h - what the files of the `mamori` command share: the program name,
 * the error exit status, reporting an error once, and each subcommand's
 * entry point (one file per command family, so that they grow apart).
 */
#ifndef MM_CLI_H
#define MM_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mamori/mamori.h"

#define EXIT_ERROR 2

extern const char *prog;

/* Prints "mamori: <what><library message>" and returns EXIT_ERROR. */
int cli_fail(const char *what);
/* Reads standard input whole, stopping a little past max bytes (the
 * parser then refuses it by its own cap).  -1 with errno on failure. */
int cli_read_stdin(char **out, size_t *len, uint64_t max);
/* Parses "123", "64K", "2G" ... into bytes (or a plain count). */
int cli_parse_size(const char *s, uint64_t *out);
/* --scanners LIST (vuln,secret,misconfig,malware; inventory/sbom accepted
 * as no-ops) into MM_SCANNER_* bits; -1 after printing what is unknown. */
int cli_parse_scanners(const char *list, unsigned *out);   /* cmd_scan.c */
/* The store path for --cache-dir DIR (NULL = the default).  Caller frees. */
char *cli_store_path(const char *cache_dir);

int cmd_scan(mm_target_kind kind, int argc, char **argv);   /* cmd_scan.c */
int cmd_history(int argc, char **argv);                     /* cmd_history.c */
int cmd_sbom(int argc, char **argv);                        /* cmd_sbom.c */
int cmd_db(int argc, char **argv);                          /* cmd_db.c */
int cmd_config(int argc, char **argv);                      /* cmd_config.c */
int cmd_agent(int argc, char **argv);                       /* cmd_agent.c */
int cmd_runtime(int argc, char **argv);                     /* cmd_runtime.c */
int cmd_registry(int argc, char **argv);                    /* cmd_registry.c */
int cmd_registry_check(int argc, char **argv);              /* cmd_registry_check.c */
int cmd_sign(int argc, char **argv);                        /* cmd_trust.c */
int cmd_verify(int argc, char **argv);                      /* cmd_trust.c */
int cmd_policy(int argc, char **argv);                      /* cmd_policy.c */
int cmd_host(int argc, char **argv);                        /* cmd_host.c */
int cmd_net(int argc, char **argv);                         /* cmd_net.c */
int cmd_net_enforce(int argc, char **argv);                 /* cmd_netpol.c */
int cmd_waf(int argc, char **argv);                         /* cmd_waf.c */
int cmd_k8s(int argc, char **argv);                         /* cmd_k8s.c */
int cmd_server(int argc, char **argv);                      /* cmd_server.c */
int cmd_worker(int argc, char **argv);                      /* cmd_worker.c */
/* Streams JSON events (a line each) from in to `mamori server` with the
 * disk spool (`mamori server send`, `mamori agent --mamori-server`): 0 when all
 * were delivered, else EXIT_ERROR (printed).  cmd_server.c */
typedef struct cli_forward {
    const char *server, *token, *host_id, *ca, *spool;
    const char *fingerprint; /* --server-fingerprint: pin the server's certificate */
    bool insecure, quiet;
    uint64_t spool_max;
    unsigned batch;
    double wait;
} cli_forward;
int cli_forward_events(FILE *in, const char *name, const cli_forward *fw);
/* The sender's options from fw (the strings are fw's).  cmd_server.c */
struct mm_fleet_sender_opts;
void cli_forward_sender_opts(struct mm_fleet_sender_opts *so, const cli_forward *fw);
int cmd_k8s_cis(int argc, char **argv);                     /* cmd_k8s_cis.c */
int cmd_k8s_audit(int argc, char **argv);                   /* cmd_k8s_audit.c */
int cmd_k8s_isolate(int argc, char **argv);                 /* cmd_k8s_isolate.c */
int cmd_admission(int argc, char **argv);                   /* cmd_admission.c */
struct mm_k8s_client;
/* The API client for isolation: the service account (in-cluster, server or
 * sa_dir given) or a kubeconfig. */
int cli_k8s_isolate_client(struct mm_k8s_client **c, bool in_cluster, const char *server,
                           const char *sa_dir, const char *kubeconfig, const char *context,
                           long timeout_s);                  /* cmd_k8s_isolate.c */
int cmd_report(int argc, char **argv);                      /* cmd_report.c */
void cli_usage(FILE *f);                                    /* main.c */

/* --- what `image`, `rootfs` and `sbom` share (cmd_scan.c) ------------------ */

/* The vulnerability and filter options, as getopt_long codes. */
enum {
    CLI_OPT_SEVERITY = 1000, CLI_OPT_IGNORE_UNFIXED, CLI_OPT_EXIT_CODE,
    CLI_OPT_IGNOREFILE, CLI_OPT_DB_PATH, CLI_OPT_DB_MAX_AGE,
    CLI_OPT_SERVER, CLI_OPT_TOKEN, CLI_OPT_SERVER_CA, CLI_OPT_SERVER_HOST,
    CLI_OPT_SERVER_FINGERPRINT,
};
#define CLI_VULN_LONGOPTS                                                   \
    {"severity", required_argument, NULL, CLI_OPT_SEVERITY},                \
    {"ignore-unfixed", no_argument, NULL, CLI_OPT_IGNORE_UNFIXED},          \
    {"exit-code", required_argument, NULL, CLI_OPT_EXIT_CODE},              \
    {"ignorefile", required_argument, NULL, CLI_OPT_IGNOREFILE},            \
    {"db-path", required_argument, NULL, CLI_OPT_DB_PATH},                  \
    {"db-max-age", required_argument, NULL, CLI_OPT_DB_MAX_AGE},             \
    {"server", required_argument, NULL, CLI_OPT_SERVER},                    \
    {"token", required_argument, NULL, CLI_OPT_TOKEN},                      \
    {"server-ca", required_argument, NULL, CLI_OPT_SERVER_CA},              \
    {"server-host", required_argument, NULL, CLI_OPT_SERVER_HOST},          \
    {"server-fingerprint", required_argument, NULL, CLI_OPT_SERVER_FINGERPRINT}

typedef struct cli_vuln {
    const char *db_path;     /* --db-path, NULL = default */
    const char *cache_dir;   /* --cache-dir: the default db lives there */
    unsigned severities;     /* --severity, 0 = all */
    bool ignore_unfixed;
    int exit_code;           /* --exit-code; 0 = exit 0 whatever is found */
    const char *ignorefile;  /* --ignorefile, NULL = ./.mamoriignore if any */
    int64_t max_age_days;    /* --db-max-age */
    bool quiet;
    char *db_path_buf;       /* the path the pipeline uses (owned) */
    const char *server;      /* --server URL: upload the result (cli_report) */
    const char *token;       /* --token, else MAMORI_TOKEN */
    const char *server_ca;   /* --server-ca FILE: the server's certificate */
    const char *server_host; /* --server-host ID: the host the scan ran on */
    const char *server_fp;   /* --server-fingerprint sha256:HEX: pin the server */
} cli_vuln;

/* Handles option c of CLI_VULN_LONGOPTS: 1 when it was one, 0 when it is
 * not, -1 after printing why the value is bad. */
int cli_vuln_option(cli_vuln *v, int c, const char *arg);
/* The database path the options name (caller frees), NULL on error. */
char *cli_vuln_db_path(const cli_vuln *v);
void cli_vuln_free(cli_vuln *v);
/* Sets the match and filter stages of a pipeline from the options: vuln
 * turns the match on (required: a missing database is an error), the
 * database path, --db-max-age, --severity, --ignore-unfixed and the ignore
 * file (--ignorefile, else ./.mamoriignore when present).  The strings
 * stay v's.  0 or EXIT_ERROR (printed). */
int cli_pipeline_setup(mm_pipeline_opts *po, cli_vuln *v, bool vuln, bool required);
/* Prints what a run says besides its report: a skipped match (unless
 * quiet), a failed record. */
void cli_pipeline_notes(const mm_pipeline_outcome *oc, const cli_vuln *v);
/* Prints why a run failed, with the notes of the stages before; returns
 * EXIT_ERROR. */
int cli_pipeline_fail(const mm_pipeline_outcome *oc, const cli_vuln *v);
/* Prints the result's warnings unless quiet, writes the report, and
 * returns the exit status: 0, v->exit_code when findings survived the
 * filters, EXIT_ERROR on failure. */
int cli_report(mm_result *r, const mm_pipeline_outcome *oc, const cli_vuln *v,
               mm_format fmt, const char *output, bool list_files);
/* For results made outside the scan pipeline (Kubernetes objects, host
 * checks): the pipeline's filter stage with v's filters (no database, no
 * record), then cli_report().  Frees what v owns. */
int cli_filter_report(mm_result *r, cli_vuln *v, mm_format fmt, const char *output);

/* --- registry access, shared by image, registry, sign, verify, policy -----
 * (cli/registry_opts.c).  Flags: --ca-file FILE, --insecure-registry HOST
 * (repeatable), --username U, --password P (or MAMORI_USERNAME /
 * MAMORI_PASSWORD; --password-stdin), --registry-config FILE (a Docker
 * config.json), --blob-cache DIR, --blob-cache-max SZ, --no-blob-cache,
 * --registry-timeout SECONDS. */
enum {
    CLI_OPT_CA_FILE = 1100, CLI_OPT_INSECURE_REGISTRY, CLI_OPT_USERNAME,
    CLI_OPT_PASSWORD, CLI_OPT_PASSWORD_STDIN, CLI_OPT_REGISTRY_CONFIG,
    CLI_OPT_BLOB_CACHE, CLI_OPT_BLOB_CACHE_MAX, CLI_OPT_NO_BLOB_CACHE,
    CLI_OPT_REGISTRY_TIMEOUT,
};
#define CLI_REGISTRY_LONGOPTS                                                   \
    {"ca-file", required_argument, NULL, CLI_OPT_CA_FILE},                      \
    {"insecure-registry", required_argument, NULL, CLI_OPT_INSECURE_REGISTRY},  \
    {"username", required_argument, NULL, CLI_OPT_USERNAME},                    \
    {"password", required_argument, NULL, CLI_OPT_PASSWORD},                    \
    {"password-stdin", no_argument, NULL, CLI_OPT_PASSWORD_STDIN},              \
    {"registry-config", required_argument, NULL, CLI_OPT_REGISTRY_CONFIG},      \
    {"blob-cache", required_argument, NULL, CLI_OPT_BLOB_CACHE},                \
    {"blob-cache-max", required_argument, NULL, CLI_OPT_BLOB_CACHE_MAX},        \
    {"no-blob-cache", no_argument, NULL, CLI_OPT_NO_BLOB_CACHE},                \
    {"registry-timeout", required_argument, NULL, CLI_OPT_REGISTRY_TIMEOUT}

#define CLI_MAX_INSECURE 64
typedef struct cli_registry {
    mm_registry_opts opts;
    const char *insecure[CLI_MAX_INSECURE]; /* argv strings */
    size_t ninsecure;
    char *password_buf;                 /* from stdin/env, owned */
} cli_registry;

void cli_registry_init(cli_registry *r);
/* Handles option c of CLI_REGISTRY_LONGOPTS: 1 when it was one, 0 when it
 * is not, -1 after printing why the value is bad. */
int cli_registry_option(cli_registry *r, int c, const char *arg);
/* After parsing: environment fallbacks; 0 or EXIT_ERROR (printed). */
int cli_registry_finish(cli_registry *r);
void cli_registry_free(cli_registry *r);
/* Usage lines for the flags above. */
void cli_registry_usage(FILE *f);

/* The web console's embedded files (console_assets.c, issue 20). */
struct mm_fleet_asset;
const struct mm_fleet_asset *cli_console_assets(size_t *n);

#endif
