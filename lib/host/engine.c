/*
 * engine.c - the containers of a host as their engines describe them: the
 * docker daemon's Engine API over its unix socket (GET /containers/json,
 * then /containers/ID/json: the document `docker inspect` prints), podman's
 * own `podman ps` / `podman inspect` (there is no podman daemon to ask), and
 * inspect arrays saved to files (an audit of another machine, or the fuzz
 * target).  Both engines' inspect documents share the docker shape
 * (HostConfig, Config, Mounts, NetworkSettings), which the CIS checks read.
 *
 * Everything an engine says is untrusted input: responses are capped at
 * 64 MiB and 10,000 containers, and a malformed document is an error naming
 * the socket or file.
 */
#include <stdlib.h>
#include <string.h>


#include "util/util.h"
#include "util/http.h"
#include "host_int.h"

#define MAX_RESPONSE (64u << 20)
#define MAX_CONTAINERS 10000u

void mm_hctrs_free(mm_hctrs *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].engine);
        free(l->v[i].id);
        free(l->v[i].name);
        free(l->v[i].image);
        json_decref(l->v[i].j);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* Adds one inspect document (takes a reference of j). */
static int add_ctr(mm_hctrs *l, json_t *j, const char *engine, const char *where)
{
    if (!json_is_object(j))
        return mm_error_set(MM_EFORMAT, "%s: a container is not a JSON object", where);
    const char *id = mm_hj_str(j, "Id");
    if (!id || !*id)
        return mm_error_set(MM_EFORMAT, "%s: a container without \"Id\"", where);
    if (l->n >= MAX_CONTAINERS)
        return mm_error_set(MM_ELIMIT, "%s: more than %u containers", where, MAX_CONTAINERS);
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mm_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    mm_hctr *c = &l->v[l->n++];
    memset(c, 0, sizeof *c);
    /* podman says so itself in its documents (OCIRuntime, Namespace...) */
    bool podman = json_object_get(j, "OCIRuntime") || json_object_get(j, "ConmonPidFile");
    c->engine = mm_xstrdup(engine ? engine : podman ? "podman" : "docker");
    c->id = mm_xstrdup(id);
    const char *name = mm_hj_str(j, "Name");
    c->name = mm_xstrdup(name ? (name[0] == '/' ? name + 1 : name) : id);
    const char *img = mm_hj_str(mm_hj_path(j, "Config"), "Image");
    if (!img)
        img = mm_hj_str(j, "ImageName");
    if (!img)
        img = mm_hj_str(j, "Image");
    c->image = mm_xstrdup(img);
    c->running = mm_hj_bool(json_object_get(j, "State"), "Running");
    c->j = json_incref(j);
    return 0;
}

int mm_inspect_parse(mm_hctrs *out, const char *data, size_t len, const char *name,
                     const char *engine)
{
    json_error_t e;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        return mm_error_set(MM_EFORMAT, "%s: line %d: %s", name, e.line, e.text);
    int rc = 0;
    if (json_is_object(j)) {
        rc = add_ctr(out, j, engine, name);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) {
            if ((rc = add_ctr(out, v, engine, name)) < 0)
                break;
        }
    } else {
        rc = mm_error_set(MM_EFORMAT, "%s: not an inspect document (an array of containers)", name);
    }
    json_decref(j);
    return rc;
}

int mm_inspect_file_containers(mm_hctrs *out, const char *path)
{
    char *d = NULL;
    size_t len = 0;
    int rc = mm_file_read(path, MAX_RESPONSE, &d, &len);
    if (rc < 0)
        return rc;
    size_t first = out->n;
    rc = mm_inspect_parse(out, d, len, path, NULL);
    free(d);
    for (size_t i = first; i < out->n; i++)
        out->v[i].from_file = true;
    return rc;
}

/* ---- the docker Engine API over its unix socket ------------------------------------ */

char *mm_docker_sock_path(const char *h)
{
    if (!h || !*h)
        return mm_xstrdup("/var/run/docker.sock");
    if (mm_str_startswith(h, "unix://"))
        return mm_xstrdup(h + 7);
    if (h[0] == '/')
        return mm_xstrdup(h);
    return NULL;
}

