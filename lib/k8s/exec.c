/*
 * exec.c - client-go's exec credential plugins (the way EKS, GKE and AKS
 * hand out tokens): the kubeconfig's user.exec names a command, its
 * arguments and environment; the plugin prints an ExecCredential
 * (client.authentication.k8s.io/v1 or v1beta1) whose status holds a
 * bearer token or a client certificate and key, and maybe an
 * expirationTimestamp.  The command runs through mm_proc_run: no shell,
 * only its pipes, its own process group, killed at the timeout, output
 * capped and wiped.  KUBERNETES_EXEC_INFO carries the request (and the
 * cluster when provideClusterInfo is set), interactive false: mamori never
 * hands the plugin a terminal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "k8s/client_int.h"

#define EXEC_MAX_OUT (1u << 20)

struct k8s_exec {
    char **argv;
    size_t argc;
    char **env;             /* "NAME=value" */
    size_t nenv;
    char *api_version;
    bool cluster_info;
    char *label;            /* "kubeconfig user \"x\"" for messages */
    char *token, *cert, *key;
    int64_t expires;        /* epoch seconds; 0 = until a 401 */
    bool have;
};

static void clear_cred(struct k8s_exec *x)
{
    if (x->token)
        explicit_bzero(x->token, strlen(x->token));
    if (x->key)
        explicit_bzero(x->key, strlen(x->key));
    free(x->token);
    free(x->cert);
    free(x->key);
    x->token = x->cert = x->key = NULL;
    x->have = false;
}

void k8s_exec_free(mm_k8s_client *c)
{
    struct k8s_exec *x = c->exec;
    if (!x)
        return;
    clear_cred(x);
    mm_strv_free(x->argv, x->argc);
    mm_strv_free(x->env, x->nenv);
    free(x->api_version);
    free(x->label);
    free(x);
    c->exec = NULL;
}

int k8s_exec_config(mm_k8s_client *c, const json_t *ex, const char *dir, const char *kcname,
                    const char *user)
{
    const char *cmd = kj_str(ex, "command");
    const char *api = kj_str(ex, "apiVersion");
    if (!cmd || !*cmd)
        return mm_error_set(MM_EFORMAT, "%s: user \"%s\": exec: field \"command\" is missing",
                            kcname, user);
    if (!api || (strcmp(api, "client.authentication.k8s.io/v1") &&
                 strcmp(api, "client.authentication.k8s.io/v1beta1")))
        return mm_error_set(MM_EUNSUPPORTED, "%s: user \"%s\": exec: apiVersion \"%s\" (want "
                            "client.authentication.k8s.io/v1 or v1beta1)", kcname, user,
                            api ? api : "");
    const char *im = kj_str(ex, "interactiveMode");
    if (im && !strcmp(im, "Always"))
        return mm_error_set(MM_EUNSUPPORTED, "%s: user \"%s\": exec plugin %s needs a "
                            "terminal (interactiveMode: Always); mamori runs it without one",
                            kcname, user, cmd);
    struct k8s_exec *x = mm_xcalloc(1, sizeof *x);
    /* a command with a slash is a path, relative to the kubeconfig's
     * folder as client-go resolves it; a bare name is looked up on PATH */
    char *prog = strchr(cmd, '/') && cmd[0] != '/' ? mm_xasprintf("%s/%s", dir, cmd)
                                                    : mm_xstrdup(cmd);
    mm_strv_push(&x->argv, &x->argc, prog);
    free(prog);
    const json_t *args = kj_arr(ex, "args");
    for (size_t i = 0; i < json_array_size(args); i++) {
        const char *a = json_string_value(json_array_get(args, i));
        if (!a) {
            k8s_exec_free(&(mm_k8s_client){.exec = x});
            return mm_error_set(MM_EFORMAT, "%s: user \"%s\": exec.args[%zu] is not a string",
                                kcname, user, i);
        }
        mm_strv_push(&x->argv, &x->argc, a);
    }
    x->argv = mm_xrealloc(x->argv, (x->argc + 1) * sizeof *x->argv);
    x->argv[x->argc] = NULL;
    const json_t *env = kj_arr(ex, "env");
    for (size_t i = 0; i < json_array_size(env); i++) {
        const char *n = kj_str(json_array_get(env, i), "name");
        const char *v = kj_str(json_array_get(env, i), "value");
        if (!n || !*n || strchr(n, '=')) {
            c->exec = x;
            k8s_exec_free(c);
            return mm_error_set(MM_EFORMAT, "%s: user \"%s\": exec.env[%zu] has no valid name",
                                kcname, user, i);
        }
        char *kv = mm_xasprintf("%s=%s", n, v ? v : "");
        mm_strv_push(&x->env, &x->nenv, kv);
        free(kv);
    }
    x->api_version = mm_xstrdup(api);
    x->cluster_info = kj_true(ex, "provideClusterInfo");
    x->label = mm_xasprintf("%s: user \"%s\"", kcname, user);
    c->exec = x;
    return 0;
}

