/*
 * util/util.h - small helpers every engine uses: growable buffers, string
 * helpers, image-path normalisation, a string-keyed hash map, sha256 and
 * hex.  Nothing here knows about images or packages.
 *
 * Allocation failures abort through mm_xalloc_fail(): a scanner that cannot
 * allocate a few bytes cannot report anything useful either, and every
 * untrusted size is capped before it reaches an allocation.
 */
#ifndef MM_UTIL_H
#define MM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <sys/types.h>

#include "mamori/common.h"

/* --- memory ------------------------------------------------------------ */
void *mm_xmalloc(size_t n);
void *mm_xcalloc(size_t n, size_t sz);
void *mm_xrealloc(void *p, size_t n);
char *mm_xstrdup(const char *s);            /* NULL stays NULL */
char *mm_xstrndup(const char *s, size_t n); /* at most n bytes; NULL stays NULL */
char *mm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *mm_xvasprintf(const char *fmt, va_list ap);

/* --- growable byte buffer (always NUL-terminated) ----------------------- */
/* Every buffer has a cap on its length, in the manner of curl's dynbuf:
 * `max` (set with MM_BUF_INIT_MAX or mm_buf_init), or MM_BUF_DEFAULT_MAX
 * when left 0.  An add or reserve that would pass it adds nothing, sets
 * `over` and returns MM_ELIMIT; what was added before stays. */
typedef struct mm_buf {
    char *data;
    size_t len, cap;
    size_t max;     /* cap on len; 0 = MM_BUF_DEFAULT_MAX */
    bool over;      /* an add was refused */
} mm_buf;
#define MM_BUF_DEFAULT_MAX ((size_t)1 << 30)
#define MM_BUF_INIT {NULL, 0, 0, 0, false}
#define MM_BUF_INIT_MAX(n) {NULL, 0, 0, (n), false}
void mm_buf_init(mm_buf *b, size_t max);
/* Room for extra more bytes (and the NUL); MM_ELIMIT past the cap (then
 * nothing may be written past len). */
int mm_buf_reserve(mm_buf *b, size_t extra);
int mm_buf_add(mm_buf *b, const void *d, size_t n);
int mm_buf_adds(mm_buf *b, const char *s);
int mm_buf_addc(mm_buf *b, char c);
int mm_buf_printf(mm_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), nonnull(1, 2)));
void mm_buf_clear(mm_buf *b);   /* keeps the cap, clears `over` */
char *mm_buf_detach(mm_buf *b); /* returns data (never NULL), resets b (cap kept) */
void mm_buf_free(mm_buf *b);    /* cap kept */

/* --- strings ------------------------------------------------------------ */
bool mm_str_startswith(const char *s, const char *prefix);
bool mm_str_endswith(const char *s, const char *suffix);
/* Trims ASCII white space in place at both ends; returns s. */
char *mm_str_trim(char *s);
/* Writes the n strings of parts one after another into dst (cap bytes,
 * always terminated when cap > 0) and returns the length of the whole, as
 * snprintf does: a result >= cap means it was cut.  NULL parts are empty.
 * For hot paths where snprintf's format parsing shows in profiles. */
size_t mm_str_cat(char *dst, size_t cap, const char *const *parts, size_t n);
/* The decimal digits of v into buf (NUL-terminated); returns their count. */
size_t mm_str_utoa(char buf[24], unsigned long long v);
/* A copy of s safe to print on a terminal: C0 controls, DEL and the UTF-8
 * encoded C1 controls become '?', as ps(1) does, so a process title or a
 * login record cannot break a table row or send escape sequences.  NULL
 * gives NULL; the caller frees the result. */
char *mm_str_printable(const char *s);
/* Appends s to a NULL-free array of strings (v grows). */
void mm_strv_push(char ***v, size_t *n, const char *s);
/* Appends a formatted string unless the list holds max strings already
 * (0 = no cap); true when appended.  For capped warning and note lists. */
