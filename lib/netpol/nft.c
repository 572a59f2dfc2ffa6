/*
 * nft.c - talking to nftables through libnftables, in a network namespace:
 * each call runs on a short-lived thread that enters the namespace
 * (setns(CLONE_NEWNET) changes only the calling thread) and makes its own
 * nft context there, so the caller's namespace is never touched.  Applying
 * a compiled table is one transaction ("table T; delete table T; table T
 * {...}": the kernel takes all of it or none); a set of namespaces is rolled
 * back to the tables they had when a later one fails.  The kill switch
 * deletes every mamori table of a namespace in one transaction.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ifaddrs.h>
#include <netinet/in.h>

#include <nftables/libnftables.h>

#include "netpol/netpol_config.h"
#include "netpol_int.h"
#include "util/dlopen.h"
#include "util/util.h"

/* The libnftables calls of this file, typed by its header; bound for
 * each run (util/dlopen.h: the library and its dependencies are not
 * linked, so that commands that never touch nftables do not map them at
 * start; after the first run binding only takes a reference). */
typedef struct nft_api {
    MM_DLSYM_FIELD(nft_ctx_buffer_error);
    MM_DLSYM_FIELD(nft_ctx_buffer_output);
    MM_DLSYM_FIELD(nft_ctx_free);
    MM_DLSYM_FIELD(nft_ctx_get_error_buffer);
    MM_DLSYM_FIELD(nft_ctx_get_output_buffer);
    MM_DLSYM_FIELD(nft_ctx_new);
    MM_DLSYM_FIELD(nft_ctx_output_set_flags);
    MM_DLSYM_FIELD(nft_ctx_set_dry_run);
    MM_DLSYM_FIELD(nft_run_cmd_from_buffer);
} nft_api;

static int nft_bind(void **lib, nft_api *a)
{
    const mm_dlsym syms[] = {
        MM_DLSYM(a, nft_ctx_buffer_error), MM_DLSYM(a, nft_ctx_buffer_output),
        MM_DLSYM(a, nft_ctx_free), MM_DLSYM(a, nft_ctx_get_error_buffer),
        MM_DLSYM(a, nft_ctx_get_output_buffer), MM_DLSYM(a, nft_ctx_new),
        MM_DLSYM(a, nft_ctx_output_set_flags), MM_DLSYM(a, nft_ctx_set_dry_run),
        MM_DLSYM(a, nft_run_cmd_from_buffer),
    };
    int rc = mm_dlopen_syms(lib, MM_NFTABLES_SONAME, syms, sizeof syms / sizeof *syms);
    if (rc)
        return mm_error_wrap(rc, "nftables needs libnftables at run time: ");
    return 0;
}

typedef struct job {
    const nft_api *api;
    const char *netns;
    const char *cmds;
    bool dry_run, terse;
    int rc;
    char *out;                   /* nft's output */
    char *err;                   /* nft's error text */
} job;

static void nft_job(job *j)
{
    const nft_api *a = j->api;
    struct nft_ctx *ctx = a->nft_ctx_new(NFT_CTX_DEFAULT);
    if (!ctx) {
        j->rc = -1;
        j->err = mm_xstrdup("cannot make an nftables context");
        return;
    }
    a->nft_ctx_buffer_output(ctx);
    a->nft_ctx_buffer_error(ctx);
    if (j->terse)
        a->nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_TERSE);
    a->nft_ctx_set_dry_run(ctx, j->dry_run);
    j->rc = a->nft_run_cmd_from_buffer(ctx, j->cmds);
    j->out = mm_xstrdup(a->nft_ctx_get_output_buffer(ctx));
    j->err = mm_xstrdup(a->nft_ctx_get_error_buffer(ctx));
    a->nft_ctx_free(ctx);
}

/* A thread that enters netns (setns applies to the calling thread only,
 * so the caller's namespace is never changed) and runs fn(arg) there. */
typedef struct ns_call {
    const char *netns;
    void (*fn)(void *);
    void *arg;
    int err;
} ns_call;

