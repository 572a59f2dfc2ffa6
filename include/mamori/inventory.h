/*
 * mamori/inventory.h - the software inventory: packages found in an image or
 * root filesystem, whatever manager installed them (lib/model).
 *
 * A package is a plain read-only record owned by the mm_inventory that holds
 * it; strings in it live as long as the inventory.  Analyzers fill an
 * inventory with mm_inventory_add(), which copies what it is given.
 */
#ifndef MAMORI_INVENTORY_H
#define MAMORI_INVENTORY_H

#include "mamori/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mm_pkg_type {
    MM_PKG_UNKNOWN = 0,
    MM_PKG_DPKG,     /* Debian, Ubuntu, distroless */
    MM_PKG_APK,      /* Alpine, Wolfi */
    MM_PKG_RPM,      /* RHEL, SUSE, Mariner, ... */
    MM_PKG_PYTHON,   /* dist-info / egg-info */
    MM_PKG_NPM,      /* node_modules package.json */
    MM_PKG_GOMOD,    /* a module (or the stdlib) compiled into a Go binary */
    MM_PKG_MAVEN,    /* Java archives */
    MM_PKG_GEM,      /* Ruby gemspecs */
    MM_PKG_CARGO,    /* Rust Cargo.lock / cargo-auditable */
    MM_PKG_COMPOSER, /* PHP composer/installed.json */
    MM_PKG__COUNT
} mm_pkg_type;

/* Short stable name of a type: "dpkg", "apk", "rpm", "python", "npm",
 * "gomod", "maven", "gem", "cargo", "composer". */
const char *mm_pkg_type_name(mm_pkg_type t);

/* What the rest of the library needs to know of a package type, in one
 * table (lib/model/inventory.c): adding an ecosystem adds one row. */
typedef struct mm_pkg_type_info {
    mm_pkg_type type;
    const char *name;       /* mm_pkg_type_name() */
    const char *purl_type;  /* package-url type: "deb", "pypi", "golang" */
    const char *ecosystem;  /* OSV ecosystem of a language package ("PyPI");
                             * NULL for a distribution's packages, whose
                             * ecosystem is the distribution ("Debian:12") */
    bool os;                /* installed by the distribution's manager */
} mm_pkg_type_info;

/* The row of t (never NULL: MM_PKG_UNKNOWN's for anything else). */
const mm_pkg_type_info *mm_pkg_type_info_get(mm_pkg_type t);
/* The row whose purl type is purl_type, or NULL. */
const mm_pkg_type_info *mm_pkg_type_by_purl(const char *purl_type);

typedef struct mm_package {
    mm_pkg_type type;
    char *name;        /* as the ecosystem spells it (Maven: group:artifact) */
    char *version;     /* full version as the ecosystem writes it:
                        * dpkg "[epoch:]upstream[-revision]",
                        * rpm "version-release" (epoch in .epoch),
                        * others verbatim */
    int epoch;         /* rpm epoch, -1 when none (dpkg keeps it in version) */
    char *src_name;    /* source package (dpkg Source, rpm SOURCERPM name,
                        * apk origin); NULL when it equals name or is unknown */
    char *src_version; /* source version where it differs; else NULL */
    char *arch;        /* architecture, NULL when not stated */
    char *license;     /* as stated by the metadata; NULL when not stated */
    char *purl;        /* package-url (purl-spec) */
    char *path;        /* where it was found, image-absolute ("/var/lib/...") */
    char *layer_digest;/* diff_id of the layer that introduced it, or NULL */
    int layer;         /* index of that layer, -1 when unknown */
    char **files;      /* owned files, image-absolute paths */
    size_t nfiles;
    bool indirect;     /* a dependency rather than the thing itself */
} mm_package;

/* Frees the strings and file list of a package the caller filled (not one
 * owned by an inventory) and resets it: epoch and layer to -1. */
void mm_package_clear(mm_package *p);

typedef struct mm_inventory mm_inventory;

int mm_inventory_new(mm_inventory **out);
void mm_inventory_free(mm_inventory *inv);

/* Copies *pkg (and every string and file name) into the inventory.  A
 * package without a purl gets one when the scan ends and the OS is known
 * (see mm_purl_for).  *added, if not NULL, receives the stored copy, valid
 * until the inventory is freed. */
int mm_inventory_add(mm_inventory *inv, const mm_package *pkg,
                     mm_package **added);

size_t mm_inventory_count(const mm_inventory *inv);
const mm_package *mm_inventory_get(const mm_inventory *inv, size_t i);

/* Sorts by type, name, version, path so that output is deterministic. */
void mm_inventory_sort(mm_inventory *inv);

/* Is this image-absolute path owned by any package?  Built lazily. */
bool mm_inventory_owns(mm_inventory *inv, const char *path);

#ifdef __cplusplus
}
#endif
#endif