int k8s_exec_parse(const char *out, size_t len, const char *api_version, const char *what,
                   char **token, char **cert, char **key, int64_t *expires)
{
    *token = *cert = *key = NULL;
    *expires = 0;
    json_error_t je;
    json_t *j = json_loadb(out, len, JSON_REJECT_DUPLICATES, &je);
    if (!j)
        return mm_error_set(MM_EFORMAT, "%s: output is not JSON: %s (line %d)", what, je.text,
                            je.line);
    int rc = 0;
    const char *kind = kj_str(j, "kind"), *api = kj_str(j, "apiVersion");
    const json_t *st = kj_obj(j, "status");
    if (!kind || strcmp(kind, "ExecCredential")) {
        rc = mm_error_set(MM_EFORMAT, "%s: field \"kind\" is %s%s%s, not ExecCredential", what,
                          kind ? "\"" : "", kind ? kind : "missing", kind ? "\"" : "");
    } else if (!api || strcmp(api, api_version)) {
        rc = mm_error_set(MM_EFORMAT, "%s: field \"apiVersion\" is \"%s\"; the kubeconfig "
                          "asked for %s", what, api ? api : "", api_version);
    } else if (!st) {
        rc = mm_error_set(MM_EFORMAT, "%s: field \"status\" is missing", what);
    } else {
        const char *t = kj_str(st, "token");
        const char *cd = kj_str(st, "clientCertificateData"), *kd = kj_str(st, "clientKeyData");
        if ((cd && *cd) != (kd && *kd)) {
            rc = mm_error_set(MM_EFORMAT, "%s: status holds clientCertificateData without "
                              "clientKeyData (or the reverse)", what);
        } else if (!(t && *t) && !(cd && *cd)) {
            rc = mm_error_set(MM_EFORMAT, "%s: status holds neither a token nor a client "
                              "certificate", what);
        } else {
            const char *exp = kj_str(st, "expirationTimestamp");
            if (exp && mm_time_parse_rfc3339(exp, expires) < 0)
                rc = mm_error_set(MM_EFORMAT, "%s: field \"status.expirationTimestamp\": \"%.60s\" "
                                  "is not an RFC 3339 time", what, exp);
            if (rc == 0) {
                *token = t && *t ? mm_xstrdup(t) : NULL;
                *cert = cd && *cd ? mm_xstrdup(cd) : NULL;
                *key = kd && *kd ? mm_xstrdup(kd) : NULL;
            }
        }
    }
    json_decref(j);
    return rc;
}

static char *exec_info(const mm_k8s_client *c, const struct k8s_exec *x)
{
    json_t *spec = json_object();
    json_object_set_new(spec, "interactive", json_false());
    if (x->cluster_info && c->cluster_json) {
        json_t *cl = json_object();
        const char *srv = kj_str(c->cluster_json, "server");
        json_object_set_new(cl, "server", json_string(srv ? srv : ""));
        const char *tsn = kj_str(c->cluster_json, "tls-server-name");
        if (tsn)
            json_object_set_new(cl, "tls-server-name", json_string(tsn));
        const char *cad = kj_str(c->cluster_json, "certificate-authority-data");
        if (cad)
            json_object_set_new(cl, "certificate-authority-data", json_string(cad));
        const json_t *ext = kj_obj(kj_obj(c->cluster_json, "extensions"), "client.authentication.k8s.io/exec");
        if (ext)
            json_object_set(cl, "config", (json_t *)ext);
        json_object_set_new(spec, "cluster", cl);
    }
    json_t *j = json_object();
    json_object_set_new(j, "apiVersion", json_string(x->api_version));
    json_object_set_new(j, "kind", json_string("ExecCredential"));
    json_object_set_new(j, "spec", spec);
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    char *kv = mm_xasprintf("KUBERNETES_EXEC_INFO=%s", s);
    free(s);
    return kv;
}

