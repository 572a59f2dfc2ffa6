/*
 * pkg/lang2.h - the pure parsers behind the second wave of language-package
 * analyzers: Ruby gem specifications (ruby.c), Rust Cargo.lock files and
 * cargo-auditable binaries (cargo.c), PHP Composer's installed.json
 * (composer.c).  As in lang.h, nothing here knows about images: parsers take
 * bytes and fill an mm_lang_result, so unit tests and libFuzzer targets call
 * them directly; the analyzers add layer bookkeeping.
 *
 * Same policy as lang.h: these files are not package-manager databases, so
 * a broken one is a scan warning, never the end of the scan.  Packages
 * leave purl NULL: lib/pkg/purl.c writes pkg:gem, pkg:cargo and
 * pkg:composer purls when the scan completes.
 */
#ifndef MM_PKG_LANG2_H
#define MM_PKG_LANG2_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "pkg/lang.h"

/* Caps on hostile input (in addition to MM_LANG_MAX_PKGS). */
#define MM_LANG2_MAX_FIELD      4096u      /* bytes of one name/version/... */
#define MM_LANG2_MAX_DEPTH      64         /* nested TOML arrays */
#define MM_CARGOBIN_MAX_SHDRS   (1u << 20) /* bytes of ELF section headers */
#define MM_CARGOBIN_TAIL        (16u << 20)/* bytes kept before the section
                                            * table, where .dep-v0 lives */
#define MM_CARGOBIN_MAX_JSON    (8u << 20) /* inflated .dep-v0 bytes */

/* --- analyzer glue (composer.c); the store is mm_lang_store (lang.h) --- */
/* A copy of s cut at MM_LANG2_MAX_FIELD bytes (NULL stays NULL). */
char *mm_lang2_strdup(const char *s);

/* --- Ruby ---------------------------------------------------------------- */
/* Is path ".../specifications/NAME.gemspec" (also specifications/default/,
 * where Ruby keeps its bundled default gems)? */
bool mm_gem_is_spec_path(const char *path);

/* Parses a gem specification as RubyGems writes it into specifications/
 * (Ruby source, read without evaluating it): `s.name = "rack".freeze`,
 * `s.version = "3.0.8"`, `s.licenses = ["MIT".freeze]`, `s.license = ...`,
 * the older `%q{...}` literals and `Gem::Version.new("1.0")`; the
 * "# stub: NAME VERSION ..." comment line is the fallback for name and
 * version.  out gets type, name, version, license (several joined with
 * " OR ": a gem's licenses are alternatives).  Returns 0, or MM_EFORMAT
 * naming `where` when name or version is missing. */
int mm_gem_parse_gemspec(mm_package *out, const char *data, size_t len,
                         const char *where);

/* --- Rust ---------------------------------------------------------------- */
/* Parses a Cargo.lock (any lockfile version): every [[package]] with a
 * name and version whose source is a registry ("registry+...",
 * "sparse+...", marked indirect) or absent (a workspace member or local
 * path crate, marked direct).  Git sources are left out.  Returns 0, or
 * MM_EFORMAT naming `where` and the line on a syntax error outside what
 * the lock format uses. */
int mm_cargo_parse_lock(mm_lang_result *out, const char *data, size_t len,
                        const char *where);

/* Parses the JSON of a cargo-auditable ".dep-v0" section (already
 * inflated): {"packages": [{"name", "version", "source", "kind", "root"}]}.
 * Build-only dependencies (kind "build") are not in the binary and are
 * left out; source "local" packages other than the root are kept; the
 * root package is direct, the rest indirect.  Returns 0 or MM_EFORMAT. */
int mm_cargo_parse_audit_json(mm_lang_result *out, const char *data,
                              size_t len, const char *where);

/* Inflates a zlib stream (at most MM_CARGOBIN_MAX_JSON bytes out) and
 * parses it as above.  Returns 0, MM_EFORMAT or MM_ELIMIT. */
int mm_cargo_parse_dep_v0(mm_lang_result *out, const uint8_t *z, size_t n,
                          const char *where);

/* Incremental ELF reader that finds the ".dep-v0" section of a streamed
 * file: the ELF header gives the section table's place (normally the end
 * of the file); the reader keeps only the bytes from MM_CARGOBIN_TAIL
 * before that table to its end, then looks the section up by name. */
typedef enum mm_cargobin_status {
    MM_CARGOBIN_MORE = 0,  /* give me more bytes */
    MM_CARGOBIN_NOT_ELF,
    MM_CARGOBIN_NONE,      /* ELF without a .dep-v0 section */
    MM_CARGOBIN_FOUND,     /* section bytes available */
    MM_CARGOBIN_BAD,       /* section table or section out of reach/corrupt */
} mm_cargobin_status;

typedef struct mm_cargobin mm_cargobin;

/* size is the file size (from the tar header / stat). */
mm_cargobin *mm_cargobin_new(uint64_t size);
void mm_cargobin_free(mm_cargobin *c);
/* Contiguous chunks in order; returns MM_CARGOBIN_MORE while it needs
 * more bytes, anything else once decided. */
mm_cargobin_status mm_cargobin_feed(mm_cargobin *c, uint64_t off,
                                    const uint8_t *d, size_t n);
/* At the end of the file: the final status. */
mm_cargobin_status mm_cargobin_finish(mm_cargobin *c);
/* After MM_CARGOBIN_FOUND: the raw (compressed) section bytes; owned by c. */
const uint8_t *mm_cargobin_section(const mm_cargobin *c, size_t *len);

/* Convenience for tests and fuzzing: a whole file in memory.  Returns the
 * status; on FOUND, packages are parsed into out (a parse failure turns
 * the status into MM_CARGOBIN_BAD with the error set). */
mm_cargobin_status mm_cargobin_parse_buffer(mm_lang_result *out,
                                            const uint8_t *d, size_t n,
                                            const char *where);

/* --- PHP ----------------------------------------------------------------- */
/* Parses Composer's vendor/composer/installed.json (Composer 1: a JSON
 * array of packages; Composer 2: {"packages": [...]}) or a composer.lock
 * ({"packages": [...], "packages-dev": [...]}, the latter marked
 * indirect): name "vendor/project", version as written, licence array
 * joined with " OR ".  Entries without a string name and version are
 * skipped.  Returns 0, or MM_EFORMAT naming `where`. */
int mm_composer_parse_installed(mm_lang_result *out, const char *data,
                                size_t len, const char *where);

#endif
