/*
 * discover.c - containers' network namespaces, found from the runtime's
 * traces on the host: every process whose cgroup names a container (the
 * naming schemes and metadata readers of mamori/sensor.h) gives its
 * namespace (/proc/PID/ns/net), the namespace's local addresses
 * (/proc/PID/net/fib_trie and if_inet6, which show that namespace), its
 * sockets (/proc/PID/net/{tcp,tcp6,udp,udp6}) and, through /proc/PID/fd
 * of the processes in it, which process holds each socket.  Also the image
 * config of a container from podman's/CRI-O's containers/storage or
 * docker's image store, for its EXPOSE.  Everything read is capped and
 * parsed defensively: a process may exit between two reads.
 */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "mamori/sensor.h"
#include "net/net_int.h"

#define PROC_FILE_MAX (8u << 20)

static uint64_t ns_inode(const char *proc, const char *pid)
{
    char p[300], l[64];
    snprintf(p, sizeof p, "%s/%s/ns/net", proc, pid);
    ssize_t n = readlink(p, l, sizeof l - 1);
    if (n <= 0)
        return 0;
    l[n] = 0;
    const char *b = strchr(l, '[');
    return b ? strtoull(b + 1, NULL, 10) : 0;
}

static bool is_pid(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

static void add_addr(mm_net_ns *ns, const mm_ipaddr *a)
{
    for (size_t i = 0; i < ns->naddrs; i++)
        if (!memcmp(&ns->addrs[i], a, sizeof *a))
            return;
    if (ns->naddrs >= 64)
        return;
    ns->addrs = mm_xrealloc(ns->addrs, (ns->naddrs + 1) * sizeof *ns->addrs);
    ns->addrs[ns->naddrs++] = *a;
}

static void read_addrs(mm_net_ns *ns, const char *proc)
{
    char p[300];
    snprintf(p, sizeof p, "%s/%lld/net/fib_trie", proc, (long long)ns->pid);
    size_t len;
    char *d = mm_file_read_proc(p, PROC_FILE_MAX, &len);
    if (d) {
        mm_lines it;
        mm_lines_init(&it, d, len);
        const char *line;
        size_t ll;
        char last[64] = "";
        while (mm_lines_next(&it, &line, &ll)) {
            char buf[160];
            size_t n = ll < sizeof buf - 1 ? ll : sizeof buf - 1;
            memcpy(buf, line, n);
            buf[n] = 0;
            char *leaf = strstr(buf, "|-- ");
            if (leaf) {
                snprintf(last, sizeof last, "%s", mm_str_trim(leaf + 4));
                continue;
            }
            if (strstr(buf, "/32 host LOCAL") && *last && strncmp(last, "127.", 4)) {
                mm_ipaddr a;
                if (mm_net_addr_parse(&a, last) == 0)
                    add_addr(ns, &a);
            }
        }
        free(d);
    }
    snprintf(p, sizeof p, "%s/%lld/net/if_inet6", proc, (long long)ns->pid);
    d = mm_file_read_proc(p, PROC_FILE_MAX, &len);
    if (d) {
        mm_lines it;
        mm_lines_init(&it, d, len);
        const char *line;
        size_t ll;
        while (mm_lines_next(&it, &line, &ll)) {
            unsigned scope = 0;
            char hex[33];
            if (ll < 40 || sscanf(line, "%32s %*x %*x %x", hex, &scope) != 2 || scope != 0)
                continue;
            mm_ipaddr a = {.family = AF_INET6};
            for (int i = 0; i < 16; i++) {
                unsigned b;
                sscanf(hex + 2 * i, "%2x", &b);
                a.ip[i] = (uint8_t)b;
            }
            add_addr(ns, &a);
        }
        free(d);
    }
    mm_error_clear();
}

static json_t *load(const char *path);

/* Names and image of a container from containers/storage, where the
 * runtime metadata gave none (a podman with its own --root). */
static void storage_names(mm_container *ct, const char *root)
{
    if (!root || (ct->name && ct->image) || !ct->full_id)
        return;
    char *p = mm_xasprintf("%s/overlay-containers/containers.json", root);
    json_t *cs = load(p);
    free(p);
    size_t i;
    json_t *o;
    const char *image = NULL;
    json_array_foreach(cs, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (!id || strcmp(id, ct->full_id))
            continue;
        const char *nm = json_string_value(json_array_get(json_object_get(o, "names"), 0));
        if (nm && !ct->name)
            mm_proc_set(&ct->name, nm);
        image = json_string_value(json_object_get(o, "image"));
        break;
    }
    if (image && !ct->image) {
        p = mm_xasprintf("%s/overlay-images/images.json", root);
        json_t *is = load(p);
        free(p);
        json_array_foreach(is, i, o) {
            const char *id = json_string_value(json_object_get(o, "id"));
            if (!id || strcmp(id, image))
                continue;
            const char *nm = json_string_value(json_array_get(json_object_get(o, "names"), 0));
            mm_proc_set(&ct->image, nm ? nm : image);
            if (nm) {
                const char *colon = strrchr(nm, ':');
                const char *slash = strrchr(nm, '/');
                if (colon && (!slash || colon > slash)) {
                    free(ct->image_repository);
                    ct->image_repository = mm_xstrndup(nm, (size_t)(colon - nm));
                    mm_proc_set(&ct->image_tag, colon + 1);
                } else
                    mm_proc_set(&ct->image_repository, nm);
            }
            mm_proc_set(&ct->image_id, image);
            break;
        }
        json_decref(is);
    }
    json_decref(cs);
}

int mm_net_discover(mm_net_nslist *out, const char *proc_root, const char *storage_root,
                    bool host)
{
    memset(out, 0, sizeof *out);
    const char *proc = proc_root ? proc_root : "/proc";
    DIR *dir = opendir(proc);
    if (!dir)
        return mm_error_set(MM_EIO, "%s: %m", proc);
    uint64_t self = ns_inode(proc, "self");
    mm_container_cache *cache = mm_container_cache_new("/");
    struct dirent *de;
    while ((de = readdir(dir)) && out->count < 4096) {
        if (!is_pid(de->d_name))
            continue;
        uint64_t ino = ns_inode(proc, de->d_name);
        if (!ino)
            continue;
        bool seen = false;
        for (size_t i = 0; i < out->count; i++)
            if (out->ns[i].inode == ino) {
                seen = true;
                break;
            }
        if (seen)
            continue;
        mm_container *ct = NULL;
        if (ino != self) {
            char *cg = mm_proc_cgroup_path(proc, strtoll(de->d_name, NULL, 10));
            char id[65];
            if (cg && mm_cgroup_container_id(cg, id, NULL))
                ct = mm_container_cache_get(cache, cg);
            free(cg);
            if (!ct)
                continue;        /* a namespace no container owns */
        } else if (!host)
            continue;
        out->ns = mm_xrealloc(out->ns, (out->count + 1) * sizeof *out->ns);
        mm_net_ns *ns = &out->ns[out->count++];
        memset(ns, 0, sizeof *ns);
        ns->inode = ino;
        ns->pid = strtoll(de->d_name, NULL, 10);
        ns->path = mm_xasprintf("%s/%s/ns/net", proc, de->d_name);
        if (ct)
            storage_names(ct, storage_root ? storage_root : "/var/lib/containers/storage");
        ns->container = ct;
        read_addrs(ns, proc);
    }
    closedir(dir);
    mm_container_cache_free(cache);
    mm_error_clear();
    return 0;
}

void mm_net_nslist_free(mm_net_nslist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->ns[i].path);
        free(l->ns[i].addrs);
        mm_container_unref(l->ns[i].container);
    }
    free(l->ns);
    memset(l, 0, sizeof *l);
}