static void *ns_thread(void *p)
{
    ns_call *c = p;
    int fd = open(c->netns, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
        c->err = errno ? errno : EINVAL;
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    close(fd);
    c->fn(c->arg);
    return NULL;
}

int np_in_netns(const char *netns, void (*fn)(void *), void *arg)
{
    if (!netns) {
        fn(arg);
        return 0;
    }
    ns_call c = {netns, fn, arg, 0};
    pthread_t th;
    if (pthread_create(&th, NULL, ns_thread, &c) != 0)
        return mm_error_set(MM_EIO, "cannot start a thread for namespace %s", netns);
    pthread_join(th, NULL);
    if (c.err)
        return mm_error_set(MM_EIO, "namespace %s: %s", netns, strerror(c.err));
    return 0;
}

static void job_fn(void *arg)
{
    nft_job(arg);
}

/* Runs cmds; 0 or MM_EIO with nft's message. */
static int run(const char *netns, const char *cmds, bool dry_run, bool terse, char **out)
{
    nft_api a;
    job j = {.api = &a, .netns = netns, .cmds = cmds, .dry_run = dry_run, .terse = terse};
    if (out)
        *out = NULL;
    void *lib = NULL;
    int rc = nft_bind(&lib, &a);
    if (rc)
        return rc;
    rc = np_in_netns(netns, job_fn, &j);
    mm_dlclose(lib);
    if (rc < 0) {
        return rc;
    } else if (j.rc != 0) {
        char *e = mm_str_trim(j.err ? j.err : (char *)"");
        rc = mm_error_set(MM_EIO, "nftables%s%s: %s", netns ? " in " : "",
                          netns ? netns : "", *e ? e : "refused");
    } else if (out) {
        *out = j.out;
        j.out = NULL;
    }
    free(j.out);
    free(j.err);
    return rc;
}

int mm_netpol_nft_run(const char *netns, const char *cmds, bool dry_run)
{
    return run(netns, cmds, dry_run, false, NULL);
}

static bool table_ok(const char *t)
{
    if (!t || !*t || strlen(t) > 255)
        return false;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') ||
              (*t >= '0' && *t <= '9') || *t == '_'))
            return false;
    return true;
}

/* Does `list tables` show "table inet T"? */
static int has_table(const char *netns, const char *table, bool *yes)
{
    char *out = NULL;
    *yes = false;
    int rc = run(netns, "list tables", false, true, &out);
    if (rc)
        return rc;
    char *want = mm_xasprintf("table inet %s", table);
    mm_lines it;
    const char *line;
    size_t len;
    mm_lines_init(&it, out, strlen(out));
    while (mm_lines_next(&it, &line, &len))
        if (len == strlen(want) && !memcmp(line, want, len))
            *yes = true;
    free(want);
    free(out);
    return 0;
}

int mm_netpol_nft_list(char **text, const char *netns, const char *table)
{
    *text = NULL;
    if (!table_ok(table))
        return mm_error_set(MM_EINVAL, "bad table name");
    bool yes;
    int rc = has_table(netns, table, &yes);
    if (rc || !yes)
        return rc;
    char *cmd = mm_xasprintf("list table inet %s", table);
    rc = run(netns, cmd, false, true, text);
    free(cmd);
    return rc;
}

static char *replace_cmds(const char *table, const char *ruleset)
{
    return mm_xasprintf("table inet %s\ndelete table inet %s\n%s", table, table,
                        ruleset ? ruleset : "");
}

void mm_netpol_targets_clear(mm_netpol_target *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++) {
        free(t[i].previous);
        t[i].previous = NULL;
    }
}

int mm_netpol_apply(mm_netpol_target *t, size_t n, bool dry_run, long fail_at)
{
    size_t done = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (!table_ok(t[i].table))
            return mm_error_set(MM_EINVAL, "target %zu: bad table name", i);
        free(t[i].previous);
        t[i].previous = NULL;
        if ((rc = mm_netpol_nft_list(&t[i].previous, t[i].netns, t[i].table)))
            return mm_error_wrap(rc, "target %zu (%s)", i, t[i].netns ? t[i].netns : "host");
    }
    for (; done < n; done++) {
        char *cmds = replace_cmds(t[done].table, t[done].ruleset);
        rc = run(t[done].netns, cmds, dry_run, false, NULL);
        free(cmds);
        if (!rc && (long)done == fail_at)
            rc = mm_error_set(MM_EIO, "target %zu: failure injected (test)", done);
        if (rc) {
            rc = mm_error_wrap(rc, "target %zu (%s)", done,
                               t[done].netns ? t[done].netns : "host");
            break;
        }
    }
    if (!rc || dry_run)
        return rc;
    /* roll back what was applied (the failed one included: with injected
     * failures it did change; a refused transaction changed nothing) */
    char *first = mm_xstrdup(mm_error_last());
    size_t last = (long)done == fail_at ? done + 1 : done;
    for (size_t i = 0; i < last && i < n; i++) {
        char *cmds = replace_cmds(t[i].table, t[i].previous);
        int r2 = run(t[i].netns, cmds, false, false, NULL);
        free(cmds);
        if (r2) {
            char *e = mm_xstrdup(mm_error_last());
            mm_error_set(rc, "%s; rolling back target %zu also failed: %s", first, i, e);
            free(e);
            free(first);
            return rc;
        }
    }
    mm_error_set(rc, "%s (every namespace rolled back to its previous table)", first);
    free(first);
    return rc;
}

