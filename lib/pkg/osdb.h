/*
 * pkg/osdb.h - pure parsers behind the OS analyzers (os-release and the
 * release files, the dpkg status database, the apk installed database).
 *
 * They take bytes and return records, with no image, tree or scan in sight,
 * so that unit tests and fuzz targets can drive them directly.  The
 * analyzers in os.c, dpkg.c and apk.c feed them the files of each layer and
 * decide, with the merged tree, what the container really sees.
 *
 * Every parser treats its input as hostile: sizes and counts are capped and
 * a malformed database is an MM_EFORMAT error naming the path and line.
 */
#ifndef MM_PKG_OSDB_H
#define MM_PKG_OSDB_H

#include <stdbool.h>
#include <stddef.h>

#include "mamori/pkg.h"
#include "pkg/analyzers.h"
#include "util/util.h"

/* Caps on what one database may hold. */
#define MM_OSDB_MAX_PKGS  200000u    /* packages in one database */
#define MM_OSDB_MAX_FILES 2000000u   /* owned files of one package */

/* One package of a database, as parsed.  Strings are owned by the list. */
typedef struct mm_osdb_pkg {
    mm_package pkg;       /* type, name, version, src_*, arch, license,
                           * files; layer/path/purl are left unset */
    bool multiarch_same;  /* dpkg "Multi-Arch: same": dpkg names it
                           * NAME:ARCH (info/NAME:ARCH.list) */
    size_t line;          /* line where the record starts */
} mm_osdb_pkg;

/* The records of one database plus the records skipped with a reason
 * (an analyzer turns each into a scan warning). */
typedef struct mm_osdb_list {
    mm_osdb_pkg *v;
    size_t n, cap;
    char **warnings;
    size_t nwarnings;
} mm_osdb_list;

/* Frees what the list holds and empties it (the struct itself is the
 * caller's); accepts NULL. */
void mm_osdb_list_free(mm_osdb_list *l);

/* --- dpkg ---------------------------------------------------------------- */

/* Parses a dpkg status file (var/lib/dpkg/status) or one file of a
 * distroless var/lib/dpkg/status.d/.  Appends installed packages to out:
 * those whose Status state word is "installed"; with require_status false
 * (status.d, which has no Status field) a stanza without Status counts as
 * installed.  path is the image path used in error messages.  Returns 0,
 * MM_EFORMAT (message names path and line) or MM_ELIMIT. */
int mm_dpkg_parse_status(mm_osdb_list *out, const char *data, size_t len,
                         const char *path, bool require_status);

/* The licences a debian/copyright file states: the distinct "License:"
 * short names of a machine-readable (DEP-5) file, else the names of the
 * /usr/share/common-licenses/ files it refers to, joined with " AND ";
 * NULL when it states none.  Caller frees. */
char *mm_dpkg_copyright_license(const char *data, size_t len);

/* Parses an info/PKG.list file (one absolute path per line) or, when
 * md5sums is true, a PKG.md5sums file ("<md5>  relative/path"), appending
 * image-absolute normalised paths to *files.  "/." and unusable lines are
 * skipped: the list only enriches a package.  Returns 0 or MM_ELIMIT. */
int mm_dpkg_parse_files(char ***files, size_t *nfiles, const char *data,
                        size_t len, bool md5sums);

/* --- apk ----------------------------------------------------------------- */

/* Parses lib/apk/db/installed.  A record without a version is skipped and
 * reported in out->warnings.  Returns 0, MM_EFORMAT or MM_ELIMIT. */
int mm_apk_parse_installed(mm_osdb_list *out, const char *data, size_t len,
                           const char *path);

/* --- OS detection -------------------------------------------------------- */

/* Gives the content of an image file ("etc/os-release", links already
 * followed) or returns false when it is absent. */
typedef bool (*mm_os_get_fn)(void *ud, const char *path, const char **data,
                             size_t *len);

/* Fills an empty *out from os-release (etc/ wins over usr/lib/) and, where
 * it is absent or lacks a version, from the release files (alpine-release,
 * lsb-release, centos/fedora/redhat/system-release, SuSE-release,
 * debian_version).  Fields stay NULL when unknown.  Returns 0. */