/* ---- sockets -> processes ----------------------------------------------------------- */

typedef struct sockinfo {
    uint64_t ino;
    int64_t pid;
    char comm[16];
} sockinfo;

static void hexaddr(const char *h, mm_ipaddr *a, bool v6)
{
    memset(a, 0, sizeof *a);
    a->family = v6 ? AF_INET6 : AF_INET;
    for (int w = 0; w < (v6 ? 4 : 1); w++) {
        char t[9];
        memcpy(t, h + 8 * w, 8);
        t[8] = 0;
        uint32_t v = (uint32_t)strtoul(t, NULL, 16);
        memcpy(a->ip + 4 * w, &v, 4);   /* /proc prints the kernel's word */
    }
}

int mm_net_scan_sockets(mm_net *n, const mm_net_ns *ns, const char *proc_root)
{
    const char *proc = proc_root ? proc_root : "/proc";
    /* inode -> process, for the processes in this namespace */
    sockinfo *si = NULL;
    size_t nsi = 0;
    DIR *dir = opendir(proc);
    if (!dir)
        return mm_error_set(MM_EIO, "%s: %m", proc);
    struct dirent *de;
    while ((de = readdir(dir))) {
        if (!is_pid(de->d_name) || ns_inode(proc, de->d_name) != ns->inode)
            continue;
        char p[300], comm[16] = "";
        snprintf(p, sizeof p, "%s/%s/comm", proc, de->d_name);
        size_t cl;
        char *c = mm_file_read_proc(p, 64, &cl);
        if (c) {
            snprintf(comm, sizeof comm, "%s", mm_str_trim(c));
            free(c);
        }
        snprintf(p, sizeof p, "%s/%s/fd", proc, de->d_name);
        DIR *fd = opendir(p);
        if (!fd)
            continue;
        struct dirent *fe;
        while ((fe = readdir(fd)) && nsi < 262144) {
            char lp[600], l[64];
            snprintf(lp, sizeof lp, "%s/%s", p, fe->d_name);
            ssize_t k = readlink(lp, l, sizeof l - 1);
            if (k <= 8)
                continue;
            l[k] = 0;
            if (strncmp(l, "socket:[", 8))
                continue;
            if (nsi % 256 == 0)
                si = mm_xrealloc(si, (nsi + 256) * sizeof *si);
            si[nsi].ino = strtoull(l + 8, NULL, 10);
            si[nsi].pid = strtoll(de->d_name, NULL, 10);
            memcpy(si[nsi].comm, comm, sizeof comm);
            nsi++;
        }
        closedir(fd);
    }
    closedir(dir);
    int noted = 0;
    static const struct { const char *f; uint8_t proto; bool v6; } files[] = {
        {"tcp", IPPROTO_TCP, false}, {"tcp6", IPPROTO_TCP, true},
        {"udp", IPPROTO_UDP, false}, {"udp6", IPPROTO_UDP, true},
    };
    for (size_t fi = 0; fi < 4; fi++) {
        char p[300];
        snprintf(p, sizeof p, "%s/%lld/net/%s", proc, (long long)ns->pid, files[fi].f);
        size_t len;
        char *d = mm_file_read_proc(p, PROC_FILE_MAX, &len);
        if (!d)
            continue;
        mm_lines it;
        mm_lines_init(&it, d, len);
        const char *line;
        size_t ll;
        mm_lines_next(&it, &line, &ll);          /* header */
        while (mm_lines_next(&it, &line, &ll)) {
            char buf[512], la[40], ra[40];
            unsigned lport, rport, st;
            unsigned long long ino;
            size_t k = ll < sizeof buf - 1 ? ll : sizeof buf - 1;
            memcpy(buf, line, k);
            buf[k] = 0;
            if (sscanf(buf, " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*x:%*x %*x:%*x %*x %*u %*d %llu",
                       la, &lport, ra, &rport, &st, &ino) != 6)
                continue;
            if (strlen(la) != (files[fi].v6 ? 32u : 8u) || strlen(ra) != strlen(la))
                continue;
            mm_ipaddr l, r;
            hexaddr(la, &l, files[fi].v6);
            hexaddr(ra, &r, files[fi].v6);
            int64_t pid = 0;
            const char *comm = NULL;
            for (size_t i = 0; i < nsi; i++)
                if (si[i].ino == ino) {
                    pid = si[i].pid;
                    comm = si[i].comm;
                    break;
                }
            bool listen = files[fi].proto == IPPROTO_TCP ? st == 0x0a : rport == 0;
            mm_net_note_socket(n, ns->inode, files[fi].proto, &l, (uint16_t)lport,
                               listen ? NULL : &r, listen ? 0 : (uint16_t)rport, pid, comm);
            noted++;
        }
        free(d);
    }
    free(si);
    return noted;
}

