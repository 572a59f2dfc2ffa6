/*
 * root.c - packages of a live system root (mamori/pkgroot.h): the OS, the
 * dpkg package owning a file and one executable's Go build info, with the
 * same parsers image scans use (dpkg.c, os.c, gobin.c), for the host's
 * runtime software (SP 800-190 §3.4.1).
 *
 * Ownership reads the status file once and then only the info/NAME.list files
 * of installed packages, stopping when every path has an owner; a host has
 * a few thousand of them and each is small.  A binary is read in 1 MiB
 * chunks and the Go scanner stops as soon as it has the build info.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mamori/pkgroot.h"
#include "pkg/lang.h"
#include "pkg/osdb.h"
#include "util/util.h"

#define MAX_STATUS (256u << 20)
#define MAX_LIST (64u << 20)

static char *rooted(const char *root, const char *abs)
{
    if (!root || !*root || !strcmp(root, "/"))
        return mm_xstrdup(abs);
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/')
        n--;
    return mm_xasprintf("%.*s%s", (int)n, root, abs);
}

typedef struct os_files {
    const char *root;
    char *bufs[8];
    size_t n;
} os_files;

static bool os_get(void *ud, const char *path, const char **data, size_t *len)
{
    os_files *f = ud;
    if (f->n >= 8)
        return false;
    char *abs = mm_xasprintf("/%s", path);
    char *p = rooted(f->root, abs);
    free(abs);
    char *d = NULL;
    size_t l = 0;
    int rc = mm_file_read(p, 1u << 20, &d, &l);
    free(p);
    if (rc < 0) {
        mm_error_clear();
        return false;
    }
    f->bufs[f->n++] = d;
    *data = d;
    *len = l;
    return true;
}

int mm_pkgroot_os(mm_os_info *out, const char *root)
{
    memset(out, 0, sizeof *out);
    os_files f = {root, {0}, 0};
    int rc = mm_os_detect(out, os_get, &f);
    for (size_t i = 0; i < f.n; i++)
        free(f.bufs[i]);
    return rc;
}

int mm_pkgroot_owners(mm_package *owners, const char *root, const char *const *paths,
                      size_t npaths)
{
    for (size_t i = 0; i < npaths; i++) {
        memset(&owners[i], 0, sizeof owners[i]);
        owners[i].epoch = owners[i].layer = -1;
    }
    char *sp = rooted(root, "/var/lib/dpkg/status");
    char *data = NULL;
    size_t len = 0;
    int rc = mm_file_read(sp, MAX_STATUS, &data, &len);
    if (rc == MM_ENOTFOUND || (rc < 0 && access(sp, F_OK) != 0)) {
        free(sp);
        mm_error_clear();
        return 0; /* no dpkg: nothing is package-owned */
    }
    if (rc < 0) {
        free(sp);
        return rc;
    }
    mm_osdb_list l = {0};
    rc = mm_dpkg_parse_status(&l, data, len, sp, true);
    free(data);
    free(sp);
    if (rc < 0) {
        mm_osdb_list_free(&l);
        return rc;
    }
    size_t left = npaths;
    for (size_t k = 0; k < l.n && left; k++) {
        const mm_osdb_pkg *op = &l.v[k];
        char *lp = op->multiarch_same && op->pkg.arch
                       ? mm_xasprintf("/var/lib/dpkg/info/%s:%s.list", op->pkg.name, op->pkg.arch)
                       : mm_xasprintf("/var/lib/dpkg/info/%s.list", op->pkg.name);
        char *full = rooted(root, lp);
        free(lp);
        char *ld = NULL;
        size_t ll = 0;
        if (mm_file_read(full, MAX_LIST, &ld, &ll) < 0) {
            mm_error_clear();
            free(full);
            continue;
        }
        free(full);
        char **files = NULL;
        size_t nfiles = 0;
        mm_dpkg_parse_files(&files, &nfiles, ld, ll, false);
        free(ld);
        for (size_t i = 0; i < npaths; i++) {
            if (owners[i].type != MM_PKG_UNKNOWN)
                continue;
            for (size_t f = 0; f < nfiles; f++) {
                if (strcmp(files[f], paths[i]))
                    continue;
                mm_package *o = &owners[i];
                o->type = MM_PKG_DPKG;
                o->name = mm_xstrdup(op->pkg.name);
                o->version = mm_xstrdup(op->pkg.version);
                o->src_name = mm_xstrdup(op->pkg.src_name);
                o->src_version = mm_xstrdup(op->pkg.src_version);
                o->arch = mm_xstrdup(op->pkg.arch);
                o->path = mm_xstrdup("/var/lib/dpkg/status");
                o->files = mm_xcalloc(1, sizeof(char *));
                o->files[0] = mm_xstrdup(paths[i]);
                o->nfiles = 1;
                left--;
                break;
            }
        }
        mm_strv_free(files, nfiles);
    }
    mm_osdb_list_free(&l);
    return 0;
}