int mm_docker_api_get(const char *sock, const char *path, json_t **out)
{
    *out = NULL;
    mm_http_opts ho = {
        .unix_socket = sock,
        .connect_timeout_s = 5,
        .total_timeout_s = 60,
        .max_body = MAX_RESPONSE,
    };
    mm_http *h = NULL;
    int rc = mm_http_new(&h, &ho);
    if (rc)
        return rc;
    mm_buf b = MM_BUF_INIT;
    char *url = mm_xasprintf("http://localhost%s", path);
    long code = 0;
    rc = mm_http_send(h, "GET", url, NULL, NULL, 0, &code, &b);
    mm_http_free(h);
    free(url);
    if (rc < 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", mm_error_last());
        const char *why = strstr(msg, ": ");
        rc = mm_error_set(rc, "docker at %s: GET %s: %s", sock, path,
                          rc == MM_ELIMIT ? "response over 64 MiB" : why ? why + 2 : msg);
    } else if (code != 200) {
        rc = mm_error_set(code == 404 ? MM_ENOTFOUND : MM_ENET,
                          "docker at %s: GET %s: HTTP %ld", sock, path, code);
    } else {
        json_error_t e;
        *out = json_loadb(b.data ? b.data : "", b.len, 0, &e);
        if (!*out)
            rc = mm_error_set(MM_EFORMAT, "docker at %s: GET %s: line %d: %s", sock,
                              path, e.line, e.text);
    }
    mm_buf_free(&b);
    return rc;
}

int mm_docker_containers(mm_hctrs *out, const char *sock, bool all)
{
    json_t *list;
    int rc = mm_docker_api_get(sock, all ? "/containers/json?all=1" : "/containers/json", &list);
    if (rc < 0)
        return rc;
    if (!json_is_array(list)) {
        json_decref(list);
        return mm_error_set(MM_EFORMAT, "docker at %s: /containers/json is not an array", sock);
    }
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *id = mm_hj_str(v, "Id");
        /* ids are hex: anything else would change the request path */
        if (!id || !*id || strspn(id, "0123456789abcdef") != strlen(id) || strlen(id) > 128) {
            rc = mm_error_set(MM_EFORMAT, "docker at %s: container %zu: bad \"Id\"", sock, i);
            break;
        }
        char *p = mm_xasprintf("/containers/%s/json", id);
        json_t *doc;
        rc = mm_docker_api_get(sock, p, &doc);
        free(p);
        if (rc == MM_ENOTFOUND) { /* removed meanwhile */
            rc = 0;
            continue;
        }
        if (rc < 0)
            break;
        char *where = mm_xasprintf("docker at %s", sock);
        rc = add_ctr(out, doc, "docker", where);
        free(where);
        json_decref(doc);
        if (rc < 0)
            break;
    }
    json_decref(list);
    return rc;
}

/* ---- podman ---------------------------------------------------------------------------- */

int mm_podman_containers(mm_hctrs *out, const char *podman, const char *root,
                         const char *runroot, bool all)
{
    const char *argv[16];
    size_t k = 0;
    argv[k++] = podman;
    if (root) {
        argv[k++] = "--root";
        argv[k++] = root;
    }
    if (runroot) {
        argv[k++] = "--runroot";
        argv[k++] = runroot;
    }
    size_t base = k;
    argv[k++] = "ps";
    argv[k++] = "--format";
    argv[k++] = "{{.ID}}";
    argv[k++] = "--no-trunc";
    if (all)
        argv[k++] = "--all";
    argv[k] = NULL;
    char *ids = NULL, *err = NULL;
    size_t idlen;
    int st = mm_host_run(argv, 1u << 20, &ids, &idlen, &err);
    if (st < 0) {
        free(err);
        return st;
    }
    if (st != 0) {
        char *e = mm_str_printable(err ? mm_str_trim(err) : "");
        int rc = mm_error_set(MM_EIO, "%s ps: exit %d: %s", podman, st, e);
        free(e);
        free(ids);
        free(err);
        return rc;
    }
    free(err);
    /* podman inspect ID... in one run */
    const char **iv = mm_xcalloc(base + 3 + MAX_CONTAINERS, sizeof *iv);
    size_t m = 0;
    for (size_t i = 0; i < base; i++)
        iv[m++] = argv[i];
    iv[m++] = "container";
    iv[m++] = "inspect";
    size_t first = m;
    for (char *save = NULL, *t = strtok_r(ids, "\n", &save); t && m < base + 2 + MAX_CONTAINERS;
         t = strtok_r(NULL, "\n", &save)) {
        t = mm_str_trim(t);
        if (*t && strspn(t, "0123456789abcdef") == strlen(t))
            iv[m++] = t;
    }
    iv[m] = NULL;
    int rc = 0;
    if (m > first) {
        char *doc = NULL;
        size_t dlen = 0;
        st = mm_host_run(iv, MAX_RESPONSE, &doc, &dlen, &err);
        if (st < 0)
            rc = st;
        else if (st != 0 && !dlen)
            rc = mm_error_set(MM_EIO, "%s inspect: exit %d", podman, st);
        else
            rc = mm_inspect_parse(out, doc, dlen, "podman inspect", "podman");
        free(doc);
        free(err);
    }
    free(iv);
    free(ids);
    return rc;
}