/* ---- image configs ------------------------------------------------------------------------ */

static char *b64(const char *s)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(s);
    char *o = mm_xmalloc(4 * ((n + 2) / 3) + 1), *p = o;
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)u[i] << 16 | (i + 1 < n ? (unsigned)u[i + 1] << 8 : 0) |
                     (i + 2 < n ? u[i + 2] : 0);
        *p++ = t[v >> 18 & 63];
        *p++ = t[v >> 12 & 63];
        *p++ = i + 1 < n ? t[v >> 6 & 63] : '=';
        *p++ = i + 2 < n ? t[v & 63] : '=';
    }
    *p = 0;
    return o;
}

static json_t *load(const char *path)
{
    char *d;
    size_t len;
    if (mm_file_read(path, 64u << 20, &d, &len))
        return NULL;
    json_t *j = json_loadb(d, len, 0, NULL);
    free(d);
    return j;
}

int mm_net_container_image_config(char **json, size_t *len, const mm_container *c,
                                  const char *storage_root)
{
    *json = NULL;
    *len = 0;
    if (!c || !c->full_id)
        return mm_error_set(MM_ENOTFOUND, "no container id");
    int rc;
    if (c->type && !strcmp(c->type, "docker") && c->image_id) {
        char *p = mm_xasprintf("/var/lib/docker/image/overlay2/imagedb/content/sha256/%s", c->image_id);
        rc = mm_file_read(p, 16u << 20, json, len);
        free(p);
        return rc;
    }
    const char *root = storage_root ? storage_root : "/var/lib/containers/storage";
    char *p = mm_xasprintf("%s/overlay-containers/containers.json", root);
    json_t *cs = load(p);
    free(p);
    const char *image = NULL;
    size_t i;
    json_t *o;
    json_array_foreach(cs, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (id && !strcmp(id, c->full_id)) {
            image = json_string_value(json_object_get(o, "image"));
            break;
        }
    }
    if (!image || strchr(image, '/') || strstr(image, "..")) {
        json_decref(cs);
        return mm_error_set(MM_ENOTFOUND, "%s: container %s is not in containers/storage", root,
                            c->id);
    }
    p = mm_xasprintf("%s/overlay-images/images.json", root);
    json_t *is = load(p);
    free(p);
    rc = mm_error_set(MM_ENOTFOUND, "%s: no config for image %s", root, image);
    json_array_foreach(is, i, o) {
        const char *id = json_string_value(json_object_get(o, "id"));
        if (!id || strcmp(id, image))
            continue;
        size_t k;
        json_t *name;
        json_array_foreach(json_object_get(o, "big-data-names"), k, name) {
            const char *key = json_string_value(name);
            if (!key || strncmp(key, "sha256:", 7))
                continue;
            char *enc = b64(key);
            char *f = mm_xasprintf("%s/overlay-images/%s/=%s", root, image, enc);
            free(enc);
            rc = mm_file_read(f, 16u << 20, json, len);
            free(f);
            if (!rc)
                break;
        }
        break;
    }
    json_decref(cs);
    json_decref(is);
    return rc;
}