int mm_os_detect(mm_os_info *out, mm_os_get_fn get, void *ud);

/* Reads one os-release(5) assignment value: KEY's value with quotes and
 * backslash escapes undone, or NULL when KEY is absent.  Caller frees. */
char *mm_os_release_value(const char *data, size_t len, const char *key);

/* Frees the strings of *os and sets them to NULL. */
void mm_os_info_clear(mm_os_info *os);

/* The image paths the OS analyzer reads. */
extern const char *const mm_os_release_files[];

/* --- shared helpers ------------------------------------------------------ */

/* Does [s, s+n) hold a control character (other than tab) or a NUL? */
bool mm_osdb_has_ctrl(const char *s, size_t n);
/* Appends an empty record of type t (epoch -1, layer -1); NULL with
 * MM_ELIMIT set beyond MM_OSDB_MAX_PKGS. */
mm_osdb_pkg *mm_osdb_list_push(mm_osdb_list *l, mm_pkg_type t,
                               const char *path);
/* Appends a warning (printf-style). */
void mm_osdb_list_warn(mm_osdb_list *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* --- used by the analyzers (need the scan's tree) ------------------------ */

/* The latest version seen of a small file (release file, .list file). */
typedef struct mm_osdb_blob {
    int layer;
    char *data;   /* NUL-terminated */
    size_t len;
} mm_osdb_blob;

/* Keeps data as the latest version of path in m (values: mm_osdb_blob). */
void mm_osdb_blob_put(mm_map *m, const char *path, int layer,
                      const uint8_t *data, size_t len);
/* The kept version of path if the merged tree still shows that version
 * (not deleted, not overwritten by a file we did not read), else NULL. */
const mm_osdb_blob *mm_osdb_blob_visible(const mm_map *m, const mm_tree *t,
                                         const char *path);
void mm_osdb_blob_free(void *b);

/* One package database file followed across layers: its latest version
 * and, for each record (name, arch, version), the first layer since which
 * it has been continuously present. */
typedef struct mm_osdb_db {
    char *path;        /* normalised: "var/lib/dpkg/status" */
    int layer;         /* layer of the version kept */
    mm_osdb_list list; /* its records (empty when it was corrupt) */
    mm_map *since;     /* record key -> (void *)(intptr_t)(layer + 1) */
    int err;           /* MM_E* when the version kept was corrupt */
    char *errmsg;
} mm_osdb_db;

/* A package database the container sees could not be read: a warning and a
 * HIGH finding (MM-PKGDB-UNREADABLE, SP 800-190 3.1.1) at path (relative)
 * and layer, with why as evidence; the scan goes on. */
struct mm_actx;
int mm_osdb_unreadable(struct mm_actx *cx, const char *path, int layer, const char *why);

/* Finds or creates the db of path in m (values: mm_osdb_db). */
mm_osdb_db *mm_osdb_db_get(mm_map *m, const char *path);
void mm_osdb_db_free(void *db);
/* Records a new version at layer: rc is the parser's result, *parsed its
 * records (moved into db; the caller's list is left empty).  A corrupt
 * version is kept with its message: it only fails the scan if it is the
 * one the container sees. */
void mm_osdb_db_update(mm_osdb_db *db, int layer, int rc,
                       mm_osdb_list *parsed);

/* Completes a record before it is added: may set *files and *nfiles (owned
 * files, when the record has none) and *license (when it has none); what
 * it allocates is freed by the caller. */
typedef void (*mm_osdb_files_fn)(void *ud, const mm_osdb_db *db,
                                 const mm_osdb_pkg *rec, char ***files,
                                 size_t *nfiles, char **license);
/* Adds the records of every visible database in m to the scan's inventory
 * (in path order), with path, layer and layer digest; forwards warnings;
 * fails with the parse error of a visible corrupt database. */
int mm_osdb_emit(mm_map *dbs, mm_actx *cx, mm_osdb_files_fn files, void *ud);

#endif