int mm_netpol_kill(const char *netns, size_t *removed)
{
    char *out = NULL;
    if (removed)
        *removed = 0;
    int rc = run(netns, "list tables", false, true, &out);
    if (rc)
        return rc;
    mm_buf cmds = MM_BUF_INIT;
    size_t n = 0;
    mm_lines it;
    const char *line;
    size_t len;
    mm_lines_init(&it, out, strlen(out));
    while (mm_lines_next(&it, &line, &len)) {
        char fam[16], name[260];
        char *l = mm_xstrndup(line, len);
        if (sscanf(l, "table %15s %259s", fam, name) == 2 && !strncmp(name, "mamori", 6) &&
            table_ok(name)) {
            mm_buf_printf(&cmds, "delete table %s %s\n", fam, name);
            n++;
        }
        free(l);
    }
    free(out);
    if (n)
        rc = run(netns, cmds.data, false, false, NULL);
    mm_buf_free(&cmds);
    if (!rc && removed)
        *removed = n;
    return rc;
}

int mm_netpol_set_add(const char *netns, const char *table, const char *set,
                      const mm_ipaddr *addr, uint32_t ttl)
{
    if (!table_ok(table) || !table_ok(set))
        return mm_error_set(MM_EINVAL, "bad table or set name");
    if (addr->family != AF_INET && addr->family != AF_INET6)
        return mm_error_set(MM_EINVAL, "not an address");
    if (ttl < 30)
        ttl = 30;
    if (ttl > 86400)
        ttl = 86400;
    char a[64];
    inet_ntop(addr->family, addr->ip, a, sizeof a);
    /* refresh: delete and add in one transaction; when the element is not
     * there (new, or timed out) the delete fails the batch, so add alone */
    char *cmds = mm_xasprintf("delete element inet %s %s { %s }\n"
                              "add element inet %s %s { %s timeout %us }\n",
                              table, set, a, table, set, a, ttl);
    int rc = run(netns, cmds, false, false, NULL);
    free(cmds);
    if (rc) {
        cmds = mm_xasprintf("add element inet %s %s { %s timeout %us }\n", table, set, a,
                            ttl);
        rc = run(netns, cmds, false, false, NULL);
        free(cmds);
    }
    return rc;
}

typedef struct addr_job {
    const char *netns;
    mm_ipaddr *a;
    size_t n;
    int err;
} addr_job;

static void addrs_here(addr_job *j)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0) {
        j->err = errno;
        return;
    }
    for (struct ifaddrs *i = ifa; i && j->n < 256; i = i->ifa_next) {
        if (!i->ifa_addr)
            continue;
        mm_ipaddr x;
        memset(&x, 0, sizeof x);
        if (i->ifa_addr->sa_family == AF_INET) {
            x.family = AF_INET;
            memcpy(x.ip, &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, 4);
            if (x.ip[0] == 127)
                continue;
        } else if (i->ifa_addr->sa_family == AF_INET6) {
            x.family = AF_INET6;
            memcpy(x.ip, &((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, 16);
            static const uint8_t lo6[16] = {[15] = 1};
            if (!memcmp(x.ip, lo6, 16) || (x.ip[0] == 0xfe && (x.ip[1] & 0xc0) == 0x80))
                continue;
        } else {
            continue;
        }
        j->a = mm_xrealloc(j->a, (j->n + 1) * sizeof x);
        j->a[j->n++] = x;
    }
    freeifaddrs(ifa);
}

static void addrs_fn(void *arg)
{
    addrs_here(arg);
}

int mm_netpol_netns_addrs(mm_ipaddr **addrs, size_t *n, const char *netns)
{
    addr_job j = {.netns = netns};
    *addrs = NULL;
    *n = 0;
    int rc = np_in_netns(netns, addrs_fn, &j);
    if (rc < 0)
        return rc;
    if (j.err) {
        free(j.a);
        return mm_error_set(MM_EIO, "addresses of %s: %s", netns ? netns : "this namespace",
                            strerror(j.err));
    }
    *addrs = j.a;
    *n = j.n;
    return 0;
}
