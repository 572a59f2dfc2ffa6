/*
 * model/inventory.c - the list of packages a scan found (mamori/inventory.h)
 * and the short names of package types.
 *
 * Packages are deep copies; the ownership index (path -> owned) is built
 * on first use, since only some scanners (unowned executables) ask.
 */
#include <stdlib.h>
#include <string.h>

#include "mamori/inventory.h"
#include "util/util.h"

struct mm_inventory {
    mm_package **pkgs;
    size_t n, cap;
    mm_map *owned; /* built lazily */
};

static const mm_pkg_type_info types[MM_PKG__COUNT] = {
    [MM_PKG_UNKNOWN] = {MM_PKG_UNKNOWN, "unknown", NULL, NULL, false},
    [MM_PKG_DPKG] = {MM_PKG_DPKG, "dpkg", "deb", NULL, true},
    [MM_PKG_APK] = {MM_PKG_APK, "apk", "apk", NULL, true},
    [MM_PKG_RPM] = {MM_PKG_RPM, "rpm", "rpm", NULL, true},
    [MM_PKG_PYTHON] = {MM_PKG_PYTHON, "python", "pypi", "PyPI", false},
    [MM_PKG_NPM] = {MM_PKG_NPM, "npm", "npm", "npm", false},
    [MM_PKG_GOMOD] = {MM_PKG_GOMOD, "gomod", "golang", "Go", false},
    [MM_PKG_MAVEN] = {MM_PKG_MAVEN, "maven", "maven", "Maven", false},
    [MM_PKG_GEM] = {MM_PKG_GEM, "gem", "gem", "RubyGems", false},
    [MM_PKG_CARGO] = {MM_PKG_CARGO, "cargo", "cargo", "crates.io", false},
    [MM_PKG_COMPOSER] = {MM_PKG_COMPOSER, "composer", "composer", "Packagist", false},
};

const mm_pkg_type_info *mm_pkg_type_info_get(mm_pkg_type t)
{
    return &types[(unsigned)t < MM_PKG__COUNT ? t : MM_PKG_UNKNOWN];
}

const mm_pkg_type_info *mm_pkg_type_by_purl(const char *purl_type)
{
    for (size_t i = 1; purl_type && i < MM_PKG__COUNT; i++)
        if (types[i].purl_type && !strcmp(types[i].purl_type, purl_type))
            return &types[i];
    return NULL;
}

const char *mm_pkg_type_name(mm_pkg_type t)
{
    return mm_pkg_type_info_get(t)->name;
}

int mm_inventory_new(mm_inventory **out)
{
    *out = mm_xcalloc(1, sizeof **out);
    return 0;
}

void mm_package_clear(mm_package *p)
{
    if (!p)
        return;
    free(p->name);
    free(p->version);
    free(p->src_name);
    free(p->src_version);
    free(p->arch);
    free(p->license);
    free(p->purl);
    free(p->path);
    free(p->layer_digest);
    mm_strv_free(p->files, p->nfiles);
    memset(p, 0, sizeof *p);
    p->epoch = -1;
    p->layer = -1;
}

static void pkg_free(mm_package *p)
{
    mm_package_clear(p);
    free(p);
}

void mm_inventory_free(mm_inventory *inv)
{
    if (!inv)
        return;
    for (size_t i = 0; i < inv->n; i++)
        pkg_free(inv->pkgs[i]);
    free(inv->pkgs);
    mm_map_free(inv->owned, NULL);
    free(inv);
}

int mm_inventory_add(mm_inventory *inv, const mm_package *pkg,
                     mm_package **added)
{
    if (!pkg || !pkg->name || !*pkg->name)
        return mm_error_set(MM_EINVAL, "package without a name");
    mm_package *p = mm_xcalloc(1, sizeof *p);
    p->type = pkg->type;
    p->name = mm_xstrdup(pkg->name);
    p->version = mm_xstrdup(pkg->version ? pkg->version : "");
    p->epoch = pkg->epoch;
    p->src_name = mm_xstrdup(pkg->src_name);
    p->src_version = mm_xstrdup(pkg->src_version);
    p->arch = mm_xstrdup(pkg->arch);
    p->license = mm_xstrdup(pkg->license);
    p->purl = mm_xstrdup(pkg->purl);
    p->path = mm_xstrdup(pkg->path);
    p->layer_digest = mm_xstrdup(pkg->layer_digest);
    p->layer = pkg->layer;
    p->indirect = pkg->indirect;
    if (pkg->nfiles) {
        p->files = mm_xcalloc(pkg->nfiles, sizeof *p->files);
        for (size_t i = 0; i < pkg->nfiles; i++)
            p->files[i] = mm_xstrdup(pkg->files[i]);
        p->nfiles = pkg->nfiles;
    }
    if (inv->n == inv->cap) {
        inv->cap = inv->cap ? inv->cap * 2 : 64;
        inv->pkgs = mm_xrealloc(inv->pkgs, inv->cap * sizeof *inv->pkgs);
    }
    inv->pkgs[inv->n++] = p;
    if (inv->owned) {
        mm_map_free(inv->owned, NULL);
        inv->owned = NULL;
    }
    if (added)
        *added = p;
    return 0;
}

size_t mm_inventory_count(const mm_inventory *inv)
{
    return inv ? inv->n : 0;
}

const mm_package *mm_inventory_get(const mm_inventory *inv, size_t i)
{
    return i < inv->n ? inv->pkgs[i] : NULL;
}

static int nstrcmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

static int pkg_cmp(const void *x, const void *y)
{
    const mm_package *a = *(mm_package *const *)x, *b = *(mm_package *const *)y;
    int c;
    if (a->type != b->type)
        return a->type < b->type ? -1 : 1;
    if ((c = nstrcmp(a->name, b->name)))
        return c;
    if ((c = nstrcmp(a->version, b->version)))
        return c;
    return nstrcmp(a->path, b->path);
}

void mm_inventory_sort(mm_inventory *inv)
{
    if (inv->n > 1)
        qsort(inv->pkgs, inv->n, sizeof *inv->pkgs, pkg_cmp);
}

bool mm_inventory_owns(mm_inventory *inv, const char *path)
{
    if (!inv->owned) {
        inv->owned = mm_map_new();
        for (size_t i = 0; i < inv->n; i++)
            for (size_t k = 0; k < inv->pkgs[i]->nfiles; k++)
                mm_map_put(inv->owned, inv->pkgs[i]->files[k], inv->pkgs[i]);
    }
    return mm_map_get(inv->owned, path) != NULL;
}
