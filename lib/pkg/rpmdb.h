/*
 * pkg/rpmdb.h - internal interface of the rpm database readers: the rpm
 * header blob decoder and the three on-disk containers that hold those
 * blobs (Berkeley DB hash "Packages", SUSE's NDB "Packages.db", SQLite
 * "rpmdb.sqlite").  Everything here is a pure function over a buffer, so
 * that the unit tests and the fuzz targets can drive it without an image.
 *
 * The readers are our own (no librpm): librpm keeps global state (macros,
 * config files, a dbpath on disk), cannot read NDB in Debian's build and is
 * hard to fuzz.  Every size and count read from the input is checked
 * against the buffer before use.
 */
#ifndef MM_PKG_RPMDB_H
#define MM_PKG_RPMDB_H

#include <stddef.h>
#include <stdint.h>

#include "mamori/pkg.h"

/* Caps on hostile input (a real header holds ~100 tags, < 16 MiB). */
#define MM_RPM_MAX_TAGS      65536u
#define MM_RPM_MAX_BLOB      (256u << 20)
#define MM_RPM_MAX_FILES     (4u << 20)   /* owned files of one package */
#define MM_RPM_MAX_PACKAGES  (1u << 20)   /* packages in one database */

typedef enum mm_rpmdb_format {
    MM_RPMDB_UNKNOWN = 0,
    MM_RPMDB_BDB,    /* Berkeley DB hash, "Packages" */
    MM_RPMDB_NDB,    /* rpm's native db, "Packages.db" (magic "RpmP") */
    MM_RPMDB_SQLITE, /* "rpmdb.sqlite" */
} mm_rpmdb_format;

/* Which container the bytes hold, by content (not by file name). */
mm_rpmdb_format mm_rpmdb_detect(const uint8_t *data, size_t len);

/* Called once per package record with the raw header blob; recno is the
 * record's key (BDB key, NDB pkgidx, SQLite hnum).  Returning non-zero
 * stops the walk and is passed back. */
typedef int (*mm_rpmdb_blob_fn)(void *ud, uint32_t recno,
                                const uint8_t *blob, size_t len);

/* The container walkers.  path names the database in error messages.
 * Return 0, the callback's non-zero value, or MM_EFORMAT. */
int mm_rpmdb_bdb_walk(const uint8_t *data, size_t len, const char *path,
                      mm_rpmdb_blob_fn fn, void *ud);
int mm_rpmdb_ndb_walk(const uint8_t *data, size_t len, const char *path,
                      mm_rpmdb_blob_fn fn, void *ud);
int mm_rpmdb_sqlite_walk(const uint8_t *data, size_t len, const char *path,
                         mm_rpmdb_blob_fn fn, void *ud);

/* Decodes one header blob (the "il dl index data" form the databases
 * store, without the 8-byte magic of a package file) into *out: type,
 * name, epoch (-1 when absent), version ("version-release"), src_name,
 * src_version, arch, license and files.  path, layer, layer_digest and
 * purl are left NULL / -1.  Returns 0, or MM_EFORMAT (message names path
 * and recno), or 1 when the record is not a package (gpg-pubkey pseudo
 * packages, which `rpm -qa` lists but which install no software).
 * Free with mm_rpm_package_clear(). */
int mm_rpm_header_parse(mm_package *out, const uint8_t *blob, size_t len,
                        const char *path, uint32_t recno);
void mm_rpm_package_clear(mm_package *p);

/* All packages of a database (any of the three formats).  *pkgs is an
 * array of *npkgs packages to free with mm_rpm_packages_free().  Empty
 * input (0 bytes) is an empty database; anything else unrecognised or
 * corrupt is MM_EFORMAT naming path and offset/record. */
int mm_rpmdb_parse(mm_package **pkgs, size_t *npkgs, const uint8_t *data,
                   size_t len, const char *path);
void mm_rpm_packages_free(mm_package *pkgs, size_t n);

/* mm_rpmdb_parse() and add every package to inv with path (made
 * image-absolute), layer and layer_digest. */
int mm_rpmdb_read(mm_inventory *inv, const uint8_t *data, size_t len,
                  const char *path, int layer, const char *layer_digest);

#endif
