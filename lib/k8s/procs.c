/*
 * procs.c - process command lines as Kubernetes node input: recorded `ps`
 * output (`ps -eo args`, `ps -ef`, `ps aux`) or a /proc tree, turned into
 * Process objects (apiVersion mamori.io/v1, kind Process, spec.args) for
 * the node-trust checks and the CIS benchmark's flag tests.  Only the
 * processes of Kubernetes components are kept (kubelet, kube-apiserver,
 * etcd, kube-controller-manager, kube-scheduler, kube-proxy, hyperkube).
 * Untrusted input: lines capped at 64 KiB, processes at 10,000, arguments
 * at 4,096 per process.
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "k8s/k8s_int.h"

#define MAX_LINE (64u << 10)
#define MAX_PROCS 10000
#define MAX_ARGS 4096

static const char *const comps[] = {"kubelet", "kube-apiserver", "etcd",
                                    "kube-controller-manager", "kube-scheduler", "kube-proxy",
                                    "hyperkube", "apiserver", "k3s", "rke2", NULL};

static bool is_component(const char *argv0)
{
    const char *b = strrchr(argv0, '/');
    b = b ? b + 1 : argv0;
    for (int i = 0; comps[i]; i++)
        if (!strcmp(b, comps[i]))
            return true;
    return false;
}

static int add_proc(mm_k8s_set *s, const char *source, json_t *args, size_t *n)
{
    if (!json_array_size(args) || !is_component(json_string_value(json_array_get(args, 0))))
        return 0;
    if (*n >= MAX_PROCS)
        return mm_error_set(MM_ELIMIT, "%s: more than %d Kubernetes processes", source, MAX_PROCS);
    const char *a0 = json_string_value(json_array_get(args, 0));
    const char *b = strrchr(a0, '/');
    char *name = mm_xasprintf("%s-%zu", b ? b + 1 : a0, ++*n);
    json_t *o = json_pack("{s:s, s:s, s:{s:s}, s:{s:O}}", "apiVersion", "mamori.io/v1", "kind",
                          "Process", "metadata", "name", name, "spec", "args", args);
    free(name);
    int rc = mm_k8s_add_json(s, o, source);
    json_decref(o);
    return rc;
}

/* Fields before the command column of a ps header ("UID PID ... CMD",
 * "USER PID ... COMMAND", "ARGS"); -1 when the line is no header. */
static int cmd_fields(const char *line, size_t len)
{
    int f = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && (line[i] == ' ' || line[i] == '\t'))
            i++;
        if (i >= len)
            break;
        size_t b = i;
        while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            i++;
        size_t w = i - b;
        if ((w == 3 && !memcmp(line + b, "CMD", 3)) || (w == 7 && !memcmp(line + b, "COMMAND", 7)) ||
            (w == 4 && !memcmp(line + b, "ARGS", 4)))
            return f;
        f++;
        if (i < len && line[i] == '\r')
            i++;
    }
    return -1;
}

int mm_k8s_load_ps(mm_k8s_set *s, const char *name, const char *data, size_t len)
{
    if (!s || (!data && len))
        return mm_error_set(MM_EINVAL, "ps: no input");
    size_t nproc = 0, lineno = 0;
    int nf = 0;
    for (size_t off = 0; off < len;) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
        const char *line = data + off;
        off += l + 1;
        lineno++;
        if (l > MAX_LINE)
            return mm_error_set(MM_ELIMIT, "%s:%zu: line longer than %u bytes", name, lineno,
                                MAX_LINE);
        if (lineno == 1) {
            int f = cmd_fields(line, l);
            if (f >= 0) {
                nf = f;
                continue;
            }
        }
        size_t st = 0;
        for (int f = 0; f < nf && st < l; f++) {
            while (st < l && (line[st] == ' ' || line[st] == '\t'))
                st++;
            while (st < l && line[st] != ' ' && line[st] != '\t')
                st++;
        }
        json_t *args = json_array();
        size_t i = st;
        while (i < l && json_array_size(args) < MAX_ARGS) {
            while (i < l && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                i++;
            size_t b = i;
            while (i < l && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                i++;
            if (i > b) {
                char *a = mm_xstrndup(line + b, i - b);
                json_t *js = json_string(a);
                json_array_append_new(args, js ? js : json_string("?"));
                free(a);
            }
        }
        int rc = add_proc(s, name, args, &nproc);
        json_decref(args);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int mm_k8s_load_ps_file(mm_k8s_set *s, const char *path)
{
    char *data;
    size_t len;
    int rc = mm_file_read(path, 64u << 20, &data, &len);
    if (rc < 0)
        return rc;
    rc = mm_k8s_load_ps(s, path, data, len);
    free(data);
    return rc;
}

int mm_k8s_load_proc(mm_k8s_set *s, const char *proc_dir)
{
    DIR *d = opendir(proc_dir ? proc_dir : "/proc");
    if (!d)
        return mm_error_set(MM_EIO, "%s: cannot be read", proc_dir ? proc_dir : "/proc");
    struct dirent *e;
    size_t nproc = 0;
    int rc = 0;
    char **pids = NULL;
    size_t npids = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && strspn(e->d_name, "0123456789") == strlen(e->d_name))
            mm_strv_push(&pids, &npids, e->d_name);
    closedir(d);
    for (size_t p = 0; p < npids && rc == 0; p++) {
        char *path = mm_xasprintf("%s/%s/cmdline", proc_dir ? proc_dir : "/proc", pids[p]);
        size_t len = 0;
        char *data = mm_file_read_proc(path, MAX_LINE, &len);
        free(path);
        if (!data)
            continue;
        json_t *args = json_array();
        for (size_t i = 0; i < len && json_array_size(args) < MAX_ARGS;) {
            size_t l = strnlen(data + i, len - i);
            char *a = mm_xstrndup(data + i, l);
            json_t *js = json_string(a);
            json_array_append_new(args, js ? js : json_string("?"));
            free(a);
            i += l + 1;
        }
        free(data);
        rc = add_proc(s, proc_dir ? proc_dir : "/proc", args, &nproc);
        json_decref(args);
    }
    mm_strv_free(pids, npids);
    return rc;
}
