/*
 * pkg/lang.h - the pure parsers behind the language-package analyzers
 * (Python dist-info/egg-info, npm package.json, Go build info, Java
 * archives).  Nothing here knows about images: a parser takes bytes and
 * returns packages, so that unit tests and libFuzzer targets call them
 * directly and the analyzers (python.c, npm.c, gobin.c, java.c) only add
 * layer bookkeeping on top.
 *
 * Policy shared by all four: language files are not package-manager
 * databases.  A broken METADATA, package.json, binary or jar in an image is
 * common (test fixtures, half-written caches) and must not end the scan:
 * the analyzers turn parser errors into scan warnings and go on.
 *
 * Packages returned here own malloc'd strings (free with mm_lang_pkg_clear
 * or mm_lang_result_free); mm_inventory_add copies them.
 */
#ifndef MM_PKG_LANG_H
#define MM_PKG_LANG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "mamori/pkg.h"

/* Caps on hostile input (documented in docs/limits.md by the lead). */
#define MM_LANG_MAX_PKGS        100000u   /* packages from one file */
#define MM_LANG_MAX_FILES       1000000u  /* RECORD lines kept */
#define MM_GOBIN_MAX_MODINFO    (4u << 20) /* bytes of Go module info */
#define MM_GOBIN_MAX_VERSION    256u      /* bytes of the Go version */
#define MM_JAVA_MAX_DEPTH       4         /* nested archives below the top */
#define MM_JAVA_MAX_NESTED      (64u << 20) /* bytes of one nested archive */
#define MM_JAVA_MAX_BUDGET      (512ull << 20) /* bytes decompressed per
                                                * top-level archive */
#define MM_JAVA_MAX_ENTRIES     200000u   /* zip entries per top-level */
#define MM_JAVA_MAX_META        (1u << 20) /* pom.properties, MANIFEST.MF */

/* --- shared result list (python.c holds the implementation) ------------ */
typedef struct mm_lang_result {
    mm_package *pkgs;
    size_t npkgs, cap;
    char **warnings;  /* non-fatal problems (nested jar unreadable...) */
    size_t nwarnings;
} mm_lang_result;

/* Frees every string of p and zeroes it (p itself is not freed). */
void mm_lang_pkg_clear(mm_package *p);
/* Moves *p into r (p is zeroed); MM_ELIMIT past MM_LANG_MAX_PKGS (and p
 * is cleared). */
