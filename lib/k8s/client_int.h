/*
 * client_int.h - the API client's state, shared by client.c (kubeconfig,
 * requests, lists) and exec.c (exec credential plugins).
 */
#ifndef MM_K8S_CLIENT_INT_H
#define MM_K8S_CLIENT_INT_H

#include "util/http.h"

#include "k8s/k8s_int.h"

struct k8s_exec;

struct mm_k8s_client {
    mm_http *http;                      /* made on the first request */
    char *server, *context, *ua;
    long timeout_s, exec_timeout_ms;
    size_t page;
    uint64_t max_resp;
    char *ca;  size_t ca_len;           /* PEM */
    char *cert; size_t cert_len;        /* client certificate PEM */
    char *key;  size_t key_len;         /* its key PEM (wiped on free) */
    char *token, *token_file;
    char *username, *password;
    char *tls_server_name;
    json_t *cluster_json;               /* for KUBERNETES_EXEC_INFO */
    struct k8s_exec *exec;              /* NULL without an exec plugin */
    /* what the plugin last returned (borrowed from exec) */
    const char *exec_token, *exec_cert, *exec_key;
};

int k8s_client_read_token_file(mm_k8s_client *c);
/* Reads the user's exec: section (command, args, env, apiVersion,
 * interactiveMode, provideClusterInfo). */
int k8s_exec_config(mm_k8s_client *c, const json_t *exec, const char *dir, const char *kcname,
                    const char *user);
/* Runs the plugin when there is no credential yet, when it has expired,
 * or when force is set (after a 401). */
int k8s_exec_ensure(mm_k8s_client *c, bool force);
void k8s_exec_free(mm_k8s_client *c);
/* The parse of what a plugin prints (fuzzed): token, or client
 * certificate and key data; *expires 0 when none is given. */
int k8s_exec_parse(const char *out, size_t len, const char *api_version, const char *what,
                   char **token, char **cert, char **key, int64_t *expires);

#endif