/* "-X main.version=1.1.11" (runc), "-X github.com/.../version.Version=v1.6.20"
 * (containerd, podman, cri-o) in a "build\t-ldflags=..." line. */
static char *ldflags_version(const char *modinfo, size_t len)
{
    mm_lines it;
    const char *line;
    size_t n;
    mm_lines_init(&it, modinfo, len);
    while (mm_lines_next(&it, &line, &n)) {
        if (n < 15 || strncmp(line, "build\t-ldflags=", 15))
            continue;
        char *l = mm_xstrndup(line + 15, n - 15);
        char *res = NULL;
        static const char *const keys[] = {"main.version=", "main.Version=", "version.Version=",
                                           "version.version=", "version.gitVersion=", NULL};
        for (size_t k = 0; keys[k] && !res; k++) {
            char *p = strstr(l, keys[k]);
            if (!p)
                continue;
            p += strlen(keys[k]);
            size_t m = strcspn(p, " \"'\t");
            if (m && m < 64)
                res = mm_xstrndup(p, m);
        }
        free(l);
        if (res)
            return res;
    }
    return NULL;
}

int mm_pkgroot_gobin(mm_inventory *inv, const char *file, const char *report_path,
                     char **goversion, char **main_path, char **main_version,
                     char **ldflags_ver)
{
    *goversion = *main_path = *main_version = *ldflags_ver = NULL;
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return mm_error_set(MM_EIO, "%s: cannot open", file);
    mm_gobin *g = mm_gobin_new();
    uint8_t *buf = mm_xmalloc(1u << 20);
    uint64_t off = 0;
    mm_gobin_status st = MM_GOBIN_MORE;
    for (;;) {
        ssize_t r = read(fd, buf, 1u << 20);
        if (r < 0) {
            free(buf);
            mm_gobin_free(g);
            close(fd);
            return mm_error_set(MM_EIO, "%s: read failed", file);
        }
        if (r == 0)
            break;
        st = mm_gobin_feed(g, off, buf, (size_t)r);
        off += (uint64_t)r;
        if (st != MM_GOBIN_MORE)
            break;
    }
    free(buf);
    close(fd);
    if (st == MM_GOBIN_MORE)
        st = mm_gobin_finish(g);
    if (st != MM_GOBIN_FOUND) {
        mm_gobin_free(g);
        return 0;
    }
    size_t mlen = 0;
    const char *mi = mm_gobin_modinfo(g, &mlen);
    mm_lang_result res = {0};
    mm_gobin_packages(&res, mm_gobin_goversion(g), mi, mlen);
    *goversion = mm_xstrdup(mm_gobin_goversion(g));
    *ldflags_ver = mi ? ldflags_version(mi, mlen) : NULL;
    for (size_t i = 0; i < res.npkgs; i++) {
        mm_package *p = &res.pkgs[i];
        if (!p->indirect && strcmp(p->name, "stdlib") && !*main_path) {
            *main_path = mm_xstrdup(p->name);
            if (strcmp(p->version, "(devel)")) {
                *main_version = mm_xstrdup(p->version);
            } else if (*ldflags_ver) {
                /* built from a source tree: the version its Makefile
                 * stamped in is the release's ("1.1.11" -> "v1.1.11") */
                free(p->version);
                p->version = (*ldflags_ver)[0] == 'v' ? mm_xstrdup(*ldflags_ver)
                                                     : mm_xasprintf("v%s", *ldflags_ver);
            }
        }
        free(p->path);
        p->path = mm_xstrdup(report_path);
        mm_inventory_add(inv, p, NULL);
    }
    mm_lang_result_free(&res);
    mm_gobin_free(g);
    return 1;
}