int k8s_exec_ensure(mm_k8s_client *c, bool force)
{
    struct k8s_exec *x = c->exec;
    if (!x)
        return 0;
    int64_t now = (int64_t)time(NULL);
    /* refresh a little before the stated expiry, as client-go does */
    if (x->have && !force && (x->expires == 0 || x->expires - 10 > now))
        return 0;
    clear_cred(x);
    c->exec_token = c->exec_cert = c->exec_key = NULL;
    char *info = exec_info(c, x);
    const char **env = mm_xcalloc(x->nenv + 2, sizeof *env);
    for (size_t i = 0; i < x->nenv; i++)
        env[i] = x->env[i];
    env[x->nenv] = info;
    mm_proc_opts po = {(const char *const *)x->argv, env, NULL, 0, c->exec_timeout_ms,
                       EXEC_MAX_OUT, 4096};
    mm_proc_result pr;
    int rc = mm_proc_run(&pr, &po);
    free(env);
    free(info);
    if (rc < 0)
        return mm_error_wrap(rc, "%s: exec plugin: ", x->label);
    const char *cmd = x->argv[0];
    if (pr.spawn_errno) {
        mm_proc_result_free(&pr);
        return mm_error_set(MM_EAUTH, "%s: exec plugin %s %s", x->label, cmd,
                            pr.spawn_errno == ENOENT ? "not found (not on PATH)"
                                                     : strerror(pr.spawn_errno));
    }
    if (pr.timed_out) {
        mm_proc_result_free(&pr);
        return mm_error_set(MM_EAUTH, "%s: exec plugin %s gave no answer within %.1f s; killed",
                            x->label, cmd, c->exec_timeout_ms / 1000.0);
    }
    if (pr.over) {
        mm_proc_result_free(&pr);
        return mm_error_set(MM_EAUTH, "%s: exec plugin %s printed more than %u bytes", x->label,
                            cmd, EXEC_MAX_OUT);
    }
    if (pr.status == -1 || !WIFEXITED(pr.status) || WEXITSTATUS(pr.status) != 0) {
        char *e = mm_str_printable(pr.err);
        size_t el = strlen(e);
        while (el && (e[el - 1] == '?' || e[el - 1] == ' '))
            e[--el] = 0;
        if (el > 300)
            e[300] = 0;
        char how[64];
        if (pr.status != -1 && WIFSIGNALED(pr.status))
            snprintf(how, sizeof how, "killed by signal %d", WTERMSIG(pr.status));
        else if (pr.status != -1)
            snprintf(how, sizeof how, "exit status %d", WEXITSTATUS(pr.status));
        else
            snprintf(how, sizeof how, "lost");
        rc = mm_error_set(MM_EAUTH, "%s: exec plugin %s failed (%s)%s%s%s", x->label, cmd, how,
                          *e ? ": \"" : "", e, *e ? "\"" : "");
        free(e);
        mm_proc_result_free(&pr);
        return rc;
    }
    char *what = mm_xasprintf("%s: exec plugin %s", x->label, cmd);
    rc = k8s_exec_parse(pr.out, pr.out_len, x->api_version, what, &x->token, &x->cert, &x->key,
                        &x->expires);
    free(what);
    mm_proc_result_free(&pr);
    if (rc < 0)
        return rc;
    x->have = true;
    c->exec_token = x->token;
    c->exec_cert = x->cert;
    c->exec_key = x->key;
    return 0;
}