int mm_lang_result_push(mm_lang_result *r, mm_package *p);
void mm_lang_result_warn(mm_lang_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Frees the contents of r and zeroes it. */
void mm_lang_result_free(mm_lang_result *r);

/* --- analyzer glue (python.c) ---------------------------------------- */
struct mm_actx;
struct mm_tree;
/* Is the version of relpath that `layer` wrote still what the merged tree
 * shows (not deleted, not overwritten by a later layer)? */
bool mm_lang_visible(const struct mm_tree *t, const char *relpath, int layer);
/* Adds p to the scan's inventory with path "/relpath" (unless p->path is
 * already set), layer and layer digest.  Returns 0 or MM_E*. */
int mm_lang_emit(struct mm_actx *cx, mm_package *p, const char *relpath,
                 int layer);
/* What every language analyzer keeps between layers: per image path, the
 * packages of the latest version of the file and the layer that wrote it.
 * finish() emits only files the merged tree still shows from that layer. */
typedef struct mm_lang_store mm_lang_store;
mm_lang_store *mm_lang_store_new(void);
void mm_lang_store_free(mm_lang_store *s);
/* Records the packages of relpath as written by layer, taking over *res
 * (which is zeroed); res NULL forgets what an older layer's version said. */
void mm_lang_store_put(mm_lang_store *s, const char *relpath, int layer,
                       mm_lang_result *res);
/* Records what a parser of relpath gave: its return rc and its result
 * *res.  A failure (rc < 0) is the warning "WHAT: message (skipped)" and
 * forgets the path; else as mm_lang_store_put.  *res is freed or taken. */
void mm_lang_store_parsed(mm_lang_store *s, struct mm_actx *cx, const char *what,
                          const char *relpath, int layer, int rc, mm_lang_result *res);
/* Adds every visible file's packages to the inventory (path "/relpath"). */
int mm_lang_store_emit(mm_lang_store *s, struct mm_actx *cx);

/* --- Python ----------------------------------------------------------- */
enum mm_python_kind {
    MM_PY_NONE = 0,
    MM_PY_METADATA, /* x.dist-info/METADATA, x.egg-info/PKG-INFO,
                     * EGG-INFO/PKG-INFO, or an x.egg-info file */
    MM_PY_RECORD,   /* x.dist-info/RECORD */
};
/* Which Python metadata file a normalised image path ("usr/lib/...") is.
 * An ".egg-info" name is MM_PY_METADATA only if the caller knows it is a
 * regular file (is_file). */
enum mm_python_kind mm_python_path_kind(const char *path, bool is_file);

/* Parses METADATA / PKG-INFO (RFC 822 style headers up to the first blank
 * line): Name, Version, License-Expression, License, classifiers.
 * out gets type, name, version, license.  Returns 0, or MM_EFORMAT naming
 * `where` when Name or Version is missing. */
int mm_python_parse_metadata(mm_package *out, const char *data, size_t len,
                             const char *where);

/* Parses a RECORD file (CSV: path,hash,size; paths relative to sitedir,
 * the image-absolute site-packages folder, e.g. "/usr/lib/python3/x").
 * Appends image-absolute normalised paths to *files; entries that climb
 * out of the root are dropped.  Returns 0 (RECORD is advisory: bad lines
 * are skipped). */
int mm_python_parse_record(char ***files, size_t *nfiles, const char *data,
                           size_t len, const char *sitedir);

/* --- npm -------------------------------------------------------------- */
/* Is path a package.json at the root of an installed package:
 * ".../node_modules/NAME/package.json" or
 * ".../node_modules/@SCOPE/NAME/package.json"? */
bool mm_npm_is_package_path(const char *path);

/* Parses a package.json: name, version, license ("MIT", {"type": "MIT"},
 * or the legacy "licenses": [{"type": ...}] joined with " OR ").
 * Returns 0 with *out filled, 1 when the document has no string name or
 * version (not an installed package: skipped silently), MM_EFORMAT naming
 * `where` when it is not a JSON object. */
int mm_npm_parse_package_json(mm_package *out, const char *data, size_t len,
                              const char *where);

/* --- Go binaries ------------------------------------------------------- */
typedef enum mm_gobin_status {
    MM_GOBIN_MORE = 0,   /* give me more bytes */
    MM_GOBIN_NOT_ELF,    /* not an ELF file */
    MM_GOBIN_NOT_GO,     /* ELF without Go build info */
    MM_GOBIN_FOUND,      /* build info read */
    MM_GOBIN_OLD,        /* pre-1.18 pointer-form build info (not read) */
    MM_GOBIN_BAD,        /* build info header found but truncated/oversized */
} mm_gobin_status;

typedef struct mm_gobin mm_gobin;

mm_gobin *mm_gobin_new(void);
void mm_gobin_free(mm_gobin *g);
/* Feeds the next bytes of the file; chunks must be contiguous and in order
 * (off is the offset of d).  Returns the status so far: MM_GOBIN_MORE
 * while undecided, anything else once the scanner needs no more bytes. */
mm_gobin_status mm_gobin_feed(mm_gobin *g, uint64_t off, const uint8_t *d,
                              size_t n);
/* At the end of the file: turns a pending MM_GOBIN_MORE into NOT_ELF,
 * NOT_GO or BAD, and returns the final status. */
mm_gobin_status mm_gobin_finish(mm_gobin *g);
/* After MM_GOBIN_FOUND: the runtime version ("go1.21.5") and the module
 * info text with its sentinels stripped (may be empty); owned by g. */
const char *mm_gobin_goversion(const mm_gobin *g);
const char *mm_gobin_modinfo(const mm_gobin *g, size_t *len);

/* "go1.21.5" -> "v1.21.5", "go1.21" -> "v1.21.0", "go1.21rc2" ->
 * "v1.21.0-rc.2", "go1.22.1 X:boringcrypto" -> "v1.22.1"; NULL for
 * anything else ("devel ..."). Caller frees. */
char *mm_go_stdlib_version(const char *goversion);

/* The packages of a Go binary: the main module ("mod" line; version as
 * written, "(devel)" for a build from a source tree), every "dep" (a "=>"
 * replacement by another module reports that module and version; a
 * replacement by a local directory keeps the original module path with the
 * replacement's version, "(devel)"), and "stdlib" at the runtime version.
 * Deps are marked indirect.  Returns 0 (unknown lines are ignored). */
int mm_gobin_packages(mm_lang_result *out, const char *goversion,
                      const char *modinfo, size_t len);

/* Convenience for tests and fuzzing: scans a whole file image. Returns the
 * status; on MM_GOBIN_FOUND fills out. */
mm_gobin_status mm_gobin_parse_buffer(mm_lang_result *out, const uint8_t *d,
                                      size_t n);

/* --- Java archives ------------------------------------------------------ */
/* Is path a Java archive by name (.jar .war .ear .jpi .hpi, any case)? */
bool mm_java_is_archive_path(const char *path);

/* Name and version from an archive file name "commons-lang3-3.12.0.jar"
 * -> "commons-lang3", "3.12.0" (split at the first "-" followed by a
 * digit).  Returns false when the name carries no version. */
bool mm_java_split_filename(const char *base, char **artifact,
                            char **version);

/* Reads a Java archive from memory: every META-INF/maven/.../pom.properties
 * (name "groupId:artifactId"), else MANIFEST.MF, else the file name; then
 * nested archives (WEB-INF/lib, BOOT-INF/lib, lib/...) up to
 * MM_JAVA_MAX_DEPTH deep, marked indirect, with path "outer!/inner.jar".
 * path is the image-absolute path of the archive (package path and
 * messages).  Returns 0, or MM_EFORMAT when the archive itself cannot be
 * read (nested failures become warnings in out). purl is filled
 * (pkg:maven/group/artifact@version). */
int mm_java_parse_archive(mm_lang_result *out, const uint8_t *d, size_t n,
                          const char *path);

/* pom.properties / MANIFEST.MF helpers, exposed for the tests. */
char *mm_java_purl(const char *group, const char *artifact,
                   const char *version);

#endif