bool mm_strv_pushf(char ***v, size_t *n, size_t max, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool mm_strv_vpushf(char ***v, size_t *n, size_t max, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
void mm_strv_free(char **v, size_t n);
/* Line iterator over a buffer that need not be NUL-terminated. */
typedef struct mm_lines {
    const char *p, *end;
    size_t lineno;
} mm_lines;
void mm_lines_init(mm_lines *it, const char *data, size_t len);
/* Next line without its "\n" (and "\r"); false at the end. */
bool mm_lines_next(mm_lines *it, const char **line, size_t *len);

/* --- paths inside an image --------------------------------------------- */
/* Normalises an entry name from an image into "a/b/c" form (no leading
 * "/", no "." or empty parts).  ".." that would climb above the root is
 * dropped and *escaped is set so that the caller can report it.  Returns
 * a new string, or NULL for an empty name (the root itself). */
char *mm_path_normalize(const char *name, bool *escaped);
/* Joins dir and a relative link target and normalises the result. */
char *mm_path_join_norm(const char *dir, const char *rel, bool *escaped);
/* Pointer to the last component of p. */
const char *mm_path_base(const char *p);
/* Length of the directory part of p (0 when p has no "/"). */
size_t mm_path_dirlen(const char *p);

/* --- hash map: string key -> pointer ------------------------------------ */
typedef struct mm_map mm_map;
mm_map *mm_map_new(void);
/* free_val, if not NULL, is called on values when replaced or freed. */
void mm_map_free(mm_map *m, void (*free_val)(void *));
void *mm_map_get(const mm_map *m, const char *key);
void *mm_map_getn(const mm_map *m, const char *key, size_t klen);
/* Inserts or replaces; returns the previous value (NULL when new); the key
 * is copied. */
void *mm_map_put(mm_map *m, const char *key, void *val);
void *mm_map_del(mm_map *m, const char *key);
size_t mm_map_count(const mm_map *m);
/* Iteration in unspecified order; *it starts at 0. */
bool mm_map_next(const mm_map *m, size_t *it, const char **key, void **val);
uint64_t mm_hash(const void *d, size_t n);

/* --- digests ------------------------------------------------------------ */
typedef struct mm_sha256 mm_sha256;
mm_sha256 *mm_sha256_new(void);
void mm_sha256_update(mm_sha256 *h, const void *d, size_t n);
/* Writes "sha256:<64 hex>" into out (72 bytes with NUL); resets nothing. */
void mm_sha256_final(mm_sha256 *h, char out[72]);
void mm_sha256_free(mm_sha256 *h);
void mm_sha256_hex(const void *d, size_t n, char out[72]);
/* Is s of the form "sha256:<64 lowercase hex>"? */
bool mm_digest_valid(const char *s);

/* --- base64 (b64.c) ----------------------------------------------------- */
/* Standard alphabet, padded; malloc'd. */
char *mm_base64_encode(const void *d, size_t n);
/* Lenient: line breaks and blanks skipped, the URL-safe alphabet too, the
 * first '=' ends the data (padding optional).  Without it, strict: the
 * canonical padded text, nothing else. */
#define MM_BASE64_LENIENT 1u
/* The bytes of the n characters at s into *out (malloc'd, a NUL after
 * them) and *outlen; MM_EFORMAT naming the offset of a bad character or
 * the bad length.  Callers cap n. */
int mm_base64_decode(unsigned char **out, size_t *outlen, const char *s, size_t n,
                     unsigned flags);
/* nbytes (at most 64) from the kernel's random source as 2 * nbytes
 * lowercase hex digits and a NUL into out: tokens, session ids, scan ids.
 * 0, or MM_EIO when the kernel gives no randomness (out is then ""). */
int mm_random_hex(char *out, size_t nbytes);

/* --- network addresses (lib/util/cidr.c) --------------------------------- */
/* An address or a CIDR block: "10.0.0.0/8", "fd00::/8", "192.0.2.1" (the
 * whole address: bits 32 or 128).  The prefix length is decimal. */
typedef struct mm_cidr {
    int family;              /* AF_INET, AF_INET6 */
    int bits;
    unsigned char a[16];     /* network order; v4 in the first 4 bytes */
} mm_cidr;
bool mm_cidr_parse(const char *s, mm_cidr *out);   /* false when not one */
/* Whether the first `bits` bits of a and b agree. */
static inline bool mm_prefix_eq(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rem = bits % 8;
    for (int i = 0; i < full; i++)
        if (a[i] != b[i])
            return false;
    if (rem) {
        unsigned char m = (unsigned char)(0xff << (8 - rem));
        if ((a[full] & m) != (b[full] & m))
            return false;
    }
    return true;
}

/* --- files -------------------------------------------------------------- */
/* Reads a whole regular file up to max bytes (MM_ELIMIT beyond);
 * NUL-terminated. */
int mm_file_read(const char *path, uint64_t max, char **data, size_t *len);
/* Opens a regular file for reading when it holds at most max bytes: the
 * descriptor (the caller closes it) and its size.  MM_ENOTFOUND, MM_EIO
 * (not a regular file), MM_ELIMIT. */
int mm_file_open(const char *path, uint64_t max, int *fd, uint64_t *size);
/* Reads size bytes of an open file (from mm_file_open) whole; path names it
 * in messages. */
int mm_file_read_fd(int fd, const char *path, uint64_t size, char **data, size_t *len);
/* `mkdir -p`: every missing folder of dir, with mode; an existing folder is
 * fine, an existing non-folder is MM_EIO. */
int mm_mkdir_p(const char *dir, mode_t mode);
/* The folders above a file path (nothing for a bare name). */
int mm_mkdir_parents(const char *file, mode_t mode);
/* A path in mamori's cache folder: $MAMORI_CACHE_DIR/name, else
 * $XDG_CACHE_HOME/mamori/name, else $HOME/.cache/mamori/name; NULL (with
 * the message set) when none is set. */
char *mm_cache_path(const char *name);
/* A /proc or /sys file (whose stat size is 0): read until EOF, at most
 * about max bytes; NUL-terminated; NULL when it cannot be opened. */
char *mm_file_read_proc(const char *path, size_t max, size_t *len);
/* --- temporary folders and files (lib/util/tmp.c) ----------------------- */
/* Creates a private (0700) temp folder "mamori.XXXXXX" under parent (or
 * $TMPDIR, /tmp), locked for the life of the process and removed on the
 * signals of mm_cleanup_on_signals(); stale ones of dead processes under
 * parent are removed first. */
int mm_tmpdir_create(char **out, const char *parent);
/* Removes a folder tree without following links (and forgets it). */
int mm_tmpdir_remove(const char *path);
/* A private temp file "<prefix>XXXXXX" (created empty, 0600), locked for
 * the life of the process and removed on signals; stale "<prefix>*" files
 * of dead processes are removed first. */
int mm_tmpfile_create(char **out, const char *prefix);
/* Forgets a temp file (it was renamed into place) or, with remove_it,
 * deletes it. */
void mm_tmpfile_release(const char *path, bool remove_it);
/* Removes the entries of dir named prefix* whose lock is free (folders
 * holding a .lock file when dirs, else locked files); returns how many. */
int mm_tmp_clean_stale(const char *dir, const char *prefix, bool dirs);

/* --- time --------------------------------------------------------------- */
double mm_now(void);               /* monotonic seconds */
/* RFC 3339 UTC of an epoch time into out (32 bytes). */
void mm_time_rfc3339(int64_t t, char out[32]);
/* An RFC 3339 time ("2024-01-31T12:00:00Z", fractions, "+02:00" offsets;
 * image configs' `created`) as epoch seconds.  0, or MM_EFORMAT with the
 * text in the message. */
int mm_time_parse_rfc3339(const char *s, int64_t *out);
/* The one parser of written times (lib/util/time.c): RFC 3339 with what
 * the flags allow besides.  *out is epoch seconds, *nsec (when not NULL) the
 * fraction.  MM_EFORMAT with the text in the message. */
enum {
    MM_TIME_DATE = 1,        /* "YYYY-MM-DD" alone: midnight UTC */
    MM_TIME_NOSEC = 2,       /* "THH:MM" without seconds */
    MM_TIME_NOZONE = 4,      /* no Z or offset: UTC */
    MM_TIME_STRICT_DAY = 8,  /* the day must exist in its month (no Feb 30) */
};
int mm_time_parse(const char *s, unsigned flags, int64_t *out, int32_t *nsec);

/* --- YAML (lib/util/yaml.c): the one loader ------------------------------- */
/* A YAML stream into jansson values (Kubernetes' YAML 1.1 scalar rules),
 * with the position of every mapping key and sequence item recorded in a
 * posmap.  Caps: nesting depth, documents, nodes per document with aliases
 * expanded; a duplicate key is an error.  Errors are MM_EFORMAT or
 * MM_ELIMIT with "NAME:LINE:COL: what". */
struct json_t;
typedef enum mm_yaml_scalars {
    MM_YAML_TYPED = 0,  /* YAML 1.1 as Kubernetes reads it (numbers, yes/no...) */
    MM_YAML_STRINGS,    /* plain ~/null/empty -> null, true/false -> booleans,
                         * every other scalar (tagged or quoted too) a string:
                         * "1.10" stays a version */
    MM_YAML_TEXT,       /* every scalar a string as written (null, "" too) */
} mm_yaml_scalars;
typedef struct mm_yaml_limits {
    size_t max_depth;   /* 0 = 64 */
    size_t max_nodes;   /* per document, aliases expanded; 0 = 1,000,000 */
    size_t max_docs;    /* 0 = 100,000 */
    /* options (zero = the default behaviour) */
    size_t max_scalar;  /* bytes in one scalar (keys too); 0 = no cap */
    mm_yaml_scalars scalars;
    bool first_doc_only;  /* stop after the first document: the rest is not read */
    bool no_aliases;      /* an alias (*name) is an error */
    bool dup_last_wins;   /* a duplicate key replaces the earlier value */
    bool dup_first_wins;  /* a duplicate key is ignored: the first value stays */
    bool pos_values;      /* the posmap also keeps each value's own position,
                           * read with mm_yaml_pos_of() */
    bool pos_no_keys;     /* with pos_values: not the positions by parent and
                           * key (mm_yaml_pos_get() then finds nothing) */
    bool pos_nulls_only;  /* with pos_values: only plain ""/~/null scalars are
                           * kept (mm_yaml_plain_of() answers the same, the
                           * other values have no position): for a first
                           * pass that reruns with positions on an error */
    const char *errtag;   /* the loader's own errors read "NAME:L:C: TAG: ..." */
} mm_yaml_limits;
void mm_yaml_limits_init(mm_yaml_limits *l);
typedef struct mm_yaml_posmap mm_yaml_posmap;
mm_yaml_posmap *mm_yaml_posmap_new(void);
void mm_yaml_posmap_free(mm_yaml_posmap *pm);
/* Line and column (1-based) of member `key` of the object parent, or (key
 * NULL) of item idx of the array parent, or (parent NULL) of the root of
 * the last document read.  False when not recorded. */
bool mm_yaml_pos_get(const mm_yaml_posmap *pm, const struct json_t *parent,
                     const char *key, size_t idx, int *line, int *col);
/* Whether that value was written as a plain (unquoted, untagged) scalar:
 * with MM_YAML_TEXT a loader can still refuse a quoted "true" or "30". */
bool mm_yaml_pos_plain(const mm_yaml_posmap *pm, const struct json_t *parent,
                       const char *key, size_t idx);
/* With pos_values: where the value v itself starts (a block scalar at its
 * indicator, a mapping at its first key; an alias at its anchor's node) and
 * whether it was a plain, untagged scalar.  Every scalar is its own json_t
 * with MM_YAML_TEXT only (elsewhere null and booleans are shared). */
bool mm_yaml_pos_of(const mm_yaml_posmap *pm, const struct json_t *v, int *line, int *col);
bool mm_yaml_plain_of(const mm_yaml_posmap *pm, const struct json_t *v);
/* With dup_first_wins and a posmap: the first key of the mapping map that
 * was repeated (its later values were dropped) and where that repetition
 * is.  For loaders that refuse duplicates with their own message. */
bool mm_yaml_dup_of(const mm_yaml_posmap *pm, const struct json_t *map, const char **key,
                    int *line, int *col);
/* Sets the error "NAME:LINE:COL: message" at the position that
 * mm_yaml_pos_get(pm, parent, key, idx) gives ("NAME: message" when there
 * is none) and returns code.  For the loaders' own checks of values. */
int mm_yaml_errf(const mm_yaml_posmap *pm, const char *name, const struct json_t *parent,
                 const char *key, size_t idx, int code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Called per document with a new reference (the callee owns it; an empty
 * document is JSON null) and the document's first line.  A negative return
 * stops the parse and is returned. */
typedef int (*mm_yaml_doc_fn)(void *ud, struct json_t *doc, int line);
/* Typed reads (lib/util/yaml_get.c) of a value named by parent and key
 * (objects) or idx (arrays), for loaders with MM_YAML_TEXT: errors are
 * "NAME:LINE:COL: what: ..." at the value's key or item. */
struct json_t *mm_yaml_child(const struct json_t *parent, const char *key, size_t idx);
/* A value named that way, for loaders that pass values around (vref). */
typedef struct mm_yaml_ref {
    const struct json_t *parent;
    const char *key;
    size_t idx;
} mm_yaml_ref;
struct json_t *mm_yaml_ref_get(mm_yaml_ref r);
/* mm_yaml_errf at the position of r. */
int mm_yaml_ref_errf(const mm_yaml_posmap *pm, const char *name, int code, mm_yaml_ref r,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A string (NUL bytes refused; maxlen 0 = no cap) as a new string. */
int mm_yaml_get_str(const mm_yaml_posmap *pm, const char *name, const struct json_t *parent,
                    const char *key, size_t idx, const char *what, size_t maxlen,
                    char **out);
#define MM_YAML_NONEMPTY 1u   /* an empty string in a list is an error */
/* A list of strings appended to *v (a single string is a list of one);
 * at most max entries in *v. */
int mm_yaml_get_strlist(const mm_yaml_posmap *pm, const char *name,
                        const struct json_t *parent, const char *key, size_t idx,
                        const char *what, size_t max, size_t maxlen, unsigned flags,
                        char ***v, size_t *nv);
/* lim and pm may be NULL (defaults; no positions). */
int mm_yaml_parse(const char *data, size_t len, const char *name,
                  const mm_yaml_limits *lim, mm_yaml_posmap *pm,
                  mm_yaml_doc_fn fn, void *ud);
/* A file that must hold one document (or none: *out is JSON null). */
int mm_yaml_load_one(struct json_t **out, const char *data, size_t len,
                     const char *name, const mm_yaml_limits *lim,
                     mm_yaml_posmap *pm);

/* --- helper programs (lib/util/proc.c) ------------------------------------- */
/* Runs argv[0] (PATH lookup, no shell) with only stdin/stdout/stderr open,
 * default signals, its own process group (killed on timeout), input on
 * stdin, stdout capped and wiped on free.  Returns 0 when it could be
 * started or spawn_errno says why not; MM_EIO on pipe failures. */
typedef struct mm_proc_opts {
    const char *const *argv;
    const char *const *env_add;   /* "NAME=value" set for the child; NULL */
    const char *input;
    size_t input_len;
    long timeout_ms;              /* 0 = 30 s */
    size_t max_out;               /* 0 = 1 MiB; more sets `over` */
    size_t max_err;               /* stderr kept; 0 = 4 KiB */
} mm_proc_opts;
typedef struct mm_proc_result {
    char *out, *err;              /* NUL-terminated */
    size_t out_len, err_len;
    int status;                   /* waitpid status; -1 when lost */
    bool timed_out, over;
    int spawn_errno;              /* not started: ENOENT when not on PATH */
} mm_proc_result;
int mm_proc_run(mm_proc_result *res, const mm_proc_opts *o);
void mm_proc_result_free(mm_proc_result *r);

#endif
